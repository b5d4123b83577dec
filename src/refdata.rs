//! Reference data compiled into the binary: GB/T 2260 area codes of every year since 1981
//! and the 2022 occupation classification (sources and licences in data/README.md).
//!
//! The tables are parsed once per process (`RefData::embedded`, cached in a `OnceLock`); the
//! area-code test used on every ID number is a bitmap lookup.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::text::fold_width;

const AREA_CSV: &str = include_str!("../data/areacodes.csv");
const OCCUPATION_CSV: &str = include_str!("../data/occupations-2022.csv");
const AREA_FILE: &str = "data/areacodes.csv";
const OCCUPATION_FILE: &str = "data/occupations-2022.csv";

/// Six-digit codes fit below this bound.
const AREA_CODE_SPACE: usize = 1_000_000;

/// A reference table that cannot be read: file, line and reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct RefDataError {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

/// Administrative level of a division (级别).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AreaLevel {
    /// 省级
    Province,
    /// 地级
    Prefecture,
    /// 县级
    County,
}

impl AreaLevel {
    pub fn zh(self) -> &'static str {
        match self {
            AreaLevel::Province => "省级",
            AreaLevel::Prefecture => "地级",
            AreaLevel::County => "县级",
        }
    }

    fn parse(s: &str) -> Option<AreaLevel> {
        match s {
            "省级" => Some(AreaLevel::Province),
            "地级" => Some(AreaLevel::Prefecture),
            "县级" => Some(AreaLevel::County),
            _ => None,
        }
    }
}

/// Status of a code row (状态).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AreaStatus {
    /// 在用: in use today.
    InUse,
    /// 变更: the division was renamed or re-coded; the code may live on in another row.
    Changed,
    /// 弃用: the code was retired.
    Retired,
}

impl AreaStatus {
    pub fn zh(self) -> &'static str {
        match self {
            AreaStatus::InUse => "在用",
            AreaStatus::Changed => "变更",
            AreaStatus::Retired => "弃用",
        }
    }

    fn parse(s: &str) -> Option<AreaStatus> {
        match s {
            "在用" => Some(AreaStatus::InUse),
            "变更" => Some(AreaStatus::Changed),
            "弃用" => Some(AreaStatus::Retired),
            _ => None,
        }
    }
}

/// A code that took over (part of) a division, and from which year if the table says so
/// (`371302[2003]`: part went to 371302 in 2003).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Successor {
    pub code: String,
    pub year: Option<u16>,
}

/// One row of the GB/T 2260 history table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaInfo {
    pub code: String,
    pub name: String,
    /// 一级行政区
    pub province: String,
    /// 二级行政区 (empty for province-level rows; "直辖" under municipalities)
    pub prefecture: String,
    pub level: AreaLevel,
    pub status: AreaStatus,
    /// Year the code came into use (启用时间).
    pub since: u16,
    /// Year it was changed or retired (变更/弃用时间), if it was.
    pub until: Option<u16>,
    pub successors: Vec<Successor>,
}

impl AreaInfo {
    /// Full name such as 山东省临沂市兰山区 (province, prefecture, county without repeats).
    pub fn full_name(&self) -> String {
        let mut full = self.province.clone();
        if !self.prefecture.is_empty() && self.prefecture != "直辖" && self.prefecture != full {
            full.push_str(&self.prefecture);
        }
        if !full.ends_with(&self.name) {
            full.push_str(&self.name);
        }
        full
    }
}

/// Loaded reference tables.
#[derive(Debug)]
pub struct RefData {
    /// Every area row in file order.
    areas: Vec<AreaInfo>,
    /// Code → indices into `areas`, preferred row first (in use, then latest `since`).
    area_rows: HashMap<u32, Vec<usize>>,
    /// One bit per six-digit code: set if any row of any year has it.
    area_bits: Vec<u64>,
    occupations: Vec<(String, String)>,
    occupation_index: HashMap<String, usize>,
}

impl RefData {
    /// The tables compiled into the binary, parsed on first use.
    pub fn embedded() -> &'static RefData {
        static EMBEDDED: OnceLock<RefData> = OnceLock::new();
        EMBEDDED.get_or_init(|| {
            // The embedded files are checked by the tests; failing here is a build defect.
            RefData::from_csv(AREA_CSV, OCCUPATION_CSV)
                .unwrap_or_else(|e| panic!("embedded reference data is broken: {e}"))
        })
    }

    /// Parses the two tables from CSV text (formats as in data/README.md).
    pub fn from_csv(area_csv: &str, occupation_csv: &str) -> Result<RefData, RefDataError> {
        let areas = parse_areas(area_csv)?;
        let mut area_bits = vec![0u64; AREA_CODE_SPACE / 64 + 1];
        let mut area_rows: HashMap<u32, Vec<usize>> = HashMap::with_capacity(areas.len());
        for (i, a) in areas.iter().enumerate() {
            let code: u32 = a.code.parse().unwrap_or_default();
            area_bits[code as usize / 64] |= 1u64 << (code % 64);
            area_rows.entry(code).or_default().push(i);
        }
        for rows in area_rows.values_mut() {
            // Preferred row first: in use, then the most recent; file order breaks ties.
            rows.sort_by_key(|&i| {
                let a = &areas[i];
                (a.status != AreaStatus::InUse, std::cmp::Reverse(a.since), i)
            });
        }
        let occupations = parse_occupations(occupation_csv)?;
        let mut occupation_index = HashMap::with_capacity(occupations.len());
        for (i, (code, _)) in occupations.iter().enumerate() {
            occupation_index.entry(code.clone()).or_insert(i);
        }
        Ok(RefData {
            areas,
            area_rows,
            area_bits,
            occupations,
            occupation_index,
        })
    }

    /// Whether a six-digit code was ever used (1981–2025), in use or retired.
    pub fn area_known(&self, code6: &str) -> bool {
        match parse_code6(code6) {
            Some(code) => self.area_known_code(code),
            None => false,
        }
    }

    /// `area_known` for a code already read as a number (0..=999999).
    #[inline]
    pub fn area_known_code(&self, code: u32) -> bool {
        let code = code as usize;
        code < AREA_CODE_SPACE && self.area_bits[code / 64] & (1u64 << (code % 64)) != 0
    }

    /// The preferred row of a code: the one in use if any, else the most recent.
    pub fn area(&self, code6: &str) -> Option<&AreaInfo> {
        let rows = self.area_rows.get(&parse_code6(code6)?)?;
        rows.first().map(|&i| &self.areas[i])
    }

    /// Every row of a code (codes are sometimes reused), preferred first.
    pub fn area_history(&self, code6: &str) -> Vec<&AreaInfo> {
        parse_code6(code6)
            .and_then(|c| self.area_rows.get(&c))
            .map(|rows| rows.iter().map(|&i| &self.areas[i]).collect())
            .unwrap_or_default()
    }

    pub fn area_name(&self, code6: &str) -> Option<&str> {
        self.area(code6).map(|a| a.name.as_str())
    }

    /// Every area row in file order.
    pub fn areas(&self) -> &[AreaInfo] {
        &self.areas
    }

    /// Occupation name by code (`4-10-01-06` → 家政服务员); full-width input is folded.
    pub fn occupation_name(&self, code: &str) -> Option<&str> {
        let i = match self.occupation_index.get(code) {
            Some(&i) => i,
            None => *self.occupation_index.get(fold_width(code).as_str())?,
        };
        Some(self.occupations[i].1.as_str())
    }

    /// (code, name) in file order.
    pub fn occupations(&self) -> &[(String, String)] {
        &self.occupations
    }

    /// County-level divisions in use under a prefecture-level code (same first four digits),
    /// as (code, name) in code order.
    pub fn counties_of(&self, prefecture_code6: &str) -> Vec<(&str, &str)> {
        let Some(prefix) = prefecture_code6.get(..4) else {
            return Vec::new();
        };
        let mut counties: Vec<(&str, &str)> = self
            .areas
            .iter()
            .filter(|a| {
                a.level == AreaLevel::County
                    && a.status == AreaStatus::InUse
                    && a.code.starts_with(prefix)
            })
            .map(|a| (a.code.as_str(), a.name.as_str()))
            .collect();
        counties.sort_unstable();
        counties.dedup();
        counties
    }

    /// The 12 districts and counties of Linyi (临沂市, 371300) named by the notice, with
    /// their current names from the area table.
    pub fn linyi_counties(&self) -> Vec<(&str, &str)> {
        self.counties_of("371300")
    }
}

/// Six ASCII digits → number.
fn parse_code6(code6: &str) -> Option<u32> {
    let b = code6.as_bytes();
    if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |acc, &d| acc * 10 + (d - b'0') as u32))
}

fn reader(text: &str) -> csv::Reader<&[u8]> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes())
}

fn record_error(file: &str, line: u64, reason: impl Into<String>) -> RefDataError {
    RefDataError {
        file: file.to_string(),
        line,
        reason: reason.into(),
    }
}

fn csv_error(file: &str, e: &csv::Error) -> RefDataError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    record_error(file, line, e.to_string())
}

const AREA_HEADER: [&str; 9] = [
    "代码",
    "一级行政区",
    "二级行政区",
    "名称",
    "级别",
    "状态",
    "启用时间",
    "变更/弃用时间",
    "新代码",
];

fn parse_areas(text: &str) -> Result<Vec<AreaInfo>, RefDataError> {
    let f = AREA_FILE;
    let mut rdr = reader(text);
    let header = rdr.headers().map_err(|e| csv_error(f, &e))?.clone();
    if header.iter().collect::<Vec<_>>() != AREA_HEADER {
        return Err(record_error(
            f,
            1,
            format!("unexpected header, expected {}", AREA_HEADER.join(",")),
        ));
    }
    let mut areas = Vec::with_capacity(7000);
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(f, &e))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let err = |reason: String| record_error(f, line, reason);
        let code = &rec[0];
        if parse_code6(code).is_none() {
            return Err(err(format!("code {code:?} is not six digits")));
        }
        let level =
            AreaLevel::parse(&rec[4]).ok_or_else(|| err(format!("unknown level {:?}", &rec[4])))?;
        let status = AreaStatus::parse(&rec[5])
            .ok_or_else(|| err(format!("unknown status {:?}", &rec[5])))?;
        let since: u16 = rec[6]
            .parse()
            .map_err(|_| err(format!("start year {:?} is not a year", &rec[6])))?;
        let until = match &rec[7] {
            "" => None,
            y => Some(
                y.parse::<u16>()
                    .map_err(|_| err(format!("end year {y:?} is not a year")))?,
            ),
        };
        let successors = parse_successors(&rec[8]).map_err(err)?;
        areas.push(AreaInfo {
            code: code.to_string(),
            province: rec[1].to_string(),
            prefecture: rec[2].to_string(),
            name: rec[3].to_string(),
            level,
            status,
            since,
            until,
            successors,
        });
    }
    Ok(areas)
}

/// `371302;371311` or `371302[2003]` or empty.
fn parse_successors(field: &str) -> Result<Vec<Successor>, String> {
    let mut out = Vec::new();
    for part in field.split(';').filter(|p| !p.is_empty()) {
        let (code, year) = match part.split_once('[') {
            Some((code, rest)) => {
                let year = rest
                    .strip_suffix(']')
                    .and_then(|y| y.parse::<u16>().ok())
                    .ok_or_else(|| format!("successor {part:?} has a malformed year"))?;
                (code, Some(year))
            }
            None => (part, None),
        };
        if parse_code6(code).is_none() {
            return Err(format!("successor code {code:?} is not six digits"));
        }
        out.push(Successor {
            code: code.to_string(),
            year,
        });
    }
    Ok(out)
}

fn parse_occupations(text: &str) -> Result<Vec<(String, String)>, RefDataError> {
    let f = OCCUPATION_FILE;
    let mut rdr = reader(text);
    let header = rdr.headers().map_err(|e| csv_error(f, &e))?.clone();
    if header.iter().collect::<Vec<_>>() != ["code", "name"] {
        return Err(record_error(f, 1, "unexpected header, expected code,name"));
    }
    let mut out = Vec::with_capacity(1700);
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(f, &e))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let (code, name) = (rec[0].trim(), rec[1].trim());
        if code.is_empty() || name.is_empty() {
            return Err(record_error(f, line, "empty occupation code or name"));
        }
        out.push((code.to_string(), name.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_is_cached() {
        let a = RefData::embedded() as *const RefData;
        let b = RefData::embedded() as *const RefData;
        assert_eq!(a, b);
        assert_eq!(RefData::embedded().areas().len(), 6823);
    }

    #[test]
    fn area_codes_of_every_year() {
        let r = RefData::embedded();
        assert!(r.area_known("110101"));
        assert!(r.area_known("372801"));
        assert!(r.area_known("371324"));
        assert!(!r.area_known("999999"));
        assert!(!r.area_known("000000"));
        assert!(!r.area_known("37130"));
        assert!(!r.area_known("37130a"));
        assert!(!r.area_known("3713021"));
        let former = r.area("372801").unwrap();
        assert_eq!(former.name, "临沂市");
        assert_eq!(former.prefecture, "临沂地区");
        assert_eq!(former.status, AreaStatus::Retired);
        assert_eq!((former.since, former.until), (1983, Some(1994)));
        let succ: Vec<&str> = former.successors.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(succ, ["371302", "371311", "371312"]);
        assert_eq!(r.area_name("371302"), Some("兰山区"));
        assert_eq!(r.area("371302").unwrap().full_name(), "山东省临沂市兰山区");
        assert_eq!(r.area("110000").unwrap().full_name(), "北京市");
        assert_eq!(r.area_name("999999"), None);
    }

    #[test]
    fn reused_code_prefers_the_row_in_use() {
        let r = RefData::embedded();
        // 371324: 苍山县 (1994–2014) renamed 兰陵县 under the same code.
        assert_eq!(r.area_name("371324"), Some("兰陵县"));
        let names: Vec<&str> = r
            .area_history("371324")
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(names, ["兰陵县", "苍山县"]);
        let fei = r.area("371325").unwrap();
        assert_eq!(
            fei.successors,
            [Successor {
                code: "371302".into(),
                year: Some(2003)
            }]
        );
    }

    #[test]
    fn linyi_has_the_twelve_counties_of_the_notice() {
        let r = RefData::embedded();
        let expected = [
            ("371302", "兰山区"),
            ("371311", "罗庄区"),
            ("371312", "河东区"),
            ("371321", "沂南县"),
            ("371322", "郯城县"),
            ("371323", "沂水县"),
            ("371324", "兰陵县"),
            ("371325", "费县"),
            ("371326", "平邑县"),
            ("371327", "莒南县"),
            ("371328", "蒙阴县"),
            ("371329", "临沭县"),
        ];
        assert_eq!(r.linyi_counties(), expected);
    }

    #[test]
    fn occupations_in_file_order() {
        let r = RefData::embedded();
        assert_eq!(r.occupation_name("4-10-01-06"), Some("家政服务员"));
        assert_eq!(r.occupation_name("４-１０-０１-０６"), Some("家政服务员"));
        assert_eq!(r.occupation_name("9-99-99-99"), None);
        assert_eq!(r.occupations().len(), 1639);
        assert_eq!(
            r.occupations()[0],
            ("1-01-00-01".to_string(), "中国共产党机关负责人".to_string())
        );
    }

    #[test]
    fn broken_tables_name_file_and_line() {
        let header = AREA_HEADER.join(",");
        let bad_status = format!("\u{FEFF}{header}\n110000,北京市,,北京市,省级,在用,1981,,\n110101,北京市,直辖,东城区,县级,停用,1981,,\n");
        let e = RefData::from_csv(&bad_status, "code,name\n").unwrap_err();
        assert_eq!(e.file, "data/areacodes.csv");
        assert_eq!(e.line, 3);
        assert!(e.reason.contains("停用"), "{e}");

        let bad_code = format!("{header}\n11000,北京市,,北京市,省级,在用,1981,,\n");
        let e = RefData::from_csv(&bad_code, "code,name\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().starts_with("data/areacodes.csv:2: "));

        let bad_successor =
            format!("{header}\n110000,北京市,,北京市,省级,弃用,1981,1990,1101[x]\n");
        assert!(RefData::from_csv(&bad_successor, "code,name\n").is_err());

        let ok_areas = format!("{header}\n110000,北京市,,北京市,省级,在用,1981,,\n");
        let e = RefData::from_csv(&ok_areas, "code,name\n1-01,\n").unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("data/occupations-2022.csv", 2));
        let short_row = "code,name\n1-01\n";
        let e = RefData::from_csv(&ok_areas, short_row).unwrap_err();
        assert_eq!(e.file, "data/occupations-2022.csv");
        let r = RefData::from_csv(&ok_areas, "code,name\n1-01,某职业\n").unwrap();
        assert!(r.area_known("110000"));
        assert_eq!(r.occupation_name("1-01"), Some("某职业"));
    }
}

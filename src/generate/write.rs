//! Writing the tables: plain UTF-8 CSV with English headers, or (`--messy`) GBK-encoded CSV
//! with Chinese headers, shuffled columns and the value variants real exports have.
//!
//! Messiness only changes how a value is spelled, never what it is: a messy dataset and a
//! plain one from the same seed hold the same ledger and the same labels.

use super::block::Block;
use super::labels::Labels;
use super::options::GenerateError;
use super::world::World;
use crate::compression::{CompressedWriter, Compression};
use crate::dates::Date;
use crate::idcode::id_check_char;
use crate::model::{self, ClaimRow, Fen, InstitutionRow, TableSpec, TABLES};
use crate::rules::RULE_IDS;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// One CSV file being written.
pub struct TableWriter {
    path: PathBuf,
    out: BufWriter<CompressedWriter>,
    /// Output position → column index of the table spec.
    order: Vec<usize>,
    messy: bool,
    line: String,
    pub rows: u64,
}

impl TableWriter {
    /// Opens `<dir>/<table>.csv` (with `compression`'s suffix: `.csv.zst`) and writes the
    /// header.
    pub fn create(
        dir: &Path,
        spec: &TableSpec,
        messy: bool,
        compression: Compression,
        rng: &mut ChaCha8Rng,
    ) -> Result<TableWriter, GenerateError> {
        let mut order: Vec<usize> = (0..spec.columns.len()).collect();
        if messy {
            order.shuffle(rng);
        }
        let header: Vec<String> = order
            .iter()
            .map(|&i| {
                let c = &spec.columns[i];
                if messy {
                    c.zh[0].to_string()
                } else {
                    c.name.to_string()
                }
            })
            .collect();
        let path = dir.join(format!("{}.csv{}", spec.name, compression.suffix()));
        let file = File::create(&path)
            .and_then(|f| compression.writer(f))
            .map_err(|source| GenerateError::Io {
                path: path.clone(),
                source,
            })?;
        let mut w = TableWriter {
            path,
            out: BufWriter::with_capacity(1 << 20, file),
            order: (0..header.len()).collect(),
            messy,
            line: String::with_capacity(512),
            rows: 0,
        };
        w.write_line(&header)?;
        w.order = order;
        w.rows = 0;
        Ok(w)
    }

    /// Writes one row given in the table spec's column order.
    pub fn write(&mut self, fields: &[Cow<str>]) -> Result<(), GenerateError> {
        self.line.clear();
        for (k, &i) in self.order.iter().enumerate() {
            if k > 0 {
                self.line.push(',');
            }
            push_csv_field(&mut self.line, &fields[i]);
        }
        self.line.push_str("\r\n");
        self.flush_line()
    }

    fn write_line(&mut self, fields: &[String]) -> Result<(), GenerateError> {
        self.line.clear();
        for (k, f) in fields.iter().enumerate() {
            if k > 0 {
                self.line.push(',');
            }
            push_csv_field(&mut self.line, f);
        }
        self.line.push_str("\r\n");
        self.flush_line()
    }

    fn flush_line(&mut self) -> Result<(), GenerateError> {
        let res = if self.messy {
            let (bytes, _, _) = encoding_rs::GBK.encode(&self.line);
            self.out.write_all(&bytes)
        } else {
            self.out.write_all(self.line.as_bytes())
        };
        res.map_err(|source| GenerateError::Io {
            path: self.path.clone(),
            source,
        })?;
        self.rows += 1;
        Ok(())
    }

    /// Flushes the file and ends its compressed stream; the rows written.
    pub fn finish(self) -> Result<u64, GenerateError> {
        let path = self.path;
        self.out
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(CompressedWriter::finish)
            .map_err(|source| GenerateError::Io { path, source })?;
        Ok(self.rows)
    }
}

/// A plain UTF-8 CSV file of ground truth (labels, rings, staged employers).
pub struct PlainWriter {
    path: PathBuf,
    out: BufWriter<File>,
    pub rows: u64,
}

impl PlainWriter {
    pub fn create(dir: &Path, file: &str, header: &str) -> Result<PlainWriter, GenerateError> {
        let path = dir.join(file);
        let f = File::create(&path).map_err(|source| GenerateError::Io {
            path: path.clone(),
            source,
        })?;
        let mut w = PlainWriter {
            path,
            out: BufWriter::with_capacity(1 << 18, f),
            rows: 0,
        };
        w.line(header)?;
        w.rows = 0;
        Ok(w)
    }

    pub fn line(&mut self, text: &str) -> Result<(), GenerateError> {
        self.out
            .write_all(text.as_bytes())
            .and_then(|_| self.out.write_all(b"\n"))
            .map_err(|source| GenerateError::Io {
                path: self.path.clone(),
                source,
            })?;
        self.rows += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<u64, GenerateError> {
        self.out.flush().map_err(|source| GenerateError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(self.rows)
    }
}

fn push_csv_field(line: &mut String, f: &str) {
    if f.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        line.push('"');
        for c in f.chars() {
            if c == '"' {
                line.push('"');
            }
            line.push(c);
        }
        line.push('"');
    } else {
        line.push_str(f);
    }
}

/// Spells values as exports do. With `on == false` every value has its canonical form.
pub struct Messer {
    rng: ChaCha8Rng,
    on: bool,
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| {
            if ('!'..='~').contains(&c) {
                char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

impl Messer {
    pub fn new(rng: ChaCha8Rng, on: bool) -> Messer {
        Messer { rng, on }
    }

    fn chance(&mut self, p: f64) -> bool {
        self.on && self.rng.gen_bool(p)
    }

    /// Surrounding spaces or full-width characters on a code-like value.
    pub fn code<'s>(&mut self, s: &'s str) -> Cow<'s, str> {
        if s.is_empty() || !self.on {
            return Cow::Borrowed(s);
        }
        let x: u32 = self.rng.gen_range(0..100);
        if x < 6 {
            Cow::Owned(format!(" {s} "))
        } else if x < 10 {
            Cow::Owned(full_width(s))
        } else {
            Cow::Borrowed(s)
        }
    }

    /// An ID number: spaces, full width, lower-case `x`, or the 15-digit legacy form where the
    /// 18-digit number is a valid one of someone born in the 1900s.
    pub fn id<'s>(&mut self, id: &'s str) -> Cow<'s, str> {
        if !self.on || id.is_empty() {
            return Cow::Borrowed(id);
        }
        let x: u32 = self.rng.gen_range(0..100);
        if x < 8 && legacy_ok(id) {
            let mut s = String::with_capacity(15);
            s.push_str(&id[..6]);
            s.push_str(&id[8..17]);
            return Cow::Owned(s);
        }
        if id.ends_with('X') && x < 50 {
            return Cow::Owned(id.replace('X', "x"));
        }
        if x < 60 {
            return self.code(id);
        }
        Cow::Borrowed(id)
    }

    pub fn name<'s>(&mut self, name: &'s str) -> Cow<'s, str> {
        if self.chance(0.04) {
            Cow::Owned(format!(" {name} "))
        } else {
            Cow::Borrowed(name)
        }
    }

    pub fn date(&mut self, d: Date) -> Cow<'static, str> {
        if !self.on {
            return Cow::Owned(d.to_string());
        }
        let (y, m, dd) = d.ymd();
        Cow::Owned(match self.rng.gen_range(0..100u32) {
            0..=54 => d.to_string(),
            55..=69 => format!("{y}/{m}/{dd}"),
            70..=84 => format!("{y:04}{m:02}{dd:02}"),
            _ => format!("{y}年{m}月{dd}日"),
        })
    }

    pub fn opt_date(&mut self, d: Option<Date>) -> Cow<'static, str> {
        d.map(|d| self.date(d)).unwrap_or_default()
    }

    pub fn amount(&mut self, f: Fen) -> Cow<'static, str> {
        Cow::Owned(self.amount_text(f))
    }

    fn amount_text(&mut self, f: Fen) -> String {
        let plain = model::fen_to_yuan(f);
        if !self.on {
            return plain;
        }
        match self.rng.gen_range(0..100u32) {
            0..=59 => plain,
            60..=84 => {
                let yuan = f / 100;
                let mut digits = yuan.to_string();
                let mut grouped = String::new();
                while digits.len() > 3 {
                    let tail = digits.split_off(digits.len() - 3);
                    grouped = format!(",{tail}{grouped}");
                }
                format!("{digits}{grouped}.{:02}", f % 100)
            }
            _ if f % 100 == 0 => (f / 100).to_string(),
            _ => plain,
        }
    }

    pub fn enum_label(&mut self, code: &'static str, zh: &'static str) -> Cow<'static, str> {
        Cow::Borrowed(if self.chance(0.5) { zh } else { code })
    }

    pub fn level(&mut self, level: Option<u8>) -> Cow<'static, str> {
        const DIGIT: [&str; 6] = ["", "1", "2", "3", "4", "5"];
        const NUM: [&str; 6] = ["", "一", "二", "三", "四", "五"];
        let Some(l) = level.filter(|l| (1..=5).contains(l)) else {
            return Cow::Borrowed("");
        };
        if !self.on {
            return Cow::Borrowed(DIGIT[l as usize]);
        }
        match self.rng.gen_range(0..100u32) {
            0..=49 => Cow::Borrowed(DIGIT[l as usize]),
            50..=69 => Cow::Borrowed(model::level::zh(l)),
            70..=84 if l >= 3 => Cow::Owned(format!("{}工", model::level::zh(l))),
            _ => Cow::Owned(format!("{}级", NUM[l as usize])),
        }
    }
}

/// Whether the 15-digit form of an ID number converts back to exactly this number.
fn legacy_ok(id: &str) -> bool {
    id.len() == 18
        && id.is_ascii()
        && id[6..8] == *"19"
        && id_check_char(&id[..17]).map(|c| id.ends_with(c)) == Some(true)
}

// ---- the world and its blocks --------------------------------------------------------------

/// The twelve table writers, by table name.
pub struct Writers {
    writers: Vec<TableWriter>,
}

impl Writers {
    pub fn new(writers: Vec<TableWriter>) -> Writers {
        Writers { writers }
    }

    pub fn get(&mut self, table: &str) -> &mut TableWriter {
        let i = TABLES
            .iter()
            .position(|t| t.name == table)
            .expect("a table of model::TABLES");
        &mut self.writers[i]
    }

    pub fn finish(self) -> Result<Vec<(&'static str, u64)>, GenerateError> {
        let mut out = Vec::new();
        for (spec, w) in TABLES.iter().zip(self.writers) {
            out.push((spec.name, w.finish()?));
        }
        Ok(out)
    }
}

/// The ground-truth files (labels.csv, rings.csv, staged_employers.csv) and the count of
/// labelled claims per rule.
pub struct TruthWriters {
    labels: PlainWriter,
    rings: PlainWriter,
    staged: PlainWriter,
    /// Labelled claims by rule index in `RULE_IDS`.
    per_rule: Vec<u64>,
}

/// What the ground-truth files hold: rows of labels.csv, rings.csv and staged_employers.csv,
/// and labelled claims by rule index in `RULE_IDS`.
pub struct TruthCounts {
    pub label_rows: u64,
    pub rings: u64,
    pub staged: u64,
    pub per_rule: Vec<u64>,
}

impl TruthWriters {
    /// Opens the three files in `dir` and writes their headers.
    pub fn create(dir: &Path) -> Result<TruthWriters, GenerateError> {
        Ok(TruthWriters {
            labels: PlainWriter::create(dir, "labels.csv", "claim_id,rule")?,
            rings: PlainWriter::create(dir, "rings.csv", "ring_id,claim_id")?,
            staged: PlainWriter::create(dir, "staged_employers.csv", "employer_id,class_id")?,
            per_rule: vec![0; RULE_IDS.len()],
        })
    }

    /// The ground truth of one block: labels sorted by claim_id then rule, ring members sorted
    /// by ring then claim_id, staged employers in the order they were made.
    fn write(&mut self, block: &Block, labels: &Labels) -> Result<(), GenerateError> {
        let mut rows: Vec<(&str, &'static str, usize)> = labels
            .iter()
            .map(|&(ci, r)| (block.claims[ci].claim_id.as_str(), RULE_IDS[r], r))
            .collect();
        rows.sort_unstable();
        rows.dedup();
        for (claim_id, rule, r) in rows {
            self.per_rule[r] += 1;
            self.labels.line(&format!("{claim_id},{rule}"))?;
        }
        let mut ring_rows: Vec<(u64, &str)> = block
            .rings
            .iter()
            .map(|&(ring, ci)| (ring, block.claims[ci].claim_id.as_str()))
            .collect();
        ring_rows.sort_unstable();
        for (ring, claim_id) in ring_rows {
            self.rings.line(&format!("R{ring:06},{claim_id}"))?;
        }
        for (employer, class_id) in &block.staged {
            self.staged.line(&format!("{employer},{class_id}"))?;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<TruthCounts, GenerateError> {
        Ok(TruthCounts {
            label_rows: self.labels.finish()?,
            rings: self.rings.finish()?,
            staged: self.staged.finish()?,
            per_rule: self.per_rule,
        })
    }
}

/// Writes the tables that do not depend on blocks.
pub fn write_global(w: &mut World, tw: &mut Writers, m: &mut Messer) -> Result<(), GenerateError> {
    for row in &w.institutions {
        tw.get("institutions").write(&institution_fields(row, m))?;
    }
    for s in std::mem::take(&mut w.initial_staff) {
        tw.get("staff").write(&[
            m.code(&s.institution_id),
            m.id(&s.id_number),
            Cow::Borrowed(s.role.as_str()),
        ])?;
    }
    for (ci, (code, _)) in w.counties.iter().enumerate() {
        for (yi, amount) in w.living[ci].iter().enumerate() {
            tw.get("living_standards").write(&[
                m.code(code),
                Cow::Owned((w.living_first_year + yi as i32).to_string()),
                m.amount(*amount),
            ])?;
        }
    }
    Ok(())
}

/// Writes one finished block, the organisations it created and its ground truth; returns the
/// number of claims. Runs on the writer thread: it needs no `World`.
pub fn write_block(
    new_orgs: Vec<InstitutionRow>,
    block: Block,
    labels: &Labels,
    tw: &mut Writers,
    m: &mut Messer,
    truth: &mut TruthWriters,
) -> Result<u64, GenerateError> {
    for row in new_orgs {
        tw.get("institutions").write(&institution_fields(&row, m))?;
    }
    write_block_rows(&block, tw, m)?;
    truth.write(&block, labels)?;
    Ok(block.claims.len() as u64)
}

/// The rows of one block, table by table.
fn write_block_rows(block: &Block, tw: &mut Writers, m: &mut Messer) -> Result<(), GenerateError> {
    for c in &block.classes {
        let w = tw.get("classes");
        w.write(&[
            m.code(&c.class_id),
            m.code(&c.institution_id),
            m.code(&c.county_code),
            Cow::Borrowed(c.occupation_code.as_str()),
            m.level(c.level),
            c.training_type
                .map(|t| m.enum_label(t.code(), t.zh()))
                .unwrap_or_default(),
            m.date(c.start_date),
            m.date(c.end_date),
            Cow::Owned(c.hours.to_string()),
            Cow::Borrowed(if c.project_based { "1" } else { "0" }),
        ])?;
    }
    // Claims in claim_id order (ids were assigned in a shuffled order).
    let mut order: Vec<usize> = (0..block.claims.len()).collect();
    order.sort_by(|&a, &b| block.claims[a].claim_id.cmp(&block.claims[b].claim_id));
    for &i in &order {
        let c = &block.claims[i];
        tw.get("claims").write(&claim_fields(c, m))?;
    }
    for c in &block.certificates {
        tw.get("certificates").write(&[
            m.code(&c.cert_no),
            m.id(&c.id_number),
            m.name(&c.name),
            Cow::Borrowed(c.occupation_code.as_str()),
            m.level(c.level),
            Cow::Borrowed(c.cert_type.as_str()),
            m.opt_date(c.issue_date),
        ])?;
    }
    for p in &block.projects {
        tw.get("projects").write(&[
            m.code(&p.class_id),
            Cow::Owned(p.trainees.to_string()),
            Cow::Owned(p.employed_claimed.to_string()),
            m.amount(p.total_amount),
            m.amount(p.prepaid_amount),
            m.amount(p.paid_amount),
            m.opt_date(p.check_date),
        ])?;
    }
    for e in &block.employment {
        tw.get("employment").write(&[
            m.id(&e.id_number),
            m.code(&e.employer_id),
            m.date(e.start_date),
            m.opt_date(e.end_date),
        ])?;
    }
    for s in &block.staff {
        tw.get("staff").write(&[
            m.code(&s.institution_id),
            m.id(&s.id_number),
            Cow::Borrowed(s.role.as_str()),
        ])?;
    }
    for p in &block.pension {
        tw.get("registry_pension")
            .write(&[m.id(&p.id_number), m.date(p.start_date)])?;
    }
    for d in &block.death {
        tw.get("registry_death")
            .write(&[m.id(&d.id_number), m.date(d.death_date)])?;
    }
    for u in &block.ui {
        tw.get("registry_ui").write(&[
            m.id(&u.id_number),
            Cow::Owned(u.months_paid.to_string()),
            m.opt_date(u.as_of),
        ])?;
    }
    for p in &block.poverty {
        tw.get("registry_poverty").write(&[m.id(&p.id_number)])?;
    }
    Ok(())
}

/// The fields of an institutions row, in `model::TABLES` column order.
fn institution_fields<'r>(row: &'r InstitutionRow, m: &mut Messer) -> Vec<Cow<'r, str>> {
    vec![
        m.code(&row.institution_id),
        m.name(&row.name),
        m.code(&row.county_code),
        Cow::Borrowed(row.kind.as_str()),
        m.id(&row.legal_rep_id),
        Cow::Borrowed(row.phone.as_str()),
        Cow::Borrowed(row.address.as_str()),
    ]
}

/// The fields of a claims row, in `model::TABLES` column order.
fn claim_fields<'r>(c: &'r ClaimRow, m: &mut Messer) -> [Cow<'r, str>; 18] {
    [
        m.code(&c.claim_id),
        m.id(&c.id_number),
        m.name(&c.name),
        m.code(&c.phone),
        m.code(&c.bank_account),
        c.category
            .map(|x| m.enum_label(x.code(), x.zh()))
            .unwrap_or_default(),
        m.code(&c.county_code),
        m.code(&c.institution_id),
        m.code(&c.class_id),
        c.subsidy_type
            .map(|x| m.enum_label(x.code(), x.zh()))
            .unwrap_or_default(),
        Cow::Borrowed(c.occupation_code.as_str()),
        m.level(c.level),
        m.code(&c.cert_no),
        c.funding_source
            .map(|x| m.enum_label(x.code(), x.zh()))
            .unwrap_or_default(),
        m.amount(c.amount),
        Cow::Owned(c.living_days.to_string()),
        m.amount(c.living_amount),
        m.date(c.claim_date),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn legacy_form_round_trips() {
        let mut m = Messer::new(ChaCha8Rng::seed_from_u64(1), true);
        let id17 = "37130219850312123";
        let id = format!("{id17}{}", id_check_char(id17).unwrap());
        for _ in 0..200 {
            let spelled = m.id(&id);
            assert_eq!(crate::idcode::normalize_id(&spelled), id, "{spelled}");
        }
    }

    #[test]
    fn amounts_keep_their_value() {
        let mut m = Messer::new(ChaCha8Rng::seed_from_u64(2), true);
        for _ in 0..100 {
            let s = m.amount(123_456_700);
            let back: String = s.chars().filter(|c| *c != ',').collect();
            let v: f64 = back.parse().unwrap();
            assert_eq!((v * 100.0).round() as i64, 123_456_700, "{s}");
        }
    }
}

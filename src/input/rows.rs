//! Raw cells → the typed rows of [`crate::model`], one parser per table.
//!
//! A row is rejected only when it cannot be read: a missing key or required value, a date,
//! amount or enumeration that names nothing. Suspicious but readable values (a wrong check
//! digit, an unknown area code) are kept as they are: they are the rules' evidence.

use crate::dates::Date;
use crate::idcode::{normalize_credit_code, normalize_id};
use crate::input::values::{compact_number, parse_date, parse_flag, parse_int, parse_money};
use crate::model::*;
use crate::text::fold_width;

/// Why a row was rejected: the column at fault (if one) and a bilingual reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub column: Option<&'static str>,
    pub reason: String,
}

/// The cells of one input row, indexed like the table's [`TableSpec::columns`]; a column the
/// source does not have reads as the empty string.
pub struct Cells<'a> {
    pub spec: &'static TableSpec,
    pub vals: &'a [&'a str],
    /// Cells come from a workbook: plain numbers in date columns are Excel serials.
    pub excel: bool,
}

/// The labelled enumerations of the model, parsed from codes or Chinese labels.
pub trait Labelled: Sized + Copy {
    fn parse_label(s: &str) -> Option<Self>;
    fn code_str(self) -> &'static str;
}

macro_rules! labelled {
    ($($t:ty),*) => {$(
        impl Labelled for $t {
            fn parse_label(s: &str) -> Option<Self> { <$t>::parse(s) }
            fn code_str(self) -> &'static str { self.code() }
        }
    )*};
}
labelled!(SubsidyType, FundingSource, Category);

const MISSING: &str = "缺少必填值 / missing required value";
/// Claim ids are listed `;`-separated (flags, cases, the export of CONTRACT.md): an id holding
/// the separator could not be told apart from two.
const LIST_SEPARATOR: &str =
    "申领编号含分号（清单分隔符）/ claim id contains ';', the list separator";

impl<'a> Cells<'a> {
    fn col(&self, i: usize) -> &'static str {
        self.spec.columns[i].name
    }

    fn err(&self, i: usize, reason: impl Into<String>) -> RowError {
        RowError {
            column: Some(self.col(i)),
            reason: reason.into(),
        }
    }

    /// The raw cell (untrimmed).
    pub fn raw(&self, i: usize) -> &str {
        self.vals.get(i).copied().unwrap_or("")
    }

    /// Free text: trimmed, full width folded.
    pub fn text(&self, i: usize) -> String {
        fold_width(self.raw(i))
    }

    /// The cell trimmed and folded, borrowed when it is plain ASCII (no allocation for the
    /// dates, amounts and labels most cells hold).
    pub fn view(&self, i: usize) -> std::borrow::Cow<'_, str> {
        let r = self.raw(i);
        if r.is_ascii() {
            std::borrow::Cow::Borrowed(r.trim())
        } else {
            std::borrow::Cow::Owned(fold_width(r))
        }
    }

    /// A key or required text value.
    pub fn req_text(&self, i: usize) -> Result<String, RowError> {
        let s = self.text(i);
        if s.is_empty() {
            return Err(self.err(i, MISSING));
        }
        Ok(s)
    }

    /// A code compared across tables (county, occupation, class, certificate): no spaces.
    pub fn code(&self, i: usize) -> String {
        let s = self.text(i);
        if s.contains(char::is_whitespace) {
            return s.chars().filter(|c| !c.is_whitespace()).collect();
        }
        s
    }

    pub fn req_code(&self, i: usize) -> Result<String, RowError> {
        let s = self.code(i);
        if s.is_empty() {
            return Err(self.err(i, MISSING));
        }
        Ok(s)
    }

    /// A required code that lists hold `;`-separated: without the separator.
    pub fn req_listed_code(&self, i: usize) -> Result<String, RowError> {
        let s = self.req_code(i)?;
        if s.contains(';') {
            return Err(self.err(i, LIST_SEPARATOR));
        }
        Ok(s)
    }

    /// A citizen ID number in 18-digit upper-case form where convertible.
    pub fn id(&self, i: usize) -> String {
        normalize_id(self.raw(i))
    }

    pub fn req_id(&self, i: usize) -> Result<String, RowError> {
        let s = self.id(i);
        if s.is_empty() {
            return Err(self.err(i, MISSING));
        }
        Ok(s)
    }

    /// An institution or employer code (credit code or local code), upper-cased.
    pub fn org(&self, i: usize) -> String {
        normalize_credit_code(self.raw(i))
    }

    pub fn req_org(&self, i: usize) -> Result<String, RowError> {
        let s = self.org(i);
        if s.is_empty() {
            return Err(self.err(i, MISSING));
        }
        Ok(s)
    }

    /// A phone number or bank account.
    pub fn contact(&self, i: usize) -> String {
        compact_number(&self.text(i))
    }

    pub fn opt_date(&self, i: usize) -> Result<Option<Date>, RowError> {
        parse_date(&self.view(i), self.excel).map_err(|e| self.err(i, e))
    }

    pub fn date(&self, i: usize) -> Result<Date, RowError> {
        self.opt_date(i)?.ok_or_else(|| self.err(i, MISSING))
    }

    pub fn money(&self, i: usize) -> Result<Fen, RowError> {
        parse_money(&self.view(i))
            .map_err(|e| self.err(i, e))?
            .ok_or_else(|| self.err(i, MISSING))
    }

    /// An optional amount: empty is 0.
    pub fn opt_money(&self, i: usize) -> Result<Fen, RowError> {
        Ok(parse_money(&self.view(i))
            .map_err(|e| self.err(i, e))?
            .unwrap_or(0))
    }

    /// An optional count: empty is 0.
    pub fn int(&self, i: usize) -> Result<i32, RowError> {
        Ok(parse_int(&self.view(i))
            .map_err(|e| self.err(i, e))?
            .unwrap_or(0))
    }

    pub fn req_int(&self, i: usize) -> Result<i32, RowError> {
        parse_int(&self.view(i))
            .map_err(|e| self.err(i, e))?
            .ok_or_else(|| self.err(i, MISSING))
    }

    pub fn level(&self, i: usize) -> Result<Option<u8>, RowError> {
        let v = self.view(i);
        if let [d @ b'1'..=b'5'] = v.as_bytes() {
            return Ok(Some(d - b'0'));
        }
        level::parse(&v)
            .map_err(|_| self.err(i, format!("未知等级 / unknown level: {}", self.text(i))))
    }

    pub fn opt_enum<E: Labelled>(&self, i: usize) -> Result<Option<E>, RowError> {
        let s = self.view(i);
        if s.is_empty() {
            return Ok(None);
        }
        E::parse_label(&s)
            .map(Some)
            .ok_or_else(|| self.err(i, format!("未知类别值 / unknown label: {s}")))
    }

    pub fn req_enum<E: Labelled>(&self, i: usize) -> Result<E, RowError> {
        self.opt_enum(i)?.ok_or_else(|| self.err(i, MISSING))
    }

    pub fn flag(&self, i: usize) -> Result<bool, RowError> {
        Ok(parse_flag(&self.view(i))
            .map_err(|e| self.err(i, e))?
            .unwrap_or(false))
    }
}

/// A typed row that can be parsed from cells and has a key unique within its table.
pub trait ParseRow: Sized + Default + Clone + Send + 'static {
    /// English table name (`model::TABLES`).
    const TABLE: &'static str;
    fn parse(c: &Cells) -> Result<Self, RowError>;
    /// The key: the table's primary key columns joined by U+001F.
    fn key(&self) -> String;
}

/// Joins key parts with the unit separator (never present in normalised cells).
fn key2(a: &str, b: &str) -> String {
    let mut k = String::with_capacity(a.len() + b.len() + 1);
    k.push_str(a);
    k.push('\u{1f}');
    k.push_str(b);
    k
}

// Column indices below follow the order of `model::TABLES` (checked by a test).

impl ParseRow for ClaimRow {
    const TABLE: &'static str = "claims";
    fn parse(c: &Cells) -> Result<Self, RowError> {
        Ok(ClaimRow {
            claim_id: c.req_listed_code(0)?,
            id_number: c.req_id(1)?,
            name: c.req_text(2)?,
            phone: c.contact(3),
            bank_account: c.contact(4),
            category: c.opt_enum(5)?,
            county_code: c.code(6),
            institution_id: c.org(7),
            class_id: c.code(8),
            subsidy_type: Some(c.req_enum(9)?),
            occupation_code: c.code(10),
            level: c.level(11)?,
            cert_no: c.code(12),
            funding_source: c.opt_enum(13)?,
            amount: c.money(14)?,
            living_days: c.int(15)?,
            living_amount: c.opt_money(16)?,
            claim_date: c.date(17)?,
        })
    }
    fn key(&self) -> String {
        self.claim_id.clone()
    }
}

impl ParseRow for ClassRow {
    const TABLE: &'static str = "classes";
    fn parse(c: &Cells) -> Result<Self, RowError> {
        Ok(ClassRow {
            class_id: c.req_code(0)?,
            institution_id: c.org(1),
            county_code: c.code(2),
            occupation_code: c.code(3),
            level: c.level(4)?,
            training_type: c.opt_enum(5)?,
            start_date: c.date(6)?,
            end_date: c.date(7)?,
            hours: c.int(8)?,
            project_based: c.flag(9)?,
        })
    }
    fn key(&self) -> String {
        self.class_id.clone()
    }
}

impl ParseRow for InstitutionRow {
    const TABLE: &'static str = "institutions";
    fn parse(c: &Cells) -> Result<Self, RowError> {
        Ok(InstitutionRow {
            institution_id: c.req_org(0)?,
            name: c.text(1),
            county_code: c.code(2),
            kind: c.text(3),
            legal_rep_id: c.id(4),
            phone: c.contact(5),
            address: c.text(6),
        })
    }
    fn key(&self) -> String {
        self.institution_id.clone()
    }
}

impl ParseRow for CertificateRow {
    const TABLE: &'static str = "certificates";
    fn parse(c: &Cells) -> Result<Self, RowError> {
        Ok(CertificateRow {
            cert_no: c.req_code(0)?,
            id_number: c.req_id(1)?,
            name: c.text(2),
            occupation_code: c.code(3),
            level: c.level(4)?,
            cert_type: c.text(5),
            issue_date: c.opt_date(6)?,
        })
    }
    fn key(&self) -> String {
        self.cert_no.clone()
    }
}

impl ParseRow for ProjectRow {
    const TABLE: &'static str = "projects";
    fn parse(c: &Cells) -> Result<Self, RowError> {
        Ok(ProjectRow {
            class_id: c.req_code(0)?,
            trainees: c.int(1)?,
            employed_claimed: c.int(2)?,
            total_amount: c.money(3)?,
            prepaid_amount: c.money(4)?,
            paid_amount: c.opt_money(5)?,
            check_date: c.opt_date(6)?,
        })
    }
    fn key(&self) -> String {
        self.class_id.clone()
    }
}

impl ParseRow for EmploymentRow {
    const TABLE: &'static str = "employment";
    fn parse(c: &Cells) -> Result<Self, RowError> {
        Ok(EmploymentRow {
            id_number: c.req_id(0)?,
            employer_id: c.req_org(1)?,
            start_date: c.date(2)?,
            end_date: c.opt_date(3)?,
        })
    }
    fn key(&self) -> String {
        let mut k = key2(&self.id_number, &self.employer_id);
        k.push('\u{1f}');
        k.push_str(&self.start_date.to_string());
        k
    }
}

impl ParseRow for StaffRow {
    const TABLE: &'static str = "staff";
    fn parse(c: &Cells) -> Result<Self, RowError> {
        Ok(StaffRow {
            institution_id: c.req_org(0)?,
            id_number: c.req_id(1)?,
            role: c.text(2),
        })
    }
    fn key(&self) -> String {
        key2(&self.institution_id, &self.id_number)
    }
}

impl ParseRow for PensionRow {
    const TABLE: &'static str = "registry_pension";
    fn parse(c: &Cells) -> Result<Self, RowError> {
        Ok(PensionRow {
            id_number: c.req_id(0)?,
            start_date: c.date(1)?,
        })
    }
    fn key(&self) -> String {
        self.id_number.clone()
    }
}

impl ParseRow for DeathRow {
    const TABLE: &'static str = "registry_death";
    fn parse(c: &Cells) -> Result<Self, RowError> {
        Ok(DeathRow {
            id_number: c.req_id(0)?,
            death_date: c.date(1)?,
        })
    }
    fn key(&self) -> String {
        self.id_number.clone()
    }
}

impl ParseRow for UiRow {
    const TABLE: &'static str = "registry_ui";
    fn parse(c: &Cells) -> Result<Self, RowError> {
        Ok(UiRow {
            id_number: c.req_id(0)?,
            months_paid: c.req_int(1)?,
            as_of: c.opt_date(2)?,
        })
    }
    fn key(&self) -> String {
        key2(
            &self.id_number,
            &self.as_of.map(|d| d.to_string()).unwrap_or_default(),
        )
    }
}

impl ParseRow for PovertyRow {
    const TABLE: &'static str = "registry_poverty";
    fn parse(c: &Cells) -> Result<Self, RowError> {
        Ok(PovertyRow {
            id_number: c.req_id(0)?,
        })
    }
    fn key(&self) -> String {
        self.id_number.clone()
    }
}

impl ParseRow for LivingStandardRow {
    const TABLE: &'static str = "living_standards";
    fn parse(c: &Cells) -> Result<Self, RowError> {
        Ok(LivingStandardRow {
            county_code: c.req_code(0)?,
            year: c.req_int(1)?,
            monthly_amount: c.money(2)?,
        })
    }
    fn key(&self) -> String {
        key2(&self.county_code, &self.year.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parsers above index cells by position; this pins the positions they assume.
    #[test]
    fn column_positions_match_the_table_specs() {
        let expect: &[(&str, &[&str])] = &[
            (
                "claims",
                &[
                    "claim_id",
                    "id_number",
                    "name",
                    "phone",
                    "bank_account",
                    "category",
                    "county_code",
                    "institution_id",
                    "class_id",
                    "subsidy_type",
                    "occupation_code",
                    "level",
                    "cert_no",
                    "funding_source",
                    "amount",
                    "living_days",
                    "living_amount",
                    "claim_date",
                ],
            ),
            (
                "classes",
                &[
                    "class_id",
                    "institution_id",
                    "county_code",
                    "occupation_code",
                    "level",
                    "training_type",
                    "start_date",
                    "end_date",
                    "hours",
                    "project_based",
                ],
            ),
            (
                "institutions",
                &[
                    "institution_id",
                    "name",
                    "county_code",
                    "kind",
                    "legal_rep_id",
                    "phone",
                    "address",
                ],
            ),
            (
                "certificates",
                &[
                    "cert_no",
                    "id_number",
                    "name",
                    "occupation_code",
                    "level",
                    "cert_type",
                    "issue_date",
                ],
            ),
            (
                "projects",
                &[
                    "class_id",
                    "trainees",
                    "employed_claimed",
                    "total_amount",
                    "prepaid_amount",
                    "paid_amount",
                    "check_date",
                ],
            ),
            (
                "employment",
                &["id_number", "employer_id", "start_date", "end_date"],
            ),
            ("staff", &["institution_id", "id_number", "role"]),
            ("registry_pension", &["id_number", "start_date"]),
            ("registry_death", &["id_number", "death_date"]),
            ("registry_ui", &["id_number", "months_paid", "as_of"]),
            ("registry_poverty", &["id_number"]),
            (
                "living_standards",
                &["county_code", "year", "monthly_amount"],
            ),
        ];
        assert_eq!(expect.len(), TABLES.len());
        for (t, cols) in expect {
            let spec = TableSpec::by_name(t).unwrap();
            let names: Vec<&str> = spec.columns.iter().map(|c| c.name).collect();
            assert_eq!(&names, cols, "{t}");
        }
    }

    fn claim_cells(vals: &[&str]) -> Result<ClaimRow, RowError> {
        let spec = TableSpec::by_name("claims").unwrap();
        ClaimRow::parse(&Cells {
            spec,
            vals,
            excel: false,
        })
    }

    #[test]
    fn messy_claim_row_is_normalised() {
        let r = claim_cells(&[
            " C1 ",
            "３７１３０２１９９００３０７００１ｘ",
            " 张伟 ",
            "138-0000-0000",
            "6222 0200",
            "贫困劳动力",
            "371302",
            "jg001",
            "B1",
            "等级证书",
            "4-01-01",
            "初级工",
            "Z1",
            "就业补助资金",
            "１,２００.00",
            "30天",
            "¥600",
            "2020年3月5日",
        ])
        .unwrap();
        assert_eq!(r.claim_id, "C1");
        assert_eq!(r.id_number, "37130219900307001X");
        assert_eq!(r.name, "张伟");
        assert_eq!(r.phone, "13800000000");
        assert_eq!(r.bank_account, "62220200");
        assert_eq!(r.category, Some(Category::Poor));
        assert_eq!(r.institution_id, "JG001");
        assert_eq!(r.subsidy_type, Some(SubsidyType::LevelCert));
        assert_eq!(r.level, Some(5));
        assert_eq!(r.funding_source, Some(FundingSource::EmploymentFund));
        assert_eq!(r.amount, 120_000);
        assert_eq!(r.living_days, 30);
        assert_eq!(r.living_amount, 60_000);
        assert_eq!(r.claim_date, Date::from_ymd(2020, 3, 5).unwrap());
    }

    #[test]
    fn unreadable_claims_name_the_column() {
        let base = [
            "C1",
            "371302199003070011",
            "张伟",
            "",
            "",
            "",
            "",
            "",
            "",
            "level_cert",
            "",
            "",
            "",
            "",
            "1000",
            "",
            "",
            "2020-03-05",
        ];
        assert!(claim_cells(&base).is_ok());
        let with = |i: usize, v: &'static str| {
            let mut b = base;
            b[i] = v;
            claim_cells(&b).unwrap_err()
        };
        assert_eq!(with(0, " ").column, Some("claim_id"));
        let listed = with(0, "C1;C2");
        assert_eq!(listed.column, Some("claim_id"));
        assert!(listed.reason.contains("';'"), "{}", listed.reason);
        assert_eq!(with(1, "").column, Some("id_number"));
        assert_eq!(with(9, "火箭培训").column, Some("subsidy_type"));
        assert_eq!(with(5, "火星人").column, Some("category"));
        assert_eq!(with(11, "特级").column, Some("level"));
        assert_eq!(with(14, "一千").column, Some("amount"));
        assert_eq!(with(14, "").column, Some("amount"));
        assert_eq!(with(17, "2020-02-30").column, Some("claim_date"));
        // A wrong check digit is readable: kept for the invalid_id rule.
        let mut b = base;
        b[1] = "371302199003070019";
        assert_eq!(claim_cells(&b).unwrap().id_number, "371302199003070019");
    }

    #[test]
    fn fifteen_digit_ids_become_eighteen() {
        let spec = TableSpec::by_name("registry_poverty").unwrap();
        let r = PovertyRow::parse(&Cells {
            spec,
            vals: &["371302900307001"],
            excel: false,
        })
        .unwrap();
        assert_eq!(r.id_number.len(), 18);
        assert!(r.id_number.starts_with("37130219900307001"));
    }
}

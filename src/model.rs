//! The data model of CONTRACT §1: enumerations, table specifications (English and Chinese
//! headers) and the typed, normalised row of every table.
//!
//! Every stage speaks these types: the input stage parses raw cells into them, the store writes
//! and reads them, the snapshot is built from them, and tests build fixtures with them.

use crate::dates::Date;

macro_rules! labelled_enum {
    ($(#[$m:meta])* $name:ident { $($var:ident => $code:literal, $zh:literal $(| $alias:literal)*;)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($var),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$var),*];

            /// The English code stored in the database and used in policy files.
            pub fn code(self) -> &'static str {
                match self { $($name::$var => $code),* }
            }

            /// The Chinese label of CONTRACT §1.
            pub fn zh(self) -> &'static str {
                match self { $($name::$var => $zh),* }
            }

            /// Accepts the English code or any Chinese label (surrounding spaces ignored).
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                $(
                    if s.eq_ignore_ascii_case($code) || s == $zh $(|| s == $alias)* {
                        return Some($name::$var);
                    }
                )*
                None
            }
        }
    };
}

labelled_enum!(
    /// `subsidy_type` of a claim and `training_type` of a class.
    SubsidyType {
        LevelCert => "level_cert", "等级证书" | "职业资格证书" | "职业技能等级证书";
        NoLevelCert => "no_level_cert", "无等级证书" | "培训合格证书";
        CareerCourse => "career_course", "职业生涯公共课程" | "职业生涯公共课";
        SpecialAbility => "special_ability", "专项能力" | "专项能力培训";
        Entrepreneurship => "entrepreneurship", "创业培训" | "创业";
        Apprenticeship => "apprenticeship", "学徒制" | "新型学徒制" | "现代学徒制";
        GoldenBlueCollar => "golden_blue_collar", "金蓝领" | "金蓝领培训";
        SkillUpgrade => "skill_upgrade", "技能提升" | "技能提升补贴";
    }
);

labelled_enum!(
    /// `funding_source` of a claim.
    FundingSource {
        EmploymentFund => "employment_fund", "就业补助资金" | "就业资金";
        UnemploymentInsurance => "unemployment_insurance", "失业保险基金" | "失业保险";
        SpecialFund => "special_fund", "专项资金";
        Enterprise => "enterprise", "职工教育经费";
    }
);

labelled_enum!(
    /// `category` of the person claiming.
    Category {
        Employee => "employee", "企业职工";
        MigrantWorker => "migrant_worker", "农民工";
        Poor => "poor", "贫困劳动力" | "建档立卡贫困劳动力";
        Hardship => "hardship", "就业困难人员";
        ZeroEmploymentFamily => "zero_employment_family", "零就业家庭" | "零就业家庭成员";
        Veteran => "veteran", "退役军人";
        Unemployed => "unemployed", "失业人员" | "下岗失业人员";
        Graduate => "graduate", "高校毕业生";
        Student => "student", "在校学生";
        Disabled => "disabled", "残疾人";
        Other => "other", "其他";
    }
);

/// Vocational qualification level: 5 初级 … 1 高级技师.
pub mod level {
    /// Chinese name of a level (1..=5).
    pub fn zh(level: u8) -> &'static str {
        match level {
            5 => "初级",
            4 => "中级",
            3 => "高级",
            2 => "技师",
            1 => "高级技师",
            _ => "",
        }
    }

    /// Parses `5`, `五级`, `5级`, `初级`, `初级工`, `高级技师` …; `Ok(None)` for an empty cell,
    /// `Err(())` for text that names no level.
    #[allow(clippy::result_unit_err)]
    pub fn parse(s: &str) -> Result<Option<u8>, ()> {
        let s = s.trim();
        if s.is_empty() || s == "无" || s == "-" {
            return Ok(None);
        }
        let t = s.trim_end_matches('工').trim_end_matches("职业资格");
        let n = match t {
            "5" | "五级" | "5级" | "初级" | "五" => 5,
            "4" | "四级" | "4级" | "中级" | "四" => 4,
            "3" | "三级" | "3级" | "高级" | "三" => 3,
            "2" | "二级" | "2级" | "技师" | "二" => 2,
            "1" | "一级" | "1级" | "高级技师" | "一" => 1,
            _ => return Err(()),
        };
        Ok(Some(n))
    }
}

/// One column of an input table: English name, Chinese header, and whether ingest needs it.
#[derive(Debug)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub zh: &'static [&'static str],
    pub required: bool,
}

/// One input table of CONTRACT §1.
#[derive(Debug)]
pub struct TableSpec {
    pub name: &'static str,
    pub zh: &'static str,
    pub columns: &'static [ColumnSpec],
}

impl TableSpec {
    pub fn by_name(name: &str) -> Option<&'static TableSpec> {
        TABLES.iter().find(|t| t.name == name || t.zh == name)
    }
}

macro_rules! cols {
    ($( $name:literal [$($zh:literal),*] $req:ident ),* $(,)?) => {
        &[$(ColumnSpec { name: $name, zh: &[$($zh),*], required: cols!(@req $req) }),*]
    };
    (@req req) => { true };
    (@req opt) => { false };
}

/// The twelve tables, in load order (referenced tables before those that refer to them).
pub static TABLES: &[TableSpec] = &[
    TableSpec {
        name: "institutions",
        zh: "培训机构",
        columns: cols![
            "institution_id" ["统一社会信用代码", "机构代码"] req,
            "name" ["机构名称"] opt,
            "county_code" ["县区代码"] opt,
            "kind" ["机构类型"] opt,
            "legal_rep_id" ["法人身份证号"] opt,
            "phone" ["联系电话"] opt,
            "address" ["地址"] opt,
        ],
    },
    TableSpec {
        name: "classes",
        zh: "培训班",
        columns: cols![
            "class_id" ["培训班编号"] req,
            "institution_id" ["机构代码"] opt,
            "county_code" ["县区代码"] opt,
            "occupation_code" ["职业编码"] opt,
            "level" ["等级"] opt,
            "training_type" ["培训类型"] opt,
            "start_date" ["开班日期"] req,
            "end_date" ["结业日期"] req,
            "hours" ["课时"] opt,
            "project_based" ["项目制"] opt,
        ],
    },
    TableSpec {
        name: "claims",
        zh: "补贴申领",
        columns: cols![
            "claim_id" ["申领编号"] req,
            "id_number" ["身份证号"] req,
            "name" ["姓名"] req,
            "phone" ["联系电话"] opt,
            "bank_account" ["银行账号"] opt,
            "category" ["人员类别"] opt,
            "county_code" ["县区代码"] opt,
            "institution_id" ["机构代码"] opt,
            "class_id" ["培训班编号"] opt,
            "subsidy_type" ["补贴类型"] req,
            "occupation_code" ["职业编码"] opt,
            "level" ["等级"] opt,
            "cert_no" ["证书编号"] opt,
            "funding_source" ["资金来源"] opt,
            "amount" ["补贴金额"] req,
            "living_days" ["生活费天数"] opt,
            "living_amount" ["生活费金额"] opt,
            "claim_date" ["申领日期"] req,
        ],
    },
    TableSpec {
        name: "certificates",
        zh: "证书",
        columns: cols![
            "cert_no" ["证书编号"] req,
            "id_number" ["身份证号"] req,
            "name" ["姓名"] opt,
            "occupation_code" ["职业编码"] opt,
            "level" ["等级"] opt,
            "cert_type" ["证书类型"] opt,
            "issue_date" ["发证日期"] opt,
        ],
    },
    TableSpec {
        name: "projects",
        zh: "项目制拨付",
        columns: cols![
            "class_id" ["培训班编号"] req,
            "trainees" ["培训人数"] opt,
            "employed_claimed" ["申报就业人数"] opt,
            "total_amount" ["项目总额"] req,
            "prepaid_amount" ["预拨金额"] req,
            "paid_amount" ["已拨金额"] opt,
            "check_date" ["就业核验日期"] opt,
        ],
    },
    TableSpec {
        name: "employment",
        zh: "就业参保",
        columns: cols![
            "id_number" ["身份证号"] req,
            "employer_id" ["单位代码"] req,
            "start_date" ["参保开始日期"] req,
            "end_date" ["参保终止日期"] opt,
        ],
    },
    TableSpec {
        name: "staff",
        zh: "机构人员",
        columns: cols![
            "institution_id" ["机构代码"] req,
            "id_number" ["身份证号"] req,
            "role" ["岗位"] opt,
        ],
    },
    TableSpec {
        name: "registry_pension",
        zh: "养老金领取",
        columns: cols![
            "id_number" ["身份证号"] req,
            "start_date" ["待遇开始日期"] req,
        ],
    },
    TableSpec {
        name: "registry_death",
        zh: "死亡注销",
        columns: cols![
            "id_number" ["身份证号"] req,
            "death_date" ["死亡日期"] req,
        ],
    },
    TableSpec {
        name: "registry_ui",
        zh: "失业保险缴费",
        columns: cols![
            "id_number" ["身份证号"] req,
            "months_paid" ["累计缴费月数"] req,
            "as_of" ["统计截止日期"] opt,
        ],
    },
    TableSpec {
        name: "registry_poverty",
        zh: "建档立卡",
        columns: cols![
            "id_number" ["身份证号"] req,
        ],
    },
    TableSpec {
        name: "living_standards",
        zh: "低保标准",
        columns: cols![
            "county_code" ["县区代码"] req,
            "year" ["年度"] req,
            "monthly_amount" ["月低保标准"] req,
        ],
    },
];

/// Money is held as integer fen (0.01 yuan) everywhere: exact sums and cap comparisons.
pub type Fen = i64;

/// The largest amount one value of the ledger may carry: 10,000,000 yuan (far above any
/// subsidy or project total of the notice). A larger value is an entry or export error and is
/// rejected at ingest. With every value within it, a sum over a hundred billion claims stays
/// below `i64::MAX` (9.2 × 10^18 fen), so the sums of the sweep and the reports cannot wrap.
pub const MAX_AMOUNT_FEN: Fen = 1_000_000_000;

/// Formats fen as yuan with two decimals: `123456` → `1234.56`.
pub fn fen_to_yuan(f: Fen) -> String {
    let sign = if f < 0 { "-" } else { "" };
    let a = f.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Formats fen as yuan with thousands separators, for people to read: `123456789` →
/// `1,234,567.89`. Machine outputs (CSV, JSON, flag exports) keep `fen_to_yuan`.
pub fn fen_to_yuan_grouped(f: Fen) -> String {
    let sign = if f < 0 { "-" } else { "" };
    let a = f.unsigned_abs();
    format!("{sign}{}.{:02}", group_thousands(a / 100), a % 100)
}

/// `1234567` → `1,234,567`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Fen as 万元 with two decimals, for summaries: `123456789` (1,234,567.89 yuan) → `123.46`
/// (rounded half away from zero). The caller adds the unit (`万元`, or `×10k yuan`).
pub fn fen_to_wan(f: Fen) -> String {
    // 1 万元 = 1,000,000 fen; two decimals of 万元 = 10,000 fen.
    let sign = if f < 0 { "-" } else { "" };
    let a = f.unsigned_abs();
    let hundredths = (a + 5_000) / 10_000;
    format!(
        "{sign}{}.{:02}",
        group_thousands(hundredths / 100),
        hundredths % 100
    )
}

#[cfg(test)]
mod money_format_tests {
    use super::*;
    #[test]
    fn grouped_and_wan() {
        assert_eq!(fen_to_yuan_grouped(0), "0.00");
        assert_eq!(fen_to_yuan_grouped(99_999), "999.99");
        assert_eq!(fen_to_yuan_grouped(100_000), "1,000.00");
        assert_eq!(fen_to_yuan_grouped(-123_456_789), "-1,234,567.89");
        assert_eq!(fen_to_wan(123_456_789), "123.46");
        assert_eq!(fen_to_wan(2_727_861_960), "2,727.86");
        assert_eq!(fen_to_wan(4_999), "0.00");
        assert_eq!(fen_to_wan(5_000), "0.01");
    }
}

// ---- typed, normalised rows --------------------------------------------------------------
// Strings are normalised by the input stage: trimmed, full-width folded, ID numbers in
// 18-digit upper-case form where convertible. Empty string = absent.

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClaimRow {
    pub claim_id: String,
    pub id_number: String,
    pub name: String,
    pub phone: String,
    pub bank_account: String,
    pub category: Option<Category>,
    pub county_code: String,
    pub institution_id: String,
    pub class_id: String,
    pub subsidy_type: Option<SubsidyType>,
    pub occupation_code: String,
    pub level: Option<u8>,
    pub cert_no: String,
    pub funding_source: Option<FundingSource>,
    pub amount: Fen,
    pub living_days: i32,
    pub living_amount: Fen,
    pub claim_date: Date,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClassRow {
    pub class_id: String,
    pub institution_id: String,
    pub county_code: String,
    pub occupation_code: String,
    pub level: Option<u8>,
    pub training_type: Option<SubsidyType>,
    pub start_date: Date,
    pub end_date: Date,
    pub hours: i32,
    pub project_based: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct InstitutionRow {
    pub institution_id: String,
    pub name: String,
    pub county_code: String,
    pub kind: String,
    pub legal_rep_id: String,
    pub phone: String,
    pub address: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct CertificateRow {
    pub cert_no: String,
    pub id_number: String,
    pub name: String,
    pub occupation_code: String,
    pub level: Option<u8>,
    pub cert_type: String,
    pub issue_date: Option<Date>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProjectRow {
    pub class_id: String,
    pub trainees: i32,
    pub employed_claimed: i32,
    pub total_amount: Fen,
    pub prepaid_amount: Fen,
    pub paid_amount: Fen,
    pub check_date: Option<Date>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct EmploymentRow {
    pub id_number: String,
    pub employer_id: String,
    pub start_date: Date,
    /// `None`: still employed.
    pub end_date: Option<Date>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct StaffRow {
    pub institution_id: String,
    pub id_number: String,
    pub role: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PensionRow {
    pub id_number: String,
    pub start_date: Date,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeathRow {
    pub id_number: String,
    pub death_date: Date,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct UiRow {
    pub id_number: String,
    pub months_paid: i32,
    pub as_of: Option<Date>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PovertyRow {
    pub id_number: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct LivingStandardRow {
    pub county_code: String,
    pub year: i32,
    pub monthly_amount: Fen,
}

/// A whole ledger in typed rows: what ingest yields per table and what tests build by hand.
/// `present` names the tables the source actually had (a missing table skips its rules).
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    pub present: Vec<&'static str>,
    pub claims: Vec<ClaimRow>,
    pub classes: Vec<ClassRow>,
    pub institutions: Vec<InstitutionRow>,
    pub certificates: Vec<CertificateRow>,
    pub projects: Vec<ProjectRow>,
    pub employment: Vec<EmploymentRow>,
    pub staff: Vec<StaffRow>,
    pub registry_pension: Vec<PensionRow>,
    pub registry_death: Vec<DeathRow>,
    pub registry_ui: Vec<UiRow>,
    pub registry_poverty: Vec<PovertyRow>,
    pub living_standards: Vec<LivingStandardRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_accept_codes_and_chinese_labels() {
        assert_eq!(
            SubsidyType::parse("金蓝领"),
            Some(SubsidyType::GoldenBlueCollar)
        );
        assert_eq!(
            SubsidyType::parse(" skill_upgrade "),
            Some(SubsidyType::SkillUpgrade)
        );
        assert_eq!(Category::parse("贫困劳动力"), Some(Category::Poor));
        assert_eq!(
            FundingSource::parse("失业保险基金"),
            Some(FundingSource::UnemploymentInsurance)
        );
        assert_eq!(Category::parse("火星人"), None);
        for t in SubsidyType::ALL {
            assert_eq!(SubsidyType::parse(t.zh()), Some(*t));
            assert_eq!(SubsidyType::parse(t.code()), Some(*t));
        }
    }

    #[test]
    fn levels_parse_in_every_spelling() {
        assert_eq!(level::parse("初级工"), Ok(Some(5)));
        assert_eq!(level::parse("五级"), Ok(Some(5)));
        assert_eq!(level::parse("高级技师"), Ok(Some(1)));
        assert_eq!(level::parse("技师"), Ok(Some(2)));
        assert_eq!(level::parse("3"), Ok(Some(3)));
        assert_eq!(level::parse(""), Ok(None));
        assert_eq!(level::parse("特级"), Err(()));
    }

    #[test]
    fn fen_formats_as_yuan() {
        assert_eq!(fen_to_yuan(123_456), "1234.56");
        assert_eq!(fen_to_yuan(5), "0.05");
        assert_eq!(fen_to_yuan(-100), "-1.00");
    }
}

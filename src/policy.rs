//! Policy files (`rules/*.toml`): every number a rule uses, with the clause it comes from.
//!
//! A policy is validated on load: unknown keys, missing values and wrong types are errors that
//! name the file and line. A [`PolicySet`] holds one or more policies with effective date
//! ranges; each claim is judged by the policy in force on its date.

use crate::dates::Date;
use crate::model::{Category, SubsidyType};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{file}: cannot read policy file: {source}")]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{dir}: no policy file (*.toml) found")]
    Empty { dir: PathBuf },
    #[error("{a} and {b}: effective date ranges overlap")]
    Overlap { a: String, b: String },
}

/// The default policy compiled into the binary (the Linyi notice).
pub const DEFAULT_POLICY_TOML: &str = include_str!("../rules/linyi-2019.toml");
pub const DEFAULT_POLICY_NAME: &str = "rules/linyi-2019.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub policy: Header,
    pub claims_per_year: ClaimsPerYear,
    pub repeated_level: RepeatedLevel,
    pub amount_caps: Vec<AmountCap>,
    pub apprenticeship: Apprenticeship,
    pub project: Project,
    pub living_allowance: LivingAllowance,
    pub skill_upgrade: SkillUpgrade,
    pub age: Age,
    pub identity: Identity,
    pub shared_contact: SharedContact,
    pub employment_sham: EmploymentSham,
    pub cert: Cert,
    pub targets: Targets,
    /// Thresholds and score weights of the entity graph (rings, institution risk).
    pub graph: GraphPolicy,
    /// How cases are scored and which graph findings become cases (`[cases]`).
    pub cases: CasesPolicy,
    /// rule id → "high" | "medium" | "low"
    pub severity: BTreeMap<String, Severity>,
    /// Filled after load: where the policy came from and the SHA-256 of its bytes.
    #[serde(skip)]
    pub source: String,
    #[serde(skip)]
    pub hash: String,
    /// Lines of the `[severity]` header and of each of its entries, for `check_rule_ids`.
    #[serde(skip)]
    pub severity_line: usize,
    #[serde(skip)]
    pub severity_lines: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub id: String,
    pub title: String,
    pub document: String,
    pub effective_from: toml::value::Datetime,
    pub effective_to: Option<toml::value::Datetime>,
    pub subsidy_year_date: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimsPerYear {
    pub max: u32,
    pub clause: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatedLevel {
    pub across_funds: bool,
    pub clause: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountCap {
    pub subsidy_type: String,
    pub level: Option<u8>,
    /// yuan
    pub cap: u32,
    pub clause: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Apprenticeship {
    pub floor_per_year: u32,
    pub clause: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub prepay_max_percent: u32,
    pub min_employment_rate_percent: u32,
    pub clause_prepay: String,
    pub clause_employment: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LivingAllowance {
    pub max_days: u32,
    pub days_per_month: u32,
    pub eligible_categories: Vec<String>,
    pub clause: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillUpgrade {
    pub min_ui_months: u32,
    pub clause: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Age {
    pub min: u32,
    pub max: u32,
    pub clause: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub min_jaro_winkler: f64,
    /// Contacts whose sharing, with an agreeing birth date and name, makes two ID numbers one
    /// person (`phone`, `bank_account`; docs/RULES.md "Persons"). Absent: both.
    #[serde(default = "default_merge_on")]
    pub merge_on: Vec<String>,
    pub clause: String,
}

/// Contacts that may link two ID numbers of one person.
pub const MERGE_CONTACTS: [&str; 2] = ["phone", "bank_account"];

fn default_merge_on() -> Vec<String> {
    MERGE_CONTACTS.iter().map(|s| s.to_string()).collect()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedContact {
    pub max_persons_per_phone: u32,
    pub max_persons_per_bank_account: u32,
    pub clause: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmploymentSham {
    pub start_window_days: u32,
    pub end_window_days: u32,
    pub staged_min_percent: u32,
    pub single_employer_min_percent: u32,
    pub min_trainees: u32,
    pub clause: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cert {
    pub required_for: Vec<String>,
    pub clause: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    pub person_times_2019: u32,
    pub skilled_share_percent: u32,
    pub high_skill_share_percent: u32,
    pub clause: String,
}

/// The entity graph's numbers (`[graph]`): what makes a ring, a cross-county person, a burst
/// of certificates, bunching and a Benford nonconformity, and the weights of the explainable
/// ring and institution-risk scores.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphPolicy {
    pub ring_min_persons: u32,
    pub ring_min_institutions_or_counties: u32,
    pub ring_weight_person: f64,
    pub ring_weight_institution: f64,
    pub ring_weight_county: f64,
    pub ring_weight_identifier: f64,
    pub ring_weight_per_10k_yuan: f64,
    pub cross_county_min_counties: u32,
    pub burst_days: u32,
    pub burst_min_certs: u32,
    pub unusual_occupation_max_percent: u32,
    pub unusual_occupation_min_claims: u32,
    pub bunching_window_percent: u32,
    pub bunching_min_projects: u32,
    pub bunching_min_z: f64,
    pub benford_min_amounts: u32,
    pub benford_min_distinct: u32,
    pub benford_mad_close: f64,
    pub benford_mad_acceptable: f64,
    pub benford_mad_nonconformity: f64,
    pub risk_weight_flagged_share: f64,
    pub risk_weight_ring: f64,
    pub risk_weight_burst: f64,
    pub risk_weight_unusual_share: f64,
    pub risk_weight_bunching: f64,
    pub risk_weight_benford: f64,
    pub clause: String,
}

/// The inspectors' queue (`[cases]`): score weights of cases, the severity of graph findings
/// that become cases, and how many top-risk institutions become cases of their own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasesPolicy {
    pub weight_high: f64,
    pub weight_medium: f64,
    pub weight_low: f64,
    pub breadth_bonus: f64,
    pub ring_severity: Severity,
    pub institution_severity: Severity,
    pub institution_top_n: u32,
    pub clause: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn code(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Severity::Low => "低",
            Severity::Medium => "中",
            Severity::High => "高",
        }
    }
}

fn to_date(d: &toml::value::Datetime) -> Option<Date> {
    let date = d.date?;
    Date::from_ymd(date.year as i32, date.month as u32, date.day as u32)
}

impl Policy {
    /// Parses and validates one policy file's text. `file` is only used in messages.
    pub fn parse(text: &str, file: &Path) -> Result<Policy, PolicyError> {
        let invalid = |line: usize, message: String| PolicyError::Invalid {
            file: file.to_path_buf(),
            line,
            message,
        };
        let mut p: Policy = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(1);
            invalid(line, e.message().replace('\n', " "))
        })?;
        // Semantic checks, each reported at the line of the key it concerns.
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.trim_start().starts_with(needle))
                .map(|i| i + 1)
                .unwrap_or(1)
        };
        if to_date(&p.policy.effective_from).is_none() {
            return Err(invalid(
                line_of("effective_from"),
                "effective_from must be a date".into(),
            ));
        }
        if let Some(t) = &p.policy.effective_to {
            if to_date(t).is_none() {
                return Err(invalid(
                    line_of("effective_to"),
                    "effective_to must be a date".into(),
                ));
            }
        }
        if let (Some(from), Some(to)) = (
            to_date(&p.policy.effective_from),
            p.policy.effective_to.as_ref().and_then(to_date),
        ) {
            if to < from {
                return Err(invalid(
                    line_of("effective_to"),
                    format!("effective_to {to} is before effective_from {from}"),
                ));
            }
        }
        if p.policy.subsidy_year_date != "claim_date" {
            return Err(invalid(
                line_of("subsidy_year_date"),
                format!(
                    "subsidy_year_date: only \"claim_date\" is supported, not {:?}",
                    p.policy.subsidy_year_date
                ),
            ));
        }
        // One cap per subsidy type and level: a second entry would silently lose to the first.
        let mut seen_caps: Vec<(&str, Option<u8>)> = Vec::new();
        for (k, cap) in p.amount_caps.iter().enumerate() {
            let key = (cap.subsidy_type.as_str(), cap.level);
            if seen_caps.contains(&key) {
                let line = text
                    .lines()
                    .enumerate()
                    .filter(|(_, l)| l.trim_start().starts_with("[[amount_caps]]"))
                    .nth(k)
                    .map_or(1, |(i, _)| i + 1);
                return Err(invalid(
                    line,
                    format!(
                        "amount_caps: a second entry for subsidy_type {:?} level {:?}",
                        cap.subsidy_type, cap.level
                    ),
                ));
            }
            seen_caps.push(key);
        }
        for cap in &p.amount_caps {
            if SubsidyType::parse(&cap.subsidy_type).is_none() {
                return Err(invalid(
                    line_of(&format!("subsidy_type = \"{}\"", cap.subsidy_type)),
                    format!("unknown subsidy_type {:?}", cap.subsidy_type),
                ));
            }
            if let Some(l) = cap.level {
                if !(1..=5).contains(&l) {
                    return Err(invalid(line_of("level"), format!("level {l} is not 1..=5")));
                }
            }
        }
        for c in &p.living_allowance.eligible_categories {
            if Category::parse(c).is_none() {
                return Err(invalid(
                    line_of("eligible_categories"),
                    format!("unknown category {c:?}"),
                ));
            }
        }
        for t in &p.cert.required_for {
            if SubsidyType::parse(t).is_none() {
                return Err(invalid(
                    line_of("required_for"),
                    format!("unknown subsidy_type {t:?}"),
                ));
            }
        }
        if p.project.prepay_max_percent > 100 || p.project.min_employment_rate_percent > 100 {
            return Err(invalid(
                line_of("[project]"),
                "percentages must be 0..=100".into(),
            ));
        }
        if p.age.min > p.age.max {
            return Err(invalid(line_of("[age]"), "age.min is above age.max".into()));
        }
        for (key, v) in p.float_settings() {
            if !v.is_finite() || v < 0.0 {
                return Err(invalid(
                    line_of(key),
                    format!("{key} must be a finite number of at least 0, not {v}"),
                ));
            }
        }
        if !(0.0..=1.0).contains(&p.identity.min_jaro_winkler) {
            return Err(invalid(
                line_of("min_jaro_winkler"),
                "min_jaro_winkler must be within 0..=1".into(),
            ));
        }
        for c in &p.identity.merge_on {
            if !MERGE_CONTACTS.contains(&c.as_str()) {
                return Err(invalid(
                    line_of("merge_on"),
                    format!("merge_on: unknown contact {c:?} (phone or bank_account)"),
                ));
            }
        }
        p.source = file.display().to_string();
        p.hash = sha256_hex(text.as_bytes());
        p.severity_line = line_of("[severity]");
        p.severity_lines = p
            .severity
            .keys()
            .map(|rule| (rule.clone(), line_of(&format!("{rule} "))))
            .collect();
        Ok(p)
    }

    /// Every decimal setting with its key (weights, similarities, z and MAD bounds), for the
    /// check that each is a finite, non-negative number.
    fn float_settings(&self) -> [(&'static str, f64); 20] {
        let g = &self.graph;
        let c = &self.cases;
        [
            ("min_jaro_winkler", self.identity.min_jaro_winkler),
            ("ring_weight_person", g.ring_weight_person),
            ("ring_weight_institution", g.ring_weight_institution),
            ("ring_weight_county", g.ring_weight_county),
            ("ring_weight_identifier", g.ring_weight_identifier),
            ("ring_weight_per_10k_yuan", g.ring_weight_per_10k_yuan),
            ("bunching_min_z", g.bunching_min_z),
            ("benford_mad_close", g.benford_mad_close),
            ("benford_mad_acceptable", g.benford_mad_acceptable),
            ("benford_mad_nonconformity", g.benford_mad_nonconformity),
            ("risk_weight_flagged_share", g.risk_weight_flagged_share),
            ("risk_weight_ring", g.risk_weight_ring),
            ("risk_weight_burst", g.risk_weight_burst),
            ("risk_weight_unusual_share", g.risk_weight_unusual_share),
            ("risk_weight_bunching", g.risk_weight_bunching),
            ("risk_weight_benford", g.risk_weight_benford),
            ("weight_high", c.weight_high),
            ("weight_medium", c.weight_medium),
            ("weight_low", c.weight_low),
            ("breadth_bonus", c.breadth_bonus),
        ]
    }

    pub fn effective_from(&self) -> Date {
        to_date(&self.policy.effective_from).expect("validated on load")
    }

    pub fn effective_to(&self) -> Option<Date> {
        self.policy.effective_to.as_ref().and_then(to_date)
    }

    /// Checks the `[severity]` table against the rules that exist: every rule has an entry and
    /// no entry names an unknown rule. The rules stage supplies the ids
    /// (`rules::check_policies`): the policy keeps no list of rules of its own.
    pub fn check_rule_ids<'a>(
        &self,
        ids: impl Iterator<Item = &'a str> + Clone,
    ) -> Result<(), PolicyError> {
        let invalid = |line: usize, message: String| PolicyError::Invalid {
            file: PathBuf::from(&self.source),
            line,
            message,
        };
        for (rule, &line) in &self.severity_lines {
            if !ids.clone().any(|id| id == rule) {
                return Err(invalid(
                    line,
                    format!("unknown rule id {rule:?} in [severity]"),
                ));
            }
        }
        for rule in ids {
            if !self.severity.contains_key(rule) {
                return Err(invalid(
                    self.severity_line,
                    format!("[severity] has no entry for rule {rule:?}"),
                ));
            }
        }
        Ok(())
    }

    pub fn in_force_on(&self, d: Date) -> bool {
        d >= self.effective_from() && self.effective_to().is_none_or(|t| d <= t)
    }

    /// The cap in fen for a subsidy type and level, if the policy sets one.
    /// A cap given without a level applies to every level of that type.
    pub fn amount_cap(&self, t: SubsidyType, level: Option<u8>) -> Option<(i64, &str)> {
        let exact = self.amount_caps.iter().find(|c| {
            SubsidyType::parse(&c.subsidy_type) == Some(t) && c.level.is_some() && c.level == level
        });
        let any = || {
            self.amount_caps
                .iter()
                .find(|c| SubsidyType::parse(&c.subsidy_type) == Some(t) && c.level.is_none())
        };
        exact
            .or_else(any)
            .map(|c| (c.cap as i64 * 100, c.clause.as_str()))
    }

    pub fn severity_of(&self, rule: &str) -> Severity {
        self.severity.get(rule).copied().unwrap_or(Severity::Medium)
    }

    pub fn living_eligible(&self, c: Category) -> bool {
        self.living_allowance
            .eligible_categories
            .iter()
            .any(|e| Category::parse(e) == Some(c))
    }

    pub fn cert_required(&self, t: SubsidyType) -> bool {
        self.cert
            .required_for
            .iter()
            .any(|e| SubsidyType::parse(e) == Some(t))
    }
}

/// All policies of a rules folder, ordered by effective date, none overlapping.
#[derive(Debug, Clone)]
pub struct PolicySet {
    pub policies: Vec<Policy>,
}

impl PolicySet {
    /// The policy compiled into the binary.
    pub fn embedded_default() -> PolicySet {
        let p = Policy::parse(DEFAULT_POLICY_TOML, Path::new(DEFAULT_POLICY_NAME))
            .expect("the embedded default policy is valid");
        PolicySet { policies: vec![p] }
    }

    pub fn single(p: Policy) -> PolicySet {
        PolicySet { policies: vec![p] }
    }

    /// Loads every `*.toml` of a folder (or one file).
    pub fn load(path: &Path) -> Result<PolicySet, PolicyError> {
        let mut files = Vec::new();
        if path.is_dir() {
            let rd = std::fs::read_dir(path).map_err(|source| PolicyError::Io {
                file: path.to_path_buf(),
                source,
            })?;
            for e in rd.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "toml") {
                    files.push(p);
                }
            }
            files.sort();
        } else {
            files.push(path.to_path_buf());
        }
        if files.is_empty() {
            return Err(PolicyError::Empty {
                dir: path.to_path_buf(),
            });
        }
        let mut policies = Vec::new();
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(|source| PolicyError::Io {
                file: f.clone(),
                source,
            })?;
            policies.push(Policy::parse(&text, &f)?);
        }
        policies.sort_by_key(|p| p.effective_from());
        for w in policies.windows(2) {
            if w[0]
                .effective_to()
                .is_none_or(|t| t >= w[1].effective_from())
            {
                return Err(PolicyError::Overlap {
                    a: w[0].source.clone(),
                    b: w[1].source.clone(),
                });
            }
        }
        Ok(PolicySet { policies })
    }

    /// The policy in force on a date, if any.
    pub fn for_date(&self, d: Date) -> Option<&Policy> {
        self.policies.iter().find(|p| p.in_force_on(d))
    }

    /// `source@hash` of every policy, for sweep records.
    pub fn fingerprint(&self) -> String {
        self.policies
            .iter()
            .map(|p| format!("{}@{}", p.source, &p.hash[..16]))
            .collect::<Vec<_>>()
            .join(",")
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_loads_with_linyi_numbers() {
        let set = PolicySet::embedded_default();
        let p = &set.policies[0];
        assert_eq!(p.claims_per_year.max, 3);
        assert_eq!(
            p.amount_cap(SubsidyType::LevelCert, Some(4)).unwrap().0,
            120_000
        );
        assert_eq!(
            p.amount_cap(SubsidyType::NoLevelCert, None).unwrap().0,
            100_000
        );
        assert_eq!(
            p.amount_cap(SubsidyType::GoldenBlueCollar, Some(1))
                .unwrap()
                .0,
            500_000
        );
        assert!(p.amount_cap(SubsidyType::Apprenticeship, None).is_none());
        assert!(p.amount_cap(SubsidyType::LevelCert, Some(1)).is_none());
        assert!(set.for_date(Date::from_ymd(2020, 5, 1).unwrap()).is_some());
        assert!(set.for_date(Date::from_ymd(2018, 5, 1).unwrap()).is_none());
    }

    #[test]
    fn unknown_key_is_an_error_with_its_line() {
        let text = DEFAULT_POLICY_TOML.replacen("max = 3\n", "max = 3\nmaximum = 4\n", 1);
        let err = Policy::parse(&text, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        let line = text.lines().position(|l| l.starts_with("maximum")).unwrap() + 1;
        assert!(err.starts_with(&format!("x.toml:{line}:")), "{err}");
        assert!(err.contains("maximum"), "{err}");
    }

    #[test]
    fn an_end_before_the_start_is_an_error_with_its_line() {
        let text = DEFAULT_POLICY_TOML.replacen(
            "effective_to = 2021-12-31",
            "effective_to = 2018-12-31",
            1,
        );
        let err = Policy::parse(&text, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        let line = text
            .lines()
            .position(|l| l.starts_with("effective_to"))
            .unwrap()
            + 1;
        assert!(err.starts_with(&format!("x.toml:{line}:")), "{err}");
        assert!(err.contains("before effective_from"), "{err}");
    }

    #[test]
    fn infinite_or_nan_weights_are_errors() {
        for bad in ["inf", "nan", "-1.0"] {
            let text = DEFAULT_POLICY_TOML.replacen(
                "risk_weight_ring = 10.0",
                &format!("risk_weight_ring = {bad}"),
                1,
            );
            let err = Policy::parse(&text, Path::new("x.toml"))
                .unwrap_err()
                .to_string();
            let line = text
                .lines()
                .position(|l| l.starts_with("risk_weight_ring"))
                .unwrap()
                + 1;
            assert!(err.starts_with(&format!("x.toml:{line}:")), "{bad}: {err}");
        }
    }

    #[test]
    fn a_second_cap_for_one_type_and_level_is_an_error() {
        let dup = "[[amount_caps]]\nsubsidy_type = \"career_course\"\ncap = 900\nclause = \"x\"\n\n[apprenticeship]";
        let text = DEFAULT_POLICY_TOML.replacen("[apprenticeship]", dup, 1);
        let err = Policy::parse(&text, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        let line = text.lines().position(|l| l.contains("cap = 900")).unwrap() - 1;
        assert!(err.starts_with(&format!("x.toml:{line}:")), "{err}");
        assert!(err.contains("second entry"), "{err}");
    }

    #[test]
    fn wrong_type_and_missing_value_are_errors() {
        let text = DEFAULT_POLICY_TOML.replacen("max = 3\n", "max = \"three\"\n", 1);
        assert!(Policy::parse(&text, Path::new("x.toml")).is_err());
        let text = DEFAULT_POLICY_TOML.replacen("max_days = 30\n", "", 1);
        let err = Policy::parse(&text, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_days"), "{err}");
    }
}

//! Policy files (`rules/*.toml`): every number a rule uses, with the clause it comes from.
//!
//! A policy is validated on load: unknown keys, missing values and wrong types are errors that
//! name the file and line. A [`PolicySet`] holds one or more policies with effective date
//! ranges; each claim is judged by the policy in force on its date.
//!
//! This module types the sections that several stages read: the header, `[project]` (two rules
//! and the graph), `[identity]` (identity resolution, below the rules), `[targets]` (the
//! report), `[graph]`, `[cases]` and `[severity]`. A section that one rule owns is typed and
//! checked in that rule's file (`rules::RuleParams`); the policy keeps it as its text and line
//! ([`Policy::rule_sections`], [`Policy::sections`]) and holds the parsed value once
//! ([`RuleParamsCell`]), because the policy sits below the rules and cannot name their types.

use crate::dates::Date;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::any::Any;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

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

/// One policy file. Unknown keys inside these sections are errors (`deny_unknown_fields` on
/// each); a top-level section not named here is kept in `rule_sections` for the rule that owns
/// it, and one no rule owns is an error (`rules::check_policies`).
#[derive(Debug, Clone, Deserialize)]
pub struct Policy {
    pub policy: Header,
    /// Project-based classes: read by `prepay_excess`, `employment_rate` and the graph.
    pub project: Project,
    /// Read by identity resolution, a stage below the rules.
    pub identity: Identity,
    /// Read by the report.
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
    /// Every other top-level section: a rule's own (checked by `rules::check_policies`).
    #[serde(flatten)]
    other_sections: BTreeMap<String, serde::de::IgnoredAny>,
    /// The rule-owned sections by name, with the line of their first header or key.
    #[serde(skip)]
    pub rule_sections: BTreeMap<String, usize>,
    /// The file's text, which the rules parse their own sections from ([`Policy::sections`]).
    #[serde(skip)]
    text: Arc<str>,
    /// The rules' typed sections of this policy, parsed once (`rules::params`).
    #[serde(skip)]
    pub rule_params: RuleParamsCell,
}

/// The rules' typed sections of one policy, parsed and checked once by the rules stage. The
/// policy cannot name their type (it sits below the rules), so it holds them as `Any`; clones of
/// a policy share them.
#[derive(Clone, Default)]
pub struct RuleParamsCell(Arc<OnceLock<Box<dyn Any + Send + Sync>>>);

impl RuleParamsCell {
    /// The value, made by `init` on first use. Panics if a value of another type is held: the
    /// rules stage is the only user, with one type.
    pub fn get_or_init<T: Any + Send + Sync>(&self, init: impl FnOnce() -> T) -> &T {
        self.0
            .get_or_init(|| Box::new(init()))
            .downcast_ref()
            .expect("one type of rule params")
    }

    pub fn is_set(&self) -> bool {
        self.0.get().is_some()
    }
}

impl std::fmt::Debug for RuleParamsCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_set() {
            "RuleParamsCell(parsed)"
        } else {
            "RuleParamsCell(not parsed)"
        })
    }
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
pub struct Project {
    pub prepay_max_percent: u32,
    pub min_employment_rate_percent: u32,
    pub clause_prepay: String,
    pub clause_employment: String,
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

/// A TOML error at the line its span starts on.
fn toml_error(text: &str, file: &Path, e: toml::de::Error) -> PolicyError {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
        .unwrap_or(1);
    PolicyError::Invalid {
        file: file.to_path_buf(),
        line,
        message: e.message().replace('\n', " "),
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.trim_start().starts_with(needle))
        .map(|i| i + 1)
        .unwrap_or(1)
}

/// The line of a top-level section: its `[name]` or `[[name]]` header, else its `name =` key.
fn section_line(text: &str, name: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            let bare = l.trim_start_matches('[').trim_end();
            (l.starts_with('[') && bare.trim_end_matches(']').trim() == name)
                || l.strip_prefix(name)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(1, |i| i + 1)
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
        let mut p: Policy = toml::from_str(text).map_err(|e| toml_error(text, file, e))?;
        // Semantic checks, each reported at the line of the key it concerns.
        let line_of = |needle: &str| line_of(text, needle);
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
        if p.project.prepay_max_percent > 100 || p.project.min_employment_rate_percent > 100 {
            return Err(invalid(
                line_of("[project]"),
                "percentages must be 0..=100".into(),
            ));
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
        p.rule_sections = std::mem::take(&mut p.other_sections)
            .into_keys()
            .map(|name| {
                let line = section_line(text, &name);
                (name, line)
            })
            .collect();
        p.text = text.into();
        Ok(p)
    }

    /// Deserialises a rule's own sections from this policy's text: `T` is a struct whose fields
    /// are top-level sections (other sections are ignored), each `deny_unknown_fields`. A missing
    /// section, an unknown key or a wrong type is an error naming the file and line.
    pub fn sections<T: DeserializeOwned>(&self) -> Result<T, PolicyError> {
        toml::from_str(&self.text).map_err(|e| toml_error(&self.text, Path::new(&self.source), e))
    }

    /// The first line (1-based) that starts with `needle` after indentation, else 1: where a
    /// semantic error about a key is reported.
    pub fn line_of(&self, needle: &str) -> usize {
        line_of(&self.text, needle)
    }

    /// The line of the `n`th (0-based) `[[name]]` header, else 1.
    pub fn array_entry_line(&self, name: &str, n: usize) -> usize {
        let header = format!("[[{name}]]");
        self.text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with(&header))
            .nth(n)
            .map_or(1, |(i, _)| i + 1)
    }

    /// An error in this policy's file at `line`.
    pub fn invalid(&self, line: usize, message: impl Into<String>) -> PolicyError {
        PolicyError::Invalid {
            file: PathBuf::from(&self.source),
            line,
            message: message.into(),
        }
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

    pub fn severity_of(&self, rule: &str) -> Severity {
        self.severity.get(rule).copied().unwrap_or(Severity::Medium)
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
        assert_eq!(p.project.prepay_max_percent, 60);
        assert_eq!(p.identity.min_jaro_winkler, 0.85);
        assert!(set.for_date(Date::from_ymd(2020, 5, 1).unwrap()).is_some());
        assert!(set.for_date(Date::from_ymd(2018, 5, 1).unwrap()).is_none());
    }

    #[test]
    fn the_sections_of_rules_are_kept_with_their_lines() {
        let set = PolicySet::embedded_default();
        let p = &set.policies[0];
        let line = DEFAULT_POLICY_TOML
            .lines()
            .position(|l| l == "[claims_per_year]")
            .unwrap()
            + 1;
        assert_eq!(p.rule_sections.get("claims_per_year"), Some(&line));
        let first_cap = p.array_entry_line("amount_caps", 0);
        assert_eq!(p.rule_sections.get("amount_caps"), Some(&first_cap));
        assert!(!p.rule_sections.contains_key("graph"));
    }

    #[test]
    fn unknown_key_is_an_error_with_its_line() {
        let text = DEFAULT_POLICY_TOML.replacen(
            "burst_days = 3\n",
            "burst_days = 3\nburst_hours = 4\n",
            1,
        );
        let err = Policy::parse(&text, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        let line = text
            .lines()
            .position(|l| l.starts_with("burst_hours"))
            .unwrap()
            + 1;
        assert!(err.starts_with(&format!("x.toml:{line}:")), "{err}");
        assert!(err.contains("burst_hours"), "{err}");
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
}

//! The rules of CONTRACT §2: one file per rule, each a pure function from the snapshot (and
//! the policy set) to flags. No rule reads files or the database.
//!
//! Invariants:
//! - A rule returns its flags in a deterministic order that depends only on the snapshot
//!   (claims are sorted by claim id there), never on thread count or hash-map iteration.
//! - Every flag's `claims` are snapshot claim indices, sorted ascending, without duplicates.
//! - Every number comes from the policy judging the claim (`resolve::judging`: the one
//!   covering its training), and every person is a resolved person (`resolve::persons`).

use crate::intern::Text;
use crate::policy::{Policy, PolicyError, PolicySet};
use crate::refdata::RefData;
use crate::resolve::Resolved;
use crate::snapshot::Snapshot;

pub mod common;
pub mod engine;

/// Everything a rule may read.
pub struct RuleContext<'a> {
    pub snap: &'a Snapshot,
    pub policies: &'a PolicySet,
    pub refdata: &'a RefData,
    /// Resolved persons and the policy of each claim.
    pub resolved: &'a Resolved,
}

impl<'a> RuleContext<'a> {
    /// The policy judging a claim; `None`: no policy covers its training, no rule judges it.
    #[inline]
    pub fn policy_of(&self, claim: usize) -> Option<&'a Policy> {
        self.resolved.judging.policy(self.policies, claim)
    }

    #[inline]
    pub fn is_judged(&self, claim: usize) -> bool {
        self.resolved.judging.is_judged(claim)
    }

    /// The resolved person (its representative person id) of a claim.
    #[inline]
    pub fn person_of(&self, claim: usize) -> u32 {
        self.resolved.persons.of(self.snap.claims[claim].person)
    }

    /// The policy judging a group of claims: the one of its latest claim by training date.
    pub fn policy_of_group(&self, claims: &[u32]) -> Option<&'a Policy> {
        self.resolved.judging.policy_of_group(self.policies, claims)
    }

    /// A resolved person in a Chinese explanation (all its ID numbers and why, when several).
    pub fn person_zh(&self, rep: u32) -> String {
        self.resolved.persons.describe_zh(self.snap, rep)
    }

    pub fn person_en(&self, rep: u32) -> String {
        self.resolved.persons.describe_en(self.snap, rep)
    }

    /// The ID number that names a resolved person in a subject: its smallest.
    pub fn person_id(&self, rep: u32) -> Text<'a> {
        self.snap.ids.resolve(rep)
    }
}

pub use crate::finding::{Family, Flag, FlagSubject};

/// A rule, described once in its own file (`pub const RULE: RuleDef`): its id, its titles, the
/// family its cases are keyed by, what its flags are about, the input tables it needs besides
/// `claims`, and its function. The registry below lists each rule's module once; every list of
/// ids, titles and families is derived from it.
pub struct RuleDef {
    pub id: &'static str,
    pub title_zh: &'static str,
    pub title_en: &'static str,
    pub family: Family,
    pub subject: FlagSubject,
    pub needs: &'static [&'static str],
    pub run: fn(&RuleContext) -> Vec<Flag>,
}

/// A rule's own numbers: the sections of a policy file that only this rule reads, as a struct
/// whose fields are those top-level sections (each section a `#[derive(Deserialize)]
/// #[serde(deny_unknown_fields)]` struct documenting its clause). Declared in the rule's file
/// and named in the registry (`rule: Params`); parsed and checked once per policy on load
/// (`check_policies`), read typed with `Params::of(policy)`, which the registry defines.
pub trait RuleParams: serde::de::DeserializeOwned + Send + Sync + 'static {
    /// The top-level sections this rule owns: the struct's field names.
    const SECTIONS: &'static [&'static str];

    /// Checks beyond the types, each an error at the line of the key it concerns
    /// (`Policy::line_of`, `Policy::invalid`).
    fn check(&self, _policy: &Policy) -> Result<(), PolicyError> {
        Ok(())
    }
}

/// A rule's sections of one policy, typed and checked.
fn load_params<T: RuleParams>(policy: &Policy) -> Result<T, PolicyError> {
    let params: T = policy.sections()?;
    params.check(policy)?;
    Ok(params)
}

/// Declares each rule module and lists its descriptor, in CONTRACT §2 order: adding a rule is
/// its file, one line here, its policy entries and its tests. A rule with numbers of its own is
/// listed as `rule: Params` (its `RuleParams` type).
macro_rules! registry {
    ($($rule:ident $(: $params:ident)?),* $(,)?) => {
        $(pub mod $rule;)*
        /// Every rule, in CONTRACT §2 order.
        pub static RULES: &[&RuleDef] = &[$(&$rule::RULE),*];
        /// The ids of every rule, in CONTRACT §2 order.
        pub const RULE_IDS: &[&str] = &[$($rule::RULE_ID),*];

        /// Every rule's own numbers in one policy, one field per rule that has any.
        pub struct PolicyParams {
            $($(pub $rule: $rule::$params,)?)*
        }

        impl PolicyParams {
            /// The sections owned by a rule, each rule's list once.
            pub const SECTIONS: &[&[&str]] =
                &[$($(<$rule::$params as RuleParams>::SECTIONS,)?)*];

            fn load(policy: &Policy) -> Result<PolicyParams, PolicyError> {
                Ok(PolicyParams {
                    $($($rule: load_params::<$rule::$params>(policy)?,)?)*
                })
            }
        }

        $($(
            impl $rule::$params {
                /// This rule's numbers in `policy`, parsed once (see `rules::params`).
                #[inline]
                pub fn of(policy: &Policy) -> &$rule::$params {
                    &params(policy).$rule
                }
            }
        )?)*
    };
}

registry![
    over_cap: Params,
    repeated_level: Params,
    amount_over_standard: Params,
    living_allowance_excess: Params,
    skill_upgrade_ineligible: Params,
    invalid_id,
    deceased,
    pensioner,
    age_out_of_range: Params,
    identity_conflict,
    multi_id,
    overlapping_training,
    cert_mismatch: Params,
    staff_trainee,
    shared_contact: Params,
    prepay_excess,
    employment_rate,
    employment_sham: Params,
];

/// Every rule's numbers in a policy, parsed on first use and kept in the policy. A policy set
/// loaded for a sweep is checked first (`check_policies`), which parses them or fails with the
/// file and line; a policy used unchecked (the embedded default, tests) must be valid.
pub fn params(policy: &Policy) -> &PolicyParams {
    policy.rule_params.get_or_init(|| {
        PolicyParams::load(policy).unwrap_or_else(|e| panic!("unchecked invalid policy: {e}"))
    })
}

/// The descriptor of a rule id.
pub fn describe(rule: &str) -> Option<&'static RuleDef> {
    RULES.iter().copied().find(|r| r.id == rule)
}

/// The Chinese and English title of a rule id, for summaries and reports (the id stays the key
/// everywhere), so the terminal, the report and the workbook name a rule alike.
pub fn rule_title(rule: &str) -> Option<(&'static str, &'static str)> {
    describe(rule).map(|r| (r.title_zh, r.title_en))
}

/// Checks every policy against the registry and parses the rules' own sections: a section no
/// rule owns, a rule's invalid section (unknown key, wrong type, a failed check), or an unknown
/// or a missing rule id in `[severity]` is an error naming the file and line; a missing section
/// is an error naming the file.
pub fn check_policies(set: &PolicySet) -> Result<(), PolicyError> {
    set.policies.iter().try_for_each(|p| {
        check_sections(p)?;
        if !p.rule_params.is_set() {
            let loaded = PolicyParams::load(p)?;
            p.rule_params.get_or_init(|| loaded);
        }
        p.check_rule_ids(RULE_IDS.iter().copied())
    })
}

/// Every top-level section the policy does not type itself belongs to a rule.
fn check_sections(p: &Policy) -> Result<(), PolicyError> {
    let owned = || PolicyParams::SECTIONS.iter().flat_map(|s| s.iter());
    for (name, &line) in &p.rule_sections {
        if !owned().any(|s| s == name) {
            return Err(p.invalid(
                line,
                format!("unknown field `{name}`: not a section of the policy or of any rule"),
            ));
        }
    }
    Ok(())
}

/// The family of a rule id.
pub fn family_of(rule: &str) -> Option<Family> {
    describe(rule).map(|r| r.family)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Policy, PolicyError};
    use std::path::Path;

    fn checked(text: &str) -> Result<(), PolicyError> {
        let p = Policy::parse(text, Path::new("p.toml"))?;
        check_policies(&PolicySet::single(p))
    }

    #[test]
    fn the_default_policy_names_every_rule() {
        check_policies(&PolicySet::embedded_default()).unwrap();
    }

    #[test]
    fn an_unknown_rule_in_severity_is_an_error_at_its_line() {
        let text = crate::policy::DEFAULT_POLICY_TOML
            .replace("[severity]\n", "[severity]\nno_such_rule = \"high\"\n");
        let line = text
            .lines()
            .position(|l| l.starts_with("no_such_rule"))
            .unwrap()
            + 1;
        match checked(&text) {
            Err(PolicyError::Invalid {
                line: l, message, ..
            }) => {
                assert_eq!(l, line);
                assert!(message.contains("no_such_rule"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_rule_missing_from_severity_is_an_error() {
        let text = crate::policy::DEFAULT_POLICY_TOML
            .lines()
            .filter(|l| !l.trim_start().starts_with("deceased "))
            .collect::<Vec<_>>()
            .join("\n");
        let err = checked(&text).unwrap_err().to_string();
        assert!(err.contains("deceased"), "{err}");
    }

    /// The error of a policy text, at the first line starting with `at`.
    fn error_at(text: &str, at: &str) -> String {
        let err = checked(text).unwrap_err().to_string();
        let line = text.lines().position(|l| l.starts_with(at)).unwrap() + 1;
        assert!(err.starts_with(&format!("p.toml:{line}:")), "{err}");
        err
    }

    #[test]
    fn an_unknown_key_in_a_rules_section_is_an_error_with_its_line() {
        let text =
            crate::policy::DEFAULT_POLICY_TOML.replacen("max = 3\n", "max = 3\nmaximum = 4\n", 1);
        // The policy itself does not type [claims_per_year]: over_cap does, on load.
        Policy::parse(&text, Path::new("p.toml")).unwrap();
        let err = error_at(&text, "maximum");
        assert!(err.contains("maximum"), "{err}");
    }

    #[test]
    fn an_unknown_section_is_an_error_with_its_line() {
        let text =
            crate::policy::DEFAULT_POLICY_TOML.replacen("[age]", "[ages]\nmin = 1\n\n[age]", 1);
        let err = error_at(&text, "[ages]");
        assert!(err.contains("ages"), "{err}");
    }

    /// The default policy without one section.
    fn without(name: &str) -> String {
        let mut lines: Vec<&str> = Vec::new();
        let mut skip = false;
        for l in crate::policy::DEFAULT_POLICY_TOML.lines() {
            if l.starts_with('[') {
                skip = l == format!("[{name}]") || l == format!("[[{name}]]");
            }
            if !skip {
                lines.push(l);
            }
        }
        lines.join("\n")
    }

    #[test]
    fn a_missing_section_of_a_rule_is_an_error_naming_the_file() {
        let err = checked(&without("skill_upgrade")).unwrap_err().to_string();
        assert!(err.starts_with("p.toml:"), "{err}");
        assert!(err.contains("skill_upgrade"), "{err}");
    }

    #[test]
    fn a_second_cap_for_one_type_and_level_is_an_error() {
        let dup = "[[amount_caps]]\nsubsidy_type = \"career_course\"\ncap = 900\nclause = \"x\"\n\n[apprenticeship]";
        let text = crate::policy::DEFAULT_POLICY_TOML.replacen("[apprenticeship]", dup, 1);
        let err = checked(&text).unwrap_err().to_string();
        let line = text.lines().position(|l| l.contains("cap = 900")).unwrap() - 1;
        assert!(err.starts_with(&format!("p.toml:{line}:")), "{err}");
        assert!(err.contains("second entry"), "{err}");
    }

    #[test]
    fn wrong_type_and_missing_value_are_errors() {
        let text = crate::policy::DEFAULT_POLICY_TOML.replacen("max = 3\n", "max = \"three\"\n", 1);
        error_at(&text, "max = \"three\"");
        let text = crate::policy::DEFAULT_POLICY_TOML.replacen("max_days = 30\n", "", 1);
        let err = checked(&text).unwrap_err().to_string();
        assert!(err.contains("max_days"), "{err}");
    }

    #[test]
    fn the_rules_checks_name_their_lines() {
        for (from, to, at, says) in [
            // As before the move: a bad level is reported at the first `level` line.
            ("level = 4\n", "level = 7\n", "level", "not 1..=5"),
            (
                "subsidy_type = \"entrepreneurship\"",
                "subsidy_type = \"x\"",
                "subsidy_type = \"x\"",
                "unknown subsidy_type",
            ),
            (
                "\"zero_employment_family\"]",
                "\"nobody\"]",
                "eligible_categories",
                "unknown category",
            ),
            (
                "\"skill_upgrade\"]",
                "\"x\"]",
                "required_for",
                "unknown subsidy_type",
            ),
            (
                "min = 16\n",
                "min = 61\n",
                "[age]",
                "age.min is above age.max",
            ),
        ] {
            let text = crate::policy::DEFAULT_POLICY_TOML.replacen(from, to, 1);
            assert_ne!(text, crate::policy::DEFAULT_POLICY_TOML, "{from}");
            let err = error_at(&text, at);
            assert!(err.contains(says), "{err}");
        }
    }

    #[test]
    fn every_rules_sections_are_read_by_its_params() {
        // A section listed in SECTIONS but not a field would load unchecked: dropping it from
        // the file must fail.
        for sections in PolicyParams::SECTIONS {
            for &name in *sections {
                let err = checked(&without(name)).unwrap_err().to_string();
                assert!(err.contains(name), "{name}: {err}");
            }
        }
    }

    #[test]
    fn titles_and_families_come_from_the_descriptors() {
        assert_eq!(
            rule_title("deceased"),
            Some(("死亡后申领", "claim after death"))
        );
        assert_eq!(family_of("shared_contact"), Some(Family::Network));
        assert_eq!(family_of("no_such_rule"), None);
    }
}

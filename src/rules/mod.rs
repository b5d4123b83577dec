//! The rules of CONTRACT §2: one file per rule, each a pure function from the snapshot (and
//! the policy set) to flags. No rule reads files or the database.
//!
//! Invariants:
//! - A rule returns its flags in a deterministic order that depends only on the snapshot
//!   (claims are sorted by claim id there), never on thread count or hash-map iteration.
//! - Every flag's `claims` are snapshot claim indices, sorted ascending, without duplicates.
//! - Every number comes from the policy judging the claim (`resolve::judging`: the one
//!   covering its training), and every person is a resolved person (`resolve::persons`).

use crate::policy::Policy;
use crate::policy::PolicySet;
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
    pub fn person_id(&self, rep: u32) -> &'a str {
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

/// Declares each rule module and lists its descriptor, in CONTRACT §2 order: adding a rule is
/// its file, one line here, its policy entries and its tests.
macro_rules! registry {
    ($($rule:ident),* $(,)?) => {
        $(pub mod $rule;)*
        /// Every rule, in CONTRACT §2 order.
        pub static RULES: &[&RuleDef] = &[$(&$rule::RULE),*];
        /// The ids of every rule, in CONTRACT §2 order.
        pub const RULE_IDS: &[&str] = &[$($rule::RULE_ID),*];
    };
}

registry![
    over_cap,
    repeated_level,
    amount_over_standard,
    living_allowance_excess,
    skill_upgrade_ineligible,
    invalid_id,
    deceased,
    pensioner,
    age_out_of_range,
    identity_conflict,
    multi_id,
    overlapping_training,
    cert_mismatch,
    staff_trainee,
    shared_contact,
    prepay_excess,
    employment_rate,
    employment_sham,
];

/// The descriptor of a rule id.
pub fn describe(rule: &str) -> Option<&'static RuleDef> {
    RULES.iter().copied().find(|r| r.id == rule)
}

/// The Chinese and English title of a rule id, for summaries and reports (the id stays the key
/// everywhere), so the terminal, the report and the workbook name a rule alike.
pub fn rule_title(rule: &str) -> Option<(&'static str, &'static str)> {
    describe(rule).map(|r| (r.title_zh, r.title_en))
}

/// Checks every policy's `[severity]` table against the registry: an unknown or a missing rule
/// id is an error naming the file and line.
pub fn check_policies(set: &PolicySet) -> Result<(), crate::policy::PolicyError> {
    set.policies
        .iter()
        .try_for_each(|p| p.check_rule_ids(RULE_IDS.iter().copied()))
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

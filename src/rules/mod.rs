//! The rules of CONTRACT §2: one file per rule, each a pure function from the snapshot (and
//! the policy set) to flags. No rule reads files or the database.
//!
//! Invariants:
//! - A rule returns its flags in a deterministic order that depends only on the snapshot
//!   (claims are sorted by claim id there), never on thread count or hash-map iteration.
//! - Every flag's `claims` are snapshot claim indices, sorted ascending, without duplicates.
//! - Every number comes from the policy in force on the claim's date (`PolicySet::for_date`).

use crate::model::Fen;
use crate::policy::{PolicySet, Severity};
use crate::refdata::RefData;
use crate::snapshot::Snapshot;

pub mod age_out_of_range;
pub mod amount_over_standard;
pub mod cert_mismatch;
pub mod common;
pub mod deceased;
pub mod employment_rate;
pub mod employment_sham;
pub mod engine;
pub mod identity_conflict;
pub mod invalid_id;
pub mod living_allowance_excess;
pub mod multi_id;
pub mod over_cap;
pub mod overlapping_training;
pub mod pensioner;
pub mod prepay_excess;
pub mod repeated_level;
pub mod shared_contact;
pub mod skill_upgrade_ineligible;
pub mod staff_trainee;

/// Everything a rule may read.
pub struct RuleContext<'a> {
    pub snap: &'a Snapshot,
    pub policies: &'a PolicySet,
    pub refdata: &'a RefData,
}

/// One finding: a rule, its subject, the claims it concerns, the money at risk and an
/// explanation a person can check by hand (Chinese and English).
#[derive(Clone, Debug, PartialEq)]
pub struct Flag {
    pub rule: &'static str,
    /// person | person_year | claim | contact | project
    pub subject_kind: &'static str,
    pub subject: String,
    /// Snapshot claim indices, sorted ascending, unique.
    pub claims: Vec<u32>,
    pub amount_at_risk: Fen,
    pub severity: Severity,
    pub explanation_zh: String,
    pub explanation_en: String,
}

/// A rule: its id, the input tables it needs besides `claims`, and its function.
pub struct RuleDef {
    pub id: &'static str,
    pub needs: &'static [&'static str],
    pub run: fn(&RuleContext) -> Vec<Flag>,
}

/// Every rule, in CONTRACT §2 order.
pub static RULES: &[RuleDef] = &[
    RuleDef {
        id: "over_cap",
        needs: &[],
        run: over_cap::run,
    },
    RuleDef {
        id: "repeated_level",
        needs: &[],
        run: repeated_level::run,
    },
    RuleDef {
        id: "amount_over_standard",
        needs: &[],
        run: amount_over_standard::run,
    },
    RuleDef {
        id: "living_allowance_excess",
        needs: &[],
        run: living_allowance_excess::run,
    },
    RuleDef {
        id: "skill_upgrade_ineligible",
        needs: &["registry_ui"],
        run: skill_upgrade_ineligible::run,
    },
    RuleDef {
        id: "invalid_id",
        needs: &[],
        run: invalid_id::run,
    },
    RuleDef {
        id: "deceased",
        needs: &["registry_death"],
        run: deceased::run,
    },
    RuleDef {
        id: "pensioner",
        needs: &["registry_pension"],
        run: pensioner::run,
    },
    RuleDef {
        id: "age_out_of_range",
        needs: &[],
        run: age_out_of_range::run,
    },
    RuleDef {
        id: "identity_conflict",
        needs: &[],
        run: identity_conflict::run,
    },
    RuleDef {
        id: "multi_id",
        needs: &[],
        run: multi_id::run,
    },
    RuleDef {
        id: "overlapping_training",
        needs: &["classes"],
        run: overlapping_training::run,
    },
    RuleDef {
        id: "cert_mismatch",
        needs: &["certificates"],
        run: cert_mismatch::run,
    },
    RuleDef {
        id: "staff_trainee",
        needs: &["staff", "institutions"],
        run: staff_trainee::run,
    },
    RuleDef {
        id: "shared_contact",
        needs: &[],
        run: shared_contact::run,
    },
    RuleDef {
        id: "prepay_excess",
        needs: &["projects"],
        run: prepay_excess::run,
    },
    RuleDef {
        id: "employment_rate",
        needs: &["projects", "employment"],
        run: employment_rate::run,
    },
    RuleDef {
        id: "employment_sham",
        needs: &["projects", "employment"],
        run: employment_sham::run,
    },
];

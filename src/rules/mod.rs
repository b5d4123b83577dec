//! The rules of CONTRACT §2: one file per rule, each a pure function from the snapshot (and
//! the policy set) to flags. No rule reads files or the database.
//!
//! Invariants:
//! - A rule returns its flags in a deterministic order that depends only on the snapshot
//!   (claims are sorted by claim id there), never on thread count or hash-map iteration.
//! - Every flag's `claims` are snapshot claim indices, sorted ascending, without duplicates.
//! - Every number comes from the policy judging the claim (`resolve::judging`: the one
//!   covering its training), and every person is a resolved person (`resolve::persons`).

use crate::model::Fen;
use crate::policy::Policy;
use crate::policy::{PolicySet, Severity};
use crate::refdata::RefData;
use crate::resolve::Resolved;
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

/// The Chinese and English title of a rule id, for summaries and reports (the id stays the key
/// everywhere). One table, so the terminal, the report and the workbook name a rule alike.
pub fn rule_title(rule: &str) -> Option<(&'static str, &'static str)> {
    Some(match rule {
        "over_cap" => ("超过每人每年补贴次数", "over the yearly claim limit"),
        "repeated_level" => (
            "同一职业同一等级重复享受",
            "same occupation and level claimed again",
        ),
        "amount_over_standard" => ("超过补贴标准", "amount above the standard"),
        "living_allowance_excess" => ("生活费补贴超标", "living allowance over the limit"),
        "skill_upgrade_ineligible" => (
            "技能提升补贴不符合条件",
            "skill-upgrade subsidy not eligible",
        ),
        "invalid_id" => ("身份证号无效", "invalid ID number"),
        "deceased" => ("死亡后申领", "claim after death"),
        "pensioner" => ("领取养老金后申领", "claim while drawing a pension"),
        "age_out_of_range" => ("年龄不符", "age out of range"),
        "identity_conflict" => ("同一身份证号多个姓名", "one ID number, different names"),
        "multi_id" => ("一人多个身份证号", "one person, several ID numbers"),
        "overlapping_training" => ("培训时间重叠", "overlapping training"),
        "cert_mismatch" => ("证书不符", "certificate mismatch"),
        "staff_trainee" => ("机构人员参训", "institution staff as trainee"),
        "shared_contact" => ("多人共用电话或账号", "phone or account shared by many"),
        "prepay_excess" => ("项目预拨超比例", "project prepayment over the share"),
        "employment_rate" => (
            "就业率未达标仍全额拨付",
            "paid in full below the employment rate",
        ),
        "employment_sham" => ("疑似虚假就业", "staged employment"),
        _ => return None,
    })
}

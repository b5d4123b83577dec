//! `skill_upgrade_ineligible`: a `skill_upgrade` claim of a person with fewer months of
//! unemployment-insurance contributions than `skill_upgrade.min_ui_months`
//! (临政办发〔2019〕13号 二（一）1). Months = the largest `months_paid` among the person's
//! `registry_ui` rows dated on or before the claim (or undated); no such row: 0 months.
//! Needs the `registry_ui` table.

use super::RuleDef;
use super::RuleParams;
use serde::Deserialize;
use crate::finding::{Family, FlagSubject};
use super::common::*;
use super::{Flag, RuleContext};
use crate::model::SubsidyType;

pub const RULE_ID: &str = "skill_upgrade_ineligible";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "技能提升补贴不符合条件",
    title_en: "skill-upgrade subsidy not eligible",
    family: Family::Eligibility,
    subject: FlagSubject::Claim,
    needs: &["registry_ui"],
    run,
};

/// `[skill_upgrade]`: who may receive the skill-upgrade subsidy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillUpgrade {
    /// Months of unemployment-insurance contributions needed, at least.
    pub min_ui_months: u32,
    pub clause: String,
}

/// This rule's sections of a policy file.
#[derive(Debug, Clone, Deserialize)]
pub struct Params {
    pub skill_upgrade: SkillUpgrade,
}

impl RuleParams for Params {
    const SECTIONS: &'static [&'static str] = &["skill_upgrade"];
}

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    if !snap.has_table("registry_ui") {
        return Vec::new();
    }
    per_claim(ctx, |i, policy| {
        let c = &snap.claims[i];
        if c.subsidy_type != Some(SubsidyType::SkillUpgrade) {
            return None;
        }
        // `ui` is sorted by (person, as_of): the person's rows are one range.
        let lo = snap.ui.partition_point(|u| u.person < c.person);
        let hi = snap.ui.partition_point(|u| u.person <= c.person);
        let rows = &snap.ui[lo..hi];
        let best = rows
            .iter()
            .filter(|u| u.as_of.is_none_or(|d| d <= c.date))
            .max_by_key(|u| (u.months_paid, u.as_of));
        let months = best.map_or(0, |u| u.months_paid);
        let min = Params::of(policy).skill_upgrade.min_ui_months as i32;
        if months >= min {
            return None;
        }
        let (basis_zh, basis_en) = match best {
            Some(u) => (
                format!(
                    "截至{}累计缴纳失业保险费{}个月",
                    opt_date_zh(u.as_of),
                    u.months_paid
                ),
                format!(
                    "{} months of unemployment-insurance contributions as of {}",
                    u.months_paid,
                    opt_date_en(u.as_of)
                ),
            ),
            None => (
                "无申领日前的失业保险缴费记录（按0个月计）".to_string(),
                "no unemployment-insurance record up to the claim date (0 months)".to_string(),
            ),
        };
        let cite = cite(policy, &Params::of(policy).skill_upgrade.clause);
        let zh = format!(
            "申领编号 {cid}：{id} 于{date}申领技能提升补贴{amt}，{basis_zh}，不足{min}个月（{cite}）",
            cid = snap.claim_id(i),
            id = id_number(snap, c.person),
            date = c.date,
            amt = yuan_zh(c.amount),
        );
        let en = format!(
            "claim {cid}: {id} claimed a skill-upgrade subsidy of {amt} on {date} with {basis_en}, fewer than {min} months ({cite})",
            cid = snap.claim_id(i),
            id = id_number(snap, c.person),
            date = c.date,
            amt = yuan_en(c.amount),
        );
        Some(claim_flag(ctx, RULE_ID, policy, i, zh, en))
    })
}

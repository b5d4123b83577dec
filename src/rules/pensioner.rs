//! `pensioner`: a claim dated on or after the person's pension start (`registry_pension`).
//! People drawing a monthly pension are not among those the notice subsidises
//! (临政办发〔2019〕13号 二: 不具有按月领取养老金资格的人员).

use super::RuleDef;
use crate::finding::{Family, FlagSubject};
use super::common::*;
use super::{Flag, RuleContext};

pub const RULE_ID: &str = "pensioner";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "领取养老金后申领",
    title_en: "claim while drawing a pension",
    family: Family::Identity,
    subject: FlagSubject::Claim,
    needs: &["registry_pension"],
    run,
};

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    per_claim(ctx, |i, policy| {
        let c = &snap.claims[i];
        let start = snap.pension_start.get(c.person)?;
        if c.date < start {
            return None;
        }
        let doc = &policy.policy.document;
        let zh = format!(
            "申领编号 {cid}：{id} 自{start}起按月领取养老金，于{date}申领补贴{amt}（{doc} 补贴对象为不具有按月领取养老金资格的人员）",
            cid = snap.claim_id(i),
            id = id_number(snap, c.person),
            date = c.date,
            amt = yuan_zh(c.amount),
        );
        let en = format!(
            "claim {cid}: {id} draws a monthly pension since {start} and claimed {amt} on {date} ({doc}: subsidies are for people not entitled to a monthly pension)",
            cid = snap.claim_id(i),
            id = id_number(snap, c.person),
            date = c.date,
            amt = yuan_en(c.amount),
        );
        Some(claim_flag(ctx, RULE_ID, policy, i, zh, en))
    })
}

//! `amount_over_standard`: a claim paid above the policy's cap for its subsidy type and level
//! (临政办发〔2019〕13号 七（三）7). The cap is `Policy::amount_cap`: the entry for that type and
//! level, else the entry for that type without level; a type with no entry is not checked.
//! Exactly at the cap is within the standard.

use super::RuleDef;
use crate::finding::{Family, FlagSubject};
use super::common::*;
use super::{Flag, RuleContext};

pub const RULE_ID: &str = "amount_over_standard";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "超过补贴标准",
    title_en: "amount above the standard",
    family: Family::Eligibility,
    subject: FlagSubject::Claim,
    needs: &[],
    run,
};

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    let tables: Vec<CapTable> = ctx.policies.policies.iter().map(CapTable::new).collect();
    per_claim_indexed(ctx, |i, at, policy| {
        let c = &snap.claims[i];
        let t = c.subsidy_type?;
        let (cap, clause) = tables[at].get(t, c.level)?;
        if c.amount <= cap {
            return None;
        }
        let cite = cite(policy, clause);
        let lvl_zh = if c.level == 0 {
            String::new()
        } else {
            level_zh(c.level)
        };
        let lvl_en = if c.level == 0 {
            String::new()
        } else {
            format!(", {}", level_en(c.level))
        };
        let zh = format!(
            "申领编号 {cid}（{id}，{date}）{tz}{lvl_zh}补贴{amt}，超过标准{cap}，超出{over}（{cite}）",
            cid = snap.claim_id(i),
            id = id_number(snap, c.person),
            date = c.date,
            tz = t.zh(),
            amt = yuan_zh(c.amount),
            cap = yuan_zh(cap),
            over = yuan_zh(c.amount - cap),
        );
        let en = format!(
            "claim {cid} ({id}, {date}): {te}{lvl_en} subsidy of {amt} is above the standard of {cap} by {over} ({cite})",
            cid = snap.claim_id(i),
            id = id_number(snap, c.person),
            date = c.date,
            te = t.code(),
            amt = yuan_en(c.amount),
            cap = yuan_en(cap),
            over = yuan_en(c.amount - cap),
        );
        Some(claim_flag(ctx, RULE_ID, policy, i, zh, en))
    })
}

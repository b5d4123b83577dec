//! `deceased`: a claim dated after the person's death (`registry_death`); a claim on the day
//! of death is not flagged. Real-name management, 临政办发〔2019〕13号 十二.

use super::RuleDef;
use crate::finding::{Family, FlagSubject};
use super::common::*;
use super::{Flag, RuleContext};

pub const RULE_ID: &str = "deceased";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "死亡后申领",
    title_en: "claim after death",
    family: Family::Identity,
    subject: FlagSubject::Claim,
    needs: &["registry_death"],
    run,
};

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    per_claim(ctx, |i, policy| {
        let c = &snap.claims[i];
        let death = snap.death_date.get(c.person)?;
        if c.date <= death {
            return None;
        }
        let days = c.date.0 - death.0;
        let cite = cite(policy, &policy.identity.clause);
        let zh = format!(
            "申领编号 {cid}：{id} 已于{death}死亡注销，却在{date}（死亡后{days}天）申领补贴{amt}（{cite}）",
            cid = snap.claim_id(i),
            id = id_number(snap, c.person),
            date = c.date,
            amt = yuan_zh(c.amount),
        );
        let en = format!(
            "claim {cid}: {id} is registered dead on {death} but claimed {amt} on {date}, {days} day{s} later ({cite})",
            cid = snap.claim_id(i),
            id = id_number(snap, c.person),
            date = c.date,
            amt = yuan_en(c.amount),
            s = if days == 1 { "" } else { "s" },
        );
        Some(claim_flag(ctx, RULE_ID, policy, i, zh, en))
    })
}

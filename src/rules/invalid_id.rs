//! `invalid_id`: the claim's ID number is not a valid GB 11643 number: not 17 digits + digit/X,
//! a wrong ISO 7064 MOD 11-2 check character, a birth date that does not exist, is before 1900
//! or is after the claim date, or an area code that never existed in GB/T 2260 (codes of any
//! year since 1981 are valid, retired ones included). Real-name management, 十二.

use super::RuleDef;
use crate::finding::{Family, FlagSubject};
use super::common::*;
use super::{Flag, RuleContext};
use crate::dates::Date;
use crate::idcode::{check_id_parts, IdProblem};
use rayon::prelude::*;

pub const RULE_ID: &str = "invalid_id";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "身份证号无效",
    title_en: "invalid ID number",
    family: Family::Identity,
    subject: FlagSubject::Claim,
    needs: &[],
    run,
};

/// What the number itself says, computed once per distinct ID number.
enum IdVerdict {
    Valid { birth: Date },
    Invalid(IdProblem),
}

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    let verdicts: Vec<IdVerdict> = (0..snap.ids.len() as u32)
        .into_par_iter()
        .map(|p| match check_id_parts(&snap.ids.resolve(p), ctx.refdata) {
            Ok((_, birth, _)) => IdVerdict::Valid { birth },
            Err(e) => IdVerdict::Invalid(e),
        })
        .collect();
    per_claim(ctx, |i, policy| {
        let c = &snap.claims[i];
        let (zh_reason, en_reason) = match &verdicts[c.person as usize] {
            IdVerdict::Invalid(problem) => (problem.zh(), problem.to_string()),
            IdVerdict::Valid { birth } if *birth > c.date => (
                format!("身份证号码中的出生日期{birth}晚于申领日期{}", c.date),
                format!(
                    "birth date {birth} in the ID number is after the claim date {}",
                    c.date
                ),
            ),
            IdVerdict::Valid { .. } => return None,
        };
        // Read only for a flagged claim: a random access into the ID text per claim costs
        // more than the check at national scale.
        let id = id_number(snap, c.person);
        let cite = cite(policy, &policy.identity.clause);
        let shown = if id.is_empty() { "（空）" } else { &id };
        let zh = format!(
            "申领编号 {cid}（{date}，{amt}）身份证号码 {shown} 无效：{zh_reason}（{cite}）",
            cid = snap.claim_id(i),
            date = c.date,
            amt = yuan_zh(c.amount),
        );
        let en = format!(
            "claim {cid} ({date}, {amt}): ID number {shown_en} is invalid: {en_reason} ({cite})",
            cid = snap.claim_id(i),
            date = c.date,
            amt = yuan_en(c.amount),
            shown_en = if id.is_empty() { "(empty)" } else { &id },
        );
        Some(claim_flag(ctx, RULE_ID, policy, i, zh, en))
    })
}

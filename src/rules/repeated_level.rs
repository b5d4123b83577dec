//! `repeated_level`: one subsidy per person, occupation and level, ever (临政办发〔2019〕13号
//! 七（三）7), across funding sources when the policy says so (`repeated_level.across_funds`).
//! Claims with an occupation and a level are grouped by (person, occupation, level) and ranked
//! by (claim_date, claim_id); every claim after the first is flagged, one flag per group. A
//! person is a resolved person: a repeat under another of their ID numbers is a repeat.

use super::RuleDef;
use super::RuleParams;
use serde::Deserialize;
use crate::finding::{Family, FlagSubject};
use super::common::*;
use super::{Flag, RuleContext};
use crate::dates::Date;
use crate::model::FundingSource;
use rayon::prelude::*;

pub const RULE_ID: &str = "repeated_level";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "同一职业同一等级重复享受",
    title_en: "same occupation and level claimed again",
    family: Family::Eligibility,
    subject: FlagSubject::Person,
    needs: &[],
    run,
};

/// `[repeated_level]`: one subsidy per person, occupation and level, ever.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatedLevel {
    /// A repeat on another fund (unemployment insurance, employment fund) counts as a repeat.
    pub across_funds: bool,
    pub clause: String,
}

/// This rule's sections of a policy file.
#[derive(Debug, Clone, Deserialize)]
pub struct Params {
    pub repeated_level: RepeatedLevel,
}

impl RuleParams for Params {
    const SECTIONS: &'static [&'static str] = &["repeated_level"];
}

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    // Claims grouped by resolved person (the CSR shared by the person rules); each person's
    // judged claims with an occupation and a level are then keyed and sorted on their own.
    let by_person = &ctx.resolved.claims_by_person;
    let mut flags: Vec<Flag> = (0..snap.ids.len() as u32)
        .into_par_iter()
        .with_min_len(4096)
        .flat_map_iter(|p| {
            let claims = by_person.members(p);
            let mut keyed: Vec<(u32, u8, Date, u32)> = if claims.len() > 1 {
                claims
                    .iter()
                    .filter_map(|&i| {
                        let c = &snap.claims[i as usize];
                        (c.occupation != 0 && c.level != 0 && ctx.is_judged(i as usize))
                            .then_some((c.occupation, c.level, c.date, i))
                    })
                    .collect()
            } else {
                Vec::new()
            };
            keyed.sort_unstable();
            runs(&keyed, |k| (k.0, k.1))
                .filter(|g| g.len() > 1)
                .filter_map(|g| {
                    let group: Vec<u32> = g.iter().map(|k| k.3).collect();
                    group_flag_of(ctx, &group)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    sort_group_flags(&mut flags);
    flags
}

fn fund_zh(f: Option<FundingSource>) -> &'static str {
    f.map_or("资金来源未填", |f| f.zh())
}

fn fund_en(f: Option<FundingSource>) -> &'static str {
    f.map_or("fund not given", |f| f.code())
}

/// `group`: the claims of one (person, occupation, level) in rank order.
fn group_flag_of(ctx: &RuleContext, group: &[u32]) -> Option<Flag> {
    let snap = ctx.snap;
    let repeated: Vec<u32> = group
        .iter()
        .enumerate()
        .skip(1)
        .filter(|&(j, &i)| {
            let Some(p) = ctx.policy_of(i as usize) else {
                return false;
            };
            // Without `across_funds`, only an earlier claim on the same fund makes a repeat.
            Params::of(p).repeated_level.across_funds
                || group[..j]
                    .iter()
                    .any(|&e| snap.claims[e as usize].funding == snap.claims[i as usize].funding)
        })
        .map(|(_, &i)| i)
        .collect();
    let &first_repeat = repeated.first()?;
    let policy = ctx.policy_of(first_repeat as usize)?;
    let first = &snap.claims[group[0] as usize];
    let person = ctx.person_of(group[0] as usize);
    let id = ctx.person_id(person);
    let (who_zh, who_en) = (ctx.person_zh(person), ctx.person_en(person));
    let occ = snap.occupations.resolve(first.occupation);
    let occ_name = ctx.refdata.occupation_name(occ);
    let occ_zh = occ_name.map_or_else(|| occ.to_string(), |n| format!("{occ}（{n}）"));
    let lvl = first.level;
    let item_zh = |i: u32| {
        let c = &snap.claims[i as usize];
        format!(
            "{}（{}，{}，{}）",
            snap.claim_id(i as usize),
            c.date,
            fund_zh(c.funding),
            yuan_zh(c.amount)
        )
    };
    let item_en = |i: u32| {
        let c = &snap.claims[i as usize];
        format!(
            "{} ({}, {}, {})",
            snap.claim_id(i as usize),
            c.date,
            fund_en(c.funding),
            yuan_en(c.amount)
        )
    };
    let rep_zh = repeated
        .iter()
        .take(MAX_LISTED)
        .map(|&i| item_zh(i))
        .collect::<Vec<_>>()
        .join("、");
    let rep_en = repeated
        .iter()
        .take(MAX_LISTED)
        .map(|&i| item_en(i))
        .collect::<Vec<_>>()
        .join(", ");
    let cite = cite(policy, &Params::of(policy).repeated_level.clause);
    let zh = format!(
        "{who_zh} 同一职业{occ_zh}同一等级{lz}重复申领{n}次：首次{first_zh}，重复{rep_zh}（{cite}）",
        lz = level_zh(lvl),
        n = repeated.len(),
        first_zh = item_zh(group[0]),
    );
    let en = format!(
        "{who_en} claimed occupation {occ} at {le} again {n} time{s}: first {first_en}, repeated {rep_en} (one subsidy per occupation and level; {cite})",
        le = level_en(lvl),
        n = repeated.len(),
        s = if repeated.len() > 1 { "s" } else { "" },
        first_en = item_en(group[0]),
    );
    Some(group_flag(
        ctx,
        RULE_ID,
        FlagSubject::Person,
        id.to_string(),
        policy,
        repeated,
        zh,
        en,
    ))
}

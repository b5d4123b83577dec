//! `over_cap`: more training subsidies in one subsidy year than the policy allows
//! (`claims_per_year.max`, 临政办发〔2019〕13号 七（三）7). Claims of one person and calendar year
//! are ranked by (claim_date, claim_id); ranks above the maximum are flagged, one flag per
//! person-year. All subsidy types and funds count, and a person is a resolved person: the
//! claims under all of their ID numbers count together.

use super::RuleDef;
use super::RuleParams;
use serde::Deserialize;
use crate::finding::{Family, FlagSubject};
use super::common::*;
use super::{Flag, RuleContext};
use rayon::prelude::*;

pub const RULE_ID: &str = "over_cap";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "超过每人每年补贴次数",
    title_en: "over the yearly claim limit",
    family: Family::Eligibility,
    subject: FlagSubject::PersonYear,
    needs: &[],
    run,
};

/// `[claims_per_year]`: how many training subsidies one person may receive in a subsidy year.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimsPerYear {
    /// At most this many claims per person and calendar year of the claim date.
    pub max: u32,
    pub clause: String,
}

/// This rule's sections of a policy file.
#[derive(Debug, Clone, Deserialize)]
pub struct Params {
    pub claims_per_year: ClaimsPerYear,
}

impl RuleParams for Params {
    const SECTIONS: &'static [&'static str] = &["claims_per_year"];
}

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    let min = min_cap(ctx);
    // Claims grouped by resolved person (CSR of claim indices, shared with the other person
    // rules); only persons with more judged claims than the smallest yearly maximum can be
    // over it, and only theirs are sorted.
    let by_person = &ctx.resolved.claims_by_person;
    let mut flags: Vec<Flag> = (0..snap.ids.len() as u32)
        .into_par_iter()
        .with_min_len(4096)
        .flat_map_iter(|p| {
            let claims = by_person.members(p);
            // Unjudged claims are left out here; fewer claims than `min` cannot be over it.
            let mut order: Vec<PersonDated> = if claims.len() > min {
                claims
                    .iter()
                    .filter(|&&i| ctx.is_judged(i as usize))
                    .map(|&i| {
                        let date = snap.claims[i as usize].date;
                        PersonDated {
                            person: p,
                            year: date.year(),
                            date,
                            claim: i,
                        }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            order.sort_unstable();
            runs(&order, |k| k.year)
                .filter(|g| g.len() > min)
                .filter_map(|group| person_year_flag(ctx, group))
                .collect::<Vec<_>>()
        })
        .collect();
    sort_group_flags(&mut flags);
    flags
}

/// The smallest yearly maximum of any policy: person-years with at most this many claims
/// cannot be over any cap and are not looked at.
fn min_cap(ctx: &RuleContext) -> usize {
    ctx.policies
        .policies
        .iter()
        .map(|p| Params::of(p).claims_per_year.max as usize)
        .min()
        .unwrap_or(0)
}

/// `group`: one person-year's claims in rank order.
fn person_year_flag(ctx: &RuleContext, group: &[PersonDated]) -> Option<Flag> {
    let snap = ctx.snap;
    // Each claim is judged by its own policy (a year may span two policies).
    let over: Vec<(usize, u32)> = group
        .iter()
        .enumerate()
        .filter(|&(rank0, k)| {
            ctx.policy_of(k.claim as usize)
                .is_some_and(|p| rank0 + 1 > Params::of(p).claims_per_year.max as usize)
        })
        .map(|(rank0, k)| (rank0 + 1, k.claim))
        .collect();
    let &(_, first_claim) = over.first()?;
    let policy = ctx.policy_of(first_claim as usize)?;
    let first = &snap.claims[first_claim as usize];
    let person = group[0].person;
    let id = ctx.person_id(person);
    let (who_zh, who_en) = (ctx.person_zh(person), ctx.person_en(person));
    let year = first.date.year();
    let max = Params::of(policy).claims_per_year.max;
    let claims: Vec<u32> = over.iter().map(|&(_, i)| i).collect();
    let ranks_zh = over
        .iter()
        .map(|(r, _)| r.to_string())
        .collect::<Vec<_>>()
        .join("、");
    let ranks_en = over
        .iter()
        .map(|&(r, _)| ordinal_en(r))
        .collect::<Vec<_>>()
        .join(", ");
    let refs_zh = claims
        .iter()
        .take(MAX_LISTED)
        .map(|&i| claim_ref_zh(snap, i))
        .collect::<Vec<_>>()
        .join("、");
    let refs_en = claims
        .iter()
        .take(MAX_LISTED)
        .map(|&i| claim_ref_en(snap, i))
        .collect::<Vec<_>>()
        .join(", ");
    let cite = cite(policy, &Params::of(policy).claims_per_year.clause);
    let zh = format!(
        "{who_zh} 在{year}年第{ranks_zh}次申领（全年共{total}次；超出的申领：{refs_zh}；上限{max}次，{cite}）",
        total = group.len(),
    );
    let en = format!(
        "{ranks_en} claim{s} in {year} by {who_en} ({total} claims that year; over the limit: {refs_en}; limit {max}; {cite})",
        s = if over.len() > 1 { "s" } else { "" },
        total = group.len(),
    );
    Some(group_flag(
        ctx,
        RULE_ID,
        FlagSubject::PersonYear,
        format!("{id}:{year}"),
        policy,
        claims,
        zh,
        en,
    ))
}

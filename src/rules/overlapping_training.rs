//! `overlapping_training`: one person in two classes at the same time, at different
//! institutions or in different counties — one of the two trainings cannot have happened
//! (real-name management, 临政办发〔2019〕13号 十二). Claims are joined to `classes` by
//! `class_id` (unknown classes are skipped); class intervals [start, end] are inclusive, so a
//! class ending on the day another starts overlaps it. One flag per person listing every
//! claim in such a pair; a person is a resolved person (all of their ID numbers).

use super::RuleDef;
use crate::finding::{Family, FlagSubject};
use super::common::*;
use super::{Flag, RuleContext};
use crate::dates::Date;
use crate::snapshot::Snapshot;
use rayon::prelude::*;

pub const RULE_ID: &str = "overlapping_training";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "培训时间重叠",
    title_en: "overlapping training",
    family: Family::Eligibility,
    subject: FlagSubject::Person,
    needs: &["classes"],
    run,
};

/// A judged claim with a known class, reduced to what the overlap test needs.
#[derive(Clone, Copy)]
struct Stint {
    person: u32,
    start: Date,
    end: Date,
    institution: u32,
    county: u32,
    claim: u32,
}

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    // Claims grouped by resolved person (the CSR shared by the person rules: 4 bytes a claim,
    // not a 24-byte stint for every claim of the ledger); stints are made only for a person's
    // judged claims with a known class, and only for persons with two or more claims.
    let by_person = &ctx.resolved.claims_by_person;
    let mut flags: Vec<Flag> = (0..snap.ids.len() as u32)
        .into_par_iter()
        .with_min_len(4096)
        .filter_map(|p| {
            let claims = by_person.members(p);
            if claims.len() < 2 {
                return None;
            }
            let mut stints: Vec<Stint> = claims
                .iter()
                .filter(|&&i| ctx.is_judged(i as usize))
                .filter_map(|&i| {
                    let class = class_of_claim(snap, i as usize)?;
                    Some(Stint {
                        person: p,
                        start: class.start,
                        end: class.end,
                        institution: class.institution,
                        county: class.county,
                        claim: i,
                    })
                })
                .collect();
            stints.sort_unstable_by_key(|s| (s.start, s.claim));
            person_flag(ctx, &stints)
        })
        .collect();
    sort_group_flags(&mut flags);
    flags
}

/// Pairs of overlapping stints of one person (sorted by start) at different places.
fn overlapping_pairs(group: &[Stint]) -> Vec<(Stint, Stint)> {
    let mut pairs = Vec::new();
    // Stints still running at the current start; a stint that ended before it is done for
    // every later start too, since starts only grow.
    let mut active: Vec<Stint> = Vec::new();
    for &s in group {
        active.retain(|a| a.end >= s.start);
        for &a in &active {
            if a.institution != s.institution || a.county != s.county {
                pairs.push((a, s));
            }
        }
        active.push(s);
    }
    pairs
}

fn stint_zh(snap: &Snapshot, s: &Stint) -> String {
    let c = &snap.claims[s.claim as usize];
    format!(
        "申领编号 {}（培训班{}，机构{}，县区{}，{}至{}）",
        snap.claim_id(s.claim as usize),
        snap.class_keys.resolve(c.class),
        snap.orgs.resolve(s.institution),
        snap.counties.resolve(s.county),
        s.start,
        s.end
    )
}

fn stint_en(snap: &Snapshot, s: &Stint) -> String {
    let c = &snap.claims[s.claim as usize];
    format!(
        "claim {} (class {}, institution {}, county {}, {} to {})",
        snap.claim_id(s.claim as usize),
        snap.class_keys.resolve(c.class),
        snap.orgs.resolve(s.institution),
        snap.counties.resolve(s.county),
        s.start,
        s.end
    )
}

fn person_flag(ctx: &RuleContext, group: &[Stint]) -> Option<Flag> {
    let snap = ctx.snap;
    let pairs = overlapping_pairs(group);
    if pairs.is_empty() {
        return None;
    }
    let mut claims: Vec<u32> = pairs.iter().flat_map(|(a, b)| [a.claim, b.claim]).collect();
    claims.sort_unstable();
    claims.dedup();
    let policy = ctx.policy_of(claims[0] as usize)?;
    let id = ctx.person_id(group[0].person);
    let (who_zh, who_en) = (
        ctx.person_zh(group[0].person),
        ctx.person_en(group[0].person),
    );
    let pairs_zh = pairs
        .iter()
        .take(MAX_LISTED)
        .map(|(a, b)| format!("{}与{}", stint_zh(snap, a), stint_zh(snap, b)))
        .collect::<Vec<_>>()
        .join("；");
    let pairs_en = pairs
        .iter()
        .take(MAX_LISTED)
        .map(|(a, b)| format!("{} and {}", stint_en(snap, a), stint_en(snap, b)))
        .collect::<Vec<_>>()
        .join("; ");
    let more_zh = if pairs.len() > MAX_LISTED {
        format!("等{}对", pairs.len())
    } else {
        String::new()
    };
    let more_en = if pairs.len() > MAX_LISTED {
        format!(" and {} more pairs", pairs.len() - MAX_LISTED)
    } else {
        String::new()
    };
    let cite = cite(policy, &policy.identity.clause);
    let zh = format!(
        "{who_zh} 同一时间在不同机构或县区参加培训：{pairs_zh}{more_zh}，培训时间重叠（{cite}）"
    );
    let en = format!(
        "{who_en} was in two classes at the same time at different institutions or counties: {pairs_en}{more_en} ({cite})"
    );
    Some(group_flag(
        ctx,
        RULE_ID,
        FlagSubject::Person,
        id.to_string(),
        policy,
        claims,
        zh,
        en,
    ))
}

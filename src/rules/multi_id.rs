//! `multi_id`: one real person claiming under several ID numbers (docs/RULES.md). The persons
//! are those of the resolution stage (`resolve::persons`: same birth date, names that are
//! spellings of one name, a shared phone or bank account); every judged claim of a person with
//! two or more ID numbers is flagged, one flag per person (subject: the person's smallest ID
//! number). The explanation names every ID number and the evidence that they are one person.

use crate::intern::Text;
use super::RuleDef;
use crate::finding::{Family, FlagSubject};
use super::common::{
    cite, group_flag, sort_group_flags, sum_amount, yuan_en, yuan_zh,
};
use super::{Flag, RuleContext};
use rayon::prelude::*;

pub const RULE_ID: &str = "multi_id";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "一人多个身份证号",
    title_en: "one person, several ID numbers",
    family: Family::Identity,
    subject: FlagSubject::Person,
    needs: &[],
    run,
};

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    let persons = &ctx.resolved.persons;
    let groups = persons.groups();
    if groups.is_empty() {
        return Vec::new();
    }
    // Judged claims of the ID numbers of persons with several, by group.
    let mut in_group: Vec<u32> = vec![u32::MAX; snap.ids.len()];
    for (g, group) in groups.iter().enumerate() {
        for &p in &group.ids {
            in_group[p as usize] = g as u32;
        }
    }
    let mut keyed: Vec<(u32, u32)> = snap
        .claims
        .par_iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let g = in_group[c.person as usize];
            (g != u32::MAX && ctx.is_judged(i)).then_some((g, i as u32))
        })
        .collect();
    keyed.par_sort_unstable();
    let runs: Vec<&[(u32, u32)]> = keyed.chunk_by(|a, b| a.0 == b.0).collect();

    let mut flags: Vec<Flag> = runs
        .into_par_iter()
        .filter_map(|run| {
            let group = &groups[run[0].0 as usize];
            let claims: Vec<u32> = run.iter().map(|k| k.1).collect();
            // Only ID numbers that claimed make a person claim under several.
            let mut used: Vec<u32> = claims.iter().map(|&i| snap.claims[i as usize].person).collect();
            used.sort_unstable();
            used.dedup();
            if used.len() < 2 {
                return None;
            }
            let policy = ctx.policy_of_group(&claims)?;
            let ids: Vec<Text> = group.ids.iter().map(|&p| snap.ids.resolve(p)).collect();
            let amount = sum_amount(snap, &claims);
            let source = cite(policy, &policy.identity.clause);
            let zh = format!(
                "同一人使用{}个身份证号（{}）申领，共{}条申领、{}；认定为同一人的依据：{}（{source}）",
                ids.len(),
                ids.join("、"),
                claims.len(),
                yuan_zh(amount),
                persons.why_zh(snap, group),
            );
            let en = format!(
                "One person claimed under {} ID numbers ({}); {} claims, {}; one person because: {} ({source})",
                ids.len(),
                ids.join(", "),
                claims.len(),
                yuan_en(amount),
                persons.why_en(snap, group),
            );
            let subject = ids[0].to_string();
            Some(group_flag(ctx, RULE_ID, FlagSubject::Person, subject, policy, claims, zh, en))
        })
        .collect();
    sort_group_flags(&mut flags);
    flags
}

//! `multi_id`: one real person claiming under several ID numbers (docs/RULES.md). Key =
//! (normalised name, birth date from the ID, phone) over claims with a non-empty phone and a
//! valid birth date; a key with ≥ 2 distinct ID numbers flags every claim with that key, one
//! flag per key (subject: the name and birth date).

use super::common::{
    cite, group_flag, sort_group_flags, sum_amount, yuan_en, yuan_zh, SUBJECT_PERSON,
};
use super::shared_contact::policy_of_latest;
use super::{Flag, RuleContext};
use crate::dates::Date;
use crate::idcode::birth_date;
use crate::names::normalize;
use rayon::prelude::*;
use std::collections::HashMap;

pub const RULE_ID: &str = "multi_id";

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    // Normalise each distinct name once; names normalising to the same spelling share an id.
    let normalized: Vec<String> = (0..snap.names.len() as u32)
        .into_par_iter()
        .map(|n| normalize(snap.names.resolve(n)))
        .collect();
    let mut spelling_id: HashMap<&str, u32> = HashMap::new();
    let name_key: Vec<u32> = normalized
        .iter()
        .map(|s| {
            let next = spelling_id.len() as u32;
            *spelling_id.entry(s.as_str()).or_insert(next)
        })
        .collect();
    let empty_spelling = spelling_id.get("").copied();
    let births: Vec<Option<Date>> = (0..snap.ids.len() as u32)
        .into_par_iter()
        .map(|p| birth_date(snap.ids.resolve(p)))
        .collect();

    // (spelling, birth, phone, claim) for every keyed claim, sorted: each key's claims form
    // one run, ascending by claim index.
    let mut keyed: Vec<(u32, Date, u32, u32)> = snap
        .claims
        .par_iter()
        .enumerate()
        .filter_map(|(i, c)| {
            if c.phone == 0 || ctx.policies.for_date(c.date).is_none() {
                return None;
            }
            let spelling = name_key[c.name as usize];
            if Some(spelling) == empty_spelling {
                return None;
            }
            births[c.person as usize].map(|birth| (spelling, birth, c.phone, i as u32))
        })
        .collect();
    keyed.par_sort_unstable();
    let groups: Vec<((u32, Date, u32), Vec<u32>)> = keyed
        .chunk_by(|a, b| (a.0, a.1, a.2) == (b.0, b.1, b.2))
        .filter(|run| run.len() >= 2)
        .map(|run| {
            (
                (run[0].0, run[0].1, run[0].2),
                run.iter().map(|k| k.3).collect(),
            )
        })
        .collect();

    let mut flags: Vec<Flag> = groups
        .into_par_iter()
        .filter_map(|((_, birth, phone), claims)| {
            let mut persons: Vec<u32> = Vec::new();
            for &i in &claims {
                let p = snap.claims[i as usize].person;
                if !persons.contains(&p) {
                    persons.push(p);
                }
            }
            if persons.len() < 2 {
                return None;
            }
            let policy = policy_of_latest(ctx, &claims)?;
            let first = &snap.claims[claims[0] as usize];
            let name = &normalized[first.name as usize];
            let phone = snap.phones.resolve(phone);
            let ids: Vec<&str> = persons.iter().map(|&p| snap.ids.resolve(p)).collect();
            let amount = sum_amount(snap, &claims);
            let source = cite(policy, &policy.identity.clause);
            let zh = format!(
                "姓名 {name}、出生日期 {birth}、联系电话 {phone} 相同的同一人使用了{}个不同身份证号（{}）申领，共{}条申领、{}（{source}）",
                ids.len(),
                ids.join("、"),
                claims.len(),
                yuan_zh(amount)
            );
            let en = format!(
                "One person (name {name}, born {birth}, phone {phone}) claimed under {} different ID numbers ({}); {} claims, {} ({source})",
                ids.len(),
                ids.join(", "),
                claims.len(),
                yuan_en(amount)
            );
            let subject = format!("{name} {birth}");
            Some(group_flag(ctx, RULE_ID, SUBJECT_PERSON, subject, policy, claims, zh, en))
        })
        .collect();
    sort_group_flags(&mut flags);
    flags
}

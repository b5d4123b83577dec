//! `identity_conflict`: one ID number used with names that are not spellings of one name
//! (docs/RULES.md). Every judged claim of such an ID is flagged, one flag per ID.
//!
//! Names are interned in the snapshot, so each distinct name is normalised and turned into
//! pinyin once ([`NameKey`]), in parallel, and only for IDs that carry more than one name.

use super::RuleDef;
use crate::finding::{Family, FlagSubject};
use super::common::{
    cite, group_flag, sort_group_flags, sum_amount, yuan_en, yuan_zh, DenseGroups,
};
use super::{Flag, RuleContext};
use crate::names::NameKey;
use rayon::prelude::*;

pub const RULE_ID: &str = "identity_conflict";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "同一身份证号多个姓名",
    title_en: "one ID number, different names",
    family: Family::Identity,
    subject: FlagSubject::Person,
    needs: &[],
    run,
};

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    let by_person = DenseGroups::build(
        snap.ids.len(),
        |i| ctx.is_judged(i).then_some(snap.claims[i].person),
        snap.claims.len(),
    );

    // Distinct non-empty raw names per person, in order of first claim; keep persons with ≥ 2.
    let candidates: Vec<(u32, Vec<u32>)> = (0..snap.ids.len() as u32)
        .into_par_iter()
        .filter_map(|p| {
            let mut names: Vec<u32> = Vec::new();
            for &i in by_person.members(p) {
                let n = snap.claims[i as usize].name;
                if n != 0 && !names.contains(&n) {
                    names.push(n);
                }
            }
            (names.len() >= 2).then_some((p, names))
        })
        .collect();

    // One NameKey per distinct name that matters.
    let mut needed: Vec<u32> = candidates
        .iter()
        .flat_map(|(_, n)| n.iter().copied())
        .collect();
    needed.sort_unstable();
    needed.dedup();
    let computed: Vec<NameKey> = needed
        .par_iter()
        .map(|&n| NameKey::new(snap.names.resolve(n)))
        .collect();
    let key_of =
        |n: u32| -> &NameKey { &computed[needed.binary_search(&n).expect("name collected above")] };

    let mut flags: Vec<Flag> = candidates
        .into_par_iter()
        .filter_map(|(p, names)| {
            let claims = by_person.members(p);
            let policy = ctx.policy_of_group(claims)?;
            let min_jw = policy.identity.min_jaro_winkler;
            // Distinct spellings after normalisation (names normalising to nothing carry no name).
            let mut distinct: Vec<(u32, &NameKey)> = Vec::new();
            for &n in &names {
                let k = key_of(n);
                if !k.is_empty() && !distinct.iter().any(|(_, d)| d.normalized == k.normalized) {
                    distinct.push((n, k));
                }
            }
            let conflict = distinct.iter().enumerate().find_map(|(i, (na, ka))| {
                distinct[i + 1..]
                    .iter()
                    .find(|(_, kb)| !ka.same_person(kb, min_jw))
                    .map(|(nb, _)| (*na, *nb))
            })?;
            let id = snap.ids.resolve(p);
            let (a, b) = (snap.names.resolve(conflict.0), snap.names.resolve(conflict.1));
            let all: Vec<&str> = names.iter().map(|&n| snap.names.resolve(n)).collect();
            let amount = sum_amount(snap, claims);
            let source = cite(policy, &policy.identity.clause);
            let zh = format!(
                "身份证号 {id} 与不同姓名（{a}、{b}）同时使用，二者既非繁简、全半角写法，也非同音或笔误；该身份证号下的姓名：{}；共{}条申领、{}（{source}）",
                all.join("、"),
                claims.len(),
                yuan_zh(amount)
            );
            let en = format!(
                "ID number {id} is used with different names ({a}, {b}) that are not spellings, homophones or typing variants of one name; names under this ID: {}; {} claims, {} ({source})",
                all.join(", "),
                claims.len(),
                yuan_en(amount)
            );
            Some(group_flag(ctx, RULE_ID, FlagSubject::Person, id.to_string(), policy, claims.to_vec(), zh, en))
        })
        .collect();
    sort_group_flags(&mut flags);
    flags
}

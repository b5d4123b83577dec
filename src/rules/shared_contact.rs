//! `shared_contact`: one phone number or bank account used by more distinct persons than the
//! policy allows (docs/RULES.md). Every claim carrying that phone or account is flagged, one flag
//! per phone or account; a claim may be in a phone flag and a bank flag. Only the claims'
//! own contacts count: institutions' phones are not persons. Persons are resolved persons:
//! one person's several ID numbers on one phone count once (that is `multi_id`, not a shared
//! contact).

use crate::intern::Text;
use super::RuleDef;
use super::RuleParams;
use serde::Deserialize;
use crate::finding::{Family, FlagSubject};
use super::common::{cite, group_flag, sort_group_flags, yuan_en, yuan_zh, DenseGroups};
use super::{Flag, RuleContext};
use crate::policy::Policy;
use crate::snapshot::Snapshot;
use rayon::prelude::*;

pub const RULE_ID: &str = "shared_contact";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "多人共用电话或账号",
    title_en: "phone or account shared by many",
    family: Family::Network,
    subject: FlagSubject::Contact,
    needs: &[],
    run,
};

/// `[shared_contact]`: how many distinct persons one phone or one bank account may carry (also
/// read by the graph: a phone of at most `max_persons_per_phone` persons can be a family's).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedContact {
    pub max_persons_per_phone: u32,
    pub max_persons_per_bank_account: u32,
    pub clause: String,
}

/// This rule's sections of a policy file.
#[derive(Debug, Clone, Deserialize)]
pub struct Params {
    pub shared_contact: SharedContact,
}

impl RuleParams for Params {
    const SECTIONS: &'static [&'static str] = &["shared_contact"];
}
/// Persons spelled out in an explanation; the rest are counted.
const MAX_LISTED: usize = super::common::MAX_LISTED;

#[derive(Clone, Copy)]
enum Contact {
    Phone,
    Bank,
}

impl Contact {
    fn key(self, snap: &Snapshot, i: usize) -> u32 {
        match self {
            Contact::Phone => snap.claims[i].phone,
            Contact::Bank => snap.claims[i].bank,
        }
    }
    fn value(self, snap: &Snapshot, k: u32) -> Text<'_> {
        match self {
            Contact::Phone => snap.phones.resolve(k),
            Contact::Bank => snap.banks.resolve(k),
        }
    }
    fn n_keys(self, snap: &Snapshot) -> usize {
        match self {
            Contact::Phone => snap.phones.len(),
            Contact::Bank => snap.banks.len(),
        }
    }
    fn max(self, p: &Policy) -> u32 {
        match self {
            Contact::Phone => Params::of(p).shared_contact.max_persons_per_phone,
            Contact::Bank => Params::of(p).shared_contact.max_persons_per_bank_account,
        }
    }
    fn subject_prefix(self) -> &'static str {
        match self {
            Contact::Phone => "phone",
            Contact::Bank => "bank_account",
        }
    }
    fn zh(self) -> &'static str {
        match self {
            Contact::Phone => "联系电话",
            Contact::Bank => "银行账号",
        }
    }
    fn en(self) -> &'static str {
        match self {
            Contact::Phone => "phone",
            Contact::Bank => "bank account",
        }
    }
}

fn flags_for(ctx: &RuleContext, contact: Contact) -> Vec<Flag> {
    let snap = ctx.snap;
    // Claims outside every policy are not judged; empty contacts (id 0) are absent values.
    let groups = DenseGroups::build(
        contact.n_keys(snap),
        |i| {
            let k = contact.key(snap, i);
            (k != 0 && ctx.is_judged(i)).then_some(k)
        },
        snap.claims.len(),
    );
    // No policy allows fewer persons than this: a contact of at most this many persons (most
    // are one person's, on all their claims) is passed over before its policy is looked up.
    let least_max = ctx
        .policies
        .policies
        .iter()
        .map(|p| contact.max(p) as usize)
        .min()
        .unwrap_or(0);
    (1..contact.n_keys(snap) as u32)
        .into_par_iter()
        .filter_map(|k| {
            let claims = groups.members(k);
            if claims.len() < 2 {
                return None;
            }
            // Resolved persons in order of their first claim here, for a readable explanation.
            let persons = distinct_in_order(claims.iter().map(|&i| ctx.person_of(i as usize)));
            if persons.len() <= least_max {
                return None;
            }
            let policy = ctx.policy_of_group(claims)?;
            let max = contact.max(policy) as usize;
            if persons.len() <= max {
                return None;
            }
            let mut ids: Vec<u32> = claims.iter().map(|&i| snap.claims[i as usize].person).collect();
            ids.sort_unstable();
            ids.dedup();
            let (ids_zh, ids_en) = if ids.len() > persons.len() {
                (
                    format!("，{}个身份证号按人合计", ids.len()),
                    format!("; {} ID numbers counted as persons", ids.len()),
                )
            } else {
                (String::new(), String::new())
            };
            let value = contact.value(snap, k);
            let amount = super::common::sum_amount(snap, claims);
            let shown: Vec<Text> = persons.iter().take(MAX_LISTED).map(|&p| snap.ids.resolve(p)).collect();
            let more = if persons.len() > shown.len() { "…" } else { "" };
            let source = cite(policy, &Params::of(policy).shared_contact.clause);
            let zh = format!(
                "{} {value} 被{}个不同的人（身份证号 {}{more}{ids_zh}）共用，涉及{}条申领、{}（上限{max}人；{source}）",
                contact.zh(),
                persons.len(),
                shown.join("、"),
                claims.len(),
                yuan_zh(amount),
            );
            let en = format!(
                "{} {value} is shared by {} different persons (ID numbers {}{more}{ids_en}) on {} claims, {} (at most {max} persons; {source})",
                contact.en(),
                persons.len(),
                shown.join(", "),
                claims.len(),
                yuan_en(amount),
            );
            let subject = format!("{}:{}", contact.subject_prefix(), value);
            Some(group_flag(ctx, RULE_ID, FlagSubject::Contact, subject, policy, claims.to_vec(), zh, en))
        })
        .collect()
}

/// The distinct values of `values`, in order of first appearance (a linear scan for the few
/// persons of a typical contact, a set beyond).
fn distinct_in_order(values: impl Iterator<Item = u32>) -> Vec<u32> {
    const SCAN: usize = 16;
    let mut out: Vec<u32> = Vec::new();
    let mut seen: Option<std::collections::HashSet<u32>> = None;
    for v in values {
        let new = match &mut seen {
            Some(set) => set.insert(v),
            None => !out.contains(&v),
        };
        if new {
            out.push(v);
            if out.len() == SCAN && seen.is_none() {
                seen = Some(out.iter().copied().collect());
            }
        }
    }
    out
}

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let mut flags = flags_for(ctx, Contact::Phone);
    flags.extend(flags_for(ctx, Contact::Bank));
    // Order by the claims concerned (claim-id order), never by interning order.
    sort_group_flags(&mut flags);
    flags
}

#[cfg(test)]
mod tests {
    use super::distinct_in_order;

    #[test]
    fn distinct_values_keep_their_first_order_below_and_beyond_the_scan() {
        assert_eq!(distinct_in_order([5, 3, 5, 1, 3].into_iter()), vec![5, 3, 1]);
        // 40 values, each twice, in a shuffled order: the set takes over after 16 distinct.
        let values: Vec<u32> = (0..80u32).map(|i| (i * 37) % 40).collect();
        let mut expected = Vec::new();
        for &v in &values {
            if !expected.contains(&v) {
                expected.push(v);
            }
        }
        assert_eq!(distinct_in_order(values.into_iter()), expected);
        assert_eq!(expected.len(), 40);
    }
}

//! `shared_contact`: one phone number or bank account used by more distinct persons than the
//! policy allows (docs/RULES.md). Every claim carrying that phone or account is flagged, one flag
//! per phone or account; a claim may be in a phone flag and a bank flag. Only the claims'
//! own contacts count: institutions' phones are not persons.

use super::{Flag, RuleContext};
use crate::model::fen_to_yuan;
use crate::policy::Policy;
use crate::snapshot::Snapshot;
use rayon::prelude::*;

pub const RULE_ID: &str = "shared_contact";

/// Claim indices grouped by a dense key (CSR): `members(k)` lists, ascending, the claims whose
/// key is `k`. Claims whose key is `None` are left out.
pub(crate) struct ClaimGroups {
    offsets: Vec<u32>,
    claims: Vec<u32>,
}

impl ClaimGroups {
    pub(crate) fn build(
        n_keys: usize,
        keys: impl Iterator<Item = Option<u32>> + Clone,
    ) -> ClaimGroups {
        let mut offsets = vec![0u32; n_keys + 1];
        for k in keys.clone().flatten() {
            offsets[k as usize + 1] += 1;
        }
        for i in 0..n_keys {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut claims = vec![0u32; offsets[n_keys] as usize];
        for (i, k) in keys.enumerate() {
            if let Some(k) = k {
                let slot = &mut fill[k as usize];
                claims[*slot as usize] = i as u32;
                *slot += 1;
            }
        }
        ClaimGroups { offsets, claims }
    }

    pub(crate) fn keys(&self) -> usize {
        self.offsets.len() - 1
    }

    pub(crate) fn members(&self, k: usize) -> &[u32] {
        &self.claims[self.offsets[k] as usize..self.offsets[k + 1] as usize]
    }
}

/// The policy judging a group of claims: the one in force on its latest judged claim.
pub(crate) fn policy_of_latest<'p>(ctx: &RuleContext<'p>, claims: &[u32]) -> Option<&'p Policy> {
    let snap = ctx.snap;
    claims
        .iter()
        .map(|&i| snap.claims[i as usize].date)
        .max()
        .and_then(|d| ctx.policies.for_date(d))
}

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
    fn value(self, snap: &Snapshot, k: u32) -> &str {
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
            Contact::Phone => p.shared_contact.max_persons_per_phone,
            Contact::Bank => p.shared_contact.max_persons_per_bank_account,
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
    let keys = (0..snap.claims.len()).map(|i| {
        let k = contact.key(snap, i);
        (k != 0 && ctx.policies.for_date(snap.claims[i].date).is_some()).then_some(k)
    });
    let groups = ClaimGroups::build(contact.n_keys(snap), keys);
    (1..groups.keys())
        .into_par_iter()
        .filter_map(|k| {
            let claims = groups.members(k);
            if claims.len() < 2 {
                return None;
            }
            let policy = policy_of_latest(ctx, claims)?;
            let max = contact.max(policy) as usize;
            let mut persons: Vec<u32> = claims.iter().map(|&i| snap.claims[i as usize].person).collect();
            // Persons in order of their first claim here, for a readable explanation.
            let mut seen = std::collections::HashSet::new();
            persons.retain(|p| seen.insert(*p));
            if persons.len() <= max {
                return None;
            }
            let value = contact.value(snap, k as u32);
            let amount: i64 = claims.iter().map(|&i| snap.claims[i as usize].amount).sum();
            let shown: Vec<&str> = persons.iter().take(5).map(|&p| snap.ids.resolve(p)).collect();
            let more = if persons.len() > shown.len() { "…" } else { "" };
            let clause = &policy.shared_contact.clause;
            Some(Flag {
                rule: RULE_ID,
                subject_kind: "contact",
                subject: format!("{}:{}", contact.subject_prefix(), value),
                claims: claims.to_vec(),
                amount_at_risk: amount,
                severity: policy.severity_of(RULE_ID),
                explanation_zh: format!(
                    "{} {} 被{}个不同身份证号（{}{}）共用，超过政策上限{}人；涉及{}条申领、金额{}元。依据：{}",
                    contact.zh(),
                    value,
                    persons.len(),
                    shown.join("、"),
                    more,
                    max,
                    claims.len(),
                    fen_to_yuan(amount),
                    clause
                ),
                explanation_en: format!(
                    "{} {} is shared by {} different ID numbers ({}{}), more than the policy maximum of {}; {} claims, {} yuan. Policy: {}",
                    contact.en(),
                    value,
                    persons.len(),
                    shown.join(", "),
                    more,
                    max,
                    claims.len(),
                    fen_to_yuan(amount),
                    clause
                ),
            })
        })
        .collect()
}

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let mut flags = flags_for(ctx, Contact::Phone);
    flags.extend(flags_for(ctx, Contact::Bank));
    // Order by the claims concerned (claim-id order), never by interning order.
    flags.sort_by(|a, b| {
        a.claims
            .cmp(&b.claims)
            .then_with(|| a.subject.cmp(&b.subject))
    });
    flags
}

//! Helpers shared by the deterministic rules: which policy judges a claim, how claims are
//! grouped (sort-based and dense CSR groupings over snapshot ids), how flags are built, and how
//! explanations are worded so that every rule reads alike in Chinese and English.
//!
//! Explanation style: the facts first (ID number, claim ids, dates, amounts in yuan), then the
//! limit and its source in brackets: `（上限3次；临政办发〔2019〕13号 七（三）7：…）`. English
//! explanations quote the same numbers and the clause text as written in the policy file.

use super::{Flag, FlagSubject, RuleContext};
use crate::dates::Date;
use crate::intern::Text;
use crate::model::{fen_to_yuan, level, Fen, SubsidyType};
use crate::policy::Policy;
use crate::snapshot::{Snapshot, NONE};
use rayon::prelude::*;

/// Runs a per-claim check over every judged claim in parallel; flags come back in claim index
/// order (rayon's indexed collect keeps order, so the result is independent of thread count).
pub fn per_claim<F>(ctx: &RuleContext, check: F) -> Vec<Flag>
where
    F: Fn(usize, &Policy) -> Option<Flag> + Sync,
{
    per_claim_indexed(ctx, |i, _, p| check(i, p))
}

/// `per_claim`, also passing the position of the judging policy in `PolicySet::policies`.
pub fn per_claim_indexed<F>(ctx: &RuleContext, check: F) -> Vec<Flag>
where
    F: Fn(usize, usize, &Policy) -> Option<Flag> + Sync,
{
    let all = &ctx.policies.policies;
    (0..ctx.snap.claims.len())
        .into_par_iter()
        .filter_map(|i| {
            let at = ctx.resolved.judging.position(i)?;
            check(i, at, &all[at])
        })
        .collect()
}

/// A flag on one claim: subject = its claim id, amount at risk = its amount.
pub fn claim_flag(
    ctx: &RuleContext,
    rule: &'static str,
    policy: &Policy,
    claim: usize,
    explanation_zh: String,
    explanation_en: String,
) -> Flag {
    Flag {
        rule,
        subject_kind: FlagSubject::Claim,
        subject: ctx.snap.claim_id(claim).to_string(),
        claims: vec![claim as u32],
        amount_at_risk: ctx.snap.claims[claim].amount,
        severity: policy.severity_of(rule),
        explanation_zh: fit(explanation_zh),
        explanation_en: fit(explanation_en),
    }
}

/// `text` in an allocation of its own length. `format!` reserves by a guess (twice its
/// literal text), so an explanation holds about half again its length until its flag is
/// stored, while a rule's flags wait (1 M claims: 153 MB held for 105 MB of text). It is
/// copied, not shrunk in place: the allocator keeps a block shrunk by less than half.
fn fit(text: String) -> String {
    if text.capacity() == text.len() {
        text
    } else {
        String::from(text.as_str())
    }
}

/// A flag on a group of claims (person, person-year, project); `claims` are sorted and
/// deduplicated here, amount at risk = the sum of their amounts.
#[allow(clippy::too_many_arguments)]
pub fn group_flag(
    ctx: &RuleContext,
    rule: &'static str,
    subject_kind: FlagSubject,
    subject: String,
    policy: &Policy,
    mut claims: Vec<u32>,
    explanation_zh: String,
    explanation_en: String,
) -> Flag {
    claims.sort_unstable();
    claims.dedup();
    Flag {
        rule,
        subject_kind,
        subject,
        amount_at_risk: sum_amount(ctx.snap, &claims),
        claims,
        severity: policy.severity_of(rule),
        explanation_zh: fit(explanation_zh),
        explanation_en: fit(explanation_en),
    }
}

/// Sum of the `amount` of the given claims, in fen.
pub fn sum_amount(snap: &Snapshot, claims: &[u32]) -> Fen {
    claims.iter().map(|&i| snap.claims[i as usize].amount).sum()
}

/// Flags of group rules are emitted ordered by their first (smallest) claim index, then
/// subject: a total order that depends only on the snapshot.
pub fn sort_group_flags(flags: &mut [Flag]) {
    flags.sort_by(|a, b| (a.claims.first(), &a.subject).cmp(&(b.claims.first(), &b.subject)));
}

// ---- groupings -----------------------------------------------------------------------------

/// A judged claim keyed for person-year grouping (`person`: the resolved person); the derived
/// order (person, year, date, claim) is the contract's (person, claim_date, claim_id) order
/// within a person's year, since claim index order is claim id order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PersonDated {
    pub person: u32,
    pub year: i32,
    pub date: Date,
    pub claim: u32,
}

/// Splits a sorted slice into maximal runs of equal key.
pub fn runs<'a, T, K: PartialEq>(
    items: &'a [T],
    key: impl Fn(&T) -> K + 'a,
) -> impl Iterator<Item = &'a [T]> + 'a {
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let k = key(&rest[0]);
        let n = rest.iter().position(|x| key(x) != k).unwrap_or(rest.len());
        let (run, tail) = rest.split_at(n);
        rest = tail;
        Some(run)
    })
}

pub use crate::snapshot::DenseGroups;

/// The class of a claim, if the claim names one that is in `classes`.
pub fn class_of_claim(snap: &Snapshot, claim: usize) -> Option<&crate::snapshot::Class> {
    let key = snap.claims[claim].class;
    if key == 0 {
        return None;
    }
    match snap.class_of_key.get(key as usize) {
        Some(&i) if i != NONE => Some(&snap.classes[i as usize]),
        _ => None,
    }
}

/// The policy judging a project: the one in force at its class's start, else on its
/// `check_date`, else at its earliest claim's training (`resolve::judging`).
pub fn policy_of_project<'p>(
    ctx: &RuleContext<'p>,
    project: &crate::snapshot::Project,
    claims: &[u32],
) -> Option<&'p Policy> {
    ctx.resolved
        .judging
        .policy_of_project(ctx.snap, ctx.policies, project, claims)
}

// ---- explanation wording -------------------------------------------------------------------

/// `临政办发〔2019〕13号 七（三）7：…` — the document and the clause, as the policy file has them.
pub fn cite(policy: &Policy, clause: &str) -> String {
    format!("{} {}", policy.policy.document, clause)
}

/// Amount in yuan with the unit: `1000.01元`.
pub fn yuan_zh(f: Fen) -> String {
    format!("{}元", fen_to_yuan(f))
}

/// Amount in yuan with the unit: `1000.01 yuan`.
pub fn yuan_en(f: Fen) -> String {
    format!("{} yuan", fen_to_yuan(f))
}

/// English ordinal: 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st …
pub fn ordinal_en(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// `初级（5级）`; empty level → `无等级`.
pub fn level_zh(l: u8) -> String {
    if l == 0 {
        "无等级".to_string()
    } else {
        format!("{}（{}级）", level::zh(l), l)
    }
}

/// `level 5`; empty level → `no level`.
pub fn level_en(l: u8) -> String {
    if l == 0 {
        "no level".to_string()
    } else {
        format!("level {l}")
    }
}

/// Chinese label of a subsidy type, `未填` when absent.
pub fn subsidy_zh(t: Option<SubsidyType>) -> &'static str {
    t.map_or("未填", |t| t.zh())
}

/// English code of a subsidy type, `(empty)` when absent.
pub fn subsidy_en(t: Option<SubsidyType>) -> &'static str {
    t.map_or("(empty)", |t| t.code())
}

/// Joins the claim ids of the given claims with `、` (Chinese lists).
pub fn claim_ids_zh(snap: &Snapshot, claims: &[u32]) -> String {
    join_claim_ids(snap, claims, "、")
}

/// Joins the claim ids of the given claims with `, ` (English lists).
pub fn claim_ids_en(snap: &Snapshot, claims: &[u32]) -> String {
    join_claim_ids(snap, claims, ", ")
}

/// At most this many items are spelled out in an explanation; the rest are counted.
pub const MAX_LISTED: usize = 10;

fn join_claim_ids(snap: &Snapshot, claims: &[u32], sep: &str) -> String {
    let mut s = claims
        .iter()
        .take(MAX_LISTED)
        .map(|&i| snap.claim_id(i as usize))
        .collect::<Vec<_>>()
        .join(sep);
    if claims.len() > MAX_LISTED {
        let more = claims.len() - MAX_LISTED;
        if sep == "、" {
            s.push_str(&format!("等（另{more}条）"));
        } else {
            s.push_str(&format!(" and {more} more"));
        }
    }
    s
}

/// The ID number of a person id (`ids` interner).
pub fn id_number(snap: &Snapshot, person: u32) -> Text<'_> {
    snap.ids.resolve(person)
}

/// `claim C1 (2020-03-05)` / `申领编号 C1（2020-03-05）` fragments.
pub fn claim_ref_zh(snap: &Snapshot, claim: u32) -> String {
    format!(
        "{}（{}）",
        snap.claim_id(claim as usize),
        snap.claims[claim as usize].date
    )
}

pub fn claim_ref_en(snap: &Snapshot, claim: u32) -> String {
    format!(
        "{} ({})",
        snap.claim_id(claim as usize),
        snap.claims[claim as usize].date
    )
}

/// Display of an optional date: the date or `未填` / `(empty)`.
pub fn opt_date_zh(d: Option<Date>) -> String {
    d.map_or_else(|| "未填".to_string(), |d| d.to_string())
}

pub fn opt_date_en(d: Option<Date>) -> String {
    d.map_or_else(|| "(empty)".to_string(), |d| d.to_string())
}

/// Percentage with two decimals of `num / den` for explanations only (decisions are made on
/// integers): `85.00%`.
pub fn percent(num: i64, den: i64) -> String {
    if den == 0 {
        return "—".to_string();
    }
    // Rounded to hundredths of a percent in integer arithmetic.
    let bp = (num as i128 * 10_000 * 2 + den as i128) / (den as i128 * 2);
    format!("{}.{:02}%", bp / 100, (bp % 100).abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_and_percentages_read_right() {
        let got: Vec<_> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101]
            .iter()
            .map(|&n| ordinal_en(n))
            .collect();
        assert_eq!(
            got,
            ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st"]
        );
        assert_eq!(percent(85, 100), "85.00%");
        assert_eq!(percent(2, 3), "66.67%");
        assert_eq!(percent(1, 0), "—");
    }

    #[test]
    fn runs_split_on_key_changes() {
        let v = [1, 1, 2, 3, 3, 3];
        let r: Vec<_> = runs(&v, |x| *x).map(|s| s.len()).collect();
        assert_eq!(r, [2, 1, 3]);
        assert_eq!(runs(&[] as &[i32], |x| *x).count(), 0);
    }

    #[test]
    fn levels_are_named() {
        assert_eq!(level_zh(5), "初级（5级）");
        assert_eq!(level_zh(0), "无等级");
        assert_eq!(level_en(2), "level 2");
    }
}

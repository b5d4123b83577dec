//! Money at risk, defined once and used by every output (`docs/RULES.md`, "Money at risk").
//!
//! - A **flag** puts its rule's amount at risk (`flags.amount_at_risk_fen`).
//! - A flag's **share** of one of its claims is the flag's amount spread over its claims in
//!   proportion to what each paid (amount + living allowance), the remainder of the integer
//!   division going to the last claim, so the shares add up to the flag's amount.
//! - A claim's amount **under a rule** is its largest share among that rule's flags; a
//!   **rule's** amount is the sum over the claims it flagged (each claim once per rule).
//! - A claim's amount at risk is its largest share among all flags; the **distinct total** is
//!   the sum over flagged claims (each claim once, whatever the rules and cases naming it).
//! - Reconciliation: the rules' amounts add up to the distinct total plus the **overlap** (what
//!   claims flagged by several rules add beyond their largest share). The same holds for
//!   cases (`cases::group`): the cases' amounts add up to the distinct total plus what claims
//!   in several cases add.

use crate::model::{fen_to_yuan, Fen};
use crate::text::Lang;
use hashbrown::HashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::hash::Hash;

/// Spreads `amount` over claims in proportion to what each `paid` (equal parts when nothing
/// was paid); the remainder of the integer division goes to the last claim, so the shares add
/// up to `amount`.
pub fn spread_into(amount: Fen, paid: &[Fen], shares: &mut Vec<Fen>) {
    shares.clear();
    if paid.is_empty() {
        return;
    }
    let total: i128 = paid.iter().map(|&p| p.max(0) as i128).sum();
    if total == 0 {
        shares.resize(paid.len(), amount / paid.len() as Fen);
    } else {
        shares.extend(
            paid.iter()
                .map(|&p| ((amount as i128 * p.max(0) as i128) / total) as Fen),
        );
    }
    let given: Fen = shares.iter().sum();
    if let Some(last) = shares.last_mut() {
        *last += amount - given;
    }
}

/// What one rule put at risk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMoney {
    /// Distinct claims the rule flagged.
    pub claims: u64,
    /// The sum of those claims' amounts under the rule.
    pub amount_fen: Fen,
}

/// The totals of a sweep's flags, reconciled: `rules_sum_fen - overlap_fen == distinct_fen`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagTotals {
    /// The sum of the rules' amounts (a claim flagged by several rules counts under each).
    pub rules_sum_fen: Fen,
    /// What claims flagged by several rules add beyond their largest share.
    pub overlap_fen: Fen,
    /// Each flagged claim once, at its largest share.
    pub distinct_fen: Fen,
    /// Distinct claims flagged by any rule.
    pub distinct_claims: u64,
}

/// The totals of a sweep's cases, reconciled: `cases_sum_fen - overlap_fen == distinct_fen`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseTotals {
    /// The sum of the cases' amounts (a claim in several cases counts in each).
    pub cases_sum_fen: Fen,
    /// What claims in several cases add beyond their largest share.
    pub overlap_fen: Fen,
    /// Each claim of any case once, at its largest share (the flags' distinct total).
    pub distinct_fen: Fen,
}

impl FlagTotals {
    /// The reconciliation as readers see it: rules' sum − overlap = distinct total.
    pub fn reconciliation(&self, lang: Lang) -> String {
        let y = fen_to_yuan;
        match lang {
            Lang::Zh => format!(
                "各规则合计 {} 元 − 多条规则重复计入 {} 元 = 涉及金额（去重）{} 元",
                y(self.rules_sum_fen),
                y(self.overlap_fen),
                y(self.distinct_fen)
            ),
            Lang::En => format!(
                "rules' sum {} − counted under several rules {} = {} yuan at risk (distinct)",
                y(self.rules_sum_fen),
                y(self.overlap_fen),
                y(self.distinct_fen)
            ),
        }
    }
}

impl CaseTotals {
    /// The reconciliation as readers see it: cases' sum − overlap = distinct total.
    pub fn reconciliation(&self, lang: Lang) -> String {
        let y = fen_to_yuan;
        match lang {
            Lang::Zh => format!(
                "案件金额合计 {} 元 − 同一申领在多件案件中重复计入 {} 元 = 涉及金额（去重）{} 元",
                y(self.cases_sum_fen),
                y(self.overlap_fen),
                y(self.distinct_fen)
            ),
            Lang::En => format!(
                "cases' sum {} − claims in several cases {} = {} yuan at risk (distinct)",
                y(self.cases_sum_fen),
                y(self.overlap_fen),
                y(self.distinct_fen)
            ),
        }
    }
}

/// Shares of claims (keyed by `K`) under each rule, gathered flag by flag.
#[derive(Clone, Debug)]
pub struct AtRisk<K> {
    by_rule: BTreeMap<String, HashMap<K, Fen>>,
    shares: Vec<Fen>,
}

impl<K> Default for AtRisk<K> {
    fn default() -> Self {
        AtRisk {
            by_rule: BTreeMap::new(),
            shares: Vec::new(),
        }
    }
}

impl<K: Copy + Eq + Hash> AtRisk<K> {
    pub fn new() -> Self {
        Self::default()
    }

    /// One flag of `rule` over `claims` (with what each `paid`) putting `amount` at risk.
    pub fn add_flag(&mut self, rule: &str, claims: &[K], paid: &[Fen], amount: Fen) {
        debug_assert_eq!(claims.len(), paid.len());
        spread_into(amount, paid, &mut self.shares);
        let per_claim = match self.by_rule.get_mut(rule) {
            Some(m) => m,
            None => self.by_rule.entry(rule.to_string()).or_default(),
        };
        for (&c, &s) in claims.iter().zip(&self.shares) {
            let e = per_claim.entry(c).or_insert(s);
            *e = (*e).max(s);
        }
    }

    /// What each rule put at risk, by rule id.
    pub fn rules(&self) -> BTreeMap<&str, RuleMoney> {
        self.by_rule
            .iter()
            .map(|(rule, m)| {
                (
                    rule.as_str(),
                    RuleMoney {
                        claims: m.len() as u64,
                        amount_fen: m.values().sum(),
                    },
                )
            })
            .collect()
    }

    /// The claims' amounts at risk under `rule` (empty when it flagged nothing).
    pub fn of_rule(&self, rule: &str) -> Option<&HashMap<K, Fen>> {
        self.by_rule.get(rule)
    }

    /// Each flagged claim's amount at risk: its largest share under any rule.
    pub fn of_claims(&self) -> HashMap<K, Fen> {
        let mut out: HashMap<K, Fen> = HashMap::new();
        for m in self.by_rule.values() {
            for (&c, &s) in m {
                let e = out.entry(c).or_insert(s);
                *e = (*e).max(s);
            }
        }
        out
    }

    /// The reconciled totals.
    pub fn totals(&self) -> FlagTotals {
        let of_claims = self.of_claims();
        let rules_sum_fen: Fen = self.by_rule.values().flat_map(|m| m.values()).sum();
        let distinct_fen: Fen = of_claims.values().sum();
        FlagTotals {
            rules_sum_fen,
            overlap_fen: rules_sum_fen - distinct_fen,
            distinct_fen,
            distinct_claims: of_claims.len() as u64,
        }
    }
}

/// Reconciles case amounts: `rows` are (case, claim, the claim's amount in the case).
pub fn case_totals<C: Copy + Eq + Hash, K: Copy + Eq + Hash>(
    rows: impl Iterator<Item = (C, K, Fen)>,
) -> CaseTotals {
    let mut sum: Fen = 0;
    let mut largest: HashMap<K, Fen> = HashMap::new();
    for (_, k, s) in rows {
        sum += s;
        let e = largest.entry(k).or_insert(s);
        *e = (*e).max(s);
    }
    let distinct: Fen = largest.values().sum();
    CaseTotals {
        cases_sum_fen: sum,
        overlap_fen: sum - distinct,
        distinct_fen: distinct,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_follow_payments_and_add_up() {
        let mut s = Vec::new();
        spread_into(1000, &[100, 300], &mut s);
        assert_eq!(s, vec![250, 750]);
        spread_into(1000, &[1, 1, 1], &mut s);
        assert_eq!(s, vec![333, 333, 334]);
        spread_into(900, &[0, 0, 0], &mut s);
        assert_eq!(s, vec![300, 300, 300]);
    }

    #[test]
    fn a_claim_counts_once_per_rule_and_once_in_the_distinct_total() {
        let mut r: AtRisk<u32> = AtRisk::new();
        // Two flags of one rule name claim 1: it counts once, at its larger share.
        r.add_flag("living_allowance_excess", &[1], &[1000], 200);
        r.add_flag("living_allowance_excess", &[1], &[1000], 300);
        // Another rule flags claims 1 and 2.
        r.add_flag("over_cap", &[1, 2], &[1000, 1000], 2000);
        let rules = r.rules();
        assert_eq!(rules["living_allowance_excess"].amount_fen, 300);
        assert_eq!(rules["over_cap"].amount_fen, 2000);
        let t = r.totals();
        assert_eq!(t.rules_sum_fen, 2300);
        assert_eq!(t.distinct_fen, 2000);
        assert_eq!(t.overlap_fen, 300);
        assert_eq!(t.distinct_claims, 2);
        assert_eq!(t.rules_sum_fen - t.overlap_fen, t.distinct_fen);
    }

    #[test]
    fn cases_reconcile_to_their_distinct_total() {
        let t = case_totals([(1u32, 7u32, 500), (2, 7, 800), (2, 8, 100)].into_iter());
        assert_eq!(
            t,
            CaseTotals {
                cases_sum_fen: 1400,
                overlap_fen: 500,
                distinct_fen: 900
            }
        );
    }
}

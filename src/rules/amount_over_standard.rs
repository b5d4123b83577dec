//! `amount_over_standard`: a claim paid above the policy's cap for its subsidy type and level
//! (临政办发〔2019〕13号 七（三）7). The cap is [`Params::amount_cap`]: the entry for that type
//! and level, else the entry for that type without level; a type with no entry is not checked.
//! Exactly at the cap is within the standard.

use super::RuleDef;
use crate::finding::{Family, FlagSubject};
use super::common::*;
use super::{Flag, RuleContext, RuleParams};
use crate::model::{Fen, SubsidyType};
use crate::policy::{Policy, PolicyError};
use serde::Deserialize;

pub const RULE_ID: &str = "amount_over_standard";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "超过补贴标准",
    title_en: "amount above the standard",
    family: Family::Eligibility,
    subject: FlagSubject::Claim,
    needs: &[],
    run,
};

/// One `[[amount_caps]]` entry: the most a claim of a subsidy type (and level) may be paid.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountCap {
    pub subsidy_type: String,
    /// 1..=5; absent: every level of the type.
    pub level: Option<u8>,
    /// yuan
    pub cap: u32,
    pub clause: String,
}

/// `[apprenticeship]`: the yearly floor of the apprenticeship subsidy. A floor, not a cap: this
/// rule never flags it (amounts below it are a data-quality note); the generator pays it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Apprenticeship {
    /// yuan per year
    pub floor_per_year: u32,
    pub clause: String,
}

/// This rule's sections of a policy file: the amount standards.
#[derive(Debug, Clone, Deserialize)]
pub struct Params {
    pub amount_caps: Vec<AmountCap>,
    pub apprenticeship: Apprenticeship,
}

impl RuleParams for Params {
    const SECTIONS: &'static [&'static str] = &["amount_caps", "apprenticeship"];

    fn check(&self, policy: &Policy) -> Result<(), PolicyError> {
        // One cap per subsidy type and level: a second entry would silently lose to the first.
        let mut seen_caps: Vec<(&str, Option<u8>)> = Vec::new();
        for (k, cap) in self.amount_caps.iter().enumerate() {
            let key = (cap.subsidy_type.as_str(), cap.level);
            if seen_caps.contains(&key) {
                return Err(policy.invalid(
                    policy.array_entry_line("amount_caps", k),
                    format!(
                        "amount_caps: a second entry for subsidy_type {:?} level {:?}",
                        cap.subsidy_type, cap.level
                    ),
                ));
            }
            seen_caps.push(key);
        }
        for cap in &self.amount_caps {
            if SubsidyType::parse(&cap.subsidy_type).is_none() {
                return Err(policy.invalid(
                    policy.line_of(&format!("subsidy_type = \"{}\"", cap.subsidy_type)),
                    format!("unknown subsidy_type {:?}", cap.subsidy_type),
                ));
            }
            if let Some(l) = cap.level {
                if !(1..=5).contains(&l) {
                    return Err(policy.invalid(
                        policy.line_of("level"),
                        format!("level {l} is not 1..=5"),
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Params {
    /// The cap in fen for a subsidy type and level, if the policy sets one.
    /// A cap given without a level applies to every level of that type.
    pub fn amount_cap(&self, t: SubsidyType, level: Option<u8>) -> Option<(i64, &str)> {
        let exact = self.amount_caps.iter().find(|c| {
            SubsidyType::parse(&c.subsidy_type) == Some(t) && c.level.is_some() && c.level == level
        });
        let any = || {
            self.amount_caps
                .iter()
                .find(|c| SubsidyType::parse(&c.subsidy_type) == Some(t) && c.level.is_none())
        };
        exact
            .or_else(any)
            .map(|c| (c.cap as i64 * 100, c.clause.as_str()))
    }
}

/// A policy's amount caps resolved for every (subsidy type, level 0..=5) once, with the same
/// answers as [`Params::amount_cap`] (which parses the type names on every call).
pub struct CapTable<'p> {
    caps: Vec<[Option<(Fen, &'p str)>; 6]>,
}

impl<'p> CapTable<'p> {
    pub fn new(policy: &'p Policy) -> CapTable<'p> {
        let params = Params::of(policy);
        let caps = SubsidyType::ALL
            .iter()
            .map(|&t| {
                std::array::from_fn(|l| params.amount_cap(t, Some(l as u8).filter(|&l| l != 0)))
            })
            .collect();
        CapTable { caps }
    }

    /// Cap in fen and its clause; `level` 0 = none.
    #[inline]
    pub fn get(&self, t: SubsidyType, level: u8) -> Option<(Fen, &'p str)> {
        let ti = SubsidyType::ALL.iter().position(|&x| x == t)?;
        *self.caps[ti].get(level as usize)?
    }
}

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    let tables: Vec<CapTable> = ctx.policies.policies.iter().map(CapTable::new).collect();
    per_claim_indexed(ctx, |i, at, policy| {
        let c = &snap.claims[i];
        let t = c.subsidy_type?;
        let (cap, clause) = tables[at].get(t, c.level)?;
        if c.amount <= cap {
            return None;
        }
        let cite = cite(policy, clause);
        let lvl_zh = if c.level == 0 {
            String::new()
        } else {
            level_zh(c.level)
        };
        let lvl_en = if c.level == 0 {
            String::new()
        } else {
            format!(", {}", level_en(c.level))
        };
        let zh = format!(
            "申领编号 {cid}（{id}，{date}）{tz}{lvl_zh}补贴{amt}，超过标准{cap}，超出{over}（{cite}）",
            cid = snap.claim_id(i),
            id = id_number(snap, c.person),
            date = c.date,
            tz = t.zh(),
            amt = yuan_zh(c.amount),
            cap = yuan_zh(cap),
            over = yuan_zh(c.amount - cap),
        );
        let en = format!(
            "claim {cid} ({id}, {date}): {te}{lvl_en} subsidy of {amt} is above the standard of {cap} by {over} ({cite})",
            cid = snap.claim_id(i),
            id = id_number(snap, c.person),
            date = c.date,
            te = t.code(),
            amt = yuan_en(c.amount),
            cap = yuan_en(cap),
            over = yuan_en(c.amount - cap),
        );
        Some(claim_flag(ctx, RULE_ID, policy, i, zh, en))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySet;

    #[test]
    fn the_linyi_caps() {
        let set = PolicySet::embedded_default();
        let p = Params::of(&set.policies[0]);
        assert_eq!(
            p.amount_cap(SubsidyType::LevelCert, Some(4)).unwrap().0,
            120_000
        );
        assert_eq!(
            p.amount_cap(SubsidyType::NoLevelCert, None).unwrap().0,
            100_000
        );
        assert_eq!(
            p.amount_cap(SubsidyType::GoldenBlueCollar, Some(1))
                .unwrap()
                .0,
            500_000
        );
        assert!(p.amount_cap(SubsidyType::Apprenticeship, None).is_none());
        assert!(p.amount_cap(SubsidyType::LevelCert, Some(1)).is_none());
        assert_eq!(p.apprenticeship.floor_per_year, 4000);
    }

    #[test]
    fn cap_table_answers_like_the_policy() {
        let set = PolicySet::embedded_default();
        let policy = &set.policies[0];
        let p = Params::of(policy);
        let table = CapTable::new(policy);
        for &t in SubsidyType::ALL {
            for l in 0..=5u8 {
                assert_eq!(
                    table.get(t, l),
                    p.amount_cap(t, Some(l).filter(|&l| l != 0)),
                    "{t:?} {l}"
                );
            }
        }
        assert_eq!(
            table.get(SubsidyType::LevelCert, 4).map(|c| c.0),
            Some(120_000)
        );
    }
}

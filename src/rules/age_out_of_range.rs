//! `age_out_of_range`: the person's whole years of age on the claim date (birth date from the
//! ID number) are below `age.min` or above `age.max` of the policy. Only ID numbers whose birth
//! date exists are judged; exactly the minimum or the maximum age is within range.

use super::RuleDef;
use super::RuleParams;
use serde::Deserialize;
use crate::policy::{Policy, PolicyError};
use crate::finding::{Family, FlagSubject};
use super::common::*;
use super::{Flag, RuleContext};
use crate::dates::Date;
use crate::idcode::birth_date;
use rayon::prelude::*;

pub const RULE_ID: &str = "age_out_of_range";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "年龄不符",
    title_en: "age out of range",
    family: Family::Identity,
    subject: FlagSubject::Claim,
    needs: &[],
    run,
};

/// `[age]`: the ages a trainee may have on the claim date, both bounds included.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Age {
    pub min: u32,
    pub max: u32,
    pub clause: String,
}

/// This rule's sections of a policy file.
#[derive(Debug, Clone, Deserialize)]
pub struct Params {
    pub age: Age,
}

impl RuleParams for Params {
    const SECTIONS: &'static [&'static str] = &["age"];

    fn check(&self, policy: &Policy) -> Result<(), PolicyError> {
        if self.age.min > self.age.max {
            return Err(policy.invalid(policy.line_of("[age]"), "age.min is above age.max"));
        }
        Ok(())
    }
}

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    let births: Vec<Option<Date>> = (0..snap.ids.len() as u32)
        .into_par_iter()
        .map(|p| {
            let id = &*snap.ids.resolve(p);
            // Positions 7–14 only mean a birth date in an 18-character number.
            if id.len() == 18 {
                birth_date(id)
            } else {
                None
            }
        })
        .collect();
    per_claim(ctx, |i, policy| {
        let c = &snap.claims[i];
        let birth = births[c.person as usize]?;
        let age = birth.age_on(c.date);
        let age_range = &Params::of(policy).age;
        let (min, max) = (age_range.min as i32, age_range.max as i32);
        if (min..=max).contains(&age) {
            return None;
        }
        let (side_zh, side_en, bound) = if age < min {
            ("低于最低年龄", "below the minimum age", min)
        } else {
            ("高于最高年龄", "above the maximum age", max)
        };
        let cite = cite(policy, &age_range.clause);
        let zh = format!(
            "申领编号 {cid}：{id}（出生日期{birth}）在申领日期{date}年满{age}周岁，{side_zh}{bound}周岁（允许{min}至{max}周岁；{cite}）",
            cid = snap.claim_id(i),
            id = id_number(snap, c.person),
            date = c.date,
        );
        let en = format!(
            "claim {cid}: {id} (born {birth}) was {age} on the claim date {date}, {side_en} of {bound} (allowed {min} to {max}; {cite})",
            cid = snap.claim_id(i),
            id = id_number(snap, c.person),
            date = c.date,
        );
        Some(claim_flag(ctx, RULE_ID, policy, i, zh, en))
    })
}

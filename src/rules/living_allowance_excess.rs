//! `living_allowance_excess`: a living allowance paid beyond the policy (临政办发〔2019〕13号
//! 二（一）): (a) more days than `living_allowance.max_days`; (b) a daily rate above the local
//! minimum-living line (monthly line of the claim's county and year / `days_per_month`), judged
//! in integer fen as `living_amount * days_per_month > living_days * monthly_line` and skipped
//! where no line is known; (c) a category not in `eligible_categories` (empty: not eligible).
//! One flag per claim naming every reason; amount at risk = the living allowance.

use super::RuleDef;
use crate::finding::{Family, FlagSubject};
use super::common::*;
use super::{Flag, RuleContext, RuleParams};
use crate::model::Category;
use crate::policy::{Policy, PolicyError};
use serde::Deserialize;
use crate::model::fen_to_yuan;

pub const RULE_ID: &str = "living_allowance_excess";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "生活费补贴超标",
    title_en: "living allowance over the limit",
    family: Family::Eligibility,
    subject: FlagSubject::Claim,
    needs: &[],
    run,
};

/// `[living_allowance]`: the living allowance paid during training.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LivingAllowance {
    /// Days paid at most.
    pub max_days: u32,
    /// Daily line = the county's monthly minimum-living line of the year / this divisor.
    pub days_per_month: u32,
    /// Person categories that may receive it (`Category` codes).
    pub eligible_categories: Vec<String>,
    pub clause: String,
}

/// This rule's sections of a policy file.
#[derive(Debug, Clone, Deserialize)]
pub struct Params {
    pub living_allowance: LivingAllowance,
}

impl RuleParams for Params {
    const SECTIONS: &'static [&'static str] = &["living_allowance"];

    fn check(&self, policy: &Policy) -> Result<(), PolicyError> {
        for c in &self.living_allowance.eligible_categories {
            if Category::parse(c).is_none() {
                return Err(policy.invalid(
                    policy.line_of("eligible_categories"),
                    format!("unknown category {c:?}"),
                ));
            }
        }
        Ok(())
    }
}

impl Params {
    /// Whether a person category may receive a living allowance.
    pub fn eligible(&self, c: Category) -> bool {
        self.living_allowance
            .eligible_categories
            .iter()
            .any(|e| Category::parse(e) == Some(c))
    }
}

/// The categories a policy's living allowance is for, resolved once.
pub fn category_set(policy: &Policy) -> Vec<Category> {
    let params = Params::of(policy);
    Category::ALL
        .iter()
        .copied()
        .filter(|&c| params.eligible(c))
        .collect()
}

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    let eligible: Vec<_> = ctx.policies.policies.iter().map(category_set).collect();
    per_claim_indexed(ctx, |i, at, policy| {
        let c = &snap.claims[i];
        if c.living_days <= 0 && c.living_amount <= 0 {
            return None;
        }
        let la = &Params::of(policy).living_allowance;
        let mut zh = Vec::new();
        let mut en = Vec::new();
        if c.living_days > la.max_days as i32 {
            zh.push(format!(
                "生活费天数{}天，超过最长{}天",
                c.living_days, la.max_days
            ));
            en.push(format!(
                "{} days, more than the maximum of {} days",
                c.living_days, la.max_days
            ));
        }
        if let Some(&line) = snap.living_lines.get(&(c.county, c.date.year())) {
            let per_month = la.days_per_month as i64;
            if c.living_amount * per_month > c.living_days as i64 * line {
                let county = snap.counties.resolve(c.county);
                let year = c.date.year();
                // Shown rounded to the fen; the decision above is exact.
                let daily_line = fen_to_yuan((line + per_month / 2) / per_month);
                let days = c.living_days.max(0) as i64;
                let daily_paid = if days > 0 {
                    fen_to_yuan((c.living_amount + days / 2) / days)
                } else {
                    "—".into()
                };
                zh.push(format!(
                    "日均{daily_paid}元，高于{county}县区{year}年低保标准每日{daily_line}元（月标准{m}元÷{per_month}）",
                    m = fen_to_yuan(line)
                ));
                en.push(format!(
                    "{daily_paid} yuan a day, above the daily minimum-living line of {daily_line} yuan in county {county}, {year} (monthly {m} yuan / {per_month})",
                    m = fen_to_yuan(line)
                ));
            }
        }
        if !c.category.is_some_and(|cat| eligible[at].contains(&cat)) {
            let eligible_zh = la
                .eligible_categories
                .iter()
                .filter_map(|e| crate::model::Category::parse(e))
                .map(|e| e.zh())
                .collect::<Vec<_>>()
                .join("、");
            let eligible_en = la.eligible_categories.join(", ");
            zh.push(format!(
                "人员类别“{}”不享受生活费补贴（限{eligible_zh}）",
                c.category.map_or("未填", |x| x.zh())
            ));
            en.push(format!(
                "category {} is not eligible (only {eligible_en})",
                c.category.map_or("(empty)", |x| x.code())
            ));
        }
        if zh.is_empty() {
            return None;
        }
        let cite = cite(policy, &la.clause);
        let explanation_zh = format!(
            "申领编号 {cid}（{id}，{date}）生活费补贴{amt}、{days}天：{reasons}（{cite}）",
            cid = snap.claim_id(i),
            id = id_number(snap, c.person),
            date = c.date,
            amt = yuan_zh(c.living_amount),
            days = c.living_days,
            reasons = zh.join("；"),
        );
        let explanation_en = format!(
            "claim {cid} ({id}, {date}): living allowance of {amt} for {days} days: {reasons} ({cite})",
            cid = snap.claim_id(i),
            id = id_number(snap, c.person),
            date = c.date,
            amt = yuan_en(c.living_amount),
            days = c.living_days,
            reasons = en.join("; "),
        );
        let mut flag = claim_flag(ctx, RULE_ID, policy, i, explanation_zh, explanation_en);
        flag.amount_at_risk = c.living_amount;
        Some(flag)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_linyi_categories() {
        let set = crate::policy::PolicySet::embedded_default();
        assert!(category_set(&set.policies[0]).contains(&Category::Poor));
    }
}

//! `employment_rate`: a project-based class paid beyond the prepayment share
//! (`paid * 100 > total * project.prepay_max_percent`) although its verified employment rate is
//! below `project.min_employment_rate_percent` (临政办发〔2019〕13号 七（三）7：就业率达到85%以上
//! 的，全额拨付). Trainees = distinct persons among the class's claims; employed = trainees with
//! an employment spell covering `check_date` (none without a check date). Exactly the threshold
//! passes. All claims of the class are flagged, one flag per project.

use super::RuleDef;
use crate::finding::{Family, FlagSubject};
use super::common::*;
use super::{Flag, RuleContext};
use rayon::prelude::*;

pub const RULE_ID: &str = "employment_rate";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "就业率未达标仍全额拨付",
    title_en: "paid in full below the employment rate",
    family: Family::Project,
    subject: FlagSubject::Project,
    needs: &["projects", "employment"],
    run,
};

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    if !snap.has_table("projects") || !snap.has_table("employment") {
        return Vec::new();
    }
    // Only project classes are looked at.
    let by_class = DenseGroups::by_class_among(snap, snap.projects.iter().map(|p| p.class));
    let mut flags: Vec<Flag> = snap
        .projects
        .par_iter()
        .filter_map(|project| {
            let claims = by_class.members(project.class);
            if claims.is_empty() {
                return None;
            }
            let policy = policy_of_project(ctx, project, claims)?;
            let prepay_pct = policy.project.prepay_max_percent as i128;
            if project.paid as i128 * 100 <= project.total as i128 * prepay_pct {
                return None;
            }
            let mut persons: Vec<u32> = claims.iter().map(|&i| snap.claims[i as usize].person).collect();
            persons.sort_unstable();
            persons.dedup();
            let trainees = persons.len() as i64;
            let employed = match project.check_date {
                Some(d) => persons.iter().filter(|&&p| snap.spells_of(p).iter().any(|s| s.covers(d))).count() as i64,
                None => 0,
            };
            let min_pct = policy.project.min_employment_rate_percent as i64;
            if employed * 100 >= trainees * min_pct {
                return None;
            }
            let class_id = snap.class_keys.resolve(project.class);
            let cite = cite(policy, &policy.project.clause_employment);
            let check_zh = project.check_date.map_or_else(|| "未填就业核验日期".to_string(), |d| format!("{d}核验"));
            let check_en = project.check_date.map_or_else(|| "no check date".to_string(), |d| format!("checked on {d}"));
            let zh = format!(
                "项目制培训班 {class_id}：已拨{paid}，超过项目总额{total}的{prepay_pct}%预拨比例，但{check_zh}在岗参保仅{employed}/{trainees}人，就业率{rate}，低于{min_pct}%（{cite}）",
                paid = yuan_zh(project.paid),
                total = yuan_zh(project.total),
                rate = percent(employed, trainees),
            );
            let en = format!(
                "project-based class {class_id}: paid {paid}, beyond the {prepay_pct}% prepayment share of the {total} total, but only {employed} of {trainees} trainees were employed ({check_en}), a rate of {rate}, below {min_pct}% ({cite})",
                paid = yuan_en(project.paid),
                total = yuan_en(project.total),
                rate = percent(employed, trainees),
            );
            Some(group_flag(ctx, RULE_ID, FlagSubject::Project, class_id.to_string(), policy, claims.to_vec(), zh, en))
        })
        .collect();
    sort_group_flags(&mut flags);
    flags
}

//! `prepay_excess`: a project-based class prepaid more than `project.prepay_max_percent` of its
//! project total (临政办发〔2019〕13号 七（三）7：先行拨付不超过60%). Judged in integer fen as
//! `prepaid * 100 > total * percent`; exactly the share is allowed. All claims of the class are
//! flagged, one flag per project; a project without claims yields no flag.

use super::RuleDef;
use crate::finding::{Family, FlagSubject};
use super::common::*;
use super::{Flag, RuleContext};
use rayon::prelude::*;

pub const RULE_ID: &str = "prepay_excess";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "项目预拨超比例",
    title_en: "project prepayment over the share",
    family: Family::Project,
    subject: FlagSubject::Project,
    needs: &["projects"],
    run,
};

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    if !snap.has_table("projects") {
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
            let pct = policy.project.prepay_max_percent as i64;
            if project.prepaid as i128 * 100 <= project.total as i128 * pct as i128 {
                return None;
            }
            let class_id = snap.class_keys.resolve(project.class);
            let cite = cite(policy, &policy.project.clause_prepay);
            let allowed = project.total * pct / 100;
            let zh = format!(
                "项目制培训班 {class_id}：项目总额{total}，预拨{prepaid}，占{share}，超过{pct}%（最多{allowed}）；涉及{n}笔申领（{cite}）",
                total = yuan_zh(project.total),
                prepaid = yuan_zh(project.prepaid),
                share = percent(project.prepaid, project.total),
                allowed = yuan_zh(allowed),
                n = claims.len(),
            );
            let en = format!(
                "project-based class {class_id}: prepaid {prepaid} of a {total} total, {share}, above {pct}% (at most {allowed}); {n} claims ({cite})",
                total = yuan_en(project.total),
                prepaid = yuan_en(project.prepaid),
                share = percent(project.prepaid, project.total),
                allowed = yuan_en(allowed),
                n = claims.len(),
            );
            Some(group_flag(ctx, RULE_ID, FlagSubject::Project, class_id.to_string(), policy, claims.to_vec(), zh, en))
        })
        .collect();
    sort_group_flags(&mut flags);
    flags
}

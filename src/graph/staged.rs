//! Staged employers: an employer that "hires" a project-based class for the employment check.
//!
//! For each project with a `check_date`, the class's employment on that date — its trainees
//! counted per employer through their covering spell, the staged spells and each employer's
//! link to the institution — comes from the rule's [`ClassEmployment`], so that the graph and
//! `employment_sham` read one set of facts. The graph judges each employer (with an
//! organisation) of the class; it is staged for the class when
//! - the class has at least `employment_sham.min_trainees` trainees, the employer takes at least
//!   `single_employer_min_percent` of them, *and* at least `staged_min_percent` of its spells
//!   there start at most `start_window_days` before the check and end at most
//!   `end_window_days` after it; or
//! - the employer is linked to the class's institution ([`OrgLinks`]: the same organisation or
//!   a chain of shared legal representatives, phones and staff).
//!
//! The rule flags the class on either share alone, counting staged spells over all trainees;
//! the graph needs both at one employer, because its finding names that employer.
//!
//! Employers are listed once, with every class they were staged for.

use crate::dates::Date;
use crate::model::{fen_to_yuan, Fen};
use crate::policy::PolicySet;
use crate::resolve::org_links::OrgLinks;
use crate::resolve::Resolved;
use crate::rules::employment_sham::{self, ClassEmployment, EmployerShare};
use crate::snapshot::{DenseGroups, Snapshot};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// One class an employer was staged for.
#[derive(Clone, Debug, PartialEq)]
pub struct StagedClass {
    pub class_id: String,
    pub institution: String,
    pub check_date: Date,
    pub trainees: u32,
    /// Trainees whose covering spell is at this employer.
    pub employed_here: u32,
    /// Of those, spells starting shortly before and ending soon after the check.
    pub staged_here: u32,
    /// How the employer is linked to the institution, if it is (Chinese, English).
    pub link_zh: Option<String>,
    pub link_en: Option<String>,
    /// The claims in the class of the trainees employed here, ascending.
    pub claims: Vec<u32>,
    pub explanation_zh: String,
    pub explanation_en: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StagedEmployer {
    pub employer: u32,
    pub code: String,
    /// Sorted by class id.
    pub classes: Vec<StagedClass>,
    /// All claims of the classes' trainees employed here, ascending.
    pub claims: Vec<u32>,
    pub amount: Fen,
    pub explanation_zh: String,
    pub explanation_en: String,
}

/// Staged employers; `by_class` groups every claim by class.
pub(crate) fn find(
    snap: &Snapshot,
    resolved: &Resolved,
    by_class: &DenseGroups,
    policies: &PolicySet,
) -> Vec<StagedEmployer> {
    if snap.projects.is_empty() || snap.employment.is_empty() {
        return Vec::new();
    }
    let links = OrgLinks::build(snap);
    let found: Vec<(u32, StagedClass)> = snap
        .projects
        .par_iter()
        .enumerate()
        // The first project row of a class wins, as in the rules.
        .filter(|(k, p)| p.class != 0 && (*k == 0 || snap.projects[k - 1].class != p.class))
        .flat_map_iter(|(_, p)| {
            judge(
                snap,
                resolved,
                policies,
                &links,
                p,
                by_class.members(p.class),
            )
        })
        .collect();
    let mut per_employer: BTreeMap<String, (u32, Vec<StagedClass>)> = BTreeMap::new();
    for (e, c) in found {
        per_employer
            .entry(snap.orgs.resolve(e).to_string())
            .or_insert_with(|| (e, Vec::new()))
            .1
            .push(c);
    }
    per_employer
        .into_iter()
        .map(|(code, (employer, mut classes))| {
            classes.sort_by(|a, b| a.class_id.cmp(&b.class_id));
            let mut claims: Vec<u32> = classes.iter().flat_map(|c| c.claims.iter().copied()).collect();
            claims.sort_unstable();
            claims.dedup();
            let amount: Fen = claims.iter().map(|&c| snap.claims[c as usize].amount).sum();
            let employed: u32 = classes.iter().map(|c| c.employed_here).sum();
            let explanation_zh = format!(
                "用工单位 {code} 在{}个项目制培训班就业核验时“录用”{}名学员，涉及申领{}条、金额{}元：{}",
                classes.len(),
                employed,
                claims.len(),
                fen_to_yuan(amount),
                classes.iter().map(|c| c.explanation_zh.as_str()).collect::<Vec<_>>().join("；")
            );
            let explanation_en = format!(
                "employer {code} \"hired\" {} trainees of {} project-based classes for the employment check; {} claims, {} yuan: {}",
                employed,
                classes.len(),
                claims.len(),
                fen_to_yuan(amount),
                classes.iter().map(|c| c.explanation_en.as_str()).collect::<Vec<_>>().join("; ")
            );
            StagedEmployer { employer, code, classes, claims, amount, explanation_zh, explanation_en }
        })
        .collect()
}

/// The graph's criterion on each employer of a class (see [`ClassEmployment`] for how it
/// differs from the rule's): the employers staged for the class of `project`.
fn judge(
    snap: &Snapshot,
    resolved: &Resolved,
    policies: &PolicySet,
    links: &OrgLinks,
    project: &crate::snapshot::Project,
    claims: &[u32],
) -> Vec<(u32, StagedClass)> {
    let Some(class) = ClassEmployment::of(snap, resolved, policies, links, project, claims) else {
        return Vec::new();
    };
    let rule = &employment_sham::Params::of(class.policy).employment_sham;
    let n = class.trainees.len() as u64;
    class
        .employers
        .iter()
        .filter(|e| e.employer != 0)
        .filter_map(|e| {
            let k = e.trainees.len() as u64;
            let share_hit = n >= rule.min_trainees as u64
                && k * 100 >= n * rule.single_employer_min_percent as u64
                && e.staged * 100 >= k * rule.staged_min_percent as u64;
            if !share_hit && e.link.is_none() {
                return None;
            }
            Some((
                e.employer,
                staged_class(snap, project, claims, &class, e, share_hit),
            ))
        })
        .collect()
}

/// The finding of one staged employer (`share`) in one class, with its explanation.
fn staged_class(
    snap: &Snapshot,
    project: &crate::snapshot::Project,
    claims: &[u32],
    class: &ClassEmployment,
    share: &EmployerShare,
    share_hit: bool,
) -> StagedClass {
    let rule = &employment_sham::Params::of(class.policy).employment_sham;
    let check = class.check;
    let n = class.trainees.len() as u64;
    let k = share.trainees.len() as u64;
    let staged = share.staged;
    let class_id = snap.class_keys.resolve(project.class);
    let inst_code = snap.orgs.resolve(class.institution);
    let mut own: Vec<u32> = claims
        .iter()
        .copied()
        .filter(|&c| {
            share
                .trainees
                .binary_search(&snap.claims[c as usize].person)
                .is_ok()
        })
        .collect();
    own.sort_unstable();
    let mut zh = format!(
        "培训班 {class_id}（机构 {inst_code}）{n}名学员中{k}人在核验日 {check} 由该单位参保，其中{staged}人的参保在核验日前{}天内开始、后{}天内终止",
        rule.start_window_days, rule.end_window_days
    );
    let mut en = format!(
        "class {class_id} (institution {inst_code}): {k} of {n} trainees insured by this employer on the check date {check}, {staged} of them with spells starting at most {} days before and ending at most {} days after it",
        rule.start_window_days, rule.end_window_days
    );
    if share_hit {
        zh.push_str(&format!(
            "（占学员{}%，标准为单一单位不低于{}%且突击参保不低于{}%即可疑）",
            k * 100 / n,
            rule.single_employer_min_percent,
            rule.staged_min_percent
        ));
        en.push_str(&format!(
            " ({}% of the trainees; suspicious from {}% at one employer with {}% staged spells)",
            k * 100 / n,
            rule.single_employer_min_percent,
            rule.staged_min_percent
        ));
    }
    if let Some(path) = &share.link {
        zh.push_str(&format!("；{}", path.zh()));
        en.push_str(&format!("; {}", path.en()));
    }
    zh.push_str(&format!("。依据：{}", rule.clause));
    en.push_str(&format!(". Policy: {}", rule.clause));
    StagedClass {
        class_id: class_id.to_string(),
        institution: inst_code.to_string(),
        check_date: check,
        trainees: n as u32,
        employed_here: k as u32,
        staged_here: staged as u32,
        link_zh: share.link.as_ref().map(|p| p.zh()),
        link_en: share.link.as_ref().map(|p| p.en()),
        claims: own,
        explanation_zh: zh,
        explanation_en: en,
    }
}

//! `employment_sham`: project-based classes whose verified employment looks staged
//! (docs/RULES.md). For each project with a `check_date`, the trainees (distinct persons among
//! the class's claims) with an employment spell covering `check_date` are considered, each
//! through the covering spell with the latest start. The class — all its claims — is flagged when
//! - it has at least `min_trainees` trainees and staged spells (starting at most
//!   `start_window_days` before `check_date`, ending at most `end_window_days` after it) make up
//!   `staged_min_percent` of the trainees, or one employer takes `single_employer_min_percent`
//!   of them; or
//! - whatever its size, such a spell's employer is linked to the class's institution
//!   ([`OrgLinks`]: the same organisation, a shared legal representative or phone, staff, or a
//!   chain of these).

use super::RuleDef;
use crate::finding::{Family, FlagSubject};
use super::common::{
    cite, group_flag, policy_of_project, sort_group_flags, sum_amount, yuan_en, yuan_zh,
    DenseGroups,
};
use super::{Flag, RuleContext};
use crate::resolve::org_links::{LinkPath, OrgLinks};
use crate::snapshot::{Project, Snapshot, Spell};
use rayon::prelude::*;
use std::collections::BTreeMap;

pub const RULE_ID: &str = "employment_sham";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "疑似虚假就业",
    title_en: "staged employment",
    family: Family::Project,
    subject: FlagSubject::Project,
    needs: &["projects", "employment"],
    run,
};

/// The covering spell with the latest start, ties broken by the snapshot's spell order
/// (person, start, employer, end): the last covering spell wins.
fn covering_spell(snap: &Snapshot, person: u32, check: crate::dates::Date) -> Option<&Spell> {
    snap.spells_of(person)
        .iter()
        .rev()
        .find(|s| s.covers(check))
}

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    // Claims per class, ascending (claims are in claim-id order).
    let claims_of_class = DenseGroups::by_class(snap);
    let links = OrgLinks::build(snap);
    let mut flags: Vec<Flag> = snap
        .projects
        .par_iter()
        .enumerate()
        // Ingest rejects duplicate projects; for hand-made input the first row of a class wins.
        .filter(|(k, p)| *k == 0 || snap.projects[k - 1].class != p.class)
        .filter_map(|(_, p)| judge(ctx, &links, p, claims_of_class.members(p.class)))
        .collect();
    sort_group_flags(&mut flags);
    flags
}

fn judge(ctx: &RuleContext, links: &OrgLinks, project: &Project, claims: &[u32]) -> Option<Flag> {
    let snap = ctx.snap;
    let check = project.check_date?;
    if claims.is_empty() {
        return None;
    }
    // With a check_date this is the policy in force on it.
    let policy = policy_of_project(ctx, project, claims)?;
    let rule = &policy.employment_sham;

    // The class's institution: from `classes`, else from its first claim.
    let institution = snap
        .class(project.class)
        .map(|c| c.institution)
        .filter(|&o| o != 0)
        .unwrap_or(snap.claims[claims[0] as usize].institution);

    let mut trainees: Vec<u32> = claims
        .iter()
        .map(|&i| snap.claims[i as usize].person)
        .collect();
    trainees.sort_unstable();
    trainees.dedup();
    let n = trainees.len() as u64;

    let mut staged = 0u64;
    let mut per_employer: BTreeMap<u32, u64> = BTreeMap::new();
    let mut link: Option<LinkPath> = None;
    for &t in &trainees {
        let Some(spell) = covering_spell(snap, t, check) else {
            continue;
        };
        let started_shortly_before =
            (check.0 - spell.start.0) as i64 <= rule.start_window_days as i64;
        let ends_soon_after = spell
            .end
            .is_some_and(|e| (e.0 - check.0) as i64 <= rule.end_window_days as i64);
        if started_shortly_before && ends_soon_after {
            staged += 1;
        }
        *per_employer.entry(spell.employer).or_default() += 1;
        if link.is_none() && institution != 0 && spell.employer != 0 {
            link = links.linked(institution, spell.employer);
        }
    }
    // The employer taking most trainees; ties go to the smallest org id (deterministic).
    let top = per_employer
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(&e, &k)| (e, k));

    let judged_on_shares = n >= rule.min_trainees as u64;
    let staged_hit = judged_on_shares && staged * 100 >= n * rule.staged_min_percent as u64;
    let employer_hit = judged_on_shares
        && top.is_some_and(|(_, k)| k * 100 >= n * rule.single_employer_min_percent as u64);
    if !(staged_hit || employer_hit || link.is_some()) {
        return None;
    }

    let class_id = snap.class_keys.resolve(project.class);
    let mut zh = Vec::new();
    let mut en = Vec::new();
    if staged_hit {
        zh.push(format!(
            "{n}名学员中{staged}人的参保在核验日 {check} 前{}天内开始、后{}天内终止（占{}%，标准为不低于{}%即可疑）",
            rule.start_window_days,
            rule.end_window_days,
            staged * 100 / n,
            rule.staged_min_percent
        ));
        en.push(format!(
            "{staged} of {n} trainees have insurance spells starting at most {} days before the check date {check} and ending at most {} days after it ({}%, suspicious from {}%)",
            rule.start_window_days,
            rule.end_window_days,
            staged * 100 / n,
            rule.staged_min_percent
        ));
    }
    if employer_hit {
        let (e, k) = top.expect("employer_hit needs an employer");
        let code = snap.orgs.resolve(e);
        zh.push(format!(
            "{n}名学员中{k}人在同一用工单位 {code} 参保（占{}%，标准为不低于{}%即可疑）",
            k * 100 / n,
            rule.single_employer_min_percent
        ));
        en.push(format!(
            "{k} of {n} trainees are insured by one employer {code} ({}%, suspicious from {}%)",
            k * 100 / n,
            rule.single_employer_min_percent
        ));
    }
    if let Some(path) = &link {
        zh.push(path.zh());
        en.push(path.en());
    }
    let amount = sum_amount(snap, claims);
    let source = cite(policy, &rule.clause);
    let explanation_zh = format!(
        "项目制培训班 {class_id} 的就业疑似虚构：{}；涉及{}条申领、{}（{source}）",
        zh.join("；"),
        claims.len(),
        yuan_zh(amount)
    );
    let explanation_en = format!(
        "Project-based class {class_id} shows staged employment: {}; {} claims, {} ({source})",
        en.join("; "),
        claims.len(),
        yuan_en(amount)
    );
    let subject = class_id.to_string();
    Some(group_flag(
        ctx,
        RULE_ID,
        FlagSubject::Project,
        subject,
        policy,
        claims.to_vec(),
        explanation_zh,
        explanation_en,
    ))
}

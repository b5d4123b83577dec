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
//!
//! What a class's employment looks like on its check date — trainees, covering spells, and per
//! employer the trainees employed, the staged spells and the link to the institution — is
//! [`ClassEmployment`], read by this rule and by the graph's staged employers
//! (`graph::staged`), which judge it by different criteria (see [`ClassEmployment`]).

use super::common::{cite, group_flag, sort_group_flags, sum_amount, yuan_en, yuan_zh, DenseGroups};
use super::RuleDef;
use super::RuleParams;
use serde::Deserialize;
use super::{Flag, RuleContext};
use crate::dates::Date;
use crate::finding::{Family, FlagSubject};
use crate::policy::{Policy, PolicySet};
use crate::resolve::org_links::{LinkPath, OrgLinks};
use crate::resolve::Resolved;
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

/// `[employment_sham]`: what makes a project-based class's employment staged (see the module
/// documentation); also read by the graph's staged employers (`graph::staged`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmploymentSham {
    /// A staged spell starts at most this many days before `check_date` ...
    pub start_window_days: u32,
    /// ... and ends at most this many days after it.
    pub end_window_days: u32,
    /// Staged spells of at least this share of the trainees flag the class.
    pub staged_min_percent: u32,
    /// One employer taking at least this share of the trainees flags the class.
    pub single_employer_min_percent: u32,
    /// Classes with fewer trainees are not judged on shares.
    pub min_trainees: u32,
    pub clause: String,
}

/// This rule's sections of a policy file.
#[derive(Debug, Clone, Deserialize)]
pub struct Params {
    pub employment_sham: EmploymentSham,
}

impl RuleParams for Params {
    const SECTIONS: &'static [&'static str] = &["employment_sham"];
}

/// The employment of one project class on its check date: the facts both judges of staged
/// employment rest on, computed once here.
///
/// - The rule ([`run`]) judges the **class**: it is flagged when, from `min_trainees` trainees
///   on, the staged spells of all its trainees (whatever the employer, even none) make up
///   `staged_min_percent` of the trainees, *or* the employer taking most trainees takes
///   `single_employer_min_percent` of them; or, whatever its size, when any employer is linked
///   to the institution (the first linked employer in trainee order is cited). Either sign
///   suffices, because the flag is on the class's claims.
/// - The graph (`graph::staged`) judges each **employer** (with an organisation) of the class:
///   it is staged when, from `min_trainees` trainees on, it takes `single_employer_min_percent`
///   of them *and* `staged_min_percent` of its own spells there are staged; or when it is linked
///   to the institution. Both signs are needed on shares, because the finding names one
///   employer: a class flagged for staged spells spread over many employers does not make each
///   of them a staged employer.
pub struct ClassEmployment<'p> {
    /// The policy in force on the check date; its `employment_sham` section sets the windows.
    pub policy: &'p Policy,
    pub check: Date,
    /// The class's institution: from `classes`, else from its first claim (0: unknown).
    pub institution: u32,
    /// Distinct persons (snapshot ids) among the class's claims, ascending.
    pub trainees: Vec<u32>,
    /// One entry per employer of a covering spell, by employer id ascending; employer 0 gathers
    /// covering spells without an employer. Trainees without a covering spell are in none.
    pub employers: Vec<EmployerShare>,
}

/// The trainees of a class whose covering spell is at one employer.
pub struct EmployerShare {
    /// Org id; 0: spells without an employer.
    pub employer: u32,
    /// Trainees employed here on the check date, ascending.
    pub trainees: Vec<u32>,
    /// Of those, spells starting at most `start_window_days` before the check date and ending at
    /// most `end_window_days` after it.
    pub staged: u64,
    /// How the employer is linked to the institution ([`OrgLinks::linked`]); `None` when
    /// either is 0.
    pub link: Option<LinkPath>,
}

/// The covering spell with the latest start, ties broken by the snapshot's spell order
/// (person, start, employer, end): the last covering spell wins.
fn covering_spell(snap: &Snapshot, person: u32, check: Date) -> Option<&Spell> {
    snap.spells_of(person)
        .iter()
        .rev()
        .find(|s| s.covers(check))
}

/// A spell starting shortly before the check date and ending soon after it.
fn is_staged(rule: &EmploymentSham, spell: &Spell, check: Date) -> bool {
    let started_shortly_before = (check.0 - spell.start.0) as i64 <= rule.start_window_days as i64;
    let ends_soon_after = spell
        .end
        .is_some_and(|e| (e.0 - check.0) as i64 <= rule.end_window_days as i64);
    started_shortly_before && ends_soon_after
}

impl<'p> ClassEmployment<'p> {
    /// The employment of the class of `project` (with `claims`, its claims ascending); `None`
    /// without a check date, without claims, or when no policy is in force for the project.
    pub fn of(
        snap: &Snapshot,
        resolved: &Resolved,
        policies: &'p PolicySet,
        links: &OrgLinks,
        project: &Project,
        claims: &[u32],
    ) -> Option<ClassEmployment<'p>> {
        let check = project.check_date?;
        if claims.is_empty() {
            return None;
        }
        // With a check_date this is the policy in force on it.
        let policy = resolved
            .judging
            .policy_of_project(snap, policies, project, claims)?;
        let rule = &Params::of(policy).employment_sham;
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
        // employer → (trainees, staged spells)
        let mut per_employer: BTreeMap<u32, (Vec<u32>, u64)> = BTreeMap::new();
        for &t in &trainees {
            let Some(spell) = covering_spell(snap, t, check) else {
                continue;
            };
            let entry = per_employer.entry(spell.employer).or_default();
            entry.0.push(t);
            entry.1 += is_staged(rule, spell, check) as u64;
        }
        let employers = per_employer
            .into_iter()
            .map(|(employer, (trainees, staged))| EmployerShare {
                employer,
                trainees,
                staged,
                link: (institution != 0 && employer != 0)
                    .then(|| links.linked(institution, employer))
                    .flatten(),
            })
            .collect();
        Some(ClassEmployment {
            policy,
            check,
            institution,
            trainees,
            employers,
        })
    }

    /// Staged spells of all trainees, whatever the employer.
    pub fn staged(&self) -> u64 {
        self.employers.iter().map(|e| e.staged).sum()
    }

    /// The employer taking most trainees and how many; ties go to the smallest org id.
    pub fn top_employer(&self) -> Option<(u32, u64)> {
        self.employers
            .iter()
            .map(|e| (e.employer, e.trainees.len() as u64))
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
    }

    /// The link of the first trainee (ascending) whose employer is linked to the institution.
    pub fn first_link(&self) -> Option<&LinkPath> {
        self.employers
            .iter()
            .filter(|e| e.link.is_some())
            .min_by_key(|e| e.trainees[0])
            .and_then(|e| e.link.as_ref())
    }
}

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    // Claims per class, ascending (claims are in claim-id order).
    let claims_of_class =
        DenseGroups::by_class_among(snap, snap.projects.iter().map(|p| p.class));
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

/// The rule's criterion on a class (see [`ClassEmployment`]).
fn judge(ctx: &RuleContext, links: &OrgLinks, project: &Project, claims: &[u32]) -> Option<Flag> {
    let snap = ctx.snap;
    let class = ClassEmployment::of(snap, ctx.resolved, ctx.policies, links, project, claims)?;
    let rule = &Params::of(class.policy).employment_sham;
    let n = class.trainees.len() as u64;
    let staged = class.staged();
    let top = class.top_employer();
    let link = class.first_link();

    let judged_on_shares = n >= rule.min_trainees as u64;
    let staged_hit = judged_on_shares && staged * 100 >= n * rule.staged_min_percent as u64;
    let employer_hit = judged_on_shares
        && top.is_some_and(|(_, k)| k * 100 >= n * rule.single_employer_min_percent as u64);
    if !(staged_hit || employer_hit || link.is_some()) {
        return None;
    }

    let mut zh = Vec::new();
    let mut en = Vec::new();
    if staged_hit {
        let (z, e) = staged_texts(rule, n, staged, class.check);
        zh.push(z);
        en.push(e);
    }
    if employer_hit {
        let (e, k) = top.expect("employer_hit needs an employer");
        let (z, e) = single_employer_texts(rule, n, k, snap.orgs.resolve(e));
        zh.push(z);
        en.push(e);
    }
    if let Some(path) = link {
        zh.push(path.zh());
        en.push(path.en());
    }
    let class_id = snap.class_keys.resolve(project.class);
    let amount = sum_amount(snap, claims);
    let source = cite(class.policy, &rule.clause);
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
    Some(group_flag(
        ctx,
        RULE_ID,
        FlagSubject::Project,
        class_id.to_string(),
        class.policy,
        claims.to_vec(),
        explanation_zh,
        explanation_en,
    ))
}

/// The staged-spells sign of the rule, in Chinese and English.
fn staged_texts(rule: &EmploymentSham, n: u64, staged: u64, check: Date) -> (String, String) {
    let zh = format!(
        "{n}名学员中{staged}人的参保在核验日 {check} 前{}天内开始、后{}天内终止（占{}%，标准为不低于{}%即可疑）",
        rule.start_window_days,
        rule.end_window_days,
        staged * 100 / n,
        rule.staged_min_percent
    );
    let en = format!(
        "{staged} of {n} trainees have insurance spells starting at most {} days before the check date {check} and ending at most {} days after it ({}%, suspicious from {}%)",
        rule.start_window_days,
        rule.end_window_days,
        staged * 100 / n,
        rule.staged_min_percent
    );
    (zh, en)
}

/// The single-employer sign of the rule, in Chinese and English.
fn single_employer_texts(rule: &EmploymentSham, n: u64, k: u64, code: &str) -> (String, String) {
    let zh = format!(
        "{n}名学员中{k}人在同一用工单位 {code} 参保（占{}%，标准为不低于{}%即可疑）",
        k * 100 / n,
        rule.single_employer_min_percent
    );
    let en = format!(
        "{k} of {n} trainees are insured by one employer {code} ({}%, suspicious from {}%)",
        k * 100 / n,
        rule.single_employer_min_percent
    );
    (zh, en)
}

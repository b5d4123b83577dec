//! Which policy judges each claim (docs/RULES.md, "The policy in force").
//!
//! The notice fixes the standard of a training by when it took place ("实施职业技能提升行动期间，
//! 符合条件人员参加职业培训，补贴标准按照……"), not by when its subsidy was filed: a claim is judged
//! by the policy whose period covers its **training date** = the start date of its class when the
//! class is in `classes`, else its `claim_date`. A project is judged by the policy in force at its
//! class's start (else its `check_date`, else its earliest claim's training date). The subsidy
//! year of `over_cap` stays the calendar year of `claim_date` (CONTRACT §1).
//!
//! Resolved once per sweep, one small integer per claim, so every rule and the graph ask the
//! same question the same way.

use crate::dates::Date;
use crate::policy::{Policy, PolicySet};
use crate::snapshot::{Project, Snapshot};
use rayon::prelude::*;

/// Position of a claim's policy in `PolicySet::policies`, or [`NOT_JUDGED`].
pub const NOT_JUDGED: u16 = u16::MAX;

/// The policy of every claim of a snapshot.
#[derive(Debug, Default)]
pub struct Judging {
    /// Each policy's effective range, in `PolicySet::policies` order.
    ranges: Vec<(Date, Option<Date>)>,
    of_claim: Vec<u16>,
    not_judged: usize,
}

/// The date that decides a claim's policy: its class's start date if the class is known, else
/// its claim date.
pub fn training_date(snap: &Snapshot, claim: usize) -> Date {
    let c = &snap.claims[claim];
    match snap.class(c.class) {
        Some(class) if c.class != 0 => class.start,
        _ => c.date,
    }
}

impl Judging {
    pub fn new(snap: &Snapshot, policies: &PolicySet) -> Judging {
        let ranges: Vec<(Date, Option<Date>)> = policies
            .policies
            .iter()
            .map(|p| (p.effective_from(), p.effective_to()))
            .collect();
        let of_claim: Vec<u16> = (0..snap.claims.len())
            .into_par_iter()
            .map(|i| position(&ranges, training_date(snap, i)))
            .collect();
        let not_judged = of_claim.par_iter().filter(|&&p| p == NOT_JUDGED).count();
        Judging {
            ranges,
            of_claim,
            not_judged,
        }
    }

    /// The position of the claim's policy in `PolicySet::policies`.
    #[inline]
    pub fn position(&self, claim: usize) -> Option<usize> {
        match self.of_claim.get(claim) {
            Some(&p) if p != NOT_JUDGED => Some(p as usize),
            _ => None,
        }
    }

    /// The policy judging a claim; `None`: no policy covers its training.
    #[inline]
    pub fn policy<'p>(&self, policies: &'p PolicySet, claim: usize) -> Option<&'p Policy> {
        self.position(claim).map(|p| &policies.policies[p])
    }

    #[inline]
    pub fn is_judged(&self, claim: usize) -> bool {
        self.position(claim).is_some()
    }

    /// How many claims no policy covers.
    pub fn not_judged(&self) -> usize {
        self.not_judged
    }

    /// The claims no policy covers, ascending.
    pub fn not_judged_claims(&self) -> Vec<u32> {
        (0..self.of_claim.len() as u32)
            .filter(|&i| self.of_claim[i as usize] == NOT_JUDGED)
            .collect()
    }

    /// The policy judging a group of claims (a person, a contact): the one of its latest
    /// judged claim by training date. Policies are ordered by date and never overlap, so that
    /// is the policy of the highest position among the claims' own.
    pub fn policy_of_group<'p>(
        &self,
        policies: &'p PolicySet,
        claims: &[u32],
    ) -> Option<&'p Policy> {
        claims
            .iter()
            .filter_map(|&i| self.position(i as usize))
            .max()
            .map(|p| &policies.policies[p])
    }

    /// The policy judging a project: the one in force at its class's start, else on its
    /// `check_date`, else at the earliest training date among its claims.
    pub fn policy_of_project<'p>(
        &self,
        snap: &Snapshot,
        policies: &'p PolicySet,
        project: &Project,
        claims: &[u32],
    ) -> Option<&'p Policy> {
        let date = snap
            .class(project.class)
            .filter(|_| project.class != 0)
            .map(|c| c.start)
            .or(project.check_date)
            .or_else(|| {
                claims
                    .iter()
                    .map(|&i| training_date(snap, i as usize))
                    .min()
            })?;
        match position(&self.ranges, date) {
            NOT_JUDGED => None,
            p => Some(&policies.policies[p as usize]),
        }
    }
}

fn position(ranges: &[(Date, Option<Date>)], d: Date) -> u16 {
    ranges
        .iter()
        .position(|&(from, to)| d >= from && to.is_none_or(|t| d <= t))
        .map_or(NOT_JUDGED, |p| p as u16)
}

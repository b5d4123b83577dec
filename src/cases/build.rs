//! Building the cases of one sweep: the entry points, from stored flags or from memory, each
//! grouping (`group`), matching with the previous sweep (`history`) and writing (`write`).

#[allow(unused_imports)]
use super::group::*;
#[allow(unused_imports)]
use super::history::*;
#[allow(unused_imports)]
use super::input::*;
#[allow(unused_imports)]
use super::write::*;
use super::CaseError;
use crate::finding::{FlagTable, Flags};
use crate::graph::GraphFindings;
use crate::policy::{CasesPolicy, PolicySet};
use crate::resolve::Persons;
use crate::snapshot::{Snapshot, SnapshotIn};
use rusqlite::{Connection, OptionalExtension};

/// [`build_for_sweep_with`] under the `[cases]` section of the embedded default policy.
pub fn build_for_sweep(conn: &mut Connection, sweep_id: i64) -> Result<CaseSummary, CaseError> {
    let policies = PolicySet::embedded_default();
    build_for_sweep_with(conn, sweep_id, &cases_policy(&policies))
}

/// The `[cases]` section a sweep under `policies` uses: that of the latest policy in force.
pub fn cases_policy(policies: &PolicySet) -> CasesPolicy {
    match policies.policies.last() {
        Some(p) => p.cases.clone(),
        None => PolicySet::embedded_default().policies[0].cases.clone(),
    }
}

/// Groups the flags (and graph findings) of `sweep_id` into cases, compares them with the
/// previous sweep whose cases were built, and records new / persisting / reopened / resolved,
/// all in one transaction. Calling it again for a sweep already built returns the stored
/// summary. Reads the sweep's flags and findings back from the database (the rebuild path).
pub fn build_for_sweep_with(
    conn: &mut Connection,
    sweep_id: i64,
    policy: &CasesPolicy,
) -> Result<CaseSummary, CaseError> {
    if let Some(summary) = check_sweep(conn, sweep_id)? {
        return Ok(summary);
    }
    // Grouping only reads the sweep's own rows, which never change once stored: it runs
    // before the write lock is taken, so reviewers wait only for the writes.
    let stored = load_stored(conn, sweep_id, policy)?;
    let input = stored.input();
    let grouped = group(&input, policy);
    let flags = input.flags.len();
    drop(input);
    write_cases(
        conn,
        sweep_id,
        policy,
        &stored.facts,
        &grouped,
        flags,
        |_, _| Ok(()),
    )
}

/// What case building needs of a sweep still in memory ([`extract_in_memory`]): its flags,
/// graph findings and claim facts in compact form, without the snapshot.
pub struct CaseInput {
    pub(super) stored: StoredInput,
}

/// A sweep's cases grouped ([`CaseInput::group`]), holding only what writing them needs.
pub struct PreparedCases {
    pub(super) facts: StoredClaims,
    pub(super) grouped: Grouped,
    pub(super) flags: usize,
}

/// Takes what case building needs out of a sweep still in memory: its snapshot, its flags (in
/// the order they were saved, `seq` = position) and its graph findings. Afterwards the
/// snapshot can be freed; grouping ([`CaseInput::group`]) and writing ([`build_prepared`])
/// do not need it.
pub fn extract_in_memory(
    snap: &Snapshot,
    persons: &Persons,
    flags: &(impl Flags + ?Sized),
    findings: &GraphFindings,
    policy: &CasesPolicy,
) -> CaseInput {
    CaseInput {
        stored: StoredInput::from_memory(
            SnapshotIn::Shared(snap),
            persons,
            flags,
            findings,
            policy,
        ),
    }
}

/// [`extract_in_memory`] emptying the sweep's snapshot and taking its flags: the snapshot is
/// freed once the facts of the named claims are copied out of it, before the flags are taken
/// in, so that the sweep's snapshot and its case input are not both held whole.
pub fn extract_in_memory_consuming(
    snap: &mut Snapshot,
    persons: &Persons,
    flags: FlagTable,
    findings: &GraphFindings,
    policy: &CasesPolicy,
) -> CaseInput {
    CaseInput {
        stored: StoredInput::from_memory(
            SnapshotIn::Owned(snap),
            persons,
            &flags,
            findings,
            policy,
        ),
    }
}

impl CaseInput {
    /// Groups the flags and findings into cases. Pure computation (no database), so it can
    /// run while something else writes.
    pub fn group(self, policy: &CasesPolicy) -> PreparedCases {
        let input = self.stored.input();
        let grouped = group(&input, policy);
        let flags = input.flags.len();
        drop(input);
        PreparedCases {
            facts: self.stored.facts,
            grouped,
            flags,
        }
    }
}

/// [`extract_in_memory`] then [`CaseInput::group`].
pub fn prepare_in_memory(
    snap: &Snapshot,
    persons: &Persons,
    flags: &(impl Flags + ?Sized),
    findings: &GraphFindings,
    policy: &CasesPolicy,
) -> PreparedCases {
    extract_in_memory(snap, persons, flags, findings, policy).group(policy)
}

/// Writes cases prepared by [`prepare_in_memory`]: the same rows as
/// [`build_for_sweep_with`] gives from the stored flags and findings. `seal` runs in the
/// cases' transaction just before its commit, given their summary: the sweep marks itself
/// finished there, so its cases and its end are committed together or not at all.
pub fn build_prepared(
    conn: &mut Connection,
    sweep_id: i64,
    policy: &CasesPolicy,
    prepared: PreparedCases,
    seal: impl FnOnce(&Connection, &CaseSummary) -> Result<(), CaseError>,
) -> Result<CaseSummary, CaseError> {
    if let Some(summary) = check_sweep(conn, sweep_id)? {
        return Ok(summary);
    }
    write_cases(
        conn,
        sweep_id,
        policy,
        &prepared.facts,
        &prepared.grouped,
        prepared.flags,
        seal,
    )
}

/// [`build_for_sweep_with`] from the sweep still in memory ([`prepare_in_memory`] then
/// [`build_prepared`]): the same rows without reading flags, findings and claims back.
pub fn build_for_sweep_in_memory(
    conn: &mut Connection,
    sweep_id: i64,
    policy: &CasesPolicy,
    snap: &Snapshot,
    persons: &Persons,
    flags: &(impl Flags + ?Sized),
    findings: &GraphFindings,
) -> Result<CaseSummary, CaseError> {
    let prepared = prepare_in_memory(snap, persons, flags, findings, policy);
    build_prepared(conn, sweep_id, policy, prepared, |_, _| Ok(()))
}

/// Schema present, sweep known; the stored summary when the sweep's cases are already built.
pub(super) fn check_sweep(
    conn: &Connection,
    sweep_id: i64,
) -> Result<Option<CaseSummary>, CaseError> {
    super::schema::ensure_schema(conn)?;
    conn.busy_timeout(crate::store::BUSY_TIMEOUT)?;
    let exists: Option<i64> = conn
        .query_row(
            "SELECT sweep_id FROM sweeps WHERE sweep_id = ?1",
            [sweep_id],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Err(CaseError::NoSweep(sweep_id));
    }
    stored_summary(conn, sweep_id)
}

#[cfg(test)]
mod tests {
    use super::super::{group::*, history::*};
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn spread_keeps_the_total_and_follows_payments() {
        assert_eq!(spread(300, &[100, 200]), vec![100, 200]);
        assert_eq!(spread(100, &[1, 1, 1]), vec![33, 33, 34]);
        assert_eq!(spread(90, &[0, 0, 0]), vec![30, 30, 30]);
        assert!(spread(5, &[]).is_empty());
    }

    #[test]
    fn score_weighs_severity_breadth_and_money() {
        let p = cases_policy(&PolicySet::embedded_default());
        let high = severity_weight(&p, "high");
        assert_eq!(score(&p, high, 1, 100_000), 3000.0);
        assert_eq!(score(&p, high, 3, 100_000), 4500.0);
        let medium = severity_weight(&p, "medium");
        assert!(score(&p, medium, 1, 100_000) < score(&p, high, 1, 100_000));
        assert_eq!(score(&p, high, 1, 0), 0.0);
        assert_eq!(severity_weight(&p, "unknown"), severity_weight(&p, "low"));
    }

    #[test]
    fn delta_describes_more_claims_and_money() {
        let a: BTreeSet<String> = ["c1".to_string()].into();
        let b: BTreeSet<String> = ["c1", "c2", "c3"].iter().map(|s| s.to_string()).collect();
        let r: BTreeSet<String> = ["over_cap".to_string()].into();
        let d = delta(&a, &r, 100_000, &b, &r, 220_000);
        assert!(d.has_new_evidence());
        assert_eq!(d.describe_zh(), "新增申领 2 笔，金额增加 1200.00 元");
        assert_eq!(d.describe_en(), "2 more claims, +1200.00 yuan");
        let fewer = delta(&b, &r, 220_000, &a, &r, 100_000);
        assert!(!fewer.has_new_evidence());
    }

    #[test]
    fn joins_to_matches_the_joined_text_only() {
        assert!(joins_to("a;bc", ["a", "bc"].into_iter()));
        assert!(joins_to("", std::iter::empty()));
        assert!(!joins_to("a;bc", ["a", "b"].into_iter()));
        assert!(!joins_to("a;b", ["a", "b", "c"].into_iter()));
        assert!(!joins_to("ab", ["a", "b"].into_iter()));
        assert!(!joins_to("a", std::iter::empty()));
    }

    #[test]
    fn a_stored_detail_reads_back_as_the_sweep_made_it() {
        let set = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let (c1, c12, r) = (set(&["c1"]), set(&["c1", "c2"]), set(&["R1"]));
        for (d, reappeared) in [
            (delta(&c1, &r, 100, &c1, &r, 100), false),
            (delta(&c1, &r, 100, &c1, &r, 100), true),
            (delta(&c1, &r, 100, &c12, &r, 300), false),
            (delta(&c12, &r, 300, &c1, &set(&["R2"]), 300), false),
        ] {
            let mut detail = ChangeDetail::of_change(d, reappeared);
            detail.ring_ids = vec![3, 5];
            let stored = detail.clone().into_stored_json();
            for change in ["persisting", "reopened"] {
                let back = ChangeDetail::parse(&stored, 1).unwrap().for_change(change);
                assert_eq!(back, detail, "{stored}");
            }
            // Details stored in full before read back the same.
            let full = ChangeDetail::parse(&detail.to_json(), 1).unwrap();
            assert_eq!(full.for_change("persisting"), detail);
        }
        // Unchanged evidence is stored as nothing but the rings.
        let same = ChangeDetail::of_change(delta(&c1, &r, 1, &c1, &r, 1), false);
        assert_eq!(same.into_stored_json(), "{}");
        // A new case's detail is stored as ever and reads back without reasons.
        let new = ChangeDetail {
            institution_rank: Some(2),
            ..ChangeDetail::default()
        };
        assert_eq!(new.clone().into_stored_json(), new.to_json());
        let back = ChangeDetail::parse(&new.to_json(), 1).unwrap();
        assert_eq!(back.clone().for_change("new"), new);
        assert_eq!(back.for_change("resolved").reason_zh, None);
    }

    #[test]
    fn mode_prefers_frequent_then_smallest() {
        assert_eq!(mode(["b", "a", "b", ""].into_iter()), "b");
        assert_eq!(mode(["b", "a"].into_iter()), "a");
        assert_eq!(mode(std::iter::empty()), "");
    }
}

//! The entity graph across counties (issue 4): single rules catch single claims, the graph
//! catches organised fraud.
//!
//! - [`entity`]: the petgraph graph of persons, names, phones, bank accounts, organisations,
//!   classes, certificates and counties, whose edges carry the claims behind them; neighbourhood
//!   export as Graphviz DOT and JSON.
//! - [`rings`]: persons tied across institutions or counties by shared identifiers.
//! - [`cross_county`]: persons claiming in several counties in one year, with their path.
//! - [`staged`]: employers that "hire" a project class for the employment check.
//! - [`risk`]: institutions ranked by an explainable score (flagged claims, rings, certificate
//!   bursts, unusual occupations, bunching above the employment threshold, Benford).
//! - [`stats`]: the Benford first-digit test (MAD, Nigrini's bands) and the bunching test.
//! - [`links`]: organisations linked through legal representatives, phones and staff.
//! - [`store`]: the findings' tables in the sweep database.
//!
//! Invariants: every number comes from the policy (`[graph]` and the sections it reuses), every
//! finding lists the snapshot claim indices (sorted) it rests on, and every list is sorted by
//! values that depend only on the snapshot, never on thread count or hash order.

pub mod cross_county;
pub mod entity;
pub mod rings;
pub mod risk;
pub mod save;
pub mod staged;
pub mod stats;

pub use cross_county::{CountyStop, CrossCountyPerson};
pub use entity::{build, EdgeKind, EntityGraph, NodeKind, SubEdge, SubNode, Subgraph, TableCounts};
pub use rings::{IdentifierKind, Ring, SharedIdentifier};
pub use risk::{Evidence, InstitutionRisk};
pub use staged::{StagedClass, StagedEmployer};
pub use stats::{BenfordTest, BunchingTest, Conformity};

use crate::finding::Flags;
use crate::policy::PolicySet;
use crate::resolve::Resolved;
use crate::snapshot::{DenseGroups, IndexSet, Snapshot, SnapshotIn};

/// Everything the graph finds in one sweep.
#[derive(Clone, Debug, Default)]
pub struct GraphFindings {
    /// Sorted by score (highest first), then smallest claim index; `id` = position + 1.
    pub rings: Vec<Ring>,
    /// Sorted by ID number, then year.
    pub cross_county: Vec<CrossCountyPerson>,
    /// Ranked: score, amount at risk (highest first), then institution code.
    pub institution_risk: Vec<InstitutionRisk>,
    /// Sorted by employer code.
    pub staged_employers: Vec<StagedEmployer>,
    /// Bunching of declared project employment rates over the whole ledger, if any project.
    pub bunching: Option<BunchingTest>,
    /// Benford test on every varying amount of the ledger, if enough amounts.
    pub benford: Option<BenfordTest>,
    /// Size of the graph the findings come from.
    pub nodes: usize,
    pub edges: usize,
    /// The claim ids of every claim index the findings mention, so that they can be stored
    /// and shown without the snapshot.
    pub claim_names: ClaimNames,
    /// The ID numbers of the cross-county persons (by snapshot person id).
    pub person_names: ClaimNames,
    /// County codes by interned county id (a few hundred).
    pub county_names: Vec<String>,
    /// The `[graph]` clause of each policy of the set, in the set's order.
    pub clauses: Vec<String>,
}

impl GraphFindings {
    /// Ring `r`'s explanation in Chinese, citing its policy's `[graph]` clause.
    pub fn ring_explanation_zh(&self, r: &Ring) -> String {
        r.explanation_zh(self.claim_ids_of(&r.claims), self.ring_clause(r))
    }

    /// Ring `r`'s explanation in English, citing its policy's `[graph]` clause.
    pub fn ring_explanation_en(&self, r: &Ring) -> String {
        r.explanation_en(self.claim_ids_of(&r.claims), self.ring_clause(r))
    }

    fn ring_clause(&self, r: &Ring) -> &str {
        self.clauses
            .get(r.policy as usize)
            .map_or("", String::as_str)
    }

    /// The claim id of a snapshot claim index mentioned in the findings.
    pub fn claim_id(&self, claim: u32) -> &str {
        self.claim_names.get(claim).unwrap_or("")
    }

    /// [`claim_id`](Self::claim_id) of each of `claims`, prefetched a few ahead.
    pub fn claim_ids_of<'a>(&'a self, claims: &'a [u32]) -> impl Iterator<Item = &'a str> + 'a {
        self.claim_names.each(claims)
    }

    /// Prefetches the claim ids of `claims` for a use `distance` ahead.
    pub fn prefetch_claim_ids(&self, claims: &[u32], distance: Ahead) {
        for &c in claims {
            self.claim_names.prefetch(c, distance);
        }
    }

    /// The ID number of a person of a cross-county finding.
    pub fn person_id(&self, person: u32) -> &str {
        self.person_names.get(person).unwrap_or("")
    }

    /// The code of an interned county.
    pub fn county(&self, county: u32) -> &str {
        self.county_names
            .get(county as usize)
            .map_or("", String::as_str)
    }

    /// `371302 → 371311 → 371302`
    pub fn path_text(&self, c: &CrossCountyPerson) -> String {
        let mut t = cross_county::CrossCountyTexts::default();
        t.fill(self, c);
        t.path
    }

    /// The explanation of a cross-county finding, in Chinese or English.
    pub fn cross_county_explanation(&self, c: &CrossCountyPerson, en: bool) -> String {
        let mut t = cross_county::CrossCountyTexts::default();
        t.fill(self, c);
        if en {
            t.en
        } else {
            t.zh
        }
    }

    /// Claim ids of claim indices mentioned in the findings.
    pub fn claim_ids(&self, claims: &[u32]) -> Vec<String> {
        claims
            .iter()
            .map(|&c| self.claim_id(c).to_string())
            .collect()
    }
}

/// How far ahead of its use a name is prefetched ([`ClaimNames::prefetch`]).
#[derive(Clone, Copy, Debug)]
pub enum Ahead {
    /// `2 × AHEAD` names ahead: its offset.
    Far,
    /// `AHEAD` names ahead: its text.
    Near,
}

/// Names between a name's prefetch stages.
pub const AHEAD: usize = 4;

/// The strings (claim ids, ID numbers) of a set of snapshot indices: one string buffer in index
/// order, found by the index's rank in a bit set (storing findings looks up millions of ids,
/// after the snapshot is freed; the set is a bit per index, so lookups stay in cache).
#[derive(Clone, Debug, Default)]
pub struct ClaimNames {
    indices: IndexSet,
    /// `offsets[k]..offsets[k + 1]`: the text of the `k`-th index in `buf`.
    offsets: Vec<u32>,
    buf: String,
}

impl ClaimNames {
    /// The claim ids of claim indices (repeats allowed), straight into a set: the findings of
    /// a national sweep name tens of millions of claims, so they are not listed first.
    pub fn new(snap: &Snapshot, indices: impl IntoIterator<Item = u32>) -> ClaimNames {
        let mut set = IndexSet::new(snap.claims.len());
        for i in indices {
            set.insert(i);
        }
        ClaimNames::of_set(set, |i| snap.claim_id(i as usize))
    }

    /// The strings `name` gives to indices.
    pub fn of<T: AsRef<str>>(indices: Vec<u32>, name: impl Fn(u32) -> T) -> ClaimNames {
        let n = indices.iter().max().map_or(0, |&i| i as usize + 1);
        let mut set = IndexSet::new(n);
        for i in indices {
            set.insert(i);
        }
        ClaimNames::of_set(set, name)
    }

    fn of_set<T: AsRef<str>>(mut set: IndexSet, name: impl Fn(u32) -> T) -> ClaimNames {
        set.seal();
        // Room for all the text at the length of the first names (claim ids are mostly of one
        // length): growing by doubling held the old and the new buffer at once, at the
        // sweep's peak.
        let sample: Vec<u32> = set.iter().take(64).collect();
        let sampled: usize = sample.iter().map(|&i| name(i).as_ref().len()).sum();
        let estimate = (sampled * set.len()).div_ceil(sample.len().max(1));
        let mut buf = String::with_capacity(estimate + estimate / 16);
        let mut offsets = Vec::with_capacity(set.len() + 1);
        offsets.push(0);
        for i in set.iter() {
            buf.push_str(name(i).as_ref());
            offsets.push(u32::try_from(buf.len()).expect("ClaimNames text exceeds 4 GiB"));
        }
        ClaimNames {
            indices: set,
            offsets,
            buf,
        }
    }

    /// Where `claim` is among the indices, if it is one.
    fn position(&self, claim: u32) -> Option<usize> {
        self.indices
            .contains(claim)
            .then(|| self.indices.rank(claim) as usize)
    }

    pub fn get(&self, claim: u32) -> Option<&str> {
        let k = self.position(claim)?;
        Some(&self.buf[self.offsets[k] as usize..self.offsets[k + 1] as usize])
    }

    /// Prefetches what `get(claim)` reads first: its offset (`Far`), or, once that is in
    /// cache, its text (`Near`). Spelling millions of ids in an order unrelated to the
    /// buffer's is two cache misses each; asked a few ids ahead, the misses overlap.
    pub fn prefetch(&self, claim: u32, distance: Ahead) {
        let Some(k) = self.position(claim) else {
            return;
        };
        match distance {
            Ahead::Far => crate::intern::prefetch_read(&self.offsets[k]),
            Ahead::Near => crate::intern::prefetch_read(
                self.buf.as_bytes()[self.offsets[k] as usize..].as_ptr(),
            ),
        }
    }

    /// The names of `claims` in order (`""` for one not in the set), prefetched a few ahead.
    pub fn each<'a>(&'a self, claims: &'a [u32]) -> impl Iterator<Item = &'a str> + 'a {
        (0..claims.len()).map(move |i| {
            if let Some(&c) = claims.get(i + 2 * AHEAD) {
                self.prefetch(c, Ahead::Far);
            }
            if let Some(&c) = claims.get(i + AHEAD) {
                self.prefetch(c, Ahead::Near);
            }
            self.get(claims[i]).unwrap_or("")
        })
    }

    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Analyses the snapshot's entity graph without building it: every finding reads the claim
/// groupings the graph's edges stand for. `flags` are the sweep's flags (for each
/// institution's share of flagged claims).
///
/// Persons are resolved persons (`resolve::persons`): one person's several ID numbers are one
/// node of a ring or one cross-county path. Policies are those of `resolve::judging`.
pub fn analyse(
    snap: &Snapshot,
    resolved: &Resolved,
    flags: &(impl Flags + ?Sized),
    policies: &PolicySet,
) -> GraphFindings {
    analyse_counted(snap, &TableCounts::of(snap), resolved, flags, policies)
}

/// [`analyse`] with the table counts taken beforehand: `snap` may have freed the tables only
/// the rules read (`Snapshot::release_after_rules`).
pub fn analyse_counted(
    snap: &Snapshot,
    tables: &TableCounts,
    resolved: &Resolved,
    flags: &(impl Flags + ?Sized),
    policies: &PolicySet,
) -> GraphFindings {
    analyse_steps(SnapshotIn::Shared(snap), tables, resolved, flags, policies)
}

/// [`analyse_counted`] freeing each table of `snap` once the analysis has read it for the
/// last time: contacts and employment after the finders (rings, cross-county paths, staged
/// employment), then what only the rules and the graph read after the institution risk
/// ranking ([`Snapshot::release_rule_only_tables`]), so that naming the findings' claims runs
/// beside what building cases needs and little else (at 10 M claims the analysis's end went
/// from 2.46 to 1.97 GB). The findings are those of [`analyse_counted`].
pub fn analyse_releasing(
    snap: &mut Snapshot,
    tables: &TableCounts,
    resolved: &Resolved,
    flags: &(impl Flags + ?Sized),
    policies: &PolicySet,
) -> GraphFindings {
    analyse_steps(SnapshotIn::Owned(snap), tables, resolved, flags, policies)
}

fn analyse_steps(
    mut snap_in: SnapshotIn<'_>,
    tables: &TableCounts,
    resolved: &Resolved,
    flags: &(impl Flags + ?Sized),
    policies: &PolicySet,
) -> GraphFindings {
    let snap = snap_in.get();
    // The groupings, then the four findings that need only them, side by side on the pool
    // (each is deterministic on its own, so the order they finish in never shows).
    let by_person = &resolved.claims_by_person;
    let (by_org, by_class) = rayon::join(
        || DenseGroups::from_keys(snap.orgs.len(), snap.claims.iter().map(|c| c.institution)),
        || DenseGroups::from_keys(snap.class_keys.len(), snap.claims.iter().map(|c| c.class)),
    );
    let (((nodes, edges), rings), (cross_county, staged_employers)) = rayon::join(
        || {
            rayon::join(
                || entity::counts(snap, tables, by_person, &by_org, &by_class),
                || rings::find(snap, resolved, by_person, policies),
            )
        },
        || {
            rayon::join(
                || cross_county::find(snap, resolved, by_person, policies),
                || staged::find(snap, resolved, &by_class, policies),
            )
        },
    );
    snap_in.release(Snapshot::release_graph_finder_tables);
    let snap = snap_in.get();
    let (institution_risk, bunching, benford) =
        risk::rank(snap, resolved, flags, &rings, &by_org, &by_class, policies);
    drop((by_org, by_class));
    snap_in.release(Snapshot::release_rule_only_tables);
    let snap = snap_in.get();
    let mentioned = rings
        .iter()
        .flat_map(|r| r.claims.iter().copied())
        .chain(cross_county.iter().flat_map(|c| c.claims().iter().copied()))
        .chain(
            staged_employers
                .iter()
                .flat_map(|e| e.claims.iter().copied()),
        )
        .chain(
            institution_risk
                .iter()
                .flat_map(|r| r.evidence.iter().flat_map(|e| e.claims.iter().copied())),
        );
    let claim_names = ClaimNames::new(snap, mentioned);
    let person_names = ClaimNames::of(cross_county.iter().map(|c| c.person).collect(), |p| {
        snap.ids.resolve(p)
    });
    let county_names = (0..snap.counties.len() as u32)
        .map(|c| snap.counties.resolve(c).to_string())
        .collect();
    let clauses = policies
        .policies
        .iter()
        .map(|p| p.graph.clause.clone())
        .collect();
    GraphFindings {
        rings,
        cross_county,
        institution_risk,
        staged_employers,
        bunching,
        benford,
        nodes,
        edges,
        claim_names,
        person_names,
        county_names,
        clauses,
    }
}

/// Analyses the snapshot behind an entity graph already built: the same findings as
/// [`analyse`] (which reads the snapshot, not the graph).
pub fn analyse_graph(
    g: &EntityGraph,
    resolved: &Resolved,
    flags: &(impl Flags + ?Sized),
    policies: &PolicySet,
) -> GraphFindings {
    analyse(g.snap, resolved, flags, policies)
}

/// Claim ids of claim indices, for explanations and storage.
pub fn claim_ids(snap: &Snapshot, claims: &[u32]) -> Vec<String> {
    claims
        .iter()
        .map(|&c| snap.claim_id(c as usize).to_string())
        .collect()
}

/// The first few claim ids, then a count: `C1、C2、C3…共12条`.
pub(crate) fn shown_claims<'a>(
    claim_ids: impl Iterator<Item = &'a str>,
    claims: usize,
    sep: &str,
) -> String {
    const SHOWN: usize = 5;
    let ids: Vec<&str> = claim_ids.take(SHOWN).collect();
    if claims > SHOWN {
        format!("{}…", ids.join(sep))
    } else {
        ids.join(sep)
    }
}

#[cfg(test)]
mod tests {
    use super::ClaimNames;

    /// Lookups across block boundaries, before the first, between and after the last index.
    #[test]
    fn claim_names_find_every_index_and_nothing_else() {
        let indices: Vec<u32> = vec![3, 255, 256, 257, 1000, 70_000, 70_001, 70_300];
        let names: Vec<String> = (0..=70_400).map(|i| format!("C{i}")).collect();
        let table = ClaimNames::of(indices.iter().rev().copied().collect(), |i| {
            names[i as usize].as_str()
        });
        assert_eq!(table.len(), indices.len());
        for i in 0..=70_400u32 {
            let expected = indices.contains(&i).then(|| names[i as usize].as_str());
            assert_eq!(table.get(i), expected, "index {i}");
        }
        assert_eq!(table.get(u32::MAX), None);
        assert_eq!(ClaimNames::of(Vec::new(), |_| "").get(0), None);
    }
}

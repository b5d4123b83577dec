//! The resolution stage, between the snapshot and the rules: what a sweep judges by.
//!
//! - [`persons`]: which ID numbers are one real person. Every person-level rule, the graph and
//!   the cases count resolved persons, not ID numbers.
//! - [`judging`]: which policy judges each claim (the one covering its training).
//! - [`org_links`]: which organisations (institutions, employers) are linked through the people
//!   and phones they share; read by `employment_sham` and the graph's staged employers.
//!
//! Persons and judging are computed once per sweep ([`Resolved::new`]) and read by everything after.

pub mod judging;
pub mod org_links;
pub mod persons;

pub use judging::{training_date, Judging};
pub use persons::Persons;

use crate::policy::PolicySet;
use crate::snapshot::{DenseGroups, Snapshot};
use crate::store::flags::{self as flag_store, FlagStoreError, NotJudged, PersonLinkRow};

/// What a sweep resolved before judging.
#[derive(Debug, Default)]
pub struct Resolved {
    pub persons: Persons,
    pub judging: Judging,
    /// Every claim grouped by its resolved person (`persons.of` of its ID number), judged or
    /// not: built once here for the person-level rules and the graph, which filter the
    /// members they look at (a grouping of ten million claims costs a pass of random writes).
    pub claims_by_person: DenseGroups,
}

impl Resolved {
    /// Resolves persons and the policy of every claim (the two side by side on the pool).
    pub fn new(snap: &Snapshot, policies: &PolicySet) -> Resolved {
        let (persons, judging) = rayon::join(
            || Persons::resolve(snap, policies),
            || Judging::new(snap, policies),
        );
        let claims_by_person = DenseGroups::from_keys(
            snap.ids.len(),
            snap.claims.iter().map(|c| persons.of(c.person)),
        );
        Resolved {
            persons,
            judging,
            claims_by_person,
        }
    }
}

impl Resolved {
    /// Stores what was resolved for sweep `sweep_id` (`unjudged_claims`, `person_ids`,
    /// `person_links`), so that cases, exports and reports read the resolution the sweep
    /// judged by. Returns the claims no policy covers, by claim id.
    pub fn save(
        &self,
        conn: &rusqlite::Connection,
        sweep_id: i64,
        snap: &Snapshot,
    ) -> Result<Vec<NotJudged>, FlagStoreError> {
        let not_judged: Vec<NotJudged> = self
            .judging
            .not_judged_claims()
            .into_iter()
            .map(|i| NotJudged {
                claim_id: snap.claim_id(i as usize).to_string(),
                training_date: training_date(snap, i as usize).to_string(),
                claim_date: snap.claims[i as usize].date.to_string(),
            })
            .collect();
        let mut ids = Vec::new();
        let mut links = Vec::new();
        for g in self.persons.groups() {
            let person = snap.ids.resolve(g.rep);
            for &p in &g.ids {
                ids.push((snap.ids.resolve(p).to_string(), person.to_string()));
            }
            for l in &g.links {
                links.push(PersonLinkRow {
                    person: person.to_string(),
                    id_a: snap.ids.resolve(l.a).to_string(),
                    id_b: snap.ids.resolve(l.b).to_string(),
                    birth_date: l.birth.to_string(),
                    via: l.via.code().to_string(),
                    contact: persons::contact_value(snap, l.via, l.contact).to_string(),
                    name_a: snap.names.resolve(l.name_a).to_string(),
                    name_b: snap.names.resolve(l.name_b).to_string(),
                    name_match: l.how.code().to_string(),
                });
            }
        }
        flag_store::save_resolution(conn, sweep_id, &not_judged, &ids, &links)?;
        Ok(not_judged)
    }
}

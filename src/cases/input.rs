//! The case input: flags, rings and institution risk with the facts of their claims, taken
//! from the stored flags of a sweep or from the snapshot and the graph findings in memory.

use super::group::*;
use super::CaseError;
use crate::finding::{FlagRef, FlagSubject, Flags};
use crate::graph::GraphFindings;
#[allow(unused_imports)]
use crate::intern::Text;
use crate::model::Fen;
use crate::policy::CasesPolicy;
use crate::resolve::Persons;
use crate::snapshot::{IndexSet, Interner, Snapshot, SnapshotIn};
use crate::store::read::LedgerState;
use hashbrown::HashMap;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeSet;

/// A text column read without a copy.
pub(super) fn text_at<'r>(r: &'r rusqlite::Row<'_>, k: usize) -> rusqlite::Result<&'r str> {
    Ok(text_or_null_at(r, k)?.unwrap_or(""))
}

pub(super) fn text_or_null_at<'r>(
    r: &'r rusqlite::Row<'_>,
    k: usize,
) -> rusqlite::Result<Option<&'r str>> {
    r.get_ref(k)?.as_str_or_null().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(k, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Claim facts read from the `claims` table for the claims a sweep's stored findings name.
pub(super) struct StoredClaims {
    /// Claim ids in the order of their references (ascending).
    pub(super) ids: Vec<u32>,
    pub(super) names: Interner,
    /// Per reference: id number, county code, institution id (ids into `texts`), paid.
    pub(super) id_number: Vec<u32>,
    pub(super) county: Vec<u32>,
    pub(super) institution: Vec<u32>,
    pub(super) paid: Vec<Fen>,
    pub(super) texts: Interner,
}

impl ClaimFacts for StoredClaims {
    fn claim_id(&self, c: u32) -> &str {
        self.names.resolve(self.ids[c as usize])
    }
    fn id_number(&self, c: u32) -> &str {
        self.texts.resolve(self.id_number[c as usize])
    }
    fn paid(&self, c: u32) -> Fen {
        self.paid[c as usize]
    }
    fn county_code(&self, c: u32) -> &str {
        self.texts.resolve(self.county[c as usize])
    }
    fn institution_id(&self, c: u32) -> &str {
        self.texts.resolve(self.institution[c as usize])
    }
}

/// What the database path loads: flag rows, graph findings and the facts of every claim they
/// name, with claim references remapped to ascend with the claim id.
pub(super) struct StoredInput {
    pub(super) flags: Vec<StoredFlagRow>,
    /// Flag rules, kinds and subjects.
    pub(super) labels: Interner,
    pub(super) flag_claims: Vec<u32>,
    pub(super) rings: Vec<RingInput>,
    pub(super) institutions: Vec<InstitutionInput>,
    pub(super) classes: Vec<(u32, (String, String))>,
    pub(super) facts: StoredClaims,
}

impl StoredInput {
    pub(super) fn input(&self) -> BuildInput<'_, StoredClaims> {
        BuildInput {
            facts: &self.facts,
            flags: FlagRows {
                rows: &self.flags,
                labels: &self.labels,
                claims: &self.flag_claims,
            },
            rings: &self.rings,
            institutions: &self.institutions,
            classes: self
                .classes
                .iter()
                .map(|(k, v)| (self.labels.resolve(*k), v.clone()))
                .collect(),
        }
    }
}

pub(super) fn load_stored(
    conn: &Connection,
    sweep_id: i64,
    policy: &CasesPolicy,
) -> Result<StoredInput, CaseError> {
    let mut names = Interner::new();
    let mut labels = Interner::new();
    // The ledger as the sweep judged it.
    let state = LedgerState::of_sweep(conn, sweep_id)?;
    let (flags, mut flag_claims) = stored_flags(conn, sweep_id, policy, &mut names, &mut labels)?;
    let mut rings = stored_rings(conn, sweep_id, &mut names)?;
    let mut institutions = stored_institutions(conn, &state, sweep_id, policy, &mut names)?;
    let ids = to_references(&names, &mut flag_claims, &mut rings, &mut institutions);
    let facts = stored_claim_facts(conn, &state, sweep_id, StoredClaims::new(ids, names))?;
    let classes = stored_classes(conn, &state, &flags, &labels)?;
    Ok(StoredInput {
        flags,
        labels,
        flag_claims,
        rings,
        institutions,
        classes,
        facts,
    })
}

/// The sweep's flags in `seq` order, their claims as one flat list of interned claim ids.
fn stored_flags(
    conn: &Connection,
    sweep_id: i64,
    policy: &CasesPolicy,
    names: &mut Interner,
    labels: &mut Interner,
) -> Result<(Vec<StoredFlagRow>, Vec<u32>), CaseError> {
    let mut empty: Vec<usize> = Vec::new();
    let mut flags = Vec::new();
    let mut flag_claims: Vec<u32> = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT seq, rule, subject_kind, subject, claim_ids, amount_at_risk_fen, severity
             FROM flags WHERE sweep_id = ?1 ORDER BY seq",
        )?;
        let mut rows = stmt.query([sweep_id])?;
        while let Some(r) = rows.next()? {
            let start = flag_claims.len();
            for c in text_at(r, 4)?.split(';').map(str::trim) {
                if !c.is_empty() {
                    flag_claims.push(names.intern(c));
                }
            }
            if flag_claims.len() == start {
                empty.push(flags.len());
            }
            flags.push(StoredFlagRow {
                seq: r.get(0)?,
                rule: labels.intern(text_at(r, 1)?),
                subject_kind: labels.intern(text_at(r, 2)?),
                subject: labels.intern(text_at(r, 3)?),
                claims: start..flag_claims.len(),
                amount: r.get(5)?,
                weight: severity_weight(policy, text_at(r, 6)?),
            });
        }
    }
    if !empty.is_empty() {
        // A flag whose claim_ids column is empty may still list its claims in flag_claims.
        let mut by_seq = conn.prepare(
            "SELECT claim_id FROM flag_claims WHERE sweep_id = ?1 AND seq = ?2 ORDER BY claim_id",
        )?;
        let mut listed: Vec<u32> = Vec::new();
        let mut moved: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
        for k in empty {
            let start = listed.len();
            let mut rows = by_seq.query(params![sweep_id, flags[k].seq])?;
            while let Some(r) = rows.next()? {
                listed.push(names.intern(text_at(r, 0)?));
            }
            moved.push((k, start..listed.len()));
        }
        let base = flag_claims.len();
        flag_claims.extend(listed);
        for (k, range) in moved {
            flags[k].claims = base + range.start..base + range.end;
        }
    }

    Ok((flags, flag_claims))
}

/// The rings the graph stored for the sweep, each named by its smallest institution (else
/// person) member.
fn stored_rings(
    conn: &Connection,
    sweep_id: i64,
    names: &mut Interner,
) -> Result<Vec<RingInput>, CaseError> {
    use super::schema::table_exists;
    let mut rings: Vec<RingInput> = Vec::new();
    if table_exists(conn, "rings")? && table_exists(conn, "ring_members")? {
        let stored: Vec<(i64, String)> = {
            let mut stmt = conn.prepare(
                "SELECT ring_id, claim_ids FROM rings WHERE sweep_id = ?1 ORDER BY ring_id",
            )?;
            let rows = stmt.query_map([sweep_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        // The smallest member of each kind, per ring.
        let mut smallest: HashMap<(i64, String), String> = HashMap::new();
        {
            let mut stmt = conn.prepare(
                "SELECT ring_id, kind, min(value) FROM ring_members
                 WHERE sweep_id = ?1 AND kind IN ('institution', 'person', 'county')
                 GROUP BY ring_id, kind",
            )?;
            let mut rows = stmt.query([sweep_id])?;
            while let Some(r) = rows.next()? {
                smallest.insert((r.get(0)?, r.get(1)?), r.get(2)?);
            }
        }
        for (ring_id, claim_ids) in stored {
            let member = |kind: &str| smallest.get(&(ring_id, kind.to_string())).cloned();
            let institution = member("institution");
            let subject = institution
                .clone()
                .or_else(|| member("person"))
                .unwrap_or_else(|| format!("ring{ring_id}"));
            let claims: Vec<u32> = split_set(&claim_ids)
                .iter()
                .map(|c| names.intern(c))
                .collect();
            rings.push(RingInput {
                ring_id,
                subject,
                county: member("county"),
                institution,
                claims,
            });
        }
    }

    Ok(rings)
}

/// The top institutions of the sweep's risk ranking (policy `institution_top_n`), with the
/// claims their evidence names.
fn stored_institutions(
    conn: &Connection,
    state: &LedgerState,
    sweep_id: i64,
    policy: &CasesPolicy,
    names: &mut Interner,
) -> Result<Vec<InstitutionInput>, CaseError> {
    use super::schema::table_exists;
    let mut institutions: Vec<InstitutionInput> = Vec::new();
    if table_exists(conn, "institution_risk")? {
        let top: Vec<(i64, String, rusqlite::types::Value)> = {
            let mut stmt = conn.prepare(
                "SELECT rank, institution_id, evidence_json FROM institution_risk
                 WHERE sweep_id = ?1 AND rank <= ?2 ORDER BY rank",
            )?;
            let rows = stmt.query_map(params![sweep_id, policy.institution_top_n], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let mut county = conn.prepare_cached(&format!(
            "SELECT county_code FROM {} WHERE institution_id = ?1",
            state.table("institutions")
        ))?;
        for (rank, inst, evidence) in top {
            let terms = crate::store::graph::risk_terms((&evidence).into()).map_err(|e| {
                CaseError::Malformed(format!("institution_risk.evidence_json of {inst}: {e}"))
            })?;
            let claim_ids: BTreeSet<&str> = terms
                .iter()
                .flat_map(|t| t.claim_ids.iter().map(String::as_str))
                .collect();
            let claims: Vec<u32> = claim_ids.iter().map(|c| names.intern(c)).collect();
            let county = county
                .query_row([&inst], |r| r.get::<_, String>(0))
                .optional()?
                .filter(|c| !c.is_empty());
            institutions.push(InstitutionInput {
                rank,
                institution: inst,
                claims,
                county,
            });
        }
    }

    Ok(institutions)
}

fn stored_claim_facts(
    conn: &Connection,
    state: &LedgerState,
    sweep_id: i64,
    mut facts: StoredClaims,
) -> Result<StoredClaims, CaseError> {
    use super::schema::table_exists;
    // Facts of every named claim, looked up in claim id order (neighbouring index pages). A
    // claim that is not in the ledger still counts, with no amount of its own.
    {
        // The person of a claim is its resolved person's smallest ID number, as the sweep
        // stored it (`person_ids`); an ID number not listed there is a person of its own.
        let resolved = table_exists(conn, "person_ids")?;
        let claims = state.table("claims");
        let mut stmt = conn.prepare(&if resolved {
            format!(
                "SELECT coalesce(p.person, c.id_number), c.amount_fen + c.living_amount_fen,
                        c.county_code, c.institution_id
                 FROM {claims} c
                 LEFT JOIN person_ids p ON p.sweep_id = ?2 AND p.id_number = c.id_number
                 WHERE c.claim_id = ?1"
            )
        } else {
            format!(
                "SELECT id_number, amount_fen + living_amount_fen, county_code, institution_id
                 FROM {claims} WHERE claim_id = ?1 AND ?2 IS NOT NULL"
            )
        })?;
        for k in 0..facts.ids.len() {
            let mut rows = stmt.query(params![facts.names.resolve(facts.ids[k]), sweep_id])?;
            match rows.next()? {
                Some(r) => facts.push(Some((
                    text_at(r, 0)?,
                    r.get(1)?,
                    text_at(r, 2)?,
                    text_at(r, 3)?,
                ))),
                None => facts.push(None),
            }
        }
    }

    Ok(facts)
}

/// A class (its interned id) with its county code and institution id.
type ClassPlace = (u32, (String, String));

/// County and institution of the classes that project flags name.
fn stored_classes(
    conn: &Connection,
    state: &LedgerState,
    flags: &[StoredFlagRow],
    labels: &Interner,
) -> Result<Vec<ClassPlace>, CaseError> {
    let mut classes = Vec::new();
    {
        let mut class_stmt = conn.prepare_cached(&format!(
            "SELECT county_code, institution_id FROM {} WHERE class_id = ?1",
            state.table("classes")
        ))?;
        let project = labels.get("project");
        let mut seen = BTreeSet::new();
        for f in flags.iter().filter(|f| Some(f.subject_kind) == project) {
            if !seen.insert(f.subject) {
                continue;
            }
            if let Some(row) = class_stmt
                .query_row([labels.resolve(f.subject)], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .optional()?
            {
                classes.push((f.subject, row));
            }
        }
    }

    Ok(classes)
}

/// Claim references that ascend with the claim id (byte order, as SQLite sorts text):
/// `ids[reference]` is the name id, `reference[name id]` the reference.
pub(super) fn references_by_claim_id(names: &Interner) -> (Vec<u32>, Vec<u32>) {
    let mut ids: Vec<u32> = (0..names.len() as u32).collect();
    ids.sort_unstable_by(|&a, &b| names.resolve(a).cmp(names.resolve(b)));
    let mut reference = vec![0u32; ids.len()];
    for (k, &id) in ids.iter().enumerate() {
        reference[id as usize] = k as u32;
    }
    (ids, reference)
}

/// Turns the claim name ids of flags, rings and institutions into references that ascend
/// with the claim id (each ring's and institution's list sorted again); returns `ids`
/// (reference → name id).
pub(super) fn to_references(
    names: &Interner,
    flag_claims: &mut [u32],
    rings: &mut [RingInput],
    institutions: &mut [InstitutionInput],
) -> Vec<u32> {
    let (ids, reference) = references_by_claim_id(names);
    renumber_claims(flag_claims, rings, institutions, |c| reference[c as usize]);
    ids
}

/// Replaces every claim of flags, rings and institutions by `reference(claim)`, each ring's
/// and institution's list sorted again.
fn renumber_claims(
    flag_claims: &mut [u32],
    rings: &mut [RingInput],
    institutions: &mut [InstitutionInput],
    reference: impl Fn(u32) -> u32,
) {
    for c in flag_claims.iter_mut() {
        *c = reference(*c);
    }
    let lists = rings
        .iter_mut()
        .map(|r| &mut r.claims)
        .chain(institutions.iter_mut().map(|i| &mut i.claims));
    for list in lists {
        for c in list.iter_mut() {
            *c = reference(*c);
        }
        list.sort_unstable();
    }
}

impl StoredClaims {
    /// No facts yet for the references `ids` (reference → id in `names`).
    pub(super) fn new(ids: Vec<u32>, names: Interner) -> StoredClaims {
        let n = ids.len();
        StoredClaims {
            ids,
            names,
            id_number: Vec::with_capacity(n),
            county: Vec::with_capacity(n),
            institution: Vec::with_capacity(n),
            paid: Vec::with_capacity(n),
            texts: Interner::new(),
        }
    }

    /// The facts of the next reference: (ID number, paid, county code, institution id), or
    /// `None` for a claim not in the ledger (it still counts, with no amount of its own).
    pub(super) fn push(&mut self, facts: Option<(&str, Fen, &str, &str)>) {
        let (id_number, paid, county, institution) = match facts {
            Some((id, paid, county, inst)) => (
                self.texts.intern(id),
                paid,
                self.texts.intern(county),
                self.texts.intern(inst),
            ),
            None => (0, 0, 0, 0),
        };
        self.push_interned(id_number, paid, county, institution);
    }

    /// [`push`](Self::push) with texts already interned in `texts`.
    fn push_interned(&mut self, id_number: u32, paid: Fen, county: u32, institution: u32) {
        self.id_number.push(id_number);
        self.paid.push(paid);
        self.county.push(county);
        self.institution.push(institution);
    }

    /// The id in `texts` of the text a snapshot id `key` spells, interned on first sight and
    /// remembered in `memo` (indexed by `key`; `u32::MAX` not yet): the same ids, in the same
    /// order, as interning the text every time.
    fn intern_once(&mut self, memo: &mut [u32], key: u32, text: &str) -> u32 {
        let slot = &mut memo[key as usize];
        if *slot == u32::MAX {
            *slot = self.texts.intern(text);
        }
        *slot
    }
}

impl StoredInput {
    /// What [`load_stored`] reads back, taken from the sweep still in memory instead: its
    /// flags (`seq` = position), its graph findings, and the facts of every claim they name
    /// copied out of the snapshot, so that the snapshot can be freed before cases are written.
    ///
    /// Two passes over the flags: the first reads the claims they name (and the classes of
    /// project flags) while the snapshot is there; an owned snapshot is then emptied, and the
    /// second takes the flags in. The sweep's peak was where both were held whole beside
    /// what this builds.
    pub(super) fn from_memory(
        mut snap_in: SnapshotIn<'_>,
        persons: &Persons,
        flags: &(impl Flags + ?Sized),
        findings: &GraphFindings,
        policy: &CasesPolicy,
    ) -> StoredInput {
        let (refs, facts, rings, institutions, project_classes) = {
            let snap = snap_in.get();
            // Claims are referenced by rank in claim-id order (what `to_references` gives the
            // stored path). The snapshot keeps claims sorted by claim id, so that rank is the
            // claim index's rank among the claims named: a bit set over claim indices gives
            // it without hashing, interning or sorting a claim id (at ten million claims that
            // was most of this step).
            let mut named = IndexSet::new(snap.claims.len());
            // Where each project flag's class is (few flags: one per project).
            let mut project_classes: HashMap<String, (String, String)> = HashMap::new();
            for f in flags.each() {
                for &c in f.claims {
                    named.insert(c);
                }
                if f.subject_kind != FlagSubject::Project || project_classes.contains_key(f.subject)
                {
                    continue;
                }
                let class = snap
                    .class_keys
                    .get(f.subject)
                    .and_then(|key| snap.class(key));
                if let Some(class) = class {
                    project_classes.insert(
                        f.subject.to_string(),
                        (
                            snap.counties.resolve(class.county).to_string(),
                            snap.orgs.resolve(class.institution).to_string(),
                        ),
                    );
                }
            }
            let (mut rings, mut institutions) = memory_graph(snap, findings, policy);
            let lists = rings
                .iter()
                .map(|r| &r.claims)
                .chain(institutions.iter().map(|i| &i.claims));
            for list in lists {
                for &c in list {
                    named.insert(c);
                }
            }
            let mut refs = ClaimReferences::new(named, |c| snap.claim_id(c as usize));
            renumber_claims(&mut [], &mut rings, &mut institutions, |c| refs.of(c));
            let facts = claim_facts(snap, persons, std::mem::take(&mut refs.names), &refs.claims);
            (refs, facts, rings, institutions, project_classes)
        };
        // An owned snapshot goes whole: nothing after this reads it.
        snap_in.release(|s| drop(std::mem::take(s)));
        let mut labels = Interner::new();
        let mut flag_claims: Vec<u32> = Vec::new();
        let mut rows = Vec::with_capacity(flags.count());
        let mut classes = Vec::new();
        let mut seen_classes = BTreeSet::new();
        let mut take_in = |seq: usize, f: FlagRef<'_>| {
            let start = flag_claims.len();
            flag_claims.extend(f.claims.iter().map(|&c| refs.of(c)));
            let subject = labels.intern(f.subject);
            rows.push(StoredFlagRow {
                seq: seq as i64,
                rule: labels.intern(f.rule),
                subject_kind: labels.intern(f.subject_kind.code()),
                subject,
                claims: start..flag_claims.len(),
                amount: f.amount_at_risk,
                weight: weight_of(policy, f.severity),
            });
            if f.subject_kind != FlagSubject::Project || !seen_classes.insert(subject) {
                return;
            }
            if let Some(place) = project_classes.get(f.subject) {
                classes.push((subject, place.clone()));
            }
        };
        flags.each().enumerate().for_each(|(k, f)| take_in(k, f));
        StoredInput {
            flags: rows,
            labels,
            flag_claims,
            rings,
            institutions,
            classes,
            facts,
        }
    }
}

/// The facts of every named claim (`claims`: the snapshot index of each reference, spelt in
/// `names`): the person's ID number, what it paid, its county and institution.
fn claim_facts(
    snap: &Snapshot,
    persons: &Persons,
    names: crate::snapshot::StrColumn,
    claims: &[u32],
) -> StoredClaims {
    let ids: Vec<u32> = (0..claims.len() as u32).collect();
    let mut facts = StoredClaims::new(ids, Interner::from_sealed_strings(names));
    // A person's ID number, a county and an institution recur claim after claim: each is
    // interned once, remembered by its snapshot id.
    let mut person_texts = vec![u32::MAX; snap.ids.len()];
    let mut county_texts = vec![u32::MAX; snap.counties.len()];
    let mut org_texts = vec![u32::MAX; snap.orgs.len()];
    for &c in claims {
        if c == u32::MAX {
            facts.push(None);
            continue;
        }
        let claim = &snap.claims[c as usize];
        // The person: its smallest ID number (identity resolution).
        let person = persons.of(claim.person);
        let id_number = facts.intern_once(&mut person_texts, person, &snap.ids.resolve(person));
        let county = facts.intern_once(
            &mut county_texts,
            claim.county,
            snap.counties.resolve(claim.county),
        );
        let institution = facts.intern_once(
            &mut org_texts,
            claim.institution,
            snap.orgs.resolve(claim.institution),
        );
        facts.push_interned(id_number, claim.paid(), county, institution);
    }
    facts
}

/// [`IndexSet`] of the snapshot claims that flags, rings and institutions name, numbered in
/// claim-id order as [`to_references`] numbers stored claims: reference 0 is the empty claim
/// id (no claim), then one reference per distinct claim id.
struct ClaimReferences {
    named: IndexSet,
    /// Reference of the `k`-th named claim (equal claim ids share one).
    of_named: Vec<u32>,
    /// Claim id of each reference.
    names: crate::snapshot::StrColumn,
    /// Snapshot claim index of each reference (`u32::MAX` for reference 0).
    claims: Vec<u32>,
}

impl ClaimReferences {
    /// Numbers `named` in claim index order, which is claim-id order (the snapshot's
    /// invariant); `claim_id` spells a claim index.
    fn new<'s>(mut named: IndexSet, claim_id: impl Fn(u32) -> Text<'s>) -> ClaimReferences {
        named.seal();
        let count = named.len();
        let mut names = crate::snapshot::StrColumn::with_capacity(0);
        names.push("");
        let mut claims = Vec::with_capacity(count + 1);
        claims.push(u32::MAX);
        let mut of_named = Vec::with_capacity(count);
        let mut last = Text::from("");
        for c in named.iter() {
            let id = claim_id(c);
            debug_assert!(last <= id, "snapshot claims out of claim-id order");
            // Equal claim ids (only in hand-made snapshots: ingest rejects them) are one
            // reference, as interning made them; an empty one is reference 0 (`last`
            // starts as its name).
            if id != last {
                names.push(&id);
                claims.push(c);
                last = id;
            }
            of_named.push(claims.len() as u32 - 1);
        }
        ClaimReferences {
            named,
            of_named,
            names,
            claims,
        }
    }

    /// The reference of a named claim.
    fn of(&self, c: u32) -> u32 {
        self.of_named[self.named.rank(c) as usize]
    }
}

/// Rings and top institutions of the graph's findings, reduced as the graph stage stores
/// them (`ring_members`, `institution_risk.evidence_json`) and this module reads them back.
pub(super) fn memory_graph(
    snap: &Snapshot,
    findings: &GraphFindings,
    policy: &CasesPolicy,
) -> (Vec<RingInput>, Vec<InstitutionInput>) {
    let rings = findings
        .rings
        .iter()
        .map(|r| {
            let institution = r.institutions.iter().min().cloned();
            RingInput {
                ring_id: r.id as i64,
                subject: institution
                    .clone()
                    .or_else(|| r.persons.iter().min().cloned())
                    .unwrap_or_else(|| format!("ring{}", r.id)),
                county: r.counties.iter().min().cloned(),
                institution,
                claims: {
                    let mut claims = r.claims.clone();
                    claims.sort_unstable();
                    claims.dedup();
                    claims
                },
            }
        })
        .collect();
    let institutions = findings
        .institution_risk
        .iter()
        .filter(|r| r.rank <= policy.institution_top_n)
        .map(|r| {
            let mut claims: Vec<u32> = r
                .evidence
                .iter()
                .flat_map(|e| e.claims.iter().copied())
                .collect();
            claims.sort_unstable();
            claims.dedup();
            let county = snap
                .orgs
                .get(&r.code)
                .and_then(|org| snap.institution(org))
                .map(|i| snap.counties.resolve(i.county))
                .filter(|c| !c.is_empty())
                .map(String::from);
            InstitutionInput {
                rank: r.rank as i64,
                institution: r.code.clone(),
                claims,
                county,
            }
        })
        .collect();
    (rings, institutions)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Named claims are numbered as `to_references` numbers interned claim ids: reference 0
    /// is the empty id, equal ids share a reference, the rest ascend with the claim id.
    #[test]
    fn named_claims_are_numbered_as_interned_claim_ids() {
        let ids = ["", "a", "a", "b", "c", "d"];
        let mut named = IndexSet::new(200);
        for c in [0u32, 1, 2, 3, 5] {
            named.insert(c);
        }
        let refs = ClaimReferences::new(named, |c| ids[c as usize].into());
        let got: Vec<u32> = [0, 1, 2, 3, 5].iter().map(|&c| refs.of(c)).collect();
        assert_eq!(got, [0, 1, 1, 2, 3]);
        assert_eq!(refs.claims, [u32::MAX, 1, 3, 5]);
        let names: Vec<&str> = (0..refs.names.len() as u32)
            .map(|k| refs.names.get(k))
            .collect();
        assert_eq!(names, ["", "a", "b", "d"]);

        let mut interned = Interner::new();
        for &c in &[0usize, 1, 2, 3, 5] {
            interned.intern(ids[c]);
        }
        let (by_claim_id, _) = references_by_claim_id(&interned);
        let spelled: Vec<&str> = by_claim_id.iter().map(|&i| interned.resolve(i)).collect();
        assert_eq!(spelled, names);
    }

    /// Claims beyond the first word of the set (indices ≥ 64) count the words before them.
    #[test]
    fn references_count_across_words() {
        let mut named = IndexSet::new(300);
        for c in [3u32, 64, 130, 255] {
            named.insert(c);
        }
        let ids: Vec<String> = (0..300).map(|i| format!("c{i:04}")).collect();
        let refs = ClaimReferences::new(named, |c| ids[c as usize].as_str().into());
        let got: Vec<u32> = [3, 64, 130, 255].iter().map(|&c| refs.of(c)).collect();
        assert_eq!(got, [1, 2, 3, 4]);
    }
}

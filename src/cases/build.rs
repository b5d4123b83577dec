//! Building the cases of one sweep from its stored flags.
//!
//! Grouping (subject of the case ← flag):
//! - `project` flags → the class (`class:<class_id>`), family `project`;
//! - `contact` flags → the phone or bank account (`contact:<phone:…|bank:…>`), family `network`;
//! - every other flag (person, person_year, claim) → the person: the resolved person of its
//!   claims (`resolve::persons`), named by its smallest ID number (the smallest such name
//!   when a flag spans several persons), family of its rule;
//! - rings stored by the graph stage (`rings`/`ring_members`) → `ring:<smallest member>`.
//!
//! Amount at risk counts each claim once: a flag's amount is spread over its claims in
//! proportion to what each claim paid (amount + living allowance); a claim flagged by several
//! rules of one case counts with the largest share any of them gives it, never the sum.
//!
//! Score = weight of the most severe rule × (1 + breadth_bonus × (distinct rules − 1))
//!         × amount at risk in yuan, with the weights of the policy's `[cases]` section
//! (Linyi: high 3, medium 2, low 1, breadth bonus 0.25). Money weighs most; a case that
//! several independent rules agree on ranks above one rule. The score orders the inspectors'
//! queue only; it decides nothing.

use super::{family_code, CaseError, CaseSubject, Change, Family, Status};
use crate::dates::now_timestamp;
use crate::graph::GraphFindings;
use crate::model::{fen_to_yuan, Fen};
use crate::policy::{CasesPolicy, PolicySet, Severity};
use crate::resolve::Persons;
use crate::finding::{Flag, FlagSubject};
use crate::snapshot::{Interner, Snapshot};
use hashbrown::HashMap;
use rusqlite::{params, Connection, OptionalExtension, ToSql, TransactionBehavior};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// The actor of history entries written by the sweep itself.
pub const SYSTEM_ACTOR: &str = "system";

/// What building the cases of one sweep did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub sweep_id: i64,
    /// Cases found in this sweep.
    pub cases: usize,
    pub new: usize,
    pub persisting: usize,
    pub reopened: usize,
    /// Found in the previous sweep, not in this one.
    pub resolved: usize,
    /// Dismissed cases found again with no new evidence: they stay dismissed.
    pub kept_dismissed: usize,
    /// Sum over the cases of this sweep (a claim in two cases counts in both).
    pub amount_at_risk_fen: Fen,
    pub flags: usize,
    /// Ring and institution cases opened from the graph's findings.
    #[serde(default)]
    pub graph_cases: usize,
}

/// Weight of a severity in the score (policy `[cases]`).
pub fn weight_of(policy: &CasesPolicy, severity: Severity) -> f64 {
    match severity {
        Severity::High => policy.weight_high,
        Severity::Medium => policy.weight_medium,
        Severity::Low => policy.weight_low,
    }
}

/// Weight of a severity as stored in `flags.severity`; an unknown one weighs as low.
pub fn severity_weight(policy: &CasesPolicy, severity: &str) -> f64 {
    let sev = match severity {
        "high" => Severity::High,
        "medium" => Severity::Medium,
        _ => Severity::Low,
    };
    weight_of(policy, sev)
}

/// The documented score of a case (module documentation).
pub fn score(policy: &CasesPolicy, max_weight: f64, distinct_rules: usize, amount: Fen) -> f64 {
    let breadth = 1.0 + policy.breadth_bonus * (distinct_rules.saturating_sub(1)) as f64;
    let raw = max_weight * breadth * amount as f64 / 100.0;
    (raw * 100.0).round() / 100.0
}

/// Evidence fingerprint: sorted claim ids and rules. Same fingerprint, same evidence.
pub fn evidence_hash(claim_ids: &BTreeSet<String>, rules: &BTreeSet<String>) -> String {
    evidence_hash_sorted(
        claim_ids.iter().map(String::as_str),
        rules.iter().map(String::as_str),
    )
}

pub fn case_key(subject_kind: &str, subject: &str, family: &str) -> String {
    format!("{subject_kind}:{subject}:{family}")
}

/// Facts of the claims a build names, by claim reference. References ascend with the claim id
/// (byte order, as SQLite sorts text), so sorting references sorts claim ids.
trait ClaimFacts {
    fn claim_id(&self, c: u32) -> &str;
    fn id_number(&self, c: u32) -> &str;
    /// Amount plus living allowance.
    fn paid(&self, c: u32) -> Fen;
    fn county_code(&self, c: u32) -> &str;
    fn institution_id(&self, c: u32) -> &str;
}

/// One flag of the sweep, borrowed from where it was loaded (database rows or the sweep's
/// own flags).
struct FlagInput<'a> {
    seq: i64,
    rule: &'a str,
    subject_kind: &'a str,
    subject: &'a str,
    /// Claim references, as the flag lists them.
    claims: &'a [u32],
    amount: Fen,
    weight: f64,
}

/// A ring of the graph stage: its subject and members already reduced to what a case needs.
struct RingInput {
    ring_id: i64,
    /// Smallest institution member, else smallest person, else `ring<id>`.
    subject: String,
    /// Smallest county member.
    county: Option<String>,
    /// Smallest institution member.
    institution: Option<String>,
    /// Sorted, unique.
    claims: Vec<u32>,
    amount: Fen,
}

/// One of the first `institution_top_n` institutions of the graph's risk ranking.
struct InstitutionInput {
    rank: i64,
    institution: String,
    amount: Fen,
    /// Union of the claims of its evidence terms: sorted, unique.
    claims: Vec<u32>,
    /// County of the institution's registry row, when not empty.
    county: Option<String>,
}

/// Everything a build groups, whatever it was loaded from.
struct BuildInput<'a, F: ClaimFacts> {
    facts: &'a F,
    flags: Vec<FlagInput<'a>>,
    rings: &'a [RingInput],
    institutions: &'a [InstitutionInput],
    /// class id → (county code, institution id) of the classes the project flags name.
    classes: HashMap<&'a str, (String, String)>,
}

/// One case while grouping; its claims, flags and rules are ranges of the flat lists of
/// [`Grouped`].
struct CaseBuild {
    /// `subject_kind:subject:rule_family`; the subject is the text between the kind and the
    /// family.
    key: String,
    subject_kind: &'static str,
    family: &'static str,
    max_weight: f64,
    /// Ids in [`Grouped::texts`].
    county: u32,
    institution: u32,
    /// Graph rings behind a ring case.
    ring_ids: Vec<i64>,
    /// Rank in the graph's institution risk, for institution cases.
    institution_rank: Option<i64>,
    /// Replaced by a later case of the same key (institution cases, as a map insert would).
    replaced: bool,
    claims: std::ops::Range<usize>,
    seqs: std::ops::Range<usize>,
    rules: std::ops::Range<usize>,
}

impl CaseBuild {
    fn subject(&self) -> &str {
        &self.key[self.subject_kind.len() + 1..self.key.len() - self.family.len() - 1]
    }
}

/// The cases of one sweep, grouped.
struct Grouped {
    cases: Vec<CaseBuild>,
    /// Indices into `cases` in key order, replaced cases left out.
    order: Vec<u32>,
    /// (case, claim, amount at risk of the claim in the case): sorted, one row per claim.
    claims: Vec<(u32, u32, Fen)>,
    /// (case, flag seq) in flag order within each case.
    seqs: Vec<(u32, i64)>,
    /// (case, rule rank): sorted, unique; `rule_names[rank]` ascends with the rank.
    rules: Vec<(u32, u32)>,
    rule_names: Vec<String>,
    /// County codes and institution ids of the cases.
    texts: Interner,
    graph_cases: usize,
}

impl Grouped {
    fn claims_of(&self, case: &CaseBuild) -> &[(u32, u32, Fen)] {
        &self.claims[case.claims.clone()]
    }
    fn rules_of<'s>(&'s self, case: &CaseBuild) -> impl Iterator<Item = &'s str> + Clone {
        self.rules[case.rules.clone()]
            .iter()
            .map(|&(_, r)| self.rule_names[r as usize].as_str())
    }
}

/// Spreads a flag's amount over its claims in proportion to what each paid; the remainder of
/// the integer division goes to the last claim so the shares add up to the flag's amount.
#[cfg(test)]
fn spread(amount: Fen, paid: &[Fen]) -> Vec<Fen> {
    let mut shares = Vec::with_capacity(paid.len());
    spread_into(amount, paid, &mut shares);
    shares
}

fn spread_into(amount: Fen, paid: &[Fen], shares: &mut Vec<Fen>) {
    shares.clear();
    if paid.is_empty() {
        return;
    }
    let total: i128 = paid.iter().map(|&p| p.max(0) as i128).sum();
    if total == 0 {
        shares.resize(paid.len(), amount / paid.len() as Fen);
    } else {
        shares.extend(
            paid.iter()
                .map(|&p| ((amount as i128 * p.max(0) as i128) / total) as Fen),
        );
    }
    let given: Fen = shares.iter().sum();
    if let Some(last) = shares.last_mut() {
        *last += amount - given;
    }
}

/// The most frequent non-empty value, ties broken by the smallest.
#[cfg(test)]
fn mode<'a>(values: impl Iterator<Item = &'a str>) -> String {
    mode_of(values).to_string()
}

/// [`mode`] without the copy.
fn mode_of<'a>(values: impl Iterator<Item = &'a str>) -> &'a str {
    let mut all: Vec<&str> = values.filter(|v| !v.is_empty()).collect();
    all.sort_unstable();
    let mut best: (&str, usize) = ("", 0);
    let mut k = 0;
    while k < all.len() {
        let run = all[k..].iter().take_while(|v| **v == all[k]).count();
        if run > best.1 {
            best = (all[k], run);
        }
        k += run;
    }
    best.0
}

/// Subject kinds of flag cases.
const KIND_PERSON: &str = CaseSubject::Person.code();
const KIND_CLASS: &str = CaseSubject::Class.code();
const KIND_CONTACT: &str = CaseSubject::Contact.code();

/// Groups flags, rings and top institutions into cases (module documentation).
fn group<F: ClaimFacts>(input: &BuildInput<'_, F>, policy: &CasesPolicy) -> Grouped {
    let facts = input.facts;
    let mut by_key: HashMap<(&'static str, &str, &'static str), u32> = HashMap::new();
    let mut cases: Vec<CaseBuild> = Vec::new();
    let mut claims: Vec<(u32, u32, Fen)> = Vec::new();
    let mut seqs: Vec<(u32, i64)> = Vec::with_capacity(input.flags.len());
    let mut rules: Vec<(u32, u32)> = Vec::with_capacity(input.flags.len());
    let mut rule_ids: HashMap<&str, u32> = HashMap::new();
    let mut rule_list: Vec<&str> = Vec::new();
    let mut rule_id = |name| {
        *rule_ids.entry(name).or_insert_with(|| {
            rule_list.push(name);
            rule_list.len() as u32 - 1
        })
    };
    let new_case = |cases: &mut Vec<CaseBuild>, kind: &'static str, subject: &str, family| {
        cases.push(CaseBuild {
            key: case_key(kind, subject, family),
            subject_kind: kind,
            family,
            max_weight: 0.0,
            county: 0,
            institution: 0,
            ring_ids: Vec::new(),
            institution_rank: None,
            replaced: false,
            claims: 0..0,
            seqs: 0..0,
            rules: 0..0,
        });
        cases.len() as u32 - 1
    };
    let mut paid: Vec<Fen> = Vec::new();
    let mut shares: Vec<Fen> = Vec::new();
    let mut add_claims = |claims: &mut Vec<(u32, u32, Fen)>, ci: u32, list: &[u32], amount| {
        paid.clear();
        paid.extend(list.iter().map(|&c| facts.paid(c)));
        spread_into(amount, &paid, &mut shares);
        claims.extend(list.iter().zip(&shares).map(|(&c, &s)| (ci, c, s)));
    };

    for f in &input.flags {
        let (kind, subject, family): (&'static str, &str, &'static str) = match f.subject_kind {
            "project" => (KIND_CLASS, f.subject, Family::Project.code()),
            "contact" => (KIND_CONTACT, f.subject, Family::Network.code()),
            _ => {
                let person = f
                    .claims
                    .iter()
                    .map(|&c| facts.id_number(c))
                    .filter(|s| !s.is_empty())
                    .min()
                    .unwrap_or(f.subject);
                (KIND_PERSON, person, family_code(f.rule))
            }
        };
        let ci = match by_key.get(&(kind, subject, family)) {
            Some(&ci) => ci,
            None => {
                let ci = new_case(&mut cases, kind, subject, family);
                by_key.insert((kind, subject, family), ci);
                ci
            }
        };
        let case = &mut cases[ci as usize];
        case.max_weight = case.max_weight.max(f.weight);
        seqs.push((ci, f.seq));
        rules.push((ci, rule_id(f.rule)));
        add_claims(&mut claims, ci, f.claims, f.amount);
    }
    let flag_cases = cases.len();

    let mut graph_cases = 0;
    let mut texts = Interner::new();
    // County and institution of graph cases, as the last finding of each case sets them.
    let mut graph_places: Vec<(u32, u32, u32)> = Vec::new();
    let ring_weight = weight_of(policy, policy.ring_severity);
    for ring in input.rings {
        let key = (CaseSubject::Ring.code(), ring.subject.as_str(), Family::Network.code());
        let ci = match by_key.get(&key) {
            Some(&ci) => ci,
            None => {
                graph_cases += 1;
                let ci = new_case(&mut cases, key.0, key.1, key.2);
                by_key.insert(key, ci);
                ci
            }
        };
        rules.push((ci, rule_id("ring")));
        add_claims(&mut claims, ci, &ring.claims, ring.amount);
        let county = match &ring.county {
            Some(c) => c.as_str(),
            None => mode_of(ring.claims.iter().map(|&c| facts.county_code(c))),
        };
        let institution = match &ring.institution {
            Some(i) => i.as_str(),
            None => mode_of(ring.claims.iter().map(|&c| facts.institution_id(c))),
        };
        graph_places.push((ci, texts.intern(county), texts.intern(institution)));
        let case = &mut cases[ci as usize];
        case.max_weight = case.max_weight.max(ring_weight);
        case.ring_ids.push(ring.ring_id);
    }
    let institution_weight = weight_of(policy, policy.institution_severity);
    for inst in input.institutions {
        let key = (
            CaseSubject::Institution.code(),
            inst.institution.as_str(),
            Family::Institution.code(),
        );
        // A second finding of the same key replaces the first, as a map insert does.
        if let Some(&old) = by_key.get(&key) {
            cases[old as usize].replaced = true;
        }
        let ci = new_case(&mut cases, key.0, key.1, key.2);
        by_key.insert(key, ci);
        graph_cases += 1;
        rules.push((ci, rule_id("institution_risk")));
        add_claims(&mut claims, ci, &inst.claims, inst.amount);
        let county = match &inst.county {
            Some(c) => c.as_str(),
            None => mode_of(inst.claims.iter().map(|&c| facts.county_code(c))),
        };
        graph_places.push((ci, texts.intern(county), texts.intern(&inst.institution)));
        let case = &mut cases[ci as usize];
        case.max_weight = institution_weight;
        case.institution_rank = Some(inst.rank);
    }
    drop(by_key);

    // Rule ranks follow rule names, so a case's sorted ranks give its sorted rule names.
    let mut by_name: Vec<u32> = (0..rule_list.len() as u32).collect();
    by_name.sort_unstable_by_key(|&r| rule_list[r as usize]);
    let mut rank = vec![0u32; rule_list.len()];
    for (k, &r) in by_name.iter().enumerate() {
        rank[r as usize] = k as u32;
    }
    let rule_names: Vec<String> = by_name
        .iter()
        .map(|&r| rule_list[r as usize].to_string())
        .collect();
    for r in &mut rules {
        r.1 = rank[r.1 as usize];
    }
    rules.sort_unstable();
    rules.dedup();
    // A claim flagged by several rules of one case counts with its largest share.
    claims.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(b.2.cmp(&a.2)));
    claims.dedup_by(|later, first| later.0 == first.0 && later.1 == first.1);
    seqs.sort_by_key(|&(ci, _)| ci);

    let ranges = |n: usize, cases_of: &mut dyn Iterator<Item = u32>| {
        let mut starts = vec![0usize; n + 1];
        for ci in cases_of {
            starts[ci as usize + 1] += 1;
        }
        for k in 0..n {
            starts[k + 1] += starts[k];
        }
        starts
    };
    let n = cases.len();
    let claim_starts = ranges(n, &mut claims.iter().map(|x| x.0));
    let seq_starts = ranges(n, &mut seqs.iter().map(|x| x.0));
    let rule_starts = ranges(n, &mut rules.iter().map(|x| x.0));
    for (k, case) in cases.iter_mut().enumerate() {
        case.claims = claim_starts[k]..claim_starts[k + 1];
        case.seqs = seq_starts[k]..seq_starts[k + 1];
        case.rules = rule_starts[k]..rule_starts[k + 1];
    }

    for case in &mut cases[..flag_cases] {
        let list = &claims[case.claims.clone()];
        let mut county = mode_of(list.iter().map(|x| facts.county_code(x.1)));
        let mut institution = mode_of(list.iter().map(|x| facts.institution_id(x.1)));
        if case.subject_kind == KIND_CLASS {
            let subject = &case.key[KIND_CLASS.len() + 1..case.key.len() - case.family.len() - 1];
            if let Some((c, i)) = input.classes.get(subject) {
                if !c.is_empty() {
                    county = c;
                }
                if !i.is_empty() {
                    institution = i;
                }
            }
        }
        case.county = texts.intern(county);
        case.institution = texts.intern(institution);
    }
    for (ci, county, institution) in graph_places {
        let case = &mut cases[ci as usize];
        case.county = county;
        case.institution = institution;
    }

    let mut order: Vec<u32> = (0..n as u32)
        .filter(|&ci| !cases[ci as usize].replaced)
        .collect();
    order.sort_unstable_by(|&a, &b| cases[a as usize].key.cmp(&cases[b as usize].key));
    Grouped {
        cases,
        order,
        claims,
        seqs,
        rules,
        rule_names,
        texts,
        graph_cases,
    }
}

/// A text column read without a copy.
fn text_at<'r>(r: &'r rusqlite::Row<'_>, k: usize) -> rusqlite::Result<&'r str> {
    Ok(text_or_null_at(r, k)?.unwrap_or(""))
}

fn text_or_null_at<'r>(r: &'r rusqlite::Row<'_>, k: usize) -> rusqlite::Result<Option<&'r str>> {
    r.get_ref(k)?.as_str_or_null().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(k, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Claim facts read from the `claims` table for the claims a sweep's stored findings name.
struct StoredClaims {
    /// Claim ids in the order of their references (ascending).
    ids: Vec<u32>,
    names: Interner,
    /// Per reference: id number, county code, institution id (ids into `texts`), paid.
    id_number: Vec<u32>,
    county: Vec<u32>,
    institution: Vec<u32>,
    paid: Vec<Fen>,
    texts: Interner,
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

/// A flag row with its claims as provisional references (ids in the name interner).
struct StoredFlagRow {
    seq: i64,
    rule: u32,
    subject_kind: u32,
    subject: u32,
    claims: std::ops::Range<usize>,
    amount: Fen,
    weight: f64,
}

/// What the database path loads: flag rows, graph findings and the facts of every claim they
/// name, with claim references remapped to ascend with the claim id.
struct StoredInput {
    flags: Vec<StoredFlagRow>,
    /// Flag rules, kinds and subjects.
    labels: Interner,
    flag_claims: Vec<u32>,
    rings: Vec<RingInput>,
    institutions: Vec<InstitutionInput>,
    classes: Vec<(u32, (String, String))>,
    facts: StoredClaims,
}

impl StoredInput {
    fn input(&self) -> BuildInput<'_, StoredClaims> {
        BuildInput {
            facts: &self.facts,
            flags: self
                .flags
                .iter()
                .map(|f| FlagInput {
                    seq: f.seq,
                    rule: self.labels.resolve(f.rule),
                    subject_kind: self.labels.resolve(f.subject_kind),
                    subject: self.labels.resolve(f.subject),
                    claims: &self.flag_claims[f.claims.clone()],
                    amount: f.amount,
                    weight: f.weight,
                })
                .collect(),
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

fn load_stored(
    conn: &Connection,
    sweep_id: i64,
    policy: &CasesPolicy,
) -> Result<StoredInput, CaseError> {
    use super::schema::table_exists;
    let mut names = Interner::new();
    let mut labels = Interner::new();
    let mut flags = Vec::new();
    let mut flag_claims: Vec<u32> = Vec::new();
    let mut empty: Vec<usize> = Vec::new();
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

    let mut rings: Vec<RingInput> = Vec::new();
    if table_exists(conn, "rings")? && table_exists(conn, "ring_members")? {
        let stored: Vec<(i64, String, Fen)> = {
            let mut stmt = conn.prepare(
                "SELECT ring_id, claim_ids, amount_fen FROM rings WHERE sweep_id = ?1 ORDER BY ring_id",
            )?;
            let rows = stmt.query_map([sweep_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
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
        for (ring_id, claim_ids, amount) in stored {
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
                amount,
            });
        }
    }

    let mut institutions: Vec<InstitutionInput> = Vec::new();
    if table_exists(conn, "institution_risk")? {
        let top: Vec<(i64, String, Fen, String)> = {
            let mut stmt = conn.prepare(
                "SELECT rank, institution_id, amount_at_risk_fen, evidence_json FROM institution_risk
                 WHERE sweep_id = ?1 AND rank <= ?2 ORDER BY rank",
            )?;
            let rows = stmt.query_map(params![sweep_id, policy.institution_top_n], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let mut county =
            conn.prepare_cached("SELECT county_code FROM institutions WHERE institution_id = ?1")?;
        for (rank, inst, amount, evidence) in top {
            let evidence: serde_json::Value = serde_json::from_str(&evidence).map_err(|e| {
                CaseError::Malformed(format!("institution_risk.evidence_json of {inst}: {e}"))
            })?;
            let mut claim_ids = BTreeSet::new();
            for term in evidence.as_array().into_iter().flatten() {
                for c in term["claim_ids"].as_array().into_iter().flatten() {
                    if let Some(c) = c.as_str() {
                        claim_ids.insert(c);
                    }
                }
            }
            let claims: Vec<u32> = claim_ids.iter().map(|c| names.intern(c)).collect();
            let county = county
                .query_row([&inst], |r| r.get::<_, String>(0))
                .optional()?
                .filter(|c| !c.is_empty());
            institutions.push(InstitutionInput {
                rank,
                institution: inst,
                amount,
                claims,
                county,
            });
        }
    }

    let ids = to_references(&names, &mut flag_claims, &mut rings, &mut institutions);

    // Facts of every named claim, looked up in claim id order (neighbouring index pages). A
    // claim that is not in the ledger still counts, with no amount of its own.
    let mut facts = StoredClaims::new(ids, names);
    {
        // The person of a claim is its resolved person's smallest ID number, as the sweep
        // stored it (`person_ids`); an ID number not listed there is a person of its own.
        let resolved = table_exists(conn, "person_ids")?;
        let mut stmt = conn.prepare(if resolved {
            "SELECT coalesce(p.person, c.id_number), c.amount_fen + c.living_amount_fen,
                    c.county_code, c.institution_id
             FROM claims c
             LEFT JOIN person_ids p ON p.sweep_id = ?2 AND p.id_number = c.id_number
             WHERE c.claim_id = ?1"
        } else {
            "SELECT id_number, amount_fen + living_amount_fen, county_code, institution_id
             FROM claims WHERE claim_id = ?1 AND ?2 IS NOT NULL"
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

    let mut classes = Vec::new();
    {
        let mut class_stmt = conn.prepare_cached(
            "SELECT county_code, institution_id FROM classes WHERE class_id = ?1",
        )?;
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

/// Claim references that ascend with the claim id (byte order, as SQLite sorts text):
/// `ids[reference]` is the name id, `reference[name id]` the reference.
fn references_by_claim_id(names: &Interner) -> (Vec<u32>, Vec<u32>) {
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
fn to_references(
    names: &Interner,
    flag_claims: &mut [u32],
    rings: &mut [RingInput],
    institutions: &mut [InstitutionInput],
) -> Vec<u32> {
    let (ids, reference) = references_by_claim_id(names);
    for c in flag_claims.iter_mut() {
        *c = reference[*c as usize];
    }
    let lists = rings
        .iter_mut()
        .map(|r| &mut r.claims)
        .chain(institutions.iter_mut().map(|i| &mut i.claims));
    for list in lists {
        for c in list.iter_mut() {
            *c = reference[*c as usize];
        }
        list.sort_unstable();
    }
    ids
}

impl StoredClaims {
    /// No facts yet for the references `ids` (reference → id in `names`).
    fn new(ids: Vec<u32>, names: Interner) -> StoredClaims {
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
    fn push(&mut self, facts: Option<(&str, Fen, &str, &str)>) {
        let (id_number, paid, county, institution) = match facts {
            Some((id, paid, county, inst)) => (
                self.texts.intern(id),
                paid,
                self.texts.intern(county),
                self.texts.intern(inst),
            ),
            None => (0, 0, 0, 0),
        };
        self.id_number.push(id_number);
        self.paid.push(paid);
        self.county.push(county);
        self.institution.push(institution);
    }
}

impl StoredInput {
    /// What [`load_stored`] reads back, taken from the sweep still in memory instead: its
    /// flags (`seq` = position), its graph findings, and the facts of every claim they name
    /// copied out of the snapshot, so that the snapshot can be freed before cases are written.
    fn from_memory<F: std::borrow::Borrow<Flag>>(
        snap: &Snapshot,
        persons: &Persons,
        flags: impl ExactSizeIterator<Item = F>,
        findings: &GraphFindings,
        policy: &CasesPolicy,
    ) -> StoredInput {
        let mut names = Interner::new();
        // Snapshot claim index of each name id (none for the empty name 0).
        let mut claim_of_name: Vec<u32> = vec![u32::MAX];
        let mut name_of = |names: &mut Interner, c: u32| -> u32 {
            let id = names.intern(snap.claim_id(c as usize));
            if id as usize == claim_of_name.len() {
                claim_of_name.push(c);
            }
            id
        };
        let mut labels = Interner::new();
        let mut flag_claims: Vec<u32> = Vec::new();
        let mut rows = Vec::with_capacity(flags.len());
        let mut classes = Vec::new();
        let mut seen_classes = BTreeSet::new();
        // Flags may be handed over by value: each is dropped once taken in.
        for (seq, f) in flags.enumerate() {
            let f: &Flag = f.borrow();
            let start = flag_claims.len();
            for &c in &f.claims {
                flag_claims.push(name_of(&mut names, c));
            }
            let subject = labels.intern(&f.subject);
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
                continue;
            }
            let class = snap
                .class_keys
                .get(&f.subject)
                .and_then(|key| snap.class(key));
            if let Some(class) = class {
                classes.push((
                    subject,
                    (
                        snap.counties.resolve(class.county).to_string(),
                        snap.orgs.resolve(class.institution).to_string(),
                    ),
                ));
            }
        }
        let (mut rings, mut institutions) = memory_graph(snap, findings, policy);
        for r in &mut rings {
            for c in &mut r.claims {
                *c = name_of(&mut names, *c);
            }
        }
        for i in &mut institutions {
            for c in &mut i.claims {
                *c = name_of(&mut names, *c);
            }
        }

        let ids = to_references(&names, &mut flag_claims, &mut rings, &mut institutions);
        let mut facts = StoredClaims::new(ids, names);
        for k in 0..facts.ids.len() {
            facts.push(match claim_of_name[facts.ids[k] as usize] {
                u32::MAX => None,
                c => {
                    let claim = &snap.claims[c as usize];
                    Some((
                        // The person: its smallest ID number (identity resolution).
                        snap.ids.resolve(persons.of(claim.person)),
                        claim.amount + claim.living_amount,
                        snap.counties.resolve(claim.county),
                        snap.orgs.resolve(claim.institution),
                    ))
                }
            });
        }
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

/// Rings and top institutions of the graph's findings, reduced as the graph stage stores
/// them (`ring_members`, `institution_risk.evidence_json`) and this module reads them back.
fn memory_graph(
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
                amount: r.amount,
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
                amount: r.amount_at_risk,
                claims,
                county,
            }
        })
        .collect();
    (rings, institutions)
}

/// What changed in a case's evidence since the last sweep that found it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidenceDelta {
    pub added_claims: Vec<String>,
    pub removed_claims: Vec<String>,
    pub new_rules: Vec<String>,
    pub dropped_rules: Vec<String>,
    pub claims_delta: i64,
    pub amount_delta_fen: Fen,
}

impl EvidenceDelta {
    /// New evidence: more claims, another rule or more money. Fewer claims is not.
    pub fn has_new_evidence(&self) -> bool {
        !self.added_claims.is_empty() || !self.new_rules.is_empty() || self.amount_delta_fen > 0
    }
    pub fn is_empty(&self) -> bool {
        self.added_claims.is_empty()
            && self.removed_claims.is_empty()
            && self.new_rules.is_empty()
            && self.dropped_rules.is_empty()
            && self.amount_delta_fen == 0
    }
    /// “新增申领 2 笔，金额增加 1200.00 元”.
    pub fn describe_zh(&self) -> String {
        let mut parts = Vec::new();
        if !self.added_claims.is_empty() {
            parts.push(format!("新增申领 {} 笔", self.added_claims.len()));
        }
        if !self.removed_claims.is_empty() {
            parts.push(format!("减少申领 {} 笔", self.removed_claims.len()));
        }
        if self.amount_delta_fen > 0 {
            parts.push(format!(
                "金额增加 {} 元",
                fen_to_yuan(self.amount_delta_fen)
            ));
        } else if self.amount_delta_fen < 0 {
            parts.push(format!(
                "金额减少 {} 元",
                fen_to_yuan(-self.amount_delta_fen)
            ));
        }
        if !self.new_rules.is_empty() {
            parts.push(format!("新增规则 {}", self.new_rules.join("、")));
        }
        if !self.dropped_rules.is_empty() {
            parts.push(format!("不再触发规则 {}", self.dropped_rules.join("、")));
        }
        if parts.is_empty() {
            "证据未变".into()
        } else {
            parts.join("，")
        }
    }
    /// “2 more claims, +1200.00 yuan”.
    pub fn describe_en(&self) -> String {
        let mut parts = Vec::new();
        let n = self.added_claims.len();
        if n > 0 {
            parts.push(format!("{n} more claim{}", if n == 1 { "" } else { "s" }));
        }
        let n = self.removed_claims.len();
        if n > 0 {
            parts.push(format!("{n} fewer claim{}", if n == 1 { "" } else { "s" }));
        }
        if self.amount_delta_fen > 0 {
            parts.push(format!("+{} yuan", fen_to_yuan(self.amount_delta_fen)));
        } else if self.amount_delta_fen < 0 {
            parts.push(format!("-{} yuan", fen_to_yuan(-self.amount_delta_fen)));
        }
        if !self.new_rules.is_empty() {
            parts.push(format!("new rule {}", self.new_rules.join(", ")));
        }
        if !self.dropped_rules.is_empty() {
            parts.push(format!(
                "rule no longer found {}",
                self.dropped_rules.join(", ")
            ));
        }
        if parts.is_empty() {
            "evidence unchanged".into()
        } else {
            parts.join(", ")
        }
    }
    pub fn describe(&self) -> String {
        format!("{} / {}", self.describe_zh(), self.describe_en())
    }
}

fn split_set(s: &str) -> BTreeSet<String> {
    s.split(';')
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

pub fn delta(
    old_claims: &BTreeSet<String>,
    old_rules: &BTreeSet<String>,
    old_amount: Fen,
    new_claims: &BTreeSet<String>,
    new_rules: &BTreeSet<String>,
    new_amount: Fen,
) -> EvidenceDelta {
    EvidenceDelta {
        added_claims: new_claims.difference(old_claims).cloned().collect(),
        removed_claims: old_claims.difference(new_claims).cloned().collect(),
        new_rules: new_rules.difference(old_rules).cloned().collect(),
        dropped_rules: old_rules.difference(new_rules).cloned().collect(),
        claims_delta: new_claims.len() as i64 - old_claims.len() as i64,
        amount_delta_fen: new_amount - old_amount,
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn append_history(
    conn: &Connection,
    case_id: i64,
    at: &str,
    actor: &str,
    action: &str,
    from: Option<Status>,
    to: Option<Status>,
    note: &str,
    sweep_id: Option<i64>,
) -> Result<(), CaseError> {
    conn.prepare_cached(
        "INSERT INTO case_history (case_id, at, actor, action, from_status, to_status, note, sweep_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        case_id,
        at,
        actor,
        action,
        from.map(Status::code),
        to.map(Status::code),
        note,
        sweep_id
    ])?;
    Ok(())
}

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
    write_cases(conn, sweep_id, policy, &stored.facts, &grouped, flags)
}

/// What case building needs of a sweep still in memory ([`extract_in_memory`]): its flags,
/// graph findings and claim facts in compact form, without the snapshot.
pub struct CaseInput {
    stored: StoredInput,
}

/// A sweep's cases grouped ([`CaseInput::group`]), holding only what writing them needs.
pub struct PreparedCases {
    facts: StoredClaims,
    grouped: Grouped,
    flags: usize,
}

/// Takes what case building needs out of a sweep still in memory: its snapshot, its flags (in
/// the order they were saved, `seq` = position) and its graph findings. Afterwards the
/// snapshot can be freed; grouping ([`CaseInput::group`]) and writing ([`build_prepared`])
/// do not need it.
pub fn extract_in_memory(
    snap: &Snapshot,
    persons: &Persons,
    flags: &[Flag],
    findings: &GraphFindings,
    policy: &CasesPolicy,
) -> CaseInput {
    CaseInput {
        stored: StoredInput::from_memory(snap, persons, flags.iter(), findings, policy),
    }
}

/// [`extract_in_memory`] taking the flags by value: each flag is freed as soon as it is taken
/// in, so that the sweep's flags and its case input are not both held whole.
pub fn extract_in_memory_consuming(
    snap: &Snapshot,
    persons: &Persons,
    flags: Vec<Flag>,
    findings: &GraphFindings,
    policy: &CasesPolicy,
) -> CaseInput {
    CaseInput {
        stored: StoredInput::from_memory(snap, persons, flags.into_iter(), findings, policy),
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
    flags: &[Flag],
    findings: &GraphFindings,
    policy: &CasesPolicy,
) -> PreparedCases {
    extract_in_memory(snap, persons, flags, findings, policy).group(policy)
}

/// Writes cases prepared by [`prepare_in_memory`]: the same rows as
/// [`build_for_sweep_with`] gives from the stored flags and findings.
pub fn build_prepared(
    conn: &mut Connection,
    sweep_id: i64,
    policy: &CasesPolicy,
    prepared: PreparedCases,
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
    flags: &[Flag],
    findings: &GraphFindings,
) -> Result<CaseSummary, CaseError> {
    let prepared = prepare_in_memory(snap, persons, flags, findings, policy);
    build_prepared(conn, sweep_id, policy, prepared)
}

/// Schema present, sweep known; the stored summary when the sweep's cases are already built.
fn check_sweep(conn: &Connection, sweep_id: i64) -> Result<Option<CaseSummary>, CaseError> {
    super::schema::ensure_schema(conn)?;
    conn.busy_timeout(super::schema::BUSY_TIMEOUT)?;
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

fn stored_summary(conn: &Connection, sweep_id: i64) -> Result<Option<CaseSummary>, CaseError> {
    match conn
        .query_row(
            "SELECT summary_json FROM case_builds WHERE sweep_id = ?1",
            [sweep_id],
            |r| r.get::<_, String>(0),
        )
        .optional()?
    {
        Some(json) => serde_json::from_str(&json)
            .map(Some)
            .map_err(|e| CaseError::Malformed(format!("case_builds.summary_json: {e}"))),
        None => Ok(None),
    }
}

/// A stored case found again, with what the last sweep that found it recorded.
struct Existing {
    case_id: i64,
    status: Status,
    last_sweep: i64,
    old_amount: Option<Fen>,
    /// The stored fingerprint equals this sweep's.
    same_evidence: bool,
    /// Claim ids and rules of the last sweep, kept only when the evidence changed.
    old_evidence: Option<Box<(String, String)>>,
}

/// Sorted, `;`-joined.
fn join_iter<'s>(items: impl Iterator<Item = &'s str>) -> String {
    let mut out = String::new();
    for (k, x) in items.enumerate() {
        if k > 0 {
            out.push(';');
        }
        out.push_str(x);
    }
    out
}

fn hash_hex(h: Sha256) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for b in h.finalize() {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out
}

/// [`evidence_hash`] of sorted, unique claim ids and rules.
fn evidence_hash_sorted<'s>(
    claims: impl Iterator<Item = &'s str>,
    rules: impl Iterator<Item = &'s str>,
) -> String {
    let mut h = Sha256::new();
    for c in claims {
        h.update(c.as_bytes());
        h.update([0u8]);
    }
    h.update([1u8]);
    for r in rules {
        h.update(r.as_bytes());
        h.update([0u8]);
    }
    hash_hex(h)
}

/// Rows of one table waiting for a multi-row insert.
struct RowBuffer {
    /// `INSERT INTO table (columns)`.
    head: &'static str,
    /// One row's `(?, …)`.
    row: &'static str,
    columns: usize,
}

/// Rows per multi-row insert: large enough to pay the statement overhead once per batch,
/// small enough to stay under SQLite's parameter limit.
const BATCH_ROWS: usize = 256;

impl RowBuffer {
    fn insert(&self, conn: &Connection, params: &[&dyn ToSql]) -> Result<(), CaseError> {
        debug_assert_eq!(params.len() % self.columns, 0);
        for chunk in params.chunks(self.columns * BATCH_ROWS) {
            let rows = chunk.len() / self.columns;
            let mut sql = String::with_capacity(self.head.len() + 8 + rows * (self.row.len() + 1));
            sql.push_str(self.head);
            sql.push_str(" VALUES ");
            for k in 0..rows {
                if k > 0 {
                    sql.push(',');
                }
                sql.push_str(self.row);
            }
            conn.prepare_cached(&sql)?
                .execute(rusqlite::params_from_iter(chunk.iter()))?;
        }
        Ok(())
    }
}

const CASES_ROWS: RowBuffer = RowBuffer {
    head: "INSERT INTO cases (case_id, case_key, subject_kind, subject, rule_family, county_code,
       institution_id, status, first_sweep_id, last_sweep_id, created_at, updated_at, score,
       amount_at_risk_fen, claims, rules, claim_hash)",
    row: "(?,?,?,?,?,?,?,'open',?,?,?,?,?,?,?,?,?)",
    columns: 16,
};
const SWEEP_ROWS: RowBuffer = RowBuffer {
    head: "INSERT INTO case_sweeps (case_id, sweep_id, change, score, amount_at_risk_fen, claims,
       claim_hash, rules, claim_ids, detail_json)",
    row: "(?,?,?,?,?,?,?,?,?,?)",
    columns: 10,
};
const FLAG_ROWS: RowBuffer = RowBuffer {
    head: "INSERT OR IGNORE INTO case_flags (case_id, sweep_id, seq)",
    row: "(?,?,?)",
    columns: 3,
};
const HISTORY_ROWS: RowBuffer = RowBuffer {
    head: "INSERT INTO case_history (case_id, at, actor, action, from_status, to_status, note,
       sweep_id)",
    row: "(?,?,?,?,?,?,?,?)",
    columns: 8,
};

struct NewCaseRow {
    case_id: i64,
    case: u32,
    score: f64,
    amount: Fen,
    claims: i64,
    rules: String,
    hash: String,
}

struct UpdateRow {
    case_id: i64,
    case: u32,
    status: &'static str,
    score: f64,
    amount: Fen,
    claims: i64,
    rules: String,
    hash: String,
}

struct SweepRow {
    case_id: i64,
    change: &'static str,
    score: f64,
    amount: Fen,
    claims: i64,
    hash: String,
    rules: String,
    claim_ids: String,
    detail: String,
}

struct HistoryRow {
    case_id: i64,
    action: &'static str,
    from: Option<&'static str>,
    to: Option<&'static str>,
    note: String,
}

/// Rows of a run of cases, written table by table; each table gets its rows in case key
/// order, as one case at a time would write them.
#[derive(Default)]
struct PendingRows {
    new_cases: Vec<NewCaseRow>,
    updates: Vec<UpdateRow>,
    sweeps: Vec<SweepRow>,
    flags: Vec<(i64, i64)>,
    history: Vec<HistoryRow>,
}

/// Cases per write run: bounds the rows held in memory.
const CASES_PER_RUN: usize = 4096;

impl PendingRows {
    fn history(
        &mut self,
        case_id: i64,
        action: &'static str,
        from: Status,
        to: Status,
        note: String,
    ) {
        self.history.push(HistoryRow {
            case_id,
            action,
            from: Some(from.code()),
            to: Some(to.code()),
            note,
        });
    }

    /// Inserts the rows (the caller clears them: see `decide_rows`).
    fn flush(
        &self,
        tx: &Connection,
        grouped: &Grouped,
        sweep_id: i64,
        now: &str,
    ) -> Result<(), CaseError> {
        let mut params: Vec<&dyn ToSql> = Vec::new();
        let texts: Vec<[&str; 3]> = self
            .new_cases
            .iter()
            .map(|r| {
                let case = &grouped.cases[r.case as usize];
                [
                    case.subject(),
                    grouped.texts.resolve(case.county),
                    grouped.texts.resolve(case.institution),
                ]
            })
            .collect();
        for (r, [subject, county, institution]) in self.new_cases.iter().zip(&texts) {
            let case = &grouped.cases[r.case as usize];
            params.extend_from_slice(&[
                &r.case_id,
                &case.key,
                &case.subject_kind,
                subject,
                &case.family,
                county,
                institution,
                &sweep_id,
                &sweep_id,
                &now,
                &now,
                &r.score,
                &r.amount,
                &r.claims,
                &r.rules,
                &r.hash,
            ]);
        }
        CASES_ROWS.insert(tx, &params)?;
        if !self.updates.is_empty() {
            let mut update = tx.prepare_cached(
                "UPDATE cases SET status = ?2, last_sweep_id = ?3, county_code = ?4,
                   institution_id = ?5, updated_at = ?6, score = ?7, amount_at_risk_fen = ?8,
                   claims = ?9, rules = ?10, claim_hash = ?11 WHERE case_id = ?1",
            )?;
            for r in &self.updates {
                let case = &grouped.cases[r.case as usize];
                update.execute(params![
                    r.case_id,
                    r.status,
                    sweep_id,
                    grouped.texts.resolve(case.county),
                    grouped.texts.resolve(case.institution),
                    now,
                    r.score,
                    r.amount,
                    r.claims,
                    r.rules,
                    r.hash
                ])?;
            }
        }
        params.clear();
        for r in &self.sweeps {
            params.extend_from_slice(&[
                &r.case_id,
                &sweep_id,
                &r.change,
                &r.score,
                &r.amount,
                &r.claims,
                &r.hash,
                &r.rules,
                &r.claim_ids,
                &r.detail,
            ]);
        }
        SWEEP_ROWS.insert(tx, &params)?;
        params.clear();
        for (case_id, seq) in &self.flags {
            params.extend_from_slice(&[case_id, &sweep_id, seq]);
        }
        FLAG_ROWS.insert(tx, &params)?;
        params.clear();
        for r in &self.history {
            params.extend_from_slice(&[
                &r.case_id,
                &now,
                &SYSTEM_ACTOR,
                &r.action,
                &r.from,
                &r.to,
                &r.note,
                &sweep_id,
            ]);
        }
        HISTORY_ROWS.insert(tx, &params)?;
        Ok(())
    }

    fn clear(&mut self) {
        self.new_cases.clear();
        self.updates.clear();
        self.sweeps.clear();
        self.flags.clear();
        self.history.clear();
    }
}

/// Stored cases in key order with the evidence of the last sweep that found each, matched to
/// this sweep's cases (`order`): one ordered scan of the `case_key` index.
fn match_existing<F: ClaimFacts>(
    tx: &Connection,
    grouped: &Grouped,
    facts: &F,
) -> Result<Vec<Option<Existing>>, CaseError> {
    let mut matched: Vec<Option<Existing>> = Vec::new();
    matched.resize_with(grouped.order.len(), || None);
    let mut stmt = tx.prepare(
        "SELECT c.case_key, c.case_id, c.status, c.last_sweep_id, s.claim_ids, s.rules,
                s.amount_at_risk_fen, s.claim_hash
         FROM cases c LEFT JOIN case_sweeps s
           ON s.case_id = c.case_id AND s.sweep_id = c.last_sweep_id
         ORDER BY c.case_key",
    )?;
    let mut rows = stmt.query([])?;
    let mut next = 0;
    while let Some(r) = rows.next()? {
        let key = text_at(r, 0)?;
        while next < grouped.order.len()
            && grouped.cases[grouped.order[next] as usize].key.as_str() < key
        {
            next += 1;
        }
        if next == grouped.order.len() {
            break;
        }
        let case = &grouped.cases[grouped.order[next] as usize];
        if case.key != key {
            continue;
        }
        let case_id: i64 = r.get(1)?;
        let status = text_at(r, 2)?;
        let status = Status::parse(status)
            .ok_or_else(|| CaseError::Malformed(format!("case {case_id}: status {status}")))?;
        let old_hash: Option<&str> = text_or_null_at(r, 7)?;
        let same_evidence = match old_hash {
            Some(old) => {
                old == evidence_hash_sorted(
                    grouped.claims_of(case).iter().map(|x| facts.claim_id(x.1)),
                    grouped.rules_of(case),
                )
            }
            None => false,
        };
        let old_evidence = if same_evidence {
            None
        } else {
            let text = |k| -> rusqlite::Result<String> {
                Ok(text_or_null_at(r, k)?.unwrap_or("").to_string())
            };
            Some(Box::new((text(4)?, text(5)?)))
        };
        matched[next] = Some(Existing {
            case_id,
            status,
            last_sweep: r.get(3)?,
            old_amount: r.get(6)?,
            same_evidence,
            old_evidence,
        });
        next += 1;
    }
    Ok(matched)
}

/// Decided runs of rows a writer may hold before the deciding thread waits.
const RUNS_AHEAD: usize = 2;

/// Decides the rows of every case of `grouped` (in `order`), against the stored ones
/// (`existing`, matched by position), handing them to `emit` a run of `CASES_PER_RUN` cases at a
/// time, each in the buffers `empty_rows` gives (cleared here: they may be runs already
/// written); `Err(())` from `emit` stops it. Returns the summary with this sweep's counts
/// added.
#[allow(clippy::too_many_arguments)]
fn decide_rows<F: ClaimFacts>(
    policy: &CasesPolicy,
    facts: &F,
    grouped: &Grouped,
    mut existing: Vec<Option<Existing>>,
    prev_sweep: Option<i64>,
    mut next_case_id: i64,
    mut summary: CaseSummary,
    mut emit: impl FnMut(PendingRows) -> Result<(), ()>,
    mut empty_rows: impl FnMut() -> PendingRows,
) -> Result<CaseSummary, ()> {
    let mut pending = PendingRows::default();
    for (position, &ci) in grouped.order.iter().enumerate() {
        let case = &grouped.cases[ci as usize];
        let claims = grouped.claims_of(case);
        let claim_ids = || claims.iter().map(|x| facts.claim_id(x.1));
        let rules_joined = join_iter(grouped.rules_of(case));
        let rule_count = case.rules.len();
        let amount: Fen = claims.iter().map(|x| x.2).sum();
        let hash = evidence_hash_sorted(claim_ids(), grouped.rules_of(case));
        let case_score = score(policy, case.max_weight, rule_count, amount);
        let (case_id, change, detail) = match existing[position].take() {
            None => {
                let case_id = next_case_id;
                next_case_id += 1;
                pending.history.push(HistoryRow {
                    case_id,
                    action: "created",
                    from: None,
                    to: Some(Status::Open.code()),
                    note: format!(
                        "新发现：{} 笔申领，涉及金额 {} 元 / found: {} claims, {} yuan",
                        claims.len(),
                        fen_to_yuan(amount),
                        claims.len(),
                        fen_to_yuan(amount)
                    ),
                });
                pending.new_cases.push(NewCaseRow {
                    case_id,
                    case: ci,
                    score: case_score,
                    amount,
                    claims: claims.len() as i64,
                    rules: rules_joined.clone(),
                    hash: hash.clone(),
                });
                summary.new += 1;
                (case_id, Change::New, serde_json::json!({}))
            }
            Some(old) => {
                let case_id = old.case_id;
                let status = old.status;
                let d = match &old.old_evidence {
                    // Same fingerprint: the same claims and rules; only the money may move.
                    None => EvidenceDelta {
                        amount_delta_fen: amount - old.old_amount.unwrap_or(0),
                        ..Default::default()
                    },
                    Some(evidence) => {
                        let new_claims: BTreeSet<String> = claim_ids().map(String::from).collect();
                        let new_rules: BTreeSet<String> =
                            grouped.rules_of(case).map(String::from).collect();
                        delta(
                            &split_set(&evidence.0),
                            &split_set(&evidence.1),
                            old.old_amount.unwrap_or(0),
                            &new_claims,
                            &new_rules,
                            amount,
                        )
                    }
                };
                let last_sweep = old.last_sweep;
                let reappeared = Some(last_sweep) != prev_sweep;
                if reappeared {
                    pending.history(
                        case_id,
                        "reappeared",
                        status,
                        status,
                        format!(
                            "在第 {last_sweep} 次筛查后消失，本次再次发现 / gone after sweep {last_sweep}, found again"
                        ),
                    );
                }
                let mut change = Change::Persisting;
                let mut new_status = status;
                if status == Status::Dismissed {
                    if d.has_new_evidence() {
                        new_status = Status::Open;
                        change = Change::Reopened;
                        let note = format!("有新证据，重新打开：{}", d.describe_zh())
                            + &format!(" / reopened on new evidence: {}", d.describe_en());
                        pending.history(case_id, "reopen", status, new_status, note);
                        summary.reopened += 1;
                    } else {
                        let why = if old.same_evidence {
                            "证据未变，保持已排除 / evidence unchanged, stays dismissed".to_string()
                        } else {
                            format!(
                                "无新证据（{}），保持已排除 / no new evidence ({}), stays dismissed",
                                d.describe_zh(),
                                d.describe_en()
                            )
                        };
                        pending.history(case_id, "keep_dismissed", status, status, why);
                        summary.kept_dismissed += 1;
                    }
                } else if !d.is_empty() && status != Status::Open {
                    // A decided or assigned case keeps its status; its reviewer sees what moved.
                    let note = format!(
                        "证据变化：{} / evidence changed: {}",
                        d.describe_zh(),
                        d.describe_en()
                    );
                    pending.history(case_id, "evidence_changed", status, status, note);
                }
                if change == Change::Persisting {
                    summary.persisting += 1;
                }
                pending.updates.push(UpdateRow {
                    case_id,
                    case: ci,
                    status: new_status.code(),
                    score: case_score,
                    amount,
                    claims: claims.len() as i64,
                    rules: rules_joined.clone(),
                    hash: hash.clone(),
                });
                let detail = serde_json::json!({
                    "added_claims": d.added_claims,
                    "removed_claims": d.removed_claims,
                    "new_rules": d.new_rules,
                    "dropped_rules": d.dropped_rules,
                    "claims_delta": d.claims_delta,
                    "amount_delta_fen": d.amount_delta_fen,
                    "reappeared": reappeared,
                    "reason_zh": d.describe_zh(),
                    "reason_en": d.describe_en(),
                });
                (case_id, change, detail)
            }
        };
        let mut detail = detail;
        if !case.ring_ids.is_empty() {
            detail["ring_ids"] = serde_json::json!(case.ring_ids);
        }
        if let Some(rank) = case.institution_rank {
            detail["institution_rank"] = serde_json::json!(rank);
        }
        pending.sweeps.push(SweepRow {
            case_id,
            change: change.code(),
            score: case_score,
            amount,
            claims: claims.len() as i64,
            hash,
            rules: rules_joined,
            claim_ids: join_iter(claim_ids()),
            detail: detail.to_string(),
        });
        pending.flags.extend(
            grouped.seqs[case.seqs.clone()]
                .iter()
                .map(|&(_, seq)| (case_id, seq)),
        );
        summary.cases += 1;
        summary.amount_at_risk_fen += amount;
        if (position + 1) % CASES_PER_RUN == 0 {
            let mut next = empty_rows();
            next.clear();
            emit(std::mem::replace(&mut pending, next))?;
        }
    }
    emit(pending)?;
    Ok(summary)
}

/// Compares the grouped cases with the stored ones and writes `cases`, `case_sweeps`,
/// `case_flags`, `case_history` and `case_builds` in one transaction.
fn write_cases<F: ClaimFacts + Sync>(
    conn: &mut Connection,
    sweep_id: i64,
    policy: &CasesPolicy,
    facts: &F,
    grouped: &Grouped,
    flags: usize,
) -> Result<CaseSummary, CaseError> {
    // The build writes every case in one transaction; with SQLite's default 2 MB page cache
    // its dirty pages spill to the WAL (and are written again) long before the commit.
    let cache_size: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    conn.pragma_update(None, "cache_size", BUILD_CACHE_KIB)?;
    let written = write_cases_in_transaction(conn, sweep_id, policy, facts, grouped, flags);
    conn.pragma_update(None, "cache_size", cache_size)?;
    written
}

/// Page cache of the build's connection while it writes, in KiB (negative: SQLite's unit).
const BUILD_CACHE_KIB: i64 = -131_072;

fn write_cases_in_transaction<F: ClaimFacts + Sync>(
    conn: &mut Connection,
    sweep_id: i64,
    policy: &CasesPolicy,
    facts: &F,
    grouped: &Grouped,
    flags: usize,
) -> Result<CaseSummary, CaseError> {
    let summary = CaseSummary {
        sweep_id,
        flags,
        graph_cases: grouped.graph_cases,
        ..Default::default()
    };
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(stored) = stored_summary(&tx, sweep_id)? {
        return Ok(stored);
    }
    let prev_sweep: Option<i64> = tx.query_row(
        "SELECT max(sweep_id) FROM case_builds WHERE sweep_id < ?1",
        [sweep_id],
        |r| r.get(0),
    )?;
    let now = now_timestamp();
    let existing = match_existing(&tx, grouped, facts)?;
    // New cases get the row ids SQLite would give them one insert at a time.
    let next_case_id: i64 =
        tx.query_row("SELECT coalesce(max(case_id), 0) FROM cases", [], |r| {
            r.get::<_, i64>(0)
        })? + 1;
    // Deciding each case's rows (fingerprints, joined ids, notes) runs on a thread of its own,
    // a run of cases ahead of the writer, which only binds and inserts.
    let mut summary = std::thread::scope(|scope| -> Result<CaseSummary, CaseError> {
        let (to_writer, runs) = std::sync::mpsc::sync_channel::<PendingRows>(RUNS_AHEAD);
        // Written runs go back to be cleared and refilled: their strings are freed on the
        // thread that made them, off the writer's path.
        let (to_decider, written_runs) = std::sync::mpsc::channel::<PendingRows>();
        let deciding = scope.spawn(move || {
            decide_rows(
                policy,
                facts,
                grouped,
                existing,
                prev_sweep,
                next_case_id,
                summary,
                |rows| to_writer.send(rows).map_err(|_| ()),
                || written_runs.try_recv().unwrap_or_default(),
            )
        });
        let mut written = Ok(());
        for rows in runs.iter() {
            written = rows.flush(&tx, grouped, sweep_id, &now);
            if written.is_err() {
                break;
            }
            let _ = to_decider.send(rows);
        }
        // A failed write drops the receiver, which stops the deciding thread at its next run.
        drop(runs);
        let decided = deciding
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        written?;
        decided.map_err(|()| CaseError::Malformed("case rows stopped early".into()))
    })?;
    let mut pending = PendingRows::default();

    // Found in the previous sweep, not in this one: resolved in this sweep. The decision
    // taken on the case stays as it was.
    if let Some(prev) = prev_sweep {
        let gone: Vec<(i64, String, i64)> = {
            let mut stmt = tx.prepare(
                "SELECT c.case_id, c.status, c.amount_at_risk_fen FROM cases c
                 WHERE c.last_sweep_id = ?1 ORDER BY c.case_id",
            )?;
            let rows = stmt.query_map([prev], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        for (case_id, status, last_amount) in gone {
            let status = Status::parse(&status)
                .ok_or_else(|| CaseError::Malformed(format!("case {case_id}: status {status}")))?;
            pending.sweeps.push(SweepRow {
                case_id,
                change: Change::Resolved.code(),
                score: 0.0,
                amount: 0,
                claims: 0,
                hash: String::new(),
                rules: String::new(),
                claim_ids: String::new(),
                detail:
                    serde_json::json!({ "last_sweep_id": prev, "last_amount_fen": last_amount })
                        .to_string(),
            });
            pending.history(
                case_id,
                "resolved",
                status,
                status,
                "本次筛查未再发现 / not found in this sweep".to_string(),
            );
            summary.resolved += 1;
            if pending.sweeps.len() == CASES_PER_RUN {
                pending.flush(&tx, grouped, sweep_id, &now)?;
                pending.clear();
            }
        }
        pending.flush(&tx, grouped, sweep_id, &now)?;
    }
    tx.execute(
        "INSERT INTO case_builds (sweep_id, built_at, summary_json) VALUES (?1, ?2, ?3)",
        params![
            sweep_id,
            now,
            serde_json::to_string(&summary).map_err(|e| CaseError::Malformed(e.to_string()))?
        ],
    )?;
    tx.commit()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn mode_prefers_frequent_then_smallest() {
        assert_eq!(mode(["b", "a", "b", ""].into_iter()), "b");
        assert_eq!(mode(["b", "a"].into_iter()), "a");
        assert_eq!(mode(std::iter::empty()), "");
    }
}

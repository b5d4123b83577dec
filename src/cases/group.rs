//! Grouping flags, rings and institutions into cases: pure, over one input type built from
//! the snapshot or from stored flags (`input`); owns amount spreading and the case score.
//!
//! Grouping (subject of the case ← flag):
//! - `project` flags → the class (`class:<class_id>`), family `project`;
//! - `contact` flags → the phone or bank account (`contact:<phone:…|bank:…>`), family `network`;
//! - every other flag (person, person_year, claim) → the person: the resolved person of its
//!   claims (`resolve::persons`), named by its smallest ID number (the smallest such name
//!   when a flag spans several persons), family of its rule;
//! - rings stored by the graph stage (`rings`/`ring_members`) → `ring:<smallest member>`.
//!
//! Amount at risk follows `crate::money`, counting each claim once per case: a flag's amount is
//! spread over its claims in proportion to what each claim paid (amount + living allowance); a
//! claim flagged by several rules of one case counts with the largest share any of them gives
//! it, never the sum. A ring or institution case puts no money of its own at risk: each of its
//! claims counts with its amount at risk under the flags (its largest share), so the cases'
//! amounts reconcile with the flags' distinct total (`CaseSummary::money`).
//!
//! Score = weight of the most severe rule × (1 + breadth_bonus × (distinct rules − 1))
//!         × amount at risk in yuan, with the weights of the policy's `[cases]` section
//! (Linyi: high 3, medium 2, low 1, breadth bonus 0.25). Money weighs most; a case that
//! several independent rules agree on ranks above one rule. The score orders the inspectors'
//! queue only; it decides nothing.

use super::{family_code, CaseSubject, Family};
use crate::model::Fen;
use crate::policy::{CasesPolicy, Severity};
use crate::snapshot::{Interner, StrColumn};
use hashbrown::HashMap;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::hash::BuildHasher;

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
    /// The cases' amounts reconciled with the flags' distinct total (`crate::money`).
    #[serde(default)]
    pub money: crate::money::CaseTotals,
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
    let mut key = String::new();
    push_case_key(&mut key, subject_kind, subject, family);
    key
}

/// [`case_key`], appended to `out`.
fn push_case_key(out: &mut String, subject_kind: &str, subject: &str, family: &str) {
    for (k, part) in [subject_kind, subject, family].into_iter().enumerate() {
        if k > 0 {
            out.push(':');
        }
        out.push_str(part);
    }
}

/// Facts of the claims a build names, by claim reference. References ascend with the claim id
/// (byte order, as SQLite sorts text), so sorting references sorts claim ids.
pub(super) trait ClaimFacts {
    fn claim_id(&self, c: u32) -> &str;
    fn id_number(&self, c: u32) -> &str;
    /// Amount plus living allowance.
    fn paid(&self, c: u32) -> Fen;
    fn county_code(&self, c: u32) -> &str;
    fn institution_id(&self, c: u32) -> &str;
}

/// One flag of the sweep, borrowed from where it was loaded (database rows or the sweep's
/// own flags).
pub(super) struct FlagInput<'a> {
    pub(super) seq: i64,
    pub(super) rule: &'a str,
    pub(super) subject_kind: &'a str,
    pub(super) subject: &'a str,
    /// Claim references, as the flag lists them.
    pub(super) claims: &'a [u32],
    pub(super) amount: Fen,
    pub(super) weight: f64,
}

/// A flag of a case input with its claims as provisional references (ids in the name
/// interner): what the database path loads and what a sweep's own flags are taken in as.
pub(super) struct StoredFlagRow {
    pub(super) seq: i64,
    pub(super) rule: u32,
    pub(super) subject_kind: u32,
    pub(super) subject: u32,
    pub(super) claims: std::ops::Range<usize>,
    pub(super) amount: Fen,
    pub(super) weight: f64,
}

/// The flags of a case input, each read as a [`FlagInput`] when grouping comes to it (a list
/// of them beside the rows took 0.14 GB at ten million claims, at the sweep's peak).
pub(super) struct FlagRows<'a> {
    pub(super) rows: &'a [StoredFlagRow],
    /// Rules, kinds and subjects of the rows.
    pub(super) labels: &'a Interner,
    pub(super) claims: &'a [u32],
}

impl<'a> FlagRows<'a> {
    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = FlagInput<'a>> + 'a {
        let (labels, claims) = (self.labels, self.claims);
        self.rows.iter().map(move |f| FlagInput {
            seq: f.seq,
            rule: labels.resolve(f.rule),
            subject_kind: labels.resolve(f.subject_kind),
            subject: labels.resolve(f.subject),
            claims: &claims[f.claims.clone()],
            amount: f.amount,
            weight: f.weight,
        })
    }
}

/// A ring of the graph stage: its subject and members already reduced to what a case needs.
pub(super) struct RingInput {
    pub(super) ring_id: i64,
    /// Smallest institution member, else smallest person, else `ring<id>`.
    pub(super) subject: String,
    /// Smallest county member.
    pub(super) county: Option<String>,
    /// Smallest institution member.
    pub(super) institution: Option<String>,
    /// Sorted, unique.
    pub(super) claims: Vec<u32>,
}

/// One of the first `institution_top_n` institutions of the graph's risk ranking.
pub(super) struct InstitutionInput {
    pub(super) rank: i64,
    pub(super) institution: String,
    /// Union of the claims of its evidence terms: sorted, unique.
    pub(super) claims: Vec<u32>,
    /// County of the institution's registry row, when not empty.
    pub(super) county: Option<String>,
}

/// Everything a build groups, whatever it was loaded from.
pub(super) struct BuildInput<'a, F: ClaimFacts> {
    pub(super) facts: &'a F,
    pub(super) flags: FlagRows<'a>,
    pub(super) rings: &'a [RingInput],
    pub(super) institutions: &'a [InstitutionInput],
    /// class id → (county code, institution id) of the classes the project flags name.
    pub(super) classes: HashMap<&'a str, (String, String)>,
}

/// One case while grouping; its claims, flags and rules are ranges of the flat lists of
/// [`Grouped`].
pub(super) struct CaseBuild {
    /// `subject_kind:subject:rule_family` ([`Grouped::key`]; the subject is the text between
    /// the kind and the family), in the grouping's `keys`: a `String` each took 70 bytes a
    /// case, 1.5 million cases at ten million claims.
    pub(super) key: u32,
    pub(super) subject_kind: &'static str,
    pub(super) family: &'static str,
    pub(super) max_weight: f64,
    /// Ids in [`Grouped::texts`].
    pub(super) county: u32,
    pub(super) institution: u32,
    /// Graph rings behind a ring case.
    pub(super) ring_ids: Vec<i64>,
    /// Rank in the graph's institution risk, for institution cases.
    pub(super) institution_rank: Option<i64>,
    /// Replaced by a later case of the same key (institution cases, as a map insert would).
    pub(super) replaced: bool,
    pub(super) claims: Span,
    pub(super) seqs: Span,
    pub(super) rules: Span,
}

/// A case's run of rows in one of [`Grouped`]'s flat lists: half a `Range<usize>`.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Span {
        let at = |k: usize| u32::try_from(k).expect("a case list beyond 4 billion rows");
        Span {
            start: at(start),
            end: at(end),
        }
    }
    pub(super) fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
    pub(super) fn start(self) -> usize {
        self.start as usize
    }
    pub(super) fn len(self) -> usize {
        (self.end - self.start) as usize
    }
}

/// The subject of `case` within its key: the text between the kind and the family.
fn subject_in<'k>(key: &'k str, case: &CaseBuild) -> &'k str {
    &key[case.subject_kind.len() + 1..key.len() - case.family.len() - 1]
}

/// The cases of one sweep, grouped.
pub(super) struct Grouped {
    pub(super) cases: Vec<CaseBuild>,
    /// Indices into `cases` in key order, replaced cases left out.
    pub(super) order: Vec<u32>,
    /// (case, claim, amount at risk of the claim in the case): sorted, one row per claim.
    pub(super) claims: Vec<(u32, u32, Fen)>,
    /// (case, flag seq) in flag order within each case.
    pub(super) seqs: Vec<(u32, i64)>,
    /// (case, rule rank): sorted, unique; `rule_names[rank]` ascends with the rank.
    pub(super) rules: Vec<(u32, u32)>,
    pub(super) rule_names: Vec<String>,
    /// County codes and institution ids of the cases.
    pub(super) texts: Interner,
    /// The cases' keys ([`CaseBuild::key`]).
    keys: StrColumn,
    pub(super) graph_cases: usize,
    /// Evidence fingerprint of each case of `order` (raw SHA-256, as stored): computed on the
    /// pool when grouping, so that matching and writing the cases,
    /// which hold the write lock, only compare and copy them.
    pub(super) digests: Vec<[u8; 32]>,
}

impl Grouped {
    /// The key of `case` (`subject_kind:subject:rule_family`).
    pub(super) fn key(&self, case: &CaseBuild) -> &str {
        self.keys.get(case.key)
    }

    /// The subject of `case`.
    pub(super) fn subject(&self, case: &CaseBuild) -> &str {
        subject_in(self.key(case), case)
    }

    /// The fingerprint (`claim_hash`) of the case at `position` of `order`.
    pub(super) fn hash_at(&self, position: usize) -> [u8; 32] {
        self.digests[position]
    }

    pub(super) fn claims_of(&self, case: &CaseBuild) -> &[(u32, u32, Fen)] {
        &self.claims[case.claims.range()]
    }
    /// The cases' amounts reconciled with the distinct total (replaced cases left out).
    pub(super) fn money(&self) -> crate::money::CaseTotals {
        crate::money::case_totals(
            self.order
                .iter()
                .flat_map(|&ci| self.claims_of(&self.cases[ci as usize]).iter().copied()),
        )
    }
    pub(super) fn rules_of<'s>(
        &'s self,
        case: &CaseBuild,
    ) -> impl Iterator<Item = &'s str> + Clone {
        self.rules[case.rules.range()]
            .iter()
            .map(|&(_, r)| self.rule_names[r as usize].as_str())
    }
}

/// Spreads a flag's amount over its claims in proportion to what each paid; the remainder of
/// the integer division goes to the last claim so the shares add up to the flag's amount.
#[cfg(test)]
pub(super) fn spread(amount: Fen, paid: &[Fen]) -> Vec<Fen> {
    let mut shares = Vec::with_capacity(paid.len());
    spread_into(amount, paid, &mut shares);
    shares
}

pub use crate::money::spread_into;

/// The most frequent non-empty value, ties broken by the smallest.
#[cfg(test)]
pub(super) fn mode<'a>(values: impl Iterator<Item = &'a str>) -> String {
    mode_of(values).to_string()
}

/// [`mode`] without the copy.
pub(super) fn mode_of<'a>(values: impl Iterator<Item = &'a str>) -> &'a str {
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
pub(super) const KIND_PERSON: &str = CaseSubject::Person.code();
pub(super) const KIND_CLASS: &str = CaseSubject::Class.code();
pub(super) const KIND_CONTACT: &str = CaseSubject::Contact.code();

/// Groups flags, rings and top institutions into cases (module documentation).
pub(super) fn group<F: ClaimFacts + Sync>(
    input: &BuildInput<'_, F>,
    policy: &CasesPolicy,
) -> Grouped {
    use rayon::prelude::*;
    let mut g = Grouper::new(input.facts, Sizes::of(input));
    g.add_flags(input.flags.iter());
    let flag_cases = g.cases.len();
    g.add_rings(input.rings, weight_of(policy, policy.ring_severity));
    g.add_institutions(
        input.institutions,
        weight_of(policy, policy.institution_severity),
    );
    let mut grouped = g.finish(flag_cases, &input.classes);
    let facts = input.facts;
    let digests = grouped
        .order
        .par_iter()
        .map(|&ci| {
            let case = &grouped.cases[ci as usize];
            evidence_digest_sorted(
                grouped.claims_of(case).iter().map(|x| facts.claim_id(x.1)),
                grouped.rules_of(case),
            )
        })
        .collect();
    grouped.digests = digests;
    grouped
}

/// How much a grouping holds at most, known before it starts: its vectors and tables are
/// sized once. Grown by doubling, the 15.4 million cases of 100 M claims held their largest
/// vectors and tables twice as each grew, beside the graph findings being saved: the peak of
/// that sweep. A bound too large costs address space only, its pages untouched.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    flags: usize,
    /// Cases: at most one a flag, ring and institution.
    cases: usize,
    /// Claims listed by the flags, rings and institutions (with repeats).
    claims: usize,
    /// Claims listed by the flags (with repeats): at least the distinct flagged claims.
    flag_claims: usize,
}

impl Sizes {
    fn of<F: ClaimFacts>(input: &BuildInput<'_, F>) -> Sizes {
        let flag_claims: usize = input.flags.iter().map(|f| f.claims.len()).sum();
        let graph_claims: usize = input.rings.iter().map(|r| r.claims.len()).sum::<usize>()
            + input
                .institutions
                .iter()
                .map(|i| i.claims.len())
                .sum::<usize>();
        Sizes {
            flags: input.flags.len(),
            cases: input.flags.len() + input.rings.len() + input.institutions.len(),
            claims: flag_claims + graph_claims,
            flag_claims,
        }
    }
}

/// The state of grouping: cases by key and the flat lists of their claims, flags and rules.
struct Grouper<'a, F: ClaimFacts> {
    facts: &'a F,
    /// Each case by its key (kind, subject, family), held as the case's index alone and
    /// hashed from the case's own parts: at ten million claims a map with the key's three
    /// string slices in every entry took 0.12 GB of the sweep's peak.
    by_key: hashbrown::HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
    cases: Vec<CaseBuild>,
    claims: Vec<(u32, u32, Fen)>,
    seqs: Vec<(u32, i64)>,
    /// (case, rule id in `rule_list`), until `finish` turns ids into ranks by name.
    rules: Vec<(u32, u32)>,
    rule_ids: HashMap<&'a str, u32>,
    rule_list: Vec<&'a str>,
    paid: Vec<Fen>,
    shares: Vec<Fen>,
    /// Each flagged claim's amount at risk: its largest share under any flag.
    flagged: HashMap<u32, Fen>,
    texts: Interner,
    /// The cases' keys ([`CaseBuild::key`]).
    keys: StrColumn,
    /// The key being spelled (`new_case`).
    key_text: String,
    /// County and institution of graph cases, as the last finding of each case sets them.
    graph_places: Vec<(u32, u32, u32)>,
    graph_cases: usize,
}

impl<'a, F: ClaimFacts> Grouper<'a, F> {
    fn new(facts: &'a F, sizes: Sizes) -> Self {
        Grouper {
            facts,
            by_key: hashbrown::HashTable::with_capacity(sizes.cases),
            hasher: hashbrown::DefaultHashBuilder::default(),
            cases: Vec::with_capacity(sizes.cases),
            claims: Vec::with_capacity(sizes.claims),
            seqs: Vec::with_capacity(sizes.flags),
            rules: Vec::with_capacity(sizes.flags),
            rule_ids: HashMap::new(),
            rule_list: Vec::new(),
            paid: Vec::new(),
            shares: Vec::new(),
            flagged: HashMap::with_capacity(sizes.flag_claims),
            texts: Interner::new(),
            keys: StrColumn::new(),
            key_text: String::new(),
            graph_places: Vec::new(),
            graph_cases: 0,
        }
    }

    fn rule_id(&mut self, name: &'a str) -> u32 {
        let list = &mut self.rule_list;
        *self.rule_ids.entry(name).or_insert_with(|| {
            list.push(name);
            list.len() as u32 - 1
        })
    }

    fn new_case(&mut self, kind: &'static str, subject: &str, family: &'static str) -> u32 {
        // The key is spelled into a reused buffer: one allocation a grouping, not one a case.
        self.key_text.clear();
        push_case_key(&mut self.key_text, kind, subject, family);
        let key = self.keys.push(&self.key_text);
        self.cases.push(CaseBuild {
            key,
            subject_kind: kind,
            family,
            max_weight: 0.0,
            county: 0,
            institution: 0,
            ring_ids: Vec::new(),
            institution_rank: None,
            replaced: false,
            claims: Span::default(),
            seqs: Span::default(),
            rules: Span::default(),
        });
        self.cases.len() as u32 - 1
    }

    /// The case of a key, opened if new; `true` when it was opened here.
    fn case_of(&mut self, key: (&'static str, &'a str, &'static str)) -> (u32, bool) {
        match self.find_case(key) {
            Some(ci) => (ci, false),
            None => (self.open_case(key), true),
        }
    }

    /// The case with `key`, if one is open.
    fn find_case(&self, key: (&'static str, &str, &'static str)) -> Option<u32> {
        let (cases, keys) = (&self.cases, &self.keys);
        self.by_key
            .find(self.hasher.hash_one(key), |&ci| {
                key_of(keys, &cases[ci as usize]) == key
            })
            .copied()
    }

    /// Opens a case for `key`, which replaces any case of that key in `by_key`.
    fn open_case(&mut self, key: (&'static str, &str, &'static str)) -> u32 {
        let ci = self.new_case(key.0, key.1, key.2);
        let (cases, keys, hasher) = (&self.cases, &self.keys, &self.hasher);
        let hash = hasher.hash_one(key);
        match self
            .by_key
            .find_mut(hash, |&old| key_of(keys, &cases[old as usize]) == key)
        {
            Some(slot) => *slot = ci,
            None => {
                self.by_key.insert_unique(hash, ci, |&c| {
                    hasher.hash_one(key_of(keys, &cases[c as usize]))
                });
            }
        }
        ci
    }

    /// A flag's amount spread over its claims by what each paid.
    fn add_claims(&mut self, ci: u32, list: &[u32], amount: Fen) {
        self.paid.clear();
        self.paid.extend(list.iter().map(|&c| self.facts.paid(c)));
        spread_into(amount, &self.paid, &mut self.shares);
        for (&c, &s) in list.iter().zip(&self.shares) {
            let e = self.flagged.entry(c).or_insert(s);
            *e = (*e).max(s);
        }
        self.claims
            .extend(list.iter().zip(&self.shares).map(|(&c, &s)| (ci, c, s)));
    }

    /// A graph finding's claims, each at its amount at risk under the flags (all flags are
    /// added first).
    fn add_flagged_claims(&mut self, ci: u32, list: &[u32]) {
        let flagged = &self.flagged;
        self.claims.extend(
            list.iter()
                .map(|&c| (ci, c, flagged.get(&c).copied().unwrap_or(0))),
        );
    }

    fn add_flags(&mut self, flags: impl Iterator<Item = FlagInput<'a>>) {
        let facts = self.facts;
        for f in flags {
            let key: (&'static str, &'a str, &'static str) = match f.subject_kind {
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
            let (ci, _) = self.case_of(key);
            let case = &mut self.cases[ci as usize];
            case.max_weight = case.max_weight.max(f.weight);
            self.seqs.push((ci, f.seq));
            let rule = self.rule_id(f.rule);
            self.rules.push((ci, rule));
            self.add_claims(ci, f.claims, f.amount);
        }
    }

    fn add_rings(&mut self, rings: &'a [RingInput], weight: f64) {
        let facts = self.facts;
        for ring in rings {
            let key = (
                CaseSubject::Ring.code(),
                ring.subject.as_str(),
                Family::Network.code(),
            );
            let (ci, opened) = self.case_of(key);
            self.graph_cases += usize::from(opened);
            let rule = self.rule_id("ring");
            self.rules.push((ci, rule));
            self.add_flagged_claims(ci, &ring.claims);
            let county = match &ring.county {
                Some(c) => c.as_str(),
                None => mode_of(ring.claims.iter().map(|&c| facts.county_code(c))),
            };
            let institution = match &ring.institution {
                Some(i) => i.as_str(),
                None => mode_of(ring.claims.iter().map(|&c| facts.institution_id(c))),
            };
            let place = (
                ci,
                self.texts.intern(county),
                self.texts.intern(institution),
            );
            self.graph_places.push(place);
            let case = &mut self.cases[ci as usize];
            case.max_weight = case.max_weight.max(weight);
            case.ring_ids.push(ring.ring_id);
        }
    }

    fn add_institutions(&mut self, institutions: &'a [InstitutionInput], weight: f64) {
        let facts = self.facts;
        for inst in institutions {
            let key = (
                CaseSubject::Institution.code(),
                inst.institution.as_str(),
                Family::Institution.code(),
            );
            // A second finding of the same key replaces the first, as a map insert does.
            if let Some(old) = self.find_case(key) {
                self.cases[old as usize].replaced = true;
            }
            let ci = self.open_case(key);
            self.graph_cases += 1;
            let rule = self.rule_id("institution_risk");
            self.rules.push((ci, rule));
            self.add_flagged_claims(ci, &inst.claims);
            let county = match &inst.county {
                Some(c) => c.as_str(),
                None => mode_of(inst.claims.iter().map(|&c| facts.county_code(c))),
            };
            let place = (
                ci,
                self.texts.intern(county),
                self.texts.intern(&inst.institution),
            );
            self.graph_places.push(place);
            let case = &mut self.cases[ci as usize];
            case.max_weight = weight;
            case.institution_rank = Some(inst.rank);
        }
    }

    /// Sorts the flat lists, gives each case its ranges, county and institution, and the key
    /// order.
    fn finish(mut self, flag_cases: usize, classes: &HashMap<&str, (String, String)>) -> Grouped {
        let rule_names = self.rank_rules();
        // A claim flagged by several rules of one case counts with its largest share.
        let claims = &mut self.claims;
        claims.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(b.2.cmp(&a.2)));
        claims.dedup_by(|later, first| later.0 == first.0 && later.1 == first.1);
        self.seqs.sort_by_key(|&(ci, _)| ci);

        let n = self.cases.len();
        let claim_starts = starts_of(n, self.claims.iter().map(|x| x.0));
        let seq_starts = starts_of(n, self.seqs.iter().map(|x| x.0));
        let rule_starts = starts_of(n, self.rules.iter().map(|x| x.0));
        for (k, case) in self.cases.iter_mut().enumerate() {
            case.claims = Span::new(claim_starts[k], claim_starts[k + 1]);
            case.seqs = Span::new(seq_starts[k], seq_starts[k + 1]);
            case.rules = Span::new(rule_starts[k], rule_starts[k + 1]);
        }
        self.place_flag_cases(flag_cases, classes);
        for &(ci, county, institution) in &self.graph_places {
            let case = &mut self.cases[ci as usize];
            case.county = county;
            case.institution = institution;
        }

        let (cases, keys) = (self.cases, self.keys);
        let mut order: Vec<u32> = (0..n as u32)
            .filter(|&ci| !cases[ci as usize].replaced)
            .collect();
        // Keys are unique (one case per key), so the parallel unstable sort is deterministic.
        {
            use rayon::slice::ParallelSliceMut;
            let key = |ci: u32| keys.get(cases[ci as usize].key);
            order.par_sort_unstable_by(|&a, &b| key(a).cmp(key(b)));
        }
        Grouped {
            cases,
            order,
            claims: self.claims,
            seqs: self.seqs,
            rules: self.rules,
            rule_names,
            texts: self.texts,
            keys,
            graph_cases: self.graph_cases,
            digests: Vec::new(),
        }
    }

    /// Rule ids become ranks by name, so a case's sorted ranks give its sorted rule names;
    /// returns the names in rank order.
    fn rank_rules(&mut self) -> Vec<String> {
        let list = &self.rule_list;
        let mut by_name: Vec<u32> = (0..list.len() as u32).collect();
        by_name.sort_unstable_by_key(|&r| list[r as usize]);
        let mut rank = vec![0u32; list.len()];
        for (k, &r) in by_name.iter().enumerate() {
            rank[r as usize] = k as u32;
        }
        for r in &mut self.rules {
            r.1 = rank[r.1 as usize];
        }
        self.rules.sort_unstable();
        self.rules.dedup();
        by_name
            .iter()
            .map(|&r| list[r as usize].to_string())
            .collect()
    }

    /// County and institution of each flag case: the most common among its claims; a class
    /// case takes its class's own where the ledger has them.
    fn place_flag_cases(&mut self, flag_cases: usize, classes: &HashMap<&str, (String, String)>) {
        let facts = self.facts;
        for case in &mut self.cases[..flag_cases] {
            let list = &self.claims[case.claims.range()];
            let mut county = mode_of(list.iter().map(|x| facts.county_code(x.1)));
            let mut institution = mode_of(list.iter().map(|x| facts.institution_id(x.1)));
            if case.subject_kind == KIND_CLASS {
                let subject = subject_in(self.keys.get(case.key), case);
                if let Some((c, i)) = classes.get(subject) {
                    if !c.is_empty() {
                        county = c;
                    }
                    if !i.is_empty() {
                        institution = i;
                    }
                }
            }
            case.county = self.texts.intern(county);
            case.institution = self.texts.intern(institution);
        }
    }
}

/// A case's key as [`Grouper::case_of`] takes it: (kind, subject, family).
fn key_of<'k>(keys: &'k StrColumn, case: &CaseBuild) -> (&'static str, &'k str, &'static str) {
    (
        case.subject_kind,
        subject_in(keys.get(case.key), case),
        case.family,
    )
}

/// CSR starts: `starts[k]..starts[k + 1]` is case `k`'s part of a list sorted by case.
fn starts_of(n: usize, cases_of: impl Iterator<Item = u32>) -> Vec<usize> {
    let mut starts = vec![0usize; n + 1];
    for ci in cases_of {
        starts[ci as usize + 1] += 1;
    }
    for k in 0..n {
        starts[k + 1] += starts[k];
    }
    starts
}

/// Sorted, `;`-joined.
pub(super) fn join_iter<'s>(items: impl Iterator<Item = &'s str>) -> String {
    let mut out = String::new();
    for (k, x) in items.enumerate() {
        if k > 0 {
            out.push(';');
        }
        out.push_str(x);
    }
    out
}

/// `items` joined with `;` ([`join_iter`]) equals `joined`, without building the joined text.
pub(super) fn joins_to<'s>(joined: &str, items: impl Iterator<Item = &'s str>) -> bool {
    let mut rest = joined;
    for (k, x) in items.enumerate() {
        if k > 0 {
            match rest.strip_prefix(';') {
                Some(r) => rest = r,
                None => return false,
            }
        }
        match rest.strip_prefix(x) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

/// A digest in lowercase hex, as `claim_hash` stores it.
pub(super) fn digest_hex(d: &[u8; 32]) -> String {
    String::from_utf8(digest_hex_bytes(d).to_vec()).expect("hex digits are ASCII")
}

/// Whether a stored `claim_hash` is the fingerprint `d`: a 32-byte BLOB, or in rows written
/// before fingerprints were stored raw, its 64 lowercase hex digits.
pub(super) fn stored_fingerprint_is(stored: rusqlite::types::ValueRef<'_>, d: &[u8; 32]) -> bool {
    use rusqlite::types::ValueRef;
    match stored {
        ValueRef::Blob(raw) => raw == d,
        ValueRef::Text(hex) => hex == digest_hex_bytes(d),
        _ => false,
    }
}

/// [`digest_hex`] without allocating.
fn digest_hex_bytes(d: &[u8; 32]) -> [u8; 64] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (k, b) in d.iter().enumerate() {
        out[2 * k] = HEX[(b >> 4) as usize];
        out[2 * k + 1] = HEX[(b & 15) as usize];
    }
    out
}

/// [`evidence_hash`] of sorted, unique claim ids and rules.
pub(super) fn evidence_hash_sorted<'s>(
    claims: impl Iterator<Item = &'s str>,
    rules: impl Iterator<Item = &'s str>,
) -> String {
    digest_hex(&evidence_digest_sorted(claims, rules))
}

/// The raw digest behind [`evidence_hash_sorted`].
pub(super) fn evidence_digest_sorted<'s>(
    claims: impl Iterator<Item = &'s str>,
    rules: impl Iterator<Item = &'s str>,
) -> [u8; 32] {
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
    h.finalize().into()
}

pub(super) fn split_set(s: &str) -> BTreeSet<String> {
    s.split(';')
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod fingerprint_tests {
    use super::*;
    use rusqlite::types::ValueRef;

    #[test]
    fn a_stored_fingerprint_matches_raw_or_as_hex_and_nothing_else() {
        let d = evidence_digest_sorted(["C1", "C2"].into_iter(), ["deceased"].into_iter());
        let hex = digest_hex(&d);
        assert_eq!(hex.len(), 64);
        assert!(stored_fingerprint_is(ValueRef::Blob(&d), &d));
        assert!(stored_fingerprint_is(ValueRef::Text(hex.as_bytes()), &d));
        let other = evidence_digest_sorted(["C1"].into_iter(), ["deceased"].into_iter());
        assert!(!stored_fingerprint_is(ValueRef::Blob(&other), &d));
        assert!(!stored_fingerprint_is(
            ValueRef::Text(hex.to_uppercase().as_bytes()),
            &d
        ));
        assert!(!stored_fingerprint_is(ValueRef::Blob(&d[..16]), &d));
        assert!(!stored_fingerprint_is(ValueRef::Null, &d));
    }
}

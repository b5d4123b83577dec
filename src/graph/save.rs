//! The graph's findings as the store's typed rows (`store::graph`): claim indices spelled as
//! claim ids, evidence serialised as the JSON the readers parse.

use super::{cross_county, Ahead, GraphFindings, AHEAD};
use crate::store::graph::{
    self as graph_store, CrossCountyRow, GraphRows, GraphStatsRow, GraphStoreError, GraphStreams,
    InstitutionRiskRow, RingMemberRow, RingRow, StagedEmployerRow,
};
use rusqlite::Connection;
use serde::{Serialize, Serializer};
use serde_json::json;
use std::fmt::Write;

/// Claim ids `;`-separated, appended to `out`.
fn push_joined_ids(out: &mut String, f: &GraphFindings, claims: &[u32]) {
    for (k, id) in f.claim_ids_of(claims).enumerate() {
        if k > 0 {
            out.push(';');
        }
        out.push_str(id);
    }
}

fn joined_ids(f: &GraphFindings, claims: &[u32]) -> String {
    let mut s = String::with_capacity(claims.len() * 12);
    push_joined_ids(&mut s, f, claims);
    s
}

// The JSON columns as `json!` objects spelled them (keys in sorted order, as serde_json's
// map keeps them), serialised straight from the findings without building values.

/// Claim ids of claim indices as a JSON array of strings.
struct ClaimIdsJson<'a>(&'a GraphFindings, &'a [u32]);

impl Serialize for ClaimIdsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.claim_ids_of(self.1))
    }
}

#[derive(Serialize)]
struct SharedJson<'a> {
    claim_ids: ClaimIdsJson<'a>,
    family_like: bool,
    institutions: &'a [String],
    kind: &'a str,
    persons: &'a [String],
    value: &'a str,
}

#[derive(Serialize)]
struct TermJson<'a> {
    points: f64,
    term: &'a str,
    value: f64,
    weight: f64,
    zh: &'a str,
}

#[derive(Serialize)]
struct EvidenceJson<'a> {
    claim_ids: ClaimIdsJson<'a>,
    detail: &'a serde_json::Value,
    en: &'a str,
    points: f64,
    term: &'a str,
    value: f64,
    weight: f64,
    zh: &'a str,
}

/// `value` as JSON text (the findings' own types serialise; a failure would be a bug in them).
fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Stores a sweep's findings (replacing any stored before for the same sweep), in one
/// savepoint.
pub fn save<'f>(
    conn: &Connection,
    sweep_id: i64,
    f: &'f GraphFindings,
) -> Result<(), GraphStoreError> {
    let rows = GraphRows {
        staged_employers: f
            .staged_employers
            .iter()
            .map(|e| staged_row(f, e))
            .collect(),
        stats: GraphStatsRow {
            nodes: f.nodes as i64,
            edges: f.edges as i64,
            bunching_json: f.bunching.as_ref().map(to_json),
            benford_json: f.benford.as_ref().map(to_json),
        },
    };
    // Cross-county path and claim ids are spelled into buffers reused row after row.
    let mut texts = cross_county::CrossCountyTexts::default();
    let mut fill = |k: usize, row: &mut CrossCountyRow| {
        // A row's claim ids are a few claims of one person: the rows ahead are prefetched.
        if let Some(ahead) = f.cross_county.get(k + 2 * AHEAD) {
            f.prefetch_claim_ids(ahead.claims(), Ahead::Far);
        }
        if let Some(ahead) = f.cross_county.get(k + AHEAD) {
            f.prefetch_claim_ids(ahead.claims(), Ahead::Near);
        }
        let c = &f.cross_county[k];
        texts.fill_facts(f, c);
        row.id_number.clear();
        row.id_number.push_str(f.person_id(c.person));
        row.year = c.year;
        row.counties = c.counties as i64;
        std::mem::swap(&mut row.path, &mut texts.path);
        std::mem::swap(&mut row.claim_ids, &mut texts.claim_ids);
        row.amount_fen = c.amount;
    };
    let mut fill_ring = |k: usize, row: &mut RingRow| fill_ring_row(f, &f.rings[k], row);
    let mut fill_members =
        |k: usize, rows: &mut Vec<RingMemberRow<'f>>| push_ring_members(&f.rings[k], rows);
    let mut fill_institution = |k: usize, row: &mut InstitutionRiskRow| {
        fill_institution_row(f, &f.institution_risk[k], row)
    };
    let streams = GraphStreams {
        rings: (f.rings.len(), &mut fill_ring),
        ring_members: (f.rings.len(), &mut fill_members),
        institution_risk: (f.institution_risk.len(), &mut fill_institution),
        cross_county: (f.cross_county.len(), &mut fill),
    };
    graph_store::save(conn, sweep_id, &rows, streams)
}

/// Ring `r`'s row, into `row` (its figures' buffers reused ring after ring; the explanations
/// are spelled anew, as the ring is stored).
fn fill_ring_row(f: &GraphFindings, r: &super::Ring, row: &mut RingRow) {
    let shared: Vec<SharedJson> = r
        .shared
        .iter()
        .map(|s| SharedJson {
            claim_ids: ClaimIdsJson(f, &s.claims),
            family_like: s.family_like,
            institutions: &s.institutions,
            kind: s.kind.code(),
            persons: &s.persons,
            value: &s.value,
        })
        .collect();
    let terms: Vec<TermJson> = r
        .terms
        .iter()
        .map(|t| TermJson {
            points: t.points,
            term: t.code,
            value: t.value,
            weight: t.weight,
            zh: t.zh,
        })
        .collect();
    row.ring_id = r.id;
    row.score = r.score;
    row.persons = r.persons.len() as i64;
    row.institutions = r.institutions.len() as i64;
    row.counties = r.counties.len() as i64;
    row.claims = r.claims.len() as i64;
    row.amount_fen = r.amount;
    row.shared_json = to_json(&shared);
    row.terms_json = to_json(&terms);
    row.claim_ids.clear();
    push_joined_ids(&mut row.claim_ids, f, &r.claims);
    row.explanation_zh = f.ring_explanation_zh(r);
    row.explanation_en = f.ring_explanation_en(r);
}

/// Ring `r`'s persons, institutions, counties and shared identifiers, appended to `rows`
/// (the store puts them in key order and drops exact repeats).
fn push_ring_members<'a>(r: &'a super::Ring, rows: &mut Vec<RingMemberRow<'a>>) {
    let of = |kind: &'static str, vs: &'a [String]| {
        vs.iter().map(move |v| RingMemberRow {
            ring_id: r.id,
            kind,
            value: v.as_str(),
        })
    };
    rows.extend(
        of("person", &r.persons)
            .chain(of("institution", &r.institutions))
            .chain(of("county", &r.counties))
            .chain(r.shared.iter().map(|s| RingMemberRow {
                ring_id: r.id,
                kind: s.kind.code(),
                value: s.value.as_str(),
            })),
    );
}

/// Institution `r`'s ranking row, into `row`.
fn fill_institution_row(
    f: &GraphFindings,
    r: &super::InstitutionRisk,
    row: &mut InstitutionRiskRow,
) {
    let evidence: Vec<EvidenceJson> = r
        .evidence
        .iter()
        .map(|e| EvidenceJson {
            claim_ids: ClaimIdsJson(f, &e.claims),
            detail: &e.detail,
            en: &e.en,
            points: e.points,
            term: e.code,
            value: e.value,
            weight: e.weight,
            zh: &e.zh,
        })
        .collect();
    row.rank = r.rank as i64;
    row.institution_id.clone_from(&r.code);
    row.name.clone_from(&r.name);
    row.score = r.score;
    row.claims = r.claims as i64;
    row.amount_fen = r.amount;
    row.flagged_claims = r.flagged_claims as i64;
    row.amount_at_risk_fen = r.amount_at_risk;
    row.rings.clear();
    for (k, ring) in r.rings.iter().enumerate() {
        if k > 0 {
            row.rings.push(';');
        }
        let _ = write!(row.rings, "{ring}");
    }
    row.evidence_json = to_json(&evidence);
}

fn staged_row(f: &GraphFindings, e: &super::StagedEmployer) -> StagedEmployerRow {
    let detail = json!(e
        .classes
        .iter()
        .map(|c| json!({
            "class_id": c.class_id,
            "institution_id": c.institution,
            "check_date": c.check_date.to_string(),
            "trainees": c.trainees,
            "employed_here": c.employed_here,
            "staged_here": c.staged_here,
            "link_zh": c.link_zh,
            "link_en": c.link_en,
            "claim_ids": f.claim_ids(&c.claims),
        }))
        .collect::<Vec<_>>());
    StagedEmployerRow {
        employer_id: e.code.clone(),
        classes: e
            .classes
            .iter()
            .map(|c| c.class_id.as_str())
            .collect::<Vec<_>>()
            .join(";"),
        claim_ids: joined_ids(f, &e.claims),
        amount_fen: e.amount,
        detail_json: detail.to_string(),
        explanation_zh: e.explanation_zh.clone(),
        explanation_en: e.explanation_en.clone(),
    }
}

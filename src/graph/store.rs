//! The graph's findings in the sweep database: its own tables, created on demand.
//!
//! - `rings` / `ring_members` (kinds: `person` = ID number, `institution`, `county`, `phone`,
//!   `bank_account`, `legal_rep`): the cases stage reads these to open ring cases.
//! - `institution_risk`: the ranked list with the evidence of each score as JSON.
//! - `cross_county`, `staged_employers`, `graph_stats` (graph size, ledger-wide bunching and
//!   Benford tests).
//!
//! Claim ids are stored `;`-separated and sorted, as in `flags`.

use super::GraphFindings;
use rusqlite::{params, Connection};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum GraphStoreError {
    #[error("graph tables: {0}")]
    Sql(#[from] rusqlite::Error),
}

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS rings (
  sweep_id INTEGER NOT NULL,
  ring_id INTEGER NOT NULL,
  score REAL NOT NULL,
  persons INTEGER NOT NULL,
  institutions INTEGER NOT NULL,
  counties INTEGER NOT NULL,
  claims INTEGER NOT NULL,
  amount_fen INTEGER NOT NULL,
  shared_json TEXT NOT NULL,
  terms_json TEXT NOT NULL,
  claim_ids TEXT NOT NULL,
  explanation_zh TEXT NOT NULL,
  explanation_en TEXT NOT NULL,
  PRIMARY KEY (sweep_id, ring_id)
);
CREATE TABLE IF NOT EXISTS ring_members (
  sweep_id INTEGER NOT NULL,
  ring_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ring_members_by_ring ON ring_members (sweep_id, ring_id);
CREATE TABLE IF NOT EXISTS institution_risk (
  sweep_id INTEGER NOT NULL,
  rank INTEGER NOT NULL,
  institution_id TEXT NOT NULL,
  name TEXT NOT NULL,
  score REAL NOT NULL,
  claims INTEGER NOT NULL,
  amount_fen INTEGER NOT NULL,
  flagged_claims INTEGER NOT NULL,
  amount_at_risk_fen INTEGER NOT NULL,
  rings TEXT NOT NULL,
  evidence_json TEXT NOT NULL,
  PRIMARY KEY (sweep_id, rank)
);
CREATE TABLE IF NOT EXISTS cross_county (
  sweep_id INTEGER NOT NULL,
  id_number TEXT NOT NULL,
  year INTEGER NOT NULL,
  counties INTEGER NOT NULL,
  path TEXT NOT NULL,
  claim_ids TEXT NOT NULL,
  amount_fen INTEGER NOT NULL,
  explanation_zh TEXT NOT NULL,
  explanation_en TEXT NOT NULL,
  PRIMARY KEY (sweep_id, id_number, year)
);
CREATE TABLE IF NOT EXISTS staged_employers (
  sweep_id INTEGER NOT NULL,
  employer_id TEXT NOT NULL,
  classes TEXT NOT NULL,
  claim_ids TEXT NOT NULL,
  amount_fen INTEGER NOT NULL,
  detail_json TEXT NOT NULL,
  explanation_zh TEXT NOT NULL,
  explanation_en TEXT NOT NULL,
  PRIMARY KEY (sweep_id, employer_id)
);
CREATE TABLE IF NOT EXISTS graph_stats (
  sweep_id INTEGER PRIMARY KEY,
  nodes INTEGER NOT NULL,
  edges INTEGER NOT NULL,
  bunching_json TEXT,
  benford_json TEXT
);
";

/// Creates the graph tables if they are missing.
pub fn ensure_schema(conn: &Connection) -> Result<(), GraphStoreError> {
    conn.execute_batch(SCHEMA)?;
    Ok(())
}

fn joined_ids(f: &GraphFindings, claims: &[u32]) -> String {
    let mut s = String::with_capacity(claims.len() * 12);
    for (k, &c) in claims.iter().enumerate() {
        if k > 0 {
            s.push(';');
        }
        s.push_str(f.claim_id(c));
    }
    s
}

/// Stores a sweep's findings (replacing any stored before for the same sweep), in one
/// savepoint.
pub fn save(conn: &Connection, sweep_id: i64, f: &GraphFindings) -> Result<(), GraphStoreError> {
    ensure_schema(conn)?;
    conn.execute_batch("SAVEPOINT graph_save")?;
    match save_inner(conn, sweep_id, f) {
        Ok(()) => {
            conn.execute_batch("RELEASE graph_save")?;
            Ok(())
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO graph_save; RELEASE graph_save");
            Err(e)
        }
    }
}

fn save_inner(conn: &Connection, sweep_id: i64, f: &GraphFindings) -> Result<(), GraphStoreError> {
    for t in [
        "rings",
        "ring_members",
        "institution_risk",
        "cross_county",
        "staged_employers",
        "graph_stats",
    ] {
        conn.execute(&format!("DELETE FROM {t} WHERE sweep_id = ?1"), [sweep_id])?;
    }
    {
        let mut ring = conn.prepare(
            "INSERT INTO rings VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        let mut member = conn.prepare("INSERT INTO ring_members VALUES (?1, ?2, ?3, ?4)")?;
        for r in &f.rings {
            let shared = json!(r
                .shared
                .iter()
                .map(|s| json!({
                    "kind": s.kind.code(),
                    "value": s.value,
                    "persons": s.persons,
                    "institutions": s.institutions,
                    "family_like": s.family_like,
                    "claim_ids": f.claim_ids(&s.claims),
                }))
                .collect::<Vec<_>>());
            let terms = json!(r
                .terms
                .iter()
                .map(|t| json!({"term": t.code, "zh": t.zh, "value": t.value, "weight": t.weight, "points": t.points}))
                .collect::<Vec<_>>());
            ring.execute(params![
                sweep_id,
                r.id,
                r.score,
                r.persons.len() as i64,
                r.institutions.len() as i64,
                r.counties.len() as i64,
                r.claims.len() as i64,
                r.amount,
                shared.to_string(),
                terms.to_string(),
                joined_ids(f, &r.claims),
                r.explanation_zh,
                r.explanation_en
            ])?;
            for p in &r.persons {
                member.execute(params![sweep_id, r.id, "person", p])?;
            }
            for i in &r.institutions {
                member.execute(params![sweep_id, r.id, "institution", i])?;
            }
            for c in &r.counties {
                member.execute(params![sweep_id, r.id, "county", c])?;
            }
            for s in &r.shared {
                member.execute(params![sweep_id, r.id, s.kind.code(), s.value])?;
            }
        }
    }
    {
        let mut st = conn.prepare(
            "INSERT INTO institution_risk VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for r in &f.institution_risk {
            let evidence = json!(r
                .evidence
                .iter()
                .map(|e| json!({
                    "term": e.code,
                    "zh": e.zh,
                    "en": e.en,
                    "value": e.value,
                    "weight": e.weight,
                    "points": e.points,
                    "claim_ids": f.claim_ids(&e.claims),
                    "detail": e.detail,
                }))
                .collect::<Vec<_>>());
            let rings = r
                .rings
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(";");
            st.execute(params![
                sweep_id,
                r.rank,
                r.code,
                r.name,
                r.score,
                r.claims,
                r.amount,
                r.flagged_claims,
                r.amount_at_risk,
                rings,
                evidence.to_string()
            ])?;
        }
    }
    {
        let mut st =
            conn.prepare("INSERT INTO cross_county VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")?;
        for c in &f.cross_county {
            st.execute(params![
                sweep_id,
                c.id_number,
                c.year,
                c.counties as i64,
                c.path_text(),
                joined_ids(f, &c.claims),
                c.amount,
                c.explanation_zh,
                c.explanation_en
            ])?;
        }
    }
    {
        let mut st =
            conn.prepare("INSERT INTO staged_employers VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
        for e in &f.staged_employers {
            let classes = e
                .classes
                .iter()
                .map(|c| c.class_id.as_str())
                .collect::<Vec<_>>()
                .join(";");
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
            st.execute(params![
                sweep_id,
                e.code,
                classes,
                joined_ids(f, &e.claims),
                e.amount,
                detail.to_string(),
                e.explanation_zh,
                e.explanation_en
            ])?;
        }
    }
    conn.execute(
        "INSERT INTO graph_stats VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            sweep_id,
            f.nodes as i64,
            f.edges as i64,
            f.bunching
                .as_ref()
                .map(|b| serde_json::to_string(b).unwrap_or_default()),
            f.benford
                .as_ref()
                .map(|b| serde_json::to_string(b).unwrap_or_default())
        ],
    )?;
    Ok(())
}

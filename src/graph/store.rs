//! The graph's findings in the sweep database: its own tables, created on demand.
//!
//! - `rings` / `ring_members` (kinds: `person` = ID number, `institution`, `county`, `phone`,
//!   `bank_account`, `legal_rep`): the cases stage reads these to open ring cases.
//! - `institution_risk`: the ranked list with the evidence of each score as JSON.
//! - `cross_county`, `staged_employers`, `graph_stats` (graph size, ledger-wide bunching and
//!   Benford tests).
//!
//! Claim ids are stored `;`-separated and sorted, as in `flags`.

use super::{cross_county, GraphFindings};
use rusqlite::{params, Connection, Statement};
use serde::{Serialize, Serializer};
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
///
/// `cross_county` stores facts only: a ledger has a cross-county row for every person who
/// trained in two counties in a year (over a million at ten million claims), and spelling the
/// explanation into every row in both languages made it most of what a sweep wrote. The
/// explanation is spelled when shown (`GraphFindings::cross_county_explanation`). Databases
/// from before lose the two explanation columns here.
pub fn ensure_schema(conn: &Connection) -> Result<(), GraphStoreError> {
    conn.execute_batch(SCHEMA)?;
    let old_columns: Vec<String> = {
        let mut st = conn.prepare(
            "SELECT name FROM pragma_table_info('cross_county')
             WHERE name IN ('explanation_zh', 'explanation_en') ORDER BY name",
        )?;
        let rows = st.query_map([], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    for column in old_columns {
        conn.execute_batch(&format!("ALTER TABLE cross_county DROP COLUMN {column}"))?;
    }
    Ok(())
}

/// Claim ids `;`-separated, appended to `out`.
fn push_joined_ids(out: &mut String, f: &GraphFindings, claims: &[u32]) {
    for (k, &c) in claims.iter().enumerate() {
        if k > 0 {
            out.push(';');
        }
        out.push_str(f.claim_id(c));
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
        s.collect_seq(self.1.iter().map(|&c| self.0.claim_id(c)))
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

/// `value` as JSON text in `buf` (reused row after row).
fn to_json<'b>(buf: &'b mut Vec<u8>, value: &impl Serialize) -> rusqlite::Result<&'b str> {
    buf.clear();
    serde_json::to_writer(&mut *buf, value)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    std::str::from_utf8(buf).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// SQLite's default limit on host parameters in one statement.
const MAX_PARAMS: usize = 32_766;
/// Rows per multi-row INSERT: enough to amortise the statement, small enough to stay in cache.
const MAX_ROWS: usize = 256;

/// Inserts `items` into `table` (`cols` columns) with multi-row `INSERT … VALUES (…),(…)`
/// statements: one prepared for full batches and reused, one for the last partial batch.
/// `bind(stmt, first, item)` binds one item's columns from parameter `first` (1-based) on.
fn insert_rows<T>(
    conn: &Connection,
    table: &str,
    cols: usize,
    items: &[T],
    mut bind: impl FnMut(&mut Statement<'_>, usize, &T) -> rusqlite::Result<()>,
) -> Result<(), GraphStoreError> {
    let per_batch = (MAX_PARAMS / cols).clamp(1, MAX_ROWS);
    let sql = |rows: usize| {
        let one = format!("({})", vec!["?"; cols].join(","));
        format!("INSERT INTO {table} VALUES {}", vec![one; rows].join(","))
    };
    let mut full: Option<Statement<'_>> = None;
    for chunk in items.chunks(per_batch) {
        let mut partial;
        let st = if chunk.len() == per_batch {
            if full.is_none() {
                full = Some(conn.prepare(&sql(per_batch))?);
            }
            full.as_mut().expect("prepared just above")
        } else {
            partial = conn.prepare(&sql(chunk.len()))?;
            &mut partial
        };
        for (r, item) in chunk.iter().enumerate() {
            bind(st, r * cols + 1, item)?;
        }
        st.raw_execute()?;
    }
    Ok(())
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

fn save_inner<'a>(
    conn: &Connection,
    sweep_id: i64,
    f: &'a GraphFindings,
) -> Result<(), GraphStoreError> {
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
    let (mut json_buf, mut json_buf2) = (Vec::new(), Vec::new());
    insert_rows(conn, "rings", 13, &f.rings, |st, i, r| {
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
        st.raw_bind_parameter(i, sweep_id)?;
        st.raw_bind_parameter(i + 1, r.id)?;
        st.raw_bind_parameter(i + 2, r.score)?;
        st.raw_bind_parameter(i + 3, r.persons.len() as i64)?;
        st.raw_bind_parameter(i + 4, r.institutions.len() as i64)?;
        st.raw_bind_parameter(i + 5, r.counties.len() as i64)?;
        st.raw_bind_parameter(i + 6, r.claims.len() as i64)?;
        st.raw_bind_parameter(i + 7, r.amount)?;
        st.raw_bind_parameter(i + 8, to_json(&mut json_buf, &shared)?)?;
        st.raw_bind_parameter(i + 9, to_json(&mut json_buf2, &terms)?)?;
        st.raw_bind_parameter(i + 10, joined_ids(f, &r.claims))?;
        st.raw_bind_parameter(i + 11, &r.explanation_zh)?;
        st.raw_bind_parameter(i + 12, &r.explanation_en)
    })?;
    // Members in the order they were always stored: per ring its persons, institutions,
    // counties, then shared identifiers.
    let members: Vec<(u32, &str, &str)> = f
        .rings
        .iter()
        .flat_map(|r| {
            let of =
                |k: &'static str, vs: &'a [String]| vs.iter().map(move |v| (r.id, k, v.as_str()));
            of("person", &r.persons)
                .chain(of("institution", &r.institutions))
                .chain(of("county", &r.counties))
                .chain(
                    r.shared
                        .iter()
                        .map(|s| (r.id, s.kind.code(), s.value.as_str())),
                )
        })
        .collect();
    insert_rows(
        conn,
        "ring_members",
        4,
        &members,
        |st, i, &(ring, kind, value)| {
            st.raw_bind_parameter(i, sweep_id)?;
            st.raw_bind_parameter(i + 1, ring)?;
            st.raw_bind_parameter(i + 2, kind)?;
            st.raw_bind_parameter(i + 3, value)
        },
    )?;
    drop(members);
    insert_rows(
        conn,
        "institution_risk",
        11,
        &f.institution_risk,
        |st, i, r| {
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
            let rings = r
                .rings
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(";");
            st.raw_bind_parameter(i, sweep_id)?;
            st.raw_bind_parameter(i + 1, r.rank)?;
            st.raw_bind_parameter(i + 2, &r.code)?;
            st.raw_bind_parameter(i + 3, &r.name)?;
            st.raw_bind_parameter(i + 4, r.score)?;
            st.raw_bind_parameter(i + 5, r.claims)?;
            st.raw_bind_parameter(i + 6, r.amount)?;
            st.raw_bind_parameter(i + 7, r.flagged_claims)?;
            st.raw_bind_parameter(i + 8, r.amount_at_risk)?;
            st.raw_bind_parameter(i + 9, rings)?;
            st.raw_bind_parameter(i + 10, to_json(&mut json_buf, &evidence)?)
        },
    )?;
    // Cross-county path and claim ids are spelled here, into buffers reused row after row
    // (SQLite copies bound text).
    let mut texts = cross_county::CrossCountyTexts::default();
    insert_rows(conn, "cross_county", 7, &f.cross_county, |st, i, c| {
        texts.fill_facts(f, c);
        st.raw_bind_parameter(i, sweep_id)?;
        st.raw_bind_parameter(i + 1, f.person_id(c.person))?;
        st.raw_bind_parameter(i + 2, c.year)?;
        st.raw_bind_parameter(i + 3, c.counties as i64)?;
        st.raw_bind_parameter(i + 4, texts.path.as_str())?;
        st.raw_bind_parameter(i + 5, texts.claim_ids.as_str())?;
        st.raw_bind_parameter(i + 6, c.amount)
    })?;
    insert_rows(
        conn,
        "staged_employers",
        8,
        &f.staged_employers,
        |st, i, e| {
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
            st.raw_bind_parameter(i, sweep_id)?;
            st.raw_bind_parameter(i + 1, &e.code)?;
            st.raw_bind_parameter(i + 2, classes)?;
            st.raw_bind_parameter(i + 3, joined_ids(f, &e.claims))?;
            st.raw_bind_parameter(i + 4, e.amount)?;
            st.raw_bind_parameter(i + 5, detail.to_string())?;
            st.raw_bind_parameter(i + 6, &e.explanation_zh)?;
            st.raw_bind_parameter(i + 7, &e.explanation_en)
        },
    )?;
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

//! The graph's findings in the sweep database: its own tables, created on demand.
//!
//! - `rings` / `ring_members` (kinds: `person` = ID number, `institution`, `county`, `phone`,
//!   `bank_account`, `legal_rep`): the cases stage reads these to open ring cases.
//! - `institution_risk`: the ranked list with the evidence of each score as JSON.
//! - `cross_county`, `staged_employers`, `graph_stats` (graph size, ledger-wide bunching and
//!   Benford tests).
//!
//! Claim ids are stored `;`-separated and sorted, as in `flags`. The graph stage fills the typed
//! rows below from its findings (`graph::save`); the tables and every statement that writes
//! them are here.

use super::batch::{insert_numbered, insert_rows};
use super::textblock::{BlockReader, BlockTable, Packer};
use rusqlite::{params, Connection};

#[derive(Debug, thiserror::Error)]
pub enum GraphStoreError {
    #[error("graph tables: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("compressing ring texts: {0}")]
    Texts(#[from] std::io::Error),
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
-- A ring's texts (explanations, shared identifiers and score terms as JSON), compressed a
-- block of rings at a time: a ring row with the four columns empty has them here
-- (`store::textblock`; sweeps before keep them in the row).
CREATE TABLE IF NOT EXISTS ring_texts (
  sweep_id INTEGER NOT NULL,
  first_ring INTEGER NOT NULL,
  rings INTEGER NOT NULL,
  explanation_zh BLOB NOT NULL,
  explanation_en BLOB NOT NULL,
  shared_json BLOB NOT NULL,
  terms_json BLOB NOT NULL,
  PRIMARY KEY (sweep_id, first_ring)
);
-- A ring's members in their key's B-tree, which also serves a ring's members in order (older
-- databases keep a rowid table with the index ring_members_by_ring instead); rows are
-- written in key order.
CREATE TABLE IF NOT EXISTS ring_members (
  sweep_id INTEGER NOT NULL,
  ring_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (sweep_id, ring_id, kind, value)
) WITHOUT ROWID;
-- Case pages look up the rings of a case's persons and institution by value.
CREATE INDEX IF NOT EXISTS ring_members_by_value ON ring_members (sweep_id, kind, value);
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
) WITHOUT ROWID; -- a million rows a sweep at 10 M claims: the key's B-tree is the table
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

/// A ring (`rings`).
#[derive(Clone, Debug, Default)]
pub struct RingRow {
    pub ring_id: u32,
    pub score: f64,
    pub persons: i64,
    pub institutions: i64,
    pub counties: i64,
    pub claims: i64,
    pub amount_fen: i64,
    pub shared_json: String,
    pub terms_json: String,
    pub claim_ids: String,
    pub explanation_zh: String,
    pub explanation_en: String,
}

/// Where ring texts are stored (`ring_texts`, numbered by `rings.ring_id`): at ten million
/// claims a sweep's 76 thousand rings spell 145 MB of explanations and JSON, 12 MB compressed
/// a block at a time.
const RING_TEXTS: BlockTable<4> = BlockTable {
    table: "ring_texts",
    first: "first_ring",
    count: "rings",
    columns: [
        "explanation_zh",
        "explanation_en",
        "shared_json",
        "terms_json",
    ],
};

/// Reads the texts of one sweep's rings by ring id (explanations: [`BlockReader::fill`]): a
/// ring row with its text columns empty has them in `ring_texts`.
pub fn ring_texts(conn: &Connection, sweep_id: i64) -> BlockReader<'_, 4> {
    BlockReader::new(conn, RING_TEXTS, sweep_id)
}

/// A ring's member (`ring_members`): a person (ID number), institution, county or shared
/// identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RingMemberRow<'a> {
    pub ring_id: u32,
    pub kind: &'a str,
    pub value: &'a str,
}

/// An institution's place in the risk ranking (`institution_risk`).
#[derive(Clone, Debug, Default)]
pub struct InstitutionRiskRow {
    pub rank: i64,
    pub institution_id: String,
    pub name: String,
    pub score: f64,
    pub claims: i64,
    pub amount_fen: i64,
    pub flagged_claims: i64,
    pub amount_at_risk_fen: i64,
    /// Ring ids, `;`-separated.
    pub rings: String,
    pub evidence_json: String,
}

/// One term of an institution's risk score, as `institution_risk.evidence_json` lists them
/// (written by `graph::save`, read back by the case pages, the cases and the report).
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
#[serde(default)]
pub struct RiskTerm {
    pub term: String,
    pub zh: String,
    pub en: String,
    pub points: f64,
    pub value: f64,
    pub weight: f64,
    pub claim_ids: Vec<String>,
    pub detail: serde_json::Value,
}

/// zstd level of stored evidence: an institution's evidence lists every flagged claim id of
/// each term (34 KB of JSON each at ten million claims, 100 MB a sweep as text).
const EVIDENCE_ZSTD_LEVEL: i32 = 3;

/// Why an `evidence_json` value could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("damaged compressed evidence: {0}")]
    Compressed(#[from] std::io::Error),
    #[error("neither text nor compressed evidence")]
    Type,
}

/// The stored form of an institution's evidence: its JSON, zstd-compressed (a BLOB in the
/// `evidence_json` column; sweeps before compression hold the JSON as TEXT).
pub fn evidence_blob(evidence_json: &str) -> Vec<u8> {
    zstd::bulk::compress(evidence_json.as_bytes(), EVIDENCE_ZSTD_LEVEL)
        .expect("zstd compresses in memory")
}

/// The terms of an `evidence_json` value: compressed JSON (BLOB) or, from older sweeps, JSON
/// text.
pub fn risk_terms(evidence: rusqlite::types::ValueRef<'_>) -> Result<Vec<RiskTerm>, EvidenceError> {
    use rusqlite::types::ValueRef;
    match evidence {
        ValueRef::Text(json) => Ok(serde_json::from_slice(json)?),
        ValueRef::Blob(packed) => {
            let json = zstd::stream::decode_all(packed)?;
            Ok(serde_json::from_slice(&json)?)
        }
        _ => Err(EvidenceError::Type),
    }
}

/// A person claiming in several counties in one year (`cross_county`); filled row by row into
/// one reused buffer (a ledger has a million of them at ten million claims).
#[derive(Clone, Debug, Default)]
pub struct CrossCountyRow {
    pub id_number: String,
    pub year: i32,
    pub counties: i64,
    pub path: String,
    pub claim_ids: String,
    pub amount_fen: i64,
}

/// An employer staged for the employment check (`staged_employers`).
#[derive(Clone, Debug, Default)]
pub struct StagedEmployerRow {
    pub employer_id: String,
    /// Class ids, `;`-separated.
    pub classes: String,
    pub claim_ids: String,
    pub amount_fen: i64,
    pub detail_json: String,
    pub explanation_zh: String,
    pub explanation_en: String,
}

/// Graph size and the ledger-wide tests (`graph_stats`).
#[derive(Clone, Debug, Default)]
pub struct GraphStatsRow {
    pub nodes: i64,
    pub edges: i64,
    pub bunching_json: Option<String>,
    pub benford_json: Option<String>,
}

/// The rows of a sweep's graph findings held at once: the few staged employers and the
/// statistics. The rest are streamed ([`GraphStreams`]).
#[derive(Debug, Default)]
pub struct GraphRows {
    pub staged_employers: Vec<StagedEmployerRow>,
    pub stats: GraphStatsRow,
}

/// The rows that grow with the ledger, each filled when it is written, so no table's rows
/// are held all at once beside the case grouping (at ten million claims the institutions'
/// evidence JSON took 0.13 GB of the sweep's peak, the ring members 0.07 GB).
pub struct GraphStreams<'f, 'a> {
    pub rings: RingRows<'f>,
    pub ring_members: RingMemberRows<'f, 'a>,
    pub institution_risk: InstitutionRows<'f>,
    pub cross_county: CrossCountyRows<'f>,
}

/// The ring members: how many rings, and a function appending ring `k`'s members (rings in
/// id order; repeats allowed: the store sorts each run of rings by key and drops them).
pub type RingMemberRows<'f, 'a> = (usize, &'f mut dyn FnMut(usize, &mut Vec<RingMemberRow<'a>>));

/// The institution ranking: how many, and a function filling rank `k`'s row into the reused
/// buffer.
pub type InstitutionRows<'f> = (usize, &'f mut dyn FnMut(usize, &mut InstitutionRiskRow));

/// Rings whose members are sorted and written together.
const RINGS_PER_MEMBER_RUN: usize = 1024;

/// The cross-county rows: how many, and a function filling row `k` into the reused buffer.
pub type CrossCountyRows<'f> = (usize, &'f mut dyn FnMut(usize, &mut CrossCountyRow));

/// The ring rows, in ring id order: how many, and a function filling ring `k`'s row into the
/// reused buffer. Held all at once, 76 thousand rings at ten million claims took about 0.2 GB
/// of the sweep's peak, while the case input was taken out of the snapshot beside them.
pub type RingRows<'f> = (usize, &'f mut dyn FnMut(usize, &mut RingRow));

/// Stores a sweep's graph findings (replacing any stored before for the same sweep), in one
/// savepoint.
pub fn save(
    conn: &Connection,
    sweep_id: i64,
    rows: &GraphRows,
    streams: GraphStreams<'_, '_>,
) -> Result<(), GraphStoreError> {
    ensure_schema(conn)?;
    conn.execute_batch("SAVEPOINT graph_save")?;
    match save_inner(conn, sweep_id, rows, streams) {
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

fn save_inner(
    conn: &Connection,
    sweep_id: i64,
    rows: &GraphRows,
    streams: GraphStreams<'_, '_>,
) -> Result<(), GraphStoreError> {
    let GraphStreams {
        rings: (ring_count, fill_ring),
        ring_members: (member_rings, fill_members),
        institution_risk: (institution_count, fill_institution),
        cross_county: (cross_count, fill_cross),
    } = streams;
    for t in [
        "rings",
        "ring_texts",
        "ring_members",
        "institution_risk",
        "cross_county",
        "staged_employers",
        "graph_stats",
    ] {
        conn.execute(&format!("DELETE FROM {t} WHERE sweep_id = ?1"), [sweep_id])?;
    }
    // Each ring row is filled once into a reused buffer: its figures go into `rings`, its
    // texts into the sweep's compressed blocks (`ring_texts`), a block written as it fills.
    let mut packer = Packer::<4>::default();
    let mut insert_texts = conn.prepare(&RING_TEXTS.insert_sql())?;
    let mut r = RingRow::default();
    insert_numbered(conn, "rings", 13, ring_count, |st, i, k| {
        fill_ring(k, &mut r);
        let texts = [
            r.explanation_zh.as_str(),
            &r.explanation_en,
            &r.shared_json,
            &r.terms_json,
        ];
        // Only rings out of id order fail to pack (two blocks would hold one).
        let blocks = packer
            .push(r.ring_id.into(), texts)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        for block in blocks {
            BlockTable::insert(&mut insert_texts, sweep_id, &block)?;
        }
        st.raw_bind_parameter(i, sweep_id)?;
        st.raw_bind_parameter(i + 1, r.ring_id)?;
        st.raw_bind_parameter(i + 2, r.score)?;
        st.raw_bind_parameter(i + 3, r.persons)?;
        st.raw_bind_parameter(i + 4, r.institutions)?;
        st.raw_bind_parameter(i + 5, r.counties)?;
        st.raw_bind_parameter(i + 6, r.claims)?;
        st.raw_bind_parameter(i + 7, r.amount_fen)?;
        // The texts are in `ring_texts`.
        st.raw_bind_parameter(i + 8, "")?;
        st.raw_bind_parameter(i + 9, "")?;
        st.raw_bind_parameter(i + 10, r.claim_ids.as_str())?;
        st.raw_bind_parameter(i + 11, "")?;
        st.raw_bind_parameter(i + 12, "")
    })?;
    if let Some(block) = packer.finish()? {
        BlockTable::insert(&mut insert_texts, sweep_id, &block)?;
    }
    // Members go into the key's B-tree in key order (ring, kind, value), a run of rings at a
    // time: rings come in id order, so sorting each run sorts them all.
    let mut members = Vec::new();
    for first in (0..member_rings).step_by(RINGS_PER_MEMBER_RUN) {
        members.clear();
        (first..member_rings.min(first + RINGS_PER_MEMBER_RUN))
            .for_each(|k| fill_members(k, &mut members));
        members.sort_unstable();
        members.dedup();
        insert_rows(conn, "ring_members", 4, &members, |st, i, m| {
            st.raw_bind_parameter(i, sweep_id)?;
            st.raw_bind_parameter(i + 1, m.ring_id)?;
            st.raw_bind_parameter(i + 2, m.kind)?;
            st.raw_bind_parameter(i + 3, m.value)
        })?;
    }
    let mut ranked = InstitutionRiskRow::default();
    insert_numbered(
        conn,
        "institution_risk",
        11,
        institution_count,
        |st, i, k| {
            fill_institution(k, &mut ranked);
            st.raw_bind_parameter(i, sweep_id)?;
            st.raw_bind_parameter(i + 1, ranked.rank)?;
            st.raw_bind_parameter(i + 2, ranked.institution_id.as_str())?;
            st.raw_bind_parameter(i + 3, ranked.name.as_str())?;
            st.raw_bind_parameter(i + 4, ranked.score)?;
            st.raw_bind_parameter(i + 5, ranked.claims)?;
            st.raw_bind_parameter(i + 6, ranked.amount_fen)?;
            st.raw_bind_parameter(i + 7, ranked.flagged_claims)?;
            st.raw_bind_parameter(i + 8, ranked.amount_at_risk_fen)?;
            st.raw_bind_parameter(i + 9, ranked.rings.as_str())?;
            st.raw_bind_parameter(i + 10, evidence_blob(&ranked.evidence_json))
        },
    )?;
    // Cross-county rows are filled one by one into a reused buffer (SQLite copies bound text).
    let mut row = CrossCountyRow::default();
    insert_numbered(conn, "cross_county", 7, cross_count, |st, i, k| {
        fill_cross(k, &mut row);
        st.raw_bind_parameter(i, sweep_id)?;
        st.raw_bind_parameter(i + 1, row.id_number.as_str())?;
        st.raw_bind_parameter(i + 2, row.year)?;
        st.raw_bind_parameter(i + 3, row.counties)?;
        st.raw_bind_parameter(i + 4, row.path.as_str())?;
        st.raw_bind_parameter(i + 5, row.claim_ids.as_str())?;
        st.raw_bind_parameter(i + 6, row.amount_fen)
    })?;
    insert_rows(
        conn,
        "staged_employers",
        8,
        &rows.staged_employers,
        |st, i, e| {
            st.raw_bind_parameter(i, sweep_id)?;
            st.raw_bind_parameter(i + 1, e.employer_id.as_str())?;
            st.raw_bind_parameter(i + 2, e.classes.as_str())?;
            st.raw_bind_parameter(i + 3, e.claim_ids.as_str())?;
            st.raw_bind_parameter(i + 4, e.amount_fen)?;
            st.raw_bind_parameter(i + 5, e.detail_json.as_str())?;
            st.raw_bind_parameter(i + 6, e.explanation_zh.as_str())?;
            st.raw_bind_parameter(i + 7, e.explanation_en.as_str())
        },
    )?;
    let s = &rows.stats;
    conn.execute(
        "INSERT INTO graph_stats VALUES (?1, ?2, ?3, ?4, ?5)",
        params![sweep_id, s.nodes, s.edges, s.bunching_json, s.benford_json],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::types::ValueRef;

    /// A sweep's ring texts are stored in compressed blocks, the rows' text columns empty, and
    /// read back by ring id; a ring row written with its texts (older sweeps) keeps them.
    #[test]
    fn ring_texts_are_stored_in_blocks_and_read_back_by_ring() {
        let conn = Connection::open_in_memory().unwrap();
        let ring = |id: u32| RingRow {
            ring_id: id,
            claims: 2,
            shared_json: format!("[{{\"value\":\"1390000{id:04}\"}}]"),
            terms_json: "[]".into(),
            claim_ids: format!("C{id};D{id}"),
            explanation_zh: format!("{id}人团伙"),
            explanation_en: format!("ring of {id}"),
            ..Default::default()
        };
        let rows = GraphRows::default();
        let mut fill = |k: usize, row: &mut RingRow| *row = ring(k as u32 + 1);
        let save_rings = |fill: &mut dyn FnMut(usize, &mut RingRow)| {
            let streams = GraphStreams {
                rings: (1500, fill),
                ring_members: (0, &mut |_, _| {}),
                institution_risk: (0, &mut |_, _| {}),
                cross_county: (0, &mut |_, _| {}),
            };
            save(&conn, 3, &rows, streams).unwrap();
        };
        save_rings(&mut fill);
        let inline: i64 = conn
            .query_row(
                "SELECT count(*) FROM rings WHERE sweep_id = 3 AND (explanation_zh <> ''
                 OR explanation_en <> '' OR shared_json <> '' OR terms_json <> '')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(inline, 0);
        let blocks: i64 = conn
            .query_row(
                "SELECT count(*) FROM ring_texts WHERE sweep_id = 3",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(blocks, 2);
        let texts = ring_texts(&conn, 3);
        for id in [1u32, 1024, 1025, 1500] {
            let (mut zh, mut en) = (String::new(), String::new());
            texts.fill(id.into(), &mut zh, &mut en).unwrap();
            assert_eq!((zh, en), (format!("{id}人团伙"), format!("ring of {id}")));
            let all = BlockReader::new(&conn, RING_TEXTS, 3)
                .texts(id.into())
                .unwrap();
            let r = ring(id);
            assert_eq!(
                all,
                Some([
                    r.explanation_zh,
                    r.explanation_en,
                    r.shared_json,
                    r.terms_json
                ])
            );
        }
        // Saving the sweep again replaces its blocks.
        save_rings(&mut fill);
        let again: i64 = conn
            .query_row("SELECT count(*) FROM ring_texts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(again, 2);
        // Texts in the row stay as they are.
        let (mut zh, mut en) = ("旧".to_string(), "old".to_string());
        texts.fill(1, &mut zh, &mut en).unwrap();
        assert_eq!((zh.as_str(), en.as_str()), ("旧", "old"));
    }

    /// Ring members are written a run of rings at a time, each run sorted with its repeats
    /// dropped: the table holds each ring's distinct members, in key order, across runs.
    #[test]
    fn ring_members_streamed_in_runs_keep_every_distinct_member() {
        let conn = Connection::open_in_memory().unwrap();
        let rings = 2 * RINGS_PER_MEMBER_RUN + 7;
        let values: Vec<String> = (0..rings).map(|k| format!("1390{k:07}")).collect();
        let streams = GraphStreams {
            rings: (0, &mut |_, _| {}),
            ring_members: (rings, &mut |k, rows| {
                let id = k as u32 + 1;
                // Out of key order and with a repeat, as a ring's shared identifiers can be.
                for (kind, value) in [
                    ("phone", &values[k]),
                    ("county", &values[0]),
                    ("phone", &values[k]),
                ] {
                    rows.push(RingMemberRow {
                        ring_id: id,
                        kind,
                        value,
                    });
                }
            }),
            institution_risk: (0, &mut |_, _| {}),
            cross_county: (0, &mut |_, _| {}),
        };
        save(&conn, 1, &GraphRows::default(), streams).unwrap();
        let stored: Vec<(u32, String, String)> = conn
            .prepare(
                "SELECT ring_id, kind, value FROM ring_members WHERE sweep_id = 1
                 ORDER BY ring_id, kind, value",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let expected: Vec<(u32, String, String)> = (0..rings)
            .flat_map(|k| {
                let id = k as u32 + 1;
                [
                    (id, "county".to_string(), values[0].clone()),
                    (id, "phone".to_string(), values[k].clone()),
                ]
            })
            .collect();
        assert_eq!(stored, expected);
    }

    #[test]
    fn evidence_reads_back_compressed_and_as_text_and_damage_is_an_error() {
        let json =
            r#"[{"term":"flagged_share","zh":"标记占比","points":12.5,"claim_ids":["C1","C2"]}]"#;
        let packed = evidence_blob(json);
        let terms = risk_terms(ValueRef::Blob(&packed)).unwrap();
        assert_eq!(terms.len(), 1);
        assert_eq!(terms[0].term, "flagged_share");
        assert_eq!(terms[0].claim_ids, vec!["C1", "C2"]);
        assert_eq!(terms[0].points, 12.5);
        // Sweeps stored before compression hold the JSON as text: the same terms.
        assert_eq!(risk_terms(ValueRef::Text(json.as_bytes())).unwrap(), terms);
        // A long claim list compresses well below its text.
        let long = format!(
            r#"[{{"term":"t","claim_ids":[{}]}}]"#,
            (0..5000)
                .map(|i| format!("\"SQ{i:010}\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(evidence_blob(&long).len() * 4 < long.len());
        // Damage is an error, never an empty list.
        assert!(matches!(
            risk_terms(ValueRef::Blob(&packed[..packed.len() / 2])),
            Err(EvidenceError::Compressed(_))
        ));
        assert!(matches!(
            risk_terms(ValueRef::Integer(3)),
            Err(EvidenceError::Type)
        ));
    }
}

//! Tables of the cases stage. They live here (not in `store/schema.sql`) because only this
//! module writes them; every statement is `IF NOT EXISTS`, so calling [`ensure_schema`] on
//! every open is cheap and safe.

use super::CaseError;
use rusqlite::Connection;
use std::path::Path;

const CASES_SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS cases (
  case_id INTEGER PRIMARY KEY,
  case_key TEXT NOT NULL UNIQUE,         -- subject_kind:subject:rule_family, stable across sweeps
  subject_kind TEXT NOT NULL,            -- person | class | contact | ring | institution
  subject TEXT NOT NULL,
  rule_family TEXT NOT NULL,             -- identity | eligibility | project | network | institution
  county_code TEXT NOT NULL DEFAULT '',
  institution_id TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'open',   -- open | in_review | confirmed | dismissed | escalated
  assignee TEXT NOT NULL DEFAULT '',
  first_sweep_id INTEGER NOT NULL,
  last_sweep_id INTEGER NOT NULL,        -- last sweep that found the case
  score REAL NOT NULL DEFAULT 0,         -- figures of the last sweep that found it
  amount_at_risk_fen INTEGER NOT NULL DEFAULT 0,
  claims INTEGER NOT NULL DEFAULT 0,
  rules TEXT NOT NULL DEFAULT '',        -- ';'-separated, sorted
  claim_hash TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cases_status ON cases(status);

CREATE TABLE IF NOT EXISTS case_sweeps (
  case_id INTEGER NOT NULL,
  sweep_id INTEGER NOT NULL,
  change TEXT NOT NULL,                  -- new | persisting | reopened | resolved
  score REAL NOT NULL,
  amount_at_risk_fen INTEGER NOT NULL,
  claims INTEGER NOT NULL,
  claim_hash TEXT NOT NULL,              -- evidence fingerprint: sorted claim ids + rules
  rules TEXT NOT NULL,
  claim_ids TEXT NOT NULL,               -- ';'-separated, sorted
  detail_json TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (case_id, sweep_id)
);
CREATE INDEX IF NOT EXISTS case_sweeps_sweep ON case_sweeps(sweep_id);

-- One row per sweep whose cases were built: the sweep before a sweep is the previous row here.
CREATE TABLE IF NOT EXISTS case_builds (
  sweep_id INTEGER PRIMARY KEY,
  built_at TEXT NOT NULL,
  summary_json TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS case_flags (
  case_id INTEGER NOT NULL,
  sweep_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (case_id, sweep_id, seq)
);

CREATE TABLE IF NOT EXISTS case_history (
  history_id INTEGER PRIMARY KEY AUTOINCREMENT,
  case_id INTEGER NOT NULL,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,                  -- created | assign | review | reopen | keep_dismissed | resolved | reappeared
  from_status TEXT,
  to_status TEXT,
  note TEXT NOT NULL DEFAULT '',
  sweep_id INTEGER
);
CREATE INDEX IF NOT EXISTS case_history_case ON case_history(case_id);

-- The history is the audit trail: it is only ever appended to.
CREATE TRIGGER IF NOT EXISTS case_history_no_update BEFORE UPDATE ON case_history
BEGIN SELECT RAISE(ABORT, 'case_history is append-only'); END;
CREATE TRIGGER IF NOT EXISTS case_history_no_delete BEFORE DELETE ON case_history
BEGIN SELECT RAISE(ABORT, 'case_history is append-only'); END;
"#;

/// Creates the cases tables (and the history triggers) if they are missing.
pub fn ensure_schema(conn: &Connection) -> Result<(), CaseError> {
    conn.execute_batch(CASES_SCHEMA)?;
    Ok(())
}

/// Opens a database for the cases commands: busy timeout set, the shared schema and the cases
/// tables created if missing. A missing file is an error (there is nothing to review).
pub fn open_db(path: &Path) -> Result<Connection, CaseError> {
    if !path.exists() {
        return Err(CaseError::NoDatabase(path.to_path_buf()));
    }
    let conn = crate::store::open(path)?;
    ensure_schema(&conn)?;
    Ok(conn)
}

/// Busy timeout, WAL journal and schema on a connection opened elsewhere (tests, fixtures).
pub fn prepare_connection(conn: &Connection) -> Result<(), CaseError> {
    conn.busy_timeout(crate::store::BUSY_TIMEOUT)?;
    // WAL lets readers (cases list/show) run while a reviewer writes.
    let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    conn.execute_batch(include_str!("../store/schema.sql"))?;
    ensure_schema(conn)
}

/// Whether a table exists (graph tables are optional: older databases lack them).
pub fn table_exists(conn: &Connection, name: &str) -> Result<bool, CaseError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?1",
        [name],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// Column names of a table, for tables other stages may extend.
pub fn table_columns(conn: &Connection, name: &str) -> Result<Vec<String>, CaseError> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info(\"{name}\")"))?;
    let cols = stmt
        .query_map([], |r| r.get::<_, String>(1))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(cols)
}

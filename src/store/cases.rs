//! The cases tables and every statement that writes them. The cases stage decides what to
//! write (grouping, matching with the previous sweep, history notes, review rules) and hands
//! the typed rows of this module to one of two writers:
//! - [`CaseWriter`]: a sweep's cases, in one transaction, a run of rows at a time (the cases
//!   stage decides the next run on another thread while this one writes);
//! - [`CaseReview`]: one reviewer's action (assign, decide) in one `BEGIN IMMEDIATE`
//!   transaction, so concurrent reviewers are serialised by SQLite and no action is lost.
//!
//! The tables live here (not in `schema.sql`) because only the cases stage fills them; every
//! statement is `IF NOT EXISTS`, so calling [`ensure_schema`] on every open is cheap and safe.
//! `case_history` is the audit trail: triggers reject UPDATE and DELETE, and nothing here
//! issues them.

use super::batch::{insert_rows_cached, MAX_ROWS};
use super::StoreError;
use crate::finding::{Change, Status};
use crate::model::Fen;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

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
  claim_hash TEXT NOT NULL DEFAULT '',   -- SHA-256 as a 32-byte BLOB (older rows: hex text)
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS case_sweeps (
  case_id INTEGER NOT NULL,
  sweep_id INTEGER NOT NULL,
  change TEXT NOT NULL,                  -- new | persisting | reopened | resolved
  score REAL NOT NULL,
  amount_at_risk_fen INTEGER NOT NULL,
  claims INTEGER NOT NULL,
  -- Evidence fingerprint (sorted claim ids + rules, as in cases). Empty BLOB in rows written
  -- since it was found to be read nowhere: it is that of the row's own claim_ids and rules,
  -- and cases keeps the last one (32 bytes a case a sweep: 50 MB at ten million claims).
  claim_hash TEXT NOT NULL,
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
) WITHOUT ROWID; -- every column is the key: one B-tree, not a table and its copy

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

/// Columns the review workflow added after the first release: a database made before gets
/// them on its next open (`ALTER TABLE … ADD COLUMN`, so nothing is rewritten).
const WORKFLOW_COLUMNS: &[(&str, &str, &str)] = &[
    // An explicit due date (UTC day `YYYY-MM-DD`); empty: the family's default applies.
    ("cases", "due_at", "TEXT NOT NULL DEFAULT ''"),
    // Hidden from the inbox until this UTC timestamp; empty: not snoozed.
    ("cases", "snoozed_until", "TEXT NOT NULL DEFAULT ''"),
    // A correction is a new entry pointing at the entry it corrects (the old one stays).
    ("case_history", "corrects", "INTEGER"),
];

const WORKFLOW_SCHEMA: &str = r#"
-- Counting the inbox reads these indexes only (status and snooze, by assignee or not).
-- `cases_active` serves every lookup by status: the index on status alone that databases
-- made before it have is one more index for each first sweep to build.
DROP INDEX IF EXISTS cases_status;
CREATE INDEX IF NOT EXISTS cases_assignee_active ON cases(assignee, status, snoozed_until);
CREATE INDEX IF NOT EXISTS cases_active ON cases(status, snoozed_until);
CREATE INDEX IF NOT EXISTS cases_institution ON cases(institution_id);
CREATE INDEX IF NOT EXISTS cases_subject ON cases(subject);
-- The inbox's default orders: a page is read off the index, not sorted from every case.
CREATE INDEX IF NOT EXISTS cases_by_score ON cases(score DESC, amount_at_risk_fen DESC, case_id);
CREATE INDEX IF NOT EXISTS cases_by_amount ON cases(amount_at_risk_fen DESC, score DESC, case_id);
-- Days a supervisor gives a case of each family, counted from when it was first found.
CREATE TABLE IF NOT EXISTS case_family_due (
  rule_family TEXT PRIMARY KEY,
  days INTEGER NOT NULL,
  set_by TEXT NOT NULL,
  set_at TEXT NOT NULL
);
"#;

/// Creates the cases tables (and the history triggers) if they are missing, and adds the
/// workflow's columns to a database made before them.
pub fn ensure_schema(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(CASES_SCHEMA)?;
    if missing_workflow_columns(conn)? {
        // Two processes opening an old database at once: the second finds the columns there.
        let own_tx = conn.is_autocommit();
        if own_tx {
            conn.execute_batch("BEGIN IMMEDIATE")?;
        }
        let added = (|| {
            for (table, column, decl) in WORKFLOW_COLUMNS {
                if !super::table_columns(conn, table)?
                    .iter()
                    .any(|c| c == column)
                {
                    conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))?;
                }
            }
            Ok::<_, StoreError>(())
        })();
        if own_tx {
            conn.execute_batch(if added.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
        }
        added?;
    }
    conn.execute_batch(WORKFLOW_SCHEMA)?;
    super::users::ensure_schema(conn)
}

fn missing_workflow_columns(conn: &Connection) -> Result<bool, StoreError> {
    let cases = super::table_columns(conn, "cases")?;
    let history = super::table_columns(conn, "case_history")?;
    Ok(WORKFLOW_COLUMNS.iter().any(|(t, c, _)| {
        let have = if *t == "cases" { &cases } else { &history };
        !have.iter().any(|x| x == c)
    }))
}

/// Sets how many days cases of a family get (from when each was first found); `None` clears it.
pub fn set_family_due(
    conn: &Connection,
    family: &str,
    days: Option<i64>,
    by: &str,
) -> Result<(), StoreError> {
    match days {
        Some(days) => conn.execute(
            "INSERT INTO case_family_due (rule_family, days, set_by, set_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(rule_family) DO UPDATE SET days = ?2, set_by = ?3, set_at = ?4",
            params![family, days, by, crate::dates::now_timestamp()],
        )?,
        None => conn.execute("DELETE FROM case_family_due WHERE rule_family = ?1", [family])?,
    };
    Ok(())
}

/// Busy timeout, WAL journal and schema on a connection opened elsewhere (tests, fixtures).
pub fn prepare_connection(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(super::BUSY_TIMEOUT)?;
    // WAL lets readers (cases list/show) run while a reviewer writes.
    let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    conn.execute_batch(super::SCHEMA)?;
    ensure_schema(conn)
}

/// What one sweep found of a case: the figures `case_sweeps` records for the sweep and `cases`
/// keeps of the last sweep that found it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CaseFigures {
    pub score: f64,
    pub amount_at_risk_fen: Fen,
    pub claims: i64,
    /// `;`-separated, sorted.
    pub rules: String,
    /// Evidence fingerprint: the SHA-256 of the sorted claim ids and rules, stored as a 32-byte
    /// BLOB (rows written before hold its 64 lowercase hex digits as text; both compare, see
    /// `cases::group::stored_fingerprint_is`).
    pub claim_hash: [u8; 32],
}

/// A case found for the first time: a new `cases` row, status `open`, first and last found
/// by the writer's sweep. The texts borrow from the cases stage's grouping.
pub struct NewCase<'a> {
    /// The id SQLite would give the row (the cases stage numbers new cases in key order).
    pub case_id: i64,
    pub case_key: &'a str,
    pub subject_kind: &'a str,
    pub subject: &'a str,
    pub rule_family: &'a str,
    pub county_code: &'a str,
    pub institution_id: &'a str,
    pub figures: CaseFigures,
}

/// A stored case found again: its status (a dismissed case may reopen), where it is now and
/// this sweep's figures; the writer's sweep becomes its last.
pub struct CaseUpdate<'a> {
    pub case_id: i64,
    pub status: Status,
    pub county_code: &'a str,
    pub institution_id: &'a str,
    pub figures: CaseFigures,
    /// Which indexed columns differ from the stored row. SQLite moves a row in every index
    /// on a column the UPDATE assigns, even to the value it has (200 k updates of 1.5 M
    /// cases: 2.9 s assigning the indexed columns their own values, 0.8 s leaving them out),
    /// so the writer assigns only those that moved; the others hold these values already.
    pub moved: IndexedMoves,
}

/// The indexed columns of `cases` a [`CaseUpdate`] changes (`status`: `cases_active`,
/// `cases_assignee_active`; `institution_id`: `cases_institution`; score and amount:
/// `cases_by_score`, `cases_by_amount`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexedMoves {
    pub status: bool,
    pub institution: bool,
    pub money: bool,
}

impl IndexedMoves {
    /// One number per combination, `0..8`.
    fn variant(self) -> usize {
        usize::from(self.status) | usize::from(self.institution) << 1 | usize::from(self.money) << 2
    }

    /// The UPDATE of a case's row assigning the columns that moved (parameters as
    /// [`CaseWriter::write`] binds them: `?1` the case id, `?2` status … `?11` fingerprint).
    fn update_sql(self) -> String {
        let mut sets = vec!["last_sweep_id = ?3", "county_code = ?4", "updated_at = ?6"];
        if self.status {
            sets.push("status = ?2");
        }
        if self.institution {
            sets.push("institution_id = ?5");
        }
        if self.money {
            sets.extend(["score = ?7", "amount_at_risk_fen = ?8"]);
        }
        sets.extend(["claims = ?9", "rules = ?10", "claim_hash = ?11"]);
        format!(
            "UPDATE OR FAIL cases SET {} WHERE case_id = ?1",
            sets.join(", ")
        )
    }
}

/// A case in the writer's sweep (`case_sweeps`): how it stands against the sweep before.
pub struct CaseSweep {
    pub case_id: i64,
    pub change: Change,
    pub figures: CaseFigures,
    /// `;`-separated, sorted.
    pub claim_ids: String,
    /// The case's change detail, already JSON (the cases stage owns its fields).
    pub detail_json: String,
}

/// One entry of a case's audit trail (`case_history`). Who wrote it, when and in which sweep
/// are the writer's: the sweep's `actor` and start for [`CaseWriter`], the reviewer and the
/// moment of the action (no sweep) for [`CaseReview`].
pub struct HistoryEntry {
    pub case_id: i64,
    /// created | assign | start_review | review | reopen | keep_dismissed | resolved |
    /// reappeared | evidence_changed
    pub action: &'static str,
    pub from: Option<Status>,
    pub to: Option<Status>,
    pub note: String,
}

/// Rows of a run of cases for [`CaseWriter::write`], written table by table, each table's rows
/// in the order they were pushed (the cases stage pushes them in case key order, so the rows
/// are those one case at a time would write).
#[derive(Default)]
pub struct CaseRows<'a> {
    pub new_cases: Vec<NewCase<'a>>,
    pub updates: Vec<CaseUpdate<'a>>,
    /// Stored cases found again whose row holds this sweep's figures already: only
    /// `last_sweep_id` and `updated_at` move (no index on `cases` has them).
    pub seen: Vec<i64>,
    pub sweeps: Vec<CaseSweep>,
    /// `(case_id, flag seq)` of `case_flags`.
    pub flags: Vec<(i64, i64)>,
    pub history: Vec<HistoryEntry>,
}

impl CaseRows<'_> {
    /// Empties the run, keeping its buffers for the next one.
    pub fn clear(&mut self) {
        self.new_cases.clear();
        self.updates.clear();
        self.seen.clear();
        self.sweeps.clear();
        self.flags.clear();
        self.history.clear();
    }
}

/// Writes one sweep's cases in one `BEGIN IMMEDIATE` transaction: runs of [`CaseRows`], then
/// the `case_builds` row and the commit ([`CaseWriter::finish`]). Dropping it unfinished rolls
/// everything back.
pub struct CaseWriter<'c> {
    tx: Transaction<'c>,
    sweep_id: i64,
    /// The actor of the sweep's history entries.
    actor: &'static str,
    /// When the build began: `created_at`/`updated_at` of its cases, `at` of its history.
    at: String,
    /// The secondary indexes of `cases` dropped for the build (name, stored `CREATE INDEX`),
    /// recreated in this order before the commit.
    dropped_indexes: Vec<(String, String)>,
}

impl<'c> CaseWriter<'c> {
    /// Takes the write lock for the cases of `sweep_id`.
    pub fn begin(
        conn: &'c mut Connection,
        sweep_id: i64,
        actor: &'static str,
    ) -> Result<CaseWriter<'c>, StoreError> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        Ok(CaseWriter {
            tx,
            sweep_id,
            actor,
            at: crate::dates::now_timestamp(),
            dropped_indexes: Vec::new(),
        })
    }

    /// Drops the secondary indexes of `cases` (not the key's, which new cases fill in order)
    /// until [`CaseWriter::finish`] recreates them from their stored SQL, in this transaction:
    /// for a build whose new cases are a large share of the table (a first sweep), one sort per
    /// index instead of a random b-tree insert per row and index. A build that fails rolls the
    /// drop back with the rest; readers see the indexes throughout (WAL).
    pub fn defer_case_indexes(&mut self) -> Result<(), StoreError> {
        if !self.dropped_indexes.is_empty() {
            return Ok(());
        }
        let indexes: Vec<(String, String)> = {
            let mut st = self.tx.prepare(
                "SELECT name, sql FROM sqlite_master
                 WHERE type = 'index' AND tbl_name = 'cases' AND sql IS NOT NULL ORDER BY rowid",
            )?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        for (name, _) in &indexes {
            self.tx
                .execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
        }
        self.dropped_indexes = indexes;
        Ok(())
    }

    /// The transaction, for what the build reads inside it (the stored cases it matches).
    pub fn conn(&self) -> &Connection {
        &self.tx
    }

    /// Inserts the rows of a run (the caller clears them for the next).
    pub fn write(&self, rows: &CaseRows<'_>) -> Result<(), StoreError> {
        let (tx, sweep_id, at) = (&*self.tx, self.sweep_id, self.at.as_str());
        insert_rows_cached(
            tx,
            "INSERT OR FAIL INTO cases (case_id, case_key, subject_kind, subject, rule_family, county_code,
       institution_id, status, first_sweep_id, last_sweep_id, created_at, updated_at, score,
       amount_at_risk_fen, claims, rules, claim_hash)",
            "(?,?,?,?,?,?,?,'open',?,?,?,?,?,?,?,?,?)",
            16,
            &rows.new_cases,
            |st, i, r| {
                st.raw_bind_parameter(i, r.case_id)?;
                st.raw_bind_parameter(i + 1, r.case_key)?;
                st.raw_bind_parameter(i + 2, r.subject_kind)?;
                st.raw_bind_parameter(i + 3, r.subject)?;
                st.raw_bind_parameter(i + 4, r.rule_family)?;
                st.raw_bind_parameter(i + 5, r.county_code)?;
                st.raw_bind_parameter(i + 6, r.institution_id)?;
                st.raw_bind_parameter(i + 7, sweep_id)?;
                st.raw_bind_parameter(i + 8, sweep_id)?;
                st.raw_bind_parameter(i + 9, at)?;
                st.raw_bind_parameter(i + 10, at)?;
                bind_figures(st, i + 11, &r.figures)
            },
        )?;
        // The statement of each combination of moves, made once a run.
        let mut update_sql: [Option<String>; 8] = Default::default();
        for r in &rows.updates {
            let f = &r.figures;
            let sql = update_sql[r.moved.variant()].get_or_insert_with(|| r.moved.update_sql());
            // An unused parameter is bound and ignored: one binding for every variant.
            tx.prepare_cached(sql)?.execute(params![
                r.case_id,
                r.status.code(),
                sweep_id,
                r.county_code,
                r.institution_id,
                at,
                f.score,
                f.amount_at_risk_fen,
                f.claims,
                f.rules,
                &f.claim_hash[..]
            ])?;
        }
        for ids in rows.seen.chunks(MAX_ROWS) {
            // One statement per batch: `case_id IN (…)` is a walk of the rowids in order.
            let mut sql = String::with_capacity(96 + 2 * ids.len());
            sql.push_str(
                "UPDATE OR FAIL cases SET last_sweep_id = ?, updated_at = ? WHERE case_id IN (",
            );
            for k in 0..ids.len() {
                sql.push_str(if k == 0 { "?" } else { ",?" });
            }
            sql.push(')');
            let mut st = tx.prepare_cached(&sql)?;
            st.raw_bind_parameter(1, sweep_id)?;
            st.raw_bind_parameter(2, at)?;
            for (k, id) in ids.iter().enumerate() {
                st.raw_bind_parameter(k + 3, id)?;
            }
            st.raw_execute()?;
        }
        insert_rows_cached(
            tx,
            "INSERT OR FAIL INTO case_sweeps (case_id, sweep_id, change, score, amount_at_risk_fen, claims,
       claim_hash, rules, claim_ids, detail_json)",
            "(?,?,?,?,?,?,?,?,?,?)",
            10,
            &rows.sweeps,
            |st, i, r| {
                let f = &r.figures;
                st.raw_bind_parameter(i, r.case_id)?;
                st.raw_bind_parameter(i + 1, sweep_id)?;
                st.raw_bind_parameter(i + 2, r.change.code())?;
                st.raw_bind_parameter(i + 3, f.score)?;
                st.raw_bind_parameter(i + 4, f.amount_at_risk_fen)?;
                st.raw_bind_parameter(i + 5, f.claims)?;
                // The row's claim ids and rules give its fingerprint (schema above).
                st.raw_bind_parameter(i + 6, &[][..] as &[u8])?;
                st.raw_bind_parameter(i + 7, &f.rules)?;
                st.raw_bind_parameter(i + 8, &r.claim_ids)?;
                st.raw_bind_parameter(i + 9, &r.detail_json)
            },
        )?;
        insert_rows_cached(
            tx,
            "INSERT OR IGNORE INTO case_flags (case_id, sweep_id, seq)",
            "(?,?,?)",
            3,
            &rows.flags,
            |st, i, &(case_id, seq)| {
                st.raw_bind_parameter(i, case_id)?;
                st.raw_bind_parameter(i + 1, sweep_id)?;
                st.raw_bind_parameter(i + 2, seq)
            },
        )?;
        insert_rows_cached(
            tx,
            "INSERT OR FAIL INTO case_history (case_id, at, actor, action, from_status, to_status, note,
       sweep_id)",
            "(?,?,?,?,?,?,?,?)",
            8,
            &rows.history,
            |st, i, r| bind_history(st, i, r, at, self.actor, Some(sweep_id)),
        )?;
        Ok(())
    }

    /// Records the build (`case_builds`: when, and its summary as JSON) and commits.
    pub fn finish(self, summary_json: &str) -> Result<(), StoreError> {
        self.finish_sealed(summary_json, |_| Ok(()))
    }

    /// [`finish`](Self::finish), with `seal` run in the build's transaction just before the
    /// commit: what it writes (a sweep marking itself finished) is committed with the cases or
    /// not at all.
    pub fn finish_sealed<E: From<StoreError>>(
        self,
        summary_json: &str,
        seal: impl FnOnce(&Connection) -> Result<(), E>,
    ) -> Result<(), E> {
        // Not in the build's large page cache: small sorted runs build them faster.
        super::with_index_build_settings(&self.tx, |tx| {
            for (_, sql) in &self.dropped_indexes {
                tx.execute_batch(sql)?;
            }
            Ok::<_, StoreError>(())
        })?;
        self.tx
            .execute(
                "INSERT INTO case_builds (sweep_id, built_at, summary_json) VALUES (?1, ?2, ?3)",
                params![self.sweep_id, self.at, summary_json],
            )
            .map_err(StoreError::from)?;
        seal(&self.tx)?;
        self.tx.commit().map_err(StoreError::from)?;
        Ok(())
    }
}

/// `score, amount_at_risk_fen, claims, rules, claim_hash` from parameter `i` on.
fn bind_figures(
    st: &mut rusqlite::Statement<'_>,
    i: usize,
    f: &CaseFigures,
) -> rusqlite::Result<()> {
    st.raw_bind_parameter(i, f.score)?;
    st.raw_bind_parameter(i + 1, f.amount_at_risk_fen)?;
    st.raw_bind_parameter(i + 2, f.claims)?;
    st.raw_bind_parameter(i + 3, &f.rules)?;
    st.raw_bind_parameter(i + 4, &f.claim_hash[..])
}

/// A `case_history` row from parameter `i` on (columns as in the writers' statements).
fn bind_history(
    st: &mut rusqlite::Statement<'_>,
    i: usize,
    r: &HistoryEntry,
    at: &str,
    actor: &str,
    sweep_id: Option<i64>,
) -> rusqlite::Result<()> {
    st.raw_bind_parameter(i, r.case_id)?;
    st.raw_bind_parameter(i + 1, at)?;
    st.raw_bind_parameter(i + 2, actor)?;
    st.raw_bind_parameter(i + 3, r.action)?;
    st.raw_bind_parameter(i + 4, r.from.map(Status::code))?;
    st.raw_bind_parameter(i + 5, r.to.map(Status::code))?;
    st.raw_bind_parameter(i + 6, &r.note)?;
    st.raw_bind_parameter(i + 7, sweep_id)
}

/// One review action on cases in one `BEGIN IMMEDIATE` transaction (waiting up to the busy
/// timeout for another writer): the cases stage reads the status, decides whether the action
/// is allowed, appends its history entries and sets the case, then commits. Dropping it
/// uncommitted (an action refused) writes nothing.
pub struct CaseReview<'c> {
    tx: Transaction<'c>,
    /// The moment of the action: `at` of its history, `updated_at` of the case.
    at: String,
}

impl<'c> CaseReview<'c> {
    pub fn begin(conn: &'c mut Connection) -> Result<CaseReview<'c>, StoreError> {
        conn.busy_timeout(super::BUSY_TIMEOUT)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        Ok(CaseReview {
            tx,
            at: crate::dates::now_timestamp(),
        })
    }

    /// The stored status of a case (its code as stored), `None` when there is no such case.
    pub fn status(&self, case_id: i64) -> Result<Option<String>, StoreError> {
        Ok(self
            .tx
            .query_row(
                "SELECT status FROM cases WHERE case_id = ?1",
                [case_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Appends one entry to the case's trail, written by `actor` (no sweep).
    pub fn append(&self, actor: &str, entry: &HistoryEntry) -> Result<(), StoreError> {
        let mut st = self.tx.prepare_cached(
            "INSERT INTO case_history (case_id, at, actor, action, from_status, to_status, note, sweep_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        bind_history(&mut st, 1, entry, &self.at, actor, None)?;
        st.raw_execute()?;
        Ok(())
    }

    /// Hands a case to `assignee` with its new status.
    pub fn assign(&self, case_id: i64, status: Status, assignee: &str) -> Result<(), StoreError> {
        self.tx.execute(
            "UPDATE cases SET status = ?2, assignee = ?3, updated_at = ?4 WHERE case_id = ?1",
            params![case_id, status.code(), assignee, self.at],
        )?;
        Ok(())
    }

    /// Records a decision: the case's status; its reviewer becomes its assignee when it had
    /// none.
    pub fn decide(&self, case_id: i64, status: Status, reviewer: &str) -> Result<(), StoreError> {
        self.tx.execute(
            "UPDATE cases SET status = ?2, updated_at = ?3,
           assignee = CASE WHEN assignee = '' THEN ?4 ELSE assignee END
         WHERE case_id = ?1",
            params![case_id, status.code(), self.at, reviewer],
        )?;
        Ok(())
    }

    /// Appends one entry, optionally correcting an earlier one; returns its `history_id`.
    pub fn append_entry(
        &self,
        actor: &str,
        entry: &HistoryEntry,
        corrects: Option<i64>,
    ) -> Result<i64, StoreError> {
        let mut st = self.tx.prepare_cached(
            "INSERT INTO case_history (case_id, at, actor, action, from_status, to_status, note, sweep_id, corrects)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        bind_history(&mut st, 1, entry, &self.at, actor, None)?;
        st.raw_bind_parameter(9, corrects)?;
        st.raw_execute()?;
        Ok(self.tx.last_insert_rowid())
    }

    /// Sets status and assignee together (the workflow decides both).
    pub fn set(&self, case_id: i64, status: Status, assignee: &str) -> Result<(), StoreError> {
        self.tx.execute(
            "UPDATE cases SET status = ?2, assignee = ?3, updated_at = ?4 WHERE case_id = ?1",
            params![case_id, status.code(), assignee, self.at],
        )?;
        Ok(())
    }

    /// Hides a case from the inbox until `until` (UTC timestamp; empty: wakes it).
    pub fn snooze(&self, case_id: i64, until: &str) -> Result<(), StoreError> {
        self.tx.execute(
            "UPDATE cases SET snoozed_until = ?2, updated_at = ?3 WHERE case_id = ?1",
            params![case_id, until, self.at],
        )?;
        Ok(())
    }

    /// The transaction, for what the workflow reads before it decides.
    pub fn conn(&self) -> &Connection {
        &self.tx
    }

    /// The moment of this action (stored UTC).
    pub fn at(&self) -> &str {
        &self.at
    }

    pub fn commit(self) -> Result<(), StoreError> {
        self.tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_sql(conn: &Connection) -> Vec<(String, String)> {
        let mut st = conn
            .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'cases' ORDER BY name")
            .unwrap();
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                ))
            })
            .unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    }

    /// A database made with the index on `status` alone loses it on its next open, and a
    /// lookup by status still reads an index (`cases_active`), not the whole table.
    #[test]
    fn the_index_on_status_alone_goes_and_status_lookups_keep_an_index() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(super::super::SCHEMA).unwrap();
        ensure_schema(&conn).unwrap();
        conn.execute_batch("CREATE INDEX cases_status ON cases(status)")
            .unwrap();
        ensure_schema(&conn).unwrap();
        let names: Vec<String> = index_sql(&conn).into_iter().map(|x| x.0).collect();
        assert!(!names.iter().any(|n| n == "cases_status"), "{names:?}");
        let plan: String = conn
            .query_row(
                "EXPLAIN QUERY PLAN SELECT count(*) FROM cases WHERE status = 'open'",
                [],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("USING COVERING INDEX cases_active"), "{plan}");
    }

    #[test]
    fn deferred_case_indexes_come_back_the_same_and_a_failed_build_keeps_them() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(super::super::SCHEMA).unwrap();
        ensure_schema(&conn).unwrap();
        let before = index_sql(&conn);
        assert!(before.len() >= 7, "{before:?}");
        fn rows(keys: &[String]) -> CaseRows<'_> {
            CaseRows {
                new_cases: keys
                    .iter()
                    .enumerate()
                    .map(|(k, key)| NewCase {
                        case_id: k as i64 + 1,
                        case_key: key,
                        subject_kind: "person",
                        subject: key,
                        rule_family: "identity",
                        county_code: "c",
                        institution_id: "i",
                        figures: CaseFigures {
                            score: (k % 7) as f64,
                            amount_at_risk_fen: 100 * (k as i64 % 5),
                            claims: 1,
                            rules: "r".into(),
                            claim_hash: [k as u8; 32],
                        },
                    })
                    .collect(),
                ..Default::default()
            }
        }
        let keys: Vec<String> = (1..=50).map(|k| format!("person:{k}:identity")).collect();
        // Rolled back: the indexes are still there.
        {
            let mut w = CaseWriter::begin(&mut conn, 1, "system").unwrap();
            w.defer_case_indexes().unwrap();
            assert!(index_sql(w.conn()).iter().all(|(_, sql)| sql.is_empty()));
            w.write(&rows(&keys)).unwrap();
        }
        assert_eq!(index_sql(&conn), before);
        assert_eq!(
            conn.query_row("SELECT count(*) FROM cases", [], |r| r.get::<_, i64>(0))
                .unwrap(),
            0
        );
        let mut w = CaseWriter::begin(&mut conn, 1, "system").unwrap();
        w.defer_case_indexes().unwrap();
        w.write(&rows(&keys)).unwrap();
        w.finish("{}").unwrap();
        assert_eq!(index_sql(&conn), before);
        assert_eq!(
            conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
                .unwrap(),
            "ok"
        );
        let top: i64 = conn
            .query_row("SELECT case_id FROM cases INDEXED BY cases_by_score ORDER BY score DESC, amount_at_risk_fen DESC, case_id LIMIT 1", [], |r| r.get(0))
            .unwrap();
        assert_eq!(top, 35);
    }

    #[test]
    fn an_update_assigns_the_indexed_columns_that_moved_and_the_indexes_follow() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(super::super::SCHEMA).unwrap();
        ensure_schema(&conn).unwrap();
        let figures = |score: f64, amount: i64, n: u8| CaseFigures {
            score,
            amount_at_risk_fen: amount,
            claims: i64::from(n),
            rules: format!("r{n}"),
            claim_hash: [n; 32],
        };
        let w = CaseWriter::begin(&mut conn, 1, "system").unwrap();
        w.write(&CaseRows {
            new_cases: vec![NewCase {
                case_id: 1,
                case_key: "person:1:identity",
                subject_kind: "person",
                subject: "1",
                rule_family: "identity",
                county_code: "c1",
                institution_id: "i1",
                figures: figures(1.0, 100, 1),
            }],
            ..Default::default()
        })
        .unwrap();
        w.finish("{}").unwrap();
        // (status, county, institution, score, amount, claims, moves): each sweep's update
        // of the one case, then the row it must leave.
        let sweeps = [
            (
                Status::Open,
                "c2",
                "i1",
                1.0,
                100,
                2,
                IndexedMoves::default(),
            ),
            (
                Status::Open,
                "c2",
                "i1",
                3.5,
                250,
                3,
                IndexedMoves {
                    money: true,
                    ..Default::default()
                },
            ),
            (
                Status::Dismissed,
                "c2",
                "i2",
                3.5,
                250,
                3,
                IndexedMoves {
                    status: true,
                    institution: true,
                    money: false,
                },
            ),
            (
                Status::Open,
                "c3",
                "i3",
                0.5,
                50,
                4,
                IndexedMoves {
                    status: true,
                    institution: true,
                    money: true,
                },
            ),
        ];
        for (k, (status, county, institution, score, amount, n, moved)) in
            sweeps.into_iter().enumerate()
        {
            let sweep = k as i64 + 2;
            let w = CaseWriter::begin(&mut conn, sweep, "system").unwrap();
            w.write(&CaseRows {
                updates: vec![CaseUpdate {
                    case_id: 1,
                    status,
                    county_code: county,
                    institution_id: institution,
                    figures: figures(score, amount, n),
                    moved,
                }],
                ..Default::default()
            })
            .unwrap();
            w.finish("{}").unwrap();
            let row: (String, String, String, f64, i64, i64, String, i64) = conn
                .query_row(
                    "SELECT status, county_code, institution_id, score, amount_at_risk_fen,
                            claims, rules, last_sweep_id FROM cases WHERE case_id = 1",
                    [],
                    |r| r.try_into(),
                )
                .unwrap();
            let expected = (
                status.code().to_string(),
                county.to_string(),
                institution.to_string(),
                score,
                amount,
                i64::from(n),
                format!("r{n}"),
                sweep,
            );
            assert_eq!(row, expected, "sweep {sweep}");
            // Every index holds the row as it is: none was left behind by an UPDATE that
            // did not assign its columns.
            assert_eq!(
                conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
                    .unwrap(),
                "ok",
                "sweep {sweep}"
            );
            let by_index = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
            assert_eq!(
                by_index(&format!(
                    "SELECT count(*) FROM cases INDEXED BY cases_institution WHERE institution_id = '{institution}'"
                )),
                1
            );
            assert_eq!(
                by_index(&format!(
                    "SELECT count(*) FROM cases INDEXED BY cases_active WHERE status = '{}'",
                    status.code()
                )),
                1
            );
        }
    }

    #[test]
    fn a_database_made_before_the_workflow_gains_its_columns_and_keeps_its_trail() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(CASES_SCHEMA).unwrap();
        conn.execute(
            "INSERT INTO case_history (case_id, at, actor, action, note) VALUES (1, 't', 'a', 'created', '')",
            [],
        )
        .unwrap();
        ensure_schema(&conn).unwrap();
        let cols = super::super::table_columns(&conn, "cases").unwrap();
        assert!(
            cols.contains(&"due_at".to_string()) && cols.contains(&"snoozed_until".to_string())
        );
        assert!(super::super::table_columns(&conn, "case_history")
            .unwrap()
            .contains(&"corrects".to_string()));
        // Twice is harmless, and the trail is still append-only.
        ensure_schema(&conn).unwrap();
        assert!(conn
            .execute("UPDATE case_history SET note = 'x'", [])
            .is_err());
        assert!(conn.execute("DELETE FROM case_history", []).is_err());
    }
}

//! The ledger's states: which rows the ledger held after each ingest.
//!
//! An ingest never overwrites a record. A changed row's old version, and a row its extract no
//! longer has ("absent"), move to `<table>_history` with the ingest that superseded them
//! (`store::ingest`). So the ledger as ingest N left it is
//!
//! ```text
//! current rows with ingest_id <= N  ∪  history rows with ingest_id <= N < superseded_ingest_id
//! ```
//!
//! A sweep records the ingest it judged (`sweeps.ingest_id`, read under the ledger lock), and
//! every reader of a sweep's evidence (case pages, reports) reads the tables through that
//! sweep's [`LedgerState`]: what the sweep judged is what an inspector sees, whatever was
//! ingested since.

use super::rows::DbRow;
use super::StoreError;
use crate::model::*;
use rusqlite::{Connection, OptionalExtension};
use std::borrow::Cow;

/// One state of the ledger: the tables as one ingest left them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedgerState {
    /// The ingest that made this state (0: before any ingest).
    ingest_id: i64,
    /// No ingest came after it: the current tables are this state as they are.
    latest: bool,
}

/// The columns of a ledger table in stored order (its own, then `extra`, `ingest_id`), the
/// same in the table and its history. None for a table that is not part of the ledger.
fn stored_columns(table: &str) -> Option<String> {
    fn cols<R: DbRow>() -> String {
        let mut c = R::COLUMNS.join(", ");
        c.push_str(", extra, ingest_id");
        c
    }
    Some(match table {
        "claims" => cols::<ClaimRow>(),
        "classes" => cols::<ClassRow>(),
        "institutions" => cols::<InstitutionRow>(),
        "certificates" => cols::<CertificateRow>(),
        "projects" => cols::<ProjectRow>(),
        "employment" => cols::<EmploymentRow>(),
        "staff" => cols::<StaffRow>(),
        "registry_pension" => cols::<PensionRow>(),
        "registry_death" => cols::<DeathRow>(),
        "registry_ui" => cols::<UiRow>(),
        "registry_poverty" => cols::<PovertyRow>(),
        "living_standards" => cols::<LivingStandardRow>(),
        _ => return None,
    })
}

/// `INSERT OR FAIL INTO <table>_history (…) SELECT … FROM <table> WHERE rowid = ?1`,
/// superseded by ingest `?2`: keeps the version an ingest is about to change or remove.
/// `OR FAIL` (`batch::INSERT`): an `INSERT … SELECT` under SQLite's default `OR ABORT` copies
/// every page it changes to a statement journal first, a 16 KB write per changed row (50.5
/// against 45.8 s of system time re-ingesting next month's 10 M claim ledger).
pub fn keep_version_sql<R: DbRow>() -> String {
    let cols = stored_columns(R::TABLE).unwrap_or_default();
    format!(
        "{insert} {t}_history ({cols}, superseded_ingest_id) \
         SELECT {cols}, ?2 FROM {t} WHERE rowid = ?1",
        insert = super::batch::INSERT,
        t = R::TABLE
    )
}

impl LedgerState {
    /// The ledger as it is now (the latest ingest).
    pub fn current(conn: &Connection) -> Result<LedgerState, StoreError> {
        Ok(LedgerState {
            ingest_id: super::latest_ingest_id(conn)?.unwrap_or(0),
            latest: true,
        })
    }

    /// The ledger as ingest `ingest_id` left it.
    pub fn after_ingest(conn: &Connection, ingest_id: i64) -> Result<LedgerState, StoreError> {
        let latest = super::latest_ingest_id(conn)?.unwrap_or(0);
        Ok(LedgerState {
            ingest_id,
            latest: ingest_id >= latest,
        })
    }

    /// The ledger a sweep judged; the current one for a sweep that recorded no ingest.
    pub fn of_sweep(conn: &Connection, sweep_id: i64) -> Result<LedgerState, StoreError> {
        let ingest: Option<i64> = conn
            .query_row(
                "SELECT ingest_id FROM sweeps WHERE sweep_id = ?1",
                [sweep_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        match ingest {
            Some(id) => LedgerState::after_ingest(conn, id),
            None => LedgerState::current(conn),
        }
    }

    /// The ingest that made this state.
    pub fn ingest_id(&self) -> i64 {
        self.ingest_id
    }

    /// Whether no ingest came after this state.
    pub fn is_latest(&self) -> bool {
        self.latest
    }

    /// What to write after `FROM` to read ledger table `table` in this state: the table itself
    /// when the state is the latest, else a subquery over the table and its history with the
    /// same columns.
    pub fn table(&self, table: &'static str) -> Cow<'static, str> {
        let cols = match stored_columns(table) {
            Some(cols) if !self.latest => cols,
            _ => return Cow::Borrowed(table),
        };
        let n = self.ingest_id;
        Cow::Owned(format!(
            "(SELECT {cols} FROM {table} WHERE coalesce(ingest_id, 0) <= {n} \
             UNION ALL SELECT {cols} FROM {table}_history \
             WHERE coalesce(ingest_id, 0) <= {n} AND superseded_ingest_id > {n})"
        ))
    }
}

/// What became of a claim after a state of the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum ClaimChange {
    /// A later ingest brought another version of it.
    Changed { ingest_id: i64 },
    /// A later ingest's extract no longer had it.
    Absent { ingest_id: i64 },
}

/// Whether claim `claim_id`, as `state` had it, was changed or removed by a later ingest (the
/// first ingest that did); None when the ledger still has that version (or never had it).
pub fn claim_change_since(
    conn: &Connection,
    state: &LedgerState,
    claim_id: &str,
) -> Result<Option<ClaimChange>, StoreError> {
    if state.latest {
        return Ok(None);
    }
    let mut superseded = conn.prepare_cached(
        "SELECT superseded_ingest_id FROM claims_history
         WHERE claim_id = ?1 AND coalesce(ingest_id, 0) <= ?2 AND superseded_ingest_id > ?2",
    )?;
    let Some(by) = superseded
        .query_row(rusqlite::params![claim_id, state.ingest_id], |r| {
            r.get::<_, i64>(0)
        })
        .optional()?
    else {
        return Ok(None);
    };
    // Changed when a version followed (now or in the history); absent when none did.
    let mut followed = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM claims WHERE claim_id = ?1 AND ingest_id = ?2)
             OR EXISTS (SELECT 1 FROM claims_history WHERE claim_id = ?1 AND ingest_id = ?2)",
    )?;
    let changed: bool = followed.query_row(rusqlite::params![claim_id, by], |r| r.get(0))?;
    Ok(Some(if changed {
        ClaimChange::Changed { ingest_id: by }
    } else {
        ClaimChange::Absent { ingest_id: by }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_state_reads_the_tables_themselves() {
        let s = LedgerState {
            ingest_id: 3,
            latest: true,
        };
        assert_eq!(s.table("claims"), "claims");
        let old = LedgerState {
            ingest_id: 2,
            latest: false,
        };
        let sql = old.table("claims");
        assert!(sql.starts_with("(SELECT claim_id, id_number"), "{sql}");
        assert!(sql.contains("FROM claims_history"), "{sql}");
        assert!(sql.contains("superseded_ingest_id > 2"), "{sql}");
        // Tables outside the ledger are never rewritten.
        assert_eq!(old.table("person_ids"), "person_ids");
    }
}

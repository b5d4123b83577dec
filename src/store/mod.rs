//! The SQLite store: opening (schema, WAL, busy timeout), ingest bookkeeping, and loading the
//! whole ledger into a [`Snapshot`] for a sweep.
//!
//! Values are stored normalised (see `schema.sql`), so reading them back never re-parses
//! messy input: dates are ISO text, money integer fen, enumerations English codes.

pub mod flags;
pub mod ingest;
pub mod rows;

use crate::model::*;
use crate::snapshot::{Snapshot, SnapshotBuilder};
use rows::DbRow;
use rusqlite::Connection;
use std::path::Path;

pub const SCHEMA: &str = include_str!("schema.sql");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: 无法打开数据库 / cannot open database: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("数据库错误 / database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// Opens (creating if needed) a claimsweep database: schema, WAL journal, 10 s busy timeout.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let shown = path.display().to_string();
    let wrap = |e: rusqlite::Error| StoreError::Open {
        path: shown.clone(),
        source: e,
    };
    let conn = Connection::open(path).map_err(wrap)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(wrap)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(wrap)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(wrap)?;
    conn.execute_batch(SCHEMA).map_err(wrap)?;
    Ok(conn)
}

/// The id of the most recent ingest, if any.
pub fn latest_ingest_id(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(
        conn.query_row("SELECT MAX(ingest_id) FROM ingests", [], |r| {
            r.get::<_, Option<i64>>(0)
        })?,
    )
}

/// The input tables any ingest has seen, in load order.
pub fn tables_present(conn: &Connection) -> Result<Vec<&'static str>, StoreError> {
    let mut st = conn.prepare("SELECT table_name FROM tables_present")?;
    let names: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(TABLES
        .iter()
        .filter(|t| names.iter().any(|n| n == t.name))
        .map(|t| t.name)
        .collect())
}

/// Streams every row of `R`'s table into `f`, reusing one row buffer.
pub fn for_each_row<R: DbRow>(conn: &Connection, mut f: impl FnMut(&R)) -> Result<(), StoreError> {
    let mut st = conn.prepare(&rows::select_sql::<R>())?;
    let mut q = st.query([])?;
    let mut buf = R::default();
    while let Some(row) = q.next()? {
        buf.read(row)?;
        f(&buf);
    }
    Ok(())
}

/// The whole stored ledger as a snapshot; only tables that some ingest brought are present.
///
/// The big tables (claims, certificates) are decoded by SQLite on reader threads, each with its
/// own connection, while this thread interns rows into the snapshot in the fixed table order;
/// claims are read as two rowid halves so decoding keeps up with interning. Rows reach the
/// builder in exactly the order of a sequential scan, so ids do not depend on thread timing.
pub fn load_snapshot(conn: &Connection) -> Result<Snapshot, StoreError> {
    let tables = tables_present(conn)?;
    let path = conn.path().map(str::to_string).filter(|p| !p.is_empty());
    let mut b = SnapshotBuilder::new();
    std::thread::scope(|scope| -> Result<(), StoreError> {
        let mut claim_parts = Vec::new();
        let mut certificates = None;
        if let Some(path) = &path {
            if tables.contains(&"claims") {
                let last: Option<i64> =
                    conn.query_row("SELECT MAX(rowid) FROM claims", [], |r| r.get(0))?;
                let mid = last.unwrap_or(0) / 2;
                let sql = rows::select_sql::<ClaimRow>();
                claim_parts.push(spawn_reader::<ClaimRow>(
                    scope,
                    path,
                    format!("{sql} WHERE rowid <= {mid}"),
                    Some(8),
                ));
                // Buffers until the first half is interned.
                claim_parts.push(spawn_reader::<ClaimRow>(
                    scope,
                    path,
                    format!("{sql} WHERE rowid > {mid}"),
                    None,
                ));
            }
            if tables.contains(&"certificates") {
                certificates = Some(spawn_reader::<CertificateRow>(
                    scope,
                    path,
                    rows::select_sql::<CertificateRow>(),
                    None,
                ));
            }
        }
        for &t in &tables {
            b.table_present(t);
            match t {
                "claims" if !claim_parts.is_empty() => {
                    for part in std::mem::take(&mut claim_parts) {
                        part.drain(|r| b.add_claim(r))?;
                    }
                }
                "claims" => for_each_row::<ClaimRow>(conn, |r| b.add_claim(r))?,
                "classes" => for_each_row::<ClassRow>(conn, |r| b.add_class(r))?,
                "institutions" => for_each_row::<InstitutionRow>(conn, |r| b.add_institution(r))?,
                "certificates" => match certificates.take() {
                    Some(reader) => reader.drain(|r| b.add_certificate(r))?,
                    None => for_each_row::<CertificateRow>(conn, |r| b.add_certificate(r))?,
                },
                "projects" => for_each_row::<ProjectRow>(conn, |r| b.add_project(r))?,
                "employment" => for_each_row::<EmploymentRow>(conn, |r| b.add_employment(r))?,
                "staff" => for_each_row::<StaffRow>(conn, |r| b.add_staff(r))?,
                "registry_pension" => for_each_row::<PensionRow>(conn, |r| b.add_pension(r))?,
                "registry_death" => for_each_row::<DeathRow>(conn, |r| b.add_death(r))?,
                "registry_ui" => for_each_row::<UiRow>(conn, |r| b.add_ui(r))?,
                "registry_poverty" => for_each_row::<PovertyRow>(conn, |r| b.add_poverty(r))?,
                "living_standards" => {
                    for_each_row::<LivingStandardRow>(conn, |r| b.add_living_standard(r))?
                }
                _ => {}
            }
        }
        Ok(())
    })?;
    Ok(b.finish())
}

/// Rows decoded on their own thread and connection, delivered in batches in scan order.
struct Reader<'scope, R> {
    batches: std::sync::mpsc::Receiver<Vec<R>>,
    /// Drained batches go back for reuse (their strings keep their capacity).
    spent: std::sync::mpsc::Sender<Vec<R>>,
    thread: std::thread::ScopedJoinHandle<'scope, Result<(), StoreError>>,
}

impl<R> Reader<'_, R> {
    /// Feeds every row to `f`, then reports the reader's error, if any.
    fn drain(self, mut f: impl FnMut(&R)) -> Result<(), StoreError> {
        for batch in self.batches {
            batch.iter().for_each(&mut f);
            let _ = self.spent.send(batch);
        }
        self.thread
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    }
}

enum BatchSender<R> {
    Bounded(std::sync::mpsc::SyncSender<Vec<R>>),
    Unbounded(std::sync::mpsc::Sender<Vec<R>>),
}

impl<R> BatchSender<R> {
    /// False once the receiving side is gone.
    fn send(&self, batch: Vec<R>) -> bool {
        match self {
            BatchSender::Bounded(tx) => tx.send(batch).is_ok(),
            BatchSender::Unbounded(tx) => tx.send(batch).is_ok(),
        }
    }
}

/// Starts a thread running `sql` (a `select_sql::<R>()`, possibly restricted) on a read-only
/// connection; at most `depth` batches wait unread (`None`: no limit, for a table read ahead
/// while an earlier one is still being interned).
fn spawn_reader<'scope, R: DbRow + Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    path: &str,
    sql: String,
    depth: Option<usize>,
) -> Reader<'scope, R> {
    const BATCH: usize = 4096;
    let path = path.to_string();
    let (tx, batches) = match depth {
        Some(d) => {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<R>>(d);
            (BatchSender::Bounded(tx), rx)
        }
        None => {
            let (tx, rx) = std::sync::mpsc::channel::<Vec<R>>();
            (BatchSender::Unbounded(tx), rx)
        }
    };
    let (spent, back_rx) = std::sync::mpsc::channel::<Vec<R>>();
    let thread = scope.spawn(move || -> Result<(), StoreError> {
        // One thread uses this connection: SQLite's per-call mutex is pure overhead.
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
            | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX
            | rusqlite::OpenFlags::SQLITE_OPEN_URI;
        let c = Connection::open_with_flags(&path, flags)?;
        c.busy_timeout(std::time::Duration::from_secs(10))?;
        // Memory-mapped pages: a full scan without copying every page into the cache.
        c.pragma_update(None, "mmap_size", 1i64 << 40)?;
        let mut st = c.prepare(&sql)?;
        let mut q = st.query([])?;
        let mut batch: Vec<R> = Vec::with_capacity(BATCH);
        let mut filled = 0;
        while let Some(row) = q.next()? {
            if filled == batch.len() {
                batch.push(R::default());
            }
            batch[filled].read(row)?;
            filled += 1;
            if filled == BATCH {
                if !tx.send(std::mem::take(&mut batch)) {
                    return Ok(());
                }
                batch = back_rx
                    .try_recv()
                    .unwrap_or_else(|_| Vec::with_capacity(BATCH));
                filled = 0;
            }
        }
        batch.truncate(filled);
        let _ = tx.send(batch);
        Ok(())
    });
    Reader {
        batches,
        spent,
        thread,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::Date;

    #[test]
    fn snapshot_round_trips_rows_through_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join("t.db")).unwrap();
        let d = Date::from_ymd(2020, 3, 5).unwrap();
        let claim = ClaimRow {
            claim_id: "C1".into(),
            id_number: "37130219900307001X".into(),
            name: "张伟".into(),
            category: Some(Category::Poor),
            subsidy_type: Some(SubsidyType::LevelCert),
            level: Some(5),
            amount: 120_000,
            claim_date: d,
            ..Default::default()
        };
        let ui = UiRow {
            id_number: "X".into(),
            months_paid: 14,
            as_of: None,
        };
        let tx = conn.transaction().unwrap();
        {
            let mut st = tx.prepare(&rows::insert_sql::<ClaimRow>()).unwrap();
            claim.bind(&mut st).unwrap();
            st.raw_execute().unwrap();
            let mut st = tx.prepare(&rows::insert_sql::<UiRow>()).unwrap();
            ui.bind(&mut st).unwrap();
            st.raw_execute().unwrap();
            tx.execute_batch("INSERT INTO tables_present VALUES ('claims', 1), ('registry_ui', 1)")
                .unwrap();
        }
        tx.commit().unwrap();
        let mut back = Vec::new();
        for_each_row::<ClaimRow>(&conn, |r| back.push(r.clone())).unwrap();
        assert_eq!(back, vec![claim]);
        let mut back_ui = Vec::new();
        for_each_row::<UiRow>(&conn, |r| back_ui.push(r.clone())).unwrap();
        assert_eq!(back_ui, vec![ui]);
        let s = load_snapshot(&conn).unwrap();
        assert_eq!(s.claims.len(), 1);
        assert!(s.has_table("claims") && s.has_table("registry_ui") && !s.has_table("classes"));
        assert_eq!(s.claims[0].amount, 120_000);
        assert_eq!(s.claims[0].date, d);
        assert_eq!(latest_ingest_id(&conn).unwrap(), None);
    }
}

//! Loading the stored ledger into a [`Snapshot`] for a sweep.

use super::{Snapshot, SnapshotBuilder};
use crate::model::*;
use crate::store::ingest::{self, WrittenRows};
use crate::store::rows::{self, DbRow};
use crate::store::{for_each_row, tables_present, StoreError};
use rusqlite::Connection;

/// The whole stored ledger as a snapshot; only tables that some ingest brought are present.
///
/// The big tables (claims, certificates) are decoded by SQLite on reader threads, each with its
/// own connection, in chunks of consecutive rowids that the readers take in turn, while this
/// thread interns them into the snapshot in the fixed table order. Chunks are interned in
/// rowid order, so rows reach the builder in exactly the order of a sequential scan and ids do
/// not depend on thread timing; each reader holds at most a few chunks, so memory stays bounded
/// however large the table.
pub fn load_snapshot(conn: &Connection) -> Result<Snapshot, StoreError> {
    let tables = tables_present(conn)?;
    let path = conn.path().map(str::to_string).filter(|p| !p.is_empty());
    let mut b = SnapshotBuilder::new();
    std::thread::scope(|scope| -> Result<(), StoreError> {
        // Every table gets its readers now; each decodes a few chunks ahead and waits, so the
        // smaller tables are ready when the builder reaches them.
        let readers = |n| path.as_deref().map(|p| (p, n));
        let mut claims = spawn_if::<ClaimRow>(scope, conn, &tables, readers(2))?;
        let mut certificates = spawn_if::<CertificateRow>(scope, conn, &tables, readers(2))?;
        let mut classes = spawn_if::<ClassRow>(scope, conn, &tables, readers(1))?;
        let mut employment = spawn_if::<EmploymentRow>(scope, conn, &tables, readers(1))?;
        let mut ui = spawn_if::<UiRow>(scope, conn, &tables, readers(1))?;
        b.reserve(
            claims.as_ref().map_or(0, |r| r.rows_estimate),
            certificates.as_ref().map_or(0, |r| r.rows_estimate),
        );
        for &t in &tables {
            b.table_present(t);
            match t {
                "claims" => match claims.take() {
                    Some(reader) => reader.drain(|rows| b.add_claims(rows))?,
                    None => for_each_row::<ClaimRow>(conn, |r| b.add_claim(r))?,
                },
                "classes" => match classes.take() {
                    Some(reader) => {
                        reader.drain(|rows| rows.iter().for_each(|r| b.add_class(r)))?
                    }
                    None => for_each_row::<ClassRow>(conn, |r| b.add_class(r))?,
                },
                "institutions" => for_each_row::<InstitutionRow>(conn, |r| b.add_institution(r))?,
                "certificates" => match certificates.take() {
                    Some(reader) => reader.drain(|rows| b.add_certificates(rows))?,
                    None => for_each_row::<CertificateRow>(conn, |r| b.add_certificate(r))?,
                },
                "projects" => for_each_row::<ProjectRow>(conn, |r| b.add_project(r))?,
                "employment" => match employment.take() {
                    Some(reader) => {
                        reader.drain(|rows| rows.iter().for_each(|r| b.add_employment(r)))?
                    }
                    None => for_each_row::<EmploymentRow>(conn, |r| b.add_employment(r))?,
                },
                "staff" => for_each_row::<StaffRow>(conn, |r| b.add_staff(r))?,
                "registry_pension" => for_each_row::<PensionRow>(conn, |r| b.add_pension(r))?,
                "registry_death" => for_each_row::<DeathRow>(conn, |r| b.add_death(r))?,
                "registry_ui" => match ui.take() {
                    Some(reader) => reader.drain(|rows| rows.iter().for_each(|r| b.add_ui(r)))?,
                    None => for_each_row::<UiRow>(conn, |r| b.add_ui(r))?,
                },
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

/// The snapshot an ingest built from the rows it wrote, and its data files when they were
/// written while the ingest built its indexes (`file::save_ingested` publishes them).
pub struct Ingested {
    pub snap: Snapshot,
    pub staged: Option<super::file::Staged>,
    /// How long the ingest, its own work done, waited for the snapshot to be finished and its
    /// files written: the snapshot's share of the command's time, which the ingest's own
    /// seconds leave out (4.2 s of a month's re-ingest at 10 M claims: 69.3 s, wall 74.2).
    pub waited: std::time::Duration,
}

/// Ingests `src` ([`ingest::ingest_sending_rows`]) and, when the new state of the ledger is
/// exactly the extract's accepted rows in its order (a fresh database, tables no ingest filled
/// before, or a re-ingest whose extract keeps the stored rows' order: unchanged rows are sent
/// too), builds its snapshot from those rows on a thread of its own while they are written: the
/// snapshot `load_snapshot` would read back, without reading it back. Once every row is in,
/// that thread also writes the snapshot's data files beside the database file while the
/// ingest builds its indexes. `None` for any other state, which only SQLite has whole.
pub fn ingest_with_snapshot(
    conn: &mut Connection,
    src: &std::path::Path,
    opts: &ingest::IngestOptions,
) -> Result<(ingest::IngestReport, Option<Ingested>), ingest::IngestError> {
    /// Batches the builder may lag behind the writer.
    const AHEAD: usize = 4;
    let db = conn
        .path()
        .filter(|p| !p.is_empty())
        .map(std::path::PathBuf::from);
    let (rows, written) = std::sync::mpsc::sync_channel::<WrittenRows>(AHEAD);
    std::thread::scope(|scope| {
        let builder = scope.spawn(move || {
            let mut b = SnapshotBuilder::new();
            let mut sent = false;
            for batch in written {
                if let WrittenRows::NotTheState = batch {
                    // What was built is no state: dropped now, not written.
                    return None;
                }
                sent = true;
                add_written(&mut b, batch);
            }
            let snap = b.finish();
            // A failed write here is tried again, and reported, when the snapshot is saved.
            let staged = match &db {
                Some(db) if sent => super::file::stage(db, &snap).ok(),
                _ => None,
            };
            Some(Ingested {
                snap,
                staged,
                waited: std::time::Duration::ZERO,
            })
        });
        let report = ingest::ingest_sending_rows(conn, src, opts, Some(rows));
        // The builder ends when the ingest drops its sender, done or failed.
        let waiting = std::time::Instant::now();
        let built = builder
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        let waited = waiting.elapsed();
        let report = report?;
        let built = built
            .filter(|_| report.sent_rows_are_the_state)
            .map(|b| Ingested { waited, ..b });
        Ok((report, built))
    })
}

/// Adds a batch of written rows to the snapshot, as `load_snapshot` adds the rows it reads.
fn add_written(b: &mut SnapshotBuilder, batch: WrittenRows) {
    match batch {
        WrittenRows::Table(name, records) => {
            b.table_present(name);
            match name {
                "claims" => b.reserve(records, 0),
                "certificates" => b.reserve(0, records),
                _ => {}
            }
        }
        WrittenRows::NotTheState => unreachable!("the builder stops at it"),
        WrittenRows::Claims(rows) => b.add_claims(&rows),
        WrittenRows::Classes(rows) => rows.iter().for_each(|r| b.add_class(r)),
        WrittenRows::Institutions(rows) => rows.iter().for_each(|r| b.add_institution(r)),
        WrittenRows::Certificates(rows) => b.add_certificates(&rows),
        WrittenRows::Projects(rows) => rows.iter().for_each(|r| b.add_project(r)),
        WrittenRows::Employment(rows) => rows.iter().for_each(|r| b.add_employment(r)),
        WrittenRows::Staff(rows) => rows.iter().for_each(|r| b.add_staff(r)),
        WrittenRows::Pension(rows) => rows.iter().for_each(|r| b.add_pension(r)),
        WrittenRows::Death(rows) => rows.iter().for_each(|r| b.add_death(r)),
        WrittenRows::Ui(rows) => rows.iter().for_each(|r| b.add_ui(r)),
        WrittenRows::Poverty(rows) => rows.iter().for_each(|r| b.add_poverty(r)),
        WrittenRows::LivingStandards(rows) => rows.iter().for_each(|r| b.add_living_standard(r)),
    }
}

/// Readers for `R`'s table if it is present and the database is a file (`(path, threads)`).
fn spawn_if<'scope, R: DbRow + Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    conn: &Connection,
    tables: &[&str],
    readers: Option<(&str, usize)>,
) -> Result<Option<ChunkedReader<'scope, R>>, StoreError> {
    match readers {
        Some((path, n)) if tables.contains(&R::TABLE) => {
            Ok(Some(ChunkedReader::spawn(scope, conn, path, n)?))
        }
        _ => Ok(None),
    }
}

/// Rows per chunk: large enough that a chunk's range query and hand-off cost nothing per row,
/// small enough that the chunks waiting in the readers' queues stay small (a claims chunk is
/// a few megabytes decoded).
const CHUNK_ROWS: i64 = 4096;
/// Decoded chunks a reader may hold that the builder has not taken yet: enough that a reader
/// is rarely idle while the builder catches up (2 left the 1 M load a few percent slower);
/// at most a few tens of megabytes over all readers, freed when the load ends, long before
/// a sweep's peak.
const CHUNKS_AHEAD: usize = 8;

/// One table decoded by reader threads, each with its own read-only connection. With several
/// readers, chunk `k` (rowids `first + k * CHUNK_ROWS ..`) is read by reader `k % readers`;
/// with one, it scans the table and hands over every `CHUNK_ROWS` rows.
struct ChunkedReader<'scope, R> {
    readers: Vec<ChunkThread<'scope, R>>,
    /// Rowid chunks when there are several readers (one batch each, possibly empty).
    chunks: usize,
    /// Rows if the rowids have no gaps (they have none unless rows were deleted); 0 if unknown.
    rows_estimate: usize,
}

struct ChunkThread<'scope, R> {
    chunks: std::sync::mpsc::Receiver<Vec<R>>,
    /// Drained chunks go back for reuse (their rows' strings keep their capacity).
    spent: std::sync::mpsc::Sender<Vec<R>>,
    thread: std::thread::ScopedJoinHandle<'scope, Result<(), StoreError>>,
}

impl<'scope, R: DbRow + Send + 'scope> ChunkedReader<'scope, R> {
    fn spawn(
        scope: &'scope std::thread::Scope<'scope, '_>,
        conn: &Connection,
        path: &str,
        readers: usize,
    ) -> Result<Self, StoreError> {
        let (first, last): (Option<i64>, Option<i64>) = conn.query_row(
            &format!("SELECT MIN(rowid), MAX(rowid) FROM {}", R::TABLE),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let span = match (first, last) {
            (Some(f), Some(l)) => (l as i128 - f as i128 + 1) as u128,
            _ => 0,
        };
        // Every row takes more than 16 bytes of the file: a larger span means rowids far
        // apart (set by hand), where rowid chunks would be mostly empty queries.
        let file_bytes: i64 = conn.query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |r| r.get(0),
        )?;
        let plausible = span <= (file_bytes.max(0) / 16) as u128;
        let rows_estimate = if plausible { span as usize } else { 0 };
        let sql = format!("{} WHERE rowid >= ?1 AND rowid < ?2", rows::load_sql::<R>());
        let chunks = span.div_ceil(CHUNK_ROWS as u128) as usize;
        if readers <= 1 || chunks <= 1 || !plausible {
            let whole = std::iter::once((i64::MIN, i64::MAX));
            return Ok(ChunkedReader {
                readers: vec![ChunkThread::spawn(
                    scope,
                    path.to_string(),
                    sql,
                    whole,
                    true,
                )],
                chunks: 0,
                rows_estimate,
            });
        }
        let first = first.unwrap_or(0);
        let threads = readers.min(chunks);
        let readers = (0..threads)
            .map(|k| {
                let ranges = (k..chunks).step_by(threads).map(move |c| {
                    let start = first + c as i64 * CHUNK_ROWS;
                    (start, start + CHUNK_ROWS)
                });
                ChunkThread::spawn(scope, path.to_string(), sql.clone(), ranges, false)
            })
            .collect();
        Ok(ChunkedReader {
            readers,
            chunks,
            rows_estimate,
        })
    }

    /// Feeds every batch to `f` in rowid order, then reports the readers' errors, if any.
    fn drain(self, mut f: impl FnMut(&[R])) -> Result<(), StoreError> {
        if let [reader] = self.readers.as_slice() {
            for rows in &reader.chunks {
                f(&rows);
                let _ = reader.spent.send(rows);
            }
        } else {
            let n = self.readers.len();
            for c in 0..self.chunks {
                let reader = &self.readers[c % n];
                let Ok(rows) = reader.chunks.recv() else {
                    break; // the reader failed: its error is reported below
                };
                f(&rows);
                let _ = reader.spent.send(rows);
            }
        }
        let mut result = Ok(());
        for r in self.readers {
            drop(r.chunks);
            let outcome = r
                .thread
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            result = result.and(outcome);
        }
        result
    }
}

impl<'scope, R: DbRow + Send + 'scope> ChunkThread<'scope, R> {
    /// Starts a thread running `sql` (a `load_sql::<R>()` restricted to rowids `?1 ..< ?2`)
    /// for each range in turn, sending each range's rows as one batch (possibly empty), or
    /// with `split` every `CHUNK_ROWS` rows.
    fn spawn(
        scope: &'scope std::thread::Scope<'scope, '_>,
        path: String,
        sql: String,
        ranges: impl Iterator<Item = (i64, i64)> + Send + 'scope,
        split: bool,
    ) -> Self {
        let (tx, chunks) = std::sync::mpsc::sync_channel::<Vec<R>>(CHUNKS_AHEAD);
        let (spent, reuse) = std::sync::mpsc::channel::<Vec<R>>();
        let thread = scope.spawn(move || -> Result<(), StoreError> {
            // One thread uses this connection: SQLite's per-call mutex is pure overhead.
            let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX
                | rusqlite::OpenFlags::SQLITE_OPEN_URI;
            let c = Connection::open_with_flags(&path, flags)?;
            c.busy_timeout(crate::store::BUSY_TIMEOUT)?;
            let mut st = c.prepare(&sql)?;
            let mut rows: Vec<R> = Vec::new();
            let mut filled = 0;
            // False once the builder has stopped taking batches.
            let hand_over = |rows: &mut Vec<R>, filled: &mut usize| {
                let mut full = reuse.try_recv().unwrap_or_default();
                std::mem::swap(rows, &mut full);
                full.truncate(*filled);
                *filled = 0;
                tx.send(full).is_ok()
            };
            for (lo, hi) in ranges {
                let mut q = st.query([lo, hi])?;
                while let Some(row) = q.next()? {
                    if filled == rows.len() {
                        rows.push(R::default());
                    }
                    rows[filled].read(row)?;
                    filled += 1;
                    if split && filled == CHUNK_ROWS as usize && !hand_over(&mut rows, &mut filled)
                    {
                        return Ok(());
                    }
                }
                if !split && !hand_over(&mut rows, &mut filled) {
                    return Ok(());
                }
            }
            if split && filled > 0 {
                hand_over(&mut rows, &mut filled);
            }
            Ok(())
        });
        ChunkThread {
            chunks,
            spent,
            thread,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::Date;
    use crate::store::{latest_ingest_id, open};

    /// Every interned string of each interner, in id order.
    /// Inserts typed rows into their table.
    fn insert_all<R: DbRow>(tx: &rusqlite::Transaction<'_>, items: &[R]) {
        let mut st = tx.prepare(&rows::insert_sql::<R>()).unwrap();
        for r in items {
            r.bind(&mut st).unwrap();
            st.raw_execute().unwrap();
        }
    }

    fn interned(s: &Snapshot) -> Vec<Vec<String>> {
        fn all<S: crate::intern::Storage>(i: &crate::intern::Interner<S>) -> Vec<String> {
            (0..i.len() as u32)
                .map(|id| i.resolve(id).to_string())
                .collect()
        }
        vec![
            all(&s.ids),
            all(&s.names),
            all(&s.phones),
            all(&s.banks),
            all(&s.orgs),
            all(&s.counties),
            all(&s.class_keys),
            all(&s.occupations),
            all(&s.cert_keys),
        ]
    }

    #[test]
    fn chunked_load_equals_the_ledger_in_scan_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join("t.db")).unwrap();
        let d = Date::from_ymd(2020, 3, 5).unwrap();
        // Several chunks for each reader, values repeating across chunk boundaries.
        let n = 3 * CHUNK_ROWS as usize + 123;
        let mut ledger = Ledger {
            present: vec!["claims", "certificates"],
            ..Default::default()
        };
        for i in 0..n {
            ledger.claims.push(ClaimRow {
                claim_id: format!("C{i:06}"),
                id_number: format!("P{}", (i * 31) % 5000),
                name: format!("名{}", i % 97),
                phone: format!("138{:08}", (i * 17) % 7000),
                bank_account: format!("62{:017}", i % 6000),
                county_code: "371302".into(),
                cert_no: if i % 3 == 0 {
                    format!("Z{i}")
                } else {
                    String::new()
                },
                amount: i as i64,
                claim_date: d,
                ..Default::default()
            });
            if i % 2 == 0 {
                ledger.certificates.push(CertificateRow {
                    cert_no: format!("Z{}", i * 2),
                    id_number: format!("P{}", i % 9000),
                    name: format!("名{}", i % 89),
                    ..Default::default()
                });
            }
        }
        let tx = conn.transaction().unwrap();
        {
            insert_all(&tx, &ledger.claims);
            insert_all(&tx, &ledger.certificates);
            tx.execute_batch(
                "INSERT INTO tables_present VALUES ('claims', 1), ('certificates', 1);
                 DELETE FROM claims WHERE rowid BETWEEN 5000 AND 6000;",
            )
            .unwrap();
        }
        tx.commit().unwrap();
        // Rowids 5000..=6000 are a gap the chunks must step over.
        ledger.claims.drain(4999..6000);

        let loaded = load_snapshot(&conn).unwrap();
        let expected = Snapshot::from_ledger(&ledger);
        assert_eq!(loaded.claims.len(), n - 1001);
        assert_eq!(loaded.claims, expected.claims);
        assert_eq!(loaded.certificates, expected.certificates);
        assert!((0..loaded.claims.len()).all(|i| loaded.claim_id(i) == expected.claim_id(i)));
        assert_eq!(interned(&loaded), interned(&expected));
        assert_eq!(loaded.ids.get("P31"), expected.ids.get("P31"));
    }

    #[test]
    fn rowids_far_apart_are_read_in_one_scan() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join("t.db")).unwrap();
        let d = Date::from_ymd(2020, 3, 5).unwrap();
        let mut ledger = Ledger {
            present: vec!["claims"],
            ..Default::default()
        };
        for (i, person) in ["P2", "P1", "P2", "P3"].iter().enumerate() {
            ledger.claims.push(ClaimRow {
                claim_id: format!("C{i}"),
                id_number: person.to_string(),
                claim_date: d,
                ..Default::default()
            });
        }
        let tx = conn.transaction().unwrap();
        {
            insert_all(&tx, &ledger.claims);
            // Rowid chunks would be 2^48 / CHUNK_ROWS empty queries.
            tx.execute_batch(
                "INSERT INTO tables_present VALUES ('claims', 1);
                 UPDATE claims SET rowid = 281474976710656 WHERE claim_id = 'C1';",
            )
            .unwrap();
        }
        tx.commit().unwrap();
        // Scan order is rowid order: C1 comes last, so P1 is interned after P3.
        let c1 = ledger.claims.remove(1);
        ledger.claims.push(c1);
        let loaded = load_snapshot(&conn).unwrap();
        let expected = Snapshot::from_ledger(&ledger);
        assert_eq!(loaded.claims, expected.claims);
        assert_eq!(interned(&loaded), interned(&expected));
        assert_eq!(loaded.ids.resolve(3), "P1");
    }

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

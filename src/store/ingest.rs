//! `ingest`: loads a source into the store, table by table, in one transaction.
//!
//! Per table a parser thread reads records, parses them into typed rows, rejects duplicates
//! and classifies each row against what the store already holds (new / changed / unchanged,
//! by a fingerprint of its normalised values); batches go over a bounded channel to this
//! thread, the single SQLite writer, which only executes prepared statements. Unchanged rows
//! are never written, so re-ingesting the same extract changes no row. The stored rows are
//! read once, in rowid order (`store::stored`), and an extract in that order is matched row
//! by row without a hash lookup.
//!
//! An extract of a table is the whole table: a stored row it no longer has is "absent" and
//! leaves the current table (unless the ingest appends, `IngestOptions::append`). Neither a
//! changed nor an absent row is lost: its old version moves to `<table>_history`
//! (`store::history`), so every earlier state of the ledger can still be read.

use crate::dates::now_timestamp;
use crate::input::{self, InputError, Parsed, Reject, SourceTable};
use crate::model::*;
use crate::store::history::keep_version_sql;
use crate::store::rows::{insert_many_sql, insert_sql, select_sql, upsert_sql, DbRow};
use crate::store::stored::{StoredRows, StoredRun, Taken};
use crate::store::StoreError;
use rusqlite::{Connection, OptionalExtension, Transaction};
use serde::Serialize;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("数据库锁 / database lock: {0}")]
    Lock(#[source] std::io::Error),
}

impl From<rusqlite::Error> for IngestError {
    fn from(e: rusqlite::Error) -> Self {
        IngestError::Store(StoreError::Sqlite(e))
    }
}

/// What one table's ingest did. Always `read == loaded + rejected` and
/// `loaded == new + changed + unchanged`; the table holds `new − absent` rows more than before.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TableCounts {
    pub table: &'static str,
    pub file: String,
    pub read: u64,
    pub loaded: u64,
    pub rejected: u64,
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// Stored rows the extract no longer has: moved to the table's history (0 when appending).
    pub absent: u64,
    /// Wall time of this table's load.
    pub millis: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct IngestReport {
    pub ingest_id: i64,
    pub source: String,
    pub content_hash: String,
    pub tables: Vec<TableCounts>,
    /// Files (or sheets) that are no table, ignored.
    pub ignored: Vec<String>,
    /// The first rejects (all are in the `rejects` table).
    #[serde(skip)]
    pub first_rejects: Vec<Reject>,
    pub seconds: f64,
    /// Wall time of building the lookup indexes after the load.
    pub index_millis: u64,
    /// The rows sent to [`ingest_sending_rows`]'s channel are the whole new state of the
    /// ledger (see [`state_may_be_the_source`] and `StateRows`); false when none were sent or
    /// the sending stopped.
    #[serde(skip)]
    pub sent_rows_are_the_state: bool,
}

impl IngestReport {
    pub fn total(&self, f: impl Fn(&TableCounts) -> u64) -> u64 {
        self.tables.iter().map(f).sum()
    }
}

/// Rejects kept in the report for display; the database keeps them all.
const SHOWN_REJECTS: usize = 20;
const BATCH: usize = 2048;
/// New rows per INSERT statement in bulk loads (18 claim columns + 2 → 640 parameters).
const MULTI_ROWS: usize = 32;

/// The secondary indexes some lookup of the ledger needs (`store::lookup`), built once after
/// the bulk load (faster than maintaining them row by row). Sweeps read the columnar
/// snapshot, never these; the case pages, the report and `serve` look claims up by:
/// - `id_number`: a person's claims (`store::read`, `cases::inbox::neighbourhood`);
/// - `phone`, `bank_account`: everyone on a shared contact (`store::read::contact_holders`,
///   the neighbourhood picture).
///
/// Claim id, class id, institution id and certificate number lookups use the tables' primary
/// keys; employment by ID number uses the primary key's first column.
const INDEXES: [super::lookup::LookupKey; 3] = super::lookup::ALL;

/// Page cache of a load through a rollback journal (a fresh database), in KiB as SQLite's
/// negative `cache_size` takes it.
const JOURNAL_CACHE_KIB: i64 = -32_768;

/// Indexes earlier versions built that no lookup reads (a sixth of a 1 M database, and
/// seconds of every ingest that changes rows): dropped by the next ingest.
const UNUSED_INDEXES: &[&str] = &[
    "DROP INDEX IF EXISTS claims_class_id",
    "DROP INDEX IF EXISTS claims_institution_id",
    "DROP INDEX IF EXISTS employment_id_number",
    "DROP INDEX IF EXISTS certificates_id_number",
    "DROP INDEX IF EXISTS rejects_ingest",
    // Indexes of the values themselves, replaced by `store::lookup`'s (0.76 against 0.46 GB
    // at ten million claims).
    "DROP INDEX IF EXISTS claims_id_number",
    "DROP INDEX IF EXISTS claims_phone",
    "DROP INDEX IF EXISTS claims_bank_account",
];

/// How an ingest treats what the store already holds.
#[derive(Clone, Copy, Debug, Default)]
pub struct IngestOptions {
    /// Show progress bars (on a terminal).
    pub progress: bool,
    /// The extract adds to its tables instead of replacing them: stored rows it does not have
    /// stay (none is absent).
    pub append: bool,
}

/// Loads a folder or workbook into the database opened by [`crate::store::open`]; each table
/// of the source replaces the stored table (see [`ingest_with`]).
pub fn ingest_path(
    conn: &mut Connection,
    src: &Path,
    progress: bool,
) -> Result<IngestReport, IngestError> {
    ingest_with(
        conn,
        src,
        &IngestOptions {
            progress,
            append: false,
        },
    )
}

/// Loads a folder or workbook into the database opened by [`crate::store::open`].
pub fn ingest_with(
    conn: &mut Connection,
    src: &Path,
    opts: &IngestOptions,
) -> Result<IngestReport, IngestError> {
    ingest_sending_rows(conn, src, opts, None)
}

/// The rows one batch of an ingest wrote, in rowid order: what a columnar snapshot of the new
/// state is built from without reading it back (`snapshot::load::ingest_with_snapshot`).
pub enum WrittenRows {
    /// A table begins, with about this many records.
    Table(&'static str, usize),
    /// The rows sent are not the new state after all (a re-ingest whose extract is not in the
    /// stored rows' order): nothing more comes, and the snapshot is read back from SQLite.
    NotTheState,
    Claims(Vec<ClaimRow>),
    Classes(Vec<ClassRow>),
    Institutions(Vec<InstitutionRow>),
    Certificates(Vec<CertificateRow>),
    Projects(Vec<ProjectRow>),
    Employment(Vec<EmploymentRow>),
    Staff(Vec<StaffRow>),
    Pension(Vec<PensionRow>),
    Death(Vec<DeathRow>),
    Ui(Vec<UiRow>),
    Poverty(Vec<PovertyRow>),
    LivingStandards(Vec<LivingStandardRow>),
}

/// A stored row type as a batch of [`WrittenRows`].
pub trait Written: DbRow + Send + 'static {
    fn batch(rows: Vec<Self>) -> WrittenRows;
}

macro_rules! written {
    ($($ty:ty => $variant:ident),* $(,)?) => {
        $(impl Written for $ty {
            fn batch(rows: Vec<Self>) -> WrittenRows {
                WrittenRows::$variant(rows)
            }
        })*
    };
}

written!(
    ClaimRow => Claims,
    ClassRow => Classes,
    InstitutionRow => Institutions,
    CertificateRow => Certificates,
    ProjectRow => Projects,
    EmploymentRow => Employment,
    StaffRow => Staff,
    PensionRow => Pension,
    DeathRow => Death,
    UiRow => Ui,
    PovertyRow => Poverty,
    LivingStandardRow => LivingStandards,
);

/// A warning when the machine has less memory available than an ingest of the ledger's claims
/// has measured (`memory::memory_warning`). The ingest builds the new state's snapshot: its
/// claims are the claims file's records (counted by the scan), with the stored ones when the
/// extract is appended, else at least as many as are stored (an extract that drops claims is
/// compared with them first).
fn memory_warning(conn: &Connection, source: &input::Source, append: bool) -> Option<String> {
    let extract = source
        .tables
        .iter()
        .find(|t| t.spec.name == "claims")?
        .approx_records() as u64;
    let stored = super::claims_upper_bound(conn).ok().flatten().unwrap_or(0);
    let claims = if append {
        extract + stored
    } else {
        extract.max(stored)
    };
    crate::memory::memory_warning(
        crate::memory::Step::Ingest,
        claims,
        crate::memory::available_bytes()?,
    )
}

/// [`ingest_with`], sending every row of the new state to `rows`, table by table in load
/// order and each table in rowid order, while the new state is exactly the extract's accepted
/// rows in its order: a fresh database, tables no ingest filled before, or a re-ingest whose
/// extract keeps the stored rows' order (`StateRows`). Once it is not,
/// [`WrittenRows::NotTheState`] is sent and nothing more
/// ([`IngestReport::sent_rows_are_the_state`] is then false). The channel is closed when the
/// load ends, before the indexes are built, so its reader works while they are.
pub fn ingest_sending_rows(
    conn: &mut Connection,
    src: &Path,
    opts: &IngestOptions,
    rows: Option<SyncSender<WrittenRows>>,
) -> Result<IngestReport, IngestError> {
    let started = std::time::Instant::now();
    let source = input::read_source(src)?;
    // Said before the load starts: out of memory, the system would end it without a word.
    if let Some(w) = memory_warning(conn, &source, opts.append) {
        eprintln!("claimsweep: warning: {}: {w}", src.display());
    }
    // No sweep or report reads the ledger while it changes (store::lock).
    let _lock = super::lock::LedgerLock::for_connection(conn, super::lock::LockMode::Exclusive)
        .map_err(IngestError::Lock)?;
    let started_at = now_timestamp();
    // Bulk-load settings: nothing is lost on a crash that a re-ingest would not restore.
    conn.pragma_update(None, "synchronous", "OFF")?;
    // Index builds sort runs of cache size in temporary files, merged on helper threads where
    // cores are free (store::with_index_build_settings).
    conn.pragma_update(None, "temp_store", "FILE")?;
    let rollback_journal = bulk_journal(conn)?;
    // Through the WAL a large cache keeps a transaction's pages from being written twice;
    // through a rollback journal every new page is written once whatever the cache, and a
    // small one leaves the memory to the snapshot being built.
    let cache = if rollback_journal {
        JOURNAL_CACHE_KIB
    } else {
        super::BULK_CACHE_KIB
    };
    conn.pragma_update(None, "cache_size", cache)?;
    let result = ingest_source(conn, &source, &started_at, opts, rows);
    if rollback_journal {
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "temp_store", "DEFAULT")?;
    conn.pragma_update(None, "cache_size", super::DEFAULT_CACHE_KIB)?;
    let mut report = result?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Writes the transaction's dirty pages out (to the WAL or the database file; the commit
/// would write them anyway) and frees the page cache, keeping its size for the next table:
/// the pages one table's load dirtied are not held beside the next table's work, nor beside
/// the snapshot the ingest completes at the end (which held 0.5 GB more at its peak).
fn release_page_cache(tx: &Transaction) -> Result<(), IngestError> {
    tx.cache_flush()?;
    let cache: i64 = tx.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    // Clean pages beyond a smaller cache are freed at once.
    tx.pragma_update(None, "cache_size", super::DEFAULT_CACHE_KIB)?;
    tx.pragma_update(None, "cache_size", cache)?;
    Ok(())
}

/// The first ingest into a database loads through a rollback journal instead of the WAL: every
/// page it writes is new (beyond the file's size when the transaction began), and SQLite
/// journals only the pages that existed, so each page is written once instead of to the WAL
/// and again by the checkpoint. It stays one transaction: killed half-way, the next open rolls
/// the journal back to the empty ledger. Later ingests keep the WAL, where readers (`serve`)
/// go on reading the previous state meanwhile; on a fresh database there is none to read.
/// Returns whether the journal was switched (only when no other connection has the database
/// open; else the load goes through the WAL as before).
fn bulk_journal(conn: &Connection) -> Result<bool, IngestError> {
    if conn.path().is_none_or(|p| p.is_empty()) || super::latest_ingest_id(conn)?.is_some() {
        return Ok(false);
    }
    match conn.query_row("PRAGMA journal_mode = DELETE", [], |r| {
        r.get::<_, String>(0)
    }) {
        Ok(mode) => Ok(mode.eq_ignore_ascii_case("delete")),
        // Another connection holds the database: keep the WAL.
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::DatabaseBusy
                || e.code == rusqlite::ErrorCode::DatabaseLocked =>
        {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether the ledger after loading `source` can be exactly its accepted rows, in parse order:
/// no table an earlier ingest brought is missing from the source (it would stay as it is,
/// unsent). Each table of the source then is, when its stored rows were empty or the extract
/// keeps their order (`StateRows`): rowid order is parse order, and a snapshot built from the
/// parsed rows is the one read back from SQLite would give, byte for byte.
fn state_may_be_the_source(tx: &Transaction, source: &input::Source) -> Result<bool, IngestError> {
    let present = super::tables_present(tx)?;
    Ok(present
        .iter()
        .all(|p| source.tables.iter().any(|t| t.spec.name == *p)))
}

/// Rows per batch sent to the reader of an ingest's written rows.
const SENT_ROWS: usize = 8192;

fn ingest_source(
    conn: &mut Connection,
    source: &input::Source,
    started_at: &str,
    opts: &IngestOptions,
    rows: Option<SyncSender<WrittenRows>>,
) -> Result<IngestReport, IngestError> {
    let tx = conn.transaction()?;
    let shown = source.path.display().to_string();
    tx.execute(
        "INSERT INTO ingests (started_at, source, content_hash) VALUES (?1, ?2, ?3)",
        (started_at, &shown, &source.content_hash),
    )?;
    let ingest_id = tx.last_insert_rowid();
    for sql in UNUSED_INDEXES {
        tx.execute_batch(sql)?;
    }
    let rows = match rows {
        Some(rows) if state_may_be_the_source(&tx, source)? => Some(rows),
        _ => None,
    };
    let report = load_tables(&tx, source, ingest_id, opts, rows)?;
    finish_ingest(tx, report, opts)
}

/// Loads every table of `source`, then builds the lookup indexes.
fn load_tables(
    tx: &Transaction,
    source: &input::Source,
    ingest_id: i64,
    opts: &IngestOptions,
    mut rows: Option<SyncSender<WrittenRows>>,
) -> Result<IngestReport, IngestError> {
    let shown = source.path.display().to_string();
    let mut tables = Vec::new();
    let mut first_rejects = Vec::new();
    for t in &source.tables {
        let table_started = std::time::Instant::now();
        let bar = progress_bar(opts.progress, t);
        if let Some(rows) = &rows {
            // The reader only stops early when it panicked: that surfaces where it is joined.
            let _ = rows.send(WrittenRows::Table(t.spec.name, t.approx_records()));
        }
        let load = Load {
            tx,
            table: t,
            ingest_id,
            append: opts.append,
            bar: &bar,
            rows: rows.as_ref(),
        };
        let (counts, state_sent) = match t.spec.name {
            "claims" => load.table::<ClaimRow>(&mut first_rejects)?,
            "classes" => load.table::<ClassRow>(&mut first_rejects)?,
            "institutions" => load.table::<InstitutionRow>(&mut first_rejects)?,
            "certificates" => load.table::<CertificateRow>(&mut first_rejects)?,
            "projects" => load.table::<ProjectRow>(&mut first_rejects)?,
            "employment" => load.table::<EmploymentRow>(&mut first_rejects)?,
            "staff" => load.table::<StaffRow>(&mut first_rejects)?,
            "registry_pension" => load.table::<PensionRow>(&mut first_rejects)?,
            "registry_death" => load.table::<DeathRow>(&mut first_rejects)?,
            "registry_ui" => load.table::<UiRow>(&mut first_rejects)?,
            "registry_poverty" => load.table::<PovertyRow>(&mut first_rejects)?,
            "living_standards" => load.table::<LivingStandardRow>(&mut first_rejects)?,
            other => unreachable!("table {other} is in model::TABLES but has no loader"),
        };
        bar.finish_and_clear();
        tx.execute(
            "INSERT OR IGNORE INTO tables_present (table_name, first_ingest_id) VALUES (?1, ?2)",
            (t.spec.name, ingest_id),
        )?;
        release_page_cache(tx)?;
        let mut counts = counts;
        counts.millis = table_started.elapsed().as_millis() as u64;
        tables.push(counts);
        if !state_sent {
            // The builder was told, or never sent a row: no more rows go to it.
            rows = None;
        }
    }
    let sent_rows_are_the_state = rows.is_some();
    // Every row is sent: the reader finishes its work while the indexes are built.
    drop(rows);
    let index_started = std::time::Instant::now();
    // Building the indexes takes seconds at millions of claims: say so on a terminal.
    let bar = index_bar(opts.progress);
    super::with_index_build_settings(tx, |tx| {
        for key in INDEXES {
            tx.execute_batch(&key.create_index_sql())?;
            bar.inc(1);
        }
        Ok::<_, IngestError>(())
    })?;
    bar.finish_and_clear();
    let index_millis = index_started.elapsed().as_millis() as u64;
    Ok(IngestReport {
        ingest_id,
        source: shown,
        content_hash: source.content_hash.clone(),
        tables,
        ignored: source.ignored.clone(),
        first_rejects,
        seconds: 0.0,
        index_millis,
        sent_rows_are_the_state,
    })
}

/// Marks the ingest finished with its counts and commits it.
fn finish_ingest(
    tx: Transaction,
    mut report: IngestReport,
    opts: &IngestOptions,
) -> Result<IngestReport, IngestError> {
    let (ingest_id, index_millis) = (report.ingest_id, report.index_millis);
    let counts_json = serde_json::json!({
        "tables": &report.tables,
        "ignored": &report.ignored,
        "index_millis": index_millis,
        "append": opts.append,
    })
    .to_string();
    tx.execute(
        "UPDATE ingests SET finished_at = ?1, counts_json = ?2 WHERE ingest_id = ?3",
        (now_timestamp(), counts_json, ingest_id),
    )?;
    tx.commit()?;
    report.first_rejects.truncate(SHOWN_REJECTS);
    Ok(report)
}

/// A bar over the index builds (hidden unless `progress`).
fn index_bar(progress: bool) -> indicatif::ProgressBar {
    if !progress {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(INDEXES.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>16} [{bar:30}] {pos}/{len} {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("索引 indexes");
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

fn progress_bar(progress: bool, t: &SourceTable) -> indicatif::ProgressBar {
    if !progress {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(t.approx_records() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>16} [{bar:30}] {pos}/{len} {per_sec}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(t.spec.name);
    bar
}

enum Status {
    New,
    /// The stored version's rowid.
    Changed(i64),
    /// The stored row's rowid; only sent to the writer when it sends the rows of the new
    /// state on (else the parser counts it and goes on).
    Unchanged(i64),
}

enum Item<R> {
    Write {
        row: R,
        extra: Option<String>,
        status: Status,
        line: u64,
        /// The raw record when its key may have been on an earlier row
        /// (`input::KeyCheck::Filtered`).
        suspect: Option<String>,
    },
    Reject(Reject),
}

/// The source line of each row a load inserted into an empty table, kept as the rows where
/// line minus rowid changes: one for a file without rejects, blank or multi-line records.
/// Names the first line of a repeated key that only the table's primary key kept.
#[derive(Default)]
struct RowLines {
    /// `(rowid, line)`, rowids increasing.
    changes: Vec<(i64, i64)>,
}

impl RowLines {
    fn record(&mut self, rowid: i64, line: u64) {
        let line = line as i64;
        match self.changes.last() {
            Some(&(r, l)) if l - r == line - rowid => {}
            _ => self.changes.push((rowid, line)),
        }
    }

    fn line(&self, rowid: i64) -> Option<u64> {
        let at = self
            .changes
            .partition_point(|&(r, _)| r <= rowid)
            .checked_sub(1)?;
        let (r, l) = self.changes[at];
        Some((l + (rowid - r)) as u64)
    }
}

/// Per-row fingerprint: the normalised values and the extra columns.
fn fingerprint<R: DbRow>(hb: &hashbrown::DefaultHashBuilder, row: &R, extra: Option<&str>) -> u64 {
    let mut h = hb.build_hasher();
    row.fingerprint(&mut h);
    std::hash::Hash::hash(&extra, &mut h);
    h.finish()
}

/// Whether `R`'s table holds rows (else a load is fresh: every row is new and plain inserts
/// suffice).
fn has_rows<R: DbRow>(tx: &Transaction) -> Result<bool, IngestError> {
    Ok(tx.query_row(
        &format!("SELECT EXISTS (SELECT 1 FROM {})", R::TABLE),
        [],
        |r| r.get(0),
    )?)
}

/// Key, fingerprint and rowid of every stored row of `R`'s table, read in rowid order on the
/// load's own connection before the extract is matched, and queued for it.
fn existing_rows<R: DbRow>(
    tx: &Transaction,
    hb: &hashbrown::DefaultHashBuilder,
) -> Result<StoredRows, IngestError> {
    // The scan reads each page once: through a small cache, not the bulk write's, whose
    // hundreds of MB of clean pages would sit beside the snapshot being built.
    let cache: i64 = tx.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    tx.pragma_update(None, "cache_size", SCAN_CACHE_KIB)?;
    let (to, runs) = std::sync::mpsc::channel();
    let scanned = scan_stored::<R>(tx, hb, |run| to.send(run).is_ok());
    tx.pragma_update(None, "cache_size", cache)?;
    scanned?;
    Ok(StoredRows::arriving(runs))
}

/// Stored rows per run a scan hands over.
const STORED_RUN: usize = 65_536;

/// Reads the key, fingerprint and rowid of every stored row of `R`'s table in rowid order,
/// handing them to `emit` a run at a time until it returns false.
fn scan_stored<R: DbRow>(
    conn: &Connection,
    hb: &hashbrown::DefaultHashBuilder,
    mut emit: impl FnMut(StoredRun) -> bool,
) -> Result<(), IngestError> {
    // Rowid order, which `StoredRows` matches an extract in, whatever index covers the
    // columns.
    let mut st = conn.prepare(&format!("{} NOT INDEXED ORDER BY rowid", select_sql::<R>()))?;
    let mut q = st.query([])?;
    let mut buf = R::default();
    let extra_col = R::COLUMNS.len();
    let mut run = StoredRun::default();
    while let Some(row) = q.next()? {
        buf.read(row)?;
        let extra = crate::store::rows::text_of(row, extra_col)?;
        let rowid: i64 = row.get(extra_col + 1)?;
        run.push(&buf.key(), fingerprint(hb, &buf, extra), rowid);
        if run.len() == STORED_RUN && !emit(std::mem::take(&mut run)) {
            return Ok(());
        }
    }
    if !run.is_empty() {
        emit(run);
    }
    Ok(())
}

/// The file a second connection can read the stored rows from while the load's connection
/// writes: in WAL mode a reader sees the last committed state, which for a table not yet
/// loaded is the load's own. `None` in memory or through a rollback journal, where the scan
/// runs on the load's connection first.
fn scan_beside_path(tx: &Transaction) -> Result<Option<std::path::PathBuf>, IngestError> {
    let mode: String = tx.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    Ok(match tx.path() {
        Some(p) if !p.is_empty() && mode.eq_ignore_ascii_case("wal") => Some(p.into()),
        _ => None,
    })
}

/// [`scan_stored`] on a read-only connection of its own to `path` (see [`scan_beside_path`]),
/// sending each run to `runs`; stops when nothing receives them.
fn scan_stored_beside<R: DbRow>(
    path: &Path,
    hb: &hashbrown::DefaultHashBuilder,
    runs: std::sync::mpsc::Sender<StoredRun>,
) -> Result<(), IngestError> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(super::BUSY_TIMEOUT)?;
    conn.pragma_update(None, "cache_size", SCAN_CACHE_KIB)?;
    // One read transaction: every run is of one state.
    conn.execute_batch("BEGIN")?;
    scan_stored::<R>(&conn, hb, |run| runs.send(run).is_ok())
}

/// Page cache of the scan of a table's stored rows, in KiB as SQLite's negative `cache_size`
/// takes it.
const SCAN_CACHE_KIB: i64 = -8_192;

/// One table of a source going into the store.
struct Load<'a> {
    tx: &'a Transaction<'a>,
    table: &'a SourceTable,
    ingest_id: i64,
    append: bool,
    bar: &'a indicatif::ProgressBar,
    /// Where the written rows go (`ingest_sending_rows`).
    rows: Option<&'a SyncSender<WrittenRows>>,
}

/// The line of the row before `row` with its key: among the rows not yet inserted, or in the
/// table (`by_key` looks a key up; `lines` has the line of each row inserted). `None` when
/// no row had it: the filter's suspicion was false.
fn earlier_line<R: DbRow>(
    row: &R,
    pending: &[(R, Option<String>, u64)],
    by_key: &mut rusqlite::Statement,
    lines: &RowLines,
) -> Result<Option<u64>, IngestError> {
    let key = row.key();
    if let Some((_, _, line)) = pending.iter().find(|(p, _, _)| p.key() == key) {
        return Ok(Some(*line));
    }
    let rowid: Option<i64> = by_key.query_row([&key], |r| r.get(0)).optional()?;
    Ok(rowid.and_then(|r| lines.line(r)))
}

fn insert_reject(
    st: &mut rusqlite::Statement,
    ingest_id: i64,
    r: &Reject,
) -> Result<(), IngestError> {
    st.execute((
        ingest_id,
        r.table,
        &r.file,
        r.line as i64,
        r.column,
        &r.reason,
        &r.raw,
    ))?;
    Ok(())
}

/// Sends a batch of written rows (in rowid order).
fn send_rows<R: Written>(to: &SyncSender<WrittenRows>, rows: Vec<R>) {
    // The reader only stops early when it panicked: that surfaces where it is joined.
    let _ = to.send(R::batch(rows));
}

impl Load<'_> {
    /// Loads the table; with its counts, whether the rows it sent on are its whole new state
    /// in rowid order (`StateRows`; false when it sent none).
    fn table<R: Written>(
        &self,
        first_rejects: &mut Vec<Reject>,
    ) -> Result<(TableCounts, bool), IngestError> {
        let Load {
            tx,
            table: t,
            ingest_id,
            append,
            bar,
            rows: sent,
        } = *self;
        let hb = hashbrown::DefaultHashBuilder::default();
        let had_rows = has_rows::<R>(tx)?;
        // The stored rows are read beside the parse where a second connection can (they then
        // arrive while the extract is matched against them), else before it.
        let (existing, scan_beside) = match had_rows {
            false => (None, None),
            true => match scan_beside_path(tx)? {
                Some(path) => (None, Some(path)),
                None => (Some(existing_rows::<R>(tx, &hb)?), None),
            },
        };
        let mut counts = TableCounts {
            table: R::TABLE,
            file: t.file.clone(),
            ..Default::default()
        };
        let mut insert = tx.prepare(&insert_sql::<R>())?;
        let mut insert_many = tx.prepare(&insert_many_sql::<R>(MULTI_ROWS))?;
        let mut upsert = tx.prepare(&upsert_sql::<R>())?;
        let mut keep_version = tx.prepare(&keep_version_sql::<R>())?;
        let mut reject_st = tx.prepare(
            "INSERT INTO rejects (ingest_id, table_name, file, line, column_name, reason, raw) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let extra_idx = R::COLUMNS.len() + 1;
        // Into a table keyed by one column, the parser keeps only a filter of the keys seen,
        // and a row it suspects is confirmed here: a stored key by the stored rows, which
        // keep the line that took each (`Taken::Again`), a new key by the table's primary key,
        // which keeps those inserted (`input::KeyCheck`).
        let keys = if R::KEY.len() == 1 {
            input::KeyCheck::Filtered
        } else {
            input::KeyCheck::Kept
        };
        let mut by_key = match keys {
            input::KeyCheck::Filtered => Some(tx.prepare(&format!(
                "SELECT rowid FROM {} WHERE {} = ?1",
                R::TABLE,
                R::KEY[0]
            ))?),
            input::KeyCheck::Kept => None,
        };
        let mut row_lines = RowLines::default();
        let mut state_sent = false;
        // Whether unchanged rows still go to the writer, to be sent on as rows of the new
        // state: `StateRows` clears it when they are not, and the parser drops them again.
        let sending = AtomicBool::new(sent.is_some());

        std::thread::scope(|s| -> Result<(), IngestError> {
            let (snd, rcv) = std::sync::mpsc::sync_channel::<Vec<Item<R>>>(16);
            let hb = &hb;
            let mut existing = existing;
            let scanner = scan_beside.map(|path| {
                let (to, runs) = std::sync::mpsc::channel();
                existing = Some(StoredRows::arriving(runs));
                s.spawn(move || scan_stored_beside::<R>(&path, hb, to))
            });
            // Stored rows the extract has are taken out as they come: what is left is absent.
            let sending = &sending;
            let parser = s.spawn(move || -> Result<(u64, u64, Vec<i64>), InputError> {
                let mut batch = Vec::with_capacity(BATCH);
                let mut unchanged = 0u64;
                let mut read = 0u64;
                let mut writer_gone = false;
                input::parse_table::<R>(t, keys, |p| {
                    if writer_gone {
                        return;
                    }
                    read += 1;
                    let item = match p {
                        Parsed::Reject(r) => Item::Reject(r),
                        Parsed::Row {
                            key,
                            row,
                            extra,
                            line,
                            suspect,
                        } => 'row: {
                            let taken = existing
                                .as_mut()
                                .map(|m| m.take(&key, line, suspect.is_some()));
                            let status = match taken {
                                None | Some(Taken::NotStored) => Status::New,
                                // A stored key an earlier row of the extract had: the parser's
                                // filter suspected it, so its raw text is here.
                                Some(Taken::Again { first_line }) => {
                                    debug_assert!(suspect.is_some(), "a repeat unsuspected");
                                    break 'row Item::Reject(Reject {
                                        table: R::TABLE,
                                        file: t.file.clone(),
                                        line,
                                        column: None,
                                        reason: input::duplicate_key_reason(first_line),
                                        raw: suspect.unwrap_or_default(),
                                    });
                                }
                                Some(Taken::Stored {
                                    fingerprint: fp,
                                    rowid,
                                }) if fp == fingerprint(hb, &row, extra.as_deref()) => {
                                    unchanged += 1;
                                    if !sending.load(Ordering::Relaxed) {
                                        return;
                                    }
                                    Status::Unchanged(rowid)
                                }
                                Some(Taken::Stored { rowid, .. }) => Status::Changed(rowid),
                            };
                            // Only a new row's key can have been on an earlier row unseen
                            // here: the writer confirms the suspicion against the rows it
                            // inserted.
                            let suspect = match status {
                                Status::New => suspect,
                                _ => None,
                            };
                            Item::Write {
                                row,
                                extra,
                                status,
                                line,
                                suspect,
                            }
                        }
                    };
                    batch.push(item);
                    if batch.len() == BATCH
                        && snd
                            .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                            .is_err()
                    {
                        writer_gone = true;
                    }
                })?;
                if !batch.is_empty() {
                    let _ = snd.send(batch);
                }
                // In rowid order: the moves then walk the table once.
                let absent: Vec<i64> = existing.map(|mut m| m.untaken_rowids()).unwrap_or_default();
                Ok((read, unchanged, absent))
            });

            let write = || -> Result<bool, IngestError> {
                // New rows not yet inserted, with their lines.
                let mut pending: Vec<(R, Option<String>, u64)> = Vec::with_capacity(MULTI_ROWS);
                // The rows of the new state on their way to `sent`, while they are that state.
                let mut state = StateRows::new(sent, sending);
                for batch in rcv {
                    bar.inc(batch.len() as u64);
                    for item in batch {
                        match item {
                            Item::Write {
                                row,
                                extra,
                                status: Status::New,
                                line,
                                suspect,
                            } => {
                                if let (Some(raw), Some(by_key)) = (suspect, by_key.as_mut()) {
                                    if let Some(first) =
                                        earlier_line(&row, &pending, by_key, &row_lines)?
                                    {
                                        counts.rejected += 1;
                                        let r = Reject {
                                            table: R::TABLE,
                                            file: t.file.clone(),
                                            line,
                                            column: None,
                                            reason: input::duplicate_key_reason(first),
                                            raw,
                                        };
                                        insert_reject(&mut reject_st, ingest_id, &r)?;
                                        if first_rejects.len() < SHOWN_REJECTS {
                                            first_rejects.push(r);
                                        }
                                        continue;
                                    }
                                }
                                counts.new += 1;
                                pending.push((row, extra, line));
                                if pending.len() == MULTI_ROWS {
                                    let width = R::COLUMNS.len() + 2;
                                    for (k, (row, extra, _)) in pending.iter().enumerate() {
                                        let base = k * width;
                                        row.bind_at(&mut insert_many, base)?;
                                        insert_many.raw_bind_parameter(
                                            base + extra_idx,
                                            extra.as_deref(),
                                        )?;
                                        insert_many
                                            .raw_bind_parameter(base + extra_idx + 1, ingest_id)?;
                                    }
                                    insert_many.raw_execute()?;
                                    if by_key.is_some() {
                                        // New rowids follow one another (each the
                                        // largest plus one; absent rows go after the load).
                                        let first =
                                            tx.last_insert_rowid() - (MULTI_ROWS as i64 - 1);
                                        for (k, (_, _, line)) in pending.iter().enumerate() {
                                            row_lines.record(first + k as i64, *line);
                                        }
                                    }
                                    state.new_rows(pending.drain(..).map(|(r, _, _)| r));
                                }
                            }
                            Item::Write {
                                row,
                                extra,
                                status: Status::Changed(rowid),
                                ..
                            } => {
                                counts.changed += 1;
                                keep_version.execute((rowid, ingest_id))?;
                                row.bind(&mut upsert)?;
                                upsert.raw_bind_parameter(extra_idx, extra.as_deref())?;
                                upsert.raw_bind_parameter(extra_idx + 1, ingest_id)?;
                                upsert.raw_execute()?;
                                // The upsert keeps the stored row's rowid.
                                state.stored(rowid, row);
                            }
                            Item::Write {
                                row,
                                status: Status::Unchanged(rowid),
                                ..
                            } => state.stored(rowid, row),
                            Item::Reject(r) => {
                                counts.rejected += 1;
                                insert_reject(&mut reject_st, ingest_id, &r)?;
                                if first_rejects.len() < SHOWN_REJECTS {
                                    first_rejects.push(r);
                                }
                            }
                        }
                    }
                }
                for (row, extra, _) in pending.drain(..) {
                    row.bind(&mut insert)?;
                    insert.raw_bind_parameter(extra_idx, extra.as_deref())?;
                    insert.raw_bind_parameter(extra_idx + 1, ingest_id)?;
                    insert.raw_execute()?;
                    state.new_rows(std::iter::once(row));
                }
                Ok(state.finish())
            };
            let written = write();
            let parsed = parser
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            // A failed scan ended its rows early: rows matched against them are not to be
            // trusted, and its error is the one to report.
            if let Some(scanner) = scanner {
                scanner
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p))?;
            }
            let sent_all = written?;
            let (read, unchanged, absent) = parsed?;
            counts.read = read;
            counts.unchanged = unchanged;
            // Appended to, the table keeps the stored rows the extract does not have, which
            // were not sent.
            state_sent = sent_all && (!append || absent.is_empty());
            if sent_all && !state_sent {
                not_the_state(sent);
            }
            if !append {
                let mut delete =
                    tx.prepare(&format!("DELETE FROM {} WHERE rowid = ?1", R::TABLE))?;
                for rowid in absent {
                    keep_version.execute((rowid, ingest_id))?;
                    delete.execute([rowid])?;
                    counts.absent += 1;
                }
            }
            Ok(())
        })?;
        counts.loaded = counts.new + counts.changed + counts.unchanged;
        debug_assert_eq!(counts.read, counts.loaded + counts.rejected);
        Ok((counts, state_sent))
    }
}

/// The rows of a table's new state on their way to the snapshot builder, in rowid order,
/// while the extract's order is that order: each stored row found again (unchanged or
/// changed, which keep their rowids) after the one found before it, and every new row after
/// all of them (SQLite gives a new row the largest rowid plus one, so new rows inserted in
/// order follow every stored row in rowid order). Absent rows only leave gaps. The first row
/// out of that order stops the sending: the builder is told the rows are not the state
/// ([`WrittenRows::NotTheState`]), the parser keeps unchanged rows to itself again, and the
/// snapshot is read back from SQLite.
struct StateRows<'a, R: Written> {
    to: Option<&'a SyncSender<WrittenRows>>,
    /// The parser's flag: unchanged rows come to the writer only while it is set.
    sending: &'a AtomicBool,
    rows: Vec<R>,
    last_stored: i64,
    new_seen: bool,
}

impl<'a, R: Written> StateRows<'a, R> {
    fn new(to: Option<&'a SyncSender<WrittenRows>>, sending: &'a AtomicBool) -> Self {
        StateRows {
            to,
            sending,
            rows: Vec::new(),
            last_stored: 0,
            new_seen: false,
        }
    }

    /// A stored row found again, with its rowid.
    fn stored(&mut self, rowid: i64, row: R) {
        if self.to.is_none() {
            return;
        }
        if self.new_seen || rowid <= self.last_stored {
            self.rows = Vec::new();
            self.sending.store(false, Ordering::Relaxed);
            not_the_state(self.to.take());
            return;
        }
        self.last_stored = rowid;
        self.push(row);
    }

    /// New rows, in the order they were inserted.
    fn new_rows(&mut self, rows: impl Iterator<Item = R>) {
        self.new_seen = true;
        if self.to.is_some() {
            rows.for_each(|r| self.push(r));
        }
    }

    fn push(&mut self, row: R) {
        self.rows.push(row);
        if let (Some(to), true) = (self.to, self.rows.len() >= SENT_ROWS) {
            send_rows(to, std::mem::take(&mut self.rows));
        }
    }

    /// Sends the rows left; whether every row of the table was sent (in rowid order).
    fn finish(mut self) -> bool {
        match self.to {
            Some(to) => {
                if !self.rows.is_empty() {
                    send_rows(to, std::mem::take(&mut self.rows));
                }
                true
            }
            None => false,
        }
    }
}

/// Tells the snapshot builder the rows sent are not the new state.
fn not_the_state(to: Option<&SyncSender<WrittenRows>>) {
    if let Some(to) = to {
        // The reader only stops early when it panicked: that surfaces where it is joined.
        let _ = to.send(WrittenRows::NotTheState);
    }
}

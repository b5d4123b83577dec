//! `ingest`: loads a source into the store, table by table, in one transaction.
//!
//! Per table a parser thread reads records, parses them into typed rows, rejects duplicates
//! and classifies each row against what the store already holds (new / changed / unchanged,
//! by a fingerprint of its normalised values); batches go over a bounded channel to this
//! thread, the single SQLite writer, which only executes prepared statements. Unchanged rows
//! are never written, so re-ingesting the same extract changes no row.

use crate::dates::now_timestamp;
use crate::input::{self, InputError, Parsed, Reject, SourceTable};
use crate::model::*;
use crate::store::rows::{insert_many_sql, insert_sql, select_sql, upsert_sql, DbRow};
use crate::store::StoreError;
use hashbrown::HashMap;
use rusqlite::{Connection, Transaction};
use serde::Serialize;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;

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
/// `loaded == new + changed + unchanged`.
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

/// Indexes the rules' lookups need, built after the bulk load (faster than maintaining them
/// row by row).
const INDEXES: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS claims_id_number ON claims(id_number)",
    "CREATE INDEX IF NOT EXISTS claims_class_id ON claims(class_id)",
    "CREATE INDEX IF NOT EXISTS claims_institution_id ON claims(institution_id)",
    "CREATE INDEX IF NOT EXISTS claims_phone ON claims(phone)",
    "CREATE INDEX IF NOT EXISTS claims_bank_account ON claims(bank_account)",
    "CREATE INDEX IF NOT EXISTS employment_id_number ON employment(id_number)",
    "CREATE INDEX IF NOT EXISTS certificates_id_number ON certificates(id_number)",
    "CREATE INDEX IF NOT EXISTS rejects_ingest ON rejects(ingest_id)",
];

/// Loads a folder or workbook into the database opened by [`crate::store::open`].
pub fn ingest_path(
    conn: &mut Connection,
    src: &Path,
    progress: bool,
) -> Result<IngestReport, IngestError> {
    let started = std::time::Instant::now();
    let source = input::read_source(src)?;
    // No sweep or report reads the ledger while it changes (store::lock).
    let _lock = super::lock::LedgerLock::for_connection(conn, super::lock::LockMode::Exclusive)
        .map_err(IngestError::Lock)?;
    let started_at = now_timestamp();
    // Bulk-load settings: nothing is lost on a crash that a re-ingest would not restore.
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.pragma_update(None, "cache_size", super::BULK_CACHE_KIB)?;
    // Index builds sort in memory, on helper threads where cores are free.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "threads", 2)?;
    let result = ingest_source(conn, &source, &started_at, progress);
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", super::DEFAULT_CACHE_KIB)?;
    let mut report = result?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

fn ingest_source(
    conn: &mut Connection,
    source: &input::Source,
    started_at: &str,
    progress: bool,
) -> Result<IngestReport, IngestError> {
    let tx = conn.transaction()?;
    let shown = source.path.display().to_string();
    tx.execute(
        "INSERT INTO ingests (started_at, source, content_hash) VALUES (?1, ?2, ?3)",
        (started_at, &shown, &source.content_hash),
    )?;
    let ingest_id = tx.last_insert_rowid();
    let mut tables = Vec::new();
    let mut first_rejects = Vec::new();
    for t in &source.tables {
        let table_started = std::time::Instant::now();
        let bar = progress_bar(progress, t);
        let counts = match t.spec.name {
            "claims" => load_table::<ClaimRow>(&tx, t, ingest_id, &bar, &mut first_rejects)?,
            "classes" => load_table::<ClassRow>(&tx, t, ingest_id, &bar, &mut first_rejects)?,
            "institutions" => {
                load_table::<InstitutionRow>(&tx, t, ingest_id, &bar, &mut first_rejects)?
            }
            "certificates" => {
                load_table::<CertificateRow>(&tx, t, ingest_id, &bar, &mut first_rejects)?
            }
            "projects" => load_table::<ProjectRow>(&tx, t, ingest_id, &bar, &mut first_rejects)?,
            "employment" => {
                load_table::<EmploymentRow>(&tx, t, ingest_id, &bar, &mut first_rejects)?
            }
            "staff" => load_table::<StaffRow>(&tx, t, ingest_id, &bar, &mut first_rejects)?,
            "registry_pension" => {
                load_table::<PensionRow>(&tx, t, ingest_id, &bar, &mut first_rejects)?
            }
            "registry_death" => {
                load_table::<DeathRow>(&tx, t, ingest_id, &bar, &mut first_rejects)?
            }
            "registry_ui" => load_table::<UiRow>(&tx, t, ingest_id, &bar, &mut first_rejects)?,
            "registry_poverty" => {
                load_table::<PovertyRow>(&tx, t, ingest_id, &bar, &mut first_rejects)?
            }
            "living_standards" => {
                load_table::<LivingStandardRow>(&tx, t, ingest_id, &bar, &mut first_rejects)?
            }
            other => unreachable!("table {other} is in model::TABLES but has no loader"),
        };
        bar.finish_and_clear();
        tx.execute(
            "INSERT OR IGNORE INTO tables_present (table_name, first_ingest_id) VALUES (?1, ?2)",
            (t.spec.name, ingest_id),
        )?;
        let mut counts = counts;
        counts.millis = table_started.elapsed().as_millis() as u64;
        tables.push(counts);
    }
    let index_started = std::time::Instant::now();
    for sql in INDEXES {
        tx.execute_batch(sql)?;
    }
    let index_millis = index_started.elapsed().as_millis() as u64;
    let mut report = IngestReport {
        ingest_id,
        source: shown,
        content_hash: source.content_hash.clone(),
        tables,
        ignored: source.ignored.clone(),
        first_rejects,
        seconds: 0.0,
        index_millis,
    };
    let counts_json = serde_json::json!({
        "tables": &report.tables,
        "ignored": &report.ignored,
        "index_millis": index_millis,
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
    Changed,
}

enum Item<R> {
    Write {
        row: R,
        extra: Option<String>,
        status: Status,
    },
    Reject(Reject),
}

/// Per-row fingerprint: the normalised values and the extra columns.
fn fingerprint<R: DbRow>(hb: &hashbrown::DefaultHashBuilder, row: &R, extra: Option<&str>) -> u64 {
    let mut h = hb.build_hasher();
    row.fingerprint(&mut h);
    std::hash::Hash::hash(&extra, &mut h);
    h.finish()
}

/// Key → fingerprint of every stored row of `R`'s table; `None` when the table is empty (a
/// fresh load: every row is new and plain inserts suffice).
fn existing_rows<R: DbRow>(
    tx: &Transaction,
    hb: &hashbrown::DefaultHashBuilder,
) -> Result<Option<HashMap<String, u64>>, IngestError> {
    let any: bool = tx.query_row(
        &format!("SELECT EXISTS (SELECT 1 FROM {})", R::TABLE),
        [],
        |r| r.get(0),
    )?;
    if !any {
        return Ok(None);
    }
    let mut map = HashMap::new();
    let mut st = tx.prepare(&select_sql::<R>())?;
    let mut q = st.query([])?;
    let mut buf = R::default();
    let extra_col = R::COLUMNS.len();
    while let Some(row) = q.next()? {
        buf.read(row)?;
        let extra: Option<String> = row.get(extra_col)?;
        map.insert(buf.key(), fingerprint(hb, &buf, extra.as_deref()));
    }
    Ok(Some(map))
}

fn load_table<R: DbRow>(
    tx: &Transaction,
    t: &SourceTable,
    ingest_id: i64,
    bar: &indicatif::ProgressBar,
    first_rejects: &mut Vec<Reject>,
) -> Result<TableCounts, IngestError> {
    let hb = hashbrown::DefaultHashBuilder::default();
    let existing = existing_rows::<R>(tx, &hb)?;
    let mut counts = TableCounts {
        table: R::TABLE,
        file: t.file.clone(),
        ..Default::default()
    };
    let mut insert = tx.prepare(&insert_sql::<R>())?;
    let mut insert_many = tx.prepare(&insert_many_sql::<R>(MULTI_ROWS))?;
    let mut upsert = tx.prepare(&upsert_sql::<R>())?;
    let mut reject_st = tx.prepare(
        "INSERT INTO rejects (ingest_id, table_name, file, line, column_name, reason, raw) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let extra_idx = R::COLUMNS.len() + 1;

    std::thread::scope(|s| -> Result<(), IngestError> {
        let (snd, rcv) = std::sync::mpsc::sync_channel::<Vec<Item<R>>>(16);
        let hb = &hb;
        let existing = existing.as_ref();
        let parser = s.spawn(move || -> Result<(u64, u64), InputError> {
            let mut batch = Vec::with_capacity(BATCH);
            let mut unchanged = 0u64;
            let mut read = 0u64;
            let mut writer_gone = false;
            input::parse_table::<R>(t, |p| {
                if writer_gone {
                    return;
                }
                read += 1;
                let item = match p {
                    Parsed::Reject(r) => Item::Reject(r),
                    Parsed::Row {
                        key, row, extra, ..
                    } => {
                        let status = match existing.and_then(|m| m.get(&key)) {
                            None => Status::New,
                            Some(&fp) if fp == fingerprint(hb, &row, extra.as_deref()) => {
                                unchanged += 1;
                                return;
                            }
                            Some(_) => Status::Changed,
                        };
                        Item::Write { row, extra, status }
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
            Ok((read, unchanged))
        });

        let write = || -> Result<(), IngestError> {
            let mut pending: Vec<(R, Option<String>)> = Vec::with_capacity(MULTI_ROWS);
            for batch in rcv {
                bar.inc(batch.len() as u64);
                for item in batch {
                    match item {
                        Item::Write {
                            row,
                            extra,
                            status: Status::New,
                        } => {
                            counts.new += 1;
                            pending.push((row, extra));
                            if pending.len() == MULTI_ROWS {
                                let width = R::COLUMNS.len() + 2;
                                for (k, (row, extra)) in pending.iter().enumerate() {
                                    let base = k * width;
                                    row.bind_at(&mut insert_many, base)?;
                                    insert_many
                                        .raw_bind_parameter(base + extra_idx, extra.as_deref())?;
                                    insert_many
                                        .raw_bind_parameter(base + extra_idx + 1, ingest_id)?;
                                }
                                insert_many.raw_execute()?;
                                pending.clear();
                            }
                        }
                        Item::Write {
                            row,
                            extra,
                            status: Status::Changed,
                        } => {
                            counts.changed += 1;
                            row.bind(&mut upsert)?;
                            upsert.raw_bind_parameter(extra_idx, extra.as_deref())?;
                            upsert.raw_bind_parameter(extra_idx + 1, ingest_id)?;
                            upsert.raw_execute()?;
                        }
                        Item::Reject(r) => {
                            counts.rejected += 1;
                            reject_st.execute((
                                ingest_id,
                                r.table,
                                &r.file,
                                r.line as i64,
                                r.column,
                                &r.reason,
                                &r.raw,
                            ))?;
                            if first_rejects.len() < SHOWN_REJECTS {
                                first_rejects.push(r);
                            }
                        }
                    }
                }
            }
            for (row, extra) in pending.drain(..) {
                row.bind(&mut insert)?;
                insert.raw_bind_parameter(extra_idx, extra.as_deref())?;
                insert.raw_bind_parameter(extra_idx + 1, ingest_id)?;
                insert.raw_execute()?;
            }
            Ok(())
        };
        let written = write();
        let parsed = parser
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        written?;
        let (read, unchanged) = parsed?;
        counts.read = read;
        counts.unchanged = unchanged;
        Ok(())
    })?;
    counts.loaded = counts.new + counts.changed + counts.unchanged;
    debug_assert_eq!(counts.read, counts.loaded + counts.rejected);
    Ok(counts)
}

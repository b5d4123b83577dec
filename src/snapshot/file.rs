//! The columnar snapshot of one ingest state, in Arrow IPC files beside the database.
//!
//! A sweep reads the ledger as a [`Snapshot`]; building it from SQLite row by row is a third of
//! a large sweep. After an ingest the snapshot of the new ledger state is written once to
//! `<db>.snapshots/ingest-<N>/` (N = the ingest id), and every later sweep of that state reads
//! the columns back instead of scanning SQLite. SQLite stays the system of record: a snapshot
//! folder is a cache that can be deleted at any time (`claimsweep gc` prunes the ones no longer
//! current), and a sweep that finds none, or one that does not match, loads from SQLite.
//!
//! Invariants:
//! - A folder is immutable once renamed into place (written to a temporary name first), and
//!   names its state: `meta.json` holds the ingest id, the ingest's content hash and finish
//!   time, and a sweep uses the folder only when all three match the database's latest ingest.
//! - The snapshot read back is field for field the snapshot that was written (tested), so a
//!   sweep's flags and cases do not depend on where its snapshot came from.
//! - Files are deterministic: the same ledger state gives the same bytes.
//!
//! Layout (every column little-endian Arrow, its buffers zstd-compressed (level 1); enums as
//! `index in ALL + 1`, 0 = absent; an absent date as `i32::MIN`):
//! - `strings.arrow`: one batch per string column, in [`STRING_COLUMNS`] order (`value:
//!   LargeBinary`, each item its stored form: packed or as written, `intern::StrColumn`;
//!   formats 1 and 2 wrote `LargeUtf8` strings).
//! - `index.arrow`: the dense u32 index vectors, one batch each, in [`INDEX_COLUMNS`] order.
//! - `persons.arrow`: per person id: pension start, death date, poverty (one batch).
//! - `claims.arrow`, `classes.arrow`, … : one file per record table, in batches of
//!   [`CHUNK_ROWS`] rows (one empty batch for an empty table), so a national table is never
//!   converted whole at once, on writing or on reading.
//! - `living_lines.arrow`: the living lines in key order (one batch).

use super::{
    Certificate, Claim, Class, Institution, Interner, PersonDates, Project, Snapshot, Spell, Staff,
    StrColumn, UiRecord,
};
use crate::dates::{Date, OptDate};
use crate::intern::{Storage, StoredColumn};
use crate::model::{Category, FundingSource, SubsidyType};
use arrow_array::{
    Array, ArrayRef, Int32Array, Int64Array, LargeBinaryArray, LargeStringArray, RecordBatch,
    UInt32Array, UInt8Array,
};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bumped whenever the layout changes: a folder of a version not in [`READABLE_FORMATS`] is
/// ignored. 2: record tables in batches of [`CHUNK_ROWS`] rows (1: one batch each). 3: string
/// columns as their stored forms (2: as UTF-8 strings). 4: string columns in batches of
/// [`CHUNK_ROWS`] items, counted in the schema's metadata (3: one batch each).
pub const FORMAT_VERSION: u32 = 4;

/// The versions this build reads: a format-1 folder is format 2 with one batch per table, a
/// format-2 folder format 3 with strings as written, a format-3 folder format 4 with one
/// batch per string column.
const READABLE_FORMATS: [u32; 4] = [1, 2, 3, 4];

/// Schema metadata of `strings.arrow` (format 4): the batches of each string column, then the
/// bytes of each column's text, comma-separated in [`STRING_COLUMNS`] order.
const STRING_BATCHES_KEY: &str = "claimsweep.string_batches";
const STRING_BYTES_KEY: &str = "claimsweep.string_bytes";

/// The string columns, in the order `strings.arrow` holds them ([`Snapshot::string_columns`]).
pub const STRING_COLUMNS: [&str; 11] = [
    "claim_ids",
    "ids",
    "names",
    "phones",
    "banks",
    "orgs",
    "counties",
    "class_keys",
    "occupations",
    "cert_keys",
    "texts",
];

const INDEX_COLUMNS: [&str; 4] = [
    "class_of_key",
    "institution_of_org",
    "certificate_of_key",
    "employment_offsets",
];

/// "No date" in a date column.
const NO_DATE: i32 = OptDate::NONE;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotFileError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Arrow {
        path: PathBuf,
        #[source]
        source: ArrowError,
    },
    #[error("{path}: {what}")]
    Malformed { path: PathBuf, what: String },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("数据库锁 / database lock: {0}")]
    Lock(#[source] std::io::Error),
}

/// The state of the ledger in `conn`: its latest ingest.
pub fn current_state(conn: &rusqlite::Connection) -> Result<Option<StateId>, SnapshotFileError> {
    Ok(
        crate::store::latest_ingest_identity(conn)?.map(
            |(ingest_id, content_hash, finished_at)| StateId {
                ingest_id,
                content_hash,
                finished_at,
            },
        ),
    )
}

/// Where a sweep's snapshot came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadedFrom {
    /// The columnar snapshot of the current state.
    File(PathBuf),
    /// SQLite, row by row: no snapshot of the current state was there.
    Sqlite,
}

/// The snapshot of the ledger's current state: from its columnar folder when there is one,
/// else from SQLite. The caller holds the ledger lock, so the state cannot change meanwhile.
pub fn load_current(
    conn: &rusqlite::Connection,
    db: &Path,
) -> Result<(Snapshot, LoadedFrom), SnapshotFileError> {
    if let Some(state) = current_state(conn)? {
        if let Some(snap) = load(db, &state)? {
            return Ok((snap, LoadedFrom::File(state_dir(db, state.ingest_id))));
        }
    }
    Ok((super::load_snapshot(conn)?, LoadedFrom::Sqlite))
}

/// What [`save_current`] wrote.
#[derive(Clone, Debug)]
pub struct Saved {
    pub dir: PathBuf,
    pub bytes: u64,
    pub claims: usize,
}

/// Writes the columnar snapshot of the ledger's current state (after an ingest), under the
/// shared ledger lock. `Ok(None)` when nothing was ever ingested.
pub fn save_current(db: &Path) -> Result<Option<Saved>, SnapshotFileError> {
    use crate::store::lock::{LedgerLock, LockMode};
    let conn = crate::store::open_existing(db)?;
    let _lock = LedgerLock::acquire(db, LockMode::Shared).map_err(SnapshotFileError::Lock)?;
    let Some(state) = current_state(&conn)? else {
        return Ok(None);
    };
    let snap = super::load_snapshot(&conn)?;
    let (dir, bytes) = save(db, &state, &snap)?;
    Ok(Some(Saved {
        dir,
        bytes,
        claims: snap.claims.len(),
    }))
}

/// Writes `snap`, the ledger state ingest `ingest_id` made (built from its parsed rows,
/// `IngestReport::snapshot`), under the shared ledger lock: the same folder [`save_current`]
/// would write for that state, without reading it back from SQLite. `Ok(None)` when another
/// ingest came in between: that state is not `snap`, and its own ingest writes its snapshot.
///
/// `staged`: the data files the ingest already wrote ([`stage`]); they are published under the
/// state's name (or removed when the state is another's) instead of written again.
pub fn save_ingested(
    db: &Path,
    ingest_id: i64,
    snap: &Snapshot,
    staged: Option<Staged>,
) -> Result<Option<Saved>, SnapshotFileError> {
    use crate::store::lock::{LedgerLock, LockMode};
    let conn = crate::store::open_existing(db)?;
    let _lock = LedgerLock::acquire(db, LockMode::Shared).map_err(SnapshotFileError::Lock)?;
    let Some(state) = current_state(&conn)?.filter(|s| s.ingest_id == ingest_id) else {
        return Ok(None);
    };
    // (A `gc` between the ingest's commit and now removed it as a leftover: write it whole,
    // the gone one dropped first, as its staging folder's name is the one `save` stages in.)
    let (dir, bytes) = match staged.filter(|s| s.dir.is_dir()) {
        Some(staged) => publish(db, &state, snap, staged)?,
        None => save(db, &state, snap)?,
    };
    Ok(Some(Saved {
        dir,
        bytes,
        claims: snap.claims.len(),
    }))
}

/// What [`gc`] removed.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Pruned {
    pub folders: Vec<PathBuf>,
    pub bytes: u64,
    pub kept: Option<PathBuf>,
}

/// Removes every snapshot folder except the current state's (and leftovers of interrupted
/// writes). Evidence of past sweeps is read from the ledger's history in SQLite, never from
/// a snapshot, so no case needs an old folder.
pub fn gc(db: &Path) -> Result<Pruned, SnapshotFileError> {
    use crate::store::lock::{LedgerLock, LockMode};
    let conn = crate::store::open_existing(db)?;
    // Exclusive: no sweep is reading a folder while it goes.
    let _lock = LedgerLock::acquire(db, LockMode::Exclusive).map_err(SnapshotFileError::Lock)?;
    let keep = current_state(&conn)?.map(|s| state_dir(db, s.ingest_id));
    let root = snapshots_dir(db);
    let mut out = Pruned {
        kept: keep.clone().filter(|k| k.exists()),
        ..Pruned::default()
    };
    let entries = match std::fs::read_dir(&root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io(&root)(e)),
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && Some(p) != keep.as_ref())
        .collect();
    dirs.sort();
    for d in dirs {
        out.bytes += folder_bytes(&d);
        std::fs::remove_dir_all(&d).map_err(io(&d))?;
        out.folders.push(d);
    }
    Ok(out)
}

/// The ledger state a snapshot folder holds: the ingest that made it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StateId {
    pub ingest_id: i64,
    pub content_hash: String,
    pub finished_at: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Meta {
    format: u32,
    state: StateId,
    tables: Vec<String>,
}

/// `<db>.snapshots`: where the snapshot folders of a database live.
pub fn snapshots_dir(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".snapshots");
    db.with_file_name(name)
}

/// The folder of one ingest state.
pub fn state_dir(db: &Path, ingest_id: i64) -> PathBuf {
    snapshots_dir(db).join(format!("ingest-{ingest_id}"))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SnapshotFileError + '_ {
    move |source| SnapshotFileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn arrow(path: &Path) -> impl FnOnce(ArrowError) -> SnapshotFileError + '_ {
    move |source| SnapshotFileError::Arrow {
        path: path.to_path_buf(),
        source,
    }
}

// ---- writing ---------------------------------------------------------------------------------

/// Writes `snap`, the ledger in state `state`, as that state's folder. The folder is written
/// under a temporary name and renamed into place, so a reader sees all of it or none; an
/// existing folder of the same state is replaced. Returns the folder and its size in bytes.
pub fn save(
    db: &Path,
    state: &StateId,
    snap: &Snapshot,
) -> Result<(PathBuf, u64), SnapshotFileError> {
    let staged = stage(db, snap)?;
    publish(db, state, snap, staged)
}

/// The data files of a snapshot written before its state exists: an ingest writes them while
/// it builds its indexes (10 M claims: 3.8 s that no longer follow the ingest), and
/// [`save_ingested`] publishes them once the ingest has committed. Removed when dropped
/// unpublished (a failed ingest, or another state by then); `gc` removes the leftovers of a
/// killed process.
#[derive(Debug)]
pub struct Staged {
    dir: PathBuf,
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Writes the data files of `snap` (everything but `meta.json`) into a temporary folder of
/// `db`'s snapshots.
pub fn stage(db: &Path, snap: &Snapshot) -> Result<Staged, SnapshotFileError> {
    let root = snapshots_dir(db);
    std::fs::create_dir_all(&root).map_err(io(&root))?;
    let dir = root.join(format!(".writing-staged-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
    }
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let staged = Staged { dir };
    write_data(&staged.dir, snap)?;
    Ok(staged)
}

/// Completes `staged` as the folder of `state` (its `meta.json`, then the rename into place):
/// the same files [`save`] writes.
fn publish(
    db: &Path,
    state: &StateId,
    snap: &Snapshot,
    mut staged: Staged,
) -> Result<(PathBuf, u64), SnapshotFileError> {
    write_meta(&staged.dir, state, snap)?;
    let dir = state_dir(db, state.ingest_id);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
    }
    std::fs::rename(&staged.dir, &dir).map_err(io(&dir))?;
    staged.dir = PathBuf::new();
    let bytes = folder_bytes(&dir);
    Ok((dir, bytes))
}

/// Total size of the files in a folder (0 if unreadable).
pub fn folder_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// `meta.json`: the format, the state and the tables of `s`.
fn write_meta(dir: &Path, state: &StateId, s: &Snapshot) -> Result<(), SnapshotFileError> {
    let meta = Meta {
        format: FORMAT_VERSION,
        state: state.clone(),
        tables: s.tables.iter().map(|t| t.to_string()).collect(),
    };
    let meta_path = dir.join("meta.json");
    std::fs::write(
        &meta_path,
        serde_json::to_vec_pretty(&meta).expect("meta serialises"),
    )
    .map_err(io(&meta_path))
}

/// Every data file (all but `meta.json`).
fn write_data(dir: &Path, s: &Snapshot) -> Result<(), SnapshotFileError> {
    // The text is the largest file to compress: written on a thread of its own beside the
    // integer-coded columns.
    std::thread::scope(|scope| {
        let text = scope.spawn(|| write_strings(dir, s));
        let columns = write_columns(dir, s);
        text.join().expect("string writer panicked")?;
        columns
    })
}

/// `strings.arrow`: the claim ids, then every interner's strings, as stored, each column in
/// batches of [`CHUNK_ROWS`] items. One batch a column held the largest column three times at
/// once (its text copied, its offsets widened to 64 bits, and the compressor's output sized for
/// both): 0.34 GB beside the whole snapshot for 10 M claim ids, the peak of an ingest.
fn write_strings(dir: &Path, s: &Snapshot) -> Result<(), SnapshotFileError> {
    let columns = s.string_columns();
    let listed = |counts: Vec<String>| counts.join(",");
    let metadata = std::collections::HashMap::from([
        (
            STRING_BATCHES_KEY.to_string(),
            listed(
                columns
                    .iter()
                    .map(|c| string_batches(c.items()).to_string())
                    .collect(),
            ),
        ),
        (
            STRING_BYTES_KEY.to_string(),
            listed(
                columns
                    .iter()
                    .map(|c| c.stored_text().len().to_string())
                    .collect(),
            ),
        ),
    ]);
    let batches = columns.into_iter().flat_map(string_chunks);
    write_batches_with(&dir.join("strings.arrow"), metadata, batches)
}

/// Batches of a string column of `items` items: one for none (a column is never left out).
fn string_batches(items: usize) -> usize {
    items.div_ceil(CHUNK_ROWS).max(1)
}

/// A string column's batches of at most [`CHUNK_ROWS`] items, each made as it is written.
fn string_chunks(column: &dyn StoredColumn) -> impl Iterator<Item = Cols> + '_ {
    let (text, items) = (column.stored_text(), column.items());
    let mut starts = column.stored_starts().map(i64::from);
    let mut begin = starts.next().unwrap_or(0);
    (0..string_batches(items)).map(move |k| {
        let n = CHUNK_ROWS.min(items - k * CHUNK_ROWS);
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        offsets.extend(starts.by_ref().take(n).map(|start| start - begin));
        let end = begin + offsets.last().copied().unwrap_or(0);
        let chunk = &text[begin as usize..end as usize];
        begin = end;
        Cols::new().stored_strings("value", offsets, chunk)
    })
}

/// Rows per record batch of a table file: a national table is converted to Arrow (and back
/// when a sweep reads it) a batch at a time, never held twice whole. Small in unit tests, so
/// their snapshots have tables of several batches.
const CHUNK_ROWS: usize = if cfg!(test) { 3 } else { 1 << 20 };

/// `rows` in batches of [`CHUNK_ROWS`]; one empty batch for no rows (a file has a schema).
fn in_chunks<T>(rows: &[T]) -> impl Iterator<Item = &[T]> {
    let empty: Option<&[T]> = rows.is_empty().then_some(&[]);
    rows.chunks(CHUNK_ROWS).chain(empty)
}

/// Every file but `strings.arrow` and `meta.json`.
fn write_columns(dir: &Path, s: &Snapshot) -> Result<(), SnapshotFileError> {
    let index = [
        &s.class_of_key,
        &s.institution_of_org,
        &s.certificate_of_key,
        &s.employment_offsets,
    ];
    let batches = index.iter().map(|v| Cols::new().u32("value", v.to_vec()));
    write_batches(&dir.join("index.arrow"), batches)?;

    let persons = s
        .pension_start
        .len()
        .max(s.death_date.len())
        .max(s.poverty.len());
    let dense_date = |v: &PersonDates| -> Vec<i32> {
        let mut dense = vec![NO_DATE; persons];
        for (p, d) in v.iter() {
            dense[p as usize] = d.0;
        }
        dense
    };
    let lens = [
        s.pension_start.len() as i64,
        s.death_date.len() as i64,
        s.poverty.len() as i64,
    ];
    write_batches(
        &dir.join("persons.arrow"),
        vec![Cols::new()
            .i32("pension_start", dense_date(&s.pension_start))
            .i32("death_date", dense_date(&s.death_date))
            .u8(
                "poverty",
                (0..persons)
                    .map(|i| u8::from(s.poverty.get(i).copied().unwrap_or(false)))
                    .collect(),
            )],
    )?;
    // The three vectors may differ in length (an absent register is empty): their lengths.
    write_batches(
        &dir.join("persons_len.arrow"),
        vec![Cols::new().i64("len", lens.to_vec())],
    )?;

    write_batches(
        &dir.join("claims.arrow"),
        in_chunks(&s.claims).map(|c| {
            Cols::new()
                .u32("person", c.iter().map(|x| x.person).collect())
                .u32("name", c.iter().map(|x| x.name).collect())
                .u32("phone", c.iter().map(|x| x.phone).collect())
                .u32("bank", c.iter().map(|x| x.bank).collect())
                .u32("county", c.iter().map(|x| x.county).collect())
                .u32("institution", c.iter().map(|x| x.institution).collect())
                .u32("class", c.iter().map(|x| x.class).collect())
                .u32("occupation", c.iter().map(|x| x.occupation).collect())
                .u32("cert", c.iter().map(|x| x.cert).collect())
                .i32("date", c.iter().map(|x| x.date.0).collect())
                .i64("amount", c.iter().map(|x| x.amount).collect())
                .i64("living_amount", c.iter().map(|x| x.living_amount).collect())
                .i32("living_days", c.iter().map(|x| x.living_days).collect())
                .u8(
                    "category",
                    c.iter()
                        .map(|x| enum_code(x.category, Category::ALL))
                        .collect(),
                )
                .u8(
                    "subsidy_type",
                    c.iter()
                        .map(|x| enum_code(x.subsidy_type, SubsidyType::ALL))
                        .collect(),
                )
                .u8(
                    "funding",
                    c.iter()
                        .map(|x| enum_code(x.funding, FundingSource::ALL))
                        .collect(),
                )
                .u8("level", c.iter().map(|x| x.level).collect())
        }),
    )?;

    write_batches(
        &dir.join("classes.arrow"),
        in_chunks(&s.classes).map(|c| {
            Cols::new()
                .u32("key", c.iter().map(|x| x.key).collect())
                .u32("institution", c.iter().map(|x| x.institution).collect())
                .u32("county", c.iter().map(|x| x.county).collect())
                .u32("occupation", c.iter().map(|x| x.occupation).collect())
                .u8("level", c.iter().map(|x| x.level).collect())
                .u8(
                    "training_type",
                    c.iter()
                        .map(|x| enum_code(x.training_type, SubsidyType::ALL))
                        .collect(),
                )
                .i32("start", c.iter().map(|x| x.start.0).collect())
                .i32("end", c.iter().map(|x| x.end.0).collect())
                .i32("hours", c.iter().map(|x| x.hours).collect())
                .u8(
                    "project_based",
                    c.iter().map(|x| u8::from(x.project_based)).collect(),
                )
        }),
    )?;

    write_batches(
        &dir.join("institutions.arrow"),
        in_chunks(&s.institutions).map(|c| {
            Cols::new()
                .u32("org", c.iter().map(|x| x.org).collect())
                .u32("name", c.iter().map(|x| x.name).collect())
                .u32("county", c.iter().map(|x| x.county).collect())
                .u32("legal_rep", c.iter().map(|x| x.legal_rep).collect())
                .u32("phone", c.iter().map(|x| x.phone).collect())
        }),
    )?;

    write_batches(
        &dir.join("certificates.arrow"),
        in_chunks(&s.certificates).map(|c| {
            Cols::new()
                .u32("key", c.iter().map(|x| x.key).collect())
                .u32("person", c.iter().map(|x| x.person).collect())
                .u32("name", c.iter().map(|x| x.name).collect())
                .u32("occupation", c.iter().map(|x| x.occupation).collect())
                .u8("level", c.iter().map(|x| x.level).collect())
                .i32(
                    "issue_date",
                    c.iter().map(|x| x.issue_date.day_number()).collect(),
                )
        }),
    )?;

    write_batches(
        &dir.join("projects.arrow"),
        in_chunks(&s.projects).map(|c| {
            Cols::new()
                .u32("class", c.iter().map(|x| x.class).collect())
                .i32("trainees", c.iter().map(|x| x.trainees).collect())
                .i32(
                    "employed_claimed",
                    c.iter().map(|x| x.employed_claimed).collect(),
                )
                .i64("total", c.iter().map(|x| x.total).collect())
                .i64("prepaid", c.iter().map(|x| x.prepaid).collect())
                .i64("paid", c.iter().map(|x| x.paid).collect())
                .i32(
                    "check_date",
                    c.iter().map(|x| opt_date(x.check_date)).collect(),
                )
        }),
    )?;

    write_batches(
        &dir.join("employment.arrow"),
        in_chunks(&s.employment).map(|c| {
            Cols::new()
                .u32("person", c.iter().map(|x| x.person).collect())
                .u32("employer", c.iter().map(|x| x.employer).collect())
                .i32("start", c.iter().map(|x| x.start.0).collect())
                .i32("end", c.iter().map(|x| opt_date(x.end)).collect())
        }),
    )?;

    write_batches(
        &dir.join("staff.arrow"),
        in_chunks(&s.staff).map(|c| {
            Cols::new()
                .u32("institution", c.iter().map(|x| x.institution).collect())
                .u32("person", c.iter().map(|x| x.person).collect())
                .u32("role", c.iter().map(|x| x.role).collect())
        }),
    )?;

    write_batches(
        &dir.join("ui.arrow"),
        in_chunks(&s.ui).map(|c| {
            Cols::new()
                .u32("person", c.iter().map(|x| x.person).collect())
                .i32("months_paid", c.iter().map(|x| x.months_paid).collect())
                .i32("as_of", c.iter().map(|x| opt_date(x.as_of)).collect())
        }),
    )?;

    // A hash map: written in key order so the bytes are deterministic.
    let mut lines: Vec<((u32, i32), i64)> = s.living_lines.iter().map(|(k, v)| (*k, *v)).collect();
    lines.sort_unstable();
    write_batches(
        &dir.join("living_lines.arrow"),
        vec![Cols::new()
            .u32("county", lines.iter().map(|x| x.0 .0).collect())
            .i32("year", lines.iter().map(|x| x.0 .1).collect())
            .i64("fen", lines.iter().map(|x| x.1).collect())],
    )?;
    Ok(())
}

fn enum_code<T: PartialEq + Copy>(v: Option<T>, all: &[T]) -> u8 {
    v.and_then(|v| all.iter().position(|a| *a == v))
        .map_or(0, |i| i as u8 + 1)
}

fn opt_date(d: Option<Date>) -> i32 {
    OptDate::from(d).day_number()
}

/// Columns of one batch, built by name.
struct Cols {
    fields: Vec<Field>,
    arrays: Vec<ArrayRef>,
}

impl Cols {
    fn new() -> Cols {
        Cols {
            fields: Vec::new(),
            arrays: Vec::new(),
        }
    }
    fn push(mut self, name: &str, ty: DataType, a: ArrayRef) -> Cols {
        self.fields.push(Field::new(name, ty, false));
        self.arrays.push(a);
        self
    }
    fn u32(self, name: &str, v: Vec<u32>) -> Cols {
        self.push(name, DataType::UInt32, Arc::new(UInt32Array::from(v)))
    }
    fn i32(self, name: &str, v: Vec<i32>) -> Cols {
        self.push(name, DataType::Int32, Arc::new(Int32Array::from(v)))
    }
    fn i64(self, name: &str, v: Vec<i64>) -> Cols {
        self.push(name, DataType::Int64, Arc::new(Int64Array::from(v)))
    }
    fn u8(self, name: &str, v: Vec<u8>) -> Cols {
        self.push(name, DataType::UInt8, Arc::new(UInt8Array::from(v)))
    }
    /// Stored forms: `text` cut at `offsets` (from 0 to its length).
    fn stored_strings(self, name: &str, offsets: Vec<i64>, text: &[u8]) -> Cols {
        let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
        let array = LargeBinaryArray::new(offsets, Buffer::from(text), None);
        self.push(name, DataType::LargeBinary, Arc::new(array))
    }
}

/// zstd level of the snapshot's buffers. Level 1 shrinks a 10 M-claim snapshot 3.2× (1.9 GB
/// to 591 MB) without slowing the ingest; the sweep decompresses the text on one thread while
/// it reads the integer columns on another, so its load time stays as uncompressed (3.2 s).
/// LZ4 was measured too: 1.1 GB and no faster to load.
const SNAPSHOT_ZSTD_LEVEL: i32 = 1;

/// Writes batches of one schema (the first batch's) as one zstd-compressed Arrow IPC file
/// (readers decompress transparently; uncompressed files of older snapshots read as before).
fn write_batches(
    path: &Path,
    batches: impl IntoIterator<Item = Cols>,
) -> Result<(), SnapshotFileError> {
    write_batches_with(path, Default::default(), batches)
}

/// [`write_batches`] with `metadata` on the file's schema.
fn write_batches_with(
    path: &Path,
    metadata: std::collections::HashMap<String, String>,
    batches: impl IntoIterator<Item = Cols>,
) -> Result<(), SnapshotFileError> {
    // Batches are built as they are written: only one is in memory beside its compression.
    let mut batches = batches.into_iter().peekable();
    let first = batches
        .peek()
        .ok_or_else(|| malformed(path, "no batch to write"))?;
    let schema = Arc::new(Schema::new(first.fields.clone()).with_metadata(metadata));
    let file = std::fs::File::create(path).map_err(io(path))?;
    let options = arrow_ipc::writer::IpcWriteOptions::default()
        .try_with_compression(Some(arrow_ipc::CompressionType::ZSTD))
        .and_then(|o| o.try_with_compression_level(Some(SNAPSHOT_ZSTD_LEVEL)))
        .map_err(arrow(path))?;
    let mut w = arrow_ipc::writer::FileWriter::try_new_with_options(
        BufWriter::with_capacity(1 << 20, file),
        &schema,
        options,
    )
    .map_err(arrow(path))?;
    for b in batches {
        let batch = RecordBatch::try_new(schema.clone(), b.arrays).map_err(arrow(path))?;
        w.write(&batch).map_err(arrow(path))?;
    }
    w.finish().map_err(arrow(path))?;
    Ok(())
}

// ---- reading ---------------------------------------------------------------------------------

/// The snapshot of `state` from its folder: `Ok(None)` when there is no folder for it or the
/// folder holds another state or format (the caller loads from SQLite); an error when a
/// matching folder cannot be read.
pub fn load(db: &Path, state: &StateId) -> Result<Option<Snapshot>, SnapshotFileError> {
    let dir = state_dir(db, state.ingest_id);
    let meta_path = dir.join("meta.json");
    let meta: Meta = match std::fs::read(&meta_path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| SnapshotFileError::Malformed {
            path: meta_path.clone(),
            what: e.to_string(),
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(&meta_path)(e)),
    };
    if !READABLE_FORMATS.contains(&meta.format) || &meta.state != state {
        return Ok(None);
    }
    read_all(&dir, &meta).map(Some)
}

fn read_all(dir: &Path, meta: &Meta) -> Result<Snapshot, SnapshotFileError> {
    let mut s = Snapshot::default();
    for t in &meta.tables {
        let known = crate::model::TableSpec::by_name(t).map(|spec| spec.name);
        match known {
            Some(name) => {
                s.tables.insert(name);
            }
            None => {
                return Err(SnapshotFileError::Malformed {
                    path: dir.join("meta.json"),
                    what: format!("unknown table {t}"),
                })
            }
        }
    }

    // The text (decompressed and interned) is read on its own thread while this one reads
    // the integer-coded columns: on two cores that halves the load of a compressed snapshot.
    std::thread::scope(|scope| {
        let text = scope.spawn(|| read_strings(dir));
        read_columns(dir, &mut s)?;
        let t = text.join().expect("string reader panicked")?;
        s.claim_ids = t.claim_ids;
        s.ids = t.ids;
        s.names = t.names;
        s.phones = t.phones;
        s.banks = t.banks;
        s.orgs = t.orgs;
        s.counties = t.counties;
        s.class_keys = t.class_keys;
        s.occupations = t.occupations;
        s.cert_keys = t.cert_keys;
        s.texts = t.texts;
        Ok::<(), SnapshotFileError>(())
    })?;
    if s.claims.len() != s.claim_ids.len() {
        return Err(malformed(
            &dir.join("claims.arrow"),
            "claims and claim ids differ in number",
        ));
    }
    check_ids(&s, dir)?;
    Ok(s)
}

/// The claim ids and the interners' strings (a snapshot with only those), in
/// [`STRING_COLUMNS`] order. Each batch is converted and dropped before the next is read, into
/// a column sized for all of its batches: the text of a national ledger is not held twice.
fn read_strings(dir: &Path) -> Result<Snapshot, SnapshotFileError> {
    let path = dir.join("strings.arrow");
    let batches = batch_reader(&path)?;
    let metadata = batches.schema().metadata().clone();
    let layout = string_layout(
        |key| metadata.get(key).map(String::as_str),
        batches.num_batches(),
        &path,
    )?;
    let mut r = StringBatches {
        batches,
        layout: layout.into_iter(),
        path: &path,
    };
    Ok(Snapshot {
        claim_ids: r.column()?,
        ids: r.interner()?,
        names: r.interner()?,
        phones: r.interner()?,
        banks: r.interner()?,
        orgs: r.interner()?,
        counties: r.interner()?,
        class_keys: r.interner()?,
        occupations: r.interner()?,
        cert_keys: r.interner()?,
        texts: r.interner()?,
        ..Snapshot::default()
    })
}

/// `strings.arrow` read a column at a time, as [`string_layout`] says its batches go.
struct StringBatches<'p> {
    batches: arrow_ipc::reader::FileReader<BufReader<std::fs::File>>,
    layout: std::vec::IntoIter<(usize, usize)>,
    path: &'p Path,
}

impl StringBatches<'_> {
    /// The next column: its batches read one at a time into one column sized for all of them.
    fn column<S: Storage>(&mut self) -> Result<StrColumn<S>, SnapshotFileError> {
        let path = self.path;
        let (n, bytes) = self
            .layout
            .next()
            .ok_or_else(|| malformed(path, "string columns"))?;
        let mut next = || -> Result<StrColumn<S>, SnapshotFileError> {
            let b = self
                .batches
                .next()
                .ok_or_else(|| malformed(path, "string columns"))?
                .map_err(arrow(path))?;
            Batch { b: &b, path }.strings("value")
        };
        if n == 1 {
            return next();
        }
        let mut whole = StrColumn::with_capacity(bytes);
        for _ in 0..n {
            whole.append(&next()?);
        }
        Ok(whole)
    }

    fn interner<S: Storage>(&mut self) -> Result<Interner<S>, SnapshotFileError> {
        self.column().map(Interner::from_sealed_strings)
    }
}

/// How many batches of `strings.arrow` (of `batches` in all) each string column has, and its
/// text's bytes: from the schema's metadata (format 4), or one batch each (formats 1–3).
fn string_layout<'m>(
    metadata: impl Fn(&str) -> Option<&'m str>,
    batches: usize,
    path: &Path,
) -> Result<Vec<(usize, usize)>, SnapshotFileError> {
    let bad = || malformed(path, "string columns");
    let counts = |key: &str| -> Result<Option<Vec<usize>>, SnapshotFileError> {
        metadata(key)
            .map(|v| {
                let counts = v
                    .split(',')
                    .map(|n| n.parse::<usize>().map_err(|_| bad()))
                    .collect::<Result<Vec<usize>, _>>()?;
                (counts.len() == STRING_COLUMNS.len())
                    .then_some(counts)
                    .ok_or_else(bad)
            })
            .transpose()
    };
    let layout: Vec<(usize, usize)> = match (counts(STRING_BATCHES_KEY)?, counts(STRING_BYTES_KEY)?)
    {
        (Some(n), Some(bytes)) => n.into_iter().zip(bytes).collect(),
        (None, None) => vec![(1, 0); STRING_COLUMNS.len()],
        _ => return Err(bad()),
    };
    let listed: usize = layout.iter().map(|&(n, _)| n).sum();
    if listed != batches || layout.iter().any(|&(n, _)| n == 0) {
        return Err(bad());
    }
    Ok(layout)
}

/// Appends `n` rows built by `row` to `out` (which [`read_rows`] sized for the whole table;
/// collecting `Result`s would build a vector of its own, grown by doubling).
fn push_rows<T>(
    out: &mut Vec<T>,
    n: usize,
    mut row: impl FnMut(usize) -> Result<T, SnapshotFileError>,
) -> Result<(), SnapshotFileError> {
    for i in 0..n {
        out.push(row(i)?);
    }
    Ok(())
}

/// Every integer-coded column of the snapshot into `s` (all but the text). Each batch is
/// dropped once its rows are converted, so at most one batch is held twice.
fn read_columns(dir: &Path, s: &mut Snapshot) -> Result<(), SnapshotFileError> {
    let path = dir.join("index.arrow");
    let batches = read_batches(&path)?;
    if batches.len() != INDEX_COLUMNS.len() {
        return Err(malformed(&path, "index columns"));
    }
    let mut index = batches
        .iter()
        .map(|b| Ok(Batch { b, path: &path }.u32("value")?.to_vec()))
        .collect::<Result<Vec<_>, SnapshotFileError>>()?
        .into_iter();
    s.class_of_key = index.next().expect("counted");
    s.institution_of_org = index.next().expect("counted");
    s.certificate_of_key = index.next().expect("counted");
    s.employment_offsets = index.next().expect("counted");
    drop(batches);

    let path = dir.join("persons_len.arrow");
    let lens = one_batch(&path)?;
    let lens = Batch {
        b: &lens,
        path: &path,
    }
    .i64("len")?
    .to_vec();
    let path = dir.join("persons.arrow");
    let b = one_batch(&path)?;
    let p = Batch { b: &b, path: &path };
    let date = |v: &[i32], n: i64| -> PersonDates {
        let n = (n.max(0) as usize).min(v.len());
        let listed = v[..n].iter().enumerate().filter(|(_, &d)| d != NO_DATE);
        PersonDates::earliest(n, listed.map(|(p, &d)| (p as u32, Date(d))))
    };
    if lens.len() != 3 {
        return Err(malformed(&path, "person vector lengths"));
    }
    s.pension_start = date(p.i32("pension_start")?, lens[0]);
    s.death_date = date(p.i32("death_date")?, lens[1]);
    s.poverty = p
        .u8("poverty")?
        .iter()
        .take(lens[2] as usize)
        .map(|&x| x != 0)
        .collect();
    drop(b);

    let path = dir.join("claims.arrow");
    s.claims = read_rows(&path, |t, out| {
        let (person, name, phone, bank) = (
            t.u32("person")?,
            t.u32("name")?,
            t.u32("phone")?,
            t.u32("bank")?,
        );
        let (county, institution, class, occupation, cert) = (
            t.u32("county")?,
            t.u32("institution")?,
            t.u32("class")?,
            t.u32("occupation")?,
            t.u32("cert")?,
        );
        let (date_col, amount, living_amount, living_days) = (
            t.i32("date")?,
            t.i64("amount")?,
            t.i64("living_amount")?,
            t.i32("living_days")?,
        );
        let (category, subsidy_type, funding, level) = (
            t.u8("category")?,
            t.u8("subsidy_type")?,
            t.u8("funding")?,
            t.u8("level")?,
        );
        push_rows(out, t.b.num_rows(), |i| {
            Ok(Claim {
                person: person[i],
                name: name[i],
                phone: phone[i],
                bank: bank[i],
                county: county[i],
                institution: institution[i],
                class: class[i],
                occupation: occupation[i],
                cert: cert[i],
                date: Date(date_col[i]),
                amount: amount[i],
                living_amount: living_amount[i],
                living_days: living_days[i],
                category: enum_of(category[i], Category::ALL, &path)?,
                subsidy_type: enum_of(subsidy_type[i], SubsidyType::ALL, &path)?,
                funding: enum_of(funding[i], FundingSource::ALL, &path)?,
                level: level[i],
            })
        })
    })?;

    let path = dir.join("classes.arrow");
    s.classes = read_rows(&path, |t, out| {
        let (key, inst, county, occ, level, tt) = (
            t.u32("key")?,
            t.u32("institution")?,
            t.u32("county")?,
            t.u32("occupation")?,
            t.u8("level")?,
            t.u8("training_type")?,
        );
        let (start, end, hours, project) = (
            t.i32("start")?,
            t.i32("end")?,
            t.i32("hours")?,
            t.u8("project_based")?,
        );
        push_rows(out, t.b.num_rows(), |i| {
            Ok(Class {
                key: key[i],
                institution: inst[i],
                county: county[i],
                occupation: occ[i],
                level: level[i],
                training_type: enum_of(tt[i], SubsidyType::ALL, &path)?,
                start: Date(start[i]),
                end: Date(end[i]),
                hours: hours[i],
                project_based: project[i] != 0,
            })
        })
    })?;

    let path = dir.join("institutions.arrow");
    s.institutions = read_rows(&path, |t, out| {
        let (org, name, county, rep, phone) = (
            t.u32("org")?,
            t.u32("name")?,
            t.u32("county")?,
            t.u32("legal_rep")?,
            t.u32("phone")?,
        );
        out.extend((0..t.b.num_rows()).map(|i| Institution {
            org: org[i],
            name: name[i],
            county: county[i],
            legal_rep: rep[i],
            phone: phone[i],
        }));
        Ok(())
    })?;

    let path = dir.join("certificates.arrow");
    s.certificates = read_rows(&path, |t, out| {
        let (key, person, name, occ, level, issued) = (
            t.u32("key")?,
            t.u32("person")?,
            t.u32("name")?,
            t.u32("occupation")?,
            t.u8("level")?,
            t.i32("issue_date")?,
        );
        out.extend((0..t.b.num_rows()).map(|i| Certificate {
            key: key[i],
            person: person[i],
            name: name[i],
            occupation: occ[i],
            level: level[i],
            issue_date: OptDate::from_day_number(issued[i]),
        }));
        Ok(())
    })?;

    let path = dir.join("projects.arrow");
    s.projects = read_rows(&path, |t, out| {
        let (class, trainees, employed, total, prepaid, paid, check) = (
            t.u32("class")?,
            t.i32("trainees")?,
            t.i32("employed_claimed")?,
            t.i64("total")?,
            t.i64("prepaid")?,
            t.i64("paid")?,
            t.i32("check_date")?,
        );
        out.extend((0..t.b.num_rows()).map(|i| Project {
            class: class[i],
            trainees: trainees[i],
            employed_claimed: employed[i],
            total: total[i],
            prepaid: prepaid[i],
            paid: paid[i],
            check_date: date_of(check[i]),
        }));
        Ok(())
    })?;

    let path = dir.join("employment.arrow");
    s.employment = read_rows(&path, |t, out| {
        let (person, employer, start, end) = (
            t.u32("person")?,
            t.u32("employer")?,
            t.i32("start")?,
            t.i32("end")?,
        );
        out.extend((0..t.b.num_rows()).map(|i| Spell {
            person: person[i],
            employer: employer[i],
            start: Date(start[i]),
            end: date_of(end[i]),
        }));
        Ok(())
    })?;

    let path = dir.join("staff.arrow");
    s.staff = read_rows(&path, |t, out| {
        let (inst, person, role) = (t.u32("institution")?, t.u32("person")?, t.u32("role")?);
        out.extend((0..t.b.num_rows()).map(|i| Staff {
            institution: inst[i],
            person: person[i],
            role: role[i],
        }));
        Ok(())
    })?;

    let path = dir.join("ui.arrow");
    s.ui = read_rows(&path, |t, out| {
        let (person, months, as_of) = (t.u32("person")?, t.i32("months_paid")?, t.i32("as_of")?);
        out.extend((0..t.b.num_rows()).map(|i| UiRecord {
            person: person[i],
            months_paid: months[i],
            as_of: date_of(as_of[i]),
        }));
        Ok(())
    })?;

    let path = dir.join("living_lines.arrow");
    let b = one_batch(&path)?;
    let t = Batch { b: &b, path: &path };
    let (county, year, fen) = (t.u32("county")?, t.i32("year")?, t.i64("fen")?);
    s.living_lines = (0..b.num_rows())
        .map(|i| ((county[i], year[i]), fen[i]))
        .collect();

    Ok(())
}

/// Every id a record holds is within its interner: a damaged file is an error, never a panic
/// in a rule.
fn check_ids(s: &Snapshot, dir: &Path) -> Result<(), SnapshotFileError> {
    let bad = |what: &str| {
        Err(malformed(
            &dir.join(format!("{what}.arrow")),
            "id out of range",
        ))
    };
    fn within<S: Storage>(id: u32, i: &Interner<S>) -> bool {
        (id as usize) < i.len()
    }
    if !s.claims.iter().all(|c| {
        within(c.person, &s.ids)
            && within(c.name, &s.names)
            && within(c.phone, &s.phones)
            && within(c.bank, &s.banks)
            && within(c.county, &s.counties)
            && within(c.institution, &s.orgs)
            && within(c.class, &s.class_keys)
            && within(c.occupation, &s.occupations)
            && within(c.cert, &s.cert_keys)
    }) {
        return bad("claims");
    }
    if !s.classes.iter().all(|c| {
        within(c.key, &s.class_keys)
            && within(c.institution, &s.orgs)
            && within(c.county, &s.counties)
            && within(c.occupation, &s.occupations)
    }) {
        return bad("classes");
    }
    let index_ok = |v: &[u32], n: usize| v.iter().all(|&i| i == super::NONE || (i as usize) < n);
    if !index_ok(&s.class_of_key, s.classes.len())
        || !index_ok(&s.institution_of_org, s.institutions.len())
        || !index_ok(&s.certificate_of_key, s.certificates.len())
        || !s
            .employment_offsets
            .iter()
            .all(|&o| (o as usize) <= s.employment.len())
    {
        return bad("index");
    }
    Ok(())
}

fn malformed(path: &Path, what: &str) -> SnapshotFileError {
    SnapshotFileError::Malformed {
        path: path.to_path_buf(),
        what: what.to_string(),
    }
}

fn date_of(d: i32) -> Option<Date> {
    OptDate::from_day_number(d).get()
}

fn enum_of<T: Copy>(code: u8, all: &[T], path: &Path) -> Result<Option<T>, SnapshotFileError> {
    match code {
        0 => Ok(None),
        c => all
            .get(c as usize - 1)
            .copied()
            .map(Some)
            .ok_or_else(|| malformed(path, &format!("enum code {c}"))),
    }
}

fn read_batches(path: &Path) -> Result<Vec<RecordBatch>, SnapshotFileError> {
    batch_reader(path)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(arrow(path))
}

/// The batches of an Arrow IPC file, read one at a time (`num_batches()` says how many).
fn batch_reader(
    path: &Path,
) -> Result<arrow_ipc::reader::FileReader<BufReader<std::fs::File>>, SnapshotFileError> {
    let file = std::fs::File::open(path).map_err(io(path))?;
    arrow_ipc::reader::FileReader::try_new(BufReader::with_capacity(1 << 20, file), None)
        .map_err(arrow(path))
}

/// The rows of a table file of one or more batches (see [`CHUNK_ROWS`]): `batch` appends the
/// rows of each batch to the table's vector, a batch at a time, each batch dropped once
/// converted.
fn read_rows<T>(
    path: &Path,
    mut batch: impl FnMut(&Batch, &mut Vec<T>) -> Result<(), SnapshotFileError>,
) -> Result<Vec<T>, SnapshotFileError> {
    let mut batches = batch_reader(path)?;
    let n = batches.num_batches();
    let mut rows = Vec::new();
    for k in 0..n {
        let b = batches
            .next()
            .ok_or_else(|| malformed(path, "batches"))?
            .map_err(arrow(path))?;
        if k == 0 {
            // Every batch but the last is as long as the first.
            rows.reserve_exact(n * b.num_rows());
        }
        batch(&Batch { b: &b, path }, &mut rows)?;
    }
    Ok(rows)
}

fn one_batch(path: &Path) -> Result<RecordBatch, SnapshotFileError> {
    let mut batches = read_batches(path)?;
    if batches.len() != 1 {
        return Err(malformed(path, "expected one batch"));
    }
    Ok(batches.pop().expect("one"))
}

/// A batch's columns by name and type.
struct Batch<'a> {
    b: &'a RecordBatch,
    path: &'a Path,
}

impl<'a> Batch<'a> {
    fn column<T: Array + 'static>(&self, name: &str) -> Result<&'a T, SnapshotFileError> {
        let col = self
            .b
            .column_by_name(name)
            .ok_or_else(|| malformed(self.path, &format!("no column {name}")))?;
        if col.null_count() > 0 {
            return Err(malformed(self.path, &format!("nulls in column {name}")));
        }
        col.as_any()
            .downcast_ref::<T>()
            .ok_or_else(|| malformed(self.path, &format!("column {name} has another type")))
    }
    fn u32(&self, name: &str) -> Result<&'a [u32], SnapshotFileError> {
        Ok(self.column::<UInt32Array>(name)?.values())
    }
    fn i32(&self, name: &str) -> Result<&'a [i32], SnapshotFileError> {
        Ok(self.column::<Int32Array>(name)?.values())
    }
    fn i64(&self, name: &str) -> Result<&'a [i64], SnapshotFileError> {
        Ok(self.column::<Int64Array>(name)?.values())
    }
    fn u8(&self, name: &str) -> Result<&'a [u8], SnapshotFileError> {
        Ok(self.column::<UInt8Array>(name)?.values())
    }
    /// A string column: stored forms (format 3, `LargeBinary`), checked item by item, or
    /// strings (formats 1 and 2, `LargeUtf8`), stored again.
    fn strings<S: Storage>(&self, name: &str) -> Result<StrColumn<S>, SnapshotFileError> {
        let col = self
            .b
            .column_by_name(name)
            .ok_or_else(|| malformed(self.path, &format!("no column {name}")))?;
        if let Some(a) = col.as_any().downcast_ref::<LargeStringArray>() {
            if a.null_count() > 0 {
                return Err(malformed(self.path, &format!("nulls in column {name}")));
            }
            let bytes = a.value_data().len();
            let mut c = StrColumn::with_capacity(bytes);
            for v in a.iter().flatten() {
                c.push(v);
            }
            return Ok(c);
        }
        let a = self.column::<LargeBinaryArray>(name)?;
        let offsets = a.value_offsets();
        let first = *offsets.first().unwrap_or(&0);
        let text = a.value_data()[first as usize..*offsets.last().unwrap_or(&0) as usize].to_vec();
        let offsets: Vec<u32> = offsets
            .iter()
            .map(|&o| u32::try_from(o - first))
            .collect::<Result<_, _>>()
            .map_err(|_| malformed(self.path, &format!("column {name} exceeds 4 GiB")))?;
        StrColumn::from_stored(text, offsets)
            .map_err(|what| malformed(self.path, &format!("column {name}: {what}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intern::{AsWritten, Packed};
    use crate::model::{CertificateRow, ClaimRow, ClassRow, EmploymentRow, Ledger};

    /// A whole string column as one batch, as format 3 wrote each.
    fn one_batch_of(column: &dyn StoredColumn) -> Cols {
        let offsets = column.stored_starts().map(i64::from).collect();
        Cols::new().stored_strings("value", offsets, column.stored_text())
    }

    /// String columns of format 3 (stored forms, `LargeBinary`) and of formats 1 and 2 (UTF-8,
    /// `LargeUtf8`) read back as the same strings, packed or as written; a damaged stored
    /// form is an error naming its column and item.
    #[test]
    fn string_columns_of_every_format_read_back() {
        let values = [
            "",
            "37132919720803787X",
            "张伟",
            "SQ0000000001",
            "15381978330",
            "abc",
        ];
        let path = Path::new("strings.arrow");
        let mut packed = StrColumn::<Packed>::new();
        for v in values {
            packed.push(v);
        }
        let cols = one_batch_of(&packed);
        let schema = Arc::new(Schema::new(cols.fields));
        let format3 = RecordBatch::try_new(schema, cols.arrays).unwrap();
        let legacy = LargeStringArray::from(values.to_vec());
        let format2 = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new(
                "value",
                DataType::LargeUtf8,
                false,
            )])),
            vec![Arc::new(legacy)],
        )
        .unwrap();
        for b in [&format3, &format2] {
            let p: StrColumn<Packed> = Batch { b, path }.strings("value").unwrap();
            for (k, v) in values.iter().enumerate() {
                assert_eq!(&*p.get(k as u32), *v);
            }
            assert_eq!(p.stored_text(), packed.stored_text());
            assert!(p.stored_starts().eq(packed.stored_starts()));
        }
        let w: StrColumn<AsWritten> = Batch { b: &format2, path }.strings("value").unwrap();
        for (k, v) in values.iter().enumerate() {
            assert_eq!(w.get(k as u32), *v);
        }
        // Packed forms where strings as written are expected: an error, not a panic.
        let err = Batch { b: &format3, path }
            .strings::<AsWritten>("value")
            .unwrap_err();
        assert!(err.to_string().contains("column value: item 1"), "{err}");
    }

    /// Tables longer than a batch (`CHUNK_ROWS` is 3 in unit tests) and an empty one read back
    /// field for field, each file in as many batches as its rows need.
    #[test]
    fn tables_of_several_batches_read_back_field_for_field() {
        let d = |day| Date::from_ymd(2020, 3, day).unwrap();
        let mut ledger = Ledger {
            present: vec!["claims", "certificates", "classes", "employment", "staff"],
            ..Default::default()
        };
        for i in 0..10u32 {
            ledger.claims.push(ClaimRow {
                claim_id: format!("C{i}"),
                id_number: format!("P{}", i % 4),
                name: format!("名{i}"),
                class_id: format!("K{}", i % 5),
                cert_no: format!("Z{}", i % 7),
                amount: 100 * i as i64,
                living_amount: i as i64,
                claim_date: d(1 + i),
                level: Some(1 + (i % 5) as u8),
                ..Default::default()
            });
        }
        for i in 0..7u32 {
            ledger.certificates.push(CertificateRow {
                cert_no: format!("Z{i}"),
                id_number: format!("P{}", i % 4),
                issue_date: (i % 2 == 0).then(|| d(10 + i)),
                ..Default::default()
            });
            ledger.classes.push(ClassRow {
                class_id: format!("K{i}"),
                start_date: d(1),
                end_date: d(2 + i),
                hours: i as i32,
                project_based: i % 3 == 0,
                ..Default::default()
            });
            ledger.employment.push(EmploymentRow {
                id_number: format!("P{i}"),
                employer_id: format!("E{}", i % 2),
                start_date: d(3),
                end_date: (i % 2 == 1).then(|| d(20)),
            });
        }
        let s = Snapshot::from_ledger(&ledger);
        let dir = tempfile::tempdir().unwrap();
        write_data(dir.path(), &s).unwrap();
        let batches = |t: &str| {
            batch_reader(&dir.path().join(format!("{t}.arrow")))
                .unwrap()
                .num_batches()
        };
        assert_eq!(batches("claims"), 4);
        assert_eq!(batches("certificates"), 3);
        assert_eq!(batches("staff"), 1, "an empty table: one empty batch");

        let meta = Meta {
            format: FORMAT_VERSION,
            state: StateId {
                ingest_id: 1,
                content_hash: String::new(),
                finished_at: String::new(),
            },
            tables: s.tables.iter().map(|t| t.to_string()).collect(),
        };
        let back = read_all(dir.path(), &meta).unwrap();
        assert_eq!(back.claims.len(), 10);
        assert_eq!(back.claims, s.claims);
        assert_eq!(back.certificates, s.certificates);
        assert_eq!(back.classes, s.classes);
        assert_eq!(back.employment, s.employment);
        assert!(back.staff.is_empty());
        assert_eq!(
            back.claims.capacity(),
            12,
            "reserved for 4 batches of 3, no regrowth"
        );
        assert!((0..10).all(|i| back.claim_id(i) == s.claim_id(i)));
    }

    /// String columns are written in batches of `CHUNK_ROWS` items (3 in unit tests), counted
    /// in the schema's metadata, and read back item for item, uniform or not; a file of one
    /// batch per column and no metadata (format 3) reads as before, and metadata that does not
    /// count the file's batches is an error.
    #[test]
    fn string_columns_of_several_batches_read_back_item_for_item() {
        let mut ledger = Ledger {
            present: vec!["claims"],
            ..Default::default()
        };
        for i in 0..10u32 {
            ledger.claims.push(ClaimRow {
                claim_id: format!("SQ{i:010}"),
                id_number: format!("3713021980010{i:05}"),
                name: ["张伟", "李秀英", "王", "欧阳娜娜"][i as usize % 4].to_string(),
                claim_date: Date::from_ymd(2020, 3, 1).unwrap(),
                ..Default::default()
            });
        }
        let s = Snapshot::from_ledger(&ledger);
        let dir = tempfile::tempdir().unwrap();
        write_strings(dir.path(), &s).unwrap();
        let path = dir.path().join("strings.arrow");
        let reader = batch_reader(&path).unwrap();
        let metadata = reader.schema().metadata().clone();
        let layout = string_layout(
            |key| metadata.get(key).map(String::as_str),
            reader.num_batches(),
            &path,
        )
        .unwrap();
        let columns = s.string_columns();
        assert_eq!(
            layout[0],
            (4, s.claim_ids.text_len()),
            "10 claim ids: 4 batches"
        );
        assert_eq!(layout[2].0, 2, "5 names with the empty one: 2 batches");
        let check = |back: &Snapshot| {
            for (k, (a, b)) in back.string_columns().iter().zip(&columns).enumerate() {
                assert_eq!(a.stored_text(), b.stored_text(), "{}", STRING_COLUMNS[k]);
                assert!(
                    a.stored_starts().eq(b.stored_starts()),
                    "{}",
                    STRING_COLUMNS[k]
                );
                assert_eq!(a.is_uniform(), b.is_uniform(), "{}", STRING_COLUMNS[k]);
            }
        };
        check(&read_strings(dir.path()).unwrap());

        // Format 3: one batch per column, no metadata.
        write_batches(&path, columns.iter().map(|c| one_batch_of(*c))).unwrap();
        check(&read_strings(dir.path()).unwrap());

        // Metadata counting batches the file does not have.
        let mut metadata = std::collections::HashMap::new();
        metadata.insert(STRING_BATCHES_KEY.to_string(), ["2"; 11].join(","));
        metadata.insert(STRING_BYTES_KEY.to_string(), ["0"; 11].join(","));
        write_batches_with(&path, metadata, columns.iter().map(|c| one_batch_of(*c))).unwrap();
        let err = read_strings(dir.path()).unwrap_err();
        assert!(err.to_string().contains("string columns"), "{err}");
    }
}

//! The SQLite store: opening (schema, WAL, busy timeout), ingest bookkeeping, and every table
//! and statement that writes. The snapshot stage reads the ledger back through [`rows`]; the
//! report and the case pages read it through the typed queries of [`read`].
//!
//! Values are stored normalised (see `schema.sql`), so reading them back never re-parses
//! messy input: dates are ISO text, money integer fen, enumerations English codes.

pub mod batch;
pub mod cases;
pub mod checkpoint;
pub mod disk;
pub mod flags;
pub mod graph;
pub mod handoff;
pub mod history;
pub mod ingest;
pub mod lock;
pub mod lookup;
pub mod read;
pub mod rows;
pub mod stored;
pub mod textblock;
pub mod users;

use crate::model::*;
use rows::DbRow;
use rusqlite::{Connection, OptionalExtension};
use std::path::{Path, PathBuf};

pub const SCHEMA: &str = include_str!("schema.sql");

/// How long a connection waits for another writer's lock before giving up: one value for
/// every connection the program opens.
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Page cache of an ingest through the WAL in KiB, as SQLite's negative `cache_size` takes
/// it: one large transaction's dirty pages stay in memory instead of spilling to the WAL and
/// being written twice. A re-ingest of next month's 10 M-claim extract updates the claims'
/// key and look-up indexes all over: 89.2 s with 256 MB (a 2.6 GB WAL), 75.9 s with 512 MB.
/// Each table's pages are written out and the cache emptied when its load ends
/// (`ingest::load_tables`), so the cache is at its largest beside one table's work only.
pub const BULK_CACHE_KIB: i64 = -524_288;
/// A smaller bulk cache for writing cases beside the sweep's other memory.
pub const CASES_CACHE_KIB: i64 = -131_072;
/// SQLite's default page cache (2 MB), restored after a bulk write.
pub const DEFAULT_CACHE_KIB: i64 = -2000;

/// Page cache while indexes are built (an ingest's claim indexes, a first sweep's case
/// indexes). SQLite sorts an index's keys in runs of about the cache's size, then merges them:
/// runs that fit the CPU caches, sorted on helper threads, sort several times faster than one
/// run of the whole table (10 M claims, one claim index: 9–11 s with 4–8 MB, 20–23 s with
/// 256 MB; a first sweep's case indexes: the whole case write 13.2–13.4 → 10.4–10.5 s against
/// the 128 MB case cache, on a loaded 2-core machine).
pub const INDEX_BUILD_CACHE_KIB: i64 = -8192;
/// Helper threads SQLite may sort an index's runs on while indexes are built.
pub const INDEX_BUILD_THREADS: i64 = 2;

/// Sets integer pragmas on `conn`, returning the values they had (to give back to
/// [`set_pragmas`] after): how the helpers below change a setting for one piece of work.
fn set_pragmas<'n, const N: usize>(
    conn: &Connection,
    settings: [(&'n str, i64); N],
) -> rusqlite::Result<[(&'n str, i64); N]> {
    let mut before = settings;
    for (k, (name, value)) in settings.into_iter().enumerate() {
        before[k].1 = conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))?;
        conn.pragma_update(None, name, value)?;
    }
    Ok(before)
}

/// Runs `build` (index builds) on `conn` with [`INDEX_BUILD_CACHE_KIB`] and
/// [`INDEX_BUILD_THREADS`], restoring both settings after; inside a transaction too.
pub fn with_index_build_settings<T, E: From<rusqlite::Error>>(
    conn: &Connection,
    build: impl FnOnce(&Connection) -> Result<T, E>,
) -> Result<T, E> {
    let before = set_pragmas(
        conn,
        [
            ("cache_size", INDEX_BUILD_CACHE_KIB),
            ("threads", INDEX_BUILD_THREADS),
        ],
    )?;
    let built = build(conn);
    set_pragmas(conn, before)?;
    built
}

/// Runs `write` on `conn` with `cache_size` set to `kib`, restoring the previous cache after.
pub fn with_cache_size<T, E: From<rusqlite::Error>>(
    conn: &mut Connection,
    kib: i64,
    write: impl FnOnce(&mut Connection) -> Result<T, E>,
) -> Result<T, E> {
    let before = set_pragmas(conn, [("cache_size", kib)])?;
    let written = write(conn);
    set_pragmas(conn, before)?;
    written
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: 无法打开数据库 / cannot open database: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("数据库错误 / database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}: 数据库不存在，请先运行 `claimsweep ingest` / database not found, run `claimsweep ingest` first")]
    NoDatabase(PathBuf),
}

/// Process-wide SQLite settings, before the first connection (later calls change nothing).
/// SQLite's memory statistics take a global mutex on every allocation, and nothing here
/// reads them: off, the writers and readers of a sweep allocate without it.
pub fn configure_sqlite() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: SQLITE_CONFIG_MEMSTATUS takes one int; this runs before any connection is
        // opened (if one was, SQLite returns SQLITE_MISUSE and changes nothing).
        unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
                0 as std::ffi::c_int,
            );
        }
    });
}

/// Page size of databases claimsweep creates.
pub const PAGE_SIZE: i64 = 16_384;

/// A one-line hint when the database was made with pages smaller than [`PAGE_SIZE`] (by an
/// older version or another tool): large sweeps on it are slower, and how to convert it.
pub fn page_size_hint(conn: &Connection, path: &Path) -> Result<Option<String>, StoreError> {
    let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok((size < PAGE_SIZE).then(|| {
        format!(
            "{p}: 数据库页大小为 {size} 字节，大规模筛查较慢；可转换为 {PAGE_SIZE} 字节 / the database has {size}-byte pages, which slows large sweeps; to convert: sqlite3 {p} 'PRAGMA journal_mode=DELETE; PRAGMA page_size={PAGE_SIZE}; VACUUM; PRAGMA journal_mode=WAL;'",
            p = path.display()
        )
    }))
}

/// Opens (creating if needed) a claimsweep database: schema, WAL journal, 10 s busy timeout.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let shown = path.display().to_string();
    let wrap = |e: rusqlite::Error| StoreError::Open {
        path: shown.clone(),
        source: e,
    };
    let conn = Connection::open(path).map_err(wrap)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(wrap)?;
    // A new database gets 16 KiB pages (SQLite's default is 4 KiB; an existing database keeps
    // its own): a sweep writes gigabytes in large rows, and larger pages mean a quarter of the
    // B-tree pages, WAL frames and write calls. 10 M claims: ingest 202 s instead of 225–269 s,
    // the sweep's writing 20 % faster.
    conn.pragma_update(None, "page_size", PAGE_SIZE)
        .map_err(wrap)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(wrap)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(wrap)?;
    conn.execute_batch(SCHEMA).map_err(wrap)?;
    Ok(conn)
}

/// At least the ledger's claims, at once at any size: the highest row id of `claims` (rows are
/// appended; a row an ingest removed keeps its id used). `None` before any claim is loaded.
pub fn claims_upper_bound(conn: &Connection) -> Result<Option<u64>, StoreError> {
    let has_claims: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'claims')",
        [],
        |r| r.get(0),
    )?;
    if !has_claims {
        return Ok(None);
    }
    let max: Option<i64> = conn.query_row("SELECT max(rowid) FROM claims", [], |r| r.get(0))?;
    Ok(max.map(|m| m.max(0) as u64))
}

/// Opens an existing database (a sweep or a query never creates an empty one by mistake).
pub fn open_existing(db: &Path) -> Result<Connection, StoreError> {
    if !db.exists() {
        return Err(StoreError::NoDatabase(db.to_path_buf()));
    }
    open(db)
}

/// A consistent copy of the database at `to` (SQLite `VACUUM INTO`): what-if runs work on it so
/// the audit database is never written. `to` must not exist.
pub fn copy_database(conn: &Connection, to: &Path) -> Result<(), StoreError> {
    conn.execute("VACUUM INTO ?1", [to.to_string_lossy()])?;
    Ok(())
}

/// The id of the most recent ingest, if any.
pub fn latest_ingest_id(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(
        conn.query_row("SELECT MAX(ingest_id) FROM ingests", [], |r| {
            r.get::<_, Option<i64>>(0)
        })?,
    )
}

/// The most recent finished ingest: (id, content hash, finish time). A columnar snapshot names
/// the ledger state by these three.
pub fn latest_ingest_identity(
    conn: &Connection,
) -> Result<Option<(i64, String, String)>, StoreError> {
    if !table_exists(conn, "ingests")? {
        return Ok(None);
    }
    Ok(conn
        .query_row(
            "SELECT ingest_id, content_hash, COALESCE(finished_at, '') FROM ingests
             ORDER BY ingest_id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?)
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
    let mut st = conn.prepare(&rows::load_sql::<R>())?;
    let mut q = st.query([])?;
    let mut buf = R::default();
    while let Some(row) = q.next()? {
        buf.read(row)?;
        f(&buf);
    }
    Ok(())
}

/// Whether a table exists (graph tables are optional: older databases lack them).
pub fn table_exists(conn: &Connection, name: &str) -> Result<bool, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?1",
        [name],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// Column names of a table, for tables other stages may extend.
pub fn table_columns(conn: &Connection, name: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info(\"{name}\")"))?;
    let cols = stmt
        .query_map([], |r| r.get::<_, String>(1))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index build runs with its own cache and helper threads and gives both back.
    #[test]
    fn index_build_settings_apply_inside_and_are_restored_after() {
        let conn = Connection::open_in_memory().unwrap();
        let get = |name: &str| -> i64 {
            conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
                .unwrap()
        };
        conn.pragma_update(None, "cache_size", -1234).unwrap();
        let (cache, threads) = (get("cache_size"), get("threads"));
        let inside = with_index_build_settings(&conn, |c| {
            let cache: i64 = c.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
            let threads: i64 = c.query_row("PRAGMA threads", [], |r| r.get(0))?;
            Ok::<_, rusqlite::Error>((cache, threads))
        })
        .unwrap();
        assert_eq!(inside, (INDEX_BUILD_CACHE_KIB, INDEX_BUILD_THREADS));
        assert_eq!((get("cache_size"), get("threads")), (cache, threads));
        assert_eq!(cache, -1234);
    }
}

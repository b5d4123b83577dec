//! Multi-row inserts, the one way every bulk writer of the store batches its rows: one
//! `INSERT … VALUES (…),(…)` per batch instead of a statement per row.

use rusqlite::{Connection, Statement};

/// SQLite's default limit on host parameters in one statement.
pub const MAX_PARAMS: usize = 32_766;
/// Rows per multi-row INSERT: enough to amortise the statement, small enough to stay in cache.
pub const MAX_ROWS: usize = 256;

/// `{insert} VALUES {row},{row},…` with `rows` copies of `row`: `insert` is the statement's
/// head (`INSERT [OR IGNORE] INTO table (columns)`), `row` one row (e.g. `(?,?,'open')`).
pub fn values_sql_with(insert: &str, row: &str, rows: usize) -> String {
    let mut sql = String::with_capacity(insert.len() + 8 + rows * (row.len() + 1));
    sql.push_str(insert);
    sql.push_str(" VALUES ");
    for k in 0..rows {
        if k > 0 {
            sql.push(',');
        }
        sql.push_str(row);
    }
    sql
}

/// How every bulk writer inserts: `OR FAIL`, not SQLite's default `OR ABORT`. A broken
/// constraint fails the statement either way, and every caller then rolls back its whole
/// transaction or savepoint; but for a multi-row `OR ABORT` statement SQLite first copies each
/// page it changes to a statement journal (a temporary file) so it could undo just that
/// statement, which was a twentieth of an ingest's CPU. `OR FAIL` keeps no such journal.
pub const INSERT: &str = "INSERT OR FAIL INTO";

/// `INSERT OR FAIL INTO {head} VALUES (?,…),(?,…)…`: `rows` rows of `columns` parameters.
pub fn values_sql(head: &str, columns: usize, rows: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(","));
    values_sql_with(&format!("{INSERT} {head}"), &row, rows)
}

/// Rows per batch for a table of `columns` columns.
pub fn rows_per_batch(columns: usize) -> usize {
    (MAX_PARAMS / columns.max(1)).clamp(1, MAX_ROWS)
}

/// Inserts `items` into `head` (a table, or a table and its column list) with `columns`
/// parameters per row: one statement prepared for full batches and reused, one for the last
/// partial batch. `bind(stmt, first, item)` binds one item's columns from parameter `first`
/// (1-based) on.
pub fn insert_rows<T>(
    conn: &Connection,
    head: &str,
    columns: usize,
    items: &[T],
    mut bind: impl FnMut(&mut Statement<'_>, usize, &T) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    insert_numbered(conn, head, columns, items.len(), |st, first, k| {
        bind(st, first, &items[k])
    })
}

/// [`insert_rows`] over the row numbers `0..count`, for rows spelled one at a time into a
/// reused buffer: `bind(stmt, first, k)` binds row `k`'s columns from parameter `first` on.
pub fn insert_numbered(
    conn: &Connection,
    head: &str,
    columns: usize,
    count: usize,
    mut bind: impl FnMut(&mut Statement<'_>, usize, usize) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let per_batch = rows_per_batch(columns);
    let mut full: Option<Statement<'_>> = None;
    for first in (0..count).step_by(per_batch) {
        let rows = per_batch.min(count - first);
        let mut partial;
        let st = if rows == per_batch {
            if full.is_none() {
                full = Some(conn.prepare(&values_sql(head, columns, per_batch))?);
            }
            full.as_mut().expect("prepared just above")
        } else {
            partial = conn.prepare(&values_sql(head, columns, rows))?;
            &mut partial
        };
        for r in 0..rows {
            bind(st, r * columns + 1, first + r)?;
        }
        st.raw_execute()?;
    }
    Ok(())
}

/// [`insert_rows`] for a writer that inserts many short runs on one connection (the cases'
/// writer: a run of 4,096 cases at a time): `insert` is the statement's head (`INSERT [OR
/// IGNORE] INTO table (columns)`), `row` one row with `columns` parameters (constants allowed,
/// e.g. `(?,?,'open')`), batches of [`rows_per_batch`] rows, and the statements stay in the
/// connection's cache, so each run does not parse them again.
pub fn insert_rows_cached<T>(
    conn: &Connection,
    insert: &str,
    row: &str,
    columns: usize,
    items: &[T],
    mut bind: impl FnMut(&mut Statement<'_>, usize, &T) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    debug_assert_eq!(row.matches('?').count(), columns);
    for chunk in items.chunks(rows_per_batch(columns)) {
        let mut st = conn.prepare_cached(&values_sql_with(insert, row, chunk.len()))?;
        for (r, item) in chunk.iter().enumerate() {
            bind(&mut st, r * columns + 1, item)?;
        }
        st.raw_execute()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_sql_repeats_the_row() {
        assert_eq!(
            values_sql("t (a, b)", 2, 3),
            "INSERT OR FAIL INTO t (a, b) VALUES (?,?),(?,?),(?,?)"
        );
        assert_eq!(
            values_sql_with("INSERT OR IGNORE INTO t", "(?,'open')", 1),
            "INSERT OR IGNORE INTO t VALUES (?,'open')"
        );
    }

    #[test]
    fn insert_rows_writes_full_and_partial_batches() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (a INTEGER, b TEXT)")
            .unwrap();
        let items: Vec<(i64, String)> = (0..(MAX_ROWS as i64 * 2 + 7))
            .map(|i| (i, format!("v{i}")))
            .collect();
        insert_rows(&conn, "t", 2, &items, |st, i, (a, b)| {
            st.raw_bind_parameter(i, a)?;
            st.raw_bind_parameter(i + 1, b)
        })
        .unwrap();
        let (n, sum): (i64, i64) = conn
            .query_row("SELECT count(*), sum(a) FROM t", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(n, items.len() as i64);
        assert_eq!(sum, items.iter().map(|x| x.0).sum::<i64>());
    }

    #[test]
    fn insert_rows_cached_keeps_constants_and_ignores() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT, c TEXT)")
            .unwrap();
        let items: Vec<i64> = (0..(MAX_ROWS as i64 + 3)).chain([0, 1]).collect();
        for _ in 0..2 {
            insert_rows_cached(
                &conn,
                "INSERT OR IGNORE INTO t (a, b, c)",
                "(?,?,'k')",
                2,
                &items,
                |st, i, a| {
                    st.raw_bind_parameter(i, a)?;
                    st.raw_bind_parameter(i + 1, format!("v{a}"))
                },
            )
            .unwrap();
        }
        let (n, k): (i64, i64) = conn
            .query_row(
                "SELECT count(*), count(*) FILTER (WHERE c = 'k') FROM t",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((n, k), (MAX_ROWS as i64 + 3, MAX_ROWS as i64 + 3));
    }

    /// `OR FAIL` (no statement journal) must still fail on a broken constraint, and a rolled
    /// back savepoint must leave none of the failed batch's earlier rows behind.
    #[test]
    fn a_broken_constraint_fails_and_the_rollback_keeps_nothing() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL)")
            .unwrap();
        // The duplicate key comes late in the first full batch: rows before it are inserted
        // by the failing statement itself.
        let mut items: Vec<i64> = (0..MAX_ROWS as i64 * 2).collect();
        items[MAX_ROWS - 2] = 5;
        conn.execute_batch("SAVEPOINT s").unwrap();
        let e = insert_rows(&conn, "t (a, b)", 2, &items, |st, i, a| {
            st.raw_bind_parameter(i, a)?;
            st.raw_bind_parameter(i + 1, "v")
        })
        .unwrap_err();
        assert!(e.to_string().contains("UNIQUE"), "{e}");
        let inside: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            inside,
            MAX_ROWS as i64 - 2,
            "OR FAIL keeps the statement's earlier rows"
        );
        conn.execute_batch("ROLLBACK TO s; RELEASE s").unwrap();
        let after: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(after, 0);
    }
}

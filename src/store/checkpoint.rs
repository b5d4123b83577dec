//! WAL checkpoints off the writer's path.
//!
//! In WAL mode every commit that leaves more than `wal_autocheckpoint` pages in the log makes
//! the committing connection copy the log into the database before it returns: for a sweep's
//! flags that is as long again as writing them. A sweep turns automatic checkpoints off on its
//! connection and lets a [`Checkpointer`] copy committed pages from its own connection, on its
//! own thread, while the sweep computes or writes on; SQLite lets a passive checkpoint run
//! beside a writer. What is left when the sweep ends is copied by [`Checkpointer::finish`].

use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// How often the background thread looks for committed pages to copy.
const PERIOD: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("数据库错误 / database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("无法启动检查点线程 / cannot start the checkpoint thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// A thread running passive checkpoints on a database until [`Checkpointer::finish`].
pub struct Checkpointer {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<Result<(), rusqlite::Error>>,
}

/// Turns the automatic checkpoint of `conn` off (0) or sets its page threshold.
pub fn set_auto_checkpoint(conn: &Connection, pages: i64) -> Result<(), rusqlite::Error> {
    conn.pragma_update(None, "wal_autocheckpoint", pages)
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` (opened again, read-write) every
    /// [`PERIOD`].
    pub fn start(path: &Path) -> Result<Checkpointer, CheckpointError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(super::BUSY_TIMEOUT)?;
        // This connection only checkpoints: closing it must not checkpoint a second time.
        set_auto_checkpoint(&conn, 0)?;
        // Nothing is ever sent: dropping the sender is the signal to stop.
        let (stop, wake) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || loop {
                // A passive checkpoint copies what is committed and never waits for locks.
                conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
                match wake.recv_timeout(PERIOD) {
                    Ok(()) | Err(mpsc::RecvTimeoutError::Timeout) => continue,
                    Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
                }
            })?;
        Ok(Checkpointer { stop, thread })
    }

    /// Stops the thread, then checkpoints what is left on `conn` and truncates the log.
    pub fn finish(self, conn: &Connection) -> Result<(), CheckpointError> {
        drop(self.stop);
        let background = self
            .thread
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(background?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal_frames(conn: &Connection) -> (i64, i64) {
        // (frames in the log, frames checkpointed) as a no-op passive checkpoint reports them.
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(1)?, r.get(2)?))
        })
        .unwrap()
    }

    #[test]
    fn committed_pages_reach_the_database_without_automatic_checkpoints() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let conn = super::super::open(&path).unwrap();
        set_auto_checkpoint(&conn, 0).unwrap();
        let cp = Checkpointer::start(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (x TEXT); BEGIN;")
            .unwrap();
        for i in 0..20_000 {
            conn.execute("INSERT INTO t VALUES (?1)", [format!("row {i:>40}")])
                .unwrap();
        }
        conn.execute_batch("COMMIT").unwrap();
        cp.finish(&conn).unwrap();
        // TRUNCATE left an empty log: everything is in the database file.
        assert_eq!(wal_frames(&conn), (0, 0));
        let n: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 20_000);
        let other = Connection::open(&path).unwrap();
        let n: i64 = other
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 20_000);
    }
}

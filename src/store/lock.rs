//! One state of the ledger per reader: an ingest changes the ledger under an exclusive lock,
//! and a sweep or a report reads it under a shared one, so neither reads a state an ingest is
//! half-way through (a sweep's snapshot is read by several connections, which a single read
//! transaction would not cover). The lock is `flock(2)` on `<database>.lock` beside the
//! database: released by the kernel when the process ends, even on kill -9.
//!
//! A process that has to wait says so on standard error, then waits.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Shared (sweeps, reports) or exclusive (ingest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockMode {
    Shared,
    Exclusive,
}

/// A held lock on a database's ledger; released when dropped.
#[derive(Debug)]
pub struct LedgerLock {
    _file: File,
}

/// The lock file of a database.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl LedgerLock {
    /// Takes the lock of the database at `db`, waiting (with a message on standard error) while
    /// another process holds it in a conflicting mode.
    pub fn acquire(db: &Path, mode: LockMode) -> std::io::Result<LedgerLock> {
        let path = lock_path(db);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        let op = match mode {
            LockMode::Shared => libc::LOCK_SH,
            LockMode::Exclusive => libc::LOCK_EX,
        };
        if !flock(&file, op | libc::LOCK_NB)? {
            eprintln!(
                "claimsweep: {}",
                match mode {
                    LockMode::Shared => format!(
                        "{}: 正在导入，等待导入完成后再读取 / an ingest is in progress, waiting for it to finish",
                        db.display()
                    ),
                    LockMode::Exclusive => format!(
                        "{}: 正在筛查或生成报告，等待其完成 / a sweep or report is reading the ledger, waiting for it to finish",
                        db.display()
                    ),
                }
            );
            flock(&file, op)?;
        }
        Ok(LedgerLock { _file: file })
    }

    /// The lock of the database a connection has open; `None` for an in-memory database.
    pub fn for_connection(
        conn: &rusqlite::Connection,
        mode: LockMode,
    ) -> std::io::Result<Option<LedgerLock>> {
        match conn.path().filter(|p| !p.is_empty()) {
            Some(p) => LedgerLock::acquire(Path::new(p), mode).map(Some),
            None => Ok(None),
        }
    }
}

/// `flock`; `Ok(false)` when a non-blocking request would block.
fn flock(file: &File, op: libc::c_int) -> std::io::Result<bool> {
    loop {
        // SAFETY: flock on a descriptor this function's caller owns for the call's duration.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EWOULDBLOCK) => return Ok(false),
            Some(libc::EINTR) => continue,
            _ => return Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_locks_coexist_and_exclude_an_exclusive_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        let a = LedgerLock::acquire(&db, LockMode::Shared).unwrap();
        let _b = LedgerLock::acquire(&db, LockMode::Shared).unwrap();
        // A separate open file description: flock locks are per description.
        let probe = File::options().write(true).open(lock_path(&db)).unwrap();
        assert!(!flock(&probe, libc::LOCK_EX | libc::LOCK_NB).unwrap());
        drop(a);
        drop(_b);
        assert!(flock(&probe, libc::LOCK_EX | libc::LOCK_NB).unwrap());
    }
}

//! Free disk before a sweep: a sweep that runs out of disk fails at its end, after all its
//! work (the first sweep of 100 M claims stopped at its last checkpoint after 12 minutes), so
//! the room it may need is checked, and said, before it starts.

use std::path::Path;

/// The share of the database's size a sweep has needed free. The first sweep of 100 M claims
/// on a 44.5 GB database stopped, out of disk, at its last checkpoint: the database had grown
/// by 13.7 GB and its write-ahead log held 10.3 GB, and the checkpoint, finished once room was
/// made, grew the database by 2.2 GB more while the log was still there: 26.2 GB (0.59 ×) in
/// all. A second sweep adds less.
const SWEEP_NEEDS_PERCENT_OF_DB: u64 = 60;

/// Bytes free to this user on the file system holding `path`, if the system says.
pub fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs writes into the zeroed struct it is given; `c` is NUL-terminated.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// The write-ahead log beside the database `db` (SQLite names it `<db>-wal`).
pub fn wal_path(db: &Path) -> std::path::PathBuf {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    wal.into()
}

/// The database's size on disk: its file and its write-ahead log.
fn database_bytes(db: &Path) -> u64 {
    let len = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    len(db) + len(&wal_path(db))
}

/// A warning when the disk holding `db` has less free than a sweep of it may need
/// ([`SWEEP_NEEDS_PERCENT_OF_DB`] of its size); `None` when there is room or the free space is
/// not known.
pub fn sweep_room_warning(db: &Path) -> Option<String> {
    room_warning_for(db, Room::Sweep)
}

/// [`sweep_room_warning`] for `sweep --dry-run`, which first copies the database beside it
/// (`VACUUM INTO`, at most its size) and then sweeps the copy.
pub fn dry_run_room_warning(db: &Path) -> Option<String> {
    room_warning_for(db, Room::DryRun)
}

/// What the free disk is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Room {
    Sweep,
    DryRun,
}

fn room_warning_for(db: &Path, room: Room) -> Option<String> {
    let folder = match db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    room_warning(db, free_bytes(folder)?, database_bytes(db), room)
}

/// The warning for a database of `size` bytes with `free` bytes free beside it.
fn room_warning(db: &Path, free: u64, size: u64, room: Room) -> Option<String> {
    let sweep = size / 100 * SWEEP_NEEDS_PERCENT_OF_DB;
    let need = match room {
        Room::Sweep => sweep,
        Room::DryRun => size + sweep,
    };
    if free >= need {
        return None;
    }
    let gb = |b: u64| format!("{:.1}", b as f64 / 1e9);
    let (free, need, size, share) = (gb(free), gb(need), gb(size), SWEEP_NEEDS_PERCENT_OF_DB);
    Some(match room {
        Room::Sweep => format!(
            "{p}: 磁盘可用空间 {free} GB，筛查可能需要约 {need} GB（数据库 {size} GB 的 {share}%）；空间不足时筛查会在最后写入时失败，已完成的工作不会保存为一次完整的筛查 / {free} GB free on disk, and a sweep of this {size} GB database may need about {need} GB ({share} % of it): out of disk, the sweep fails at its last writes, after its work",
            p = db.display(),
        ),
        Room::DryRun => format!(
            "{p}: 磁盘可用空间 {free} GB，试运行先在旁边复制数据库（{size} GB）再筛查副本，可能需要约 {need} GB（数据库的 100% 加 {share}%）；空间不足时试运行会失败 / {free} GB free on disk, and a dry run copies this {size} GB database beside it and sweeps the copy: it may need about {need} GB (100 % of it and {share} %); out of disk, the dry run fails",
            p = db.display(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_is_known_for_a_folder_and_not_for_a_missing_one() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_bytes(dir.path()).is_some_and(|b| b > 0));
        assert_eq!(free_bytes(&dir.path().join("missing")), None);
    }

    #[test]
    fn a_small_database_on_a_disk_with_room_gets_no_warning() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        std::fs::write(&db, vec![0u8; 4096]).unwrap();
        assert_eq!(sweep_room_warning(&db), None);
    }

    #[test]
    fn the_warning_comes_below_the_share_and_names_the_database_and_both_sizes() {
        let db = Path::new("big.db");
        // The first sweep of 100 M claims had 24.0 GB free beside its 44.5 GB database, and
        // needed 26.2 GB.
        assert_eq!(
            room_warning(db, 26_700_000_000, 44_500_000_000, Room::Sweep),
            None
        );
        assert!(room_warning(db, 26_699_999_999, 44_500_000_000, Room::Sweep).is_some());
        let w = room_warning(db, 24_000_000_000, 44_500_000_000, Room::Sweep).unwrap();
        assert!(w.starts_with("big.db: "), "{w}");
        for part in [
            "24.0 GB free",
            "44.5 GB database",
            "about 26.7 GB (60 % of it)",
        ] {
            assert!(w.contains(part), "{part}: {w}");
        }
    }

    #[test]
    fn a_dry_run_needs_room_for_the_copy_and_its_sweep() {
        let db = Path::new("big.db");
        // The copy (at most the database's size) and a sweep of it: 44.5 + 26.7 GB.
        assert_eq!(
            room_warning(db, 71_200_000_000, 44_500_000_000, Room::DryRun),
            None
        );
        let w = room_warning(db, 71_199_999_999, 44_500_000_000, Room::DryRun).unwrap();
        assert!(w.contains("a dry run copies this 44.5 GB database"), "{w}");
        assert!(w.contains("about 71.2 GB"), "{w}");
        // What a sweep alone would have room for.
        assert_eq!(
            room_warning(db, 30_000_000_000, 44_500_000_000, Room::Sweep),
            None
        );
        assert!(room_warning(db, 30_000_000_000, 44_500_000_000, Room::DryRun).is_some());
    }
}

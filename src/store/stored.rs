//! The rows a table holds before an ingest, as the ingest matches the extract against them.
//!
//! A re-ingest reads every stored row's key, fingerprint and rowid once, then takes each
//! extract row's key out of them: what it finds is unchanged or changed, what it does not is
//! new, and what is never taken is absent. A hash map of `String` keys spent most of a 10 M
//! claim re-ingest inserting and removing keys (a cache miss or two each). Here the keys are
//! stored end to end in rowid order, and an extract in the stored order (a bureau's cumulative
//! export: the rows of last time, then the new ones) finds each key at a cursor, comparing a
//! few bytes; only a key not at the cursor is looked up in a hash index, built on first need.

use crate::intern::{Interner, Packed, StrColumn};
use std::sync::mpsc::Receiver;

/// Stored rows of one table in rowid order: key, fingerprint and rowid of each. They arrive
/// run by run ([`StoredRows::arriving`]), from a scan on a thread of its own while the extract
/// is matched against them, or queued by a scan that ran first.
pub struct StoredRows {
    /// Row `k`'s key is item `k + 1` (item 0 is the interner's empty string).
    keys: Keys,
    fingerprints: Vec<u64>,
    rowids: Vec<i64>,
    /// The line of the extract row that took each row ([`UNTAKEN`] until one does).
    taken_at: Vec<u64>,
    /// The stored row with the empty key, if one has it (no key is expected empty: it is
    /// kept apart from the interner's own empty string).
    empty_key: Option<usize>,
    /// The row after the last one taken: where the next key of an extract in stored order is.
    next: usize,
    untaken: usize,
    /// Keys looked up in the hash index (not found at the cursor).
    index_lookups: u64,
    /// Runs of rows still to come, in rowid order; `None` once every row is in.
    arriving: Option<Receiver<StoredRun>>,
}

/// What [`StoredRows::take`] found of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Taken {
    /// A stored row, taken now.
    Stored { fingerprint: u64, rowid: i64 },
    /// A stored row an earlier extract row took: the key is repeated.
    Again { first_line: u64 },
    /// No stored row has the key.
    NotStored,
}

/// `taken_at` of a row no extract row took.
const UNTAKEN: u64 = u64::MAX;

/// The keys while rows arrive, then (every row in) an interner that looks keys up.
enum Keys {
    Arriving(StrColumn<Packed>),
    All(Interner<Packed>),
}

impl Keys {
    fn strings(&self) -> &StrColumn<Packed> {
        match self {
            Keys::Arriving(c) => c,
            Keys::All(i) => i.strings(),
        }
    }
}

/// Consecutive stored rows in rowid order, as a scan hands them over.
#[derive(Default)]
pub struct StoredRun {
    /// Row `k`'s key is item `k` (the empty key stands as a placeholder, see `empty_key`).
    keys: StrColumn<Packed>,
    fingerprints: Vec<u64>,
    rowids: Vec<i64>,
    /// The row of the run with the empty key.
    empty_key: Option<usize>,
}

impl StoredRun {
    /// Adds the next stored row (rowids ascending, keys distinct: the table's primary key).
    pub fn push(&mut self, key: &str, fingerprint: u64, rowid: i64) {
        debug_assert!(self.rowids.last().is_none_or(|&r| r < rowid));
        if key.is_empty() {
            self.empty_key = Some(self.rowids.len());
        }
        // The empty key's placeholder is no extract key at the cursor (`StoredRows::at_cursor`).
        self.keys.push(key);
        self.fingerprints.push(fingerprint);
        self.rowids.push(rowid);
    }

    pub fn len(&self) -> usize {
        self.rowids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rowids.is_empty()
    }
}

impl StoredRows {
    /// Stored rows that arrive from `runs` in rowid order while the extract is matched: a key
    /// at the cursor is taken as soon as its run is in; any other waits for every run. A
    /// closed channel means every row is in (a scan that failed says so where it is joined).
    pub fn arriving(runs: Receiver<StoredRun>) -> StoredRows {
        let mut keys = StrColumn::new();
        keys.push("");
        StoredRows {
            keys: Keys::Arriving(keys),
            fingerprints: Vec::new(),
            rowids: Vec::new(),
            taken_at: Vec::new(),
            empty_key: None,
            next: 0,
            untaken: 0,
            index_lookups: 0,
            arriving: Some(runs),
        }
    }

    fn add(&mut self, run: StoredRun) {
        let Keys::Arriving(keys) = &mut self.keys else {
            unreachable!("runs arrive before the channel closes");
        };
        if let Some(e) = run.empty_key {
            self.empty_key = Some(self.rowids.len() + e);
        }
        keys.append(&run.keys);
        self.fingerprints.extend_from_slice(&run.fingerprints);
        self.rowids.extend_from_slice(&run.rowids);
        self.untaken += run.len();
        self.taken_at.resize(self.rowids.len(), UNTAKEN);
    }

    /// Waits for the next run of rows; false when every row is in.
    fn next_run(&mut self) -> bool {
        let Some(runs) = &self.arriving else {
            return false;
        };
        match runs.recv() {
            Ok(run) => {
                self.add(run);
                true
            }
            Err(_) => {
                self.arriving = None;
                false
            }
        }
    }

    /// Waits for every row; their keys then go into the interner that looks keys up.
    fn all_rows(&mut self) {
        while self.next_run() {}
        if let Keys::Arriving(keys) = &mut self.keys {
            let keys = std::mem::take(keys);
            self.keys = Keys::All(Interner::from_sealed_strings(keys));
        }
    }

    /// Takes the stored row with `key` out for the extract row on `line`: its fingerprint and
    /// rowid, the line of the extract row that took it before (a repeated key), or nothing
    /// stored (a new row). `maybe_seen` is false when no earlier extract row can have had the
    /// key (the parser's filter says so): once every stored row is taken, such a key is new
    /// without a look.
    pub fn take(&mut self, key: &str, line: u64, maybe_seen: bool) -> Taken {
        let row = loop {
            if key.is_empty() {
                self.all_rows();
                match self.empty_key {
                    Some(row) => break row,
                    None => return Taken::NotStored,
                }
            }
            if self.at_cursor(key) {
                break self.next;
            }
            if self.next >= self.rowids.len() && self.arriving.is_some() {
                self.next_run();
                continue;
            }
            self.all_rows();
            if self.untaken == 0 && !maybe_seen {
                return Taken::NotStored;
            }
            self.index_lookups += 1;
            let Keys::All(index) = &self.keys else {
                unreachable!("every row is in");
            };
            // Interned ids other than 0 are stored rows; the empty key was handled above.
            match index.get(key) {
                Some(id) if id > 0 => break id as usize - 1,
                _ => return Taken::NotStored,
            }
        };
        let first = std::mem::replace(&mut self.taken_at[row], line);
        if first != UNTAKEN {
            self.taken_at[row] = first;
            return Taken::Again { first_line: first };
        }
        self.untaken -= 1;
        self.next = row + 1;
        Taken::Stored {
            fingerprint: self.fingerprints[row],
            rowid: self.rowids[row],
        }
    }

    /// Whether the row at the cursor has `key` (not empty).
    fn at_cursor(&self, key: &str) -> bool {
        self.next < self.rowids.len()
            && self.empty_key != Some(self.next)
            && self.keys.strings().holds(self.next as u32 + 1, key)
    }

    /// The rowids of the rows never taken, ascending (after waiting for every row).
    pub fn untaken_rowids(&mut self) -> Vec<i64> {
        self.all_rows();
        self.rowids
            .iter()
            .zip(&self.taken_at)
            .filter(|(_, &line)| line == UNTAKEN)
            .map(|(&rowid, _)| rowid)
            .collect()
    }

    /// Keys that were not at the cursor and were looked up in the hash index.
    pub fn index_lookups(&self) -> u64 {
        self.index_lookups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `take` of a key no earlier extract row had (the filter says so): the stored row's
    /// fingerprint and rowid, or `None` (not stored, or taken before).
    trait TakeOnce {
        fn take1(&mut self, key: &str) -> Option<(u64, i64)>;
    }

    impl TakeOnce for StoredRows {
        fn take1(&mut self, key: &str) -> Option<(u64, i64)> {
            match self.take(key, 2, false) {
                Taken::Stored { fingerprint, rowid } => Some((fingerprint, rowid)),
                Taken::Again { .. } | Taken::NotStored => None,
            }
        }
    }

    #[test]
    fn a_repeated_key_names_the_line_that_took_its_row_first() {
        for per_run in [1, 2, 10] {
            let mut s = arriving(&["A1", "A2", "A3", "", "A5"], per_run);
            let stored = |fingerprint, rowid| Taken::Stored { fingerprint, rowid };
            assert_eq!(s.take("A2", 7, false), stored(101, 20));
            assert_eq!(s.take("A2", 8, true), Taken::Again { first_line: 7 });
            assert_eq!(s.take("", 9, false), stored(103, 40));
            assert_eq!(s.take("", 10, true), Taken::Again { first_line: 9 });
            for (k, key) in ["A1", "A3", "A5"].iter().enumerate() {
                assert!(matches!(
                    s.take(key, 11 + k as u64, false),
                    Taken::Stored { .. }
                ));
            }
            // Every row taken: a key the filter has not seen is new without a look; one it
            // may have seen is looked up, and a repeat of a stored key is found.
            let looked = s.index_lookups();
            assert_eq!(s.take("B1", 20, false), Taken::NotStored);
            assert_eq!(s.index_lookups(), looked);
            assert_eq!(s.take("B1", 21, true), Taken::NotStored);
            assert_eq!(s.take("A5", 22, true), Taken::Again { first_line: 13 });
            assert_eq!(s.index_lookups(), looked + 2);
            assert!(s.untaken_rowids().is_empty());
        }
    }

    /// Stored rows with `keys`, in one run queued before matching (as a scan that ran first
    /// leaves them): row `k` has fingerprint `100 + k` and rowid `10 (k + 1)`.
    fn stored(keys: &[&str]) -> StoredRows {
        let mut run = StoredRun::default();
        for (k, key) in keys.iter().enumerate() {
            run.push(key, 100 + k as u64, 10 * (k as i64 + 1));
        }
        let (to, runs) = std::sync::mpsc::channel();
        to.send(run).unwrap();
        StoredRows::arriving(runs)
    }

    /// The rows of [`stored`] arriving `per_run` at a time from a thread that hands each run
    /// over only when the matching asks for it (a rendezvous channel).
    fn arriving(keys: &[&str], per_run: usize) -> StoredRows {
        let (to, runs) = std::sync::mpsc::sync_channel(0);
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        std::thread::spawn(move || {
            for (r, chunk) in keys.chunks(per_run).enumerate() {
                let mut run = StoredRun::default();
                for (j, key) in chunk.iter().enumerate() {
                    let k = r * per_run + j;
                    run.push(key, 100 + k as u64, 10 * (k as i64 + 1));
                }
                if to.send(run).is_err() {
                    return;
                }
            }
        });
        StoredRows::arriving(runs)
    }

    #[test]
    fn rows_arriving_run_by_run_match_as_rows_there_from_the_start() {
        let keys: Vec<String> = (0..40).map(|k| format!("SQ{k:04}")).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        // In stored order, one left out, then a new key: taken at the cursor as runs come.
        let mut s = arriving(&refs, 3);
        for (k, key) in refs.iter().enumerate().filter(|(k, _)| *k != 20) {
            assert_eq!(s.take1(key), Some((100 + k as u64, 10 * (k as i64 + 1))));
        }
        assert_eq!(s.take1("SQ9999"), None);
        // SQ0021 (not at the cursor, SQ0020 was) and the new key waited for every row.
        assert_eq!(s.index_lookups(), 2);
        assert_eq!(s.untaken_rowids(), vec![210]);
        // A key of a run not yet arrived, taken before the cursor reaches it; then the rows
        // before it in order; rows never reached are absent.
        for per_run in [1, 4, 40, 100] {
            let mut s = arriving(&refs, per_run);
            assert_eq!(s.take1("SQ0030"), Some((130, 310)));
            assert_eq!(s.take1("SQ0000"), Some((100, 10)));
            assert_eq!(s.take1("SQ0001"), Some((101, 20)));
            assert_eq!(s.take1("SQ0030"), None, "taken once");
            let absent: Vec<i64> = (2..40).filter(|&k| k != 30).map(|k| 10 * (k + 1)).collect();
            assert_eq!(s.untaken_rowids(), absent, "{per_run} a run");
        }
        // The empty key in a run still to come.
        let mut s = arriving(&["K1", "K2", "", "K4"], 1);
        assert_eq!(s.take1("K1"), Some((100, 10)));
        assert_eq!(s.take1(""), Some((102, 30)));
        assert_eq!(s.take1("K2"), Some((101, 20)));
        assert_eq!(s.take1("K4"), Some((103, 40)));
        // Nothing stored: the closed channel says every row is in.
        let mut none = arriving(&[], 1);
        assert_eq!(none.take1("K1"), None);
        assert!(none.untaken_rowids().is_empty());
    }

    #[test]
    fn an_extract_in_stored_order_is_matched_at_the_cursor_without_the_index() {
        let mut s = stored(&["SQ0001", "SQ0002", "SQ0003", "SQ0004"]);
        // The stored rows, one left out (absent), then a new one.
        assert_eq!(s.take1("SQ0001"), Some((100, 10)));
        assert_eq!(s.take1("SQ0002"), Some((101, 20)));
        assert_eq!(s.take1("SQ0004"), Some((103, 40)));
        assert_eq!(s.take1("SQ0009"), None);
        // "SQ0004" was not at the cursor (SQ0003 was): one lookup; the new key found none
        // at the cursor (past the end) and one more.
        assert_eq!(s.index_lookups(), 2);
        assert_eq!(s.untaken_rowids(), vec![30]);
    }

    #[test]
    fn in_order_with_new_rows_after_every_stored_one_needs_no_lookup() {
        let mut s = stored(&["A1", "A2", "A3"]);
        for (k, key) in ["A1", "A2", "A3"].iter().enumerate() {
            assert_eq!(s.take1(key), Some((100 + k as u64, 10 * (k as i64 + 1))));
        }
        // Every stored row taken: the rest are new without a look.
        assert_eq!(s.take1("A4"), None);
        assert_eq!(s.take1("A5"), None);
        assert_eq!(s.index_lookups(), 0);
        assert!(s.untaken_rowids().is_empty());
    }

    #[test]
    fn any_order_finds_each_stored_row_once() {
        let keys: Vec<String> = (0..500)
            .map(|k| format!("{:018}", k * 7919 % 1000))
            .collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let mut s = stored(&refs);
        // Reverse order, every other row, each twice.
        for k in (0..500).rev().step_by(2) {
            assert_eq!(
                s.take1(&keys[k]),
                Some((100 + k as u64, 10 * (k as i64 + 1)))
            );
            assert_eq!(s.take1(&keys[k]), None, "a key is taken once");
        }
        assert_eq!(s.take1("no such key"), None);
        let left: Vec<i64> = (0..500)
            .filter(|k| k % 2 == 0)
            .map(|k| 10 * (k as i64 + 1))
            .collect();
        assert_eq!(s.untaken_rowids(), left);
    }

    #[test]
    fn the_empty_key_is_a_stored_row_like_any_other() {
        let mut s = stored(&["K1", "", "K3"]);
        assert_eq!(s.take1("K1"), Some((100, 10)));
        // At the cursor the empty-key row is not matched by text, but by its own slot.
        assert_eq!(s.take1(""), Some((101, 20)));
        assert_eq!(s.take1(""), None);
        assert_eq!(s.take1("K3"), Some((102, 30)));
        let mut none = stored(&["K1"]);
        assert_eq!(none.take1(""), None, "no stored row has the empty key");
        assert_eq!(none.untaken_rowids(), vec![10]);
    }

    #[test]
    fn keys_that_pack_and_keys_that_do_not_compare_as_written() {
        // Digit keys are stored packed, others as written: the cursor compares stored forms.
        let mut s = stored(&[
            "371326198905271763",
            "37132619890527176X",
            "中文键",
            "a\u{1f}b",
        ]);
        assert_eq!(s.take1("371326198905271763"), Some((100, 10)));
        assert_eq!(s.take1("37132619890527176x"), None, "case differs");
        assert_eq!(s.take1("37132619890527176X"), Some((101, 20)));
        assert_eq!(s.take1("中文键"), Some((102, 30)));
        assert_eq!(s.take1("a\u{1f}b"), Some((103, 40)));
        assert_eq!(s.index_lookups(), 1);
    }
}

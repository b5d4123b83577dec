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

/// Stored rows of one table in rowid order: key, fingerprint and rowid of each.
pub struct StoredRows {
    /// Row `k`'s key is item `k + 1` (item 0 is the interner's empty string).
    keys: Interner<Packed>,
    fingerprints: Vec<u64>,
    rowids: Vec<i64>,
    taken: Vec<bool>,
    /// The stored row with the empty key, if one has it (no key is expected empty: it is
    /// kept apart from the interner's own empty string).
    empty_key: Option<usize>,
    /// The row after the last one taken: where the next key of an extract in stored order is.
    next: usize,
    untaken: usize,
    /// Keys looked up in the hash index (not found at the cursor).
    index_lookups: u64,
}

/// Builds [`StoredRows`] from rows pushed in rowid order.
pub struct StoredRowsBuilder {
    keys: StrColumn<Packed>,
    fingerprints: Vec<u64>,
    rowids: Vec<i64>,
    empty_key: Option<usize>,
}

impl Default for StoredRowsBuilder {
    fn default() -> Self {
        let mut keys = StrColumn::new();
        keys.push("");
        StoredRowsBuilder {
            keys,
            fingerprints: Vec::new(),
            rowids: Vec::new(),
            empty_key: None,
        }
    }
}

impl StoredRowsBuilder {
    /// Adds the next stored row (rowids ascending, keys distinct: the table's primary key).
    pub fn push(&mut self, key: &str, fingerprint: u64, rowid: i64) {
        debug_assert!(self.rowids.last().is_none_or(|&r| r < rowid));
        if key.is_empty() {
            self.empty_key = Some(self.rowids.len());
            // A placeholder no extract key equals at the cursor (see `StoredRows::at_cursor`).
            self.keys.push("");
        } else {
            self.keys.push(key);
        }
        self.fingerprints.push(fingerprint);
        self.rowids.push(rowid);
    }

    pub fn finish(self) -> StoredRows {
        let n = self.rowids.len();
        StoredRows {
            keys: Interner::from_sealed_strings(self.keys),
            fingerprints: self.fingerprints,
            rowids: self.rowids,
            taken: vec![false; n],
            empty_key: self.empty_key,
            next: 0,
            untaken: n,
            index_lookups: 0,
        }
    }
}

impl StoredRows {
    /// Takes the stored row with `key` out: its fingerprint and rowid, or `None` when no row
    /// not yet taken has it (a new row, or the extract's second row of that key).
    pub fn take(&mut self, key: &str) -> Option<(u64, i64)> {
        if self.untaken == 0 {
            return None;
        }
        let row = if key.is_empty() {
            self.empty_key?
        } else if self.at_cursor(key) {
            self.next
        } else {
            self.index_lookups += 1;
            // Interned ids other than 0 are stored rows; the empty key was handled above.
            match self.keys.get(key) {
                Some(id) if id > 0 => id as usize - 1,
                _ => return None,
            }
        };
        if std::mem::replace(&mut self.taken[row], true) {
            return None;
        }
        self.untaken -= 1;
        self.next = row + 1;
        Some((self.fingerprints[row], self.rowids[row]))
    }

    /// Whether the row at the cursor has `key` (not empty).
    fn at_cursor(&self, key: &str) -> bool {
        self.next < self.rowids.len()
            && self.empty_key != Some(self.next)
            && self.keys.strings().holds(self.next as u32 + 1, key)
    }

    /// The rowids of the rows never taken, ascending.
    pub fn untaken_rowids(&self) -> Vec<i64> {
        self.rowids
            .iter()
            .zip(&self.taken)
            .filter(|(_, &taken)| !taken)
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

    fn stored(keys: &[&str]) -> StoredRows {
        let mut b = StoredRowsBuilder::default();
        for (k, key) in keys.iter().enumerate() {
            b.push(key, 100 + k as u64, 10 * (k as i64 + 1));
        }
        b.finish()
    }

    #[test]
    fn an_extract_in_stored_order_is_matched_at_the_cursor_without_the_index() {
        let mut s = stored(&["SQ0001", "SQ0002", "SQ0003", "SQ0004"]);
        // The stored rows, one left out (absent), then a new one.
        assert_eq!(s.take("SQ0001"), Some((100, 10)));
        assert_eq!(s.take("SQ0002"), Some((101, 20)));
        assert_eq!(s.take("SQ0004"), Some((103, 40)));
        assert_eq!(s.take("SQ0009"), None);
        // "SQ0004" was not at the cursor (SQ0003 was): one lookup; the new key found none
        // at the cursor (past the end) and one more.
        assert_eq!(s.index_lookups(), 2);
        assert_eq!(s.untaken_rowids(), vec![30]);
    }

    #[test]
    fn in_order_with_new_rows_after_every_stored_one_needs_no_lookup() {
        let mut s = stored(&["A1", "A2", "A3"]);
        for (k, key) in ["A1", "A2", "A3"].iter().enumerate() {
            assert_eq!(s.take(key), Some((100 + k as u64, 10 * (k as i64 + 1))));
        }
        // Every stored row taken: the rest are new without a look.
        assert_eq!(s.take("A4"), None);
        assert_eq!(s.take("A5"), None);
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
                s.take(&keys[k]),
                Some((100 + k as u64, 10 * (k as i64 + 1)))
            );
            assert_eq!(s.take(&keys[k]), None, "a key is taken once");
        }
        assert_eq!(s.take("no such key"), None);
        let left: Vec<i64> = (0..500)
            .filter(|k| k % 2 == 0)
            .map(|k| 10 * (k as i64 + 1))
            .collect();
        assert_eq!(s.untaken_rowids(), left);
    }

    #[test]
    fn the_empty_key_is_a_stored_row_like_any_other() {
        let mut s = stored(&["K1", "", "K3"]);
        assert_eq!(s.take("K1"), Some((100, 10)));
        // At the cursor the empty-key row is not matched by text, but by its own slot.
        assert_eq!(s.take(""), Some((101, 20)));
        assert_eq!(s.take(""), None);
        assert_eq!(s.take("K3"), Some((102, 30)));
        let mut none = stored(&["K1"]);
        assert_eq!(none.take(""), None, "no stored row has the empty key");
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
        assert_eq!(s.take("371326198905271763"), Some((100, 10)));
        assert_eq!(s.take("37132619890527176x"), None, "case differs");
        assert_eq!(s.take("37132619890527176X"), Some((101, 20)));
        assert_eq!(s.take("中文键"), Some((102, 30)));
        assert_eq!(s.take("a\u{1f}b"), Some((103, 40)));
        assert_eq!(s.index_lookups(), 1);
    }
}

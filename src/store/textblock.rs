//! Texts of numbered items stored compressed, a block of items per row: a sweep's flag
//! explanations (`flag_texts`, numbered by `flags.seq`) and its rings' texts (`ring_texts`,
//! numbered by `rings.ring_id`).
//!
//! A block row holds, per text column, the texts of items `first .. first + count` in order,
//! each as a little-endian `u32` length then its bytes, the whole zstd-compressed. The texts
//! of one kind of finding repeat their wording, so a block of them compresses to about an
//! eighth to a twelfth, where one text alone barely compresses.
//!
//! Invariant: a block's items are numbered without gaps; an item is in the block with the
//! largest `first` not above its number, if its number is below `first + count`.

use rusqlite::{params, Connection, OptionalExtension};
use std::collections::BTreeMap;
use std::rc::Rc;

/// Items per block.
pub const BLOCK: i64 = 1024;

/// zstd level of a block: the fastest (a block of flag explanations still comes to about
/// an eighth: 1 M claims, 10.7 MB for 90 MB).
const LEVEL: i32 = 1;

/// One block row: the texts of items `first .. first + count`, each column compressed.
#[derive(Debug)]
pub struct Block<const N: usize> {
    pub first: i64,
    pub count: i64,
    pub packed: [Vec<u8>; N],
}

/// Packs the texts of items, pushed in ascending number, into blocks of [`BLOCK`] items
/// (fewer when the numbers skip, or at the end).
#[derive(Debug)]
pub struct Packer<const N: usize> {
    /// Whether any item was pushed (then `first + count` is the number after the last).
    started: bool,
    first: i64,
    count: i64,
    texts: [Vec<u8>; N],
}

impl<const N: usize> Default for Packer<N> {
    fn default() -> Self {
        Packer {
            started: false,
            first: 0,
            count: 0,
            texts: std::array::from_fn(|_| Vec::new()),
        }
    }
}

impl<const N: usize> Packer<N> {
    /// The number the next item continues the current block with.
    fn next(&self) -> i64 {
        self.first + self.count
    }

    /// Adds the texts of item `number`; returns the blocks this completed (the one before, if
    /// `number` does not continue it; the current one, if it is full). A number not above the
    /// last one pushed is an error (two blocks would hold it).
    pub fn push(&mut self, number: i64, texts: [&str; N]) -> std::io::Result<Vec<Block<N>>> {
        let mut done = Vec::new();
        if self.started && number < self.next() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("item {number} pushed after item {}", self.next() - 1),
            ));
        }
        if self.count > 0 && number != self.next() {
            done.extend(self.finish()?);
        }
        if self.count == 0 {
            self.first = number;
        }
        self.started = true;
        for (buf, text) in self.texts.iter_mut().zip(texts) {
            buf.extend_from_slice(&(text.len() as u32).to_le_bytes());
            buf.extend_from_slice(text.as_bytes());
        }
        self.count += 1;
        if self.count == BLOCK {
            done.extend(self.finish()?);
        }
        Ok(done)
    }

    /// The block being filled (none if it is empty); the packer starts a new one after it.
    pub fn finish(&mut self) -> std::io::Result<Option<Block<N>>> {
        if self.count == 0 {
            return Ok(None);
        }
        let mut packed: [Vec<u8>; N] = std::array::from_fn(|_| Vec::new());
        for (out, texts) in packed.iter_mut().zip(&mut self.texts) {
            *out = zstd::bulk::compress(texts, LEVEL)?;
            texts.clear();
        }
        let block = Block {
            first: self.first,
            count: self.count,
            packed,
        };
        self.first = block.first + block.count;
        self.count = 0;
        Ok(Some(block))
    }
}

/// The texts of a decompressed column, in order.
fn split(bytes: &[u8]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let len = u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
        let text = bytes.get(at + 4..at + 4 + len)?;
        out.push(String::from_utf8(text.to_vec()).ok()?);
        at += 4 + len;
    }
    Some(out)
}

/// Where a kind of block is stored: the table, its item-number column and its text columns
/// (the table also has `sweep_id` and a count column).
#[derive(Clone, Copy, Debug)]
pub struct BlockTable<const N: usize> {
    pub table: &'static str,
    pub first: &'static str,
    pub count: &'static str,
    pub columns: [&'static str; N],
}

impl<const N: usize> BlockTable<N> {
    /// `INSERT` of one block row: `sweep_id, first, count`, then the columns.
    pub fn insert_sql(&self) -> String {
        format!(
            "INSERT INTO {} (sweep_id, {}, {}, {}) VALUES (?1, ?2, ?3, {})",
            self.table,
            self.first,
            self.count,
            self.columns.join(", "),
            (4..4 + N)
                .map(|k| format!("?{k}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    /// Stores `block` of `sweep_id` with `stmt`, prepared from [`BlockTable::insert_sql`].
    pub fn insert(
        stmt: &mut rusqlite::Statement<'_>,
        sweep_id: i64,
        block: &Block<N>,
    ) -> rusqlite::Result<()> {
        stmt.raw_bind_parameter(1, sweep_id)?;
        stmt.raw_bind_parameter(2, block.first)?;
        stmt.raw_bind_parameter(3, block.count)?;
        for (k, packed) in block.packed.iter().enumerate() {
            stmt.raw_bind_parameter(4 + k, packed.as_slice())?;
        }
        stmt.raw_execute()?;
        Ok(())
    }
}

/// One decompressed block: its first number and, per column, the texts in order.
type Texts<const N: usize> = (i64, [Vec<String>; N]);

/// Reads the texts of one sweep's items from their blocks. Keeps the blocks it decompressed
/// (a case's findings come from a few blocks); prepares its statement at the first read, so
/// a database from before the block table is read without it.
pub struct BlockReader<'c, const N: usize> {
    conn: &'c Connection,
    table: BlockTable<N>,
    sweep_id: i64,
    stmt: std::cell::RefCell<Option<rusqlite::Statement<'c>>>,
    blocks: std::cell::RefCell<BTreeMap<i64, Rc<Texts<N>>>>,
}

impl<'c, const N: usize> BlockReader<'c, N> {
    /// Blocks kept decompressed at most (then the cache starts again).
    const CACHED: usize = 64;

    pub fn new(conn: &'c Connection, table: BlockTable<N>, sweep_id: i64) -> Self {
        BlockReader {
            conn,
            table,
            sweep_id,
            stmt: Default::default(),
            blocks: Default::default(),
        }
    }

    /// The texts of item `number`, one per column; `None` when no block holds it. A block
    /// that does not decompress into texts is a database error.
    pub fn texts(&self, number: i64) -> rusqlite::Result<Option<[String; N]>> {
        let cached = self
            .blocks
            .borrow()
            .range(..=number)
            .next_back()
            .map(|(_, b)| b.clone());
        let block = match cached {
            Some(b) if number < b.0 + b.1[0].len() as i64 => b,
            _ => match self.read_block(number)? {
                Some(b) => b,
                None => return Ok(None),
            },
        };
        let k = (number - block.0) as usize;
        if block.1.iter().any(|column| column.len() <= k) {
            return Ok(None);
        }
        Ok(Some(std::array::from_fn(|c| block.1[c][k].clone())))
    }

    /// Fills `zh` and `en` from the first two columns of item `number` when both are empty (a
    /// row whose explanations are in a block); leaves them as they are otherwise (rows written
    /// before blocks hold them inline).
    pub fn fill(&self, number: i64, zh: &mut String, en: &mut String) -> rusqlite::Result<()> {
        if !zh.is_empty() || !en.is_empty() {
            return Ok(());
        }
        if let Some(texts) = self.texts(number)? {
            let mut texts = texts.into_iter();
            if let (Some(z), Some(e)) = (texts.next(), texts.next()) {
                *zh = z;
                *en = e;
            }
        }
        Ok(())
    }

    /// Reads and decompresses the block that would hold `number`.
    fn read_block(&self, number: i64) -> rusqlite::Result<Option<Rc<Texts<N>>>> {
        let mut stmt = self.stmt.borrow_mut();
        if stmt.is_none() {
            let t = &self.table;
            *stmt = Some(self.conn.prepare(&format!(
                "SELECT {first}, {count}, {columns} FROM {table}
                 WHERE sweep_id = ?1 AND {first} <= ?2 ORDER BY {first} DESC LIMIT 1",
                first = t.first,
                count = t.count,
                columns = t.columns.join(", "),
                table = t.table
            ))?);
        }
        let stmt = stmt.as_mut().expect("prepared above");
        let row = stmt
            .query_row(params![self.sweep_id, number], |r| {
                let mut packed: [Vec<u8>; N] = std::array::from_fn(|_| Vec::new());
                for (k, p) in packed.iter_mut().enumerate() {
                    *p = r.get(2 + k)?;
                }
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, packed))
            })
            .optional()?;
        let Some((first, count, packed)) = row else {
            return Ok(None);
        };
        if number >= first + count {
            return Ok(None);
        }
        let damaged = || {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Blob,
                format!(
                    "{} of sweep {} at {first}: not a block of {count} texts",
                    self.table.table, self.sweep_id
                )
                .into(),
            )
        };
        let mut texts: [Vec<String>; N] = std::array::from_fn(|_| Vec::new());
        for (out, z) in texts.iter_mut().zip(&packed) {
            *out = zstd::bulk::decompress(z, 256 << 20)
                .ok()
                .and_then(|b| split(&b))
                .filter(|t| t.len() as i64 == count)
                .ok_or_else(damaged)?;
        }
        let block = Rc::new((first, texts));
        let mut blocks = self.blocks.borrow_mut();
        if blocks.len() >= Self::CACHED {
            blocks.clear();
        }
        blocks.insert(first, block.clone());
        Ok(Some(block))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: BlockTable<2> = BlockTable {
        table: "t_texts",
        first: "first_n",
        count: "n",
        columns: ["a", "b"],
    };

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t_texts (sweep_id INTEGER, first_n INTEGER, n INTEGER, a BLOB, b BLOB,
             PRIMARY KEY (sweep_id, first_n))",
        )
        .unwrap();
        conn
    }

    fn store(conn: &Connection, sweep: i64, numbers: impl Iterator<Item = i64>) {
        let mut packer = Packer::<2>::default();
        let mut stmt = conn.prepare(&TABLE.insert_sql()).unwrap();
        for n in numbers {
            let (a, b) = (format!("a{n}"), format!("第{n}条"));
            for block in packer.push(n, [&a, &b]).unwrap() {
                BlockTable::insert(&mut stmt, sweep, &block).unwrap();
            }
        }
        if let Some(block) = packer.finish().unwrap() {
            BlockTable::insert(&mut stmt, sweep, &block).unwrap();
        }
    }

    /// Items come back from full blocks, from the partial last one and across a gap in the
    /// numbering; numbers in no block, and other sweeps' blocks, give nothing.
    #[test]
    fn texts_come_back_by_number_across_blocks_and_gaps() {
        let conn = db();
        // 1 ..= 2500 then 3000 ..= 3009: blocks at 1, 1025, 2049 (452 items), 3000 (10).
        store(&conn, 7, (1..=2500).chain(3000..3010));
        store(&conn, 8, 1..=3);
        let blocks: Vec<(i64, i64)> = conn
            .prepare("SELECT first_n, n FROM t_texts WHERE sweep_id = 7 ORDER BY first_n")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(blocks, [(1, 1024), (1025, 1024), (2049, 452), (3000, 10)]);
        let reader = BlockReader::new(&conn, TABLE, 7);
        for n in [1, 1024, 1025, 2048, 2049, 2500, 3000, 3009, 5, 1030] {
            assert_eq!(
                reader.texts(n).unwrap(),
                Some([format!("a{n}"), format!("第{n}条")]),
                "item {n}"
            );
        }
        for n in [0, 2501, 2999, 3010, -4] {
            assert_eq!(reader.texts(n).unwrap(), None, "item {n}");
        }
        assert_eq!(
            BlockReader::new(&conn, TABLE, 8).texts(4).unwrap(),
            None,
            "sweep 8 has 3 items"
        );
    }

    /// Numbers must ascend, within a block and across a finished one.
    #[test]
    fn a_number_pushed_out_of_order_is_an_error() {
        let mut packer = Packer::<1>::default();
        packer.push(5, ["a"]).unwrap();
        assert!(packer.push(5, ["b"]).is_err());
        assert!(packer.finish().unwrap().is_some());
        assert!(packer.push(3, ["c"]).is_err());
        assert!(packer.push(6, ["d"]).unwrap().is_empty());
    }

    /// A damaged block is an error naming the table, not missing texts; a database without
    /// the table is read until a block is needed.
    #[test]
    fn a_damaged_block_is_an_error_and_a_missing_table_is_only_read_when_needed() {
        let conn = db();
        store(&conn, 1, 0..10);
        conn.execute("UPDATE t_texts SET b = x'00010203'", [])
            .unwrap();
        let err = BlockReader::new(&conn, TABLE, 1).texts(3).unwrap_err();
        assert!(err.to_string().contains("t_texts of sweep 1"), "{err}");
        let bare = Connection::open_in_memory().unwrap();
        let reader = BlockReader::new(&bare, TABLE, 1);
        assert!(reader.texts(0).is_err(), "no table: the read fails");
    }
}

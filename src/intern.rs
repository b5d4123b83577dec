//! Interned string columns: the snapshot keeps every identifier once and hands out dense
//! integer ids, so rules compare and group integers; reading input, the same table finds keys
//! seen before (one hash per row, keys stored end to end instead of a `String` each).
//!
//! `Interner` is an open-addressing hash table of its own (SWAR group probing, software
//! prefetch over a ring of pending lookups in `intern_many`): interning is the hot loop of
//! loading a ledger, and a general-purpose map spent most of its time in cache misses.

/// "No such row" in index vectors.
pub const NONE: u32 = u32::MAX;

/// Strings appended into one buffer; item `i` is `buf[offsets[i]..offsets[i+1]]`.
#[derive(Clone, Debug, Default)]
pub struct StrColumn {
    pub(crate) buf: String,
    /// u32 halves the index memory (and cache misses on lookups); 4 GiB of text per column is
    /// far beyond any ledger.
    pub(crate) offsets: Vec<u32>,
}

impl StrColumn {
    pub fn new() -> Self {
        StrColumn {
            buf: String::new(),
            offsets: vec![0],
        }
    }
    pub fn push(&mut self, s: &str) -> u32 {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.buf.push_str(s);
        let end = u32::try_from(self.buf.len()).expect("StrColumn text exceeds 4 GiB");
        self.offsets.push(end);
        (self.offsets.len() - 2) as u32
    }
    pub fn get(&self, i: u32) -> &str {
        let i = i as usize;
        &self.buf[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
    /// `get` as bytes, without the UTF-8 boundary checks of slicing a `str`.
    fn bytes(&self, i: u32) -> &[u8] {
        let i = i as usize;
        &self.buf.as_bytes()[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
    /// Room for `items` strings of `bytes` total length.
    pub fn with_capacity(items: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(items + 1);
        offsets.push(0);
        StrColumn {
            buf: String::with_capacity(bytes),
            offsets,
        }
    }
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
    /// Total bytes of text.
    pub fn text_len(&self) -> usize {
        self.buf.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One hash-table entry: the string's id and 32 more bits of its hash, so a lookup compares
/// text (in the interner's strings) only for a true match. Eight bytes a bucket keeps the
/// table well below the strings' own size: at ten million claims it is the largest transient
/// of a load.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    id: u32,
    check: u32,
}

/// Control byte of a vacant bucket; an occupied one holds 7 bits of its hash (high bit clear).
const VACANT: u8 = 0x80;
/// Buckets whose control bytes are read at once (one u64).
const GROUP: usize = 8;
const LO_BITS: u64 = 0x0101_0101_0101_0101;
const HI_BITS: u64 = 0x8080_8080_8080_8080;

/// An open-addressing table with hashbrown's layout (a control byte per bucket, probed a
/// group at a time) but no deletion, whose buckets are known from the hash alone, so a batch
/// can prefetch what each lookup will read: interning a million-row column is otherwise three
/// or four cache misses per value, one after the other.
#[derive(Clone, Debug, Default)]
struct Table {
    /// `buckets` control bytes, then a copy of the first GROUP so a group read never wraps.
    ctrl: Vec<u8>,
    slots: Vec<Slot>,
    items: usize,
}

/// The parts of a hash a table uses: bucket (low bits), control tag (top 7), check (32 more).
fn tag_of(h: u64) -> u8 {
    (h >> 57) as u8
}

fn check_of(h: u64) -> u32 {
    (h >> 25) as u32
}

impl Table {
    fn with_buckets(buckets: usize) -> Table {
        debug_assert!(buckets.is_power_of_two() && buckets >= 2 * GROUP);
        Table {
            ctrl: vec![VACANT; buckets + GROUP],
            slots: vec![Slot::default(); buckets],
            items: 0,
        }
    }

    fn buckets(&self) -> usize {
        self.slots.len()
    }

    fn group(&self, pos: usize) -> u64 {
        let mut b = [0u8; GROUP];
        b.copy_from_slice(&self.ctrl[pos..pos + GROUP]);
        u64::from_le_bytes(b)
    }

    /// Bits set in the bytes of `group` equal to `tag` (a rare false positive only next to a
    /// true one; callers compare the slot anyway).
    fn tag_hits(group: u64, tag: u8) -> u64 {
        let x = group ^ (LO_BITS * u64::from(tag));
        x.wrapping_sub(LO_BITS) & !x & HI_BITS
    }

    /// Hints the CPU to fetch the first group and slots a lookup of `h` reads.
    fn prefetch(&self, h: u64) {
        if !self.slots.is_empty() {
            let pos = h as usize & (self.buckets() - 1);
            prefetch_read(self.ctrl[pos..].as_ptr());
            prefetch_read(&self.slots[pos]);
        }
    }

    /// The id a lookup of `h` most likely finds, from its first group only (a hint: no text
    /// compared).
    fn likely(&self, h: u64) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.buckets() - 1;
        let pos = h as usize & mask;
        let mut hits = Self::tag_hits(self.group(pos), tag_of(h));
        while hits != 0 {
            let slot = self.slots[(pos + hits.trailing_zeros() as usize / 8) & mask];
            if slot.check == check_of(h) {
                return Some(slot.id);
            }
            hits &= hits - 1;
        }
        None
    }

    /// The id of `s`, or the vacant bucket where it belongs (`Err`). Needs a bucket free.
    fn probe(&self, h: u64, s: &[u8], strings: &StrColumn) -> Result<u32, usize> {
        let mask = self.buckets() - 1;
        let (tag, check) = (tag_of(h), check_of(h));
        let mut pos = h as usize & mask;
        let mut stride = 0;
        loop {
            let g = self.group(pos);
            let mut hits = Self::tag_hits(g, tag);
            while hits != 0 {
                let slot = self.slots[(pos + hits.trailing_zeros() as usize / 8) & mask];
                if slot.check == check && strings.bytes(slot.id) == s {
                    return Ok(slot.id);
                }
                hits &= hits - 1;
            }
            let vacant = g & HI_BITS;
            if vacant != 0 {
                return Err((pos + vacant.trailing_zeros() as usize / 8) & mask);
            }
            stride += GROUP;
            pos = (pos + stride) & mask;
        }
    }

    /// The first vacant bucket for `h` (the string is known to be absent).
    fn vacant_for(&self, h: u64) -> usize {
        let mask = self.buckets() - 1;
        let mut pos = h as usize & mask;
        let mut stride = 0;
        loop {
            let vacant = self.group(pos) & HI_BITS;
            if vacant != 0 {
                return (pos + vacant.trailing_zeros() as usize / 8) & mask;
            }
            stride += GROUP;
            pos = (pos + stride) & mask;
        }
    }

    fn put(&mut self, bucket: usize, h: u64, id: u32) {
        let tag = tag_of(h);
        self.ctrl[bucket] = tag;
        if bucket < GROUP {
            let n = self.buckets();
            self.ctrl[n + bucket] = tag;
        }
        self.slots[bucket] = Slot {
            id,
            check: check_of(h),
        };
        self.items += 1;
    }

    /// Whether `additional` more entries fit with the load at most 7/8.
    fn has_room(&self, additional: usize) -> bool {
        self.items + additional <= self.buckets() / 8 * 7
    }

    /// A table of `strings` (all distinct) with room for `additional` more.
    fn of_strings(strings: &StrColumn, additional: usize, hash: impl Fn(&[u8]) -> u64) -> Table {
        let need = strings.len() + additional;
        let buckets = (need * 8 / 7 + 1).next_power_of_two().max(2 * GROUP);
        let mut t = Table::with_buckets(buckets);
        for id in 0..strings.len() as u32 {
            let h = hash(strings.bytes(id));
            t.put(t.vacant_for(h), h, id);
        }
        t
    }
}

/// Asks the CPU to load the cache line at `p` ahead of its use (a hint; no effect off x86-64).
#[inline(always)]
pub(crate) fn prefetch_read<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint; it never faults, whatever the address.
    #[allow(unused_unsafe)]
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Values between the stages of `Interner::intern_each`: hash and prefetch the table, find
/// the likely id and prefetch its offset, prefetch its text, intern.
const STAGE: usize = 6;
const RING: usize = 32;
const _: () = assert!(RING > 3 * STAGE);

/// String ↔ dense u32 id. Id 0 is always the empty string.
///
/// The hash table only serves building: [`Interner::seal`] drops it, and [`Interner::get`]
/// then builds a lookup index on first use.
#[derive(Clone, Debug)]
pub struct Interner {
    strings: StrColumn,
    /// Every string while building; empty once sealed.
    table: Table,
    /// The index `get` builds on first use after sealing.
    sealed_index: std::sync::OnceLock<Table>,
    /// foldhash: interning dominates snapshot loading, and SipHash's DoS resistance buys
    /// nothing for our own stored data. Ids follow insertion order, so the seed never shows.
    hasher: hashbrown::DefaultHashBuilder,
}

impl Default for Interner {
    fn default() -> Self {
        Self::new()
    }
}

impl Interner {
    pub fn new() -> Self {
        let mut i = Interner {
            strings: StrColumn::new(),
            table: Table::default(),
            sealed_index: std::sync::OnceLock::new(),
            hasher: hashbrown::DefaultHashBuilder::default(),
        };
        i.intern("");
        i
    }

    fn hash(&self, s: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(s)
    }

    /// Makes room for `additional` new strings; builds the table again after `seal`.
    fn reserve_table(&mut self, additional: usize) {
        let sealed = self.table.items < self.strings.len();
        if sealed || !self.table.has_room(additional) {
            self.sealed_index = std::sync::OnceLock::new();
            // Hashing the strings in id order reads them front to back, once.
            let (strings, hasher) = (&self.strings, &self.hasher);
            self.table = Table::of_strings(strings, additional, |b| {
                use std::hash::BuildHasher;
                hasher.hash_one(b)
            });
        }
    }

    fn intern_hashed(&mut self, s: &str, h: u64) -> u32 {
        match self.table.probe(h, s.as_bytes(), &self.strings) {
            Ok(id) => id,
            Err(bucket) => {
                let id = self.strings.push(s);
                self.table.put(bucket, h, id);
                id
            }
        }
    }

    pub fn intern(&mut self, s: &str) -> u32 {
        self.reserve_table(1);
        let h = self.hash(s.as_bytes());
        self.intern_hashed(s, h)
    }

    /// Interns `value(0) … value(n - 1)` in that order, appending their ids to `ids`: the same
    /// ids as `intern` one by one, faster because what each lookup reads (table, offsets,
    /// text) is prefetched in stages a few values ahead.
    pub fn intern_each<'a>(
        &mut self,
        n: usize,
        value: impl Fn(usize) -> &'a str,
        ids: &mut Vec<u32>,
    ) {
        self.reserve_table(n);
        ids.reserve(n);
        let mut hashes = [0u64; RING];
        let mut likely = [None::<u32>; RING];
        for step in 0..n + 3 * STAGE {
            if step < n {
                let h = self.hash(value(step).as_bytes());
                self.table.prefetch(h);
                hashes[step % RING] = h;
            }
            if let Some(k) = step.checked_sub(STAGE).filter(|&k| k < n) {
                let id = self.table.likely(hashes[k % RING]);
                if let Some(id) = id {
                    prefetch_read(&self.strings.offsets[id as usize]);
                }
                likely[k % RING] = id;
            }
            if let Some(k) = step.checked_sub(2 * STAGE).filter(|&k| k < n) {
                if let Some(id) = likely[k % RING] {
                    let start = self.strings.offsets[id as usize] as usize;
                    prefetch_read(self.strings.buf.as_bytes()[start..].as_ptr());
                }
            }
            if let Some(k) = step.checked_sub(3 * STAGE).filter(|&k| k < n) {
                ids.push(self.intern_hashed(value(k), hashes[k % RING]));
            }
        }
    }

    /// Room for `additional` more distinct strings of `bytes` total length without growing.
    pub fn reserve(&mut self, additional: usize, bytes: usize) {
        self.reserve_table(additional);
        self.strings.offsets.reserve(additional);
        self.strings.buf.reserve(bytes);
    }

    /// Drops the building hash table and spare capacity: a built snapshot only resolves ids.
    pub fn seal(&mut self) {
        self.table = Table::default();
        self.sealed_index = std::sync::OnceLock::new();
        self.strings.buf.shrink_to_fit();
        self.strings.offsets.shrink_to_fit();
    }

    /// The id of a string already interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        let table = if self.table.items == self.strings.len() {
            &self.table
        } else {
            self.sealed_index
                .get_or_init(|| Table::of_strings(&self.strings, 0, |b| self.hash(b)))
        };
        let b = s.as_bytes();
        table.probe(self.hash(b), b, &self.strings).ok()
    }

    pub fn resolve(&self, id: u32) -> &str {
        self.strings.get(id)
    }

    /// The strings in id order (the snapshot file writes them).
    pub(crate) fn strings(&self) -> &StrColumn {
        &self.strings
    }

    /// A sealed interner over strings already unique and in id order (the snapshot file reads
    /// them; the cases stage numbers claim ids so), id 0 the empty string; `get` builds its
    /// index on first use.
    pub fn from_sealed_strings(strings: StrColumn) -> Interner {
        Interner {
            strings,
            table: Table::default(),
            sealed_index: std::sync::OnceLock::new(),
            hasher: hashbrown::DefaultHashBuilder::default(),
        }
    }

    /// Number of ids, including the empty string.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() <= 1
    }
}

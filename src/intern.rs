//! Interned string columns: the snapshot keeps every identifier once and hands out dense
//! integer ids, so rules compare and group integers; reading input, the same table finds keys
//! seen before (one hash per row, keys stored end to end instead of a `String` each).
//!
//! `Interner` is an open-addressing hash table of its own (SWAR group probing, software
//! prefetch over a ring of pending lookups in `intern_many`): interning is the hot loop of
//! loading a ledger, and a general-purpose map spent most of its time in cache misses.

/// "No such row" in index vectors.
pub const NONE: u32 = u32::MAX;

/// First byte of a string stored packed. 0xFF never occurs in UTF-8, so no string stored as
/// written starts with it.
const PACKED: u8 = 0xFF;
/// Nibbles of a packed string: 0–9 the digits, then these.
const NIB_X: u8 = 10;
/// The next two nibbles are an ASCII byte (letters of claim ids, certificate numbers, …).
const NIB_ESCAPE: u8 = 11;
/// Fills the last byte of a string of an odd number of nibbles.
const NIB_PAD: u8 = 15;
/// Longest string stored packed: its unpacked form fits a [`Text`] without allocating.
pub const PACK_MAX: usize = 38;
/// Longest stored form of a packed string (the marker, three nibbles a character at most).
const STORED_MAX: usize = 1 + (PACK_MAX * 3).div_ceil(2);

/// Packs `s` into `out` and gives the packed length, when that is shorter than `s`; else
/// `None`. Identifiers are mostly digits (ID numbers, phones, bank accounts, certificate and
/// claim numbers): a digit takes half a byte, an `X` too, another ASCII byte a byte and a
/// half, and a string with a character beyond ASCII is never packed. The packed form is a
/// function of the string alone, so equal strings have equal stored forms (hashing and
/// lookups use them); stored forms do not sort as their strings do.
fn pack(s: &str, out: &mut [u8; STORED_MAX]) -> Option<usize> {
    let b = s.as_bytes();
    let len = packed_len(b)?;
    out[0] = PACKED;
    let mut k = 0;
    let mut put = |v: u8| {
        let byte = &mut out[1 + k / 2];
        if k % 2 == 0 {
            *byte = v << 4;
        } else {
            *byte |= v;
        }
        k += 1;
    };
    for &c in b {
        match c {
            b'0'..=b'9' => put(c - b'0'),
            b'X' => put(NIB_X),
            _ => {
                put(NIB_ESCAPE);
                put(c >> 4);
                put(c & 15);
            }
        }
    }
    // Every character takes an odd number of nibbles (1 or 3): an odd-length string an odd
    // number.
    if b.len() % 2 == 1 {
        put(NIB_PAD);
    }
    Some(len)
}

/// The length of `b`'s packed form when packing applies (ASCII, at most [`PACK_MAX`] bytes)
/// and makes it shorter; else `None`.
fn packed_len(b: &[u8]) -> Option<usize> {
    if b.len() > PACK_MAX {
        return None;
    }
    let mut nibbles: usize = 0;
    for &c in b {
        nibbles += match c {
            b'0'..=b'9' | b'X' => 1,
            0..=0x7F => 3,
            _ => return None,
        };
    }
    let len = 1 + nibbles.div_ceil(2);
    (len < b.len()).then_some(len)
}

/// [`pack`] in a column of storage `S`: `None` where `S` does not pack.
fn pack_for<S: Storage>(s: &str, out: &mut [u8; STORED_MAX]) -> Option<usize> {
    if S::PACKS {
        pack(s, out)
    } else {
        None
    }
}

/// The string a packed form holds (`stored[0] == PACKED`), or `None` if it is not the packed
/// form [`pack`] writes (a damaged file).
fn unpack(stored: &[u8]) -> Option<InlineText> {
    let mut t = InlineText {
        len: 0,
        bytes: [0; PACK_MAX],
    };
    let body = stored.get(1..).filter(|b| !b.is_empty())?;
    let mut out = 0usize;
    // Two digits a byte, the common case, written at once; escapes and the pad one nibble at
    // a time.
    let mut k = 0usize;
    let nibbles = body.len() * 2;
    while k < nibbles {
        if k.is_multiple_of(2) {
            let b = body[k / 2];
            if b >> 4 < 10 && b & 15 < 10 && out + 2 <= PACK_MAX {
                t.bytes[out] = b'0' + (b >> 4);
                t.bytes[out + 1] = b'0' + (b & 15);
                out += 2;
                k += 2;
                continue;
            }
        }
        let nibble = |k: usize| {
            let b = body[k / 2];
            if k.is_multiple_of(2) {
                b >> 4
            } else {
                b & 15
            }
        };
        let v = nibble(k);
        k += 1;
        let c = match v {
            0..=9 => b'0' + v,
            NIB_X => b'X',
            NIB_ESCAPE if k + 2 <= nibbles => {
                let c = (nibble(k) << 4) | nibble(k + 1);
                k += 2;
                match c {
                    b'0'..=b'9' | b'X' | 0x80.. => return None,
                    _ => c,
                }
            }
            NIB_PAD if k == nibbles && nibbles >= 2 => break,
            _ => return None,
        };
        if out == PACK_MAX {
            return None;
        }
        t.bytes[out] = c;
        out += 1;
    }
    t.len = out as u8;
    // The packed form of a string is used only where it is shorter.
    (stored.len() < out).then_some(t)
}

/// Whether `stored` is the stored form of a string in a column of storage `S` (a check of a
/// column read from a file, so `get` can trust it).
fn is_stored_form<S: Storage>(stored: &[u8]) -> bool {
    if S::PACKS && stored.first() == Some(&PACKED) {
        // `unpack` checks the packed form is what `pack` writes: nibbles in order, escapes
        // only where needed, the pad only at the end, shorter than the string.
        return unpack(stored).is_some();
    }
    if !stored.is_ascii() {
        return std::str::from_utf8(stored).is_ok();
    }
    // ASCII as written: right unless `pack` would have packed it.
    !S::PACKS || packed_len(stored).is_none()
}

/// A string unpacked from a column: at most [`PACK_MAX`] ASCII bytes.
#[derive(Clone, Copy)]
pub struct InlineText {
    len: u8,
    bytes: [u8; PACK_MAX],
}

/// A string read from a [`StrColumn`]: borrowed when stored as written, unpacked into a small
/// inline buffer when stored packed. Use it as a `&str` (it derefs to one).
#[derive(Clone, Copy)]
pub enum Text<'a> {
    Stored(&'a str),
    Unpacked(InlineText),
}

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Text::Stored(s) => s,
            // SAFETY: `unpack` writes ASCII bytes only (digits, `X`, escaped bytes below 0x80).
            Text::Unpacked(t) => unsafe {
                std::str::from_utf8_unchecked(&t.bytes[..usize::from(t.len)])
            },
        }
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(s: &'a str) -> Text<'a> {
        Text::Stored(s)
    }
}

impl AsRef<str> for Text<'_> {
    fn as_ref(&self) -> &str {
        self
    }
}

impl std::borrow::Borrow<str> for Text<'_> {
    fn borrow(&self) -> &str {
        self
    }
}

impl std::fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&**self, f)
    }
}

impl std::fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

impl PartialEq for Text<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Text<'_> {}

impl PartialOrd for Text<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (**self).cmp(&**other)
    }
}

impl std::hash::Hash for Text<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        &**self == other
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        &**self == *other
    }
}

impl PartialEq<Text<'_>> for str {
    fn eq(&self, other: &Text<'_>) -> bool {
        self == &**other
    }
}

impl PartialEq<Text<'_>> for &str {
    fn eq(&self, other: &Text<'_>) -> bool {
        *self == &**other
    }
}

/// How a column stores its strings, and what reading one gives.
pub trait Storage: Clone + Copy + Default + std::fmt::Debug + 'static {
    /// Whether strings are packed ([`pack`]) when that is shorter.
    const PACKS: bool;
    /// A string read from the column.
    type Text<'a>: std::ops::Deref<Target = str>
        + std::fmt::Display
        + std::fmt::Debug
        + Copy
        + Ord
        + std::hash::Hash;
    /// The string of a stored form (one the column holds).
    fn text(stored: &[u8]) -> Self::Text<'_>;
}

/// Strings stored as written: reading one borrows it (`&str`). Free text, names, codes.
#[derive(Clone, Copy, Debug, Default)]
pub struct AsWritten;

/// Strings packed when shorter: reading one unpacks it into a [`Text`]. The identifiers
/// a ledger holds by the million (claim ids, ID numbers, phones, bank accounts, certificate
/// numbers).
#[derive(Clone, Copy, Debug, Default)]
pub struct Packed;

impl Storage for AsWritten {
    const PACKS: bool = false;
    type Text<'a> = &'a str;
    fn text(stored: &[u8]) -> &str {
        // SAFETY: a column stored as written holds strings' UTF-8 bytes only (pushed from
        // `&str`; columns read from files are checked in `from_stored`).
        unsafe { std::str::from_utf8_unchecked(stored) }
    }
}

impl Storage for Packed {
    const PACKS: bool = true;
    type Text<'a> = Text<'a>;
    fn text(stored: &[u8]) -> Text<'_> {
        if stored.first() == Some(&PACKED) {
            Text::Unpacked(unpack(stored).expect("a column holds stored forms only"))
        } else {
            Text::Stored(AsWritten::text(stored))
        }
    }
}

/// The stored form of `s` in a column of storage `S`: packed into `scratch` when `S` packs
/// and that is shorter, else `s`'s own bytes.
fn stored_form<'a, S: Storage>(s: &'a str, scratch: &'a mut [u8; STORED_MAX]) -> &'a [u8] {
    match pack_for::<S>(s, scratch) {
        Some(n) => &scratch[..n],
        None => s.as_bytes(),
    }
}

/// Strings appended into one buffer; item `i` is stored in `buf[offsets[i]..offsets[i+1]]`,
/// as written or, in a [`Packed`] column, packed when that is shorter: at ten million claims
/// the identifiers' text is about two fifths smaller.
///
/// While every item after the first has one stored length (`width`), as identifiers of one
/// format have (ID numbers, claim, certificate and account numbers), the column keeps no
/// offsets: item 0 spans `buf[..head]` and item `i ≥ 1` `head + (i-1)·width ..` on. The first
/// item may differ because an [`Interner`]'s is the empty string. An item of another length
/// writes the offsets out and the column keeps them from then on. At ten million claims this
/// saves four bytes an identifier, 157 MB of a sweep's snapshot.
///
/// Invariant: every item is its string's stored form ([`stored_form`]); `offsets` is empty
/// (uniform) or holds `len + 1` ends.
#[derive(Clone, Debug, Default)]
pub struct StrColumn<S: Storage = AsWritten> {
    pub(crate) buf: Vec<u8>,
    /// Item ends after a leading 0, or empty while the column is uniform. u32 halves the index
    /// memory (and cache misses on lookups); 4 GiB of text per column is far beyond any ledger.
    offsets: Vec<u32>,
    /// Items.
    len: usize,
    /// While uniform: the first item's stored length, and every later item's.
    head: u32,
    width: u32,
    storage: std::marker::PhantomData<S>,
}

impl<S: Storage> StrColumn<S> {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }
    pub fn push(&mut self, s: &str) -> u32 {
        let mut scratch = [0u8; STORED_MAX];
        self.push_stored(stored_form::<S>(s, &mut scratch))
    }
    fn uniform(&self) -> bool {
        self.offsets.is_empty()
    }
    /// Writes the offsets out (the column is no longer uniform).
    fn spell_out(&mut self) {
        if self.uniform() {
            let mut offsets = Vec::with_capacity(self.len + 1);
            offsets.push(0);
            offsets.extend((0..self.len as u32).map(|i| self.start(i + 1)));
            self.offsets = offsets;
        }
    }
    /// Where item `i` starts (`i == len`: the end of the text).
    #[inline]
    fn start(&self, i: u32) -> u32 {
        if self.uniform() {
            if i == 0 {
                0
            } else {
                self.head + (i - 1) * self.width
            }
        } else {
            self.offsets[i as usize]
        }
    }
    /// Appends a stored form (of [`stored_form`]).
    fn push_stored(&mut self, stored: &[u8]) -> u32 {
        let n = stored.len() as u32;
        let fits = u32::try_from(self.buf.len() + stored.len()).is_ok();
        assert!(fits, "StrColumn text exceeds 4 GiB");
        if self.uniform() {
            match self.len {
                0 => self.head = n,
                1 => self.width = n,
                _ if n == self.width => {}
                _ => self.spell_out(),
            }
        }
        self.buf.extend_from_slice(stored);
        if !self.uniform() {
            self.offsets.push(self.buf.len() as u32);
        }
        self.len += 1;
        (self.len - 1) as u32
    }
    /// Appends the items of `other` after this column's, in their order.
    pub fn append(&mut self, other: &StrColumn<S>) {
        let fits = u32::try_from(self.buf.len() + other.buf.len()).is_ok();
        assert!(fits, "StrColumn text exceeds 4 GiB");
        let stays_uniform = self.uniform()
            && other.uniform()
            && match (self.len, other.len) {
                (0, _) | (_, 0) => true,
                (1, 1) => true,
                (1, _) => other.head == other.width,
                (_, 1) => other.head == self.width,
                _ => other.head == self.width && other.width == self.width,
            };
        if stays_uniform {
            match (self.len, other.len) {
                (_, 0) => {}
                (0, _) => (self.head, self.width) = (other.head, other.width),
                (1, _) => self.width = other.head,
                _ => {}
            }
            self.buf.extend_from_slice(&other.buf);
            self.len += other.len;
            return;
        }
        self.spell_out();
        let base = self.buf.len() as u32;
        self.buf.extend_from_slice(&other.buf);
        self.offsets
            .extend((1..=other.len as u32).map(|i| base + other.start(i)));
        self.len += other.len;
    }
    pub fn get(&self, i: u32) -> S::Text<'_> {
        S::text(self.bytes(i))
    }
    /// Whether item `i` is `s` (their stored forms compared: no unpacking).
    pub fn holds(&self, i: u32, s: &str) -> bool {
        let mut scratch = [0u8; STORED_MAX];
        self.bytes(i) == stored_form::<S>(s, &mut scratch)
    }
    /// The stored form of item `i`.
    #[inline]
    fn bytes(&self, i: u32) -> &[u8] {
        assert!((i as usize) < self.len, "item {i} of {}", self.len);
        &self.buf[self.start(i) as usize..self.start(i + 1) as usize]
    }
    /// Hints the CPU to load what reading item `i` reads first (its offset, or its text when
    /// the column is uniform).
    #[inline]
    fn prefetch_item(&self, i: u32) {
        if self.uniform() {
            self.prefetch_text(i);
        } else {
            prefetch_read(&self.offsets[i as usize]);
        }
    }
    /// Hints the CPU to load item `i`'s text.
    #[inline]
    fn prefetch_text(&self, i: u32) {
        let start = self.start(i) as usize;
        prefetch_read(self.buf[start.min(self.buf.len())..].as_ptr());
    }
    /// A column from stored text and offsets as [`StoredColumn`] gives them (a
    /// snapshot file's), checked item by item: `Err` says what is wrong, naming the first item
    /// that is not the stored form of a string. Uniform items keep no offsets.
    pub fn from_stored(buf: Vec<u8>, offsets: Vec<u32>) -> Result<Self, String> {
        if offsets.first() != Some(&0) || offsets.last().map(|&o| o as usize) != Some(buf.len()) {
            return Err("offsets do not span the text".into());
        }
        if offsets.windows(2).any(|w| w[0] > w[1]) {
            return Err("offsets out of order".into());
        }
        let len = offsets.len() - 1;
        let mut c = StrColumn {
            buf,
            offsets,
            len,
            head: 0,
            width: 0,
            storage: std::marker::PhantomData,
        };
        if let Some(i) = (0..c.len as u32).find(|&i| !is_stored_form::<S>(c.bytes(i))) {
            return Err(format!("item {i} is not a stored string"));
        }
        let o = &c.offsets;
        let (head, width) = (
            o.get(1).copied().unwrap_or(0),
            o.get(2).map_or(0, |&e| e - o[1]),
        );
        if o.windows(2).skip(1).all(|w| w[1] - w[0] == width) {
            (c.head, c.width) = (head, width);
            c.offsets = Vec::new();
        }
        Ok(c)
    }
    /// Room for `bytes` of text (offsets are made only if the items turn out to differ in
    /// length, so their number is not asked for).
    pub fn with_capacity(bytes: usize) -> Self {
        StrColumn {
            buf: Vec::with_capacity(bytes),
            offsets: Vec::new(),
            len: 0,
            head: 0,
            width: 0,
            storage: std::marker::PhantomData,
        }
    }
    pub fn len(&self) -> usize {
        self.len
    }
    /// Total bytes of text as stored.
    pub fn text_len(&self) -> usize {
        self.buf.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Gives back spare capacity.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
        self.offsets.shrink_to_fit();
    }
}

/// A string column as the snapshot file stores it, whatever its storage: its stored text
/// and where each item starts.
pub trait StoredColumn {
    fn stored_text(&self) -> &[u8];
    /// Where each item starts, then the end of the text: `items() + 1` values, made as they
    /// are read (a uniform column keeps none).
    fn stored_starts(&self) -> Box<dyn Iterator<Item = u32> + '_>;
    fn items(&self) -> usize;
    /// Whether the column keeps no offsets (every item after the first of one length).
    fn is_uniform(&self) -> bool;
}

impl<S: Storage> StoredColumn for StrColumn<S> {
    fn stored_text(&self) -> &[u8] {
        &self.buf
    }
    fn stored_starts(&self) -> Box<dyn Iterator<Item = u32> + '_> {
        Box::new((0..=self.len as u32).map(|i| self.start(i)))
    }
    fn items(&self) -> usize {
        self.len
    }
    fn is_uniform(&self) -> bool {
        self.uniform()
    }
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
///
/// A bucket holds the string's id only: five bytes with its control byte. The tables are the
/// largest transient of an ingest (every distinct ID number, phone, bank account and
/// certificate number at once: 0.43 GB at ten million claims with a 32-bit hash check beside
/// each id, 0.24 GB without). A control byte's 7-bit tag matches a wrong string about once in
/// 128 occupied buckets, so leaving the check out costs a rare text comparison.
#[derive(Clone, Debug, Default)]
struct Table {
    /// `buckets` control bytes, then a copy of the first GROUP so a group read never wraps.
    ctrl: Vec<u8>,
    /// The string id of each bucket (meaningful where its control byte is not `VACANT`).
    slots: Vec<u32>,
    items: usize,
}

/// The parts of a hash a table uses: bucket (low bits) and control tag (top 7).
fn tag_of(h: u64) -> u8 {
    (h >> 57) as u8
}

impl Table {
    fn with_buckets(buckets: usize) -> Table {
        debug_assert!(buckets.is_power_of_two() && buckets >= 2 * GROUP);
        Table {
            ctrl: vec![VACANT; buckets + GROUP],
            slots: vec![0; buckets],
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

    /// The id a lookup of `h` most likely finds: the first bucket of its first group whose tag
    /// matches (a hint: no text compared).
    fn likely(&self, h: u64) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.buckets() - 1;
        let pos = h as usize & mask;
        let hits = Self::tag_hits(self.group(pos), tag_of(h));
        (hits != 0).then(|| self.slots[(pos + hits.trailing_zeros() as usize / 8) & mask])
    }

    /// The id of `s`, or the vacant bucket where it belongs (`Err`). Needs a bucket free.
    fn probe<S: Storage>(&self, h: u64, s: &[u8], strings: &StrColumn<S>) -> Result<u32, usize> {
        let mask = self.buckets() - 1;
        let tag = tag_of(h);
        let mut pos = h as usize & mask;
        let mut stride = 0;
        loop {
            let g = self.group(pos);
            let mut hits = Self::tag_hits(g, tag);
            while hits != 0 {
                let id = self.slots[(pos + hits.trailing_zeros() as usize / 8) & mask];
                if strings.bytes(id) == s {
                    return Ok(id);
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
        self.slots[bucket] = id;
        self.items += 1;
    }

    /// Whether `additional` more entries fit with the load at most 7/8.
    fn has_room(&self, additional: usize) -> bool {
        self.items + additional <= self.buckets() / 8 * 7
    }

    /// A table of `strings` (all distinct) with room for `additional` more.
    fn of_strings<S: Storage>(
        strings: &StrColumn<S>,
        additional: usize,
        hash: impl Fn(&[u8]) -> u64,
    ) -> Table {
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
pub struct Interner<S: Storage = AsWritten> {
    strings: StrColumn<S>,
    /// Every string while building; empty once sealed.
    table: Table,
    /// The index `get` builds on first use after sealing.
    sealed_index: std::sync::OnceLock<Table>,
    /// foldhash: interning dominates snapshot loading, and SipHash's DoS resistance buys
    /// nothing for our own stored data. Ids follow insertion order, so the seed never shows.
    hasher: hashbrown::DefaultHashBuilder,
}

impl<S: Storage> Default for Interner<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Storage> Interner<S> {
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

    /// Interns a stored form (`stored_form`) whose hash is `h`.
    fn intern_hashed(&mut self, stored: &[u8], h: u64) -> u32 {
        match self.table.probe(h, stored, &self.strings) {
            Ok(id) => id,
            Err(bucket) => {
                let id = self.strings.push_stored(stored);
                self.table.put(bucket, h, id);
                id
            }
        }
    }

    pub fn intern(&mut self, s: &str) -> u32 {
        self.reserve_table(1);
        let mut scratch = [0u8; STORED_MAX];
        let stored = stored_form::<S>(s, &mut scratch);
        let h = self.hash(stored);
        self.intern_hashed(stored, h)
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
        // Each pending value's stored form, packed once (`None`: stored as written).
        let mut packed = [[0u8; STORED_MAX]; RING];
        let mut packed_len = [None::<usize>; RING];
        for step in 0..n + 3 * STAGE {
            if step < n {
                let r = step % RING;
                packed_len[r] = pack_for::<S>(value(step), &mut packed[r]);
                let h = match packed_len[r] {
                    Some(len) => self.hash(&packed[r][..len]),
                    None => self.hash(value(step).as_bytes()),
                };
                self.table.prefetch(h);
                hashes[r] = h;
            }
            if let Some(k) = step.checked_sub(STAGE).filter(|&k| k < n) {
                let id = self.table.likely(hashes[k % RING]);
                if let Some(id) = id {
                    self.strings.prefetch_item(id);
                }
                likely[k % RING] = id;
            }
            if let Some(k) = step.checked_sub(2 * STAGE).filter(|&k| k < n) {
                if let Some(id) = likely[k % RING] {
                    self.strings.prefetch_text(id);
                }
            }
            if let Some(k) = step.checked_sub(3 * STAGE).filter(|&k| k < n) {
                let r = k % RING;
                let id = match packed_len[r] {
                    Some(len) => self.intern_hashed(&packed[r][..len], hashes[r]),
                    None => self.intern_hashed(value(k).as_bytes(), hashes[r]),
                };
                ids.push(id);
            }
        }
    }

    /// Room for `additional` more distinct strings of `bytes` total length without growing.
    pub fn reserve(&mut self, additional: usize, bytes: usize) {
        self.reserve_table(additional);
        if !self.strings.uniform() {
            self.strings.offsets.reserve(additional);
        }
        self.strings.buf.reserve(bytes);
    }

    /// Drops the building hash table and spare capacity: a built snapshot only resolves ids.
    pub fn seal(&mut self) {
        self.table = Table::default();
        self.sealed_index = std::sync::OnceLock::new();
        self.strings.shrink_to_fit();
    }

    /// The id of a string already interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        let table = if self.table.items == self.strings.len() {
            &self.table
        } else {
            self.sealed_index
                .get_or_init(|| Table::of_strings(&self.strings, 0, |b| self.hash(b)))
        };
        let mut scratch = [0u8; STORED_MAX];
        let b = stored_form::<S>(s, &mut scratch);
        table.probe(self.hash(b), b, &self.strings).ok()
    }

    pub fn resolve(&self, id: u32) -> S::Text<'_> {
        self.strings.get(id)
    }

    /// The strings in id order (the snapshot file writes them).
    pub fn strings(&self) -> &StrColumn<S> {
        &self.strings
    }

    /// A sealed interner over strings already unique and in id order (the snapshot file reads
    /// them; the cases stage numbers claim ids so), id 0 the empty string; `get` builds its
    /// index on first use.
    pub fn from_sealed_strings(strings: StrColumn<S>) -> Interner<S> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of identifier a ledger holds, and strings that must stay as written.
    const SAMPLES: [&str; 14] = [
        "",
        "7",
        "123",
        "1234",
        "37132919720803787X",
        "15381978330",
        "6217006386819783300",
        "SQ0000000001",
        "Z2021000000490",
        "x",
        "abc",
        "张伟",
        "13800138000张",
        "01234567890123456789012345678901234567",
    ];

    #[test]
    fn packed_columns_give_back_every_string_and_store_identifiers_smaller() {
        let mut packed = StrColumn::<Packed>::new();
        let mut plain = StrColumn::<AsWritten>::new();
        let too_long = "1".repeat(PACK_MAX + 1);
        for s in SAMPLES.iter().copied().chain([too_long.as_str()]) {
            let (p, w) = (packed.push(s), plain.push(s));
            assert_eq!(&*packed.get(p), s);
            assert_eq!(plain.get(w), s);
            let stored = packed.bytes(p).len();
            let expect_packed = matches!(
                s,
                "1234"
                    | "37132919720803787X"
                    | "15381978330"
                    | "6217006386819783300"
                    | "SQ0000000001"
                    | "Z2021000000490"
                    | "01234567890123456789012345678901234567"
            );
            assert_eq!(
                stored < s.len(),
                expect_packed,
                "{s:?} stored in {stored} bytes"
            );
            assert!(stored <= s.len(), "{s:?} never grows");
            assert_eq!(plain.bytes(w), s.as_bytes());
        }
        // Hostile identifiers (formula-like text, quotes, control characters, a lone escape-
        // worthy byte between digits) read back as written, packed or not.
        for s in [
            "=HYPERLINK(\"x\")",
            "3713\"0'2",
            "\t1234567890\r",
            "12\u{7f}34567890",
            "+86 138 0013 8000",
        ] {
            let k = packed.push(s);
            assert_eq!(&*packed.get(k), s);
            let mut scratch = [0u8; STORED_MAX];
            assert!(is_stored_form::<Packed>(packed.bytes(k)), "{s:?}");
            assert_eq!(stored_form::<Packed>(s, &mut scratch), packed.bytes(k));
        }
        // An ID number: 18 characters in 10 bytes; a phone 11 in 7.
        assert_eq!(packed.bytes(4).len(), 10);
        assert_eq!(packed.bytes(5).len(), 7);
    }

    #[test]
    fn an_appended_column_holds_both_columns_items_in_order() {
        let (mut a, mut b) = (StrColumn::<Packed>::new(), StrColumn::<Packed>::new());
        let (front, back) = SAMPLES.split_at(5);
        for s in front {
            a.push(s);
        }
        for s in back {
            b.push(s);
        }
        a.append(&b);
        a.append(&StrColumn::new());
        assert_eq!(a.len(), SAMPLES.len());
        for (k, s) in SAMPLES.iter().enumerate() {
            assert!(a.holds(k as u32, s), "{s:?}");
        }
        let mut empty = StrColumn::<Packed>::new();
        empty.append(&b);
        assert_eq!(empty.len(), back.len());
        assert_eq!(&*empty.get(0), back[0]);
    }

    /// A column keeps no offsets while every item after the first has one stored length, and
    /// gives back the same items whichever way it came to its items: pushed, appended (every
    /// pairing of empty, one-item, uniform and mixed columns) or read from stored parts.
    #[test]
    fn a_uniform_column_keeps_no_offsets_and_reads_as_one_with_them() {
        let ids = [
            "371312197501092926",
            "37131219750109292X",
            "371326198905271763",
        ];
        let mixed = [
            "",
            "371312197501092926",
            "1538197833",
            "李秀",
            "371326198905271763",
        ];
        let column = |items: &[&str]| {
            let mut c = StrColumn::<Packed>::new();
            items.iter().for_each(|s| {
                c.push(s);
            });
            c
        };
        let stored_len = |s: &str| stored_form::<Packed>(s, &mut [0u8; STORED_MAX]).len();
        let is_uniform = |items: &[&str]| {
            items.len() < 3
                || items[2..]
                    .iter()
                    .all(|s| stored_len(s) == stored_len(items[1]))
        };
        let check = |c: &StrColumn<Packed>, items: &[&str], uniform: bool| {
            assert_eq!(
                uniform,
                is_uniform(items),
                "the test's own expectation for {items:?}"
            );
            assert_eq!(c.len(), items.len());
            assert_eq!(c.is_uniform(), uniform, "{items:?}");
            for (k, s) in items.iter().enumerate() {
                assert_eq!(&*c.get(k as u32), *s, "item {k} of {items:?}");
            }
            let starts: Vec<u32> = c.stored_starts().collect();
            assert_eq!(starts.len(), items.len() + 1);
            assert_eq!(*starts.last().unwrap() as usize, c.text_len());
            let back = StrColumn::<Packed>::from_stored(c.buf.clone(), starts).unwrap();
            assert_eq!(back.is_uniform(), uniform, "{items:?} read back");
            (0..items.len() as u32).for_each(|k| assert_eq!(back.get(k), c.get(k)));
        };
        // An interner's first item is the empty string; ID numbers are all 10 bytes packed.
        let with_empty: Vec<&str> = [""].iter().chain(&ids).copied().collect();
        check(&column(&with_empty), &with_empty, true);
        check(&column(&ids), &ids, true);
        check(&column(&[]), &[], true);
        check(&column(&mixed), &mixed, false);
        // The third item differs: the offsets are written out, the first two kept.
        check(&column(&ids[..2]), &ids[..2], true);
        let broken = [
            "371312197501092926",
            "371326198905271763",
            "1538197833",
            "李秀",
        ];
        check(&column(&broken), &broken, false);
        let parts: [&[&str]; 6] = [&[], &[""], &ids[..1], &ids, &with_empty, &mixed];
        for a in parts {
            for b in parts {
                let mut c = column(a);
                c.append(&column(b));
                let items: Vec<&str> = a.iter().chain(b).copied().collect();
                check(&c, &items, is_uniform(&items));
                c.push("abc");
                let mut more = items.clone();
                more.push("abc");
                check(&c, &more, is_uniform(&more));
            }
        }
    }

    #[test]
    fn a_packed_interner_finds_strings_by_their_text() {
        let mut i = Interner::<Packed>::new();
        let ids: Vec<u32> = SAMPLES.iter().map(|s| i.intern(s)).collect();
        assert_eq!(ids[0], 0);
        for (s, &id) in SAMPLES.iter().zip(&ids) {
            assert_eq!(i.intern(s), id);
            assert_eq!(i.get(s), Some(id));
            assert_eq!(i.resolve(id), *s);
        }
        i.seal();
        for (s, &id) in SAMPLES.iter().zip(&ids) {
            assert_eq!(i.get(s), Some(id), "{s:?} after sealing");
        }
        assert_eq!(i.get("37132919720803787x"), None);
        assert_eq!(i.get("1538197833"), None);
    }

    /// A bucket keeps no hash check beside its id: strings whose 7-bit tags match (tens of
    /// thousands of times among 100,000 strings) are told apart by their text, whether
    /// interned one by one, in a prefetched batch (whose "likely" id is then often wrong), or
    /// looked up after sealing.
    #[test]
    fn strings_whose_tags_match_keep_their_own_ids() {
        let values: Vec<String> = (0..100_000u64)
            .map(|k| format!("{:018}", 371_302_198_001_010_000 + k * 7))
            .collect();
        let mut one_by_one = Interner::<Packed>::new();
        let ids: Vec<u32> = values.iter().map(|v| one_by_one.intern(v)).collect();
        assert_eq!(ids, (1..=100_000).collect::<Vec<u32>>());
        let mut batched = Interner::<Packed>::new();
        let mut batch_ids = Vec::new();
        // Each value twice: the second time finds the first's id.
        batched.intern_each(
            2 * values.len(),
            |k| values[k % values.len()].as_str(),
            &mut batch_ids,
        );
        assert_eq!(batch_ids[..values.len()], ids[..]);
        assert_eq!(batch_ids[values.len()..], ids[..]);
        batched.seal();
        for (v, &id) in values.iter().zip(&ids) {
            assert_eq!(batched.get(v), Some(id));
            assert_eq!(batched.resolve(id), v.as_str());
        }
        assert_eq!(
            batched.get(&format!("{:018}", 371_302_198_001_010_001u64)),
            None
        );
    }

    #[test]
    fn stored_columns_are_checked_item_by_item() {
        let mut c = StrColumn::<Packed>::new();
        for s in SAMPLES {
            c.push(s);
        }
        let (text, offsets): (&[u8], Vec<u32>) = (c.stored_text(), c.stored_starts().collect());
        let back = StrColumn::<Packed>::from_stored(text.to_vec(), offsets.to_vec()).unwrap();
        for k in 0..SAMPLES.len() as u32 {
            assert_eq!(back.get(k), c.get(k));
        }
        // A packed form where a plain column expects text.
        assert!(StrColumn::<AsWritten>::from_stored(text.to_vec(), offsets.to_vec()).is_err());
        let bad = |text: &[u8]| {
            StrColumn::<Packed>::from_stored(text.to_vec(), vec![0, text.len() as u32])
        };
        // Identifiers stored as written, where they would be packed: not a stored form.
        assert!(bad(b"15381978330").is_err());
        // A pad nibble before the end, an escaped digit, an escaped non-ASCII byte, invalid
        // UTF-8, a lone marker.
        assert!(bad(&[PACKED, 0xF1, 0x23]).is_err());
        assert!(bad(&[PACKED, 0xB3, 0x11, 0x11]).is_err());
        assert!(bad(&[PACKED, 0xBE, 0x41, 0x11]).is_err());
        assert!(bad(&[0xC3, 0x28]).is_err());
        assert!(bad(&[PACKED]).is_err());
        // A packed form no shorter than its string ("12" in two bytes).
        assert!(bad(&[PACKED, 0x12]).is_err());
        // Every sample's stored form passes, in both kinds of column.
        for s in SAMPLES {
            let mut scratch = [0u8; STORED_MAX];
            assert!(
                is_stored_form::<Packed>(stored_form::<Packed>(s, &mut scratch)),
                "{s:?}"
            );
            assert!(is_stored_form::<AsWritten>(s.as_bytes()), "{s:?}");
        }
        // Offsets that do not span the text, or run backwards.
        assert!(StrColumn::<Packed>::from_stored(b"abc".to_vec(), vec![0, 2]).is_err());
        assert!(StrColumn::<Packed>::from_stored(b"abc".to_vec(), vec![0, 2, 1, 3]).is_err());
        // The empty column.
        assert_eq!(
            StrColumn::<Packed>::from_stored(Vec::new(), vec![0])
                .unwrap()
                .len(),
            0
        );
    }
}

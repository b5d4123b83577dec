//! A filter of the keys a table's records had so far ([`KeyCheck::Filtered`](super::KeyCheck)).
//!
//! Rejecting a repeated key needs every key seen so far. A load into an empty table already
//! keeps them, in the table's primary-key index; holding them a second time in memory, with
//! the line of each, took 30–40 bytes a key (about 0.33 GB of a 10 M-claim ingest's 2.39 GB
//! peak, held while its 9.7 M certificates loaded). This filter holds 16 bits a key and
//! answers "maybe seen" or "certainly not": the store confirms the rare maybes.

use std::hash::BuildHasher;

/// Filter bits per key expected; with [`PROBES`] probes per key, about one new key in a
/// thousand is a false "maybe" (each costs the store one look-up by key).
const BITS_PER_KEY: usize = 16;
/// Bits set and tested per key, all in one 512-bit block (one cache line).
const PROBES: u32 = 6;

/// A blocked Bloom filter over string keys: never says "not seen" for a key inserted before.
pub struct KeyFilter {
    blocks: Vec<[u64; 8]>,
    hasher: hashbrown::DefaultHashBuilder,
}

impl KeyFilter {
    /// A filter sized for about `keys` keys; more only raise the rate of false maybes.
    pub fn with_expected(keys: usize) -> Self {
        let blocks = (keys.max(1) * BITS_PER_KEY).div_ceil(512);
        KeyFilter {
            blocks: vec![[0u64; 8]; blocks],
            hasher: hashbrown::DefaultHashBuilder::default(),
        }
    }

    /// The block of a key's hash: from the hash's high bits (the bits within it come from a
    /// remix of the hash).
    fn block_of(&self, h: u64) -> usize {
        ((u128::from(h) * self.blocks.len() as u128) >> 64) as usize
    }

    /// Asks the CPU to fetch the block `key` would use, without waiting for it. The filter is
    /// far larger than the caches, so each insert waits on memory (a sixth of the parser's
    /// time at ten million claims): the parser calls this with the row's raw key cell before
    /// it parses the row, and inserts the normalised key, almost always the same string,
    /// once the block is there. A hint only: what the filter answers does not depend on it.
    pub fn prefetch(&self, key: &str) {
        let block = self.block_of(self.hasher.hash_one(key));
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `block` is in bounds (`block_of` maps into `0..blocks.len()`); a prefetch
        // reads nothing the program sees.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>(self.blocks.as_ptr().add(block).cast::<i8>());
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = block;
    }

    /// Adds `key`; returns whether it may have been added before (always, if it was).
    pub fn insert(&mut self, key: &str) -> bool {
        let h = self.hasher.hash_one(key);
        let block = self.block_of(h);
        let mut bits = remix(h);
        let b = &mut self.blocks[block];
        let mut seen = true;
        for _ in 0..PROBES {
            let bit = (bits & 511) as usize;
            bits >>= 9;
            let (word, mask) = (bit / 64, 1u64 << (bit % 64));
            seen &= b[word] & mask != 0;
            b[word] |= mask;
        }
        seen
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.blocks.len() * 64
    }
}

/// A bijective mix of a 64-bit hash (splitmix64's finaliser), so the bits within a block do
/// not follow the bits that chose it.
fn remix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_inserted_before_is_always_maybe_seen() {
        let mut f = KeyFilter::with_expected(1000);
        assert!(
            !f.insert("K00000000"),
            "the first key cannot have been seen"
        );
        for k in 1..5000 {
            f.insert(&format!("K{k:08}"));
        }
        // Far beyond the expected count the filter is saturated, never wrong the other way.
        for k in 0..5000 {
            assert!(f.insert(&format!("K{k:08}")), "key {k} inserted before");
        }
    }

    #[test]
    fn prefetching_a_key_changes_no_answer() {
        let keys: Vec<String> = (0..20_000).map(|k| format!("C{:06}", k % 15_000)).collect();
        let mut plain = KeyFilter::with_expected(10_000);
        // The same hasher: filters hash with a seed of their own.
        let mut hinted = KeyFilter {
            blocks: plain.blocks.clone(),
            hasher: plain.hasher,
        };
        for (n, k) in keys.iter().enumerate() {
            // The raw cell, with the spaces parsing trims, or another key altogether.
            hinted.prefetch(&format!(" {k} "));
            hinted.prefetch(&keys[(n * 7) % keys.len()]);
            assert_eq!(hinted.insert(k), plain.insert(k), "key {n}");
        }
        assert_eq!(hinted.blocks, plain.blocks);
    }

    #[test]
    fn new_keys_are_rarely_maybe_seen_at_the_expected_count() {
        let n = 200_000;
        let mut f = KeyFilter::with_expected(n);
        let false_maybes = (0..n).filter(|k| f.insert(&format!("SQ{k:010}"))).count();
        // About 0.1 % by design: fail well above it, not at noise.
        assert!(false_maybes < n / 200, "{false_maybes} false maybes of {n}");
        assert_eq!(f.bytes(), n * BITS_PER_KEY / 8);
        for k in (0..n).step_by(997) {
            assert!(f.insert(&format!("SQ{k:010}")));
        }
    }
}

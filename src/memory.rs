//! How eagerly freed memory goes back to the OS. The binary's allocator is mimalloc
//! (`main.rs`); these settings are its options, harmless under any other allocator.
//!
//! Returning freed pages at once keeps a sweep's resident memory low, and costs time: the
//! next allocation faults the pages in again, zeroed. A sweep purges eagerly only when its
//! ledger is large enough for the peak to approach [`MEMORY_BUDGET_BYTES`].

/// The peak resident memory a sweep is built to stay under (issue 3: ten million claims).
pub const MEMORY_BUDGET_BYTES: u64 = 3 << 30;

// `MI_OPTION_PURGE_DELAY`: mimalloc's option number, looked up by name in its header (build.rs).
include!(concat!(env!("OUT_DIR"), "/mi_options.rs"));

/// Milliseconds before freed memory goes back to the OS when the budget is near: purging at
/// once makes a large sweep fault the same pages in again and again, mimalloc's own default
/// (1 s) raises its peak; the figures are in the README's performance section.
pub const EAGER_PURGE_MS: i64 = 10;

/// mimalloc's default: freed memory is kept a second for the next allocations.
pub const RELAXED_PURGE_MS: i64 = 1000;

/// Peak of a sweep with relaxed purging, measured (README, performance): about 150 MB plus
/// 330 bytes per claim.
fn relaxed_peak_bytes(claims: usize) -> u64 {
    150_000_000 + 330 * claims as u64
}

/// The purge delay for a sweep of `claims` claims: relaxed while its relaxed peak stays under
/// half the budget (up to about four million claims), eager above.
pub fn purge_delay_ms(claims: usize) -> i64 {
    if relaxed_peak_bytes(claims) <= MEMORY_BUDGET_BYTES / 2 {
        RELAXED_PURGE_MS
    } else {
        EAGER_PURGE_MS
    }
}

/// Sets the allocator's purge delay, unless `MIMALLOC_PURGE_DELAY` in the environment chose
/// one (mimalloc reads it itself).
pub fn set_purge_delay(ms: i64) {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a plain integer option; mimalloc allows it at any time.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, ms as std::ffi::c_long) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_ledgers_keep_freed_memory_large_ones_return_it() {
        assert_eq!(purge_delay_ms(100_000), RELAXED_PURGE_MS);
        assert_eq!(purge_delay_ms(1_000_000), RELAXED_PURGE_MS);
        assert_eq!(purge_delay_ms(4_000_000), RELAXED_PURGE_MS);
        assert_eq!(purge_delay_ms(5_000_000), EAGER_PURGE_MS);
        assert_eq!(purge_delay_ms(10_000_000), EAGER_PURGE_MS);
    }
}

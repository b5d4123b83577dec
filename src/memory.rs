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

/// A step whose peak memory grows with the ledger's claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Ingest,
    Sweep,
}

/// Bytes a step holds per claim at its peak with eager purging, rounded up from the measured
/// (`/usr/bin/time`, docs/SCALING.md), nineteenth session: a first sweep 2,095,108–2,126,240
/// KiB for 10 M claims (215–218 bytes a claim; up to 224 in the eighteenth) and 21,711,088
/// KiB for 100 M (222); a first ingest 1,684,824 KiB for 10 M (173) and 16,417,736 KiB for
/// 100 M (168). Rounded up so that the estimate warns a little early, never late.
const fn peak_bytes_per_claim(step: Step) -> u64 {
    match step {
        Step::Ingest => 180,
        Step::Sweep => 230,
    }
}

/// About the peak resident memory of `step` over `claims` claims.
pub fn peak_bytes(step: Step, claims: u64) -> u64 {
    let eager = 100_000_000 + peak_bytes_per_claim(step) * claims;
    if step == Step::Sweep && purge_delay_ms(claims as usize) == RELAXED_PURGE_MS {
        relaxed_peak_bytes(claims as usize).max(eager)
    } else {
        eager
    }
}

/// Memory this process may still take before the system ends it, if the system says: the
/// kernel's estimate of memory available without swapping (`MemAvailable`), or less under the
/// limit of the process's control group (cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`).
pub fn available_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let available = meminfo_kib(&meminfo, "MemAvailable:")? * 1024;
    let groups = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    Some(available.min(group_room(&groups).unwrap_or(u64::MAX)))
}

/// What the memory limit of the control group named in `/proc/self/cgroup` leaves: its limit
/// less its use, `None` without a limit.
fn group_room(proc_self_cgroup: &str) -> Option<u64> {
    let read = |p: String| -> Option<u64> { std::fs::read_to_string(p).ok()?.trim().parse().ok() };
    for line in proc_self_cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let (root, limit, usage) = if id == "0" && controllers.is_empty() {
            ("/sys/fs/cgroup", "memory.max", "memory.current")
        } else if controllers.split(',').any(|c| c == "memory") {
            (
                "/sys/fs/cgroup/memory",
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
            )
        } else {
            continue;
        };
        let dir = format!("{root}{path}");
        // "max" (v2) does not parse: no limit; v1 says no limit with a number near 2^63.
        if let (Some(limit), Some(usage)) = (
            read(format!("{dir}/{limit}")),
            read(format!("{dir}/{usage}")),
        ) {
            if limit < 1 << 60 {
                return Some(limit.saturating_sub(usage));
            }
        }
    }
    None
}

/// The KiB figure of a `/proc/meminfo` line.
fn meminfo_kib(meminfo: &str, key: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// A warning when `step` over `claims` claims may need more memory than `available`: out of
/// memory, the system ends the process without a word from it, possibly after most of its
/// work.
pub fn memory_warning(step: Step, claims: u64, available: u64) -> Option<String> {
    let need = peak_bytes(step, claims);
    if need <= available {
        return None;
    }
    let gib = |b: u64| {
        let g = b as f64 / (1u64 << 30) as f64;
        // Small figures keep a second decimal, so need and room never read the same.
        if g < 10.0 {
            format!("{g:.2}")
        } else {
            format!("{g:.1}")
        }
    };
    let (zh, en, measured) = match step {
        Step::Ingest => ("导入", "an ingest", "220"),
        Step::Sweep => ("筛查", "a sweep", "234–241"),
    };
    Some(format!(
        "{zh} {claims} 条申领约需内存 {need} GiB（实测 1000 万至 1 亿条时每条 {measured} 字节），本机可用 {avail} GiB；内存不足时系统会直接终止进程，不留任何信息 / {en} of {claims} claims may need about {need} GiB of memory (measured: {measured} bytes a claim at 10–100 M claims), and {avail} GiB is available: out of memory, the system ends the process without a word",
        need = gib(need),
        avail = gib(available),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_warns_when_its_measured_peak_exceeds_the_memory_available() {
        let sweep = |claims, available| memory_warning(Step::Sweep, claims, available);
        // 100 M claims measured 21,711,088 KiB (20.7 GiB): not enough at 16 GiB, enough at 24.
        let w = sweep(100_000_000, 16 << 30).unwrap();
        assert!(
            w.contains("about 21.5 GiB") && w.contains("16.0 GiB is available"),
            "{w}"
        );
        assert!(w.starts_with("筛查 100000000 条申领"), "{w}");
        assert_eq!(sweep(100_000_000, 24 << 30), None);
        // 10 M claims measured 2.2 GiB.
        assert_eq!(sweep(10_000_000, 3 << 30), None);
        assert!(sweep(10_000_000, 2 << 30).is_some());
        // The boundary: exactly the estimate is enough.
        let need = peak_bytes(Step::Sweep, 1_000_000);
        assert_eq!(sweep(1_000_000, need), None);
        assert!(sweep(1_000_000, need - 1).is_some());
        // An ingest of 100 M claims measured 16,417,736 KiB (15.7 GiB); the estimate rounds
        // up to 16.9 GiB.
        let w = memory_warning(Step::Ingest, 100_000_000, 16 << 30).unwrap();
        assert!(
            w.contains("an ingest of 100000000 claims may need about 16.9 GiB"),
            "{w}"
        );
        assert_eq!(memory_warning(Step::Ingest, 100_000_000, 17 << 30), None);
    }

    #[test]
    fn memory_available_is_read_from_meminfo() {
        let m = "MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   20000000 kB\n";
        assert_eq!(meminfo_kib(m, "MemAvailable:"), Some(20_000_000));
        assert_eq!(meminfo_kib(m, "SwapTotal:"), None);
        assert!(available_bytes().is_some_and(|b| b > 0));
    }

    #[test]
    fn small_ledgers_keep_freed_memory_large_ones_return_it() {
        assert_eq!(purge_delay_ms(100_000), RELAXED_PURGE_MS);
        assert_eq!(purge_delay_ms(1_000_000), RELAXED_PURGE_MS);
        assert_eq!(purge_delay_ms(4_000_000), RELAXED_PURGE_MS);
        assert_eq!(purge_delay_ms(5_000_000), EAGER_PURGE_MS);
        assert_eq!(purge_delay_ms(10_000_000), EAGER_PURGE_MS);
    }
}

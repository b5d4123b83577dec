//! Peak memory of each stage of a sweep, one rule at a time, on an ingested database:
//! `cargo run --release --example rule_memory -- audit.db` (wall and CPU seconds too), then of
//! the graph analysis. Resets the kernel's peak RSS
//! (`/proc/self/clear_refs`) before each step and reads `VmHWM` after it.

use claimsweep::policy::PolicySet;

// The binary's allocator, so the figures are the sweep's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use claimsweep::refdata::RefData;
use claimsweep::resolve::Resolved;
use claimsweep::rules::{RuleContext, RULES};

fn rss_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CPU seconds (user + system) of the whole process so far, from `/proc/self/stat`.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is the 14th, stime 15th.
    let rest = stat.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn step<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = rss_kib("VmRSS:");
    let cpu = cpu_seconds();
    let t = std::time::Instant::now();
    let out = f();
    let peak = rss_kib("VmHWM:");
    println!(
        "{name:<28} {:>8.2} s  cpu {:>7.2} s  rss before {:>6} MiB  peak {:>6} MiB  (+{} MiB)",
        t.elapsed().as_secs_f64(),
        cpu_seconds() - cpu,
        before / 1024,
        peak / 1024,
        peak.saturating_sub(before) / 1024
    );
    out
}

fn main() {
    let db = std::env::args().nth(1).expect("usage: rule_memory DB");
    let conn = claimsweep::store::open(std::path::Path::new(&db)).expect("open");
    // The columnar snapshot of the ledger's state when there is one, else SQLite.
    claimsweep::memory::set_purge_delay(claimsweep::memory::EAGER_PURGE_MS);
    let snap = step("load snapshot", || {
        claimsweep::snapshot::file::load_current(&conn, std::path::Path::new(&db))
            .expect("load")
            .0
    });
    // As the sweep does: the purge delay for this ledger's size.
    claimsweep::memory::set_purge_delay(claimsweep::memory::purge_delay_ms(snap.claims.len()));
    let policies = PolicySet::embedded_default();
    let resolved = step("resolve", || Resolved::new(&snap, &policies));
    let ctx = RuleContext {
        snap: &snap,
        policies: &policies,
        refdata: RefData::embedded(),
        resolved: &resolved,
    };
    // The graph analysis reads the flags of every rule (their explanations dropped, as the
    // sweep keeps them).
    let mut all = Vec::new();
    for def in RULES {
        let flags = step(def.id, || (def.run)(&ctx));
        all.extend(flags.into_iter().map(|mut f| {
            f.explanation_zh = String::new();
            f.explanation_en = String::new();
            f
        }));
    }
    let findings = step("graph analysis", || {
        claimsweep::graph::analyse(&snap, &resolved, &all, &policies)
    });
    drop(findings);
}

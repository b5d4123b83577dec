//! Generator throughput: `cargo bench --bench generate` (claims from
//! `CLAIMSWEEP_BENCH_CLAIMS`, default 1,000,000; plain and `--messy`).

use claimsweep::generate::{generate, GenerateOptions};
use std::time::Instant;

fn main() {
    let claims: u64 = std::env::var("CLAIMSWEEP_BENCH_CLAIMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    for messy in [false, true] {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let opts = GenerateOptions {
            claims,
            seed: 7,
            messy,
            rate: 0.01,
            ..Default::default()
        };
        let started = Instant::now();
        let report = generate(&opts, dir.path()).expect("generate");
        let secs = started.elapsed().as_secs_f64();
        println!(
            "generate {} claims (messy: {messy}): {secs:.1} s, {:.0} claims/s, {} label rows",
            report.claims,
            report.claims as f64 / secs,
            report.label_rows
        );
    }
}

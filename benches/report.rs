//! Criterion bench of the inspectors' report (`report::write_report`) as HTML and as a
//! workbook, on a swept synthetic ledger.
//!
//! Set-up (not timed): `generate` writes a clean ledger of `CLAIMSWEEP_BENCH_CLAIMS` claims
//! (default 100 000, seed 7), `ingest` loads it and `sweep::run` sweeps it. Set
//! `CLAIMSWEEP_BENCH_DB` to an already swept database to skip all that (e.g. the 2 M run:
//! `claimsweep generate --claims 2000000 --out /tmp/r2m`, ingest, sweep).

use claimsweep::generate::{generate, GenerateOptions};
use claimsweep::policy::PolicySet;
use claimsweep::report::{write_report, Format, ReportOptions};
use criterion::{criterion_group, criterion_main, Criterion};
use std::path::PathBuf;
use std::time::Duration;

/// A swept database, and the folder to keep while benching.
fn swept() -> (PathBuf, Option<tempfile::TempDir>) {
    if let Ok(db) = std::env::var("CLAIMSWEEP_BENCH_DB") {
        return (PathBuf::from(db), None);
    }
    let claims = std::env::var("CLAIMSWEEP_BENCH_CLAIMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    generate(
        &GenerateOptions {
            claims,
            seed: 7,
            messy: false,
            rate: 0.01,
            ..Default::default()
        },
        &data,
    )
    .expect("generate");
    let db = tmp.path().join("bench.db");
    {
        let mut conn = claimsweep::store::open(&db).expect("open database");
        claimsweep::store::ingest::ingest_path(&mut conn, &data, false).expect("ingest");
    }
    claimsweep::sweep::run(
        &db,
        &PolicySet::embedded_default(),
        &claimsweep::sweep::SweepOptions::default(),
    )
    .expect("sweep");
    (db, Some(tmp))
}

fn bench(c: &mut Criterion) {
    let (db, keep) = swept();
    let out_dir = tempfile::tempdir().expect("output dir");
    let policies = PolicySet::embedded_default();
    let conn = claimsweep::store::open(&db).expect("open bench database");
    claimsweep::cases::schema::ensure_schema(&conn).expect("cases schema");
    let opts = ReportOptions::default();
    let mut g = c.benchmark_group("report");
    g.sample_size(10).measurement_time(Duration::from_secs(30));
    for (name, format) in [("html", Format::Html), ("xlsx", Format::Xlsx)] {
        let out = out_dir.path().join(format!("report.{name}"));
        g.bench_function(format!("{name}, {}", db.display()), |b| {
            b.iter(|| {
                write_report(&conn, &policies, &opts, format, &out)
                    .expect("report")
                    .summary
                    .claims
            })
        });
    }
    g.finish();
    drop(keep);
}

criterion_group!(benches, bench);
criterion_main!(benches);

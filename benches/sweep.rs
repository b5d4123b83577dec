//! Criterion bench of loading the snapshot (from SQLite, `snapshot::load_snapshot`, and from its
//! columnar file, `snapshot::file::load_current`), the resolution stage
//! (`resolve::Resolved::new`: identity resolution and each claim's policy), then of the whole
//! rule sweep (`rules::engine::run_rules`) on it, per rule family, storing the flags, and the
//! whole sweep as the CLI runs it (`sweep::run`).
//!
//! Set-up (not timed): `generate` writes a clean ledger of `CLAIMSWEEP_BENCH_CLAIMS` claims
//! (default 200 000, seed 7) into a temporary folder, `ingest` loads it, `load_snapshot` reads
//! it back — the path a real sweep takes. Set `CLAIMSWEEP_BENCH_DB` to an already ingested
//! database to skip generation and ingest (e.g. the 1 M or 10 M runs).

use claimsweep::finding::Family;
use claimsweep::generate::{generate, GenerateOptions};
use claimsweep::policy::PolicySet;
use claimsweep::refdata::RefData;
use claimsweep::rules::engine::run_rules;
use claimsweep::rules::{Flag, RuleContext, RULES};
use claimsweep::snapshot::Snapshot;
use claimsweep::store::flags as flag_store;
use criterion::{criterion_group, criterion_main, Criterion};
use std::path::PathBuf;
use std::time::Duration;

/// The snapshot, the database it came from and the folder to keep while benching.
fn snapshot() -> (Snapshot, PathBuf, Option<tempfile::TempDir>) {
    if let Ok(db) = std::env::var("CLAIMSWEEP_BENCH_DB") {
        let db = PathBuf::from(db);
        let conn = claimsweep::store::open(&db).expect("open bench database");
        return (
            claimsweep::snapshot::load_snapshot(&conn).expect("load snapshot"),
            db,
            None,
        );
    }
    let claims = std::env::var("CLAIMSWEEP_BENCH_CLAIMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
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
    let mut conn = claimsweep::store::open(&db).expect("open database");
    claimsweep::store::ingest::ingest_path(&mut conn, &data, false).expect("ingest");
    let snap = claimsweep::snapshot::load_snapshot(&conn).expect("load snapshot");
    (snap, db, Some(tmp))
}

fn bench(c: &mut Criterion) {
    let (snap, db, _keep) = snapshot();
    let policies = PolicySet::embedded_default();
    let refdata = RefData::embedded();
    let label = format!("{}k claims", snap.claims.len() / 1000);

    let mut g = c.benchmark_group("sweep");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    // The load every sweep starts with: chunked readers, interning, sealing.
    let conn = claimsweep::store::open(&db).expect("open bench database");
    g.bench_function(format!("load snapshot, {label}"), |b| {
        b.iter(|| {
            claimsweep::snapshot::load_snapshot(&conn)
                .expect("load snapshot")
                .claims
                .len()
        })
    });
    // What a sweep reads instead when the ingest state has its columnar snapshot
    // (`snapshot::file`: Arrow IPC, zstd, tables a batch at a time). Written once here if the
    // database has none.
    use claimsweep::snapshot::file::{load_current, save_current, LoadedFrom};
    let has_file = matches!(
        load_current(&conn, &db).expect("load").1,
        LoadedFrom::File(_)
    ) || save_current(&db).expect("columnar snapshot").is_some();
    if has_file {
        g.bench_function(format!("load columnar snapshot file, {label}"), |b| {
            b.iter(|| {
                let (snap, from) = load_current(&conn, &db).expect("load");
                assert!(matches!(from, LoadedFrom::File(_)));
                snap.claims.len()
            })
        });
    }
    // The resolution stage before the rules: persons (identity resolution) and each claim's
    // policy, side by side on the pool.
    g.bench_function(format!("resolve persons and policies, {label}"), |b| {
        b.iter(|| {
            claimsweep::resolve::Resolved::new(&snap, &policies)
                .persons
                .groups()
                .len()
        })
    });
    g.bench_function(format!("identity resolution only, {label}"), |b| {
        b.iter(|| {
            claimsweep::resolve::Persons::resolve(&snap, &policies)
                .groups()
                .len()
        })
    });
    g.bench_function(format!("all rules, {label}"), |b| {
        b.iter(|| run_rules(&snap, &policies, refdata, None).flags.len())
    });
    g.bench_function(format!("all rules 1 thread, {label}"), |b| {
        b.iter(|| run_rules(&snap, &policies, refdata, Some(1)).flags.len())
    });
    let resolved = claimsweep::resolve::Resolved::new(&snap, &policies);
    let ctx = RuleContext {
        snap: &snap,
        policies: &policies,
        refdata,
        resolved: &resolved,
    };
    // Rule families, as the rules' descriptors give them (and cases group them).
    for family in Family::ALL {
        let defs: Vec<_> = RULES.iter().filter(|d| d.family == family).collect();
        if defs.is_empty() {
            continue;
        }
        g.bench_function(format!("family {}, {label}", family.code()), |b| {
            b.iter(|| defs.iter().map(|d| (d.run)(&ctx).len()).sum::<usize>())
        });
    }

    let flags: Vec<Flag> = run_rules(&snap, &policies, refdata, None).flags;
    g.bench_function(format!("store {} flags", flags.len()), |b| {
        b.iter_with_setup(
            || {
                let conn = rusqlite::Connection::open_in_memory().expect("memory db");
                conn.execute_batch(claimsweep::store::SCHEMA)
                    .expect("schema");
                conn
            },
            |conn| {
                let id = flag_store::begin_sweep(&conn, &policies, 1).expect("begin");
                flag_store::save_flags(&conn, id, &snap, &flags).expect("save");
            },
        )
    });
    // The whole sweep as the CLI runs it (`sweep::run`: load, resolve, rules, graph, flags,
    // graph findings, cases), each time on a fresh copy of the ingested database.
    let policies_checked = claimsweep::sweep::load_policies(None).expect("policy");
    g.bench_function(format!("whole sweep, {label}"), |b| {
        b.iter_with_setup(
            || {
                let dir = tempfile::tempdir().expect("temp dir");
                let copy = dir.path().join("s.db");
                std::fs::copy(&db, &copy).expect("copy the database");
                (dir, copy)
            },
            |(_dir, copy)| {
                claimsweep::sweep::run(&copy, &policies_checked, &Default::default())
                    .expect("sweep")
                    .summary
                    .flags
            },
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

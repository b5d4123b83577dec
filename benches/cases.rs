//! Case building and review queries on a synthetic sweep: N claims of N / 2 persons, one flag
//! per 6 claims (a mix of person, claim, project and contact flags), as a 100,000-claim
//! ledger gives ~16,000 flags. Measures `build_for_sweep` for a first sweep (every case new)
//! and for a second sweep over the same flags (every case persisting), then `list`, `diff`
//! and `show`.
//!
//! N defaults to 100,000; set `CLAIMSWEEP_BENCH_CLAIMS=1000000` for the 1 M-claim figure.

use claimsweep::cases::{self, CaseFilter};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use rusqlite::{params, Connection};
use std::path::{Path, PathBuf};

const RULES: &[(&str, &str, &str)] = &[
    ("over_cap", "person_year", "high"),
    ("repeated_level", "person", "high"),
    ("deceased", "claim", "high"),
    ("pensioner", "claim", "medium"),
    ("prepay_excess", "project", "medium"),
    ("shared_contact", "contact", "medium"),
];

fn claims_n() -> usize {
    std::env::var("CLAIMSWEEP_BENCH_CLAIMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn person(p: usize) -> String {
    format!("3713021990{p:07}X")
}

/// A database holding sweeps 1 and 2 with the same flags, no cases built yet.
fn template(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("template.db");
    let conn = Connection::open(&path).unwrap();
    cases::schema::prepare_connection(&conn).unwrap();
    conn.execute_batch("BEGIN").unwrap();
    {
        let mut claim = conn
            .prepare(
                "INSERT INTO claims (claim_id, id_number, name, phone, county_code, institution_id,
                   class_id, amount_fen, claim_date) VALUES (?1, ?2, '张伟', ?3, '371302', ?4, ?5, ?6, '2020-03-05')",
            )
            .unwrap();
        for i in 0..n {
            let p = i / 2;
            claim
                .execute(params![
                    format!("C{i:08}"),
                    person(p),
                    format!("138{:08}", p / 3),
                    format!("ORG{}", i % 50),
                    format!("K{}", i / 40),
                    100_000 + (i % 7) as i64 * 10_000
                ])
                .unwrap();
        }
        let mut flag = conn
            .prepare(
                "INSERT INTO flags (sweep_id, seq, rule, subject_kind, subject, claim_ids,
                   amount_at_risk_fen, severity, explanation_zh, explanation_en)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, '说明', 'explanation')",
            )
            .unwrap();
        for sweep in [1, 2] {
            conn.execute(
                "INSERT INTO sweeps (sweep_id, started_at, policy, threads) VALUES (?1, 'x', 'bench', 1)",
                [sweep],
            )
            .unwrap();
            for (seq, i) in (0..n).step_by(6).enumerate() {
                let (rule, kind, sev) = RULES[seq % RULES.len()];
                let (subject, ids) = match kind {
                    "project" => (format!("K{}", i / 40), format!("C{i:08};C{:08}", i + 1)),
                    "contact" => (
                        format!("phone:138{:08}", i / 6),
                        format!("C{i:08};C{:08}", i + 2),
                    ),
                    _ => (person(i / 2), format!("C{i:08}")),
                };
                flag.execute(params![
                    sweep, seq as i64, rule, kind, subject, ids, 100_000, sev
                ])
                .unwrap();
            }
        }
    }
    conn.execute_batch("COMMIT; PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    path
}

fn fresh_copy(template: &Path, dir: &Path, name: &str) -> Connection {
    let path = dir.join(name);
    std::fs::copy(template, &path).unwrap();
    let _ = std::fs::remove_file(path.with_extension("db-wal"));
    Connection::open(&path).unwrap()
}

fn bench(c: &mut Criterion) {
    let n = claims_n();
    let dir = tempfile::tempdir().unwrap();
    let template = template(dir.path(), n);
    let mut group = c.benchmark_group(format!("cases_{n}_claims"));
    group.sample_size(10);
    group.bench_function("build_first_sweep", |b| {
        b.iter_batched(
            || fresh_copy(&template, dir.path(), "first.db"),
            |mut conn| cases::build_for_sweep(&mut conn, 1).unwrap(),
            BatchSize::PerIteration,
        )
    });
    // A database with sweep 1 built: the second build finds every case again.
    let built = dir.path().join("built.db");
    {
        let mut conn = fresh_copy(&template, dir.path(), "built.db");
        cases::build_for_sweep(&mut conn, 1).unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
    }
    group.bench_function("build_second_sweep_persisting", |b| {
        b.iter_batched(
            || fresh_copy(&built, dir.path(), "second.db"),
            |mut conn| cases::build_for_sweep(&mut conn, 2).unwrap(),
            BatchSize::PerIteration,
        )
    });
    let mut conn = fresh_copy(&built, dir.path(), "query.db");
    cases::build_for_sweep(&mut conn, 2).unwrap();
    group.bench_function("list_all", |b| {
        b.iter(|| cases::list(&conn, &CaseFilter::default()).unwrap().len())
    });
    group.bench_function("diff", |b| {
        b.iter(|| cases::diff(&conn, 1, 2).unwrap().persisting.len())
    });
    let top = cases::list(
        &conn,
        &CaseFilter {
            limit: Some(1),
            ..Default::default()
        },
    )
    .unwrap()[0]
        .case_id;
    group.bench_function("show_top_case", |b| {
        b.iter(|| cases::show(&conn, top).unwrap().claims.len())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

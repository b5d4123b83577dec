//! Ingest throughput: parse + load of an N-claim CSV into a fresh database, re-ingest of the
//! same extract (all unchanged), and `load_snapshot` of the result.
//!
//! N defaults to 100,000; set `CLAIMSWEEP_BENCH_CLAIMS=1000000` for the 1 M-claim figure.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::fmt::Write as _;
use std::path::Path;

const SURNAMES: &[&str] = &["张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴"];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳",
];
const TYPES: &[&str] = &[
    "level_cert",
    "no_level_cert",
    "career_course",
    "special_ability",
    "entrepreneurship",
    "skill_upgrade",
];
const CATEGORIES: &[&str] = &[
    "employee",
    "migrant_worker",
    "poor",
    "hardship",
    "unemployed",
    "graduate",
];
const COUNTIES: &[&str] = &["371302", "371311", "371312", "371321", "371322", "371323"];

/// Writes `claims.csv` with `n` claims of `n / 2` persons (a cheap LCG, deterministic).
fn write_claims(dir: &Path, n: usize) {
    let mut s = String::with_capacity(n * 170);
    s.push_str("claim_id,id_number,name,phone,bank_account,category,county_code,institution_id,class_id,subsidy_type,occupation_code,level,cert_no,funding_source,amount,living_days,living_amount,claim_date\n");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) as usize
    };
    for i in 0..n {
        let person = next() % (n / 2 + 1);
        let first17 = format!(
            "3713021980{:02}{:02}{:03}",
            1 + person % 12,
            1 + person % 28,
            person % 1000
        );
        let check = claimsweep::idcode::id_check_char(&first17).unwrap();
        let name = format!(
            "{}{}",
            SURNAMES[person % SURNAMES.len()],
            GIVEN[(person / 10) % GIVEN.len()]
        );
        let level = 3 + next() % 3;
        let amount = [1400, 1200, 1000][level - 3];
        let _ = writeln!(
            s,
            "C{i:08},{first17}{check},{name},138{:08},6222{:012},{},{},JG{:04},B{:06},{},{}-0{}-01,{level},Z{i:08},employment_fund,{amount}.00,0,0,{}-{:02}-{:02}",
            person % 100_000_000,
            person,
            CATEGORIES[next() % CATEGORIES.len()],
            COUNTIES[person % COUNTIES.len()],
            next() % 500,
            next() % 20_000,
            TYPES[next() % TYPES.len()],
            1 + next() % 6,
            next() % 9,
            2019 + next() % 3,
            1 + next() % 12,
            1 + next() % 28,
        );
    }
    std::fs::write(dir.join("claims.csv"), s).unwrap();
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("CLAIMSWEEP_BENCH_CLAIMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).unwrap();
    write_claims(&src, n);

    let mut g = c.benchmark_group("ingest");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    let mut run = 0;
    g.bench_function(format!("fresh_{n}_claims"), |b| {
        b.iter(|| {
            run += 1;
            let db = tmp.path().join(format!("fresh{run}.db"));
            let mut conn = claimsweep::store::open(&db).unwrap();
            let r = claimsweep::store::ingest::ingest_path(&mut conn, &src, false).unwrap();
            assert_eq!(r.tables[0].new as usize, n);
            drop(conn);
            let _ = std::fs::remove_file(&db);
        })
    });

    // What `claimsweep ingest` does on a fresh database: the snapshot built while the rows are
    // written, then saved beside the database.
    g.bench_function(format!("fresh_{n}_claims_and_snapshot"), |b| {
        b.iter(|| {
            run += 1;
            let db = tmp.path().join(format!("fresh{run}.db"));
            let mut conn = claimsweep::store::open(&db).unwrap();
            let opts = claimsweep::store::ingest::IngestOptions::default();
            let (r, snap) =
                claimsweep::snapshot::load::ingest_with_snapshot(&mut conn, &src, &opts).unwrap();
            let built = snap.expect("a fresh database");
            drop(conn);
            claimsweep::snapshot::file::save_ingested(&db, r.ingest_id, &built.snap, built.staged)
                .unwrap()
                .expect("the current state");
            let _ = std::fs::remove_file(&db);
            let _ = std::fs::remove_dir_all(claimsweep::snapshot::file::snapshots_dir(&db));
        })
    });

    let db = tmp.path().join("kept.db");
    let mut conn = claimsweep::store::open(&db).unwrap();
    claimsweep::store::ingest::ingest_path(&mut conn, &src, false).unwrap();
    g.bench_function(format!("reingest_unchanged_{n}_claims"), |b| {
        b.iter(|| {
            let r = claimsweep::store::ingest::ingest_path(&mut conn, &src, false).unwrap();
            assert_eq!(r.tables[0].unchanged as usize, n);
        })
    });
    g.bench_function(format!("load_snapshot_{n}_claims"), |b| {
        b.iter(|| {
            let s = claimsweep::snapshot::load_snapshot(&conn).unwrap();
            assert_eq!(s.claims.len(), n);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

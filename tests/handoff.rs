//! `export ledger --format parquet`: the Parquet hand-off reads back (with the `parquet`
//! crate) with every claim, flagged claim and case, each person in the bucket its documented
//! hash names.

mod common;
use arrow_array::{Array, Int64Array, StringArray};
use common::{claimsweep, query_all};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::{Path, PathBuf};

fn parquet_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            parquet_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "parquet") {
            out.push(p);
        }
    }
}

/// (partition values from the path, rows as (column → string value)).
fn read_table(dir: &Path, columns: &[&str]) -> Vec<(String, Vec<String>)> {
    let mut files = Vec::new();
    parquet_files(dir, &mut files);
    files.sort();
    let mut rows = Vec::new();
    for f in files {
        let part = f
            .parent()
            .unwrap()
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&f).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            for i in 0..batch.num_rows() {
                let row = columns
                    .iter()
                    .map(|c| {
                        let col = batch.column_by_name(c).unwrap_or_else(|| panic!("{c}"));
                        if let Some(s) = col.as_any().downcast_ref::<StringArray>() {
                            s.value(i).to_string()
                        } else {
                            col.as_any()
                                .downcast_ref::<Int64Array>()
                                .unwrap()
                                .value(i)
                                .to_string()
                        }
                    })
                    .collect();
                rows.push((part.clone(), row));
            }
        }
    }
    rows
}

#[test]
fn the_parquet_handoff_reads_back_whole_and_partitioned_by_person_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    claimsweep(
        p,
        &["generate", "--claims", "5000", "--seed", "6", "--out", "g"],
    );
    claimsweep(p, &["ingest", "g", "--db", "a.db"]);
    claimsweep(p, &["sweep", "--db", "a.db"]);
    claimsweep(
        p,
        &[
            "export",
            "ledger",
            "--db",
            "a.db",
            "--format",
            "parquet",
            "-o",
            "h",
            "--buckets",
            "8",
        ],
    );
    let db = p.join("a.db");

    let claims = read_table(&p.join("h/claims"), &["claim_id", "person", "amount_fen"]);
    let stored: Vec<(String, String, i64)> = query_all(
        &db,
        "SELECT c.claim_id, c.county_code, c.amount_fen FROM claims c ORDER BY c.claim_id",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    );
    assert_eq!(claims.len(), stored.len(), "every claim, once");
    let mut got: Vec<(String, String, i64)> = Vec::new();
    for (part, row) in &claims {
        let (county, bucket) = part.split_once('/').unwrap();
        let bucket: u32 = bucket.strip_prefix("bucket=").unwrap().parse().unwrap();
        assert_eq!(
            claimsweep::handoff::person_bucket(&row[1], 8),
            bucket,
            "{row:?}"
        );
        got.push((
            row[0].clone(),
            county.strip_prefix("county=").unwrap().to_string(),
            row[2].parse().unwrap(),
        ));
    }
    got.sort();
    assert_eq!(got, stored, "claim, county and amount as stored");

    // Resolved persons: an ID number merged into another person carries that person.
    let merged: Vec<(String, String)> = query_all(
        &db,
        "SELECT c.claim_id, p.person FROM claims c JOIN person_ids p
         ON p.sweep_id = 1 AND p.id_number = c.id_number WHERE p.person <> c.id_number",
        |r| Ok((r.get(0)?, r.get(1)?)),
    );
    for (claim, person) in &merged {
        let row = claims.iter().find(|(_, r)| &r[0] == claim).unwrap();
        assert_eq!(&row.1[1], person);
    }

    let flagged = read_table(&p.join("h/flags"), &["seq", "rule", "claim_id"]);
    let stored_flags: Vec<i64> = query_all(
        &db,
        // One row per claim a flag names: the ';'-separated ids of flags.claim_ids.
        "SELECT sum(length(claim_ids) - length(replace(claim_ids, ';', '')) + 1) FROM flags
         WHERE sweep_id = 1 AND claim_ids <> ''",
        |r| r.get(0),
    );
    assert!(stored_flags[0] > 0);
    assert_eq!(flagged.len() as i64, stored_flags[0]);

    let cases = read_table(&p.join("h/cases"), &["case_id", "amount_at_risk_fen"]);
    let stored_cases: Vec<(i64, i64)> = query_all(
        &db,
        "SELECT count(*), COALESCE(sum(amount_at_risk_fen), 0) FROM case_sweeps WHERE sweep_id = 1",
        |r| Ok((r.get(0)?, r.get(1)?)),
    );
    assert_eq!(cases.len() as i64, stored_cases[0].0);
    let sum: i64 = cases
        .iter()
        .map(|(_, r)| r[1].parse::<i64>().unwrap())
        .sum();
    assert_eq!(sum, stored_cases[0].1);

    // A second export never writes into a non-empty folder.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_claimsweep"))
        .args(["export", "ledger", "--db", "a.db", "-o", "h"])
        .current_dir(p)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("不为空"));
}

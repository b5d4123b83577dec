//! The hand-off to distributed engines: a sweep's claims (with their resolved person), flags
//! and cases as Parquet, in Hive-style partition folders that DuckDB, Spark and DataFusion read
//! as tables.
//!
//! ```text
//! DIR/claims/county=<code>/bucket=<b>/part-0.parquet
//! DIR/flags/county=<code>/bucket=<b>/part-0.parquet      one row per (flag, claim)
//! DIR/cases/subject_kind=<kind>/part-0.parquet
//! DIR/_manifest.json                                       sweep, ingest, row counts
//! ```
//!
//! `bucket` is [`person_bucket`] of the resolved person: a person's claims and flags are in one
//! bucket of their county, so the person-level rules can run bucket by bucket on a cluster (the
//! partitioned plan of `docs/SCALING.md`). The function is FNV-1a (64-bit) of the person's
//! UTF-8 bytes modulo the bucket count, simple to reproduce in any engine.
//!
//! Rows are read in county order, so the writer holds one county's rows at a time.

use crate::store::handoff::{self, HandoffCase, HandoffClaim, HandoffFlag};
use crate::store::read::LedgerState;
use arrow_array::{ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rusqlite::Connection;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum HandoffError {
    #[error("数据库错误 / database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("{0}: 输出目录已存在且不为空；请换一个目录 / the output folder exists and is not empty; choose another")]
    NotEmpty(PathBuf),
}

/// FNV-1a 64 of the person's bytes, modulo `buckets`.
pub fn person_bucket(person: &str, buckets: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in person.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % u64::from(buckets.max(1))) as u32
}

/// What was written.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Manifest {
    pub sweep_id: i64,
    pub ingest_id: i64,
    pub buckets: u32,
    pub claims: u64,
    pub flagged_claims: u64,
    pub cases: u64,
    pub files: u64,
    pub bytes: u64,
}

/// Writes the hand-off of `sweep_id` into `out` (created; must be empty or absent).
pub fn export(
    conn: &Connection,
    sweep_id: i64,
    out: &Path,
    buckets: u32,
) -> Result<Manifest, HandoffError> {
    if out.exists()
        && std::fs::read_dir(out)
            .map_err(|e| io_err(out, e))?
            .next()
            .is_some()
    {
        return Err(HandoffError::NotEmpty(out.to_path_buf()));
    }
    let state = LedgerState::of_sweep(conn, sweep_id)?;
    let buckets = buckets.max(1);
    let mut m = Manifest {
        sweep_id,
        ingest_id: state.ingest_id(),
        buckets,
        ..Manifest::default()
    };

    // Claims, one county at a time.
    let mut county = String::new();
    let mut pending: BTreeMap<u32, Vec<HandoffClaim>> = BTreeMap::new();
    handoff::for_each_claim(conn, &state, sweep_id, |c| {
        if c.county_code != county {
            flush_claims(out, &county, &mut pending, &mut m)?;
            county = c.county_code.clone();
        }
        m.claims += 1;
        pending
            .entry(person_bucket(&c.person, buckets))
            .or_default()
            .push(c);
        Ok::<(), HandoffError>(())
    })?;
    flush_claims(out, &county, &mut pending, &mut m)?;

    let mut county = String::new();
    let mut pending: BTreeMap<u32, Vec<HandoffFlag>> = BTreeMap::new();
    handoff::for_each_flagged_claim(conn, &state, sweep_id, |f| {
        if f.county_code != county {
            flush_flags(out, &county, &mut pending, &mut m)?;
            county = f.county_code.clone();
        }
        m.flagged_claims += 1;
        pending
            .entry(person_bucket(&f.person, buckets))
            .or_default()
            .push(f);
        Ok::<(), HandoffError>(())
    })?;
    flush_flags(out, &county, &mut pending, &mut m)?;

    let mut kind = String::new();
    let mut rows: Vec<HandoffCase> = Vec::new();
    handoff::for_each_case(conn, sweep_id, |c| {
        if c.subject_kind != kind {
            write_cases(out, &kind, &mut rows, &mut m)?;
            kind = c.subject_kind.clone();
        }
        m.cases += 1;
        rows.push(c);
        Ok::<(), HandoffError>(())
    })?;
    write_cases(out, &kind, &mut rows, &mut m)?;

    std::fs::create_dir_all(out).map_err(|e| io_err(out, e))?;
    let path = out.join("_manifest.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&m).expect("manifest serialises") + "\n",
    )
    .map_err(|e| io_err(&path, e))?;
    Ok(m)
}

fn io_err(path: &Path, source: std::io::Error) -> HandoffError {
    HandoffError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A Hive partition value: the folder name must stay one path component.
fn part_value(v: &str) -> String {
    if v.is_empty() {
        return "__HIVE_DEFAULT_PARTITION__".to_string();
    }
    v.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn strings<'a>(v: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(v))
}

/// Days since 1970-01-01 of an ISO date (None for text that is not one).
fn date32(s: &str) -> Option<i32> {
    crate::dates::Date::parse_iso(s).map(|d| d.0)
}

fn write_parquet(
    path: &Path,
    columns: Vec<(&str, DataType, bool, ArrayRef)>,
    m: &mut Manifest,
) -> Result<(), HandoffError> {
    let dir = path.parent().expect("a partition folder");
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, t, nullable, _)| Field::new(*n, t.clone(), *nullable))
            .collect::<Vec<_>>(),
    ));
    let pq = |source| HandoffError::Parquet {
        path: path.to_path_buf(),
        source,
    };
    let batch = RecordBatch::try_new(schema.clone(), columns.into_iter().map(|c| c.3).collect())
        .map_err(|e| pq(e.into()))?;
    let file = std::fs::File::create(path).map_err(|e| io_err(path, e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by("claimsweep".to_string())
        .build();
    let mut w = ArrowWriter::try_new(file, schema, Some(props)).map_err(pq)?;
    w.write(&batch).map_err(pq)?;
    w.close().map_err(pq)?;
    m.files += 1;
    m.bytes += std::fs::metadata(path).map(|x| x.len()).unwrap_or(0);
    Ok(())
}

fn flush_claims(
    out: &Path,
    county: &str,
    pending: &mut BTreeMap<u32, Vec<HandoffClaim>>,
    m: &mut Manifest,
) -> Result<(), HandoffError> {
    for (bucket, rows) in std::mem::take(pending) {
        let path = out
            .join("claims")
            .join(format!("county={}", part_value(county)))
            .join(format!("bucket={bucket}"))
            .join("part-0.parquet");
        let s = |f: fn(&HandoffClaim) -> &str| strings(rows.iter().map(f));
        write_parquet(
            &path,
            vec![
                ("claim_id", DataType::Utf8, false, s(|c| &c.claim_id)),
                ("id_number", DataType::Utf8, false, s(|c| &c.id_number)),
                ("person", DataType::Utf8, false, s(|c| &c.person)),
                ("name", DataType::Utf8, false, s(|c| &c.name)),
                ("phone", DataType::Utf8, false, s(|c| &c.phone)),
                (
                    "bank_account",
                    DataType::Utf8,
                    false,
                    s(|c| &c.bank_account),
                ),
                ("category", DataType::Utf8, false, s(|c| &c.category)),
                (
                    "institution_id",
                    DataType::Utf8,
                    false,
                    s(|c| &c.institution_id),
                ),
                ("class_id", DataType::Utf8, false, s(|c| &c.class_id)),
                (
                    "subsidy_type",
                    DataType::Utf8,
                    false,
                    s(|c| &c.subsidy_type),
                ),
                (
                    "occupation_code",
                    DataType::Utf8,
                    false,
                    s(|c| &c.occupation_code),
                ),
                (
                    "level",
                    DataType::Int64,
                    true,
                    Arc::new(Int64Array::from_iter(rows.iter().map(|c| c.level))),
                ),
                ("cert_no", DataType::Utf8, false, s(|c| &c.cert_no)),
                (
                    "funding_source",
                    DataType::Utf8,
                    false,
                    s(|c| &c.funding_source),
                ),
                (
                    "amount_fen",
                    DataType::Int64,
                    false,
                    Arc::new(Int64Array::from_iter_values(
                        rows.iter().map(|c| c.amount_fen),
                    )),
                ),
                (
                    "living_days",
                    DataType::Int64,
                    false,
                    Arc::new(Int64Array::from_iter_values(
                        rows.iter().map(|c| c.living_days),
                    )),
                ),
                (
                    "living_amount_fen",
                    DataType::Int64,
                    false,
                    Arc::new(Int64Array::from_iter_values(
                        rows.iter().map(|c| c.living_amount_fen),
                    )),
                ),
                (
                    "claim_date",
                    DataType::Date32,
                    true,
                    Arc::new(Date32Array::from_iter(
                        rows.iter().map(|c| date32(&c.claim_date)),
                    )),
                ),
            ],
            m,
        )?;
    }
    Ok(())
}

fn flush_flags(
    out: &Path,
    county: &str,
    pending: &mut BTreeMap<u32, Vec<HandoffFlag>>,
    m: &mut Manifest,
) -> Result<(), HandoffError> {
    for (bucket, rows) in std::mem::take(pending) {
        let path = out
            .join("flags")
            .join(format!("county={}", part_value(county)))
            .join(format!("bucket={bucket}"))
            .join("part-0.parquet");
        let s = |f: fn(&HandoffFlag) -> &str| strings(rows.iter().map(f));
        write_parquet(
            &path,
            vec![
                (
                    "sweep_id",
                    DataType::Int64,
                    false,
                    Arc::new(Int64Array::from_iter_values(
                        rows.iter().map(|_| m.sweep_id),
                    )),
                ),
                (
                    "seq",
                    DataType::Int64,
                    false,
                    Arc::new(Int64Array::from_iter_values(rows.iter().map(|f| f.seq))),
                ),
                ("rule", DataType::Utf8, false, s(|f| &f.rule)),
                (
                    "subject_kind",
                    DataType::Utf8,
                    false,
                    s(|f| &f.subject_kind),
                ),
                ("subject", DataType::Utf8, false, s(|f| &f.subject)),
                ("severity", DataType::Utf8, false, s(|f| &f.severity)),
                (
                    "flag_amount_at_risk_fen",
                    DataType::Int64,
                    false,
                    Arc::new(Int64Array::from_iter_values(
                        rows.iter().map(|f| f.amount_at_risk_fen),
                    )),
                ),
                ("claim_id", DataType::Utf8, false, s(|f| &f.claim_id)),
                ("person", DataType::Utf8, false, s(|f| &f.person)),
            ],
            m,
        )?;
    }
    Ok(())
}

fn write_cases(
    out: &Path,
    kind: &str,
    rows: &mut Vec<HandoffCase>,
    m: &mut Manifest,
) -> Result<(), HandoffError> {
    if rows.is_empty() {
        return Ok(());
    }
    let rows = std::mem::take(rows);
    let path = out
        .join("cases")
        .join(format!("subject_kind={}", part_value(kind)))
        .join("part-0.parquet");
    let s = |f: fn(&HandoffCase) -> &str| strings(rows.iter().map(f));
    write_parquet(
        &path,
        vec![
            (
                "case_id",
                DataType::Int64,
                false,
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|c| c.case_id))),
            ),
            ("case_key", DataType::Utf8, false, s(|c| &c.case_key)),
            ("subject", DataType::Utf8, false, s(|c| &c.subject)),
            ("rule_family", DataType::Utf8, false, s(|c| &c.rule_family)),
            ("status", DataType::Utf8, false, s(|c| &c.status)),
            ("change", DataType::Utf8, false, s(|c| &c.change)),
            (
                "score",
                DataType::Float64,
                false,
                Arc::new(Float64Array::from_iter_values(rows.iter().map(|c| c.score))),
            ),
            (
                "amount_at_risk_fen",
                DataType::Int64,
                false,
                Arc::new(Int64Array::from_iter_values(
                    rows.iter().map(|c| c.amount_at_risk_fen),
                )),
            ),
            ("rules", DataType::Utf8, false, s(|c| &c.rules)),
            ("claim_ids", DataType::Utf8, false, s(|c| &c.claim_ids)),
        ],
        m,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn bucket_is_fnv1a_modulo() {
        // FNV-1a 64 of "" is the offset basis.
        assert_eq!(
            person_bucket("", 1 << 31),
            (0xcbf2_9ce4_8422_2325u64 % (1 << 31)) as u32
        );
        assert_eq!(
            person_bucket("a", u32::MAX),
            (0xaf63_dc4c_8601_ec8cu64 % u64::from(u32::MAX)) as u32
        );
        assert!(person_bucket("371302198001011234", 16) < 16);
        assert_eq!(part_value("3713/02"), "3713_02");
        assert_eq!(part_value(""), "__HIVE_DEFAULT_PARTITION__");
    }
}

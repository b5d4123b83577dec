//! Sweeps and their flags in the database (`sweeps`, `flags`, `flag_claims` of schema.sql).
//!
//! A sweep is begun (policy fingerprint, ingest, threads), its flags are saved in one
//! transaction, and it is finished with its summary. Older sweeps are kept: every query names
//! its sweep, and "the latest" means the latest finished one.

use crate::policy::PolicySet;
use crate::rules::Flag;
use crate::snapshot::Snapshot;
use rusqlite::{params, Connection, OptionalExtension};

#[derive(Debug, thiserror::Error)]
pub enum FlagStoreError {
    #[error("数据库错误 / database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("没有第 {0} 次筛查 / sweep {0} not found")]
    NoSweep(i64),
    #[error("数据库中还没有完成的筛查（请先运行 `claimsweep sweep`） / no finished sweep in the database yet (run `claimsweep sweep` first)")]
    NoSweeps,
    #[error(transparent)]
    Store(#[from] super::StoreError),
    #[error("筛查摘要无法序列化 / sweep summary cannot be serialised: {0}")]
    Summary(#[from] serde_json::Error),
}

/// One flag as stored: claim ids are strings here (the snapshot is gone).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StoredFlag {
    pub sweep_id: i64,
    pub seq: i64,
    pub rule: String,
    pub subject_kind: String,
    pub subject: String,
    /// Sorted.
    pub claim_ids: Vec<String>,
    pub amount_at_risk_fen: i64,
    pub severity: String,
    pub explanation_zh: String,
    pub explanation_en: String,
}

/// What a finished sweep records besides its flags.
#[derive(Clone, Debug)]
pub struct SweepRecord {
    pub sweep_id: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub policy: String,
    pub ingest_id: Option<i64>,
    pub threads: i64,
    pub claims: i64,
    pub summary_json: String,
}

/// UTC timestamp `YYYY-MM-DDTHH:MM:SSZ` (no clock crate needed for that).
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let day = crate::dates::Date((secs / 86_400) as i32);
    let s = secs % 86_400;
    format!("{day}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
}

/// Records the start of a sweep: which policies (with their hashes), which ingest, how many
/// threads. Returns the new sweep id.
pub fn begin_sweep(
    conn: &Connection,
    policies: &PolicySet,
    threads: usize,
) -> Result<i64, FlagStoreError> {
    let ingest_id = super::latest_ingest_id(conn)?;
    conn.execute(
        "INSERT INTO sweeps (started_at, policy, ingest_id, threads) VALUES (?1, ?2, ?3, ?4)",
        params![now_utc(), policies.fingerprint(), ingest_id, threads as i64],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Saves the flags of a sweep in one transaction: one `flags` row per flag (`seq` = position
/// in `flags`), one `flag_claims` row per claim of a flag.
pub fn save_flags(
    conn: &Connection,
    sweep_id: i64,
    snap: &Snapshot,
    flags: &[Flag],
) -> Result<(), FlagStoreError> {
    save_flags_with_progress(
        conn,
        sweep_id,
        snap,
        flags,
        &indicatif::ProgressBar::hidden(),
    )
}

/// [`save_flags`], advancing `progress` by one per flag.
pub fn save_flags_with_progress(
    conn: &Connection,
    sweep_id: i64,
    snap: &Snapshot,
    flags: &[Flag],
    progress: &indicatif::ProgressBar,
) -> Result<(), FlagStoreError> {
    let tx = conn.unchecked_transaction()?;
    {
        let mut insert_flag = tx.prepare(
            "INSERT INTO flags (sweep_id, seq, rule, subject_kind, subject, claim_ids,
                amount_at_risk_fen, severity, explanation_zh, explanation_en)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        let mut insert_claim =
            tx.prepare("INSERT INTO flag_claims (sweep_id, seq, claim_id) VALUES (?1, ?2, ?3)")?;
        let mut joined = String::new();
        progress.set_length(flags.len() as u64);
        for (seq, f) in flags.iter().enumerate() {
            let seq = seq as i64;
            // Snapshot claims are sorted by claim id, and flag claims are sorted indices, so the
            // ids come out sorted.
            joined.clear();
            for (k, &c) in f.claims.iter().enumerate() {
                if k > 0 {
                    joined.push(';');
                }
                joined.push_str(snap.claim_id(c as usize));
            }
            insert_flag.execute(params![
                sweep_id,
                seq,
                f.rule,
                f.subject_kind,
                f.subject,
                joined,
                f.amount_at_risk,
                f.severity.code(),
                f.explanation_zh,
                f.explanation_en
            ])?;
            for &c in &f.claims {
                insert_claim.execute(params![sweep_id, seq, snap.claim_id(c as usize)])?;
            }
            if seq % 1024 == 0 {
                progress.set_position(seq as u64);
            }
        }
        progress.finish_and_clear();
        // Evaluation and case building look claims up per sweep.
        tx.execute_batch(
            "CREATE INDEX IF NOT EXISTS flag_claims_sweep ON flag_claims(sweep_id, seq)",
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Marks a sweep finished with its claim count and summary (any serialisable value).
pub fn finish_sweep<S: serde::Serialize>(
    conn: &Connection,
    sweep_id: i64,
    claims: usize,
    summary: &S,
) -> Result<(), FlagStoreError> {
    let json = serde_json::to_string(summary)?;
    let n = conn.execute(
        "UPDATE sweeps SET finished_at = ?2, claims = ?3, summary_json = ?4 WHERE sweep_id = ?1",
        params![sweep_id, now_utc(), claims as i64, json],
    )?;
    if n == 0 {
        return Err(FlagStoreError::NoSweep(sweep_id));
    }
    Ok(())
}

/// The latest finished sweep, if any.
pub fn latest_sweep_id(conn: &Connection) -> Result<Option<i64>, FlagStoreError> {
    Ok(conn.query_row(
        "SELECT MAX(sweep_id) FROM sweeps WHERE finished_at IS NOT NULL",
        [],
        |r| r.get(0),
    )?)
}

/// `Some(id)` if that sweep exists, else the latest finished sweep; an error if there is none.
pub fn resolve_sweep(conn: &Connection, sweep: Option<i64>) -> Result<i64, FlagStoreError> {
    match sweep {
        Some(id) => sweep_record(conn, id).map(|r| r.sweep_id),
        None => latest_sweep_id(conn)?.ok_or(FlagStoreError::NoSweeps),
    }
}

pub fn sweep_record(conn: &Connection, sweep_id: i64) -> Result<SweepRecord, FlagStoreError> {
    conn.query_row(
        "SELECT sweep_id, started_at, finished_at, policy, ingest_id, threads, claims, summary_json
         FROM sweeps WHERE sweep_id = ?1",
        [sweep_id],
        |r| {
            Ok(SweepRecord {
                sweep_id: r.get(0)?,
                started_at: r.get(1)?,
                finished_at: r.get(2)?,
                policy: r.get(3)?,
                ingest_id: r.get(4)?,
                threads: r.get(5)?,
                claims: r.get(6)?,
                summary_json: r.get(7)?,
            })
        },
    )
    .optional()?
    .ok_or(FlagStoreError::NoSweep(sweep_id))
}

/// Every sweep id, oldest first.
pub fn sweep_ids(conn: &Connection) -> Result<Vec<i64>, FlagStoreError> {
    let mut st = conn.prepare("SELECT sweep_id FROM sweeps ORDER BY sweep_id")?;
    let ids = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(ids)
}

/// The flags of a sweep in their stored order.
pub fn load_flags(conn: &Connection, sweep_id: i64) -> Result<Vec<StoredFlag>, FlagStoreError> {
    let mut st = conn.prepare(
        "SELECT seq, rule, subject_kind, subject, claim_ids, amount_at_risk_fen, severity,
                explanation_zh, explanation_en
         FROM flags WHERE sweep_id = ?1 ORDER BY seq",
    )?;
    let rows = st.query_map([sweep_id], |r| {
        let ids: String = r.get(4)?;
        Ok(StoredFlag {
            sweep_id,
            seq: r.get(0)?,
            rule: r.get(1)?,
            subject_kind: r.get(2)?,
            subject: r.get(3)?,
            claim_ids: if ids.is_empty() {
                Vec::new()
            } else {
                ids.split(';').map(str::to_string).collect()
            },
            amount_at_risk_fen: r.get(5)?,
            severity: r.get(6)?,
            explanation_zh: r.get(7)?,
            explanation_en: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Distinct (rule, claim id) pairs flagged in a sweep, sorted: what evaluation compares with
/// the labels.
pub fn flagged_pairs(
    conn: &Connection,
    sweep_id: i64,
) -> Result<Vec<(String, String)>, FlagStoreError> {
    let mut st = conn.prepare(
        "SELECT DISTINCT f.rule, c.claim_id FROM flag_claims c
         JOIN flags f ON f.sweep_id = c.sweep_id AND f.seq = c.seq
         WHERE c.sweep_id = ?1 ORDER BY f.rule, c.claim_id",
    )?;
    let pairs = st
        .query_map([sweep_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::Date;
    use crate::model::*;
    use crate::policy::Severity;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(super::super::SCHEMA).unwrap();
        conn
    }

    fn snap() -> Snapshot {
        let d = Date::from_ymd(2020, 1, 1).unwrap();
        let mk = |id: &str| ClaimRow {
            claim_id: id.into(),
            id_number: "X".into(),
            claim_date: d,
            ..Default::default()
        };
        Snapshot::from_ledger(&Ledger {
            claims: vec![mk("C3"), mk("C1"), mk("C2")],
            ..Default::default()
        })
    }

    fn flag(rule: &'static str, claims: Vec<u32>) -> Flag {
        Flag {
            rule,
            subject_kind: "person",
            subject: "X".into(),
            claims,
            amount_at_risk: 12_345,
            severity: Severity::High,
            explanation_zh: "说明".into(),
            explanation_en: "why".into(),
        }
    }

    #[test]
    fn flags_round_trip_and_sweeps_are_kept() {
        let conn = db();
        let snap = snap();
        let policies = PolicySet::embedded_default();
        assert_eq!(latest_sweep_id(&conn).unwrap(), None);
        assert!(matches!(
            resolve_sweep(&conn, None),
            Err(FlagStoreError::NoSweeps)
        ));

        let s1 = begin_sweep(&conn, &policies, 4).unwrap();
        save_flags(
            &conn,
            s1,
            &snap,
            &[flag("over_cap", vec![0, 2]), flag("deceased", vec![1])],
        )
        .unwrap();
        // Not finished yet: not the latest.
        assert_eq!(latest_sweep_id(&conn).unwrap(), None);
        finish_sweep(&conn, s1, 3, &serde_json::json!({"flags": 2})).unwrap();
        let s2 = begin_sweep(&conn, &policies, 1).unwrap();
        save_flags(&conn, s2, &snap, &[flag("deceased", vec![1])]).unwrap();
        finish_sweep(&conn, s2, 3, &serde_json::json!({})).unwrap();

        assert_eq!(latest_sweep_id(&conn).unwrap(), Some(s2));
        assert_eq!(sweep_ids(&conn).unwrap(), vec![s1, s2]);
        let f1 = load_flags(&conn, s1).unwrap();
        assert_eq!(f1.len(), 2);
        assert_eq!(f1[0].claim_ids, vec!["C1", "C3"]);
        assert_eq!(
            (f1[0].seq, f1[0].rule.as_str(), f1[0].severity.as_str()),
            (0, "over_cap", "high")
        );
        assert_eq!(f1[0].amount_at_risk_fen, 12_345);
        assert_eq!(load_flags(&conn, s2).unwrap().len(), 1);
        assert_eq!(
            flagged_pairs(&conn, s1).unwrap(),
            vec![
                ("deceased".to_string(), "C2".to_string()),
                ("over_cap".to_string(), "C1".to_string()),
                ("over_cap".to_string(), "C3".to_string())
            ]
        );
        let rec = sweep_record(&conn, s1).unwrap();
        assert_eq!((rec.threads, rec.claims), (4, 3));
        assert_eq!(rec.policy, policies.fingerprint());
        assert!(rec.finished_at.is_some());
        assert!(matches!(
            resolve_sweep(&conn, Some(99)),
            Err(FlagStoreError::NoSweep(99))
        ));
    }

    #[test]
    fn timestamp_is_iso_utc() {
        let t = now_utc();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z') && &t[10..11] == "T");
    }
}

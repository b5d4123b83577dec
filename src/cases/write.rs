//! Writing a sweep's cases: rows decided in runs on the pool, written by a batched SQL writer
//! in one transaction.

#[allow(unused_imports)]
use super::group::*;
#[allow(unused_imports)]
use super::history::*;
#[allow(unused_imports)]
use super::input::*;
use super::{CaseError, Change, Status};
use crate::dates::now_timestamp;
use crate::model::{fen_to_yuan, Fen};
use crate::policy::CasesPolicy;
use rusqlite::{params, Connection, ToSql, TransactionBehavior};
use std::collections::BTreeSet;

/// Rows of one table waiting for a multi-row insert.
pub(super) struct RowBuffer {
    /// `INSERT INTO table (columns)`.
    pub(super) head: &'static str,
    /// One row's `(?, …)`.
    pub(super) row: &'static str,
    pub(super) columns: usize,
}

/// Rows per multi-row insert: large enough to pay the statement overhead once per batch,
/// small enough to stay under SQLite's parameter limit.
pub(super) const BATCH_ROWS: usize = 256;

impl RowBuffer {
    pub(super) fn insert(&self, conn: &Connection, params: &[&dyn ToSql]) -> Result<(), CaseError> {
        debug_assert_eq!(params.len() % self.columns, 0);
        for chunk in params.chunks(self.columns * BATCH_ROWS) {
            let rows = chunk.len() / self.columns;
            conn.prepare_cached(&crate::store::batch::values_sql_with(
                self.head, self.row, rows,
            ))?
            .execute(rusqlite::params_from_iter(chunk.iter()))?;
        }
        Ok(())
    }
}

pub(super) const CASES_ROWS: RowBuffer = RowBuffer {
    head: "INSERT INTO cases (case_id, case_key, subject_kind, subject, rule_family, county_code,
       institution_id, status, first_sweep_id, last_sweep_id, created_at, updated_at, score,
       amount_at_risk_fen, claims, rules, claim_hash)",
    row: "(?,?,?,?,?,?,?,'open',?,?,?,?,?,?,?,?,?)",
    columns: 16,
};
pub(super) const SWEEP_ROWS: RowBuffer = RowBuffer {
    head: "INSERT INTO case_sweeps (case_id, sweep_id, change, score, amount_at_risk_fen, claims,
       claim_hash, rules, claim_ids, detail_json)",
    row: "(?,?,?,?,?,?,?,?,?,?)",
    columns: 10,
};
pub(super) const FLAG_ROWS: RowBuffer = RowBuffer {
    head: "INSERT OR IGNORE INTO case_flags (case_id, sweep_id, seq)",
    row: "(?,?,?)",
    columns: 3,
};
pub(super) const HISTORY_ROWS: RowBuffer = RowBuffer {
    head: "INSERT INTO case_history (case_id, at, actor, action, from_status, to_status, note,
       sweep_id)",
    row: "(?,?,?,?,?,?,?,?)",
    columns: 8,
};

pub(super) struct NewCaseRow {
    pub(super) case_id: i64,
    pub(super) case: u32,
    pub(super) score: f64,
    pub(super) amount: Fen,
    pub(super) claims: i64,
    pub(super) rules: String,
    pub(super) hash: String,
}

pub(super) struct UpdateRow {
    pub(super) case_id: i64,
    pub(super) case: u32,
    pub(super) status: &'static str,
    pub(super) score: f64,
    pub(super) amount: Fen,
    pub(super) claims: i64,
    pub(super) rules: String,
    pub(super) hash: String,
}

pub(super) struct SweepRow {
    pub(super) case_id: i64,
    pub(super) change: &'static str,
    pub(super) score: f64,
    pub(super) amount: Fen,
    pub(super) claims: i64,
    pub(super) hash: String,
    pub(super) rules: String,
    pub(super) claim_ids: String,
    pub(super) detail: String,
}

pub(super) struct HistoryRow {
    pub(super) case_id: i64,
    pub(super) action: &'static str,
    pub(super) from: Option<&'static str>,
    pub(super) to: Option<&'static str>,
    pub(super) note: String,
}

/// Rows of a run of cases, written table by table; each table gets its rows in case key
/// order, as one case at a time would write them.
#[derive(Default)]
pub(super) struct PendingRows {
    pub(super) new_cases: Vec<NewCaseRow>,
    pub(super) updates: Vec<UpdateRow>,
    pub(super) sweeps: Vec<SweepRow>,
    pub(super) flags: Vec<(i64, i64)>,
    pub(super) history: Vec<HistoryRow>,
}

/// Cases per write run: bounds the rows held in memory.
pub(super) const CASES_PER_RUN: usize = 4096;

impl PendingRows {
    pub(super) fn history(
        &mut self,
        case_id: i64,
        action: &'static str,
        from: Status,
        to: Status,
        note: String,
    ) {
        self.history.push(HistoryRow {
            case_id,
            action,
            from: Some(from.code()),
            to: Some(to.code()),
            note,
        });
    }

    /// Inserts the rows (the caller clears them: see `decide_rows`).
    pub(super) fn flush(
        &self,
        tx: &Connection,
        grouped: &Grouped,
        sweep_id: i64,
        now: &str,
    ) -> Result<(), CaseError> {
        let mut params: Vec<&dyn ToSql> = Vec::new();
        let texts: Vec<[&str; 3]> = self
            .new_cases
            .iter()
            .map(|r| {
                let case = &grouped.cases[r.case as usize];
                [
                    case.subject(),
                    grouped.texts.resolve(case.county),
                    grouped.texts.resolve(case.institution),
                ]
            })
            .collect();
        for (r, [subject, county, institution]) in self.new_cases.iter().zip(&texts) {
            let case = &grouped.cases[r.case as usize];
            params.extend_from_slice(&[
                &r.case_id,
                &case.key,
                &case.subject_kind,
                subject,
                &case.family,
                county,
                institution,
                &sweep_id,
                &sweep_id,
                &now,
                &now,
                &r.score,
                &r.amount,
                &r.claims,
                &r.rules,
                &r.hash,
            ]);
        }
        CASES_ROWS.insert(tx, &params)?;
        if !self.updates.is_empty() {
            let mut update = tx.prepare_cached(
                "UPDATE cases SET status = ?2, last_sweep_id = ?3, county_code = ?4,
                   institution_id = ?5, updated_at = ?6, score = ?7, amount_at_risk_fen = ?8,
                   claims = ?9, rules = ?10, claim_hash = ?11 WHERE case_id = ?1",
            )?;
            for r in &self.updates {
                let case = &grouped.cases[r.case as usize];
                update.execute(params![
                    r.case_id,
                    r.status,
                    sweep_id,
                    grouped.texts.resolve(case.county),
                    grouped.texts.resolve(case.institution),
                    now,
                    r.score,
                    r.amount,
                    r.claims,
                    r.rules,
                    r.hash
                ])?;
            }
        }
        params.clear();
        for r in &self.sweeps {
            params.extend_from_slice(&[
                &r.case_id,
                &sweep_id,
                &r.change,
                &r.score,
                &r.amount,
                &r.claims,
                &r.hash,
                &r.rules,
                &r.claim_ids,
                &r.detail,
            ]);
        }
        SWEEP_ROWS.insert(tx, &params)?;
        params.clear();
        for (case_id, seq) in &self.flags {
            params.extend_from_slice(&[case_id, &sweep_id, seq]);
        }
        FLAG_ROWS.insert(tx, &params)?;
        params.clear();
        for r in &self.history {
            params.extend_from_slice(&[
                &r.case_id,
                &now,
                &SYSTEM_ACTOR,
                &r.action,
                &r.from,
                &r.to,
                &r.note,
                &sweep_id,
            ]);
        }
        HISTORY_ROWS.insert(tx, &params)?;
        Ok(())
    }

    pub(super) fn clear(&mut self) {
        self.new_cases.clear();
        self.updates.clear();
        self.sweeps.clear();
        self.flags.clear();
        self.history.clear();
    }
}

/// Decides the rows of every case of `grouped` (in `order`), against the stored ones
/// (`existing`, matched by position), handing them to `emit` a run of `CASES_PER_RUN` cases at a
/// time, each in the buffers `empty_rows` gives (cleared here: they may be runs already
/// written); `Err(())` from `emit` stops it. Returns the summary with this sweep's counts
/// added.
#[allow(clippy::too_many_arguments)]
pub(super) fn decide_rows<F: ClaimFacts>(
    policy: &CasesPolicy,
    facts: &F,
    grouped: &Grouped,
    mut existing: Vec<Option<Existing>>,
    prev_sweep: Option<i64>,
    mut next_case_id: i64,
    mut summary: CaseSummary,
    mut emit: impl FnMut(PendingRows) -> Result<(), ()>,
    mut empty_rows: impl FnMut() -> PendingRows,
) -> Result<CaseSummary, ()> {
    let mut pending = PendingRows::default();
    for (position, &ci) in grouped.order.iter().enumerate() {
        let case = &grouped.cases[ci as usize];
        let claims = grouped.claims_of(case);
        let claim_ids = || claims.iter().map(|x| facts.claim_id(x.1));
        let rules_joined = join_iter(grouped.rules_of(case));
        let rule_count = case.rules.len();
        let amount: Fen = claims.iter().map(|x| x.2).sum();
        let hash = evidence_hash_sorted(claim_ids(), grouped.rules_of(case));
        let case_score = score(policy, case.max_weight, rule_count, amount);
        let now = CaseNow {
            case: ci,
            score: case_score,
            amount,
            claims: claims.len() as i64,
            rules: &rules_joined,
            hash: &hash,
        };
        let (case_id, change, detail) = match existing[position].take() {
            None => {
                let case_id = next_case_id;
                next_case_id += 1;
                open_case(&mut pending, &mut summary, case_id, &now);
                (case_id, Change::New, ChangeDetail::default())
            }
            Some(old) => {
                let new_claims = || claim_ids().map(String::from).collect::<BTreeSet<String>>();
                let new_rules = || grouped.rules_of(case).map(String::from).collect();
                let d = old_evidence_delta(&old, amount, new_claims, new_rules);
                continue_case(&mut pending, &mut summary, old, prev_sweep, d, &now)
            }
        };
        let mut detail = detail;
        detail.ring_ids = case.ring_ids.clone();
        detail.institution_rank = case.institution_rank;
        pending.sweeps.push(SweepRow {
            case_id,
            change: change.code(),
            score: case_score,
            amount,
            claims: claims.len() as i64,
            hash,
            rules: rules_joined,
            claim_ids: join_iter(claim_ids()),
            detail: detail.to_json(),
        });
        pending.flags.extend(
            grouped.seqs[case.seqs.clone()]
                .iter()
                .map(|&(_, seq)| (case_id, seq)),
        );
        summary.cases += 1;
        summary.amount_at_risk_fen += amount;
        if (position + 1) % CASES_PER_RUN == 0 {
            let mut next = empty_rows();
            next.clear();
            emit(std::mem::replace(&mut pending, next))?;
        }
    }
    emit(pending)?;
    Ok(summary)
}

/// What a case is in this sweep, as its rows record it.
struct CaseNow<'a> {
    case: u32,
    score: f64,
    amount: Fen,
    claims: i64,
    rules: &'a str,
    hash: &'a str,
}

/// The rows of a case found for the first time.
fn open_case(pending: &mut PendingRows, summary: &mut CaseSummary, case_id: i64, now: &CaseNow) {
    pending.history.push(HistoryRow {
        case_id,
        action: "created",
        from: None,
        to: Some(Status::Open.code()),
        note: format!(
            "新发现：{} 笔申领，涉及金额 {} 元 / found: {} claims, {} yuan",
            now.claims,
            fen_to_yuan(now.amount),
            now.claims,
            fen_to_yuan(now.amount)
        ),
    });
    pending.new_cases.push(NewCaseRow {
        case_id,
        case: now.case,
        score: now.score,
        amount: now.amount,
        claims: now.claims,
        rules: now.rules.to_string(),
        hash: now.hash.to_string(),
    });
    summary.new += 1;
}

/// What changed in a stored case's evidence; the claim and rule sets are built only when the
/// fingerprint differs.
fn old_evidence_delta(
    old: &Existing,
    amount: Fen,
    new_claims: impl FnOnce() -> BTreeSet<String>,
    new_rules: impl FnOnce() -> BTreeSet<String>,
) -> EvidenceDelta {
    match &old.old_evidence {
        // Same fingerprint: the same claims and rules; only the money may move.
        None => EvidenceDelta {
            amount_delta_fen: amount - old.old_amount.unwrap_or(0),
            ..Default::default()
        },
        Some(evidence) => delta(
            &split_set(&evidence.0),
            &split_set(&evidence.1),
            old.old_amount.unwrap_or(0),
            &new_claims(),
            &new_rules(),
            amount,
        ),
    }
}

/// The rows of a case found again: its history notes (reappeared, reopened, kept dismissed,
/// evidence changed), its update and the detail of its change.
fn continue_case(
    pending: &mut PendingRows,
    summary: &mut CaseSummary,
    old: Existing,
    prev_sweep: Option<i64>,
    d: EvidenceDelta,
    now: &CaseNow,
) -> (i64, Change, ChangeDetail) {
    let case_id = old.case_id;
    let status = old.status;
    let last_sweep = old.last_sweep;
    let reappeared = Some(last_sweep) != prev_sweep;
    if reappeared {
        pending.history(
            case_id,
            "reappeared",
            status,
            status,
            format!(
                "在第 {last_sweep} 次筛查后消失，本次再次发现 / gone after sweep {last_sweep}, found again"
            ),
        );
    }
    let mut change = Change::Persisting;
    let mut new_status = status;
    if status == Status::Dismissed {
        if d.has_new_evidence() {
            new_status = Status::Open;
            change = Change::Reopened;
            let note = format!("有新证据，重新打开：{}", d.describe_zh())
                + &format!(" / reopened on new evidence: {}", d.describe_en());
            pending.history(case_id, "reopen", status, new_status, note);
            summary.reopened += 1;
        } else {
            let why = if old.same_evidence {
                "证据未变，保持已排除 / evidence unchanged, stays dismissed".to_string()
            } else {
                format!(
                    "无新证据（{}），保持已排除 / no new evidence ({}), stays dismissed",
                    d.describe_zh(),
                    d.describe_en()
                )
            };
            pending.history(case_id, "keep_dismissed", status, status, why);
            summary.kept_dismissed += 1;
        }
    } else if !d.is_empty() && status != Status::Open {
        // A decided or assigned case keeps its status; its reviewer sees what moved.
        let note = format!(
            "证据变化：{} / evidence changed: {}",
            d.describe_zh(),
            d.describe_en()
        );
        pending.history(case_id, "evidence_changed", status, status, note);
    }
    if change == Change::Persisting {
        summary.persisting += 1;
    }
    pending.updates.push(UpdateRow {
        case_id,
        case: now.case,
        status: new_status.code(),
        score: now.score,
        amount: now.amount,
        claims: now.claims,
        rules: now.rules.to_string(),
        hash: now.hash.to_string(),
    });
    (case_id, change, ChangeDetail::of_change(d, reappeared))
}

/// Compares the grouped cases with the stored ones and writes `cases`, `case_sweeps`,
/// `case_flags`, `case_history` and `case_builds` in one transaction.
pub(super) fn write_cases<F: ClaimFacts + Sync>(
    conn: &mut Connection,
    sweep_id: i64,
    policy: &CasesPolicy,
    facts: &F,
    grouped: &Grouped,
    flags: usize,
) -> Result<CaseSummary, CaseError> {
    // The build writes every case in one transaction; with SQLite's default 2 MB page cache
    // its dirty pages spill to the WAL (and are written again) long before the commit.
    crate::store::with_cache_size(conn, crate::store::CASES_CACHE_KIB, |conn| {
        write_cases_in_transaction(conn, sweep_id, policy, facts, grouped, flags)
    })
}

pub(super) fn write_cases_in_transaction<F: ClaimFacts + Sync>(
    conn: &mut Connection,
    sweep_id: i64,
    policy: &CasesPolicy,
    facts: &F,
    grouped: &Grouped,
    flags: usize,
) -> Result<CaseSummary, CaseError> {
    let summary = CaseSummary {
        sweep_id,
        flags,
        graph_cases: grouped.graph_cases,
        ..Default::default()
    };
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(stored) = stored_summary(&tx, sweep_id)? {
        return Ok(stored);
    }
    let prev_sweep: Option<i64> = tx.query_row(
        "SELECT max(sweep_id) FROM case_builds WHERE sweep_id < ?1",
        [sweep_id],
        |r| r.get(0),
    )?;
    let now = now_timestamp();
    let existing = match_existing(&tx, grouped, facts)?;
    // New cases get the row ids SQLite would give them one insert at a time.
    let next_case_id: i64 =
        tx.query_row("SELECT coalesce(max(case_id), 0) FROM cases", [], |r| {
            r.get::<_, i64>(0)
        })? + 1;
    // Deciding each case's rows (fingerprints, joined ids, notes) runs on a thread of its own,
    // a run of cases ahead of the writer, which only binds and inserts.
    let mut summary = std::thread::scope(|scope| -> Result<CaseSummary, CaseError> {
        let (to_writer, runs) = std::sync::mpsc::sync_channel::<PendingRows>(RUNS_AHEAD);
        // Written runs go back to be cleared and refilled: their strings are freed on the
        // thread that made them, off the writer's path.
        let (to_decider, written_runs) = std::sync::mpsc::channel::<PendingRows>();
        let deciding = scope.spawn(move || {
            decide_rows(
                policy,
                facts,
                grouped,
                existing,
                prev_sweep,
                next_case_id,
                summary,
                |rows| to_writer.send(rows).map_err(|_| ()),
                || written_runs.try_recv().unwrap_or_default(),
            )
        });
        let mut written = Ok(());
        for rows in runs.iter() {
            written = rows.flush(&tx, grouped, sweep_id, &now);
            if written.is_err() {
                break;
            }
            let _ = to_decider.send(rows);
        }
        // A failed write drops the receiver, which stops the deciding thread at its next run.
        drop(runs);
        let decided = deciding
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        written?;
        decided.map_err(|()| CaseError::Malformed("case rows stopped early".into()))
    })?;
    let mut pending = PendingRows::default();

    // Found in the previous sweep, not in this one: resolved in this sweep. The decision
    // taken on the case stays as it was.
    if let Some(prev) = prev_sweep {
        let gone: Vec<(i64, String, i64)> = {
            let mut stmt = tx.prepare(
                "SELECT c.case_id, c.status, c.amount_at_risk_fen FROM cases c
                 WHERE c.last_sweep_id = ?1 ORDER BY c.case_id",
            )?;
            let rows = stmt.query_map([prev], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        for (case_id, status, last_amount) in gone {
            let status = Status::parse(&status)
                .ok_or_else(|| CaseError::Malformed(format!("case {case_id}: status {status}")))?;
            pending.sweeps.push(SweepRow {
                case_id,
                change: Change::Resolved.code(),
                score: 0.0,
                amount: 0,
                claims: 0,
                hash: String::new(),
                rules: String::new(),
                claim_ids: String::new(),
                detail:
                    serde_json::json!({ "last_sweep_id": prev, "last_amount_fen": last_amount })
                        .to_string(),
            });
            pending.history(
                case_id,
                "resolved",
                status,
                status,
                "本次筛查未再发现 / not found in this sweep".to_string(),
            );
            summary.resolved += 1;
            if pending.sweeps.len() == CASES_PER_RUN {
                pending.flush(&tx, grouped, sweep_id, &now)?;
                pending.clear();
            }
        }
        pending.flush(&tx, grouped, sweep_id, &now)?;
    }
    tx.execute(
        "INSERT INTO case_builds (sweep_id, built_at, summary_json) VALUES (?1, ?2, ?3)",
        params![
            sweep_id,
            now,
            serde_json::to_string(&summary).map_err(|e| CaseError::Malformed(e.to_string()))?
        ],
    )?;
    tx.commit()?;
    Ok(summary)
}

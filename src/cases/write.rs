//! Writing a sweep's cases: what each case's rows are is decided here, a run of cases at a
//! time on a thread of its own, while `store::cases::CaseWriter` inserts the run before in
//! one transaction.

#[allow(unused_imports)]
use super::group::*;
#[allow(unused_imports)]
use super::history::*;
#[allow(unused_imports)]
use super::input::*;
use super::{CaseError, Change, Status};
use crate::model::{fen_to_yuan, Fen};
use crate::policy::CasesPolicy;
use crate::store::cases::{
    CaseFigures, CaseRows, CaseSweep, CaseUpdate, CaseWriter, HistoryEntry, IndexedMoves, NewCase,
};
use rusqlite::Connection;
use std::collections::BTreeSet;

/// Cases per write run: bounds the rows held in memory.
pub(super) const CASES_PER_RUN: usize = 4096;

/// New cases from which, when they are at least as many as the stored ones, the build drops
/// the secondary indexes of `cases` and recreates them after its inserts.
const DEFER_INDEXES_MIN_NEW: usize = 2048;

/// A history entry of a case whose status goes `from` → `to` (or stays).
fn history_entry(
    case_id: i64,
    action: &'static str,
    from: Status,
    to: Status,
    note: String,
) -> HistoryEntry {
    HistoryEntry {
        case_id,
        action,
        from: Some(from),
        to: Some(to),
        note,
    }
}

/// Decides the rows of every case of `grouped` (in `order`), against the stored ones
/// (`existing`, matched by position), handing them to `emit` a run of `CASES_PER_RUN` cases at a
/// time, each in the buffers `empty_rows` gives (cleared here: they may be runs already
/// written); `Err(())` from `emit` stops it. Returns the summary with this sweep's counts
/// added.
#[allow(clippy::too_many_arguments)]
pub(super) fn decide_rows<'g, F: ClaimFacts>(
    policy: &CasesPolicy,
    facts: &F,
    grouped: &'g Grouped,
    mut existing: Vec<Option<Existing>>,
    prev_sweep: Option<i64>,
    mut next_case_id: i64,
    mut summary: CaseSummary,
    mut emit: impl FnMut(CaseRows<'g>) -> Result<(), ()>,
    mut empty_rows: impl FnMut() -> CaseRows<'g>,
) -> Result<CaseSummary, ()> {
    let mut pending = CaseRows::default();
    for (position, &ci) in grouped.order.iter().enumerate() {
        let case = &grouped.cases[ci as usize];
        let claims = grouped.claims_of(case);
        let claim_ids = || claims.iter().map(|x| facts.claim_id(x.1));
        let rules_joined = join_iter(grouped.rules_of(case));
        let rule_count = case.rules.len();
        let amount: Fen = claims.iter().map(|x| x.2).sum();
        let old = existing[position].take();
        let hash = grouped.hash_at(position);
        let case_score = score(policy, case.max_weight, rule_count, amount);
        let now = CaseNow {
            case,
            key: grouped.key(case),
            subject: grouped.subject(case),
            county: grouped.texts.resolve(case.county),
            institution: grouped.texts.resolve(case.institution),
            figures: CaseFigures {
                score: case_score,
                amount_at_risk_fen: amount,
                claims: claims.len() as i64,
                rules: rules_joined,
                claim_hash: hash,
            },
        };
        let (case_id, change, detail) = match old {
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
        pending.sweeps.push(CaseSweep {
            case_id,
            change,
            figures: now.figures,
            claim_ids: join_iter(claim_ids()),
            detail_json: detail.into_stored_json(),
        });
        pending.flags.extend(
            grouped.seqs[case.seqs.range()]
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
struct CaseNow<'g> {
    case: &'g CaseBuild,
    key: &'g str,
    subject: &'g str,
    county: &'g str,
    institution: &'g str,
    figures: CaseFigures,
}

/// The rows of a case found for the first time.
fn open_case<'g>(
    pending: &mut CaseRows<'g>,
    summary: &mut CaseSummary,
    case_id: i64,
    now: &CaseNow<'g>,
) {
    let figures = &now.figures;
    pending.history.push(HistoryEntry {
        case_id,
        action: "created",
        from: None,
        to: Some(Status::Open),
        note: format!(
            "新发现：{} 笔申领，涉及金额 {} 元 / found: {} claims, {} yuan",
            figures.claims,
            fen_to_yuan(figures.amount_at_risk_fen),
            figures.claims,
            fen_to_yuan(figures.amount_at_risk_fen)
        ),
    });
    pending.new_cases.push(NewCase {
        case_id,
        case_key: now.key,
        subject_kind: now.case.subject_kind,
        subject: now.subject,
        rule_family: now.case.family,
        county_code: now.county,
        institution_id: now.institution,
        figures: figures.clone(),
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
fn continue_case<'g>(
    pending: &mut CaseRows<'g>,
    summary: &mut CaseSummary,
    old: Existing,
    prev_sweep: Option<i64>,
    d: EvidenceDelta,
    now: &CaseNow<'g>,
) -> (i64, Change, ChangeDetail) {
    let case_id = old.case_id;
    let status = old.status;
    let last_sweep = old.last_sweep;
    let reappeared = Some(last_sweep) != prev_sweep;
    if reappeared {
        pending.history.push(history_entry(
            case_id,
            "reappeared",
            status,
            status,
            format!(
                "在第 {last_sweep} 次筛查后消失，本次再次发现 / gone after sweep {last_sweep}, found again"
            ),
        ));
    }
    let mut change = Change::Persisting;
    let mut new_status = status;
    if status == Status::Dismissed {
        if d.has_new_evidence() {
            new_status = Status::Open;
            change = Change::Reopened;
            let note = format!("有新证据，重新打开：{}", d.describe_zh())
                + &format!(" / reopened on new evidence: {}", d.describe_en());
            pending
                .history
                .push(history_entry(case_id, "reopen", status, new_status, note));
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
            pending.history.push(history_entry(
                case_id,
                "keep_dismissed",
                status,
                status,
                why,
            ));
            summary.kept_dismissed += 1;
        }
    } else if !d.is_empty() && status != Status::Open {
        // A decided or assigned case keeps its status; its reviewer sees what moved.
        let note = format!(
            "证据变化：{} / evidence changed: {}",
            d.describe_zh(),
            d.describe_en()
        );
        pending.history.push(history_entry(
            case_id,
            "evidence_changed",
            status,
            status,
            note,
        ));
    }
    if change == Change::Persisting {
        summary.persisting += 1;
    }
    // Rewriting an unchanged row would move it in every index on `cases` for nothing (that
    // was most of writing a sweep's cases): only when it was last found moves.
    if old.row_same_but_money
        && new_status == status
        && old.row_score == now.figures.score
        && old.row_amount == now.figures.amount_at_risk_fen
    {
        pending.seen.push(case_id);
        return (case_id, change, ChangeDetail::of_change(d, reappeared));
    }
    pending.updates.push(CaseUpdate {
        case_id,
        status: new_status,
        county_code: now.county,
        institution_id: now.institution,
        figures: now.figures.clone(),
        moved: IndexedMoves {
            status: new_status != status,
            institution: !old.row_institution_same,
            money: old.row_score != now.figures.score
                || old.row_amount != now.figures.amount_at_risk_fen,
        },
    });
    (case_id, change, ChangeDetail::of_change(d, reappeared))
}

/// Compares the grouped cases with the stored ones and writes `cases`, `case_sweeps`,
/// `case_flags`, `case_history` and `case_builds` in one transaction, with what `seal` writes
/// (given the build's summary) just before its commit.
pub(super) fn write_cases<F: ClaimFacts + Sync>(
    conn: &mut Connection,
    sweep_id: i64,
    policy: &CasesPolicy,
    facts: &F,
    grouped: &Grouped,
    flags: usize,
    seal: impl FnOnce(&Connection, &CaseSummary) -> Result<(), CaseError>,
) -> Result<CaseSummary, CaseError> {
    // The build writes every case in one transaction; with SQLite's default 2 MB page cache
    // its dirty pages spill to the WAL (and are written again) long before the commit.
    crate::store::with_cache_size(conn, crate::store::CASES_CACHE_KIB, |conn| {
        write_cases_in_transaction(conn, sweep_id, policy, facts, grouped, flags, seal)
    })
}

pub(super) fn write_cases_in_transaction<F: ClaimFacts + Sync>(
    conn: &mut Connection,
    sweep_id: i64,
    policy: &CasesPolicy,
    facts: &F,
    grouped: &Grouped,
    flags: usize,
    seal: impl FnOnce(&Connection, &CaseSummary) -> Result<(), CaseError>,
) -> Result<CaseSummary, CaseError> {
    let mut writer = CaseWriter::begin(conn, sweep_id, SYSTEM_ACTOR)?;
    // What the build reads, it reads inside the writer's transaction.
    let tx = writer.conn();
    if let Some(stored) = stored_summary(tx, sweep_id)? {
        return Ok(stored);
    }
    let prev_sweep: Option<i64> = tx.query_row(
        "SELECT max(sweep_id) FROM case_builds WHERE sweep_id < ?1",
        [sweep_id],
        |r| r.get(0),
    )?;
    // The money totals (0.5 s at 10 M claims) are summed beside the matching, which reads
    // the stored cases on this thread.
    let (money, matched) = std::thread::scope(|scope| {
        let money = scope.spawn(|| grouped.money());
        let matched = match_existing(tx, grouped, prev_sweep);
        let money = money
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (money, matched)
    });
    let (existing, gone) = matched?;
    let summary = CaseSummary {
        sweep_id,
        flags,
        graph_cases: grouped.graph_cases,
        money,
        ..Default::default()
    };
    // New cases get the row ids SQLite would give them one insert at a time.
    let next_case_id: i64 =
        tx.query_row("SELECT coalesce(max(case_id), 0) FROM cases", [], |r| {
            r.get::<_, i64>(0)
        })? + 1;
    // Many new cases next to few stored ones (a first sweep): the indexes of `cases` are
    // built once after the inserts rather than kept up insert by insert.
    let new_cases = existing.iter().filter(|e| e.is_none()).count();
    let stored_cases: i64 = tx.query_row("SELECT count(*) FROM cases", [], |r| r.get(0))?;
    if new_cases >= DEFER_INDEXES_MIN_NEW && new_cases as i64 >= stored_cases {
        writer.defer_case_indexes()?;
    }
    // Deciding each case's rows (fingerprints, joined ids, notes) runs on a thread of its own,
    // a run of cases ahead of the writer, which only binds and inserts.
    let mut summary = std::thread::scope(|scope| -> Result<CaseSummary, CaseError> {
        let (to_writer, runs) = std::sync::mpsc::sync_channel::<CaseRows>(RUNS_AHEAD);
        // Written runs go back to be cleared and refilled: their strings are freed on the
        // thread that made them, off the writer's path.
        let (to_decider, written_runs) = std::sync::mpsc::channel::<CaseRows>();
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
            written = writer.write(&rows);
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
    let mut pending = CaseRows::default();

    // Found in the previous sweep, not in this one: resolved in this sweep. The decision
    // taken on the case stays as it was.
    if let Some(prev) = prev_sweep {
        for Gone {
            case_id,
            status,
            last_amount,
        } in gone
        {
            let status = Status::parse(&status)
                .ok_or_else(|| CaseError::Malformed(format!("case {case_id}: status {status}")))?;
            pending.sweeps.push(CaseSweep {
                case_id,
                change: Change::Resolved,
                figures: CaseFigures::default(),
                claim_ids: String::new(),
                detail_json:
                    serde_json::json!({ "last_sweep_id": prev, "last_amount_fen": last_amount })
                        .to_string(),
            });
            pending.history.push(history_entry(
                case_id,
                "resolved",
                status,
                status,
                "本次筛查未再发现 / not found in this sweep".to_string(),
            ));
            summary.resolved += 1;
            if pending.sweeps.len() == CASES_PER_RUN {
                writer.write(&pending)?;
                pending.clear();
            }
        }
        writer.write(&pending)?;
    }
    let json = serde_json::to_string(&summary).map_err(|e| CaseError::Malformed(e.to_string()))?;
    writer.finish_sealed(&json, |tx| seal(tx, &summary))?;
    Ok(summary)
}

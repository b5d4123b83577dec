//! Review actions: assign and decide. Status machine:
//!
//! ```text
//! open ──assign──▶ in_review ──review──▶ confirmed | dismissed | escalated
//!   └────────review (recorded as assign-less in_review step)──▶ …
//! escalated ──review──▶ confirmed | dismissed      (the higher level decides)
//! ```
//! Confirmed and dismissed cases are closed to reviewers; only a later sweep with new evidence
//! reopens a dismissed case. Each action is one `BEGIN IMMEDIATE` transaction that reads the
//! current status, appends to the history and updates the case, so two reviewers writing at
//! once are serialised by SQLite (waiting up to the busy timeout) and no action is lost.

use super::history::append_history as history_append;
use super::{CaseError, Status};
use crate::dates::now_timestamp;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

fn current_status(conn: &Connection, case_id: i64) -> Result<Status, CaseError> {
    let status: Option<String> = conn
        .query_row(
            "SELECT status FROM cases WHERE case_id = ?1",
            [case_id],
            |r| r.get(0),
        )
        .optional()?;
    let status = status.ok_or(CaseError::NoCase(case_id))?;
    Status::parse(&status)
        .ok_or_else(|| CaseError::Malformed(format!("case {case_id}: status {status}")))
}

fn non_empty(value: &str, what: &'static str) -> Result<(), CaseError> {
    if value.trim().is_empty() {
        Err(CaseError::Empty(what))
    } else {
        Ok(())
    }
}

/// Assigns a case to an inspector: open → in_review; an in-review or escalated case changes
/// hands and keeps its status. Returns the status after the action.
pub fn assign(
    conn: &mut Connection,
    case_id: i64,
    to: &str,
    by: &str,
) -> Result<Status, CaseError> {
    non_empty(to, "--to")?;
    non_empty(by, "--by")?;
    conn.busy_timeout(crate::store::BUSY_TIMEOUT)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let from = current_status(&tx, case_id)?;
    let to_status = match from {
        Status::Open | Status::InReview => Status::InReview,
        Status::Escalated => Status::Escalated,
        Status::Confirmed | Status::Dismissed => {
            return Err(CaseError::InvalidTransition {
                case_id,
                from: from.code(),
                to: format!("assign to {to}"),
            })
        }
    };
    let now = now_timestamp();
    history_append(
        &tx,
        case_id,
        &now,
        by.trim(),
        "assign",
        Some(from),
        Some(to_status),
        &format!("指派给 {0} / assigned to {0}", to.trim()),
        None,
    )?;
    tx.execute(
        "UPDATE cases SET status = ?2, assignee = ?3, updated_at = ?4 WHERE case_id = ?1",
        params![case_id, to_status.code(), to.trim(), now],
    )?;
    tx.commit()?;
    Ok(to_status)
}

/// Records a decision (`confirmed`, `dismissed` or `escalated`, or their Chinese labels) with
/// a note. Reviewing an open case records the implicit in_review step first.
pub fn review(
    conn: &mut Connection,
    case_id: i64,
    status: &str,
    note: &str,
    by: &str,
) -> Result<Status, CaseError> {
    let target = Status::parse(status).ok_or_else(|| CaseError::UnknownStatus(status.into()))?;
    non_empty(note, "--note")?;
    non_empty(by, "--by")?;
    conn.busy_timeout(crate::store::BUSY_TIMEOUT)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let from = current_status(&tx, case_id)?;
    let allowed = match (from, target) {
        (_, Status::Open | Status::InReview) => false,
        (Status::Open | Status::InReview, _) => true,
        (Status::Escalated, Status::Confirmed | Status::Dismissed) => true,
        _ => false,
    };
    if !allowed {
        return Err(CaseError::InvalidTransition {
            case_id,
            from: from.code(),
            to: target.code().to_string(),
        });
    }
    let now = now_timestamp();
    let by = by.trim();
    let mut step_from = from;
    if from == Status::Open {
        history_append(
            &tx,
            case_id,
            &now,
            by,
            "start_review",
            Some(Status::Open),
            Some(Status::InReview),
            "直接复核 / reviewed without assignment",
            None,
        )?;
        step_from = Status::InReview;
    }
    history_append(
        &tx,
        case_id,
        &now,
        by,
        "review",
        Some(step_from),
        Some(target),
        note.trim(),
        None,
    )?;
    tx.execute(
        "UPDATE cases SET status = ?2, updated_at = ?3,
           assignee = CASE WHEN assignee = '' THEN ?4 ELSE assignee END
         WHERE case_id = ?1",
        params![case_id, target.code(), now, by],
    )?;
    tx.commit()?;
    Ok(target)
}

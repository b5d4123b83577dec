//! Review actions: assign and decide. Status machine:
//!
//! ```text
//! open ──assign──▶ in_review ──review──▶ confirmed | dismissed | escalated
//!   └────────review (recorded as assign-less in_review step)──▶ …
//! escalated ──review──▶ confirmed | dismissed      (the higher level decides)
//! ```
//! Confirmed and dismissed cases are closed to reviewers; only a later sweep with new evidence
//! reopens a dismissed case. Each action is one `BEGIN IMMEDIATE` transaction
//! (`store::cases::CaseReview`) that reads the current status, appends to the history and
//! updates the case, so two reviewers writing at once are serialised by SQLite (waiting up to
//! the busy timeout) and no action is lost. The rules (which transitions are allowed, what
//! must not be empty, the notes) are decided here; the statements are the store's.

use super::{CaseError, Status};
use crate::store::cases::{CaseReview, HistoryEntry};
use rusqlite::Connection;

fn current_status(review: &CaseReview<'_>, case_id: i64) -> Result<Status, CaseError> {
    let status = review.status(case_id)?.ok_or(CaseError::NoCase(case_id))?;
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
    let tx = CaseReview::begin(conn)?;
    let from = current_status(&tx, case_id)?;
    let to_status = match from {
        Status::Open | Status::InReview | Status::Returned => Status::InReview,
        Status::Escalated => Status::Escalated,
        Status::PendingApproval => Status::PendingApproval,
        Status::Confirmed | Status::Dismissed => {
            return Err(CaseError::InvalidTransition {
                case_id,
                from: from.code(),
                to: format!("assign to {to}"),
            })
        }
    };
    tx.append(
        by.trim(),
        &HistoryEntry {
            case_id,
            action: "assign",
            from: Some(from),
            to: Some(to_status),
            note: format!("指派给 {0} / assigned to {0}", to.trim()),
        },
    )?;
    tx.assign(case_id, to_status, to.trim())?;
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
    let tx = CaseReview::begin(conn)?;
    let from = current_status(&tx, case_id)?;
    let allowed = match (from, target) {
        (_, Status::Open | Status::InReview | Status::PendingApproval | Status::Returned) => false,
        (Status::Open | Status::InReview | Status::Returned, _) => true,
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
    let by = by.trim();
    let mut step_from = from;
    if from == Status::Open {
        tx.append(
            by,
            &HistoryEntry {
                case_id,
                action: "start_review",
                from: Some(Status::Open),
                to: Some(Status::InReview),
                note: "直接复核 / reviewed without assignment".to_string(),
            },
        )?;
        step_from = Status::InReview;
    }
    tx.append(
        by,
        &HistoryEntry {
            case_id,
            action: "review",
            from: Some(step_from),
            to: Some(target),
            note: note.trim().to_string(),
        },
    )?;
    tx.decide(case_id, target, by)?;
    tx.commit()?;
    Ok(target)
}

//! The review workflow with accounts: who may do what to a case, for the web workspace and
//! the CLI's `--user` alike (one check, here). Status machine:
//!
//! ```text
//! open ──take/assign──▶ in_review ──confirm (inspector)──▶ pending_approval ──approve──▶ confirmed
//!                          │  ▲                                   └──return──▶ returned ─┐
//!                          │  └───────────────────────────────────────────────────────────┘
//!                          ├──confirm (supervisor)──▶ confirmed
//!                          ├──dismiss──▶ dismissed
//!                          └──escalate──▶ escalated ──confirm/dismiss (supervisor)──▶ …
//! confirmed | dismissed ──reopen with a reason (supervisor)──▶ in_review (open if unassigned)
//! ```
//! Comments, snoozes and unmasking change no status. Inspectors act only on cases assigned to
//! them (they take unassigned ones); supervisors (and admins) act on any case, assign,
//! approve, return and reopen; an inspector's confirmation is final only when another person,
//! a supervisor, approves it (four eyes). Every action is one `BEGIN IMMEDIATE` transaction
//! of `store::cases::CaseReview` that re-reads the case, so what was checked is what is
//! written; a batch (bulk actions, an imported workbook) is one transaction too.

use super::{CaseError, Status};
use crate::dates::Date;
use crate::store::cases::{CaseReview, HistoryEntry};
pub use crate::store::users::Role;
use rusqlite::{Connection, OptionalExtension};

/// A logged-in account (web) or a `--user` (CLI).
#[derive(Clone, Debug)]
pub struct Actor {
    pub name: String,
    pub role: Role,
}

/// Whether review actions on this database need an account (`claimsweep users add` made one).
pub fn accounts_in_use(conn: &Connection) -> Result<bool, CaseError> {
    Ok(crate::store::users::has_accounts(conn)?)
}

/// The enabled account `name` as an actor.
pub fn actor(conn: &Connection, name: &str) -> Result<Actor, CaseError> {
    match crate::store::users::by_name(conn, name.trim())? {
        Some((u, _)) if !u.disabled => Ok(Actor {
            name: u.name,
            role: u.role,
        }),
        _ => Err(CaseError::NoUser(name.trim().to_string())),
    }
}

/// What a person can do to a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Take,
    Assign,
    Confirm,
    Dismiss,
    Escalate,
    Approve,
    Return,
    Reopen,
    Comment,
    Snooze,
    Unmask,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::Take,
        Kind::Assign,
        Kind::Confirm,
        Kind::Dismiss,
        Kind::Escalate,
        Kind::Approve,
        Kind::Return,
        Kind::Reopen,
        Kind::Comment,
        Kind::Snooze,
        Kind::Unmask,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Kind::Take => "take",
            Kind::Assign => "assign",
            Kind::Confirm => "confirm",
            Kind::Dismiss => "dismiss",
            Kind::Escalate => "escalate",
            Kind::Approve => "approve",
            Kind::Return => "return",
            Kind::Reopen => "reopen",
            Kind::Comment => "comment",
            Kind::Snooze => "snooze",
            Kind::Unmask => "unmask",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Kind::Take => "领取",
            Kind::Assign => "指派",
            Kind::Confirm => "确认违规",
            Kind::Dismiss => "排除",
            Kind::Escalate => "移送",
            Kind::Approve => "批准确认",
            Kind::Return => "退回",
            Kind::Reopen => "重新打开",
            Kind::Comment => "备注",
            Kind::Snooze => "暂缓",
            Kind::Unmask => "查看完整信息",
        }
    }
    /// The English code or the Chinese label; also the status words of a decision
    /// (`confirmed`, `已排除` …), so a workbook's decision column may use either.
    pub fn parse(s: &str) -> Option<Kind> {
        let s = s.trim();
        if let Some(k) = Kind::ALL
            .into_iter()
            .find(|k| k.code().eq_ignore_ascii_case(s) || k.zh() == s)
        {
            return Some(k);
        }
        match Status::parse(s)? {
            Status::Confirmed => Some(Kind::Confirm),
            Status::Dismissed => Some(Kind::Dismiss),
            Status::Escalated => Some(Kind::Escalate),
            _ => None,
        }
    }
    /// Whether the action needs a note (a reason a later reader can check).
    pub fn needs_note(self) -> bool {
        matches!(
            self,
            Kind::Confirm
                | Kind::Dismiss
                | Kind::Escalate
                | Kind::Return
                | Kind::Reopen
                | Kind::Comment
                | Kind::Snooze
        )
    }
}

/// The arguments of an action (what it does not use is ignored).
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// Assign: the account the case goes to.
    pub to: String,
    pub note: String,
    /// Snooze: the day (display time zone) the case comes back.
    pub until: Option<Date>,
    /// Comment: the history entry this one corrects.
    pub corrects: Option<i64>,
}

/// What an allowed action writes.
struct Plan {
    entries: Vec<(&'static str, Status, Status, String)>,
    status: Status,
    assignee: String,
    snooze: Option<String>,
    corrects: Option<i64>,
}

fn forbidden(zh: &str, en: &str) -> CaseError {
    CaseError::Forbidden(format!("{zh} / {en}"))
}

fn stored_status(conn: &Connection, case_id: i64) -> Result<(Status, String), CaseError> {
    let (status, assignee): (String, String) = conn
        .query_row(
            "SELECT status, assignee FROM cases WHERE case_id = ?1",
            [case_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or(CaseError::NoCase(case_id))?;
    let status = Status::parse(&status)
        .ok_or_else(|| CaseError::Malformed(format!("case {case_id}: status {status}")))?;
    Ok((status, assignee))
}

/// The UTC timestamp at which day `d` begins in the display time zone.
pub fn day_start_utc(d: Date) -> String {
    let secs = d.0 as i64 * 86_400 - crate::dates::display_offset_minutes() as i64 * 60;
    crate::dates::timestamp_of(secs.max(0) as u64)
}

/// Today in the display time zone (Beijing).
pub fn local_today() -> Date {
    let secs = crate::dates::now_unix() as i64 + crate::dates::display_offset_minutes() as i64 * 60;
    Date(secs.div_euclid(86_400) as i32)
}

/// Decides whether `actor` may take action `kind` on the case and what it writes.
fn plan(
    conn: &Connection,
    case_id: i64,
    actor: &Actor,
    kind: Kind,
    req: &Request,
) -> Result<Plan, CaseError> {
    let (from, assignee) = stored_status(conn, case_id)?;
    let me = actor.name.as_str();
    let supervises = actor.role.supervises();
    let note = req.note.trim().to_string();
    if kind.needs_note() && note.is_empty() {
        return Err(CaseError::Empty("note / 说明"));
    }
    let invalid = |to: &str| CaseError::InvalidTransition {
        case_id,
        from: from.code(),
        to: to.to_string(),
    };
    // Inspectors work only on their own cases.
    let may_work = supervises || assignee == me;
    let refuse_other = || {
        if assignee.is_empty() {
            forbidden("请先领取此案件", "take the case first")
        } else {
            forbidden(
                &format!("案件已指派给 {assignee}"),
                &format!("the case is assigned to {assignee}"),
            )
        }
    };
    let supervisor_only = || forbidden("需要主管权限", "a supervisor's action");
    let mut p = Plan {
        entries: Vec::new(),
        status: from,
        assignee: assignee.clone(),
        snooze: None,
        corrects: None,
    };
    match kind {
        Kind::Take => {
            if !assignee.is_empty() {
                return Err(refuse_other());
            }
            p.status = match from {
                Status::Open => Status::InReview,
                Status::Returned => Status::Returned,
                _ => return Err(invalid("take")),
            };
            p.assignee = me.to_string();
            p.entries.push((
                "assign",
                from,
                p.status,
                format!("{me} 领取 / taken by {me}"),
            ));
        }
        Kind::Assign => {
            if !supervises {
                return Err(supervisor_only());
            }
            let to = req.to.trim();
            if to.is_empty() {
                return Err(CaseError::Empty("--to / 指派给"));
            }
            let role = crate::store::users::by_name(conn, to)?
                .filter(|(u, _)| !u.disabled)
                .map(|(u, _)| u.role);
            if role.is_none() {
                return Err(CaseError::NoUser(to.to_string()));
            }
            p.status = match from {
                Status::Open | Status::InReview => Status::InReview,
                Status::Returned | Status::Escalated | Status::PendingApproval => from,
                Status::Confirmed | Status::Dismissed => {
                    return Err(invalid(&format!("assign to {to}")))
                }
            };
            p.assignee = to.to_string();
            let mut text = format!("指派给 {to} / assigned to {to}");
            if !note.is_empty() {
                text.push_str(&format!("：{note}"));
            }
            p.entries.push(("assign", from, p.status, text));
        }
        Kind::Confirm | Kind::Dismiss | Kind::Escalate => {
            if !may_work {
                return Err(refuse_other());
            }
            let target = match kind {
                Kind::Confirm if !supervises => Status::PendingApproval,
                Kind::Confirm => Status::Confirmed,
                Kind::Dismiss => Status::Dismissed,
                _ => Status::Escalated,
            };
            let mut step_from = from;
            match from {
                Status::Open => {
                    p.entries.push((
                        "start_review",
                        Status::Open,
                        Status::InReview,
                        "直接复核 / reviewed without assignment".to_string(),
                    ));
                    step_from = Status::InReview;
                }
                Status::InReview | Status::Returned => {}
                // The higher level decides an escalated case.
                Status::Escalated if supervises && kind != Kind::Escalate => {}
                Status::Escalated if kind != Kind::Escalate => return Err(supervisor_only()),
                _ => return Err(invalid(target.code())),
            }
            let action = if target == Status::PendingApproval {
                "propose_confirm"
            } else {
                "review"
            };
            p.entries.push((action, step_from, target, note));
            p.status = target;
            if p.assignee.is_empty() {
                p.assignee = me.to_string();
            }
        }
        Kind::Approve | Kind::Return => {
            if !supervises {
                return Err(supervisor_only());
            }
            if from != Status::PendingApproval {
                return Err(invalid(kind.code()));
            }
            if kind == Kind::Approve {
                let proposer: Option<String> = conn
                    .query_row(
                        "SELECT actor FROM case_history WHERE case_id = ?1 AND action = 'propose_confirm'
                         ORDER BY history_id DESC LIMIT 1",
                        [case_id],
                        |r| r.get(0),
                    )
                    .optional()?;
                if proposer.as_deref() == Some(me) {
                    return Err(forbidden(
                        "不能批准自己提出的确认（双人复核）",
                        "a confirmation needs a second person's approval",
                    ));
                }
                p.status = Status::Confirmed;
                let text = if note.is_empty() {
                    "批准确认 / confirmation approved".to_string()
                } else {
                    note
                };
                p.entries.push(("approve", from, p.status, text));
            } else {
                p.status = Status::Returned;
                p.entries.push(("return", from, p.status, note));
            }
        }
        Kind::Reopen => {
            if !supervises {
                return Err(supervisor_only());
            }
            if !from.is_closed() {
                return Err(invalid("reopen"));
            }
            p.status = if assignee.is_empty() {
                Status::Open
            } else {
                Status::InReview
            };
            p.entries.push(("reopen", from, p.status, note));
        }
        Kind::Comment => {
            if !may_work {
                return Err(refuse_other());
            }
            let mut action = "comment";
            if let Some(id) = req.corrects {
                let of: Option<i64> = conn
                    .query_row(
                        "SELECT case_id FROM case_history WHERE history_id = ?1",
                        [id],
                        |r| r.get(0),
                    )
                    .optional()?;
                if of != Some(case_id) {
                    return Err(CaseError::Invalid(format!(
                        "记录 {id} 不属于案件 {case_id} / entry {id} is not in case {case_id}'s history"
                    )));
                }
                action = "correction";
                p.corrects = Some(id);
            }
            p.entries.push((action, from, from, note));
        }
        Kind::Snooze => {
            if !may_work {
                return Err(refuse_other());
            }
            let until = req
                .until
                .ok_or_else(|| CaseError::Invalid("暂缓需要日期 / snooze needs a date".into()))?;
            if until <= local_today() {
                return Err(CaseError::Invalid(format!(
                    "暂缓日期须在今天之后 / snooze until a day after today (not {until})"
                )));
            }
            p.snooze = Some(day_start_utc(until));
            p.entries.push((
                "snooze",
                from,
                from,
                format!("暂缓至 {until}：{note} / snoozed until {until}"),
            ));
        }
        Kind::Unmask => {
            if !supervises {
                return Err(supervisor_only());
            }
            p.entries.push((
                "unmask",
                from,
                from,
                format!("{me} 查看完整身份信息 / identifiers shown in full to {me}"),
            ));
        }
    }
    Ok(p)
}

fn apply(review: &CaseReview<'_>, case_id: i64, actor: &Actor, p: Plan) -> Result<(), CaseError> {
    let n = p.entries.len();
    for (i, (action, from, to, note)) in p.entries.into_iter().enumerate() {
        let entry = HistoryEntry {
            case_id,
            action,
            from: Some(from),
            to: Some(to),
            note,
        };
        let corrects = if i + 1 == n { p.corrects } else { None };
        review.append_entry(&actor.name, &entry, corrects)?;
    }
    review.set(case_id, p.status, &p.assignee)?;
    if let Some(until) = &p.snooze {
        review.snooze(case_id, until)?;
    }
    Ok(())
}

/// Whether an error is a refusal of one action (shown to the person) rather than a fault.
pub fn is_refusal(e: &CaseError) -> bool {
    matches!(
        e,
        CaseError::Forbidden(_)
            | CaseError::InvalidTransition { .. }
            | CaseError::NoCase(_)
            | CaseError::NoUser(_)
            | CaseError::Empty(_)
            | CaseError::Invalid(_)
    )
}

/// One action, in its own transaction; the case's status after it.
pub fn perform(
    conn: &mut Connection,
    case_id: i64,
    actor: &Actor,
    kind: Kind,
    req: &Request,
) -> Result<Status, CaseError> {
    let mut out = perform_batch(conn, actor, &[(case_id, kind, req.clone())], true)?;
    out.pop().expect("one result per item")
}

/// Several actions in one transaction: each allowed one is written, each refused one is
/// reported (and writes nothing). With `commit` false nothing is kept: a dry run that checks
/// every item against the cases as they are and as the earlier items leave them.
pub fn perform_batch(
    conn: &mut Connection,
    actor: &Actor,
    items: &[(i64, Kind, Request)],
    commit: bool,
) -> Result<Vec<Result<Status, CaseError>>, CaseError> {
    let review = CaseReview::begin(conn)?;
    let mut out = Vec::with_capacity(items.len());
    for (case_id, kind, req) in items {
        match plan(review.conn(), *case_id, actor, *kind, req) {
            Ok(p) => {
                let status = p.status;
                apply(&review, *case_id, actor, p)?;
                out.push(Ok(status));
            }
            Err(e) if is_refusal(&e) => out.push(Err(e)),
            Err(e) => return Err(e),
        }
    }
    if commit {
        review.commit()?;
    }
    Ok(out)
}

/// The actions `actor` may take on the case now (for the buttons of a case page).
pub fn allowed(conn: &Connection, case_id: i64, actor: &Actor) -> Result<Vec<Kind>, CaseError> {
    let probe = Request {
        to: actor.name.clone(),
        note: "probe".into(),
        until: Some(Date(local_today().0 + 1)),
        corrects: None,
    };
    let mut out = Vec::new();
    for kind in Kind::ALL {
        match plan(conn, case_id, actor, kind, &probe) {
            Ok(_) => out.push(kind),
            Err(e) if is_refusal(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The next case for an inspector: the highest-scoring open, unassigned, unsnoozed case of
/// the latest sweep; it is taken (assigned to them) in the same transaction, so two
/// inspectors asking at once get different cases.
pub fn take_next(conn: &mut Connection, actor: &Actor) -> Result<Option<i64>, CaseError> {
    let review = CaseReview::begin(conn)?;
    let now = review.at().to_string();
    let next: Option<i64> = review
        .conn()
        .query_row(
            // Read down the score index and stop at the first match: this runs inside the
            // write lock, so it must not sort every open case.
            "SELECT case_id FROM cases INDEXED BY cases_by_score
             WHERE status = 'open' AND assignee = '' AND snoozed_until <= ?1
               AND last_sweep_id = (SELECT max(sweep_id) FROM case_builds)
             ORDER BY score DESC, amount_at_risk_fen DESC, case_id LIMIT 1",
            [&now],
            |r| r.get(0),
        )
        .optional()?;
    let Some(case_id) = next else {
        return Ok(None);
    };
    let p = plan(
        review.conn(),
        case_id,
        actor,
        Kind::Take,
        &Request::default(),
    )?;
    apply(&review, case_id, actor, p)?;
    review.commit()?;
    Ok(Some(case_id))
}

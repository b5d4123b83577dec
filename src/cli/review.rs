//! The review commands of accounts (`cases comment|approve|return|reopen|take|snooze`, and
//! `cases assign|review --user`): the same checks as the web workspace
//! (`cases::workflow`), under the account's own name.

use crate::cases::workflow::{self, Kind, Request};
use crate::cases::Lang;
use anyhow::Context;
use std::path::PathBuf;

/// Options every workflow command takes (as `cases`' own).
#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    /// Database file
    #[arg(long, default_value = "claimsweep.db")]
    pub db: PathBuf,
    /// Language of the output
    #[arg(long, value_enum, default_value_t = Lang::Zh)]
    pub lang: Lang,
}

/// Prints a line, made terminal-safe (account names are typed by people).
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(crate::text::terminal_safe(text).as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

#[derive(clap::Subcommand, Debug)]
pub enum WorkflowCommand {
    /// Add a comment (no status change); --corrects ID makes it a correction of that entry
    #[command(
        after_help = "Example:\n  claimsweep cases comment 17 --note \"电话无人接听\" --user 王敏"
    )]
    Comment {
        /// Case id
        id: i64,
        /// The comment (kept in the case's history)
        #[arg(long)]
        note: String,
        /// History entry this comment corrects (the old entry stays)
        #[arg(long)]
        corrects: Option<i64>,
        /// The account acting
        #[arg(long)]
        user: String,
        #[command(flatten)]
        common: Common,
    },
    /// Approve an inspector's confirmation (a supervisor other than the proposer)
    #[command(after_help = "Example:\n  claimsweep cases approve 17 --user 李主管")]
    Approve {
        /// Case id
        id: i64,
        /// Optional note
        #[arg(long, default_value = "")]
        note: String,
        /// The supervisor approving
        #[arg(long)]
        user: String,
        #[command(flatten)]
        common: Common,
    },
    /// Return a confirmation to its inspector with a reason (a supervisor)
    #[command(
        after_help = "Example:\n  claimsweep cases return 17 --note \"证据不足，请补充证书核验\" --user 李主管"
    )]
    Return {
        /// Case id
        id: i64,
        /// The reason (kept in the case's history)
        #[arg(long)]
        note: String,
        /// The supervisor acting
        #[arg(long)]
        user: String,
        #[command(flatten)]
        common: Common,
    },
    /// Reopen a confirmed or dismissed case with a reason (a supervisor)
    #[command(
        after_help = "Example:\n  claimsweep cases reopen 17 --note \"新线索：2 笔新申领\" --user 李主管"
    )]
    Reopen {
        /// Case id
        id: i64,
        /// The reason (kept in the case's history)
        #[arg(long)]
        note: String,
        /// The supervisor acting
        #[arg(long)]
        user: String,
        #[command(flatten)]
        common: Common,
    },
    /// Take an unassigned case (or, without an id, the next unassigned case)
    #[command(after_help = "Example:\n  claimsweep cases take --user 王敏")]
    Take {
        /// Case id (default: the next unassigned case)
        id: Option<i64>,
        /// The inspector taking it
        #[arg(long)]
        user: String,
        #[command(flatten)]
        common: Common,
    },
    /// Hide a case from the inbox until a day (YYYY-MM-DD, Beijing time) with a reason
    #[command(
        after_help = "Example:\n  claimsweep cases snooze 17 --until 2027-01-15 --note \"等待社保数据\" --user 王敏"
    )]
    Snooze {
        /// Case id
        id: i64,
        /// Day the case comes back (YYYY-MM-DD, Beijing time)
        #[arg(long)]
        until: String,
        /// The reason (kept in the case's history)
        #[arg(long)]
        note: String,
        /// The account acting
        #[arg(long)]
        user: String,
        #[command(flatten)]
        common: Common,
    },
}

fn done(
    common: &Common,
    id: i64,
    kind: Kind,
    status: crate::cases::Status,
    user: &str,
) -> anyhow::Result<()> {
    let lang = common.lang;
    emit(&match lang {
        Lang::Zh => format!(
            "案件 {id}：{}，状态：{}（{user}）\n",
            kind.zh(),
            status.label(lang)
        ),
        Lang::En => format!(
            "case {id}: {}, status: {} (by {user})\n",
            kind.code(),
            status.code()
        ),
    })
}

/// Performs one action as the account `user` and prints the outcome.
fn act(common: &Common, user: &str, id: i64, kind: Kind, req: Request) -> anyhow::Result<()> {
    let mut conn = crate::cases::open_db(&common.db)?;
    anyhow::ensure!(
        workflow::accounts_in_use(&conn)?,
        "此数据库尚无账号，请先运行 claimsweep users add / this database has no accounts yet (claimsweep users add)"
    );
    let actor = workflow::actor(&conn, user)?;
    let status = workflow::perform(&mut conn, id, &actor, kind, &req)?;
    done(common, id, kind, status, &actor.name)
}

/// `cases assign|review` once the database has accounts: the action is checked against the
/// account's role; returns false when the database has none (the old path applies).
pub fn with_accounts(
    db: &std::path::Path,
    lang: Lang,
    user: Option<&str>,
    id: i64,
    action: &str,
    req: Request,
) -> anyhow::Result<bool> {
    let conn = crate::cases::open_db(db)?;
    if !workflow::accounts_in_use(&conn)? {
        return Ok(false);
    }
    drop(conn);
    let common = &Common {
        db: db.to_path_buf(),
        lang,
    };
    let user = user.context("此数据库有账号，请用 --user 指明操作人 / this database has accounts: name yourself with --user")?;
    let kind = Kind::parse(action)
        .filter(|k| {
            matches!(
                k,
                Kind::Assign | Kind::Confirm | Kind::Dismiss | Kind::Escalate
            )
        })
        .with_context(|| format!("`{action}`: expected confirmed, dismissed or escalated"))?;
    act(common, user, id, kind, req)?;
    Ok(true)
}

pub fn run(cmd: WorkflowCommand) -> anyhow::Result<()> {
    match cmd {
        WorkflowCommand::Comment {
            id,
            note,
            corrects,
            user,
            common,
        } => act(
            &common,
            &user,
            id,
            Kind::Comment,
            Request {
                note,
                corrects,
                ..Default::default()
            },
        ),
        WorkflowCommand::Approve {
            id,
            note,
            user,
            common,
        } => act(
            &common,
            &user,
            id,
            Kind::Approve,
            Request {
                note,
                ..Default::default()
            },
        ),
        WorkflowCommand::Return {
            id,
            note,
            user,
            common,
        } => act(
            &common,
            &user,
            id,
            Kind::Return,
            Request {
                note,
                ..Default::default()
            },
        ),
        WorkflowCommand::Reopen {
            id,
            note,
            user,
            common,
        } => act(
            &common,
            &user,
            id,
            Kind::Reopen,
            Request {
                note,
                ..Default::default()
            },
        ),
        WorkflowCommand::Take {
            id: Some(id),
            user,
            common,
        } => act(&common, &user, id, Kind::Take, Request::default()),
        WorkflowCommand::Take {
            id: None,
            user,
            common,
        } => {
            let mut conn = crate::cases::open_db(&common.db)?;
            let actor = workflow::actor(&conn, &user)?;
            match workflow::take_next(&mut conn, &actor)? {
                Some(id) => done(
                    &common,
                    id,
                    Kind::Take,
                    crate::cases::Status::InReview,
                    &actor.name,
                ),
                None => emit("没有未分配的案件 / no unassigned case\n"),
            }
        }
        WorkflowCommand::Snooze {
            id,
            until,
            note,
            user,
            common,
        } => {
            let until = crate::dates::Date::parse_iso(until.trim())
                .with_context(|| format!("--until: `{until}` is not a date (YYYY-MM-DD)"))?;
            act(
                &common,
                &user,
                id,
                Kind::Snooze,
                Request {
                    note,
                    until: Some(until),
                    ..Default::default()
                },
            )
        }
    }
}

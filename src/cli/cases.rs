//! `claimsweep cases`: inspectors' review — list, show, assign, review, history.

use crate::cases::{self, query, render, CaseFilter, CaseSort, Lang};
use crate::output::TableFormat;
use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default)]
pub enum SortArg {
    #[default]
    Score,
    Amount,
}

#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    claimsweep cases list --limit 20\n  \
    claimsweep cases show 17\n  \
    claimsweep cases review 17 --status confirmed --note \"证书系伪造\" --by 王敏")]
pub struct Args {
    #[command(subcommand)]
    pub command: CasesCommand,
}

/// Options every cases subcommand takes.
#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    /// Database file
    #[arg(long, default_value = "claimsweep.db", global = true)]
    pub db: PathBuf,
    /// Language of the output
    #[arg(long, value_enum, default_value_t = Lang::Zh, global = true)]
    pub lang: Lang,
    /// Show ID numbers, phones and bank accounts in full in text output (for entitled staff
    /// only). Text output masks every identifier-like digit run by default, wherever it stands;
    /// `--json` output is for scripts and is never masked.
    #[arg(long, global = true)]
    pub unmask: bool,
}

#[derive(clap::Subcommand, Debug)]
pub enum CasesCommand {
    /// List the cases of a sweep (default: the latest), filtered and sorted
    #[command(after_help = "Examples:\n  \
        claimsweep cases list --sort amount --limit 20\n  \
        claimsweep cases list --rule 死亡后申领 --county 罗庄区 --status open\n  \
        claimsweep cases list --kind ring --format csv > rings.csv")]
    List {
        #[command(flatten)]
        common: Common,
        /// Status: open, in_review, confirmed, dismissed, escalated (or 待处理, 核查中, 已确认,
        /// 已排除, 已移送)
        #[arg(long)]
        status: Option<String>,
        /// County: its code (371311) or name (罗庄区)
        #[arg(long)]
        county: Option<String>,
        /// Institution: its code or its name (or a unique part of the name)
        #[arg(long)]
        institution: Option<String>,
        /// Cases where this rule fired: its id (deceased) or title (死亡后申领); also ring,
        /// institution_risk
        #[arg(long)]
        rule: Option<String>,
        /// Subject kind: person, class, contact, ring, institution (or 人员, 培训班, 联系方式,
        /// 团伙, 机构)
        #[arg(long)]
        kind: Option<String>,
        /// Minimum amount at risk, in yuan (1200 or 1,200.50)
        #[arg(long)]
        min_amount: Option<String>,
        /// Sweep id (default: the latest)
        #[arg(long)]
        sweep: Option<i64>,
        /// Only cases first found in that sweep
        #[arg(long)]
        new: bool,
        /// Order: by score or by amount at risk, highest first
        #[arg(long, value_enum, default_value_t = SortArg::Score)]
        sort: SortArg,
        /// Show at most N cases (default: all)
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Output format: an aligned table, or tsv, csv, json for programs (json: every field,
        /// never masked)
        #[arg(long, value_enum, default_value_t = TableFormat::Table)]
        format: TableFormat,
        /// Same as --format json (kept for scripts)
        #[arg(long)]
        json: bool,
    },
    /// Show one case: a summary, then its evidence (long lists cut at --limit)
    #[command(after_help = "Examples:\n  \
        claimsweep cases show 17\n  \
        claimsweep cases show 17 --all --unmask\n  \
        claimsweep cases show 17 --json > case17.json")]
    Show {
        /// Case id (the first column of `cases list`)
        id: i64,
        #[command(flatten)]
        common: Common,
        /// Show at most N items of each evidence list (flags, claims, members …); 0 shows all
        #[arg(long, value_name = "N", default_value_t = render::DEFAULT_SHOW_LIMIT)]
        limit: usize,
        /// Show every evidence item (same as --limit 0)
        #[arg(long)]
        all: bool,
        /// Print the whole case as JSON (never masked)
        #[arg(long)]
        json: bool,
    },
    /// Assign a case to an inspector (open → in_review)
    #[command(after_help = "Example:\n  claimsweep cases assign 17 --to 王敏")]
    Assign {
        /// Case id
        id: i64,
        /// Inspector the case goes to
        #[arg(long)]
        to: String,
        /// Who assigns (default: the assignee)
        #[arg(long)]
        by: Option<String>,
        /// The account acting (needed once the database has accounts; its role is checked)
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Record a decision: confirmed, dismissed or escalated (with accounts, an inspector's
    /// confirmation waits for a supervisor's approval)
    #[command(
        after_help = "Example:\n  claimsweep cases review 17 --status confirmed --note \"证书系伪造\" --by 王敏"
    )]
    Review {
        /// Case id
        id: i64,
        /// Decision: confirmed, dismissed or escalated (or 已确认, 已排除, 已移送)
        #[arg(long)]
        status: String,
        /// Why: kept in the case's history
        #[arg(long)]
        note: String,
        /// Inspector who decides (without accounts; with accounts it names the account)
        #[arg(long)]
        by: Option<String>,
        /// The account acting (needed once the database has accounts; its role is checked)
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Workflow actions of accounts: comment, approve, return, reopen, take, snooze
    #[command(flatten)]
    Workflow(super::review::WorkflowCommand),
    /// Print the history of a case (append-only)
    #[command(after_help = "Example:\n  claimsweep cases history 17")]
    History {
        /// Case id
        id: i64,
        #[command(flatten)]
        common: Common,
        /// Print JSON instead of text (never masked; times as stored, in UTC)
        #[arg(long)]
        json: bool,
    },
}

/// "1,200.50" / "1200" yuan → fen.
fn parse_yuan(s: &str) -> anyhow::Result<i64> {
    let t: String = s.trim().chars().filter(|c| *c != ',').collect();
    let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
    let ok = !int.is_empty()
        && int.chars().all(|c| c.is_ascii_digit())
        && frac.len() <= 2
        && frac.chars().all(|c| c.is_ascii_digit());
    if !ok {
        anyhow::bail!("--min-amount: `{s}` is not an amount in yuan (e.g. 1200 or 1200.50)");
    }
    let int: i64 = int.parse().context("--min-amount: amount too large")?;
    let frac: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
    Ok(int * 100 + frac)
}

/// Writes JSON output as it is (a script reads it; JSON escapes control characters).
pub(crate) fn emit_json(text: &str) -> anyhow::Result<()> {
    write_stdout(text)
}

/// Writes command output (a reader that stops early, `| head`, ends the command quietly).
/// Ledger text in it is made terminal-safe (`text::terminal_safe`).
pub(crate) fn emit(text: &str) -> anyhow::Result<()> {
    write_stdout(&crate::text::terminal_safe(text))
}

/// Text made terminal-safe and, unless `unmask`, with identifier-like digit runs masked
/// (`report::mask::mask_tokens`). Masking comes after the escapes are removed, so an escape
/// sequence inside a number cannot split it into runs too short to mask.
pub(crate) fn masked_text(text: &str, unmask: bool) -> String {
    let safe = crate::text::terminal_safe(text);
    if unmask {
        return safe.into_owned();
    }
    crate::report::mask::mask_tokens(&safe).into_owned()
}

/// [`emit`], with identifiers masked unless `unmask`.
pub(crate) fn emit_masked(text: &str, unmask: bool) -> anyhow::Result<()> {
    write_stdout(&masked_text(text, unmask))
}

fn write_stdout(text: &str) -> anyhow::Result<()> {
    super::out(text)
}

fn open(common: &Common) -> anyhow::Result<rusqlite::Connection> {
    Ok(cases::open_db(&common.db)?)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        CasesCommand::List {
            common,
            status,
            county,
            institution,
            rule,
            kind,
            min_amount,
            sweep,
            new,
            sort,
            limit,
            format,
            json,
        } => {
            let conn = open(&common)?;
            // Every filter value is checked: an unknown one is an error listing the valid ones,
            // never an empty list.
            let filter = CaseFilter {
                status: status.as_deref().map(query::resolve_status).transpose()?,
                county: county
                    .as_deref()
                    .map(|c| query::resolve_county(&conn, c))
                    .transpose()?,
                institution: institution
                    .as_deref()
                    .map(|i| query::resolve_institution(&conn, i))
                    .transpose()?,
                rule: rule.as_deref().map(query::resolve_rule).transpose()?,
                subject_kind: kind.as_deref().map(query::resolve_kind).transpose()?,
                min_amount_fen: min_amount.as_deref().map(parse_yuan).transpose()?,
                sweep,
                new_only: new,
                sort: match sort {
                    SortArg::Score => CaseSort::Score,
                    SortArg::Amount => CaseSort::Amount,
                },
                limit,
            };
            let rows = cases::list(&conn, &filter)?;
            let format = if json { TableFormat::Json } else { format };
            match format {
                TableFormat::Json => {
                    emit_json(&(serde_json::to_string_pretty(&rows)? + "\n"))?;
                }
                TableFormat::Tsv | TableFormat::Csv => {
                    let table = render::case_table(&rows, common.lang, true);
                    // Labels for people, so masked like the table unless --unmask.
                    emit_masked(&table.render(format), common.unmask)?;
                }
                TableFormat::Table => {
                    let whole = match rows.first() {
                        Some(r) if filter.is_whole_sweep() => {
                            cases::query::case_money(&conn, r.sweep_id)?
                        }
                        _ => None,
                    };
                    let mut text = render::case_list(&rows, common.lang, whole.as_ref());
                    // Claims no rule judged are listed under the cases, never left out in
                    // silence.
                    if let Ok(sweep) = crate::store::flags::resolve_sweep(&conn, filter.sweep) {
                        let not_judged = crate::store::flags::not_judged(&conn, sweep)?;
                        text.push_str(&render::not_judged(&not_judged, common.lang));
                    }
                    emit_masked(&text, common.unmask)?;
                }
            }
        }
        CasesCommand::Show {
            id,
            common,
            limit,
            all,
            json,
        } => {
            let conn = open(&common)?;
            let detail = cases::show(&conn, id)?;
            if json {
                emit_json(&(serde_json::to_string_pretty(&detail)? + "\n"))?;
            } else {
                let opts = render::ShowOptions {
                    limit: (!all && limit > 0).then_some(limit),
                    institution_name: query::institution_name(
                        &conn,
                        Some(detail.case.sweep_id),
                        &detail.case.institution_id,
                    )?,
                };
                emit_masked(
                    &render::case_detail_with(&detail, common.lang, &opts),
                    common.unmask,
                )?;
            }
        }
        CasesCommand::Assign {
            id,
            to,
            by,
            user,
            common,
        } => {
            let request = crate::cases::workflow::Request {
                to: to.clone(),
                ..Default::default()
            };
            let who = user.as_deref().or(by.as_deref());
            if super::review::with_accounts(&common.db, common.lang, who, id, "assign", request)? {
                return Ok(());
            }
            let mut conn = open(&common)?;
            let by = by.unwrap_or_else(|| to.clone());
            let status = cases::assign(&mut conn, id, &to, &by)?;
            let lang = common.lang;
            emit(&match lang {
                Lang::Zh => format!("案件 {id} 已指派给 {to}，状态：{}\n", status.label(lang)),
                Lang::En => format!("case {id} assigned to {to}, status: {}\n", status.code()),
            })?;
        }
        CasesCommand::Review {
            id,
            status,
            note,
            by,
            user,
            common,
        } => {
            let request = crate::cases::workflow::Request {
                note: note.clone(),
                ..Default::default()
            };
            let who = user.as_deref().or(by.as_deref());
            if super::review::with_accounts(&common.db, common.lang, who, id, &status, request)? {
                return Ok(());
            }
            let by = by.context("--by: who reviews (or --user)")?;
            let mut conn = open(&common)?;
            let status = cases::review(&mut conn, id, &status, &note, &by)?;
            let lang = common.lang;
            emit(&match lang {
                Lang::Zh => format!("案件 {id} 复核结论：{}（{by}）\n", status.label(lang)),
                Lang::En => format!("case {id} reviewed: {} (by {by})\n", status.code()),
            })?;
        }
        CasesCommand::Workflow(w) => super::review::run(w)?,
        CasesCommand::History { id, common, json } => {
            let conn = open(&common)?;
            let entries = cases::history(&conn, id)?;
            if json {
                emit_json(&(serde_json::to_string_pretty(&entries)? + "\n"))?;
            } else {
                emit_masked(&render::history(&entries, common.lang), common.unmask)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_yuan;

    #[test]
    fn yuan_amounts_parse_to_fen() {
        assert_eq!(parse_yuan("1200").unwrap(), 120_000);
        assert_eq!(parse_yuan("1,200.5").unwrap(), 120_050);
        assert_eq!(parse_yuan("0.01").unwrap(), 1);
        assert!(parse_yuan("12.345").is_err());
        assert!(parse_yuan("-5").is_err());
        assert!(parse_yuan("abc").is_err());
    }
}

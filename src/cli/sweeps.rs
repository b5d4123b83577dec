//! `claimsweep sweeps`: list sweeps and diff the cases of two of them.

use crate::cases::{self, render, Lang};
use crate::cli::cases::{emit, emit_json};
use crate::output::TableFormat;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    claimsweep sweeps list --db audit.db\n  \
    claimsweep sweeps diff --db audit.db\n  \
    claimsweep sweeps diff 1 3 --db audit.db --all")]
pub struct Args {
    #[command(subcommand)]
    pub command: SweepsCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum SweepsCommand {
    /// List every sweep with its case counts (times in Beijing time)
    #[command(after_help = "Examples:\n  \
        claimsweep sweeps list\n  \
        claimsweep sweeps list --format csv > sweeps.csv")]
    List {
        /// Database file
        #[arg(long, default_value = "claimsweep.db")]
        db: PathBuf,
        /// Language of the output
        #[arg(long, value_enum, default_value_t = Lang::Zh)]
        lang: Lang,
        /// Output format: an aligned table, or tsv, csv, json for programs (json: every
        /// field, times as stored in UTC)
        #[arg(long, value_enum, default_value_t = TableFormat::Table)]
        format: TableFormat,
        /// Same as --format json (kept for scripts)
        #[arg(long)]
        json: bool,
    },
    /// Cases new, persisting and resolved between sweep A and sweep B (default: the last two)
    #[command(after_help = "Examples:\n  \
        claimsweep sweeps diff\n  \
        claimsweep sweeps diff 1 3 --all --lang en")]
    Diff {
        /// The earlier sweep (give both A and B, or neither)
        a: Option<i64>,
        /// The later sweep
        b: Option<i64>,
        /// Database file
        #[arg(long, default_value = "claimsweep.db")]
        db: PathBuf,
        /// Language of the output
        #[arg(long, value_enum, default_value_t = Lang::Zh)]
        lang: Lang,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
        /// Also list persisting cases whose evidence did not change
        #[arg(long)]
        all: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        SweepsCommand::List {
            db,
            lang,
            format,
            json,
        } => {
            let conn = cases::open_db(&db)?;
            let rows = cases::list_sweeps(&conn)?;
            match if json { TableFormat::Json } else { format } {
                TableFormat::Json => emit_json(&(serde_json::to_string_pretty(&rows)? + "\n"))?,
                TableFormat::Table => emit(&render::sweep_list(&rows, lang))?,
                f => emit(&render::sweep_table(&rows, lang).render(f))?,
            }
        }
        SweepsCommand::Diff {
            a,
            b,
            db,
            lang,
            json,
            all,
        } => {
            let conn = cases::open_db(&db)?;
            let (a, b) = match (a, b) {
                (Some(a), Some(b)) => (a, b),
                (Some(_), None) | (None, Some(_)) => {
                    anyhow::bail!("sweeps diff: give two sweep ids (A B) or none for the last two")
                }
                (None, None) => cases::query::last_two_sweeps(&conn)?.ok_or_else(|| {
                    anyhow::anyhow!(
                        "sweeps diff: fewer than two sweeps with cases in {}; run `claimsweep sweep` again on a newer extract",
                        db.display()
                    )
                })?,
            };
            let d = cases::diff(&conn, a, b)?;
            if json {
                emit_json(&(serde_json::to_string_pretty(&d)? + "\n"))?;
            } else {
                emit(&render::sweep_diff(&d, lang, all))?;
            }
        }
    }
    Ok(())
}

//! `claimsweep sweeps`: list sweeps and diff the cases of two of them.

use crate::cases::{self, render, Lang};
use crate::cli::cases::{emit, emit_json};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: SweepsCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum SweepsCommand {
    /// List every sweep with its case counts
    List {
        #[arg(long, default_value = "claimsweep.db")]
        db: PathBuf,
        #[arg(long, value_enum, default_value_t = Lang::Zh)]
        lang: Lang,
        #[arg(long)]
        json: bool,
    },
    /// Cases new, persisting and resolved between sweep A and sweep B (default: the last two)
    Diff {
        a: Option<i64>,
        b: Option<i64>,
        #[arg(long, default_value = "claimsweep.db")]
        db: PathBuf,
        #[arg(long, value_enum, default_value_t = Lang::Zh)]
        lang: Lang,
        #[arg(long)]
        json: bool,
        /// Also list persisting cases whose evidence did not change
        #[arg(long)]
        all: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        SweepsCommand::List { db, lang, json } => {
            let conn = cases::open_db(&db)?;
            let rows = cases::list_sweeps(&conn)?;
            if json {
                emit_json(&(serde_json::to_string_pretty(&rows)? + "\n"))?;
            } else {
                emit(&render::sweep_list(&rows, lang))?;
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

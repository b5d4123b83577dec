//! Command-line interface: one file per subcommand, each with its own `Args` and `run`.

use clap::{Parser, Subcommand};

pub mod cases;
pub mod demo;
pub mod eval;
pub mod export;
pub mod gc;
pub mod generate;
pub mod graph;
pub mod ingest;
pub mod report;
pub mod review;
pub mod serve;
pub mod sweep;
pub mod sweeps;
pub mod users;

#[derive(Parser, Debug)]
#[command(
    name = "claimsweep",
    version,
    about = "Finds fraud and duplicate claims in vocational-training subsidy ledgers",
    long_about = "claimsweep ingests subsidy-ledger exports into SQLite, sweeps them against the \
                  policy in rules/*.toml, links persons and institutions in an entity graph, and \
                  turns what it finds into cases and reports for inspectors.",
    after_help = "Examples:\n  \
        claimsweep demo                                   # the whole job on a generated ledger\n  \
        claimsweep ingest --db audit.db ledger/\n  \
        claimsweep sweep --db audit.db\n  \
        claimsweep cases list --db audit.db --rule 死亡后申领 --limit 20\n  \
        claimsweep report --db audit.db --format html -o report.html\n\n\
        Every command has --help with its options and examples."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Generate a synthetic ledger with ground-truth labels
    Generate(generate::Args),
    /// Load a folder of CSV files or an .xlsx workbook into the database
    Ingest(ingest::Args),
    /// Run every rule and the graph analysis; store flags and cases
    Sweep(sweep::Args),
    /// Export the flags of a sweep as CSV, JSON or Excel
    Export(export::Args),
    /// Score the latest sweep against ground-truth labels
    Eval(eval::Args),
    /// Inspect the entity graph: neighbourhoods, rings, institution risk
    Graph(graph::Args),
    /// Review cases: list, show, assign, review, history
    Cases(cases::Args),
    /// List sweeps and diff two of them
    Sweeps(sweeps::Args),
    /// Write an HTML or Excel report of a sweep
    Report(report::Args),
    /// Generate, ingest, sweep and report a 100,000-claim demo dataset
    Demo(demo::Args),
    /// The inspectors' web workspace over the database (loopback by default)
    #[command(
        after_help = "Example:\n  claimsweep serve --db audit.db            # http://127.0.0.1:8080"
    )]
    Serve(serve::Args),
    /// Accounts of the web workspace and of `cases … --user`
    Users(users::Args),
    /// Remove the columnar snapshots of ledger states that are no longer current, and the rows
    /// of sweeps that stopped before their end
    Gc(gc::Args),
}

/// Writes command output to standard output. A closed pipe comes back as an error (so the
/// command stops), which `main` treats as success ([`is_broken_pipe`]); `print!` would panic.
pub fn out(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// Whether the error is a closed standard output (the reader of a pipe went away).
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error as one line (CONTRACT §3): its chain of causes joined by `: `, each cause once.
/// A library error often says its source's text in its own (`数据库错误 / database error:
/// {0}`); that source is not said again.
pub fn error_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string().replace('\n', " ");
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Generate(a) => generate::run(a),
        Command::Ingest(a) => ingest::run(a),
        Command::Sweep(a) => sweep::run(a),
        Command::Export(a) => export::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Graph(a) => graph::run(a),
        Command::Cases(a) => cases::run(a),
        Command::Sweeps(a) => sweeps::run(a),
        Command::Report(a) => report::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Users(a) => users::run(a),
        Command::Gc(a) => gc::run(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("数据库错误 / database error: {0}")]
    struct Wrapping(#[source] std::io::Error);

    #[test]
    fn an_error_line_says_each_cause_once() {
        let io = std::io::Error::other("database or disk is full");
        let e = anyhow::Error::new(Wrapping(io)).context("生成案件 / building cases");
        assert_eq!(
            error_line(&e),
            "生成案件 / building cases: 数据库错误 / database error: database or disk is full"
        );
        // A cause its wrapper does not repeat is kept.
        let e = anyhow::anyhow!("cannot read").context("claims.csv.zst");
        assert_eq!(error_line(&e), "claims.csv.zst: cannot read");
    }
}

//! `claimsweep generate --out DIR --claims N [--seed S] [--messy] [--rate R] [--compress
//! zst|gz]`: a synthetic ledger in the format of CONTRACT §1 with ground truth (`labels.csv`,
//! `rings.csv`, `staged_employers.csv`).

use crate::compression::Compression;
use anyhow::Context;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    claimsweep generate --out ledger --claims 100000 --seed 7\n  \
    claimsweep generate --out messy --claims 30000 --messy --rate 0.003\n  \
    claimsweep generate --out national --claims 100000000 --compress zst")]
pub struct Args {
    /// Output folder (created if missing)
    #[arg(long)]
    pub out: PathBuf,
    /// Number of claims
    #[arg(long, default_value_t = 100_000)]
    pub claims: u64,
    /// Random seed: the same seed gives the same bytes
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// GBK files, Chinese headers, shuffled columns and real-export value variants
    #[arg(long)]
    pub messy: bool,
    /// Injection rate per rule (of claims; of projects for project rules): the default 0.01
    /// makes about a quarter of the claims irregular, for tests and benchmarks; a realistic
    /// ledger (the demo's) is nearer 0.001
    #[arg(long, default_value_t = 0.01)]
    pub rate: f64,
    /// Write each table compressed as a whole: `claims.csv.zst` (Zstandard, about a quarter
    /// of the CSV) or `claims.csv.gz` (gzip); `ingest` reads both as it reads `claims.csv`
    #[arg(long, value_enum, default_value_t = Compression::None)]
    pub compress: Compression,
    /// Summary in English instead of Chinese
    #[arg(long)]
    pub english: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let opts = crate::generate::GenerateOptions {
        claims: args.claims,
        seed: args.seed,
        messy: args.messy,
        rate: args.rate,
        compression: args.compress,
    };
    // A bar on a terminal: a million claims take a quarter of a minute.
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(args.claims);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg:>16} [{bar:30}] {pos}/{len} {elapsed} (eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(if args.english {
            "claims"
        } else {
            "生成 claims"
        });
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let report =
        crate::generate::generate_with_progress(&opts, &args.out, &|done| bar.set_position(done))
            .with_context(|| format!("generate into {}", args.out.display()))?;
    bar.finish_and_clear();
    super::out(&report.summary(args.english))
}

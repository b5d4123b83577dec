//! `claimsweep generate --out DIR --claims N [--seed S] [--messy] [--rate R]`: a synthetic
//! ledger in the format of CONTRACT §1 with ground truth (`labels.csv`, `rings.csv`,
//! `staged_employers.csv`).

use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
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
    /// Injection rate per rule (of claims; of projects for project rules)
    #[arg(long, default_value_t = 0.01)]
    pub rate: f64,
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
    };
    let report = crate::generate::generate(&opts, &args.out)
        .with_context(|| format!("generate into {}", args.out.display()))?;
    print!("{}", report.summary(args.english));
    Ok(())
}

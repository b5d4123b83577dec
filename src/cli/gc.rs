//! `claimsweep gc [--db FILE]`: remove the columnar snapshots of ledger states that are no
//! longer current (each ingest writes one; a sweep only reads the current one).
//!
//! Examples:
//!   claimsweep gc --db audit.db

use std::path::PathBuf;

#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  claimsweep gc --db audit.db")]
pub struct Args {
    /// Database file
    #[arg(long, default_value = "claimsweep.db")]
    pub db: PathBuf,
    /// Output language: zh or en
    #[arg(long, default_value = "zh")]
    pub lang: String,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let pruned = crate::snapshot::file::gc(&args.db)?;
    let mb = pruned.bytes as f64 / 1e6;
    let en = args.lang == "en";
    if en {
        println!(
            "removed {} old snapshot folder(s), {mb:.1} MB",
            pruned.folders.len()
        );
    } else {
        println!("删除旧的列式快照 {} 个，{mb:.1} MB", pruned.folders.len());
    }
    for f in &pruned.folders {
        println!("  {}", f.display());
    }
    if let Some(k) = &pruned.kept {
        println!(
            "{}{}",
            if en {
                "kept (current state): "
            } else {
                "保留（当前状态）："
            },
            k.display()
        );
    }
    Ok(())
}

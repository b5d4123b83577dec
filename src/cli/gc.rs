//! `claimsweep gc [--db FILE]`: remove the columnar snapshots of ledger states that are no
//! longer current (each ingest writes one; a sweep only reads the current one).

use crate::text::Lang;
use std::fmt::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  claimsweep gc --db audit.db\n  claimsweep gc --db audit.db --lang en"
)]
pub struct Args {
    /// Database file
    #[arg(long, default_value = "claimsweep.db")]
    pub db: PathBuf,
    /// Output language
    #[arg(long, value_enum, default_value_t = Lang::Zh)]
    pub lang: Lang,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let pruned = crate::snapshot::file::gc(&args.db)?;
    let mb = pruned.bytes as f64 / 1e6;
    let n = pruned.folders.len();
    let mut text = match args.lang {
        Lang::En => format!("removed {n} old snapshot folder(s), {mb:.1} MB\n"),
        Lang::Zh => format!("删除旧的列式快照 {n} 个，{mb:.1} MB\n"),
    };
    for f in &pruned.folders {
        let _ = writeln!(text, "  {}", f.display());
    }
    if let Some(k) = &pruned.kept {
        let _ = writeln!(
            text,
            "{}{}",
            args.lang
                .pick("保留（当前状态）：", "kept (current state): "),
            k.display()
        );
    }
    super::out(&text)
}

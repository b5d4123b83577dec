//! `claimsweep gc [--db FILE]`: remove the columnar snapshots of ledger states that are no
//! longer current (each ingest writes one; a sweep only reads the current one), and the rows
//! of sweeps that stopped before their end (their flags and graph findings; no case refers to
//! them).

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
    let swept = prune_unfinished_sweeps(&args.db)?;
    let pruned = crate::snapshot::file::gc(&args.db)?;
    let mb = pruned.bytes as f64 / 1e6;
    let n = pruned.folders.len();
    let mut text = match args.lang {
        Lang::En => format!("removed {n} old snapshot folder(s), {mb:.1} MB\n"),
        Lang::Zh => format!("删除旧的列式快照 {n} 个，{mb:.1} MB\n"),
    };
    let ids = |v: &[i64]| {
        v.iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !swept.sweeps.is_empty() {
        let (s, r) = (ids(&swept.sweeps), swept.rows);
        text += &match args.lang {
            Lang::En => format!(
                "removed the rows of sweep(s) {s}, which stopped before their end: {r} rows (their space is reused by later sweeps)\n"
            ),
            Lang::Zh => format!("删除未完成筛查 {s} 的数据：{r} 行（其空间供以后的筛查使用）\n"),
        };
    }
    if !swept.kept.is_empty() {
        let k = ids(&swept.kept);
        text += &match args.lang {
            Lang::En => format!(
                "kept sweep(s) {k}: not marked finished, but their cases were written (a database of an earlier version)\n"
            ),
            Lang::Zh => format!("保留筛查 {k}：未标记完成，但已生成案件（旧版本写入的数据库）\n"),
        };
    }
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

/// The rows of the sweeps that stopped before their end, removed under the exclusive ledger
/// lock: no sweep is running meanwhile.
fn prune_unfinished_sweeps(
    db: &std::path::Path,
) -> anyhow::Result<crate::store::flags::PrunedSweeps> {
    use crate::store::lock::{LedgerLock, LockMode};
    let mut conn = crate::store::open_existing(db)?;
    let _lock = LedgerLock::acquire(db, LockMode::Exclusive)?;
    Ok(crate::store::flags::prune_unfinished_sweeps(&mut conn)?)
}

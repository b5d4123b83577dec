//! `claimsweep ingest [--db FILE] DIR|FILE.xlsx`: load a ledger extract into the database and
//! print what happened to every table.

use crate::store::ingest::IngestReport;
use anyhow::Context;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    claimsweep ingest --db audit.db ledger/\n  \
    claimsweep ingest --db audit.db 台账2021.xlsx --append")]
pub struct Args {
    /// Database file (created if missing)
    #[arg(long, default_value = "claimsweep.db")]
    pub db: PathBuf,
    /// Summary language: zh (Chinese with English column names) or en
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: crate::text::Lang,
    /// The extract adds rows to its tables: stored rows it does not have stay. Without it,
    /// each table in the source is the whole table, and stored rows it no longer has are
    /// counted "absent" and leave the ledger (kept in its history)
    #[arg(long)]
    pub append: bool,
    /// Folder of CSV files, or one .xlsx workbook with a sheet per table
    pub source: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut conn = crate::store::open(&args.db)?;
    let opts = crate::store::ingest::IngestOptions {
        progress: std::io::stderr().is_terminal(),
        append: args.append,
    };
    let (report, snapshot) =
        crate::snapshot::load::ingest_with_snapshot(&mut conn, &args.source, &opts)
            .with_context(|| format!("ingest {}", args.source.display()))?;
    let en = args.lang == crate::text::Lang::En;
    super::out(&summary(&report, en))?;
    // The columnar snapshot of the new ledger state, which the sweeps of this state read.
    let t = std::time::Instant::now();
    // Finishing a built snapshot and writing its files went on after the ingest's own work.
    let built_after_ingest = snapshot.as_ref().map_or(Default::default(), |b| b.waited);
    // Built from the parsed rows when the new state is just those in their order (a fresh
    // database, or an extract in the stored rows' order); else read back from SQLite.
    let saved = match snapshot {
        Some(built) => crate::snapshot::file::save_ingested(
            &args.db,
            report.ingest_id,
            &built.snap,
            built.staged,
        )?,
        None => crate::snapshot::file::save_current(&args.db)?,
    };
    if let Some(saved) = saved {
        let secs = (t.elapsed() + built_after_ingest).as_secs_f64();
        let mb = saved.bytes as f64 / 1e6;
        super::out(&if en {
            format!(
                "columnar snapshot for the sweeps: {} ({mb:.1} MB, {secs:.1} s)\n",
                saved.dir.display()
            )
        } else {
            format!(
                "列式快照（供筛查读取）：{}（{mb:.1} MB，{secs:.1} 秒）\n",
                saved.dir.display()
            )
        })?;
    }
    Ok(())
}

/// The summary table: per table read / loaded / rejected / new / changed / unchanged / absent,
/// then ignored files and the first rejects.
pub fn summary(r: &IngestReport, english: bool) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let headers: [&str; 8] = if english {
        [
            "table",
            "read",
            "loaded",
            "rejected",
            "new",
            "changed",
            "unchanged",
            "absent",
        ]
    } else {
        [
            "表 table",
            "读取 read",
            "载入 loaded",
            "拒绝 rejected",
            "新增 new",
            "变更 changed",
            "未变 unchanged",
            "缺失 absent",
        ]
    };
    let mut rows: Vec<[String; 8]> = r
        .tables
        .iter()
        .map(|t| {
            [
                // The Chinese name beside the table's own, as the header has both.
                match crate::model::TableSpec::by_name(t.table) {
                    Some(spec) if !english => format!("{} {}", spec.zh, t.table),
                    _ => t.table.to_string(),
                },
                t.read.to_string(),
                t.loaded.to_string(),
                t.rejected.to_string(),
                t.new.to_string(),
                t.changed.to_string(),
                t.unchanged.to_string(),
                t.absent.to_string(),
            ]
        })
        .collect();
    rows.push([
        if english { "total" } else { "合计 total" }.to_string(),
        r.total(|t| t.read).to_string(),
        r.total(|t| t.loaded).to_string(),
        r.total(|t| t.rejected).to_string(),
        r.total(|t| t.new).to_string(),
        r.total(|t| t.changed).to_string(),
        r.total(|t| t.unchanged).to_string(),
        r.total(|t| t.absent).to_string(),
    ]);
    let mut table = crate::output::Table::new(
        &headers
            .iter()
            .enumerate()
            .map(|(i, h)| (*h, "", i > 0))
            .collect::<Vec<_>>(),
    );
    for row in rows {
        table.push(row.to_vec());
    }
    let _ = writeln!(
        out,
        "{} #{} ({}, {:.1} s, sha256 {})",
        if english { "ingest" } else { "导入 ingest" },
        r.ingest_id,
        r.source,
        r.seconds,
        &r.content_hash[..r.content_hash.len().min(12)]
    );
    out.push_str(&table.render(crate::output::TableFormat::Table));
    let absent = r.total(|t| t.absent);
    if absent > 0 {
        let _ = writeln!(
            out,
            "{}",
            if english {
                "absent: stored rows this extract no longer has; they left the ledger, their last \
                 versions are kept in its history, and earlier sweeps still show them as judged \
                 (use --append for an extract that only adds rows)"
            } else {
                "缺失 absent：本次提取中已没有的原有记录，已移出台账（原版本保存在历史表中，以往筛查的证据不变；\
                 只增不减的提取请用 --append）"
            }
        );
    }
    if !r.ignored.is_empty() {
        let label = if english {
            "ignored (not a table)"
        } else {
            "忽略的文件 ignored (not a table)"
        };
        let _ = writeln!(out, "{label}: {}", r.ignored.join(", "));
    }
    if !r.first_rejects.is_empty() {
        let label = if english {
            "rejected rows (first ones; all in table `rejects`)"
        } else {
            "拒绝的行 rejected rows（前几条，全部见 rejects 表）"
        };
        let _ = writeln!(out, "{label}:");
        for j in &r.first_rejects {
            let col = j.column.map(|c| format!(" [{c}]")).unwrap_or_default();
            let _ = writeln!(out, "  {}:{}{}: {}", j.file, j.line, col, j.reason);
        }
    }
    out
}

//! `claimsweep export flags [--db FILE] [--sweep ID] --format csv|json|xlsx -o FILE [--lang zh|en]`:
//! one row per flag (CONTRACT §3 columns first, then `sweep_id`, `seq`, `subject_kind`,
//! `amount_at_risk_fen`).
//!
//! `claimsweep export no-policy …` (same options): one row per claim the sweep could not judge
//! because no policy covers its training: `claim_id`, `training_date`, `claim_date`, `reason`.
//!
//! `claimsweep export persons …` (same options): identity resolution, one row per link that
//! made two ID numbers one person: `person` (its smallest ID number), `id_a`, `id_b`,
//! `birth_date`, `via`, `contact`, `name_a`, `name_b`, `name_match`.
//!
//! CSV cells that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, tab
//! or CR) get a leading `'`; xlsx text has the characters XML forbids replaced by U+FFFD.
//!
//! Examples:
//! ```text
//! claimsweep export flags --format xlsx -o flags.xlsx
//! claimsweep export no-policy --format csv -o no-policy.csv
//! claimsweep export persons --format json -o persons.json --lang en
//! ```

use super::sweep::Lang;
use crate::model::fen_to_yuan;
use crate::store::flags::{self as flag_store, StoredFlag};
use crate::store::open_existing;
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// The flags of a sweep (default: the latest)
    #[command(after_help = "Examples:\n  \
        claimsweep export flags --format xlsx -o flags.xlsx\n  \
        claimsweep export flags --sweep 2 --format csv -o flags.csv --lang en")]
    Flags(FlagArgs),
    /// The claims a sweep could not judge: no policy covers their training
    #[command(
        after_help = "Example:\n  claimsweep export no-policy --format csv -o no-policy.csv"
    )]
    NoPolicy(FlagArgs),
    /// The persons found under several ID numbers, one row per link with its evidence
    #[command(after_help = "Example:\n  claimsweep export persons --format json -o persons.json")]
    Persons(FlagArgs),
    /// Claims (with resolved person), flags and cases of a sweep as Parquet, partitioned by
    /// county and person-hash bucket, for DuckDB, Spark or DataFusion
    #[command(
        after_help = "Examples:\n  claimsweep export ledger --format parquet -o handoff/\n  duckdb -c \"SELECT county, count(*) FROM read_parquet('handoff/claims/*/*/*.parquet', hive_partitioning = true) GROUP BY county\""
    )]
    Ledger(LedgerArgs),
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedgerFormat {
    Parquet,
}

#[derive(clap::Args, Debug)]
pub struct LedgerArgs {
    /// Database file
    #[arg(long, default_value = "claimsweep.db")]
    pub db: PathBuf,
    /// Sweep id (default: the latest finished sweep)
    #[arg(long)]
    pub sweep: Option<i64>,
    /// Output format (Parquet, Hive-style partition folders)
    #[arg(long, value_enum, default_value = "parquet")]
    pub format: LedgerFormat,
    /// Output folder (created; must be empty or absent)
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Person-hash buckets per county (FNV-1a of the resolved person modulo this)
    #[arg(long, default_value_t = 16)]
    pub buckets: u32,
}

fn export_ledger(a: LedgerArgs) -> anyhow::Result<()> {
    let conn = open_existing(&a.db)?;
    let sweep_id = flag_store::resolve_sweep(&conn, a.sweep)?;
    let t = std::time::Instant::now();
    let m = crate::handoff::export(&conn, sweep_id, &a.output, a.buckets)?;
    eprintln!(
        "已导出第 {sweep_id} 次筛查：申领 {} 条、标记申领 {} 条、案件 {} 件，{} 个 Parquet 文件 {:.1} MB，{:.1} 秒 → {} / exported sweep {sweep_id}: {} claims, {} flagged claims, {} cases in {} Parquet files",
        m.claims,
        m.flagged_claims,
        m.cases,
        m.files,
        m.bytes as f64 / 1e6,
        t.elapsed().as_secs_f64(),
        a.output.display(),
        m.claims,
        m.flagged_claims,
        m.cases,
        m.files,
    );
    Ok(())
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// CSV (UTF-8 with BOM)
    Csv,
    /// JSON array
    Json,
    /// Excel workbook
    Xlsx,
}

#[derive(clap::Args, Debug)]
pub struct FlagArgs {
    /// Database file
    #[arg(long, default_value = "claimsweep.db")]
    pub db: PathBuf,
    /// Sweep id (default: the latest finished sweep)
    #[arg(long)]
    pub sweep: Option<i64>,
    /// File format: csv, json or xlsx
    #[arg(long, value_enum)]
    pub format: Format,
    /// Output file
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Language of explanations and of the xlsx header
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: Lang,
}

/// Column names, in order: CONTRACT §3's six, then the extras.
pub const COLUMNS: &[&str] = &[
    "rule",
    "subject",
    "claim_ids",
    "amount_at_risk",
    "severity",
    "explanation",
    "sweep_id",
    "seq",
    "subject_kind",
    "amount_at_risk_fen",
];

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.what {
        What::Flags(a) => export_flags(a),
        What::NoPolicy(a) => export_no_policy(a),
        What::Persons(a) => export_persons(a),
        What::Ledger(a) => export_ledger(a),
    }
}

/// Columns of `export no-policy`.
pub const NO_POLICY_COLUMNS: &[&str] = &[
    "claim_id",
    "training_date",
    "claim_date",
    "reason",
    "sweep_id",
];

fn export_no_policy(a: FlagArgs) -> anyhow::Result<()> {
    let conn = open_existing(&a.db)?;
    let sweep_id = flag_store::resolve_sweep(&conn, a.sweep)?;
    let rows: Vec<Vec<String>> = flag_store::not_judged(&conn, sweep_id)?
        .into_iter()
        .map(|n| {
            let reason = match a.lang {
                Lang::Zh => format!(
                    "没有政策文件覆盖培训日期 {}，未按任何规则判定",
                    n.training_date
                ),
                Lang::En => format!(
                    "no policy file covers the training date {}: judged by no rule",
                    n.training_date
                ),
            };
            vec![
                n.claim_id,
                n.training_date,
                n.claim_date,
                reason,
                sweep_id.to_string(),
            ]
        })
        .collect();
    crate::output::write_output(&a.output, &a.db, |tmp| {
        write_table("no_policy", NO_POLICY_COLUMNS, &rows, a.format, tmp)
    })
    .with_context(|| format!("{}", a.output.display()))?;
    eprintln!(
        "{}",
        a.lang.pick(
            &format!(
                "已导出第 {sweep_id} 次筛查中无政策覆盖的 {} 条申领到 {}",
                rows.len(),
                a.output.display()
            ),
            &format!(
                "exported {} claims of sweep {sweep_id} that no policy covers to {}",
                rows.len(),
                a.output.display()
            ),
        )
    );
    Ok(())
}

/// Columns of `export persons`.
pub const PERSON_COLUMNS: &[&str] = &[
    "person",
    "id_a",
    "id_b",
    "birth_date",
    "via",
    "contact",
    "name_a",
    "name_b",
    "name_match",
    "sweep_id",
];

fn export_persons(a: FlagArgs) -> anyhow::Result<()> {
    let conn = open_existing(&a.db)?;
    let sweep_id = flag_store::resolve_sweep(&conn, a.sweep)?;
    let rows: Vec<Vec<String>> = flag_store::person_links(&conn, sweep_id)?
        .into_iter()
        .map(|l| {
            vec![
                l.person,
                l.id_a,
                l.id_b,
                l.birth_date,
                l.via,
                l.contact,
                l.name_a,
                l.name_b,
                l.name_match,
                sweep_id.to_string(),
            ]
        })
        .collect();
    crate::output::write_output(&a.output, &a.db, |tmp| {
        write_table("persons", PERSON_COLUMNS, &rows, a.format, tmp)
    })
    .with_context(|| format!("{}", a.output.display()))?;
    eprintln!(
        "{}",
        a.lang.pick(
            &format!(
                "已导出第 {sweep_id} 次筛查的 {} 条一人多证号关联到 {}",
                rows.len(),
                a.output.display()
            ),
            &format!(
                "exported {} identity links of sweep {sweep_id} to {}",
                rows.len(),
                a.output.display()
            ),
        )
    );
    Ok(())
}

/// A table of text cells as CSV (UTF-8 with BOM), JSON (an array of objects) or one xlsx
/// sheet with a bold, frozen header and an autofilter.
fn write_table(
    sheet_name: &str,
    columns: &[&str],
    rows: &[Vec<String>],
    format: Format,
    out: &Path,
) -> anyhow::Result<()> {
    match format {
        Format::Csv => {
            let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
            file.write_all(b"\xEF\xBB\xBF")?;
            let mut w = csv::Writer::from_writer(file);
            w.write_record(columns)?;
            for r in rows {
                w.write_record(r.iter().map(|c| crate::output::csv_cell(c).into_owned()))?;
            }
            w.into_inner().map_err(|e| e.into_error())?.flush()?;
        }
        Format::Json => {
            let items: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|r| {
                    columns
                        .iter()
                        .zip(r)
                        .map(|(c, v)| (c.to_string(), serde_json::Value::String(v.clone())))
                        .collect()
                })
                .collect();
            let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
            serde_json::to_writer_pretty(&mut file, &items)?;
            file.write_all(b"\n")?;
            file.flush()?;
        }
        Format::Xlsx => {
            use rust_xlsxwriter::{Format as XFormat, Workbook};
            let mut wb = Workbook::new();
            let sheet = wb.add_worksheet();
            sheet.set_name(sheet_name)?;
            let bold = XFormat::new().set_bold();
            for (c, name) in columns.iter().enumerate() {
                sheet.write_string_with_format(0, c as u16, *name, &bold)?;
                sheet.set_column_width(c as u16, 20.0)?;
            }
            for (i, r) in rows.iter().enumerate() {
                for (c, v) in r.iter().enumerate() {
                    sheet.write_string(i as u32 + 1, c as u16, crate::output::xml_text(v))?;
                }
            }
            sheet.autofilter(0, 0, rows.len() as u32, columns.len() as u16 - 1)?;
            sheet.set_freeze_panes(1, 0)?;
            wb.save(out)?;
        }
    }
    Ok(())
}

fn export_flags(a: FlagArgs) -> anyhow::Result<()> {
    let conn = open_existing(&a.db)?;
    let sweep_id = flag_store::resolve_sweep(&conn, a.sweep)?;
    let flags = flag_store::load_flags(&conn, sweep_id)?;
    crate::output::write_output(&a.output, &a.db, |tmp| {
        write_flags(&flags, a.format, a.lang, tmp)
    })
    .with_context(|| format!("{}", a.output.display()))?;
    eprintln!(
        "{}",
        match a.lang {
            Lang::Zh => format!(
                "已导出第 {sweep_id} 次筛查的 {} 条标记到 {}",
                flags.len(),
                a.output.display()
            ),
            Lang::En => format!(
                "exported {} flags of sweep {sweep_id} to {}",
                flags.len(),
                a.output.display()
            ),
        }
    );
    Ok(())
}

/// The cells of one flag, in [`COLUMNS`] order.
pub fn row(f: &StoredFlag, lang: Lang) -> [String; 10] {
    [
        f.rule.clone(),
        f.subject.clone(),
        f.claim_ids.join(";"),
        fen_to_yuan(f.amount_at_risk_fen),
        f.severity.clone(),
        lang.pick(&f.explanation_zh, &f.explanation_en).to_string(),
        f.sweep_id.to_string(),
        f.seq.to_string(),
        f.subject_kind.clone(),
        f.amount_at_risk_fen.to_string(),
    ]
}

pub fn write_flags(
    flags: &[StoredFlag],
    format: Format,
    lang: Lang,
    out: &Path,
) -> anyhow::Result<()> {
    match format {
        Format::Csv => write_csv(flags, lang, out),
        Format::Json => write_json(flags, lang, out),
        Format::Xlsx => write_xlsx(flags, lang, out),
    }
}

/// UTF-8 with BOM, so Excel opens Chinese text correctly.
fn write_csv(flags: &[StoredFlag], lang: Lang, out: &Path) -> anyhow::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    file.write_all(b"\xEF\xBB\xBF")?;
    let mut w = csv::Writer::from_writer(file);
    w.write_record(COLUMNS)?;
    for f in flags {
        w.write_record(
            row(f, lang)
                .iter()
                .map(|c| crate::output::csv_cell(c).into_owned()),
        )?;
    }
    w.into_inner().map_err(|e| e.into_error())?.flush()?;
    Ok(())
}

/// An array of objects; `amount_at_risk` is a string with two decimals (exact yuan), the fen
/// amount an integer, `claim_ids` `;`-separated as in the other formats.
fn write_json(flags: &[StoredFlag], lang: Lang, out: &Path) -> anyhow::Result<()> {
    let items: Vec<serde_json::Value> = flags
        .iter()
        .map(|f| {
            serde_json::json!({
                "rule": f.rule,
                "subject": f.subject,
                "claim_ids": f.claim_ids.join(";"),
                "amount_at_risk": fen_to_yuan(f.amount_at_risk_fen),
                "severity": f.severity,
                "explanation": lang.pick(&f.explanation_zh, &f.explanation_en),
                "sweep_id": f.sweep_id,
                "seq": f.seq,
                "subject_kind": f.subject_kind,
                "amount_at_risk_fen": f.amount_at_risk_fen,
            })
        })
        .collect();
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    serde_json::to_writer_pretty(&mut file, &items)?;
    file.write_all(b"\n")?;
    file.flush()?;
    Ok(())
}

/// One sheet `flags`: a header row of the column names (the same in every language: scripts
/// read them), autofilter, frozen header, column widths; amounts are numbers with two decimals
/// so Excel can sum them.
fn write_xlsx(flags: &[StoredFlag], lang: Lang, out: &Path) -> anyhow::Result<()> {
    use rust_xlsxwriter::{Format as XFormat, Workbook};
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name("flags")?;
    let bold = XFormat::new().set_bold();
    let money = XFormat::new().set_num_format("0.00");
    for (c, name) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &bold)?;
    }
    for (i, f) in flags.iter().enumerate() {
        let r = i as u32 + 1;
        let cells = row(f, lang);
        for (c, v) in cells.iter().enumerate() {
            let c16 = c as u16;
            match COLUMNS[c] {
                "amount_at_risk" => {
                    sheet.write_number_with_format(
                        r,
                        c16,
                        f.amount_at_risk_fen as f64 / 100.0,
                        &money,
                    )?;
                }
                "sweep_id" | "seq" | "amount_at_risk_fen" => {
                    sheet.write_number(r, c16, v.parse::<f64>().unwrap_or(0.0))?;
                }
                _ => {
                    sheet.write_string(r, c16, crate::output::xml_text(v))?;
                }
            }
        }
    }
    let last_row = flags.len() as u32;
    sheet.autofilter(0, 0, last_row, COLUMNS.len() as u16 - 1)?;
    sheet.set_freeze_panes(1, 0)?;
    for (c, w) in [22.0, 26.0, 30.0, 16.0, 10.0, 80.0, 10.0, 8.0, 14.0, 16.0]
        .iter()
        .enumerate()
    {
        sheet.set_column_width(c as u16, *w)?;
    }
    wb.save(out)?;
    Ok(())
}

//! `claimsweep eval [--db FILE] [--sweep ID] --labels labels.csv [--json] [--lang zh|en]`:
//! precision and recall of a sweep per rule against ground truth.

use super::sweep::Lang;
use crate::eval::{evaluate, ratio_text, EvalReport, Labels};
use crate::output::{Table, TableFormat};
use crate::rules::engine::rule_zh;
use crate::store::flags as flag_store;
use crate::store::open_existing;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
#[command(after_help = "Example:\n  claimsweep eval --db audit.db --labels ledger/labels.csv")]
pub struct Args {
    /// Database file
    #[arg(long, default_value = "claimsweep.db")]
    pub db: PathBuf,
    /// Sweep id (default: the latest finished sweep)
    #[arg(long)]
    pub sweep: Option<i64>,
    /// Ground truth: CSV with columns claim_id, rule
    #[arg(long)]
    pub labels: PathBuf,
    /// Same as --format json (kept for scripts)
    #[arg(long)]
    pub json: bool,
    /// Output format: an aligned table, or tsv, csv, json for programs
    #[arg(long, value_enum, default_value_t = TableFormat::Table)]
    pub format: TableFormat,
    /// Language of the table
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: Lang,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let labels = Labels::load(&args.labels)?;
    let conn = open_existing(&args.db)?;
    let sweep_id = flag_store::resolve_sweep(&conn, args.sweep)?;
    let pairs = flag_store::flagged_pairs(&conn, sweep_id)?;
    let report = evaluate(&labels, pairs.iter().map(|(r, c)| (r.as_str(), c.as_str())));
    let format = if args.json {
        TableFormat::Json
    } else {
        args.format
    };
    if format == TableFormat::Tsv || format == TableFormat::Csv {
        return super::out(&table(&report, args.lang).render(format));
    }
    if format == TableFormat::Json {
        let v = serde_json::json!({ "sweep_id": sweep_id, "rules": report.rules, "total": report.total });
        super::out(&(serde_json::to_string_pretty(&v)? + "\n"))?;
    } else {
        super::out(&render(&report, sweep_id, args.lang))?;
    }
    Ok(())
}

/// The table: one row per rule, then the micro total, then the sweep id.
pub fn render(r: &EvalReport, sweep_id: i64, lang: Lang) -> String {
    let mut out = table(r, lang).render(TableFormat::Table);
    out.push_str(&match lang {
        Lang::Zh => format!("筛查编号 sweep id：{sweep_id}\n"),
        Lang::En => format!("sweep id: {sweep_id}\n"),
    });
    out
}

/// One row per rule, then the micro total.
pub fn table(r: &EvalReport, lang: Lang) -> Table {
    let headers: Vec<&str> = match lang {
        Lang::Zh => vec![
            "规则 rule",
            "标注 labelled",
            "标记 flagged",
            "命中 true positives",
            "精确率 precision",
            "召回率 recall",
        ],
        Lang::En => vec![
            "rule",
            "labelled",
            "flagged",
            "true positives",
            "precision",
            "recall",
        ],
    };
    let mut rows: Vec<Vec<String>> = r
        .rules
        .iter()
        .map(|s| {
            let none = s.labelled == 0 && s.flagged == 0;
            let n = |v: usize| if none { "-".to_string() } else { v.to_string() };
            let name = match lang {
                Lang::Zh if !rule_zh(&s.rule).is_empty() => {
                    format!("{} {}", rule_zh(&s.rule), s.rule)
                }
                _ => s.rule.clone(),
            };
            vec![
                name,
                n(s.labelled),
                n(s.flagged),
                n(s.true_positives),
                ratio_text(s.precision),
                ratio_text(s.recall),
            ]
        })
        .collect();
    let t = &r.total;
    rows.push(vec![
        lang.pick("合计（微平均） total (micro)", "total (micro)")
            .to_string(),
        t.labelled.to_string(),
        t.flagged.to_string(),
        t.true_positives.to_string(),
        ratio_text(t.precision),
        ratio_text(t.recall),
    ]);
    let keys = [
        "rule",
        "labelled",
        "flagged",
        "true_positives",
        "precision",
        "recall",
    ];
    let columns: Vec<(&str, &'static str, bool)> = headers
        .iter()
        .zip(keys)
        .enumerate()
        .map(|(i, (h, k))| (*h, k, i > 0))
        .collect();
    let mut t = Table::new(&columns);
    for row in rows {
        t.push(row);
    }
    t
}

//! `claimsweep sweep [--db FILE] [--rules DIR] [--threads N] [--lang zh|en]`: load the stored
//! ledger, run every rule and the graph analysis, store flags, findings and cases, and print a
//! summary per rule.

use crate::policy::PolicySet;
use crate::refdata::RefData;
use crate::rules::engine::{self, progress_bar, rule_zh, SweepResult};
use crate::store::flags as flag_store;
use anyhow::Context;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub use crate::cases::Lang;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Database file
    #[arg(long, default_value = "claimsweep.db")]
    pub db: PathBuf,
    /// Policy folder (or one .toml file); default: ./rules if it exists, else the built-in policy
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Worker threads (default: one per CPU)
    #[arg(long)]
    pub threads: Option<usize>,
    /// Summary language
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: Lang,
}

/// What a sweep records in `sweeps.summary_json`.
#[derive(Debug, Serialize)]
pub struct SweepSummary<'a> {
    pub sweep_id: i64,
    pub policy: String,
    pub claims: usize,
    pub claims_not_judged: usize,
    pub flags: usize,
    pub threads: usize,
    pub rules: &'a [engine::RuleStats],
    pub defects: &'a [String],
    pub graph: Option<GraphCounts>,
    pub cases: Option<crate::cases::CaseSummary>,
    /// The first claims no policy covers, with their dates (all of them are in the
    /// `unjudged_claims` table), and the range of their training dates.
    pub not_judged_first: Vec<flag_store::NotJudged>,
    pub not_judged_range: Option<(String, String)>,
    /// Persons found under two or more ID numbers, and how many ID numbers they have in all.
    pub persons_merged: usize,
    pub ids_merged: usize,
    pub load_ms: u128,
    /// Identity resolution and each claim's policy.
    pub resolve_ms: u128,
    pub rules_ms: u128,
    pub graph_ms: u128,
    /// From the start of the rules to the end of case building: the rules, saving flags and
    /// the graph analysis overlap, so this is less than their sum.
    pub store_ms: u128,
    /// Time the flag writer was busy (it runs beside the rules and the graph analysis).
    pub flags_store_ms: u128,
    pub graph_store_ms: u128,
    /// Taking the case input out of the snapshot + grouping + writing.
    pub cases_ms: u128,
    pub cases_extract_ms: u128,
    pub cases_group_ms: u128,
    pub cases_write_ms: u128,
    /// The last checkpoint (copying what the background checkpoints had not).
    pub checkpoint_ms: u128,
    pub total_ms: u128,
}

#[derive(Debug, Serialize)]
pub struct GraphCounts {
    pub nodes: usize,
    pub edges: usize,
    pub rings: usize,
    pub cross_county: usize,
    pub institutions_ranked: usize,
    pub staged_employers: usize,
}

/// The policies a sweep runs on: `--rules`, else `./rules` when that folder exists, else the
/// policy compiled into the binary.
pub fn load_policies(rules: Option<&Path>) -> anyhow::Result<PolicySet> {
    match rules {
        Some(p) => Ok(PolicySet::load(p)?),
        None if Path::new("rules").is_dir() => Ok(PolicySet::load(Path::new("rules"))?),
        None => Ok(PolicySet::embedded_default()),
    }
}

/// Opens an existing database (a sweep never creates an empty one by mistake).
pub fn open_existing(db: &Path) -> anyhow::Result<rusqlite::Connection> {
    if !db.exists() {
        anyhow::bail!(
            "{}: 数据库不存在，请先运行 `claimsweep ingest` / database not found, run `claimsweep ingest` first",
            db.display()
        );
    }
    Ok(crate::store::open(db)?)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let policies = load_policies(args.rules.as_deref())?;
    let mut conn = open_existing(&args.db)?;
    if let Some(hint) = crate::store::page_size_hint(&conn, &args.db)? {
        eprintln!("claimsweep: note: {hint}");
    }

    let t = Instant::now();
    let spinner = engine::spinner("载入 load");
    let mut snap = crate::store::load_snapshot(&conn).context("载入台账 / loading the ledger")?;
    spinner.finish_and_clear();
    let load_ms = t.elapsed().as_millis();
    // A ledger far from the memory budget keeps freed memory for its next allocations.
    crate::memory::set_purge_delay(crate::memory::purge_delay_ms(snap.claims.len()));
    if !snap.has_table("claims") {
        anyhow::bail!(
            "{}: 数据库中没有申领表，请先运行 `claimsweep ingest` / no claims table ingested yet, run `claimsweep ingest` first",
            args.db.display()
        );
    }

    let threads = args
        .threads
        .unwrap_or_else(rayon::current_num_threads)
        .max(1);
    let sweep_id = flag_store::begin_sweep(&conn, &policies, threads)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;

    // Which ID numbers are one person, and which policy judges each claim: read by the rules,
    // the graph and the cases alike.
    let t = Instant::now();
    let resolved = pool.install(|| crate::resolve::Resolved::new(&snap, &policies));
    let resolve_ms = t.elapsed().as_millis();
    let resolved_ref = &resolved;
    let not_judged = resolved
        .save(&conn, sweep_id, &snap)
        .context("保存身份归并 / saving the identity resolution")?;
    let not_judged_range = not_judged
        .iter()
        .map(|n| n.training_date.clone())
        .min()
        .zip(not_judged.iter().map(|n| n.training_date.clone()).max());
    let not_judged_first: Vec<flag_store::NotJudged> = not_judged
        .into_iter()
        .take(crate::rules::common::MAX_LISTED)
        .collect();
    // The sweep's commits are large: their pages are copied into the database by a thread of
    // its own instead of by each commit (see store::checkpoint).
    crate::store::checkpoint::set_auto_checkpoint(&conn, 0)?;
    let checkpointer = crate::store::checkpoint::Checkpointer::start(&args.db)?;

    // Side by side: the rules (on the pool), then the graph analysis; and one SQLite writer
    // thread saving each rule's flags as soon as that rule and the rules before it are done.
    let t = Instant::now();
    let snap_ref = &snap;
    let cases_policy = crate::cases::cases_policy(&policies);
    let (mut result, findings, rules_ms, graph_ms, flags_store_ms) =
        std::thread::scope(|s| -> anyhow::Result<_> {
            let (to_writer, batches) = std::sync::mpsc::channel::<Vec<crate::rules::Flag>>();
            let conn_ref: &mut rusqlite::Connection = &mut conn;
            let writer = s.spawn(move || -> Result<u128, flag_store::FlagStoreError> {
                let mut busy = std::time::Duration::ZERO;
                let mut w = flag_store::FlagWriter::begin(conn_ref, sweep_id)?;
                for batch in batches {
                    let t = Instant::now();
                    w.write(snap_ref, &batch)?;
                    busy += t.elapsed();
                }
                let t = Instant::now();
                w.finish()?;
                Ok((busy + t.elapsed()).as_millis())
            });
            let streamed = engine::run_rules_streaming(
                snap_ref,
                &policies,
                RefData::embedded(),
                resolved_ref,
                Some(threads),
                &progress_bar(0, "规则 rules"),
                |_, flags| {
                    // The writer gets the explanations; the flags kept for the graph and the
                    // summary drop them (they are most of a flag's memory).
                    let texts: Vec<crate::rules::Flag> = flags
                        .iter_mut()
                        .map(|f| crate::rules::Flag {
                            explanation_zh: std::mem::take(&mut f.explanation_zh),
                            explanation_en: std::mem::take(&mut f.explanation_en),
                            ..f.clone()
                        })
                        .collect();
                    to_writer.send(texts).map_err(|_| ())
                },
            );
            drop(to_writer);
            let rules_ms = t.elapsed().as_millis();
            // Then, still beside the writer: the graph analysis.
            let graph_and_result = streamed.map(|result| {
                let t = Instant::now();
                let f = pool.install(|| {
                    crate::graph::analyse(snap_ref, resolved_ref, &result.flags, &policies)
                });
                (result, f, t.elapsed().as_millis())
            });
            let flags_store_ms = writer
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
                .context("保存标记 / saving flags")?;
            // The writer stopping early is the only way the stream fails, and its error was
            // returned just above.
            let (result, findings, graph_ms) = graph_and_result
                .map_err(|()| anyhow::anyhow!("保存标记中断 / saving flags stopped"))?;
            Ok((result, findings, rules_ms, graph_ms, flags_store_ms))
        })?;
    for d in &result.defects {
        eprintln!("claimsweep: warning: {d}");
    }
    // Saving the graph findings (SQLite, on a thread of its own) beside the cases' CPU work:
    // case building needs a fraction of the snapshot, so the rest goes first; then the flags
    // go into the case input (each freed as taken in), the snapshot goes, and cases are
    // grouped on the pool.
    snap.release_rule_only_tables();
    let flags = std::mem::take(&mut result.flags);
    let flag_count = flags.len();
    let conn_ref: &mut rusqlite::Connection = &mut conn;
    let (saved, graph_store_ms, prepared, extract_ms, group_ms) = std::thread::scope(|s| {
        let findings = &findings;
        let storing = s.spawn(move || {
            let t = Instant::now();
            let saved = crate::graph::store::save(conn_ref, sweep_id, findings);
            (saved, t.elapsed().as_millis())
        });
        let t = Instant::now();
        let case_input = crate::cases::extract_in_memory_consuming(
            &snap,
            &resolved.persons,
            flags,
            findings,
            &cases_policy,
        );
        drop(snap);
        let extract_ms = t.elapsed().as_millis();
        let t = Instant::now();
        let prepared = pool.install(|| case_input.group(&cases_policy));
        let group_ms = t.elapsed().as_millis();
        let (saved, graph_store_ms) = storing
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (saved, graph_store_ms, prepared, extract_ms, group_ms)
    });
    saved.context("保存图分析结果 / saving graph findings")?;
    let graph_counts = GraphCounts {
        nodes: findings.nodes,
        edges: findings.edges,
        rings: findings.rings.len(),
        cross_county: findings.cross_county.len(),
        institutions_ranked: findings.institution_risk.len(),
        staged_employers: findings.staged_employers.len(),
    };
    drop(findings);
    let t2 = Instant::now();
    let cases = crate::cases::build_prepared(&mut conn, sweep_id, &cases_policy, prepared)
        .context("生成案件 / building cases")?;
    // Taking the input out of the snapshot and grouping (both beside saving the graph
    // findings), then writing.
    let cases_write_ms = t2.elapsed().as_millis();
    let cases_ms = extract_ms + group_ms + cases_write_ms;
    // What the background checkpoints have not copied yet (the last commits) is copied now.
    let t2 = Instant::now();
    checkpointer
        .finish(&conn)
        .context("写入数据库文件 / checkpointing the database")?;
    let checkpoint_ms = t2.elapsed().as_millis();
    let store_ms = t.elapsed().as_millis();

    let summary = SweepSummary {
        sweep_id,
        policy: policies.fingerprint(),
        claims: result.claims,
        claims_not_judged: result.claims_not_judged,
        flags: flag_count,
        threads: result.threads,
        rules: &result.rules,
        defects: &result.defects,
        graph: Some(graph_counts),
        cases: Some(cases),
        not_judged_first,
        not_judged_range,
        load_ms,
        resolve_ms,
        persons_merged: resolved.persons.groups().len(),
        ids_merged: resolved.persons.merged_ids(),
        rules_ms,
        graph_ms,
        store_ms,
        flags_store_ms,
        graph_store_ms,
        cases_ms,
        cases_extract_ms: extract_ms,
        cases_group_ms: group_ms,
        cases_write_ms,
        checkpoint_ms,
        total_ms: started.elapsed().as_millis(),
    };
    flag_store::finish_sweep(&conn, sweep_id, result.claims, &summary)?;
    print!("{}", render_summary(&summary, &result, args.lang));
    Ok(())
}

/// The printed summary: a table per rule, skipped rules, then the sweep's facts.
pub fn render_summary(s: &SweepSummary, r: &SweepResult, lang: Lang) -> String {
    use crate::model::fen_to_yuan;
    use std::fmt::Write;
    let headers: Vec<&str> = match lang {
        Lang::Zh => vec![
            "规则 rule",
            "标记申领 claims flagged",
            "标记数 flags",
            "涉及金额（元） amount at risk (yuan)",
            "耗时 ms",
        ],
        Lang::En => vec![
            "rule",
            "claims flagged",
            "flags",
            "amount at risk (yuan)",
            "ms",
        ],
    };
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    for st in r.rules.iter() {
        let name = match lang {
            Lang::Zh => format!("{} {}", rule_zh(st.rule), st.rule),
            Lang::En => st.rule.to_string(),
        };
        if st.skipped() {
            skipped.push(format!(
                "  {name}: {}",
                lang.pick(&st.skip_reason_zh(), &st.skip_reason_en())
            ));
            continue;
        }
        rows.push(vec![
            name,
            st.claims_flagged.to_string(),
            st.flags.to_string(),
            fen_to_yuan(st.amount_at_risk),
            format!("{:.0}", st.elapsed.as_secs_f64() * 1000.0),
        ]);
    }
    let mut out = render_table(&headers, &rows, &[false, true, true, true, true]);
    if !skipped.is_empty() {
        let _ = writeln!(out, "{}", lang.pick("跳过的规则：", "Skipped rules:"));
        for line in skipped {
            let _ = writeln!(out, "{line}");
        }
    }
    let line = |out: &mut String, zh: &str, en: &str, v: String| {
        let _ = writeln!(out, "{}{v}", lang.pick(zh, en));
    };
    line(
        &mut out,
        "筛查编号 sweep id：",
        "sweep id: ",
        s.sweep_id.to_string(),
    );
    line(&mut out, "申领总数：", "claims: ", s.claims.to_string());
    line(
        &mut out,
        "未判定申领（无适用政策）：",
        "claims not judged (no policy in force): ",
        s.claims_not_judged.to_string(),
    );
    if let Some((first, last)) = &s.not_judged_range {
        let _ = writeln!(
            out,
            "{}",
            lang.pick(
                &format!(
                    "  无政策覆盖其培训日期 {first}..{last}：需要 rules/ 中覆盖这些日期的政策文件（.toml）；逐条清单见 `claimsweep export no-policy`"
                ),
                &format!(
                    "  no policy covers their training dates {first}..{last}: a policy file (.toml) in rules/ covering them is needed; each is listed by `claimsweep export no-policy`"
                )
            )
        );
        out.push_str(&crate::cases::render::not_judged_items(
            &s.not_judged_first,
            s.claims_not_judged,
            lang,
        ));
    }
    line(
        &mut out,
        "一人多证号：",
        "persons under several ID numbers: ",
        match lang {
            Lang::Zh => format!("{} 人，共 {} 个身份证号", s.persons_merged, s.ids_merged),
            Lang::En => format!("{} persons, {} ID numbers", s.persons_merged, s.ids_merged),
        },
    );
    line(&mut out, "标记总数：", "flags: ", s.flags.to_string());
    if let Some(g) = &s.graph {
        line(
            &mut out,
            "关联图：",
            "graph: ",
            match lang {
                Lang::Zh => format!(
                    "{} 个节点，{} 条边，{} 个团伙，{} 名跨县区人员，{} 个疑似挂靠就业单位",
                    g.nodes, g.edges, g.rings, g.cross_county, g.staged_employers
                ),
                Lang::En => format!(
                    "{} nodes, {} edges, {} rings, {} cross-county persons, {} staged employers",
                    g.nodes, g.edges, g.rings, g.cross_county, g.staged_employers
                ),
            },
        );
    }
    if let Some(c) = &s.cases {
        line(
            &mut out,
            "案件：",
            "cases: ",
            match lang {
                Lang::Zh => format!(
                    "{} 件（新增 {}，持续 {}，重新打开 {}，已消失 {}）",
                    c.cases, c.new, c.persisting, c.reopened, c.resolved
                ),
                Lang::En => format!(
                    "{} ({} new, {} persisting, {} reopened, {} resolved)",
                    c.cases, c.new, c.persisting, c.reopened, c.resolved
                ),
            },
        );
    }
    line(&mut out, "政策 policy：", "policy: ", s.policy.clone());
    line(&mut out, "线程：", "threads: ", s.threads.to_string());
    line(
        &mut out,
        "耗时：",
        "time: ",
        match lang {
            Lang::Zh => format!(
                "共 {:.2} 秒（载入 {} ms；身份归并 {} ms；规则 {} ms、关联图分析 {} ms，同时保存标记 {} ms；保存关联图 {} ms；案件 {} ms）",
                s.total_ms as f64 / 1000.0,
                s.load_ms,
                s.resolve_ms,
                s.rules_ms,
                s.graph_ms,
                s.flags_store_ms,
                s.graph_store_ms,
                s.cases_ms
            ),
            Lang::En => format!(
                "{:.2} s total (load {} ms; identity resolution {} ms; rules {} ms and graph analysis {} ms, saving flags meanwhile {} ms; saving graph findings {} ms; cases {} ms)",
                s.total_ms as f64 / 1000.0,
                s.load_ms,
                s.resolve_ms,
                s.rules_ms,
                s.graph_ms,
                s.flags_store_ms,
                s.graph_store_ms,
                s.cases_ms
            ),
        },
    );
    out
}

pub use crate::text::display_width;

/// A plain-text table with a header rule; `right[i]` right-aligns column `i` (numbers).
pub fn render_table(headers: &[&str], rows: &[Vec<String>], right: &[bool]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| display_width(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(display_width(c));
        }
    }
    let fmt_row = |cells: &mut dyn Iterator<Item = &str>| {
        let mut line = String::new();
        for (i, c) in cells.enumerate() {
            if i > 0 {
                line.push_str(" | ");
            }
            let pad = " ".repeat(widths[i] - display_width(c));
            if right.get(i).copied().unwrap_or(false) {
                line.push_str(&pad);
                line.push_str(c);
            } else {
                line.push_str(c);
                line.push_str(&pad);
            }
        }
        line.trim_end().to_string() + "\n"
    };
    let mut out = fmt_row(&mut headers.iter().copied());
    out.push_str(
        &widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-"),
    );
    out.push('\n');
    for r in rows {
        out.push_str(&fmt_row(&mut r.iter().map(String::as_str)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_chinese_by_display_width() {
        let t = render_table(
            &["规则", "n"],
            &[
                vec!["ab".into(), "10".into()],
                vec!["年龄".into(), "7".into()],
            ],
            &[false, true],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "规则 |  n");
        assert_eq!(lines[1], "-----+---");
        assert_eq!(lines[2], "ab   | 10");
        assert_eq!(lines[3], "年龄 |  7");
    }
}

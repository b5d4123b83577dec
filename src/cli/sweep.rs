//! `claimsweep sweep [--db FILE] [--rules DIR] [--threads N] [--lang zh|en]`: load the stored
//! ledger, run every rule and the graph analysis, store flags, findings and cases, and print a
//! summary per rule.

use crate::rules::engine::rule_zh;
use crate::sweep::{SweepOptions, SweepOutcome, SweepSummary};
use std::path::PathBuf;

pub use crate::cases::Lang;

#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    claimsweep sweep --db audit.db\n  \
    claimsweep sweep --db audit.db --rules my-rules/ --lang en")]
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
    /// What-if: run the policy of --rules against the current ledger on a scratch copy and
    /// list which cases would appear, go or change against the latest sweep; nothing is stored
    /// in the database
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: print the comparison as JSON
    #[arg(long, requires = "dry_run")]
    pub json: bool,
    /// With --dry-run: also list cases that would stay unchanged
    #[arg(long, requires = "dry_run")]
    pub all: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let policies = crate::sweep::load_policies(args.rules.as_deref())?;
    let opts = SweepOptions {
        threads: args.threads,
        ..SweepOptions::default()
    };
    // Said before the sweep starts: out of disk, it would fail only at its end (a dry run
    // copies the database first); out of memory, the system would end it without a word.
    let warnings = [
        if args.dry_run {
            crate::store::disk::dry_run_room_warning(&args.db)
        } else {
            crate::store::disk::sweep_room_warning(&args.db)
        },
        crate::sweep::memory_warning(&args.db),
    ];
    for w in warnings.into_iter().flatten() {
        eprintln!("claimsweep: warning: {w}");
    }
    if args.dry_run {
        return dry_run(&args, &policies, &opts);
    }
    let outcome = crate::sweep::run(&args.db, &policies, &opts)?;
    print_outcome(&outcome, args.lang)
}

/// `sweep --dry-run`: the scratch copy goes beside the database (same disk, same space).
fn dry_run(
    args: &Args,
    policies: &crate::policy::PolicySet,
    opts: &SweepOptions,
) -> anyhow::Result<()> {
    let dir = match args.db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let w = crate::sweep::what_if(&args.db, policies, opts, &dir)?;
    if args.json {
        crate::cli::cases::emit_json(&(serde_json::to_string_pretty(&w)? + "\n"))?;
        return Ok(());
    }
    let d = &w.diff;
    let lang = args.lang;
    let changed = d
        .persisting
        .iter()
        .filter(|e| {
            e.added_claims > 0
                || e.removed_claims > 0
                || !e.new_rules.is_empty()
                || e.amount_a_fen != e.amount_b_fen
        })
        .count();
    let (before, after) = (
        d.persisting
            .iter()
            .chain(&d.resolved)
            .map(|e| e.amount_a_fen)
            .sum(),
        d.persisting
            .iter()
            .chain(&d.new)
            .map(|e| e.amount_b_fen)
            .sum(),
    );
    let head = match lang {
        Lang::Zh => format!(
            "试运行（未保存任何内容）：按所给政策重新筛查，与当前第 {} 次筛查的案件比较\n  将新出现 {} 件，将消失 {} 件，将保留 {} 件（其中证据变化 {} 件）\n  案件金额合计：{} 元 → {} 元\n  新出现案件的编号只存在于试运行中。\n\n",
            w.current_sweep,
            d.new.len(),
            d.resolved.len(),
            d.persisting.len(),
            changed,
            crate::model::fen_to_yuan_grouped(before),
            crate::model::fen_to_yuan_grouped(after),
        ),
        Lang::En => format!(
            "Dry run (nothing stored): the given policy swept again and compared with the cases of sweep {}\n  {} would appear, {} would go, {} would stay ({} with changed evidence)\n  cases' sum of amounts at risk: {} → {} yuan\n  Case ids of cases that would appear exist only in the dry run.\n\n",
            w.current_sweep,
            d.new.len(),
            d.resolved.len(),
            d.persisting.len(),
            changed,
            crate::model::fen_to_yuan_grouped(before),
            crate::model::fen_to_yuan_grouped(after),
        ),
    };
    crate::cli::cases::emit_masked(
        &(head + &crate::cases::render::sweep_diff(d, lang, args.all)),
        false,
    )?;
    Ok(())
}

/// Notes and warnings on standard error, the summary on standard output.
pub fn print_outcome(outcome: &SweepOutcome, lang: Lang) -> anyhow::Result<()> {
    for note in &outcome.notes {
        eprintln!("claimsweep: note: {note}");
    }
    for d in &outcome.summary.defects {
        eprintln!("claimsweep: warning: {d}");
    }
    super::out(&render_summary(&outcome.summary, lang))
}

/// The printed summary: a table per rule, skipped rules, then the sweep's facts.
pub fn render_summary(s: &SweepSummary, lang: Lang) -> String {
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
    for st in s.rules.iter() {
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
    out.push_str(&render_facts(s, lang));
    out
}

/// The sweep's facts under the rule table: ids, counts, unjudged claims, persons, graph,
/// cases, policy and timings.
/// The money at risk, reconciled (`crate::money`): the distinct total, and how the rules' and
/// the cases' sums come to it.
pub fn render_money(s: &SweepSummary, lang: Lang) -> String {
    use crate::model::fen_to_yuan as y;
    let m = &s.money;
    let mut out = match lang {
        Lang::Zh => format!(
            "涉及金额（去重，每笔申领计一次）：{} 元，{} 笔申领\n  各规则合计 {} 元 − 多条规则重复计入 {} 元 = {} 元\n",
            y(m.distinct_fen),
            m.distinct_claims,
            y(m.rules_sum_fen),
            y(m.overlap_fen),
            y(m.distinct_fen)
        ),
        Lang::En => format!(
            "amount at risk (distinct, each claim once): {} yuan, {} claims\n  rules' sum {} − counted under several rules {} = {} yuan\n",
            y(m.distinct_fen),
            m.distinct_claims,
            y(m.rules_sum_fen),
            y(m.overlap_fen),
            y(m.distinct_fen)
        ),
    };
    if let Some(c) = &s.cases {
        let c = &c.money;
        out.push_str(&match lang {
            Lang::Zh => format!(
                "  案件金额合计 {} 元 − 同一申领在多件案件中重复计入 {} 元 = {} 元\n",
                y(c.cases_sum_fen),
                y(c.overlap_fen),
                y(c.distinct_fen)
            ),
            Lang::En => format!(
                "  cases' sum {} − claims in several cases {} = {} yuan\n",
                y(c.cases_sum_fen),
                y(c.overlap_fen),
                y(c.distinct_fen)
            ),
        });
    }
    out
}

fn render_facts(s: &SweepSummary, lang: Lang) -> String {
    use std::fmt::Write;
    let mut out = String::new();
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
    out.push_str(&render_money(s, lang));
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
                "共 {:.2} 秒（载入 {} ms{}；身份归并 {} ms；规则 {} ms（同时保存标记 {} ms）；关联图分析 {} ms；保存关联图 {} ms；案件 {} ms）",
                s.total_ms as f64 / 1000.0,
                s.load_ms,
                if s.snapshot_from_file { "，读列式快照" } else { "" },
                s.resolve_ms,
                s.rules_ms,
                s.flags_store_ms,
                s.graph_ms,
                s.graph_store_ms,
                s.cases_ms
            ),
            Lang::En => format!(
                "{:.2} s total (load {} ms{}; identity resolution {} ms; rules {} ms (saving flags meanwhile {} ms); graph analysis {} ms; saving graph findings {} ms; cases {} ms)",
                s.total_ms as f64 / 1000.0,
                s.load_ms,
                if s.snapshot_from_file { " from the columnar snapshot" } else { "" },
                s.resolve_ms,
                s.rules_ms,
                s.flags_store_ms,
                s.graph_ms,
                s.graph_store_ms,
                s.cases_ms
            ),
        },
    );
    out
}

pub use crate::output::render_table;
pub use crate::text::display_width;

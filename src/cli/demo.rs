//! `claimsweep demo`: the whole job on an embedded default, for a first look.
//!
//! Generates a synthetic Linyi-like ledger (100,000 claims by default, with ground truth),
//! ingests it into a fresh database, sweeps it with the built-in policy, scores the sweep
//! against the ground truth and writes the HTML and Excel reports.
//!
//! Examples:
//!   claimsweep demo
//!   claimsweep demo --dir /tmp/demo --claims 1000000 --lang en

use super::{eval, generate, ingest, out, report, sweep};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The demo's injection rate per rule: about 3 % of its claims are irregular, as in a real
/// ledger (`generate`'s default, 0.01, makes a quarter irregular, for stress tests).
pub const DEMO_RATE: f64 = 0.001;

#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    claimsweep demo\n  \
    claimsweep demo --dir /tmp/demo --claims 20000 --lang en\n  \
    claimsweep demo --force          # start again, dropping the reviews recorded in the demo")]
pub struct Args {
    /// Folder for the data, the database and the reports (the database is re-created)
    #[arg(long, default_value = "claimsweep-demo")]
    pub dir: PathBuf,
    /// Number of claims to generate
    #[arg(long, default_value_t = 100_000)]
    pub claims: u64,
    /// Random seed (the same seed gives the same data)
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Language of summaries and reports
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: sweep::Lang,
    /// Re-create the demo database even if cases in it were assigned or reviewed
    #[arg(long)]
    pub force: bool,
}

/// A path as a shell reads it: quoted when it holds anything but plain characters, so the
/// printed commands work when pasted.
fn shell_path(p: &Path) -> String {
    let s = p.display().to_string();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c) || !c.is_ascii());
    if plain {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The commands the demo suggests next, as printed (`top`: the case listed first): tests run
/// them as they are.
pub fn next_commands(db: &Path, top: i64, lang: sweep::Lang) -> Vec<String> {
    let db = shell_path(db);
    let en = if lang == sweep::Lang::En {
        " --lang en"
    } else {
        ""
    };
    vec![
        format!("claimsweep cases list --db {db} --limit 20{en}"),
        format!("claimsweep cases show {top} --db {db}{en}"),
        format!("claimsweep graph rings --db {db}{en}"),
    ]
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let en = matches!(args.lang, sweep::Lang::En);
    let say =
        |zh: &str, en_text: &str| out(&format!("\n== {} ==\n", if en { en_text } else { zh }));
    let t0 = Instant::now();
    std::fs::create_dir_all(&args.dir).with_context(|| format!("create {}", args.dir.display()))?;
    let data = args.dir.join("data");
    let db = args.dir.join("claimsweep.db");
    // Reviews are an inspector's work: a second demo run does not drop them unasked.
    if db.exists() && !args.force {
        let reviewed = crate::cases::open_db(&db)
            .ok()
            .and_then(|conn| crate::cases::query::review_actions(&conn).ok())
            .unwrap_or(0);
        if reviewed > 0 {
            anyhow::bail!(
                "{}：数据库中有 {reviewed} 条复核记录，重新运行会删除它们；确需重来请加 --force / the database holds {reviewed} review actions that a new demo would delete; add --force to start again",
                db.display()
            );
        }
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("remove old {}", p.display()))?;
        }
    }

    say("1/5 生成合成台账", "1/5 generate a synthetic ledger")?;
    generate::run(generate::Args {
        out: data.clone(),
        claims: args.claims,
        seed: args.seed,
        messy: false,
        rate: DEMO_RATE,
        compress: crate::compression::Compression::None,
        english: en,
    })?;

    say("2/5 导入数据库", "2/5 ingest into the database")?;
    ingest::run(ingest::Args {
        db: db.clone(),
        lang: args.lang,
        append: false,
        source: data.clone(),
    })?;

    say("3/5 按政策核查", "3/5 sweep against the policy")?;
    let policies = crate::sweep::load_policies(None)?;
    let outcome = crate::sweep::run(&db, &policies, &crate::sweep::SweepOptions::default())?;
    sweep::print_outcome(&outcome, args.lang)?;

    say("4/5 与真实标签比对", "4/5 score against the ground truth")?;
    eval::run(eval::Args {
        db: db.clone(),
        sweep: None,
        labels: data.join("labels.csv"),
        json: false,
        format: crate::output::TableFormat::Table,
        lang: args.lang,
    })?;

    say("5/5 生成报告", "5/5 write the reports")?;
    let lang = args.lang;
    let html = args.dir.join("report.html");
    let xlsx = args.dir.join("report.xlsx");
    for (format, output) in [
        (report::FormatArg::Html, &html),
        (report::FormatArg::Xlsx, &xlsx),
    ] {
        report::run(report::Args {
            db: db.clone(),
            format,
            output: output.clone(),
            sweep: None,
            lang,
            unmask: false,
            rules: None,
            detailed_cases: crate::report::data::DEFAULT_DETAILED_CASES,
            ring_pictures: crate::report::data::DEFAULT_RING_PICTURES,
        })?;
    }

    let secs = t0.elapsed().as_secs_f64();
    // The case `cases list` shows first is the one to open first.
    let top = crate::cases::list(
        &crate::cases::open_db(&db)?,
        &crate::cases::CaseFilter {
            limit: Some(1),
            ..Default::default()
        },
    )?
    .first()
    .map_or(1, |c| c.case_id);
    let next = next_commands(&db, top, args.lang)
        .iter()
        .map(|c| format!("  {c}\n"))
        .collect::<String>();
    if en {
        out(&format!(
            "\nDone in {secs:.1} s.\n  data:     {}\n  database: {}\n  report:   {}\n  workbook: {}\n  web workspace: create a login with `claimsweep users add demo-supervisor --role supervisor --db {}` (it asks for a password), then `claimsweep serve --db {}` and open http://127.0.0.1:8080\nNext:\n{next}",
            data.display(),
            db.display(),
            html.display(),
            xlsx.display(),
            db.display(),
            db.display()
        ))
    } else {
        out(&format!(
            "\n完成，用时 {secs:.1} 秒。\n  数据 data:       {}\n  数据库 database: {}\n  报告 report:     {}\n  工作簿 workbook: {}\n  网页工作台 web:  先建登录账号 `claimsweep users add 演示主管 --role supervisor --db {}`（按提示输入密码），再运行 `claimsweep serve --db {}`，浏览器打开 http://127.0.0.1:8080\n下一步 next:\n{next}",
            data.display(),
            db.display(),
            html.display(),
            xlsx.display(),
            db.display(),
            db.display()
        ))
    }
}

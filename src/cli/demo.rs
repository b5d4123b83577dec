//! `claimsweep demo`: the whole job on an embedded default, for a first look.
//!
//! Generates a synthetic Linyi-like ledger (100,000 claims by default, with ground truth),
//! ingests it into a fresh database, sweeps it with the built-in policy, scores the sweep
//! against the ground truth and writes the HTML and Excel reports.
//!
//! Examples:
//!   claimsweep demo
//!   claimsweep demo --dir /tmp/demo --claims 1000000 --lang en

use super::{eval, generate, ingest, report, sweep};
use anyhow::Context;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Folder for the data, the database and the reports (re-created database each run)
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
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let en = matches!(args.lang, sweep::Lang::En);
    let say = |zh: &str, en_text: &str| println!("\n== {} ==", if en { en_text } else { zh });
    let t0 = Instant::now();
    std::fs::create_dir_all(&args.dir).with_context(|| format!("create {}", args.dir.display()))?;
    let data = args.dir.join("data");
    let db = args.dir.join("claimsweep.db");
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("remove old {}", p.display()))?;
        }
    }

    say("1/5 生成合成台账", "1/5 generate a synthetic ledger");
    generate::run(generate::Args {
        out: data.clone(),
        claims: args.claims,
        seed: args.seed,
        messy: false,
        rate: 0.01,
        english: en,
    })?;

    say("2/5 导入数据库", "2/5 ingest into the database");
    ingest::run(ingest::Args {
        db: db.clone(),
        lang: if en { "en".into() } else { "zh".into() },
        append: false,
        source: data.clone(),
    })?;

    say("3/5 按政策核查", "3/5 sweep against the policy");
    let policies = crate::sweep::load_policies(None)?;
    let outcome = crate::sweep::run(&db, &policies, &crate::sweep::SweepOptions::default())?;
    sweep::print_outcome(&outcome, args.lang);

    say("4/5 与真实标签比对", "4/5 score against the ground truth");
    eval::run(eval::Args {
        db: db.clone(),
        sweep: None,
        labels: data.join("labels.csv"),
        json: false,
        lang: args.lang,
    })?;

    say("5/5 生成报告", "5/5 write the reports");
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
    if en {
        println!("\nDone in {secs:.1} s.\n  data:     {}\n  database: {}\n  report:   {}\n  workbook: {}",
            data.display(), db.display(), html.display(), xlsx.display());
        println!(
            "Next: claimsweep cases list --db {} --lang en",
            db.display()
        );
    } else {
        println!("\n完成，用时 {secs:.1} 秒。\n  数据 data:       {}\n  数据库 database: {}\n  报告 report:     {}\n  工作簿 workbook: {}",
            data.display(), db.display(), html.display(), xlsx.display());
        println!("下一步 next: claimsweep cases list --db {}", db.display());
    }
    super::serve::print_demo_login(&db, en)?;
    Ok(())
}

//! `claimsweep report --format html|xlsx -o FILE [--sweep ID] [--lang zh|en] [--unmask]`:
//! the inspectors' report of a sweep as one self-contained HTML file or an Excel workbook.

use crate::cases::Lang;
use crate::policy::PolicySet;
use crate::report::{self, Format, Phase, ReportOptions};
use anyhow::Context;
use std::path::{Path, PathBuf};

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum FormatArg {
    Html,
    Xlsx,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Database file
    #[arg(long, default_value = "claimsweep.db")]
    pub db: PathBuf,
    /// Output format
    #[arg(long, value_enum)]
    pub format: FormatArg,
    /// Output file
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Sweep to report (default: the latest finished sweep)
    #[arg(long)]
    pub sweep: Option<i64>,
    /// Language of the report
    #[arg(long, value_enum, default_value_t = Lang::Zh)]
    pub lang: Lang,
    /// Show ID numbers, phones and bank accounts in full (for entitled staff only)
    #[arg(long)]
    pub unmask: bool,
    /// Policy file or folder whose targets the progress section uses (default: the built-in
    /// Linyi policy)
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Cases shown with their full evidence in the HTML, highest score first
    #[arg(long, default_value_t = crate::report::data::DEFAULT_DETAILED_CASES)]
    pub detailed_cases: usize,
    /// Rings drawn as pictures in the HTML, highest score first
    #[arg(long, default_value_t = crate::report::data::DEFAULT_RING_PICTURES)]
    pub ring_pictures: usize,
}

/// Writes a report and returns a one-line summary of what was written (for `demo` too).
pub fn write(
    db: &Path,
    format: Format,
    output: &Path,
    policies: &PolicySet,
    opts: &ReportOptions,
) -> anyhow::Result<String> {
    if !db.exists() {
        anyhow::bail!(
            "{}: database file not found (run `claimsweep ingest` and `claimsweep sweep` first)",
            db.display()
        );
    }
    crate::output::check_not_database(output, db)?;
    let conn = crate::store::open(db)?;
    crate::cases::schema::ensure_schema(&conn)?;
    let mut written = None;
    crate::output::write_atomically(output, |tmp| -> anyhow::Result<()> {
        let mut progress = Progress::new(opts.lang);
        written = Some(report::write_report_with(
            &conn,
            policies,
            opts,
            format,
            tmp,
            &mut |p| progress.phase(p),
        )?);
        progress.finish();
        Ok(())
    })?;
    let data = written.expect("written on success");
    let what = match format {
        Format::Html => "HTML",
        Format::Xlsx => "Excel",
    };
    Ok(match opts.lang {
        Lang::Zh => format!(
            "已写入{what}报告：{}（筛查批次 {}，疑点 {} 个，案件 {} 件{}）",
            output.display(),
            data.sweep.sweep_id,
            data.summary.flags,
            data.summary
                .cases
                .map_or("无数据".to_string(), |c| c.to_string()),
            if data.masked {
                "，已脱敏"
            } else {
                "，未脱敏"
            }
        ),
        Lang::En => format!(
            "{what} report written: {} (sweep {}, {} flags, {} cases{})",
            output.display(),
            data.sweep.sweep_id,
            data.summary.flags,
            data.summary
                .cases
                .map_or("no data".to_string(), |c| c.to_string()),
            if data.masked {
                ", masked"
            } else {
                ", NOT masked"
            }
        ),
    })
}

/// Progress on a terminal: a spinner naming the phase, and a line with its time as each
/// phase ends. Nothing when stderr is not a terminal (logs and tests stay clean).
struct Progress {
    lang: Lang,
    bar: Option<indicatif::ProgressBar>,
    current: Option<(Phase, std::time::Instant)>,
    started: std::time::Instant,
}

impl Progress {
    fn new(lang: Lang) -> Progress {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Progress {
            lang,
            bar,
            current: None,
            started: std::time::Instant::now(),
        }
    }

    fn end_phase(&mut self) {
        if let (Some(bar), Some((phase, at))) = (&self.bar, self.current.take()) {
            bar.println(format!(
                "  {} {:.1} s",
                phase.label(self.lang),
                at.elapsed().as_secs_f64()
            ));
        }
    }

    fn phase(&mut self, phase: Phase) {
        self.end_phase();
        self.current = Some((phase, std::time::Instant::now()));
        if let Some(bar) = &self.bar {
            bar.set_message(phase.label(self.lang));
        }
    }

    fn finish(&mut self) {
        self.end_phase();
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            eprintln!(
                "{} {:.1} s",
                self.lang.pick("报告用时", "report took"),
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let policies = match &args.rules {
        Some(p) => PolicySet::load(p)?,
        None => PolicySet::embedded_default(),
    };
    crate::rules::check_policies(&policies)?;
    let opts = ReportOptions {
        sweep: args.sweep,
        lang: args.lang,
        unmask: args.unmask,
        detailed_cases: args.detailed_cases,
        ring_pictures: args.ring_pictures,
    };
    let format = match args.format {
        FormatArg::Html => Format::Html,
        FormatArg::Xlsx => Format::Xlsx,
    };
    let line = write(&args.db, format, &args.output, &policies, &opts)
        .with_context(|| format!("report {}", args.output.display()))?;
    println!("{line}");
    Ok(())
}

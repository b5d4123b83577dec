//! `claimsweep generate`: synthetic Linyi-like subsidy ledgers with ground truth.
//!
//! The ledger is generated in self-contained blocks of claims (persons, classes, projects,
//! certificates, registry entries and shared contacts never cross a block), so every rule's
//! ground truth can be computed per block on the final rows (`labels.rs`) and the whole thing
//! streams: 10 million claims need only one block in memory plus a set of the ID numbers used.
//! Institutions, their staff, employers and the living-standard table are global.
//!
//! One `ChaCha8Rng` seeded from `--seed` drives the ledger; a second one, derived from the
//! same seed, only decides spellings under `--messy`, so plain and messy output of one seed hold
//! the same ledger and the same labels.
//!
//! Modules depend on each other one way only, each on those before it:
//!
//! - `options`: what to generate and the error; `pools`: names, codes and weights.
//! - `world`: the global state (policy, counties, institutions, staff, employers, counters).
//! - `block`: one block of rows and its generator's building blocks (persons, classes, claims).
//! - `projects`: project-based classes and the project rules' injections.
//! - `inject`: the plan of a block and, per claim rule, its breach and benign look-alike.
//! - `labels`: the ground truth of a finished block.
//! - `write`: the CSV files, the global tables, each block's rows and its ground truth.
//! - this module: the run, with a generator thread and a writer thread.

mod block;
mod inject;
mod labels;
mod options;
mod pools;
mod projects;
mod world;
mod write;

pub use options::{GenerateError, GenerateOptions};

use crate::model::{InstitutionRow, TABLES};
use crate::rules::RULE_IDS;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use std::time::Instant;

/// What was written.
#[derive(Clone, Debug, Default)]
pub struct GenerateReport {
    pub claims: u64,
    pub persons: u64,
    pub blocks: u64,
    /// (table, rows) in CONTRACT order.
    pub tables: Vec<(&'static str, u64)>,
    /// (rule, labelled claims) for every rule id.
    pub labels: Vec<(&'static str, u64)>,
    pub label_rows: u64,
    pub rings: u64,
    pub staged_employers: u64,
    pub seconds: f64,
}

impl GenerateReport {
    /// A short summary for the command line, Chinese first.
    pub fn summary(&self, english: bool) -> String {
        let mut s = String::new();
        if english {
            s.push_str(&format!(
                "generated {} claims of {} persons in {} blocks in {:.1} s\n",
                self.claims, self.persons, self.blocks, self.seconds
            ));
            for (t, n) in &self.tables {
                s.push_str(&format!("  {t}: {n} rows\n"));
            }
            s.push_str(&format!("labels: {} rows\n", self.label_rows));
            for (r, n) in &self.labels {
                s.push_str(&format!("  {r}: {n}\n"));
            }
            s.push_str(&format!(
                "rings: {} claims; staged employers: {}\n",
                self.rings, self.staged_employers
            ));
        } else {
            s.push_str(&format!(
                "已生成 {} 条申领（{} 人，{} 个数据块），用时 {:.1} 秒\n",
                self.claims, self.persons, self.blocks, self.seconds
            ));
            for (t, n) in &self.tables {
                let zh = crate::model::TableSpec::by_name(t)
                    .map(|s| s.zh)
                    .unwrap_or(t);
                s.push_str(&format!("  {zh}（{t}）：{n} 行\n"));
            }
            s.push_str(&format!("标注（labels.csv）：{} 行\n", self.label_rows));
            // The rule's title, and its id as labels.csv has it (like the sweep's table).
            for (r, n) in &self.labels {
                let title = crate::rules::rule_title(r).map_or("", |(zh, _)| zh);
                s.push_str(&format!("  {title} {r}：{n}\n"));
            }
            s.push_str(&format!(
                "团伙申领（rings.csv）：{} 条；疑似安排就业单位（staged_employers.csv）：{} 个\n",
                self.rings, self.staged_employers
            ));
        }
        s
    }
}

struct WriterTotals {
    claims: u64,
    tables: Vec<(&'static str, u64)>,
    truth: write::TruthCounts,
}

/// Claims per block: everything linked to a claim stays within its block.
pub const BLOCK_CLAIMS: u64 = 20_000;

/// Writes the dataset of `opts` into the folder `out` (created if missing).
pub fn generate(opts: &GenerateOptions, out: &Path) -> Result<GenerateReport, GenerateError> {
    generate_with_progress(opts, out, &|_| {})
}

/// [`generate`], calling `progress` with the number of claims generated so far after each
/// block (the CLI draws a bar with it).
pub fn generate_with_progress(
    opts: &GenerateOptions,
    out: &Path,
    progress: &dyn Fn(u64),
) -> Result<GenerateReport, GenerateError> {
    let started = Instant::now();
    if !(0.0..=0.2).contains(&opts.rate) || opts.rate.is_nan() {
        return Err(GenerateError::Options(format!(
            "--rate {} is outside 0..=0.2",
            opts.rate
        )));
    }
    std::fs::create_dir_all(out).map_err(|source| GenerateError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let spell_rng = ChaCha8Rng::seed_from_u64(opts.seed ^ 0x6d65_7373_795f_7370);
    let mut messer = write::Messer::new(spell_rng, opts.messy);
    let mut layout_rng = ChaCha8Rng::seed_from_u64(opts.seed.wrapping_add(0x1a70_u64));

    let mut world = world::World::new(opts, &mut rng)?;
    let mut writers = Vec::new();
    for spec in TABLES {
        writers.push(write::TableWriter::create(
            out,
            spec,
            opts.messy,
            opts.compression,
            &mut layout_rng,
        )?);
    }
    let mut tw = write::Writers::new(writers);
    let mut truth = write::TruthWriters::create(out)?;

    write::write_global(&mut world, &mut tw, &mut messer)?;

    // The generator thread makes blocks and their labels (both need the world); a writer
    // thread spells and writes them in order, so the two cores share the work and the output
    // does not depend on timing.
    let (tx, rx) =
        std::sync::mpsc::sync_channel::<(Vec<InstitutionRow>, block::Block, labels::Labels)>(2);
    let writer = move || -> Result<WriterTotals, GenerateError> {
        let mut claims = 0u64;
        for (orgs, block, labels) in rx {
            claims += write::write_block(orgs, block, &labels, &mut tw, &mut messer, &mut truth)?;
        }
        Ok(WriterTotals {
            claims,
            tables: tw.finish()?,
            truth: truth.finish()?,
        })
    };
    let mut remaining = opts.claims;
    let mut block_no = 0u64;
    let totals = std::thread::scope(|scope| {
        let handle = scope.spawn(writer);
        while remaining > 0 {
            let target = if remaining < 2 * BLOCK_CLAIMS {
                // The last block takes the remainder so that no block is tiny.
                if remaining > BLOCK_CLAIMS {
                    remaining / 2
                } else {
                    remaining
                }
            } else {
                BLOCK_CLAIMS
            };
            let mut gen = block::BlockGen::new(&mut world, &mut rng, target, opts.rate, block_no);
            gen.run();
            let block = gen.finish();
            let labels = labels::compute(&block, &world);
            for s in &block.staff {
                world.add_staff(&s.institution_id, &s.id_number);
            }
            let n = block.claims.len() as u64;
            let orgs = std::mem::take(&mut world.new_orgs);
            block_no += 1;
            remaining = remaining.saturating_sub(n.max(1));
            progress(opts.claims.saturating_sub(remaining));
            if tx.send((orgs, block, labels)).is_err() {
                // The writer stopped on an error; join() reports it.
                break;
            }
        }
        drop(tx);
        handle
            .join()
            .unwrap_or_else(|_| Err(GenerateError::Options("the writer thread panicked".into())))
    })?;
    Ok(GenerateReport {
        claims: totals.claims,
        persons: world.persons_made,
        blocks: block_no,
        tables: totals.tables,
        labels: RULE_IDS
            .iter()
            .copied()
            .zip(totals.truth.per_rule)
            .collect(),
        label_rows: totals.truth.label_rows,
        rings: totals.truth.rings,
        staged_employers: totals.truth.staged,
        seconds: started.elapsed().as_secs_f64(),
    })
}

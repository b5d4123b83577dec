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

mod block;
mod labels;
mod pools;
mod world;
mod write;

use crate::model::{InstitutionRow, TABLES};
use crate::rules::RULE_IDS;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// Number of claims (exact for N ≥ a few thousand; small runs may carry a few more).
    pub claims: u64,
    pub seed: u64,
    /// GBK files, Chinese headers, shuffled columns and value variants.
    pub messy: bool,
    /// Injection rate per rule (of claims, or of projects for project rules).
    pub rate: f64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            claims: 100_000,
            seed: 7,
            messy: false,
            rate: 0.01,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid option: {0}")]
    Options(String),
    #[error("the policy has no date range to generate claims in: {0}")]
    Policy(String),
}

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
            for (r, n) in &self.labels {
                s.push_str(&format!("  {r}：{n}\n"));
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
    per_rule: Vec<u64>,
    tables: Vec<(&'static str, u64)>,
    label_rows: u64,
    rings: u64,
    staged: u64,
}

/// Claims per block: everything linked to a claim stays within its block.
pub const BLOCK_CLAIMS: u64 = 20_000;

/// Writes the dataset of `opts` into the folder `out` (created if missing).
pub fn generate(opts: &GenerateOptions, out: &Path) -> Result<GenerateReport, GenerateError> {
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
            &mut layout_rng,
        )?);
    }
    let mut tw = world::Writers::new(writers);
    let mut labels_out = write::PlainWriter::create(out, "labels.csv", "claim_id,rule")?;
    let mut rings_out = write::PlainWriter::create(out, "rings.csv", "ring_id,claim_id")?;
    let mut staged_out =
        write::PlainWriter::create(out, "staged_employers.csv", "employer_id,class_id")?;

    world.write_global(&mut tw, &mut messer)?;

    // The generator thread makes blocks and their labels (both need the world); a writer
    // thread spells and writes them in order, so the two cores share the work and the output
    // does not depend on timing.
    let (tx, rx) =
        std::sync::mpsc::sync_channel::<(Vec<InstitutionRow>, block::Block, labels::Labels)>(2);
    let writer = move || -> Result<WriterTotals, GenerateError> {
        let mut per_rule = vec![0u64; RULE_IDS.len()];
        let mut claims = 0u64;
        for (orgs, block, labels) in rx {
            claims += world::World::write_block(
                orgs,
                block,
                &labels,
                &mut tw,
                &mut messer,
                &mut labels_out,
                &mut rings_out,
                &mut staged_out,
                &mut per_rule,
            )?;
        }
        Ok(WriterTotals {
            claims,
            per_rule,
            tables: tw.finish()?,
            label_rows: labels_out.finish()?,
            rings: rings_out.finish()?,
            staged: staged_out.finish()?,
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
        labels: RULE_IDS.iter().copied().zip(totals.per_rule).collect(),
        label_rows: totals.label_rows,
        rings: totals.rings,
        staged_employers: totals.staged,
        seconds: started.elapsed().as_secs_f64(),
    })
}

//! The sweep as a library stage: the stage order of a sweep over a stored ledger, its threads
//! and process settings, and its timings. The CLI (`claimsweep sweep`), the demo, the benches
//! and the tests call [`run`] and print or check the [`SweepOutcome`].
//!
//! The order: load the snapshot → resolve persons and each claim's policy (stored with the
//! sweep) → the rules on the pool, each rule's flags handed to a writer thread as soon as the
//! rules before it are done → the graph analysis, still beside the writer → the graph findings
//! saved beside case grouping → cases written → the last checkpoint.

use crate::finding::{FlagTable, Flags};
use crate::graph::GraphFindings;
use crate::policy::{PolicyError, PolicySet};
use crate::refdata::RefData;
use crate::resolve::Resolved;
use crate::rules::engine::{self, progress_bar, SweepResult};
use crate::snapshot::Snapshot;
use crate::store::flags as flag_store;
use crate::store::lock::{LedgerLock, LockMode};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("载入台账 / loading the ledger: {0}")]
    Load(#[source] crate::store::StoreError),
    #[error("载入列式快照 / loading the columnar snapshot: {0}")]
    SnapshotFile(#[source] crate::snapshot::file::SnapshotFileError),
    #[error("{0}: 数据库中没有申领表，请先运行 `claimsweep ingest` / no claims table ingested yet, run `claimsweep ingest` first")]
    NoClaims(PathBuf),
    #[error("保存身份归并 / saving the identity resolution: {0}")]
    Resolution(#[source] flag_store::FlagStoreError),
    #[error("保存标记 / saving flags: {0}")]
    Flags(#[from] flag_store::FlagStoreError),
    #[error("保存标记中断 / saving flags stopped")]
    WriterStopped,
    #[error("保存图分析结果 / saving graph findings: {0}")]
    GraphFindings(#[source] crate::store::graph::GraphStoreError),
    #[error("生成案件 / building cases: {0}")]
    Cases(#[source] crate::cases::CaseError),
    #[error("写入数据库文件 / checkpointing the database: {0}")]
    Checkpoint(#[source] crate::store::checkpoint::CheckpointError),
    #[error("数据库锁 / database lock: {0}")]
    Lock(#[source] std::io::Error),
    #[error("线程池 / thread pool: {0}")]
    Pool(#[from] rayon::ThreadPoolBuildError),
    #[error("数据库错误 / database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}: 还没有生成案件的筛查，试运行无从比较；请先运行 `claimsweep sweep` / no sweep with cases to compare the dry run with; run `claimsweep sweep` first")]
    NothingToCompare(PathBuf),
    #[error("试运行的临时副本 / the dry run's scratch copy: {0}")]
    Scratch(#[source] std::io::Error),
}

/// How to run a sweep.
#[derive(Clone, Debug, Default)]
pub struct SweepOptions {
    /// Worker threads (default: one per CPU).
    pub threads: Option<usize>,
    /// Read the columnar snapshot beside this database instead of beside the swept one (a
    /// what-if copy of the database has the same ledger state, checked, but no snapshots).
    pub snapshots_of: Option<PathBuf>,
}

/// What a sweep did: the summary it stored in `sweeps.summary_json`, and notes for the user
/// (e.g. a page-size hint) that do not stop it.
#[derive(Debug, Clone)]
pub struct SweepOutcome {
    pub summary: SweepSummary,
    pub notes: Vec<String>,
}

/// What a sweep records in `sweeps.summary_json`.
#[derive(Debug, Clone, Serialize)]
pub struct SweepSummary {
    pub sweep_id: i64,
    pub policy: String,
    pub claims: usize,
    pub claims_not_judged: usize,
    pub flags: usize,
    pub threads: usize,
    pub rules: Vec<engine::RuleStats>,
    /// The flags' amounts at risk reconciled: the rules' sum, their overlap, the distinct
    /// total (`crate::money`).
    pub money: crate::money::FlagTotals,
    pub defects: Vec<String>,
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
    /// The snapshot was read from the columnar snapshot of the ledger state (not from SQLite).
    pub snapshot_from_file: bool,
    /// Identity resolution and each claim's policy.
    pub resolve_ms: u128,
    pub rules_ms: u128,
    pub graph_ms: u128,
    /// From the start of the rules to the end of case building: the rules and saving flags
    /// overlap, so this is less than the sum of the stages.
    pub store_ms: u128,
    /// Time the flag writer was busy (it runs beside the rules; the graph analysis starts
    /// when it is done).
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

#[derive(Debug, Clone, Serialize)]
pub struct GraphCounts {
    pub nodes: usize,
    pub edges: usize,
    pub rings: usize,
    pub cross_county: usize,
    pub institutions_ranked: usize,
    pub staged_employers: usize,
}

/// The policies a sweep runs on: `rules`, else `./rules` when that folder exists, else the
/// policy compiled into the binary; each checked against the rules that exist.
pub fn load_policies(rules: Option<&Path>) -> Result<PolicySet, PolicyError> {
    let set = match rules {
        Some(p) => PolicySet::load(p)?,
        None if Path::new("rules").is_dir() => PolicySet::load(Path::new("rules"))?,
        None => PolicySet::embedded_default(),
    };
    crate::rules::check_policies(&set)?;
    Ok(set)
}

/// Sweeps the ledger stored in `db` against `policies`: flags, the identity resolution, graph
/// findings and cases are stored under a new sweep id.
pub fn run(
    db: &Path,
    policies: &PolicySet,
    opts: &SweepOptions,
) -> Result<SweepOutcome, SweepError> {
    let started = Instant::now();
    let mut conn = crate::store::open_existing(db)?;
    // The whole sweep reads one state of the ledger: no ingest changes it meanwhile.
    let _lock = LedgerLock::acquire(db, LockMode::Shared).map_err(SweepError::Lock)?;
    let notes: Vec<String> = crate::store::page_size_hint(&conn, db)?
        .into_iter()
        .collect();

    let t = Instant::now();
    // Loading converts each file's columns and frees them: the ledger's size is not known yet,
    // so freed memory goes back at once (10 M claims: a load peak of 3.4 GB instead of 2.8).
    crate::memory::set_purge_delay(crate::memory::EAGER_PURGE_MS);
    let spinner = engine::spinner("载入 load");
    let (mut snap, loaded_from) =
        crate::snapshot::file::load_current(&conn, opts.snapshots_of.as_deref().unwrap_or(db))
            .map_err(SweepError::SnapshotFile)?;
    spinner.finish_and_clear();
    let load_ms = t.elapsed().as_millis();
    // A ledger far from the memory budget keeps freed memory for its next allocations.
    crate::memory::set_purge_delay(crate::memory::purge_delay_ms(snap.claims.len()));
    if !snap.has_table("claims") {
        return Err(SweepError::NoClaims(db.to_path_buf()));
    }

    let threads = opts
        .threads
        .unwrap_or_else(rayon::current_num_threads)
        .max(1);
    let sweep_id = flag_store::begin_sweep(&conn, policies, threads)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;

    // Which ID numbers are one person, and which policy judges each claim: read by the rules,
    // the graph and the cases alike.
    let t = Instant::now();
    let resolved = pool.install(|| crate::resolve::Resolved::new(&snap, policies));
    let resolve_ms = t.elapsed().as_millis();
    // The sweep's commits are large: their pages are copied into the database by a thread of
    // its own instead of by each commit (see store::checkpoint).
    crate::store::checkpoint::set_auto_checkpoint(&conn, 0)?;
    let checkpointer =
        crate::store::checkpoint::Checkpointer::start(db).map_err(SweepError::Checkpoint)?;

    let t = Instant::now();
    let judged = Stage {
        snap: &snap,
        policies,
        resolved: &resolved,
        threads,
        sweep_id,
    }
    .rules_beside_flag_writer(&mut conn)?;
    let (not_judged_first, not_judged_range) = first_not_judged(judged.not_judged);
    let mut result = judged.result;
    // The graph analysis reads no names, certificate numbers, staff or registers: they go
    // first (the graph's size taken before), as the other rule-only tables go after it.
    let tables = crate::graph::TableCounts::of(&snap);
    snap.release_after_rules();
    let t_graph = Instant::now();
    // Case building needs a fraction of the snapshot: the analysis frees the rest as it goes.
    let findings = pool.install(|| {
        crate::graph::analyse_releasing(&mut snap, &tables, &resolved, &judged.kept, policies)
    });
    let graph_ms = t_graph.elapsed().as_millis();
    let flags = judged.kept;
    let flag_count = flags.len();
    let money = flag_money(&snap, &flags);
    let cases_policy = crate::cases::cases_policy(policies);
    // The last stages (graph findings, cases, checkpoint) take a third of a large sweep: a
    // spinner on a terminal says the sweep is still at work.
    let finishing = engine::spinner("案件 cases");
    let grouped = group_cases_beside_graph_store(
        &mut conn,
        sweep_id,
        snap,
        &resolved,
        flags,
        &findings,
        &cases_policy,
        &pool,
    )?;
    let graph_counts = GraphCounts::of(&findings);
    drop(findings);
    let mut summary = SweepSummary {
        sweep_id,
        policy: policies.fingerprint(),
        claims: result.claims,
        claims_not_judged: result.claims_not_judged,
        flags: flag_count,
        threads: result.threads,
        rules: std::mem::take(&mut result.rules),
        money,
        defects: std::mem::take(&mut result.defects),
        graph: Some(graph_counts),
        cases: None,
        not_judged_first,
        not_judged_range,
        load_ms,
        snapshot_from_file: matches!(loaded_from, crate::snapshot::file::LoadedFrom::File(_)),
        resolve_ms,
        persons_merged: resolved.persons.groups().len(),
        ids_merged: resolved.persons.merged_ids(),
        rules_ms: judged.rules_ms,
        graph_ms,
        store_ms: 0,
        flags_store_ms: judged.flags_store_ms,
        graph_store_ms: grouped.graph_store_ms,
        // These and the other end timings: `stamp_cases_written`, then the checkpoint.
        cases_ms: 0,
        cases_extract_ms: grouped.extract_ms,
        cases_group_ms: grouped.group_ms,
        cases_write_ms: 0,
        checkpoint_ms: 0,
        total_ms: 0,
    };
    let t2 = Instant::now();
    // The sweep ends in its cases' transaction: an inspector never sees cases of a sweep that
    // stopped before its end, nor a finished sweep without its cases.
    crate::cases::build_prepared(
        &mut conn,
        sweep_id,
        &cases_policy,
        grouped.prepared,
        |tx, cases| {
            summary.cases = Some(cases.clone());
            stamp_cases_written(&mut summary, t2, t, started);
            Ok(flag_store::finish_sweep(
                tx,
                sweep_id,
                summary.claims,
                &summary,
            )?)
        },
    )
    .map_err(SweepError::Cases)?;
    // The stored figures are those at the seal; the write's own time includes its commit.
    stamp_cases_written(&mut summary, t2, t, started);
    // What the background checkpoints have not copied yet (the last commits) is copied now.
    // The sweep is already finished and committed: a checkpoint that fails (a full disk)
    // leaves it in the log, which SQLite copies at a later open, and is said as a warning.
    let mut notes = notes;
    let t2 = Instant::now();
    let checkpointed = checkpointer.finish(&conn);
    finishing.finish_and_clear();
    summary.checkpoint_ms = t2.elapsed().as_millis();
    summary.store_ms = t.elapsed().as_millis();
    summary.total_ms = started.elapsed().as_millis();
    let updated = flag_store::update_sweep_summary(&conn, sweep_id, &summary);
    match checkpointed {
        Ok(()) => updated?,
        // The log may not take the timings either: the sweep's summary then keeps those it
        // was finished with.
        Err(e) => notes.push(unfinished_checkpoint_note(db, &e)),
    }
    Ok(SweepOutcome { summary, notes })
}

/// The timings known once the cases are written (`write` started the case write, `store`
/// the stages after the rules, `started` the sweep); the checkpoint's come after.
fn stamp_cases_written(s: &mut SweepSummary, write: Instant, store: Instant, started: Instant) {
    s.cases_write_ms = write.elapsed().as_millis();
    // Taking the input out of the snapshot and grouping (both beside saving the graph
    // findings), then writing.
    s.cases_ms = s.cases_extract_ms + s.cases_group_ms + s.cases_write_ms;
    s.store_ms = store.elapsed().as_millis();
    s.total_ms = started.elapsed().as_millis();
}

/// A warning, before a sweep of `db` starts, when the machine has less memory available than
/// a sweep of its claims has measured (`memory::memory_warning`); `None` when it has, or
/// when the figures are not known.
pub fn memory_warning(db: &Path) -> Option<String> {
    let conn = crate::store::open_existing(db).ok()?;
    let claims = crate::store::claims_upper_bound(&conn).ok()??;
    crate::memory::memory_warning(
        crate::memory::Step::Sweep,
        claims,
        crate::memory::available_bytes()?,
    )
    .map(|w| format!("{}: {w}", db.display()))
}

/// The warning for a sweep whose last checkpoint failed after it was committed.
fn unfinished_checkpoint_note(db: &Path, e: &crate::store::checkpoint::CheckpointError) -> String {
    format!(
        "筛查已完成并已保存，但其日志未能写入数据库文件（{wal}）：{e}；腾出磁盘空间后，下次打开数据库时会写入 / \
         the sweep is finished and saved, but its log ({wal}) could not be copied into the \
         database file: {e}; it is copied at the next open once the disk has room",
        wal = crate::store::disk::wal_path(db).display(),
    )
}

/// What a changed policy would do to the current cases, without storing anything in `db`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WhatIf {
    /// The latest sweep of `db`: the cases as they stand.
    pub current_sweep: i64,
    /// Cases under the changed policy compared with `current_sweep`: `new` would appear,
    /// `resolved` would go, `persisting` would stay (with their changes). Case ids of cases
    /// that would appear exist only in the dry run.
    pub diff: crate::cases::query::SweepDiff,
    /// The dry run read the ledger from the columnar snapshot of its state.
    pub snapshot_from_file: bool,
    /// The dry run's own summary (its rules, money and timings).
    #[serde(skip)]
    pub outcome: SweepOutcome,
}

/// Runs `policies` against the ledger of `db` as a dry run: the sweep runs in full on a
/// consistent scratch copy of the database (`VACUUM INTO`, under the shared ledger lock so no
/// ingest changes it meanwhile) in `scratch_dir`, its cases are compared with the latest
/// sweep's, and the copy is deleted. `db` is only read.
pub fn what_if(
    db: &Path,
    policies: &PolicySet,
    opts: &SweepOptions,
    scratch_dir: &Path,
) -> Result<WhatIf, SweepError> {
    let scratch = tempfile_in(scratch_dir).map_err(SweepError::Scratch)?;
    let copy = scratch.path().join("what-if.db");
    let current_sweep = {
        let conn = crate::store::open_existing(db)?;
        let _lock = LedgerLock::acquire(db, LockMode::Shared).map_err(SweepError::Lock)?;
        let nothing = || SweepError::NothingToCompare(db.to_path_buf());
        if !crate::store::table_exists(&conn, "case_builds")? {
            return Err(nothing());
        }
        let current = crate::cases::query::latest_sweep(&conn)
            .map_err(SweepError::Cases)?
            .ok_or_else(nothing)?;
        crate::store::copy_database(&conn, &copy)?;
        current
    };
    let opts = SweepOptions {
        snapshots_of: Some(db.to_path_buf()),
        ..opts.clone()
    };
    let outcome = run(&copy, policies, &opts)?;
    let conn = crate::store::open_existing(&copy)?;
    let diff = crate::cases::query::diff(&conn, current_sweep, outcome.summary.sweep_id)
        .map_err(SweepError::Cases)?;
    drop(conn);
    Ok(WhatIf {
        current_sweep,
        diff,
        snapshot_from_file: outcome.summary.snapshot_from_file,
        outcome,
    })
}

/// A scratch folder removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_in(dir: &Path) -> std::io::Result<Scratch> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let path = dir.join(format!(
        ".claimsweep-what-if-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&path)?;
    Ok(Scratch(path))
}

/// The flags' amounts at risk, reconciled (`crate::money`).
fn flag_money(snap: &crate::snapshot::Snapshot, flags: &FlagTable) -> crate::money::FlagTotals {
    let mut at_risk = crate::money::AtRisk::<u32>::new();
    let mut paid = Vec::new();
    for f in flags.each() {
        paid.clear();
        paid.extend(f.claims.iter().map(|&c| snap.claims[c as usize].paid()));
        at_risk.add_flag(f.rule, f.claims, &paid, f.amount_at_risk);
    }
    at_risk.totals()
}

/// The first claims no policy covers (all of them are stored), and the range of their training
/// dates.
fn first_not_judged(
    not_judged: Vec<flag_store::NotJudged>,
) -> (Vec<flag_store::NotJudged>, Option<(String, String)>) {
    let range = not_judged
        .iter()
        .map(|n| n.training_date.clone())
        .min()
        .zip(not_judged.iter().map(|n| n.training_date.clone()).max());
    let first = not_judged
        .into_iter()
        .take(crate::rules::common::MAX_LISTED)
        .collect();
    (first, range)
}

impl GraphCounts {
    fn of(findings: &GraphFindings) -> GraphCounts {
        GraphCounts {
            nodes: findings.nodes,
            edges: findings.edges,
            rings: findings.rings.len(),
            cross_county: findings.cross_county.len(),
            institutions_ranked: findings.institution_risk.len(),
            staged_employers: findings.staged_employers.len(),
        }
    }
}

/// What the judging stages read.
struct Stage<'a> {
    snap: &'a Snapshot,
    policies: &'a PolicySet,
    resolved: &'a Resolved,
    threads: usize,
    sweep_id: i64,
}

/// The rules' result, with its timings.
struct Judged {
    /// The claims no policy covers (stored with the resolution).
    not_judged: Vec<flag_store::NotJudged>,
    /// The rules' statistics; their flags are in `kept`.
    result: SweepResult,
    /// The flags, in the order they were stored (`seq`), without their explanations.
    kept: FlagTable,
    rules_ms: u128,
    flags_store_ms: u128,
}

impl Stage<'_> {
    /// Side by side: the rules (on the pool), and one SQLite writer thread storing the
    /// resolution (`Resolved::save`), then each rule's flags as soon as that rule and the
    /// rules before it are done. Returns when both are done.
    fn rules_beside_flag_writer(
        &self,
        conn: &mut rusqlite::Connection,
    ) -> Result<Judged, SweepError> {
        let t = Instant::now();
        let (snap, sweep_id, resolved) = (self.snap, self.sweep_id, self.resolved);
        std::thread::scope(|s| -> Result<Judged, SweepError> {
            // The rules' flags in columns, their explanations already packed into compressed
            // blocks: a rule's `Flag`s are freed as soon as it is taken, not when the writer
            // (which first stores the identity resolution) reaches them.
            type Packed = (FlagTable, Vec<flag_store::TextBlock>);
            let (to_writer, batches) = std::sync::mpsc::channel::<Packed>();
            type Written = (u128, Vec<flag_store::NotJudged>);
            let writer = s.spawn(move || -> Result<Written, SweepError> {
                let started = Instant::now();
                let not_judged = resolved
                    .save(conn, sweep_id, snap)
                    .map_err(SweepError::Resolution)?;
                let mut busy = started.elapsed();
                let mut w = flag_store::FlagWriter::begin(conn, sweep_id)?;
                for (flags, blocks) in batches {
                    let t = Instant::now();
                    w.write_packed(snap, &flags, &blocks)?;
                    busy += t.elapsed();
                }
                let t = Instant::now();
                w.finish()?;
                Ok(((busy + t.elapsed()).as_millis(), not_judged))
            });
            let mut packer = flag_store::TextPacker::default();
            let mut packing = Ok(());
            let mut kept = FlagTable::new();
            let streamed = engine::run_rules_streaming(
                snap,
                self.policies,
                RefData::embedded(),
                self.resolved,
                Some(self.threads),
                &progress_bar(0, "规则 rules"),
                |_, flags| {
                    let blocks = packer.push(flags).map_err(|e| packing = Err(e))?;
                    // The sweep keeps its flags in columns, and so does what goes to the writer.
                    flags.iter().for_each(|f| kept.push(f.view()));
                    let batch = FlagTable::from_flags(flags);
                    *flags = Vec::new();
                    to_writer.send((batch, blocks)).map_err(|_| ())
                },
            );
            // The last, partial block of explanations goes after the last flags.
            if streamed.is_ok() {
                match packer.finish() {
                    Ok(last) => {
                        let _ = to_writer.send((FlagTable::new(), last.into_iter().collect()));
                    }
                    Err(e) => packing = Err(e),
                }
            }
            drop(to_writer);
            packing?;
            let rules_ms = t.elapsed().as_millis();
            // The flags of the last rules are still being written (about 0.1 s at 10 M
            // claims); the graph waits for them so the rule-only tables can go first.
            let (flags_store_ms, not_judged) = writer
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))?;
            // The writer stopping early is the only way the stream fails, and its error was
            // returned just above.
            let result = streamed.map_err(|()| SweepError::WriterStopped)?;
            Ok(Judged {
                not_judged,
                result,
                kept,
                rules_ms,
                flags_store_ms,
            })
        })
    }
}

/// Cases grouped, ready to write, with the timings of the steps.
struct Grouped {
    prepared: crate::cases::PreparedCases,
    graph_store_ms: u128,
    extract_ms: u128,
    group_ms: u128,
}

/// Saving the graph findings (SQLite, on a thread of its own) beside the cases' CPU work: the
/// flags go into the case input, the snapshot goes, and cases are
/// grouped on the pool.
#[allow(clippy::too_many_arguments)]
fn group_cases_beside_graph_store(
    conn: &mut rusqlite::Connection,
    sweep_id: i64,
    mut snap: Snapshot,
    resolved: &Resolved,
    flags: FlagTable,
    findings: &GraphFindings,
    cases_policy: &crate::policy::CasesPolicy,
    pool: &rayon::ThreadPool,
) -> Result<Grouped, SweepError> {
    let (saved, graph_store_ms, prepared, extract_ms, group_ms) = std::thread::scope(|s| {
        let storing = s.spawn(move || {
            let t = Instant::now();
            // A page cache as the cases' write has: at ten million claims the findings' index
            // inserts (ring members by value, cross-county keys) outgrow SQLite's default 2 MB
            // and spill dirty pages to the WAL again and again.
            let saved =
                crate::store::with_cache_size(conn, crate::store::CASES_CACHE_KIB, |conn| {
                    crate::graph::save::save(conn, sweep_id, findings)
                });
            (saved, t.elapsed().as_millis())
        });
        let t = Instant::now();
        let case_input = crate::cases::extract_in_memory_consuming(
            &mut snap,
            &resolved.persons,
            flags,
            findings,
            cases_policy,
        );
        let extract_ms = t.elapsed().as_millis();
        let t = Instant::now();
        let prepared = pool.install(|| case_input.group(cases_policy));
        let group_ms = t.elapsed().as_millis();
        let (saved, graph_store_ms) = storing
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (saved, graph_store_ms, prepared, extract_ms, group_ms)
    });
    saved.map_err(SweepError::GraphFindings)?;
    Ok(Grouped {
        prepared,
        graph_store_ms,
        extract_ms,
        group_ms,
    })
}

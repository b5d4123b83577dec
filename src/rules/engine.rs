//! The sweep engine: runs every rule of [`RULES`] on one snapshot, in parallel on a local rayon
//! pool, and returns the flags in CONTRACT §2 order with per-rule statistics.
//!
//! Determinism: rules run concurrently, but their results are collected by registry index
//! (rayon's indexed `collect` keeps order), and each rule's flags are already in an order that
//! depends only on the snapshot. So the flag list is the same for 1 thread or 16.

use super::{Flag, RuleContext, RuleDef, RULES};
use crate::model::Fen;
use crate::policy::PolicySet;
use crate::refdata::RefData;
use crate::resolve::Resolved;
use crate::snapshot::Snapshot;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::time::{Duration, Instant};

/// What one rule did in a sweep (or why it did not run).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleStats {
    pub rule: &'static str,
    /// Input tables the rule needs that the snapshot lacks; non-empty: the rule was skipped.
    pub missing_tables: Vec<&'static str>,
    pub flags: usize,
    /// Distinct claims in any flag of the rule.
    pub claims_flagged: usize,
    /// The rule's amount at risk ([`crate::money`]): each claim it flagged once, at its largest
    /// share among the rule's flags, in fen.
    pub amount_at_risk: Fen,
    #[serde(serialize_with = "ser_millis")]
    pub elapsed: Duration,
}

fn ser_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1e6).round() / 1e3)
}

impl RuleStats {
    pub fn skipped(&self) -> bool {
        !self.missing_tables.is_empty()
    }

    /// Why the rule was skipped, in Chinese: `缺少表 registry_ui`.
    pub fn skip_reason_zh(&self) -> String {
        format!("缺少表 {}", self.missing_tables.join("、"))
    }

    /// Why the rule was skipped, in English: `table registry_ui absent`.
    pub fn skip_reason_en(&self) -> String {
        let s = if self.missing_tables.len() > 1 {
            "s"
        } else {
            ""
        };
        format!("table{s} {} absent", self.missing_tables.join(", "))
    }
}

/// Everything a sweep of the rules yields.
#[derive(Debug)]
pub struct SweepResult {
    /// In registry order; within a rule, in the rule's own order. With
    /// [`run_rules_streaming`], the flags its sink left.
    pub flags: Vec<Flag>,
    /// One entry per rule of [`RULES`], in registry order (skipped rules included).
    pub rules: Vec<RuleStats>,
    pub claims: usize,
    /// Claims no policy covers (by training date): no rule judges them.
    pub claims_not_judged: usize,
    /// Threads of the pool the rules ran on.
    pub threads: usize,
    pub elapsed: Duration,
    /// Invariant breaches found and repaired while validating the flags (a rule's claims were
    /// unsorted, duplicated or out of range). Empty when every rule keeps its contract.
    pub defects: Vec<String>,
}

impl SweepResult {
    /// The flags of one rule.
    pub fn flags_of<'a>(&'a self, rule: &'a str) -> impl Iterator<Item = &'a Flag> + 'a {
        self.flags.iter().filter(move |f| f.rule == rule)
    }
}

/// Chinese name of a rule id, for summaries (`rules::rule_title`); empty for an unknown id.
pub fn rule_zh(rule: &str) -> &'static str {
    super::rule_title(rule).map_or("", |(zh, _)| zh)
}

/// Resolves persons and policies, then runs every rule (no progress display).
pub fn run_rules(
    snap: &Snapshot,
    policies: &PolicySet,
    refdata: &RefData,
    threads: Option<usize>,
) -> SweepResult {
    let resolved = Resolved::new(snap, policies);
    run_rules_with_progress(
        snap,
        policies,
        refdata,
        &resolved,
        threads,
        &ProgressBar::hidden(),
    )
}

/// A progress bar for a step with `len` units, drawn to stderr; invisible when stderr is not a
/// terminal (indicatif checks), so logs and tests stay clean.
pub fn progress_bar(len: u64, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {msg:<14} [{bar:30}] {pos}/{len} {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

/// A spinner for a step of unknown length (loading), drawn like [`progress_bar`].
pub fn spinner(message: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg:<14} {elapsed}") {
        bar.set_style(style);
    }
    bar.set_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Runs every rule, advancing `progress` by one per rule finished (its length is set here).
pub fn run_rules_with_progress(
    snap: &Snapshot,
    policies: &PolicySet,
    refdata: &RefData,
    resolved: &Resolved,
    threads: Option<usize>,
    progress: &ProgressBar,
) -> SweepResult {
    let kept: Result<SweepResult, std::convert::Infallible> = run_rules_streaming(
        snap,
        policies,
        refdata,
        resolved,
        threads,
        progress,
        |_, _| Ok(()),
    );
    match kept {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

/// What one rule's run yields before validation: its flags, its time, the tables it lacked.
type Outcome = (Vec<Flag>, Duration, Vec<&'static str>);

/// Runs every rule and hands each rule's validated flags to `sink`, on the calling thread, in
/// registry order, as soon as that rule and every rule before it have finished: a caller can
/// store the flags of early rules while later rules still run. `sink` may take what it no
/// longer needs out of the flags (their explanations once stored), or the flags themselves
/// (a sweep keeps them compactly, `finding::FlagTable`); what it leaves is kept in
/// [`SweepResult::flags`]. After the first error of `sink` it is not called again, the rules
/// still finish, and the error is returned.
pub fn run_rules_streaming<E>(
    snap: &Snapshot,
    policies: &PolicySet,
    refdata: &RefData,
    resolved: &Resolved,
    threads: Option<usize>,
    progress: &ProgressBar,
    mut sink: impl FnMut(&'static str, &mut Vec<Flag>) -> Result<(), E>,
) -> Result<SweepResult, E> {
    let started = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .thread_name(|i| format!("sweep-{i}"))
        .build();
    let ctx = RuleContext {
        snap,
        policies,
        refdata,
        resolved,
    };
    progress.set_length(RULES.len() as u64);

    let mut flags: Vec<Flag> = Vec::new();
    let mut rules = Vec::with_capacity(RULES.len());
    let mut defects = Vec::new();
    let mut sink_error: Option<E> = None;
    let claims_not_judged = resolved.judging.not_judged();
    let mut take = |i: usize, (mut rule_flags, elapsed, missing): Outcome| {
        let def = RULES[i];
        validate(snap, def.id, &mut rule_flags, &mut defects);
        rules.push(rule_stats(snap, def, &rule_flags, elapsed, missing));
        if sink_error.is_none() {
            if let Err(e) = sink(def.id, &mut rule_flags) {
                sink_error = Some(e);
            }
        }
        flags.append(&mut rule_flags);
    };
    // The calling thread schedules and stores; the pool's threads run the rules. A pool that
    // cannot be built (no threads available) falls back to the global pool.
    let threads_used = match pool {
        Ok(pool) => {
            let n = pool.current_num_threads();
            pool.in_place_scope_fifo(|scope| run_in_window(scope, &ctx, progress, n, &mut take));
            n
        }
        Err(_) => {
            let n = rayon::current_num_threads();
            rayon::in_place_scope_fifo(|scope| run_in_window(scope, &ctx, progress, n, &mut take));
            n
        }
    };
    progress.finish_and_clear();
    if let Some(e) = sink_error {
        return Err(e);
    }
    Ok(SweepResult {
        flags,
        rules,
        claims: snap.claims.len(),
        claims_not_judged,
        threads: threads_used,
        elapsed: started.elapsed(),
        defects,
    })
}

/// Runs every rule in `scope` and hands each outcome to `take` on the calling thread, in
/// registry order. Rules start in registry order, and a rule only while at most `threads`
/// rules after the oldest unfinished one have started: a rule finished ahead of an earlier
/// one still running keeps its flags, with their explanations, until that one is done.
/// When every rule was queued at once, a slow early rule let the rules after it run ahead
/// and their flags waited: the sweep after a month's re-ingest at 10 M claims peaked at
/// 2.89 GB, 2.64 GB with the window, for 0.5 s more of rules (a thread with no rule to start
/// helps the running ones, whose loops are parallel, but not fully).
fn run_in_window<'scope>(
    scope: &rayon::ScopeFifo<'scope>,
    ctx: &'scope RuleContext<'scope>,
    progress: &'scope ProgressBar,
    threads: usize,
    take: &mut impl FnMut(usize, Outcome),
) {
    let window = threads.max(1) + 1;
    let (tx, rx) = std::sync::mpsc::channel::<(usize, std::thread::Result<Outcome>)>();
    let mut started_rules = 0;
    let mut pending: Vec<Option<Outcome>> = RULES.iter().map(|_| None).collect();
    let mut next = 0;
    while next < RULES.len() {
        while started_rules < RULES.len() && started_rules < next + window {
            let i = started_rules;
            let tx = tx.clone();
            scope.spawn_fifo(move |_| {
                // A rule's panic is sent on and raised on the calling thread, which would
                // otherwise wait for that rule's outcome forever.
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_one(ctx, RULES[i])
                }));
                progress.inc(1);
                // The receiver waits for every rule started; a send cannot fail.
                let _ = tx.send((i, outcome));
            });
            started_rules += 1;
        }
        // `tx` is held here, so the channel stays open until every started rule reports.
        let (i, outcome) = rx
            .recv()
            .expect("the sender is held until the rules are taken");
        pending[i] = Some(outcome.unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        while let Some(outcome) = pending.get_mut(next).and_then(Option::take) {
            take(next, outcome);
            next += 1;
        }
    }
}

/// A rule's statistics: flags, distinct claims flagged and their amount at risk (each claim
/// once, at its largest share: [`crate::money`]).
fn rule_stats(
    snap: &Snapshot,
    def: &RuleDef,
    rule_flags: &[Flag],
    elapsed: Duration,
    missing: Vec<&'static str>,
) -> RuleStats {
    let mut at_risk = crate::money::AtRisk::<u32>::new();
    let mut paid = Vec::new();
    for f in rule_flags {
        paid.clear();
        paid.extend(f.claims.iter().map(|&c| snap.claims[c as usize].paid()));
        at_risk.add_flag(def.id, &f.claims, &paid, f.amount_at_risk);
    }
    let money = at_risk.rules().get(def.id).copied().unwrap_or_default();
    let (claims_flagged, amount_at_risk) = (money.claims as usize, money.amount_fen);
    RuleStats {
        rule: def.id,
        missing_tables: missing,
        flags: rule_flags.len(),
        claims_flagged,
        amount_at_risk,
        elapsed,
    }
}

/// Runs one rule unless one of the tables it needs is absent.
fn run_one(ctx: &RuleContext, def: &RuleDef) -> (Vec<Flag>, Duration, Vec<&'static str>) {
    let missing: Vec<&'static str> = def
        .needs
        .iter()
        .copied()
        .filter(|t| !ctx.snap.has_table(t))
        .collect();
    if !missing.is_empty() {
        return (Vec::new(), Duration::ZERO, missing);
    }
    let t = Instant::now();
    let flags = (def.run)(ctx);
    (flags, t.elapsed(), missing)
}

/// Checks the flag invariants (claims in range, sorted, unique, non-empty, right rule id) and
/// repairs what it can, recording each breach: a defect is reported, never hidden.
fn validate(snap: &Snapshot, rule: &'static str, flags: &mut Vec<Flag>, defects: &mut Vec<String>) {
    let n = snap.claims.len() as u32;
    for f in flags.iter_mut() {
        if f.rule != rule {
            defects.push(format!(
                "{rule}: flag on {} names rule {:?}",
                f.subject, f.rule
            ));
            f.rule = rule;
        }
        if f.claims.iter().any(|&c| c >= n) {
            defects.push(format!(
                "{rule}: flag on {} names a claim index out of range",
                f.subject
            ));
            f.claims.retain(|&c| c < n);
        }
        if !f.claims.windows(2).all(|w| w[0] < w[1]) {
            defects.push(format!(
                "{rule}: flag on {} has unsorted or repeated claims",
                f.subject
            ));
            f.claims.sort_unstable();
            f.claims.dedup();
        }
    }
    let before = flags.len();
    flags.retain(|f| !f.claims.is_empty());
    if flags.len() != before {
        defects.push(format!(
            "{rule}: {} flag(s) without claims removed",
            before - flags.len()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::Date;
    use crate::model::*;

    fn claim(id: &str, person: &str, date: Date, amount: Fen) -> ClaimRow {
        ClaimRow {
            claim_id: id.into(),
            id_number: person.into(),
            name: "张伟".into(),
            subsidy_type: Some(SubsidyType::NoLevelCert),
            amount,
            claim_date: date,
            ..Default::default()
        }
    }

    fn ledger() -> Ledger {
        let d = |m, day| Date::from_ymd(2020, m, day).unwrap();
        let p = "371302199003070015";
        Ledger {
            present: vec!["claims"],
            claims: vec![
                claim("C1", p, d(1, 5), 100_000),
                claim("C2", p, d(2, 5), 100_000),
                claim("C3", p, d(3, 5), 100_000),
                claim("C4", p, d(4, 5), 100_000),
                // Before the policy took effect: not judged.
                claim("C0", p, Date::from_ymd(2015, 4, 5).unwrap(), 100_000),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn rules_needing_absent_tables_are_skipped_with_a_reason() {
        let snap = Snapshot::from_ledger(&ledger());
        let r = run_rules(
            &snap,
            &PolicySet::embedded_default(),
            RefData::embedded(),
            Some(2),
        );
        assert_eq!(r.rules.len(), RULES.len());
        let ui = r
            .rules
            .iter()
            .find(|s| s.rule == "skill_upgrade_ineligible")
            .unwrap();
        assert!(ui.skipped());
        assert_eq!(ui.skip_reason_zh(), "缺少表 registry_ui");
        assert_eq!(ui.skip_reason_en(), "table registry_ui absent");
        let staff = r.rules.iter().find(|s| s.rule == "staff_trainee").unwrap();
        assert_eq!(staff.skip_reason_en(), "tables staff, institutions absent");
        assert!(!r
            .rules
            .iter()
            .find(|s| s.rule == "over_cap")
            .unwrap()
            .skipped());
        assert_eq!(r.claims, 5);
        assert_eq!(r.claims_not_judged, 1);
        assert_eq!(r.threads, 2);
        assert!(r.defects.is_empty(), "{:?}", r.defects);
    }

    #[test]
    fn over_cap_stats_count_distinct_claims_and_amounts() {
        let snap = Snapshot::from_ledger(&ledger());
        let r = run_rules(
            &snap,
            &PolicySet::embedded_default(),
            RefData::embedded(),
            Some(1),
        );
        let over: Vec<&Flag> = r.flags_of("over_cap").collect();
        assert_eq!(over.len(), 1);
        assert_eq!(snap.claim_id(over[0].claims[0] as usize), "C4");
        let s = r.rules.iter().find(|s| s.rule == "over_cap").unwrap();
        assert_eq!(
            (s.flags, s.claims_flagged, s.amount_at_risk),
            (1, 1, 100_000)
        );
    }

    #[test]
    fn flags_follow_registry_order() {
        let snap = Snapshot::from_ledger(&ledger());
        let r = run_rules(
            &snap,
            &PolicySet::embedded_default(),
            RefData::embedded(),
            Some(4),
        );
        let pos = |id: &str| RULES.iter().position(|d| d.id == id).unwrap();
        assert!(r.flags.windows(2).all(|w| pos(w[0].rule) <= pos(w[1].rule)));
    }

    #[test]
    fn streaming_hands_every_rule_over_in_registry_order() {
        let snap = Snapshot::from_ledger(&ledger());
        let policies = PolicySet::embedded_default();
        let whole = run_rules(&snap, &policies, RefData::embedded(), Some(1));
        let mut seen: Vec<&'static str> = Vec::new();
        let mut handed: Vec<Flag> = Vec::new();
        let resolved = Resolved::new(&snap, &policies);
        let streamed = run_rules_streaming(
            &snap,
            &policies,
            RefData::embedded(),
            &resolved,
            Some(4),
            &ProgressBar::hidden(),
            |rule, flags| {
                seen.push(rule);
                for f in flags.iter_mut() {
                    handed.push(f.clone());
                    // What the sink takes stays taken in the result.
                    f.explanation_en.clear();
                }
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        let ids: Vec<&str> = RULES.iter().map(|d| d.id).collect();
        assert_eq!(seen, ids);
        assert_eq!(handed, whole.flags);
        assert!(!handed.is_empty());
        assert_eq!(streamed.flags.len(), whole.flags.len());
        assert!(streamed.flags.iter().all(|f| f.explanation_en.is_empty()));
        assert_eq!(streamed.rules, {
            let mut r = whole.rules.clone();
            for (a, b) in r.iter_mut().zip(&streamed.rules) {
                a.elapsed = b.elapsed;
            }
            r
        });
    }

    #[test]
    fn a_failing_sink_stops_being_called_and_its_error_is_returned() {
        let snap = Snapshot::from_ledger(&ledger());
        let mut calls = 0;
        let policies = PolicySet::embedded_default();
        let resolved = Resolved::new(&snap, &policies);
        let r = run_rules_streaming(
            &snap,
            &policies,
            RefData::embedded(),
            &resolved,
            Some(2),
            &ProgressBar::hidden(),
            |rule, _| {
                calls += 1;
                Err(rule)
            },
        );
        assert_eq!(r.unwrap_err(), RULES[0].id);
        assert_eq!(calls, 1);
    }

    #[test]
    fn validation_repairs_and_reports_broken_flags() {
        let snap = Snapshot::from_ledger(&ledger());
        let mk = |claims: Vec<u32>| Flag {
            rule: "over_cap",
            subject_kind: crate::finding::FlagSubject::Claim,
            subject: "S".into(),
            claims,
            amount_at_risk: 0,
            severity: crate::policy::Severity::Low,
            explanation_zh: String::new(),
            explanation_en: String::new(),
        };
        let mut flags = vec![
            mk(vec![0, 1, 2]),
            mk(vec![2, 1, 1]),
            mk(vec![99]),
            mk(vec![]),
        ];
        let mut defects = Vec::new();
        validate(&snap, "over_cap", &mut flags, &mut defects);
        assert_eq!(
            flags.iter().map(|f| f.claims.clone()).collect::<Vec<_>>(),
            vec![vec![0, 1, 2], vec![1, 2]]
        );
        assert_eq!(defects.len(), 3, "{defects:?}");
    }
}

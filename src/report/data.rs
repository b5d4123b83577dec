//! Everything a report shows, gathered from the database once: the sweep, its flags broken
//! down by county, rule, fund and institution, what changed since the previous sweep, the
//! policy's progress figures, the graph's institution risk and rings, and the cases with
//! their evidence. Both renderers read only this; masking is applied here, on the way in, so
//! no renderer can forget it.
//!
//! Amount at risk counts each claim once: a flag's amount is spread over its claims in
//! proportion to what each paid (amount + living allowance), and a claim flagged by several
//! flags counts with the largest share any of them gives it (per rule: the largest share of
//! that rule's flags). So no total exceeds what was paid, and the totals of the breakdowns add
//! up to the summary.

use super::ledger::{FlagMoney, Flagged, Interner, LedgerPass, Risk, Totals};
use super::mask::Masker;
use super::ReportError;
use crate::cases::{self, CaseDetail, CaseFilter, CaseRow, CaseSort, Lang};
use crate::dates::Date;
use crate::model::Fen;
use crate::policy::PolicySet;
use crate::refdata::RefData;
use crate::store::flags as flag_store;
use crate::store::read::{self, LedgerState};
use rusqlite::Connection;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Cases shown with their full evidence in the HTML unless asked otherwise.
pub const DEFAULT_DETAILED_CASES: usize = 200;
/// Rings drawn as pictures in the HTML unless asked otherwise.
pub const DEFAULT_RING_PICTURES: usize = 50;

/// What to report and how.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    /// Sweep to report (default: the latest finished sweep).
    pub sweep: Option<i64>,
    pub lang: Lang,
    /// Show ID numbers, phones and bank accounts in full.
    pub unmask: bool,
    /// Cases shown with their full evidence in the HTML (highest score first).
    pub detailed_cases: usize,
    /// Rings drawn as pictures in the HTML (highest score first).
    pub ring_pictures: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            sweep: None,
            lang: Lang::Zh,
            unmask: false,
            detailed_cases: DEFAULT_DETAILED_CASES,
            ring_pictures: DEFAULT_RING_PICTURES,
        }
    }
}

/// Cases with more claims than this (an institution's, a large ring's) are shown with their
/// flags and first claims only: reading every person's registers and neighbours would take
/// seconds per case, and `claimsweep cases show` gives them all.
pub const FULL_DETAIL_MAX_CLAIMS: usize = 300;
/// Claims shown for such a case.
pub const LARGE_CASE_CLAIMS: usize = 100;

/// Where to start: the institution cases, ring cases and person cases with the most money
/// at risk.
pub const START_INSTITUTIONS: usize = 5;
pub const START_RINGS: usize = 5;
pub const START_PERSONS: usize = 10;

/// How much of a sweep a report gathers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Everything: every case, every case's flags, every ring member (the workbook).
    Full,
    /// What the HTML shows: the first `rows` cases by score and their flags, the first `rows`
    /// changes; the totals still count everything.
    Overview { rows: usize },
}

/// The phases of a report, in order, for a progress display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Flags,
    Ledger,
    Cases,
    Details,
    Graph,
    Write,
}

impl Phase {
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Phase::Flags => lang.pick("读取疑点", "reading flags"),
            Phase::Ledger => lang.pick("汇总申领", "totalling the claims"),
            Phase::Cases => lang.pick("读取案件", "reading cases"),
            Phase::Details => lang.pick("读取案件证据", "reading case evidence"),
            Phase::Graph => lang.pick("读取团伙与机构风险", "reading rings and institution risk"),
            Phase::Write => lang.pick("写出报告", "writing the report"),
        }
    }
}

/// The cases "where to start" lists, each list by money at risk.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartHere {
    pub institutions: Vec<CaseRow>,
    pub rings: Vec<CaseRow>,
    pub persons: Vec<CaseRow>,
}

impl StartHere {
    pub fn all(&self) -> impl Iterator<Item = &CaseRow> {
        self.institutions
            .iter()
            .chain(&self.rings)
            .chain(&self.persons)
    }
}

/// How many rows the case parts have in full (an overview holds only the first ones).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RowTotals {
    pub cases: usize,
    pub new: usize,
    pub evidence: usize,
}

/// The `person_times_2019` target of `[targets]` is the city-wide count of the year its
/// name gives.
pub const PERSON_TIMES_TARGET_YEAR: i32 = 2019;

#[derive(Clone, Debug, PartialEq)]
pub struct SweepInfo {
    pub sweep_id: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub policy: String,
    /// The sweep before this one whose cases were built, if any.
    pub previous_sweep: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub claims: i64,
    pub persons: i64,
    pub amount_paid_fen: Fen,
    pub flags: i64,
    pub high_flags: i64,
    pub flagged_claims: i64,
    pub flagged_persons: i64,
    /// Each flagged claim once, at its largest share (`crate::money`).
    pub amount_at_risk_fen: Fen,
    /// The flags' amounts reconciled: the rules' sum, their overlap and the distinct total
    /// (`amount_at_risk_fen`).
    pub flag_money: crate::money::FlagTotals,
    /// The cases' amounts reconciled with the distinct total, as the sweep stored them.
    pub case_money: Option<crate::money::CaseTotals>,
    /// None: the sweep's cases were not built.
    pub cases: Option<i64>,
    pub new_cases: Option<i64>,
    pub resolved_cases: Option<i64>,
    /// None: the graph stage stored no rings.
    pub rings: Option<i64>,
    pub rejected_rows: i64,
    /// Rules the sweep skipped for want of a table (rule ids).
    pub skipped_rules: Vec<String>,
}

/// One row of a breakdown (by county, rule, fund or institution).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Breakdown {
    /// The code: county code, rule id, fund code, institution id.
    pub key: String,
    /// What inspectors read: county name, rule name, fund label, institution name.
    pub label: String,
    /// Extra column: the institution's county, the rule's severity.
    pub extra: String,
    /// Rules only: why the rule did not run (the tables it lacked).
    pub note: String,
    /// All claims of the group (None for rules: a rule has only flagged claims).
    pub claims: Option<i64>,
    pub amount_paid_fen: Option<Fen>,
    pub flags: i64,
    pub flagged_claims: i64,
    pub amount_at_risk_fen: Fen,
}

/// A case's place in "new since the last sweep".
#[derive(Clone, Debug, PartialEq)]
pub struct NewRow {
    /// new | grown | resolved
    pub change: &'static str,
    pub case_id: i64,
    pub subject_kind: String,
    pub subject: String,
    pub rule_family: String,
    pub claims: i64,
    pub amount_at_risk_fen: Fen,
    pub score: f64,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProgressRow {
    /// Empty for the city-wide row of a year.
    pub county_code: String,
    pub county_name: String,
    pub year: i32,
    pub person_times: i64,
    pub persons: i64,
    pub with_level: i64,
    pub high_skill: i64,
    pub amount_paid_fen: Fen,
    /// Targets of the policy in force in that year (None: no policy covers the year).
    pub skilled_target_percent: Option<u32>,
    pub high_skill_target_percent: Option<u32>,
}

impl ProgressRow {
    pub fn level_share(&self) -> f64 {
        share(self.with_level, self.person_times)
    }
    pub fn high_skill_share(&self) -> f64 {
        share(self.high_skill, self.person_times)
    }
}

/// City-wide person-times of the target year against the policy's target.
#[derive(Clone, Debug, PartialEq)]
pub struct PersonTimesTarget {
    pub year: i32,
    pub actual: i64,
    pub target: u32,
    pub clause: String,
}

/// One institution of the graph stage's risk ranking.
#[derive(Clone, Debug, PartialEq)]
pub struct RiskRow {
    pub rank: i64,
    pub institution_id: String,
    pub name: String,
    pub county_code: String,
    pub score: f64,
    pub claims: i64,
    pub amount_fen: Fen,
    pub flagged_claims: i64,
    pub amount_at_risk_fen: Fen,
    /// Ids of the rings the institution is part of, `;`-separated.
    pub rings: String,
    /// The terms of the score that gave points, each with its explanation and points.
    pub evidence: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RingMember {
    /// person | institution | county | phone | bank_account | legal_rep
    pub kind: String,
    pub value: String,
    /// A person's name, an institution's name, a county's name.
    pub label: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ring {
    pub ring_id: i64,
    pub score: f64,
    pub persons: i64,
    pub institutions: i64,
    pub counties: i64,
    pub claims: i64,
    pub amount_fen: Fen,
    pub explanation: String,
    pub members: Vec<RingMember>,
    /// Pairs of member indices, smaller first: a person's claim used that phone, account,
    /// institution or county; an institution's phone, county or legal representative.
    pub edges: Vec<(usize, usize)>,
}

impl Ring {
    /// The member a ring case is keyed on: its smallest institution, or its smallest member
    /// when it has none (as the cases stage keys ring cases).
    pub fn anchor(&self) -> Option<&str> {
        self.members
            .iter()
            .filter(|m| m.kind == "institution")
            .map(|m| m.value.as_str())
            .min()
            .or_else(|| self.members.iter().map(|m| m.value.as_str()).min())
    }
}

/// One flag of a case: the evidence sheet.
#[derive(Clone, Debug, PartialEq)]
pub struct EvidenceRow {
    pub case_id: i64,
    pub seq: i64,
    pub rule: String,
    pub severity: String,
    pub subject: String,
    pub claim_ids: String,
    pub amount_at_risk_fen: Fen,
    pub explanation: String,
}

/// Everything a report shows. Personal identifiers are already masked (unless `unmasked`).
#[derive(Clone, Debug)]
pub struct ReportData {
    pub lang: Lang,
    pub masked: bool,
    pub scope: Scope,
    pub sweep: SweepInfo,
    pub summary: Summary,
    pub by_county: Vec<Breakdown>,
    pub by_rule: Vec<Breakdown>,
    pub by_fund: Vec<Breakdown>,
    pub by_institution: Vec<Breakdown>,
    /// None: cases were not built for this sweep.
    pub new_since_last: Option<Vec<NewRow>>,
    pub progress: Vec<ProgressRow>,
    pub person_times_target: Option<PersonTimesTarget>,
    /// None: the graph stage stored no institution risk.
    pub institution_risk: Option<Vec<RiskRow>>,
    /// None: cases were not built for this sweep. An overview holds the first by score.
    pub cases: Option<Vec<CaseRow>>,
    /// None: cases were not built for this sweep.
    pub start_here: Option<StartHere>,
    pub row_totals: RowTotals,
    /// The highest-scoring cases with all their evidence (HTML drill-down).
    pub case_details: Vec<CaseDetail>,
    pub evidence: Vec<EvidenceRow>,
    /// None: the graph stage stored no rings.
    pub rings: Option<Vec<Ring>>,
    /// The claims the sweep could not judge: no policy covers their training.
    pub not_judged: Vec<flag_store::NotJudged>,
}

fn share(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// The claims grouped by one of their attributes (`group_of` a flagged claim, the pass's
/// `totals` and `keys` of every group), largest amount at risk first (ties: key); labels are
/// left to the caller.
fn breakdown(
    flags: &FlagMoney,
    pass: &LedgerPass,
    risk: &Risk,
    keys: &Interner,
    totals: &[Totals],
    group_of: impl Fn(&Flagged) -> u32,
) -> Vec<Breakdown> {
    let mut out: Vec<Breakdown> = (0..keys.len())
        .map(|g| Breakdown {
            key: keys.str(g as u32).to_string(),
            claims: Some(totals[g].claims),
            amount_paid_fen: Some(totals[g].paid),
            ..Default::default()
        })
        .collect();
    for (&c, &r) in &risk.of_claim {
        if let Some(f) = &pass.flagged[c as usize] {
            let b = &mut out[group_of(f) as usize];
            b.flagged_claims += 1;
            b.amount_at_risk_fen += r;
        }
    }
    // A flag counts once in each group its claims fall in.
    let mut seen: Vec<u32> = Vec::new();
    for f in 0..flags.len() {
        seen.clear();
        seen.extend(
            flags
                .claims_of(f)
                .iter()
                .filter(|c| risk.of_claim.contains_key(*c))
                .filter_map(|&c| pass.flagged[c as usize].as_ref().map(&group_of)),
        );
        seen.sort_unstable();
        seen.dedup();
        for &g in &seen {
            out[g as usize].flags += 1;
        }
    }
    sort_by_risk(&mut out);
    out
}

/// Largest amount at risk first, ties by key.
fn sort_by_risk(rows: &mut [Breakdown]) {
    rows.sort_by(|a, b| {
        b.amount_at_risk_fen
            .cmp(&a.amount_at_risk_fen)
            .then(a.key.cmp(&b.key))
    });
}

/// Every rule of the contract, those that found nothing and those skipped included, with
/// what its flags put at risk.
fn rule_breakdown(
    flags: &FlagMoney,
    risk: &Risk,
    skipped: &BTreeMap<String, Vec<String>>,
    policies: &PolicySet,
    lang: Lang,
) -> Vec<Breakdown> {
    let default_severity = |rule: &str| {
        policies
            .policies
            .last()
            .map_or("medium", |p| p.severity_of(rule).code())
            .to_string()
    };
    let mut rule_ids: BTreeSet<&str> = crate::rules::RULE_IDS.iter().copied().collect();
    rule_ids.extend((0..flags.rules.len()).map(|r| flags.rules.str(r as u32)));
    let mut by_rule: Vec<Breakdown> = rule_ids
        .into_iter()
        .map(|rule| {
            let (n, severity) = flags
                .rules
                .get(rule)
                .map(|r| flags.rule_flags[r as usize].clone())
                .unwrap_or_else(|| (0, default_severity(rule)));
            let per = risk.at_risk.of_rule(rule);
            Breakdown {
                key: rule.to_string(),
                label: super::labels::rule_name(rule, lang),
                extra: super::labels::severity_name(&severity, lang),
                note: skipped
                    .get(rule)
                    .map(|tables| {
                        format!(
                            "{}{}",
                            super::labels::L::SkippedMissing.get(lang),
                            tables.join(", ")
                        )
                    })
                    .unwrap_or_default(),
                claims: None,
                amount_paid_fen: None,
                flags: n,
                flagged_claims: per.map_or(0, |p| p.len() as i64),
                amount_at_risk_fen: per.map_or(0, |p| p.values().sum()),
            }
        })
        .collect();
    sort_by_risk(&mut by_rule);
    by_rule
}

/// The sweeps whose cases were built: whether `sweep_id` is one, and the one before it.
fn case_builds(conn: &Connection, sweep_id: i64) -> Result<(bool, Option<i64>), ReportError> {
    let mut stmt = conn.prepare("SELECT sweep_id FROM case_builds ORDER BY sweep_id")?;
    let ids = stmt.query_map([], |r| r.get::<_, i64>(0))?;
    let built: BTreeSet<i64> = ids.collect::<Result<_, _>>()?;
    Ok((
        built.contains(&sweep_id),
        built.range(..sweep_id).next_back().copied(),
    ))
}

/// The report's case parts: the cases by score, what is new, the drill-downs, the evidence,
/// where to start, and how many rows each part has in full.
struct CaseParts {
    rows: Vec<CaseRow>,
    total: usize,
    new_rows: Vec<NewRow>,
    new_total: usize,
    new_count: usize,
    resolved_count: usize,
    details: Vec<CaseDetail>,
    evidence: Vec<EvidenceRow>,
    evidence_total: usize,
    start_here: StartHere,
}

#[allow(clippy::too_many_arguments)]
fn case_parts(
    conn: &Connection,
    state: &LedgerState,
    sweep_id: i64,
    previous_sweep: Option<i64>,
    opts: &ReportOptions,
    scope: Scope,
    mask: &Masker,
    progress: &mut dyn FnMut(Phase),
) -> Result<CaseParts, ReportError> {
    let lang = opts.lang;
    let limit = match scope {
        Scope::Full => None,
        Scope::Overview { rows } => Some(rows),
    };
    let list = |subject_kind: Option<&str>, sort: CaseSort, limit: Option<usize>| {
        cases::list(
            conn,
            &CaseFilter {
                sweep: Some(sweep_id),
                sort,
                subject_kind: subject_kind.map(String::from),
                limit,
                ..Default::default()
            },
        )
    };
    let rows = list(None, CaseSort::Score, limit)?;
    let total = match limit {
        Some(_) => count_cases(conn, sweep_id)?,
        None => rows.len(),
    };
    let start_here = StartHere {
        institutions: list(
            Some("institution"),
            CaseSort::Amount,
            Some(START_INSTITUTIONS),
        )?,
        rings: list(Some("ring"), CaseSort::Amount, Some(START_RINGS))?,
        persons: list(Some("person"), CaseSort::Amount, Some(START_PERSONS))?,
    };
    let (mut new_rows, new_count, resolved_count) = match previous_sweep {
        // Without a previous sweep every case is new.
        None => (
            new_since(conn, None, sweep_id, &rows, lang, mask)?,
            total,
            0,
        ),
        Some(_) => {
            let all = new_since(conn, previous_sweep, sweep_id, &rows, lang, mask)?;
            let new = all.iter().filter(|r| r.change == "new").count();
            let resolved = all.iter().filter(|r| r.change == "resolved").count();
            (all, new, resolved)
        }
    };
    let new_total = if previous_sweep.is_none() {
        total
    } else {
        new_rows.len()
    };
    if let Some(n) = limit {
        new_rows.truncate(n);
    }

    progress(Phase::Details);
    // The drill-downs: the highest scores, and every case "where to start" links to.
    let mut detailed: Vec<&CaseRow> = rows.iter().take(opts.detailed_cases).collect();
    if opts.detailed_cases > 0 {
        for r in start_here.all() {
            if !detailed.iter().any(|d| d.case_id == r.case_id) {
                detailed.push(r);
            }
        }
    }
    let mut details = Vec::new();
    for r in &detailed {
        details.push(if r.claim_ids.len() > FULL_DETAIL_MAX_CLAIMS {
            large_case_detail(conn, state, r)?
        } else {
            case_detail(conn, state, r)?
        });
    }
    // The registers of every detailed case's persons in one read: `staff` has no index by
    // ID number, and a scan per case cost seconds.
    let persons: BTreeSet<&str> = details
        .iter()
        .zip(&detailed)
        .filter(|(_, r)| r.claim_ids.len() <= FULL_DETAIL_MAX_CLAIMS)
        .flat_map(|(d, _)| d.claims.iter().map(|c| c.claim.id_number.as_str()))
        .filter(|id| !id.is_empty())
        .collect();
    let found = read::registers_of(conn, state, persons.into_iter())?;
    for (d, r) in details.iter_mut().zip(&detailed) {
        if r.claim_ids.len() <= FULL_DETAIL_MAX_CLAIMS {
            d.registry = registry_of(d, &found);
        }
    }
    let details: Vec<CaseDetail> = details.into_iter().map(|d| mask_detail(d, mask)).collect();
    let (evidence, evidence_total) = match limit {
        None => {
            let e = evidence_rows(conn, sweep_id, None, lang, mask)?;
            let n = e.len();
            (e, n)
        }
        // The evidence of the cases shown, in their order (the workbook has every flag).
        Some(n) => {
            let ids: Vec<i64> = rows.iter().map(|r| r.case_id).collect();
            let mut e = evidence_rows(conn, sweep_id, Some(&ids), lang, mask)?;
            let order: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, &c)| (c, i)).collect();
            e.sort_by_key(|r| (order.get(&r.case_id).copied(), r.seq));
            e.truncate(n);
            (e, count_case_flags(conn, sweep_id)?)
        }
    };
    let rows = rows.into_iter().map(|r| mask_case(r, mask)).collect();
    let start_here = StartHere {
        institutions: start_here
            .institutions
            .into_iter()
            .map(|r| mask_case(r, mask))
            .collect(),
        rings: start_here
            .rings
            .into_iter()
            .map(|r| mask_case(r, mask))
            .collect(),
        persons: start_here
            .persons
            .into_iter()
            .map(|r| mask_case(r, mask))
            .collect(),
    };
    Ok(CaseParts {
        rows,
        total,
        new_rows,
        new_total,
        new_count,
        resolved_count,
        details,
        evidence,
        evidence_total,
        start_here,
    })
}

/// The cases of a sweep (not resolved ones).
fn count_cases(conn: &Connection, sweep_id: i64) -> Result<usize, ReportError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM case_sweeps WHERE sweep_id = ?1 AND change <> 'resolved'",
        [sweep_id],
        |r| r.get(0),
    )?;
    Ok(n as usize)
}

/// The flags of the cases of a sweep, counted once per case: the evidence sheet's rows.
fn count_case_flags(conn: &Connection, sweep_id: i64) -> Result<usize, ReportError> {
    let n: i64 = conn.query_row(
        "SELECT count(*) FROM case_flags cf JOIN flags f ON f.sweep_id = cf.sweep_id AND f.seq = cf.seq
         WHERE cf.sweep_id = ?1",
        [sweep_id],
        |r| r.get(0),
    )?;
    Ok(n as usize)
}

/// The summary's claim and flag figures (the case, ring and skipped-rule figures are the
/// caller's).
fn claim_summary(flags: &FlagMoney, pass: &LedgerPass, risk: &Risk, rejected_rows: i64) -> Summary {
    let mut flagged_persons: Vec<u32> = risk
        .of_claim
        .keys()
        .filter_map(|&c| pass.flagged[c as usize].map(|f| f.person))
        .collect();
    flagged_persons.sort_unstable();
    flagged_persons.dedup();
    Summary {
        claims: pass.claims,
        persons: pass.persons.len() as i64,
        amount_paid_fen: pass.paid,
        flags: flags.len() as i64,
        high_flags: flags.high_flags,
        flagged_claims: risk.of_claim.len() as i64,
        flagged_persons: flagged_persons.len() as i64,
        amount_at_risk_fen: risk.of_claim.values().sum(),
        flag_money: risk.at_risk.totals(),
        rejected_rows,
        ..Default::default()
    }
}

/// Gathers the report of one sweep, all of it (every case, flag and ring member).
pub fn gather(
    conn: &Connection,
    policies: &PolicySet,
    opts: &ReportOptions,
) -> Result<ReportData, ReportError> {
    gather_with(conn, policies, opts, Scope::Full, &mut |_| {})
}

/// Gathers the report of one sweep in `scope`, telling `progress` each phase as it starts.
pub fn gather_with(
    conn: &Connection,
    policies: &PolicySet,
    opts: &ReportOptions,
    scope: Scope,
    progress: &mut dyn FnMut(Phase),
) -> Result<ReportData, ReportError> {
    let mask = Masker::new(opts.unmask);
    let lang = opts.lang;
    let sweep_id = flag_store::resolve_sweep(conn, opts.sweep)?;
    let record = flag_store::sweep_record(conn, sweep_id)?;
    let (cases_built, previous_sweep) = case_builds(conn, sweep_id)?;
    // Every ledger figure is the ledger as the sweep judged it, whatever came in since.
    let state = LedgerState::of_sweep(conn, sweep_id)?;

    progress(Phase::Flags);
    let flags = FlagMoney::load(conn, sweep_id)?;
    let graph = graph_tables(conn)?;
    let members = if graph {
        Some(ring_members(conn, sweep_id)?)
    } else {
        None
    };
    let ring_persons: BTreeSet<String> = members
        .iter()
        .flat_map(|m| m.values())
        .flatten()
        .filter(|(k, _)| k == "person")
        .map(|(_, v)| v.clone())
        .collect();
    progress(Phase::Ledger);
    let mut pass = LedgerPass::run(conn, &state, sweep_id, &flags, ring_persons)?;
    let risk = Risk::of(&flags, &pass);

    let refdata = RefData::embedded();
    let county_name = |code: &str| -> String {
        if code.is_empty() {
            super::labels::L::Unknown.get(lang).to_string()
        } else {
            refdata.area_name(code).unwrap_or(code).to_string()
        }
    };
    let mut by_county = breakdown(
        &flags,
        &pass,
        &risk,
        &pass.counties,
        &pass.county_totals,
        |f| f.county,
    );
    for b in &mut by_county {
        b.label = county_name(&b.key);
    }
    let mut by_fund = breakdown(&flags, &pass, &risk, &pass.funds, &pass.fund_totals, |f| {
        f.fund
    });
    for b in &mut by_fund {
        b.label = super::labels::fund_name(&b.key, lang);
    }
    let institutions = institution_names(conn, &state)?;
    let mut by_institution = breakdown(
        &flags,
        &pass,
        &risk,
        &pass.institutions,
        &pass.institution_totals,
        |f| f.institution,
    );
    for b in &mut by_institution {
        if let Some((name, county)) = institutions.get(&b.key) {
            b.label = name.clone();
            b.extra = county_name(county);
        }
    }
    let skipped = skipped_rules(&record.summary_json);
    let by_rule = rule_breakdown(&flags, &risk, &skipped, policies, lang);
    let (progress_rows, person_times_target) = progress_rows(&pass, policies, &county_name, lang);
    let claim_figures = claim_summary(&flags, &pass, &risk, read::rejected_rows(conn)?);
    let ties = std::mem::take(&mut pass.ties);
    drop(risk);
    drop(pass);
    drop(flags);

    progress(Phase::Cases);
    let parts = if cases_built {
        Some(case_parts(
            conn,
            &state,
            sweep_id,
            previous_sweep,
            opts,
            scope,
            &mask,
            progress,
        )?)
    } else {
        None
    };

    progress(Phase::Graph);
    let institution_risk = institution_risk(conn, sweep_id, &institutions, lang, &mask)?;
    let rings = match members {
        Some(members) => Some(rings(
            conn,
            &state,
            sweep_id,
            members,
            &ties,
            &institutions,
            lang,
            &mask,
        )?),
        None => None,
    };
    drop(ties);

    let summary = Summary {
        cases: parts.as_ref().map(|p| p.total as i64),
        new_cases: parts.as_ref().map(|p| p.new_count as i64),
        resolved_cases: parts.as_ref().map(|p| p.resolved_count as i64),
        rings: rings.as_ref().map(|r| r.len() as i64),
        skipped_rules: skipped.keys().cloned().collect(),
        case_money: if cases_built {
            cases::query::case_money(conn, sweep_id)?
        } else {
            None
        },
        ..claim_figures
    };
    let (cases, new_since_last, case_details, evidence, start_here, row_totals) = match parts {
        Some(p) => (
            Some(p.rows),
            Some(p.new_rows),
            p.details,
            p.evidence,
            Some(p.start_here),
            RowTotals {
                cases: p.total,
                new: p.new_total,
                evidence: p.evidence_total,
            },
        ),
        None => (
            None,
            None,
            Vec::new(),
            Vec::new(),
            None,
            RowTotals::default(),
        ),
    };

    let mut data = ReportData {
        lang,
        masked: mask.enabled,
        scope,
        sweep: SweepInfo {
            sweep_id,
            // Stored in UTC; inspectors read Beijing time (with the zone said once here).
            started_at: crate::dates::display_time(&record.started_at, true),
            finished_at: record
                .finished_at
                .map(|t| crate::dates::display_time(&t, true)),
            policy: record.policy,
            previous_sweep,
        },
        summary,
        by_county,
        by_rule,
        by_fund,
        by_institution,
        new_since_last,
        progress: progress_rows,
        person_times_target,
        institution_risk,
        cases,
        start_here,
        row_totals,
        case_details,
        evidence,
        rings,
        not_judged: flag_store::not_judged(conn, sweep_id)?,
    };
    mask_free_text(&mut data, &mask);
    Ok(data)
}

/// Masks identifier-like tokens ([`super::mask::mask_tokens`]) in every text field that
/// reaches a renderer: names, institution names, addresses, explanations, claim ids, notes,
/// member labels. The per-field maskers above have already masked the identifier columns; this
/// catches identifiers typed where they do not belong (an ID number in the name column, a phone
/// in an institution's name). Both renderers read only `ReportData`, so both get masked text.
fn mask_free_text(d: &mut ReportData, mask: &Masker) {
    if !mask.enabled {
        return;
    }
    let m = |s: &mut String| {
        if let std::borrow::Cow::Owned(t) = super::mask::mask_tokens(s) {
            *s = t;
        }
    };
    let mv = |v: &mut Vec<String>| v.iter_mut().for_each(m);
    let mo = |o: &mut Option<String>| {
        if let Some(s) = o {
            m(s)
        }
    };
    m(&mut d.sweep.policy);
    mv(&mut d.summary.skipped_rules);
    for b in d
        .by_county
        .iter_mut()
        .chain(&mut d.by_rule)
        .chain(&mut d.by_fund)
        .chain(&mut d.by_institution)
    {
        m(&mut b.key);
        m(&mut b.label);
        m(&mut b.extra);
        m(&mut b.note);
    }
    for r in d.new_since_last.iter_mut().flatten() {
        m(&mut r.subject);
        m(&mut r.reason);
    }
    for p in &mut d.progress {
        m(&mut p.county_name);
    }
    if let Some(t) = &mut d.person_times_target {
        m(&mut t.clause);
    }
    for r in d.institution_risk.iter_mut().flatten() {
        m(&mut r.institution_id);
        m(&mut r.name);
        m(&mut r.rings);
        r.evidence.iter_mut().for_each(&m);
    }
    for c in d.cases.iter_mut().flatten() {
        mask_case_row(c, &m);
    }
    if let Some(sh) = &mut d.start_here {
        for c in sh
            .institutions
            .iter_mut()
            .chain(&mut sh.rings)
            .chain(&mut sh.persons)
        {
            mask_case_row(c, &m);
        }
    }
    for det in &mut d.case_details {
        mask_case_row(&mut det.case, &m);
        for s in &mut det.sweeps {
            m(&mut s.reason_zh);
            m(&mut s.reason_en);
        }
        for f in &mut det.flags {
            m(&mut f.subject);
            mv(&mut f.claim_ids);
            m(&mut f.explanation_zh);
            m(&mut f.explanation_en);
        }
        for c in det.claims.iter_mut().map(|e| &mut e.claim) {
            for s in [
                &mut c.claim_id,
                &mut c.id_number,
                &mut c.name,
                &mut c.phone,
                &mut c.bank_account,
                &mut c.category,
                &mut c.institution_id,
                &mut c.class_id,
                &mut c.subsidy_type,
                &mut c.occupation_code,
                &mut c.cert_no,
            ] {
                m(s);
            }
        }
        for r in &mut det.registry {
            m(&mut r.id_number);
            mo(&mut r.death_date);
            mo(&mut r.pension_start);
            for (_, s) in &mut r.ui {
                m(s);
            }
            for (a, b) in &mut r.staff_of {
                m(a);
                m(b);
            }
            mv(&mut r.legal_rep_of);
        }
        for n in &mut det.neighbours {
            m(&mut n.value);
            m(&mut n.id_number);
            m(&mut n.name);
        }
        for g in &mut det.graph {
            m(&mut g.explanation_zh);
            m(&mut g.explanation_en);
            for (_, v) in &mut g.members {
                m(v);
            }
        }
        for h in &mut det.history {
            m(&mut h.actor);
            m(&mut h.note);
        }
    }
    for e in &mut d.evidence {
        m(&mut e.subject);
        m(&mut e.claim_ids);
        m(&mut e.explanation);
    }
    for r in d.rings.iter_mut().flatten() {
        m(&mut r.explanation);
        for mem in &mut r.members {
            m(&mut mem.value);
            m(&mut mem.label);
        }
    }
    for n in &mut d.not_judged {
        m(&mut n.claim_id);
    }
}

fn mask_case_row(c: &mut CaseRow, m: &impl Fn(&mut String)) {
    for s in [
        &mut c.case_key,
        &mut c.subject,
        &mut c.institution_id,
        &mut c.assignee,
        &mut c.reason_zh,
        &mut c.reason_en,
    ] {
        m(s);
    }
    c.claim_ids.iter_mut().for_each(m);
}

/// Rules the sweep skipped, with the tables each lacked, from the sweep's stored summary
/// (`rules[].missing_tables`). A summary without that list skipped nothing we can name.
fn skipped_rules(summary_json: &str) -> BTreeMap<String, Vec<String>> {
    let summary: serde_json::Value = serde_json::from_str(summary_json).unwrap_or_default();
    let mut out = BTreeMap::new();
    for r in summary
        .get("rules")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        let (Some(rule), Some(missing)) = (
            r.get("rule").and_then(|v| v.as_str()),
            r.get("missing_tables").and_then(|v| v.as_array()),
        ) else {
            continue;
        };
        let tables: Vec<String> = missing
            .iter()
            .filter_map(|t| t.as_str())
            .map(String::from)
            .collect();
        if !tables.is_empty() {
            out.insert(rule.to_string(), tables);
        }
    }
    out
}

/// institution id → (name, county code).
fn institution_names(
    conn: &Connection,
    state: &LedgerState,
) -> Result<HashMap<String, (String, String)>, ReportError> {
    Ok(read::institution_names(conn, state)?
        .into_iter()
        .map(|i| (i.institution_id, (i.name, i.county_code)))
        .collect())
}

fn mask_case(mut r: CaseRow, mask: &Masker) -> CaseRow {
    r.subject = mask.text(&r.subject);
    r.case_key = mask.text(&r.case_key);
    r.reason_zh = mask.text(&r.reason_zh);
    r.reason_en = mask.text(&r.reason_en);
    r
}

fn mask_detail(mut d: CaseDetail, mask: &Masker) -> CaseDetail {
    d.case = mask_case(d.case, mask);
    for f in &mut d.flags {
        f.subject = mask.text(&f.subject);
        f.explanation_zh = mask.text(&f.explanation_zh);
        f.explanation_en = mask.text(&f.explanation_en);
    }
    for c in d.claims.iter_mut().map(|e| &mut e.claim) {
        c.id_number = mask.id(&c.id_number);
        c.phone = mask.phone(&c.phone);
        c.bank_account = mask.bank(&c.bank_account);
    }
    for r in &mut d.registry {
        r.id_number = mask.id(&r.id_number);
    }
    for n in &mut d.neighbours {
        n.value = match n.via.as_str() {
            "phone" => mask.phone(&n.value),
            "bank_account" => mask.bank(&n.value),
            _ => mask.text(&n.value),
        };
        n.id_number = mask.id(&n.id_number);
    }
    for s in &mut d.sweeps {
        s.reason_zh = mask.text(&s.reason_zh);
        s.reason_en = mask.text(&s.reason_en);
    }
    for g in &mut d.graph {
        g.explanation_zh = mask.text(&g.explanation_zh);
        g.explanation_en = mask.text(&g.explanation_en);
        for (kind, value) in &mut g.members {
            *value = mask_member(mask, kind, value);
        }
    }
    for h in &mut d.history {
        h.note = mask.text(&h.note);
    }
    d
}

/// A large case's detail: the case, its flags and history, and its first claims (the first
/// `LARGE_CASE_CLAIMS` claim ids, shown as `cases show` orders them); no registers, no neighbours.
fn large_case_detail(
    conn: &Connection,
    state: &LedgerState,
    row: &CaseRow,
) -> Result<CaseDetail, ReportError> {
    let flags = cases::query::case_flags(conn, row.case_id, row.sweep_id)?;
    let first = &row.claim_ids[..row.claim_ids.len().min(LARGE_CASE_CLAIMS)];
    let claims = crate::cases::query::claim_evidence(conn, state, first)?;
    Ok(CaseDetail {
        case: row.clone(),
        sweeps: Vec::new(),
        flags,
        claims,
        registry: Vec::new(),
        neighbours: Vec::new(),
        graph: Vec::new(),
        names: Vec::new(),
        history: cases::history(conn, row.case_id)?,
    })
}

/// Most neighbours (persons sharing a contact) shown per value and per case, as `cases show`.
const NEIGHBOURS_PER_VALUE: i64 = 20;
const NEIGHBOURS_PER_CASE: usize = 200;

/// A case's drill-down: what `cases show` gives (flags, claims, registers, persons sharing a
/// contact, history) but not its graph evidence, which the page draws from the sweep's rings
/// and risk ranking: finding a case's rings scans all ring members of the sweep (80 ms a
/// case at two million claims, 18 of a report's 27 seconds).
fn case_detail(
    conn: &Connection,
    state: &LedgerState,
    row: &CaseRow,
) -> Result<CaseDetail, ReportError> {
    let flags = cases::query::case_flags(conn, row.case_id, row.sweep_id)?;
    let claims = cases::query::claim_evidence(conn, state, &row.claim_ids)?;
    let persons: BTreeSet<&str> = claims
        .iter()
        .map(|c| c.claim.id_number.as_str())
        .filter(|id| !id.is_empty())
        .collect();
    let mut neighbours = Vec::new();
    for via in [read::Contact::Phone, read::Contact::BankAccount] {
        let values: BTreeSet<&str> = claims
            .iter()
            .map(|c| match via {
                read::Contact::Phone => c.claim.phone.as_str(),
                read::Contact::BankAccount => c.claim.bank_account.as_str(),
            })
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() {
            continue;
        }
        let mut per_value: BTreeMap<String, i64> = BTreeMap::new();
        for h in read::contact_holders(conn, state, via, values.into_iter())? {
            if persons.contains(h.id_number.as_str()) {
                continue;
            }
            let shown = per_value.entry(h.value.clone()).or_default();
            if *shown >= NEIGHBOURS_PER_VALUE || neighbours.len() >= NEIGHBOURS_PER_CASE {
                continue;
            }
            *shown += 1;
            neighbours.push(cases::query::NeighbourLink {
                via: via.column().to_string(),
                value: h.value,
                id_number: h.id_number,
                name: h.name,
                claims: h.claims,
            });
        }
    }
    Ok(CaseDetail {
        case: row.clone(),
        sweeps: Vec::new(),
        flags,
        claims,
        registry: Vec::new(),
        neighbours,
        graph: Vec::new(),
        names: Vec::new(),
        history: cases::history(conn, row.case_id)?,
    })
}

/// The registers of a case's persons (every person of the case, in ID-number order), from
/// the registers read for all detailed cases.
fn registry_of(
    d: &CaseDetail,
    found: &read::PersonRegisters,
) -> Vec<cases::query::RegistryEvidence> {
    let mut by_id: BTreeMap<&str, cases::query::RegistryEvidence> = d
        .claims
        .iter()
        .map(|c| c.claim.id_number.as_str())
        .filter(|id| !id.is_empty())
        .map(|p| {
            (
                p,
                cases::query::RegistryEvidence {
                    id_number: p.to_string(),
                    ..Default::default()
                },
            )
        })
        .collect();
    for (id, date) in &found.deaths {
        if let Some(e) = by_id.get_mut(id.as_str()) {
            e.death_date = Some(date.clone());
        }
    }
    for (id, date) in &found.pensions {
        if let Some(e) = by_id.get_mut(id.as_str()) {
            e.pension_start = Some(date.clone());
        }
    }
    for ui in &found.ui {
        if let Some(e) = by_id.get_mut(ui.id_number.as_str()) {
            e.ui.push((ui.months_paid, ui.as_of.clone()));
        }
    }
    for id in &found.poverty {
        if let Some(e) = by_id.get_mut(id.as_str()) {
            e.poverty = true;
        }
    }
    for st in &found.staff {
        if let Some(e) = by_id.get_mut(st.id_number.as_str()) {
            e.staff_of
                .push((st.institution_id.clone(), st.role.clone()));
        }
    }
    for (id, inst) in &found.legal_reps {
        if let Some(e) = by_id.get_mut(id.as_str()) {
            e.legal_rep_of.push(inst.clone());
        }
    }
    by_id.into_values().collect()
}

/// A ring member's value, masked by its kind.
fn mask_member(mask: &Masker, kind: &str, value: &str) -> String {
    match kind {
        "person" | "legal_rep" => mask.id(value),
        "phone" => mask.phone(value),
        "bank_account" => mask.bank(value),
        _ => mask.text(value),
    }
}

/// Cases new in this sweep, persisting cases whose evidence grew, and cases gone since the
/// previous sweep. Without a previous sweep every case is new.
fn new_since(
    conn: &Connection,
    previous: Option<i64>,
    sweep_id: i64,
    rows: &[CaseRow],
    lang: Lang,
    mask: &Masker,
) -> Result<Vec<NewRow>, ReportError> {
    let Some(prev) = previous else {
        return Ok(rows
            .iter()
            .map(|r| NewRow {
                change: "new",
                case_id: r.case_id,
                subject_kind: r.subject_kind.clone(),
                subject: mask.text(&r.subject),
                rule_family: r.rule_family.clone(),
                claims: r.claims,
                amount_at_risk_fen: r.amount_at_risk_fen,
                score: r.score,
                reason: String::new(),
            })
            .collect());
    };
    let d = cases::diff(conn, prev, sweep_id)?;
    let row = |change: &'static str, e: &cases::DiffEntry, after: bool| NewRow {
        change,
        case_id: e.case_id,
        subject_kind: e.subject_kind.clone(),
        subject: mask.text(&e.subject),
        rule_family: e.rule_family.clone(),
        claims: if after { e.claims_b } else { e.claims_a },
        amount_at_risk_fen: if after {
            e.amount_b_fen
        } else {
            e.amount_a_fen
        },
        score: e.score_b,
        reason: mask.text(lang.pick(&e.reason_zh, &e.reason_en)),
    };
    let mut out: Vec<NewRow> = d.new.iter().map(|e| row("new", e, true)).collect();
    out.extend(d.grown().map(|e| row("grown", e, true)));
    out.extend(d.resolved.iter().map(|e| row("resolved", e, false)));
    Ok(out)
}

/// Every flag of every case of the sweep, by case then flag order.
fn evidence_rows(
    conn: &Connection,
    sweep_id: i64,
    case_ids: Option<&[i64]>,
    lang: Lang,
    mask: &Masker,
) -> Result<Vec<EvidenceRow>, ReportError> {
    let only = if case_ids.is_some() {
        " AND cf.case_id IN (SELECT value FROM json_each(?2))"
    } else {
        ""
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT cf.case_id, f.seq, f.rule, f.severity, f.subject, f.claim_ids,
                f.amount_at_risk_fen, f.explanation_zh, f.explanation_en
         FROM case_flags cf JOIN flags f ON f.sweep_id = cf.sweep_id AND f.seq = cf.seq
         WHERE cf.sweep_id = ?1{only} ORDER BY cf.case_id, f.seq"
    ))?;
    let ids = case_ids.map(|ids| serde_json::Value::from(ids.to_vec()).to_string());
    let params: Vec<rusqlite::types::Value> = match ids {
        Some(ids) => vec![sweep_id.into(), ids.into()],
        None => vec![sweep_id.into()],
    };
    // Explanations stored compressed are read from their blocks (`store::flags::flag_texts`).
    let texts = crate::store::flags::flag_texts(conn, sweep_id);
    let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
        let (mut zh, mut en): (String, String) = (r.get(7)?, r.get(8)?);
        texts.fill(r.get(1)?, &mut zh, &mut en)?;
        Ok(EvidenceRow {
            case_id: r.get(0)?,
            seq: r.get(1)?,
            rule: r.get(2)?,
            severity: r.get(3)?,
            subject: mask.text(&r.get::<_, String>(4)?),
            claim_ids: r.get::<_, String>(5)?.replace(';', "; "),
            amount_at_risk_fen: r.get(6)?,
            explanation: mask.text(lang.pick(&zh, &en)),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Progress per county and year, and a city-wide row per year (first in its year), with the
/// targets of the policy in force at the end of that year.
fn progress_rows(
    pass: &LedgerPass,
    policies: &PolicySet,
    county_name: &dyn Fn(&str) -> String,
    lang: Lang,
) -> (Vec<ProgressRow>, Option<PersonTimesTarget>) {
    let mut years: Vec<&super::ledger::YearAgg> = pass.years.iter().collect();
    // By year; in a year the city-wide row first, then the counties by code.
    years.sort_by(|a, b| {
        (a.year, a.county.map(|c| pass.counties.str(c)))
            .cmp(&(b.year, b.county.map(|c| pass.counties.str(c))))
    });
    let mut out: Vec<ProgressRow> = years
        .into_iter()
        .map(|y| {
            let (county_code, county_name) = match y.county {
                None => (
                    String::new(),
                    super::labels::L::CityWide.get(lang).to_string(),
                ),
                Some(c) => {
                    let code = pass.counties.str(c);
                    (code.to_string(), county_name(code))
                }
            };
            ProgressRow {
                county_code,
                county_name,
                year: y.year,
                person_times: y.claims,
                persons: y.persons,
                with_level: y.with_level,
                high_skill: y.high_skill,
                amount_paid_fen: y.paid,
                ..Default::default()
            }
        })
        .collect();
    let policy_of_year = |y: i32| {
        Date::from_ymd(y, 12, 31)
            .and_then(|d| policies.for_date(d))
            .or_else(|| Date::from_ymd(y, 1, 1).and_then(|d| policies.for_date(d)))
    };
    for r in &mut out {
        if let Some(p) = policy_of_year(r.year) {
            r.skilled_target_percent = Some(p.targets.skilled_share_percent);
            r.high_skill_target_percent = Some(p.targets.high_skill_share_percent);
        }
    }
    let target = policy_of_year(PERSON_TIMES_TARGET_YEAR).map(|p| PersonTimesTarget {
        year: PERSON_TIMES_TARGET_YEAR,
        actual: out
            .iter()
            .find(|r| r.county_code.is_empty() && r.year == PERSON_TIMES_TARGET_YEAR)
            .map_or(0, |r| r.person_times),
        target: p.targets.person_times_2019,
        clause: p.targets.clause.clone(),
    });
    (out, target)
}

/// Ring and risk tables come with the graph stage; a database swept before it has none.
fn graph_tables(conn: &Connection) -> Result<bool, ReportError> {
    Ok(cases::schema::table_exists(conn, "rings")?
        && cases::schema::table_exists(conn, "ring_members")?
        && cases::schema::table_exists(conn, "institution_risk")?)
}

/// The graph stage's institution risk ranking, in its rank order.
fn institution_risk(
    conn: &Connection,
    sweep_id: i64,
    institutions: &HashMap<String, (String, String)>,
    lang: Lang,
    mask: &Masker,
) -> Result<Option<Vec<RiskRow>>, ReportError> {
    if !graph_tables(conn)? {
        return Ok(None);
    }
    let mut stmt = conn.prepare(
        "SELECT rank, institution_id, name, score, claims, amount_fen, flagged_claims,
                amount_at_risk_fen, rings, evidence_json
         FROM institution_risk WHERE sweep_id = ?1 ORDER BY rank, institution_id",
    )?;
    let rows = stmt.query_map([sweep_id], |r| {
        Ok((
            RiskRow {
                rank: r.get(0)?,
                institution_id: r.get(1)?,
                name: r.get(2)?,
                county_code: String::new(),
                score: r.get(3)?,
                claims: r.get(4)?,
                amount_fen: r.get(5)?,
                flagged_claims: r.get(6)?,
                amount_at_risk_fen: r.get(7)?,
                rings: r.get::<_, String>(8)?.replace(';', "; "),
                evidence: Vec::new(),
            },
            r.get::<_, rusqlite::types::Value>(9)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mut risk, evidence) = row?;
        let terms = crate::store::graph::risk_terms((&evidence).into()).map_err(|e| {
            ReportError::Malformed(format!(
                "institution_risk.evidence_json of {} in sweep {sweep_id}: {e}",
                risk.institution_id
            ))
        })?;
        risk.evidence = terms
            .iter()
            .filter(|t| t.points > 0.0)
            .map(|t| {
                let said = lang.pick(&t.zh, &t.en);
                let said = if said.is_empty() { &t.term } else { said };
                format!("{} (+{:.2})", mask.text(said), t.points)
            })
            .collect();
        if let Some((name, county)) = institutions.get(&risk.institution_id) {
            if risk.name.is_empty() {
                risk.name = name.clone();
            }
            risk.county_code = county.clone();
        }
        out.push(risk);
    }
    Ok(Some(out))
}

/// The graph stage's rings with their members and the ties between them, highest score first.
#[allow(clippy::too_many_arguments)]
fn rings(
    conn: &Connection,
    state: &LedgerState,
    sweep_id: i64,
    mut members: BTreeMap<i64, BTreeSet<(String, String)>>,
    ties: &HashMap<String, Vec<read::ClaimTies>>,
    institutions: &HashMap<String, (String, String)>,
    lang: Lang,
    mask: &Masker,
) -> Result<Vec<Ring>, ReportError> {
    let mut institution_ties = HashMap::new();
    let mut stmt = conn.prepare(
        "SELECT ring_id, score, persons, institutions, counties, claims, amount_fen,
                explanation_zh, explanation_en
         FROM rings WHERE sweep_id = ?1 ORDER BY score DESC, amount_fen DESC, ring_id",
    )?;
    let texts = crate::store::graph::ring_texts(conn, sweep_id);
    let rows = stmt.query_map([sweep_id], |r| {
        let mut zh: String = r.get(7)?;
        let mut en: String = r.get(8)?;
        texts.fill(r.get(0)?, &mut zh, &mut en)?;
        Ok(Ring {
            ring_id: r.get(0)?,
            score: r.get(1)?,
            persons: r.get(2)?,
            institutions: r.get(3)?,
            counties: r.get(4)?,
            claims: r.get(5)?,
            amount_fen: r.get(6)?,
            explanation: mask.text(lang.pick(&zh, &en)),
            members: Vec::new(),
            edges: Vec::new(),
        })
    })?;
    let mut out = Vec::new();
    for row in rows {
        let mut ring = row?;
        let list: Vec<(String, String)> = members
            .remove(&ring.ring_id)
            .unwrap_or_default()
            .into_iter()
            .collect();
        let ties = member_ties(
            conn,
            state,
            &list,
            ties,
            &mut institution_ties,
            institutions,
        )?;
        ring.members = list
            .into_iter()
            .zip(ties.labels)
            .map(|((kind, value), label)| RingMember {
                value: mask_member(mask, &kind, &value),
                kind,
                label,
            })
            .collect();
        ring.edges = ties.edges.into_iter().collect();
        out.push(ring);
    }
    Ok(out)
}

/// ring id → its members (kind, value) in the sweep.
fn ring_members(
    conn: &Connection,
    sweep_id: i64,
) -> Result<BTreeMap<i64, BTreeSet<(String, String)>>, ReportError> {
    let mut members: BTreeMap<i64, BTreeSet<(String, String)>> = BTreeMap::new();
    let mut stmt = conn.prepare(
        "SELECT ring_id, kind, value FROM ring_members WHERE sweep_id = ?1 ORDER BY ring_id, kind, value",
    )?;
    let rows = stmt.query_map([sweep_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    for row in rows {
        let (ring, kind, value) = row?;
        members.entry(ring).or_default().insert((kind, value));
    }
    Ok(members)
}

/// What the ledger says about the members of one ring.
struct MemberTies {
    /// Per member: a person's name, an institution's name, a county's name, or empty.
    labels: Vec<String>,
    /// Pairs of member indices, smaller first.
    edges: BTreeSet<(usize, usize)>,
}

/// The labels of a ring's members and the ties between them, read from the ledger: a person
/// is tied to the phones, accounts, institutions and counties of their claims and to the
/// legal-representative member with the same ID number; an institution to its phone, legal
/// representative and county.
fn member_ties(
    conn: &Connection,
    state: &LedgerState,
    list: &[(String, String)],
    claim_ties: &HashMap<String, Vec<read::ClaimTies>>,
    institution_ties: &mut HashMap<String, Option<read::InstitutionTies>>,
    institutions: &HashMap<String, (String, String)>,
) -> Result<MemberTies, ReportError> {
    let index: HashMap<(&str, &str), usize> = list
        .iter()
        .enumerate()
        .map(|(i, (k, v))| ((k.as_str(), v.as_str()), i))
        .collect();
    let mut edges: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut tie = |a: usize, kind: &str, v: &str| {
        if let Some(&b) = index.get(&(kind, v)) {
            if a != b {
                edges.insert((a.min(b), a.max(b)));
            }
        }
    };
    let refdata = RefData::embedded();
    let mut labels = vec![String::new(); list.len()];
    for (i, (kind, value)) in list.iter().enumerate() {
        match kind.as_str() {
            "person" => {
                tie(i, "legal_rep", value);
                for c in claim_ties.get(value).into_iter().flatten() {
                    if labels[i].is_empty() {
                        labels[i] = c.name.clone();
                    }
                    tie(i, "phone", &c.phone);
                    tie(i, "bank_account", &c.bank_account);
                    tie(i, "institution", &c.institution_id);
                    tie(i, "county", &c.county_code);
                }
            }
            "institution" => {
                labels[i] = institutions
                    .get(value)
                    .map(|(n, _)| n.clone())
                    .unwrap_or_default();
                if !institution_ties.contains_key(value) {
                    let t = read::institution_ties(conn, state, value)?;
                    institution_ties.insert(value.clone(), t);
                }
                if let Some(t) = &institution_ties[value] {
                    tie(i, "phone", &t.phone);
                    tie(i, "legal_rep", &t.legal_rep_id);
                    tie(i, "county", &t.county_code);
                }
            }
            "county" => labels[i] = refdata.area_name(value).unwrap_or("").to_string(),
            _ => {}
        }
    }
    Ok(MemberTies { labels, edges })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report's amounts at risk rest on the cases stage's spreading.
    #[test]
    fn spread_adds_up_and_follows_payments() {
        let spread = |amount, paid: &[Fen]| {
            let mut shares = Vec::new();
            crate::money::spread_into(amount, paid, &mut shares);
            shares
        };
        assert_eq!(spread(1000, &[100, 300]), vec![250, 750]);
        assert_eq!(spread(1001, &[1, 1, 1]), vec![333, 333, 335]);
        assert_eq!(spread(10, &[0, 0]), vec![5, 5]);
        assert!(spread(10, &[]).is_empty());
    }
}

//! The report's parts as tables: one [`Sheet`] per part, in the order both renderers show
//! them. The workbook writes them as sheets; the HTML renders the same tables (with charts,
//! drill-down and ring pictures around them), so the two formats say the same thing.

use super::data::ReportData;
use super::labels::{rule_name, severity_name, L};
use crate::cases::{family_label, subject_kind_label, Change, Lang};
use crate::model::{fen_to_yuan_grouped, Fen};

#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// Money in fen, shown in yuan.
    Money(Fen),
    Num(f64),
    /// A percentage, 0..=100.
    Pct(f64),
    /// A list of identifiers (a case's claim ids): one `; `-separated cell in the workbook,
    /// a count that opens to the list in the HTML.
    List(Vec<String>),
    Empty,
}

impl Cell {
    /// The text a person reads (HTML cells, sort keys of text columns).
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Money(f) => fen_to_yuan_grouped(*f),
            Cell::Num(x) => format!("{x:.2}"),
            Cell::Pct(p) => format!("{p:.1}%"),
            Cell::List(items) => items.join("; "),
            Cell::Empty => String::new(),
        }
    }

    /// A number to sort by, for numeric cells.
    pub fn sort_key(&self) -> Option<f64> {
        match self {
            Cell::Int(i) => Some(*i as f64),
            Cell::Money(f) => Some(*f as f64),
            Cell::Num(x) | Cell::Pct(x) => Some(*x),
            _ => None,
        }
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub label: String,
    /// Width in Excel character units.
    pub width: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sheet {
    /// Stable anchor (HTML id).
    pub id: &'static str,
    /// The part's title: the workbook's sheet name.
    pub title: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// False when the part has no data source yet (cases not built, no graph tables).
    pub available: bool,
    /// Rows of the part in full: more than `rows` when the report is an overview.
    pub total: usize,
}

fn sheet(id: &'static str, title: L, lang: Lang, cols: &[(L, f64)]) -> Sheet {
    Sheet {
        id,
        title: title.get(lang).to_string(),
        columns: cols
            .iter()
            .map(|(l, w)| Column {
                label: l.get(lang).to_string(),
                width: *w,
            })
            .collect(),
        rows: Vec::new(),
        available: true,
        total: 0,
    }
}

fn opt_int(v: Option<i64>) -> Cell {
    v.map_or(Cell::Empty, Cell::Int)
}

/// Every part of the report, in order: summary, by county, by rule, by fund, by institution,
/// new, progress, institution risk, cases, evidence, rings, claims no policy covers.
pub fn sheets(d: &ReportData) -> Vec<Sheet> {
    PARTS.iter().map(|part| part(d)).collect()
}

/// The builders of the parts, in order: a writer may build, write and drop one at a time.
pub const PARTS: [fn(&ReportData) -> Sheet; 12] = [
    |d| counted(summary(d), None),
    |d| counted(by_county(d), None),
    |d| counted(by_rule(d), None),
    |d| counted(by_fund(d), None),
    |d| counted(by_institution(d), None),
    |d| counted(new_since(d), Some(d.row_totals.new)),
    |d| counted(progress(d), None),
    |d| counted(risk(d), None),
    |d| counted(cases(d), Some(d.row_totals.cases)),
    |d| counted(evidence(d), Some(d.row_totals.evidence)),
    |d| counted(rings(d), None),
    |d| counted(no_policy(d), None),
];

/// Sets a part's full row count: `total` for an overview's case parts, else its rows.
fn counted(mut s: Sheet, total: Option<usize>) -> Sheet {
    s.total = total.unwrap_or(0).max(s.rows.len());
    s
}

/// The claims the sweep could not judge: no policy covers their training.
pub fn no_policy(d: &ReportData) -> Sheet {
    let lang = d.lang;
    let mut s = sheet(
        "no_policy",
        L::SecNoPolicy,
        lang,
        &[
            (L::ClaimId, 18.0),
            (L::TrainingDate, 12.0),
            (L::ClaimDate, 12.0),
            (L::Reason, 60.0),
        ],
    );
    for n in &d.not_judged {
        s.rows.push(vec![
            text(&n.claim_id),
            text(&n.training_date),
            text(&n.claim_date),
            text(L::NoPolicyReason.get(lang)),
        ]);
    }
    s
}

pub fn summary(d: &ReportData) -> Sheet {
    let lang = d.lang;
    let mut s = sheet(
        "summary",
        L::SecSummary,
        lang,
        &[(L::Item, 28.0), (L::Value, 60.0)],
    );
    let sum = &d.summary;
    let mut row = |l: L, v: Cell| s.rows.push(vec![text(l.get(lang)), v]);
    row(L::Sweep, Cell::Int(d.sweep.sweep_id));
    row(L::SweepStarted, text(&d.sweep.started_at));
    row(
        L::SweepFinished,
        text(d.sweep.finished_at.clone().unwrap_or_default()),
    );
    row(L::Policy, text(&d.sweep.policy));
    row(
        L::PreviousSweep,
        d.sweep
            .previous_sweep
            .map_or(text(L::Nothing.get(lang)), Cell::Int),
    );
    row(L::ClaimsTotal, Cell::Int(sum.claims));
    row(L::ClaimsNotJudged, Cell::Int(d.not_judged.len() as i64));
    row(L::PersonsTotal, Cell::Int(sum.persons));
    row(L::AmountPaid, Cell::Money(sum.amount_paid_fen));
    row(L::FlagsTotal, Cell::Int(sum.flags));
    row(L::HighFlags, Cell::Int(sum.high_flags));
    row(L::FlaggedClaims, Cell::Int(sum.flagged_claims));
    row(L::FlaggedPersons, Cell::Int(sum.flagged_persons));
    row(L::AmountAtRisk, Cell::Money(sum.amount_at_risk_fen));
    row(
        L::AtRiskShare,
        Cell::Pct(if sum.amount_paid_fen == 0 {
            0.0
        } else {
            sum.amount_at_risk_fen as f64 * 100.0 / sum.amount_paid_fen as f64
        }),
    );
    row(L::RulesReconcile, text(sum.flag_money.reconciliation(lang)));
    if let Some(m) = &sum.case_money {
        row(L::CasesReconcile, text(m.reconciliation(lang)));
    }
    let none = || text(L::NoData.get(lang));
    row(L::CasesTotal, sum.cases.map_or_else(none, Cell::Int));
    row(L::NewCases, sum.new_cases.map_or_else(none, Cell::Int));
    row(
        L::ResolvedCases,
        sum.resolved_cases.map_or_else(none, Cell::Int),
    );
    row(L::RingsTotal, sum.rings.map_or_else(none, Cell::Int));
    row(L::RejectedRows, Cell::Int(sum.rejected_rows));
    row(
        L::SkippedRules,
        text(if sum.skipped_rules.is_empty() {
            L::Nothing.get(lang).to_string()
        } else {
            sum.skipped_rules
                .iter()
                .map(|r| rule_name(r, lang))
                .collect::<Vec<_>>()
                .join("、")
        }),
    );
    if let Some(t) = &d.person_times_target {
        let met = if t.actual >= t.target as i64 {
            L::Met
        } else {
            L::NotMet
        };
        row(
            L::PersonTimesTarget,
            text(format!(
                "{}: {} {} / {} {} ({})",
                t.year,
                L::Actual.get(lang),
                t.actual,
                L::Target.get(lang),
                t.target,
                met.get(lang)
            )),
        );
    }
    row(
        L::Masking,
        text(if d.masked {
            L::Masked.get(lang)
        } else {
            L::Unmasked.get(lang)
        }),
    );
    s
}

fn breakdown_rows(
    rows: &[super::data::Breakdown],
    with_totals: bool,
    extra: bool,
) -> Vec<Vec<Cell>> {
    rows.iter()
        .map(|b| {
            let mut r = vec![text(&b.key), text(&b.label)];
            if extra {
                r.push(text(&b.extra));
            }
            if with_totals {
                r.push(opt_int(b.claims));
                r.push(b.amount_paid_fen.map_or(Cell::Empty, Cell::Money));
            }
            r.push(Cell::Int(b.flags));
            r.push(Cell::Int(b.flagged_claims));
            if with_totals {
                let share = match b.claims {
                    Some(n) if n > 0 => b.flagged_claims as f64 * 100.0 / n as f64,
                    _ => 0.0,
                };
                r.push(Cell::Pct(share));
            }
            r.push(Cell::Money(b.amount_at_risk_fen));
            r
        })
        .collect()
}

pub fn by_county(d: &ReportData) -> Sheet {
    let mut s = sheet(
        "county",
        L::SecCounty,
        d.lang,
        &[
            (L::CountyCode, 12.0),
            (L::County, 16.0),
            (L::Claims, 10.0),
            (L::AmountPaid, 16.0),
            (L::Flags, 10.0),
            (L::FlaggedClaims, 12.0),
            (L::FlaggedShare, 12.0),
            (L::AmountAtRisk, 16.0),
        ],
    );
    s.rows = breakdown_rows(&d.by_county, true, false);
    s
}

pub fn by_rule(d: &ReportData) -> Sheet {
    let mut s = sheet(
        "rule",
        L::SecRule,
        d.lang,
        &[
            (L::RuleId, 24.0),
            (L::Rule, 28.0),
            (L::Severity, 10.0),
            (L::Flags, 10.0),
            (L::FlaggedClaims, 12.0),
            (L::AmountAtRisk, 16.0),
            (L::Note, 30.0),
        ],
    );
    s.rows = breakdown_rows(&d.by_rule, false, true);
    for (row, b) in s.rows.iter_mut().zip(&d.by_rule) {
        row.push(text(&b.note));
    }
    s
}

pub fn by_fund(d: &ReportData) -> Sheet {
    let mut s = sheet(
        "fund",
        L::SecFund,
        d.lang,
        &[
            (L::Fund, 24.0),
            (L::Fund, 16.0),
            (L::Claims, 10.0),
            (L::AmountPaid, 16.0),
            (L::Flags, 10.0),
            (L::FlaggedClaims, 12.0),
            (L::FlaggedShare, 12.0),
            (L::AmountAtRisk, 16.0),
        ],
    );
    s.columns[0].label = d.lang.pick("资金来源代码", "Fund code").to_string();
    s.rows = breakdown_rows(&d.by_fund, true, false);
    s
}

pub fn by_institution(d: &ReportData) -> Sheet {
    let mut s = sheet(
        "institution",
        L::SecInstitution,
        d.lang,
        &[
            (L::InstitutionId, 22.0),
            (L::InstitutionName, 30.0),
            (L::County, 12.0),
            (L::Claims, 10.0),
            (L::AmountPaid, 16.0),
            (L::Flags, 10.0),
            (L::FlaggedClaims, 12.0),
            (L::FlaggedShare, 12.0),
            (L::AmountAtRisk, 16.0),
        ],
    );
    s.rows = breakdown_rows(&d.by_institution, true, true);
    s
}

fn change_label(code: &str, lang: Lang) -> String {
    match Change::parse(code) {
        Some(c) => c.label(lang).to_string(),
        None if code == "grown" => L::ChangeGrown.get(lang).to_string(),
        None => code.to_string(),
    }
}

pub fn new_since(d: &ReportData) -> Sheet {
    let lang = d.lang;
    let mut s = sheet(
        "new",
        L::SecNew,
        lang,
        &[
            (L::Change, 12.0),
            (L::CaseId, 10.0),
            (L::SubjectKind, 10.0),
            (L::Subject, 30.0),
            (L::Family, 12.0),
            (L::Claims, 10.0),
            (L::AmountAtRisk, 16.0),
            (L::Score, 12.0),
            (L::Reason, 50.0),
        ],
    );
    match &d.new_since_last {
        None => s.available = false,
        Some(rows) => {
            s.rows = rows
                .iter()
                .map(|r| {
                    vec![
                        text(change_label(r.change, lang)),
                        Cell::Int(r.case_id),
                        text(subject_kind_label(&r.subject_kind, lang)),
                        text(&r.subject),
                        text(family_label(&r.rule_family, lang)),
                        Cell::Int(r.claims),
                        Cell::Money(r.amount_at_risk_fen),
                        Cell::Num(r.score),
                        text(&r.reason),
                    ]
                })
                .collect()
        }
    }
    s
}

pub fn progress(d: &ReportData) -> Sheet {
    let lang = d.lang;
    let mut s = sheet(
        "progress",
        L::SecProgress,
        lang,
        &[
            (L::Year, 8.0),
            (L::CountyCode, 12.0),
            (L::County, 14.0),
            (L::PersonTimes, 10.0),
            (L::Persons, 10.0),
            (L::WithLevel, 12.0),
            (L::LevelShare, 12.0),
            (L::SkilledTarget, 12.0),
            (L::HighSkill, 14.0),
            (L::HighSkillShare, 12.0),
            (L::HighSkillTarget, 12.0),
            (L::AmountPaid, 16.0),
        ],
    );
    let target = |t: Option<u32>, actual: f64| match t {
        None => Cell::Empty,
        Some(t) => text(format!(
            "{t}% {}",
            if actual >= t as f64 {
                L::Met.get(lang)
            } else {
                L::NotMet.get(lang)
            }
        )),
    };
    s.rows = d
        .progress
        .iter()
        .map(|r| {
            vec![
                Cell::Int(r.year as i64),
                text(&r.county_code),
                text(&r.county_name),
                Cell::Int(r.person_times),
                Cell::Int(r.persons),
                Cell::Int(r.with_level),
                Cell::Pct(r.level_share()),
                target(r.skilled_target_percent, r.level_share()),
                Cell::Int(r.high_skill),
                Cell::Pct(r.high_skill_share()),
                target(r.high_skill_target_percent, r.high_skill_share()),
                Cell::Money(r.amount_paid_fen),
            ]
        })
        .collect();
    s
}

pub fn risk(d: &ReportData) -> Sheet {
    let mut s = sheet(
        "risk",
        L::SecRisk,
        d.lang,
        &[
            (L::Rank, 8.0),
            (L::InstitutionId, 22.0),
            (L::InstitutionName, 30.0),
            (L::CountyCode, 12.0),
            (L::RiskScore, 10.0),
            (L::Claims, 10.0),
            (L::AmountPaid, 16.0),
            (L::FlaggedClaims, 12.0),
            (L::AmountAtRisk, 16.0),
            (L::SecRings, 12.0),
            (L::Details, 80.0),
        ],
    );
    match &d.institution_risk {
        None => s.available = false,
        Some(rows) => {
            s.rows = rows
                .iter()
                .map(|r| {
                    vec![
                        Cell::Int(r.rank),
                        text(&r.institution_id),
                        text(&r.name),
                        text(&r.county_code),
                        Cell::Num(r.score),
                        Cell::Int(r.claims),
                        Cell::Money(r.amount_fen),
                        Cell::Int(r.flagged_claims),
                        Cell::Money(r.amount_at_risk_fen),
                        text(&r.rings),
                        text(r.evidence.join("；")),
                    ]
                })
                .collect()
        }
    }
    s
}

pub fn cases(d: &ReportData) -> Sheet {
    let lang = d.lang;
    let mut s = sheet(
        "cases",
        L::SecCases,
        lang,
        &[
            (L::CaseId, 10.0),
            (L::Status, 10.0),
            (L::Change, 10.0),
            (L::Score, 12.0),
            (L::AmountAtRisk, 16.0),
            (L::Claims, 10.0),
            (L::SubjectKind, 10.0),
            (L::Subject, 30.0),
            (L::Family, 12.0),
            (L::CountyCode, 12.0),
            (L::InstitutionId, 22.0),
            (L::Rules, 40.0),
            (L::Assignee, 12.0),
            (L::FirstSeen, 10.0),
            (L::ClaimIds, 60.0),
        ],
    );
    match &d.cases {
        None => s.available = false,
        Some(rows) => {
            s.rows = rows
                .iter()
                .map(|r| {
                    vec![
                        Cell::Int(r.case_id),
                        text(r.status.label(lang)),
                        text(r.change.label(lang)),
                        Cell::Num(r.score),
                        Cell::Money(r.amount_at_risk_fen),
                        Cell::Int(r.claims),
                        text(subject_kind_label(&r.subject_kind, lang)),
                        text(&r.subject),
                        text(family_label(&r.rule_family, lang)),
                        text(&r.county_code),
                        text(&r.institution_id),
                        text(
                            r.rules
                                .iter()
                                .map(|x| rule_name(x, lang))
                                .collect::<Vec<_>>()
                                .join("; "),
                        ),
                        text(&r.assignee),
                        Cell::Int(r.first_sweep_id),
                        Cell::List(r.claim_ids.clone()),
                    ]
                })
                .collect()
        }
    }
    s
}

pub fn evidence(d: &ReportData) -> Sheet {
    let lang = d.lang;
    let mut s = sheet(
        "evidence",
        L::SecEvidence,
        lang,
        &[
            (L::CaseId, 10.0),
            (L::Seq, 8.0),
            (L::RuleId, 22.0),
            (L::Rule, 24.0),
            (L::Severity, 8.0),
            (L::Subject, 30.0),
            (L::ClaimIds, 40.0),
            (L::AmountAtRisk, 16.0),
            (L::Explanation, 80.0),
        ],
    );
    s.available = d.cases.is_some();
    s.rows = d
        .evidence
        .iter()
        .map(|e| {
            vec![
                Cell::Int(e.case_id),
                Cell::Int(e.seq),
                text(&e.rule),
                text(rule_name(&e.rule, lang)),
                text(severity_name(&e.severity, lang)),
                text(&e.subject),
                Cell::List(
                    e.claim_ids
                        .split("; ")
                        .filter(|c| !c.is_empty())
                        .map(String::from)
                        .collect(),
                ),
                Cell::Money(e.amount_at_risk_fen),
                text(&e.explanation),
            ]
        })
        .collect();
    s
}

/// Name of a ring member kind.
pub fn member_kind_label(kind: &str, lang: Lang) -> &'static str {
    match kind {
        "person" => L::KindPerson.get(lang),
        "institution" => L::KindInstitution.get(lang),
        "phone" => L::KindPhone.get(lang),
        "bank_account" => L::KindBank.get(lang),
        "legal_rep" => L::LegalRepOf.get(lang),
        "county" => L::KindCounty.get(lang),
        _ => L::KindOther.get(lang),
    }
}

/// One row per ring member, so a filter on the ring id shows a ring.
pub fn rings(d: &ReportData) -> Sheet {
    let lang = d.lang;
    let mut s = sheet(
        "rings",
        L::SecRings,
        lang,
        &[
            (L::RingId, 10.0),
            (L::RingScore, 10.0),
            (L::Claims, 10.0),
            (L::AmountPaid, 16.0),
            (L::MemberKind, 12.0),
            (L::Member, 24.0),
            (L::Name, 30.0),
            (L::Explanation, 80.0),
        ],
    );
    match &d.rings {
        None => s.available = false,
        Some(rings) => {
            for r in rings {
                for m in &r.members {
                    s.rows.push(vec![
                        Cell::Int(r.ring_id),
                        Cell::Num(r.score),
                        Cell::Int(r.claims),
                        Cell::Money(r.amount_fen),
                        text(member_kind_label(&m.kind, lang)),
                        text(&m.value),
                        text(&m.label),
                        text(&r.explanation),
                    ]);
                }
            }
        }
    }
    s
}

//! Read side of the cases: list with filters, one case with all its evidence, the history,
//! sweeps and the diff between two sweeps. Every query orders its rows explicitly.

use super::group::CaseSummary;
use super::history::{delta, ChangeDetail};
use super::{CaseError, Change, Status};
use crate::model::Fen;
use crate::store::history::{claim_change_since, ClaimChange};
use crate::store::read::{self, json_list, LedgerState};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CaseSort {
    #[default]
    Score,
    Amount,
}

/// Filters of `cases list`. Empty filter: every case found in the latest sweep.
#[derive(Clone, Debug, Default)]
pub struct CaseFilter {
    pub status: Option<Status>,
    pub county: Option<String>,
    pub institution: Option<String>,
    pub rule: Option<String>,
    /// person | class | contact | ring | institution
    pub subject_kind: Option<String>,
    pub min_amount_fen: Option<Fen>,
    /// Sweep whose cases are listed; default: the latest sweep with cases built.
    pub sweep: Option<i64>,
    /// Only cases first found in that sweep.
    pub new_only: bool,
    pub sort: CaseSort,
    pub limit: Option<usize>,
}

impl CaseFilter {
    /// Whether the filter lists every case of its sweep (only the order may differ).
    pub fn is_whole_sweep(&self) -> bool {
        self.status.is_none()
            && self.county.is_none()
            && self.institution.is_none()
            && self.rule.is_none()
            && self.subject_kind.is_none()
            && self.min_amount_fen.is_none()
            && !self.new_only
            && self.limit.is_none()
    }
}

/// The cases' amounts of a sweep reconciled with its distinct total, as the sweep stored them
/// in its summary; None for a sweep stored before they were.
pub fn case_money(
    conn: &Connection,
    sweep_id: i64,
) -> Result<Option<crate::money::CaseTotals>, CaseError> {
    let json: Option<String> = conn
        .query_row(
            "SELECT summary_json FROM sweeps WHERE sweep_id = ?1",
            [sweep_id],
            |r| r.get(0),
        )
        .optional()?;
    let money = json
        .and_then(|j| serde_json::from_str::<serde_json::Value>(&j).ok())
        .and_then(|v| v.get("cases")?.get("money").cloned())
        .and_then(|m| serde_json::from_value(m).ok());
    Ok(money)
}

/// One case as found in one sweep.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseRow {
    pub case_id: i64,
    pub case_key: String,
    pub subject_kind: String,
    pub subject: String,
    pub rule_family: String,
    pub county_code: String,
    pub institution_id: String,
    pub status: Status,
    pub assignee: String,
    pub first_sweep_id: i64,
    pub sweep_id: i64,
    pub change: Change,
    pub score: f64,
    pub amount_at_risk_fen: Fen,
    pub claims: i64,
    pub rules: Vec<String>,
    pub claim_ids: Vec<String>,
    /// What changed since the previous sweep (empty for new cases), in Chinese and English.
    pub reason_zh: String,
    pub reason_en: String,
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}
impl Serialize for Change {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlagEvidence {
    pub seq: i64,
    pub rule: String,
    pub severity: String,
    pub subject_kind: String,
    pub subject: String,
    pub claim_ids: Vec<String>,
    pub amount_at_risk_fen: Fen,
    pub explanation_zh: String,
    pub explanation_en: String,
}

/// One claim of a case as the case page shows it: the record as the case's sweep judged it,
/// or only its id when that state of the ledger did not have it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ClaimEvidence {
    #[serde(flatten)]
    pub claim: read::ClaimRecord,
    /// Whether the ledger the sweep judged had the claim.
    pub found: bool,
    /// What a later ingest did to the claim, if anything: the record above is still the one
    /// judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<ClaimChange>,
}

/// Registry rows of one person of the case.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RegistryEvidence {
    pub id_number: String,
    pub death_date: Option<String>,
    pub pension_start: Option<String>,
    /// (months paid, as of) of each unemployment-insurance row, latest first.
    pub ui: Vec<(i64, String)>,
    pub poverty: bool,
    /// (institution, role) where the person is staff.
    pub staff_of: Vec<(String, String)>,
    /// Institutions whose legal representative the person is.
    pub legal_rep_of: Vec<String>,
}

/// Another person tied to the case's persons by a shared phone or bank account.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NeighbourLink {
    /// phone | bank_account
    pub via: String,
    pub value: String,
    pub id_number: String,
    pub name: String,
    pub claims: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub history_id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: String,
    pub sweep_id: Option<i64>,
}

/// The case in each sweep that saw it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseSweepEntry {
    pub sweep_id: i64,
    pub change: Change,
    pub score: f64,
    pub amount_at_risk_fen: Fen,
    pub claims: i64,
    pub reason_zh: String,
    pub reason_en: String,
}

/// A graph finding around the case: a ring it belongs to, or the risk ranking of its
/// institution.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GraphEvidence {
    /// ring | institution_risk
    pub kind: String,
    /// Ring id, or rank in the institution risk ranking.
    pub id: i64,
    pub score: f64,
    pub explanation_zh: String,
    pub explanation_en: String,
    /// (kind, value) of the ring's members; empty for institution risk.
    pub members: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseDetail {
    /// The case as found in the last sweep that found it.
    pub case: CaseRow,
    pub sweeps: Vec<CaseSweepEntry>,
    pub flags: Vec<FlagEvidence>,
    pub claims: Vec<ClaimEvidence>,
    pub registry: Vec<RegistryEvidence>,
    pub neighbours: Vec<NeighbourLink>,
    /// Rings and institution risk from the graph stage, when it stored them for the sweep.
    pub graph: Vec<GraphEvidence>,
    /// Why spellings of a name were judged one name or not: the links that made several ID
    /// numbers one person, and the names found under one ID number (identity_conflict).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<NameEvidence>,
    pub history: Vec<HistoryEntry>,
}

/// Two spellings of a name in a case, explained field by field (`names::explain`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NameEvidence {
    /// `link`: two ID numbers made one person (birth date + shared phone or account + names);
    /// `same_id`: two names under one ID number.
    pub kind: &'static str,
    pub id_a: String,
    pub id_b: String,
    pub birth_date: String,
    /// `phone` | `bank_account` for a link; empty for `same_id`.
    pub via: String,
    pub contact: String,
    pub explained: crate::names::NameMatch,
}

impl NameEvidence {
    /// What the two spellings are: a link's birth date and shared contact, or one ID number.
    pub fn heading(&self, lang: crate::text::Lang) -> String {
        use crate::text::Lang;
        let via = |zh, en| if self.via == "phone" { zh } else { en };
        match (self.kind, lang) {
            ("link", Lang::Zh) => format!(
                "{} 与 {}：出生日期同为 {}，共用{} {}",
                self.id_a,
                self.id_b,
                self.birth_date,
                via("电话", "银行账户"),
                self.contact
            ),
            ("link", Lang::En) => format!(
                "{} and {}: both born {}, sharing {} {}",
                self.id_a,
                self.id_b,
                self.birth_date,
                via("phone", "bank account"),
                self.contact
            ),
            (_, Lang::Zh) => format!("身份证号 {} 下的两个姓名", self.id_a),
            (_, Lang::En) => format!("two names under ID number {}", self.id_a),
        }
    }
}

/// The name comparisons behind a case's persons: every stored link of the sweep between ID
/// numbers of the case's claims, and, for each ID number with several distinct names in the
/// case's claims, its first name against each other one. Judged with the threshold of the
/// built-in policy (`identity.min_jaro_winkler`), as the sweep's default.
pub fn name_evidence(
    conn: &Connection,
    sweep_id: i64,
    claims: &[ClaimEvidence],
) -> Result<Vec<NameEvidence>, CaseError> {
    let min_jw = crate::policy::PolicySet::embedded_default()
        .policies
        .first()
        .map_or(0.85, |p| p.identity.min_jaro_winkler);
    let ids: BTreeSet<&str> = claims
        .iter()
        .map(|c| c.claim.id_number.as_str())
        .filter(|i| !i.is_empty())
        .collect();
    let mut out = Vec::new();
    if crate::store::table_exists(conn, "person_links")? {
        let mut stmt = conn.prepare_cached(
            "SELECT id_a, id_b, birth_date, via, contact, name_a, name_b FROM person_links
             WHERE sweep_id = ?1 AND (id_a IN (SELECT value FROM json_each(?2))
                                      OR id_b IN (SELECT value FROM json_each(?2)))
             ORDER BY person, id_a, id_b, via",
        )?;
        let list = read::json_list(ids.iter().copied());
        let rows = stmt.query_map(params![sweep_id, list], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        for row in rows {
            let (id_a, id_b, birth_date, via, contact, name_a, name_b) = row?;
            out.push(NameEvidence {
                kind: "link",
                explained: crate::names::explain(&name_a, &name_b, min_jw),
                id_a,
                id_b,
                birth_date,
                via,
                contact,
            });
        }
    }
    let mut names_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in claims {
        let names = names_of.entry(c.claim.id_number.as_str()).or_default();
        if !c.claim.name.is_empty() && !names.contains(&c.claim.name.as_str()) {
            names.push(&c.claim.name);
        }
    }
    for (id, names) in names_of {
        let Some((first, rest)) = names.split_first() else {
            continue;
        };
        for other in rest {
            if crate::names::normalize(first) == crate::names::normalize(other) {
                continue;
            }
            out.push(NameEvidence {
                kind: "same_id",
                id_a: id.to_string(),
                id_b: id.to_string(),
                birth_date: String::new(),
                via: String::new(),
                contact: String::new(),
                explained: crate::names::explain(first, other, min_jw),
            });
        }
    }
    Ok(out)
}

/// Most neighbours shown per shared value: enough to see a ring, short enough for a terminal.
const NEIGHBOURS_PER_VALUE: i64 = 20;

fn split(s: &str) -> Vec<String> {
    s.split(';')
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

/// The latest sweep whose cases were built.
pub fn latest_sweep(conn: &Connection) -> Result<Option<i64>, CaseError> {
    Ok(conn.query_row("SELECT max(sweep_id) FROM case_builds", [], |r| r.get(0))?)
}

/// The two latest sweeps whose cases were built, older first.
pub fn last_two_sweeps(conn: &Connection) -> Result<Option<(i64, i64)>, CaseError> {
    let mut stmt =
        conn.prepare("SELECT sweep_id FROM case_builds ORDER BY sweep_id DESC LIMIT 2")?;
    let ids = stmt
        .query_map([], |r| r.get::<_, i64>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(match ids.as_slice() {
        [b, a] => Some((*a, *b)),
        _ => None,
    })
}

fn require_built(conn: &Connection, sweep_id: i64) -> Result<(), CaseError> {
    let found: Option<i64> = conn
        .query_row(
            "SELECT sweep_id FROM case_builds WHERE sweep_id = ?1",
            [sweep_id],
            |r| r.get(0),
        )
        .optional()?;
    found.map(|_| ()).ok_or(CaseError::NoSweep(sweep_id))
}

const ROW_COLUMNS: &str = "c.case_id, c.case_key, c.subject_kind, c.subject, c.rule_family,
    c.county_code, c.institution_id, c.status, c.assignee, c.first_sweep_id, s.sweep_id,
    s.change, s.score, s.amount_at_risk_fen, s.claims, s.rules, s.claim_ids, s.detail_json";

fn row_from(r: &rusqlite::Row) -> rusqlite::Result<CaseRow> {
    let status: String = r.get(7)?;
    let change: String = r.get(11)?;
    let detail: String = r.get(17)?;
    let detail = serde_json::from_str::<ChangeDetail>(&detail)
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(17, rusqlite::types::Type::Text, Box::new(e))
        })?
        .for_change(&change);
    let bad = |what: &str, v: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown {what} `{v}`").into(),
        )
    };
    Ok(CaseRow {
        case_id: r.get(0)?,
        case_key: r.get(1)?,
        subject_kind: r.get(2)?,
        subject: r.get(3)?,
        rule_family: r.get(4)?,
        county_code: r.get(5)?,
        institution_id: r.get(6)?,
        status: Status::parse(&status).ok_or_else(|| bad("status", &status))?,
        assignee: r.get(8)?,
        first_sweep_id: r.get(9)?,
        sweep_id: r.get(10)?,
        change: Change::parse(&change).ok_or_else(|| bad("change", &change))?,
        score: r.get(12)?,
        amount_at_risk_fen: r.get(13)?,
        claims: r.get(14)?,
        rules: split(&r.get::<_, String>(15)?),
        claim_ids: split(&r.get::<_, String>(16)?),
        reason_zh: detail.reason_zh.clone().unwrap_or_default(),
        reason_en: detail.reason_en.clone().unwrap_or_default(),
    })
}

/// Cases found in one sweep (default: the latest), filtered and sorted (ties: case id).
pub fn list(conn: &Connection, filter: &CaseFilter) -> Result<Vec<CaseRow>, CaseError> {
    let sweep = match filter.sweep {
        Some(s) => {
            require_built(conn, s)?;
            s
        }
        None => match latest_sweep(conn)? {
            Some(s) => s,
            None => return Ok(Vec::new()),
        },
    };
    let mut sql = format!(
        "SELECT {ROW_COLUMNS} FROM case_sweeps s JOIN cases c ON c.case_id = s.case_id
         WHERE s.sweep_id = ?1 AND s.change <> 'resolved'"
    );
    let mut args: Vec<rusqlite::types::Value> = vec![sweep.into()];
    let mut add = |cond: &str, v: rusqlite::types::Value| {
        args.push(v);
        sql.push_str(&cond.replace('?', &format!("?{}", args.len())));
    };
    if let Some(st) = filter.status {
        add(" AND c.status = ?", st.code().to_string().into());
    }
    if let Some(c) = &filter.county {
        add(" AND c.county_code = ?", c.clone().into());
    }
    if let Some(i) = &filter.institution {
        add(" AND c.institution_id = ?", i.clone().into());
    }
    if let Some(rule) = &filter.rule {
        add(
            " AND instr(';' || s.rules || ';', ';' || ? || ';') > 0",
            rule.clone().into(),
        );
    }
    if let Some(k) = &filter.subject_kind {
        add(" AND c.subject_kind = ?", k.clone().into());
    }
    if let Some(min) = filter.min_amount_fen {
        add(" AND s.amount_at_risk_fen >= ?", min.into());
    }
    if filter.new_only {
        sql.push_str(" AND s.change = 'new'");
    }
    sql.push_str(match filter.sort {
        CaseSort::Score => " ORDER BY s.score DESC, s.amount_at_risk_fen DESC, c.case_id",
        CaseSort::Amount => " ORDER BY s.amount_at_risk_fen DESC, s.score DESC, c.case_id",
    });
    if let Some(limit) = filter.limit {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), row_from)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The case's history, oldest first.
pub fn history(conn: &Connection, case_id: i64) -> Result<Vec<HistoryEntry>, CaseError> {
    let exists: Option<i64> = conn
        .query_row(
            "SELECT case_id FROM cases WHERE case_id = ?1",
            [case_id],
            |r| r.get(0),
        )
        .optional()?;
    exists.ok_or(CaseError::NoCase(case_id))?;
    let mut stmt = conn.prepare(
        "SELECT history_id, at, actor, action, from_status, to_status, note, sweep_id
         FROM case_history WHERE case_id = ?1 ORDER BY history_id",
    )?;
    let rows = stmt.query_map([case_id], |r| {
        Ok(HistoryEntry {
            history_id: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            from_status: r.get(4)?,
            to_status: r.get(5)?,
            note: r.get(6)?,
            sweep_id: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One case with all its evidence, as its last sweep judged it.
pub fn show(conn: &Connection, case_id: i64) -> Result<CaseDetail, CaseError> {
    show_as_of(conn, case_id, None)
}

/// One case with all its evidence as sweep `sweep_id` judged it (its last sweep when None):
/// that sweep's flags and claims, read from the ledger that sweep saw. A report of an older
/// sweep shows its cases this way.
pub fn show_as_of(
    conn: &Connection,
    case_id: i64,
    sweep_id: Option<i64>,
) -> Result<CaseDetail, CaseError> {
    let case = conn
        .query_row(
            &format!(
                "SELECT {ROW_COLUMNS} FROM cases c JOIN case_sweeps s
                   ON s.case_id = c.case_id AND s.sweep_id = coalesce(?2, c.last_sweep_id)
                 WHERE c.case_id = ?1"
            ),
            params![case_id, sweep_id],
            row_from,
        )
        .optional()?
        .ok_or(CaseError::NoCase(case_id))?;
    let sweeps = case_sweeps(conn, case_id)?;
    let flags = case_flags(conn, case_id, case.sweep_id)?;
    // The evidence is the ledger as the case's last sweep judged it.
    let state = LedgerState::of_sweep(conn, case.sweep_id)?;
    let claims = claim_evidence(conn, &state, &case.claim_ids)?;
    let persons: BTreeSet<String> = claims
        .iter()
        .filter(|c| !c.claim.id_number.is_empty())
        .map(|c| c.claim.id_number.clone())
        .collect();
    let registry = registry_evidence(conn, &state, &persons)?;
    let neighbours = neighbours(conn, &state, &claims, &persons)?;
    let graph = graph_evidence(conn, &case, &persons)?;
    let names = name_evidence(conn, case.sweep_id, &claims)?;
    let history = history(conn, case_id)?;
    Ok(CaseDetail {
        case,
        sweeps,
        flags,
        claims,
        registry,
        neighbours,
        graph,
        names,
        history,
    })
}

/// The case in every sweep that saw it, oldest first.
fn case_sweeps(conn: &Connection, case_id: i64) -> Result<Vec<CaseSweepEntry>, CaseError> {
    let mut stmt = conn.prepare(
        "SELECT sweep_id, change, score, amount_at_risk_fen, claims, detail_json
         FROM case_sweeps WHERE case_id = ?1 ORDER BY sweep_id",
    )?;
    let rows = stmt.query_map([case_id], |r| {
        let change: String = r.get(1)?;
        let detail: String = r.get(5)?;
        Ok((r.get(0)?, change, r.get(2)?, r.get(3)?, r.get(4)?, detail))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (sweep_id, change, score, amount, claims, detail) = row?;
        let detail = ChangeDetail::parse(&detail, case_id)?.for_change(&change);
        out.push(CaseSweepEntry {
            sweep_id,
            change: Change::parse(&change)
                .ok_or_else(|| CaseError::Malformed(format!("change {change}")))?,
            score,
            amount_at_risk_fen: amount,
            claims,
            reason_zh: detail.reason_zh.unwrap_or_default(),
            reason_en: detail.reason_en.unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The flags of a case in one sweep, in flag order. Ordered by `case_flags.seq` (the same
/// values): ordered by `flags.seq`, SQLite walks every flag of the sweep to spare a sort
/// (50 ms a case at two million claims, for the report's drill-downs).
pub fn case_flags(
    conn: &Connection,
    case_id: i64,
    sweep_id: i64,
) -> Result<Vec<FlagEvidence>, CaseError> {
    let mut stmt = conn.prepare_cached(
        "SELECT f.seq, f.rule, f.severity, f.subject_kind, f.subject, f.claim_ids,
                f.amount_at_risk_fen, f.explanation_zh, f.explanation_en
         FROM case_flags cf JOIN flags f ON f.sweep_id = cf.sweep_id AND f.seq = cf.seq
         WHERE cf.case_id = ?1 AND cf.sweep_id = ?2 ORDER BY cf.seq",
    )?;
    let rows = stmt.query_map(params![case_id, sweep_id], |r| {
        Ok(FlagEvidence {
            seq: r.get(0)?,
            rule: r.get(1)?,
            severity: r.get(2)?,
            subject_kind: r.get(3)?,
            subject: r.get(4)?,
            claim_ids: split(&r.get::<_, String>(5)?),
            amount_at_risk_fen: r.get(6)?,
            explanation_zh: r.get(7)?,
            explanation_en: r.get(8)?,
        })
    })?;
    let mut flags: Vec<FlagEvidence> = rows.collect::<Result<_, _>>()?;
    let texts = crate::store::flags::flag_texts(conn, sweep_id);
    for f in &mut flags {
        texts.fill(f.seq, &mut f.explanation_zh, &mut f.explanation_en)?;
    }
    Ok(flags)
}

/// Rings of the case (its own, and those its persons or institution belong to) and the risk
/// ranking of its institution, in the sweep the case was last found.
fn graph_evidence(
    conn: &Connection,
    case: &CaseRow,
    persons: &BTreeSet<String>,
) -> Result<Vec<GraphEvidence>, CaseError> {
    use super::schema::table_exists;
    let mut out = Vec::new();
    if table_exists(conn, "rings")? && table_exists(conn, "ring_members")? {
        out = ring_evidence(conn, case, persons)?;
    }
    if !case.institution_id.is_empty() && table_exists(conn, "institution_risk")? {
        out.extend(institution_risk_evidence(conn, case)?);
    }
    Ok(out)
}

/// The rings of the case's own detail, and those its persons (or, for an institution's or a
/// class's case, its institution) are members of, by ring id.
fn ring_evidence(
    conn: &Connection,
    case: &CaseRow,
    persons: &BTreeSet<String>,
) -> Result<Vec<GraphEvidence>, CaseError> {
    let sweep = case.sweep_id;
    let mut ring_ids: BTreeSet<i64> = BTreeSet::new();
    let detail: String = conn.query_row(
        "SELECT detail_json FROM case_sweeps WHERE case_id = ?1 AND sweep_id = ?2",
        params![case.case_id, sweep],
        |r| r.get(0),
    )?;
    ring_ids.extend(ChangeDetail::parse(&detail, case.case_id)?.ring_ids);
    // One scan of the sweep's members for all persons of the case.
    let mut by_member = conn.prepare_cached(
        "SELECT DISTINCT ring_id FROM ring_members WHERE sweep_id = ?1
         AND ((kind = 'person' AND value IN (SELECT value FROM json_each(?2)))
           OR (kind = 'institution' AND value = ?3))",
    )?;
    let institution = if matches!(case.subject_kind.as_str(), "institution" | "class") {
        case.institution_id.as_str()
    } else {
        ""
    };
    let ids = by_member.query_map(
        params![
            sweep,
            json_list(persons.iter().map(String::as_str)),
            institution
        ],
        |r| r.get::<_, i64>(0),
    )?;
    for id in ids {
        ring_ids.insert(id?);
    }
    let mut ring = conn.prepare_cached(
        "SELECT score, explanation_zh, explanation_en FROM rings WHERE sweep_id = ?1 AND ring_id = ?2",
    )?;
    let mut members = conn.prepare_cached(
        "SELECT kind, value FROM ring_members WHERE sweep_id = ?1 AND ring_id = ?2 ORDER BY kind, value",
    )?;
    let texts = crate::store::graph::ring_texts(conn, sweep);
    let mut out = Vec::new();
    for id in ring_ids {
        let Some((score, mut zh, mut en)) = ring
            .query_row(params![sweep, id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?
        else {
            continue;
        };
        texts.fill(id, &mut zh, &mut en)?;
        let members = members
            .query_map(params![sweep, id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        out.push(GraphEvidence {
            kind: "ring".into(),
            id,
            score,
            explanation_zh: zh,
            explanation_en: en,
            members,
        });
    }
    Ok(out)
}

/// The case's institution in the graph stage's risk ranking, with the terms that gave points.
fn institution_risk_evidence(
    conn: &Connection,
    case: &CaseRow,
) -> Result<Option<GraphEvidence>, CaseError> {
    let row = conn
        .query_row(
            "SELECT rank, score, evidence_json FROM institution_risk
             WHERE sweep_id = ?1 AND institution_id = ?2",
            params![case.sweep_id, case.institution_id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, f64>(1)?,
                    r.get::<_, rusqlite::types::Value>(2)?,
                ))
            },
        )
        .optional()?;
    let Some((rank, score, evidence)) = row else {
        return Ok(None);
    };
    let terms = crate::store::graph::risk_terms((&evidence).into()).map_err(|e| {
        CaseError::Malformed(format!(
            "institution_risk.evidence_json of {}: {e}",
            case.institution_id
        ))
    })?;
    let (mut zh, mut en) = (Vec::new(), Vec::new());
    for t in terms.iter().filter(|t| t.points != 0.0) {
        // Each term's text already states its value; the points say what it weighed.
        zh.push(format!("{}（+{:.1}）", t.zh, t.points));
        en.push(format!("{} (+{:.1})", t.en, t.points));
    }
    Ok(Some(GraphEvidence {
        kind: "institution_risk".into(),
        id: rank,
        score,
        explanation_zh: format!(
            "机构 {} 风险排名第 {rank}：{}",
            case.institution_id,
            zh.join("；")
        ),
        explanation_en: format!(
            "institution {} ranks {rank} in risk: {}",
            case.institution_id,
            en.join("; ")
        ),
        members: Vec::new(),
    }))
}

/// The claim rows behind a case as `state` had them, in the order an inspector reads them (one
/// person's claims together, by date); ids missing from that state come back with
/// `found: false`, claims a later ingest changed or removed say so in `since`.
pub fn claim_evidence(
    conn: &Connection,
    state: &LedgerState,
    ids: &[String],
) -> Result<Vec<ClaimEvidence>, CaseError> {
    let mut out: Vec<ClaimEvidence> = Vec::with_capacity(ids.len());
    for (found, id) in read::claims_by_ids(conn, state, ids)?.into_iter().zip(ids) {
        out.push(match found {
            Some(claim) => ClaimEvidence {
                since: claim_change_since(conn, state, id)?,
                claim,
                found: true,
            },
            None => ClaimEvidence {
                claim: read::ClaimRecord {
                    claim_id: id.clone(),
                    ..Default::default()
                },
                found: false,
                since: None,
            },
        });
    }
    // Claims of one person together, in date order: how an inspector reads a file.
    out.sort_by(|a, b| {
        let (a, b) = (&a.claim, &b.claim);
        (&a.id_number, &a.claim_date, &a.claim_id).cmp(&(&b.id_number, &b.claim_date, &b.claim_id))
    });
    Ok(out)
}

/// Registry rows of the case's persons, in ID-number order.
fn registry_evidence(
    conn: &Connection,
    state: &LedgerState,
    persons: &BTreeSet<String>,
) -> Result<Vec<RegistryEvidence>, CaseError> {
    let mut by_id: BTreeMap<String, RegistryEvidence> = persons
        .iter()
        .map(|p| {
            (
                p.clone(),
                RegistryEvidence {
                    id_number: p.clone(),
                    ..Default::default()
                },
            )
        })
        .collect();
    let found = read::registers_of(conn, state, persons.iter().map(String::as_str))?;
    for (id, date) in found.deaths {
        by_id.entry(id).or_default().death_date = Some(date);
    }
    for (id, date) in found.pensions {
        by_id.entry(id).or_default().pension_start = Some(date);
    }
    for ui in found.ui {
        by_id
            .entry(ui.id_number)
            .or_default()
            .ui
            .push((ui.months_paid, ui.as_of));
    }
    for id in found.poverty {
        by_id.entry(id).or_default().poverty = true;
    }
    for s in found.staff {
        by_id
            .entry(s.id_number)
            .or_default()
            .staff_of
            .push((s.institution_id, s.role));
    }
    for (id, inst) in found.legal_reps {
        by_id.entry(id).or_default().legal_rep_of.push(inst);
    }
    Ok(by_id.into_values().collect())
}

/// Most neighbours shown per case.
const NEIGHBOURS_PER_CASE: usize = 200;

/// Persons outside the case who share a phone or bank account with its claims: the first ring
/// of the graph neighbourhood, read straight from the ledger (one scan per identifier kind).
fn neighbours(
    conn: &Connection,
    state: &LedgerState,
    claims: &[ClaimEvidence],
    persons: &BTreeSet<String>,
) -> Result<Vec<NeighbourLink>, CaseError> {
    let mut out = Vec::new();
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
            if persons.contains(&h.id_number) {
                continue;
            }
            let shown = per_value.entry(h.value.clone()).or_default();
            if *shown >= NEIGHBOURS_PER_VALUE || out.len() >= NEIGHBOURS_PER_CASE {
                continue;
            }
            *shown += 1;
            out.push(NeighbourLink {
                via: via.column().to_string(),
                value: h.value,
                id_number: h.id_number,
                name: h.name,
                claims: h.claims,
            });
        }
    }
    Ok(out)
}

/// One case's place in a diff of two sweeps.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DiffEntry {
    pub case_id: i64,
    pub case_key: String,
    pub subject_kind: String,
    pub subject: String,
    pub rule_family: String,
    pub status: Status,
    pub claims_a: i64,
    pub claims_b: i64,
    pub amount_a_fen: Fen,
    pub amount_b_fen: Fen,
    pub score_b: f64,
    pub added_claims: usize,
    pub removed_claims: usize,
    pub new_rules: Vec<String>,
    pub reason_zh: String,
    pub reason_en: String,
}

/// Cases of sweep `b` compared with sweep `a`: new in `b`, in both, gone from `b`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepDiff {
    pub a: i64,
    pub b: i64,
    pub new: Vec<DiffEntry>,
    pub persisting: Vec<DiffEntry>,
    pub resolved: Vec<DiffEntry>,
}

impl SweepDiff {
    /// Persisting cases whose evidence grew (more claims, another rule or more money).
    pub fn grown(&self) -> impl Iterator<Item = &DiffEntry> {
        self.persisting.iter().filter(|e| {
            e.added_claims > 0 || !e.new_rules.is_empty() || e.amount_b_fen > e.amount_a_fen
        })
    }
}

struct Found {
    key: String,
    kind: String,
    subject: String,
    family: String,
    status: Status,
    score: f64,
    amount: Fen,
    rules: BTreeSet<String>,
    claims: BTreeSet<String>,
}

fn found_in(conn: &Connection, sweep: i64) -> Result<BTreeMap<i64, Found>, CaseError> {
    let mut stmt = conn.prepare(
        "SELECT c.case_id, c.case_key, c.subject_kind, c.subject, c.rule_family, c.status,
                s.score, s.amount_at_risk_fen, s.rules, s.claim_ids
         FROM case_sweeps s JOIN cases c ON c.case_id = s.case_id
         WHERE s.sweep_id = ?1 AND s.change <> 'resolved'",
    )?;
    let rows = stmt.query_map([sweep], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, f64>(6)?,
            r.get::<_, Fen>(7)?,
            r.get::<_, String>(8)?,
            r.get::<_, String>(9)?,
        ))
    })?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (id, key, kind, subject, family, status, score, amount, rules, claims) = row?;
        let status = Status::parse(&status)
            .ok_or_else(|| CaseError::Malformed(format!("case {id}: status {status}")))?;
        out.insert(
            id,
            Found {
                key,
                kind,
                subject,
                family,
                status,
                score,
                amount,
                rules: split(&rules).into_iter().collect(),
                claims: split(&claims).into_iter().collect(),
            },
        );
    }
    Ok(out)
}

/// Compares the cases of two built sweeps. New and persisting cases are ordered by score
/// (highest first), resolved ones by the amount they had; ties by case id.
pub fn diff(conn: &Connection, a: i64, b: i64) -> Result<SweepDiff, CaseError> {
    require_built(conn, a)?;
    require_built(conn, b)?;
    let in_a = found_in(conn, a)?;
    let in_b = found_in(conn, b)?;
    let empty = BTreeSet::new();
    let entry = |id: i64, fa: Option<&Found>, fb: Option<&Found>| {
        let base = fb.or(fa).expect("one side");
        let d = delta(
            fa.map_or(&empty, |f| &f.claims),
            fa.map_or(&empty, |f| &f.rules),
            fa.map_or(0, |f| f.amount),
            fb.map_or(&empty, |f| &f.claims),
            fb.map_or(&empty, |f| &f.rules),
            fb.map_or(0, |f| f.amount),
        );
        DiffEntry {
            case_id: id,
            case_key: base.key.clone(),
            subject_kind: base.kind.clone(),
            subject: base.subject.clone(),
            rule_family: base.family.clone(),
            status: base.status,
            claims_a: fa.map_or(0, |f| f.claims.len() as i64),
            claims_b: fb.map_or(0, |f| f.claims.len() as i64),
            amount_a_fen: fa.map_or(0, |f| f.amount),
            amount_b_fen: fb.map_or(0, |f| f.amount),
            score_b: fb.map_or(0.0, |f| f.score),
            added_claims: d.added_claims.len(),
            removed_claims: d.removed_claims.len(),
            new_rules: d.new_rules.clone(),
            reason_zh: d.describe_zh(),
            reason_en: d.describe_en(),
        }
    };
    let mut out = SweepDiff {
        a,
        b,
        new: Vec::new(),
        persisting: Vec::new(),
        resolved: Vec::new(),
    };
    for (id, fb) in &in_b {
        match in_a.get(id) {
            None => out.new.push(entry(*id, None, Some(fb))),
            Some(fa) => out.persisting.push(entry(*id, Some(fa), Some(fb))),
        }
    }
    for (id, fa) in &in_a {
        if !in_b.contains_key(id) {
            out.resolved.push(entry(*id, Some(fa), None));
        }
    }
    let by_score = |x: &DiffEntry, y: &DiffEntry| {
        y.score_b
            .total_cmp(&x.score_b)
            .then(x.case_id.cmp(&y.case_id))
    };
    out.new.sort_by(by_score);
    out.persisting.sort_by(by_score);
    out.resolved.sort_by(|x, y| {
        y.amount_a_fen
            .cmp(&x.amount_a_fen)
            .then(x.case_id.cmp(&y.case_id))
    });
    Ok(out)
}

/// One sweep and what its case build found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepRow {
    pub sweep_id: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub claims: i64,
    pub flags: i64,
    /// None when the sweep's cases were never built.
    pub cases: Option<CaseSummary>,
}

/// Every sweep, oldest first.
pub fn list_sweeps(conn: &Connection) -> Result<Vec<SweepRow>, CaseError> {
    let mut stmt = conn.prepare(
        "SELECT w.sweep_id, w.started_at, w.finished_at, w.claims,
                (SELECT count(*) FROM flags f WHERE f.sweep_id = w.sweep_id), b.summary_json
         FROM sweeps w LEFT JOIN case_builds b ON b.sweep_id = w.sweep_id
         ORDER BY w.sweep_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, Option<String>>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (sweep_id, started_at, finished_at, claims, flags, summary) = row?;
        let cases = match summary {
            Some(json) => Some(serde_json::from_str(&json).map_err(|e| {
                CaseError::Malformed(format!("case_builds.summary_json of sweep {sweep_id}: {e}"))
            })?),
            None => None,
        };
        out.push(SweepRow {
            sweep_id,
            started_at,
            finished_at,
            claims,
            flags,
            cases,
        });
    }
    Ok(out)
}

/// The graph stage's rules that cases carry besides the registry's: rings and institution risk.
const GRAPH_RULES: [(&str, &str, &str); 2] = [
    ("ring", "团伙", "ring"),
    ("institution_risk", "机构风险", "institution risk"),
];

/// A rule id people read: the rule's title (Chinese, or English with `Lang::En`); an id no
/// rule has is shown as it is.
pub fn rule_label(rule: &str, lang: super::Lang) -> String {
    if let Some((zh, en)) = crate::rules::rule_title(rule) {
        return lang.pick(zh, en).to_string();
    }
    GRAPH_RULES
        .iter()
        .find(|(id, _, _)| *id == rule)
        .map_or(rule, |(_, zh, en)| lang.pick(zh, en))
        .to_string()
}

/// A filter value `cases list` could not use: one line naming the option, the value and the
/// values it takes.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    #[error(transparent)]
    Case(#[from] CaseError),
    #[error("{option}：未知的值 `{value}`；可用的值 / unknown value, valid values: {valid}")]
    Unknown {
        option: &'static str,
        value: String,
        valid: String,
    },
    #[error(
        "{option}：`{value}` 对应多个 / matches several: {candidates}；请用代码 / use the code"
    )]
    Ambiguous {
        option: &'static str,
        value: String,
        candidates: String,
    },
}

impl From<rusqlite::Error> for FilterError {
    fn from(e: rusqlite::Error) -> Self {
        FilterError::Case(CaseError::Db(e))
    }
}

impl From<crate::store::StoreError> for FilterError {
    fn from(e: crate::store::StoreError) -> Self {
        FilterError::Case(CaseError::Store(e))
    }
}

/// Most candidates an error lists before "… N more".
const LISTED: usize = 12;

fn listed(items: &[String]) -> String {
    let mut s = items[..items.len().min(LISTED)].join(", ");
    if items.len() > LISTED {
        s.push_str(&format!(" … (+{})", items.len() - LISTED));
    }
    s
}

/// `--rule`: a rule id (`deceased`), its Chinese title (`死亡后申领`) or its English title.
pub fn resolve_rule(value: &str) -> Result<String, FilterError> {
    let v = value.trim();
    let registry = crate::rules::RULES
        .iter()
        .map(|r| (r.id, r.title_zh, r.title_en));
    let all: Vec<(&str, &str, &str)> = registry.chain(GRAPH_RULES).collect();
    if let Some((id, _, _)) = all
        .iter()
        .find(|(id, zh, en)| id.eq_ignore_ascii_case(v) || *zh == v || en.eq_ignore_ascii_case(v))
    {
        return Ok(id.to_string());
    }
    Err(FilterError::Unknown {
        option: "--rule",
        value: v.to_string(),
        valid: all
            .iter()
            .map(|(id, zh, _)| format!("{id} {zh}"))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// `--kind`: a subject kind's code (`person`) or Chinese label (`人员`).
pub fn resolve_kind(value: &str) -> Result<String, FilterError> {
    let v = value.trim();
    use super::CaseSubject;
    CaseSubject::ALL
        .into_iter()
        .find(|k| k.code().eq_ignore_ascii_case(v) || k.zh() == v)
        .map(|k| k.code().to_string())
        .ok_or_else(|| FilterError::Unknown {
            option: "--kind",
            value: v.to_string(),
            valid: CaseSubject::ALL
                .iter()
                .map(|k| format!("{} {}", k.code(), k.zh()))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// `--status`: a status code (`confirmed`) or Chinese label (`已确认`).
pub fn resolve_status(value: &str) -> Result<Status, FilterError> {
    Status::parse(value).ok_or_else(|| FilterError::Unknown {
        option: "--status",
        value: value.trim().to_string(),
        valid: Status::ALL
            .iter()
            .map(|s| format!("{} {}", s.code(), s.zh()))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// The county codes cases were found in, in code order.
fn case_counties(conn: &Connection) -> Result<Vec<String>, FilterError> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT county_code FROM cases WHERE county_code <> '' ORDER BY county_code",
    )?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A county's name for people (`兰山区`), or None when the reference data lacks the code.
pub fn county_name(code: &str) -> Option<&'static str> {
    crate::refdata::RefData::embedded().area_name(code)
}

/// `--county`: a six-digit code (`371311`) or a name (`罗庄区`, `临沂市罗庄区`, `罗庄`) of a
/// county cases were found in or of the Linyi prefecture.
pub fn resolve_county(conn: &Connection, value: &str) -> Result<String, FilterError> {
    let v = value.trim();
    let refdata = crate::refdata::RefData::embedded();
    let in_cases = case_counties(conn)?;
    if v.len() == 6 && v.bytes().all(|b| b.is_ascii_digit()) {
        if in_cases.iter().any(|c| c == v) || refdata.area_known(v) {
            return Ok(v.to_string());
        }
    } else {
        // Counties with cases first: a name shared by counties elsewhere means this ledger's.
        let mut known: Vec<(String, String)> = in_cases
            .iter()
            .map(|c| {
                (
                    c.clone(),
                    refdata.area_name(c).unwrap_or_default().to_string(),
                )
            })
            .collect();
        for (code, name) in refdata.linyi_counties() {
            if !known.iter().any(|(c, _)| c == code) {
                known.push((code.to_string(), name.to_string()));
            }
        }
        let full = |code: &str| {
            refdata
                .area(code)
                .map(|a| a.full_name())
                .unwrap_or_default()
        };
        let exact: Vec<&(String, String)> = known
            .iter()
            .filter(|(c, n)| {
                !n.is_empty() && (n == v || (v.ends_with(n.as_str()) && full(c).ends_with(v)))
            })
            .collect();
        let prefix: Vec<&(String, String)> = known
            .iter()
            .filter(|(_, n)| !n.is_empty() && n.starts_with(v))
            .collect();
        let found = if exact.is_empty() { prefix } else { exact };
        match found.as_slice() {
            [(code, _)] => return Ok(code.clone()),
            [] => {}
            many => {
                return Err(FilterError::Ambiguous {
                    option: "--county",
                    value: v.to_string(),
                    candidates: many
                        .iter()
                        .map(|(c, n)| format!("{c} {n}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                })
            }
        }
    }
    Err(FilterError::Unknown {
        option: "--county",
        value: v.to_string(),
        valid: listed(
            &in_cases
                .iter()
                .map(|c| {
                    format!("{c} {}", county_name(c).unwrap_or(""))
                        .trim()
                        .to_string()
                })
                .collect::<Vec<_>>(),
        ),
    })
}

/// An institution's name as the ledger of `sweep_id` had it (the current ledger when None).
pub fn institution_name(
    conn: &Connection,
    sweep_id: Option<i64>,
    institution_id: &str,
) -> Result<Option<String>, CaseError> {
    if institution_id.is_empty() {
        return Ok(None);
    }
    let state = match sweep_id {
        Some(s) => LedgerState::of_sweep(conn, s)?,
        None => LedgerState::current(conn)?,
    };
    Ok(read::institution_names(conn, &state)?
        .into_iter()
        .find(|i| i.institution_id == institution_id)
        .map(|i| i.name)
        .filter(|n| !n.is_empty()))
}

/// `--institution`: an institution id, or its name (exact, else a unique part of it).
pub fn resolve_institution(conn: &Connection, value: &str) -> Result<String, FilterError> {
    let v = value.trim();
    let mut stmt = conn.prepare(
        "SELECT DISTINCT institution_id FROM cases WHERE institution_id <> '' ORDER BY institution_id",
    )?;
    let in_cases: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    let mut names = read::institution_names(conn, &LedgerState::current(conn)?)?;
    names.sort_by(|a, b| a.institution_id.cmp(&b.institution_id));
    if let Some(id) = in_cases
        .iter()
        .find(|c| c.eq_ignore_ascii_case(v))
        .or_else(|| {
            names
                .iter()
                .map(|n| &n.institution_id)
                .find(|c| c.eq_ignore_ascii_case(v))
        })
    {
        return Ok(id.clone());
    }
    let exact: Vec<_> = names.iter().filter(|n| n.name == v).collect();
    let part: Vec<_> = names
        .iter()
        .filter(|n| !v.is_empty() && n.name.contains(v))
        .collect();
    let found = if exact.is_empty() { part } else { exact };
    match found.as_slice() {
        [one] => Ok(one.institution_id.clone()),
        [] => Err(FilterError::Unknown {
            option: "--institution",
            value: v.to_string(),
            // The institutions cases were found at, with their names where the ledger has them.
            valid: listed(
                &in_cases
                    .iter()
                    .map(|id| {
                        let name = names.iter().find(|n| &n.institution_id == id);
                        format!("{id} {}", name.map_or("", |n| n.name.as_str()))
                            .trim_end()
                            .to_string()
                    })
                    .collect::<Vec<_>>(),
            ),
        }),
        many => Err(FilterError::Ambiguous {
            option: "--institution",
            value: v.to_string(),
            candidates: listed(
                &many
                    .iter()
                    .map(|n| format!("{} {}", n.institution_id, n.name))
                    .collect::<Vec<_>>(),
            ),
        }),
    }
}

/// How many actions people took on cases (assignments, reviews): what a fresh database would
/// lose.
pub fn review_actions(conn: &Connection) -> Result<i64, CaseError> {
    let exists: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'case_history'",
        [],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(0);
    }
    Ok(conn.query_row(
        "SELECT count(*) FROM case_history WHERE action IN ('assign', 'start_review', 'review')",
        [],
        |r| r.get(0),
    )?)
}

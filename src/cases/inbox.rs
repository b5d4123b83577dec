//! The inspectors' inbox: every case that needs someone, across sweeps (a case stays findable
//! forever, whatever its status; "new", "persisting", "reopened" and "gone" are filters of
//! how its last sweep saw it), with filters whose values are checked, sorting and paging, and
//! the triage view that puts institution and ring cases first with the person and claim
//! cases they contain under them. Reads only; each page is a few indexed queries with
//! LIMIT/OFFSET, never a whole-table load.

use super::{CaseError, CaseSubject, Change, Status};
use crate::model::Fen;
use rusqlite::{params_from_iter, types::Value, Connection, OptionalExtension};
use serde::Serialize;

/// Which statuses the inbox shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StatusFilter {
    /// Open, in review, pending approval, returned, escalated; snoozed cases hidden.
    #[default]
    Active,
    Closed,
    All,
    One(Status),
}

impl StatusFilter {
    pub fn parse(s: &str) -> Result<StatusFilter, CaseError> {
        match s.trim() {
            "" | "active" | "待办" => Ok(StatusFilter::Active),
            "all" | "全部" => Ok(StatusFilter::All),
            "closed" | "已结案" => Ok(StatusFilter::Closed),
            other => Status::parse(other).map(StatusFilter::One).ok_or_else(|| {
                CaseError::Invalid(format!(
                    "未知状态 `{other}` / unknown status `{other}` (active, closed, all, {})",
                    Status::ALL.map(Status::code).join(", ")
                ))
            }),
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            StatusFilter::Active => "active",
            StatusFilter::Closed => "closed",
            StatusFilter::All => "all",
            StatusFilter::One(s) => s.code(),
        }
    }
}

/// How the last sweep that found a case saw it, or that the latest sweep no longer finds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeFilter {
    Is(Change),
    Gone,
}

impl ChangeFilter {
    pub fn parse(s: &str) -> Result<Option<ChangeFilter>, CaseError> {
        match s.trim() {
            "" => Ok(None),
            "gone" | "resolved" | "已消失" => Ok(Some(ChangeFilter::Gone)),
            other => Change::parse(other)
                .or_else(|| {
                    [Change::New, Change::Persisting, Change::Reopened]
                        .into_iter()
                        .find(|c| c.zh() == other)
                })
                .map(|c| Some(ChangeFilter::Is(c)))
                .ok_or_else(|| {
                    CaseError::Invalid(format!(
                        "未知变化 `{other}` / unknown change `{other}` (new, persisting, reopened, gone)"
                    ))
                }),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InboxSort {
    #[default]
    Score,
    Amount,
    Due,
    Updated,
    Id,
}

impl InboxSort {
    pub fn parse(s: &str) -> Result<InboxSort, CaseError> {
        Ok(match s.trim() {
            "" | "score" => InboxSort::Score,
            "amount" => InboxSort::Amount,
            "due" => InboxSort::Due,
            "updated" => InboxSort::Updated,
            "id" => InboxSort::Id,
            other => {
                return Err(CaseError::Invalid(format!(
                    "未知排序 `{other}` / unknown sort `{other}` (score, amount, due, updated, id)"
                )))
            }
        })
    }
    fn order_by(self) -> &'static str {
        match self {
            InboxSort::Score => "c.score DESC, c.amount_at_risk_fen DESC, c.case_id",
            InboxSort::Amount => "c.amount_at_risk_fen DESC, c.score DESC, c.case_id",
            InboxSort::Due => "(CASE WHEN c.due_at <> '' THEN c.due_at WHEN fd.days IS NOT NULL THEN date(c.created_at, '+' || fd.days || ' days') ELSE '' END) = '', (CASE WHEN c.due_at <> '' THEN c.due_at WHEN fd.days IS NOT NULL THEN date(c.created_at, '+' || fd.days || ' days') ELSE '' END), c.score DESC, c.case_id",
            InboxSort::Updated => "c.updated_at DESC, c.case_id",
            InboxSort::Id => "c.case_id",
        }
    }
}

/// Checked filters (build them with the `resolve_*` functions from what a person typed).
#[derive(Clone, Debug, Default)]
pub struct InboxFilter {
    pub status: StatusFilter,
    /// `Some("")`: unassigned cases.
    pub assignee: Option<String>,
    pub county: Option<String>,
    pub rule: Option<String>,
    pub institution: Option<String>,
    pub min_fen: Option<Fen>,
    pub max_fen: Option<Fen>,
    pub kind: Option<CaseSubject>,
    pub change: Option<ChangeFilter>,
    pub overdue: bool,
    /// Only snoozed cases (otherwise the active view hides them).
    pub snoozed: bool,
    pub case_ids: Option<Vec<i64>>,
    pub sort: InboxSort,
    pub offset: usize,
    pub limit: usize,
}

/// One case in the inbox.
#[derive(Clone, Debug, Serialize)]
pub struct InboxRow {
    pub case_id: i64,
    pub subject_kind: String,
    pub subject: String,
    pub rule_family: String,
    pub county_code: String,
    pub institution_id: String,
    pub institution_name: String,
    pub status: String,
    pub assignee: String,
    pub score: f64,
    pub amount_at_risk_fen: Fen,
    pub claims: i64,
    pub rules: String,
    /// new | persisting | reopened, or `gone` when the latest sweep no longer finds it.
    pub change: String,
    pub first_sweep_id: i64,
    pub last_sweep_id: i64,
    pub created_at: String,
    pub updated_at: String,
    /// UTC day `YYYY-MM-DD` (the case's own, else the family's days from when it was found).
    pub due: String,
    pub overdue: bool,
    pub snoozed_until: String,
}

const ACTIVE: &str = "('open','in_review','pending_approval','returned','escalated')";

/// The latest sweep whose cases were built (0 when none).
fn latest(conn: &Connection) -> Result<i64, CaseError> {
    Ok(conn.query_row(
        "SELECT coalesce(max(sweep_id), 0) FROM case_builds",
        [],
        |r| r.get(0),
    )?)
}

/// `FROM … WHERE …` of a filter with its arguments: the cases table, and only the joins the
/// filter and sort need (so counting and choosing a page's ids touch nothing else). With
/// `driver`, a subquery of case ids is read first and the cases looked up by id (a set of
/// cases known in advance: the triage's contained cases), instead of scanning the cases.
fn from_where(
    conn: &Connection,
    f: &InboxFilter,
    now: &str,
    driver: Option<&str>,
) -> Result<(String, Vec<Value>), CaseError> {
    let latest = latest(conn)?;
    let mut sql = match driver {
        Some(d) => format!(" FROM ({d}) k CROSS JOIN cases c ON c.case_id = k.case_id"),
        None => String::from(" FROM cases c"),
    };
    if f.change.is_some() {
        sql.push_str(
            " LEFT JOIN case_sweeps s ON s.case_id = c.case_id AND s.sweep_id = c.last_sweep_id",
        );
    }
    if f.overdue || f.sort == InboxSort::Due {
        sql.push_str(" LEFT JOIN case_family_due fd ON fd.rule_family = c.rule_family");
    }
    sql.push_str(" WHERE 1");
    let mut args: Vec<Value> = Vec::new();
    // Each `?` of a condition becomes the number of the argument pushed with it.
    let mut add = |sql: &mut String, cond: &str, v: Option<Value>| {
        if let Some(v) = v {
            args.push(v);
            sql.push_str(&cond.replace('?', &format!("?{}", args.len())));
        } else {
            sql.push_str(cond);
        }
    };
    match f.status {
        StatusFilter::Active => {
            if !f.snoozed {
                add(
                    &mut sql,
                    " AND c.snoozed_until <= ?",
                    Some(now.to_string().into()),
                );
            }
            add(&mut sql, &format!(" AND c.status IN {ACTIVE}"), None);
        }
        StatusFilter::Closed => add(&mut sql, " AND c.status IN ('confirmed','dismissed')", None),
        StatusFilter::All => {}
        StatusFilter::One(s) => add(
            &mut sql,
            " AND c.status = ?",
            Some(s.code().to_string().into()),
        ),
    }
    if f.snoozed {
        add(
            &mut sql,
            " AND c.snoozed_until > ?",
            Some(now.to_string().into()),
        );
    }
    if let Some(a) = &f.assignee {
        add(&mut sql, " AND c.assignee = ?", Some(a.clone().into()));
    }
    if let Some(c) = &f.county {
        add(&mut sql, " AND c.county_code = ?", Some(c.clone().into()));
    }
    if let Some(r) = &f.rule {
        add(
            &mut sql,
            " AND instr(';' || c.rules || ';', ';' || ? || ';') > 0",
            Some(r.clone().into()),
        );
    }
    if let Some(i) = &f.institution {
        add(
            &mut sql,
            " AND c.institution_id = ?",
            Some(i.clone().into()),
        );
    }
    if let Some(v) = f.min_fen {
        add(&mut sql, " AND c.amount_at_risk_fen >= ?", Some(v.into()));
    }
    if let Some(v) = f.max_fen {
        add(&mut sql, " AND c.amount_at_risk_fen <= ?", Some(v.into()));
    }
    if let Some(k) = f.kind {
        add(
            &mut sql,
            " AND c.subject_kind = ?",
            Some(k.code().to_string().into()),
        );
    }
    match f.change {
        Some(ChangeFilter::Is(ch)) => {
            add(&mut sql, " AND c.last_sweep_id = ?", Some(latest.into()));
            add(
                &mut sql,
                " AND s.change = ?",
                Some(ch.code().to_string().into()),
            );
        }
        Some(ChangeFilter::Gone) => add(&mut sql, " AND c.last_sweep_id < ?", Some(latest.into())),
        None => {}
    }
    if f.overdue {
        add(
            &mut sql,
            &format!(" AND c.status IN {ACTIVE} AND ({DUE}) <> '' AND ({DUE}) < substr(?, 1, 10)"),
            Some(now.to_string().into()),
        );
    }
    if let Some(ids) = &f.case_ids {
        add(
            &mut sql,
            " AND c.case_id IN (SELECT value FROM json_each(?))",
            Some(serde_json::to_string(ids).unwrap_or_default().into()),
        );
    }
    Ok((sql, args))
}

/// The effective due day of a case, in SQL.
const DUE: &str = "CASE WHEN c.due_at <> '' THEN c.due_at
     WHEN fd.days IS NOT NULL THEN date(c.created_at, '+' || fd.days || ' days') ELSE '' END";

fn columns(latest: i64) -> String {
    format!(
        "c.case_id, c.subject_kind, c.subject, c.rule_family, c.county_code, c.institution_id,
         coalesce(i.name, ''), c.status, c.assignee, c.score, c.amount_at_risk_fen, c.claims,
         c.rules, CASE WHEN c.last_sweep_id < {latest} THEN 'gone' ELSE coalesce(s.change, 'new') END,
         c.first_sweep_id, c.last_sweep_id, c.created_at, c.updated_at, {DUE} AS due,
         c.snoozed_until"
    )
}

fn row_from(r: &rusqlite::Row, today: &str) -> rusqlite::Result<InboxRow> {
    let status: String = r.get(7)?;
    let due: String = r.get(18)?;
    let open = Status::parse(&status).is_some_and(|s| !s.is_closed());
    Ok(InboxRow {
        case_id: r.get(0)?,
        subject_kind: r.get(1)?,
        subject: r.get(2)?,
        rule_family: r.get(3)?,
        county_code: r.get(4)?,
        institution_id: r.get(5)?,
        institution_name: r.get(6)?,
        overdue: open && !due.is_empty() && due.as_str() < today,
        status,
        assignee: r.get(8)?,
        score: r.get(9)?,
        amount_at_risk_fen: r.get(10)?,
        claims: r.get(11)?,
        rules: r.get(12)?,
        change: r.get(13)?,
        first_sweep_id: r.get(14)?,
        last_sweep_id: r.get(15)?,
        created_at: r.get(16)?,
        updated_at: r.get(17)?,
        due,
        snoozed_until: r.get(19)?,
    })
}

/// The rows of the cases a filter's `FROM … WHERE …` chooses, ordered, `limit` from `offset`:
/// the ids are chosen on the cases alone, then only those rows are joined for display.
fn page_rows(
    conn: &Connection,
    from: &str,
    args: &[Value],
    sort: InboxSort,
    limit: usize,
    offset: usize,
    today: &str,
) -> Result<Vec<InboxRow>, CaseError> {
    let sql = format!(
        "SELECT {} FROM (SELECT c.case_id AS id {from} ORDER BY {order} LIMIT {limit} OFFSET {offset}) p
         JOIN cases c ON c.case_id = p.id
         LEFT JOIN case_sweeps s ON s.case_id = c.case_id AND s.sweep_id = c.last_sweep_id
         LEFT JOIN institutions i ON i.institution_id = c.institution_id
         LEFT JOIN case_family_due fd ON fd.rule_family = c.rule_family
         ORDER BY {order}",
        columns(latest(conn)?),
        order = sort.order_by(),
        limit = limit.max(1),
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st
        .query_map(params_from_iter(args.iter()), |r| row_from(r, today))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// One page of the inbox and how many cases the filter matches in all.
pub fn inbox(conn: &Connection, f: &InboxFilter) -> Result<(Vec<InboxRow>, i64), CaseError> {
    let now = crate::dates::now_timestamp();
    let (from, args) = from_where(conn, f, &now, None)?;
    let total: i64 = conn.query_row(
        &format!("SELECT count(*) {from}"),
        params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    let rows = page_rows(conn, &from, &args, f.sort, f.limit, f.offset, &now[..10])?;
    Ok((rows, total))
}

/// One case's inbox row (whatever its status).
pub fn case_row(conn: &Connection, case_id: i64) -> Result<InboxRow, CaseError> {
    let f = InboxFilter {
        status: StatusFilter::All,
        case_ids: Some(vec![case_id]),
        limit: 1,
        ..Default::default()
    };
    inbox(conn, &f)?.0.pop().ok_or(CaseError::NoCase(case_id))
}

/// An institution or ring case with the cases it contains.
#[derive(Clone, Debug, Serialize)]
pub struct TriageGroup {
    pub parent: InboxRow,
    /// The first contained cases (by score) that match the filter.
    pub children: Vec<InboxRow>,
    pub child_total: i64,
}

/// Filtered cases under no institution or ring case, by the institution they are at.
#[derive(Clone, Debug, Serialize)]
pub struct LooseGroup {
    pub institution_id: String,
    pub institution_name: String,
    pub cases: i64,
    pub amount_at_risk_fen: Fen,
    pub top_score: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Loose {
    pub cases: i64,
    /// How many institutions they are at: one decision each.
    pub groups: i64,
    /// The first groups, highest score first.
    pub by_institution: Vec<LooseGroup>,
}

/// The triage view: a page of institution and ring cases (filtered), each with the person,
/// claim, class and contact cases it contains (same filter); and the filtered cases under no
/// institution or ring case, grouped by institution. Decisions = parents + those groups.
pub fn triage(
    conn: &Connection,
    f: &InboxFilter,
    children_shown: usize,
) -> Result<(Vec<TriageGroup>, i64, Loose), CaseError> {
    let now = crate::dates::now_timestamp();
    let today = &now[..10];
    let latest_sweep = latest(conn)?;
    let mut parents_f = f.clone();
    parents_f.kind = None;
    let (from, args) = from_where(conn, &parents_f, &now, None)?;
    let parent_from = format!("{from} AND c.subject_kind IN ('institution','ring')");
    let parents = page_rows(conn, &parent_from, &args, f.sort, f.limit, f.offset, today)?;
    let total_parents: i64 = conn.query_row(
        &format!("SELECT count(*) {parent_from}"),
        params_from_iter(args.iter()),
        |r| r.get(0),
    )?;
    let mut groups = Vec::with_capacity(parents.len());
    for parent in parents {
        let (institutions, persons) = contained(conn, &parent)?;
        // The contained cases are looked up through the institution and subject indexes.
        let lit = |v: &Vec<String>| sql_text(&serde_json::to_string(v).unwrap_or_default());
        let driver = format!(
            "SELECT case_id FROM cases WHERE institution_id IN (SELECT value FROM json_each({}))
             UNION SELECT case_id FROM cases WHERE subject IN (SELECT value FROM json_each({}))",
            lit(&institutions),
            lit(&persons)
        );
        let (child_from, child_args) = from_where(conn, &parents_f, &now, Some(&driver))?;
        let child_from = format!("{child_from} AND c.subject_kind NOT IN ('institution','ring')");
        let child_total: i64 = conn.query_row(
            &format!("SELECT count(*) {child_from}"),
            params_from_iter(child_args.iter()),
            |r| r.get(0),
        )?;
        let children = page_rows(
            conn,
            &child_from,
            &child_args,
            f.sort,
            children_shown,
            0,
            today,
        )?;
        groups.push(TriageGroup {
            parent,
            children,
            child_total,
        });
    }
    // Cases under no institution case and no ring of the latest sweep, grouped by institution:
    // each group is one decision to make (with the inbox filtered to it).
    let loose_cond = format!(
        " AND c.subject_kind NOT IN ('institution','ring')
         AND c.institution_id NOT IN (SELECT subject FROM cases WHERE subject_kind = 'institution')
         AND c.subject NOT IN (SELECT value FROM ring_members WHERE kind = 'person' AND sweep_id = {latest_sweep})"
    );
    let loose_cond = if crate::store::table_exists(conn, "ring_members")? {
        loose_cond
    } else {
        " AND c.subject_kind NOT IN ('institution','ring')
          AND c.institution_id NOT IN (SELECT subject FROM cases WHERE subject_kind = 'institution')"
            .to_string()
    };
    // One pass groups them all (a few hundred institutions); names only for those shown.
    let mut st = conn.prepare(&format!(
        "SELECT c.institution_id, count(*), sum(c.amount_at_risk_fen), max(c.score)
         {from}{loose_cond} GROUP BY c.institution_id"
    ))?;
    let mut all = st
        .query_map(params_from_iter(args.iter()), |r| {
            Ok(LooseGroup {
                institution_id: r.get(0)?,
                institution_name: String::new(),
                cases: r.get(1)?,
                amount_at_risk_fen: r.get(2)?,
                top_score: r.get(3)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let loose: i64 = all.iter().map(|g| g.cases).sum();
    let loose_groups = all.len() as i64;
    all.sort_by(|a, b| {
        b.top_score
            .partial_cmp(&a.top_score)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.institution_id.cmp(&b.institution_id))
    });
    all.truncate(f.limit.max(1));
    let ids: Vec<String> = all.iter().map(|g| g.institution_id.clone()).collect();
    let names: std::collections::HashMap<String, String> =
        institution_names(conn, &ids)?.into_iter().collect();
    let by_institution: Vec<LooseGroup> = all
        .into_iter()
        .map(|mut g| {
            g.institution_name = names.get(&g.institution_id).cloned().unwrap_or_default();
            g
        })
        .collect();
    let loose = Loose {
        cases: loose,
        groups: loose_groups,
        by_institution,
    };
    Ok((groups, total_parents, loose))
}

/// Text as an SQL string literal.
fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The institutions and persons an institution or ring case contains.
fn contained(
    conn: &Connection,
    parent: &InboxRow,
) -> Result<(Vec<String>, Vec<String>), CaseError> {
    if parent.subject_kind == "institution" {
        return Ok((vec![parent.subject.clone()], Vec::new()));
    }
    let ring_ids = ring_ids(conn, parent.case_id, parent.last_sweep_id)?;
    let mut institutions = Vec::new();
    let mut persons = Vec::new();
    // A ring contains its members' own cases; its institutions' other cases stay under the
    // institution (a ring can span a dozen institutions and their thousands of cases).
    for (kind, value) in ring_members(conn, parent.last_sweep_id, &ring_ids)? {
        if kind == "person" {
            persons.push(value);
        }
    }
    institutions.clear();
    Ok((institutions, persons))
}

/// The graph rings behind a ring case in a sweep.
pub fn ring_ids(conn: &Connection, case_id: i64, sweep_id: i64) -> Result<Vec<i64>, CaseError> {
    let detail: Option<String> = conn
        .query_row(
            "SELECT detail_json FROM case_sweeps WHERE case_id = ?1 AND sweep_id = ?2",
            [case_id, sweep_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(detail
        .and_then(|d| serde_json::from_str::<serde_json::Value>(&d).ok())
        .and_then(|v| {
            v.get("ring_ids")
                .and_then(|r| r.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_i64()).collect::<Vec<_>>())
        })
        .unwrap_or_default())
}

/// `(kind, value)` of the members of rings of a sweep, in a stable order.
pub fn ring_members(
    conn: &Connection,
    sweep_id: i64,
    ring_ids: &[i64],
) -> Result<Vec<(String, String)>, CaseError> {
    if ring_ids.is_empty() || !crate::store::table_exists(conn, "ring_members")? {
        return Ok(Vec::new());
    }
    let mut st = conn.prepare_cached(
        "SELECT DISTINCT kind, value FROM ring_members
         WHERE sweep_id = ?1 AND ring_id IN (SELECT value FROM json_each(?2)) ORDER BY kind, value",
    )?;
    let ids = serde_json::to_string(ring_ids).unwrap_or_default();
    let rows = st.query_map(rusqlite::params![sweep_id, ids], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The case of a subject (e.g. a ring member's person case), the highest-scoring one.
pub fn case_of_subject(conn: &Connection, subject: &str) -> Result<Option<i64>, CaseError> {
    Ok(conn
        .query_row(
            "SELECT case_id FROM cases WHERE subject = ?1 ORDER BY score DESC, case_id LIMIT 1",
            [subject],
            |r| r.get(0),
        )
        .optional()?)
}

/// A county typed by code (`371302`) or name (`兰山区`, `兰山`): the code of a county some case
/// is in.
pub fn resolve_county(conn: &Connection, text: &str) -> Result<String, CaseError> {
    let t = text.trim();
    let mut st = conn.prepare_cached("SELECT DISTINCT county_code FROM cases ORDER BY 1")?;
    let codes = st
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    if codes.iter().any(|c| c == t) {
        return Ok(t.to_string());
    }
    let refdata = crate::refdata::RefData::embedded();
    let named: Vec<&String> = codes
        .iter()
        .filter(|c| {
            refdata
                .area_name(c)
                .is_some_and(|n| n == t || (!t.is_empty() && n.contains(t)))
        })
        .collect();
    match named.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(CaseError::Invalid(format!(
            "没有案件在县区 `{t}` / no case in county `{t}` (code or name)"
        ))),
        many => Err(CaseError::Invalid(format!(
            "县区 `{t}` 不唯一 / county `{t}` is ambiguous: {}",
            many.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// A rule typed by id (`deceased`) or Chinese title.
pub fn resolve_rule(text: &str) -> Result<&'static str, CaseError> {
    let t = text.trim();
    crate::rules::RULES
        .iter()
        .find(|r| r.id == t || r.title_zh == t || r.title_en.eq_ignore_ascii_case(t))
        .map(|r| r.id)
        .ok_or_else(|| {
            CaseError::Invalid(format!(
                "未知规则 `{t}` / unknown rule `{t}` ({})",
                crate::rules::RULE_IDS.join(", ")
            ))
        })
}

/// An institution typed by id or (part of) its name: the id of an institution some case has.
pub fn resolve_institution(conn: &Connection, text: &str) -> Result<String, CaseError> {
    let t = text.trim();
    let exact: Option<String> = conn
        .query_row(
            "SELECT institution_id FROM cases WHERE institution_id = ?1 LIMIT 1",
            [t],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = exact {
        return Ok(id);
    }
    let mut st = conn.prepare_cached(
        "SELECT institution_id, name FROM institutions WHERE name = ?1 OR instr(name, ?1) > 0
         ORDER BY name = ?1 DESC, institution_id LIMIT 6",
    )?;
    let found = st
        .query_map([t], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    match found.as_slice() {
        [] => Err(CaseError::Invalid(format!(
            "没有机构 `{t}` / no institution `{t}` (id or name)"
        ))),
        [(id, name), ..] if name == t => Ok(id.clone()),
        [(id, _)] => Ok(id.clone()),
        many => Err(CaseError::Invalid(format!(
            "机构 `{t}` 不唯一 / institution `{t}` is ambiguous: {}",
            many.iter()
                .map(|(_, n)| n.as_str())
                .collect::<Vec<_>>()
                .join("、")
        ))),
    }
}

/// A subject kind typed by code or Chinese label.
pub fn resolve_kind(text: &str) -> Result<CaseSubject, CaseError> {
    let t = text.trim();
    CaseSubject::parse(t)
        .or_else(|| {
            CaseSubject::ALL
                .into_iter()
                .find(|k| k.label(crate::text::Lang::Zh) == t)
        })
        .ok_or_else(|| {
            CaseError::Invalid(format!(
                "未知对象类型 `{t}` / unknown subject kind `{t}` ({})",
                CaseSubject::ALL.map(|k| k.code()).join(", ")
            ))
        })
}

/// An amount typed in yuan (`1200`, `1,200.50`) as fen.
pub fn parse_yuan(text: &str) -> Result<Fen, CaseError> {
    let t: String = text
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '，')
        .collect();
    let (int, frac) = t.split_once('.').unwrap_or((&t, ""));
    let ok = !int.is_empty()
        && int.len() <= 12
        && int.chars().all(|c| c.is_ascii_digit())
        && frac.len() <= 2
        && frac.chars().all(|c| c.is_ascii_digit());
    if !ok {
        return Err(CaseError::Invalid(format!(
            "`{text}` 不是元金额 / `{text}` is not an amount in yuan (e.g. 1200 or 1200.50)"
        )));
    }
    let frac: i64 = format!("{frac:0<2}").parse().unwrap_or(0);
    Ok(int.parse::<i64>().unwrap_or(0) * 100 + frac)
}

/// The case in one sweep that found it (or the sweep it was gone in).
#[derive(Clone, Debug, Serialize)]
pub struct SweepLine {
    pub sweep_id: i64,
    pub change: String,
    pub amount_at_risk_fen: Fen,
    pub claims: i64,
    pub reason_zh: String,
    pub reason_en: String,
}

/// What a case page shows: the case, its sweeps, flags, one page of claims, its ring members
/// and its history. Claims are read a page at a time (an institution case may hold thousands).
#[derive(Clone, Debug, Serialize)]
pub struct CasePage {
    pub case: InboxRow,
    pub policy: String,
    pub sweeps: Vec<SweepLine>,
    pub flags: Vec<super::FlagEvidence>,
    pub claims: Vec<super::ClaimEvidence>,
    pub claims_total: usize,
    pub ring_members: Vec<(String, String)>,
    /// Why a ring or institution case was opened: `(zh, en)` lines of the graph's findings.
    pub graph_why: Vec<(String, String)>,
    pub history: Vec<super::HistoryEntry>,
    /// history_id → the entry it corrects.
    pub corrections: Vec<(i64, i64)>,
}

pub fn case_page(
    conn: &Connection,
    case_id: i64,
    claim_offset: usize,
    claim_limit: usize,
) -> Result<CasePage, CaseError> {
    let case = case_row(conn, case_id)?;
    let sweep = case.last_sweep_id;
    let mut st = conn.prepare_cached(
        "SELECT sweep_id, change, amount_at_risk_fen, claims, detail_json FROM case_sweeps
         WHERE case_id = ?1 ORDER BY sweep_id",
    )?;
    let mut sweeps = Vec::new();
    let mut claim_ids = Vec::new();
    let mut rows = st.query([case_id])?;
    while let Some(r) = rows.next()? {
        let detail = super::history::ChangeDetail::parse(&r.get::<_, String>(4)?, case_id)?
            .for_change(r.get_ref(1)?.as_str().unwrap_or(""));
        let sweep_id: i64 = r.get(0)?;
        sweeps.push(SweepLine {
            sweep_id,
            change: r.get(1)?,
            amount_at_risk_fen: r.get(2)?,
            claims: r.get(3)?,
            reason_zh: detail.reason_zh.unwrap_or_default(),
            reason_en: detail.reason_en.unwrap_or_default(),
        });
    }
    drop(rows);
    if let Some(ids) = conn
        .query_row(
            "SELECT claim_ids FROM case_sweeps WHERE case_id = ?1 AND sweep_id = ?2",
            [case_id, sweep],
            |r| r.get::<_, String>(0),
        )
        .optional()?
    {
        claim_ids = ids
            .split(';')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
    }
    let policy: String = conn
        .query_row(
            "SELECT policy FROM sweeps WHERE sweep_id = ?1",
            [sweep],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_default();
    let flags = super::query::case_flags(conn, case_id, sweep)?;
    let state = crate::store::history::LedgerState::of_sweep(conn, sweep)?;
    let start = claim_offset.min(claim_ids.len());
    let end = (start + claim_limit).min(claim_ids.len());
    let claims = super::query::claim_evidence(conn, &state, &claim_ids[start..end])?;
    let mut graph_why = Vec::new();
    let ring_members = if case.subject_kind == "ring" {
        let ids = ring_ids(conn, case_id, sweep)?;
        let mut st = conn.prepare_cached(
            "SELECT ring_id, explanation_zh, explanation_en FROM rings
             WHERE sweep_id = ?1 AND ring_id IN (SELECT value FROM json_each(?2)) ORDER BY ring_id",
        )?;
        let rows = st.query_map(
            rusqlite::params![sweep, serde_json::to_string(&ids).unwrap_or_default()],
            |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let texts = crate::store::graph::ring_texts(conn, sweep);
        for r in rows {
            let (id, mut zh, mut en) = r?;
            texts.fill(id, &mut zh, &mut en)?;
            graph_why.push((zh, en));
        }
        ring_members(conn, sweep, &ids)?
    } else {
        Vec::new()
    };
    if case.subject_kind == "institution" && crate::store::table_exists(conn, "institution_risk")? {
        let mut st = conn.prepare_cached(
            "SELECT rank, score, claims, flagged_claims, amount_at_risk_fen FROM institution_risk
             WHERE sweep_id = ?1 AND institution_id = ?2",
        )?;
        let rows = st.query_map(rusqlite::params![sweep, case.subject], |r| {
            let (rank, score, claims, flagged, fen): (i64, f64, i64, i64, i64) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
            let yuan = crate::model::fen_to_yuan_grouped(fen);
            Ok((
                format!("机构风险排名第 {rank}（风险分 {score:.1}）：{claims} 笔申领中 {flagged} 笔被规则标记，涉及 {yuan} 元"),
                format!("institution risk rank {rank} (score {score:.1}): {flagged} of {claims} claims flagged, {yuan} yuan at risk"),
            ))
        })?;
        for r in rows {
            graph_why.push(r?);
        }
    }
    let history = super::query::history(conn, case_id)?;
    let mut corrections = Vec::new();
    let mut st = conn.prepare_cached(
        "SELECT history_id, corrects FROM case_history WHERE case_id = ?1 AND corrects IS NOT NULL",
    )?;
    let rows = st.query_map([case_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    for r in rows {
        corrections.push(r?);
    }
    Ok(CasePage {
        case,
        policy,
        sweeps,
        flags,
        claims,
        claims_total: claim_ids.len(),
        ring_members,
        graph_why,
        history,
        corrections,
    })
}

/// One claim of a neighbourhood: `(id_number, name, phone, bank_account, institution_id)`.
pub type NeighbourRow = (String, String, String, String, String);

/// Persons (id number, name), phones and bank accounts sharing claims with the given id
/// numbers, for a neighbourhood picture: `(id_number, name, phone, bank_account,
/// institution_id)` of up to `limit` claims of those persons and of other persons on their
/// phones and accounts (indexed look-ups; the picture is bounded, never the whole graph).
pub fn neighbourhood(
    conn: &Connection,
    id_numbers: &[String],
    limit: usize,
) -> Result<Vec<NeighbourRow>, CaseError> {
    use crate::store::lookup::{BANK_ACCOUNT, ID_NUMBER, PHONE};
    let ids = serde_json::to_string(id_numbers).unwrap_or_default();
    let mut st = conn.prepare_cached(&format!(
        "WITH own AS (
           SELECT id_number, name, phone, bank_account, institution_id FROM claims
           WHERE {} LIMIT ?2),
         links AS (
           SELECT c.id_number, c.name, c.phone, c.bank_account, c.institution_id FROM claims c
           WHERE {}
           UNION
           SELECT c.id_number, c.name, c.phone, c.bank_account, c.institution_id FROM claims c
           WHERE {})
         SELECT DISTINCT * FROM (SELECT * FROM own UNION SELECT * FROM links) ORDER BY 1, 3, 4, 5 LIMIT ?2",
        ID_NUMBER.within("", "value", "json_each(?1)"),
        PHONE.within("c.", "phone", "own WHERE phone <> ''"),
        BANK_ACCOUNT.within("c.", "bank_account", "own WHERE bank_account <> ''"),
    ))?;
    let rows = st.query_map(rusqlite::params![ids, limit as i64], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Institution names by id.
pub fn institution_names(
    conn: &Connection,
    ids: &[String],
) -> Result<Vec<(String, String)>, CaseError> {
    let mut st = conn.prepare_cached(
        "SELECT institution_id, name FROM institutions WHERE institution_id IN (SELECT value FROM json_each(?1)) ORDER BY 1",
    )?;
    let rows = st.query_map([serde_json::to_string(ids).unwrap_or_default()], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

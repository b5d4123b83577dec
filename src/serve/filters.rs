//! The inbox's filters from a query string, each value checked (a county by code or name, a
//! rule by id or Chinese title, an institution by id or name, amounts in yuan); a value that
//! does not check is reported and not applied, never silently widened or narrowed.

use super::http::{encode, Req};
use crate::cases::inbox::{self, ChangeFilter, InboxFilter, InboxSort, StatusFilter};
use rusqlite::Connection;

/// Keys of the filter form, in the order a link repeats them.
pub const KEYS: &[&str] = &[
    "status",
    "assignee",
    "county",
    "rule",
    "institution",
    "min",
    "max",
    "kind",
    "change",
    "overdue",
    "snoozed",
    "sort",
    "view",
    "per",
];

pub struct Parsed {
    pub filter: InboxFilter,
    pub errors: Vec<String>,
    pub triage: bool,
    pub page: usize,
    pub per_page: usize,
}

/// Rows per page unless `per` says otherwise (at most `MAX_PER`).
pub const PER_PAGE: usize = 50;
pub const MAX_PER: usize = 500;

pub fn parse(conn: &Connection, req: &Req, me: &str) -> Parsed {
    let mut f = InboxFilter::default();
    let mut errors = Vec::new();
    let mut check = |r: Result<(), crate::cases::CaseError>| {
        if let Err(e) = r {
            errors.push(e.to_string());
        }
    };
    let v = |k: &str| req.q(k).trim().to_string();
    check(StatusFilter::parse(&v("status")).map(|s| f.status = s));
    match v("assignee").as_str() {
        "" => {}
        "me" => f.assignee = Some(me.to_string()),
        "none" => f.assignee = Some(String::new()),
        name => f.assignee = Some(name.to_string()),
    }
    if !v("county").is_empty() {
        check(inbox::resolve_county(conn, &v("county")).map(|c| f.county = Some(c)));
    }
    if !v("rule").is_empty() {
        check(inbox::resolve_rule(&v("rule")).map(|r| f.rule = Some(r.to_string())));
    }
    if !v("institution").is_empty() {
        check(inbox::resolve_institution(conn, &v("institution")).map(|i| f.institution = Some(i)));
    }
    if !v("min").is_empty() {
        check(inbox::parse_yuan(&v("min")).map(|x| f.min_fen = Some(x)));
    }
    if !v("max").is_empty() {
        check(inbox::parse_yuan(&v("max")).map(|x| f.max_fen = Some(x)));
    }
    if let (Some(a), Some(b)) = (f.min_fen, f.max_fen) {
        if a > b {
            f.max_fen = None;
            check(Err(crate::cases::CaseError::Invalid(
                "最小金额大于最大金额 / min amount is above max amount".into(),
            )));
        }
    }
    if !v("kind").is_empty() {
        check(inbox::resolve_kind(&v("kind")).map(|k| f.kind = Some(k)));
    }
    check(ChangeFilter::parse(&v("change")).map(|c| f.change = c));
    f.overdue = v("overdue") == "1";
    f.snoozed = v("snoozed") == "1";
    check(InboxSort::parse(&v("sort")).map(|s| f.sort = s));
    let per_page = v("per")
        .parse::<usize>()
        .unwrap_or(PER_PAGE)
        .clamp(1, MAX_PER);
    let page = v("page").parse::<usize>().unwrap_or(1).max(1);
    f.offset = (page - 1) * per_page;
    f.limit = per_page;
    Parsed {
        filter: f,
        errors,
        triage: v("view") == "triage",
        page,
        per_page,
    }
}

/// The request's filters as a query string with `page` (and `view`) replaced.
pub fn link(req: &Req, page: Option<usize>, view: Option<&str>) -> String {
    let mut parts = Vec::new();
    for k in KEYS {
        let val = match (*k, view) {
            ("view", Some(v)) => v.to_string(),
            _ => req.q(k).to_string(),
        };
        if !val.is_empty() {
            parts.push(format!("{k}={}", encode(&val)));
        }
    }
    if let Some(p) = page {
        parts.push(format!("page={p}"));
    }
    parts.join("&")
}

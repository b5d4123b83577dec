//! The inbox page (flat list or triage), bulk actions on the selected cases, and "next
//! unassigned case".

use super::auth::Session;
use super::filters;
use super::html::{self, csrf_field, esc, ledger, t};
use super::http::{Req, Resp};
use super::ServeError;
use crate::cases::inbox::{self, InboxRow};
use crate::cases::workflow::{self, Kind, Request};
use crate::text::Lang;
use rusqlite::Connection;

fn county_text(code: &str) -> String {
    match crate::refdata::RefData::embedded().area_name(code) {
        Some(n) => format!("{n} {code}"),
        None => code.to_string(),
    }
}

/// One case as a table row (with its selection box when `select`).
pub fn row_html(r: &InboxRow, lang: Lang, select: bool, class: &str) -> String {
    let rules: Vec<String> = r
        .rules
        .split(';')
        .filter(|x| !x.is_empty())
        .map(|x| html::rule_label(x, lang))
        .collect();
    let due = if r.due.is_empty() {
        String::new()
    } else if r.overdue {
        format!(
            "<span class=\"overdue\">{} {}</span>",
            esc(&r.due),
            t(lang, "已逾期", "overdue")
        )
    } else {
        esc(&r.due)
    };
    let inst = if r.institution_name.is_empty() {
        &r.institution_id
    } else {
        &r.institution_name
    };
    format!(
        "<tr class=\"case-row {class}\" data-case=\"{id}\">{sel}<td><a href=\"/case/{id}\">#{id}</a></td>\
         <td>{kind}</td><td class=\"subject\">{subject}</td><td>{county}</td><td>{inst}</td><td>{rules}</td>\
         <td class=\"num\">{amount}</td><td class=\"num\">{claims}</td><td class=\"status status-{st}\">{status}</td>\
         <td>{assignee}</td><td>{change}</td><td>{due}</td></tr>",
        id = r.case_id,
        sel = if select {
            format!("<td><input type=\"checkbox\" name=\"ids\" value=\"{}\" form=\"bulk\"></td>", r.case_id)
        } else {
            "<td></td>".into()
        },
        kind = esc(&html::kind_label(&r.subject_kind, lang)),
        subject = ledger(&r.subject, false),
        county = esc(&county_text(&r.county_code)),
        inst = ledger(inst, false),
        rules = esc(&rules.join("、")),
        amount = html::yuan(r.amount_at_risk_fen),
        claims = r.claims,
        st = esc(&r.status),
        status = esc(&html::status_label(&r.status, lang)),
        assignee = esc(&r.assignee),
        change = esc(&html::change_label(&r.change, lang)),
    )
}

fn table_head(lang: Lang) -> String {
    let cols: [&str; 12] = [
        "",
        t(lang, "编号", "Id"),
        t(lang, "类型", "Kind"),
        t(lang, "对象", "Subject"),
        t(lang, "县区", "County"),
        t(lang, "机构", "Institution"),
        t(lang, "规则", "Rules"),
        t(lang, "涉及金额（元）", "At risk (yuan)"),
        t(lang, "申领数", "Claims"),
        t(lang, "状态", "Status"),
        t(lang, "承办人", "Assignee"),
        t(lang, "本次筛查", "Last sweep"),
    ];
    let mut s = String::from("<thead><tr>");
    for c in cols {
        s.push_str(&format!("<th>{c}</th>"));
    }
    s.push_str(&format!("<th>{}</th></tr></thead>", t(lang, "期限", "Due")));
    s
}

fn filter_form(req: &Req, lang: Lang) -> String {
    let input = |name: &str, label: &str, ph: &str| {
        format!(
            "<label>{label} <input name=\"{name}\" id=\"f-{name}\" value=\"{}\" placeholder=\"{}\"></label>",
            esc(req.q(name)),
            esc(ph)
        )
    };
    let select = |name: &str, label: &str, options: &[(&str, &str)]| {
        let mut s = format!("<label>{label} <select name=\"{name}\" id=\"f-{name}\">");
        for (v, l) in options {
            let sel = if req.q(name) == *v { " selected" } else { "" };
            s.push_str(&format!(
                "<option value=\"{}\"{sel}>{}</option>",
                esc(v),
                esc(l)
            ));
        }
        s.push_str("</select></label>");
        s
    };
    let mut statuses: Vec<(&str, &str)> = vec![
        ("active", t(lang, "待办", "needs someone")),
        ("all", t(lang, "全部", "all")),
        ("closed", t(lang, "已结案", "closed")),
    ];
    for st in crate::finding::Status::ALL {
        statuses.push((st.code(), st.label(lang)));
    }
    let mut kinds: Vec<(&str, &str)> = vec![("", t(lang, "全部", "all"))];
    for k in crate::finding::CaseSubject::ALL {
        kinds.push((k.code(), k.label(lang)));
    }
    format!(
        "<form method=\"get\" action=\"/inbox\" id=\"filters\" class=\"filters\">\
         <input type=\"hidden\" name=\"view\" value=\"{view}\">{status}{assignee}{county}{rule}{inst}{min}{max}{kind}{change}\
         <label><input type=\"checkbox\" name=\"overdue\" value=\"1\"{od}> {odl}</label>\
         <label><input type=\"checkbox\" name=\"snoozed\" value=\"1\"{sn}> {snl}</label>{sort}\
         <button type=\"submit\" id=\"apply-filters\">{go}</button></form>",
        view = esc(req.q("view")),
        status = select("status", t(lang, "状态", "Status"), &statuses),
        assignee = input("assignee", t(lang, "承办人", "Assignee"), t(lang, "me / none / 姓名", "me / none / name")),
        county = input("county", t(lang, "县区", "County"), t(lang, "代码或名称", "code or name")),
        rule = input("rule", t(lang, "规则", "Rule"), t(lang, "编号或名称", "id or title")),
        inst = input("institution", t(lang, "机构", "Institution"), t(lang, "代码或名称", "id or name")),
        min = input("min", t(lang, "金额≥", "Amount ≥"), t(lang, "元", "yuan")),
        max = input("max", t(lang, "金额≤", "Amount ≤"), t(lang, "元", "yuan")),
        kind = select("kind", t(lang, "对象类型", "Subject kind"), &kinds),
        change = select(
            "change",
            t(lang, "变化", "Change"),
            &[
                ("", t(lang, "全部", "all")),
                ("new", t(lang, "新发现", "new")),
                ("persisting", t(lang, "持续存在", "persisting")),
                ("reopened", t(lang, "重新打开", "reopened")),
                ("gone", t(lang, "已消失", "gone")),
            ]
        ),
        od = if req.q("overdue") == "1" { " checked" } else { "" },
        odl = t(lang, "逾期", "Overdue"),
        sn = if req.q("snoozed") == "1" { " checked" } else { "" },
        snl = t(lang, "暂缓中", "Snoozed"),
        sort = select(
            "sort",
            t(lang, "排序", "Sort"),
            &[
                ("score", t(lang, "风险分", "score")),
                ("amount", t(lang, "金额", "amount")),
                ("due", t(lang, "期限", "due")),
                ("updated", t(lang, "最近更新", "updated")),
                ("id", t(lang, "编号", "id")),
            ]
        ),
        go = t(lang, "筛选", "Filter"),
    )
}

/// The bulk-action form the rows' checkboxes belong to.
fn bulk_form(s: &Session, accounts: &[String]) -> String {
    let lang = s.lang;
    let mut kinds = String::new();
    for k in [
        Kind::Assign,
        Kind::Take,
        Kind::Dismiss,
        Kind::Escalate,
        Kind::Reopen,
        Kind::Comment,
        Kind::Snooze,
    ] {
        kinds.push_str(&format!(
            "<option value=\"{}\">{}</option>",
            k.code(),
            lang.pick(k.zh(), k.code())
        ));
    }
    let mut to = String::from("<option value=\"\"></option>");
    for a in accounts {
        to.push_str(&format!("<option>{}</option>", esc(a)));
    }
    format!(
        "<form method=\"post\" action=\"/inbox/bulk\" id=\"bulk\" class=\"bulk\">{csrf}\
         <label>{sel} <select name=\"kind\" id=\"bulk-kind\">{kinds}</select></label>\
         <label>{tol} <select name=\"to\" id=\"bulk-to\">{to}</select></label>\
         <label>{notel} <input name=\"note\" id=\"bulk-note\"></label>\
         <label>{untill} <input type=\"date\" name=\"until\"></label>\
         <button type=\"submit\" id=\"bulk-go\">{go}</button> <button type=\"button\" id=\"select-all\">{all}</button></form>",
        csrf = csrf_field(&s.csrf),
        sel = t(lang, "批量操作", "Bulk action"),
        tol = t(lang, "指派给", "Assign to"),
        notel = t(lang, "说明", "Note"),
        untill = t(lang, "暂缓至", "Snooze until"),
        go = t(lang, "对所选案件执行", "Apply to selected"),
        all = t(lang, "全选本页", "Select page"),
    )
}

pub fn accounts(conn: &Connection) -> Result<Vec<String>, ServeError> {
    Ok(crate::store::users::list(conn)?
        .into_iter()
        .filter(|u| !u.disabled)
        .map(|u| u.name)
        .collect())
}

pub fn page(conn: &Connection, req: &Req, s: &Session) -> Result<Resp, ServeError> {
    let lang = s.lang;
    let parsed = filters::parse(conn, req, &s.actor.name);
    let mut body = String::new();
    body.push_str(&format!(
        "<h1>{}</h1>",
        if parsed.triage {
            t(
                lang,
                "分诊：机构与团伙案件",
                "Triage: institution and ring cases",
            )
        } else {
            t(lang, "待办案件", "Inbox")
        }
    ));
    body.push_str(&filter_form(req, lang));
    if !parsed.errors.is_empty() {
        body.push_str("<ul class=\"error\" id=\"filter-errors\">");
        for e in &parsed.errors {
            body.push_str(&format!("<li>{}</li>", esc(e)));
        }
        body.push_str("</ul>");
    }
    body.push_str(&format!(
        "<div class=\"tools\"><form method=\"post\" action=\"/next\" class=\"inline\">{}<button type=\"submit\" id=\"next-case\">{}</button></form>\
         <a href=\"/export.xlsx?{}\" id=\"export\">{}</a> <a href=\"/inbox?{}\">{}</a></div>",
        csrf_field(&s.csrf),
        t(lang, "领取下一个未分配案件", "Take next unassigned case"),
        esc(&filters::link(req, None, None)),
        t(lang, "导出当前队列（Excel）", "Export this queue (Excel)"),
        esc(&filters::link(req, None, Some(if parsed.triage { "list" } else { "triage" }))),
        if parsed.triage { t(lang, "列表视图", "List view") } else { t(lang, "分诊视图", "Triage view") },
    ));
    body.push_str(&bulk_form(s, &accounts(conn)?));
    let mut loose_html = String::new();
    let (table, total, shown) = if parsed.triage {
        let (groups, parents, loose) = inbox::triage(conn, &parsed.filter, 5)?;
        body.push_str(&format!(
            "<p class=\"summary\" id=\"triage-summary\">{}</p>",
            esc(&match lang {
                Lang::Zh => format!(
                    "{parents} 件机构与团伙案件；另有 {} 件不属于任何机构或团伙案件，分属 {} 家机构：共 {} 个决定",
                    loose.cases, loose.groups, parents + loose.groups
                ),
                Lang::En => format!(
                    "{parents} institution and ring cases; {} more cases under none of them, at {} institutions: {} decisions",
                    loose.cases, loose.groups, parents + loose.groups
                ),
            })
        ));
        loose_html = loose_table(&loose, req, lang);
        let mut rows = String::new();
        for g in &groups {
            rows.push_str(&row_html(&g.parent, lang, true, "parent"));
            for c in &g.children {
                rows.push_str(&row_html(c, lang, true, "child"));
            }
            if g.child_total > g.children.len() as i64 {
                let more = if g.parent.subject_kind == "institution" {
                    format!(
                        "/inbox?institution={}",
                        super::http::encode(&g.parent.institution_id)
                    )
                } else {
                    format!("/case/{}", g.parent.case_id)
                };
                rows.push_str(&format!(
                    "<tr class=\"child more\"><td></td><td colspan=\"12\"><a href=\"{}\">{}</a></td></tr>",
                    esc(&more),
                    esc(&match lang {
                        Lang::Zh => format!("还有 {} 件所含案件", g.child_total - g.children.len() as i64),
                        Lang::En => format!("{} more cases it contains", g.child_total - g.children.len() as i64),
                    })
                ));
            }
        }
        (rows, parents, groups.len())
    } else {
        let (rows, total) = inbox::inbox(conn, &parsed.filter)?;
        let html_rows: String = rows.iter().map(|r| row_html(r, lang, true, "")).collect();
        (html_rows, total, rows.len())
    };
    body.push_str(&format!(
        "<p class=\"count\" id=\"count\" data-total=\"{total}\">{}</p>",
        esc(&match lang {
            Lang::Zh => format!("共 {total} 件，本页 {shown} 件"),
            Lang::En => format!("{total} in all, {shown} on this page"),
        })
    ));
    body.push_str(&format!(
        "<table class=\"cases\" id=\"cases\">{}<tbody>{table}</tbody></table>",
        table_head(lang)
    ));
    body.push_str(&loose_html);
    let pages = (total.max(0) as usize).div_ceil(parsed.per_page);
    body.push_str("<nav class=\"pages\">");
    if parsed.page > 1 {
        body.push_str(&format!(
            "<a href=\"/inbox?{}\" id=\"prev-page\">{}</a> ",
            esc(&filters::link(req, Some(parsed.page - 1), None)),
            t(lang, "上一页", "Previous")
        ));
    }
    body.push_str(&format!("<span>{} / {}</span>", parsed.page, pages.max(1)));
    if parsed.page < pages {
        body.push_str(&format!(
            " <a href=\"/inbox?{}\" id=\"next-page\">{}</a>",
            esc(&filters::link(req, Some(parsed.page + 1), None)),
            t(lang, "下一页", "Next")
        ));
    }
    body.push_str("</nav>");
    // A filter value that did not check is shown on the page (and not applied).
    Ok(Resp::html(
        200,
        html::page(t(lang, "待办", "Inbox"), Some(&s.viewer()), &body),
    ))
}

/// The triage's cases under no institution or ring case, one row per institution, each a
/// link to the inbox filtered to it.
fn loose_table(loose: &inbox::Loose, req: &Req, lang: Lang) -> String {
    if loose.by_institution.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<h2>{}</h2><table class=\"cases\" id=\"loose\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t(lang, "其他案件（按机构）", "Other cases, by institution"),
        t(lang, "机构", "Institution"),
        t(lang, "案件数", "Cases"),
        t(lang, "涉及金额（元）", "At risk (yuan)"),
        t(lang, "最高风险分", "Top score"),
    );
    // The same filters, narrowed to the institution.
    let base: String = filters::link(req, None, Some("list"))
        .split('&')
        .filter(|p| !p.starts_with("institution="))
        .collect::<Vec<_>>()
        .join("&");
    for g in &loose.by_institution {
        let name = if g.institution_name.is_empty() {
            &g.institution_id
        } else {
            &g.institution_name
        };
        out.push_str(&format!(
            "<tr><td><a href=\"/inbox?{}&amp;institution={}\">{}</a></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.1}</td></tr>",
            esc(&base),
            super::http::encode(&g.institution_id),
            ledger(name, false),
            g.cases,
            html::yuan(g.amount_at_risk_fen),
            g.top_score
        ));
    }
    out.push_str("</tbody></table>");
    out
}

/// The action, its arguments and its refusal reasons from a form (case page or bulk).
pub fn request_of(req: &Req) -> Result<(Kind, Request), ServeError> {
    let kind = Kind::parse(req.f("kind")).ok_or_else(|| {
        crate::cases::CaseError::Invalid(format!("未知操作 `{}` / unknown action", req.f("kind")))
    })?;
    let until = match req.f("until").trim() {
        "" => None,
        d => Some(crate::dates::Date::parse_iso(d).ok_or_else(|| {
            crate::cases::CaseError::Invalid(format!("`{d}` 不是日期 / is not a date (YYYY-MM-DD)"))
        })?),
    };
    let corrects = match req.f("corrects").trim() {
        "" => None,
        c => Some(c.parse::<i64>().map_err(|_| {
            crate::cases::CaseError::Invalid(format!(
                "`{c}` 不是记录编号 / is not a history entry id"
            ))
        })?),
    };
    Ok((
        kind,
        Request {
            to: req.f("to").to_string(),
            note: req.f("note").to_string(),
            until,
            corrects,
        },
    ))
}

pub fn bulk(conn: &mut Connection, req: &Req, s: &Session) -> Result<Resp, ServeError> {
    let lang = s.lang;
    let (kind, request) = request_of(req)?;
    let mut ids = Vec::new();
    for v in req.f_all("ids") {
        ids.push(
            v.parse::<i64>()
                .map_err(|_| crate::cases::CaseError::Invalid(format!("`{v}`")))?,
        );
    }
    if ids.is_empty() {
        return Err(crate::cases::CaseError::Invalid(
            t(lang, "没有选中案件", "no case selected").into(),
        )
        .into());
    }
    let items: Vec<_> = ids.iter().map(|&id| (id, kind, request.clone())).collect();
    let results = workflow::perform_batch(conn, &s.actor, &items, true)?;
    Ok(Resp::html(
        200,
        html::page(
            t(lang, "批量操作结果", "Bulk result"),
            Some(&s.viewer()),
            &results_table(&ids, &results, lang, "/inbox"),
        ),
    ))
}

/// Per case: done (new status) or refused (why).
pub fn results_table(
    ids: &[i64],
    results: &[Result<crate::finding::Status, crate::cases::CaseError>],
    lang: Lang,
    back: &str,
) -> String {
    let done = results.iter().filter(|r| r.is_ok()).count();
    let mut out = format!(
        "<h1>{}</h1><p id=\"result-summary\">{}</p><table id=\"results\"><tbody>",
        t(lang, "操作结果", "Result"),
        esc(&match lang {
            Lang::Zh => format!("已执行 {done} 件，拒绝 {} 件", results.len() - done),
            Lang::En => format!("{done} done, {} refused", results.len() - done),
        })
    );
    for (id, r) in ids.iter().zip(results) {
        let (class, text) = match r {
            Ok(st) => (
                "done",
                format!("{} → {}", t(lang, "已执行", "done"), st.label(lang)),
            ),
            Err(e) => ("refused", format!("{}：{e}", t(lang, "拒绝", "refused"))),
        };
        out.push_str(&format!(
            "<tr class=\"{class}\"><td><a href=\"/case/{id}\">#{id}</a></td><td>{}</td></tr>",
            esc(&text)
        ));
    }
    out.push_str(&format!(
        "</tbody></table><p><a href=\"{}\">{}</a></p>",
        esc(back),
        t(lang, "返回", "Back")
    ));
    out
}

pub fn next(conn: &mut Connection, s: &Session) -> Result<Resp, ServeError> {
    match workflow::take_next(conn, &s.actor)? {
        Some(id) => Ok(Resp::redirect(&format!("/case/{id}"))),
        None => Ok(Resp::html(
            200,
            html::message_page(
                t(s.lang, "没有未分配的案件", "No unassigned case"),
                t(
                    s.lang,
                    "当前没有待领取的案件。",
                    "There is no open unassigned case right now.",
                ),
                "/inbox",
                Some(&s.viewer()),
            ),
        )),
    }
}

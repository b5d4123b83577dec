//! The case page: summary first (what, why, which rule and policy, amount, persons,
//! institution), the actions this user may take, the case across sweeps, the subject's
//! neighbourhood as a labelled SVG, the evidence a page at a time, and the append-only history
//! with comments. Identifiers are masked unless the user unmasked this case (written to the
//! history).

use super::auth::Session;
use super::html::{self, csrf_field, esc, ledger, t};
use super::http::{Req, Resp};
use super::ServeError;
use crate::cases::inbox::{self, CasePage};
use crate::cases::workflow::{self, Kind};
use crate::text::Lang;
use rusqlite::Connection;
use std::collections::BTreeMap;

const CLAIMS_PER_PAGE: usize = 25;

pub fn page(
    conn: &Connection,
    req: &Req,
    s: &Session,
    case_id: i64,
    unmask: bool,
) -> Result<Resp, ServeError> {
    let lang = s.lang;
    let claim_page = req.q("page").parse::<usize>().unwrap_or(1).max(1);
    let p = inbox::case_page(
        conn,
        case_id,
        (claim_page - 1) * CLAIMS_PER_PAGE,
        CLAIMS_PER_PAGE,
    )?;
    let allowed = workflow::allowed(conn, case_id, &s.actor)?;
    let mut body = String::new();
    body.push_str(&summary(conn, &p, lang, unmask)?);
    body.push_str(&identity_evidence(conn, &p, lang, unmask)?);
    body.push_str(&actions(conn, &p, s, &allowed)?);
    body.push_str(&sweeps(&p, lang));
    body.push_str(&neighbourhood(conn, &p, lang, unmask)?);
    body.push_str(&evidence(&p, lang, unmask, claim_page));
    body.push_str(&history(&p, lang, unmask));
    if allowed.contains(&Kind::Comment) {
        body.push_str(&comment_form(case_id, s));
    }
    let title = format!("{} #{case_id}", t(lang, "案件", "Case"));
    Ok(Resp::html(
        200,
        html::page(&title, Some(&s.viewer()), &body),
    ))
}

/// Why the spellings of a name on this page's claims are one name or not (`names::explain`),
/// beside the birth date and the shared phone or account of each link, field by field.
fn identity_evidence(
    conn: &Connection,
    p: &CasePage,
    lang: Lang,
    unmask: bool,
) -> Result<String, ServeError> {
    let names = crate::cases::query::name_evidence(conn, p.case.last_sweep_id, &p.claims)?;
    if names.is_empty() {
        return Ok(String::new());
    }
    let mut out = format!(
        "<section id=\"identity-evidence\"><h2>{}</h2>",
        t(
            lang,
            "姓名比对：为何视为同一人（或不同人）",
            "Names compared: why one person (or not)"
        )
    );
    for n in &names {
        let head = n.heading(lang);
        out.push_str(&format!("<h3>{}</h3><ul>", ledger(&head, unmask)));
        for line in n.explained.lines(lang == Lang::En) {
            out.push_str(&format!("<li>{}</li>", ledger(&line, unmask)));
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>");
    Ok(out)
}

fn summary(
    conn: &Connection,
    p: &CasePage,
    lang: Lang,
    unmask: bool,
) -> Result<String, ServeError> {
    let c = &p.case;
    let mut persons: BTreeMap<String, String> = BTreeMap::new();
    for e in &p.claims {
        if !e.claim.id_number.is_empty() {
            persons
                .entry(e.claim.id_number.clone())
                .or_insert_with(|| e.claim.name.clone());
        }
    }
    let persons: Vec<String> = persons
        .iter()
        .map(|(id, name)| format!("{} {}", ledger(name, unmask), ledger(id, unmask)))
        .collect();
    let rules: Vec<String> = c
        .rules
        .split(';')
        .filter(|x| !x.is_empty())
        .map(|r| {
            format!(
                "{} <code>{}</code>",
                esc(&html::rule_label(r, lang)),
                esc(r)
            )
        })
        .collect();
    let mut why: Vec<String> = p
        .graph_why
        .iter()
        .map(|(zh, en)| format!("<li>{}</li>", ledger(lang.pick(zh, en), unmask)))
        .collect();
    why.extend(p.flags.iter().take(5).map(|f| {
        format!(
            "<li>{}</li>",
            ledger(lang.pick(&f.explanation_zh, &f.explanation_en), unmask)
        )
    }));
    if p.flags.len() > 5 {
        why.push(format!(
            "<li>… {} {}</li>",
            p.flags.len() - 5,
            t(lang, "条更多标记", "more flags")
        ));
    }
    let inst_name = inbox::institution_names(conn, std::slice::from_ref(&c.institution_id))?
        .pop()
        .map(|(_, n)| n)
        .unwrap_or_default();
    let county = crate::refdata::RefData::embedded()
        .area_name(&c.county_code)
        .unwrap_or("");
    let due = if c.due.is_empty() {
        "—".to_string()
    } else if c.overdue {
        format!(
            "<span class=\"overdue\">{} {}</span>",
            esc(&c.due),
            t(lang, "已逾期", "overdue")
        )
    } else {
        esc(&c.due)
    };
    let snoozed = if c.snoozed_until.as_str() > crate::dates::now_timestamp().as_str() {
        format!(
            "<dt>{}</dt><dd>{}</dd>",
            t(lang, "暂缓至", "Snoozed until"),
            esc(&html::time(&c.snoozed_until))
        )
    } else {
        String::new()
    };
    let unmasked = if unmask {
        format!(
            "<p class=\"unmasked\" id=\"unmasked\">{}</p>",
            t(
                lang,
                "已显示完整身份信息（已记录）",
                "Identifiers shown in full (recorded)"
            )
        )
    } else {
        String::new()
    };
    let inst = format!(
        "{} {}",
        ledger(&inst_name, unmask),
        ledger(&c.institution_id, unmask)
    );
    Ok(format!(
        "<section id=\"summary\" class=\"summary\"><h1>{case} #{id} · {kind} · <span class=\"subject\">{subject}</span></h1>\
         {unmasked}<dl>\
         <dt>{stl}</dt><dd id=\"case-status\" data-status=\"{stc}\">{st}</dd>\
         <dt>{asl}</dt><dd id=\"case-assignee\">{assignee}</dd>\
         <dt>{rl}</dt><dd>{rules}</dd>\
         <dt>{pl}</dt><dd>{policy}</dd>\
         <dt>{al}</dt><dd id=\"case-amount\">{amount} {yuan}</dd>\
         <dt>{cl}</dt><dd>{claims}</dd>\
         <dt>{perl}</dt><dd>{persons}</dd>\
         <dt>{il}</dt><dd>{inst}</dd>\
         <dt>{col}</dt><dd>{county} {cc}</dd>\
         <dt>{dl}</dt><dd>{due}</dd>{snoozed}\
         <dt>{swl}</dt><dd>{first} → {last} ({change})</dd></dl>\
         <h2>{whyl}</h2><ul class=\"why\">{why}</ul></section>",
        case = t(lang, "案件", "Case"),
        id = c.case_id,
        kind = esc(&html::kind_label(&c.subject_kind, lang)),
        subject = ledger(&c.subject, unmask),
        unmasked = unmasked,
        stl = t(lang, "状态", "Status"),
        stc = esc(&c.status),
        st = esc(&html::status_label(&c.status, lang)),
        asl = t(lang, "承办人", "Assignee"),
        assignee = esc(&c.assignee),
        rl = t(lang, "规则", "Rules"),
        rules = rules.join("；"),
        pl = t(lang, "依据政策", "Policy"),
        policy = esc(&p.policy),
        al = t(lang, "涉及金额", "At risk"),
        amount = html::yuan(c.amount_at_risk_fen),
        yuan = t(lang, "元", "yuan"),
        cl = t(lang, "申领数", "Claims"),
        claims = c.claims,
        perl = t(lang, "人员", "Persons"),
        persons = persons.join("；"),
        il = t(lang, "机构", "Institution"),
        inst = inst,
        col = t(lang, "县区", "County"),
        county = esc(county),
        cc = esc(&c.county_code),
        dl = t(lang, "期限", "Due"),
        swl = t(lang, "筛查", "Sweeps"),
        first = c.first_sweep_id,
        last = c.last_sweep_id,
        change = esc(&html::change_label(&c.change, lang)),
        whyl = t(lang, "为什么", "Why"),
        why = why.join(""),
    ))
}

fn actions(
    conn: &Connection,
    p: &CasePage,
    s: &Session,
    allowed: &[Kind],
) -> Result<String, ServeError> {
    let lang = s.lang;
    let id = p.case.case_id;
    let mut out = format!(
        "<section id=\"actions\"><h2>{}</h2>",
        t(lang, "操作", "Actions")
    );
    if allowed.is_empty() {
        out.push_str(&format!(
            "<p>{}</p>",
            t(
                lang,
                "您对此案件没有可执行的操作。",
                "You can take no action on this case."
            )
        ));
    }
    let accounts = super::inbox::accounts(conn)?;
    for kind in allowed {
        let label = lang.pick(kind.zh(), kind.code());
        if *kind == Kind::Unmask {
            out.push_str(&format!(
                "<form method=\"post\" action=\"/case/{id}/unmask\" class=\"action\" id=\"act-unmask\">{}<button type=\"submit\">{label}</button></form>",
                csrf_field(&s.csrf)
            ));
            continue;
        }
        let mut fields = String::new();
        if *kind == Kind::Assign {
            fields.push_str("<select name=\"to\">");
            for a in &accounts {
                fields.push_str(&format!("<option>{}</option>", esc(a)));
            }
            fields.push_str("</select>");
        }
        if *kind == Kind::Snooze {
            fields.push_str("<input type=\"date\" name=\"until\" required>");
        }
        if kind.needs_note() || matches!(kind, Kind::Assign | Kind::Approve) {
            fields.push_str(&format!(
                "<input name=\"note\" placeholder=\"{}\"{}>",
                t(lang, "说明", "note"),
                if kind.needs_note() { " required" } else { "" }
            ));
        }
        if *kind == Kind::Comment {
            continue; // the comment form stands with the history
        }
        out.push_str(&format!(
            "<form method=\"post\" action=\"/case/{id}/act\" class=\"action\" id=\"act-{code}\">{csrf}\
             <input type=\"hidden\" name=\"kind\" value=\"{code}\">{fields}<button type=\"submit\">{label}</button></form>",
            code = kind.code(),
            csrf = csrf_field(&s.csrf),
        ));
    }
    out.push_str("</section>");
    Ok(out)
}

fn sweeps(p: &CasePage, lang: Lang) -> String {
    let mut out = format!(
        "<section id=\"sweeps\"><h2>{}</h2><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t(lang, "历次筛查", "Across sweeps"),
        t(lang, "筛查", "Sweep"),
        t(lang, "变化", "Change"),
        t(lang, "申领数", "Claims"),
        t(lang, "涉及金额", "At risk"),
        t(lang, "原因", "Why"),
    );
    for l in &p.sweeps {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            l.sweep_id,
            esc(&html::change_label(&l.change, lang)),
            l.claims,
            html::yuan(l.amount_at_risk_fen),
            ledger(lang.pick(&l.reason_zh, &l.reason_en), false)
        ));
    }
    out.push_str("</tbody></table></section>");
    out
}

/// The subject's neighbourhood: persons with their institutions, phones and bank accounts,
/// in four labelled columns; persons link to their own cases.
fn neighbourhood(
    conn: &Connection,
    p: &CasePage,
    lang: Lang,
    unmask: bool,
) -> Result<String, ServeError> {
    let mut seeds: Vec<String> = p
        .ring_members
        .iter()
        .filter(|(k, _)| k == "person")
        .map(|(_, v)| v.clone())
        .collect();
    for e in &p.claims {
        if !e.claim.id_number.is_empty() && !seeds.contains(&e.claim.id_number) {
            seeds.push(e.claim.id_number.clone());
        }
    }
    seeds.truncate(20);
    let rows = inbox::neighbourhood(conn, &seeds, 200)?;
    let mut out = format!(
        "<section id=\"neighbourhood\"><h2>{}</h2>",
        t(lang, "关联关系", "Neighbourhood")
    );
    if rows.is_empty() {
        out.push_str(&format!(
            "<p>{}</p></section>",
            t(lang, "无可显示的关联。", "Nothing to draw.")
        ));
        return Ok(out);
    }
    // Columns: institutions | persons | phones | bank accounts; each node once, sorted.
    let mut cols: [BTreeMap<String, String>; 4] = Default::default();
    let mut edges = Vec::new();
    let inst_ids: Vec<String> = rows
        .iter()
        .map(|r| r.4.clone())
        .filter(|x| !x.is_empty())
        .collect();
    let names: BTreeMap<String, String> = inbox::institution_names(conn, &inst_ids)?
        .into_iter()
        .collect();
    for (id, name, phone, bank, inst) in &rows {
        cols[1].entry(id.clone()).or_insert_with(|| name.clone());
        if !inst.is_empty() {
            cols[0]
                .entry(inst.clone())
                .or_insert_with(|| names.get(inst).cloned().unwrap_or_default());
            edges.push((0, inst.clone(), id.clone()));
        }
        if !phone.is_empty() {
            cols[2].entry(phone.clone()).or_default();
            edges.push((2, phone.clone(), id.clone()));
        }
        if !bank.is_empty() {
            cols[3].entry(bank.clone()).or_default();
            edges.push((3, bank.clone(), id.clone()));
        }
    }
    const MAX_NODES: usize = 30;
    let (w, row_h, col_w) = (1000, 34, 250);
    let height = cols
        .iter()
        .map(|c| c.len().min(MAX_NODES))
        .max()
        .unwrap_or(1)
        * row_h
        + 60;
    let pos = |col: usize, key: &str| -> Option<(usize, usize)> {
        cols[col]
            .keys()
            .take(MAX_NODES)
            .position(|k| k == key)
            .map(|i| (col * col_w + 10, 50 + i * row_h))
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graph\" id=\"neighbourhood-svg\" viewBox=\"0 0 {w} {height}\" role=\"img\">"
    );
    let heads = [
        t(lang, "机构", "Institutions"),
        t(lang, "人员", "Persons"),
        t(lang, "电话", "Phones"),
        t(lang, "银行账号", "Bank accounts"),
    ];
    for (i, h) in heads.iter().enumerate() {
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"20\" class=\"head\">{h}</text>",
            i * col_w + 10
        ));
    }
    edges.sort();
    edges.dedup();
    for (col, from, person) in &edges {
        if let (Some(a), Some(b)) = (pos(*col, from), pos(1, person)) {
            let (ax, bx) = if *col == 0 {
                (a.0 + 200, b.0)
            } else {
                (a.0, b.0 + 200)
            };
            svg.push_str(&format!(
                "<line x1=\"{ax}\" y1=\"{}\" x2=\"{bx}\" y2=\"{}\" class=\"edge\"/>",
                a.1 - 5,
                b.1 - 5
            ));
        }
    }
    let kinds = ["institution", "person", "phone", "bank"];
    for (ci, col) in cols.iter().enumerate() {
        for (key, label) in col.iter().take(MAX_NODES) {
            let (x, y) = pos(ci, key).unwrap_or((0, 0));
            let full = if label.is_empty() {
                key.clone()
            } else {
                format!("{label} {key}")
            };
            // A long name is cut to fit its box (after masking, so no identifier is cut into
            // a run too short to mask); the node's title holds it whole.
            let shown = if unmask {
                full.clone()
            } else {
                crate::report::mask::mask_tokens(&full).into_owned()
            };
            let text = esc(&shown.chars().take(24).collect::<String>());
            let kl = format!("{}: {}", heads[ci], full);
            let node = format!(
                "<g class=\"node {kind}\"><title>{kl}</title><rect x=\"{x}\" y=\"{ry}\" width=\"200\" height=\"24\" rx=\"4\"/><text x=\"{tx}\" y=\"{y}\">{text}</text></g>",
                kind = kinds[ci],
                kl = ledger(&kl, unmask),
                ry = y - 17,
                tx = x + 6,
            );
            if ci == 1 {
                match inbox::case_of_subject(conn, key)? {
                    Some(cid) if cid != p.case.case_id => {
                        svg.push_str(&format!("<a href=\"/case/{cid}\">{node}</a>"))
                    }
                    _ => svg.push_str(&node),
                }
            } else {
                svg.push_str(&node);
            }
        }
    }
    svg.push_str("</svg>");
    out.push_str(&svg);
    if !p.ring_members.is_empty() {
        out.push_str(&format!(
            "<h3>{}</h3><ul id=\"ring-members\">",
            t(lang, "团伙成员", "Ring members")
        ));
        for (kind, value) in &p.ring_members {
            let link = inbox::case_of_subject(conn, value)?;
            let label = format!(
                "{} {}",
                esc(&html::kind_label(kind, lang)),
                ledger(value, unmask)
            );
            match link {
                Some(cid) => out.push_str(&format!("<li><a href=\"/case/{cid}\">{label}</a></li>")),
                None => out.push_str(&format!("<li>{label}</li>")),
            }
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>");
    Ok(out)
}

fn evidence(p: &CasePage, lang: Lang, unmask: bool, page: usize) -> String {
    let mut out = format!(
        "<section id=\"evidence\"><h2>{}</h2><table class=\"claims\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t(lang, "证据（申领记录）", "Evidence (claims)"),
        t(lang, "申领编号", "Claim"),
        t(lang, "姓名", "Name"),
        t(lang, "身份证号", "ID number"),
        t(lang, "电话", "Phone"),
        t(lang, "机构", "Institution"),
        t(lang, "培训班", "Class"),
        t(lang, "金额", "Amount"),
        t(lang, "申领日期", "Date"),
    );
    for e in &p.claims {
        let c = &e.claim;
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            ledger(&c.claim_id, unmask),
            ledger(&c.name, unmask),
            ledger(&c.id_number, unmask),
            ledger(&c.phone, unmask),
            ledger(&c.institution_id, unmask),
            ledger(&c.class_id, unmask),
            html::yuan(c.amount_fen + c.living_amount_fen),
            esc(&c.claim_date),
        ));
    }
    out.push_str("</tbody></table>");
    let pages = p.claims_total.div_ceil(CLAIMS_PER_PAGE).max(1);
    out.push_str("<nav class=\"pages\">");
    if page > 1 {
        out.push_str(&format!(
            "<a href=\"?page={}#evidence\">{}</a> ",
            page - 1,
            t(lang, "上一页", "Previous")
        ));
    }
    out.push_str(&format!(
        "<span>{page} / {pages} ({} {})</span>",
        p.claims_total,
        t(lang, "条", "claims")
    ));
    if page < pages {
        out.push_str(&format!(
            " <a href=\"?page={}#evidence\" id=\"evidence-next\">{}</a>",
            page + 1,
            t(lang, "下一页", "Next")
        ));
    }
    out.push_str("</nav></section>");
    out
}

fn action_label(action: &str, lang: Lang) -> String {
    let zh = match action {
        "created" => "新建",
        "assign" => "指派",
        "start_review" => "开始核查",
        "review" => "复核结论",
        "propose_confirm" => "提请确认",
        "approve" => "批准确认",
        "return" => "退回",
        "reopen" => "重新打开",
        "comment" => "备注",
        "correction" => "更正",
        "snooze" => "暂缓",
        "unmask" => "查看完整信息",
        "keep_dismissed" => "保持已排除",
        "resolved" => "已消失",
        "reappeared" => "再次出现",
        "evidence_changed" => "证据变化",
        other => other,
    };
    lang.pick(zh, action).to_string()
}

fn history(p: &CasePage, lang: Lang, unmask: bool) -> String {
    let corrects: BTreeMap<i64, i64> = p.corrections.iter().copied().collect();
    let mut out = format!(
        "<section id=\"history\"><h2>{}</h2><table id=\"history-table\"><thead><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
        t(lang, "处理记录（只增不改）", "History (append-only)"),
        t(lang, "时间（北京时间）", "Time (Beijing)"),
        t(lang, "人员", "By"),
        t(lang, "操作", "Action"),
        t(lang, "状态", "Status"),
        t(lang, "说明", "Note"),
    );
    for h in &p.history {
        let status = match (&h.from_status, &h.to_status) {
            (Some(a), Some(b)) if a != b => format!(
                "{} → {}",
                html::status_label(a, lang),
                html::status_label(b, lang)
            ),
            (_, Some(b)) => html::status_label(b, lang),
            _ => String::new(),
        };
        let fix = corrects.get(&h.history_id).map_or(String::new(), |c| {
            format!(
                " <span class=\"corrects\">({} #{c})</span>",
                t(lang, "更正", "corrects")
            )
        });
        out.push_str(&format!(
            "<tr class=\"entry action-{a}\" id=\"h{id}\"><td>{id}</td><td>{time}</td><td class=\"actor\">{actor}</td><td>{al}</td><td>{status}</td><td class=\"note\">{note}{fix}</td></tr>",
            a = esc(&h.action),
            id = h.history_id,
            time = esc(&html::time(&h.at)),
            actor = esc(&h.actor),
            al = esc(&action_label(&h.action, lang)),
            status = esc(&status),
            note = ledger(&h.note, unmask),
        ));
    }
    out.push_str("</tbody></table></section>");
    out
}

/// The comment form under the history, when the user may comment.
fn comment_form(case_id: i64, s: &Session) -> String {
    let lang = s.lang;
    format!(
        "<section id=\"comment\"><form method=\"post\" action=\"/case/{case_id}/act\" id=\"act-comment\">{}\
         <input type=\"hidden\" name=\"kind\" value=\"comment\">\
         <textarea name=\"note\" id=\"comment-note\" required placeholder=\"{}\"></textarea>\
         <label>{} <input name=\"corrects\" id=\"comment-corrects\" size=\"6\"></label>\
         <button type=\"submit\" id=\"comment-button\">{}</button></form></section>",
        csrf_field(&s.csrf),
        t(lang, "备注（不改变状态）", "Comment (no status change)"),
        t(lang, "更正记录 #（可选）", "Corrects entry # (optional)"),
        t(lang, "添加备注", "Add comment"),
    )
}

pub fn act(
    conn: &mut Connection,
    req: &Req,
    s: &Session,
    case_id: i64,
) -> Result<Resp, ServeError> {
    let (kind, request) = super::inbox::request_of(req)?;
    if kind == Kind::Unmask {
        return unmask(conn, req, s, case_id);
    }
    workflow::perform(conn, case_id, &s.actor, kind, &request)?;
    Ok(Resp::redirect(&format!("/case/{case_id}")))
}

/// Records the unmask in the history, then shows the page in full.
pub fn unmask(
    conn: &mut Connection,
    req: &Req,
    s: &Session,
    case_id: i64,
) -> Result<Resp, ServeError> {
    workflow::perform(conn, case_id, &s.actor, Kind::Unmask, &Default::default())?;
    page(conn, req, s, case_id, true)
}

//! The Excel round trip: the current queue (filtered as on screen) as a workbook with
//! decision, note, assignee and history columns; a filled-in workbook uploaded back is first
//! a dry run (each row: what would change, or why it is refused, checked by the workflow in a
//! transaction that is rolled back), then applied in one transaction.

use super::auth::Session;
use super::filters;
use super::html::{self, csrf_field, esc, t};
use super::http::{Req, Resp};
use super::ServeError;
use crate::cases::workflow::{self, Kind, Request};
use crate::cases::{inbox, CaseError};
use crate::text::Lang;
use rusqlite::Connection;

/// Most rows one export holds.
const MAX_ROWS: usize = 100_000;

const HEADERS: [&str; 16] = [
    "案件编号 case_id",
    "类型 kind",
    "对象 subject",
    "规则 rules",
    "县区 county",
    "机构 institution",
    "涉及金额（元）amount_yuan",
    "申领数 claims",
    "状态 status",
    "承办人 assignee",
    "期限 due",
    "本次筛查 change",
    "处理记录 history",
    "决定 decision",
    "说明 note",
    "指派给 assign_to",
];

fn xerr(e: impl std::fmt::Display) -> ServeError {
    ServeError::Xlsx(e.to_string())
}

pub fn export(conn: &Connection, req: &Req, s: &Session) -> Result<Resp, ServeError> {
    let lang = s.lang;
    let mut parsed = filters::parse(conn, req, &s.actor.name);
    if let Some(e) = parsed.errors.first() {
        return Err(CaseError::Invalid(e.clone()).into());
    }
    parsed.filter.offset = 0;
    parsed.filter.limit = MAX_ROWS;
    let (rows, _) = inbox::inbox(conn, &parsed.filter)?;
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(t(lang, "案件队列", "Queue")).map_err(xerr)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in HEADERS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(xerr)?;
    }
    let mut hist = conn.prepare_cached(
        "SELECT at, actor, action, coalesce(to_status, ''), note FROM case_history WHERE case_id = ?1 ORDER BY history_id",
    )?;
    let text = |s: &str| crate::output::xml_text(&crate::report::mask::mask_tokens(s)).into_owned();
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        let history: Vec<String> = hist
            .query_map([r.case_id], |h| {
                Ok(format!(
                    "{} {} {} {} {}",
                    crate::dates::display_time(&h.get::<_, String>(0)?, false),
                    h.get::<_, String>(1)?,
                    h.get::<_, String>(2)?,
                    h.get::<_, String>(3)?,
                    h.get::<_, String>(4)?
                ))
            })?
            .collect::<Result<_, _>>()?;
        let rules: Vec<String> = r
            .rules
            .split(';')
            .filter(|x| !x.is_empty())
            .map(|x| html::rule_label(x, lang))
            .collect();
        let inst = if r.institution_name.is_empty() {
            r.institution_id.clone()
        } else {
            format!("{} {}", r.institution_name, r.institution_id)
        };
        ws.write_number(row, 0, r.case_id as f64).map_err(xerr)?;
        let cells = [
            html::kind_label(&r.subject_kind, lang),
            text(&r.subject),
            rules.join("、"),
            r.county_code.clone(),
            text(&inst),
        ];
        for (c, v) in cells.iter().enumerate() {
            ws.write_string(row, c as u16 + 1, v).map_err(xerr)?;
        }
        ws.write_number(row, 6, r.amount_at_risk_fen as f64 / 100.0)
            .map_err(xerr)?;
        ws.write_number(row, 7, r.claims as f64).map_err(xerr)?;
        let more = [
            html::status_label(&r.status, lang),
            r.assignee.clone(),
            r.due.clone(),
            html::change_label(&r.change, lang),
            text(&history.join("\n")),
        ];
        for (c, v) in more.iter().enumerate() {
            ws.write_string(row, c as u16 + 8, v).map_err(xerr)?;
        }
    }
    ws.set_column_width(2, 24).map_err(xerr)?;
    ws.set_column_width(12, 60).map_err(xerr)?;
    ws.set_freeze_panes(1, 1).map_err(xerr)?;
    let bytes = wb.save_to_buffer().map_err(xerr)?;
    Ok(Resp {
        status: 200,
        headers: vec![
            (
                "content-type",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".into(),
            ),
            (
                "content-disposition",
                "attachment; filename=\"claimsweep-queue.xlsx\"".into(),
            ),
        ],
        body: bytes,
    })
}

pub fn import_form(s: &Session) -> Resp {
    let lang = s.lang;
    let body = format!(
        "<h1>{}</h1><p>{}</p><form method=\"post\" action=\"/import\" enctype=\"multipart/form-data\" id=\"import-form\">{}\
         <input type=\"file\" name=\"file\" accept=\".xlsx\" required><button type=\"submit\" id=\"import-dry-run\">{}</button></form>",
        t(lang, "导入决定（Excel）", "Import decisions (Excel)"),
        t(
            lang,
            "上传导出的案件队列，在“决定”列填写 confirm/dismiss/escalate/approve/return/reopen/comment/assign（或中文：确认违规、排除、移送、批准确认、退回、重新打开、备注、指派），“说明”列写理由，指派时填写“指派给”。先预览，再执行。",
            "Upload an exported queue with the decision column filled (confirm, dismiss, escalate, approve, return, reopen, comment, assign), a note, and assign_to for assignments. You see a dry run first."
        ),
        csrf_field(&s.csrf),
        t(lang, "预览（不修改）", "Dry run (changes nothing)"),
    );
    Resp::html(
        200,
        html::page(
            t(lang, "导入决定", "Import decisions"),
            Some(&s.viewer()),
            &body,
        ),
    )
}

/// One filled-in row: (row number, case id, action, request) or why it cannot be read.
type Row = (usize, Result<(i64, Kind, Request), String>);

fn read_rows(bytes: &[u8]) -> Result<Vec<Row>, ServeError> {
    use calamine::Reader;
    let mut wb =
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec())).map_err(xerr)?;
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| xerr("no sheet"))?;
    let range = wb.worksheet_range(&sheet).map_err(xerr)?;
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .unwrap_or_default();
    let col = |keys: &[&str]| {
        header
            .iter()
            .position(|h| keys.iter().any(|k| h.contains(k)))
    };
    let id_col = col(&["case_id", "案件编号"])
        .ok_or_else(|| xerr("没有“案件编号 case_id”列 / no case_id column"))?;
    let dec_col = col(&["decision", "决定"])
        .ok_or_else(|| xerr("没有“决定 decision”列 / no decision column"))?;
    let note_col = col(&["note", "说明"]);
    let to_col = col(&["assign_to", "指派给"]);
    let mut out = Vec::new();
    for (i, r) in rows.enumerate() {
        let cell = |c: Option<usize>| {
            c.and_then(|c| r.get(c))
                .map(|v| v.to_string().trim().to_string())
                .unwrap_or_default()
        };
        let decision = cell(Some(dec_col));
        if decision.is_empty() {
            continue;
        }
        let line = i + 2;
        let id_text = cell(Some(id_col));
        let parsed = (|| {
            let id = id_text
                .trim_end_matches(".0")
                .parse::<i64>()
                .map_err(|_| format!("案件编号 `{id_text}` 无效 / bad case id"))?;
            let kind = Kind::parse(&decision)
                .ok_or_else(|| format!("未知决定 `{decision}` / unknown decision"))?;
            if matches!(kind, Kind::Unmask | Kind::Snooze | Kind::Take) {
                return Err(format!(
                    "`{decision}` 不能通过导入执行 / not available in an import"
                ));
            }
            Ok((
                id,
                kind,
                Request {
                    to: cell(to_col),
                    note: cell(note_col),
                    until: None,
                    corrects: None,
                },
            ))
        })();
        out.push((line, parsed));
    }
    Ok(out)
}

fn plan_json(items: &[(i64, Kind, Request)]) -> String {
    let v: Vec<serde_json::Value> = items
        .iter()
        .map(|(id, k, r)| serde_json::json!([id, k.code(), r.note, r.to]))
        .collect();
    serde_json::Value::Array(v).to_string()
}

fn plan_of(json: &str) -> Result<Vec<(i64, Kind, Request)>, ServeError> {
    let bad = || CaseError::Invalid("导入计划无效 / malformed import plan".into());
    let v: Vec<(i64, String, String, String)> = serde_json::from_str(json).map_err(|_| bad())?;
    v.into_iter()
        .map(|(id, k, note, to)| {
            let kind = Kind::parse(&k).ok_or_else(bad)?;
            Ok((
                id,
                kind,
                Request {
                    to,
                    note,
                    until: None,
                    corrects: None,
                },
            ))
        })
        .collect()
}

pub fn dry_run(conn: &mut Connection, req: &Req, s: &Session) -> Result<Resp, ServeError> {
    let lang = s.lang;
    let file = req
        .files
        .iter()
        .find(|(n, _)| n == "file")
        .ok_or_else(|| CaseError::Invalid("没有上传文件 / no file".into()))?;
    let rows = read_rows(&file.1)?;
    let items: Vec<(i64, Kind, Request)> = rows
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().cloned())
        .collect();
    // The workflow checks every row in a transaction it then rolls back.
    let mut checked = workflow::perform_batch(conn, &s.actor, &items, false)?.into_iter();
    let mut table = String::new();
    let mut would = 0;
    let mut ok_items = Vec::new();
    for (line, parsed) in &rows {
        let (case, action, class, outcome) = match parsed {
            Err(why) => (String::new(), String::new(), "refused", why.clone()),
            Ok(item) => {
                let res = checked.next().expect("one result per item");
                let action = lang.pick(item.1.zh(), item.1.code()).to_string();
                match res {
                    Ok(st) => {
                        would += 1;
                        ok_items.push(item.clone());
                        (
                            format!("#{}", item.0),
                            action,
                            "would",
                            format!("{} {}", t(lang, "将变为", "would become"), st.label(lang)),
                        )
                    }
                    Err(e) => (format!("#{}", item.0), action, "refused", e.to_string()),
                }
            }
        };
        table.push_str(&format!(
            "<tr class=\"{class}\"><td>{line}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&case),
            esc(&action),
            esc(&outcome)
        ));
    }
    let body = format!(
        "<h1>{}</h1><p id=\"dry-run-summary\">{}</p><table id=\"dry-run\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{table}</tbody></table>\
         <form method=\"post\" action=\"/import/apply\" id=\"apply-form\">{}<input type=\"hidden\" name=\"plan\" value=\"{}\">\
         <button type=\"submit\" id=\"import-apply\"{}>{}</button></form>",
        t(lang, "导入预览（尚未修改）", "Import dry run (nothing changed yet)"),
        esc(&match lang {
            Lang::Zh => format!("{would} 行将执行，{} 行被拒绝", rows.len() - would),
            Lang::En => format!("{would} rows would apply, {} refused", rows.len() - would),
        }),
        t(lang, "行", "Row"),
        t(lang, "案件", "Case"),
        t(lang, "决定", "Decision"),
        t(lang, "结果", "Outcome"),
        csrf_field(&s.csrf),
        esc(&plan_json(&ok_items)),
        if would == 0 { " disabled" } else { "" },
        t(lang, "在一个事务中执行可执行的行", "Apply the rows that can apply, in one transaction"),
    );
    Ok(Resp::html(
        200,
        html::page(
            t(lang, "导入预览", "Import dry run"),
            Some(&s.viewer()),
            &body,
        ),
    ))
}

pub fn apply(conn: &mut Connection, req: &Req, s: &Session) -> Result<Resp, ServeError> {
    let items = plan_of(req.f("plan"))?;
    let results = workflow::perform_batch(conn, &s.actor, &items, true)?;
    let ids: Vec<i64> = items.iter().map(|i| i.0).collect();
    Ok(Resp::html(
        200,
        html::page(
            t(s.lang, "导入结果", "Import result"),
            Some(&s.viewer()),
            &super::inbox::results_table(&ids, &results, s.lang, "/inbox"),
        ),
    ))
}

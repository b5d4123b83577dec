//! HTML building blocks: escaping (every text that reaches a page goes through [`esc`], ledger
//! text through [`ledger`], which masks identifiers first), the page layout, labels in the
//! reader's language, money and times (UTC in the database, Beijing time on screen).

use crate::text::Lang;

/// Text escaped for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Ledger text: identifiers masked unless `unmask`, then escaped.
pub fn ledger(s: &str, unmask: bool) -> String {
    if unmask {
        esc(s)
    } else {
        esc(&crate::report::mask::mask_tokens(s))
    }
}

/// The reader's language pick.
pub fn t(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    lang.pick(zh, en)
}

pub fn yuan(fen: i64) -> String {
    crate::model::fen_to_yuan_grouped(fen)
}

/// A stored UTC time in Beijing time.
pub fn time(stored: &str) -> String {
    crate::dates::display_time(stored, false)
}

pub fn status_label(code: &str, lang: Lang) -> String {
    crate::finding::Status::parse(code)
        .map_or_else(|| code.to_string(), |s| s.label(lang).to_string())
}

pub fn change_label(code: &str, lang: Lang) -> String {
    match crate::finding::Change::parse(code) {
        Some(c) => c.label(lang).to_string(),
        None if code == "gone" => t(lang, "已消失", "gone").to_string(),
        None => code.to_string(),
    }
}

pub fn kind_label(code: &str, lang: Lang) -> String {
    crate::cases::subject_kind_label(code, lang)
}

pub fn rule_label(id: &str, lang: Lang) -> String {
    // The graph's findings stand in the rules column of ring and institution cases.
    match id {
        "ring" => return t(lang, "团伙关联", "ring").to_string(),
        "institution_risk" => return t(lang, "机构风险", "institution risk").to_string(),
        _ => {}
    }
    crate::rules::RULES.iter().find(|r| r.id == id).map_or_else(
        || id.to_string(),
        |r| lang.pick(r.title_zh, r.title_en).to_string(),
    )
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(csrf)
    )
}

/// Who is logged in, for the page header.
pub struct Viewer<'a> {
    pub name: &'a str,
    pub role: crate::store::users::Role,
    pub csrf: &'a str,
    pub lang: Lang,
}

/// A whole page: header with navigation (when logged in), the body, embedded assets only.
pub fn page(title: &str, viewer: Option<&Viewer<'_>>, body: &str) -> String {
    let lang = viewer.map_or(Lang::Zh, |v| v.lang);
    let mut out = String::with_capacity(body.len() + 2048);
    out.push_str(&format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · claimsweep</title><link rel=\"stylesheet\" href=\"/static/app.css\"><link rel=\"icon\" href=\"/static/icon.svg\">\
         <script src=\"/static/app.js\" defer></script></head><body>",
        t(lang, "zh-CN", "en"),
        esc(title)
    ));
    if let Some(v) = viewer {
        out.push_str("<header><nav>");
        out.push_str(&format!(
            "<a href=\"/inbox\">{}</a><a href=\"/inbox?view=triage\">{}</a><a href=\"/inbox?assignee=me\">{}</a><a href=\"/import\">{}</a>",
            t(lang, "待办", "Inbox"),
            t(lang, "分诊", "Triage"),
            t(lang, "我的案件", "My cases"),
            t(lang, "导入决定", "Import decisions"),
        ));
        if v.role.supervises() {
            out.push_str(&format!(
                "<a href=\"/admin\">{}</a>",
                t(lang, "管理", "Admin")
            ));
        }
        out.push_str(&format!(
            "</nav><div class=\"who\"><span id=\"whoami\">{} ({})</span>\
             <a href=\"/lang?to={}\">{}</a>\
             <form method=\"post\" action=\"/logout\" class=\"inline\">{}<button type=\"submit\">{}</button></form></div></header>",
            esc(v.name),
            v.role.label(lang),
            t(lang, "en", "zh"),
            t(lang, "English", "中文"),
            csrf_field(v.csrf),
            t(lang, "退出", "Log out"),
        ));
    }
    out.push_str("<main>");
    out.push_str(body);
    out.push_str("</main></body></html>");
    out
}

/// A page saying why something was refused or went wrong, with a way back.
pub fn message_page(title: &str, message: &str, back: &str, viewer: Option<&Viewer<'_>>) -> String {
    let lang = viewer.map_or(Lang::Zh, |v| v.lang);
    page(
        title,
        viewer,
        &format!(
            "<h1>{}</h1><p class=\"error\" id=\"message\">{}</p><p><a href=\"{}\">{}</a></p>",
            esc(title),
            esc(message),
            esc(back),
            t(lang, "返回", "Back")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_is_escaped_and_masked() {
        assert_eq!(
            esc("\"><img src=x onerror=alert(1)>"),
            "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(esc("<script>'"), "&lt;script&gt;&#39;");
        let s = ledger("<b>370102199001011234</b>", false);
        assert!(
            s.starts_with("&lt;b&gt;370") && !s.contains("199001011234"),
            "{s}"
        );
    }
}

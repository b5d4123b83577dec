//! Administration: accounts (admins add, disable and enable them) and the due days of each
//! case family (supervisors set them).

use super::auth::{self, Session};
use super::html::{self, csrf_field, esc, t};
use super::http::{Req, Resp};
use super::ServeError;
use crate::cases::CaseError;
use crate::finding::Family;
use crate::store::users::{self, Role};
use rusqlite::Connection;

fn require(s: &Session, admin: bool) -> Result<(), ServeError> {
    let ok = if admin {
        s.actor.role == Role::Admin
    } else {
        s.actor.role.supervises()
    };
    if ok {
        Ok(())
    } else {
        Err(CaseError::Forbidden(
            if admin {
                "只有管理员可以管理账号 / only an admin manages accounts"
            } else {
                "需要主管权限 / a supervisor's page"
            }
            .into(),
        )
        .into())
    }
}

pub fn page(conn: &Connection, s: &Session, message: Option<&str>) -> Result<Resp, ServeError> {
    require(s, false)?;
    let lang = s.lang;
    let mut body = format!("<h1>{}</h1>", t(lang, "管理", "Administration"));
    if let Some(m) = message {
        body.push_str(&format!("<p id=\"message\">{}</p>", esc(m)));
    }
    // Due days per family.
    let mut st =
        conn.prepare("SELECT rule_family, days, set_by, set_at FROM case_family_due ORDER BY 1")?;
    let dues: Vec<(String, i64, String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    body.push_str(&format!(
        "<section id=\"due\"><h2>{}</h2><form method=\"post\" action=\"/admin/due\" id=\"due-form\">{}<table><tbody>",
        t(lang, "各类案件的处理期限（自首次发现起的天数）", "Days to handle each case family (from first found)"),
        csrf_field(&s.csrf)
    ));
    for f in Family::ALL {
        let cur = dues.iter().find(|d| d.0 == f.code());
        body.push_str(&format!(
            "<tr><td>{}</td><td><input name=\"days_{}\" value=\"{}\" size=\"5\"></td><td>{}</td></tr>",
            esc(f.label(lang)),
            f.code(),
            cur.map_or(String::new(), |d| d.1.to_string()),
            cur.map_or(String::new(), |d| format!("{} {}", esc(&d.2), esc(&html::time(&d.3)))),
        ));
    }
    body.push_str(&format!(
        "</tbody></table><button type=\"submit\">{}</button></form></section>",
        t(lang, "保存期限", "Save")
    ));
    if s.actor.role == Role::Admin {
        body.push_str(&format!(
            "<section id=\"users\"><h2>{}</h2><table><tbody>",
            t(lang, "账号", "Accounts")
        ));
        for u in users::list(conn)? {
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><form method=\"post\" action=\"/admin/users/disable\" class=\"inline\">{}\
                 <input type=\"hidden\" name=\"name\" value=\"{}\"><input type=\"hidden\" name=\"disabled\" value=\"{}\"><button type=\"submit\">{}</button></form></td></tr>",
                esc(&u.name),
                u.role.label(lang),
                if u.disabled { t(lang, "已停用", "disabled") } else { "" },
                csrf_field(&s.csrf),
                esc(&u.name),
                if u.disabled { 0 } else { 1 },
                if u.disabled { t(lang, "启用", "Enable") } else { t(lang, "停用", "Disable") },
            ));
        }
        let mut roles = String::new();
        for r in Role::ALL {
            roles.push_str(&format!(
                "<option value=\"{}\">{}</option>",
                r.code(),
                r.label(lang)
            ));
        }
        body.push_str(&format!(
            "</tbody></table><form method=\"post\" action=\"/admin/users\" id=\"add-user\">{}\
             <input name=\"name\" placeholder=\"{}\" required><select name=\"role\">{roles}</select>\
             <input name=\"password\" type=\"password\" placeholder=\"{}\" required><button type=\"submit\">{}</button></form></section>",
            csrf_field(&s.csrf),
            t(lang, "姓名", "name"),
            t(lang, "初始密码（至少 8 位）", "initial password (8+)"),
            t(lang, "添加账号", "Add account"),
        ));
    }
    Ok(Resp::html(
        200,
        html::page(t(lang, "管理", "Administration"), Some(&s.viewer()), &body),
    ))
}

pub fn add_user(conn: &Connection, req: &Req, s: &Session) -> Result<Resp, ServeError> {
    require(s, true)?;
    let name = req.f("name").trim();
    let role = Role::parse(req.f("role")).ok_or_else(|| {
        CaseError::Invalid(format!("未知角色 / unknown role `{}`", req.f("role")))
    })?;
    if name.is_empty() {
        return Err(CaseError::Empty("name / 姓名").into());
    }
    let hash = auth::hash_password(req.f("password"))?;
    if users::add(conn, name, role, &hash)?.is_none() {
        return Err(
            CaseError::Invalid(format!("账号 `{name}` 已存在 / account `{name}` exists")).into(),
        );
    }
    page(
        conn,
        s,
        Some(&format!(
            "{} {name}",
            t(s.lang, "已添加账号", "Added account")
        )),
    )
}

pub fn disable(conn: &Connection, req: &Req, s: &Session) -> Result<Resp, ServeError> {
    require(s, true)?;
    let name = req.f("name").trim();
    if name == s.actor.name {
        return Err(CaseError::Invalid(
            "不能停用自己的账号 / you cannot disable your own account".into(),
        )
        .into());
    }
    if !users::set_disabled(conn, name, req.f("disabled") == "1")? {
        return Err(CaseError::NoUser(name.to_string()).into());
    }
    Ok(Resp::redirect("/admin"))
}

pub fn set_due(conn: &Connection, req: &Req, s: &Session) -> Result<Resp, ServeError> {
    require(s, false)?;
    for f in Family::ALL {
        let v = req.f(&format!("days_{}", f.code())).trim();
        let days = match v {
            "" => None,
            d => Some(
                d.parse::<i64>()
                    .ok()
                    .filter(|n| (1..=3650).contains(n))
                    .ok_or_else(|| {
                        CaseError::Invalid(format!(
                            "`{d}`：期限应为 1–3650 天 / days must be 1–3650"
                        ))
                    })?,
            ),
        };
        crate::store::cases::set_family_due(conn, f.code(), days, &s.actor.name)?;
    }
    Ok(Resp::redirect("/admin"))
}

//! Accounts and sessions: argon2id password hashes, login with a session cookie
//! (`HttpOnly; SameSite=Strict; Path=/`, the database keeps only the token's SHA-256 and its
//! expiry), a CSRF token per session carried by every form and checked on every POST, and the
//! login form's own CSRF token (a cookie and a hidden field that must agree).

use super::html::{self, esc, t, Viewer};
use super::http::{Req, Resp};
use super::ServeError;
use crate::cases::workflow::Actor;
use crate::store::users;
use crate::text::Lang;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rusqlite::Connection;
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "cs_session";
const LOGIN_COOKIE: &str = "cs_login";
pub const LANG_COOKIE: &str = "cs_lang";
/// Shortest password `users add` accepts.
pub const MIN_PASSWORD: usize = 8;

/// An argon2id PHC string of the password.
pub fn hash_password(password: &str) -> Result<String, ServeError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(ServeError::Password(format!(
            "密码至少 {MIN_PASSWORD} 个字符 / a password needs at least {MIN_PASSWORD} characters"
        )));
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServeError::Password(e.to_string()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// 32 random bytes as hex.
pub fn random_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex(&b)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Comparison whose time does not depend on where the texts differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The logged-in account of a request.
pub struct Session {
    pub actor: Actor,
    pub csrf: String,
    pub token_hash: String,
    pub lang: Lang,
}

impl Session {
    pub fn viewer(&self) -> Viewer<'_> {
        Viewer {
            name: &self.actor.name,
            role: self.actor.role,
            csrf: &self.csrf,
            lang: self.lang,
        }
    }
}

pub fn lang_of(req: &Req) -> Lang {
    if req.cookie(LANG_COOKIE) == "en" {
        Lang::En
    } else {
        Lang::Zh
    }
}

/// The live session of the request's cookie, if any.
pub fn session(conn: &Connection, req: &Req) -> Result<Option<Session>, ServeError> {
    let token = req.cookie(SESSION_COOKIE);
    if token.len() != 64 {
        return Ok(None);
    }
    let hash = token_hash(token);
    let now = crate::dates::now_timestamp();
    Ok(users::session(conn, &hash, &now)?.map(|(u, csrf)| Session {
        actor: Actor {
            name: u.name,
            role: u.role,
        },
        csrf,
        token_hash: hash,
        lang: lang_of(req),
    }))
}

/// Whether a POST carries the session's CSRF token.
pub fn csrf_ok(req: &Req, s: &Session) -> bool {
    let sent = req.f("csrf");
    !sent.is_empty() && same(sent, &s.csrf)
}

pub fn cookie(name: &str, value: &str, max_age: u64, secure: bool) -> String {
    format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn login_page(req: &Req, error: Option<&str>, secure: bool) -> Resp {
    let lang = lang_of(req);
    let token = random_token();
    let err = error.map_or(String::new(), |e| {
        format!("<p class=\"error\" id=\"message\">{}</p>", esc(e))
    });
    let body = format!(
        "<section class=\"login\"><h1>{}</h1>{err}<form method=\"post\" action=\"/login\" id=\"login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
         <label>{} <input name=\"name\" id=\"name\" autocomplete=\"username\" required></label>\
         <label>{} <input name=\"password\" id=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\" id=\"login-button\">{}</button></form>\
         <p><a href=\"/lang?to={}\">{}</a></p></section>",
        t(lang, "培训补贴核查工作台", "Training subsidy review workspace"),
        t(lang, "账号", "Name"),
        t(lang, "密码", "Password"),
        t(lang, "登录", "Log in"),
        t(lang, "en", "zh"),
        t(lang, "English", "中文"),
    );
    Resp::html(
        if error.is_some() { 401 } else { 200 },
        html::page(t(lang, "登录", "Log in"), None, &body),
    )
    .with_cookie(cookie(LOGIN_COOKIE, &token, 3600, secure))
}

/// Checks name and password; on success a new session and its cookie.
pub fn login(
    conn: &Connection,
    req: &Req,
    session_secs: u64,
    secure: bool,
) -> Result<Resp, ServeError> {
    let lang = lang_of(req);
    let form_token = req.f("csrf");
    if form_token.is_empty() || !same(form_token, req.cookie(LOGIN_COOKIE)) {
        return Ok(Resp::text(
            403,
            "CSRF token missing or wrong / 表单已失效，请刷新登录页",
        ));
    }
    let name = req.f("name").trim();
    let found = users::by_name(conn, name)?;
    let ok = match &found {
        Some((u, hash)) => !u.disabled && verify_password(req.f("password"), hash),
        None => {
            // As slow as a real check, so timing does not tell which names exist.
            let _ = verify_password(req.f("password"), DUMMY_HASH);
            false
        }
    };
    let Some((user, _)) = found.filter(|_| ok) else {
        return Ok(login_page(
            req,
            Some(t(lang, "账号或密码错误", "Wrong name or password")),
            secure,
        ));
    };
    let token = random_token();
    let csrf = random_token();
    let expires = crate::dates::timestamp_of(crate::dates::now_unix() + session_secs);
    users::create_session(conn, &token_hash(&token), user.user_id, &csrf, &expires)?;
    Ok(Resp::redirect("/inbox")
        .with_cookie(cookie(SESSION_COOKIE, &token, session_secs, secure))
        .with_cookie(cookie(LOGIN_COOKIE, "", 0, secure)))
}

pub fn logout(conn: &Connection, s: &Session, secure: bool) -> Result<Resp, ServeError> {
    users::end_session(conn, &s.token_hash)?;
    Ok(Resp::redirect("/login").with_cookie(cookie(SESSION_COOKIE, "", 0, secure)))
}

/// A valid argon2id hash of a random password: what an unknown name is checked against.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$Qh8yJ8bQ4mG0oJwTn6Qf9z5cJ0J7m2r1cZ0p8Jm5V3Q";

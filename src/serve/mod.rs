//! `claimsweep serve`: the inspectors' web workspace over the same SQLite database. Server-side
//! HTML with a little plain JavaScript, every asset compiled into the binary (bureaus work
//! offline), loopback by default.
//!
//! The HTTP server (axum on a small tokio runtime) only moves bytes: each request becomes a
//! [`http::Req`] handled synchronously on a blocking thread with a pooled SQLite connection,
//! so every page is a plain function over a database connection. Every response carries a
//! Content-Security-Policy without inline scripts or styles, `X-Frame-Options: DENY` and
//! `Cache-Control: no-store`. Writes go through `cases::workflow` (one `BEGIN IMMEDIATE` per
//! action, the busy timeout waits for other writers), so no reviewer sees "database is
//! locked" and the history is the same as the CLI's.
//!
//! Files: `http` (request/response, forms), `html` (escaping, layout), `auth` (passwords,
//! sessions, CSRF), `filters` (the inbox's checked filters), `inbox` (inbox, triage, bulk,
//! next), `case` (case page, actions, neighbourhood picture), `admin` (accounts, due days),
//! `xlsx` (the Excel round trip).

pub mod admin;
pub mod auth;
pub mod case;
pub mod filters;
pub mod html;
pub mod http;
pub mod inbox;
pub mod xlsx;

use crate::cases::CaseError;
use http::{Req, Resp};
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Case(#[from] CaseError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("数据库错误 / database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("{0}")]
    Password(String),
    #[error("Excel: {0}")]
    Xlsx(String),
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// How the server runs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub db: PathBuf,
    /// `127.0.0.1:8080` unless told otherwise; port 0 picks a free port.
    pub bind: String,
    pub session_secs: u64,
    /// Adds `Secure` to cookies (when a TLS proxy stands in front).
    pub secure_cookies: bool,
}

/// What every request shares: the database and a few open connections to it.
pub struct App {
    db: PathBuf,
    pool: Mutex<Vec<Connection>>,
    pub session_secs: u64,
    pub secure: bool,
    /// Failed logins per account name: (count, when the last one was, unix seconds).
    failures: Mutex<std::collections::HashMap<String, (u32, u64)>>,
}

/// Failed logins after which an account name is refused for [`LOCKOUT_SECS`].
const MAX_FAILURES: u32 = 5;
const LOCKOUT_SECS: u64 = 60;

/// Connections kept open between requests.
const POOL: usize = 8;
/// Largest request body (an uploaded workbook).
const BODY_LIMIT: usize = 32 << 20;

impl App {
    pub fn new(opts: &ServeOptions) -> Result<App, ServeError> {
        let conn = crate::cases::open_db(&opts.db)?;
        Ok(App {
            db: opts.db.clone(),
            pool: Mutex::new(vec![conn]),
            session_secs: opts.session_secs,
            secure: opts.secure_cookies,
            failures: Mutex::new(Default::default()),
        })
    }

    fn with_conn<T>(&self, f: impl FnOnce(&mut Connection) -> T) -> Result<T, ServeError> {
        let pooled = self.pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut conn = match pooled {
            Some(c) => c,
            None => crate::cases::open_db(&self.db)?,
        };
        let out = f(&mut conn);
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        // A connection left inside a transaction (a panic) is not reused.
        if pool.len() < POOL && conn.is_autocommit() {
            pool.push(conn);
        }
        Ok(out)
    }
}

const APP_JS: &str = include_str!("static/app.js");
const APP_CSS: &str = include_str!("static/app.css");
const ICON: &str = include_str!("static/icon.svg");

/// One request, start to end.
pub fn handle(app: &App, req: Req) -> Resp {
    match app.with_conn(|conn| route(app, conn, &req)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("claimsweep serve: {e}");
            Resp::text(500, "内部错误 / internal error")
        }
    }
}

fn route(app: &App, conn: &mut Connection, req: &Req) -> Resp {
    let (m, p) = (req.method.as_str(), req.path.as_str());
    let public = match (m, p) {
        ("GET", "/static/app.js") => Some(Ok(asset(APP_JS, "text/javascript; charset=utf-8"))),
        ("GET", "/static/app.css") => Some(Ok(asset(APP_CSS, "text/css; charset=utf-8"))),
        ("GET", "/static/icon.svg" | "/favicon.ico") => Some(Ok(asset(ICON, "image/svg+xml"))),
        ("GET", "/login") => Some(Ok(auth::login_page(req, None, app.secure))),
        ("POST", "/login") => Some(login(app, conn, req)),
        ("GET", "/lang") => {
            let to = if req.q("to") == "en" { "en" } else { "zh" };
            Some(Ok(Resp::redirect("/inbox").with_cookie(auth::cookie(
                auth::LANG_COOKIE,
                to,
                365 * 86_400,
                app.secure,
            ))))
        }
        _ => None,
    };
    if let Some(r) = public {
        return r.unwrap_or_else(|e| internal(&e));
    }
    let s = match auth::session(conn, req) {
        Ok(Some(s)) => s,
        Ok(None) if m == "GET" => return Resp::redirect("/login"),
        Ok(None) => return Resp::text(401, "请先登录 / login required"),
        Err(e) => return internal(&e),
    };
    if m == "POST" && !auth::csrf_ok(req, &s) {
        return Resp::text(
            403,
            "CSRF 校验失败，请刷新页面 / CSRF token missing or invalid",
        );
    }
    let segs: Vec<&str> = p.trim_matches('/').split('/').collect();
    let out = match (m, segs.as_slice()) {
        ("GET", [""]) => Ok(Resp::redirect("/inbox")),
        ("GET", ["inbox"]) => inbox::page(conn, req, &s),
        ("POST", ["inbox", "bulk"]) => inbox::bulk(conn, req, &s),
        ("POST", ["next"]) => inbox::next(conn, &s),
        ("GET", ["export.xlsx"]) => xlsx::export(conn, req, &s),
        ("GET", ["import"]) => Ok(xlsx::import_form(&s)),
        ("POST", ["import"]) => xlsx::dry_run(conn, req, &s),
        ("POST", ["import", "apply"]) => xlsx::apply(conn, req, &s),
        ("GET", ["admin"]) => admin::page(conn, &s, None),
        ("POST", ["admin", "users"]) => admin::add_user(conn, req, &s),
        ("POST", ["admin", "users", "disable"]) => admin::disable(conn, req, &s),
        ("POST", ["admin", "due"]) => admin::set_due(conn, req, &s),
        ("POST", ["logout"]) => auth::logout(conn, &s, app.secure),
        ("GET", ["case", id]) => with_id(id, |id| case::page(conn, req, &s, id, false)),
        ("POST", ["case", id, "act"]) => with_id(id, |id| case::act(conn, req, &s, id)),
        ("POST", ["case", id, "unmask"]) => with_id(id, |id| case::unmask(conn, req, &s, id)),
        _ => Ok(Resp::html(
            404,
            html::message_page(
                "404",
                html::t(s.lang, "没有这个页面", "No such page"),
                "/inbox",
                Some(&s.viewer()),
            ),
        )),
    };
    out.unwrap_or_else(|e| refusal(&e, &s))
}

/// Login, slowed for a name after repeated failures (guessing passwords takes minutes, not
/// seconds; each check already costs an argon2 hash).
fn login(app: &App, conn: &Connection, req: &Req) -> Result<Resp, ServeError> {
    let name = req.f("name").trim().to_string();
    let now = crate::dates::now_unix();
    {
        let failures = app.failures.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((n, last)) = failures.get(&name) {
            if *n >= MAX_FAILURES && now < last + LOCKOUT_SECS {
                return Ok(Resp::text(429, "登录失败次数过多，请一分钟后再试 / too many failed logins, try again in a minute"));
            }
        }
    }
    let resp = auth::login(conn, req, app.session_secs, app.secure)?;
    let mut failures = app.failures.lock().unwrap_or_else(|e| e.into_inner());
    if resp.status == 401 {
        let e = failures.entry(name).or_insert((0, now));
        *e = (e.0 + 1, now);
    } else if resp.status == 303 {
        failures.remove(&name);
    }
    Ok(resp)
}

fn with_id(
    text: &str,
    f: impl FnOnce(i64) -> Result<Resp, ServeError>,
) -> Result<Resp, ServeError> {
    match text.parse::<i64>() {
        Ok(id) => f(id),
        Err(_) => Err(ServeError::Case(CaseError::Invalid(format!(
            "`{text}` 不是案件编号 / is not a case id"
        )))),
    }
}

/// A refused action (403 forbidden, 404 no case, 409 not in this state, 400 bad input) as a
/// page that says why; anything else is an internal error.
fn refusal(e: &ServeError, s: &auth::Session) -> Resp {
    let status = match e {
        ServeError::Case(CaseError::Forbidden(_)) => 403,
        ServeError::Case(CaseError::NoCase(_)) => 404,
        ServeError::Case(CaseError::InvalidTransition { .. }) => 409,
        ServeError::Case(
            CaseError::Empty(_)
            | CaseError::Invalid(_)
            | CaseError::NoUser(_)
            | CaseError::UnknownStatus(_),
        )
        | ServeError::Password(_)
        | ServeError::Xlsx(_) => 400,
        _ => return internal(e),
    };
    let title = html::t(s.lang, "操作未执行", "Not done");
    Resp::html(
        status,
        html::message_page(
            title,
            &e.to_string(),
            "javascript:history.back()",
            Some(&s.viewer()),
        ),
    )
}

fn internal(e: &ServeError) -> Resp {
    eprintln!("claimsweep serve: {e}");
    Resp::text(500, "内部错误，请稍后重试 / internal error, please retry")
}

fn asset(body: &str, ctype: &str) -> Resp {
    Resp {
        status: 200,
        headers: vec![("content-type", ctype.to_string())],
        body: body.as_bytes().to_vec(),
    }
}

/// Headers every response carries.
const SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
];

/// Serves until the process ends; prints `listening on http://ADDR` once bound.
pub fn run(opts: &ServeOptions) -> Result<(), ServeError> {
    let app = Arc::new(App::new(opts)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(POOL)
        .enable_all()
        .build()
        .map_err(|e| ServeError::Io("tokio".into(), e))?;
    let bind = opts.bind.clone();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&bind)
            .await
            .map_err(|e| ServeError::Io(bind.clone(), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ServeError::Io(bind.clone(), e))?;
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on http://{addr}");
            let _ = out.flush();
        }
        let router = axum::Router::new().fallback(serve_request).with_state(app);
        axum::serve(listener, router)
            .await
            .map_err(|e| ServeError::Io(bind.clone(), e))
    })
}

async fn serve_request(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::http::{HeaderName, HeaderValue, StatusCode};
    let (parts, body) = request.into_parts();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let resp = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Err(_) => Resp::text(413, "请求过大 / request too large"),
        Ok(bytes) => {
            let req = Req::new(
                parts.method.as_str(),
                parts.uri.path(),
                parts.uri.query().unwrap_or(""),
                &header("cookie"),
                &header("content-type"),
                bytes.to_vec(),
            );
            tokio::task::spawn_blocking(move || handle(&app, req))
                .await
                .unwrap_or_else(|_| Resp::text(500, "内部错误 / internal error"))
        }
    };
    let mut out = axum::response::Response::new(axum::body::Body::from(resp.body));
    *out.status_mut() =
        StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = out.headers_mut();
    for (k, v) in SECURITY_HEADERS {
        headers.insert(*k, HeaderValue::from_static(v));
    }
    for (k, v) in resp.headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            headers.append(HeaderName::from_static(k), v);
        }
    }
    out
}

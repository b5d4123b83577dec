//! What the `serve` tests share: a swept generated ledger with accounts, the real binary
//! serving it on a free loopback port, and a small HTTP/1.1 client with a cookie jar (plain
//! `TcpStream`, so the tests see exactly the bytes the server sends).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const INSPECTOR: (&str, &str) = ("王敏", "inspector-pw-1");
pub const INSPECTOR2: (&str, &str) = ("赵刚", "inspector-pw-2");
pub const SUPERVISOR: (&str, &str) = ("李主管", "supervisor-pw");
pub const ADMIN: (&str, &str) = ("admin", "admin-password");

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_claimsweep")
}

pub fn run_ok(args: &[&str]) -> String {
    let out = Command::new(bin())
        .args(args)
        .output()
        .expect("run claimsweep");
    assert!(
        out.status.success(),
        "claimsweep {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn add_user(db: &str, name: &str, role: &str, password: &str) {
    let out = Command::new(bin())
        .args(["users", "add", name, "--role", role, "--db", db])
        .env("CLAIMSWEEP_PASSWORD", password)
        .output()
        .expect("users add");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A generated, ingested and swept ledger of `claims` claims with four accounts; hostile text
/// in an institution's name and a claimant's name when `hostile`.
pub fn fixture(dir: &Path, claims: u32, hostile: bool) -> PathBuf {
    let data = dir.join("data");
    let db = dir.join("t.db");
    let (data_s, db_s) = (data.to_str().unwrap(), db.to_str().unwrap());
    run_ok(&[
        "generate",
        "--out",
        data_s,
        "--claims",
        &claims.to_string(),
        "--seed",
        "11",
    ]);
    if hostile {
        // Ledger text an attacker could type into the bureau's system.
        let path = data.join("institutions.csv");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        for line in lines.iter_mut().skip(1) {
            let mut cells: Vec<String> = line.split(',').map(String::from).collect();
            cells[1] = format!(
                "\"<script>alert(1)</script>\"\"><img src=x onerror=alert(2)>{}\"",
                cells[1]
            );
            *line = cells.join(",");
        }
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    }
    run_ok(&["ingest", "--db", db_s, data_s]);
    run_ok(&["sweep", "--db", db_s]);
    add_user(db_s, INSPECTOR.0, "inspector", INSPECTOR.1);
    add_user(db_s, INSPECTOR2.0, "inspector", INSPECTOR2.1);
    add_user(db_s, SUPERVISOR.0, "supervisor", SUPERVISOR.1);
    add_user(db_s, ADMIN.0, "admin", ADMIN.1);
    db
}

/// The real binary serving a database; killed when dropped.
pub struct Server {
    child: Child,
    pub addr: String,
}

impl Server {
    pub fn start(db: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(bin())
            .args([
                "serve",
                "--db",
                db.to_str().unwrap(),
                "--bind",
                "127.0.0.1:0",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("read address");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Server { child, addr }
    }
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// One request over a fresh connection.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    cookie: &str,
    body: &[u8],
    content_type: &str,
) -> Response {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !cookie.is_empty() {
        head.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if !content_type.is_empty() {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[eol + 2 + n + 2..];
    }
    out
}

/// A logged-in browser-like client: its session cookie and the session's CSRF token.
pub struct Client {
    pub addr: String,
    pub cookie: String,
    pub csrf: String,
}

/// The first `name="csrf" value="…"` of a page.
pub fn csrf_of(html: &str) -> String {
    let key = "name=\"csrf\" value=\"";
    let i = html.find(key).expect("csrf field") + key.len();
    html[i..i + 64].to_string()
}

fn cookie_value(r: &Response, name: &str) -> Option<String> {
    r.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, v)| {
            v.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap().to_string())
        })
}

impl Client {
    pub fn login(addr: &str, (name, password): (&str, &str)) -> Client {
        let page = request(addr, "GET", "/login", "", b"", "");
        let login_cookie = cookie_value(&page, "cs_login").expect("login cookie");
        let token = csrf_of(&page.text());
        let r = request(
            addr,
            "POST",
            "/login",
            &format!("cs_login={login_cookie}"),
            form(&[("csrf", &token), ("name", name), ("password", password)]).as_bytes(),
            "application/x-www-form-urlencoded",
        );
        assert_eq!(r.status, 303, "login of {name} failed: {}", r.text());
        let session = cookie_value(&r, "cs_session").expect("session cookie");
        let cookie = format!("cs_session={session}");
        let inbox = request(addr, "GET", "/inbox", &cookie, b"", "");
        assert_eq!(inbox.status, 200);
        Client {
            addr: addr.to_string(),
            cookie,
            csrf: csrf_of(&inbox.text()),
        }
    }
    pub fn get(&self, path: &str) -> Response {
        request(&self.addr, "GET", path, &self.cookie, b"", "")
    }
    /// A form POST with the session's CSRF token added.
    pub fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        request(
            &self.addr,
            "POST",
            path,
            &self.cookie,
            form(&all).as_bytes(),
            "application/x-www-form-urlencoded",
        )
    }
}

/// Case ids in a page (`data-case="N"`), in page order.
pub fn case_ids(html: &str) -> Vec<i64> {
    html.match_indices("data-case=\"")
        .map(|(i, k)| {
            let rest = &html[i + k.len()..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

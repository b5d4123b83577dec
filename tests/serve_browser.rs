//! A day's work in the web workspace in a real headless Chromium, driven over the DevTools
//! protocol (a small client: `tungstenite` + JSON): an inspector logs in, filters the inbox,
//! takes the next case, comments and confirms; a supervisor approves and reopens. After each
//! step the test checks what the page shows, and at the end that `claimsweep cases history`
//! holds the same entries under the same names. The page must log no error, throw nothing,
//! open no dialog (hostile ledger text would) and break no CSP rule. Screenshots of the
//! inbox and the case page are saved under `target/screenshots/`.
//!
//! Without `/usr/bin/chromium` the test is skipped on a developer's machine, but fails when
//! `CI_REQUIRE_BROWSER=1` (CI installs Chromium and sets it).

mod serve_common;
use serde_json::{json, Value};
use serve_common::*;
use std::io::BufRead;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::{stream::MaybeTlsStream, Message, WebSocket};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Chromium with one page, driven over its DevTools websocket.
struct Browser {
    child: Child,
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    events: Vec<Value>,
    /// Every error the page reported (console errors, exceptions, dialogs, CSP refusals).
    faults: Vec<String>,
}

impl Browser {
    fn start(profile: &Path) -> Browser {
        let mut child = Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,1000",
                "--remote-debugging-port=0",
                &format!("--user-data-dir={}", profile.display()),
                "about:blank",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start chromium");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("chromium's DevTools address");
        let (ws, _) = tungstenite::connect(url.as_str()).expect("connect DevTools");
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        }
        let mut b = Browser {
            child,
            ws,
            session: String::new(),
            next_id: 0,
            events: Vec::new(),
            faults: Vec::new(),
        };
        let target =
            b.call("Target.createTarget", json!({"url": "about:blank"}))["targetId"].clone();
        let session = b.call(
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        )["sessionId"]
            .as_str()
            .unwrap()
            .to_string();
        b.session = session;
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            b.call(domain, json!({}));
        }
        b
    }

    fn note_event(&mut self, v: &Value) {
        let m = v["method"].as_str().unwrap_or("");
        let p = &v["params"];
        let fault = match m {
            "Runtime.exceptionThrown" => Some(format!("exception: {}", p["exceptionDetails"])),
            "Runtime.consoleAPICalled" if p["type"] == "error" || p["type"] == "warning" => {
                Some(format!("console: {}", p["args"]))
            }
            "Log.entryAdded"
                if p["entry"]["level"] == "error" || p["entry"]["source"] == "security" =>
            {
                Some(format!("log: {}", p["entry"]["text"]))
            }
            "Page.javascriptDialogOpening" => Some(format!("dialog: {}", p["message"])),
            _ => None,
        };
        if let Some(f) = fault {
            self.faults.push(f);
        }
    }

    /// Sends a command (to the page when attached) and waits for its answer.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        self.ws.send(Message::text(msg.to_string())).expect("send");
        loop {
            let v = self.read();
            if v["id"] == json!(id) {
                if let Some(e) = v.get("error") {
                    panic!("{method}: {e}");
                }
                return v["result"].clone();
            }
            self.note_event(&v);
            self.events.push(v);
        }
    }

    fn read(&mut self) -> Value {
        loop {
            match self.ws.read().expect("DevTools read") {
                Message::Text(t) => return serde_json::from_str(t.as_str()).expect("json"),
                Message::Close(_) => panic!("DevTools closed"),
                _ => {}
            }
        }
    }

    /// Runs JavaScript in the page and returns its value.
    fn eval(&mut self, js: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("{js}: {e}");
        }
        r["result"]["value"].clone()
    }

    fn text(&mut self, selector: &str) -> String {
        let js = format!(
            "(function(){{var e=document.querySelector({});return e?e.textContent:null}})()",
            json!(selector)
        );
        self.eval(&js)
            .as_str()
            .unwrap_or_else(|| panic!("no element {selector}"))
            .to_string()
    }

    /// Runs `js` (which navigates: a click that submits, a link) and waits for the new page.
    fn and_wait(&mut self, js: &str) {
        self.events.retain(|e| e["method"] != "Page.loadEventFired");
        self.eval(js);
        let start = Instant::now();
        loop {
            if self
                .events
                .iter()
                .any(|e| e["method"] == "Page.loadEventFired")
            {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "page did not load after {js}"
            );
            let v = self.read();
            self.note_event(&v);
            self.events.push(v);
        }
        self.events.clear();
        // The page script ran to its end (it marks the document ready).
        let ready = self.eval("document.documentElement.getAttribute('data-ready')");
        assert_eq!(
            ready,
            json!("1"),
            "app.js did not run on {}",
            self.eval("location.href")
        );
    }

    fn go(&mut self, url: &str) {
        self.and_wait(&format!("location.href = {}", json!(url)));
    }

    fn click(&mut self, selector: &str) {
        self.and_wait(&format!(
            "document.querySelector({}).click()",
            json!(selector)
        ));
    }

    fn set(&mut self, selector: &str, value: &str) {
        let js = format!(
            "document.querySelector({}).value = {}",
            json!(selector),
            json!(value)
        );
        self.eval(&js);
    }

    fn screenshot(&mut self, name: &str) {
        let r = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        let png = base64_decode(r["data"].as_str().unwrap());
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), png).unwrap();
    }

    fn path(&mut self) -> String {
        self.eval("location.pathname + location.search")
            .as_str()
            .unwrap()
            .to_string()
    }

    fn login(&mut self, base: &str, (name, password): (&str, &str)) {
        self.go(&format!("{base}/login"));
        self.set("#name", name);
        self.set("#password", password);
        self.click("#login-button");
        assert_eq!(self.path(), "/inbox");
        assert!(self.text("#whoami").contains(name));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= (val(*c) as u32) << (18 - 6 * i);
        }
        out.push((n >> 16) as u8);
        if chunk.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(n as u8);
        }
    }
    out
}

#[test]
fn a_day_of_review_in_chromium() {
    if !Path::new(CHROMIUM).exists() {
        if std::env::var("CI_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!(
                "{CHROMIUM} is missing but CI_REQUIRE_BROWSER=1: install chromium (see .ci/run)"
            );
        }
        eprintln!("skipped: {CHROMIUM} not installed (apt-get install chromium)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = fixture(dir.path(), 3000, true);
    let server = Server::start(&db, &[]);
    let base = format!("http://{}", server.addr);
    let profile = tempfile::tempdir().unwrap();
    let mut b = Browser::start(profile.path());

    // The inspector logs in and filters the inbox by a rule's Chinese title.
    b.login(&base, INSPECTOR);
    let title = claimsweep::rules::RULES
        .iter()
        .find(|r| r.id == "deceased")
        .unwrap()
        .title_zh;
    b.set("#f-rule", title);
    b.set("#f-kind", "person");
    b.click("#apply-filters");
    assert!(b.path().starts_with("/inbox?"), "{}", b.path());
    let total: i64 = b
        .eval("+document.getElementById('count').dataset.total")
        .as_i64()
        .unwrap();
    assert!(total > 0, "the filter found no case");
    let rows = b.eval(
        "Array.prototype.map.call(document.querySelectorAll('tr.case-row'), function(r){return [r.cells[2].textContent, r.cells[6].textContent]})",
    );
    for r in rows.as_array().unwrap() {
        assert_eq!(r[0], json!("人员"), "{r}");
        assert!(r[1].as_str().unwrap().contains(title), "{r}");
    }
    // A value that does not check is reported, not applied.
    b.go(&format!("{base}/inbox?county=nowhere"));
    assert!(b.text("#filter-errors").contains("nowhere"));
    b.go(&format!("{base}/inbox"));
    b.screenshot("inbox.png");
    b.go(&format!("{base}/inbox?view=triage"));
    assert!(b.text("#triage-summary").contains("决定"));

    // Next unassigned case: it is now the inspector's.
    b.click("#next-case");
    let case_path = b.path();
    let case_id: i64 = case_path
        .trim_start_matches("/case/")
        .parse()
        .expect("a case page");
    assert_eq!(b.text("#case-assignee"), INSPECTOR.0);
    assert_eq!(b.text("#case-status"), "核查中");
    assert!(b.text("#summary").contains("涉及金额"));

    // A comment (no status change), shown as text, not markup.
    b.set("#comment-note", "浏览器备注 <b>x</b>");
    b.click("#comment-button");
    assert_eq!(
        b.text("#history-table tbody tr:last-child .note"),
        "浏览器备注 <b>x</b>"
    );
    assert_eq!(
        b.text("#history-table tbody tr:last-child .actor"),
        INSPECTOR.0
    );
    assert_eq!(b.text("#case-status"), "核查中");

    // The inspector confirms: it waits for a supervisor.
    b.set("#act-confirm input[name=note]", "证书系伪造");
    b.click("#act-confirm button");
    assert_eq!(b.text("#case-status"), "待审批");
    assert_eq!(
        b.eval("document.getElementById('act-approve')"),
        Value::Null,
        "an inspector sees no approve button"
    );
    b.screenshot("case.png");

    // The supervisor approves, then reopens with a reason.
    b.click("header form button");
    assert_eq!(b.path(), "/login");
    b.login(&base, SUPERVISOR);
    b.go(&format!("{base}{case_path}"));
    b.click("#act-approve button");
    assert_eq!(b.text("#case-status"), "已确认");
    b.set("#act-reopen input[name=note]", "新线索：2 笔新申领");
    b.click("#act-reopen button");
    assert_eq!(b.text("#case-status"), "核查中");
    // Unmasking is recorded in the history under the supervisor's name.
    b.click("#act-unmask button");
    assert!(b.text("#unmasked").contains("已记录"));
    assert_eq!(
        b.text("#history-table tbody tr:last-child .actor"),
        SUPERVISOR.0
    );

    // The CLI's history has the same entries, under the same names.
    let history: Value = serde_json::from_str(&run_ok(&[
        "cases",
        "history",
        &case_id.to_string(),
        "--json",
        "--db",
        db.to_str().unwrap(),
    ]))
    .unwrap();
    let steps: Vec<(String, String, String)> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["sweep_id"].is_null())
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_string(),
                e["action"].as_str().unwrap().to_string(),
                e["to_status"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String, String)> = [
        (INSPECTOR.0, "assign", "in_review"),
        (INSPECTOR.0, "comment", "in_review"),
        (INSPECTOR.0, "propose_confirm", "pending_approval"),
        (SUPERVISOR.0, "approve", "confirmed"),
        (SUPERVISOR.0, "reopen", "in_review"),
        (SUPERVISOR.0, "unmask", "in_review"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(steps, want);
    let page_rows = b
        .eval("document.querySelectorAll('#history-table tbody tr').length")
        .as_i64()
        .unwrap();
    assert_eq!(
        page_rows as usize,
        history.as_array().unwrap().len(),
        "the page shows every entry"
    );

    assert!(
        b.faults.is_empty(),
        "the pages reported faults:\n{}",
        b.faults.join("\n")
    );
    drop(server);
}

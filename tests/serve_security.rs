//! The web workspace's security, against the real binary over HTTP: nothing without login, a
//! CSRF token on every POST, roles and ownership enforced (403), sessions that end, loopback
//! by default, hostile ledger text escaped everywhere, and a Content Security Policy without
//! inline scripts.

mod serve_common;
use serve_common::*;

fn history_len(db: &std::path::Path, case: i64) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT count(*) FROM case_history WHERE case_id = ?1",
        [case],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn web_workspace_is_secure() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture(dir.path(), 3000, true);
    let server = Server::start(&db, &[]);
    let addr = server.addr.clone();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");

    // No page and no action without login.
    for path in [
        "/",
        "/inbox",
        "/case/1",
        "/export.xlsx",
        "/admin",
        "/import",
        "/inbox?view=triage",
    ] {
        let r = request(&addr, "GET", path, "", b"", "");
        assert_eq!(r.status, 303, "{path}");
        assert_eq!(r.header("location"), Some("/login"), "{path}");
    }
    for path in [
        "/case/1/act",
        "/inbox/bulk",
        "/next",
        "/import/apply",
        "/admin/users",
        "/logout",
    ] {
        let r = request(
            &addr,
            "POST",
            path,
            "",
            b"kind=comment&note=x",
            "application/x-www-form-urlencoded",
        );
        assert_eq!(r.status, 401, "{path}");
    }
    // A forged session cookie is no session.
    let r = request(
        &addr,
        "GET",
        "/inbox",
        &format!("cs_session={}", "a".repeat(64)),
        b"",
        "",
    );
    assert_eq!(r.status, 303);
    // Login needs the right password, and its form its own CSRF token.
    let page = request(&addr, "GET", "/login", "", b"", "");
    let r = request(
        &addr,
        "POST",
        "/login",
        "",
        form(&[
            ("csrf", &csrf_of(&page.text())),
            ("name", INSPECTOR.0),
            ("password", INSPECTOR.1),
        ])
        .as_bytes(),
        "application/x-www-form-urlencoded",
    );
    assert_eq!(r.status, 403, "login without the login cookie");

    // Repeated wrong passwords lock the name out for a while.
    let mut last = 0;
    for _ in 0..6 {
        let page = request(&addr, "GET", "/login", "", b"", "");
        let cookie = page
            .header("set-cookie")
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let r = request(
            &addr,
            "POST",
            "/login",
            &cookie,
            form(&[
                ("csrf", &csrf_of(&page.text())),
                ("name", ADMIN.0),
                ("password", "wrong-password"),
            ])
            .as_bytes(),
            "application/x-www-form-urlencoded",
        );
        last = r.status;
    }
    assert_eq!(last, 429, "the sixth wrong password in a row");

    let inspector = Client::login(&addr, INSPECTOR);
    let other = Client::login(&addr, INSPECTOR2);
    let supervisor = Client::login(&addr, SUPERVISOR);

    // Session cookie flags.
    let page = request(&addr, "GET", "/login", "", b"", "");
    let set = page.header("set-cookie").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"),
        "{set}"
    );

    let ids = case_ids(&inspector.get("/inbox?assignee=none").text());
    let (mine, theirs) = (ids[0], ids[1]);
    assert_eq!(
        supervisor
            .post(
                &format!("/case/{theirs}/act"),
                &[("kind", "assign"), ("to", INSPECTOR2.0)]
            )
            .status,
        303
    );
    assert_eq!(
        inspector
            .post(&format!("/case/{mine}/act"), &[("kind", "take")])
            .status,
        303
    );

    // A POST without a valid CSRF token is refused and writes nothing.
    let before = history_len(&db, mine);
    for token in ["", "0000", &"f".repeat(64)] {
        let r = request(
            &addr,
            "POST",
            &format!("/case/{mine}/act"),
            &inspector.cookie,
            form(&[("csrf", token), ("kind", "comment"), ("note", "forged")]).as_bytes(),
            "application/x-www-form-urlencoded",
        );
        assert_eq!(r.status, 403, "csrf {token:?}");
    }
    // Another session's token is not this session's.
    let r = request(
        &addr,
        "POST",
        &format!("/case/{mine}/act"),
        &inspector.cookie,
        form(&[
            ("csrf", &other.csrf),
            ("kind", "comment"),
            ("note", "forged"),
        ])
        .as_bytes(),
        "application/x-www-form-urlencoded",
    );
    assert_eq!(r.status, 403);
    assert_eq!(history_len(&db, mine), before);

    // An inspector cannot act on another's case, nor approve, nor reopen, nor unmask.
    for kind in ["comment", "confirm", "dismiss", "snooze"] {
        let r = inspector.post(
            &format!("/case/{theirs}/act"),
            &[("kind", kind), ("note", "x"), ("until", "2099-01-01")],
        );
        assert_eq!(r.status, 403, "{kind} on another's case");
    }
    assert_eq!(
        inspector
            .post(
                &format!("/case/{mine}/act"),
                &[("kind", "confirm"), ("note", "伪造证书")]
            )
            .status,
        303
    );
    assert_eq!(
        inspector
            .post(&format!("/case/{mine}/act"), &[("kind", "approve")])
            .status,
        403
    );
    assert_eq!(
        other
            .post(&format!("/case/{mine}/act"), &[("kind", "approve")])
            .status,
        403
    );
    assert_eq!(
        inspector.post(&format!("/case/{mine}/unmask"), &[]).status,
        403
    );
    assert_eq!(
        inspector
            .post(
                &format!("/case/{theirs}/act"),
                &[("kind", "assign"), ("to", INSPECTOR.0)]
            )
            .status,
        403
    );
    assert_eq!(inspector.get("/admin").status, 403);
    assert_eq!(
        supervisor
            .post(
                "/admin/users",
                &[("name", "x"), ("role", "admin"), ("password", "12345678")]
            )
            .status,
        403
    );
    // The supervisor approves; a reopen needs a reason.
    assert_eq!(
        supervisor
            .post(&format!("/case/{mine}/act"), &[("kind", "approve")])
            .status,
        303
    );
    assert_eq!(
        supervisor
            .post(
                &format!("/case/{mine}/act"),
                &[("kind", "reopen"), ("note", "")]
            )
            .status,
        400
    );
    assert_eq!(
        inspector
            .post(
                &format!("/case/{mine}/act"),
                &[("kind", "reopen"), ("note", "x")]
            )
            .status,
        403
    );

    // Hostile ledger text is escaped on every page that shows it; every page carries the CSP.
    let inst_case = case_ids(&supervisor.get("/inbox?kind=institution&status=all").text())[0];
    let pages = [
        "/inbox".to_string(),
        "/inbox?view=triage".into(),
        "/inbox?status=all&kind=institution".into(),
        format!("/case/{inst_case}"),
        format!("/case/{mine}"),
        "/admin".into(),
        "/import".into(),
    ];
    for path in &pages {
        let r = supervisor.get(path);
        assert_eq!(r.status, 200, "{path}");
        let html = r.text();
        assert!(
            !html.contains("<script>alert") && !html.contains("<img src=x"),
            "{path}: hostile text not escaped"
        );
        let csp = r.header("content-security-policy").expect("CSP");
        assert!(
            csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline")
                && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
        // No inline script or style: the CSP would refuse them.
        assert_eq!(
            html.matches("<script").count(),
            html.matches("<script src=\"/static/app.js\" defer></script>")
                .count(),
            "{path}"
        );
        assert!(
            !html.contains(" style=") && !html.contains("<style") && !html.contains(" onclick="),
            "{path}"
        );
    }
    let inst_page = supervisor.get(&format!("/case/{inst_case}")).text();
    assert!(
        inst_page.contains(
            "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"
        ),
        "escaped name shown"
    );
    // Identifiers are masked by default: no 18-digit ID number in the case page.
    // (The CSRF token is hex and may hold a run of digits; it is no identifier.)
    let without_token = inst_page.replace(&supervisor.csrf, "");
    assert!(
        !has_long_digit_run(&without_token),
        "an identifier is shown in full"
    );

    // English on request.
    let en = request(&addr, "GET", "/lang?to=en", &supervisor.cookie, b"", "");
    let lang_cookie = en
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = request(
        &addr,
        "GET",
        "/inbox",
        &format!("{}; {lang_cookie}", supervisor.cookie),
        b"",
        "",
    )
    .text();
    assert!(
        page.contains("<h1>Inbox</h1>") && page.contains("lang=\"en\""),
        "English inbox"
    );

    // Sessions end: logout, and expiry.
    assert_eq!(other.post("/logout", &[]).status, 303);
    assert_eq!(other.get("/inbox").status, 303);
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute(
            "UPDATE sessions SET expires_at = '2000-01-01T00:00:00Z'",
            [],
        )
        .unwrap();
    }
    assert_eq!(inspector.get("/inbox").status, 303, "an expired session");
    drop(server);

    // Loopback unless told otherwise.
    let help = run_ok(&["serve", "--help"]);
    assert!(help.contains("[default: 127.0.0.1:8080]"), "{help}");
}

/// Whether the text shows a run of 11 or more digits (an identifier in full).
fn has_long_digit_run(s: &str) -> bool {
    let mut run = 0;
    for c in s.chars() {
        if c.is_ascii_digit() {
            run += 1;
            if run >= 11 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

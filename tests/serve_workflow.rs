//! The daily tools of the web workspace over HTTP against the real binary: the Excel round
//! trip (export the filtered queue, upload decisions, dry run, apply in one transaction),
//! bulk actions, next unassigned case, snooze, due dates and overdue marking, corrections,
//! and the CLI's `--user` checks — each step in the append-only history under its author.

mod serve_common;
use serve_common::*;

fn status_of(db: &std::path::Path, case: i64) -> (String, String) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT status, assignee FROM cases WHERE case_id = ?1",
        [case],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

fn entries(db: &std::path::Path, case: i64) -> Vec<(String, String, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut st = conn
        .prepare("SELECT actor, action, note FROM case_history WHERE case_id = ?1 AND sweep_id IS NULL ORDER BY history_id")
        .unwrap();
    st.query_map([case], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn multipart(csrf: &str, file: &[u8]) -> (Vec<u8>, String) {
    let b = "----claimsweepTestBoundary";
    let mut body = format!("--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"q.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n").into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={b}"))
}

#[test]
fn daily_tools_and_excel_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture(dir.path(), 3000, false);
    let db_s = db.to_str().unwrap().to_string();
    let server = Server::start(&db, &[]);
    let inspector = Client::login(&server.addr, INSPECTOR);
    let other = Client::login(&server.addr, INSPECTOR2);
    let supervisor = Client::login(&server.addr, SUPERVISOR);

    // Next unassigned case: two inspectors asking get two different cases, each theirs.
    let a = inspector.post("/next", &[]);
    let b = other.post("/next", &[]);
    let (a, b) = (
        a.header("location").unwrap().to_string(),
        b.header("location").unwrap().to_string(),
    );
    assert_ne!(a, b);
    let a: i64 = a.trim_start_matches("/case/").parse().unwrap();
    let b: i64 = b.trim_start_matches("/case/").parse().unwrap();
    assert_eq!(status_of(&db, a), ("in_review".into(), INSPECTOR.0.into()));
    assert_eq!(status_of(&db, b), ("in_review".into(), INSPECTOR2.0.into()));

    // Bulk: the supervisor assigns five open cases to the inspector; one entry in each history.
    let open = case_ids(
        &supervisor
            .get("/inbox?assignee=none&status=open&sort=id")
            .text(),
    );
    let five: Vec<String> = open[..5].iter().map(|i| i.to_string()).collect();
    let mut fields = vec![("kind", "assign"), ("to", INSPECTOR.0)];
    for id in &five {
        fields.push(("ids", id));
    }
    let r = supervisor.post("/inbox/bulk", &fields);
    assert_eq!(r.status, 200);
    assert!(r.text().contains("已执行 5 件，拒绝 0 件"), "{}", r.text());
    for id in &open[..5] {
        assert_eq!(
            status_of(&db, *id),
            ("in_review".into(), INSPECTOR.0.into())
        );
        let e = entries(&db, *id);
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].0.as_str(), e[0].1.as_str()), (SUPERVISOR.0, "assign"));
    }
    // Bulk close by the inspector: their own cases are dismissed, another's is refused.
    let own = open[0].to_string();
    let bs = b.to_string();
    let r = inspector.post(
        "/inbox/bulk",
        &[
            ("kind", "dismiss"),
            ("note", "重复录入"),
            ("ids", &own),
            ("ids", &bs),
        ],
    );
    assert!(r.text().contains("已执行 1 件，拒绝 1 件"), "{}", r.text());
    assert_eq!(status_of(&db, open[0]).0, "dismissed");
    assert_eq!(status_of(&db, b).0, "in_review");
    // Bulk reopen is a supervisor's, with a reason.
    let r = supervisor.post(
        "/inbox/bulk",
        &[("kind", "reopen"), ("note", "复查"), ("ids", &own)],
    );
    assert!(r.text().contains("已执行 1 件"), "{}", r.text());
    assert_eq!(status_of(&db, open[0]).0, "in_review");

    // Snooze: hidden from the active inbox until the day, findable with the snoozed filter.
    let snoozed = open[1];
    let r = inspector.post(
        &format!("/case/{snoozed}/act"),
        &[
            ("kind", "snooze"),
            ("until", "2099-01-01"),
            ("note", "等待社保数据"),
        ],
    );
    assert_eq!(r.status, 303);
    assert!(!case_ids(&inspector.get("/inbox?assignee=me").text()).contains(&snoozed));
    assert!(case_ids(&inspector.get("/inbox?assignee=me&snoozed=1").text()).contains(&snoozed));
    assert_eq!(
        inspector
            .post(
                &format!("/case/{snoozed}/act"),
                &[("kind", "snooze"), ("until", "2000-01-01"), ("note", "x")]
            )
            .status,
        400
    );

    // Due days per family, set by a supervisor; a case past its day is marked overdue.
    let mut due = vec![];
    for f in [
        "identity",
        "eligibility",
        "project",
        "network",
        "institution",
    ] {
        due.push((format!("days_{f}"), "30".to_string()));
    }
    let due_ref: Vec<(&str, &str)> = due.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(inspector.post("/admin/due", &due_ref).status, 403);
    assert_eq!(supervisor.post("/admin/due", &due_ref).status, 303);
    {
        // The case was found long ago (a fixture edit: the sweep stamped it today).
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute(
            "UPDATE cases SET created_at = '2020-01-01T00:00:00Z' WHERE case_id = ?1",
            [open[2]],
        )
        .unwrap();
    }
    let overdue = inspector.get("/inbox?overdue=1&assignee=me").text();
    assert_eq!(case_ids(&overdue), vec![open[2]]);
    assert!(overdue.contains("2020-01-31") && overdue.contains("已逾期"));

    // A comment and its correction: the old entry stays, the new one points at it.
    assert_eq!(
        inspector
            .post(
                &format!("/case/{a}/act"),
                &[("kind", "comment"), ("note", "电话 13800000000 无人接听")]
            )
            .status,
        303
    );
    let first: i64 = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.query_row(
            "SELECT max(history_id) FROM case_history WHERE case_id = ?1",
            [a],
            |r| r.get(0),
        )
        .unwrap()
    };
    let fix = first.to_string();
    assert_eq!(
        inspector
            .post(
                &format!("/case/{a}/act"),
                &[
                    ("kind", "comment"),
                    ("note", "更正：号码有误"),
                    ("corrects", &fix)
                ]
            )
            .status,
        303
    );
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let corrects: i64 = conn
            .query_row(
                "SELECT corrects FROM case_history WHERE case_id = ?1 AND action = 'correction'",
                [a],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(corrects, first);
        // Still append-only.
        assert!(conn
            .execute(
                "UPDATE case_history SET note = 'x' WHERE history_id = ?1",
                [first]
            )
            .is_err());
    }
    let page = inspector.get(&format!("/case/{a}")).text();
    assert!(
        page.contains("138****0000") && !page.contains("13800000000"),
        "the phone in a note is masked"
    );

    // Excel round trip: export the inspector's queue, fill in decisions, dry run, apply.
    let x = inspector.get("/export.xlsx?assignee=me");
    assert_eq!(x.status, 200);
    assert!(x.header("content-type").unwrap().contains("spreadsheetml"));
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(x.body.clone())).unwrap();
    use calamine::Reader;
    let sheet = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&sheet).unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert!(
        rows[0].iter().any(|h| h.contains("决定 decision"))
            && rows[0].iter().any(|h| h.contains("处理记录 history"))
    );
    let exported: Vec<i64> = rows[1..]
        .iter()
        .map(|r| r[0].parse::<f64>().unwrap() as i64)
        .collect();
    assert!(
        exported.contains(&a) && !exported.contains(&b),
        "only the inspector's cases"
    );
    let history_col = rows[0].iter().position(|h| h.contains("history")).unwrap();
    let row_a = rows
        .iter()
        .find(|r| r[0].parse::<f64>().ok() == Some(a as f64))
        .unwrap();
    assert!(
        row_a[history_col].contains("138****0000"),
        "{}",
        row_a[history_col]
    );

    // Decisions: dismiss a (allowed), confirm open[3] (allowed: pending approval), approve
    // open[4] (refused: an inspector), confirm b (refused: another's), and a bad word.
    let mut out = rust_xlsxwriter::Workbook::new();
    let ws = out.add_worksheet();
    for (c, h) in ["案件编号 case_id", "决定 decision", "说明 note"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let decisions = [
        (a, "排除", "核实无误"),
        (open[3], "confirm", "证书伪造"),
        (open[4], "approve", ""),
        (b, "confirm", "x"),
        (open[2], "maybe", "?"),
    ];
    for (i, (id, d, n)) in decisions.iter().enumerate() {
        ws.write_number(i as u32 + 1, 0, *id as f64).unwrap();
        ws.write_string(i as u32 + 1, 1, *d).unwrap();
        ws.write_string(i as u32 + 1, 2, *n).unwrap();
    }
    let file = out.save_to_buffer().unwrap();
    let before_a = entries(&db, a).len();
    let (body, ctype) = multipart(&inspector.csrf, &file);
    let dry = request(
        &server.addr,
        "POST",
        "/import",
        &inspector.cookie,
        &body,
        &ctype,
    );
    assert_eq!(dry.status, 200, "{}", dry.text());
    let dry_html = dry.text();
    assert!(dry_html.contains("2 行将执行，3 行被拒绝"), "{dry_html}");
    assert_eq!(entries(&db, a).len(), before_a, "a dry run changes nothing");
    assert_eq!(status_of(&db, a).0, "in_review");
    // Without the CSRF token the upload is refused.
    let (body2, ctype2) = multipart("", &file);
    assert_eq!(
        request(
            &server.addr,
            "POST",
            "/import",
            &inspector.cookie,
            &body2,
            &ctype2
        )
        .status,
        403
    );
    // Apply: the plan of the dry run, in one transaction.
    let key = "name=\"plan\" value=\"";
    let i = dry_html.find(key).unwrap() + key.len();
    let plan = dry_html[i..i + dry_html[i..].find('"').unwrap()]
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    let r = inspector.post("/import/apply", &[("plan", &plan)]);
    assert!(r.text().contains("已执行 2 件，拒绝 0 件"), "{}", r.text());
    assert_eq!(status_of(&db, a).0, "dismissed");
    assert_eq!(status_of(&db, open[3]).0, "pending_approval");
    assert_eq!(status_of(&db, open[4]).0, "in_review");
    assert_eq!(
        entries(&db, a).last().unwrap(),
        &(
            INSPECTOR.0.to_string(),
            "review".to_string(),
            "核实无误".to_string()
        )
    );

    // The CLI checks the same roles under --user.
    let cli = |args: &[&str]| {
        std::process::Command::new(bin())
            .args(args)
            .args(["--db", &db_s])
            .output()
            .unwrap()
    };
    let id3 = open[3].to_string();
    let r = cli(&["cases", "approve", &id3, "--user", INSPECTOR.0]);
    assert!(!r.status.success() && String::from_utf8_lossy(&r.stderr).contains("not allowed"));
    let r = cli(&[
        "cases",
        "review",
        &id3,
        "--status",
        "dismissed",
        "--note",
        "x",
    ]);
    assert!(
        !r.status.success() && String::from_utf8_lossy(&r.stderr).contains("--user"),
        "accounts need --user"
    );
    let r = cli(&["cases", "approve", &id3, "--user", "nobody"]);
    assert!(!r.status.success());
    let r = cli(&["cases", "approve", &id3, "--user", SUPERVISOR.0]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(status_of(&db, open[3]).0, "confirmed");
    let r = cli(&[
        "cases",
        "reopen",
        &id3,
        "--note",
        "新证据",
        "--user",
        SUPERVISOR.0,
    ]);
    assert!(r.status.success());
    let e = entries(&db, open[3]);
    let tail: Vec<(&str, &str)> = e
        .iter()
        .rev()
        .take(3)
        .map(|(a, b, _)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        tail,
        vec![
            (SUPERVISOR.0, "reopen"),
            (SUPERVISOR.0, "approve"),
            (INSPECTOR.0, "propose_confirm")
        ]
    );
    drop(server);
}

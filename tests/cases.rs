//! Cases built from stored flags: grouping, amount once per claim, stable keys across sweeps,
//! the sweep diff, dismissed cases carried over or reopened, the append-only history, the
//! status machine, list filters, the evidence of `cases show`, and the CLI.

use claimsweep::cases::{self, CaseError, CaseFilter, CaseSort, Change, Lang, Status};
use rusqlite::{params, Connection};
use std::path::PathBuf;
use tempfile::TempDir;

struct Db {
    _dir: TempDir,
    path: PathBuf,
    conn: Connection,
}

fn db() -> Db {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cases.db");
    let conn = Connection::open(&path).expect("open");
    cases::schema::prepare_connection(&conn).expect("schema");
    Db {
        _dir: dir,
        path,
        conn,
    }
}

const P1: &str = "371302199001010011";
const P2: &str = "371302199001010027";
const P3: &str = "371302199001010035";

/// A claim of `person` paying `yuan`, with a phone and institution.
fn claim(
    conn: &Connection,
    id: &str,
    person: &str,
    yuan: i64,
    county: &str,
    inst: &str,
    phone: &str,
) {
    conn.execute(
        "INSERT INTO claims (claim_id, id_number, name, phone, county_code, institution_id,
           class_id, subsidy_type, occupation_code, level, amount_fen, claim_date)
         VALUES (?1, ?2, '张伟', ?3, ?4, ?5, 'K1', 'level_cert', '4-01-02-01', 5, ?6, '2020-03-05')",
        params![id, person, phone, county, inst, yuan * 100],
    )
    .expect("insert claim");
}

fn sweep(conn: &Connection, sweep_id: i64) {
    conn.execute(
        "INSERT INTO sweeps (sweep_id, started_at, policy, threads) VALUES (?1, '2020-06-01T00:00:00Z', 'test', 1)",
        [sweep_id],
    )
    .expect("insert sweep");
}

#[allow(clippy::too_many_arguments)]
fn flag(
    conn: &Connection,
    sweep_id: i64,
    seq: i64,
    rule: &str,
    kind: &str,
    subject: &str,
    claims: &[&str],
    fen: i64,
    severity: &str,
) {
    let mut ids: Vec<&str> = claims.to_vec();
    ids.sort();
    conn.execute(
        "INSERT INTO flags (sweep_id, seq, rule, subject_kind, subject, claim_ids,
           amount_at_risk_fen, severity, explanation_zh, explanation_en)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            sweep_id,
            seq,
            rule,
            kind,
            subject,
            ids.join(";"),
            fen,
            severity,
            format!("{rule} 说明 {subject}"),
            format!("{rule} explanation {subject}")
        ],
    )
    .expect("insert flag");
    for c in ids {
        conn.execute(
            "INSERT INTO flag_claims (sweep_id, seq, claim_id) VALUES (?1, ?2, ?3)",
            params![sweep_id, seq, c],
        )
        .expect("insert flag_claim");
    }
}

fn case_of(conn: &Connection, key: &str) -> (i64, String) {
    conn.query_row(
        "SELECT case_id, status FROM cases WHERE case_key = ?1",
        [key],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap_or_else(|e| panic!("case {key}: {e}"))
}

fn history_actions(conn: &Connection, case_id: i64) -> Vec<(String, String)> {
    cases::history(conn, case_id)
        .expect("history")
        .into_iter()
        .map(|h| (h.actor, h.action))
        .collect()
}

fn all_in(conn: &Connection, sweep_id: i64) -> Vec<cases::CaseRow> {
    cases::list(
        conn,
        &CaseFilter {
            sweep: Some(sweep_id),
            ..Default::default()
        },
    )
    .expect("list")
}

#[test]
fn flags_of_one_person_and_family_make_one_case_counting_each_claim_once() {
    let mut d = db();
    let c = &d.conn;
    claim(c, "C1", P1, 1000, "371302", "ORG1", "13800000001");
    claim(c, "C2", P1, 1000, "371302", "ORG1", "13800000001");
    claim(c, "C3", P1, 1000, "371302", "ORG1", "13800000001");
    claim(c, "C4", P2, 1000, "371311", "ORG2", "13800000002");
    sweep(c, 1);
    // C3 is flagged twice (over_cap and repeated_level, both in full): it counts once.
    flag(
        c,
        1,
        1,
        "over_cap",
        "person_year",
        &format!("{P1}:2020"),
        &["C3"],
        100_000,
        "high",
    );
    flag(
        c,
        1,
        2,
        "repeated_level",
        "person",
        P1,
        &["C2", "C3"],
        200_000,
        "high",
    );
    // Part of C1 only: 200 yuan over the cap.
    flag(
        c,
        1,
        3,
        "amount_over_standard",
        "claim",
        "C1",
        &["C1"],
        20_000,
        "high",
    );
    // Another family of the same person: a separate case.
    flag(
        c,
        1,
        4,
        "pensioner",
        "claim",
        "C1",
        &["C1"],
        100_000,
        "medium",
    );
    // Another person: a separate case.
    flag(
        c,
        1,
        5,
        "over_cap",
        "person_year",
        &format!("{P2}:2020"),
        &["C4"],
        100_000,
        "high",
    );
    let summary = cases::build_for_sweep(&mut d.conn, 1).expect("build");
    assert_eq!(summary.cases, 3);
    assert_eq!(summary.new, 3);
    assert_eq!(summary.flags, 5);

    let rows = all_in(&d.conn, 1);
    let elig = rows
        .iter()
        .find(|r| r.case_key == format!("person:{P1}:eligibility"))
        .expect("eligibility case of P1");
    assert_eq!(elig.claims, 3);
    assert_eq!(elig.claim_ids, vec!["C1", "C2", "C3"]);
    // C2 1000 + C3 1000 (once, not twice) + C1 200.
    assert_eq!(elig.amount_at_risk_fen, 220_000);
    assert_eq!(
        elig.rules,
        vec!["amount_over_standard", "over_cap", "repeated_level"]
    );
    assert_eq!(elig.county_code, "371302");
    assert_eq!(elig.institution_id, "ORG1");
    assert_eq!(elig.change, Change::New);
    assert_eq!(elig.status, Status::Open);
    // high (3) × (1 + 0.25 × 2) × 2200 yuan.
    assert!((elig.score - 9900.0).abs() < 1e-6, "score {}", elig.score);

    let ident = rows
        .iter()
        .find(|r| r.case_key == format!("person:{P1}:identity"))
        .expect("identity case of P1");
    assert_eq!(ident.amount_at_risk_fen, 100_000);
    assert_eq!(ident.rules, vec!["pensioner"]);
    let other = rows
        .iter()
        .find(|r| r.case_key == format!("person:{P2}:eligibility"))
        .expect("case of P2");
    assert_eq!(other.claim_ids, vec!["C4"]);
    assert_eq!(other.county_code, "371311");
    // Sorted by score: P1's eligibility case (9900) first.
    assert_eq!(rows[0].case_key, elig.case_key);
}

#[test]
fn project_and_contact_flags_group_by_class_and_contact() {
    let mut d = db();
    let c = &d.conn;
    for (i, p) in [P1, P2, P3].iter().enumerate() {
        claim(c, &format!("K{i}"), p, 800, "371302", "ORG9", "13900000000");
    }
    c.execute(
        "INSERT INTO classes (class_id, institution_id, county_code, start_date, end_date, project_based)
         VALUES ('CLS1', 'ORG9', '371312', '2020-01-01', '2020-02-01', 1)",
        [],
    )
    .unwrap();
    sweep(c, 1);
    flag(
        c,
        1,
        1,
        "prepay_excess",
        "project",
        "CLS1",
        &["K0", "K1", "K2"],
        240_000,
        "medium",
    );
    flag(
        c,
        1,
        2,
        "employment_rate",
        "project",
        "CLS1",
        &["K0", "K1", "K2"],
        240_000,
        "high",
    );
    flag(
        c,
        1,
        3,
        "shared_contact",
        "contact",
        "phone:13900000000",
        &["K0", "K1", "K2"],
        240_000,
        "medium",
    );
    cases::build_for_sweep(&mut d.conn, 1).expect("build");
    let rows = all_in(&d.conn, 1);
    assert_eq!(rows.len(), 2);
    let class = rows
        .iter()
        .find(|r| r.subject_kind == "class")
        .expect("class case");
    assert_eq!(class.case_key, "class:CLS1:project");
    // County and institution of the class row win over the claims'.
    assert_eq!(class.county_code, "371312");
    assert_eq!(class.institution_id, "ORG9");
    assert_eq!(class.amount_at_risk_fen, 240_000);
    let contact = rows
        .iter()
        .find(|r| r.subject_kind == "contact")
        .expect("contact case");
    assert_eq!(contact.case_key, "contact:phone:13900000000:network");
}

#[test]
fn the_same_problem_in_the_next_sweep_is_the_same_case() {
    let mut d = db();
    claim(&d.conn, "C1", P1, 1000, "371302", "ORG1", "");
    // Sweep `s` flags the same claim for the same rule.
    let found_again = |conn: &Connection, s: i64| {
        sweep(conn, s);
        flag(
            conn,
            s,
            7,
            "deceased",
            "claim",
            "C1",
            &["C1"],
            100_000,
            "high",
        );
    };
    for s in [1, 2] {
        found_again(&d.conn, s);
        cases::build_for_sweep(&mut d.conn, s).expect("build");
    }
    let n: i64 = d
        .conn
        .query_row("SELECT count(*) FROM cases", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    let (id, status) = case_of(&d.conn, &format!("person:{P1}:identity"));
    assert_eq!(status, "open");
    assert_eq!(all_in(&d.conn, 2)[0].change, Change::Persisting);
    assert_eq!(all_in(&d.conn, 2)[0].case_id, id);
    let actions = history_actions(&d.conn, id);
    assert_eq!(actions, vec![("system".to_string(), "created".to_string())]);

    // Building a sweep again changes nothing and returns the same summary.
    let again = cases::build_for_sweep(&mut d.conn, 2).expect("rebuild");
    assert_eq!(again.persisting, 1);
    assert_eq!(again.new, 0);
    assert_eq!(history_actions(&d.conn, id).len(), 1);
    let rows: i64 = d
        .conn
        .query_row("SELECT count(*) FROM case_sweeps", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 2);
    assert!(matches!(
        cases::build_for_sweep(&mut d.conn, 99),
        Err(CaseError::NoSweep(99))
    ));

    // The diff counts unchanged persisting cases and lists them only on request.
    let diff = cases::diff(&d.conn, 1, 2).unwrap();
    assert_eq!(diff.persisting.len(), 1);
    assert_eq!(diff.grown().count(), 0);
    let short = cases::render::sweep_diff(&diff, Lang::Zh, false);
    assert!(short.contains("另有 1 件证据未变"), "{short}");
    assert!(!short.contains(P1), "{short}");
    let all = cases::render::sweep_diff(&diff, Lang::Zh, true);
    assert!(all.contains(P1) && all.contains("证据未变"), "{all}");
    // Kind filter.
    let f = |k: &str| CaseFilter {
        subject_kind: Some(k.into()),
        ..Default::default()
    };
    assert_eq!(cases::list(&d.conn, &f("person")).unwrap().len(), 1);
    assert!(cases::list(&d.conn, &f("ring")).unwrap().is_empty());

    // The fingerprint is stored raw (a 32-byte BLOB). Rows written before hold it as 64 hex
    // digits: the same evidence found again is recognised in either form, so the row is only
    // marked seen (its stored fingerprint is not rewritten) and nothing counts as changed.
    let stored = |conn: &Connection| -> (String, i64) {
        conn.query_row(
            "SELECT typeof(claim_hash), length(claim_hash) FROM cases WHERE case_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    assert_eq!(stored(&d.conn), ("blob".to_string(), 32));
    // A sweep's own row leaves it out: its claim ids and rules give it, and nothing reads it.
    let per_sweep: Vec<(String, i64)> = d
        .conn
        .prepare(
            "SELECT typeof(claim_hash), length(claim_hash) FROM case_sweeps WHERE case_id = ?1",
        )
        .unwrap()
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!per_sweep.is_empty());
    assert!(
        per_sweep.iter().all(|s| *s == ("blob".to_string(), 0)),
        "{per_sweep:?}"
    );
    d.conn
        .execute_batch("UPDATE cases SET claim_hash = lower(hex(claim_hash))")
        .unwrap();
    assert_eq!(stored(&d.conn), ("text".to_string(), 64));
    found_again(&d.conn, 3);
    let third = cases::build_for_sweep(&mut d.conn, 3).expect("build");
    assert_eq!((third.persisting, third.new), (1, 0));
    assert_eq!(
        stored(&d.conn),
        ("text".to_string(), 64),
        "seen, not rewritten"
    );
    assert_eq!(cases::diff(&d.conn, 2, 3).unwrap().grown().count(), 0);
    assert_eq!(history_actions(&d.conn, id).len(), 1);
}

#[test]
fn diff_shows_new_persisting_with_growth_and_resolved() {
    let mut d = db();
    let c = &d.conn;
    claim(c, "A1", P1, 1000, "371302", "ORG1", "");
    claim(c, "A2", P1, 1200, "371302", "ORG1", "");
    claim(c, "A3", P1, 1200, "371302", "ORG1", "");
    claim(c, "B1", P2, 1000, "371302", "ORG1", "");
    claim(c, "N1", P3, 500, "371302", "ORG1", "");
    sweep(c, 1);
    flag(
        c,
        1,
        1,
        "repeated_level",
        "person",
        P1,
        &["A1"],
        100_000,
        "high",
    );
    flag(c, 1, 2, "deceased", "claim", "B1", &["B1"], 100_000, "high");
    cases::build_for_sweep(&mut d.conn, 1).expect("sweep 1");
    let c = &d.conn;
    sweep(c, 2);
    flag(
        c,
        2,
        1,
        "repeated_level",
        "person",
        P1,
        &["A1", "A2", "A3"],
        340_000,
        "high",
    );
    flag(
        c,
        2,
        2,
        "invalid_id",
        "claim",
        "N1",
        &["N1"],
        50_000,
        "high",
    );
    let summary = cases::build_for_sweep(&mut d.conn, 2).expect("sweep 2");
    assert_eq!(
        (summary.new, summary.persisting, summary.resolved),
        (1, 1, 1)
    );

    let diff = cases::diff(&d.conn, 1, 2).expect("diff");
    assert_eq!(diff.new.len(), 1);
    assert_eq!(diff.new[0].subject, P3);
    assert_eq!(diff.persisting.len(), 1);
    let p = &diff.persisting[0];
    assert_eq!(p.subject, P1);
    assert_eq!((p.claims_a, p.claims_b), (1, 3));
    assert_eq!(p.added_claims, 2);
    assert_eq!(p.amount_b_fen - p.amount_a_fen, 240_000);
    assert_eq!(p.reason_zh, "新增申领 2 笔，金额增加 2400.00 元");
    assert_eq!(p.reason_en, "2 more claims, +2400.00 yuan");
    assert_eq!(diff.grown().count(), 1);
    assert_eq!(diff.resolved.len(), 1);
    assert_eq!(diff.resolved[0].subject, P2);
    assert_eq!(diff.resolved[0].amount_a_fen, 100_000);

    // The stored change of the vanished case says resolved; its status stays as it was.
    let (gone, status) = case_of(&d.conn, &format!("person:{P2}:identity"));
    let change: String = d
        .conn
        .query_row(
            "SELECT change FROM case_sweeps WHERE case_id = ?1 AND sweep_id = 2",
            [gone],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(change, "resolved");
    assert_eq!(status, "open");
    // A resolved case is not listed among the cases of the sweep that no longer found it.
    assert!(all_in(&d.conn, 2).iter().all(|r| r.case_id != gone));
    // Reversed diff: what sweep 2 found new, sweep 1 did not have.
    let back = cases::diff(&d.conn, 2, 1).expect("diff back");
    assert_eq!((back.new.len(), back.resolved.len()), (1, 1));
    assert_eq!(back.new[0].subject, P2);
    assert!(matches!(
        cases::diff(&d.conn, 1, 5),
        Err(CaseError::NoSweep(5))
    ));

    let text = cases::render::sweep_diff(&diff, Lang::Zh, false);
    assert!(text.contains("新发现 1 件"), "{text}");
    assert!(text.contains("新增申领 2 笔"), "{text}");
    let text = cases::render::sweep_diff(&diff, Lang::En, false);
    assert!(!text.contains("unchanged evidence"), "{text}");
    assert!(
        text.contains("1 new, 1 persisting (1 with more evidence), 1 resolved"),
        "{text}"
    );
}

#[test]
fn dismissed_stays_dismissed_unless_new_evidence_comes() {
    let mut d = db();
    claim(&d.conn, "C1", P1, 1000, "371302", "ORG1", "");
    claim(&d.conn, "C2", P1, 1200, "371302", "ORG1", "");
    claim(&d.conn, "C3", P1, 1200, "371302", "ORG1", "");
    sweep(&d.conn, 1);
    flag(
        &d.conn,
        1,
        1,
        "over_cap",
        "person_year",
        "x",
        &["C1"],
        100_000,
        "high",
    );
    cases::build_for_sweep(&mut d.conn, 1).expect("sweep 1");
    let key = format!("person:{P1}:eligibility");
    let (id, _) = case_of(&d.conn, &key);
    cases::review(
        &mut d.conn,
        id,
        "dismissed",
        "本人确有三次培训记录",
        "李科长",
    )
    .expect("dismiss");

    // Same evidence: stays dismissed, and the system says so in the history.
    sweep(&d.conn, 2);
    flag(
        &d.conn,
        2,
        1,
        "over_cap",
        "person_year",
        "x",
        &["C1"],
        100_000,
        "high",
    );
    let s2 = cases::build_for_sweep(&mut d.conn, 2).expect("sweep 2");
    assert_eq!(s2.kept_dismissed, 1);
    assert_eq!(s2.reopened, 0);
    assert_eq!(case_of(&d.conn, &key).1, "dismissed");
    let last = cases::history(&d.conn, id).unwrap().pop().unwrap();
    assert_eq!(
        (last.actor.as_str(), last.action.as_str()),
        ("system", "keep_dismissed")
    );
    assert!(last.note.contains("证据未变"), "{}", last.note);

    // Two more claims: reopened, and the history says why.
    sweep(&d.conn, 3);
    flag(
        &d.conn,
        3,
        1,
        "over_cap",
        "person_year",
        "x",
        &["C1", "C2", "C3"],
        340_000,
        "high",
    );
    let s3 = cases::build_for_sweep(&mut d.conn, 3).expect("sweep 3");
    assert_eq!(s3.reopened, 1);
    assert_eq!(case_of(&d.conn, &key).1, "open");
    let last = cases::history(&d.conn, id).unwrap().pop().unwrap();
    assert_eq!(last.action, "reopen");
    assert_eq!(last.from_status.as_deref(), Some("dismissed"));
    assert_eq!(last.to_status.as_deref(), Some("open"));
    assert!(
        last.note.contains("新增申领 2 笔，金额增加 2400.00 元"),
        "{}",
        last.note
    );
    assert!(
        last.note.contains("2 more claims, +2400.00 yuan"),
        "{}",
        last.note
    );
    let row = &all_in(&d.conn, 3)[0];
    assert_eq!(row.change, Change::Reopened);
    assert_eq!(row.reason_en, "2 more claims, +2400.00 yuan");
}

#[test]
fn fewer_claims_is_no_new_evidence_for_a_dismissed_case() {
    let mut d = db();
    claim(&d.conn, "C1", P1, 1000, "371302", "ORG1", "");
    claim(&d.conn, "C2", P1, 1000, "371302", "ORG1", "");
    sweep(&d.conn, 1);
    flag(
        &d.conn,
        1,
        1,
        "repeated_level",
        "person",
        P1,
        &["C1", "C2"],
        200_000,
        "high",
    );
    cases::build_for_sweep(&mut d.conn, 1).unwrap();
    let (id, _) = case_of(&d.conn, &format!("person:{P1}:eligibility"));
    cases::review(&mut d.conn, id, "dismissed", "重复数据", "王").unwrap();
    sweep(&d.conn, 2);
    flag(
        &d.conn,
        2,
        1,
        "repeated_level",
        "person",
        P1,
        &["C2"],
        100_000,
        "high",
    );
    let s = cases::build_for_sweep(&mut d.conn, 2).unwrap();
    assert_eq!((s.kept_dismissed, s.reopened), (1, 0));
    let (_, status) = case_of(&d.conn, &format!("person:{P1}:eligibility"));
    assert_eq!(status, "dismissed");
    let last = cases::history(&d.conn, id).unwrap().pop().unwrap();
    assert!(last.note.contains("减少申领 1 笔"), "{}", last.note);
}

#[test]
fn history_is_append_only() {
    let mut d = db();
    claim(&d.conn, "C1", P1, 1000, "371302", "ORG1", "");
    sweep(&d.conn, 1);
    flag(
        &d.conn,
        1,
        1,
        "deceased",
        "claim",
        "C1",
        &["C1"],
        100_000,
        "high",
    );
    cases::build_for_sweep(&mut d.conn, 1).unwrap();
    cases::assign(&mut d.conn, 1, "张三", "李科长").unwrap();
    let before = cases::history(&d.conn, 1).unwrap();
    let update = d.conn.execute("UPDATE case_history SET note = 'x'", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = d.conn.execute("DELETE FROM case_history", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    assert_eq!(cases::history(&d.conn, 1).unwrap(), before);
    assert_eq!(before.len(), 2);
    assert_eq!(before[1].actor, "李科长");
    assert_eq!(before[1].action, "assign");
    assert_eq!(before[1].from_status.as_deref(), Some("open"));
    assert_eq!(before[1].to_status.as_deref(), Some("in_review"));
}

#[test]
fn status_machine_allows_the_documented_paths_only() {
    let mut d = db();
    for (i, p) in [P1, P2, P3].iter().enumerate() {
        claim(&d.conn, &format!("C{i}"), p, 1000, "371302", "ORG1", "");
    }
    sweep(&d.conn, 1);
    for (i, _) in [P1, P2, P3].iter().enumerate() {
        let c = format!("C{i}");
        flag(
            &d.conn,
            1,
            i as i64,
            "deceased",
            "claim",
            &c,
            &[&c],
            100_000,
            "high",
        );
    }
    cases::build_for_sweep(&mut d.conn, 1).unwrap();
    let conn = &mut d.conn;

    // Not decisions, or not statuses at all.
    assert!(matches!(
        cases::review(conn, 1, "open", "n", "me"),
        Err(CaseError::InvalidTransition { .. })
    ));
    assert!(matches!(
        cases::review(conn, 1, "in_review", "n", "me"),
        Err(CaseError::InvalidTransition { .. })
    ));
    assert!(matches!(
        cases::review(conn, 1, "approved", "n", "me"),
        Err(CaseError::UnknownStatus(_))
    ));
    assert!(matches!(
        cases::review(conn, 1, "confirmed", " ", "me"),
        Err(CaseError::Empty(_))
    ));
    assert!(matches!(
        cases::review(conn, 1, "confirmed", "n", ""),
        Err(CaseError::Empty(_))
    ));
    assert!(matches!(
        cases::assign(conn, 1, "", "me"),
        Err(CaseError::Empty(_))
    ));
    assert!(matches!(
        cases::review(conn, 42, "confirmed", "n", "me"),
        Err(CaseError::NoCase(42))
    ));
    // Rejected actions leave no trace.
    assert_eq!(cases::history(conn, 1).unwrap().len(), 1);

    // Review straight from open: the in_review step is recorded too.
    assert_eq!(
        cases::review(conn, 1, "confirmed", "死亡后申领", "me").unwrap(),
        Status::Confirmed
    );
    let actions: Vec<String> = cases::history(conn, 1)
        .unwrap()
        .into_iter()
        .map(|h| h.action)
        .collect();
    assert_eq!(actions, vec!["created", "start_review", "review"]);
    // Closed: no second decision, no reassignment.
    assert!(matches!(
        cases::review(conn, 1, "dismissed", "n", "me"),
        Err(CaseError::InvalidTransition {
            from: "confirmed",
            ..
        })
    ));
    assert!(matches!(
        cases::assign(conn, 1, "x", "me"),
        Err(CaseError::InvalidTransition { .. })
    ));

    // open → in_review (assign) → escalated → (assign keeps escalated) → dismissed.
    assert_eq!(
        cases::assign(conn, 2, "张三", "科长").unwrap(),
        Status::InReview
    );
    assert_eq!(
        cases::assign(conn, 2, "李四", "科长").unwrap(),
        Status::InReview
    );
    assert_eq!(
        cases::review(conn, 2, "escalated", "移送稽查", "张三").unwrap(),
        Status::Escalated
    );
    assert!(matches!(
        cases::review(conn, 2, "escalated", "again", "x"),
        Err(CaseError::InvalidTransition { .. })
    ));
    assert_eq!(
        cases::assign(conn, 2, "处长", "科长").unwrap(),
        Status::Escalated
    );
    assert_eq!(
        cases::review(conn, 2, "已排除", "核实无误", "处长").unwrap(),
        Status::Dismissed
    );
    let assignee: String = conn
        .query_row("SELECT assignee FROM cases WHERE case_id = 2", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(assignee, "处长");
    let h = cases::history(conn, 2).unwrap();
    assert_eq!(h.len(), 6);
    assert!(h.iter().all(|e| e.at.len() == 20 && e.at.ends_with('Z')));
}

#[test]
fn list_filters_and_sorts() {
    let mut d = db();
    let c = &d.conn;
    claim(c, "C1", P1, 1000, "371302", "ORG1", "");
    claim(c, "C2", P2, 5000, "371311", "ORG2", "");
    claim(c, "C3", P3, 3000, "371302", "ORG2", "");
    sweep(c, 1);
    flag(c, 1, 1, "deceased", "claim", "C1", &["C1"], 100_000, "high");
    cases::build_for_sweep(&mut d.conn, 1).unwrap();
    let c = &d.conn;
    sweep(c, 2);
    flag(c, 2, 1, "deceased", "claim", "C1", &["C1"], 100_000, "high");
    flag(
        c,
        2,
        2,
        "pensioner",
        "claim",
        "C2",
        &["C2"],
        500_000,
        "medium",
    );
    flag(
        c,
        2,
        3,
        "over_cap",
        "person_year",
        "x",
        &["C3"],
        300_000,
        "high",
    );
    cases::build_for_sweep(&mut d.conn, 2).unwrap();
    cases::assign(&mut d.conn, 1, "张三", "科长").unwrap();
    let list = |f: CaseFilter| -> Vec<String> {
        cases::list(&d.conn, &f)
            .unwrap()
            .into_iter()
            .map(|r| r.subject)
            .collect()
    };
    // Default: the latest sweep, by score: P3 9000 (high × 3000), P2 10000 (medium × 5000), P1 3000.
    assert_eq!(list(CaseFilter::default()), vec![P2, P3, P1]);
    assert_eq!(
        list(CaseFilter {
            sort: CaseSort::Amount,
            ..Default::default()
        }),
        vec![P2, P3, P1]
    );
    assert_eq!(
        list(CaseFilter {
            new_only: true,
            ..Default::default()
        }),
        vec![P2, P3]
    );
    assert_eq!(
        list(CaseFilter {
            sweep: Some(1),
            ..Default::default()
        }),
        vec![P1]
    );
    assert_eq!(
        list(CaseFilter {
            status: Some(Status::InReview),
            ..Default::default()
        }),
        vec![P1]
    );
    assert_eq!(
        list(CaseFilter {
            county: Some("371311".into()),
            ..Default::default()
        }),
        vec![P2]
    );
    assert_eq!(
        list(CaseFilter {
            institution: Some("ORG2".into()),
            ..Default::default()
        }),
        vec![P2, P3]
    );
    assert_eq!(
        list(CaseFilter {
            rule: Some("over_cap".into()),
            ..Default::default()
        }),
        vec![P3]
    );
    // `over` is not a rule: no partial matches.
    assert!(list(CaseFilter {
        rule: Some("over".into()),
        ..Default::default()
    })
    .is_empty());
    // Minimum amount is inclusive.
    assert_eq!(
        list(CaseFilter {
            min_amount_fen: Some(300_000),
            ..Default::default()
        }),
        vec![P2, P3]
    );
    assert_eq!(
        list(CaseFilter {
            min_amount_fen: Some(300_001),
            ..Default::default()
        }),
        vec![P2]
    );
    assert_eq!(
        list(CaseFilter {
            limit: Some(1),
            ..Default::default()
        }),
        vec![P2]
    );
    assert!(matches!(
        cases::list(
            &d.conn,
            &CaseFilter {
                sweep: Some(9),
                ..Default::default()
            }
        ),
        Err(CaseError::NoSweep(9))
    ));
    let sweeps = cases::list_sweeps(&d.conn).unwrap();
    assert_eq!(sweeps.len(), 2);
    assert_eq!(sweeps[1].cases.as_ref().unwrap().new, 2);
    assert_eq!(sweeps[1].flags, 3);
}

#[test]
fn show_gathers_claims_registry_flags_and_neighbours() {
    let mut d = db();
    let c = &d.conn;
    claim(c, "C1", P1, 1000, "371302", "ORG1", "13700000000");
    claim(c, "C2", P2, 1000, "371302", "ORG1", "13700000000");
    c.execute(
        "INSERT INTO registry_death (id_number, death_date) VALUES (?1, '2019-12-01')",
        [P1],
    )
    .unwrap();
    c.execute(
        "INSERT INTO registry_ui (id_number, months_paid, as_of) VALUES (?1, 7, '2020-01-31')",
        [P1],
    )
    .unwrap();
    c.execute("INSERT INTO registry_poverty (id_number) VALUES (?1)", [P1])
        .unwrap();
    sweep(c, 1);
    flag(
        c,
        1,
        1,
        "deceased",
        "claim",
        "C1",
        &["C1", "GONE"],
        100_000,
        "high",
    );
    cases::build_for_sweep(&mut d.conn, 1).unwrap();
    let detail = cases::show(&d.conn, 1).unwrap();
    assert_eq!(detail.flags.len(), 1);
    assert_eq!(detail.flags[0].explanation_en, "deceased explanation C1");
    assert_eq!(detail.claims.len(), 2);
    let gone = detail
        .claims
        .iter()
        .find(|c| c.claim.claim_id == "GONE")
        .unwrap();
    assert!(!gone.found);
    assert_eq!(detail.registry.len(), 1);
    let r = &detail.registry[0];
    assert_eq!(r.death_date.as_deref(), Some("2019-12-01"));
    assert_eq!(r.ui, vec![(7, "2020-01-31".to_string())]);
    assert!(r.poverty);
    assert!(r.pension_start.is_none());
    assert_eq!(detail.neighbours.len(), 1);
    assert_eq!(detail.neighbours[0].id_number, P2);
    assert_eq!(detail.neighbours[0].via, "phone");
    assert_eq!(detail.sweeps.len(), 1);
    let zh = cases::render::case_detail(&detail, Lang::Zh);
    assert!(zh.contains("死亡注销 2019-12-01"), "{zh}");
    assert!(zh.contains("deceased 说明 C1"), "{zh}");
    assert!(zh.contains("台账中已无此申领"), "{zh}");
    let en = cases::render::case_detail(&detail, Lang::En);
    assert!(en.contains("died 2019-12-01"), "{en}");
    assert!(en.contains("deceased explanation C1"), "{en}");
    assert!(matches!(
        cases::show(&d.conn, 77),
        Err(CaseError::NoCase(77))
    ));
}

fn run_cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_claimsweep"))
        .args(args)
        .output()
        .expect("run claimsweep")
}

#[test]
fn cli_lists_shows_reviews_and_diffs() {
    let mut d = db();
    claim(&d.conn, "C1", P1, 1000, "371302", "ORG1", "");
    claim(&d.conn, "C2", P2, 1000, "371302", "ORG1", "");
    sweep(&d.conn, 1);
    flag(
        &d.conn,
        1,
        1,
        "deceased",
        "claim",
        "C1",
        &["C1"],
        100_000,
        "high",
    );
    cases::build_for_sweep(&mut d.conn, 1).unwrap();
    sweep(&d.conn, 2);
    flag(
        &d.conn,
        2,
        1,
        "deceased",
        "claim",
        "C2",
        &["C2"],
        100_000,
        "high",
    );
    cases::build_for_sweep(&mut d.conn, 2).unwrap();
    let db = d.path.to_str().unwrap();

    // Text output masks identifiers unless --unmask.
    let out = run_cli(&["cases", "list", "--db", db]);
    let masked = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(!masked.contains(P2), "{masked}");
    let out = run_cli(&["cases", "list", "--db", db, "--unmask"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(P2) && !text.contains(P1), "{text}");
    assert!(text.contains("共 1 件"), "{text}");

    let out = run_cli(&[
        "cases",
        "list",
        "--db",
        db,
        "--sweep",
        "1",
        "--lang",
        "en",
        "--min-amount",
        "1,000",
        "--unmask",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(P1) && text.contains("1 cases"), "{text}");

    let out = run_cli(&[
        "cases",
        "review",
        "2",
        "--status",
        "confirmed",
        "--note",
        "死亡后申领",
        "--by",
        "李",
        "--db",
        db,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run_cli(&[
        "cases", "review", "2", "--status", "open", "--note", "x", "--by", "李", "--db", db,
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("confirmed to open"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let out = run_cli(&["cases", "history", "2", "--db", db]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("复核结论") && text.contains("死亡后申领"),
        "{text}"
    );

    let out = run_cli(&["cases", "show", "2", "--db", db, "--lang", "en"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("  status        confirmed\n"), "{text}");

    let out = run_cli(&["sweeps", "diff", "--db", db]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("筛查 #1 → #2：新发现 1 件，持续 0 件（其中证据增加 0 件），已消失 1 件"),
        "{text}"
    );
    let out = run_cli(&["sweeps", "diff", "2", "1", "--db", db, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["new"][0]["subject"], P1);
    let out = run_cli(&["sweeps", "list", "--db", db, "--lang", "en"]);
    let text = String::from_utf8(out.stdout).unwrap();
    // Header, its rule, one line per sweep.
    assert_eq!(text.lines().count(), 4, "{text}");

    let out = run_cli(&["cases", "list", "--db", "/nonexistent/x.db"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("database file not found"));
}

fn ring(
    conn: &Connection,
    sweep_id: i64,
    ring_id: i64,
    members: &[(&str, &str)],
    claims: &[&str],
    fen: i64,
) {
    claimsweep::store::graph::ensure_schema(conn).expect("graph schema");
    conn.execute(
        "INSERT INTO rings (sweep_id, ring_id, score, persons, institutions, counties, claims,
           amount_fen, shared_json, terms_json, claim_ids, explanation_zh, explanation_en)
         VALUES (?1, ?2, 12.5, 0, 0, 0, ?3, ?4, '[]', '[]', ?5, '团伙说明', 'ring explanation')",
        params![
            sweep_id,
            ring_id,
            claims.len() as i64,
            fen,
            claims.join(";")
        ],
    )
    .unwrap();
    for (kind, value) in members {
        conn.execute(
            "INSERT INTO ring_members (sweep_id, ring_id, kind, value) VALUES (?1, ?2, ?3, ?4)",
            params![sweep_id, ring_id, kind, value],
        )
        .unwrap();
    }
}

#[test]
fn rings_and_top_risk_institutions_become_cases() {
    let mut d = db();
    let c = &d.conn;
    claim(c, "R1", P1, 1000, "371302", "ORG1", "13600000000");
    claim(c, "R2", P2, 1000, "371302", "ORG2", "13600000000");
    claim(c, "R3", P3, 1000, "371302", "ORG2", "13600000000");
    sweep(c, 1);
    // The money comes from the flags (crate::money): R1 and R2 share 1,500.00 yuan (750.00
    // each, as they paid alike), R3 carries 400.00.
    flag(
        c,
        1,
        1,
        "shared_contact",
        "contact",
        "phone:13600000000",
        &["R1", "R2"],
        150_000,
        "medium",
    );
    flag(
        c,
        1,
        2,
        "cert_mismatch",
        "claim",
        "R3",
        &["R3"],
        40_000,
        "medium",
    );
    let members = [
        ("person", P1),
        ("person", P2),
        ("institution", "ORG2"),
        ("institution", "ORG1"),
        ("county", "371302"),
        ("phone", "13600000000"),
    ];
    ring(c, 1, 1, &members, &["R1", "R2"], 200_000);
    let top_n = cases::cases_policy(&claimsweep::policy::PolicySet::embedded_default())
        .institution_top_n as i64;
    for rank in 1..=top_n + 2 {
        let evidence = if rank == 1 {
            r#"[{"term":"flagged_share","zh":"疑点申领占比","en":"flagged share","value":50,"weight":1.0,"points":50.0,"claim_ids":["R2","R3"]}]"#
        } else {
            "[]"
        };
        c.execute(
            "INSERT INTO institution_risk (sweep_id, rank, institution_id, name, score, claims,
               amount_fen, flagged_claims, amount_at_risk_fen, rings, evidence_json)
             VALUES (1, ?1, ?2, '', ?3, 0, 0, 0, ?4, '', ?5)",
            params![
                rank,
                format!("ORG{rank}"),
                100.0 - rank as f64,
                if rank == 1 { 150_000 } else { 0 },
                evidence
            ],
        )
        .unwrap();
    }
    let summary = cases::build_for_sweep(&mut d.conn, 1).expect("build");
    assert_eq!(summary.graph_cases as i64, 1 + top_n);
    let rows = all_in(&d.conn, 1);
    let ring_case = rows
        .iter()
        .find(|r| r.subject_kind == "ring")
        .expect("ring case");
    // Anchored on the smallest institution member.
    assert_eq!(ring_case.case_key, "ring:ORG1:network");
    assert_eq!(ring_case.rules, vec!["ring"]);
    // A ring puts no money of its own at risk (its stored 2,000.00 yuan is the ring's own
    // measure): its claims count at their amounts under the flags.
    assert_eq!(ring_case.amount_at_risk_fen, 150_000);
    assert_eq!(ring_case.claim_ids, vec!["R1", "R2"]);
    let insts: Vec<&str> = rows
        .iter()
        .filter(|r| r.subject_kind == "institution")
        .map(|r| r.subject.as_str())
        .collect();
    assert_eq!(insts.len() as i64, top_n);
    assert!(!insts.contains(&format!("ORG{}", top_n + 1).as_str()));
    let org1 = rows
        .iter()
        .find(|r| r.case_key == "institution:ORG1:institution")
        .unwrap();
    assert_eq!(org1.claim_ids, vec!["R2", "R3"]);
    // R2's share under the flags and R3's.
    assert_eq!(org1.amount_at_risk_fen, 75_000 + 40_000);
    assert_eq!(
        cases::list(
            &d.conn,
            &CaseFilter {
                rule: Some("ring".into()),
                ..Default::default()
            }
        )
        .unwrap()
        .len(),
        1
    );

    // The ring's evidence and the institution's ranking show on the case.
    let detail = cases::show(&d.conn, ring_case.case_id).unwrap();
    let g = detail
        .graph
        .iter()
        .find(|g| g.kind == "ring")
        .expect("ring evidence");
    assert_eq!(g.explanation_en, "ring explanation");
    assert_eq!(g.members.len(), 6);
    let risk = detail
        .graph
        .iter()
        .find(|g| g.kind == "institution_risk")
        .expect("risk");
    assert_eq!(risk.id, 1);
    assert!(
        risk.explanation_zh.contains("疑点申领占比"),
        "{}",
        risk.explanation_zh
    );

    // Next sweep: the same ring under another id, with one more person, is the same case.
    let c = &d.conn;
    sweep(c, 2);
    let mut more = members.to_vec();
    more.push(("person", P3));
    ring(c, 2, 7, &more, &["R1", "R2", "R3"], 300_000);
    flag(
        c,
        2,
        1,
        "shared_contact",
        "contact",
        "phone:13600000000",
        &["R1", "R2"],
        150_000,
        "medium",
    );
    flag(
        c,
        2,
        2,
        "cert_mismatch",
        "claim",
        "R3",
        &["R3"],
        100_000,
        "medium",
    );
    let s2 = cases::build_for_sweep(&mut d.conn, 2).expect("build 2");
    // The institutions are gone; the ring and the two flag cases persist.
    assert_eq!(s2.resolved as i64, top_n);
    let rows = all_in(&d.conn, 2);
    assert_eq!(rows.len(), 3);
    let ring_row = rows
        .iter()
        .find(|r| r.case_id == ring_case.case_id)
        .expect("the ring case persists");
    assert_eq!(ring_row.change, Change::Persisting);
    // R3 joins at its 1,000.00 yuan under the flags.
    assert_eq!(ring_row.reason_en, "1 more claim, +1000.00 yuan");
}

/// Every row of the case tables, timestamps left out, in a fixed order.
fn case_tables(conn: &Connection) -> Vec<(String, Vec<String>)> {
    let queries = [
        (
            "cases",
            "SELECT case_id, case_key, subject_kind, subject, rule_family, county_code,
               institution_id, status, assignee, first_sweep_id, last_sweep_id, score,
               amount_at_risk_fen, claims, rules, claim_hash FROM cases ORDER BY case_id",
        ),
        (
            "case_sweeps",
            "SELECT rowid, * FROM case_sweeps ORDER BY case_id, sweep_id",
        ),
        (
            "case_flags",
            // WITHOUT ROWID: every column is the key, so the rows are the whole table.
            "SELECT * FROM case_flags ORDER BY case_id, sweep_id, seq",
        ),
        (
            "case_history",
            "SELECT history_id, case_id, actor, action, from_status, to_status, note, sweep_id
             FROM case_history ORDER BY history_id",
        ),
        (
            "case_builds",
            "SELECT sweep_id, summary_json FROM case_builds ORDER BY sweep_id",
        ),
    ];
    queries
        .iter()
        .map(|(table, sql)| {
            let mut stmt = conn.prepare(sql).expect("prepare");
            let n = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    let mut row = String::new();
                    for k in 0..n {
                        row.push_str(&format!("{:?}|", r.get_ref(k)?));
                    }
                    Ok(row)
                })
                .expect("query")
                .collect::<Result<Vec<_>, _>>()
                .expect("rows");
            (table.to_string(), rows)
        })
        .collect()
}

/// A generated ledger of `claims` claims (files under `dir/data`) ingested into `db`.
fn generated_ledger(dir: &std::path::Path, db: &std::path::Path, claims: u64, seed: u64) {
    use claimsweep::{generate, store};
    let data = dir.join("data");
    let opts = generate::GenerateOptions {
        claims,
        seed,
        messy: false,
        rate: 0.02,
        ..Default::default()
    };
    generate::generate(&opts, &data).expect("generate");
    let mut conn = store::open(db).expect("open");
    store::ingest::ingest_path(&mut conn, &data, false).expect("ingest");
}

/// One whole sweep of `db` through the library, its cases built from the database or from
/// the sweep in memory; returns the build time.
fn sweep_with_cases(db: &std::path::Path, in_memory: bool) -> std::time::Duration {
    use claimsweep::{graph, policy::PolicySet, refdata::RefData, rules::engine, store};
    let mut conn = store::open(db).expect("open");
    let snap = claimsweep::snapshot::load_snapshot(&conn).expect("snapshot");
    let policies = PolicySet::embedded_default();
    let sweep_id = store::flags::begin_sweep(&conn, &policies, 2).expect("sweep");
    let result = engine::run_rules(&snap, &policies, RefData::embedded(), Some(2));
    let resolved = claimsweep::resolve::Resolved::new(&snap, &policies);
    resolved.save(&conn, sweep_id, &snap).expect("resolution");
    let findings = graph::analyse(&snap, &resolved, &result.flags, &policies);
    store::flags::save_flags(&conn, sweep_id, &snap, &result.flags).expect("flags");
    graph::save::save(&conn, sweep_id, &findings).expect("graph");
    let policy = cases::cases_policy(&policies);
    let t = std::time::Instant::now();
    if in_memory {
        cases::build::build_for_sweep_in_memory(
            &mut conn,
            sweep_id,
            &policy,
            &snap,
            &resolved.persons,
            &result.flags,
            &findings,
        )
        .expect("build in memory");
    } else {
        cases::build_for_sweep_with(&mut conn, sweep_id, &policy).expect("build");
    }
    t.elapsed()
}

/// The in-memory build gives the same rows as the database build, for a first sweep, and for
/// a second one after a reviewer dismissed a case and confirmed another. Runs on a generated
/// ledger; `CLAIMSWEEP_CASES_DB` names an ingested database to run on instead (it is copied).
#[test]
fn cases_built_in_memory_equal_cases_built_from_the_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let from_db = dir.path().join("db.db");
    match std::env::var("CLAIMSWEEP_CASES_DB") {
        Ok(src) => {
            std::fs::copy(src, &from_db).expect("copy database");
        }
        Err(_) => generated_ledger(dir.path(), &from_db, 30_000, 11),
    }
    let in_memory = dir.path().join("memory.db");
    std::fs::copy(&from_db, &in_memory).expect("copy");
    for round in 1..=2 {
        let db_time = sweep_with_cases(&from_db, false);
        let memory_time = sweep_with_cases(&in_memory, true);
        eprintln!("round {round}: cases from the database {db_time:?}, in memory {memory_time:?}");
        let mut a = Connection::open(&from_db).expect("open");
        let mut b = Connection::open(&in_memory).expect("open");
        let tables_a = case_tables(&a);
        assert!(
            tables_a[0].1.len() > 100,
            "too few cases to compare: {}",
            tables_a[0].1.len()
        );
        for ((table, rows_a), (_, rows_b)) in tables_a.iter().zip(case_tables(&b)) {
            assert_eq!(rows_a.len(), rows_b.len(), "{table}: row counts differ");
            for (x, y) in rows_a.iter().zip(&rows_b) {
                assert_eq!(x, y, "{table} differs");
            }
        }
        if round == 1 {
            // The graph's ring and institution cases are part of the comparison.
            let graph_cases: i64 = a
                .query_row(
                    "SELECT count(*) FROM cases WHERE subject_kind IN ('ring', 'institution')",
                    [],
                    |r| r.get(0),
                )
                .expect("count");
            assert!(graph_cases > 0, "no ring or institution case to compare");
            for conn in [&mut a, &mut b] {
                cases::review(conn, 1, "dismissed", "核实无误", "王科长").expect("dismiss");
                cases::review(conn, 2, "confirmed", "属实", "王科长").expect("confirm");
            }
        }
    }
}

/// Cases are written in runs of 4,096 by a writer fed by a deciding thread, which refills the
/// runs the writer has written: over several runs and two sweeps, every case is written once,
/// with its sweep row, its flags and its history, and none twice.
#[test]
fn cases_written_in_many_runs_are_each_written_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("runs.db");
    generated_ledger(dir.path(), &db, 80_000, 5);
    let count =
        |conn: &Connection, sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
    for sweep_id in 1..=2_i64 {
        sweep_with_cases(&db, true);
        let conn = Connection::open(&db).expect("open");
        let cases = count(&conn, "SELECT count(*) FROM cases");
        assert!(cases > 3 * 4096, "{cases} cases: fewer than three runs");
        let summary: String = conn
            .query_row(
                "SELECT summary_json FROM case_builds WHERE sweep_id = ?1",
                [sweep_id],
                |r| r.get(0),
            )
            .expect("summary");
        let summary: serde_json::Value = serde_json::from_str(&summary).expect("json");
        assert_eq!(summary["cases"].as_i64(), Some(cases));
        let of_sweep = |table: &str| {
            count(
                &conn,
                &format!("SELECT count(*) FROM {table} WHERE sweep_id = {sweep_id}"),
            )
        };
        assert_eq!(of_sweep("case_sweeps"), cases);
        assert_eq!(of_sweep("case_flags"), of_sweep("flags"));
        assert_eq!(
            count(&conn, "SELECT count(DISTINCT case_id) FROM case_sweeps"),
            cases
        );
        // One "created" entry per case, written in the first sweep only.
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM case_history WHERE action = 'created'"
            ),
            cases
        );
        if sweep_id == 2 {
            assert_eq!(summary["persisting"].as_i64(), Some(cases));
            assert_eq!(summary["new"].as_i64(), Some(0));
        }
    }
}

/// A case found again with the same claims keeps its `cases` row in step with the sweep: new
/// money or a new county is written; an unchanged row moves only its last sweep, which is
/// what tells later that the case is gone.
#[test]
fn a_case_found_again_keeps_its_row_in_step_and_resolves_when_gone() {
    let mut d = db();
    claim(&d.conn, "C1", P1, 1000, "371302", "ORG1", "13800000001");
    let row = |conn: &Connection| -> (String, i64, i64, f64) {
        conn.query_row(
            "SELECT county_code, amount_at_risk_fen, last_sweep_id, score FROM cases",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("one case")
    };
    let flagged = |conn: &Connection, sweep_id: i64, fen: i64| {
        sweep(conn, sweep_id);
        flag(
            conn,
            sweep_id,
            1,
            "over_cap",
            "person",
            P1,
            &["C1"],
            fen,
            "high",
        );
    };
    flagged(&d.conn, 1, 100_000);
    cases::build_for_sweep(&mut d.conn, 1).expect("build 1");
    let first = row(&d.conn);
    // Same claim, more money: the row takes the new amount and score.
    flagged(&d.conn, 2, 150_000);
    cases::build_for_sweep(&mut d.conn, 2).expect("build 2");
    let second = row(&d.conn);
    assert_eq!((second.1, second.2), (150_000, 2));
    assert!(second.3 > first.3, "{first:?} {second:?}");
    // Same claim and money, the claim now in another county: the row follows it.
    d.conn
        .execute(
            "UPDATE claims SET county_code = '371311' WHERE claim_id = 'C1'",
            [],
        )
        .expect("move the claim");
    flagged(&d.conn, 3, 150_000);
    cases::build_for_sweep(&mut d.conn, 3).expect("build 3");
    assert_eq!(row(&d.conn), ("371311".to_string(), 150_000, 3, second.3));
    // Nothing changed: only the last sweep moves, and the page still says why.
    flagged(&d.conn, 4, 150_000);
    cases::build_for_sweep(&mut d.conn, 4).expect("build 4");
    assert_eq!(row(&d.conn), ("371311".to_string(), 150_000, 4, second.3));
    let rows = all_in(&d.conn, 4);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].change, Change::Persisting);
    assert_eq!(
        (rows[0].reason_zh.as_str(), rows[0].reason_en.as_str()),
        ("证据未变", "evidence unchanged")
    );
    assert_eq!(all_in(&d.conn, 2)[0].reason_en, "+500.00 yuan");
    // Not found in sweep 5: resolved, as the sweep before found it.
    sweep(&d.conn, 5);
    let s5 = cases::build_for_sweep(&mut d.conn, 5).expect("build 5");
    assert_eq!((s5.resolved, s5.cases), (1, 0));
}

//! Two inspectors reviewing at once on one database file never lose an action: two processes
//! of the real binary each perform 50 actions on shared and own cases at the same time, and
//! afterwards the history holds every one of them.

use claimsweep::cases;
use rusqlite::{params, Connection};
use std::process::Command;
use std::thread;

const CASES: i64 = 40;
const ACTIONS_PER_INSPECTOR: i64 = 50;

fn person(i: i64) -> String {
    // Distinct 18-character ID numbers; their check digits do not matter here.
    format!("3713021990010{i:04}X")
}

/// A database with one sweep and `CASES` open person cases.
fn fixture(path: &std::path::Path) {
    let mut conn = Connection::open(path).expect("open");
    cases::schema::prepare_connection(&conn).expect("schema");
    conn.execute(
        "INSERT INTO sweeps (sweep_id, started_at, policy, threads) VALUES (1, '2020-06-01T00:00:00Z', 'test', 1)",
        [],
    )
    .unwrap();
    for i in 1..=CASES {
        let claim = format!("C{i:03}");
        conn.execute(
            "INSERT INTO claims (claim_id, id_number, amount_fen, claim_date) VALUES (?1, ?2, 100000, '2020-03-05')",
            params![claim, person(i)],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO flags (sweep_id, seq, rule, subject_kind, subject, claim_ids,
               amount_at_risk_fen, severity, explanation_zh, explanation_en)
             VALUES (1, ?1, 'deceased', 'claim', ?2, ?2, 100000, 'high', '死亡后申领', 'claim after death')",
            params![i, claim],
        )
        .unwrap();
    }
    let summary = cases::build_for_sweep(&mut conn, 1).expect("build");
    assert_eq!(summary.cases as i64, CASES);
}

/// Runs the binary once per action, one action after another, like an inspector at a prompt.
fn inspector(db: String, actions: Vec<Vec<String>>) -> Vec<(Vec<String>, std::process::Output)> {
    actions
        .into_iter()
        .map(|args| {
            let out = Command::new(env!("CARGO_BIN_EXE_claimsweep"))
                .args(&args)
                .args(["--db", &db])
                .output()
                .expect("run claimsweep");
            (args, out)
        })
        .collect()
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn two_processes_reviewing_at_once_lose_no_action() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("review.db");
    fixture(&path);
    let db = path.to_str().unwrap().to_string();

    // Both inspectors assign cases 1..=10 over and over (contended rows); each also decides
    // cases of their own (11..=25 for A, 26..=40 for B) straight from open.
    let mut a_actions = Vec::new();
    let mut b_actions = Vec::new();
    for k in 0..ACTIONS_PER_INSPECTOR {
        let shared = (k % 10 + 1).to_string();
        if k < 35 {
            a_actions.push(args(&[
                "cases",
                "assign",
                &shared,
                "--to",
                "张三",
                "--by",
                "inspector-a",
            ]));
            b_actions.push(args(&[
                "cases",
                "assign",
                &shared,
                "--to",
                "李四",
                "--by",
                "inspector-b",
            ]));
        } else {
            let own_a = (11 + k - 35).to_string();
            let own_b = (26 + k - 35).to_string();
            a_actions.push(args(&[
                "cases",
                "review",
                &own_a,
                "--status",
                "confirmed",
                "--note",
                "核实",
                "--by",
                "inspector-a",
            ]));
            b_actions.push(args(&[
                "cases",
                "review",
                &own_b,
                "--status",
                "escalated",
                "--note",
                "移送",
                "--by",
                "inspector-b",
            ]));
        }
    }
    // Interleave differently so the two processes do not run in lock-step.
    b_actions.reverse();
    let (db_a, db_b) = (db.clone(), db.clone());
    let a = thread::spawn(move || inspector(db_a, a_actions));
    let b = thread::spawn(move || inspector(db_b, b_actions));
    let results: Vec<_> = a
        .join()
        .unwrap()
        .into_iter()
        .chain(b.join().unwrap())
        .collect();
    assert_eq!(results.len() as i64, 2 * ACTIONS_PER_INSPECTOR);
    for (args, out) in &results {
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let conn = Connection::open(&path).unwrap();
    let count = |actor: &str, action: &str| -> i64 {
        conn.query_row(
            "SELECT count(*) FROM case_history WHERE actor = ?1 AND action = ?2",
            [actor, action],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(count("inspector-a", "assign"), 35);
    assert_eq!(count("inspector-b", "assign"), 35);
    assert_eq!(count("inspector-a", "review"), 15);
    assert_eq!(count("inspector-b", "review"), 15);
    // Each review from open also records its in_review step.
    assert_eq!(count("inspector-a", "start_review"), 15);
    assert_eq!(count("inspector-b", "start_review"), 15);
    let total: i64 = conn
        .query_row("SELECT count(*) FROM case_history", [], |r| r.get(0))
        .unwrap();
    assert_eq!(total, CASES + 2 * ACTIONS_PER_INSPECTOR + 30);
    // History ids are dense: no transaction half-wrote and rolled back into a gap.
    let (min, max): (i64, i64) = conn
        .query_row(
            "SELECT min(history_id), max(history_id) FROM case_history",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(max - min + 1, total);

    // Every shared case ends in review, assigned to whoever assigned it last in the history.
    for case_id in 1..=10 {
        let (status, assignee): (String, String) = conn
            .query_row(
                "SELECT status, assignee FROM cases WHERE case_id = ?1",
                [case_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(status, "in_review");
        let last = cases::history(&conn, case_id).unwrap().pop().unwrap();
        assert_eq!(last.action, "assign");
        assert!(last.note.contains(&assignee), "{} vs {assignee}", last.note);
    }
    let decided: i64 = conn
        .query_row(
            "SELECT count(*) FROM cases WHERE status IN ('confirmed', 'escalated')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(decided, 30);
}

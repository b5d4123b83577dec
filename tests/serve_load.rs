//! A bounded load test on localhost: 20 simulated reviewers (16 inspectors, 4 supervisors)
//! do 1,000 actions in all against the real server at once — take the next case, read the
//! inbox and the case, comment, confirm, approve. Afterwards every action the server
//! accepted is in the history exactly once, nothing else is, no reviewer was shown
//! "database is locked" or a server error, and p50/p95 latencies are printed.
//!
//! `CLAIMSWEEP_LOAD_DB=path` runs it on an existing swept database instead (e.g. 1 M claims;
//! the database is changed: use a copy).

mod serve_common;
use serve_common::*;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const REVIEWERS: usize = 20;
const SUPERVISORS: usize = 4;
const ACTIONS: usize = 1000;

#[derive(Default)]
struct Tally {
    /// (kind, milliseconds)
    latencies: Vec<(&'static str, f64)>,
    /// History entries the accepted actions must have written.
    writes: usize,
    /// Notes of accepted comments (each unique).
    comments: Vec<String>,
    faults: Vec<String>,
}

fn timed(t: &Mutex<Tally>, kind: &'static str, f: impl FnOnce() -> Response) -> Response {
    let start = Instant::now();
    let r = f();
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let mut t = t.lock().unwrap();
    t.latencies.push((kind, ms));
    let text = r.text();
    if r.status >= 500 || text.contains("database is locked") || text.contains("locked") {
        t.faults.push(format!(
            "{kind}: {} {}",
            r.status,
            text.chars().take(200).collect::<String>()
        ));
    }
    r
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[test]
fn twenty_reviewers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = match std::env::var("CLAIMSWEEP_LOAD_DB") {
        Ok(p) => std::path::PathBuf::from(p),
        Err(_) => fixture(dir.path(), 5000, false),
    };
    let db_s = db.to_str().unwrap().to_string();
    let names: Vec<String> = (0..REVIEWERS).map(|i| format!("reviewer{i:02}")).collect();
    for (i, n) in names.iter().enumerate() {
        let role = if i < SUPERVISORS {
            "supervisor"
        } else {
            "inspector"
        };
        add_user(&db_s, n, role, "load-test-pw");
    }
    let written_before: i64 = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.query_row("SELECT count(*) FROM case_history", [], |r| r.get(0))
            .unwrap()
    };
    let server = Server::start(&db, &[]);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let per = ACTIONS / REVIEWERS;
    let threads: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (addr, name, tally) = (server.addr.clone(), name.clone(), tally.clone());
            std::thread::spawn(move || {
                let c = Client::login(&addr, (&name, "load-test-pw"));
                let supervisor = i < SUPERVISORS;
                let mut done = 0;
                let mut current: Option<i64> = None;
                let mut n = 0;
                while done < per {
                    n += 1;
                    let step = n % 5;
                    done += 1;
                    if supervisor {
                        match step {
                            0 | 2 => {
                                let r = timed(&tally, "inbox", || {
                                    c.get("/inbox?status=pending_approval")
                                });
                                current = case_ids(&r.text()).first().copied();
                            }
                            1 | 3 => {
                                let Some(id) = current.take() else {
                                    timed(&tally, "inbox", || {
                                        c.get("/inbox?status=pending_approval")
                                    });
                                    continue;
                                };
                                let r = timed(&tally, "approve", || {
                                    c.post(&format!("/case/{id}/act"), &[("kind", "approve")])
                                });
                                // Another supervisor may have approved it first: a refusal, not a loss.
                                if r.status == 303 {
                                    tally.lock().unwrap().writes += 1;
                                } else if r.status != 409 {
                                    tally
                                        .lock()
                                        .unwrap()
                                        .faults
                                        .push(format!("approve {id}: {}", r.status));
                                }
                            }
                            _ => {
                                timed(&tally, "inbox", || c.get("/inbox?view=triage"));
                            }
                        }
                        continue;
                    }
                    match (step, current) {
                        (1, _) | (_, None) => {
                            let r = timed(&tally, "next", || c.post("/next", &[]));
                            match r.header("location") {
                                Some(l) if r.status == 303 => {
                                    current = l.trim_start_matches("/case/").parse().ok();
                                    tally.lock().unwrap().writes += 1;
                                }
                                _ => current = None,
                            }
                        }
                        (2, Some(id)) => {
                            timed(&tally, "case", || c.get(&format!("/case/{id}")));
                        }
                        (3, Some(id)) => {
                            let note = format!("load-{name}-{n}");
                            let r = timed(&tally, "comment", || {
                                c.post(
                                    &format!("/case/{id}/act"),
                                    &[("kind", "comment"), ("note", &note)],
                                )
                            });
                            let mut t = tally.lock().unwrap();
                            if r.status == 303 {
                                t.writes += 1;
                                t.comments.push(note);
                            } else {
                                t.faults.push(format!("comment {id}: {}", r.status));
                            }
                        }
                        (4, Some(id)) => {
                            let r = timed(&tally, "confirm", || {
                                c.post(
                                    &format!("/case/{id}/act"),
                                    &[("kind", "confirm"), ("note", "负载测试")],
                                )
                            });
                            let mut t = tally.lock().unwrap();
                            if r.status == 303 {
                                t.writes += 1;
                            } else {
                                t.faults.push(format!("confirm {id}: {}", r.status));
                            }
                            current = None;
                        }
                        _ => {
                            timed(&tally, "inbox", || c.get("/inbox?assignee=me"));
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("reviewer thread");
    }
    let elapsed = started.elapsed();
    drop(server);
    let t = tally.lock().unwrap();
    assert!(t.faults.is_empty(), "faults:\n{}", t.faults.join("\n"));
    assert_eq!(t.latencies.len(), ACTIONS, "every action was made");

    // Nothing lost, nothing duplicated.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let written: i64 = conn
        .query_row("SELECT count(*) FROM case_history", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        (written - written_before) as usize,
        t.writes,
        "history entries = accepted actions"
    );
    let mut st = conn
        .prepare("SELECT note, count(*) FROM case_history WHERE action = 'comment' AND note LIKE 'load-%' GROUP BY note")
        .unwrap();
    let stored: Vec<(String, i64)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(stored.len(), t.comments.len());
    assert!(
        stored.iter().all(|(_, n)| *n == 1),
        "a comment stored twice"
    );
    // Each comment's author is the reviewer in its note.
    let wrong: i64 = conn
        .query_row("SELECT count(*) FROM case_history WHERE action = 'comment' AND note LIKE 'load-%' AND note NOT LIKE 'load-' || actor || '-%'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(wrong, 0);

    let mut all: Vec<f64> = t.latencies.iter().map(|l| l.1).collect();
    all.sort_by(|a, b| a.partial_cmp(b).unwrap());
    eprintln!(
        "load: {} actions by {REVIEWERS} reviewers in {:.1} s; {} history entries; latency p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        all.len(),
        elapsed.as_secs_f64(),
        t.writes,
        percentile(&all, 0.5),
        percentile(&all, 0.95),
        all.last().copied().unwrap_or(0.0)
    );
    for kind in ["next", "inbox", "case", "comment", "confirm", "approve"] {
        let mut v: Vec<f64> = t
            .latencies
            .iter()
            .filter(|l| l.0 == kind)
            .map(|l| l.1)
            .collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        eprintln!(
            "  {kind:8} n={:4} p50 {:7.1} ms  p95 {:7.1} ms",
            v.len(),
            percentile(&v, 0.5),
            percentile(&v, 0.95)
        );
    }
    assert!(elapsed < Duration::from_secs(600), "bounded");
}

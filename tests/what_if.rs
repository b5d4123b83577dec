//! `sweep --dry-run --rules DIR`: a changed policy is run against the current ledger and
//! compared with the latest sweep's cases, and nothing is stored in the audit database.

mod common;
use common::{claimsweep, query_all};
use std::path::Path;

fn counts(db: &Path) -> (i64, i64, i64, i64) {
    query_all(
        db,
        "SELECT (SELECT count(*) FROM sweeps), (SELECT count(*) FROM cases),
                (SELECT count(*) FROM case_history), (SELECT count(*) FROM flags)",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )[0]
}

#[test]
fn a_dry_run_lists_what_a_changed_policy_would_do_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    claimsweep(
        p,
        &["generate", "--claims", "4000", "--seed", "3", "--out", "g"],
    );
    claimsweep(p, &["ingest", "g", "--db", "a.db"]);
    claimsweep(p, &["sweep", "--db", "a.db"]);
    let before = counts(&p.join("a.db"));

    // The same policy: nothing would appear or go (the sweep is deterministic).
    let policy = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/linyi-2019.toml"),
    )
    .unwrap();
    std::fs::create_dir_all(p.join("same")).unwrap();
    std::fs::write(p.join("same/linyi-2019.toml"), &policy).unwrap();
    let same: serde_json::Value = serde_json::from_str(&claimsweep(
        p,
        &[
            "sweep",
            "--db",
            "a.db",
            "--rules",
            "same",
            "--dry-run",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(same["current_sweep"], 1);
    assert_eq!(
        same["snapshot_from_file"], true,
        "the copy reads the state's snapshot"
    );
    assert_eq!(same["diff"]["new"].as_array().unwrap().len(), 0);
    assert_eq!(same["diff"]["resolved"].as_array().unwrap().len(), 0);
    assert_eq!(
        same["diff"]["persisting"].as_array().unwrap().len() as i64,
        before.1
    );

    // Two subsidies a year instead of three: persons with three claims in a year appear.
    let stricter = policy.replacen(
        "[claims_per_year]\nmax = 3",
        "[claims_per_year]\nmax = 2",
        1,
    );
    assert_ne!(
        stricter, policy,
        "the policy file has its claims_per_year section"
    );
    std::fs::create_dir_all(p.join("strict")).unwrap();
    std::fs::write(p.join("strict/linyi-2019.toml"), &stricter).unwrap();
    let strict: serde_json::Value = serde_json::from_str(&claimsweep(
        p,
        &[
            "sweep",
            "--db",
            "a.db",
            "--rules",
            "strict",
            "--dry-run",
            "--json",
        ],
    ))
    .unwrap();
    let new = strict["diff"]["new"].as_array().unwrap();
    assert!(!new.is_empty(), "a stricter cap makes new cases");
    assert!(strict["diff"]["resolved"].as_array().unwrap().is_empty());
    let text = claimsweep(
        p,
        &["sweep", "--db", "a.db", "--rules", "strict", "--dry-run"],
    );
    assert!(text.starts_with("试运行（未保存任何内容）"), "{text}");
    assert!(
        text.contains(&format!("将新出现 {} 件", new.len())),
        "{text}"
    );

    // The audit database is untouched and no scratch copy is left beside it.
    assert_eq!(counts(&p.join("a.db")), before);
    let left: Vec<_> = std::fs::read_dir(p)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("what-if"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_dry_run_without_a_sweep_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    claimsweep(p, &["generate", "--claims", "500", "--out", "g"]);
    claimsweep(p, &["ingest", "g", "--db", "a.db"]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_claimsweep"))
        .args(["sweep", "--db", "a.db", "--dry-run"])
        .current_dir(p)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("claimsweep sweep"), "{err}");
}

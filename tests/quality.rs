//! Quality end to end, as a user runs it: the real binary generates a ledger (clean, and
//! `--messy`: GBK, Chinese headers, real-export values), ingests it, sweeps it and evaluates
//! the sweep against the generator's ground truth. Every rule must reach precision and recall
//! 1.000; a ledger generated with injection rate 0 must sweep with zero flags.

mod common;

use common::claimsweep;
use std::path::Path;

const CLAIMS: &str = "30000";

/// Generates, ingests and sweeps a ledger in a fresh folder; returns the folder and the
/// sweep's printed summary.
fn swept(extra: &[&str]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut gen = vec![
        "generate", "--out", "ledger", "--claims", CLAIMS, "--seed", "17",
    ];
    gen.extend_from_slice(extra);
    claimsweep(dir.path(), &gen);
    claimsweep(dir.path(), &["ingest", "--db", "audit.db", "ledger"]);
    let summary = claimsweep(dir.path(), &["sweep", "--db", "audit.db", "--lang", "en"]);
    (dir, summary)
}

fn scores(dir: &Path) -> serde_json::Value {
    let json = claimsweep(
        dir,
        &[
            "eval",
            "--db",
            "audit.db",
            "--labels",
            "ledger/labels.csv",
            "--json",
        ],
    );
    serde_json::from_str(&json).expect("eval --json is JSON")
}

fn assert_exact(extra: &[&str]) {
    let (dir, summary) = swept(extra);
    assert!(
        summary.contains("claims not judged (no policy in force): 0"),
        "{summary}"
    );
    let v = scores(dir.path());
    let rules = v["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), claimsweep::rules::RULES.len(), "{v:#}");
    for r in rules {
        let name = r["rule"].as_str().unwrap_or("?");
        assert!(
            r["labelled"].as_u64().unwrap_or(0) > 0,
            "{name} is injected: {r}"
        );
        assert_eq!(r["precision"].as_f64(), Some(1.0), "{extra:?} {name}: {r}");
        assert_eq!(r["recall"].as_f64(), Some(1.0), "{extra:?} {name}: {r}");
    }
    assert_eq!(v["total"]["precision"].as_f64(), Some(1.0));
    assert_eq!(v["total"]["recall"].as_f64(), Some(1.0));
    // The ledger has persons under several ID numbers and claims filed after the policy
    // ended for training inside it: both judged.
    assert!(
        !summary.contains("persons under several ID numbers: 0 "),
        "{summary}"
    );
}

#[test]
fn a_generated_ledger_is_swept_with_precision_and_recall_one_on_every_rule() {
    assert_exact(&[]);
}

#[test]
fn a_messy_generated_ledger_is_swept_with_precision_and_recall_one_on_every_rule() {
    assert_exact(&["--messy"]);
}

#[test]
fn a_ledger_without_injections_sweeps_with_zero_flags() {
    let (_dir, summary) = swept(&["--rate", "0"]);
    assert!(summary.contains("\nflags: 0\n"), "{summary}");
    assert!(
        summary.contains("persons under several ID numbers: 0 persons"),
        "{summary}"
    );
}

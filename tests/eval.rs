//! Evaluation against a hand-made labels file: a real sweep of a hand-made ledger, stored and
//! read back, scored with exact expected precision and recall; and the `eval` command.

use claimsweep::dates::Date;
use claimsweep::eval::{evaluate, Labels};
use claimsweep::idcode::id_check_char;
use claimsweep::model::*;
use claimsweep::policy::PolicySet;
use claimsweep::refdata::RefData;
use claimsweep::rules::engine::run_rules;
use claimsweep::snapshot::Snapshot;
use claimsweep::store::flags as flag_store;

fn id(seq: u32) -> String {
    let first17 = format!("37130219900307{seq:03}");
    format!("{first17}{}", id_check_char(&first17).unwrap())
}

fn claim(claim_id: &str, who: &str, date: (i32, u32, u32), amount: Fen) -> ClaimRow {
    ClaimRow {
        claim_id: claim_id.into(),
        id_number: who.into(),
        name: "张伟".into(),
        phone: format!("1380000{}", &who[14..]),
        category: Some(Category::Unemployed),
        county_code: "371302".into(),
        subsidy_type: Some(SubsidyType::NoLevelCert),
        occupation_code: format!("4-01-01-{}", &claim_id[1..]),
        funding_source: Some(FundingSource::EmploymentFund),
        amount,
        claim_date: Date::from_ymd(date.0, date.1, date.2).unwrap(),
        ..Default::default()
    }
}

/// Flags: over_cap C04 (4th claim of person 1 in 2020), amount_over_standard C05 and C06
/// (1200 yuan over the 1000 yuan cap), deceased C07.
fn ledger() -> Ledger {
    let (p1, p2, p3) = (id(1), id(2), id(3));
    Ledger {
        present: vec!["claims", "registry_death"],
        claims: vec![
            claim("C01", &p1, (2020, 1, 5), 80_000),
            claim("C02", &p1, (2020, 2, 5), 80_000),
            claim("C03", &p1, (2020, 3, 5), 80_000),
            claim("C04", &p1, (2020, 4, 5), 80_000),
            claim("C05", &p2, (2020, 4, 5), 120_000),
            claim("C06", &p2, (2021, 4, 5), 120_000),
            claim("C07", &p3, (2020, 9, 5), 80_000),
        ],
        registry_death: vec![DeathRow {
            id_number: p3,
            death_date: Date::from_ymd(2020, 8, 1).unwrap(),
        }],
        ..Default::default()
    }
}

/// Ground truth that the sweep partly misses and partly exceeds:
/// over_cap: labelled C04, C03 → flagged C04: tp 1, precision 1/1, recall 1/2.
/// amount_over_standard: labelled C05 → flagged C05, C06: tp 1, precision 1/2, recall 1/1.
/// deceased: labelled C07 → tp 1: 1.000 / 1.000.
/// multi_id: labelled C01, nothing flagged: precision -, recall 0.
const LABELS: &str = "claim_id,rule\nC04,over_cap\nC03,over_cap\nC05,amount_over_standard\nC07,deceased\nC01,multi_id\nC07,deceased\n";

#[test]
fn hand_made_labels_give_the_exact_scores() {
    let tmp = tempfile::tempdir().unwrap();
    let labels_path = tmp.path().join("labels.csv");
    std::fs::write(&labels_path, LABELS).unwrap();
    let labels = Labels::load(&labels_path).unwrap();

    // Sweep, store, read the flagged pairs back as `eval` does.
    let snap = Snapshot::from_ledger(&ledger());
    let policies = PolicySet::embedded_default();
    let result = run_rules(&snap, &policies, RefData::embedded(), Some(2));
    let conn = claimsweep::store::open(&tmp.path().join("t.db")).unwrap();
    let sweep = flag_store::begin_sweep(&conn, &policies, 2).unwrap();
    flag_store::save_flags(&conn, sweep, &snap, &result.flags).unwrap();
    flag_store::finish_sweep(&conn, sweep, snap.claims.len(), &serde_json::json!({})).unwrap();
    let pairs = flag_store::flagged_pairs(&conn, sweep).unwrap();
    let report = evaluate(&labels, pairs.iter().map(|(r, c)| (r.as_str(), c.as_str())));

    let score = |rule: &str| {
        report
            .rules
            .iter()
            .find(|s| s.rule == rule)
            .unwrap()
            .clone()
    };
    let s = score("over_cap");
    assert_eq!((s.labelled, s.flagged, s.true_positives), (2, 1, 1));
    assert_eq!((s.precision, s.recall), (Some(1.0), Some(0.5)));
    let s = score("amount_over_standard");
    assert_eq!((s.labelled, s.flagged, s.true_positives), (1, 2, 1));
    assert_eq!((s.precision, s.recall), (Some(0.5), Some(1.0)));
    let s = score("deceased");
    assert_eq!((s.labelled, s.flagged, s.true_positives), (1, 1, 1));
    assert_eq!((s.precision, s.recall), (Some(1.0), Some(1.0)));
    let s = score("multi_id");
    assert_eq!((s.labelled, s.flagged, s.true_positives), (1, 0, 0));
    assert_eq!((s.precision, s.recall), (None, Some(0.0)));
    let s = score("pensioner");
    assert_eq!(
        (s.labelled, s.flagged, s.precision, s.recall),
        (0, 0, None, None)
    );
    // Micro: 5 labelled pairs, 4 flagged pairs, 3 true positives.
    let t = &report.total;
    assert_eq!((t.labelled, t.flagged, t.true_positives), (5, 4, 3));
    assert_eq!(t.precision, Some(0.75));
    assert_eq!(t.recall, Some(0.6));
}

#[test]
fn eval_command_prints_table_and_json() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let data = root.join("data");
    std::fs::create_dir(&data).unwrap();
    let l = ledger();
    let mut csv = String::from("claim_id,id_number,name,phone,category,county_code,subsidy_type,occupation_code,funding_source,amount,claim_date\n");
    for c in &l.claims {
        csv += &format!(
            "{},{},{},{},unemployed,371302,no_level_cert,{},employment_fund,{},{}\n",
            c.claim_id,
            c.id_number,
            c.name,
            c.phone,
            c.occupation_code,
            fen_to_yuan(c.amount),
            c.claim_date
        );
    }
    std::fs::write(data.join("claims.csv"), csv).unwrap();
    std::fs::write(
        data.join("registry_death.csv"),
        format!("id_number,death_date\n{},2020-08-01\n", id(3)),
    )
    .unwrap();
    std::fs::write(root.join("labels.csv"), LABELS).unwrap();
    let bin = env!("CARGO_BIN_EXE_claimsweep");
    let db = root.join("t.db");
    for args in [
        vec![
            "ingest",
            "--db",
            db.to_str().unwrap(),
            data.to_str().unwrap(),
        ],
        vec!["sweep", "--db", db.to_str().unwrap()],
    ] {
        let out = std::process::Command::new(bin)
            .current_dir(root)
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = std::process::Command::new(bin)
        .current_dir(root)
        .args([
            "eval",
            "--db",
            db.to_str().unwrap(),
            "--labels",
            "labels.csv",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total"]["precision"], 0.75);
    assert_eq!(v["total"]["recall"], 0.6);
    let over = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "over_cap")
        .unwrap();
    assert_eq!(over["recall"], 0.5);

    let out = std::process::Command::new(bin)
        .current_dir(root)
        .args([
            "eval",
            "--db",
            db.to_str().unwrap(),
            "--labels",
            "labels.csv",
            "--lang",
            "en",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let line = |rule: &str| {
        text.lines()
            .find(|l| l.starts_with(rule))
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(line("over_cap"), "over_cap | 2 | 1 | 1 | 1.000 | 0.500");
    assert_eq!(line("pensioner"), "pensioner | - | - | - | - | -");
    assert_eq!(line("total"), "total (micro) | 5 | 4 | 3 | 0.750 | 0.600");

    // A labels file with an unknown rule: one line naming file and line.
    std::fs::write(
        root.join("bad.csv"),
        "claim_id,rule\nC01,over_cap\nC02,overcap\n",
    )
    .unwrap();
    let out = std::process::Command::new(bin)
        .current_dir(root)
        .args(["eval", "--db", db.to_str().unwrap(), "--labels", "bad.csv"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("bad.csv:3:") && err.trim_end().lines().count() == 1,
        "{err}"
    );
}

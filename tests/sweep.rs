//! The real binary on a small fixture folder: ingest, sweep, export in the three formats (read
//! back with calamine, serde_json and csv), sweeps kept, and a broken policy file rejected with
//! its file and line.

use claimsweep::idcode::id_check_char;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_claimsweep"))
}

fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("binary runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn id(birth: &str, seq: u32) -> String {
    let first17 = format!("371302{birth}{seq:03}");
    format!("{first17}{}", id_check_char(&first17).unwrap())
}

/// Person A claims four times in 2020 (the 4th is over the cap of 3); person B claims after
/// death; person C is clean. Only claims and registry_death are present.
fn write_fixture(dir: &Path) -> (String, String) {
    let a = id("19900307", 1);
    let b = id("19850612", 2);
    let c = id("19920101", 3);
    let header = "claim_id,id_number,name,phone,bank_account,category,county_code,institution_id,class_id,\
                  subsidy_type,occupation_code,level,cert_no,funding_source,amount,living_days,living_amount,claim_date";
    let row = |cid: &str, who: &str, name: &str, phone: &str, occ: &str, date: &str| {
        format!(
            "{cid},{who},{name},{phone},,unemployed,371302,ORG1,,no_level_cert,{occ},,,employment_fund,800,0,0,{date}"
        )
    };
    let claims = [
        header.to_string(),
        row(
            "C001",
            &a,
            "张伟",
            "13800000001",
            "4-01-01-01",
            "2020-01-05",
        ),
        row(
            "C002",
            &a,
            "张伟",
            "13800000001",
            "4-01-01-02",
            "2020-03-05",
        ),
        row(
            "C003",
            &a,
            "张伟",
            "13800000001",
            "4-01-01-03",
            "2020-05-05",
        ),
        row(
            "C004",
            &a,
            "张伟",
            "13800000001",
            "4-01-01-04",
            "2020-07-05",
        ),
        row(
            "C005",
            &b,
            "李娜",
            "13800000002",
            "4-01-01-01",
            "2020-06-01",
        ),
        row(
            "C006",
            &c,
            "王芳",
            "13800000003",
            "4-01-01-01",
            "2020-06-01",
        ),
    ]
    .join("\n");
    std::fs::write(dir.join("claims.csv"), claims + "\n").unwrap();
    std::fs::write(
        dir.join("registry_death.csv"),
        format!("id_number,death_date\n{b},2020-05-01\n"),
    )
    .unwrap();
    (a, b)
}

struct Env {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    db: PathBuf,
}

fn ingested() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let data = root.join("data");
    std::fs::create_dir(&data).unwrap();
    write_fixture(&data);
    let db = root.join("t.db");
    run_ok(
        bin()
            .current_dir(&root)
            .arg("ingest")
            .arg("--db")
            .arg(&db)
            .arg(&data),
    );
    Env {
        _tmp: tmp,
        root,
        db,
    }
}

fn sweep(env: &Env, extra: &[&str]) -> Output {
    run_ok(
        bin()
            .current_dir(&env.root)
            .arg("sweep")
            .arg("--db")
            .arg(&env.db)
            .args(extra),
    )
}

fn export(env: &Env, format: &str, extra: &[&str]) -> PathBuf {
    let out = env.root.join(format!("flags.{format}"));
    run_ok(
        bin()
            .current_dir(&env.root)
            .args(["export", "flags", "--db"])
            .arg(&env.db)
            .args(["--format", format, "-o"])
            .arg(&out)
            .args(extra),
    );
    out
}

const CONTRACT_COLUMNS: [&str; 6] = [
    "rule",
    "subject",
    "claim_ids",
    "amount_at_risk",
    "severity",
    "explanation",
];

#[test]
fn sweep_flags_and_exports_in_three_formats() {
    let env = ingested();
    let (a, b) = (id("19900307", 1), id("19850612", 2));
    let out = sweep(&env, &["--threads", "2"]);
    // Progress bars are hidden when stderr is not a terminal.
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8(out.stdout).unwrap();
    assert!(
        summary.contains("over_cap") && summary.contains("涉及金额"),
        "{summary}"
    );
    assert!(summary.contains("缺少表 registry_ui"), "{summary}");
    assert!(summary.contains("筛查编号 sweep id：1"), "{summary}");

    // Expected: over_cap on A's 4th claim, deceased on B's claim; nothing else.
    let expected = [
        ("over_cap", format!("{a}:2020"), "C004", "800.00"),
        ("deceased", "C005".to_string(), "C005", "800.00"),
    ];

    // CSV: UTF-8 with BOM.
    let csv_path = export(&env, "csv", &[]);
    let bytes = std::fs::read(&csv_path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let mut rdr = csv::Reader::from_reader(&bytes[3..]);
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(&headers[..6], &CONTRACT_COLUMNS);
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), expected.len(), "{rows:?}");
    for (row, (rule, subject, claims, amount)) in rows.iter().zip(&expected) {
        assert_eq!(
            (&row[0], &row[1], &row[2], &row[3]),
            (*rule, subject.as_str(), *claims, *amount)
        );
        assert!(["high", "medium", "low"].contains(&&row[4]));
    }
    assert!(
        rows[1][5].contains(&b) && rows[1][5].contains("2020-05-01"),
        "{}",
        &rows[1][5]
    );
    // Chinese by default.
    assert!(
        rows[0][5]
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{}",
        &rows[0][5]
    );

    // JSON: an array of objects, English explanations on request.
    let json_path = export(&env, "json", &["--lang", "en"]);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), expected.len());
    for (o, (rule, subject, claims, amount)) in arr.iter().zip(&expected) {
        assert_eq!(o["rule"], *rule);
        assert_eq!(o["subject"], subject.as_str());
        assert_eq!(o["claim_ids"], *claims);
        assert_eq!(o["amount_at_risk"], *amount);
        assert_eq!(o["sweep_id"], 1);
    }
    // English explanations differ from the Chinese ones exported above.
    for (o, row) in arr.iter().zip(&rows) {
        assert_ne!(o["explanation"].as_str().unwrap(), &row[5]);
    }

    // xlsx read back with calamine.
    use calamine::{open_workbook, Data, DataType, Reader, Xlsx};
    let xlsx_path = export(&env, "xlsx", &[]);
    let mut wb: Xlsx<_> = open_workbook(&xlsx_path).unwrap();
    let range = wb.worksheet_range("flags").unwrap();
    let grid: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    let header: Vec<String> = grid[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(&header[..6], &CONTRACT_COLUMNS);
    assert_eq!(grid.len(), 1 + expected.len());
    for (r, (rule, subject, claims, amount)) in grid[1..].iter().zip(&expected) {
        assert_eq!(r[0].to_string(), *rule);
        assert_eq!(r[1].to_string(), *subject);
        assert_eq!(r[2].to_string(), *claims);
        assert_eq!(format!("{:.2}", r[3].as_f64().unwrap()), *amount);
    }
}

#[test]
fn sweeps_are_kept_and_english_summary_on_request() {
    let env = ingested();
    sweep(&env, &[]);
    let out = sweep(&env, &["--lang", "en", "--threads", "1"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("sweep id: 2"), "{text}");
    assert!(
        text.contains("claims not judged (no policy in force): 0"),
        "{text}"
    );
    assert!(text.contains("table registry_ui absent"), "{text}");
    // The first sweep's flags can still be exported.
    let path = export(&env, "json", &["--sweep", "1"]);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert!(v.as_array().unwrap().iter().all(|o| o["sweep_id"] == 1));
    let path = export(&env, "json", &[]);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    assert!(v.as_array().unwrap().iter().all(|o| o["sweep_id"] == 2));
}

#[test]
fn broken_policy_file_fails_with_file_and_line() {
    let env = ingested();
    let rules = env.root.join("rules");
    std::fs::create_dir(&rules).unwrap();
    let text =
        claimsweep::policy::DEFAULT_POLICY_TOML.replacen("max = 3\n", "max = 3\nmaximum = 4\n", 1);
    let line = text.lines().position(|l| l.starts_with("maximum")).unwrap() + 1;
    std::fs::write(rules.join("broken.toml"), &text).unwrap();
    // ./rules is the default policy folder.
    let out = bin()
        .current_dir(&env.root)
        .arg("sweep")
        .arg("--db")
        .arg(&env.db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains(&format!("broken.toml:{line}:")), "{err}");
    assert!(err.contains("maximum"), "{err}");
    // No sweep was recorded.
    let out = bin()
        .current_dir(&env.root)
        .args(["export", "flags", "--format", "csv", "-o", "x.csv", "--db"])
        .arg(&env.db)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn sweep_without_database_fails_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = bin()
        .current_dir(tmp.path())
        .args(["sweep", "--db", "missing.db"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("missing.db"), "{err}");
}

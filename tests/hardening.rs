//! Hostile input and hostile use, one regression test per bug (ripgrep style): each names
//! the item of the hardening issue it guards.

mod common;

use claimsweep::idcode::id_check_char;
use common::{claimsweep as ok, query_all};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_claimsweep"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("binary runs")
}

fn id(seq: u32) -> String {
    let first17 = format!("37130219900307{seq:03}");
    format!("{first17}{}", id_check_char(&first17).unwrap())
}

const HEADER: &str = "claim_id,id_number,name,phone,bank_account,category,county_code,institution_id,class_id,\
                      subsidy_type,occupation_code,level,cert_no,funding_source,amount,living_days,living_amount,claim_date";

fn row(cid: &str, who: &str, name: &str, amount: &str, date: &str) -> String {
    format!("{cid},{who},{name},1380000{},,unemployed,371302,ORG1,,no_level_cert,4-01-01-01,,,employment_fund,{amount},0,0,{date}", &who[14..])
}

/// A folder `ledger` with `claims.csv` of these lines (header added), line ends `eol`.
fn ledger(dir: &Path, rows: &[String], eol: &str) -> PathBuf {
    let data = dir.join("ledger");
    std::fs::create_dir_all(&data).unwrap();
    let mut text = HEADER.to_string() + eol;
    for r in rows {
        text.push_str(r);
        text.push_str(eol);
    }
    std::fs::write(data.join("claims.csv"), text).unwrap();
    data
}

/// An ingested and swept database `a.db` of a small ledger with an over-cap person.
fn swept(dir: &Path) -> PathBuf {
    let a = id(1);
    let rows: Vec<String> = (1..=5)
        .map(|k| {
            row(
                &format!("C{k}"),
                &a,
                "张伟",
                "800",
                &format!("2020-0{k}-05"),
            )
        })
        .collect();
    ledger(dir, &rows, "\n");
    ok(dir, &["ingest", "--db", "a.db", "ledger"]);
    ok(dir, &["sweep", "--db", "a.db"]);
    dir.join("a.db")
}

fn cases_in(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("the database still opens");
    conn.query_row("SELECT count(*) FROM cases", [], |r| r.get(0))
        .expect("the cases are still there")
}

#[test]
fn output_onto_the_database_is_refused_and_the_database_survives() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let db = swept(cwd);
    let before = cases_in(&db);
    assert!(before > 0);
    std::os::unix::fs::symlink(&db, cwd.join("link.csv")).unwrap();
    let attempts: Vec<Vec<&str>> = vec![
        vec![
            "export", "flags", "--db", "a.db", "--format", "csv", "-o", "a.db",
        ],
        vec![
            "export", "flags", "--db", "a.db", "--format", "json", "-o", "./a.db",
        ],
        vec![
            "export", "flags", "--db", "a.db", "--format", "xlsx", "-o", "a.db",
        ],
        vec![
            "export", "flags", "--db", "a.db", "--format", "csv", "-o", "link.csv",
        ],
        vec![
            "export", "flags", "--db", "a.db", "--format", "csv", "-o", "a.db-wal",
        ],
        vec![
            "export",
            "no-policy",
            "--db",
            "a.db",
            "--format",
            "csv",
            "-o",
            "a.db",
        ],
        vec![
            "export", "persons", "--db", "a.db", "--format", "csv", "-o", "a.db-shm",
        ],
        vec!["report", "--db", "a.db", "--format", "html", "-o", "a.db"],
        vec![
            "report", "--db", "a.db", "--format", "xlsx", "-o", "link.csv",
        ],
        vec!["graph", "rings", "--db", "a.db", "-o", "a.db"],
    ];
    for args in attempts {
        let out = bin(cwd, &args);
        assert!(!out.status.success(), "{args:?} must fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("refusing to overwrite"), "{args:?}: {err}");
        assert_eq!(cases_in(&db), before, "{args:?} left the database intact");
    }
    // A real output beside it is written whole, with no temporary file left behind.
    ok(
        cwd,
        &[
            "export",
            "flags",
            "--db",
            "a.db",
            "--format",
            "csv",
            "-o",
            "flags.csv",
        ],
    );
    let leftovers: Vec<_> = std::fs::read_dir(cwd)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
    assert!(std::fs::read_to_string(cwd.join("flags.csv"))
        .unwrap()
        .contains("over_cap"));
}

#[test]
fn amounts_beyond_the_bound_are_rejects_and_nothing_overflows() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let a = id(1);
    let mut rows: Vec<String> = (1..=5)
        .map(|k| {
            row(
                &format!("H{k}"),
                &a,
                "张伟",
                "50000000000000000.00",
                &format!("2020-0{k}-05"),
            )
        })
        .collect();
    // Exactly at the bound loads; one fen above it is a reject.
    rows.push(row("B1", &id(2), "李娜", "10000000.00", "2020-06-01"));
    rows.push(row("B2", &id(3), "王芳", "10000000.01", "2020-06-01"));
    ledger(cwd, &rows, "\n");
    ok(cwd, &["ingest", "--db", "a.db", "ledger"]);
    let conn = rusqlite::Connection::open(cwd.join("a.db")).unwrap();
    let rejected: Vec<(i64, String)> = query_all(
        &cwd.join("a.db"),
        "SELECT line, reason FROM rejects ORDER BY line",
        |r| Ok((r.get(0)?, r.get(1)?)),
    );
    assert_eq!(
        rejected.iter().map(|r| r.0).collect::<Vec<_>>(),
        [2, 3, 4, 5, 6, 8]
    );
    assert!(rejected[0].1.contains("10,000,000 yuan"), "{rejected:?}");
    let loaded: i64 = conn
        .query_row("SELECT count(*) FROM claims", [], |r| r.get(0))
        .unwrap();
    assert_eq!(loaded, 1);
    ok(cwd, &["sweep", "--db", "a.db"]);
    ok(
        cwd,
        &["report", "--db", "a.db", "--format", "html", "-o", "r.html"],
    );
    ok(
        cwd,
        &["report", "--db", "a.db", "--format", "xlsx", "-o", "r.xlsx"],
    );
}

#[test]
fn crlf_files_give_reject_lines_as_a_spreadsheet_counts() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let rows = vec![
        row("C1", &id(1), "张伟", "800", "2020-01-05"),
        row("C2", &id(2), "李娜", "八百", "2020-01-05"),
        row("C3", &id(3), "王芳", "800", "2020-01-05"),
    ];
    ledger(cwd, &rows, "\r\n");
    ok(cwd, &["ingest", "--db", "a.db", "ledger"]);
    let conn = rusqlite::Connection::open(cwd.join("a.db")).unwrap();
    let (line, raw): (i64, String) = conn
        .query_row("SELECT line, raw FROM rejects", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(line, 3, "the header is line 1, C2 line 3");
    assert!(raw.starts_with("C2,"), "{raw:?}");
}

#[test]
fn a_fifo_named_claims_csv_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let data = cwd.join("ledger");
    std::fs::create_dir(&data).unwrap();
    let fifo = data.join("claims.csv");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_claimsweep"))
        .args(["ingest", "--db", "a.db", "ledger"])
        .current_dir(cwd)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            panic!("ingest waits on a FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut err = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.contains("not a regular file") && err.contains("claims.csv"),
        "{err}"
    );
}

#[test]
fn csv_exports_neutralise_formula_cells() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let a = id(1);
    let rows: Vec<String> = (1..=4)
        .map(|k| {
            row(
                &format!("\"=HYPERLINK(\"\"http://x.example/{k}\"\",\"\"y\"\")\""),
                &a,
                "@SUM(A1)",
                "800",
                &format!("2020-0{k}-05"),
            )
        })
        .collect();
    ledger(cwd, &rows, "\n");
    ok(cwd, &["ingest", "--db", "a.db", "ledger"]);
    ok(cwd, &["sweep", "--db", "a.db"]);
    ok(
        cwd,
        &[
            "export", "flags", "--db", "a.db", "--format", "csv", "-o", "f.csv",
        ],
    );
    let text = std::fs::read_to_string(cwd.join("f.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut cells = 0;
    for rec in rdr.records() {
        for cell in rec.unwrap().iter() {
            cells += 1;
            assert!(
                !(cell.starts_with(['=', '+', '@', '\t', '\r'])
                    || (cell.starts_with('-') && cell.parse::<f64>().is_err())),
                "a cell Excel would run as a formula: {cell:?}"
            );
        }
    }
    assert!(cells > 0);
    assert!(text.contains("'=HYPERLINK"), "the text is kept, made inert");
}

#[test]
fn xlsx_exports_replace_characters_xml_forbids() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    swept_with_name(cwd, "X", "张\u{1}伟\u{FFFF}");
    let conn = rusqlite::Connection::open(cwd.join("a.db")).unwrap();
    let quoted = claimsweep::store::flags::load_flags(&conn, 1)
        .unwrap()
        .iter()
        .filter(|f| f.explanation_zh.contains('\u{1}'))
        .count();
    assert!(
        quoted > 0,
        "a flag's explanation carries the control character"
    );
    ok(
        cwd,
        &[
            "export", "flags", "--db", "a.db", "--format", "xlsx", "-o", "f.xlsx",
        ],
    );
    ok(
        cwd,
        &[
            "report", "--db", "a.db", "--format", "xlsx", "-o", "r.xlsx", "--unmask",
        ],
    );
    use calamine::Reader;
    for f in ["f.xlsx", "r.xlsx"] {
        let mut wb = calamine::open_workbook_auto(cwd.join(f)).expect("a well-formed workbook");
        for name in wb.sheet_names().to_vec() {
            wb.worksheet_range(&name)
                .unwrap_or_else(|e| panic!("{f} {name}: {e}"));
        }
    }
}

/// Per-table counts of the latest ingest (`ingests.counts_json`): (read, loaded, rejected).
/// `a.db` in `cwd`, swept: four claims of one ID number under `name` and a fifth under another
/// name (identity_conflict quotes both names in its explanation), claim ids `{prefix}1..5`.
fn swept_with_name(cwd: &Path, prefix: &str, name: &str) {
    let a = id(1);
    let mut rows: Vec<String> = (1..=4)
        .map(|k| {
            row(
                &format!("{prefix}{k}"),
                &a,
                name,
                "800",
                &format!("2020-0{k}-05"),
            )
        })
        .collect();
    rows.push(row(&format!("{prefix}5"), &a, "李娜", "800", "2020-06-05"));
    ledger(cwd, &rows, "\n");
    ok(cwd, &["ingest", "--db", "a.db", "ledger"]);
    ok(cwd, &["sweep", "--db", "a.db"]);
}

fn claim_counts(db: &Path) -> (u64, u64, u64) {
    let t = common::ingest_counts(db, "claims");
    let n = |k: &str| t[k].as_u64().unwrap();
    (n("read"), n("loaded"), n("rejected"))
}

#[test]
fn one_stray_quote_rejects_its_line_and_reading_resumes_on_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let mut rows: Vec<String> = (0..2000u32)
        .map(|k| {
            row(
                &format!("Q{k:04}"),
                &id(k % 900 + 1),
                "张伟",
                "800",
                "2020-03-05",
            )
        })
        .collect();
    // Line 11 (the header is line 1): a name with one unbalanced quote.
    rows[9] = row("Q0009", &id(10), "\"张伟", "800", "2020-03-05");
    // A real multi-line field (an address-like name over two lines) with the right columns
    // stays one record.
    rows[19] = row("Q0019", &id(20), "\"张\n伟\"", "800", "2020-03-05");
    ledger(cwd, &rows, "\n");
    ok(cwd, &["ingest", "--db", "a.db", "ledger"]);
    let db = cwd.join("a.db");
    assert_eq!(claim_counts(&db), (2000, 1999, 1));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (line, raw, reason): (i64, String, String) = conn
        .query_row("SELECT line, raw, reason FROM rejects", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(line, 11);
    assert!(raw.starts_with("Q0009,") && !raw.contains('\n'), "{raw:?}");
    assert!(reason.contains("unbalanced quote"), "{reason}");
    let q10: i64 = conn
        .query_row(
            "SELECT count(*) FROM claims WHERE claim_id = 'Q0010'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        q10, 1,
        "the line after the stray quote is read as its own record"
    );
}

#[test]
fn a_gbk_file_with_one_utf8_line_loads_every_name_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let data = cwd.join("ledger");
    std::fs::create_dir(&data).unwrap();
    let gbk = |s: &str| encoding_rs::GBK.encode(s).0.into_owned();
    let mut bytes = gbk(&(HEADER.to_string() + "\n"));
    bytes.extend(gbk(&(row("G1", &id(1), "张伟", "800", "2020-03-05") + "\n")));
    // One line pasted from a UTF-8 system.
    bytes.extend((row("G2", &id(2), "徐鹏", "800", "2020-03-05") + "\n").into_bytes());
    bytes.extend(gbk(&(row("G3", &id(3), "李娜", "800", "2020-03-05") + "\n")));
    // Regression: a traditional name whose GBK bytes are also UTF-8 (陳慶 → ꐑc) was read
    // as UTF-8.
    let traditional = gbk(&(row("G4", &id(4), "陳慶", "800", "2020-03-05") + "\n"));
    assert!(std::str::from_utf8(&traditional).is_ok());
    bytes.extend(traditional);
    std::fs::write(data.join("claims.csv"), bytes).unwrap();
    ok(cwd, &["ingest", "--db", "a.db", "ledger"]);
    let names: Vec<String> = query_all(
        &cwd.join("a.db"),
        "SELECT name FROM claims ORDER BY claim_id",
        |r| r.get(0),
    );
    assert_eq!(names, ["张伟", "徐鹏", "李娜", "陳慶"]);
}

#[test]
fn long_numbers_stored_as_numbers_in_excel_are_rejects_not_altered() {
    use rust_xlsxwriter::Workbook;
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name("claims").unwrap();
    let header: Vec<&str> = HEADER.split(',').collect();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let cells =
        |k: u32, id_number: Option<f64>, id_text: &str| -> Vec<(usize, String, Option<f64>)> {
            vec![
                (0, format!("N{k}"), None),
                (1, id_text.to_string(), id_number),
                (2, "张伟".into(), None),
                // An 11-digit phone as a number: exact, loads.
                (3, String::new(), Some(13_800_000_001.0)),
                (6, "371302".into(), None),
                (9, "no_level_cert".into(), None),
                (14, "800".into(), None),
                (17, "2020-03-05".into(), None),
            ]
        };
    let exact = id(1);
    let rows = [
        cells(1, Some(371_328_197_807_107_749.0), ""),
        cells(2, None, &exact),
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, text, number) in row {
            match number {
                Some(x) => sheet.write_number(r as u32 + 1, *c as u16, *x).unwrap(),
                None => sheet.write_string(r as u32 + 1, *c as u16, text).unwrap(),
            };
        }
    }
    wb.save(cwd.join("ledger.xlsx")).unwrap();
    ok(cwd, &["ingest", "--db", "a.db", "ledger.xlsx"]);
    let conn = rusqlite::Connection::open(cwd.join("a.db")).unwrap();
    let (column, reason): (String, String) = conn
        .query_row("SELECT column_name, reason FROM rejects", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(column, "id_number");
    assert!(reason.contains("format the column as text"), "{reason}");
    let loaded: Vec<(String, String)> = query_all(
        &cwd.join("a.db"),
        "SELECT id_number, phone FROM claims",
        |r| Ok((r.get(0)?, r.get(1)?)),
    );
    assert_eq!(loaded, [(exact, "13800000001".to_string())]);
}

#[test]
fn look_alike_identifiers_are_one_value_or_a_reject() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let a = id(1);
    let rows = vec![
        row("L1", &a, "张伟", "800", "2020-01-05"),
        // The same claim id with a zero-width space: a duplicate of L1, not a new claim.
        row("L1\u{200B}", &a, "张伟", "800", "2020-02-05"),
        // The same ID number with a BOM and a bidi mark inside: the same person.
        row(
            "L2",
            &format!("{}\u{FEFF}{}\u{202E}", &a[..9], &a[9..]),
            "张伟",
            "800",
            "2020-03-05",
        ),
        // A NUL inside a claim id changes what it is: a reject.
        row("L3\u{0}", &a, "张伟", "800", "2020-04-05"),
    ];
    ledger(cwd, &rows, "\n");
    ok(cwd, &["ingest", "--db", "a.db", "ledger"]);
    let ids: Vec<(String, String)> = query_all(
        &cwd.join("a.db"),
        "SELECT claim_id, id_number FROM claims ORDER BY claim_id",
        |r| Ok((r.get(0)?, r.get(1)?)),
    );
    assert_eq!(
        ids,
        [("L1".to_string(), a.clone()), ("L2".to_string(), a.clone())]
    );
    let reasons: Vec<(i64, String)> = query_all(
        &cwd.join("a.db"),
        "SELECT line, reason FROM rejects ORDER BY line",
        |r| Ok((r.get(0)?, r.get(1)?)),
    );
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons[0].0 == 3 && reasons[0].1.contains("duplicate key"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].0 == 5 && reasons[1].1.contains("control character"),
        "{reasons:?}"
    );
}

#[test]
fn terminal_output_carries_no_escapes_or_bidi_overrides_from_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let a = id(1);
    let rows = vec![
        row("T1", &a, "张伟", "800", "2020-01-05"),
        // Another name under the same ID: identity_conflict quotes it in its evidence.
        row(
            "T2",
            &a,
            "\u{1b}[31m李\u{202E}娜\u{1b}[0m",
            "800",
            "2020-02-05",
        ),
    ];
    ledger(cwd, &rows, "\n");
    ok(cwd, &["ingest", "--db", "a.db", "ledger"]);
    ok(cwd, &["sweep", "--db", "a.db"]);
    let conn = rusqlite::Connection::open(cwd.join("a.db")).unwrap();
    let stored = claimsweep::store::flags::load_flags(&conn, 1)
        .unwrap()
        .iter()
        .filter(|f| f.explanation_zh.contains('\u{1b}'))
        .count();
    assert!(
        stored > 0,
        "the evidence keeps the text as it was in the ledger"
    );
    let case: i64 = conn
        .query_row("SELECT min(case_id) FROM cases", [], |r| r.get(0))
        .unwrap();
    let shown = ok(cwd, &["cases", "show", &case.to_string(), "--db", "a.db"]);
    assert!(shown.contains("李娜"), "{shown}");
    assert!(
        !shown.contains('\u{1b}') && !shown.contains('\u{202E}'),
        "{shown:?}"
    );
    let listed = ok(cwd, &["cases", "list", "--db", "a.db"]);
    assert!(!listed.contains('\u{1b}') && !listed.contains('\u{202E}'));
}

/// Found by `fuzz/fuzz_targets/values.rs` (fuzz/regressions/values-compact_number-newline): a
/// contact number of ASCII text took a shortcut that kept newlines, CR, vertical tab and form
/// feed, so `138\n0000 0000` (a quoted cell over two lines) was another phone than
/// `13800000000`.
#[test]
fn contact_numbers_lose_every_ascii_whitespace() {
    use claimsweep::input::values::compact_number;
    for s in [
        "138\n00000000",
        "138\r\n0000\t0000",
        "1380000\u{b}0000",
        "1380000\u{c}0000",
        "138-0000 0000",
        "１３８ 0000 0000",
    ] {
        assert_eq!(compact_number(s), "13800000000", "{s:?}");
    }
    assert_eq!(compact_number("7\u{1}\0\0\n2.5"), "7\u{1}\0\u{0}2.5");
}

/// Found by `fuzz/fuzz_targets/xlsx_reader.rs` (fuzz/regressions/xlsx_reader-underscore-x-
/// multibyte): rust_xlsxwriter before 0.84.2 panicked while saving text with `_x` followed by
/// a multi-byte character within four bytes (`王_x张伟`), so one such name in the ledger
/// aborted every xlsx export and report.
#[test]
fn xlsx_exports_keep_underscore_x_before_chinese_text() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    swept_with_name(cwd, "U", "王_x张伟");
    ok(
        cwd,
        &[
            "export", "flags", "--db", "a.db", "--format", "xlsx", "-o", "f.xlsx",
        ],
    );
    ok(
        cwd,
        &[
            "report", "--db", "a.db", "--format", "xlsx", "-o", "r.xlsx", "--unmask",
        ],
    );
    use calamine::Reader;
    let mut found = false;
    for f in ["f.xlsx", "r.xlsx"] {
        let mut wb = calamine::open_workbook_auto(cwd.join(f)).expect("a well-formed workbook");
        for name in wb.sheet_names().to_vec() {
            let range = wb
                .worksheet_range(&name)
                .unwrap_or_else(|e| panic!("{f} {name}: {e}"));
            found |= range
                .cells()
                .any(|(_, _, c)| c.to_string().contains("王_x张伟"));
        }
    }
    assert!(found, "the name is written as it is");
}

/// Found by `fuzz/fuzz_targets/escaping.rs` (fuzz/regressions/escaping-csv_cell-minus-*): a
/// cell starting with `-` was left as it was whenever it parsed as a float, and `-inf`,
/// `-NaN` or `-1e999` do, though a spreadsheet reads them as formulas, not numbers.
#[test]
fn csv_cells_of_minus_inf_nan_or_overflow_are_text() {
    use claimsweep::output::csv_cell;
    for s in [
        "-inf",
        "-NaN",
        "-infinity",
        "-11e4444444444444444444444444441",
    ] {
        assert_eq!(csv_cell(s), format!("'{s}"), "{s:?}");
    }
    for s in ["-12.50", "-3", "-1e5", "-.5"] {
        assert_eq!(csv_cell(s), s, "{s:?}: a negative number stays a number");
    }
}

/// Found by `fuzz/fuzz_targets/xlsx_reader.rs` (fuzz/regressions/xlsx_reader-calamine-
/// shared-string-index, the workbook after its first byte): calamine 0.31 panics on a cell
/// whose shared-string index is beyond the table, and `ingest` of such a file crashed
/// instead of reporting an unreadable workbook.
#[test]
fn a_workbook_with_a_shared_string_index_beyond_the_table_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let bytes = include_bytes!("../fuzz/regressions/xlsx_reader-calamine-shared-string-index");
    std::fs::write(cwd.join("ledger.xlsx"), &bytes[1..]).unwrap();
    let out = bin(cwd, &["ingest", "--db", "a.db", "ledger.xlsx"]);
    assert!(!out.status.success());
    assert_ne!(out.status.code(), Some(101), "a panic's exit code");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ledger.xlsx") && err.contains("malformed workbook"),
        "{err}"
    );
}

/// Item 10: a sweep started while an ingest is committing waits for it, then reads the one
/// state the ingest left (its snapshot is read by several connections, so before the ledger
/// lock it could mix the states before and after).
#[test]
fn a_sweep_started_during_an_ingest_waits_and_reads_one_state() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    ok(
        cwd,
        &["generate", "--out", "a", "--claims", "5000", "--seed", "1"],
    );
    ok(
        cwd,
        &[
            "generate", "--out", "b", "--claims", "150000", "--seed", "2",
        ],
    );
    ok(cwd, &["ingest", "--db", "l.db", "a"]);
    let mut ingest = Command::new(env!("CARGO_BIN_EXE_claimsweep"))
        .args(["ingest", "--db", "l.db", "b"])
        .current_dir(cwd)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the ingest holds the ledger lock (a shared request would block).
    let lock = claimsweep::store::lock::lock_path(&cwd.join("l.db"));
    let held = loop {
        if ingest.try_wait().unwrap().is_some() {
            break false;
        }
        if let Ok(f) = std::fs::File::options().write(true).open(&lock) {
            use std::os::fd::AsRawFd;
            // SAFETY: flock on a descriptor owned here; a granted lock is released at close.
            let got = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } == 0;
            if !got {
                break true;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    assert!(
        held,
        "the ingest finished before the test saw it hold the lock"
    );
    let sweep = bin(cwd, &["sweep", "--db", "l.db"]);
    assert!(
        sweep.status.success(),
        "{}",
        String::from_utf8_lossy(&sweep.stderr)
    );
    assert!(
        String::from_utf8_lossy(&sweep.stderr).contains("an ingest is in progress"),
        "{}",
        String::from_utf8_lossy(&sweep.stderr)
    );
    assert!(ingest.wait().unwrap().success());
    let db = cwd.join("l.db");
    let swept: Vec<i64> = query_all(&db, "SELECT claims FROM sweeps", |r| r.get(0));
    let stored: Vec<i64> = query_all(&db, "SELECT count(*) FROM claims", |r| r.get(0));
    assert_eq!(swept, stored, "the sweep read the ledger the ingest left");
    // And its flags are those of a sweep run afterwards on the same state.
    ok(cwd, &["sweep", "--db", "l.db"]);
    let flags: Vec<i64> = query_all(
        &db,
        "SELECT count(*) FROM flags GROUP BY sweep_id ORDER BY sweep_id",
        |r| r.get(0),
    );
    assert_eq!(flags[0], flags[1]);
}

/// Item 14: the CLI masks identifiers in its text output by default, wherever they stand (an
/// ID number typed into the name column too), and shows them with `--unmask`; JSON output is
/// for scripts and stays unmasked.
#[test]
fn cases_text_output_masks_identifiers_unless_unmask() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let a = id(1);
    let typed = id(2);
    let rows = vec![
        row("T1", &a, "张伟", "800", "2020-01-05"),
        // An ID number typed into the name column: identity_conflict quotes it.
        row("T2", &a, &typed, "800", "2020-02-05"),
    ];
    ledger(cwd, &rows, "\n");
    ok(cwd, &["ingest", "--db", "a.db", "ledger"]);
    ok(cwd, &["sweep", "--db", "a.db"]);
    let conn = rusqlite::Connection::open(cwd.join("a.db")).unwrap();
    let case: i64 = conn
        .query_row("SELECT min(case_id) FROM cases", [], |r| r.get(0))
        .unwrap();
    let case = case.to_string();
    let masked = |s: &str| format!("{}***********{}", &s[..3], &s[14..]);

    let shown = ok(cwd, &["cases", "show", &case, "--db", "a.db"]);
    assert!(!shown.contains(&a) && !shown.contains(&typed), "{shown}");
    assert!(shown.contains(&masked(&a)), "{shown}");
    let listed = ok(cwd, &["cases", "list", "--db", "a.db"]);
    assert!(!listed.contains(&a), "{listed}");

    let shown = ok(cwd, &["cases", "show", &case, "--db", "a.db", "--unmask"]);
    assert!(shown.contains(&a) && shown.contains(&typed), "{shown}");
    let listed = ok(cwd, &["cases", "list", "--unmask", "--db", "a.db"]);
    assert!(listed.contains(&a), "{listed}");

    let json = ok(cwd, &["cases", "show", &case, "--db", "a.db", "--json"]);
    assert!(json.contains(&a), "JSON output is not masked");
}

/// Item 11: what a sweep judged is what an inspector sees. A new extract changes one claim of
/// a flagged person (its id reused for another person's claim), drops another and adds one:
/// the ingest counts the dropped row "absent", the case page still shows the claims as judged
/// (with a note on each that changed since), a report of the first sweep shows the first
/// ledger's totals, and the next sweep no longer sees the absent claim.
#[test]
fn a_case_shows_the_claims_it_was_judged_on_after_a_new_extract() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let db = swept(cwd);
    let over_cap: i64 = query_all(
        &db,
        "SELECT case_id FROM cases WHERE subject_kind = 'person'",
        |r| r.get(0),
    )[0];
    let case = over_cap.to_string();
    ok(
        cwd,
        &[
            "cases",
            "review",
            &case,
            "--db",
            "a.db",
            "--status",
            "confirmed",
            "--by",
            "张三",
            "--note",
            "核实",
        ],
    );
    let judged = ok(cwd, &["cases", "show", &case, "--db", "a.db", "--unmask"]);
    assert!(judged.contains("C4") && judged.contains("C5"), "{judged}");

    // C4 now belongs to another person; C5 is gone; C6 is new.
    let (a, b) = (id(1), id(2));
    let mut rows: Vec<String> = (1..=3)
        .map(|k| {
            row(
                &format!("C{k}"),
                &a,
                "张伟",
                "800",
                &format!("2020-0{k}-05"),
            )
        })
        .collect();
    rows.push(row("C4", &b, "李娜", "1200", "2020-04-09"));
    rows.push(row("C6", &b, "李娜", "600", "2020-06-09"));
    std::fs::remove_dir_all(cwd.join("ledger")).unwrap();
    ledger(cwd, &rows, "\n");
    let summary = ok(cwd, &["ingest", "--db", "a.db", "ledger"]);
    assert!(summary.contains("缺失 absent"), "{summary}");
    let counts = common::ingest_counts(&db, "claims");
    assert_eq!(
        (
            counts["new"].as_u64(),
            counts["changed"].as_u64(),
            counts["unchanged"].as_u64(),
            counts["absent"].as_u64()
        ),
        (Some(1), Some(1), Some(3), Some(1)),
        "{counts}"
    );
    // Nothing is lost: the changed and the absent version are in the history.
    let kept: Vec<(String, String, i64)> = query_all(
        &db,
        "SELECT claim_id, name, superseded_ingest_id FROM claims_history ORDER BY claim_id",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    );
    assert_eq!(
        kept,
        vec![
            ("C4".to_string(), "张伟".to_string(), 2),
            ("C5".to_string(), "张伟".to_string(), 2)
        ]
    );

    let shown = ok(cwd, &["cases", "show", &case, "--db", "a.db", "--unmask"]);
    assert!(
        !shown.contains("李娜") && !shown.contains(&b),
        "the case shows a claim it was not judged on:\n{shown}"
    );
    assert!(shown.contains("C4  2020-04-05  张伟"), "{shown}");
    assert!(shown.contains("第 2 次导入已变更此申领"), "{shown}");
    assert!(shown.contains("第 2 次导入的台账中已无此申领"), "{shown}");

    ok(cwd, &["sweep", "--db", "a.db"]);
    let swept: Vec<(i64, i64)> = query_all(
        &db,
        "SELECT ingest_id, claims FROM sweeps ORDER BY sweep_id",
        |r| Ok((r.get(0)?, r.get(1)?)),
    );
    assert_eq!(swept, vec![(1, 5), (2, 5)], "C5 left, C6 came");
    // The case was resolved by the second sweep and still shows what the first judged.
    let after = ok(cwd, &["cases", "show", &case, "--db", "a.db", "--unmask"]);
    assert!(after.contains("C5  2020-05-05  张伟"), "{after}");

    // A report of each sweep totals the ledger that sweep judged: 5 × 800 yuan, then
    // 3 × 800 + 1200 + 600 (the summary table's row, amounts with thousands separators).
    for (sweep, paid) in [("1", "4,000.00"), ("2", "4,200.00")] {
        let out = cwd.join(format!("r{sweep}.html"));
        ok(
            cwd,
            &[
                "report",
                "--db",
                "a.db",
                "--sweep",
                sweep,
                "--format",
                "html",
                "--unmask",
                "-o",
                out.to_str().unwrap(),
            ],
        );
        let html = std::fs::read_to_string(&out).unwrap();
        let cells: Vec<&str> = html.split(['<', '>']).collect();
        let at = cells.iter().position(|c| *c == "补贴金额（元）").unwrap();
        assert!(
            cells[at..at + 8].contains(&paid),
            "sweep {sweep}: {:?}",
            &cells[at..at + 8]
        );
        assert_eq!(html.contains("李娜"), sweep == "2", "sweep {sweep}");
    }
}

/// Item 11, the other way: `--append` adds an extract's rows and keeps the stored rows it
/// does not have.
#[test]
fn an_appended_extract_keeps_the_rows_it_does_not_have() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let db = swept(cwd);
    std::fs::remove_dir_all(cwd.join("ledger")).unwrap();
    ledger(cwd, &[row("C9", &id(3), "王芳", "500", "2020-09-01")], "\n");
    ok(cwd, &["ingest", "--db", "a.db", "--append", "ledger"]);
    let counts = common::ingest_counts(&db, "claims");
    assert_eq!(counts["absent"].as_u64(), Some(0), "{counts}");
    let claims: Vec<i64> = query_all(&db, "SELECT count(*) FROM claims", |r| r.get(0));
    assert_eq!(claims, vec![6]);
}

//! `claimsweep ingest` end to end: the real binary on small sources written into temp dirs.

mod common;

use common::ingest_counts as counts;

use claimsweep::idcode::id_check_char;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CLAIMS_HEADER: &str = "claim_id,id_number,name,phone,bank_account,category,county_code,institution_id,class_id,subsidy_type,occupation_code,level,cert_no,funding_source,amount,living_days,living_amount,claim_date";
const CLAIMS_HEADER_ZH: &str = "申领编号,身份证号,姓名,联系电话,银行账号,人员类别,县区代码,机构代码,培训班编号,补贴类型,职业编码,等级,证书编号,资金来源,补贴金额,生活费天数,生活费金额,申领日期";

/// A valid 18-digit ID number, born 1990-01-01, sequence `n`.
fn id(n: u32) -> String {
    let first17 = format!("37130219900101{:03}", n % 1000);
    let c = id_check_char(&first17).unwrap();
    format!("{first17}{c}")
}

/// A claim line with the usual values; `amount` and `date` vary per test.
fn claim(cid: &str, idn: &str, name: &str, amount: &str, date: &str) -> String {
    format!("{cid},{idn},{name},13800000001,6222000011112222,employee,371302,JG001,B1,level_cert,4-01-01,5,Z{cid},employment_fund,{amount},0,0,{date}")
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn ingest(db: &Path, src: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_claimsweep"))
        .arg("ingest")
        .arg("--db")
        .arg(db)
        .arg(src)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "ingest failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

struct Fx {
    _tmp: tempfile::TempDir,
    src: PathBuf,
    db: PathBuf,
}

fn fixture() -> Fx {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let db = tmp.path().join("t.db");
    Fx { _tmp: tmp, src, db }
}

fn count(db: &Path, sql: &str) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

fn n(v: &serde_json::Value, k: &str) -> u64 {
    v[k].as_u64().unwrap()
}

/// (file, line, column, reason) of every reject, in line order.
fn rejects(db: &Path) -> Vec<(String, i64, Option<String>, String)> {
    let c = Connection::open(db).unwrap();
    let mut st = c
        .prepare("SELECT file, line, column_name, reason FROM rejects WHERE ingest_id = (SELECT MAX(ingest_id) FROM ingests) ORDER BY file, line")
        .unwrap();
    let rows = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

fn write_all_tables(dir: &Path) {
    let claims = [
        CLAIMS_HEADER.to_string(),
        claim("C1", &id(1), "张伟", "1000", "2020-03-05"),
        claim("C2", &id(2), "李娜", "1200.00", "2020-04-05"),
    ];
    write(dir, "claims.csv", &(claims.join("\n") + "\n"));
    write(dir, "classes.csv", "class_id,institution_id,county_code,occupation_code,level,training_type,start_date,end_date,hours,project_based\nB1,JG001,371302,4-01-01,5,level_cert,2020-01-01,2020-02-01,80,1\n");
    write(dir, "培训机构.csv", "机构代码,机构名称,县区代码,机构类型,法人身份证号,联系电话,地址\nJG001,沂蒙职业培训学校,371302,民办,370000000000000000,05390000000,临沂市\n");
    write(dir, "certificates.csv", &format!("cert_no,id_number,name,occupation_code,level,cert_type,issue_date\nZC1,{},张伟,4-01-01,5,职业技能等级证书,2020-02-10\n", id(1)));
    write(dir, "projects.csv", "class_id,trainees,employed_claimed,total_amount,prepaid_amount,paid_amount,check_date\nB1,2,2,2200,1320,1320,2020-06-01\n");
    write(
        dir,
        "employment.csv",
        &format!(
            "id_number,employer_id,start_date,end_date\n{},91371300MA3C000000,2020-03-01,\n",
            id(1)
        ),
    );
    write(
        dir,
        "staff.csv",
        &format!("institution_id,id_number,role\nJG001,{},教师\n", id(9)),
    );
    write(
        dir,
        "registry_pension.csv",
        &format!("id_number,start_date\n{},2019-01-01\n", id(8)),
    );
    write(
        dir,
        "registry_death.csv",
        &format!("id_number,death_date\n{},2019-05-01\n", id(7)),
    );
    write(
        dir,
        "registry_ui.csv",
        &format!(
            "id_number,months_paid,as_of\n{},14,2020-01-01\n{},3,\n",
            id(1),
            id(2)
        ),
    );
    write(
        dir,
        "registry_poverty.csv",
        &format!("id_number\n{}\n", id(2)),
    );
    write(
        dir,
        "living_standards.csv",
        "county_code,year,monthly_amount\n371302,2020,650\n",
    );
    write(dir, "labels.csv", "claim_id,rule\nC1,over_cap\n");
}

#[test]
fn every_table_loads_and_labels_are_ignored_by_name() {
    let fx = fixture();
    write_all_tables(&fx.src);
    let out = ok(&ingest(&fx.db, &fx.src));
    assert!(out.contains("labels.csv"), "{out}");
    assert!(
        out.contains("读取 read") && out.contains("未变 unchanged"),
        "{out}"
    );
    assert_eq!(count(&fx.db, "SELECT COUNT(*) FROM tables_present"), 12);
    let expect = [
        ("claims", 2),
        ("classes", 1),
        ("institutions", 1),
        ("certificates", 1),
        ("projects", 1),
        ("employment", 1),
        ("staff", 1),
        ("registry_pension", 1),
        ("registry_death", 1),
        ("registry_ui", 2),
        ("registry_poverty", 1),
        ("living_standards", 1),
    ];
    for (t, rows) in expect {
        assert_eq!(
            count(&fx.db, &format!("SELECT COUNT(*) FROM {t}")),
            rows,
            "{t}"
        );
        let c = counts(&fx.db, t);
        assert_eq!(
            (n(&c, "read"), n(&c, "new"), n(&c, "rejected")),
            (rows as u64, rows as u64, 0),
            "{t}"
        );
    }
    assert_eq!(
        count(
            &fx.db,
            "SELECT amount_fen FROM claims WHERE claim_id = 'C2'"
        ),
        120_000
    );
    assert_eq!(count(&fx.db, "SELECT project_based FROM classes"), 1);
    assert_eq!(
        count(&fx.db, "SELECT monthly_amount_fen FROM living_standards"),
        65_000
    );
    assert_eq!(
        count(
            &fx.db,
            "SELECT COUNT(*) FROM employment WHERE end_date IS NULL"
        ),
        1
    );
    // The snapshot sees every table.
    let conn = claimsweep::store::open(&fx.db).unwrap();
    let s = claimsweep::snapshot::load_snapshot(&conn).unwrap();
    assert_eq!(s.tables.len(), 12);
    assert_eq!(s.claims.len(), 2);
    assert_eq!(s.claim_id(0), "C1");
    assert_eq!(s.employment.len(), 1);
    assert_eq!(s.poverty.iter().filter(|p| **p).count(), 1);
    assert_eq!(claimsweep::store::latest_ingest_id(&conn).unwrap(), Some(1));
    let hash: String = conn
        .query_row("SELECT content_hash FROM ingests", [], |r| r.get(0))
        .unwrap();
    assert_eq!(hash.len(), 64);
}

#[test]
fn gbk_file_with_chinese_headers_in_any_order() {
    let fx = fixture();
    // Columns shuffled and one extra column the model does not know.
    let text = format!(
        "申领日期,补贴金额,姓名,身份证号,申领编号,补贴类型,备注\n2020年3月5日,\"1,200.00\",王芳,{},C1,等级证书,复核通过\n",
        id(3)
    );
    let (bytes, _, bad) = encoding_rs::GBK.encode(&text);
    assert!(!bad && std::str::from_utf8(&bytes).is_err());
    std::fs::write(fx.src.join("补贴申领.csv"), &bytes).unwrap();
    ok(&ingest(&fx.db, &fx.src));
    let c = Connection::open(&fx.db).unwrap();
    let (name, amount, date, extra): (String, i64, String, String) = c
        .query_row(
            "SELECT name, amount_fen, claim_date, extra FROM claims",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (name.as_str(), amount, date.as_str()),
        ("王芳", 120_000, "2020-03-05")
    );
    assert_eq!(extra, r#"{"备注":"复核通过"}"#);
}

#[test]
fn utf8_bom_file_loads() {
    let fx = fixture();
    let text = format!(
        "\u{feff}{CLAIMS_HEADER_ZH}\n{}\n",
        claim("C1", &id(1), "张伟", "1000", "2020-03-05")
    );
    write(&fx.src, "claims.csv", &text);
    ok(&ingest(&fx.db, &fx.src));
    assert_eq!(
        count(
            &fx.db,
            "SELECT COUNT(*) FROM claims WHERE claim_id = 'C1' AND name = '张伟'"
        ),
        1
    );
}

#[test]
fn xlsx_workbook_with_sheets_named_in_both_languages() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let fx = fixture();
    let book = fx.src.join("ledger.xlsx");
    let mut wb = Workbook::new();
    let date_fmt = Format::new().set_num_format("yyyy-mm-dd");
    let claims = wb.add_worksheet().set_name("补贴申领").unwrap();
    for (c, h) in CLAIMS_HEADER_ZH.split(',').enumerate() {
        claims.write_string(0, c as u16, h).unwrap();
    }
    let idn = id(4);
    let cells = [
        idn.as_str(),
        "赵敏",
        "",
        "",
        "农民工",
        "371302",
        "JG001",
        "B1",
        "专项能力",
        "4-01-01",
        "初级",
        "",
        "失业保险基金",
    ];
    claims.write_string(1, 0, "X1").unwrap();
    for (c, v) in cells.iter().enumerate() {
        claims.write_string(1, c as u16 + 1, *v).unwrap();
    }
    claims.write_number(1, 3, 13_800_000_002.0).unwrap(); // phone stored as a number
    claims.write_number(1, 14, 500.0).unwrap();
    claims.write_number(1, 15, 0.0).unwrap();
    claims.write_number(1, 16, 0.0).unwrap();
    let d = ExcelDateTime::from_ymd(2020, 3, 5).unwrap();
    claims
        .write_datetime_with_format(1, 17, &d, &date_fmt)
        .unwrap();
    // A second claim whose date is a bare serial number (no date format).
    claims.write_string(2, 0, "X2").unwrap();
    for (c, v) in cells.iter().enumerate() {
        claims.write_string(2, c as u16 + 1, *v).unwrap();
    }
    claims.write_number(2, 14, 500.5).unwrap();
    claims.write_number(2, 17, 43_896.0).unwrap();
    let classes = wb.add_worksheet().set_name("classes").unwrap();
    for (c, h) in ["class_id", "start_date", "end_date", "project_based"]
        .iter()
        .enumerate()
    {
        classes.write_string(0, c as u16, *h).unwrap();
    }
    classes.write_string(1, 0, "B1").unwrap();
    classes.write_string(1, 1, "2020/1/2").unwrap();
    classes.write_string(1, 2, "20200201").unwrap();
    classes.write_boolean(1, 3, true).unwrap();
    wb.add_worksheet()
        .set_name("说明")
        .unwrap()
        .write_string(0, 0, "导出说明")
        .unwrap();
    wb.save(&book).unwrap();

    let out = ok(&ingest(&fx.db, &book));
    assert!(out.contains("ledger.xlsx:说明"), "{out}");
    let c = Connection::open(&fx.db).unwrap();
    let mut st = c
        .prepare("SELECT claim_id, phone, category, subsidy_type, level, funding_source, amount_fen, claim_date FROM claims ORDER BY claim_id")
        .unwrap();
    type Row = (String, String, String, String, i64, String, i64, String);
    let rows: Vec<Row> = st
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].0, "X1");
    assert_eq!(rows[0].1, "13800000002");
    assert_eq!(rows[0].2, "migrant_worker");
    assert_eq!(rows[0].3, "special_ability");
    assert_eq!(rows[0].4, 5);
    assert_eq!(rows[0].5, "unemployment_insurance");
    assert_eq!(rows[0].6, 50_000);
    assert_eq!(rows[0].7, "2020-03-05");
    assert_eq!(rows[1].6, 50_050);
    assert_eq!(rows[1].7, "2020-03-06");
    let (start, end, project): (String, String, i64) = c
        .query_row(
            "SELECT start_date, end_date, project_based FROM classes",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (start.as_str(), end.as_str(), project),
        ("2020-01-02", "2020-02-01", 1)
    );
}

#[test]
fn workbook_without_table_sheets_is_an_error() {
    let fx = fixture();
    let book = fx.src.join("empty.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet()
        .set_name("Sheet1")
        .unwrap()
        .write_string(0, 0, "x")
        .unwrap();
    wb.save(&book).unwrap();
    let out = ingest(&fx.db, &book);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("empty.xlsx"), "{err}");
}

#[test]
fn messy_values_are_normalised() {
    let fx = fixture();
    let id15 = "371302900101003"; // legacy 15-digit form of a 1990-01-01 birth
    let rows = [
        CLAIMS_HEADER.to_string(),
        // spaces, full-width ID with lower-case x, thousands separator, slash date
        format!(" M1 , {} , 张 伟 ,138 0000 0001,,贫困劳动力,371302,jg001,B1,等级证书,4-01-01,初级工,,就业补助资金,\"1,000.00\",30天,¥600,2020/3/5", "３７１３０２１９９００１０１００３ｘ"),
        // 15-digit ID, yyyymmdd date, amount with 元, level 五级
        format!("M2,{id15},李娜,,,employee,371302,JG001,B1,level_cert,4-01-01,五级,,,1200元,,,20200305"),
        // Chinese date, yen sign, full-width digits in amount
        format!("M3,{},王芳,,,,371302,JG001,B1,no_level_cert,,,,,１２００,,,2020年3月5日", id(5)),
        // dotted date, date with time
        format!("M4,{},刘洋,,,,371302,JG001,B1,career_course,,,,,300.5,,,2020.3.5", id(6)),
        format!("M5,{},陈静,,,,371302,JG001,B1,career_course,,,,,300,,,2020-03-05 00:00:00", id(7)),
    ];
    write(&fx.src, "claims.csv", &(rows.join("\r\n") + "\r\n"));
    ok(&ingest(&fx.db, &fx.src));
    assert!(rejects(&fx.db).is_empty(), "{:?}", rejects(&fx.db));
    let c = Connection::open(&fx.db).unwrap();
    let get = |sql: &str| -> String { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        get("SELECT id_number FROM claims WHERE claim_id = 'M1'"),
        "37130219900101003X"
    );
    assert_eq!(
        get("SELECT name FROM claims WHERE claim_id = 'M1'"),
        "张 伟"
    );
    assert_eq!(
        get("SELECT phone FROM claims WHERE claim_id = 'M1'"),
        "13800000001"
    );
    assert_eq!(
        get("SELECT institution_id FROM claims WHERE claim_id = 'M1'"),
        "JG001"
    );
    assert_eq!(
        get("SELECT category FROM claims WHERE claim_id = 'M1'"),
        "poor"
    );
    assert_eq!(
        get("SELECT funding_source FROM claims WHERE claim_id = 'M1'"),
        "employment_fund"
    );
    let id18 = get("SELECT id_number FROM claims WHERE claim_id = 'M2'");
    assert_eq!(id18.len(), 18);
    assert!(id18.starts_with("37130219900101003"));
    for (cid, fen) in [
        ("M1", 100_000),
        ("M2", 120_000),
        ("M3", 120_000),
        ("M4", 30_050),
        ("M5", 30_000),
    ] {
        assert_eq!(
            count(
                &fx.db,
                &format!("SELECT amount_fen FROM claims WHERE claim_id = '{cid}'")
            ),
            fen,
            "{cid}"
        );
        assert_eq!(
            get(&format!(
                "SELECT claim_date FROM claims WHERE claim_id = '{cid}'"
            )),
            "2020-03-05",
            "{cid}"
        );
    }
    assert_eq!(
        count(
            &fx.db,
            "SELECT living_days FROM claims WHERE claim_id = 'M1'"
        ),
        30
    );
    assert_eq!(
        count(
            &fx.db,
            "SELECT living_amount_fen FROM claims WHERE claim_id = 'M1'"
        ),
        60_000
    );
    assert_eq!(
        count(&fx.db, "SELECT level FROM claims WHERE claim_id = 'M2'"),
        5
    );
    assert_eq!(
        count(
            &fx.db,
            "SELECT COUNT(*) FROM claims WHERE claim_id = 'M3' AND level IS NULL"
        ),
        1
    );
}

#[test]
fn unreadable_rows_are_rejected_with_file_line_and_reason() {
    let fx = fixture();
    let good = claim("G1", &id(1), "张伟", "1000", "2020-03-05");
    let lines = [
        CLAIMS_HEADER.to_string(),
        good.clone(),                                      // line 2
        claim("", &id(2), "李娜", "1000", "2020-03-05"),   // 3: missing key
        claim("R2", &id(2), "李娜", "1000", "2020-02-30"), // 4: impossible date
        claim("R3", &id(2), "李娜", "一千", "2020-03-05"), // 5: unreadable amount
        claim("R4", &id(2), "李娜", "1000", "2020-03-05").replace("level_cert", ""), // 6: required enum empty
        claim("R5", &id(2), "李娜", "1000", "2020-03-05").replace("level_cert", "火箭培训"), // 7: unknown label
        claim("G1", &id(3), "王芳", "1000", "2020-03-05"), // 8: duplicate key
        "R7,too,few,columns".to_string(),                  // 9: wrong column count
        // 10-11: a quoted field spanning two lines, readable
        claim("G2", &id(4), "\"赵\n敏\"", "1000", "2020-03-05"),
        claim("R8", &id(5), "钱七", "1000", "昨天"), // 12: after the two-line record
        // a bad check digit is readable: loaded for the invalid_id rule
        claim("G3", "371302199001010019", "孙八", "1000", "2020-03-05"),
        ",,,,,,,,,,,,,,,,,".to_string(), // blank record: holds nothing
    ];
    write(&fx.src, "claims.csv", &(lines.join("\n") + "\n"));
    let out = ok(&ingest(&fx.db, &fx.src));
    assert!(out.contains("claims.csv:3"), "{out}");
    let got = rejects(&fx.db);
    let summary: Vec<(i64, Option<&str>)> = got.iter().map(|r| (r.1, r.2.as_deref())).collect();
    assert_eq!(
        summary,
        vec![
            (3, Some("claim_id")),
            (4, Some("claim_date")),
            (5, Some("amount")),
            (6, Some("subsidy_type")),
            (7, Some("subsidy_type")),
            (8, None),
            (9, None),
            (12, Some("claim_date")),
        ]
    );
    assert!(got.iter().all(|r| r.0 == "claims.csv"));
    assert!(got[0].3.contains("missing required value"));
    assert!(got[1].3.contains("unreadable date"));
    assert!(got[2].3.contains("unreadable amount"));
    assert!(got[4].3.contains("unknown label") && got[4].3.contains("火箭培训"));
    assert!(got[5].3.contains("duplicate key") && got[5].3.contains("line 2"));
    assert!(got[6].3.contains("wrong column count"));
    let raw: String = Connection::open(&fx.db)
        .unwrap()
        .query_row("SELECT raw FROM rejects WHERE line = 9", [], |r| r.get(0))
        .unwrap();
    assert_eq!(raw, "R7,too,few,columns");
    let c = counts(&fx.db, "claims");
    assert_eq!(
        (n(&c, "read"), n(&c, "loaded"), n(&c, "rejected")),
        (11, 3, 8)
    );
    // The first of a duplicate pair is the one kept.
    assert_eq!(
        count(
            &fx.db,
            &format!(
                "SELECT COUNT(*) FROM claims WHERE claim_id = 'G1' AND id_number = '{}'",
                id(1)
            )
        ),
        1
    );
    assert_eq!(
        count(&fx.db, "SELECT COUNT(*) FROM claims WHERE claim_id = 'G3'"),
        1
    );
    assert_eq!(
        count(
            &fx.db,
            "SELECT COUNT(*) FROM claims WHERE claim_id = 'G2' AND name = '赵\n敏'"
        ),
        1
    );
}

#[test]
fn missing_required_column_fails_naming_the_file() {
    let fx = fixture();
    write(
        &fx.src,
        "claims.csv",
        &format!(
            "{CLAIMS_HEADER}\n{}\n",
            claim("C1", &id(1), "张伟", "1000", "2020-03-05")
        ),
    );
    write(
        &fx.src,
        "registry_death.csv",
        &format!("id_number\n{}\n", id(1)),
    );
    let out = ingest(&fx.db, &fx.src);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("registry_death.csv") && err.contains("death_date"),
        "{err}"
    );
    // Nothing was written: the header check comes before any load.
    assert_eq!(count(&fx.db, "SELECT COUNT(*) FROM claims"), 0);
}

#[test]
fn a_folder_without_claims_or_a_missing_path_fails() {
    let fx = fixture();
    write(&fx.src, "labels.csv", "claim_id,rule\n");
    let out = ingest(&fx.db, &fx.src);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("claims"));
    let out = ingest(&fx.db, &fx.src.join("nope"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

#[test]
fn reingesting_the_same_folder_changes_nothing() {
    let fx = fixture();
    write_all_tables(&fx.src);
    ok(&ingest(&fx.db, &fx.src));
    let before: Vec<(String, i64)> = {
        let c = Connection::open(&fx.db).unwrap();
        let mut st = c
            .prepare("SELECT claim_id, ingest_id FROM claims ORDER BY claim_id")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    ok(&ingest(&fx.db, &fx.src));
    for t in [
        "claims",
        "classes",
        "employment",
        "registry_ui",
        "living_standards",
    ] {
        let c = counts(&fx.db, t);
        assert_eq!((n(&c, "new"), n(&c, "changed")), (0, 0), "{t}");
        assert_eq!(n(&c, "unchanged"), n(&c, "read"), "{t}");
    }
    assert_eq!(count(&fx.db, "SELECT COUNT(*) FROM claims"), 2);
    assert_eq!(count(&fx.db, "SELECT COUNT(*) FROM ingests"), 2);
    let c = Connection::open(&fx.db).unwrap();
    let after: Vec<(String, i64)> = {
        let mut st = c
            .prepare("SELECT claim_id, ingest_id FROM claims ORDER BY claim_id")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(before, after, "unchanged rows are not rewritten");
    let hashes: Vec<String> = {
        let mut st = c.prepare("SELECT content_hash FROM ingests").unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(hashes[0], hashes[1]);
}

#[test]
fn a_newer_extract_updates_rows_by_key() {
    let fx = fixture();
    let v1 = [
        CLAIMS_HEADER.to_string(),
        claim("C1", &id(1), "张伟", "1000", "2020-03-05"),
        claim("C2", &id(2), "李娜", "1200", "2020-04-05"),
        claim("C3", &id(3), "王芳", "1400", "2020-05-05"),
    ];
    write(&fx.src, "claims.csv", &(v1.join("\n") + "\n"));
    ok(&ingest(&fx.db, &fx.src));
    // Same values written differently are unchanged; C2's amount changed; C4 is new.
    let v2 = [
        CLAIMS_HEADER.to_string(),
        claim("C1", &id(1), "张伟", "\"1,000.00\"", "2020/3/5"),
        claim("C2", &id(2), "李娜", "1100", "2020-04-05"),
        claim("C3", &id(3), "王芳", "1400", "2020-05-05"),
        claim("C4", &id(4), "赵敏", "1000", "2020-06-05"),
    ];
    write(&fx.src, "claims.csv", &(v2.join("\n") + "\n"));
    let out = ok(&ingest(&fx.db, &fx.src));
    let c = counts(&fx.db, "claims");
    assert_eq!(
        (
            n(&c, "read"),
            n(&c, "new"),
            n(&c, "changed"),
            n(&c, "unchanged")
        ),
        (4, 1, 1, 2),
        "{out}"
    );
    assert_eq!(
        count(
            &fx.db,
            "SELECT amount_fen FROM claims WHERE claim_id = 'C2'"
        ),
        110_000
    );
    assert_eq!(
        count(&fx.db, "SELECT ingest_id FROM claims WHERE claim_id = 'C2'"),
        2
    );
    assert_eq!(
        count(&fx.db, "SELECT ingest_id FROM claims WHERE claim_id = 'C1'"),
        1
    );
    assert_eq!(count(&fx.db, "SELECT COUNT(*) FROM claims"), 4);
}

/// A changed claim is written in place, assigning a column a lookup index holds only when
/// its value moved: every value is the extract's, each lookup index finds the claim by its
/// new value and not by its old one, and the old versions are in the history.
#[test]
fn a_changed_claim_is_written_in_place_with_its_lookups() {
    let fx = fixture();
    let line = |cid: &str, idn: &str, name: &str, phone: &str, bank: &str| {
        format!("{cid},{idn},{name},{phone},{bank},employee,371302,JG001,B1,level_cert,4-01-01,5,Z{cid},employment_fund,1000,0,0,2020-03-05")
    };
    let v1 = [
        CLAIMS_HEADER.to_string(),
        line("C1", &id(1), "张伟", "13800000001", "6222000011110001"),
        line("C2", &id(2), "李娜", "13800000002", "6222000011110002"),
        line("C3", &id(3), "王芳", "13800000003", "6222000011110003"),
        line("C4", &id(4), "赵敏", "13800000004", "6222000011110004"),
    ];
    write(&fx.src, "claims.csv", &(v1.join("\n") + "\n"));
    ok(&ingest(&fx.db, &fx.src));
    // C1: the phone; C2: the ID number and the bank account; C3: the name only; C4 unchanged.
    let v2 = [
        CLAIMS_HEADER.to_string(),
        line("C1", &id(1), "张伟", "13900000001", "6222000011110001"),
        line("C2", &id(12), "李娜", "13800000002", "6222000011119992"),
        line("C3", &id(3), "王芳芳", "13800000003", "6222000011110003"),
        line("C4", &id(4), "赵敏", "13800000004", "6222000011110004"),
    ];
    write(&fx.src, "claims.csv", &(v2.join("\n") + "\n"));
    let out = ok(&ingest(&fx.db, &fx.src));
    let c = counts(&fx.db, "claims");
    assert_eq!((n(&c, "changed"), n(&c, "unchanged")), (3, 1), "{out}");
    let stored: Vec<(String, String, String, String, String, i64)> = common::query_all(
        &fx.db,
        "SELECT claim_id, id_number, name, phone, bank_account, ingest_id FROM claims
         ORDER BY claim_id",
        |r| r.try_into(),
    );
    let want = |cid: &str, idn: &str, name: &str, phone: &str, bank: &str, ingest: i64| {
        let s = |v: &str| v.to_string();
        (s(cid), s(idn), s(name), s(phone), s(bank), ingest)
    };
    assert_eq!(
        stored,
        vec![
            want("C1", &id(1), "张伟", "13900000001", "6222000011110001", 2),
            want("C2", &id(12), "李娜", "13800000002", "6222000011119992", 2),
            want("C3", &id(3), "王芳芳", "13800000003", "6222000011110003", 2),
            want("C4", &id(4), "赵敏", "13800000004", "6222000011110004", 1),
        ]
    );
    let integrity: Vec<String> = common::query_all(&fx.db, "PRAGMA integrity_check", |r| r.get(0));
    assert_eq!(integrity, ["ok"]);
    // Each lookup index, read on its own, finds the claims by their values as they are now.
    let through = |key: &claimsweep::store::lookup::LookupKey, value: &str| -> Vec<String> {
        let sql = format!(
            "SELECT claim_id FROM claims INDEXED BY {} WHERE {} ORDER BY claim_id",
            key.index,
            key.equals("", &format!("'{value}'"))
        );
        common::query_all(&fx.db, &sql, |r| r.get(0))
    };
    use claimsweep::store::lookup::{BANK_ACCOUNT, ID_NUMBER, PHONE};
    assert_eq!(through(&PHONE, "13900000001"), ["C1"]);
    assert!(through(&PHONE, "13800000001").is_empty());
    assert_eq!(through(&ID_NUMBER, &id(12)), ["C2"]);
    assert!(through(&ID_NUMBER, &id(2)).is_empty());
    assert_eq!(through(&BANK_ACCOUNT, "6222000011119992"), ["C2"]);
    assert!(through(&BANK_ACCOUNT, "6222000011110002").is_empty());
    assert_eq!(through(&ID_NUMBER, &id(3)), ["C3"]);
    assert_eq!(through(&PHONE, "13800000003"), ["C3"]);
    assert_eq!(
        count(
            &fx.db,
            "SELECT COUNT(*) FROM claims_history WHERE superseded_ingest_id = 2"
        ),
        3
    );
}

/// New databases get 16 KiB pages (a sweep writes gigabytes; see `store::PAGE_SIZE`); a
/// database created by someone else keeps its page size when claimsweep opens it.
#[test]
fn new_databases_get_large_pages_and_existing_ones_keep_theirs() {
    let dir = tempfile::tempdir().unwrap();
    let page_size = |c: &Connection| {
        c.query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    let fresh = dir.path().join("fresh.db");
    let c = claimsweep::store::open(&fresh).unwrap();
    assert_eq!(page_size(&c), claimsweep::store::PAGE_SIZE);
    assert_eq!(claimsweep::store::PAGE_SIZE, 16_384);
    assert_eq!(claimsweep::store::page_size_hint(&c, &fresh).unwrap(), None);

    let foreign = dir.path().join("foreign.db");
    Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
        .unwrap();
    let c = claimsweep::store::open(&foreign).unwrap();
    assert_eq!(page_size(&c), 4096);
    let x: i64 = c.query_row("SELECT x FROM t", [], |r| r.get(0)).unwrap();
    assert_eq!(x, 1);
    // A sweep on it says how to convert it.
    let hint = claimsweep::store::page_size_hint(&c, &foreign)
        .unwrap()
        .expect("a hint for 4 KiB pages");
    assert!(
        hint.contains("4096") && hint.contains("page_size=16384; VACUUM"),
        "{hint}"
    );
    assert!(!hint.contains('\n'));
}

/// Into an empty table keyed by one column, the parser keeps only a filter of the keys and
/// the ingest confirms repeats against the table (`input::KeyCheck::Filtered`). Its rejects
/// must be those of keeping every key (`read_ledger`, `KeyCheck::Kept`): the same lines,
/// reasons and raw text, for a repeat in the same insert batch as its first row, one far
/// behind it, a repeat of a repeat, and first lines shifted by rejects, blank and
/// multi-line records; tables keyed by several columns keep every key in both. A second
/// ingest, into the filled table, keeps every key again.
#[test]
fn repeated_keys_are_rejected_alike_whether_kept_or_filtered() {
    let fx = fixture();
    let mut lines = vec![CLAIMS_HEADER.to_string()];
    for k in 0..400u32 {
        let cid = format!("K{k:04}");
        lines.push(claim(&cid, &id(k % 50), "张伟", "1000", "2020-03-05"));
        match k {
            // A repeat right behind its first row: both in one insert batch.
            10 => lines.push(claim("K0009", &id(1), "李娜", "900", "2020-03-06")),
            // Lines shift: a reject, a blank record and a record over two lines.
            40 => {
                lines.push(claim("X1", &id(2), "李娜", "1000", "2020-02-30"));
                lines.push(",,,,,,,,,,,,,,,,,".to_string());
                lines.push(claim("K9000", &id(4), "\"赵\n敏\"", "1000", "2020-03-05"));
            }
            // Far behind their first rows (already inserted), and a repeat of a repeat.
            300 => {
                lines.push(claim("K0003", &id(3), "王芳", "800", "2020-04-01"));
                lines.push(claim("K9000", &id(5), "钱七", "800", "2020-04-01"));
                lines.push(claim("K0003", &id(6), "孙八", "700", "2020-04-02"));
            }
            _ => {}
        }
    }
    // The last rows are inserted one by one: a repeat among them.
    lines.push(claim("K0398", &id(7), "周九", "600", "2020-05-01"));
    write(&fx.src, "claims.csv", &(lines.join("\n") + "\n"));
    // Two more tables keyed by one column: certificates and the death register.
    let mut certs =
        vec!["cert_no,id_number,name,occupation_code,level,cert_type,issue_date".to_string()];
    let mut deaths = vec!["id_number,death_date".to_string()];
    for k in 0..100u32 {
        certs.push(format!(
            "Z{k:04},{},张伟,4-01-01,5,职业技能等级证书,2020-01-0{}",
            id(k),
            1 + k % 9
        ));
        deaths.push(format!("{},2019-05-0{}", id(k + 100), 1 + k % 9));
    }
    certs.insert(
        60,
        "Z0007,371302199001010019,王芳,4-01-01,4,职业技能等级证书,2020-02-01".to_string(),
    );
    certs.push("Z0099,371302199001010019,王芳,4-01-01,4,职业技能等级证书,2020-02-01".to_string());
    deaths.insert(3, format!("{},2019-06-01", id(101)));
    deaths.push(format!("{},2019-06-02", id(150)));
    write(&fx.src, "certificates.csv", &(certs.join("\n") + "\n"));
    write(&fx.src, "registry_death.csv", &(deaths.join("\n") + "\n"));
    // Tables keyed by several columns: a repeat of all of them is rejected, a row differing
    // in one is not; an unemployment-insurance row without `as_of` repeats another without.
    let mut spells = vec!["id_number,employer_id,start_date,end_date".to_string()];
    let mut ui = vec!["id_number,months_paid,as_of".to_string()];
    for k in 0..60u32 {
        spells.push(format!("{},E{:03},2019-0{}-01,", id(k), k % 7, 1 + k % 9));
        ui.push(format!("{},{},2020-0{}-15", id(k), 12 + k, 1 + k % 9));
    }
    spells.insert(20, format!("{},E{:03},2019-0{}-01,2020-01-01", id(5), 5, 6));
    spells.insert(21, format!("{},E{:03},2019-0{}-02,", id(5), 5, 6));
    ui.push(format!("{},3,", id(70)));
    ui.push(format!("{},4,2020-01-15", id(70)));
    ui.push(format!("{},5,", id(70)));
    ui.push(format!("{},6,2020-02-15", id(0)));
    write(&fx.src, "employment.csv", &(spells.join("\n") + "\n"));
    write(&fx.src, "registry_ui.csv", &(ui.join("\n") + "\n"));

    // The ledger and rejects of keeping every key.
    let read_kept = |src: &Path| {
        let (ledger, rejects) = claimsweep::input::read_ledger(src).unwrap();
        let rejects: Vec<(String, u64, String, String)> = rejects
            .into_iter()
            .map(|r| (r.file, r.line, r.reason, r.raw))
            .collect();
        (ledger, rejects)
    };
    let (ledger, kept) = read_kept(&fx.src);
    assert_eq!(kept.len(), 12, "{kept:?}");
    assert_eq!(
        kept.iter()
            .filter(|r| r.2.contains("duplicate key"))
            .count(),
        11
    );

    ok(&ingest(&fx.db, &fx.src));
    // Tables load in the contract's order (claims, certificates, …), as read_ledger reads them.
    let stored = |db: &Path| -> Vec<(String, u64, String, String)> {
        let c = Connection::open(db).unwrap();
        let mut st = c
            .prepare("SELECT file, line, reason, raw FROM rejects WHERE ingest_id = (SELECT MAX(ingest_id) FROM ingests) ORDER BY rowid")
            .unwrap();
        st.query_map([], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?, r.get(3)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    // Every kept claim is in the table, and the first row of each repeated key is the one kept.
    let claims_are = |ledger: &claimsweep::model::Ledger, first_rows: &str, n: i64| {
        assert_eq!(
            count(&fx.db, "SELECT COUNT(*) FROM claims"),
            ledger.claims.len() as i64
        );
        assert_eq!(count(&fx.db, first_rows), n, "{first_rows}");
    };
    assert_eq!(stored(&fx.db), kept);
    claims_are(
        &ledger,
        "SELECT COUNT(*) FROM claims WHERE claim_id = 'K0003' AND name = '张伟'",
        1,
    );

    // The same source again: the table is not empty; a repeat of a stored key is found by
    // the stored rows, which keep the line that took each. Same rejects.
    ok(&ingest(&fx.db, &fx.src));
    assert_eq!(stored(&fx.db), kept);

    // Next time's extract: the same rows, then new keys repeated right behind their first
    // row, far behind it (inserted by then) and among the last rows (inserted one by one),
    // and once more a repeat of a stored key after them.
    let mut next = lines.clone();
    for k in 0..300u32 {
        next.push(claim(
            &format!("N{k:04}"),
            &id(k % 50),
            "张伟",
            "1000",
            "2020-06-05",
        ));
        match k {
            5 => next.push(claim("N0004", &id(1), "李娜", "900", "2020-06-06")),
            250 => next.push(claim("N0010", &id(2), "王芳", "800", "2020-06-07")),
            _ => {}
        }
    }
    next.push(claim("N0298", &id(3), "孙八", "700", "2020-06-08"));
    next.push(claim("K0007", &id(4), "周九", "600", "2020-06-09"));
    write(&fx.src, "claims.csv", &(next.join("\n") + "\n"));
    let (next_ledger, kept_next) = read_kept(&fx.src);
    assert_eq!(kept_next.len(), kept.len() + 4, "{kept_next:?}");
    ok(&ingest(&fx.db, &fx.src));
    assert_eq!(stored(&fx.db), kept_next);
    claims_are(
        &next_ledger,
        "SELECT COUNT(*) FROM claims WHERE claim_id IN ('N0004', 'N0010', 'N0298') AND name = '张伟'",
        3,
    );
}

/// A re-ingest reads the stored rows on a second connection beside the parse (a database file
/// in WAL mode), or first on its own connection where there is no file (in memory). Both
/// match the extract alike: the same counts, rows, history and rejects, repeated keys included.
#[test]
fn a_re_ingest_in_memory_matches_the_extract_as_one_on_file() {
    let fx = fixture();
    let mut lines = vec![CLAIMS_HEADER.to_string()];
    for k in 0..300u32 {
        lines.push(claim(
            &format!("K{k:04}"),
            &id(k % 40),
            "张伟",
            "1000",
            "2020-03-05",
        ));
    }
    write(&fx.src, "claims.csv", &(lines.join("\n") + "\n"));
    let mut file = claimsweep::store::open(&fx.db).unwrap();
    let mut memory = claimsweep::store::open(Path::new(":memory:")).unwrap();
    let state = |conn: &Connection| -> Vec<String> {
        let mut out = Vec::new();
        for sql in [
            "SELECT claim_id || '|' || name || '|' || amount_fen FROM claims ORDER BY rowid",
            "SELECT claim_id || '|' || name FROM claims_history ORDER BY rowid",
            "SELECT line || '|' || reason || '|' || raw FROM rejects ORDER BY rowid",
        ] {
            let mut st = conn.prepare(sql).unwrap();
            out.extend(
                st.query_map([], |r| r.get::<_, String>(0))
                    .unwrap()
                    .map(Result::unwrap),
            );
            out.push("--".into());
        }
        out
    };
    let mut reports = Vec::new();
    for round in 0..2 {
        if round == 1 {
            // Next time's extract: rows changed, left out, moved, new ones, and repeats of
            // stored and of new keys.
            let mut next: Vec<String> = lines[..1].to_vec();
            for (k, line) in lines[1..].iter().enumerate() {
                match k % 50 {
                    7 => {}
                    9 => next.push(line.replace("张伟", "李娜")),
                    _ => next.push(line.clone()),
                }
            }
            next.swap(20, 200);
            next.push(claim("N0001", &id(1), "王芳", "900", "2020-06-01"));
            next.push(claim("K0003", &id(3), "孙八", "700", "2020-06-02"));
            next.push(claim("N0001", &id(2), "周九", "600", "2020-06-03"));
            write(&fx.src, "claims.csv", &(next.join("\n") + "\n"));
        }
        let on_file = claimsweep::store::ingest::ingest_path(&mut file, &fx.src, false).unwrap();
        let in_memory =
            claimsweep::store::ingest::ingest_path(&mut memory, &fx.src, false).unwrap();
        let counts = |r: &claimsweep::store::ingest::IngestReport| {
            let c = &r.tables[0];
            (c.read, c.new, c.changed, c.unchanged, c.absent, c.rejected)
        };
        assert_eq!(counts(&on_file), counts(&in_memory), "round {round}");
        reports.push(counts(&on_file));
    }
    assert_eq!(reports[0], (300, 300, 0, 0, 0, 0));
    // Six rows left out, six changed, one new; the repeats of K0003 and N0001 rejected.
    assert_eq!(reports[1], (297, 1, 6, 288, 6, 2));
    assert_eq!(state(&file), state(&memory));
}

/// Every stored row of `table` as text, in key order.
fn table_rows(db: &Path, table: &str) -> Vec<Vec<String>> {
    common::query_all(db, &format!("SELECT * FROM {table} ORDER BY 1, 2"), |r| {
        (0..r.as_ref().column_count())
            .map(|i| {
                r.get_ref(i).map(|v| match v {
                    rusqlite::types::ValueRef::Null => "NULL".to_string(),
                    rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                    rusqlite::types::ValueRef::Real(x) => x.to_string(),
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        String::from_utf8_lossy(t).into_owned()
                    }
                })
            })
            .collect()
    })
}

#[test]
fn compressed_files_load_as_their_plain_text() {
    use claimsweep::compression::Compression;
    use std::io::Write;
    let plain = fixture();
    write_all_tables(&plain.src);
    // Rejects too: their lines are counted in the decompressed text.
    let claims = [
        CLAIMS_HEADER.to_string(),
        claim("C1", &id(1), "张伟", "1000", "2020-03-05"),
        claim("R1", &id(2), "李娜", "1000", "2020-02-30"),
        claim("C2", &id(2), "李娜", "1200.00", "2020-04-05"),
        "R7,too,few,columns".to_string(),
    ];
    write(&plain.src, "claims.csv", &(claims.join("\n") + "\n"));
    // The institutions' file is GBK with Chinese headers.
    let text = std::fs::read_to_string(plain.src.join("培训机构.csv")).unwrap();
    std::fs::write(
        plain.src.join("培训机构.csv"),
        encoding_rs::GBK.encode(&text).0,
    )
    .unwrap();
    ok(&ingest(&plain.db, &plain.src));

    // The same files, compressed in turn with gzip and Zstandard; labels.csv stays plain.
    let packed = fixture();
    let mut files: Vec<_> = std::fs::read_dir(&plain.src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for (k, path) in files.iter().enumerate() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(path).unwrap();
        if name == "labels.csv" {
            std::fs::write(packed.src.join(&name), &bytes).unwrap();
            continue;
        }
        let c = [Compression::Gzip, Compression::Zstd][k % 2];
        let file = std::fs::File::create(packed.src.join(format!("{name}{}", c.suffix())));
        let mut w = c.writer(file.unwrap()).unwrap();
        w.write_all(&bytes).unwrap();
        w.finish().unwrap();
    }
    let out = ok(&ingest(&packed.db, &packed.src));
    assert!(out.contains("labels.csv"), "labels.csv is ignored: {out}");
    assert!(
        out.contains("claims.csv.zst:3") || out.contains("claims.csv.gz:3"),
        "{out}"
    );

    for spec in claimsweep::model::TABLES {
        let rows = table_rows(&plain.db, spec.name);
        assert!(!rows.is_empty(), "{}", spec.name);
        assert_eq!(table_rows(&packed.db, spec.name), rows, "{}", spec.name);
    }
    let lines = |db: &Path| -> Vec<(i64, Option<String>, String)> {
        rejects(db).into_iter().map(|r| (r.1, r.2, r.3)).collect()
    };
    assert_eq!(lines(&packed.db).len(), 2);
    assert_eq!(lines(&packed.db), lines(&plain.db));

    // A compressed file cut short fails the ingest, naming the file, and loads nothing.
    let cut = fixture();
    write_all_tables(&cut.src);
    let whole = std::fs::read(packed.src.join("claims.csv.zst"))
        .or_else(|_| std::fs::read(packed.src.join("claims.csv.gz")))
        .unwrap();
    std::fs::remove_file(cut.src.join("claims.csv")).unwrap();
    let name = if packed.src.join("claims.csv.zst").exists() {
        "claims.csv.zst"
    } else {
        "claims.csv.gz"
    };
    std::fs::write(cut.src.join(name), &whole[..whole.len() - 6]).unwrap();
    let out = ingest(&cut.db, &cut.src);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(name) && err.trim().lines().count() == 1,
        "{err}"
    );
    assert!(!cut.db.exists() || count(&cut.db, "SELECT COUNT(*) FROM claims") == 0);
}

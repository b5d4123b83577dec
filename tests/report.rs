//! `claimsweep report` end to end: the real binary ingests a small hand-made ledger, sweeps it
//! twice (the second time with one more over-the-limit person), and writes the HTML and Excel
//! reports. Checks: no network references in the HTML, the summary and a case with its
//! evidence are there, identifiers are masked by default and shown with `--unmask`, English
//! labels with `--lang en`, what is new since the last sweep, and the workbook read back with
//! calamine has every sheet with the expected rows.

use calamine::{open_workbook_auto, Data, Reader};
use claimsweep::idcode::id_check_char;
use std::path::{Path, PathBuf};
use std::process::Command;

fn id(area: &str, birth: &str, seq: u32) -> String {
    let first17 = format!("{area}{birth}{seq:03}");
    format!("{first17}{}", id_check_char(&first17).expect("17 digits"))
}

/// The over-the-limit person of the first ledger.
fn p1() -> String {
    id("371302", "19900101", 11)
}
/// The over-the-limit person added before the second sweep.
fn p6() -> String {
    id("371321", "19850505", 61)
}
const P1_PHONE: &str = "13912345678";
const P1_BANK: &str = "6222020000001111";
const SHARED_PHONE: &str = "13800001111";

const HEADER: &str = "claim_id,id_number,name,phone,bank_account,category,county_code,institution_id,class_id,subsidy_type,occupation_code,level,cert_no,funding_source,amount,living_days,living_amount,claim_date";

#[allow(clippy::too_many_arguments)]
fn claim_line(
    claim: &str,
    person: &str,
    name: &str,
    phone: &str,
    bank: &str,
    county: &str,
    inst: &str,
    occupation: &str,
    level: u8,
    amount: u32,
    fund: &str,
    date: &str,
) -> String {
    format!(
        "{claim},{person},{name},{phone},{bank},employee,{county},{inst},K{claim},level_cert,{occupation},{level},,{fund},{amount},0,0,{date}"
    )
}

/// Claims of the first ledger: P1 claims four times in 2020 (over_cap), P2..P4 share one
/// phone (shared_contact), P5 is clean and trained in 2019 at level 3.
fn base_claims() -> Vec<String> {
    let p1 = p1();
    let mut lines = Vec::new();
    for (k, (occ, date)) in [
        ("4-01-02-01", "2020-02-01"),
        ("6-18-01-01", "2020-04-01"),
        ("4-03-02-01", "2020-06-01"),
        ("6-02-06-01", "2020-08-01"),
    ]
    .iter()
    .enumerate()
    {
        lines.push(claim_line(
            &format!("C10{k}"),
            &p1,
            "张伟",
            P1_PHONE,
            P1_BANK,
            "371302",
            "ORG1",
            occ,
            5,
            1000,
            "employment_fund",
            date,
        ));
    }
    for (k, name) in ["李娜", "王芳", "刘洋"].iter().enumerate() {
        let person = id("371321", "19920202", 20 + k as u32);
        lines.push(claim_line(
            &format!("C20{k}"),
            &person,
            name,
            SHARED_PHONE,
            &format!("622202000000200{k}"),
            "371321",
            "ORG2",
            "4-01-02-01",
            4,
            1200,
            "unemployment_insurance",
            "2020-05-10",
        ));
    }
    lines.push(claim_line(
        "C300",
        &id("371302", "19880303", 50),
        "陈静",
        "13700009999",
        "6222020000003000",
        "371302",
        "ORG1",
        "4-01-02-01",
        3,
        1400,
        "employment_fund",
        "2019-09-09",
    ));
    lines
}

fn extra_claims() -> Vec<String> {
    let p6 = p6();
    (0..4)
        .map(|k| {
            claim_line(
                &format!("C60{k}"),
                &p6,
                "赵磊",
                "13600006666",
                "6222020000006000",
                "371321",
                "ORG2",
                ["4-01-02-01", "6-18-01-01", "4-03-02-01", "6-02-06-01"][k],
                5,
                1000,
                "employment_fund",
                &format!("2021-0{}-15", k + 2),
            )
        })
        .collect()
}

fn write_ledger(dir: &Path, claims: &[String]) {
    std::fs::create_dir_all(dir).expect("ledger dir");
    let mut text = String::from(HEADER);
    text.push('\n');
    for l in claims {
        text.push_str(l);
        text.push('\n');
    }
    std::fs::write(dir.join("claims.csv"), text).expect("claims.csv");
    std::fs::write(
        dir.join("institutions.csv"),
        "institution_id,name,county_code,kind,legal_rep_id,phone,address\n\
         ORG1,兰山区育才<b>培训</b>学校&Co,371302,school,,05392000001,兰山区育才路1号\n\
         ORG2,沂南县技能培训中心,371321,center,,05392000002,沂南县中心街2号\n",
    )
    .expect("institutions.csv");
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_claimsweep"))
}

fn run_ok(args: &[&str]) -> String {
    let out = bin().args(args).output().expect("run claimsweep");
    assert!(
        out.status.success(),
        "claimsweep {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A database holding two sweeps: the base ledger, then the base ledger plus P6.
struct Fixture {
    dir: tempfile::TempDir,
    db: String,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("t.db").display().to_string();
        let first = dir.path().join("ledger1");
        write_ledger(&first, &base_claims());
        run_ok(&["ingest", "--db", &db, first.to_str().expect("utf-8")]);
        run_ok(&["sweep", "--db", &db]);
        let second = dir.path().join("ledger2");
        let mut all = base_claims();
        all.extend(extra_claims());
        write_ledger(&second, &all);
        run_ok(&["ingest", "--db", &db, second.to_str().expect("utf-8")]);
        run_ok(&["sweep", "--db", &db]);
        Fixture { dir, db }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn report(&self, name: &str, extra: &[&str]) -> (PathBuf, String) {
        let out = self.path(name);
        let format = if name.ends_with(".xlsx") {
            "xlsx"
        } else {
            "html"
        };
        let mut args = vec![
            "report",
            "--db",
            &self.db,
            "--format",
            format,
            "-o",
            out.to_str().expect("utf-8"),
        ];
        args.extend_from_slice(extra);
        let stdout = run_ok(&args);
        (out, stdout)
    }
}

fn masked_id(id: &str) -> String {
    format!("{}***********{}", &id[..3], &id[14..])
}

/// Every `src=` / `href=` attribute value of the page.
fn references(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\"", "src='", "href='"] {
        let quote = attr.chars().last().expect("quote");
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            let after = &rest[i + attr.len()..];
            let end = after.find(quote).unwrap_or(after.len());
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    out
}

fn sheet_rows(path: &Path, sheet: &str) -> Vec<Vec<String>> {
    let mut wb = open_workbook_auto(path).expect("open workbook");
    let range = wb
        .worksheet_range(sheet)
        .unwrap_or_else(|e| panic!("sheet {sheet}: {e}"));
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::Float(f) => format!("{f}"),
                    Data::Int(i) => i.to_string(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

#[test]
fn html_and_workbook_reports_of_two_sweeps() {
    let fx = Fixture::new();
    let (p1, p6) = (p1(), p6());

    // --- HTML, masked, Chinese ---
    let (html_path, stdout) = fx.report("report.html", &[]);
    assert!(stdout.contains("report.html"), "prints the path: {stdout}");
    let html = std::fs::read_to_string(&html_path).expect("read html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no network URL in the page"
    );
    for r in references(&html) {
        assert!(r.starts_with('#'), "only in-page references, found {r:?}");
    }
    assert!(
        !html.contains("<link") && !html.contains("@import"),
        "no external stylesheet"
    );
    assert!(html.contains("<section id=\"summary\">") && html.contains("摘要"));
    assert!(
        html.contains("<details class=\"case\""),
        "case drill-down present"
    );
    assert!(
        html.contains("超过每人每年补贴次数"),
        "the over_cap case is named"
    );
    assert!(
        html.contains("沂南县技能培训中心"),
        "institution names shown"
    );
    assert!(
        html.contains("兰山区育才&lt;b&gt;培训&lt;/b&gt;学校&amp;Co"),
        "markup in data is escaped"
    );
    assert!(
        !html.contains("<b>培训"),
        "markup in data never reaches the page"
    );
    assert!(
        html.contains("<svg"),
        "charts and ring pictures are inline SVG"
    );
    // Masked by default: P1's ID, phone and account never in full.
    assert!(html.contains(&masked_id(&p1)), "masked ID shown");
    assert!(!html.contains(&p1), "full ID number leaked");
    assert!(!html.contains(P1_PHONE) && html.contains("139****5678"));
    assert!(!html.contains(P1_BANK) && html.contains("6222********1111"));
    assert!(
        !html.contains(SHARED_PHONE),
        "shared phone masked in subjects and explanations"
    );
    // New since the last sweep: P6's case is new in sweep 2.
    let new_section = &html[html.find("<section id=\"new\">").expect("new section")..];
    let new_section = &new_section[..new_section.find("</section>").expect("end")];
    assert!(new_section.contains(&masked_id(&p6)), "P6's case is new");
    assert!(
        !new_section.contains(&masked_id(&p1)),
        "P1's case persists unchanged"
    );
    // Progress: 2019 person-times against the 72,000 target, level-3 share.
    let progress = &html[html.find("<section id=\"progress\">").expect("progress")..];
    assert!(progress.contains("72000"), "person-times target shown");

    // Deterministic: the same database gives the same bytes.
    let (again, _) = fx.report("again.html", &[]);
    assert_eq!(
        std::fs::read(&again).expect("read"),
        std::fs::read(&html_path).expect("read")
    );

    // --- HTML, unmasked ---
    let (path, stdout) = fx.report("unmasked.html", &["--unmask"]);
    assert!(stdout.contains("未脱敏"), "{stdout}");
    let html = std::fs::read_to_string(path).expect("read html");
    assert!(html.contains(&p1) && html.contains(P1_PHONE) && html.contains(P1_BANK));

    // --- HTML, English ---
    let (path, _) = fx.report("en.html", &["--lang", "en"]);
    let html = std::fs::read_to_string(path).expect("read html");
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains(">Summary<") && html.contains("over the yearly claim limit"));
    assert!(!html.contains(&p1));

    // --- Workbook ---
    let (xlsx, _) = fx.report("report.xlsx", &[]);
    let wb = open_workbook_auto(&xlsx).expect("open workbook");
    assert_eq!(
        wb.sheet_names(),
        vec![
            "摘要",
            "按县区",
            "按规则",
            "按资金",
            "按机构",
            "新增",
            "进度",
            "机构风险",
            "案件",
            "证据",
            "团伙",
            "无政策覆盖的申领"
        ]
    );
    let summary = sheet_rows(&xlsx, "摘要");
    let claims_row = summary
        .iter()
        .find(|r| r[0] == "申领笔数")
        .expect("claims row");
    assert_eq!(claims_row[1], "12", "8 base claims + 4 of P6");
    let rules = sheet_rows(&xlsx, "按规则");
    assert_eq!(rules[0][0], "规则编号", "{rules:?}");
    let over_cap = rules
        .iter()
        .find(|r| r[0] == "over_cap")
        .expect("over_cap row");
    assert_eq!(over_cap[3], "2", "two over_cap flags (P1 and P6)");
    assert_eq!(over_cap[5], "2000", "two 1000-yuan claims at risk");
    assert!(rules.iter().any(|r| r[0] == "shared_contact"));
    assert_eq!(
        rules.len(),
        1 + 18,
        "every rule listed, those without flags too"
    );
    let skipped = rules
        .iter()
        .find(|r| r[0] == "skill_upgrade_ineligible")
        .expect("skipped rule row");
    assert_eq!(skipped[3], "0");
    assert!(
        skipped[6].contains("registry_ui"),
        "says which table was missing: {skipped:?}"
    );
    let skipped_row = summary
        .iter()
        .find(|r| r[0] == "未执行的规则")
        .expect("skipped rules row");
    assert!(
        skipped_row[1].contains("技能提升补贴不符合条件"),
        "{skipped_row:?}"
    );
    let counties = sheet_rows(&xlsx, "按县区");
    let total_claims: f64 = counties[1..]
        .iter()
        .map(|r| r[2].parse::<f64>().expect("claims"))
        .sum();
    assert_eq!(total_claims, 12.0, "county rows add up to all claims");
    let at_risk = |rows: &[Vec<String>], col: usize| -> f64 {
        rows[1..]
            .iter()
            .map(|r| r[col].parse::<f64>().expect("amount"))
            .sum()
    };
    let summary_at_risk: f64 = summary
        .iter()
        .find(|r| r[0] == "涉及金额（元）")
        .expect("at-risk row")[1]
        .parse()
        .expect("amount");
    assert!(summary_at_risk > 0.0);
    assert!(
        (at_risk(&counties, 7) - summary_at_risk).abs() < 0.005,
        "counties add up"
    );
    let funds = sheet_rows(&xlsx, "按资金");
    assert!(
        (at_risk(&funds, 7) - summary_at_risk).abs() < 0.005,
        "funds add up"
    );
    let institutions = sheet_rows(&xlsx, "按机构");
    assert!(
        (at_risk(&institutions, 8) - summary_at_risk).abs() < 0.005,
        "institutions add up"
    );
    let cases = sheet_rows(&xlsx, "案件");
    assert!(
        cases.len() >= 4,
        "header + the cases of P1, P6 and the shared phone"
    );
    let all_cells: String = cases
        .iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join("|");
    assert!(all_cells.contains(&masked_id(&p1)) && !all_cells.contains(&p1));
    let evidence = sheet_rows(&xlsx, "证据");
    assert!(
        evidence.len() > 1 && evidence[1..].iter().all(|r| !r[8].is_empty()),
        "explanations"
    );
    assert!(!evidence.iter().flatten().any(|c| c.contains(SHARED_PHONE)));
    let new = sheet_rows(&xlsx, "新增");
    assert!(new
        .iter()
        .any(|r| r[0] == "新发现" && r[3] == masked_id(&p6)));
    let progress = sheet_rows(&xlsx, "进度");
    let city_2019 = progress
        .iter()
        .find(|r| r[0] == "2019" && r[2] == "全市")
        .expect("2019 city row");
    assert_eq!(city_2019[3], "1", "one claim in 2019");
    assert_eq!(city_2019[8], "1", "at level 3");
    for sheet in ["机构风险", "团伙"] {
        assert!(
            !sheet_rows(&xlsx, sheet).is_empty(),
            "{sheet} has its header"
        );
    }

    // --- The first sweep: every case new, no P6 ---
    let (xlsx1, _) = fx.report("sweep1.xlsx", &["--sweep", "1"]);
    let new = sheet_rows(&xlsx1, "新增");
    assert!(new.len() > 1 && new[1..].iter().all(|r| r[0] == "新发现"));
    assert!(!new.iter().flatten().any(|c| *c == masked_id(&p6)));
    // The first sweep's figures are the ledger as it judged it (read back from the history
    // by the report's one pass over the claims): eight claims, not twelve.
    let summary1 = sheet_rows(&xlsx1, "摘要");
    let claims1 = summary1
        .iter()
        .find(|r| r[0] == "申领笔数")
        .expect("claims row");
    assert_eq!(claims1[1], "8", "sweep 1 judged the base ledger");
    let counties1 = sheet_rows(&xlsx1, "按县区");
    let total1: f64 = counties1[1..]
        .iter()
        .map(|r| r[2].parse::<f64>().expect("claims"))
        .sum();
    assert_eq!(total1, 8.0, "county rows of sweep 1 add up to its claims");
}

/// Every `id="…"` of the page.
fn ids(html: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut rest = html;
    while let Some(i) = rest.find(" id=\"") {
        let after = &rest[i + 5..];
        let end = after.find('"').unwrap_or(after.len());
        out.insert(after[..end].to_string());
        rest = &after[end..];
    }
    out
}

#[test]
fn report_opens_with_where_to_start_and_every_link_lands() {
    let fx = Fixture::new();
    let (path, _) = fx.report("start.html", &[]);
    let html = std::fs::read_to_string(path).expect("read html");
    let start = html.find("<section id=\"start\"").expect("start section");
    let summary = html.find("<section id=\"summary\">").expect("summary");
    assert!(start < summary, "the page opens with where to start");
    let section = &html[start..html[start..].find("</section>").expect("end") + start];
    assert!(section.contains("<h2>从这里开始</h2>"), "{section}");
    // Eight figures, each with a label and a unit; money in 万元 with the exact yuan.
    assert_eq!(
        section.matches("<div class=\"card\">").count(),
        8,
        "{section}"
    );
    for label in [
        "申领",
        "补贴金额",
        "疑点",
        "涉及申领",
        "涉及金额（去重）",
        "案件",
        "新增案件",
        "团伙",
    ] {
        assert!(
            section.contains(&format!("<span class=\"label\">{label}</span>")),
            "card {label}"
        );
    }
    for unit in ["笔", "万元", "个", "件"] {
        assert!(
            section.contains(&format!("<span class=\"unit\">{unit}</span>")),
            "unit {unit}"
        );
    }
    assert!(section.contains("精确值 "), "exact yuan beside 万元");
    // The largest person cases, each a link to its evidence.
    assert!(section.contains("<h3>金额最大的个人案件</h3>"), "{section}");
    assert!(section.contains("<a href=\"#case-"), "{section}");
    // Amounts read with thousands separators (1000-yuan claims).
    assert!(html.contains("1,000.00"), "grouped amounts");
    // Every in-page link lands on something: cases, rings, sections.
    let ids = ids(&html);
    for r in references(&html) {
        let target = r.trim_start_matches('#');
        assert!(ids.contains(target), "link {r} has no target");
    }
    // Markup in data stays escaped in the new section too.
    assert!(!section.contains("<b>培训"));

    let (path, _) = fx.report("start_en.html", &["--lang", "en"]);
    let html = std::fs::read_to_string(path).expect("read html");
    assert!(html.contains("<h2>Start here</h2>") && html.contains("×10k yuan"));
}

#[test]
fn bad_arguments_fail_with_one_line() {
    let fx = Fixture::new();
    let out = fx.path("x.html");
    let out = out.to_str().expect("utf-8");
    let r = bin()
        .args([
            "report", "--db", &fx.db, "--format", "html", "-o", out, "--sweep", "99",
        ])
        .output()
        .expect("run");
    assert!(!r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("99"), "{err}");

    let missing = fx.path("missing.db");
    let r = bin()
        .args([
            "report",
            "--db",
            missing.to_str().expect("utf-8"),
            "--format",
            "xlsx",
            "-o",
            out,
        ])
        .output()
        .expect("run");
    assert!(!r.status.success());
    assert!(String::from_utf8_lossy(&r.stderr).contains("missing.db"));
    assert!(!missing.exists(), "a missing database is not created");
}

/// Hardening item 14: masking is by pattern, not per field. An ID number typed into the name
/// column, a phone inside an institution's name and address, and claim ids built from an ID
/// number are masked in the HTML and the workbook, and shown with `--unmask`.
#[test]
fn identifiers_in_free_text_are_masked_by_pattern() {
    let name_id = id("110105", "19800101", 12);
    let claim_id_id = id("371302", "19700707", 77);
    let inst_phone = "13912340000";
    let addr_phone = "13912340001";
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("t.db").display().to_string();
    let ledger = dir.path().join("ledger");
    // P1 claims four times in 2020 (over_cap); one claim has an ID number for a name.
    let lines: Vec<String> = (0..4)
        .map(|k| {
            claim_line(
                &format!("SQ{claim_id_id}-{k}"),
                &p1(),
                if k == 0 { &name_id } else { "张伟" },
                P1_PHONE,
                P1_BANK,
                "371302",
                "ORG1",
                ["4-01-02-01", "6-18-01-01", "4-03-02-01", "6-02-06-01"][k],
                5,
                1000,
                "employment_fund",
                &format!("2020-0{}-01", k + 2),
            )
        })
        .collect();
    write_ledger(&ledger, &lines);
    std::fs::write(
        ledger.join("institutions.csv"),
        format!(
            "institution_id,name,county_code,kind,legal_rep_id,phone,address\n\
             ORG1,育才培训学校(电话{inst_phone}),371302,school,,05392000001,育才路1号 联系{addr_phone}\n"
        ),
    )
    .expect("institutions.csv");
    run_ok(&["ingest", "--db", &db, ledger.to_str().expect("utf-8")]);
    run_ok(&["sweep", "--db", &db]);
    let fx = Fixture { dir, db };
    let secrets = [
        name_id.as_str(),
        claim_id_id.as_str(),
        inst_phone,
        addr_phone,
    ];

    let (html, _) = fx.report("masked.html", &[]);
    let html = std::fs::read_to_string(html).expect("html");
    for s in secrets {
        assert!(!html.contains(s), "{s} in the masked HTML");
    }
    assert!(html.contains(&masked_id(&name_id)), "the name is masked");
    assert!(
        html.contains(&masked_id(&claim_id_id)),
        "claim ids are masked"
    );
    assert!(
        html.contains("139****0000"),
        "the institution's phone is masked"
    );

    let (html, _) = fx.report("unmasked.html", &["--unmask"]);
    let html = std::fs::read_to_string(html).expect("html");
    for s in [name_id.as_str(), claim_id_id.as_str(), inst_phone] {
        assert!(html.contains(s), "{s} not in the unmasked HTML");
    }

    let cells = |path: &Path| -> String {
        let mut wb = open_workbook_auto(path).expect("open workbook");
        let mut all = String::new();
        for sheet in wb.sheet_names() {
            let range = wb.worksheet_range(&sheet).expect("sheet");
            for c in range.cells() {
                all.push_str(&c.2.to_string());
                all.push('\n');
            }
        }
        all
    };
    let (xlsx, _) = fx.report("masked.xlsx", &[]);
    let text = cells(&xlsx);
    for s in secrets {
        assert!(!text.contains(s), "{s} in the masked workbook");
    }
    assert!(
        text.contains(&masked_id(&claim_id_id)),
        "claim ids are masked"
    );
    let (xlsx, _) = fx.report("unmasked.xlsx", &["--unmask"]);
    let text = cells(&xlsx);
    for s in [claim_id_id.as_str(), inst_phone] {
        assert!(text.contains(s), "{s} not in the unmasked workbook");
    }
}

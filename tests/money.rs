//! One definition of money at risk (`claimsweep::money`, docs/RULES.md "Money at risk"): the
//! sweep summary, `cases list`, the flags export, the HTML report and the workbook agree on
//! every total of a generated ledger, and each total reconciles.

mod common;

use calamine::{open_workbook_auto, Reader};
use claimsweep::model::{fen_to_wan, fen_to_yuan, fen_to_yuan_grouped};
use claimsweep::money::{AtRisk, CaseTotals, FlagTotals};
use common::{claimsweep as ok, query_all};
use std::collections::HashMap;

#[test]
fn every_output_gives_the_same_reconciled_totals() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    ok(
        cwd,
        &[
            "generate", "--out", "ledger", "--claims", "4000", "--seed", "3",
        ],
    );
    ok(cwd, &["ingest", "--db", "a.db", "ledger"]);
    let sweep_text = ok(cwd, &["sweep", "--db", "a.db"]);
    let db = cwd.join("a.db");

    // The sweep's stored summary: the flags' and the cases' totals, each reconciled.
    let summary: Vec<String> = query_all(&db, "SELECT summary_json FROM sweeps", |r| r.get(0));
    let summary: serde_json::Value = serde_json::from_str(&summary[0]).unwrap();
    let flags: FlagTotals = serde_json::from_value(summary["money"].clone()).unwrap();
    let cases: CaseTotals = serde_json::from_value(summary["cases"]["money"].clone()).unwrap();
    assert!(flags.overlap_fen > 0 && cases.overlap_fen > 0, "{summary}");
    assert_eq!(flags.rules_sum_fen - flags.overlap_fen, flags.distinct_fen);
    assert_eq!(cases.cases_sum_fen - cases.overlap_fen, cases.distinct_fen);
    assert_eq!(
        cases.distinct_fen, flags.distinct_fen,
        "cases and flags agree"
    );
    let per_rule: i64 = summary["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["amount_at_risk"].as_i64().unwrap())
        .sum();
    assert_eq!(per_rule, flags.rules_sum_fen, "the per-rule table adds up");
    let t = fen_to_yuan(flags.distinct_fen);
    assert!(sweep_text.contains(&format!("= {t} 元")), "{sweep_text}");

    // The stored cases add up to the stored totals.
    let case_sum: Vec<i64> = query_all(
        &db,
        "SELECT sum(amount_at_risk_fen) FROM case_sweeps WHERE change <> 'resolved'",
        |r| r.get(0),
    );
    assert_eq!(case_sum[0], cases.cases_sum_fen);
    let list = ok(cwd, &["cases", "list", "--db", "a.db"]);
    let footer = list
        .lines()
        .find(|l| l.starts_with("共 "))
        .unwrap_or_default();
    assert!(
        footer.contains(&fen_to_yuan(cases.cases_sum_fen))
            && footer.contains(&format!("涉及金额（去重）{t} 元")),
        "{footer}"
    );

    // The flags export carries what it takes to recompute the distinct total.
    ok(
        cwd,
        &[
            "export", "flags", "--db", "a.db", "--format", "csv", "-o", "f.csv",
        ],
    );
    let paid: HashMap<String, i64> = query_all(
        &db,
        "SELECT claim_id, amount_fen + living_amount_fen FROM claims",
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .into_iter()
    .collect();
    let mut at_risk: AtRisk<u32> = AtRisk::new();
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut reader = csv::Reader::from_path(cwd.join("f.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
            .unwrap()
    };
    let (rule, claim_ids, amount) = (col("rule"), col("claim_ids"), col("amount_at_risk_fen"));
    for rec in reader.records() {
        let rec = rec.unwrap();
        let claims: Vec<&str> = rec[claim_ids].split(';').collect();
        let keys: Vec<u32> = claims
            .iter()
            .map(|c| {
                let n = ids.len() as u32;
                *ids.entry(c.to_string()).or_insert(n)
            })
            .collect();
        let paid: Vec<i64> = claims.iter().map(|c| paid[*c]).collect();
        at_risk.add_flag(&rec[rule], &keys, &paid, rec[amount].parse().unwrap());
    }
    assert_eq!(
        at_risk.totals(),
        flags,
        "the export recomputes the sweep's totals"
    );

    // The report, as HTML and as a workbook, shows the same reconciliations.
    let rules_line = format!(
        "各规则合计 {} 元 − 多条规则重复计入 {} 元 = 涉及金额（去重）{t} 元",
        fen_to_yuan(flags.rules_sum_fen),
        fen_to_yuan(flags.overlap_fen)
    );
    let cases_line = format!(
        "案件金额合计 {} 元 − 同一申领在多件案件中重复计入 {} 元 = 涉及金额（去重）{t} 元",
        fen_to_yuan(cases.cases_sum_fen),
        fen_to_yuan(cases.overlap_fen)
    );
    ok(
        cwd,
        &["report", "--db", "a.db", "--format", "html", "-o", "r.html"],
    );
    let html = std::fs::read_to_string(cwd.join("r.html")).unwrap();
    assert!(html.contains(&rules_line), "HTML lacks {rules_line}");
    assert!(html.contains(&cases_line), "HTML lacks {cases_line}");
    // The summary card: the distinct total in 万元, and exactly in yuan with separators.
    let card = format!(
        "<b title=\"{exact} 元\">{}</b><span class=\"unit\">万元</span><span class=\"exact\">精确值 {exact} 元</span>",
        fen_to_wan(flags.distinct_fen),
        exact = fen_to_yuan_grouped(flags.distinct_fen)
    );
    assert!(html.contains(&card), "HTML lacks the card {card}");
    ok(
        cwd,
        &["report", "--db", "a.db", "--format", "xlsx", "-o", "r.xlsx"],
    );
    let mut book = open_workbook_auto(cwd.join("r.xlsx")).unwrap();
    let names = book.sheet_names().to_vec();
    let mut cells = Vec::new();
    for name in names {
        let range = book.worksheet_range(&name).unwrap();
        cells.extend(range.cells().map(|(_, _, v)| v.to_string()));
    }
    assert!(cells.contains(&rules_line), "workbook lacks {rules_line}");
    assert!(cells.contains(&cases_line), "workbook lacks {cases_line}");
    // The summary's amount at risk is a number (in yuan) equal to the distinct total, shown
    // with thousands separators by its number format.
    let summary = book.worksheet_range("摘要").unwrap();
    let at_risk = summary
        .rows()
        .find(|r| r[0] == "涉及金额（元）")
        .expect("at-risk row");
    match &at_risk[1] {
        calamine::Data::Float(f) => assert_eq!(
            (f * 100.0).round() as i64,
            flags.distinct_fen,
            "workbook at-risk total"
        ),
        other => panic!("the at-risk total is not a number: {other:?}"),
    }
    // Its number format groups thousands (read with unzip where the machine has it).
    if let Ok(out) = std::process::Command::new("unzip")
        .arg("-p")
        .arg(cwd.join("r.xlsx"))
        .arg("xl/styles.xml")
        .output()
    {
        let styles = String::from_utf8_lossy(&out.stdout);
        assert!(
            styles.contains("formatCode=\"#,##0.00\""),
            "money cells have a thousands-separator format: {styles}"
        );
    }
}

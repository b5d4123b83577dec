//! Persons, not ID numbers; the policy covering the training. The small cases of the issue
//! that asked for them, run through the whole rule engine (`run_rules`: resolution, then every
//! rule), each with the boundary that must not fire.

mod common;

use claimsweep::model::*;
use claimsweep::policy::{PolicySet, DEFAULT_POLICY_TOML};
use claimsweep::refdata::RefData;
use claimsweep::resolve::Resolved;
use claimsweep::rules::engine::{run_rules, SweepResult};
use claimsweep::snapshot::Snapshot;
use common::{claim, claimsweep, class, id_in, ledger};

struct Swept {
    snap: Snapshot,
    result: SweepResult,
}

impl Swept {
    fn of(l: &Ledger, policies: &PolicySet) -> Swept {
        let snap = Snapshot::from_ledger(l);
        let result = run_rules(&snap, policies, RefData::embedded(), Some(2));
        Swept { snap, result }
    }

    /// Claim ids of each flag of `rule`, in output order.
    fn flagged(&self, rule: &str) -> Vec<Vec<String>> {
        self.result
            .flags_of(rule)
            .map(|f| {
                f.claims
                    .iter()
                    .map(|&i| self.snap.claim_id(i as usize).to_string())
                    .collect()
            })
            .collect()
    }

    fn explanation(&self, rule: &str) -> String {
        self.result
            .flags_of(rule)
            .map(|f| f.explanation_zh.clone())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn linyi() -> PolicySet {
    PolicySet::embedded_default()
}

fn with(cid: &str, id: &str, name: &str, date: &str, phone: &str, bank: &str) -> ClaimRow {
    ClaimRow {
        name: name.into(),
        phone: phone.into(),
        bank_account: bank.into(),
        ..claim(cid, id, date)
    }
}

#[test]
fn a_homophone_pair_is_one_person_and_its_fourth_claim_of_the_year_is_over_cap() {
    let a = id_in("371302", "19850302", 1);
    let b = id_in("371311", "19850302", 2);
    let mut claims = vec![
        with("A1", &a, "杜明坤", "2020-03-01", "13800000001", ""),
        with("A2", &a, "杜明坤", "2020-05-01", "13800000001", ""),
        with("B1", &b, "杜鸣坤", "2020-07-01", "13800000001", ""),
        with("B2", &b, "杜鸣坤", "2020-09-01", "13800000001", ""),
    ];
    for (i, c) in claims.iter_mut().enumerate() {
        c.occupation_code = format!("4-01-02-0{}", i + 1);
    }
    let s = Swept::of(&ledger(claims), &linyi());
    assert_eq!(s.flagged("multi_id"), [["A1", "A2", "B1", "B2"]]);
    // Two claims under each ID number: within the limit per ID number, four for the person.
    assert_eq!(s.flagged("over_cap"), [["B2"]]);
    let zh = s.explanation("over_cap");
    assert!(
        zh.contains(&a) && zh.contains(&b) && zh.contains("同一人使用2个身份证号"),
        "{zh}"
    );
    assert!(s.explanation("multi_id").contains("姓名同音"));
    // One person's two ID numbers on one phone: not a shared contact.
    assert!(s.flagged("shared_contact").is_empty());
}

#[test]
fn the_same_claims_under_two_different_people_stay_within_the_cap() {
    // Same birth date and phone (a family), names that are not spellings of one name.
    let a = id_in("371302", "19850302", 1);
    let b = id_in("371311", "19850302", 2);
    let s = Swept::of(
        &ledger(vec![
            with("A1", &a, "杜明坤", "2020-03-01", "13800000001", ""),
            with("A2", &a, "杜明坤", "2020-05-01", "13800000001", ""),
            with("B1", &b, "杜明芳", "2020-07-01", "13800000001", ""),
            with("B2", &b, "杜明芳", "2020-09-01", "13800000001", ""),
        ]),
        &linyi(),
    );
    assert!(s.flagged("multi_id").is_empty());
    assert!(s.flagged("over_cap").is_empty());
}

#[test]
fn three_id_numbers_of_one_person_on_one_phone_are_multi_id_not_shared_contact() {
    let ids: Vec<String> = (1..=3).map(|k| id_in("371302", "19880808", k)).collect();
    let names = ["王丽", "王莉", "王　丽"];
    let claims = ids
        .iter()
        .zip(names)
        .enumerate()
        .map(|(k, (id, name))| with(&format!("P{k}"), id, name, "2020-04-01", "13900000009", ""))
        .collect();
    let s = Swept::of(&ledger(claims), &linyi());
    assert_eq!(s.flagged("multi_id"), [["P0", "P1", "P2"]]);
    assert!(
        s.flagged("shared_contact").is_empty(),
        "{:?}",
        s.flagged("shared_contact")
    );
    assert!(s.explanation("multi_id").contains("3个身份证号"));
}

#[test]
fn three_different_people_on_one_phone_are_a_shared_contact() {
    let claims = [("Q0", "王丽"), ("Q1", "张伟"), ("Q2", "李娜")]
        .iter()
        .enumerate()
        .map(|(k, (cid, name))| {
            // Even born the same day: different names are different people.
            with(
                cid,
                &id_in("371302", "19880808", k as u32 + 1),
                name,
                "2020-04-01",
                "13900000009",
                "",
            )
        })
        .collect();
    let s = Swept::of(&ledger(claims), &linyi());
    assert!(s.flagged("multi_id").is_empty());
    assert_eq!(s.flagged("shared_contact"), [["Q0", "Q1", "Q2"]]);
    assert!(s.explanation("shared_contact").contains("被3个不同的人"));
}

#[test]
fn a_january_2022_claim_for_november_2021_training_is_judged_by_the_2021_policy() {
    let p = id_in("371302", "19900101", 1);
    let q = id_in("371302", "19900101", 2);
    let mut l = ledger(vec![
        // Trained November 2021, filed January 2022, 1,000.01 yuan at level 5 (cap 1,000).
        ClaimRow {
            class_id: "K2021".into(),
            amount: 100_001,
            ..claim("J1", &p, "2022-01-10")
        },
        // The same, exactly at the cap: no flag.
        ClaimRow {
            class_id: "K2021".into(),
            amount: 100_000,
            ..claim("J2", &q, "2022-01-12")
        },
        // Filed in 2022 with no known class: no policy covers it, and it is listed.
        ClaimRow {
            amount: 100_001,
            ..claim("J3", &q, "2022-01-20")
        },
    ]);
    l.classes = vec![class("K2021", "ORG1", "371302", "2021-11-01", "2021-11-20")];
    let s = Swept::of(&l, &linyi());
    assert_eq!(s.flagged("amount_over_standard"), [["J1"]]);
    assert_eq!(s.result.claims_not_judged, 1);
    let resolved = Resolved::new(&s.snap, &linyi());
    let unjudged: Vec<String> = resolved
        .judging
        .not_judged_claims()
        .iter()
        .map(|&i| s.snap.claim_id(i as usize).to_string())
        .collect();
    assert_eq!(unjudged, ["J3"]);
}

#[test]
fn a_career_course_claim_without_a_certificate_is_cert_mismatch() {
    let p = id_in("371302", "19900101", 1);
    let s = Swept::of(
        &ledger(vec![
            ClaimRow {
                subsidy_type: Some(SubsidyType::CareerCourse),
                occupation_code: String::new(),
                level: None,
                amount: 30_000,
                ..claim("K1", &p, "2020-06-01")
            },
            ClaimRow {
                subsidy_type: Some(SubsidyType::Apprenticeship),
                level: None,
                amount: 400_000,
                ..claim("K2", &p, "2020-07-01")
            },
        ]),
        &linyi(),
    );
    assert_eq!(s.flagged("cert_mismatch"), [["K1"]]);
}

/// The Linyi policy and a successor from 2022 with a yearly limit of 2 and a level-5 cap of
/// 800 yuan, as two files of one rules folder.
fn two_policies(successor_from: &str) -> Result<PolicySet, claimsweep::policy::PolicyError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("linyi-2019.toml"), DEFAULT_POLICY_TOML).unwrap();
    let next = DEFAULT_POLICY_TOML
        .replacen("id = \"linyi-2019-13\"", "id = \"next-2022\"", 1)
        .replacen(
            "effective_from = 2019-01-01",
            &format!("effective_from = {successor_from}"),
            1,
        )
        .replacen("effective_to = 2021-12-31", "effective_to = 2023-12-31", 1)
        .replacen("max = 3\n", "max = 2\n", 1)
        .replacen("level = 5\ncap = 1000", "level = 5\ncap = 800", 1);
    assert!(next.contains("cap = 800") && next.contains("max = 2\n"));
    std::fs::write(dir.path().join("next-2022.toml"), next).unwrap();
    PolicySet::load(dir.path())
}

#[test]
fn two_policy_files_meeting_on_a_date_judge_each_claim_by_its_training() {
    let set = two_policies("2022-01-01").expect("adjacent policies load");
    assert_eq!(set.policies.len(), 2);
    let p = id_in("371302", "19900101", 1);
    let in_class = |cid: &str, class_id: &str, date: &str, occ: &str, amount: i64| ClaimRow {
        class_id: class_id.into(),
        occupation_code: occ.into(),
        amount,
        ..claim(cid, &p, date)
    };
    let mut l = ledger(vec![
        in_class("X1", "K21A", "2022-01-10", "4-01-02-01", 100_000), // old policy, rank 1
        in_class("X2", "K22A", "2022-02-01", "4-01-02-02", 80_000),  // new policy, rank 2
        in_class("X3", "K21B", "2022-02-15", "4-01-02-03", 100_000), // old, rank 3 ≤ 3
        in_class("X4", "K22B", "2022-03-20", "4-01-02-04", 80_001),  // new, rank 4 > 2, over 800
    ]);
    l.classes = vec![
        class("K21A", "ORG1", "371302", "2021-11-01", "2021-11-20"),
        class("K21B", "ORG1", "371302", "2021-12-01", "2021-12-20"),
        class("K22A", "ORG1", "371302", "2022-01-05", "2022-01-25"),
        class("K22B", "ORG1", "371302", "2022-02-10", "2022-03-01"),
    ];
    let s = Swept::of(&l, &set);
    assert_eq!(s.result.claims_not_judged, 0);
    // Ranked across the switch; each claim against the limit of its own policy.
    assert_eq!(s.flagged("over_cap"), [["X4"]]);
    // X1 and X3 (1,000 yuan) are within the 2021 cap, X4 above the 2022 one.
    assert_eq!(s.flagged("amount_over_standard"), [["X4"]]);
}

#[test]
fn two_overlapping_policy_files_are_rejected_with_both_names() {
    let err = two_policies("2021-12-01").unwrap_err().to_string();
    assert!(
        err.contains("linyi-2019.toml") && err.contains("next-2022.toml"),
        "{err}"
    );
}

// ---- through the binary -------------------------------------------------------------------

/// A homophone pair under two ID numbers sharing a phone, and a claim filed in 2022 with no
/// known class (no policy covers it): the sweep summary, `export no-policy`, `export
/// persons`, `cases list` and the report all show them.
#[test]
fn unjudged_claims_and_resolved_persons_are_listed_by_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("ledger");
    std::fs::create_dir(&data).unwrap();
    let a = id_in("371302", "19850302", 1);
    let b = id_in("371311", "19850302", 2);
    let header = "claim_id,id_number,name,phone,bank_account,category,county_code,institution_id,class_id,\
                  subsidy_type,occupation_code,level,cert_no,funding_source,amount,living_days,living_amount,claim_date";
    let row = |cid: &str, who: &str, name: &str, occ: &str, date: &str| {
        format!("{cid},{who},{name},13800000001,,unemployed,371302,ORG1,,no_level_cert,{occ},,,employment_fund,800,0,0,{date}")
    };
    let csv = [
        header.to_string(),
        row("A1", &a, "杜明坤", "4-01-01-01", "2020-01-05"),
        row("A2", &a, "杜明坤", "4-01-01-02", "2020-03-05"),
        row("B1", &b, "杜鸣坤", "4-01-01-03", "2020-05-05"),
        row("B2", &b, "杜鸣坤", "4-01-01-04", "2020-07-05"),
        row("Z1", &b, "杜鸣坤", "4-01-01-05", "2022-02-01"),
    ]
    .join("\n");
    std::fs::write(data.join("claims.csv"), csv + "\n").unwrap();
    let cwd = dir.path();
    claimsweep(cwd, &["ingest", "--db", "a.db", "ledger"]);
    let summary = claimsweep(cwd, &["sweep", "--db", "a.db", "--lang", "en"]);
    assert!(
        summary.contains("claims not judged (no policy in force): 1"),
        "{summary}"
    );
    assert!(
        summary.contains("claim Z1: training 2022-02-01, claimed 2022-02-01"),
        "{summary}"
    );
    assert!(
        summary.contains("persons under several ID numbers: 1 persons, 2 ID numbers"),
        "{summary}"
    );

    claimsweep(
        cwd,
        &[
            "export",
            "no-policy",
            "--db",
            "a.db",
            "--format",
            "csv",
            "-o",
            "np.csv",
        ],
    );
    let np = std::fs::read_to_string(cwd.join("np.csv")).unwrap();
    assert!(np.contains("Z1,2022-02-01,2022-02-01,"), "{np}");
    assert_eq!(np.lines().count(), 2, "{np}");

    claimsweep(
        cwd,
        &[
            "export", "persons", "--db", "a.db", "--format", "json", "-o", "p.json",
        ],
    );
    let links: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cwd.join("p.json")).unwrap()).unwrap();
    assert_eq!(links.as_array().map(Vec::len), Some(1), "{links:#}");
    assert_eq!(links[0]["person"], a.as_str());
    assert_eq!(links[0]["name_match"], "homophone");
    assert_eq!(links[0]["via"], "phone");

    let list = claimsweep(cwd, &["cases", "list", "--db", "a.db", "--unmask"]);
    assert!(
        list.contains("另有 1 条申领未判定") && list.contains("Z1"),
        "{list}"
    );
    // The person's cases are under its smallest ID number, never the other.
    assert!(list.contains(&a) && !list.contains(&b), "{list}");

    // The case explains why 杜明坤 and 杜鸣坤 are one name: pinyin by position, the verdict,
    // beside the shared birth date and phone.
    let cases: serde_json::Value = serde_json::from_str(&claimsweep(
        cwd,
        &["cases", "list", "--db", "a.db", "--format", "json"],
    ))
    .unwrap();
    let multi = cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["rules"].to_string().contains("multi_id"))
        .unwrap_or_else(|| panic!("a multi_id case: {cases:#}"));
    let id = multi["case_id"].to_string();
    let shown = claimsweep(cwd, &["cases", "show", &id, "--db", "a.db", "--unmask"]);
    assert!(shown.contains("姓名比对"), "{shown}");
    assert!(
        shown.contains("出生日期同为 1985-03-02，共用电话 13800000001"),
        "{shown}"
    );
    assert!(shown.contains("明≈鸣(ming)"), "{shown}");
    assert!(shown.contains("逐字同音"), "{shown}");
    let json: serde_json::Value = serde_json::from_str(&claimsweep(
        cwd,
        &["cases", "show", &id, "--db", "a.db", "--json"],
    ))
    .unwrap();
    assert_eq!(
        json["names"][0]["explained"]["verdict"], "homophone",
        "{json:#}"
    );

    claimsweep(
        cwd,
        &[
            "report", "--db", "a.db", "--format", "html", "-o", "r.html", "--unmask",
        ],
    );
    let html = std::fs::read_to_string(cwd.join("r.html")).unwrap();
    assert!(
        html.contains("无政策覆盖的申领") && html.contains("Z1"),
        "no-policy part"
    );
}

/// Resolution and the person rules give the same flags (subjects, claims, explanations with
/// their evidence) whatever the row order and the thread count.
#[test]
fn resolved_persons_do_not_depend_on_row_order_or_threads() {
    let mut claims = Vec::new();
    for k in 0..40u32 {
        let birth = format!("1980{:02}{:02}", 1 + k % 12, 1 + k % 28);
        let a = id_in("371302", &birth, 2 * k + 1);
        let b = id_in("371311", &birth, 2 * k + 2);
        let c = id_in("371312", &birth, 2 * k + 3);
        let phone = format!("1380000{k:04}");
        let bank = format!("62220000{k:08}");
        for (j, (id, name, phone, bank)) in [
            (&a, "杜明坤", phone.as_str(), ""),
            (&b, "杜鸣坤", phone.as_str(), bank.as_str()),
            (&c, "杜　鸣坤", "", bank.as_str()),
            (&a, "杜明坤", "", ""),
        ]
        .into_iter()
        .enumerate()
        {
            let mut row = with(
                &format!("R{k:03}{j}"),
                id,
                name,
                &format!("2020-{:02}-10", 1 + j),
                phone,
                bank,
            );
            row.occupation_code = format!("4-01-02-0{}", j % 2);
            claims.push(row);
        }
    }
    let forward = ledger(claims.clone());
    claims.reverse();
    let backward = ledger(claims);
    let view = |l: &Ledger, threads: usize| {
        let snap = Snapshot::from_ledger(l);
        let policies = linyi();
        let r = run_rules(&snap, &policies, RefData::embedded(), Some(threads));
        r.flags
            .iter()
            .map(|f| {
                let ids: Vec<String> = f
                    .claims
                    .iter()
                    .map(|&i| snap.claim_id(i as usize).to_string())
                    .collect();
                (f.rule, f.subject.clone(), ids, f.explanation_zh.clone())
            })
            .collect::<Vec<_>>()
    };
    let base = view(&forward, 1);
    assert!(
        base.iter().filter(|f| f.0 == "multi_id").count() == 40,
        "{base:#?}"
    );
    assert!(base.iter().any(|f| f.0 == "over_cap"));
    assert_eq!(view(&forward, 4), base);
    assert_eq!(view(&backward, 1), base);
    assert_eq!(view(&backward, 3), base);
}

//! The grouping rules on hand-made ledgers: over_cap (person-year), repeated_level (person,
//! occupation, level) and overlapping_training (person), with boundary cases that must not fire.

mod common;

use claimsweep::model::*;
use claimsweep::rules::{over_cap, overlapping_training, repeated_level};
use common::*;

/// Claims of one person with distinct occupations, so only the yearly cap is in play.
fn yearly(id: &str, dates: &[(&str, &str)]) -> Vec<ClaimRow> {
    dates
        .iter()
        .enumerate()
        .map(|(k, (cid, date))| ClaimRow {
            occupation_code: format!("4-01-02-0{k}"),
            ..claim(cid, id, date)
        })
        .collect()
}

#[test]
fn over_cap_three_claims_in_a_year_pass_and_the_fourth_is_flagged() {
    let a = person(1);
    let exactly_three = ledger(yearly(
        &a,
        &[
            ("C1", "2020-01-05"),
            ("C2", "2020-03-05"),
            ("C3", "2020-12-31"),
        ],
    ));
    assert!(run("over_cap", over_cap::run, &exactly_three)
        .flags
        .is_empty());

    let four = ledger(yearly(
        &a,
        &[
            ("C1", "2020-01-05"),
            ("C2", "2020-03-05"),
            ("C3", "2020-06-01"),
            ("C4", "2020-12-31"),
        ],
    ));
    let r = run("over_cap", over_cap::run, &four);
    assert_eq!(r.flagged(), [["C4"]]);
    let f = &r.flags[0];
    assert_eq!(f.subject_kind.code(), "person_year");
    assert_eq!(f.subject, format!("{a}:2020"));
    assert_eq!(f.amount_at_risk, 100_000);
    assert!(
        f.explanation_zh.contains(&format!("{a} 在2020年第4次申领")),
        "{}",
        f.explanation_zh
    );
    assert!(
        f.explanation_zh.contains("上限3次") && f.explanation_zh.contains("七（三）7"),
        "{}",
        f.explanation_zh
    );
    assert!(
        f.explanation_en
            .starts_with(&format!("4th claim in 2020 by {a}")),
        "{}",
        f.explanation_en
    );
    assert!(f.explanation_en.contains("limit 3"), "{}", f.explanation_en);
}

#[test]
fn over_cap_counts_per_calendar_year_and_ranks_by_date_then_claim_id() {
    let a = person(1);
    // Three in 2020 and one on the first day of 2021: each year is within the cap.
    let split = ledger(yearly(
        &a,
        &[
            ("C1", "2020-02-01"),
            ("C2", "2020-05-01"),
            ("C3", "2020-12-31"),
            ("C4", "2021-01-01"),
        ],
    ));
    assert!(run("over_cap", over_cap::run, &split).flags.is_empty());

    // Five claims, two on the same day: ties go by claim id, so D5 and D9 are 4th and 5th
    // although D0 has the smallest id (it is dated last).
    let five = ledger(yearly(
        &a,
        &[
            ("D9", "2020-06-01"),
            ("D5", "2020-06-01"),
            ("D1", "2020-01-01"),
            ("D2", "2020-02-01"),
            ("D3", "2020-03-01"),
            ("D0", "2020-12-01"),
        ],
    ));
    let r = run("over_cap", over_cap::run, &five);
    assert_eq!(r.flagged(), [vec!["D0", "D5", "D9"]]);
    assert_eq!(r.flags[0].amount_at_risk, 300_000);
    assert!(
        r.flags[0].explanation_zh.contains("第4、5、6次"),
        "{}",
        r.flags[0].explanation_zh
    );

    // Four claims of four different persons: nobody is over the cap.
    let many: Vec<ClaimRow> = (0..4)
        .map(|k| claim(&format!("E{k}"), &person(10 + k), "2020-05-01"))
        .collect();
    assert!(run("over_cap", over_cap::run, &ledger(many))
        .flags
        .is_empty());
}

#[test]
fn over_cap_ignores_claims_outside_the_policy_period() {
    let a = person(1);
    // The Linyi policy runs 2019-01-01..=2021-12-31: four claims in 2022 are not judged.
    let l = ledger(yearly(
        &a,
        &[
            ("C1", "2022-01-05"),
            ("C2", "2022-03-05"),
            ("C3", "2022-06-01"),
            ("C4", "2022-12-31"),
        ],
    ));
    assert!(run("over_cap", over_cap::run, &l).flags.is_empty());
    // A claim on the day before the policy starts is not judged: three judged 2019 claims.
    let l = ledger(yearly(
        &a,
        &[
            ("C1", "2018-12-31"),
            ("C2", "2019-01-01"),
            ("C3", "2019-06-01"),
            ("C4", "2019-12-31"),
        ],
    ));
    assert!(run("over_cap", over_cap::run, &l).flags.is_empty());
    // The same four claims all dated in 2019 are over the cap.
    let l = ledger(yearly(
        &a,
        &[
            ("C1", "2019-01-01"),
            ("C2", "2019-01-01"),
            ("C3", "2019-06-01"),
            ("C4", "2019-12-31"),
        ],
    ));
    assert_eq!(run("over_cap", over_cap::run, &l).flagged(), [["C4"]]);
}

#[test]
fn over_cap_flags_are_ordered_by_first_claim() {
    let (a, b) = (person(1), person(2));
    let mut rows = yearly(
        &b,
        &[
            ("B1", "2020-01-01"),
            ("B2", "2020-01-02"),
            ("B3", "2020-01-03"),
            ("A0", "2020-01-04"),
        ],
    );
    rows.extend(yearly(
        &a,
        &[
            ("A1", "2020-01-01"),
            ("A2", "2020-01-02"),
            ("A3", "2020-01-03"),
            ("B9", "2020-01-04"),
        ],
    ));
    let r = run("over_cap", over_cap::run, &ledger(rows));
    // "A0" (person b's 4th) sorts before "B9" (person a's 4th).
    assert_eq!(r.flagged(), [["A0"], ["B9"]]);
    assert_eq!(r.flags[0].subject, format!("{b}:2020"));
}

fn level_claim(
    cid: &str,
    id: &str,
    date: &str,
    occupation: &str,
    level: Option<u8>,
    fund: FundingSource,
) -> ClaimRow {
    ClaimRow {
        occupation_code: occupation.into(),
        level,
        funding_source: Some(fund),
        ..claim(cid, id, date)
    }
}

#[test]
fn repeated_level_same_occupation_and_level_across_funds_is_flagged() {
    let a = person(1);
    let l = ledger(vec![
        level_claim(
            "C2",
            &a,
            "2020-06-01",
            "4-01-02-01",
            Some(4),
            FundingSource::UnemploymentInsurance,
        ),
        level_claim(
            "C1",
            &a,
            "2020-03-01",
            "4-01-02-01",
            Some(4),
            FundingSource::EmploymentFund,
        ),
    ]);
    let r = run("repeated_level", repeated_level::run, &l);
    assert_eq!(r.flagged(), [["C2"]]);
    let f = &r.flags[0];
    assert_eq!(
        (f.subject_kind.code(), f.subject.as_str()),
        ("person", a.as_str())
    );
    assert_eq!(f.amount_at_risk, 100_000);
    assert!(
        f.explanation_zh.contains("4-01-02-01") && f.explanation_zh.contains("中级（4级）"),
        "{}",
        f.explanation_zh
    );
    assert!(
        f.explanation_zh
            .contains("首次C1（2020-03-01，就业补助资金"),
        "{}",
        f.explanation_zh
    );
    assert!(
        f.explanation_zh.contains("失业保险基金"),
        "{}",
        f.explanation_zh
    );
    assert!(
        f.explanation_en.contains("level 4") && f.explanation_en.contains("unemployment_insurance"),
        "{}",
        f.explanation_en
    );
}

#[test]
fn repeated_level_other_level_other_occupation_or_no_level_do_not_fire() {
    let a = person(1);
    let l = ledger(vec![
        level_claim(
            "C1",
            &a,
            "2020-03-01",
            "4-01-02-01",
            Some(5),
            FundingSource::EmploymentFund,
        ),
        level_claim(
            "C2",
            &a,
            "2020-06-01",
            "4-01-02-01",
            Some(4),
            FundingSource::EmploymentFund,
        ),
        level_claim(
            "C3",
            &a,
            "2020-07-01",
            "4-01-02-02",
            Some(4),
            FundingSource::EmploymentFund,
        ),
        level_claim(
            "C4",
            &a,
            "2020-08-01",
            "4-01-02-03",
            None,
            FundingSource::EmploymentFund,
        ),
        level_claim(
            "C5",
            &a,
            "2020-09-01",
            "4-01-02-03",
            None,
            FundingSource::EmploymentFund,
        ),
        level_claim(
            "C6",
            &a,
            "2020-09-01",
            "",
            Some(3),
            FundingSource::EmploymentFund,
        ),
        level_claim(
            "C7",
            &a,
            "2020-10-01",
            "",
            Some(3),
            FundingSource::EmploymentFund,
        ),
        // Another person at the same occupation and level.
        level_claim(
            "C8",
            &person(2),
            "2020-10-01",
            "4-01-02-01",
            Some(5),
            FundingSource::EmploymentFund,
        ),
    ]);
    assert!(run("repeated_level", repeated_level::run, &l)
        .flags
        .is_empty());
}

#[test]
fn repeated_level_flags_every_claim_after_the_first_once_per_group() {
    let a = person(1);
    let l = ledger(vec![
        level_claim(
            "C1",
            &a,
            "2019-03-01",
            "4-01-02-01",
            Some(5),
            FundingSource::EmploymentFund,
        ),
        level_claim(
            "C2",
            &a,
            "2020-03-01",
            "4-01-02-01",
            Some(5),
            FundingSource::EmploymentFund,
        ),
        level_claim(
            "C3",
            &a,
            "2021-03-01",
            "4-01-02-01",
            Some(5),
            FundingSource::SpecialFund,
        ),
        level_claim(
            "C4",
            &a,
            "2021-04-01",
            "6-01-01-01",
            Some(3),
            FundingSource::EmploymentFund,
        ),
        level_claim(
            "C5",
            &a,
            "2021-05-01",
            "6-01-01-01",
            Some(3),
            FundingSource::EmploymentFund,
        ),
    ]);
    let r = run("repeated_level", repeated_level::run, &l);
    assert_eq!(r.flagged(), [vec!["C2", "C3"], vec!["C5"]]);
    assert_eq!(r.flags[0].amount_at_risk, 200_000);
    // Outside the policy period nothing is judged.
    let l = ledger(vec![
        level_claim(
            "C1",
            &a,
            "2022-03-01",
            "4-01-02-01",
            Some(5),
            FundingSource::EmploymentFund,
        ),
        level_claim(
            "C2",
            &a,
            "2022-06-01",
            "4-01-02-01",
            Some(5),
            FundingSource::EmploymentFund,
        ),
    ]);
    assert!(run("repeated_level", repeated_level::run, &l)
        .flags
        .is_empty());
}

fn class_claim(cid: &str, id: &str, class_id: &str) -> ClaimRow {
    ClaimRow {
        class_id: class_id.into(),
        ..claim(cid, id, "2020-06-30")
    }
}

#[test]
fn overlapping_training_at_two_institutions_is_flagged() {
    let a = person(1);
    let mut l = ledger(vec![
        class_claim("C1", &a, "K1"),
        class_claim("C2", &a, "K2"),
    ]);
    l.classes = vec![
        class("K1", "ORG1", "371302", "2020-03-01", "2020-03-20"),
        class("K2", "ORG2", "371302", "2020-03-10", "2020-03-30"),
    ];
    let r = run("overlapping_training", overlapping_training::run, &l);
    assert_eq!(r.flagged(), [["C1", "C2"]]);
    let f = &r.flags[0];
    assert_eq!(
        (f.subject_kind.code(), f.subject.as_str()),
        ("person", a.as_str())
    );
    assert_eq!(f.amount_at_risk, 200_000);
    assert!(
        f.explanation_zh.contains("2020-03-01至2020-03-20") && f.explanation_zh.contains("ORG2"),
        "{}",
        f.explanation_zh
    );
    assert!(
        f.explanation_en.contains("2020-03-10 to 2020-03-30"),
        "{}",
        f.explanation_en
    );
}

#[test]
fn overlapping_training_back_to_back_classes_overlap_on_the_shared_day() {
    let a = person(1);
    let mut l = ledger(vec![
        class_claim("C1", &a, "K1"),
        class_claim("C2", &a, "K2"),
    ]);
    // Same institution, another county: still two places at once.
    l.classes = vec![
        class("K1", "ORG1", "371302", "2020-03-01", "2020-03-20"),
        class("K2", "ORG1", "371311", "2020-03-20", "2020-04-10"),
    ];
    assert_eq!(
        run("overlapping_training", overlapping_training::run, &l).flagged(),
        [["C1", "C2"]]
    );
}

#[test]
fn overlapping_training_same_place_disjoint_or_unknown_class_do_not_fire() {
    let a = person(1);
    let mut l = ledger(vec![
        class_claim("C1", &a, "K1"),
        class_claim("C2", &a, "K2"),
        class_claim("C3", &a, "K3"),
        class_claim("C4", &a, "K-UNKNOWN"),
        class_claim("C5", &person(2), "K4"),
    ]);
    l.classes = vec![
        class("K1", "ORG1", "371302", "2020-03-01", "2020-03-20"),
        // Same institution and county, overlapping: one place.
        class("K2", "ORG1", "371302", "2020-03-05", "2020-03-25"),
        // Other institution, starting the day after K2 ends.
        class("K3", "ORG2", "371311", "2020-03-26", "2020-04-10"),
        // Another person's class, overlapping K1 elsewhere.
        class("K4", "ORG3", "371312", "2020-03-01", "2020-03-20"),
    ];
    assert!(run("overlapping_training", overlapping_training::run, &l)
        .flags
        .is_empty());
}

#[test]
fn overlapping_training_flags_only_the_claims_in_pairs_and_judges_a_late_claim_by_its_training() {
    let a = person(1);
    let mut l = ledger(vec![
        class_claim("C1", &a, "K1"),
        class_claim("C2", &a, "K2"),
        class_claim("C3", &a, "K3"),
        class_claim("C4", &a, "K4"),
        ClaimRow {
            class_id: "K5".into(),
            ..claim("C5", &a, "2022-06-30")
        },
    ]);
    l.classes = vec![
        class("K1", "ORG1", "371302", "2020-01-01", "2020-12-31"),
        class("K2", "ORG2", "371302", "2020-02-01", "2020-02-10"),
        class("K3", "ORG3", "371302", "2020-11-01", "2020-11-10"),
        // Same institution and county as K1: overlaps only K1, in the same place.
        class("K4", "ORG1", "371302", "2020-05-01", "2020-05-10"),
        // C5 is filed after the policy ended, for training inside it (judged by it): its
        // class overlaps K1 at another institution.
        class("K5", "ORG9", "371302", "2020-06-01", "2020-06-10"),
    ];
    let r = run("overlapping_training", overlapping_training::run, &l);
    assert_eq!(r.flagged(), [vec!["C1", "C2", "C3", "C5"]]);
}

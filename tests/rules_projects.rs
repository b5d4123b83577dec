//! The project rules on hand-made ledgers: prepay_excess (prepayment share) and
//! employment_rate (verified employment rate of classes paid in full).

mod common;

use claimsweep::model::*;
use claimsweep::rules::{employment_rate, prepay_excess};
use common::*;

/// A project-based class `class_id` with `trainees` claims of distinct persons (seq base
/// `base`), of which the first `employed` hold a spell covering the check date 2020-06-30.
fn project_class(
    l: &mut Ledger,
    class_id: &str,
    base: u32,
    trainees: u32,
    employed: u32,
    project: ProjectRow,
) {
    l.classes.push(ClassRow {
        project_based: true,
        ..class(class_id, "ORG1", "371302", "2020-03-01", "2020-04-30")
    });
    for k in 0..trainees {
        let id = person(base + k);
        l.claims.push(ClaimRow {
            class_id: class_id.into(),
            ..claim(&format!("{class_id}-{k:03}"), &id, "2020-05-15")
        });
        if k < employed {
            // Alternate closed and open-ended spells; both cover the check date.
            let end = if k % 2 == 0 {
                Some(d("2020-06-30"))
            } else {
                None
            };
            l.employment.push(EmploymentRow {
                id_number: id,
                employer_id: format!("EMP{k}"),
                start_date: d("2020-05-20"),
                end_date: end,
            });
        }
    }
    l.projects.push(ProjectRow {
        class_id: class_id.into(),
        trainees: trainees as i32,
        ..project
    });
}

fn money(total: Fen, prepaid: Fen, paid: Fen) -> ProjectRow {
    ProjectRow {
        total_amount: total,
        prepaid_amount: prepaid,
        paid_amount: paid,
        check_date: Some(d("2020-06-30")),
        ..Default::default()
    }
}

#[test]
fn prepay_exactly_sixty_percent_passes_and_one_fen_more_is_flagged() {
    let mut l = ledger(vec![]);
    project_class(&mut l, "P1", 100, 3, 3, money(1_000_000, 600_000, 600_000));
    project_class(&mut l, "P2", 200, 3, 3, money(1_000_000, 600_001, 600_001));
    // A project without claims yields no flag.
    l.projects.push(ProjectRow {
        class_id: "P3".into(),
        ..money(1_000_000, 900_000, 900_000)
    });
    let r = run("prepay_excess", prepay_excess::run, &l);
    assert_eq!(r.flagged(), [["P2-000", "P2-001", "P2-002"]]);
    let f = &r.flags[0];
    assert_eq!(
        (f.subject_kind.code(), f.subject.as_str(), f.amount_at_risk),
        ("project", "P2", 300_000)
    );
    assert!(
        f.explanation_zh.contains("预拨6000.01元") && f.explanation_zh.contains("超过60%"),
        "{}",
        f.explanation_zh
    );
    assert!(
        f.explanation_zh.contains("项目总额10000.00元") && f.explanation_zh.contains("不超过60%"),
        "{}",
        f.explanation_zh
    );
    assert!(
        f.explanation_en.contains("prepaid 6000.01 yuan") && f.explanation_en.contains("above 60%"),
        "{}",
        f.explanation_en
    );
}

#[test]
fn prepay_is_judged_by_the_policy_at_the_class_start() {
    let mut l = ledger(vec![]);
    // Checked after the policy ended, for a class that started inside it: judged.
    project_class(
        &mut l,
        "P1",
        100,
        2,
        2,
        ProjectRow {
            check_date: Some(d("2022-03-01")),
            ..money(1_000_000, 900_000, 900_000)
        },
    );
    assert_eq!(run("prepay_excess", prepay_excess::run, &l).flags.len(), 1);
    // A class that started after the policy ended: no policy judges its project.
    l.classes[0].start_date = d("2022-01-05");
    l.classes[0].end_date = d("2022-02-05");
    assert!(run("prepay_excess", prepay_excess::run, &l)
        .flags
        .is_empty());
}

#[test]
fn employment_rate_exactly_85_percent_passes_and_below_is_flagged() {
    let mut l = ledger(vec![]);
    // 17 of 20 employed = 85 %: paid in full rightly.
    project_class(
        &mut l,
        "P1",
        100,
        20,
        17,
        money(2_000_000, 1_200_000, 2_000_000),
    );
    // 16 of 20 = 80 %: paid in full wrongly.
    project_class(
        &mut l,
        "P2",
        200,
        20,
        16,
        money(2_000_000, 1_200_000, 2_000_000),
    );
    // 0 of 5 employed but paid only the prepayment share: nothing to recover yet.
    project_class(&mut l, "P3", 300, 5, 0, money(500_000, 300_000, 300_000));
    let r = run("employment_rate", employment_rate::run, &l);
    assert_eq!(r.flags.len(), 1);
    let f = &r.flags[0];
    assert_eq!(
        (f.subject_kind.code(), f.subject.as_str()),
        ("project", "P2")
    );
    assert_eq!(f.claims.len(), 20);
    assert_eq!(f.amount_at_risk, 20 * 100_000);
    assert!(
        f.explanation_zh.contains("16/20人") && f.explanation_zh.contains("就业率80.00%"),
        "{}",
        f.explanation_zh
    );
    assert!(
        f.explanation_zh.contains("低于85%") && f.explanation_zh.contains("已拨20000.00元"),
        "{}",
        f.explanation_zh
    );
    assert!(
        f.explanation_en.contains("only 16 of 20") && f.explanation_en.contains("below 85%"),
        "{}",
        f.explanation_en
    );
}

#[test]
fn employment_rate_counts_distinct_trainees_and_spells_covering_the_check_date() {
    let mut l = ledger(vec![]);
    // 6 trainees, 5 employed = 83.3 %, but the unemployed one holds a spell that ended the
    // day before the check date and another that starts the day after: still 5 of 6.
    project_class(&mut l, "P1", 100, 6, 5, money(600_000, 360_000, 600_000));
    let idle = person(105);
    l.employment.push(EmploymentRow {
        id_number: idle.clone(),
        employer_id: "E".into(),
        start_date: d("2020-01-01"),
        end_date: Some(d("2020-06-29")),
    });
    l.employment.push(EmploymentRow {
        id_number: idle.clone(),
        employer_id: "E".into(),
        start_date: d("2020-07-01"),
        end_date: None,
    });
    let r = run("employment_rate", employment_rate::run, &l);
    assert_eq!(r.flags.len(), 1);
    assert!(
        r.flags[0].explanation_zh.contains("5/6人"),
        "{}",
        r.flags[0].explanation_zh
    );

    // A second claim of an employed trainee does not make a second trainee: 5 of 6 → with a
    // spell on the check date for the idle one, 6 of 6.
    l.employment.push(EmploymentRow {
        id_number: idle,
        employer_id: "E".into(),
        start_date: d("2020-06-30"),
        end_date: Some(d("2020-06-30")),
    });
    l.claims.push(ClaimRow {
        class_id: "P1".into(),
        ..claim("P1-999", &person(100), "2020-05-16")
    });
    assert!(run("employment_rate", employment_rate::run, &l)
        .flags
        .is_empty());
}

#[test]
fn employment_rate_without_check_date_counts_nobody_employed() {
    let mut l = ledger(vec![]);
    project_class(
        &mut l,
        "P1",
        100,
        4,
        4,
        ProjectRow {
            check_date: None,
            ..money(400_000, 240_000, 400_000)
        },
    );
    let r = run("employment_rate", employment_rate::run, &l);
    assert_eq!(r.flags.len(), 1);
    assert!(
        r.flags[0].explanation_zh.contains("未填就业核验日期")
            && r.flags[0].explanation_zh.contains("0/4人")
    );
    // Without the employment table the rule cannot judge.
    l.present.retain(|t| *t != "employment");
    assert!(run("employment_rate", employment_rate::run, &l)
        .flags
        .is_empty());
}

//! The per-claim rules on hand-made ledgers: amounts, living allowance, skill-upgrade
//! eligibility, ID validity, registers (death, pension), age, certificates and staff — each with
//! cases that must fire and boundary cases that must not.

mod common;

use claimsweep::model::*;
use claimsweep::rules::*;
use common::*;

#[test]
fn amount_over_standard_fires_one_fen_above_the_cap_only() {
    let a = person(1);
    let at = |cid: &str, t: SubsidyType, level: Option<u8>, amount: Fen| ClaimRow {
        subsidy_type: Some(t),
        level,
        amount,
        ..claim(cid, &a, "2020-05-01")
    };
    let l = ledger(vec![
        at("C1", SubsidyType::LevelCert, Some(5), 100_000),
        at("C2", SubsidyType::LevelCert, Some(5), 100_001),
        at("C3", SubsidyType::LevelCert, Some(3), 140_000),
        at("C4", SubsidyType::LevelCert, Some(3), 140_001),
        // No cap for apprenticeship (a floor) nor for a level-1 certificate in this notice.
        at("C5", SubsidyType::Apprenticeship, None, 999_999),
        at("C6", SubsidyType::LevelCert, Some(1), 999_999),
        // A type capped without level applies to any level.
        at("C7", SubsidyType::NoLevelCert, None, 100_001),
        at("C8", SubsidyType::SpecialAbility, Some(5), 50_001),
        at("C9", SubsidyType::GoldenBlueCollar, Some(1), 500_000),
        // Outside the policy period: not judged.
        ClaimRow {
            amount: 900_000,
            ..claim("D1", &a, "2018-12-31")
        },
    ]);
    let r = run("amount_over_standard", amount_over_standard::run, &l);
    assert_eq!(r.all_claims(), ["C2", "C4", "C7", "C8"]);
    let f = r.flag_of("C2");
    assert_eq!(
        (f.subject_kind.code(), f.subject.as_str(), f.amount_at_risk),
        ("claim", "C2", 100_001)
    );
    assert!(
        f.explanation_zh.contains("1000.01元") && f.explanation_zh.contains("标准1000.00元"),
        "{}",
        f.explanation_zh
    );
    assert!(
        f.explanation_zh.contains("超出0.01元") && f.explanation_zh.contains("初级（5级）"),
        "{}",
        f.explanation_zh
    );
    assert!(
        f.explanation_zh.contains("1000元/人"),
        "quotes the clause: {}",
        f.explanation_zh
    );
    assert!(
        f.explanation_en.contains("1000.01 yuan")
            && f.explanation_en.contains("standard of 1000.00 yuan"),
        "{}",
        f.explanation_en
    );
    assert!(
        r.flag_of("C8").explanation_zh.contains("500.00元"),
        "{}",
        r.flag_of("C8").explanation_zh
    );
}

fn living(cid: &str, category: Option<Category>, days: i32, amount: Fen) -> ClaimRow {
    ClaimRow {
        category,
        living_days: days,
        living_amount: amount,
        ..claim(cid, &person(1), "2020-05-01")
    }
}

#[test]
fn living_allowance_at_the_limits_passes_and_beyond_them_is_flagged() {
    let poor = Some(Category::Poor);
    let mut l = ledger(vec![
        // 30 days exactly at the line of 700 yuan a month (23.333… yuan a day).
        living("C1", poor, 30, 70_000),
        // One fen above the line.
        living("C2", poor, 30, 70_001),
        // 31 days, paid within the daily line.
        living("C3", poor, 31, 72_333),
        // A category that is not eligible, and an empty category.
        living("C4", Some(Category::Employee), 10, 10_000),
        living("C5", None, 10, 10_000),
        // Eligible hardship and zero-employment family categories, within the line.
        living("C6", Some(Category::Hardship), 15, 35_000),
        living("C7", Some(Category::ZeroEmploymentFamily), 1, 2_333),
        // No allowance at all: not in this rule, whatever the category.
        living("C8", Some(Category::Employee), 0, 0),
        // Another county without a line: only days and category are judged.
        ClaimRow {
            county_code: "371311".into(),
            ..living("C9", poor, 30, 900_000)
        },
    ]);
    l.living_standards = vec![LivingStandardRow {
        county_code: "371302".into(),
        year: 2020,
        monthly_amount: 70_000,
    }];
    let r = run("living_allowance_excess", living_allowance_excess::run, &l);
    assert_eq!(r.all_claims(), ["C2", "C3", "C4", "C5"]);

    let f = r.flag_of("C2");
    assert_eq!(
        f.amount_at_risk, 70_001,
        "the living allowance is at risk, not the training subsidy"
    );
    assert!(
        f.explanation_zh.contains("700.00元") && f.explanation_zh.contains("23.33元"),
        "{}",
        f.explanation_zh
    );
    assert!(
        f.explanation_en.contains("700.01 yuan for 30 days"),
        "{}",
        f.explanation_en
    );
    let f = r.flag_of("C3");
    assert!(
        f.explanation_zh.contains("31天") && f.explanation_zh.contains("最长30天"),
        "{}",
        f.explanation_zh
    );
    assert!(
        !f.explanation_zh.contains("低保标准"),
        "C3 is within the daily line: {}",
        f.explanation_zh
    );
    let f = r.flag_of("C4");
    assert!(
        f.explanation_zh.contains("企业职工") && f.explanation_zh.contains("贫困劳动力"),
        "{}",
        f.explanation_zh
    );
    assert!(
        f.explanation_en
            .contains("category employee is not eligible"),
        "{}",
        f.explanation_en
    );
}

#[test]
fn living_allowance_names_every_reason_in_one_flag() {
    let mut l = ledger(vec![living("C1", Some(Category::Student), 40, 200_000)]);
    l.living_standards = vec![LivingStandardRow {
        county_code: "371302".into(),
        year: 2020,
        monthly_amount: 70_000,
    }];
    let r = run("living_allowance_excess", living_allowance_excess::run, &l);
    assert_eq!(r.flags.len(), 1);
    let zh = &r.flags[0].explanation_zh;
    assert!(
        zh.contains("40天") && zh.contains("低保标准") && zh.contains("在校学生"),
        "{zh}"
    );
}

fn ui(id: &str, months: i32, as_of: Option<&str>) -> UiRow {
    UiRow {
        id_number: id.into(),
        months_paid: months,
        as_of: as_of.map(d),
    }
}

#[test]
fn skill_upgrade_needs_twelve_months_of_contributions() {
    let (a, b, c, e) = (person(1), person(2), person(3), person(4));
    let su = |cid: &str, id: &str| ClaimRow {
        subsidy_type: Some(SubsidyType::SkillUpgrade),
        ..claim(cid, id, "2020-05-01")
    };
    let mut l = ledger(vec![
        su("C1", &a),
        su("C2", &b),
        su("C3", &c),
        su("C4", &e),
        // Not a skill-upgrade claim: never judged here.
        claim("C5", &c, "2020-05-01"),
    ]);
    l.registry_ui = vec![
        ui(&a, 12, Some("2020-04-30")),
        ui(&b, 11, Some("2020-05-01")),
        // 12 months only after the claim date: 11 months count.
        ui(&e, 11, Some("2020-01-01")),
        ui(&e, 12, Some("2020-05-02")),
    ];
    let r = run(
        "skill_upgrade_ineligible",
        skill_upgrade_ineligible::run,
        &l,
    );
    assert_eq!(r.all_claims(), ["C2", "C3", "C4"]);
    let f = r.flag_of("C2");
    assert!(
        f.explanation_zh.contains("11个月") && f.explanation_zh.contains("不足12个月"),
        "{}",
        f.explanation_zh
    );
    assert!(
        f.explanation_en.contains("11 months") && f.explanation_en.contains("fewer than 12"),
        "{}",
        f.explanation_en
    );
    assert!(
        r.flag_of("C3").explanation_zh.contains("按0个月计"),
        "{}",
        r.flag_of("C3").explanation_zh
    );

    // An undated row counts; without the registry table the rule cannot judge.
    let mut l = ledger(vec![su("C1", &a)]);
    l.registry_ui = vec![ui(&a, 12, None)];
    assert!(run(
        "skill_upgrade_ineligible",
        skill_upgrade_ineligible::run,
        &l
    )
    .flags
    .is_empty());
    let mut l = ledger(vec![su("C1", &a)]);
    l.present.retain(|t| *t != "registry_ui");
    assert!(run(
        "skill_upgrade_ineligible",
        skill_upgrade_ineligible::run,
        &l
    )
    .flags
    .is_empty());
}

#[test]
fn invalid_id_finds_check_digit_birth_date_and_area_problems() {
    let good = person(1);
    let mut bad_check = good.clone();
    let last = bad_check.pop().unwrap();
    bad_check.push(if last == '0' { '1' } else { '0' });
    let feb30 = id_in("371302", "19900230", 1);
    let unknown_area = id_in("999999", "19900101", 1);
    let retired_area = id_in("372801", "19800101", 1);
    let born_later = id_in("371302", "20210101", 1);
    let l = ledger(vec![
        claim("C1", &good, "2020-05-01"),
        claim("C2", &bad_check, "2020-05-01"),
        claim("C3", &feb30, "2020-05-01"),
        claim("C4", &unknown_area, "2020-05-01"),
        claim("C5", &retired_area, "2020-05-01"),
        claim("C6", &born_later, "2020-05-01"),
        claim("C7", "37130219900101", "2020-05-01"),
        claim("C8", "", "2020-05-01"),
        // Bad, but dated outside the policy period.
        claim("C9", &bad_check, "2022-05-01"),
    ]);
    let r = run("invalid_id", invalid_id::run, &l);
    assert_eq!(r.all_claims(), ["C2", "C3", "C4", "C6", "C7", "C8"]);
    let zh = &r.flag_of("C2").explanation_zh;
    assert!(
        zh.contains(&bad_check) && zh.contains("校验码错误") && zh.contains(&format!("应为{last}")),
        "{zh}"
    );
    assert!(
        r.flag_of("C3").explanation_zh.contains("出生日期不存在"),
        "{}",
        r.flag_of("C3").explanation_zh
    );
    assert!(
        r.flag_of("C4").explanation_zh.contains("999999"),
        "{}",
        r.flag_of("C4").explanation_zh
    );
    assert!(
        r.flag_of("C4").explanation_en.contains("area code 999999"),
        "{}",
        r.flag_of("C4").explanation_en
    );
    let zh = &r.flag_of("C6").explanation_zh;
    assert!(
        zh.contains("2021-01-01") && zh.contains("晚于申领日期2020-05-01"),
        "{zh}"
    );
    assert!(
        r.flag_of("C7").explanation_zh.contains("不是18位"),
        "{}",
        r.flag_of("C7").explanation_zh
    );
}

#[test]
fn deceased_fires_from_the_day_after_death() {
    let (a, b) = (person(1), person(2));
    let mut l = ledger(vec![
        claim("C1", &a, "2020-05-01"),
        claim("C2", &a, "2020-05-02"),
        claim("C3", &b, "2021-01-01"),
    ]);
    l.registry_death = vec![DeathRow {
        id_number: a.clone(),
        death_date: d("2020-05-01"),
    }];
    let r = run("deceased", deceased::run, &l);
    assert_eq!(r.all_claims(), ["C2"]);
    let f = &r.flags[0];
    assert_eq!((f.subject.as_str(), f.amount_at_risk), ("C2", 100_000));
    assert!(
        f.explanation_zh.contains("2020-05-01") && f.explanation_zh.contains("死亡后1天"),
        "{}",
        f.explanation_zh
    );
    assert!(
        f.explanation_en.contains("on 2020-05-02, 1 day later"),
        "{}",
        f.explanation_en
    );
}

#[test]
fn pensioner_fires_on_and_after_the_pension_start() {
    let (a, b) = (person(1), person(2));
    let mut l = ledger(vec![
        claim("C1", &a, "2020-05-01"),
        claim("C2", &b, "2020-05-01"),
    ]);
    l.registry_pension = vec![
        PensionRow {
            id_number: a.clone(),
            start_date: d("2020-05-01"),
        },
        // Pension starts the day after the claim.
        PensionRow {
            id_number: b.clone(),
            start_date: d("2020-05-02"),
        },
    ];
    let r = run("pensioner", pensioner::run, &l);
    assert_eq!(r.all_claims(), ["C1"]);
    assert!(
        r.flags[0]
            .explanation_zh
            .contains("自2020-05-01起按月领取养老金"),
        "{}",
        r.flags[0].explanation_zh
    );
}

#[test]
fn age_out_of_range_keeps_exactly_sixteen_and_exactly_sixty() {
    let young = id_in("371302", "20040501", 1);
    let old = id_in("371302", "19590501", 1);
    let l = ledger(vec![
        claim("C1", &young, "2020-05-01"), // exactly 16
        claim("C2", &young, "2020-04-30"), // 15
        claim("C3", &old, "2019-05-01"),   // exactly 60
        claim("C4", &old, "2020-04-30"),   // still 60
        claim("C5", &old, "2020-05-01"),   // 61
        claim("C6", &id_in("371302", "19900230", 1), "2020-05-01"), // no birth date: not judged
        claim("C7", &young, "2018-01-01"), // 13, but outside the policy period
    ]);
    let r = run("age_out_of_range", age_out_of_range::run, &l);
    assert_eq!(r.all_claims(), ["C2", "C5"]);
    let zh = &r.flag_of("C2").explanation_zh;
    assert!(
        zh.contains("年满15周岁") && zh.contains("低于最低年龄16周岁"),
        "{zh}"
    );
    let en = &r.flag_of("C5").explanation_en;
    assert!(
        en.contains("was 61") && en.contains("above the maximum age of 60"),
        "{en}"
    );
}

fn cert(no: &str, id: &str, occupation: &str, level: Option<u8>, issued: &str) -> CertificateRow {
    CertificateRow {
        cert_no: no.into(),
        id_number: id.into(),
        occupation_code: occupation.into(),
        level,
        issue_date: Some(d(issued)),
        ..Default::default()
    }
}

#[test]
fn cert_mismatch_names_each_reason_and_passes_a_matching_certificate() {
    let (a, b) = (person(1), person(2));
    let with = |cid: &str, no: &str| ClaimRow {
        cert_no: no.into(),
        class_id: "K1".into(),
        ..claim(cid, &a, "2020-05-01")
    };
    let mut l = ledger(vec![
        with("C1", "Z1"),   // matching
        with("C2", ""),     // no certificate number
        with("C3", "Z404"), // not in the register
        with("C4", "Z2"),   // another person's
        with("C5", "Z3"),   // other occupation
        with("C6", "Z4"),   // other level
        with("C7", "Z5"),   // issued before the class started
        with("C8", "Z6"),   // issued on the class's first day: fine
        // A career course is paid on its 培训合格证书 too (七（三）7): none is a mismatch.
        ClaimRow {
            subsidy_type: Some(SubsidyType::CareerCourse),
            occupation_code: String::new(),
            level: None,
            ..with("C9", "")
        },
        // An entrepreneurship class with its 创业培训合格证书: fine.
        ClaimRow {
            subsidy_type: Some(SubsidyType::Entrepreneurship),
            occupation_code: String::new(),
            level: None,
            ..with("CA", "Z7")
        },
        // Apprenticeship is paid per year of the contract, on no certificate.
        ClaimRow {
            subsidy_type: Some(SubsidyType::Apprenticeship),
            level: None,
            ..with("CB", "")
        },
    ]);
    l.classes = vec![class("K1", "ORG1", "371302", "2020-03-01", "2020-03-20")];
    l.certificates = vec![
        cert("Z1", &a, "4-01-02-01", Some(5), "2020-03-25"),
        cert("Z2", &b, "4-01-02-01", Some(5), "2020-03-25"),
        cert("Z3", &a, "6-01-01-01", Some(5), "2020-03-25"),
        cert("Z4", &a, "4-01-02-01", Some(4), "2020-03-25"),
        cert("Z5", &a, "4-01-02-01", Some(5), "2020-02-29"),
        cert("Z6", &a, "4-01-02-01", Some(5), "2020-03-01"),
        cert("Z7", &a, "", None, "2020-03-25"),
    ];
    let r = run("cert_mismatch", cert_mismatch::run, &l);
    assert_eq!(r.all_claims(), ["C2", "C3", "C4", "C5", "C6", "C7", "C9"]);
    assert!(r.flag_of("C9").explanation_zh.contains("未填证书编号"));
    assert!(r.flag_of("C2").explanation_zh.contains("未填证书编号"));
    assert!(r.flag_of("C3").explanation_zh.contains("Z404不在证书库中"));
    assert!(
        r.flag_of("C4")
            .explanation_zh
            .contains(&format!("属于他人（{b}）")),
        "{}",
        r.flag_of("C4").explanation_zh
    );
    assert!(r.flag_of("C5").explanation_zh.contains("6-01-01-01"));
    assert!(r.flag_of("C6").explanation_zh.contains("中级（4级）"));
    let zh = &r.flag_of("C7").explanation_zh;
    assert!(
        zh.contains("发证日期2020-02-29早于培训班K1开班日期2020-03-01"),
        "{zh}"
    );
    assert!(r
        .flag_of("C7")
        .explanation_en
        .contains("before class K1 started on 2020-03-01"));

    // Several reasons in one flag.
    let mut l2 = ledger(vec![with("C1", "Z9")]);
    l2.certificates = vec![cert("Z9", &b, "6-01-01-01", Some(3), "2020-03-25")];
    let r = run("cert_mismatch", cert_mismatch::run, &l2);
    assert_eq!(r.flags.len(), 1);
    let zh = &r.flags[0].explanation_zh;
    assert!(
        zh.contains("属于他人") && zh.contains("6-01-01-01") && zh.contains("高级（3级）"),
        "{zh}"
    );
}

#[test]
fn staff_trainee_flags_own_staff_and_legal_representative_only() {
    let (staff, rep, other) = (person(1), person(2), person(3));
    let at = |cid: &str, id: &str, org: &str| ClaimRow {
        institution_id: org.into(),
        ..claim(cid, id, "2020-05-01")
    };
    let mut l = ledger(vec![
        at("C1", &staff, "ORG1"),
        at("C2", &rep, "ORG1"),
        at("C3", &other, "ORG1"), // staff of ORG2, trained by ORG1
        at("C4", &staff, "ORG2"),
    ]);
    l.staff = vec![
        StaffRow {
            institution_id: "ORG1".into(),
            id_number: staff.clone(),
            role: "教师".into(),
        },
        StaffRow {
            institution_id: "ORG2".into(),
            id_number: other.clone(),
            role: "".into(),
        },
    ];
    l.institutions = vec![InstitutionRow {
        institution_id: "ORG1".into(),
        name: "临沂某职业培训学校".into(),
        legal_rep_id: rep.clone(),
        ..Default::default()
    }];
    let r = run("staff_trainee", staff_trainee::run, &l);
    assert_eq!(r.all_claims(), ["C1", "C2"]);
    let zh = &r.flag_of("C1").explanation_zh;
    assert!(
        zh.contains("岗位：教师") && zh.contains("临沂某职业培训学校"),
        "{zh}"
    );
    assert!(r.flag_of("C2").explanation_zh.contains("法定代表人"));
    assert!(r
        .flag_of("C2")
        .explanation_en
        .contains("legal representative"));
}

//! The sweep is deterministic: shuffling the input rows of every table and changing the thread
//! count (1, 2, 8) changes no flag — the full flag list, in order, is compared.

use claimsweep::dates::Date;
use claimsweep::idcode::id_check_char;
use claimsweep::model::*;
use claimsweep::policy::PolicySet;
use claimsweep::refdata::RefData;
use claimsweep::rules::engine::run_rules;
use claimsweep::rules::Flag;
use claimsweep::snapshot::Snapshot;
use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const COUNTIES: [&str; 3] = ["371302", "371311", "371312"];
const NAMES: [&str; 5] = ["张伟", "王芳", "李娜", "王丽", "王莉"];

fn day(y: i32, m: u32, d: u32) -> Date {
    Date::from_ymd(y, m, d).unwrap()
}

/// A small ledger with every table, dense enough that most rules fire: few persons, phones,
/// classes and institutions shared among many claims.
fn ledger(seed: u64, claims: usize) -> Ledger {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let persons: Vec<String> = (0..claims / 3 + 2)
        .map(|i| {
            let birth = if i % 17 == 5 {
                "19500101".to_string()
            } else {
                format!("19{}0{}1{}", 70 + i % 30, 1 + i % 9, i % 10)
            };
            let first17 = format!("{}{birth}{:03}", COUNTIES[i % 3], i % 1000);
            let check = id_check_char(&first17).unwrap();
            // One person in 13 has a wrong check digit.
            let check = if i % 13 == 4 {
                if check == '1' {
                    '2'
                } else {
                    '1'
                }
            } else {
                check
            };
            format!("{first17}{check}")
        })
        .collect();
    let orgs = ["ORG1", "ORG2", "ORG3"];
    let classes: Vec<ClassRow> = (0..6)
        .map(|k| ClassRow {
            class_id: format!("K{k}"),
            institution_id: orgs[k % 3].into(),
            county_code: COUNTIES[k % 3].into(),
            occupation_code: format!("4-01-0{}-01", k % 3),
            level: Some(5 - (k % 3) as u8),
            training_type: Some(SubsidyType::LevelCert),
            start_date: day(2020, 1 + (k as u32 % 4) * 2, 1),
            end_date: day(2020, 2 + (k as u32 % 4) * 2, 28),
            hours: 80,
            project_based: k % 2 == 0,
        })
        .collect();
    let types = [
        SubsidyType::LevelCert,
        SubsidyType::NoLevelCert,
        SubsidyType::SkillUpgrade,
        SubsidyType::GoldenBlueCollar,
    ];
    let mut l = Ledger {
        present: TABLES.iter().map(|t| t.name).collect(),
        classes,
        ..Default::default()
    };
    for i in 0..claims {
        let p = rng.gen_range(0..persons.len());
        let class = rng.gen_range(0..6usize);
        let t = types[rng.gen_range(0..types.len())];
        let living_days = if rng.gen_bool(0.2) {
            rng.gen_range(1..45)
        } else {
            0
        };
        l.claims.push(ClaimRow {
            claim_id: format!("C{i:05}"),
            id_number: persons[p].clone(),
            name: NAMES[(p + usize::from(rng.gen_bool(0.1))) % NAMES.len()].into(),
            phone: format!("1380000{:04}", rng.gen_range(0..persons.len() / 2 + 1)),
            bank_account: format!("6222{:04}", rng.gen_range(0..persons.len())),
            category: Some(Category::ALL[rng.gen_range(0..Category::ALL.len())]),
            county_code: COUNTIES[class % 3].into(),
            institution_id: orgs[class % 3].into(),
            class_id: format!("K{class}"),
            subsidy_type: Some(t),
            occupation_code: format!("4-01-0{}-01", class % 3),
            level: if t == SubsidyType::NoLevelCert {
                None
            } else {
                Some(5 - (class % 3) as u8)
            },
            cert_no: if rng.gen_bool(0.8) {
                format!("Z{}", rng.gen_range(0..claims))
            } else {
                String::new()
            },
            funding_source: Some(FundingSource::EmploymentFund),
            amount: rng.gen_range(50_000..300_000),
            living_days,
            living_amount: living_days as i64 * rng.gen_range(1_000..6_000),
            claim_date: day(
                rng.gen_range(2019..2022),
                rng.gen_range(1..13),
                rng.gen_range(1..29),
            ),
        });
    }
    for (k, c) in l.claims.clone().iter().enumerate() {
        if !c.cert_no.is_empty() && k % 2 == 0 {
            l.certificates.push(CertificateRow {
                cert_no: c.cert_no.clone(),
                id_number: if k % 7 == 0 {
                    persons[0].clone()
                } else {
                    c.id_number.clone()
                },
                name: c.name.clone(),
                occupation_code: c.occupation_code.clone(),
                level: c.level,
                cert_type: "职业技能等级证书".into(),
                issue_date: Some(day(2020, 1 + (k as u32 % 12), 10)),
            });
        }
    }
    l.certificates.sort_by(|a, b| a.cert_no.cmp(&b.cert_no));
    l.certificates.dedup_by(|a, b| a.cert_no == b.cert_no);
    for (k, org) in orgs.iter().enumerate() {
        l.institutions.push(InstitutionRow {
            institution_id: org.to_string(),
            name: format!("机构{k}"),
            county_code: COUNTIES[k].into(),
            legal_rep_id: persons[k + 1].clone(),
            phone: format!("0539{k:07}"),
            ..Default::default()
        });
        l.staff.push(StaffRow {
            institution_id: org.to_string(),
            id_number: persons[k + 3].clone(),
            role: "教师".into(),
        });
    }
    for k in (0..6).step_by(2) {
        l.projects.push(ProjectRow {
            class_id: format!("K{k}"),
            trainees: 10,
            employed_claimed: 9,
            total_amount: 1_000_000,
            prepaid_amount: if k == 0 { 700_000 } else { 500_000 },
            paid_amount: 900_000,
            check_date: Some(day(2020, 10, 1)),
        });
    }
    for (i, p) in persons.iter().enumerate() {
        match i % 6 {
            0 => l.employment.push(EmploymentRow {
                id_number: p.clone(),
                employer_id: "EMP1".into(),
                start_date: day(2020, 9, 20),
                end_date: Some(day(2020, 10, 20)),
            }),
            1 => l.employment.push(EmploymentRow {
                id_number: p.clone(),
                employer_id: "ORG1".into(),
                start_date: day(2019, 1, 1),
                end_date: None,
            }),
            2 => l.registry_death.push(DeathRow {
                id_number: p.clone(),
                death_date: day(2020, 6, 1),
            }),
            3 => l.registry_pension.push(PensionRow {
                id_number: p.clone(),
                start_date: day(2020, 3, 1),
            }),
            _ => {}
        }
        if i % 4 == 0 {
            l.registry_ui.push(UiRow {
                id_number: p.clone(),
                months_paid: (i % 20) as i32,
                as_of: None,
            });
        }
        if i % 5 == 0 {
            l.registry_poverty.push(PovertyRow {
                id_number: p.clone(),
            });
        }
    }
    for c in COUNTIES {
        for y in 2019..2022 {
            l.living_standards.push(LivingStandardRow {
                county_code: c.into(),
                year: y,
                monthly_amount: 60_000,
            });
        }
    }
    l
}

/// Every table's rows in another order.
fn shuffled(l: &Ledger, seed: u64) -> Ledger {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut s = l.clone();
    s.present.shuffle(&mut rng);
    s.claims.shuffle(&mut rng);
    s.classes.shuffle(&mut rng);
    s.institutions.shuffle(&mut rng);
    s.certificates.shuffle(&mut rng);
    s.projects.shuffle(&mut rng);
    s.employment.shuffle(&mut rng);
    s.staff.shuffle(&mut rng);
    s.registry_pension.shuffle(&mut rng);
    s.registry_death.shuffle(&mut rng);
    s.registry_ui.shuffle(&mut rng);
    s.registry_poverty.shuffle(&mut rng);
    s.living_standards.shuffle(&mut rng);
    s
}

fn sweep(l: &Ledger, threads: usize) -> Vec<Flag> {
    let snap = Snapshot::from_ledger(l);
    let r = run_rules(
        &snap,
        &PolicySet::embedded_default(),
        RefData::embedded(),
        Some(threads),
    );
    assert!(r.defects.is_empty(), "{:?}", r.defects);
    assert!(r.rules.iter().all(|s| !s.skipped()));
    r.flags
}

#[test]
fn the_fixture_exercises_many_rules() {
    let flags = sweep(&ledger(1, 300), 2);
    let mut rules: Vec<&str> = flags.iter().map(|f| f.rule).collect();
    rules.dedup();
    // Not a test of the rules: only that the property below compares real work.
    assert!(rules.len() >= 10, "only {rules:?} fired");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn shuffling_rows_and_thread_count_change_no_flag(seed in 0u64..1_000, shuffle in any::<u64>(), claims in 60usize..250) {
        let base = ledger(seed, claims);
        let reference = sweep(&base, 1);
        let other = shuffled(&base, shuffle);
        for threads in [1, 2, 8] {
            let flags = sweep(&other, threads);
            prop_assert_eq!(&flags, &reference, "threads {}", threads);
        }
    }
}

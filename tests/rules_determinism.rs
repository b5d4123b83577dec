//! The deterministic rules give the same flags in the same order whatever the thread count
//! and whatever the input row order.

mod common;

use claimsweep::model::*;
use claimsweep::policy::PolicySet;
use claimsweep::refdata::RefData;
use claimsweep::rules::*;
use claimsweep::snapshot::Snapshot;
use common::*;

const RULES: &[fn(&RuleContext) -> Vec<Flag>] = &[
    over_cap::run,
    repeated_level::run,
    amount_over_standard::run,
    living_allowance_excess::run,
    skill_upgrade_ineligible::run,
    invalid_id::run,
    deceased::run,
    pensioner::run,
    age_out_of_range::run,
    overlapping_training::run,
    cert_mismatch::run,
    staff_trainee::run,
    prepay_excess::run,
    employment_rate::run,
];

/// A few thousand claims over a few hundred persons and classes, with every kind of finding.
fn busy_ledger() -> Ledger {
    let mut l = ledger(vec![]);
    for k in 0..60u32 {
        let start = 1 + (k % 28);
        l.classes.push(ClassRow {
            project_based: k % 6 == 0,
            ..class(
                &format!("K{k:03}"),
                &format!("ORG{}", k % 7),
                "371302",
                &format!("2020-03-{start:02}"),
                "2020-04-20",
            )
        });
        if k % 6 == 0 {
            l.projects.push(ProjectRow {
                class_id: format!("K{k:03}"),
                total_amount: 1_000_000,
                prepaid_amount: 550_000 + 10_000 * (k as i64 % 3),
                paid_amount: 1_000_000,
                check_date: Some(d("2020-06-30")),
                ..Default::default()
            });
        }
    }
    for i in 0..3000u32 {
        let p = (i * 7919) % 400;
        let id = if p % 50 == 3 {
            id_in("999999", "19900101", p)
        } else {
            id_in(
                "371302",
                if p % 40 == 1 { "20090101" } else { "19850101" },
                p,
            )
        };
        let cls = (i * 31) % 60;
        l.claims.push(ClaimRow {
            class_id: format!("K{cls:03}"),
            institution_id: format!("ORG{}", cls % 7),
            occupation_code: format!("4-01-02-0{}", i % 5),
            level: Some(3 + (i % 3) as u8),
            amount: 100_000 + (i % 5) as i64 * 20_000,
            living_days: (i % 40) as i32,
            living_amount: (i % 40) as i64 * 2_400,
            category: Some(if i % 3 == 0 {
                Category::Poor
            } else {
                Category::Employee
            }),
            subsidy_type: Some(if i % 9 == 0 {
                SubsidyType::SkillUpgrade
            } else {
                SubsidyType::LevelCert
            }),
            cert_no: if i % 11 == 0 {
                String::new()
            } else {
                format!("Z{i}")
            },
            ..claim(
                &format!("C{:05}", (i * 1237) % 3000),
                &id,
                &format!("2020-{:02}-{:02}", 5 + i % 7, 1 + i % 28),
            )
        });
        if i % 11 != 0 {
            l.certificates.push(CertificateRow {
                cert_no: format!("Z{i}"),
                id_number: id.clone(),
                occupation_code: format!("4-01-02-0{}", i % 5),
                level: Some(3 + (i % 4) as u8),
                issue_date: Some(d("2020-04-25")),
                ..Default::default()
            });
        }
    }
    for p in 0..400u32 {
        let id = id_in("371302", "19850101", p);
        if p % 2 == 0 {
            l.employment.push(EmploymentRow {
                id_number: id.clone(),
                employer_id: "E1".into(),
                start_date: d("2020-01-01"),
                end_date: None,
            });
        }
        if p % 3 == 0 {
            l.registry_ui.push(UiRow {
                id_number: id.clone(),
                months_paid: (p % 24) as i32,
                as_of: None,
            });
        }
        if p % 97 == 0 {
            l.registry_death.push(DeathRow {
                id_number: id.clone(),
                death_date: d("2020-07-01"),
            });
        }
        if p % 89 == 0 {
            l.registry_pension.push(PensionRow {
                id_number: id.clone(),
                start_date: d("2020-08-01"),
            });
        }
        if p % 101 == 0 {
            l.staff.push(StaffRow {
                institution_id: format!("ORG{}", p % 7),
                id_number: id,
                role: "教师".into(),
            });
        }
    }
    l.living_standards.push(LivingStandardRow {
        county_code: "371302".into(),
        year: 2020,
        monthly_amount: 70_000,
    });
    l
}

/// One flag as compared across runs: subject, claim ids, amount at risk, explanation.
type FlagView = (String, Vec<String>, i64, String);

fn sweep(ledger: &Ledger, threads: usize) -> Vec<Vec<FlagView>> {
    let snap = Snapshot::from_ledger(ledger);
    let policies = PolicySet::embedded_default();
    let resolved = claimsweep::resolve::Resolved::new(&snap, &policies);
    let ctx = RuleContext {
        snap: &snap,
        policies: &policies,
        refdata: RefData::embedded(),
        resolved: &resolved,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        RULES
            .iter()
            .map(|rule| {
                rule(&ctx)
                    .into_iter()
                    // Compared by claim id: snapshot indices are the same by construction.
                    .map(|f| {
                        let ids = f
                            .claims
                            .iter()
                            .map(|&i| snap.claim_id(i as usize).to_string())
                            .collect();
                        (f.subject, ids, f.amount_at_risk, f.explanation_en)
                    })
                    .collect()
            })
            .collect()
    })
}

#[test]
fn same_flags_for_any_thread_count_and_input_order() {
    let l = busy_ledger();
    let one = sweep(&l, 1);
    assert!(
        one.iter().filter(|flags| !flags.is_empty()).count() >= 12,
        "the fixture gives most rules work: {:?}",
        one.iter().map(Vec::len).collect::<Vec<_>>()
    );
    assert_eq!(sweep(&l, 4), one);
    let mut reversed = l.clone();
    reversed.claims.reverse();
    reversed.certificates.reverse();
    reversed.employment.reverse();
    assert_eq!(sweep(&reversed, 3), one);
}

//! Criterion benches of the deterministic rules on a synthetic in-memory snapshot.
//!
//! The snapshot is built from a simple deterministic loop (no I/O): by default 1 000 000
//! claims of ~300 000 persons in 20 000 classes, with certificates, registers, staff, projects
//! and employment spells, and a few per cent of every kind of violation so each rule has work.
//! Set `CLAIMSWEEP_BENCH_CLAIMS` for another size. Rules are grouped by family: per-claim
//! rules, per-person grouping rules and project rules.

use claimsweep::dates::Date;
use claimsweep::idcode::id_check_char;
use claimsweep::model::*;
use claimsweep::policy::PolicySet;
use claimsweep::refdata::RefData;
use claimsweep::rules::*;
use claimsweep::snapshot::{Snapshot, SnapshotBuilder};
use criterion::{criterion_group, criterion_main, Criterion};
use std::time::Duration;

/// SplitMix64: a tiny deterministic generator, enough for synthetic data.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const COUNTIES: [&str; 12] = [
    "371302", "371311", "371312", "371321", "371322", "371323", "371324", "371325", "371326",
    "371327", "371328", "371329",
];

/// A distinct ID number per person: area by person, then (birth year, sequence) from the rest.
/// One person in 200 carries a wrong check digit, one in 1000 is too old to train.
fn id_of(person: u64) -> String {
    let area = COUNTIES[(person % 12) as usize];
    let q = person / 12;
    let year = if person % 1000 == 3 {
        1950
    } else {
        1965 + q / 1000
    };
    let first17 = format!(
        "{area}{year}{:02}{:02}{:03}",
        1 + q % 12,
        1 + q % 28,
        q % 1000
    );
    let check = id_check_char(&first17).unwrap();
    let check = if person % 200 == 7 {
        if check == '0' {
            '1'
        } else {
            '0'
        }
    } else {
        check
    };
    format!("{first17}{check}")
}

/// Builds the synthetic snapshot: `n` claims.
fn synthetic(n: usize) -> Snapshot {
    let mut rng = Mix(0x2019_0013);
    let persons = (n as u64 / 3).max(1);
    let classes = (n as u64 / 50).max(1);
    let institutions = 500u64;
    let mut b = SnapshotBuilder::new();
    for t in TABLES {
        b.table_present(t.name);
    }
    let day0 = Date::from_ymd(2019, 1, 1).unwrap().0;
    let ids: Vec<String> = (0..persons).map(id_of).collect();
    for k in 0..classes {
        let start = Date(day0 + (k % 1000) as i32);
        b.add_class(&ClassRow {
            class_id: format!("K{k:07}"),
            institution_id: format!("ORG{:04}", k % institutions),
            county_code: COUNTIES[(k % 12) as usize].into(),
            occupation_code: format!("4-01-{:02}-01", k % 40),
            level: Some(5 - (k % 3) as u8),
            training_type: Some(SubsidyType::LevelCert),
            start_date: start,
            end_date: Date(start.0 + 10 + (k % 20) as i32),
            hours: 80,
            project_based: k % 10 == 0,
        });
        if k % 10 == 0 {
            let total = 5_000_000;
            b.add_project(&ProjectRow {
                class_id: format!("K{k:07}"),
                trainees: 50,
                employed_claimed: 45,
                total_amount: total,
                prepaid_amount: if k % 70 == 0 {
                    total * 7 / 10
                } else {
                    total * 6 / 10
                },
                paid_amount: if k % 20 == 0 { total } else { total * 6 / 10 },
                check_date: Some(Date(start.0 + 60)),
            });
        }
    }
    for k in 0..institutions {
        b.add_institution(&InstitutionRow {
            institution_id: format!("ORG{k:04}"),
            name: format!("培训学校{k}"),
            county_code: COUNTIES[(k % 12) as usize].into(),
            legal_rep_id: ids[(k * 977 % persons) as usize].clone(),
            ..Default::default()
        });
        b.add_staff(&StaffRow {
            institution_id: format!("ORG{k:04}"),
            id_number: ids[(k * 131 % persons) as usize].clone(),
            role: "教师".into(),
        });
    }
    for i in 0..n as u64 {
        let p = rng.below(persons);
        let class = rng.below(classes);
        let level = 5 - (class % 3) as u8;
        let date = Date(day0 + (class % 1000) as i32 + 40 + rng.below(20) as i32);
        let cert_no = format!("Z{i:08}");
        let living = rng.chance(5);
        let row = ClaimRow {
            claim_id: format!("C{i:08}"),
            id_number: ids[p as usize].clone(),
            name: "张伟".into(),
            phone: format!("138{:08}", p),
            bank_account: format!("6222{:012}", p),
            category: Some(if living {
                Category::Poor
            } else {
                Category::Employee
            }),
            county_code: COUNTIES[(class % 12) as usize].into(),
            institution_id: format!("ORG{:04}", class % institutions),
            class_id: format!("K{class:07}"),
            subsidy_type: Some(if i % 20 == 0 {
                SubsidyType::SkillUpgrade
            } else {
                SubsidyType::LevelCert
            }),
            occupation_code: format!("4-01-{:02}-01", class % 40),
            level: Some(level),
            cert_no: cert_no.clone(),
            funding_source: Some(FundingSource::EmploymentFund),
            amount: if rng.chance(2) { 150_000 } else { 100_000 },
            living_days: if living { 20 + rng.below(15) as i32 } else { 0 },
            living_amount: if living { 50_000 } else { 0 },
            claim_date: date,
        };
        b.add_claim(&row);
        if !rng.chance(3) {
            b.add_certificate(&CertificateRow {
                cert_no,
                id_number: row.id_number.clone(),
                occupation_code: row.occupation_code.clone(),
                level: Some(level),
                issue_date: Some(date),
                ..Default::default()
            });
        }
    }
    for p in 0..persons {
        let id = &ids[p as usize];
        if p % 2 == 0 {
            b.add_employment(&EmploymentRow {
                id_number: id.clone(),
                employer_id: format!("EMP{}", p % 5000),
                start_date: Date(day0 + (p % 500) as i32),
                end_date: if p % 4 == 0 {
                    None
                } else {
                    Some(Date(day0 + 500 + (p % 700) as i32))
                },
            });
        }
        if p % 3 == 0 {
            b.add_ui(&UiRow {
                id_number: id.clone(),
                months_paid: (p % 30) as i32,
                as_of: Some(Date(day0)),
            });
        }
        if p % 500 == 1 {
            b.add_death(&DeathRow {
                id_number: id.clone(),
                death_date: Date(day0 + 300),
            });
        }
        if p % 300 == 2 {
            b.add_pension(&PensionRow {
                id_number: id.clone(),
                start_date: Date(day0 + 200),
            });
        }
    }
    for c in COUNTIES {
        for year in 2019..=2021 {
            b.add_living_standard(&LivingStandardRow {
                county_code: c.into(),
                year,
                monthly_amount: 70_000,
            });
        }
    }
    b.finish()
}

type NamedRule = (&'static str, fn(&RuleContext) -> Vec<Flag>);

fn benches(c: &mut Criterion) {
    let n: usize = std::env::var("CLAIMSWEEP_BENCH_CLAIMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let snap = synthetic(n);
    let policies = PolicySet::embedded_default();
    let refdata = RefData::embedded();
    let resolved = claimsweep::resolve::Resolved::new(&snap, &policies);
    let ctx = RuleContext {
        snap: &snap,
        policies: &policies,
        refdata,
        resolved: &resolved,
    };

    let families: [(&str, &[NamedRule]); 3] = [
        (
            "per_claim",
            &[
                ("amount_over_standard", amount_over_standard::run),
                ("living_allowance_excess", living_allowance_excess::run),
                ("skill_upgrade_ineligible", skill_upgrade_ineligible::run),
                ("invalid_id", invalid_id::run),
                ("deceased", deceased::run),
                ("pensioner", pensioner::run),
                ("age_out_of_range", age_out_of_range::run),
                ("cert_mismatch", cert_mismatch::run),
                ("staff_trainee", staff_trainee::run),
            ],
        ),
        (
            "per_person",
            &[
                ("over_cap", over_cap::run),
                ("repeated_level", repeated_level::run),
                ("overlapping_training", overlapping_training::run),
            ],
        ),
        (
            "project",
            &[
                ("prepay_excess", prepay_excess::run),
                ("employment_rate", employment_rate::run),
            ],
        ),
    ];
    for (family, rules) in families {
        let mut g = c.benchmark_group(format!("rules_{family}_{n}"));
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        for (id, rule) in rules {
            // Report the flag count once so runs can be compared by work done, not time alone.
            eprintln!("{id}: {} flags on {n} claims", rule(&ctx).len());
            g.bench_function(*id, |b| b.iter(|| rule(&ctx)));
        }
        g.finish();
    }
}

criterion_group!(rule_benches, benches);
criterion_main!(rule_benches);

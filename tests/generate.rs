//! `claimsweep generate`: determinism, ground truth and its boundaries, messy output.

use claimsweep::dates::Date;
use claimsweep::generate::{generate, GenerateOptions};
use claimsweep::idcode::id_check_char;
use claimsweep::names::same_person_name;
use claimsweep::policy::PolicySet;
use claimsweep::rules::RULE_IDS;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn opts(claims: u64, seed: u64, messy: bool) -> GenerateOptions {
    GenerateOptions {
        claims,
        seed,
        messy,
        rate: 0.01,
        ..Default::default()
    }
}

/// The 20,000-claim dataset shared by the ground-truth tests.
fn big() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let report = generate(&opts(20_000, 7, false), &dir).unwrap();
        assert_eq!(report.claims, 20_000);
        dir
    })
}

type Rows = Vec<HashMap<String, String>>;

fn read(dir: &Path, file: &str) -> Rows {
    let mut r = csv::Reader::from_path(dir.join(file)).unwrap();
    let headers: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn labels(dir: &Path) -> Vec<(String, String)> {
    read(dir, "labels.csv")
        .into_iter()
        .map(|r| (r["claim_id"].clone(), r["rule"].clone()))
        .collect()
}

fn labelled(dir: &Path, rule: &str) -> HashSet<String> {
    labels(dir)
        .into_iter()
        .filter(|(_, r)| r == rule)
        .map(|(c, _)| c)
        .collect()
}

fn date(s: &str) -> Date {
    Date::parse_iso(s).unwrap_or_else(|| panic!("not a date: {s}"))
}

fn files_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn same_seed_gives_same_bytes_and_another_seed_differs() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    generate(&opts(3_000, 11, false), a.path()).unwrap();
    generate(&opts(3_000, 11, false), b.path()).unwrap();
    generate(&opts(3_000, 12, false), c.path()).unwrap();
    let (fa, fb, fc) = (files_of(a.path()), files_of(b.path()), files_of(c.path()));
    assert_eq!(fa.len(), 15, "{:?}", fa.keys());
    assert_eq!(fa, fb);
    assert_ne!(fa["claims.csv"], fc["claims.csv"]);
    assert_ne!(fa["labels.csv"], fc["labels.csv"]);
}

#[test]
fn labels_are_sorted_unique_and_name_existing_claims() {
    let dir = big();
    let claims: HashSet<String> = read(dir, "claims.csv")
        .into_iter()
        .map(|r| r["claim_id"].clone())
        .collect();
    assert_eq!(claims.len(), 20_000);
    let l = labels(dir);
    assert!(
        l.windows(2).all(|w| w[0] < w[1]),
        "labels not sorted or duplicated"
    );
    for (claim, rule) in &l {
        assert!(claims.contains(claim), "{claim}");
        assert!(RULE_IDS.contains(&rule.as_str()), "{rule}");
    }
    let rings = read(dir, "rings.csv");
    assert!(!rings.is_empty());
    assert!(rings.iter().all(|r| claims.contains(&r["claim_id"])));
    assert!(!read(dir, "staged_employers.csv").is_empty());
}

#[test]
fn every_rule_is_injected_at_20000_claims() {
    let dir = big();
    let seen: BTreeSet<String> = labels(dir).into_iter().map(|(_, r)| r).collect();
    for rule in RULE_IDS {
        assert!(seen.contains(*rule), "no label for {rule}");
    }
}

#[test]
fn benign_boundaries_are_not_labelled() {
    let dir = big();
    let policy = &PolicySet::embedded_default().policies[0];
    let rules = claimsweep::rules::params(policy);
    let claims = read(dir, "claims.csv");

    // Exactly the yearly maximum: no over_cap in that person-year.
    let over_cap = labelled(dir, "over_cap");
    let mut per_year: HashMap<(String, i32), Vec<String>> = HashMap::new();
    for c in &claims {
        per_year
            .entry((c["id_number"].clone(), date(&c["claim_date"]).year()))
            .or_default()
            .push(c["claim_id"].clone());
    }
    let exact: Vec<_> = per_year
        .values()
        .filter(|v| v.len() == rules.over_cap.claims_per_year.max as usize)
        .collect();
    assert!(
        exact.len() > 10,
        "too few persons at exactly the maximum: {}",
        exact.len()
    );
    for v in exact {
        assert!(v.iter().all(|c| !over_cap.contains(c)), "{v:?}");
    }
    assert!(per_year
        .values()
        .any(|v| v.len() > rules.over_cap.claims_per_year.max as usize));

    // Claimed on the day of death: not deceased.
    let deceased = labelled(dir, "deceased");
    let deaths: HashMap<String, String> = read(dir, "registry_death.csv")
        .into_iter()
        .map(|r| (r["id_number"].clone(), r["death_date"].clone()))
        .collect();
    let same_day: Vec<_> = claims
        .iter()
        .filter(|c| deaths.get(&c["id_number"]) == Some(&c["claim_date"]))
        .collect();
    assert!(!same_day.is_empty());
    assert!(same_day.iter().all(|c| !deceased.contains(&c["claim_id"])));

    // Exactly at the cap: no amount_over_standard.
    let over = labelled(dir, "amount_over_standard");
    let at_cap = claims.iter().filter(|c| {
        c["subsidy_type"] == "level_cert" && c["level"] == "5" && c["amount"] == "1000.00"
    });
    let mut n = 0;
    for c in at_cap {
        n += 1;
        assert!(!over.contains(&c["claim_id"]));
    }
    assert!(n > 10);

    // Exactly the day limit: living allowance of exactly max_days at or below the line.
    let living = labelled(dir, "living_allowance_excess");
    let max_days = rules
        .living_allowance_excess
        .living_allowance
        .max_days
        .to_string();
    let exact_days: Vec<_> = claims
        .iter()
        .filter(|c| c["living_days"] == max_days && !living.contains(&c["claim_id"]))
        .collect();
    assert!(
        !exact_days.is_empty(),
        "no benign claim at exactly the day limit"
    );

    // Exact ages 16 and 60 on the claim date: not flagged.
    let age = labelled(dir, "age_out_of_range");
    let mut boundary = 0;
    for c in &claims {
        let Some(birth) = claimsweep::idcode::birth_date(&c["id_number"]) else {
            continue;
        };
        let a = birth.age_on(date(&c["claim_date"]));
        if a == rules.age_out_of_range.age.min as i32 || a == rules.age_out_of_range.age.max as i32
        {
            boundary += 1;
            assert!(
                !age.contains(&c["claim_id"])
                    || labelled(dir, "invalid_id").contains(&c["claim_id"])
            );
        }
    }
    assert!(boundary >= 2);

    // Exactly 60 % prepaid: no prepay_excess.
    let prepay = labelled(dir, "prepay_excess");
    let exact_projects: HashSet<String> = read(dir, "projects.csv")
        .into_iter()
        .filter(|p| {
            let total: f64 = p["total_amount"].parse().unwrap();
            let pre: f64 = p["prepaid_amount"].parse().unwrap();
            (pre * 100.0 - total * policy.project.prepay_max_percent as f64).abs() < 0.5
        })
        .map(|p| p["class_id"].clone())
        .collect();
    assert!(!exact_projects.is_empty());
    for c in &claims {
        if exact_projects.contains(&c["class_id"]) {
            assert!(!prepay.contains(&c["claim_id"]));
        }
    }
}

#[test]
fn fuzzy_truth_agrees_with_the_definitions() {
    let dir = big();
    let policy = &PolicySet::embedded_default().policies[0];
    let jw = policy.identity.min_jaro_winkler;
    let claims = read(dir, "claims.csv");

    // identity_conflict: IDs whose names are not all spellings of one name.
    let mut names: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for c in &claims {
        names.entry(&c["id_number"]).or_default().insert(&c["name"]);
    }
    let conflicting: HashSet<&str> = names
        .iter()
        .filter(|(_, n)| {
            let v: Vec<&&str> = n.iter().collect();
            v.iter()
                .enumerate()
                .any(|(i, a)| v[i + 1..].iter().any(|b| !same_person_name(a, b, jw)))
        })
        .map(|(id, _)| *id)
        .collect();
    let variants = names.values().filter(|n| n.len() > 1).count();
    assert!(variants > conflicting.len(), "no benign spelling variants");
    let by_def: HashSet<String> = claims
        .iter()
        .filter(|c| conflicting.contains(c["id_number"].as_str()))
        .map(|c| c["claim_id"].clone())
        .collect();
    assert!(!by_def.is_empty());
    assert_eq!(by_def, labelled(dir, "identity_conflict"));

    // multi_id: ID numbers linked by docs/RULES.md "Persons" (one birth date, a shared phone
    // or bank account, names that are spellings of one name), transitively; every claim of a
    // person with several. Written here with plain maps, all pairs per contact.
    let mut by_contact: HashMap<(u8, &str), Vec<(&str, &str)>> = HashMap::new();
    for c in &claims {
        for (kind, field) in [(0u8, "phone"), (1, "bank_account")] {
            if !c[field].is_empty() {
                by_contact
                    .entry((kind, c[field].as_str()))
                    .or_default()
                    .push((c["id_number"].as_str(), c["name"].as_str()));
            }
        }
    }
    let mut parent: HashMap<&str, &str> = HashMap::new();
    fn root<'a>(parent: &HashMap<&'a str, &'a str>, mut x: &'a str) -> &'a str {
        while let Some(&p) = parent.get(x) {
            if p == x {
                break;
            }
            x = p;
        }
        x
    }
    for users in by_contact.values() {
        for (i, &(ida, na)) in users.iter().enumerate() {
            for &(idb, nb) in &users[i + 1..] {
                let (Some(ba), Some(bb)) = (
                    claimsweep::idcode::birth_date(ida),
                    claimsweep::idcode::birth_date(idb),
                ) else {
                    continue;
                };
                if ida == idb || ba != bb || !same_person_name(na, nb, jw) {
                    continue;
                }
                let (ra, rb) = (root(&parent, ida), root(&parent, idb));
                if ra != rb {
                    parent.insert(ra.max(rb), ra.min(rb));
                    parent.entry(ra.min(rb)).or_insert(ra.min(rb));
                }
            }
        }
    }
    let by_def: HashSet<String> = claims
        .iter()
        .filter(|c| parent.contains_key(c["id_number"].as_str()))
        .map(|c| c["claim_id"].clone())
        .collect();
    assert!(!by_def.is_empty());
    assert_eq!(by_def, labelled(dir, "multi_id"));
}

#[test]
fn ids_of_ordinary_persons_pass_the_check_digit() {
    let dir = big();
    let invalid = labelled(dir, "invalid_id");
    let mut checked = 0;
    for c in read(dir, "claims.csv") {
        if invalid.contains(&c["claim_id"]) {
            continue;
        }
        let id = &c["id_number"];
        assert_eq!(id.len(), 18, "{id}");
        assert_eq!(
            id_check_char(&id[..17]).map(|x| id.ends_with(x)),
            Some(true),
            "{id}"
        );
        checked += 1;
    }
    assert!(checked > 19_000);
    for s in read(dir, "staff.csv") {
        let id = &s["id_number"];
        assert_eq!(
            id_check_char(&id[..17]).map(|x| id.ends_with(x)),
            Some(true),
            "{id}"
        );
    }
}

#[test]
fn messy_output_is_gbk_with_chinese_headers_and_the_same_labels() {
    let plain = tempfile::tempdir().unwrap();
    let messy = tempfile::tempdir().unwrap();
    generate(&opts(2_500, 5, false), plain.path()).unwrap();
    generate(&opts(2_500, 5, true), messy.path()).unwrap();
    let bytes = std::fs::read(messy.path().join("claims.csv")).unwrap();
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "messy claims.csv is valid UTF-8"
    );
    let (text, _, bad) = encoding_rs::GBK.decode(&bytes);
    assert!(!bad);
    let header = text.lines().next().unwrap();
    for zh in ["申领编号", "身份证号", "姓名", "补贴金额", "申领日期"] {
        assert!(header.contains(zh), "{header}");
    }
    assert!(!header.contains("claim_id"));
    // Spelling variants are present.
    assert!(
        text.contains('年') && text.contains('/'),
        "no date variants"
    );
    assert_eq!(
        std::fs::read(plain.path().join("labels.csv")).unwrap(),
        std::fs::read(messy.path().join("labels.csv")).unwrap()
    );
}

#[test]
fn ordinary_persons_and_look_alikes_break_no_rule() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(6_000, 3, false);
    o.rate = 0.0;
    let report = generate(&o, dir.path()).unwrap();
    assert_eq!(report.claims, 6_000);
    assert_eq!(labels(dir.path()), Vec::new());
    assert_eq!(read(dir.path(), "rings.csv").len(), 0);
}

#[test]
fn bad_rate_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(10, 1, false);
    o.rate = 2.0;
    let err = generate(&o, dir.path()).unwrap_err().to_string();
    assert!(err.contains("--rate"), "{err}");
}

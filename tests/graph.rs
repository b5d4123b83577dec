//! The entity graph on hand-made ledgers: a ring across two institutions and three counties, a
//! family of two sharing a phone (not a ring), a staged employer, cross-county paths,
//! neighbourhood export, institution risk with Benford and bunching, storage; and injected rings
//! among benign families on a generated ledger.

mod common;

use claimsweep::graph::stats::{benford, benford_expected, bunching};
use claimsweep::graph::{self, Conformity, GraphFindings, NodeKind};
use claimsweep::model::*;
use claimsweep::policy::PolicySet;
use claimsweep::rules::Flag;
use claimsweep::snapshot::Snapshot;
use common::{claim, d, id_in};

fn pid(seq: u32) -> String {
    id_in("371302", "19900101", seq)
}

/// A name of its own for each ID number (by its sequence digits): persons of these fixtures
/// are different people, and identity resolution must not take them for one.
fn name_of(id: &str) -> String {
    const SURNAMES: [&str; 16] = [
        "赵", "钱", "孙", "李", "周", "吴", "郑", "王", "冯", "陈", "褚", "卫", "蒋", "沈", "韩",
        "杨",
    ];
    const GIVEN: [&str; 8] = ["明", "华", "强", "军", "平", "刚", "桂英", "秀兰"];
    let n: usize = id.get(14..17).and_then(|s| s.parse().ok()).unwrap_or(0);
    format!("{}{}", SURNAMES[n % 16], GIVEN[(n / 16) % 8])
}

fn at(
    claim_id: &str,
    person: &str,
    date: &str,
    inst: &str,
    county: &str,
    phone: &str,
    bank: &str,
) -> ClaimRow {
    ClaimRow {
        institution_id: inst.into(),
        county_code: county.into(),
        phone: phone.into(),
        bank_account: bank.into(),
        name: name_of(person),
        ..claim(claim_id, person, date)
    }
}

fn institution(id: &str, county: &str, rep: &str, phone: &str) -> InstitutionRow {
    InstitutionRow {
        institution_id: id.into(),
        name: format!("{id}职业培训学校"),
        county_code: county.into(),
        kind: "民办".into(),
        legal_rep_id: rep.into(),
        phone: phone.into(),
        address: String::new(),
    }
}

/// The fixture ledger:
/// - ring: persons 1–4 share phone 13900000001 (and 3, 4 a bank account), claiming at ORGA
///   and ORGB in counties 371302, 371311, 371312;
/// - family: persons 10, 11 share phone 13800000002 at ORGA in 371302;
/// - family of three: persons 20–22 share a phone at ORGB in 371312 (one place: no ring);
/// - benign persons 30–39 with their own phones;
/// - project class PROJ-S at ORGC: 6 trainees (40–45), 5 "hired" by EMP-S for the check only;
///   project class PROJ-N at ORGC: 6 trainees (50–55), 2 long employed at EMP-N.
fn fixture() -> Ledger {
    let mut claims = vec![
        at(
            "R01",
            &pid(1),
            "2020-03-01",
            "ORGA",
            "371302",
            "13900000001",
            "6222000000000001",
        ),
        at(
            "R02",
            &pid(2),
            "2020-03-02",
            "ORGA",
            "371311",
            "13900000001",
            "6222000000000002",
        ),
        at(
            "R03",
            &pid(3),
            "2020-03-03",
            "ORGB",
            "371312",
            "13900000001",
            "6222000000000099",
        ),
        at(
            "R04",
            &pid(4),
            "2020-03-04",
            "ORGB",
            "371302",
            "13900000001",
            "6222000000000099",
        ),
        // Person 1 again, later in the year, in another county.
        at(
            "R05",
            &pid(1),
            "2020-09-01",
            "ORGB",
            "371312",
            "13900000001",
            "6222000000000001",
        ),
        at(
            "F01",
            &pid(10),
            "2020-04-01",
            "ORGA",
            "371302",
            "13800000002",
            "6222000000000010",
        ),
        at(
            "F02",
            &pid(11),
            "2020-04-01",
            "ORGA",
            "371302",
            "13800000002",
            "6222000000000011",
        ),
    ];
    for (k, p) in (20..23).enumerate() {
        claims.push(at(
            &format!("G0{k}"),
            &pid(p),
            "2020-05-01",
            "ORGB",
            "371312",
            "13700000003",
            &format!("62220000000002{k:02}"),
        ));
    }
    for p in 30..40 {
        let inst = ["ORGA", "ORGB", "ORGC"][p as usize % 3];
        claims.push(at(
            &format!("B{p}"),
            &pid(p),
            "2020-06-01",
            inst,
            "371302",
            &format!("1360000{p:04}"),
            &format!("62220000000003{p:02}"),
        ));
    }
    for p in 40..46 {
        let mut c = at(
            &format!("S{p}"),
            &pid(p),
            "2020-05-10",
            "ORGC",
            "371321",
            &format!("1350000{p:04}"),
            &format!("62220000000004{p:02}"),
        );
        c.class_id = "PROJ-S".into();
        claims.push(c);
    }
    for p in 50..56 {
        let mut c = at(
            &format!("N{p}"),
            &pid(p),
            "2020-05-10",
            "ORGC",
            "371321",
            &format!("1340000{p:04}"),
            &format!("62220000000005{p:02}"),
        );
        c.class_id = "PROJ-N".into();
        claims.push(c);
    }
    let mut l = common::ledger(claims);
    l.institutions = vec![
        institution(
            "ORGA",
            "371302",
            &id_in("371302", "19700101", 901),
            "05398000001",
        ),
        institution(
            "ORGB",
            "371312",
            &id_in("371302", "19700101", 902),
            "05398000002",
        ),
        institution(
            "ORGC",
            "371321",
            &id_in("371302", "19700101", 903),
            "05398000003",
        ),
    ];
    let project_class = |id: &str| ClassRow {
        project_based: true,
        ..common::class(id, "ORGC", "371321", "2020-04-01", "2020-04-30")
    };
    l.classes = vec![project_class("PROJ-S"), project_class("PROJ-N")];
    let project = |id: &str| ProjectRow {
        class_id: id.into(),
        trainees: 6,
        employed_claimed: 6,
        total_amount: 600_000,
        prepaid_amount: 300_000,
        paid_amount: 600_000,
        check_date: Some(d("2020-06-30")),
    };
    l.projects = vec![project("PROJ-S"), project("PROJ-N")];
    for p in 40..45 {
        l.employment.push(EmploymentRow {
            id_number: pid(p),
            employer_id: "EMP-S".into(),
            start_date: d("2020-06-20"),
            end_date: Some(d("2020-07-30")),
        });
    }
    for p in [45, 50, 51] {
        l.employment.push(EmploymentRow {
            id_number: pid(p),
            employer_id: "EMP-N".into(),
            start_date: d("2018-01-01"),
            end_date: None,
        });
    }
    l
}

fn analyse(l: &Ledger, flags: &[Flag]) -> (Snapshot, GraphFindings) {
    let snap = Snapshot::from_ledger(l);
    let policies = PolicySet::embedded_default();
    let resolved = claimsweep::resolve::Resolved::new(&snap, &policies);
    let f = graph::analyse(&snap, &resolved, flags, &policies);
    (snap, f)
}

#[test]
fn the_ring_across_two_institutions_and_three_counties_is_found_exactly() {
    let (snap, f) = analyse(&fixture(), &[]);
    assert_eq!(f.rings.len(), 1, "{:#?}", f.rings);
    let r = &f.rings[0];
    assert_eq!(r.id, 1);
    assert_eq!(r.persons, vec![pid(1), pid(2), pid(3), pid(4)]);
    assert_eq!(r.institutions, vec!["ORGA", "ORGB"]);
    assert_eq!(r.counties, vec!["371302", "371311", "371312"]);
    assert_eq!(
        f.claim_ids(&r.claims),
        vec!["R01", "R02", "R03", "R04", "R05"]
    );
    assert_eq!(r.amount, 500_000);
    let shared: Vec<(&str, &str, usize)> = r
        .shared
        .iter()
        .map(|s| (s.kind.code(), s.value.as_str(), s.persons.len()))
        .collect();
    assert_eq!(
        shared,
        vec![
            ("phone", "13900000001", 4),
            ("bank_account", "6222000000000099", 2)
        ]
    );
    // Score = 4 persons ×1 + 2 institutions ×2 + 3 counties ×2 + 2 identifiers ×1 + 0.5 (10k yuan) ×1.
    assert!((r.score - 16.5).abs() < 1e-9, "{}", r.score);
    let why = f.ring_explanation_zh(r);
    assert!(why.contains("13900000001") && why.contains("R01"), "{why}");
    // Every claim of the ring is a claim of one of its persons.
    for &c in &r.claims {
        assert!(r.person_ids.contains(&snap.claims[c as usize].person));
    }
}

#[test]
fn a_family_sharing_a_phone_is_not_a_ring() {
    let (_, f) = analyse(&fixture(), &[]);
    let in_rings: Vec<&String> = f.rings.iter().flat_map(|r| &r.persons).collect();
    for p in [10, 11, 20, 21, 22] {
        assert!(!in_rings.contains(&&pid(p)), "person {p} is in a ring");
    }
}

#[test]
fn boundaries_two_persons_or_one_place_are_not_rings() {
    // Two persons sharing a phone across two institutions and counties: below 3 persons.
    let two = common::ledger(vec![
        at("A1", &pid(1), "2020-03-01", "ORGA", "371302", "139", ""),
        at("A2", &pid(2), "2020-03-01", "ORGB", "371311", "139", ""),
    ]);
    assert!(analyse(&two, &[]).1.rings.is_empty());
    // Four persons on one phone, one institution, one county: more than a family, but in one
    // place (shared_contact's business, not a ring).
    let one_place: Vec<ClaimRow> = (1..5)
        .map(|p| {
            at(
                &format!("A{p}"),
                &pid(p),
                "2020-03-01",
                "ORGA",
                "371302",
                "139",
                "",
            )
        })
        .collect();
    assert!(analyse(&common::ledger(one_place), &[]).1.rings.is_empty());
    // Three persons chained by two-person family phones across institutions: every tie is a
    // family's, so no ring.
    let chain = common::ledger(vec![
        at("C1", &pid(1), "2020-03-01", "ORGA", "371302", "p1", ""),
        at("C2", &pid(2), "2020-03-01", "ORGA", "371302", "p1", ""),
        at("C3", &pid(2), "2020-04-01", "ORGB", "371311", "p2", ""),
        at("C4", &pid(3), "2020-04-01", "ORGB", "371311", "p2", ""),
    ]);
    assert!(analyse(&chain, &[]).1.rings.is_empty());
    // The same chain with a third person on the second phone: a ring.
    let mut ring = chain.clone();
    ring.claims
        .push(at("C5", &pid(4), "2020-04-01", "ORGB", "371311", "p2", ""));
    let f = analyse(&ring, &[]).1;
    assert_eq!(f.rings.len(), 1);
    assert_eq!(f.rings[0].persons, vec![pid(1), pid(2), pid(3), pid(4)]);
}

#[test]
fn trainees_using_the_institutions_phone_tie_it_into_a_ring() {
    let mut l = common::ledger(vec![
        at(
            "T1",
            &pid(1),
            "2020-03-01",
            "ORGA",
            "371302",
            "05398000002",
            "",
        ),
        at(
            "T2",
            &pid(2),
            "2020-03-01",
            "ORGA",
            "371302",
            "05398000002",
            "",
        ),
        at(
            "T3",
            &pid(3),
            "2020-03-01",
            "ORGA",
            "371302",
            "05398000002",
            "",
        ),
    ]);
    l.institutions = vec![institution("ORGB", "371312", "", "05398000002")];
    let f = analyse(&l, &[]).1;
    assert_eq!(f.rings.len(), 1);
    assert_eq!(f.rings[0].institutions, vec!["ORGA", "ORGB"]);
    assert_eq!(f.rings[0].shared[0].institutions, vec!["ORGB"]);
}

#[test]
fn the_staged_employer_is_found_exactly() {
    let (_, f) = analyse(&fixture(), &[]);
    assert_eq!(f.staged_employers.len(), 1, "{:#?}", f.staged_employers);
    let e = &f.staged_employers[0];
    assert_eq!(e.code, "EMP-S");
    assert_eq!(e.classes.len(), 1);
    let c = &e.classes[0];
    assert_eq!(
        (
            c.class_id.as_str(),
            c.trainees,
            c.employed_here,
            c.staged_here
        ),
        ("PROJ-S", 6, 5, 5)
    );
    assert_eq!(
        f.claim_ids(&e.claims),
        vec!["S40", "S41", "S42", "S43", "S44"]
    );
    assert!(c.link_zh.is_none());
}

#[test]
fn an_employer_linked_to_the_institution_is_staged_whatever_the_shares() {
    let mut l = fixture();
    // EMP-N shares ORGC's legal representative: linked, though it takes 2 of 6 trainees.
    l.institutions.push(institution(
        "EMP-N",
        "371321",
        &id_in("371302", "19700101", 903),
        "",
    ));
    let f = analyse(&l, &[]).1;
    let codes: Vec<&str> = f.staged_employers.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(codes, vec!["EMP-N", "EMP-S"]);
    let n = &f.staged_employers[0];
    let classes: Vec<&str> = n.classes.iter().map(|c| c.class_id.as_str()).collect();
    assert_eq!(classes, vec!["PROJ-N", "PROJ-S"]);
    assert!(n.classes[0]
        .link_zh
        .as_deref()
        .unwrap()
        .contains("法定代表人"));
}

#[test]
fn cross_county_persons_come_with_their_path() {
    let (_, f) = analyse(&fixture(), &[]);
    assert_eq!(f.cross_county.len(), 1, "{:#?}", f.cross_county);
    let c = &f.cross_county[0];
    assert_eq!(
        (f.person_id(c.person), c.year, c.counties),
        (pid(1).as_str(), 2020, 2)
    );
    assert_eq!(f.path_text(c), "371302 → 371312");
    assert_eq!(f.claim_ids(c.claims()), vec!["R01", "R05"]);
    let stops: Vec<(&str, Vec<String>)> = c
        .stop_claims()
        .map(|(s, claims)| (f.county(s.county), f.claim_ids(claims)))
        .collect();
    assert_eq!(
        stops,
        vec![
            ("371302", vec!["R01".to_string()]),
            ("371312", vec!["R05".to_string()])
        ]
    );
    // The same two counties in two different years: not cross-county.
    let l = common::ledger(vec![
        at("Y1", &pid(1), "2020-03-01", "ORGA", "371302", "", ""),
        at("Y2", &pid(1), "2021-03-01", "ORGA", "371311", "", ""),
    ]);
    assert!(analyse(&l, &[]).1.cross_county.is_empty());
}

#[test]
fn neighbourhood_of_a_person_at_depth_two_as_dot_and_json() {
    let l = fixture();
    let snap = Snapshot::from_ledger(&l);
    let g = graph::build(&snap);
    let p1 = g.find(&pid(1)).expect("person 1 is a node");
    assert_eq!(g.data(p1).kind, NodeKind::Person);
    assert_eq!(g.find(&format!("person:{}", pid(1))), Some(p1));
    let sub = g.neighbourhood(p1, 2);
    for key in [
        format!("person:{}", pid(1)),
        "phone:13900000001".to_string(),
        "bank_account:6222000000000001".to_string(),
        "org:ORGA".to_string(),
        "org:ORGB".to_string(),
        format!("name:{}", name_of(&pid(1))),
        // depth 2: the others on the phone, the counties of the institutions.
        format!("person:{}", pid(4)),
        "county:371312".to_string(),
    ] {
        assert!(sub.contains(&key), "missing {key}");
    }
    // Depth 1 does not reach the other persons.
    assert!(!g
        .neighbourhood(p1, 1)
        .contains(&format!("person:{}", pid(4))));
    let dot = sub.to_dot();
    assert!(dot.starts_with("digraph neighbourhood {"));
    assert!(
        dot.contains("13900000001") && dot.contains("使用") && dot.contains("R01;R05"),
        "{dot}"
    );
    let json = sub.to_json();
    assert_eq!(json["center"], format!("person:{}", pid(1)));
    let uses = json["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["from"] == format!("person:{}", pid(1)) && e["to"] == "phone:13900000001")
        .expect("uses edge");
    assert_eq!(uses["claims"], serde_json::json!(["R01", "R05"]));
    // Limited export says it was cut.
    let small = g.neighbourhood_limited(p1, 2, 3);
    assert_eq!(small.nodes.len(), 3);
    assert!(small.truncated);
}

#[test]
fn benford_mad_on_known_distributions() {
    // Values spread evenly in log scale over six decades follow Benford's law.
    let n = 9000;
    let values = (0..n).map(|i| 10f64.powf(2.0 + 6.0 * (i as f64 + 0.5) / n as f64) as i64);
    let t = benford(values, 0.006, 0.012, 0.015).unwrap();
    assert_eq!(t.n, n as u64);
    assert!(t.mad < 0.002, "{}", t.mad);
    assert_eq!(t.conformity, Conformity::Close);
    let share1 = t.counts[0] as f64 / n as f64;
    assert!((share1 - benford_expected(1)).abs() < 0.005);
    // Standard amounts (1000, 1200, 1400 yuan) are all first digit 1: nonconformity.
    let standard = (0..900).map(|i| [100_000i64, 120_000, 140_000][i % 3]);
    assert_eq!(
        benford(standard, 0.006, 0.012, 0.015).unwrap().conformity,
        Conformity::Nonconformity
    );
}

#[test]
fn bunching_detects_a_pile_just_above_85_percent() {
    // Ten projects at 86–89 %, one at 82 %: bunching.
    let mut rates: Vec<(i64, i64)> = (0..10).map(|k| (86 + k % 4, 100)).collect();
    rates.push((82, 100));
    let b = bunching(&rates, 85, 5, 6, 2.0);
    assert_eq!((b.above, b.below), (10, 1));
    assert!(b.significant, "z = {}", b.z);
    // Five and five: smooth.
    let smooth: Vec<(i64, i64)> = (0..10)
        .map(|k| (if k < 5 { 80 + k } else { 85 + k - 5 }, 100))
        .collect();
    let b = bunching(&smooth, 85, 5, 6, 2.0);
    assert_eq!((b.above, b.below), (5, 5));
    assert!(!b.significant);
    // Exactly at the threshold (17 of 20 = 85 %) counts above; 84.99 % counts below.
    let b = bunching(&[(17, 20), (8499, 10000)], 85, 5, 1, 0.0);
    assert_eq!((b.above, b.below), (1, 1));
}

#[test]
fn institution_risk_ranks_flagged_and_bunching_institutions_with_traceable_evidence() {
    let mut l = fixture();
    // ORGD: twelve project classes, eleven declaring 86–89 % employment, one 80 %.
    for k in 0..12 {
        let class_id = format!("D{k:02}");
        let trainees = 100;
        let employed = if k == 11 { 80 } else { 86 + k % 4 };
        l.classes.push(ClassRow {
            project_based: true,
            ..common::class(&class_id, "ORGD", "371322", "2020-04-01", "2020-04-30")
        });
        l.projects.push(ProjectRow {
            class_id: class_id.clone(),
            trainees,
            employed_claimed: employed,
            total_amount: 100_000,
            prepaid_amount: 60_000,
            paid_amount: 60_000,
            check_date: Some(d("2020-06-30")),
        });
        let mut c = at(
            &format!("D{k:02}"),
            &pid(100 + k as u32),
            "2020-05-01",
            "ORGD",
            "371322",
            "",
            "",
        );
        c.class_id = class_id;
        l.claims.push(c);
    }
    let snap = Snapshot::from_ledger(&l);
    let flagged_claims: Vec<u32> = (0..snap.claims.len() as u32)
        .filter(|&i| snap.claim_id(i as usize).starts_with('F'))
        .collect();
    let flag = Flag {
        rule: "shared_contact",
        subject_kind: claimsweep::finding::FlagSubject::Contact,
        subject: "phone:13800000002".into(),
        claims: flagged_claims,
        amount_at_risk: 200_000,
        severity: claimsweep::policy::Severity::Medium,
        explanation_zh: String::new(),
        explanation_en: String::new(),
    };
    let policies = PolicySet::embedded_default();
    let resolved = claimsweep::resolve::Resolved::new(&snap, &policies);
    let f = graph::analyse(&snap, &resolved, &[flag], &policies);
    let codes: Vec<&str> = f.institution_risk.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes.len(), 4);
    let ranks: Vec<u32> = f.institution_risk.iter().map(|r| r.rank).collect();
    assert_eq!(ranks, vec![1, 2, 3, 4]);
    let orgd = f
        .institution_risk
        .iter()
        .find(|r| r.code == "ORGD")
        .unwrap();
    let b = orgd
        .evidence
        .iter()
        .find(|e| e.code == "bunching")
        .expect("bunching evidence");
    assert_eq!(b.points, 15.0);
    assert_eq!(f.claim_ids(&b.claims).len(), 11);
    let orga = f
        .institution_risk
        .iter()
        .find(|r| r.code == "ORGA")
        .unwrap();
    assert_eq!(orga.flagged_claims, 2);
    assert_eq!(orga.rings, vec![1]);
    let flagged = orga
        .evidence
        .iter()
        .find(|e| e.code == "flagged_share")
        .unwrap();
    assert_eq!(f.claim_ids(&flagged.claims), vec!["F01", "F02"]);
    // Score is the sum of its evidence points, each value × weight.
    for r in &f.institution_risk {
        let sum: f64 = r.evidence.iter().map(|e| e.points).sum();
        assert!((r.score - sum).abs() < 1e-9);
        for e in &r.evidence {
            if !matches!(e.code, "bunching" | "benford") {
                assert!((e.points - e.value * e.weight).abs() < 1e-9, "{}", e.code);
            }
        }
    }
    // Sorted by score.
    assert!(f
        .institution_risk
        .windows(2)
        .all(|w| w[0].score >= w[1].score));
    // ORGC has no flags, rings or bunching: score 0.
    assert_eq!(
        f.institution_risk
            .iter()
            .find(|r| r.code == "ORGC")
            .unwrap()
            .score,
        0.0
    );
}

#[test]
fn findings_do_not_depend_on_input_order() {
    let l = fixture();
    let mut shuffled = l.clone();
    shuffled.claims.reverse();
    shuffled.employment.reverse();
    shuffled.institutions.reverse();
    let (_, a) = analyse(&l, &[]);
    let (_, b) = analyse(&shuffled, &[]);
    assert_eq!(
        a.rings
            .iter()
            .map(|r| (&r.persons, a.claim_ids(&r.claims)))
            .collect::<Vec<_>>(),
        b.rings
            .iter()
            .map(|r| (&r.persons, b.claim_ids(&r.claims)))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        a.ring_explanation_zh(&a.rings[0]),
        b.ring_explanation_zh(&b.rings[0])
    );
    assert_eq!(
        a.cross_county_explanation(&a.cross_county[0], false),
        b.cross_county_explanation(&b.cross_county[0], false)
    );
    assert_eq!(
        a.staged_employers[0].explanation_zh,
        b.staged_employers[0].explanation_zh
    );
    let ia: Vec<(&str, f64)> = a
        .institution_risk
        .iter()
        .map(|r| (r.code.as_str(), r.score))
        .collect();
    let ib: Vec<(&str, f64)> = b
        .institution_risk
        .iter()
        .map(|r| (r.code.as_str(), r.score))
        .collect();
    assert_eq!(ia, ib);
}

#[test]
fn findings_are_stored_in_their_tables() {
    let (_, f) = analyse(&fixture(), &[]);
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    graph::save::save(&conn, 7, &f).unwrap();
    // Saving again replaces, never duplicates.
    graph::save::save(&conn, 7, &f).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT COUNT(*) FROM rings WHERE sweep_id = 7"), 1);
    assert_eq!(
        count("SELECT COUNT(*) FROM ring_members WHERE sweep_id = 7 AND kind = 'person'"),
        4
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM ring_members WHERE sweep_id = 7 AND kind = 'institution'"),
        2
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM institution_risk WHERE sweep_id = 7"),
        3
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM cross_county WHERE sweep_id = 7"),
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM staged_employers WHERE sweep_id = 7"),
        1
    );
    let ids: String = conn
        .query_row("SELECT claim_ids FROM rings WHERE sweep_id = 7", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(ids, "R01;R02;R03;R04;R05");
    let path: String = conn
        .query_row("SELECT path FROM cross_county", [], |r| r.get(0))
        .unwrap();
    assert_eq!(path, "371302 → 371312");
    let (id_number, year, counties, claim_ids, amount): (String, i64, i64, String, i64) = conn
        .query_row(
            "SELECT id_number, year, counties, claim_ids, amount_fen FROM cross_county",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(
        (
            id_number.as_str(),
            year,
            counties,
            claim_ids.as_str(),
            amount
        ),
        ("371302199001010011", 2020, 2, "R01;R05", 200_000)
    );
    // Facts only: explanations are spelled when shown, not stored per row.
    let explanation_columns: i64 = conn
        .query_row(
            "SELECT count(*) FROM pragma_table_info('cross_county') WHERE name LIKE 'explanation%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(explanation_columns, 0);
    // The explanation as shown, pinned word for word.
    let c = &f.cross_county[0];
    let clause = "十二：实行培训人员实名制管理，建立完善补贴资金发放台账；对套取、骗取资金的单位和个人依纪依规依法严惩";
    assert_eq!(
        f.cross_county_explanation(c, false),
        format!("371302199001010011 在2020年于2个县区申领2条、金额2000.00元：371302（2020-03-01，R01） → 371312（2020-09-01，R05）。依据：{clause}")
    );
    assert_eq!(
        f.cross_county_explanation(c, true),
        format!("371302199001010011 claimed in 2 counties in 2020, 2 claims, 2000.00 yuan: 371302 (2020-03-01, R01) → 371312 (2020-09-01, R05). Policy: {clause}")
    );
}

/// A database made before `cross_county` stored facts only still takes new findings.
#[test]
fn old_cross_county_tables_lose_their_explanation_columns() {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE cross_county (sweep_id INTEGER NOT NULL, id_number TEXT NOT NULL,
           year INTEGER NOT NULL, counties INTEGER NOT NULL, path TEXT NOT NULL,
           claim_ids TEXT NOT NULL, amount_fen INTEGER NOT NULL, explanation_zh TEXT NOT NULL,
           explanation_en TEXT NOT NULL, PRIMARY KEY (sweep_id, id_number, year));
         INSERT INTO cross_county VALUES (1, 'X', 2020, 2, 'a → b', 'C1;C2', 100, '说明', 'why');",
    )
    .unwrap();
    claimsweep::store::graph::ensure_schema(&conn).unwrap();
    let columns: Vec<String> = {
        let mut st = conn
            .prepare("SELECT name FROM pragma_table_info('cross_county') ORDER BY cid")
            .unwrap();
        let rows = st.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    };
    assert_eq!(
        columns,
        [
            "sweep_id",
            "id_number",
            "year",
            "counties",
            "path",
            "claim_ids",
            "amount_fen"
        ]
    );
    let kept: String = conn
        .query_row("SELECT claim_ids FROM cross_county", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, "C1;C2");
}

/// A generated ledger: benign persons with their own contacts, families of two and three
/// sharing a phone at one institution in one county, and injected rings of 3–7 persons across
/// institutions and counties, tied by a phone, a bank account or a chain of both.
#[test]
fn every_injected_ring_is_found_and_no_ring_is_only_families() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    let insts = ["I01", "I02", "I03", "I04", "I05", "I06", "I07", "I08"];
    let counties = ["371302", "371311", "371312", "371321", "371322", "371323"];
    let mut claims = Vec::new();
    let mut seq = 0u32;
    let mut next_person = || {
        seq += 1;
        id_in("371302", &format!("{}0101", 1960 + seq / 1000), seq % 1000)
    };
    let mut n_claim = 0;
    let mut push =
        |claims: &mut Vec<ClaimRow>, p: &str, inst: &str, county: &str, phone: &str, bank: &str| {
            n_claim += 1;
            claims.push(at(
                &format!("C{n_claim:06}"),
                p,
                "2020-05-01",
                inst,
                county,
                phone,
                bank,
            ));
        };
    for k in 0..3000 {
        let p = next_person();
        let (i, c) = (
            insts[rng.gen_range(0..insts.len())],
            counties[rng.gen_range(0..counties.len())],
        );
        push(
            &mut claims,
            &p,
            i,
            c,
            &format!("own{k}"),
            &format!("bank{k}"),
        );
        if rng.gen_bool(0.3) {
            let (i, c) = (
                insts[rng.gen_range(0..insts.len())],
                counties[rng.gen_range(0..counties.len())],
            );
            push(
                &mut claims,
                &p,
                i,
                c,
                &format!("own{k}"),
                &format!("bank{k}"),
            );
        }
    }
    let mut family_persons = Vec::new();
    for k in 0..300 {
        let size = if k % 5 == 0 { 3 } else { 2 };
        let (i, c) = (
            insts[rng.gen_range(0..insts.len())],
            counties[rng.gen_range(0..counties.len())],
        );
        for m in 0..size {
            let p = next_person();
            push(
                &mut claims,
                &p,
                i,
                c,
                &format!("family{k}"),
                &format!("fbank{k}-{m}"),
            );
            family_persons.push(p);
        }
    }
    let mut injected: Vec<Vec<String>> = Vec::new();
    for r in 0..40 {
        let size = rng.gen_range(3..=7);
        let members: Vec<String> = (0..size).map(|_| next_person()).collect();
        for (m, p) in members.iter().enumerate() {
            let i = insts[(r + m) % insts.len()];
            let c = counties[(r * 3 + m) % counties.len()];
            let (phone, bank) = match r % 3 {
                0 => (format!("ringphone{r}"), format!("rbank{r}-{m}")),
                1 => (format!("rphone{r}-{m}"), format!("ringbank{r}")),
                // A chain: neighbours share a phone or a bank alternately.
                _ => (
                    format!("rphone{r}-{}", m / 2),
                    format!("rbank{r}-{}", m.div_ceil(2)),
                ),
            };
            push(&mut claims, p, i, c, &phone, &bank);
        }
        let mut sorted = members.clone();
        sorted.sort();
        injected.push(sorted);
    }
    let (_, f) = analyse(&common::ledger(claims), &[]);
    let found: Vec<&Vec<String>> = f.rings.iter().map(|r| &r.persons).collect();
    let mut missed = 0;
    for ring in &injected {
        if !found.contains(&ring) {
            missed += 1;
        }
    }
    let only_families = f
        .rings
        .iter()
        .filter(|r| r.persons.iter().all(|p| family_persons.contains(p)))
        .count();
    eprintln!(
        "generated ledger: {} injected rings, {} rings found, {} injected missed, {} rings of families only",
        injected.len(),
        f.rings.len(),
        missed,
        only_families
    );
    assert_eq!(missed, 0);
    assert_eq!(only_families, 0);
    assert_eq!(f.rings.len(), injected.len());
}

/// The sweep reports the entity graph's size without building it: the counts must be those of
/// the graph built, also for a person with many claims repeating and varying their values.
#[test]
fn analysis_counts_the_nodes_and_edges_of_the_graph_it_does_not_build() {
    let mut l = fixture();
    let insts = ["ORGA", "ORGB", "ORGC"];
    let counties = ["371302", "371311", "371312"];
    for k in 0..20 {
        l.claims.push(at(
            &format!("M{k:03}"),
            &pid(1),
            "2021-03-01",
            insts[k % 3],
            counties[k % 2],
            &format!("1390000{:04}", k % 4),
            &format!("6222{:04}", k % 5),
        ));
    }
    for ledger in [fixture(), l] {
        let snap = Snapshot::from_ledger(&ledger);
        let policies = PolicySet::embedded_default();
        let resolved = claimsweep::resolve::Resolved::new(&snap, &policies);
        let f = graph::analyse(&snap, &resolved, &[], &policies);
        let g = graph::build(&snap);
        assert!(g.edge_count() > 0);
        assert_eq!(
            (f.nodes, f.edges),
            (g.node_count(), g.edge_count()),
            "counted without the graph vs. built"
        );
    }
}

/// The sweep frees names, certificate numbers, staff and registers before the graph analysis
/// (`Snapshot::release_after_rules`, with the graph's size taken first): on a generated ledger
/// with every kind of finding, the analysis after the release is the analysis before it, to
/// the last field; so is the sweep's own analysis, which frees each further table after its
/// last reader (`graph::analyse_releasing`). A graph that starts reading a freed table fails
/// here, not in a national sweep.
#[test]
fn the_graph_reads_none_of_the_tables_freed_after_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    common::claimsweep(
        p,
        &["generate", "--claims", "20000", "--seed", "5", "--out", "g"],
    );
    let db = p.join("g.db");
    common::claimsweep(p, &["ingest", "--db", "g.db", "g"]);
    let conn = claimsweep::store::open(&db).unwrap();
    let mut snap = claimsweep::snapshot::load_snapshot(&conn).unwrap();
    let policies = PolicySet::embedded_default();
    let resolved = claimsweep::resolve::Resolved::new(&snap, &policies);
    let flags = claimsweep::rules::engine::run_rules(
        &snap,
        &policies,
        claimsweep::refdata::RefData::embedded(),
        None,
    )
    .flags;
    let whole = graph::analyse(&snap, &resolved, &flags, &policies);
    assert!(
        !whole.rings.is_empty()
            && !whole.cross_county.is_empty()
            && !whole.staged_employers.is_empty()
            && !whole.institution_risk.is_empty(),
        "the ledger has every kind of finding"
    );
    let tables = graph::TableCounts::of(&snap);
    snap.release_after_rules();
    assert!(snap.names.is_empty() && snap.cert_keys.is_empty() && snap.staff.is_empty());
    let after = graph::analyse_counted(&snap, &tables, &resolved, &flags, &policies);
    assert_eq!(format!("{after:?}"), format!("{whole:?}"));
    // The sweep's analysis frees each table after its last reader: the same findings, and
    // what building cases reads is still there.
    let releasing = graph::analyse_releasing(&mut snap, &tables, &resolved, &flags, &policies);
    assert_eq!(format!("{releasing:?}"), format!("{whole:?}"));
    assert!(snap.phones.is_empty() && snap.banks.is_empty() && snap.certificates.is_empty());
    assert!(snap.employment.is_empty() && snap.projects.is_empty());
    assert!(!snap.claims.is_empty() && !snap.claim_ids.is_empty() && !snap.ids.is_empty());
}

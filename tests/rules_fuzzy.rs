//! The four fuzzy rules on hand-made ledgers: identity_conflict, multi_id, shared_contact,
//! employment_sham (with resolve::org_links), each with cases that must fire and boundary cases that
//! must not.

use claimsweep::dates::Date;
use claimsweep::idcode::id_check_char;
use claimsweep::model::*;
use claimsweep::policy::PolicySet;
use claimsweep::refdata::RefData;
use claimsweep::resolve::org_links::OrgLinks;
use claimsweep::rules::{
    employment_sham, identity_conflict, multi_id, shared_contact, Flag, RuleContext,
};
use claimsweep::snapshot::Snapshot;

fn d(s: &str) -> Date {
    Date::parse_iso(s).unwrap()
}

/// A valid 18-digit ID number of Lanshan district (371302) born on `birth` (YYYYMMDD).
fn id(birth: &str, seq: u32) -> String {
    let first17 = format!("371302{birth}{seq:03}");
    format!("{first17}{}", id_check_char(&first17).unwrap())
}

fn claim(claim_id: &str, id_number: &str, name: &str) -> ClaimRow {
    ClaimRow {
        claim_id: claim_id.into(),
        id_number: id_number.into(),
        name: name.into(),
        subsidy_type: Some(SubsidyType::LevelCert),
        level: Some(5),
        amount: 100_000,
        claim_date: d("2020-05-01"),
        ..Default::default()
    }
}

fn run(ledger: &Ledger, rule: fn(&RuleContext) -> Vec<Flag>) -> (Snapshot, Vec<Flag>) {
    let snap = Snapshot::from_ledger(ledger);
    let policies = PolicySet::embedded_default();
    let refdata = RefData::embedded();
    let resolved = claimsweep::resolve::Resolved::new(&snap, &policies);
    let flags = rule(&RuleContext {
        snap: &snap,
        policies: &policies,
        refdata,
        resolved: &resolved,
    });
    for f in &flags {
        assert!(
            f.claims.windows(2).all(|w| w[0] < w[1]),
            "claims sorted and unique: {f:?}"
        );
        assert!(!f.explanation_zh.is_empty() && !f.explanation_en.is_empty());
    }
    (snap, flags)
}

fn claim_ids(snap: &Snapshot, f: &Flag) -> Vec<String> {
    f.claims
        .iter()
        .map(|&i| snap.claim_id(i as usize).to_string())
        .collect()
}

// ---- identity_conflict --------------------------------------------------------------------

#[test]
fn identity_conflict_flags_an_id_used_by_two_different_names() {
    let a = id("19900101", 11);
    let b = id("19850202", 22);
    let c = id("19920303", 33);
    let e = id("19930404", 44);
    let mut late = claim("E2", &e, "李娜");
    late.claim_date = d("2018-06-01"); // outside every policy: not judged
    let ledger = Ledger {
        present: vec!["claims"],
        claims: vec![
            claim("A1", &a, "张伟"),
            claim("A2", &a, "李娜"),
            claim("A3", &a, "張偉"),
            // Spellings of one name: traditional, full-width space, homophones.
            claim("B1", &b, "张伟"),
            claim("B2", &b, "張偉"),
            claim("B3", &b, "张　玮"),
            claim("C1", &c, "王丽"),
            claim("C2", &c, "王莉"),
            claim("E1", &e, "张伟"),
            late,
            // An empty name is an absent value, not a second name.
            claim("F1", &id("19940505", 55), "刘洋"),
            claim("F2", &id("19940505", 55), ""),
        ],
        ..Default::default()
    };
    let (snap, flags) = run(&ledger, identity_conflict::run);
    assert_eq!(flags.len(), 1, "{flags:#?}");
    let f = &flags[0];
    assert_eq!(f.rule, "identity_conflict");
    assert_eq!(f.subject_kind.code(), "person");
    assert_eq!(f.subject, a);
    assert_eq!(claim_ids(&snap, f), ["A1", "A2", "A3"]);
    assert_eq!(f.amount_at_risk, 300_000);
    assert!(
        f.explanation_zh
            .contains(&format!("身份证号 {a} 与不同姓名（张伟、李娜）同时使用")),
        "{}",
        f.explanation_zh
    );
    assert!(
        f.explanation_zh.contains("实名制"),
        "quotes the clause: {}",
        f.explanation_zh
    );
    assert!(
        f.explanation_en.contains("张伟, 李娜"),
        "{}",
        f.explanation_en
    );
}

#[test]
fn identity_conflict_output_does_not_depend_on_input_order() {
    let a = id("19900101", 11);
    let b = id("19850202", 22);
    let mut rows = vec![
        claim("A1", &a, "张伟"),
        claim("A2", &a, "李娜"),
        claim("B1", &b, "王丽"),
        claim("B2", &b, "王磊"),
    ];
    let (s1, f1) = run(
        &Ledger {
            present: vec!["claims"],
            claims: rows.clone(),
            ..Default::default()
        },
        identity_conflict::run,
    );
    rows.reverse();
    let (s2, f2) = run(
        &Ledger {
            present: vec!["claims"],
            claims: rows,
            ..Default::default()
        },
        identity_conflict::run,
    );
    assert_eq!(f1.len(), 2);
    let ids1: Vec<_> = f1.iter().map(|f| claim_ids(&s1, f)).collect();
    let ids2: Vec<_> = f2.iter().map(|f| claim_ids(&s2, f)).collect();
    assert_eq!(ids1, ids2);
    assert_eq!(ids1, [vec!["A1", "A2"], vec!["B1", "B2"]]);
}

// ---- multi_id -----------------------------------------------------------------------------

#[test]
fn multi_id_flags_one_person_under_two_ids() {
    let x1 = id("19900101", 11);
    let x2 = id("19900101", 12); // same birth date, another number
    let y1 = id("19800707", 21);
    let y2 = id("19800707", 22);
    let with_phone = |cid: &str, idn: &str, name: &str, phone: &str| ClaimRow {
        phone: phone.into(),
        ..claim(cid, idn, name)
    };
    let ledger = Ledger {
        present: vec!["claims"],
        claims: vec![
            with_phone("M1", &x1, "张伟", "13800000001"),
            with_phone("M2", &x2, "張偉", "13800000001"),
            with_phone("M3", &x1, "张伟", "13800000001"),
            // Same name and birth date, different phones: two people.
            with_phone("N1", &y1, "李娜", "13900000001"),
            with_phone("N2", &y2, "李娜", "13900000002"),
            // No phone: not keyed.
            with_phone("N3", &y2, "李娜", ""),
            with_phone("N4", &y1, "李娜", ""),
        ],
        ..Default::default()
    };
    let (snap, flags) = run(&ledger, multi_id::run);
    assert_eq!(flags.len(), 1, "{flags:#?}");
    let f = &flags[0];
    assert_eq!(f.rule, "multi_id");
    // The person is named by the smallest of its ID numbers.
    assert_eq!(f.subject, x1);
    assert_eq!(claim_ids(&snap, f), ["M1", "M2", "M3"]);
    assert_eq!(f.amount_at_risk, 300_000);
    assert!(
        f.explanation_zh.contains(&x1) && f.explanation_zh.contains(&x2),
        "{}",
        f.explanation_zh
    );
    assert!(f.explanation_zh.contains("13800000001"));
    assert!(
        f.explanation_zh.contains("出生日期同为1990-01-01")
            && f.explanation_zh.contains("张伟/張偉"),
        "{}",
        f.explanation_zh
    );
}

#[test]
fn multi_id_links_homophones_through_a_bank_account_and_chains_of_links() {
    let a = id("19850302", 31);
    let b = id("19850302", 32);
    let c = id("19850302", 33);
    let row = |cid: &str, idn: &str, name: &str, phone: &str, bank: &str| ClaimRow {
        phone: phone.into(),
        bank_account: bank.into(),
        ..claim(cid, idn, name)
    };
    let ledger = Ledger {
        present: vec!["claims"],
        claims: vec![
            // a–b: homophones typed with a pinyin IME, one bank account.
            row("H1", &a, "杜明坤", "13800000011", "6222000000000011"),
            row("H2", &b, "杜鸣坤", "13800000012", "6222000000000011"),
            // b–c: spaced spelling, one phone: a, b and c are one person.
            row("H3", &c, "杜　鸣坤", "13800000012", "6222000000000013"),
            // Same birth date, a phone shared with a, but another name: someone else.
            row("H4", &id("19850302", 34), "王丽", "13800000011", ""),
        ],
        ..Default::default()
    };
    let (snap, flags) = run(&ledger, multi_id::run);
    assert_eq!(flags.len(), 1, "{flags:#?}");
    assert_eq!(claim_ids(&snap, &flags[0]), ["H1", "H2", "H3"]);
    let zh = &flags[0].explanation_zh;
    assert!(
        zh.contains("3个身份证号") && zh.contains("姓名同音") && zh.contains("银行账号"),
        "{zh}"
    );
}

#[test]
fn multi_id_ignores_ids_without_a_valid_birth_date() {
    let with_phone = |cid: &str, idn: &str| ClaimRow {
        phone: "13800000009".into(),
        ..claim(cid, idn, "王芳")
    };
    let ledger = Ledger {
        present: vec!["claims"],
        claims: vec![
            with_phone("P1", "371302199002300011"),
            with_phone("P2", "371302199002300029"),
        ],
        ..Default::default()
    };
    let (_, flags) = run(&ledger, multi_id::run);
    assert!(flags.is_empty(), "30 February is no birth date: {flags:#?}");
}

// ---- shared_contact -----------------------------------------------------------------------

#[test]
fn shared_contact_flags_phones_and_accounts_over_the_policy_maximum() {
    let p = |n: u32| id("19900101", n);
    // Different people (born the same day, as in a ring of recruited trainees).
    const NAMES: [&str; 11] = [
        "",
        "赵明",
        "钱华",
        "孙强",
        "李军",
        "周平",
        "吴刚",
        "郑桂英",
        "王秀兰",
        "冯杰",
        "陈静",
    ];
    let c = |cid: &str, person: u32, phone: &str, bank: &str| ClaimRow {
        phone: phone.into(),
        bank_account: bank.into(),
        ..claim(cid, &p(person), NAMES[person as usize])
    };
    let ledger = Ledger {
        present: vec!["claims"],
        claims: vec![
            // Three persons on one phone: more than 2.
            c("S1", 1, "13800000001", ""),
            c("S2", 2, "13800000001", ""),
            c("S3", 3, "13800000001", ""),
            // Exactly two persons on one phone: allowed.
            c("T1", 4, "13800000002", ""),
            c("T2", 5, "13800000002", ""),
            // Two persons on one bank account: more than 1.
            c("U1", 6, "13800000003", "6222000000000001"),
            c("U2", 7, "13800000004", "6222000000000001"),
            // One person, many claims on one phone and account: fine.
            c("V1", 8, "13800000005", "6222000000000002"),
            c("V2", 8, "13800000005", "6222000000000002"),
            c("V3", 8, "13800000005", "6222000000000002"),
            // A claim both on the shared phone and on a shared account.
            c("W1", 9, "13800000001", "6222000000000003"),
            c("W2", 10, "13800000006", "6222000000000003"),
        ],
        ..Default::default()
    };
    let (snap, flags) = run(&ledger, shared_contact::run);
    let got: Vec<(String, Vec<String>)> = flags
        .iter()
        .map(|f| (f.subject.clone(), claim_ids(&snap, f)))
        .collect();
    assert_eq!(
        got,
        [
            (
                "phone:13800000001".to_string(),
                vec!["S1".to_string(), "S2".into(), "S3".into(), "W1".into()]
            ),
            (
                "bank_account:6222000000000001".to_string(),
                vec!["U1".to_string(), "U2".into()]
            ),
            (
                "bank_account:6222000000000003".to_string(),
                vec!["W1".to_string(), "W2".into()]
            ),
        ]
    );
    assert!(flags
        .iter()
        .all(|f| f.rule == "shared_contact" && f.subject_kind.code() == "contact"));
    assert!(
        flags[0].explanation_zh.contains("被4个不同的人"),
        "{}",
        flags[0].explanation_zh
    );
    assert!(
        flags[0].explanation_zh.contains("上限2人"),
        "{}",
        flags[0].explanation_zh
    );
    assert_eq!(flags[0].amount_at_risk, 400_000);
}

// ---- employment_sham ----------------------------------------------------------------------

const CHECK: &str = "2020-06-30";

struct ShamFixture {
    ledger: Ledger,
    next_person: u32,
}

impl ShamFixture {
    fn new() -> Self {
        let inst = |code: &str, rep: &str, phone: &str| InstitutionRow {
            institution_id: code.into(),
            name: format!("机构{code}"),
            legal_rep_id: rep.into(),
            phone: phone.into(),
            ..Default::default()
        };
        let rep_i = id("19700101", 901);
        let teacher = id("19750101", 902);
        let rep_m = id("19710101", 903);
        let ledger = Ledger {
            present: vec![
                "claims",
                "classes",
                "institutions",
                "projects",
                "employment",
                "staff",
            ],
            institutions: vec![
                // The training institution.
                inst("INST", &rep_i, "05390000001"),
                // Employer with the institution's legal representative.
                inst("EMP_REP", &rep_i, "05390000002"),
                // Employer whose legal representative teaches at the institution.
                inst("EMP_STAFF", &teacher, "05390000003"),
                // Two steps: EMP_CHAIN shares a phone with MID, whose legal rep is staff of INST.
                inst("EMP_CHAIN", &id("19720101", 904), "05390000004"),
                inst("MID", &rep_m, "05390000004"),
                // An unrelated employer with its own people.
                inst("EMP_FREE", &id("19730101", 905), "05390000005"),
            ],
            staff: vec![
                StaffRow {
                    institution_id: "INST".into(),
                    id_number: teacher,
                    role: "教师".into(),
                },
                StaffRow {
                    institution_id: "INST".into(),
                    id_number: rep_m,
                    role: "管理".into(),
                },
            ],
            ..Default::default()
        };
        ShamFixture {
            ledger,
            next_person: 1,
        }
    }

    /// A project-based class of INST with one trainee per spell (employer, start, end).
    fn class(&mut self, class_id: &str, spells: &[(&str, &str, Option<&str>)]) {
        let l = &mut self.ledger;
        l.classes.push(ClassRow {
            class_id: class_id.into(),
            institution_id: "INST".into(),
            start_date: d("2020-03-01"),
            end_date: d("2020-04-30"),
            project_based: true,
            ..Default::default()
        });
        l.projects.push(ProjectRow {
            class_id: class_id.into(),
            trainees: spells.len() as i32,
            total_amount: 1_000_000,
            prepaid_amount: 600_000,
            paid_amount: 1_000_000,
            check_date: Some(d(CHECK)),
            ..Default::default()
        });
        for (k, (employer, start, end)) in spells.iter().enumerate() {
            let person = id("19950101", self.next_person);
            self.next_person += 1;
            l.claims.push(ClaimRow {
                class_id: class_id.into(),
                institution_id: "INST".into(),
                ..claim(&format!("{class_id}-{k:02}"), &person, "学员")
            });
            if !employer.is_empty() {
                l.employment.push(EmploymentRow {
                    id_number: person,
                    employer_id: (*employer).into(),
                    start_date: d(start),
                    end_date: end.map(d),
                });
            }
        }
    }
}

/// A long-standing spell at a distinct employer.
fn normal(employer: &'static str) -> (&'static str, &'static str, Option<&'static str>) {
    (employer, "2018-01-01", None)
}

#[test]
fn employment_sham_flags_staged_single_employer_and_linked_classes() {
    let mut fx = ShamFixture::new();
    // 3 of 5 staged (60 % ≥ 50 %): start exactly 30 days before, end exactly 90 days after.
    fx.class(
        "STAGED",
        &[
            ("E1", "2020-05-31", Some("2020-09-28")),
            ("E2", "2020-06-15", Some("2020-07-31")),
            ("E3", "2020-06-29", Some("2020-06-30")),
            normal("E4"),
            normal("E5"),
        ],
    );
    // 3 of 5 at one employer (60 % ≥ 60 %), long-standing spells.
    fx.class(
        "ONE_EMPLOYER",
        &[
            normal("BIG"),
            normal("BIG"),
            normal("BIG"),
            normal("E6"),
            normal("E7"),
        ],
    );
    // Just below both shares: 2 of 5 staged (40 %), 2 of 5 at one employer (40 %); spells
    // 31 days before or ending 91 days after are not staged.
    fx.class(
        "BELOW",
        &[
            ("E8", "2020-06-10", Some("2020-07-31")),
            ("E9", "2020-06-10", Some("2020-07-31")),
            ("E10", "2020-05-30", Some("2020-07-31")),
            ("E10", "2020-06-10", Some("2020-09-29")),
            ("", "", None),
        ],
    );
    // Small classes (< 5 trainees) are judged on links only.
    fx.class("LINK_REP", &[normal("EMP_REP"), normal("E11")]);
    fx.class("LINK_STAFF", &[normal("EMP_STAFF")]);
    fx.class("LINK_CHAIN", &[normal("EMP_CHAIN")]);
    fx.class("LINK_SELF", &[normal("INST")]);
    // Normal employment at many employers, including an organisation with no tie to INST.
    fx.class(
        "NORMAL",
        &[
            normal("EMP_FREE"),
            normal("F1"),
            normal("F2"),
            normal("F3"),
            normal("F4"),
            normal("F5"),
        ],
    );
    // Everyone at one employer, but the class is smaller than min_trainees.
    fx.class("SMALL", &[normal("BIG2"), normal("BIG2"), normal("BIG2")]);

    let (snap, flags) = run(&fx.ledger, employment_sham::run);
    let subjects: Vec<&str> = flags.iter().map(|f| f.subject.as_str()).collect();
    // Sorted by first claim id.
    assert_eq!(
        subjects,
        [
            "LINK_CHAIN",
            "LINK_REP",
            "LINK_SELF",
            "LINK_STAFF",
            "ONE_EMPLOYER",
            "STAGED"
        ]
    );
    let by = |s: &str| flags.iter().find(|f| f.subject == s).unwrap();
    assert!(flags
        .iter()
        .all(|f| f.rule == "employment_sham" && f.subject_kind.code() == "project"));

    let staged = by("STAGED");
    assert_eq!(claim_ids(&snap, staged).len(), 5);
    assert_eq!(staged.amount_at_risk, 500_000);
    assert!(
        staged.explanation_zh.contains("5名学员中3人的参保"),
        "{}",
        staged.explanation_zh
    );
    assert!(
        !staged.explanation_zh.contains("同一用工单位"),
        "{}",
        staged.explanation_zh
    );

    let one = by("ONE_EMPLOYER");
    assert!(
        one.explanation_zh
            .contains("5名学员中3人在同一用工单位 BIG"),
        "{}",
        one.explanation_zh
    );

    let rep = by("LINK_REP");
    assert_eq!(claim_ids(&snap, rep), ["LINK_REP-00", "LINK_REP-01"]);
    let rep_id = id("19700101", 901);
    assert!(
        rep.explanation_zh
            .contains(&format!("EMP_REP 与 INST 的法定代表人相同（{rep_id}）")),
        "{}",
        rep.explanation_zh
    );
    let staff = by("LINK_STAFF");
    assert!(
        staff.explanation_zh.contains(&format!(
            "EMP_STAFF 的法定代表人 {} 是 INST 的工作人员",
            id("19750101", 902)
        )),
        "{}",
        staff.explanation_zh
    );
    let chain = by("LINK_CHAIN");
    assert!(
        chain
            .explanation_zh
            .contains("EMP_CHAIN 与 MID 的联系电话相同（05390000004）"),
        "{}",
        chain.explanation_zh
    );
    assert!(
        chain.explanation_zh.contains("MID 的法定代表人"),
        "{}",
        chain.explanation_zh
    );
    assert!(by("LINK_SELF")
        .explanation_zh
        .contains("用工单位 INST 即培训机构本身"));
    assert!(by("LINK_SELF")
        .explanation_en
        .contains("is the institution itself"));
}

#[test]
fn employment_sham_needs_a_check_date_and_judges_only_covering_spells() {
    let mut fx = ShamFixture::new();
    fx.class("NO_CHECK", &[normal("INST")]);
    fx.ledger.projects[0].check_date = None;
    // The linked spell ended before check_date; the covering one is elsewhere.
    fx.class("ENDED", &[("EMP_REP", "2019-01-01", Some("2020-06-29"))]);
    let (_, flags) = run(&fx.ledger, employment_sham::run);
    assert!(flags.is_empty(), "{flags:#?}");
}

#[test]
fn org_links_respect_max_hops() {
    let mut fx = ShamFixture::new();
    fx.class("X", &[normal("EMP_CHAIN")]);
    let snap = Snapshot::from_ledger(&fx.ledger);
    let org = |s: &str| snap.orgs.get(s).unwrap();
    let any = OrgLinks::build(&snap);
    let path = any
        .linked(org("INST"), org("EMP_CHAIN"))
        .expect("two-step chain");
    assert_eq!(path.hops(), 2);
    assert!(
        path.en()
            .contains("employer EMP_CHAIN is linked to institution INST"),
        "{}",
        path.en()
    );
    assert_eq!(any.linked(org("INST"), org("EMP_REP")).unwrap().hops(), 1);
    assert!(any.linked(org("INST"), org("EMP_FREE")).is_none());
    assert!(!any.connected(org("INST"), org("EMP_FREE")));
    let one = OrgLinks::build_with_max_hops(&snap, Some(1));
    assert!(one.linked(org("INST"), org("EMP_CHAIN")).is_none());
    assert!(one.linked(org("INST"), org("EMP_STAFF")).is_some());
    assert_eq!(one.linked(org("INST"), org("INST")).unwrap().hops(), 0);
}

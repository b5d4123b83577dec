//! The value parsers of the input stage (`input::values`), the ID-number and credit-code
//! functions of `idcode`, the dates of `dates`, the labelled enumerations and levels of
//! `model`, and every table's row parser (`input::rows::ParseRow`) on arbitrary text.
//!
//! Asserts: nothing panics; what a parser accepts it reads back from its own formatting
//! (parse → format → parse); normalisers are idempotent; what the check functions accept is
//! consistent with the others.

#![no_main]

use claimsweep::dates::Date;
use claimsweep::idcode::{
    birth_date, check_id, check_id_parts, credit_code_check_char, credit_code_valid, fold_width,
    id_check_char, make_credit_code, normalize_credit_code, normalize_id, sex_of, upgrade_15_to_18,
    IdProblem,
};
use claimsweep::input::rows::{Cells, ParseRow};
use claimsweep::input::values::{
    compact_number, excel_serial_date, parse_date, parse_flag, parse_int, parse_money,
};
use claimsweep::model::{self, fen_to_yuan, Category, FundingSource, SubsidyType, MAX_AMOUNT_FEN};
use claimsweep::refdata::RefData;
use libfuzzer_sys::fuzz_target;

fn dates(s: &str) {
    for excel in [false, true] {
        if let Ok(Some(d)) = parse_date(s, excel) {
            let shown = d.to_string();
            assert_eq!(parse_date(&shown, false), Ok(Some(d)), "{s:?} → {shown}");
            assert_eq!(Date::parse_iso(&shown), Some(d), "{s:?} → {shown}");
            let (y, m, dd) = d.ymd();
            assert_eq!(Date::from_ymd(y, m, dd), Some(d));
        }
    }
    if let Some(d) = Date::parse_iso(s) {
        assert_eq!(d.to_string(), s, "the stored form reads back as written");
    }
}

fn numbers(s: &str) {
    match parse_money(s) {
        Ok(Some(fen)) => {
            assert!(
                fen.abs() <= MAX_AMOUNT_FEN,
                "{s:?} → {fen} beyond the bound"
            );
            assert_eq!(parse_money(&fen_to_yuan(fen)), Ok(Some(fen)), "{s:?}");
        }
        Ok(None) => assert!(s.trim().is_empty(), "{s:?} read as empty"),
        Err(e) => assert!(!e.is_empty()),
    }
    match parse_int(s) {
        Ok(Some(v)) => assert_eq!(parse_int(&v.to_string()), Ok(Some(v)), "{s:?}"),
        Ok(None) => assert!(s.trim().is_empty(), "{s:?} read as empty"),
        Err(e) => assert!(!e.is_empty()),
    }
    if let Ok(Some(b)) = parse_flag(s) {
        assert_eq!(parse_flag(if b { "是" } else { "否" }), Ok(Some(b)));
    }
    let c = compact_number(s);
    assert!(
        !c.chars().any(|ch| ch.is_whitespace() || ch == '-'),
        "{s:?} → {c:?}: a separator is left in a contact number"
    );
    assert_eq!(compact_number(&c), c, "compact_number is idempotent");
}

fn labels(s: &str) {
    fn check<T: Copy + PartialEq + std::fmt::Debug>(
        s: &str,
        parse: fn(&str) -> Option<T>,
        code: fn(T) -> &'static str,
        zh: fn(T) -> &'static str,
    ) {
        if let Some(v) = parse(s) {
            assert_eq!(parse(code(v)), Some(v), "{s:?}");
            assert_eq!(parse(zh(v)), Some(v), "{s:?}");
        }
    }
    check(s, SubsidyType::parse, SubsidyType::code, SubsidyType::zh);
    check(
        s,
        FundingSource::parse,
        FundingSource::code,
        FundingSource::zh,
    );
    check(s, Category::parse, Category::code, Category::zh);
    if let Ok(Some(n)) = model::level::parse(s) {
        assert!((1..=5).contains(&n), "{s:?} → level {n}");
        assert_eq!(model::level::parse(&n.to_string()), Ok(Some(n)));
        assert_eq!(model::level::parse(model::level::zh(n)), Ok(Some(n)));
    }
}

fn ids(s: &str, refdata: &RefData) {
    let f = fold_width(s);
    assert_eq!(fold_width(&f), f, "fold_width is idempotent");

    let n = normalize_id(s);
    assert_eq!(normalize_id(&n), n, "normalize_id is idempotent: {s:?}");
    match check_id(&n, refdata) {
        Ok(info) => {
            assert_eq!(n.len(), 18);
            assert_eq!(id_check_char(&n[..17]), n.chars().nth(17));
            assert_eq!(birth_date(&n), Some(info.birth));
            assert_eq!(sex_of(&n), Some(info.sex));
            assert_eq!(info.area, n[..6]);
        }
        Err(p) => {
            assert!(!p.zh().is_empty() && !p.kind().is_empty());
        }
    }
    // The raw text too: check_id must not assume a normalised number.
    let _ = check_id_parts(s, refdata);
    let _ = birth_date(s);
    let _ = sex_of(s);
    if let Some(up) = upgrade_15_to_18(s) {
        assert_eq!(up.len(), 18);
        assert_eq!(&up[..6], &s[..6]);
        assert_eq!(&up[8..17], &s[6..]);
        match check_id_parts(&up, refdata) {
            Ok(_) | Err(IdProblem::BadBirthDate) | Err(IdProblem::UnknownArea(_)) => {}
            Err(p) => panic!("{s:?} upgraded to {up:?} fails {p:?}"),
        }
    }
    if let Some(c) = id_check_char(s) {
        assert!(c.is_ascii_digit() || c == 'X');
    }

    let cc = normalize_credit_code(s);
    assert_eq!(
        normalize_credit_code(&cc),
        cc,
        "normalize_credit_code is idempotent"
    );
    if let Some(check) = credit_code_check_char(s) {
        let code = make_credit_code(s).expect("a check character makes a code");
        assert!(code.ends_with(check));
        assert!(credit_code_valid(&code), "{code}");
    }
    for code in [s, cc.as_str()] {
        if credit_code_valid(code) {
            assert_eq!(make_credit_code(&code[..17]).as_deref(), Some(code));
        }
    }
}

/// The text split into cells (at `|`) as every table's row parser sees them.
fn rows(s: &str) {
    fn parse_as<R: ParseRow>(spec: &'static model::TableSpec, vals: &[&str]) {
        for excel in [false, true] {
            match R::parse(&Cells { spec, vals, excel }) {
                Ok(row) => {
                    let _ = row.key();
                }
                Err(e) => assert!(!e.reason.is_empty()),
            }
        }
    }
    let vals: Vec<&str> = s.split('|').collect();
    for spec in model::TABLES {
        match spec.name {
            "claims" => parse_as::<model::ClaimRow>(spec, &vals),
            "classes" => parse_as::<model::ClassRow>(spec, &vals),
            "institutions" => parse_as::<model::InstitutionRow>(spec, &vals),
            "certificates" => parse_as::<model::CertificateRow>(spec, &vals),
            "projects" => parse_as::<model::ProjectRow>(spec, &vals),
            "employment" => parse_as::<model::EmploymentRow>(spec, &vals),
            "staff" => parse_as::<model::StaffRow>(spec, &vals),
            "registry_pension" => parse_as::<model::PensionRow>(spec, &vals),
            "registry_death" => parse_as::<model::DeathRow>(spec, &vals),
            "registry_ui" => parse_as::<model::UiRow>(spec, &vals),
            "registry_poverty" => parse_as::<model::PovertyRow>(spec, &vals),
            "living_standards" => parse_as::<model::LivingStandardRow>(spec, &vals),
            _ => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let refdata = RefData::embedded();
    let text = String::from_utf8_lossy(data);
    // As every table sees a cell: width folded and trimmed; and raw.
    let folded = fold_width(&text);
    for s in [text.as_ref(), folded.as_str()] {
        dates(s);
        numbers(s);
        labels(s);
        ids(s, refdata);
    }
    rows(&text);

    // Excel serials and day numbers from the first bytes, in the range the parsers produce.
    if data.len() >= 8 {
        let f = f64::from_le_bytes(data[..8].try_into().unwrap());
        if let Some(d) = excel_serial_date(f) {
            let (y, m, dd) = d.ymd();
            assert!((1900..=9999).contains(&y), "serial {f} → year {y}");
            assert_eq!(Date::from_ymd(y, m, dd), Some(d));
        }
    }
    if data.len() >= 4 {
        // Every day of years -999 ..= 9999 (what four-digit year fields can hold).
        let n = i32::from_le_bytes(data[..4].try_into().unwrap()).rem_euclid(4_017_000) - 1_085_000;
        let d = Date(n);
        let (y, m, dd) = d.ymd();
        assert_eq!(Date::from_ymd(y, m, dd), Some(d), "day {n}");
        if (-999..=9999).contains(&y) {
            assert_eq!(Date::parse_iso(&d.to_string()), Some(d), "day {n} → {d}");
        }
    }
});

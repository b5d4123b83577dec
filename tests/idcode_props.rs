//! Properties of ID-number and credit-code handling (src/idcode.rs).

use claimsweep::dates::Date;
use claimsweep::idcode::{
    birth_date, check_id, check_id_parts, credit_code_check_char, credit_code_valid, id_check_char,
    make_credit_code, normalize_id, IdProblem,
};
use claimsweep::refdata::RefData;
use claimsweep::text::fold_width;
use proptest::prelude::*;

/// 17 digits whose area code is a real one and whose birth date exists (1900–2099).
fn valid_first17() -> impl Strategy<Value = String> {
    let areas: Vec<String> = ["110105", "370802", "371302", "372801", "440305", "650102"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    (
        prop::sample::select(areas),
        1900i32..2100,
        1u32..=12,
        1u32..=31,
        0u32..1000,
    )
        .prop_filter_map("date must exist", |(area, y, m, d, seq)| {
            Date::from_ymd(y, m, d)?;
            Some(format!("{area}{y:04}{m:02}{d:02}{seq:03}"))
        })
}

fn digits(n: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(0u8..10, n).prop_map(|v| v.iter().map(|d| (b'0' + d) as char).collect())
}

/// Full-width form of printable ASCII (space → U+3000).
fn to_full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            ' ' => '\u{3000}',
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap(),
            c => c,
        })
        .collect()
}

const CREDIT_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

fn credit_first17() -> impl Strategy<Value = String> {
    let alphabet: Vec<char> = CREDIT_ALPHABET.chars().collect();
    prop::collection::vec(prop::sample::select(alphabet), 17).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn computed_check_char_validates(first17 in valid_first17()) {
        let check = id_check_char(&first17).unwrap();
        let id = format!("{first17}{check}");
        let info = check_id(&id, RefData::embedded()).unwrap();
        prop_assert_eq!(&info.area, &first17[..6]);
        prop_assert_eq!(Some(info.birth), birth_date(&id));
    }

    #[test]
    fn any_17_digits_get_a_check_char(first17 in digits(17)) {
        let check = id_check_char(&first17).unwrap();
        prop_assert!(check.is_ascii_digit() || check == 'X');
        let id = format!("{first17}{check}");
        // Whatever else is wrong, the check digit is not.
        let bad_check = matches!(
            check_id(&id, RefData::embedded()),
            Err(IdProblem::BadCheckDigit { .. })
        );
        prop_assert!(!bad_check);
    }

    #[test]
    fn changing_one_digit_breaks_the_check(
        first17 in valid_first17(),
        pos in 0usize..18,
        bump in 1u8..10,
    ) {
        let id = format!("{first17}{}", id_check_char(&first17).unwrap());
        let mut bytes = id.into_bytes();
        bytes[pos] = if pos == 17 {
            // The check position can also hold X (value 10): cycle through all 11 values.
            let all = b"0123456789X";
            let i = all.iter().position(|&c| c == bytes[17]).unwrap();
            all[(i + bump as usize) % 11]
        } else {
            b'0' + (bytes[pos] - b'0' + bump) % 10
        };
        let changed = String::from_utf8(bytes).unwrap();
        let result = check_id(&changed, RefData::embedded());
        let is_bad_check = matches!(result, Err(IdProblem::BadCheckDigit { .. }));
        prop_assert!(is_bad_check, "{} gave {:?}", changed, result);
    }

    #[test]
    fn normalize_id_is_idempotent(raw in "[0-9xX０-９ｘＸ \\-\u{3000}a-z'无]{0,24}") {
        let once = normalize_id(&raw);
        prop_assert_eq!(normalize_id(&once), once.clone());
    }

    #[test]
    fn normalize_keeps_valid_ids_and_repairs_their_forms(first17 in valid_first17()) {
        let id = format!("{first17}{}", id_check_char(&first17).unwrap());
        prop_assert_eq!(normalize_id(&id), id.clone());
        let lower = format!(" {} ", id.to_lowercase());
        prop_assert_eq!(normalize_id(&lower), id.clone());
        prop_assert_eq!(normalize_id(&to_full_width(&lower)), id.clone());
    }

    #[test]
    fn legacy_15_digits_become_19xx(
        area in prop::sample::select(vec!["370802", "372801", "110105"]),
        yy in 0u32..100,
        m in 1u32..=12,
        d in 1u32..=28,
        seq in digits(3),
    ) {
        let id15 = format!("{area}{yy:02}{m:02}{d:02}{seq}");
        let id18 = normalize_id(&id15);
        prop_assert_eq!(id18.len(), 18);
        let birth = birth_date(&id18).unwrap();
        prop_assert_eq!(birth.ymd(), (1900 + yy as i32, m, d));
        prop_assert!(check_id(&id18, RefData::embedded()).is_ok());
    }

    #[test]
    fn fold_width_undoes_full_width(text in "[!-~]([ -~]{0,30}[!-~])?") {
        prop_assert_eq!(fold_width(&to_full_width(&text)), text.clone());
        prop_assert_eq!(fold_width(&format!("\u{3000} {text}\t")), text.clone());
    }

    #[test]
    fn made_credit_codes_are_valid(first17 in credit_first17()) {
        let code = make_credit_code(&first17).unwrap();
        prop_assert!(credit_code_valid(&code));
        prop_assert_eq!(code.chars().last(), credit_code_check_char(&first17));
    }

    #[test]
    fn changing_one_credit_character_breaks_it(
        first17 in credit_first17(),
        pos in 0usize..18,
        bump in 1usize..31,
    ) {
        let code = make_credit_code(&first17).unwrap();
        let alphabet = CREDIT_ALPHABET.as_bytes();
        let mut bytes = code.into_bytes();
        let i = alphabet.iter().position(|&c| c == bytes[pos]).unwrap();
        bytes[pos] = alphabet[(i + bump) % 31];
        prop_assert!(!credit_code_valid(std::str::from_utf8(&bytes).unwrap()));
    }
}

/// Throughput of `check_id` over a mix of valid and invalid numbers. Prints ids/s (run with
/// `cargo test --release --test idcode_props -- --nocapture check_id_speed`); the assertion
/// only catches an order-of-magnitude regression, not machine noise.
#[test]
fn check_id_speed() {
    let start = std::time::Instant::now();
    let refdata = RefData::embedded();
    println!(
        "RefData::embedded first call: {:.2} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    let areas = ["110105", "370802", "371302", "372801", "999999"];
    let ids: Vec<String> = (0..10_000u32)
        .map(|i| {
            let first17 = format!(
                "{}{:04}{:02}{:02}{:03}",
                areas[i as usize % areas.len()],
                1950 + i % 60,
                1 + i % 12,
                1 + i % 31,
                i % 1000
            );
            let check = id_check_char(&first17).unwrap();
            // Every 7th number carries a wrong check digit.
            let check = if i % 7 == 0 {
                if check == '0' {
                    '1'
                } else {
                    '0'
                }
            } else {
                check
            };
            format!("{first17}{check}")
        })
        .collect();
    let rounds = 20;
    let start = std::time::Instant::now();
    let mut valid = 0usize;
    for _ in 0..rounds {
        for id in &ids {
            valid += check_id(std::hint::black_box(id), refdata).is_ok() as usize;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let checked = rounds * ids.len();
    let per_sec = checked as f64 / secs;
    println!("check_id: {checked} ids in {secs:.4} s = {per_sec:.0} ids/s ({valid} valid)");
    assert!(valid > 0 && valid < checked);

    // The allocation-free form the invalid_id rule can use.
    let start = std::time::Instant::now();
    let mut valid_parts = 0usize;
    for _ in 0..rounds {
        for id in &ids {
            valid_parts += check_id_parts(std::hint::black_box(id), refdata).is_ok() as usize;
        }
    }
    let parts_secs = start.elapsed().as_secs_f64();
    println!(
        "check_id_parts: {checked} ids in {parts_secs:.4} s = {:.0} ids/s",
        checked as f64 / parts_secs
    );
    assert_eq!(valid_parts, valid);

    // Ingest normalises every ID cell once.
    let raw: Vec<String> = ids
        .iter()
        .map(|id| format!(" {} ", id.to_lowercase()))
        .collect();
    let start = std::time::Instant::now();
    let mut total_len = 0usize;
    for _ in 0..rounds {
        for cell in &raw {
            total_len += normalize_id(std::hint::black_box(cell)).len();
        }
    }
    let norm_secs = start.elapsed().as_secs_f64();
    println!(
        "normalize_id: {checked} cells in {norm_secs:.4} s = {:.0} cells/s",
        checked as f64 / norm_secs
    );
    assert_eq!(total_len, checked * 18);
    assert!(
        per_sec > 100_000.0,
        "check_id is too slow: {per_sec:.0} ids/s"
    );
}

//! Properties of the parsers and writers that meet hostile text, run on stable in CI (a few
//! thousand cases each): value parsers never panic and read back what they format; CSV cells
//! are never formulas; xlsx text is always XML; terminal text carries no escapes; masked text
//! keeps no run of 11 digits or more.

use claimsweep::input::values::{parse_date, parse_int, parse_money};
use claimsweep::model::{fen_to_yuan, MAX_AMOUNT_FEN};
use claimsweep::output::{csv_cell, xml_text};
use claimsweep::report::mask::mask_tokens;
use claimsweep::text::terminal_safe;
use proptest::prelude::*;

/// Any text, with the characters hostile input likes to carry.
fn hostile() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            any::<char>(),
            prop::sample::select(vec![
                '=', '+', '-', '@', '\t', '\r', '\n', '"', ',', '\u{0}', '\u{1b}', '[', ']',
                '\u{7}', '\u{202E}', '\u{2066}', '\u{200B}', '\u{FEFF}', '\u{FFFE}', '\u{FFFF}',
                '0', '9', '.', '元', '¥', '年', '月', '日',
            ]),
        ],
        0..40,
    )
    .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn value_parsers_never_panic(s in hostile()) {
        let _ = parse_money(&s);
        let _ = parse_int(&s);
        let _ = parse_date(&s, false);
        let _ = parse_date(&s, true);
    }

    #[test]
    fn amounts_read_back_what_is_written_and_stay_bounded(fen in -MAX_AMOUNT_FEN..=MAX_AMOUNT_FEN) {
        prop_assert_eq!(parse_money(&fen_to_yuan(fen)), Ok(Some(fen)));
    }

    #[test]
    fn no_amount_beyond_the_bound_is_read(s in hostile()) {
        if let Ok(Some(fen)) = parse_money(&s) {
            prop_assert!(fen.abs() <= MAX_AMOUNT_FEN);
        }
    }

    #[test]
    fn csv_cells_never_start_a_formula(s in hostile()) {
        let c = csv_cell(&s);
        let risky = c.starts_with(['=', '+', '@', '\t', '\r'])
            || (c.starts_with('-') && c.trim().parse::<f64>().is_err());
        prop_assert!(!risky, "{:?}", c);
        // Inert cells keep the text after the quote.
        prop_assert!(c == s || c.strip_prefix('\'') == Some(s.as_str()));
    }

    #[test]
    fn xlsx_text_is_always_xml(s in hostile()) {
        let x = xml_text(&s);
        let xml = x.chars().all(|c| matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}');
        prop_assert!(xml, "not XML text: {:?}", x);
        prop_assert_eq!(x.chars().count(), s.chars().count());
    }

    #[test]
    fn terminal_text_has_no_escape_control_or_bidi_override(s in hostile()) {
        let t = terminal_safe(&s);
        let unsafe_left = t.chars().any(|c| (c.is_control() && c != '\n' && c != '\t')
            || ('\u{202A}'..='\u{202E}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c));
        prop_assert!(!unsafe_left, "{:?}", t);
        prop_assert_eq!(terminal_safe(&t), t.clone(), "idempotent");
    }

    #[test]
    fn masked_text_keeps_no_long_digit_run(s in digit_heavy()) {
        let m = mask_tokens(&s);
        // Full-width digits count as digits.
        let mut run = 0;
        for c in m.chars() {
            let c = claimsweep::text::fold_char(c);
            run = if c.is_ascii_digit() { run + 1 } else { 0 };
            prop_assert!(run < 11, "{:?} → {:?}", s, m);
        }
        prop_assert_eq!(m.chars().count(), s.chars().count(), "masking keeps the length");
        prop_assert_eq!(mask_tokens(&m), m.clone(), "idempotent");
    }
}

/// Text with long digit runs: ASCII and full-width digits, `X`, and hostile characters.
fn digit_heavy() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            8 => prop::sample::select(vec!['0', '1', '3', '7', '9']),
            2 => prop::sample::select(vec!['０', '１', '９', 'X', 'x', 'Ｘ', '-', ' ']),
            1 => any::<char>(),
        ],
        0..60,
    )
    .prop_map(|v| v.into_iter().collect())
}

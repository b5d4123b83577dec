//! Every function that puts ledger text into an output, on arbitrary text:
//! `output::csv_cell` (CSV exports), `output::xml_text` (xlsx cells), `text::terminal_safe`
//! (terminal summaries and `cases`), `report::html::esc` (the HTML report) and
//! `report::mask::Masker` (identifiers in reports).
//!
//! Asserts: nothing panics;
//! - a CSV cell never starts with `=`, `+`, `@`, tab or CR, and starts with `-` only as a
//!   finite negative number written in digits; it is the text, or the text after one `'`;
//! - xml text holds no character XML 1.0 forbids and changes only those, one for one;
//! - terminal text holds no ESC, no other control character but newline and tab, and no
//!   bidi override or isolate; it keeps the characters it keeps in order and is idempotent;
//! - HTML text holds no `<`, `>`, `"`, `'` and every `&` starts an entity; unescaping gives
//!   the text back;
//! - masking keeps the length in characters, hides at least one character of a non-empty
//!   identifier and shows the others as they were; masked free text holds no identifier
//!   left to mask (masking it again changes nothing); unmasked text is the text.

#![no_main]

use claimsweep::output::{csv_cell, xml_text};
use claimsweep::report::html::esc;
use claimsweep::report::mask::Masker;
use claimsweep::text::terminal_safe;
use libfuzzer_sys::fuzz_target;

fn csv(s: &str) {
    let c = csv_cell(s);
    assert!(
        c == s || c.strip_prefix('\'') == Some(s),
        "{s:?} → {c:?}: only a leading quote may be added"
    );
    assert!(
        !c.starts_with(['=', '+', '@', '\t', '\r']),
        "{s:?} → {c:?} starts a formula"
    );
    if c.starts_with('-') {
        let t = c.trim();
        let numeric = t[1..]
            .chars()
            .all(|ch| ch.is_ascii_digit() || matches!(ch, '.' | 'e' | 'E' | '+' | '-'))
            && t.parse::<f64>().is_ok_and(f64::is_finite);
        assert!(numeric, "{s:?} → {c:?} starts with - but is no number");
    }
}

fn xml(s: &str) {
    let forbidden = |c: char| {
        !(matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || ('\u{10000}'..='\u{10FFFF}').contains(&c))
    };
    let x = xml_text(s);
    assert!(!x.chars().any(forbidden), "{s:?} → {x:?}");
    assert_eq!(x.chars().count(), s.chars().count());
    for (a, b) in s.chars().zip(x.chars()) {
        assert!(a == b || (forbidden(a) && b == '\u{FFFD}'), "{a:?} → {b:?}");
    }
}

fn terminal(s: &str) {
    let t = terminal_safe(s);
    for c in t.chars() {
        assert!(c != '\u{1b}', "{s:?} → {t:?} keeps an ESC");
        assert!(
            !c.is_control() || c == '\n' || c == '\t',
            "{s:?} → {t:?} keeps {c:?}"
        );
        assert!(
            !('\u{202A}'..='\u{202E}').contains(&c) && !('\u{2066}'..='\u{2069}').contains(&c),
            "{s:?} → {t:?} keeps a bidi control {c:?}"
        );
    }
    // What is kept is kept in order: the output is a subsequence of the input.
    let mut rest = s.chars();
    for c in t.chars() {
        assert!(
            rest.any(|d| d == c),
            "{s:?} → {t:?}: {c:?} invented or reordered"
        );
    }
    assert_eq!(terminal_safe(&t), t, "terminal_safe is idempotent");
}

fn unescape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let (ent, ch) = [
            ("&amp;", '&'),
            ("&lt;", '<'),
            ("&gt;", '>'),
            ("&quot;", '"'),
            ("&#39;", '\''),
        ]
        .into_iter()
        .find(|(e, _)| rest.starts_with(e))
        .unwrap_or_else(|| panic!("a bare & in {s:?}"));
        out.push(ch);
        rest = &rest[ent.len()..];
    }
    out.push_str(rest);
    out
}

fn html(s: &str) {
    let e = esc(s);
    assert!(!e.contains(['<', '>', '"', '\'']), "{s:?} → {e:?}");
    assert_eq!(unescape_html(&e), s);
}

fn masked_value(kind: &str, s: &str, m: &str) {
    let (a, b): (Vec<char>, Vec<char>) = (s.chars().collect(), m.chars().collect());
    assert_eq!(a.len(), b.len(), "{kind} {s:?} → {m:?} changes the length");
    if !a.is_empty() {
        assert!(b.contains(&'*'), "{kind} {s:?} shown whole");
    }
    for (x, y) in a.iter().zip(&b) {
        assert!(x == y || *y == '*', "{kind} {s:?} → {m:?}");
    }
}

fn mask(s: &str) {
    let on = Masker::new(false);
    let off = Masker::new(true);
    masked_value("id", s, &on.id(s));
    masked_value("phone", s, &on.phone(s));
    masked_value("bank", s, &on.bank(s));
    let t = on.text(s);
    assert_eq!(t.chars().count(), s.chars().count(), "{s:?} → {t:?}");
    for (x, y) in s.chars().zip(t.chars()) {
        assert!(
            x == y || (y == '*' && (x.is_ascii_digit() || x == 'X' || x == 'x')),
            "{s:?} → {t:?}"
        );
    }
    assert_eq!(on.text(&t), t, "{s:?} → {t:?} still holds an identifier");
    assert_eq!(off.text(s), s);
    assert_eq!(off.id(s), s);
    assert_eq!(off.phone(s), s);
    assert_eq!(off.bank(s), s);
}

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    csv(&s);
    xml(&s);
    terminal(&s);
    html(&s);
    mask(&s);
    // What a report or export does: mask, then escape for its output.
    let m = Masker::new(false).text(&s);
    csv(&m);
    xml(&m);
    html(&m);
    terminal(&m);
});

//! Text for people, on the ground floor of every stage: the language of what inspectors read,
//! width folding of input cells, and plain-text layout for terminal output shared by the CLI
//! summaries and `cases` rendering.

/// Language of everything inspectors read: the one type the library and every subcommand's
/// `--lang` use.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// Folds full-width ASCII (`！`..`～`, U+FF01..U+FF5E) to half-width and the ideographic
/// space U+3000 to `' '`, then trims surrounding whitespace. Used on every input cell.
pub fn fold_width(s: &str) -> String {
    // Most cells are plain ASCII: skip the per-char rebuild for them.
    if s.is_ascii() {
        return s.trim().to_string();
    }
    let folded: String = s.chars().map(fold_char).collect();
    folded.trim().to_string()
}

/// One character of `fold_width`.
#[inline]
pub fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Terminal columns of a string: CJK and full-width characters take two.
pub fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

/// Text made safe for a terminal: ANSI escape sequences (`ESC [ … letter`, `ESC ] … BEL`)
/// and other control characters (all but newline and tab) are removed, and so are the bidi
/// overrides and isolates (U+202A–U+202E, U+2066–U+2069) that make text print in another order
/// than it is. Ledger text is untrusted: it must not recolour, move or reorder the screen.
pub fn terminal_safe(s: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || ('\u{202A}'..='\u{202E}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    };
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            match chars.peek() {
                // CSI: parameters and intermediates up to a final byte in @..~.
                Some('[') => {
                    chars.next();
                    for d in chars.by_ref() {
                        if ('@'..='~').contains(&d) {
                            break;
                        }
                    }
                }
                // OSC: up to BEL or ESC \.
                Some(']') => {
                    chars.next();
                    while let Some(d) = chars.next() {
                        if d == '\u{7}' {
                            break;
                        }
                        if d == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {
                    chars.next();
                }
            }
            continue;
        }
        if !unsafe_char(c) {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod terminal_tests {
    use super::terminal_safe;

    #[test]
    fn escapes_controls_and_bidi_overrides_are_removed() {
        assert_eq!(terminal_safe("张伟\u{1b}[31m红\u{1b}[0m"), "张伟红");
        assert_eq!(terminal_safe("a\u{1b}]0;title\u{7}b"), "ab");
        assert_eq!(terminal_safe("abc\u{202E}fed\u{202C}"), "abcfed");
        assert_eq!(terminal_safe("x\u{0}y\r\n\tz"), "xy\n\tz");
        assert_eq!(terminal_safe("普通文本\n"), "普通文本\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_width_folds_and_trims() {
        assert_eq!(fold_width("  ＡＢＣ！～\u{3000}"), "ABC!~");
        assert_eq!(fold_width("张三"), "张三");
        assert_eq!(fold_width("\u{3000}李\u{3000}四\u{3000}"), "李 四");
        assert_eq!(fold_width(" plain "), "plain");
        // Characters just outside the full-width ASCII block are left alone.
        assert_eq!(fold_width("\u{FF00}\u{FF5F}"), "\u{FF00}\u{FF5F}");
    }
}

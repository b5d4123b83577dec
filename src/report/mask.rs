//! Masking of personal identifiers in reports: the one place that decides what an inspector
//! without clearance sees. ID numbers keep their first 3 and last 4 characters
//! (`370***********1234`), mobile phones their first 3 and last 4 (`138****5678`), bank
//! accounts their first 4 and last 4. `--unmask` turns all of it off.
//!
//! Free text (explanations, case subjects such as `phone:13812345678`) is masked by pattern:
//! every run of digits (an 18-character ID may end in `X`) that stands on its own, not inside
//! a longer code such as `C000123`, and is long enough to be an identifier.

/// Whether and how personal identifiers are masked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Masker {
    pub enabled: bool,
}

/// Shortest digit run masked in free text: shorter runs are amounts, years, codes.
const MIN_IDENTIFIER_DIGITS: usize = 11;

impl Masker {
    pub fn new(unmask: bool) -> Masker {
        Masker { enabled: !unmask }
    }

    /// An ID number: first 3 and last 4 characters kept.
    pub fn id(&self, s: &str) -> String {
        if !self.enabled {
            return s.to_string();
        }
        keep_ends(s, 3, 4)
    }

    /// A phone number: a mobile keeps first 3 and last 4 digits; other numbers keep the last 4.
    pub fn phone(&self, s: &str) -> String {
        if !self.enabled {
            return s.to_string();
        }
        let digits = s.chars().filter(|c| c.is_ascii_digit()).count();
        if digits == 11 && s.starts_with('1') {
            keep_ends(s, 3, 4)
        } else {
            keep_ends(s, 0, 4)
        }
    }

    /// A bank account: first 4 and last 4 characters kept.
    pub fn bank(&self, s: &str) -> String {
        if !self.enabled {
            return s.to_string();
        }
        keep_ends(s, 4, 4)
    }

    /// Free text: every stand-alone digit run of identifier length is masked by its shape
    /// (15 or 18 characters: ID number; 11 starting with 1: mobile; otherwise bank account).
    pub fn text(&self, s: &str) -> String {
        if !self.enabled || !s.bytes().any(|b| b.is_ascii_digit()) {
            return s.to_string();
        }
        let chars: Vec<char> = s.chars().collect();
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let starts_run = c.is_ascii_digit() && (i == 0 || !is_code_char(chars[i - 1]));
            if !starts_run {
                out.push(c);
                i += 1;
                continue;
            }
            let mut j = i;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            // An ID number's check character may be X.
            if j - i == 17 && j < chars.len() && (chars[j] == 'X' || chars[j] == 'x') {
                j += 1;
            }
            let stands_alone = j == chars.len() || !is_code_char(chars[j]);
            let run: String = chars[i..j].iter().collect();
            let n = j - i;
            if !stands_alone || n < MIN_IDENTIFIER_DIGITS {
                out.push_str(&run);
            } else if n == 15 || n == 18 {
                out.push_str(&self.id(&run));
            } else if n == 11 && run.starts_with('1') {
                out.push_str(&self.phone(&run));
            } else {
                out.push_str(&self.bank(&run));
            }
            i = j;
        }
        out
    }
}

/// Letters and digits make codes: a digit run inside one is part of the code.
fn is_code_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Keeps `head` leading and `tail` trailing characters and stars the rest. Values too short to
/// hide anything after keeping both ends keep only their last character (or none).
fn keep_ends(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    let (head, tail) = if head + tail < n {
        (head, tail)
    } else if n > 1 {
        (0, 1.min(n - 1))
    } else {
        (0, 0)
    };
    let mut out = String::with_capacity(n);
    out.extend(&chars[..head]);
    out.extend(std::iter::repeat_n('*', n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ON: Masker = Masker { enabled: true };
    const OFF: Masker = Masker { enabled: false };

    #[test]
    fn id_phone_bank_keep_their_ends() {
        assert_eq!(ON.id("370302199001011234"), "370***********1234");
        assert_eq!(ON.id("37030219900101123X"), "370***********123X");
        assert_eq!(ON.phone("13812345678"), "138****5678");
        assert_eq!(ON.phone("0539-2345678"), "********5678");
        assert_eq!(ON.bank("6222021234567890123"), "6222***********0123");
    }

    #[test]
    fn short_values_never_show_whole() {
        assert_eq!(ON.id("12345"), "****5");
        assert_eq!(ON.bank("1234"), "***4");
        assert_eq!(ON.id("7"), "*");
        assert_eq!(ON.id(""), "");
    }

    #[test]
    fn unmask_returns_the_value() {
        assert_eq!(OFF.id("370302199001011234"), "370302199001011234");
        assert_eq!(OFF.text("电话 13812345678"), "电话 13812345678");
    }

    #[test]
    fn free_text_masks_identifiers_by_shape() {
        assert_eq!(
            ON.text("身份证号370302199001011234与37030219900101123X同名；phone:13812345678"),
            "身份证号370***********1234与370***********123X同名；phone:138****5678"
        );
        assert_eq!(
            ON.text("bank:6222021234567890123"),
            "bank:6222***********0123"
        );
    }

    #[test]
    fn free_text_leaves_amounts_dates_and_codes_alone() {
        let s =
            "申领 C0000123456789 于 2020-03-05 领取 1400.00 元，超过 1200 元；班级 K20200305001";
        assert_eq!(ON.text(s), s);
        // Ten digits is below identifier length.
        assert_eq!(ON.text("编号 1234567890"), "编号 1234567890");
    }
}

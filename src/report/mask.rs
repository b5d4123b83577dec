//! Masking of personal identifiers in reports: the one place that decides what an inspector
//! without clearance sees. ID numbers keep their first 3 and last 4 characters
//! (`370***********1234`), mobile phones their first 3 and last 4 (`138****5678`), bank
//! accounts their first 4 and last 4. `--unmask` turns all of it off.
//!
//! Free text (names, institution names, addresses, explanations, case subjects such as
//! `phone:13812345678`, claim ids, notes) is masked by pattern ([`mask_tokens`]): every run of
//! digits long enough to be an identifier, wherever it stands — an ID number typed into the
//! name column or a claim id built from one is masked like the ID number itself.

use std::borrow::Cow;

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

    /// Free text: every digit run of identifier length is masked by its shape
    /// ([`mask_tokens`]).
    pub fn text(&self, s: &str) -> String {
        if !self.enabled {
            return s.to_string();
        }
        mask_tokens(s).into_owned()
    }
}

/// A digit, ASCII or full-width (`０`–`９`), as its ASCII value.
fn digit(c: char) -> Option<char> {
    let c = crate::text::fold_char(c);
    c.is_ascii_digit().then_some(c)
}

/// Masks every token of free text that looks like a personal identifier, wherever it stands
/// (in a name, an address, inside a code such as a claim id built from an ID number). A token
/// is a maximal run of digits, ASCII or full-width; 17 digits followed by `X`/`x` make an
/// 18-character ID number. By its length:
///
/// * 15 or 18: an ID number, first 3 and last 4 kept (`370***********1234`);
/// * 11 starting with `1`: a mobile phone, first 3 and last 4 kept (`138****5678`);
/// * 16–19: a bank account, first 4 and last 4 kept;
/// * any other run of 11 or more digits is masked as a bank account too, so that no run of
///   11 digits or more is ever left in full; shorter runs (amounts, dates, codes) stay.
///
/// Text without such a run is returned borrowed, unchanged.
pub fn mask_tokens(text: &str) -> Cow<'_, str> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Option<String> = None;
    let mut i = 0;
    let mut copied = 0; // chars[..copied] are in `out` (when it exists)
    while i < chars.len() {
        if digit(chars[i]).is_none() {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && digit(chars[j]).is_some() {
            j += 1;
        }
        let digits = j - i;
        if digits == 17 && j < chars.len() && matches!(crate::text::fold_char(chars[j]), 'X' | 'x')
        {
            j += 1;
        }
        let n = j - i;
        if digits < MIN_IDENTIFIER_DIGITS {
            i = j;
            continue;
        }
        // ID numbers (15 or 18) and mobiles (11 starting with 1) keep 3 and 4; accounts and
        // any other long run keep 4 and 4.
        let id_or_mobile = n == 15 || n == 18 || (n == 11 && digit(chars[i]) == Some('1'));
        let (head, tail) = if id_or_mobile { (3, 4) } else { (4, 4) };
        let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
        o.extend(&chars[copied..i]);
        let run: String = chars[i..j].iter().collect();
        o.push_str(&keep_ends(&run, head, tail));
        copied = j;
        i = j;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut o) => {
            o.extend(&chars[copied..]);
            Cow::Owned(o)
        }
    }
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
    fn free_text_leaves_amounts_dates_and_short_codes_alone() {
        let s = "申领 SQ0000123456 于 2020-03-05 领取 1400.00 元，超过 1200 元；班级 K2020030501";
        assert_eq!(ON.text(s), s);
        assert!(matches!(mask_tokens(s), Cow::Borrowed(_)));
        // Ten digits is below identifier length.
        assert_eq!(ON.text("编号 1234567890"), "编号 1234567890");
    }

    #[test]
    fn tokens_inside_names_addresses_and_codes_are_masked() {
        // An ID number typed into the name column.
        assert_eq!(
            mask_tokens("张三370302199001011234"),
            "张三370***********1234"
        );
        // A phone inside an institution name or address.
        assert_eq!(
            mask_tokens("临沂市兰山区职业培训学校(电话13812345678)"),
            "临沂市兰山区职业培训学校(电话138****5678)"
        );
        assert_eq!(
            mask_tokens("通达路8号 联系13812345678号"),
            "通达路8号 联系138****5678号"
        );
        // A claim id built from an ID number, and one ending in x.
        assert_eq!(mask_tokens("C370302199001011234"), "C370***********1234");
        assert_eq!(
            mask_tokens("SQ37030219900101123x-2"),
            "SQ370***********123x-2"
        );
        // A 15-digit ID number, a 16-digit account.
        assert_eq!(mask_tokens("a370302900101123b"), "a370********1123b");
        assert_eq!(mask_tokens("卡6222021234567890"), "卡6222********7890");
    }

    #[test]
    fn other_long_runs_and_full_width_digits_are_masked() {
        // 11 digits not starting with 1, 12–14 and 20+ digits: masked as accounts.
        assert_eq!(mask_tokens("05392345678"), "0539***5678");
        assert_eq!(mask_tokens("C0000123456789"), "C0000*****6789");
        assert_eq!(mask_tokens("K20200305001"), "K2020***5001");
        assert_eq!(
            mask_tokens("123456789012345678901"),
            "1234*************8901"
        );
        // Full-width digits are digits.
        assert_eq!(
            mask_tokens("电话１３８１２３４５６７８"),
            "电话１３８****５６７８"
        );
        assert_eq!(mask_tokens("370302１99001011234"), "370***********1234");
    }
}

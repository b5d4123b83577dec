//! GB 11643 citizen ID numbers (公民身份号码) and GB 32100 unified social credit codes
//! (统一社会信用代码): input normalisation, check characters and validation.
//!
//! Normalisation never throws information away: an ID that cannot be repaired is returned
//! folded as it came, so an invalid number stays in the ledger as evidence for `invalid_id`.
//! Validation (`check_id`) judges only what the number itself says; whether a birth date lies
//! after the claim date is the `invalid_id` rule's business.

use crate::dates::Date;
use crate::refdata::RefData;
use crate::text::fold_char;

/// Normalises an ID number as exports write it: folds width, removes all whitespace (also
/// inside the number), `-` separators and a leading `'` (Excel's text marker), upper-cases
/// the `x` check character, and converts a 15-digit legacy number to 18 digits (inserts
/// "19" after the area code and computes the check digit). Anything else is returned folded
/// but otherwise as is, so invalid numbers are kept as evidence.
pub fn normalize_id(raw: &str) -> String {
    let mut out = String::with_capacity(18);
    for c in raw.chars().map(fold_char) {
        match c {
            'x' => out.push('X'),
            '-' => {}
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    // Excel's text marker, written by some exports in front of long numbers.
    // All of them, so that normalising twice changes nothing.
    if out.starts_with('\'') {
        out = out.trim_start_matches('\'').to_string();
    }
    if out.len() == 15 && out.bytes().all(|b| b.is_ascii_digit()) {
        if let Some(upgraded) = upgrade_15_to_18(&out) {
            return upgraded;
        }
    }
    out
}

/// 15-digit legacy number (area 6, birth YYMMDD 6, sequence 3) → 18 digits, century 19.
/// `None` unless the input is exactly 15 ASCII digits.
pub fn upgrade_15_to_18(id15: &str) -> Option<String> {
    let b = id15.as_bytes();
    if b.len() != 15 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut first17 = String::with_capacity(18);
    first17.push_str(&id15[..6]);
    first17.push_str("19");
    first17.push_str(&id15[6..]);
    let check = id_check_char(&first17)?;
    first17.push(check);
    Some(first17)
}

/// GB 11643 weights, 2^(17-i) mod 11 for positions 1..=17.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character by (weighted sum mod 11).
const ID_CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// ISO 7064 MOD 11-2 check character of the first 17 digits of an ID number; `None` unless
/// the input is exactly 17 ASCII digits.
pub fn id_check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 {
        return None;
    }
    id_check_byte(b).map(char::from)
}

#[inline]
fn id_check_byte(first17: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (&d, &w) in first17.iter().zip(ID_WEIGHTS.iter()) {
        if !d.is_ascii_digit() {
            return None;
        }
        sum += (d - b'0') as u32 * w;
    }
    Some(ID_CHECK_CHARS[(sum % 11) as usize])
}

/// Sex coded by the parity of the 17th digit (odd: male).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn zh(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

/// What a valid ID number says about its holder.
#[derive(Debug, Clone, PartialEq)]
pub struct IdInfo {
    /// Six-digit GB/T 2260 code of the place of issue (may be a retired code).
    pub area: String,
    pub birth: Date,
    pub sex: Sex,
}

/// Why an ID number is not valid. `Display` is English; `zh()` is for inspectors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdProblem {
    #[error("ID number does not have 18 characters")]
    BadLength,
    #[error("ID number has a character other than digits (and X as the last character)")]
    BadCharacter,
    #[error("wrong check digit: expected {expected}, found {found}")]
    BadCheckDigit { expected: char, found: char },
    #[error("birth date in the ID number does not exist or is before 1900")]
    BadBirthDate,
    #[error("area code {0} has never existed in GB/T 2260")]
    UnknownArea(String),
}

impl IdProblem {
    /// Chinese explanation for inspectors.
    pub fn zh(&self) -> String {
        match self {
            IdProblem::BadLength => "身份证号码不是18位".to_string(),
            IdProblem::BadCharacter => {
                "身份证号码含有非法字符（只允许数字，末位可为X）".to_string()
            }
            IdProblem::BadCheckDigit { expected, found } => {
                format!("身份证号码校验码错误：应为{expected}，实为{found}")
            }
            IdProblem::BadBirthDate => "身份证号码中的出生日期不存在或早于1900年".to_string(),
            IdProblem::UnknownArea(code) => {
                format!("身份证号码地址码{code}不在历年行政区划代码（GB/T 2260）中")
            }
        }
    }

    /// Short stable key of the problem kind, for grouping and machine-readable output.
    pub fn kind(&self) -> &'static str {
        match self {
            IdProblem::BadLength => "bad_length",
            IdProblem::BadCharacter => "bad_character",
            IdProblem::BadCheckDigit { .. } => "bad_check_digit",
            IdProblem::BadBirthDate => "bad_birth_date",
            IdProblem::UnknownArea(_) => "unknown_area",
        }
    }
}

/// Earliest birth year a valid ID may carry.
const MIN_BIRTH_YEAR: i32 = 1900;

/// Validates a normalised ID number (see `normalize_id`): 18 characters, digits with an
/// optional final `X`, correct check character, a birth date that exists and is not before
/// 1900, and an area code known in GB/T 2260 of any year (retired codes are valid: numbers
/// keep the code of the place where they were issued). Checks run in that order and the
/// first failure is returned.
pub fn check_id(id18: &str, refdata: &RefData) -> Result<IdInfo, IdProblem> {
    let (area, birth, sex) = check_id_parts(id18, refdata)?;
    // The only allocation on the valid path.
    let area = std::str::from_utf8(&area).unwrap_or_default().to_string();
    Ok(IdInfo { area, birth, sex })
}

/// `check_id` without allocating: the area code comes back as six ASCII digit bytes.
pub fn check_id_parts(id18: &str, refdata: &RefData) -> Result<([u8; 6], Date, Sex), IdProblem> {
    let b = id18.as_bytes();
    if b.len() != 18 {
        // A non-ASCII number of 18 characters is a character problem, not a length one.
        return Err(if id18.chars().count() == 18 {
            IdProblem::BadCharacter
        } else {
            IdProblem::BadLength
        });
    }
    if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
        return Err(IdProblem::BadCharacter);
    }
    let expected = id_check_byte(&b[..17]).ok_or(IdProblem::BadCharacter)?;
    if expected != b[17] {
        return Err(IdProblem::BadCheckDigit {
            expected: expected as char,
            found: b[17] as char,
        });
    }
    let birth = birth_from_bytes(b).ok_or(IdProblem::BadBirthDate)?;
    if birth_year_digits(b) < MIN_BIRTH_YEAR {
        return Err(IdProblem::BadBirthDate);
    }
    let code = digits_value(&b[..6]);
    if !refdata.area_known_code(code) {
        return Err(IdProblem::UnknownArea(id18[..6].to_string()));
    }
    let mut area = [0u8; 6];
    area.copy_from_slice(&b[..6]);
    let sex = if (b[16] - b'0') % 2 == 1 {
        Sex::Male
    } else {
        Sex::Female
    };
    Ok((area, birth, sex))
}

/// Birth date from positions 7–14 (YYYYMMDD) of an 18-character ID; no other checks.
/// `None` if those positions are not digits or the date does not exist.
pub fn birth_date(id18: &str) -> Option<Date> {
    let b = id18.as_bytes();
    if b.len() < 14 {
        return None;
    }
    birth_from_bytes(b)
}

#[inline]
fn birth_from_bytes(b: &[u8]) -> Option<Date> {
    let digits = &b[6..14];
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let y = digits_value(&digits[..4]) as i32;
    let m = digits_value(&digits[4..6]);
    let d = digits_value(&digits[6..8]);
    Date::from_ymd(y, m, d)
}

#[inline]
fn birth_year_digits(b: &[u8]) -> i32 {
    digits_value(&b[6..10]) as i32
}

/// Decimal value of ASCII digits (the caller has checked they are digits).
#[inline]
fn digits_value(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0u32, |acc, &d| acc * 10 + (d.wrapping_sub(b'0')) as u32)
}

/// Sex from the 17th character of an ID, no other checks.
pub fn sex_of(id18: &str) -> Option<Sex> {
    let d = *id18.as_bytes().get(16)?;
    if !d.is_ascii_digit() {
        return None;
    }
    Some(if (d - b'0') % 2 == 1 {
        Sex::Male
    } else {
        Sex::Female
    })
}

/// GB 32100-2015 alphabet: digits and upper-case letters without I, O, S, V, Z.
const CREDIT_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

#[inline]
fn credit_value(c: u8) -> Option<u32> {
    CREDIT_ALPHABET
        .iter()
        .position(|&a| a == c)
        .map(|p| p as u32)
}

/// GB 32100-2015 check character of the first 17 characters of a unified social credit code
/// (mod 31); `None` unless the input is exactly 17 characters of the code alphabet.
pub fn credit_code_check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (&c, &w) in b.iter().zip(CREDIT_WEIGHTS.iter()) {
        sum += credit_value(c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(CREDIT_ALPHABET[check as usize] as char)
}

/// Whether `code` is an 18-character unified social credit code with a correct check
/// character. Expects a normalised code (see `normalize_credit_code`).
pub fn credit_code_valid(code: &str) -> bool {
    if code.len() != 18 || !code.is_ascii() {
        return false;
    }
    match credit_code_check_char(&code[..17]) {
        Some(check) => code.as_bytes()[17] == check as u8,
        None => false,
    }
}

/// Appends the check character to 17 characters of a credit code (used by the generator).
pub fn make_credit_code(first17: &str) -> Option<String> {
    let check = credit_code_check_char(first17)?;
    let mut code = String::with_capacity(18);
    code.push_str(first17);
    code.push(check);
    Some(code)
}

/// Normalises a credit code as exports write it: folds width, removes whitespace and `-`,
/// upper-cases letters.
pub fn normalize_credit_code(raw: &str) -> String {
    raw.chars()
        .map(fold_char)
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refdata() -> &'static RefData {
        RefData::embedded()
    }

    #[test]
    fn published_vector_is_valid() {
        assert_eq!(id_check_char("11010519491231002"), Some('X'));
        let info = check_id("11010519491231002X", refdata()).unwrap();
        assert_eq!(info.area, "110105");
        assert_eq!(info.birth, Date::from_ymd(1949, 12, 31).unwrap());
        assert_eq!(info.sex, Sex::Female);
    }

    #[test]
    fn check_char_needs_17_digits() {
        assert_eq!(id_check_char("1101051949123100"), None);
        assert_eq!(id_check_char("110105194912310021"), None);
        assert_eq!(id_check_char("1101051949123100A"), None);
        assert_eq!(id_check_char("37080219940221002"), Some('9'));
    }

    #[test]
    fn legacy_15_digits_convert() {
        assert_eq!(normalize_id("370802940221002"), "370802199402210029");
        assert_eq!(normalize_id(" 370802 940221 002 "), "370802199402210029");
        // 15 characters that are not all digits are kept as they are.
        assert_eq!(normalize_id("37080294022100A"), "37080294022100A");
    }

    #[test]
    fn normalises_case_width_spaces_and_dashes() {
        assert_eq!(normalize_id("11010519491231002x"), "11010519491231002X");
        assert_eq!(
            normalize_id("３７０８０２１９９４０２２１００２９"),
            "370802199402210029"
        );
        assert_eq!(
            normalize_id("\u{3000}３７０８０２１９９４０２２１００２ｘ"),
            "37080219940221002X"
        );
        assert_eq!(normalize_id("370802-19940221-0029"), "370802199402210029");
        assert_eq!(normalize_id("'370802199402210029"), "370802199402210029");
        assert_eq!(normalize_id("''"), "");
        assert_eq!(normalize_id("12'3"), "12'3");
        assert_eq!(normalize_id("\t370802199402210029\n"), "370802199402210029");
        // Garbage is kept (folded) as evidence.
        assert_eq!(normalize_id("ＡＢＣ１２３"), "ABC123");
        assert_eq!(normalize_id("无"), "无");
        assert_eq!(normalize_id(""), "");
    }

    #[test]
    fn wrong_check_digit_is_reported() {
        assert_eq!(
            check_id("110105194912310021", refdata()),
            Err(IdProblem::BadCheckDigit {
                expected: 'X',
                found: '1'
            })
        );
    }

    #[test]
    fn impossible_birth_date_is_reported() {
        let first17 = "37080219990230002";
        let id = format!("{first17}{}", id_check_char(first17).unwrap());
        assert_eq!(check_id(&id, refdata()), Err(IdProblem::BadBirthDate));
        // 1899 is too early; 1900-01-01 is the first valid birth date.
        let old = "37080218991231002";
        let id = format!("{old}{}", id_check_char(old).unwrap());
        assert_eq!(check_id(&id, refdata()), Err(IdProblem::BadBirthDate));
        let first = "37080219000101002";
        let id = format!("{first}{}", id_check_char(first).unwrap());
        assert!(check_id(&id, refdata()).is_ok());
        // Leap day exists in 2000, not in 1900.
        for (body, ok) in [("37080220000229001", true), ("37080219000229001", false)] {
            let id = format!("{body}{}", id_check_char(body).unwrap());
            assert_eq!(check_id(&id, refdata()).is_ok(), ok, "{id}");
        }
    }

    #[test]
    fn area_codes_of_any_year_are_known() {
        let unknown = "99999919800101001";
        let id = format!("{unknown}{}", id_check_char(unknown).unwrap());
        assert_eq!(
            check_id(&id, refdata()),
            Err(IdProblem::UnknownArea("999999".to_string()))
        );
        // 372801: 临沂市 of the former 临沂地区, retired 1994, still valid in ID numbers.
        let retired = "37280119800101001";
        let id = format!("{retired}{}", id_check_char(retired).unwrap());
        let info = check_id(&id, refdata()).unwrap();
        assert_eq!(info.area, "372801");
        assert_eq!(info.sex, Sex::Male);
    }

    #[test]
    fn length_and_characters() {
        let r = refdata();
        assert_eq!(check_id("", r), Err(IdProblem::BadLength));
        assert_eq!(check_id("11010519491231002", r), Err(IdProblem::BadLength));
        assert_eq!(
            check_id("11010519491231002XX", r),
            Err(IdProblem::BadLength)
        );
        assert_eq!(
            check_id("1101051949123100X2", r),
            Err(IdProblem::BadCharacter)
        );
        assert_eq!(
            check_id("11010519491231002x", r),
            Err(IdProblem::BadCharacter)
        );
        // Unnormalised full-width digits: 18 characters, wrong kind.
        assert_eq!(
            check_id("１１０１０５１９４９１２３１００２Ｘ", r),
            Err(IdProblem::BadCharacter)
        );
    }

    #[test]
    fn birth_date_reads_positions_7_to_14_only() {
        assert_eq!(
            birth_date("370802199402210029"),
            Date::from_ymd(1994, 2, 21)
        );
        // Wrong check digit does not matter here.
        assert_eq!(
            birth_date("370802199402210020"),
            Date::from_ymd(1994, 2, 21)
        );
        assert_eq!(birth_date("370802199402300029"), None);
        assert_eq!(birth_date("3708021994"), None);
        assert_eq!(sex_of("370802199402210029"), Some(Sex::Female));
        assert_eq!(sex_of("370802199402210019"), Some(Sex::Male));
    }

    #[test]
    fn problems_explain_in_chinese() {
        let p = IdProblem::BadCheckDigit {
            expected: 'X',
            found: '1',
        };
        assert_eq!(p.zh(), "身份证号码校验码错误：应为X，实为1");
        assert_eq!(p.to_string(), "wrong check digit: expected X, found 1");
        assert!(IdProblem::UnknownArea("999999".into())
            .zh()
            .contains("999999"));
    }

    #[test]
    fn credit_code_published_vector() {
        assert!(credit_code_valid("91350100M000100Y43"));
        assert_eq!(credit_code_check_char("91350100M000100Y4"), Some('3'));
        assert_eq!(
            make_credit_code("91350100M000100Y4").as_deref(),
            Some("91350100M000100Y43")
        );
        // Any one-character change breaks it.
        assert!(!credit_code_valid("91350100M000100Y44"));
        assert!(!credit_code_valid("91350100M000101Y43"));
        assert!(!credit_code_valid("81350100M000100Y43"));
        // Letters outside the alphabet, wrong lengths, lower case.
        assert!(!credit_code_valid("91350100M000100I43"));
        assert!(!credit_code_valid("91350100M000100Y4"));
        assert!(!credit_code_valid("91350100m000100y43"));
        assert_eq!(make_credit_code("91350100M000100O4"), None);
        assert_eq!(
            normalize_credit_code(" ９１３５０１００ｍ０００１００ｙ４３ "),
            "91350100M000100Y43"
        );
    }

    #[test]
    fn credit_check_can_be_zero() {
        // Find a body whose check value is 31 ≡ 0 and make sure it maps to '0'.
        let body = (0..1000)
            .map(|n| format!("9137130000000{n:04}"))
            .find(|b| credit_code_check_char(b) == Some('0'))
            .expect("some body has check 0");
        assert!(credit_code_valid(&format!("{body}0")));
    }
}

//! Parsers for single cell values as real exports write them: loose dates, amounts with
//! currency signs and separators, counts with units, yes/no flags.
//!
//! Every parser takes a cell already folded to half width and trimmed
//! ([`crate::text::fold_width`]) and returns `Ok(None)` for an empty cell, so each table
//! decides for itself whether a value is required.

use crate::dates::Date;
use crate::model::Fen;

/// Why one value could not be read (Chinese / English, as stored in `rejects.reason`).
pub type ValueError = &'static str;

/// Parses `2020-03-05`, `2020/3/5`, `2020.3.5`, `20200305`, `2020年3月5日`, optionally
/// followed by a time (`2020-03-05 00:00:00`, `2020-03-05T08:00`). With `excel_serial`, a
/// plain number is an Excel (1900 system) serial day number, as workbooks store dates.
pub fn parse_date(s: &str, excel_serial: bool) -> Result<Option<Date>, ValueError> {
    const BAD: ValueError = "日期无法识别 / unreadable date";
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    // Drop a trailing time of day.
    let s = match s.find([' ', 'T']) {
        Some(i) if i >= 8 => s[..i].trim_end(),
        _ => s,
    };
    let b = s.as_bytes();
    // The stored form, and what most exports write: no splitting needed.
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        if let Some(d) = Date::parse_iso(s) {
            return Ok(Some(d));
        }
    }
    if b.iter().all(u8::is_ascii_digit) {
        if b.len() == 8 {
            let y = s[0..4].parse().map_err(|_| BAD)?;
            let m = s[4..6].parse().map_err(|_| BAD)?;
            let d = s[6..8].parse().map_err(|_| BAD)?;
            return Date::from_ymd(y, m, d).map(Some).ok_or(BAD);
        }
        if excel_serial && (1..=6).contains(&b.len()) {
            return excel_serial_date(s.parse::<f64>().map_err(|_| BAD)?)
                .map(Some)
                .ok_or(BAD);
        }
        return Err(BAD);
    }
    if excel_serial {
        if let Ok(f) = s.parse::<f64>() {
            return excel_serial_date(f).map(Some).ok_or(BAD);
        }
    }
    let parts: Vec<&str> = if s.contains('年') {
        s.trim_end_matches('日')
            .trim_end_matches('号')
            .split(['年', '月'])
            .collect()
    } else {
        s.split(['-', '/', '.']).collect()
    };
    if parts.len() != 3 || parts[0].len() != 4 || parts[1].is_empty() || parts[1].len() > 2 {
        return Err(BAD);
    }
    if parts[2].is_empty() || parts[2].len() > 2 {
        return Err(BAD);
    }
    let y: i32 = parts[0].parse().map_err(|_| BAD)?;
    let m: u32 = parts[1].parse().map_err(|_| BAD)?;
    let d: u32 = parts[2].parse().map_err(|_| BAD)?;
    Date::from_ymd(y, m, d).map(Some).ok_or(BAD)
}

/// Excel's 1900 date system: serial 1 = 1900-01-01, and serial 60 is the 1900-02-29 that
/// never was (Lotus compatibility), so serials from 61 on count from 1899-12-30.
pub fn excel_serial_date(serial: f64) -> Option<Date> {
    if !serial.is_finite() || !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let n = serial.floor() as i32;
    let base = if n >= 61 {
        Date::from_ymd(1899, 12, 30)?
    } else {
        Date::from_ymd(1899, 12, 31)?
    };
    Some(Date(base.0 + n))
}

/// Parses an amount in yuan to exact fen: `1200`, `1,200.00`, `¥1200`, `1200元`, `-3.5`.
/// Decimal text is parsed digit by digit, never through floating point.
pub fn parse_money(s: &str) -> Result<Option<Fen>, ValueError> {
    const BAD: ValueError = "金额无法识别 / unreadable amount";
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    // Plain decimal text (the common case) skips the currency-sign stripping.
    let plain = s
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    let s = if plain {
        s
    } else {
        s.trim_start_matches(['¥', '￥'])
            .trim_start_matches("人民币")
            .trim_start_matches("RMB")
            .trim_start_matches("CNY")
            .trim_end_matches('元')
            .trim_end_matches("人民币")
            .trim()
    };
    if s.is_empty() {
        return Err(BAD);
    }
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, s),
    };
    let mut yuan: i64 = 0;
    let mut fen: i64 = 0;
    let mut seen_digit = false;
    let mut decimals: Option<u32> = None;
    for c in digits.chars() {
        match c {
            '0'..='9' => {
                let v = c as i64 - '0' as i64;
                seen_digit = true;
                match decimals {
                    None => {
                        yuan = yuan
                            .checked_mul(10)
                            .and_then(|y| y.checked_add(v))
                            .ok_or(BAD)?
                    }
                    Some(n) if n < 2 => {
                        fen = fen * 10 + v;
                        decimals = Some(n + 1);
                    }
                    // Digits beyond the fen are accepted only as trailing zeros.
                    Some(_) if v == 0 => {}
                    Some(_) => return Err("金额超过两位小数 / amount has more than two decimals"),
                }
            }
            ',' | ' ' if decimals.is_none() => {}
            '.' if decimals.is_none() => decimals = Some(0),
            _ => return Err(BAD),
        }
    }
    if !seen_digit {
        return Err(BAD);
    }
    if decimals == Some(1) {
        fen *= 10;
    }
    let total = yuan
        .checked_mul(100)
        .and_then(|y| y.checked_add(fen))
        .ok_or(BAD)?;
    if total > crate::model::MAX_AMOUNT_FEN {
        return Err("金额超过每项上限1000万元，疑为录入或导出错误 / amount above the bound of 10,000,000 yuan per value: an entry or export error");
    }
    Ok(Some(if neg { -total } else { total }))
}

/// Parses a whole count: `12`, `1,200`, `30天`, `12个月`, `12.0` (as spreadsheets write
/// integers).
pub fn parse_int(s: &str) -> Result<Option<i32>, ValueError> {
    const BAD: ValueError = "数值无法识别 / unreadable number";
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let s = [
        "个月", "课时", "学时", "小时", "天", "日", "人", "月", "年", "名",
    ]
    .iter()
    .find_map(|u| s.strip_suffix(u))
    .unwrap_or(s)
    .trim_end();
    let s = match s.split_once('.') {
        Some((whole, frac)) if frac.bytes().all(|b| b == b'0') => whole,
        Some(_) => return Err(BAD),
        None => s,
    };
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let mut v: i64 = 0;
    let mut seen = false;
    for c in digits.chars() {
        match c {
            '0'..='9' => {
                v = v * 10 + (c as i64 - '0' as i64);
                seen = true;
                if v > i32::MAX as i64 {
                    return Err(BAD);
                }
            }
            ',' => {}
            _ => return Err(BAD),
        }
    }
    if !seen {
        return Err(BAD);
    }
    Ok(Some(if neg { -(v as i32) } else { v as i32 }))
}

/// Parses a yes/no flag: `1`/`0`, `是`/`否`, `true`/`false`, `Y`/`N`, `yes`/`no`.
pub fn parse_flag(s: &str) -> Result<Option<bool>, ValueError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    const YES: &[&str] = &["1", "是", "true", "y", "yes", "t", "1.0"];
    const NO: &[&str] = &["0", "否", "false", "n", "no", "f", "0.0"];
    if YES.iter().any(|y| s.eq_ignore_ascii_case(y)) {
        Ok(Some(true))
    } else if NO.iter().any(|n| s.eq_ignore_ascii_case(n)) {
        Ok(Some(false))
    } else {
        Err("是否值无法识别 / unreadable yes/no value")
    }
}

/// Removes whitespace and `-` separators from a phone number or bank account, so the same
/// contact written two ways is one contact.
pub fn compact_number(s: &str) -> String {
    // ASCII whitespace is every byte from tab to CR and the space (a newline from a quoted
    // multi-line cell too), as `char::is_whitespace` below has it.
    if !s.bytes().any(|b| matches!(b, b' ' | b'-' | b'\t'..=b'\r')) && s.is_ascii() {
        return s.to_string();
    }
    s.chars()
        .map(crate::text::fold_char)
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> Option<Date> {
        Date::from_ymd(y, m, dd)
    }

    #[test]
    fn dates_in_every_export_form() {
        for s in [
            "2020-03-05",
            "2020/3/5",
            "20200305",
            "2020年3月5日",
            "2020.3.5",
            "2020-3-05 00:00:00",
            "2020-03-05T08:30",
        ] {
            assert_eq!(parse_date(s, false), Ok(d(2020, 3, 5)), "{s}");
        }
        assert_eq!(parse_date("", false), Ok(None));
        assert_eq!(parse_date("  ", false), Ok(None));
        assert!(parse_date("2020-02-30", false).is_err());
        assert!(parse_date("2020-13-01", false).is_err());
        assert!(parse_date("3/5/2020", false).is_err());
        assert!(parse_date("昨天", false).is_err());
        assert!(
            parse_date("43895", false).is_err(),
            "serials only from workbooks"
        );
        assert_eq!(parse_date("43895", true), Ok(d(2020, 3, 5)));
        assert_eq!(parse_date("43895.75", true), Ok(d(2020, 3, 5)));
        assert_eq!(excel_serial_date(1.0), d(1900, 1, 1));
        assert_eq!(excel_serial_date(61.0), d(1900, 3, 1));
        assert_eq!(excel_serial_date(0.0), None);
    }

    #[test]
    fn money_is_exact_fen() {
        assert_eq!(parse_money("1200"), Ok(Some(120_000)));
        assert_eq!(parse_money("1,200.00"), Ok(Some(120_000)));
        assert_eq!(parse_money("¥1200"), Ok(Some(120_000)));
        assert_eq!(parse_money("￥1,200.5"), Ok(Some(120_050)));
        assert_eq!(parse_money("1200元"), Ok(Some(120_000)));
        assert_eq!(parse_money("0.07"), Ok(Some(7)));
        assert_eq!(parse_money("33.330"), Ok(Some(3333)));
        assert_eq!(parse_money("-3.5"), Ok(Some(-350)));
        assert_eq!(parse_money(""), Ok(None));
        assert!(parse_money("12.345").is_err());
        assert!(parse_money("1.2.3").is_err());
        assert!(parse_money("一千").is_err());
        assert!(parse_money("元").is_err());
        assert!(parse_money("99999999999999999999").is_err());
    }

    #[test]
    fn counts_and_flags() {
        assert_eq!(parse_int("30天"), Ok(Some(30)));
        assert_eq!(parse_int("12个月"), Ok(Some(12)));
        assert_eq!(parse_int("1,200"), Ok(Some(1200)));
        assert_eq!(parse_int("12.0"), Ok(Some(12)));
        assert_eq!(parse_int(""), Ok(None));
        assert!(parse_int("12.5").is_err());
        assert!(parse_int("十二").is_err());
        assert_eq!(parse_flag("是"), Ok(Some(true)));
        assert_eq!(parse_flag("TRUE"), Ok(Some(true)));
        assert_eq!(parse_flag("0"), Ok(Some(false)));
        assert_eq!(parse_flag("否"), Ok(Some(false)));
        assert_eq!(parse_flag(""), Ok(None));
        assert!(parse_flag("也许").is_err());
    }

    #[test]
    fn contacts_lose_separators() {
        assert_eq!(compact_number("138-0000 0000"), "13800000000");
        assert_eq!(compact_number("6222 0200 1234"), "622202001234");
        assert_eq!(compact_number("13800000000"), "13800000000");
    }
}

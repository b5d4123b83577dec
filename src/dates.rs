//! Calendar dates as day numbers (days since 1970-01-01), the form every stage uses.
//!
//! Day numbers make date arithmetic and comparisons integer operations in the hot loops of the
//! rules; conversion to and from the proleptic Gregorian calendar uses Howard Hinnant's
//! `days_from_civil` algorithm.

use std::fmt;

/// A calendar date, stored as days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Date(pub i32);

/// A date or none in four bytes, where `Option<Date>` takes eight: for records a snapshot
/// holds by the million (certificates: 39 MB at ten million claims).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OptDate(i32);

impl OptDate {
    /// The day number no date has (5.8 million years before 1970): "no date" as the
    /// snapshot's files store it too.
    pub const NONE: i32 = i32::MIN;

    pub fn get(self) -> Option<Date> {
        (self.0 != Self::NONE).then_some(Date(self.0))
    }

    /// The day number, or [`OptDate::NONE`].
    pub fn day_number(self) -> i32 {
        self.0
    }

    /// From a day number, [`OptDate::NONE`] for none.
    pub fn from_day_number(day: i32) -> OptDate {
        OptDate(day)
    }
}

impl From<Option<Date>> for OptDate {
    fn from(d: Option<Date>) -> OptDate {
        OptDate(d.map_or(Self::NONE, |d| d.0))
    }
}

impl fmt::Debug for OptDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

impl Date {
    /// Builds a date from year, month, day; `None` if the day does not exist.
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Date> {
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        Some(Date(days_from_civil(y, m, d)))
    }

    /// (year, month, day)
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    pub fn year(self) -> i32 {
        self.ymd().0
    }

    /// Parses `YYYY-MM-DD` exactly (the stored form). Loose formats are the input stage's job.
    pub fn parse_iso(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let y = s[0..4].parse().ok()?;
        let m = s[5..7].parse().ok()?;
        let d = s[8..10].parse().ok()?;
        Date::from_ymd(y, m, d)
    }

    /// Whole years of age on `on` for someone born on `self`.
    pub fn age_on(self, on: Date) -> i32 {
        let (by, bm, bd) = self.ymd();
        let (y, m, d) = on.ymd();
        let mut age = y - by;
        if (m, d) < (bm, bd) {
            age -= 1;
        }
        age
    }

    /// Today's date in UTC.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Date((secs / 86_400) as i32)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

pub fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u32;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe as i32 - 719_468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u32;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe as i32 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Current UTC time as `YYYY-MM-DDTHH:MM:SSZ`, for audit trails and ingest records.
pub fn now_timestamp() -> String {
    timestamp_of(now_unix())
}

/// Seconds since 1970 (UTC), now.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A moment in seconds since 1970 as the stored UTC `YYYY-MM-DDTHH:MM:SSZ` (sorts as text).
pub fn timestamp_of(secs: u64) -> String {
    let day = Date((secs / 86_400) as i32);
    let rem = secs % 86_400;
    format!(
        "{day}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Offset of the time zone times are shown in, in minutes east of UTC. Beijing time
/// (Asia/Shanghai, UTC+8, no daylight saving since 1991) unless `CLAIMSWEEP_TZ_OFFSET` says
/// otherwise (e.g. `+08:00`, `-05:00`, `0`). The database always stores UTC.
pub fn display_offset_minutes() -> i32 {
    std::env::var("CLAIMSWEEP_TZ_OFFSET")
        .ok()
        .and_then(|v| parse_offset(&v))
        .unwrap_or(8 * 60)
}

fn parse_offset(v: &str) -> Option<i32> {
    let v = v.trim();
    let (sign, rest) = match v.as_bytes().first()? {
        b'+' => (1, &v[1..]),
        b'-' => (-1, &v[1..]),
        _ => (1, v),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 60 + m))
}

/// A stored UTC timestamp (`YYYY-MM-DDTHH:MM:SSZ`) shown in local display time:
/// `2026-12-06 12:18:57` plus ` (UTC+8)` when `with_zone`. Text that is not such a timestamp
/// is returned unchanged, so nothing is hidden.
pub fn display_time(stored: &str, with_zone: bool) -> String {
    display_time_at(stored, display_offset_minutes(), with_zone)
}

pub fn display_time_at(stored: &str, offset_min: i32, with_zone: bool) -> String {
    let parsed = (|| {
        let s = stored.trim();
        let (d, t) = s.split_once(['T', ' '])?;
        let t = t.strip_suffix('Z').unwrap_or(t);
        let date = Date::parse_iso(d)?;
        let mut hms = t.splitn(3, ':').map(|x| x.parse::<i64>().ok());
        let (h, mi, se) = (
            hms.next()??,
            hms.next()??,
            hms.next().flatten().unwrap_or(0),
        );
        Some(date.0 as i64 * 86_400 + h * 3600 + mi * 60 + se)
    })();
    let Some(secs) = parsed else {
        return stored.to_string();
    };
    let local = secs + offset_min as i64 * 60;
    let day = Date(local.div_euclid(86_400) as i32);
    let rem = local.rem_euclid(86_400);
    let mut out = format!(
        "{day} {:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    );
    if with_zone {
        let (sign, a) = if offset_min < 0 {
            ('-', -offset_min)
        } else {
            ('+', offset_min)
        };
        if a % 60 == 0 {
            out.push_str(&format!(" (UTC{sign}{})", a / 60));
        } else {
            out.push_str(&format!(" (UTC{sign}{}:{:02})", a / 60, a % 60));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_stored_utc_in_beijing_time() {
        assert_eq!(
            display_time_at("2026-12-06T20:30:05Z", 480, true),
            "2026-12-07 04:30:05 (UTC+8)"
        );
        assert_eq!(
            display_time_at("2026-01-01T01:00:00Z", -300, false),
            "2025-12-31 20:00:00"
        );
        assert_eq!(display_time_at("not a time", 480, true), "not a time");
        assert_eq!(parse_offset("+05:30"), Some(330));
        assert_eq!(parse_offset("-5"), Some(-300));
    }

    #[test]
    fn round_trips_and_epoch() {
        assert_eq!(Date::from_ymd(1970, 1, 1), Some(Date(0)));
        for &(y, m, d) in &[(2000, 2, 29), (1949, 12, 31), (2020, 3, 5), (2100, 12, 31)] {
            assert_eq!(Date::from_ymd(y, m, d).unwrap().ymd(), (y, m, d));
        }
        assert_eq!(Date::from_ymd(2019, 2, 29), None);
        assert_eq!(Date::from_ymd(2020, 13, 1), None);
        assert_eq!(
            Date::parse_iso("2020-03-05").unwrap().to_string(),
            "2020-03-05"
        );
    }

    #[test]
    fn age_counts_whole_years() {
        let b = Date::from_ymd(2000, 6, 15).unwrap();
        assert_eq!(b.age_on(Date::from_ymd(2016, 6, 14).unwrap()), 15);
        assert_eq!(b.age_on(Date::from_ymd(2016, 6, 15).unwrap()), 16);
    }
}

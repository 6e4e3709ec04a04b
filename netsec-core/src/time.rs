//! Packet time: integer microseconds since the Unix epoch.
//!
//! Flows are timed by packet timestamps only, never by the wall clock when reading a file
//! (see `FEATURES.md`). Nanosecond captures are truncated to microseconds on read.

use std::fmt;

/// A packet timestamp in microseconds since 1970-01-01T00:00:00Z.
///
/// Negative values are allowed (captures with broken clocks exist); arithmetic saturates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// Builds a timestamp from microseconds since the epoch.
    pub const fn from_micros(us: i64) -> Self {
        Timestamp(us)
    }

    /// Builds a timestamp from whole seconds plus a sub-second part in `units_per_sec` units
    /// (1_000_000 for µs captures, 1_000_000_000 for ns captures), truncating to µs.
    pub fn from_parts(secs: i64, frac: u64, units_per_sec: u64) -> Self {
        let frac_us = if units_per_sec == 0 {
            0
        } else {
            (u128::from(frac) * 1_000_000 / u128::from(units_per_sec)) as i64
        };
        Timestamp(secs.saturating_mul(1_000_000).saturating_add(frac_us))
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// `self - earlier` in microseconds (saturating; negative when time went backwards).
    pub const fn micros_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// This timestamp moved forward by `us` microseconds (saturating).
    pub const fn add_micros(self, us: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(us))
    }
}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`, what [`Display`](fmt::Display) writes
    /// (fractions beyond microseconds are truncated); `None` for anything else.
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        parse_rfc3339(s)
    }
}

/// Serialized as RFC 3339 UTC text with microseconds (`2009-02-13T23:31:30.123456Z`), the
/// form of every time in netsec's JSON.
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        parse_rfc3339(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid RFC 3339 time {text:?}")))
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` (what [`Timestamp`]'s `Display` writes).
fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 20 || b.last() != Some(&b'Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    if b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b't') || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut micros = 0i64;
    let rest = &s[19..s.len() - 1];
    if let Some(frac) = rest.strip_prefix('.') {
        if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let mut padded = frac.to_string();
        while padded.len() < 6 {
            padded.push('0');
        }
        micros = padded.get(..6)?.parse().ok()?;
    } else if !rest.is_empty() {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec;
    Some(Timestamp::from_micros(secs * 1_000_000 + micros))
}

/// Howard Hinnant's `days_from_civil`.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Timestamp {
    /// RFC 3339 UTC with microseconds as fixed-width ASCII (27 bytes), without the formatting
    /// machinery: flow output writes two per flow. `None` outside years 0000–9999, where the
    /// width changes; [`Display`](fmt::Display) handles those.
    pub fn to_rfc3339_bytes(self) -> Option<[u8; 27]> {
        let (days, _, _) = self.split_day();
        self.to_rfc3339_bytes_with_date(&date_bytes(days)?)
    }

    /// (days since the epoch, second of the day, microsecond of the second).
    pub(crate) fn split_day(self) -> (i64, u32, u32) {
        let secs = self.0.div_euclid(1_000_000);
        (
            secs.div_euclid(86_400),
            secs.rem_euclid(86_400) as u32,
            self.0.rem_euclid(1_000_000) as u32,
        )
    }

    /// As [`to_rfc3339_bytes`](Self::to_rfc3339_bytes) with the `YYYY-MM-DD` part already
    /// known (callers formatting many timestamps of one day cache it).
    pub(crate) fn to_rfc3339_bytes_with_date(self, date: &[u8; 10]) -> Option<[u8; 27]> {
        let (_, sod, micros) = self.split_day();
        let mut b = *b"0000-00-00T00:00:00.000000Z";
        b[..10].copy_from_slice(date);
        put_digits(&mut b[11..13], sod / 3600);
        put_digits(&mut b[14..16], (sod / 60) % 60);
        put_digits(&mut b[17..19], sod % 60);
        put_digits(&mut b[20..26], micros);
        Some(b)
    }
}

/// `YYYY-MM-DD` of a day number, for years 0000–9999.
pub(crate) fn date_bytes(days: i64) -> Option<[u8; 10]> {
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return None;
    }
    let mut b = *b"0000-00-00";
    put_digits(&mut b[0..4], y as u32);
    put_digits(&mut b[5..7], m);
    put_digits(&mut b[8..10], d);
    Some(b)
}

/// Writes `v` in decimal into `out`, zero-padded to its full width.
#[inline]
fn put_digits(out: &mut [u8], mut v: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Formats as RFC 3339 UTC with microseconds, e.g. `2024-01-02T03:04:05.000006Z`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(1_000_000);
        let micros = self.0.rem_euclid(1_000_000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        )
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`, exact for the whole i64 range we can reach).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_micros() {
        assert_eq!(
            Timestamp::from_micros(0).to_string(),
            "1970-01-01T00:00:00.000000Z"
        );
        // 2009-02-13T23:31:30.123456Z
        let t = Timestamp::from_micros(1_234_567_890_123_456);
        assert_eq!(t.to_string(), "2009-02-13T23:31:30.123456Z");
        assert_eq!(
            Timestamp::from_micros(-1).to_string(),
            "1969-12-31T23:59:59.999999Z"
        );
        // leap day
        assert_eq!(
            Timestamp::from_micros(951_782_400_000_000).to_string(),
            "2000-02-29T00:00:00.000000Z"
        );
    }

    #[test]
    fn fast_form_equals_display() {
        for us in [
            0,
            -1,
            1_234_567_890_123_456,
            951_782_400_000_000,
            253_402_300_799_999_999,
        ] {
            let t = Timestamp::from_micros(us);
            let fast = t.to_rfc3339_bytes().expect("year within 0..=9999");
            assert_eq!(std::str::from_utf8(&fast).expect("ascii"), t.to_string());
        }
        assert_eq!(Timestamp::from_micros(i64::MAX).to_rfc3339_bytes(), None);
        assert_eq!(Timestamp::from_micros(i64::MIN).to_rfc3339_bytes(), None);
    }

    #[test]
    fn from_parts_truncates_nanos() {
        assert_eq!(
            Timestamp::from_parts(1, 999_999_999, 1_000_000_000).as_micros(),
            1_999_999
        );
        assert_eq!(
            Timestamp::from_parts(2, 5, 1_000_000).as_micros(),
            2_000_005
        );
        assert_eq!(
            Timestamp::from_parts(i64::MAX, 5, 1_000_000).as_micros(),
            i64::MAX
        );
    }
}

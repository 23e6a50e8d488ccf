//! xAPI timestamps (xAPI 1.0.3 Data 4.5, xAPI 2.0 section 4.2.7).
//!
//! The spec asks for ISO 8601 combined date-time values and recommends the RFC 3339 profile. We
//! accept the ISO 8601 calendar forms clients actually send (extended `2024-01-02T03:04:05.678+01:00`
//! and basic `20240102T030405Z`), with or without seconds, fraction and zone, and refuse everything
//! else (date-only, week/ordinal dates, spaces instead of `T`), because a value the LRS cannot put
//! on the timeline would break `since`/`until` queries later.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Parses an xAPI timestamp into a point in time.
///
/// * The time zone may be `Z`, `±hh:mm`, `±hhmm` or `±hh`. A missing zone is read as UTC (the spec
///   only says a zone SHOULD be included).
/// * `-00:00` (and `-0000`, `-00`) is refused: RFC 3339 reserves it for "offset unknown", and the
///   conformance suite requires a 400 for it.
/// * Lowercase `t` and `z` are accepted, as RFC 3339 section 5.6 allows.
/// * Fractions beyond nanoseconds are truncated; the LRS only promises milliseconds.
pub fn parse_timestamp(s: &str) -> Result<OffsetDateTime, String> {
    let b = s.as_bytes();
    let t_pos = b
        .iter()
        .position(|&c| c == b'T' || c == b't')
        .ok_or_else(|| format!("\"{s}\" is not an ISO 8601 date and time (missing 'T' between date and time)"))?;
    let (date_part, time_part) = (&b[..t_pos], &b[t_pos + 1..]);
    let (date, extended) =
        parse_date(date_part).ok_or_else(|| format!("\"{s}\" has an invalid date (expected YYYY-MM-DD)"))?;
    let (time, offset) = parse_time(time_part, extended).map_err(|e| format!("\"{s}\": {e}"))?;
    Ok(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

/// Formats a point in time the way Cairn stores and returns it: UTC, RFC 3339, exactly three
/// fractional digits and a `Z`, e.g. `2026-01-02T03:04:05.678Z`. A fixed width keeps stored values
/// sortable as strings.
/// Formats microseconds since the Unix epoch (the store's clock unit) like [`format_timestamp`].
pub fn format_us(us: i64) -> String {
    format_timestamp(OffsetDateTime::from_unix_timestamp_nanos(us as i128 * 1000).unwrap_or(OffsetDateTime::UNIX_EPOCH))
}

pub fn format_timestamp(t: OffsetDateTime) -> String {
    let u = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        u.year(),
        u8::from(u.month()),
        u.day(),
        u.hour(),
        u.minute(),
        u.second(),
        u.millisecond()
    )
}

/// Formats a client's timestamp in UTC without losing precision: like [`format_timestamp`], but
/// digits below the millisecond that the client sent are kept (up to nanoseconds, trailing zeros
/// dropped). Used where xAPI 2.0 has the LRS convert a statement's `timestamp` to UTC: the spec
/// allows changing the zone, not the instant.
pub fn format_timestamp_precise(t: OffsetDateTime) -> String {
    let u = t.to_offset(UtcOffset::UTC);
    let nanos = u.nanosecond();
    if nanos % 1_000_000 == 0 {
        return format_timestamp(u);
    }
    let digits = format!("{nanos:09}");
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{}Z",
        u.year(),
        u8::from(u.month()),
        u.day(),
        u.hour(),
        u.minute(),
        u.second(),
        digits.trim_end_matches('0')
    )
}

/// Reads `n` ASCII digits as a number.
fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0')))
}

/// Parses `YYYY-MM-DD` (extended) or `YYYYMMDD` (basic); returns whether the extended form was used
/// so the time must follow suit, as ISO 8601 forbids mixing the two.
fn parse_date(b: &[u8]) -> Option<(Date, bool)> {
    let (y, m, d, extended) = match b.len() {
        10 if b[4] == b'-' && b[7] == b'-' => (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?, true),
        8 => (digits(&b[0..4])?, digits(&b[4..6])?, digits(&b[6..8])?, false),
        _ => return None,
    };
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    let year = i32::try_from(y).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(d).ok()?).ok().map(|date| (date, extended))
}

/// Parses the time of day and zone: `hh:mm[:ss[.f+]][zone]` (extended) or `hhmm[ss[.f+]][zone]` (basic).
fn parse_time(b: &[u8], extended: bool) -> Result<(Time, UtcOffset), String> {
    // Split off the zone designator: 'Z'/'z' or the first '+'/'-'.
    let zone_at = b.iter().position(|&c| matches!(c, b'Z' | b'z' | b'+' | b'-'));
    let (clock, zone) = match zone_at {
        Some(i) => (&b[..i], &b[i..]),
        None => (b, &b[b.len()..]),
    };
    let (hms, frac) = match clock.iter().position(|&c| c == b'.' || c == b',') {
        Some(i) => (&clock[..i], Some(&clock[i + 1..])),
        None => (clock, None),
    };
    let bad_time = || "invalid time of day (expected hh:mm:ss with an optional fraction)".to_string();
    let (h, m, sec) = if extended {
        match hms.len() {
            5 if hms[2] == b':' => (digits(&hms[0..2]), digits(&hms[3..5]), Some(0)),
            8 if hms[2] == b':' && hms[5] == b':' => (digits(&hms[0..2]), digits(&hms[3..5]), digits(&hms[6..8])),
            _ => return Err(bad_time()),
        }
    } else {
        match hms.len() {
            4 => (digits(&hms[0..2]), digits(&hms[2..4]), Some(0)),
            6 => (digits(&hms[0..2]), digits(&hms[2..4]), digits(&hms[4..6])),
            _ => return Err(bad_time()),
        }
    };
    let (h, m, sec) = match (h, m, sec) {
        (Some(h), Some(m), Some(s)) => (h, m, s),
        _ => return Err(bad_time()),
    };
    // A fraction is only meaningful on seconds here (we do not accept fractional minutes).
    if frac.is_some() && hms.len() != if extended { 8 } else { 6 } {
        return Err(bad_time());
    }
    let nanos = match frac {
        None => 0,
        Some(f) => {
            if f.is_empty() || !f.iter().all(u8::is_ascii_digit) {
                return Err("invalid fractional seconds".into());
            }
            // Keep nanosecond precision; digits beyond that are dropped.
            let mut n = 0u32;
            for i in 0..9 {
                n = n * 10 + f.get(i).map_or(0, |&d| u32::from(d - b'0'));
            }
            n
        }
    };
    let time = Time::from_hms_nano(
        u8::try_from(h).map_err(|_| bad_time())?,
        u8::try_from(m).map_err(|_| bad_time())?,
        u8::try_from(sec).map_err(|_| bad_time())?,
        nanos,
    )
    .map_err(|_| "time of day out of range".to_string())?;
    Ok((time, parse_zone(zone)?))
}

/// Parses `Z`, `±hh`, `±hh:mm` or `±hhmm`; an empty zone means UTC.
fn parse_zone(z: &[u8]) -> Result<UtcOffset, String> {
    let bad = || "invalid time zone (expected Z or ±hh:mm)".to_string();
    match z {
        [] => Ok(UtcOffset::UTC),
        [b'Z' | b'z'] => Ok(UtcOffset::UTC),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest.len() {
                2 => (digits(rest), Some(0)),
                4 => (digits(&rest[0..2]), digits(&rest[2..4])),
                5 if rest[2] == b':' => (digits(&rest[0..2]), digits(&rest[3..5])),
                _ => return Err(bad()),
            };
            let (h, m) = match (h, m) {
                (Some(h), Some(m)) if h <= 23 && m <= 59 => (h, m),
                _ => return Err(bad()),
            };
            if *sign == b'-' && h == 0 && m == 0 {
                return Err("the offset -00:00 (unknown local offset) is not allowed; use Z or +00:00".into());
            }
            let secs = i32::try_from(h * 3600 + m * 60).map_err(|_| bad())?;
            UtcOffset::from_whole_seconds(if *sign == b'-' { -secs } else { secs }).map_err(|_| bad())
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> OffsetDateTime {
        match parse_timestamp(s) {
            Ok(t) => t,
            Err(e) => panic!("{s} should parse: {e}"),
        }
    }

    #[test]
    fn accepts_rfc3339_with_z_and_millis() {
        assert_eq!(format_timestamp(ts("2013-05-18T05:32:34.804Z")), "2013-05-18T05:32:34.804Z");
    }

    #[test]
    fn accepts_positive_and_negative_offsets() {
        assert_eq!(format_timestamp(ts("2023-05-04T12:00:00-05:00")), "2023-05-04T17:00:00.000Z");
        assert_eq!(format_timestamp(ts("2023-05-04T12:00:00+05:30")), "2023-05-04T06:30:00.000Z");
        assert_eq!(format_timestamp(ts("2008-09-15T15:53:00.601+00:00")), "2008-09-15T15:53:00.601Z");
        assert_eq!(format_timestamp(ts("2023-05-04T12:00:00+0530")), "2023-05-04T06:30:00.000Z");
        assert_eq!(format_timestamp(ts("2023-05-04T12:00:00+05")), "2023-05-04T07:00:00.000Z");
    }

    #[test]
    fn rejects_negative_zero_offset() {
        for s in ["2008-09-15T15:53:00.601-00:00", "2008-09-15T15:53:00.601-0000", "2008-09-15T15:53:00.601-00"] {
            assert!(parse_timestamp(s).is_err(), "{s}");
        }
    }

    #[test]
    fn fractional_seconds_keep_millis_and_truncate_beyond_nanos() {
        assert_eq!(format_timestamp(ts("2020-01-01T00:00:00.1Z")), "2020-01-01T00:00:00.100Z");
        assert_eq!(format_timestamp(ts("2020-01-01T00:00:00.123456789123Z")), "2020-01-01T00:00:00.123Z");
        assert_eq!(ts("2020-01-01T00:00:00.123456789123Z").nanosecond(), 123_456_789);
        assert_eq!(format_timestamp(ts("2020-01-01T00:00:00,5Z")), "2020-01-01T00:00:00.500Z");
    }

    #[test]
    fn lowercase_t_and_z_are_accepted() {
        assert_eq!(format_timestamp(ts("2020-01-01t10:00:00z")), "2020-01-01T10:00:00.000Z");
    }

    #[test]
    fn missing_zone_is_utc_and_basic_format_is_accepted() {
        assert_eq!(format_timestamp(ts("2020-01-01T10:00:00")), "2020-01-01T10:00:00.000Z");
        assert_eq!(format_timestamp(ts("20200101T100000Z")), "2020-01-01T10:00:00.000Z");
        assert_eq!(format_timestamp(ts("2020-01-01T10:00Z")), "2020-01-01T10:00:00.000Z");
    }

    #[test]
    fn rejects_non_timestamps() {
        for s in [
            "",
            "should fail",
            "01/011/2015",
            "2020-01-01",
            "2020-01-01 10:00:00Z",
            "2020-13-01T10:00:00Z",
            "2020-02-30T10:00:00Z",
            "2020-01-01T25:00:00Z",
            "2020-01-01T10:00:00.Z",
            "2020-01-01T10:00:00+24:00",
            "2020-01-01T10:00:00+5:30",
            "2020-01-01T10:00:00ZZ",
            "2020-01-01T100000Z",
            "20200101T10:00:00Z",
            "2020-W01-1T10:00:00Z",
            "T10:00:00Z",
        ] {
            assert!(parse_timestamp(s).is_err(), "{s} should be rejected");
        }
    }

    #[test]
    fn precise_format_keeps_sub_millisecond_digits() {
        assert_eq!(format_timestamp_precise(ts("2024-01-01T10:00:00.123456+02:00")), "2024-01-01T08:00:00.123456Z");
        assert_eq!(format_timestamp_precise(ts("2024-01-01T10:00:00.1234567891Z")), "2024-01-01T10:00:00.123456789Z");
        assert_eq!(format_timestamp_precise(ts("2024-01-01T10:00:00.5-05:00")), "2024-01-01T15:00:00.500Z");
        assert_eq!(format_timestamp_precise(ts("2024-01-01T10:00:00Z")), "2024-01-01T10:00:00.000Z");
    }

    #[test]
    fn format_is_fixed_width_utc() {
        let t = ts("0099-01-02T03:04:05.006+01:00");
        assert_eq!(format_timestamp(t), "0099-01-02T02:04:05.006Z");
    }
}

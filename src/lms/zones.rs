//! Time zones: IANA names checked against the database bundled in the binary (jiff), times shown
//! in a zone, and local date-times read in a zone. Used wherever a live session is scheduled and by
//! the learner's pages (`crate::learn`).

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::lrs::error::Result;

/// The zone an IANA name (`Europe/Paris`, `UTC`) names; 400 naming it when unknown.
pub fn zone(name: &str) -> Result<TimeZone> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 {
        return Err(super::bad("a time zone name such as Europe/Paris is required"));
    }
    TimeZone::get(name).map_err(|_| {
        super::bad(format!("{name:?} is not a time zone this server knows; use an IANA name such as Europe/Paris"))
    })
}

fn timestamp(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A moment as people read it in a zone: `Tue 1 Dec 2026, 09:00 CET`.
pub fn show(us: i64, tz: &TimeZone) -> String {
    timestamp(us).to_zoned_datetime(tz.clone()).strftime("%a %-d %b %Y, %H:%M %Z").to_string()
}

/// Only the day: `Tue 1 Dec 2026`.
pub fn day(us: i64, tz: &TimeZone) -> String {
    timestamp(us).to_zoned_datetime(tz.clone()).strftime("%a %-d %b %Y").to_string()
}

/// Only the time of day: `09:00 CET`.
pub fn clock(us: i64, tz: &TimeZone) -> String {
    timestamp(us).to_zoned_datetime(tz.clone()).strftime("%H:%M %Z").to_string()
}

/// A local date-time without offset (`2026-12-01T09:00`, seconds optional) read in `tz`, in the
/// store's microseconds. A time skipped by a clock change moves forward; a repeated one takes the
/// earlier (RFC 5545's and Temporal's "compatible" reading).
pub fn local_to_us(text: &str, tz: &TimeZone) -> Option<i64> {
    let dt: DateTime = text.trim().parse().ok()?;
    let z = dt.to_zoned_datetime(tz.clone()).ok()?;
    Some(z.timestamp().as_microsecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_times_shown_in_each_zone() {
        assert!(zone("Europe/Paris").is_ok());
        assert!(zone("Mars/Olympus").is_err());
        assert!(zone("").is_err());
        let paris = zone("Europe/Paris").unwrap();
        let tokyo = zone("Asia/Tokyo").unwrap();
        // 2026-12-01T08:00:00Z
        let us = 1_796_112_000_000_000;
        assert_eq!(show(us, &paris), "Tue 1 Dec 2026, 09:00 CET");
        assert_eq!(show(us, &tokyo), "Tue 1 Dec 2026, 17:00 JST");
        assert_eq!(local_to_us("2026-12-01T09:00", &paris), Some(us));
        assert_eq!(local_to_us("2026-12-01T17:00:00", &tokyo), Some(us));
        assert_eq!(local_to_us("yesterday", &paris), None);
        // Summer time: Paris is UTC+2 in July.
        assert_eq!(
            local_to_us("2026-07-01T09:00", &paris),
            Some(local_to_us("2026-07-01T07:00", &TimeZone::UTC).unwrap())
        );
    }
}

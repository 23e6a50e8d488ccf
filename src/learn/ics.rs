//! A live session as an iCalendar file (RFC 5545), written by hand: one VEVENT with its times in
//! UTC (so no VTIMEZONE is needed; calendars show it in their own zone), text escaped (§3.3.11)
//! and lines folded at 75 octets on character boundaries (§3.1). That is all a calendar needs from
//! us, and it spares a dependency tree (the iCalendar crates bring chrono and a parser).

use crate::store::SessionRow;

/// `YYYYMMDDTHHMMSSZ`
fn utc(us: i64) -> String {
    jiff::Timestamp::from_microsecond(us).unwrap_or(jiff::Timestamp::UNIX_EPOCH).strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT escaping: backslash, semicolon, comma, and newlines as `\n`.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded: no line longer than 75 octets, continuation lines start with a space,
/// and a UTF-8 character is never split.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

/// The calendar file of one session; `host` names this server in the event's UID.
pub fn session_event(s: &SessionRow, course_title: &str, host: &str, now_us: i64) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Cairn//Learner calendar//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, "BEGIN:VEVENT");
    line(&mut out, &format!("UID:{}@{}", s.id, text(host)));
    line(&mut out, &format!("DTSTAMP:{}", utc(now_us)));
    line(&mut out, &format!("DTSTART:{}", utc(s.starts_us)));
    line(&mut out, &format!("DTEND:{}", utc(s.ends_us)));
    line(&mut out, &format!("SUMMARY:{}", text(&s.title)));
    let mut description = format!("Live session of {course_title} (organiser's time zone: {}).", s.timezone);
    if let Some(j) = &s.join_url {
        description.push_str(&format!("\nJoin: {j}"));
    }
    line(&mut out, &format!("DESCRIPTION:{}", text(&description)));
    if let Some(l) = s.location.as_deref().filter(|l| !l.trim().is_empty()) {
        line(&mut out, &format!("LOCATION:{}", text(l)));
    }
    if let Some(j) = &s.join_url {
        line(&mut out, &format!("URL:{}", text(j)));
    }
    if s.cancelled_us.is_some() {
        line(&mut out, "STATUS:CANCELLED");
    }
    line(&mut out, "END:VEVENT");
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> SessionRow {
        SessionRow {
            id: "s1".into(),
            course_id: "c".into(),
            activity_id: "urn:cairn:session:s1".into(),
            title: "Q&A; part 1, live".into(),
            starts_us: 1_796_112_000_000_000,
            ends_us: 1_796_115_600_000_000,
            timezone: "Europe/Paris".into(),
            capacity: Some(2),
            location: Some("Room \\ 4".into()),
            join_url: Some("https://meet.example.com/abc".into()),
            created_us: 0,
            cancelled_us: None,
        }
    }

    #[test]
    fn an_event_in_utc_with_escaped_text_and_folded_lines() {
        let long = "Ça va: ".repeat(20);
        let ics = session_event(&session(), &long, "cairn.example", 0);
        assert!(ics.contains("DTSTART:20261201T080000Z\r\n"), "{ics}");
        assert!(ics.contains("DTEND:20261201T090000Z\r\n"));
        assert!(ics.contains("SUMMARY:Q&A\\; part 1\\, live\r\n"));
        assert!(ics.contains("LOCATION:Room \\\\ 4\r\n"));
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"));
        for l in ics.split("\r\n") {
            assert!(l.len() <= 75, "{l:?} is {} octets", l.len());
        }
        // Unfolding gives the text back.
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("DESCRIPTION:Live session of {}", text(&long))));
        assert!(unfolded.contains("\\nJoin: https://meet.example.com/abc"));
    }
}

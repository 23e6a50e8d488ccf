//! ISO 8601 durations as xAPI uses them for `result.duration` (xAPI 1.0.3 Data 4.6, 2.0 section 4.2.7).
//!
//! Only the format-with-designators of ISO 8601:2004 section 4.4.3.2 is allowed (`PnYnMnDTnHnMnS`
//! and `PnW`); the alternative `PYYYY-MM-DDThh:mm:ss` form is explicitly forbidden by the spec.

/// Parses a duration and returns its length in seconds, counting a year as 365 days and a month as
/// 30 days (the figure is only used for ordering and comparison, never for calendar arithmetic).
///
/// Rules, following ISO 8601 and the conformance suite:
/// * at least one component must be present (`P`, `PT` and `P1DT` are refused);
/// * components appear at most once and in order (Y, M, D, then after `T`: H, M, S);
/// * weeks stand alone (`P4W` is fine, `P4W1D` is not);
/// * only the last (lowest-order) component may carry a decimal fraction, with `.` or `,`;
/// * no sign: durations are never negative.
pub fn parse_duration(s: &str) -> Result<f64, String> {
    let bad = |why: &str| format!("\"{s}\" is not an ISO 8601 duration ({why})");
    let rest = s.strip_prefix('P').ok_or_else(|| bad("must start with 'P'"))?;
    if rest.is_empty() {
        return Err(bad("no components"));
    }

    // Week form stands alone.
    if let Some(num) = rest.strip_suffix('W') {
        let weeks = parse_number(num).ok_or_else(|| bad("invalid number of weeks"))?;
        return Ok(weeks.value * 7.0 * DAY);
    }

    let (date_part, time_part) = match rest.find('T') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    if time_part == Some("") {
        return Err(bad("'T' must be followed by at least one time component"));
    }

    const DATE_UNITS: [(u8, f64); 3] = [(b'Y', 365.0 * DAY), (b'M', 30.0 * DAY), (b'D', DAY)];
    const TIME_UNITS: [(u8, f64); 3] = [(b'H', 3600.0), (b'M', 60.0), (b'S', 1.0)];

    let mut total = 0.0;
    let mut components = 0usize;
    let mut fraction_seen = false;
    for (part, units) in [(Some(date_part), &DATE_UNITS), (time_part, &TIME_UNITS)] {
        let Some(mut part) = part else { continue };
        let mut next_unit = 0usize;
        while !part.is_empty() {
            let end =
                part.find(|c: char| c.is_ascii_alphabetic()).ok_or_else(|| bad("number without a unit designator"))?;
            let designator = part.as_bytes()[end];
            let idx = units[next_unit..]
                .iter()
                .position(|(u, _)| *u == designator)
                .map(|i| i + next_unit)
                .ok_or_else(|| bad("unexpected or out-of-order designator"))?;
            if fraction_seen {
                return Err(bad("only the last component may have a fraction"));
            }
            let num = parse_number(&part[..end]).ok_or_else(|| bad("invalid number"))?;
            fraction_seen = num.fractional;
            total += num.value * units[idx].1;
            components += 1;
            next_unit = idx + 1;
            part = &part[end + 1..];
        }
    }
    if components == 0 {
        return Err(bad("no components"));
    }
    Ok(total)
}

/// The form of a duration used when comparing statements: seconds cut (never rounded) to 0.01 s and
/// trailing fraction zeros dropped, so `PT0.1237S`, `PT0.12S` and `PT0.120S` compare equal. xAPI 2.0
/// section 4.2.7 (and 1.0.3 Data 4.6, as a SHOULD) excludes any precision beyond 0.01 s from
/// comparisons, e.g. between a signed statement and its JWS payload. Values that are not a duration
/// with a fractional seconds component come back unchanged.
pub fn comparable(s: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let Some(body) = s.strip_suffix('S') else { return Cow::Borrowed(s) };
    let Some(sep) = body.rfind(['.', ',']) else { return Cow::Borrowed(s) };
    let (whole, frac) = (&body[..sep], &body[sep + 1..]);
    if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Cow::Borrowed(s);
    }
    let kept = frac[..frac.len().min(2)].trim_end_matches('0');
    if kept.is_empty() {
        Cow::Owned(format!("{whole}S"))
    } else {
        Cow::Owned(format!("{whole}.{kept}S"))
    }
}

const DAY: f64 = 86_400.0;

struct Number {
    value: f64,
    fractional: bool,
}

/// Parses `digits[(.|,)digits]`; a sign, exponent or bare fraction is refused.
fn parse_number(s: &str) -> Option<Number> {
    let (int, frac) = match s.find(['.', ',']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
        return None;
    }
    // Rust's float parser takes `.` only; rebuild the rare comma form.
    let value =
        if s.contains(',') { format!("{int}.{}", frac.unwrap_or("0")).parse::<f64>() } else { s.parse::<f64>() };
    // Absurdly long digit strings overflow to infinity, which would poison comparisons.
    value.ok().filter(|v| v.is_finite()).map(|value| Number { value, fractional: frac.is_some() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: &str) -> f64 {
        match parse_duration(s) {
            Ok(v) => v,
            Err(e) => panic!("{s} should parse: {e}"),
        }
    }

    #[test]
    fn accepts_suite_examples() {
        assert!((secs("PT1H0M0.1S") - 3600.1).abs() < 1e-9);
        assert!((secs("PT4H35M59.14S") - 16559.14).abs() < 1e-9);
        assert!((secs("PT16559.14S") - 16559.14).abs() < 1e-9);
        assert_eq!(secs("P3Y"), 3.0 * 365.0 * DAY);
        assert_eq!(secs("P4W"), 28.0 * DAY);
        let full = 3.0 * 365.0 * DAY + 30.0 * DAY + 29.0 * DAY + 4.0 * 3600.0 + 35.0 * 60.0 + 59.14;
        assert!((secs("P3Y1M29DT4H35M59.14S") - full).abs() < 1e-6);
    }

    #[test]
    fn fractional_seconds_and_lowest_order_fractions() {
        assert_eq!(secs("PT1.5S"), 1.5);
        assert_eq!(secs("PT0,5S"), 0.5);
        assert_eq!(secs("P0.5D"), 43_200.0);
        assert_eq!(secs("PT1.5H"), 5400.0);
        assert!((secs("P1DT12H36M0.12567S") - (DAY + 12.0 * 3600.0 + 36.0 * 60.0 + 0.12567)).abs() < 1e-6);
    }

    #[test]
    fn comparison_ignores_precision_beyond_hundredths() {
        assert_eq!(comparable("P1DT12H36M0.1237S"), "P1DT12H36M0.12S");
        assert_eq!(comparable("P1DT12H36M0.12567S"), "P1DT12H36M0.12S");
        assert_eq!(comparable("PT1.999S"), "PT1.99S");
        assert_eq!(comparable("PT1.10S"), "PT1.1S");
        assert_eq!(comparable("PT1.001S"), "PT1S");
        assert_eq!(comparable("PT1,5S"), "PT1.5S");
        for unchanged in ["PT1S", "P3Y", "PT1.5H", "should fail", "S", ".S"] {
            assert_eq!(comparable(unchanged), unchanged);
        }
    }

    #[test]
    fn zero_durations_are_valid() {
        assert_eq!(secs("PT0S"), 0.0);
        assert_eq!(secs("P0D"), 0.0);
    }

    #[test]
    fn rejects_empty_and_dangling_designators() {
        for s in ["", "P", "PT", "P1DT", "T1H", "1H", "p1d", "PT1h"] {
            assert!(parse_duration(s).is_err(), "{s} should be rejected");
        }
    }

    #[test]
    fn rejects_malformed_durations() {
        for s in [
            "PA1H0M0S",
            "should fail",
            "P4W1D",
            "P1W2W",
            "PT1S2M",
            "P1D1D",
            "P1M1Y",
            "PT1.5H30M",
            "PT.5S",
            "PT1.S",
            "PT-1S",
            "-PT1S",
            "PT1e3S",
            "P1H",
            "PT1D",
            "P0003-06-04T12:30:05",
            "PT1H ",
            &format!("PT{}S", "9".repeat(400)),
        ] {
            assert!(parse_duration(s).is_err(), "{s} should be rejected");
        }
    }
}

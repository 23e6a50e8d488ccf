//! Deadline compliance. A one-off assignment is `pending` until its due date (plus grace), then
//! `overdue`; once the course is satisfied it is `on_time` or `late` by the completion time. A
//! recurring assignment (re-certification every N months) also becomes `expiring` in the last 30 days of
//! a completion's validity and `expired` after it; each new cycle is due when the previous completion
//! expires. A waived assignment is `waived`.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::derive::Derived;

/// How long before expiry a recurring assignment is reported as expiring.
pub const EXPIRING_WINDOW_US: i64 = 30 * 86_400 * 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compliance {
    Pending,
    OnTime,
    Late,
    Overdue,
    Waived,
    Expiring,
    Expired,
}

impl Compliance {
    pub fn as_str(self) -> &'static str {
        match self {
            Compliance::Pending => "pending",
            Compliance::OnTime => "on_time",
            Compliance::Late => "late",
            Compliance::Overdue => "overdue",
            Compliance::Waived => "waived",
            Compliance::Expiring => "expiring",
            Compliance::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Compliance> {
        [
            Compliance::Pending,
            Compliance::OnTime,
            Compliance::Late,
            Compliance::Overdue,
            Compliance::Waived,
            Compliance::Expiring,
            Compliance::Expired,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// The deadline terms of an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub assigned_us: i64,
    pub due_us: i64,
    pub grace_days: i64,
    pub recurrence_months: Option<i64>,
    pub waived: bool,
}

/// Compliance now, with the due date of the current cycle, the completion that counts and when it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub compliance: Compliance,
    pub due_us: i64,
    pub completed_us: Option<i64>,
    pub expires_us: Option<i64>,
    /// 0 for the first cycle, then one more per re-certification.
    pub cycle: usize,
}

/// Adds calendar months (clamping the day, e.g. 31 Jan + 1 month = 28/29 Feb).
pub fn add_months(us: i64, months: i64) -> i64 {
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(us as i128 * 1000) else { return us };
    let total = t.year() as i64 * 12 + (t.month() as i64 - 1) + months;
    let year = total.div_euclid(12) as i32;
    let Ok(month) = time::Month::try_from((total.rem_euclid(12) + 1) as u8) else { return us };
    let day = t.day().min(time::util::days_in_month(month, year));
    match Date::from_calendar_date(year, month, day) {
        Ok(d) => (t.replace_date(d).unix_timestamp_nanos() / 1000) as i64,
        Err(_) => us,
    }
}

const DAY_US: i64 = 86_400 * 1_000_000;

pub fn standing(terms: &Terms, d: &Derived, now_us: i64) -> Standing {
    standing_of(terms, &d.satisfied_at_us, d.satisfied_without_activity, now_us)
}

/// How an assignment's compliance changes with the time it is asked at: what [`standing_of`] reads of
/// `now`. Course summaries keep this instead of the compliance itself (issue 15), so that counts kept
/// with the results stay exact as deadlines pass: only the instant is kept, and `now` is compared with
/// it when the summary is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// The same at any time (waived, or a one-off completion on time or late).
    Fixed(Compliance),
    /// Not satisfied: pending until this instant (inclusive), overdue after it.
    Due(i64),
    /// A recurring completion: `base` (on time or late) until [`EXPIRING_WINDOW_US`] before
    /// `expires_us`, then expiring, then expired from `expires_us` on.
    Renews { expires_us: i64, base: Compliance },
}

impl Profile {
    /// The compliance at `now_us`.
    pub fn at(self, now_us: i64) -> Compliance {
        match self {
            Profile::Fixed(c) => c,
            Profile::Due(deadline) if now_us <= deadline => Compliance::Pending,
            Profile::Due(_) => Compliance::Overdue,
            Profile::Renews { expires_us, .. } if now_us >= expires_us => Compliance::Expired,
            Profile::Renews { expires_us, .. } if now_us >= expires_us - EXPIRING_WINDOW_US => Compliance::Expiring,
            Profile::Renews { base, .. } => base,
        }
    }
}

/// The completions that count: the satisfaction times, or the assignment itself for a course
/// satisfied without any statement.
fn completions_of(terms: &Terms, satisfied_at_us: &[i64], without_activity: bool) -> Vec<i64> {
    if without_activity {
        vec![terms.assigned_us]
    } else {
        satisfied_at_us.to_vec()
    }
}

/// The last completion of a recurring assignment with the cycle it satisfied and that cycle's due
/// date: cycle i is due at the assignment's due date (i = 0) or when completion i-1 expires.
fn last_cycle(terms: &Terms, completions: &[i64], months: i64) -> Option<(usize, i64, i64)> {
    let mut due = terms.due_us;
    let mut last = None;
    for (i, c) in completions.iter().enumerate() {
        last = Some((i, *c, due));
        due = add_months(*c, months);
    }
    last
}

/// The [`Profile`] of an assignment's compliance; [`standing_of`] is it taken at `now`.
pub fn profile_of(terms: &Terms, satisfied_at_us: &[i64], without_activity: bool) -> Profile {
    if terms.waived {
        return Profile::Fixed(Compliance::Waived);
    }
    let grace = terms.grace_days.max(0) * DAY_US;
    let completions = completions_of(terms, satisfied_at_us, without_activity);
    match terms.recurrence_months {
        None => match completions.first() {
            Some(c) if *c <= terms.due_us + grace => Profile::Fixed(Compliance::OnTime),
            Some(_) => Profile::Fixed(Compliance::Late),
            None => Profile::Due(terms.due_us + grace),
        },
        Some(months) => match last_cycle(terms, &completions, months) {
            None => Profile::Due(terms.due_us + grace),
            Some((_, c, cycle_due)) => Profile::Renews {
                expires_us: add_months(c, months),
                base: if c <= cycle_due + grace { Compliance::OnTime } else { Compliance::Late },
            },
        },
    }
}

/// [`standing`] from the only parts of a derived result it reads: when the course became satisfied,
/// and whether it is satisfied without any statement. The compliance is [`profile_of`] at `now_us`.
pub fn standing_of(terms: &Terms, satisfied_at_us: &[i64], without_activity: bool, now_us: i64) -> Standing {
    let compliance = profile_of(terms, satisfied_at_us, without_activity).at(now_us);
    let completions = completions_of(terms, satisfied_at_us, without_activity);
    let completed_us = completions.first().copied();
    let once = Standing { compliance, due_us: terms.due_us, completed_us, expires_us: None, cycle: 0 };
    if terms.waived {
        return once;
    }
    let Some(months) = terms.recurrence_months else { return once };
    let Some((i, c, cycle_due)) = last_cycle(terms, &completions, months) else { return once };
    let expires = add_months(c, months);
    let (cycle, due_us) = if compliance == Compliance::Expired { (i + 1, expires) } else { (i, cycle_due) };
    Standing { compliance, due_us, completed_us: Some(c), expires_us: Some(expires), cycle }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::derive::Status;

    fn derived(done: &[i64]) -> Derived {
        Derived {
            status: if done.is_empty() { Status::NotStarted } else { Status::Completed },
            score: None,
            first_score: None,
            best_score: None,
            time_spent_s: 0.0,
            satisfied_at_us: done.to_vec(),
            satisfied_without_activity: false,
            attendance: Default::default(),
            components: vec![],
            last_activity_us: None,
        }
    }

    fn terms(due: i64, grace: i64, rec: Option<i64>) -> Terms {
        Terms { assigned_us: 0, due_us: due, grace_days: grace, recurrence_months: rec, waived: false }
    }

    #[test]
    fn one_off_deadlines() {
        let t = terms(10 * DAY_US, 0, None);
        assert_eq!(standing(&t, &derived(&[]), 5 * DAY_US).compliance, Compliance::Pending);
        assert_eq!(standing(&t, &derived(&[]), 11 * DAY_US).compliance, Compliance::Overdue);
        assert_eq!(standing(&t, &derived(&[9 * DAY_US]), 20 * DAY_US).compliance, Compliance::OnTime);
        assert_eq!(standing(&t, &derived(&[12 * DAY_US]), 20 * DAY_US).compliance, Compliance::Late);
        // Grace extends both.
        let g = terms(10 * DAY_US, 3, None);
        assert_eq!(standing(&g, &derived(&[12 * DAY_US]), 20 * DAY_US).compliance, Compliance::OnTime);
        assert_eq!(standing(&g, &derived(&[]), 12 * DAY_US).compliance, Compliance::Pending);
        let mut w = t;
        w.waived = true;
        assert_eq!(standing(&w, &derived(&[]), 50 * DAY_US).compliance, Compliance::Waived);
    }

    #[test]
    fn recurring_assignments_expire_and_renew() {
        let jan1 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
        let t = terms(jan1 + 10 * DAY_US, 0, Some(12));
        let done = jan1 + 5 * DAY_US;
        let s = standing(&t, &derived(&[done]), jan1 + 100 * DAY_US);
        assert_eq!(s.compliance, Compliance::OnTime);
        assert_eq!(s.expires_us, Some(add_months(done, 12)));
        let s = standing(&t, &derived(&[done]), add_months(done, 12) - 10 * DAY_US);
        assert_eq!(s.compliance, Compliance::Expiring);
        let s = standing(&t, &derived(&[done]), add_months(done, 12) + DAY_US);
        assert_eq!((s.compliance, s.cycle), (Compliance::Expired, 1));
        // Renewed before expiry: the second cycle was due at the first completion's expiry.
        let again = add_months(done, 12) - 20 * DAY_US;
        let s = standing(&t, &derived(&[done, again]), again + DAY_US);
        assert_eq!((s.compliance, s.cycle), (Compliance::OnTime, 1));
    }

    #[test]
    fn profiles_change_at_their_instants() {
        let due = Profile::Due(100);
        assert_eq!((due.at(100), due.at(101)), (Compliance::Pending, Compliance::Overdue));
        let renews = Profile::Renews { expires_us: 100 * DAY_US, base: Compliance::Late };
        assert_eq!(renews.at(70 * DAY_US - 1), Compliance::Late);
        assert_eq!(renews.at(70 * DAY_US), Compliance::Expiring);
        assert_eq!(renews.at(100 * DAY_US - 1), Compliance::Expiring);
        assert_eq!(renews.at(100 * DAY_US), Compliance::Expired);
        let t = terms(10 * DAY_US, 2, Some(12));
        assert_eq!(profile_of(&t, &[], false), Profile::Due(12 * DAY_US));
        assert_eq!(
            profile_of(&t, &[], true),
            Profile::Renews { expires_us: add_months(0, 12), base: Compliance::OnTime }
        );
    }

    #[test]
    fn months_clamp_the_day() {
        let jan31 = 1_769_817_600_000_000; // 2026-01-31T00:00:00Z
        let feb28 = 1_772_236_800_000_000; // 2026-02-28T00:00:00Z
        assert_eq!(add_months(jan31, 1), feb28);
    }
}

//! "My training": what is assigned to the signed-in learner, when it is due (in their time zone),
//! how far they are, and the live sessions of their courses with their bookings; and what they may
//! do about it: start or resume a course, book, cancel, add to a calendar, get a certificate.
//!
//! Everything here starts from the learner's own person: a course, a session or a certificate is
//! reachable only through an assignment of that person, so a learner never reaches another's.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use serde_json::Value;

use super::{bad, zones, Learn, Learner};
use crate::lms::launch::LaunchRequest;
use crate::lms::player::PlayerRequest;
use crate::lms::reports::{ResultRow, ResultsFilter};
use crate::lrs::error::{LrsError, Result};
use crate::store::{BookOutcome, SessionRow};
use crate::xapi::Version;

/// How long before its start a booked online session shows its join link.
pub const JOIN_LEAD_US: i64 = 15 * 60 * 1_000_000;

/// One assigned course as the learner sees it.
#[derive(Debug, Clone)]
pub struct AssignedCourse {
    pub course_id: String,
    pub title: String,
    /// Due date in the learner's zone.
    pub due: String,
    /// RFC 3339 (UTC), for a `<time datetime>`.
    pub due_iso: String,
    pub compliance: &'static str,
    pub status: &'static str,
    pub modules_done: usize,
    pub modules_total: usize,
    pub sessions_attended: usize,
    pub sessions_required: usize,
    pub score: Option<String>,
    /// Whether the course has content to open (an imported package); "resume" when begun.
    pub can_start: bool,
    pub started: bool,
    pub completed: Option<String>,
    /// The course is done: completed or passed, not waiting for re-certification.
    pub done: bool,
    pub certificate: bool,
    pub sessions: Vec<Slot>,
}

/// What the learner has of one live session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seat {
    None,
    Booked,
    /// On the waitlist, at this place (1 = next seat).
    Waiting(i64),
}

/// One live session of an assigned course.
#[derive(Debug, Clone)]
pub struct Slot {
    pub id: String,
    pub title: String,
    /// Start and end in the learner's zone (the end as a time of day when on the same day), and
    /// the start in the organiser's.
    pub starts: String,
    pub ends_clock: String,
    pub starts_iso: String,
    pub organiser: String,
    pub organiser_zone: String,
    pub location: Option<String>,
    pub capacity: Option<i64>,
    pub seats_left: Option<i64>,
    pub seat: Seat,
    /// Started already (nothing can be booked or cancelled).
    pub begun: bool,
    pub over: bool,
    /// Shown from [`JOIN_LEAD_US`] before the start to the end, to booked learners only.
    pub join_url: Option<String>,
    pub attended: bool,
}

impl Slot {
    pub fn full(&self) -> bool {
        self.seats_left == Some(0)
    }

    pub fn booked(&self) -> bool {
        self.seat == Seat::Booked
    }

    pub fn has_seat_or_place(&self) -> bool {
        self.seat != Seat::None
    }

    /// The learner's part in it, as the page says it.
    pub fn seat_label(&self) -> String {
        match (self.seat, self.over, self.attended) {
            (_, _, true) => "Attended".into(),
            (Seat::Booked, true, false) => "Booked; attendance not recorded".into(),
            (Seat::Booked, false, _) => "Booked".into(),
            (Seat::Waiting(n), _, _) => format!("On the waitlist (place {n})"),
            (Seat::None, _, _) => String::new(),
        }
    }

    /// Seats left, as the page says it.
    pub fn seats_label(&self) -> String {
        match (self.seats_left, self.capacity) {
            (Some(0), _) => "Full".into(),
            (Some(1), Some(c)) => format!("1 seat left of {c}"),
            (Some(n), Some(c)) => format!("{n} seats left of {c}"),
            _ => "Open seating".into(),
        }
    }
}

impl AssignedCourse {
    pub fn compliance_label(&self) -> &'static str {
        match self.compliance {
            "pending" => "Pending",
            "overdue" => "Overdue",
            "on_time" => "Completed on time",
            "late" => "Completed late",
            "waived" => "Waived",
            "expiring" => "Expiring: renew soon",
            "expired" => "Expired: renew",
            _ => "Assigned",
        }
    }
}

/// Everything `/learn` shows.
#[derive(Debug, Clone)]
pub struct MyTraining {
    pub timezone: String,
    /// The learner chose their zone (else it is UTC and the page offers to set it).
    pub timezone_chosen: bool,
    pub courses: Vec<AssignedCourse>,
}

fn parse_us(t: &str) -> Option<i64> {
    crate::xapi::timestamp::parse_timestamp(t).ok().map(|t| (t.unix_timestamp_nanos() / 1000) as i64)
}

fn percent(scaled: Option<f64>) -> Option<String> {
    scaled.map(|s| format!("{:.0} %", s * 100.0))
}

impl Learn {
    /// The learner's assignments (their results rows), the latest of each course.
    async fn assigned_rows(&self, l: &Learner) -> Result<Vec<ResultRow>> {
        let Some(key) = l.identifiers.first() else { return Ok(Vec::new()) };
        let filter = ResultsFilter { learner_key: Some(key.clone()), ..Default::default() };
        let (rows, _) = self.lms.results(&filter, crate::now_us()).await?;
        let mut latest: BTreeMap<String, ResultRow> = BTreeMap::new();
        for r in rows.into_iter().filter(|r| r.assignment.is_some()) {
            latest.insert(r.course.clone(), r);
        }
        Ok(latest.into_values().collect())
    }

    /// The learner's assignment row of one course; 403 when the course is not assigned to them.
    async fn assigned(&self, l: &Learner, course_id: &str) -> Result<ResultRow> {
        self.assigned_rows(l)
            .await?
            .into_iter()
            .find(|r| r.course == course_id)
            .ok_or_else(|| LrsError::Forbidden(format!("the course {course_id:?} is not assigned to you")))
    }

    /// A live session of a course assigned to the learner; 403 otherwise (404 when it does not exist).
    async fn own_session(&self, l: &Learner, session_id: &str) -> Result<(SessionRow, ResultRow)> {
        let s = self.lms.session(session_id).await?;
        let row = self.assigned(l, &s.course_id).await.map_err(|_| {
            LrsError::Forbidden("this live session belongs to a course that is not assigned to you".into())
        })?;
        Ok((s, row))
    }

    /// The learner's current booking of a session: `(agent JSON of the identifier it is under, seat)`.
    async fn seat(&self, l: &Learner, session_id: &str) -> Result<Option<(String, Seat)>> {
        let bookings = self.lms.bookings(session_id).await?;
        let mut waiting: Vec<_> = bookings.iter().filter(|b| b.waiting()).collect();
        waiting.sort_by_key(|b| (b.waitlisted_us, b.learner_key.clone()));
        Ok(bookings.iter().filter(|b| b.cancelled_us.is_none()).find(|b| l.identifiers.contains(&b.learner_key)).map(
            |b| {
                let seat = if b.has_seat() {
                    Seat::Booked
                } else {
                    let place = waiting.iter().position(|w| w.learner_key == b.learner_key).unwrap_or(0);
                    Seat::Waiting(place as i64 + 1)
                };
                (b.learner.clone(), seat)
            },
        ))
    }

    /// Everything `/learn` shows, times in the learner's zone.
    pub async fn my_training(&self, l: &Learner) -> Result<MyTraining> {
        let (tz, chosen) = self.timezone(l).await?;
        let now = crate::now_us();
        let mut courses = Vec::new();
        for r in self.assigned_rows(l).await? {
            courses.push(self.course_card(l, &r, &tz, now).await?);
        }
        // What needs doing first: open courses by due date, then completed ones.
        courses.sort_by(|a, b| (a.done, &a.due_iso).cmp(&(b.done, &b.due_iso)));
        Ok(MyTraining {
            timezone: chosen.clone().unwrap_or_else(|| "UTC".into()),
            timezone_chosen: chosen.is_some(),
            courses,
        })
    }

    async fn course_card(&self, l: &Learner, r: &ResultRow, tz: &TimeZone, now: i64) -> Result<AssignedCourse> {
        let title = match self.lms.course_def(&r.course).await {
            Ok(d) if !d.title.trim().is_empty() => d.title,
            _ => r.course.clone(),
        };
        let can_start = self.lms.course(&r.course, None).await.is_ok_and(|v| !v.course.modules().is_empty());
        let is_session = |id: &str| id.starts_with("urn:cairn:session:");
        let modules: Vec<_> = r.components.iter().filter(|c| c.required && !is_session(&c.activity_id)).collect();
        let sessions_required = r.components.iter().filter(|c| c.required && is_session(&c.activity_id)).count();
        let sessions_attended = r.attendance.values().filter(|a| **a).count();
        let due_us = r.due.as_deref().and_then(parse_us);
        let completed_us = r.completed_at.as_deref().and_then(parse_us);
        let satisfied = matches!(r.status, "completed" | "passed");
        let compliance = r.compliance.unwrap_or("pending");
        let done = satisfied && !matches!(compliance, "expiring" | "expired");
        let mut sessions = Vec::new();
        for s in self.lms.sessions(Some(&r.course)).await? {
            if s.cancelled_us.is_some() {
                continue;
            }
            let seat = self.seat(l, &s.id).await?.map(|(_, seat)| seat).unwrap_or(Seat::None);
            let attended = r.attendance.get(&s.activity_id).copied().unwrap_or(false);
            // Past sessions matter only to those who were booked or attended.
            let over = s.ends_us <= now;
            if over && seat == Seat::None && !attended {
                continue;
            }
            let taken = self.lms.bookings(&s.id).await?.iter().filter(|b| b.has_seat()).count() as i64;
            let organiser_tz = zones::zone(&s.timezone).unwrap_or(TimeZone::UTC);
            let join_url = s
                .join_url
                .clone()
                .filter(|_| seat == Seat::Booked && now >= s.starts_us - JOIN_LEAD_US && now < s.ends_us);
            sessions.push(Slot {
                starts: zones::show(s.starts_us, tz),
                // The end's time of day, or its date too when it ends on another day.
                ends_clock: if zones::day(s.starts_us, tz) == zones::day(s.ends_us, tz) {
                    zones::clock(s.ends_us, tz)
                } else {
                    zones::show(s.ends_us, tz)
                },
                starts_iso: crate::xapi::timestamp::format_us(s.starts_us),
                organiser: zones::show(s.starts_us, &organiser_tz),
                organiser_zone: s.timezone.clone(),
                location: s.location.clone().filter(|x| !x.trim().is_empty()),
                capacity: s.capacity,
                seats_left: s.capacity.map(|c| (c - taken).max(0)),
                seat,
                begun: now >= s.starts_us,
                over,
                join_url,
                attended,
                id: s.id,
                title: s.title,
            });
        }
        Ok(AssignedCourse {
            course_id: r.course.clone(),
            title,
            due: due_us.map(|d| zones::show(d, tz)).unwrap_or_default(),
            due_iso: r.due.clone().unwrap_or_default(),
            compliance,
            status: r.status,
            modules_done: modules.iter().filter(|c| c.satisfied).count(),
            modules_total: modules.len(),
            sessions_attended,
            sessions_required,
            score: percent(r.score),
            can_start,
            // Begun: a module has been opened (a booking alone is activity on the course, not a start).
            started: modules.iter().any(|c| c.status != crate::results::derive::Status::NotStarted),
            completed: completed_us.filter(|_| satisfied).map(|c| zones::day(c, tz)),
            done,
            certificate: satisfied && completed_us.is_some(),
            sessions,
        })
    }

    /// Starts or resumes an assigned course: a course of several modules opens in the course player,
    /// a single module launches as `POST /api/launches` would. Answers the URL to send the browser to.
    pub async fn start_course(&self, l: &Learner, course_id: &str) -> Result<String> {
        let row = self.assigned(l, course_id).await?;
        let view = self.lms.course(course_id, None).await?;
        let modules = view.course.modules();
        let learner = row.learner.clone();
        let format = view.course.format;
        let playable = matches!(
            format,
            crate::package::Format::Scorm12 | crate::package::Format::Scorm2004 { .. } | crate::package::Format::Cmi5
        );
        if modules.len() > 1 && playable {
            let opened = self
                .lms
                .open_player(PlayerRequest { course: course_id.into(), learner, registration: None, version: None })
                .await?;
            return Ok(opened.url);
        }
        let module = modules.first().ok_or_else(|| bad("this course has no content to open"))?;
        let back = format!("{}/learn", self.lms.config.public_url.trim_end_matches('/'));
        let launch = self
            .lms
            .create_launch(LaunchRequest {
                course: course_id.into(),
                module: module.id.clone(),
                learner,
                registration: None,
                mode: None,
                version: None,
                return_url: matches!(format, crate::package::Format::Cmi5).then_some(back),
            })
            .await?;
        Ok(launch.url)
    }

    /// Books a seat for the learner in a live session of one of their courses; when it is full,
    /// `waitlist` puts them on its waitlist (else 409 saying so).
    pub async fn book(&self, l: &Learner, session_id: &str, waitlist: bool) -> Result<BookOutcome> {
        let (s, row) = self.own_session(l, session_id).await?;
        if crate::now_us() >= s.starts_us {
            return Err(LrsError::Conflict("this session has started; it can no longer be booked".into()));
        }
        if let Some((_, seat)) = self.seat(l, session_id).await? {
            return Ok(match seat {
                Seat::Waiting(n) => BookOutcome::Waitlisted(n),
                _ => BookOutcome::AlreadyBooked,
            });
        }
        self.lms.book_session(&s.id, &row.learner, Version::V2_0_0, waitlist).await
    }

    /// Cancels the learner's seat or waitlist place, until the session starts.
    pub async fn cancel(&self, l: &Learner, session_id: &str) -> Result<()> {
        let (s, _) = self.own_session(l, session_id).await?;
        if crate::now_us() >= s.starts_us {
            return Err(LrsError::Conflict("this session has started; the booking can no longer be cancelled".into()));
        }
        let Some((agent, _)) = self.seat(l, session_id).await? else {
            return Err(LrsError::NotFound("you have no booking of this session".into()));
        };
        let agent: Value = serde_json::from_str(&agent).map_err(|e| bad(format!("the booking's learner: {e}")))?;
        self.lms.cancel_booking(&s.id, &agent, Version::V2_0_0).await?;
        Ok(())
    }

    /// A live session of one of the learner's courses as an iCalendar file: `(file name, text)`.
    pub async fn calendar(&self, l: &Learner, session_id: &str) -> Result<(String, String)> {
        let (s, row) = self.own_session(l, session_id).await?;
        let title = self.lms.course_def(&row.course).await.map(|d| d.title).unwrap_or_else(|_| row.course.clone());
        let host = crate::http::origin_of(&self.lms.config.public_url);
        let host = host.split_once("://").map(|(_, h)| h.to_string()).unwrap_or(host);
        Ok((format!("session-{}.ics", s.id), super::ics::session_event(&s, &title, &host, crate::now_us())))
    }

    /// The certificate of a course the learner completed: `(file name, PDF)`; 403 for a course that
    /// is not theirs or not completed.
    pub async fn certificate(&self, l: &Learner, course_id: &str) -> Result<(String, Vec<u8>)> {
        let row = self.assigned(l, course_id).await?;
        let completed = row.completed_at.as_deref().and_then(parse_us);
        let (true, Some(completed)) = (matches!(row.status, "completed" | "passed"), completed) else {
            return Err(LrsError::Forbidden("a certificate is issued once the course is completed".into()));
        };
        let (tz, _) = self.timezone(l).await?;
        let title = self.lms.course_def(course_id).await.map(|d| d.title).unwrap_or_else(|_| course_id.to_string());
        let learner = self.display_name(l, &row.learner).await?;
        let pdf = super::certificate::render(&super::certificate::Certificate {
            learner,
            course: title,
            completed: zones::day(completed, &tz),
            score: percent(row.score),
            course_id: course_id.to_string(),
        });
        Ok(("certificate.pdf".to_string(), pdf))
    }

    /// The learner's name: the person's, else the name statements or the assignment gave them,
    /// else their identifier.
    async fn display_name(&self, l: &Learner, agent: &Value) -> Result<String> {
        let p = self.lms.person_row(&l.person_id).await?;
        if let Some(n) = p.name {
            return Ok(n);
        }
        if let Some(n) = agent.get("name").and_then(Value::as_str).filter(|n| !n.trim().is_empty()) {
            return Ok(n.to_string());
        }
        let json = self.lms.person_json(&p).await?;
        if let Some(n) = json.pointer("/names_seen/0").and_then(Value::as_str) {
            return Ok(n.to_string());
        }
        Ok(l.name.clone())
    }
}

//! Live-session pages: the list and scheduling, one session's bookings with an attendance checklist,
//! booking a learner and cancelling. Admins and instructors manage sessions; analysts only read.

use askama::Template;
use axum::extract::{Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{check_csrf, render, when, Frame, PageError, Pairs, Signed};
use crate::console::{Console, Role, Viewer};
use crate::lms::sessions::SessionRequest;
use crate::lrs::LrsError;
use crate::xapi::Version;

pub struct SessionLine {
    id: String,
    title: String,
    course: String,
    starts: String,
    seats: String,
    status: &'static str,
}

/// One day of the month calendar: its date, whether it belongs to the month shown, and the sessions
/// starting that day (UTC): id, "HH:MM title".
pub struct DayCell {
    day: u8,
    date: String,
    in_month: bool,
    sessions: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "console/sessions.html")]
struct SessionsPage {
    frame: Frame,
    month: String,
    prev: String,
    next: String,
    /// Weeks, Monday first.
    weeks: Vec<Vec<DayCell>>,
    rows: Vec<SessionLine>,
    courses: Vec<(String, String)>,
    can_manage: bool,
    error: Option<String>,
}

fn seats(taken: usize, capacity: Option<i64>) -> String {
    match capacity {
        Some(c) => format!("{taken} of {c}"),
        None => taken.to_string(),
    }
}

/// The month a calendar shows: `YYYY-MM`, or the current one (UTC).
fn month_of(asked: Option<&str>) -> Result<time::Date, LrsError> {
    let today = time::OffsetDateTime::now_utc().date();
    let Some(m) = asked.filter(|m| !m.is_empty()) else {
        return Ok(today.replace_day(1).unwrap_or(today));
    };
    time::Date::parse(&format!("{m}-01"), &time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| LrsError::BadRequest(format!("month must be YYYY-MM, got {m:?}")))
}

fn month_label(d: time::Date) -> String {
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

/// The weeks (Monday first) covering `first`'s month, with each day's sessions.
fn calendar(first: time::Date, sessions: &[crate::store::SessionRow]) -> Vec<Vec<DayCell>> {
    let start = first - time::Duration::days(i64::from(first.weekday().number_days_from_monday()));
    let mut weeks = Vec::new();
    let mut day = start;
    loop {
        let mut week = Vec::with_capacity(7);
        for _ in 0..7 {
            let from = day.midnight().assume_utc().unix_timestamp() * 1_000_000;
            let until = from + 86_400_000_000;
            let on_day = sessions
                .iter()
                .filter(|s| s.starts_us >= from && s.starts_us < until && s.cancelled_us.is_none())
                .map(|s| (s.id.clone(), format!("{} {}", when(s.starts_us).get(11..16).unwrap_or(""), s.title)))
                .collect();
            week.push(DayCell {
                day: day.day(),
                date: format!("{:04}-{:02}-{:02}", day.year(), u8::from(day.month()), day.day()),
                in_month: day.month() == first.month(),
                sessions: on_day,
            });
            day = day.next_day().unwrap_or(day);
        }
        weeks.push(week);
        if day.month() != first.month() {
            break;
        }
    }
    weeks
}

async fn sessions_page(
    console: &Console,
    v: &Viewer,
    status: StatusCode,
    error: Option<String>,
    month: Option<&str>,
) -> Result<Response, PageError> {
    let lms = console.lms();
    let now = crate::now_us();
    let first = month_of(month)?;
    let all = lms.sessions(None).await?;
    let weeks = calendar(first, &all);
    let prev = month_label(first.previous_day().unwrap_or(first));
    let next = month_label(first + time::Duration::days(31));
    let mut rows = Vec::new();
    for s in all {
        let taken = lms.bookings(&s.id).await?.iter().filter(|b| b.has_seat()).count();
        rows.push(SessionLine {
            status: if s.cancelled_us.is_some() {
                "cancelled"
            } else if s.ends_us < now {
                "past"
            } else {
                "scheduled"
            },
            seats: seats(taken, s.capacity),
            starts: when(s.starts_us),
            id: s.id,
            title: s.title,
            course: s.course_id,
        })
    }
    let courses = lms.courses().await?.into_iter().map(|c| (c.id, c.title)).collect();
    let page = SessionsPage {
        frame: Frame::of(v, "sessions"),
        month: month_label(first),
        prev,
        next,
        weeks,
        rows,
        courses,
        can_manage: v.role >= Role::Instructor,
        error,
    };
    Ok(render(status, &page))
}

#[derive(Deserialize)]
pub struct SessionsQuery {
    #[serde(default)]
    month: Option<String>,
}

/// GET /console/sessions?month=YYYY-MM: a month's calendar and every session.
pub async fn sessions(
    State(console): State<Console>,
    Signed(v): Signed,
    Query(q): Query<SessionsQuery>,
) -> Result<Response, PageError> {
    sessions_page(&console, &v, StatusCode::OK, None, q.month.as_deref()).await
}

#[derive(Deserialize)]
pub struct ScheduleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    course: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    timezone: String,
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    join_url: String,
}

fn non_empty(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// POST /console/sessions (admin, instructor): `start` is a `datetime-local` value taken as UTC.
pub async fn schedule(
    State(console): State<Console>,
    Signed(v): Signed,
    Form(f): Form<ScheduleForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    v.require(Role::Instructor)?;
    let attempt = async {
        // The start is a local time in the organiser's zone, as they think of it.
        let timezone = non_empty(&f.timezone).unwrap_or_else(|| "UTC".into());
        let tz = crate::lms::zones::zone(&timezone).map_err(|e| LrsError::BadRequest(format!("time zone: {e}")))?;
        let start_us = crate::lms::zones::local_to_us(f.start.trim(), &tz)
            .ok_or_else(|| LrsError::BadRequest(format!("the start must be a date and time, got {:?}", f.start)))?;
        let start = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(start_us) * 1000)
            .map_err(|_| LrsError::BadRequest(format!("the start is out of range, got {:?}", f.start)))?;
        let minutes: i64 = f
            .minutes
            .trim()
            .parse()
            .ok()
            .filter(|m| (1..=24 * 60 * 7).contains(m))
            .ok_or_else(|| LrsError::BadRequest("the duration must be 1 to 10,080 minutes".into()))?;
        let capacity = match non_empty(&f.capacity) {
            Some(c) => {
                Some(c.parse::<i64>().map_err(|_| LrsError::BadRequest(format!("seats must be a number, got {c:?}")))?)
            }
            None => None,
        };
        let rfc =
            |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let req = SessionRequest {
            course: f.course.clone(),
            title: non_empty(&f.title).ok_or_else(|| LrsError::BadRequest("a title is required".into()))?,
            start: rfc(start),
            end: rfc(start + time::Duration::minutes(minutes)),
            timezone,
            capacity,
            location: non_empty(&f.location),
            join_url: non_empty(&f.join_url),
            required: true,
        };
        let row = console.lms().create_session(req).await?;
        console.audit(&v.login, "session.add", &row.id, json!({"course": row.course_id, "title": row.title})).await?;
        Ok::<_, LrsError>(row)
    };
    match attempt.await {
        Ok(row) => Ok(Redirect::to(&format!("/console/session?id={}", row.id)).into_response()),
        Err(e @ (LrsError::BadRequest(_) | LrsError::NotFound(_))) => {
            sessions_page(&console, &v, StatusCode::BAD_REQUEST, Some(e.to_string()), None).await
        }
        Err(e) => Err(e.into()),
    }
}

pub struct BookingLine {
    key: String,
    label: String,
    booked: String,
    attended: bool,
}

#[derive(Template)]
#[template(path = "console/session.html")]
struct SessionPage {
    frame: Frame,
    id: String,
    title: String,
    course: String,
    starts: String,
    ends: String,
    timezone: String,
    seats: String,
    location: Option<String>,
    join_url: Option<String>,
    status: &'static str,
    cancelled: bool,
    bookings: Vec<BookingLine>,
    /// Learners waiting for a seat, first in line first.
    waitlist: Vec<String>,
    can_manage: bool,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct SessionQuery {
    #[serde(default)]
    id: String,
    #[serde(default)]
    notice: Option<String>,
}

fn agent_label(text: &str) -> String {
    let a: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let s = |p: &str| a.pointer(p).and_then(Value::as_str);
    s("/mbox")
        .map(|m| m.trim_start_matches("mailto:"))
        .or_else(|| s("/name"))
        .or_else(|| s("/account/name"))
        .unwrap_or("(learner)")
        .to_string()
}

async fn session_page(
    console: &Console,
    v: &Viewer,
    id: &str,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let lms = console.lms();
    let s = lms.session(id).await?;
    let all = lms.bookings(id).await?;
    let attended = lms.attended(&s, &all).await?;
    let mut waiting: Vec<(i64, String)> =
        all.iter().filter(|b| b.waiting()).map(|b| (b.waitlisted_us.unwrap_or(0), agent_label(&b.learner))).collect();
    waiting.sort();
    let waitlist: Vec<String> = waiting.into_iter().map(|(_, l)| l).collect();
    let bookings: Vec<BookingLine> = all
        .into_iter()
        .filter(|b| b.has_seat())
        .map(|b| BookingLine {
            label: agent_label(&b.learner),
            booked: when(b.booked_us),
            attended: attended.contains(&b.learner_key),
            key: b.learner_key,
        })
        .collect();
    let page = SessionPage {
        frame: Frame::of(v, "sessions"),
        id: s.id.clone(),
        title: s.title.clone(),
        course: s.course_id.clone(),
        starts: when(s.starts_us),
        ends: when(s.ends_us),
        timezone: s.timezone.clone(),
        seats: seats(bookings.len(), s.capacity),
        location: s.location.clone(),
        join_url: s.join_url.clone(),
        status: if s.cancelled_us.is_some() { "cancelled" } else { "scheduled" },
        cancelled: s.cancelled_us.is_some(),
        bookings,
        waitlist,
        can_manage: v.role >= Role::Instructor,
        notice,
        error,
    };
    Ok(render(status, &page))
}

/// GET /console/session?id=
pub async fn session(
    State(console): State<Console>,
    Signed(v): Signed,
    Query(q): Query<SessionQuery>,
) -> Result<Response, PageError> {
    let notice = match q.notice.as_deref() {
        Some("booked") => Some("The learner is booked.".to_string()),
        Some("waitlisted") => Some("The session is full: the learner is on the waitlist.".to_string()),
        Some("attended") => Some("Attendance recorded.".to_string()),
        Some("cancelled") => Some("The session is cancelled.".to_string()),
        _ => None,
    };
    session_page(&console, &v, &q.id, StatusCode::OK, notice, None).await
}

#[derive(Deserialize)]
pub struct BookForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    email: String,
}

/// POST /console/session/book (admin, instructor): books a learner by email.
pub async fn book(
    State(console): State<Console>,
    Signed(v): Signed,
    Form(f): Form<BookForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    v.require(Role::Instructor)?;
    let email = f.email.trim();
    let learner = json!({"objectType": "Agent", "mbox": format!("mailto:{email}")});
    // From the console a full session puts the learner on its waitlist.
    match console.lms().book_session(&f.id, &learner, Version::V2_0_0, true).await {
        Ok(outcome) => {
            let waiting = matches!(outcome, crate::store::BookOutcome::Waitlisted(_));
            console.audit(&v.login, "session.book", &f.id, json!({"learner": email, "waitlisted": waiting})).await?;
            let notice = if waiting { "waitlisted" } else { "booked" };
            Ok(Redirect::to(&format!("/console/session?id={}&notice={notice}", f.id)).into_response())
        }
        Err(e @ (LrsError::BadRequest(_) | LrsError::Conflict(_))) => {
            let status =
                if matches!(e, LrsError::Conflict(_)) { StatusCode::CONFLICT } else { StatusCode::BAD_REQUEST };
            session_page(&console, &v, &f.id, status, None, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /console/session/attendance (admin, instructor): `learner` repeated, one per attendee's
/// booking key; only booked learners can be marked.
pub async fn attendance(
    State(console): State<Console>,
    Signed(v): Signed,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = Pairs::parse(&body)?;
    check_csrf(&v, form.get("csrf"))?;
    v.require(Role::Instructor)?;
    let id = form.get("id").to_string();
    let lms = console.lms();
    let booked = lms.bookings(&id).await?;
    let mut marked = Vec::new();
    for key in form.all("learner") {
        let Some(b) = booked.iter().find(|b| b.learner_key == key && b.has_seat()) else {
            return Err(LrsError::BadRequest(format!("{key} has no booking for this session")).into());
        };
        let learner: Value = serde_json::from_str(&b.learner).unwrap_or(Value::Null);
        lms.mark_attendance(&id, &learner, Version::V2_0_0).await?;
        marked.push(agent_label(&b.learner));
    }
    console.audit(&v.login, "session.attendance", &id, json!({"attended": marked})).await?;
    Ok(Redirect::to(&format!("/console/session?id={id}&notice=attended")).into_response())
}

#[derive(Deserialize)]
pub struct IdForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
}

/// POST /console/session/cancel (admin, instructor).
pub async fn cancel(
    State(console): State<Console>,
    Signed(v): Signed,
    Form(f): Form<IdForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    v.require(Role::Instructor)?;
    console.lms().cancel_session(&f.id).await?;
    console.audit(&v.login, "session.cancel", &f.id, json!({})).await?;
    Ok(Redirect::to(&format!("/console/session?id={}&notice=cancelled", f.id)).into_response())
}

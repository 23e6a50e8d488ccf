//! Live sessions: scheduling, bookings (capacity enforced) and attendance, each written as an xAPI
//! statement through the core.

use serde::Deserialize;
use serde_json::{json, Value};

use super::{bad, parse_ts, Lms};
use crate::lrs::error::Result;
use crate::lrs::LrsError;
use crate::results::derive::{Component, Rule};
use crate::store::{BookOutcome, SessionRow};
use crate::xapi::vocab::verbs;
use crate::xapi::{agent, Version};

/// A live session request (`POST /api/sessions`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    pub course: String,
    pub title: String,
    /// RFC 3339, or a local date-time without offset (`2026-12-01T09:00`) read in `timezone`.
    pub start: String,
    pub end: String,
    /// The organiser's zone, an IANA name (`Europe/Paris`); learners see times in it and in theirs.
    #[serde(default = "utc")]
    pub timezone: String,
    #[serde(default)]
    pub capacity: Option<i64>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub join_url: Option<String>,
    #[serde(default = "yes")]
    pub required: bool,
}

/// A session's start or end: RFC 3339, or a local date-time read in the session's zone.
fn session_time(name: &str, v: &str, tz: &jiff::tz::TimeZone) -> Result<i64> {
    // An offset (`Z`, `+01:00`, `-05:00`) after the date makes it an absolute time.
    let time_part = v.trim().split_once(['T', 't', ' ']).map(|(_, t)| t).unwrap_or("");
    let absolute = time_part.contains(['Z', 'z', '+', '-']);
    match absolute {
        true => parse_ts(name, v),
        false => super::zones::local_to_us(v, tz).ok_or_else(|| {
            bad(format!(
                "{name} must be an RFC 3339 time or a local date-time such as 2026-12-01T09:00 \
                 (read in the session's time zone), got {v:?}"
            ))
        }),
    }
}

fn utc() -> String {
    "UTC".into()
}

fn yes() -> bool {
    true
}

impl Lms {
    /// The live sessions of a course (of every course when none is given).
    pub async fn sessions(&self, course: Option<&str>) -> Result<Vec<SessionRow>> {
        Ok(self.store.sessions(course).await?)
    }

    /// A session's bookings, cancelled ones included.
    pub async fn bookings(&self, session_id: &str) -> Result<Vec<crate::store::BookingRow>> {
        Ok(self.store.bookings(session_id).await?)
    }

    /// The learner keys (as their results rows show them) whose results record attending the session,
    /// among those who booked it: only the booked persons' derived records are read.
    pub async fn attended(
        &self,
        s: &SessionRow,
        bookings: &[crate::store::BookingRow],
    ) -> Result<std::collections::HashSet<String>> {
        let now = crate::now_us();
        let booked: Vec<String> = bookings.iter().map(|b| b.learner_key.clone()).collect();
        let persons: std::collections::HashSet<String> = self.store.persons_of(&booked).await?.into_values().collect();
        let filter = super::reports::ResultsFilter { course: Some(s.course_id.clone()), ..Default::default() };
        let briefs: Vec<_> = self
            .briefs(&filter, now)
            .await?
            .into_iter()
            .filter(|b| b.person.as_ref().is_some_and(|p| persons.contains(p)))
            .collect();
        Ok(self
            .rows_of(&briefs, now)
            .await?
            .iter()
            .filter(|r| r.attendance.get(&s.activity_id) == Some(&true))
            .filter_map(|r| agent::key(&r.learner))
            .collect())
    }

    /// Announces a live session as a component of a course.
    pub async fn create_session(&self, req: SessionRequest) -> Result<SessionRow> {
        let mut def = self.course_def(&req.course).await?;
        let tz = super::zones::zone(&req.timezone).map_err(|e| bad(format!("timezone: {e}")))?;
        let timezone = tz.iana_name().unwrap_or(req.timezone.trim()).to_string();
        let starts = session_time("start", &req.start, &tz)?;
        let ends = session_time("end", &req.end, &tz)?;
        if ends <= starts {
            return Err(bad("end must be after start"));
        }
        if req.capacity.is_some_and(|c| c < 1) {
            return Err(bad("capacity must be at least 1"));
        }
        if let Some(u) = &req.join_url {
            iri_string::types::IriStr::new(u).map_err(|_| bad(format!("join_url must be a URL, got {u:?}")))?;
        }
        let id = uuid::Uuid::now_v7().to_string();
        let row = SessionRow {
            id: id.clone(),
            course_id: req.course.clone(),
            activity_id: format!("urn:cairn:session:{id}"),
            title: req.title.clone(),
            starts_us: starts,
            ends_us: ends,
            timezone,
            capacity: req.capacity,
            location: req.location,
            join_url: req.join_url,
            created_us: crate::now_us(),
            cancelled_us: None,
        };
        self.store.insert_session(&row).await?;
        def.components.push(Component {
            activity_id: row.activity_id.clone(),
            title: row.title.clone(),
            required: req.required,
            rule: Rule::Session,
            blocks: vec![],
        });
        self.save_course_def(&def, true).await?;
        Ok(row)
    }

    pub async fn session(&self, id: &str) -> Result<SessionRow> {
        self.store.session(id).await?.ok_or_else(|| LrsError::NotFound(format!("no session {id}")))
    }

    /// Cancels a session; it stops counting as a required component.
    pub async fn cancel_session(&self, id: &str) -> Result<SessionRow> {
        let s = self.session(id).await?;
        self.store.cancel_session(id, crate::now_us()).await?;
        let mut def = self.course_def(&s.course_id).await?;
        def.components.retain(|c| c.activity_id != s.activity_id);
        self.save_course_def(&def, true).await?;
        self.session(id).await
    }

    fn session_activity(s: &SessionRow) -> Value {
        json!({"objectType": "Activity", "id": s.activity_id, "definition": {"type": "http://adlnet.gov/expapi/activities/meeting", "name": {"und": s.title}}})
    }

    /// The registration of the learner's latest assignment of the course, under any of their
    /// identifiers.
    async fn registration_for(&self, course_id: &str, learner_key: &str) -> Result<Option<String>> {
        let Some(person) = self.persons_of_keys(std::iter::once(learner_key.to_string())).await?.remove(learner_key)
        else {
            return Ok(None);
        };
        let assigned = self.store.assignments_of_person(Some(course_id), &person).await?;
        Ok(assigned.last().map(|a| a.registration.clone()))
    }

    /// Books a seat (capacity enforced) and records it as an xAPI `registered` statement. When the
    /// session is full, `waitlist` puts the learner on its waitlist (no statement until a seat frees);
    /// otherwise the answer is 409.
    pub async fn book_session(
        &self,
        id: &str,
        learner: &Value,
        version: Version,
        waitlist: bool,
    ) -> Result<BookOutcome> {
        let s = self.session(id).await?;
        if s.cancelled_us.is_some() {
            return Err(LrsError::Conflict(format!("session {id} is cancelled")));
        }
        let key = self.learner_key(learner, version)?;
        let outcome = self.store.book(id, &key, &learner.to_string(), s.capacity, waitlist, crate::now_us()).await?;
        match outcome {
            BookOutcome::Full => {
                return Err(LrsError::Conflict(format!(
                    "session {id} is full ({} seats); ask for the waitlist to wait for one",
                    s.capacity.unwrap_or(0)
                )))
            }
            BookOutcome::AlreadyBooked | BookOutcome::Waitlisted(_) => return Ok(outcome),
            BookOutcome::Booked => {}
        }
        let stmt = self.session_statement(&s, learner, &key, (verbs::REGISTERED, "registered")).await?;
        self.write_as_system(vec![stmt]).await?;
        Ok(outcome)
    }

    /// Cancels a learner's seat or waitlist entry. A freed seat goes to the longest-waiting learner,
    /// whose booking is then recorded (`registered`) like any other.
    pub async fn cancel_booking(&self, id: &str, learner: &Value, version: Version) -> Result<Option<Value>> {
        let key = self.learner_key(learner, version)?;
        let done = self.store.cancel_booking(id, &key, crate::now_us()).await?;
        if !done.cancelled {
            return Err(LrsError::NotFound(format!("no active booking of session {id} for this learner")));
        }
        let Some((next_key, next)) = done.promoted else { return Ok(None) };
        let s = self.session(id).await?;
        let agent: Value = serde_json::from_str(&next).unwrap_or_else(|_| crate::xapi::agent::from_key(&next_key));
        let stmt = self.session_statement(&s, &agent, &next_key, (verbs::REGISTERED, "registered")).await?;
        self.write_as_system(vec![stmt]).await?;
        Ok(Some(agent))
    }

    /// Marks attendance by writing the xAPI `attended` statement (as any client may).
    pub async fn mark_attendance(&self, id: &str, learner: &Value, version: Version) -> Result<String> {
        let s = self.session(id).await?;
        let key = self.learner_key(learner, version)?;
        let stmt = self.session_statement(&s, learner, &key, (verbs::ATTENDED, "attended")).await?;
        let ids = self.write_as_system(vec![stmt]).await?;
        ids.into_iter().next().ok_or_else(|| bad("no statement written"))
    }

    fn learner_key(&self, learner: &Value, version: Version) -> Result<String> {
        self.validator.agent(learner, version).map_err(|e| bad(format!("learner: {e}")))?;
        agent::key(learner).ok_or_else(|| bad("learner needs an identifier"))
    }

    /// A booking or attendance statement: `verb` is the IRI and its English display.
    async fn session_statement(&self, s: &SessionRow, learner: &Value, key: &str, verb: (&str, &str)) -> Result<Value> {
        let mut ctx = json!({"contextActivities": {"parent": [{"id": s.course_id}]}});
        if let Some(reg) = self.registration_for(&s.course_id, key).await? {
            ctx["registration"] = json!(reg);
        }
        Ok(json!({
            "actor": learner,
            "verb": {"id": verb.0, "display": {"en-US": verb.1}},
            "object": Self::session_activity(s),
            "context": ctx,
        }))
    }
}

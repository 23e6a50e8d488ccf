//! The admin API for results (`admin` scope): course definitions, assignments, live sessions with
//! bookings and attendance, and the analyst queries (JSON or CSV). Documented in `docs/openapi.yaml`.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiError, ApiResult};
use super::extract::{header_str, Admin, ApiJson, QueryPairs};
use crate::lms::assignments::AssignRequest;
use crate::lms::definitions::DefineCourse;
use crate::lms::reports::{to_csv, ResultsFilter};
use crate::lms::sessions::SessionRequest;
use crate::lms::Lms;
use crate::store::BookOutcome;
use crate::xapi::{agent, timestamp, Version};

/// Agents in the admin API are checked with the newest xAPI rules.
const V: Version = Version::V2_0_0;

fn now_us() -> i64 {
    crate::now_us()
}

fn parse_time(name: &str, v: &str) -> ApiResult<i64> {
    let t = timestamp::parse_timestamp(v).map_err(|e| ApiError::BadRequest(format!("{name}: {e}")))?;
    Ok((t.unix_timestamp_nanos() / 1000) as i64)
}

fn agent_param(lms: &Lms, name: &str, v: &str) -> ApiResult<String> {
    Ok(lms.parse_agent_param(name, v, V)?.1)
}

/// POST /api/assignments
pub async fn assign(State(lms): State<Lms>, _: Admin, ApiJson(req): ApiJson<AssignRequest>) -> ApiResult<Response> {
    let single = req.group.is_none();
    let rows = lms.assign(req, V).await?;
    let views: Vec<Value> = rows.iter().map(assignment_json).collect();
    let body = if single { views.into_iter().next().unwrap_or(Value::Null) } else { json!({"assignments": views}) };
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

fn assignment_json(a: &crate::store::AssignmentRow) -> Value {
    let t = timestamp::format_us;
    json!({
        "id": a.id, "course": a.course_id, "learner": serde_json::from_str::<Value>(&a.learner).unwrap_or(Value::Null),
        "assigned_at": t(a.assigned_us), "due": t(a.due_us), "grace_days": a.grace_days,
        "recurrence_months": a.recurrence_months, "registration": a.registration,
        "waived_at": a.waived_us.map(t), "waived_reason": a.waived_reason,
    })
}

/// GET /api/assignments?course=&learner=
pub async fn assignments(State(lms): State<Lms>, _: Admin, q: QueryPairs) -> ApiResult<Response> {
    let learner = q.get("learner").map(|l| agent_param(&lms, "learner", l)).transpose()?;
    let rows = lms.assignments(q.get("course"), learner.as_deref()).await?;
    Ok(axum::Json(rows.iter().map(assignment_json).collect::<Vec<_>>()).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaiveBody {
    #[serde(default)]
    reason: Option<String>,
}

/// POST /api/assignments/bulk (body: CSV with a header `learner,course,due[,grace_days,recurrence_months]`):
/// all rows or none; a refused file answers 400 with each bad row's line and reason.
pub async fn assign_bulk(State(lms): State<Lms>, _: Admin, body: axum::body::Bytes) -> ApiResult<Response> {
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::BadRequest("the CSV is not UTF-8 text".into()))?;
    match lms.assign_csv(text, V).await? {
        Ok(rows) => {
            let views: Vec<Value> = rows.iter().map(assignment_json).collect();
            Ok((StatusCode::CREATED, axum::Json(json!({"assignments": views}))).into_response())
        }
        Err(rows) => {
            let message = format!("{} rows refused; nothing was assigned", rows.len());
            let body = json!({"error": {"status": 400, "message": message}, "rows": rows});
            Ok((StatusCode::BAD_REQUEST, axum::Json(body)).into_response())
        }
    }
}

/// POST /api/assignments/{id}/waive
pub async fn waive(
    State(lms): State<Lms>,
    _: Admin,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    // The body is optional: `{"reason": "…"}` or nothing.
    let reason = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<WaiveBody>(&body)
            .map_err(|e| ApiError::BadRequest(format!("request body: {e}")))?
            .reason
    };
    let a = lms.waive(&id, reason.as_deref()).await?;
    Ok(axum::Json(assignment_json(&a)).into_response())
}

/// PUT /api/courses/{id}: define a course from components.
pub async fn define(
    State(lms): State<Lms>,
    _: Admin,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<DefineCourse>,
) -> ApiResult<Response> {
    let def = lms.define_course(&id, req).await?;
    Ok(axum::Json(def).into_response())
}

/// The results filter from query parameters.
fn filter(lms: &Lms, q: &QueryPairs) -> ApiResult<ResultsFilter> {
    let mut f = ResultsFilter { limit: 1000, ..Default::default() };
    for (k, v) in &q.0 {
        match k.as_str() {
            "course" => f.course = Some(v.clone()),
            "learner" => f.learner_key = Some(agent_param(lms, "learner", v)?),
            "group" => f.group_key = Some(agent_param(lms, "group", v)?),
            "status" => {
                if !["not_started", "in_progress", "completed", "passed", "failed"].contains(&v.as_str()) {
                    return Err(ApiError::BadRequest(format!(
                        "status must be not_started, in_progress, completed, passed or failed, got {v:?}"
                    )));
                }
                f.status = Some(v.clone());
            }
            "compliance" => {
                if crate::results::compliance::Compliance::parse(v).is_none() {
                    return Err(ApiError::BadRequest(format!(
                        "compliance must be pending, on_time, late, overdue, waived, expiring or expired, got {v:?}"
                    )));
                }
                f.compliance = Some(v.clone());
            }
            "due_before" => f.due_before_us = Some(parse_time("due_before", v)?),
            "due_after" => f.due_after_us = Some(parse_time("due_after", v)?),
            "limit" => {
                f.limit = v.parse().map_err(|_| ApiError::BadRequest(format!("limit must be a number, got {v:?}")))?
            }
            "offset" => {
                f.offset = v.parse().map_err(|_| ApiError::BadRequest(format!("offset must be a number, got {v:?}")))?
            }
            "format" => {}
            other => return Err(ApiError::BadRequest(format!("unknown parameter {other:?} for results"))),
        }
    }
    Ok(f)
}

/// GET /api/results (JSON, or CSV with `Accept: text/csv` or `format=csv`)
pub async fn results(State(lms): State<Lms>, _: Admin, q: QueryPairs, headers: HeaderMap) -> ApiResult<Response> {
    let f = filter(&lms, &q)?;
    let (rows, total) = lms.results(&f, now_us()).await?;
    let csv = q.get("format") == Some("csv") || header_str(&headers, "accept").is_some_and(|a| a.contains("text/csv"));
    if csv {
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], to_csv(&rows)).into_response());
    }
    Ok(axum::Json(json!({"results": rows, "total": total, "offset": f.offset, "limit": f.limit})).into_response())
}

/// GET /api/courses/{id}/summary (also GET /api/summary?course=)
pub async fn summary_of(lms: &Lms, course: &str) -> ApiResult<Response> {
    Ok(axum::Json(lms.course_summary(course, now_us()).await?).into_response())
}

pub async fn summary(State(lms): State<Lms>, _: Admin, q: QueryPairs) -> ApiResult<Response> {
    let course = q.get("course").ok_or_else(|| ApiError::BadRequest("parameter course is required".into()))?;
    summary_of(&lms, course).await
}

/// POST /api/results/rebuild
pub async fn rebuild(State(lms): State<Lms>, _: Admin) -> ApiResult<Response> {
    let n = lms.rebuild_results().await?;
    Ok(axum::Json(json!({"statements_read": n})).into_response())
}

// --- sessions ---

fn session_json(s: &crate::store::SessionRow) -> Value {
    let t = timestamp::format_us;
    json!({
        "id": s.id, "course": s.course_id, "activity_id": s.activity_id, "title": s.title,
        "start": t(s.starts_us), "end": t(s.ends_us), "timezone": s.timezone, "capacity": s.capacity,
        "location": s.location, "join_url": s.join_url, "cancelled_at": s.cancelled_us.map(t),
    })
}

/// POST /api/sessions
pub async fn create_session(
    State(lms): State<Lms>,
    _: Admin,
    ApiJson(req): ApiJson<SessionRequest>,
) -> ApiResult<Response> {
    let s = lms.create_session(req).await?;
    Ok((StatusCode::CREATED, axum::Json(session_json(&s))).into_response())
}

/// GET /api/sessions?course=
pub async fn sessions(State(lms): State<Lms>, _: Admin, q: QueryPairs) -> ApiResult<Response> {
    let rows = lms.sessions(q.get("course")).await?;
    Ok(axum::Json(rows.iter().map(session_json).collect::<Vec<_>>()).into_response())
}

/// GET /api/sessions/{id}: the session with its bookings.
pub async fn session(State(lms): State<Lms>, _: Admin, Path(id): Path<String>) -> ApiResult<Response> {
    let s = lms.session(&id).await?;
    let bookings = lms.bookings(&id).await?;
    let mut v = session_json(&s);
    v["bookings"] = bookings
        .iter()
        .map(|b| json!({"learner": serde_json::from_str::<Value>(&b.learner).unwrap_or(Value::Null), "learner_label": agent::label(&b.learner_key), "booked": b.has_seat(), "waitlisted": b.waiting()}))
        .collect();
    Ok(axum::Json(v).into_response())
}

/// POST /api/sessions/{id}/cancel
pub async fn cancel_session(State(lms): State<Lms>, _: Admin, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(axum::Json(session_json(&lms.cancel_session(&id).await?)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnerBody {
    learner: Value,
}

/// A booking request: the learner, and whether to wait for a seat when the session is full.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookBody {
    learner: Value,
    #[serde(default)]
    waitlist: bool,
}

/// POST /api/sessions/{id}/bookings {learner}
pub async fn book(
    State(lms): State<Lms>,
    _: Admin,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<BookBody>,
) -> ApiResult<Response> {
    let outcome = lms.book_session(&id, &b.learner, V, b.waitlist).await?;
    let (status, body) = match outcome {
        BookOutcome::Booked => (StatusCode::CREATED, json!({"session": id, "booked": true})),
        BookOutcome::Waitlisted(n) => {
            (StatusCode::ACCEPTED, json!({"session": id, "booked": false, "waitlisted": true, "position": n}))
        }
        _ => (StatusCode::OK, json!({"session": id, "booked": true})),
    };
    Ok((status, axum::Json(body)).into_response())
}

/// POST /api/sessions/{id}/bookings/cancel {learner}
pub async fn cancel_booking(
    State(lms): State<Lms>,
    _: Admin,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<LearnerBody>,
) -> ApiResult<Response> {
    let promoted = lms.cancel_booking(&id, &b.learner, V).await?;
    Ok(axum::Json(json!({"session": id, "booked": false, "promoted": promoted})).into_response())
}

/// POST /api/sessions/{id}/attendance {learner}: writes the `attended` statement.
pub async fn attendance(
    State(lms): State<Lms>,
    _: Admin,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<LearnerBody>,
) -> ApiResult<Response> {
    let statement = lms.mark_attendance(&id, &b.learner, V).await?;
    Ok((StatusCode::CREATED, axum::Json(json!({"session": id, "statement": statement}))).into_response())
}

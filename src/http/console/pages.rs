//! Pages every console role sees: the overview and the statement browser (voiding: admin only).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::{json, Value};

use super::charts::{bar_chart, BarChart};
use super::{check_csrf, render, when, CsrfOnly, Frame, PageError, Signed};
use crate::console::{Console, Role, Viewer};
use crate::lms::reports::ResultsFilter;
use crate::lrs::auth::Principal;
use crate::lrs::LrsError;
use crate::xapi::Version;

/// Days of the statements-per-day chart.
const DAYS: i64 = 14;
/// Weeks of the active-learners chart.
const WEEKS: i64 = 12;

/// A course IRI's last path segment, short enough for under a bar.
fn short_course(iri: &str) -> String {
    let last = iri.trim_end_matches('/').rsplit(['/', ':']).next().unwrap_or(iri);
    last.chars().take(6).collect()
}
/// Statements per page of the browser.
const PAGE: usize = 25;
/// Compliance states, in the order the stacked bars show them.
const STATES: [&str; 5] = ["on_time", "late", "overdue", "pending", "waived"];

/// What the console reads statements as: every statement, nothing else.
pub(super) fn reader(v: &Viewer, lms: &crate::lms::Lms, scopes: &[&str]) -> Principal {
    Principal {
        key: format!("console:{}", v.login),
        name: v.name.clone(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        authority: json!({"objectType": "Agent", "name": v.name,
                          "account": {"homePage": lms.config.public_url, "name": format!("console:{}", v.login)}}),
        restricted: None,
    }
}

pub struct Segment {
    class: &'static str,
    count: usize,
    x: f64,
    width: f64,
}

pub struct CourseRow {
    course: String,
    summary: String,
    counts: Vec<usize>,
    segments: Vec<Segment>,
}

pub struct SessionLine {
    starts: String,
    title: String,
    course: String,
    seats: String,
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct Overview {
    frame: Frame,
    days: BarChart,
    weeks: BarChart,
    completions: BarChart,
    states: [&'static str; 5],
    courses: Vec<CourseRow>,
    sessions: Vec<SessionLine>,
}

/// GET /console: statements per day, compliance by course, upcoming live sessions.
pub async fn overview(State(console): State<Console>, Signed(v): Signed) -> Result<Response, PageError> {
    let lms = console.lms();
    let now = crate::now_us();
    let day_us = 86_400_000_000i64;
    let today = now - now.rem_euclid(day_us);
    let from = today - (DAYS - 1) * day_us;
    let counts = console.statements_per_day(from, DAYS).await?;
    let points: Vec<(String, String, i64)> = counts
        .iter()
        .enumerate()
        .map(|(i, &count)| {
            let label = when(from + i as i64 * day_us);
            (label.get(..10).unwrap_or("").to_string(), label.get(5..10).unwrap_or("").to_string(), count)
        })
        .collect();
    let total: i64 = counts.iter().sum();
    let busiest =
        points.iter().filter(|d| d.2 > 0).max_by_key(|d| d.2).map(|d| format!("; busiest {} with {}", d.0, d.2));
    let summary = format!("{total} statements in the last {DAYS} days{}", busiest.unwrap_or_default());
    let days = bar_chart(points, 2, summary);

    let monday = crate::store::week_of(now) - (WEEKS - 1) * 7 * day_us;
    let active = console.active_learners_per_week(monday, WEEKS).await?;
    let points: Vec<(String, String, i64)> = active
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let label = when(monday + i as i64 * 7 * day_us);
            (format!("week of {}", label.get(..10).unwrap_or("")), label.get(5..10).unwrap_or("").to_string(), n)
        })
        .collect();
    let this_week = active.last().copied().unwrap_or(0);
    let weeks = bar_chart(points, 2, format!("{this_week} learners active this week; {WEEKS} weeks shown"));

    let rows = lms.briefs(&ResultsFilter::default(), now).await?;
    let mut done: BTreeMap<&str, i64> = BTreeMap::new();
    for r in &rows {
        let n = done.entry(r.course.as_str()).or_default();
        if matches!(r.status.as_str(), "completed" | "passed") {
            *n += 1;
        }
    }
    let total: i64 = done.values().sum();
    let points = done.iter().map(|(c, n)| (c.to_string(), short_course(c), *n)).collect();
    let completions =
        bar_chart(points, 1, format!("{total} learners completed or passed, across {} courses", done.len()));
    let mut per_course: BTreeMap<String, [usize; 5]> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.assignment.is_some()) {
        if let Some(i) = r.compliance().and_then(|c| STATES.iter().position(|s| *s == c)) {
            per_course.entry(r.course.clone()).or_default()[i] += 1;
        }
    }
    let courses = per_course
        .into_iter()
        .map(|(course, counts)| {
            let n: usize = counts.iter().sum::<usize>().max(1);
            let mut x = 0.0;
            let segments = STATES
                .iter()
                .zip(counts)
                .filter(|(_, c)| *c > 0)
                .map(|(class, count)| {
                    let width = 300.0 * count as f64 / n as f64;
                    let s = Segment { class, count, x, width };
                    x += width;
                    s
                })
                .collect();
            let summary = STATES.iter().zip(counts).map(|(s, c)| format!("{c} {s}")).collect::<Vec<_>>().join(", ");
            CourseRow { summary: format!("{course}: {summary}"), course, counts: counts.to_vec(), segments }
        })
        .collect();

    let mut sessions = Vec::new();
    for s in lms.sessions(None).await?.into_iter().filter(|s| s.starts_us >= now && s.cancelled_us.is_none()).take(10) {
        let taken = lms.bookings(&s.id).await?.iter().filter(|b| b.has_seat()).count();
        sessions.push(SessionLine {
            starts: when(s.starts_us),
            title: s.title,
            course: s.course_id,
            seats: match s.capacity {
                Some(c) => format!("{taken} of {c}"),
                None => taken.to_string(),
            },
        });
    }
    let page =
        Overview { frame: Frame::of(&v, "overview"), days, weeks, completions, states: STATES, courses, sessions };
    Ok(render(StatusCode::OK, &page))
}

/// The statement browser's filters, as the form sends them.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    agent: String,
    #[serde(default)]
    verb: String,
    #[serde(default)]
    activity: String,
    #[serde(default)]
    registration: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    related: Option<String>,
    #[serde(default)]
    ascending: Option<String>,
    #[serde(default)]
    pub(super) cursor: Option<String>,
}

/// The filters as the template shows them.
pub struct Shown {
    agent: String,
    verb: String,
    activity: String,
    registration: String,
    since: String,
    until: String,
    related: bool,
    ascending: bool,
}

pub struct Line {
    id: String,
    short_id: String,
    stored: String,
    actor: String,
    verb: String,
    object: String,
}

#[derive(Template)]
#[template(path = "console/statements.html")]
struct StatementsPage {
    frame: Frame,
    f: Shown,
    export: String,
    rows: Vec<Line>,
    more: Option<String>,
    error: Option<String>,
}

/// An agent filter: an email address is taken as its `mailto:` IRI, anything else as xAPI agent JSON.
fn agent_param(text: &str) -> String {
    let t = text.trim();
    if !t.starts_with('{') && t.contains('@') {
        let mbox = if t.starts_with("mailto:") { t.to_string() } else { format!("mailto:{t}") };
        json!({ "mbox": mbox }).to_string()
    } else {
        t.to_string()
    }
}

/// The xAPI query parameters of the filters, a page of the browser's size.
fn xapi_params(f: &Filters) -> Vec<(String, String)> {
    xapi_params_with_limit(f, PAGE)
}

/// The xAPI query parameters of the filters, `limit` statements a page.
pub(super) fn xapi_params_with_limit(f: &Filters, limit: usize) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: &str| {
        if !v.trim().is_empty() {
            p.push((k.to_string(), v.trim().to_string()));
        }
    };
    add("agent", &agent_param(&f.agent));
    add("verb", &f.verb);
    add("activity", &f.activity);
    add("registration", &f.registration);
    add("since", &f.since);
    add("until", &f.until);
    if f.related.is_some() {
        add("related_agents", "true");
        add("related_activities", "true");
    }
    if f.ascending.is_some() {
        add("ascending", "true");
    }
    add("limit", &limit.to_string());
    if let Some(c) = &f.cursor {
        add("cursor", c);
    }
    p
}

/// A short, human label of an agent or group.
fn label(a: &Value) -> String {
    let s = |p: &str| a.pointer(p).and_then(Value::as_str);
    s("/name")
        .or_else(|| s("/mbox").map(|m| m.trim_start_matches("mailto:")))
        .or_else(|| s("/account/name"))
        .or_else(|| s("/openid"))
        .or_else(|| s("/mbox_sha1sum"))
        .unwrap_or("(anonymous group)")
        .to_string()
}

/// GET /console/statements: the xAPI filters, a page of statements, and a link to the next page.
pub async fn statements(
    State(console): State<Console>,
    Signed(v): Signed,
    Query(f): Query<Filters>,
) -> Result<Response, PageError> {
    let lms = console.lms();
    let params = xapi_params(&f);
    let shown = Shown {
        agent: f.agent.clone(),
        verb: f.verb.clone(),
        activity: f.activity.clone(),
        registration: f.registration.clone(),
        since: f.since.clone(),
        until: f.until.clone(),
        related: f.related.is_some(),
        ascending: f.ascending.is_some(),
    };
    let frame = Frame::of(&v, "statements");
    let export = {
        let mut pairs: Vec<(&str, &str)> = vec![
            ("agent", &f.agent),
            ("verb", &f.verb),
            ("activity", &f.activity),
            ("registration", &f.registration),
            ("since", &f.since),
            ("until", &f.until),
        ];
        pairs.retain(|(_, v)| !v.is_empty());
        if f.related.is_some() {
            pairs.push(("related", "on"));
        }
        if f.ascending.is_some() {
            pairs.push(("ascending", "on"));
        }
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    };
    let who = reader(&v, lms, &["all/read"]);
    let query = async {
        let parsed = lms.parse_query(&params, Version::V2_0_0)?;
        lms.query(&who, &parsed, &[]).await
    };
    let (stmts, more) = match query.await {
        Ok((stmts, _, more)) => (stmts, more),
        Err(e @ (LrsError::BadRequest(_) | LrsError::Invalid(_))) => {
            let page =
                StatementsPage { frame, f: shown, export, rows: Vec::new(), more: None, error: Some(e.to_string()) };
            return Ok(render(StatusCode::BAD_REQUEST, &page));
        }
        Err(e) => return Err(e.into()),
    };
    let rows = stmts
        .iter()
        .map(|s| {
            let str_at = |p: &str| s.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
            let id = str_at("/id");
            let verb = s
                .pointer("/verb/display")
                .and_then(Value::as_object)
                .and_then(|m| m.get("en-US").or_else(|| m.get("en")).or_else(|| m.values().next()))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| str_at("/verb/id"));
            let object = match s.pointer("/object/objectType").and_then(Value::as_str) {
                Some("Agent" | "Group") => label(s.get("object").unwrap_or(&Value::Null)),
                Some("StatementRef") => format!("statement {}", str_at("/object/id")),
                Some("SubStatement") => "a sub-statement".to_string(),
                _ => str_at("/object/id"),
            };
            Line {
                short_id: id.get(..8).unwrap_or(&id).to_string(),
                stored: str_at("/stored").get(..19).unwrap_or("").replace('T', " "),
                actor: label(s.get("actor").unwrap_or(&Value::Null)),
                verb,
                object,
                id,
            }
        })
        .collect();
    let more = more.map(|c| {
        let mut pairs: Vec<(&str, String)> = vec![
            ("agent", f.agent.clone()),
            ("verb", f.verb.clone()),
            ("activity", f.activity.clone()),
            ("registration", f.registration.clone()),
            ("since", f.since.clone()),
            ("until", f.until.clone()),
        ];
        pairs.retain(|(_, v)| !v.is_empty());
        if f.related.is_some() {
            pairs.push(("related", "on".into()));
        }
        if f.ascending.is_some() {
            pairs.push(("ascending", "on".into()));
        }
        pairs.push(("cursor", c.encode()));
        format!("/console/statements?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default())
    });
    Ok(render(StatusCode::OK, &StatementsPage { frame, f: shown, export, rows, more, error: None }))
}

#[derive(Template)]
#[template(path = "console/statement.html")]
struct StatementPage {
    frame: Frame,
    id: String,
    json: String,
    voided: bool,
    can_void: bool,
    actor_link: String,
    verb_link: String,
    activity_link: Option<String>,
}

fn browse_link(key: &str, value: &str) -> String {
    format!("/console/statements?{}", serde_urlencoded::to_string([(key, value)]).unwrap_or_default())
}

/// GET /console/statements/{id}: the statement's full JSON (voided ones too), with links to its actor,
/// verb and activity.
pub async fn statement(
    State(console): State<Console>,
    Signed(v): Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let lms = console.lms();
    let who = reader(&v, lms, &["all/read"]);
    let mut found = None;
    for key in ["statementId", "voidedStatementId"] {
        let params = lms.parse_query(&[(key.to_string(), id.clone())], Version::V2_0_0)?;
        match lms.statement(&who, &params, &[]).await {
            Ok(Some((stmt, _))) => {
                found = Some((stmt, key == "voidedStatementId"));
                break;
            }
            Ok(None) | Err(LrsError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let Some((stmt, voided)) = found else {
        return Err(LrsError::NotFound(format!("no statement {id}")).into());
    };
    let actor = stmt.get("actor").cloned().unwrap_or(Value::Null);
    let actor_text = match actor.get("mbox").and_then(Value::as_str) {
        Some(m) => m.trim_start_matches("mailto:").to_string(),
        None => actor.to_string(),
    };
    let is_activity = stmt.pointer("/object/objectType").and_then(Value::as_str).is_none_or(|t| t == "Activity");
    let page = StatementPage {
        frame: Frame::of(&v, "statements"),
        json: serde_json::to_string_pretty(&stmt).unwrap_or_default(),
        voided,
        can_void: v.role == Role::Admin
            && !voided
            && stmt.pointer("/verb/id").and_then(Value::as_str) != Some(crate::xapi::vocab::verbs::VOIDED),
        actor_link: browse_link("agent", &actor_text),
        verb_link: browse_link("verb", stmt.pointer("/verb/id").and_then(Value::as_str).unwrap_or("")),
        activity_link: is_activity
            .then(|| stmt.pointer("/object/id").and_then(Value::as_str).map(|a| browse_link("activity", a)))
            .flatten(),
        id,
    };
    Ok(render(StatusCode::OK, &page))
}

/// POST /console/statements/{id}/void (admin): stores a voiding statement for it, authored by the
/// console user.
pub async fn void(
    State(console): State<Console>,
    Signed(v): Signed,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    v.require(Role::Admin)?;
    let lms = console.lms();
    let who = reader(&v, lms, &["statements/write", "statements/read"]);
    let voiding = json!({
        "actor": who.authority,
        "verb": {"id": crate::xapi::vocab::verbs::VOIDED, "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": id},
    });
    lms.store_statements(&who, Version::V2_0_0, vec![voiding], None).await?;
    console.audit(&v.login, "statement.void", &id, json!({})).await?;
    Ok(Redirect::to(&format!("/console/statements/{id}")).into_response())
}

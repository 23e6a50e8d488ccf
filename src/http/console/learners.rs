//! Learner pages: search over the agents seen in statements, and one learner's courses (results,
//! assignments, compliance), bookings and recent statements. Every role reads them.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::{minute, render, when, Frame, PageError, Signed};
use crate::console::Console;
use crate::lms::reports::ResultsFilter;
use crate::xapi::Version;

/// Most search results shown.
const LIMIT: usize = 50;

pub struct LearnerLine {
    label: String,
    ifi: String,
    link: String,
}

#[derive(Template)]
#[template(path = "console/learners.html")]
struct LearnersPage {
    frame: Frame,
    q: String,
    rows: Vec<LearnerLine>,
    limit: usize,
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

fn learner_link(key: &str) -> String {
    format!("/console/learner?{}", serde_urlencoded::to_string([("key", key)]).unwrap_or_default())
}

/// The learner's readable name and identifier, from the Person object the agents table keeps (each
/// property an array of the values seen).
fn describe(key: &str, person: &Value) -> (String, String) {
    let ifi = key.split_once('|').map(|(_, i)| i).unwrap_or(key).to_string();
    let s = |p: &str| person.pointer(p).and_then(Value::as_str);
    let label = s("/name/0")
        .or_else(|| s("/mbox/0").map(|m| m.trim_start_matches("mailto:")))
        .or_else(|| s("/account/0/name"))
        .unwrap_or(&ifi)
        .to_string();
    (label, ifi)
}

/// GET /console/learners?q=: agents whose identifier or name contains the text (two characters at least).
pub async fn learners(
    State(console): State<Console>,
    Signed(v): Signed,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let term = q.q.trim().chars().take(200).collect::<String>();
    let rows = if term.chars().count() >= 2 {
        console
            .search_learners(&term, LIMIT as i64)
            .await?
            .into_iter()
            .map(|(key, body)| {
                let (label, ifi) = describe(&key, &serde_json::from_str(&body).unwrap_or(Value::Null));
                LearnerLine { label, ifi, link: learner_link(&key) }
            })
            .collect()
    } else {
        Vec::new()
    };
    let shown = if term.chars().count() >= 2 { term } else { String::new() };
    Ok(render(StatusCode::OK, &LearnersPage { frame: Frame::of(&v, "learners"), q: shown, rows, limit: LIMIT }))
}

pub struct CourseLine {
    course: String,
    link: String,
    status: &'static str,
    score: String,
    due: String,
    compliance: &'static str,
    completed: String,
}

pub struct BookingLine {
    id: String,
    title: String,
    starts: String,
    booked: String,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "console/learner.html")]
struct LearnerPage {
    frame: Frame,
    label: String,
    ifi: String,
    /// The person's other identifiers: label and link.
    others: Vec<(String, String)>,
    results: Vec<CourseLine>,
    bookings: Vec<BookingLine>,
    recent: Vec<(String, String, String, String)>,
    statements_link: String,
}

#[derive(Deserialize)]
pub struct LearnerQuery {
    #[serde(default)]
    key: String,
}

/// GET /console/learner?key=: one learner (an agent key as the search links give it).
pub async fn learner(
    State(console): State<Console>,
    Signed(v): Signed,
    Query(q): Query<LearnerQuery>,
) -> Result<Response, PageError> {
    let lms = console.lms();
    let agent = console.learner(&q.key).await?;
    let (label, ifi) = describe(&q.key, &agent);
    let filter = ResultsFilter { learner_key: Some(q.key.clone()), ..Default::default() };
    let (rows, _) = lms.results(&filter, crate::now_us()).await?;
    let results = rows
        .iter()
        .map(|r| CourseLine {
            link: format!("/console/course?{}", serde_urlencoded::to_string([("id", &r.course)]).unwrap_or_default()),
            course: r.course.clone(),
            status: r.status,
            score: r.score.map(|s| format!("{:.0} %", s * 100.0)).unwrap_or_default(),
            due: minute(r.due.as_deref()),
            compliance: r.compliance.unwrap_or(""),
            completed: minute(r.completed_at.as_deref()),
        })
        .collect();
    let identifiers = console.identifiers_of_learner(&q.key).await?;
    let others =
        identifiers.iter().filter(|k| **k != q.key).map(|k| (crate::xapi::agent::label(k), learner_link(k))).collect();
    let mut booked = Vec::new();
    for k in &identifiers {
        booked.extend(console.bookings_of_learner(k).await?);
    }
    booked.sort_by_key(|b| std::cmp::Reverse(b.1.booked_us));
    let mut bookings = Vec::new();
    for (session_id, b) in booked {
        let Ok(s) = lms.session(&session_id).await else { continue };
        bookings.push(BookingLine {
            id: s.id,
            title: s.title,
            starts: when(s.starts_us),
            booked: when(b.booked_us),
            state: if b.cancelled_us.is_some() { "cancelled" } else { "booked" },
        });
    }
    // The xAPI agent filter: the identifier the key names (the Person may list several).
    let mut filter_agent = serde_json::Map::new();
    for k in ["mbox", "mbox_sha1sum", "openid", "account"] {
        let matches_key =
            |x: &Value| crate::xapi::agent::key(&serde_json::json!({ k: x })).as_deref() == Some(q.key.as_str());
        if let Some(x) = agent.get(k).and_then(Value::as_array).and_then(|xs| xs.iter().find(|x| matches_key(x))) {
            filter_agent.insert(k.to_string(), x.clone());
        }
    }
    let filter_agent = Value::Object(filter_agent).to_string();
    let who = super::pages::reader(&v, lms, &["all/read"]);
    // Recent statements of the person, under any of their identifiers.
    let mut params = lms.parse_query(&[("limit".into(), "20".into())], Version::V2_0_0)?;
    params.agents_any = identifiers;
    let (stmts, _, _) = lms.query(&who, &params, &[]).await?;
    let recent = stmts
        .iter()
        .map(|s| {
            let at = |p: &str| s.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
            (at("/id"), at("/stored").get(..19).unwrap_or("").replace('T', " "), at("/verb/id"), at("/object/id"))
        })
        .collect();
    let statements_link =
        format!("/console/statements?{}", serde_urlencoded::to_string([("agent", &filter_agent)]).unwrap_or_default());
    let page = LearnerPage {
        frame: Frame::of(&v, "learners"),
        label,
        ifi,
        others,
        results,
        bookings,
        recent,
        statements_link,
    };
    Ok(render(StatusCode::OK, &page))
}

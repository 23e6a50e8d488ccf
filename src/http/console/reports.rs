//! Reports: results rows by course, compliance and due window, with their CSV; and the statement
//! browser's current filter exported as JSON lines. Every role reads them.

use askama::Template;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::charts::{bar_chart, BarChart};
use super::pages::{self, Filters};
use super::{minute, render, Frame, PageError, Signed};
use crate::console::Console;
use crate::lms::reports::{to_csv, ResultsFilter};
use crate::lrs::LrsError;
use crate::xapi::Version;

/// Rows shown on the page (the CSV has them all).
const SHOWN: usize = 500;
const STATES: [&str; 5] = ["on_time", "late", "overdue", "pending", "waived"];

#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    course: String,
    #[serde(default)]
    compliance: String,
    #[serde(default)]
    due_after: String,
    #[serde(default)]
    due_before: String,
    /// A group's agent key (as the group select offers them).
    #[serde(default)]
    group: String,
}

pub struct Row {
    learner: String,
    course: String,
    status: &'static str,
    score: String,
    due: String,
    compliance: &'static str,
    completed: String,
}

#[derive(Template)]
#[template(path = "console/reports.html")]
struct ReportsPage {
    frame: Frame,
    f: ReportQuery,
    courses: Vec<(String, String)>,
    /// `(key, label)` of the groups courses were assigned to.
    groups: Vec<(String, String)>,
    /// Rows of the filter per compliance state.
    chart: BarChart,
    states: [&'static str; 5],
    rows: Vec<Row>,
    total: usize,
    csv_link: String,
    error: Option<String>,
}

/// The results filter of the form; 400 naming the field that is wrong.
fn filter(q: &ReportQuery) -> Result<ResultsFilter, LrsError> {
    let day = |field: &str, text: &str, end_of_day: bool| -> Result<Option<i64>, LrsError> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(None);
        }
        let d = time::Date::parse(t, &time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| LrsError::BadRequest(format!("{field} must be a date (YYYY-MM-DD), got {t:?}")))?;
        let at = if end_of_day { d.with_hms(23, 59, 59) } else { d.with_hms(0, 0, 0) };
        let at = at.map_err(|_| LrsError::BadRequest(format!("{field}: {t:?}")))?.assume_utc();
        Ok(Some((at.unix_timestamp_nanos() / 1000) as i64))
    };
    if !q.compliance.is_empty() && !STATES.contains(&q.compliance.as_str()) {
        return Err(LrsError::BadRequest(format!("unknown compliance {:?}", q.compliance)));
    }
    Ok(ResultsFilter {
        course: Some(q.course.clone()).filter(|c| !c.is_empty()),
        compliance: Some(q.compliance.clone()).filter(|c| !c.is_empty()),
        group_key: Some(q.group.clone()).filter(|g| !g.is_empty()),
        due_after_us: day("due after", &q.due_after, false)?,
        due_before_us: day("due before", &q.due_before, true)?,
        ..Default::default()
    })
}

/// GET /console/reports
pub async fn reports(
    State(console): State<Console>,
    Signed(v): Signed,
    Query(q): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let lms = console.lms();
    let courses = lms.courses().await?.into_iter().map(|c| (c.id, c.title)).collect();
    let groups = lms
        .store
        .assigned_groups()
        .await
        .map_err(LrsError::from)?
        .into_iter()
        .map(|k| {
            let label = crate::xapi::agent::label(&k);
            (k, label)
        })
        .collect();
    let csv_link = format!(
        "/console/reports.csv?{}",
        serde_urlencoded::to_string([
            ("course", &q.course),
            ("compliance", &q.compliance),
            ("due_after", &q.due_after),
            ("due_before", &q.due_before),
            ("group", &q.group)
        ])
        .unwrap_or_default()
    );
    let mut counts = [0i64; STATES.len()];
    let (status, rows, total, error) = match filter(&q) {
        Ok(f) => {
            // Every row of the filter for the chart's counts; the table shows the first `SHOWN`.
            let now = crate::now_us();
            let briefs = lms.briefs(&f, now).await?;
            for r in &briefs {
                if let Some(i) = STATES.iter().position(|s| Some(*s) == r.compliance()) {
                    counts[i] += 1;
                }
            }
            let shown = lms.rows_of(&briefs[..briefs.len().min(SHOWN)], now).await?;
            let rows = shown
                .iter()
                .map(|r| Row {
                    learner: r.learner_label.clone(),
                    course: r.course.clone(),
                    status: r.status,
                    score: r.score.map(|s| format!("{:.0} %", s * 100.0)).unwrap_or_default(),
                    due: minute(r.due.as_deref()),
                    compliance: r.compliance.unwrap_or(""),
                    completed: minute(r.completed_at.as_deref()),
                })
                .collect();
            (StatusCode::OK, rows, briefs.len(), None)
        }
        Err(e) => (StatusCode::BAD_REQUEST, Vec::new(), 0, Some(e.to_string())),
    };
    let points = STATES.iter().zip(counts).map(|(s, n)| (s.to_string(), s.to_string(), n)).collect();
    let assigned: i64 = counts.iter().sum();
    let chart =
        bar_chart(points, 1, format!("{assigned} assigned rows of this filter by compliance: {}", summary(&counts)));
    let page = ReportsPage {
        frame: Frame::of(&v, "reports"),
        f: q,
        courses,
        groups,
        chart,
        states: STATES,
        rows,
        total,
        csv_link,
        error,
    };
    Ok(render(status, &page))
}

/// "3 on_time, 1 late, …" for the chart's sentence.
fn summary(counts: &[i64]) -> String {
    STATES.iter().zip(counts).map(|(s, n)| format!("{n} {s}")).collect::<Vec<_>>().join(", ")
}

fn download(body: impl Into<Body>, content_type: &'static str, name: &'static str) -> Response {
    let mut resp = Response::new(body.into());
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(name));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// GET /console/reports.csv: every row of the filter (the columns of `/api/results?format=csv`).
pub async fn reports_csv(
    State(console): State<Console>,
    Signed(_): Signed,
    Query(q): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let (rows, _) = console.lms().results(&filter(&q)?, crate::now_us()).await?;
    Ok(download(to_csv(&rows), "text/csv; charset=utf-8", "attachment; filename=\"cairn-results.csv\""))
}

/// Statements per page while exporting: the store's own page bound keeps each page's memory small.
const EXPORT_PAGE: usize = 500;

/// One statement as a CSV row: id, stored, timestamp, actor, verb, object, registration.
fn csv_row(s: &serde_json::Value) -> String {
    let at = |p: &str| s.pointer(p).and_then(serde_json::Value::as_str).unwrap_or("").to_string();
    let actor = s.get("actor").map(|a| {
        let f = |p: &str| a.pointer(p).and_then(serde_json::Value::as_str).map(str::to_string);
        f("/mbox")
            .or_else(|| f("/account/name"))
            .or_else(|| f("/openid"))
            .or_else(|| f("/mbox_sha1sum"))
            .unwrap_or_else(|| a.to_string())
    });
    let cells = [
        at("/id"),
        at("/stored"),
        at("/timestamp"),
        actor.unwrap_or_default(),
        at("/verb/id"),
        at("/object/id"),
        at("/context/registration"),
    ];
    let quote = |c: &String| {
        if c.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", c.replace('"', "\"\""))
        } else {
            c.clone()
        }
    };
    cells.iter().map(quote).collect::<Vec<_>>().join(",") + "\r\n"
}

/// GET /console/statements.jsonl: the browser's filter, every matching statement, one JSON object a
/// line. Streamed page by page through the statements query's cursor, so the export of a million
/// statements holds one page in memory at a time.
pub async fn statements_jsonl(
    State(console): State<Console>,
    Signed(v): Signed,
    Query(f): Query<Filters>,
) -> Result<Response, PageError> {
    export(console, v, f, false).await
}

/// GET /console/statements.csv: as the JSON lines export, one row per statement.
pub async fn statements_csv(
    State(console): State<Console>,
    Signed(v): Signed,
    Query(f): Query<Filters>,
) -> Result<Response, PageError> {
    export(console, v, f, true).await
}

async fn export(console: Console, v: crate::console::Viewer, mut f: Filters, csv: bool) -> Result<Response, PageError> {
    let lms = console.lms().clone();
    let who = pages::reader(&v, &lms, &["all/read"]);
    f.cursor = None;
    // The first page is fetched here, so a bad filter is a 400 page rather than a broken download.
    let params = pages::xapi_params_with_limit(&f, EXPORT_PAGE);
    let parsed = lms.parse_query(&params, Version::V2_0_0)?;
    let (first, _, mut more) = lms.query(&who, &parsed, &[]).await?;
    let stream = async_stream_lines(lms, who, f, first, more.take(), csv);
    Ok(if csv {
        download(Body::from_stream(stream), "text/csv; charset=utf-8", "attachment; filename=\"cairn-statements.csv\"")
    } else {
        download(Body::from_stream(stream), "application/x-ndjson", "attachment; filename=\"cairn-statements.jsonl\"")
    })
}

/// The pages after the first, as a stream of byte chunks (one page a chunk).
fn async_stream_lines(
    lms: crate::lms::Lms,
    who: crate::lrs::auth::Principal,
    f: Filters,
    first: Vec<serde_json::Value>,
    more: Option<crate::lrs::statements::Cursor>,
    csv: bool,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send {
    let lines = move |stmts: &[serde_json::Value]| {
        let mut out = Vec::new();
        for s in stmts {
            if csv {
                out.extend_from_slice(csv_row(s).as_bytes());
            } else {
                out.extend_from_slice(s.to_string().as_bytes());
                out.push(b'\n');
            }
        }
        out
    };
    let mut head = if csv { b"id,stored,timestamp,actor,verb,object,registration\r\n".to_vec() } else { Vec::new() };
    head.extend(lines(&first));
    let state = (Some(head), more, lms, who, f);
    futures_util::stream::unfold(state, move |(ready, cursor, lms, who, mut f)| async move {
        if let Some(chunk) = ready {
            return Some((Ok(chunk), (None, cursor, lms, who, f)));
        }
        let cursor = cursor?;
        f.cursor = Some(cursor.encode());
        let params = pages::xapi_params_with_limit(&f, EXPORT_PAGE);
        let page = match lms.parse_query(&params, Version::V2_0_0) {
            Ok(parsed) => lms.query(&who, &parsed, &[]).await,
            Err(e) => Err(e),
        };
        match page {
            Ok((stmts, _, next)) => Some((Ok(lines(&stmts)), (None, next, lms, who, f))),
            // The answer has begun: a failure now can only cut it short, which the client sees.
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), (None, None, lms, who, f))),
        }
    })
}

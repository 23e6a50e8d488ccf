//! Course pages: the library, package upload (admin), a course with its results, assignments and
//! structure, and assigning and waiving (admin).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use serde_json::json;

use super::charts::{bar_chart, BarChart};
use super::{check_csrf, minute, render, render_scripted, when, Frame, PageError, Signed};
use crate::console::{Console, Role, Viewer};
use crate::http::courses::receive_file;
use crate::lms::assignments::AssignRequest;
use crate::lms::courses::render_tree;
use crate::lms::reports::{Brief, ResultsFilter};
use crate::lrs::LrsError;
use crate::xapi::Version;

pub struct CourseLine {
    id: String,
    link: String,
    title: String,
    format: String,
    version: i64,
    imported: String,
}

#[derive(Template)]
#[template(path = "console/courses.html")]
struct CoursesPage {
    frame: Frame,
    rows: Vec<CourseLine>,
    error: Option<String>,
    notice: Option<String>,
    /// The rows of a refused bulk assignment file, each with why.
    row_errors: Vec<crate::lms::assignments::RowError>,
}

fn course_link(id: &str) -> String {
    format!("/console/course?{}", serde_urlencoded::to_string([("id", id)]).unwrap_or_default())
}

async fn courses_page(
    console: &Console,
    v: &Viewer,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, PageError> {
    courses_page_with(console, v, status, error, None, Vec::new()).await
}

async fn courses_page_with(
    console: &Console,
    v: &Viewer,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
    row_errors: Vec<crate::lms::assignments::RowError>,
) -> Result<Response, PageError> {
    let rows = console
        .lms()
        .courses()
        .await?
        .into_iter()
        .map(|c| CourseLine {
            link: course_link(&c.id),
            imported: minute(Some(&c.imported_at)),
            id: c.id,
            title: c.title,
            format: c.format,
            version: c.version,
        })
        .collect();
    Ok(render_scripted(status, &CoursesPage { frame: Frame::of(v, "courses"), rows, error, notice, row_errors }))
}

#[derive(Deserialize)]
pub struct CoursesQuery {
    #[serde(default)]
    assigned: Option<usize>,
}

/// GET /console/courses: every course's latest version.
pub async fn courses(
    State(console): State<Console>,
    Signed(v): Signed,
    Query(q): Query<CoursesQuery>,
) -> Result<Response, PageError> {
    let notice = q.assigned.map(|n| format!("{n} assignments made from the file."));
    courses_page_with(&console, &v, StatusCode::OK, None, notice, Vec::new()).await
}

/// Largest bulk assignment file the console takes.
const MAX_CSV_BYTES: usize = 1 << 20;

/// An admin's `multipart/form-data` form whose `csrf` field comes before its `file` field: reads up to
/// and including the token, checking it and the role before a byte of the file is read. A form whose
/// file (or end) comes before a valid token is refused (403).
async fn admin_csrf_first(form: &mut Multipart, v: &Viewer) -> Result<(), PageError> {
    let bad = |e: axum::extract::multipart::MultipartError| PageError(LrsError::BadRequest(format!("bad form: {e}")));
    while let Some(field) = form.next_field().await.map_err(bad)? {
        match field.name() {
            Some("csrf") => {
                let text = field.text().await.map_err(bad)?;
                check_csrf(v, &text)?;
                v.require(Role::Admin)?;
                return Ok(());
            }
            Some("file") => break,
            _ => {}
        }
    }
    Err(PageError(LrsError::Forbidden(
        "the form's security token is missing or stale; reload the page and try again".into(),
    )))
}

/// The form's next `file` field, after [`admin_csrf_first`].
async fn file_field(form: &mut Multipart) -> Result<Option<axum::extract::multipart::Field<'_>>, PageError> {
    let field = form.next_field().await.map_err(|e| PageError(LrsError::BadRequest(format!("bad form: {e}"))))?;
    Ok(field.filter(|f| f.name() == Some("file")))
}

/// POST /console/assignments/bulk (admin): a CSV file (`learner,course,due[,grace_days,
/// recurrence_months]`), `csrf` field first. Every row is checked before any is stored; a refused
/// file shows each bad row and assigns nothing.
pub async fn assign_bulk(
    State(console): State<Console>,
    Signed(v): Signed,
    req: Request,
) -> Result<Response, PageError> {
    let bad = |e: String| PageError(LrsError::BadRequest(e));
    let mut form = Multipart::from_request(req, &()).await.map_err(|e| bad(format!("bad form: {e}")))?;
    admin_csrf_first(&mut form, &v).await?;
    let Some(mut field) = file_field(&mut form).await? else {
        return courses_page(&console, &v, StatusCode::BAD_REQUEST, Some("choose a CSV file".into())).await;
    };
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| bad(format!("bad form: {e}")))? {
        if bytes.len() + chunk.len() > MAX_CSV_BYTES {
            return Err(PageError(LrsError::TooLarge(format!(
                "the file is larger than the limit of {MAX_CSV_BYTES} bytes"
            ))));
        }
        bytes.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(bytes).map_err(|_| bad("the file is not UTF-8 text".into()))?;
    match console.lms().assign_csv(&text, Version::V2_0_0).await {
        Ok(Ok(rows)) => {
            console.audit(&v.login, "assignment.bulk", "", json!({"assignments": rows.len()})).await?;
            Ok(Redirect::to(&format!("/console/courses?assigned={}", rows.len())).into_response())
        }
        Ok(Err(row_errors)) => {
            let message = format!("{} rows of the file were refused; nothing was assigned.", row_errors.len());
            courses_page_with(&console, &v, StatusCode::BAD_REQUEST, Some(message), None, row_errors).await
        }
        Err(e @ LrsError::BadRequest(_)) => {
            courses_page(&console, &v, StatusCode::BAD_REQUEST, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /console/courses (admin): a `multipart/form-data` form whose `csrf` field comes before the
/// `file` field, so the token is checked before a byte of the package is stored.
pub async fn upload(State(console): State<Console>, Signed(v): Signed, req: Request) -> Result<Response, PageError> {
    let bad = |e: String| PageError(LrsError::BadRequest(e));
    let mut form = Multipart::from_request(req, &()).await.map_err(|e| bad(format!("bad form: {e}")))?;
    admin_csrf_first(&mut form, &v).await?;
    let Some(field) = file_field(&mut form).await? else {
        return courses_page(&console, &v, StatusCode::BAD_REQUEST, Some("choose a package zip to upload".into()))
            .await;
    };
    let upload = receive_file(console.lms(), field).await.map_err(|e| match e {
        crate::http::error::ApiError::TooLarge(n) => {
            PageError(LrsError::TooLarge(format!("the package is larger than the limit of {n} bytes")))
        }
        other => bad(other.to_string()),
    })?;
    match console.lms().import_package(upload.path(), None, Box::new(|_| {})).await {
        Ok(view) => {
            console
                .audit(&v.login, "course.import", &view.id, json!({"version": view.version, "title": view.title}))
                .await?;
            Ok(Redirect::to(&course_link(&view.id)).into_response())
        }
        Err(e @ LrsError::BadRequest(_)) => {
            courses_page(&console, &v, StatusCode::BAD_REQUEST, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Assignments listed on a course's page (a course assigned to 10,000 learners would otherwise be a
/// page of megabytes).
const ASSIGNMENTS_SHOWN: usize = 500;

pub struct AssignmentLine {
    id: String,
    learner: String,
    due: String,
    status: String,
    compliance: String,
    waived: Option<String>,
}

#[derive(Template)]
#[template(path = "console/course.html")]
struct CoursePage {
    frame: Frame,
    id: String,
    title: String,
    format: String,
    version: i64,
    versions: usize,
    imported: String,
    files: i64,
    warnings: Vec<String>,
    learners: usize,
    statuses: Vec<(&'static str, usize)>,
    scores: BarChart,
    completions: BarChart,
    /// Median and mean time spent by learners with any, e.g. "12 min".
    time_spent: Option<(String, String)>,
    /// The first [`ASSIGNMENTS_SHOWN`] assignments; the reports page pages through all of them.
    assignments: Vec<AssignmentLine>,
    assignment_count: usize,
    reports_link: String,
    tree: String,
    /// `(id, title)` of each module, for the preview buttons.
    modules: Vec<(String, String)>,
    /// Who a preview launches as.
    preview_as: String,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct CourseQuery {
    #[serde(default)]
    id: String,
    #[serde(default)]
    notice: Option<String>,
}

async fn course_page(
    console: &Console,
    v: &Viewer,
    id: &str,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let lms = console.lms();
    let view = lms.course(id, None).await?;
    let rows =
        lms.briefs(&ResultsFilter { course: Some(id.to_string()), ..Default::default() }, crate::now_us()).await?;
    let mut by_status: BTreeMap<&'static str, usize> =
        ["not_started", "in_progress", "completed", "passed", "failed"].into_iter().map(|s| (s, 0)).collect();
    for r in &rows {
        *by_status.entry(r.status.as_str()).or_default() += 1;
    }
    let order = ["not_started", "in_progress", "completed", "passed", "failed"];
    let statuses = order.iter().map(|s| (*s, by_status.get(s).copied().unwrap_or(0))).collect();
    let assigned: Vec<_> = rows.iter().filter(|r| r.assignment.is_some()).collect();
    let assignment_count = assigned.len();
    let assignments = assigned
        .into_iter()
        .take(ASSIGNMENTS_SHOWN)
        .filter_map(|r| {
            let a = r.assignment.as_ref()?;
            let compliance = r.compliance().unwrap_or("");
            Some(AssignmentLine {
                id: a.id.clone(),
                learner: crate::xapi::agent::label(&a.learner_key),
                due: r.standing.map(|s| when(s.due_us)).unwrap_or_default(),
                status: r.status.as_str().to_string(),
                compliance: compliance.to_string(),
                waived: (compliance == "waived").then(|| "waived".to_string()),
            })
        })
        .collect();
    let (scores, completions, time_spent) = course_charts(&rows, crate::now_us());
    let versions = console.course_version_count(id).await?;
    let page = CoursePage {
        frame: Frame::of(v, "courses"),
        id: view.id.clone(),
        title: view.title.clone(),
        format: view.format.clone(),
        version: view.version,
        versions,
        imported: minute(Some(&view.imported_at)),
        files: view.files,
        warnings: view.warnings.clone(),
        learners: rows.len(),
        assignment_count,
        reports_link: format!("/console/reports?{}", serde_urlencoded::to_string([("course", id)]).unwrap_or_default()),
        statuses,
        scores,
        completions,
        time_spent,
        assignments,
        tree: render_tree(&view),
        modules: view.course.modules().iter().map(|m| (m.id.clone(), m.title.clone())).collect(),
        preview_as: preview_learner(console, v).1,
        notice,
        error,
    };
    Ok(render(status, &page))
}

/// Who a preview launches as: the console user as a learner (their email), so an admin can assign the
/// course to themself and watch their own row; an admin credential's session previews as an account
/// of its own. Answers the Agent and how the page names it.
fn preview_learner(console: &Console, v: &Viewer) -> (serde_json::Value, String) {
    if v.login.contains('@') {
        let agent = json!({"objectType": "Agent", "name": v.name, "mbox": format!("mailto:{}", v.login)});
        (agent, v.login.clone())
    } else {
        let name = format!("preview:{}", v.login.trim_start_matches("credential:"));
        let home = format!("{}/console", console.lms().config.public_url);
        let agent = json!({"objectType": "Agent", "name": v.name, "account": {"homePage": home, "name": name}});
        (agent, format!("the test learner {name}"))
    }
}

#[derive(Deserialize)]
pub struct PreviewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    course: String,
    #[serde(default)]
    module: String,
}

#[derive(Template)]
#[template(path = "console/preview.html")]
struct PreviewPage {
    frame: Frame,
    title: String,
    module: String,
    url: String,
    course_link: String,
    learner: String,
}

/// POST /console/course/preview (admin): launches one module of a course as a test learner (the
/// admin), like a learner's launch: its statements are recorded and derived as that learner's. The
/// answer is a page that opens the launch on the content origin (a redirect after a form post would
/// leave the pages' `form-action 'self'`).
pub async fn preview(
    State(console): State<Console>,
    Signed(v): Signed,
    Form(f): Form<PreviewForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    v.require(Role::Admin)?;
    let (learner, named) = preview_learner(&console, &v);
    let public = console.lms().config.public_url.clone();
    let back = format!("{public}{}", course_link(&f.course));
    let req = crate::lms::launch::LaunchRequest {
        course: f.course.clone(),
        module: f.module.clone(),
        learner,
        registration: None,
        mode: None,
        version: None,
        return_url: Some(back),
    };
    let launch = match console.lms().create_launch(req).await {
        Ok(l) => l,
        Err(e @ (LrsError::BadRequest(_) | LrsError::NotFound(_))) => {
            let status =
                if matches!(e, LrsError::NotFound(_)) { StatusCode::NOT_FOUND } else { StatusCode::BAD_REQUEST };
            return course_page(&console, &v, &f.course, status, None, Some(e.to_string())).await;
        }
        Err(e) => return Err(e.into()),
    };
    console.audit(&v.login, "course.preview", &f.course, json!({"module": f.module, "launch": launch.id})).await?;
    let view = console.lms().course(&f.course, None).await?;
    let module = view.course.modules().iter().find(|m| m.id == f.module).map(|m| m.title.clone()).unwrap_or_default();
    let page = PreviewPage {
        frame: Frame::of(&v, "courses"),
        title: view.title.clone(),
        module,
        url: launch.url.clone(),
        course_link: course_link(&f.course),
        learner: named,
    };
    Ok(render(StatusCode::OK, &page))
}

/// Weeks the completions chart covers.
const WEEKS: i64 = 12;

/// The course summary's charts: learners per score band (scaled score, tenths), completions per week
/// over the last [`WEEKS`] weeks, and the median and mean time spent.
fn course_charts(rows: &[Brief], now_us: i64) -> (BarChart, BarChart, Option<(String, String)>) {
    let mut bands = [0i64; 10];
    for score in rows.iter().filter_map(|r| r.score) {
        bands[((score.clamp(0.0, 1.0) * 10.0) as usize).min(9)] += 1;
    }
    let scored: i64 = bands.iter().sum();
    let points = bands
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let label = if i == 9 { "90–100 %".to_string() } else { format!("{}–{} %", i * 10, i * 10 + 9) };
            (label, format!("{}", i * 10), *n)
        })
        .collect();
    let scores = bar_chart(points, 1, format!("{scored} learners with a score, by score band of ten points"));

    let week_us = 7 * 86_400_000_000i64;
    let first = now_us - (WEEKS - 1) * week_us - now_us.rem_euclid(86_400_000_000);
    let mut weeks = vec![0i64; WEEKS as usize];
    for us in rows.iter().filter_map(|r| r.completed_us) {
        if us >= first {
            if let Some(slot) = weeks.get_mut(((us - first) / week_us) as usize) {
                *slot += 1;
            }
        }
    }
    let done: i64 = weeks.iter().sum();
    let points = weeks
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let label = when(first + i as i64 * week_us);
            (format!("week of {}", label.get(..10).unwrap_or("")), label.get(5..10).unwrap_or("").to_string(), *n)
        })
        .collect();
    let completions = bar_chart(points, 2, format!("{done} completions in the last {WEEKS} weeks, per week"));

    let mut spent: Vec<f64> = rows.iter().map(|r| r.time_spent_s).filter(|t| *t > 0.0).collect();
    spent.sort_by(f64::total_cmp);
    let time_spent = (!spent.is_empty()).then(|| {
        let n = spent.len();
        let median = if n % 2 == 1 { spent[n / 2] } else { (spent[n / 2 - 1] + spent[n / 2]) / 2.0 };
        let mean = spent.iter().sum::<f64>() / n as f64;
        (duration(median), duration(mean))
    });
    (scores, completions, time_spent)
}

/// A time spent as people read it: seconds, minutes or hours.
fn duration(seconds: f64) -> String {
    match seconds {
        s if s < 90.0 => format!("{s:.0} s"),
        s if s < 5400.0 => format!("{:.0} min", s / 60.0),
        s => format!("{:.1} h", s / 3600.0),
    }
}

/// GET /console/course?id=IRI: a course's facts, results by status, assignments and structure.
pub async fn course(
    State(console): State<Console>,
    Signed(v): Signed,
    Query(q): Query<CourseQuery>,
) -> Result<Response, PageError> {
    let notice = q.notice.filter(|n| n == "assigned" || n == "waived").map(|n| format!("The course was {n}."));
    course_page(&console, &v, &q.id, StatusCode::OK, notice, None).await
}

#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    course: String,
    #[serde(default)]
    learner: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    grace_days: String,
    #[serde(default)]
    recurrence_months: String,
}

/// An optional whole number from a form field; 400 naming the field otherwise.
fn number(field: &str, text: &str) -> Result<Option<i64>, LrsError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse().map(Some).map_err(|_| LrsError::BadRequest(format!("{field} must be a whole number, got {t:?}")))
}

/// POST /console/assignments (admin): assigns a course to a learner by email, due at the end of a day (UTC).
pub async fn assign(
    State(console): State<Console>,
    Signed(v): Signed,
    Form(f): Form<AssignForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    v.require(Role::Admin)?;
    let attempt = async {
        let email = f.learner.trim();
        if !email.contains('@') || email.contains(char::is_whitespace) {
            return Err(LrsError::BadRequest(format!("{email:?} is not an email address")));
        }
        let day = f.due.trim();
        let valid_day = day.len() == 10
            && time::Date::parse(day, &time::macros::format_description!("[year]-[month]-[day]")).is_ok();
        if !valid_day {
            return Err(LrsError::BadRequest(format!("the due date must be a date (YYYY-MM-DD), got {day:?}")));
        }
        let req = AssignRequest {
            course: f.course.clone(),
            learner: Some(json!({"objectType": "Agent", "mbox": format!("mailto:{email}")})),
            group: None,
            due: Some(format!("{day}T23:59:59Z")),
            due_in_days: None,
            grace_days: number("grace days", &f.grace_days)?,
            recurrence_months: number("recurrence", &f.recurrence_months)?,
        };
        console.lms().assign(req, Version::V2_0_0).await?;
        console.audit(&v.login, "assignment.add", &f.course, json!({"learner": email, "due": day})).await
    };
    match attempt.await {
        Ok(()) => Ok(Redirect::to(&format!("{}&notice=assigned", course_link(&f.course))).into_response()),
        Err(e @ LrsError::BadRequest(_)) => {
            course_page(&console, &v, &f.course, StatusCode::BAD_REQUEST, None, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct WaiveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// POST /console/assignments/{id}/waive (admin), with an optional reason.
pub async fn waive(
    State(console): State<Console>,
    Signed(v): Signed,
    Path(id): Path<String>,
    Form(f): Form<WaiveForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    v.require(Role::Admin)?;
    let reason = Some(f.reason.trim()).filter(|r| !r.is_empty());
    let a = console.lms().waive(&id, reason).await?;
    console.audit(&v.login, "assignment.waive", &id, json!({"course": a.course_id, "reason": reason})).await?;
    Ok(Redirect::to(&format!("{}&notice=waived", course_link(&a.course_id))).into_response())
}

//! The learner's pages (`/learn`, API origin): sign-in, "my training", bookings, calendar files and
//! certificates. Server-rendered (askama), working without script; one small static script only
//! offers the browser's time zone once. Every form carries the learner session's CSRF token, and a
//! cross-site POST is refused before any handler runs (as on the console).
//!
//! The learner session lives in its own cookie, `cairn_learn`, and table: the console's cookie is
//! never read here and this one is never read anywhere else, so neither reaches the other's pages,
//! and neither is a credential for `/api` or `/xapi`.

use askama::Template;
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::http::console::sso::{binding_cookie, binding_cookie_name, sso_failure};
use crate::learn::training::AssignedCourse;
use crate::learn::{Learn, Learner};
use crate::lrs::LrsError;
use crate::sso::{Callback, Purpose, SsoError};
use crate::store::BookOutcome;

/// No inline anything: our stylesheet, our one script, form posts to this origin, and the content
/// origin as the one place a form's answer may redirect to (Start sends the browser to the course
/// there, and browsers hold redirects after a form post to `form-action`).
fn page_csp(content_url: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; \
         form-action 'self' {}; frame-ancestors 'none'; base-uri 'none'",
        super::origin_of(content_url)
    )
}
const STYLESHEET: &str = include_str!("../../../static/learn/learn.css");
const ZONE_SCRIPT: &str = include_str!("../../../static/learn/zone.js");

pub fn router(learn: Learn) -> Router {
    let csp = HeaderValue::from_str(&page_csp(&learn.lms().settings.content_url))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'; style-src 'self'; form-action 'self'"));
    Router::new()
        .route("/", get(training))
        .route("/sign-in", get(sign_in_page))
        .route("/link", get(link_page).post(use_link))
        .route("/sign-out", post(sign_out))
        .route("/sso", get(sso_begin))
        .route("/sso/callback", get(sso_callback))
        .route("/timezone", post(set_timezone))
        .route("/start", post(start))
        .route("/book", post(book))
        .route("/cancel", post(cancel))
        .route("/calendar", get(calendar))
        .route("/certificate", get(certificate))
        .route("/assets/learn.css", get(|| asset(STYLESHEET, "text/css; charset=utf-8")))
        .route("/assets/zone.js", get(|| asset(ZONE_SCRIPT, "text/javascript; charset=utf-8")))
        .fallback(|| async { error_page(StatusCode::NOT_FOUND, "There is no such page.") })
        .with_state(learn)
        .layer(middleware::from_fn(same_origin_posts))
        .layer(middleware::from_fn_with_state(csp, pages_policy))
}

/// Every page of `/learn` carries the pages' policy (other answers keep the API origin's).
async fn pages_policy(State(csp): State<HeaderValue>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let is_page = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("text/html"));
    if is_page {
        resp.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    resp
}

async fn same_origin_posts(req: Request, next: Next) -> Response {
    if super::console::cross_site_post(&req) {
        return error_page(StatusCode::FORBIDDEN, "Cross-site form posts are refused.");
    }
    next.run(req).await
}

/// The cookie's name and path. With secure cookies the `__Host-` prefix pins it to this host, which
/// browsers allow only with `Path=/` (other paths of the API origin never read it); else `/learn`.
fn cookie(learn: &Learn) -> (&'static str, &'static str) {
    if learn.config.secure_cookies {
        ("__Host-cairn_learn", "/")
    } else {
        ("cairn_learn", "/learn")
    }
}

fn session_token(learn: &Learn, headers: &HeaderMap) -> Option<String> {
    let (name, _) = cookie(learn);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn to_sign_in() -> Response {
    Redirect::to("/learn/sign-in").into_response()
}

/// The signed-in learner; without a valid learner session, a redirect to the sign-in page.
pub struct Signed(pub Learner);

impl FromRequestParts<Learn> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, learn: &Learn) -> Result<Self, Self::Rejection> {
        let Some(token) = session_token(learn, &parts.headers) else { return Err(to_sign_in()) };
        match learn.learner(&token).await {
            Ok(Some(l)) => Ok(Signed(l)),
            Ok(None) => Err(to_sign_in()),
            Err(e) => Err(PageError(e).into_response()),
        }
    }
}

fn check_csrf(l: &Learner, given: &str) -> Result<(), PageError> {
    if l.csrf_matches(given) {
        Ok(())
    } else {
        Err(PageError(LrsError::Forbidden(
            "the form's security token is missing or stale; reload the page and try again".into(),
        )))
    }
}

fn html(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => html(status, body),
        Err(e) => {
            tracing::error!(error = %e, "rendering a learner page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response()
        }
    }
}

async fn asset(body: &'static str, kind: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    resp
}

#[derive(Template)]
#[template(path = "learn/message.html")]
struct MessagePage {
    title: String,
    message: String,
    signed_in: bool,
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let title = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
    render(status, &MessagePage { title, message: message.to_string(), signed_in: false })
}

/// A use-case error shown as a page, with the status `http::error` gives it.
pub struct PageError(pub LrsError);

impl From<LrsError> for PageError {
    fn from(e: LrsError) -> Self {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, message) = super::error::for_people(self.0);
        error_page(status, &message)
    }
}

#[derive(Template)]
#[template(path = "learn/sign_in.html")]
struct SignInPage {
    /// The provider's name for the single sign-on link, when one is configured.
    sso_label: Option<String>,
}

/// GET /learn/sign-in: how to get in. Single sign-on, when configured, adds its button here. A
/// learner already signed in goes to their training.
async fn sign_in_page(State(learn): State<Learn>, headers: HeaderMap) -> Result<Response, PageError> {
    if let Some(token) = session_token(&learn, &headers) {
        if learn.learner(&token).await?.is_some() {
            return Ok(Redirect::to("/learn").into_response());
        }
    }
    let sso_label = learn.sso.as_ref().map(|s| s.config().label.clone());
    Ok(render(StatusCode::OK, &SignInPage { sso_label }))
}

#[derive(Deserialize)]
struct LinkQuery {
    #[serde(default)]
    t: String,
}

#[derive(Template)]
#[template(path = "learn/link.html")]
struct LinkPage {
    token: String,
    usable: bool,
}

/// GET /learn/link?t=: the page of a sign-in link. It does not use the link: mail scanners fetch
/// links, and a single-use link they opened would be spent; the learner's button does.
async fn link_page(State(learn): State<Learn>, Query(q): Query<LinkQuery>) -> Result<Response, PageError> {
    let token: String = q.t.chars().take(200).collect();
    let usable = !token.is_empty() && learn.link_usable(&token).await?;
    let status = if usable { StatusCode::OK } else { StatusCode::GONE };
    Ok(render(status, &LinkPage { token, usable }))
}

#[derive(Deserialize)]
struct LinkForm {
    #[serde(default)]
    t: String,
}

/// POST /learn/link: uses the link, sets the learner cookie and opens "my training".
async fn use_link(State(learn): State<Learn>, Form(f): Form<LinkForm>) -> Result<Response, PageError> {
    let Some(token) = learn.use_sign_in_link(&f.t).await? else {
        return Ok(render(StatusCode::GONE, &LinkPage { token: String::new(), usable: false }));
    };
    Ok(signed_in(&learn, &token))
}

/// The answer that signs a browser in with a learner session token: the cookie, and "my training".
/// Single sign-on's callback answers the same after [`Learn::start_session`].
pub fn signed_in(learn: &Learn, token: &str) -> Response {
    let mut resp = Redirect::to("/learn").into_response();
    if let Some(v) = session_cookie(learn, token) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// `Set-Cookie` for a new learner session.
fn session_cookie(learn: &Learn, token: &str) -> Option<HeaderValue> {
    let (name, path) = cookie(learn);
    let secure = if learn.config.secure_cookies { "; Secure" } else { "" };
    let value = format!(
        "{name}={token}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        learn.config.absolute.as_secs()
    );
    HeaderValue::from_str(&value).ok()
}

/// GET /learn/sso (anyone): begins a single sign-on at the provider (a link, not a form: a form's
/// redirect to the provider would leave the pages' `form-action`).
async fn sso_begin(State(learn): State<Learn>) -> Response {
    let Some(sso) = &learn.sso else {
        return error_page(StatusCode::NOT_FOUND, "Single sign-on is not configured on this server.");
    };
    match sso.begin(Purpose::Learn).await {
        Ok(b) => {
            let mut resp = Redirect::to(&b.authorize_url).into_response();
            if let Some(c) = binding_cookie(Purpose::Learn, learn.config.secure_cookies, Some(&b.browser_token)) {
                resp.headers_mut().append(header::SET_COOKIE, c);
            }
            resp
        }
        Err(e) => sso_failed(e),
    }
}

#[derive(Template)]
#[template(path = "learn/sso_done.html")]
struct SsoDone {
    who: String,
}

fn sso_failed(e: SsoError) -> Response {
    let (status, message) = sso_failure(e);
    error_page(status, &message)
}

/// GET /learn/sso/callback (the provider's redirect): signs the learner in as the person owning
/// their verified email, and answers a same-site page that moves on to `/learn` (the Strict session
/// cookie would not travel on a redirect that began at the provider).
async fn sso_callback(State(learn): State<Learn>, headers: HeaderMap, Query(cb): Query<Callback>) -> Response {
    let Some(sso) = &learn.sso else {
        return error_page(StatusCode::NOT_FOUND, "Single sign-on is not configured on this server.");
    };
    let secure = learn.config.secure_cookies;
    let binding = crate::http::console::cookie_value(&headers, binding_cookie_name(Purpose::Learn, secure));
    let mut resp = match sso.finish(Purpose::Learn, binding.as_deref(), &cb).await {
        Err(e) => sso_failed(e),
        Ok(identity) => match learn.sign_in_sso(&identity).await {
            Ok(token) => {
                let who = identity.email.clone().unwrap_or_default();
                let mut resp = render(StatusCode::OK, &SsoDone { who });
                if let Some(c) = session_cookie(&learn, &token) {
                    resp.headers_mut().append(header::SET_COOKIE, c);
                }
                resp
            }
            Err(e) => PageError(e).into_response(),
        },
    };
    if let Some(c) = binding_cookie(Purpose::Learn, secure, None) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn sign_out(
    State(learn): State<Learn>,
    Signed(l): Signed,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    check_csrf(&l, &f.csrf)?;
    learn.sign_out(&l).await?;
    let (name, path) = cookie(&learn);
    let mut resp = Redirect::to("/learn/sign-in").into_response();
    let clear = format!("{name}=; Path={path}; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&clear) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[derive(Template)]
#[template(path = "learn/training.html")]
struct TrainingPage {
    name: String,
    csrf: String,
    timezone: String,
    timezone_chosen: bool,
    notice: Option<String>,
    error: Option<String>,
    open: Vec<AssignedCourse>,
    done: Vec<AssignedCourse>,
}

#[derive(Deserialize)]
struct TrainingQuery {
    #[serde(default)]
    done: String,
}

/// What a finished action says on the page it returns to (`?done=`).
fn notice(done: &str) -> Option<String> {
    Some(
        match done {
            "booked" => "Your seat is booked.",
            "waitlisted" => "The session is full: you are on its waitlist, and get the next free seat.",
            "cancelled" => "Your booking is cancelled.",
            "timezone" => "Your time zone is saved.",
            _ => return None,
        }
        .to_string(),
    )
}

async fn training_page(
    learn: &Learn,
    l: &Learner,
    status: StatusCode,
    done: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    let t = learn.my_training(l).await?;
    // Cards: what is still to do, and done courses that still have live sessions to show (a seat
    // booked, one attended, or slots open); the table: what is done, with certificates.
    let open = t.courses.iter().filter(|c| !c.done || !c.sessions.is_empty()).cloned().collect();
    let done_courses = t.courses.into_iter().filter(|c| c.done).collect();
    let page = TrainingPage {
        name: l.name.clone(),
        csrf: l.csrf.clone(),
        timezone: t.timezone,
        timezone_chosen: t.timezone_chosen,
        notice: notice(done),
        error,
        open,
        done: done_courses,
    };
    Ok(render(status, &page))
}

/// GET /learn: "my training".
async fn training(
    State(learn): State<Learn>,
    Signed(l): Signed,
    Query(q): Query<TrainingQuery>,
) -> Result<Response, PageError> {
    training_page(&learn, &l, StatusCode::OK, &q.done, None).await
}

#[derive(Deserialize)]
struct ZoneForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    timezone: String,
    /// Sent by zone.js: the browser's zone, kept only while the learner has chosen none.
    #[serde(default)]
    auto: String,
}

/// POST /learn/timezone: the zone dates are shown in (the form's, or the browser's through zone.js).
async fn set_timezone(
    State(learn): State<Learn>,
    Signed(l): Signed,
    Form(f): Form<ZoneForm>,
) -> Result<Response, PageError> {
    check_csrf(&l, &f.csrf)?;
    if !f.auto.is_empty() {
        learn.offer_timezone(&l, &f.timezone).await?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    match learn.set_timezone(&l, &f.timezone).await {
        Ok(_) => Ok(Redirect::to("/learn?done=timezone").into_response()),
        Err(e) => refused(&learn, &l, e).await,
    }
}

/// Shows a refusal the learner can act on (bad input, a full or started session) on their page,
/// with its 4xx status and message; any other as an error page.
async fn refused(learn: &Learn, l: &Learner, e: LrsError) -> Result<Response, PageError> {
    match e {
        LrsError::BadRequest(m) => training_page(learn, l, StatusCode::BAD_REQUEST, "", Some(m)).await,
        LrsError::Conflict(m) => training_page(learn, l, StatusCode::CONFLICT, "", Some(m)).await,
        e => Err(PageError(e)),
    }
}

#[derive(Deserialize)]
struct CourseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    course: String,
}

/// POST /learn/start: opens an assigned course (the player or a launch) in this tab.
async fn start(
    State(learn): State<Learn>,
    Signed(l): Signed,
    Form(f): Form<CourseForm>,
) -> Result<Response, PageError> {
    check_csrf(&l, &f.csrf)?;
    match learn.start_course(&l, &f.course).await {
        Ok(url) => Ok(Redirect::to(&url).into_response()),
        Err(e) => refused(&learn, &l, e).await,
    }
}

#[derive(Deserialize)]
struct SessionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    session: String,
    #[serde(default)]
    waitlist: String,
}

/// POST /learn/book: a seat, or a waitlist place when asked for and the session is full.
async fn book(
    State(learn): State<Learn>,
    Signed(l): Signed,
    Form(f): Form<SessionForm>,
) -> Result<Response, PageError> {
    check_csrf(&l, &f.csrf)?;
    match learn.book(&l, &f.session, !f.waitlist.is_empty()).await {
        Ok(BookOutcome::Waitlisted(_)) => Ok(Redirect::to("/learn?done=waitlisted").into_response()),
        Ok(_) => Ok(Redirect::to("/learn?done=booked").into_response()),
        Err(e) => refused(&learn, &l, e).await,
    }
}

/// POST /learn/cancel: gives up a seat or a waitlist place, until the session starts.
async fn cancel(
    State(learn): State<Learn>,
    Signed(l): Signed,
    Form(f): Form<SessionForm>,
) -> Result<Response, PageError> {
    check_csrf(&l, &f.csrf)?;
    match learn.cancel(&l, &f.session).await {
        Ok(()) => Ok(Redirect::to("/learn?done=cancelled").into_response()),
        Err(e) => refused(&learn, &l, e).await,
    }
}

#[derive(Deserialize)]
struct SessionQuery {
    #[serde(default)]
    session: String,
}

/// GET /learn/calendar?session=: the session as an `.ics` file.
async fn calendar(
    State(learn): State<Learn>,
    Signed(l): Signed,
    Query(q): Query<SessionQuery>,
) -> Result<Response, PageError> {
    let (file, text) = learn.calendar(&l, &q.session).await?;
    Ok(download(text.into_bytes(), "text/calendar; charset=utf-8", &file))
}

#[derive(Deserialize)]
struct CourseQuery {
    #[serde(default)]
    course: String,
}

/// GET /learn/certificate?course=: the learner's certificate of a completed course (PDF).
async fn certificate(
    State(learn): State<Learn>,
    Signed(l): Signed,
    Query(q): Query<CourseQuery>,
) -> Result<Response, PageError> {
    let (file, pdf) = learn.certificate(&l, &q.course).await?;
    Ok(download(pdf, "application/pdf", &file))
}

fn download(body: Vec<u8>, kind: &'static str, file: &str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let safe: String = file.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

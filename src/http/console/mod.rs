//! The console: server-rendered pages for the people who run training and analyse it, on the API
//! origin under `/console` (never on the content origin, where package code runs).
//!
//! Each page is an askama template (compiled into the binary) filled by a handler that calls the
//! use cases. Pages carry a strict Content-Security-Policy (no script at all, styles from our own
//! stylesheet only); every form posts back the session's CSRF token, and a cross-site POST is refused
//! before any handler runs. Roles are checked on the server for every page and action
//! ([`crate::console::Viewer::require`]), not by hiding buttons.

mod admin;
mod charts;
mod courses;
mod learners;
mod pages;
mod reports;
mod sessions;
pub mod sso;

use askama::Template;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use crate::console::{Console, SignInError, Viewer};
use crate::lrs::LrsError;

/// The pages' policy: nothing but our stylesheet and same-origin form posts.
const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                        frame-ancestors 'none'; base-uri 'none'";
/// The policy of the one page with a script (the courses page's upload progress): scripts and requests
/// from this origin only, and still nothing inline.
const SCRIPTED_PAGE_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; \
                                 img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const STYLESHEET: &str = include_str!("../../../static/console/console.css");
const UPLOAD_SCRIPT: &str = include_str!("../../../static/console/upload.js");

pub fn router(console: Console) -> Router {
    Router::new()
        .route("/", get(pages::overview))
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/sso", get(sso::begin))
        .route("/sso/callback", get(sso::callback))
        .route("/statements", get(pages::statements))
        .route("/statements.jsonl", get(reports::statements_jsonl))
        .route("/statements.csv", get(reports::statements_csv))
        .route("/statements/{id}", get(pages::statement))
        .route("/statements/{id}/void", post(pages::void))
        .route(
            "/courses",
            get(courses::courses).post(courses::upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/course", get(courses::course))
        .route("/course/preview", post(courses::preview))
        .route("/learners", get(learners::learners))
        .route("/learner", get(learners::learner))
        .route("/assignments", post(courses::assign))
        .route("/assignments/bulk", post(courses::assign_bulk))
        .route("/assignments/{id}/waive", post(courses::waive))
        .route("/sessions", get(sessions::sessions).post(sessions::schedule))
        .route("/session", get(sessions::session))
        .route("/session/book", post(sessions::book))
        .route("/session/attendance", post(sessions::attendance))
        .route("/session/cancel", post(sessions::cancel))
        .route("/reports", get(reports::reports))
        .route("/reports.csv", get(reports::reports_csv))
        .route("/credentials", get(admin::credentials).post(admin::create_credential))
        .route("/credentials/{key}/revoke", post(admin::revoke_credential))
        .route("/users", get(admin::users).post(admin::add_user))
        .route("/users/{id}/disable", post(admin::disable_user))
        .route("/audit", get(admin::audit))
        .route("/assets/console.css", get(stylesheet))
        .route("/assets/upload.js", get(upload_script))
        .fallback(|| async { error_page(StatusCode::NOT_FOUND, "There is no such page.") })
        .with_state(console)
        .layer(middleware::from_fn(same_origin_posts))
}

/// Name of the session cookie: with `Secure`, the `__Host-` prefix also pins it to this host and path `/`.
fn cookie_name(console: &Console) -> &'static str {
    if console.config.secure_cookies {
        "__Host-cairn_console"
    } else {
        "cairn_console"
    }
}

fn session_token(console: &Console, headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, cookie_name(console))
}

/// The value of the cookie `name`, if the request carries it.
pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The signed-in viewer of a page; without a valid session, a redirect to the sign-in page.
pub struct Signed(pub Viewer);

impl FromRequestParts<Console> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Self::Rejection> {
        let Some(token) = session_token(console, &parts.headers) else {
            return Err(Redirect::to("/console/sign-in").into_response());
        };
        match console.viewer(&token).await {
            Ok(Some(v)) => Ok(Signed(v)),
            Ok(None) => Err(Redirect::to("/console/sign-in").into_response()),
            Err(e) => Err(PageError(e).into_response()),
        }
    }
}

/// The client's address, when the server knows it (for the sign-in failure limits).
pub struct ClientAddr(Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let addr = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        Ok(ClientAddr(addr))
    }
}

/// A form's CSRF token, checked against the viewer's session.
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

fn check_csrf(v: &Viewer, given: &str) -> Result<(), PageError> {
    if v.csrf_matches(given) {
        Ok(())
    } else {
        Err(PageError(LrsError::Forbidden(
            "the form's security token is missing or stale; reload the page and try again".into(),
        )))
    }
}

/// Refuses POSTs that a browser marks as cross-site or whose Origin is another host, before any
/// handler runs (the `SameSite=Strict` cookie already keeps the session out of them; this is the second lock).
async fn same_origin_posts(req: Request, next: Next) -> Response {
    if cross_site_post(&req) {
        return error_page(StatusCode::FORBIDDEN, "Cross-site form posts to the console are refused.");
    }
    next.run(req).await
}

/// Whether a request is a POST (any method but GET and HEAD) that the browser marks as cross-site
/// or same-site, or whose `Origin` is another host: the pages of `/console` and `/learn` refuse them.
pub(super) fn cross_site_post(req: &Request) -> bool {
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return false;
    }
    let h = req.headers();
    let cross_site = h
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|s| s.eq_ignore_ascii_case("cross-site") || s.eq_ignore_ascii_case("same-site"));
    let other_origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok()).is_some_and(|origin| {
        let host = h.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        let authority = origin.split_once("://").map(|(_, a)| a).unwrap_or(origin);
        origin != "null" && !authority.eq_ignore_ascii_case(host)
    });
    cross_site || other_origin
}

/// A rendered page with the console's headers.
fn html(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => html(status, body),
        Err(e) => {
            tracing::error!(error = %e, "rendering a console page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response()
        }
    }
}

/// [`render`] for a page that loads our own script.
fn render_scripted(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => {
            let mut resp = html(status, body);
            resp.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(SCRIPTED_PAGE_CSP));
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering a console page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response()
        }
    }
}

/// What every page's layout needs.
pub struct Frame {
    pub section: &'static str,
    pub viewer_name: String,
    pub viewer_role: &'static str,
    pub is_admin: bool,
    pub csrf: String,
}

impl Frame {
    fn of(v: &Viewer, section: &'static str) -> Frame {
        Frame {
            section,
            viewer_name: v.name.clone(),
            viewer_role: v.role.as_str(),
            is_admin: v.role == crate::console::Role::Admin,
            csrf: v.csrf.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    frame: Frame,
    status: String,
    message: String,
}

/// An error as a page (without a viewer: the navigation links still work, they lead to sign-in).
fn error_page(status: StatusCode, message: &str) -> Response {
    let frame =
        Frame { section: "", viewer_name: String::new(), viewer_role: "", is_admin: false, csrf: String::new() };
    let page = ErrorPage {
        frame,
        status: format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("")),
        message: message.to_string(),
    };
    render(status, &page)
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

async fn upload_script() -> Response {
    let mut resp = UPLOAD_SCRIPT.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    resp
}

async fn stylesheet() -> Response {
    let mut resp = STYLESHEET.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    resp
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    error: Option<String>,
    login: String,
    /// The provider's name for the single sign-on link, when one is configured.
    sso_label: Option<String>,
}

fn sso_label(console: &Console) -> Option<String> {
    console.sso.as_ref().map(|s| s.config().label.clone())
}

async fn sign_in_page(State(console): State<Console>) -> Response {
    render(StatusCode::OK, &SignInPage { error: None, login: String::new(), sso_label: sso_label(&console) })
}

/// `Set-Cookie` for a new console session.
fn session_cookie(console: &Console, token: &str) -> Option<HeaderValue> {
    let secure = if console.config.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        cookie_name(console),
        console.config.absolute.as_secs()
    );
    HeaderValue::from_str(&cookie).ok()
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

async fn sign_in(State(console): State<Console>, ClientAddr(ip): ClientAddr, Form(f): Form<SignInForm>) -> Response {
    match console.sign_in(ip, &f.login, &f.password).await {
        Ok(token) => {
            let mut resp = Redirect::to("/console").into_response();
            if let Some(v) = session_cookie(&console, &token) {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
            resp
        }
        Err(e) => {
            let status = match e {
                SignInError::Wrong => StatusCode::UNAUTHORIZED,
                SignInError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
                SignInError::NoAccount(_) => StatusCode::FORBIDDEN,
                SignInError::Other(e) => return PageError(e).into_response(),
            };
            let login = f.login.chars().take(254).collect();
            render(status, &SignInPage { error: Some(e.to_string()), login, sso_label: sso_label(&console) })
        }
    }
}

async fn sign_out(State(console): State<Console>, Signed(v): Signed, Form(f): Form<CsrfOnly>) -> Response {
    if let Err(e) = check_csrf(&v, &f.csrf) {
        return e.into_response();
    }
    if let Err(e) = console.sign_out(&v).await {
        return PageError(e).into_response();
    }
    let mut resp = Redirect::to("/console/sign-in").into_response();
    let clear = format!("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0", cookie_name(&console));
    if let Ok(v) = HeaderValue::from_str(&clear) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// An RFC 3339 timestamp to the minute, as the pages show times: `YYYY-MM-DD HH:MM`.
fn minute(ts: Option<&str>) -> String {
    ts.and_then(|t| t.get(..16)).unwrap_or("").replace('T', " ")
}

/// A form with repeated fields (checkbox lists), as `(name, value)` pairs, and a lookup of single ones.
struct Pairs(Vec<(String, String)>);

impl Pairs {
    fn parse(body: &[u8]) -> Result<Pairs, PageError> {
        serde_urlencoded::from_bytes(body)
            .map(Pairs)
            .map_err(|e| PageError(LrsError::BadRequest(format!("the form could not be read: {e}"))))
    }

    /// The first value of a field ("" when absent).
    fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// Every value of a repeated field.
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Microseconds since the epoch as `YYYY-MM-DD HH:MM` (UTC).
fn when(us: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(us as i128 * 1000)
        .map(|t| format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute()))
        .unwrap_or_default()
}

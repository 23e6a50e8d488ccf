//! The HTTP edge: the axum router, cross-cutting layers (body limit, xAPI version header, the 1.0.3
//! alternate request syntax; trust boundaries in [`guard`], connection handling in [`server`]) and
//! one module per resource. Handlers stay thin: parse, call a use case in [`crate::lrs`], shape the
//! response.

pub mod about;
pub mod alternate;
pub mod console;
pub mod content;
pub mod courses;
pub mod documents;
pub mod error;
pub mod extract;
pub mod guard;
pub mod health;
pub mod identity;
pub mod launch;
pub mod learn;
pub mod persons;
pub mod player;
pub mod results;
pub mod server;
pub mod statements;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use self::error::ApiError;
use crate::lms::Lms;
use crate::lrs::Lrs;
use crate::xapi::Version;

pub const VERSION_HEADER: &str = "x-experience-api-version";
pub const CONSISTENT_THROUGH: &str = "x-experience-api-consistent-through";

/// Options of the HTTP layer.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub max_body_bytes: usize,
    /// Version named in answers to requests without a usable version header.
    pub default_version: Version,
    /// Single sign-on for the console and the learner pages, when an OpenID provider is configured.
    pub sso: Option<crate::sso::Sso>,
}

/// The origin (`scheme://host[:port]`) of a URL, as browsers compare origins in CSP and CORS.
pub fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    format!("{scheme}://{host}")
}

/// The API origin: xAPI under `/xapi`, the admin API under `/api`. Launch pages and package files
/// are the content origin's ([`content::router`]) and never answer here.
/// What handlers reach: the xAPI core for `/xapi`, the learning-management side for the rest. Both are
/// the same core (the LMS's hooks plugged in), so a launch credential works on every path.
#[derive(Clone)]
pub struct App {
    pub lrs: Lrs,
    pub lms: Lms,
}

impl App {
    pub fn of(lms: &Lms) -> App {
        App { lrs: lms.core().clone(), lms: lms.clone() }
    }
}

impl axum::extract::FromRef<App> for Lrs {
    fn from_ref(app: &App) -> Lrs {
        app.lrs.clone()
    }
}

impl axum::extract::FromRef<App> for Lms {
    fn from_ref(app: &App) -> Lms {
        app.lms.clone()
    }
}

pub fn router(lms: &Lms, cfg: &HttpConfig) -> Router {
    let lrs = lms.core().clone();
    let xapi = Router::new()
        .route("/statements", get(statements::get).put(statements::put).post(statements::post))
        .route(
            "/activities/state",
            get(documents::state::get)
                .put(documents::state::put)
                .post(documents::state::post)
                .delete(documents::state::delete),
        )
        .route(
            "/activities/profile",
            get(documents::activity_profile::get)
                .put(documents::activity_profile::put)
                .post(documents::activity_profile::post)
                .delete(documents::activity_profile::delete),
        )
        .route(
            "/agents/profile",
            get(documents::agent_profile::get)
                .put(documents::agent_profile::put)
                .post(documents::agent_profile::post)
                .delete(documents::agent_profile::delete),
        )
        .route("/activities", get(identity::activity))
        .route("/agents", get(identity::person))
        .route_layer(middleware::from_fn(require_version))
        .route("/about", get(about::about));
    let api = Router::new()
        .route("/courses", get(courses::list).post(courses::import).layer(DefaultBodyLimit::disable()))
        .route("/courses/{*id}", get(courses::show).put(results::define))
        .route("/assignments", get(results::assignments).post(results::assign))
        .route("/assignments/bulk", axum::routing::post(results::assign_bulk))
        .route("/assignments/{id}/waive", axum::routing::post(results::waive))
        .route("/results", get(results::results))
        .route("/results/rebuild", axum::routing::post(results::rebuild))
        .route("/summary", get(results::summary))
        .route("/sessions", get(results::sessions).post(results::create_session))
        .route("/sessions/{id}", get(results::session))
        .route("/sessions/{id}/cancel", axum::routing::post(results::cancel_session))
        .route("/sessions/{id}/bookings", axum::routing::post(results::book))
        .route("/sessions/{id}/bookings/cancel", axum::routing::post(results::cancel_booking))
        .route("/sessions/{id}/attendance", axum::routing::post(results::attendance))
        .route("/persons", get(persons::list).post(persons::create))
        .route("/persons/{id}", get(persons::show).patch(persons::rename).delete(persons::erase))
        .route(
            "/persons/{id}/identifiers",
            axum::routing::post(persons::add_identifier).delete(persons::split_identifier),
        )
        .route("/persons/{id}/merge", axum::routing::post(persons::merge))
        .route("/persons/{id}/export", get(persons::export))
        .route("/persons/{id}/statements", get(persons::statements))
        .route("/persons/{id}/sign-in-link", axum::routing::post(persons::sign_in_link));
    let routes = Router::new()
        .nest("/xapi", xapi)
        .nest("/api", api)
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/api/launches", axum::routing::post(launch::create))
        .route("/api/launches/{id}", get(launch::show).delete(launch::revoke))
        .route("/api/players", axum::routing::post(player::open))
        .fallback(|| async { ApiError::NotFound("no such resource".into()) })
        .with_state(App::of(lms))
        .layer(DefaultBodyLimit::max(cfg.max_body_bytes));
    // The alternate request syntax rewrites method, headers and body, so it runs before routing.
    let console = crate::console::Console::new(
        lms.clone(),
        crate::console::ConsoleConfig {
            secure_cookies: lrs.config.public_url.starts_with("https://"),
            ..Default::default()
        },
    )
    .with_sso(cfg.sso.clone());
    let learn = crate::learn::Learn::new(
        lms.clone(),
        crate::learn::LearnConfig {
            secure_cookies: lrs.config.public_url.starts_with("https://"),
            ..Default::default()
        },
    )
    .with_sso(cfg.sso.clone());
    Router::new()
        .nest("/console", console::router(console))
        .nest("/learn", learn::router(learn))
        .fallback_service(routes)
        .layer(middleware::from_fn(launch::collapse_xapi_slashes))
        .layer(middleware::from_fn(guard::no_login_dialog_for_browsers))
        .layer(middleware::from_fn_with_state(
            alternate::AlternateState::new(lrs, cfg.max_body_bytes),
            alternate::rewrite,
        ))
        .layer(middleware::from_fn(guard::api_guard))
        .layer(middleware::from_fn(guard::xapi_cors))
        .layer(middleware::from_fn(guard::request_limits))
        .layer(middleware::from_fn_with_state(cfg.default_version, version_header))
        .layer(middleware::from_fn(guard::security_headers))
}

/// Rejects requests without a supported `X-Experience-API-Version` and records the version.
async fn require_version(mut req: Request, next: Next) -> Response {
    let raw = req.headers().get(VERSION_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string);
    match raw.as_deref().map(Version::parse) {
        Some(Some(v)) => {
            req.extensions_mut().insert(v);
            let mut resp = next.run(req).await;
            resp.headers_mut().insert(VERSION_HEADER, HeaderValue::from_static(v.header_value()));
            resp
        }
        Some(None) => ApiError::BadRequest(format!(
            "unsupported X-Experience-API-Version {:?}; supported: 1.0.x, 2.0.x",
            raw.unwrap_or_default()
        ))
        .into_response(),
        None => ApiError::BadRequest("missing X-Experience-API-Version header".into()).into_response(),
    }
}

/// Every response names an xAPI version: the one the request was served under (set by
/// [`require_version`]), else the request's header if supported, else the newest.
/// Errors produced outside our handlers (axum's own 405 and 413 rejections, CORS) get the same
/// JSON error body as every other error, so clients can always read a message.
async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    // JSON already, or a console page (whose errors are pages for people).
    let is_ours = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json") || c.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_ours {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("error").to_string() } else { text };
    let body = serde_json::json!({"error": {"status": status.as_u16(), "message": message}}).to_string();
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// Every Statement resource answer carries `X-Experience-API-Consistent-Through` (GETs, PUTs and POSTs,
/// error answers included), since clients poll on it and stock clients read it from any answer; every
/// write is durable before its answer, so "now" is always true.
async fn version_header(State(default): State<Version>, req: Request, next: Next) -> Response {
    let v = req.headers().get(VERSION_HEADER).and_then(|v| v.to_str().ok()).and_then(Version::parse).unwrap_or(default);
    let statements = req.uri().path().trim_end_matches('/') == "/xapi/statements";
    let mut resp = json_errors(next.run(req).await).await;
    let h = resp.headers_mut();
    if !h.contains_key(VERSION_HEADER) {
        h.insert(VERSION_HEADER, HeaderValue::from_static(v.header_value()));
    }
    if statements && !h.contains_key(CONSISTENT_THROUGH) {
        let now = crate::xapi::timestamp::format_timestamp(time::OffsetDateTime::now_utc());
        if let Ok(val) = HeaderValue::from_str(&now) {
            h.insert(CONSISTENT_THROUGH, val);
        }
    }
    resp
}

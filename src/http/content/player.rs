//! The course player on the content origin: its page (anyone; it names no learner and holds no
//! credential), its state and navigation endpoints (the player's own credential only, sent as
//! `Authorization: Bearer SECRET`), and the report endpoint a delivered SCO's run-time calls with its
//! own launch credential. Like the launch page, the player page carries no inline script, so a strict
//! policy applies: scripts and connections to this origin only.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Auth;
use crate::lms::player::{NavBody, ReportBody};
use crate::lms::Lms;
use crate::lrs::LrsError;

const PLAYER_JS: &str = include_str!("../../../static/player/player.js");
const PLAYER_CSS: &str = include_str!("../../../static/player/player.css");
const RETURNED_JS: &str = include_str!("../../../static/player/returned.js");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// GET /static/player/player.js
pub async fn player_js() -> Response {
    asset("text/javascript; charset=utf-8", PLAYER_JS)
}

/// GET /static/player/player.css
pub async fn player_css() -> Response {
    asset("text/css; charset=utf-8", PLAYER_CSS)
}

/// GET /static/player/returned.js
pub async fn returned_js() -> Response {
    asset("text/javascript; charset=utf-8", RETURNED_JS)
}

/// The page headers: no inline script, no framing by other sites, nothing cached, no referrer.
fn page_response(html: String) -> Response {
    let csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
               frame-src 'self' https: http:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'";
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CONTENT_SECURITY_POLICY, csp),
        ],
        html,
    )
        .into_response()
}

/// GET /player/{id}: the player page. The script reads the credential from the fragment, drops it
/// from the address bar, and builds the table of contents and controls from the state endpoint.
pub async fn page(State(lms): State<Lms>, Path(id): Path<String>) -> ApiResult<Response> {
    if !lms.player_exists(&id).await? {
        return Err(ApiError::NotFound("no such player".into()));
    }
    let id_attr = uuid::Uuid::parse_str(&id).map(|u| u.hyphenated().to_string()).unwrap_or_default();
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Course</title>\
<link rel=\"stylesheet\" href=\"/static/player/player.css\">\
<script src=\"/static/player/player.js\" defer></script></head>\
<body data-cairn-player=\"{id_attr}\">\
<header class=\"bar\"><h1 id=\"course-title\">Course</h1><p id=\"course-status\"></p></header>\
<div class=\"layout\">\
<nav id=\"toc-nav\" aria-label=\"Table of contents\"><h2>Contents</h2><ol id=\"toc\"></ol></nav>\
<main id=\"main\"><p id=\"player-status\" role=\"status\">Opening the course…</p>\
<noscript><p>The course player needs JavaScript: the course's modules talk to it through the SCORM API.</p></noscript>\
<div id=\"stage\"></div></main>\
</div>\
<footer><div class=\"controls\" role=\"toolbar\" aria-label=\"Course navigation\">\
<button type=\"button\" id=\"nav-previous\" disabled>Previous</button>\
<button type=\"button\" id=\"nav-continue\" disabled>Continue</button>\
<button type=\"button\" id=\"nav-suspend\" disabled>Suspend</button>\
<button type=\"button\" id=\"nav-exit\" disabled>Exit</button>\
</div></footer></body></html>\n"
    );
    Ok(page_response(html))
}

/// GET /player/returned: where a cmi5 AU framed by the player goes when it exits (its `returnURL`);
/// its script tells the player, which refreshes what `moveOn` still requires.
pub async fn returned() -> Response {
    page_response(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Module closed</title>\
<link rel=\"stylesheet\" href=\"/static/player/player.css\"><script src=\"/static/player/returned.js\" defer></script>\
</head><body><main><p>This module is closed.</p></main></body></html>\n"
            .to_string(),
    )
}

/// The registration a player credential reaches (`Authorization: Bearer SECRET`), or 403.
async fn player_of(lms: &Lms, id: &str, headers: &HeaderMap) -> ApiResult<String> {
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    Ok(lms.player_session(id, secret).await?)
}

fn no_store(v: serde_json::Value) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(v)).into_response()
}

/// GET /player/{id}/state: contents, controls, course status (the player's credential only).
pub async fn state(State(lms): State<Lms>, Path(id): Path<String>, headers: HeaderMap) -> ApiResult<Response> {
    let registration = player_of(&lms, &id, &headers).await?;
    Ok(no_store(lms.player_view(&registration).await?))
}

/// POST /player/{id}/navigate with `{request, target?}`: the player's credential only.
pub async fn navigate(
    State(lms): State<Lms>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let registration = player_of(&lms, &id, &headers).await?;
    let req: NavBody = serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("request body: {e}")))?;
    Ok(no_store(lms.player_navigate(&registration, &req).await?))
}

/// POST /launch/{id}/sequencing: what the delivered SCO set, from that launch's own credential.
pub async fn report(
    State(lms): State<Lms>,
    Auth(who): Auth,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let own = who
        .restricted
        .as_ref()
        .and_then(|g| uuid::Uuid::parse_str(&id).ok().filter(|u| u.hyphenated().to_string() == g.id));
    let Some(launch) = own else {
        return Err(LrsError::Forbidden("only this launch's own credential reports its module's data".into()).into());
    };
    let req: ReportBody =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("request body: {e}")))?;
    Ok(no_store(lms.player_report(&launch.hyphenated().to_string(), &req).await?))
}

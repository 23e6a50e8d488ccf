//! The content origin: a listener of its own (`--content-listen`, public address `CAIRN_CONTENT_URL`)
//! that serves launch pages, the course player, the SCORM run-time and package files, and nothing else.
//!
//! Package content is code written by a third party and runs in the learner's browser. Served from the
//! API origin, it could read other launches' tokens and call `/api` with whatever the browser holds for
//! that origin. Here it shares an origin only with other content: no cookies are set on it, no admin
//! resource answers on it, launch tokens never sit in storage another page could read, and it reaches
//! `/xapi` cross-origin with its own launch credential only.

mod files;
mod launch;
mod player;

pub use files::safe_relative;

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::error::ApiError;
use super::App;
use super::HttpConfig;
use crate::lms::Lms;

/// The content origin's routes.
pub fn router(lms: &Lms, cfg: &HttpConfig) -> Router {
    // An AU hosted on another site (an absolute launch URL) calls its fetch URL cross-origin; the one-time
    // token is the only proof, so no browser credentials are ever involved.
    let fetch_cors = CorsLayer::new().allow_origin(AllowOrigin::any()).allow_methods([Method::POST, Method::OPTIONS]);
    Router::new()
        .route("/content/{version}/{*path}", get(files::serve))
        .route("/launch/{id}", get(launch::page))
        .route("/launch/{id}/runtime", get(launch::runtime_config))
        .route("/launch/{id}/fetch", post(launch::fetch).layer(fetch_cors))
        .route("/static/scorm/runtime.js", get(launch::runtime_js))
        .route("/static/scorm/launch.css", get(launch::launch_css))
        .route("/launch/{id}/sequencing", post(player::report))
        .route("/player/returned", get(player::returned))
        .route("/player/{id}", get(player::page))
        .route("/player/{id}/state", get(player::state))
        .route("/player/{id}/navigate", post(player::navigate))
        .route("/static/player/player.js", get(player::player_js))
        .route("/static/player/player.css", get(player::player_css))
        .route("/static/player/returned.js", get(player::returned_js))
        .fallback(|| async { ApiError::NotFound("no such resource on the content origin".into()) })
        .with_state(App::of(lms))
        .layer(axum::extract::DefaultBodyLimit::max(cfg.max_body_bytes.min(64 * 1024)))
        .layer(middleware::from_fn(content_headers))
}

/// Every answer is `nosniff`; a service worker is never installed (one registered by a package could
/// intercept other launches' pages and files on this origin); a 401 never carries a Basic challenge,
/// which would make the browser hold the script's request behind a login dialog, and could get a
/// credential typed into it cached for this origin.
async fn content_headers(req: Request, next: Next) -> Response {
    if req.headers().contains_key("service-worker") {
        return (StatusCode::FORBIDDEN, "service workers are not allowed on the content origin").into_response();
    }
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    resp.headers_mut().remove(header::WWW_AUTHENTICATE);
    resp
}

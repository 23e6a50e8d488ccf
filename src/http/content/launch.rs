//! Launch pages on the content origin: the SCORM launch page and its run-time, the run-time's
//! configuration (for the launch's own credential only) and the cmi5 fetch URL.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Auth, QueryPairs};
use crate::lms::Lms;
use crate::lrs::LrsError;

/// The SCORM run-time, served as written (no build step); see `static/scorm/runtime.js`.
pub const RUNTIME_JS: &str = include_str!("../../../static/scorm/runtime.js");
const LAUNCH_CSS: &str = include_str!("../../../static/scorm/launch.css");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// GET /static/scorm/runtime.js
pub async fn runtime_js() -> Response {
    asset("text/javascript; charset=utf-8", RUNTIME_JS)
}

/// GET /static/scorm/launch.css
pub async fn launch_css() -> Response {
    asset("text/css; charset=utf-8", LAUNCH_CSS)
}

/// GET /launch/{id}: the SCORM launch page. It holds nothing about the learner (anyone may fetch it): the
/// run-time reads the credential from the URL fragment, which browsers never send, drops it from the
/// address bar, keeps it in memory only, and asks [`runtime_config`] for the rest. No inline script, so
/// a strict policy applies: scripts from this origin only, requests to the xAPI endpoint only.
pub async fn page(State(lms): State<Lms>, Path(id): Path<String>) -> ApiResult<Response> {
    if lms.scorm_page(&id).await?.is_none() {
        return Err(ApiError::NotFound("no such SCORM launch".into()));
    }
    let api = crate::http::origin_of(&lms.config.public_url);
    let csp = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' {api}; \
         frame-src 'self' https: http:; base-uri 'none'; form-action 'none'"
    );
    let id_attr = uuid::Uuid::parse_str(&id).map(|u| u.hyphenated().to_string()).unwrap_or_default();
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Course</title>\
         <link rel=\"stylesheet\" href=\"/static/scorm/launch.css\">\
         <script src=\"/static/scorm/runtime.js\" defer></script></head>\
         <body data-cairn-launch=\"{id_attr}\"><p id=\"cairn-status\" role=\"status\">Starting the course…</p></body></html>\n"
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (header::REFERRER_POLICY, "no-referrer".to_string()),
            (header::CONTENT_SECURITY_POLICY, csp),
        ],
        html,
    )
        .into_response())
}

/// GET /launch/{id}/runtime: what the run-time needs (learner, attempt, SCO URL, CMI start values), for
/// the launch's own credential only; other credentials, including other launches', are refused.
pub async fn runtime_config(State(lms): State<Lms>, Auth(who): Auth, Path(id): Path<String>) -> ApiResult<Response> {
    let own = who
        .restricted
        .as_ref()
        .is_some_and(|g| uuid::Uuid::parse_str(&id).is_ok_and(|u| u.hyphenated().to_string() == g.id));
    if !own {
        return Err(
            LrsError::Forbidden("only this launch's own credential reads its run-time configuration".into()).into()
        );
    }
    let cfg = lms.scorm_page(&id).await?.ok_or_else(|| ApiError::NotFound("no such SCORM launch".into()))?;
    Ok(([(header::CACHE_CONTROL, "no-store")], axum::Json(cfg)).into_response())
}

/// POST /launch/{id}/fetch?k=TOKEN: the cmi5 fetch URL. No credential: the one-time token is the proof.
/// Refusals are answered 200 with cmi5's error object, as §8.2.1 requires.
pub async fn fetch(State(lms): State<Lms>, Path(id): Path<String>, q: QueryPairs) -> ApiResult<Response> {
    let token = q.get("k").unwrap_or("");
    let body = match lms.cmi5_fetch(&id, token).await {
        Ok(Ok(t)) => json!({"auth-token": t}),
        Ok(Err(e)) => json!({"error-code": e.code.to_string(), "error-text": e.text}),
        Err(e) => {
            tracing::error!(error = %e, "cmi5 fetch");
            json!({"error-code": "3", "error-text": "general application error; see the server log"})
        }
    };
    Ok(axum::Json(body).into_response())
}

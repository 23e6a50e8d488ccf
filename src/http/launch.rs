//! Launching content: `POST /api/launches` (admin or `launch` scope) creates a launch and answers its URL;
//! `/launch/<id>` is the SCORM launch page and `/launch/<id>/fetch` the cmi5 fetch URL. The rules live in
//! `lrs::launch` and `lrs::cmi5`.

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::{ApiError, ApiResult};
use super::extract::{Auth, QueryPairs};
use crate::lrs::auth::Access;
use crate::lrs::launch::LaunchRequest;
use crate::lrs::Lrs;

/// POST /api/launches with `{course, module, learner, registration?, mode?, version?, returnURL?}`.
pub async fn create(State(lrs): State<Lrs>, Auth(who): Auth, body: Bytes) -> ApiResult<Response> {
    who.require(Access::Launch)?;
    let req: LaunchRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("request body: {e}")))?;
    let view = lrs.create_launch(req).await?;
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

/// GET /api/launches/{id}: where the launch's session stands (admin or `launch` scope).
pub async fn show(State(lrs): State<Lrs>, Auth(who): Auth, Path(id): Path<String>) -> ApiResult<Response> {
    who.require(Access::Launch)?;
    Ok(axum::Json(lrs.launch_info(&id).await?).into_response())
}

/// POST /launch/{id}/fetch?k=TOKEN: the cmi5 fetch URL. No credential: the one-time token is the proof.
/// Refusals are answered 200 with cmi5's error object, as §8.2.1 requires.
pub async fn fetch(State(lrs): State<Lrs>, Path(id): Path<String>, q: QueryPairs) -> ApiResult<Response> {
    let token = q.get("k").unwrap_or("");
    let body = match lrs.cmi5_fetch(&id, token).await {
        Ok(Ok(t)) => json!({"auth-token": t}),
        Ok(Err(e)) => json!({"error-code": e.code.to_string(), "error-text": e.text}),
        Err(e) => {
            tracing::error!(error = %e, "cmi5 fetch");
            json!({"error-code": "3", "error-text": "general application error; see the server log"})
        }
    };
    Ok(axum::Json(body).into_response())
}

/// The SCORM run-time, served as written (no build step); see `static/scorm/runtime.js`.
pub const RUNTIME_JS: &str = include_str!("../../static/scorm/runtime.js");

/// GET /static/scorm/runtime.js
pub async fn runtime_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        RUNTIME_JS,
    )
        .into_response()
}

/// GET /launch/{id}: the SCORM launch page. It provides `window.API` / `window.API_1484_11` and loads the
/// SCO in a frame; the credential travels in the URL fragment, which the browser never sends here.
pub async fn page(State(lrs): State<Lrs>, Path(id): Path<String>) -> ApiResult<Response> {
    let cfg = lrs.scorm_page(&id).await?.ok_or_else(|| ApiError::NotFound("no such SCORM launch".into()))?;
    let title = cfg["title"].as_str().unwrap_or("Course").replace('&', "&amp;").replace('<', "&lt;");
    // JSON inside a <script> element: `<` escaped so no value can close the element.
    let json = cfg.to_string().replace('<', "\\u003c");
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>html,body{{margin:0;height:100%;font-family:sans-serif}}iframe{{border:0;width:100%;height:100%;display:block}}</style>\
         <script src=\"/static/scorm/runtime.js\"></script></head>\
         <body><script>CairnScorm.launch({json});</script></body></html>\n"
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        html,
    )
        .into_response())
}

/// Content builds xAPI URLs by joining the launch `endpoint`, which ends with `/` as in the cmi5 spec's
/// example, and the resource with another `/` (Rustici's cmi5.js does): `/xapi//statements` is served as
/// `/xapi/statements` rather than failing every request of such content.
pub async fn collapse_xapi_slashes(mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if let Some(rest) = path.strip_prefix("/xapi//") {
        let mut fixed = format!("/xapi/{}", rest.trim_start_matches('/'));
        if let Some(q) = req.uri().query() {
            fixed.push('?');
            fixed.push_str(q);
        }
        if let Ok(uri) = fixed.parse() {
            *req.uri_mut() = uri;
        }
    }
    next.run(req).await
}

/// A 401 to a script in a browser (content whose launch credential expired or was never valid) carries no
/// `WWW-Authenticate: Basic` challenge: browsers answer that challenge with a login dialog and hold the
/// script's request until someone fills it in, which hangs the content instead of letting it see the 401.
/// Scripts are told apart by `Origin` (sent on cross-origin and on same-origin non-GET requests) or a
/// non-navigation `Sec-Fetch-Mode`; other clients keep the challenge.
pub async fn no_login_dialog_for_scripts(req: Request, next: Next) -> Response {
    let h = req.headers();
    let script = h.contains_key(header::ORIGIN)
        || h.get("sec-fetch-mode").and_then(|v| v.to_str().ok()).is_some_and(|m| m != "navigate");
    let mut resp = next.run(req).await;
    if script && resp.status() == StatusCode::UNAUTHORIZED {
        resp.headers_mut().remove(header::WWW_AUTHENTICATE);
    }
    resp
}

//! Launching content from the API origin: `POST /api/launches` (admin or `launch` scope) creates a launch
//! and answers its URL, `GET /api/launches/{id}` tells where it stands. The launch page, the run-time and
//! the cmi5 fetch URL are the content origin's (`http::content`). The rules live in `lms::launch` and
//! `lms::cmi5`.

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ApiResult};
use super::extract::Auth;
use crate::lms::launch::LaunchRequest;
use crate::lms::launch::LAUNCH_SCOPE;
use crate::lms::Lms;

/// POST /api/launches with `{course, module, learner, registration?, mode?, version?, returnURL?}`.
pub async fn create(State(lms): State<Lms>, Auth(who): Auth, body: Bytes) -> ApiResult<Response> {
    who.require_scope(LAUNCH_SCOPE)?;
    let req: LaunchRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("request body: {e}")))?;
    let view = lms.create_launch(req).await?;
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

/// DELETE /api/launches/{id}: revokes the launch's credential (admin or `launch` scope).
pub async fn revoke(State(lms): State<Lms>, Auth(who): Auth, Path(id): Path<String>) -> ApiResult<Response> {
    who.require_scope(LAUNCH_SCOPE)?;
    Ok(axum::Json(lms.revoke_launch(&id).await?).into_response())
}

/// GET /api/launches/{id}: where the launch's session stands (admin or `launch` scope).
pub async fn show(State(lms): State<Lms>, Auth(who): Auth, Path(id): Path<String>) -> ApiResult<Response> {
    who.require_scope(LAUNCH_SCOPE)?;
    Ok(axum::Json(lms.launch_info(&id).await?).into_response())
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

//! Launching content: `POST /api/launches` (admin or `launch` scope) creates a launch and answers its URL;
//! `/launch/<id>` is the SCORM launch page and `/launch/<id>/fetch` the cmi5 fetch URL. The rules live in
//! `lrs::launch` and `lrs::cmi5`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
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

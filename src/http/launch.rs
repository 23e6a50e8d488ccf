//! Launching content: `POST /api/launches` (admin or `launch` scope) creates a launch and answers its URL;
//! `/launch/<id>` is the SCORM launch page and `/launch/<id>/fetch` the cmi5 fetch URL. The rules live in
//! `lrs::launch` and `lrs::cmi5`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ApiResult};
use super::extract::Auth;
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

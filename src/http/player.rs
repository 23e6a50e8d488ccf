//! Opening the course player from the API origin: `POST /api/players` (admin or `launch` scope)
//! answers the player's URL on the content origin. The player page and its endpoints are the content
//! origin's (`http::content::player`); the rules live in `lms::player`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ApiResult};
use super::extract::Auth;
use crate::lms::launch::LAUNCH_SCOPE;
use crate::lms::player::PlayerRequest;
use crate::lms::Lms;

/// POST /api/players with `{course, learner, registration?, version?}`: 201 with the player's URL.
pub async fn open(State(lms): State<Lms>, Auth(who): Auth, body: Bytes) -> ApiResult<Response> {
    who.require_scope(LAUNCH_SCOPE)?;
    let req: PlayerRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("request body: {e}")))?;
    let opened = lms.open_player(req).await?;
    Ok((StatusCode::CREATED, axum::Json(opened)).into_response())
}

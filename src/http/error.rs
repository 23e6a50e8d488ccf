//! The HTTP layer's one error type, and the single place where errors become status codes. Every
//! error answer is JSON `{"error": {"status": N, "message": "…"}}` naming what is wrong.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::lrs::auth::AuthError;
use crate::lrs::LrsError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Lrs(#[from] LrsError),
    #[error("authentication required: {0}")]
    Unauthorized(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("request body too large (limit {0} bytes)")]
    TooLarge(usize),
    #[error("{0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Store(s) => ApiError::Lrs(LrsError::Store(s)),
            other => ApiError::Unauthorized(other.to_string()),
        }
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Lrs(e) => match e {
                LrsError::BadRequest(_) | LrsError::Invalid(_) => StatusCode::BAD_REQUEST,
                LrsError::Forbidden(_) => StatusCode::FORBIDDEN,
                LrsError::NotFound(_) => StatusCode::NOT_FOUND,
                LrsError::Conflict(_) => StatusCode::CONFLICT,
                LrsError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
                LrsError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
                LrsError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "internal error");
            "internal error; see the server log".to_string()
        } else {
            self.to_string()
        };
        let mut resp =
            (status, axum::Json(json!({"error": {"status": status.as_u16(), "message": message}}))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Cairn xAPI LRS\""));
        }
        resp
    }
}

pub type ApiResult<T> = std::result::Result<T, ApiError>;

//! The HTTP layer's one error type, and the single place where errors become status codes. Every
//! error answer is JSON `{"error": {"status": N, "message": "…"}}` naming what is wrong.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::lrs::auth::AuthError;
use crate::lrs::LrsError;
use crate::store::Outage;

/// `Retry-After` of an answer refused because the database is unreachable: about how often the
/// store's health probe looks while it is down.
const RETRY_AFTER_DOWN: std::time::Duration = std::time::Duration::from_secs(1);
/// `Retry-After` of a write refused because the database is out of space: freeing space takes an
/// operator, so clients should not hammer.
const RETRY_AFTER_FULL: std::time::Duration = std::time::Duration::from_secs(30);

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
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Timeout(String),
    #[error("{0}")]
    HeadersTooLarge(String),
    #[error("{0}")]
    UriTooLong(String),
    /// 429 with `Retry-After` (whole seconds, at least 1).
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: std::time::Duration },
    /// 503 with `Retry-After`: a shared budget is exhausted for the moment.
    #[error("{message}")]
    Unavailable { message: String, retry_after: std::time::Duration },
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Store(s) => ApiError::Lrs(LrsError::Store(s)),
            AuthError::TooManyFailures { retry_after } => ApiError::TooManyRequests {
                message: "too many failed authentication attempts; retry later".into(),
                retry_after,
            },
            other => ApiError::Unauthorized(other.to_string()),
        }
    }
}

/// What a page for people (console, learner pages) shows for a use-case error: the status the API
/// would answer, and its message; a server error is logged with its details and shown plainly.
pub fn for_people(e: LrsError) -> (StatusCode, String) {
    let api = ApiError::Lrs(e);
    let status = api.status();
    if status.is_server_error() {
        // Logged with its details by the API error's own answer, which is then dropped.
        drop(axum::response::IntoResponse::into_response(api));
        return (status, "The server could not do this just now; try again shortly.".into());
    }
    (status, api.to_string())
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
                LrsError::Store(s) => match s.outage() {
                    Some(Outage::Full) => StatusCode::INSUFFICIENT_STORAGE,
                    Some(Outage::Down) => StatusCode::SERVICE_UNAVAILABLE,
                    None => StatusCode::INTERNAL_SERVER_ERROR,
                },
            },
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let outage = match &self {
            ApiError::Lrs(LrsError::Store(s)) => s.outage(),
            _ => None,
        };
        let retry_after = match (&self, outage) {
            (ApiError::TooManyRequests { retry_after, .. } | ApiError::Unavailable { retry_after, .. }, _) => {
                Some(*retry_after)
            }
            (_, Some(Outage::Down)) => Some(RETRY_AFTER_DOWN),
            (_, Some(Outage::Full)) => Some(RETRY_AFTER_FULL),
            _ => None,
        }
        .map(|d| d.as_secs_f64().ceil().max(1.0) as u64);
        // Outages name their cause but not the driver's details (addresses, file paths): those are logged.
        let message = match outage {
            Some(Outage::Down) => {
                tracing::warn!(error = %self, "store unavailable");
                "the store is unavailable (the database cannot be reached); retry shortly".to_string()
            }
            Some(Outage::Full) => {
                tracing::warn!(error = %self, "store out of space");
                "the store is out of space (database or disk is full); nothing was written, retry once space is freed"
                    .to_string()
            }
            None if status == StatusCode::INTERNAL_SERVER_ERROR => {
                tracing::error!(error = %self, "internal error");
                "internal error; see the server log".to_string()
            }
            None => self.to_string(),
        };
        let mut resp =
            (status, axum::Json(json!({"error": {"status": status.as_u16(), "message": message}}))).into_response();
        if let Some(secs) = retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Cairn xAPI LRS\""));
        }
        resp
    }
}

pub type ApiResult<T> = std::result::Result<T, ApiError>;

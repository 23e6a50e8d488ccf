//! The use-case layer's error: what went wrong in terms a client can act on. The HTTP layer maps each
//! variant to a status code in one place (`http::error`).

use crate::store::StoreError;
use crate::xapi::validate::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum LrsError {
    /// Malformed request: bad parameter, bad JSON, broken rule (400).
    #[error("{0}")]
    BadRequest(String),
    /// A statement breaks a schema or spec rule (400); the message names the property path.
    #[error("invalid statement: {0}")]
    Invalid(#[from] ValidationError),
    /// The credential may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// Nothing there (404).
    #[error("{0}")]
    NotFound(String),
    /// A different statement already has this id, or a document write needs a precondition (409).
    #[error("{0}")]
    Conflict(String),
    /// `If-Match`/`If-None-Match` did not hold (412).
    #[error("{0}")]
    PreconditionFailed(String),
    /// A statement or document is larger than the configured limit (413).
    #[error("{0}")]
    TooLarge(String),
    /// The store failed: 503 or 507 when it is an outage (`StoreError::outage`), else 500; details
    /// are logged, not sent.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::xapi::json::JsonError> for LrsError {
    fn from(e: crate::xapi::json::JsonError) -> Self {
        if e.is_size() {
            LrsError::TooLarge(e.to_string())
        } else {
            LrsError::BadRequest(e.to_string())
        }
    }
}

pub type Result<T> = std::result::Result<T, LrsError>;

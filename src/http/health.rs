//! `GET /health` and `GET /ready` for load balancers and orchestrators: anonymous, JSON, and they
//! reveal nothing but up or down (and, when not ready, which of the store's conditions failed).

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::lrs::Lrs;

/// The process is alive and answering: always 200, whatever the database does (restarting a node
/// does not fix a database outage, so liveness must not depend on it).
pub async fn health() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

/// The node can serve: the store is reachable and writable and its migrations are applied. 503
/// with `Retry-After` and the reason otherwise, so a balancer sends traffic elsewhere meanwhile.
pub async fn ready(State(lrs): State<Lrs>) -> Response {
    match lrs.store.ready().await {
        Ok(()) => axum::Json(json!({"status": "ready"})).into_response(),
        Err(reason) => {
            let mut resp =
                (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"status": "unavailable", "reason": reason})))
                    .into_response();
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            resp
        }
    }
}

//! GET /xapi/about: the versions Cairn speaks. Needs neither credentials nor a version header.
//!
//! The answer follows the version the request names: a 1.0.x client sees the 1.0 versions only
//! (stock 1.0 clients, such as PyPI `tincan`, raise on a version they do not know), a 2.0 client or a
//! request without a usable header sees both.

use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};

use super::VERSION_HEADER;
use crate::xapi::Version;

pub async fn about(headers: HeaderMap) -> Json<Value> {
    let asked = headers.get(VERSION_HEADER).and_then(|v| v.to_str().ok()).and_then(Version::parse);
    let versions = match asked {
        Some(Version::V1_0_3) => json!(["1.0.3"]),
        _ => json!(["1.0.3", "2.0.0"]),
    };
    Json(json!({
        "version": versions,
        "extensions": {"https://cairn.dev/xapi/extensions/server": {"name": "Cairn", "version": env!("CARGO_PKG_VERSION")}}
    }))
}

//! GET /xapi/about: the versions Cairn speaks. Needs neither credentials nor a version header.

use axum::Json;
use serde_json::{json, Value};

pub async fn about() -> Json<Value> {
    Json(json!({
        "version": ["1.0.3", "2.0.0"],
        "extensions": {"https://cairn.dev/xapi/extensions/server": {"name": "Cairn", "version": env!("CARGO_PKG_VERSION")}}
    }))
}

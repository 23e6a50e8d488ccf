//! The xAPI 1.0.3 alternate request syntax (Communication §1.3): a browser that cannot send custom
//! headers or methods POSTs a form to `?method=VERB`, carrying headers, parameters and the body
//! (`content`) as form fields. This middleware turns such a request back into the ordinary one
//! before routing. xAPI 2.0 removed the syntax, so a 2.0 request using it is refused.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::VERSION_HEADER;
use crate::xapi::Version;

/// Form fields that are really request headers.
const HEADER_FIELDS: [&str; 7] = [
    "authorization",
    "x-experience-api-version",
    "content-type",
    "content-length",
    "if-match",
    "if-none-match",
    "accept-language",
];

/// Rewrites an alternate-syntax request; `limit` is the server's body limit, applied to the form
/// itself so an oversized form is refused before it is buffered.
pub async fn rewrite(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let is_alternate = req.method() == Method::POST
        && req.uri().path().starts_with("/xapi/")
        && req.uri().query().is_some_and(|q| q.split('&').any(|p| p.starts_with("method=")));
    if !is_alternate {
        return next.run(req).await;
    }
    match convert(req, limit).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn convert(req: Request, limit: usize) -> Result<Request, ApiError> {
    let (mut parts, body) = req.into_parts();
    let query: Vec<(String, String)> = serde_urlencoded::from_str(parts.uri.query().unwrap_or(""))
        .map_err(|e| ApiError::BadRequest(format!("malformed query string: {e}")))?;
    if query.len() != 1 || query[0].0 != "method" {
        return Err(ApiError::BadRequest(
            "with the alternate request syntax, the query string may hold only the method parameter".into(),
        ));
    }
    let method = Method::from_bytes(query[0].1.to_ascii_uppercase().as_bytes())
        .ok()
        .filter(|m| [Method::GET, Method::PUT, Method::POST, Method::DELETE].contains(m))
        .ok_or_else(|| {
            ApiError::BadRequest(format!("method parameter must be GET, PUT, POST or DELETE, got {:?}", query[0].1))
        })?;
    let ct = parts.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        return Err(ApiError::BadRequest(
            "the alternate request syntax needs Content-Type application/x-www-form-urlencoded".into(),
        ));
    }
    let bytes = to_bytes(body, limit).await.map_err(|_| ApiError::TooLarge(limit))?;
    let form: Vec<(String, String)> =
        serde_urlencoded::from_bytes(&bytes).map_err(|e| ApiError::BadRequest(format!("malformed form body: {e}")))?;
    // A raw JSON body parses as one form field named after the JSON text; name the real mistake.
    if form.iter().any(|(k, _)| k.trim_start().starts_with(['{', '['])) {
        return Err(ApiError::BadRequest(
            "the alternate request syntax takes a form body; send the statement as the form field `content`".into(),
        ));
    }
    let mut content = None;
    let mut params = Vec::new();
    parts.headers.remove("content-type");
    parts.headers.remove("content-length");
    for (k, v) in form {
        let lower = k.to_ascii_lowercase();
        if lower == "content" {
            content = Some(v);
        } else if HEADER_FIELDS.contains(&lower.as_str()) {
            let name = HeaderName::from_bytes(lower.as_bytes())
                .map_err(|_| ApiError::BadRequest(format!("bad header field {k}")))?;
            let value = HeaderValue::from_str(&v)
                .map_err(|_| ApiError::BadRequest(format!("bad value for header field {k}")))?;
            parts.headers.insert(name, value);
        } else {
            params.push((k, v));
        }
    }
    let version = parts.headers.get(VERSION_HEADER).and_then(|v| v.to_str().ok()).and_then(Version::parse);
    if version == Some(Version::V2_0_0) {
        return Err(ApiError::BadRequest("xAPI 2.0 has no alternate request syntax".into()));
    }
    if content.is_some() && !parts.headers.contains_key("content-type") {
        parts.headers.insert("content-type", HeaderValue::from_static("application/json"));
    }
    let qs = serde_urlencoded::to_string(&params).unwrap_or_default();
    let pq = if qs.is_empty() { parts.uri.path().to_string() } else { format!("{}?{qs}", parts.uri.path()) };
    parts.uri =
        Uri::builder().path_and_query(pq).build().map_err(|e| ApiError::BadRequest(format!("bad parameters: {e}")))?;
    parts.method = method;
    let body = content.unwrap_or_default();
    if let Ok(v) = HeaderValue::from_str(&body.len().to_string()) {
        parts.headers.insert("content-length", v);
    }
    Ok(Request::from_parts(parts, Body::from(body)))
}

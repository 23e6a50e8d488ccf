//! The xAPI 1.0.3 alternate request syntax (Communication §1.3): a browser that cannot send custom
//! headers or methods POSTs a form to `?method=VERB`, carrying headers, parameters and the body
//! (`content`) as form fields. This middleware turns such a request back into the ordinary one
//! before routing. xAPI 2.0 removed the syntax, so a 2.0 request using it is refused.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::ApiError;
use super::extract::parse_basic;
use super::VERSION_HEADER;
use crate::lrs::Lrs;
use crate::xapi::Version;

/// Most bytes of an alternate-syntax form read before its credential is verified. The credential
/// normally travels in the form (field `Authorization`, which clients put before `content`), so
/// the form is read in chunks and the credential checked as soon as it has arrived; until then an
/// anonymous client may make us hold this much, not the whole body limit (issue 11, finding 6: 64
/// anonymous 16 MiB forms took the server from 48 to 717 MB).
pub const ANONYMOUS_FORM_BYTES: usize = 64 * 1024;
/// Most unauthenticated form bytes held at once, over all requests; beyond it, 503.
pub const ANONYMOUS_BUDGET_BYTES: usize = 8 * 1024 * 1024;

/// What the rewrite needs: the LRS (to verify credentials), the body limit, and the shared budget of
/// unauthenticated bytes.
#[derive(Clone)]
pub struct AlternateState {
    lrs: Lrs,
    limit: usize,
    anonymous: Arc<Semaphore>,
}

impl AlternateState {
    pub fn new(lrs: Lrs, limit: usize) -> AlternateState {
        AlternateState { lrs, limit, anonymous: Arc::new(Semaphore::new(ANONYMOUS_BUDGET_BYTES)) }
    }
}

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

/// Rewrites an alternate-syntax request; the server's body limit applies to the form itself so an
/// oversized form is refused before it is buffered, and anonymous forms are held to
/// [`ANONYMOUS_FORM_BYTES`].
pub async fn rewrite(State(state): State<AlternateState>, req: Request, next: Next) -> Response {
    let is_alternate = req.method() == Method::POST
        && req.uri().path().starts_with("/xapi/")
        && req.uri().query().is_some_and(|q| q.split('&').any(|p| p.starts_with("method=")));
    if !is_alternate {
        return next.run(req).await;
    }
    match convert(req, &state).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn convert(req: Request, state: &AlternateState) -> Result<Request, ApiError> {
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
    let bytes = read_form(&parts, body, state).await?;
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

/// Reads the form, verifying its credential (an `Authorization` header, else the form field) as soon
/// as it is known: a wrong one is refused before the rest is read, and until one is verified the
/// form may hold only [`ANONYMOUS_FORM_BYTES`], drawn from the shared anonymous budget.
async fn read_form(
    parts: &axum::http::request::Parts,
    body: Body,
    state: &AlternateState,
) -> Result<Vec<u8>, ApiError> {
    let limit = state.limit;
    let declared =
        parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::TooLarge(limit));
    }
    let addr = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let mut verified = false;
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| ApiError::Unauthorized("Authorization header is not text".into()))?;
        verify(state, addr, value).await?;
        verified = true;
    }
    let mut held: Vec<OwnedSemaphorePermit> = Vec::new();
    let mut buf = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("reading the form body: {e}")))?;
        if buf.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge(limit));
        }
        if !verified {
            if buf.len() + chunk.len() > ANONYMOUS_FORM_BYTES {
                return Err(ApiError::Unauthorized(format!(
                    "an alternate-syntax form over {ANONYMOUS_FORM_BYTES} bytes must carry its Authorization field \
                     before `content`, or send an Authorization header"
                )));
            }
            let permit = u32::try_from(chunk.len())
                .ok()
                .and_then(|n| state.anonymous.clone().try_acquire_many_owned(n).ok())
                .ok_or_else(|| ApiError::Unavailable {
                    message: "too many unauthenticated requests in flight; retry shortly".into(),
                    retry_after: Duration::from_secs(1),
                })?;
            held.push(permit);
        }
        buf.extend_from_slice(&chunk);
        if !verified {
            if let Some(value) = form_authorization(&buf, false) {
                verify(state, addr, &value).await?;
                verified = true;
                held.clear();
            }
        }
    }
    if !verified {
        if let Some(value) = form_authorization(&buf, true) {
            verify(state, addr, &value).await?;
        }
    }
    Ok(buf)
}

async fn verify(state: &AlternateState, addr: Option<IpAddr>, value: &str) -> Result<(), ApiError> {
    let (key, secret) = parse_basic(value)?;
    state.lrs.authenticate_from(addr, &key, &secret).await?;
    Ok(())
}

/// The `Authorization` field of a (partly read) form, once it has arrived whole.
fn form_authorization(buf: &[u8], complete: bool) -> Option<String> {
    let mut fields: Vec<&[u8]> = buf.split(|b| *b == b'&').collect();
    if !complete {
        fields.pop(); // may still be arriving
    }
    fields.into_iter().find_map(|f| {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(f).ok()?;
        pairs.into_iter().find(|(k, _)| k.eq_ignore_ascii_case("authorization")).map(|(_, v)| v)
    })
}

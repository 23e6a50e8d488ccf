//! Trust boundaries at the edge of the API origin (issue 11): request size limits answered in our
//! JSON format, security headers on every answer, CORS for `/xapi` only and never credentialed,
//! cross-site and non-JSON requests to the admin API refused, and no Basic challenge to browsers.

use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower::{Layer, ServiceExt};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::error::ApiError;
use super::VERSION_HEADER;

/// Longest request target we accept (hyper's own limit answers 414 without a body).
pub const MAX_URI_BYTES: usize = 16 * 1024;
/// Most header bytes (names, values and separators) we accept; hyper's buffer (~400 KiB) is larger,
/// so requests between the two get our JSON 431 rather than hyper's empty one.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Most header fields we accept; hyper is configured with twice as many ([`HYPER_MAX_HEADERS`]).
pub const MAX_HEADERS: usize = 100;
pub const HYPER_MAX_HEADERS: usize = 2 * MAX_HEADERS;

/// Headers every answer of the API origin carries: its answers are JSON (or CSV) and render nothing,
/// so nothing may be sniffed, run, framed or leak the URL onwards.
pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
];

/// Adds the security headers a handler has not set itself (a document download may set its own
/// `Content-Security-Policy: sandbox`).
pub fn set_security_headers(h: &mut HeaderMap) {
    for (name, value) in SECURITY_HEADERS {
        if !h.contains_key(name) {
            h.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
    }
}

fn is_under(path: &str, prefix: &str) -> bool {
    path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
}

/// Security headers on every answer of the API origin, errors included.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    set_security_headers(resp.headers_mut());
    resp
}

/// Refuses over-long targets (414) and oversized header sections (431) with our JSON body, below
/// hyper's own limits, which answer with an empty body.
pub async fn request_limits(req: Request, next: Next) -> Response {
    let uri_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return ApiError::UriTooLong(format!("request target of {uri_len} bytes exceeds the limit of {MAX_URI_BYTES}"))
            .into_response();
    }
    let h = req.headers();
    if h.len() > MAX_HEADERS {
        return ApiError::HeadersTooLarge(format!("{} header fields exceed the limit of {MAX_HEADERS}", h.len()))
            .into_response();
    }
    let bytes: usize = h.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    if bytes > MAX_HEADER_BYTES {
        return ApiError::HeadersTooLarge(format!(
            "request headers of {bytes} bytes exceed the limit of {MAX_HEADER_BYTES}"
        ))
        .into_response();
    }
    next.run(req).await
}

/// CORS for browser-based content on `/xapi` only: any origin, the xAPI headers allowed and exposed,
/// and never `Access-Control-Allow-Credentials`: content sends its credential in an explicit
/// `Authorization` header, which needs no credentialed CORS, and a credentialed answer would let any
/// site read the LRS with whatever the browser holds for it. `/api` and the rest get no CORS at all.
pub async fn xapi_cors(req: Request, next: Next) -> Response {
    if !is_under(req.uri().path(), "/xapi") {
        return next.run(req).await;
    }
    static CORS: OnceLock<CorsLayer> = OnceLock::new();
    let cors = CORS.get_or_init(|| {
        let xapi_headers = [
            HeaderName::from_static(VERSION_HEADER),
            HeaderName::from_static(super::CONSISTENT_THROUGH),
            HeaderName::from_static("x-experience-api-hash"),
        ];
        CorsLayer::new()
            .allow_origin(AllowOrigin::mirror_request())
            .allow_methods([Method::GET, Method::PUT, Method::POST, Method::DELETE, Method::HEAD, Method::OPTIONS])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_MATCH,
                header::IF_NONE_MATCH,
                header::ACCEPT_LANGUAGE,
                xapi_headers[0].clone(),
                xapi_headers[2].clone(),
            ])
            .expose_headers([
                header::ETAG,
                header::LAST_MODIFIED,
                header::CONTENT_TYPE,
                xapi_headers[0].clone(),
                xapi_headers[1].clone(),
                xapi_headers[2].clone(),
            ])
            .max_age(std::time::Duration::from_secs(3600))
    });
    match cors.layer(next).oneshot(req).await {
        Ok(resp) => resp.map(Body::new),
        Err(never) => match never {},
    }
}

/// The admin API (`/api`) takes requests from scripts and tools of its own origin only: a web page
/// elsewhere (including another port of this host, such as the content origin) must not be able to
/// drive it with whatever the browser holds, so cross-site requests are refused (403), and bodies
/// must be `application/json` (415), which no plain HTML form can send, except package uploads to
/// `POST /api/courses` (zip bytes or multipart) and bulk assignment files to `POST
/// /api/assignments/bulk` (`text/csv`, which no form can send either).
pub async fn api_guard(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !is_under(path, "/api") {
        return next.run(req).await;
    }
    let h = req.headers();
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site") {
            return ApiError::Forbidden(format!(
                "cross-origin requests to /api are refused (Sec-Fetch-Site: {site}); use the API from its own origin"
            ))
            .into_response();
        }
    }
    if let Some(origin) = h.get(header::ORIGIN) {
        let host = h.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
        let origin = origin.to_str().unwrap_or("");
        if !same_authority(origin, host) {
            return ApiError::Forbidden(format!(
                "cross-origin requests to /api are refused (Origin {origin:?} is not this server)"
            ))
            .into_response();
        }
    }
    if ![Method::GET, Method::HEAD, Method::OPTIONS].contains(req.method()) {
        let ct = h.get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("?").to_ascii_lowercase());
        let has_body = h.contains_key(header::TRANSFER_ENCODING)
            || h.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).is_some_and(|l| l.trim() != "0");
        let upload = req.method() == Method::POST && path.trim_end_matches('/') == "/api/courses";
        let csv = req.method() == Method::POST && path.trim_end_matches('/') == "/api/assignments/bulk";
        let ok = match ct.as_deref() {
            None => !has_body || upload,
            Some(ct) => {
                let essence = ct.split(';').next().unwrap_or("").trim();
                essence == "application/json"
                    || (csv && essence == "text/csv")
                    || (upload
                        && [
                            "application/zip",
                            "application/x-zip-compressed",
                            "application/octet-stream",
                            "multipart/form-data",
                        ]
                        .contains(&essence))
            }
        };
        if !ok {
            let what = ct.map_or("no Content-Type".to_string(), |c| format!("Content-Type {c:?}"));
            return ApiError::UnsupportedMediaType(format!("/api takes application/json bodies; got {what}"))
                .into_response();
        }
    }
    next.run(req).await
}

/// Whether an `Origin` (`scheme://host[:port]`) names the server the request was sent to (`Host`).
fn same_authority(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else { return false };
    let default_port = match scheme {
        "http" => "80",
        "https" => "443",
        _ => return false,
    };
    let norm = |a: &str| {
        let a = a.trim().to_ascii_lowercase();
        match a.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && !p.contains(']') => (h.to_string(), p.to_string()),
            _ => (a, default_port.to_string()),
        }
    };
    !host.is_empty() && norm(authority) == norm(host)
}

/// A browser answers `WWW-Authenticate: Basic` with a login dialog and then caches what was typed
/// and sends it with every later request to the origin, from any page: the ambient credential
/// cross-site requests need. So the challenge goes only to clients that are plainly not browsers:
/// no `Origin`, no `Sec-Fetch-*`, no `Upgrade-Insecure-Requests`, and a User-Agent not starting with
/// `Mozilla/` (every browser's does). It also spares scripts in browsers a dialog that would hang them.
pub async fn no_login_dialog_for_browsers(req: Request, next: Next) -> Response {
    let h = req.headers();
    let browser = h.contains_key(header::ORIGIN)
        || h.contains_key(header::UPGRADE_INSECURE_REQUESTS)
        || h.keys().any(|k| k.as_str().starts_with("sec-fetch-"))
        || h.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).is_some_and(|ua| ua.starts_with("Mozilla/"));
    let mut resp = next.run(req).await;
    if browser && resp.status() == StatusCode::UNAUTHORIZED {
        resp.headers_mut().remove(header::WWW_AUTHENTICATE);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::same_authority;

    #[test]
    fn origin_matches_host_with_default_ports() {
        assert!(same_authority("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(same_authority("https://lrs.example.com", "lrs.example.com"));
        assert!(same_authority("http://lrs.example.com", "LRS.example.com:80"));
        assert!(!same_authority("http://127.0.0.1:8081", "127.0.0.1:8080"));
        assert!(!same_authority("null", "127.0.0.1:8080"));
        assert!(!same_authority("http://evil.example", "lrs.example.com"));
        assert!(same_authority("http://[::1]:8080", "[::1]:8080"));
    }
}

//! Extractors: the authenticated principal, the request's xAPI version and query parameters, each
//! rejecting with our error format.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use base64::Engine;

use super::error::ApiError;
use crate::lrs::auth::Principal;
use crate::lrs::Lrs;
use crate::xapi::Version;

/// The xAPI version the request named (checked by the version middleware, which stores it).
#[derive(Debug, Clone, Copy)]
pub struct XapiVersion(pub Version);

impl<S: Send + Sync> FromRequestParts<S> for XapiVersion {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Version>()
            .copied()
            .map(XapiVersion)
            .ok_or_else(|| ApiError::BadRequest("missing X-Experience-API-Version header".into()))
    }
}

/// The authenticated client (HTTP Basic). Failed attempts are limited per client address (from
/// `ConnectInfo`, which `http::server` provides) and per key.
pub struct Auth(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Auth
where
    Lrs: axum::extract::FromRef<S>,
{
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let lrs = &Lrs::from_ref(state);
        let (key, secret) = basic_credentials(&parts.headers)?;
        let addr = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(Auth(lrs.authenticate_from(addr, &key, &secret).await?))
    }
}

/// A caller with the `admin` scope, checked before any body is read: a caller without it is told 403
/// whatever it sent, and its body is never parsed.
pub struct Admin(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Admin
where
    Lrs: axum::extract::FromRef<S>,
{
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Auth(who) = Auth::from_request_parts(parts, state).await?;
        who.require(crate::lrs::auth::Access::Admin)?;
        Ok(Admin(who))
    }
}

fn basic_credentials(headers: &HeaderMap) -> Result<(String, String), ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("no Authorization header".into()))?
        .to_str()
        .map_err(|_| ApiError::Unauthorized("Authorization header is not text".into()))?;
    parse_basic(value)
}

/// Key and secret of a `Basic` Authorization value (header or alternate-syntax form field).
pub fn parse_basic(value: &str) -> Result<(String, String), ApiError> {
    let (scheme, rest) =
        value.trim().split_once(' ').ok_or_else(|| ApiError::Unauthorized("malformed Authorization header".into()))?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(ApiError::Unauthorized(format!("unsupported authorization scheme {scheme:?}; use Basic")));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .map_err(|_| ApiError::Unauthorized("Basic credentials are not base64".into()))?;
    let text =
        String::from_utf8(decoded).map_err(|_| ApiError::Unauthorized("Basic credentials are not UTF-8".into()))?;
    let (k, s) =
        text.split_once(':').ok_or_else(|| ApiError::Unauthorized("Basic credentials need key:secret".into()))?;
    Ok((k.to_string(), s.to_string()))
}

/// The query string as ordered name/value pairs (repeated names kept, so they can be refused).
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .map(QueryPairs)
            .map_err(|e| ApiError::BadRequest(format!("malformed query string: {e}")))
    }
}

impl QueryPairs {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A request header as text, if present and valid.
pub fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A JSON body for the admin API whose rejections (bad JSON, wrong shape, unknown fields) use our
/// error format and name the problem.
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(ApiError::BadRequest(format!("request body: {}", e.body_text()))),
        }
    }
}

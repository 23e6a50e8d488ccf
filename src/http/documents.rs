//! /xapi/activities/state, /xapi/activities/profile and /xapi/agents/profile: one set of handlers
//! parameterised by the document kind. The rules live in `lrs::documents`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ApiResult};
use super::extract::{header_str, Auth, QueryPairs, XapiVersion};
use crate::lrs::auth::{Access, Principal};
use crate::lrs::documents::{DocKind, DocMethod, Preconditions, Upload};
use crate::lrs::{Lrs, LrsError};
use crate::xapi::Version;

fn access(kind: DocKind, write: bool) -> Access {
    match (kind, write) {
        (DocKind::State, false) => Access::ReadState,
        (DocKind::State, true) => Access::WriteState,
        (_, false) => Access::ReadProfile,
        (_, true) => Access::WriteProfile,
    }
}

fn preconditions(headers: &HeaderMap) -> Preconditions {
    Preconditions {
        if_match: header_str(headers, "if-match").map(str::to_string),
        if_none_match: header_str(headers, "if-none-match").map(str::to_string),
    }
}

fn http_date(us: i64) -> Option<HeaderValue> {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_micros(us.max(0) as u64);
    HeaderValue::from_str(&httpdate::fmt_http_date(t)).ok()
}

/// Who asks, under which version, for which resource.
struct Ctx {
    lrs: Lrs,
    who: Principal,
    v: Version,
    kind: DocKind,
}

async fn get(Ctx { lrs, who, v, kind }: Ctx, q: QueryPairs) -> ApiResult<Response> {
    who.require(access(kind, false))?;
    let p = lrs.parse_doc_params(kind, &q.0, DocMethod::Get, v)?;
    lrs.check_document_access(&who, &p, false).await?;
    if p.doc_id.is_none() {
        let ids = lrs.document_ids(&p).await?;
        return Ok(axum::Json(ids).into_response());
    }
    let doc = lrs.document(&p).await?.ok_or_else(|| ApiError::Lrs(LrsError::NotFound("no such document".into())))?;
    let mut resp = Response::new(axum::body::Body::from(doc.body));
    let h = resp.headers_mut();
    if let Ok(ct) = HeaderValue::from_str(&doc.content_type) {
        h.insert(header::CONTENT_TYPE, ct);
    }
    if let Ok(e) = HeaderValue::from_str(&doc.etag) {
        h.insert(header::ETAG, e);
    }
    if let Some(d) = http_date(doc.updated_us) {
        h.insert(header::LAST_MODIFIED, d);
    }
    bytes_not_a_page(h);
    Ok(resp)
}

/// Documents are bytes a client stored, in any content type it chose, readable by other clients: a
/// browser must never render one as a page of the API origin (a `text/html` State document fetched by
/// a cross-site form would be stored XSS). So: no sniffing, a sandbox with nothing allowed should it
/// render anyway, and a download rather than a page. Clients reading documents ignore all three.
pub fn bytes_not_a_page(h: &mut HeaderMap) {
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment"));
}

async fn write(
    Ctx { lrs, who, v, kind }: Ctx,
    q: QueryPairs,
    headers: HeaderMap,
    body: Bytes,
    merge: bool,
) -> ApiResult<Response> {
    who.require(access(kind, true))?;
    let method = if merge { DocMethod::Post } else { DocMethod::Put };
    let p = lrs.parse_doc_params(kind, &q.0, method, v)?;
    lrs.check_document_access(&who, &p, true).await?;
    let content_type = header_str(&headers, "content-type").unwrap_or("application/octet-stream").to_string();
    lrs.write_document(&p, Upload { content_type, body: body.to_vec() }, &preconditions(&headers), merge, v).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete(Ctx { lrs, who, v, kind }: Ctx, q: QueryPairs, headers: HeaderMap) -> ApiResult<Response> {
    who.require(access(kind, true))?;
    let p = lrs.parse_doc_params(kind, &q.0, DocMethod::Delete, v)?;
    lrs.check_document_access(&who, &p, true).await?;
    lrs.delete_document(&p, &preconditions(&headers), v).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Generates the four axum handlers of one document resource.
macro_rules! document_resource {
    ($module:ident, $kind:expr) => {
        pub mod $module {
            use super::*;

            pub async fn get(
                State(lrs): State<Lrs>,
                Auth(who): Auth,
                XapiVersion(v): XapiVersion,
                q: QueryPairs,
            ) -> ApiResult<Response> {
                super::get(Ctx { lrs, who, v, kind: $kind }, q).await
            }
            pub async fn put(
                State(lrs): State<Lrs>,
                Auth(who): Auth,
                XapiVersion(v): XapiVersion,
                q: QueryPairs,
                h: HeaderMap,
                body: Bytes,
            ) -> ApiResult<Response> {
                super::write(Ctx { lrs, who, v, kind: $kind }, q, h, body, false).await
            }
            pub async fn post(
                State(lrs): State<Lrs>,
                Auth(who): Auth,
                XapiVersion(v): XapiVersion,
                q: QueryPairs,
                h: HeaderMap,
                body: Bytes,
            ) -> ApiResult<Response> {
                super::write(Ctx { lrs, who, v, kind: $kind }, q, h, body, true).await
            }
            pub async fn delete(
                State(lrs): State<Lrs>,
                Auth(who): Auth,
                XapiVersion(v): XapiVersion,
                q: QueryPairs,
                h: HeaderMap,
            ) -> ApiResult<Response> {
                super::delete(Ctx { lrs, who, v, kind: $kind }, q, h).await
            }
        }
    };
}

document_resource!(state, DocKind::State);
document_resource!(activity_profile, DocKind::ActivityProfile);
document_resource!(agent_profile, DocKind::AgentProfile);

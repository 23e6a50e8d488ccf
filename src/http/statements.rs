//! /xapi/statements: PUT, POST and GET. Parses the request into domain values, calls the use case,
//! and shapes the response (JSON or multipart/mixed, consistency headers). No rules live here.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::{ApiError, ApiResult};
use super::extract::{header_str, Auth, QueryPairs, XapiVersion};
use crate::lrs::auth::Access;
use crate::lrs::intake::Admitted;
use crate::lrs::statements::statement_result;
use crate::lrs::{Lrs, LrsError};
use crate::store::{NewAttachment, StoredStatement};
use crate::xapi::attachments::{self, AttachmentPayload};
use crate::xapi::multipart::{self, Part};
use crate::xapi::timestamp;

/// Splits a statements request body into the statements JSON and attachment parts, once the JSON
/// fits in the budget of statements in flight; the caller holds the returned share until it has
/// answered (see [`crate::lrs::intake`]).
async fn read_body(lrs: &Lrs, headers: &HeaderMap, body: Bytes) -> ApiResult<(Value, Option<Vec<Part>>, Admitted)> {
    let ct = header_str(headers, "content-type").unwrap_or("").to_string();
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    // xAPI.js under Node (its default adapter) sends a multipart/mixed request with attachments as
    // `application/octet-stream`; a body that opens with a delimiter line is taken for what it is.
    let sniffed = sniffed_boundary(&mime, &body);
    // Whoever sent octet-stream is told how the body was read, or the error would make no sense.
    let context = match &sniffed {
        Some(_) => {
            "the application/octet-stream body opens with a multipart delimiter line, so it was read as \
                    multipart/mixed, but it is not a valid multipart body: "
        }
        None => "",
    };
    let ct = match sniffed {
        Some(b) => format!("multipart/mixed; boundary=\"{b}\""),
        None => ct,
    };
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let (json_bytes, parts) = if mime == "multipart/mixed" {
        let bad = |e: multipart::MultipartError| ApiError::BadRequest(format!("{context}{e}"));
        let parts = multipart::parse_mixed(&ct, body).await.map_err(bad)?;
        let (first, rest) = multipart::split_statements(parts).map_err(bad)?;
        (first.body, Some(rest))
    } else if mime == "application/json" || mime.is_empty() {
        (body, None)
    } else {
        return Err(ApiError::BadRequest(format!(
            "unsupported Content-Type {ct:?}: use application/json or multipart/mixed"
        )));
    };
    let admitted = lrs.intake.admit(json_bytes.len()).await;
    Ok((lrs.parse_statements_body(&json_bytes)?, parts, admitted))
}

/// The boundary of an `application/octet-stream` body that starts with a multipart delimiter line
/// (`--BOUNDARY` then CRLF), the boundary being one RFC 2046 allows.
fn sniffed_boundary(mime: &str, body: &[u8]) -> Option<String> {
    if mime != "application/octet-stream" {
        return None;
    }
    let rest = body.strip_prefix(b"--")?;
    let end = rest.windows(2).take(72).position(|w| w == b"\r\n")?;
    let b = std::str::from_utf8(&rest[..end]).ok()?;
    let valid = (1..=70).contains(&b.len())
        && !b.ends_with(' ')
        && b.bytes().all(|c| c.is_ascii() && !c.is_ascii_control() && c != b'"' && c != b'\\');
    valid.then(|| b.to_string())
}

/// PUT /xapi/statements?statementId=…
pub async fn put(
    State(lrs): State<Lrs>,
    Auth(who): Auth,
    XapiVersion(v): XapiVersion,
    q: QueryPairs,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    who.require(Access::WriteStatements)?;
    // Unknown parameters first: `PUT ?method=POST` is a misuse of the alternate syntax, and saying so
    // is more useful than asking for a statementId.
    if let Some((k, _)) = q.0.iter().find(|(k, _)| k != "statementId") {
        return Err(ApiError::BadRequest(format!("unknown parameter {k:?} for PUT statements")));
    }
    let id = q
        .get("statementId")
        .ok_or_else(|| ApiError::BadRequest("PUT statements needs the statementId parameter".into()))?;
    let uuid = uuid::Uuid::parse_str(id)
        .ok()
        .filter(|_| id.len() == 36)
        .ok_or_else(|| ApiError::BadRequest(format!("statementId must be a UUID, got {id:?}")))?;
    let id = uuid.hyphenated().to_string();
    let (mut stmt, parts, _admitted) = read_body(&lrs, &headers, body).await?;
    let obj =
        stmt.as_object_mut().ok_or_else(|| ApiError::BadRequest("PUT statements takes one statement object".into()))?;
    // An id in the body must name the same statement; one that is not a string is left for validation
    // to refuse rather than silently replaced.
    match obj.get("id") {
        Some(Value::String(given)) if given.to_ascii_lowercase() != id => {
            return Err(ApiError::BadRequest(format!("statement id {given} does not match statementId {id}")));
        }
        Some(_) => {}
        None => {
            obj.insert("id".into(), Value::String(id));
        }
    }
    lrs.store_statements(&who, v, vec![stmt], parts).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// POST /xapi/statements: one statement or an array; answers the ids.
pub async fn post(
    State(lrs): State<Lrs>,
    Auth(who): Auth,
    XapiVersion(v): XapiVersion,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    who.require(Access::WriteStatements)?;
    let (stmts, parts, _admitted) = read_body(&lrs, &headers, body).await?;
    let list = match stmts {
        Value::Array(a) => a,
        obj @ Value::Object(_) => vec![obj],
        _ => return Err(ApiError::BadRequest("POST statements takes a statement object or an array of them".into())),
    };
    let ids = lrs.store_statements(&who, v, list, parts).await?;
    Ok(axum::Json(ids).into_response())
}

/// GET /xapi/statements: one statement by id, or a query page.
pub async fn get(
    State(lrs): State<Lrs>,
    Auth(who): Auth,
    XapiVersion(v): XapiVersion,
    q: QueryPairs,
    headers: HeaderMap,
) -> ApiResult<Response> {
    who.require(Access::ReadStatements)?;
    let params = lrs.parse_query(&q.0, v)?;
    let prefs = Lrs::languages(header_str(&headers, "accept-language"));
    let consistent = timestamp::format_timestamp(time::OffsetDateTime::now_utc());
    if params.statement_id.is_some() || params.voided_statement_id.is_some() {
        let Some((stmt, row)) = lrs.statement(&who, &params, &prefs).await? else {
            return Err(ApiError::Lrs(LrsError::NotFound("statement not found".into())));
        };
        let rows = std::slice::from_ref(&row);
        return respond(&lrs, stmt, rows, params.attachments, &consistent, Some(row.stored_us)).await;
    }
    let (stmts, rows, more) = lrs.query(&who, &params, &prefs).await?;
    let more_url = more.map(|c| more_link(&q.0, &c.encode()));
    let last_modified = rows.iter().map(|r| r.stored_us).max();
    respond(&lrs, statement_result(stmts, more_url), &rows, params.attachments, &consistent, last_modified).await
}

/// The `more` IRL: the same query with the cursor of the next page, relative to the server root.
fn more_link(params: &[(String, String)], cursor: &str) -> String {
    let mut pairs: Vec<(&str, &str)> =
        params.iter().filter(|(k, _)| k != "cursor").map(|(k, v)| (k.as_str(), v.as_str())).collect();
    pairs.push(("cursor", cursor));
    let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("/xapi/statements?{qs}")
}

async fn respond(
    lrs: &Lrs,
    json: Value,
    rows: &[StoredStatement],
    with_attachments: bool,
    consistent: &str,
    last_modified_us: Option<i64>,
) -> ApiResult<Response> {
    let mut resp = if with_attachments {
        let atts = lrs.attachments_for(rows).await?;
        multipart_response(&json, &atts)
    } else {
        axum::Json(json).into_response()
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(consistent) {
        h.insert("x-experience-api-consistent-through", v);
    }
    if let Some(us) = last_modified_us {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_micros(us.max(0) as u64);
        if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(t)) {
            h.insert(header::LAST_MODIFIED, v);
        }
    }
    Ok(resp)
}

fn multipart_response(json: &Value, atts: &[NewAttachment]) -> Response {
    let payloads: Vec<AttachmentPayload> = atts
        .iter()
        .map(|a| AttachmentPayload {
            sha2: a.sha2.clone(),
            content_type: a.content_type.clone(),
            body: Bytes::from(a.body.clone()),
        })
        .collect();
    let (ct, body) = attachments::build_response(Bytes::from(json.to_string()), &payloads);
    let mut resp = Response::new(Body::from(body));
    if let Ok(v) = HeaderValue::from_str(&ct) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    // Attachments are client bytes of any type, like documents.
    super::documents::bytes_not_a_page(resp.headers_mut());
    resp
}

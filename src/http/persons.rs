//! The persons API (`admin` scope): one learner behind several agent identifiers; merge and split;
//! export and erasure of everything stored about a person. Documented in `docs/openapi.yaml`.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiError, ApiResult};
use super::extract::{Admin, ApiJson, QueryPairs};
use crate::lms::persons::NewPerson;
use crate::lms::Lms;

async fn view(lms: &Lms, p: &crate::store::PersonRow) -> ApiResult<Response> {
    Ok(axum::Json(lms.person_json(p).await?).into_response())
}

/// GET /api/persons?search=&limit=
pub async fn list(State(lms): State<Lms>, _: Admin, q: QueryPairs) -> ApiResult<Response> {
    let limit = match q.get("limit") {
        Some(l) => l.parse::<i64>().map_err(|_| ApiError::BadRequest(format!("limit must be a number, got {l:?}")))?,
        None => 50,
    };
    let rows = lms.search_persons(q.get("search").unwrap_or(""), limit).await?;
    Ok(axum::Json(json!({"persons": lms.persons_json(&rows).await?})).into_response())
}

/// POST /api/persons
pub async fn create(State(lms): State<Lms>, _: Admin, ApiJson(req): ApiJson<NewPerson>) -> ApiResult<Response> {
    let p = lms.create_person(req).await?;
    Ok((StatusCode::CREATED, axum::Json(lms.person_json(&p).await?)).into_response())
}

/// GET /api/persons/{id}
pub async fn show(State(lms): State<Lms>, _: Admin, Path(id): Path<String>) -> ApiResult<Response> {
    view(&lms, &lms.person_row(&id).await?).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    name: Option<String>,
}

/// PATCH /api/persons/{id}: names the person (`null` clears the name).
pub async fn rename(
    State(lms): State<Lms>,
    _: Admin,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Rename>,
) -> ApiResult<Response> {
    view(&lms, &lms.rename_person(&id, req.name.as_deref()).await?).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Identifier {
    agent: Value,
}

/// POST /api/persons/{id}/identifiers: adds an identifier (moving it from its previous person).
pub async fn add_identifier(
    State(lms): State<Lms>,
    _: Admin,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Identifier>,
) -> ApiResult<Response> {
    view(&lms, &lms.add_identifier(&id, &req.agent).await?).await
}

/// DELETE /api/persons/{id}/identifiers?agent=JSON: splits it off into a new person, returned.
pub async fn split_identifier(
    State(lms): State<Lms>,
    _: Admin,
    Path(id): Path<String>,
    q: QueryPairs,
) -> ApiResult<Response> {
    let text = q.get("agent").ok_or_else(|| ApiError::BadRequest("parameter agent is required".into()))?;
    let agent: Value = serde_json::from_str(text)
        .map_err(|e| ApiError::BadRequest(format!("parameter agent is not valid JSON: {e}")))?;
    view(&lms, &lms.split_identifier(&id, &agent).await?).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Merge {
    person: String,
}

/// POST /api/persons/{id}/merge {"person": OTHER}: OTHER's identifiers join this person.
pub async fn merge(
    State(lms): State<Lms>,
    _: Admin,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<Merge>,
) -> ApiResult<Response> {
    view(&lms, &lms.merge_persons(&id, &req.person).await?).await
}

/// GET /api/persons/{id}/export: everything stored about the person, as one JSON document.
pub async fn export(State(lms): State<Lms>, _: Admin, Path(id): Path<String>) -> ApiResult<Response> {
    let doc = lms.export_person(&id).await?;
    let disposition = format!("attachment; filename=\"person-{}.json\"", id.replace(['"', '\\'], ""));
    Ok(([(header::CONTENT_DISPOSITION, disposition)], axum::Json(doc)).into_response())
}

/// DELETE /api/persons/{id}: erases the person.
pub async fn erase(State(lms): State<Lms>, Admin(who): Admin, Path(id): Path<String>) -> ApiResult<Response> {
    let by = format!("credential:{}", who.key);
    Ok(axum::Json(lms.erase_person(&id, &by).await?).into_response())
}

/// GET /api/persons/{id}/statements?verb=&activity=&since=…: the xAPI statement filters, with the
/// person (any of their identifiers, as actor or object; anywhere with `related_agents=true`) in
/// place of `agent`. Pages continue through `more` like the Statement resource's.
pub async fn statements(
    State(lms): State<Lms>,
    Admin(who): Admin,
    Path(id): Path<String>,
    q: QueryPairs,
) -> ApiResult<Response> {
    let p = lms.person_row(&id).await?;
    if q.0.iter().any(|(k, _)| matches!(k.as_str(), "agent" | "statementId" | "voidedStatementId")) {
        return Err(ApiError::BadRequest(
            "agent, statementId and voidedStatementId do not apply here: the person is the filter".into(),
        ));
    }
    let mut params = lms.parse_query(&q.0, crate::xapi::Version::V2_0_0)?;
    params.agents_any = p.identifiers.clone();
    let (stmts, _, more) = lms.query(&who, &params, &[]).await?;
    let more_url = more.map(|c| {
        let mut pairs: Vec<(&str, String)> =
            q.0.iter().filter(|(k, _)| k != "cursor").map(|(k, v)| (k.as_str(), v.clone())).collect();
        pairs.push(("cursor", c.encode()));
        format!("/api/persons/{id}/statements?{}", serde_urlencoded::to_string(&pairs).unwrap_or_default())
    });
    Ok(axum::Json(crate::lrs::statements::statement_result(stmts, more_url)).into_response())
}

/// POST /api/persons/{id}/sign-in-link: a single-use, short-lived link that signs the person in to
/// `/learn` (audited with the credential that asked).
pub async fn sign_in_link(State(lms): State<Lms>, Admin(who): Admin, Path(id): Path<String>) -> ApiResult<Response> {
    let learn = crate::learn::Learn::new(lms, Default::default());
    let link = learn.issue_sign_in_link(&id, &format!("credential:{}", who.key)).await?;
    Ok((StatusCode::CREATED, [(header::CACHE_CONTROL, "no-store")], axum::Json(link)).into_response())
}

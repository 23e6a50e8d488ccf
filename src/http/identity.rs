//! /xapi/activities and /xapi/agents: what the LRS knows of an activity (its canonical definition) or
//! an agent (a Person object combining what it has seen).

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::error::ApiResult;
use super::extract::{Auth, QueryPairs, XapiVersion};
use crate::lrs::auth::Access;
use crate::lrs::Lrs;

/// GET /xapi/activities?activityId=
pub async fn activity(
    State(lrs): State<Lrs>,
    Auth(who): Auth,
    XapiVersion(v): XapiVersion,
    q: QueryPairs,
) -> ApiResult<Response> {
    who.require(Access::ReadIdentity)?;
    Ok(axum::Json(lrs.activity(&q.0, v).await?).into_response())
}

/// GET /xapi/agents?agent=
pub async fn person(
    State(lrs): State<Lrs>,
    Auth(who): Auth,
    XapiVersion(v): XapiVersion,
    q: QueryPairs,
) -> ApiResult<Response> {
    who.require(Access::ReadIdentity)?;
    Ok(axum::Json(lrs.person(&who, &q.0, v).await?).into_response())
}

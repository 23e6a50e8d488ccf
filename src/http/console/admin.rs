//! Admin pages: xAPI credentials, console users and the audit log. Every handler checks the admin role
//! itself; the navigation only hides the links.

use askama::Template;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::{check_csrf, render, when, CsrfOnly, Frame, PageError, Pairs, Signed};
use crate::console::{Console, NewUser, Role, Viewer, MIN_PASSWORD_CHARS};
use crate::lrs::LrsError;

pub struct CredentialLine {
    key: String,
    name: String,
    scopes: String,
    created: String,
    active: bool,
}

pub struct Created {
    name: String,
    key: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "console/credentials.html")]
struct CredentialsPage {
    frame: Frame,
    rows: Vec<CredentialLine>,
    scopes: Vec<&'static str>,
    created: Option<Created>,
    error: Option<String>,
}

async fn credentials_page(
    console: &Console,
    v: &Viewer,
    status: StatusCode,
    created: Option<Created>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let rows = console
        .credentials()
        .await?
        .into_iter()
        .map(|c| CredentialLine {
            scopes: c.scopes.join(" "),
            created: when(c.created_us),
            active: c.revoked_us.is_none(),
            key: c.key,
            name: c.name,
        })
        .collect();
    let page = CredentialsPage {
        frame: Frame::of(v, "credentials"),
        rows,
        scopes: console.lms().known_scopes(),
        created,
        error,
    };
    Ok(render(status, &page))
}

/// GET /console/credentials (admin).
pub async fn credentials(State(console): State<Console>, Signed(v): Signed) -> Result<Response, PageError> {
    v.require(Role::Admin)?;
    credentials_page(&console, &v, StatusCode::OK, None, None).await
}

/// POST /console/credentials (admin): `name`, `scope` (repeated), `csrf`. The secret is shown once, in
/// this answer.
pub async fn create_credential(
    State(console): State<Console>,
    Signed(v): Signed,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let form = Pairs::parse(&body)?;
    check_csrf(&v, form.get("csrf"))?;
    v.require(Role::Admin)?;
    let scopes: Vec<String> = form.all("scope").map(str::to_string).collect();
    match console.create_credential(&v.login, form.get("name"), scopes).await {
        Ok(c) => {
            let created = Created { name: c.row.name.clone(), key: c.key, secret: c.secret };
            credentials_page(&console, &v, StatusCode::CREATED, Some(created), None).await
        }
        Err(e @ LrsError::BadRequest(_)) => {
            credentials_page(&console, &v, StatusCode::BAD_REQUEST, None, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /console/credentials/{key}/revoke (admin).
pub async fn revoke_credential(
    State(console): State<Console>,
    Signed(v): Signed,
    Path(key): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    v.require(Role::Admin)?;
    console.revoke_credential(&v.login, &key).await?;
    Ok(Redirect::to("/console/credentials").into_response())
}

pub struct UserLine {
    id: String,
    email: String,
    name: String,
    role: String,
    created: String,
    active: bool,
    /// "password", "single sign-on" or both.
    signs_in_with: &'static str,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    frame: Frame,
    rows: Vec<UserLine>,
    min_password: usize,
    /// Single sign-on is configured: a user may be added without a password.
    sso: bool,
    error: Option<String>,
    notice: Option<String>,
}

async fn users_page(
    console: &Console,
    v: &Viewer,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let rows = console
        .users()
        .await?
        .into_iter()
        .map(|u| UserLine {
            signs_in_with: match (u.password_hash.is_some(), u.sso_subject.is_some()) {
                (true, true) => "password, single sign-on",
                (true, false) => "password",
                (false, true) => "single sign-on",
                (false, false) => "single sign-on (not yet used)",
            },
            created: when(u.created_us),
            active: u.disabled_us.is_none(),
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
        })
        .collect();
    let sso = console.sso.is_some();
    let page = UsersPage { frame: Frame::of(v, "users"), rows, min_password: MIN_PASSWORD_CHARS, sso, error, notice };
    Ok(render(status, &page))
}

/// GET /console/users (admin).
pub async fn users(State(console): State<Console>, Signed(v): Signed) -> Result<Response, PageError> {
    v.require(Role::Admin)?;
    users_page(&console, &v, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
pub struct UserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

/// POST /console/users (admin): adds a user with a password, or (with single sign-on configured and
/// no password given) one who signs in only through the provider.
pub async fn add_user(
    State(console): State<Console>,
    Signed(v): Signed,
    Form(f): Form<UserForm>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    v.require(Role::Admin)?;
    let Some(role) = Role::parse(&f.role) else {
        let msg = format!("unknown role {:?}: admin, instructor or analyst", f.role);
        return users_page(&console, &v, StatusCode::BAD_REQUEST, None, Some(msg)).await;
    };
    let password = if f.password.is_empty() && console.sso.is_some() { None } else { Some(f.password) };
    let user = NewUser { email: f.email, name: f.name, role, password };
    match console.add_user(&v.login, user).await {
        Ok(u) => {
            users_page(&console, &v, StatusCode::CREATED, Some(format!("Added {} ({}).", u.email, u.role)), None).await
        }
        Err(e @ (LrsError::BadRequest(_) | LrsError::Conflict(_))) => {
            let status =
                if matches!(e, LrsError::Conflict(_)) { StatusCode::CONFLICT } else { StatusCode::BAD_REQUEST };
            users_page(&console, &v, status, None, Some(e.to_string())).await
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /console/users/{id}/disable (admin): the user's sessions end at once.
pub async fn disable_user(
    State(console): State<Console>,
    Signed(v): Signed,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    check_csrf(&v, &f.csrf)?;
    v.require(Role::Admin)?;
    if id == v.user_id {
        return users_page(&console, &v, StatusCode::BAD_REQUEST, None, Some("you cannot disable yourself".into()))
            .await;
    }
    console.disable_user(&v.login, &id).await?;
    Ok(Redirect::to("/console/users").into_response())
}

pub struct AuditLine {
    at: String,
    actor: String,
    action: String,
    target: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    frame: Frame,
    rows: Vec<AuditLine>,
    older: Option<String>,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    before: Option<i64>,
}

/// GET /console/audit (admin): newest first, 100 a page.
pub async fn audit(
    State(console): State<Console>,
    Signed(v): Signed,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    v.require(Role::Admin)?;
    const PAGE: i64 = 100;
    let entries = console.audit_log(q.before, PAGE).await?;
    let older = (entries.len() as i64 == PAGE)
        .then(|| entries.last().map(|a| format!("/console/audit?before={}", a.seq)))
        .flatten();
    let rows = entries
        .into_iter()
        .map(|a| AuditLine { at: when(a.at_us), actor: a.actor, action: a.action, target: a.target, detail: a.detail })
        .collect();
    Ok(render(StatusCode::OK, &AuditPage { frame: Frame::of(&v, "audit"), rows, older }))
}

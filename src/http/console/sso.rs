//! Single sign-on for the console: `GET /console/sso` sends the browser to the OpenID provider, and
//! the provider sends it back to `GET /console/sso/callback`. The protocol is [`crate::sso`]'s; the
//! mapping to a console user is [`Console::sign_in_sso`]'s.
//!
//! Both are GETs reached by a link: a form posting to `/console/sso` would be stopped by the pages'
//! `form-action 'self'` when it redirects to the provider.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::{cookie_value, error_page, render, session_cookie, SignInPage};
use crate::console::{Console, SignInError};
use crate::sso::{Callback, Purpose, SsoError, LOGIN_TTL};

/// The cookie tying a sign-in under way to its browser. `SameSite=Lax`: it must come back with the
/// provider's cross-site redirect, which a `Strict` cookie would not.
pub(crate) fn binding_cookie_name(purpose: Purpose, secure: bool) -> &'static str {
    match (purpose, secure) {
        (Purpose::Console, true) => "__Host-cairn_sso_console",
        (Purpose::Console, false) => "cairn_sso_console",
        (Purpose::Learn, true) => "__Host-cairn_sso_learn",
        (Purpose::Learn, false) => "cairn_sso_learn",
    }
}

/// `Set-Cookie` for the binding cookie (`value` None: clear it).
pub(crate) fn binding_cookie(purpose: Purpose, secure: bool, value: Option<&str>) -> Option<HeaderValue> {
    let name = binding_cookie_name(purpose, secure);
    let flag = if secure { "; Secure" } else { "" };
    let (v, age) = match value {
        Some(v) => (v, LOGIN_TTL.as_secs()),
        None => ("", 0),
    };
    HeaderValue::from_str(&format!("{name}={v}; Path=/; HttpOnly; SameSite=Lax; Max-Age={age}{flag}")).ok()
}

/// What a page says of a refused or failed single sign-on (console and learner pages alike): 400 for
/// a callback that is not ours to take, 502 when the provider failed.
pub(crate) fn sso_failure(e: SsoError) -> (StatusCode, String) {
    match e {
        SsoError::Refused(m) => (StatusCode::BAD_REQUEST, format!("Single sign-on failed: {m}.")),
        SsoError::Provider(m) => {
            // The details (URLs, TLS and token errors) go to the log, not to whoever is signing in.
            tracing::warn!(error = %m, "single sign-on: the provider failed");
            let msg = "Single sign-on failed: the sign-in provider could not be reached or gave an answer \
                       that could not be verified. Try again later; the server's log has the details.";
            (StatusCode::BAD_GATEWAY, msg.to_string())
        }
        SsoError::Store(e) => crate::http::error::for_people(crate::lrs::LrsError::from(e)),
    }
}

fn sso_error_page(e: SsoError) -> Response {
    let (status, message) = sso_failure(e);
    error_page(status, &message)
}

/// GET /console/sso (anyone): begins a sign-in at the provider.
pub async fn begin(State(console): State<Console>) -> Response {
    let Some(sso) = &console.sso else {
        return error_page(StatusCode::NOT_FOUND, "Single sign-on is not configured on this server.");
    };
    match sso.begin(Purpose::Console).await {
        Ok(b) => {
            let mut resp = Redirect::to(&b.authorize_url).into_response();
            if let Some(c) = binding_cookie(Purpose::Console, console.config.secure_cookies, Some(&b.browser_token)) {
                resp.headers_mut().append(header::SET_COOKIE, c);
            }
            resp
        }
        Err(e) => sso_error_page(e),
    }
}

#[derive(Template)]
#[template(path = "console/sso_done.html")]
pub(crate) struct SsoDone {
    pub who: String,
    pub next: &'static str,
}

/// GET /console/sso/callback (the provider's redirect): finishes the sign-in.
pub async fn callback(State(console): State<Console>, headers: HeaderMap, Query(cb): Query<Callback>) -> Response {
    let Some(sso) = &console.sso else {
        return error_page(StatusCode::NOT_FOUND, "Single sign-on is not configured on this server.");
    };
    let secure = console.config.secure_cookies;
    let binding = cookie_value(&headers, binding_cookie_name(Purpose::Console, secure));
    let mut resp = match sso.finish(Purpose::Console, binding.as_deref(), &cb).await {
        Err(e) => sso_error_page(e),
        Ok(identity) => match console.sign_in_sso(&identity).await {
            Ok(token) => {
                let who = identity.email.clone().unwrap_or_else(|| identity.subject.clone());
                let mut resp = render(StatusCode::OK, &SsoDone { who, next: "/console" });
                if let Some(c) = session_cookie(&console, &token) {
                    resp.headers_mut().append(header::SET_COOKIE, c);
                }
                resp
            }
            Err(SignInError::Other(e)) => super::PageError(e).into_response(),
            Err(e) => {
                let status = match e {
                    SignInError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
                    _ => StatusCode::FORBIDDEN,
                };
                let sso_label = Some(sso.config().label.clone());
                render(status, &SignInPage { error: Some(e.to_string()), login: String::new(), sso_label })
            }
        },
    };
    if let Some(c) = binding_cookie(Purpose::Console, secure, None) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

//! Single sign-on against a real OpenID provider: the npm package `oidc-provider` (installed by
//! `scripts/test.sh` with the stock clients, tests/clients/package-lock.json), started on a loopback
//! port for each test by tests/clients/oidc_provider.mjs. Its development login page takes any
//! login and password; the login is the account's `sub`, whose claims the test gives.
//!
//! Here: what the server does with callbacks that are not its own to take (over HTTP). The sign-ins
//! themselves run in Chromium (tests/api/browser.rs, `console_single_sign_on_in_a_browser`).

use std::process::Stdio;

use reqwest::redirect::Policy;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::both;
use crate::support::TestApp;

pub const CLIENT_ID: &str = "cairn-tests";
pub const CLIENT_SECRET: &str = "a-client-secret-for-tests-only";

/// A running provider; stopped when dropped.
pub struct Provider {
    pub issuer: String,
    _child: tokio::process::Child,
    _stdin: tokio::process::ChildStdin,
}

impl Provider {
    /// Starts the provider with one confidential client (redirect URIs of the test app's public name)
    /// and these accounts (`sub` → claims). None, after a loud message, when node or the npm package
    /// is missing; a failure when the suite requires its interop tools (`CAIRN_REQUIRE_CLIENTS=1`).
    pub async fn start(accounts: Value) -> Option<Provider> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
        if !dir.join("node_modules/oidc-provider").exists() {
            let why = "tests/clients/node_modules/oidc-provider is missing (scripts/test.sh runs npm ci --prefix tests/clients)";
            if std::env::var("CAIRN_REQUIRE_CLIENTS").as_deref() == Ok("1") {
                panic!("the OpenID provider is required (CAIRN_REQUIRE_CLIENTS=1): {why}");
            }
            eprintln!("!!! SKIPPED single sign-on test: {why}");
            return None;
        }
        let mut child = tokio::process::Command::new("node")
            .arg(dir.join("oidc_provider.mjs"))
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("starting node tests/clients/oidc_provider.mjs");
        let mut stdin = child.stdin.take().expect("stdin");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first: Value =
            serde_json::from_str(&lines.next_line().await.expect("read").expect("the provider's issuer line"))
                .expect("issuer JSON");
        let issuer = first["issuer"].as_str().expect("issuer").to_string();
        let setup = json!({
            "clients": [{
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": ["http://cairn.test/console/sso/callback", "http://cairn.test/learn/sso/callback"],
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            }],
            "accounts": accounts,
        });
        stdin.write_all(format!("{setup}\n").as_bytes()).await.expect("configure the provider");
        stdin.flush().await.expect("flush");
        let ready = lines.next_line().await.expect("read").expect("the provider's ready line");
        assert!(ready.contains("ready"), "the provider did not start: {ready}");
        // The rest of its output is not read; keep the pipe drained so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Some(Provider { issuer, _child: child, _stdin: stdin })
    }

    /// Cairn's settings for this provider.
    pub fn config(&self) -> cairn::sso::SsoConfig {
        cairn::sso::SsoConfig {
            issuer: self.issuer.clone(),
            client_id: CLIENT_ID.into(),
            client_secret: Some(CLIENT_SECRET.into()),
            scopes: vec!["email".into(), "profile".into(), "cairn".into()],
            role_claim: Some("cairn_role".into()),
            label: "Test Provider".into(),
        }
    }
}

/// A client that keeps redirects for the test to read.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().expect("client")
}

/// The `Set-Cookie` value (`name=value`) of `name` in an answer.
fn cookie(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap_or_default().to_string())
}

/// A sign-in begun at Cairn: the provider's authorization URL and the browser-binding cookie.
async fn begin(app: &TestApp) -> (url_query::Query, String) {
    let resp = no_redirects().get(format!("{}/console/sso", app.base)).send().await.expect("begin");
    assert_eq!(resp.status(), 303, "GET /console/sso redirects to the provider");
    let binding = cookie(&resp, "cairn_sso_console").expect("a binding cookie");
    let cookie_line =
        resp.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join("\n");
    assert!(cookie_line.contains("HttpOnly") && cookie_line.contains("SameSite=Lax"), "{cookie_line}");
    let location = resp.headers()["location"].to_str().expect("location").to_string();
    (url_query::parse(&location), binding)
}

/// A few lines of query parsing, enough for the authorization URL.
mod url_query {
    pub struct Query {
        pub url: String,
        pairs: Vec<(String, String)>,
    }
    impl Query {
        pub fn get(&self, name: &str) -> &str {
            self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default()
        }
    }
    pub fn parse(url: &str) -> Query {
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
        Query { url: url.to_string(), pairs: serde_urlencoded::from_str(query).expect("query") }
    }
}

async fn callback(app: &TestApp, binding: Option<&str>, query: &str) -> (u16, String) {
    let mut r = no_redirects().get(format!("{}/console/sso/callback?{query}", app.base));
    if let Some(c) = binding {
        r = r.header("cookie", c);
    }
    let resp = r.send().await.expect("callback");
    let status = resp.status().as_u16();
    assert!(cookie(&resp, "cairn_console").is_none(), "no session from a refused callback");
    (status, resp.text().await.unwrap_or_default())
}

/// Callbacks that are not this server's to take sign nobody in and say why: no state, an unknown
/// state, a state begun in another browser (no or another binding cookie), a state used twice, and
/// a code the provider does not know (502: the provider refused the exchange). The authorization
/// request carries PKCE (S256), a nonce and the registered redirect URI. Without single sign-on
/// configured, both routes are 404.
async fn callbacks_that_are_not_ours_sign_nobody_in(app: TestApp) {
    for path in ["/console/sso", "/console/sso/callback?state=x&code=y"] {
        let resp = no_redirects().get(format!("{}{path}", app.base)).send().await.expect("get");
        assert_eq!(resp.status(), 404, "{path} without single sign-on configured");
    }
    let Some(provider) = Provider::start(json!({})).await else { return };
    // Another node on the same store, with single sign-on (the first must outlive it: it owns the store).
    let app = &app.with_sso(provider.config()).await;

    let (auth, binding) = begin(app).await;
    assert!(auth.url.starts_with(&format!("{}/auth?", provider.issuer)), "{}", auth.url);
    assert_eq!(auth.get("code_challenge_method"), "S256");
    assert!(auth.get("code_challenge").len() >= 43);
    assert!(!auth.get("nonce").is_empty());
    assert_eq!(auth.get("redirect_uri"), "http://cairn.test/console/sso/callback");
    assert_eq!(auth.get("client_id"), CLIENT_ID);
    assert!(auth.get("scope").split(' ').any(|s| s == "openid"));
    let state = auth.get("state").to_string();

    let (s, body) = callback(app, Some(&binding), "code=abc").await;
    assert_eq!(s, 400, "no state: {body}");
    assert!(body.contains("no usable state"), "{body}");
    let (s, body) = callback(app, Some(&binding), "state=not-a-state&code=abc").await;
    assert_eq!(s, 400);
    assert!(body.contains("unknown or was already used"), "{body}");

    // Another browser holding the callback URL (login CSRF): refused, and the state is spent.
    let (s, body) = callback(app, None, &format!("state={state}&code=abc")).await;
    assert_eq!(s, 400);
    assert!(body.contains("begun in another browser"), "{body}");
    let (s, body) = callback(app, Some(&binding), &format!("state={state}&code=abc")).await;
    assert_eq!(s, 400, "a state works once: {body}");

    let (auth, binding) = begin(app).await;
    let (_, other_binding) = begin(app).await;
    let (s, body) = callback(app, Some(&other_binding), &format!("state={}&code=abc", auth.get("state"))).await;
    assert_eq!(s, 400, "another sign-in's cookie: {body}");
    assert!(body.contains("begun in another browser"), "{body}");
    let _ = binding;

    // The provider's own refusal is shown; a code it never issued fails at the token request.
    let (auth, binding) = begin(app).await;
    let q = format!("state={}&error=access_denied&error_description=the+user+said+no", auth.get("state"));
    let (s, body) = callback(app, Some(&binding), &q).await;
    assert_eq!(s, 400);
    assert!(body.contains("access_denied") && body.contains("the user said no"), "{body}");
    let (auth, binding) = begin(app).await;
    let (s, body) = callback(app, Some(&binding), &format!("state={}&code=forged", auth.get("state"))).await;
    assert_eq!(s, 502, "{body}");
    assert!(
        body.contains("could not be verified") && !body.contains("invalid_grant"),
        "details stay in the log: {body}"
    );
    // Nothing was signed in or added.
    assert!(app.lms.store.console_users().await.expect("users").is_empty());
}
both!(callbacks_that_are_not_ours_sign_nobody_in);

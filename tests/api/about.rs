use reqwest::Method;

use crate::both;
use crate::support::TestApp;

/// GET /about answers without credentials or version header and lists both versions.
async fn about_lists_both_versions_without_auth(app: TestApp) {
    let r = app.client.get(format!("{}/xapi/about", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["version"], serde_json::json!(["1.0.3", "2.0.0"]));
}
both!(about_lists_both_versions_without_auth);

/// Requests without a version header are refused with 400, and still name a version.
async fn missing_version_header_is_400(app: TestApp) {
    let r = app
        .client
        .get(format!("{}/xapi/statements", app.base))
        .basic_auth("test-key", Some("test-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-experience-api-version"], "2.0.0");
    assert!(r.headers().contains_key("x-experience-api-consistent-through"));
}
both!(missing_version_header_is_400);

/// An unsupported version is a 400.
async fn unsupported_version_is_400(app: TestApp) {
    let mut app = app;
    app.version = "1.1.0";
    let r = app.req(Method::GET, "/xapi/statements").send().await.unwrap();
    assert_eq!(r.status(), 400);
}
both!(unsupported_version_is_400);

/// Wrong credentials are a 401 with WWW-Authenticate; no credentials too.
async fn bad_credentials_are_401(app: TestApp) {
    let r = app
        .client
        .get(format!("{}/xapi/statements", app.base))
        .basic_auth("test-key", Some("wrong"))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let r = app
        .client
        .get(format!("{}/xapi/statements", app.base))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
both!(bad_credentials_are_401);

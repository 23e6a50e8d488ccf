//! Stock xAPI clients, unchanged (issue 13, section 3): what PyPI `tincan`, xAPI.js and other
//! off-the-shelf clients send and expect, each rule on both backends.

use serde_json::{json, Value};

use crate::both;
use crate::support::TestApp;

async fn about_versions(app: &TestApp, version: Option<&str>) -> Value {
    let mut r = app.client.get(format!("{}/xapi/about", app.base));
    if let Some(v) = version {
        r = r.header("X-Experience-API-Version", v);
    }
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["version"].clone()
}

/// `/about` answers for the version the request names: a 1.0.x client (PyPI `tincan` raises on a
/// version it does not know) sees the 1.0 versions only, a 2.0 client and a request without the header both.
async fn about_lists_the_versions_of_the_request(app: TestApp) {
    for v in ["1.0.3", "1.0.0", "1.0"] {
        assert_eq!(about_versions(&app, Some(v)).await, json!(["1.0.3"]), "{v}");
    }
    assert_eq!(about_versions(&app, Some("2.0.0")).await, json!(["1.0.3", "2.0.0"]));
    assert_eq!(about_versions(&app, None).await, json!(["1.0.3", "2.0.0"]));
}
both!(about_lists_the_versions_of_the_request);

//! The xAPI 1.0.3 alternate request syntax (`POST ?method=…` with a form body carrying headers,
//! parameters and `content`), and its absence in xAPI 2.0, on both backends.

use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::support::{TestApp, KEY, SECRET};

const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

fn statement() -> Value {
    json!({"actor": {"objectType": "Agent", "mbox": "mailto:alternate@example.com"},
           "verb": {"id": "http://example.com/verbs/alternated"},
           "object": {"objectType": "Activity", "id": "http://example.com/activities/alternate"}})
}

fn form(fields: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(fields).expect("form")
}

fn basic() -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{SECRET}")))
}

/// A POST to `/xapi/statements{query}` with a form body and the test credential and version headers.
async fn post_form(app: &TestApp, query: &str, body: String) -> (u16, Value) {
    let r = app
        .req(Method::POST, &format!("/xapi/statements{query}"))
        .header("Content-Type", FORM)
        .body(body)
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// 1.0.3: `method=PUT` stores `content` under the form's statementId; `method=GET` queries with the
/// form's parameters; spaces may be encoded as `+` or `%20`.
async fn alternate_put_and_get(app: TestApp) {
    let id = uuid::Uuid::new_v4().to_string();
    let content = statement().to_string();
    let (status, body) = post_form(&app, "?method=PUT", form(&[("statementId", &id), ("content", &content)])).await;
    assert_eq!(status, 204, "{body}");
    let (status, got) = post_form(&app, "?method=GET", form(&[("statementId", &id)])).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["id"], json!(id));
    let (status, page) = post_form(&app, "?method=GET", form(&[("limit", "1")])).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["statements"].as_array().map(Vec::len), Some(1));
    assert!(page.get("more").is_some());
    // `%20` instead of `+` for the space in a display value.
    let mut spaced = statement();
    spaced["verb"]["display"] = json!({"en-US": "did it again"});
    let id2 = uuid::Uuid::new_v4().to_string();
    let body = form(&[("statementId", &id2), ("content", &spaced.to_string())]).replace('+', "%20");
    assert_eq!(post_form(&app, "?method=PUT", body).await.0, 204);
    let (_, got) = app.get_json(&format!("/xapi/statements?statementId={id2}")).await;
    assert_eq!(got["verb"]["display"]["en-US"], json!("did it again"));
}
both!(alternate_put_and_get);

/// 1.0.3: credentials and the version may travel only in the form (no request headers at all), and
/// form fields override the request's headers.
async fn alternate_headers_in_the_form(app: TestApp) {
    let id = uuid::Uuid::new_v4().to_string();
    let content = statement().to_string();
    let auth = basic();
    let body = form(&[
        ("statementId", &id),
        ("content", &content),
        ("X-Experience-API-Version", "1.0.3"),
        ("Authorization", &auth),
    ]);
    let r = app
        .client
        .post(format!("{}/xapi/statements?method=PUT", app.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["x-experience-api-version"], "1.0.3");
    let bad_version = form(&[("statementId", &id), ("content", &content), ("X-Experience-API-Version", "0.8")]);
    let (status, body) = post_form(&app, "?method=PUT", bad_version).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("0.8"), "{body}");
}
both!(alternate_headers_in_the_form);

/// 1.0.3 misuse is a 400 naming the problem: parameters in the query string besides `method`, no
/// form body, a JSON body, `method` on anything but POST.
async fn alternate_misuse_is_400(app: TestApp) {
    let id = uuid::Uuid::new_v4().to_string();
    let content = statement().to_string();
    let (status, body) =
        post_form(&app, &format!("?method=PUT&statementId={id}"), form(&[("content", &content)])).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("only the method parameter"), "{body}");
    let r = app.req(Method::POST, "/xapi/statements?method=PUT").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let (status, body) = post_form(&app, "?method=PUT", content.clone()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("content"), "{body}");
    let r = app
        .req(Method::PUT, "/xapi/statements?method=POST")
        .header("Content-Type", FORM)
        .body(form(&[("content", &content)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert!(v["error"]["message"].as_str().unwrap().contains("method"), "{v}");
    assert_eq!(app.statement_count().await, 0);
}
both!(alternate_misuse_is_400);

/// xAPI 2.0 removed the alternate syntax: any use of it is a 400, whether the version is a header or
/// a form field.
async fn no_alternate_syntax_in_2_0(app: TestApp) {
    let mut app = app;
    app.version = "2.0.0";
    let id = uuid::Uuid::new_v4().to_string();
    let content = statement().to_string();
    let (status, body) = post_form(&app, "?method=GET", form(&[("limit", "1")])).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("2.0"), "{body}");
    let auth = basic();
    let in_form = form(&[
        ("statementId", &id),
        ("content", &content),
        ("X-Experience-API-Version", "2.0.0"),
        ("Authorization", &auth),
    ]);
    let r = app
        .client
        .post(format!("{}/xapi/statements?method=PUT", app.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(in_form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = app.req(Method::GET, "/xapi/statements?method=GET").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(app.statement_count().await, 0);
}
both!(no_alternate_syntax_in_2_0);

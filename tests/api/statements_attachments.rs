//! Statements with attachments: `multipart/mixed` requests, signed statements and
//! `GET /statements?attachments=true`, each rule on both backends.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::both;
use crate::support::TestApp;

const BOUNDARY: &str = "-------314159265358979323846";
const SIGNATURE: &str = "http://adlnet.gov/expapi/attachments/signature";
const TEXT: &[u8] = b"here is a simple attachment";

fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn statement() -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "actor": {"objectType": "Agent", "mbox": "mailto:attach@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
        "object": {"objectType": "Activity", "id": "http://example.com/activities/attachments"}
    })
}

fn text_attachment(data: &[u8]) -> Value {
    json!({"usageType": "http://example.com/attachment-usage/test", "display": {"en-US": "A test attachment"},
           "contentType": "text/plain", "length": data.len(), "sha2": sha256(data)})
}

/// A part: its header lines and body.
struct Part<'a> {
    headers: Vec<String>,
    body: &'a [u8],
}

fn json_part(v: &Value) -> (Vec<String>, Vec<u8>) {
    (vec!["Content-Type: application/json".into()], v.to_string().into_bytes())
}

fn data_part(data: &[u8]) -> Part<'_> {
    Part {
        headers: vec![
            "Content-Type: text/plain".into(),
            "Content-Transfer-Encoding: binary".into(),
            format!("X-Experience-API-Hash: {}", sha256(data)),
        ],
        body: data,
    }
}

/// A hand-built `multipart/mixed` body, CRLF line breaks, closing delimiter without a trailing CRLF.
fn multipart(statements: &Value, parts: &[Part<'_>]) -> Vec<u8> {
    let (json_headers, json_body) = json_part(statements);
    let mut out = Vec::new();
    let mut add = |headers: &[String], body: &[u8]| {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        for h in headers {
            out.extend_from_slice(format!("{h}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    };
    add(&json_headers, &json_body);
    for p in parts {
        add(&p.headers, p.body);
    }
    out.extend_from_slice(format!("--{BOUNDARY}--").as_bytes());
    out
}

async fn post_raw(app: &TestApp, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let r = app
        .req(Method::POST, "/xapi/statements")
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn mixed() -> String {
    format!("multipart/mixed; boundary={BOUNDARY}")
}

/// A compact JWS over `payload` with only an `alg` header, as the ADL suite signs: there is no key in
/// the header, so the LRS checks structure, algorithm and payload, not the signature bytes.
fn jws(alg: &str, payload: &[u8]) -> String {
    let header = json!({"alg": alg}).to_string();
    format!("{}.{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(b"sig"))
}

/// The statement with its signature attachment, and the JWS part, ready to post.
fn signed(stmt: &Value, jws: &str, content_type: &str) -> (Value, Vec<String>) {
    let mut with_sig = stmt.clone();
    with_sig["attachments"] = json!([{"usageType": SIGNATURE, "display": {"en-US": "Signature"},
                                      "contentType": content_type, "length": jws.len(), "sha2": sha256(jws.as_bytes())}]);
    let headers = vec![
        format!("Content-Type: {content_type}"),
        "Content-Transfer-Encoding: binary".into(),
        format!("X-Experience-API-Hash: {}", sha256(jws.as_bytes())),
    ];
    (with_sig, headers)
}

async fn post_signed(app: &TestApp, stmt: &Value, jws: &str, content_type: &str) -> (u16, Value) {
    let (with_sig, headers) = signed(stmt, jws, content_type);
    let body = multipart(&with_sig, &[Part { headers, body: jws.as_bytes() }]);
    post_raw(app, &mixed(), body).await
}

/// A valid multipart/mixed request stores the statement and its attachment data; `attachments=true`
/// returns it as multipart/mixed with the boundary as first parameter and each sha2 exactly twice
/// (statement JSON and part header), which clients that split the body naively rely on.
async fn multipart_round_trip(app: TestApp) {
    let mut s = statement();
    s["attachments"] = json!([text_attachment(TEXT)]);
    let (status, ids) = post_raw(&app, &mixed(), multipart(&s, &[data_part(TEXT)])).await;
    assert_eq!(status, 200, "{ids}");
    let id = s["id"].as_str().unwrap();
    let r = app.req(Method::GET, &format!("/xapi/statements?statementId={id}&attachments=true")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    let boundary = ct.strip_prefix("multipart/mixed; boundary=").expect("boundary first, unquoted").to_string();
    assert!(boundary.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{boundary}");
    let body = r.text().await.unwrap();
    assert_eq!(body.matches(&sha256(TEXT)).count(), 2, "{body}");
    assert!(body.contains("here is a simple attachment"));
    // Without attachments=true the answer is plain JSON.
    let r = app.req(Method::GET, &format!("/xapi/statements?statementId={id}&attachments=false")).send().await.unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
}
both!(multipart_round_trip);

/// Each broken multipart request is a 400 naming the rule, and stores nothing.
async fn multipart_errors_are_400(app: TestApp) {
    let other: &[u8] = b"here is another simple attachment";
    let mut s = statement();
    s["attachments"] = json!([text_attachment(TEXT)]);
    let with_header = |mut p: Part<'static>, old: &str, new: Option<&str>| {
        p.headers.retain(|h| !h.starts_with(old));
        if let Some(n) = new {
            p.headers.push(n.to_string());
        }
        p
    };
    let cases: Vec<(&str, String, Vec<u8>, &str)> = vec![
        (
            "part matching no attachment",
            mixed(),
            multipart(&s, &[data_part(TEXT), data_part(other)]),
            "matches no attachment",
        ),
        ("attachment without its part", mixed(), multipart(&s, &[]), "no multipart/mixed part carries its data"),
        (
            "part without hash header",
            mixed(),
            multipart(&s, &[with_header(data_part(TEXT), "X-Experience-API-Hash", None)]),
            "X-Experience-API-Hash",
        ),
        (
            "hash header matching no sha2",
            mixed(),
            multipart(
                &s,
                &[with_header(
                    data_part(TEXT),
                    "X-Experience-API-Hash",
                    Some(&format!("X-Experience-API-Hash: {}", sha256(other))),
                )],
            ),
            "hashes to",
        ),
        (
            "base64 transfer encoding",
            mixed(),
            multipart(
                &s,
                &[with_header(data_part(TEXT), "Content-Transfer-Encoding", Some("Content-Transfer-Encoding: base64"))],
            ),
            "binary",
        ),
        ("no boundary parameter", "multipart/mixed;".into(), multipart(&s, &[data_part(TEXT)]), "boundary"),
        (
            "multipart/form-data",
            format!("multipart/form-data; boundary={BOUNDARY}"),
            multipart(&s, &[data_part(TEXT)]),
            "Content-Type",
        ),
        (
            "no delimiter before the statements part",
            mixed(),
            multipart(&s, &[data_part(TEXT)]).split_off(format!("--{BOUNDARY}\r\n").len()),
            "application/json",
        ),
    ];
    for (what, ct, body, msg) in cases {
        let (status, err) = post_raw(&app, &ct, body).await;
        assert_eq!(status, 400, "{what}: {err}");
        let text = err["error"]["message"].as_str().unwrap_or_default();
        assert!(text.contains(msg), "{what}: {text}");
    }
    // The first part must be the statements as application/json, and only the first part.
    let mut body = format!("--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\n{s}\r\n").into_bytes();
    body.extend_from_slice(format!("--{BOUNDARY}--").as_bytes());
    let (status, _) = post_raw(&app, &mixed(), body).await;
    assert_eq!(status, 400, "first part text/plain");
    let again = Part { headers: vec!["Content-Type: application/json".into()], body: b"{}" };
    let (status, _) = post_raw(&app, &mixed(), multipart(&s, &[data_part(TEXT), again])).await;
    assert_eq!(status, 400, "a second application/json part");
    assert_eq!(app.statement_count().await, 0);
}
both!(multipart_errors_are_400);

/// xAPI 2.0: a multipart request may consist of the statements part alone (attachments by fileUrl,
/// or none at all); plain JSON with fileUrl attachments is fine in both versions.
async fn multipart_with_only_the_statements_part(app: TestApp) {
    let mut app = app;
    app.version = "2.0.0";
    let mut s = statement();
    let mut by_url = text_attachment(TEXT);
    by_url["fileUrl"] = json!("http://example.com/files/simple.txt");
    s["attachments"] = json!([by_url]);
    let (status, body) = post_raw(&app, &mixed(), multipart(&s, &[])).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post_raw(&app, &mixed(), multipart(&statement(), &[])).await;
    assert_eq!(status, 200, "{body}");
    let mut s = statement();
    s["attachments"] = json!([by_url]);
    let (status, body) = app.post_statements(&s).await;
    assert_eq!(status, 200, "{body}");
}
both!(multipart_with_only_the_statements_part);

/// Signed statements: RS256/384/512 are accepted; HS256, a signature attachment that is not
/// application/octet-stream, and a payload that is not JSON or not this statement are 400.
async fn signed_statements(app: TestApp) {
    for alg in ["RS256", "RS384", "RS512"] {
        let s = statement();
        let (status, body) =
            post_signed(&app, &s, &jws(alg, s.to_string().as_bytes()), "application/octet-stream").await;
        assert_eq!(status, 200, "{alg}: {body}");
    }
    let s = statement();
    let (status, body) =
        post_signed(&app, &s, &jws("HS256", s.to_string().as_bytes()), "application/octet-stream").await;
    assert_eq!(status, 400, "HS256: {body}");
    let (status, _) = post_signed(&app, &s, &jws("RS256", s.to_string().as_bytes()), "text/plain; charset=ascii").await;
    assert_eq!(status, 400, "text/plain signature");
    let broken = s.to_string().replacen('"', "'", 1);
    let (status, body) = post_signed(&app, &s, &jws("RS256", broken.as_bytes()), "application/octet-stream").await;
    assert_eq!(status, 400, "payload not JSON: {body}");
    let mut other = s.clone();
    other["verb"]["id"] = json!("http://adlnet.gov/expapi/verbs/failed");
    let (status, body) =
        post_signed(&app, &s, &jws("RS256", other.to_string().as_bytes()), "application/octet-stream").await;
    assert_eq!(status, 400, "payload of another statement: {body}");
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("verb.id"), "{body}");
}
both!(signed_statements);

/// xAPI 2.0 section 4.2.7: duration precision beyond 0.01 s is not part of a comparison, so a
/// statement whose `result.duration` has more digits than the signed payload's still matches it.
/// The stored duration is the one sent (the spec allows, but does not require, truncating it).
async fn signed_statement_duration_compared_to_hundredths(app: TestApp) {
    let mut app = app;
    app.version = "2.0.0";
    let mut s = statement();
    s["result"] = json!({"duration": "P1DT12H36M0.12S"});
    let token = jws("RS256", s.to_string().as_bytes());
    s["result"]["duration"] = json!("P1DT12H36M0.1237S");
    let (status, body) = post_signed(&app, &s, &token, "application/octet-stream").await;
    assert_eq!(status, 200, "{body}");
    let (_, got) = app.get_json(&format!("/xapi/statements?statementId={}", s["id"].as_str().unwrap())).await;
    assert_eq!(got["result"]["duration"], json!("P1DT12H36M0.1237S"));
    // A difference at the hundredths is a different statement.
    let mut s = statement();
    s["result"] = json!({"duration": "P1DT12H36M0.12S"});
    let token = jws("RS256", s.to_string().as_bytes());
    s["result"]["duration"] = json!("P1DT12H36M0.13S");
    let (status, body) = post_signed(&app, &s, &token, "application/octet-stream").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("result.duration"), "{body}");
}
both!(signed_statement_duration_compared_to_hundredths);

/// Hand-built bodies vary: a CRLF before the first delimiter, headers without a space after the
/// colon, a quoted boundary, a trailing CRLF after the close delimiter. A part may also carry the data
/// of an attachment that has a fileUrl, and then that data is what `attachments=true` returns. A
/// batch whose statements share one attachment needs its data only once.
async fn multipart_variants(app: TestApp) {
    let mut s = statement();
    let mut both_ways = text_attachment(TEXT);
    both_ways["fileUrl"] = json!("http://example.com/files/simple.txt");
    s["attachments"] = json!([both_ways]);
    let mut body = format!("\r\n--{BOUNDARY}\r\nContent-Type:application/json\r\n\r\n{s}\r\n").into_bytes();
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Type:text/plain\r\nContent-Transfer-Encoding:binary\r\nX-Experience-API-Hash:{}\r\n\r\n",
            sha256(TEXT)
        )
        .as_bytes(),
    );
    body.extend_from_slice(TEXT);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let (status, ids) = post_raw(&app, &format!("multipart/mixed; boundary=\"{BOUNDARY}\""), body).await;
    assert_eq!(status, 200, "{ids}");
    let id = s["id"].as_str().unwrap();
    let r = app.req(Method::GET, &format!("/xapi/statements?statementId={id}&attachments=true")).send().await.unwrap();
    let text = r.text().await.unwrap();
    assert!(text.contains("here is a simple attachment"), "{text}");

    let other: &[u8] = b"shared by a batch";
    let batch: Vec<Value> = (0..2)
        .map(|_| {
            let mut s = statement();
            s["verb"]["id"] = json!("http://example.com/verbs/shared");
            s["attachments"] = json!([text_attachment(other)]);
            s
        })
        .collect();
    let (status, ids) = post_raw(&app, &mixed(), multipart(&json!(batch), &[data_part(other)])).await;
    assert_eq!(status, 200, "{ids}");
    assert_eq!(ids.as_array().map(Vec::len), Some(2));
    let r = app
        .req(Method::GET, "/xapi/statements?verb=http://example.com/verbs/shared&attachments=true")
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("multipart/mixed; boundary="));
    let text = r.text().await.unwrap();
    assert_eq!(text.matches("shared by a batch").count(), 1, "one part per distinct sha2");
    assert_eq!(text.matches(&sha256(other)).count(), 3, "two statements and one part header");
}
both!(multipart_variants);

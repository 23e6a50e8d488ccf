//! Input bounds (issue 11): statement size and shape, duplicate keys, IRI lengths, query pages in
//! bytes, zip bombs and leftovers of interrupted imports. Each refusal is a 4xx naming the limit
//! and changes nothing. Each test runs on both backends.

use cairn::lrs::LrsConfig;
use cairn::xapi::json::JsonLimits;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::TestApp;
use crate::{both, both_configured};

fn stmt(activity: &str) -> Value {
    json!({
        "actor": {"objectType": "Agent", "mbox": "mailto:ann@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"objectType": "Activity", "id": activity}
    })
}

/// A statement carrying `ext` as a result extension value.
fn stmt_with(ext: Value) -> Value {
    let mut s = stmt("http://example.com/a");
    s["result"] = json!({"extensions": {"http://example.com/ext": ext}});
    s
}

/// Small limits so that tests stay within the harness's 1 MiB body limit.
fn small_json_limits(c: &mut LrsConfig) {
    c.json_limits = JsonLimits { max_value_bytes: 4096, max_elements: 200, max_depth: 16, max_request_elements: 1000 };
}

async fn post_raw(app: &TestApp, body: String) -> (u16, String) {
    let r = app
        .req(Method::POST, "/xapi/statements")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("send");
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

/// A statement over `max_statement_bytes` is 413 naming its index in the batch and the limit, and
/// the batch stores nothing.
async fn statement_over_the_byte_limit_is_413_naming_its_index(app: TestApp) {
    let batch = json!([stmt("http://example.com/a"), stmt_with(json!("x".repeat(5000)))]);
    let (status, body) = post_raw(&app, batch.to_string()).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("statement[1]") && body.contains("4096"), "{body}");
    assert_eq!(app.statement_count().await, 0);
    // Single statements and PUT too.
    let (status, body) = post_raw(&app, stmt_with(json!("x".repeat(5000))).to_string()).await;
    assert_eq!(status, 413, "{body}");
    let r = app
        .req(Method::PUT, "/xapi/statements?statementId=5a0a1c1e-2b3d-4c5e-8f70-819a2b3c4d5e")
        .json(&stmt_with(json!("x".repeat(5000))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(app.statement_count().await, 0);
}
both_configured!(statement_over_the_byte_limit_is_413_naming_its_index, small_json_limits);

/// Too many JSON values in one statement, or in one request, is 400 naming the limit; so is nesting
/// deeper than the depth limit. Nothing is stored.
async fn statement_json_elements_and_depth_are_bounded(app: TestApp) {
    let (status, body) =
        post_raw(&app, json!([stmt("http://example.com/a"), stmt_with(json!(vec![0; 300]))]).to_string()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("statement[1]") && body.contains("200 JSON values"), "{body}");
    let many: Vec<Value> = (0..20).map(|_| stmt_with(json!(vec![0; 60]))).collect();
    let (status, body) = post_raw(&app, Value::Array(many).to_string()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("1000 JSON values allowed in one request"), "{body}");
    let mut deep = json!(1);
    for _ in 0..20 {
        deep = json!([deep]);
    }
    let (status, body) = post_raw(&app, stmt_with(deep).to_string()).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("deeper than the 16 levels"), "{body}");
    assert_eq!(app.statement_count().await, 0);
}
both_configured!(statement_json_elements_and_depth_are_bounded, small_json_limits);

/// The statements part of a multipart/mixed request is bounded like a JSON body.
async fn multipart_statement_part_is_bounded(app: TestApp) {
    let s = stmt_with(json!("x".repeat(5000)));
    let body =
        format!("--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b--\r\n", serde_json::to_string(&s).unwrap());
    let r = app
        .req(Method::POST, "/xapi/statements")
        .header("content-type", "multipart/mixed; boundary=b")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("4096"));
    assert_eq!(app.statement_count().await, 0);
}
both_configured!(multipart_statement_part_is_bounded, small_json_limits);

/// Duplicate keys are refused (not "last wins") in statements and JSON documents, naming the key.
async fn duplicate_json_keys_are_refused(app: TestApp) {
    let body = r#"{"actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://e.com/v"},
        "object": {"id": "http://e.com/a", "id": "http://e.com/b"}}"#;
    let (status, text) = post_raw(&app, body.into()).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("statement.object has the key \\\"id\\\" more than once"), "{text}");
    assert_eq!(app.statement_count().await, 0);

    let agent = r#"{"mbox":"mailto:a@example.com"}"#;
    let path = format!("/xapi/activities/state?activityId=http://e.com/a&stateId=s&agent={}", percent_encode(agent));
    for method in [Method::PUT, Method::POST] {
        let r = app
            .req(method.clone(), &path)
            .header("content-type", "application/json")
            .body(r#"{"a": 1, "a": 2}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{method}");
        assert!(r.text().await.unwrap().contains("the key \\\"a\\\" more than once"));
    }
    let (status, _) = app.get_json(&path).await;
    assert_eq!(status, 404, "nothing was stored");
}
both!(duplicate_json_keys_are_refused);

/// A JSON document that a POST merges is bounded like a statement; a PUT may store a larger one,
/// and a merge onto it is then refused rather than parsed.
async fn merged_documents_are_bounded(app: TestApp) {
    let agent = r#"{"mbox":"mailto:a@example.com"}"#;
    let path = format!("/xapi/activities/state?activityId=http://e.com/a&stateId=s&agent={}", percent_encode(agent));
    let big = json!({"list": vec![0; 300]}).to_string();
    let send = |method: Method, body: String| {
        app.req(method, &path).header("content-type", "application/json").body(body).send()
    };
    let r = send(Method::POST, big.clone()).await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("200 JSON values"));
    assert_eq!(send(Method::PUT, big).await.unwrap().status(), 204);
    let r = send(Method::POST, r#"{"b": 1}"#.into()).await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("replace it with PUT"));
}
both_configured!(merged_documents_are_bounded, small_json_limits);

/// A string of `n` bytes that does not compress (index entries of PostgreSQL are compressed, so a
/// repeated character would hide a too-long key).
fn noise(n: usize) -> String {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (b'a' + (x % 26) as u8) as char
        })
        .collect()
}

/// IRIs longer than 1,024 bytes and account names longer than 256 are 400 naming the field, and
/// the message does not echo the whole value; the longest allowed ones are stored on both backends.
async fn long_iris_and_ids_are_refused_naming_the_field(app: TestApp) {
    let long_iri = format!("http://example.com/{}", noise(1100));
    let cases: Vec<(Value, &str)> = vec![
        (stmt(&long_iri), "statement.object.id"),
        (
            {
                let mut s = stmt("http://e.com/a");
                s["verb"]["id"] = json!(long_iri);
                s
            },
            "statement.verb.id",
        ),
        (
            {
                let mut s = stmt("http://e.com/a");
                s["actor"] = json!({"openid": long_iri});
                s
            },
            "statement.actor.openid",
        ),
        (
            {
                let mut s = stmt("http://e.com/a");
                s["actor"] = json!({"mbox": format!("mailto:{}@example.com", noise(1100))});
                s
            },
            "statement.actor.mbox",
        ),
        (
            {
                let mut s = stmt("http://e.com/a");
                s["actor"] = json!({"account": {"homePage": "http://e.com", "name": noise(300)}});
                s
            },
            "statement.actor.account.name",
        ),
        (
            {
                let mut s = stmt("http://e.com/a");
                s["context"] = json!({"extensions": {long_iri.clone(): 1}});
                s
            },
            "statement.context.extensions",
        ),
    ];
    for (s, field) in cases {
        let (status, body) = app.post_statements(&s).await;
        assert_eq!(status, 400, "{field}: {body}");
        let msg = body["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.contains(field) && msg.contains("bytes, longer than"), "{field}: {msg}");
        assert!(msg.len() < 600, "the message echoes the value: {}", msg.len());
    }
    assert_eq!(app.statement_count().await, 0);
    // The longest allowed ones work, on PostgreSQL's index too.
    let iri = format!("http://example.com/{}", noise(1024 - 19));
    let home = format!("http://e.com/{}", noise(1024 - 13));
    let mut s = stmt(&iri);
    let agent = json!({"account": {"homePage": home, "name": noise(256)}});
    s["actor"] = agent.clone();
    s["verb"]["id"] = json!(iri);
    s["context"] = json!({"registration": "6a1f0c1e-2b3d-4c5e-8f70-819a2b3c4d5e"});
    let (status, body) = app.post_statements(&s).await;
    assert_eq!(status, 200, "{body}");
    let path = |state_id: &str| {
        format!(
            "/xapi/activities/state?activityId={}&agent={}&registration=6a1f0c1e-2b3d-4c5e-8f70-819a2b3c4d5e&stateId={state_id}",
            percent_encode(&iri),
            percent_encode(&agent.to_string()),
        )
    };
    let r = app
        .req(Method::PUT, &path(&noise(256)))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // Document ids and activityId parameters are bounded too.
    let r = app.req(Method::PUT, &path(&"s".repeat(257))).body("x").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("parameter stateId is 257 bytes"));
}
both!(long_iris_and_ids_are_refused_naming_the_field);

fn small_pages(c: &mut LrsConfig) {
    c.page_bytes = 20_000;
}

/// Query pages stop before the statement that would pass `page_bytes`; `more` carries the rest, the
/// pages together hold every statement once, and a statement larger than the cap still comes alone.
async fn query_pages_are_capped_in_bytes(app: TestApp) {
    let mut sent = Vec::new();
    for i in 0..30 {
        let mut s = stmt_with(json!(format!("{i}-{}", "y".repeat(3000))));
        s["id"] = json!(uuid::Uuid::new_v4().to_string());
        sent.push(s["id"].as_str().unwrap().to_string());
        assert_eq!(app.post_statements(&s).await.0, 200);
    }
    // One statement larger than the page on its own.
    let mut s = stmt_with(json!("z".repeat(30_000)));
    s["id"] = json!(uuid::Uuid::new_v4().to_string());
    sent.push(s["id"].as_str().unwrap().to_string());
    assert_eq!(app.post_statements(&s).await.0, 200);

    for format in ["exact", "canonical"] {
        let mut got = Vec::new();
        let mut path = format!("/xapi/statements?ascending=true&format={format}");
        let mut pages = 0;
        loop {
            let r = app.req(Method::GET, &path).send().await.unwrap();
            assert_eq!(r.status(), 200);
            let text = r.text().await.unwrap();
            let page: Value = serde_json::from_str(&text).unwrap();
            let stmts = page["statements"].as_array().unwrap();
            let bytes: usize = stmts.iter().map(|s| s.to_string().len()).sum();
            assert!(stmts.len() == 1 || bytes <= 20_000, "page of {} statements has {bytes} bytes", stmts.len());
            got.extend(stmts.iter().map(|s| s["id"].as_str().unwrap().to_string()));
            pages += 1;
            match page["more"].as_str() {
                Some(m) if !m.is_empty() => path = m.to_string(),
                _ => break,
            }
            assert!(pages < 40, "paging does not end");
        }
        assert_eq!(got, sent, "{format}");
        assert!(pages >= 5, "{format}: {pages} pages");
    }
}
both_configured!(query_pages_are_capped_in_bytes, small_pages);

fn percent_encode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// A zip bomb that passes every size limit is refused by its compression ratio (400 naming the
/// entry), and leaves no course and no files behind.
async fn zip_bombs_are_refused_by_compression_ratio(app: TestApp) {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let manifest = std::fs::read(fixture_dir("scorm12-single").join("imsmanifest.xml")).unwrap();
        z.start_file("imsmanifest.xml", opts).unwrap();
        z.write_all(&manifest).unwrap();
        z.start_file("bomb.bin", opts).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            z.write_all(&zeros).unwrap();
        }
        z.finish().unwrap();
    }
    let body = buf.into_inner();
    assert!(body.len() < 200_000, "the bomb is small: {}", body.len());
    let r = app.req(Method::POST, "/api/courses").header("content-type", "application/zip").body(body).send();
    let r = r.await.unwrap();
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    assert!(text.contains("bomb.bin") && text.contains("compression ratio"), "{text}");
    let (_, courses) = app.get_json("/api/courses").await;
    assert_eq!(courses, json!([]));
    let left: Vec<_> = std::fs::read_dir(app.lms.content_dir()).unwrap().flatten().collect();
    assert!(left.is_empty(), "{left:?}");
}
both!(zip_bombs_are_refused_by_compression_ratio);

fn fixture_dir(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/packages").join(name)
}

/// Sets a file's or folder's modification time `secs` seconds into the past.
fn age(path: &std::path::Path, secs: u64) {
    let t = std::time::SystemTime::now() - std::time::Duration::from_secs(secs);
    std::fs::File::open(path).unwrap().set_modified(t).unwrap();
}

/// `.incoming-*` folders and `.upload-*` files of interrupted imports are removed before an import
/// once older than an hour; younger ones (a live import, maybe on another node) are left alone.
async fn stale_import_leftovers_are_removed_before_an_import(app: TestApp) {
    let dir = app.lms.content_dir().to_path_buf();
    std::fs::create_dir_all(dir.join(".incoming-old/sub")).unwrap();
    std::fs::write(dir.join(".incoming-old/sub/index.html"), "x").unwrap();
    std::fs::write(dir.join(".upload-old.zip"), "x").unwrap();
    std::fs::create_dir_all(dir.join(".incoming-live")).unwrap();
    std::fs::write(dir.join(".upload-live.zip"), "x").unwrap();
    std::fs::write(dir.join(".keep-me"), "x").unwrap();
    age(&dir.join(".incoming-old"), 7200);
    age(&dir.join(".upload-old.zip"), 7200);
    age(&dir.join(".keep-me"), 7200);
    age(&dir.join(".upload-live.zip"), 600);

    let zip = crate::courses::zip_folder(&fixture_dir("scorm12-single"));
    let r = app.req(Method::POST, "/api/courses").header("content-type", "application/zip").body(zip).send();
    assert_eq!(r.await.unwrap().status(), 201);
    for gone in [".incoming-old", ".upload-old.zip"] {
        assert!(!dir.join(gone).exists(), "{gone} was left");
    }
    for kept in [".incoming-live", ".upload-live.zip", ".keep-me"] {
        assert!(dir.join(kept).exists(), "{kept} was removed");
    }
    // The same sweep runs when the server starts.
    age(&dir.join(".incoming-live"), 7200);
    assert_eq!(cairn::lms::courses::remove_stale_imports(&dir, cairn::lms::courses::STALE_IMPORT_AGE), 1);
}
both!(stale_import_leftovers_are_removed_before_an_import);

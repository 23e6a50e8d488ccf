//! The HTTP edge of the API origin (issue 11, trust boundaries): connection handling (slow-loris,
//! stalled bodies, the connection cap), size limits answered in JSON, security headers, cross-site
//! protection of `/api`, CORS without credentials, no Basic challenge to browsers, and limits on
//! failed authentication. Each test runs on both backends, through the real connection handling.

use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use cairn::http::server::ServerConfig;

use crate::both;
use crate::support::{TestApp, KEY, SECRET};

/// Short timeouts, so refusals show within a test's patience.
fn short(max_connections: usize) -> ServerConfig {
    ServerConfig {
        header_timeout: Duration::from_secs(1),
        body_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(1),
        max_connections,
        shutdown_timeout: Duration::from_secs(1),
    }
}

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_string()
}

fn basic() -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{SECRET}")))
}

/// A raw connection that has sent `bytes`.
async fn raw(app: &TestApp, bytes: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr(app)).await.expect("connect");
    s.write_all(bytes.as_bytes()).await.expect("write");
    s
}

/// Everything the server sends until it closes the connection, or None if it is still open after
/// `within` (a generous bound, not a speed test).
async fn read_until_closed(s: &mut TcpStream, within: Duration) -> Option<String> {
    let mut out = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read).await.ok()?;
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// The JSON body of a raw HTTP/1.1 answer.
fn raw_json(answer: &str) -> Value {
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or(Value::Null)
}

/// Many connections that never finish their headers (more than the cap) do not stop a normal
/// client from being served: idle and half-sent connections make room for newcomers.
async fn slow_loris_connections_do_not_lock_out_clients(app: TestApp) {
    let app = app.with_server(ServerConfig { max_connections: 16, ..ServerConfig::default() }).await;
    let mut loris = Vec::new();
    for _ in 0..120 {
        if let Ok(mut s) = TcpStream::connect(addr(&app)).await {
            let _ = s.write_all(b"GET /xapi/about HTTP/1.1\r\nHost: x\r\nX-Slow: ").await;
            loris.push(s);
        }
    }
    // While the storm is being accepted, a newcomer may be told 503 or closed at once (that is the
    // graceful degradation); a client that retries shortly is served.
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    for _ in 0..3 {
        let started = Instant::now();
        loop {
            match client.get(format!("{}/xapi/about", app.base)).send().await {
                Ok(r) if r.status() == 200 => break,
                other => {
                    let what = other.map(|r| r.status().to_string()).unwrap_or_else(|e| e.to_string());
                    assert!(started.elapsed() < Duration::from_secs(5), "not served despite retries: {what}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
    drop(loris);
}
both!(slow_loris_connections_do_not_lock_out_clients);

/// A connection that starts a request head and never finishes it is closed after the header timeout.
async fn partial_header_is_closed_after_header_timeout(app: TestApp) {
    let app = app.with_server(short(64)).await;
    let started = Instant::now();
    let mut s = raw(&app, "GET /xapi/about HTTP/1.1\r\nHost: x\r\n").await;
    let answer = read_until_closed(&mut s, Duration::from_secs(6)).await;
    assert!(answer.is_some(), "still open after 6 s with a 1 s header timeout");
    assert!(started.elapsed() >= Duration::from_millis(900), "closed before the timeout");
}
both!(partial_header_is_closed_after_header_timeout);

/// A keep-alive connection that sends nothing after its answer is closed after the idle timeout.
async fn idle_keep_alive_connection_is_closed(app: TestApp) {
    let app = app.with_server(short(64)).await;
    let mut s = raw(&app, "GET /xapi/about HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let answer = read_until_closed(&mut s, Duration::from_secs(6)).await.expect("closed when idle");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
both!(idle_keep_alive_connection_is_closed);

/// A body shorter than its Content-Length is answered 408 with our JSON body within the body
/// timeout, and the connection closed; nothing is stored.
async fn short_body_is_answered_408(app: TestApp) {
    let app = app.with_server(short(64)).await;
    let head = format!(
        "POST /xapi/statements HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nX-Experience-API-Version: 1.0.3\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"actor\":",
        basic()
    );
    let mut s = raw(&app, &head).await;
    let answer = read_until_closed(&mut s, Duration::from_secs(6)).await.expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let v = raw_json(&answer);
    assert_eq!(v["error"]["status"], 408, "{answer}");
    assert!(v["error"]["message"].as_str().unwrap().contains("stalled"), "{v}");
    assert_eq!(app.statement_count().await, 0);
}
both!(short_body_is_answered_408);

/// When every connection is busy serving a request, a newcomer is answered 503 with Retry-After and
/// our JSON body at once, rather than accepted and starved.
async fn connections_beyond_the_cap_get_503(app: TestApp) {
    let app = app.with_server(ServerConfig { max_connections: 2, ..ServerConfig::default() }).await;
    let head = format!(
        "POST /xapi/statements HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nX-Experience-API-Version: 1.0.3\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n[",
        basic()
    );
    let _busy = [raw(&app, &head).await, raw(&app, &head).await];
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut s = raw(&app, "GET /xapi/about HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let answer = read_until_closed(&mut s, Duration::from_secs(5)).await.expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("\r\nretry-after: 1\r\n"), "{answer}");
    assert_eq!(raw_json(&answer)["error"]["status"], 503, "{answer}");
}
both!(connections_beyond_the_cap_get_503);

/// Security headers are on every answer of the API origin: a 200, a 404 and a 401.
async fn security_headers_on_every_answer(app: TestApp) {
    let cases = [
        (200, app.client.get(format!("{}/xapi/about", app.base))),
        (404, app.client.get(format!("{}/elsewhere", app.base))),
        (401, app.client.get(format!("{}/xapi/statements", app.base)).header("X-Experience-API-Version", "1.0.3")),
        (200, app.req(Method::GET, "/api/courses")),
    ];
    for (want, req) in cases {
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), want);
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{want}");
        assert_eq!(h["content-security-policy"], "default-src 'none'; frame-ancestors 'none'", "{want}");
        assert_eq!(h["x-frame-options"], "DENY", "{want}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{want}");
    }
}
both!(security_headers_on_every_answer);

/// An over-long request target is 414 and an oversized header section 431, both with our JSON body.
async fn oversized_uri_and_headers_get_json_errors(app: TestApp) {
    let r = app.client.get(format!("{}/xapi/about?x={}", app.base, "a".repeat(20 * 1024))).send().await.unwrap();
    assert_eq!(r.status(), 414);
    let v: Value = r.json().await.expect("JSON body on 414");
    assert!(v["error"]["message"].as_str().unwrap().contains("request target"), "{v}");

    let r = app.client.get(format!("{}/xapi/about", app.base)).header("X-Big", "b".repeat(80 * 1024)).send();
    let r = r.await.unwrap();
    assert_eq!(r.status(), 431);
    let v: Value = r.json().await.expect("JSON body on 431");
    assert!(v["error"]["message"].as_str().unwrap().contains("headers"), "{v}");
}
both!(oversized_uri_and_headers_get_json_errors);

/// `/api` refuses requests from other sites and origins (another port of the same host included),
/// by `Sec-Fetch-Site` or `Origin`, with 403 naming the rule; its own origin is served.
async fn api_refuses_cross_origin_requests(app: TestApp) {
    let other_port = app.base.rsplit_once(':').map(|(h, _)| format!("{h}:1")).unwrap();
    let refused = [
        ("sec-fetch-site", "cross-site".to_string()),
        ("sec-fetch-site", "same-site".to_string()),
        ("origin", "https://evil.example".to_string()),
        ("origin", other_port),
        ("origin", "null".to_string()),
    ];
    for (name, value) in refused {
        let r = app.req(Method::GET, "/api/courses").header(name, &value).send().await.unwrap();
        assert_eq!(r.status(), 403, "{name}: {value}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"]["message"].as_str().unwrap().contains("cross-origin requests to /api"), "{v}");
    }
    let r = app.req(Method::GET, "/api/courses").header("origin", &app.base).header("sec-fetch-site", "same-origin");
    assert_eq!(r.send().await.unwrap().status(), 200);
}
both!(api_refuses_cross_origin_requests);

/// `/api` takes only `application/json` bodies (415 naming the problem): a JSON text sent as
/// `text/plain` or a form, which a plain HTML form can send, is refused.
async fn api_takes_only_json_bodies(app: TestApp) {
    let body = r#"{"course":"https://example.com/c","module":"m","learner":"mailto:a@example.com"}"#;
    for (path, ct) in [
        ("/api/launches", "text/plain"),
        ("/api/launches", "application/x-www-form-urlencoded"),
        ("/api/assignments", "text/plain;charset=UTF-8"),
        ("/api/results/rebuild", "multipart/form-data; boundary=x"),
    ] {
        let r = app.req(Method::POST, path).header("Content-Type", ct).body(body).send().await.unwrap();
        assert_eq!(r.status(), 415, "{path} {ct}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"]["message"].as_str().unwrap().contains("application/json"), "{v}");
    }
    let r = app.req(Method::POST, "/api/launches").body(body).send().await.unwrap();
    assert_eq!(r.status(), 415, "no Content-Type");
}
both!(api_takes_only_json_bodies);

/// `/api` answers no CORS at all, and `/xapi`'s CORS never allows credentials.
async fn cors_is_never_credentialed(app: TestApp) {
    let preflight = |path: &str| {
        app.client
            .request(Method::OPTIONS, format!("{}{path}", app.base))
            .header("Origin", "https://content.example.org")
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization,content-type")
    };
    let r = preflight("/api/launches").send().await.unwrap();
    assert!(!r.headers().contains_key("access-control-allow-origin"), "/api answered CORS");
    let r = preflight("/xapi/statements").send().await.unwrap();
    assert!(r.status().is_success());
    assert_eq!(r.headers()["access-control-allow-origin"], "https://content.example.org");
    assert!(!r.headers().contains_key("access-control-allow-credentials"));
    let r = app.req(Method::GET, "/xapi/statements").header("Origin", "https://content.example.org").send();
    let r = r.await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("access-control-allow-origin"));
    assert!(!r.headers().contains_key("access-control-allow-credentials"));
}
both!(cors_is_never_credentialed);

/// The Basic challenge is sent only to clients that are plainly not browsers, so no browser is ever
/// invited to cache a credential for the origin.
async fn no_basic_challenge_to_browsers(app: TestApp) {
    let anon = |path: &str| app.client.get(format!("{}{path}", app.base)).header("X-Experience-API-Version", "1.0.3");
    for path in ["/xapi/statements", "/api/courses"] {
        let r = anon(path).send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert!(r.headers().contains_key("www-authenticate"), "{path}: a tool gets the challenge");
        for (name, value) in [
            ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/130"),
            ("sec-fetch-mode", "navigate"),
            ("upgrade-insecure-requests", "1"),
            ("origin", "https://content.example.org"),
        ] {
            let r = anon(path).header(name, value).send().await.unwrap();
            assert_eq!(r.status().as_u16(), if name == "origin" && path.starts_with("/api") { 403 } else { 401 });
            assert!(!r.headers().contains_key("www-authenticate"), "{path} {name}: challenged a browser");
        }
    }
}
both!(no_basic_challenge_to_browsers);

/// A client bound to another loopback address, so the server sees another client address.
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder().local_address(ip.parse::<std::net::IpAddr>().ok()).build().unwrap()
}

fn guess(client: &reqwest::Client, app: &TestApp, key: &str, secret: &str) -> reqwest::RequestBuilder {
    client
        .get(format!("{}/xapi/statements", app.base))
        .basic_auth(key, Some(secret))
        .header("X-Experience-API-Version", "1.0.3")
}

/// After its burst of failed attempts, an address gets 429 with Retry-After and a JSON body, before
/// any secret is checked; a credential already verified keeps being served from that address (the
/// choice: a proven key and secret never wait for the guesses; a never-verified one from a flooding
/// address waits with them).
async fn failed_logins_are_limited_per_address(app: TestApp) {
    let attacker = client_from("127.0.0.3");
    let r = guess(&attacker, &app, KEY, SECRET).send().await.unwrap();
    assert_eq!(r.status(), 200, "verified once: known good from now on");
    for i in 0..=cairn::lrs::ratelimit::FAILURE_BURST {
        let r = guess(&attacker, &app, &format!("nobody-{i}"), "guess").send().await.unwrap();
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    let r = guess(&attacker, &app, "nobody-else", "guess").send().await.unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["status"], 429);
    assert!(v["error"]["message"].as_str().unwrap().contains("too many failed authentication attempts"), "{v}");
    // The credential this address proved before still passes, cached or not.
    let r = guess(&attacker, &app, KEY, SECRET).send().await.unwrap();
    assert_eq!(r.status(), 200);
}
both!(failed_logins_are_limited_per_address);

/// While one address floods guesses, a valid credential never verified before, from another
/// address, is served; the guesses get 429.
async fn valid_credential_is_served_during_a_flood(app: TestApp) {
    app.lrs
        .create_credential("fresh", vec!["all".into()], Some("fresh-key".into()), Some("fresh-secret".into()))
        .await
        .unwrap();
    let attacker = client_from("127.0.0.4");
    let flood = (0..40).map(|i| guess(&attacker, &app, &format!("x{i}"), "guess").send());
    let valid = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        guess(&client_from("127.0.0.5"), &app, "fresh-key", "fresh-secret").send().await.unwrap().status()
    };
    let (flood, valid) = tokio::join!(futures_util::future::join_all(flood), valid);
    assert_eq!(valid, 200);
    let statuses: Vec<u16> = flood.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
    assert!(statuses.contains(&429), "the flood was never limited: {statuses:?}");
}
both!(valid_credential_is_served_during_a_flood);

/// An unknown key and a wrong secret for a real key get the same answer: status, challenge and body.
async fn unknown_key_and_wrong_secret_look_the_same(app: TestApp) {
    let answer = |key: &'static str| {
        let req = guess(&app.client, &app, key, "not-the-secret");
        async move {
            let r = req.send().await.unwrap();
            let challenge = r.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_string());
            (r.status().as_u16(), challenge, r.text().await.unwrap())
        }
    };
    let unknown = answer("no-such-key").await;
    let wrong = answer(KEY).await;
    assert_eq!(unknown.0, 401);
    assert_eq!(unknown, wrong);
}
both!(unknown_key_and_wrong_secret_look_the_same);

/// Anonymous alternate-syntax requests cannot make the server buffer large bodies: a big form
/// without a credential before its content, or with a wrong one, is refused without being read
/// whole, while a normal request is served alongside.
async fn anonymous_alternate_syntax_cannot_buffer_large_bodies(app: TestApp) {
    let big = "x".repeat(600 * 1024);
    let alternate = |form: String| {
        app.client
            .post(format!("{}/xapi/statements?method=POST", app.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Connection", "close")
            .body(form)
            .send()
    };
    let anonymous = serde_urlencoded::to_string([("content", big.as_str()), ("X-Experience-API-Version", "1.0.3")]);
    let wrong = serde_urlencoded::to_string([
        ("Authorization", "Basic bm9ib2R5Om5vcGU="),
        ("X-Experience-API-Version", "1.0.3"),
        ("content", big.as_str()),
    ]);
    let (anonymous, wrong, normal) =
        tokio::join!(alternate(anonymous.unwrap()), alternate(wrong.unwrap()), app.get_json("/xapi/statements"));
    assert_eq!(normal.0, 200);
    let r = anonymous.unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert!(v["error"]["message"].as_str().unwrap().contains("must carry its Authorization field"), "{v}");
    let r = wrong.unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert!(v["error"]["message"].as_str().unwrap().contains("do not match an active credential"), "{v}");
    assert_eq!(app.statement_count().await, 0);
    // With the credential first, a form of that size is read and served.
    let ok = serde_urlencoded::to_string([
        ("Authorization", basic().as_str()),
        ("X-Experience-API-Version", "1.0.3"),
        ("content", &format!("{{\"actor\":{{\"mbox\":\"mailto:a@example.com\"}},\"verb\":{{\"id\":\"http://e.com/v\"}},\"object\":{{\"id\":\"http://e.com/a\",\"definition\":{{\"description\":{{\"en-US\":\"{}\"}}}}}}}}", &big[..100 * 1024])),
    ]);
    let r = alternate(ok.unwrap()).await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}
both!(anonymous_alternate_syntax_cannot_buffer_large_bodies);

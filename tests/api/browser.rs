//! End to end in a real browser: Debian's headless Chromium, driven over WebDriver (chromedriver), opens
//! launch URLs of a SCORM 1.2, a SCORM 2004, a cmi5 and a TinCan fixture whose content calls the API; the
//! content reports completion and a score, and the statements must arrive in the store and the learner's
//! derived result (`/api/results`) must show it.
//!
//! The WebDriver client is the few W3C WebDriver commands these tests need, over the tests' HTTP client.
//! `cairn.test` (the test app's API origin) and `content.cairn.test` (its content origin) are mapped to the
//! test servers with Chromium's host resolver rules, so the launch URLs are used exactly as Cairn answers
//! them, across two origins as in production. Without chromium and chromedriver
//! the tests are skipped loudly; `CAIRN_REQUIRE_BROWSER=1` (set by `.ci/run`) makes that a failure.

use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use crate::both;
use crate::launch::{import, launch, urlencode};
use crate::support::TestApp;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Guards against a wedged browser hanging the suite; not a performance bound.
const PATIENCE: Duration = Duration::from_secs(60);

/// The chromedriver of this test process (started once; it exits when this process does), or None.
fn chromedriver() -> Option<String> {
    static URL: OnceLock<Option<String>> = OnceLock::new();
    URL.get_or_init(|| {
        if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists() {
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        // A watchdog shell stops chromedriver and its browsers (its own process group, through setsid) when
        // the test process goes away, even after a failed test never closed its session.
        let script = format!(
            "setsid {CHROMEDRIVER} --port={port} >/dev/null 2>&1 & d=$!; \
             while kill -0 {} 2>/dev/null; do sleep 1; done; kill -- -$d",
            std::process::id()
        );
        Command::new("sh").args(["-c", &script]).spawn().ok()?;
        Some(format!("http://127.0.0.1:{port}"))
    })
    .clone()
}

/// A browser session.
pub(crate) struct Browser {
    client: reqwest::Client,
    session: String,
}

impl Browser {
    /// A headless Chromium that resolves `cairn.test` to the test server; None (after a loud message) when
    /// the browser is not installed.
    pub(crate) async fn start(app: &TestApp) -> Option<Browser> {
        let Some(driver) = chromedriver() else {
            if std::env::var("CAIRN_REQUIRE_BROWSER").as_deref() == Ok("1") {
                panic!("a browser is required (CAIRN_REQUIRE_BROWSER=1) but {CHROMIUM} or {CHROMEDRIVER} is missing");
            }
            eprintln!("!!! SKIPPED browser test: install Debian's chromium and chromium-driver (see .ci/run)");
            return None;
        };
        let port = app.base.rsplit(':').next().unwrap_or("80");
        let content_port = app.content_base.rsplit(':').next().unwrap_or("80");
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
                     "--disable-crash-reporter", "--disable-breakpad",
                     "--window-size=1100,760", format!("--host-resolver-rules=MAP cairn.test 127.0.0.1:{port}, MAP content.cairn.test 127.0.0.1:{content_port}")]
        }}}});
        let client = reqwest::Client::new();
        let started = Instant::now();
        // chromedriver may still be starting.
        let resp: Value = loop {
            match client.post(format!("{driver}/session")).json(&caps).send().await {
                Ok(r) => break r.json().await.expect("new session answer"),
                Err(_) if started.elapsed() < PATIENCE => tokio::time::sleep(Duration::from_millis(200)).await,
                Err(e) => panic!("chromedriver does not answer: {e}"),
            }
        };
        let id = resp["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no WebDriver session: {resp}"));
        Some(Browser { client, session: format!("{driver}/session/{id}") })
    }

    pub(crate) async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut r = self.client.request(method, format!("{}{path}", self.session));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let v: Value = r.send().await.expect("webdriver").json().await.expect("webdriver json");
        v["value"].clone()
    }

    pub(crate) async fn open(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    /// Runs a script in the page (top frame) and returns its value.
    pub(crate) async fn eval(&self, script: &str) -> Value {
        self.cmd(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": []}))).await
    }

    /// Runs an asynchronous script (its last argument is the callback) and returns what it passed back.
    pub(crate) async fn eval_async(&self, script: &str, args: Value) -> Value {
        self.cmd(reqwest::Method::POST, "/execute/async", Some(json!({"script": script, "args": args}))).await
    }

    pub(crate) async fn screenshot(&self) -> Vec<u8> {
        let b64 = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap_or_default()).expect("png")
    }

    pub(crate) async fn quit(self) {
        let _ = self.client.delete(&self.session).send().await;
    }
}

impl Drop for Browser {
    /// A failed assertion unwinds past `quit`: close the session anyway (a plain blocking DELETE, since
    /// no runtime can be awaited here), so no browser outlives its test.
    fn drop(&mut self) {
        use std::io::{Read, Write};
        let Some(rest) = self.session.strip_prefix("http://") else { return };
        let Some((host, path)) = rest.split_once('/') else { return };
        if let Ok(mut s) = std::net::TcpStream::connect(host) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let _ =
                write!(s, "DELETE /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = s.read(&mut [0u8; 256]);
        }
    }
}

/// The statements of a registration, oldest first, once one with `last_verb` has arrived.
async fn statements_until(app: &TestApp, registration: &str, last_verb: &str) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let (_, page) = app.get_json(&format!("/xapi/statements?registration={registration}&ascending=true")).await;
        let list = page["statements"].as_array().cloned().unwrap_or_default();
        if list.iter().any(|s| s["verb"]["id"].as_str().is_some_and(|v| v.ends_with(last_verb))) {
            return list;
        }
        assert!(started.elapsed() < PATIENCE, "no {last_verb} statement for {registration}; got {list:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The verbs of the content's session, in order. `satisfied` is left out: it is the results engine's
/// (cmi5 blocks and courses), written when it is present, and not what these tests are about.
fn verbs(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|s| s["verb"]["id"].as_str().unwrap_or("").rsplit('/').next().unwrap_or("").to_string())
        .filter(|v| v != "satisfied")
        .collect()
}

fn find<'a>(list: &'a [Value], verb: &str) -> &'a Value {
    list.iter()
        .find(|s| s["verb"]["id"].as_str().is_some_and(|v| v.ends_with(verb)))
        .unwrap_or_else(|| panic!("no {verb}"))
}

async fn start(app: &TestApp, fixture: &str, module: &str) -> Value {
    let course = import(app, fixture).await;
    let (s, l) = launch(
        app,
        json!({"course": course["id"], "module": module, "learner": {"name": "Ann Lee", "mbox": "mailto:ann@example.com"}}),
    )
    .await;
    assert_eq!(s, 201, "{l}");
    l
}

async fn scorm12_scorm2004_cmi5_and_tincan_courses_report_in_a_browser(app: TestApp) {
    let Some(browser) = Browser::start(&app).await else { return };

    // SCORM 1.2: the SCO sets a raw score of 85 against a mastery score of 80.
    let l = start(&app, "scorm12-runtime", "LESSON-1").await;
    browser.open(l["url"].as_str().unwrap()).await;
    let reg = l["registration"].as_str().unwrap();
    let list = statements_until(&app, reg, "/terminated").await;
    assert_eq!(verbs(&list), ["initialized", "completed", "scored", "passed", "terminated"]);
    let term = find(&list, "/terminated");
    assert_eq!(term["result"]["success"], true);
    assert_eq!(term["result"]["completion"], true);
    assert_eq!(term["result"]["score"]["raw"], 85);
    assert_eq!(term["result"]["score"]["scaled"], 0.85);
    assert_eq!(term["result"]["duration"], "PT0H3M20S");
    assert_eq!(term["actor"]["mbox"], "mailto:ann@example.com");
    assert_eq!(term["object"]["id"], l["activity_id"]);
    assert_eq!(term["context"]["contextActivities"]["category"][0]["id"], "https://w3id.org/xapi/scorm");
    // The CMI data was saved to the attempt's State for the next session.
    let state = format!(
        "/xapi/activities/state?activityId={}&agent={}&registration={reg}&stateId={}",
        urlencode(l["activity_id"].as_str().unwrap()),
        urlencode(&l["learner"].to_string()),
        urlencode("https://w3id.org/xapi/scorm/attempt-state")
    );
    let (s, saved) = app.get_json(&state).await;
    assert_eq!(s, 200);
    assert_eq!(saved["cmi"]["values"]["cmi.core.lesson_status"], "passed");
    assert_eq!(saved["cmi"]["values"]["cmi.core.lesson_location"], "quiz");
    assert_eq!(saved["cmi"]["values"]["cmi.launch_data"], "chapter=1");
    assert_eq!(saved["total_time"], "0000:03:20.00");
    let r = result_of(&app, &l).await;
    assert_eq!(r["status"], "passed");
    assert_eq!(r["score"], 0.85);

    // SCORM 2004: a scaled score of 0.9 against the primary objective's 0.8.
    let l = start(&app, "scorm2004-runtime", "LESSON-1").await;
    browser.open(l["url"].as_str().unwrap()).await;
    let list = statements_until(&app, l["registration"].as_str().unwrap(), "/terminated").await;
    assert_eq!(verbs(&list), ["initialized", "completed", "passed", "scored", "terminated"]);
    let term = find(&list, "/terminated");
    assert_eq!(term["result"]["success"], true);
    assert_eq!(term["result"]["completion"], true);
    assert_eq!(term["result"]["score"]["scaled"], 0.9);
    assert_eq!(term["result"]["duration"], "PT0H4M10S");
    let r = result_of(&app, &l).await;
    assert_eq!(r["status"], "passed");
    assert_eq!(r["score"], 0.9);
    let started = Instant::now();
    while browser.eval("var f = document.querySelector('iframe'); return !!(f && f.contentDocument && f.contentDocument.body.getAttribute('data-done'));").await != json!(true) {
        assert!(started.elapsed() < PATIENCE, "the SCO never finished");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        browser.eval("return window.API_1484_11.GetValue('cmi.score.scaled')").await,
        "",
        "terminated: no more data"
    );
    // The launch page is Cairn's own page for people: axe-core finds no serious or critical violation in
    // it (the SCO in its frame is the package author's, so the frame's document is not checked).
    let violations = axe_violations(&browser).await;
    assert_eq!(violations, json!([]), "accessibility violations on the launch page: {violations:#}");
    if let Ok(path) = std::env::var("CAIRN_E2E_SCREENSHOT") {
        std::fs::write(&path, browser.screenshot().await).expect("write screenshot");
    }

    // cmi5: launch parameters, fetch, LMS.LaunchData, then the AU's own statements. The course is
    // assigned to Ann's mailbox; the launch's actor is the account Cairn makes for her (persons).
    let ann = json!({"objectType": "Agent", "mbox": "mailto:ann@example.com"});
    let due = (time::OffsetDateTime::now_utc() + time::Duration::days(7))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let r = app
        .req(reqwest::Method::POST, "/api/assignments")
        .json(&json!({"course": "https://cairn.example/courses/fire-safety-cmi5", "learner": ann, "due": due}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "the course is not imported yet");
    let l = start(&app, "cmi5-runtime", "https://cairn.example/courses/fire-safety-cmi5/alarm").await;
    assert!(l["learner"].get("account").is_some(), "{l}");
    let r = app
        .req(reqwest::Method::POST, "/api/assignments")
        .json(&json!({"course": l["course"], "learner": ann, "due": due}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    browser.open(l["url"].as_str().unwrap()).await;
    let list = statements_until(&app, l["registration"].as_str().unwrap(), "/terminated").await;
    assert_eq!(verbs(&list), ["launched", "initialized", "completed", "passed", "terminated"]);
    let passed = find(&list, "/passed");
    assert_eq!(passed["result"]["score"]["scaled"], 0.9);
    assert_eq!(
        passed["context"]["extensions"]["https://w3id.org/xapi/cmi5/context/extensions/sessionid"],
        l["session_id"]
    );
    assert_eq!(
        find(&list, "/terminated")["authority"]["account"]["name"],
        l["id"],
        "stored with the launch credential"
    );
    assert_eq!(result_of(&app, &l).await["status"], "passed");
    // The assignment to the mailbox is met by the account's statements: one person.
    let mut by_mbox = l.clone();
    by_mbox["learner"] = ann.clone();
    let row = result_of(&app, &by_mbox).await;
    assert_eq!((row["status"].as_str(), row["compliance"].as_str()), (Some("passed"), Some("on_time")), "{row}");
    assert_eq!(row["learner"]["mbox"], "mailto:ann@example.com");

    // TinCan: endpoint, auth, actor and registration in the launch URL; the content reports on the course.
    let l = start(&app, "tincan-runtime", "https://cairn.example/courses/fire-safety-tincan").await;
    browser.open(l["url"].as_str().unwrap()).await;
    let list = statements_until(&app, l["registration"].as_str().unwrap(), "/completed").await;
    assert_eq!(verbs(&list), ["attempted", "passed", "completed"]);
    assert_eq!(find(&list, "/passed")["result"]["score"]["scaled"], 0.75);
    let r = result_of(&app, &l).await;
    assert_eq!(r["status"], "passed");
    assert_eq!(r["score"], 0.75);
    browser.quit().await;
}

/// axe-core (vendored through `npm ci --prefix tests/clients`, as `scripts/test.sh` does) run on the top
/// document: its serious and critical violations.
pub(crate) async fn axe_violations(browser: &Browser) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/node_modules/axe-core/axe.min.js");
    let axe = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run npm ci --prefix tests/clients)", path.display()));
    // Injected through WebDriver, which the page's Content-Security-Policy does not apply to.
    browser.eval(&format!("{axe}\nreturn true;")).await;
    let found = browser
        .eval_async(
            "var done = arguments[arguments.length - 1]; \
             axe.run(document, {iframes: false, resultTypes: ['violations']}).then(function (r) { \
               done(r.violations.filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; }) \
                 .map(function (v) { return {id: v.id, help: v.help, nodes: v.nodes.map(function (n) { return n.html; })}; })); \
             }, function (e) { done('axe failed: ' + e); });",
            json!([]),
        )
        .await;
    assert!(found.is_array(), "axe did not run: {found}");
    found.as_array().cloned().map(Value::Array).unwrap_or_default()
}

/// The learner's derived result for the launch's course (the results engine, from the same statements).
async fn result_of(app: &TestApp, l: &Value) -> Value {
    let q =
        format!("course={}&learner={}", urlencode(l["course"].as_str().unwrap()), urlencode(&l["learner"].to_string()));
    let started = Instant::now();
    loop {
        let (status, body) = app.get_json(&format!("/api/results?{q}")).await;
        assert_eq!(status, 200, "{body}");
        let row = body["results"][0].clone();
        if row["status"] == "passed" || started.elapsed() > PATIENCE {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
both!(scorm12_scorm2004_cmi5_and_tincan_courses_report_in_a_browser);

/// Issue 11: a hostile package's script, run in the same tab right after a normal launch (and alongside
/// it), gets nothing: not the other launch's credential (no storage holds it, its page names no one, its
/// settings answer only its own credential), not the admin API with what the browser holds for the API
/// origin (the browser first opened `/api` with the admin's Basic credentials in the URL), not another
/// learner's documents or statements with its own launch credential. The normal content still reports.
async fn hostile_content_reaches_nothing(app: TestApp) {
    let Some(browser) = Browser::start(&app).await else { return };
    // The admin looked at the API in this browser, credentials in the URL.
    browser.open(&format!("http://{}:{}@cairn.test/api/courses", crate::support::KEY, crate::support::SECRET)).await;
    let victim = start(&app, "scorm12-runtime", "LESSON-1").await;
    let victim_url = victim["url"].as_str().unwrap();
    let victim_secret = crate::launch::scorm_credential(victim_url).1;
    browser.open(victim_url).await;
    statements_until(&app, victim["registration"].as_str().unwrap(), "/terminated").await;

    let hostile = import(&app, "scorm12-hostile").await;
    let (s, h) = launch(
        &app,
        json!({"course": hostile["id"], "module": "PRIZE", "learner": {"name": "Mallory", "mbox": "mailto:mallory@example.com"}}),
    )
    .await;
    assert_eq!(s, 201, "{h}");
    let hostile_url = h["url"].as_str().unwrap();
    let own = format!(
        "Basic {}",
        hostile_url.split("#token=").nth(1).unwrap().replace("%3D", "=").replace("%2B", "+").replace("%2F", "/")
    );
    browser.open(hostile_url).await;
    let started = Instant::now();
    while browser
        .eval("var f = document.querySelector('iframe'); return !!(f && f.contentWindow && f.contentWindow.attack);")
        .await
        != json!(true)
    {
        assert!(started.elapsed() < PATIENCE, "the hostile SCO never loaded");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let args = json!([{
        "api": "http://cairn.test", "own": own, "id": victim["id"], "course": hostile["id"], "module": "PRIZE",
        "activity": victim["activity_id"], "registration": victim["registration"], "agent": victim["learner"].to_string(),
    }]);
    let report = browser
        .eval_async(
            "var done = arguments[arguments.length - 1]; \
             document.querySelector('iframe').contentWindow.attack(arguments[0]).then(done, function (e) { done('failed: ' + e); });",
            args,
        )
        .await;
    let text = report.to_string();
    assert!(report.is_object(), "{text}");
    assert!(!text.contains(&victim_secret), "the victim's credential leaked: {text}");
    assert!(!report["storage"].to_string().contains("Basic"), "a credential sits in storage: {text}");
    assert!(!report["victimPage"].as_str().unwrap_or("").contains("ann@example.com"), "{text}");
    assert_eq!(report["victimRuntimeAnonymous"], 401, "{text}");
    assert_eq!(report["victimRuntimeWithOwnToken"], 403, "{text}");
    assert_ne!(report["apiRead"], 200, "the admin API answered content: {text}");
    assert_ne!(report["apiLaunchCors"], 201, "{text}");
    assert_ne!(report["xapiWithBrowserCredentials"], 200, "{text}");
    assert_eq!(report["victimState"], 403, "{text}");
    assert_eq!(report["victimStatementsSeen"], 0, "{text}");
    // Whatever the browser sent, the server did nothing for it.
    let mallory = cairn::xapi::agent::key(&json!({"mbox": "mailto:mallory@example.com"})).unwrap();
    let course = hostile["id"].as_str().unwrap();
    let launches = app.lrs.store.launches_of(&mallory, course, "").await.unwrap();
    assert_eq!(launches.len(), 1, "only the test's own launch of the hostile course: {launches:?}");
    // The normal launch reported as usual.
    assert_eq!(result_of(&app, &victim).await["status"], "passed");
    browser.quit().await;
}
both!(hostile_content_reaches_nothing);

/// Polls `condition` (a script returning a boolean) until it holds.
pub(crate) async fn wait_until(browser: &Browser, condition: &str) {
    let started = Instant::now();
    while browser.eval(&format!("return !!({condition});")).await != json!(true) {
        assert!(started.elapsed() < PATIENCE, "timed out waiting for {condition}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Fills the form fields (`id` → value) and submits the form holding the first, then waits for the
/// next page to have loaded.
pub(crate) async fn submit(browser: &Browser, fields: &[(&str, &str)]) {
    let marker = "window.__cairn_before_submit = true;";
    browser.eval(marker).await;
    let mut script = String::new();
    for (id, value) in fields {
        script.push_str(&format!("document.getElementById({}).value = {};", json!(id), json!(value)));
    }
    let first = json!(fields.first().map(|f| f.0).unwrap_or_default());
    script.push_str(&format!("document.getElementById({first}).form.submit(); return true;"));
    browser.eval(&script).await;
    wait_until(browser, "!window.__cairn_before_submit && document.readyState === 'complete'").await;
}

both!(console_sign_in_and_pages_in_a_browser);
/// The console in Chromium: sign in with the form, every page renders and is axe-core clean, and an
/// admin adds a user through the form. `CAIRN_CONSOLE_SCREENSHOTS=DIR` saves a screenshot of each page.
async fn console_sign_in_and_pages_in_a_browser(app: TestApp) {
    let Some(browser) = Browser::start(&app).await else { return };
    let batch: Vec<Value> = (0..40)
        .map(|i| {
            json!({"actor": {"mbox": format!("mailto:learner{}@example.com", i % 7), "name": format!("Learner {}", i % 7)},
                   "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en-US": "experienced"}},
                   "object": {"id": format!("http://example.com/course/page/{}", i % 5)}})
        })
        .collect();
    assert_eq!(app.post_statements(&json!(batch)).await.0, 200);
    import(&app, "scorm12-single").await;
    let shots = std::env::var("CAIRN_CONSOLE_SCREENSHOTS").ok();
    let shoot = |name: &'static str| {
        let shots = shots.clone();
        let browser = &browser;
        async move {
            if let Some(dir) = shots {
                std::fs::write(format!("{dir}/console-{name}.png"), browser.screenshot().await).expect("screenshot");
            }
        }
    };

    browser.open("http://cairn.test/console").await;
    wait_until(&browser, "location.pathname === '/console/sign-in'").await;
    assert_eq!(axe_violations(&browser).await, json!([]), "sign-in page");
    shoot("sign-in").await;
    submit(&browser, &[("login", crate::support::KEY), ("password", crate::support::SECRET)]).await;
    assert_eq!(browser.eval("return location.pathname").await, "/console");
    let pages = [
        "/console",
        "/console/statements",
        "/console/courses",
        "/console/reports",
        "/console/credentials",
        "/console/users",
        "/console/audit",
    ];
    for path in pages {
        browser.open(&format!("http://cairn.test{path}")).await;
        wait_until(&browser, "document.readyState === 'complete'").await;
        assert_eq!(browser.eval("return location.pathname + location.search").await, path);
        let violations = axe_violations(&browser).await;
        assert_eq!(violations, json!([]), "accessibility violations on {path}: {violations:#}");
        let name = path.trim_start_matches("/console").trim_start_matches('/');
        shoot(if name.is_empty() { "overview" } else { name.split(['/', '?']).next().unwrap_or("page") }).await;
    }
    // The statement page, reached through the browser's first link.
    browser.open("http://cairn.test/console/statements").await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    browser.eval("document.querySelector('tbody a').click(); return true;").await;
    wait_until(&browser, "location.pathname.startsWith('/console/statements/') && document.readyState === 'complete'")
        .await;
    assert_eq!(axe_violations(&browser).await, json!([]), "statement page");
    shoot("statement").await;

    // A learner's page through the search's link, and a live session's page.
    browser.open("http://cairn.test/console/learners?q=learner1").await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    browser.eval("document.querySelector('tbody a').click(); return true;").await;
    wait_until(&browser, "location.pathname === '/console/learner' && document.readyState === 'complete'").await;
    assert_eq!(axe_violations(&browser).await, json!([]), "learner page");
    let course = app.lms.courses().await.expect("courses")[0].id.clone();
    let session = json!({"course": course, "title": "Kick-off", "start": "2031-04-01T09:00:00Z",
                         "end": "2031-04-01T10:00:00Z", "capacity": 5});
    let made: Value = app
        .req(reqwest::Method::POST, "/api/sessions")
        .json(&session)
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("json");
    let book = json!({"learner": {"mbox": "mailto:learner1@example.com"}});
    let path = format!("/api/sessions/{}/bookings", made["id"].as_str().unwrap_or_default());
    assert!(app.req(reqwest::Method::POST, &path).json(&book).send().await.expect("book").status().is_success());
    browser.open(&format!("http://cairn.test/console/session?id={}", made["id"].as_str().unwrap_or_default())).await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    assert_eq!(axe_violations(&browser).await, json!([]), "session page");
    shoot("session").await;

    // Upload a package through the form (the progress script, then the course's page).
    browser.open("http://cairn.test/console/courses").await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    let zip = tempfile::Builder::new().suffix(".zip").tempfile().expect("temp zip");
    std::fs::write(zip.path(), crate::courses::zip_folder(&crate::launch::fixture("tincan"))).expect("zip");
    // What the status line says during the upload, kept across the navigation to the course page.
    browser
        .eval(
            "var s = document.querySelector('[data-upload-status]'); sessionStorage.setItem('said', ''); \
             new MutationObserver(function () { sessionStorage.setItem('said', sessionStorage.getItem('said') + '|' + s.textContent); }) \
               .observe(s, {childList: true, characterData: true, subtree: true}); return true;",
        )
        .await;
    let input =
        browser.cmd(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": "#file"}))).await;
    let element =
        input.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).expect("file input").to_string();
    let path = zip.path().display().to_string();
    browser.cmd(reqwest::Method::POST, &format!("/element/{element}/value"), Some(json!({"text": path}))).await;
    browser.eval("document.querySelector('form[data-upload]').requestSubmit(); return true;").await;
    wait_until(&browser, "location.pathname === '/console/course' && document.readyState === 'complete'").await;
    let said = browser.eval("return sessionStorage.getItem('said')").await;
    let said = said.as_str().unwrap_or_default();
    assert!(said.contains("Uploading") && said.contains("importing and checking"), "status line: {said}");
    let title = browser.eval("return document.querySelector('h1').textContent").await;
    assert!(title.as_str().is_some_and(|t| !t.is_empty()), "{title}");

    // A course's page, through the library's link; then assign it with the form.
    browser.open("http://cairn.test/console/courses").await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    browser.eval("document.querySelector('tbody a').click(); return true;").await;
    wait_until(&browser, "location.pathname === '/console/course' && document.readyState === 'complete'").await;
    submit(&browser, &[("learner", "ann@example.com"), ("due", "2030-01-31")]).await;
    let page = browser.eval("return document.body.textContent").await;
    assert!(
        page.as_str().is_some_and(|t| t.contains("The course was assigned.") && t.contains("ann@example.com")),
        "{page}"
    );
    assert_eq!(axe_violations(&browser).await, json!([]), "course page");
    shoot("course").await;

    browser.open("http://cairn.test/console/users").await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    submit(
        &browser,
        &[
            ("email", "ann@example.com"),
            ("name", "Ann Analyst"),
            ("role", "analyst"),
            ("password", "correct horse battery"),
        ],
    )
    .await;
    let notice =
        browser.eval("return document.querySelector('.notice') && document.querySelector('.notice').textContent").await;
    assert_eq!(notice, "Added ann@example.com (analyst).");
    // The phone layout is usable too (no horizontal scrolling of the page itself).
    browser.cmd(reqwest::Method::POST, "/window/rect", Some(json!({"width": 400, "height": 800}))).await;
    browser.open("http://cairn.test/console").await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    assert_eq!(axe_violations(&browser).await, json!([]), "overview on a phone");
    let wide = browser.eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth").await;
    assert_eq!(wide, json!(0), "the page itself does not scroll sideways on a phone");
    shoot("overview-phone").await;
    browser.quit().await;
}

/// The body of the SCO the player shows (the player page frames Cairn's launch page, which frames the
/// SCO; all on the content origin), as a script expression.
const SCO_BODY: &str =
    "(function () { var f = document.querySelector('#stage iframe'); var d = f && f.contentDocument; \
     var g = d && d.querySelector('iframe'); return g && g.contentDocument && g.contentDocument.body; })()";

/// Waits until the player shows the SCO titled `title`, initialised and done with its steps; answers
/// what the SCO noted (`data-*`: entry, location, and the `adl.nav.request_valid.*` it read).
async fn sco_ready(browser: &Browser, title: &str) -> Value {
    let ready = format!(
        "return !!({SCO_BODY} && {SCO_BODY}.ownerDocument.title === {} && {SCO_BODY}.getAttribute('data-ready') === 'true');",
        json!(title)
    );
    let started = Instant::now();
    while browser.eval(&ready).await != json!(true) {
        if started.elapsed() > PATIENCE {
            let seen = browser
                .eval(&format!(
                    "var b = {SCO_BODY}; return [document.getElementById('player-status').textContent, \
                     b && b.ownerDocument.title, b && b.outerHTML];"
                ))
                .await;
            panic!("the player never showed {title}; it shows {seen}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.eval(&format!("var b = {SCO_BODY}; var o = {{}}; for (var i = 0; i < b.attributes.length; i++) o[b.attributes[i].name] = b.attributes[i].value; return o;")).await
}

/// Issue 19: a learner takes a multi-SCO SCORM 2004 course through the player in Chromium. The
/// contents and controls come from the sequencer; the introduction passes and the learner presses
/// Continue; the lesson asks to continue itself (`adl.nav.request`); in the quiz the learner presses
/// Suspend. Then, on another node of the same database (a second browser session reaching that
/// node), the player resumes the quiz (`cmi.entry` = `resume`, its saved location back), the learner
/// continues past the end, and the course is passed by rollup, which the derived result agrees with
/// (status and score). The player page is axe-core clean; `CAIRN_PLAYER_SCREENSHOT=FILE` saves it.
async fn a_learner_takes_a_sequenced_course_in_the_player_and_resumes_on_another_node(app: TestApp) {
    let Some(browser) = Browser::start(&app).await else { return };
    let course = crate::player::import_sequenced(&app).await;
    let ann = json!({"name": "Ann Lee", "mbox": "mailto:ann@example.com"});
    let (s, opened) = crate::player::open_player(&app, json!({"course": course, "learner": ann})).await;
    assert_eq!(s, 201, "{opened}");
    let registration = opened["registration"].as_str().unwrap().to_string();
    browser.open(opened["url"].as_str().unwrap()).await;

    let intro = sco_ready(&browser, "Introduction").await;
    assert_eq!(intro["data-entry"], "ab-initio");
    assert_eq!(intro["data-continue"], "true", "{intro}");
    assert_eq!(intro["data-previous"], "false", "{intro}");
    wait_until(&browser, "document.querySelector('[data-target=intro]').getAttribute('aria-current') === 'step'").await;
    assert_eq!(browser.eval("return location.hash").await, "", "the credential left the address bar");
    assert_eq!(browser.eval("return document.getElementById('nav-previous').disabled").await, true);
    let violations = axe_violations(&browser).await;
    assert_eq!(violations, json!([]), "accessibility violations on the player: {violations:#}");
    if let Ok(path) = std::env::var("CAIRN_PLAYER_SCREENSHOT") {
        std::fs::write(&path, browser.screenshot().await).expect("write screenshot");
    }

    // Continue (the player's button): the intro ends, the lesson runs and continues by itself.
    wait_until(&browser, "!document.getElementById('nav-continue').disabled").await;
    browser.eval("document.getElementById('nav-continue').click(); return true;").await;
    let quiz = sco_ready(&browser, "Quiz").await;
    assert_eq!(quiz["data-entry"], "ab-initio");
    assert_eq!(quiz["data-previous"], "true", "{quiz}");
    wait_until(&browser, "document.querySelector('[data-target=lesson] .st').textContent === 'passed'").await;
    assert_eq!(browser.eval("return document.querySelector('[data-target=intro] .st').textContent").await, "passed");

    // Suspend: the quiz is suspended where it was, the player says the place is kept.
    browser.eval("document.getElementById('nav-suspend').click(); return true;").await;
    wait_until(&browser, "document.getElementById('player-status').textContent.indexOf('place is kept') >= 0").await;
    statements_until(&app, &registration, "/suspended").await;
    browser.quit().await;

    // Another node, another browser session: the same attempt resumes in the quiz.
    let node = app.another_node().await;
    let Some(browser) = Browser::start(&node).await else { return };
    let (s, again) = crate::player::open_player(&node, json!({"course": course, "learner": ann})).await;
    assert_eq!(s, 201, "{again}");
    assert_eq!(again["registration"], registration.as_str());
    browser.open(again["url"].as_str().unwrap()).await;
    let quiz = sco_ready(&browser, "Quiz").await;
    assert_eq!(quiz["data-entry"], "resume", "{quiz}");
    assert_eq!(quiz["data-location"], "question-2", "its saved data came back: {quiz}");
    wait_until(&browser, "!document.getElementById('nav-continue').disabled").await;
    browser.eval("document.getElementById('nav-continue').click(); return true;").await;
    wait_until(
        &browser,
        "document.body.getAttribute('data-course-status') === 'passed' && !document.querySelector('#stage iframe')",
    )
    .await;
    let text = browser.eval("return document.getElementById('player-status').textContent").await;
    assert!(text.as_str().is_some_and(|t| t.contains("left the course")), "{text}");
    browser.quit().await;

    // One source of truth: the rollup and the derived result agree.
    let rollup = node.lms.player_course_status(&registration).await.unwrap().expect("a SCORM 2004 state");
    assert_eq!((rollup.completed, rollup.satisfied), (Some(true), Some(true)));
    let derived = result_of(&node, &json!({"course": course, "learner": opened["learner"]})).await;
    assert_eq!(derived["status"], "passed", "{derived}");
    let measure = rollup.measure.expect("a rolled-up measure");
    let score = derived["score"].as_f64().expect("a derived score");
    assert!((measure - score).abs() < 1e-9, "rollup measure {measure} vs derived score {score}");
}
both!(a_learner_takes_a_sequenced_course_in_the_player_and_resumes_on_another_node);

/// SCORM 1.2 in the player, in Chromium: the second SCO needs the first (`adlcp:prerequisites`), so
/// it is disabled in the contents until the first, through `window.API`, reports `passed`; Continue
/// then delivers it, and Exit ends the course, completed.
async fn a_scorm12_course_plays_in_the_player_with_prerequisites(app: TestApp) {
    let Some(browser) = Browser::start(&app).await else { return };
    let course = crate::player::import_scorm12_pair(&app).await;
    let (s, opened) =
        crate::player::open_player(&app, json!({"course": course, "learner": "mailto:ann@example.com"})).await;
    assert_eq!(s, 201, "{opened}");
    browser.open(opened["url"].as_str().unwrap()).await;
    let first = sco_ready(&browser, "Controls").await;
    assert_eq!(first["data-status"], "passed", "{first}");
    wait_until(&browser, "!document.querySelector('[data-target=loads]').disabled").await;
    wait_until(&browser, "!document.getElementById('nav-continue').disabled").await;
    browser.eval("document.getElementById('nav-continue').click(); return true;").await;
    let second = sco_ready(&browser, "Loads").await;
    assert_eq!(second["data-entry"], "ab-initio", "{second}");
    wait_until(&browser, "document.querySelector('[data-target=loads] .st').textContent === 'completed'").await;
    browser.eval("document.getElementById('nav-exit').click(); return true;").await;
    wait_until(
        &browser,
        "document.body.getAttribute('data-course-status') === 'completed' && !document.querySelector('#stage iframe')",
    )
    .await;
    assert_eq!(axe_violations(&browser).await, json!([]), "the player after the course");
    browser.quit().await;
}
both!(a_scorm12_course_plays_in_the_player_with_prerequisites);

/// Signs in at the OpenID provider's development pages as `login`, from the page that has the
/// single sign-on link `link`; returns once the browser is back at `cairn.test` with a page loaded.
pub(crate) async fn sso_sign_in(browser: &Browser, start: &str, link: &str, login: &str) {
    provider_pages(browser, start, link, login, false).await;
    assert_eq!(browser.eval("return location.hostname").await, "cairn.test", "the provider sent the browser back");
}

/// The same sign-in, except that the provider holds the browser back from Cairn's callback
/// (tests/clients/oidc_provider.mjs, through a cookie set on its pages): answers the callback URL,
/// not yet used, with the browser left on the provider's page that links to it.
pub(crate) async fn sso_callback_url(browser: &Browser, start: &str, link: &str, login: &str) -> String {
    provider_pages(browser, start, link, login, true).await;
    let url = browser.eval("var a = document.getElementById('cairn-held-callback'); return a ? a.href : null").await;
    let url = url.as_str().unwrap_or_else(|| panic!("the provider did not hold the callback: {url}")).to_string();
    assert!(url.starts_with("http://cairn.test/") && url.contains("code="), "{url}");
    url
}

/// The provider's login and consent pages, as `login`; with `hold`, the provider is asked (a cookie on
/// its origin) to link to the callback rather than redirect to it.
async fn provider_pages(browser: &Browser, start: &str, link: &str, login: &str, hold: bool) {
    browser.open(start).await;
    wait_until(browser, "document.readyState === 'complete'").await;
    browser.eval(&format!("document.querySelector('a[href=\"{link}\"]').click(); return true;")).await;
    wait_until(
        browser,
        "location.hostname === '127.0.0.1' && document.readyState === 'complete' && !!document.forms[0]",
    )
    .await;
    if hold {
        browser.eval("document.cookie = 'cairn_hold_callback=1; path=/'; return true;").await;
    }
    // The login page, then the consent page (each a form at the provider).
    for _ in 0..4 {
        if browser.eval("return location.hostname === 'cairn.test' || !document.forms[0]").await == json!(true) {
            break;
        }
        if browser.eval("return !!document.querySelector('input[name=login]')").await == json!(true) {
            let fill = format!(
                "document.querySelector('input[name=login]').value = {}; \
                 document.querySelector('input[name=password]').value = 'any password';",
                json!(login)
            );
            browser.eval(&fill).await;
        }
        browser.eval("window.__cairn_before_submit = true; document.forms[0].submit(); return true;").await;
        wait_until(browser, "!window.__cairn_before_submit && document.readyState === 'complete'").await;
    }
}

/// Fetches `url` from the page shown, with the browser's cookies (and keeping those it answers with),
/// posting `form` (`[name, value]` pairs) when given; answers the status and the body as served. The
/// page must let scripts make requests to its origin: the console's pages allow none
/// (`connect-src 'none'`), the learner's pages on the same origin do (`connect-src 'self'`).
pub(crate) async fn fetch_served(browser: &Browser, url: &str, form: Option<&Value>) -> (u64, String) {
    let got = browser
        .eval_async(
            "var done = arguments[arguments.length - 1]; \
             var init = arguments[1] ? {method: 'POST', body: new URLSearchParams(arguments[1])} : {}; \
             fetch(arguments[0], init).then(function (r) { \
               return r.text().then(function (t) { done([r.status, t]); }); \
             }, function (e) { done(['failed', String(e)]); });",
            json!([url, form]),
        )
        .await;
    let status = got[0].as_u64().unwrap_or_else(|| panic!("fetching {url}: {got}"));
    (status, got[1].as_str().unwrap_or_default().to_string())
}

/// axe-core on a page that moves on by itself (a meta refresh), as the server answered it: `html` is
/// written into the document shown, a page of the same origin (so the page's stylesheet loads as when
/// served), and that document is left open. Chromium starts a refresh's timer only once its document
/// has loaded, so the page stays while axe runs; its `<h1>` must read `heading` and the browser must be
/// where it was when axe is done, so the check cannot pass on another page. Afterwards,
/// `document.close()` lets the refresh go.
pub(crate) async fn axe_violations_of_served(browser: &Browser, html: &str, heading: &str) -> Value {
    let before = browser.eval("return location.href").await;
    browser.eval(&format!("document.open(); document.write({}); return true;", json!(html))).await;
    wait_until(
        browser,
        "document.querySelectorAll('link[rel=stylesheet]').length > 0 && \
         Array.from(document.querySelectorAll('link[rel=stylesheet]')).every(function (l) { \
           return l.sheet && l.sheet.cssRules.length > 0; })",
    )
    .await;
    let shown = "return [location.href, (document.querySelector('h1') || {}).textContent, \
                 (document.querySelector('meta[http-equiv=refresh]') || {content: null}).content]";
    let page = browser.eval(shown).await;
    assert_eq!((&page[0], page[1].as_str()), (&before, Some(heading)), "the page written: {page}");
    assert!(page[2].as_str().is_some_and(|c| c.starts_with("0; url=")), "it moves on at once: {page}");
    let violations = axe_violations(browser).await;
    assert_eq!(browser.eval(shown).await, page, "the page stayed while axe ran");
    violations
}

/// Issue 14: console sign-in through a real OpenID provider (`oidc-provider`, tests/api/oidc.rs), in
/// Chromium. A user an admin added for single sign-on signs in with the role set in Cairn; someone the
/// provider gives a role claim gets a console user with that role at the first sign-in (audited); an
/// account whose email the provider marks unverified and that has no role gets no session. The
/// sign-in page with its single sign-on link, and the "signed in" page the callback answers (before its
/// meta refresh moves on), are axe-core clean.
async fn console_single_sign_on_in_a_browser(app: TestApp) {
    let accounts = json!({
        "ivy": {"email": "Ivy@Example.org", "email_verified": true, "name": "Ivy Instructor"},
        "nora": {"email": "nora@example.org", "email_verified": true, "name": "Nora New", "cairn_role": "analyst"},
        "eve": {"email": "eve@example.org", "email_verified": false, "name": "Eve"},
    });
    let Some(provider) = crate::oidc::Provider::start(accounts).await else { return };
    let node = app.with_sso(provider.config()).await;
    let console = cairn::console::Console::new(app.lms.clone(), Default::default());
    let ivy = cairn::console::NewUser {
        email: "ivy@example.org".into(),
        name: "Ivy Instructor".into(),
        role: cairn::console::Role::Instructor,
        password: None,
    };
    console.add_user("test", ivy).await.expect("add ivy");

    let Some(browser) = Browser::start(&node).await else { return };
    browser.open("http://cairn.test/console/sign-in").await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    assert_eq!(axe_violations(&browser).await, json!([]), "sign-in page with single sign-on");
    let link = browser.eval("return document.querySelector('a[href=\"/console/sso\"]').textContent").await;
    assert_eq!(link, "Sign in with Test Provider");
    sso_sign_in(&browser, "http://cairn.test/console/sign-in", "/console/sso", "ivy").await;
    // The "signed in" page moves on by itself to the console, whose Strict cookie it now sends.
    wait_until(&browser, "location.pathname === '/console' && document.readyState === 'complete'").await;
    let header = browser.eval("return document.querySelector('header').textContent").await;
    assert!(header.as_str().is_some_and(|t| t.contains("Ivy Instructor") && t.contains("instructor")), "{header}");
    let users = app.lms.store.console_users().await.expect("users");
    let ivy = users.iter().find(|u| u.email == "ivy@example.org").expect("ivy");
    assert_eq!(ivy.sso_subject.as_deref(), Some(format!("{} ivy", provider.issuer).as_str()));
    assert_eq!(ivy.role, "instructor", "no role claim: the role set in Cairn stays");
    // An instructor cannot manage users (the server says so, whatever the page shows).
    browser.open("http://cairn.test/console/users").await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    let body = browser.eval("return document.body.textContent").await;
    assert!(body.as_str().is_some_and(|t| t.contains("needs the admin role")), "{body}");
    browser.quit().await;

    // A first sign-in with a role claim creates the console user, audited as done by single sign-on.
    let Some(browser) = Browser::start(&node).await else { return };
    sso_sign_in(&browser, "http://cairn.test/console/sign-in", "/console/sso", "nora").await;
    wait_until(&browser, "location.pathname === '/console' && document.readyState === 'complete'").await;
    let users = app.lms.store.console_users().await.expect("users");
    let nora = users.iter().find(|u| u.email == "nora@example.org").expect("nora was added");
    assert_eq!((nora.role.as_str(), nora.name.as_str(), nora.password_hash.is_none()), ("analyst", "Nora New", true));
    let audit = app.lms.store.audit_log(None, 20).await.expect("audit");
    assert!(audit.iter().any(|a| a.actor == "sso" && a.action == "user.add" && a.target == "nora@example.org"));
    browser.quit().await;

    // An unverified email and no role: no account, no session.
    let Some(browser) = Browser::start(&node).await else { return };
    sso_sign_in(&browser, "http://cairn.test/console/sign-in", "/console/sso", "eve").await;
    let body = browser.eval("return document.body.textContent").await;
    assert!(body.as_str().is_some_and(|t| t.contains("has no console account")), "{body}");
    browser.open("http://cairn.test/console").await;
    wait_until(&browser, "location.pathname === '/console/sign-in'").await;
    assert!(app.lms.store.console_users().await.expect("users").iter().all(|u| !u.email.starts_with("eve")));
    browser.quit().await;

    // The "signed in" page, as the callback answers it, is axe-core clean: the provider holds the
    // browser back from the callback, the browser fetches it (same origin, the sign-in's cookie) and
    // the answer is checked before its refresh to the console goes, which it then does, signed in.
    let Some(browser) = Browser::start(&node).await else { return };
    let callback = sso_callback_url(&browser, "http://cairn.test/console/sign-in", "/console/sso", "ivy").await;
    assert!(callback.starts_with("http://cairn.test/console/sso/callback?"), "{callback}");
    // Fetched from a learner page of the same origin: console pages allow scripts no requests.
    browser.open("http://cairn.test/learn/sign-in").await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    let (status, html) = fetch_served(&browser, &callback, None).await;
    assert_eq!(status, 200, "{html}");
    let violations = axe_violations_of_served(&browser, &html, "Signed in").await;
    assert_eq!(violations, json!([]), "accessibility violations on the signed-in page: {violations:#}");
    browser.eval("document.close(); return true;").await;
    wait_until(&browser, "location.pathname === '/console' && document.readyState === 'complete'").await;
    let header = browser.eval("return document.querySelector('header').textContent").await;
    assert!(header.as_str().is_some_and(|t| t.contains("Ivy Instructor")), "{header}");
    browser.quit().await;
}
both!(console_single_sign_on_in_a_browser);

/// Issue 14's main task in Chromium: an admin (a console user signed in with the form) assigns a
/// course to themself, previews its module as that test learner (the preview page opens the launch on
/// the content origin, where the SCO passes), and the course page then shows their row `on_time`. The
/// preview is audited, and its page is axe-core clean (before its meta refresh moves on). An analyst
/// gets 403 for the same preview.
async fn console_preview_as_a_test_learner_turns_the_row_on_time(app: TestApp) {
    let console = cairn::console::Console::new(app.lms.clone(), Default::default());
    for (email, role) in
        [("ada@example.org", cairn::console::Role::Admin), ("al@example.org", cairn::console::Role::Analyst)]
    {
        let user = cairn::console::NewUser {
            email: email.into(),
            name: email.split('@').next().unwrap_or_default().into(),
            role,
            password: Some("correct horse battery".into()),
        };
        console.add_user("test", user).await.expect("add user");
    }
    let course = import(&app, "scorm12-runtime").await;
    let id = course["id"].as_str().expect("course id").to_string();
    let Some(browser) = Browser::start(&app).await else { return };
    browser.open("http://cairn.test/console/sign-in").await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    submit(&browser, &[("login", "ada@example.org"), ("password", "correct horse battery")]).await;
    let page = format!("http://cairn.test/console/course?id={}", urlencode(&id));
    browser.open(&page).await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    submit(&browser, &[("learner", "ada@example.org"), ("due", "2099-12-31")]).await;
    let row = "Array.from(document.querySelectorAll('tbody tr')).map(function (r) { return r.textContent; }).join('|')";
    let rows = browser.eval(&format!("return {row}")).await;
    assert!(rows.as_str().is_some_and(|t| t.contains("ada@example.org") && t.contains("pending")), "{rows}");
    assert_eq!(axe_violations(&browser).await, json!([]), "course page with previews");

    browser
        .eval("document.querySelector('form[action=\"/console/course/preview\"] button').click(); return true;")
        .await;
    // The preview page moves on to the launch on the content origin, where the SCO runs and passes.
    wait_until(&browser, "location.hostname === 'content.cairn.test'").await;
    let started = Instant::now();
    loop {
        let filter = cairn::lms::reports::ResultsFilter { course: Some(id.clone()), limit: 10, ..Default::default() };
        let (results, _) = app.lms.results(&filter, cairn::now_us()).await.expect("results");
        if results.iter().any(|r| r.status == "passed") {
            break;
        }
        assert!(started.elapsed() < PATIENCE, "the preview never passed: {results:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    browser.open(&page).await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    let rows = browser.eval(&format!("return {row}")).await;
    assert!(rows.as_str().is_some_and(|t| t.contains("ada@example.org") && t.contains("on_time")), "{rows}");
    let audit = app.lms.store.audit_log(None, 20).await.expect("audit");
    assert!(audit.iter().any(|a| a.action == "course.preview" && a.actor == "ada@example.org" && a.target == id));

    // The preview page, as the server answers the course page's form (its fields posted by the browser,
    // from a learner page of the same origin: console pages allow scripts no requests), is axe-core
    // clean; checked before its refresh to the launch goes, which it then does.
    browser.open(&page).await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    let form = browser
        .eval("return Array.from(new FormData(document.querySelector('form[action=\"/console/course/preview\"]')))")
        .await;
    assert!(form.as_array().is_some_and(|f| f.len() == 3), "csrf, course and module: {form}");
    browser.open("http://cairn.test/learn/sign-in").await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    let (status, html) = fetch_served(&browser, "/console/course/preview", Some(&form)).await;
    assert_eq!(status, 200, "{html}");
    let violations = axe_violations_of_served(&browser, &html, "Preview of Extinguishers").await;
    assert_eq!(violations, json!([]), "accessibility violations on the preview page: {violations:#}");
    browser.eval("document.close(); return true;").await;
    wait_until(&browser, "location.hostname === 'content.cairn.test'").await;
    browser.quit().await;

    // An analyst's session cannot preview (the server refuses, whatever the page shows).
    let Some(browser) = Browser::start(&app).await else { return };
    browser.open("http://cairn.test/console/sign-in").await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    submit(&browser, &[("login", "al@example.org"), ("password", "correct horse battery")]).await;
    browser.open(&page).await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    assert_eq!(
        browser.eval("return document.querySelectorAll('form[action=\"/console/course/preview\"]').length").await,
        0
    );
    // The analyst's own session and CSRF token, posted as the form would be.
    let csrf = browser.eval("return document.querySelector('input[name=csrf]').value").await;
    let cookie = browser.cmd(reqwest::Method::GET, "/cookie/cairn_console", None).await;
    let answer = app
        .client
        .post(format!("{}/console/course/preview", app.base))
        .header("cookie", format!("cairn_console={}", cookie["value"].as_str().unwrap_or_default()))
        .form(&[("csrf", csrf.as_str().unwrap_or_default()), ("course", id.as_str()), ("module", "LESSON-1")])
        .send()
        .await
        .expect("post");
    assert_eq!(answer.status(), 403, "an analyst's preview");
    browser.quit().await;
}
both!(console_preview_as_a_test_learner_turns_the_row_on_time);

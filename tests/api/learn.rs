//! The learner's side (`/learn`, issue 18) over HTTP as a browser sends it (forms, cookies, redirects
//! not followed): sign-in links, the learner session and who reaches what. The browser test
//! (`browser::a_learner_signs_in_takes_a_course_and_books_a_session`) drives the same pages in
//! Chromium.

use reqwest::{header, Method};
use serde_json::{json, Value};

use crate::support::{TestApp, KEY};
use crate::{both, both_configured};

/// A browser-like client: keeps no cookies of its own and follows no redirects, so tests see both.
fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

pub struct Answer {
    pub status: u16,
    pub body: String,
    pub headers: header::HeaderMap,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

async fn answer(r: reqwest::Response) -> Answer {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    Answer { status, body: r.text().await.unwrap_or_default(), headers }
}

async fn get(app: &TestApp, cookie: &str, path: &str) -> Answer {
    answer(client().get(format!("{}{path}", app.base)).header(header::COOKIE, cookie).send().await.expect("send")).await
}

async fn post(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> Answer {
    let r = client().post(format!("{}{path}", app.base)).header(header::COOKIE, cookie).form(form).send().await;
    answer(r.expect("send")).await
}

fn csrf_of(page: &str) -> String {
    crate::console::csrf_of(page)
}

/// The person owning an agent (made by assigning it something, or by a statement).
pub async fn person_of(app: &TestApp, email: &str) -> String {
    let (s, found) = app.get_json(&format!("/api/persons?search={email}")).await;
    assert_eq!(s, 200, "{found}");
    found["persons"][0]["id"].as_str().unwrap_or_else(|| panic!("no person for {email}: {found}")).to_string()
}

/// Assigns a course to an email, due at `due` (RFC 3339).
pub async fn assign(app: &TestApp, course: &str, email: &str, name: &str, due: &str) {
    let learner = json!({"objectType": "Agent", "name": name, "mbox": format!("mailto:{email}")});
    let r = app
        .req(Method::POST, "/api/assignments")
        .json(&json!({"course": course, "learner": learner, "due": due}))
        .send()
        .await
        .expect("assign");
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
}

/// Issues a sign-in link through the admin API.
pub async fn link_for(app: &TestApp, person: &str) -> Value {
    let r = app.req(Method::POST, &format!("/api/persons/{person}/sign-in-link")).send().await.expect("link");
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
    r.json().await.expect("json")
}

/// The path and query of a link Cairn answered (`http://cairn.test/learn/link?t=…`).
fn path_of(url: &str) -> &str {
    url.strip_prefix("http://cairn.test").unwrap_or(url)
}

/// Uses a sign-in link as the browser's Continue button does; answers the learner cookie.
pub async fn sign_in_with(app: &TestApp, url: &str) -> String {
    let token = url.split("t=").nth(1).expect("a token in the link").to_string();
    let a = post(app, "", "/learn/link", &[("t", &token)]).await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.location(), "/learn");
    let set = a.headers[header::SET_COOKIE].to_str().unwrap_or("").to_string();
    set.split(';').next().unwrap_or("").to_string()
}

fn days(n: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::days(n))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

both!(a_sign_in_link_works_once_and_only_by_its_button);
/// A link opened (GET) shows a Continue button and stays usable, since mail scanners open links;
/// the button's POST uses it once, sets the learner cookie and opens "my training". A second use,
/// an expired link and an unknown one all get the same 410 page. Only admins issue links (audited).
async fn a_sign_in_link_works_once_and_only_by_its_button(app: TestApp) {
    let (s, _) = app.get_json("/api/persons/nobody/sign-in-link").await;
    assert_eq!(s, 405, "a GET issues nothing");
    let statements = app
        .post_statements(&json!({"actor": {"mbox": "mailto:ann@example.com", "name": "Ann Lee"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"}, "object": {"id": "http://example.com/x"}}))
        .await;
    assert_eq!(statements.0, 200);
    let ann = person_of(&app, "ann@example.com").await;
    let link = link_for(&app, &ann).await;
    let url = link["url"].as_str().unwrap_or_default();
    assert!(url.starts_with("http://cairn.test/learn/link?t="), "{link}");
    assert_eq!(link["person"], ann.as_str());
    for _ in 0..2 {
        let page = get(&app, "", path_of(url)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("<button type=\"submit\">Continue</button>"), "{}", page.body);
        assert!(page.headers.get(header::SET_COOKIE).is_none(), "a GET signs nobody in");
    }
    let token = url.split("t=").nth(1).unwrap_or_default();
    let used = post(&app, "", "/learn/link", &[("t", token)]).await;
    assert_eq!((used.status, used.location()), (303, "/learn"), "{}", used.body);
    let set = used.headers[header::SET_COOKIE].to_str().unwrap_or("").to_string();
    for part in ["cairn_learn=", "Path=/learn", "HttpOnly", "SameSite=Strict"] {
        assert!(set.contains(part), "{part} in {set}");
    }
    let cookie = set.split(';').next().unwrap_or("").to_string();
    let page = get(&app, &cookie, "/learn").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Ann Lee") && page.body.contains("My training"), "{}", page.body);
    let csp = page.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap_or("");
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "{csp}");
    assert!(!page.body.contains("<script>"), "no inline script");
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(get(&app, &cookie, "/learn/sign-in").await.location(), "/learn", "signed in already");
    assert_eq!(get(&app, "", "/learn/sign-in").await.status, 200);

    // Used: the same link, a made-up one, an expired one.
    let again = post(&app, "", "/learn/link", &[("t", token)]).await;
    assert_eq!(again.status, 410, "{}", again.body);
    assert!(again.headers.get(header::SET_COOKIE).is_none());
    assert!(again.body.contains("no longer works"), "{}", again.body);
    assert_eq!(get(&app, "", path_of(url)).await.status, 410, "the page says so too");
    assert_eq!(post(&app, "", "/learn/link", &[("t", "made-up")]).await.status, 410);
    assert_eq!(post(&app, "", "/learn/link", &[]).await.status, 410);
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"old-token"));
    let past = cairn::now_us() - 1;
    app.lrs.store.insert_learner_link(&digest, &ann, "test", past - 1_000_000, past).await.expect("insert");
    assert_eq!(post(&app, "", "/learn/link", &[("t", "old-token")]).await.status, 410, "expired");

    // Who may issue links: admins; a credential without the admin scope and anonymous callers not.
    let reader = app.lrs.create_credential("reader", vec!["all".into()], None, None).await.expect("credential");
    let path = format!("{}/api/persons/{ann}/sign-in-link", app.base);
    let r = app.client.post(&path).basic_auth(&reader.key, Some(&reader.secret)).send().await.expect("send");
    assert_eq!(r.status(), 403);
    assert_eq!(app.client.post(&path).send().await.expect("send").status(), 401);
    let r = app.req(Method::POST, "/api/persons/no-such-person/sign-in-link").send().await.expect("send");
    assert_eq!(r.status(), 404);
    let log = app.lrs.store.audit_log(None, 50).await.expect("audit");
    let issued: Vec<_> = log.iter().filter(|e| e.action == "learner.sign_in_link").collect();
    assert_eq!(issued.len(), 1, "{log:?}");
    assert_eq!(
        (issued[0].actor.as_str(), issued[0].target.as_str()),
        (format!("credential:{KEY}").as_str(), ann.as_str())
    );

    // The command line issues the same kind of link (a person given by one of its agents).
    let out = crate::support::cli(&app.database_url, &["learners", "link", "mailto:ann@example.com", "--json"]);
    let cli_link: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(cli_link["person"], ann.as_str());
    let url = cli_link["url"].as_str().unwrap_or_default().to_string();
    let token = url.split("t=").nth(1).unwrap_or_default();
    assert_eq!(post(&app, "", "/learn/link", &[("t", token)]).await.status, 303);

    // Signing out ends the session.
    let csrf = csrf_of(&page.body);
    let out = post(&app, &cookie, "/learn/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!((out.status, out.location()), (303, "/learn/sign-in"));
    assert_eq!(get(&app, &cookie, "/learn").await.location(), "/learn/sign-in");
}

/// Schedules a live session through the admin API; answers its id.
pub async fn schedule(app: &TestApp, body: Value) -> String {
    let r = app.req(Method::POST, "/api/sessions").json(&body).send().await.expect("session");
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let v: Value = r.json().await.expect("json");
    v["id"].as_str().unwrap_or_default().to_string()
}

both!(a_learner_reaches_only_their_own_training);
/// Ann's course, its live session, calendar file and certificate are hers: Bob (another learner),
/// an anonymous browser and a console session reach none of them, and Ann's cookie opens nothing
/// but `/learn`. Every form needs the session's CSRF token, a cross-site POST is refused, and bad
/// input is a 4xx naming what is wrong that changes nothing.
async fn a_learner_reaches_only_their_own_training(app: TestApp) {
    let course = crate::launch::import(&app, "scorm12-runtime").await["id"].as_str().unwrap_or_default().to_string();
    let other = crate::launch::import(&app, "tincan-runtime").await["id"].as_str().unwrap_or_default().to_string();
    assign(&app, &course, "ann@example.com", "Ann Lee", &days(7)).await;
    assign(&app, &other, "bob@example.com", "Bob Roe", &days(7)).await;
    let session = schedule(
        &app,
        json!({"course": course, "title": "Extinguisher drill", "start": days(3), "end": days(4), "capacity": 3,
               "timezone": "Europe/Paris", "join_url": "https://meet.example.com/drill"}),
    )
    .await;
    let ann = sign_in_with(
        &app,
        link_for(&app, &person_of(&app, "ann@example.com").await).await["url"].as_str().unwrap_or_default(),
    )
    .await;
    let bob = sign_in_with(
        &app,
        link_for(&app, &person_of(&app, "bob@example.com").await).await["url"].as_str().unwrap_or_default(),
    )
    .await;
    let ann_page = get(&app, &ann, "/learn").await;
    assert!(ann_page.body.contains("Fire Safety Basics (SCORM 1.2)") && ann_page.body.contains("Extinguisher drill"));
    assert!(!ann_page.body.contains("Join the session now"), "the join link shows only when the session is near");
    let ann_csrf = csrf_of(&ann_page.body);
    let bob_page = get(&app, &bob, "/learn").await;
    assert!(bob_page.body.contains("Fire Safety Basics (TinCan)"), "{}", bob_page.body);
    for theirs in ["SCORM 1.2", "Extinguisher drill", "ann@example.com", "Ann Lee"] {
        assert!(!bob_page.body.contains(theirs), "Bob's page shows {theirs}");
    }
    let bob_csrf = csrf_of(&bob_page.body);

    // Bob with his own valid session and CSRF token: Ann's course and session are not his.
    let cal = format!("/learn/calendar?session={session}");
    let cert = format!("/learn/certificate?course={}", crate::launch::urlencode(&course));
    for (path, form) in [
        ("/learn/start", vec![("csrf", bob_csrf.as_str()), ("course", course.as_str())]),
        ("/learn/book", vec![("csrf", bob_csrf.as_str()), ("session", session.as_str())]),
        ("/learn/cancel", vec![("csrf", bob_csrf.as_str()), ("session", session.as_str())]),
    ] {
        let a = post(&app, &bob, path, &form).await;
        assert_eq!(a.status, 403, "{path}: {}", a.body);
    }
    assert_eq!(get(&app, &bob, &cal).await.status, 403);
    assert_eq!(get(&app, &bob, &cert).await.status, 403);
    assert!(app.lms.bookings(&session).await.expect("bookings").is_empty(), "Bob booked nothing");

    // Signed out, or with only a console session: the sign-in page.
    let (console, _) = {
        let c =
            crate::console::sign_in(&app, KEY, crate::support::SECRET).await.unwrap_or_else(|a| panic!("{}", a.body));
        (c, ())
    };
    for cookie in ["", console.as_str(), "cairn_learn=forged"] {
        assert_eq!(get(&app, cookie, "/learn").await.location(), "/learn/sign-in", "{cookie}");
        assert_eq!(get(&app, cookie, &cal).await.location(), "/learn/sign-in");
        assert_eq!(get(&app, cookie, &cert).await.location(), "/learn/sign-in");
        let a = post(&app, cookie, "/learn/book", &[("csrf", &ann_csrf), ("session", &session)]).await;
        assert_eq!(a.location(), "/learn/sign-in", "{cookie}");
    }
    // Ann's learner cookie is nothing elsewhere: not a console session, not a credential.
    assert_eq!(get(&app, &ann, "/console").await.location(), "/console/sign-in");
    let api =
        client().get(format!("{}/api/courses", app.base)).header(header::COOKIE, &ann).send().await.expect("send");
    assert_eq!(api.status(), 401);
    let xapi = client()
        .get(format!("{}/xapi/statements", app.base))
        .header(header::COOKIE, &ann)
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .await
        .expect("send");
    assert_eq!(xapi.status(), 401);

    // CSRF and cross-site posts: refused, nothing booked.
    assert_eq!(post(&app, &ann, "/learn/book", &[("session", &session)]).await.status, 403);
    assert_eq!(post(&app, &ann, "/learn/book", &[("csrf", "stale"), ("session", &session)]).await.status, 403);
    let r = client()
        .post(format!("{}/learn/book", app.base))
        .header(header::COOKIE, &ann)
        .header("origin", "http://evil.example")
        .form(&[("csrf", ann_csrf.as_str()), ("session", session.as_str())])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 403);
    assert!(app.lms.bookings(&session).await.expect("bookings").is_empty());

    // Bad input names what is wrong and changes nothing.
    let bad = post(&app, &ann, "/learn/timezone", &[("csrf", &ann_csrf), ("timezone", "Mars/Olympus")]).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("Mars/Olympus") && bad.body.contains("not a time zone"), "{}", bad.body);
    assert!(get(&app, &ann, "/learn").await.body.contains("<strong>UTC</strong>"), "the zone is unchanged");
    let missing = post(&app, &ann, "/learn/book", &[("csrf", &ann_csrf), ("session", "no-such-session")]).await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert_eq!(get(&app, &ann, "/learn/certificate?course=").await.status, 403);
    let early = get(&app, &ann, &cert).await;
    assert_eq!(early.status, 403, "no certificate before completion: {}", early.body);

    // Ann's own actions work: her zone, a seat, its calendar file, and the course opens.
    let zone = post(&app, &ann, "/learn/timezone", &[("csrf", &ann_csrf), ("timezone", "Asia/Tokyo")]).await;
    assert_eq!((zone.status, zone.location()), (303, "/learn?done=timezone"));
    let page = get(&app, &ann, "/learn").await;
    assert!(page.body.contains("<strong>Asia/Tokyo</strong>") && page.body.contains(" JST"), "{}", page.body);
    assert!(page.body.contains("Organiser&#39;s time") || page.body.contains("Organiser's time"), "{}", page.body);
    assert!(page.body.contains("(Europe/Paris)"), "{}", page.body);
    let booked = post(&app, &ann, "/learn/book", &[("csrf", &ann_csrf), ("session", &session)]).await;
    assert_eq!((booked.status, booked.location()), (303, "/learn?done=booked"), "{}", booked.body);
    assert_eq!(app.lms.bookings(&session).await.expect("bookings").len(), 1);
    let ics = get(&app, &ann, &cal).await;
    assert_eq!(ics.status, 200);
    assert!(ics.headers[header::CONTENT_TYPE].to_str().unwrap_or("").starts_with("text/calendar"));
    assert!(ics.body.contains("BEGIN:VEVENT") && ics.body.contains("SUMMARY:Extinguisher drill"), "{}", ics.body);
    let start = post(&app, &ann, "/learn/start", &[("csrf", &ann_csrf), ("course", &course)]).await;
    assert_eq!(start.status, 303, "{}", start.body);
    assert!(start.location().starts_with("http://content.cairn.test/launch/"), "{}", start.location());
}

both!(sessions_are_scheduled_in_a_known_time_zone);
/// A live session's zone must be an IANA name Cairn knows (400 naming it otherwise), and a start
/// given without an offset is read in that zone.
async fn sessions_are_scheduled_in_a_known_time_zone(app: TestApp) {
    let course = crate::launch::import(&app, "scorm12-runtime").await["id"].as_str().unwrap_or_default().to_string();
    let r = app
        .req(Method::POST, "/api/sessions")
        .json(&json!({"course": course, "title": "Drill", "start": "2031-07-01T09:00", "end": "2031-07-01T10:00",
                      "timezone": "Mars/Olympus"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap_or_default();
    assert!(body.contains("timezone") && body.contains("Mars/Olympus"), "{body}");
    assert!(app.lms.sessions(Some(&course)).await.expect("sessions").is_empty(), "nothing was scheduled");
    let id = schedule(
        &app,
        json!({"course": course, "title": "Drill", "start": "2031-07-01T09:00", "end": "2031-07-01T10:30",
               "timezone": "Europe/Paris"}),
    )
    .await;
    let s = app.lms.session(&id).await.expect("session");
    assert_eq!(cairn::xapi::timestamp::format_us(s.starts_us), "2031-07-01T07:00:00.000Z", "09:00 in Paris, summer");
    assert_eq!(s.ends_us - s.starts_us, 90 * 60_000_000);
    let r = app
        .req(Method::POST, "/api/sessions")
        .json(&json!({"course": course, "title": "Drill", "start": "tomorrow", "end": "2031-07-01T10:30"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap_or_default().contains("start must be an RFC 3339 time or a local date-time"));
}

/// Clicks the element `selector` names (a form's button) and waits for the next page to load.
async fn click_and_wait(browser: &crate::browser::Browser, selector: &str) {
    browser.eval("window.__cairn_before_click = true; return true;").await;
    let script =
        format!("var e = document.querySelector({}); if (!e) return false; e.click(); return true;", json!(selector));
    assert_eq!(browser.eval(&script).await, json!(true), "nothing to click at {selector}");
    crate::browser::wait_until(browser, "!window.__cairn_before_click && document.readyState === 'complete'").await;
}

/// The page's text.
async fn text_of(browser: &crate::browser::Browser) -> String {
    browser.eval("return document.body.innerText").await.as_str().unwrap_or_default().to_string()
}

/// Fetches a path with the page's cookies (as a download would): `[status, content type, text]`.
async fn fetch_in_page(browser: &crate::browser::Browser, path: &str) -> Value {
    browser
        .eval_async(
            "var done = arguments[arguments.length - 1]; \
             fetch(arguments[0], {credentials: 'same-origin'}).then(function (r) { \
               return r.arrayBuffer().then(function (b) { \
                 var bytes = new Uint8Array(b), s = ''; \
                 for (var i = 0; i < Math.min(bytes.length, 4000); i++) s += String.fromCharCode(bytes[i]); \
                 done([r.status, r.headers.get('content-type'), s]); }); \
             }, function (e) { done(['failed', String(e)]); });",
            json!([path]),
        )
        .await
}

/// axe-core finds no serious or critical violation on the page shown.
async fn axe_clean(browser: &crate::browser::Browser, what: &str) {
    let violations = crate::browser::axe_violations(browser).await;
    assert_eq!(violations, json!([]), "accessibility violations on {what}: {violations:#}");
}

both!(a_learner_signs_in_takes_a_course_and_books_a_session_in_a_browser);
/// Issue 18 in Chromium: Ann signs in with her sign-in link (the Continue button), sees her course
/// due in her time zone, joins the waitlist of a full session, books a seat in another, cancels and
/// books again, sees its join link (it starts within minutes), downloads its `.ics`, launches the
/// course (which completes itself), comes back to see it `on_time` with its score and downloads
/// the certificate; Bob, signed in the same way, sees none of it. axe-core clean on every page, and
/// no sideways scroll on a phone. `CAIRN_LEARN_SCREENSHOTS=DIR` saves `learn.png` and
/// `learn-phone.png` there.
async fn a_learner_signs_in_takes_a_course_and_books_a_session_in_a_browser(app: TestApp) {
    use crate::browser::{wait_until, Browser};
    let Some(browser) = Browser::start(&app).await else { return };
    let course = crate::launch::import(&app, "scorm12-runtime").await["id"].as_str().unwrap_or_default().to_string();
    let other = crate::launch::import(&app, "tincan-runtime").await["id"].as_str().unwrap_or_default().to_string();
    let due = days(7);
    assign(&app, &course, "ann@example.com", "Ann Lee", &due).await;
    assign(&app, &other, "bob@example.com", "Bob Roe", &days(9)).await;
    let soon = |minutes: i64| {
        (time::OffsetDateTime::now_utc() + time::Duration::minutes(minutes))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    // A full session (Carl holds its one seat) and an online one starting in ten minutes; neither
    // is required, so the course completes with its module.
    let full = schedule(
        &app,
        json!({"course": course, "title": "Hands-on drill", "start": days(2), "end": soon(2 * 24 * 60 + 120), "capacity": 1,
               "timezone": "Europe/Paris", "location": "Hall B", "required": false}),
    )
    .await;
    let carl = json!({"learner": {"mbox": "mailto:carl@example.com"}});
    let r = app.req(Method::POST, &format!("/api/sessions/{full}/bookings")).json(&carl).send().await.expect("book");
    assert_eq!(r.status(), 201);
    let online = schedule(
        &app,
        json!({"course": course, "title": "Live Q&A", "start": soon(10), "end": soon(70), "capacity": 20,
               "timezone": "America/New_York", "join_url": "https://meet.example.com/qa", "required": false}),
    )
    .await;

    // Signing in: the link's page, then its Continue button.
    let link = link_for(&app, &person_of(&app, "ann@example.com").await).await;
    browser.open(link["url"].as_str().unwrap_or_default()).await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    axe_clean(&browser, "the sign-in link's page").await;
    click_and_wait(&browser, "form[action='/learn/link'] button").await;
    assert_eq!(browser.eval("return location.pathname").await, "/learn");
    axe_clean(&browser, "my training").await;
    let text = text_of(&browser).await;
    assert!(text.contains("Fire Safety Basics (SCORM 1.2)") && text.contains("Ann Lee"), "{text}");

    // Her time zone, then the due date in it.
    crate::browser::submit(&browser, &[("timezone", "Asia/Tokyo")]).await;
    let tokyo = cairn::lms::zones::zone("Asia/Tokyo").expect("zone");
    let due_us =
        cairn::xapi::timestamp::parse_timestamp(&due).map(|t| (t.unix_timestamp_nanos() / 1000) as i64).unwrap_or(0);
    let text = text_of(&browser).await;
    assert!(text.contains("Your time zone is saved.") && text.contains("Asia/Tokyo"), "{text}");
    let shown = cairn::lms::zones::show(due_us, &tokyo);
    assert!(text.contains(&format!("Due\n{shown}")) || text.contains(&shown), "due {shown} in {text}");
    assert!(text.contains("Pending"), "{text}");

    // The full session offers its waitlist.
    let slot = |id: &str, inner: &str| format!("[data-session='{id}'] {inner}");
    let label = browser
        .eval(&format!(
            "return document.querySelector({}).textContent",
            json!(slot(&full, "form[action='/learn/book'] button"))
        ))
        .await;
    assert!(label.as_str().is_some_and(|l| l.starts_with("Join the waitlist")), "{label}");
    click_and_wait(&browser, &slot(&full, "form[action='/learn/book'] button")).await;
    let text = text_of(&browser).await;
    assert!(text.contains("you are on its waitlist") && text.contains("On the waitlist (place 1)"), "{text}");

    // The online session: book, cancel, book again; its join link shows (it starts in minutes).
    click_and_wait(&browser, &slot(&online, "form[action='/learn/book'] button")).await;
    assert!(text_of(&browser).await.contains("Your seat is booked."));
    click_and_wait(&browser, &slot(&online, "form[action='/learn/cancel'] button")).await;
    assert!(text_of(&browser).await.contains("Your booking is cancelled."));
    assert_eq!(
        browser.eval(&format!("return !!document.querySelector({})", json!(slot(&online, "a.join")))).await,
        json!(false),
        "no join link without a seat"
    );
    click_and_wait(&browser, &slot(&online, "form[action='/learn/book'] button")).await;
    let href = browser.eval(&format!("return document.querySelector({}).href", json!(slot(&online, "a.join")))).await;
    assert_eq!(href, "https://meet.example.com/qa");
    let text = text_of(&browser).await;
    assert!(text.contains("(America/New_York)") && text.contains("JST"), "both zones: {text}");
    axe_clean(&browser, "my training with bookings").await;
    let seats: Vec<_> =
        app.lms.bookings(&online).await.expect("bookings").into_iter().filter(|b| b.has_seat()).collect();
    assert_eq!(seats.len(), 1, "one seat after cancelling and booking again");

    // The calendar file, as the link downloads it.
    let ics = fetch_in_page(&browser, &format!("/learn/calendar?session={online}")).await;
    assert_eq!(ics[0], 200, "{ics}");
    assert!(ics[1].as_str().unwrap_or("").starts_with("text/calendar"), "{ics}");
    let body = ics[2].as_str().unwrap_or("");
    assert!(body.contains("SUMMARY:Live Q&A") && body.contains("URL:https://meet.example.com/qa"), "{body}");
    if let Ok(dir) = std::env::var("CAIRN_LEARN_SCREENSHOTS") {
        // Tall enough to show both sessions.
        browser.cmd(Method::POST, "/window/rect", Some(json!({"width": 1100, "height": 1250}))).await;
        std::fs::write(format!("{dir}/learn.png"), browser.screenshot().await).expect("screenshot");
        browser.cmd(Method::POST, "/window/rect", Some(json!({"width": 1100, "height": 760}))).await;
    }

    // The course: Start launches it (one module), the SCO completes itself with 85 %.
    click_and_wait(&browser, "form[action='/learn/start'] button").await;
    let started = std::time::Instant::now();
    loop {
        let (_, r) = app.get_json(&format!("/api/results?course={}", crate::launch::urlencode(&course))).await;
        let row = r["results"]
            .as_array()
            .and_then(|rows| rows.iter().find(|x| x["learner"]["mbox"] == "mailto:ann@example.com").cloned());
        if row.as_ref().is_some_and(|x| x["compliance"] == "on_time") {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "the course never completed: {r}");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    browser.open("http://cairn.test/learn").await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    let done = format!("tr[data-course='{course}']");
    let row = browser.eval(&format!("var r = document.querySelector({}); return r && r.innerText", json!(done))).await;
    let row = row.as_str().unwrap_or_default().to_string();
    assert!(row.contains("Completed on time") && row.contains("85 %"), "{row}");
    axe_clean(&browser, "my training after completing").await;
    let href = browser
        .eval(&format!("return document.querySelector({}).getAttribute('href')", json!(format!("{done} a"))))
        .await;
    let pdf = fetch_in_page(&browser, href.as_str().unwrap_or_default()).await;
    assert_eq!((pdf[0].clone(), pdf[1].clone()), (json!(200), json!("application/pdf")), "{pdf}");
    assert!(pdf[2].as_str().unwrap_or("").starts_with("%PDF-"), "{pdf}");
    assert!(pdf[2].as_str().unwrap_or("").contains("Ann Lee"), "the certificate names her");

    // On a phone: usable, no sideways scroll, still axe-clean.
    browser.cmd(Method::POST, "/window/rect", Some(json!({"width": 400, "height": 860}))).await;
    browser.open("http://cairn.test/learn").await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    axe_clean(&browser, "my training on a phone").await;
    let wide = browser.eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth").await;
    assert_eq!(wide, json!(0), "the page does not scroll sideways on a phone");
    if let Ok(dir) = std::env::var("CAIRN_LEARN_SCREENSHOTS") {
        std::fs::write(format!("{dir}/learn-phone.png"), browser.screenshot().await).expect("screenshot");
    }

    // Signing out; the sign-in page; a used link's page.
    click_and_wait(&browser, "form[action='/learn/sign-out'] button").await;
    assert_eq!(browser.eval("return location.pathname").await, "/learn/sign-in");
    axe_clean(&browser, "the sign-in page").await;
    browser.open(link["url"].as_str().unwrap_or_default()).await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    assert!(text_of(&browser).await.contains("no longer works"));
    axe_clean(&browser, "a used link's page").await;

    // Bob signs in the same way and sees none of Ann's training.
    let link = link_for(&app, &person_of(&app, "bob@example.com").await).await;
    browser.cmd(Method::POST, "/window/rect", Some(json!({"width": 1100, "height": 760}))).await;
    browser.open(link["url"].as_str().unwrap_or_default()).await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    click_and_wait(&browser, "form[action='/learn/link'] button").await;
    let text = text_of(&browser).await;
    assert!(text.contains("Fire Safety Basics (TinCan)") && text.contains("Bob Roe"), "{text}");
    for theirs in ["SCORM 1.2", "Live Q&A", "Hands-on drill", "Ann Lee", "85 %"] {
        assert!(!text.contains(theirs), "Bob sees {theirs}: {text}");
    }
    let cert = fetch_in_page(&browser, href.as_str().unwrap_or_default()).await;
    assert_eq!(cert[0], 403, "Ann's certificate is not Bob's: {cert}");
    axe_clean(&browser, "another learner's training").await;
    browser.quit().await;
}

both!(a_course_of_several_modules_opens_in_the_player_and_attendance_shows);
/// Start opens a course of several modules in the course player (content origin); a single module
/// launches (see above). Attendance marked by an instructor shows on the learner's page with what
/// remains. `/learn` is not served on the content origin. A learner session ends after 30 minutes
/// idle, and at once when the person is erased.
async fn a_course_of_several_modules_opens_in_the_player_and_attendance_shows(app: TestApp) {
    let course = crate::player::import_scorm12_pair(&app).await;
    assign(&app, &course, "ann@example.com", "Ann Lee", &days(5)).await;
    let session = schedule(
        &app,
        json!({"course": course, "title": "Yard walk", "start": days(-2), "end": days(-1), "timezone": "UTC"}),
    )
    .await;
    // Booked before it took place (the API books past sessions; learners cannot), then attended.
    let ann_agent = json!({"learner": {"mbox": "mailto:ann@example.com"}});
    let r = app
        .req(Method::POST, &format!("/api/sessions/{session}/bookings"))
        .json(&ann_agent)
        .send()
        .await
        .expect("book");
    assert_eq!(r.status(), 201);
    let person = person_of(&app, "ann@example.com").await;
    let ann = sign_in_with(&app, link_for(&app, &person).await["url"].as_str().unwrap_or_default()).await;
    let page = get(&app, &ann, "/learn").await;
    assert!(page.body.contains("0 of 2 modules done") && page.body.contains("0 of 1 attended"), "{}", page.body);
    assert!(page.body.contains("Booked; attendance not recorded"), "{}", page.body);
    assert!(!page.body.contains("Cancel my booking"), "a past session cannot be cancelled");
    let csrf = csrf_of(&page.body);
    let late = post(&app, &ann, "/learn/cancel", &[("csrf", &csrf), ("session", &session)]).await;
    assert_eq!(late.status, 409, "{}", late.body);
    assert!(late.body.contains("has started"), "{}", late.body);
    let r = app
        .req(Method::POST, &format!("/api/sessions/{session}/attendance"))
        .json(&ann_agent)
        .send()
        .await
        .expect("attend");
    assert!(r.status().is_success());
    let page = get(&app, &ann, "/learn").await;
    assert!(page.body.contains("1 of 1 attended") && page.body.contains(">Attended<"), "{}", page.body);
    assert!(page.body.contains("0 of 2 modules done"), "what remains after it: {}", page.body);

    let start = post(&app, &ann, "/learn/start", &[("csrf", &csrf), ("course", &course)]).await;
    assert_eq!(start.status, 303, "{}", start.body);
    assert!(start.location().starts_with("http://content.cairn.test/player/"), "{}", start.location());
    let on_content = client().get(format!("{}/learn", app.content_base)).header(header::COOKIE, &ann).send().await;
    assert_eq!(on_content.expect("send").status(), 404);

    // Idle for longer than 30 minutes: signed out.
    let idle = cairn::learn::Learn::new(
        app.lms.clone(),
        cairn::learn::LearnConfig { idle: std::time::Duration::from_millis(1), ..Default::default() },
    );
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let token = ann.split_once('=').map(|(_, t)| t).unwrap_or_default();
    assert!(idle.learner(token).await.expect("lookup").is_none(), "an idle session is over");
    // Erasing the person ends their session and their links.
    let spare = link_for(&app, &person).await;
    let r = app.req(Method::DELETE, &format!("/api/persons/{person}")).send().await.expect("erase");
    assert!(r.status().is_success(), "{}", r.text().await.unwrap_or_default());
    assert_eq!(get(&app, &ann, "/learn").await.location(), "/learn/sign-in");
    let token = spare["url"].as_str().unwrap_or_default().split("t=").nth(1).unwrap_or_default().to_string();
    assert_eq!(post(&app, "", "/learn/link", &[("t", &token)]).await.status, 410);
}

fn https(c: &mut cairn::lrs::LrsConfig) {
    c.public_url = "https://cairn.test".into();
}

both_configured!(behind_https_the_cookie_is_secure_and_host_pinned, https);
/// Served as `https://…`, the learner cookie is `__Host-cairn_learn; Secure; Path=/` (browsers
/// accept the `__Host-` prefix only with `Path=/`), and links name the public https address.
async fn behind_https_the_cookie_is_secure_and_host_pinned(app: TestApp) {
    let course = crate::launch::import(&app, "scorm12-runtime").await["id"].as_str().unwrap_or_default().to_string();
    assign(&app, &course, "ann@example.com", "Ann Lee", &days(7)).await;
    let link = link_for(&app, &person_of(&app, "ann@example.com").await).await;
    let url = link["url"].as_str().unwrap_or_default();
    assert!(url.starts_with("https://cairn.test/learn/link?t="), "{url}");
    let token = url.split("t=").nth(1).unwrap_or_default();
    let used = post(&app, "", "/learn/link", &[("t", token)]).await;
    assert_eq!(used.status, 303, "{}", used.body);
    let set = used.headers[header::SET_COOKIE].to_str().unwrap_or("").to_string();
    for part in ["__Host-cairn_learn=", "Path=/;", "HttpOnly", "SameSite=Strict", "Secure"] {
        assert!(set.contains(part), "{part} in {set}");
    }
    let cookie = set.split(';').next().unwrap_or("").to_string();
    assert_eq!(get(&app, &cookie, "/learn").await.status, 200);
    // The plain name is not read in this mode (a cookie tossed in without the prefix signs nobody in).
    let plain = cookie.replace("__Host-cairn_learn=", "cairn_learn=");
    assert_eq!(get(&app, &plain, "/learn").await.location(), "/learn/sign-in");
}

/// Issue 18: a learner signs in to `/learn` through a real OpenID provider (`oidc-provider`,
/// tests/api/oidc.rs) in Chromium and lands on their own training, the person owning `mailto:` the
/// provider's verified email; the sign-in page offers the provider's link and is axe-core clean, and
/// so is the "signed in" page the callback answers (before its meta refresh moves on).
/// Someone the store has never seen gets a person of their own and an empty page; an account
/// whose email the provider marks unverified gets no session.
async fn a_learner_signs_in_with_single_sign_on_in_a_browser(app: TestApp) {
    use crate::browser::{axe_violations_of_served, fetch_served, sso_callback_url, sso_sign_in, wait_until, Browser};
    let accounts = json!({
        "lena": {"email": "Lena@Example.com", "email_verified": true, "name": "Lena Park"},
        "zed": {"email": "zed@example.com", "email_verified": true, "name": "Zed New"},
        "eve": {"email": "ann@example.com", "email_verified": false},
    });
    let Some(provider) = crate::oidc::Provider::start(accounts).await else { return };
    let node = app.with_sso(provider.config()).await;
    let course = crate::launch::import(&app, "scorm12-runtime").await["id"].as_str().unwrap_or_default().to_string();
    assign(&app, &course, "lena@example.com", "Lena Park", &days(7)).await;
    assign(&app, &course, "ann@example.com", "Ann Lee", &days(7)).await;

    let Some(browser) = Browser::start(&node).await else { return };
    browser.open("http://cairn.test/learn/sign-in").await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    axe_clean(&browser, "the sign-in page with single sign-on").await;
    sso_sign_in(&browser, "http://cairn.test/learn/sign-in", "/learn/sso", "lena").await;
    wait_until(&browser, "location.pathname === '/learn' && document.readyState === 'complete'").await;
    let text = text_of(&browser).await;
    assert!(text.contains("Fire Safety Basics (SCORM 1.2)") && text.contains("Lena Park"), "{text}");
    assert!(!text.contains("Ann Lee"), "nothing of another learner: {text}");
    browser.quit().await;

    let Some(browser) = Browser::start(&node).await else { return };
    sso_sign_in(&browser, "http://cairn.test/learn/sign-in", "/learn/sso", "zed").await;
    wait_until(&browser, "location.pathname === '/learn' && document.readyState === 'complete'").await;
    let text = text_of(&browser).await;
    assert!(text.contains("Zed New") && !text.contains("Fire Safety Basics"), "{text}");
    assert!(person_of(&app, "zed@example.com").await.len() > 10, "zed has a person now");
    browser.quit().await;

    // An unverified email is never used: no session as Ann.
    let Some(browser) = Browser::start(&node).await else { return };
    sso_sign_in(&browser, "http://cairn.test/learn/sign-in", "/learn/sso", "eve").await;
    let text = text_of(&browser).await;
    assert!(text.contains("no verified email"), "{text}");
    browser.open("http://cairn.test/learn").await;
    wait_until(&browser, "location.pathname === '/learn/sign-in'").await;
    browser.quit().await;

    // The "signed in" page, as the callback answers it, is axe-core clean: the provider holds the
    // browser back from the callback, a learner page fetches it (same origin, the sign-in's cookie) and
    // the answer is checked before its refresh to /learn goes, which it then does, signed in.
    let Some(browser) = Browser::start(&node).await else { return };
    let callback = sso_callback_url(&browser, "http://cairn.test/learn/sign-in", "/learn/sso", "lena").await;
    assert!(callback.starts_with("http://cairn.test/learn/sso/callback?"), "{callback}");
    browser.open("http://cairn.test/learn/sign-in").await;
    wait_until(&browser, "document.readyState === 'complete'").await;
    let (status, html) = fetch_served(&browser, &callback, None).await;
    assert_eq!(status, 200, "{html}");
    let violations = axe_violations_of_served(&browser, &html, "Signed in").await;
    assert_eq!(violations, json!([]), "accessibility violations on the signed-in page: {violations:#}");
    browser.eval("document.close(); return true;").await;
    wait_until(&browser, "location.pathname === '/learn' && document.readyState === 'complete'").await;
    assert!(text_of(&browser).await.contains("Lena Park"), "signed in as Lena");
    browser.quit().await;
}
both!(a_learner_signs_in_with_single_sign_on_in_a_browser);

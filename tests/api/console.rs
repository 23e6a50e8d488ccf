//! The console (`/console`): sign-in, sessions, CSRF, roles, and the pages' actions, over HTTP as a
//! browser sends them (forms, cookies, redirects not followed). The browser tests drive the same pages
//! in Chromium (`browser::console_*`).

use reqwest::header;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::both;
use crate::support::{TestApp, KEY, SECRET};
use cairn::console::{Console, ConsoleConfig, NewUser, Role};

/// A browser-like client: keeps no cookies of its own and follows no redirects, so tests see both.
fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

pub struct Answer {
    pub status: u16,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
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

/// Signs in; the session cookie (`name=value`), or None with the refusal.
pub async fn sign_in(app: &TestApp, login: &str, password: &str) -> Result<String, Answer> {
    let r = client()
        .post(format!("{}/console/sign-in", app.base))
        .form(&[("login", login), ("password", password)])
        .send()
        .await
        .expect("send");
    let a = answer(r).await;
    let cookie = a
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .map(str::to_string);
    match (a.status, cookie) {
        (303, Some(c)) => Ok(c),
        _ => Err(a),
    }
}

pub async fn get(app: &TestApp, cookie: &str, path: &str) -> Answer {
    answer(client().get(format!("{}{path}", app.base)).header(header::COOKIE, cookie).send().await.expect("send")).await
}

pub async fn post(app: &TestApp, cookie: &str, path: &str, form: &[(&str, &str)]) -> Answer {
    let r = client().post(format!("{}{path}", app.base)).header(header::COOKIE, cookie).form(form).send().await;
    answer(r.expect("send")).await
}

/// The CSRF token a page's forms carry.
pub fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + "name=\"csrf\" value=\"".len();
    page[at..].split('"').next().unwrap_or("").to_string()
}

fn console(app: &TestApp) -> Console {
    Console::new(app.lms.clone(), ConsoleConfig::default())
}

pub async fn add_user(app: &TestApp, email: &str, role: Role) -> String {
    let u = NewUser {
        email: email.into(),
        name: format!("{role:?} user"),
        role,
        password: Some("correct horse battery".into()),
    };
    console(app).add_user("test", u).await.expect("add user").id
}

async fn admin_session(app: &TestApp) -> (String, String) {
    let cookie = sign_in(app, KEY, SECRET).await.unwrap_or_else(|a| panic!("sign-in refused: {} {}", a.status, a.body));
    let page = get(app, &cookie, "/console").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = csrf_of(&page.body);
    (cookie, csrf)
}

both!(the_bootstrap_credential_signs_in_and_every_page_renders_without_script);
async fn the_bootstrap_credential_signs_in_and_every_page_renders_without_script(app: TestApp) {
    let r = client().get(format!("{}/console", app.base)).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 303, "signed out: redirected to sign-in");
    assert_eq!(r.headers()[header::LOCATION], "/console/sign-in");
    let (cookie, _) = admin_session(&app).await;
    for path in ["/console", "/console/statements", "/console/credentials", "/console/users", "/console/audit"] {
        let page = get(&app, &cookie, path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        let csp = page.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap_or("");
        assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"), "{path}: {csp}");
        assert!(!page.body.contains("<script"), "{path} has no script");
        assert_eq!(page.headers[header::CACHE_CONTROL], "no-store", "{path}");
    }
}

both!(the_session_cookie_is_http_only_and_same_site_strict);
async fn the_session_cookie_is_http_only_and_same_site_strict(app: TestApp) {
    let r = client()
        .post(format!("{}/console/sign-in", app.base))
        .form(&[("login", KEY), ("password", SECRET)])
        .send()
        .await
        .expect("send");
    let set = r.headers()[header::SET_COOKIE].to_str().unwrap_or("").to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"), "{set}");
}

both!(a_wrong_password_or_unknown_account_is_refused_alike);
async fn a_wrong_password_or_unknown_account_is_refused_alike(app: TestApp) {
    add_user(&app, "ann@example.com", Role::Analyst).await;
    let wrong = sign_in(&app, "ann@example.com", "not her password").await.expect_err("wrong password");
    let unknown = sign_in(&app, "nobody@example.com", "correct horse battery").await.expect_err("unknown");
    let non_admin_credential = {
        let c = app.lrs.create_credential("reader", vec!["all/read".into()], None, None).await.expect("credential");
        sign_in(&app, &c.key, &c.secret).await.expect_err("a credential without admin")
    };
    for a in [&wrong, &unknown, &non_admin_credential] {
        assert_eq!(a.status, 401);
        assert!(a.body.contains("do not match an active account"), "{}", a.body);
    }
    assert!(sign_in(&app, "ANN@example.com", "correct horse battery").await.is_ok(), "emails are case-insensitive");
}

both!(every_form_needs_the_sessions_csrf_token);
async fn every_form_needs_the_sessions_csrf_token(app: TestApp) {
    let (cookie, csrf) = admin_session(&app).await;
    let user =
        [("email", "bob@example.com"), ("name", "Bob"), ("role", "admin"), ("password", "correct horse battery")];
    let without = post(&app, &cookie, "/console/users", &user).await;
    assert_eq!(without.status, 403, "{}", without.body);
    let mut wrong = user.to_vec();
    wrong.push(("csrf", "not-the-token"));
    assert_eq!(post(&app, &cookie, "/console/users", &wrong).await.status, 403);
    assert!(console(&app).users().await.expect("users").is_empty(), "nothing was added");
    let mut right = user.to_vec();
    right.push(("csrf", &csrf));
    let ok = post(&app, &cookie, "/console/users", &right).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(console(&app).users().await.expect("users").len(), 1);
}

both!(cross_site_posts_are_refused_before_any_handler);
async fn cross_site_posts_are_refused_before_any_handler(app: TestApp) {
    let (cookie, csrf) = admin_session(&app).await;
    let form = [("csrf", csrf.as_str()), ("name", "evil"), ("scope", "all")];
    for (name, value) in [("origin", "http://evil.example"), ("sec-fetch-site", "cross-site")] {
        let r = client()
            .post(format!("{}/console/credentials", app.base))
            .header(header::COOKIE, &cookie)
            .header(name, value)
            .form(&form)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), 403, "{name}: {value}");
    }
    let names: Vec<String> = app.lrs.credentials().await.expect("credentials").into_iter().map(|c| c.name).collect();
    assert!(!names.contains(&"evil".to_string()), "{names:?}");
}

both!(an_analyst_reads_but_cannot_change_anything);
async fn an_analyst_reads_but_cannot_change_anything(app: TestApp) {
    add_user(&app, "ann@example.com", Role::Analyst).await;
    let (status, ids) = app
        .post_statements(&json!({"actor": {"mbox": "mailto:learner@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": "http://example.com/course"}}))
        .await;
    assert_eq!(status, 200);
    let id = ids[0].as_str().unwrap_or_default().to_string();
    let cookie =
        sign_in(&app, "ann@example.com", "correct horse battery").await.unwrap_or_else(|a| panic!("{}", a.body));
    let overview = get(&app, &cookie, "/console").await;
    assert_eq!(overview.status, 200);
    assert!(!overview.body.contains("/console/credentials"), "admin links are not shown to analysts");
    let csrf = csrf_of(&overview.body);
    let list = get(&app, &cookie, "/console/statements").await;
    assert!(list.status == 200 && list.body.contains(&id[..8]), "{}", list.body);
    let one = get(&app, &cookie, &format!("/console/statements/{id}")).await;
    assert!(one.status == 200 && !one.body.contains("/void"), "no voiding offered to analysts");
    for path in ["/console/credentials", "/console/users", "/console/audit"] {
        assert_eq!(get(&app, &cookie, path).await.status, 403, "{path}");
    }
    let before = app.lrs.credentials().await.expect("credentials").len();
    let (revoke, void) = (format!("/console/credentials/{KEY}/revoke"), format!("/console/statements/{id}/void"));
    let actions: [(&str, Vec<(&str, &str)>); 4] = [
        ("/console/credentials", vec![("csrf", &csrf), ("name", "mine"), ("scope", "all")]),
        (&revoke, vec![("csrf", &csrf)]),
        (
            "/console/users",
            vec![
                ("csrf", &csrf),
                ("email", "eve@example.com"),
                ("name", "Eve"),
                ("role", "admin"),
                ("password", "correct horse battery"),
            ],
        ),
        (&void, vec![("csrf", &csrf)]),
    ];
    for (path, form) in &actions {
        let a = post(&app, &cookie, path, form).await;
        assert_eq!(a.status, 403, "{path}: {}", a.body);
    }
    assert_eq!(app.lrs.credentials().await.expect("credentials").len(), before);
    assert!(app.lrs.store.credential(KEY).await.expect("lookup").is_some_and(|c| c.revoked_us.is_none()));
    assert_eq!(console(&app).users().await.expect("users").len(), 1);
    let (_, st) = app.get_json(&format!("/xapi/statements?statementId={id}")).await;
    assert_eq!(st["id"], id.as_str(), "the statement is not voided");
}

both!(an_admin_creates_and_revokes_credentials_and_the_audit_log_says_so);
async fn an_admin_creates_and_revokes_credentials_and_the_audit_log_says_so(app: TestApp) {
    let (cookie, csrf) = admin_session(&app).await;
    let made = post(
        &app,
        &cookie,
        "/console/credentials",
        &[("csrf", &csrf), ("name", "LMS feed"), ("scope", "statements/write")],
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let c =
        app.lrs.credentials().await.expect("credentials").into_iter().find(|c| c.name == "LMS feed").expect("created");
    assert_eq!(c.scopes, ["statements/write"]);
    assert!(made.body.contains(&c.key) && made.body.contains("not shown again"), "the secret is shown once");
    let again = get(&app, &cookie, "/console/credentials").await;
    assert!(!again.body.contains("not shown again"));
    let bad =
        post(&app, &cookie, "/console/credentials", &[("csrf", &csrf), ("name", "x"), ("scope", "everything")]).await;
    assert!(bad.status == 400 && bad.body.contains("unknown scope"), "{}", bad.body);
    let revoked = post(&app, &cookie, &format!("/console/credentials/{}/revoke", c.key), &[("csrf", &csrf)]).await;
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    assert!(app.lrs.store.credential(&c.key).await.expect("lookup").is_some_and(|c| c.revoked_us.is_some()));
    let audit = get(&app, &cookie, "/console/audit").await;
    assert_eq!(audit.status, 200);
    for action in ["credential.add", "credential.revoke"] {
        assert!(audit.body.contains(action) && audit.body.contains(&c.key), "{action}: {}", audit.body);
    }
    assert!(audit.body.contains(&format!("credential:{KEY}")), "the actor is named");
}

both!(an_admin_voids_a_statement_from_its_page);
async fn an_admin_voids_a_statement_from_its_page(app: TestApp) {
    let (_, ids) = app
        .post_statements(&json!({"actor": {"mbox": "mailto:learner@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"}, "object": {"id": "http://example.com/quiz"}}))
        .await;
    let id = ids[0].as_str().unwrap_or_default().to_string();
    let (cookie, csrf) = admin_session(&app).await;
    let page = get(&app, &cookie, &format!("/console/statements/{id}")).await;
    assert!(page.body.contains(&format!("/console/statements/{id}/void")), "{}", page.body);
    let voided = post(&app, &cookie, &format!("/console/statements/{id}/void"), &[("csrf", &csrf)]).await;
    assert_eq!(voided.status, 303, "{}", voided.body);
    let (status, _) = app.get_json(&format!("/xapi/statements?statementId={id}")).await;
    assert_eq!(status, 404, "voided statements are only served by voidedStatementId");
    let after = get(&app, &cookie, &format!("/console/statements/{id}")).await;
    assert!(after.status == 200 && after.body.contains("has been voided"), "{}", after.body);
}

both!(the_statement_browser_filters_and_pages);
async fn the_statement_browser_filters_and_pages(app: TestApp) {
    let batch: Vec<_> = (0..30)
        .map(|i| {
            json!({"actor": {"mbox": format!("mailto:l{}@example.com", i % 2)},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                "object": {"id": format!("http://example.com/page/{i}")}})
        })
        .collect();
    assert_eq!(app.post_statements(&json!(batch)).await.0, 200);
    let (cookie, _) = admin_session(&app).await;
    let first = get(&app, &cookie, "/console/statements?agent=l0%40example.com").await;
    assert_eq!(first.status, 200);
    assert!(first.body.contains("15 statements") && !first.body.contains("Next page"), "{}", first.body);
    let all = get(&app, &cookie, "/console/statements").await;
    assert!(all.body.contains("25 statements") && all.body.contains("Next page"), "a page of 25, then more");
    let next = all.body.split("href=\"/console/statements?").nth(1).and_then(|s| s.split('"').next()).expect("link");
    let second = get(&app, &cookie, &format!("/console/statements?{}", next.replace("&amp;", "&"))).await;
    assert!(second.status == 200 && second.body.contains("5 statements"), "{}", second.body);
    let bad = get(&app, &cookie, "/console/statements?since=yesterday").await;
    assert!(bad.status == 400 && bad.body.contains("since"), "a clear error names the filter: {}", bad.body);
}

both!(disabling_a_user_ends_their_sessions_and_signing_out_ends_one);
async fn disabling_a_user_ends_their_sessions_and_signing_out_ends_one(app: TestApp) {
    let id = add_user(&app, "ian@example.com", Role::Instructor).await;
    let ian = sign_in(&app, "ian@example.com", "correct horse battery").await.unwrap_or_else(|a| panic!("{}", a.body));
    assert_eq!(get(&app, &ian, "/console").await.status, 200);
    let (admin, csrf) = admin_session(&app).await;
    let done = post(&app, &admin, &format!("/console/users/{id}/disable"), &[("csrf", &csrf)]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let after = get(&app, &ian, "/console").await;
    assert_eq!((after.status, after.location()), (303, "/console/sign-in"));
    assert!(sign_in(&app, "ian@example.com", "correct horse battery").await.is_err(), "disabled users cannot sign in");
    let out = post(&app, &admin, "/console/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(get(&app, &admin, "/console").await.status, 303, "signed out");
}

both!(an_idle_session_expires);
async fn an_idle_session_expires(app: TestApp) {
    let cookie = sign_in(&app, KEY, SECRET).await.unwrap_or_else(|a| panic!("{}", a.body));
    let token = cookie.split_once('=').map(|(_, t)| t).unwrap_or_default();
    let digest = hex::encode(Sha256::digest(token.as_bytes()));
    let idle = ConsoleConfig::default().idle.as_micros() as i64;
    app.lrs.store.touch_console_session(&digest, cairn::now_us() - idle - 1_000_000).await.expect("touch");
    assert_eq!(get(&app, &cookie, "/console").await.status, 303, "idle past the limit: signed out");
}

both!(the_console_is_not_served_on_the_content_origin);
async fn the_console_is_not_served_on_the_content_origin(app: TestApp) {
    for path in ["/console", "/console/sign-in", "/console/assets/console.css"] {
        let r = client().get(format!("{}{path}", app.content_base)).send().await.expect("send");
        assert_eq!(r.status().as_u16(), 404, "{path}");
    }
    let r = client()
        .post(format!("{}/console/sign-in", app.content_base))
        .form(&[("login", KEY), ("password", SECRET)])
        .send()
        .await
        .expect("send");
    assert!(r.headers().get(header::SET_COOKIE).is_none(), "no session is ever issued there");
}

/// Uploads a fixture package through the console's form (multipart: the CSRF field, then the file).
async fn upload(app: &TestApp, cookie: &str, csrf: Option<&str>, fixture: &str) -> Answer {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/packages").join(fixture);
    let zip = crate::courses::zip_folder(&dir);
    let mut body = Vec::new();
    let boundary = "cairn-console-test-boundary";
    if let Some(token) = csrf {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{fixture}.zip\"\r\n\
             Content-Type: application/zip\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&zip);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    send_multipart(app, cookie, "/console/courses", boundary, body).await
}

/// POSTs a `multipart/form-data` body with the session cookie.
async fn send_multipart(app: &TestApp, cookie: &str, path: &str, boundary: &str, body: Vec<u8>) -> Answer {
    let r = client()
        .post(format!("{}{path}", app.base))
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await;
    answer(r.expect("send")).await
}

both!(an_admin_uploads_a_package_assigns_it_and_waives_an_assignment);
async fn an_admin_uploads_a_package_assigns_it_and_waives_an_assignment(app: TestApp) {
    let (cookie, csrf) = admin_session(&app).await;
    let done = upload(&app, &cookie, Some(&csrf), "scorm12-single").await;
    assert_eq!(done.status, 303, "{}", done.body);
    let course_page = done.location().to_string();
    assert!(course_page.starts_with("/console/course?id="), "{course_page}");
    let page = get(&app, &cookie, &course_page).await;
    assert!(page.status == 200 && page.body.contains("Single SCO Course") && page.body.contains("The Lesson"));
    let list = get(&app, &cookie, "/console/courses").await;
    assert!(list.body.contains("Single SCO Course"), "{}", list.body);
    let course_id = app.lms.courses().await.expect("courses")[0].id.clone();

    let form = |learner: &'static str, due: &'static str| {
        vec![("csrf", csrf.clone()), ("course", course_id.clone()), ("learner", learner.into()), ("due", due.into())]
    };
    let bad = form("ann@example.com", "next week");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = post(&app, &cookie, "/console/assignments", &bad).await;
    assert!(refused.status == 400 && refused.body.contains("YYYY-MM-DD"), "{}", refused.body);
    let ok = form("ann@example.com", "2030-01-31");
    let ok: Vec<(&str, &str)> = ok.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let assigned = post(&app, &cookie, "/console/assignments", &ok).await;
    assert_eq!(assigned.status, 303, "{}", assigned.body);
    let page = get(&app, &cookie, assigned.location()).await;
    assert!(page.body.contains("ann@example.com") && page.body.contains("2030-01-31 23:59"), "{}", page.body);
    assert!(page.body.contains("pending"), "{}", page.body);
    let a = app.lms.assignments(Some(&course_id), None).await.expect("assignments");
    assert_eq!(a.len(), 1);
    let waived = post(
        &app,
        &cookie,
        &format!("/console/assignments/{}/waive", a[0].id),
        &[("csrf", &csrf), ("reason", "exempt")],
    )
    .await;
    assert_eq!(waived.status, 303, "{}", waived.body);
    let a = app.lms.assignments(Some(&course_id), None).await.expect("assignments");
    assert_eq!(a[0].waived_reason.as_deref(), Some("exempt"));
    let audit = get(&app, &cookie, "/console/audit").await;
    for action in ["course.import", "assignment.add", "assignment.waive"] {
        assert!(audit.body.contains(action), "{action}");
    }
}

both!(uploads_need_the_admin_role_and_the_csrf_token_before_the_file);
async fn uploads_need_the_admin_role_and_the_csrf_token_before_the_file(app: TestApp) {
    let (cookie, csrf) = admin_session(&app).await;
    assert_eq!(upload(&app, &cookie, None, "scorm12-single").await.status, 403, "no token");
    add_user(&app, "ann@example.com", Role::Analyst).await;
    let ann = sign_in(&app, "ann@example.com", "correct horse battery").await.unwrap_or_else(|a| panic!("{}", a.body));
    let ann_csrf = csrf_of(&get(&app, &ann, "/console").await.body);
    assert_eq!(upload(&app, &ann, Some(&ann_csrf), "scorm12-single").await.status, 403, "analyst");
    assert!(!get(&app, &ann, "/console/courses").await.body.contains("enctype"), "no upload form for analysts");
    assert!(app.lms.courses().await.expect("courses").is_empty(), "nothing was imported");
    let broken = upload(&app, &cookie, Some(&csrf), "scorm-missing-launch").await;
    assert_eq!(broken.status, 400, "a broken package is a clear 400: {}", broken.body);
    assert!(broken.body.contains("class=\"error\""), "{}", broken.body);
}

both!(an_instructor_or_an_analyst_cannot_preview_a_module);
/// `POST /console/course/preview` is the admin's: an instructor's and an analyst's sessions, with their
/// own valid CSRF tokens, get 403 (the role, not the token) for a SCORM module and a cmi5 AU (and a
/// request without a session is sent to sign in), and nothing is started: no launch, no statement (a
/// cmi5 preview writes `launched`), no audit row. The same forms from an admin's session do all three,
/// so the counts would see them.
async fn an_instructor_or_an_analyst_cannot_preview_a_module(app: TestApp) {
    let scorm = crate::launch::import(&app, "scorm12-runtime").await["id"].as_str().unwrap_or_default().to_string();
    let cmi5 = crate::launch::import(&app, "cmi5-runtime").await["id"].as_str().unwrap_or_default().to_string();
    let previews =
        [(scorm.as_str(), "LESSON-1"), (cmi5.as_str(), "https://cairn.example/courses/fire-safety-cmi5/alarm")];
    let statements = || async {
        let (status, page) = app.get_json("/xapi/statements?limit=100").await;
        assert_eq!(status, 200, "{page}");
        page["statements"].as_array().map(Vec::len).unwrap_or_default()
    };
    let previews_audited = || async {
        let log = app.lms.store.audit_log(None, 100).await.expect("audit");
        log.iter().filter(|a| a.action == "course.preview").count()
    };
    let launches_of = |email: &str| {
        let key = cairn::xapi::agent::key(&json!({"mbox": format!("mailto:{email}")})).expect("agent key");
        let (store, scorm) = (app.lrs.store.clone(), scorm.clone());
        async move { store.launches_of(&key, &scorm, "").await.expect("launches").len() }
    };
    let (statements_before, audited_before) = (statements().await, previews_audited().await);
    for (email, role) in [("ivy@example.org", Role::Instructor), ("al@example.org", Role::Analyst)] {
        add_user(&app, email, role).await;
        let cookie = sign_in(&app, email, "correct horse battery").await.unwrap_or_else(|a| panic!("{}", a.body));
        for (course, module) in previews {
            let page = get(&app, &cookie, &format!("/console/course?id={}", crate::launch::urlencode(course))).await;
            assert_eq!(page.status, 200, "{email} reads the course page: {}", page.body);
            assert!(!page.body.contains("/console/course/preview"), "no preview offered to {email}");
            let csrf = csrf_of(&page.body);
            let form = [("csrf", csrf.as_str()), ("course", course), ("module", module)];
            let refused = post(&app, &cookie, "/console/course/preview", &form).await;
            assert_eq!(refused.status, 403, "{email} previewing {module}: {}", refused.body);
            assert!(refused.body.contains("needs the admin role"), "refused for the role: {}", refused.body);
        }
        assert_eq!(launches_of(email).await, 0, "no launch for {email}");
    }
    let signed_out = post(&app, "", "/console/course/preview", &[("course", &scorm), ("module", "LESSON-1")]).await;
    assert_eq!((signed_out.status, signed_out.location()), (303, "/console/sign-in"), "signed out");
    assert_eq!(statements().await, statements_before, "no statement");
    assert_eq!(previews_audited().await, audited_before, "no audit row");

    // An admin's session: the same forms start both previews.
    add_user(&app, "ada@example.org", Role::Admin).await;
    let ada = sign_in(&app, "ada@example.org", "correct horse battery").await.unwrap_or_else(|a| panic!("{}", a.body));
    for (course, module) in previews {
        let page = get(&app, &ada, &format!("/console/course?id={}", crate::launch::urlencode(course))).await;
        let csrf = csrf_of(&page.body);
        let form = [("csrf", csrf.as_str()), ("course", course), ("module", module)];
        let started = post(&app, &ada, "/console/course/preview", &form).await;
        assert_eq!(started.status, 200, "the admin previews {module}: {}", started.body);
    }
    assert_eq!(launches_of("ada@example.org").await, 1, "the admin's SCORM launch");
    assert!(statements().await > statements_before, "the cmi5 preview wrote its first statements");
    assert_eq!(previews_audited().await, audited_before + 2);
}

both!(an_instructor_schedules_a_session_books_learners_and_marks_attendance);
async fn an_instructor_schedules_a_session_books_learners_and_marks_attendance(app: TestApp) {
    crate::launch::import(&app, "scorm12-single").await;
    let course = app.lms.courses().await.expect("courses")[0].id.clone();
    add_user(&app, "ian@example.com", Role::Instructor).await;
    add_user(&app, "ann@example.com", Role::Analyst).await;
    let ian = sign_in(&app, "ian@example.com", "correct horse battery").await.unwrap_or_else(|a| panic!("{}", a.body));
    let csrf = csrf_of(&get(&app, &ian, "/console/sessions").await.body);
    let form = [
        ("csrf", csrf.as_str()),
        ("course", course.as_str()),
        ("title", "Fire drill"),
        ("start", "2030-03-01T09:30"),
        ("minutes", "90"),
        ("timezone", "Europe/Paris"),
        ("capacity", "1"),
    ];
    let made = post(&app, &ian, "/console/sessions", &form).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let page_url = made.location().to_string();
    let s = app.lms.sessions(Some(&course)).await.expect("sessions").remove(0);
    assert_eq!((s.title.as_str(), s.ends_us - s.starts_us, s.capacity), ("Fire drill", 90 * 60_000_000, Some(1)));
    // The start was entered in the organiser's zone: 09:30 in Paris (winter time) is 08:30 UTC.
    assert_eq!(cairn::xapi::timestamp::format_us(s.starts_us), "2030-03-01T08:30:00.000Z");
    // The calendar of March 2030 shows it on Friday the 1st (weeks start on Monday: 25 Feb to 31 Mar).
    let cal = get(&app, &ian, "/console/sessions?month=2030-03").await;
    assert!(cal.body.contains("Sessions in 2030-03"), "{}", cal.body);
    let first = cal.body.split("2030-03-01</span>").nth(1).expect("1 March").split("</td>").next().unwrap_or("");
    assert!(first.contains("08:30 Fire drill"), "{first}");
    assert!(cal.body.contains("2030-02-25</span>") && cal.body.contains("2030-03-31</span>"), "{}", cal.body);
    assert!(cal.body.contains("month=2030-02") && cal.body.contains("month=2030-04"));
    assert_eq!(get(&app, &ian, "/console/sessions?month=March").await.status, 400);
    let book = |email: &'static str| {
        let (ian, csrf, id) = (ian.clone(), csrf.clone(), s.id.clone());
        let app = &app;
        async move { post(app, &ian, "/console/session/book", &[("csrf", &csrf), ("id", &id), ("email", email)]).await }
    };
    assert_eq!(book("lee@example.com").await.status, 303);
    // The session is full: Max waits on its waitlist, holding no seat.
    let full = book("max@example.com").await;
    assert_eq!(full.status, 303, "{}", full.body);
    assert!(full.location().ends_with("notice=waitlisted"), "{}", full.location());
    let page = get(&app, &ian, &page_url).await;
    assert!(page.body.contains("lee@example.com") && page.body.contains("1 of 1"), "{}", page.body);
    assert!(page.body.contains("<h2>Waitlist</h2>\n<ol><li>max@example.com</li></ol>"), "{}", page.body);
    let booking_key = app.lms.bookings(&s.id).await.expect("bookings")[0].learner_key.clone();
    let marked =
        post(&app, &ian, "/console/session/attendance", &[("csrf", &csrf), ("id", &s.id), ("learner", &booking_key)])
            .await;
    assert_eq!(marked.status, 303, "{}", marked.body);
    let page = get(&app, &ian, &format!("/console/session?id={}", s.id)).await;
    assert!(page.body.contains("attended") && page.body.contains("checked disabled"), "{}", page.body);
    let stranger = post(
        &app,
        &ian,
        "/console/session/attendance",
        &[("csrf", &csrf), ("id", &s.id), ("learner", "mbox::mailto:x@example.com")],
    )
    .await;
    assert_eq!(stranger.status, 400, "only booked learners can be marked");

    let ann = sign_in(&app, "ann@example.com", "correct horse battery").await.unwrap_or_else(|a| panic!("{}", a.body));
    let ann_csrf = csrf_of(&get(&app, &ann, "/console").await.body);
    assert_eq!(get(&app, &ann, &format!("/console/session?id={}", s.id)).await.status, 200, "analysts read");
    for (path, form) in [
        (
            "/console/sessions",
            vec![
                ("csrf", ann_csrf.as_str()),
                ("course", course.as_str()),
                ("title", "x"),
                ("start", "2030-03-01T09:30"),
                ("minutes", "60"),
            ],
        ),
        ("/console/session/cancel", vec![("csrf", ann_csrf.as_str()), ("id", s.id.as_str())]),
        (
            "/console/session/book",
            vec![("csrf", ann_csrf.as_str()), ("id", s.id.as_str()), ("email", "max@example.com")],
        ),
    ] {
        assert_eq!(post(&app, &ann, path, &form).await.status, 403, "{path}");
    }
    assert_eq!(app.lms.sessions(None).await.expect("sessions").len(), 1);
    let cancelled = post(&app, &ian, "/console/session/cancel", &[("csrf", &csrf), ("id", &s.id)]).await;
    assert_eq!(cancelled.status, 303);
    assert!(app.lms.session(&s.id).await.expect("session").cancelled_us.is_some());
}

both!(exports_stream_every_statement_of_the_filter_and_reports_give_their_csv);
async fn exports_stream_every_statement_of_the_filter_and_reports_give_their_csv(app: TestApp) {
    // More than one export page (500), two learners.
    let batch: Vec<_> = (0..620)
        .map(|i| {
            json!({"actor": {"mbox": format!("mailto:l{}@example.com", i % 2)},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                "object": {"id": format!("http://example.com/page/{i}")}})
        })
        .collect();
    assert_eq!(app.post_statements(&json!(batch)).await.0, 200);
    add_user(&app, "ann@example.com", Role::Analyst).await;
    let ann = sign_in(&app, "ann@example.com", "correct horse battery").await.unwrap_or_else(|a| panic!("{}", a.body));
    let all = get(&app, &ann, "/console/statements.jsonl").await;
    assert_eq!(all.status, 200);
    assert!(all.headers[header::CONTENT_DISPOSITION].to_str().unwrap_or("").contains("attachment"));
    let lines: Vec<serde_json::Value> =
        all.body.lines().map(|l| serde_json::from_str(l).expect("a JSON statement a line")).collect();
    assert_eq!(lines.len(), 620);
    let ids: std::collections::HashSet<&str> = lines.iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(ids.len(), 620, "no statement twice");
    let one = get(&app, &ann, "/console/statements.csv?agent=l1%40example.com").await;
    let rows: Vec<&str> = one.body.lines().collect();
    assert_eq!(rows[0], "id,stored,timestamp,actor,verb,object,registration");
    assert_eq!(rows.len(), 311, "a header and 310 rows");
    assert!(rows[1..].iter().all(|r| r.contains("mailto:l1@example.com")));
    assert_eq!(
        get(&app, &ann, "/console/statements.jsonl?since=never").await.status,
        400,
        "a bad filter is a 400 page"
    );

    crate::launch::import(&app, "scorm12-single").await;
    let course = app.lms.courses().await.expect("courses")[0].id.clone();
    let assign =
        json!({"course": course, "learner": {"mbox": "mailto:late@example.com"}, "due": "2020-01-01T00:00:00Z"});
    let r = app.req(reqwest::Method::POST, "/api/assignments").json(&assign).send().await.expect("assign");
    assert_eq!(r.status().as_u16(), 201, "{:?}", r.text().await);
    let overdue = get(&app, &ann, "/console/reports?compliance=overdue").await;
    assert!(overdue.status == 200 && overdue.body.contains("late@example.com") && overdue.body.contains("1 rows"));
    let csv = get(&app, &ann, "/console/reports.csv?compliance=overdue").await;
    assert!(csv.body.lines().count() == 2 && csv.body.contains("late@example.com,") && csv.body.contains("overdue"));
    let none = get(&app, &ann, "/console/reports?compliance=on_time").await;
    assert!(none.body.contains("0 rows"), "{}", none.body);
    let bad = get(&app, &ann, "/console/reports?due_before=soon").await;
    assert!(bad.status == 400 && bad.body.contains("due before"), "{}", bad.body);
    // By group: a team's assignment, its members' rows only, with the compliance chart of the filter.
    let team = json!({"objectType": "Group", "name": "Team A", "mbox": "mailto:team-a@example.com",
                      "member": [{"mbox": "mailto:m1@example.com"}, {"mbox": "mailto:m2@example.com"}]});
    let assign = json!({"course": course, "group": team, "due": "2099-01-01T00:00:00Z"});
    let r = app.req(reqwest::Method::POST, "/api/assignments").json(&assign).send().await.expect("assign");
    assert_eq!(r.status().as_u16(), 201, "{:?}", r.text().await);
    let all = get(&app, &ann, "/console/reports").await;
    assert!(
        all.body.contains("<option value=\"Group|mbox:mailto:team-a@example.com\">team-a@example.com</option>"),
        "{}",
        all.body
    );
    assert!(all.body.contains("3 assigned rows of this filter by compliance: 0 on_time, 0 late, 1 overdue, 2 pending"));
    let by_team = get(&app, &ann, "/console/reports?group=Group%7Cmbox%3Amailto%3Ateam-a%40example.com").await;
    assert!(by_team.status == 200 && by_team.body.contains("2 rows"), "{}", by_team.body);
    assert!(by_team.body.contains("m1@example.com") && !by_team.body.contains("late@example.com"));
    let csv = get(&app, &ann, "/console/reports.csv?group=Group%7Cmbox%3Amailto%3Ateam-a%40example.com").await;
    assert_eq!(csv.body.lines().count(), 3, "a header and the team's two rows: {}", csv.body);
}

both!(learners_are_found_by_email_or_name_and_their_page_shows_courses_bookings_and_statements);
async fn learners_are_found_by_email_or_name_and_their_page_shows_courses_bookings_and_statements(app: TestApp) {
    crate::launch::import(&app, "scorm12-single").await;
    let course = app.lms.courses().await.expect("courses")[0].id.clone();
    let lee = json!({"mbox": "mailto:lee.park@example.com", "name": "Lee Park"});
    for (who, page) in [(&lee, 1), (&json!({"mbox": "mailto:max_100@example.com", "name": "Max"}), 2)] {
        let st = json!({"actor": who, "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": format!("http://example.com/page/{page}")}});
        assert_eq!(app.post_statements(&st).await.0, 200);
    }
    let assign =
        json!({"course": course, "learner": {"mbox": "mailto:lee.park@example.com"}, "due": "2031-05-01T00:00:00Z"});
    assert_eq!(
        app.req(reqwest::Method::POST, "/api/assignments").json(&assign).send().await.expect("assign").status(),
        201
    );
    let session =
        json!({"course": course, "title": "Kick-off", "start": "2031-04-01T09:00:00Z", "end": "2031-04-01T10:00:00Z"});
    let r = app.req(reqwest::Method::POST, "/api/sessions").json(&session).send().await.expect("session");
    let session: serde_json::Value = r.json().await.expect("json");
    let book = json!({"learner": {"mbox": "mailto:lee.park@example.com"}});
    let path = format!("/api/sessions/{}/bookings", session["id"].as_str().unwrap_or_default());
    assert!(app.req(reqwest::Method::POST, &path).json(&book).send().await.expect("book").status().is_success());

    let (cookie, _) = admin_session(&app).await;
    let by_name = get(&app, &cookie, "/console/learners?q=PARK").await;
    assert!(by_name.body.contains("Lee Park") && !by_name.body.contains("Max"), "{}", by_name.body);
    let literal = get(&app, &cookie, "/console/learners?q=x_1").await;
    assert!(literal.body.contains("Max") && !literal.body.contains("Lee Park"), "{}", literal.body);
    let wildcards = get(&app, &cookie, "/console/learners?q=%25%25").await;
    assert!(wildcards.body.contains("0 learners"), "% and _ are matched literally: {}", wildcards.body);
    let link = by_name.body.split("href=\"/console/learner?").nth(1).and_then(|s| s.split('"').next()).expect("link");
    let page = get(&app, &cookie, &format!("/console/learner?{}", link.replace("&amp;", "&"))).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for expected in ["Lee Park", "2031-05-01", "pending", "Kick-off", "http://example.com/page/1"] {
        assert!(page.body.contains(expected), "{expected} on the learner page: {}", page.body);
    }
    assert!(!page.body.contains("http://example.com/page/2"), "another learner's statement");
    // Lee's second identifier, joined to her person: listed, and its statements are hers.
    let lms_lee = json!({"account": {"homePage": "https://lms.example.com", "name": "lpark"}});
    let st = json!({"actor": lms_lee, "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": "http://example.com/page/3"}});
    assert_eq!(app.post_statements(&st).await.0, 200);
    let persons = app.lms.search_persons("lee.park", 5).await.expect("persons");
    app.lms.add_identifier(&persons[0].id, &lms_lee).await.expect("add identifier");
    let page = get(&app, &cookie, &format!("/console/learner?{}", link.replace("&amp;", "&"))).await;
    for expected in ["Also known as", "https://lms.example.com lpark", "http://example.com/page/3", "Kick-off"] {
        assert!(page.body.contains(expected), "{expected} on the learner page: {}", page.body);
    }
    assert_eq!(get(&app, &cookie, "/console/learner?key=Agent%7Cmbox%3Amailto%3Anobody%40x.org").await.status, 404);
}

/// A course's page summarises its results: learners per score band, completions per week and the
/// time spent, each as an SVG chart with a table and a sentence for screen readers.
async fn the_course_page_charts_scores_completions_and_time(app: TestApp) {
    let course = crate::launch::import(&app, "scorm12-single").await;
    let id = course["id"].as_str().expect("id").to_string();
    let module = crate::launch::first_module(&course);
    let activity = cairn::results::ids::module_activity_id(&id, &module);
    for (who, scaled, secs) in [("s1", 0.85, 600), ("s2", 0.82, 1200), ("s3", 0.45, 1800)] {
        let st = json!({"actor": {"mbox": format!("mailto:{who}@example.com")},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}, "object": {"id": activity},
            "result": {"completion": true, "score": {"scaled": scaled}, "duration": format!("PT{secs}S")}});
        assert_eq!(app.post_statements(&st).await.0, 200);
    }
    let (cookie, _) = admin_session(&app).await;
    let page =
        get(&app, &cookie, &format!("/console/course?{}", serde_urlencoded::to_string([("id", &id)]).unwrap())).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for expected in [
        "3 learners with a score, by score band of ten points",
        "<td>80–89 %</td><td class=\"num\">2</td>",
        "<td>40–49 %</td><td class=\"num\">1</td>",
        "3 completions in the last 12 weeks, per week",
        "<dt>Median</dt><dd>20 min</dd>",
        "<dt>Mean</dt><dd>20 min</dd>",
    ] {
        assert!(page.body.contains(expected), "{expected} on the course page: {}", page.body);
    }
}
both!(the_course_page_charts_scores_completions_and_time);

/// The overview counts active learners per week once per person, whatever identifiers they used,
/// and completions per course.
async fn the_overview_counts_active_persons_and_completions(app: TestApp) {
    let course = crate::launch::import(&app, "scorm12-single").await;
    let id = course["id"].as_str().expect("id").to_string();
    let activity = cairn::results::ids::module_activity_id(&id, &crate::launch::first_module(&course));
    let ann = json!({"mbox": "mailto:ann.w@example.com"});
    let ann_lms = json!({"account": {"homePage": "https://lms.example.com", "name": "annw"}});
    for who in [&ann, &ann_lms, &json!({"mbox": "mailto:bo.w@example.com"})] {
        let st = json!({"actor": who, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": activity}, "result": {"completion": true}});
        assert_eq!(app.post_statements(&st).await.0, 200);
    }
    let (cookie, _) = admin_session(&app).await;
    let page = get(&app, &cookie, "/console").await;
    assert!(page.body.contains("3 learners active this week"), "{}", page.body);
    assert!(page.body.contains("3 learners completed or passed, across 1 courses"), "{}", page.body);
    let persons = app.lms.search_persons("ann.w", 5).await.expect("persons");
    app.lms.add_identifier(&persons[0].id, &ann_lms).await.expect("merge");
    let page = get(&app, &cookie, "/console").await;
    assert!(page.body.contains("2 learners active this week"), "one person: {}", page.body);
    assert!(page.body.contains("2 learners completed or passed"), "{}", page.body);
}
both!(the_overview_counts_active_persons_and_completions);

/// A multipart form posting `csv` as the `file` field of `/console/assignments/bulk`.
async fn post_csv(app: &TestApp, cookie: &str, csrf: &str, csv: &str) -> Answer {
    let boundary = "cairn-console-csv-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    send_multipart(app, cookie, "/console/assignments/bulk", boundary, body.into_bytes()).await
}

/// Bulk assignment from an uploaded CSV: a file with a bad row shows each bad row and assigns
/// nothing; a good file assigns every row; only an admin may.
async fn bulk_assignment_from_a_csv_is_all_or_nothing(app: TestApp) {
    let course = crate::launch::import(&app, "scorm12-single").await;
    let id = course["id"].as_str().expect("id");
    let (cookie, csrf) = admin_session(&app).await;
    let bad = format!(
        "learner,course,due,grace_days\nann@example.com,{id},2031-01-31,2\nnot-an-email,{id},2031-01-31,\n\
         bo@example.com,https://example.com/no-such-course,2031-01-31,\n\"cy@example.com\",{id},tomorrow,\n"
    );
    let refused = post_csv(&app, &cookie, &csrf, &bad).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    for expected in [
        "3 rows of the file were refused; nothing was assigned.",
        "<td class=\"num\">3</td>",
        "not-an-email",
        "no course https://example.com/no-such-course",
        "<td class=\"num\">5</td>",
    ] {
        assert!(refused.body.contains(expected), "{expected}: {}", refused.body);
    }
    assert!(app.lms.assignments(Some(id), None).await.expect("assignments").is_empty(), "nothing half-imported");
    let good = format!("learner,course,due,grace_days\nann@example.com,{id},2031-01-31,2\n\"mailto:bo@example.com\",{id},2031-02-01T12:00:00Z,\n");
    let done = post_csv(&app, &cookie, &csrf, &good).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = get(&app, &cookie, done.location()).await;
    assert!(page.body.contains("2 assignments made from the file."), "{}", page.body);
    let rows = app.lms.assignments(Some(id), None).await.expect("assignments");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows.iter().find(|a| a.learner_key.contains("ann@")).expect("ann").grace_days, 2);
    assert!(get(&app, &cookie, "/console/audit").await.body.contains("assignment.bulk"));
    // An analyst cannot, whatever the file says.
    add_user(&app, "an@example.com", Role::Analyst).await;
    let an = sign_in(&app, "an@example.com", "correct horse battery").await.unwrap_or_else(|a| panic!("{}", a.body));
    let an_csrf = csrf_of(&get(&app, &an, "/console").await.body);
    assert_eq!(post_csv(&app, &an, &an_csrf, &good).await.status, 403);
    assert_eq!(app.lms.assignments(Some(id), None).await.expect("assignments").len(), 2);

    // The same over the admin API, as text/csv.
    let api = |body: String| {
        app.req(reqwest::Method::POST, "/api/assignments/bulk").header("Content-Type", "text/csv").body(body).send()
    };
    let r = api(bad.clone()).await.expect("send");
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["rows"].as_array().map(Vec::len), Some(3), "{v}");
    assert_eq!(v["rows"][0]["line"], 3);
    let r = api(format!("learner,course,due\ncy@example.com,{id},2031-03-01\n")).await.expect("send");
    assert_eq!(r.status(), 201);
    let r = api("who,what\nx,y\n".into()).await.expect("send");
    assert_eq!(r.status(), 400, "a header without the needed columns is named");
    // Only the admin scope reaches the API route; signed out, the console route sends to sign-in.
    app.lrs
        .create_credential("csv-reader", vec!["all/read".into()], Some("csv-reader".into()), Some("pw".into()))
        .await
        .expect("cred");
    for (auth, want) in [(Some(("csv-reader", "pw")), 403), (None, 401)] {
        let mut r = client().post(format!("{}/api/assignments/bulk", app.base)).header("Content-Type", "text/csv");
        if let Some((k, p)) = auth {
            r = r.basic_auth(k, Some(p));
        }
        let r = r.body(format!("learner,course,due\nzed@example.com,{id},2031-03-01\n")).send().await.expect("send");
        assert_eq!(r.status().as_u16(), want);
    }
    assert_eq!(post_csv(&app, "", &csrf, &good).await.status, 303, "signed out");
    assert_eq!(app.lms.assignments(Some(id), None).await.expect("assignments").len(), 3, "none of them assigned");
}
both!(bulk_assignment_from_a_csv_is_all_or_nothing);

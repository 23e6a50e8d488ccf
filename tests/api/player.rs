//! The course player (issue 19) over HTTP: opening it (`POST /api/players`), its page, state and
//! navigation on the content origin, and SCO reports through the launch credential
//! (`POST /launch/{id}/sequencing`), on both backends. The course is a small SCORM 2004 package built
//! here: three SCOs under flow and choice, where the quiz is disabled until the introduction's
//! objective, shared through a global objective, is known. Browser tests are in `browser.rs`.

use std::io::Write;

use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::launch::{as_cred, scorm_credential};
use crate::support::TestApp;

/// The manifest: intro writes its primary objective to a global one that the quiz reads; the quiz's
/// precondition disables it while that objective is unknown or not satisfied (remediation: a learner
/// who failed the introduction cannot choose the quiz). A SCO that reports no success is satisfied
/// when its attempt ends (SN UP.4), so while the intro runs silently a choice of the quiz is valid.
const MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="urn:cairn:test:player-course" xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3" xmlns:imsss="http://www.imsglobal.org/xsd/imsss"
  xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="ORG">
    <organization identifier="ORG" adlseq:objectivesGlobalToSystem="false">
      <title>Safety at work</title>
      <item identifier="intro" identifierref="R-intro"><title>Introduction</title>
        <imsss:sequencing><imsss:objectives>
          <imsss:primaryObjective objectiveID="intro-obj">
            <imsss:mapInfo targetObjectiveID="urn:cairn:test:intro-done" writeSatisfiedStatus="true"/>
          </imsss:primaryObjective>
        </imsss:objectives></imsss:sequencing>
      </item>
      <item identifier="lesson" identifierref="R-lesson"><title>Lesson</title></item>
      <item identifier="quiz" identifierref="R-quiz"><title>Quiz</title>
        <imsss:sequencing>
          <imsss:sequencingRules><imsss:preConditionRule>
            <imsss:ruleConditions conditionCombination="any">
              <imsss:ruleCondition referencedObjective="intro-read" operator="not" condition="objectiveStatusKnown"/>
              <imsss:ruleCondition referencedObjective="intro-read" operator="not" condition="satisfied"/>
            </imsss:ruleConditions>
            <imsss:ruleAction action="disabled"/>
          </imsss:preConditionRule></imsss:sequencingRules>
          <imsss:objectives>
            <imsss:primaryObjective objectiveID="quiz-obj"/>
            <imsss:objective objectiveID="intro-read">
              <imsss:mapInfo targetObjectiveID="urn:cairn:test:intro-done" readSatisfiedStatus="true"/>
            </imsss:objective>
          </imsss:objectives>
        </imsss:sequencing>
      </item>
      <imsss:sequencing><imsss:controlMode choice="true" flow="true"/></imsss:sequencing>
    </organization>
  </organizations>
  <resources>
    <resource identifier="R-intro" type="webcontent" adlcp:scormType="sco" href="intro.html"><file href="intro.html"/><file href="sco.js"/></resource>
    <resource identifier="R-lesson" type="webcontent" adlcp:scormType="sco" href="lesson.html"><file href="lesson.html"/><file href="sco.js"/></resource>
    <resource identifier="R-quiz" type="webcontent" adlcp:scormType="sco" href="quiz.html"><file href="quiz.html"/><file href="sco.js"/></resource>
  </resources>
</manifest>
"#;

/// The SCOs' shared script: finds the API, runs the page's steps, and writes what the API answered
/// into the page (`data-*` attributes) for the browser test to read.
const SCO_JS: &str = r#"
function findAPI(w) { for (var i = 0; w && i < 10; i++) { if (w.API_1484_11) return w.API_1484_11; if (w.parent === w) break; w = w.parent; } return null; }
var api = findAPI(window);
function note(k, v) { document.body.setAttribute('data-' + k, v); }
function run(steps) {
  if (!api) { note('error', 'no API'); return; }
  api.Initialize('');
  note('entry', api.GetValue('cmi.entry'));
  note('location', api.GetValue('cmi.location'));
  steps(api);
  note('continue', api.GetValue('adl.nav.request_valid.continue'));
  note('previous', api.GetValue('adl.nav.request_valid.previous'));
  note('ready', 'true');
}
"#;

fn sco_page(title: &str, steps: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><main><h1>{title}</h1><p>A module of the test course.</p></main>\
         <script src=\"sco.js\"></script><script>run(function (api) {{ {steps} }});</script></body></html>\n"
    )
}

/// The test package as a zip: the intro passes and waits for the learner's Continue; the lesson
/// completes and asks to continue itself (`adl.nav.request`); the quiz scores, and completes only when
/// resumed (`cmi.entry` = `resume`), so the learner suspends it in between.
pub fn sequenced_package() -> Vec<u8> {
    let files = [
        ("imsmanifest.xml", MANIFEST.to_string()),
        ("sco.js", SCO_JS.to_string()),
        (
            "intro.html",
            sco_page(
                "Introduction",
                "api.SetValue('cmi.completion_status', 'completed'); api.SetValue('cmi.success_status', 'passed'); \
                 api.SetValue('cmi.score.scaled', '1'); api.Commit('');",
            ),
        ),
        (
            "lesson.html",
            sco_page(
                "Lesson",
                "note('choice-quiz', api.GetValue('adl.nav.request_valid.choice.{target=quiz}')); \
                 api.SetValue('cmi.completion_status', 'completed'); api.SetValue('cmi.success_status', 'passed'); \
                 api.SetValue('cmi.score.scaled', '0.9'); api.SetValue('adl.nav.request', 'continue'); \
                 note('continue-before-end', api.GetValue('adl.nav.request_valid.continue')); api.Terminate('');",
            ),
        ),
        (
            "quiz.html",
            sco_page(
                "Quiz",
                "if (api.GetValue('cmi.entry') === 'resume') { api.SetValue('cmi.completion_status', 'completed'); \
                 api.SetValue('cmi.success_status', 'passed'); api.SetValue('cmi.score.scaled', '0.8'); } \
                 else { api.SetValue('cmi.location', 'question-2'); api.SetValue('cmi.completion_status', 'incomplete'); \
                 api.SetValue('cmi.score.scaled', '0.5'); } api.Commit('');",
            ),
        ),
    ];
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        for (name, text) in files {
            zip.start_file(name, zip::write::SimpleFileOptions::default()).expect("zip entry");
            zip.write_all(text.as_bytes()).expect("zip write");
        }
        zip.finish().expect("zip");
    }
    buf.into_inner()
}

/// Imports the sequenced package; answers the course id.
pub async fn import_sequenced(app: &TestApp) -> String {
    let r = app
        .req(Method::POST, "/api/courses")
        .header("Content-Type", "application/zip")
        .body(sequenced_package())
        .send()
        .await
        .expect("import");
    assert_eq!(r.status(), 201);
    let course: Value = r.json().await.expect("course json");
    course["id"].as_str().expect("course id").to_string()
}

/// POST /api/players as the admin.
pub async fn open_player(app: &TestApp, body: Value) -> (u16, Value) {
    let r = app.req(Method::POST, "/api/players").json(&body).send().await.expect("open player");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// A player's id and credential from its URL.
pub fn player_credential(url: &str) -> (String, String) {
    let (base, token) = url.split_once("#token=").expect("token fragment");
    (base.rsplit('/').next().expect("id").to_string(), token.to_string())
}

/// A request to a player endpoint on the content origin, with a bearer secret (or none).
fn player_req(app: &TestApp, method: Method, path: &str, secret: Option<&str>) -> reqwest::RequestBuilder {
    let r = app.client.request(method, format!("{}{path}", app.content_base));
    match secret {
        Some(s) => r.bearer_auth(s),
        None => r,
    }
}

async fn json_of(r: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = r.send().await.expect("send");
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

struct Player {
    id: String,
    secret: String,
}

impl Player {
    async fn state(&self, app: &TestApp) -> Value {
        let (s, v) =
            json_of(player_req(app, Method::GET, &format!("/player/{}/state", self.id), Some(&self.secret))).await;
        assert_eq!(s, 200, "{v}");
        v
    }

    async fn navigate(&self, app: &TestApp, body: Value) -> Value {
        let path = format!("/player/{}/navigate", self.id);
        let (s, v) = json_of(player_req(app, Method::POST, &path, Some(&self.secret)).json(&body)).await;
        assert_eq!(s, 200, "{v}");
        v
    }
}

/// The launch id and credential of a delivered SCO (from its URL, which only the player receives).
fn delivered(view: &Value, activity: &str) -> (String, (String, String)) {
    assert_eq!(view["deliver"]["activity"], activity, "{view:#}");
    let url = view["deliver"]["url"].as_str().expect("delivery url");
    assert!(url.starts_with("http://content.cairn.test/launch/"), "{url}");
    let cred = scorm_credential(url);
    (cred.0.clone(), cred)
}

/// What the SCO's run-time sends to the sequencer with its launch credential.
async fn report(app: &TestApp, launch: &(String, (String, String)), body: Value) -> (u16, Value) {
    let path = format!("{}/launch/{}/sequencing", app.content_base, launch.0);
    json_of(app.client.post(path).basic_auth(&launch.1 .0, Some(&launch.1 .1)).json(&body)).await
}

fn toc_entry<'a>(view: &'a Value, id: &str) -> &'a Value {
    view["toc"]
        .as_array()
        .and_then(|t| t.iter().find(|e| e["id"] == id))
        .unwrap_or_else(|| panic!("no {id} in {view:#}"))
}

const ANN: &str = "mailto:ann@example.com";

async fn open(app: &TestApp, course: &str) -> (Value, Player) {
    let (s, opened) = open_player(app, json!({"course": course, "learner": {"name": "Ann Lee", "mbox": ANN}})).await;
    assert_eq!(s, 201, "{opened}");
    let (id, secret) = player_credential(opened["url"].as_str().expect("url"));
    assert_eq!(id, opened["id"]);
    (opened, Player { id, secret })
}

/// A learner takes the course through the player over HTTP: the contents follow the sequencing
/// rules (the quiz is disabled until the shared objective is known), the SCO's reports feed the
/// sequencer, its `adl.nav.request_valid.*` come from it, the learner suspends in the quiz and resumes
/// it on another node, where the quiz starts with `cmi.entry` = `resume`; continuing past the last
/// module ends the course, completed and passed by rollup.
async fn a_learner_takes_a_sequenced_course_through_the_player(app: TestApp) {
    let course = import_sequenced(&app).await;
    let (opened, player) = open(&app, &course).await;
    assert_eq!(opened["format"], "scorm2004");
    let url = opened["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("http://content.cairn.test/player/{}#token=", player.id)), "{url}");
    let registration = opened["registration"].as_str().unwrap().to_string();

    // The page names no learner and runs no inline script.
    let page = app.client.get(format!("{}/player/{}", app.content_base, player.id)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(!html.contains("ann@example.com") && !html.contains("<script>"), "{html}");

    let v = player.state(&app).await;
    assert_eq!(v["title"], "Safety at work");
    let ids: Vec<&str> = v["toc"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["intro", "lesson", "quiz"]);
    assert_eq!(toc_entry(&v, "quiz")["enabled"], false, "disabled until the intro's objective is known");
    assert_eq!(toc_entry(&v, "lesson")["enabled"], true);

    let v = player.navigate(&app, json!({"request": "open"})).await;
    let intro = delivered(&v, "intro");
    assert_eq!(toc_entry(&v, "intro")["current"], true);
    assert_eq!(v["controls"]["continue"], true);
    assert_eq!(v["controls"]["previous"], false);
    // The SCO's run-time settings carry the sequencer's answers.
    let runtime = format!("{}/launch/{}/runtime", app.content_base, intro.0);
    let (s, cfg) = json_of(app.client.get(runtime).basic_auth(&intro.1 .0, Some(&intro.1 .1))).await;
    assert_eq!(s, 200, "{cfg}");
    assert_eq!(cfg["player"]["valid"]["continue"], true);
    assert_eq!(cfg["player"]["valid"]["previous"], false);
    assert_eq!(cfg["player"]["valid"]["choice"]["quiz"], true, "ending the intro's attempt would satisfy it");
    assert_eq!(cfg["entry"], "ab-initio");
    let (s, r) = report(&app, &intro, json!({"completion_status": "incomplete", "success_status": "failed"})).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["valid"]["choice"]["quiz"], false, "failed the intro: no quiz: {r}");
    let v = player.state(&app).await;
    assert_eq!(toc_entry(&v, "quiz")["enabled"], false);
    assert_eq!(toc_entry(&v, "intro")["status"], "failed");
    let (s, r) = report(
        &app,
        &intro,
        json!({"completion_status": "completed", "success_status": "passed", "score_scaled": 1.0}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["valid"]["choice"]["quiz"], true, "the shared objective is known now: {r}");
    let (s, r) = report(
        &app,
        &intro,
        json!({"completion_status": "completed", "success_status": "passed", "exit": "", "session_seconds": 30.0}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(toc_entry(&player.state(&app).await, "intro")["status"], "passed");

    let v = player.navigate(&app, json!({"request": "continue"})).await;
    let lesson = delivered(&v, "lesson");
    assert_eq!(v["controls"]["previous"], true);
    // The intro's launch is no longer the module being delivered: it cannot report any more.
    let (s, _) = report(&app, &intro, json!({"completion_status": "incomplete"})).await;
    assert_eq!(s, 403);
    let (s, _) = report(
        &app,
        &lesson,
        json!({"completion_status": "completed", "success_status": "passed", "exit": "", "session_seconds": 20.0}),
    )
    .await;
    assert_eq!(s, 200);
    // The lesson asked to continue (adl.nav.request), which the page passes on.
    let v = player.navigate(&app, json!({"request": "continue"})).await;
    let quiz = delivered(&v, "quiz");
    let (s, _) = report(&app, &quiz, json!({"completion_status": "incomplete", "score_scaled": 0.5})).await;
    assert_eq!(s, 200);
    let (s, _) = report(
        &app,
        &quiz,
        json!({"completion_status": "incomplete", "score_scaled": 0.5, "exit": "suspend", "session_seconds": 10.0}),
    )
    .await;
    assert_eq!(s, 200);
    let v = player.navigate(&app, json!({"request": "suspendAll"})).await;
    assert_eq!(v["deliver"], Value::Null);
    assert_eq!(v["suspended"], "quiz");
    assert_eq!(v["course_status"]["completed"], false, "{v:#}");

    // Another day, another node: the state is in the database.
    let node = app.another_node().await;
    let (again, player2) = open(&node, &course).await;
    assert_eq!(again["registration"], registration.as_str(), "the same attempt resumes");
    let v = player2.state(&node).await;
    assert_eq!(v["suspended"], "quiz");
    let v = player2.navigate(&node, json!({"request": "open"})).await;
    let quiz = delivered(&v, "quiz");
    let (s, cfg) = json_of(
        node.client
            .get(format!("{}/launch/{}/runtime", node.content_base, quiz.0))
            .basic_auth(&quiz.1 .0, Some(&quiz.1 .1)),
    )
    .await;
    assert_eq!(s, 200, "{cfg}");
    assert_eq!(cfg["entry"], "resume");
    assert_eq!(cfg["init"]["entry"], "resume");
    let sco =
        node.client.get(format!("{}{}", node.content_base, cfg["sco_url"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(sco.status(), 200, "{cfg:#}");
    let (s, _) = report(&node, &quiz, json!({"completion_status": "completed", "success_status": "passed", "score_scaled": 0.8, "exit": "", "session_seconds": 15.0})).await;
    assert_eq!(s, 200);
    // The first node's player credential still reaches the same state, which the second one changed.
    assert_eq!(toc_entry(&player.state(&app).await, "quiz")["status"], "passed");
    let v = player2.navigate(&node, json!({"request": "continue"})).await;
    assert_eq!(v["ended"], true, "continue past the last module ends the course: {v:#}");
    assert_eq!(v["deliver"], Value::Null);
    assert_eq!(v["course_status"]["completed"], true);
    assert_eq!(v["course_status"]["satisfied"], true);
    assert_eq!(v["course_status"]["label"], "passed");
    let status = node.lms.player_course_status(&registration).await.unwrap().unwrap();
    assert_eq!((status.completed, status.satisfied), (Some(true), Some(true)));
}
both!(a_learner_takes_a_sequenced_course_through_the_player);

/// What the sequencing rules refuse changes nothing: a choice of the disabled quiz, a previous from
/// the first module; unknown requests are 400.
async fn refused_requests_change_nothing(app: TestApp) {
    let course = import_sequenced(&app).await;
    let (_, player) = open(&app, &course).await;
    let v = player.navigate(&app, json!({"request": "open"})).await;
    let intro = delivered(&v, "intro");
    assert_eq!(report(&app, &intro, json!({"success_status": "failed"})).await.0, 200);
    let v = player.navigate(&app, json!({"request": "choice", "target": "quiz"})).await;
    assert!(v["refused"].is_string(), "{v:#}");
    assert_eq!(v["current"], "intro");
    assert_eq!(v["deliver"], Value::Null);
    let v = player.navigate(&app, json!({"request": "previous"})).await;
    assert!(v["refused"].is_string(), "{v:#}");
    assert_eq!(v["current"], "intro");
    // The intro is still the module being delivered.
    assert_eq!(report(&app, &intro, json!({"completion_status": "completed"})).await.0, 200);
    let path = format!("/player/{}/navigate", player.id);
    let (s, _) =
        json_of(player_req(&app, Method::POST, &path, Some(&player.secret)).json(&json!({"request": "fly"}))).await;
    assert_eq!(s, 400);
    let (s, _) = json_of(player_req(&app, Method::POST, &path, Some(&player.secret)).body("not json")).await;
    assert_eq!(s, 400);
}
both!(refused_requests_change_nothing);

/// Who reaches the player: its credential reaches its own state and navigation only, never another
/// learner's player, `/xapi` or `/api`; anonymous callers and launch credentials get nothing from the
/// player's endpoints; only admins and `launch`-scoped clients open players; a SCO's launch credential
/// reports for its own launch only; nothing of the player answers on the API origin.
async fn the_player_credential_reaches_its_own_registration_only(app: TestApp) {
    let course = import_sequenced(&app).await;
    let (ann, player) = open(&app, &course).await;
    let (s, bob) = open_player(&app, json!({"course": course, "learner": "mailto:bob@example.com"})).await;
    assert_eq!(s, 201);
    let (bob_id, bob_secret) = player_credential(bob["url"].as_str().unwrap());
    assert_ne!(bob["registration"], ann["registration"]);

    // Ann's secret on Bob's player, none at all, a wrong one: 403.
    for secret in [Some(player.secret.as_str()), None, Some("nope")] {
        let (s, _) = json_of(player_req(&app, Method::GET, &format!("/player/{bob_id}/state"), secret)).await;
        assert_eq!(s, 403);
        let (s, _) = json_of(
            player_req(&app, Method::POST, &format!("/player/{bob_id}/navigate"), secret)
                .json(&json!({"request": "open"})),
        )
        .await;
        assert_eq!(s, 403);
    }
    // Bob's own works.
    let (s, _) = json_of(player_req(&app, Method::GET, &format!("/player/{bob_id}/state"), Some(&bob_secret))).await;
    assert_eq!(s, 200);
    // Ann cannot open Bob's registration as hers.
    let (s, _) =
        open_player(&app, json!({"course": course, "learner": ANN, "registration": bob["registration"]})).await;
    assert_eq!(s, 403);

    // The player credential is no credential for the API origin, as Basic or Bearer.
    for path in ["/xapi/statements", "/api/courses", "/api/results"] {
        let r = app.client.get(format!("{}{path}", app.base)).header("X-Experience-API-Version", "1.0.3");
        assert_eq!(
            r.try_clone().unwrap().basic_auth(&player.id, Some(&player.secret)).send().await.unwrap().status(),
            401,
            "{path}"
        );
        assert_eq!(r.bearer_auth(&player.secret).send().await.unwrap().status(), 401, "{path}");
    }
    // Nothing of the player answers on the API origin, and opening one needs admin or `launch`.
    for path in [format!("/player/{}", player.id), format!("/player/{}/state", player.id)] {
        assert_eq!(
            app.client.get(format!("{}{path}", app.base)).bearer_auth(&player.secret).send().await.unwrap().status(),
            404
        );
    }
    let anon = app.client.post(format!("{}/api/players", app.base)).json(&json!({"course": course, "learner": ANN}));
    assert_eq!(anon.send().await.unwrap().status(), 401);

    // A SCO's launch credential: not a player credential, not for another launch, not for /api.
    let v = player.navigate(&app, json!({"request": "open"})).await;
    let intro = delivered(&v, "intro");
    let (s, _) =
        json_of(player_req(&app, Method::GET, &format!("/player/{}/state", player.id), Some(&intro.1 .1))).await;
    assert_eq!(s, 403);
    let bob_view = {
        let path = format!("/player/{bob_id}/navigate");
        json_of(player_req(&app, Method::POST, &path, Some(&bob_secret)).json(&json!({"request": "open"}))).await.1
    };
    let bob_intro = delivered(&bob_view, "intro");
    let wrong = format!("{}/launch/{}/sequencing", app.content_base, bob_intro.0);
    let (s, _) = json_of(
        app.client
            .post(&wrong)
            .basic_auth(&intro.1 .0, Some(&intro.1 .1))
            .json(&json!({"completion_status": "completed"})),
    )
    .await;
    assert_eq!(s, 403, "Ann's SCO reports for Bob's launch");
    let (s, _) = json_of(app.client.post(&wrong).json(&json!({"completion_status": "completed"}))).await;
    assert_eq!(s, 401);
    let (s, _) =
        json_of(app.client.post(&wrong).basic_auth(crate::support::KEY, Some(crate::support::SECRET)).json(&json!({})))
            .await;
    assert_eq!(s, 403, "not even the admin reports for a SCO");
    let r = as_cred(&app, &intro.1, Method::POST, "/api/players").json(&json!({"course": course, "learner": ANN}));
    assert_eq!(r.send().await.unwrap().status(), 403);
    // Bob's state did not move.
    let (_, bv) = json_of(player_req(&app, Method::GET, &format!("/player/{bob_id}/state"), Some(&bob_secret))).await;
    assert_eq!(toc_entry(&bv, "intro")["status"], "incomplete", "attempted, nothing reported");
}
both!(the_player_credential_reaches_its_own_registration_only);

/// A SCORM 1.2 course of three SCOs: the second needs the first (`adlcp:prerequisites`), the third
/// both.
const MANIFEST_12: &str = r#"<?xml version="1.0"?>
<manifest identifier="urn:cairn:test:player-12" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="ORG"><organization identifier="ORG"><title>Forklift basics</title>
    <item identifier="a" identifierref="R"><title>Controls</title></item>
    <item identifier="b" identifierref="R"><title>Loads</title><adlcp:prerequisites type="aicc_script">a</adlcp:prerequisites></item>
    <item identifier="c" identifierref="R"><title>Test</title><adlcp:prerequisites type="aicc_script">a &amp; b</adlcp:prerequisites></item>
  </organization></organizations>
  <resources><resource identifier="R" type="webcontent" adlcp:scormtype="sco" href="sco.html"><file href="sco.html"/></resource></resources>
</manifest>
"#;

fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        for (name, text) in files {
            zip.start_file(*name, zip::write::SimpleFileOptions::default()).expect("zip entry");
            zip.write_all(text.as_bytes()).expect("zip write");
        }
        zip.finish().expect("zip");
    }
    buf.into_inner()
}

/// SCORM 1.2 in the player: flow and choice in manifest order, prerequisites honoured from the
/// lesson statuses the SCOs report; suspend keeps the place, continue past the last SCO ends.
async fn a_scorm12_course_plays_in_manifest_order_with_prerequisites(app: TestApp) {
    let zip = zip_of(&[("imsmanifest.xml", MANIFEST_12), ("sco.html", "<!doctype html><title>SCO</title>")]);
    let r =
        app.req(Method::POST, "/api/courses").header("Content-Type", "application/zip").body(zip).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let course = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let (opened, player) = open(&app, &course).await;
    assert_eq!(opened["format"], "scorm12");
    let v = player.navigate(&app, json!({"request": "open"})).await;
    let a = delivered(&v, "a");
    assert_eq!(toc_entry(&v, "b")["enabled"], false, "b needs a");
    assert_eq!(toc_entry(&v, "c")["enabled"], false);
    let v = player.navigate(&app, json!({"request": "choice", "target": "c"})).await;
    assert!(v["refused"].is_string(), "{v:#}");
    assert_eq!(v["current"], "a");
    let (s, _) = report(&app, &a, json!({"lesson_status": "passed", "exit": "", "session_seconds": 5.0})).await;
    assert_eq!(s, 200);
    let v = player.state(&app).await;
    assert_eq!(toc_entry(&v, "b")["enabled"], true);
    assert_eq!(toc_entry(&v, "a")["status"], "passed");
    assert_eq!(toc_entry(&v, "c")["enabled"], false, "c needs a and b");
    let v = player.navigate(&app, json!({"request": "continue"})).await;
    let b = delivered(&v, "b");
    assert_eq!(v["controls"]["previous"], true);
    assert_eq!(report(&app, &b, json!({"lesson_status": "completed"})).await.0, 200);
    let v = player.navigate(&app, json!({"request": "continue"})).await;
    delivered(&v, "c");
    let v = player.navigate(&app, json!({"request": "suspendAll"})).await;
    assert_eq!(v["suspended"], "c");
    let (_, again) = open(&app, &course).await;
    let v = again.navigate(&app, json!({"request": "open"})).await;
    let c = delivered(&v, "c");
    assert_eq!(report(&app, &c, json!({"lesson_status": "passed"})).await.0, 200);
    let v = again.navigate(&app, json!({"request": "continue"})).await;
    assert_eq!(v["ended"], true, "{v:#}");
    assert_eq!(v["course_status"]["completed"], true);
}
both!(a_scorm12_course_plays_in_manifest_order_with_prerequisites);

/// cmi5 in the player: the blocks and AUs with what each AU's `moveOn` still requires (from the
/// derived results), each AU launched per cmi5 (launch parameters, fetch URL, the player's
/// registration, a return URL back to the player); `OwnWindow` AUs are opened, never framed.
async fn a_cmi5_course_shows_what_move_on_still_requires(app: TestApp) {
    let course = crate::launch::import(&app, "cmi5-blocks").await;
    let course = course["id"].as_str().unwrap().to_string();
    let (opened, player) = open(&app, &course).await;
    assert_eq!(opened["format"], "cmi5");
    assert_eq!(opened["learner"]["account"]["name"], "ann@example.com", "cmi5 learners are accounts");
    let v = player.state(&app).await;
    let block = toc_entry(&v, "https://example.com/blocks/b1");
    assert_eq!(block["leaf"], false);
    assert_eq!(toc_entry(&v, "https://example.com/aus/quiz")["status"], "requires CompletedAndPassed");
    assert_eq!(toc_entry(&v, "https://example.com/aus/quiz")["depth"], 1);

    let v = player.navigate(&app, json!({"request": "open"})).await;
    assert_eq!(v["deliver"]["activity"], "https://example.com/aus/intro");
    assert_eq!(v["deliver"]["window"], "own", "launchMethod OwnWindow");
    let url = reqwest::Url::parse(v["deliver"]["url"].as_str().unwrap()).unwrap();
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["registration"], opened["registration"].as_str().unwrap());
    assert_eq!(q["endpoint"], "http://cairn.test/xapi/");
    assert!(q["fetch"].starts_with("http://content.cairn.test/launch/"), "{q:?}");
    let (s, data) = app
        .get_json(&format!(
            "/xapi/activities/state?activityId={}&agent={}&registration={}&stateId=LMS.LaunchData",
            crate::launch::urlencode(&q["activityId"]),
            crate::launch::urlencode(&q["actor"]),
            q["registration"]
        ))
        .await;
    assert_eq!(s, 200);
    assert_eq!(data["returnURL"], "http://content.cairn.test/player/returned");
    let page = app.client.get(format!("{}/player/returned", app.content_base)).send().await.unwrap();
    assert_eq!(page.status(), 200);

    // The intro is completed (its moveOn): the contents say so, and continue goes to the quiz.
    let done =
        crate::results_cmi5::cmi5_st(&opened["learner"], "completed", "https://example.com/aus/intro", true, json!({}));
    assert_eq!(app.post_statements(&done).await.0, 200);
    let v = player.state(&app).await;
    assert_eq!(toc_entry(&v, "https://example.com/aus/intro")["status"], "satisfied");
    let v = player.navigate(&app, json!({"request": "continue"})).await;
    assert_eq!(v["deliver"]["activity"], "https://example.com/aus/quiz");
    assert_eq!(v["deliver"]["window"], "frame");
}
both!(a_cmi5_course_shows_what_move_on_still_requires);

/// Two nodes navigating the same registration at once (two tabs, a double click across a balancer)
/// never lose each other's step: the state is written compare-and-set, so two Continues from the
/// introduction deliver the lesson and then the quiz, whichever node wins, and the superseded
/// launch is the only one left without a current module.
async fn concurrent_navigation_on_two_nodes_loses_nothing(app: TestApp) {
    let course = import_sequenced(&app).await;
    let (_, player) = open(&app, &course).await;
    let node = app.another_node().await;
    delivered(&player.navigate(&app, json!({"request": "open"})).await, "intro");
    let path = format!("/player/{}/navigate", player.id);
    let one =
        json_of(player_req(&app, Method::POST, &path, Some(&player.secret)).json(&json!({"request": "continue"})));
    let two =
        json_of(player_req(&node, Method::POST, &path, Some(&player.secret)).json(&json!({"request": "continue"})));
    let ((s1, v1), (s2, v2)) = tokio::join!(one, two);
    assert_eq!((s1, s2), (200, 200), "{v1} {v2}");
    let mut got = [
        v1["deliver"]["activity"].as_str().unwrap_or("").to_string(),
        v2["deliver"]["activity"].as_str().unwrap_or("").to_string(),
    ];
    got.sort();
    assert_eq!(got, ["lesson", "quiz"], "{v1:#} {v2:#}");
    assert_eq!(player.state(&node).await["current"], "quiz");
}
both!(concurrent_navigation_on_two_nodes_loses_nothing);

/// A one-organization SCORM 2004 package whose items are `(id, sequencing)`, all launching `sco.html`.
fn package_2004(identifier: &str, title: &str, items: &[(&str, &str)]) -> Vec<u8> {
    package_2004_with(identifier, title, items, "")
}

/// [`package_2004`] with more of the organization's sequencing (after its control mode).
fn package_2004_with(identifier: &str, title: &str, items: &[(&str, &str)], root: &str) -> Vec<u8> {
    let items: String = items
        .iter()
        .map(|(id, seq)| format!(r#"<item identifier="{id}" identifierref="R"><title>{id}</title>{seq}</item>"#))
        .collect();
    let manifest = format!(
        r#"<?xml version="1.0"?>
<manifest identifier="{identifier}" xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3" xmlns:imsss="http://www.imsglobal.org/xsd/imsss">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="ORG"><organization identifier="ORG"><title>{title}</title>{items}
    <imsss:sequencing><imsss:controlMode choice="true" flow="true"/>{root}</imsss:sequencing>
  </organization></organizations>
  <resources><resource identifier="R" type="webcontent" adlcp:scormType="sco" href="sco.html"><file href="sco.html"/></resource></resources>
</manifest>"#
    );
    zip_of(&[("imsmanifest.xml", &manifest), ("sco.html", "<!doctype html><title>SCO</title>")])
}

async fn import_zip(app: &TestApp, zip: Vec<u8>) -> String {
    let r =
        app.req(Method::POST, "/api/courses").header("Content-Type", "application/zip").body(zip).send().await.unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

/// Objectives global to the system (SCORM 2004's default) are the learner's across courses: a
/// safety pretest passed in one course satisfies the shared objective another course's refresher
/// reads, which is then skipped for that learner, and only for them; the shared objectives are
/// stored (another node sees them).
async fn global_objectives_are_shared_across_a_learners_courses(app: TestApp) {
    let writes = r#"<imsss:sequencing><imsss:objectives><imsss:primaryObjective objectiveID="p"><imsss:mapInfo targetObjectiveID="urn:cairn:test:shared-safety" writeSatisfiedStatus="true"/></imsss:primaryObjective></imsss:objectives></imsss:sequencing>"#;
    let reads = r#"<imsss:sequencing><imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions><imsss:ruleAction action="skip"/></imsss:preConditionRule></imsss:sequencingRules><imsss:objectives><imsss:primaryObjective objectiveID="q"><imsss:mapInfo targetObjectiveID="urn:cairn:test:shared-safety"/></imsss:primaryObjective></imsss:objectives></imsss:sequencing>"#;
    let pretest = import_zip(
        &app,
        package_2004("urn:cairn:test:pretest", "Safety pretest", &[("pretest", writes), ("wrap-up", "")]),
    )
    .await;
    let course = import_zip(
        &app,
        package_2004("urn:cairn:test:refresher", "Safety refresher", &[("refresher", reads), ("final", "")]),
    )
    .await;

    let (_, ann) = open(&app, &pretest).await;
    let v = ann.navigate(&app, json!({"request": "open"})).await;
    let pre = delivered(&v, "pretest");
    assert_eq!(report(&app, &pre, json!({"success_status": "passed", "completion_status": "completed"})).await.0, 200);
    ann.navigate(&app, json!({"request": "exitAll"})).await;

    // Another course, another node: the refresher reads the shared objective and is skipped.
    let node = app.another_node().await;
    let (_, ann2) = open(&node, &course).await;
    let v = ann2.state(&node).await;
    assert_eq!(toc_entry(&v, "refresher")["status"], "passed", "read through the shared objective: {v:#}");
    delivered(&ann2.navigate(&node, json!({"request": "open"})).await, "final");

    // Bob never took the pretest: his refresher is delivered.
    let (s, bob) = open_player(&node, json!({"course": course, "learner": "mailto:bob@example.com"})).await;
    assert_eq!(s, 201);
    let (bob_id, bob_secret) = player_credential(bob["url"].as_str().unwrap());
    let path = format!("/player/{bob_id}/navigate");
    let (_, v) =
        json_of(player_req(&node, Method::POST, &path, Some(&bob_secret)).json(&json!({"request": "open"}))).await;
    delivered(&v, "refresher");
}
both!(global_objectives_are_shared_across_a_learners_courses);

/// A SCORM 1.2 course of two SCOs that call `window.API`: "controls" passes and finishes at once;
/// "loads" (which needs "controls") completes and waits for the learner. Each notes in its page what
/// the API answered, for the browser test.
pub async fn import_scorm12_pair(app: &TestApp) -> String {
    let manifest = r#"<?xml version="1.0"?>
<manifest identifier="urn:cairn:test:player-12-browser" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="ORG"><organization identifier="ORG"><title>Forklift basics</title>
    <item identifier="controls" identifierref="R1"><title>Controls</title></item>
    <item identifier="loads" identifierref="R2"><title>Loads</title><adlcp:prerequisites type="aicc_script">controls</adlcp:prerequisites></item>
  </organization></organizations>
  <resources>
    <resource identifier="R1" type="webcontent" adlcp:scormtype="sco" href="controls.html"><file href="controls.html"/></resource>
    <resource identifier="R2" type="webcontent" adlcp:scormtype="sco" href="loads.html"><file href="loads.html"/></resource>
  </resources>
</manifest>
"#;
    let page = |title: &str, steps: &str| {
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body><h1>{title}</h1>\
             <script>function findAPI(w) {{ for (var i = 0; w && i < 10; i++) {{ if (w.API) return w.API; if (w.parent === w) break; w = w.parent; }} return null; }}\
             var api = findAPI(window); function note(k, v) {{ document.body.setAttribute('data-' + k, v); }}\
             api.LMSInitialize(''); note('entry', api.LMSGetValue('cmi.core.entry')); {steps} \
             note('ready', 'true');</script></body></html>\n"
        )
    };
    let controls = page(
        "Controls",
        "api.LMSSetValue('cmi.core.lesson_status', 'passed'); api.LMSCommit(''); \
         note('status', api.LMSGetValue('cmi.core.lesson_status')); api.LMSFinish('');",
    );
    let loads = page(
        "Loads",
        "api.LMSSetValue('cmi.core.lesson_status', 'completed'); api.LMSCommit(''); \
         note('status', api.LMSGetValue('cmi.core.lesson_status'));",
    );
    import_zip(app, zip_of(&[("imsmanifest.xml", manifest), ("controls.html", &controls), ("loads.html", &loads)]))
        .await
}

/// One delivered SCO's session as Cairn's run-time carries it out: the statements of ADL's xAPI
/// SCORM profile (`initialized` or `resumed`, what changed, `terminated` or `suspended`) with the
/// launch's own credential, and the same values reported to the sequencer at Terminate.
async fn sco_session(app: &TestApp, launch: &(String, (String, String)), set: Value, exit: &str) {
    let runtime = format!("{}/launch/{}/runtime", app.content_base, launch.0);
    let (s, cfg) = json_of(app.client.get(runtime).basic_auth(&launch.1 .0, Some(&launch.1 .1))).await;
    assert_eq!(s, 200, "{cfg}");
    let statement = |verb: &str, result: Value| {
        let mut st = json!({"actor": cfg["actor"], "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}")},
            "object": {"id": cfg["activity_id"]},
            "context": {"registration": cfg["registration"], "contextActivities": {"grouping": [{"id": cfg["course_id"]}]}}});
        if result.as_object().is_some_and(|o| !o.is_empty()) {
            st["result"] = result;
        }
        st
    };
    let post = |body: Value| async move {
        let r = as_cred(app, &launch.1, Method::POST, "/xapi/statements").json(&body).send().await.expect("post");
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    };
    post(json!([statement(if cfg["entry"] == "resume" { "resumed" } else { "initialized" }, json!({}))])).await;
    let mut outcome = json!({});
    match set["completion_status"].as_str() {
        Some("completed") => outcome["completion"] = json!(true),
        Some("incomplete") => outcome["completion"] = json!(false),
        _ => {}
    }
    if let Some(x) = set["success_status"].as_str() {
        outcome["success"] = json!(x == "passed");
    }
    if let Some(sc) = set["score_scaled"].as_f64() {
        outcome["score"] = json!({"scaled": sc});
    }
    let mut changes = Vec::new();
    if outcome["completion"] == true {
        changes.push(statement("completed", json!({"completion": true})));
    }
    if let Some(ok) = outcome["success"].as_bool() {
        let mut r = json!({"success": ok});
        if outcome.get("score").is_some() {
            r["score"] = outcome["score"].clone();
        }
        changes.push(statement(if ok { "passed" } else { "failed" }, r));
    }
    if outcome.get("score").is_some() {
        changes.push(statement("scored", json!({"score": outcome["score"]})));
    }
    let mut end = outcome.clone();
    end["duration"] = json!("PT5S");
    changes.push(statement(if exit == "suspend" { "suspended" } else { "terminated" }, end));
    let mut body = set.clone();
    body["exit"] = json!(exit);
    body["session_seconds"] = json!(5.0);
    let (s, r) = report(app, launch, body).await;
    assert_eq!(s, 200, "{r}");
    post(Value::Array(changes)).await;
}

/// The player's rolled-up course status and `/api/results` agree (see docs/player.md): completed
/// (once) and satisfied is `passed`, completed otherwise `completed`, not satisfied before that
/// `failed`, else `in_progress`; the measure is the score.
async fn agree(app: &TestApp, player: &Player, course: &str, ever_completed: &mut bool, step: &str) -> Value {
    let v = player.state(app).await;
    let cs = &v["course_status"];
    *ever_completed |= cs["completed"] == true;
    let derived = crate::results_cmi5::result_of(app, course, &json!({"mbox": ANN})).await;
    let expected = match (*ever_completed, cs["satisfied"].as_bool()) {
        (true, Some(true)) => "passed",
        (true, _) => "completed",
        (false, Some(false)) => "failed",
        _ if cs["label"] == "not attempted" => "not_started",
        _ => "in_progress",
    };
    // No result row yet reads as not started.
    let status = derived["status"].as_str().unwrap_or("not_started");
    assert_eq!(status, expected, "{step}: rollup {cs}, derived {derived:#}");
    match (cs["measure"].as_f64(), derived["score"].as_f64()) {
        (Some(m), Some(s)) => assert!((m - s).abs() < 1e-9, "{step}: measure {m}, score {s}"),
        (m, s) => assert_eq!(m, s, "{step}: rollup {cs}, derived {derived:#}"),
    }
    v
}

/// One source of truth over HTTP: a course whose author wrote its rollup (satisfied when any module
/// is, not satisfied when none is, completed when two of three are; the last module weighs half)
/// taken in the player, each SCO sending its statements with its launch credential and its report
/// to the sequencer, as the run-time does: after every step the player's rollup and `/api/results`
/// agree, through a failed-but-completed module, a silent one (completed and satisfied when its
/// attempt ends), and a suspend and resume.
async fn the_players_rollup_and_the_results_agree_after_each_step(app: TestApp) {
    let rule = |set: &str, extra: &str, cond: &str, action: &str| {
        format!(
            r#"<imsss:rollupRule childActivitySet="{set}" {extra}><imsss:rollupConditions><imsss:rollupCondition condition="{cond}"/></imsss:rollupConditions><imsss:rollupAction action="{action}"/></imsss:rollupRule>"#
        )
    };
    let rules = format!(
        "<imsss:rollupRules>{}{}{}{}</imsss:rollupRules>",
        rule("any", "", "satisfied", "satisfied"),
        rule("none", "", "satisfied", "notSatisfied"),
        rule("atLeastCount", r#"minimumCount="2""#, "completed", "completed"),
        rule("all", "", "activityProgressKnown", "incomplete"),
    );
    let half = r#"<imsss:sequencing><imsss:rollupRules objectiveMeasureWeight="0.5"/></imsss:sequencing>"#;
    let course = import_zip(
        &app,
        package_2004_with("urn:cairn:test:agree", "Authored rollup", &[("a", ""), ("b", ""), ("c", half)], &rules),
    )
    .await;
    let (_, player) = open(&app, &course).await;
    let mut done = false;
    let v = agree(&app, &player, &course, &mut done, "opened").await;
    assert_eq!(v["course_status"]["completed"], Value::Null);

    let a = delivered(&player.navigate(&app, json!({"request": "open"})).await, "a");
    sco_session(
        &app,
        &a,
        json!({"completion_status": "completed", "success_status": "failed", "score_scaled": 0.4}),
        "",
    )
    .await;
    let b = delivered(&player.navigate(&app, json!({"request": "continue"})).await, "b");
    let v = agree(&app, &player, &course, &mut done, "a completed, failed").await;
    assert_eq!(crate::results_cmi5::result_of(&app, &course, &json!({"mbox": ANN})).await["status"], "in_progress");
    assert_eq!(v["course_status"]["satisfied"], Value::Null, "b and c unknown: no rule fires");

    // b says nothing: its attempt's end completes and satisfies it (SN UP.4), for both.
    sco_session(&app, &b, json!({}), "").await;
    let c = delivered(&player.navigate(&app, json!({"request": "continue"})).await, "c");
    let v = agree(&app, &player, &course, &mut done, "b silent").await;
    assert_eq!(v["course_status"]["completed"], true, "two of three completed: {v:#}");
    assert_eq!(v["course_status"]["satisfied"], true, "b satisfied: {v:#}");

    sco_session(&app, &c, json!({"completion_status": "incomplete", "score_scaled": 0.9}), "suspend").await;
    player.navigate(&app, json!({"request": "suspendAll"})).await;
    agree(&app, &player, &course, &mut done, "c suspended").await;

    let c = delivered(&player.navigate(&app, json!({"request": "open"})).await, "c");
    sco_session(
        &app,
        &c,
        json!({"completion_status": "completed", "success_status": "passed", "score_scaled": 0.9}),
        "",
    )
    .await;
    let v = player.navigate(&app, json!({"request": "continue"})).await;
    assert_eq!(v["ended"], true, "{v:#}");
    agree(&app, &player, &course, &mut done, "c resumed and passed").await;
    let derived = crate::results_cmi5::result_of(&app, &course, &json!({"mbox": ANN})).await;
    assert_eq!(derived["status"], "passed", "{derived:#}");
    // The measure weighs c half: (0.4 + 0 + 0.5 * 0.9) / 2.5.
    let score = derived["score"].as_f64().expect("score");
    assert!((score - (0.4 + 0.45) / 2.5).abs() < 1e-9, "{derived:#}");
}
both!(the_players_rollup_and_the_results_agree_after_each_step);

/// Shared objectives are a person's, whatever identifier the player names: Ann passes the pretest
/// as `mailto:` and her refresher, opened under her LMS account (the same person), reads it. When
/// Bob's person is merged into Carl's, what Bob passed is Carl's too (the learner is one human).
async fn global_objectives_are_kept_per_person(app: TestApp) {
    let writes = r#"<imsss:sequencing><imsss:objectives><imsss:primaryObjective objectiveID="p"><imsss:mapInfo targetObjectiveID="urn:cairn:test:person-safety" writeSatisfiedStatus="true"/></imsss:primaryObjective></imsss:objectives></imsss:sequencing>"#;
    let reads = r#"<imsss:sequencing><imsss:objectives><imsss:primaryObjective objectiveID="q"><imsss:mapInfo targetObjectiveID="urn:cairn:test:person-safety"/></imsss:primaryObjective></imsss:objectives></imsss:sequencing>"#;
    let pretest =
        import_zip(&app, package_2004("urn:cairn:test:p-pretest", "Pretest", &[("pretest", writes), ("end", "")]))
            .await;
    let refresher = import_zip(
        &app,
        package_2004("urn:cairn:test:p-refresher", "Refresher", &[("refresher", reads), ("final", "")]),
    )
    .await;
    let ann_lms = json!({"account": {"homePage": "https://lms.example.com", "name": "ann"}});
    let r = app
        .req(Method::POST, "/api/persons")
        .json(&json!({"name": "Ann", "identifiers": [{"mbox": ANN}, ann_lms]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let ann_person = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();

    // Passes the pretest in the player under `learner`.
    async fn pass_pretest(app: &TestApp, course: &str, learner: Value) {
        let (s, opened) = open_player(app, json!({"course": course, "learner": learner})).await;
        assert_eq!(s, 201, "{opened}");
        let (id, secret) = player_credential(opened["url"].as_str().unwrap());
        let p = Player { id, secret };
        let pre = delivered(&p.navigate(app, json!({"request": "open"})).await, "pretest");
        let body = json!({"success_status": "passed", "completion_status": "completed"});
        assert_eq!(report(app, &pre, body).await.0, 200);
        p.navigate(app, json!({"request": "exitAll"})).await;
    }
    // The refresher's status for `learner`, as its contents show it.
    async fn refresher_status(app: &TestApp, course: &str, learner: Value) -> Value {
        let (s, opened) = open_player(app, json!({"course": course, "learner": learner})).await;
        assert_eq!(s, 201, "{opened}");
        let (id, secret) = player_credential(opened["url"].as_str().unwrap());
        toc_entry(&Player { id, secret }.state(app).await, "refresher")["status"].clone()
    }
    pass_pretest(&app, &pretest, json!({"mbox": ANN})).await;
    assert_eq!(refresher_status(&app, &refresher, ann_lms.clone()).await, "passed", "the same person");

    pass_pretest(&app, &pretest, json!("mailto:bob@example.com")).await;
    let carl = "mailto:carl@example.com";
    assert_ne!(refresher_status(&app, &refresher, json!(carl)).await, "passed");
    let persons = app.get_json("/api/persons?search=example.com").await.1;
    let id_of = |mbox: &str| {
        persons["persons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["identifiers"].as_array().unwrap().iter().any(|i| i["mbox"] == mbox))
            .unwrap_or_else(|| panic!("no person with {mbox}: {persons:#}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (bob, carl_id) = (id_of("mailto:bob@example.com"), id_of(carl));
    let r = app
        .req(Method::POST, &format!("/api/persons/{carl_id}/merge"))
        .json(&json!({"person": bob}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    assert_eq!(refresher_status(&app, &refresher, json!(carl)).await, "passed", "Bob's objectives are Carl's now");

    // Erasing Ann removes her shared objectives and her player states (which name her).
    let store = &app.lrs.store;
    assert!(store.player_globals(&ann_person).await.unwrap().is_some());
    let ann_key = cairn::xapi::agent::key(&json!({"mbox": ANN})).unwrap();
    assert!(store.latest_player_state(&ann_key, &pretest).await.unwrap().is_some());
    let r = app.req(Method::DELETE, &format!("/api/persons/{ann_person}")).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    assert!(store.player_globals(&ann_person).await.unwrap().is_none());
    assert!(store.latest_player_state(&ann_key, &pretest).await.unwrap().is_none());
}
both!(global_objectives_are_kept_per_person);

/// Player sessions whose credentials expired are removed whenever a player opens (and when the
/// server starts): an expired credential reaches nothing, and its row does not linger.
async fn expired_player_sessions_are_removed(app: TestApp) {
    let course = import_sequenced(&app).await;
    let (opened, player) = open(&app, &course).await;
    let now = cairn::now_us();
    let expired = cairn::store::PlayerSessionRow {
        id: uuid::Uuid::new_v4().to_string(),
        registration: opened["registration"].as_str().unwrap().to_string(),
        secret_sha256: "0".repeat(64),
        created_us: now - 9 * 3_600_000_000,
        expires_us: now - 3_600_000_000,
    };
    app.lrs.store.insert_player_session(&expired).await.unwrap();
    let page = format!("{}/player/{}", app.content_base, expired.id);
    assert_eq!(app.client.get(&page).send().await.unwrap().status(), 200, "stored, not yet removed");
    assert_eq!(app.lms.remove_expired_player_sessions().await.unwrap(), 1);
    assert_eq!(app.client.get(&page).send().await.unwrap().status(), 404);
    assert_eq!(player.state(&app).await["title"], "Safety at work", "a live session stays");

    // Opening a player removes what expired meanwhile.
    app.lrs.store.insert_player_session(&expired).await.unwrap();
    open(&app, &course).await;
    assert_eq!(app.client.get(&page).send().await.unwrap().status(), 404);
    assert_eq!(app.lms.remove_expired_player_sessions().await.unwrap(), 0);
}
both!(expired_player_sessions_are_removed);

//! Session waitlists: a full session takes bookings onto its waitlist, in order; a cancelled seat goes
//! to the learner waiting longest, whose booking is then recorded as an xAPI `registered` statement.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::support::TestApp;

fn who(name: &str) -> Value {
    json!({"objectType": "Agent", "mbox": format!("mailto:{name}@example.com")})
}

async fn call(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    let r = app.req(Method::POST, path).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn registered(app: &TestApp, name: &str) -> usize {
    let agent = serde_urlencoded::to_string([("agent", who(name).to_string())]).unwrap();
    let verb = "verb=http%3A%2F%2Fadlnet.gov%2Fexpapi%2Fverbs%2Fregistered";
    app.get_json(&format!("/xapi/statements?{agent}&{verb}")).await.1["statements"].as_array().unwrap().len()
}

async fn a_full_session_keeps_a_waitlist(app: TestApp) {
    let comps = json!({"title": "W", "components": [{"kind": "activity", "activity_id": "https://example.com/w/a"}]});
    let r = app.req(Method::PUT, "/api/courses/https://example.com/w").json(&comps).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (s, session) = call(
        &app,
        "/api/sessions",
        json!({"course": "https://example.com/w", "title": "One seat",
        "start": "2031-01-01T09:00:00Z", "end": "2031-01-01T10:00:00Z", "capacity": 1}),
    )
    .await;
    assert_eq!(s, 201, "{session}");
    let book = format!("/api/sessions/{}/bookings", session["id"].as_str().unwrap());
    let cancel = format!("{book}/cancel");

    assert_eq!(call(&app, &book, json!({"learner": who("a")})).await.0, 201);
    let (s, full) = call(&app, &book, json!({"learner": who("b")})).await;
    assert_eq!(s, 409, "full, and no waitlist asked for: {full}");
    assert!(full["error"]["message"].as_str().unwrap_or_default().contains("waitlist"), "{full}");
    let (s, b) = call(&app, &book, json!({"learner": who("b"), "waitlist": true})).await;
    assert_eq!((s, b["position"].as_i64()), (202, Some(1)), "{b}");
    let (s, c) = call(&app, &book, json!({"learner": who("c"), "waitlist": true})).await;
    assert_eq!((s, c["position"].as_i64()), (202, Some(2)), "{c}");
    let (s, again) = call(&app, &book, json!({"learner": who("c"), "waitlist": true})).await;
    assert_eq!((s, again["position"].as_i64()), (202, Some(2)), "asking twice keeps the place: {again}");
    assert_eq!((registered(&app, "b").await, registered(&app, "c").await), (0, 0), "waiting is not booked");

    // A's seat goes to B, who now has a `registered` statement; C moves up.
    let (s, done) = call(&app, &cancel, json!({"learner": who("a")})).await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["promoted"]["mbox"], "mailto:b@example.com", "{done}");
    assert_eq!(registered(&app, "b").await, 1);
    let (_, view) = app.get_json(&format!("/api/sessions/{}", session["id"].as_str().unwrap())).await;
    let state = |name: &str| {
        view["bookings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["learner"]["mbox"] == format!("mailto:{name}@example.com"))
            .cloned()
            .unwrap()
    };
    assert_eq!((state("b")["booked"].as_bool(), state("b")["waitlisted"].as_bool()), (Some(true), Some(false)));
    assert_eq!((state("c")["booked"].as_bool(), state("c")["waitlisted"].as_bool()), (Some(false), Some(true)));
    let (_, c_now) = call(&app, &book, json!({"learner": who("c"), "waitlist": true})).await;
    assert_eq!(c_now["position"], 1);
    // Leaving the waitlist frees no seat and promotes nobody.
    let (s, left) = call(&app, &cancel, json!({"learner": who("c")})).await;
    assert_eq!((s, &left["promoted"]), (200, &Value::Null), "{left}");
    assert_eq!(call(&app, &cancel, json!({"learner": who("c")})).await.0, 404);
    assert_eq!(call(&app, &book, json!({"learner": who("d"), "waitlist": "yes"})).await.0, 400);
}
both!(a_full_session_keeps_a_waitlist);

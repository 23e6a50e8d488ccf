//! `since`/`until` time windows, alone (read off the `stored` index) and with filters (a range of the
//! filter's `statement_index` rows, which are in stored order within a key). The answers must be
//! exactly those of a full listing cut to the window and the filters, in order, in both directions
//! and across `more` pages.

use serde_json::{json, Value};

use crate::both;
use crate::support::TestApp;

/// Every statement id and `stored` of a query, following `more`.
async fn walk(app: &TestApp, query: &str) -> Vec<(String, String)> {
    let mut url = format!("/xapi/statements?{query}");
    let mut out = Vec::new();
    for _ in 0..50 {
        let (status, page) = app.get_json(&url).await;
        assert_eq!(status, 200, "{url}: {page}");
        for s in page["statements"].as_array().into_iter().flatten() {
            out.push((
                s["id"].as_str().unwrap_or_default().to_string(),
                s["stored"].as_str().unwrap_or_default().to_string(),
            ));
        }
        match page["more"].as_str() {
            Some(more) if !more.is_empty() => url = more.to_string(),
            _ => return out,
        }
    }
    panic!("more than 50 pages for {query}")
}

async fn unfiltered_time_windows_match_the_full_listing(app: TestApp) {
    for round in 0..4 {
        let batch: Vec<Value> = (0..6)
            .map(|i| {
                json!({"actor": {"mbox": format!("mailto:w{round}-{i}@example.com")},
                            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                            "object": {"id": format!("http://example.com/w/{round}/{i}")}})
            })
            .collect();
        let (status, _) = app.post_statements(&Value::Array(batch)).await;
        assert_eq!(status, 200);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let all = walk(&app, "limit=100").await;
    assert_eq!(all.len(), 24);
    let stamps: Vec<&String> = all.iter().map(|(_, s)| s).collect();
    // A window strictly inside: after the oldest round's time, up to the newest but one round's.
    let since = stamps[stamps.len() - 1].clone();
    let until = stamps[6].clone();
    let enc = |t: &str| t.replace('+', "%2B").replace(':', "%3A");
    let expected: Vec<&(String, String)> = all.iter().filter(|(_, s)| *s > since && *s <= until).collect();
    assert!(!expected.is_empty() && expected.len() < 24, "{} in the window", expected.len());
    let desc = walk(&app, &format!("since={}&until={}&limit=5", enc(&since), enc(&until))).await;
    assert_eq!(desc.iter().collect::<Vec<_>>(), expected);
    let asc = walk(&app, &format!("since={}&until={}&limit=5&ascending=true", enc(&since), enc(&until))).await;
    assert_eq!(asc.iter().rev().collect::<Vec<_>>(), expected);
    let only_since = walk(&app, &format!("since={}&limit=4", enc(&since))).await;
    assert_eq!(only_since.iter().collect::<Vec<_>>(), all.iter().filter(|(_, s)| *s > since).collect::<Vec<_>>());
    let only_until = walk(&app, &format!("until={}&limit=4&ascending=true", enc(&until))).await;
    let mut want: Vec<&(String, String)> = all.iter().filter(|(_, s)| *s <= until).collect();
    want.reverse();
    assert_eq!(only_until.iter().collect::<Vec<_>>(), want);
}
both!(unfiltered_time_windows_match_the_full_listing);

/// A listed statement: id, stored, verb, actor's mbox.
type Listed = (String, String, String, String);
/// Which listed statements a query should return.
type Keep<'a> = Box<dyn Fn(&Listed) -> bool + 'a>;

/// Filtered windows: a verb alone, and a verb with an agent (the agent drives, the verb is probed),
/// against the full listing filtered by hand.
async fn filtered_time_windows_match_the_full_listing(app: TestApp) {
    let verbs = ["http://adlnet.gov/expapi/verbs/experienced", "http://adlnet.gov/expapi/verbs/completed"];
    for round in 0..4 {
        let batch: Vec<Value> = (0..6)
            .map(|i| {
                json!({"actor": {"mbox": format!("mailto:f{}@example.com", i % 2)},
                       "verb": {"id": verbs[(i / 2) % 2]},
                       "object": {"id": format!("http://example.com/f/{round}/{i}")}})
            })
            .collect();
        let (status, _) = app.post_statements(&Value::Array(batch)).await;
        assert_eq!(status, 200);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let (_, listing) = app.get_json("/xapi/statements?limit=100").await;
    let all: Vec<Listed> = listing["statements"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|s| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (text(&s["id"]), text(&s["stored"]), text(&s["verb"]["id"]), text(&s["actor"]["mbox"]))
        })
        .collect();
    assert_eq!(all.len(), 24);
    let since = all[all.len() - 1].1.clone();
    let until = all[6].1.clone();
    let enc = |t: &str| t.replace('+', "%2B").replace(':', "%3A").replace('/', "%2F").replace('@', "%40");
    let agent = enc(&json!({"mbox": "mailto:f1@example.com"}).to_string());
    let window = format!("since={}&until={}", enc(&since), enc(&until));
    let cases: Vec<(String, Keep)> = vec![
        (format!("verb={}&{window}", enc(verbs[1])), Box::new(|s| s.2 == verbs[1] && s.1 > since && s.1 <= until)),
        (format!("verb={}&since={}", enc(verbs[0]), enc(&since)), Box::new(|s| s.2 == verbs[0] && s.1 > since)),
        (format!("verb={}&until={}", enc(verbs[1]), enc(&until)), Box::new(|s| s.2 == verbs[1] && s.1 <= until)),
        (
            format!("agent={agent}&verb={}&{window}", enc(verbs[0])),
            Box::new(|s| s.2 == verbs[0] && s.3 == "mailto:f1@example.com" && s.1 > since && s.1 <= until),
        ),
    ];
    for (query, keep) in cases {
        let expected: Vec<(String, String)> =
            all.iter().filter(|s| keep(s)).map(|s| (s.0.clone(), s.1.clone())).collect();
        assert!(!expected.is_empty(), "{query}: nothing to find");
        let desc = walk(&app, &format!("{query}&limit=2")).await;
        assert_eq!(desc, expected, "{query}");
        let mut asc = walk(&app, &format!("{query}&limit=2&ascending=true")).await;
        asc.reverse();
        assert_eq!(asc, expected, "{query}, ascending");
    }
}
both!(filtered_time_windows_match_the_full_listing);

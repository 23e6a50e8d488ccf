//! Statements stored in different months. PostgreSQL keeps each month of `statements` and
//! `statement_index` in a partition of its own (migration 0023, src/store/partitions.rs); queries,
//! `more` cursors, lookups by id, voiding and StatementRefs must see one store across them, on both
//! backends. The LRS only stores at the present time, so the other months' statements go in through
//! the store, prepared as the LRS prepares them.

use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use crate::both;
use crate::support::TestApp;

fn enc(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).expect("encode")[2..].to_string()
}

fn agent(name: &str) -> Value {
    json!({"objectType": "Agent", "mbox": format!("mailto:{name}@example.com")})
}

const DID: &str = "http://example.com/verbs/did";
const TRIED: &str = "http://example.com/verbs/tried";

/// Stores `stmt` as if it had arrived at `stored`, as the LRS would (its index rows included).
async fn store_at(app: &TestApp, stmt: Value, stored: OffsetDateTime) -> String {
    let authority = json!({"objectType": "Agent", "account": {"homePage": "http://cairn.test", "name": "months"}});
    let ctx =
        cairn::xapi::statement::StoreContext { version: cairn::xapi::Version::V1_0_3, stored, authority: &authority };
    let p = cairn::xapi::statement::prepare(stmt.as_object().cloned().expect("object"), &ctx);
    let id = p.id.clone();
    let row = cairn::lrs::statements::into_row(p, crate::support::KEY, stored);
    app.lrs.store.insert_statements(vec![row].into(), &[], Vec::new().into()).await.expect("insert");
    id
}

/// Every statement a query returns, following `more` to the end, pages of `limit`.
async fn all_pages(app: &TestApp, query: &str, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut url = format!("/xapi/statements?{query}&limit={limit}");
    for _ in 0..100 {
        let (status, page) = app.get_json(&url).await;
        assert_eq!(status, 200, "{url}: {page}");
        let ids = page["statements"].as_array().expect("statements");
        assert!(ids.len() <= limit, "{page}");
        out.extend(ids.iter().map(|s| s["id"].as_str().unwrap_or_default().to_string()));
        match page["more"].as_str() {
            Some(more) if !more.is_empty() => url = more.to_string(),
            _ => return out,
        }
    }
    panic!("more than 100 pages for {query}");
}

async fn statements_across_months_read_as_one_store(app: TestApp) {
    let (alice, bob, carol) = (agent("alice"), agent("bob"), agent("carol"));
    let act = json!({"objectType": "Activity", "id": "http://example.com/a/months"});
    let now = OffsetDateTime::now_utc();
    // Two months back and yesterday (both in the first partition on PostgreSQL), and three months
    // ahead, each in a month of its own: 35 days apart.
    let times: Vec<OffsetDateTime> = [-70i64, -1, 35, 70, 105].iter().map(|d| now + Duration::days(*d)).collect();
    let mut did = Vec::new();
    let mut tried = Vec::new();
    for (i, t) in times.iter().enumerate() {
        let at = |s: i64| *t + Duration::seconds(s);
        did.push(store_at(&app, json!({"actor": alice, "verb": {"id": DID}, "object": act}), at(1)).await);
        tried.push(store_at(&app, json!({"actor": alice, "verb": {"id": TRIED}, "object": act}), at(2)).await);
        store_at(&app, json!({"actor": bob, "verb": {"id": DID}, "object": act}), at(3 + i as i64)).await;
    }
    // Newest first, as xAPI orders them.
    let newest_first = |v: &[String]| v.iter().rev().cloned().collect::<Vec<_>>();
    let interleaved: Vec<String> = did.iter().zip(&tried).flat_map(|(d, t)| [d.clone(), t.clone()]).collect();
    let by_alice = format!("agent={}", enc(&alice.to_string()));
    assert_eq!(all_pages(&app, &by_alice, 3).await, newest_first(&interleaved));
    assert_eq!(all_pages(&app, &format!("{by_alice}&ascending=true"), 3).await, interleaved);
    let did_q = format!("{by_alice}&verb={}", enc(DID));
    assert_eq!(all_pages(&app, &did_q, 2).await, newest_first(&did));
    assert_eq!(all_pages(&app, &format!("{did_q}&ascending=true"), 2).await, did);
    // A window over three months, with and without a filter.
    let fmt = |t: OffsetDateTime| enc(&t.format(&time::format_description::well_known::Rfc3339).expect("format"));
    let window = format!("since={}&until={}", fmt(times[1]), fmt(times[3] + Duration::seconds(2)));
    assert_eq!(all_pages(&app, &format!("{by_alice}&{window}"), 2).await, newest_first(&interleaved[2..8]), "{window}");
    let unfiltered = all_pages(&app, &window, 4).await;
    assert_eq!(unfiltered.len(), 8, "alice's six and two of bob's: {unfiltered:?}");

    // By id, voided, and as a StatementRef target, in months other than the present one.
    let (status, got) = app.get_json(&format!("/xapi/statements?statementId={}", did[4])).await;
    assert_eq!(status, 200, "{got}");
    let voiding = json!({"actor": bob, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": tried[3]}});
    assert_eq!(app.post_statements(&voiding).await.0, 200);
    let (status, _) = app.get_json(&format!("/xapi/statements?statementId={}", tried[3])).await;
    assert_eq!(status, 404, "voided");
    let (status, _) = app.get_json(&format!("/xapi/statements?voidedStatementId={}", tried[3])).await;
    assert_eq!(status, 200);
    let referrer = json!({"actor": carol, "verb": {"id": "http://example.com/verbs/saw"},
        "object": {"objectType": "StatementRef", "id": did[4]}});
    let (status, ids) = app.post_statements(&referrer).await;
    assert_eq!(status, 200, "{ids}");
    let referrer_id = ids[0].as_str().expect("id").to_string();
    // The referrer (stored now) is found by the target's agent and verb, in its own place in time.
    let mut expected = newest_first(&did);
    expected.insert(3, referrer_id.clone());
    assert_eq!(all_pages(&app, &did_q, 2).await, expected);
    let by_carol = format!("agent={}&verb={}", enc(&carol.to_string()), enc(DID));
    assert_eq!(all_pages(&app, &by_carol, 2).await, vec![referrer_id.clone()]);
    let found = all_pages(&app, &by_alice, 4).await;
    assert!(found.contains(&referrer_id) && !found.contains(&tried[3]), "{found:?}");

    if !app.database_url.starts_with("sqlite") {
        let pool = sqlx::PgPool::connect(&app.database_url).await.expect("postgres");
        for table in ["statements", "statement_index"] {
            let months: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(DISTINCT tableoid) FROM {table}")))
                    .fetch_one(&pool)
                    .await
                    .expect("count");
            assert!(months >= 4, "{table}: rows in {months} partitions");
        }
    }
}
both!(statements_across_months_read_as_one_store);

/// `archive_months` (`cairn store archive`) moves whole months before the current one out of the
/// store: their statements are no longer found (by query, id or `more` page) and their ids are free
/// again; the other months are untouched, and the archived tables are listed as such. SQLite refuses,
/// naming why.
async fn archived_months_leave_the_store(app: TestApp) {
    let store = app.lrs.store.clone();
    let this_month = cairn::store::month_start(cairn::now_us());
    if app.database_url.starts_with("sqlite") {
        let e = store.archive_months(this_month).await.expect_err("SQLite keeps one table");
        assert!(e.to_string().contains("needs PostgreSQL"), "{e}");
        return;
    }
    let alice = agent("archive-alice");
    let act = json!({"objectType": "Activity", "id": "http://example.com/a/archive"});
    let now = OffsetDateTime::now_utc();
    let mut old = Vec::new();
    let mut kept = Vec::new();
    for days in [-70i64, -40, 0, 35] {
        let t = now + Duration::days(days) + Duration::seconds(1);
        let id = store_at(&app, json!({"actor": alice, "verb": {"id": DID}, "object": act}), t).await;
        if (t.unix_timestamp_nanos() / 1_000) < i128::from(this_month) {
            old.push(id);
        } else {
            kept.push(id);
        }
    }
    assert!(old.len() >= 2, "two months back is before this month");
    let by_alice = format!("agent={}", enc(&alice.to_string()));
    // A `more` link handed out before the archive, pointing into the old months.
    let (_, first) = app.get_json(&format!("/xapi/statements?{by_alice}&limit=1&ascending=true")).await;
    let more = first["more"].as_str().expect("more").to_string();

    let next = cairn::store::next_month_start(this_month);
    let e = store.archive_months(next).await.expect_err("the current month stays");
    assert!(e.to_string().contains("current month"), "{e}");
    let e = store.archive_months(this_month + 1).await.expect_err("whole months");
    assert!(e.to_string().contains("first day of a month"), "{e}");

    let archived = store.archive_months(this_month).await.expect("archive");
    assert_eq!(archived.iter().map(|m| m.table.as_str()).collect::<Vec<_>>(), vec!["statements_first"]);
    assert!(archived[0].archived && archived[0].statements == old.len() as i64, "{archived:?}");
    assert!(store.archive_months(this_month).await.expect("again").is_empty(), "nothing left to archive");

    let newest_first: Vec<String> = kept.iter().rev().cloned().collect();
    assert_eq!(all_pages(&app, &by_alice, 1).await, newest_first);
    let (status, page) = app.get_json(&more).await;
    assert_eq!(status, 200, "{page}");
    let after: Vec<&str> = page["statements"].as_array().unwrap().iter().filter_map(|s| s["id"].as_str()).collect();
    assert!(old.iter().all(|id| !after.contains(&id.as_str())), "{page}");
    for id in &old {
        let (status, _) = app.get_json(&format!("/xapi/statements?statementId={id}")).await;
        assert_eq!(status, 404, "archived {id}");
    }
    // The id is free again: a statement may be stored under it.
    let again = app
        .req(reqwest::Method::PUT, &format!("/xapi/statements?statementId={}", old[0]))
        .json(&json!({"actor": alice, "verb": {"id": TRIED}, "object": act}))
        .send()
        .await
        .expect("send");
    assert_eq!(again.status().as_u16(), 204);

    let months = store.stored_months().await.expect("months");
    let first = months.iter().find(|m| m.table == "statements_first").expect("listed");
    assert!(first.archived && first.until_us.is_none(), "{months:?}");
    let live: i64 = months.iter().filter(|m| !m.archived).map(|m| m.statements).sum();
    assert_eq!(live, kept.len() as i64 + 1, "{months:?}");
    let pool = sqlx::PgPool::connect(&app.database_url).await.expect("postgres");
    let archived_rows: i64 = sqlx::query_scalar("SELECT count(*) FROM cairn_archive.statements_first")
        .fetch_one(&pool)
        .await
        .expect("archived table");
    assert_eq!(archived_rows, old.len() as i64);
}
both!(archived_months_leave_the_store);

/// Upgrading a store that holds statements to the month layout (migration 0023): the rows stay where
/// queries and lookups find them, PostgreSQL holds them in `statements_first`, whose range ends after
/// the newest of them and the current month, and new statements go on being stored.
#[tokio::test]
async fn upgrading_keeps_stored_statements_and_goes_on_storing() {
    let dir = tempfile::tempdir().expect("dir");
    let mut urls = vec![format!("sqlite://{}?mode=rwc", dir.path().join("upgrade.db").display())];
    urls.extend(crate::support::postgres_url());
    for url in urls {
        let sqlite = url.starts_with("sqlite");
        let verb = "http://example.com/verbs/upgraded";
        let ids: Vec<String> = (0..3).map(|_| uuid::Uuid::new_v4().to_string()).collect();
        let stored_us = cairn::now_us() - 40 * 86_400_000_000; // last month or the one before
        let mut sql = vec![format!("INSERT INTO index_keys (id, kind, key) VALUES (1, 'V', '{verb}')")];
        for (i, id) in ids.iter().enumerate() {
            let seq = i as i64 + 1;
            let body = json!({"id": id, "actor": agent("old"), "verb": {"id": verb},
                "object": {"id": "http://example.com/a/old"}, "stored": "2026-10-25T00:00:00.000Z"});
            sql.push(format!(
                "INSERT INTO statements (seq, id, stored_us, is_voiding, voided, object_ref, authority, body) \
                 VALUES ({seq}, '{id}', {}, FALSE, FALSE, NULL, 'k', '{body}')",
                stored_us + seq
            ));
            sql.push(format!(
                "INSERT INTO statement_index (key_id, stored_us, seq) VALUES (1, {}, {seq})",
                stored_us + seq
            ));
        }
        if sqlite {
            let pool = sqlx::SqlitePool::connect(&url).await.expect("sqlite");
            sqlx::migrate!("migrations/sqlite").run_to(22, &pool).await.expect("to 0022");
            for s in sql {
                sqlx::raw_sql(sqlx::AssertSqlSafe(s)).execute(&pool).await.expect("old rows");
            }
            pool.close().await;
        } else {
            let pool = sqlx::PgPool::connect(&url).await.expect("postgres");
            sqlx::migrate!("migrations/postgres").run_to(22, &pool).await.expect("to 0022");
            sql.push("SELECT setval('statements_seq_seq', 3)".into());
            for s in sql {
                sqlx::raw_sql(sqlx::AssertSqlSafe(s)).execute(&pool).await.expect("old rows");
            }
            pool.close().await;
        }
        let store = cairn::store::Store::connect(&url).await.expect("connect");
        store.migrate().await.expect("0023");
        let found = store.statements_by_id(&ids).await.expect("by id");
        assert_eq!(found.len(), 3, "{url}");
        let query = |max_seq| cairn::store::StatementQuery {
            filters: vec![('V', verb.to_string())],
            limit: 10,
            max_seq,
            ..Default::default()
        };
        let by_verb = store.query_statements(&query(i64::MAX)).await.expect("query");
        assert_eq!(by_verb.iter().map(|s| s.id.clone()).rev().collect::<Vec<_>>(), ids, "{url}");
        // A new statement, stored now, with the same verb.
        let mut row = cairn::store::NewStatement {
            id: uuid::Uuid::new_v4().to_string(),
            stored_us: cairn::now_us(),
            is_voiding: false,
            object_ref: None,
            authority: "k".into(),
            body: json!({"verb": {"id": verb}}).to_string(),
            index: vec![('V', verb.to_string())],
            attachments: Vec::new(),
            activities: Vec::new(),
            agents: Vec::new(),
            actor: None,
        };
        store.insert_statements(vec![row.clone()].into(), &[], Vec::new().into()).await.expect("new statement");
        assert_eq!(store.query_statements(&query(i64::MAX)).await.expect("query").len(), 4, "{url}");
        // Its id is taken: the same id again is refused by the store itself.
        row.body = json!({"other": true}).to_string();
        let again = store.insert_statements(vec![row].into(), &[], Vec::new().into()).await;
        assert!(matches!(again, Err(cairn::store::StoreError::DuplicateStatement(_))), "{url}: {again:?}");
        if !sqlite {
            let months = store.stored_months().await.expect("months");
            let first = months.iter().find(|m| m.table == "statements_first").expect("first");
            // The current month stays in it (its range ends after now); the next has a table ready.
            assert_eq!(first.statements, 4, "{months:?}");
            assert!(months.iter().any(|m| m.from_us == first.until_us), "{months:?}");
            assert!(first.until_us.is_some_and(|u| u > cairn::now_us()), "ends after the newest: {months:?}");
            assert_eq!(months.iter().filter(|m| !m.archived).map(|m| m.statements).sum::<i64>(), 4);
        }
    }
}

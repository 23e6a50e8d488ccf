//! Statement bodies are stored packed (zstd, `statements.packed`); once the store holds enough
//! statements it trains a dictionary on them and packs with it. Every read gives back exactly what
//! was stored: the LRS, another node on the same database, and another process, which has to load
//! the dictionary from the database.

use serde_json::{json, Value};

use crate::both;
use crate::support::{cli, TestApp};

/// `(body, packed)` of the statements whose id is in `ids`.
async fn stored_rows(app: &TestApp, ids: &[String]) -> Vec<(String, Option<Vec<u8>>)> {
    let list = ids.iter().map(|i| format!("'{i}'")).collect::<Vec<_>>().join(", ");
    let sql = format!("SELECT body, packed FROM statements WHERE id IN ({list})");
    if app.database_url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&app.database_url).await.expect("sqlite");
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&pool).await.expect("rows")
    } else {
        let pool = sqlx::PgPool::connect(&app.database_url).await.expect("postgres");
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&pool).await.expect("rows")
    }
}

async fn dictionary_keys(app: &TestApp) -> Vec<i64> {
    let sql = "SELECT key FROM body_dictionaries";
    if app.database_url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&app.database_url).await.expect("sqlite");
        sqlx::query_scalar(sql).fetch_all(&pool).await.expect("keys")
    } else {
        let pool = sqlx::PgPool::connect(&app.database_url).await.expect("postgres");
        sqlx::query_scalar(sql).fetch_all(&pool).await.expect("keys")
    }
}

/// The dictionary key a packed value ends with.
fn key_of(packed: &[u8]) -> i64 {
    i64::from_le_bytes(packed[packed.len() - 8..].try_into().expect("8 bytes"))
}

fn statement(who: &str, n: usize) -> Value {
    json!({"actor": {"mbox": format!("mailto:{who}@example.com"), "name": format!("Learner {who}")},
           "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en-US": "experienced"}},
           "object": {"id": format!("http://example.com/packed/{}", n % 17),
                      "definition": {"name": {"en-US": format!("Activity {} — ünïcode", n % 17)}}},
           "result": {"score": {"scaled": (n % 10) as f64 / 10.0}}})
}

async fn post(app: &TestApp, who: &str, from: usize, n: usize) -> Vec<String> {
    let batch: Vec<Value> = (from..from + n).map(|i| statement(who, i)).collect();
    let (status, ids) = app.post_statements(&Value::Array(batch)).await;
    assert_eq!(status, 200, "{ids}");
    ids.as_array().expect("ids").iter().map(|i| i.as_str().expect("id").to_string()).collect()
}

/// Each statement read by id, as the LRS returns it.
async fn read_each(app: &TestApp, ids: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    for id in ids {
        let (status, s) = app.get_json(&format!("/xapi/statements?statementId={id}")).await;
        assert_eq!(status, 200, "{s}");
        out.push(s);
    }
    out
}

async fn bodies_are_packed_and_read_back_exactly(app: TestApp) {
    // Before any dictionary: packed alone (key 0), the text column left empty.
    let early = post(&app, "pk", 0, 5).await;
    let rows = stored_rows(&app, &early).await;
    assert_eq!(rows.len(), 5);
    for (body, packed) in &rows {
        assert_eq!(body, "", "the text column is empty for a packed body");
        assert_eq!(key_of(packed.as_ref().expect("packed")), 0, "no dictionary yet");
    }
    let early_read = read_each(&app, &early).await;
    for (i, s) in early_read.iter().enumerate() {
        assert_eq!(s["object"]["definition"]["name"]["en-US"], format!("Activity {} — ünïcode", i % 17));
        assert_eq!(s["actor"]["mbox"], "mailto:pk@example.com");
    }

    // Enough statements to train on; the store looks now and then as statements arrive.
    let mut n = 5;
    while n < 2_200 {
        post(&app, &format!("other{}", n % 40), n, 300).await;
        n += 300;
    }
    let mut keys = dictionary_keys(&app).await;
    for _ in 0..100 {
        if !keys.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        post(&app, "filler", n, 50).await;
        n += 50;
        keys = dictionary_keys(&app).await;
    }
    assert_eq!(keys.len(), 1, "one dictionary trained");
    // Adopted right after it is stored.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let late = post(&app, "pk", 5, 5).await;
    let late_rows = stored_rows(&app, &late).await;
    for (body, packed) in &late_rows {
        let packed = packed.as_ref().expect("packed");
        assert_eq!(body, "");
        assert_eq!(key_of(packed), keys[0], "packed with the trained dictionary");
    }
    let alone = rows.iter().map(|(_, p)| p.as_ref().map_or(0, Vec::len)).sum::<usize>();
    let with = late_rows.iter().map(|(_, p)| p.as_ref().map_or(0, Vec::len)).sum::<usize>();
    assert!(with < alone, "the dictionary packs smaller: {with} < {alone}");

    // Every reader gives back the same statements: by id, by query, from another node.
    let all: Vec<String> = early.iter().chain(&late).cloned().collect();
    let by_id = read_each(&app, &all).await;
    let other = app.another_node().await;
    assert_eq!(read_each(&other, &all).await, by_id);
    let agent =
        serde_urlencoded::to_string([("agent", json!({"mbox": "mailto:pk@example.com"}).to_string())]).expect("query");
    let (_, page) = app.get_json(&format!("/xapi/statements?{agent}&ascending=true&limit=100")).await;
    assert_eq!(page["statements"].as_array().expect("statements"), &by_id);

    // Another process loads the dictionary from the database to read them.
    let (_, persons) = app.get_json("/api/persons?search=pk%40example.com").await;
    let id = persons["persons"][0]["id"].as_str().expect("person").to_string();
    let db = app.database_url.clone();
    let out = tokio::task::spawn_blocking(move || cli(&db, &["persons", "export", &id])).await.expect("cli");
    let export: Value = serde_json::from_str(&out).expect("export JSON");
    let exported = export["statements"].as_array().expect("statements");
    assert_eq!(exported.len(), 10, "{export}");
    for s in exported {
        let id = s["id"].as_str().expect("id");
        let read = by_id.iter().find(|r| r["id"] == id).expect("same statement");
        assert_eq!(s["object"], read["object"]);
        assert_eq!(s["stored"], read["stored"]);
    }
}
both!(bodies_are_packed_and_read_back_exactly);

//! `cairn bench size` (`cairn::bench::size`): the store's bytes on disk per statement, table by table,
//! on both backends. It must count the statements the LRS stored, account every byte to a table or
//! one of its indexes, grow when statements arrive, and change nothing it reads.

use serde_json::json;

use crate::both;
use crate::support::{cli, TestApp};
use cairn::bench::size::{measure, StoreSize};

fn batch(from: usize, n: usize) -> serde_json::Value {
    // Bodies of about 1.5 KB, like the bench data set's, so the statements table must grow.
    let padding = "x".repeat(1_200);
    json!((from..from + n)
        .map(|i| json!({
            "actor": {"mbox": format!("mailto:learner{i}@example.com")},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": format!("http://example.com/activities/{i}"),
                       "definition": {"description": {"en-US": padding}}},
        }))
        .collect::<Vec<_>>())
}

fn check_accounting(size: &StoreSize) {
    assert_eq!(size.bytes, size.parts.iter().map(|p| p.bytes).sum::<u64>());
    for p in &size.parts {
        assert!(p.kind == "table" || p.kind == "index", "{p:?}");
        assert_eq!(p.kind == "table", p.table == p.name, "an index names its own table: {p:?}");
        assert!(size.parts.iter().any(|t| t.kind == "table" && t.name == p.table), "{p:?} has no table");
    }
    for table in ["statements", "statement_index"] {
        assert!(size.parts.iter().any(|p| p.name == table && p.kind == "table"), "{table} missing");
    }
    assert!(
        size.parts.iter().any(|p| p.table == "statements" && p.kind == "index"),
        "the statements table's indexes are counted with it"
    );
}

async fn counts_what_the_lrs_stored_and_grows_with_it(app: TestApp) {
    let (status, _) = app.post_statements(&batch(0, 40)).await;
    assert_eq!(status, 200);
    let before = measure(&app.database_url).await.expect("measure");
    assert_eq!(before.statements, 40);
    check_accounting(&before);
    let per = before.per_statement().expect("statements stored");
    // At least the JSON itself (about 1.5 KB a statement) must be somewhere.
    assert!(per > 1_400.0, "{per} bytes per statement");

    let (status, _) = app.post_statements(&batch(40, 200)).await;
    assert_eq!(status, 200);
    let after = measure(&app.database_url).await.expect("measure");
    assert_eq!(after.statements, 240);
    check_accounting(&after);
    // 200 more bodies of 1.5 KB, packed to a few hundred bytes each: at least 60 KB more in the
    // statements table alone.
    assert!(
        after.of_table("statements") >= before.of_table("statements") + 60_000,
        "{} -> {}",
        before.of_table("statements"),
        after.of_table("statements")
    );
    // Reading changed nothing: the LRS still serves what it stored.
    assert_eq!(app.statement_count().await, 240);

    // The command prints the same figures.
    let out = cli(&app.database_url, &["bench", "size"]);
    assert!(out.contains("for 240 statements"), "{out}");
    assert!(out.contains("| **statements** (all) |"), "{out}");
}
both!(counts_what_the_lrs_stored_and_grows_with_it);

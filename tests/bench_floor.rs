//! `cairn bench floor` at a tiny size: every row of the data set goes into the scratch table exactly
//! once, counted by the test's own connection, and the scratch file or table is gone afterwards; on
//! SQLite and, when the harness has it, PostgreSQL. Timings are never asserted.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use cairn::bench::floor::{data_set_rows, FloorPlan, PgForm, Scratch};
use cairn::bench::generate::Spec;
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

// The API tests' harness, for its throwaway PostgreSQL cluster (`postgres_url`).
#[allow(dead_code)]
#[path = "api/support.rs"]
mod support;

fn plan(rows: u64, batch: usize, clients: usize, pg_form: PgForm) -> FloorPlan {
    FloorPlan {
        rows,
        batch,
        clients,
        data: Spec { statements: rows, learners: 50, courses: 4, seed: 7 },
        pg_form,
        limit: Duration::from_secs(600),
        settings: Default::default(),
    }
}

/// The ids the plan's rows carry (all distinct: the generator's ids are unique).
fn ids_of(plan: &FloorPlan) -> BTreeSet<String> {
    let ids: BTreeSet<String> = data_set_rows(plan.data, plan.rows).into_iter().map(|r| r.0).collect();
    assert_eq!(ids.len() as u64, plan.rows);
    ids
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_scratch_file_beside_the_store_gets_every_row_once_and_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("cairn.db").display());
    // 257 rows in batches of 10: the last batch is short.
    let plan = plan(257, 10, 3, PgForm::Unnest);
    let scratch = Scratch::create(&store, plan.clients, plan.settings).await.unwrap();
    let file = scratch.sqlite_file().unwrap().to_path_buf();
    assert_eq!(file.parent(), Some(dir.path()), "the scratch file sits beside the store file");
    assert!(file.exists());
    let settings = scratch.settings().await.unwrap();
    assert!(settings.contains("journal_mode=wal") && settings.contains("synchronous=FULL"), "{settings}");

    let rows = Arc::new(data_set_rows(plan.data, plan.rows));
    let filled = scratch.fill(rows, &plan).await.unwrap();
    assert_eq!((filled.inserted, filled.failed), (257, 0), "{:?}", filled.first_error);
    assert!(filled.commits >= 1 && filled.commits <= 26, "{} commits for 26 batches", filled.commits);
    assert_eq!(scratch.count().await.unwrap(), 257);

    // Counted again through a connection of the test's own: exactly the data set's ids, once each.
    let own = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::from_str(&format!("sqlite://{}", file.display())).unwrap())
        .await
        .unwrap();
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM bare_insert").fetch_all(&own).await.unwrap();
    assert_eq!(ids.len(), 257);
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), ids_of(&plan));
    let columns: Vec<String> =
        sqlx::query_scalar("SELECT name FROM pragma_table_info('bare_insert')").fetch_all(&own).await.unwrap();
    assert_eq!(columns, ["id", "body"], "a bare table: the id and the body");
    own.close().await;

    scratch.remove().await.unwrap();
    assert!(!file.exists());
    assert!(files_in(dir.path()).is_empty(), "nothing left behind, and no store created: {:?}", files_in(dir.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_scratch_table_gets_every_row_once_and_is_dropped() {
    let Some(db) = support::postgres_url() else { return };
    let own = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&db).await.unwrap();
    // Both forms; batches of 600 make the VALUES form take two statements in one transaction.
    for plan in [plan(257, 10, 3, PgForm::Unnest), plan(1257, 600, 2, PgForm::Values), plan(57, 10, 4, PgForm::Values)]
    {
        let scratch = Scratch::create(&db, plan.clients, plan.settings).await.unwrap();
        let table = scratch.postgres_table().unwrap().to_string();
        let settings = scratch.settings().await.unwrap();
        assert!(settings.contains("fsync=") && settings.contains("synchronous_commit="), "{settings}");
        let rows = Arc::new(data_set_rows(plan.data, plan.rows));
        let filled = scratch.fill(rows, &plan).await.unwrap();
        assert_eq!((filled.inserted, filled.failed), (plan.rows, 0), "{:?}: {:?}", plan.pg_form, filled.first_error);
        assert_eq!(scratch.count().await.unwrap(), plan.rows);

        let ids: Vec<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT id FROM {table}"))).fetch_all(&own).await.unwrap();
        assert_eq!(ids.len() as u64, plan.rows, "{:?}", plan.pg_form);
        assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), ids_of(&plan));

        scratch.remove().await.unwrap();
        let gone: bool =
            sqlx::query_scalar("SELECT to_regclass($1) IS NULL").bind(&table).fetch_one(&own).await.unwrap();
        assert!(gone, "{table} was dropped");
    }
}

fn floor_command(db: &str, json: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["--database", db, "bench", "floor", "--rows", "120", "--batch", "7", "--clients", "3", "--json"])
        .arg(json)
        .env("CAIRN_LOG", "warn")
        .output()
        .unwrap()
}

/// The command's report: 120 rows in 18 transactions (the last of 1 row), all counted.
fn check_report(out: &std::process::Output, json: &Path) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("| bare insert floor, batches of 7, 3 clients | 3 | 18 |"), "{stdout}");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let floor = &doc["floor"];
    assert_eq!(floor["rows_requested"], 120);
    assert_eq!(floor["rows_counted"], 120);
    assert_eq!(floor["result"]["units"], 120);
    assert_eq!(floor["result"]["operations"], 18);
    assert_eq!(floor["result"]["errors"], 0);
    assert_eq!(floor["result"]["unit"], "rows");
}

#[test]
fn the_command_on_sqlite_reports_every_row_and_leaves_only_its_json() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("floor.json");
    let out = floor_command(&format!("sqlite://{}", dir.path().join("cairn.db").display()), &json);
    check_report(&out, &json);
    assert_eq!(files_in(dir.path()), ["floor.json"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_on_postgres_reports_every_row_and_drops_its_table() {
    let Some(db) = support::postgres_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("floor.json");
    let out = floor_command(&db, &json);
    check_report(&out, &json);
    let own = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&db).await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'cairn_bench_floor%'")
        .fetch_one(&own)
        .await
        .unwrap();
    assert_eq!(left, 0, "the scratch table was dropped");
}

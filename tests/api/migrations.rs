//! Both backends' migrations define the same schema: the same tables, the same columns in each, and
//! the same secondary indexes (by name), so that a query written once behaves alike on both. A
//! SQLite view stands for a PostgreSQL table of the same name (`statement_ids`), and PostgreSQL's
//! partitions are not tables of their own here (their parent is).

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row;

/// Table -> (columns, secondary index names).
type Schema = BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>;

async fn sqlite_schema(url: &str) -> Schema {
    let pool = sqlx::SqlitePool::connect(url).await.expect("sqlite");
    let mut out = Schema::new();
    let tables = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' \
         AND name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&pool)
    .await
    .expect("tables");
    for t in tables {
        let name: String = t.get(0);
        let cols = sqlx::query("SELECT name FROM pragma_table_info(?1)").bind(&name).fetch_all(&pool).await.unwrap();
        let idx = sqlx::query(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 AND name NOT LIKE 'sqlite_autoindex%'",
        )
        .bind(&name)
        .fetch_all(&pool)
        .await
        .unwrap();
        out.insert(name, (cols.iter().map(|r| r.get(0)).collect(), idx.iter().map(|r| r.get(0)).collect()));
    }
    out
}

async fn postgres_schema(url: &str) -> Schema {
    let pool = sqlx::PgPool::connect(url).await.expect("postgres");
    let mut out = Schema::new();
    let tables = sqlx::query(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%' \
         AND table_name NOT IN (SELECT relname FROM pg_class WHERE relispartition)",
    )
    .fetch_all(&pool)
    .await
    .expect("tables");
    for t in tables {
        let name: String = t.get(0);
        let cols = sqlx::query(
            "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
        )
        .bind(&name)
        .fetch_all(&pool)
        .await
        .unwrap();
        let idx = sqlx::query(
            "SELECT i.relname::text FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = 'public' AND t.relname = $1 AND NOT x.indisprimary \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
        )
        .bind(&name)
        .fetch_all(&pool)
        .await
        .unwrap();
        out.insert(name, (cols.iter().map(|r| r.get(0)).collect(), idx.iter().map(|r| r.get(0)).collect()));
    }
    out
}

#[tokio::test]
async fn both_backends_define_the_same_tables_columns_and_indexes() {
    let Some(pg_url) = crate::support::postgres_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}?mode=rwc", dir.path().join("schema.db").display());
    for url in [&sqlite_url, &pg_url] {
        cairn::store::Store::connect(url).await.expect("connect").migrate().await.expect("migrate");
    }
    let (lite, pg) = (sqlite_schema(&sqlite_url).await, postgres_schema(&pg_url).await);
    assert_eq!(lite.keys().collect::<Vec<_>>(), pg.keys().collect::<Vec<_>>(), "tables");
    for (table, (cols, idx)) in &lite {
        let (pg_cols, pg_idx) = &pg[table];
        assert_eq!(cols, pg_cols, "columns of {table}");
        assert_eq!(idx, pg_idx, "secondary indexes of {table}");
    }
}

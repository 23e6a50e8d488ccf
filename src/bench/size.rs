//! `cairn bench size`: what a store costs on disk per statement, and where the bytes are.
//!
//! Issue 15 targets bytes per statement (indexes and results facts included), so the figure has to
//! come from the database's own accounting, table by table and index by index, not from the size of
//! a file that also holds free pages and an unfinished write-ahead log. SQLite: pages in use (page
//! count less the free list) and the `dbstat` virtual table per table and index (compiled into the
//! bundled SQLite); PostgreSQL: `pg_table_size` (heap, TOAST, free-space and visibility maps) per
//! table and `pg_relation_size` per index, in the connection's schema. Both read through a connection
//! of their own and change nothing. `bench run` prints the same report after its phases when it
//! spawned the server, so a run's table and its store size come from one run.

use std::str::FromStr;

use anyhow::{anyhow, bail, Context};
use clap::Args;
use serde::Serialize;
use sqlx::sqlite::SqliteConnectOptions;

use crate::store::postgres::PgStore;

#[derive(Debug, Clone, Args)]
pub struct SizeArgs {
    /// Write the figures as JSON here too.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
}

/// One table or index and the bytes it takes.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Part {
    pub name: String,
    /// `table` or `index`.
    pub kind: String,
    /// The table an index belongs to (the table itself for a table).
    pub table: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoreSize {
    pub backend: &'static str,
    /// Statements stored (voided ones included: they take their space).
    pub statements: u64,
    /// Bytes of every part below together.
    pub bytes: u64,
    /// Largest first.
    pub parts: Vec<Part>,
}

/// `(name, kind, table, bytes)` as both backends' queries return them.
type PartRow = (String, String, String, i64);

impl StoreSize {
    fn of(backend: &'static str, statements: i64, rows: Vec<PartRow>) -> StoreSize {
        let parts: Vec<Part> = rows
            .into_iter()
            .map(|(name, kind, table, bytes)| Part { name, kind, table, bytes: bytes.max(0) as u64 })
            .collect();
        let bytes = parts.iter().map(|p| p.bytes).sum();
        StoreSize { backend, statements: statements.max(0) as u64, bytes, parts }
    }

    pub fn per_statement(&self) -> Option<f64> {
        (self.statements > 0).then(|| self.bytes as f64 / self.statements as f64)
    }

    /// Bytes of a table with its indexes.
    pub fn of_table(&self, table: &str) -> u64 {
        self.parts.iter().filter(|p| p.table == table).map(|p| p.bytes).sum()
    }

    /// The report: the total and per statement, then every table with its indexes, largest first.
    pub fn report(&self) -> String {
        let mib = |b: u64| b as f64 / 1_048_576.0;
        let per = |b: u64| if self.statements > 0 { b as f64 / self.statements as f64 } else { 0.0 };
        let mut out = format!(
            "store size ({}): {:.1} MiB for {} statements = {} bytes per statement, indexes and results included\n\n\
             | table or index | kind | MiB | bytes per statement |\n|---|---|---:|---:|\n",
            self.backend,
            mib(self.bytes),
            self.statements,
            self.per_statement().map(|b| format!("{b:.0}")).unwrap_or_else(|| "n/a".into()),
        );
        let tables: std::collections::BTreeSet<&str> = self.parts.iter().map(|p| p.table.as_str()).collect();
        let mut tables: Vec<(&str, u64)> = tables.into_iter().map(|t| (t, self.of_table(t))).collect();
        tables.sort_by_key(|&(t, bytes)| (std::cmp::Reverse(bytes), t));
        // Tables under a thousandth of the store (empty LMS tables, the schema) go on one line.
        let small = |bytes: u64| bytes * 1000 < self.bytes;
        for &(t, total) in tables.iter().filter(|(_, b)| !small(*b)) {
            out.push_str(&format!("| **{t}** (all) | | {:.1} | {:.0} |\n", mib(total), per(total)));
            for p in self.parts.iter().filter(|p| p.table == t) {
                out.push_str(&format!("| {} | {} | {:.1} | {:.0} |\n", p.name, p.kind, mib(p.bytes), per(p.bytes)));
            }
        }
        let rest: Vec<&(&str, u64)> = tables.iter().filter(|(_, b)| small(*b)).collect();
        if !rest.is_empty() {
            let bytes = rest.iter().map(|(_, b)| b).sum();
            out.push_str(&format!(
                "| {} other tables with their indexes, each under 0.1 % | | {:.1} | {:.0} |\n",
                rest.len(),
                mib(bytes),
                per(bytes)
            ));
        }
        out
    }
}

/// Measures the store at `database` (a Cairn store: it counts the `statements` table).
pub async fn measure(database: &str) -> anyhow::Result<StoreSize> {
    if database.starts_with("sqlite:") {
        sqlite(database).await
    } else if database.starts_with("postgres:") || database.starts_with("postgresql:") {
        postgres(database).await
    } else {
        bail!("unsupported database URL: use sqlite://FILE or postgres://…")
    }
}

async fn sqlite(database: &str) -> anyhow::Result<StoreSize> {
    crate::memory::sqlite_uses_mimalloc();
    let opts =
        SqliteConnectOptions::from_str(database).map_err(|e| anyhow!("{e}"))?.read_only(true).create_if_missing(false);
    let pool = crate::store::pool_options::<sqlx::Sqlite>()
        .max_connections(1)
        .connect_with(opts)
        .await
        .context("opening the store")?;
    let result = async {
        let statements: i64 = sqlx::query_scalar("SELECT count(*) FROM statements").fetch_one(&pool).await?;
        // Every table and index with the table it belongs to; dbstat names both but not the owner.
        let rows: Vec<PartRow> = sqlx::query_as(
            "SELECT d.name AS name, COALESCE(m.type, 'table') AS kind, COALESCE(m.tbl_name, d.name) AS tbl, \
             SUM(d.pgsize) AS bytes FROM dbstat d LEFT JOIN sqlite_schema m ON m.name = d.name \
             GROUP BY d.name ORDER BY bytes DESC, d.name",
        )
        .fetch_all(&pool)
        .await?;
        anyhow::Ok(StoreSize::of("sqlite", statements, rows))
    }
    .await;
    pool.close().await;
    result
}

async fn postgres(database: &str) -> anyhow::Result<StoreSize> {
    let opts = PgStore::connect_options(database).map_err(|e| anyhow!("{e}"))?;
    let pool = crate::store::pool_options::<sqlx::Postgres>()
        .max_connections(1)
        .connect_with(opts)
        .await
        .context("connecting")?;
    let result = async {
        let statements: i64 = sqlx::query_scalar("SELECT count(*) FROM statements").fetch_one(&pool).await?;
        let rows: Vec<PartRow> = sqlx::query_as(
            // A month partition (migration 0023) and its indexes count as their parent's.
            "SELECT name, kind, tbl, sum(bytes)::bigint AS bytes FROM ( \
             SELECT COALESCE(pg_partition_root(c.oid), c.oid)::regclass::text AS name, \
             CASE c.relkind WHEN 'i' THEN 'index' ELSE 'table' END AS kind, \
             COALESCE(pg_partition_root(t.oid), t.oid, pg_partition_root(c.oid), c.oid)::regclass::text AS tbl, \
             CASE c.relkind WHEN 'i' THEN pg_relation_size(c.oid) ELSE pg_table_size(c.oid) END AS bytes \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_index x ON x.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = x.indrelid \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i', 'm')) p \
             GROUP BY name, kind, tbl ORDER BY bytes DESC, name",
        )
        .fetch_all(&pool)
        .await?;
        anyhow::Ok(StoreSize::of("postgres", statements, rows))
    }
    .await;
    pool.close().await;
    result
}

/// `cairn bench size`.
pub async fn size_command(args: SizeArgs, database: &str) -> anyhow::Result<()> {
    let size = measure(database)
        .await
        .with_context(|| format!("measuring the store at {}", crate::config::redact_url(database)))?;
    println!("{}", size.report());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&size)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

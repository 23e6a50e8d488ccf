//! SQLite backend: the embedded default. One file, WAL journal, `synchronous=FULL` so an acknowledged
//! write survives a crash. All writes go through a single-connection pool: SQLite allows one writer
//! at a time anyway, and queueing in-process avoids `SQLITE_BUSY` lock upgrades; reads use their own pool.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row};

use super::query::{self, Bind};
use super::*;
use crate::xapi::{activity, agent};

type Db = sqlx::Sqlite;
type DbRow = SqliteRow;

#[derive(Clone)]
pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
}

super::shared::shared_helpers!();

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let write = SqlitePoolOptions::new().max_connections(1).connect_with(opts.clone()).await?;
        let read = SqlitePoolOptions::new().max_connections(8).connect_with(opts).await?;
        Ok(SqliteStore { read, write })
    }

    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("migrations/sqlite").run(&self.write).await?;
        Ok(())
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Db>> {
        Ok(self.write.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Nothing to lock: the single write connection already serialises writers.
    async fn lock_key(_tx: &mut sqlx::Transaction<'static, Db>, _key: &str) -> Result<()> {
        Ok(())
    }

    super::shared::shared_methods!();
}

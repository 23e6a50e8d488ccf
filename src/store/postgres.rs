//! PostgreSQL backend: the way to scale out. Any number of `cairn serve` processes may share one
//! database; nothing here keeps state in-process. Document writes take a transaction-scoped advisory
//! lock on the document's key so that two nodes can never both pass a precondition on one version.

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, Row};

use super::query::{self, Bind};
use super::*;
use crate::xapi::{activity, agent};

type Db = sqlx::Postgres;
type DbRow = PgRow;

#[derive(Clone)]
pub struct PgStore {
    read: PgPool,
    write: PgPool,
}

super::shared::shared_helpers!();

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(30)).connect(url).await?;
        Ok(PgStore { read: pool.clone(), write: pool })
    }

    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("migrations/postgres").run(&self.write).await?;
        Ok(())
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Db>> {
        Ok(self.write.begin().await?)
    }

    /// Serialises writers of one document across every node sharing the database.
    async fn lock_document(tx: &mut sqlx::Transaction<'static, Db>, key: &DocumentKey) -> Result<()> {
        let lock_key = format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            key.kind, key.activity_id, key.agent_key, key.registration, key.doc_id
        );
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))").bind(lock_key).execute(&mut **tx).await?;
        Ok(())
    }

    super::shared::shared_methods!();
}

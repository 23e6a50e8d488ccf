//! PostgreSQL backend: the way to scale out. Any number of `cairn serve` processes may share one
//! database; nothing here keeps state in-process. Document writes take a transaction-scoped advisory
//! lock on the document's key so that two nodes can never both pass a precondition on one version.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool};
use sqlx::Connection;

use super::{missing_migrations, Result, StoreError};

#[derive(Clone)]
pub struct PgStore {
    pub(super) pool: PgPool,
    pub(super) health: super::health::Health,
    /// The dictionary statement bodies are packed with (see `statements::packing`).
    pub(super) bodies: std::sync::Arc<super::statements::packing::Bodies>,
    /// How far this process knows the month partitions reach (see `partitions`).
    pub(super) months: std::sync::Arc<super::partitions::Prepared>,
}

impl PgStore {
    /// The store's connection settings: the URL's, and the server's defaults for everything else
    /// (durability included: `fsync` and `synchronous_commit` as the server has them). `cairn bench
    /// floor` connects with these, so the floor it measures cannot drift from the store.
    pub fn connect_options(url: &str) -> Result<PgConnectOptions> {
        Ok(url.parse()?)
    }

    /// Opens one connection directly before building the pool: the pool retries a failed connect
    /// until its acquire timeout and then reports only "pool timed out", so an unreachable server, a
    /// wrong password or a missing database would cost 30 seconds and hide the cause.
    pub async fn connect(url: &str) -> Result<Self> {
        let opts = Self::connect_options(url)?;
        PgConnection::connect_with(&opts).await?.close().await?;
        let pool = super::pool_options::<sqlx::Postgres>()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.clone())
            .await?;
        Ok(PgStore {
            pool,
            health: super::health::Health::start(opts),
            bodies: Default::default(),
            months: Default::default(),
        })
    }

    /// Ready to serve: reachable (the health probe), every migration applied, and writable (not
    /// a standby in recovery).
    pub async fn ready(&self) -> std::result::Result<(), String> {
        if self.health.is_down() {
            return Err("the database cannot be reached".into());
        }
        let check = async {
            let recovering: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()").fetch_one(&self.pool).await?;
            let applied: Vec<i64> =
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(&self.pool).await?;
            Ok::<_, StoreError>((recovering, applied))
        };
        match tokio::time::timeout(Duration::from_secs(2), check).await {
            Err(_) => Err("the database did not answer within 2 s".into()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness check failed");
                Err("the database cannot be reached".into())
            }
            Ok(Ok((true, _))) => Err("the database is a read-only standby".into()),
            Ok(Ok((false, applied))) => {
                missing_migrations(&sqlx::migrate!("migrations/postgres"), &applied.into_iter().collect())
            }
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("migrations/postgres").run(&self.pool).await?;
        Ok(())
    }
}

//! PostgreSQL backend: the way to scale out. Any number of `cairn serve` processes may share one
//! database; nothing here keeps state in-process. Document writes take a transaction-scoped advisory
//! lock on the document's key so that two nodes can never both pass a precondition on one version.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, Connection, FromRow, Row};

use super::query::{self, Bind};
use super::*;
use crate::xapi::{activity, agent};

type Db = sqlx::Postgres;
type DbRow = PgRow;
/// PostgreSQL parameters are always numbered (`$1`…); see `query::param`.
const NUMBERED_PARAMS: bool = true;

/// Index rows as three arrays in one statement whose text never changes. A multi-row VALUES list
/// has a new text for every row count (a batch of 100 statements gives ~1,500 index rows, a
/// different number each time), and PostgreSQL parsed and planned each one, with its thousands of
/// parameters, anew: a fixed cost per request that dominated batches of 100.
async fn insert_index_rows(conn: &mut DbConn, rows: &[(String, &str, i64)]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let kinds: Vec<&str> = rows.iter().map(|(k, _, _)| k.as_str()).collect();
    let keys: Vec<&str> = rows.iter().map(|(_, k, _)| *k).collect();
    let seqs: Vec<i64> = rows.iter().map(|(_, _, s)| *s).collect();
    sqlx::query(
        "INSERT INTO statement_index (kind, key, seq) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING",
    )
    .bind(kinds)
    .bind(keys)
    .bind(seqs)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Clone)]
pub struct PgStore {
    read: PgPool,
    write: PgPool,
    pub(super) health: super::health::Health,
}

super::shared::shared_helpers!();

/// `SELECT k, v …` as one row holding a JSON array of `[k, v]` pairs (the SQLite backend needs this
/// shape for speed; here it simply saves per-row protocol overhead).
fn pairs_json(inner: &str) -> String {
    format!("SELECT coalesce(json_agg(json_build_array(k, v)), '[]')::text FROM ({inner}) AS t")
}

/// The sequence numbers rows, concurrently with other nodes: the insert returns them.
async fn reserve_seqs(_conn: &mut DbConn, _n: usize) -> Result<Option<i64>> {
    Ok(None)
}

impl PgStore {
    /// Opens one connection directly before building the pool: the pool retries a failed connect
    /// until its acquire timeout and then reports only "pool timed out", so an unreachable server, a
    /// wrong password or a missing database would cost 30 seconds and hide the cause.
    pub async fn connect(url: &str) -> Result<Self> {
        let opts: PgConnectOptions = url.parse()?;
        PgConnection::connect_with(&opts).await?.close().await?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.clone())
            .await?;
        Ok(PgStore { read: pool.clone(), write: pool, health: super::health::Health::start(opts) })
    }

    /// Ready to serve: reachable (the health probe), every migration applied, and writable (not
    /// a standby in recovery).
    pub async fn ready(&self) -> std::result::Result<(), String> {
        if self.health.is_down() {
            return Err("the database cannot be reached".into());
        }
        let check = async {
            let recovering: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()").fetch_one(&self.read).await?;
            let applied: Vec<i64> =
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(&self.read).await?;
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
        sqlx::migrate!("migrations/postgres").run(&self.write).await?;
        Ok(())
    }

    /// Each request commits on its own: PostgreSQL already shares one WAL flush among the commits of
    /// concurrent transactions, and nodes sharing the database could not share one writer anyway.
    pub async fn insert_statements(
        &self,
        batch: Arc<[NewStatement]>,
        attachments: &[NewAttachment],
        facts: Arc<[FactRow]>,
    ) -> Result<()> {
        self.insert_statements_direct(&batch, attachments, &facts).await
    }

    /// Reads a document and applies `decide` in one transaction holding the document's advisory
    /// lock, so two nodes can never both pass a precondition on one version.
    pub async fn modify_document<T, F>(&self, key: &DocumentKey, decide: F) -> Result<T>
    where
        F: FnOnce(Option<Document>) -> (DocumentChange, T) + Send + 'static,
        T: Send + 'static,
    {
        let mut tx = self.begin_write().await?;
        Self::lock_key(&mut tx, &key.lock_name()).await?;
        let out = Self::modify_document_in(&mut tx, key, decide).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Db>> {
        Ok(self.write.begin().await?)
    }

    /// Serialises writers of one named thing (a document, a session's seats) across every node
    /// sharing the database, until the transaction ends.
    async fn lock_key(tx: &mut sqlx::Transaction<'static, Db>, key: &str) -> Result<()> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))").bind(key).execute(&mut **tx).await?;
        Ok(())
    }

    super::shared::shared_methods!();
}

//! The one storage interface. [`Store`] holds a concrete SQLite or PostgreSQL backend chosen by the
//! URL scheme at start-up; an enum (rather than a trait object) keeps futures `Send` without boxing.
//! Both backends run the same integration test suite.
//!
//! # Layout
//! One module per resource, each with its own SQL, written once for both backends: `credentials`,
//! `statements` (rows, filter index, attachments; `write` and `query` inside), `activities` (canonical
//! definitions and seen agents), `documents`, `courses`, `launches`, `player` (the course player's state per
//! registration), `results` (facts, course
//! definitions, results), `summary` (the rows course summaries count, kept with results and
//! assignments), `assignments`, `sessions` (and bookings). Where SQLite and PostgreSQL
//! differ (parameter style, JSON aggregation, sequence reservation, index rows, named locks) is in
//! `dialect`; connecting and each backend's write discipline in `sqlite` (the group-commit writer)
//! and `postgres` (with `health`, its probe).

mod activities;
mod assignments;
mod console;
mod courses;
mod credentials;
mod dialect;
mod documents;
mod erasure;
mod health;
mod launches;
mod learn;
mod partitions;
mod persons;
mod player;
pub mod postgres;
mod results;
mod sessions;
pub mod sqlite;
mod sso;
mod statements;
mod summary;

pub use activities::week_of;
pub use assignments::AssignmentRow;
pub use console::{AuditRow, ConsoleSessionRow, ConsoleUserRow};
pub use courses::{CourseVersionRow, NewCourseVersion};
pub use credentials::CredentialRow;
pub use documents::{Document, DocumentChange, DocumentKey, ANY_REGISTRATION};
pub use erasure::{AgentDocument, Erasure};
pub use launches::LaunchRow;
pub use learn::LearnerSessionRow;
pub use partitions::{month_start, next_month_start, StoredMonth, ARCHIVE_SCHEMA};
pub use persons::{new_person_id, PersonGuard, PersonRow};
pub use player::{PlayerSessionRow, PlayerStateRow};
pub use results::{AssignedBriefRow, BriefColumns, FactLink, FactRow, ResultBrief, ResultBriefRow, ResultWrite};
pub use sessions::{BookOutcome, BookingRow, Cancelled, SessionRow};
pub use sso::SsoLoginRow;
pub use statements::{NewAttachment, NewStatement, StatementQuery, StoredStatement};
pub use summary::SummaryCount;

use dialect::{Exec, Tx};

/// Every pool's options: sqlx's defaults without the idle timeout and connection lifetime, so that
/// sqlx runs no pool maintenance task. sqlx 0.9.0's task can read a momentarily wrapped idle count
/// (`release` publishes a connection before counting it) and then loop about 2^64 times without
/// yielding, pinning a worker at 100 % CPU and hanging shutdown (sqlx issue #3645, fixed upstream by
/// PR #4289, in no release yet; seen here as a hung test). The pools are bounded and local (SQLite)
/// or few (16 to PostgreSQL), so idle connections are kept rather than reaped.
pub fn pool_options<DB: sqlx::Database>() -> sqlx::pool::PoolOptions<DB> {
    sqlx::pool::PoolOptions::new().idle_timeout(None).max_lifetime(None)
}

/// Errors of the storage layer. Constraint violations that clients can cause are their own variants so
/// the layers above can turn them into 4xx answers.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a statement with id {0} already exists")]
    DuplicateStatement(String),
    #[error("unsupported database URL {0:?}: use sqlite://FILE or postgres://…")]
    BadUrl(String),
    /// Not marked as the error's source: the message already carries it, and reporting both made
    /// error chains repeat the cause.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// An operation this store cannot carry out as asked (e.g. archiving months on SQLite); the
    /// message says why.
    #[error("{0}")]
    NotPossible(String),
    /// The store cannot serve for now (see [`Outage`]); made by the store itself (a failed group
    /// commit's other requests, a known outage), where no `sqlx::Error` is at hand.
    #[error("{message}")]
    Outage { kind: Outage, message: String },
}

/// Why the store cannot serve right now, as opposed to a bug: clients should retry later, and
/// operators should look at the database, not at Cairn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Unreachable: connection refused or lost, pool exhausted, the server shutting down or starting.
    Down,
    /// Out of space: `database or disk is full` (SQLite), `disk_full` (PostgreSQL). Reads still work.
    Full,
}

impl StoreError {
    /// Whether this is an outage (and which); None for errors that point at a bug or bad data.
    pub fn outage(&self) -> Option<Outage> {
        match self {
            StoreError::Outage { kind, .. } => Some(*kind),
            StoreError::Database(e) => outage_of(e),
            StoreError::Migrate(sqlx::migrate::MigrateError::Execute(e)) => outage_of(e),
            _ => None,
        }
    }

    /// The same outage for another request (a group commit answers each of its requests).
    pub fn outage_copy(&self) -> StoreError {
        match self.outage() {
            Some(kind) => StoreError::Outage { kind, message: self.to_string() },
            None => StoreError::Database(sqlx::Error::Protocol(self.to_string())),
        }
    }
}

/// Classifies a driver error: connection and pool failures, and SQLite/PostgreSQL codes that mean
/// "unreachable" or "out of space".
fn outage_of(e: &sqlx::Error) -> Option<Outage> {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Some(Outage::Down),
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // The primary result code is the low byte of the extended one.
                return match code.parse::<i32>().map(|c| c & 0xff) {
                    // SQLITE_FULL
                    Ok(13) => Some(Outage::Full),
                    // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_CANTOPEN
                    Ok(5 | 6 | 10 | 14) => Some(Outage::Down),
                    _ => None,
                };
            }
            // PostgreSQL's SQLSTATE: disk_full; connection exceptions (08…), out of memory or
            // connections (53…), shutting down or starting (57P01-57P03), read-only transaction (a
            // standby after failover).
            match code.as_ref() {
                "53100" => Some(Outage::Full),
                c if c.starts_with("08") || c.starts_with("53") || c.starts_with("57P0") || c == "25006" => {
                    Some(Outage::Down)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e)
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The storage backend, chosen by URL scheme.
#[derive(Clone)]
pub enum Store {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

/// Err naming the first migration of `migrator` not in `applied`.
fn missing_migrations(
    migrator: &sqlx::migrate::Migrator,
    applied: &std::collections::BTreeSet<i64>,
) -> std::result::Result<(), String> {
    match migrator.iter().find(|m| !applied.contains(&m.version)) {
        Some(m) => Err(format!("migration {} ({}) is not applied; run `cairn migrate`", m.version, m.description)),
        None => Ok(()),
    }
}

/// Tuning of the store that trades memory against speed (`cairn --sqlite-writer-cache-mib`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// SQLite: the write connection's page cache in MiB. 32 made batch ingest faster than SQLite's
    /// 2 MB default (BENCHMARKS.md, "SQLite writer pragmas"); 16 saves ~40 MiB after a long load.
    pub sqlite_writer_cache_mib: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { sqlite_writer_cache_mib: 32 }
    }
}

impl Store {
    /// Connects to `sqlite://FILE` (created when missing) or `postgres://…` with the default
    /// [`Settings`].
    pub async fn connect(url: &str) -> Result<Store> {
        Store::open(url, Settings::default()).await
    }

    /// Connects to `sqlite://FILE` (created when missing) or `postgres://…`.
    pub async fn open(url: &str, settings: Settings) -> Result<Store> {
        if url.starts_with("sqlite:") {
            Ok(Store::Sqlite(sqlite::SqliteStore::connect(url, settings).await?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::Postgres(postgres::PgStore::connect(url).await?))
        } else {
            Err(StoreError::BadUrl(url.to_string()))
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Ready to serve (`GET /ready`): reachable, writable, migrations applied; else the reason.
    pub async fn ready(&self) -> std::result::Result<(), String> {
        match self {
            Store::Sqlite(s) => s.ready().await,
            Store::Postgres(s) => s.ready().await,
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        match self {
            Store::Sqlite(s) => s.migrate().await?,
            Store::Postgres(s) => s.health.guard(s.migrate()).await?,
        }
        self.build_summary_items_if_pending().await
    }

    /// The pool for reads (SQLite has a separate pool of reader connections; PostgreSQL one pool).
    fn read(&self) -> Exec<'_> {
        match self {
            Store::Sqlite(s) => Exec::SqlitePool(&s.read),
            Store::Postgres(s) => Exec::PgPool(&s.pool, &s.health),
        }
    }

    /// The pool for single-statement writes (SQLite's one write connection, outside the group-commit
    /// writer: these are rare administrative writes).
    fn write(&self) -> Exec<'_> {
        match self {
            Store::Sqlite(s) => Exec::SqlitePool(&s.write),
            Store::Postgres(s) => Exec::PgPool(&s.pool, &s.health),
        }
    }

    /// A write transaction: `BEGIN IMMEDIATE` on SQLite (takes the write lock at once rather than
    /// upgrading later, which could fail with SQLITE_BUSY), a plain one on PostgreSQL.
    async fn begin_write(&self) -> Result<Tx> {
        match self {
            Store::Sqlite(s) => Ok(Tx::Sqlite(s.write.begin_with("BEGIN IMMEDIATE").await?)),
            Store::Postgres(s) => {
                let tx = s.health.guard(async { Ok(s.pool.begin().await?) }).await?;
                Ok(Tx::Pg(tx, s.health.clone()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// No pool of either backend gets sqlx's maintenance task (see [`super::pool_options`]).
    #[test]
    fn pools_have_no_maintenance_task() {
        let sqlite = super::pool_options::<sqlx::Sqlite>();
        let postgres = super::pool_options::<sqlx::Postgres>();
        assert_eq!((sqlite.get_idle_timeout(), sqlite.get_max_lifetime()), (None, None));
        assert_eq!((postgres.get_idle_timeout(), postgres.get_max_lifetime()), (None, None));
    }
}

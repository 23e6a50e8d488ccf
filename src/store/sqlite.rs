//! SQLite backend: the embedded default. One file, WAL journal, `synchronous=FULL` so an acknowledged
//! write survives a crash. All writes go through a single-connection pool: SQLite allows one writer
//! at a time anyway, and queueing in-process avoids `SQLITE_BUSY` lock upgrades; reads use their own pool.
//!
//! Statement inserts go through a group-commit writer task: with one writer and one fsync per commit
//! (about a millisecond here), committing each request alone caps ingest at roughly a thousand
//! requests per second however many clients wait. The writer takes every request queued while the
//! previous commit ran, stores each inside its own savepoint (so each request stays all-or-nothing)
//! and commits them together; every request is answered only after that commit, so durability is
//! unchanged. The queue is bounded: when it is full, senders wait (back-pressure, not memory).

use std::str::FromStr;
use std::time::Duration;

use std::sync::Arc;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqliteSynchronous};
use sqlx::AssertSqlSafe;

use super::dialect::Conn;
use super::results::PackedFact;
use super::{documents, missing_migrations, statements, Outage, Result, Settings, StoreError};
use super::{Document, DocumentChange, DocumentKey, FactRow, NewAttachment, NewStatement};

type Db = sqlx::Sqlite;

#[derive(Clone)]
pub struct SqliteStore {
    pub(super) read: SqlitePool,
    pub(super) write: SqlitePool,
    writer: tokio::sync::mpsc::Sender<WriteJob>,
    /// The last group the writer ran met `database or disk is full` (see `ready`).
    full: Arc<std::sync::atomic::AtomicBool>,
    /// Striped locks of persons (see `persons::PersonGuard`).
    pub(super) person_locks: Arc<Vec<Arc<tokio::sync::Mutex<()>>>>,
    /// The dictionary statement bodies are packed with (see `statements::packing`).
    pub(super) bodies: Arc<statements::packing::Bodies>,
}

/// Most statements one group commit takes (a request that would go beyond waits for the next group,
/// unless it is the first): bounds the transaction's size and how long the first request in it
/// waits. At 1,000 a batch of 1,000 is a group of its own, written without a savepoint: a savepoint
/// journals (in memory, `temp_store`) every page its writes touch, and the index pages of 1,000
/// statements are ~36 MB of them (heaptrack, four batches of 1,000 at once), for a rollback that
/// the group's own transaction gives as well. A commit more per 1,000 statements costs one fsync.
pub(crate) const GROUP_MAX_STATEMENTS: usize = 1_000;
/// Requests queued for the writer before senders have to wait.
const GROUP_QUEUE: usize = 256;

/// A document decision boxed for the writer task; it reports its caller's value through a channel.
type DocumentDecision = Box<dyn FnOnce(Option<Document>) -> DocumentChange + Send>;

/// One request's writes, answered once the group holding them is committed (or failed).
struct WriteJob {
    work: Work,
    done: tokio::sync::oneshot::Sender<Result<()>>,
}

enum Work {
    Statements {
        batch: Arc<[NewStatement]>,
        packed: Arc<statements::PackedBodies>,
        attachments: Vec<NewAttachment>,
        facts: Arc<[FactRow]>,
    },
    /// A document write (State on every page of SCORM content): grouped like statements, since
    /// each alone would cost a commit and an fsync.
    Document { key: DocumentKey, decide: Option<DocumentDecision> },
    /// Whether a write that needs new pages fits (`GET /ready` after the disk was full); undone.
    Probe,
}

impl Work {
    /// How much of a group this takes, in statements.
    fn weight(&self) -> usize {
        match self {
            Work::Statements { batch, .. } => batch.len(),
            Work::Document { .. } | Work::Probe => 1,
        }
    }

    async fn run(&mut self, conn: &mut SqliteConnection) -> Result<()> {
        match self {
            Work::Statements { batch, packed, attachments, facts } => {
                let (rows, facts) = (packed.pair_statements(batch), packed.pair_facts(facts));
                statements::insert_in(&mut Conn::Sqlite(conn), &rows, attachments, &facts).await
            }
            Work::Document { key, decide } => {
                let decide = decide.take().ok_or_else(writer_gone)?;
                documents::modify_in(&mut Conn::Sqlite(conn), key, |current| (decide(current), ())).await
            }
            Work::Probe => {
                let mut sp = sqlx::Connection::begin(&mut *conn).await?;
                sqlx::query("CREATE TABLE cairn_ready_probe (b BLOB)").execute(&mut *sp).await?;
                sqlx::query("INSERT INTO cairn_ready_probe VALUES (zeroblob(65536))").execute(&mut *sp).await?;
                sp.rollback().await?;
                Ok(())
            }
        }
    }
}

fn writer_gone() -> StoreError {
    StoreError::Database(sqlx::Error::PoolClosed)
}

/// An error for each request of a group whose transaction failed as a whole (an outage stays one).
fn group_failed(n: usize, e: &StoreError) -> Vec<Result<()>> {
    (0..n).map(|_| Err(e.outage_copy())).collect()
}

/// The writer task: one group transaction at a time, for as long as a store handle exists.
async fn group_writer(
    pool: SqlitePool,
    mut rx: tokio::sync::mpsc::Receiver<WriteJob>,
    full: Arc<std::sync::atomic::AtomicBool>,
) {
    // A job taken from the queue that did not fit the last group: the next one starts with it.
    let mut carried: Option<WriteJob> = None;
    loop {
        let first = match carried.take() {
            Some(job) => job,
            None => match rx.recv().await {
                Some(job) => job,
                None => break,
            },
        };
        let mut weight = first.work.weight();
        let mut jobs = vec![first];
        while weight < GROUP_MAX_STATEMENTS {
            match rx.try_recv() {
                Ok(job) if weight + job.work.weight() > GROUP_MAX_STATEMENTS => {
                    carried = Some(job);
                    break;
                }
                Ok(job) => {
                    weight += job.work.weight();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let results = commit_group(&pool, &mut jobs).await;
        let out_of_space = results.iter().any(|r| matches!(r, Err(e) if e.outage() == Some(Outage::Full)));
        if out_of_space || results.iter().any(Result::is_ok) {
            full.store(out_of_space, std::sync::atomic::Ordering::Release);
        }
        for (job, r) in jobs.into_iter().zip(results) {
            // The requester may have gone (client disconnected); its writes are committed anyway.
            let _ = job.done.send(r);
        }
    }
}

/// Runs the jobs in one transaction, each in a savepoint; returns each job's outcome.
async fn commit_group(pool: &SqlitePool, jobs: &mut [WriteJob]) -> Vec<Result<()>> {
    let n = jobs.len();
    let mut tx = match pool.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => return group_failed(n, &e.into()),
    };
    let mut results = Vec::with_capacity(n);
    if let [job] = jobs {
        // Alone in its group, the transaction itself is the all-or-nothing unit.
        if let Err(e) = job.work.run(&mut tx).await {
            let _ = tx.rollback().await;
            return vec![Err(e)];
        }
        results.push(Ok(()));
    } else {
        let together = match statements_together(&mut tx, jobs).await {
            Some(true) => true,
            None => false,
            // Nothing of it may stay: the transaction held nothing else yet, so it starts again.
            Some(false) => match tx.rollback().await {
                Ok(()) => match pool.begin_with("BEGIN IMMEDIATE").await {
                    Ok(fresh) => {
                        tx = fresh;
                        false
                    }
                    Err(e) => return group_failed(n, &e.into()),
                },
                Err(e) => return group_failed(n, &e.into()),
            },
        };
        for job in jobs.iter_mut() {
            if together && matches!(job.work, Work::Statements { .. }) {
                results.push(Ok(()));
                continue;
            }
            match run_in_savepoint(&mut tx, &mut job.work).await {
                Ok(r) => results.push(r),
                // The savepoint could not be released or rolled back: trust nothing in this group.
                Err(e) => {
                    let _ = tx.rollback().await;
                    return group_failed(n, &e.into());
                }
            }
        }
    }
    match tx.commit().await {
        Ok(()) => results,
        Err(e) => group_failed(n, &e.into()),
    }
}

/// Stores the statement jobs of a group as one set-based batch, first thing in the group's
/// transaction: a dozen round trips to SQLite's thread for the whole group instead of a dozen per
/// request, which bounded how many single-statement requests one writer could take. `Some(true)`
/// when that worked; `None` when there was nothing to combine (nothing written); `Some(false)` when
/// it failed, and then the caller rolls the transaction back and runs each job alone, so every
/// request is still all-or-nothing with its own outcome (an id taken by another request of the
/// group, say). No savepoint: it would journal every page the batch touches, for the rollback the
/// transaction gives.
async fn statements_together(tx: &mut sqlx::Transaction<'static, Db>, jobs: &mut [WriteJob]) -> Option<bool> {
    let (rows, attachments, facts) = combined_statements(jobs)?;
    Some(statements::insert_in(&mut Conn::Sqlite(&mut *tx), &rows, &attachments, &facts).await.is_ok())
}

/// A group's statement jobs as one: each statement and each fact with its packed body (borrowed
/// from the jobs, not copied), the attachments.
type Combined<'a> = (Vec<statements::Packed<'a>>, Vec<NewAttachment>, Vec<PackedFact<'a>>);

/// The group's statement jobs as one batch, when there are several.
fn combined_statements(jobs: &[WriteJob]) -> Option<Combined<'_>> {
    let mut rows = Vec::new();
    let mut attachments = Vec::new();
    let mut facts = Vec::new();
    let mut count = 0;
    for job in jobs {
        if let Work::Statements { batch, packed, attachments: a, facts: f } = &job.work {
            rows.extend(packed.pair_statements(batch));
            facts.extend(packed.pair_facts(f));
            attachments.extend(a.iter().cloned());
            count += 1;
        }
    }
    (count >= 2).then_some((rows, attachments, facts))
}

/// One job inside a savepoint: the inner result is the job's, the outer error is fatal to the group.
async fn run_in_savepoint(tx: &mut sqlx::Transaction<'static, Db>, work: &mut Work) -> sqlx::Result<Result<()>> {
    let mut sp = sqlx::Acquire::begin(&mut *tx).await?;
    match work.run(&mut sp).await {
        Ok(()) => {
            sp.commit().await?;
            Ok(Ok(()))
        }
        Err(e) => {
            sp.rollback().await?;
            Ok(Err(e))
        }
    }
}

/// Read connections: queries and pages run on these, the writer is apart.
const READERS: u32 = 8;
/// Compiled statements each reader keeps (sqlx's default is 100). The readers' caches held ~30 MiB
/// after a 1M-statement load, most of SQLite's memory beside its page caches, for texts mostly not
/// asked again; with 16 the bench's queries were no slower (BENCHMARKS.md, "Memory, third pass").
/// The writer keeps the default: its few hot texts are re-run many times a second.
const READER_STATEMENTS: usize = 16;

/// The settings of every connection of the store, readers and writer alike.
fn connect_options(url: &str) -> Result<SqliteConnectOptions> {
    crate::memory::sqlite_uses_mimalloc();
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        // Savepoints (a group's document writes, and its statement requests when they could not
        // be stored together) journal every page they touch; in a temporary file that was a tenth
        // of the writer's time.
        .pragma("temp_store", "MEMORY"))
}

/// The write connection's settings on top of `opts`. Its page cache holds the hot index pages
/// between commits (SQLite's default: 2 MB; ours: [`Settings`]), and WAL checkpoints run every 16 MB
/// of log instead of every 4 MB: each one rewrites the pages that changed since the last, so fewer,
/// larger checkpoints write the hot pages fewer times.
fn with_writer_settings(opts: SqliteConnectOptions, settings: Settings) -> SqliteConnectOptions {
    // A negative cache_size is in KiB.
    let kib = -i64::from(settings.sqlite_writer_cache_mib) * 1024;
    opts.pragma("cache_size", kib.to_string()).pragma("wal_autocheckpoint", "4000")
}

impl SqliteStore {
    /// The settings of the store's write connection: the durability pragmas of every connection
    /// (WAL, `synchronous=FULL`) and the writer's own cache and checkpoint settings. `cairn bench
    /// floor` opens its scratch file with these, so the floor it measures cannot drift from the store.
    pub fn writer_options(url: &str, settings: Settings) -> Result<SqliteConnectOptions> {
        Ok(with_writer_settings(connect_options(url)?, settings))
    }

    pub async fn connect(url: &str, settings: Settings) -> Result<Self> {
        let opts = connect_options(url)?;
        let write_opts = with_writer_settings(opts.clone(), settings);
        // A failed COMMIT or ROLLBACK (`database or disk is full`) leaves the connection inside a
        // transaction as far as sqlx knows, and every later BEGIN on it failed until restart
        // (issue 17). Such a connection is closed instead of reused; the pool opens a fresh one.
        // (The pool pings a returned connection first, which flushes a pending rollback.)
        let write = super::pool_options::<sqlx::Sqlite>()
            .max_connections(1)
            .before_acquire(|conn, _| {
                Box::pin(async move {
                    let stuck = sqlx::Connection::is_in_transaction(conn);
                    if stuck {
                        tracing::warn!("reopening the SQLite write connection after a failed transaction");
                    }
                    Ok(!stuck)
                })
            })
            .connect_with(write_opts)
            .await?;
        let read = super::pool_options::<sqlx::Sqlite>()
            .max_connections(READERS)
            .connect_with(opts.statement_cache_capacity(READER_STATEMENTS))
            .await?;
        let (writer, jobs) = tokio::sync::mpsc::channel(GROUP_QUEUE);
        let full = Arc::new(std::sync::atomic::AtomicBool::new(false));
        tokio::spawn(group_writer(write.clone(), jobs, full.clone()));
        let person_locks =
            Arc::new((0..super::persons::LOCK_STRIPES).map(|_| Arc::new(tokio::sync::Mutex::new(()))).collect());
        Ok(SqliteStore { read, write, writer, full, person_locks, bodies: Default::default() })
    }

    /// Ready to serve: the file readable, every migration applied, and (after a write met a full
    /// disk) a write that needs new pages fits again.
    pub async fn ready(&self) -> std::result::Result<(), String> {
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(&self.read)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "readiness: the database cannot be read");
                "the database cannot be read".to_string()
            })?;
        missing_migrations(&sqlx::migrate!("migrations/sqlite"), &applied.into_iter().collect())?;
        if self.full.load(std::sync::atomic::Ordering::Acquire) {
            let probe = tokio::time::timeout(Duration::from_secs(2), self.write_job(Work::Probe)).await;
            match probe {
                Ok(Ok(())) => {}
                Ok(Err(e)) if e.outage() == Some(Outage::Full) => {
                    return Err("the database is out of space (database or disk is full)".into())
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "readiness: the database cannot be written");
                    return Err("the database cannot be written".into());
                }
                Err(_) => return Err("the database writer is busy".into()),
            }
        }
        Ok(())
    }

    /// Stores a batch all-or-nothing through the group-commit writer; returns once it is durable.
    pub(super) async fn insert_statements(
        &self,
        batch: Arc<[NewStatement]>,
        packed: Arc<statements::PackedBodies>,
        attachments: &[NewAttachment],
        facts: Arc<[FactRow]>,
    ) -> Result<()> {
        self.write_job(Work::Statements { batch, packed, attachments: attachments.to_vec(), facts }).await
    }

    /// Reads a document and applies `decide` inside the writer's group transaction: the single
    /// writer serialises it with every other write, so preconditions hold without locks.
    pub async fn modify_document<T, F>(&self, key: &DocumentKey, decide: F) -> Result<T>
    where
        F: FnOnce(Option<Document>) -> (DocumentChange, T) + Send + 'static,
        T: Send + 'static,
    {
        let (out_tx, out_rx) = tokio::sync::oneshot::channel();
        let decide: DocumentDecision = Box::new(move |current| {
            let (change, out) = decide(current);
            let _ = out_tx.send(out);
            change
        });
        self.write_job(Work::Document { key: key.clone(), decide: Some(decide) }).await?;
        out_rx.await.map_err(|_| writer_gone())
    }

    async fn write_job(&self, work: Work) -> Result<()> {
        let (done, answer) = tokio::sync::oneshot::channel();
        self.writer.send(WriteJob { work, done }).await.map_err(|_| writer_gone())?;
        answer.await.unwrap_or_else(|_| Err(writer_gone()))
    }

    /// Caps the database at `pages` pages (or its current size, if larger) for the writer, now and
    /// whenever it reopens its connection (`PRAGMA max_page_count` lasts as long as a connection):
    /// a full disk, on demand, for the fault tests and for drills. Returns the cap in force.
    pub async fn set_max_page_count(&self, pages: u64) -> Result<u64> {
        let opts = (*self.write.connect_options()).clone().pragma("max_page_count", pages.to_string());
        self.write.set_connect_options(opts);
        let cap: i64 = sqlx::query_scalar(AssertSqlSafe(format!("PRAGMA max_page_count = {pages}")))
            .fetch_one(&self.write)
            .await?;
        Ok(cap as u64)
    }

    pub async fn migrate(&self) -> Result<()> {
        sqlx::migrate!("migrations/sqlite").run(&self.write).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer's page cache is the configured size; readers keep SQLite's default.
    #[tokio::test]
    async fn the_writer_cache_is_the_setting() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("a.db").display());
        for mib in [16, 32] {
            let store = SqliteStore::connect(&url, Settings { sqlite_writer_cache_mib: mib }).await.expect("store");
            let writer: i64 = sqlx::query_scalar("PRAGMA cache_size").fetch_one(&store.write).await.expect("writer");
            assert_eq!(writer, -i64::from(mib) * 1024);
            let reader: i64 = sqlx::query_scalar("PRAGMA cache_size").fetch_one(&store.read).await.expect("reader");
            assert_eq!(reader, -2000, "readers keep SQLite's default");
        }
    }
}

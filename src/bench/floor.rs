//! `cairn bench floor`: the bare durable insert rate of the data set's statements on this machine,
//! the floor that batch ingest is compared with (issue 15: batch ingest at ≥ 50 % of the floor
//! measured in the same run; `bench run`'s ingest workload measures it first).
//!
//! It inserts real statement bodies of the bench data set (generated JSON, 1.55 KB on average; built
//! before the clock starts) into a bare table, `id TEXT PRIMARY KEY, body TEXT NOT NULL` and nothing
//! else (no other index, no validation, no HTTP), in transactions of `--batch` rows from `--clients`
//! concurrent writers. Connections use the store's own settings (`SqliteStore::writer_options`,
//! `PgStore::connect_options`), so the durability is exactly the store's and cannot drift from it:
//! on SQLite WAL, `synchronous=FULL` and the writer's cache and checkpoint pragmas; on PostgreSQL the
//! server's `fsync` and `synchronous_commit`, which Cairn leaves as the server has them. The settings
//! in force are read back and reported.
//!
//! **SQLite: the clients queue on one writer that group-commits**, the way Cairn's own writer does
//! (`store::sqlite`): each client hands its batch to one connection's task, which takes every batch
//! queued while its previous commit ran (up to 5,000 rows, Cairn's group limit), inserts them in one
//! `BEGIN IMMEDIATE` transaction and answers each client after the commit. That is the most Cairn's
//! write path could make of the same requests, so the floor is an honest upper bound for it.
//! Separate connections contending for SQLite's one write lock would instead commit (and fsync) each
//! batch alone and wait in SQLite's busy handler, which sleeps: a lower "floor" that Cairn's group
//! commit could beat, flattering the ratio. The floor also leaves out the savepoints Cairn wraps
//! requests in. A batch's latency is its client's wait from handing it over until its group is
//! durable; the note gives how many commits the batches took.
//!
//! **PostgreSQL: one connection per client**, as Cairn runs each request's transaction on a pooled
//! connection (several nodes may share the database, so there is no in-process group commit); each
//! batch is a single `INSERT … SELECT FROM UNNEST($1::text[], $2::text[])`, its own transaction
//! without BEGIN/COMMIT round trips. (The other form, one multi-row `VALUES` list per batch, is
//! `--pg-form values`.)
//!
//! Scratch space: on SQLite a new file beside the store's file (in a new temporary folder when no
//! `--database` is given), on PostgreSQL a uniquely named ordinary (logged) table in the given
//! database; both are removed afterwards, also when the run fails, and the rows are counted in the
//! table before that.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use clap::{Args, ValueEnum};
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use sqlx::AssertSqlSafe;

use super::generate::{Generator, Spec};
use super::measure::{drive, machine_description, report, PhaseResult};
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;

#[derive(Debug, Clone, Args)]
pub struct FloorArgs {
    /// Rows to insert: statement bodies of the bench data set (1.55 KB on average).
    #[arg(long, default_value_t = 20_000)]
    pub rows: u64,
    /// Rows per transaction (as statements per POST in `bench run`'s batch ingest).
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Concurrent writers (as `bench run --batch-clients`).
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Seed of the data set the bodies come from.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// PostgreSQL: each batch as two UNNEST arrays (the default) or as one multi-row VALUES list.
    #[arg(long, value_enum, default_value_t = PgForm::Unnest)]
    pub pg_form: PgForm,
    /// Also write the result as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// How a batch goes to PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PgForm {
    /// `INSERT … SELECT FROM UNNEST($1::text[], $2::text[])`: one statement text for every batch size.
    Unnest,
    /// `INSERT … VALUES ($1, $2), …`: a statement per 500 rows, its text depending on the row count.
    Values,
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct FloorPlan {
    pub rows: u64,
    pub batch: usize,
    pub clients: usize,
    /// The data set the bodies come from (`statements` is ignored: `rows` is the count).
    pub data: Spec,
    pub pg_form: PgForm,
    /// Longest the inserts may run; fewer rows are measured when it passes.
    pub limit: Duration,
    /// The store's settings (SQLite's writer page cache), so the floor's connections are the store's.
    pub settings: crate::store::Settings,
}

impl FloorPlan {
    /// The name of its row in a results table.
    pub fn name(&self) -> String {
        format!("bare insert floor, batches of {}, {} clients", self.batch, self.clients)
    }
}

/// A measured floor.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Floor {
    pub backend: &'static str,
    /// The scratch file or table (removed).
    pub scratch: String,
    /// The durability settings read back from the connection.
    pub settings: String,
    /// How the rows went in.
    pub method: String,
    pub rows_requested: u64,
    /// Rows counted in the scratch table before it was removed.
    pub rows_counted: u64,
    pub average_row_bytes: u64,
    /// Transactions committed (SQLite groups several clients' batches into one).
    pub commits: u64,
    /// The figures, as a row of `bench run`'s table.
    pub result: PhaseResult,
}

/// A row: the statement id and its JSON body.
pub type Row = (String, String);

/// The first `n` statements of the data set, as (id, body) rows.
pub fn data_set_rows(data: Spec, n: u64) -> Vec<Row> {
    Generator::new(Spec { statements: n, ..data })
        .map(|g| {
            let id = g.statement["id"].as_str().unwrap_or_default().to_string();
            (id, g.statement.to_string())
        })
        .collect()
}

/// Most rows one SQLite group commit takes: Cairn's writer's own bound.
const GROUP_MAX_ROWS: usize = crate::store::sqlite::GROUP_MAX_STATEMENTS;
/// Rows per multi-row INSERT statement, as Cairn's (`ROWS_PER_INSERT`).
const ROWS_PER_INSERT: usize = 500;
/// The scratch SQLite file's table (the whole file is scratch).
const SQLITE_TABLE: &str = "bare_insert";

/// A scratch table to insert into; removed by [`Scratch::remove`].
pub struct Scratch {
    kind: Kind,
}

enum Kind {
    Sqlite {
        pool: SqlitePool,
        path: PathBuf,
        /// A temporary folder made for it, removed with it.
        temp_dir: Option<PathBuf>,
    },
    Postgres {
        pool: PgPool,
        table: String,
    },
}

/// What a fill did.
pub struct Filled {
    /// Rows inserted (in batches that committed).
    pub inserted: u64,
    /// Batches that failed, and the first failure.
    pub failed: u64,
    pub first_error: Option<String>,
    /// Transactions committed.
    pub commits: u64,
    /// How the rows went in, for the report.
    pub method: String,
    pub(super) outcome: super::measure::Outcome,
}

impl Filled {
    fn new(outcome: super::measure::Outcome, commits: u64, method: &str) -> Filled {
        Filled {
            inserted: outcome.units,
            failed: outcome.errors,
            first_error: outcome.first_error.clone(),
            commits,
            method: method.to_string(),
            outcome,
        }
    }
}

fn unique_suffix() -> String {
    format!("{}-{}", std::process::id(), time::OffsetDateTime::now_utc().unix_timestamp_nanos())
}

impl Scratch {
    /// Creates the scratch table on the store's backend: `sqlite:` or `postgres://` URLs.
    pub async fn create(database: &str, clients: usize, settings: crate::store::Settings) -> anyhow::Result<Scratch> {
        if database.starts_with("sqlite:") {
            Self::create_sqlite(database, settings).await
        } else if database.starts_with("postgres://") || database.starts_with("postgresql://") {
            Self::create_postgres(database, clients).await
        } else {
            bail!("unsupported database URL: use sqlite://FILE or postgres://…")
        }
    }

    async fn create_sqlite(database: &str, settings: crate::store::Settings) -> anyhow::Result<Scratch> {
        let opts = SqliteStore::writer_options(database, settings).map_err(|e| anyhow!("{e}"))?;
        let memory = database.contains(":memory:") || database.contains("mode=memory");
        let (dir, temp_dir) = if database == super::DEFAULT_DATABASE || memory {
            let dir = std::env::temp_dir().join(format!("cairn-bench-floor-{}", unique_suffix()));
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            (dir.clone(), Some(dir))
        } else {
            let store = opts.get_filename();
            let dir = store.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            if !dir.is_dir() {
                bail!("the folder of the store file {} does not exist", store.display());
            }
            (dir.to_path_buf(), None)
        };
        let path = dir.join(format!("cairn-bench-floor-{}.db", unique_suffix()));
        if path.exists() {
            bail!("{} exists already", path.display());
        }
        let opts = opts.filename(&path).in_memory(false);
        let pool = match crate::store::pool_options::<sqlx::Sqlite>().max_connections(1).connect_with(opts).await {
            Ok(pool) => pool,
            Err(e) => {
                remove_sqlite_files(&path, temp_dir.as_deref());
                return Err(anyhow!("creating {}: {e}", path.display()));
            }
        };
        let scratch = Scratch { kind: Kind::Sqlite { pool, path, temp_dir } };
        let sql = format!("CREATE TABLE {SQLITE_TABLE} (id TEXT PRIMARY KEY, body TEXT NOT NULL)");
        scratch.setup(sql).await
    }

    async fn create_postgres(database: &str, clients: usize) -> anyhow::Result<Scratch> {
        let opts = PgStore::connect_options(database).map_err(|e| anyhow!("{e}"))?;
        let pool = crate::store::pool_options::<sqlx::Postgres>()
            .max_connections(clients.max(1) as u32)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts)
            .await
            .context("connecting to PostgreSQL")?;
        let table = format!("cairn_bench_floor_{}", unique_suffix().replace('-', "_"));
        let scratch = Scratch { kind: Kind::Postgres { pool, table: table.clone() } };
        // An ordinary table: logged like Cairn's, so its inserts go through the WAL and its flushes.
        scratch.setup(format!("CREATE TABLE {table} (id TEXT PRIMARY KEY, body TEXT NOT NULL)")).await
    }

    /// Creates the table and opens the writers' connections before any clock starts. When that
    /// fails, the scratch is removed again, except a table whose CREATE failed: it may not be ours.
    async fn setup(self, create: String) -> anyhow::Result<Scratch> {
        let location = self.location();
        let created = match &self.kind {
            Kind::Sqlite { pool, .. } => sqlx::query(AssertSqlSafe(create)).execute(pool).await.map(drop),
            Kind::Postgres { pool, .. } => sqlx::query(AssertSqlSafe(create)).execute(pool).await.map(drop),
        };
        if let Err(e) = created {
            match self.kind {
                Kind::Sqlite { .. } => {
                    let _ = self.remove().await;
                }
                Kind::Postgres { pool, .. } => pool.close().await,
            }
            bail!("creating the scratch {location}: {e}");
        }
        if let Kind::Postgres { pool, .. } = &self.kind {
            let mut open = Vec::new();
            for _ in 0..pool.options().get_max_connections() {
                match pool.acquire().await {
                    Ok(conn) => open.push(conn),
                    Err(e) => {
                        drop(open);
                        let _ = self.remove().await;
                        bail!("opening the writers' connections: {e}");
                    }
                }
            }
        }
        Ok(self)
    }

    pub fn backend(&self) -> &'static str {
        match self.kind {
            Kind::Sqlite { .. } => "sqlite",
            Kind::Postgres { .. } => "postgres",
        }
    }

    /// The scratch file (SQLite), if that is the backend.
    pub fn sqlite_file(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Sqlite { path, .. } => Some(path),
            Kind::Postgres { .. } => None,
        }
    }

    /// The scratch table's name in the given database (PostgreSQL), if that is the backend.
    pub fn postgres_table(&self) -> Option<&str> {
        match &self.kind {
            Kind::Sqlite { .. } => None,
            Kind::Postgres { table, .. } => Some(table),
        }
    }

    /// Where the rows go, for messages.
    pub fn location(&self) -> String {
        match &self.kind {
            Kind::Sqlite { path, .. } => format!("file {}", path.display()),
            Kind::Postgres { table, .. } => format!("table {table}"),
        }
    }

    /// The durability settings in force on the connection, read back.
    pub async fn settings(&self) -> anyhow::Result<String> {
        match &self.kind {
            Kind::Sqlite { pool, .. } => {
                let mut conn = pool.acquire().await?;
                let mut out = Vec::new();
                for pragma in ["journal_mode", "synchronous", "wal_autocheckpoint", "cache_size"] {
                    let row = sqlx::query(AssertSqlSafe(format!("PRAGMA {pragma}"))).fetch_one(&mut *conn).await?;
                    // Numbers read back as text too (SQLite converts); synchronous is one: 2 is FULL.
                    let v: String = sqlx::Row::try_get_unchecked(&row, 0)?;
                    let v = match (pragma, v.as_str()) {
                        ("synchronous", "0") => "OFF".to_string(),
                        ("synchronous", "1") => "NORMAL".to_string(),
                        ("synchronous", "2") => "FULL".to_string(),
                        ("synchronous", "3") => "EXTRA".to_string(),
                        _ => v,
                    };
                    out.push(format!("{pragma}={v}"));
                }
                Ok(out.join(", "))
            }
            Kind::Postgres { pool, .. } => {
                let mut conn = pool.acquire().await?;
                let mut out = Vec::new();
                for setting in ["fsync", "synchronous_commit", "wal_sync_method", "full_page_writes"] {
                    let v: String =
                        sqlx::query_scalar(AssertSqlSafe(format!("SHOW {setting}"))).fetch_one(&mut *conn).await?;
                    out.push(format!("{setting}={v}"));
                }
                Ok(out.join(", "))
            }
        }
    }

    /// Inserts `rows` in batches of `plan.batch` from `plan.clients` writers; rows are taken in order,
    /// each exactly once. Stops at `plan.limit` (and after 100 failed batches).
    pub async fn fill(&self, rows: Arc<Vec<Row>>, plan: &FloorPlan) -> anyhow::Result<Filled> {
        let batch = plan.batch.max(1);
        let ops = rows.len().div_ceil(batch) as u64;
        let range = move |i: u64, len: usize| -> Range<usize> {
            let start = (i as usize).saturating_mul(batch).min(len);
            start..(start + batch).min(len)
        };
        match &self.kind {
            Kind::Sqlite { pool, .. } => {
                let (tx, jobs) = tokio::sync::mpsc::channel::<Job>(plan.clients.max(1));
                let writer = tokio::spawn(group_writer(pool.clone(), jobs));
                let outcome = drive(plan.clients, ops, plan.limit, move |i| {
                    let (tx, rows) = (tx.clone(), rows.clone());
                    async move {
                        let range = range(i, rows.len());
                        let n = range.len() as u64;
                        let (done, answer) = tokio::sync::oneshot::channel();
                        tx.send(Job { rows, range, done }).await.map_err(|_| "the writer stopped".to_string())?;
                        answer.await.map_err(|_| "the writer stopped".to_string())??;
                        Ok(n)
                    }
                })
                .await;
                // Every sender is gone with the operations: the writer ends with its commit count.
                let commits = writer.await.map_err(|e| anyhow!("the writer failed: {e}"))?;
                let method = "one writer connection group-committing the queued batches (BEGIN IMMEDIATE, \
                              a multi-row INSERT per batch)";
                Ok(Filled::new(outcome, commits, method))
            }
            Kind::Postgres { pool, table } => {
                let (pool, table, form) = (pool.clone(), Arc::new(table.clone()), plan.pg_form);
                let outcome = drive(plan.clients, ops, plan.limit, move |i| {
                    let (pool, table, rows) = (pool.clone(), table.clone(), rows.clone());
                    async move {
                        let range = range(i, rows.len());
                        let n = range.len() as u64;
                        insert_postgres(&pool, &table, form, &rows[range]).await.map_err(|e| e.to_string())?;
                        Ok(n)
                    }
                })
                .await;
                let commits = outcome.operations - outcome.errors;
                let method = match form {
                    PgForm::Unnest => {
                        "a connection per client, each batch one INSERT … SELECT FROM UNNEST($1::text[], \
                                       $2::text[]) in its own transaction"
                    }
                    PgForm::Values => {
                        "a connection per client, each batch one multi-row INSERT … VALUES (500 rows \
                                       a statement) in its own transaction"
                    }
                };
                Ok(Filled::new(outcome, commits, method))
            }
        }
    }

    /// The rows in the scratch table.
    pub async fn count(&self) -> anyhow::Result<u64> {
        let n: i64 = match &self.kind {
            Kind::Sqlite { pool, .. } => {
                sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {SQLITE_TABLE}")))
                    .fetch_one(pool)
                    .await?
            }
            Kind::Postgres { pool, table } => {
                sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {table}"))).fetch_one(pool).await?
            }
        };
        Ok(n as u64)
    }

    /// Drops the table (PostgreSQL) or closes and deletes the file with its WAL (SQLite).
    pub async fn remove(self) -> anyhow::Result<()> {
        match self.kind {
            Kind::Sqlite { pool, path, temp_dir } => {
                pool.close().await;
                remove_sqlite_files(&path, temp_dir.as_deref());
                if path.exists() {
                    bail!("could not remove {}", path.display());
                }
                Ok(())
            }
            Kind::Postgres { pool, table } => {
                let dropped = sqlx::query(AssertSqlSafe(format!("DROP TABLE {table}"))).execute(&pool).await;
                pool.close().await;
                dropped.with_context(|| format!("dropping {table}"))?;
                Ok(())
            }
        }
    }
}

fn remove_sqlite_files(path: &Path, temp_dir: Option<&Path>) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    if let Some(dir) = temp_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// A client's batch for the SQLite writer, answered once its group is committed.
struct Job {
    rows: Arc<Vec<Row>>,
    range: Range<usize>,
    done: tokio::sync::oneshot::Sender<Result<(), String>>,
}

/// Group commit, as Cairn's writer: all batches queued while the previous commit ran go into one
/// transaction. Returns the number of commits once every sender is gone.
async fn group_writer(pool: SqlitePool, mut jobs: tokio::sync::mpsc::Receiver<Job>) -> u64 {
    let mut commits = 0;
    while let Some(first) = jobs.recv().await {
        let mut rows = first.range.len();
        let mut group = vec![first];
        while rows < GROUP_MAX_ROWS {
            match jobs.try_recv() {
                Ok(job) => {
                    rows += job.range.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        let result = commit_group(&pool, &group).await.map_err(|e| e.to_string());
        commits += u64::from(result.is_ok());
        for job in group {
            let _ = job.done.send(result.clone());
        }
    }
    commits
}

async fn commit_group(pool: &SqlitePool, group: &[Job]) -> sqlx::Result<()> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    for job in group {
        for chunk in job.rows[job.range.clone()].chunks(ROWS_PER_INSERT) {
            let sql =
                format!("INSERT INTO {SQLITE_TABLE} (id, body) VALUES {}", vec!["(?, ?)"; chunk.len()].join(", "));
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (id, body) in chunk {
                q = q.bind(id.as_str()).bind(body.as_str());
            }
            q.execute(&mut *tx).await?;
        }
    }
    tx.commit().await
}

async fn insert_postgres(pool: &PgPool, table: &str, form: PgForm, rows: &[Row]) -> sqlx::Result<()> {
    match form {
        PgForm::Unnest => {
            let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
            let bodies: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
            sqlx::query(AssertSqlSafe(format!(
                "INSERT INTO {table} (id, body) SELECT * FROM UNNEST($1::text[], $2::text[])"
            )))
            .bind(ids)
            .bind(bodies)
            .execute(pool)
            .await?;
            Ok(())
        }
        PgForm::Values => {
            // One statement is its own transaction; more than one chunk needs an explicit one.
            let mut tx = if rows.len() > ROWS_PER_INSERT { Some(pool.begin().await?) } else { None };
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                let values: Vec<String> =
                    (0..chunk.len()).map(|k| format!("(${}, ${})", 2 * k + 1, 2 * k + 2)).collect();
                let mut q =
                    sqlx::query(AssertSqlSafe(format!("INSERT INTO {table} (id, body) VALUES {}", values.join(", "))));
                for (id, body) in chunk {
                    q = q.bind(id.as_str()).bind(body.as_str());
                }
                match tx.as_mut() {
                    Some(tx) => q.execute(&mut **tx).await?,
                    None => q.execute(pool).await?,
                };
            }
            if let Some(tx) = tx {
                tx.commit().await?;
            }
            Ok(())
        }
    }
}

/// Measures the floor on `database`'s backend: builds the rows, creates the scratch table, fills it,
/// counts it and removes it (also when filling failed). An error when any batch failed or the count
/// is not what was inserted.
pub async fn measure(database: &str, plan: &FloorPlan) -> anyhow::Result<Floor> {
    if plan.rows == 0 || plan.batch == 0 || plan.clients == 0 {
        bail!("--rows, --batch and --clients must be at least 1");
    }
    let data = plan.data;
    let n = plan.rows;
    let rows = tokio::task::spawn_blocking(move || data_set_rows(data, n)).await?;
    let bytes: usize = rows.iter().map(|r| r.1.len()).sum();
    let average_row_bytes = (bytes / rows.len().max(1)) as u64;
    let rows = Arc::new(rows);
    let scratch = Scratch::create(database, plan.clients, plan.settings).await?;
    let location = scratch.location();
    let settings = scratch.settings().await;
    let filled = match &settings {
        Ok(_) => scratch.fill(rows, plan).await,
        Err(_) => Err(anyhow!("not run")),
    };
    let counted = scratch.count().await;
    let backend = scratch.backend();
    let removed = scratch.remove().await;
    let settings = settings.context("reading the connection's settings")?;
    let filled = filled?;
    let counted = counted.context("counting the rows")?;
    removed.with_context(|| format!("removing the scratch {location}"))?;
    let o = &filled.outcome;
    if o.errors > 0 {
        bail!("{} of {} batches failed; first: {}", o.errors, o.operations, o.first_error.clone().unwrap_or_default());
    }
    if counted != o.units {
        bail!("the scratch table held {counted} rows after {} were inserted", o.units);
    }
    let ms = |v: u64| v as f64 / 1000.0;
    let stopped = if o.units < plan.rows {
        format!("; stopped at the time limit after {} of {} rows", o.units, plan.rows)
    } else {
        String::new()
    };
    let note = format!(
        "bare table (text id primary key, body) in a scratch {location}, removed afterwards; {settings}; {}; \
         commits: {}; rows of {average_row_bytes} bytes on average; no server, HTTP or \
         validation{stopped}",
        filled.method, filled.commits
    );
    let result = PhaseResult {
        name: plan.name(),
        clients: plan.clients,
        operations: o.operations,
        units: o.units,
        unit: "rows",
        errors: o.errors,
        seconds: o.elapsed.as_secs_f64(),
        p50_ms: ms(o.hist.value_at_quantile(0.5)),
        p99_ms: ms(o.hist.value_at_quantile(0.99)),
        max_ms: ms(o.hist.max()),
        peak_rss_mib: None,
        no_server: true,
        note,
    };
    Ok(Floor {
        backend,
        scratch: location,
        settings,
        method: filled.method,
        rows_requested: plan.rows,
        rows_counted: counted,
        average_row_bytes,
        commits: filled.commits,
        result,
    })
}

/// `cairn bench floor`.
pub async fn floor_command(args: FloorArgs, database: &str, settings: crate::store::Settings) -> anyhow::Result<()> {
    let plan = FloorPlan {
        rows: args.rows,
        batch: args.batch,
        clients: args.clients,
        data: Spec {
            statements: args.rows,
            learners: super::DEFAULT_LEARNERS,
            courses: super::DEFAULT_COURSES,
            seed: args.seed,
        },
        pg_form: args.pg_form,
        // Bounded like every benchmark loop; an hour is far more than any sensible --rows needs.
        limit: Duration::from_secs(3600),
        settings,
    };
    let machine = machine_description();
    eprintln!("{machine}");
    eprintln!(
        "bare insert floor on {}: {} rows in batches of {} from {} clients",
        crate::config::redact_url(database),
        plan.rows,
        plan.batch,
        plan.clients
    );
    let floor = measure(database, &plan).await?;
    println!("{}", report(std::slice::from_ref(&floor.result), &machine, false));
    println!(
        "{} rows inserted and counted in the scratch {} (removed); latencies are per transaction of {} rows.",
        floor.rows_counted, floor.scratch, plan.batch
    );
    if let Some(path) = &args.json {
        let doc = serde_json::json!({"machine": machine, "floor": floor});
        std::fs::write(path, serde_json::to_string_pretty(&doc)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

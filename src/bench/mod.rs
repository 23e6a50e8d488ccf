//! `cairn bench`: a reproducible benchmark suite. [`generate`] makes a deterministic, realistic
//! statement data set; [`run`] drives an LRS over HTTP with it (ingest, queries, State documents) and
//! reports medians, p99 and throughput, plus the server's peak RSS when it runs on this machine;
//! [`floor`] measures the bare durable insert rate of the same statements, which batch ingest is
//! compared with; [`size`] reports what a store takes on disk per statement.
//! The driver speaks plain xAPI over HTTP, so it measures any conformant LRS the same way; it only
//! talks to loopback addresses, and every loop is bounded in count and in time.

pub mod floor;
pub mod generate;
mod measure;
pub mod run;
pub mod size;

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Write a deterministic data set of statements (JSON lines, or JSON arrays with --batch).
    Generate(GenerateArgs),
    /// Drive load against an LRS on loopback and report latency percentiles, throughput and peak RSS.
    Run(run::RunArgs),
    /// Measure the bare durable insert rate of the data set's statements: the floor for batch ingest.
    ///
    /// Inserts --rows statement bodies of the bench data set (real generated JSON, 1.55 KB on average)
    /// into a bare table, a text primary key (the statement id) and the body and nothing else: no other
    /// index, no validation, no HTTP. Transactions of --batch rows come from --clients concurrent
    /// writers, with the store's own connection settings on the backend of the global --database, so
    /// the durability is exactly Cairn's (SQLite: WAL, synchronous=FULL and the writer's pragmas;
    /// PostgreSQL: the server's fsync and synchronous_commit). On SQLite the clients queue on one
    /// connection that group-commits, as Cairn's writer does; on PostgreSQL each client has its own
    /// connection. Prints rows/s and the p50/p99 latency per transaction as `bench run` does; `bench
    /// run`'s ingest workload measures the same floor first and reports batch ingest as a share of it.
    ///
    /// Scratch space: SQLite, a new file beside the store's file (a temporary folder when no
    /// --database is given); PostgreSQL, a uniquely named table in the given database. Both are
    /// removed afterwards, after the rows were counted.
    Floor(floor::FloorArgs),
    /// Report the store's size on disk per statement, table by table and index by index.
    ///
    /// Reads the store of the global --database through a read-only connection of its own (a running
    /// server may stay up): SQLite's pages in use per table and index (the `dbstat` table), or
    /// PostgreSQL's table sizes (TOAST and maps included) and index sizes in the connection's schema,
    /// with the number of stored statements and bytes per statement. `bench run --spawn` prints the
    /// same report after its phases.
    Size(size::SizeArgs),
}

/// The global `--database` default: for `bench`, "none given" (measure on a scratch file elsewhere
/// rather than beside ./cairn.db).
pub(crate) const DEFAULT_DATABASE: &str = "sqlite://cairn.db";
/// The data set's default learners and courses.
pub const DEFAULT_LEARNERS: u32 = 2_000;
pub const DEFAULT_COURSES: u32 = 40;

/// The shape of a generated data set; the same values always give the same bytes.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Number of statements.
    #[arg(long, default_value_t = 10_000)]
    pub statements: u64,
    /// Number of distinct learners (actors).
    #[arg(long, default_value_t = DEFAULT_LEARNERS)]
    pub learners: u32,
    /// Number of courses; even ones follow cmi5, odd ones the SCORM profile.
    #[arg(long, default_value_t = DEFAULT_COURSES)]
    pub courses: u32,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

impl DataArgs {
    pub fn spec(&self) -> generate::Spec {
        generate::Spec { statements: self.statements, learners: self.learners, courses: self.courses, seed: self.seed }
    }
}

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Output file (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Statements per line: 1 writes one statement object per line, more writes JSON arrays (POST batches).
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
}

/// Runs a `cairn bench` subcommand. `database` is the global `--database` (used by `run --spawn`).
/// `settings` are the store's (global options): a spawned server gets them, and the floor opens
/// its scratch store with them.
pub async fn main(
    cmd: BenchCommand,
    database: &str,
    content_dir: Option<PathBuf>,
    settings: crate::store::Settings,
) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Generate(args) => write_data_set(&args),
        BenchCommand::Run(args) => run::run(args, database, content_dir, settings).await,
        BenchCommand::Floor(args) => floor::floor_command(args, database, settings).await,
        BenchCommand::Size(args) => size::size_command(args, database).await,
    }
}

fn write_data_set(args: &GenerateArgs) -> anyhow::Result<()> {
    let out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::fs::File::create(p).map_err(|e| anyhow::anyhow!("creating {}: {e}", p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::new(out);
    let batch = args.batch.max(1);
    let (mut count, mut bytes, mut voiding, mut attached) = (0u64, 0u64, 0u64, 0u64);
    let mut line: Vec<String> = Vec::with_capacity(batch);
    let flush = |line: &mut Vec<String>, out: &mut dyn Write| -> std::io::Result<()> {
        if line.is_empty() {
            return Ok(());
        }
        if batch == 1 {
            writeln!(out, "{}", line[0])?;
        } else {
            writeln!(out, "[{}]", line.join(","))?;
        }
        line.clear();
        Ok(())
    };
    for g in generate::Generator::new(args.data.spec()) {
        let text = g.statement.to_string();
        count += 1;
        bytes += text.len() as u64;
        voiding += u64::from(g.statement["verb"]["id"] == generate::verbs::VOIDED);
        attached += u64::from(g.attachment.is_some());
        line.push(text);
        if line.len() == batch {
            flush(&mut line, &mut out)?;
        }
    }
    flush(&mut line, &mut out)?;
    out.flush()?;
    eprintln!(
        "{count} statements, {} bytes on average, {voiding} voiding, {attached} with a certificate attachment \
         (payload: cairn::bench::generate::attachment_payload(id); each also has a fileUrl)",
        bytes.checked_div(count).unwrap_or(0)
    );
    Ok(())
}

//! The load driver behind `cairn bench run`. Each phase runs a fixed number of operations from a
//! number of concurrent clients after a warm-up, stops early at a time limit, and records every
//! operation's latency in an HdrHistogram (microseconds, 3 significant digits) so medians and p99 are
//! exact enough without keeping the samples. Request bodies are built before a phase starts, so the
//! driver's own JSON work does not count against the server (both share this machine's cores).
//!
//! Phases, in order (pick with `--workload`):
//! * `ingest`: the bare insert floor on the spawned server's database first (`bench::floor`: same
//!   batches of 100 and clients as the batch phase, no server; not measured against a `--target`,
//!   whose database is unknown here), then single-statement POSTs from 1, 16 and 64 clients, then
//!   batches of 100 and 1,000; a line under the table gives batches of 100 as a share of the floor;
//! * `load`: fills the store up to `--statements` with batches of 1,000 (its throughput is reported);
//! * `query`: filtered queries (limit 100), `since`/`until` windows, `ascending`, and 10,000 results
//!   paged through `more`;
//! * `console`: the console's pages (overview, statements, a learner's statements, learner search, the
//!   overdue report, a course) from one signed-in admin;
//! * `state`: a State PUT/GET mix from many clients, as SCORM and cmi5 content does on every page.
//!
//! After the phases, a spawned server's store is measured on disk per statement, table by table
//! (`bench::size`).
//!
//! Peak RSS per phase is read from `/proc/<pid>/status` when the server runs here (`--spawn` or
//! `--server-pid`): `clear_refs` resets `VmHWM` at the phase start and a sampler also tracks `VmRSS`.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use bytes::Bytes;
use clap::Args;
use serde_json::Value;

use super::floor::{FloorPlan, PgForm};
use super::generate::{verbs, Generated, Generator, Universe};
use super::measure::{drive, PhaseResult, RssWatch};
pub use super::measure::{machine_description, report};
use super::DataArgs;

/// The console workload, in its own file.
mod console;

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The LRS's xAPI endpoint, e.g. `http://127.0.0.1:8080/xapi` (loopback addresses only).
    #[arg(long, required_unless_present = "spawn")]
    pub target: Option<String>,
    /// HTTP Basic key of a credential allowed to write and read statements and State.
    #[arg(long)]
    pub key: Option<String>,
    /// Its secret.
    #[arg(long)]
    pub secret: Option<String>,
    /// Start a local `cairn serve` to measure: on the global `--database` when one is given, else on a
    /// fresh SQLite file in a temporary folder (removed afterwards).
    #[arg(long, conflicts_with = "target")]
    pub spawn: bool,
    /// Pid of a server already running on this machine, to report its peak RSS.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Phases to run, comma-separated: ingest, load, query, state, console (the console's pages; not
    /// in the default set).
    #[arg(long, value_delimiter = ',', default_value = "ingest,load,query,state")]
    pub workload: Vec<String>,
    /// The data set; `--statements` is the store size the `load` phase fills up to before queries.
    #[command(flatten)]
    pub data: DataArgs,
    /// Longest any one phase may run, in seconds (warm-up included).
    #[arg(long, default_value_t = 60)]
    pub phase_seconds: u64,
    /// Divide every phase's operation count by this (quick smoke runs); 1 for published figures.
    #[arg(long, default_value_t = 1)]
    pub scale_down: u64,
    /// Concurrent clients for batch ingest and the load phase.
    #[arg(long, default_value_t = 4)]
    pub batch_clients: usize,
    /// Concurrent clients for queries (1 measures latency on an otherwise idle server).
    #[arg(long, default_value_t = 1)]
    pub query_clients: usize,
    /// Concurrent clients for the State mix.
    #[arg(long, default_value_t = 64)]
    pub state_clients: usize,
    /// Value of the X-Experience-API-Version header (1.0.3 is the one every LRS speaks).
    #[arg(long, default_value = "1.0.3")]
    pub xapi_version: String,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Send the statements that carry a certificate attachment without it (no multipart bodies), for
    /// an LRS that rejects the data set's attachments: ADL_LRS fails their hash check, so every batch
    /// holding one was refused. Use it on both sides of a comparison.
    #[arg(long)]
    pub without_attachments: bool,
}

/// Where and how to reach the LRS.
#[derive(Debug, Clone)]
struct Target {
    /// The xAPI endpoint without a trailing slash.
    xapi: String,
    /// Scheme, host and port: `more` links are relative to it.
    origin: String,
    key: String,
    secret: String,
    version: String,
}

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    target: Arc<Target>,
}

/// A request body prepared before the phase: JSON or multipart/mixed with attachment parts.
#[derive(Clone)]
struct Payload {
    body: Bytes,
    content_type: String,
    statements: u64,
}

impl Client {
    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, url)
            .basic_auth(&self.target.key, Some(&self.target.secret))
            .header("X-Experience-API-Version", &self.target.version)
    }

    /// Sends and reads the whole answer; a non-2xx status is an error carrying the start of the body.
    async fn send(&self, rb: reqwest::RequestBuilder) -> Result<Bytes, String> {
        let resp = rb.send().await.map_err(|e| format!("request failed: {e}"))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| format!("reading the answer: {e}"))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            return Err(format!("HTTP {status}: {text}"));
        }
        Ok(body)
    }

    async fn post_statements(&self, p: &Payload) -> Result<u64, String> {
        let url = format!("{}/statements", self.target.xapi);
        let rb = self
            .request(reqwest::Method::POST, &url)
            .header(reqwest::header::CONTENT_TYPE, &p.content_type)
            .body(p.body.clone());
        self.send(rb).await.map(|_| p.statements)
    }

    async fn get(&self, url: &str) -> Result<Bytes, String> {
        self.send(self.request(reqwest::Method::GET, url)).await
    }
}

/// Builds a POST body: a single statement object or an array, as multipart/mixed when any statement
/// carries an attachment payload.
fn payload(items: &[Generated], single: bool) -> Payload {
    let json = if single && items.len() == 1 {
        items[0].statement.to_string()
    } else {
        Value::Array(items.iter().map(|g| g.statement.clone()).collect()).to_string()
    };
    let atts: Vec<&super::generate::Attachment> = items.iter().filter_map(|g| g.attachment.as_ref()).collect();
    if atts.is_empty() {
        return Payload {
            body: Bytes::from(json),
            content_type: "application/json".into(),
            statements: items.len() as u64,
        };
    }
    let boundary = "cairn-bench-boundary-7d1f3a";
    let mut body = Vec::with_capacity(json.len() + 2048);
    body.extend_from_slice(format!("--{boundary}\r\nContent-Type: application/json\r\n\r\n").as_bytes());
    body.extend_from_slice(json.as_bytes());
    for a in atts {
        let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&a.body));
        body.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Type: {}\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {sha}\r\n\r\n",
                a.content_type
            )
            .as_bytes(),
        );
        body.extend_from_slice(&a.body);
    }
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Payload {
        body: Bytes::from(body),
        content_type: format!("multipart/mixed; boundary={boundary}"),
        statements: items.len() as u64,
    }
}

/// What queries filter by: values seen in the generated stream, so every query finds statements.
#[derive(Debug, Default, Clone)]
struct Samples {
    agents: Vec<Value>,
    activities: Vec<String>,
    registrations: Vec<String>,
    courses: Vec<String>,
}

/// The generated stream, shared by the phases so each statement is sent once.
struct Feed {
    generator: Mutex<Generator>,
    samples: Mutex<Samples>,
    taken: AtomicU64,
    /// `--without-attachments`.
    strip_attachments: bool,
}

impl Feed {
    /// The next `n` statements (fewer at the end of the data set).
    fn take(&self, n: usize) -> Vec<Generated> {
        let mut out = Vec::with_capacity(n);
        let Ok(mut g) = self.generator.lock() else { return out };
        for _ in 0..n {
            match g.next() {
                Some(mut item) => {
                    if self.strip_attachments && item.attachment.take().is_some() {
                        if let Some(m) = item.statement.as_object_mut() {
                            m.remove("attachments");
                        }
                    }
                    out.push(item)
                }
                None => break,
            }
        }
        drop(g);
        let before = self.taken.fetch_add(out.len() as u64, Ordering::Relaxed);
        if let Ok(mut s) = self.samples.lock() {
            for (i, item) in out.iter().enumerate() {
                // One statement in 97 feeds the query samples (kept small and spread over the store).
                if (before + i as u64) % 97 != 0 || item.statement["verb"]["id"] == verbs::VOIDED {
                    continue;
                }
                let st = &item.statement;
                if s.agents.len() < 512 {
                    s.agents.push(st["actor"].clone());
                }
                if let (Some(a), true) = (st["object"]["id"].as_str(), s.activities.len() < 512) {
                    s.activities.push(a.to_string());
                }
                if let (Some(r), true) = (st["context"]["registration"].as_str(), s.registrations.len() < 512) {
                    s.registrations.push(r.to_string());
                }
                let course = st["context"]["contextActivities"]["grouping"]
                    .as_array()
                    .and_then(|g| g.last())
                    .and_then(|c| c["id"].as_str());
                if let (Some(c), true) = (course, s.courses.len() < 512) {
                    s.courses.push(c.to_string());
                }
            }
        }
        out
    }

    fn taken(&self) -> u64 {
        self.taken.load(Ordering::Relaxed)
    }
}

/// Runs `drive` twice, a warm-up whose figures are dropped and the measured run, and packs the result.
#[allow(clippy::too_many_arguments)]
async fn phase<F, Fut>(
    ctx: &Ctx,
    name: &str,
    unit: &'static str,
    clients: usize,
    warmup: u64,
    ops: u64,
    op: F,
) -> PhaseResult
where
    F: Fn(u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = Result<u64, String>> + Send + 'static,
{
    let limit = Duration::from_secs(ctx.args.phase_seconds.max(1));
    eprintln!("  {name}: {warmup} warm-up + {ops} operations, {clients} clients");
    if warmup > 0 {
        let op2 = op.clone();
        let w = drive(clients, warmup, limit / 4, op2).await;
        if let Some(e) = w.first_error {
            eprintln!("    warm-up error: {e}");
        }
    }
    // Measured operations continue after the warm-up's indexes so that ingest never resends.
    let rss = RssWatch::start(ctx.server_pid);
    let o = drive(clients, ops, limit, move |i| op(warmup + i)).await;
    let peak = rss.finish().await;
    if let Some(e) = &o.first_error {
        eprintln!("    {} errors; first: {e}", o.errors);
    }
    let ms = |v: u64| v as f64 / 1000.0;
    let r = PhaseResult {
        name: name.to_string(),
        clients,
        operations: o.operations,
        units: o.units,
        unit,
        errors: o.errors,
        seconds: o.elapsed.as_secs_f64(),
        p50_ms: ms(o.hist.value_at_quantile(0.5)),
        p99_ms: ms(o.hist.value_at_quantile(0.99)),
        max_ms: ms(o.hist.max()),
        peak_rss_mib: peak,
        no_server: false,
        note: String::new(),
    };
    eprintln!(
        "    {:.0} {unit}/s, p50 {:.2} ms, p99 {:.2} ms{}",
        r.throughput(),
        r.p50_ms,
        r.p99_ms,
        r.peak_rss_mib.map(|m| format!(", peak RSS {m:.0} MiB")).unwrap_or_default()
    );
    r
}

struct Ctx {
    args: RunArgs,
    client: Client,
    feed: Arc<Feed>,
    server_pid: Option<u32>,
    results: Vec<PhaseResult>,
    /// When this run started filling the store: `since`/`until` windows fall after it.
    load_started: Option<time::OffsetDateTime>,
    /// The spawned server's database, where the ingest workload measures the bare insert floor and
    /// the store size is read at the end (None against a `--target`: its database is unknown here).
    floor_database: Option<String>,
    /// The store's settings the spawned server runs with (the floor uses them too).
    settings: crate::store::Settings,
    /// The floor's row name once measured, else why not (after the ingest workload).
    floor: Option<Result<String, String>>,
}

impl Ctx {
    fn ops(&self, n: u64) -> u64 {
        (n / self.args.scale_down.max(1)).max(1)
    }

    /// Bodies for `n` POSTs of `per` statements each.
    fn payloads(&self, n: u64, per: usize) -> Arc<Vec<Payload>> {
        Arc::new((0..n).map(|_| self.feed.take(per)).filter(|b| !b.is_empty()).map(|b| payload(&b, per == 1)).collect())
    }

    /// The bare insert floor on the server's backend, with the same batches and clients as the
    /// batch-ingest phase of 100 statements, its row first in the table (see `bench::floor`).
    async fn floor(&mut self) {
        let Some(database) = self.floor_database.clone() else {
            self.floor = Some(Err("remote target".into()));
            return;
        };
        let plan = FloorPlan {
            rows: 100 * self.ops(300),
            batch: 100,
            clients: self.args.batch_clients,
            data: self.args.data.spec(),
            pg_form: PgForm::Unnest,
            limit: Duration::from_secs(self.args.phase_seconds.max(1)),
            settings: self.settings,
        };
        eprintln!("  {}: {} rows", plan.name(), plan.rows);
        match super::floor::measure(&database, &plan).await {
            Ok(f) => {
                let r = f.result;
                eprintln!("    {:.0} rows/s, p50 {:.2} ms, p99 {:.2} ms", r.throughput(), r.p50_ms, r.p99_ms);
                self.floor = Some(Ok(r.name.clone()));
                self.results.push(r);
            }
            Err(e) => {
                eprintln!("    failed: {e:#}");
                self.floor = Some(Err(format!("failed: {e:#}")));
            }
        }
    }

    /// The line under the table: batch ingest of 100 as a share of the floor.
    fn floor_line(&self, ingest: &str) -> Option<(String, serde_json::Value)> {
        let floor = self.floor.as_ref()?;
        let name = match floor {
            Ok(name) => name,
            Err(why) => {
                return Some((
                    format!("floor: not measured ({why})"),
                    serde_json::json!({"measured": false, "reason": why}),
                ))
            }
        };
        let f = self.results.iter().find(|r| &r.name == name)?;
        let i = self.results.iter().find(|r| r.name == ingest)?;
        let ratio = if f.throughput() > 0.0 { i.throughput() / f.throughput() } else { 0.0 };
        let line = format!(
            "ratio to the floor: {:.0} % = {ingest} ({:.0} statements/s) / {name} ({:.0} rows/s), both from this \
             run (target: at least 50 %)",
            ratio * 100.0,
            i.throughput(),
            f.throughput()
        );
        let json = serde_json::json!({
            "measured": true,
            "floor": name,
            "floor_rows_per_second": f.throughput(),
            "ingest": ingest,
            "ingest_statements_per_second": i.throughput(),
            "ratio": ratio,
        });
        Some((line, json))
    }

    async fn ingest(&mut self, name: &str, clients: usize, per: usize, warmup: u64, ops: u64) {
        let (warmup, ops) = (self.ops(warmup), self.ops(ops));
        let bodies = self.payloads(warmup + ops, per);
        let client = self.client.clone();
        let r = phase(self, name, "statements", clients, warmup, ops, move |i| {
            let (client, bodies) = (client.clone(), bodies.clone());
            async move {
                match bodies.get(i as usize) {
                    Some(p) => client.post_statements(p).await,
                    None => Err("the data set ran out of statements".into()),
                }
            }
        })
        .await;
        self.results.push(r);
    }

    /// Fills the store to `--statements` with batches of 1,000 from `--batch-clients` clients.
    async fn load(&mut self) {
        let total = self.args.data.statements;
        let left = total.saturating_sub(self.feed.taken());
        if left == 0 {
            return;
        }
        let batches = left.div_ceil(1000);
        let (client, feed) = (self.client.clone(), self.feed.clone());
        let clients = self.args.batch_clients;
        eprintln!("  load: {left} statements to reach {total}");
        let limit = Duration::from_secs(3 * 3600);
        let rss = RssWatch::start(self.server_pid);
        let o = drive(clients, batches, limit, move |_| {
            let (client, feed) = (client.clone(), feed.clone());
            async move {
                // Built inside the operation: a million statements do not fit comfortably in memory.
                let p = tokio::task::spawn_blocking(move || payload(&feed.take(1000), false))
                    .await
                    .map_err(|e| e.to_string())?;
                client.post_statements(&p).await
            }
        })
        .await;
        let peak = rss.finish().await;
        if let Some(e) = &o.first_error {
            eprintln!("    {} errors; first: {e}", o.errors);
        }
        let r = PhaseResult {
            name: format!("load to {total} (batches of 1000, generated on the fly)"),
            clients,
            operations: o.operations,
            units: o.units,
            unit: "statements",
            errors: o.errors,
            seconds: o.elapsed.as_secs_f64(),
            p50_ms: o.hist.value_at_quantile(0.5) as f64 / 1000.0,
            p99_ms: o.hist.value_at_quantile(0.99) as f64 / 1000.0,
            max_ms: o.hist.max() as f64 / 1000.0,
            peak_rss_mib: peak,
            no_server: false,
            note: "includes the driver generating statements on the same cores".into(),
        };
        eprintln!("    {:.0} statements/s", r.throughput());
        self.results.push(r);
    }

    async fn queries(&mut self) -> anyhow::Result<()> {
        let samples = self.feed.samples.lock().map_err(|_| anyhow!("samples lock poisoned"))?.clone();
        if samples.agents.is_empty() {
            bail!("no statements were sent in this run, so there is nothing to query: include the load phase");
        }
        let store_size = self.feed.taken();
        let xapi = self.client.target.xapi.clone();
        let enc = |s: &str| serde_urlencoded::to_string([("v", s)]).unwrap_or_default()[2..].to_string();
        let agents: Vec<String> = samples.agents.iter().map(|a| enc(&a.to_string())).collect();
        let acts: Vec<String> = samples.activities.iter().map(|a| enc(a)).collect();
        let regs = samples.registrations.clone();
        let courses: Vec<String> = samples.courses.iter().map(|a| enc(a)).collect();
        let verb_list = [verbs::COMPLETED, verbs::PASSED, verbs::ANSWERED, verbs::TERMINATED, verbs::FAILED];
        let verbs_enc: Vec<String> = verb_list.iter().map(|v| enc(v)).collect();
        let now = time::OffsetDateTime::now_utc();
        let window = |from: time::Duration, to: time::Duration| {
            let f = crate::xapi::timestamp::format_timestamp(now - from);
            let t = crate::xapi::timestamp::format_timestamp(now - to);
            (enc(&f), enc(&t))
        };
        let started = self.load_started.unwrap_or(now);
        let span = now - started;
        // Windows inside the time the store was filled: a middle slice, and the most recent slice.
        let (mid_since, mid_until) = window(span * 0.6, span * 0.5);
        let (recent_since, _) = window(span * 0.1, time::Duration::ZERO);
        type Build = Arc<dyn Fn(u64) -> String + Send + Sync>;
        let pick = |v: &Vec<String>, i: u64| v[(i as usize * 7919) % v.len()].clone();
        let mut kinds: Vec<(&str, Build)> = Vec::new();
        {
            let (x, a) = (xapi.clone(), agents.clone());
            kinds.push(("agent", Arc::new(move |i| format!("{x}/statements?agent={}&limit=100", pick(&a, i)))));
        }
        {
            let (x, v) = (xapi.clone(), verbs_enc.clone());
            kinds.push(("verb", Arc::new(move |i| format!("{x}/statements?verb={}&limit=100", pick(&v, i)))));
        }
        {
            let (x, a) = (xapi.clone(), acts.clone());
            kinds.push(("activity", Arc::new(move |i| format!("{x}/statements?activity={}&limit=100", pick(&a, i)))));
        }
        {
            let (x, r) = (xapi.clone(), regs.clone());
            kinds.push((
                "registration",
                Arc::new(move |i| format!("{x}/statements?registration={}&limit=100", pick(&r, i))),
            ));
        }
        {
            let (x, a) = (xapi.clone(), agents.clone());
            kinds.push((
                "agent + related_agents",
                Arc::new(move |i| format!("{x}/statements?agent={}&related_agents=true&limit=100", pick(&a, i))),
            ));
        }
        {
            let (x, c) = (xapi.clone(), courses.clone());
            kinds.push((
                "course activity + related_activities",
                Arc::new(move |i| format!("{x}/statements?activity={}&related_activities=true&limit=100", pick(&c, i))),
            ));
        }
        {
            let (x, a, v) = (xapi.clone(), agents.clone(), verbs_enc.clone());
            kinds.push((
                "agent + verb",
                Arc::new(move |i| format!("{x}/statements?agent={}&verb={}&limit=100", pick(&a, i), pick(&v, i / 3))),
            ));
        }
        {
            let (x, s, u) = (xapi.clone(), mid_since.clone(), mid_until.clone());
            kinds.push((
                "since+until window",
                Arc::new(move |_| format!("{x}/statements?since={s}&until={u}&limit=100")),
            ));
        }
        {
            let (x, s) = (xapi.clone(), recent_since.clone());
            kinds.push(("since (recent)", Arc::new(move |_| format!("{x}/statements?since={s}&limit=100"))));
        }
        {
            let (x, v, s, u) = (xapi.clone(), verbs_enc.clone(), mid_since, mid_until);
            kinds.push((
                "verb + since+until window",
                Arc::new(move |i| format!("{x}/statements?verb={}&since={s}&until={u}&limit=100", pick(&v, i))),
            ));
        }
        {
            let x = xapi.clone();
            kinds
                .push(("ascending (no filter)", Arc::new(move |_| format!("{x}/statements?ascending=true&limit=100"))));
        }
        {
            let (x, a) = (xapi.clone(), agents.clone());
            kinds.push((
                "agent, ascending",
                Arc::new(move |i| format!("{x}/statements?agent={}&ascending=true&limit=100", pick(&a, i))),
            ));
        }
        let clients = self.args.query_clients;
        for (name, build) in kinds {
            let client = self.client.clone();
            let (w, n) = (self.ops(30), self.ops(300));
            let r = phase(self, &format!("query {name}, limit 100, store {store_size}"), "queries", clients, w, n, {
                move |i| {
                    let (client, url) = (client.clone(), build(i));
                    async move { client.get(&url).await.map(|_| 1) }
                }
            })
            .await;
            self.results.push(r);
        }
        self.paging(&verbs_enc).await;
        Ok(())
    }

    /// Reads 10,000 statements through `more` links, a few times; each page's latency is recorded and
    /// the note gives the time of a whole walk.
    async fn paging(&mut self, verbs_enc: &[String]) {
        let walks = self.ops(5).max(1);
        let client = self.client.clone();
        let first_urls: Vec<String> = (0..walks as usize)
            .map(|i| match i % 3 {
                0 => format!("{}/statements?limit=500", client.target.xapi),
                1 => format!("{}/statements?verb={}", client.target.xapi, verbs_enc[2]),
                _ => format!("{}/statements?ascending=true", client.target.xapi),
            })
            .collect();
        let walk_times = Arc::new(Mutex::new(Vec::new()));
        let (c2, wt) = (client.clone(), walk_times.clone());
        let r = phase(self, "page through 10,000 statements via more", "statements", 1, 0, walks, move |i| {
            let (client, wt) = (c2.clone(), wt.clone());
            let first = first_urls[i as usize % first_urls.len()].clone();
            async move {
                let t0 = Instant::now();
                let mut url = first;
                let mut read = 0u64;
                // Bounded by the statement count and by the page count (a broken `more` cannot loop).
                for _ in 0..1000 {
                    let body = client.get(&url).await?;
                    let v: Value = serde_json::from_slice(&body).map_err(|e| format!("answer is not JSON: {e}"))?;
                    read += v["statements"].as_array().map_or(0, |a| a.len() as u64);
                    let more = v["more"].as_str().unwrap_or_default();
                    if read >= 10_000 || more.is_empty() {
                        break;
                    }
                    url = if more.starts_with("http") {
                        more.to_string()
                    } else {
                        format!("{}{more}", client.target.origin)
                    };
                }
                if let Ok(mut w) = wt.lock() {
                    w.push(t0.elapsed());
                }
                Ok(read)
            }
        })
        .await;
        let mut r = r;
        r.unit = "statements";
        r.note = "latencies are whole walks of 10,000 statements (pages of the server's page limit)".into();
        self.results.push(r);
    }

    async fn state(&mut self) {
        let clients = self.args.state_clients;
        let keys = (clients as u64).max(1) * 4;
        let u = Universe::new(self.args.data.spec());
        let xapi = self.client.target.xapi.clone();
        let enc = |s: &str| serde_urlencoded::to_string([("v", s)]).unwrap_or_default()[2..].to_string();
        let urls: Arc<Vec<String>> = Arc::new(
            (0..keys)
                .map(|k| {
                    let l = (k % u.spec.learners as u64) as u32;
                    let c = (k % u.spec.courses as u64) as u32;
                    format!(
                        "{xapi}/activities/state?activityId={}&agent={}&registration={}&stateId={}",
                        enc(&u.unit(c, 0)),
                        enc(&u.learner(l).to_string()),
                        u.registration(l, c),
                        enc(crate::xapi::vocab::scorm::ATTEMPT_STATE)
                    )
                })
                .collect(),
        );
        let client = self.client.clone();
        let (w, n) = (keys * 2, self.ops(40_000));
        // Even operations PUT a key's document, odd ones GET it; the warm-up only writes, every key
        // twice over, so that no measured GET can miss.
        let op = move |i: u64| {
            let (client, urls) = (client.clone(), urls.clone());
            async move {
                let url = &urls[((i / 2) % urls.len() as u64) as usize];
                if i % 2 == 0 || i < w {
                    let doc = format!(
                        r#"{{"location":"page-{}","suspend_data":"{}","progress":{},"score":{{"raw":{}}}}}"#,
                        i % 40,
                        "x".repeat(200),
                        i % 100,
                        i % 101
                    );
                    let rb = client
                        .request(reqwest::Method::PUT, url)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(doc);
                    client.send(rb).await.map(|_| 1)
                } else {
                    client.get(url).await.map(|_| 1)
                }
            }
        };
        let r = phase(self, "State PUT/GET mix (1:1)", "requests", clients, w, n, op).await;
        self.results.push(r);
    }
}

/// The name of a batch-ingest phase's row.
fn batches_name(per: usize, clients: usize) -> String {
    format!("POST batches of {per}, {clients} clients")
}

/// A spawned `cairn serve`, stopped (SIGTERM, then SIGKILL) when dropped or finished.
struct Spawned {
    child: tokio::process::Child,
    dir: Option<PathBuf>,
}

impl Spawned {
    async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = tokio::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status().await;
        }
        if tokio::time::timeout(Duration::from_secs(15), self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
        if let Some(d) = self.dir.take() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// Starts `cairn serve` on an ephemeral loopback port and waits for its "listening" line.
/// Returns the server, its xAPI URL and the database it serves.
async fn spawn_server(
    database: &str,
    content_dir: Option<PathBuf>,
    key: &str,
    secret: &str,
    settings: crate::store::Settings,
) -> anyhow::Result<(Spawned, String, String)> {
    use tokio::io::AsyncBufReadExt;
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    let dir = std::env::temp_dir().join(format!("cairn-bench-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    // The global default means "none given": measure a fresh SQLite file rather than ./cairn.db.
    let database = if database == super::DEFAULT_DATABASE {
        format!("sqlite://{}", dir.join("bench.db").display())
    } else {
        database.to_string()
    };
    let content = content_dir.unwrap_or_else(|| dir.join("content"));
    let log = std::fs::File::create(dir.join("server.log"))?;
    eprintln!(
        "spawning cairn serve on {} (log: {})",
        crate::config::redact_url(&database),
        dir.join("server.log").display()
    );
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .arg("--database")
        .arg(&database)
        .arg("--content-dir")
        .arg(&content)
        .arg("--sqlite-writer-cache-mib")
        .arg(settings.sqlite_writer_cache_mib.to_string())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("CAIRN_BOOTSTRAP_KEY", key)
        .env("CAIRN_BOOTSTRAP_SECRET", secret)
        .env("CAIRN_LOG", std::env::var("CAIRN_LOG").unwrap_or_else(|_| "warn".into()))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .context("starting cairn serve")?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout from cairn serve"))?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let found = tokio::time::timeout(Duration::from_secs(120), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.split("listening on ").nth(1) {
                return Some(rest.trim().trim_end_matches('/').to_string());
            }
        }
        None
    })
    .await;
    let spawned = Spawned { child, dir: Some(dir.clone()) };
    let url = match found {
        Ok(Some(url)) => url,
        _ => {
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            spawned.stop().await;
            bail!("cairn serve did not start; its log:\n{log}");
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((spawned, url, database))
}

/// Refuses anything but loopback: this tool generates load, and load only ever goes to this machine.
fn check_loopback(xapi: &str) -> anyhow::Result<(String, String)> {
    let url = reqwest::Url::parse(xapi).with_context(|| format!("--target {xapi:?} is not a URL"))?;
    if url.scheme() != "http" {
        bail!("--target must be an http:// URL (got {})", url.scheme());
    }
    let loopback = match url.host_str() {
        Some("localhost") => true,
        Some(h) => h.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()),
        None => false,
    };
    if !loopback {
        bail!(
            "--target must be a loopback address (127.0.0.0/8, ::1 or localhost): the driver sends load nowhere else"
        );
    }
    let origin = url.origin().ascii_serialization();
    Ok((xapi.trim_end_matches('/').to_string(), origin))
}

/// `cairn bench run`.
pub async fn run(
    args: RunArgs,
    database: &str,
    content_dir: Option<PathBuf>,
    settings: crate::store::Settings,
) -> anyhow::Result<()> {
    let key = args.key.clone().unwrap_or_else(|| "cairn-bench".into());
    let secret = args.secret.clone().unwrap_or_else(|| "cairn-bench-secret".into());
    let (spawned, xapi, pid, served) = if args.spawn {
        let (s, url, served) = spawn_server(database, content_dir, &key, &secret, settings).await?;
        let pid = s.child.id();
        (Some(s), url, pid, Some(served))
    } else {
        let t = args.target.clone().ok_or_else(|| anyhow!("give --target URL or --spawn"))?;
        (None, t, args.server_pid, None)
    };
    let result = run_phases(args, &xapi, key, secret, pid, served, settings).await;
    if let Some(s) = spawned {
        s.stop().await;
    }
    result
}

async fn run_phases(
    args: RunArgs,
    xapi: &str,
    key: String,
    secret: String,
    pid: Option<u32>,
    floor_database: Option<String>,
    settings: crate::store::Settings,
) -> anyhow::Result<()> {
    let (xapi, origin) = check_loopback(xapi)?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(256)
        .build()
        .context("building the HTTP client")?;
    let target = Arc::new(Target { xapi, origin, key, secret, version: args.xapi_version.clone() });
    let client = Client { http, target };
    let feed = Arc::new(Feed {
        // The stream goes on past `--statements` (the ingest phases may need more than the store
        // size); a prefix of it is the same whatever its length, so figures stay comparable.
        generator: Mutex::new(Generator::new(super::generate::Spec { statements: u64::MAX, ..args.data.spec() })),
        samples: Mutex::new(Samples::default()),
        taken: AtomicU64::new(0),
        strip_attachments: args.without_attachments,
    });
    // Refuse a store that already holds this data set: resent statements would measure nothing.
    if let Some(first) = Generator::new(args.data.spec()).next() {
        let id = first.statement["id"].as_str().unwrap_or_default().to_string();
        let url = format!("{}/statements?statementId={id}", client.target.xapi);
        let resp = client.request(reqwest::Method::GET, &url).send().await.context("reaching the LRS")?;
        match resp.status().as_u16() {
            404 => {}
            200 => bail!(
                "the target already holds statements of seed {}: use a fresh store or another --seed",
                args.data.seed
            ),
            s => bail!("GET statements answered HTTP {s}: check --target, --key and --secret"),
        }
    }
    let workloads: Vec<String> = args.workload.iter().map(|w| w.trim().to_ascii_lowercase()).collect();
    for w in &workloads {
        if !["ingest", "load", "query", "state", "console"].contains(&w.as_str()) {
            bail!("unknown workload {w:?}: use ingest, load, query, state, console");
        }
    }
    let server_pid = pid;
    let mut ctx = Ctx {
        args: args.clone(),
        client,
        feed,
        server_pid,
        results: Vec::new(),
        load_started: None,
        floor_database,
        floor: None,
        settings,
    };
    let machine = machine_description();
    eprintln!("{machine}");
    if workloads.iter().any(|w| w == "ingest") {
        eprintln!("ingest");
        // Before the store starts filling: no statement arrives while the floor runs.
        ctx.floor().await;
        ctx.load_started = Some(time::OffsetDateTime::now_utc());
        ctx.ingest("POST 1 statement, 1 client", 1, 1, 100, 2_000).await;
        ctx.ingest("POST 1 statement, 16 clients", 16, 1, 500, 10_000).await;
        ctx.ingest("POST 1 statement, 64 clients", 64, 1, 1_000, 20_000).await;
        let bc = args.batch_clients;
        ctx.ingest(&batches_name(100, bc), bc, 100, 10, 300).await;
        ctx.ingest(&batches_name(1000, bc), bc, 1000, 4, 40).await;
    }
    if workloads.iter().any(|w| w == "load") {
        ctx.load_started.get_or_insert_with(time::OffsetDateTime::now_utc);
        ctx.load().await;
    }
    if workloads.iter().any(|w| w == "query") {
        eprintln!("query");
        ctx.queries().await?;
    }
    if workloads.iter().any(|w| w == "console") {
        eprintln!("console");
        ctx.console_pages().await?;
    }
    if workloads.iter().any(|w| w == "state") {
        eprintln!("state");
        ctx.state().await;
    }
    println!("{}", report(&ctx.results, &machine, pid.is_some()));
    let floor = ctx.floor_line(&batches_name(100, args.batch_clients));
    if let Some((line, _)) = &floor {
        println!("{line}\n");
    }
    // The store the phases filled, on disk per statement (only known for a spawned server).
    let size = match &ctx.floor_database {
        Some(database) => match super::size::measure(database).await {
            Ok(size) => {
                println!("{}", size.report());
                Some(size)
            }
            Err(e) => {
                println!("store size: not measured ({e:#})\n");
                None
            }
        },
        None => None,
    };
    if let Some(path) = &args.json {
        let mut doc = serde_json::json!({"machine": machine, "results": ctx.results});
        if let Some((_, f)) = floor {
            doc["floor"] = f;
        }
        if let Some(size) = size {
            doc["store_size"] = serde_json::to_value(size)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(&doc)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(strip: bool) -> Feed {
        Feed {
            generator: Mutex::new(Generator::new(super::super::generate::Spec {
                statements: 5_000,
                learners: 50,
                courses: 6,
                seed: 3,
            })),
            samples: Mutex::new(Samples::default()),
            taken: AtomicU64::new(0),
            strip_attachments: strip,
        }
    }

    #[test]
    fn without_attachments_sends_the_same_statements_as_plain_json() {
        let with = feed(false).take(5_000);
        let without = feed(true).take(5_000);
        assert_eq!(with.len(), without.len());
        let attached = with.iter().filter(|g| g.attachment.is_some()).count();
        assert!(attached > 0, "the data set carries attachments");
        for (a, b) in with.iter().zip(&without) {
            assert!(b.attachment.is_none() && b.statement.get("attachments").is_none());
            assert_eq!(a.statement["id"], b.statement["id"]);
            if a.attachment.is_none() {
                assert_eq!(a.statement, b.statement);
            }
        }
        assert_eq!(payload(&without[..100], false).content_type, "application/json");
    }
}

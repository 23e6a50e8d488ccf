//! Measuring a phase: driving operations from concurrent clients into a latency histogram, watching
//! the server's peak RSS, and reporting the results as a Markdown table.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// The measured outcome of one phase.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PhaseResult {
    pub name: String,
    pub clients: usize,
    pub operations: u64,
    /// Statements (ingest) or documents/requests (others) the operations moved.
    pub units: u64,
    pub unit: &'static str,
    pub errors: u64,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Peak RSS of the server during the phase, in MiB; None when unknown (remote server).
    pub peak_rss_mib: Option<f64>,
    /// No server took part (the bare insert floor): the RSS column does not apply.
    #[serde(skip)]
    pub no_server: bool,
    pub note: String,
}

impl PhaseResult {
    pub fn throughput(&self) -> f64 {
        if self.seconds > 0.0 {
            self.units as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// Raw counts of a phase before RSS and naming.
pub(super) struct Outcome {
    pub(super) operations: u64,
    pub(super) units: u64,
    pub(super) errors: u64,
    pub(super) first_error: Option<String>,
    pub(super) elapsed: Duration,
    pub(super) hist: Histogram<u64>,
}

/// 1 µs to 10 minutes at 3 significant digits. The bounds are constants that the crate accepts, so a
/// failure is a bug here, never a matter of input.
#[allow(clippy::expect_used)]
pub(super) fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("constant histogram bounds are valid")
}

/// Runs operations `0..ops` from `clients` concurrent tasks until done or `limit` has passed; an
/// operation returns how many units it moved. Stops early after 100 errors.
pub(super) async fn drive<F, Fut>(clients: usize, ops: u64, limit: Duration, op: F) -> Outcome
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<u64, String>> + Send + 'static,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let (op, next, errors) = (op.clone(), next.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut hist = histogram();
            let (mut done, mut units, mut first_error) = (0u64, 0u64, None);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= ops || start.elapsed() >= limit || errors.load(Ordering::Relaxed) >= 100 {
                    break;
                }
                let t0 = Instant::now();
                let r = op(i).await;
                let us = t0.elapsed().as_micros().max(1) as u64;
                hist.saturating_record(us);
                done += 1;
                match r {
                    Ok(n) => units += n,
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        first_error.get_or_insert(e);
                    }
                }
            }
            (hist, done, units, first_error)
        }));
    }
    let mut out =
        Outcome { operations: 0, units: 0, errors: 0, first_error: None, elapsed: Duration::ZERO, hist: histogram() };
    for t in tasks {
        if let Ok((hist, done, units, first_error)) = t.await {
            let _ = out.hist.add(&hist);
            out.operations += done;
            out.units += units;
            if out.first_error.is_none() {
                out.first_error = first_error;
            }
        }
    }
    out.errors = errors.load(Ordering::Relaxed);
    out.elapsed = start.elapsed();
    out
}

/// Peak memory of the server process while a phase runs.
pub(super) struct RssWatch {
    pid: Option<u32>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    task: Option<tokio::task::JoinHandle<u64>>,
}

/// A `kB` field of /proc/<pid>/status.
pub(super) fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

impl RssWatch {
    pub(super) fn start(pid: Option<u32>) -> RssWatch {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let task = pid.map(|pid| {
            // Writing 5 to clear_refs resets the peak (VmHWM) to the current RSS: a per-phase peak.
            let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut max = 0;
                // Bounded: the phase stops it, and it gives up after an hour regardless.
                for _ in 0..36_000 {
                    max = max.max(status_kb(pid, "VmRSS:").unwrap_or(0));
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                max
            })
        });
        RssWatch { pid, stop, task }
    }

    /// The phase's peak RSS in MiB: the larger of VmHWM and the sampled VmRSS.
    pub(super) async fn finish(mut self) -> Option<f64> {
        self.stop.store(true, Ordering::Relaxed);
        let sampled = match self.task.take() {
            Some(t) => t.await.unwrap_or(0),
            None => return None,
        };
        let hwm = self.pid.and_then(|p| status_kb(p, "VmHWM:")).unwrap_or(0);
        Some(hwm.max(sampled) as f64 / 1024.0)
    }
}

/// CPU model, cores, memory and load: to print beside the figures.
pub fn machine_description() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| t.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<u64>().ok()))
        .map(|kb| format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown memory".into());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!("machine: {cpu}, {cores} cores, {mem} RAM; load average {}", load.join(" "))
}

/// The results as a Markdown table.
pub fn report(results: &[PhaseResult], machine: &str, rss_known: bool) -> String {
    let mut s = format!("\n{machine}\n\n");
    s.push_str("| workload | clients | ops | throughput | p50 ms | p99 ms | max ms | errors | peak RSS MiB |\n");
    s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in results {
        let rss = match r.peak_rss_mib {
            Some(m) => format!("{m:.0}"),
            None if r.no_server => "n/a".into(),
            None if rss_known => "?".into(),
            None => "unknown (remote)".into(),
        };
        s.push_str(&format!(
            "| {} | {} | {} | {:.0} {}/s | {:.2} | {:.2} | {:.2} | {} | {} |\n",
            r.name,
            r.clients,
            r.operations,
            r.throughput(),
            r.unit,
            r.p50_ms,
            r.p99_ms,
            r.max_ms,
            r.errors,
            rss
        ));
    }
    for r in results.iter().filter(|r| !r.note.is_empty()) {
        s.push_str(&format!("\n* {}: {}", r.name, r.note));
    }
    s.push('\n');
    s
}

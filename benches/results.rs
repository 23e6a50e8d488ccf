//! Results benchmark (issue 5): L learners × C courses and N statements, ingested through the LRS use
//! case (validation, storage, and incremental results maintenance) into a fresh SQLite store, then the
//! results queries an analyst makes. Reports the ingest time with and without incremental maintenance
//! (their ratio is what maintenance costs), and the median and p99 latency of one course's summary and of
//! one learner's results.
//!
//!     cargo bench --bench results -- [--learners 10000] [--courses 20] [--statements 2000000] [--batch 500]
//!         [--postgres postgres://USER@HOST:PORT/ADMIN_DB] [--queries-only] [--keep]
//!
//! Defaults are the full size; pass smaller numbers for a quick run. Deterministic (seeded).
//! `--postgres` runs on fresh databases created through that server (instead of SQLite files), so
//! both backends are measured by the same code; `--queries-only` skips the ingest without maintenance
//! and the rebuild (the query figures need only the maintained store); `--keep` leaves the
//! maintained store in place and prints where, for looking at query plans afterwards.

use std::time::{Duration, Instant};

use cairn::lms::definitions::{DefineComponent, DefineCourse};
use cairn::lms::{Lms, LmsConfig};
use cairn::lrs::{Lrs, LrsConfig};
use cairn::store::{AssignmentRow, Store};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

struct Args {
    learners: usize,
    courses: usize,
    statements: usize,
    batch: usize,
    queries: usize,
    postgres: Option<String>,
    queries_only: bool,
    keep: bool,
}

fn args() -> Args {
    let mut a = Args {
        learners: 10_000,
        courses: 20,
        statements: 2_000_000,
        batch: 500,
        queries: 200,
        postgres: None,
        queries_only: false,
        keep: false,
    };
    let v: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < v.len() {
        let next = || v.get(i + 1).and_then(|x| x.parse::<usize>().ok());
        match v[i].as_str() {
            "--learners" => a.learners = next().unwrap_or(a.learners),
            "--courses" => a.courses = next().unwrap_or(a.courses),
            "--statements" => a.statements = next().unwrap_or(a.statements),
            "--batch" => a.batch = next().unwrap_or(a.batch),
            "--queries" => a.queries = next().unwrap_or(a.queries),
            "--postgres" => a.postgres = v.get(i + 1).cloned(),
            "--queries-only" | "--keep" => {
                a.queries_only |= v[i] == "--queries-only";
                a.keep |= v[i] == "--keep";
                i += 1;
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    a
}

fn course_id(c: usize) -> String {
    format!("https://bench.example.com/courses/{c}")
}

fn activity(c: usize, k: usize) -> String {
    format!("https://bench.example.com/courses/{c}/modules/{k}")
}

fn learner(l: usize) -> Value {
    json!({"objectType": "Agent", "mbox": format!("mailto:learner{l}@bench.example.com")})
}

/// A fresh database: a SQLite file in `dir`, or a new database on the `--postgres` server.
async fn database(a: &Args, dir: &tempfile::TempDir) -> String {
    let Some(admin) = &a.postgres else { return format!("sqlite://{}", dir.path().join("bench.db").display()) };
    let name = format!("cairn_bench_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::PgPool::connect(admin).await.expect("the --postgres server");
    // The name is ours (a fresh UUID), not input.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await.expect("create database");
    let (base, _) = admin.rsplit_once('/').expect("a database URL");
    format!("{base}/{name}")
}

async fn setup(a: &Args, maintain: bool) -> (Lms, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = database(a, &dir).await;
    if a.keep && maintain {
        println!("store kept at {url}");
    }
    let store = Store::connect(&url).await.expect("store");
    store.migrate().await.expect("migrate");
    let cfg = LrsConfig {
        public_url: "http://bench".into(),
        page_limit: 100,
        json_limits: Default::default(),
        page_bytes: cairn::lrs::DEFAULT_PAGE_BYTES,
        profile_create_needs_precondition: false,
        statements_in_flight_bytes: cairn::lrs::intake::BUDGET_BYTES,
    };
    let settings = LmsConfig {
        content_url: "http://content.bench".into(),
        content_dir: dir.path().join("content"),
        package_limits: Default::default(),
        maintain_results: maintain,
        learner_link_ttl: cairn::lms::LEARNER_LINK_TTL,
    };
    let lrs = Lms::new(Lrs::new(store, cfg), settings);
    for c in 0..a.courses {
        let components = (0..3)
            .map(|k| DefineComponent::Activity { activity_id: activity(c, k), title: None, required: true })
            .collect();
        lrs.define_course(&course_id(c), DefineCourse { title: format!("Course {c}"), components })
            .await
            .expect("define");
        let rows: Vec<AssignmentRow> = (0..a.learners)
            .map(|l| AssignmentRow {
                id: format!("a-{c}-{l}"),
                course_id: course_id(c),
                learner_key: cairn::xapi::agent::key(&learner(l)).unwrap_or_default(),
                learner: learner(l).to_string(),
                assigned_us: cairn::now_us(),
                due_us: cairn::now_us() + 30 * 86_400_000_000,
                grace_days: 0,
                recurrence_months: None,
                registration: uuid::Uuid::new_v4().to_string(),
                group_key: None,
                waived_us: None,
                waived_reason: None,
            })
            .collect();
        lrs.store.insert_assignments(&rows).await.expect("assign");
    }
    (lrs, dir)
}

fn statement(rng: &mut rand::rngs::StdRng, a: &Args) -> Value {
    let (l, c, k) = (rng.gen_range(0..a.learners), rng.gen_range(0..a.courses), rng.gen_range(0..3));
    let verb = ["experienced", "experienced", "completed", "passed", "failed", "progressed"][rng.gen_range(0..6)];
    let mut s = json!({
        "actor": learner(l),
        "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}"), "display": {"en-US": verb}},
        "object": {"objectType": "Activity", "id": activity(c, k), "definition": {"name": {"en-US": format!("Module {k}")}, "type": "http://adlnet.gov/expapi/activities/module"}},
        "context": {"contextActivities": {"parent": [{"id": course_id(c)}]}},
    });
    if verb != "experienced" {
        s["result"] = json!({"score": {"scaled": (rng.gen_range(0..=100) as f64) / 100.0}, "duration": format!("PT{}S", rng.gen_range(10..600))});
    }
    s
}

/// Ingests every statement in batches; returns the wall time.
async fn ingest(lrs: &Lms, a: &Args) -> Duration {
    let who = lrs.system_principal();
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let t = Instant::now();
    let mut done = 0;
    while done < a.statements {
        let n = a.batch.min(a.statements - done);
        let batch: Vec<Value> = (0..n).map(|_| statement(&mut rng, a)).collect();
        lrs.store_statements(&who, cairn::xapi::Version::V2_0_0, batch, None).await.expect("ingest");
        done += n;
    }
    t.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The store without incremental maintenance: its ingest time, printed with the full rebuild's.
async fn ingest_without_maintenance(a: &Args) -> Duration {
    let (plain, _dir) = setup(a, false).await;
    let without = ingest(&plain, a).await;
    println!(
        "ingest without results maintenance: {:.1}s ({:.0} statements/s)",
        without.as_secs_f64(),
        a.statements as f64 / without.as_secs_f64()
    );
    let t = Instant::now();
    plain.rebuild_results().await.expect("rebuild");
    println!("rebuild of all results afterwards: {:.1}s", t.elapsed().as_secs_f64());
    without
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let a = args();
    println!(
        "results benchmark: {} learners × {} courses, {} statements, batches of {}, on {}",
        a.learners,
        a.courses,
        a.statements,
        a.batch,
        if a.postgres.is_some() { "PostgreSQL" } else { "SQLite" }
    );
    let without = if a.queries_only { None } else { Some(ingest_without_maintenance(&a).await) };
    let (lrs, dir) = setup(&a, true).await;
    if a.keep {
        std::mem::forget(dir);
    }
    let with = ingest(&lrs, &a).await;
    println!(
        "ingest with incremental results:   {:.1}s ({:.0} statements/s)",
        with.as_secs_f64(),
        a.statements as f64 / with.as_secs_f64()
    );
    if let Some(without) = without {
        println!("ingest slowdown from incremental maintenance: {:.2}x", with.as_secs_f64() / without.as_secs_f64());
    }

    let now = cairn::now_us();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut summary = Vec::new();
    for _ in 0..a.queries.min(100) {
        let c = course_id(rng.gen_range(0..a.courses));
        let t = Instant::now();
        let s = lrs.course_summary(&c, now).await.expect("summary");
        summary.push(t.elapsed());
        assert!(s["learners"].as_u64().unwrap_or(0) > 0);
    }
    let mut mine = Vec::new();
    for _ in 0..a.queries {
        let key = cairn::xapi::agent::key(&learner(rng.gen_range(0..a.learners))).unwrap_or_default();
        let f = cairn::lms::reports::ResultsFilter { learner_key: Some(key), ..Default::default() };
        let t = Instant::now();
        let (rows, _) = lrs.results(&f, now).await.expect("results");
        mine.push(t.elapsed());
        assert_eq!(rows.len(), a.courses);
    }
    summary.sort();
    mine.sort();
    println!(
        "course summary ({} learners): median {}, p99 {}",
        a.learners,
        ms(percentile(&summary, 0.5)),
        ms(percentile(&summary, 0.99))
    );
    println!(
        "one learner's results ({} courses): median {}, p99 {}",
        a.courses,
        ms(percentile(&mine, 0.5)),
        ms(percentile(&mine, 0.99))
    );
}

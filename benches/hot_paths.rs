//! `cargo bench` micro-benchmarks of the hot paths of statement ingest, on the `cairn bench generate`
//! data set (seed 1): parsing and validating a statement, preparing it for the store (LRS-owned
//! properties, index rows, serialising the stored body), rendering the `canonical` format, and
//! inserting a batch of 100 into SQLite (a temporary file with the server's durable settings, so one
//! fsync per batch is part of the figure). Throughput is in statements per second.

use std::hint::black_box;

use cairn::bench::generate::{Generator, Spec};
use cairn::store::{NewStatement, Store};
use cairn::xapi::statement::{self, StoreContext};
use cairn::xapi::validate::Validator;
use cairn::xapi::Version;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use serde_json::{json, Value};

const N: usize = 1000;

fn data(seed: u64, n: usize) -> Vec<Value> {
    Generator::new(Spec { statements: n as u64, learners: 2000, courses: 40, seed }).map(|g| g.statement).collect()
}

fn authority() -> Value {
    json!({"objectType": "Agent", "name": "bench", "account": {"homePage": "http://127.0.0.1:8080", "name": "bench"}})
}

fn parse_validate(c: &mut Criterion) {
    let texts: Vec<String> = data(1, N).iter().map(Value::to_string).collect();
    let v = Validator::new();
    let mut g = c.benchmark_group("statement");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("parse+validate (1.0.3)", |b| {
        b.iter(|| {
            for t in &texts {
                let s: Value = serde_json::from_str(t).unwrap_or(Value::Null);
                black_box(v.statement(&s, Version::V1_0_3).is_ok());
            }
        })
    });
    // The bounds check (sizes, element counts, depth, duplicate keys) that runs over each request
    // body before it is parsed: one streaming pass, no tree built.
    let limits = cairn::xapi::json::JsonLimits::default();
    g.bench_function("bounds check (xapi::json)", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(cairn::xapi::json::check_statements(t.as_bytes(), &limits).is_ok());
            }
        })
    });
    g.bench_function("parse+validate (2.0.0)", |b| {
        b.iter(|| {
            for t in &texts {
                let s: Value = serde_json::from_str(t).unwrap_or(Value::Null);
                black_box(v.statement(&s, Version::V2_0_0).is_ok());
            }
        })
    });
    g.finish();
}

fn prepare(c: &mut Criterion) {
    let stmts = data(1, N);
    let auth = authority();
    let ctx = StoreContext { version: Version::V2_0_0, stored: time::OffsetDateTime::now_utc(), authority: &auth };
    let mut g = c.benchmark_group("statement");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("prepare+serialise stored body", |b| {
        b.iter_batched(
            || stmts.clone(),
            |stmts| {
                for s in stmts {
                    if let Value::Object(o) = s {
                        let p = statement::prepare(o, &ctx);
                        black_box(p.body.to_string());
                    }
                }
            },
            BatchSize::LargeInput,
        )
    });
    let stored: Vec<String> = stmts
        .iter()
        .filter_map(|s| s.as_object().cloned())
        .map(|o| statement::prepare(o, &ctx).body.to_string())
        .collect();
    let prefs = vec!["fr-FR".to_string()];
    g.bench_function("canonical format (parse stored, render, serialise)", |b| {
        b.iter(|| {
            for t in &stored {
                let mut v: Value = serde_json::from_str(t).unwrap_or(Value::Null);
                cairn::xapi::format::canonical(&mut v, &prefs, &|_| None);
                black_box(v.to_string());
            }
        })
    });
    g.finish();
}

fn insert(c: &mut Criterion) {
    let Ok(rt) = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() else { return };
    let Ok(dir) = tempfile::tempdir() else { return };
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let Ok(store) = rt.block_on(async {
        let s = Store::connect(&url).await?;
        s.migrate().await?;
        Ok::<_, cairn::store::StoreError>(s)
    }) else {
        return;
    };
    let auth = authority();
    let mut gen = Generator::new(Spec { statements: u64::MAX, learners: 2000, courses: 40, seed: 2 });
    let mut next_batch = move || -> Vec<NewStatement> {
        let stored = time::OffsetDateTime::now_utc();
        let ctx = StoreContext { version: Version::V2_0_0, stored, authority: &auth };
        (&mut gen)
            .take(100)
            .filter_map(|g| match g.statement {
                Value::Object(o) => Some(statement::prepare(o, &ctx)),
                _ => None,
            })
            .map(|p| cairn::lrs::statements::into_row(p, "bench", stored))
            .collect()
    };
    let mut g = c.benchmark_group("store");
    g.throughput(Throughput::Elements(100));
    g.sample_size(30);
    g.bench_function("sqlite insert batch of 100 (durable commit)", |b| {
        b.iter_batched(
            &mut next_batch,
            |rows| rt.block_on(store.insert_statements(rows.into(), &[], Vec::new().into())).is_ok(),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, parse_validate, prepare, insert);
criterion_main!(benches);

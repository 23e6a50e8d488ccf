//! Cairn: an xAPI learning record store.
//!
//! # Layout
//! - [`bench`]: `cairn bench`: a deterministic data generator and an HTTP load driver (BENCHMARKS.md).
//! - [`config`]: command line and environment settings (clap), secrets redacted.
//! - [`cli`]: the subcommands (`serve`, `migrate`, `credentials`).
//! - [`http`]: the axum router, extractors, error mapping and one file per xAPI resource. Thin.
//! - [`xapi`]: the specification as code: versions, validation, agents, statement preparation,
//!   comparison, formats, attachments and signatures. No HTTP, no SQL.
//! - [`lrs`]: use cases (store statements, query, documents, credentials) over the store.
//! - [`package`]: package import (SCORM 1.2/2004, cmi5, TinCan, AICC zips -> one Course model).
//! - [`results`]: derived results: facts from statements, derivation rules, compliance.
//! - [`store`]: the one storage interface, with a SQLite and a PostgreSQL implementation.

pub mod bench;
pub mod cli;
pub mod config;
pub mod http;
pub mod lms;
pub mod lrs;
pub mod package;
pub mod results;
pub mod store;
pub mod xapi;

/// Microseconds since the Unix epoch, the store's clock unit.
pub fn now_us() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000) as i64
}

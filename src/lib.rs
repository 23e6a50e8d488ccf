//! Cairn: an xAPI learning record store.
//!
//! # Layout
//! - [`bench`]: `cairn bench`: a deterministic data generator and an HTTP load driver (BENCHMARKS.md).
//! - [`config`]: command line and environment settings (clap), secrets redacted.
//! - [`cli`]: the subcommands (`serve`, `migrate`, `credentials`, `users`, `import`, `courses`, …).
//! - [`http`]: the API origin (`/xapi`, `/api`, and the `/console` pages in [`http::console`]: router,
//!   extractors, error mapping, guards, connection handling) and, in [`http::content`], the content
//!   origin (launch pages, package files). Thin.
//! - [`console`]: the console's use cases: users and roles, sign-in sessions, the audit log.
//! - [`learn`]: the learner's side (`/learn`): sign-in links, learner sessions, "my training",
//!   bookings, calendar files and certificates; pages in [`http::learn`].
//! - [`xapi`]: the specification as code: versions, validation, agents, statement preparation,
//!   comparison, formats, attachments and signatures. No HTTP, no SQL.
//! - [`lrs`]: the xAPI core (statements, queries, documents, identities, credentials) over the store.
//!   Knows nothing of courses; offers two seams ([`lrs::seams`]: a guard and an observer).
//! - [`lms`]: the learning-management side, plugged into those seams: courses, launches, cmi5 rules,
//!   results maintenance, assignments, live sessions, reports.
//! - [`package`]: package import (SCORM 1.2/2004, cmi5, TinCan, AICC zips -> one Course model). Pure.
//! - [`results`]: derived results' rules: facts from statements, derivation, compliance, ids. Pure.
//! - [`sequencing`]: the SCORM 2004 4th edition sequencing and navigation engine (activity tree,
//!   navigation, rollup, objectives, TOC) and SCORM 1.2 prerequisites navigation. Pure.
//! - [`sso`]: single sign-on with OpenID Connect (the relying party): proves who someone is at the
//!   provider; the console and the learner side decide what that identity may do.
//! - [`store`]: the one storage interface: one module per resource with its SQL, written once for
//!   SQLite and PostgreSQL, their differences in `store::dialect`.
//!
//! Dependencies run one way: `http`/`cli` -> `console` -> `lms` -> `lrs` -> `xapi`, `store`; `lms` -> `results`,
//! `package`, `sequencing`; `sequencing` -> `package`; `http` -> `sso` -> `store`. See docs/architecture.md for the path of a statement, an import and a launch.

pub mod bench;
pub mod cli;
pub mod config;
pub mod console;
pub mod http;
pub mod learn;
pub mod lms;
pub mod lrs;
pub mod memory;
pub mod package;
pub mod results;
pub mod sequencing;
pub mod sso;
pub mod store;
pub mod xapi;

/// Microseconds since the Unix epoch, the store's clock unit.
pub fn now_us() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000) as i64
}

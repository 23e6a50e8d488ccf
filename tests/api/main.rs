//! Integration tests: the real router over a real database, every test on SQLite and PostgreSQL.

mod support;

mod about;
mod bounds;
mod browser;
mod console;
mod courses;
mod crash;
mod diff_queries;
mod diff_results;
mod documents;
mod edge;
mod faults;
mod ingest_concurrency;
mod launch;
mod learn;
mod migrations;
mod oidc;
mod persons;
mod player;
mod query_windows;
mod results;
mod results_cmi5;
mod security;
mod statements;
mod statements_agent;
mod statements_alternate;
mod statements_attachments;
mod statements_data;
mod statements_months;
mod statements_packed;
mod statements_query;
mod stock_clients;
mod store_size;
mod trust;
mod waitlists;

//! Use cases of the LRS: storing and querying statements, documents, identities and credentials.
//! Pure orchestration of xAPI rules (from [`crate::xapi`]) and store transactions; no HTTP, no SQL.

pub mod auth;
pub mod cmi5;
pub mod courses;
pub mod documents;
pub mod error;
pub mod identity;
pub mod launch;
pub mod ratelimit;
pub mod results;
pub mod statements;

use std::sync::Arc;

pub use error::LrsError;

use crate::store::Store;
use crate::xapi::validate::Validator;

/// Settings the use cases need.
#[derive(Debug, Clone)]
pub struct LrsConfig {
    /// The API origin's address as browsers and clients reach it (`/xapi`, `/api`); also the
    /// `homePage` of credential authorities.
    pub public_url: String,
    /// The content origin's address: launch pages, the run-time and package files are served there
    /// and nowhere else, so package content (third-party code) never runs on the API origin.
    pub content_url: String,
    /// Most statements per query page.
    pub page_limit: usize,
    /// Where imported packages' files live: one folder per course version.
    pub content_dir: std::path::PathBuf,
    /// Bounds on what a package may make us extract.
    pub package_limits: crate::package::Limits,
    /// Bounds on client JSON (statements, documents to merge), checked before it is parsed.
    pub json_limits: crate::xapi::json::JsonLimits,
    /// Most bytes of statements in one query page; `more` carries the rest.
    pub page_bytes: usize,
}

/// Default of [`LrsConfig::page_bytes`]: 8 MiB holds 500 statements of up to 16 KiB, far above typical
/// ones, while a page of statements near the 1 MiB limit stays a few MiB in memory.
pub const DEFAULT_PAGE_BYTES: usize = 8 << 20;

/// The LRS: the store, the compiled validator and the credential cache, shared by all requests.
#[derive(Clone)]
pub struct Lrs {
    pub store: Store,
    pub validator: Arc<Validator>,
    pub config: Arc<LrsConfig>,
    pub auth: Arc<auth::AuthCache>,
    /// Keep derived results current as statements arrive (on by default; off only to measure what
    /// that maintenance costs, after which `rebuild_results` brings results up to date).
    pub maintain_results: bool,
}

impl Lrs {
    pub fn new(store: Store, config: LrsConfig) -> Lrs {
        Lrs {
            store,
            validator: Arc::new(Validator::new()),
            config: Arc::new(config),
            auth: Arc::new(auth::AuthCache::default()),
            maintain_results: true,
        }
    }

    /// The same LRS without incremental results maintenance (for benchmarks).
    pub fn without_results_maintenance(mut self) -> Lrs {
        self.maintain_results = false;
        self
    }
}

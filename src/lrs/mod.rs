//! The xAPI core: storing and querying statements, documents, identities and credentials. Pure
//! orchestration of xAPI rules (from [`crate::xapi`]) and store transactions; no HTTP, no SQL. It knows
//! nothing of courses, launches or results: the learning-management side (the `lms` module) plugs into
//! its two seams ([`seams::Hooks`]: a guard and an observer) and calls it like any client.

pub mod auth;
pub mod documents;
pub mod error;
pub mod identity;
pub mod intake;
pub mod persons;
pub mod ratelimit;
pub mod seams;
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
    /// Most statements per query page.
    pub page_limit: usize,
    /// Bounds on client JSON (statements, documents to merge), checked before it is parsed.
    pub json_limits: crate::xapi::json::JsonLimits,
    /// Most bytes of statements in one query page; `more` carries the rest.
    pub page_bytes: usize,
    /// Refuse (400) a 1.0.x PUT that creates an Activity or Agent Profile without `If-Match` or
    /// `If-None-Match`. Off by default: the spec asks a precondition only over an existing document, and
    /// stock 1.0 clients (PyPI `tincan`) create profiles without one; on for a run of the ADL 1.0.3
    /// conformance suite, which expects the refusal (XAPI-00273, Activity Profile "fails without ETag").
    pub profile_create_needs_precondition: bool,
    /// Bytes of statements JSON admitted between parsing and commit at once (see [`intake`]).
    pub statements_in_flight_bytes: usize,
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
    /// The learning-management side's guard and observer, when one is plugged in.
    pub hooks: Option<Arc<dyn seams::Hooks>>,
    /// The budget of statements JSON between parsing and commit (see [`intake`]).
    pub intake: intake::Intake,
}

impl Lrs {
    pub fn new(store: Store, config: LrsConfig) -> Lrs {
        let intake = intake::Intake::new(config.statements_in_flight_bytes);
        Lrs {
            store,
            validator: Arc::new(Validator::new()),
            config: Arc::new(config),
            auth: Arc::new(auth::AuthCache::default()),
            hooks: None,
            intake,
        }
    }
}

//! The two seams the learning-management side (the `lms` module) plugs into at start, so that the xAPI core
//! never calls it by name and every dependency runs one way (lms -> lrs):
//! - a **guard** that may refuse what a restricted credential (a launch's) does, past the core's own
//!   checks, and that issues those credentials in the first place;
//! - an **observer** that sees stored statements inside the write (rows to commit with them) and after
//!   commit (work that follows them, such as deriving results).
//!
//! Statements the learning-management side writes itself go through [`Lrs::store_statements`] like any
//! client's.

use crate::xapi::view::View;
use std::collections::BTreeSet;

use futures_util::future::BoxFuture;

use super::auth::{AuthError, Principal};
use super::documents::DocParams;
use super::error::Result;
use super::Lrs;
use crate::store::{FactLink, FactRow};

/// What a write touched (each learner's facts about each activity), each once, in order.
pub type Touched = BTreeSet<FactLink>;

/// What the observer makes of a write: rows committed with the statements, and the pairs to follow up.
#[derive(Debug, Default)]
pub struct Observation {
    pub rows: Vec<FactRow>,
    pub touched: Touched,
}

/// The learning-management side, as the core sees it. Every method gets the core, so the implementor
/// holds no reference back to it.
pub trait Hooks: Send + Sync {
    /// Scopes the learning-management side adds to the core's, for its own endpoints.
    fn scopes(&self) -> &'static [&'static str] {
        &[]
    }

    /// A credential the core does not store (a launch's): its principal, or why not.
    fn credential<'a>(
        &'a self,
        core: &'a Lrs,
        key: &'a str,
        secret: &'a str,
    ) -> BoxFuture<'a, std::result::Result<Principal, AuthError>>;

    /// Guard: may refuse statements a restricted credential sends (after the core checked them against
    /// the restriction), e.g. by the session rules of the content's format.
    fn check_statements<'a>(
        &'a self,
        core: &'a Lrs,
        who: &'a Principal,
        statements: &'a [View<'a>],
    ) -> BoxFuture<'a, Result<()>>;

    /// Guard: may refuse a restricted credential's document access (after the core's own checks).
    fn check_documents<'a>(
        &'a self,
        core: &'a Lrs,
        who: &'a Principal,
        p: &'a DocParams,
        write: bool,
    ) -> BoxFuture<'a, Result<()>>;

    /// Observer, inside the write: `stored` are the statements about to be stored (voiding ones
    /// excluded), `voided` the ids the voiding ones target. The rows are committed with them.
    fn observe<'a>(
        &'a self,
        core: &'a Lrs,
        who: &'a Principal,
        stored: Vec<View<'a>>,
        voided: &'a [String],
    ) -> BoxFuture<'a, Result<Observation>>;

    /// Observer, after commit. The statements are durable whatever this answers.
    fn committed<'a>(&'a self, core: &'a Lrs, touched: Touched) -> BoxFuture<'a, Result<()>>;
}

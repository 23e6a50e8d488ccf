//! The learning-management side's guard and observer, as the xAPI core calls them (see
//! [`crate::lrs::seams`]): launch credentials and their session rules, and results maintenance.

use crate::xapi::view::View;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;

use super::{Lms, LmsConfig};
use crate::lrs::auth::{AuthError, Principal};
use crate::lrs::documents::DocParams;
use crate::lrs::error::Result;
use crate::lrs::seams::{Hooks, Observation, Touched};
use crate::lrs::Lrs;
use crate::results::facts::LaunchScope;

pub(super) struct LmsHooks {
    pub settings: Arc<LmsConfig>,
}

impl Hooks for LmsHooks {
    fn scopes(&self) -> &'static [&'static str] {
        &[super::launch::LAUNCH_SCOPE]
    }

    fn credential<'a>(
        &'a self,
        core: &'a Lrs,
        key: &'a str,
        secret: &'a str,
    ) -> BoxFuture<'a, std::result::Result<Principal, AuthError>> {
        async move { Lms::of(core, &self.settings).launch_principal(key, secret).await }.boxed()
    }

    fn check_statements<'a>(
        &'a self,
        core: &'a Lrs,
        who: &'a Principal,
        statements: &'a [View<'a>],
    ) -> BoxFuture<'a, Result<()>> {
        async move { Lms::of(core, &self.settings).check_launch_statements(who, statements).await }.boxed()
    }

    fn check_documents<'a>(
        &'a self,
        core: &'a Lrs,
        who: &'a Principal,
        p: &'a DocParams,
        write: bool,
    ) -> BoxFuture<'a, Result<()>> {
        async move { Lms::of(core, &self.settings).check_launch_documents(who, p, write).await }.boxed()
    }

    /// Results facts, committed with their statements; a launch's carry what they may count toward.
    fn observe<'a>(
        &'a self,
        core: &'a Lrs,
        who: &'a Principal,
        stored: Vec<View<'a>>,
        voided: &'a [String],
    ) -> BoxFuture<'a, Result<Observation>> {
        async move {
            if !self.settings.maintain_results {
                return Ok(Observation::default());
            }
            let lms = Lms::of(core, &self.settings);
            let scope = who.restricted.as_ref().and_then(|r| r.issuer.downcast_ref::<LaunchScope>());
            let (rows, mut touched) = lms.new_facts(stored.into_iter(), scope)?;
            if !voided.is_empty() {
                touched.extend(lms.voided_fact_links(voided).await?);
            }
            Ok(Observation { rows, touched })
        }
        .boxed()
    }

    /// Re-derives the results the write touched (and writes the cmi5 `satisfied` statements due).
    fn committed<'a>(&'a self, core: &'a Lrs, touched: Touched) -> BoxFuture<'a, Result<()>> {
        async move {
            if !self.settings.maintain_results || touched.is_empty() {
                return Ok(());
            }
            Lms::of(core, &self.settings).results_after_store(touched).await
        }
        .boxed()
    }
}

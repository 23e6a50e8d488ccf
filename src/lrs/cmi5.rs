//! cmi5 launch and session rules (the cmi5 specification, AICC/CMI-5_Spec_Current). No HTTP here.

use serde_json::Value;

use super::error::Result;
use super::Lrs;
use crate::package::Module;
use crate::store::LaunchRow;

impl Lrs {
    /// What the LMS does before launching an AU.
    pub(crate) async fn cmi5_before_launch(
        &self,
        _l: &LaunchRow,
        _module: &Module,
        _launch_url: &str,
        _return_url: Option<&str>,
    ) -> Result<()> {
        Ok(())
    }

    /// Records that a session ended without `terminated`.
    pub(crate) async fn cmi5_abandoned(&self, _l: &LaunchRow) -> Result<()> {
        Ok(())
    }

    /// Applies the session rules to statements an AU sends; the session's next state.
    pub(crate) async fn cmi5_check(&self, _l: &LaunchRow, _statements: &[Value]) -> Result<Option<&'static str>> {
        Ok(None)
    }
}

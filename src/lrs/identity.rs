//! The Activities and Agents resources: the canonical Activity the LRS has merged from statements, and
//! the Person object for an agent.

use serde_json::{json, Value};

use super::auth::Principal;
use super::error::Result;
use super::{Lrs, LrsError};
use crate::xapi::Version;

fn single<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str> {
    if let Some((k, _)) = params.iter().find(|(k, _)| k != name) {
        return Err(LrsError::BadRequest(format!("unknown parameter {k:?}; this resource takes only {name}")));
    }
    match params {
        [(_, v)] => Ok(v),
        [] => Err(LrsError::BadRequest(format!("parameter {name} is required"))),
        _ => Err(LrsError::BadRequest(format!("parameter {name} given more than once"))),
    }
}

impl Lrs {
    /// The canonical Activity for `activityId`. Unknown ids: 404 under 1.0.3; under 2.0 the Activity
    /// with just its id, as the 2.0 standard asks.
    pub async fn activity(&self, params: &[(String, String)], version: Version) -> Result<Value> {
        let id = single(params, "activityId")?;
        iri_string::types::IriStr::new(id)
            .map_err(|_| LrsError::BadRequest(format!("parameter activityId must be an IRI, got {id:?}")))?;
        match self.store.activity(id).await? {
            Some(a) => Ok(a),
            None if version.is_v2() => Ok(json!({"objectType": "Activity", "id": id})),
            None => Err(LrsError::NotFound(format!("no activity {id} is known"))),
        }
    }

    /// The Person object for an Agent: every identifier of the person it belongs to and what
    /// statements showed of them, plus the agent as asked. A launch credential asks about its own
    /// learner only (content must not look up other learners) and sees that identifier alone.
    pub async fn person(&self, who: &Principal, params: &[(String, String)], version: Version) -> Result<Value> {
        let text = single(params, "agent")?;
        let (asked, key) = self.parse_agent_param("agent", text, version)?;
        if who.restricted.as_ref().is_some_and(|g| g.agent_key != key) {
            return Err(LrsError::Forbidden("a launch credential can look up its own learner only".into()));
        }
        if asked.get("objectType").and_then(Value::as_str) == Some("Group") {
            return Err(LrsError::BadRequest("parameter agent must be an Agent; Groups have no Person object".into()));
        }
        self.person_object(&asked, &key, who.restricted.is_some()).await
    }
}

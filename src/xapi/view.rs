//! A typed view of a statement: the parts later layers decide on (who, what verb, about what, in
//! which registration and context, with which result), read once where the statement is parsed
//! instead of each layer walking its JSON again. [`crate::xapi::validate::Validator::statement`]
//! answers one for every statement it accepts; [`View::of`] builds one from any JSON (a stored body,
//! a test's statement), reading what is there and leaving out what is not.

use serde_json::{Map, Value};

use super::agent;

/// What a statement's `object` is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Object<'a> {
    /// An Activity (`objectType` absent or `Activity`), by its id.
    Activity(&'a str),
    Agent(&'a Value),
    Group(&'a Value),
    /// A StatementRef, by the id it refers to.
    StatementRef(&'a str),
    SubStatement(&'a Value),
    /// Missing or malformed (only in JSON that was never validated).
    Other,
}

/// The ids of `context.contextActivities`, per list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContextActivities<'a> {
    pub parent: Vec<&'a str>,
    pub grouping: Vec<&'a str>,
    pub category: Vec<&'a str>,
    pub other: Vec<&'a str>,
}

impl<'a> ContextActivities<'a> {
    /// Every id, list by list.
    pub fn all(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.parent.iter().chain(&self.grouping).chain(&self.category).chain(&self.other).copied()
    }
}

/// A statement's `result.score`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Score {
    pub scaled: Option<f64>,
    pub raw: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// The parts of a statement later layers read.
#[derive(Debug, Clone)]
pub struct View<'a> {
    /// The whole statement, for what the view does not name (signatures, extensions of other profiles).
    pub json: &'a Value,
    pub id: Option<&'a str>,
    pub actor: &'a Value,
    /// The actor's key (`xapi::agent::key`), None for an anonymous Group or a malformed actor.
    pub actor_key: Option<String>,
    pub actor_is_group: bool,
    pub verb: &'a str,
    pub object: Object<'a>,
    /// `context.registration`, lower-cased (UUIDs compare case-insensitively).
    pub registration: Option<String>,
    pub context_activities: ContextActivities<'a>,
    context_extensions: Option<&'a Map<String, Value>>,
    pub completion: Option<bool>,
    pub success: Option<bool>,
    pub score: Score,
    /// Whether `result.score` is there at all (cmi5 forbids it on some verbs, whatever it holds).
    pub has_score: bool,
    /// `result.duration`, as written (ISO 8601).
    pub duration: Option<&'a str>,
    result_extensions: Option<&'a Map<String, Value>>,
    pub timestamp: Option<&'a str>,
    pub stored: Option<&'a str>,
}

fn ids(list: Option<&Value>) -> Vec<&str> {
    match list {
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.get("id").and_then(Value::as_str)).collect(),
        // xAPI 1.0.0 allowed a single object; 1.0.3 statements carry arrays.
        Some(one @ Value::Object(_)) => one.get("id").and_then(Value::as_str).into_iter().collect(),
        _ => Vec::new(),
    }
}

impl<'a> View<'a> {
    /// Reads a statement; never fails (what is missing reads as None, empty or [`Object::Other`]).
    pub fn of(json: &'a Value) -> View<'a> {
        static NULL: Value = Value::Null;
        let str_at = |p: &str| json.pointer(p).and_then(Value::as_str);
        let actor = json.get("actor").unwrap_or(&NULL);
        let object = match json.get("object") {
            Some(o) => match o.get("objectType").and_then(Value::as_str) {
                None | Some("Activity") => o.get("id").and_then(Value::as_str).map_or(Object::Other, Object::Activity),
                Some("Agent") => Object::Agent(o),
                Some("Group") => Object::Group(o),
                Some("StatementRef") => o.get("id").and_then(Value::as_str).map_or(Object::Other, Object::StatementRef),
                Some("SubStatement") => Object::SubStatement(o),
                Some(_) => Object::Other,
            },
            None => Object::Other,
        };
        let ca = json.pointer("/context/contextActivities");
        let list = |name: &str| ids(ca.and_then(|c| c.get(name)));
        let result = json.get("result");
        let num = |p: &str| result.and_then(|r| r.pointer(p)).and_then(Value::as_f64);
        View {
            json,
            id: str_at("/id"),
            actor,
            actor_key: agent::key(actor),
            actor_is_group: actor.get("objectType").and_then(Value::as_str) == Some("Group"),
            verb: str_at("/verb/id").unwrap_or(""),
            object,
            registration: str_at("/context/registration").map(str::to_ascii_lowercase),
            context_activities: ContextActivities {
                parent: list("parent"),
                grouping: list("grouping"),
                category: list("category"),
                other: list("other"),
            },
            context_extensions: json.pointer("/context/extensions").and_then(Value::as_object),
            completion: result.and_then(|r| r.get("completion")).and_then(Value::as_bool),
            success: result.and_then(|r| r.get("success")).and_then(Value::as_bool),
            score: Score {
                scaled: num("/score/scaled"),
                raw: num("/score/raw"),
                min: num("/score/min"),
                max: num("/score/max"),
            },
            has_score: result.is_some_and(|r| r.get("score").is_some()),
            duration: result.and_then(|r| r.get("duration")).and_then(Value::as_str),
            result_extensions: result.and_then(|r| r.get("extensions")).and_then(Value::as_object),
            timestamp: str_at("/timestamp"),
            stored: str_at("/stored"),
        }
    }

    /// The id of the object when it is an Activity.
    pub fn activity_id(&self) -> Option<&'a str> {
        match self.object {
            Object::Activity(id) => Some(id),
            _ => None,
        }
    }

    /// A `context.extensions` value.
    pub fn context_extension(&self, iri: &str) -> Option<&'a Value> {
        self.context_extensions.and_then(|e| e.get(iri))
    }

    /// A `result.extensions` value.
    pub fn result_extension(&self, iri: &str) -> Option<&'a Value> {
        self.result_extensions.and_then(|e| e.get(iri))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_the_parts_later_layers_decide_on() {
        let s = json!({
            "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
            "actor": {"mbox": "mailto:a@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
            "object": {"id": "http://example.com/a"},
            "context": {"registration": "EC531277-B57B-4C15-8D91-D292C5B2B8F7",
                "contextActivities": {"parent": [{"id": "http://example.com/p"}], "category": {"id": "http://example.com/c"}},
                "extensions": {"http://example.com/x": 1}},
            "result": {"success": true, "score": {"scaled": 0.8}, "duration": "PT1M", "extensions": {"http://example.com/y": 2}},
        });
        let v = View::of(&s);
        assert_eq!(v.actor_key.as_deref(), Some("Agent|mbox:mailto:a@example.com"));
        assert_eq!(v.verb, "http://adlnet.gov/expapi/verbs/passed");
        assert_eq!(v.activity_id(), Some("http://example.com/a"));
        assert_eq!(v.registration.as_deref(), Some("ec531277-b57b-4c15-8d91-d292c5b2b8f7"));
        assert_eq!(v.context_activities.all().collect::<Vec<_>>(), ["http://example.com/p", "http://example.com/c"]);
        assert_eq!((v.success, v.completion, v.score.scaled, v.duration), (Some(true), None, Some(0.8), Some("PT1M")));
        assert_eq!(v.context_extension("http://example.com/x"), Some(&json!(1)));
        assert_eq!(v.result_extension("http://example.com/y"), Some(&json!(2)));
    }

    #[test]
    fn what_is_missing_reads_as_nothing() {
        let s = json!({"object": {"objectType": "StatementRef", "id": "x"}});
        let v = View::of(&s);
        assert_eq!((v.actor_key, v.verb, v.object), (None, "", Object::StatementRef("x")));
        assert!(v.context_activities.all().next().is_none());
    }
}

//! Preparing a validated statement for storage: the properties the LRS sets (`id`, `stored`,
//! `authority`, `version`, a missing `timestamp`), the normalisations the spec asks for, and the index
//! keys the store files it under.

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::{agent, Version, VOIDED_VERB};
use crate::xapi::timestamp;

/// What the LRS adds to every statement it stores.
pub struct StoreContext<'a> {
    pub version: Version,
    pub stored: OffsetDateTime,
    pub authority: &'a Value,
}

/// A statement ready for the store.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub id: String,
    pub body: Value,
    pub is_voiding: bool,
    pub object_ref: Option<String>,
    pub index: Vec<(char, String)>,
    pub activities: Vec<(String, Value)>,
    pub agents: Vec<(String, Value)>,
    pub attachments: Vec<String>,
    /// Whether the client sent a `timestamp` (otherwise the stored one is the LRS's): see [`as_received`].
    pub client_timestamp: bool,
}

/// Turns a prepared (stored-form) statement back into what the comparison rules need of the one
/// the client sent: they ignore the LRS's other additions anyway, so only a `timestamp` the LRS
/// filled in goes. Keeping this flag instead of a copy of every received statement costs nothing
/// on the common path (ids not stored yet).
pub fn as_received(stored_form: &mut Value, client_timestamp: bool) {
    if !client_timestamp {
        if let Some(o) = stored_form.as_object_mut() {
            o.remove("timestamp");
        }
    }
}

/// Index kinds; see the `statement_index` table.
pub mod kind {
    pub const AGENT: char = 'A';
    pub const AGENT_RELATED: char = 'a';
    pub const VERB: char = 'V';
    pub const ACTIVITY: char = 'C';
    pub const ACTIVITY_RELATED: char = 'c';
    pub const REGISTRATION: char = 'R';
}

/// Normalises a statement in place: `contextActivities` values become arrays, ids lower-case.
/// Used for storage and for comparing a re-sent statement with the stored one.
pub fn normalise(stmt: &mut Value) {
    if let Some(obj) = stmt.as_object_mut() {
        if let Some(Value::String(id)) = obj.get_mut("id") {
            *id = id.to_ascii_lowercase();
        }
        normalise_context(obj.get_mut("context"));
        if let Some(sub) = obj.get_mut("object") {
            if sub.get("objectType").and_then(Value::as_str) == Some("SubStatement") {
                if let Some(so) = sub.as_object_mut() {
                    normalise_context(so.get_mut("context"));
                }
            }
        }
    }
}

fn normalise_context(ctx: Option<&mut Value>) {
    let Some(ca) = ctx.and_then(|c| c.get_mut("contextActivities")).and_then(Value::as_object_mut) else { return };
    for (_, v) in ca.iter_mut() {
        if v.is_object() {
            *v = Value::Array(vec![v.take()]);
        }
    }
}

/// Sets the LRS-owned properties and computes the index rows. `stmt` must already be valid.
pub fn prepare(stmt: Map<String, Value>, ctx: &StoreContext<'_>) -> Prepared {
    let mut stmt = Value::Object(stmt);
    normalise(&mut stmt);
    let stored = timestamp::format_timestamp(ctx.stored);
    let Value::Object(obj) = &mut stmt else { unreachable!("built as an object above") };
    let id = match obj.get("id").and_then(Value::as_str) {
        Some(id) => id.to_string(),
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            obj.insert("id".into(), json!(id));
            id
        }
    };
    let client_timestamp = obj.contains_key("timestamp");
    // 2.0 stores timestamps normalised to UTC (same instant, same precision); a missing timestamp is
    // the stored time (both versions).
    match obj.get("timestamp").and_then(Value::as_str).map(timestamp::parse_timestamp) {
        Some(Ok(t)) if ctx.version.is_v2() => {
            obj.insert("timestamp".into(), json!(timestamp::format_timestamp_precise(t)));
        }
        Some(_) => {}
        None => {
            obj.insert("timestamp".into(), json!(stored));
        }
    }
    obj.insert("stored".into(), json!(stored));
    obj.insert("authority".into(), ctx.authority.clone());
    if !obj.contains_key("version") {
        let v = if ctx.version.is_v2() { "2.0.0" } else { "1.0.0" };
        obj.insert("version".into(), json!(v));
    }

    let mut index = Vec::new();
    let mut activities = Vec::new();
    let mut agents = Vec::new();
    let verb = obj.get("verb").and_then(|v| v.get("id")).and_then(Value::as_str).unwrap_or_default();
    index.push((kind::VERB, verb.to_string()));
    let is_voiding = verb == VOIDED_VERB;

    if let Some(actor) = obj.get("actor") {
        add_agent(actor, true, &mut index);
        note_person(actor, &mut agents);
    }
    let mut object_ref = None;
    if let Some(object) = obj.get("object") {
        match object.get("objectType").and_then(Value::as_str) {
            Some("Agent") | Some("Group") => {
                add_agent(object, true, &mut index);
                note_person(object, &mut agents);
            }
            Some("StatementRef") => {
                object_ref = object.get("id").and_then(Value::as_str).map(str::to_ascii_lowercase);
            }
            Some("SubStatement") => {
                if let Some(a) = object.get("actor") {
                    add_agent(a, false, &mut index);
                }
                if let Some(o) = object.get("object") {
                    match o.get("objectType").and_then(Value::as_str) {
                        Some("Agent") | Some("Group") => add_agent(o, false, &mut index),
                        Some("StatementRef") => {}
                        _ => add_activity(o, false, &mut index, &mut activities),
                    }
                }
                add_context(object.get("context"), &mut index, &mut activities);
            }
            _ => add_activity(object, true, &mut index, &mut activities),
        }
    }
    add_context(obj.get("context"), &mut index, &mut activities);
    if let Some(reg) = obj.get("context").and_then(|c| c.get("registration")).and_then(Value::as_str) {
        index.push((kind::REGISTRATION, reg.to_ascii_lowercase()));
    }
    if let Some(auth) = obj.get("authority") {
        add_agent(auth, false, &mut index);
    }
    let attachments = obj
        .get("attachments")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.get("sha2").and_then(Value::as_str).map(str::to_ascii_lowercase)).collect())
        .unwrap_or_default();
    index.sort();
    index.dedup();
    Prepared { id, body: stmt, is_voiding, object_ref, index, activities, agents, attachments, client_timestamp }
}

/// Files an agent under its key: as actor/object (`direct`) it matches `agent=`, always `related_agents`.
/// A Group's members (identified Group or anonymous) are filed the same way as the Group itself:
/// xAPI 1.0.3 Communication 2.1.3 says the `agent` filter matches a Group that lists the agent as a
/// member, and `related_agents` only widens where it looks. Filing them here keeps every agent query
/// one index probe, and a StatementRef referrer inherits these rows like any other.
fn add_agent(a: &Value, direct: bool, index: &mut Vec<(char, String)>) {
    let mut file = |k: String| {
        if direct {
            index.push((kind::AGENT, k.clone()));
        }
        index.push((kind::AGENT_RELATED, k));
    };
    if let Some(k) = agent::key(a) {
        file(k);
    }
    if let Some(members) = a.get("member").and_then(Value::as_array) {
        for m in members {
            if let Some(k) = agent::key(m) {
                file(k);
            }
        }
    }
}

fn note_person(a: &Value, agents: &mut Vec<(String, Value)>) {
    if a.get("objectType").and_then(Value::as_str) == Some("Group") {
        return;
    }
    if let Some(k) = agent::key(a) {
        agents.push((k, agent::person_from_agent(a)));
    }
}

fn add_activity(a: &Value, direct: bool, index: &mut Vec<(char, String)>, activities: &mut Vec<(String, Value)>) {
    let Some(id) = a.get("id").and_then(Value::as_str) else { return };
    if direct {
        index.push((kind::ACTIVITY, id.to_string()));
    }
    index.push((kind::ACTIVITY_RELATED, id.to_string()));
    let mut canonical = Map::new();
    canonical.insert("objectType".into(), json!("Activity"));
    canonical.insert("id".into(), json!(id));
    if let Some(def) = a.get("definition") {
        canonical.insert("definition".into(), def.clone());
    }
    activities.push((id.to_string(), Value::Object(canonical)));
}

fn add_context(ctx: Option<&Value>, index: &mut Vec<(char, String)>, activities: &mut Vec<(String, Value)>) {
    let Some(ctx) = ctx else { return };
    for p in ["instructor", "team"] {
        if let Some(a) = ctx.get(p) {
            add_agent(a, false, index);
        }
    }
    for (list, field) in [("contextAgents", "agent"), ("contextGroups", "group")] {
        for item in ctx.get(list).and_then(Value::as_array).into_iter().flatten() {
            if let Some(a) = item.get(field) {
                add_agent(a, false, index);
            }
        }
    }
    if let Some(ca) = ctx.get("contextActivities").and_then(Value::as_object) {
        for v in ca.values() {
            for act in v.as_array().into_iter().flatten() {
                add_activity(act, false, index, activities);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn ctx(auth: &Value) -> StoreContext<'_> {
        StoreContext { version: Version::V1_0_3, stored: OffsetDateTime::UNIX_EPOCH, authority: auth }
    }

    #[test]
    fn lrs_sets_id_stored_authority_version_and_timestamp() {
        let auth = json!({"objectType": "Agent", "account": {"homePage": "http://h", "name": "k"}});
        let p = prepare(
            obj(
                json!({"actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://v/x"}, "object": {"id": "http://a/1"}}),
            ),
            &ctx(&auth),
        );
        assert_eq!(p.body["stored"], json!("1970-01-01T00:00:00.000Z"));
        assert_eq!(p.body["timestamp"], p.body["stored"]);
        assert_eq!(p.body["version"], json!("1.0.0"));
        assert_eq!(p.body["authority"], auth);
        assert!(uuid::Uuid::parse_str(&p.id).is_ok());
    }

    #[test]
    fn context_activities_become_arrays() {
        let mut s = json!({"context": {"contextActivities": {"parent": {"id": "http://p"}}}});
        normalise(&mut s);
        assert_eq!(s["context"]["contextActivities"]["parent"], json!([{"id": "http://p"}]));
    }

    #[test]
    fn index_covers_actor_verb_object_context_and_registration() {
        let auth = json!({"mbox": "mailto:auth@example.com"});
        let p = prepare(
            obj(
                json!({"actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://v/x"}, "object": {"id": "http://a/1"},
                   "context": {"registration": "6F1E2A34-8d9c-4b9e-9a3e-5b3d1c3a2b10", "instructor": {"mbox": "mailto:i@example.com"},
                               "contextActivities": {"parent": [{"id": "http://p"}]}}}),
            ),
            &ctx(&auth),
        );
        let has = |k: char, v: &str| p.index.contains(&(k, v.to_string()));
        assert!(has(kind::AGENT, "Agent|mbox:mailto:a@example.com"));
        assert!(has(kind::AGENT_RELATED, "Agent|mbox:mailto:i@example.com"));
        assert!(!has(kind::AGENT, "Agent|mbox:mailto:i@example.com"));
        assert!(has(kind::ACTIVITY, "http://a/1"));
        assert!(has(kind::ACTIVITY_RELATED, "http://p"));
        assert!(!has(kind::ACTIVITY, "http://p"));
        assert!(has(kind::REGISTRATION, "6f1e2a34-8d9c-4b9e-9a3e-5b3d1c3a2b10"));
        assert!(has(kind::VERB, "http://v/x"));
    }

    #[test]
    fn group_members_are_filed_where_their_group_is() {
        let auth = json!({"mbox": "mailto:auth@example.com"});
        let m = |n: &str| json!({"mbox": format!("mailto:{n}@example.com")});
        let p = prepare(
            obj(json!({"actor": {"objectType": "Group", "member": [m("a")]}, "verb": {"id": "http://v/x"},
                   "object": {"objectType": "Group", "mbox": "mailto:g@example.com", "member": [m("b")]},
                   "context": {"team": {"objectType": "Group", "member": [m("c")]}}})),
            &ctx(&auth),
        );
        let has = |k: char, v: &str| p.index.contains(&(k, v.to_string()));
        for n in ["a", "b"] {
            assert!(has(kind::AGENT, &format!("Agent|mbox:mailto:{n}@example.com")));
            assert!(has(kind::AGENT_RELATED, &format!("Agent|mbox:mailto:{n}@example.com")));
        }
        assert!(has(kind::AGENT, "Group|mbox:mailto:g@example.com"));
        assert!(!has(kind::AGENT, "Agent|mbox:mailto:c@example.com"));
        assert!(has(kind::AGENT_RELATED, "Agent|mbox:mailto:c@example.com"));
    }
}

//! The statement formats of GET /statements: `exact` (as stored), `ids` (agents, groups, activities
//! and verbs reduced to their identifiers) and `canonical` (language maps reduced to the client's
//! language, activity definitions replaced by the LRS's canonical ones).

use serde_json::{Map, Value};

use super::{agent, langmap, Version};

/// A requested format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Exact,
    Ids,
    Canonical,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "exact" => Some(Format::Exact),
            "ids" => Some(Format::Ids),
            "canonical" => Some(Format::Canonical),
            _ => None,
        }
    }
}

/// A stored statement in the form of the version a client reads it under. A 1.0.x client never sees
/// 2.0-only properties: `context.contextAgents` and `context.contextGroups` are left out (in a
/// SubStatement too), and a `version` outside 1.0 becomes `1.0.0`, the version xAPI 1.0.3 (Data 2.4.10)
/// gives a statement that names none, since a 1.0 statement's version must start with `1.0.`. A 2.0
/// client reads every statement as stored.
pub fn for_version(stmt: &mut Value, version: Version) {
    if version.is_v2() {
        return;
    }
    let Some(o) = stmt.as_object_mut() else { return };
    if o.get("version").and_then(Value::as_str).is_some_and(|v| !v.starts_with("1.0")) {
        o.insert("version".into(), Value::String("1.0.0".into()));
    }
    if let Some(ctx) = o.get_mut("context").and_then(Value::as_object_mut) {
        ctx.remove("contextAgents");
        ctx.remove("contextGroups");
    }
    if let Some(sub) =
        o.get_mut("object").filter(|obj| obj.get("objectType").and_then(Value::as_str) == Some("SubStatement"))
    {
        for_version(sub, version);
    }
}

/// Reduces a stored statement to the `ids` format.
pub fn ids(stmt: &mut Value) {
    let Some(o) = stmt.as_object_mut() else { return };
    for p in ["actor", "authority"] {
        if let Some(a) = o.get_mut(p) {
            *a = agent::ids_form(a);
        }
    }
    if let Some(v) = o.get_mut("verb") {
        if let Some(id) = v.get("id").cloned() {
            let mut m = Map::new();
            m.insert("id".into(), id);
            *v = Value::Object(m);
        }
    }
    if let Some(obj) = o.get_mut("object") {
        match obj.get("objectType").and_then(Value::as_str) {
            Some("Agent") | Some("Group") => *obj = agent::ids_form(obj),
            Some("SubStatement") => ids(obj),
            Some("StatementRef") => {}
            _ => *obj = activity_ids(obj),
        }
    }
    if let Some(ctx) = o.get_mut("context").and_then(Value::as_object_mut) {
        for p in ["instructor", "team"] {
            if let Some(a) = ctx.get_mut(p) {
                *a = agent::ids_form(a);
            }
        }
        for (list, field) in [("contextAgents", "agent"), ("contextGroups", "group")] {
            for item in ctx.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
                if let Some(a) = item.get_mut(field) {
                    *a = agent::ids_form(a);
                }
            }
        }
        if let Some(ca) = ctx.get_mut("contextActivities").and_then(Value::as_object_mut) {
            for (_, list) in ca.iter_mut() {
                for act in list.as_array_mut().into_iter().flatten() {
                    *act = activity_ids(act);
                }
            }
        }
    }
}

fn activity_ids(a: &Value) -> Value {
    let mut m = Map::new();
    if let Some(id) = a.get("id") {
        m.insert("id".into(), id.clone());
    }
    Value::Object(m)
}

/// Applies the `canonical` format: `lookup` returns the LRS's canonical Activity for an id (if it has
/// one); every language map is then reduced to the best language for `prefs`.
pub fn canonical(stmt: &mut Value, prefs: &[String], lookup: &dyn Fn(&str) -> Option<Value>) {
    replace_activities(stmt, lookup);
    filter_language_maps(stmt, prefs);
}

fn replace_activities(stmt: &mut Value, lookup: &dyn Fn(&str) -> Option<Value>) {
    let Some(o) = stmt.as_object_mut() else { return };
    if let Some(obj) = o.get_mut("object") {
        match obj.get("objectType").and_then(Value::as_str) {
            Some("SubStatement") => replace_activities(obj, lookup),
            None | Some("Activity") => replace_one(obj, lookup),
            _ => {}
        }
    }
    if let Some(ca) = o.get_mut("context").and_then(|c| c.get_mut("contextActivities")).and_then(Value::as_object_mut) {
        for (_, list) in ca.iter_mut() {
            for act in list.as_array_mut().into_iter().flatten() {
                replace_one(act, lookup);
            }
        }
    }
}

fn replace_one(act: &mut Value, lookup: &dyn Fn(&str) -> Option<Value>) {
    let Some(id) = act.get("id").and_then(Value::as_str) else { return };
    if let Some(def) = lookup(id).and_then(|c| c.get("definition").cloned()) {
        if let Some(o) = act.as_object_mut() {
            o.insert("definition".into(), def);
        }
    }
}

/// Language-map properties: every `display`, `name` and `description` object.
fn filter_language_maps(v: &mut Value, prefs: &[String]) {
    match v {
        Value::Object(o) => {
            for (k, child) in o.iter_mut() {
                let is_map = matches!(k.as_str(), "display" | "name" | "description");
                match child {
                    Value::Object(m) if is_map && m.values().all(Value::is_string) => {
                        *m = langmap::filter(m, prefs);
                    }
                    // Extensions hold arbitrary client JSON: never rewrite inside them.
                    _ if k == "extensions" => {}
                    _ => filter_language_maps(child, prefs),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| filter_language_maps(i, prefs)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_format_keeps_only_identifiers() {
        let mut s = json!({"actor": {"objectType": "Agent", "name": "A", "mbox": "mailto:a@example.com"},
                           "verb": {"id": "http://v", "display": {"en": "did"}},
                           "object": {"objectType": "Activity", "id": "http://a", "definition": {"name": {"en": "A"}}}});
        ids(&mut s);
        assert_eq!(s["actor"], json!({"objectType": "Agent", "mbox": "mailto:a@example.com"}));
        assert_eq!(s["verb"], json!({"id": "http://v"}));
        assert_eq!(s["object"], json!({"id": "http://a"}));
    }

    #[test]
    fn canonical_format_filters_languages() {
        let mut s = json!({"verb": {"id": "http://v", "display": {"en-US": "did", "fr-FR": "a fait"}},
                           "object": {"id": "http://a", "definition": {"name": {"en-US": "A", "fr-FR": "Un"}}}});
        canonical(&mut s, &["fr-fr".to_string()], &|_| None);
        assert_eq!(s["verb"]["display"], json!({"fr-FR": "a fait"}));
        assert_eq!(s["object"]["definition"]["name"], json!({"fr-FR": "Un"}));
    }
}

//! Canonical Activity definitions: the LRS keeps one definition per activity id, merged from the
//! statements it stores. Later definitions win property by property, and language maps are merged
//! key by key so a statement in one language does not erase another language's text.

use serde_json::{Map, Value};

/// Language-map properties of a definition that merge per language.
const LANGUAGE_MAPS: [&str; 2] = ["name", "description"];

/// Merges `new` (a full Activity object) over `old`.
pub fn merge_values(old: &Value, new: &Value) -> Value {
    let mut out = old.as_object().cloned().unwrap_or_default();
    let Some(new_obj) = new.as_object() else { return Value::Object(out) };
    for (k, v) in new_obj {
        if k == "definition" {
            let merged = merge_definitions(out.get("definition"), v);
            out.insert(k.clone(), merged);
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

fn merge_definitions(old: Option<&Value>, new: &Value) -> Value {
    let mut out: Map<String, Value> = old.and_then(Value::as_object).cloned().unwrap_or_default();
    let Some(new_obj) = new.as_object() else { return Value::Object(out) };
    for (k, v) in new_obj {
        if LANGUAGE_MAPS.contains(&k.as_str()) || k == "extensions" {
            let mut map = out.get(k).and_then(Value::as_object).cloned().unwrap_or_default();
            if let Some(vm) = v.as_object() {
                for (lang, text) in vm {
                    map.insert(lang.clone(), text.clone());
                }
            }
            out.insert(k.clone(), Value::Object(map));
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// Merges a stored canonical activity (JSON text) with a newly seen one; returns the JSON to store.
pub fn merge_definition(stored: Option<&str>, new: &Value) -> String {
    match stored.and_then(|s| serde_json::from_str::<Value>(s).ok()) {
        Some(old) => merge_values(&old, new).to_string(),
        None => new.to_string(),
    }
}

/// Whether an activity id is one of `roots` or below one (`root/…`, `root#…`, `root?…`): the activity
/// tree a launch may report about. Used by the launch credential's checks and by results, which must
/// agree on it.
pub fn in_tree(roots: &[String], id: &str) -> bool {
    roots.iter().any(|r| {
        id == r
            || id.strip_prefix(r.as_str()).is_some_and(|rest| {
                r.ends_with('/') || rest.starts_with('/') || rest.starts_with('#') || rest.starts_with('?')
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn language_maps_merge_and_later_text_wins() {
        let a = json!({"id": "http://x/a", "objectType": "Activity", "definition": {"name": {"en-US": "One", "fr": "Un"}, "type": "http://t/1"}});
        let b = json!({"id": "http://x/a", "objectType": "Activity", "definition": {"name": {"en-US": "Uno"}, "type": "http://t/2"}});
        let m = merge_values(&a, &b);
        assert_eq!(m["definition"]["name"], json!({"en-US": "Uno", "fr": "Un"}));
        assert_eq!(m["definition"]["type"], json!("http://t/2"));
    }
}

//! Statement comparison: when a client re-sends a statement id the LRS already has, the two are "the
//! same" when they differ only in what the LRS sets (`id` case, `stored`, `authority`, `version`, and
//! a `timestamp` the client left out) or in representation (single context activities vs arrays,
//! default objectTypes, timestamp offsets that denote the same instant, `result.duration` digits
//! beyond 0.01 s, which xAPI 2.0 section 4.2.7 excludes from comparisons).

use serde_json::Value;

use super::{duration, statement, timestamp};

/// True when `received` matches the `stored` statement under the spec's comparison rules.
pub fn same_statement(stored: &Value, received: &Value) -> bool {
    let mut a = stored.clone();
    let mut b = received.clone();
    statement::normalise(&mut a);
    statement::normalise(&mut b);
    let received_has_timestamp = b.get("timestamp").is_some();
    for v in [&mut a, &mut b] {
        if let Some(o) = v.as_object_mut() {
            for p in ["stored", "authority", "version"] {
                o.remove(p);
            }
            if !received_has_timestamp {
                o.remove("timestamp");
            }
        }
        strip_defaults(v);
        comparable_durations(v);
    }
    let (ta, tb) = (take_timestamp(&mut a), take_timestamp(&mut b));
    let same_time = match (ta, tb) {
        (Some(x), Some(y)) => {
            matches!((timestamp::parse_timestamp(&x), timestamp::parse_timestamp(&y)), (Ok(p), Ok(q)) if p == q)
        }
        (None, None) => true,
        _ => false,
    };
    same_time && a == b
}

fn take_timestamp(v: &mut Value) -> Option<String> {
    v.as_object_mut()?.remove("timestamp").and_then(|t| t.as_str().map(str::to_string))
}

/// Cuts `result.duration` (of the statement and of a SubStatement) to its comparable form.
fn comparable_durations(v: &mut Value) {
    for pointer in ["/result/duration", "/object/result/duration"] {
        if let Some(d) = v.pointer_mut(pointer) {
            if let Some(text) = d.as_str() {
                *d = Value::String(duration::comparable(text).into_owned());
            }
        }
    }
}

/// Removes objectType values that are the default for their position, recursively.
fn strip_defaults(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(t)) = o.get("objectType") {
                if t == "Activity" || (t == "Agent" && !o.contains_key("member")) {
                    o.remove("objectType");
                }
            }
            for (_, child) in o.iter_mut() {
                strip_defaults(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_defaults),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({"id": "0b1d3e4a-6c28-4d5e-9a3b-1f2e3d4c5b6a", "actor": {"mbox": "mailto:a@example.com"},
               "verb": {"id": "http://v/x"}, "object": {"id": "http://a/1"},
               "timestamp": "2024-01-01T12:00:00Z", "context": {"contextActivities": {"parent": {"id": "http://p"}}}})
    }

    #[test]
    fn lrs_set_properties_and_representation_do_not_matter() {
        let mut stored = base();
        stored["stored"] = json!("2024-01-02T00:00:00.000Z");
        stored["authority"] = json!({"mbox": "mailto:x@example.com"});
        stored["version"] = json!("1.0.0");
        stored["timestamp"] = json!("2024-01-01T13:00:00+01:00");
        stored["object"]["objectType"] = json!("Activity");
        assert!(same_statement(&stored, &base()));
    }

    #[test]
    fn durations_compare_to_the_hundredth() {
        let mut a = base();
        a["result"] = json!({"duration": "PT1.2345S"});
        let mut b = base();
        b["result"] = json!({"duration": "PT1.23S"});
        assert!(same_statement(&a, &b));
        b["result"]["duration"] = json!("PT1.24S");
        assert!(!same_statement(&a, &b));
    }

    #[test]
    fn different_content_is_not_the_same() {
        let mut other = base();
        other["verb"]["id"] = json!("http://v/y");
        assert!(!same_statement(&base(), &other));
    }
}

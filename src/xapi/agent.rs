//! Agents and Groups: the identity key used for indexing and matching, and the Person object the
//! Agents resource returns.

use serde_json::{json, Map, Value};

/// The properties that identify an Agent or identified Group (its IFI), in the spec's order.
pub const IFI_PROPERTIES: [&str; 4] = ["mbox", "mbox_sha1sum", "openid", "account"];

/// The identity key of an Agent or identified Group: object type plus its single IFI. Two agents match
/// (for the `agent` filter and documents) exactly when their keys are equal: the spec says agents are
/// equal when they use the same IFI and have the same objectType. None for an anonymous Group.
pub fn key(agent: &Value) -> Option<String> {
    let obj = agent.as_object()?;
    let kind = match obj.get("objectType").and_then(Value::as_str) {
        Some("Group") => "Group",
        _ => "Agent",
    };
    let ifi = ifi_of(obj)?;
    Some(format!("{kind}|{ifi}"))
}

/// The IFI part of a key, e.g. `mbox:mailto:a@example.com`.
fn ifi_of(obj: &Map<String, Value>) -> Option<String> {
    if let Some(m) = obj.get("mbox").and_then(Value::as_str) {
        return Some(format!("mbox:{m}"));
    }
    if let Some(m) = obj.get("mbox_sha1sum").and_then(Value::as_str) {
        return Some(format!("sha1:{}", m.to_ascii_lowercase()));
    }
    if let Some(m) = obj.get("openid").and_then(Value::as_str) {
        return Some(format!("openid:{m}"));
    }
    let acc = obj.get("account")?.as_object()?;
    let home = acc.get("homePage")?.as_str()?;
    let name = acc.get("name")?.as_str()?;
    Some(format!("account:{home}|{name}"))
}

/// The Agent (or identified Group) a key stands for, rebuilt from the key alone.
pub fn from_key(key: &str) -> Value {
    let (kind, ifi) = key.split_once('|').unwrap_or(("Agent", key));
    let mut out = Map::new();
    out.insert("objectType".into(), json!(kind));
    if let Some(m) = ifi.strip_prefix("mbox:") {
        out.insert("mbox".into(), json!(m));
    } else if let Some(s) = ifi.strip_prefix("sha1:") {
        out.insert("mbox_sha1sum".into(), json!(s));
    } else if let Some(o) = ifi.strip_prefix("openid:") {
        out.insert("openid".into(), json!(o));
    } else if let Some(a) = ifi.strip_prefix("account:") {
        let (home, name) = a.split_once('|').unwrap_or((a, ""));
        out.insert("account".into(), json!({"homePage": home, "name": name}));
    }
    Value::Object(out)
}

/// A short label for an agent key, as CSV and tables show learners: the mailbox, openid or account.
pub fn label(key: &str) -> String {
    let ifi = key.split_once('|').map(|(_, i)| i).unwrap_or(key);
    ifi.strip_prefix("mbox:mailto:")
        .or_else(|| ifi.strip_prefix("mbox:"))
        .or_else(|| ifi.strip_prefix("openid:"))
        .or_else(|| ifi.strip_prefix("sha1:"))
        .map(str::to_string)
        .unwrap_or_else(|| ifi.strip_prefix("account:").unwrap_or(ifi).replace('|', " "))
}

/// The agent reduced to what identifies it (the `ids` format): objectType and IFI; an anonymous
/// Group keeps its members, each reduced the same way.
pub fn ids_form(agent: &Value) -> Value {
    let Some(obj) = agent.as_object() else { return agent.clone() };
    let mut out = Map::new();
    if let Some(t) = obj.get("objectType") {
        out.insert("objectType".into(), t.clone());
    }
    let mut identified = false;
    for p in IFI_PROPERTIES {
        if let Some(v) = obj.get(p) {
            out.insert(p.into(), v.clone());
            identified = true;
        }
    }
    if !identified {
        if let Some(Value::Array(members)) = obj.get("member") {
            out.insert("member".into(), Value::Array(members.iter().map(ids_form).collect()));
        }
    }
    Value::Object(out)
}

/// The Person object for one agent, as the Agents resource returns it: every property an array.
pub fn person_from_agent(agent: &Value) -> Value {
    let mut person = Map::new();
    person.insert("objectType".into(), json!("Person"));
    if let Some(obj) = agent.as_object() {
        if let Some(name) = obj.get("name") {
            person.insert("name".into(), json!([name]));
        }
        for p in IFI_PROPERTIES {
            if let Some(v) = obj.get(p) {
                person.insert(p.into(), json!([v]));
            }
        }
    }
    Value::Object(person)
}

/// Union of two Person objects (array properties merged, first-seen order, no duplicates).
pub fn merge_values(a: &Value, b: &Value) -> Value {
    let mut out = a.as_object().cloned().unwrap_or_default();
    if let Some(bo) = b.as_object() {
        for (k, v) in bo {
            match (out.get_mut(k), v) {
                (Some(Value::Array(existing)), Value::Array(new)) => {
                    for item in new {
                        if !existing.contains(item) {
                            existing.push(item.clone());
                        }
                    }
                }
                (None, _) => {
                    out.insert(k.clone(), v.clone());
                }
                _ => {}
            }
        }
    }
    Value::Object(out)
}

/// Merges a newly seen Person into the stored one; None when nothing changes (no write needed).
pub fn merge_seen(stored: Option<&str>, seen: &Value) -> Option<String> {
    let old: Option<Value> = stored.and_then(|s| serde_json::from_str(s).ok());
    let merged = match &old {
        Some(o) => merge_values(o, seen),
        None => seen.clone(),
    };
    (old.as_ref() != Some(&merged)).then(|| merged.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_with_the_same_ifi_and_type_have_the_same_key() {
        let a = json!({"mbox": "mailto:a@example.com", "name": "A"});
        let b = json!({"objectType": "Agent", "mbox": "mailto:a@example.com"});
        assert_eq!(key(&a), key(&b));
    }

    #[test]
    fn a_group_and_an_agent_with_one_ifi_differ() {
        let a = json!({"mbox": "mailto:a@example.com"});
        let g = json!({"objectType": "Group", "mbox": "mailto:a@example.com"});
        assert_ne!(key(&a), key(&g));
    }

    #[test]
    fn anonymous_groups_have_no_key() {
        assert_eq!(key(&json!({"objectType": "Group", "member": []})), None);
    }

    #[test]
    fn keys_round_trip_to_agents() {
        for a in [
            json!({"objectType": "Agent", "mbox": "mailto:a@example.com"}),
            json!({"objectType": "Group", "account": {"homePage": "http://h", "name": "n|x"}}),
            json!({"objectType": "Agent", "openid": "http://o"}),
        ] {
            let k = key(&a).unwrap();
            assert_eq!(from_key(&k), a);
        }
        assert_eq!(label("Agent|mbox:mailto:a@example.com"), "a@example.com");
    }

    #[test]
    fn person_merge_unions_names() {
        let p1 = person_from_agent(&json!({"name": "A", "mbox": "mailto:a@example.com"}));
        let p2 = person_from_agent(&json!({"name": "B", "mbox": "mailto:a@example.com"}));
        let m = merge_values(&p1, &p2);
        assert_eq!(m["name"], json!(["A", "B"]));
        assert_eq!(m["mbox"], json!(["mailto:a@example.com"]));
        assert!(merge_seen(Some(&m.to_string()), &p1).is_none());
    }
}

//! Persons: one learner behind several agent identifiers (the xAPI Person object), and the erasure
//! and export of everything stored about one (GDPR articles 17 and 20). The core keeps the mapping
//! and the statements and documents; what the learning-management side keeps per person (results,
//! assignments, bookings, launches) it handles around these calls (`lms::persons`).

use std::collections::BTreeSet;

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::error::Result;
use super::{Lrs, LrsError};
use crate::store::{Erasure, PersonRow};
use crate::xapi::{agent, Version};

/// Statements read per page while planning an erasure or building an export.
const PAGE: i64 = 500;

/// Where the anonymous agents that replace an erased person live: no IRI of anyone's.
pub const ERASED_HOMEPAGE: &str = "urn:cairn:erased";

fn bad(msg: impl Into<String>) -> LrsError {
    LrsError::BadRequest(msg.into())
}

impl Lrs {
    /// An agent given to the persons API (Agents only: a Group is not a person), as its key.
    pub fn person_identifier(&self, name: &str, v: &Value) -> Result<String> {
        self.validator.agent(v, Version::V2_0_0).map_err(|e| bad(format!("{name}: {e}")))?;
        if v.get("objectType").and_then(Value::as_str) == Some("Group") {
            return Err(bad(format!("{name} must be an Agent: a Group is not a person")));
        }
        agent::key(v).ok_or_else(|| bad(format!("{name} needs an identifier (mbox, mbox_sha1sum, openid or account)")))
    }

    pub async fn person_row(&self, id: &str) -> Result<PersonRow> {
        self.store.person(id).await?.ok_or_else(|| LrsError::NotFound(format!("no person {id}")))
    }

    /// The person an identifier belongs to, if it has one.
    pub async fn person_of_key(&self, key: &str) -> Result<Option<PersonRow>> {
        let Some(id) = self.store.persons_of(&[key.to_string()]).await?.remove(key) else { return Ok(None) };
        Ok(self.store.person(&id).await?)
    }

    /// A person as the persons API shows it: id, name, each identifier as an agent, and the names
    /// statements gave them.
    pub async fn person_json(&self, p: &PersonRow) -> Result<Value> {
        Ok(self.persons_json(std::slice::from_ref(p)).await?.pop().unwrap_or(Value::Null))
    }

    /// [`Self::person_json`] of many persons, reading what statements showed of all their
    /// identifiers in one go (a search page lists up to 500).
    pub async fn persons_json(&self, persons: &[PersonRow]) -> Result<Vec<Value>> {
        let keys: Vec<String> = persons.iter().flat_map(|p| p.identifiers.iter().cloned()).collect();
        let seen = self.store.agents_by_key(&keys).await?;
        Ok(persons
            .iter()
            .map(|p| {
                let names: BTreeSet<&str> = p
                    .identifiers
                    .iter()
                    .filter_map(|k| seen.get(k))
                    .flat_map(|a| a.get("name").and_then(Value::as_array).into_iter().flatten())
                    .filter_map(Value::as_str)
                    .collect();
                let identifiers: Vec<Value> = p.identifiers.iter().map(|k| agent::from_key(k)).collect();
                json!({"id": p.id, "name": p.name, "identifiers": identifiers, "names_seen": names})
            })
            .collect())
    }

    /// Persons whose name or identifiers contain `term`.
    pub async fn search_persons(&self, term: &str, limit: i64) -> Result<Vec<PersonRow>> {
        Ok(self.store.search_persons(term, limit.clamp(1, 500)).await?)
    }

    /// Moves identifiers to person `to`, naming it if asked, with every person involved locked (so a
    /// derivation on any node sees the identifiers before or after, never half). Returns the persons
    /// that lost identifiers; the caller re-derives what depends on them.
    pub async fn move_identifiers(&self, to: &str, keys: &[String], name: Option<&str>) -> Result<Vec<String>> {
        let mut involved: Vec<String> = self.store.persons_of(keys).await?.into_values().collect();
        involved.push(to.to_string());
        let guard = self.store.lock_persons(&involved).await?;
        let losers = self.store.move_identifiers(to, keys, name).await?;
        drop(guard);
        Ok(losers)
    }

    /// The Person object of GET /agents: every identifier of the asked agent's person, with the
    /// names statements gave them. A restricted (launch) credential sees only what it asked about:
    /// content must not learn a learner's other identifiers.
    pub async fn person_object(&self, asked: &Value, key: &str, restricted: bool) -> Result<Value> {
        let keys = match (restricted, self.person_of_key(key).await?) {
            (false, Some(p)) => p.identifiers,
            _ => vec![key.to_string()],
        };
        let stored = self.store.agents_by_key(&keys).await?;
        let mut out = json!({"objectType": "Person"});
        for k in &keys {
            let mut seen = agent::person_from_agent(&agent::from_key(k));
            if let Some(s) = stored.get(k) {
                seen = agent::merge_values(s, &seen);
            }
            out = agent::merge_values(&out, &seen);
        }
        out = agent::merge_values(&out, &agent::person_from_agent(asked));
        Ok(out)
    }

    /// Everything the core stores about a person: the statements they are the actor of, the ones
    /// that only mention them, and their State and agent profile documents.
    pub async fn export_statements_and_documents(&self, p: &PersonRow) -> Result<Value> {
        let keys: BTreeSet<&str> = p.identifiers.iter().map(String::as_str).collect();
        let (mut actor, mut mentioned) = (Vec::new(), Vec::new());
        let mut after = 0;
        loop {
            let page = self.store.statements_mentioning(&p.identifiers, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for s in page {
                let body: Value = serde_json::from_str(&s.body).unwrap_or(Value::Null);
                if actor_is(&body, &keys) {
                    actor.push(body);
                } else {
                    mentioned.push(body);
                }
            }
        }
        let documents: Vec<Value> = self
            .store
            .documents_of_agents(&p.identifiers)
            .await?
            .into_iter()
            .map(|d| {
                let content = if d.content_type.starts_with("application/json") {
                    serde_json::from_slice::<Value>(&d.body)
                        .unwrap_or_else(|_| json!(String::from_utf8_lossy(&d.body)))
                } else {
                    json!({"base64": base64::engine::general_purpose::STANDARD.encode(&d.body)})
                };
                json!({
                    "kind": d.kind, "agent": agent::from_key(&d.agent_key),
                    "activityId": (!d.activity_id.is_empty()).then_some(d.activity_id),
                    "registration": (!d.registration.is_empty()).then_some(d.registration),
                    "id": d.doc_id, "contentType": d.content_type, "updated": crate::xapi::timestamp::format_us(d.updated_us),
                    "content": content,
                })
            })
            .collect();
        Ok(json!({"statements": actor, "statements_mentioning": mentioned, "documents": documents}))
    }

    /// Erases what the core stores about a person: statements they are the actor of are removed
    /// (not voided) with their attachments; statements that only mention them keep an anonymous
    /// agent in their place; their documents, identifiers and name go. Statements that arrive
    /// while this runs are caught by another pass.
    pub async fn erase_statements_and_documents(&self, p: &PersonRow) -> Result<usize> {
        let keys: BTreeSet<&str> = p.identifiers.iter().map(String::as_str).collect();
        let anonymous = json!({"objectType": "Agent", "account": {
            "homePage": ERASED_HOMEPAGE, "name": uuid::Uuid::new_v4().to_string()}});
        let anonymous_key = agent::key(&anonymous).unwrap_or_default();
        let mut removed = 0;
        for _pass in 0..3 {
            let mut plan = Erasure {
                person: p.id.clone(),
                keys: p.identifiers.clone(),
                anonymous_key: anonymous_key.clone(),
                ..Default::default()
            };
            let mut after = 0;
            loop {
                let page = self.store.statements_mentioning(&p.identifiers, after, PAGE).await?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                for s in page {
                    let Ok(mut body) = serde_json::from_str::<Value>(&s.body) else { continue };
                    if actor_is(&body, &keys) {
                        plan.remove.push((s.seq, s.id));
                    } else {
                        replace_agents(&mut body, &keys, &anonymous);
                        plan.rewrite.push((s.seq, body.to_string()));
                    }
                }
            }
            let last_pass = plan.remove.is_empty() && plan.rewrite.is_empty();
            removed += plan.remove.len();
            let guard = self.store.lock_persons(std::slice::from_ref(&p.id)).await?;
            self.store.erase(&plan).await?;
            drop(guard);
            if last_pass {
                break;
            }
        }
        Ok(removed)
    }
}

/// Whether the statement's actor is one of these agents (a Group actor is not the person).
fn actor_is(body: &Value, keys: &BTreeSet<&str>) -> bool {
    body.get("actor")
        .filter(|a| a.get("objectType").and_then(Value::as_str) != Some("Group"))
        .and_then(agent::key)
        .is_some_and(|k| keys.contains(k.as_str()))
}

/// Replaces every Agent among these (wherever it appears: object, instructor, team and group
/// members, context agents, sub-statements) with the anonymous one.
fn replace_agents(v: &mut Value, keys: &BTreeSet<&str>, anonymous: &Value) {
    match v {
        Value::Object(o) => {
            if is_one_of(o, keys) {
                *v = anonymous.clone();
                return;
            }
            for child in o.values_mut() {
                replace_agents(child, keys, anonymous);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| replace_agents(c, keys, anonymous)),
        _ => {}
    }
}

fn is_one_of(o: &Map<String, Value>, keys: &BTreeSet<&str>) -> bool {
    let kind = o.get("objectType").and_then(Value::as_str);
    if !matches!(kind, None | Some("Agent")) || !agent::IFI_PROPERTIES.iter().any(|p| o.contains_key(*p)) {
        return false;
    }
    agent::key(&Value::Object(o.clone())).is_some_and(|k| keys.contains(k.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_replaced_everywhere_and_only_the_person() {
        let keys: BTreeSet<&str> = ["Agent|mbox:mailto:ann@example.com"].into_iter().collect();
        let anon = json!({"objectType": "Agent", "account": {"homePage": ERASED_HOMEPAGE, "name": "x"}});
        let mut s = json!({
            "actor": {"mbox": "mailto:bob@example.com"},
            "object": {"objectType": "Agent", "mbox": "mailto:ann@example.com", "name": "Ann"},
            "context": {"instructor": {"mbox": "mailto:ann@example.com"},
                        "team": {"objectType": "Group", "member": [{"mbox": "mailto:ann@example.com"}, {"mbox": "mailto:cy@example.com"}]},
                        "contextAgents": [{"objectType": "contextAgent", "agent": {"mbox": "mailto:ann@example.com"}}]},
        });
        assert!(!actor_is(&s, &keys));
        replace_agents(&mut s, &keys, &anon);
        let text = s.to_string();
        assert!(!text.contains("ann@example.com") && !text.contains("Ann"), "{text}");
        assert!(text.contains("bob@example.com") && text.contains("cy@example.com"));
        assert_eq!(s["context"]["team"]["member"][0], anon);
        assert_eq!(s["context"]["contextAgents"][0]["agent"], anon);
        let own = json!({"actor": {"mbox": "mailto:ann@example.com"}});
        assert!(actor_is(&own, &keys));
        let group = json!({"actor": {"objectType": "Group", "mbox": "mailto:ann@example.com"}});
        assert!(!actor_is(&group, &keys), "a Group is never the person");
    }
}

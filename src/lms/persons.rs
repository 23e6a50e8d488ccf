//! Persons on the learning-management side: results, assignments, bookings and launches follow the
//! person, so a change of a person's identifiers re-derives their results, and an erasure or export
//! covers these rows too. The identity mapping itself is the core's (`lrs::persons`).

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{json, Value};

use super::results::{LearnerCourse, ResultRecord};
use super::{bad, Lms};
use crate::lrs::error::Result;
use crate::lrs::LrsError;
use crate::store::{new_person_id, PersonRow};
use crate::xapi::agent;

/// `POST /api/persons`: a person made of these identifiers (moved from the persons they belonged to).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    #[serde(default)]
    pub name: Option<String>,
    pub identifiers: Vec<Value>,
}

/// Longest person name accepted.
const MAX_NAME: usize = 200;

fn check_name(name: Option<&str>) -> Result<()> {
    match name {
        Some(n) if n.trim().is_empty() || n.chars().count() > MAX_NAME => {
            Err(bad(format!("name must be 1 to {MAX_NAME} characters")))
        }
        _ => Ok(()),
    }
}

impl Lms {
    /// Creates a person from identifiers; identifiers that belonged to other persons move here (a
    /// person left without any stops existing). Results of everyone involved are re-derived.
    pub async fn create_person(&self, req: NewPerson) -> Result<PersonRow> {
        check_name(req.name.as_deref())?;
        if req.identifiers.is_empty() {
            return Err(bad("identifiers: a person needs at least one agent identifier"));
        }
        let mut keys = Vec::new();
        for (i, v) in req.identifiers.iter().enumerate() {
            keys.push(self.person_identifier(&format!("identifiers[{i}]"), v)?);
        }
        keys.sort();
        keys.dedup();
        let id = new_person_id();
        let losers = self.move_identifiers(&id, &keys, req.name.as_deref()).await?;
        self.rederive(std::iter::once(id.clone()).chain(losers)).await?;
        self.person_row(&id).await
    }

    /// Adds an identifier to a person (moving it from its previous person).
    pub async fn add_identifier(&self, id: &str, identifier: &Value) -> Result<PersonRow> {
        self.person_row(id).await?;
        let key = self.person_identifier("agent", identifier)?;
        let losers = self.move_identifiers(id, &[key], None).await?;
        self.rederive(std::iter::once(id.to_string()).chain(losers)).await?;
        self.person_row(id).await
    }

    /// Splits an identifier off a person into a new person of its own; returns the new person.
    pub async fn split_identifier(&self, id: &str, identifier: &Value) -> Result<PersonRow> {
        let p = self.person_row(id).await?;
        let key = self.person_identifier("agent", identifier)?;
        if !p.identifiers.contains(&key) {
            return Err(LrsError::NotFound(format!("person {id} has no identifier {}", agent::label(&key))));
        }
        if p.identifiers.len() == 1 {
            return Err(LrsError::Conflict(format!(
                "{} is the only identifier of person {id}: erase the person instead",
                agent::label(&key)
            )));
        }
        let new_id = new_person_id();
        self.move_identifiers(&new_id, &[key], None).await?;
        self.rederive([id.to_string(), new_id.clone()].into_iter()).await?;
        self.person_row(&new_id).await
    }

    /// Merges person `from` into `into`: every identifier of `from` moves, and `from` stops
    /// existing. `into` keeps its name (or takes `from`'s if it had none).
    pub async fn merge_persons(&self, into: &str, from: &str) -> Result<PersonRow> {
        if into == from {
            return Err(bad("a person cannot be merged into itself"));
        }
        let target = self.person_row(into).await?;
        let source = self.person_row(from).await?;
        let name = if target.name.is_none() { source.name.as_deref() } else { None };
        self.move_identifiers(into, &source.identifiers, name).await?;
        self.rederive(std::iter::once(into.to_string())).await?;
        self.person_row(into).await
    }

    pub async fn rename_person(&self, id: &str, name: Option<&str>) -> Result<PersonRow> {
        check_name(name)?;
        self.person_row(id).await?;
        self.store.rename_person(id, name).await?;
        self.person_row(id).await
    }

    /// Re-derives every result of these persons (every course they have facts in, a result for, or
    /// an assignment of).
    async fn rederive(&self, persons: impl Iterator<Item = String>) -> Result<()> {
        let mut pairs = BTreeSet::new();
        for p in persons.collect::<BTreeSet<_>>() {
            for course_id in self.store.courses_of_person(&p).await? {
                pairs.insert(LearnerCourse { learner_key: p.clone(), course_id });
            }
        }
        self.recompute_many(&pairs.into_iter().collect::<Vec<_>>()).await
    }

    /// Links an identity Cairn made for a learner (the cmi5 account of a `mailto:` learner) to the
    /// person of the identifier it was made from. An account that already belongs to a person with
    /// other identifiers stays there (it is not Cairn's to move); a lone one joins.
    pub(super) async fn link_identity(&self, given: &str, made: &str) -> Result<()> {
        let owner = self.persons_of_keys([given.to_string(), made.to_string()].into_iter()).await?;
        let (Some(person), Some(current)) = (owner.get(given), owner.get(made)) else { return Ok(()) };
        if person == current {
            return Ok(());
        }
        let alone = self.store.person(current).await?.is_some_and(|p| p.identifiers.len() == 1);
        if alone {
            self.move_identifiers(person, &[made.to_string()], None).await?;
            self.rederive([person.clone(), current.clone()].into_iter()).await?;
        }
        Ok(())
    }

    /// Everything stored about a person, as one JSON document (GDPR article 20).
    pub async fn export_person(&self, id: &str) -> Result<Value> {
        let p = self.person_row(id).await?;
        let mut doc = self.export_statements_and_documents(&p).await?;
        let mut results = Vec::new();
        for (course, body) in self.store.results_of_learner(id).await? {
            if let Ok(r) = serde_json::from_str::<ResultRecord>(&body) {
                results.push(json!({"course": course, "result": r.derived}));
            }
        }
        let assignments = self.store.assignments_of_person(None, id).await?;
        let mut bookings = Vec::new();
        for k in &p.identifiers {
            for (session, b) in self.store.bookings_of_learner(k).await? {
                bookings.push(json!({"session": session, "learner": agent::from_key(&b.learner_key),
                    "booked": crate::xapi::timestamp::format_us(b.booked_us),
                    "cancelled": b.cancelled_us.map(crate::xapi::timestamp::format_us)}));
            }
        }
        let launches: Vec<Value> = self
            .store
            .launches_of_agents(&p.identifiers)
            .await?
            .into_iter()
            .map(|l| {
                json!({"id": l.id, "course": l.course_id, "module": l.module_id, "registration": l.registration,
                "state": l.state, "created": crate::xapi::timestamp::format_us(l.created_us)})
            })
            .collect();
        if let Some(o) = doc.as_object_mut() {
            o.insert("person".into(), self.person_json(&p).await?);
            o.insert("exported".into(), json!(crate::xapi::timestamp::format_us(crate::now_us())));
            o.insert("results".into(), json!(results));
            o.insert("assignments".into(), serde_json::to_value(&assignments).unwrap_or_default());
            o.insert("bookings".into(), json!(bookings));
            o.insert("launches".into(), json!(launches));
        }
        Ok(doc)
    }

    /// Erases a person (GDPR article 17): their launches (and so their credentials), bookings and
    /// assignments, then what the core holds (see `Lrs::erase_statements_and_documents`), then
    /// what that changes for other results. `by` is recorded in the audit log with the person's
    /// opaque id and counts only: no personal data.
    pub async fn erase_person(&self, id: &str, by: &str) -> Result<Value> {
        let p = self.person_row(id).await?;
        let launches = self.store.launches_of_agents(&p.identifiers).await?;
        self.store.erase_learner_rows(&p.identifiers).await?;
        // Their sign-in links, learner sessions (signed out at once) and settings.
        self.store.erase_learner_side(id).await?;
        // Their launch credentials stop here at once; other nodes refuse them too, since every
        // statement and document a launch sends reads its (now deleted) launch row.
        for l in &launches {
            self.auth.forget_restricted(&l.id);
        }
        let removed = self.erase_statements_and_documents(&p).await?;
        let detail = json!({"identifiers": p.identifiers.len(), "statements_removed": removed}).to_string();
        self.store.insert_audit(by, "person.erase", id, &detail, crate::now_us()).await?;
        Ok(json!({"person": id, "identifiers": p.identifiers.len(), "statements_removed": removed}))
    }
}

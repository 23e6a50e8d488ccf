//! Results maintenance: keeping derived results current as statements arrive (through the core's
//! observer seam, see `hooks`), rebuilding them from the raw statements, and the cmi5 `satisfied`
//! statements that become due. The rules themselves are in `crate::results`.

use crate::xapi::view::View;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{bad, Lms};
use crate::lrs::auth::Principal;
use crate::lrs::error::Result;
use crate::lrs::seams::Touched;
use crate::results::derive::{self, CourseDef, Derived};
use crate::results::facts::{self, Fact, LaunchScope};
use crate::results::ids;
use crate::store::{FactLink, ResultBrief, ResultWrite};
use crate::store::{FactRow, PersonGuard};
use crate::xapi::{agent, Version};

/// What is kept per learner and course: the derived result and the cmi5 `satisfied` statements
/// already written (so each is written once).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResultRecord {
    pub derived: Derived,
    #[serde(default)]
    pub satisfied_written: BTreeSet<String>,
}

/// Learners (or activities) per bulk query, well under SQLite's bound-parameter limit.
pub(super) const CHUNK: usize = 500;
use crate::xapi::vocab::cmi5::CATEGORY_CMI5 as CMI5_CATEGORY;

impl Lms {
    /// The principal Cairn itself writes statements as (bookings, attendance, cmi5 `satisfied`).
    pub fn system_principal(&self) -> Principal {
        self.own_principal("cairn-system")
    }

    /// Writes statements as Cairn, through the core like any client (their results follow through the
    /// observer, which may write more: the cmi5 block, then the course).
    pub(super) async fn write_as_system(&self, statements: Vec<Value>) -> Result<Vec<String>> {
        let me = self.system_principal();
        self.store_statements(&me, Version::V2_0_0, statements, None).await
    }

    /// A statement voiding `id`, by Cairn (cmi5 §6.3: the LMS voids the statements it accepted that
    /// conflict with the cmi5 rules). Its id is derived from the target's, so two nodes deriving at
    /// once send the same statement, which the store keeps once.
    fn voiding(&self, id: &str) -> Value {
        let own = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("urn:cairn:void:{id}").as_bytes());
        json!({
            "id": own.to_string(),
            "actor": self.system_principal().authority,
            "verb": {"id": crate::xapi::VOIDED_VERB, "display": {"en-US": "voided"}},
            "object": {"objectType": "StatementRef", "id": id},
        })
    }

    /// The results-maintenance rows of statements about to be stored (voiding statements have none),
    /// and the (learner, activity) pairs they touch. Stored in the statements' own transaction.
    /// `launch` is the reach of the launch credential that sent them, if one did.
    pub(crate) fn new_facts<'a>(
        &self,
        statements: impl Iterator<Item = View<'a>>,
        launch: Option<&LaunchScope>,
    ) -> Result<(Vec<FactRow>, Touched)> {
        let mut rows = Vec::new();
        let mut touched = BTreeSet::new();
        for s in statements {
            fact_rows(facts::extract(&s, launch), &mut rows, &mut touched)?;
        }
        Ok((rows, touched))
    }

    /// The (learner, activity) pairs whose facts these statements void (read before the voiding
    /// statements are stored, which drops those facts).
    pub(crate) async fn voided_fact_links(&self, targets: &[String]) -> Result<Touched> {
        Ok(self.store.fact_links_of(targets).await?.into_iter().collect())
    }

    /// Keeps results current once statements and their facts are stored: re-derives every (learner,
    /// course) pair touched, and writes the cmi5 `satisfied` statements that became due. Costs one
    /// read when no touched activity belongs to a course.
    pub async fn results_after_store(&self, touched: Touched) -> Result<()> {
        let pairs = self.pairs_of(touched).await?;
        if pairs.is_empty() {
            return Ok(());
        }
        self.recompute_many(&pairs).await
    }

    /// The results that depend on what was touched: each touched identifier's person, with each
    /// course that includes a touched activity. The identifiers are read after the facts were
    /// committed, so a merge that moves one meanwhile re-derives its new person with these facts.
    async fn pairs_of(&self, touched: Touched) -> Result<Vec<LearnerCourse>> {
        let activities: Vec<String> =
            touched.iter().map(|t| t.activity_id.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let mut courses_of: HashMap<String, Vec<String>> = HashMap::new();
        for chunk in activities.chunks(CHUNK) {
            for (activity, course) in self.store.course_links(chunk).await? {
                courses_of.entry(activity).or_default().push(course);
            }
        }
        let touched: Vec<FactLink> = touched.into_iter().filter(|t| courses_of.contains_key(&t.activity_id)).collect();
        let persons = self.persons_of_keys(touched.iter().map(|t| t.learner_key.clone())).await?;
        let pairs: BTreeSet<LearnerCourse> = touched
            .into_iter()
            .flat_map(|t| {
                let courses = courses_of.get(&t.activity_id).into_iter().flatten();
                let person = persons.get(&t.learner_key).cloned().unwrap_or_default();
                courses.map(move |c| LearnerCourse { learner_key: person.clone(), course_id: c.clone() })
            })
            .filter(|p| !p.learner_key.is_empty())
            .collect();
        Ok(pairs.into_iter().collect())
    }

    /// The person of each identifier, giving one to identifiers that have none yet (an assigned
    /// learner never seen in a statement, a Group actor's facts).
    pub(crate) async fn persons_of_keys(&self, keys: impl Iterator<Item = String>) -> Result<HashMap<String, String>> {
        let keys: Vec<String> = keys.collect::<BTreeSet<_>>().into_iter().collect();
        let mut out = HashMap::new();
        for chunk in keys.chunks(CHUNK) {
            let mut found = self.store.persons_of(chunk).await?;
            let missing: Vec<String> = chunk.iter().filter(|k| !found.contains_key(*k)).cloned().collect();
            if !missing.is_empty() {
                self.store.ensure_persons(&missing).await?;
                found.extend(self.store.persons_of(&missing).await?);
            }
            out.extend(found);
        }
        Ok(out)
    }

    async fn recompute_touched(&self, touched: Touched) -> Result<()> {
        let pairs = self.pairs_of(touched).await?;
        self.recompute_many(&pairs).await
    }

    /// Re-derives one learner's result for one course from their facts.
    pub async fn recompute(&self, person: &str, course_id: &str) -> Result<()> {
        self.recompute_many(&[LearnerCourse { learner_key: person.into(), course_id: course_id.into() }]).await
    }

    /// Re-derives many (person, course) results, writing them in one transaction, then writes the
    /// cmi5 `satisfied` statements that became due. The persons are locked from the first read to the
    /// write (see `store::PersonGuard`); the locks are released before those statements are written,
    /// since storing them derives again.
    pub(super) async fn recompute_many(&self, pairs: &[LearnerCourse]) -> Result<()> {
        self.recompute_at(pairs, None).await
    }

    /// cmi5 §9.6.1: moveOn is evaluated when a registration is made, so what is satisfied without any
    /// statement (`NotApplicable` AUs, and the blocks and course they complete) gets its `satisfied`
    /// statements in the registration and session of the launch that makes it, before that launch's
    /// `launched` (CATAPULT's 004-5 test reads them first). Called before `launched` is stored.
    pub(crate) async fn cmi5_satisfied_at_registration(
        &self,
        launch: &SatisfiedIn,
        learner_activity: FactLink,
    ) -> Result<()> {
        if !self.settings.maintain_results {
            return Ok(());
        }
        let pairs = self.pairs_of(Touched::from([learner_activity])).await?;
        self.recompute_at(&pairs, Some(launch)).await
    }

    /// [`Self::recompute_many`], with the `satisfied` statements due placed in `launch` when given.
    async fn recompute_at(&self, pairs: &[LearnerCourse], launch: Option<&SatisfiedIn>) -> Result<()> {
        if pairs.is_empty() {
            return Ok(());
        }
        let persons: Vec<String> =
            pairs.iter().map(|p| p.learner_key.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let mut guard = self.store.lock_persons(&persons).await?;
        let (writes, statements) = self.derive_many(&mut guard, pairs, launch).await?;
        self.store.put_results_and_unlock(guard, &writes).await?;
        if !statements.is_empty() {
            self.write_as_system(statements).await?;
        }
        Ok(())
    }

    /// Derives the results of many (learner, course) pairs from their stored facts. Returns the result
    /// rows to write and the cmi5 `satisfied` statements that became due, in the registration and session
    /// of `launch` when given, else of the latest statement that has one.
    async fn derive_many(
        &self,
        guard: &mut PersonGuard,
        pairs: &[LearnerCourse],
        launch: Option<&SatisfiedIn>,
    ) -> Result<(Vec<ResultWrite>, Vec<Value>)> {
        // Per course, read the facts and results of its learners in a few queries, not two per pair.
        let mut by_course: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for p in pairs {
            by_course.entry(p.course_id.as_str()).or_default().push(p.learner_key.clone());
        }
        let mut writes = Vec::with_capacity(pairs.len());
        let mut statements = Vec::new();
        // Once each, though a statement may concern several courses (one batch refuses a repeated id).
        let mut to_void = BTreeSet::new();
        for (course_id, learners) in by_course {
            let def = self.course_def(course_id).await?;
            let ids = def.activity_ids();
            for chunk in learners.chunks(CHUNK) {
                let mut first_identifier: HashMap<String, String> = HashMap::new();
                for (person, key) in self.store.identifiers_under(guard, chunk).await? {
                    first_identifier.entry(person).or_insert(key);
                }
                let chunk: Vec<String> = chunk.iter().filter(|p| first_identifier.contains_key(*p)).cloned().collect();
                let chunk = chunk.as_slice();
                let mut facts_of: HashMap<String, Vec<Fact>> = HashMap::new();
                for (learner, text) in self.store.facts_of_persons(guard, chunk, &ids).await? {
                    if let Ok(f) = serde_json::from_str::<Fact>(&text) {
                        facts_of.entry(learner).or_default().push(f);
                    }
                }
                let previous: HashMap<String, String> =
                    self.store.results_of(guard, course_id, chunk).await?.into_iter().collect();
                for learner_key in chunk {
                    let mut facts: Vec<Fact> = facts_of
                        .remove(learner_key)
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|f| f.for_course(course_id))
                        .collect();
                    facts.sort_by(|a, b| a.statement_id.cmp(&b.statement_id));
                    facts.dedup_by(|a, b| a.statement_id == b.statement_id);
                    if def.cmi5 {
                        to_void.extend(derive::to_void(&def, &facts));
                    }
                    let derived = derive::derive(&def, &facts);
                    let written = previous
                        .get(learner_key)
                        .and_then(|t| serde_json::from_str::<ResultRecord>(t).ok())
                        .map(|r| r.satisfied_written)
                        .unwrap_or_default();
                    let mut record = ResultRecord { derived, satisfied_written: written };
                    if def.cmi5 {
                        statements.extend(cmi5_satisfied(
                            &def,
                            &first_identifier[learner_key],
                            &facts,
                            launch,
                            &record.derived,
                            &mut record.satisfied_written,
                        ));
                    }
                    let body = serde_json::to_string(&record).map_err(|e| bad(e.to_string()))?;
                    writes.push(ResultWrite {
                        course_id: course_id.to_string(),
                        learner_key: learner_key.clone(),
                        body,
                        brief: brief_of(&record.derived),
                    });
                }
            }
        }
        statements.splice(0..0, to_void.iter().map(|id| self.voiding(id)));
        Ok((writes, statements))
    }

    /// Recomputes everything from the raw statements: clears facts and results, re-extracts facts from
    /// every live statement in order, and derives every (learner, course) pair. Returns the number of
    /// statements read.
    pub async fn rebuild_results(&self) -> Result<usize> {
        self.store.clear_derived().await?;
        self.upgrade_course_defs().await?;
        let mut after = 0i64;
        let mut count = 0usize;
        let mut touched = BTreeSet::new();
        let mut scopes = HashMap::new();
        loop {
            let page = self.store.statement_page(after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            let mut rows = Vec::new();
            for s in &page {
                let Ok(body) = serde_json::from_str::<Value>(&s.body) else { continue };
                let launch = self.launch_scope_of(&body, &mut scopes).await?;
                fact_rows(facts::extract(&View::of(&body), launch.as_ref()), &mut rows, &mut touched)?;
            }
            count += page.len();
            self.store.insert_facts(&rows).await?;
        }
        self.recompute_touched(touched).await?;
        // Assigned learners without a fact have a result too (assigning derives one).
        let assigned = self.store.assignments(None, None).await?;
        let persons = self.persons_of_keys(assigned.iter().map(|a| a.learner_key.clone())).await?;
        let pairs: BTreeSet<LearnerCourse> = assigned
            .iter()
            .filter_map(|a| {
                let person = persons.get(&a.learner_key)?.clone();
                Some(LearnerCourse { learner_key: person, course_id: a.course_id.clone() })
            })
            .collect();
        self.recompute_many(&pairs.into_iter().collect::<Vec<_>>()).await?;
        Ok(count)
    }

    /// Definitions of SCORM 2004 courses imported before their results came from the rollup carry no
    /// activity tree: they are registered again from the course's latest version, so a rebuild after
    /// an upgrade derives them as the player rolls them up. Called with no facts stored (cheap).
    async fn upgrade_course_defs(&self) -> Result<()> {
        for text in self.store.course_defs().await? {
            let Ok(def) = serde_json::from_str::<CourseDef>(&text) else { continue };
            let scorm2004 = |c: &derive::Component| matches!(c.rule, derive::Rule::Scorm { v12: false, .. });
            if def.sequencing.is_some() || !def.components.iter().any(scorm2004) {
                continue;
            }
            // Courses defined through the API from modules have no version of their own.
            let Ok(view) = self.course(&def.id, None).await else { continue };
            if matches!(view.course.format, crate::package::Format::Scorm2004 { .. }) {
                self.register_package_course(&def.id, &view.course).await?;
            }
        }
        Ok(())
    }

    /// The reach of the launch whose credential stored this statement, if one did: its `authority`
    /// names the launch (see `lrs::launch`), and clients cannot set `authority` themselves.
    async fn launch_scope_of(
        &self,
        body: &Value,
        cache: &mut HashMap<String, Option<LaunchScope>>,
    ) -> Result<Option<LaunchScope>> {
        let Some(authority) = body.get("authority") else { return Ok(None) };
        if authority.get("name").and_then(Value::as_str) != Some(super::launch::LAUNCH_AUTHORITY_NAME) {
            return Ok(None);
        }
        let Some(id) = authority.pointer("/account/name").and_then(Value::as_str) else { return Ok(None) };
        if let Some(known) = cache.get(id) {
            return Ok(known.clone());
        }
        let scope =
            self.store.launch(id).await?.map(|l| LaunchScope::new(&l.course_id, &super::launch::tree_roots(&l)));
        cache.insert(id.to_string(), scope.clone());
        Ok(scope)
    }
}

/// A learner's result for one course: the unit results are derived and stored in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LearnerCourse {
    pub learner_key: String,
    pub course_id: String,
}

/// The fact rows of one statement's facts (each with the activities it is linked to) and the pairs they touch.
fn fact_rows(facts: Vec<Fact>, rows: &mut Vec<FactRow>, touched: &mut Touched) -> Result<()> {
    for f in facts {
        let text = serde_json::to_string(&f).map_err(|e| bad(e.to_string()))?;
        let linked: Vec<String> = std::iter::once(&f.activity_id).chain(f.context_ids.iter()).cloned().collect();
        for l in &linked {
            touched.insert(FactLink { learner_key: f.learner_key.clone(), activity_id: l.clone() });
        }
        rows.push(FactRow { statement_id: f.statement_id, learner_key: f.learner_key, body: text, linked });
    }
    Ok(())
}

/// Where `satisfied` statements due at a launch go: its registration and session.
#[derive(Debug, Clone)]
pub(crate) struct SatisfiedIn {
    pub registration: String,
    pub session_id: String,
    /// The launch's actor (the identifier the session knows the learner by).
    pub learner_key: String,
}

/// The cmi5 `satisfied` statements newly due for a learner: one per block and for the course, the
/// first time each becomes satisfied, in the registration of the statement that satisfied it (or of the
/// launch that found them satisfied).
fn cmi5_satisfied(
    def: &CourseDef,
    person_key: &str,
    facts: &[Fact],
    launch: Option<&SatisfiedIn>,
    d: &Derived,
    written: &mut BTreeSet<String>,
) -> Vec<Value> {
    let mut out = Vec::new();
    let latest = facts.iter().filter(|f| f.registration.is_some()).max_by_key(|f| f.at_us);
    let (registration, session) = match launch {
        Some(at) => (Some(at.registration.clone()), Some(at.session_id.clone())),
        None => (latest.and_then(|f| f.registration.clone()), latest.and_then(|f| f.session_id.clone())),
    };
    // The learner as their cmi5 session knew them (the launch's actor), of all their identifiers.
    let actor_key = match launch {
        Some(at) => at.learner_key.as_str(),
        None => latest.map_or(person_key, |f| f.learner_key.as_str()),
    };
    let actor = agent::from_key(actor_key);
    // The object is an id Cairn generates for the block or course (§9.4: never the publisher's); the
    // publisher's id goes in `grouping` (§9.6.2.3), where CATAPULT looks for it.
    let make = |publisher_id: &str, kind: &str| {
        let object_id = match kind {
            "block" => ids::cmi5_block_activity_id(publisher_id),
            _ => ids::cmi5_course_activity_id(publisher_id),
        };
        let mut ctx =
            json!({"contextActivities": {"category": [{"id": CMI5_CATEGORY}], "grouping": [{"id": publisher_id}]}});
        if let Some(r) = &registration {
            ctx["registration"] = json!(r);
        }
        if let Some(s) = &session {
            ctx["extensions"] = json!({crate::xapi::vocab::cmi5::EXT_SESSION: s});
        }
        json!({
            "actor": actor,
            "verb": {"id": crate::xapi::vocab::verbs::SATISFIED, "display": {"en-US": "satisfied"}},
            "object": {"objectType": "Activity", "id": object_id, "definition": {"type": format!("{}{kind}", crate::xapi::vocab::cmi5::ACTIVITY_TYPE_BASE)}},
            "context": ctx,
        })
    };
    let blocks: BTreeSet<&str> = def.components.iter().flat_map(|c| c.blocks.iter().map(String::as_str)).collect();
    for b in blocks {
        let members: Vec<&derive::ComponentState> = d
            .components
            .iter()
            .filter(|cs| {
                def.components.iter().any(|c| c.activity_id == cs.activity_id && c.blocks.iter().any(|x| x == b))
            })
            .collect();
        if !members.is_empty() && members.iter().all(|m| m.satisfied || !m.required) && written.insert(b.to_string()) {
            out.push(make(b, "block"));
        }
    }
    let satisfied = !d.satisfied_at_us.is_empty() || d.satisfied_without_activity;
    if satisfied && !d.components.is_empty() && written.insert(def.id.clone()) {
        out.push(make(&def.id, "course"));
    }
    out
}

/// The columns written beside a result's body for counts and filters (see [`ResultBrief`]).
pub(super) fn brief_of(d: &Derived) -> ResultBrief {
    ResultBrief {
        status: d.status.as_str().to_string(),
        scaled: d.score.and_then(|s| s.scaled),
        time_spent_s: d.time_spent_s,
        satisfied_us: serde_json::to_string(&d.satisfied_at_us).unwrap_or_else(|_| "[]".into()),
        satisfied_free: d.satisfied_without_activity,
    }
}

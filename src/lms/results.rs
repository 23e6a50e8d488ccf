//! Results use cases: keeping derived results current as statements arrive, rebuilding them from the
//! raw statements, course definitions, assignments, live sessions (bookings and attendance), and the
//! analyst queries. The rules themselves are in `crate::results`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::Lms;
use crate::lrs::auth::Principal;
use crate::lrs::seams::Touched;
use crate::lrs::error::Result;
use crate::lrs::LrsError;
use crate::results::compliance::{self, Terms};
use crate::results::course;
use crate::results::derive::{self, Component, CourseDef, Derived, Rule, Status};
use crate::results::facts::{self, Fact, LaunchScope};
use crate::store::{AssignmentRow, BookOutcome, FactRow, SessionRow};
use crate::xapi::{agent, timestamp, Version};

/// What is kept per learner and course: the derived result and the cmi5 `satisfied` statements
/// already written (so each is written once).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResultRecord {
    pub derived: Derived,
    #[serde(default)]
    pub satisfied_written: BTreeSet<String>,
}

/// One row of the results API.
#[derive(Debug, Clone, Serialize)]
pub struct ResultRow {
    pub learner: Value,
    pub learner_label: String,
    pub course: String,
    pub assignment: Option<String>,
    pub registration: Option<String>,
    pub status: &'static str,
    pub score: Option<f64>,
    pub score_raw: Option<f64>,
    pub score_min: Option<f64>,
    pub score_max: Option<f64>,
    pub first_score: Option<f64>,
    pub best_score: Option<f64>,
    pub time_spent_seconds: f64,
    pub completed_at: Option<String>,
    pub due: Option<String>,
    pub compliance: Option<&'static str>,
    pub expires_at: Option<String>,
    pub cycle: usize,
    pub attendance: BTreeMap<String, bool>,
    pub components: Vec<derive::ComponentState>,
}

/// Filters of the results query.
#[derive(Debug, Clone, Default)]
pub struct ResultsFilter {
    pub course: Option<String>,
    pub learner_key: Option<String>,
    pub group_key: Option<String>,
    pub status: Option<String>,
    pub compliance: Option<String>,
    pub due_before_us: Option<i64>,
    pub due_after_us: Option<i64>,
    pub limit: usize,
    pub offset: usize,
}

/// A new assignment request (`POST /api/assignments`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    pub course: String,
    #[serde(default)]
    pub learner: Option<Value>,
    /// A Group whose members are each assigned.
    #[serde(default)]
    pub group: Option<Value>,
    #[serde(default)]
    pub due: Option<String>,
    #[serde(default)]
    pub due_in_days: Option<i64>,
    #[serde(default)]
    pub grace_days: Option<i64>,
    #[serde(default)]
    pub recurrence_months: Option<i64>,
}

/// A course defined through the API (`PUT /api/courses/{id}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefineCourse {
    pub title: String,
    pub components: Vec<DefineComponent>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DefineComponent {
    /// A module or AU of an imported course.
    Module {
        course: String,
        module: String,
        #[serde(default = "yes")]
        required: bool,
    },
    /// Any activity by IRI (plain xAPI completion rules).
    Activity {
        activity_id: String,
        #[serde(default)]
        title: Option<String>,
        #[serde(default = "yes")]
        required: bool,
    },
}

fn yes() -> bool {
    true
}

/// A live session request (`POST /api/sessions`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    pub course: String,
    pub title: String,
    pub start: String,
    pub end: String,
    #[serde(default = "utc")]
    pub timezone: String,
    #[serde(default)]
    pub capacity: Option<i64>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub join_url: Option<String>,
    #[serde(default = "yes")]
    pub required: bool,
}

fn utc() -> String {
    "UTC".into()
}

fn bad(m: impl Into<String>) -> LrsError {
    LrsError::BadRequest(m.into())
}

use timestamp::format_us as ts;

fn parse_ts(name: &str, v: &str) -> Result<i64> {
    let t = timestamp::parse_timestamp(v).map_err(|e| bad(format!("{name}: {e}")))?;
    Ok((t.unix_timestamp_nanos() / 1000) as i64)
}

const DAY_US: i64 = 86_400 * 1_000_000;
/// Learners (or activities) per bulk query, well under SQLite's bound-parameter limit.
const CHUNK: usize = 500;
const CMI5_CATEGORY: &str = "https://w3id.org/xapi/cmi5/context/categories/cmi5";

impl Lms {
    /// The principal Cairn itself writes statements as (bookings, attendance, cmi5 `satisfied`).
    pub fn system_principal(&self) -> Principal {
        Principal {
            key: "cairn-system".into(),
            name: "Cairn".into(),
            scopes: vec!["all".into()],
            authority: json!({"objectType": "Agent", "name": "Cairn", "account": {"homePage": self.config.public_url, "name": "cairn-system"}}),
            restricted: None,
        }
    }

    /// Writes statements as Cairn, through the core like any client (their results follow through the
    /// observer, which may write more: the cmi5 block, then the course).
    async fn write_as_system(&self, statements: Vec<Value>) -> Result<Vec<String>> {
        let me = self.system_principal();
        self.store_statements(&me, Version::V2_0_0, statements, None).await
    }

    /// The results-maintenance rows of statements about to be stored (voiding statements have none),
    /// and the (learner, activity) pairs they touch. Stored in the statements' own transaction.
    /// `launch` is the reach of the launch credential that sent them, if one did.
    pub(crate) fn new_facts<'a>(
        &self,
        bodies: impl Iterator<Item = &'a Value>,
        launch: Option<&LaunchScope>,
    ) -> Result<(Vec<FactRow>, Touched)> {
        let mut rows = Vec::new();
        let mut touched = BTreeSet::new();
        for body in bodies {
            fact_rows(facts::extract(body, launch), &mut rows, &mut touched)?;
        }
        Ok((rows, touched))
    }

    /// The (learner, activity) pairs whose facts these statements void (read before the voiding
    /// statements are stored, which drops those facts).
    pub(crate) async fn voided_fact_links(&self, targets: &[String]) -> Result<BTreeSet<(String, String)>> {
        Ok(self.store.fact_links_of(targets).await?.into_iter().collect())
    }

    /// Keeps results current once statements and their facts are stored: re-derives every (learner,
    /// course) pair touched, and writes the cmi5 `satisfied` statements that became due. Costs one
    /// read when no touched activity belongs to a course.
    pub async fn results_after_store(&self, touched: BTreeSet<(String, String)>) -> Result<()> {
        let pairs = self.pairs_of(touched).await?;
        if pairs.is_empty() {
            return Ok(());
        }
        self.recompute_many(&pairs).await
    }

    /// The (learner, course) pairs whose results depend on these (learner, activity) pairs.
    async fn pairs_of(&self, touched: BTreeSet<(String, String)>) -> Result<Vec<(String, String)>> {
        let activities: Vec<String> =
            touched.iter().map(|(_, a)| a.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let mut courses_of: HashMap<String, Vec<String>> = HashMap::new();
        for chunk in activities.chunks(CHUNK) {
            for (activity, course) in self.store.course_links(chunk).await? {
                courses_of.entry(activity).or_default().push(course);
            }
        }
        let pairs: BTreeSet<(String, String)> = touched
            .into_iter()
            .flat_map(|(l, a)| courses_of.get(&a).into_iter().flatten().map(move |c| (l.clone(), c.clone())))
            .collect();
        Ok(pairs.into_iter().collect())
    }

    async fn recompute_touched(&self, touched: BTreeSet<(String, String)>) -> Result<()> {
        let pairs = self.pairs_of(touched).await?;
        self.recompute_many(&pairs).await
    }

    /// Re-derives one learner's result for one course from their facts.
    pub async fn recompute(&self, learner_key: &str, course_id: &str) -> Result<()> {
        self.recompute_many(&[(learner_key.to_string(), course_id.to_string())]).await
    }

    /// Re-derives many (learner, course) results, writing them in one transaction, then writes the
    /// cmi5 `satisfied` statements that became due.
    async fn recompute_many(&self, pairs: &[(String, String)]) -> Result<()> {
        let (writes, statements) = self.derive_many(pairs).await?;
        self.store.put_results(&writes).await?;
        if !statements.is_empty() {
            self.write_as_system(statements).await?;
        }
        Ok(())
    }

    /// Derives the results of many (learner, course) pairs from their stored facts. Returns the result
    /// rows to write and the cmi5 `satisfied` statements that became due.
    async fn derive_many(&self, pairs: &[(String, String)]) -> Result<(Vec<(String, String, String)>, Vec<Value>)> {
        // Per course, read the facts and results of its learners in a few queries, not two per pair.
        let mut by_course: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (learner, course) in pairs {
            by_course.entry(course.as_str()).or_default().push(learner.clone());
        }
        let mut writes = Vec::with_capacity(pairs.len());
        let mut statements = Vec::new();
        for (course_id, learners) in by_course {
            let def = self.course_def(course_id).await?;
            let ids = def.activity_ids();
            for chunk in learners.chunks(CHUNK) {
                let mut facts_of: HashMap<String, Vec<Fact>> = HashMap::new();
                for (learner, text) in self.store.facts_of_learners(chunk, &ids).await? {
                    if let Ok(f) = serde_json::from_str::<Fact>(&text) {
                        facts_of.entry(learner).or_default().push(f);
                    }
                }
                let previous: HashMap<String, String> =
                    self.store.results_of(course_id, chunk).await?.into_iter().collect();
                for learner_key in chunk {
                    let mut facts: Vec<Fact> = facts_of
                        .remove(learner_key)
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|f| f.for_course(course_id))
                        .collect();
                    facts.sort_by(|a, b| a.statement_id.cmp(&b.statement_id));
                    facts.dedup_by(|a, b| a.statement_id == b.statement_id);
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
                            learner_key,
                            &facts,
                            &record.derived,
                            &mut record.satisfied_written,
                        ));
                    }
                    let body = serde_json::to_string(&record).map_err(|e| bad(e.to_string()))?;
                    writes.push((course_id.to_string(), learner_key.clone(), body));
                }
            }
        }
        Ok((writes, statements))
    }

    /// The definition results of a course are derived against.
    pub async fn course_def(&self, course_id: &str) -> Result<CourseDef> {
        let text = self
            .store
            .course_def(course_id)
            .await?
            .ok_or_else(|| LrsError::NotFound(format!("no course {course_id}")))?;
        serde_json::from_str(&text).map_err(|e| bad(format!("stored course definition is unreadable: {e}")))
    }

    async fn save_course_def(&self, def: &CourseDef, defined: bool) -> Result<()> {
        let body = serde_json::to_string(def).map_err(|e| bad(e.to_string()))?;
        self.store.put_course_def(&def.id, &body, defined, &def.activity_ids()).await?;
        // Facts may already exist for these activities: derive every learner who has some.
        let pairs: Vec<(String, String)> =
            self.store.learners_of_course(&def.id).await?.into_iter().map(|l| (l, def.id.clone())).collect();
        self.recompute_many(&pairs).await
    }

    /// Registers an imported course version's definition (replacing the previous version's).
    pub async fn register_package_course(&self, course_id: &str, course: &crate::package::Course) -> Result<()> {
        let mut def = course::from_package(course_id, course);
        // Sessions added to this course survive a new package version.
        if let Ok(old) = self.course_def(course_id).await {
            def.components.extend(old.components.into_iter().filter(|c| c.rule == Rule::Session));
        }
        self.save_course_def(&def, false).await
    }

    /// Defines (or redefines) a course from components: imported modules, activities by IRI.
    pub async fn define_course(&self, course_id: &str, req: DefineCourse) -> Result<CourseDef> {
        iri_string::types::IriStr::new(course_id)
            .map_err(|_| bad(format!("course id must be an IRI, got {course_id:?}")))?;
        let mut components = Vec::new();
        for c in req.components {
            match c {
                DefineComponent::Module { course, module, required } => {
                    let src = self.course_def(&course).await?;
                    let id = crate::results::ids::module_activity_id(&course, &module);
                    let mut comp = src
                        .components
                        .into_iter()
                        .find(|x| x.activity_id == id)
                        .ok_or_else(|| bad(format!("course {course} has no module {module}")))?;
                    comp.required = required;
                    comp.blocks.clear();
                    components.push(comp);
                }
                DefineComponent::Activity { activity_id, title, required } => {
                    iri_string::types::IriStr::new(&activity_id)
                        .map_err(|_| bad(format!("activity_id must be an IRI, got {activity_id:?}")))?;
                    components.push(Component {
                        title: title.unwrap_or_else(|| activity_id.clone()),
                        activity_id,
                        required,
                        rule: Rule::Activity,
                        blocks: vec![],
                    });
                }
            }
        }
        if let Ok(old) = self.course_def(course_id).await {
            components.extend(old.components.into_iter().filter(|c| c.rule == Rule::Session));
        }
        let def =
            CourseDef { id: course_id.to_string(), title: req.title, course_activity: None, components, cmi5: false };
        self.save_course_def(&def, true).await?;
        Ok(def)
    }

    /// Recomputes everything from the raw statements: clears facts and results, re-extracts facts from
    /// every live statement in order, and derives every (learner, course) pair. Returns the number of
    /// statements read.
    pub async fn rebuild_results(&self) -> Result<usize> {
        self.store.clear_derived().await?;
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
                fact_rows(facts::extract(&body, launch.as_ref()), &mut rows, &mut touched)?;
            }
            count += page.len();
            self.store.insert_facts(&rows).await?;
        }
        self.recompute_touched(touched).await?;
        Ok(count)
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

    /// Assigns a course to a learner or to each member of a group.
    pub async fn assign(&self, req: AssignRequest, version: Version) -> Result<Vec<AssignmentRow>> {
        self.course_def(&req.course).await?;
        let now = crate::now_us();
        let due_us = match (&req.due, req.due_in_days) {
            (Some(d), None) => parse_ts("due", d)?,
            (None, Some(n)) if n >= 0 => now + n * DAY_US,
            (None, Some(_)) => return Err(bad("due_in_days must not be negative")),
            (Some(_), Some(_)) => return Err(bad("give either due or due_in_days, not both")),
            (None, None) => return Err(bad("an assignment needs due (RFC 3339) or due_in_days")),
        };
        if req.grace_days.is_some_and(|g| g < 0) || req.recurrence_months.is_some_and(|m| m <= 0) {
            return Err(bad("grace_days must be ≥ 0 and recurrence_months > 0"));
        }
        let (learners, group_key) = match (&req.learner, &req.group) {
            (Some(l), None) => (vec![l.clone()], None),
            (None, Some(g)) => {
                self.validator.agent(g, version).map_err(|e| bad(format!("group: {e}")))?;
                let members: Vec<Value> = g.get("member").and_then(Value::as_array).cloned().unwrap_or_default();
                if members.is_empty() {
                    return Err(bad("group: a Group with members is needed to assign each of them"));
                }
                (members, agent::key(g))
            }
            _ => return Err(bad("give either learner or group")),
        };
        let mut rows = Vec::new();
        for l in learners {
            self.validator.agent(&l, version).map_err(|e| bad(format!("learner: {e}")))?;
            if l.get("objectType").and_then(Value::as_str) == Some("Group") {
                return Err(bad("learner must be an Agent; use group to assign a Group's members"));
            }
            let key = agent::key(&l)
                .ok_or_else(|| bad("learner needs an identifier (mbox, mbox_sha1sum, openid or account)"))?;
            rows.push(AssignmentRow {
                id: uuid::Uuid::now_v7().to_string(),
                course_id: req.course.clone(),
                learner_key: key,
                learner: l.to_string(),
                assigned_us: now,
                due_us,
                grace_days: req.grace_days.unwrap_or(0),
                recurrence_months: req.recurrence_months,
                registration: uuid::Uuid::new_v4().to_string(),
                group_key: group_key.clone(),
                waived_us: None,
                waived_reason: None,
            });
        }
        self.store.insert_assignments(&rows).await?;
        let pairs: Vec<(String, String)> = rows.iter().map(|r| (r.learner_key.clone(), r.course_id.clone())).collect();
        self.recompute_many(&pairs).await?;
        Ok(rows)
    }

    /// Waives an assignment (the learner is exempt; it counts as satisfied).
    pub async fn waive(&self, id: &str, reason: Option<&str>) -> Result<AssignmentRow> {
        if !self.store.waive_assignment(id, crate::now_us(), reason).await? {
            return Err(LrsError::NotFound(format!("no assignment {id}")));
        }
        self.store.assignment(id).await?.ok_or_else(|| LrsError::NotFound(format!("no assignment {id}")))
    }

    /// Results rows: every assignment of the matching courses/learners, plus learners with activity
    /// on a course but no assignment (their due date and compliance are null).
    pub async fn results(&self, f: &ResultsFilter, now_us: i64) -> Result<(Vec<ResultRow>, usize)> {
        // Gather assignments and result records per course: for one learner across courses, two
        // queries by learner; otherwise per course.
        let mut per_course: BTreeMap<String, (Vec<AssignmentRow>, HashMap<String, ResultRecord>)> = BTreeMap::new();
        let parse = |b: &str| serde_json::from_str::<ResultRecord>(b).ok();
        match (&f.course, &f.learner_key) {
            (None, Some(l)) => {
                for a in self.store.assignments(None, Some(l)).await? {
                    per_course.entry(a.course_id.clone()).or_default().0.push(a);
                }
                for (course, body) in self.store.results_of_learner(l).await? {
                    if let Some(r) = parse(&body) {
                        per_course.entry(course).or_default().1.insert(l.clone(), r);
                    }
                }
            }
            _ => {
                let courses: Vec<String> = match &f.course {
                    Some(c) => vec![c.clone()],
                    None => self
                        .store
                        .course_defs()
                        .await?
                        .iter()
                        .filter_map(|t| serde_json::from_str::<CourseDef>(t).ok())
                        .map(|d| d.id)
                        .collect(),
                };
                for course_id in courses {
                    let assignments = self.store.assignments(Some(&course_id), f.learner_key.as_deref()).await?;
                    let rows = match &f.learner_key {
                        Some(l) => {
                            self.store.result(&course_id, l).await?.map(|b| vec![(l.clone(), b)]).unwrap_or_default()
                        }
                        None => self.store.results_of_course(&course_id).await?,
                    };
                    let records = rows.into_iter().filter_map(|(k, b)| parse(&b).map(|r| (k, r))).collect();
                    per_course.insert(course_id, (assignments, records));
                }
            }
        }
        let mut out = Vec::new();
        for (course_id, (assignments, records)) in &per_course {
            let mut assigned = BTreeSet::new();
            for a in assignments {
                if f.group_key.is_some() && a.group_key != f.group_key {
                    continue;
                }
                assigned.insert(a.learner_key.clone());
                let d =
                    records.get(&a.learner_key).map(|r| r.derived.clone()).unwrap_or_else(|| empty_derived(course_id));
                out.push(row(course_id, Some(a), &a.learner_key, &d, now_us));
            }
            if f.group_key.is_none() {
                let mut unassigned: Vec<(&String, &ResultRecord)> =
                    records.iter().filter(|(k, _)| !assigned.contains(*k)).collect();
                unassigned.sort_by(|a, b| a.0.cmp(b.0));
                for (k, r) in unassigned {
                    if f.learner_key.as_ref().is_some_and(|l| l != k) || r.derived.status == Status::NotStarted {
                        continue;
                    }
                    out.push(row(course_id, None, k, &r.derived, now_us));
                }
            }
        }
        out.retain(|r| {
            f.status.as_ref().is_none_or(|s| s == r.status)
                && f.compliance.as_ref().is_none_or(|c| Some(c.as_str()) == r.compliance)
                && f.due_before_us
                    .is_none_or(|b| r.due.as_ref().and_then(|d| parse_ts("due", d).ok()).is_some_and(|d| d < b))
                && f.due_after_us
                    .is_none_or(|a| r.due.as_ref().and_then(|d| parse_ts("due", d).ok()).is_some_and(|d| d > a))
        });
        let total = out.len();
        let page: Vec<ResultRow> =
            out.into_iter().skip(f.offset).take(if f.limit == 0 { usize::MAX } else { f.limit }).collect();
        Ok((page, total))
    }

    /// Counts per status and compliance, completion rate, mean and median score of a course.
    pub async fn course_summary(&self, course_id: &str, now_us: i64) -> Result<Value> {
        let def = self.course_def(course_id).await?;
        let (rows, total) =
            self.results(&ResultsFilter { course: Some(course_id.to_string()), ..Default::default() }, now_us).await?;
        let mut by_status: BTreeMap<&str, usize> =
            ["not_started", "in_progress", "completed", "passed", "failed"].into_iter().map(|s| (s, 0)).collect();
        let mut by_compliance: BTreeMap<&str, usize> = BTreeMap::new();
        let mut scores: Vec<f64> = Vec::new();
        for r in &rows {
            *by_status.entry(r.status).or_default() += 1;
            if let Some(c) = r.compliance {
                *by_compliance.entry(c).or_default() += 1;
            }
            scores.extend(r.score);
        }
        scores.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        let done = by_status["completed"] + by_status["passed"];
        let median = match scores.len() {
            0 => None,
            n if n % 2 == 1 => Some(scores[n / 2]),
            n => Some((scores[n / 2 - 1] + scores[n / 2]) / 2.0),
        };
        Ok(json!({
            "course": course_id,
            "title": def.title,
            "learners": total,
            "status": by_status,
            "compliance": by_compliance,
            "completion_rate": if total == 0 { None } else { Some(done as f64 / total as f64) },
            "mean_score": if scores.is_empty() { None } else { Some(scores.iter().sum::<f64>() / scores.len() as f64) },
            "median_score": median,
        }))
    }

    // --- live sessions ---

    /// Announces a live session as a component of a course.
    pub async fn create_session(&self, req: SessionRequest) -> Result<SessionRow> {
        let mut def = self.course_def(&req.course).await?;
        let starts = parse_ts("start", &req.start)?;
        let ends = parse_ts("end", &req.end)?;
        if ends <= starts {
            return Err(bad("end must be after start"));
        }
        if req.capacity.is_some_and(|c| c < 1) {
            return Err(bad("capacity must be at least 1"));
        }
        if let Some(u) = &req.join_url {
            iri_string::types::IriStr::new(u).map_err(|_| bad(format!("join_url must be a URL, got {u:?}")))?;
        }
        let id = uuid::Uuid::now_v7().to_string();
        let row = SessionRow {
            id: id.clone(),
            course_id: req.course.clone(),
            activity_id: format!("urn:cairn:session:{id}"),
            title: req.title.clone(),
            starts_us: starts,
            ends_us: ends,
            timezone: req.timezone,
            capacity: req.capacity,
            location: req.location,
            join_url: req.join_url,
            created_us: crate::now_us(),
            cancelled_us: None,
        };
        self.store.insert_session(&row).await?;
        def.components.push(Component {
            activity_id: row.activity_id.clone(),
            title: row.title.clone(),
            required: req.required,
            rule: Rule::Session,
            blocks: vec![],
        });
        self.save_course_def(&def, true).await?;
        Ok(row)
    }

    pub async fn session(&self, id: &str) -> Result<SessionRow> {
        self.store.session(id).await?.ok_or_else(|| LrsError::NotFound(format!("no session {id}")))
    }

    /// Cancels a session; it stops counting as a required component.
    pub async fn cancel_session(&self, id: &str) -> Result<SessionRow> {
        let s = self.session(id).await?;
        self.store.cancel_session(id, crate::now_us()).await?;
        let mut def = self.course_def(&s.course_id).await?;
        def.components.retain(|c| c.activity_id != s.activity_id);
        self.save_course_def(&def, true).await?;
        self.session(id).await
    }

    fn session_activity(s: &SessionRow) -> Value {
        json!({"objectType": "Activity", "id": s.activity_id, "definition": {"type": "http://adlnet.gov/expapi/activities/meeting", "name": {"und": s.title}}})
    }

    async fn registration_for(&self, course_id: &str, learner_key: &str) -> Result<Option<String>> {
        Ok(self.store.assignments(Some(course_id), Some(learner_key)).await?.last().map(|a| a.registration.clone()))
    }

    /// Books a seat (capacity enforced) and records it as an xAPI `registered` statement.
    pub async fn book_session(&self, id: &str, learner: &Value, version: Version) -> Result<BookOutcome> {
        let s = self.session(id).await?;
        if s.cancelled_us.is_some() {
            return Err(LrsError::Conflict(format!("session {id} is cancelled")));
        }
        let key = self.learner_key(learner, version)?;
        let outcome = self.store.book(id, &key, &learner.to_string(), s.capacity, crate::now_us()).await?;
        match outcome {
            BookOutcome::Full => {
                return Err(LrsError::Conflict(format!("session {id} is full ({} seats)", s.capacity.unwrap_or(0))))
            }
            BookOutcome::AlreadyBooked => return Ok(outcome),
            BookOutcome::Booked => {}
        }
        let stmt = self.session_statement(&s, learner, &key, "registered").await?;
        self.write_as_system(vec![stmt]).await?;
        Ok(outcome)
    }

    pub async fn cancel_booking(&self, id: &str, learner: &Value, version: Version) -> Result<()> {
        let key = self.learner_key(learner, version)?;
        if !self.store.cancel_booking(id, &key, crate::now_us()).await? {
            return Err(LrsError::NotFound(format!("no active booking of session {id} for this learner")));
        }
        Ok(())
    }

    /// Marks attendance by writing the xAPI `attended` statement (as any client may).
    pub async fn mark_attendance(&self, id: &str, learner: &Value, version: Version) -> Result<String> {
        let s = self.session(id).await?;
        let key = self.learner_key(learner, version)?;
        let stmt = self.session_statement(&s, learner, &key, "attended").await?;
        let ids = self.write_as_system(vec![stmt]).await?;
        ids.into_iter().next().ok_or_else(|| bad("no statement written"))
    }

    fn learner_key(&self, learner: &Value, version: Version) -> Result<String> {
        self.validator.agent(learner, version).map_err(|e| bad(format!("learner: {e}")))?;
        agent::key(learner).ok_or_else(|| bad("learner needs an identifier"))
    }

    async fn session_statement(&self, s: &SessionRow, learner: &Value, key: &str, verb: &str) -> Result<Value> {
        let mut ctx = json!({"contextActivities": {"parent": [{"id": s.course_id}]}});
        if let Some(reg) = self.registration_for(&s.course_id, key).await? {
            ctx["registration"] = json!(reg);
        }
        Ok(json!({
            "actor": learner,
            "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}"), "display": {"en-US": verb}},
            "object": Self::session_activity(s),
            "context": ctx,
        }))
    }
}

/// The fact rows of one statement's facts (one per activity it is linked to) and the pairs they touch.
fn fact_rows(facts: Vec<Fact>, rows: &mut Vec<FactRow>, touched: &mut Touched) -> Result<()> {
    for f in facts {
        let text = serde_json::to_string(&f).map_err(|e| bad(e.to_string()))?;
        for linked in std::iter::once(&f.activity_id).chain(f.context_ids.iter()) {
            rows.push(FactRow {
                statement_id: f.statement_id.clone(),
                linked: linked.clone(),
                learner_key: f.learner_key.clone(),
                body: text.clone(),
            });
            touched.insert((f.learner_key.clone(), linked.clone()));
        }
    }
    Ok(())
}

fn empty_derived(_course: &str) -> Derived {
    derive::derive(
        &CourseDef { id: String::new(), title: String::new(), course_activity: None, components: vec![], cmi5: false },
        &[],
    )
}

fn row(course_id: &str, a: Option<&AssignmentRow>, learner_key: &str, d: &Derived, now_us: i64) -> ResultRow {
    let learner = a.and_then(|a| serde_json::from_str(&a.learner).ok()).unwrap_or_else(|| agent::from_key(learner_key));
    let standing = a.map(|a| {
        compliance::standing(
            &Terms {
                assigned_us: a.assigned_us,
                due_us: a.due_us,
                grace_days: a.grace_days,
                recurrence_months: a.recurrence_months,
                waived: a.waived_us.is_some(),
            },
            d,
            now_us,
        )
    });
    let completed = standing.map(|s| s.completed_us).unwrap_or_else(|| d.satisfied_at_us.first().copied());
    // A waived assignment counts as satisfied.
    let status = match (a.is_some_and(|a| a.waived_us.is_some()), d.status) {
        (true, Status::NotStarted | Status::InProgress | Status::Failed) => Status::Completed,
        (_, s) => s,
    };
    ResultRow {
        learner,
        learner_label: agent::label(learner_key),
        course: course_id.to_string(),
        assignment: a.map(|a| a.id.clone()),
        registration: a.map(|a| cycle_registration(&a.registration, standing.map(|s| s.cycle).unwrap_or(0))),
        status: status.as_str(),
        score: d.score.and_then(|s| s.scaled),
        score_raw: d.score.and_then(|s| s.raw),
        score_min: d.score.and_then(|s| s.min),
        score_max: d.score.and_then(|s| s.max),
        first_score: d.first_score,
        best_score: d.best_score,
        time_spent_seconds: d.time_spent_s,
        completed_at: completed.map(ts),
        due: standing.map(|s| ts(s.due_us)),
        compliance: standing.map(|s| s.compliance.as_str()),
        expires_at: standing.and_then(|s| s.expires_us).map(ts),
        cycle: standing.map(|s| s.cycle).unwrap_or(0),
        attendance: d.attendance.clone(),
        components: d.components.clone(),
    }
}

/// The registration of an assignment's cycle: the assignment's own for the first cycle, then one
/// derived from it per re-certification (name-based UUID), so each cycle is its own attempt and any node
/// computes the same id without storing it.
pub fn cycle_registration(registration: &str, cycle: usize) -> String {
    if cycle == 0 {
        return registration.to_string();
    }
    let base = uuid::Uuid::parse_str(registration).unwrap_or_default();
    uuid::Uuid::new_v5(&base, format!("cycle-{cycle}").as_bytes()).to_string()
}

/// The cmi5 `satisfied` statements newly due for a learner: one per block and for the course, the
/// first time each becomes satisfied, in the registration of the statement that satisfied it.
fn cmi5_satisfied(
    def: &CourseDef,
    learner_key: &str,
    facts: &[Fact],
    d: &Derived,
    written: &mut BTreeSet<String>,
) -> Vec<Value> {
    let mut out = Vec::new();
    let latest = facts.iter().filter(|f| f.registration.is_some()).max_by_key(|f| f.at_us);
    let registration = latest.and_then(|f| f.registration.clone());
    let session = latest.and_then(|f| f.session_id.clone());
    let actor = agent::from_key(learner_key);
    let make = |object_id: &str, kind: &str| {
        let mut ctx = json!({"contextActivities": {"category": [{"id": CMI5_CATEGORY}], "grouping": [{"id": def.id}]}});
        if let Some(r) = &registration {
            ctx["registration"] = json!(r);
        }
        if let Some(s) = &session {
            ctx["extensions"] = json!({"https://w3id.org/xapi/cmi5/context/extensions/sessionid": s});
        }
        if object_id == def.id {
            if let Some(o) = ctx["contextActivities"].as_object_mut() {
                o.remove("grouping");
            }
        }
        json!({
            "actor": actor,
            "verb": {"id": "https://w3id.org/xapi/adl/verbs/satisfied", "display": {"en-US": "satisfied"}},
            "object": {"objectType": "Activity", "id": object_id, "definition": {"type": format!("https://w3id.org/xapi/cmi5/activitytype/{kind}")}},
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::compliance::Compliance;

    #[test]
    fn waived_assignments_count_as_satisfied() {
        let a = AssignmentRow {
            id: "a".into(),
            course_id: "c".into(),
            learner_key: "Agent|mbox:mailto:a@example.com".into(),
            learner: "".into(),
            assigned_us: 0,
            due_us: DAY_US,
            grace_days: 0,
            recurrence_months: None,
            registration: "r".into(),
            group_key: None,
            waived_us: Some(1),
            waived_reason: None,
        };
        let r = row("c", Some(&a), &a.learner_key, &empty_derived("c"), 10 * DAY_US);
        assert_eq!((r.status, r.compliance), ("completed", Some("waived")));
        assert_eq!(r.learner, agent::from_key(&a.learner_key));
    }

    #[test]
    fn each_recertification_cycle_has_its_own_registration() {
        let r = "6f1e2a34-8d9c-4b9e-9a3e-5b3d1c3a2b10";
        assert_eq!(cycle_registration(r, 0), r);
        let c1 = cycle_registration(r, 1);
        assert_ne!(c1, r);
        assert_eq!(c1, cycle_registration(r, 1), "stable across nodes and calls");
        assert_ne!(c1, cycle_registration(r, 2));
        assert!(uuid::Uuid::parse_str(&c1).is_ok());
    }

    #[test]
    fn compliance_parse_matches_words() {
        assert_eq!(Compliance::parse("on_time"), Some(Compliance::OnTime));
        assert_eq!(Compliance::parse("nope"), None);
    }
}

//! Reports: the results of learners and courses as analysts query them (JSON rows, CSV), and course
//! summaries.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::{json, Value};

use super::assignments::cycle_registration;
use super::results::ResultRecord;
use super::{parse_ts, Lms};
use crate::lrs::error::Result;
use crate::results::compliance::{self, Terms};
use crate::results::derive::{self, CourseDef, Derived, Status};
use crate::store::AssignmentRow;
use crate::xapi::agent;
use crate::xapi::timestamp::format_us as ts;

/// One row of the results API.
#[derive(Debug, Clone, Serialize)]
pub struct ResultRow {
    pub learner: Value,
    /// The person the result is kept for (every identifier of theirs counts).
    pub person: Option<String>,
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

impl Lms {
    /// Results rows: every assignment of the matching courses/learners, plus learners with activity
    /// on a course but no assignment (their due date and compliance are null).
    pub async fn results(&self, f: &ResultsFilter, now_us: i64) -> Result<(Vec<ResultRow>, usize)> {
        // Gather assignments and result records per course: for one learner across courses, two
        // queries by learner; otherwise per course.
        // Results are kept per person; the learner filter names one of the person's identifiers.
        let person = match &f.learner_key {
            Some(k) => match self.store.persons_of(std::slice::from_ref(k)).await?.remove(k) {
                Some(p) => Some(p),
                None => return Ok((Vec::new(), 0)),
            },
            None => None,
        };
        let mut per_course: BTreeMap<String, (Vec<AssignmentRow>, HashMap<String, ResultRecord>)> = BTreeMap::new();
        let parse = |b: &str| serde_json::from_str::<ResultRecord>(b).ok();
        match (&f.course, &person) {
            (None, Some(p)) => {
                for a in self.store.assignments_of_person(None, p).await? {
                    per_course.entry(a.course_id.clone()).or_default().0.push(a);
                }
                for (course, body) in self.store.results_of_learner(p).await? {
                    if let Some(r) = parse(&body) {
                        per_course.entry(course).or_default().1.insert(p.clone(), r);
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
                    let (assignments, rows) = match &person {
                        Some(p) => (
                            self.store.assignments_of_person(Some(&course_id), p).await?,
                            self.store.result(&course_id, p).await?.map(|b| vec![(p.clone(), b)]).unwrap_or_default(),
                        ),
                        None => (
                            self.store.assignments(Some(&course_id), None).await?,
                            self.store.results_of_course(&course_id).await?,
                        ),
                    };
                    let records = rows.into_iter().filter_map(|(k, b)| parse(&b).map(|r| (k, r))).collect();
                    per_course.insert(course_id, (assignments, records));
                }
            }
        }
        // Whose each assignment is, and how a learner with results but no assignment is shown.
        let assigned_keys: Vec<String> = per_course
            .values()
            .flat_map(|(a, _)| a.iter().map(|a| a.learner_key.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let person_of = self.store.persons_of(&assigned_keys).await?;
        let mut out = Vec::new();
        let mut unassigned: Vec<(&String, &String, &ResultRecord)> = Vec::new();
        for (course_id, (assignments, records)) in &per_course {
            let mut assigned = BTreeSet::new();
            for a in assignments {
                if f.group_key.is_some() && a.group_key != f.group_key {
                    continue;
                }
                let p = person_of.get(&a.learner_key);
                assigned.extend(p.cloned());
                let d = p
                    .and_then(|p| records.get(p))
                    .map(|r| r.derived.clone())
                    .unwrap_or_else(|| empty_derived(course_id));
                out.push(row(course_id, Some(a), &a.learner_key, p.map(String::as_str), &d, now_us));
            }
            if f.group_key.is_none() {
                let mut rest: Vec<(&String, &String, &ResultRecord)> = records
                    .iter()
                    .filter(|(k, r)| !assigned.contains(*k) && r.derived.status != Status::NotStarted)
                    .map(|(k, r)| (course_id, k, r))
                    .collect();
                rest.sort_by(|a, b| a.1.cmp(b.1));
                unassigned.extend(rest);
            }
        }
        if !unassigned.is_empty() {
            let persons: Vec<String> =
                unassigned.iter().map(|(_, p, _)| (*p).clone()).collect::<BTreeSet<_>>().into_iter().collect();
            let mut shown_as: HashMap<String, String> = HashMap::new();
            for (p, key) in self.store.identifiers_of(&persons).await? {
                shown_as.entry(p).or_insert(key);
            }
            for (course_id, p, r) in unassigned {
                let Some(key) = shown_as.get(p) else { continue };
                out.push(row(course_id, None, key, Some(p), &r.derived, now_us));
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
}

fn empty_derived(_course: &str) -> Derived {
    derive::derive(
        &CourseDef {
            id: String::new(),
            title: String::new(),
            course_activity: None,
            components: vec![],
            cmi5: false,
            sequencing: None,
        },
        &[],
    )
}

/// A results row: `learner_key` is the identifier shown (the assignment's, else the person's first).
fn row(
    course_id: &str,
    a: Option<&AssignmentRow>,
    learner_key: &str,
    person: Option<&str>,
    d: &Derived,
    now_us: i64,
) -> ResultRow {
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
        person: person.map(str::to_string),
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
        // `+ 0.0` turns a -0.0 kept in results derived before the fix into 0.0.
        time_spent_seconds: d.time_spent_s + 0.0,
        completed_at: completed.map(ts),
        due: standing.map(|s| ts(s.due_us)),
        compliance: standing.map(|s| s.compliance.as_str()),
        expires_at: standing.and_then(|s| s.expires_us).map(ts),
        cycle: standing.map(|s| s.cycle).unwrap_or(0),
        attendance: d.attendance.clone(),
        components: d.components.clone(),
    }
}

/// CSV columns, in order.
pub const CSV_COLUMNS: [&str; 13] = [
    "learner",
    "course",
    "status",
    "score",
    "score_raw",
    "first_score",
    "best_score",
    "time_spent_seconds",
    "completed_at",
    "due",
    "compliance",
    "assignment",
    "registration",
];

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Results as CSV (RFC 4180), one line per learner and course.
pub fn to_csv(rows: &[ResultRow]) -> String {
    let mut out = CSV_COLUMNS.join(",") + "\r\n";
    let num = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    for r in rows {
        let cells = [
            r.learner_label.clone(),
            r.course.clone(),
            r.status.to_string(),
            num(r.score),
            num(r.score_raw),
            num(r.first_score),
            num(r.best_score),
            r.time_spent_seconds.to_string(),
            r.completed_at.clone().unwrap_or_default(),
            r.due.clone().unwrap_or_default(),
            r.compliance.unwrap_or_default().to_string(),
            r.assignment.clone().unwrap_or_default(),
            r.registration.clone().unwrap_or_default(),
        ];
        out.push_str(&cells.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::assignments::DAY_US;
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
        let r = row("c", Some(&a), &a.learner_key, None, &empty_derived("c"), 10 * DAY_US);
        assert_eq!((r.status, r.compliance), ("completed", Some("waived")));
        assert_eq!(r.learner, agent::from_key(&a.learner_key));
    }

    #[test]
    fn compliance_parse_matches_words() {
        assert_eq!(Compliance::parse("on_time"), Some(Compliance::OnTime));
        assert_eq!(Compliance::parse("nope"), None);
    }
}

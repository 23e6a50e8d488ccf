//! Reports: the results of learners and courses as analysts query them (JSON rows, CSV), and course
//! summaries.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::{json, Value};

use super::assignments::cycle_registration;
use super::results::ResultRecord;
use super::Lms;
use crate::lrs::error::Result;
use crate::results::compliance::{self, Compliance, Standing, Terms};
use crate::results::derive::{self, CourseDef, Derived, Status};
use crate::store::{AssignmentRow, BriefColumns, SummaryCount};
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

/// A results row before its derived record is read: what the filters, counts and charts need,
/// from the result's brief columns (see [`crate::store::ResultBrief`]) and the assignment.
#[derive(Debug, Clone)]
pub struct Brief {
    pub course: String,
    pub assignment: Option<Assigned>,
    /// The person the result is kept for (`None`: an assigned identifier with no statement yet).
    pub person: Option<String>,
    pub status: Status,
    pub score: Option<f64>,
    pub time_spent_s: f64,
    pub completed_us: Option<i64>,
    pub standing: Option<Standing>,
}

/// What a brief keeps of its assignment (the full row is read for the rows shown).
#[derive(Debug, Clone)]
pub struct Assigned {
    pub id: String,
    pub learner_key: String,
}

impl Brief {
    pub fn compliance(&self) -> Option<&'static str> {
        self.standing.map(|s| s.compliance.as_str())
    }
}

/// The parts of a derived result a brief reads.
struct Lite {
    status: Status,
    score: Option<f64>,
    time_spent_s: f64,
    satisfied_at_us: Vec<i64>,
    without_activity: bool,
}

impl Lite {
    fn of(d: &Derived) -> Lite {
        Lite {
            status: d.status,
            score: d.score.and_then(|s| s.scaled),
            time_spent_s: d.time_spent_s,
            satisfied_at_us: d.satisfied_at_us.clone(),
            without_activity: d.satisfied_without_activity,
        }
    }

    /// From the brief columns; a row without them (written before they existed) from its body.
    fn read(r: &BriefColumns) -> Option<Lite> {
        if let Some(body) = &r.body {
            return serde_json::from_str::<ResultRecord>(body).ok().map(|rec| Lite::of(&rec.derived));
        }
        Some(Lite {
            status: Status::parse(r.status.as_deref()?)?,
            score: r.scaled,
            time_spent_s: r.time_spent_s.unwrap_or(0.0),
            satisfied_at_us: r.satisfied_at_us(),
            without_activity: r.satisfied_free.unwrap_or(false),
        })
    }
}

fn terms_of(a: &AssignmentRow) -> Terms {
    Terms {
        assigned_us: a.assigned_us,
        due_us: a.due_us,
        grace_days: a.grace_days,
        recurrence_months: a.recurrence_months,
        waived: a.waived_us.is_some(),
    }
}

impl Lms {
    /// Results rows: every assignment of the matching courses/learners, plus learners with activity
    /// on a course but no assignment (their due date and compliance are null). Only the returned
    /// page's derived records are read; filters and the total come from [`Lms::briefs`].
    pub async fn results(&self, f: &ResultsFilter, now_us: i64) -> Result<(Vec<ResultRow>, usize)> {
        let briefs = self.briefs(f, now_us).await?;
        let total = briefs.len();
        let limit = if f.limit == 0 { usize::MAX } else { f.limit };
        let page: Vec<Brief> = briefs.into_iter().skip(f.offset).take(limit).collect();
        Ok((self.rows_of(&page, now_us).await?, total))
    }

    /// The filtered results rows without their derived records (for counts and charts over every
    /// learner of a course), in the order [`Lms::results`] pages them.
    pub async fn briefs(&self, f: &ResultsFilter, now_us: i64) -> Result<Vec<Brief>> {
        // Results are kept per person; the learner filter names one of the person's identifiers.
        let person = match &f.learner_key {
            Some(k) => match self.store.persons_of(std::slice::from_ref(k)).await?.remove(k) {
                Some(p) => Some(p),
                None => return Ok(Vec::new()),
            },
            None => None,
        };
        let mut assigned = self.store.assigned_briefs(f.course.as_deref(), person.as_deref()).await?;
        // Every course of the store when neither a course nor a learner is named: only defined ones.
        let defined: Option<BTreeSet<String>> = match (&f.course, &person) {
            (None, None) => Some(self.store.course_def_ids().await?.into_iter().collect()),
            _ => None,
        };
        let counts = |course: &str| defined.as_ref().is_none_or(|d| d.contains(course));
        let nothing = Lite::of(&empty_derived(""));
        // Course by course (in Rust's order, whatever the database's collation), each as assigned.
        assigned.sort_by(|x, y| x.course_id.cmp(&y.course_id));
        let mut out = Vec::new();
        for a in assigned {
            if !counts(&a.course_id) || (f.group_key.is_some() && a.group_key != f.group_key) {
                continue;
            }
            let lite = Lite::read(&a.brief);
            let lite = lite.as_ref().unwrap_or(&nothing);
            let standing = compliance::standing_of(&a.terms(), &lite.satisfied_at_us, lite.without_activity, now_us);
            let status = lite.status.as_assigned(a.waived_us.is_some());
            out.push(Brief {
                assignment: Some(Assigned { id: a.id, learner_key: a.learner_key }),
                person: a.person_id,
                status,
                score: lite.score,
                time_spent_s: lite.time_spent_s,
                completed_us: standing.completed_us,
                standing: Some(standing),
                course: a.course_id,
            });
        }
        if f.group_key.is_none() {
            let mut rest = self.store.unassigned_briefs(f.course.as_deref(), person.as_deref()).await?;
            rest.sort_by(|x, y| (&x.course_id, &x.learner_key).cmp(&(&y.course_id, &y.learner_key)));
            for r in rest {
                let Some(l) = Lite::read(&r.brief) else { continue };
                if !counts(&r.course_id) || l.status == Status::NotStarted {
                    continue;
                }
                out.push(Brief {
                    course: r.course_id,
                    assignment: None,
                    person: Some(r.learner_key),
                    status: l.status,
                    score: l.score,
                    time_spent_s: l.time_spent_s,
                    completed_us: l.satisfied_at_us.first().copied(),
                    standing: None,
                });
            }
        }
        out.retain(|b| {
            let due = b.standing.map(|s| s.due_us);
            f.status.as_ref().is_none_or(|s| s == b.status.as_str())
                && f.compliance.as_ref().is_none_or(|c| Some(c.as_str()) == b.compliance())
                && f.due_before_us.is_none_or(|x| due.is_some_and(|d| d < x))
                && f.due_after_us.is_none_or(|x| due.is_some_and(|d| d > x))
        });
        Ok(out)
    }

    /// The full rows of these briefs: their derived records read, course by course.
    pub async fn rows_of(&self, briefs: &[Brief], now_us: i64) -> Result<Vec<ResultRow>> {
        let mut wanted: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for b in briefs {
            if let Some(p) = &b.person {
                wanted.entry(b.course.as_str()).or_default().insert(p.clone());
            }
        }
        let mut derived: HashMap<(String, String), Derived> = HashMap::new();
        for (course, persons) in wanted {
            let persons: Vec<String> = persons.into_iter().collect();
            for (p, body) in self.store.result_bodies(course, &persons).await? {
                if let Ok(r) = serde_json::from_str::<ResultRecord>(&body) {
                    derived.insert((course.to_string(), p), r.derived);
                }
            }
        }
        // How a learner with results but no assignment is shown: the person's oldest identifier.
        let unassigned: Vec<String> = briefs
            .iter()
            .filter(|b| b.assignment.is_none())
            .filter_map(|b| b.person.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut shown_as: HashMap<String, String> = HashMap::new();
        if !unassigned.is_empty() {
            for (p, key) in self.store.identifiers_of(&unassigned).await? {
                shown_as.entry(p).or_insert(key);
            }
        }
        let ids: Vec<String> = briefs.iter().filter_map(|b| b.assignment.as_ref().map(|a| a.id.clone())).collect();
        let assignments: HashMap<String, AssignmentRow> =
            self.store.assignments_by_id(&ids).await?.into_iter().map(|a| (a.id.clone(), a)).collect();
        let nothing = empty_derived("");
        let mut out = Vec::with_capacity(briefs.len());
        for b in briefs {
            let d = b.person.as_ref().and_then(|p| derived.get(&(b.course.clone(), p.clone()))).unwrap_or(&nothing);
            match &b.assignment {
                Some(a) => {
                    // Removed since the briefs were read: left out.
                    let Some(a) = assignments.get(&a.id) else { continue };
                    out.push(row(&b.course, Some(a), &a.learner_key, b.person.as_deref(), d, now_us))
                }
                None => {
                    let Some(key) = b.person.as_ref().and_then(|p| shown_as.get(p)) else { continue };
                    out.push(row(&b.course, None, key, b.person.as_deref(), d, now_us));
                }
            }
        }
        Ok(out)
    }

    /// Counts per status and compliance, completion rate, mean and median score of a course.
    ///
    /// Counted from the course's summary items ([`crate::store::Store::summary_counts`]), kept with
    /// the results and assignments they count: joining every learner's assignment, person and result
    /// at each request took 60-110 ms at 10,000 learners (issue 15). A course with a result the items
    /// cannot stand for (no brief columns) is read row by row, by [`Lms::course_summary_by_rows`].
    pub async fn course_summary(&self, course_id: &str, now_us: i64) -> Result<Value> {
        let def = self.course_def(course_id).await?;
        let counts = self.store.summary_counts(course_id, now_us).await?;
        match tally_of_counts(&counts) {
            Some(t) => Ok(t.json(course_id, &def.title)),
            None => self.course_summary_by_rows(course_id, now_us).await,
        }
    }

    /// [`Lms::course_summary`] from every results row of the course, as [`Lms::results`] reads them:
    /// the fallback for rows the database's groups cannot stand for, and the tests' reference.
    pub async fn course_summary_by_rows(&self, course_id: &str, now_us: i64) -> Result<Value> {
        let def = self.course_def(course_id).await?;
        let rows =
            self.briefs(&ResultsFilter { course: Some(course_id.to_string()), ..Default::default() }, now_us).await?;
        let mut t = Tally::new();
        for r in &rows {
            t.add(r.status, r.standing.map(|s| s.compliance), r.score);
        }
        Ok(t.json(course_id, &def.title))
    }

    // --- live sessions ---
}

/// A course summary's counts, added row by row or group by group.
struct Tally {
    learners: usize,
    status: BTreeMap<&'static str, usize>,
    compliance: BTreeMap<&'static str, usize>,
    scores: Vec<f64>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            learners: 0,
            // Every status is shown, counted or not; a compliance only once counted.
            status: ["not_started", "in_progress", "completed", "passed", "failed"]
                .into_iter()
                .map(|s| (s, 0))
                .collect(),
            compliance: BTreeMap::new(),
            scores: Vec::new(),
        }
    }

    /// One row.
    fn add(&mut self, status: Status, compliance: Option<Compliance>, score: Option<f64>) {
        self.add_status(status.as_str(), 1);
        if let Some(c) = compliance {
            self.add_compliance(c.as_str(), 1);
        }
        if let Some(s) = score {
            self.add_score(s, 1);
        }
    }

    /// `n` learners with this status.
    fn add_status(&mut self, status: &'static str, n: usize) {
        self.learners += n;
        *self.status.entry(status).or_default() += n;
    }

    /// `n` assignments with this compliance (counted only when there are some).
    fn add_compliance(&mut self, compliance: &'static str, n: usize) {
        if n > 0 {
            *self.compliance.entry(compliance).or_default() += n;
        }
    }

    /// `n` learners with this score. Every score is kept and summed in sorted order, so the mean
    /// is the same float however the rows were grouped; `+ 0.0` makes -0.0 and 0.0 one score, as
    /// they are one group to the database.
    fn add_score(&mut self, score: f64, n: usize) {
        self.scores.extend(std::iter::repeat_n(score + 0.0, n));
    }

    fn json(mut self, course_id: &str, title: &str) -> Value {
        self.scores.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        let scores = &self.scores;
        let done = self.status["completed"] + self.status["passed"];
        let median = match scores.len() {
            0 => None,
            n if n % 2 == 1 => Some(scores[n / 2]),
            n => Some((scores[n / 2 - 1] + scores[n / 2]) / 2.0),
        };
        let total = self.learners;
        json!({
            "course": course_id,
            "title": title,
            "learners": total,
            "status": self.status,
            "compliance": self.compliance,
            "completion_rate": if total == 0 { None } else { Some(done as f64 / total as f64) },
            "mean_score": if scores.is_empty() { None } else { Some(scores.iter().sum::<f64>() / scores.len() as f64) },
            "median_score": median,
        })
    }
}

/// The summary of a course from its kept counts (see [`SummaryCount`]): the time-dependent
/// categories split by the counts past their instants (`o`, `x`, `e`), as
/// [`crate::results::compliance::Profile::at`] splits one. `None` when an item is a result without
/// brief columns (the results rows read its body) or a count is one no item gives, so the caller
/// reads the rows instead.
fn tally_of_counts(counts: &[SummaryCount]) -> Option<Tally> {
    let mut t = Tally::new();
    // Category -> (count, count past its instant, count expiring).
    let mut timed: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for c in counts {
        let n = usize::try_from(c.n).ok()?;
        let label = c.label.as_deref();
        match c.part.as_str() {
            "s" => t.add_status(Status::parse(label?)?.as_str(), n),
            "c" => match label? {
                l @ ("due" | "renew_on_time" | "renew_late") => timed.entry(l).or_default().0 += n,
                l => t.add_compliance(Compliance::parse(l)?.as_str(), n),
            },
            "v" => t.add_score(c.scaled?, n),
            "o" | "x" => timed.entry(label?).or_default().1 += n,
            "e" => timed.entry(label?).or_default().2 += n,
            _ => return None,
        }
    }
    for (category, (all, past, expiring)) in timed {
        let before = all.checked_sub(past)?.checked_sub(expiring)?;
        match category {
            "due" => {
                t.add_compliance(Compliance::Pending.as_str(), before);
                t.add_compliance(Compliance::Overdue.as_str(), past);
            }
            renew => {
                let base = Compliance::parse(renew.strip_prefix("renew_")?)?;
                t.add_compliance(base.as_str(), before);
                t.add_compliance(Compliance::Expiring.as_str(), expiring);
                t.add_compliance(Compliance::Expired.as_str(), past);
            }
        }
    }
    Some(t)
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
    let standing = a.map(|a| compliance::standing(&terms_of(a), d, now_us));
    let completed = standing.map(|s| s.completed_us).unwrap_or_else(|| d.satisfied_at_us.first().copied());
    let status = d.status.as_assigned(a.is_some_and(|a| a.waived_us.is_some()));
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
    fn kept_counts_split_at_the_time_asked() {
        let c = |part: &str, label: Option<&str>, scaled: Option<f64>, n: i64| SummaryCount {
            part: part.into(),
            label: label.map(str::to_string),
            scaled,
            n,
        };
        let counts = [
            c("s", Some("completed"), None, 15),
            c("c", Some("due"), None, 10),
            c("c", Some("renew_on_time"), None, 5),
            c("o", Some("due"), None, 3),
            c("x", Some("renew_on_time"), None, 1),
            c("e", Some("renew_on_time"), None, 2),
            c("v", None, Some(0.5), 2),
        ];
        let j = tally_of_counts(&counts).unwrap().json("c", "C");
        assert_eq!(j["learners"], 15);
        assert_eq!(
            j["compliance"],
            json!({"pending": 7, "overdue": 3, "on_time": 2, "expiring": 2, "expired": 1}),
            "{j}"
        );
        assert_eq!((j["mean_score"].as_f64(), j["median_score"].as_f64()), (Some(0.5), Some(0.5)));
        // A result without brief columns: the rows are read instead.
        assert!(tally_of_counts(&[c("s", Some(""), None, 1)]).is_none());
    }

    #[test]
    fn compliance_parse_matches_words() {
        assert_eq!(Compliance::parse("on_time"), Some(Compliance::OnTime));
        assert_eq!(Compliance::parse("nope"), None);
    }
}

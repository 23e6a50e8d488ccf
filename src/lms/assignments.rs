//! Assignments: a course assigned to a learner (or each member of a group) with a due date, grace and
//! recurrence; waivers.

use super::results::LearnerCourse;
use serde::Deserialize;
use serde_json::Value;

use super::{bad, parse_ts, Lms};
use crate::lrs::error::Result;
use crate::lrs::LrsError;
use crate::store::AssignmentRow;
use crate::xapi::{agent, Version};

pub(super) const DAY_US: i64 = 86_400 * 1_000_000;

/// Rows one bulk file may hold.
pub const MAX_CSV_ROWS: usize = 10_000;

/// Why one row of a bulk assignment file was refused (`line` counts the header as 1).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RowError {
    pub line: usize,
    pub message: String,
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

impl Lms {
    /// Assignments of a course and/or learner (agent key), oldest first.
    pub async fn assignments(&self, course: Option<&str>, learner_key: Option<&str>) -> Result<Vec<AssignmentRow>> {
        Ok(self.store.assignments(course, learner_key).await?)
    }

    /// Assigns a course to a learner or to each member of a group.
    pub async fn assign(&self, req: AssignRequest, version: Version) -> Result<Vec<AssignmentRow>> {
        let rows = self.prepare_assignment(req, version, crate::now_us()).await?;
        self.store_assignments(&rows).await?;
        Ok(rows)
    }

    /// Checks an assignment request and builds its rows, storing nothing.
    async fn prepare_assignment(&self, req: AssignRequest, version: Version, now: i64) -> Result<Vec<AssignmentRow>> {
        self.course_def(&req.course).await?;
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
        Ok(rows)
    }

    /// Stores assignments in one transaction (all or none) and derives their results.
    async fn store_assignments(&self, rows: &[AssignmentRow]) -> Result<()> {
        self.store.insert_assignments(rows).await?;
        let persons = self.persons_of_keys(rows.iter().map(|r| r.learner_key.clone())).await?;
        let pairs: Vec<LearnerCourse> = rows
            .iter()
            .filter_map(|r| {
                let person = persons.get(&r.learner_key)?.clone();
                Some(LearnerCourse { learner_key: person, course_id: r.course_id.clone() })
            })
            .collect();
        self.recompute_many(&pairs).await
    }

    /// Assigns from a CSV file with a header row naming `learner` (an email or `mailto:`), `course`
    /// and `due` (RFC 3339, or a day `YYYY-MM-DD`, due at its end, UTC), optionally `grace_days`
    /// and `recurrence_months`. Every row is checked first: one bad row stores nothing, and the
    /// answer names each bad row (`Ok(Err(..))`).
    pub async fn assign_csv(
        &self,
        text: &str,
        version: Version,
    ) -> Result<std::result::Result<Vec<AssignmentRow>, Vec<RowError>>> {
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(text.as_bytes());
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| bad(format!("the CSV header cannot be read: {e}")))?
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        let col = |name: &str| headers.iter().position(|h| h == name);
        let (Some(learner), Some(course), Some(due)) = (col("learner"), col("course"), col("due")) else {
            return Err(bad(format!(
                "the CSV header must name learner, course and due (optional: grace_days, recurrence_months); got {}",
                headers.join(",")
            )));
        };
        let (grace, recurrence) = (col("grace_days"), col("recurrence_months"));
        let now = crate::now_us();
        let (mut rows, mut errors) = (Vec::new(), Vec::new());
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            if i >= MAX_CSV_ROWS {
                return Err(bad(format!("at most {MAX_CSV_ROWS} rows per file")));
            }
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    errors.push(RowError { line, message: format!("unreadable row: {e}") });
                    continue;
                }
            };
            let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").to_string();
            let number = |name: &str, i: Option<usize>| -> Result<Option<i64>> {
                let t = cell(i);
                if t.is_empty() {
                    return Ok(None);
                }
                t.parse().map(Some).map_err(|_| bad(format!("{name} must be a whole number, got {t:?}")))
            };
            let attempt = async {
                let email = cell(Some(learner));
                let email = email.trim_start_matches("mailto:");
                if !email.contains('@') || email.contains(char::is_whitespace) {
                    return Err(bad(format!("learner {email:?} is not an email address")));
                }
                let day = cell(Some(due));
                let due = if day.len() == 10 { format!("{day}T23:59:59Z") } else { day };
                let req = AssignRequest {
                    course: cell(Some(course)),
                    learner: Some(serde_json::json!({"objectType": "Agent", "mbox": format!("mailto:{email}")})),
                    group: None,
                    due: Some(due),
                    due_in_days: None,
                    grace_days: number("grace_days", grace)?,
                    recurrence_months: number("recurrence_months", recurrence)?,
                };
                self.prepare_assignment(req, version, now).await
            };
            match attempt.await {
                Ok(r) => rows.extend(r),
                Err(e) => errors.push(RowError { line, message: e.to_string() }),
            }
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        if rows.is_empty() {
            return Err(bad("the CSV has no rows to assign"));
        }
        self.store_assignments(&rows).await?;
        Ok(Ok(rows))
    }

    /// Waives an assignment (the learner is exempt; it counts as satisfied).
    pub async fn waive(&self, id: &str, reason: Option<&str>) -> Result<AssignmentRow> {
        if !self.store.waive_assignment(id, crate::now_us(), reason).await? {
            return Err(LrsError::NotFound(format!("no assignment {id}")));
        }
        self.store.assignment(id).await?.ok_or_else(|| LrsError::NotFound(format!("no assignment {id}")))
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

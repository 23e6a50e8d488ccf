//! Assignments: a course assigned to a learner with a due date, grace, recurrence and waiver.

use serde::Serialize;

use super::dialect::conditions;
use super::{Result, Store};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AssignmentRow {
    pub id: String,
    pub course_id: String,
    pub learner_key: String,
    /// The learner agent as JSON text.
    pub learner: String,
    pub assigned_us: i64,
    pub due_us: i64,
    pub grace_days: i64,
    pub recurrence_months: Option<i64>,
    pub registration: String,
    pub group_key: Option<String>,
    pub waived_us: Option<i64>,
    pub waived_reason: Option<String>,
}

const COLUMNS: &str = "id, course_id, learner_key, learner, assigned_us, due_us, grace_days, recurrence_months, \
     registration, group_key, waived_us, waived_reason";

impl Store {
    /// Records assignments, all or none, with their course summary items.
    pub async fn insert_assignments(&self, rows: &[AssignmentRow]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let mut conn = tx.conn();
        let sql =
            format!("INSERT INTO assignments ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)");
        for a in rows {
            conn.sql(sql.clone())
                .bind(&a.id)
                .bind(&a.course_id)
                .bind(&a.learner_key)
                .bind(&a.learner)
                .bind(a.assigned_us)
                .bind(a.due_us)
                .bind(a.grace_days)
                .bind(a.recurrence_months)
                .bind(&a.registration)
                .bind(&a.group_key)
                .bind(a.waived_us)
                .bind(&a.waived_reason)
                .execute()
                .await?;
        }
        let scope =
            super::summary::Scope { assignments: rows.iter().map(|a| a.id.clone()).collect(), ..Default::default() };
        super::summary::refresh(&mut conn, &scope).await?;
        tx.commit().await
    }

    /// Assignments, optionally of one course and/or one learner.
    pub async fn assignments(&self, course_id: Option<&str>, learner_key: Option<&str>) -> Result<Vec<AssignmentRow>> {
        // Conditions only for the filters given: `($1 = '' OR course_id = $1)` would keep SQLite
        // from using the index (the plan is made before the value is known).
        let (conditions, values) = conditions(&[("course_id", course_id), ("learner_key", learner_key)]);
        let sql = format!("SELECT {COLUMNS} FROM assignments{conditions} ORDER BY assigned_us, id");
        let mut q = self.read().sql(sql);
        for v in values {
            q = q.bind(v);
        }
        q.fetch_all_as().await
    }

    /// The groups that courses were assigned to (their agent keys), for the reports' group filter.
    pub async fn assigned_groups(&self) -> Result<Vec<String>> {
        self.read()
            .q("SELECT DISTINCT group_key FROM assignments WHERE group_key IS NOT NULL ORDER BY group_key")
            .scalars()
            .await
    }

    /// Assignments to any identifier of a person, optionally of one course.
    pub async fn assignments_of_person(&self, course_id: Option<&str>, person: &str) -> Result<Vec<AssignmentRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM assignments WHERE ($1 = '' OR course_id = $1) AND learner_key IN \
             (SELECT ifi_key FROM person_identifiers WHERE person_id = $2) ORDER BY assigned_us, id"
        );
        self.read().sql(sql).bind(course_id.unwrap_or("")).bind(person).fetch_all_as().await
    }

    /// These assignments (any order; unknown ids are left out).
    pub async fn assignments_by_id(&self, ids: &[String]) -> Result<Vec<AssignmentRow>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(super::dialect::ROWS_PER_INSERT) {
            let ex = self.read();
            let sql =
                format!("SELECT {COLUMNS} FROM assignments WHERE id IN ({})", ex.backend().param_list(1, chunk.len()));
            let mut q = ex.sql(sql);
            for id in chunk {
                q = q.bind(id);
            }
            out.extend(q.fetch_all_as::<AssignmentRow>().await?);
        }
        Ok(out)
    }

    pub async fn assignment(&self, id: &str) -> Result<Option<AssignmentRow>> {
        self.read().sql(format!("SELECT {COLUMNS} FROM assignments WHERE id = $1")).bind(id).fetch_optional_as().await
    }

    /// Waives an assignment (its summary item follows in the same transaction); false when unknown.
    pub async fn waive_assignment(&self, id: &str, at_us: i64, reason: Option<&str>) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let mut conn = tx.conn();
        let n = conn
            .q("UPDATE assignments SET waived_us = $2, waived_reason = $3 WHERE id = $1")
            .bind(id)
            .bind(at_us)
            .bind(reason.map(str::to_string))
            .execute()
            .await?;
        let scope = super::summary::Scope { assignments: [id.to_string()].into(), ..Default::default() };
        super::summary::refresh(&mut conn, &scope).await?;
        tx.commit().await?;
        Ok(n > 0)
    }
}

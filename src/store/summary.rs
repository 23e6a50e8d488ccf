//! Course summaries' rows (issue 15, migration 0020): one row per thing a course summary counts,
//! each assignment and each result no assignment reaches, holding the status, score and compliance
//! the summary gives it, and their sums per course (`summary_counts`, `summary_scores`,
//! `summary_instants`), which are what a summary reads. Joining a course's assignments, persons and
//! results at every request took 50-110 ms at 10,000 learners, grouping its 10,000 items 8 ms.
//!
//! Every write that changes what an item is made of (results, assignments and waivers, persons'
//! identifiers, erasure, rebuilds) calls [`refresh`] in its own transaction, which re-reads the items'
//! inputs and replaces them: recomputed, never adjusted, so an item is right whatever it was before.
//! The sums change by what the new items add less what the replaced ones (returned by their delete)
//! added. Compliance that changes with time is kept as the instant it changes at ([`Profile`]), and
//! the summary splits the counts at the time of asking with range sums over those instants.
//!
//! Concurrency: on SQLite the one write connection serialises transactions, so a refresh inside one
//! sees every earlier write. On PostgreSQL a refresh first takes an advisory lock per course (in one
//! global order) and only then reads; a writer of an input that reads it later waits for the lock,
//! so the last refresh of an item has seen every committed input. An assignment's refresh also
//! share-locks its learner's identifier row first, so that a merge moving that identifier either
//! waits for it or is seen by it.

use std::collections::{BTreeMap, BTreeSet};

use super::dialect::{Backend, Conn, ROWS_PER_INSERT};
use super::results::{assigned_brief_columns, AssignedBriefRow, BriefColumns, ResultBriefRow};
use super::results::{ASSIGNED_BRIEF_JOINS, BRIEF_COLUMNS};
use super::{Result, Store};
use crate::results::compliance::{self, Profile, EXPIRING_WINDOW_US};
use crate::results::derive::Status;

/// One count of a course summary, as [`Store::summary_counts`] reads it. `part` says what was
/// counted: `s` items per `label` status (`""`: a result without brief columns, which only the
/// results rows can count); `c` assignments per compliance category (`waived`, `on_time`, `late`,
/// and the time-dependent `due`, `renew_on_time`, `renew_late`: see [`Profile`]); `v` items per
/// `scaled` score; at the time asked, `o` the `due` ones past their deadline (overdue), `x` and `e`
/// the `renew_*` ones expired and expiring.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SummaryCount {
    pub part: String,
    pub label: Option<String>,
    pub scaled: Option<f64>,
    pub n: i64,
}

/// Which items a write changes.
#[derive(Debug, Default)]
pub(super) struct Scope {
    /// The assignments and unassigned results of these persons, per course.
    pub persons_in: BTreeMap<String, BTreeSet<String>>,
    /// The same in every course they have an item, an assignment or a result in.
    pub persons: BTreeSet<String>,
    /// These assignments (written, waived or removed) and the unassigned results of their persons.
    pub assignments: BTreeSet<String>,
}

/// One item as stored.
#[derive(Debug, Clone, PartialEq)]
struct Item {
    item: String,
    status: Option<&'static str>,
    scaled: Option<f64>,
    compliance: Option<String>,
    at_us: Option<i64>,
}

/// A result's brief columns as the results rows read them (`reports::Lite::read`).
enum Brief {
    /// No brief columns (written before migration 0015 and not backfilled): only its body says.
    Legacy,
    /// No result, or a status no version writes: counted as not started with no completion.
    Nothing,
    Read {
        status: Status,
        scaled: Option<f64>,
        satisfied_us: Vec<i64>,
        free: bool,
    },
}

fn brief(b: &BriefColumns) -> Brief {
    if b.body.is_some() {
        return Brief::Legacy;
    }
    let Some(status) = b.status.as_deref().and_then(Status::parse) else { return Brief::Nothing };
    Brief::Read { status, scaled: b.scaled, satisfied_us: b.satisfied_at_us(), free: b.satisfied_free.unwrap_or(false) }
}

/// An assignment's item: its result's status (a waiver counts as completed unless passed), score
/// and compliance profile, as `Lms::briefs` reads the same row.
fn assigned_item(a: &AssignedBriefRow) -> Item {
    let terms = a.terms();
    let (status, scaled, profile) = match brief(&a.brief) {
        Brief::Legacy => (None, None, compliance::profile_of(&terms, &[], false)),
        Brief::Nothing => (Some(Status::NotStarted), None, compliance::profile_of(&terms, &[], false)),
        Brief::Read { status, scaled, satisfied_us, free } => {
            (Some(status), scaled, compliance::profile_of(&terms, &satisfied_us, free))
        }
    };
    let status = status.map(|s| s.as_assigned(terms.waived));
    let (compliance, at_us) = match profile {
        Profile::Fixed(c) => (c.as_str().to_string(), None),
        Profile::Due(deadline) => ("due".to_string(), Some(deadline)),
        Profile::Renews { expires_us, base } => (format!("renew_{}", base.as_str()), Some(expires_us)),
    };
    Item {
        item: format!("a:{}", a.id),
        status: status.map(Status::as_str),
        scaled,
        compliance: Some(compliance),
        at_us,
    }
}

/// A result's item when no assignment of its course reaches its person: counted unless not started.
fn unassigned_item(r: &ResultBriefRow) -> Option<Item> {
    let (status, scaled) = match brief(&r.brief) {
        Brief::Legacy => (None, None),
        Brief::Nothing | Brief::Read { status: Status::NotStarted, .. } => return None,
        Brief::Read { status, scaled, .. } => (Some(status.as_str()), scaled),
    };
    Some(Item { item: format!("p:{}", r.learner_key), status, scaled, compliance: None, at_us: None })
}

impl Store {
    /// A course summary's counts at `now_us`, in one statement (one snapshot): see [`SummaryCount`].
    pub async fn summary_counts(&self, course_id: &str, now_us: i64) -> Result<Vec<SummaryCount>> {
        let renew = "compliance IN ('renew_on_time', 'renew_late')";
        let sql = format!(
            "SELECT part, label, CAST(NULL AS DOUBLE PRECISION) AS scaled, n FROM summary_counts \
             WHERE course_id = $1 AND n <> 0 \
             UNION ALL SELECT 'v', NULL, scaled, n FROM summary_scores WHERE course_id = $1 AND n <> 0 \
             UNION ALL SELECT 'o', compliance, NULL, CAST(SUM(n) AS BIGINT) FROM summary_instants \
             WHERE course_id = $1 AND compliance = 'due' AND at_us < $2 GROUP BY compliance \
             UNION ALL SELECT 'x', compliance, NULL, CAST(SUM(n) AS BIGINT) FROM summary_instants \
             WHERE course_id = $1 AND {renew} AND at_us <= $2 GROUP BY compliance \
             UNION ALL SELECT 'e', compliance, NULL, CAST(SUM(n) AS BIGINT) FROM summary_instants \
             WHERE course_id = $1 AND {renew} AND at_us > $2 AND at_us <= $2 + {EXPIRING_WINDOW_US} GROUP BY compliance"
        );
        self.read().sql(sql).bind(course_id).bind(now_us).fetch_all_as().await
    }

    /// Fills `summary_items` once after migration 0020 (see its comment), on the first `migrate` that
    /// finds it pending; a node that finds another doing it waits for it, then has nothing to do.
    pub(super) async fn build_summary_items_if_pending(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let mut conn = tx.conn();
        if conn.q("DELETE FROM summary_items_pending").execute().await? > 0 {
            rebuild_all(&mut conn).await?;
        }
        tx.commit().await
    }
}

/// Replaces every item: each assignment's and each unassigned result's (a migration, a rebuild).
pub(super) async fn rebuild_all(conn: &mut Conn<'_>) -> Result<()> {
    let courses: Vec<String> = conn
        .q("SELECT course_id FROM assignments UNION SELECT course_id FROM results \
            UNION SELECT course_id FROM summary_items")
        .scalars()
        .await?;
    lock_courses(conn, &courses).await?;
    for table in ["summary_items", "summary_counts", "summary_scores", "summary_instants"] {
        conn.sql(format!("DELETE FROM {table}")).execute().await?;
    }
    let columns = assigned_brief_columns();
    let assigned: Vec<AssignedBriefRow> =
        conn.sql(format!("SELECT {columns} FROM {ASSIGNED_BRIEF_JOINS}")).fetch_all_as().await?;
    let unassigned: Vec<ResultBriefRow> = conn
        .sql(format!(
            "SELECT r.course_id, r.learner_key, {BRIEF_COLUMNS} FROM results r WHERE NOT EXISTS \
             (SELECT 1 FROM person_identifiers pi JOIN assignments a ON a.learner_key = pi.ifi_key \
             AND a.course_id = r.course_id WHERE pi.person_id = r.learner_key)"
        ))
        .fetch_all_as()
        .await?;
    let mut items: Vec<(String, Item)> = assigned.iter().map(|a| (a.course_id.clone(), assigned_item(a))).collect();
    items.extend(unassigned.iter().filter_map(|r| Some((r.course_id.clone(), unassigned_item(r)?))));
    let mut deltas = Deltas::default();
    for (course, i) in &items {
        deltas.item(course, i, 1);
    }
    insert_items(conn, &items).await?;
    deltas.apply(conn).await
}

/// Re-reads and replaces the items of `scope`; see the module's comment for why this is exact.
pub(super) async fn refresh(conn: &mut Conn<'_>, scope: &Scope) -> Result<()> {
    let backend = conn.backend();
    let ids: Vec<&str> = scope.assignments.iter().map(String::as_str).collect();
    if backend == Backend::Postgres && !ids.is_empty() {
        conn.execute_for_ids(
            "SELECT 1 FROM person_identifiers WHERE ifi_key IN (SELECT learner_key FROM assignments WHERE id IN",
            ") ORDER BY ifi_key FOR SHARE",
            &ids,
        )
        .await?;
    }
    // Course -> (persons, assignments) to refresh.
    let mut work: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for (course, persons) in &scope.persons_in {
        work.entry(course.clone()).or_default().0.extend(persons.iter().cloned());
    }
    // An assignment's course from its row, or from its item when it was removed.
    for chunk in ids.chunks(ROWS_PER_INSERT / 2) {
        let (first, second) = (backend.param_list(1, chunk.len()), backend.param_list(chunk.len() + 1, chunk.len()));
        let sql = format!(
            "SELECT course_id AS k, id AS v FROM assignments WHERE id IN ({first}) UNION \
             SELECT course_id, substr(item, 3) FROM summary_items WHERE item IN ({second})"
        );
        let mut q = conn.sql(sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for id in chunk {
            q = q.bind(format!("a:{id}"));
        }
        for r in q.fetch_all().await? {
            let (course, id): (String, String) = (r.get("k")?, r.get("v")?);
            work.entry(course).or_default().1.insert(id);
        }
    }
    let persons: Vec<&str> = scope.persons.iter().map(String::as_str).collect();
    for chunk in persons.chunks(ROWS_PER_INSERT / 3) {
        let n = chunk.len();
        let sql = format!(
            "SELECT course_id AS k FROM results WHERE learner_key IN ({}) UNION \
             SELECT a.course_id FROM assignments a JOIN person_identifiers pi ON pi.ifi_key = a.learner_key \
             WHERE pi.person_id IN ({}) UNION SELECT course_id FROM summary_items WHERE item IN ({})",
            backend.param_list(1, n),
            backend.param_list(n + 1, n),
            backend.param_list(2 * n + 1, n)
        );
        let mut q = conn.sql(sql);
        for p in chunk.iter().chain(chunk.iter()) {
            q = q.bind(*p);
        }
        for p in chunk {
            q = q.bind(format!("p:{p}"));
        }
        for course in q.scalars::<String>().await? {
            work.entry(course).or_default().0.extend(chunk.iter().map(|p| p.to_string()));
        }
    }
    let courses: Vec<String> = work.keys().cloned().collect();
    lock_courses(conn, &courses).await?;
    for (course, (persons, ids)) in work {
        refresh_course(conn, &course, persons, &ids).await?;
    }
    Ok(())
}

/// [`refresh`] in one course, its locks held.
async fn refresh_course(
    conn: &mut Conn<'_>,
    course: &str,
    mut persons: BTreeSet<String>,
    ids: &BTreeSet<String>,
) -> Result<()> {
    let backend = conn.backend();
    // The course as parameter 1, before the `IN` lists: never `$1` beside `?` (sqlx numbers SQLite's
    // anonymous parameters on their own, from 1).
    let p1 = backend.param(1);
    let columns = assigned_brief_columns();
    let by_id = format!("SELECT {columns} FROM {ASSIGNED_BRIEF_JOINS} WHERE a.course_id = {p1}");
    // From the persons' identifiers to their assignments: `CROSS JOIN` keeps SQLite, which has no
    // statistics here, from starting at the course's assignments (all of them) instead.
    let by_person = format!(
        "SELECT {columns} FROM person_identifiers pi CROSS JOIN assignments a \
         LEFT JOIN results r ON r.course_id = a.course_id AND r.learner_key = pi.person_id \
         WHERE a.course_id = {p1} AND a.learner_key = pi.ifi_key"
    );
    let mut stale: BTreeSet<String> = ids.iter().map(|id| format!("a:{id}")).collect();
    let mut items: BTreeMap<String, Item> = BTreeMap::new();
    // Assignments named by id: an assignment without a person has its item from here; one with a
    // person is read again with the person's other assignments below.
    let ids: Vec<&String> = ids.iter().collect();
    for chunk in ids.chunks(ROWS_PER_INSERT) {
        let mut q = conn.sql(format!("{by_id} AND a.id IN ({})", backend.param_list(2, chunk.len()))).bind(course);
        for id in chunk {
            q = q.bind(id.as_str());
        }
        for a in q.fetch_all_as::<AssignedBriefRow>().await? {
            match &a.person_id {
                Some(p) => {
                    persons.insert(p.clone());
                }
                None => {
                    let item = assigned_item(&a);
                    items.insert(item.item.clone(), item);
                }
            }
        }
    }
    let persons: Vec<String> = persons.into_iter().collect();
    for chunk in persons.chunks(ROWS_PER_INSERT) {
        let list = backend.param_list(2, chunk.len());
        let mut q = conn.sql(format!("{by_person} AND pi.person_id IN ({list})")).bind(course);
        for p in chunk {
            q = q.bind(p.as_str());
        }
        let assigned: Vec<AssignedBriefRow> = q.fetch_all_as().await?;
        let reached: BTreeSet<&str> = assigned.iter().filter_map(|a| a.person_id.as_deref()).collect();
        for a in &assigned {
            let item = assigned_item(a);
            stale.insert(item.item.clone());
            items.insert(item.item.clone(), item);
        }
        let mut q = conn
            .sql(format!(
                "SELECT r.course_id, r.learner_key, {BRIEF_COLUMNS} FROM results r \
                 WHERE r.course_id = {p1} AND r.learner_key IN ({list})"
            ))
            .bind(course);
        for p in chunk {
            q = q.bind(p.as_str());
        }
        for r in q.fetch_all_as::<ResultBriefRow>().await? {
            if reached.contains(r.learner_key.as_str()) {
                continue;
            }
            if let Some(item) = unassigned_item(&r) {
                items.insert(item.item.clone(), item);
            }
        }
        stale.extend(chunk.iter().map(|p| format!("p:{p}")));
    }
    let mut deltas = Deltas::default();
    let stale: Vec<&str> = stale.iter().map(String::as_str).collect();
    for chunk in stale.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "DELETE FROM summary_items WHERE course_id = {p1} AND item IN ({}) \
             RETURNING status, scaled, compliance, at_us",
            backend.param_list(2, chunk.len())
        );
        let mut q = conn.sql(sql).bind(course);
        for item in chunk {
            q = q.bind(*item);
        }
        for r in q.fetch_all().await? {
            let status: Option<String> = r.get("status")?;
            let compliance: Option<String> = r.get("compliance")?;
            deltas.add(course, status.as_deref(), r.get("scaled")?, compliance.as_deref(), r.get("at_us")?, -1);
        }
    }
    let items: Vec<(String, Item)> = items.into_values().map(|i| (course.to_string(), i)).collect();
    for (_, i) in &items {
        deltas.item(course, i, 1);
    }
    insert_items(conn, &items).await?;
    deltas.apply(conn).await
}

async fn insert_items(conn: &mut Conn<'_>, items: &[(String, Item)]) -> Result<()> {
    conn.insert_rows(
        "INSERT INTO summary_items (course_id, item, status, scaled, compliance, at_us) VALUES",
        "",
        6,
        items,
        |q, (course, i)| {
            q.bind(course.as_str())
                .bind(i.item.as_str())
                .bind(i.status)
                .bind(i.scaled)
                .bind(i.compliance.clone())
                .bind(i.at_us)
        },
    )
    .await
}

/// What items add to their course's counts (`summary_counts`, `summary_scores`, `summary_instants`).
#[derive(Debug, Default)]
struct Deltas {
    counts: BTreeMap<(String, &'static str, String), i64>,
    scores: BTreeMap<(String, u64), i64>,
    instants: BTreeMap<(String, String, i64), i64>,
}

impl Deltas {
    /// Counts an item of `course` once more (`sign` 1) or once less (-1).
    fn add(
        &mut self,
        course: &str,
        status: Option<&str>,
        scaled: Option<f64>,
        compliance: Option<&str>,
        at_us: Option<i64>,
        sign: i64,
    ) {
        *self.counts.entry((course.to_string(), "s", status.unwrap_or("").to_string())).or_default() += sign;
        if let Some(c) = compliance {
            *self.counts.entry((course.to_string(), "c", c.to_string())).or_default() += sign;
            if let Some(at) = at_us {
                *self.instants.entry((course.to_string(), c.to_string(), at)).or_default() += sign;
            }
        }
        if let Some(s) = scaled {
            // -0.0 and 0.0 are one key to both databases.
            *self.scores.entry((course.to_string(), (s + 0.0).to_bits())).or_default() += sign;
        }
    }

    fn item(&mut self, course: &str, i: &Item, sign: i64) {
        self.add(course, i.status, i.scaled, i.compliance.as_deref(), i.at_us, sign);
    }

    /// Adds these changes to the stored counts, and drops the counts they bring to zero.
    async fn apply(self, conn: &mut Conn<'_>) -> Result<()> {
        let counts: Vec<_> = self.counts.into_iter().filter(|(_, n)| *n != 0).collect();
        let scores: Vec<_> = self.scores.into_iter().filter(|(_, n)| *n != 0).collect();
        let instants: Vec<_> = self.instants.into_iter().filter(|(_, n)| *n != 0).collect();
        conn.insert_rows(
            "INSERT INTO summary_counts (course_id, part, label, n) VALUES",
            "ON CONFLICT (course_id, part, label) DO UPDATE SET n = summary_counts.n + excluded.n",
            4,
            &counts,
            |q, ((course, part, label), n)| q.bind(course.as_str()).bind(*part).bind(label.as_str()).bind(*n),
        )
        .await?;
        conn.insert_rows(
            "INSERT INTO summary_scores (course_id, scaled, n) VALUES",
            "ON CONFLICT (course_id, scaled) DO UPDATE SET n = summary_scores.n + excluded.n",
            3,
            &scores,
            |q, ((course, bits), n)| q.bind(course.as_str()).bind(f64::from_bits(*bits)).bind(*n),
        )
        .await?;
        // A course's statuses, categories and scores are a few rows each; its instants may be one per
        // assignment, so only the ones brought to zero here are looked for.
        let courses: BTreeSet<&String> =
            counts.iter().map(|((c, _, _), _)| c).chain(scores.iter().map(|((c, _), _)| c)).collect();
        for course in courses {
            conn.q("DELETE FROM summary_counts WHERE course_id = $1 AND n = 0").bind(course.as_str()).execute().await?;
            conn.q("DELETE FROM summary_scores WHERE course_id = $1 AND n = 0").bind(course.as_str()).execute().await?;
        }
        let returned = conn
            .insert_rows_returning(
                "INSERT INTO summary_instants (course_id, compliance, at_us, n) VALUES",
                "ON CONFLICT (course_id, compliance, at_us) DO UPDATE SET n = summary_instants.n + excluded.n \
                 RETURNING course_id, compliance, at_us, n",
                4,
                &instants,
                |q, ((course, c, at), n)| q.bind(course.as_str()).bind(c.as_str()).bind(*at).bind(*n),
            )
            .await?;
        for r in returned {
            if r.get::<i64, _>("n")? != 0 {
                continue;
            }
            conn.q("DELETE FROM summary_instants WHERE course_id = $1 AND compliance = $2 AND at_us = $3 AND n = 0")
                .bind(r.get::<String, _>("course_id")?)
                .bind(r.get::<String, _>("compliance")?)
                .bind(r.get::<i64, _>("at_us")?)
                .execute()
                .await?;
        }
        Ok(())
    }
}

/// PostgreSQL: the courses' summary locks, in one global order. SQLite: nothing (one writer).
async fn lock_courses(conn: &mut Conn<'_>, courses: &[String]) -> Result<()> {
    let keys: Vec<String> = courses.iter().map(|c| format!("summary\u{1f}{c}")).collect();
    conn.lock_keys(&keys).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(waived: bool, recurrence: Option<i64>, status: Option<&str>, satisfied: &str) -> AssignedBriefRow {
        AssignedBriefRow {
            id: "x".into(),
            course_id: "c".into(),
            learner_key: "k".into(),
            assigned_us: 0,
            due_us: 1_000,
            grace_days: 0,
            recurrence_months: recurrence,
            group_key: None,
            waived_us: waived.then_some(5),
            person_id: Some("p".into()),
            brief: BriefColumns {
                status: status.map(str::to_string),
                scaled: None,
                time_spent_s: None,
                satisfied_us: Some(satisfied.into()),
                satisfied_free: Some(false),
                body: None,
            },
        }
    }

    #[test]
    fn items_keep_what_changes_with_time() {
        let i = assigned_item(&row(false, None, None, "[]"));
        assert_eq!((i.status, i.compliance.as_deref(), i.at_us), (Some("not_started"), Some("due"), Some(1_000)));
        let i = assigned_item(&row(true, None, Some("failed"), "[]"));
        assert_eq!((i.status, i.compliance.as_deref()), (Some("completed"), Some("waived")));
        let i = assigned_item(&row(false, None, Some("completed"), "[2000]"));
        assert_eq!((i.compliance.as_deref(), i.at_us), (Some("late"), None));
        let i = assigned_item(&row(false, Some(12), Some("passed"), "[500]"));
        assert_eq!(i.compliance.as_deref(), Some("renew_on_time"));
        assert_eq!(i.at_us, Some(compliance::add_months(500, 12)));
        // A status no version writes counts as not started, as the results rows read it.
        let i = assigned_item(&row(false, None, Some("bogus"), "[2000]"));
        assert_eq!((i.status, i.compliance.as_deref()), (Some("not_started"), Some("due")));
    }
}

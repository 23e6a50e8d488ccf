//! Derived results: the facts results maintenance files (one per statement, linked to each activity
//! it concerns), the course definitions it derives against (with the activities each course
//! includes), and the results.

use std::collections::HashMap;

use super::dialect::{Conn, Q};
use super::statements::keys;
use super::{PersonGuard, Result, Store, StoreError};
use crate::results::compliance::Terms;
use crate::xapi::statement::kind;

/// The key dictionary's kinds (`index_keys`) that number a fact's learner and its activities: the
/// ones a statement is found by anywhere, so a fact's keys are nearly always there already.
pub(super) const LEARNER: char = kind::AGENT_RELATED;
pub(super) const ACTIVITY: char = kind::ACTIVITY_RELATED;

/// A statement's fact for the results engine, filed under every activity it concerns. The body is
/// stored once (`result_facts`, packed) and each activity is a small link row (`result_fact_links`)
/// of numbers: learner and activity from the key dictionary, the statement's `seq` (migration 0021;
/// as text they were 2 KB of a statement's 3.7 KB on PostgreSQL, `cairn bench size`).
#[derive(Debug, Clone)]
pub struct FactRow {
    pub statement_id: String,
    pub learner_key: String,
    pub body: String,
    /// The activities it concerns (its object first), each once.
    pub linked: Vec<String>,
}

/// Where a fact is filed: one learner's facts about one activity (also what a write touched).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FactLink {
    pub learner_key: String,
    pub activity_id: String,
}

/// A derived result to write: the learner's record (JSON text) for one course, and the columns
/// counts and filters read without parsing it.
#[derive(Debug, Clone)]
pub struct ResultWrite {
    pub course_id: String,
    pub learner_key: String,
    pub body: String,
    pub brief: ResultBrief,
}

/// What the console's counts and charts and the results filters read of a result (a copy of fields
/// of the body, written with it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResultBrief {
    pub status: String,
    pub scaled: Option<f64>,
    pub time_spent_s: f64,
    /// Times the course became satisfied, as a JSON array.
    pub satisfied_us: String,
    pub satisfied_free: bool,
}

/// A result's brief columns as read: `body` is filled only for a row written before the brief
/// columns existed and not backfilled (its status is NULL), so the caller can read the body instead.
/// All `None` for an assignment without a result.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BriefColumns {
    pub status: Option<String>,
    pub scaled: Option<f64>,
    pub time_spent_s: Option<f64>,
    pub satisfied_us: Option<String>,
    pub satisfied_free: Option<bool>,
    pub body: Option<String>,
}

impl BriefColumns {
    /// When the course became satisfied (none when the column is empty or unreadable).
    pub fn satisfied_at_us(&self) -> Vec<i64> {
        self.satisfied_us.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default()
    }
}

/// A result with no assignment behind it, briefly.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResultBriefRow {
    pub course_id: String,
    /// The person the result is kept for.
    pub learner_key: String,
    #[sqlx(flatten)]
    pub brief: BriefColumns,
}

/// An assignment's terms, the person its learner is (`None` for an identifier no statement or merge
/// has filed under a person yet) and that person's result for the course, briefly: what counting
/// and filtering results rows reads, in one row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssignedBriefRow {
    pub id: String,
    pub course_id: String,
    pub learner_key: String,
    pub assigned_us: i64,
    pub due_us: i64,
    pub grace_days: i64,
    pub recurrence_months: Option<i64>,
    pub group_key: Option<String>,
    pub waived_us: Option<i64>,
    pub person_id: Option<String>,
    #[sqlx(flatten)]
    pub brief: BriefColumns,
}

impl AssignedBriefRow {
    /// The assignment's terms, as compliance reads them.
    pub fn terms(&self) -> Terms {
        Terms {
            assigned_us: self.assigned_us,
            due_us: self.due_us,
            grace_days: self.grace_days,
            recurrence_months: self.recurrence_months,
            waived: self.waived_us.is_some(),
        }
    }
}

/// An [`AssignedBriefRow`]'s columns, of `assignments a`, `person_identifiers pi` and `results r`.
pub(super) fn assigned_brief_columns() -> String {
    format!(
        "a.id, a.course_id, a.learner_key, a.assigned_us, a.due_us, a.grace_days, a.recurrence_months, \
         a.group_key, a.waived_us, pi.person_id, {BRIEF_COLUMNS}"
    )
}

/// The assignments joined with their learner's person and that person's result, for
/// [`assigned_brief_columns`].
pub(super) const ASSIGNED_BRIEF_JOINS: &str = "assignments a \
     LEFT JOIN person_identifiers pi ON pi.ifi_key = a.learner_key \
     LEFT JOIN results r ON r.course_id = a.course_id AND r.learner_key = pi.person_id";

/// The brief columns of `results r` (the body only where they are missing).
pub(super) const BRIEF_COLUMNS: &str = "r.status, r.scaled, r.time_spent_s, r.satisfied_us, r.satisfied_free, \
     CASE WHEN r.status IS NULL THEN r.body END AS body";

/// A fact to file and its packed body (stored packed when there is one, as text otherwise): one
/// pair, like a statement's `statements::Packed`.
pub(in crate::store) type PackedFact<'a> = (&'a FactRow, Option<&'a [u8]>);

/// The dictionary keys facts are filed under: each fact's learner and activities.
pub(super) fn fact_keys<'a>(facts: impl IntoIterator<Item = &'a FactRow>) -> Vec<(char, &'a str)> {
    facts
        .into_iter()
        .flat_map(|f| {
            std::iter::once((LEARNER, f.learner_key.as_str())).chain(f.linked.iter().map(|l| (ACTIVITY, l.as_str())))
        })
        .collect()
}

/// Fact rows, a body and its links, by number: each statement's `seq` from `seqs` (by id), learners
/// and activities from `ids` (the dictionary's numbers of [`fact_keys`], by `keys::key_text`). A
/// body with a packed form is stored packed, its text left empty. A statement already filed stays as
/// it is.
pub(super) async fn insert_fact_rows(
    conn: &mut Conn<'_>,
    facts: &[PackedFact<'_>],
    seqs: &HashMap<String, i64>,
    ids: &HashMap<String, i64>,
) -> Result<()> {
    if facts.is_empty() {
        return Ok(());
    }
    let number = |kind: char, key: &str| {
        ids.get(&keys::key_text(kind, key))
            .copied()
            .ok_or_else(|| StoreError::Database(sqlx::Error::Protocol(format!("no number for fact key {kind}{key}"))))
    };
    let mut bodies: Vec<(i64, i64, &str, Option<&[u8]>)> = Vec::with_capacity(facts.len());
    let mut links: Vec<(i64, i64, i64)> = Vec::with_capacity(facts.len() * 4);
    for &(f, packed) in facts {
        let seq = *seqs.get(&f.statement_id).ok_or_else(|| {
            StoreError::Database(sqlx::Error::Protocol(format!("fact of statement {} not stored", f.statement_id)))
        })?;
        let learner = number(LEARNER, &f.learner_key)?;
        bodies.push((seq, learner, if packed.is_some() { "" } else { f.body.as_str() }, packed));
        for l in &f.linked {
            links.push((learner, number(ACTIVITY, l)?, seq));
        }
    }
    match conn {
        // Arrays, so that the statement's text is the same for any number of facts (see
        // `Conn::insert_number_rows`).
        Conn::Pg(c, h) => {
            let seq: Vec<i64> = bodies.iter().map(|b| b.0).collect();
            let learner: Vec<i64> = bodies.iter().map(|b| b.1).collect();
            let text: Vec<&str> = bodies.iter().map(|b| b.2).collect();
            let packed: Vec<Option<&[u8]>> = bodies.iter().map(|b| b.3).collect();
            let insert = sqlx::query(
                "INSERT INTO result_facts (seq, learner_id, body, packed) \
                 SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::bytea[]) ON CONFLICT DO NOTHING",
            )
            .bind(seq)
            .bind(learner)
            .bind(text)
            .bind(packed);
            h.guard(async { Ok(insert.execute(&mut **c).await?) }).await?;
        }
        Conn::Sqlite(_) => {
            conn.insert_rows(
                "INSERT INTO result_facts (seq, learner_id, body, packed) VALUES",
                "ON CONFLICT DO NOTHING",
                4,
                &bodies,
                // Owned: a bound value outlives this call in sqlx's SQLite arguments.
                |q, b| q.bind(b.0).bind(b.1).bind(b.2.to_string()).bind(b.3.map(<[u8]>::to_vec)),
            )
            .await?;
        }
    }
    conn.insert_number_rows("result_fact_links (learner_id, activity_id, seq)", &links).await
}

/// Removes the facts (bodies and links) of the statements with these ids; with `only_voided`, of
/// those of them that are voided.
pub(super) async fn delete_facts_of(conn: &mut Conn<'_>, ids: &[&str], only_voided: bool) -> Result<()> {
    let backend = conn.backend();
    let mut seqs = Vec::new();
    for chunk in ids.chunks(super::dialect::ROWS_PER_INSERT) {
        let voided = if only_voided { " AND s.voided" } else { "" };
        let mut q = conn.sql(format!(
            "SELECT s.seq FROM {} WHERE i.id IN ({}){voided}",
            super::statements::BY_ID,
            backend.param_list(1, chunk.len())
        ));
        for id in chunk {
            q = q.bind(*id);
        }
        seqs.extend(q.scalars::<i64>().await?);
    }
    delete_facts_by_seq(conn, &seqs).await
}

/// Removes the facts of the statements numbered `seqs`. The links go first, found through their
/// bodies' learners: the links are keyed by learner, so no index by statement is kept for this rare
/// path (voiding, erasure).
pub(super) async fn delete_facts_by_seq(conn: &mut Conn<'_>, seqs: &[i64]) -> Result<()> {
    let backend = conn.backend();
    for chunk in seqs.chunks(super::dialect::ROWS_PER_INSERT) {
        // The seqs twice (SQLite's placeholders are not numbered, so they cannot be reused).
        let (first, second) = (backend.param_list(1, chunk.len()), backend.param_list(chunk.len() + 1, chunk.len()));
        let mut q = conn.sql(format!(
            "DELETE FROM result_fact_links WHERE learner_id IN (SELECT learner_id FROM result_facts \
             WHERE seq IN ({first})) AND seq IN ({second})"
        ));
        for s in chunk.iter().chain(chunk) {
            q = q.bind(*s);
        }
        q.execute().await?;
        let mut q = conn.sql(format!("DELETE FROM result_facts WHERE seq IN ({})", backend.param_list(1, chunk.len())));
        for s in chunk {
            q = q.bind(*s);
        }
        q.execute().await?;
    }
    Ok(())
}

/// Removes every fact filed under these learner keys (erasure), bodies and links.
pub(super) async fn delete_facts_of_learners(conn: &mut Conn<'_>, learner_keys: &[&str]) -> Result<()> {
    let learners = format!("(SELECT id FROM index_keys WHERE kind = '{LEARNER}' AND key IN");
    conn.execute_for_ids(
        &format!(
            "DELETE FROM result_facts WHERE seq IN (SELECT seq FROM result_fact_links WHERE learner_id IN {learners}"
        ),
        "))",
        learner_keys,
    )
    .await?;
    conn.execute_for_ids(&format!("DELETE FROM result_fact_links WHERE learner_id IN {learners}"), ")", learner_keys)
        .await
}

/// Result rows upserted in chunks; a (course, learner) given twice keeps its last body (one
/// statement may not update a row twice on PostgreSQL). The course summaries' items of these
/// results follow in the same transaction.
pub(super) async fn upsert_result_rows(conn: &mut Conn<'_>, rows: &[ResultWrite], now: i64) -> Result<()> {
    let mut last: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        last.insert((r.course_id.as_str(), r.learner_key.as_str()), i);
    }
    let unique: Vec<&ResultWrite> = rows
        .iter()
        .enumerate()
        .filter(|(i, r)| last.get(&(r.course_id.as_str(), r.learner_key.as_str())) == Some(i))
        .map(|(_, r)| r)
        .collect();
    conn.insert_rows(
        "INSERT INTO results (course_id, learner_key, body, updated_us, status, scaled, time_spent_s, satisfied_us, \
         satisfied_free) VALUES",
        "ON CONFLICT (course_id, learner_key) DO UPDATE SET body = excluded.body, updated_us = excluded.updated_us, \
         status = excluded.status, scaled = excluded.scaled, time_spent_s = excluded.time_spent_s, \
         satisfied_us = excluded.satisfied_us, satisfied_free = excluded.satisfied_free",
        9,
        &unique,
        |q, r| {
            let b = &r.brief;
            q.bind(&r.course_id)
                .bind(&r.learner_key)
                .bind(&r.body)
                .bind(now)
                .bind(&b.status)
                .bind(b.scaled)
                .bind(b.time_spent_s)
                .bind(&b.satisfied_us)
                .bind(b.satisfied_free)
        },
    )
    .await?;
    let mut scope = super::summary::Scope::default();
    for r in unique {
        scope.persons_in.entry(r.course_id.clone()).or_default().insert(r.learner_key.clone());
    }
    super::summary::refresh(conn, &scope).await
}

impl Store {
    /// Files the facts of stored statements (a rebuild), in a transaction of their own.
    pub async fn insert_facts(&self, facts: &[FactRow]) -> Result<()> {
        if facts.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = facts.iter().map(|f| f.statement_id.clone()).collect();
        let mut seqs = HashMap::with_capacity(ids.len());
        for (id, seq) in
            self.read_pairs_in("SELECT id AS k, CAST(seq AS TEXT) AS v FROM statement_ids WHERE id IN", &ids).await?
        {
            let seq = seq.parse().map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))?;
            seqs.insert(id, seq);
        }
        let packed = self.pack(facts.iter().map(|f| f.body.as_str()));
        let rows: Vec<PackedFact> = facts.iter().zip(&packed).map(|(f, p)| (f, p.as_deref())).collect();
        let mut tx = self.begin_write().await?;
        let mut conn = tx.conn();
        keys::writers_shared(&mut conn).await?;
        let ids = keys::ids_of(&mut conn, &fact_keys(facts)).await?;
        insert_fact_rows(&mut conn, &rows, &seqs, &ids).await?;
        tx.commit().await
    }

    /// `(activity, course)` for every course that includes one of these activities.
    pub async fn course_links(&self, activities: &[String]) -> Result<Vec<(String, String)>> {
        self.read_pairs_in(
            "SELECT activity_id AS k, course_id AS v FROM course_activities WHERE activity_id IN",
            activities,
        )
        .await
    }

    /// `select_prefix (keys…)` on the read pool, a chunk of keys per query, as `(k, v)` pairs.
    pub(super) async fn read_pairs_in(&self, select_prefix: &str, keys: &[String]) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for chunk in keys.chunks(super::dialect::ROWS_PER_INSERT) {
            let ex = self.read();
            let sql = format!("{select_prefix} ({})", ex.backend().param_list(1, chunk.len()));
            let mut q = Q::pairs(ex, &sql);
            for k in chunk {
                q = q.bind(k);
            }
            out.extend(q.fetch().await?);
        }
        Ok(out)
    }

    /// `(person, body)` of the facts filed under any identifier of these persons on any of these
    /// activities, each statement once per person. Read under the persons' guard.
    pub async fn facts_of_persons(
        &self,
        g: &mut PersonGuard,
        persons: &[String],
        activities: &[String],
    ) -> Result<Vec<(String, String)>> {
        if persons.is_empty() || activities.is_empty() {
            return Ok(Vec::new());
        }
        let ex = self.under(g);
        let b = ex.backend();
        // A body is JSON text, or its packed form as hex (which never starts with `{`).
        let sql = format!(
            "SELECT t.k, CASE WHEN f.packed IS NULL THEN f.body ELSE {} END AS v FROM \
             (SELECT DISTINCT pi.person_id AS k, l.seq FROM person_identifiers pi \
             JOIN index_keys lk ON lk.kind = '{LEARNER}' AND lk.key = pi.ifi_key \
             JOIN result_fact_links l ON l.learner_id = lk.id \
             WHERE pi.person_id IN ({}) AND l.activity_id IN \
             (SELECT id FROM index_keys WHERE kind = '{ACTIVITY}' AND key IN ({}))) t \
             JOIN result_facts f ON f.seq = t.seq",
            b.hex("f.packed"),
            b.param_list(1, persons.len()),
            b.param_list(persons.len() + 1, activities.len())
        );
        let mut q = Q::pairs(ex, &sql);
        for k in persons.iter().chain(activities) {
            q = q.bind(k);
        }
        let mut out = Vec::new();
        for (person, v) in q.fetch().await? {
            out.push((person, self.fact_text(v).await?));
        }
        Ok(out)
    }

    /// A fact body as read by [`Store::facts_of_persons`]: JSON text, or hex of its packed form.
    async fn fact_text(&self, v: String) -> Result<String> {
        if v.starts_with('{') {
            return Ok(v);
        }
        let packed = hex::decode(&v).map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))?;
        self.unpack(|| "a results fact".to_string(), &packed).await
    }

    /// `(person, body)` of these persons' results for one course, read under their guard.
    pub async fn results_of(
        &self,
        g: &mut PersonGuard,
        course_id: &str,
        persons: &[String],
    ) -> Result<Vec<(String, String)>> {
        if persons.is_empty() {
            return Ok(Vec::new());
        }
        let ex = self.under(g);
        let b = ex.backend();
        let sql = format!(
            "SELECT learner_key AS k, body AS v FROM results WHERE course_id = {} AND learner_key IN ({})",
            b.param(1),
            b.param_list(2, persons.len())
        );
        let mut q = Q::pairs(ex, &sql).bind(course_id);
        for l in persons {
            q = q.bind(l);
        }
        q.fetch().await
    }

    /// `(person, identifier)` of these persons, oldest identifier first, read under their guard: a
    /// person merged away meanwhile has none, and gets no result.
    pub async fn identifiers_under(&self, g: &mut PersonGuard, persons: &[String]) -> Result<Vec<(String, String)>> {
        let ex = self.under(g);
        let sql = format!(
            "SELECT person_id AS k, ifi_key AS v FROM person_identifiers WHERE person_id IN ({}) \
             ORDER BY person_id, added_us, ifi_key",
            ex.backend().param_list(1, persons.len())
        );
        let mut q = Q::pairs(ex, &sql);
        for p in persons {
            q = q.bind(p);
        }
        q.fetch().await
    }

    /// What the facts of these statements are filed under: each learner and activity.
    pub async fn fact_links_of(&self, statement_ids: &[String]) -> Result<Vec<FactLink>> {
        let pairs = self
            .read_pairs_in(
                "SELECT lk.key AS k, ak.key AS v FROM statement_ids s JOIN result_facts f ON f.seq = s.seq \
                 JOIN result_fact_links l ON l.learner_id = f.learner_id AND l.seq = f.seq \
                 JOIN index_keys lk ON lk.id = l.learner_id JOIN index_keys ak ON ak.id = l.activity_id \
                 WHERE s.id IN",
                statement_ids,
            )
            .await?;
        Ok(pairs.into_iter().map(|(learner_key, activity_id)| FactLink { learner_key, activity_id }).collect())
    }

    /// Records a course's definition and the activities it includes (which statements concern it).
    pub async fn put_course_def(
        &self,
        course_id: &str,
        body: &str,
        defined: bool,
        activities: &[String],
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let mut conn = tx.conn();
        conn.q("INSERT INTO course_defs (course_id, body, defined, updated_us) VALUES ($1, $2, $3, $4) \
                ON CONFLICT (course_id) DO UPDATE SET body = excluded.body, defined = excluded.defined, \
                updated_us = excluded.updated_us")
            .bind(course_id)
            .bind(body)
            .bind(defined)
            .bind(crate::now_us())
            .execute()
            .await?;
        conn.q("DELETE FROM course_activities WHERE course_id = $1").bind(course_id).execute().await?;
        for a in activities {
            conn.q("INSERT INTO course_activities (activity_id, course_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(a)
                .bind(course_id)
                .execute()
                .await?;
        }
        tx.commit().await
    }

    pub async fn course_def(&self, course_id: &str) -> Result<Option<String>> {
        self.read().q("SELECT body FROM course_defs WHERE course_id = $1").bind(course_id).scalar_opt().await
    }

    /// The ids of every course results are derived for.
    pub async fn course_def_ids(&self) -> Result<Vec<String>> {
        self.read().q("SELECT course_id FROM course_defs ORDER BY course_id").scalars().await
    }

    pub async fn course_defs(&self) -> Result<Vec<String>> {
        self.read().q("SELECT body FROM course_defs ORDER BY course_id").scalars().await
    }

    /// Writes many results in one transaction (one fsync, not one each).
    pub async fn put_results(&self, rows: &[ResultWrite]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        upsert_result_rows(&mut tx.conn(), rows, crate::now_us()).await?;
        tx.commit().await
    }

    pub async fn results_of_course(&self, course_id: &str) -> Result<Vec<(String, String)>> {
        let rows = self
            .read()
            .q("SELECT learner_key, body FROM results WHERE course_id = $1")
            .bind(course_id)
            .fetch_all()
            .await?;
        Ok(rows.iter().map(|r| Ok((r.get("learner_key")?, r.get("body")?))).collect::<sqlx::Result<_>>()?)
    }

    /// Every assignment (of one course, of one person's identifiers, or all) with its person and
    /// that person's result briefly, ordered by course, then as assigned.
    pub async fn assigned_briefs(
        &self,
        course_id: Option<&str>,
        person: Option<&str>,
    ) -> Result<Vec<AssignedBriefRow>> {
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        if let Some(c) = course_id {
            values.push(c);
            conditions.push(format!("a.course_id = ${}", values.len()));
        }
        if let Some(p) = person {
            values.push(p);
            conditions.push(format!(
                "a.learner_key IN (SELECT ifi_key FROM person_identifiers WHERE person_id = ${})",
                values.len()
            ));
        }
        let filter = if conditions.is_empty() { String::new() } else { format!(" WHERE {}", conditions.join(" AND ")) };
        let sql = format!(
            "SELECT {} FROM {ASSIGNED_BRIEF_JOINS}{filter} ORDER BY a.course_id, a.assigned_us, a.id",
            assigned_brief_columns()
        );
        let mut q = self.read().sql(sql);
        for v in values {
            q = q.bind(v);
        }
        q.fetch_all_as().await
    }

    /// Results (of one course, of one person, or all) that are not `not_started` and whose person has
    /// no assignment of the course under any identifier, briefly, ordered by course and person.
    pub async fn unassigned_briefs(
        &self,
        course_id: Option<&str>,
        person: Option<&str>,
    ) -> Result<Vec<ResultBriefRow>> {
        let (conditions, values) = super::dialect::conditions(&[("r.course_id", course_id), ("r.learner_key", person)]);
        let more = if conditions.is_empty() { " WHERE" } else { " AND" };
        let sql = format!(
            "SELECT r.course_id, r.learner_key, {BRIEF_COLUMNS} FROM results r{conditions}{more} \
             (r.status IS NULL OR r.status <> 'not_started') AND NOT EXISTS (SELECT 1 FROM person_identifiers pi \
             JOIN assignments a ON a.learner_key = pi.ifi_key AND a.course_id = r.course_id \
             WHERE pi.person_id = r.learner_key) ORDER BY r.course_id, r.learner_key"
        );
        let mut q = self.read().sql(sql);
        for v in values {
            q = q.bind(v);
        }
        q.fetch_all_as().await
    }

    /// `(person, body)` of these persons' results for one course.
    pub async fn result_bodies(&self, course_id: &str, persons: &[String]) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for chunk in persons.chunks(super::dialect::ROWS_PER_INSERT) {
            let ex = self.read();
            let b = ex.backend();
            let sql = format!(
                "SELECT learner_key AS k, body AS v FROM results WHERE course_id = {} AND learner_key IN ({})",
                b.param(1),
                b.param_list(2, chunk.len())
            );
            let mut q = Q::pairs(ex, &sql).bind(course_id);
            for p in chunk {
                q = q.bind(p);
            }
            out.extend(q.fetch().await?);
        }
        Ok(out)
    }

    /// Every result of one learner: `(course, body)`.
    pub async fn results_of_learner(&self, learner_key: &str) -> Result<Vec<(String, String)>> {
        let rows = self
            .read()
            .q("SELECT course_id, body FROM results WHERE learner_key = $1")
            .bind(learner_key)
            .fetch_all()
            .await?;
        Ok(rows.iter().map(|r| Ok((r.get("course_id")?, r.get("body")?))).collect::<sqlx::Result<_>>()?)
    }

    pub async fn result(&self, course_id: &str, learner_key: &str) -> Result<Option<String>> {
        self.read()
            .q("SELECT body FROM results WHERE course_id = $1 AND learner_key = $2")
            .bind(course_id)
            .bind(learner_key)
            .scalar_opt()
            .await
    }

    /// Every person with a fact on an activity of the course.
    pub async fn learners_of_course(&self, course_id: &str) -> Result<Vec<String>> {
        self.read()
            .sql(format!(
                "SELECT DISTINCT pi.person_id FROM course_activities ca \
                 JOIN index_keys ak ON ak.kind = '{ACTIVITY}' AND ak.key = ca.activity_id \
                 JOIN result_fact_links f ON f.activity_id = ak.id JOIN index_keys lk ON lk.id = f.learner_id \
                 JOIN person_identifiers pi ON pi.ifi_key = lk.key WHERE ca.course_id = $1"
            ))
            .bind(course_id)
            .scalars()
            .await
    }

    /// Removes every fact and result (before a rebuild).
    pub async fn clear_derived(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let mut conn = tx.conn();
        conn.q("DELETE FROM result_fact_links").execute().await?;
        conn.q("DELETE FROM result_facts").execute().await?;
        conn.q("DELETE FROM results").execute().await?;
        super::summary::rebuild_all(&mut conn).await?;
        tx.commit().await
    }
}

//! The one storage interface. [`Store`] dispatches to a concrete SQLite or PostgreSQL module chosen by
//! the URL scheme at start-up; an enum (rather than a trait object) keeps futures `Send` without boxing.
//! Both implementations run the same integration test suite.

mod health;
pub mod postgres;
mod query;
mod shared;
pub mod sqlite;

use std::sync::Arc;

use serde::Serialize;

/// Errors of the storage layer. Constraint violations that clients can cause are their own variants so
/// the layers above can turn them into 4xx answers.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a statement with id {0} already exists")]
    DuplicateStatement(String),
    #[error("unsupported database URL {0:?}: use sqlite://FILE or postgres://…")]
    BadUrl(String),
    /// Not marked as the error's source: the message already carries it, and reporting both made
    /// error chains repeat the cause.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The store cannot serve for now (see [`Outage`]); made by the store itself (a failed group
    /// commit's other requests, a known outage), where no `sqlx::Error` is at hand.
    #[error("{message}")]
    Outage { kind: Outage, message: String },
}

/// Why the store cannot serve right now, as opposed to a bug: clients should retry later, and
/// operators should look at the database, not at Cairn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Unreachable: connection refused or lost, pool exhausted, the server shutting down or starting.
    Down,
    /// Out of space: `database or disk is full` (SQLite), `disk_full` (PostgreSQL). Reads still work.
    Full,
}

impl StoreError {
    /// Whether this is an outage (and which); None for errors that point at a bug or bad data.
    pub fn outage(&self) -> Option<Outage> {
        match self {
            StoreError::Outage { kind, .. } => Some(*kind),
            StoreError::Database(e) => outage_of(e),
            StoreError::Migrate(sqlx::migrate::MigrateError::Execute(e)) => outage_of(e),
            _ => None,
        }
    }

    /// The same outage for another request (a group commit answers each of its requests).
    pub fn outage_copy(&self) -> StoreError {
        match self.outage() {
            Some(kind) => StoreError::Outage { kind, message: self.to_string() },
            None => StoreError::Database(sqlx::Error::Protocol(self.to_string())),
        }
    }
}

/// Classifies a driver error: connection and pool failures, and SQLite/PostgreSQL codes that mean
/// "unreachable" or "out of space".
fn outage_of(e: &sqlx::Error) -> Option<Outage> {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Some(Outage::Down),
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // The primary result code is the low byte of the extended one.
                return match code.parse::<i32>().map(|c| c & 0xff) {
                    // SQLITE_FULL
                    Ok(13) => Some(Outage::Full),
                    // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_CANTOPEN
                    Ok(5 | 6 | 10 | 14) => Some(Outage::Down),
                    _ => None,
                };
            }
            // PostgreSQL's SQLSTATE: disk_full; connection exceptions (08…), out of memory or
            // connections (53…), shutting down or starting (57P01-57P03), read-only transaction (a
            // standby after failover).
            match code.as_ref() {
                "53100" => Some(Outage::Full),
                c if c.starts_with("08") || c.starts_with("53") || c.starts_with("57P0") || c == "25006" => {
                    Some(Outage::Down)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e)
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A stored credential; the secret only as an argon2 hash.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialRow {
    pub key: String,
    pub name: String,
    #[serde(skip)]
    pub secret_hash: String,
    pub scopes: Vec<String>,
    pub created_us: i64,
    pub revoked_us: Option<i64>,
}

/// A statement ready to insert: the body is final, the index rows are computed.
#[derive(Debug, Clone)]
pub struct NewStatement {
    pub id: String,
    pub stored_us: i64,
    pub is_voiding: bool,
    /// Target of a StatementRef object, if any.
    pub object_ref: Option<String>,
    /// Credential key that stores it.
    pub authority: String,
    pub body: String,
    /// `(kind, key)` rows; see the `statement_index` table.
    pub index: Vec<(char, String)>,
    pub attachments: Vec<String>,
    /// Activities with definitions seen in this statement, merged into the canonical table.
    pub activities: Vec<(String, serde_json::Value)>,
    /// Agents seen as actor/object, for the Agents resource: `(key, agent JSON)`.
    pub agents: Vec<(String, serde_json::Value)>,
}

/// An attachment body to store once per sha2.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub sha2: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// A statement as read back.
#[derive(Debug, Clone)]
pub struct StoredStatement {
    pub seq: i64,
    pub id: String,
    pub stored_us: i64,
    pub is_voiding: bool,
    pub voided: bool,
    pub body: String,
    pub attachments: Vec<String>,
}

/// A statements query after parameter parsing. Filters are `(kind, key)` pairs of `statement_index`.
#[derive(Debug, Clone, Default)]
pub struct StatementQuery {
    pub filters: Vec<(char, String)>,
    pub since_us: Option<i64>,
    pub until_us: Option<i64>,
    /// Only statements stored by this credential (`statements/read/mine`).
    pub authority: Option<String>,
    pub ascending: bool,
    /// Rows to fetch (the caller asks for one more than it returns to know whether to page).
    pub limit: i64,
    /// Keyset cursor: the last `seq` returned by the previous page, and its `stored_us` when the
    /// query is in stored order (see [`StatementQuery::in_stored_order`]).
    pub after_seq: Option<i64>,
    pub after_stored_us: Option<i64>,
    /// Snapshot bound: rows with a larger `seq` arrived after the query began and are excluded.
    pub max_seq: i64,
    /// Stop reading rows once their bodies add up to more than this many bytes (the row that
    /// crosses it, and at least two rows, are returned, so the caller knows more exist). Rows are streamed, so a page of
    /// large statements never sits in memory beyond this bound plus one row.
    pub max_bytes: Option<usize>,
}

impl StatementQuery {
    /// A time window without filters is answered in `(stored, seq)` order straight off the `stored`
    /// index, so a page costs its own rows wherever the window lies (sorting a window's `seq`s cost
    /// 75 ms at a million statements). Stored order is the order xAPI asks for; elsewhere `seq` (the
    /// order rows were committed in) stands for it, being index order for the filter rows.
    pub fn in_stored_order(&self) -> bool {
        self.filters.is_empty() && (self.since_us.is_some() || self.until_us.is_some())
    }
}

/// A stored document (State, Activity Profile, Agent Profile).
#[derive(Debug, Clone)]
pub struct Document {
    pub content_type: String,
    pub body: Vec<u8>,
    pub etag: String,
    pub updated_us: i64,
}

/// A `registration` value meaning "any registration" in document listings and bulk deletes (a real
/// registration is a UUID, so it can never collide).
pub const ANY_REGISTRATION: &str = "*";

/// Which document and where: the primary key of the `documents` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentKey {
    pub kind: &'static str,
    pub activity_id: String,
    pub agent_key: String,
    pub registration: String,
    pub doc_id: String,
}

impl DocumentKey {
    /// A name for locking this document.
    pub fn lock_name(&self) -> String {
        format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            self.kind, self.activity_id, self.agent_key, self.registration, self.doc_id
        )
    }
}

/// One imported version of a course; `body` is the parsed course model as JSON.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CourseVersionRow {
    pub id: String,
    pub course_id: String,
    pub version: i64,
    pub imported_us: i64,
    pub package_sha256: String,
    pub file_count: i64,
    pub total_bytes: i64,
    pub body: String,
}

/// A course version to record; the store assigns its version number.
#[derive(Debug, Clone)]
pub struct NewCourseVersion {
    pub id: String,
    pub course_id: String,
    pub title: String,
    pub format: String,
    pub imported_us: i64,
    pub package_sha256: String,
    pub file_count: i64,
    pub total_bytes: i64,
    pub body: String,
}

/// A fact of the results engine, filed under one activity it concerns.
#[derive(Debug, Clone)]
pub struct FactRow {
    pub statement_id: String,
    pub linked: String,
    pub learner_key: String,
    pub body: String,
}

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

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub course_id: String,
    pub activity_id: String,
    pub title: String,
    pub starts_us: i64,
    pub ends_us: i64,
    pub timezone: String,
    pub capacity: Option<i64>,
    pub location: Option<String>,
    pub join_url: Option<String>,
    pub created_us: i64,
    pub cancelled_us: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BookingRow {
    pub learner_key: String,
    pub learner: String,
    pub booked_us: i64,
    pub cancelled_us: Option<i64>,
}

/// What a booking attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookOutcome {
    Booked,
    AlreadyBooked,
    Full,
}

/// A launch of one course module for one learner (see `lrs::launch`). It is also a credential: its key is
/// the id, and only a SHA-256 of its secret is kept.
#[derive(Debug, Clone, Serialize)]
pub struct LaunchRow {
    pub id: String,
    pub course_id: String,
    pub version_id: String,
    pub module_id: String,
    /// The module's xAPI activity id, root of the activity tree the credential may write about.
    pub activity_id: String,
    /// `scorm12`, `scorm2004`, `cmi5` or `tincan`.
    pub format: String,
    /// The learner, xAPI agent JSON text.
    pub actor: String,
    pub agent_key: String,
    pub registration: String,
    /// `Normal`, `Browse` or `Review`.
    pub launch_mode: String,
    pub session_id: String,
    #[serde(skip)]
    pub secret_sha256: Option<String>,
    #[serde(skip)]
    pub fetch_sha256: Option<String>,
    pub fetch_used: bool,
    /// `launched`, `initialized`, `suspended`, `terminated`, `abandoned` or `revoked`.
    pub state: String,
    pub created_us: i64,
    pub expires_us: i64,
    pub last_activity_us: i64,
}

/// The storage backend, chosen by URL scheme.
#[derive(Clone)]
pub enum Store {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

/// Every call reaches PostgreSQL through its health probe's guard (see `health`).
macro_rules! dispatch {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            Store::Sqlite($s) => $e,
            Store::Postgres($s) => $s.health.guard(async { $e }).await,
        }
    };
}

/// Err naming the first migration of `migrator` not in `applied`.
fn missing_migrations(
    migrator: &sqlx::migrate::Migrator,
    applied: &std::collections::BTreeSet<i64>,
) -> std::result::Result<(), String> {
    match migrator.iter().find(|m| !applied.contains(&m.version)) {
        Some(m) => Err(format!("migration {} ({}) is not applied; run `cairn migrate`", m.version, m.description)),
        None => Ok(()),
    }
}

impl Store {
    /// Connects to `sqlite://FILE` (created when missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store> {
        if url.starts_with("sqlite:") {
            Ok(Store::Sqlite(sqlite::SqliteStore::connect(url).await?))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::Postgres(postgres::PgStore::connect(url).await?))
        } else {
            Err(StoreError::BadUrl(url.to_string()))
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Ready to serve (`GET /ready`): reachable, writable, migrations applied; else the reason.
    pub async fn ready(&self) -> std::result::Result<(), String> {
        match self {
            Store::Sqlite(s) => s.ready().await,
            Store::Postgres(s) => s.ready().await,
        }
    }

    pub async fn migrate(&self) -> Result<()> {
        dispatch!(self, s => s.migrate().await)
    }

    // --- credentials ---

    pub async fn insert_credential(&self, c: &CredentialRow) -> Result<()> {
        dispatch!(self, s => s.insert_credential(c).await)
    }
    pub async fn credential(&self, key: &str) -> Result<Option<CredentialRow>> {
        dispatch!(self, s => s.credential(key).await)
    }
    pub async fn credentials(&self) -> Result<Vec<CredentialRow>> {
        dispatch!(self, s => s.credentials().await)
    }
    /// Marks a credential revoked; false when no active credential has that key.
    pub async fn revoke_credential(&self, key: &str, now_us: i64) -> Result<bool> {
        dispatch!(self, s => s.revoke_credential(key, now_us).await)
    }
    pub async fn credential_count(&self) -> Result<i64> {
        dispatch!(self, s => s.credential_count().await)
    }

    // --- statements ---

    /// Stores a batch in one transaction: all or nothing. A concurrent insert of one of the ids gives
    /// [`StoreError::DuplicateStatement`] and stores nothing.
    /// The batch is shared (`Arc`), not copied, with the SQLite group-commit writer task.
    /// `facts` are results-maintenance rows committed in the same transaction.
    pub async fn insert_statements(
        &self,
        batch: Arc<[NewStatement]>,
        attachments: &[NewAttachment],
        facts: Arc<[FactRow]>,
    ) -> Result<()> {
        dispatch!(self, s => s.insert_statements(batch, attachments, facts).await)
    }
    /// The statements with these ids (voided or not).
    pub async fn statements_by_id(&self, ids: &[String]) -> Result<Vec<StoredStatement>> {
        dispatch!(self, s => s.statements_by_id(ids).await)
    }
    pub async fn query_statements(&self, q: &StatementQuery) -> Result<Vec<StoredStatement>> {
        dispatch!(self, s => s.query_statements(q).await)
    }
    /// The newest `seq`, the snapshot bound for a new query.
    pub async fn max_seq(&self) -> Result<i64> {
        dispatch!(self, s => s.max_seq().await)
    }
    pub async fn attachments(&self, sha2s: &[String]) -> Result<Vec<NewAttachment>> {
        dispatch!(self, s => s.attachments(sha2s).await)
    }

    // --- activities and agents ---

    pub async fn activity(&self, id: &str) -> Result<Option<serde_json::Value>> {
        dispatch!(self, s => s.activity(id).await)
    }
    pub async fn agent(&self, key: &str) -> Result<Option<serde_json::Value>> {
        dispatch!(self, s => s.agent(key).await)
    }

    // --- courses ---

    /// Records an imported course version (creating the course, or bumping its latest version, in the
    /// same transaction); returns the version number.
    pub async fn insert_course_version(&self, v: &NewCourseVersion) -> Result<i64> {
        dispatch!(self, s => s.insert_course_version(v).await)
    }
    /// The latest version of every course.
    pub async fn latest_course_versions(&self) -> Result<Vec<CourseVersionRow>> {
        dispatch!(self, s => s.latest_course_versions().await)
    }
    /// Every version of one course, newest first.
    pub async fn course_versions(&self, course_id: &str) -> Result<Vec<CourseVersionRow>> {
        dispatch!(self, s => s.course_versions(course_id).await)
    }
    pub async fn course_version(&self, version_id: &str) -> Result<Option<CourseVersionRow>> {
        dispatch!(self, s => s.course_version(version_id).await)
    }

    // --- results ---

    pub async fn insert_facts(&self, facts: &[FactRow]) -> Result<()> {
        dispatch!(self, s => s.insert_facts(facts).await)
    }
    /// `(activity, course)` for every course that includes one of these activities.
    pub async fn course_links(&self, activities: &[String]) -> Result<Vec<(String, String)>> {
        dispatch!(self, s => s.course_links(activities).await)
    }
    /// `(learner, body)` of the facts of these learners on any of these activities, each statement once
    /// per learner.
    pub async fn facts_of_learners(&self, learners: &[String], activities: &[String]) -> Result<Vec<(String, String)>> {
        dispatch!(self, s => s.facts_of_learners(learners, activities).await)
    }
    /// `(learner, body)` of these learners' results for one course.
    pub async fn results_of(&self, course_id: &str, learners: &[String]) -> Result<Vec<(String, String)>> {
        dispatch!(self, s => s.results_of(course_id, learners).await)
    }
    /// The (learner, activity) pairs the facts of these statements are filed under.
    pub async fn fact_links_of(&self, statement_ids: &[String]) -> Result<Vec<(String, String)>> {
        dispatch!(self, s => s.fact_links_of(statement_ids).await)
    }
    pub async fn put_course_def(
        &self,
        course_id: &str,
        body: &str,
        defined: bool,
        activities: &[String],
    ) -> Result<()> {
        dispatch!(self, s => s.put_course_def(course_id, body, defined, activities).await)
    }
    pub async fn course_def(&self, course_id: &str) -> Result<Option<String>> {
        dispatch!(self, s => s.course_def(course_id).await)
    }
    pub async fn course_defs(&self) -> Result<Vec<String>> {
        dispatch!(self, s => s.course_defs().await)
    }
    pub async fn put_result(&self, course_id: &str, learner_key: &str, body: &str) -> Result<()> {
        dispatch!(self, s => s.put_result(course_id, learner_key, body).await)
    }
    /// Writes many `(course, learner, body)` results in one transaction (one fsync, not one each).
    pub async fn put_results(&self, rows: &[(String, String, String)]) -> Result<()> {
        dispatch!(self, s => s.put_results(rows).await)
    }
    pub async fn results_of_course(&self, course_id: &str) -> Result<Vec<(String, String)>> {
        dispatch!(self, s => s.results_of_course(course_id).await)
    }
    /// Every result of one learner: `(course, body)`.
    pub async fn results_of_learner(&self, learner_key: &str) -> Result<Vec<(String, String)>> {
        dispatch!(self, s => s.results_of_learner(learner_key).await)
    }
    pub async fn result(&self, course_id: &str, learner_key: &str) -> Result<Option<String>> {
        dispatch!(self, s => s.result(course_id, learner_key).await)
    }
    pub async fn learners_of_course(&self, course_id: &str) -> Result<Vec<String>> {
        dispatch!(self, s => s.learners_of_course(course_id).await)
    }
    /// Removes every fact and result (before a rebuild).
    pub async fn clear_derived(&self) -> Result<()> {
        dispatch!(self, s => s.clear_derived().await)
    }
    /// Live (not voided, not voiding) statements after `after_seq`, in order.
    pub async fn statement_page(&self, after_seq: i64, limit: i64) -> Result<Vec<StoredStatement>> {
        dispatch!(self, s => s.statement_page(after_seq, limit).await)
    }
    pub async fn insert_assignments(&self, rows: &[AssignmentRow]) -> Result<()> {
        dispatch!(self, s => s.insert_assignments(rows).await)
    }
    /// Assignments, optionally of one course and/or one learner.
    pub async fn assignments(&self, course_id: Option<&str>, learner_key: Option<&str>) -> Result<Vec<AssignmentRow>> {
        dispatch!(self, s => s.assignments(course_id, learner_key).await)
    }
    pub async fn assignment(&self, id: &str) -> Result<Option<AssignmentRow>> {
        dispatch!(self, s => s.assignment(id).await)
    }
    pub async fn waive_assignment(&self, id: &str, at_us: i64, reason: Option<&str>) -> Result<bool> {
        dispatch!(self, s => s.waive_assignment(id, at_us, reason).await)
    }
    pub async fn insert_session(&self, row: &SessionRow) -> Result<()> {
        dispatch!(self, s => s.insert_session(row).await)
    }
    pub async fn sessions(&self, course_id: Option<&str>) -> Result<Vec<SessionRow>> {
        dispatch!(self, s => s.sessions(course_id).await)
    }
    pub async fn session(&self, id: &str) -> Result<Option<SessionRow>> {
        dispatch!(self, s => s.session(id).await)
    }
    pub async fn cancel_session(&self, id: &str, at_us: i64) -> Result<bool> {
        dispatch!(self, s => s.cancel_session(id, at_us).await)
    }
    /// Books a seat if the session has room, counting and inserting under one lock so two nodes can
    /// never overbook.
    pub async fn book(
        &self,
        session_id: &str,
        learner_key: &str,
        learner: &str,
        capacity: Option<i64>,
        at_us: i64,
    ) -> Result<BookOutcome> {
        dispatch!(self, s => s.book(session_id, learner_key, learner, capacity, at_us).await)
    }
    pub async fn cancel_booking(&self, session_id: &str, learner_key: &str, at_us: i64) -> Result<bool> {
        dispatch!(self, s => s.cancel_booking(session_id, learner_key, at_us).await)
    }
    pub async fn bookings(&self, session_id: &str) -> Result<Vec<BookingRow>> {
        dispatch!(self, s => s.bookings(session_id).await)
    }

    // --- launches ---

    pub async fn insert_launch(&self, l: &LaunchRow) -> Result<()> {
        dispatch!(self, s => s.insert_launch(l).await)
    }
    pub async fn launch(&self, id: &str) -> Result<Option<LaunchRow>> {
        dispatch!(self, s => s.launch(id).await)
    }
    /// A learner's recent launches of one module (of any module when `module_id` is empty), newest first.
    pub async fn launches_of(&self, agent_key: &str, course_id: &str, module_id: &str) -> Result<Vec<LaunchRow>> {
        dispatch!(self, s => s.launches_of(agent_key, course_id, module_id).await)
    }
    /// Moves a launch from state `from` to `to` (compare-and-set, so two requests cannot both make the
    /// same transition); false when it was not in `from`.
    pub async fn set_launch_state(&self, id: &str, from: &str, to: &str, at_us: i64) -> Result<bool> {
        dispatch!(self, s => s.set_launch_state(id, from, to, at_us).await)
    }
    /// Records that the session was active at `at_us` (the end of an abandoned session's duration).
    pub async fn touch_launch(&self, id: &str, at_us: i64) -> Result<()> {
        dispatch!(self, s => s.touch_launch(id, at_us).await)
    }
    /// Stores the launch credential's secret hash. With `via_fetch` this is the cmi5 fetch: it succeeds
    /// only once, and only before the launch expires.
    pub async fn issue_launch_secret(
        &self,
        id: &str,
        secret_sha256: &str,
        via_fetch: bool,
        now_us: i64,
    ) -> Result<bool> {
        dispatch!(self, s => s.issue_launch_secret(id, secret_sha256, via_fetch, now_us).await)
    }

    // --- documents ---

    pub async fn document(&self, key: &DocumentKey) -> Result<Option<Document>> {
        dispatch!(self, s => s.document(key).await)
    }
    /// Ids of the documents under a key's activity/agent/registration (its `doc_id` is ignored),
    /// optionally only those updated after `since_us`.
    pub async fn document_ids(&self, key: &DocumentKey, since_us: Option<i64>) -> Result<Vec<String>> {
        dispatch!(self, s => s.document_ids(key, since_us).await)
    }
    /// Reads a document and applies `decide` to it inside one transaction (row-locked on PostgreSQL,
    /// the single writer on SQLite), so concurrent writers never lose an update. The decision (the xAPI
    /// rules: preconditions, merging) is the caller's; the store only makes it atomic.
    pub async fn modify_document<T, F>(&self, key: &DocumentKey, decide: F) -> Result<T>
    where
        F: FnOnce(Option<Document>) -> (DocumentChange, T) + Send + 'static,
        T: Send + 'static,
    {
        dispatch!(self, s => s.modify_document(key, decide).await)
    }
    /// Deletes every document under a key's activity/agent/registration (State DELETE without stateId).
    pub async fn delete_documents(&self, key: &DocumentKey) -> Result<()> {
        dispatch!(self, s => s.delete_documents(key).await)
    }
}

/// The activity definitions of a batch, folded per id (later statements win) and sorted by id.
fn merged_activities(batch: &[NewStatement]) -> Vec<(&str, serde_json::Value)> {
    let mut map: std::collections::BTreeMap<&str, serde_json::Value> = std::collections::BTreeMap::new();
    for st in batch {
        for (id, def) in &st.activities {
            let merged = match map.get(id.as_str()) {
                Some(prev) => crate::xapi::activity::merge_values(prev, def),
                None => def.clone(),
            };
            map.insert(id, merged);
        }
    }
    map.into_iter().collect()
}

/// The agents seen in a batch, folded per key and sorted by key.
fn merged_agents(batch: &[NewStatement]) -> Vec<(&str, serde_json::Value)> {
    let mut map: std::collections::BTreeMap<&str, serde_json::Value> = std::collections::BTreeMap::new();
    for st in batch {
        for (key, a) in &st.agents {
            let merged = match map.get(key.as_str()) {
                Some(prev) => crate::xapi::agent::merge_values(prev, a),
                None => a.clone(),
            };
            map.insert(key, merged);
        }
    }
    map.into_iter().collect()
}

/// What [`Store::modify_document`] should do with the document.
#[derive(Debug, Clone)]
pub enum DocumentChange {
    Keep,
    Put(Document),
    Delete,
}

//! SQL text shared by both backends. SQLite accepts PostgreSQL's `$N` placeholders and the same
//! `ON CONFLICT … DO …` forms, so each statement is written once here and bound by each backend.

use super::StatementQuery;

/// A value to bind, in placeholder order.
#[derive(Debug, Clone)]
pub enum Bind {
    Int(i64),
    Text(String),
}

pub const STATEMENT_COLUMNS: &str = "s.seq, s.id, s.stored_us, s.is_voiding, s.voided, s.body, s.attachments";

/// Builds the statements query: the first filter drives the scan through `statement_index`
/// (`(kind, key, seq)` primary key, so rows come out already in `seq` order), the others are
/// probed with EXISTS on the same key. Without filters the scan runs over `statements.seq`.
pub fn statements_query(q: &StatementQuery) -> (String, Vec<Bind>) {
    let mut binds: Vec<Bind> = Vec::new();
    let ph = |b: Bind, binds: &mut Vec<Bind>| {
        binds.push(b);
        format!("${}", binds.len())
    };
    let stored_order = q.in_stored_order();
    let mut sql = format!("SELECT {STATEMENT_COLUMNS} FROM ");
    let order_col;
    let mut filters = q.filters.iter();
    if let Some((kind, key)) = filters.next() {
        let k = ph(Bind::Text(kind.to_string()), &mut binds);
        let v = ph(Bind::Text(key.clone()), &mut binds);
        sql.push_str(&format!(
            "statement_index d JOIN statements s ON s.seq = d.seq WHERE d.kind = {k} AND d.key = {v}"
        ));
        order_col = "d.seq";
    } else {
        sql.push_str("statements s WHERE 1 = 1");
        order_col = "s.seq";
    }
    sql.push_str(" AND s.voided = FALSE");
    let m = ph(Bind::Int(q.max_seq), &mut binds);
    sql.push_str(&format!(" AND {order_col} <= {m}"));
    let op = if q.ascending { ">" } else { "<" };
    match (q.after_seq, q.after_stored_us) {
        (Some(after), Some(stored)) if stored_order => {
            let st = ph(Bind::Int(stored), &mut binds);
            let a = ph(Bind::Int(after), &mut binds);
            sql.push_str(&format!(" AND (s.stored_us, s.seq) {op} ({st}, {a})"));
        }
        (Some(after), _) => {
            let a = ph(Bind::Int(after), &mut binds);
            sql.push_str(&format!(" AND {order_col} {op} {a}"));
        }
        (None, _) => {}
    }
    if let Some(since) = q.since_us {
        let p = ph(Bind::Int(since), &mut binds);
        sql.push_str(&format!(" AND s.stored_us > {p}"));
    }
    if let Some(until) = q.until_us {
        let p = ph(Bind::Int(until), &mut binds);
        sql.push_str(&format!(" AND s.stored_us <= {p}"));
    }
    if let Some(auth) = &q.authority {
        let p = ph(Bind::Text(auth.clone()), &mut binds);
        sql.push_str(&format!(" AND s.authority = {p}"));
    }
    for (kind, key) in filters {
        let k = ph(Bind::Text(kind.to_string()), &mut binds);
        let v = ph(Bind::Text(key.clone()), &mut binds);
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM statement_index e WHERE e.kind = {k} AND e.key = {v} AND e.seq = s.seq)"
        ));
    }
    let dir = if q.ascending { "ASC" } else { "DESC" };
    let l = ph(Bind::Int(q.limit), &mut binds);
    if stored_order {
        sql.push_str(&format!(" ORDER BY s.stored_us {dir}, s.seq {dir} LIMIT {l}"));
    } else {
        sql.push_str(&format!(" ORDER BY {order_col} {dir} LIMIT {l}"));
    }
    (sql, binds)
}

pub const SEQ_OF: &str = "SELECT seq FROM statements WHERE id = $1";
pub const VOID_TARGET: &str = "UPDATE statements SET voided = TRUE WHERE id = $1 AND is_voiding = FALSE";
/// Statements whose object is a StatementRef to `$1`: they may have arrived before their target.
pub const REFERRERS: &str = "SELECT seq, id, is_voiding, voided FROM statements WHERE object_ref = $1";
/// Gives statement `$2` every index row of statement `$1` (StatementRef filter rule).
pub const COPY_INDEX: &str = "INSERT INTO statement_index (kind, key, seq) \
     SELECT i.kind, i.key, $2 FROM statement_index i WHERE i.seq = $1 ON CONFLICT DO NOTHING";
/// Rows per multi-row statement insert (6 parameters each) and per key lookup: well under SQLite's
/// 32,766 and PostgreSQL's 65,535 bound parameters.
pub const ROWS_PER_INSERT: usize = 500;
/// Index rows per multi-row insert (3 parameters each).
pub const INDEX_ROWS_PER_INSERT: usize = 2000;

/// Placeholder number `i` (1-based): `$i` where parameters must be numbered (PostgreSQL), plain `?`
/// otherwise. SQLite looks a numbered parameter's name up by walking a list, so binding the thousands
/// of parameters of a multi-row insert by number costs quadratic time there (it showed as
/// `sqlite3_bind_parameter_name` at the top of the insert profile); anonymous `?` are bound in order.
pub fn param(numbered: bool, i: usize) -> String {
    if numbered {
        format!("${i}")
    } else {
        "?".to_string()
    }
}

/// `n` placeholders from number `first`, comma-separated, for an `IN (…)` list.
pub fn param_list(numbered: bool, first: usize, n: usize) -> String {
    (first..first + n).map(|i| param(numbered, i)).collect::<Vec<_>>().join(", ")
}

/// A multi-row insert of `n` statements, not yet voided (voiding is applied once the whole batch is
/// in). With `explicit_seq` each row's `seq` is bound first (8 parameters a row) and nothing is
/// returned; otherwise the database numbers the rows and returns each `seq` with its `id`.
pub fn insert_statements(n: usize, numbered: bool, explicit_seq: bool) -> String {
    let width = if explicit_seq { 8 } else { 7 };
    let rows: Vec<String> = (0..n)
        .map(|i| {
            let mut p: Vec<String> = (1..=width).map(|k| param(numbered, width * i + k)).collect();
            // `voided` is not a parameter: after `is_voiding` (the seq shifts it by one).
            p.insert(width - 4, "FALSE".to_string());
            format!("({})", p.join(", "))
        })
        .collect();
    let columns = "id, stored_us, is_voiding, voided, object_ref, authority, body, attachments";
    if explicit_seq {
        format!("INSERT INTO statements (seq, {columns}) VALUES {}", rows.join(", "))
    } else {
        format!("INSERT INTO statements ({columns}) VALUES {} RETURNING seq, id", rows.join(", "))
    }
}

/// `n` rows of `width` parameters each, numbered from 1, for a multi-row `VALUES` list.
pub fn value_rows(n: usize, width: usize, numbered: bool) -> String {
    (0..n).map(|i| format!("({})", param_list(numbered, width * i + 1, width))).collect::<Vec<_>>().join(", ")
}

/// A multi-row insert of `n` `(kind, key, seq)` index rows.
pub fn insert_index_rows(n: usize, numbered: bool) -> String {
    let rows: Vec<String> = (0..n).map(|i| format!("({})", param_list(numbered, 3 * i + 1, 3))).collect();
    format!("INSERT INTO statement_index (kind, key, seq) VALUES {} ON CONFLICT DO NOTHING", rows.join(", "))
}

/// `n` `(key, value)` rows for a multi-row upsert.
pub fn pair_rows(n: usize, numbered: bool) -> String {
    (0..n).map(|i| format!("({})", param_list(numbered, 2 * i + 1, 2))).collect::<Vec<_>>().join(", ")
}

pub const UPSERT_ACTIVITIES_PREFIX: &str = "INSERT INTO activities (id, definition) VALUES";
pub const UPSERT_ACTIVITIES_SUFFIX: &str = "ON CONFLICT (id) DO UPDATE SET definition = excluded.definition";
pub const UPSERT_AGENTS_PREFIX: &str = "INSERT INTO agents (key, body) VALUES";
pub const UPSERT_AGENTS_SUFFIX: &str = "ON CONFLICT (key) DO UPDATE SET body = excluded.body";

pub const INSERT_ATTACHMENT: &str =
    "INSERT INTO attachments (sha2, content_type, body) VALUES ($1, $2, $3) ON CONFLICT (sha2) DO NOTHING";
pub const SELECT_ACTIVITY: &str = "SELECT definition FROM activities WHERE id = $1";
pub const SELECT_AGENT: &str = "SELECT body FROM agents WHERE key = $1";

pub const INSERT_CREDENTIAL: &str = "INSERT INTO credentials (key, name, secret_hash, scopes, created_us, revoked_us) \
     VALUES ($1, $2, $3, $4, $5, $6)";
pub const SELECT_CREDENTIAL: &str =
    "SELECT key, name, secret_hash, scopes, created_us, revoked_us FROM credentials WHERE key = $1";
pub const SELECT_CREDENTIALS: &str =
    "SELECT key, name, secret_hash, scopes, created_us, revoked_us FROM credentials ORDER BY created_us, key";
pub const REVOKE_CREDENTIAL: &str = "UPDATE credentials SET revoked_us = $2 WHERE key = $1 AND revoked_us IS NULL";
pub const COUNT_CREDENTIALS: &str = "SELECT COUNT(*) FROM credentials";

pub const SELECT_DOCUMENT: &str = "SELECT content_type, body, etag, updated_us FROM documents \
     WHERE kind = $1 AND activity_id = $2 AND agent_key = $3 AND registration = $4 AND doc_id = $5";
pub const UPSERT_DOCUMENT: &str = "INSERT INTO documents (kind, activity_id, agent_key, registration, doc_id, content_type, body, etag, updated_us) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (kind, activity_id, agent_key, registration, doc_id) DO UPDATE SET \
     content_type = excluded.content_type, body = excluded.body, etag = excluded.etag, updated_us = excluded.updated_us";
pub const DELETE_DOCUMENT: &str = "DELETE FROM documents \
     WHERE kind = $1 AND activity_id = $2 AND agent_key = $3 AND registration = $4 AND doc_id = $5";
pub const DELETE_DOCUMENTS: &str =
    "DELETE FROM documents WHERE kind = $1 AND activity_id = $2 AND agent_key = $3 AND ($4 = '*' OR registration = $4)";
pub const SELECT_DOCUMENT_IDS: &str = "SELECT doc_id FROM documents \
     WHERE kind = $1 AND activity_id = $2 AND agent_key = $3 AND ($4 = '*' OR registration = $4) AND updated_us > $5 \
     GROUP BY doc_id ORDER BY doc_id";

/// Placeholders `$1, $2, …` for an `IN (…)` list starting at `first`.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

pub const UPSERT_COURSE: &str = "INSERT INTO courses (id, title, format, latest_version, created_us, updated_us) \
     VALUES ($1, $2, $3, 1, $4, $4) \
     ON CONFLICT (id) DO UPDATE SET title = excluded.title, format = excluded.format, \
     latest_version = courses.latest_version + 1, updated_us = excluded.updated_us \
     RETURNING latest_version";
pub const INSERT_COURSE_VERSION: &str = "INSERT INTO course_versions \
     (id, course_id, version, imported_us, package_sha256, file_count, total_bytes, body) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
pub const SELECT_LATEST_VERSIONS: &str = "SELECT v.id, v.course_id, v.version, v.imported_us, v.package_sha256, \
     v.file_count, v.total_bytes, v.body FROM courses c JOIN course_versions v \
     ON v.course_id = c.id AND v.version = c.latest_version ORDER BY c.id";
pub const SELECT_COURSE_VERSIONS: &str = "SELECT v.id, v.course_id, v.version, v.imported_us, v.package_sha256, \
     v.file_count, v.total_bytes, v.body FROM course_versions v WHERE v.course_id = $1 ORDER BY v.version DESC";
pub const SELECT_COURSE_VERSION: &str = "SELECT v.id, v.course_id, v.version, v.imported_us, v.package_sha256, \
     v.file_count, v.total_bytes, v.body FROM course_versions v WHERE v.id = $1";

// --- results ---
/// Followed by `value_rows(n, 4)` and [`INSERT_FACTS_SUFFIX`].
pub const INSERT_FACTS_PREFIX: &str = "INSERT INTO result_facts (statement_id, linked, learner_key, body) VALUES";
pub const INSERT_FACTS_SUFFIX: &str = "ON CONFLICT (statement_id, linked) DO NOTHING";
pub const UPSERT_COURSE_DEF: &str = "INSERT INTO course_defs (course_id, body, defined, updated_us) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (course_id) DO UPDATE SET body = excluded.body, defined = excluded.defined, updated_us = excluded.updated_us";
pub const DELETE_COURSE_ACTIVITIES: &str = "DELETE FROM course_activities WHERE course_id = $1";
pub const INSERT_COURSE_ACTIVITY: &str =
    "INSERT INTO course_activities (activity_id, course_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
pub const SELECT_COURSE_DEF: &str = "SELECT body FROM course_defs WHERE course_id = $1";
pub const SELECT_COURSE_DEFS: &str = "SELECT body FROM course_defs ORDER BY course_id";
pub const UPSERT_RESULT: &str =
    "INSERT INTO results (course_id, learner_key, body, updated_us) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (course_id, learner_key) DO UPDATE SET body = excluded.body, updated_us = excluded.updated_us";
/// Followed by `value_rows(n, 4)` and [`UPSERT_RESULTS_SUFFIX`].
pub const UPSERT_RESULTS_PREFIX: &str = "INSERT INTO results (course_id, learner_key, body, updated_us) VALUES";
pub const UPSERT_RESULTS_SUFFIX: &str =
    "ON CONFLICT (course_id, learner_key) DO UPDATE SET body = excluded.body, updated_us = excluded.updated_us";
pub const SELECT_RESULTS_OF_COURSE: &str = "SELECT learner_key, body FROM results WHERE course_id = $1";
pub const SELECT_RESULTS_OF_LEARNER: &str = "SELECT course_id, body FROM results WHERE learner_key = $1";
pub const SELECT_RESULT: &str = "SELECT body FROM results WHERE course_id = $1 AND learner_key = $2";
pub const SELECT_LEARNERS_OF_COURSE: &str = "SELECT DISTINCT f.learner_key FROM result_facts f \
     JOIN course_activities ca ON ca.activity_id = f.linked WHERE ca.course_id = $1";
pub const CLEAR_FACTS: &str = "DELETE FROM result_facts";
pub const CLEAR_RESULTS: &str = "DELETE FROM results";
pub const SELECT_STATEMENT_PAGE: &str =
    "SELECT s.seq, s.id, s.stored_us, s.is_voiding, s.voided, s.body, s.attachments FROM statements s \
     WHERE s.seq > $1 AND s.voided = FALSE AND s.is_voiding = FALSE ORDER BY s.seq LIMIT $2";

pub const ASSIGNMENT_COLUMNS: &str = "id, course_id, learner_key, learner, assigned_us, due_us, grace_days, \
     recurrence_months, registration, group_key, waived_us, waived_reason";
pub const INSERT_ASSIGNMENT: &str =
    "INSERT INTO assignments (id, course_id, learner_key, learner, assigned_us, due_us, \
     grace_days, recurrence_months, registration, group_key, waived_us, waived_reason) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
pub const WAIVE_ASSIGNMENT: &str = "UPDATE assignments SET waived_us = $2, waived_reason = $3 WHERE id = $1";

pub const SESSION_COLUMNS: &str =
    "id, course_id, activity_id, title, starts_us, ends_us, timezone, capacity, location, \
     join_url, created_us, cancelled_us";
pub const INSERT_SESSION: &str = "INSERT INTO sessions (id, course_id, activity_id, title, starts_us, ends_us, timezone, \
     capacity, location, join_url, created_us, cancelled_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
pub const CANCEL_SESSION: &str = "UPDATE sessions SET cancelled_us = $2 WHERE id = $1 AND cancelled_us IS NULL";
pub const COUNT_BOOKINGS: &str = "SELECT COUNT(*) FROM bookings WHERE session_id = $1 AND cancelled_us IS NULL";
pub const SELECT_BOOKING: &str = "SELECT cancelled_us FROM bookings WHERE session_id = $1 AND learner_key = $2";
pub const UPSERT_BOOKING: &str = "INSERT INTO bookings (session_id, learner_key, learner, booked_us, cancelled_us) \
     VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (session_id, learner_key) DO UPDATE SET booked_us = excluded.booked_us, \
     cancelled_us = NULL, learner = excluded.learner";
pub const CANCEL_BOOKING: &str =
    "UPDATE bookings SET cancelled_us = $3 WHERE session_id = $1 AND learner_key = $2 AND cancelled_us IS NULL";
pub const SELECT_BOOKINGS: &str =
    "SELECT learner_key, learner, booked_us, cancelled_us FROM bookings WHERE session_id = $1 \
     ORDER BY booked_us";

const LAUNCH_COLUMNS: &str =
    "id, course_id, version_id, module_id, activity_id, format, actor, agent_key, registration, \
     launch_mode, session_id, secret_sha256, fetch_sha256, fetch_used, state, created_us, expires_us, last_activity_us";
pub const INSERT_LAUNCH: &str =
    "INSERT INTO launches (id, course_id, version_id, module_id, activity_id, format, actor, \
     agent_key, registration, launch_mode, session_id, secret_sha256, fetch_sha256, fetch_used, state, created_us, \
     expires_us, last_activity_us) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";
pub fn select_launch() -> String {
    format!("SELECT {LAUNCH_COLUMNS} FROM launches WHERE id = $1")
}
pub fn select_launches_of() -> String {
    format!(
        "SELECT {LAUNCH_COLUMNS} FROM launches WHERE agent_key = $1 AND course_id = $2 AND ($3 = '' OR module_id = $3) \
         ORDER BY created_us DESC LIMIT 20"
    )
}
pub const SET_LAUNCH_STATE: &str = "UPDATE launches SET state = $3, last_activity_us = $4 WHERE id = $1 AND state = $2";
pub const TOUCH_LAUNCH: &str = "UPDATE launches SET last_activity_us = $2 WHERE id = $1";
pub const ISSUE_LAUNCH_SECRET: &str = "UPDATE launches SET secret_sha256 = $2 WHERE id = $1";
pub const FETCH_LAUNCH_SECRET: &str = "UPDATE launches SET secret_sha256 = $2, fetch_used = TRUE \
     WHERE id = $1 AND fetch_used = FALSE AND expires_us > $3";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_rows_keep_voided_false_in_its_column() {
        assert_eq!(
            insert_statements(1, true, false),
            "INSERT INTO statements (id, stored_us, is_voiding, voided, object_ref, authority, body, attachments) \
             VALUES ($1, $2, $3, FALSE, $4, $5, $6, $7) RETURNING seq, id"
        );
        assert_eq!(
            insert_statements(2, false, true),
            "INSERT INTO statements (seq, id, stored_us, is_voiding, voided, object_ref, authority, body, attachments) \
             VALUES (?, ?, ?, ?, FALSE, ?, ?, ?, ?), (?, ?, ?, ?, FALSE, ?, ?, ?, ?)"
        );
    }

    #[test]
    fn value_rows_number_parameters_across_rows() {
        assert_eq!(value_rows(2, 2, true), "($1, $2), ($3, $4)");
    }
}

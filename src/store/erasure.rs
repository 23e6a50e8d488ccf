//! Erasure and export of a person (GDPR articles 17 and 20): what is stored under a person's agent
//! identifiers, read out or removed in one transaction. Which statements are removed and how the
//! others are anonymised is decided above (`lrs::persons`); this module only carries it out.

use super::dialect::{Conn, Q, ROWS_PER_INSERT};
use super::statements::{from_row, keys, StoredStatement, COLUMNS};
use super::{Result, Store};

/// A document stored under one of a person's identifiers (State or agent profile).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgentDocument {
    pub kind: String,
    pub activity_id: String,
    pub agent_key: String,
    pub registration: String,
    pub doc_id: String,
    pub content_type: String,
    pub body: Vec<u8>,
    pub updated_us: i64,
}

/// What to do for one person's erasure.
#[derive(Debug, Clone, Default)]
pub struct Erasure {
    pub person: String,
    /// Every identifier of the person.
    pub keys: Vec<String>,
    /// Statements removed (the person is their actor): `(seq, id)`.
    pub remove: Vec<(i64, String)>,
    /// Statements kept with the person replaced by an anonymous agent: `(seq, new body)`.
    pub rewrite: Vec<(i64, String)>,
    /// The anonymous agent's key, which the rewritten statements are found by instead.
    pub anonymous_key: String,
}

/// `kind` of the index rows an agent is found by anywhere in a statement (`xapi::statement::kind`).
const AGENT_ANYWHERE: &str = "a";

impl Store {
    /// Statements that name any of these agents anywhere (actor, object, context, members), in
    /// stored order, at most `limit` after `after_seq`.
    pub async fn statements_mentioning(
        &self,
        keys: &[String],
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<StoredStatement>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let ex = self.read();
        let b = ex.backend();
        let sql = format!(
            "SELECT {COLUMNS} FROM statements s WHERE s.seq IN (SELECT seq FROM statement_index \
             WHERE key_id IN (SELECT id FROM index_keys WHERE kind = {} AND key IN ({}))) \
             AND s.seq > {} ORDER BY s.seq LIMIT {}",
            b.param(1),
            b.param_list(2, keys.len()),
            b.param(keys.len() + 2),
            b.param(keys.len() + 3)
        );
        let mut q = ex.sql(sql).bind(AGENT_ANYWHERE);
        for k in keys {
            q = q.bind(k);
        }
        let rows = q.bind(after_seq).bind(limit).fetch_all().await?;
        self.unpacked(rows.iter().map(from_row).collect::<sqlx::Result<_>>()?).await
    }

    /// State and agent profile documents stored under any of these agents.
    pub async fn documents_of_agents(&self, keys: &[String]) -> Result<Vec<AgentDocument>> {
        let mut out = Vec::new();
        for chunk in keys.chunks(ROWS_PER_INSERT) {
            let ex = self.read();
            let sql = format!(
                "SELECT kind, activity_id, agent_key, registration, doc_id, content_type, body, updated_us \
                 FROM documents WHERE agent_key IN ({}) ORDER BY kind, activity_id, agent_key, registration, doc_id",
                ex.backend().param_list(1, chunk.len())
            );
            let mut q = ex.sql(sql);
            for k in chunk {
                q = q.bind(k);
            }
            out.extend(q.fetch_all_as::<AgentDocument>().await?);
        }
        Ok(out)
    }

    /// Carries out an erasure in one transaction: removes the statements (their index rows, facts and
    /// attachments no other statement uses), rewrites the others and re-files their index rows under
    /// the anonymous agent, and drops the person's documents, seen-agent rows, identifiers, name,
    /// facts and results. Learning-management rows (assignments, bookings, launches) go first, above.
    pub async fn erase(&self, e: &Erasure) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let mut conn = tx.conn();
        keys::exclude_writers(&mut conn).await?;
        let removed_ids: Vec<&str> = e.remove.iter().map(|(_, id)| id.as_str()).collect();
        let mut attachments: Vec<String> = Vec::new();
        for chunk in removed_ids.chunks(ROWS_PER_INSERT) {
            let sql = format!(
                "SELECT s.attachments FROM {} WHERE s.attachments IS NOT NULL AND i.id IN ({})",
                super::statements::BY_ID,
                conn.backend().param_list(1, chunk.len())
            );
            let mut q = conn.sql(sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for text in q.scalars::<String>().await? {
                attachments.extend(serde_json::from_str::<Vec<String>>(&text).unwrap_or_default());
            }
        }
        let seqs: Vec<i64> = e.remove.iter().map(|(s, _)| *s).collect();
        uncount_days(&mut conn, &seqs).await?;
        delete_by_seq(&mut conn, "DELETE FROM statement_index WHERE seq IN", &seqs).await?;
        super::results::delete_facts_by_seq(&mut conn, &seqs).await?;
        delete_by_seq(&mut conn, "DELETE FROM statements WHERE seq IN", &seqs).await?;
        if conn.backend() == super::dialect::Backend::Postgres {
            // A table there (a view of `statements` on SQLite).
            conn.execute_for_ids("DELETE FROM statement_ids WHERE id IN", "", &removed_ids).await?;
        }
        for (seq, body) in &e.rewrite {
            conn.q("UPDATE statements SET body = $1, packed = NULL WHERE seq = $2")
                .bind(body)
                .bind(*seq)
                .execute()
                .await?;
        }
        let keys: Vec<&str> = e.keys.iter().map(String::as_str).collect();
        // Before the person's keys leave the dictionary: the facts are filed under their numbers.
        super::results::delete_facts_of_learners(&mut conn, &keys).await?;
        refile_under_anonymous(&mut conn, e).await?;
        conn.execute_for_ids("DELETE FROM documents WHERE agent_key IN", "", &keys).await?;
        conn.execute_for_ids("DELETE FROM agents WHERE key IN", "", &keys).await?;
        conn.execute_for_ids("DELETE FROM learner_weeks WHERE ifi_key IN", "", &keys).await?;
        conn.execute_for_ids("DELETE FROM person_identifiers WHERE ifi_key IN", "", &keys).await?;
        conn.q("DELETE FROM persons WHERE id = $1").bind(&e.person).execute().await?;
        conn.q("DELETE FROM results WHERE learner_key = $1").bind(&e.person).execute().await?;
        let scope = super::summary::Scope { persons: [e.person.clone()].into(), ..Default::default() };
        super::summary::refresh(&mut conn, &scope).await?;
        conn.q("DELETE FROM player_person_globals WHERE person_id = $1").bind(&e.person).execute().await?;
        attachments.sort();
        attachments.dedup();
        for sha2 in &attachments {
            let pattern = format!("%\"{sha2}\"%");
            conn.q("DELETE FROM attachments WHERE sha2 = $1 AND NOT EXISTS \
                    (SELECT 1 FROM statements WHERE attachments LIKE $2)")
                .bind(sha2)
                .bind(pattern)
                .execute()
                .await?;
        }
        tx.commit().await
    }
}

/// Takes statements about to be removed off the statements stored per day (`statement_days`).
async fn uncount_days(conn: &mut Conn<'_>, seqs: &[i64]) -> Result<()> {
    const DAY_US: i64 = 86_400_000_000;
    let backend = conn.backend();
    let mut days: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
    for chunk in seqs.chunks(ROWS_PER_INSERT) {
        let mut q: Q<'_> =
            conn.sql(format!("SELECT stored_us FROM statements WHERE seq IN ({})", backend.param_list(1, chunk.len())));
        for s in chunk {
            q = q.bind(*s);
        }
        for stored in q.scalars::<i64>().await? {
            *days.entry(stored.div_euclid(DAY_US) * DAY_US).or_default() += 1;
        }
    }
    let rows: Vec<(i64, i64)> = days.into_iter().collect();
    conn.insert_rows(
        "INSERT INTO statement_days (day_us, slot, n) VALUES",
        "ON CONFLICT (day_us, slot) DO UPDATE SET n = statement_days.n + excluded.n",
        3,
        &rows,
        |q, (d, n)| q.bind(*d).bind(0i64).bind(-*n),
    )
    .await
}

/// Files the rewritten statements' agent rows of the person, their pair rows (`keys::PAIR_SPAN`)
/// included, under the anonymous agent instead (a statement may name the person under two
/// identifiers: the rows merge), then drops the person's
/// keys from the dictionary, which holds their identifiers as text (their results facts, filed under
/// the same numbers, are gone by now). A key still filed for a statement or a fact outside this plan
/// (one stored after the plan was read) stays, so that the next pass finds that
/// statement by it; `keys::exclude_writers` makes sure no writer is between looking a key up and
/// filing under it meanwhile.
async fn refile_under_anonymous(conn: &mut Conn<'_>, e: &Erasure) -> Result<()> {
    let backend = conn.backend();
    let mut person: Vec<(i64, String)> = Vec::new();
    for chunk in e.keys.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "SELECT id, kind FROM index_keys WHERE kind IN ('A', 'a') AND key IN ({})",
            backend.param_list(1, chunk.len())
        );
        let mut q = conn.sql(sql);
        for k in chunk {
            q = q.bind(k);
        }
        for r in q.fetch_all().await? {
            person.push((r.get("id")?, r.get("kind")?));
        }
    }
    if person.is_empty() {
        return Ok(());
    }
    let ids = keys::ids_of(conn, &[('A', e.anonymous_key.as_str()), ('a', e.anonymous_key.as_str())]).await?;
    let seqs: Vec<i64> = e.rewrite.iter().map(|(s, _)| *s).collect();
    for (id, kind) in &person {
        let kind = kind.chars().next().unwrap_or('a');
        let Some(&anonymous) = ids.get(&keys::key_text(kind, &e.anonymous_key)) else { continue };
        if kind == 'A' && keys::pair_id(anonymous, 1).is_none() {
            return Err(super::StoreError::Database(sqlx::Error::Protocol(format!(
                "index key number {anonymous} is past what a pair row can encode"
            ))));
        }
        for chunk in seqs.chunks(ROWS_PER_INSERT) {
            shift_rows(conn, (*id, *id), anonymous - id, chunk).await?;
            if kind == 'A' {
                // A pair number is the agent's times the span plus the verb's, negated: the
                // person's pairs are one range, moved by one shift to the same verbs' pairs of
                // the anonymous agent.
                shift_rows(conn, keys::pair_range(*id), (id - anonymous) * keys::PAIR_SPAN, chunk).await?;
            }
        }
        // A number still used by a pair row (of a statement outside the plan) stays too.
        let (lo, hi) = keys::pair_range(*id);
        conn.q(
            "DELETE FROM index_keys WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM statement_index WHERE key_id = $1) \
                AND NOT EXISTS (SELECT 1 FROM result_fact_links WHERE learner_id = $1) \
                AND NOT EXISTS (SELECT 1 FROM statement_index WHERE key_id BETWEEN $2 AND $3)",
        )
        .bind(*id)
        .bind(lo)
        .bind(hi)
        .execute()
        .await?;
    }
    Ok(())
}

/// Moves these statements' index rows whose key number is in `lo..=hi` to that number plus
/// `shift` (rows already there merge).
async fn shift_rows(conn: &mut Conn<'_>, (lo, hi): (i64, i64), shift: i64, seqs: &[i64]) -> Result<()> {
    let backend = conn.backend();
    // Placeholders from `backend`: sqlx numbers SQLite's anonymous `?` apart from `$N`, so one
    // statement must not mix them.
    let (p1, p2, p3) = (backend.param(1), backend.param(2), backend.param(3));
    let mut q = conn.sql(format!(
        "INSERT INTO statement_index (key_id, stored_us, seq) SELECT key_id + {p1}, stored_us, seq \
         FROM statement_index WHERE key_id BETWEEN {p2} AND {p3} AND seq IN ({}) ON CONFLICT DO NOTHING",
        backend.param_list(4, seqs.len())
    ));
    q = q.bind(shift).bind(lo).bind(hi);
    for s in seqs {
        q = q.bind(*s);
    }
    q.execute().await?;
    let mut q = conn.sql(format!(
        "DELETE FROM statement_index WHERE key_id BETWEEN {p1} AND {p2} AND seq IN ({})",
        backend.param_list(3, seqs.len())
    ));
    q = q.bind(lo).bind(hi);
    for s in seqs {
        q = q.bind(*s);
    }
    q.execute().await?;
    Ok(())
}

async fn delete_by_seq(conn: &mut Conn<'_>, before: &str, seqs: &[i64]) -> Result<()> {
    let backend = conn.backend();
    for chunk in seqs.chunks(ROWS_PER_INSERT) {
        let mut q: Q<'_> = conn.sql(format!("{before} ({})", backend.param_list(1, chunk.len())));
        for s in chunk {
            q = q.bind(*s);
        }
        q.execute().await?;
    }
    Ok(())
}

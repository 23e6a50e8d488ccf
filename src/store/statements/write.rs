//! Writing a batch of statements, set-based: every row and its own index rows go in with a few
//! multi-row INSERTs (no round trip per statement), then the few statements that involve
//! StatementRefs get the rules that depend on other rows. Doing those after all rows are in makes the
//! outcome independent of order within the batch: a target sent later in the same batch is already
//! there.

use std::collections::{HashMap, HashSet};

use super::{keys, NewAttachment, NewStatement};
use crate::store::dialect::{Backend, Conn, ROWS_PER_INSERT};
use crate::store::results::{self, PackedFact};
use crate::store::{activities, Result, StoreError};

/// Statements whose object is a StatementRef to `$1`: they may have arrived before their target.
const REFERRERS: &str = "SELECT seq, stored_us, id, is_voiding, voided FROM statements WHERE object_ref = $1";

/// A statement to write and its packed body (stored packed when there is one, as text otherwise):
/// one pair, so a body cannot be filed with another statement's row.
pub(in crate::store) type Packed<'a> = (&'a NewStatement, Option<&'a [u8]>);

/// Writes a batch inside the caller's transaction. `facts` (results maintenance) commit with the
/// statements they come from, so results can always be re-derived from what is stored.
pub(in crate::store) async fn insert_in(
    conn: &mut Conn<'_>,
    rows: &[Packed<'_>],
    attachments: &[NewAttachment],
    facts: &[PackedFact<'_>],
) -> Result<()> {
    let batch: Vec<&NewStatement> = rows.iter().map(|(st, _)| *st).collect();
    let batch = batch.as_slice();
    // Asked before the insert: afterwards the batch's own StatementRefs would answer too. Also takes
    // the key lock on PostgreSQL, before the key lookups.
    let referenced = any_referrer(conn, batch).await?;
    let fact_keys = results::fact_keys(facts.iter().map(|(f, _)| *f));
    let (seqs, ids) = insert_rows(conn, rows, &fact_keys).await?;
    apply_statement_refs(conn, batch, &seqs, referenced).await?;
    results::insert_fact_rows(conn, facts, &seqs, &ids).await?;
    drop_voided_facts(conn, batch, referenced).await?;
    activities::merge_from(conn, batch).await?;
    for a in attachments {
        conn.q("INSERT INTO attachments (sha2, content_type, body) VALUES ($1, $2, $3) ON CONFLICT (sha2) DO NOTHING")
            .bind(&a.sha2)
            .bind(&a.content_type)
            .bind(&a.body)
            .execute()
            .await?;
    }
    // Last, so that the one row several writers may share is held for the shortest time.
    count_days(conn, batch).await
}

/// Slots per day in `statement_days` (see its migration).
const DAY_SLOTS: u32 = 16;
const DAY_US: i64 = 86_400_000_000;

/// Adds the batch to the statements stored per day.
async fn count_days(conn: &mut Conn<'_>, batch: &[&NewStatement]) -> Result<()> {
    let mut days: Vec<(i64, i64)> = Vec::new();
    for st in batch {
        let day = st.stored_us.div_euclid(DAY_US) * DAY_US;
        match days.last_mut() {
            Some((d, n)) if *d == day => *n += 1,
            _ => days.push((day, 1)),
        }
    }
    days.sort_unstable();
    days.dedup_by(|b, a| {
        if a.0 == b.0 {
            a.1 += b.1;
            true
        } else {
            false
        }
    });
    let slot = i64::from(rand::random::<u32>() % DAY_SLOTS);
    conn.insert_rows(
        "INSERT INTO statement_days (day_us, slot, n) VALUES",
        "ON CONFLICT (day_us, slot) DO UPDATE SET n = statement_days.n + excluded.n",
        3,
        &days,
        |q, (d, n)| q.bind(*d).bind(slot).bind(*n),
    )
    .await
}

/// Whether a stored statement refers (StatementRef) to one of the batch's ids.
async fn any_referrer(conn: &mut Conn<'_>, batch: &[&NewStatement]) -> Result<bool> {
    let backend = conn.backend();
    for chunk in batch.chunks(ROWS_PER_INSERT) {
        // A count, not `LIMIT 1`: PostgreSQL plans `LIMIT 1` as a sequential scan that stops at the
        // first match whenever the table has no statistics yet (a new store's first minutes, before
        // autovacuum's first ANALYZE), and matches almost never exist, so it read the whole table:
        // 42 % of the database's time in batch ingest (`pg_stat_statements`). The count probes the
        // partial `object_ref` index for each id.
        let count =
            format!("SELECT count(*) FROM statements WHERE object_ref IN ({})", backend.param_list(1, chunk.len()));
        // The first query of the write also takes the writers' side of the key lock (see
        // `keys::WRITERS_SHARED_LOCK`), saving the lock its own round trip.
        let sql = match backend {
            Backend::Postgres => format!("SELECT ({count}) FROM {}", keys::WRITERS_SHARED_LOCK),
            Backend::Sqlite => count,
        };
        let mut q = conn.sql(sql);
        for st in chunk {
            q = q.bind(&st.id);
        }
        if q.scalar::<i64>().await? > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A multi-row insert of `n` statements, not yet voided (voiding is applied once the whole batch is
/// in). With `explicit_seq` each row's `seq` is bound first (8 parameters a row) and nothing is
/// returned; otherwise the database numbers the rows and returns each `seq` with its `id`.
fn insert_sql(backend: Backend, n: usize, explicit_seq: bool) -> String {
    let width = if explicit_seq { 9 } else { 8 };
    let rows: Vec<String> = (0..n)
        .map(|i| {
            let mut p: Vec<String> = (1..=width).map(|k| backend.param(width * i + k)).collect();
            // `voided` is not a parameter: after `is_voiding` (the seq shifts it by one).
            p.insert(width - 5, "FALSE".to_string());
            format!("({})", p.join(", "))
        })
        .collect();
    let columns = "id, stored_us, is_voiding, voided, object_ref, authority, body, packed, attachments";
    if explicit_seq {
        format!("INSERT INTO statements (seq, {columns}) VALUES {}", rows.join(", "))
    } else {
        format!("INSERT INTO statements ({columns}) VALUES {} RETURNING seq, id", rows.join(", "))
    }
}

/// The statement rows (not yet voided) and each one's own index rows; returns `seq` by id, and the
/// dictionary's numbers of the index keys and of `more_keys` (the facts', looked up in the same
/// round trip) by `keys::key_text`. A body with a packed form is stored packed, its text column left
/// empty.
async fn insert_rows(
    conn: &mut Conn<'_>,
    rows: &[Packed<'_>],
    more_keys: &[(char, &str)],
) -> Result<(HashMap<String, i64>, HashMap<String, i64>)> {
    let mut seqs: HashMap<String, i64> = HashMap::with_capacity(rows.len());
    let mut next_seq = conn.reserve_seqs().await?;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sql = insert_sql(conn.backend(), chunk.len(), next_seq.is_some());
        let mut q = conn.sql(sql);
        for &(st, packed) in chunk {
            if let Some(seq) = next_seq.as_mut() {
                q = q.bind(*seq);
                seqs.insert(st.id.clone(), *seq);
                *seq += 1;
            }
            let attachments_json =
                (!st.attachments.is_empty()).then(|| serde_json::Value::from(st.attachments.clone()).to_string());
            q = q
                .bind(&st.id)
                .bind(st.stored_us)
                .bind(st.is_voiding)
                .bind(&st.object_ref)
                .bind(&st.authority)
                .bind(if packed.is_some() { "" } else { st.body.as_str() })
                // Bound as an owned copy: the drivers' borrowed blobs need a `'static` query.
                .bind(packed.map(<[u8]>::to_vec))
                .bind(attachments_json);
        }
        let rows = match q.fetch_all().await {
            Ok(rows) => rows,
            // Which id collided is not reported by the database; the caller only retries.
            Err(StoreError::Database(e)) if is_unique_violation(&e) => {
                return Err(StoreError::DuplicateStatement(
                    chunk.first().map(|(s, _)| s.id.clone()).unwrap_or_default(),
                ))
            }
            Err(e) => return Err(e),
        };
        for r in rows {
            seqs.insert(r.get("id")?, r.get("seq")?);
        }
    }
    let mut all_keys: Vec<(char, &str)> =
        rows.iter().flat_map(|(st, _)| st.index.iter().map(|(kind, key)| (*kind, key.as_str()))).collect();
    let index_rows = all_keys.len();
    all_keys.extend_from_slice(more_keys);
    let ids = keys::ids_of(conn, &all_keys).await?;
    let mut index: Vec<(i64, i64, i64)> = Vec::with_capacity(index_rows);
    let mut numbered: Vec<(&str, i64, i64)> = Vec::with_capacity(rows.len());
    for (st, _) in rows {
        let seq = *seqs.get(&st.id).ok_or_else(|| {
            StoreError::Database(sqlx::Error::Protocol(format!("no seq returned for statement {}", st.id)))
        })?;
        numbered.push((&st.id, seq, st.stored_us));
        let first = index.len();
        for (kind, key) in &st.index {
            let id = ids.get(&keys::key_text(*kind, key)).ok_or_else(|| {
                StoreError::Database(sqlx::Error::Protocol(format!("no number for index key {kind}{key}")))
            })?;
            index.push((*id, st.stored_us, seq));
        }
        push_pairs(&mut index, first, &st.index, seq, st.stored_us)?;
    }
    insert_ids(conn, &numbered).await?;
    conn.insert_index_rows(&index).await?;
    Ok((seqs, ids))
}

/// Adds a statement's pair rows (see `keys::PAIR_SPAN`): one for each of its agent keys (kind 'A')
/// with its verb. `index[first..]` are the statement's key rows, in the order of `keys`.
fn push_pairs(
    index: &mut Vec<(i64, i64, i64)>,
    first: usize,
    keys: &[(char, String)],
    seq: i64,
    stored_us: i64,
) -> Result<()> {
    let numbered = |kind: char| keys.iter().zip(first..).filter(move |((k, _), _)| *k == kind).map(|(_, i)| i);
    let agents: Vec<i64> = numbered('A').map(|i| index[i].0).collect();
    let verbs: Vec<i64> = numbered('V').map(|i| index[i].0).collect();
    for &agent in &agents {
        for &verb in &verbs {
            let pair = keys::pair_id(agent, verb).ok_or_else(|| {
                StoreError::Database(sqlx::Error::Protocol(format!(
                    "index key numbers {agent} and {verb} are past what a pair row can encode"
                )))
            })?;
            index.push((pair, stored_us, seq));
        }
    }
    Ok(())
}

/// PostgreSQL: the batch's rows of `statement_ids` (id, seq, stored), which keeps ids unique across the month
/// partitions of `statements` (migration 0023; a view on SQLite, whose `statements.id` is unique).
/// One statement of fixed text, as for index rows (see `Conn::insert_number_rows`).
async fn insert_ids(conn: &mut Conn<'_>, numbered: &[(&str, i64, i64)]) -> Result<()> {
    let Conn::Pg(c, h) = conn else { return Ok(()) };
    let ids: Vec<&str> = numbered.iter().map(|n| n.0).collect();
    let numbers: Vec<i64> = numbered.iter().map(|n| n.1).collect();
    let stored: Vec<i64> = numbered.iter().map(|n| n.2).collect();
    let q = sqlx::query(
        "INSERT INTO statement_ids (id, seq, stored_us) SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[])",
    )
    .bind(ids)
    .bind(numbers)
    .bind(stored);
    match h.guard(async { Ok(q.execute(&mut **c).await?) }).await {
        Ok(_) => Ok(()),
        // As for the statements' own unique index on SQLite: the caller only retries.
        Err(StoreError::Database(e)) if is_unique_violation(&e) => {
            Err(StoreError::DuplicateStatement(numbered.first().map(|n| n.0.to_string()).unwrap_or_default()))
        }
        Err(e) => Err(e),
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Voided statements count for no result: drop the facts of this batch's voiding targets and, when
/// stored statements referenced the batch, of batch statements that arrived voided.
async fn drop_voided_facts(conn: &mut Conn<'_>, batch: &[&NewStatement], referenced: bool) -> Result<()> {
    let targets: Vec<&str> =
        batch.iter().filter(|st| st.is_voiding).filter_map(|st| st.object_ref.as_deref()).collect();
    let arrived: Vec<&str> = if referenced { batch.iter().map(|st| st.id.as_str()).collect() } else { Vec::new() };
    results::delete_facts_of(conn, &targets, false).await?;
    results::delete_facts_of(conn, &arrived, true).await
}

/// The rules that tie statements together, once every row of the batch is in:
/// - a voiding statement voids its target (stored or in this batch);
/// - a statement whose object is a StatementRef matches its target's filters too, and so,
///   transitively, do statements referencing it;
/// - when stored statements already referenced ids of this batch (`referenced`), those targets
///   arrive voided if a voiding statement was among them, and lend their index rows.
async fn apply_statement_refs(
    conn: &mut Conn<'_>,
    batch: &[&NewStatement],
    seqs: &HashMap<String, i64>,
    referenced: bool,
) -> Result<()> {
    let targets: Vec<&str> =
        batch.iter().filter(|st| st.is_voiding).filter_map(|st| st.object_ref.as_deref()).collect();
    // Found through `statement_ids` (see `BY_ID`), which gives each target's month partition.
    conn.execute_for_ids(
        "UPDATE statements SET voided = TRUE FROM statement_ids i \
         WHERE statements.seq = i.seq AND statements.stored_us = i.stored_us AND statements.is_voiding = FALSE \
         AND i.id IN",
        "",
        &targets,
    )
    .await?;
    for st in batch.iter().filter(|st| st.object_ref.is_some()) {
        let (Some(target), Some(&seq)) = (&st.object_ref, seqs.get(&st.id)) else { continue };
        let found = conn.q("SELECT seq, stored_us FROM statement_ids WHERE id = $1").bind(target).fetch_all().await?;
        if let Some(t) = found.first() {
            let target = Stored { seq: t.get("seq")?, stored_us: t.get("stored_us")? };
            propagate_index(conn, target, vec![(Stored { seq, stored_us: st.stored_us }, st.id.clone())]).await?;
        }
    }
    if referenced {
        for st in batch {
            let Some(&seq) = seqs.get(&st.id) else { continue };
            let referrers = conn.q(REFERRERS).bind(&st.id).fetch_all().await?;
            let mut voided = false;
            let mut first = Vec::with_capacity(referrers.len());
            for r in &referrers {
                voided |= r.get::<bool, _>("is_voiding")?;
                first.push((Stored { seq: r.get("seq")?, stored_us: r.get("stored_us")? }, r.get("id")?));
            }
            let target = Stored { seq, stored_us: st.stored_us };
            if voided {
                conn.q("UPDATE statements SET voided = TRUE WHERE seq = $1 AND stored_us = $2 AND is_voiding = FALSE")
                    .bind(target.seq)
                    .bind(target.stored_us)
                    .execute()
                    .await?;
            }
            propagate_index(conn, target, first).await?;
        }
    }
    Ok(())
}

/// A stored statement's number and stored time: together they find its row in its month's
/// partition (PostgreSQL, migration 0023).
#[derive(Debug, Clone, Copy)]
struct Stored {
    seq: i64,
    stored_us: i64,
}

/// The StatementRef filter rule for a target that arrived after statements referencing it: each
/// referrer gets the target's index rows, and so, transitively, do statements referencing a referrer.
/// `seen` stops reference cycles (ids are client-chosen, so A→B→A can exist).
async fn propagate_index(conn: &mut Conn<'_>, target: Stored, referrers: Vec<(Stored, String)>) -> Result<()> {
    let mut seen = HashSet::from([target.seq]);
    let mut queue: Vec<(Stored, (Stored, String))> = referrers.into_iter().map(|r| (target, r)).collect();
    while let Some((from, (to, id))) = queue.pop() {
        if !seen.insert(to.seq) {
            continue;
        }
        // Statement `to` gets every index row of statement `from`, filed at its own `stored`.
        conn.q("INSERT INTO statement_index (key_id, stored_us, seq) \
                SELECT key_id, $3, $4 FROM statement_index WHERE seq = $1 AND stored_us = $2 ON CONFLICT DO NOTHING")
            .bind(from.seq)
            .bind(from.stored_us)
            .bind(to.stored_us)
            .bind(to.seq)
            .execute()
            .await?;
        // Its agents with the target's verb, and the target's agents with its verb.
        conn.q(keys::FILE_PAIRS).bind(to.seq).bind(to.stored_us).execute().await?;
        for r in conn.q(REFERRERS).bind(&id).fetch_all().await? {
            queue.push((to, (Stored { seq: r.get("seq")?, stored_us: r.get("stored_us")? }, r.get("id")?)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_rows_keep_voided_false_in_its_column() {
        assert_eq!(
            insert_sql(Backend::Postgres, 1, false),
            "INSERT INTO statements (id, stored_us, is_voiding, voided, object_ref, authority, body, packed, attachments) \
             VALUES ($1, $2, $3, FALSE, $4, $5, $6, $7, $8) RETURNING seq, id"
        );
        assert_eq!(
            insert_sql(Backend::Sqlite, 2, true),
            "INSERT INTO statements (seq, id, stored_us, is_voiding, voided, object_ref, authority, body, packed, attachments) \
             VALUES (?, ?, ?, ?, FALSE, ?, ?, ?, ?, ?), (?, ?, ?, ?, FALSE, ?, ?, ?, ?, ?)"
        );
    }
}

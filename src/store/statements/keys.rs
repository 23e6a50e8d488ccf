//! The dictionary of index keys (`index_keys`, migration 0017): each `(kind, key)` a statement can be
//! found by gets a number once, and `statement_index` rows carry the number instead of the text.
//!
//! Numbers are looked up per batch, not cached in the process: erasure removes a person's keys from
//! the dictionary, and with several nodes on one PostgreSQL a cache on another node would go on
//! filing that person's new statements under a number no query can reach any more.
//!
//! For the same reason a writer must not look a key up, then file under it after an erasure has
//! dropped it: on PostgreSQL writers hold a shared advisory lock ([`WRITERS_SHARED_LOCK`], taken by
//! the write's first query) from before the lookup to their commit, and erasure takes it exclusively
//! ([`exclude_writers`]); SQLite's single writer serialises them anyway.

use std::collections::HashMap;

use crate::store::dialect::{Backend, Conn};
use crate::store::{Result, StoreError};

/// The advisory lock between writers filing under keys and erasure dropping keys ("cairnkey";
/// written out in [`WRITERS_SHARED_LOCK`]).
const KEYS_LOCK: i64 = 0x6361_6972_6e6b_6579;

/// Waits for every writer between a key lookup and its commit, and holds new ones off until this
/// transaction ends (PostgreSQL; nothing to do on SQLite).
pub(in crate::store) async fn exclude_writers(conn: &mut Conn<'_>) -> Result<()> {
    if conn.backend() == Backend::Postgres {
        conn.q("SELECT pg_advisory_xact_lock($1)").bind(KEYS_LOCK).execute().await?;
    }
    Ok(())
}

/// Takes the writers' side of the key lock (see [`WRITERS_SHARED_LOCK`]) as a statement of its own,
/// for a write whose first query cannot carry it (PostgreSQL; nothing to do on SQLite).
pub(in crate::store) async fn writers_shared(conn: &mut Conn<'_>) -> Result<()> {
    if conn.backend() == Backend::Postgres {
        conn.sql(format!("SELECT {WRITERS_SHARED_LOCK}")).execute().await?;
    }
    Ok(())
}

/// Keys looked up per statement on SQLite (two parameters each, well inside its limit).
const KEYS_PER_QUERY: usize = 400;

/// The dictionary's text for a key: its kind letter, then the key (kinds are one letter).
pub(in crate::store) fn key_text(kind: char, key: &str) -> String {
    let mut s = String::with_capacity(key.len() + 1);
    s.push(kind);
    s.push_str(key);
    s
}

/// The numbers of these keys, adding the ones the dictionary lacks. The map is keyed by
/// [`key_text`] text. Keys are added in sorted order, so two PostgreSQL writers adding overlapping
/// new keys wait for each other instead of deadlocking.
pub(in crate::store) async fn ids_of(conn: &mut Conn<'_>, keys: &[(char, &str)]) -> Result<HashMap<String, i64>> {
    let mut wanted: Vec<(char, &str)> = keys.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut found = lookup(conn, &wanted).await?;
    let missing: Vec<(char, &str)> =
        wanted.iter().copied().filter(|(kind, key)| !found.contains_key(&key_text(*kind, key))).collect();
    if missing.is_empty() {
        return Ok(found);
    }
    found.extend(add(conn, &missing).await?);
    // Added by another writer between the lookup and the insert (PostgreSQL): committed by now.
    let raced: Vec<(char, &str)> =
        missing.into_iter().filter(|(kind, key)| !found.contains_key(&key_text(*kind, key))).collect();
    if raced.is_empty() {
        return Ok(found);
    }
    found.extend(lookup(conn, &raced).await?);
    match raced.iter().find(|(kind, key)| !found.contains_key(&key_text(*kind, key))) {
        Some((kind, key)) => Err(StoreError::Database(sqlx::Error::Protocol(format!(
            "index key {kind}{key} was added but is not in the dictionary"
        )))),
        None => Ok(found),
    }
}

/// PostgreSQL: adds the keys of a batch that the dictionary lacks, committed on their own before
/// the write's transaction begins. A key added inside the write's transaction holds every other
/// writer adding the same key (the unique index makes it wait for that transaction's end), and
/// statements of one session share new keys (registration, attempt): with 64 clients posting single
/// statements, half of the database's active samples were such waits (`pg_stat_activity`), and
/// throughput fell below that of 16 clients. Committed here, a key waits for one statement only.
///
/// This only warms the dictionary: the write's transaction still looks every key up and adds what
/// is missing under the writers' lock ([`ids_of`]), so an erasure dropping a key in between is
/// handled as before. For the same reason this commit need not wait for its WAL flush
/// (`synchronous_commit` off for this transaction alone): a key matters once a statement is filed
/// under it, and that statement's own commit flushes the WAL past this one. A key left unused (the
/// write failed) is a dictionary entry no statement refers to, like those erasure leaves alone.
pub(in crate::store) async fn preregister(
    pool: &sqlx::PgPool,
    health: &crate::store::health::Health,
    keys: &[(char, &str)],
) -> Result<()> {
    let mut wanted: Vec<(char, &str)> = keys.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.is_empty() {
        return Ok(());
    }
    let (kinds, texts) = columns(&wanted);
    // `set_config(…, true)` lasts to the end of this statement's implicit transaction, i.e. its
    // commit (a batch of known keys commits nothing and flushes nothing). Sorted, so two writers
    // adding overlapping keys cannot deadlock. Each key is probed by the scalar subquery, one index
    // lookup: as `NOT EXISTS` the cached generic plan (an array of unknown length, ten rows by
    // PostgreSQL's guess) was a hash anti-join over the whole dictionary, re-hashed per request.
    let q = sqlx::query(
        "INSERT INTO index_keys (kind, key) SELECT u.kind, u.key FROM UNNEST($1::text[], $2::text[]) AS u(kind, key) \
         WHERE (SELECT k.id FROM index_keys k WHERE k.kind = u.kind AND k.key = u.key) IS NULL \
         AND set_config('synchronous_commit', 'off', true) IS NOT NULL ORDER BY 1, 2 ON CONFLICT DO NOTHING",
    )
    .bind(kinds)
    .bind(texts);
    health.guard(async { Ok(q.execute(pool).await.map(|_| ())?) }).await
}

/// Takes the shared side of the writers' lock (see [`exclude_writers`]) for the rest of the
/// transaction: `SELECT` this before the transaction's first key lookup, as its own statement or as
/// the `FROM` of an earlier one (under READ COMMITTED a statement's snapshot is taken before a lock
/// it waits for, so only the statements after it see what an erasure committed meanwhile).
pub(in crate::store) const WRITERS_SHARED_LOCK: &str = "pg_advisory_xact_lock_shared(7161120822695519609)";

/// Numbers of the keys the dictionary has, read back as one JSON row (see `Backend::pairs_json`
/// for why rows are aggregated).
async fn lookup(conn: &mut Conn<'_>, keys: &[(char, &str)]) -> Result<HashMap<String, i64>> {
    let mut out = HashMap::with_capacity(keys.len());
    if keys.is_empty() {
        return Ok(out);
    }
    let chunks: Vec<&[(char, &str)]> = match conn.backend() {
        Backend::Postgres => vec![keys],
        Backend::Sqlite => keys.chunks(KEYS_PER_QUERY).collect(),
    };
    for chunk in chunks {
        let text: String = match conn {
            Conn::Pg(c, h) => {
                let (kinds, texts) = columns(chunk);
                // One index probe per key (`LATERAL … LIMIT 1` cannot become a hash join): as a
                // plain join the cached generic plan hashed the whole dictionary on every call.
                let q = sqlx::query_scalar(
                    "SELECT coalesce(json_agg(json_build_array(u.kind || u.key, k.id)), '[]')::text \
                     FROM UNNEST($1::text[], $2::text[]) AS u(kind, key) CROSS JOIN LATERAL \
                     (SELECT k.id FROM index_keys k WHERE k.kind = u.kind AND k.key = u.key LIMIT 1) k",
                )
                .bind(kinds)
                .bind(texts);
                h.guard(async { Ok(q.fetch_one(&mut **c).await?) }).await?
            }
            Conn::Sqlite(_) => {
                let sql = format!(
                    "SELECT json_group_array(json_array(kind || key, id)) FROM index_keys \
                     WHERE (kind, key) IN (VALUES {})",
                    Backend::Sqlite.value_rows(chunk.len(), 2)
                );
                let mut q = conn.sql(sql);
                for (kind, key) in chunk {
                    q = q.bind(kind.to_string()).bind(*key);
                }
                q.scalar().await?
            }
        };
        let pairs: Vec<(String, i64)> =
            serde_json::from_str(&text).map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))?;
        out.extend(pairs);
    }
    Ok(out)
}

/// Adds keys and returns their numbers; a key another writer added meanwhile is skipped and not
/// returned (PostgreSQL waits for that writer first, so a lookup afterwards finds it).
async fn add(conn: &mut Conn<'_>, keys: &[(char, &str)]) -> Result<HashMap<String, i64>> {
    let mut out = HashMap::with_capacity(keys.len());
    let decode = |text: String| -> Result<Vec<(String, i64)>> {
        serde_json::from_str(&text).map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
    };
    match conn {
        Conn::Pg(c, h) => {
            let (kinds, texts) = columns(keys);
            let q = sqlx::query_scalar(
                "WITH added AS (INSERT INTO index_keys (kind, key) SELECT * FROM UNNEST($1::text[], $2::text[]) \
                 ON CONFLICT DO NOTHING RETURNING id, kind, key) \
                 SELECT coalesce(json_agg(json_build_array(kind || key, id)), '[]')::text FROM added",
            )
            .bind(kinds)
            .bind(texts);
            let text: String = h.guard(async { Ok(q.fetch_one(&mut **c).await?) }).await?;
            out.extend(decode(text)?);
        }
        Conn::Sqlite(_) => {
            // SQLite cannot aggregate RETURNING rows; its single writer adds them all, and the rows
            // come back from the same thread in one go.
            let rows = conn
                .insert_rows_returning(
                    "INSERT INTO index_keys (kind, key) VALUES",
                    "ON CONFLICT DO NOTHING RETURNING kind || key, id",
                    2,
                    keys,
                    |q, (kind, key)| q.bind(kind.to_string()).bind(*key),
                )
                .await?;
            for r in rows {
                out.insert(r.get(0)?, r.get(1)?);
            }
        }
    }
    Ok(out)
}

fn columns(keys: &[(char, &str)]) -> (Vec<String>, Vec<String>) {
    keys.iter().map(|(kind, key)| (kind.to_string(), key.to_string())).unzip()
}

/// The number of one key in a query: a scalar subquery, NULL (matching nothing) when the key was
/// never stored. `k` and `v` are the placeholders of its kind and key.
pub(super) fn id_sql(k: &str, v: &str) -> String {
    format!("(SELECT id FROM index_keys WHERE kind = {k} AND key = {v})")
}

/// Pair rows: a statement is also filed under each (actor or object agent, verb) pair it has, so
/// that `agent` + `verb`, the query a learner's history is read by, is one index range. Probing
/// each of the agent's rows for the verb cost a row per statement of the learner (p99 35 ms at 10M
/// statements, where a bench learner has 5,000; BENCHMARKS.md).
///
/// A pair's number is made from its two keys' numbers, negative so it never meets a dictionary
/// number: `-(agent × PAIR_SPAN + verb)`. Nothing is added to the dictionary (an entry per distinct
/// pair, and a lookup per statement, for rows that need none), and the pairs of one agent are one
/// range of numbers ([`pair_range`]), which is how erasure finds them. Numbers are never reused
/// while a row is filed under them (erasure drops a key only when no row, pair rows included, uses
/// it), so a pair number cannot come to mean another pair.
pub(in crate::store) const PAIR_SPAN: i64 = 1 << 32;

/// The pair number of an agent key and a verb key, or `None` past the numbers a pair can encode:
/// an agent number of 2³¹ or more, or a verb number of 2³² or more, a dictionary of two billion keys.
pub(in crate::store) fn pair_id(agent: i64, verb: i64) -> Option<i64> {
    if !(1..PAIR_SPAN / 2).contains(&agent) || !(1..PAIR_SPAN).contains(&verb) {
        return None;
    }
    Some(-(agent * PAIR_SPAN + verb))
}

/// The lowest and highest pair numbers of one agent key (inclusive).
pub(in crate::store) fn pair_range(agent: i64) -> (i64, i64) {
    (-(agent * PAIR_SPAN + PAIR_SPAN - 1), -(agent * PAIR_SPAN))
}

/// The pair number in a query, from the placeholders of the agent's key (kind 'A') and the verb's:
/// NULL (matching nothing) when either key was never stored, or is past what a pair can encode
/// (no statement is filed under such a pair: the write fails, see [`pair_id`]).
pub(super) fn pair_id_sql(agent: &str, verb: &str) -> String {
    format!(
        "(SELECT -(a.id * {PAIR_SPAN} + v.id) FROM index_keys a, index_keys v \
         WHERE a.kind = 'A' AND a.key = {agent} AND v.kind = 'V' AND v.key = {verb} \
         AND a.id < {} AND v.id < {PAIR_SPAN})",
        PAIR_SPAN / 2
    )
}

/// SQL filing statement `$1` (stored at `$2`)'s pair rows from its agent and verb rows, for a statement whose rows
/// grew (the StatementRef rule): a referrer is found by its own agent with its target's verb, as by
/// either one alone. Rows past [`pair_id`]'s range are not filed (never reached in practice; the
/// write itself fails first).
pub(super) const FILE_PAIRS: &str = "INSERT INTO statement_index (key_id, stored_us, seq) \
     SELECT -(a.key_id * 4294967296 + v.key_id), a.stored_us, a.seq \
     FROM statement_index a JOIN index_keys ka ON ka.id = a.key_id AND ka.kind = 'A' \
     JOIN statement_index v ON v.seq = a.seq JOIN index_keys kv ON kv.id = v.key_id AND kv.kind = 'V' \
     WHERE a.seq = $1 AND a.stored_us = $2 AND v.stored_us = $2 \
     AND a.key_id < 2147483648 AND v.key_id < 4294967296 ON CONFLICT DO NOTHING";

#[cfg(test)]
mod tests {
    #[test]
    fn the_shared_lock_is_the_erasure_lock() {
        assert_eq!(super::WRITERS_SHARED_LOCK, format!("pg_advisory_xact_lock_shared({})", super::KEYS_LOCK));
    }

    #[test]
    fn pair_numbers_are_negative_distinct_and_ranged_by_agent() {
        use super::{pair_id, pair_range, PAIR_SPAN};
        assert_eq!(PAIR_SPAN, 4_294_967_296, "FILE_PAIRS spells the span out");
        let a = pair_id(7, 3).unwrap();
        assert!(a < 0);
        assert_ne!(pair_id(7, 4), Some(a));
        assert_ne!(pair_id(8, 3), Some(a));
        let (lo, hi) = pair_range(7);
        for verb in [1, 3, PAIR_SPAN - 1] {
            let id = pair_id(7, verb).unwrap();
            assert!((lo..=hi).contains(&id));
            assert!(!(pair_range(6).0..=pair_range(6).1).contains(&id));
            assert!(!(pair_range(8).0..=pair_range(8).1).contains(&id));
        }
        let top = pair_id(PAIR_SPAN / 2 - 1, PAIR_SPAN - 1).unwrap();
        assert!(top > i64::MIN);
        assert_eq!(pair_id(PAIR_SPAN / 2, 1), None);
        assert_eq!(pair_id(1, PAIR_SPAN), None);
        assert_eq!(pair_id(0, 1), None);
    }
}

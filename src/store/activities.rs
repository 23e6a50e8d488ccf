//! Activities and agents seen in statements: the canonical activity definitions (merged from every
//! statement, as the Activities resource serves them) and the agents the Agents resource knows.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::dialect::{Backend, Conn, Q, ROWS_PER_INSERT};
use super::statements::NewStatement;
use super::{Result, Store};
use crate::xapi::{activity, agent};

impl Store {
    pub async fn activity(&self, id: &str) -> Result<Option<serde_json::Value>> {
        let v: Option<String> =
            self.read().q("SELECT definition FROM activities WHERE id = $1").bind(id).scalar_opt().await?;
        Ok(v.and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// Agents (not Groups) whose key or JSON contains `term`, case-insensitively: `(key, agent JSON)`,
    /// at most `limit`, by key.
    pub async fn search_agents(&self, term: &str, limit: i64) -> Result<Vec<(String, String)>> {
        let escaped = term.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let rows = self
            .read()
            .q("SELECT key, body FROM agents WHERE key LIKE 'Agent|%' \
                AND (lower(key) LIKE $1 ESCAPE '\\' OR lower(body) LIKE $1 ESCAPE '\\') ORDER BY key LIMIT $2")
            .bind(pattern)
            .bind(limit)
            .fetch_all()
            .await?;
        Ok(rows.iter().map(|r| Ok((r.get("key")?, r.get("body")?))).collect::<sqlx::Result<_>>()?)
    }

    /// What statements showed of each of these agents that has been seen.
    pub async fn agents_by_key(&self, keys: &[String]) -> Result<HashMap<String, serde_json::Value>> {
        let rows = self.read_pairs_in("SELECT key AS k, body AS v FROM agents WHERE key IN", keys).await?;
        Ok(rows.into_iter().filter_map(|(k, v)| Some((k, serde_json::from_str(&v).ok()?))).collect())
    }

    pub async fn agent(&self, key: &str) -> Result<Option<serde_json::Value>> {
        let v: Option<String> = self.read().q("SELECT body FROM agents WHERE key = $1").bind(key).scalar_opt().await?;
        Ok(v.and_then(|s| serde_json::from_str(&s).ok()))
    }
}

/// Canonical activity definitions and seen agents of a batch, merged once per key in key order, so
/// two concurrent batches touch rows in the same order (no deadlock on PostgreSQL). Rows are read
/// with one query per kind and only the ones whose merged value changed are written.
pub(super) async fn merge_from(conn: &mut Conn<'_>, batch: &[&NewStatement]) -> Result<()> {
    let activities = merged_activities(batch);
    let ids: Vec<&str> = activities.iter().map(|(id, _)| *id).collect();
    let old = bodies_by_key(conn, ACTIVITIES.select, &ids).await?;
    write_merged(conn, &ACTIVITIES, &activities, old, |prev, def| {
        let merged = activity::merge_definition(prev, def);
        (prev != Some(merged.as_str())).then_some(merged)
    })
    .await?;
    let agents = merged_agents(batch);
    let keys: Vec<&str> = agents.iter().map(|(k, _)| *k).collect();
    // An agent never seen before may be a new learner: it becomes a person (a seen agent already
    // belongs to one, and erasure forgets both together).
    let old = bodies_by_key(conn, AGENTS.select, &keys).await?;
    let new_agents: Vec<&str> =
        keys.iter().filter(|k| k.starts_with("Agent|") && !old.contains_key(**k)).copied().collect();
    super::persons::ensure_identifiers(conn, &new_agents, crate::now_us()).await?;
    let mut weeks: Vec<(i64, &str)> =
        batch.iter().filter_map(|st| st.actor.as_deref().map(|a| (week_of(st.stored_us), a))).collect();
    weeks.sort_unstable();
    weeks.dedup();
    conn.insert_rows(
        "INSERT INTO learner_weeks (week_us, ifi_key) VALUES",
        "ON CONFLICT (week_us, ifi_key) DO NOTHING",
        2,
        &weeks,
        |q, (w, k)| q.bind(*w).bind(*k),
    )
    .await?;
    write_merged(conn, &AGENTS, &agents, old, agent::merge_seen).await
}

/// A table of merged JSON values by key: how to read, insert and update its rows.
struct MergedTable {
    /// `SELECT key AS k, value AS v FROM … WHERE key IN`, completed with a parameter list.
    select: &'static str,
    insert: &'static str,
    /// Suffix of `insert` that adds only rows nobody has added, naming the added keys.
    add_new: &'static str,
    /// Suffix of `insert` that overwrites the value.
    replace: &'static str,
    /// Suffix of `select` that locks the rows read, in key order (PostgreSQL).
    lock: &'static str,
}

const ACTIVITIES: MergedTable = MergedTable {
    select: "SELECT id AS k, definition AS v FROM activities WHERE id IN",
    insert: "INSERT INTO activities (id, definition) VALUES",
    add_new: "ON CONFLICT (id) DO NOTHING RETURNING id",
    replace: "ON CONFLICT (id) DO UPDATE SET definition = excluded.definition",
    lock: "ORDER BY id FOR UPDATE",
};

const AGENTS: MergedTable = MergedTable {
    select: "SELECT key AS k, body AS v FROM agents WHERE key IN",
    insert: "INSERT INTO agents (key, body) VALUES",
    add_new: "ON CONFLICT (key) DO NOTHING RETURNING key",
    replace: "ON CONFLICT (key) DO UPDATE SET body = excluded.body",
    lock: "ORDER BY key FOR UPDATE",
};

/// Merges `items` (sorted by key) into `table`, whose stored values `old` were read; `merge(stored,
/// new)` gives the value to store when it differs from the stored one.
///
/// On PostgreSQL, keys not stored yet are added with `DO NOTHING`; the keys whose merge changes
/// the stored value (including what another writer added meanwhile) are then read again under a
/// row lock (`FOR UPDATE`, in key order) and merged over what is stored by then. So two writers merging
/// different languages into one definition both keep theirs, and a writer waits for another only
/// when both change one row. Before, each upserted its merge of what it had read: a new key made
/// every concurrent writer of it wait for the first one's commit and then overwrite the row with
/// its own merge (losing the other's languages), holding it until its own commit, so the
/// statements of one attempt, posted at once, queued behind each other's commits (`Lock
/// transactionid` on the activities upsert was a fifth of the database's samples with 64 clients
/// posting single statements). SQLite's one writer cannot race: it upserts what it merged.
async fn write_merged<V>(
    conn: &mut Conn<'_>,
    table: &MergedTable,
    items: &[(&str, V)],
    old: HashMap<String, String>,
    merge: impl Fn(Option<&str>, &V) -> Option<String>,
) -> Result<()> {
    let mut fresh: Vec<(&str, String)> = Vec::new();
    let mut changed: Vec<(&str, String)> = Vec::new();
    for (key, value) in items {
        let prev = old.get(*key).map(String::as_str);
        if let Some(merged) = merge(prev, value) {
            if prev.is_none() {
                fresh.push((key, merged))
            } else {
                changed.push((key, merged))
            }
        }
    }
    if conn.backend() == Backend::Sqlite {
        changed.extend(fresh);
        changed.sort_unstable_by(|a, b| a.0.cmp(b.0));
        return conn.insert_rows(table.insert, table.replace, 2, &changed, bind_pair).await;
    }
    let added: HashSet<String> = conn
        .insert_rows_returning(table.insert, table.add_new, 2, &fresh, bind_pair)
        .await?
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect::<sqlx::Result<_>>()?;
    let mut again: Vec<&str> = changed.iter().map(|(k, _)| *k).collect();
    let raced: Vec<&str> = fresh.iter().map(|(k, _)| *k).filter(|k| !added.contains(*k)).collect();
    if !raced.is_empty() {
        // Read without a lock first: a lock would be held to this transaction's commit even when
        // the other writer already stored all this one would add (the usual case).
        let now = bodies_by_key(conn, table.select, &raced).await?;
        // `raced` keeps `items`' (key) order, so it can be searched.
        for (key, value) in items.iter().filter(|(k, _)| raced.binary_search(k).is_ok()) {
            if merge(now.get(*key).map(String::as_str), value).is_some() {
                again.push(key);
            }
        }
    }
    if again.is_empty() {
        return Ok(());
    }
    again.sort_unstable();
    let locked = bodies_by_key_then(conn, table.select, &again, table.lock).await?;
    let mut write: Vec<(&str, String)> = Vec::new();
    for (key, value) in items.iter().filter(|(k, _)| again.binary_search(k).is_ok()) {
        if let Some(merged) = merge(locked.get(*key).map(String::as_str), value) {
            write.push((key, merged));
        }
    }
    conn.insert_rows(table.insert, table.replace, 2, &write, bind_pair).await
}

fn bind_pair<'q>(q: Q<'q>, (k, v): &(&str, String)) -> Q<'q> {
    q.bind(*k).bind(v.as_str())
}

const WEEK_US: i64 = 7 * 86_400_000_000;
/// The first Monday after the epoch (a Thursday).
const MONDAY_US: i64 = 4 * 86_400_000_000;

/// The Monday (00:00 UTC) starting the week of `us`.
pub fn week_of(us: i64) -> i64 {
    (us - MONDAY_US).div_euclid(WEEK_US) * WEEK_US + MONDAY_US
}

/// `k -> v` for the keys found by `select_prefix (…)`.
async fn bodies_by_key(conn: &mut Conn<'_>, select_prefix: &str, keys: &[&str]) -> Result<HashMap<String, String>> {
    bodies_by_key_then(conn, select_prefix, keys, "").await
}

/// [`bodies_by_key`] with `suffix` after the key list.
async fn bodies_by_key_then(
    conn: &mut Conn<'_>,
    select_prefix: &str,
    keys: &[&str],
    suffix: &str,
) -> Result<HashMap<String, String>> {
    let backend = conn.backend();
    let mut out = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(ROWS_PER_INSERT) {
        let sql = format!("{select_prefix} ({}) {suffix}", backend.param_list(1, chunk.len()));
        let mut q = Q::pairs(conn.ex(), &sql);
        for k in chunk {
            q = q.bind(*k);
        }
        out.extend(q.fetch().await?);
    }
    Ok(out)
}

/// The activity definitions of a batch, folded per id (later statements win) and sorted by id.
fn merged_activities<'a>(batch: &[&'a NewStatement]) -> Vec<(&'a str, serde_json::Value)> {
    let mut map: BTreeMap<&'a str, serde_json::Value> = BTreeMap::new();
    for &st in batch {
        for (id, def) in &st.activities {
            let merged = match map.get(id.as_str()) {
                Some(prev) => activity::merge_values(prev, def),
                None => def.clone(),
            };
            map.insert(id, merged);
        }
    }
    map.into_iter().collect()
}

/// The agents seen in a batch, folded per key and sorted by key.
fn merged_agents<'a>(batch: &[&'a NewStatement]) -> Vec<(&'a str, serde_json::Value)> {
    let mut map: BTreeMap<&'a str, serde_json::Value> = BTreeMap::new();
    for &st in batch {
        for (key, a) in &st.agents {
            let merged = match map.get(key.as_str()) {
                Some(prev) => agent::merge_values(prev, a),
                None => a.clone(),
            };
            map.insert(key, merged);
        }
    }
    map.into_iter().collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn weeks_start_on_monday() {
        let day = 86_400_000_000i64;
        // 1970-01-05 was a Monday; 2026-12-03 (20_790 days after the epoch) a Thursday.
        assert_eq!(super::week_of(4 * day), 4 * day);
        assert_eq!(super::week_of(10 * day + 5), 4 * day);
        assert_eq!(super::week_of(11 * day), 11 * day);
        assert_eq!(super::week_of(20_790 * day + 1), 20_787 * day);
    }
}

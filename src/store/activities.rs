//! Activities and agents seen in statements: the canonical activity definitions (merged from every
//! statement, as the Activities resource serves them) and the agents the Agents resource knows.

use std::collections::{BTreeMap, HashMap};

use super::dialect::{Conn, Q, ROWS_PER_INSERT};
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
    let old = bodies_by_key(conn, "SELECT id AS k, definition AS v FROM activities WHERE id IN", &ids).await?;
    let mut changed: Vec<(&str, String)> = Vec::new();
    for (id, def) in &activities {
        let prev = old.get(*id).map(String::as_str);
        let merged = activity::merge_definition(prev, def);
        if prev != Some(merged.as_str()) {
            changed.push((id, merged));
        }
    }
    upsert_pairs(
        conn,
        "INSERT INTO activities (id, definition) VALUES",
        "ON CONFLICT (id) DO UPDATE SET definition = excluded.definition",
        &changed,
    )
    .await?;
    let agents = merged_agents(batch);
    let keys: Vec<&str> = agents.iter().map(|(k, _)| *k).collect();
    let old = bodies_by_key(conn, "SELECT key AS k, body AS v FROM agents WHERE key IN", &keys).await?;
    // An agent never seen before may be a new learner: it becomes a person (a seen agent already
    // belongs to one, and erasure forgets both together).
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
    let mut changed: Vec<(&str, String)> = Vec::new();
    for (key, seen) in &agents {
        if let Some(merged) = agent::merge_seen(old.get(*key).map(String::as_str), seen) {
            changed.push((key, merged));
        }
    }
    upsert_pairs(
        conn,
        "INSERT INTO agents (key, body) VALUES",
        "ON CONFLICT (key) DO UPDATE SET body = excluded.body",
        &changed,
    )
    .await
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
    let backend = conn.backend();
    let mut out = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(ROWS_PER_INSERT) {
        let sql = format!("{select_prefix} ({})", backend.param_list(1, chunk.len()));
        let mut q = Q::pairs(conn.ex(), &sql);
        for k in chunk {
            q = q.bind(*k);
        }
        out.extend(q.fetch().await?);
    }
    Ok(out)
}

/// One multi-row upsert per chunk of `(key, value)` pairs, in the given (key) order.
async fn upsert_pairs(conn: &mut Conn<'_>, prefix: &str, suffix: &str, pairs: &[(&str, String)]) -> Result<()> {
    conn.insert_rows(prefix, suffix, 2, pairs, |q, (k, v)| q.bind(*k).bind(v.as_str())).await
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

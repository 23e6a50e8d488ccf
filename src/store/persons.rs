//! Persons: which agent identifiers (IFI keys, as in `agents.key`) belong to one learner. Every
//! identifier belongs to exactly one person; a person exists while it holds identifiers, and has a
//! `persons` row only when someone named it. Results are kept per person.

use std::collections::HashMap;

use super::dialect::{Conn, Exec, Tx, Q, ROWS_PER_INSERT};
use super::{Result, Store};

/// A person and its identifiers, oldest first (the first is how the person is shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    pub id: String,
    pub name: Option<String>,
    pub identifiers: Vec<String>,
}

/// A new person's id: opaque and random, so it says nothing about the person (erasure keeps it in
/// the audit log).
pub fn new_person_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Gives each identifier that has no person yet a person of its own; known ones stay where they are
/// (so two nodes seeing a new identifier at once agree on one person: the first insert wins).
pub(super) async fn ensure_identifiers(conn: &mut Conn<'_>, keys: &[&str], now_us: i64) -> Result<()> {
    conn.insert_rows(
        "INSERT INTO person_identifiers (ifi_key, person_id, added_us) VALUES",
        "ON CONFLICT (ifi_key) DO NOTHING",
        3,
        keys,
        |q, k| q.bind(*k).bind(new_person_id()).bind(now_us),
    )
    .await
}

/// A stable 64-bit lock id for a person (FNV-1a): the same on every node, unlike std's hasher.
fn lock_id(person: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in "person\u{1f}".bytes().chain(person.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// Held while a person's results are derived or its identifiers change, so that two derivations (or
/// a merge and a derivation) on any nodes never interleave their reads and writes: the one that
/// writes last has read everything the other saw. Dropping it releases the locks.
pub struct PersonGuard(Guard);

enum Guard {
    /// SQLite is one process: striped in-process locks; reads go to the read pool.
    Sqlite(#[allow(dead_code)] Vec<tokio::sync::OwnedMutexGuard<()>>),
    /// PostgreSQL: transaction-level advisory locks, released when the transaction ends (also when
    /// the task is dropped midway, since the transaction then rolls back). Reads and writes under the
    /// guard use this transaction's connection, so a derivation holds one connection, not two.
    Pg(Tx),
}

impl Store {
    /// The executor for queries under a guard.
    pub(super) fn under<'a>(&'a self, g: &'a mut PersonGuard) -> Exec<'a> {
        match &mut g.0 {
            Guard::Sqlite(_) => self.read(),
            Guard::Pg(tx) => match tx.conn() {
                Conn::Pg(c, h) => Exec::Pg(c, h),
                Conn::Sqlite(c) => Exec::Sqlite(c),
            },
        }
    }

    /// Writes results under a guard (in its transaction on PostgreSQL), then releases it.
    pub async fn put_results_and_unlock(&self, mut g: PersonGuard, rows: &[super::ResultWrite]) -> Result<()> {
        match &mut g.0 {
            Guard::Sqlite(_) => self.put_results(rows).await,
            Guard::Pg(_) => {
                if let Guard::Pg(mut tx) = g.0 {
                    super::results::upsert_result_rows(&mut tx.conn(), rows, crate::now_us()).await?;
                    tx.commit().await?;
                }
                Ok(())
            }
        }
    }
}

/// Stripes of SQLite's person locks.
pub const LOCK_STRIPES: usize = 64;

impl Store {
    /// Locks these persons, in a global order (no deadlock between two lockers of overlapping sets).
    pub async fn lock_persons(&self, persons: &[String]) -> Result<PersonGuard> {
        let mut ids: Vec<i64> = persons.iter().map(|p| lock_id(p)).collect();
        ids.sort_unstable();
        ids.dedup();
        match self {
            Store::Sqlite(s) => {
                let mut stripes: Vec<usize> = ids.iter().map(|i| (*i as u64 % LOCK_STRIPES as u64) as usize).collect();
                stripes.sort_unstable();
                stripes.dedup();
                let mut held = Vec::with_capacity(stripes.len());
                for i in stripes {
                    held.push(s.person_locks[i].clone().lock_owned().await);
                }
                Ok(PersonGuard(Guard::Sqlite(held)))
            }
            Store::Postgres(_) => {
                let mut tx = self.begin_write().await?;
                if let Tx::Pg(t, h) = &mut tx {
                    // One round trip for every lock, taken in the array's (sorted) order.
                    let locks = sqlx::query("SELECT pg_advisory_xact_lock(x) FROM unnest($1::bigint[]) AS t(x)")
                        .bind(ids)
                        .execute(&mut **t);
                    h.guard(async { Ok(locks.await.map(|_| ())?) }).await?;
                }
                Ok(PersonGuard(Guard::Pg(tx)))
            }
        }
    }

    /// Makes sure each identifier belongs to a person (a new one of its own if it had none).
    pub async fn ensure_persons(&self, keys: &[String]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let mut tx = self.begin_write().await?;
        ensure_identifiers(&mut tx.conn(), &refs, crate::now_us()).await?;
        tx.commit().await
    }

    /// The person of each of these identifiers that has one.
    pub async fn persons_of(&self, keys: &[String]) -> Result<HashMap<String, String>> {
        Ok(self
            .read_pairs_in("SELECT ifi_key AS k, person_id AS v FROM person_identifiers WHERE ifi_key IN", keys)
            .await?
            .into_iter()
            .collect())
    }

    /// `(person, identifier)` for these persons, each person's oldest identifier first.
    pub async fn identifiers_of(&self, persons: &[String]) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for chunk in persons.chunks(ROWS_PER_INSERT) {
            let ex = self.read();
            let sql = format!(
                "SELECT person_id AS k, ifi_key AS v FROM person_identifiers WHERE person_id IN ({}) \
                 ORDER BY person_id, added_us, ifi_key",
                ex.backend().param_list(1, chunk.len())
            );
            let mut q = Q::pairs(ex, &sql);
            for p in chunk {
                q = q.bind(p);
            }
            out.extend(q.fetch().await?);
        }
        Ok(out)
    }

    /// These persons with their names and identifiers, in the order asked (unknown ones left out).
    pub async fn persons(&self, ids: &[String]) -> Result<Vec<PersonRow>> {
        let mut idents: HashMap<String, Vec<String>> = HashMap::new();
        for (p, k) in self.identifiers_of(ids).await? {
            idents.entry(p).or_default().push(k);
        }
        let names: HashMap<String, String> =
            self.read_pairs_in("SELECT id AS k, name AS v FROM persons WHERE id IN", ids).await?.into_iter().collect();
        Ok(ids
            .iter()
            .filter_map(|id| {
                let identifiers = idents.remove(id)?;
                Some(PersonRow { id: id.clone(), name: names.get(id).cloned(), identifiers })
            })
            .collect())
    }

    pub async fn person(&self, id: &str) -> Result<Option<PersonRow>> {
        Ok(self.persons(&[id.to_string()]).await?.pop())
    }

    /// Persons whose name, identifiers or seen agent JSON contain `term` (case-insensitively), at
    /// most `limit`, by id.
    pub async fn search_persons(&self, term: &str, limit: i64) -> Result<Vec<PersonRow>> {
        let escaped = term.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let ids: Vec<String> = self
            .read()
            .q("SELECT DISTINCT pi.person_id FROM person_identifiers pi \
                LEFT JOIN agents a ON a.key = pi.ifi_key LEFT JOIN persons p ON p.id = pi.person_id \
                WHERE lower(pi.ifi_key) LIKE $1 ESCAPE '\\' OR lower(a.body) LIKE $1 ESCAPE '\\' \
                OR lower(p.name) LIKE $1 ESCAPE '\\' ORDER BY pi.person_id LIMIT $2")
            .bind(pattern)
            .bind(limit)
            .scalars()
            .await?;
        self.persons(&ids).await
    }

    /// Moves identifiers to person `to` (an identifier belongs to one person), naming it if `name`
    /// is given. Persons left without identifiers stop existing: their results and name go. Returns
    /// the persons that lost identifiers. The caller holds the locks of every person involved.
    pub async fn move_identifiers(&self, to: &str, keys: &[String], name: Option<&str>) -> Result<Vec<String>> {
        let before = self.persons_of(keys).await?;
        let mut losers: Vec<String> = before.values().filter(|p| p.as_str() != to).cloned().collect();
        losers.sort();
        losers.dedup();
        let now = crate::now_us();
        // In one order, as the course summaries' refresh share-locks them (see `summary`).
        let mut keys = keys.to_vec();
        keys.sort();
        keys.dedup();
        let mut tx = self.begin_write().await?;
        let mut conn = tx.conn();
        conn.insert_rows(
            "INSERT INTO person_identifiers (ifi_key, person_id, added_us) VALUES",
            "ON CONFLICT (ifi_key) DO UPDATE SET person_id = excluded.person_id",
            3,
            &keys,
            |q, k| q.bind(k).bind(to).bind(now),
        )
        .await?;
        if let Some(n) = name {
            conn.q("INSERT INTO persons (id, name, updated_us) VALUES ($1, $2, $3) \
                    ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_us = excluded.updated_us")
                .bind(to)
                .bind(n)
                .bind(now)
                .execute()
                .await?;
        }
        for p in &losers {
            forget_if_empty(&mut conn, p, to).await?;
        }
        let scope = super::summary::Scope {
            persons: losers.iter().cloned().chain(std::iter::once(to.to_string())).collect(),
            ..Default::default()
        };
        super::summary::refresh(&mut conn, &scope).await?;
        tx.commit().await?;
        Ok(losers)
    }

    /// Names a person (or clears its name).
    pub async fn rename_person(&self, id: &str, name: Option<&str>) -> Result<()> {
        let w = self.write();
        match name {
            Some(n) => {
                w.q("INSERT INTO persons (id, name, updated_us) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, updated_us = excluded.updated_us")
                    .bind(id)
                    .bind(n)
                    .bind(crate::now_us())
                    .execute()
                    .await?;
            }
            None => {
                w.q("DELETE FROM persons WHERE id = $1").bind(id).execute().await?;
            }
        }
        Ok(())
    }

    /// Every course a person has a result for.
    pub async fn result_courses_of(&self, person: &str) -> Result<Vec<String>> {
        self.read().q("SELECT course_id FROM results WHERE learner_key = $1").bind(person).scalars().await
    }
}

/// Drops what a person without identifiers leaves behind: its results and its name. Its shared
/// objectives go to `heir`, the person its identifiers joined (they are the same learner's).
async fn forget_if_empty(conn: &mut Conn<'_>, person: &str, heir: &str) -> Result<()> {
    let left: i64 =
        conn.q("SELECT count(*) FROM person_identifiers WHERE person_id = $1").bind(person).scalar().await?;
    if left == 0 {
        super::player::fold_player_globals(conn, person, heir).await?;
        conn.q("DELETE FROM results WHERE learner_key = $1").bind(person).execute().await?;
        conn.q("DELETE FROM persons WHERE id = $1").bind(person).execute().await?;
    }
    Ok(())
}

impl Store {
    /// Every course a person's facts concern, has a result in, or is assigned: what a change of
    /// the person's identifiers re-derives.
    pub async fn courses_of_person(&self, person: &str) -> Result<Vec<String>> {
        self.read()
            .sql(format!(
                "SELECT ca.course_id FROM person_identifiers pi \
                 JOIN index_keys lk ON lk.kind = '{}' AND lk.key = pi.ifi_key \
                 JOIN result_fact_links f ON f.learner_id = lk.id JOIN index_keys ak ON ak.id = f.activity_id \
                 JOIN course_activities ca ON ca.activity_id = ak.key WHERE pi.person_id = $1 \
                 UNION SELECT course_id FROM results WHERE learner_key = $1 \
                 UNION SELECT a.course_id FROM assignments a \
                 JOIN person_identifiers pi ON pi.ifi_key = a.learner_key WHERE pi.person_id = $1",
                super::results::LEARNER
            ))
            .bind(person)
            .scalars()
            .await
    }

    /// Persons active (the actor of a statement) in each of `weeks` weeks from the Monday `from_us`,
    /// counted once per person whatever identifiers they used.
    pub async fn active_persons_per_week(&self, from_us: i64, weeks: i64) -> Result<Vec<i64>> {
        const WEEK_US: i64 = 7 * 86_400_000_000;
        let rows = self
            .read()
            .q("SELECT w.week_us AS k, COUNT(DISTINCT pi.person_id) AS n FROM learner_weeks w \
                JOIN person_identifiers pi ON pi.ifi_key = w.ifi_key \
                WHERE w.week_us >= $1 AND w.week_us < $2 GROUP BY w.week_us")
            .bind(from_us)
            .bind(from_us + weeks * WEEK_US)
            .fetch_all()
            .await?;
        let mut out = vec![0i64; weeks.max(0) as usize];
        for r in rows {
            let (week, n): (i64, i64) = (r.get("k")?, r.get("n")?);
            if let Some(slot) = usize::try_from((week - from_us) / WEEK_US).ok().and_then(|i| out.get_mut(i)) {
                *slot = n;
            }
        }
        Ok(out)
    }

    /// The launches of any of these agents, newest first.
    pub async fn launches_of_agents(&self, keys: &[String]) -> Result<Vec<super::LaunchRow>> {
        let mut out = Vec::new();
        for chunk in keys.chunks(ROWS_PER_INSERT) {
            let ex = self.read();
            let sql = format!(
                "SELECT {} FROM launches WHERE agent_key IN ({}) ORDER BY created_us DESC",
                super::launches::COLUMNS,
                ex.backend().param_list(1, chunk.len())
            );
            let mut q = ex.sql(sql);
            for k in chunk {
                q = q.bind(k);
            }
            out.extend(q.fetch_all_as::<super::LaunchRow>().await?);
        }
        Ok(out)
    }

    /// Removes the learning-management rows of these agents: launches (which revokes their
    /// credentials), course player states and sessions, bookings and assignments. The first half
    /// of an erasure.
    pub async fn erase_learner_rows(&self, keys: &[String]) -> Result<()> {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let mut tx = self.begin_write().await?;
        let mut conn = tx.conn();
        conn.execute_for_ids("DELETE FROM launches WHERE agent_key IN", "", &keys).await?;
        // The course player's registrations name the learner (its agent), and their sessions go too.
        conn.execute_for_ids(
            "DELETE FROM player_sessions WHERE registration IN (SELECT registration FROM player_states WHERE agent_key IN",
            ")",
            &keys,
        )
        .await?;
        conn.execute_for_ids("DELETE FROM player_states WHERE agent_key IN", "", &keys).await?;
        conn.execute_for_ids("DELETE FROM bookings WHERE learner_key IN", "", &keys).await?;
        // The course summaries lose these assignments, and their persons' results count unassigned.
        let mut scope = super::summary::Scope::default();
        for chunk in keys.chunks(ROWS_PER_INSERT) {
            let list = conn.backend().param_list(1, chunk.len());
            let mut q = conn.sql(format!("SELECT id FROM assignments WHERE learner_key IN ({list})"));
            for k in chunk {
                q = q.bind(*k);
            }
            scope.assignments.extend(q.scalars::<String>().await?);
            let mut q = conn.sql(format!("SELECT person_id FROM person_identifiers WHERE ifi_key IN ({list})"));
            for k in chunk {
                q = q.bind(*k);
            }
            scope.persons.extend(q.scalars::<String>().await?);
        }
        conn.execute_for_ids("DELETE FROM assignments WHERE learner_key IN", "", &keys).await?;
        super::summary::refresh(&mut conn, &scope).await?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lock_ids_are_stable_across_processes() {
        // Fixed value: every node must compute the same lock for a person.
        assert_eq!(super::lock_id("abc"), -4_945_274_140_577_303_549);
        assert_ne!(super::lock_id("abc"), super::lock_id("abd"));
    }
}

//! The course player's storage: the sequencing state of each played registration (one row, written
//! compare-and-set on its revision) and the player sessions whose credentials reach it.

use serde::Serialize;

use super::{Result, Store};

/// The player's state of one registration (see `lms::player`).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PlayerStateRow {
    pub registration: String,
    pub course_id: String,
    pub version_id: String,
    /// `scorm2004`, `scorm12` or `cmi5`.
    pub format: String,
    /// The learner, xAPI agent JSON text.
    pub actor: String,
    pub agent_key: String,
    /// JSON: the sequencing engine's saved state, or the SCORM 1.2 / cmi5 player's.
    pub state: String,
    /// The launch of the module being delivered.
    pub current_launch: Option<String>,
    /// Bumped by every write; a write names the revision it read.
    pub revision: i64,
    pub created_us: i64,
    pub updated_us: i64,
}

/// One opening of the player and its credential (only the secret's SHA-256 is kept).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlayerSessionRow {
    pub id: String,
    pub registration: String,
    pub secret_sha256: String,
    pub created_us: i64,
    pub expires_us: i64,
}

const STATE_COLUMNS: &str = "registration, course_id, version_id, format, actor, agent_key, state, current_launch, \
     revision, created_us, updated_us";

impl Store {
    /// Stores a new registration's state (revision 0); false when the registration already has one.
    pub async fn insert_player_state(&self, s: &PlayerStateRow) -> Result<bool> {
        let sql = format!(
            "INSERT INTO player_states ({STATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (registration) DO NOTHING"
        );
        let n = self
            .write()
            .sql(sql)
            .bind(&s.registration)
            .bind(&s.course_id)
            .bind(&s.version_id)
            .bind(&s.format)
            .bind(&s.actor)
            .bind(&s.agent_key)
            .bind(&s.state)
            .bind(&s.current_launch)
            .bind(s.revision)
            .bind(s.created_us)
            .bind(s.updated_us)
            .execute()
            .await?;
        Ok(n == 1)
    }

    pub async fn player_state(&self, registration: &str) -> Result<Option<PlayerStateRow>> {
        self.read()
            .sql(format!("SELECT {STATE_COLUMNS} FROM player_states WHERE registration = $1"))
            .bind(registration)
            .fetch_optional_as()
            .await
    }

    /// A learner's most recently played registration of a course, if any.
    pub async fn latest_player_state(&self, agent_key: &str, course_id: &str) -> Result<Option<PlayerStateRow>> {
        self.read()
            .sql(format!(
                "SELECT {STATE_COLUMNS} FROM player_states WHERE agent_key = $1 AND course_id = $2 \
                 ORDER BY updated_us DESC LIMIT 1"
            ))
            .bind(agent_key)
            .bind(course_id)
            .fetch_optional_as()
            .await
    }

    /// Writes a registration's new state if it is still at `revision` (compare-and-set); false when
    /// another request wrote it first (the caller reads it again and retries).
    pub async fn update_player_state(
        &self,
        registration: &str,
        revision: i64,
        state: &str,
        current_launch: Option<&str>,
        at_us: i64,
    ) -> Result<bool> {
        let n = self
            .write()
            .q("UPDATE player_states SET state = $3, current_launch = $4, revision = revision + 1, updated_us = $5 \
                WHERE registration = $1 AND revision = $2")
            .bind(registration)
            .bind(revision)
            .bind(state)
            .bind(current_launch.map(str::to_string))
            .bind(at_us)
            .execute()
            .await?;
        Ok(n == 1)
    }

    pub async fn insert_player_session(&self, s: &PlayerSessionRow) -> Result<()> {
        self.write()
            .q("INSERT INTO player_sessions (id, registration, secret_sha256, created_us, expires_us) \
                VALUES ($1, $2, $3, $4, $5)")
            .bind(&s.id)
            .bind(&s.registration)
            .bind(&s.secret_sha256)
            .bind(s.created_us)
            .bind(s.expires_us)
            .execute()
            .await?;
        Ok(())
    }

    pub async fn player_session(&self, id: &str) -> Result<Option<PlayerSessionRow>> {
        self.read()
            .q("SELECT id, registration, secret_sha256, created_us, expires_us FROM player_sessions WHERE id = $1")
            .bind(id)
            .fetch_optional_as()
            .await
    }
}

impl Store {
    /// Removes player sessions (and so their credentials' rows) that expired before `now_us`;
    /// returns how many. Their registrations' states stay: a learner opens a new player on them.
    pub async fn remove_expired_player_sessions(&self, now_us: i64) -> Result<u64> {
        self.write().q("DELETE FROM player_sessions WHERE expires_us <= $1").bind(now_us).execute().await
    }
}

impl Store {
    /// A person's system-wide global objectives (JSON) and their revision; None before any.
    pub async fn player_globals(&self, person: &str) -> Result<Option<(String, i64)>> {
        let row = self
            .read()
            .q("SELECT globals, revision FROM player_person_globals WHERE person_id = $1")
            .bind(person)
            .fetch_optional()
            .await?;
        Ok(match row {
            Some(r) => Some((r.get::<String, _>(0)?, r.get::<i64, _>(1)?)),
            None => None,
        })
    }

    /// Writes a person's global objectives if they are still at `revision` (None: none stored yet);
    /// false when another request wrote them first.
    pub async fn put_player_globals(
        &self,
        person: &str,
        revision: Option<i64>,
        globals: &str,
        at_us: i64,
    ) -> Result<bool> {
        let n = match revision {
            None => {
                self.write()
                    .q("INSERT INTO player_person_globals (person_id, globals, revision, updated_us) \
                        VALUES ($1, $2, 0, $3) ON CONFLICT (person_id) DO NOTHING")
                    .bind(person)
                    .bind(globals)
                    .bind(at_us)
                    .execute()
                    .await?
            }
            Some(rev) => {
                self.write()
                    .q("UPDATE player_person_globals SET globals = $3, revision = revision + 1, updated_us = $4 \
                        WHERE person_id = $1 AND revision = $2")
                    .bind(person)
                    .bind(rev)
                    .bind(globals)
                    .bind(at_us)
                    .execute()
                    .await?
            }
        };
        Ok(n == 1)
    }
}

/// When a person stops existing because its identifiers joined `heir` (a merge), its shared
/// objectives join `heir`'s: what `heir` already has wins, the rest is added. The revision moves on,
/// so a player that read either row before retries.
pub(super) async fn fold_player_globals(conn: &mut super::dialect::Conn<'_>, from: &str, heir: &str) -> Result<()> {
    type Map = serde_json::Map<String, serde_json::Value>;
    let read = |text: Option<String>| -> Map { text.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default() };
    let theirs: Option<String> =
        conn.q("SELECT globals FROM player_person_globals WHERE person_id = $1").bind(from).scalar_opt().await?;
    let Some(theirs) = theirs else { return Ok(()) };
    let mine: Option<String> =
        conn.q("SELECT globals FROM player_person_globals WHERE person_id = $1").bind(heir).scalar_opt().await?;
    let had = mine.is_some();
    let mut merged = read(Some(theirs));
    merged.extend(read(mine));
    let text = serde_json::Value::Object(merged).to_string();
    let now = crate::now_us();
    if had {
        conn.q("UPDATE player_person_globals SET globals = $2, revision = revision + 1, updated_us = $3 \
                WHERE person_id = $1")
            .bind(heir)
            .bind(text)
            .bind(now)
            .execute()
            .await?;
    } else {
        conn.q("INSERT INTO player_person_globals (person_id, globals, revision, updated_us) VALUES ($1, $2, 0, $3) \
                ON CONFLICT (person_id) DO NOTHING")
            .bind(heir)
            .bind(text)
            .bind(now)
            .execute()
            .await?;
    }
    conn.q("DELETE FROM player_person_globals WHERE person_id = $1").bind(from).execute().await?;
    Ok(())
}

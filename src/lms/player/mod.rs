//! The course player: a course of several modules played the way its author designed it, with a
//! table of contents and Previous / Continue / Exit / Suspend controls, on the content origin.
//!
//! One registration is one attempt on the course; its sequencing state (SCORM 2004: the activity
//! tree's tracking state from [`crate::sequencing`]; SCORM 1.2: the current SCO and each SCO's lesson
//! status; cmi5: the current AU) is a row of the store, written compare-and-set, so any node serves
//! the next request and a suspended attempt resumes on another day or node. Each module the player
//! delivers is an ordinary launch ([`Lms::create_launch`]) in that registration, so its credential,
//! statements and derived results are exactly those of a module launched alone.
//!
//! Who reaches what: `POST /api/players` (admin or `launch` scope) opens a player for a learner and
//! answers a URL whose fragment carries the player credential. That credential reaches only this
//! player's own endpoints (its state and its navigation requests); it is no credential for `/xapi` or
//! `/api`. A delivered SCO reports what it set through its own launch credential
//! ([`Lms::player_report`]); only the module being delivered may report.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::launch::{sha256_hex, LaunchRequest, LAUNCH_TTL_US};
use super::Lms;
use crate::lrs::auth::random_token;
use crate::lrs::error::Result;
use crate::lrs::LrsError;
use crate::package::{Course, Format};
use crate::sequencing::scorm12::{LessonStatus, Scorm12Nav};
use crate::sequencing::{Engine, NavRequest, ObjectiveReport, RuntimeReport, SavedState, TreeDef};
use crate::store::{PlayerSessionRow, PlayerStateRow};
use crate::xapi::timestamp::format_us;

#[cfg(test)]
mod tests;
mod view;

/// How often a navigation retries after another request wrote the same registration first.
const CAS_RETRIES: usize = 8;

fn bad(msg: impl Into<String>) -> LrsError {
    LrsError::BadRequest(msg.into())
}

/// `POST /api/players`: open the player on a course for a learner.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlayerRequest {
    /// Course IRI.
    pub course: String,
    /// xAPI Agent, or a `mailto:` IRI.
    pub learner: Value,
    /// Continue this registration (UUID); default: the learner's latest one of the course, else new.
    #[serde(default)]
    pub registration: Option<String>,
    /// Course version number, for a new registration (default: the latest).
    #[serde(default)]
    pub version: Option<i64>,
}

/// An opened player, as answered to the caller.
#[derive(Debug, Clone, Serialize)]
pub struct PlayerOpened {
    pub id: String,
    /// Open this in the learner's browser: the player page on the content origin, the credential in
    /// the fragment (never sent to a server).
    pub url: String,
    pub registration: String,
    pub course: String,
    pub version_id: String,
    pub format: String,
    pub learner: Value,
    pub expires_at: String,
}

/// A navigation request from the player page: its buttons and table of contents, or what the
/// delivered SCO asked for with `adl.nav.request` (which the page passes on after Terminate).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NavBody {
    /// `open` (start or resume, as the state says), `continue`, `previous`, `choice`, `exit`,
    /// `exitAll`, `suspendAll`, `abandon`, `abandonAll`, or an `adl.nav.request` value such as
    /// `{target=ID}choice`.
    pub request: String,
    /// The target of `choice`.
    #[serde(default)]
    pub target: Option<String>,
}

/// What a delivered SCO set, sent by the run-time on Commit and Terminate with the SCO's launch
/// credential (`POST /launch/{id}/sequencing`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    #[serde(default)]
    pub completion_status: Option<String>,
    #[serde(default)]
    pub success_status: Option<String>,
    #[serde(default)]
    pub score_scaled: Option<f64>,
    #[serde(default)]
    pub score_raw: Option<f64>,
    #[serde(default)]
    pub score_min: Option<f64>,
    #[serde(default)]
    pub score_max: Option<f64>,
    #[serde(default)]
    pub progress_measure: Option<f64>,
    #[serde(default)]
    pub exit: Option<String>,
    /// Seconds of this session; sent with Terminate only, so it is counted once.
    #[serde(default)]
    pub session_seconds: Option<f64>,
    #[serde(default)]
    pub objectives: Vec<ObjectiveBody>,
    /// SCORM 1.2: `cmi.core.lesson_status`.
    #[serde(default)]
    pub lesson_status: Option<String>,
}

/// One `cmi.objectives.n` entry of a report.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveBody {
    pub id: String,
    #[serde(default)]
    pub success_status: Option<String>,
    #[serde(default)]
    pub completion_status: Option<String>,
    #[serde(default)]
    pub score_scaled: Option<f64>,
    #[serde(default)]
    pub score_raw: Option<f64>,
    #[serde(default)]
    pub score_min: Option<f64>,
    #[serde(default)]
    pub score_max: Option<f64>,
    #[serde(default)]
    pub progress_measure: Option<f64>,
}

/// The state kept per registration, by format.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Kept {
    /// The SCORM 2004 activity tree's tracking state.
    Scorm2004 { engine: SavedState },
    /// SCORM 1.2 has no sequencing: the SCO being delivered, the suspended one, and each SCO's
    /// latest `cmi.core.lesson_status`, which its prerequisites read.
    Scorm12 { current: Option<String>, suspended: Option<String>, status: BTreeMap<String, String>, ended: bool },
    /// cmi5: the AU being delivered; what `moveOn` still requires comes from the derived results.
    Cmi5 { current: Option<String>, ended: bool },
}

/// A loaded registration: its row, its course and the state to work on.
struct Loaded {
    row: PlayerStateRow,
    course: Course,
    kept: Kept,
    /// The SCORM 2004 tree, built once per request from the stored course version.
    def: Option<Arc<TreeDef>>,
    /// The learner's global objectives shared across courses, as read (with their revision), when
    /// the course's objectives are global to the system; they are already in `kept`.
    system: Option<(Globals, Option<i64>)>,
}

type Globals = BTreeMap<String, crate::sequencing::state::GlobalObjective>;

impl Loaded {
    fn engine(&self) -> Option<Engine> {
        match (&self.kept, &self.def) {
            (Kept::Scorm2004 { engine }, Some(def)) => Some(Engine::restore(def.clone(), engine.clone())),
            _ => None,
        }
    }
}

fn format_of(course: &Course) -> Result<&'static str> {
    Ok(match course.format {
        Format::Scorm2004 { .. } => "scorm2004",
        Format::Scorm12 => "scorm12",
        Format::Cmi5 => "cmi5",
        _ => return Err(bad("the player plays SCORM 1.2, SCORM 2004 and cmi5 courses; launch other formats directly")),
    })
}

fn lesson_status(s: &str) -> Option<LessonStatus> {
    LessonStatus::parse(s)
}

impl Lms {
    /// Opens the player for a learner: picks the registration (the given one, the learner's latest
    /// of this course, or a new one), creates its state when new, and issues the player credential.
    pub async fn open_player(&self, req: PlayerRequest) -> Result<PlayerOpened> {
        let view = self.course(&req.course, req.version).await?;
        let format = format_of(&view.course)?;
        // A launch request validates and normalises the learner exactly as launches do.
        let (actor, agent_key) = self.player_learner(&req.learner, format)?;
        let given = match &req.registration {
            Some(r) => Some(
                uuid::Uuid::parse_str(r)
                    .ok()
                    .filter(|_| r.len() == 36)
                    .map(|u| u.hyphenated().to_string())
                    .ok_or_else(|| bad(format!("registration must be a UUID, got {r:?}")))?,
            ),
            None => None,
        };
        let existing = match &given {
            Some(r) => self.store.player_state(r).await?,
            None => self.store.latest_player_state(&agent_key, &view.id).await?,
        };
        let now = crate::now_us();
        let row = match existing {
            Some(row) => {
                if row.agent_key != agent_key || row.course_id != view.id {
                    return Err(LrsError::Forbidden("that registration belongs to another learner or course".into()));
                }
                row
            }
            None => {
                let registration = given.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                let kept = match format {
                    "scorm2004" => {
                        let def = TreeDef::from_course(&view.course).map_err(|e| bad(e.to_string()))?;
                        Kept::Scorm2004 {
                            engine: Engine::new(def, crate::sequencing::registration_seed(&registration)).state(),
                        }
                    }
                    "scorm12" => {
                        Kept::Scorm12 { current: None, suspended: None, status: BTreeMap::new(), ended: false }
                    }
                    _ => Kept::Cmi5 { current: None, ended: false },
                };
                let row = PlayerStateRow {
                    registration: registration.clone(),
                    course_id: view.id.clone(),
                    version_id: view.version_id.clone(),
                    format: format.to_string(),
                    actor: actor.to_string(),
                    agent_key: agent_key.clone(),
                    state: serde_json::to_string(&kept).map_err(|e| bad(e.to_string()))?,
                    current_launch: None,
                    revision: 0,
                    created_us: now,
                    updated_us: now,
                };
                self.store.insert_player_state(&row).await?;
                // Another request may have created it first: read what is stored.
                self.store
                    .player_state(&registration)
                    .await?
                    .ok_or_else(|| LrsError::NotFound("the registration vanished".into()))?
            }
        };
        // Expired sessions are removed whenever one opens (and at start): their credentials
        // reach nothing, and nothing else would ever remove them.
        self.remove_expired_player_sessions().await?;
        let id = uuid::Uuid::new_v4().to_string();
        let secret = random_token(40);
        let session = PlayerSessionRow {
            id: id.clone(),
            registration: row.registration.clone(),
            secret_sha256: sha256_hex(&secret),
            created_us: now,
            expires_us: now + LAUNCH_TTL_US,
        };
        self.store.insert_player_session(&session).await?;
        let content = self.settings.content_url.trim_end_matches('/');
        Ok(PlayerOpened {
            url: format!("{content}/player/{id}#token={secret}"),
            id,
            registration: row.registration.clone(),
            course: row.course_id.clone(),
            version_id: row.version_id.clone(),
            format: row.format.clone(),
            learner: serde_json::from_str(&row.actor).unwrap_or(Value::Null),
            expires_at: format_us(session.expires_us),
        })
    }

    /// Removes the player sessions whose credentials expired; returns how many.
    pub async fn remove_expired_player_sessions(&self) -> Result<u64> {
        Ok(self.store.remove_expired_player_sessions(crate::now_us()).await?)
    }

    /// The learner agent as launches would store it (cmi5 needs an account; see `create_launch`).
    fn player_learner(&self, learner: &Value, format: &str) -> Result<(Value, String)> {
        // The cmi5 account is linked to the learner's person by the launches the player makes.
        let (agent, key, _) = self.learner_agent(learner, format)?;
        Ok((agent, key))
    }

    /// Checks a player credential (`id` from the path, the secret from `Authorization: Bearer`):
    /// answers the registration it reaches.
    pub async fn player_session(&self, id: &str, secret: &str) -> Result<String> {
        let refused = || LrsError::Forbidden("this player's credential is missing, wrong or expired".into());
        let id = uuid::Uuid::parse_str(id).map_err(|_| refused())?.hyphenated().to_string();
        let row = self.store.player_session(&id).await?.ok_or_else(refused)?;
        let given = sha256_hex(secret);
        let same = given.len() == row.secret_sha256.len()
            && given.bytes().zip(row.secret_sha256.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if !same || row.expires_us <= crate::now_us() {
            return Err(refused());
        }
        Ok(row.registration)
    }

    /// Whether a player page exists (the page itself names no learner and holds no credential).
    pub async fn player_exists(&self, id: &str) -> Result<bool> {
        let Ok(u) = uuid::Uuid::parse_str(id) else { return Ok(false) };
        Ok(self.store.player_session(&u.hyphenated().to_string()).await?.is_some())
    }

    async fn load_player(&self, registration: &str) -> Result<Loaded> {
        let row = self
            .store
            .player_state(registration)
            .await?
            .ok_or_else(|| LrsError::NotFound("no such registration".into()))?;
        let version = self
            .store
            .course_version(&row.version_id)
            .await?
            .ok_or_else(|| LrsError::NotFound("the course version is gone".into()))?;
        let course: Course =
            serde_json::from_str(&version.body).map_err(|e| bad(format!("stored course is unreadable: {e}")))?;
        let mut kept: Kept =
            serde_json::from_str(&row.state).map_err(|e| bad(format!("stored player state is unreadable: {e}")))?;
        let def = match kept {
            Kept::Scorm2004 { .. } => Some(Arc::new(TreeDef::from_course(&course).map_err(|e| bad(e.to_string()))?)),
            _ => None,
        };
        // Objectives global to the system (the default) are the learner's, shared by every course:
        // what another course wrote since this registration last ran is read now.
        let mut system = None;
        if let (Kept::Scorm2004 { engine }, Some(d)) = (&mut kept, &def) {
            if d.objectives_global_to_system {
                let (globals, revision) = self.system_globals(&row.agent_key).await?.1;
                engine.globals.extend(globals.clone());
                system = Some((globals, revision));
            }
        }
        Ok(Loaded { row, course, kept, def, system })
    }

    /// The shared objectives of the person the learner's identifier belongs to (a learner is one
    /// person whatever identifier a player or launch names), with the person and the revision read.
    async fn system_globals(&self, agent_key: &str) -> Result<(String, (Globals, Option<i64>))> {
        let person = self
            .persons_of_keys(std::iter::once(agent_key.to_string()))
            .await?
            .remove(agent_key)
            .ok_or_else(|| LrsError::NotFound("the learner has no person".into()))?;
        let read = match self.store.player_globals(&person).await? {
            Some((text, revision)) => (serde_json::from_str(&text).unwrap_or_default(), Some(revision)),
            None => (Globals::new(), None),
        };
        Ok((person, read))
    }

    /// Merges the global objectives a registration changed into the learner's (person's) ones
    /// (compare-and-set, retried: another course may be writing other objectives at once).
    async fn share_globals(&self, l: &Loaded, kept: &Kept) -> Result<()> {
        let (Some(_), Kept::Scorm2004 { engine: before }, Kept::Scorm2004 { engine: after }) =
            (&l.system, &l.kept, kept)
        else {
            return Ok(());
        };
        let changed: Globals = after
            .globals
            .iter()
            .filter(|(k, v)| before.globals.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        for _ in 0..CAS_RETRIES {
            // The person is read again each time: a merge may have moved the learner meanwhile.
            let (person, (mut globals, revision)) = self.system_globals(&l.row.agent_key).await?;
            globals.extend(changed.clone());
            let text = serde_json::to_string(&globals).map_err(|e| bad(e.to_string()))?;
            if self.store.put_player_globals(&person, revision, &text, crate::now_us()).await? {
                return Ok(());
            }
        }
        Err(LrsError::Conflict("the learner's shared objectives kept changing; retry".into()))
    }

    /// Writes a registration's new state if nobody wrote it since it was loaded.
    async fn save_player(&self, l: &Loaded, kept: &Kept, current_launch: Option<&str>) -> Result<bool> {
        let text = serde_json::to_string(kept).map_err(|e| bad(e.to_string()))?;
        let saved = self
            .store
            .update_player_state(&l.row.registration, l.row.revision, &text, current_launch, crate::now_us())
            .await?;
        if saved {
            self.share_globals(l, kept).await?;
        }
        Ok(saved)
    }

    /// Processes a navigation request for a registration and delivers what it leads to: a new launch of
    /// the chosen module (its URL, with its own credential, goes to the player page only). A request
    /// the course's rules refuse changes nothing and is answered with `refused` (the SN exception).
    pub async fn player_navigate(&self, registration: &str, body: &NavBody) -> Result<Value> {
        for _ in 0..CAS_RETRIES {
            let l = self.load_player(registration).await?;
            let mut deliver_module: Option<String> = None;
            let kept = match &l.kept {
                Kept::Scorm2004 { .. } => {
                    let mut e = l.engine().ok_or_else(|| bad("no sequencing state"))?;
                    let now = crate::now_us();
                    let mut refused = None;
                    for req in scorm2004_requests(&e, body)? {
                        match e.navigate(req, now) {
                            Ok(out) => {
                                deliver_module = out.deliver;
                                refused = out.exception.filter(|_| !out.end_session);
                            }
                            Err(x) => refused = Some(x),
                        }
                        if refused.is_some() {
                            break;
                        }
                    }
                    // A request the rules refuse changes nothing, not even the current attempt (the
                    // engine may already have ended it before finding nothing to deliver): what was
                    // stored stays, as a player that offers valid requests only would have it.
                    if let Some(x) = refused {
                        return self.view_of(&l, None, Some(x.0.to_string())).await;
                    }
                    Kept::Scorm2004 { engine: e.state() }
                }
                Kept::Scorm12 { current, suspended, status, ended } => {
                    let nav = Scorm12Nav::from_course(&l.course);
                    let st = |id: &str| status.get(id).and_then(|s| lesson_status(s));
                    let (mut current, mut suspended, mut ended) = (current.clone(), suspended.clone(), *ended);
                    let target = match body.request.as_str() {
                        "open" | "start" | "resumeAll" => {
                            ended = false;
                            suspended.take().or(current.clone()).or_else(|| nav.start(&st).map(str::to_string))
                        }
                        "continue" => current.as_deref().and_then(|c| nav.next(c, &st)).map(str::to_string),
                        "previous" => current.as_deref().and_then(|c| nav.previous(c, &st)).map(str::to_string),
                        "choice" => {
                            let t = body.target.clone().unwrap_or_default();
                            nav.available(&t, &st).then_some(t)
                        }
                        "suspendAll" => {
                            suspended = current.take();
                            ended = true;
                            None
                        }
                        "exit" | "exitAll" | "abandon" | "abandonAll" => {
                            current = None;
                            ended = true;
                            None
                        }
                        other => return Err(bad(format!("unknown navigation request {other:?}"))),
                    };
                    if target.is_none() && !ended {
                        // continue past the last SCO ends the course; other refusals change nothing.
                        if body.request == "continue" && current.is_some() {
                            current = None;
                            ended = true;
                        } else {
                            return self.view_of(&l, None, Some("not available now".into())).await;
                        }
                    }
                    if let Some(t) = &target {
                        current = Some(t.clone());
                        ended = false;
                        deliver_module = Some(t.clone());
                    }
                    Kept::Scorm12 { current, suspended, status: status.clone(), ended }
                }
                Kept::Cmi5 { current, .. } => {
                    let satisfied = self.cmi5_satisfied_aus(&l.row).await?;
                    let aus = l.course.modules();
                    // The next AU whose moveOn is still unmet (after the current one, for continue).
                    let next_unmet = |skip: Option<&str>| {
                        aus.iter()
                            .find(|m| !satisfied.contains(&m.id) && skip != Some(m.id.as_str()))
                            .map(|m| m.id.clone())
                    };
                    let (target, ending) = match body.request.as_str() {
                        "open" | "start" => (current.clone().or_else(|| next_unmet(None)), false),
                        "continue" => (next_unmet(current.as_deref()), false),
                        "choice" => (body.target.clone().filter(|t| aus.iter().any(|m| &m.id == t)), false),
                        "exit" | "exitAll" | "suspendAll" | "abandon" | "abandonAll" => (None, true),
                        other => return Err(bad(format!("unknown navigation request {other:?}"))),
                    };
                    if target.is_none() && !ending {
                        return self.view_of(&l, None, Some("nothing left to do".into())).await;
                    }
                    deliver_module = target.clone();
                    Kept::Cmi5 { current: target, ended: ending }
                }
            };
            // Deliver: a launch of the module in this registration, as if launched alone.
            let launch = match &deliver_module {
                Some(m) => {
                    let actor: Value = serde_json::from_str(&l.row.actor).unwrap_or(Value::Null);
                    let content = self.settings.content_url.trim_end_matches('/').to_string();
                    let return_url = (l.row.format == "cmi5").then(|| format!("{content}/player/returned"));
                    Some(
                        self.create_launch(LaunchRequest {
                            course: l.row.course_id.clone(),
                            module: m.clone(),
                            learner: actor,
                            registration: Some(l.row.registration.clone()),
                            mode: None,
                            version: Some(self.version_number(&l.row).await?),
                            return_url,
                        })
                        .await?,
                    )
                }
                None => None,
            };
            if !self.save_player(&l, &kept, launch.as_ref().map(|v| v.id.as_str())).await? {
                if let Some(v) = &launch {
                    // Superseded: its credential must not linger.
                    self.revoke_launch(&v.id).await?;
                }
                continue;
            }
            let l2 = self.load_player(registration).await?;
            return self.view_of(&l2, launch.map(|v| v.url), None).await;
        }
        Err(LrsError::Conflict("the course's state kept changing; retry".into()))
    }

    async fn version_number(&self, row: &PlayerStateRow) -> Result<i64> {
        Ok(self
            .store
            .course_version(&row.version_id)
            .await?
            .ok_or_else(|| LrsError::NotFound("the course version is gone".into()))?
            .version)
    }

    /// The player's part of a SCORM launch's run-time settings, when the launch is the module a
    /// player is delivering: `adl.nav.request_valid.*` answers and the entry the sequencer decided.
    pub(crate) async fn player_runtime(
        &self,
        launch_id: &str,
        registration: &str,
        module: &str,
    ) -> Result<Option<Value>> {
        let Some(row) = self.store.player_state(registration).await? else { return Ok(None) };
        if row.current_launch.as_deref() != Some(launch_id) {
            return Ok(None);
        }
        let l = self.load_player(registration).await?;
        Ok(Some(match l.engine() {
            Some(e) => {
                let init = e.runtime_init(module);
                json!({"valid": nav_valid_json(&e), "entry": init.as_ref().map(|i| i.entry).filter(|s| !s.is_empty()),
                       "objectives": init.map(|i| i.objectives).unwrap_or_default()})
            }
            None => json!({"valid": {}}),
        }))
    }

    /// What a delivered SCO set (on Commit and Terminate), from its own launch credential: fed to the
    /// sequencer (SCORM 2004: report and rollup; SCORM 1.2: the lesson status prerequisites read).
    /// Only the module being delivered may report. Answers the new `adl.nav.request_valid.*`.
    pub async fn player_report(&self, launch_id: &str, body: &ReportBody) -> Result<Value> {
        let launch = self.store.launch(launch_id).await?.ok_or_else(|| LrsError::NotFound("no such launch".into()))?;
        for _ in 0..CAS_RETRIES {
            let Some(row) = self.store.player_state(&launch.registration).await? else {
                return Err(LrsError::NotFound("this launch is not played by the course player".into()));
            };
            if row.current_launch.as_deref() != Some(launch_id) || row.course_id != launch.course_id {
                return Err(LrsError::Forbidden("only the module the player is delivering reports to it".into()));
            }
            let l = self.load_player(&launch.registration).await?;
            let (kept, valid) = match &l.kept {
                Kept::Scorm2004 { .. } => {
                    let mut e = l.engine().ok_or_else(|| bad("no sequencing state"))?;
                    let report = RuntimeReport {
                        completion_status: body.completion_status.clone(),
                        success_status: body.success_status.clone(),
                        score_scaled: body.score_scaled,
                        score_raw: body.score_raw,
                        score_min: body.score_min,
                        score_max: body.score_max,
                        progress_measure: body.progress_measure,
                        exit: body.exit.clone(),
                        session_time_us: body
                            .session_seconds
                            .filter(|s| s.is_finite() && *s >= 0.0)
                            .map(|s| (s * 1e6) as i64),
                        objectives: body
                            .objectives
                            .iter()
                            .map(|o| ObjectiveReport {
                                id: o.id.clone(),
                                success_status: o.success_status.clone(),
                                completion_status: o.completion_status.clone(),
                                score_scaled: o.score_scaled,
                                score_raw: o.score_raw,
                                score_min: o.score_min,
                                score_max: o.score_max,
                                progress_measure: o.progress_measure,
                            })
                            .collect(),
                    };
                    e.report_runtime(&launch.module_id, &report)
                        .map_err(|x| LrsError::Conflict(format!("the sequencer refused the report ({})", x.0)))?;
                    let valid = nav_valid_json(&e);
                    (Kept::Scorm2004 { engine: e.state() }, valid)
                }
                Kept::Scorm12 { current, suspended, status, ended } => {
                    let mut status = status.clone();
                    if let Some(s) = body.lesson_status.as_deref().filter(|s| lesson_status(s).is_some()) {
                        status.insert(launch.module_id.clone(), s.to_string());
                    }
                    (
                        Kept::Scorm12 { current: current.clone(), suspended: suspended.clone(), status, ended: *ended },
                        json!({}),
                    )
                }
                Kept::Cmi5 { .. } => return Ok(json!({"valid": {}})),
            };
            if self.save_player(&l, &kept, Some(launch_id)).await? {
                return Ok(json!({"valid": valid}));
            }
        }
        Err(LrsError::Conflict("the course's state kept changing; retry".into()))
    }

    /// The course's rolled-up status for a registration (SCORM 2004), for tests and reports that
    /// compare it with the derived result.
    pub async fn player_course_status(&self, registration: &str) -> Result<Option<crate::sequencing::Status>> {
        let l = self.load_player(registration).await?;
        Ok(l.engine().map(|e| e.course_status()))
    }

    /// The cmi5 AUs (module ids) of the learner's course that `moveOn` counts as satisfied, from the
    /// derived result (the one place cmi5 satisfaction is decided).
    async fn cmi5_satisfied_aus(&self, row: &PlayerStateRow) -> Result<Vec<String>> {
        // Results are kept per person: the one the player's learner identifier belongs to.
        let Some(person) = self.store.persons_of(std::slice::from_ref(&row.agent_key)).await?.remove(&row.agent_key)
        else {
            return Ok(Vec::new());
        };
        let Some(text) = self.store.result(&row.course_id, &person).await? else { return Ok(Vec::new()) };
        let Ok(rec) = serde_json::from_str::<super::results::ResultRecord>(&text) else { return Ok(Vec::new()) };
        let version = self.store.course_version(&row.version_id).await?;
        let course: Option<Course> = version.and_then(|v| serde_json::from_str(&v.body).ok());
        let Some(course) = course else { return Ok(Vec::new()) };
        Ok(course
            .modules()
            .into_iter()
            .filter(|m| {
                let id = crate::results::ids::module_activity_id(&row.course_id, &m.id);
                rec.derived.components.iter().any(|c| c.activity_id == id && c.satisfied)
            })
            .map(|m| m.id.clone())
            .collect())
    }
}

/// The SCORM 2004 requests a player request stands for. `open` resumes a suspended attempt, picks
/// up an attempt whose player was closed without exit (suspend, then resume), or starts.
fn scorm2004_requests(e: &Engine, body: &NavBody) -> Result<Vec<NavRequest>> {
    let r = body.request.as_str();
    Ok(match r {
        "open" => {
            if e.current().is_some() && !e.session_ended() {
                vec![NavRequest::SuspendAll, NavRequest::ResumeAll]
            } else if e.suspended_activity().is_some() {
                vec![NavRequest::ResumeAll]
            } else if e.session_ended() {
                // A finished course stays as it ended (a Start would begin a new attempt and
                // forget its status); the learner may still choose a module from the contents.
                Vec::new()
            } else {
                vec![NavRequest::Start]
            }
        }
        "choice" => {
            let t = body.target.clone().ok_or_else(|| bad("choice needs a target"))?;
            vec![NavRequest::Choice(t)]
        }
        other => match NavRequest::parse_adl(other) {
            Ok(Some(req)) => vec![req],
            Ok(None) => Vec::new(),
            Err(x) => return Err(bad(format!("unknown navigation request {other:?} ({})", x.0))),
        },
    })
}

/// `adl.nav.request_valid.*` as the run-time answers them: `continue`, `previous`, and per activity
/// `choice` (and `jump`, which the engine answers alike for delivered leaves).
fn nav_valid_json(e: &Engine) -> Value {
    let v = e.valid_requests();
    let jump: BTreeMap<String, bool> = v.choice.keys().map(|k| (k.clone(), e.jump_valid(k))).collect();
    json!({"continue": v.continue_, "previous": v.previous, "choice": v.choice, "jump": jump})
}

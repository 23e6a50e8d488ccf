//! Launch use cases: start a course module (SCORM SCO, cmi5 AU, TinCan activity) for one learner, and the
//! launch credential that goes with it.
//!
//! A launch is a row in the store and, at the same time, a short-lived credential (key = launch id) that
//! the content running in the learner's browser uses to talk xAPI. Because that credential is in the
//! learner's hands it is a [`LaunchGrant`]: one learner, one registration, one activity tree, no reading of
//! anyone else's statements (see `lrs::auth`). How the secret reaches the content depends on the format:
//! SCORM's launch page gets it in the URL fragment (never sent to a server), TinCan in the `auth` launch
//! parameter (Rustici's launch document), cmi5 from the one-time fetch URL (cmi5 §8.2).

/// The scope of a credential that may only create, inspect and revoke launches (a player or portal
/// that starts content for learners), added to the core's scopes by the LMS hooks.
pub const LAUNCH_SCOPE: &str = "launch";

use crate::xapi::view::View;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use std::sync::Arc;

use super::Lms;
use crate::lrs::auth::{random_token, AuthError, Principal, Restriction};
use crate::lrs::documents::DocParams;
use crate::lrs::error::Result;
use crate::lrs::LrsError;
pub use crate::package::url::encode_component;
use crate::package::url::encode_path;
use crate::package::Format;
use crate::results::facts::LaunchScope;
use crate::store::LaunchRow;
use crate::xapi::{agent, timestamp, Version};

/// The `name` of the authority of statements stored with a launch credential (its account names the
/// launch), by which results maintenance finds the launch a stored statement came from.
pub const LAUNCH_AUTHORITY_NAME: &str = "Cairn launch";

/// Session states after which a launch credential has nothing left to do with documents: the content's
/// session is over (a suspended SCORM attempt resumes under a new launch), or an admin revoked it.
const ENDED: [&str; 4] = ["suspended", "terminated", "abandoned", "revoked"];

/// How long a launch credential lives: a working day, long enough for a long sitting, short enough that a
/// leaked credential soon stops working.
pub const LAUNCH_TTL_US: i64 = 8 * 3600 * 1_000_000;

pub use crate::xapi::vocab::verbs;

/// `POST /api/launches` and `cairn launch`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaunchRequest {
    /// Course IRI.
    pub course: String,
    /// Module (SCO item, AU, activity) id within the course.
    pub module: String,
    /// xAPI Agent, or a `mailto:` IRI as shorthand.
    pub learner: Value,
    /// Reuse this registration (UUID) instead of Cairn's choice.
    #[serde(default)]
    pub registration: Option<String>,
    /// `Normal` (default), `Browse` or `Review`.
    #[serde(default)]
    pub mode: Option<String>,
    /// Course version number (default: the latest).
    #[serde(default)]
    pub version: Option<i64>,
    /// cmi5 `returnURL`: where the AU sends the learner when it exits.
    #[serde(default, rename = "returnURL", alias = "return_url")]
    pub return_url: Option<String>,
}

/// A created launch, as answered to the caller.
#[derive(Debug, Clone, Serialize)]
pub struct LaunchView {
    pub id: String,
    /// Open this in the learner's browser. It carries the launch credential (or the way to get it).
    pub url: String,
    pub registration: String,
    pub session_id: String,
    pub format: String,
    pub course: String,
    pub version_id: String,
    pub module: String,
    /// The module's xAPI activity id.
    pub activity_id: String,
    pub learner: Value,
    pub launch_mode: String,
    /// SCORM: `ab-initio` for a new attempt, `resume` when continuing a suspended one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    pub expires_at: String,
}

fn bad(msg: impl Into<String>) -> LrsError {
    LrsError::BadRequest(msg.into())
}

pub(crate) fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Appends `name=value` pairs to a URL, before any fragment.
pub fn with_params(url: &str, params: &[(&str, String)]) -> String {
    let (base, frag) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let mut out = base.to_string();
    for (i, (k, v)) in params.iter().enumerate() {
        let sep = if i == 0 && !base.contains('?') { '?' } else { '&' };
        out.push(sep);
        out.push_str(k);
        out.push('=');
        out.push_str(&encode_component(v));
    }
    if let Some(f) = frag {
        out.push('#');
        out.push_str(f);
    }
    out
}

use timestamp::format_us;

/// An ISO 8601 duration for a span of microseconds (seconds with two decimals, as SCORM and cmi5 use).
pub fn duration_of(us: i64) -> String {
    let cs = us.max(0) / 10_000;
    let (h, rest) = (cs / 360_000, cs % 360_000);
    let (m, rest) = (rest / 6000, rest % 6000);
    format!("PT{h}H{m}M{}.{:02}S", rest / 100, rest % 100)
}

/// The format name launches use.
fn launch_format(f: &Format) -> Result<&'static str> {
    Ok(match f {
        Format::Scorm12 => "scorm12",
        Format::Scorm2004 { .. } => "scorm2004",
        Format::Cmi5 => "cmi5",
        Format::TinCan => "tincan",
        Format::Aicc => {
            return Err(bad("AICC content talks HACP to an LMS, which Cairn does not serve; it cannot be launched"))
        }
    })
}

/// The credential's activity tree: the module's activity, plus the course activity for TinCan (whose
/// content commonly reports against the course activity it was launched as part of).
pub(crate) fn tree_roots(l: &LaunchRow) -> Vec<String> {
    let mut roots = vec![l.activity_id.clone()];
    if l.format == "tincan" && l.course_id != l.activity_id {
        roots.push(l.course_id.clone());
    }
    roots
}

impl Lms {
    /// The learner as an xAPI Agent: an agent object (validated), or a `mailto:` IRI. cmi5 requires an
    /// `account` actor (§9.2), so for cmi5 a learner without one gets an account on this LMS named by its
    /// other identifier.
    /// Also returns the key of the identifier given when the launch uses another (the cmi5 account).
    pub(super) fn learner_agent(&self, v: &Value, format: &str) -> Result<(Value, String, Option<String>)> {
        let mut agent = match v {
            Value::String(s) if s.starts_with("mailto:") => json!({"objectType": "Agent", "mbox": s}),
            Value::String(s) => return Err(bad(format!("learner must be an xAPI agent or a mailto: IRI, got {s:?}"))),
            Value::Object(_) => v.clone(),
            _ => return Err(bad("learner must be an xAPI agent object or a mailto: IRI")),
        };
        self.validator.agent(&agent, Version::V1_0_3).map_err(|e| bad(format!("learner: {e}")))?;
        if agent.get("objectType").and_then(Value::as_str) == Some("Group") {
            return Err(bad("learner must be an Agent, not a Group"));
        }
        let mut given_key = None;
        if format == "cmi5" && agent.get("account").is_none() {
            given_key = agent::key(&agent);
            let name = ["mbox", "mbox_sha1sum", "openid"]
                .iter()
                .find_map(|k| agent.get(*k).and_then(Value::as_str))
                .map(|s| s.trim_start_matches("mailto:").to_string())
                .unwrap_or_default();
            let mut a = json!({"objectType": "Agent", "account": {"homePage": self.config.public_url, "name": name}});
            if let Some(n) = agent.get("name") {
                a["name"] = n.clone();
            }
            agent = a;
        }
        if let Some(o) = agent.as_object_mut() {
            o.insert("objectType".into(), json!("Agent"));
        }
        let key = agent::key(&agent).ok_or_else(|| bad("learner must have an identifier (mbox, account, …)"))?;
        Ok((agent, key, given_key))
    }

    /// Creates a launch: picks the registration, ends sessions it replaces, issues the credential, does what
    /// the format needs before launch (cmi5: `LMS.LaunchData` and `launched`), and builds the URL.
    pub async fn create_launch(&self, req: LaunchRequest) -> Result<LaunchView> {
        let view = self.course(&req.course, req.version).await?;
        let module = view.course.modules().into_iter().find(|m| m.id == req.module).cloned().ok_or_else(|| {
            let ids: Vec<String> = view.course.modules().iter().map(|m| m.id.clone()).collect();
            LrsError::NotFound(format!(
                "course {} has no module {:?}; its modules: {}",
                view.id,
                req.module,
                ids.join(", ")
            ))
        })?;
        let format = launch_format(&view.course.format)?;
        let (actor, agent_key, given_key) = self.learner_agent(&req.learner, format)?;
        if let Some(given) = given_key {
            // The account Cairn made up for this learner is theirs: it joins their person.
            self.link_identity(&given, &agent_key).await?;
        }
        let mode = match req.mode.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("normal") => "Normal",
            Some("browse") => "Browse",
            Some("review") => "Review",
            Some(other) => return Err(bad(format!("mode must be Normal, Browse or Review, got {other:?}"))),
        };
        let activity_id = crate::results::ids::launch_activity_id(&view.id, format, &module.id);
        let now = crate::now_us();
        let previous = self.store.launches_of(&agent_key, &view.id, &module.id).await?;
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
        // SCORM: a registration is one attempt (xAPI SCORM profile), continued only after a suspend.
        // cmi5/TinCan: a registration is the learner's enrolment in the course, kept across launches.
        let mut entry = None;
        let registration = match (given, format) {
            (Some(r), "scorm12" | "scorm2004") => {
                let suspended = previous.iter().find(|l| l.registration == r).is_some_and(|l| l.state == "suspended");
                entry = Some(if suspended { "resume" } else { "ab-initio" });
                r
            }
            (Some(r), _) => r,
            (None, "scorm12" | "scorm2004") => match previous.first().filter(|l| l.state == "suspended") {
                Some(l) => {
                    entry = Some("resume");
                    l.registration.clone()
                }
                None => {
                    entry = Some("ab-initio");
                    uuid::Uuid::new_v4().to_string()
                }
            },
            (None, _) => match self.store.launches_of(&agent_key, &view.id, "").await?.first() {
                Some(l) => l.registration.clone(),
                None => uuid::Uuid::new_v4().to_string(),
            },
        };
        // Sessions of this module and registration that never ended are over now.
        for old in previous.iter().filter(|l| l.registration == registration) {
            self.abandon_session(old).await?;
        }
        let id = uuid::Uuid::new_v4().to_string();
        let secret = random_token(40);
        let fetch_token = random_token(40);
        let cmi5 = format == "cmi5";
        let row = LaunchRow {
            id: id.clone(),
            course_id: view.id.clone(),
            version_id: view.version_id.clone(),
            module_id: module.id.clone(),
            activity_id: activity_id.clone(),
            format: format.to_string(),
            actor: actor.to_string(),
            agent_key,
            registration: registration.clone(),
            launch_mode: mode.to_string(),
            session_id: uuid::Uuid::new_v4().to_string(),
            secret_sha256: (!cmi5).then(|| sha256_hex(&secret)),
            fetch_sha256: cmi5.then(|| sha256_hex(&fetch_token)),
            fetch_used: false,
            state: "launched".into(),
            created_us: now,
            expires_us: now + LAUNCH_TTL_US,
            last_activity_us: now,
        };
        self.store.insert_launch(&row).await?;
        // Launch pages and package files are the content origin's; `/xapi` is the API origin's.
        let base = self.config.public_url.trim_end_matches('/').to_string();
        let content_base = self.settings.content_url.trim_end_matches('/').to_string();
        let content_url = if module.launch_is_absolute {
            module.launch_url.clone()
        } else {
            format!("{content_base}{}{}", view.content_base, encode_path(&module.launch_url))
        };
        let auth = format!("Basic {}", basic_token(&id, &secret));
        let endpoint = format!("{base}/xapi/");
        let url = match format {
            "cmi5" => {
                self.cmi5_before_launch(&row, &module, &content_url, req.return_url.as_deref()).await?;
                with_params(
                    &content_url,
                    &[
                        ("endpoint", endpoint),
                        ("fetch", format!("{content_base}/launch/{id}/fetch?k={fetch_token}")),
                        ("actor", actor.to_string()),
                        ("registration", registration.clone()),
                        ("activityId", activity_id.clone()),
                    ],
                )
            }
            "tincan" => with_params(
                &content_url,
                &[
                    ("endpoint", endpoint),
                    ("auth", auth),
                    ("actor", actor.to_string()),
                    ("registration", registration.clone()),
                    ("activity_id", activity_id.clone()),
                ],
            ),
            // The SCORM launch page reads the credential from the fragment, which browsers never send.
            _ => format!("{content_base}/launch/{id}#token={}", encode_component(&basic_token(&id, &secret))),
        };
        Ok(LaunchView {
            id,
            url,
            registration,
            session_id: row.session_id.clone(),
            format: format.to_string(),
            course: view.id.clone(),
            version_id: view.version_id.clone(),
            module: module.id.clone(),
            activity_id,
            learner: actor,
            launch_mode: mode.to_string(),
            entry: entry.map(str::to_string),
            expires_at: format_us(row.expires_us),
        })
    }

    /// Ends a session that never terminated: cmi5 records `abandoned` for it (§9.3.6); other formats only
    /// mark it, so its credential can no longer write.
    async fn abandon_session(&self, l: &LaunchRow) -> Result<()> {
        for from in ["launched", "initialized"] {
            if self.store.set_launch_state(&l.id, from, "abandoned", l.last_activity_us).await? {
                if l.format == "cmi5" {
                    self.cmi5_abandoned(l).await?;
                }
                break;
            }
        }
        Ok(())
    }

    /// The principal of a launch credential (key = launch id), or why not.
    pub(crate) async fn launch_principal(&self, key: &str, secret: &str) -> std::result::Result<Principal, AuthError> {
        let Ok(id) = uuid::Uuid::parse_str(key) else { return Err(AuthError::Unknown) };
        let row = self.store.launch(&id.hyphenated().to_string()).await?.ok_or(AuthError::Unknown)?;
        let Some(hash) = row.secret_sha256.as_deref() else { return Err(AuthError::Unknown) };
        let given = sha256_hex(secret);
        // Compare digests without an early exit, so timing says nothing about the stored hash.
        let same =
            given.len() == hash.len() && given.bytes().zip(hash.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if !same {
            return Err(AuthError::WrongSecret);
        }
        if row.expires_us <= crate::now_us() || row.state == "revoked" {
            return Err(AuthError::Expired);
        }
        let actor: Value = serde_json::from_str(&row.actor).unwrap_or(Value::Null);
        Ok(Principal {
            key: row.id.clone(),
            name: format!("launch {}", row.id),
            scopes: Vec::new(),
            authority: json!({"objectType": "Agent", "name": LAUNCH_AUTHORITY_NAME, "account": {"homePage": self.config.public_url, "name": row.id}}),
            restricted: Some(Arc::new(Restriction {
                id: row.id.clone(),
                actor,
                agent_key: row.agent_key.clone(),
                registration: row.registration.clone(),
                roots: tree_roots(&row),
                expires_us: row.expires_us,
                // What the launch's statements may count toward (see `results::facts::LaunchScope`).
                issuer: Box::new(LaunchScope::new(&row.course_id, &tree_roots(&row))),
            })),
        })
    }

    /// The format's session rules for statements sent with a launch credential (the core has checked
    /// them against the credential's restriction: learner, registration, tree, no voiding, which cmi5
    /// §6.3 forbids to AUs). Other credentials pass.
    pub async fn check_launch_statements(&self, who: &Principal, statements: &[View<'_>]) -> Result<()> {
        let Some(g) = &who.restricted else { return Ok(()) };
        let row = self.store.launch(&g.id).await?.ok_or_else(|| LrsError::Forbidden("the launch is gone".into()))?;
        if row.state == "revoked" {
            return Err(LrsError::Forbidden("this launch was revoked".into()));
        }
        let now = crate::now_us();
        let new_state = match row.format.as_str() {
            "cmi5" => self.cmi5_check(&row, statements).await?,
            "scorm12" | "scorm2004" => scorm_state(&row.state, statements)?,
            _ => None,
        };
        match new_state {
            Some(to) if to != row.state => {
                if !self.store.set_launch_state(&row.id, &row.state, to, now).await? {
                    return Err(LrsError::Conflict("the launch session changed concurrently; retry".into()));
                }
            }
            _ => self.store.touch_launch(&row.id, now).await?,
        }
        Ok(())
    }
}

/// The HTTP Basic token (`base64(key:secret)`) of a launch credential.
fn basic_token(key: &str, secret: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"))
}

/// SCORM session states from the xAPI SCORM profile's verbs, which Cairn's run-time sends: a session
/// that suspended can be resumed by the next launch; one that terminated cannot write any more.
fn scorm_state(state: &str, statements: &[View<'_>]) -> Result<Option<&'static str>> {
    let mut state = match state {
        "launched" => "launched",
        "initialized" => "initialized",
        "suspended" => "suspended",
        "terminated" => "terminated",
        _ => "abandoned",
    };
    for s in statements {
        if matches!(state, "terminated" | "suspended" | "abandoned") {
            return Err(LrsError::Forbidden(format!("this launch session is {state}; launch the module again")));
        }
        state = match s.verb {
            verbs::INITIALIZED | verbs::RESUMED => "initialized",
            verbs::SUSPENDED => "suspended",
            verbs::TERMINATED => "terminated",
            _ => state,
        };
    }
    Ok(Some(state))
}

impl Lms {
    /// A launch credential's document access lasts as long as its session, not as long as the
    /// credential (8 hours), so a terminated or revoked launch can no longer read or write the learner's
    /// State; and content never changes the LMS's `LMS.LaunchData` (cmi5 §10: the AU must not).
    pub async fn check_launch_documents(&self, who: &Principal, p: &DocParams, write: bool) -> Result<()> {
        let Some(g) = &who.restricted else { return Ok(()) };
        if write && p.doc_id.as_deref() == Some("LMS.LaunchData") {
            return Err(LrsError::Forbidden("a launch credential cannot change LMS.LaunchData".into()));
        }
        match self.store.launch(&g.id).await? {
            Some(row) if !ENDED.contains(&row.state.as_str()) => Ok(()),
            Some(row) => Err(LrsError::Forbidden(format!(
                "this launch's session is {}: its credential no longer reaches documents",
                row.state
            ))),
            None => Err(LrsError::Forbidden("the launch is gone".into())),
        }
    }

    /// Revokes a launch (`DELETE /api/launches/{id}`): its credential stops working at once on this node
    /// and within the credential cache's life on the others, whose statement and document checks read
    /// the launch's state anyway. Answers the launch as [`Lrs::launch_info`] shows it.
    pub async fn revoke_launch(&self, id: &str) -> Result<Value> {
        let not_found = || LrsError::NotFound(format!("no launch {id}"));
        let uuid = uuid::Uuid::parse_str(id).map_err(|_| not_found())?.hyphenated().to_string();
        loop {
            let row = self.store.launch(&uuid).await?.ok_or_else(not_found)?;
            if row.state == "revoked"
                || self.store.set_launch_state(&uuid, &row.state, "revoked", crate::now_us()).await?
            {
                break;
            }
        }
        self.auth.forget_restricted(&uuid);
        self.launch_info(&uuid).await
    }

    /// A launch as the admin API shows it: where the session stands (`launched`, `initialized`,
    /// `suspended`, `terminated`, `abandoned`) and when it was last active, so a player can tell whether
    /// the learner finished. Never the credential.
    pub async fn launch_info(&self, id: &str) -> Result<Value> {
        let not_found = || LrsError::NotFound(format!("no launch {id}"));
        let uuid = uuid::Uuid::parse_str(id).map_err(|_| not_found())?;
        let l = self.store.launch(&uuid.hyphenated().to_string()).await?.ok_or_else(not_found)?;
        Ok(json!({
            "id": l.id,
            "course": l.course_id,
            "version_id": l.version_id,
            "module": l.module_id,
            "activity_id": l.activity_id,
            "format": l.format,
            "learner": serde_json::from_str::<Value>(&l.actor).unwrap_or(Value::Null),
            "registration": l.registration,
            "launch_mode": l.launch_mode,
            "session_id": l.session_id,
            "state": l.state,
            "created_at": format_us(l.created_us),
            "expires_at": format_us(l.expires_us),
            "last_activity_at": format_us(l.last_activity_us),
        }))
    }

    /// What the SCORM launch page hands the run-time (`static/scorm/runtime.js`): the learner, the attempt,
    /// the SCO's URL and the CMI values the LMS initialises (SCORM 1.2 RTE 3.4, SCORM 2004 RTE 4.2).
    /// None when there is no such SCORM launch. Holds no secret: the credential stays in the URL fragment.
    pub async fn scorm_page(&self, id: &str) -> Result<Option<Value>> {
        let Ok(uuid) = uuid::Uuid::parse_str(id) else { return Ok(None) };
        let Some(l) = self.store.launch(&uuid.hyphenated().to_string()).await? else { return Ok(None) };
        if l.format != "scorm12" && l.format != "scorm2004" {
            return Ok(None);
        }
        let Some(version) = self.store.course_version(&l.version_id).await? else { return Ok(None) };
        let course: crate::package::Course =
            serde_json::from_str(&version.body).map_err(|e| bad(format!("stored course is unreadable: {e}")))?;
        let Some(module) = course.modules().into_iter().find(|m| m.id == l.module_id).cloned() else {
            return Ok(None);
        };
        // The attempt resumes when the session before this one in the same registration suspended.
        let previous = self.store.launches_of(&l.agent_key, &l.course_id, &l.module_id).await?;
        let resume = previous
            .iter()
            .filter(|p| p.registration == l.registration && p.id != l.id && p.created_us <= l.created_us)
            .max_by_key(|p| p.created_us)
            .is_some_and(|p| p.state == "suspended");
        let entry = if resume { "resume" } else { "ab-initio" };
        let actor: Value = serde_json::from_str(&l.actor).unwrap_or(Value::Null);
        let learner_id = actor
            .pointer("/account/name")
            .or_else(|| actor.get("mbox"))
            .or_else(|| actor.get("openid"))
            .or_else(|| actor.get("mbox_sha1sum"))
            .and_then(Value::as_str)
            .map(|s| s.trim_start_matches("mailto:").to_string())
            .unwrap_or_default();
        let learner_name = actor.get("name").and_then(Value::as_str).unwrap_or("").to_string();
        let mode = l.launch_mode.to_ascii_lowercase();
        let rules = &module.rules;
        let mastery_raw = match rules.mastery_score {
            Some(crate::package::MasteryScore::Raw(x)) => Some(x),
            _ => None,
        };
        let passing =
            rules.objectives.iter().find(|o| o.primary && o.satisfied_by_measure).map(|o| o.min_normalized_measure);
        let threshold = rules.completion_threshold.filter(|t| t.completed_by_measure).map(|t| t.min_progress_measure);
        let sco_url = if module.launch_is_absolute {
            module.launch_url.clone()
        } else {
            format!("/content/{}/{}", l.version_id, encode_path(&module.launch_url))
        };
        let v12 = l.format == "scorm12";
        let mut cfg = json!({
            "id": l.id,
            "version": if v12 { "1.2" } else { "2004" },
            "sco_url": sco_url,
            // The API origin: content reaches it cross-origin with the launch credential.
            "endpoint": format!("{}/xapi/", self.config.public_url.trim_end_matches('/')),
            "actor": actor,
            "registration": l.registration,
            "activity_id": l.activity_id,
            "course_id": l.course_id,
            "course_title": course.title,
            "title": module.title,
            "entry": entry,
            "init": {
                "learner_id": learner_id,
                "learner_name": learner_name,
                "credit": if mode == "normal" { "credit" } else { "no-credit" },
                "mode": mode,
                "entry": entry,
                "launch_data": module.launch_data.clone().unwrap_or_default(),
                "mastery_score": mastery_raw.map(|x| x.to_string()),
                "max_time_allowed": rules.max_time_allowed,
                // Both versions default to "continue,no message" (1.2 RTE 3.4.4.4, 2004 RTE 4.2.23).
                "time_limit_action": rules.time_limit_action.clone().unwrap_or_else(|| "continue,no message".into()),
                "completion_threshold": threshold.map(|x| x.to_string()),
                "scaled_passing_score": passing.map(|x| x.to_string()),
                "comments_from_lms": if v12 { json!("") } else { json!([]) },
            },
        });
        // Delivered by the course player: the sequencer answers `adl.nav.request_valid.*` and decides
        // whether the attempt resumes.
        if let Some(player) = self.player_runtime(&l.id, &l.registration, &l.module_id).await? {
            if let Some(entry) = player.get("entry").and_then(Value::as_str) {
                cfg["entry"] = json!(entry);
                cfg["init"]["entry"] = json!(entry);
            }
            cfg["player"] = player;
        }
        Ok(Some(cfg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_encoded_like_encode_uri_component() {
        assert_eq!(
            with_params("http://h/a b.html?x=1#f", &[("actor", "{\"n\":\"A B\"}".into())]),
            "http://h/a b.html?x=1&actor=%7B%22n%22%3A%22A%20B%22%7D#f"
        );
        assert_eq!(encode_path("My Course/sco 1.html?a=b"), "My%20Course/sco%201.html?a=b");
        assert_eq!(duration_of(3_723_450_000), "PT1H2M3.45S");
    }

    #[test]
    fn scorm_sessions_end_with_terminate_or_suspend() {
        let v = |id: &str| json!({"verb": {"id": id}});
        let states = |from: &str, list: &[Value]| {
            let views: Vec<View> = list.iter().map(View::of).collect();
            scorm_state(from, &views)
        };
        assert_eq!(states("launched", &[v(verbs::INITIALIZED)]).unwrap(), Some("initialized"));
        assert_eq!(states("initialized", &[v(verbs::SUSPENDED)]).unwrap(), Some("suspended"));
        assert!(states("terminated", &[v(verbs::COMPLETED)]).is_err());
        assert!(states("initialized", &[v(verbs::TERMINATED), v(verbs::COMPLETED)]).is_err());
    }
}

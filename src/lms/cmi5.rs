//! cmi5 (AICC/CMI-5_Spec_Current): what the LMS does around an AU launch and the rules it applies to
//! the statements an AU sends. No HTTP here: the fetch URL's handler calls [`Lrs::cmi5_fetch`].
//!
//! Before launch (§10, §9.3.1) Cairn writes the `LMS.LaunchData` State document and a `launched`
//! statement. The AU then trades the one-time fetch URL for its credential (§8.2), and every statement it
//! sends is checked against the session (§9.3: `initialized` first, nothing after `terminated`, one
//! `completed`/`passed` per registration, no `failed` after `passed`, Browse/Review record no
//! satisfaction) and the statement rules of §9.5–9.6 (session id, result properties per verb, the moveOn
//! category, masteryScore). Rejected statements are answered 403 and not stored (§6.3 lets the LMS
//! reject rather than void). A session that is replaced by a new launch before it terminated gets an
//! `abandoned` statement (§9.3.6).

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use super::launch::{duration_of, verbs};
use super::results::SatisfiedIn;
use super::Lms;
use crate::lrs::auth::Principal;
use crate::lrs::documents::{DocKind, DocParams, Preconditions, Upload};
use crate::lrs::error::Result;
use crate::lrs::LrsError;
use crate::package::{MasteryScore, Module};
use crate::store::{DocumentKey, FactLink, LaunchRow, StatementQuery};
use crate::xapi::statement::kind;
use crate::xapi::view::View;
use crate::xapi::{timestamp, Version};

pub use crate::xapi::vocab::cmi5::{
    CATEGORY_CMI5, CATEGORY_MOVEON, EXT_LAUNCH_MODE, EXT_LAUNCH_PARAMETERS, EXT_LAUNCH_URL, EXT_MASTERY, EXT_MOVE_ON,
    EXT_SESSION,
};
pub const LAUNCH_DATA: &str = "LMS.LaunchData";

/// The fetch URL's answer when it gives no token (§8.2.3): `error-code` 1 (used or expired) or 2
/// (security: unknown launch, wrong token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError {
    pub code: u8,
    pub text: String,
}

/// What the rules need to know about the AU and its registration beyond the statements themselves.
#[derive(Debug, Clone, Default)]
pub struct SessionFacts {
    /// `launched`, `initialized`, `terminated` or `abandoned`.
    pub state: String,
    pub session_id: String,
    pub au_id: String,
    /// `Normal`, `Browse` or `Review`.
    pub launch_mode: String,
    pub mastery_score: Option<f64>,
    /// Whether the registration already has a `completed` / `passed` from this AU.
    pub completed_before: bool,
    pub passed_before: bool,
    /// Whether this session already sent a cmi5 defined `failed` (§9.3: no verb twice in a session,
    /// and not both `passed` and `failed`).
    pub failed_in_session: bool,
}

fn has_category(s: &View, id: &str) -> bool {
    s.context_activities.category.contains(&id)
}

/// Applies the session and statement rules to a batch, in order; the session state after it, or why the
/// batch is rejected. Pure, so the rules are unit-tested without a store.
pub fn check_batch(facts: &SessionFacts, statements: &[&View]) -> std::result::Result<&'static str, String> {
    let mut state = match facts.state.as_str() {
        "launched" => "launched",
        "initialized" => "initialized",
        "terminated" => "terminated",
        _ => "abandoned",
    };
    let (mut completed, mut passed, mut failed) =
        (facts.completed_before, facts.passed_before, facts.failed_in_session);
    let mut used: HashSet<&str> = HashSet::new();
    for s in statements {
        let v = s.verb;
        match state {
            "terminated" => return Err("the AU session has terminated: no more statements are accepted".into()),
            "abandoned" => return Err("the AU session was abandoned: no more statements are accepted".into()),
            "launched" if v != verbs::INITIALIZED => {
                return Err("the first statement of an AU session must be \"initialized\" (cmi5 §9.3.2)".into())
            }
            _ => {}
        }
        let session = s.context_extension(EXT_SESSION).and_then(Value::as_str);
        if session != Some(facts.session_id.as_str()) {
            return Err(format!(
                "statements must carry the session id {} in context.extensions (cmi5 §9.6.3.1)",
                facts.session_id
            ));
        }
        let defined = has_category(s, CATEGORY_CMI5);
        if defined {
            check_defined(facts, s)?;
            if !used.insert(v) {
                return Err(format!("verb {v} appears twice in the session (cmi5 §9.3)"));
            }
            match v {
                verbs::COMPLETED if completed => {
                    return Err("the AU was already completed in this registration (cmi5 §9.3.3)".into())
                }
                verbs::COMPLETED => completed = true,
                verbs::PASSED if passed => {
                    return Err("the AU was already passed in this registration (cmi5 §9.3.4)".into())
                }
                verbs::PASSED if failed => return Err("a session may not both pass and fail (cmi5 §9.3)".into()),
                verbs::PASSED => passed = true,
                verbs::FAILED if passed => return Err("\"failed\" cannot follow \"passed\" (cmi5 §9.3)".into()),
                verbs::FAILED if failed => return Err("the session already failed (cmi5 §9.3)".into()),
                verbs::FAILED => failed = true,
                _ => {}
            }
        } else if v == verbs::INITIALIZED || v == verbs::TERMINATED {
            // Allowed statements may use any verb, but these two mean a session change.
            return Err(format!("{v} must be a cmi5 defined statement (with the cmi5 category)"));
        }
        state = match v {
            verbs::INITIALIZED if state == "initialized" => {
                return Err("the AU session is already initialized (cmi5 §9.3.2)".into())
            }
            verbs::INITIALIZED => "initialized",
            verbs::TERMINATED => "terminated",
            _ => state,
        };
    }
    Ok(state)
}

/// The rules of a cmi5 defined statement (§9.3–9.6).
fn check_defined(facts: &SessionFacts, s: &View) -> std::result::Result<(), String> {
    let v = s.verb;
    if !matches!(v, verbs::INITIALIZED | verbs::COMPLETED | verbs::PASSED | verbs::FAILED | verbs::TERMINATED) {
        return Err(format!("an AU cannot send cmi5 defined statements with verb {v}"));
    }
    if s.activity_id() != Some(facts.au_id.as_str()) {
        return Err(format!("cmi5 defined statements are about the AU {} (cmi5 §9.4)", facts.au_id));
    }
    if facts.launch_mode != "Normal" && matches!(v, verbs::COMPLETED | verbs::PASSED | verbs::FAILED) {
        return Err(format!("launchMode {} records no completion or success (cmi5 §10.2.2)", facts.launch_mode));
    }
    if s.has_score && !matches!(v, verbs::PASSED | verbs::FAILED) {
        return Err(format!("{v} statements must not include a score (cmi5 §9.5.1)"));
    }
    let success = s.success;
    match v {
        verbs::PASSED if success != Some(true) => return Err("passed needs result.success true (cmi5 §9.5.2)".into()),
        verbs::FAILED if success != Some(false) => return Err("failed needs result.success false (cmi5 §9.5.2)".into()),
        verbs::PASSED | verbs::FAILED => {}
        _ if s.success.is_some() => {
            return Err(format!("{v} statements must not include result.success (cmi5 §9.5.2)"))
        }
        _ => {}
    }
    match v {
        verbs::COMPLETED if s.completion != Some(true) => {
            return Err("completed needs result.completion true (cmi5 §9.5.3)".into())
        }
        verbs::COMPLETED => {}
        _ if s.completion.is_some() => {
            return Err(format!("{v} statements must not include result.completion (cmi5 §9.5.3)"))
        }
        _ => {}
    }
    if matches!(v, verbs::COMPLETED | verbs::PASSED | verbs::FAILED | verbs::TERMINATED) && s.duration.is_none() {
        return Err(format!("{v} statements must include result.duration (cmi5 §9.5.4)"));
    }
    let moveon = has_category(s, CATEGORY_MOVEON);
    let judged = matches!(v, verbs::COMPLETED | verbs::PASSED | verbs::FAILED);
    if judged != moveon {
        return Err(if judged {
            format!("{v} statements need the moveOn category (cmi5 §9.6.2.2)")
        } else {
            format!("{v} statements must not carry the moveOn category (cmi5 §9.6.2.2)")
        });
    }
    if let (Some(mastery), Some(scaled)) = (facts.mastery_score, s.score.scaled) {
        if v == verbs::PASSED && scaled < mastery {
            return Err(format!("passed with scaled score {scaled} below the masteryScore {mastery} (cmi5 §9.3.4)"));
        }
        if v == verbs::FAILED && scaled >= mastery {
            return Err(format!(
                "failed with scaled score {scaled} at or above the masteryScore {mastery} (cmi5 §9.3.5)"
            ));
        }
    }
    Ok(())
}

fn now_timestamp() -> String {
    timestamp::format_timestamp(time::OffsetDateTime::now_utc())
}

impl Lms {
    /// Cairn's own identity for what it records as the cmi5 LMS (`launched`, `abandoned`).
    fn lms_principal(&self) -> Principal {
        self.own_principal("cairn-lms")
    }

    fn launch_data_params(l: &LaunchRow) -> DocParams {
        DocParams {
            kind: DocKind::State,
            activity_id: Some(l.activity_id.clone()),
            agent_key: Some(l.agent_key.clone()),
            registration: Some(l.registration.clone()),
            doc_id: Some(LAUNCH_DATA.into()),
            since_us: None,
        }
    }

    /// The context every statement Cairn makes about a session carries (§9.6).
    fn lms_context(l: &LaunchRow, extra: Map<String, Value>) -> Value {
        let mut ext = Map::new();
        ext.insert(EXT_SESSION.into(), json!(l.session_id));
        ext.extend(extra);
        json!({
            "registration": l.registration,
            "contextActivities": {"category": [{"id": CATEGORY_CMI5}], "grouping": [{"id": l.module_id}]},
            "extensions": ext,
        })
    }

    /// Before launch: the `LMS.LaunchData` document (§10) and the `launched` statement (§9.3.1).
    pub(crate) async fn cmi5_before_launch(
        &self,
        l: &LaunchRow,
        module: &Module,
        launch_url: &str,
        return_url: Option<&str>,
    ) -> Result<()> {
        let mastery = match module.rules.mastery_score {
            Some(MasteryScore::Scaled(x)) => Some(x),
            _ => None,
        };
        let move_on = module
            .rules
            .move_on
            .map(|m| serde_json::to_value(m).unwrap_or(Value::Null))
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "NotApplicable".into());
        let mut doc = json!({
            "contextTemplate": {
                "contextActivities": {"grouping": [{"id": module.id}]},
                "extensions": {EXT_SESSION: l.session_id},
            },
            "launchMode": l.launch_mode,
            "moveOn": move_on,
        });
        if let Some(p) = &module.launch_data {
            doc["launchParameters"] = json!(p);
        }
        if let Some(m) = mastery {
            doc["masteryScore"] = json!(m);
        }
        if let Some(r) = return_url {
            doc["returnURL"] = json!(r);
        }
        if let Some(k) = &module.entitlement_key {
            doc["entitlementKey"] = json!({"courseStructure": k});
        }
        let upload = Upload { content_type: "application/json".into(), body: doc.to_string().into_bytes() };
        // 1.0.3 rules: State may be replaced without a precondition.
        self.write_document(&Self::launch_data_params(l), upload, &Preconditions::default(), false, Version::V1_0_3)
            .await?;
        let mut ext = Map::new();
        ext.insert(EXT_LAUNCH_MODE.into(), json!(l.launch_mode));
        ext.insert(EXT_LAUNCH_URL.into(), json!(launch_url));
        ext.insert(EXT_MOVE_ON.into(), json!(move_on));
        if let Some(p) = &module.launch_data {
            ext.insert(EXT_LAUNCH_PARAMETERS.into(), json!(p));
        }
        if let Some(m) = mastery {
            ext.insert(EXT_MASTERY.into(), json!(m));
        }
        // What needs no statement is satisfied at registration, before the AU is launched (§9.6.1).
        let at = SatisfiedIn {
            registration: l.registration.clone(),
            session_id: l.session_id.clone(),
            learner_key: l.agent_key.clone(),
        };
        // Results know an AU by its publisher id (`results::ids`), not the id it is launched under.
        let au = crate::results::ids::module_activity_id(&l.course_id, &l.module_id);
        let learner = FactLink { learner_key: l.agent_key.clone(), activity_id: au };
        self.cmi5_satisfied_at_registration(&at, learner).await?;
        let actor: Value = serde_json::from_str(&l.actor).unwrap_or(Value::Null);
        let launched = json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "actor": actor,
            "verb": {"id": verbs::LAUNCHED, "display": {"en-US": "launched"}},
            "object": {"objectType": "Activity", "id": l.activity_id,
                       "definition": {"name": {"en-US": module.title}}},
            "context": Self::lms_context(l, ext),
            "timestamp": now_timestamp(),
        });
        self.store_statements(&self.lms_principal(), Version::V1_0_3, vec![launched], None).await?;
        Ok(())
    }

    /// An `abandoned` statement for a session that ended without `terminated` (§9.3.6); its duration runs
    /// from the launch to the session's last statement (§9.5.4.2).
    pub(crate) async fn cmi5_abandoned(&self, l: &LaunchRow) -> Result<()> {
        let actor: Value = serde_json::from_str(&l.actor).unwrap_or(Value::Null);
        let abandoned = json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "actor": actor,
            "verb": {"id": verbs::ABANDONED, "display": {"en-US": "abandoned"}},
            "object": {"objectType": "Activity", "id": l.activity_id},
            "result": {"duration": duration_of(l.last_activity_us - l.created_us)},
            "context": Self::lms_context(l, Map::new()),
            "timestamp": now_timestamp(),
        });
        self.store_statements(&self.lms_principal(), Version::V1_0_3, vec![abandoned], None).await?;
        Ok(())
    }

    /// The fetch URL (§8.2): the first call with the right token gets the session's credential as an HTTP
    /// Basic token; every later call gets error 1.
    pub async fn cmi5_fetch(&self, launch_id: &str, token: &str) -> Result<std::result::Result<String, FetchError>> {
        let security = || FetchError { code: 2, text: "unknown launch or wrong fetch token".into() };
        let Ok(id) = uuid::Uuid::parse_str(launch_id) else { return Ok(Err(security())) };
        let id = id.hyphenated().to_string();
        let Some(row) = self.store.launch(&id).await? else { return Ok(Err(security())) };
        let expected = row.fetch_sha256.as_deref().unwrap_or("");
        if row.format != "cmi5" || expected.is_empty() || super::launch::sha256_hex(token) != expected {
            return Ok(Err(security()));
        }
        let now = crate::now_us();
        if row.expires_us <= now || row.state == "abandoned" || row.state == "terminated" {
            return Ok(Err(FetchError { code: 1, text: "the AU session has ended or expired".into() }));
        }
        let secret = crate::lrs::auth::random_token(40);
        if !self.store.issue_launch_secret(&id, &super::launch::sha256_hex(&secret), true, now).await? {
            return Ok(Err(FetchError { code: 1, text: "the authorization token has already been returned".into() }));
        }
        use base64::Engine;
        Ok(Ok(base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))))
    }

    /// Whether the registration already has a statement with this verb about the AU (voided ones aside),
    /// and whether one of them is from this session.
    async fn registration_has(&self, l: &LaunchRow, verb_id: &str) -> Result<(bool, bool)> {
        let q = StatementQuery {
            filters: vec![
                (kind::REGISTRATION, l.registration.clone()),
                (kind::VERB, verb_id.to_string()),
                (kind::ACTIVITY, l.activity_id.clone()),
            ],
            limit: 100,
            max_seq: i64::MAX,
            ..Default::default()
        };
        let found = self.store.query_statements(&q).await?;
        let in_session = found.iter().any(|s| {
            serde_json::from_str::<Value>(&s.body).ok().and_then(|b| {
                b.pointer("/context/extensions")
                    .and_then(|e| e.get(EXT_SESSION))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            }) == Some(l.session_id.clone())
        });
        Ok((!found.is_empty(), in_session))
    }

    /// Applies the session rules to statements an AU sends; the session's next state. Statements already
    /// stored (a client retrying after a lost answer) are not judged again.
    pub(crate) async fn cmi5_check(&self, l: &LaunchRow, statements: &[View<'_>]) -> Result<Option<&'static str>> {
        let ids: Vec<String> = statements.iter().filter_map(|s| s.id).map(str::to_ascii_lowercase).collect();
        let stored: HashSet<String> = self.store.statements_by_id(&ids).await?.into_iter().map(|s| s.id).collect();
        let fresh: Vec<&View> =
            statements.iter().filter(|s| !s.id.is_some_and(|id| stored.contains(&id.to_ascii_lowercase()))).collect();
        if fresh.is_empty() {
            return Ok(None);
        }
        let key = DocumentKey {
            kind: "state",
            activity_id: l.activity_id.clone(),
            agent_key: l.agent_key.clone(),
            registration: l.registration.clone(),
            doc_id: LAUNCH_DATA.into(),
        };
        let launch_data: Value =
            self.store.document(&key).await?.and_then(|d| serde_json::from_slice(&d.body).ok()).unwrap_or(Value::Null);
        let facts = SessionFacts {
            state: l.state.clone(),
            session_id: l.session_id.clone(),
            au_id: l.activity_id.clone(),
            launch_mode: l.launch_mode.clone(),
            mastery_score: launch_data.get("masteryScore").and_then(Value::as_f64),
            completed_before: self.registration_has(l, verbs::COMPLETED).await?.0,
            passed_before: self.registration_has(l, verbs::PASSED).await?.0,
            failed_in_session: self.registration_has(l, verbs::FAILED).await?.1,
        };
        check_batch(&facts, &fresh).map(Some).map_err(LrsError::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(state: &str) -> SessionFacts {
        SessionFacts {
            state: state.into(),
            session_id: "s1".into(),
            au_id: "https://example.com/au".into(),
            launch_mode: "Normal".into(),
            mastery_score: Some(0.8),
            ..Default::default()
        }
    }

    fn st(verb_id: &str, result: Value, moveon: bool) -> Value {
        let mut cats = vec![json!({"id": CATEGORY_CMI5})];
        if moveon {
            cats.push(json!({"id": CATEGORY_MOVEON}));
        }
        let mut s = json!({"verb": {"id": verb_id}, "object": {"id": "https://example.com/au"},
            "context": {"contextActivities": {"category": cats}, "extensions": {EXT_SESSION: "s1"}}});
        if !result.is_null() {
            s["result"] = result;
        }
        s
    }

    fn run(f: &SessionFacts, batch: &[&Value]) -> std::result::Result<&'static str, String> {
        let views: Vec<View> = batch.iter().map(|s| View::of(s)).collect();
        check_batch(f, &views.iter().collect::<Vec<_>>())
    }

    #[test]
    fn a_session_is_initialized_first_and_closed_by_terminated() {
        let init = st(verbs::INITIALIZED, Value::Null, false);
        let term = st(verbs::TERMINATED, json!({"duration": "PT1S"}), false);
        assert_eq!(run(&facts("launched"), &[&init]), Ok("initialized"));
        assert!(run(&facts("launched"), &[&term]).is_err());
        assert!(run(&facts("initialized"), &[&init]).is_err());
        assert_eq!(run(&facts("initialized"), &[&term]), Ok("terminated"));
        assert!(run(&facts("terminated"), &[&init]).is_err());
        assert!(run(&facts("abandoned"), &[&init]).is_err());
        assert!(run(&facts("launched"), &[&init, &term, &st(verbs::COMPLETED, Value::Null, true)]).is_err());
        // terminated needs a duration.
        assert!(run(&facts("initialized"), &[&st(verbs::TERMINATED, Value::Null, false)]).is_err());
    }

    #[test]
    fn session_id_is_required_on_every_statement() {
        let mut s = st(verbs::INITIALIZED, Value::Null, false);
        s["context"]["extensions"][EXT_SESSION] = json!("other");
        assert!(run(&facts("launched"), &[&s]).is_err());
        // Allowed statements (no cmi5 category) need it too, and may use any verb.
        let mut allowed = json!({"verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"}, "object": {"id": "x"},
            "context": {"extensions": {EXT_SESSION: "s1"}}});
        assert_eq!(run(&facts("initialized"), &[&allowed]), Ok("initialized"));
        allowed["context"]["extensions"] = json!({});
        assert!(run(&facts("initialized"), &[&allowed]).is_err());
    }

    #[test]
    fn results_match_their_verbs() {
        let f = facts("initialized");
        let ok_completed = st(verbs::COMPLETED, json!({"completion": true, "duration": "PT1S"}), true);
        assert!(run(&f, &[&ok_completed]).is_ok());
        assert!(run(&f, &[&st(verbs::COMPLETED, json!({"completion": true, "duration": "PT1S"}), false)]).is_err());
        assert!(run(&f, &[&st(verbs::COMPLETED, json!({"completion": false, "duration": "PT1S"}), true)]).is_err());
        assert!(run(
            &f,
            &[&st(verbs::COMPLETED, json!({"completion": true, "duration": "PT1S", "score": {"scaled": 1}}), true)]
        )
        .is_err());
        let passed = |scaled: f64| {
            st(verbs::PASSED, json!({"success": true, "duration": "PT1S", "score": {"scaled": scaled}}), true)
        };
        let failed = |scaled: f64| {
            st(verbs::FAILED, json!({"success": false, "duration": "PT1S", "score": {"scaled": scaled}}), true)
        };
        assert!(run(&f, &[&passed(0.9)]).is_ok());
        assert!(run(&f, &[&passed(0.5)]).is_err(), "below masteryScore");
        assert!(run(&f, &[&failed(0.5)]).is_ok());
        assert!(run(&f, &[&failed(0.9)]).is_err(), "at or above masteryScore");
        assert!(run(&f, &[&passed(0.9), &failed(0.5)]).is_err());
        assert!(run(&f, &[&failed(0.5), &failed(0.4)]).is_err());
        let mut failed_once = facts("initialized");
        failed_once.failed_in_session = true;
        assert!(run(&failed_once, &[&failed(0.4)]).is_err(), "failed twice in a session");
        assert!(run(&failed_once, &[&passed(0.9)]).is_err(), "passed after failed in a session");
        assert!(run(&f, &[&ok_completed, &ok_completed]).is_err());
        let mut before = facts("initialized");
        before.completed_before = true;
        before.passed_before = true;
        assert!(run(&before, &[&ok_completed]).is_err(), "one completed per registration");
        assert!(run(&before, &[&passed(0.9)]).is_err(), "one passed per registration");
        assert!(run(&before, &[&failed(0.1)]).is_err(), "no failed after passed");
        let mut browse = facts("initialized");
        browse.launch_mode = "Browse".into();
        assert!(run(&browse, &[&passed(0.9)]).is_err());
        // Another object, or an LMS verb, is not the AU's to send.
        let mut other = st(verbs::INITIALIZED, Value::Null, false);
        other["object"]["id"] = json!("https://example.com/other");
        assert!(run(&facts("launched"), &[&other]).is_err());
        assert!(run(&f, &[&st(verbs::SATISFIED, Value::Null, false)]).is_err());
    }
}

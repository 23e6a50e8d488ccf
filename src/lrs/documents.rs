//! Document use cases: State, Activity Profile and Agent Profile. Documents keep their exact bytes and
//! Content-Type; JSON documents merge on POST; writes honour `If-Match`/`If-None-Match` inside the
//! store's transaction, so concurrent writers never lose an update.

use std::collections::HashSet;

use serde_json::Value;
use sha1::{Digest, Sha1};

use super::auth::Principal;
use super::error::Result;
use super::{Lrs, LrsError};
use crate::store::{Document, DocumentChange, DocumentKey};
use crate::xapi::validate::{MAX_ID_BYTES, MAX_IRI_BYTES};
use crate::xapi::{timestamp, Version};

/// The three document resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    State,
    ActivityProfile,
    AgentProfile,
}

impl DocKind {
    fn table_kind(self) -> &'static str {
        match self {
            DocKind::State => "state",
            DocKind::ActivityProfile => "activity_profile",
            DocKind::AgentProfile => "agent_profile",
        }
    }

    /// The parameter naming one document.
    pub fn id_param(self) -> &'static str {
        match self {
            DocKind::State => "stateId",
            _ => "profileId",
        }
    }

    fn allowed(self) -> &'static [&'static str] {
        match self {
            DocKind::State => &["activityId", "agent", "registration", "stateId", "since"],
            DocKind::ActivityProfile => &["activityId", "profileId", "since"],
            DocKind::AgentProfile => &["agent", "profileId", "since"],
        }
    }
}

/// The HTTP method, for the parameter rules (which parameters each method requires).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocMethod {
    Get,
    Put,
    Post,
    Delete,
}

/// Parsed and checked document parameters.
#[derive(Debug, Clone)]
pub struct DocParams {
    pub kind: DocKind,
    pub activity_id: Option<String>,
    pub agent_key: Option<String>,
    pub registration: Option<String>,
    pub doc_id: Option<String>,
    pub since_us: Option<i64>,
}

/// Request preconditions (`If-Match`, `If-None-Match`), values as sent.
#[derive(Debug, Clone, Default)]
pub struct Preconditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
}

/// A document body as sent by the client.
#[derive(Debug, Clone)]
pub struct Upload {
    pub content_type: String,
    pub body: Vec<u8>,
}

/// The ETag of a document: the quoted SHA-1 of its bytes (what 1.0.3 clients expect).
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(Sha1::digest(body)))
}

fn is_json(content_type: &str) -> bool {
    content_type.split(';').next().map(|m| m.trim().eq_ignore_ascii_case("application/json")).unwrap_or(false)
}

fn bad(msg: impl Into<String>) -> LrsError {
    LrsError::BadRequest(msg.into())
}

/// Whether an entity tag list (`If-Match`/`If-None-Match` value) names `etag`; `*` names any.
fn tag_matches(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|t| t == "*" || t == etag || t.strip_prefix("W/") == Some(etag))
}

impl Lrs {
    /// Whether `who` may use the document `p`: the principal's own limits, then, for a restricted
    /// credential, the guard's (a launch's document access lasts as long as its session).
    pub async fn check_document_access(&self, who: &Principal, p: &DocParams, write: bool) -> Result<()> {
        who.check_document(p, write)?;
        match (&who.restricted, &self.hooks) {
            (Some(_), Some(h)) => h.check_documents(self, who, p, write).await,
            _ => Ok(()),
        }
    }

    /// Checks a document request's parameters: no unknown or repeated ones, the required ones present
    /// and well-formed for this method.
    pub fn parse_doc_params(
        &self,
        kind: DocKind,
        params: &[(String, String)],
        method: DocMethod,
        version: Version,
    ) -> Result<DocParams> {
        let mut seen = HashSet::new();
        let mut p =
            DocParams { kind, activity_id: None, agent_key: None, registration: None, doc_id: None, since_us: None };
        for (k, v) in params {
            if !kind.allowed().contains(&k.as_str()) {
                return Err(bad(format!(
                    "unknown parameter {k:?} for this resource; allowed: {}",
                    kind.allowed().join(", ")
                )));
            }
            if !seen.insert(k.as_str()) {
                return Err(bad(format!("parameter {k} given more than once")));
            }
            match k.as_str() {
                "activityId" => {
                    if v.len() > MAX_IRI_BYTES {
                        return Err(bad(format!(
                            "parameter activityId is {} bytes, longer than the {MAX_IRI_BYTES} allowed for an IRI",
                            v.len()
                        )));
                    }
                    iri_string::types::IriStr::new(v)
                        .map_err(|_| bad(format!("parameter activityId must be an IRI, got {v:?}")))?;
                    p.activity_id = Some(v.clone());
                }
                "agent" => {
                    let (agent, key) = self.parse_agent_param("agent", v, version)?;
                    if agent.get("objectType").and_then(Value::as_str) == Some("Group") && kind != DocKind::State {
                        return Err(bad("parameter agent must be an Agent, not a Group, for agent profiles"));
                    }
                    p.agent_key = Some(key);
                }
                "registration" => {
                    let u = uuid::Uuid::parse_str(v)
                        .ok()
                        .filter(|_| v.len() == 36)
                        .ok_or_else(|| bad(format!("parameter registration must be a UUID, got {v:?}")))?;
                    p.registration = Some(u.hyphenated().to_string());
                }
                "stateId" | "profileId" if v.len() > MAX_ID_BYTES => {
                    return Err(bad(format!(
                        "parameter {k} is {} bytes, longer than the {MAX_ID_BYTES} allowed for an identifier",
                        v.len()
                    )));
                }
                "stateId" | "profileId" => p.doc_id = Some(v.clone()),
                "since" => {
                    let t = timestamp::parse_timestamp(v).map_err(|e| bad(format!("parameter since: {e}")))?;
                    p.since_us = Some((t.unix_timestamp_nanos() / 1000) as i64);
                }
                _ => {}
            }
        }
        if kind != DocKind::AgentProfile && p.activity_id.is_none() {
            return Err(bad("parameter activityId is required"));
        }
        if kind != DocKind::ActivityProfile && p.agent_key.is_none() {
            return Err(bad("parameter agent is required"));
        }
        let id_required = match kind {
            DocKind::State => matches!(method, DocMethod::Put | DocMethod::Post),
            _ => matches!(method, DocMethod::Put | DocMethod::Post | DocMethod::Delete),
        };
        if id_required && p.doc_id.is_none() {
            return Err(bad(format!("parameter {} is required", kind.id_param())));
        }
        if p.since_us.is_some() && (method != DocMethod::Get || p.doc_id.is_some()) {
            return Err(bad(format!(
                "parameter since only applies when listing ids (GET without {})",
                kind.id_param()
            )));
        }
        Ok(p)
    }

    fn doc_key(p: &DocParams) -> DocumentKey {
        DocumentKey {
            kind: p.kind.table_kind(),
            activity_id: p.activity_id.clone().unwrap_or_default(),
            agent_key: p.agent_key.clone().unwrap_or_default(),
            registration: p.registration.clone().unwrap_or_default(),
            doc_id: p.doc_id.clone().unwrap_or_default(),
        }
    }

    /// One document, or None.
    pub async fn document(&self, p: &DocParams) -> Result<Option<Document>> {
        Ok(self.store.document(&Self::doc_key(p)).await?)
    }

    /// The ids of the documents under the parameters (all registrations when none is given for State).
    pub async fn document_ids(&self, p: &DocParams) -> Result<Vec<String>> {
        let mut key = Self::doc_key(p);
        if p.kind == DocKind::State && p.registration.is_none() {
            key.registration = crate::store::ANY_REGISTRATION.into();
        }
        Ok(self.store.document_ids(&key, p.since_us).await?)
    }

    /// PUT (replace) or POST (merge JSON objects) one document under the preconditions.
    pub async fn write_document(
        &self,
        p: &DocParams,
        upload: Upload,
        pre: &Preconditions,
        merge: bool,
        version: Version,
    ) -> Result<()> {
        // JSON documents are checked by the streaming pre-pass, never parsed into a `Value` to find
        // out whether they are JSON: stored as bytes, any size the body limit allows; merged (parsed
        // in full), within the statement bounds.
        let limits = self.config.json_limits;
        let merge_limits = limits;
        let store_limits = crate::xapi::json::JsonLimits {
            max_value_bytes: usize::MAX,
            max_elements: usize::MAX,
            max_request_elements: usize::MAX,
            ..limits
        };
        if is_json(&upload.content_type) {
            let l = if merge { &merge_limits } else { &store_limits };
            crate::xapi::json::check(&upload.body, l, "the document").map_err(|e| match e {
                crate::xapi::json::JsonError::Syntax { .. } => {
                    bad(format!("the document is declared application/json but is not valid JSON ({e})"))
                }
                other => other.into(),
            })?;
        }
        let posted_object: Option<serde_json::Map<String, Value>> = if merge {
            if !is_json(&upload.content_type) {
                return Err(bad("POST merges JSON documents: the posted document must be application/json"));
            }
            match serde_json::from_slice::<Value>(&upload.body) {
                Ok(Value::Object(o)) => Some(o),
                _ => return Err(bad("POST merges JSON documents: the posted document must be a JSON object")),
            }
        } else {
            None
        };
        let kind = p.kind;
        let pre = pre.clone();
        let now = crate::now_us();
        let strict_create = self.config.profile_create_needs_precondition;
        let outcome = self
            .store
            .modify_document(&Self::doc_key(p), move |current| {
                if let Err(e) = check_preconditions(current.as_ref(), &pre, kind, merge, version, strict_create) {
                    return (DocumentChange::Keep, Err(e));
                }
                let new = match (posted_object, current) {
                    (Some(posted), Some(existing)) => {
                        // A document stored by PUT may exceed what a merge parses; refuse rather
                        // than build its `Value`.
                        let checked = match is_json(&existing.content_type) {
                            true => crate::xapi::json::check(&existing.body, &merge_limits, "the stored document"),
                            false => Ok(()),
                        };
                        if let Err(e) = checked {
                            return (
                                DocumentChange::Keep,
                                Err(bad(format!("POST merges JSON documents: {e}; replace it with PUT instead"))),
                            );
                        }
                        let stored = serde_json::from_slice::<Value>(&existing.body).ok();
                        match (is_json(&existing.content_type), stored) {
                            (true, Some(Value::Object(mut obj))) => {
                                obj.extend(posted);
                                let body = Value::Object(obj).to_string().into_bytes();
                                Document {
                                    content_type: "application/json".into(),
                                    etag: etag_of(&body),
                                    body,
                                    updated_us: now,
                                }
                            }
                            _ => {
                                return (
                                    DocumentChange::Keep,
                                    Err(bad("POST merges JSON documents: the stored document is not a JSON object")),
                                )
                            }
                        }
                    }
                    _ => Document {
                        content_type: upload.content_type,
                        etag: etag_of(&upload.body),
                        body: upload.body,
                        updated_us: now,
                    },
                };
                (DocumentChange::Put(new), Ok(()))
            })
            .await?;
        outcome
    }

    /// DELETE one document (204 whether or not it existed) under the preconditions.
    pub async fn delete_document(&self, p: &DocParams, pre: &Preconditions, version: Version) -> Result<()> {
        if p.doc_id.is_none() {
            let mut key = Self::doc_key(p);
            if p.registration.is_none() {
                key.registration = crate::store::ANY_REGISTRATION.into();
            }
            self.store.delete_documents(&key).await?;
            return Ok(());
        }
        let kind = p.kind;
        let pre = pre.clone();
        self.store
            .modify_document(&Self::doc_key(p), move |current| {
                if current.is_none() {
                    return (DocumentChange::Keep, Ok(()));
                }
                match check_delete_preconditions(current.as_ref(), &pre, kind, version) {
                    Ok(()) => (DocumentChange::Delete, Ok(())),
                    Err(e) => (DocumentChange::Keep, Err(e)),
                }
            })
            .await?
    }
}

/// The concurrency rules for PUT/POST (xAPI 1.0.3 §3.1, 2.0 §4.1.4):
/// - `If-Match` must name the current ETag (`*`: the document must exist), else 412;
/// - `If-None-Match: *` requires the document to be absent, else 412;
/// - a PUT without either header over an existing document is 409 for the profiles (and for State in
///   2.0);
/// - a PUT creating a profile without either header is accepted: the rule asks a precondition only when
///   the document exists, and stock clients (PyPI `tincan`) create profiles that way. `strict_create`
///   (`--profile-create-needs-precondition`) refuses it under 1.0.x with 400, which the ADL 1.0.3 suite
///   checks (XAPI-00273, Activity Profile "fails without ETag header"); its 2.0 suite no longer does.
///
/// It runs inside the store's transaction on the document's key (SQLite's single writer, a PostgreSQL
/// advisory lock), so of two header-less PUTs racing to create one profile the first creates it and the
/// second then finds it existing: 409, never a silent overwrite.
fn check_preconditions(
    current: Option<&Document>,
    pre: &Preconditions,
    kind: DocKind,
    merge: bool,
    version: Version,
    strict_create: bool,
) -> Result<()> {
    if let Some(m) = &pre.if_match {
        match current {
            Some(d) if tag_matches(m, &d.etag) => {}
            _ => {
                return Err(LrsError::PreconditionFailed(format!(
                    "If-Match {m} does not match the document's current ETag"
                )))
            }
        }
    }
    if let Some(n) = &pre.if_none_match {
        if let Some(d) = current {
            if tag_matches(n, &d.etag) {
                return Err(LrsError::PreconditionFailed(format!("If-None-Match {n}: the document already exists")));
            }
        }
    }
    let unconditional = pre.if_match.is_none() && pre.if_none_match.is_none();
    if unconditional && !merge {
        let strict = kind != DocKind::State || version.is_v2();
        match current {
            Some(_) if strict => {
                return Err(LrsError::Conflict(
                    "the document exists: send If-Match with its ETag (or If-None-Match: *) to overwrite it".into(),
                ))
            }
            None if strict_create && kind != DocKind::State && !version.is_v2() => {
                return Err(bad(
                    "this LRS wants If-None-Match: * (or If-Match) on a PUT creating a profile document under \
                     xAPI 1.0.x (--profile-create-needs-precondition, as the ADL 1.0.3 conformance suite checks)",
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_delete_preconditions(
    current: Option<&Document>,
    pre: &Preconditions,
    _kind: DocKind,
    _version: Version,
) -> Result<()> {
    if let (Some(m), Some(d)) = (&pre.if_match, current) {
        if !tag_matches(m, &d.etag) {
            return Err(LrsError::PreconditionFailed(format!(
                "If-Match {m} does not match the document's current ETag"
            )));
        }
    }
    if let (Some(n), Some(d)) = (&pre.if_none_match, current) {
        if tag_matches(n, &d.etag) {
            return Err(LrsError::PreconditionFailed(format!("If-None-Match {n} matches the document")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(body: &str) -> Document {
        Document {
            content_type: "application/json".into(),
            body: body.into(),
            etag: etag_of(body.as_bytes()),
            updated_us: 0,
        }
    }

    #[test]
    fn etag_is_a_quoted_sha1() {
        let e = etag_of(b"abc");
        assert_eq!(e, "\"a9993e364706816aba3e25717850c26c9cd0d89d\"");
    }

    #[test]
    fn if_match_must_name_the_current_etag() {
        let d = doc("{}");
        let pre = Preconditions { if_match: Some("\"nope\"".into()), if_none_match: None };
        assert!(matches!(
            check_preconditions(Some(&d), &pre, DocKind::State, false, Version::V1_0_3, false),
            Err(LrsError::PreconditionFailed(_))
        ));
        let pre = Preconditions { if_match: Some(d.etag.clone()), if_none_match: None };
        assert!(check_preconditions(Some(&d), &pre, DocKind::State, false, Version::V1_0_3, false).is_ok());
    }

    #[test]
    fn if_none_match_star_requires_absence() {
        let pre = Preconditions { if_match: None, if_none_match: Some("*".into()) };
        assert!(check_preconditions(None, &pre, DocKind::ActivityProfile, false, Version::V1_0_3, false).is_ok());
        assert!(check_preconditions(Some(&doc("{}")), &pre, DocKind::ActivityProfile, false, Version::V1_0_3, false)
            .is_err());
    }

    #[test]
    fn unconditional_put_over_a_profile_is_409_and_state_only_in_2_0() {
        let none = Preconditions::default();
        let d = doc("{}");
        assert!(matches!(
            check_preconditions(Some(&d), &none, DocKind::AgentProfile, false, Version::V1_0_3, false),
            Err(LrsError::Conflict(_))
        ));
        assert!(check_preconditions(Some(&d), &none, DocKind::State, false, Version::V1_0_3, false).is_ok());
        assert!(matches!(
            check_preconditions(Some(&d), &none, DocKind::State, false, Version::V2_0_0, false),
            Err(LrsError::Conflict(_))
        ));
        assert!(check_preconditions(None, &none, DocKind::State, false, Version::V2_0_0, false).is_ok());
    }

    #[test]
    fn a_first_profile_put_needs_no_precondition_unless_configured_for_the_1_0_3_suite() {
        let none = Preconditions::default();
        for kind in [DocKind::AgentProfile, DocKind::ActivityProfile] {
            for v in [Version::V1_0_3, Version::V2_0_0] {
                assert!(check_preconditions(None, &none, kind, false, v, false).is_ok());
            }
            assert!(matches!(
                check_preconditions(None, &none, kind, false, Version::V1_0_3, true),
                Err(LrsError::BadRequest(_))
            ));
            assert!(check_preconditions(None, &none, kind, false, Version::V2_0_0, true).is_ok());
        }
    }
}

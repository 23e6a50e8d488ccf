//! xAPI statement validation for xAPI 1.0.3 and xAPI 2.0 (IEEE 9274.1.1).
//!
//! Validation runs in two passes over a statement exactly as the client sent it:
//!
//! 1. A JSON Schema (`schemas/xapi-statement.json`, compiled once in [`Validator::new`]) checks the
//!    structure: types, required and unknown properties (case-sensitive), `null`s, enumerations, and
//!    value syntax through the `xapi-*` formats registered here (IRI, UUID, timestamp, duration,
//!    language tag, mailto, media type, hashes).
//! 2. A single walk in code checks what a schema states badly or not at all: exactly one inverse
//!    functional identifier, group membership, score ranges, interaction components, `revision` and
//!    `platform` only with Activity objects, authority shape, voiding, the `version` property and the
//!    differences between 1.0.3 and 2.0.
//!
//! The fast path (a valid statement) allocates nothing for error reporting: the schema is asked for a
//! boolean first and the walk carries its position as a borrowed linked list of path segments that
//! is only rendered into a string when a rule fails.
//!
//! Version-dependent rules (everything else is identical for 1.0.3 and 2.0):
//! * `version` property: 1.0.3 requests accept `1.0`/`1.0.x`; 2.0 requests also accept `2.0`/`2.0.x`.
//! * `context.contextAgents` and `context.contextGroups` exist only in 2.0; a 1.0.3 request carrying
//!   them is refused as having unknown properties.
//!
//! Error paths are dotted from a root name (`statement` or `agent`), with `[n]` for array indexes and
//! `["key"]` for keys that are not plain identifiers (extension IRIs, language tags), e.g.
//! `statement.context.contextActivities.parent[0].id`. For a batch, callers may replace the leading
//! `statement` with `statement[3]` (see [`ValidationError::in_batch`]).

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::xapi::duration::parse_duration;
use crate::xapi::timestamp::parse_timestamp;
use crate::xapi::version::Version;

/// Why a statement or agent was refused: where (`path`) and which rule (`message`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ValidationError {
    /// Where the rule failed, e.g. `statement.context.contextActivities.parent[0].id`.
    pub path: String,
    /// Which rule failed, readable by the client that sent the statement.
    pub message: String,
}

impl ValidationError {
    fn new(path: String, message: impl Into<String>) -> Self {
        ValidationError { path, message: message.into() }
    }

    /// Re-roots a `statement…` path at `statement[index]…` so errors in a batch name the statement.
    pub fn in_batch(mut self, index: usize) -> Self {
        if let Some(rest) = self.path.strip_prefix("statement") {
            self.path = format!("statement[{index}]{rest}");
        }
        self
    }
}

/// Longest IRI (activity and verb ids, extension keys, openid, homePage, mbox, types, moreInfo,
/// fileUrl), in bytes. IRIs are index keys, and a PostgreSQL btree entry must stay under 2,704
/// bytes: the widest ones join an agent key (an account's homePage and name) with an activity id
/// (results) or with an activity id and document id (documents). 1 KiB is far above real ids.
pub const MAX_IRI_BYTES: usize = 1024;
/// Longest account name, interaction component id, and State/profile document id, in bytes.
pub const MAX_ID_BYTES: usize = 256;
/// Longest value echoed in an error message.
const SHOWN_CHARS: usize = 80;

use super::vocab::verbs::VOIDED;

/// Compiled schemas; build once and share (it is `Send + Sync`).
pub struct Validator {
    statement: jsonschema::Validator,
    agent: jsonschema::Validator,
}

impl Default for Validator {
    fn default() -> Self {
        Self::new()
    }
}

impl Validator {
    /// Compiles the built-in schemas. A failure here is a bug in Cairn's own schema file, never a
    /// client's fault, so it panics.
    #[allow(clippy::expect_used)]
    pub fn new() -> Validator {
        let doc: Value = serde_json::from_str(include_str!("../../schemas/xapi-statement.json"))
            .expect("schemas/xapi-statement.json is valid JSON");
        let statement = options().build(&doc).expect("the statement schema compiles");
        // The agent-parameter schema reuses the same definitions with a different root.
        let mut agent_doc = doc.clone();
        if let Some(root) = agent_doc.as_object_mut() {
            root.insert("$ref".into(), Value::String("#/$defs/actor".into()));
        }
        let agent = options().build(&agent_doc).expect("the agent schema compiles");
        Validator { statement, agent }
    }

    /// Validates a statement exactly as a client sent it (it may or may not carry `id`, `stored`,
    /// `authority`, `version` or `timestamp`), under the rules of the request's xAPI `version`.
    /// Answers the statement's typed view (`xapi::view`), which later layers read instead of its JSON.
    pub fn statement<'a>(&self, stmt: &'a Value, version: Version) -> Result<super::view::View<'a>, ValidationError> {
        let root = Path::root("statement");
        if !self.statement.is_valid(stmt) {
            return Err(self.schema_error(&self.statement, stmt, "statement"));
        }
        match stmt.as_object() {
            Some(s) => check_statement(s, version, &root, true).map(|()| super::view::View::of(stmt)),
            None => Err(ValidationError::new(root.render(), "must be an object")),
        }
    }

    /// Validates an Agent or Group given as a request parameter (`agent=` on GET /statements, the
    /// State and Agent Profile resources, GET /agents). The same rules as inside statements apply
    /// (Data 2.2: parameters validate to the standards of the same types in statements).
    pub fn agent(&self, agent: &Value, version: Version) -> Result<(), ValidationError> {
        let _ = version; // Agent rules are identical in 1.0.3 and 2.0.
        let root = Path::root("agent");
        if !self.agent.is_valid(agent) {
            return Err(self.schema_error(&self.agent, agent, "agent"));
        }
        match agent.as_object() {
            Some(a) => check_actor(a, &root),
            None => Err(ValidationError::new(root.render(), "must be an object")),
        }
    }

    /// Turns the first schema violation into a readable [`ValidationError`]. Only runs on the error
    /// path, so it may allocate freely.
    fn schema_error(&self, schema: &jsonschema::Validator, instance: &Value, root: &str) -> ValidationError {
        match schema.validate(instance) {
            Ok(()) => ValidationError::new(root.to_string(), "is invalid"),
            Err(e) => describe_schema_error(root, &e),
        }
    }
}

/// Schema options with Cairn's xAPI value formats. Formats are asserted (not just annotations), and
/// the crate's built-in `date-time`/`duration` are not used because they disagree with xAPI.
fn options() -> jsonschema::ValidationOptions<'static> {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .with_format("xapi-iri", is_absolute_iri)
        .with_format("xapi-uuid", is_uuid)
        .with_format("xapi-timestamp", |s: &str| parse_timestamp(s).is_ok())
        .with_format("xapi-duration", |s: &str| parse_duration(s).is_ok())
        .with_format("xapi-language-tag", is_language_tag)
        .with_format("xapi-mailto", is_mailto)
        .with_format("xapi-sha1", |s: &str| s.len() == 40 && is_hex(s))
        .with_format("xapi-sha2", |s: &str| matches!(s.len(), 56 | 64 | 96 | 128) && is_hex(s))
        .with_format("xapi-media-type", is_media_type)
        .with_format("xapi-id", |s: &str| s.len() <= MAX_ID_BYTES)
}

// ---------------------------------------------------------------------------------------------
// Value syntax (used as schema formats)
// ---------------------------------------------------------------------------------------------

/// An absolute IRI (RFC 3987) with a scheme; a fragment is allowed. IRLs (moreInfo, homePage,
/// fileUrl) use the same check, as the spec only requires them to be IRIs that can be resolved.
fn is_absolute_iri(s: &str) -> bool {
    s.len() <= MAX_IRI_BYTES && iri_string::types::IriStr::new(s).is_ok()
}

/// The standard hyphenated UUID form (8-4-4-4-12 hex digits), any version or variant (Data 4.4).
fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A well-formed RFC 5646 language tag (the spec requires at least token-length validation).
fn is_language_tag(s: &str) -> bool {
    s.len() <= 255 && oxilangtag::LanguageTag::parse(s).is_ok()
}

/// `mailto:` followed by an address with a non-empty local part and domain, forming a valid IRI.
fn is_mailto(s: &str) -> bool {
    let Some(addr) = s.strip_prefix("mailto:") else {
        return false;
    };
    match addr.rsplit_once('@') {
        Some((local, domain)) => !local.is_empty() && !domain.is_empty() && !domain.contains('@') && is_absolute_iri(s),
        None => false,
    }
}

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// An Internet media type (RFC 2046): `type/subtype` of RFC 2045 tokens, optionally followed by
/// `; name=value` parameters.
fn is_media_type(s: &str) -> bool {
    if s.len() > 255 {
        return false;
    }
    fn token(t: &str) -> bool {
        !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
    }
    let mut parts = s.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    let Some((ty, sub)) = essence.split_once('/') else {
        return false;
    };
    token(ty)
        && token(sub)
        && parts.all(|p| match p.trim().split_once('=') {
            Some((name, value)) => token(name.trim()) && !value.trim().is_empty(),
            None => false,
        })
}

// ---------------------------------------------------------------------------------------------
// Lazy paths
// ---------------------------------------------------------------------------------------------

/// A position in the document, as a borrowed list from leaf to root; rendered only on error.
struct Path<'a> {
    seg: Seg<'a>,
    parent: Option<&'a Path<'a>>,
}

#[derive(Clone, Copy)]
enum Seg<'a> {
    Root(&'a str),
    Key(&'a str),
    Index(usize),
}

impl<'a> Path<'a> {
    fn root(name: &'a str) -> Self {
        Path { seg: Seg::Root(name), parent: None }
    }
    fn key(&'a self, k: &'a str) -> Path<'a> {
        Path { seg: Seg::Key(k), parent: Some(self) }
    }
    fn index(&'a self, i: usize) -> Path<'a> {
        Path { seg: Seg::Index(i), parent: Some(self) }
    }
    fn render(&self) -> String {
        let mut segs = Vec::new();
        let mut cur = Some(self);
        while let Some(p) = cur {
            segs.push(p.seg);
            cur = p.parent;
        }
        segs.reverse();
        render_segments(segs)
    }
    fn err(&self, message: impl Into<String>) -> ValidationError {
        ValidationError::new(self.render(), message)
    }
}

fn render_segments<'a>(segs: impl IntoIterator<Item = Seg<'a>>) -> String {
    let mut out = String::new();
    for seg in segs {
        match seg {
            Seg::Root(r) => out.push_str(r),
            Seg::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
            Seg::Key(k) if !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Key(k) => {
                let _ = write!(out, "[{}]", Value::String(k.to_string()));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Schema errors → readable messages
// ---------------------------------------------------------------------------------------------

fn describe_schema_error(root: &str, e: &jsonschema::ValidationError<'_>) -> ValidationError {
    use jsonschema::error::ValidationErrorKind as K;
    use jsonschema::paths::LocationSegment as L;

    let segs: Vec<L<'_>> = e.instance_path().iter().collect();
    let mut path: Vec<Seg<'_>> = Vec::with_capacity(segs.len() + 2);
    path.push(Seg::Root(root));
    for s in &segs {
        path.push(match s {
            L::Property(p) => Seg::Key(p.as_ref()),
            L::Index(i) => Seg::Index(*i),
        });
    }
    let last_key = match segs.last() {
        Some(L::Property(p)) => Some(p.as_ref()),
        _ => None,
    };
    let instance: &Value = e.instance();
    let (extra, message): (Option<String>, String) = match e.kind() {
        K::AdditionalProperties { unexpected } => {
            let name = unexpected.first().cloned().unwrap_or_default();
            // An object without objectType is read as an Activity (Data 2.4.4), so an Agent or Group
            // that forgot to say so fails on its identifying properties; say why.
            let actor_like = matches!(name.as_str(), "mbox" | "mbox_sha1sum" | "openid" | "account" | "member");
            let msg = if actor_like && instance.get("objectType").is_none() {
                "is not an Activity property; an Agent or Group used as an object must set objectType"
            } else {
                "is not an allowed property here (property names are case-sensitive)"
            };
            (Some(name), msg.into())
        }
        K::Required { property } => (property.as_str().map(str::to_string), "is required".into()),
        K::Type { kind } => {
            let expected = match kind {
                jsonschema::error::TypeKind::Single(t) => describe_type(*t).to_string(),
                jsonschema::error::TypeKind::Multiple(set) => {
                    set.iter().map(describe_type).collect::<Vec<_>>().join(" or ")
                }
            };
            if instance.is_null() {
                (None, format!("must not be null (expected {expected})"))
            } else {
                (None, format!("must be {expected}"))
            }
        }
        K::Constant { expected_value } => {
            // objectType discriminates unions; name every choice the position allows, not just
            // the fallback branch the schema ended up in.
            let parent_key = match segs.len().checked_sub(2).and_then(|i| segs.get(i)) {
                Some(L::Property(p)) => Some(p.as_ref()),
                _ => None,
            };
            let msg = match (last_key, parent_key, expected_value.as_str()) {
                (Some("objectType"), Some("object"), Some("Activity")) => {
                    "must be one of \"Activity\", \"Agent\", \"Group\", \"StatementRef\", \"SubStatement\" (case-sensitive)".to_string()
                }
                (Some("objectType"), Some("actor" | "authority" | "instructor"), Some("Agent")) => {
                    "must be \"Agent\" or \"Group\" (case-sensitive)".to_string()
                }
                _ => format!("must be {expected_value}"),
            };
            (None, msg)
        }
        K::Enum { options } => {
            let list = match options.as_array() {
                Some(a) => a.iter().map(Value::to_string).collect::<Vec<_>>().join(", "),
                None => options.to_string(),
            };
            (None, format!("must be one of {list} (case-sensitive)"))
        }
        K::Minimum { limit } | K::Maximum { limit } if last_key == Some("scaled") => {
            let _ = limit;
            (None, "must be between -1 and 1".into())
        }
        K::Minimum { limit } => (None, format!("must be at least {limit}")),
        K::Maximum { limit } => (None, format!("must be at most {limit}")),
        K::MinItems { limit } => (None, format!("must contain at least {limit} item(s)")),
        K::MinLength { .. } => (None, "must not be empty".into()),
        K::Format { format } => (None, describe_format(format, instance)),
        K::PropertyNames { error } => {
            let raw = error.instance().as_str().unwrap_or_default();
            // Long keys are named by their start only, in the path as in the message.
            let key: String = raw.chars().take(SHOWN_CHARS).collect();
            let key = if key.len() < raw.len() { format!("{key}…") } else { key };
            let shown_key = shown(error.instance());
            let msg = match error.kind() {
                K::Format { format } if format == "xapi-language-tag" => {
                    format!("language map key {shown_key} is not a valid RFC 5646 language tag")
                }
                K::Format { format } if format == "xapi-iri" && raw.len() > MAX_IRI_BYTES => {
                    format!("extension key is {} bytes, longer than the {MAX_IRI_BYTES} allowed for an IRI", raw.len())
                }
                K::Format { format } if format == "xapi-iri" => {
                    format!("extension key {shown_key} is not an absolute IRI")
                }
                _ => format!("key {shown_key} is invalid"),
            };
            (Some(key), msg)
        }
        K::FalseSchema => {
            let msg = if instance.get("objectType").and_then(Value::as_str) == Some("SubStatement") {
                "a SubStatement must not contain another SubStatement"
            } else if matches!(last_key, Some("id" | "stored" | "version" | "authority")) {
                "is not allowed in a SubStatement"
            } else {
                "is not allowed here"
            };
            (None, msg.into())
        }
        _ => (None, e.to_string()),
    };
    if let Some(k) = extra.as_deref() {
        path.push(Seg::Key(k));
    }
    ValidationError::new(render_segments(path), message)
}

fn describe_type(t: jsonschema::JsonType) -> &'static str {
    use jsonschema::JsonType as T;
    match t {
        T::Array => "an array",
        T::Boolean => "a boolean",
        T::Integer => "an integer",
        T::Null => "null",
        T::Number => "a number",
        T::Object => "an object",
        T::String => "a string",
    }
}

/// A value for an error message: JSON-quoted, cut at [`SHOWN_CHARS`] so a huge value is never echoed.
fn shown(instance: &Value) -> String {
    match instance.as_str() {
        Some(s) if s.chars().count() > SHOWN_CHARS => {
            let head: String = s.chars().take(SHOWN_CHARS).collect();
            format!("{}…", Value::String(head))
        }
        _ => instance.to_string(),
    }
}

fn describe_format(format: &str, instance: &Value) -> String {
    let s = instance.as_str().unwrap_or_default();
    let too_long =
        |limit: usize, what: &str| format!("is {} bytes, longer than the {limit} allowed for {what}", s.len());
    let instance = shown(instance);
    match format {
        "xapi-iri" | "xapi-mailto" if s.len() > MAX_IRI_BYTES => too_long(MAX_IRI_BYTES, "an IRI"),
        "xapi-id" => too_long(MAX_ID_BYTES, "an identifier"),
        "xapi-language-tag" | "xapi-media-type" if s.len() > 255 => too_long(255, "this value"),
        "xapi-iri" => {
            format!("{instance} is not an absolute IRI (a scheme such as http: is required)")
        }
        "xapi-uuid" => format!("{instance} is not a UUID in hyphenated 8-4-4-4-12 form"),
        "xapi-timestamp" => match parse_timestamp(s) {
            Err(why) => format!("not an ISO 8601 timestamp: {why}"),
            Ok(_) => "not an ISO 8601 timestamp".into(),
        },
        "xapi-duration" => match parse_duration(s) {
            Err(why) => format!("not an ISO 8601 duration: {why}"),
            Ok(_) => "not an ISO 8601 duration".into(),
        },
        "xapi-language-tag" => format!("{instance} is not a valid RFC 5646 language tag"),
        "xapi-mailto" => format!("{instance} is not a mailto: IRI with an email address"),
        "xapi-sha1" => "must be a SHA-1 hash as 40 hexadecimal digits".into(),
        "xapi-sha2" => "must be a SHA-2 hash in hexadecimal (56, 64, 96 or 128 digits)".into(),
        "xapi-media-type" => format!("{instance} is not an Internet media type (type/subtype)"),
        other => format!("does not match format {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Code rules (run only on schema-valid input, so shapes are known; missing pieces are skipped)
// ---------------------------------------------------------------------------------------------

fn obj(v: Option<&Value>) -> Option<&Map<String, Value>> {
    v.and_then(Value::as_object)
}

fn str_of<'v>(m: &'v Map<String, Value>, k: &str) -> Option<&'v str> {
    m.get(k).and_then(Value::as_str)
}

/// Statement or SubStatement (`top` is false for a SubStatement).
fn check_statement(
    s: &Map<String, Value>,
    version: Version,
    path: &Path<'_>,
    top: bool,
) -> Result<(), ValidationError> {
    if top {
        if let Some(v) = str_of(s, "version") {
            check_version_property(v, version, &path.key("version"))?;
        }
    }
    if let Some(actor) = obj(s.get("actor")) {
        check_actor(actor, &path.key("actor"))?;
    }

    let object = obj(s.get("object"));
    let object_type = object.and_then(|o| str_of(o, "objectType")).unwrap_or("Activity");
    if let Some(o) = object {
        let p = path.key("object");
        match object_type {
            "Agent" => check_agent(o, &p)?,
            "Group" => check_group(o, &p)?,
            "SubStatement" => check_statement(o, version, &p, false)?,
            "StatementRef" => {}
            _ => check_activity(o, &p)?,
        }
    }

    // Voiding (Data 2.3.2): a statement with the voided verb must target a StatementRef. Only
    // top-level statements void; a SubStatement merely describes one.
    if top {
        let verb_id = obj(s.get("verb")).and_then(|v| str_of(v, "id"));
        if verb_id == Some(VOIDED) && object_type != "StatementRef" {
            return Err(path.key("object").err(
                "a voiding statement (verb http://adlnet.gov/expapi/verbs/voided) must have a StatementRef object",
            ));
        }
    }

    if let Some(score) = obj(s.get("result")).and_then(|r| obj(r.get("score"))) {
        check_score(score, &path.key("result").key("score"))?;
    }
    if let Some(ctx) = obj(s.get("context")) {
        check_context(ctx, object_type == "Activity", version, &path.key("context"))?;
    }
    if top {
        if let Some(auth) = obj(s.get("authority")) {
            check_authority(auth, &path.key("authority"))?;
        }
    }
    Ok(())
}

/// The statement `version` property (Data 2.4.10): 1.0.3 requests accept `1.0` and `1.0.x`;
/// 2.0 requests also accept `2.0` and `2.0.x` (a 2.0 LRS still stores 1.0.x statements, and the
/// 2.0 conformance suite sends both).
fn check_version_property(v: &str, version: Version, path: &Path<'_>) -> Result<(), ValidationError> {
    let family_ok = |family: &str| match v.strip_prefix(family) {
        Some("") => true,
        Some(rest) => rest.strip_prefix('.').is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
        None => false,
    };
    let ok = family_ok("1.0") || (version.is_v2() && family_ok("2.0"));
    if ok {
        Ok(())
    } else if version.is_v2() {
        Err(path.err(format!("\"{v}\" is not a supported statement version (expected 1.0.x or 2.0.x)")))
    } else {
        Err(path.err(format!("\"{v}\" is not a supported statement version (expected 1.0.x)")))
    }
}

const IFIS: [&str; 4] = ["mbox", "mbox_sha1sum", "openid", "account"];

fn ifis_present(m: &Map<String, Value>) -> usize {
    IFIS.iter().filter(|k| m.contains_key(**k)).count()
}

fn ifi_list(m: &Map<String, Value>) -> String {
    IFIS.iter().copied().filter(|k| m.contains_key(*k)).collect::<Vec<_>>().join(", ")
}

/// Agent or Group, by `objectType`.
fn check_actor(a: &Map<String, Value>, path: &Path<'_>) -> Result<(), ValidationError> {
    if str_of(a, "objectType") == Some("Group") {
        check_group(a, path)
    } else {
        check_agent(a, path)
    }
}

/// An Agent has exactly one inverse functional identifier (Data 2.4.2.1).
fn check_agent(a: &Map<String, Value>, path: &Path<'_>) -> Result<(), ValidationError> {
    match ifis_present(a) {
        1 => Ok(()),
        0 => Err(path.err("an Agent must have exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account); found none")),
        _ => Err(path.err(format!(
            "an Agent must have exactly one inverse functional identifier; found {}",
            ifi_list(a)
        ))),
    }
}

/// A Group is identified (exactly one IFI) or anonymous (no IFI, and then a non-empty `member`
/// list); members are Agents, each with exactly one IFI (Data 2.4.2.2).
fn check_group(g: &Map<String, Value>, path: &Path<'_>) -> Result<(), ValidationError> {
    let n = ifis_present(g);
    if n > 1 {
        return Err(path.err(format!(
            "an identified Group must have exactly one inverse functional identifier; found {}",
            ifi_list(g)
        )));
    }
    let members = g.get("member").and_then(Value::as_array);
    if n == 0 && members.is_none_or(|m| m.is_empty()) {
        return Err(path
            .err("an anonymous Group (no mbox, mbox_sha1sum, openid or account) must list its members in \"member\""));
    }
    if let Some(members) = members {
        let mp = path.key("member");
        for (i, m) in members.iter().enumerate() {
            if let Some(m) = m.as_object() {
                check_agent(m, &mp.index(i))?;
            }
        }
    }
    Ok(())
}

/// Authority (Data 2.4.9): an Agent, or — for 3-legged OAuth — an anonymous Group of exactly two
/// Agents (consumer and user). Same rule in 1.0.3 and 2.0.
fn check_authority(a: &Map<String, Value>, path: &Path<'_>) -> Result<(), ValidationError> {
    if str_of(a, "objectType") != Some("Group") {
        return check_agent(a, path);
    }
    let members = a.get("member").and_then(Value::as_array);
    if ifis_present(a) != 0 || members.is_none_or(|m| m.len() != 2) {
        return Err(
            path.err("an authority Group must be an anonymous Group of exactly two Agents (OAuth consumer and user)")
        );
    }
    check_group(a, path)
}

/// Which component lists each interaction type may carry (Data 2.4.4.1, interaction components).
fn allowed_components(interaction_type: &str) -> &'static [&'static str] {
    match interaction_type {
        "choice" | "sequencing" => &["choices"],
        "likert" => &["scale"],
        "matching" => &["source", "target"],
        "performance" => &["steps"],
        _ => &[],
    }
}

const COMPONENT_LISTS: [&str; 5] = ["choices", "scale", "source", "target", "steps"];

/// Activity definition rules a schema cannot express: an interaction needs `interactionType`
/// before it may describe responses or components, component lists must match the type, and
/// component ids are distinct within a list.
fn check_activity(a: &Map<String, Value>, path: &Path<'_>) -> Result<(), ValidationError> {
    let Some(def) = obj(a.get("definition")) else {
        return Ok(());
    };
    let dp = path.key("definition");
    let interaction_type = str_of(def, "interactionType");
    let allowed = interaction_type.map(allowed_components);
    if interaction_type.is_none() && def.contains_key("correctResponsesPattern") {
        return Err(dp.key("interactionType").err("is required when correctResponsesPattern is present"));
    }
    for list in COMPONENT_LISTS {
        let Some(items) = def.get(list).and_then(Value::as_array) else {
            continue;
        };
        let lp = dp.key(list);
        match (interaction_type, allowed) {
            (None, _) => return Err(dp.key("interactionType").err(format!("is required when {list} is present"))),
            (Some(t), Some(allowed)) if !allowed.contains(&list) => {
                return Err(lp.err(format!("is not allowed for interactionType \"{t}\"")));
            }
            _ => {}
        }
        for (i, item) in items.iter().enumerate() {
            let Some(id) = item.get("id").and_then(Value::as_str) else {
                continue;
            };
            if items[..i].iter().any(|prev| prev.get("id").and_then(Value::as_str) == Some(id)) {
                return Err(lp.index(i).key("id").err(format!("duplicate interaction component id \"{id}\"")));
            }
        }
    }
    Ok(())
}

/// Score (Data 2.4.5.1): `min` < `max`, and `min` ≤ `raw` ≤ `max`. (`scaled` ∈ [-1, 1] is in the schema.)
fn check_score(score: &Map<String, Value>, path: &Path<'_>) -> Result<(), ValidationError> {
    let num = |k: &str| score.get(k).and_then(Value::as_f64);
    let (raw, min, max) = (num("raw"), num("min"), num("max"));
    if let (Some(min), Some(max)) = (min, max) {
        if min >= max {
            return Err(path.key("max").err(format!("must be greater than min ({max} is not greater than {min})")));
        }
    }
    if let (Some(raw), Some(min)) = (raw, min) {
        if raw < min {
            return Err(path.key("raw").err(format!("must not be less than min ({raw} < {min})")));
        }
    }
    if let (Some(raw), Some(max)) = (raw, max) {
        if raw > max {
            return Err(path.key("raw").err(format!("must not be greater than max ({raw} > {max})")));
        }
    }
    Ok(())
}

fn check_context(
    ctx: &Map<String, Value>,
    object_is_activity: bool,
    version: Version,
    path: &Path<'_>,
) -> Result<(), ValidationError> {
    // Data 2.4.6: revision and platform describe the Activity, so they need an Activity object.
    for k in ["revision", "platform"] {
        if !object_is_activity && ctx.contains_key(k) {
            return Err(path.key(k).err("is only allowed when the statement's object is an Activity"));
        }
    }
    if let Some(i) = obj(ctx.get("instructor")) {
        check_actor(i, &path.key("instructor"))?;
    }
    if let Some(t) = obj(ctx.get("team")) {
        check_group(t, &path.key("team"))?;
    }
    if let Some(ca) = obj(ctx.get("contextActivities")) {
        let cp = path.key("contextActivities");
        for (kind, v) in ca {
            let kp = cp.key(kind);
            match v {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Some(a) = item.as_object() {
                            check_activity(a, &kp.index(i))?;
                        }
                    }
                }
                Value::Object(a) => check_activity(a, &kp)?,
                _ => {}
            }
        }
    }
    // xAPI 2.0 added contextAgents and contextGroups; to a 1.0.3 request they are unknown properties.
    for (k, inner, is_group) in [("contextAgents", "agent", false), ("contextGroups", "group", true)] {
        let Some(list) = ctx.get(k).and_then(Value::as_array) else {
            continue;
        };
        let lp = path.key(k);
        if !version.is_v2() {
            return Err(
                lp.err("is not an allowed property here (contextAgents and contextGroups exist only in xAPI 2.0)")
            );
        }
        for (i, item) in list.iter().enumerate() {
            let ip = lp.index(i);
            if let Some(who) = obj(item.get(inner)) {
                let wp = ip.key(inner);
                if is_group {
                    check_group(who, &wp)?;
                } else {
                    check_agent(who, &wp)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

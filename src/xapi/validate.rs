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

/// The verb whose statements void another statement (Data 2.3.2).
const VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";

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
    pub fn statement(&self, stmt: &Value, version: Version) -> Result<(), ValidationError> {
        let root = Path::root("statement");
        if !self.statement.is_valid(stmt) {
            return Err(self.schema_error(&self.statement, stmt, "statement"));
        }
        match stmt.as_object() {
            Some(s) => check_statement(s, version, &root, true),
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
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::OnceLock;

    fn v() -> &'static Validator {
        static V: OnceLock<Validator> = OnceLock::new();
        V.get_or_init(Validator::new)
    }

    const V1: Version = Version::V1_0_3;
    const V2: Version = Version::V2_0_0;

    fn base() -> Value {
        json!({
            "actor": {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted", "display": {"en-US": "attempted"}},
            "object": {"objectType": "Activity", "id": "http://example.com/activities/1"}
        })
    }

    /// `base()` with `patch` merged in at the top level.
    fn with(patch: Value) -> Value {
        let mut s = base();
        if let (Some(s), Some(p)) = (s.as_object_mut(), patch.as_object()) {
            for (k, v) in p {
                s.insert(k.clone(), v.clone());
            }
        }
        s
    }

    #[track_caller]
    fn ok(stmt: &Value, version: Version) {
        if let Err(e) = v().statement(stmt, version) {
            panic!("expected valid under {version}, got {e}\n{stmt:#}");
        }
    }

    #[track_caller]
    fn bad(stmt: &Value, version: Version, path: &str, msg_part: &str) {
        match v().statement(stmt, version) {
            Ok(()) => panic!("expected {path} to be rejected under {version}\n{stmt:#}"),
            Err(e) => {
                assert_eq!(e.path, path, "wrong path; message was {}", e.message);
                assert!(e.message.contains(msg_part), "message {:?} lacks {msg_part:?}", e.message);
            }
        }
    }

    #[track_caller]
    fn both_ok(stmt: &Value) {
        ok(stmt, V1);
        ok(stmt, V2);
    }

    #[track_caller]
    fn both_bad(stmt: &Value, path: &str, msg_part: &str) {
        bad(stmt, V1, path, msg_part);
        bad(stmt, V2, path, msg_part);
    }

    // ---- valid statements of every object type ----

    #[test]
    fn valid_minimal_activity_statement() {
        both_ok(&base());
        both_ok(&with(json!({"object": {"id": "http://example.com/a"}})));
    }

    #[test]
    fn valid_full_statement_with_everything() {
        let s = with(json!({
            "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
            "object": {"objectType": "Activity", "id": "http://example.com/q1", "definition": {
                "name": {"en-US": "Q1", "zh-Hans-CN": "问题"}, "description": {"en": "d"},
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "moreInfo": "http://example.com/more",
                "interactionType": "choice", "correctResponsesPattern": ["a[,]b"],
                "choices": [{"id": "a", "description": {"en": "A"}}, {"id": "b"}],
                "extensions": {"http://example.com/ext": null}
            }},
            "result": {"score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10}, "success": true,
                       "completion": false, "response": "a[,]b", "duration": "PT1M2.5S",
                       "extensions": {"http://example.com/r": {"any": [1, null]}}},
            "context": {"registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
                        "instructor": {"mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"},
                        "team": {"objectType": "Group", "openid": "http://openid.example.org/t"},
                        "contextActivities": {"parent": {"id": "http://example.com/p"},
                                              "grouping": [{"id": "http://example.com/g", "objectType": "Activity"}],
                                              "category": [], "other": [{"id": "http://example.com/o"}]},
                        "revision": "r1", "platform": "web", "language": "fr-CA",
                        "statement": {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"},
                        "extensions": {"http://example.com/c": ""}},
            "timestamp": "2013-05-18T05:32:34.804+05:30",
            "stored": "2013-05-18T05:32:34.804Z",
            "authority": {"objectType": "Agent", "account": {"homePage": "http://example.com", "name": "lrs"}},
            "version": "1.0.0",
            "attachments": [{"usageType": "http://example.com/usage", "display": {"en-US": "cert"},
                             "description": {"en-US": "d"}, "contentType": "text/plain; charset=ascii",
                             "length": 27, "sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a",
                             "fileUrl": "http://example.com/file.txt"}]
        }));
        both_ok(&s);
    }

    #[test]
    fn valid_agent_object() {
        both_ok(&with(
            json!({"object": {"objectType": "Agent", "account": {"homePage": "http://e.com", "name": "x"}}}),
        ));
    }

    #[test]
    fn valid_group_objects_identified_and_anonymous() {
        both_ok(&with(json!({"object": {"objectType": "Group", "mbox": "mailto:g@example.com"}})));
        both_ok(&with(json!({"object": {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}})));
    }

    #[test]
    fn valid_statement_ref_object() {
        both_ok(&with(json!({"object": {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"}})));
    }

    #[test]
    fn valid_substatement_object() {
        both_ok(&with(json!({"object": {
            "objectType": "SubStatement",
            "actor": {"mbox": "mailto:b@example.com"},
            "verb": {"id": "http://example.com/v"},
            "object": {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"},
            "result": {"success": true}, "timestamp": "2020-01-01T00:00:00Z",
            "context": {"instructor": {"mbox": "mailto:i@example.com"}}
        }})));
    }

    // ---- statement-level rules ----

    #[test]
    fn statement_requires_actor_verb_object() {
        for k in ["actor", "verb", "object"] {
            let mut s = base();
            if let Some(m) = s.as_object_mut() {
                m.remove(k);
            }
            both_bad(&s, &format!("statement.{k}"), "is required");
        }
    }

    #[test]
    fn unknown_properties_are_rejected_case_sensitively() {
        both_bad(
            &with(json!({"Actor": {"mbox": "mailto:a@example.com"}})),
            "statement.Actor",
            "not an allowed property",
        );
        both_bad(
            &with(json!({"verb": {"id": "http://e.com/v", "Display": {"en": "x"}}})),
            "statement.verb.Display",
            "not an allowed property",
        );
    }

    #[test]
    fn null_values_are_rejected_outside_extensions() {
        both_bad(&with(json!({"timestamp": null})), "statement.timestamp", "must not be null");
        both_bad(
            &with(json!({"verb": {"id": "http://e.com/v", "display": {"en-US": null}}})),
            "statement.verb.display[\"en-US\"]",
            "must not be null",
        );
        both_ok(&with(json!({"result": {"extensions": {"http://e.com/x": null}}})));
    }

    #[test]
    fn statement_must_be_an_object() {
        both_bad(&json!([1]), "statement", "must be an object");
    }

    #[test]
    fn statement_id_must_be_hyphenated_uuid() {
        both_ok(&with(json!({"id": "AA97B177-9383-4934-8543-0F91A7A02836"})));
        both_bad(&with(json!({"id": "AA97B177-9383-4934-8543-0F91A7A028368"})), "statement.id", "UUID");
        both_bad(&with(json!({"id": "MA97B177-9383-4934-8543-0F91A7A02836"})), "statement.id", "UUID");
        both_bad(&with(json!({"id": "aa97b17793834934854300f91a7a02836"})), "statement.id", "UUID");
        both_bad(&with(json!({"id": 12345})), "statement.id", "must be a string");
    }

    #[test]
    fn version_property_depends_on_request_version() {
        for good in ["1.0", "1.0.0", "1.0.3", "1.0.9"] {
            both_ok(&with(json!({"version": good})));
        }
        for bad_v in ["0.9.9", "1.1.0", "should fail", "1.0.", "1.0.x", "2.1.0"] {
            both_bad(&with(json!({"version": bad_v})), "statement.version", "not a supported statement version");
        }
        // 2.0 requests may carry 2.0.x statements; 1.0.3 requests may not.
        ok(&with(json!({"version": "2.0.0"})), V2);
        ok(&with(json!({"version": "2.0"})), V2);
        bad(&with(json!({"version": "2.0.0"})), V1, "statement.version", "expected 1.0.x");
    }

    #[test]
    fn timestamp_and_stored_must_be_iso8601() {
        both_bad(&with(json!({"timestamp": "01/011/2015"})), "statement.timestamp", "ISO 8601");
        both_bad(&with(json!({"timestamp": "2008-09-15T15:53:00.601-00:00"})), "statement.timestamp", "-00:00");
        both_bad(&with(json!({"stored": "2008-09-15"})), "statement.stored", "ISO 8601");
        both_ok(&with(json!({"timestamp": "2008-09-15T15:53:00.601+00:00"})));
    }

    // ---- actors ----

    #[test]
    fn agent_requires_exactly_one_ifi() {
        both_bad(&with(json!({"actor": {"name": "x"}})), "statement.actor", "found none");
        both_bad(
            &with(json!({"actor": {"mbox": "mailto:a@example.com", "openid": "http://openid.example.org/a"}})),
            "statement.actor",
            "found mbox, openid",
        );
    }

    #[test]
    fn agent_object_type_must_be_agent() {
        both_bad(
            &with(json!({"actor": {"objectType": "agent", "mbox": "mailto:a@example.com"}})),
            "statement.actor.objectType",
            "must be \"Agent\" or \"Group\"",
        );
    }

    #[test]
    fn mbox_must_be_mailto_iri() {
        both_bad(&with(json!({"actor": {"mbox": "http://should.fail.com"}})), "statement.actor.mbox", "mailto");
        both_bad(&with(json!({"actor": {"mbox": "mailto:should.fail.com"}})), "statement.actor.mbox", "mailto");
        both_bad(&with(json!({"actor": {"mbox": "ann@example.com"}})), "statement.actor.mbox", "mailto");
    }

    #[test]
    fn mbox_sha1sum_must_be_40_hex_digits() {
        both_bad(
            &with(json!({"actor": {"mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e36497"}})),
            "statement.actor.mbox_sha1sum",
            "SHA-1",
        );
        both_bad(
            &with(json!({"actor": {"mbox_sha1sum": "zd9b00a5611f94eaa7b1661edab976068e364975"}})),
            "statement.actor.mbox_sha1sum",
            "SHA-1",
        );
    }

    #[test]
    fn openid_must_be_absolute_iri() {
        both_bad(&with(json!({"actor": {"openid": "open.id.com/testUser"}})), "statement.actor.openid", "absolute IRI");
        both_bad(
            &with(json!({"actor": {"openid": "ab=c://should.fail.com"}})),
            "statement.actor.openid",
            "absolute IRI",
        );
    }

    #[test]
    fn account_requires_iri_home_page_and_name() {
        both_bad(
            &with(json!({"actor": {"account": {"name": "x"}}})),
            "statement.actor.account.homePage",
            "is required",
        );
        both_bad(
            &with(json!({"actor": {"account": {"homePage": "http://e.com"}}})),
            "statement.actor.account.name",
            "is required",
        );
        both_bad(
            &with(json!({"actor": {"account": {"homePage": "homePage.com/testUser", "name": "1"}}})),
            "statement.actor.account.homePage",
            "absolute IRI",
        );
    }

    #[test]
    fn anonymous_group_requires_members() {
        both_bad(
            &with(json!({"actor": {"objectType": "Group", "name": "g"}})),
            "statement.actor",
            "must list its members",
        );
        both_bad(
            &with(json!({"actor": {"objectType": "Group", "member": []}})),
            "statement.actor",
            "must list its members",
        );
    }

    #[test]
    fn identified_group_has_at_most_one_ifi() {
        both_ok(&with(
            json!({"actor": {"objectType": "Group", "mbox": "mailto:g@example.com", "member": [{"mbox": "mailto:a@example.com"}]}}),
        ));
        both_bad(
            &with(
                json!({"actor": {"objectType": "Group", "mbox": "mailto:g@example.com", "openid": "http://o.example.org/g"}}),
            ),
            "statement.actor",
            "exactly one inverse functional identifier",
        );
    }

    #[test]
    fn group_members_must_be_agents() {
        both_bad(
            &with(
                json!({"actor": {"objectType": "Group", "member": [{"objectType": "Group", "mbox": "mailto:g@example.com"}]}}),
            ),
            "statement.actor.member[0].objectType",
            "must be \"Agent\"",
        );
        both_bad(
            &with(
                json!({"actor": {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}, {"name": "no ifi"}]}}),
            ),
            "statement.actor.member[1]",
            "found none",
        );
    }

    #[test]
    fn agent_parameter_is_validated_like_statement_agents() {
        assert!(v().agent(&json!({"mbox": "mailto:a@example.com"}), V1).is_ok());
        assert!(v().agent(&json!({"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}), V2).is_ok());
        let e = v().agent(&json!({"objectType": "Agent"}), V1).err();
        assert_eq!(e.map(|e| e.path), Some("agent".to_string()));
        let e = v().agent(&json!({"mbox": "mailto:a@example.com", "foo": 1}), V2).err();
        assert_eq!(e.map(|e| e.path), Some("agent.foo".to_string()));
        assert!(v().agent(&json!("mailto:a@example.com"), V1).is_err());
    }

    // ---- verb and language maps ----

    #[test]
    fn verb_id_must_be_absolute_iri() {
        both_bad(
            &with(json!({"verb": {"id": "adlnet.gov/expapi/verbs/attended"}})),
            "statement.verb.id",
            "absolute IRI",
        );
        both_bad(&with(json!({"verb": {"display": {"en": "x"}}})), "statement.verb.id", "is required");
    }

    #[test]
    fn language_map_keys_must_be_rfc5646_tags() {
        both_ok(&with(
            json!({"verb": {"id": "http://e.com/v", "display": {"sr-Cyrl": "x", "de": "y", "zh-Hans-CN": "z"}}}),
        ));
        both_bad(
            &with(json!({"verb": {"id": "http://e.com/v", "display": {"something": "x"}}})),
            "statement.verb.display.something",
            "RFC 5646",
        );
        both_bad(
            &with(json!({"verb": {"id": "http://e.com/v", "display": "attended"}})),
            "statement.verb.display",
            "must be an object",
        );
        both_bad(
            &with(json!({"verb": {"id": "http://e.com/v", "display": {"en": 1}}})),
            "statement.verb.display.en",
            "must be a string",
        );
    }

    // ---- objects ----

    #[test]
    fn activity_requires_iri_id() {
        both_bad(&with(json!({"object": {"objectType": "Activity"}})), "statement.object.id", "is required");
        both_bad(&with(json!({"object": {"id": "www.example.com/a"}})), "statement.object.id", "absolute IRI");
    }

    #[test]
    fn activity_definition_iris_and_maps() {
        let def = |d: Value| with(json!({"object": {"id": "http://e.com/a", "definition": d}}));
        both_bad(&def(json!({"type": "should error"})), "statement.object.definition.type", "absolute IRI");
        both_bad(&def(json!({"moreInfo": "should error"})), "statement.object.definition.moreInfo", "absolute IRI");
        both_bad(&def(json!({"name": "str"})), "statement.object.definition.name", "must be an object");
        both_bad(
            &def(json!({"description": {"a12345678": "x"}})),
            "statement.object.definition.description.a12345678",
            "RFC 5646",
        );
        both_bad(&def(json!("x")), "statement.object.definition", "must be an object");
    }

    #[test]
    fn object_type_values_are_case_sensitive() {
        both_bad(
            &with(json!({"object": {"objectType": "activity", "id": "http://e.com/a"}})),
            "statement.object.objectType",
            "must be one of \"Activity\", \"Agent\"",
        );
        both_bad(
            &with(json!({"object": {"objectType": "statementref", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"}})),
            "statement.object.objectType",
            "must be one of",
        );
    }

    #[test]
    fn agent_or_group_object_requires_object_type() {
        // Without objectType the object is read as an Activity, so IFIs are unknown properties.
        both_bad(
            &with(json!({"object": {"mbox": "mailto:a@example.com"}})),
            "statement.object.mbox",
            "must set objectType",
        );
        both_bad(&with(json!({"object": {"objectType": "Agent", "name": "x"}})), "statement.object", "found none");
    }

    #[test]
    fn interaction_type_must_be_known_value() {
        let def = |t: Value| with(json!({"object": {"id": "http://e.com/a", "definition": {"interactionType": t}}}));
        for t in [
            "true-false",
            "choice",
            "fill-in",
            "long-fill-in",
            "matching",
            "performance",
            "sequencing",
            "likert",
            "numeric",
            "other",
        ] {
            both_ok(&def(json!(t)));
        }
        both_bad(&def(json!("Other")), "statement.object.definition.interactionType", "must be one of");
        both_bad(&def(json!(12345)), "statement.object.definition.interactionType", "must be one of");
    }

    #[test]
    fn interaction_properties_require_interaction_type() {
        let def = |d: Value| with(json!({"object": {"id": "http://e.com/a", "definition": d}}));
        both_bad(
            &def(json!({"correctResponsesPattern": ["a"]})),
            "statement.object.definition.interactionType",
            "correctResponsesPattern",
        );
        both_bad(&def(json!({"choices": [{"id": "a"}]})), "statement.object.definition.interactionType", "choices");
    }

    #[test]
    fn component_lists_must_match_interaction_type() {
        let def = |d: Value| with(json!({"object": {"id": "http://e.com/a", "definition": d}}));
        both_ok(&def(json!({"interactionType": "matching", "source": [{"id": "a"}], "target": [{"id": "b"}]})));
        both_ok(&def(json!({"interactionType": "performance", "steps": [{"id": "a"}]})));
        both_ok(&def(json!({"interactionType": "likert", "scale": [{"id": "a"}]})));
        both_ok(&def(json!({"interactionType": "sequencing", "choices": [{"id": "a"}]})));
        both_bad(
            &def(json!({"interactionType": "choice", "scale": [{"id": "a"}]})),
            "statement.object.definition.scale",
            "not allowed for interactionType \"choice\"",
        );
        both_bad(
            &def(json!({"interactionType": "true-false", "choices": [{"id": "a"}]})),
            "statement.object.definition.choices",
            "not allowed",
        );
    }

    #[test]
    fn interaction_component_ids_must_be_distinct() {
        let s = with(json!({"object": {"id": "http://e.com/a", "definition": {
            "interactionType": "choice", "choices": [{"id": "a"}, {"id": "b"}, {"id": "a"}]}}}));
        both_bad(&s, "statement.object.definition.choices[2].id", "duplicate");
    }

    #[test]
    fn interaction_component_shape() {
        let s = |c: Value| {
            with(
                json!({"object": {"id": "http://e.com/a", "definition": {"interactionType": "choice", "choices": [c]}}}),
            )
        };
        both_bad(&s(json!({"description": {"en": "x"}})), "statement.object.definition.choices[0].id", "is required");
        both_bad(
            &s(json!({"id": "a", "description": {"bad_tag": "x"}})),
            "statement.object.definition.choices[0].description.bad_tag",
            "RFC 5646",
        );
        both_bad(
            &s(json!({"id": "a", "extra": 1})),
            "statement.object.definition.choices[0].extra",
            "not an allowed property",
        );
    }

    #[test]
    fn correct_responses_pattern_is_array_of_strings() {
        let s = with(
            json!({"object": {"id": "http://e.com/a", "definition": {"interactionType": "numeric", "correctResponsesPattern": [4]}}}),
        );
        both_bad(&s, "statement.object.definition.correctResponsesPattern[0]", "must be a string");
    }

    #[test]
    fn statement_ref_requires_uuid_id() {
        both_bad(&with(json!({"object": {"objectType": "StatementRef"}})), "statement.object.id", "is required");
        both_bad(
            &with(json!({"object": {"objectType": "StatementRef", "id": "not-a-uuid"}})),
            "statement.object.id",
            "UUID",
        );
    }

    #[test]
    fn substatement_must_not_have_id_stored_version_authority() {
        for (k, val) in [
            ("id", json!("8f87ccde-bb56-4c2e-ab83-44982ef22df0")),
            ("stored", json!("2013-05-18T05:32:34.804Z")),
            ("version", json!("1.0.0")),
            ("authority", json!({"mbox": "mailto:a@example.com"})),
        ] {
            let mut sub = json!({"objectType": "SubStatement", "actor": {"mbox": "mailto:b@example.com"},
                                 "verb": {"id": "http://e.com/v"}, "object": {"id": "http://e.com/a"}});
            if let Some(m) = sub.as_object_mut() {
                m.insert(k.to_string(), val);
            }
            both_bad(&with(json!({"object": sub})), &format!("statement.object.{k}"), "not allowed in a SubStatement");
        }
    }

    #[test]
    fn substatement_must_not_nest() {
        let inner = json!({"objectType": "SubStatement", "actor": {"mbox": "mailto:c@example.com"},
                           "verb": {"id": "http://e.com/v"}, "object": {"id": "http://e.com/a"}});
        let s = with(json!({"object": {"objectType": "SubStatement", "actor": {"mbox": "mailto:b@example.com"},
                                       "verb": {"id": "http://e.com/v"}, "object": inner}}));
        both_bad(&s, "statement.object.object", "must not contain another SubStatement");
    }

    #[test]
    fn substatement_parts_are_validated() {
        let s = with(json!({"object": {"objectType": "SubStatement", "actor": {"name": "no ifi"},
                                       "verb": {"id": "http://e.com/v"}, "object": {"id": "http://e.com/a"}}}));
        both_bad(&s, "statement.object.actor", "found none");
        let s = with(json!({"object": {"objectType": "SubStatement", "actor": {"mbox": "mailto:b@example.com"},
                                       "verb": {"id": "http://e.com/v"}}}));
        both_bad(&s, "statement.object.object", "is required");
        let s = with(json!({"object": {"objectType": "SubStatement", "actor": {"mbox": "mailto:b@example.com"},
                                       "verb": {"id": "http://e.com/v"}, "object": {"objectType": "Agent", "mbox": "mailto:c@example.com"},
                                       "context": {"platform": "x"}}}));
        both_bad(&s, "statement.object.context.platform", "only allowed when the statement's object is an Activity");
    }

    // ---- result ----

    #[test]
    fn score_scaled_between_minus_one_and_one() {
        both_ok(&with(json!({"result": {"score": {"scaled": -1.0}}})));
        both_ok(&with(json!({"result": {"score": {"scaled": 1}}})));
        both_bad(
            &with(json!({"result": {"score": {"scaled": 1.01}}})),
            "statement.result.score.scaled",
            "must be between -1 and 1",
        );
        both_bad(
            &with(json!({"result": {"score": {"scaled": -1.00001}}})),
            "statement.result.score.scaled",
            "must be between -1 and 1",
        );
    }

    #[test]
    fn score_raw_between_min_and_max() {
        both_ok(&with(json!({"result": {"score": {"raw": 0, "min": 0, "max": 10}}})));
        both_ok(&with(json!({"result": {"score": {"raw": 10, "min": 0, "max": 10}}})));
        both_bad(
            &with(json!({"result": {"score": {"raw": 11, "min": 0, "max": 10}}})),
            "statement.result.score.raw",
            "greater than max",
        );
        both_bad(
            &with(json!({"result": {"score": {"raw": -1, "min": 0}}})),
            "statement.result.score.raw",
            "less than min",
        );
    }

    #[test]
    fn score_min_less_than_max() {
        both_bad(
            &with(json!({"result": {"score": {"min": 10, "max": 10}}})),
            "statement.result.score.max",
            "greater than min",
        );
        both_bad(
            &with(json!({"result": {"score": {"min": 104.6, "max": 100.6}}})),
            "statement.result.score.max",
            "greater than min",
        );
    }

    #[test]
    fn score_values_are_numbers() {
        both_bad(&with(json!({"result": {"score": {"max": "100"}}})), "statement.result.score.max", "must be a number");
        both_bad(&with(json!({"result": {"score": 12345}})), "statement.result.score", "must be an object");
    }

    #[test]
    fn result_success_completion_are_booleans() {
        both_bad(&with(json!({"result": {"success": "true"}})), "statement.result.success", "must be a boolean");
        both_bad(&with(json!({"result": {"completion": "false"}})), "statement.result.completion", "must be a boolean");
        both_bad(&with(json!({"result": {"response": 1}})), "statement.result.response", "must be a string");
    }

    #[test]
    fn result_duration_is_iso8601() {
        both_ok(&with(json!({"result": {"duration": "P3Y1M29DT4H35M59.14S"}})));
        both_ok(&with(json!({"result": {"duration": "P1DT12H36M0.12567S"}})));
        both_bad(&with(json!({"result": {"duration": "P4W1D"}})), "statement.result.duration", "ISO 8601 duration");
        both_bad(&with(json!({"result": {"duration": "PT"}})), "statement.result.duration", "ISO 8601 duration");
    }

    // ---- extensions ----

    #[test]
    fn extension_keys_must_be_iris() {
        both_bad(
            &with(json!({"result": {"extensions": {"example.com/extension/wrong": 1}}})),
            "statement.result.extensions[\"example.com/extension/wrong\"]",
            "not an absolute IRI",
        );
        both_bad(&with(json!({"context": {"extensions": "x"}})), "statement.context.extensions", "must be an object");
        both_ok(&with(json!({"context": {"extensions": {}}})));
    }

    // ---- context ----

    #[test]
    fn context_registration_is_uuid() {
        both_bad(&with(json!({"context": {"registration": "should fail"}})), "statement.context.registration", "UUID");
    }

    #[test]
    fn context_instructor_and_team() {
        both_ok(&with(
            json!({"context": {"instructor": {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}}}),
        ));
        both_bad(
            &with(json!({"context": {"team": {"mbox": "mailto:a@example.com"}}})),
            "statement.context.team.objectType",
            "is required",
        );
        both_bad(
            &with(json!({"context": {"instructor": {"name": "x"}}})),
            "statement.context.instructor",
            "found none",
        );
    }

    #[test]
    fn context_activities_keys_and_values() {
        both_bad(
            &with(json!({"context": {"contextActivities": {"parents": [{"id": "http://e.com/p"}]}}})),
            "statement.context.contextActivities.parents",
            "not an allowed property",
        );
        both_bad(
            &with(json!({"context": {"contextActivities": {"parent": [{"id": "e.com/p"}]}}})),
            "statement.context.contextActivities.parent[0].id",
            "absolute IRI",
        );
        both_bad(
            &with(
                json!({"context": {"contextActivities": {"other": {"objectType": "Agent", "mbox": "mailto:a@example.com"}}}}),
            ),
            "statement.context.contextActivities.other.objectType",
            "must be \"Activity\"",
        );
    }

    #[test]
    fn context_revision_and_platform_need_activity_object() {
        let sref = json!({"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"});
        both_bad(
            &with(json!({"object": sref, "context": {"revision": "r"}})),
            "statement.context.revision",
            "only allowed",
        );
        both_bad(
            &with(json!({"object": sref, "context": {"platform": "p"}})),
            "statement.context.platform",
            "only allowed",
        );
        both_ok(&with(json!({"context": {"revision": "r", "platform": "p"}})));
    }

    #[test]
    fn context_language_is_rfc5646() {
        both_ok(&with(json!({"context": {"language": "tlh"}})));
        both_bad(&with(json!({"context": {"language": "something"}})), "statement.context.language", "RFC 5646");
    }

    #[test]
    fn context_statement_is_statement_ref() {
        both_bad(
            &with(json!({"context": {"statement": {"id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"}}})),
            "statement.context.statement.objectType",
            "is required",
        );
    }

    #[test]
    fn context_agents_and_groups_are_2_0_only() {
        let ctx = json!({"context": {
            "contextAgents": [{"objectType": "contextAgent", "agent": {"mbox": "mailto:p@example.com"}, "relevantTypes": ["http://e.com/t"]}],
            "contextGroups": [{"objectType": "contextGroup", "group": {"objectType": "Group", "mbox": "mailto:t@example.com"}}]
        }});
        ok(&with(ctx.clone()), V2);
        bad(&with(ctx), V1, "statement.context.contextAgents", "only in xAPI 2.0");
    }

    #[test]
    fn context_agent_shape_2_0() {
        let ca = |c: Value| with(json!({"context": {"contextAgents": [c]}}));
        bad(
            &ca(json!({"objectType": "Should fail", "agent": {"mbox": "mailto:p@example.com"}})),
            V2,
            "statement.context.contextAgents[0].objectType",
            "must be \"contextAgent\"",
        );
        bad(
            &ca(json!({"objectType": "contextAgent", "agent": {"key": "x"}})),
            V2,
            "statement.context.contextAgents[0].agent.key",
            "not an allowed property",
        );
        bad(
            &ca(json!({"objectType": "contextAgent", "agent": {"name": "x"}})),
            V2,
            "statement.context.contextAgents[0].agent",
            "found none",
        );
        bad(
            &ca(json!({"objectType": "contextAgent", "agent": {"mbox": "mailto:p@example.com"}, "relevantTypes": []})),
            V2,
            "statement.context.contextAgents[0].relevantTypes",
            "at least 1",
        );
        bad(
            &ca(
                json!({"objectType": "contextAgent", "agent": {"mbox": "mailto:p@example.com"}, "relevantTypes": ["abc"]}),
            ),
            V2,
            "statement.context.contextAgents[0].relevantTypes[0]",
            "absolute IRI",
        );
        bad(
            &ca(
                json!({"objectType": "contextAgent", "agent": {"objectType": "Group", "mbox": "mailto:p@example.com"}}),
            ),
            V2,
            "statement.context.contextAgents[0].agent.objectType",
            "must be \"Agent\"",
        );
    }

    #[test]
    fn context_group_shape_2_0() {
        let cg = |c: Value| with(json!({"context": {"contextGroups": [c]}}));
        bad(
            &cg(json!({"objectType": "contextGroup", "group": {"key": "x"}})),
            V2,
            "statement.context.contextGroups[0].group.key",
            "not an allowed property",
        );
        bad(
            &cg(json!({"objectType": "contextGroup", "group": {"objectType": "Group", "name": "anon"}})),
            V2,
            "statement.context.contextGroups[0].group",
            "must list its members",
        );
        bad(
            &cg(
                json!({"objectType": "contextgroup", "group": {"objectType": "Group", "mbox": "mailto:t@example.com"}}),
            ),
            V2,
            "statement.context.contextGroups[0].objectType",
            "must be \"contextGroup\"",
        );
    }

    // ---- attachments ----

    fn attachment(patch: Value) -> Value {
        let mut a = json!({"usageType": "http://example.com/usage", "display": {"en-US": "x"}, "contentType": "text/plain",
                           "length": 27, "sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"});
        if let (Some(a), Some(p)) = (a.as_object_mut(), patch.as_object()) {
            for (k, v) in p {
                a.insert(k.clone(), v.clone());
            }
        }
        with(json!({"attachments": [a]}))
    }

    #[test]
    fn attachment_fields() {
        both_ok(&attachment(json!({})));
        both_bad(
            &attachment(json!({"usageType": "should fail"})),
            "statement.attachments[0].usageType",
            "absolute IRI",
        );
        both_bad(
            &attachment(json!({"fileUrl": "over.there.com/file.txt"})),
            "statement.attachments[0].fileUrl",
            "absolute IRI",
        );
        both_bad(
            &attachment(json!({"contentType": 12345})),
            "statement.attachments[0].contentType",
            "must be a string",
        );
        both_bad(&attachment(json!({"contentType": "text"})), "statement.attachments[0].contentType", "media type");
        both_bad(&attachment(json!({"length": "27"})), "statement.attachments[0].length", "must be an integer");
        both_bad(&attachment(json!({"length": -1})), "statement.attachments[0].length", "at least 0");
        both_bad(&attachment(json!({"length": 1.5})), "statement.attachments[0].length", "must be an integer");
        both_bad(&attachment(json!({"sha2": "xyz"})), "statement.attachments[0].sha2", "SHA-2");
        both_bad(
            &attachment(json!({"display": {"something": "x"}})),
            "statement.attachments[0].display.something",
            "RFC 5646",
        );
        both_bad(&with(json!({"attachments": {}})), "statement.attachments", "must be an array");
    }

    #[test]
    fn attachment_required_fields() {
        for k in ["usageType", "display", "contentType", "length", "sha2"] {
            let mut s = attachment(json!({}));
            if let Some(a) = s.pointer_mut("/attachments/0").and_then(Value::as_object_mut) {
                a.remove(k);
            }
            both_bad(&s, &format!("statement.attachments[0].{k}"), "is required");
        }
    }

    // ---- authority ----

    #[test]
    fn authority_agent_or_two_member_anonymous_group() {
        both_ok(&with(json!({"authority": {"mbox": "mailto:a@example.com"}})));
        both_ok(&with(json!({"authority": {"objectType": "Group", "member": [
            {"account": {"homePage": "http://example.com/xAPI/OAuth/Token", "name": "oauth_consumer_x75db"}},
            {"mbox": "mailto:bob@example.com"}]}})));
        both_bad(
            &with(json!({"authority": {"objectType": "Group", "member": [{"mbox": "mailto:bob@example.com"}]}})),
            "statement.authority",
            "exactly two Agents",
        );
        both_bad(
            &with(json!({"authority": {"objectType": "Group", "mbox": "mailto:g@example.com",
                "member": [{"mbox": "mailto:a@example.com"}, {"mbox": "mailto:b@example.com"}]}})),
            "statement.authority",
            "anonymous Group",
        );
        both_bad(&with(json!({"authority": {"name": "x"}})), "statement.authority", "found none");
    }

    // ---- voiding ----

    #[test]
    fn voiding_statement_needs_statement_ref() {
        let voided = json!({"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}});
        both_ok(&with(
            json!({"verb": voided, "object": {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"}}),
        ));
        both_bad(&with(json!({"verb": voided})), "statement.object", "StatementRef");
    }

    // ---- error formatting ----

    #[test]
    fn errors_render_path_and_message() {
        let e = v().statement(&with(json!({"result": {"score": {"scaled": 2}}})), V1).err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some("statement.result.score.scaled: must be between -1 and 1".to_string())
        );
        let e = ValidationError::new("statement.actor".into(), "x").in_batch(3);
        assert_eq!(e.path, "statement[3].actor");
    }

    #[test]
    fn validator_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Validator>();
    }

    /// Fixtures in `fixtures/statements/`, also usable by HTTP-level tests.
    macro_rules! fixture {
        ($kind:literal, $name:literal) => {
            ($name, include_str!(concat!("../../fixtures/statements/", $kind, "/", $name)))
        };
    }

    fn parse_fixture(name: &str, text: &str) -> Value {
        match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => panic!("fixture {name} is not JSON: {e}"),
        }
    }

    #[test]
    fn valid_fixtures_pass() {
        for (name, text) in [
            fixture!("valid", "activity-full.json"),
            fixture!("valid", "agent-object.json"),
            fixture!("valid", "authority-oauth-group.json"),
            fixture!("valid", "group-object-anonymous.json"),
            fixture!("valid", "statementref-object.json"),
            fixture!("valid", "substatement-object.json"),
            fixture!("valid", "voiding.json"),
        ] {
            let stmt = parse_fixture(name, text);
            assert_eq!(v().statement(&stmt, V1), Ok(()), "{name}");
            assert_eq!(v().statement(&stmt, V2), Ok(()), "{name}");
        }
        let (name, text) = fixture!("valid", "v2-context-agents-groups.json");
        assert_eq!(v().statement(&parse_fixture(name, text), V2), Ok(()), "{name}");
    }

    #[test]
    fn invalid_fixtures_fail_at_the_expected_path() {
        for ((name, text), path) in [
            (fixture!("invalid", "agent-two-ifis.json"), "statement.actor"),
            (fixture!("invalid", "unknown-property-case.json"), "statement.Verb"),
            (fixture!("invalid", "null-value.json"), "statement.result.success"),
            (fixture!("invalid", "score-raw-above-max.json"), "statement.result.score.raw"),
            (fixture!("invalid", "substatement-with-id.json"), "statement.object.id"),
            (fixture!("invalid", "revision-with-agent-object.json"), "statement.context.revision"),
            (fixture!("invalid", "voiding-activity-object.json"), "statement.object"),
            (fixture!("invalid", "timestamp-negative-zero-offset.json"), "statement.timestamp"),
            (fixture!("invalid", "language-map-bad-tag.json"), "statement.verb.display.something"),
            (fixture!("invalid", "context-agents-in-1.0.3.json"), "statement.context.contextAgents"),
        ] {
            let stmt = parse_fixture(name, text);
            let err = v().statement(&stmt, V1).err();
            assert_eq!(err.map(|e| e.path), Some(path.to_string()), "{name}");
        }
    }

    #[test]
    fn media_type_syntax() {
        for good in ["text/plain", "text/plain; charset=ascii", "application/vnd.api+json", "image/jpeg"] {
            assert!(is_media_type(good), "{good}");
        }
        for bad_mt in ["", "text", "text/", "/plain", "text/plain;", "text/pl ain", "text/plain; charset"] {
            assert!(!is_media_type(bad_mt), "{bad_mt}");
        }
    }
}

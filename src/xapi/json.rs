//! A streaming pre-pass over client JSON, run before anything builds a `serde_json::Value`.
//!
//! Why: a `Value` costs 30–80 bytes per element, so 14 MB of `[0,0,0,…]` became 1–2 GB when parsed
//! and again when rendered. This pass walks the text once with serde visitors that keep nothing but
//! counters and the keys of the objects currently open (to refuse duplicate keys, which `Value`
//! would silently resolve as "last wins"), so its memory is bounded by the nesting depth and the
//! size of the text, and it refuses the input at the first limit it crosses.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer as _, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// Bounds on one JSON value (a statement, or a document to merge) and on one request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonLimits {
    /// Bytes of one statement's JSON text (attachments travel in other parts and are not counted).
    pub max_value_bytes: usize,
    /// JSON values (scalars, arrays and objects, at any depth) in one statement.
    pub max_elements: usize,
    /// Nesting of arrays and objects; serde_json itself stops at 128.
    pub max_depth: usize,
    /// JSON values in one request body, over every statement of a batch.
    pub max_request_elements: usize,
}

impl Default for JsonLimits {
    /// A typical statement is 300–2,000 bytes and 15–60 values; the largest real ones (rich
    /// interaction definitions, big extensions) stay far below 1 MiB and 100,000 values. At those
    /// bounds a parsed statement costs at most ~10 MB. Depth 64 leaves ~55 levels to extension
    /// values below the deepest standard property. A request of 2,000,000 values covers a full
    /// 16 MiB batch of typical statements and parses into at most ~150 MB.
    fn default() -> Self {
        JsonLimits { max_value_bytes: 1 << 20, max_elements: 100_000, max_depth: 64, max_request_elements: 2_000_000 }
    }
}

/// Why JSON text was refused. `what` names the value (`statement[3]`, `the document`) and `path`
/// the place inside it, as `.key` and `[index]` segments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    #[error("{what} is not valid JSON: {message}")]
    Syntax { what: String, message: String },
    #[error("{what} is {size} bytes of JSON, more than the {limit} allowed")]
    TooLarge { what: String, size: usize, limit: usize },
    #[error("{what} has more than the {limit} JSON values allowed (counted up to {what}{path})")]
    TooManyElements { what: String, path: String, limit: usize },
    #[error("the request body has more than the {limit} JSON values allowed in one request")]
    RequestTooManyElements { limit: usize },
    #[error("{what}{path} nests arrays and objects deeper than the {limit} levels allowed")]
    TooDeep { what: String, path: String, limit: usize },
    #[error("{what}{path} has the key {key:?} more than once")]
    DuplicateKey { what: String, path: String, key: String },
}

impl JsonError {
    /// True for the refusals of size (413), false for malformed or over-structured JSON (400).
    pub fn is_size(&self) -> bool {
        matches!(self, JsonError::TooLarge { .. })
    }
}

/// Checks one JSON value: its size, element count, depth and duplicate keys. `what` names it in
/// errors. Pass `max_value_bytes: usize::MAX` where only the structure matters.
pub fn check(text: &[u8], limits: &JsonLimits, what: &str) -> Result<(), JsonError> {
    let size = trimmed_len(text);
    if size > limits.max_value_bytes {
        return Err(JsonError::TooLarge { what: what.into(), size, limit: limits.max_value_bytes });
    }
    let mut state = State::new(limits);
    run(text, &mut state, what, |d, st| Scan { state: st, depth: 0 }.deserialize(d))
}

/// Checks a statements body: one statement object, or an array of them, each within the limits
/// and named `statement[i]` in errors.
pub fn check_statements(text: &[u8], limits: &JsonLimits) -> Result<(), JsonError> {
    let first = text.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'[') {
        return check(text, limits, "statement");
    }
    let mut state = State::new(limits);
    run(text, &mut state, "the statements array", |d, st| d.deserialize_seq(Batch { state: st }))
}

fn trimmed_len(text: &[u8]) -> usize {
    let start = text.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(text.len());
    let end = text.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
    end.saturating_sub(start)
}

/// Runs a visitor over the whole text (trailing characters refused) and turns a failure into the
/// limit it recorded, or else into a syntax error.
fn run<'a>(
    text: &'a [u8],
    state: &mut State,
    what: &str,
    visit: impl FnOnce(&mut serde_json::Deserializer<serde_json::de::SliceRead<'a>>, &mut State) -> serde_json::Result<()>,
) -> Result<(), JsonError> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let result = visit(&mut de, state).and_then(|()| de.end());
    match result {
        Ok(()) => Ok(()),
        Err(e) => Err(state.error.take().map(|f| f.into_error(what)).unwrap_or_else(|| JsonError::Syntax {
            what: state.current.clone().unwrap_or_else(|| what.to_string()),
            message: e.to_string(),
        })),
    }
}

/// What crossed a limit, with the path collected (leaf first) as the error unwinds.
struct Failure {
    kind: FailureKind,
    /// Segments from the failing position up to the value's root, innermost first.
    path: Vec<String>,
    /// The statement named in a batch, set by the batch visitor.
    what: Option<String>,
}

enum FailureKind {
    TooLarge { size: usize, limit: usize },
    Elements(usize),
    RequestElements(usize),
    Depth(usize),
    Duplicate(String),
}

impl Failure {
    fn into_error(self, default_what: &str) -> JsonError {
        let what = self.what.unwrap_or_else(|| default_what.to_string());
        let path: String = self.path.into_iter().rev().collect();
        match self.kind {
            FailureKind::TooLarge { size, limit } => JsonError::TooLarge { what, size, limit },
            FailureKind::Elements(limit) => JsonError::TooManyElements { what, path, limit },
            FailureKind::RequestElements(limit) => JsonError::RequestTooManyElements { limit },
            FailureKind::Depth(limit) => JsonError::TooDeep { what, path, limit },
            FailureKind::Duplicate(key) => JsonError::DuplicateKey { what, path, key },
        }
    }
}

struct State {
    limits: JsonLimits,
    /// Values in the current statement, and in the whole request.
    elements: usize,
    request_elements: usize,
    error: Option<Failure>,
    /// The statement being scanned in a batch, for syntax errors.
    current: Option<String>,
}

impl State {
    fn new(limits: &JsonLimits) -> Self {
        State { limits: *limits, elements: 0, request_elements: 0, error: None, current: None }
    }

    fn fail<E: de::Error>(&mut self, kind: FailureKind) -> E {
        self.error = Some(Failure { kind, path: Vec::new(), what: None });
        // The message is never shown: `run` reports the recorded failure instead.
        E::custom("limit")
    }

    /// Counts one value.
    fn count<E: de::Error>(&mut self) -> Result<(), E> {
        self.elements += 1;
        self.request_elements += 1;
        if self.elements > self.limits.max_elements {
            return Err(self.fail(FailureKind::Elements(self.limits.max_elements)));
        }
        if self.request_elements > self.limits.max_request_elements {
            return Err(self.fail(FailureKind::RequestElements(self.limits.max_request_elements)));
        }
        Ok(())
    }

    /// Adds a path segment to a failure unwinding through this position.
    fn on_unwind(&mut self, seg: impl FnOnce() -> String) {
        if let Some(f) = &mut self.error {
            if f.what.is_none() {
                f.path.push(seg());
            }
        }
    }
}

/// The top-level array of a batch: each element is sized through a borrowed `RawValue` (no copy),
/// then scanned on its own.
struct Batch<'s> {
    state: &'s mut State,
}

impl<'de> Visitor<'de> for Batch<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of statements")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        loop {
            let what = format!("statement[{i}]");
            self.state.current = Some(what.clone());
            let Some(raw) = seq.next_element::<&'de RawValue>()? else {
                break;
            };
            let text = raw.get().as_bytes();
            self.state.elements = 0;
            let limits = self.state.limits;
            if text.len() > limits.max_value_bytes {
                let e = self.state.fail(FailureKind::TooLarge { size: text.len(), limit: limits.max_value_bytes });
                if let Some(f) = &mut self.state.error {
                    f.what = Some(what);
                }
                return Err(e);
            }
            let mut de = serde_json::Deserializer::from_slice(text);
            if let Err(e) = (Scan { state: self.state, depth: 0 }).deserialize(&mut de) {
                if let Some(f) = &mut self.state.error {
                    f.what = Some(what);
                    return Err(de::Error::custom("limit"));
                }
                // A RawValue is already valid JSON, so this is not expected; report it anyway.
                return Err(de::Error::custom(e));
            }
            i += 1;
        }
        self.state.current = None;
        Ok(())
    }
}

/// One value at some depth: counts it and, for containers, checks depth and walks the children.
struct Scan<'s> {
    state: &'s mut State,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Scan<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

macro_rules! scalar {
    ($($name:ident: $ty:ty),*) => {$(
        fn $name<E: de::Error>(self, _: $ty) -> Result<(), E> {
            self.state.count()
        }
    )*};
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    scalar!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str, visit_i128: i128, visit_u128: u128);
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.state.count()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.state.count()?;
        let depth = self.depth + 1;
        if depth > self.state.limits.max_depth {
            return Err(self.state.fail(FailureKind::Depth(self.state.limits.max_depth)));
        }
        let mut i = 0usize;
        loop {
            match seq.next_element_seed(Scan { state: &mut *self.state, depth }) {
                Ok(Some(())) => i += 1,
                Ok(None) => return Ok(()),
                Err(e) => {
                    self.state.on_unwind(|| format!("[{i}]"));
                    return Err(e);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.state.count()?;
        let depth = self.depth + 1;
        if depth > self.state.limits.max_depth {
            return Err(self.state.fail(FailureKind::Depth(self.state.limits.max_depth)));
        }
        // Keys borrow from the text unless they contain escapes; the set lives while the object is
        // open, and all of them together are bounded by the text's size.
        let mut keys: HashSet<Cow<'de, str>> = HashSet::new();
        while let Some(key) = map.next_key_seed(Key)? {
            if keys.contains(&key) {
                return Err(self.state.fail(FailureKind::Duplicate(key.into_owned())));
            }
            let r = map.next_value_seed(Scan { state: &mut *self.state, depth });
            if let Err(e) = r {
                self.state.on_unwind(|| segment(&key));
                return Err(e);
            }
            keys.insert(key);
        }
        Ok(())
    }
}

/// A path segment for a key: `.name` for plain identifiers, `["…"]` otherwise.
fn segment(key: &str) -> String {
    if !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        format!(".{key}")
    } else {
        format!("[{}]", serde_json::Value::String(key.to_string()))
    }
}

/// An object key, borrowed from the text when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> JsonLimits {
        JsonLimits { max_value_bytes: 200, max_elements: 10, max_depth: 3, max_request_elements: 25 }
    }

    #[test]
    fn accepts_values_within_the_limits() {
        let l = small();
        check(br#" {"a": [1, 2, {"b": null}], "c": "x"} "#, &l, "doc").unwrap();
        check_statements(br#"[{"a": 1}, {"a": 1}]"#, &l).unwrap();
        check_statements(br#"[]"#, &l).unwrap();
    }

    #[test]
    fn refuses_duplicate_keys_naming_the_key_and_path() {
        let e = check(br#"{"a": {"b": 1, "\u0062": 2}}"#, &small(), "doc").unwrap_err();
        assert_eq!(e, JsonError::DuplicateKey { what: "doc".into(), path: ".a".into(), key: "b".into() });
        let e = check_statements(br#"[{"a": 1}, {"x": [{"k": 1, "k": 1}]}]"#, &small()).unwrap_err();
        assert_eq!(e.to_string(), "statement[1].x[0] has the key \"k\" more than once");
    }

    #[test]
    fn refuses_too_many_elements_per_statement_and_per_request() {
        let e = check(b"[1,2,3,4,5,6,7,8,9,10]", &small(), "statement").unwrap_err();
        assert!(matches!(e, JsonError::TooManyElements { ref path, limit: 10, .. } if path == "[9]"), "{e}");
        let batch = format!("[{}]", [r#"{"a":[1,2,3,4]}"#; 6].join(","));
        let e = check_statements(batch.as_bytes(), &small()).unwrap_err();
        assert_eq!(e, JsonError::RequestTooManyElements { limit: 25 });
    }

    #[test]
    fn refuses_deep_nesting_and_large_values() {
        let e = check(b"[[[[1]]]]", &small(), "statement").unwrap_err();
        assert_eq!(e.to_string(), "statement[0][0][0] nests arrays and objects deeper than the 3 levels allowed");
        let big = format!("[{{\"a\":1}}, \"{}\"]", "x".repeat(300));
        let e = check_statements(big.as_bytes(), &small()).unwrap_err();
        assert!(e.is_size());
        assert!(e.to_string().starts_with("statement[1] is 302 bytes"), "{e}");
    }

    #[test]
    fn reports_syntax_errors_with_the_statement() {
        let e = check_statements(b"[{\"a\":1}, {\"a\":}]", &small()).unwrap_err();
        assert!(matches!(e, JsonError::Syntax { ref what, .. } if what == "statement[1]"), "{e}");
        let e = check(b"{\"a\":1} x", &small(), "doc").unwrap_err();
        assert!(matches!(e, JsonError::Syntax { .. }), "{e}");
    }
}

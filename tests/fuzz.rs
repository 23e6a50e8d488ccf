//! Property-based fuzzing on stable Rust (proptest) of every parser that reads client or package
//! bytes: the JSON pre-pass and statement validator, the multipart parser, the zip reader and the
//! manifest parsers (SCORM, cmi5, TinCan, AICC). Arbitrary and mutated-valid inputs must never
//! panic, stay within the limits, and be refused only with the layer's client-error variants.
//!
//! Inputs are bounded (a few KiB), and each property runs 256 cases, so the file runs in seconds.
//! Failures are not persisted to files (CI must not write into the repo); proptest prints the
//! minimal failing input, and `PROPTEST_RNG_SEED=N` replays a run.

use std::io::Write;
use std::path::Path;

use cairn::package::{self, Limits, PackageError};
use cairn::xapi::json::{self, JsonError, JsonLimits};
use cairn::xapi::multipart;
use cairn::xapi::validate::Validator;
use cairn::xapi::Version;
use proptest::prelude::*;
use serde_json::Value;

fn config() -> ProptestConfig {
    ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() }
}

fn fixture(path: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/packages").join(path);
    std::fs::read_to_string(p).expect("fixture")
}

const STATEMENT: &str = r#"{"id":"6690e6c9-3ef0-4ed3-8b37-7f3964730bee","actor":{"objectType":"Agent","name":"Ann","mbox":"mailto:ann@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/answered","display":{"en-US":"answered"}},"object":{"id":"http://example.com/q1","definition":{"interactionType":"choice","correctResponsesPattern":["a"],"choices":[{"id":"a"},{"id":"b"}],"extensions":{"http://example.com/x":[1,{"k":null}]}}},"result":{"score":{"scaled":0.5,"raw":5,"min":0,"max":10},"duration":"PT1M"},"context":{"registration":"ec531277-b57b-4c15-8d91-d292c5b2b8f7","contextActivities":{"parent":[{"id":"http://example.com/p"}]}},"timestamp":"2024-05-18T05:32:34.804Z"}"#;

/// Mutations of a valid input: byte flips, insertions and deletions at arbitrary positions.
fn mutated(valid: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8).prop_map(move |edits| {
        let mut v = valid.to_vec();
        for (at, byte, op) in edits {
            if v.is_empty() {
                v.push(byte);
                continue;
            }
            let i = at.index(v.len());
            match op {
                0 => v[i] = byte,
                1 => v.insert(i, byte),
                _ => {
                    v.remove(i);
                }
            }
        }
        v
    })
}

fn limits() -> JsonLimits {
    JsonLimits { max_value_bytes: 2048, max_elements: 64, max_depth: 8, max_request_elements: 256 }
}

/// The statements path as the server runs it: pre-pass, parse, validate. Never panics; a `Value`
/// is only built from input within the limits.
fn statements_path(bytes: &[u8], validator: &Validator) {
    match json::check_statements(bytes, &limits()) {
        Ok(()) => {
            let v: Value = serde_json::from_slice(bytes).expect("the pre-pass accepted valid JSON only");
            let list = match v {
                Value::Array(a) => a,
                other => vec![other],
            };
            let count: usize = list.iter().map(count_values).sum();
            assert!(count <= limits().max_request_elements);
            for s in &list {
                assert!(count_values(s) <= limits().max_elements);
                for version in [Version::V1_0_3, Version::V2_0_0] {
                    let _ = validator.statement(s, version);
                }
            }
        }
        Err(e) => {
            // Every refusal is one of the client-error variants, with a message.
            assert!(!e.to_string().is_empty());
            let _: JsonError = e;
        }
    }
}

fn count_values(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count_values).sum(),
        Value::Object(o) => o.values().map(count_values).sum(),
        _ => 0,
    }
}

fn validator() -> &'static Validator {
    static V: std::sync::OnceLock<Validator> = std::sync::OnceLock::new();
    V.get_or_init(Validator::new)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn statement_path_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        statements_path(&bytes, validator());
    }

    #[test]
    fn statement_path_never_panics_on_mutated_statements(bytes in mutated(STATEMENT.as_bytes())) {
        statements_path(&bytes, validator());
        let batch = [b"[".as_slice(), &bytes, b",", STATEMENT.as_bytes(), b"]"].concat();
        statements_path(&batch, validator());
    }

    #[test]
    fn statement_path_never_panics_on_generated_json(v in json_value()) {
        let text = v.to_string();
        statements_path(text.as_bytes(), validator());
    }

    #[test]
    fn multipart_parser_never_panics(body in mutated(MULTIPART.as_bytes()), ct in prop::sample::select(vec![
        "multipart/mixed; boundary=b", "multipart/mixed; boundary=\"b\"", "multipart/mixed", "text/plain",
        "multipart/mixed; boundary=", "multipart/mixed; boundary=\"unterminated",
    ])) {
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let parsed = rt.block_on(multipart::parse_mixed(ct, bytes::Bytes::from(body.clone())));
        match parsed {
            // Parts are slices of the body: the parser never makes more bytes than it was given.
            Ok(parts) => {
                prop_assert!(parts.iter().map(|p| p.body.len()).sum::<usize>() <= body.len());
                let _ = multipart::split_statements(parts);
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn scorm_manifest_parser_never_panics(bytes in mutated(SCORM.as_bytes())) {
        manifest_case(&bytes, |t, l| package::scorm::parse("imsmanifest.xml", t, l).map(drop));
    }

    #[test]
    fn cmi5_parser_never_panics(bytes in mutated(CMI5.as_bytes())) {
        manifest_case(&bytes, |t, l| package::cmi5::parse("cmi5.xml", t, l, true).map(drop));
        if let Ok(text) = std::str::from_utf8(&bytes) {
            is_client_error(package::parse_cmi5_xml(text).map(drop));
        }
    }

    #[test]
    fn tincan_parser_never_panics(bytes in mutated(TINCAN.as_bytes())) {
        manifest_case(&bytes, |t, l| package::tincan::parse("tincan.xml", t, l).map(drop));
    }

    #[test]
    fn aicc_parser_never_panics(crs in mutated(AICC_CRS.as_bytes()), au in mutated(AICC_AU.as_bytes()), des in mutated(AICC_DES.as_bytes())) {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let files = package::aicc::AiccFiles {
            crs: ("course.crs".into(), text(&crs)),
            au: Some(("course.au".into(), text(&au))),
            des: Some(("course.des".into(), text(&des))),
            cst: None,
        };
        is_client_error(package::aicc::parse(&files).map(drop));
    }

    #[test]
    fn zip_reader_never_panics_and_stays_within_limits(bytes in mutated(zip_fixture())) {
        let dir = tempfile::tempdir().expect("tempdir");
        let zip = dir.path().join("p.zip");
        std::fs::write(&zip, &bytes).expect("write");
        let dest = dir.path().join("out");
        std::fs::create_dir(&dest).expect("dest");
        let limits = Limits { max_file_bytes: 64 << 10, max_total_bytes: 128 << 10, ..Limits::default() };
        match package::import_zip(&zip, &dest, &limits, &mut |_| {}) {
            Ok(imported) => {
                let total: u64 = imported.files.iter().map(|f| f.size).sum();
                prop_assert!(total <= limits.max_total_bytes);
            }
            Err(e) => is_client_error::<()>(Err(e)),
        }
    }
}

/// A manifest parser on mutated text: never panics, and refuses only with client errors.
fn manifest_case(bytes: &[u8], parse: impl Fn(&str, &Limits) -> Result<(), PackageError>) {
    let text = String::from_utf8_lossy(bytes);
    is_client_error(parse(&text, &Limits::default()));
}

/// Every refusal of a package is about the package, never an I/O failure of ours.
fn is_client_error<T>(r: Result<T, PackageError>) {
    if let Err(e) = r {
        assert!(!matches!(e, PackageError::Io { .. }), "internal error for client input: {e}");
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-z:/.@]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec!["actor", "verb", "object", "id", "mbox", "objectType", "http://e.com/x"]),
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

const MULTIPART: &str = "--b\r\nContent-Type: application/json\r\n\r\n[{\"a\":1}]\r\n--b\r\nContent-Type: text/plain\r\nX-Experience-API-Hash: 495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a\r\nContent-Transfer-Encoding: binary\r\n\r\nhere is a simple attachment\r\n--b--\r\n";

static SCORM: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| fixture("scorm12-single/imsmanifest.xml"));
static CMI5: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| fixture("cmi5-blocks/cmi5.xml"));
static TINCAN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| fixture("tincan/tincan.xml"));
static AICC_CRS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| fixture("aicc/course.crs"));
static AICC_AU: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| fixture("aicc/course.au"));
static AICC_DES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| fixture("aicc/course.des"));

/// A small valid SCORM package zip, built once.
fn zip_fixture() -> &'static [u8] {
    static ZIP: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    ZIP.get_or_init(|| {
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        z.start_file("imsmanifest.xml", opts).expect("start");
        z.write_all(SCORM.as_bytes()).expect("write");
        z.start_file("index.html", opts).expect("start");
        z.write_all(b"<html><body>hello</body></html>").expect("write");
        z.finish().expect("finish");
        buf.into_inner()
    })
}

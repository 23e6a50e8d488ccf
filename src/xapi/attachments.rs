//! The xAPI rules tying statements' `attachments` arrays to the raw parts of a `multipart/mixed`
//! request (Communication §1.5.2, Data §2.4.11 and §2.6), and the attachment parts of a
//! `GET /statements?attachments=true` response.
//!
//! Parts and attachments are matched only by SHA-2, as the spec demands ("It MUST not do so any
//! other way"). `length` and the part's `Content-Type` are deliberately not compared with the
//! attachment object: the ADL suite itself posts a part whose length differs from `length` and
//! expects `200`, and the spec's own example declares `text/plain; charset=ascii` for a part sent
//! as `text/plain`. The rules are the same for 1.0.3 and 2.0.

use std::collections::HashMap;

use bytes::Bytes;
use serde_json::Value;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

use super::multipart::{build_mixed, media_type_essence, Part};
use super::signature::{self, SignatureError, SIGNATURE_USAGE_TYPE};
use super::version::Version;

/// Attachment data to store, keyed by the lower-case hex SHA-2 that statements reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentPayload {
    /// Lower-case hex; look-ups from a statement's `sha2` must lower-case it too.
    pub sha2: String,
    pub content_type: String,
    pub body: Bytes,
}

/// A broken attachment rule. Every variant means `400 Bad Request`.
///
/// Parts are numbered as they appear in the body, counting the statements part as part 1, so the
/// first attachment part is "part 2".
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AttachmentError {
    #[error("{location} is not a valid attachment object: {reason}")]
    MalformedAttachment { location: String, reason: String },
    #[error(
        "part {part} has no X-Experience-API-Hash header; every attachment part must declare the SHA-2 of its data"
    )]
    MissingHashHeader { part: usize },
    #[error("part {part} has X-Experience-API-Hash `{value}`, which is not a hex SHA-224/256/384/512 digest")]
    MalformedHashHeader { part: usize, value: String },
    #[error("part {part} has Content-Transfer-Encoding `{encoding}`; attachment parts must be sent as binary")]
    UnsupportedTransferEncoding { part: usize, encoding: String },
    #[error("part {part} declares X-Experience-API-Hash {declared} but its data hashes to {actual}")]
    HashMismatch { part: usize, declared: String, actual: String },
    #[error("part {part} (sha2 {sha2}) matches no attachment in the statements")]
    UnreferencedPart { part: usize, sha2: String },
    #[error("{location} (sha2 {sha2}) has no fileUrl and no multipart/mixed part carries its data")]
    MissingPart { location: String, sha2: String },
    #[error("{location} is a signature (usageType http://adlnet.gov/expapi/attachments/signature) but its contentType is `{content_type}`, not application/octet-stream")]
    SignatureContentType { location: String, content_type: String },
    #[error("{location} is a signature but no multipart/mixed part carries the JWS (sha2 {sha2})")]
    SignatureNotAttached { location: String, sha2: String },
    #[error("{location}: invalid statement signature: {source}")]
    Signature {
        location: String,
        #[source]
        source: SignatureError,
    },
}

/// Statements as handed to [`match_parts`]: a posted single statement or a batch array.
pub fn statements_of(value: &Value) -> &[Value] {
    match value {
        Value::Array(list) => list,
        single => std::slice::from_ref(single),
    }
}

/// One attachment object found in the statements.
struct AttachmentRef<'a> {
    location: String,
    /// Index of the top-level statement; `None` for a SubStatement's attachments.
    signed_statement: Option<usize>,
    sha2: String,
    has_file_url: bool,
    usage_type: Option<&'a str>,
    content_type: Option<&'a str>,
}

/// Collects every attachment object, including those of SubStatements: the spec recommends putting
/// a SubStatement's attachments on the outer statement but does not forbid them, and their data
/// travels in the same request, so they follow the same part-matching rules.
fn collect(statements: &[Value]) -> Result<Vec<AttachmentRef<'_>>, AttachmentError> {
    let mut found = Vec::new();
    for (i, statement) in statements.iter().enumerate() {
        collect_from(statement, format!("statement {i}"), Some(i), &mut found)?;
        if let Some(object) = statement.get("object") {
            if object.get("objectType").and_then(Value::as_str) == Some("SubStatement") {
                collect_from(object, format!("statement {i} SubStatement"), None, &mut found)?;
            }
        }
    }
    Ok(found)
}

fn collect_from<'a>(
    statement: &'a Value,
    owner: String,
    signed_statement: Option<usize>,
    found: &mut Vec<AttachmentRef<'a>>,
) -> Result<(), AttachmentError> {
    let Some(attachments) = statement.get("attachments") else {
        return Ok(());
    };
    let list = attachments.as_array().ok_or_else(|| AttachmentError::MalformedAttachment {
        location: format!("{owner} attachments"),
        reason: "not an array".to_string(),
    })?;
    for (j, attachment) in list.iter().enumerate() {
        let location = format!("{owner} attachment {j}");
        let sha2 =
            attachment.get("sha2").and_then(Value::as_str).ok_or_else(|| AttachmentError::MalformedAttachment {
                location: location.clone(),
                reason: "sha2 is missing or not a string".to_string(),
            })?;
        found.push(AttachmentRef {
            location,
            signed_statement,
            sha2: sha2.trim().to_ascii_lowercase(),
            has_file_url: attachment.get("fileUrl").is_some_and(|u| !u.is_null()),
            usage_type: attachment.get("usageType").and_then(Value::as_str),
            content_type: attachment.get("contentType").and_then(Value::as_str),
        });
    }
    Ok(())
}

/// The hex digest of `data` with the SHA-2 variant implied by the declared digest's length.
fn sha2_hex_like(declared: &str, data: &[u8]) -> Option<String> {
    if !declared.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(match declared.len() {
        56 => hex::encode(Sha224::digest(data)),
        64 => hex::encode(Sha256::digest(data)),
        96 => hex::encode(Sha384::digest(data)),
        128 => hex::encode(Sha512::digest(data)),
        _ => return None,
    })
}

/// Checks a `multipart/mixed` request's attachment parts (everything after the statements part)
/// against the statements, verifies signed statements, and returns the data to store, one payload
/// per distinct SHA-2 in the order first sent.
///
/// `statements` are the parsed statements as received (see [`statements_of`]), before the LRS
/// assigns ids or other properties, since signatures cover what the client sent.
pub fn match_parts(
    statements: &[Value],
    parts: Vec<Part>,
    _version: Version,
) -> Result<Vec<AttachmentPayload>, AttachmentError> {
    let attachments = collect(statements)?;
    let mut payloads: Vec<AttachmentPayload> = Vec::new();
    let mut by_sha: HashMap<String, usize> = HashMap::new();
    for (index, part) in parts.into_iter().enumerate() {
        let number = index + 2;
        let declared =
            part.header("x-experience-api-hash").ok_or(AttachmentError::MissingHashHeader { part: number })?;
        let declared = declared.trim().to_ascii_lowercase();
        // Communication §1.5.2: the LRS SHOULD assume binary when the header is absent, but any
        // other declared encoding is one we do not decode, so the hash could never match.
        if let Some(encoding) = part.header("content-transfer-encoding") {
            if !encoding.trim().eq_ignore_ascii_case("binary") {
                return Err(AttachmentError::UnsupportedTransferEncoding {
                    part: number,
                    encoding: encoding.to_string(),
                });
            }
        }
        let actual = sha2_hex_like(&declared, &part.body)
            .ok_or_else(|| AttachmentError::MalformedHashHeader { part: number, value: declared.clone() })?;
        if actual != declared {
            return Err(AttachmentError::HashMismatch { part: number, declared, actual });
        }
        let Some(first_ref) = attachments.iter().find(|a| a.sha2 == declared) else {
            return Err(AttachmentError::UnreferencedPart { part: number, sha2: declared });
        };
        if by_sha.contains_key(&declared) {
            continue; // The same data sent twice: one copy is enough.
        }
        let content_type =
            part.content_type().or(first_ref.content_type).unwrap_or("application/octet-stream").to_string();
        by_sha.insert(declared.clone(), payloads.len());
        payloads.push(AttachmentPayload { sha2: declared, content_type, body: part.body });
    }

    for attachment in &attachments {
        check_signature_metadata(attachment)?;
        if !attachment.has_file_url && !by_sha.contains_key(&attachment.sha2) {
            return Err(AttachmentError::MissingPart {
                location: attachment.location.clone(),
                sha2: attachment.sha2.clone(),
            });
        }
    }

    for attachment in attachments.iter().filter(|a| is_signature(a)) {
        let Some(statement_index) = attachment.signed_statement else {
            continue; // A SubStatement cannot be signed separately from its statement.
        };
        let Some(&payload_index) = by_sha.get(&attachment.sha2) else {
            // XAPI-00115: a signature attachment must come with its JWS, fileUrl or not.
            return Err(AttachmentError::SignatureNotAttached {
                location: attachment.location.clone(),
                sha2: attachment.sha2.clone(),
            });
        };
        signature::verify(&statements[statement_index], &payloads[payload_index].body)
            .map_err(|source| AttachmentError::Signature { location: attachment.location.clone(), source })?;
    }
    Ok(payloads)
}

fn is_signature(attachment: &AttachmentRef<'_>) -> bool {
    attachment.usage_type == Some(SIGNATURE_USAGE_TYPE)
}

/// Data §2.6: a signature attachment's contentType must be `application/octet-stream`.
fn check_signature_metadata(attachment: &AttachmentRef<'_>) -> Result<(), AttachmentError> {
    if attachment.signed_statement.is_none() || !is_signature(attachment) {
        return Ok(());
    }
    let content_type = attachment.content_type.unwrap_or("");
    if media_type_essence(content_type) != "application/octet-stream" {
        return Err(AttachmentError::SignatureContentType {
            location: attachment.location.clone(),
            content_type: content_type.to_string(),
        });
    }
    Ok(())
}

/// For statements posted as `application/json`: no part can carry data, so every attachment needs a
/// `fileUrl`, and a signed statement (whose JWS must be attached) cannot be accepted at all.
pub fn check_no_parts(statements: &[Value]) -> Result<(), AttachmentError> {
    for attachment in collect(statements)? {
        check_signature_metadata(&attachment)?;
        if is_signature(&attachment) && attachment.signed_statement.is_some() {
            return Err(AttachmentError::SignatureNotAttached { location: attachment.location, sha2: attachment.sha2 });
        }
        if !attachment.has_file_url {
            return Err(AttachmentError::MissingPart { location: attachment.location, sha2: attachment.sha2 });
        }
    }
    Ok(())
}

/// Builds the `multipart/mixed` response for `GET /statements?attachments=true`: the StatementResult
/// (or single statement) JSON first, then one part per distinct SHA-2. Returns the `Content-Type`
/// header value and the body.
pub fn build_response(result_json: Bytes, payloads: &[AttachmentPayload]) -> (String, Bytes) {
    let mut parts = vec![("application/json".to_string(), Vec::new(), result_json)];
    let mut seen = std::collections::HashSet::new();
    for payload in payloads {
        let sha2 = payload.sha2.to_ascii_lowercase();
        if !seen.insert(sha2.clone()) {
            continue;
        }
        parts.push((
            payload.content_type.clone(),
            vec![
                ("Content-Transfer-Encoding".to_string(), "binary".to_string()),
                ("X-Experience-API-Hash".to_string(), sha2),
            ],
            payload.body.clone(),
        ));
    }
    build_mixed(&parts)
}

#[cfg(test)]
mod tests {
    use super::super::multipart::{parse_mixed, split_statements};
    use super::*;
    use serde_json::json;

    const TEXT1: &[u8] = b"here is a simple attachment";
    const TEXT2: &[u8] = b"here is another simple attachment";
    const V: Version = Version::V1_0_3;

    fn sha(data: &[u8]) -> String {
        hex::encode(Sha256::digest(data))
    }

    fn attachment(data: &[u8], file_url: bool) -> Value {
        let mut a = json!({
            "usageType": "http://example.com/attachment-usage/test",
            "display": {"en-US": "A test attachment"},
            "contentType": "text/plain",
            "length": data.len(),
            "sha2": sha(data),
        });
        if file_url {
            a["fileUrl"] = json!("http://over.there.com/file.txt");
        }
        a
    }

    fn statement(attachments: Vec<Value>) -> Value {
        json!({
            "actor": {"mbox": "mailto:sample.agent@example.com", "objectType": "Agent"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
            "object": {"id": "http://www.example.com/activities/multipart", "objectType": "Activity"},
            "attachments": attachments,
        })
    }

    fn part(data: &[u8]) -> Part {
        Part {
            headers: vec![
                ("content-type".into(), "text/plain".into()),
                ("content-transfer-encoding".into(), "binary".into()),
                ("x-experience-api-hash".into(), sha(data)),
            ],
            body: Bytes::copy_from_slice(data),
        }
    }

    fn without(mut p: Part, header: &str) -> Part {
        p.headers.retain(|(n, _)| n != header);
        p
    }

    fn with(mut p: Part, header: &str, value: &str) -> Part {
        p.headers.retain(|(n, _)| n != header);
        p.headers.push((header.to_string(), value.to_string()));
        p
    }

    #[test]
    fn matching_parts_are_returned_once() {
        let s1 = statement(vec![attachment(TEXT1, false), attachment(TEXT2, false)]);
        let s2 = statement(vec![attachment(TEXT1, false)]);
        let got = match_parts(&[s1, s2], vec![part(TEXT1), part(TEXT2), part(TEXT1)], V).expect("valid");
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0],
            AttachmentPayload { sha2: sha(TEXT1), content_type: "text/plain".into(), body: Bytes::from_static(TEXT1) }
        );
        assert_eq!(got[1].sha2, sha(TEXT2));
    }

    #[test]
    fn file_url_attachments_need_no_part_but_may_have_one() {
        let s = statement(vec![attachment(TEXT1, true)]);
        assert_eq!(match_parts(std::slice::from_ref(&s), vec![], V), Ok(vec![]));
        // Suite XAPI-00161: fileUrl and a part; the data is stored and served back.
        assert_eq!(match_parts(&[s], vec![part(TEXT1)], Version::V2_0_0).map(|p| p.len()), Ok(1));
    }

    #[test]
    fn no_attachments_at_all_is_fine() {
        let mut s = statement(vec![]);
        assert_eq!(match_parts(std::slice::from_ref(&s), vec![], V), Ok(vec![]));
        s.as_object_mut().map(|o| o.remove("attachments"));
        assert_eq!(match_parts(std::slice::from_ref(&s), vec![], V), Ok(vec![]));
        assert_eq!(check_no_parts(&[s]), Ok(()));
    }

    #[test]
    fn missing_hash_header_is_rejected() {
        let s = statement(vec![attachment(TEXT1, false)]);
        let err = match_parts(&[s], vec![without(part(TEXT1), "x-experience-api-hash")], V);
        assert_eq!(err, Err(AttachmentError::MissingHashHeader { part: 2 }));
    }

    #[test]
    fn hash_mismatch_is_rejected() {
        let s = statement(vec![attachment(TEXT1, false)]);
        let declared = "b018994f8bbe0f08992a65c48c8c8c56f09e9baceaa6227ed85c90ae52b73c89";
        let err = match_parts(&[s], vec![with(part(TEXT1), "x-experience-api-hash", declared)], V);
        assert_eq!(err, Err(AttachmentError::HashMismatch { part: 2, declared: declared.into(), actual: sha(TEXT1) }));
    }

    #[test]
    fn malformed_hash_header_is_rejected() {
        let s = statement(vec![attachment(TEXT1, false)]);
        for bad in ["", "xyz", "abc123", &"g".repeat(64)] {
            let err = match_parts(std::slice::from_ref(&s), vec![with(part(TEXT1), "x-experience-api-hash", bad)], V);
            assert!(matches!(err, Err(AttachmentError::MalformedHashHeader { part: 2, .. })), "{bad}: {err:?}");
        }
    }

    #[test]
    fn hash_header_is_case_insensitive_and_other_sha2_sizes_work() {
        let mut a = attachment(TEXT1, false);
        a["sha2"] = json!(hex::encode(Sha512::digest(TEXT1)).to_uppercase());
        let p = with(part(TEXT1), "x-experience-api-hash", &hex::encode(Sha512::digest(TEXT1)).to_uppercase());
        let got = match_parts(&[statement(vec![a])], vec![p], V).expect("valid");
        assert_eq!(got[0].sha2, hex::encode(Sha512::digest(TEXT1)));
    }

    #[test]
    fn transfer_encoding_rules() {
        let s = statement(vec![attachment(TEXT1, false)]);
        // Suite XAPI-00135: base64 is refused.
        let err =
            match_parts(std::slice::from_ref(&s), vec![with(part(TEXT1), "content-transfer-encoding", "base64")], V);
        assert_eq!(err, Err(AttachmentError::UnsupportedTransferEncoding { part: 2, encoding: "base64".into() }));
        // Absent: the LRS SHOULD assume binary.
        assert!(
            match_parts(std::slice::from_ref(&s), vec![without(part(TEXT1), "content-transfer-encoding")], V).is_ok()
        );
        assert!(match_parts(&[s], vec![with(part(TEXT1), "content-transfer-encoding", "Binary")], V).is_ok());
    }

    #[test]
    fn unreferenced_part_is_rejected() {
        // Suite XAPI-00128: a third part no attachment mentions.
        let text3: &[u8] = b"here is a third attachment";
        let s = statement(vec![attachment(TEXT1, false), attachment(TEXT2, false)]);
        let err = match_parts(&[s], vec![part(TEXT1), part(TEXT2), part(text3)], V);
        assert_eq!(err, Err(AttachmentError::UnreferencedPart { part: 4, sha2: sha(text3) }));
    }

    #[test]
    fn missing_part_is_rejected() {
        // Suite XAPI-00129: two attachments without fileUrl, one part.
        let s = statement(vec![attachment(TEXT1, false), attachment(TEXT2, false)]);
        let err = match_parts(&[s], vec![part(TEXT1)], V);
        assert_eq!(
            err,
            Err(AttachmentError::MissingPart { location: "statement 0 attachment 1".into(), sha2: sha(TEXT2) })
        );
    }

    #[test]
    fn length_and_content_type_differences_are_tolerated() {
        // Suite XAPI-00127 posts hex text whose length is twice the declared `length`.
        let mut a = attachment(TEXT1, false);
        a["length"] = json!(3);
        a["contentType"] = json!("image/jpeg");
        let got = match_parts(&[statement(vec![a])], vec![part(TEXT1)], V).expect("valid");
        assert_eq!(got[0].content_type, "text/plain");
        // Without a part Content-Type, the attachment's contentType is used.
        let got =
            match_parts(&[statement(vec![attachment(TEXT1, false)])], vec![without(part(TEXT1), "content-type")], V)
                .expect("valid");
        assert_eq!(got[0].content_type, "text/plain");
    }

    #[test]
    fn substatement_attachments_count() {
        let mut s = statement(vec![]);
        s["object"] = json!({
            "objectType": "SubStatement",
            "actor": {"mbox": "mailto:a@example.com"},
            "verb": {"id": "http://example.com/v"},
            "object": {"id": "http://example.com/o"},
            "attachments": [attachment(TEXT1, false)],
        });
        assert_eq!(match_parts(std::slice::from_ref(&s), vec![part(TEXT1)], V).map(|p| p.len()), Ok(1));
        assert!(matches!(match_parts(std::slice::from_ref(&s), vec![], V), Err(AttachmentError::MissingPart { .. })));
        assert!(matches!(check_no_parts(&[s]), Err(AttachmentError::MissingPart { .. })));
    }

    #[test]
    fn malformed_attachment_objects() {
        let mut s = statement(vec![]);
        s["attachments"] = json!({"sha2": "00"});
        assert!(matches!(check_no_parts(std::slice::from_ref(&s)), Err(AttachmentError::MalformedAttachment { .. })));
        s["attachments"] = json!([12345]);
        assert!(matches!(match_parts(&[s], vec![], V), Err(AttachmentError::MalformedAttachment { .. })));
    }

    #[test]
    fn check_no_parts_rules() {
        assert_eq!(check_no_parts(&[statement(vec![attachment(TEXT1, true)])]), Ok(()));
        let err = check_no_parts(&[statement(vec![attachment(TEXT1, true), attachment(TEXT2, false)])]);
        assert_eq!(
            err,
            Err(AttachmentError::MissingPart { location: "statement 0 attachment 1".into(), sha2: sha(TEXT2) })
        );
        let mut sig = attachment(b"jws", true);
        sig["usageType"] = json!(SIGNATURE_USAGE_TYPE);
        sig["contentType"] = json!("application/octet-stream");
        assert!(matches!(check_no_parts(&[statement(vec![sig])]), Err(AttachmentError::SignatureNotAttached { .. })));
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/fixtures/attachments/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The fixture payload posted with its signature attachment, as the suite's signStatement does.
    fn signed(jws: &[u8], content_type: &str) -> (Value, Part) {
        let mut s: Value = serde_json::from_slice(&fixture("signed-statement.payload.json")).expect("fixture");
        s["attachments"] = json!([{
            "usageType": SIGNATURE_USAGE_TYPE,
            "display": {"en-US": "Signed by the Test Suite"},
            "contentType": content_type,
            "length": jws.len(),
            "sha2": sha(jws),
        }]);
        let p = Part {
            headers: vec![
                ("content-type".into(), content_type.into()),
                ("content-transfer-encoding".into(), "binary".into()),
                ("x-experience-api-hash".into(), sha(jws)),
            ],
            body: Bytes::copy_from_slice(jws),
        };
        (s, p)
    }

    #[test]
    fn signed_statement_is_verified() {
        for name in ["signed-rs256.jws", "signed-rs384.jws", "signed-rs512.jws"] {
            let (s, p) = signed(&fixture(name), "application/octet-stream");
            assert_eq!(match_parts(&[s], vec![p], V).map(|p| p.len()), Ok(1), "{name}");
        }
    }

    #[test]
    fn bad_signature_is_rejected() {
        let (s, p) = signed(&fixture("signed-rs256-wrong-cert.jws"), "application/octet-stream");
        let err = match_parts(&[s], vec![p], V);
        assert!(matches!(err, Err(AttachmentError::Signature { source: SignatureError::BadSignature, .. })), "{err:?}");
        let (s, p) = signed(b"not.a.jws", "application/octet-stream");
        assert!(matches!(match_parts(&[s], vec![p], V), Err(AttachmentError::Signature { .. })));
    }

    #[test]
    fn signature_with_wrong_content_type_is_rejected() {
        // Suite XAPI-00115 "bad content type".
        let (s, p) = signed(&fixture("signed-rs256.jws"), "text/plain; charset=ascii");
        let err = match_parts(&[s], vec![p], V);
        assert!(matches!(err, Err(AttachmentError::SignatureContentType { .. })), "{err:?}");
    }

    #[test]
    fn signature_must_be_attached_even_with_file_url() {
        let (mut s, _) = signed(&fixture("signed-rs256.jws"), "application/octet-stream");
        s["attachments"][0]["fileUrl"] = json!("http://example.com/sig.jws");
        assert!(matches!(match_parts(&[s], vec![], V), Err(AttachmentError::SignatureNotAttached { .. })));
    }

    #[test]
    fn signed_statement_with_payload_changed_after_signing() {
        let (mut s, p) = signed(&fixture("signed-rs256.jws"), "application/octet-stream");
        s["verb"]["id"] = json!("http://adlnet.gov/expapi/verbs/failed");
        let err = match_parts(&[s], vec![p], V);
        assert!(
            matches!(err, Err(AttachmentError::Signature { source: SignatureError::PayloadMismatch(_), .. })),
            "{err:?}"
        );
    }

    #[test]
    fn error_messages_name_the_part_and_rule() {
        let msg = AttachmentError::MissingHashHeader { part: 2 }.to_string();
        assert!(msg.contains("part 2") && msg.contains("X-Experience-API-Hash"), "{msg}");
        let msg =
            AttachmentError::MissingPart { location: "statement 1 attachment 0".into(), sha2: "ab".into() }.to_string();
        assert!(msg.contains("statement 1 attachment 0") && msg.contains("fileUrl"), "{msg}");
    }

    #[test]
    fn full_request_round_trip_through_multipart() {
        // The suite's XAPI-00127 success case, end to end: parse, split, match.
        let b = "-------314159265358979323846";
        let s = statement(vec![attachment(TEXT1, false)]);
        let body = format!(
            "--{b}\r\nContent-Type: application/json\r\n\r\n{s}\r\n--{b}\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {}\r\n\r\n{}\r\n--{b}--\r\n",
            sha(TEXT1),
            String::from_utf8_lossy(TEXT1)
        );
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let parts =
            rt.block_on(parse_mixed(&format!("multipart/mixed; boundary={b}"), Bytes::from(body))).expect("parse");
        let (json_part, rest) = split_statements(parts).expect("first part json");
        let posted: Value = serde_json::from_slice(&json_part.body).expect("json");
        let payloads = match_parts(statements_of(&posted), rest, V).expect("valid");
        assert_eq!(payloads.len(), 1);

        // And back out as a GET ?attachments=true response, duplicates collapsed.
        let doubled = [payloads[0].clone(), payloads[0].clone()];
        let (ct, out) = build_response(Bytes::from_static(b"{\"statements\":[]}"), &doubled);
        let parsed = rt.block_on(parse_mixed(&ct, out)).expect("parse response");
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].content_type(), Some("application/json"));
        assert_eq!(parsed[1].header("x-experience-api-hash"), Some(sha(TEXT1).as_str()));
        assert_eq!(parsed[1].header("content-transfer-encoding"), Some("binary"));
        assert_eq!(&parsed[1].body[..], TEXT1);
    }
}

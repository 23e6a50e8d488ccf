//! Verification of signed statements (xAPI 1.0.3 Data §2.6; unchanged in 2.0).
//!
//! The signature travels as an attachment whose data is a JWS (RFC 7515). The LRS must reject a
//! malformed signature with `400`: an algorithm other than RS256/RS384/RS512, a payload that is not
//! the statement, or (when the header carries an `x5c` certificate) a signature that does not verify.
//! Per the spec the certificate check "is intended as a way to catch mistakes, not as a security
//! measure", so the chain is not validated (no trust anchors, expiry or revocation), only the leaf
//! certificate's key is used. Without `x5c` (or an embedded RSA `jwk`) there is no key to check
//! against, and only the structure, algorithm and payload are verified; the ADL conformance suite
//! signs exactly that way.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rsa::pkcs8::der::asn1::AnyRef;
use rsa::pkcs8::der::{Decode, SliceReader, Tag, Tagged};
use rsa::pkcs8::SubjectPublicKeyInfoRef;
use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::duration;

/// The attachment usageType that marks a statement signature.
pub const SIGNATURE_USAGE_TYPE: &str = "http://adlnet.gov/expapi/attachments/signature";

/// Top-level statement properties the LRS may assign or rewrite (Data §2.3.1 immutability
/// exceptions), so a difference in them never makes a signed payload "not the statement".
const LRS_ASSIGNED_IGNORED: [&str; 3] = ["authority", "stored", "version"];

/// Why a signature is rejected. Every variant means `400 Bad Request`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the JWS is not UTF-8 text")]
    NotText,
    #[error("the JWS is malformed: {0}")]
    Malformed(String),
    #[error("JWS algorithm `{0}` is not allowed; xAPI requires RS256, RS384 or RS512")]
    Algorithm(String),
    #[error("the JWS header marks extensions {0} as critical, which Cairn does not support")]
    Critical(String),
    #[error("the JWS x5c certificate is unusable: {0}")]
    Certificate(String),
    #[error("the JWS jwk key is unusable: {0}")]
    Key(String),
    #[error("the JWS signature does not verify with the key in its header")]
    BadSignature,
    #[error("the JWS payload is not a JSON statement: {0}")]
    PayloadNotJson(String),
    #[error("the JWS payload is not the statement that was sent: they differ at `{0}`")]
    PayloadMismatch(String),
}

#[derive(Clone, Copy)]
enum Alg {
    Rs256,
    Rs384,
    Rs512,
}

impl Alg {
    fn parse(name: &str) -> Option<Alg> {
        match name {
            "RS256" => Some(Alg::Rs256),
            "RS384" => Some(Alg::Rs384),
            "RS512" => Some(Alg::Rs512),
            _ => None,
        }
    }

    fn verify(self, key: &RsaPublicKey, input: &[u8], sig: &[u8]) -> Result<(), SignatureError> {
        let result = match self {
            Alg::Rs256 => key.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(input), sig),
            Alg::Rs384 => key.verify(Pkcs1v15Sign::new::<Sha384>(), &Sha384::digest(input), sig),
            Alg::Rs512 => key.verify(Pkcs1v15Sign::new::<Sha512>(), &Sha512::digest(input), sig),
        };
        result.map_err(|_| SignatureError::BadSignature)
    }
}

/// Verifies that `jws` is a well-formed RS256/384/512 signature whose payload is `statement` (as
/// received, before the LRS assigns anything). Compact serialization is expected; the discouraged
/// JWS JSON serialization (flattened or general) is accepted too, every signature in it checked.
pub fn verify(statement: &Value, jws: &[u8]) -> Result<(), SignatureError> {
    let text = std::str::from_utf8(jws).map_err(|_| SignatureError::NotText)?.trim();
    if text.starts_with('{') {
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| SignatureError::Malformed(format!("JSON serialization does not parse: {e}")))?;
        let payload = doc
            .get("payload")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("JSON serialization has no payload string"))?;
        let signatures: Vec<&Value> = match doc.get("signatures") {
            Some(Value::Array(list)) if !list.is_empty() => list.iter().collect(),
            Some(_) => return Err(malformed("JSON serialization `signatures` is not a non-empty array")),
            None => vec![&doc],
        };
        for entry in signatures {
            let protected = entry
                .get("protected")
                .and_then(Value::as_str)
                .ok_or_else(|| malformed("a signature has no protected header"))?;
            let signature = entry
                .get("signature")
                .and_then(Value::as_str)
                .ok_or_else(|| malformed("a signature has no signature string"))?;
            verify_one(statement, protected, payload, signature)?;
        }
        return Ok(());
    }
    let mut segments = text.split('.');
    match (segments.next(), segments.next(), segments.next(), segments.next()) {
        (Some(header), Some(payload), Some(signature), None) => verify_one(statement, header, payload, signature),
        _ => Err(malformed("compact serialization must have exactly three dot-separated segments")),
    }
}

fn malformed(why: &str) -> SignatureError {
    SignatureError::Malformed(why.to_string())
}

fn b64url(segment: &str, what: &str) -> Result<Vec<u8>, SignatureError> {
    URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .map_err(|_| SignatureError::Malformed(format!("the {what} is not base64url")))
}

fn verify_one(
    statement: &Value,
    header_b64: &str,
    payload_b64: &str,
    signature_b64: &str,
) -> Result<(), SignatureError> {
    let header: Value =
        serde_json::from_slice(&b64url(header_b64, "header")?).map_err(|_| malformed("the header is not JSON"))?;
    let header = header.as_object().ok_or_else(|| malformed("the header is not a JSON object"))?;
    let alg_name = match header.get("alg") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => return Err(SignatureError::Algorithm("(none given)".to_string())),
    };
    let alg = Alg::parse(&alg_name).ok_or(SignatureError::Algorithm(alg_name))?;
    // RFC 7515 §4.1.11: a recipient that does not understand a critical extension must reject.
    if let Some(crit) = header.get("crit") {
        return Err(SignatureError::Critical(crit.to_string()));
    }
    let signature = b64url(signature_b64, "signature")?;
    if signature.is_empty() {
        return Err(malformed("the signature segment is empty"));
    }
    let key = if let Some(x5c) = header.get("x5c") {
        Some(leaf_certificate_key(x5c)?)
    } else if let Some(jwk) = header.get("jwk") {
        Some(jwk_key(jwk)?)
    } else {
        None
    };
    if let Some(key) = key {
        let input = format!("{header_b64}.{payload_b64}");
        alg.verify(&key, input.as_bytes(), &signature)?;
    }
    let payload: Value = serde_json::from_slice(&b64url(payload_b64, "payload")?)
        .map_err(|e| SignatureError::PayloadNotJson(e.to_string()))?;
    if !payload.is_object() {
        return Err(SignatureError::PayloadNotJson("it is not a JSON object".to_string()));
    }
    match statement_difference(&payload, statement) {
        Some(path) => Err(SignatureError::PayloadMismatch(path)),
        None => Ok(()),
    }
}

/// The RSA public key of the first (leaf) certificate of an `x5c` chain: standard base64 DER
/// (RFC 7515 §4.1.6), so not base64url, though that is tolerated.
fn leaf_certificate_key(x5c: &Value) -> Result<RsaPublicKey, SignatureError> {
    let chain = x5c
        .as_array()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| SignatureError::Certificate("x5c is not a non-empty array".to_string()))?;
    let leaf = chain[0].as_str().ok_or_else(|| SignatureError::Certificate("x5c[0] is not a string".to_string()))?;
    let der = STANDARD
        .decode(leaf)
        .or_else(|_| URL_SAFE_NO_PAD.decode(leaf.trim_end_matches('=')))
        .map_err(|_| SignatureError::Certificate("x5c[0] is not base64".to_string()))?;
    spki_of_certificate(&der)
}

/// Walks `Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber,
/// signature, issuer, validity, subject, subjectPublicKeyInfo, … }, … }` (RFC 5280 §4.1) far
/// enough to read the key; nothing else in the certificate matters for xAPI.
fn spki_of_certificate(der: &[u8]) -> Result<RsaPublicKey, SignatureError> {
    let bad = |what: &str| SignatureError::Certificate(format!("x5c[0] is not a DER X.509 certificate ({what})"));
    let cert = AnyRef::from_der(der).map_err(|_| bad("outer structure"))?;
    if cert.tag() != Tag::Sequence {
        return Err(bad("outer structure"));
    }
    let mut cert_fields = SliceReader::new(cert.value()).map_err(|_| bad("certificate fields"))?;
    let tbs = AnyRef::decode(&mut cert_fields).map_err(|_| bad("tbsCertificate"))?;
    if tbs.tag() != Tag::Sequence {
        return Err(bad("tbsCertificate"));
    }
    let mut fields = SliceReader::new(tbs.value()).map_err(|_| bad("tbsCertificate fields"))?;
    let first = AnyRef::decode(&mut fields).map_err(|_| bad("version or serial number"))?;
    // After the optional [0] version come serial (unless `first` was it), signature, issuer,
    // validity and subject.
    let to_skip = if matches!(first.tag(), Tag::ContextSpecific { .. }) { 5 } else { 4 };
    for _ in 0..to_skip {
        AnyRef::decode(&mut fields).map_err(|_| bad("tbsCertificate fields"))?;
    }
    let spki = SubjectPublicKeyInfoRef::decode(&mut fields).map_err(|_| bad("subjectPublicKeyInfo"))?;
    RsaPublicKey::try_from(spki)
        .map_err(|_| SignatureError::Certificate("the certificate's key is not a usable RSA key".to_string()))
}

/// An embedded RFC 7517 RSA key (`{"kty":"RSA","n":…,"e":…}`).
fn jwk_key(jwk: &Value) -> Result<RsaPublicKey, SignatureError> {
    let field = |name: &str| {
        jwk.get(name).and_then(Value::as_str).ok_or_else(|| SignatureError::Key(format!("missing `{name}`")))
    };
    if field("kty")? != "RSA" {
        return Err(SignatureError::Key("kty is not RSA".to_string()));
    }
    let n = URL_SAFE_NO_PAD.decode(field("n")?).map_err(|_| SignatureError::Key("`n` is not base64url".to_string()))?;
    let e = URL_SAFE_NO_PAD.decode(field("e")?).map_err(|_| SignatureError::Key("`e` is not base64url".to_string()))?;
    RsaPublicKey::new(BigUint::from_bytes_be(&n), BigUint::from_bytes_be(&e))
        .map_err(|e| SignatureError::Key(e.to_string()))
}

fn is_signature_attachment(att: &Value) -> bool {
    att.get("usageType").and_then(Value::as_str) == Some(SIGNATURE_USAGE_TYPE)
}

/// The non-signature attachments of a statement, if it has an `attachments` array.
fn other_attachments(stmt: &Map<String, Value>) -> Option<Vec<&Value>> {
    stmt.get("attachments")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter(|a| !is_signature_attachment(a)).collect())
}

/// Compares the signed payload with the received statement under Data §2.3.1 "Statement comparison
/// requirements", returning the path of the first difference.
///
/// Ignored: `authority`, `stored` and `version` (the LRS may set them); `id` and `timestamp` when
/// only one side has them (the LRS assigns them when absent; when both have them they must agree,
/// timestamps as instants); the signature attachment itself (added after signing). A payload with
/// no `attachments` at all is accepted even when the statement has other attachments, because
/// signers (the ADL suite among them) commonly sign the statement with attachments stripped.
pub fn statement_difference(payload: &Value, received: &Value) -> Option<String> {
    let (Some(signed), Some(got)) = (payload.as_object(), received.as_object()) else {
        return Some("$".to_string());
    };
    let mut keys: Vec<&String> = signed.keys().chain(got.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let path = format!("$.{key}");
        let (a, b) = (signed.get(key.as_str()), got.get(key.as_str()));
        match key.as_str() {
            k if LRS_ASSIGNED_IGNORED.contains(&k) => {}
            "attachments" => {
                let signed_atts = other_attachments(signed);
                let got_atts = other_attachments(got).unwrap_or_default();
                match signed_atts {
                    None if a.is_none() => {}
                    None => return Some(path),
                    Some(list) => {
                        if list.len() != got_atts.len() {
                            return Some(path);
                        }
                        for (i, (x, y)) in list.iter().zip(got_atts.iter()).enumerate() {
                            if let Some(p) = value_difference(x, y, &format!("{path}[{i}]")) {
                                return Some(p);
                            }
                        }
                    }
                }
            }
            "id" => {
                if let (Some(x), Some(y)) = (a, b) {
                    let same = match (x.as_str(), y.as_str()) {
                        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
                        _ => x == y,
                    };
                    if !same {
                        return Some(path);
                    }
                }
            }
            "timestamp" => {
                if let (Some(x), Some(y)) = (a, b) {
                    if !same_instant(x, y) {
                        return Some(path);
                    }
                }
            }
            _ => match (a, b) {
                (Some(x), Some(y)) => {
                    if let Some(p) = value_difference(x, y, &path) {
                        return Some(p);
                    }
                }
                _ => return Some(path),
            },
        }
    }
    None
}

fn same_instant(a: &Value, b: &Value) -> bool {
    use time::format_description::well_known::Rfc3339;
    use time::OffsetDateTime;
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => match (OffsetDateTime::parse(x, &Rfc3339), OffsetDateTime::parse(y, &Rfc3339)) {
            (Ok(x), Ok(y)) => x == y,
            _ => x == y,
        },
        _ => a == b,
    }
}

/// Deep JSON comparison with the serialization leeway the spec allows: object key order, number
/// spelling (`1` vs `1.0`), the order of a Group's `member` list, the case of an `mbox` domain, and
/// `result.duration` precision beyond 0.01 s (xAPI 2.0 section 4.2.7: a signer may have kept more
/// or fewer digits than the statement sent).
fn value_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            if x.len() != y.len() || x.keys().any(|k| !y.contains_key(k)) {
                return Some(path.to_string());
            }
            for (key, xv) in x {
                let yv = y.get(key)?;
                let child = format!("{path}.{key}");
                match (key.as_str(), xv, yv) {
                    ("member", Value::Array(xs), Value::Array(ys)) => {
                        if !same_unordered(xs, ys, &child) {
                            return Some(child);
                        }
                    }
                    ("mbox", Value::String(xs), Value::String(ys)) => {
                        if normalize_mbox(xs) != normalize_mbox(ys) {
                            return Some(child);
                        }
                    }
                    ("duration", Value::String(xs), Value::String(ys)) if is_result_duration(&child) => {
                        if duration::comparable(xs) != duration::comparable(ys) {
                            return Some(child);
                        }
                    }
                    _ => {
                        if let Some(p) = value_difference(xv, yv, &child) {
                            return Some(p);
                        }
                    }
                }
            }
            None
        }
        (Value::Array(xs), Value::Array(ys)) => {
            if xs.len() != ys.len() {
                return Some(path.to_string());
            }
            xs.iter().zip(ys).enumerate().find_map(|(i, (x, y))| value_difference(x, y, &format!("{path}[{i}]")))
        }
        (Value::Number(x), Value::Number(y)) => {
            let same = match (x.as_i64(), y.as_i64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            };
            (!same).then(|| path.to_string())
        }
        _ => (a != b).then(|| path.to_string()),
    }
}

fn same_unordered(xs: &[Value], ys: &[Value], path: &str) -> bool {
    if xs.len() != ys.len() {
        return false;
    }
    let mut used = vec![false; ys.len()];
    xs.iter().all(|x| {
        let found = ys.iter().enumerate().position(|(j, y)| !used[j] && value_difference(x, y, path).is_none());
        match found {
            Some(j) => {
                used[j] = true;
                true
            }
            None => false,
        }
    })
}

/// `result.duration` of the statement or of its SubStatement (not a key of the same name inside
/// extensions, which is opaque client data).
fn is_result_duration(path: &str) -> bool {
    path == "$.result.duration" || path == "$.object.result.duration"
}

/// `mailto:` IRIs whose domains differ only in case are the same mailbox.
fn normalize_mbox(mbox: &str) -> String {
    match mbox.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_ascii_lowercase()),
        None => mbox.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::RsaPrivateKey;
    use serde_json::json;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/attachments");

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}/{name}")).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
    }

    fn fixture_json(name: &str) -> Value {
        serde_json::from_slice(&fixture(name)).expect("fixture JSON")
    }

    fn signer_key() -> RsaPrivateKey {
        let pem = String::from_utf8(fixture("signer-key.pem")).expect("PEM text");
        RsaPrivateKey::from_pkcs8_pem(&pem).expect("fixture key")
    }

    fn cert_b64(name: &str) -> String {
        String::from_utf8(fixture(name)).expect("PEM text").lines().filter(|l| !l.starts_with("-----")).collect()
    }

    fn b64(data: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(data)
    }

    /// Signs with the fixture key at test time so tests can vary header and payload freely.
    fn sign(header: &Value, payload: &[u8], alg: &str) -> String {
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(payload));
        let key = signer_key();
        let sig = match alg {
            "RS384" => key.sign(Pkcs1v15Sign::new::<Sha384>(), &Sha384::digest(input.as_bytes())),
            "RS512" => key.sign(Pkcs1v15Sign::new::<Sha512>(), &Sha512::digest(input.as_bytes())),
            _ => key.sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(input.as_bytes())),
        }
        .expect("sign");
        format!("{input}.{}", b64(&sig))
    }

    fn statement() -> Value {
        fixture_json("signed-statement.payload.json")
    }

    /// The statement as posted: the payload plus its signature attachment.
    fn posted(jws: &str) -> Value {
        let mut s = statement();
        s["attachments"] = json!([{
            "usageType": SIGNATURE_USAGE_TYPE,
            "display": {"en-US": "Signature"},
            "contentType": "application/octet-stream",
            "length": jws.len(),
            "sha2": hex::encode(Sha256::digest(jws.as_bytes())),
        }]);
        s
    }

    #[test]
    fn openssl_signed_fixtures_verify_with_x5c() {
        for name in ["signed-rs256.jws", "signed-rs384.jws", "signed-rs512.jws"] {
            let jws = fixture(name);
            let text = String::from_utf8(jws.clone()).expect("text");
            assert_eq!(verify(&posted(&text), &jws), Ok(()), "{name}");
        }
    }

    #[test]
    fn wrong_certificate_is_rejected() {
        let jws = fixture("signed-rs256-wrong-cert.jws");
        let text = String::from_utf8(jws.clone()).expect("text");
        assert_eq!(verify(&posted(&text), &jws), Err(SignatureError::BadSignature));
    }

    #[test]
    fn spec_appendix_d_example_verifies() {
        let jws = fixture("spec-appendix-d.jws");
        let statement = fixture_json("spec-appendix-d.statement.json");
        assert_eq!(verify(&statement, &jws), Ok(()));
    }

    #[test]
    fn rs256_384_512_signed_in_process() {
        let payload = statement().to_string();
        for alg in ["RS256", "RS384", "RS512"] {
            let with_cert = sign(&json!({"alg": alg, "x5c": [cert_b64("signer-cert.pem")]}), payload.as_bytes(), alg);
            assert_eq!(verify(&posted(&with_cert), with_cert.as_bytes()), Ok(()), "{alg} x5c");
            // Like the ADL suite: no key in the header, so only structure and payload are checked.
            let bare = sign(&json!({"alg": alg}), payload.as_bytes(), alg);
            assert_eq!(verify(&posted(&bare), bare.as_bytes()), Ok(()), "{alg} bare");
        }
    }

    #[test]
    fn alg_header_mismatching_digest_fails() {
        // Header claims RS512 but the signature was made with SHA-256.
        let header = json!({"alg": "RS512", "x5c": [cert_b64("signer-cert.pem")]});
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(statement().to_string().as_bytes()));
        let sig = signer_key().sign(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(input.as_bytes())).expect("sign");
        let jws = format!("{input}.{}", b64(&sig));
        assert_eq!(verify(&posted(&jws), jws.as_bytes()), Err(SignatureError::BadSignature));
    }

    #[test]
    fn tampered_payload_fails() {
        let jws = String::from_utf8(fixture("signed-rs256.jws")).expect("text");
        let mut segs: Vec<String> = jws.split('.').map(str::to_string).collect();
        let mut changed = statement();
        changed["verb"]["id"] = json!("http://adlnet.gov/expapi/verbs/failed");
        segs[1] = b64(changed.to_string().as_bytes());
        let tampered = segs.join(".");
        // Cryptographically wrong with the x5c key…
        assert_eq!(verify(&posted(&tampered), tampered.as_bytes()), Err(SignatureError::BadSignature));
        // …and, signed correctly but over a different statement, not the statement sent.
        let resigned = sign(&json!({"alg": "RS256"}), changed.to_string().as_bytes(), "RS256");
        assert_eq!(
            verify(&posted(&resigned), resigned.as_bytes()),
            Err(SignatureError::PayloadMismatch("$.verb.id".into()))
        );
    }

    #[test]
    fn tampered_signature_fails() {
        let jws = String::from_utf8(fixture("signed-rs384.jws")).expect("text");
        let (rest, sig) = jws.rsplit_once('.').expect("three segments");
        let mut raw = URL_SAFE_NO_PAD.decode(sig).expect("b64");
        raw[10] ^= 0x01;
        let bad = format!("{rest}.{}", b64(&raw));
        assert_eq!(verify(&posted(&bad), bad.as_bytes()), Err(SignatureError::BadSignature));
    }

    #[test]
    fn disallowed_algorithms_are_rejected() {
        let payload = b64(statement().to_string().as_bytes());
        for alg in [json!("HS256"), json!("none"), json!("PS256"), json!("ES256"), json!("rs256"), json!(256)] {
            let jws = format!("{}.{payload}.{}", b64(json!({"alg": alg}).to_string().as_bytes()), b64(b"sig"));
            assert!(matches!(verify(&posted(&jws), jws.as_bytes()), Err(SignatureError::Algorithm(_))), "{alg}");
        }
        let none = format!("{}.{payload}.", b64(br#"{"alg":"none"}"#));
        assert!(matches!(verify(&statement(), none.as_bytes()), Err(SignatureError::Algorithm(_))));
        let missing = format!("{}.{payload}.{}", b64(b"{}"), b64(b"sig"));
        assert!(matches!(verify(&statement(), missing.as_bytes()), Err(SignatureError::Algorithm(_))));
    }

    #[test]
    fn malformed_jws_is_rejected() {
        let s = statement();
        let good = String::from_utf8(fixture("signed-rs256.jws")).expect("text");
        let segs: Vec<&str> = good.split('.').collect();
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"not a jws".to_vec(),
            format!("{}.{}", segs[0], segs[1]).into_bytes(),
            format!("{good}.extra").into_bytes(),
            format!("!!!.{}.{}", segs[1], segs[2]).into_bytes(),
            format!("{}.{}.", segs[0], segs[1]).into_bytes(),
            format!("{}.{}.{}", b64(b"not json"), segs[1], segs[2]).into_bytes(),
            format!("{}.{}.{}", b64(b"[1]"), segs[1], segs[2]).into_bytes(),
            vec![0xff, 0xfe, b'.', b'.'],
            b"{\"payload\": 1}".to_vec(),
        ];
        for case in cases {
            let r = verify(&s, &case);
            assert!(
                matches!(r, Err(SignatureError::Malformed(_) | SignatureError::NotText)),
                "{:?} -> {r:?}",
                String::from_utf8_lossy(&case)
            );
        }
    }

    #[test]
    fn payload_that_is_not_json_is_rejected() {
        // The ADL suite's breakJson: the payload string has its first `"` replaced by `'`.
        let broken = statement().to_string().replacen('"', "'", 1);
        let jws = sign(&json!({"alg": "RS256"}), broken.as_bytes(), "RS256");
        assert!(matches!(verify(&statement(), jws.as_bytes()), Err(SignatureError::PayloadNotJson(_))));
        let array = sign(&json!({"alg": "RS256"}), b"[1,2]", "RS256");
        assert!(matches!(verify(&statement(), array.as_bytes()), Err(SignatureError::PayloadNotJson(_))));
    }

    #[test]
    fn x5c_problems_are_reported() {
        let payload = statement().to_string();
        for x5c in [json!([]), json!("abc"), json!([5]), json!(["%%%"]), json!([b64(b"not der")])] {
            let jws = sign(&json!({"alg": "RS256", "x5c": x5c}), payload.as_bytes(), "RS256");
            assert!(matches!(verify(&posted(&jws), jws.as_bytes()), Err(SignatureError::Certificate(_))), "{x5c}");
        }
    }

    #[test]
    fn crit_header_is_rejected() {
        let jws =
            sign(&json!({"alg": "RS256", "crit": ["b64"], "b64": false}), statement().to_string().as_bytes(), "RS256");
        assert!(matches!(verify(&posted(&jws), jws.as_bytes()), Err(SignatureError::Critical(_))));
    }

    #[test]
    fn embedded_jwk_is_used() {
        use rsa::traits::PublicKeyParts;
        let public = signer_key().to_public_key();
        let jwk = json!({"kty": "RSA", "n": b64(&public.n().to_bytes_be()), "e": b64(&public.e().to_bytes_be())});
        let payload = statement().to_string();
        let jws = sign(&json!({"alg": "RS256", "jwk": jwk}), payload.as_bytes(), "RS256");
        assert_eq!(verify(&posted(&jws), jws.as_bytes()), Ok(()));
        let other = json!({"kty": "RSA", "n": b64(&[0xC5; 256]), "e": "AQAB"});
        let jws = sign(&json!({"alg": "RS256", "jwk": other}), payload.as_bytes(), "RS256");
        assert_eq!(verify(&posted(&jws), jws.as_bytes()), Err(SignatureError::BadSignature));
    }

    #[test]
    fn json_serialization_is_accepted() {
        let compact = String::from_utf8(fixture("signed-rs256.jws")).expect("text");
        let segs: Vec<&str> = compact.split('.').collect();
        let flattened = json!({"protected": segs[0], "payload": segs[1], "signature": segs[2]}).to_string();
        assert_eq!(verify(&posted(&compact), flattened.as_bytes()), Ok(()));
        let general =
            json!({"payload": segs[1], "signatures": [{"protected": segs[0], "signature": segs[2]}]}).to_string();
        assert_eq!(verify(&posted(&compact), general.as_bytes()), Ok(()));
    }

    #[test]
    fn comparison_ignores_lrs_assigned_properties_and_serialization() {
        let signed = json!({
            "actor": {"objectType": "Group", "member": [{"mbox": "mailto:a@Example.COM"}, {"mbox": "mailto:b@example.com"}]},
            "verb": {"id": "http://example.com/v"},
            "object": {"id": "http://example.com/o"},
            "result": {"score": {"raw": 1.0}},
            "timestamp": "2024-01-02T03:04:05+01:00",
            "version": "1.0.0"
        });
        let got = json!({
            "id": "0b7a2e57-4ad1-4c38-a1d7-6cf0e1e6a3c4",
            "timestamp": "2024-01-02T02:04:05.000Z",
            "object": {"id": "http://example.com/o"},
            "verb": {"id": "http://example.com/v"},
            "actor": {"member": [{"mbox": "mailto:b@example.com"}, {"mbox": "mailto:a@example.com"}], "objectType": "Group"},
            "result": {"score": {"raw": 1}},
            "stored": "2024-01-02T02:04:06Z",
            "authority": {"mbox": "mailto:lrs@example.com"},
            "attachments": [{"usageType": SIGNATURE_USAGE_TYPE, "sha2": "00"}]
        });
        assert_eq!(statement_difference(&signed, &got), None);
    }

    #[test]
    fn comparison_truncates_durations_to_hundredths() {
        let signed = json!({"actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://example.com/v"},
                            "object": {"id": "http://example.com/o"}, "result": {"duration": "P1DT12H36M0.12S"}});
        let mut got = signed.clone();
        got["result"]["duration"] = json!("P1DT12H36M0.1237S");
        assert_eq!(statement_difference(&signed, &got), None);
        got["result"]["duration"] = json!("P1DT12H36M0.13S");
        assert_eq!(statement_difference(&signed, &got).as_deref(), Some("$.result.duration"));
        // Inside extensions a "duration" key is client data and compared exactly.
        let mut ext = signed.clone();
        ext["result"]["extensions"] = json!({"http://example.com/x": {"duration": "PT1.234S"}});
        let mut ext_got = ext.clone();
        ext_got["result"]["extensions"]["http://example.com/x"]["duration"] = json!("PT1.23S");
        assert!(statement_difference(&ext, &ext_got).is_some());
    }

    #[test]
    fn comparison_detects_real_differences() {
        let base = json!({"id": "0b7a2e57-4ad1-4c38-a1d7-6cf0e1e6a3c4", "actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://example.com/v"}, "object": {"id": "http://example.com/o"}, "timestamp": "2024-01-02T03:04:05Z"});
        let mut other_id = base.clone();
        other_id["id"] = json!("11111111-4ad1-4c38-a1d7-6cf0e1e6a3c4");
        assert_eq!(statement_difference(&base, &other_id).as_deref(), Some("$.id"));
        let mut later = base.clone();
        later["timestamp"] = json!("2024-01-02T03:04:06Z");
        assert_eq!(statement_difference(&base, &later).as_deref(), Some("$.timestamp"));
        let mut extra = base.clone();
        extra["result"] = json!({"success": true});
        assert_eq!(statement_difference(&base, &extra).as_deref(), Some("$.result"));
        let mut local_case = base.clone();
        local_case["actor"]["mbox"] = json!("mailto:A@example.com");
        assert_eq!(statement_difference(&base, &local_case).as_deref(), Some("$.actor.mbox"));
        // A payload listing (non-signature) attachments must list the same ones.
        let mut with_att = base.clone();
        with_att["attachments"] = json!([{"usageType": "http://example.com/u", "sha2": "aa"}]);
        let mut different_att = base.clone();
        different_att["attachments"] = json!([{"usageType": "http://example.com/u", "sha2": "bb"}]);
        assert_eq!(statement_difference(&with_att, &different_att).as_deref(), Some("$.attachments[0].sha2"));
        assert_eq!(statement_difference(&with_att, &base).as_deref(), Some("$.attachments"));
        // …while a payload without attachments accepts a statement that has some.
        assert_eq!(statement_difference(&base, &with_att), None);
    }
}

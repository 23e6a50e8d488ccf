//! `multipart/mixed` bodies (RFC 2046 §5.1) for the Statement resource: parsing what clients POST/PUT
//! with attachments, and building what `GET /statements?attachments=true` returns.
//!
//! The parser is hand-written over the fully buffered body rather than delegated to a form-data
//! parser: xAPI parts carry no `Content-Disposition`, statement bodies are already size-limited and
//! in memory, and we want error messages that say exactly which rule a client broke. Line breaks are
//! CRLF per RFC 2046, but a bare LF is also accepted so hand-built bodies from lenient clients work.

use bytes::{Bytes, BytesMut};

/// One body part: its headers (names lower-cased, values trimmed, in order) and its raw octets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Part {
    /// The first header with this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The part's `Content-Type` header, if any (RFC 2046 would default it to `text/plain`; callers
    /// that care about the default apply it themselves).
    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }
}

/// Why a body is not an acceptable `multipart/mixed` statement request. Every variant means `400`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MultipartError {
    #[error("Content-Type `{0}` is not multipart/mixed")]
    NotMultipartMixed(String),
    #[error("the multipart/mixed Content-Type has no boundary parameter")]
    MissingBoundary,
    #[error("the multipart boundary `{0}` is invalid (RFC 2046: 1 to 70 characters, no control characters, not ending in a space)")]
    InvalidBoundary(String),
    #[error("the body contains no boundary delimiter line `--{0}`")]
    NoDelimiter(String),
    #[error("the body ends without the closing delimiter `--{0}--`")]
    MissingCloseDelimiter(String),
    #[error("part {part}: the header section is not terminated by an empty line")]
    UnterminatedHeaders { part: usize },
    #[error("part {part}: malformed header line `{line}`")]
    MalformedHeader { part: usize, line: String },
    #[error("the multipart body has no parts; the first part must hold the statements as application/json")]
    NoParts,
    #[error("the first part must have Content-Type application/json (it has {found})")]
    FirstPartNotJson { found: String },
}

/// Extracts the `boundary` parameter of a `multipart/mixed` Content-Type value.
pub fn boundary_of(content_type: &str) -> Result<String, MultipartError> {
    let (essence, params) = split_media_type(content_type);
    if !essence.eq_ignore_ascii_case("multipart/mixed") {
        return Err(MultipartError::NotMultipartMixed(content_type.trim().to_string()));
    }
    let boundary = params
        .into_iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value)
        .ok_or(MultipartError::MissingBoundary)?;
    let valid = (1..=70).contains(&boundary.len())
        && !boundary.ends_with(' ')
        && boundary.bytes().all(|b| b.is_ascii() && !b.is_ascii_control());
    if !valid {
        return Err(MultipartError::InvalidBoundary(boundary));
    }
    Ok(boundary)
}

/// Splits a media type into its lower-case `type/subtype` and its parameters (quoted values
/// unquoted). Lenient on purpose: a malformed parameter is skipped rather than failing the request.
pub(crate) fn split_media_type(value: &str) -> (String, Vec<(String, String)>) {
    let mut rest = value;
    let essence_end = rest.find(';').unwrap_or(rest.len());
    let essence = rest[..essence_end].trim().to_ascii_lowercase();
    rest = &rest[essence_end..];
    let mut params = Vec::new();
    while let Some(after_semi) = rest.strip_prefix(';') {
        let after_semi = after_semi.trim_start();
        let Some(eq) = after_semi.find('=') else {
            // No `=`: skip to the next parameter.
            rest = after_semi.find(';').map_or("", |i| &after_semi[i..]);
            continue;
        };
        let name = after_semi[..eq].trim().to_string();
        let raw = &after_semi[eq + 1..];
        if let Some(quoted) = raw.strip_prefix('"') {
            let mut val = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            val.push(escaped);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    _ => val.push(c),
                }
            }
            params.push((name, val));
            let tail = &quoted[end.min(quoted.len())..];
            rest = tail.find(';').map_or("", |i| &tail[i..]);
        } else {
            let end = raw.find(';').unwrap_or(raw.len());
            params.push((name, raw[..end].trim().to_string()));
            rest = &raw[end..];
        }
    }
    (essence, params)
}

/// The lower-case `type/subtype` of a media type, without parameters.
pub fn media_type_essence(value: &str) -> String {
    split_media_type(value).0
}

/// Parses a `multipart/mixed` body into its parts (preamble and epilogue discarded).
///
/// Async so a streaming implementation can replace it without touching callers; today the whole
/// body is already buffered by the HTTP layer's size limit.
pub async fn parse_mixed(content_type: &str, body: Bytes) -> Result<Vec<Part>, MultipartError> {
    let boundary = boundary_of(content_type)?;
    parse_with_boundary(&boundary, &body)
}

/// What follows `--boundary` on a candidate delimiter line.
enum Delimiter {
    /// An ordinary delimiter; the next part starts at this offset.
    Next(usize),
    /// The close delimiter `--boundary--`.
    Close,
}

fn parse_with_boundary(boundary: &str, body: &Bytes) -> Result<Vec<Part>, MultipartError> {
    let dash_boundary = format!("--{boundary}");
    let marker = dash_boundary.as_bytes();

    // The first delimiter may start the body or follow a line break (RFC 2046: the preamble is
    // everything before it, and the CRLF preceding a delimiter belongs to the delimiter).
    let mut search_from = 0;
    let mut pos = loop {
        let Some(found) = find(&body[search_from..], marker).map(|i| i + search_from) else {
            return Err(MultipartError::NoDelimiter(boundary.to_string()));
        };
        if found == 0 || body[found - 1] == b'\n' {
            match delimiter_tail(body, found + marker.len()) {
                Some(Delimiter::Next(start)) => break start,
                Some(Delimiter::Close) => return Err(MultipartError::NoParts),
                None => {}
            }
        }
        search_from = found + 1;
    };

    let mut parts = Vec::new();
    loop {
        let number = parts.len() + 1;
        // Find the end of this part: a line break followed by a valid delimiter line.
        let mut search_from = pos;
        let (body_end, next) = loop {
            let Some(found) = find(&body[search_from..], marker).map(|i| i + search_from) else {
                return Err(MultipartError::MissingCloseDelimiter(boundary.to_string()));
            };
            let at_line_start = found == pos || body[found - 1] == b'\n';
            if at_line_start {
                if let Some(tail) = delimiter_tail(body, found + marker.len()) {
                    let mut end = found;
                    if end > pos && body[end - 1] == b'\n' {
                        end -= 1;
                        if end > pos && body[end - 1] == b'\r' {
                            end -= 1;
                        }
                    }
                    break (end, tail);
                }
            }
            search_from = found + 1;
        };
        parts.push(parse_part(number, body.slice(pos..body_end))?);
        match next {
            Delimiter::Next(start) => pos = start,
            Delimiter::Close => return Ok(parts),
        }
    }
}

/// Checks the rest of a candidate delimiter line starting right after `--boundary`: either `--`
/// (close delimiter; anything after it is epilogue) or optional transport padding and a line break.
/// `None` means these bytes are not a delimiter (e.g. `--boundaryX`) and are part of the content.
fn delimiter_tail(body: &[u8], mut i: usize) -> Option<Delimiter> {
    if body.get(i..i + 2) == Some(b"--") {
        return Some(Delimiter::Close);
    }
    while matches!(body.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    match body.get(i) {
        Some(b'\n') => Some(Delimiter::Next(i + 1)),
        Some(b'\r') if body.get(i + 1) == Some(&b'\n') => Some(Delimiter::Next(i + 2)),
        _ => None,
    }
}

/// Splits one encapsulation into headers and body. The header section ends at the first empty
/// line; a part that starts with an empty line has no headers.
fn parse_part(number: usize, raw: Bytes) -> Result<Part, MultipartError> {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    loop {
        let Some(nl) = raw[i..].iter().position(|&b| b == b'\n').map(|p| p + i) else {
            return Err(MultipartError::UnterminatedHeaders { part: number });
        };
        let mut line = &raw[i..nl];
        if let Some(stripped) = line.strip_suffix(b"\r") {
            line = stripped;
        }
        i = nl + 1;
        if line.is_empty() {
            break;
        }
        let text = String::from_utf8_lossy(line);
        if line[0] == b' ' || line[0] == b'\t' {
            // RFC 5322 folding: a continuation of the previous header's value.
            match headers.last_mut() {
                Some((_, value)) => {
                    value.push(' ');
                    value.push_str(text.trim());
                    continue;
                }
                None => return Err(MultipartError::MalformedHeader { part: number, line: text.into_owned() }),
            }
        }
        let Some((name, value)) = text.split_once(':') else {
            return Err(MultipartError::MalformedHeader { part: number, line: text.into_owned() });
        };
        let name_ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic());
        if !name_ok {
            return Err(MultipartError::MalformedHeader { part: number, line: text.into_owned() });
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    Ok(Part { headers, body: raw.slice(i..) })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Separates the statements part from the attachment parts, enforcing that the first part is
/// `application/json` (parameters such as `charset` allowed).
pub fn split_statements(mut parts: Vec<Part>) -> Result<(Part, Vec<Part>), MultipartError> {
    if parts.is_empty() {
        return Err(MultipartError::NoParts);
    }
    let first = parts.remove(0);
    match first.content_type() {
        Some(ct) if media_type_essence(ct) == "application/json" => Ok((first, parts)),
        Some(ct) => Err(MultipartError::FirstPartNotJson { found: format!("`{ct}`") }),
        None => Err(MultipartError::FirstPartNotJson { found: "no Content-Type header".to_string() }),
    }
}

/// A part to send: `(content type, extra headers, body)`.
pub type OutgoingPart = (String, Vec<(String, String)>, Bytes);

/// Builds a `multipart/mixed` body from `(content type, extra headers, body)` triples, returning the
/// `Content-Type` header value and the body.
///
/// The boundary is random and re-drawn until it occurs in no part, so no body can be mistaken for a
/// delimiter. The header value is `multipart/mixed; boundary=…` with the boundary unquoted and last:
/// the ADL conformance suite reads it with a naive split on `;` and `boundary=`.
pub fn build_mixed(parts: &[OutgoingPart]) -> (String, Bytes) {
    let boundary = loop {
        let candidate = format!("cairn-{}", uuid::Uuid::new_v4().simple());
        let marker = format!("--{candidate}");
        if !parts.iter().any(|(_, _, body)| find(body, marker.as_bytes()).is_some()) {
            break candidate;
        }
    };
    let mut out = BytesMut::new();
    for (content_type, extra, body) in parts {
        out.extend_from_slice(format!("--{boundary}\r\nContent-Type: {content_type}\r\n").as_bytes());
        for (name, value) in extra {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/mixed; boundary={boundary}"), out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &str = "multipart/mixed; boundary=-------314159265358979323846";
    const B: &str = "-------314159265358979323846";

    fn parse(ct: &str, body: &[u8]) -> Result<Vec<Part>, MultipartError> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(parse_mixed(ct, Bytes::copy_from_slice(body)))
    }

    fn body_with(nl: &str) -> String {
        format!(
            "--{B}{nl}Content-Type: application/json{nl}{nl}{{\"a\":1}}{nl}--{B}{nl}Content-Type: text/plain{nl}\
             Content-Transfer-Encoding: binary{nl}X-Experience-API-Hash: abc{nl}{nl}here is a simple attachment{nl}--{B}--{nl}"
        )
    }

    #[test]
    fn boundary_plain_and_quoted() {
        assert_eq!(boundary_of(CT).as_deref(), Ok(B));
        let quoted = r#"multipart/mixed; boundary="abcABC0123'()+_,-./:=?""#;
        assert_eq!(boundary_of(quoted).as_deref(), Ok("abcABC0123'()+_,-./:=?"));
        assert_eq!(boundary_of("Multipart/Mixed;charset=x;BOUNDARY=zz").as_deref(), Ok("zz"));
    }

    #[test]
    fn boundary_errors() {
        assert_eq!(boundary_of("multipart/mixed;"), Err(MultipartError::MissingBoundary));
        assert!(matches!(boundary_of("multipart/form-data; boundary=x"), Err(MultipartError::NotMultipartMixed(_))));
        assert!(matches!(boundary_of("application/json"), Err(MultipartError::NotMultipartMixed(_))));
        assert!(matches!(boundary_of("multipart/mixed; boundary=\"\""), Err(MultipartError::InvalidBoundary(_))));
        let long = format!("multipart/mixed; boundary={}", "a".repeat(71));
        assert!(matches!(boundary_of(&long), Err(MultipartError::InvalidBoundary(_))));
    }

    #[test]
    fn parses_crlf_body() {
        let parts = parse(CT, body_with("\r\n").as_bytes()).expect("well-formed body");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].content_type(), Some("application/json"));
        assert_eq!(&parts[0].body[..], b"{\"a\":1}");
        assert_eq!(parts[1].header("X-Experience-API-Hash"), Some("abc"));
        assert_eq!(parts[1].header("content-transfer-encoding"), Some("binary"));
        assert_eq!(&parts[1].body[..], b"here is a simple attachment");
    }

    #[test]
    fn parses_lf_body_identically() {
        let crlf = parse(CT, body_with("\r\n").as_bytes()).expect("well-formed body");
        let lf = parse(CT, body_with("\n").as_bytes()).expect("well-formed body");
        assert_eq!(crlf.len(), 2);
        assert_eq!(crlf, lf);
    }

    #[test]
    fn preamble_epilogue_and_padding_are_ignored() {
        let body = format!(
            "This is a preamble --{B} mentioning the boundary mid-line.\r\n--{B}  \t\r\nContent-Type:application/json\r\n\r\n[]\r\n--{B}--  epilogue\r\nmore epilogue"
        );
        let parts = parse(CT, body.as_bytes()).expect("well-formed body");
        assert_eq!(parts.len(), 1);
        assert_eq!(&parts[0].body[..], b"[]");
    }

    #[test]
    fn suite_signed_body_layout() {
        // The conformance suite's signStatement: leading CRLF, no CRLF after the close delimiter.
        let body = format!("\r\n--{B}\r\nContent-Type:application/json\r\n\r\n{{}}\r\n--{B}\r\nContent-Type:application/octet-stream\r\nContent-Transfer-Encoding:binary\r\nX-Experience-API-Hash:00\r\n\r\na.b.c\r\n--{B}--");
        let parts = parse(CT, body.as_bytes()).expect("well-formed body");
        assert_eq!(parts.len(), 2);
        assert_eq!(&parts[1].body[..], b"a.b.c");
    }

    #[test]
    fn binary_bodies_with_boundary_like_bytes() {
        let mut payload: Vec<u8> = (0u8..=255).collect();
        // Boundary text that is not a delimiter: followed by other characters, or not at line start.
        payload.extend_from_slice(format!("\r\n--{B}X not a delimiter\r\n--{B}-x\r\nmid --{B}\r\n\n--{B}_").as_bytes());
        let mut body = format!("--{B}\r\nContent-Type: application/json\r\n\r\n{{}}\r\n--{B}\r\nContent-Type: application/octet-stream\r\n\r\n").into_bytes();
        body.extend_from_slice(&payload);
        body.extend_from_slice(format!("\r\n--{B}--\r\n").as_bytes());
        let parts = parse(CT, &body).expect("well-formed body");
        assert_eq!(parts.len(), 2);
        assert_eq!(&parts[1].body[..], &payload[..]);
    }

    #[test]
    fn empty_body_and_part_without_headers() {
        let body = format!("--{B}\r\n\r\n\r\n--{B}\r\nContent-Type: text/plain\r\n\r\n\r\n--{B}--");
        let parts = parse(CT, body.as_bytes()).expect("well-formed body");
        assert_eq!(parts.len(), 2);
        assert!(parts[0].headers.is_empty());
        assert!(parts[0].body.is_empty());
        assert!(parts[1].body.is_empty());
    }

    #[test]
    fn folded_headers_are_unfolded() {
        let body = format!("--{B}\r\nContent-Type: application/json;\r\n charset=utf-8\r\n\r\n{{}}\r\n--{B}--");
        let parts = parse(CT, body.as_bytes()).expect("well-formed body");
        assert_eq!(parts.first().and_then(|p| p.content_type()), Some("application/json; charset=utf-8"));
    }

    #[test]
    fn structural_errors() {
        // Suite XAPI-00131: the statement part has no delimiter before it, so it is preamble.
        let no_first = format!(
            "Content-Type: application/json\r\n\r\n{{}}\r\n--{B}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{B}--\r\n"
        );
        let parts = parse(CT, no_first.as_bytes()).expect("well-formed body");
        assert_eq!(parts.len(), 1);
        assert!(matches!(split_statements(parts), Err(MultipartError::FirstPartNotJson { .. })));

        assert_eq!(parse(CT, b"no delimiters here"), Err(MultipartError::NoDelimiter(B.to_string())));
        let truncated = format!("--{B}\r\nContent-Type: application/json\r\n\r\n{{}}");
        assert_eq!(parse(CT, truncated.as_bytes()), Err(MultipartError::MissingCloseDelimiter(B.to_string())));
        let only_close = format!("--{B}--\r\n");
        assert_eq!(parse(CT, only_close.as_bytes()), Err(MultipartError::NoParts));
        let bad_header = format!("--{B}\r\nNot a header\r\n\r\n{{}}\r\n--{B}--");
        assert!(matches!(parse(CT, bad_header.as_bytes()), Err(MultipartError::MalformedHeader { part: 1, .. })));
        let unterminated = format!("--{B}\r\nContent-Type: text/plain\r\n--{B}--");
        assert!(matches!(parse(CT, unterminated.as_bytes()), Err(MultipartError::UnterminatedHeaders { part: 1 })));
        assert!(matches!(
            parse("multipart/form-data; boundary=x", b"--x--"),
            Err(MultipartError::NotMultipartMixed(_))
        ));
    }

    #[test]
    fn first_part_must_be_json() {
        let json = Part {
            headers: vec![("content-type".into(), "Application/JSON; charset=UTF-8".into())],
            body: Bytes::new(),
        };
        let text = Part { headers: vec![("content-type".into(), "text/plain".into())], body: Bytes::new() };
        let bare = Part { headers: vec![], body: Bytes::new() };
        assert!(split_statements(vec![json.clone(), text.clone()]).is_ok_and(|(_, rest)| rest.len() == 1));
        assert!(matches!(split_statements(vec![text, json.clone()]), Err(MultipartError::FirstPartNotJson { .. })));
        assert!(matches!(split_statements(vec![bare]), Err(MultipartError::FirstPartNotJson { .. })));
        assert_eq!(split_statements(vec![]).err(), Some(MultipartError::NoParts));
        let msg = MultipartError::FirstPartNotJson { found: "`text/plain`".into() }.to_string();
        assert!(msg.contains("application/json") && msg.contains("text/plain"), "{msg}");
    }

    #[test]
    fn build_then_parse_round_trips() {
        let binary: Bytes = (0u8..=255).collect::<Vec<_>>().into();
        let parts = vec![
            ("application/json".to_string(), vec![], Bytes::from_static(b"{\"statements\":[]}")),
            (
                "image/png".to_string(),
                vec![
                    ("Content-Transfer-Encoding".to_string(), "binary".to_string()),
                    ("X-Experience-API-Hash".to_string(), "ab12".to_string()),
                ],
                binary.clone(),
            ),
        ];
        let (ct, body) = build_mixed(&parts);
        assert!(ct.starts_with("multipart/mixed; boundary=cairn-"));
        // The suite takes everything after "boundary=" up to the next ';' as the boundary.
        assert!(!ct.split_once("boundary=").is_some_and(|(_, b)| b.contains(';') || b.contains('"')));
        assert!(body.ends_with(b"--\r\n"));
        let parsed = parse(&ct, &body).expect("well-formed body");
        assert_eq!(parsed.len(), 2);
        assert_eq!(&parsed[0].body[..], b"{\"statements\":[]}");
        assert_eq!(parsed[1].content_type(), Some("image/png"));
        assert_eq!(parsed[1].header("x-experience-api-hash"), Some("ab12"));
        assert_eq!(parsed[1].body, binary);
    }
}

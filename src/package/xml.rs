//! Shared XML plumbing: decoding, safe parsing and small lookup helpers.
//!
//! roxmltree refuses DTDs (we never enable them), which defeats external
//! entities and entity expansion; the depth and node limits bound the rest.

use roxmltree::{Document, Node, ParsingOptions};

use super::error::{Location, PackageError};
use super::Limits;

/// An identifier attribute (`xs:ID`, `xs:IDREF`, `xs:anyURI`) as the schema reads it: whitespace
/// collapsed (ends trimmed, inner runs made one space), so `identifier="  SEQ01  "` is the `SEQ01`
/// every reference names (an ADL SCORM 2004 conformance package writes its ids that way). None when
/// absent.
pub fn id_attr<'n>(node: Node<'n, '_>, name: &str) -> Option<String> {
    node.attribute(name).map(collapse)
}

/// XML Schema's `collapse` whitespace facet.
pub fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split([' ', '\t', '\r', '\n']).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Turns manifest bytes into text: skips a UTF-8 BOM, and transcodes UTF-16
/// or a declared legacy encoding (old authoring tools write windows-1252).
pub fn decode(file: &str, bytes: &[u8], warnings: &mut Vec<String>) -> Result<String, PackageError> {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let body = &bytes[bom_len..];
        if enc == encoding_rs::UTF_8 {
            return std::str::from_utf8(body).map(str::to_owned).map_err(|e| {
                PackageError::manifest(
                    Location::file(file),
                    format!("invalid UTF-8 at byte {}", e.valid_up_to() + bom_len),
                )
            });
        }
        let (text, _, had_errors) = enc.decode(body);
        if had_errors {
            return Err(PackageError::manifest(Location::file(file), format!("invalid {} text", enc.name())));
        }
        return Ok(strip_decl_encoding(&text));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    let label = declared_encoding(bytes);
    let enc = label
        .as_deref()
        .and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        .unwrap_or(encoding_rs::WINDOWS_1252);
    if label.is_none() {
        warnings.push(format!("{file} is not UTF-8 and declares no encoding; read as windows-1252"));
    }
    let (text, _, had_errors) = enc.decode(bytes);
    if had_errors {
        return Err(PackageError::manifest(Location::file(file), format!("text is not valid {}", enc.name())));
    }
    Ok(strip_decl_encoding(&text))
}

/// The `encoding="…"` of an XML declaration, read from ASCII-compatible bytes.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(200)];
    let head: String = head.iter().map(|&b| if b.is_ascii() { b as char } else { '?' }).collect();
    if !head.trim_start().starts_with("<?xml") {
        return None;
    }
    let end = head.find("?>")?;
    let decl = &head[..end];
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..].trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next()?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    let rest = &rest[1..];
    Some(rest[..rest.find(quote)?].to_owned())
}

/// After transcoding, the declaration's encoding no longer describes the text;
/// drop the declaration so the parser does not second-guess it.
fn strip_decl_encoding(text: &str) -> String {
    let trimmed = text.trim_start();
    if trimmed.starts_with("<?xml") {
        if let Some(end) = trimmed.find("?>") {
            return trimmed[end + 2..].to_owned();
        }
    }
    text.to_owned()
}

/// Parses with DTDs refused and node/depth limits applied.
pub fn parse<'a>(file: &str, text: &'a str, limits: &Limits) -> Result<Document<'a>, PackageError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let opts = ParsingOptions {
        allow_dtd: false,
        nodes_limit: u32::try_from(limits.max_manifest_bytes).unwrap_or(u32::MAX),
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, opts).map_err(|e| {
        let pos = e.pos();
        let msg = match e {
            roxmltree::Error::DtdDetected => {
                "DTDs are not accepted (they enable external entities and entity expansion)".to_owned()
            }
            other => format!("malformed XML: {other}"),
        };
        PackageError::manifest(Location::at(file, pos.row, pos.col), msg)
    })?;
    check_depth(file, &doc, limits.max_xml_depth)?;
    Ok(doc)
}

/// Iterative walk so a hostile nesting depth cannot overflow our own stack.
fn check_depth(file: &str, doc: &Document<'_>, max: usize) -> Result<(), PackageError> {
    let mut node = doc.root();
    let mut depth = 0usize;
    loop {
        if let Some(child) = node.first_child() {
            node = child;
            depth += 1;
            if depth > max {
                return Err(PackageError::manifest(
                    loc(file, doc, node),
                    format!("XML nesting deeper than {max} levels"),
                ));
            }
            continue;
        }
        loop {
            if let Some(sib) = node.next_sibling() {
                node = sib;
                break;
            }
            match node.parent() {
                Some(p) => {
                    node = p;
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                None => return Ok(()),
            }
        }
    }
}

/// The location of a node, for error messages.
pub fn loc(file: &str, doc: &Document<'_>, node: Node<'_, '_>) -> Location {
    let pos = doc.text_pos_at(node.range().start);
    Location::at(file, pos.row, pos.col)
}

/// Element children with the given namespace and local name.
pub fn children<'a, 'i>(node: Node<'a, 'i>, ns: &'a str, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == Some(ns))
}

pub fn child<'a, 'i>(node: Node<'a, 'i>, ns: &'a str, name: &'a str) -> Option<Node<'a, 'i>> {
    children(node, ns, name).next()
}

/// Element children whose namespace is one of `nss` and local name matches
/// ignoring ASCII case (authoring tools disagree on `masteryscore` vs `masteryScore`).
pub fn child_any<'a, 'i>(node: Node<'a, 'i>, nss: &[&str], name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| {
        c.is_element()
            && c.tag_name().name().eq_ignore_ascii_case(name)
            && c.tag_name().namespace().is_some_and(|n| nss.contains(&n))
    })
}

/// Attribute in one of `nss` (or unqualified when `nss` contains ""), name matched ignoring case.
pub fn attr_any<'a>(node: Node<'a, '_>, nss: &[&str], name: &str) -> Option<&'a str> {
    node.attributes()
        .find(|a| a.name().eq_ignore_ascii_case(name) && nss.contains(&a.namespace().unwrap_or("")))
        .map(|a| a.value())
}

/// Trimmed text content of an element, `None` when empty.
pub fn text(node: Node<'_, '_>) -> Option<String> {
    let s: String = node.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).collect();
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// An XML Schema boolean attribute with a default; anything else is a manifest error.
pub fn bool_attr(
    file: &str,
    doc: &Document<'_>,
    node: Node<'_, '_>,
    name: &str,
    default: bool,
) -> Result<bool, PackageError> {
    match node.attribute(name).map(str::trim) {
        None => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(false),
        Some(v) => {
            Err(PackageError::manifest(loc(file, doc, node), format!("attribute {name}={v:?} is not a boolean")))
        }
    }
}

/// A namespaced XML Schema boolean attribute with a default.
pub fn bool_attr_ns(
    file: &str,
    doc: &Document<'_>,
    node: Node<'_, '_>,
    ns: &str,
    name: &str,
    default: bool,
) -> Result<bool, PackageError> {
    match node.attribute((ns, name)).map(str::trim) {
        None => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(false),
        Some(v) => {
            Err(PackageError::manifest(loc(file, doc, node), format!("attribute {name}={v:?} is not a boolean")))
        }
    }
}

/// A decimal attribute with a default.
pub fn f64_attr(
    file: &str,
    doc: &Document<'_>,
    node: Node<'_, '_>,
    name: &str,
    default: f64,
) -> Result<f64, PackageError> {
    match node.attribute(name).map(str::trim) {
        None | Some("") => Ok(default),
        Some(v) => parse_f64(v).ok_or_else(|| {
            PackageError::manifest(loc(file, doc, node), format!("attribute {name}={v:?} is not a number"))
        }),
    }
}

/// Parses a finite decimal.
pub fn parse_f64(v: &str) -> Option<f64> {
    v.trim().parse::<f64>().ok().filter(|f| f.is_finite())
}

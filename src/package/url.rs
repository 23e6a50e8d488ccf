//! Launch URL building: `xml:base` chains, SCORM `parameters`, path checks.

/// True when `s` starts with a URI scheme (`http:`, `https:`, `mailto:`…).
/// Single letters are refused so a Windows drive (`C:`) is not taken for one.
pub fn is_absolute(s: &str) -> bool {
    let Some(colon) = s.find(':') else {
        return false;
    };
    let scheme = &s[..colon];
    scheme.len() > 1
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Applies `xml:base` values from outermost to innermost, then `href`.
///
/// Bases are concatenated as ADL's sample RTE does (a missing trailing `/`
/// is supplied, since authors mean a folder); an absolute value restarts the chain.
pub fn join_bases(bases: &[&str], href: &str) -> String {
    let mut out = String::new();
    for part in bases.iter().copied().chain(std::iter::once(href)) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        if is_absolute(part) || part.starts_with('/') {
            out.clear();
        } else if !out.is_empty() && !out.ends_with('/') {
            out.push('/');
        }
        out.push_str(part);
    }
    out
}

/// Appends SCORM `parameters` to a launch URL following the CAM rules:
/// leading `?`/`&` are stripped; a `#fragment` is appended only when the URL
/// has none; otherwise join with `&` if a query exists, else `?`. The query
/// goes before any fragment already in the URL so browsers still send it.
pub fn apply_parameters(url: &str, parameters: &str) -> String {
    let p = parameters.trim().trim_start_matches(['?', '&']);
    if p.is_empty() {
        return url.to_owned();
    }
    let (base, frag) = match url.find('#') {
        Some(i) => (&url[..i], Some(&url[i..])),
        None => (url, None),
    };
    if let Some(rest) = p.strip_prefix('#') {
        return match frag {
            Some(_) => url.to_owned(),
            None => format!("{base}#{rest}"),
        };
    }
    let (query_part, p_frag) = match p.find('#') {
        Some(i) => (&p[..i], Some(&p[i..])),
        None => (p, None),
    };
    let sep = if base.contains('?') {
        if base.ends_with('?') || base.ends_with('&') {
            ""
        } else {
            "&"
        }
    } else {
        "?"
    };
    let frag = frag.or(p_frag).unwrap_or("");
    format!("{base}{sep}{query_part}{frag}")
}

/// The path part of a relative URL (before `?` and `#`).
pub fn path_part(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// Normalises a relative path: drops `.` and empty segments, resolves `..`.
/// Returns `None` when the path climbs out of the package root.
pub fn normalize_path(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// Normalises the path part of a relative URL and keeps its query/fragment.
pub fn normalize_url(url: &str) -> Option<String> {
    let path = path_part(url);
    let rest = &url[path.len()..];
    let mut norm = normalize_path(path)?;
    if path.ends_with('/') && !norm.is_empty() {
        norm.push('/');
    }
    norm.push_str(rest);
    Some(norm)
}

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS, NON_ALPHANUMERIC};

/// Everything but RFC 3986's unreserved characters is escaped: any identifier becomes a valid IRI
/// segment or URN part.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
/// What JavaScript's `encodeURIComponent` leaves as is, which is how content decodes launch parameters
/// (a form-encoded `+` would stay a plus there).
const URI_COMPONENT: &AsciiSet = &UNRESERVED.remove(b'!').remove(b'*').remove(b'\'').remove(b'(').remove(b')');
/// What may not appear raw in a URL path (controls, space, quotes, brackets); the rest, including an
/// existing query string, stays as the package wrote it.
const PATH_UNSAFE: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'<').add(b'>').add(b'\\').add(b'^').add(b'`').add(b'{').add(b'|').add(b'}');

/// Percent-encodes all but unreserved characters.
pub fn encode_unreserved(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// Percent-encodes like JavaScript's `encodeURIComponent`.
pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, URI_COMPONENT).to_string()
}

/// Percent-encodes only what may not appear raw in a URL path.
pub fn encode_path(s: &str) -> String {
    utf8_percent_encode(s, PATH_UNSAFE).to_string()
}

/// Decodes `%XX` escapes; invalid escapes are kept as written, and text that does not decode to UTF-8
/// is returned as it was.
pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8().map(|d| d.into_owned()).unwrap_or_else(|_| s.to_owned())
}

/// Query parameter names of a URL, percent-decoded.
pub fn query_keys(url: &str) -> Vec<String> {
    let Some(q) = url.split('#').next().and_then(|u| u.split_once('?')).map(|(_, q)| q) else {
        return Vec::new();
    };
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| percent_decode(kv.split('=').next().unwrap_or("").replace('+', " ").as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_follow_cam_rules() {
        assert_eq!(apply_parameters("a.html", "?x=1"), "a.html?x=1");
        assert_eq!(apply_parameters("a.html", "&x=1"), "a.html?x=1");
        assert_eq!(apply_parameters("a.html?y=2", "?x=1"), "a.html?y=2&x=1");
        assert_eq!(apply_parameters("a.html", "#p2"), "a.html#p2");
        assert_eq!(apply_parameters("a.html#p1", "#p2"), "a.html#p1");
        assert_eq!(apply_parameters("a.html#p1", "x=1"), "a.html?x=1#p1");
        assert_eq!(apply_parameters("a.html", "  "), "a.html");
        assert_eq!(apply_parameters("a.html?", "x=1"), "a.html?x=1");
        assert_eq!(apply_parameters("a.html", "x=1#top"), "a.html?x=1#top");
    }

    #[test]
    fn bases_concatenate() {
        assert_eq!(join_bases(&["course/", "sco1"], "index.html"), "course/sco1/index.html");
        assert_eq!(join_bases(&["", "x/"], "http://e.com/a"), "http://e.com/a");
        assert_eq!(join_bases(&["http://cdn/x/"], "a.html"), "http://cdn/x/a.html");
    }

    #[test]
    fn paths_normalize() {
        assert_eq!(normalize_path("a/./b/../c.html").as_deref(), Some("a/c.html"));
        assert_eq!(normalize_path("../x"), None);
        assert_eq!(normalize_url("a/../b.html?x=../y").as_deref(), Some("b.html?x=../y"));
        assert!(is_absolute("https://x"));
        assert!(!is_absolute("C:/x"));
        assert!(!is_absolute("index.html"));
        assert_eq!(percent_decode("my%20file.html"), "my file.html");
        assert_eq!(query_keys("a?b=1&activityId=2#c=3"), vec!["b", "activityId"]);
    }
}

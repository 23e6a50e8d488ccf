//! Language maps and the `canonical` format's language filtering: a map is reduced to the one entry
//! that best matches the client's `Accept-Language` (or the first entry when none matches).

use serde_json::{Map, Value};

/// Language ranges from an `Accept-Language` header, best first (quality-sorted, stable).
pub fn parse_accept_language(header: Option<&str>) -> Vec<String> {
    let Some(h) = header else { return Vec::new() };
    let mut ranges: Vec<(f32, usize, String)> = h
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut it = part.trim().split(';');
            let tag = it.next()?.trim();
            if tag.is_empty() {
                return None;
            }
            let q =
                it.find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.trim().parse::<f32>().ok())).unwrap_or(1.0);
            (q > 0.0).then(|| (q, i, tag.to_ascii_lowercase()))
        })
        .collect();
    ranges.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal).then(a.1.cmp(&b.1)));
    ranges.into_iter().map(|r| r.2).collect()
}

/// Reduces a language map to its best entry for `prefs`.
pub fn filter(map: &Map<String, Value>, prefs: &[String]) -> Map<String, Value> {
    let pick = prefs
        .iter()
        .find_map(|p| {
            if p == "*" {
                return map.keys().next().cloned();
            }
            map.keys()
                .find(|k| k.to_ascii_lowercase() == *p)
                .or_else(|| map.keys().find(|k| k.to_ascii_lowercase().starts_with(&format!("{p}-"))))
                .or_else(|| {
                    let primary = p.split('-').next().unwrap_or(p);
                    map.keys().find(|k| k.to_ascii_lowercase().split('-').next() == Some(primary))
                })
                .cloned()
        })
        .or_else(|| map.keys().next().cloned());
    let mut out = Map::new();
    if let Some(k) = pick {
        if let Some(v) = map.get(&k) {
            out.insert(k, v.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn picks_the_preferred_language() {
        let m = json!({"en-US": "Hello", "fr-FR": "Bonjour"});
        let prefs = parse_accept_language(Some("fr;q=0.9, de;q=1.0"));
        assert_eq!(Value::Object(filter(m.as_object().unwrap(), &prefs)), json!({"fr-FR": "Bonjour"}));
    }

    #[test]
    fn falls_back_to_the_first_entry() {
        let m = json!({"en-US": "Hello", "fr-FR": "Bonjour"});
        assert_eq!(Value::Object(filter(m.as_object().unwrap(), &[])), json!({"en-US": "Hello"}));
    }
}

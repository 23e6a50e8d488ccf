//! The xAPI versions Cairn speaks. Every request is served under the rules of the version it names,
//! so the version travels from the HTTP edge into validation and formatting.

use std::fmt;

/// A supported xAPI version family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// xAPI 1.0.x (1.0.0 – 1.0.3); responses say `1.0.3`.
    V1_0_3,
    /// xAPI 2.0.x (IEEE 9274.1.1-2023); responses say `2.0.0`.
    V2_0_0,
}

impl Version {
    /// Parses an `X-Experience-API-Version` header value. `1.0`, `1.0.0`…`1.0.9` and `2.0`, `2.0.x` are
    /// accepted; anything else (including `0.95` and `1.1`) is unsupported.
    pub fn parse(value: &str) -> Option<Version> {
        let v = value.trim();
        let patch_ok = |rest: &str| {
            rest.is_empty()
                || (rest.starts_with('.') && rest.len() > 1 && rest[1..].bytes().all(|b| b.is_ascii_digit()))
        };
        if let Some(rest) = v.strip_prefix("1.0") {
            if patch_ok(rest) {
                return Some(Version::V1_0_3);
            }
        }
        if let Some(rest) = v.strip_prefix("2.0") {
            if patch_ok(rest) {
                return Some(Version::V2_0_0);
            }
        }
        None
    }

    /// The value Cairn sends back in the `X-Experience-API-Version` header.
    pub fn header_value(self) -> &'static str {
        match self {
            Version::V1_0_3 => "1.0.3",
            Version::V2_0_0 => "2.0.0",
        }
    }

    pub fn is_v2(self) -> bool {
        self == Version::V2_0_0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.header_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_patch_versions_of_supported_families() {
        assert_eq!(Version::parse("1.0.3"), Some(Version::V1_0_3));
        assert_eq!(Version::parse("1.0.0"), Some(Version::V1_0_3));
        assert_eq!(Version::parse("1.0"), Some(Version::V1_0_3));
        assert_eq!(Version::parse("2.0.0"), Some(Version::V2_0_0));
    }

    #[test]
    fn refuses_unknown_versions() {
        for bad in ["0.95", "1.1.0", "3.0.0", "", "1.0.", "1.0.x", "2.1"] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
    }
}

//! SCORM 1.2 multi-SCO navigation: flow and choice in manifest order, gated by
//! `adlcp:prerequisites` (the AICC script syntax SCORM 1.2 CAM 2.3.2.5 adopts).
//!
//! The expression grammar, loosest binding first:
//! ```text
//! or    := and ( "|" and )*
//! and   := unary ( "&" unary )*
//! unary := "~" unary | primary
//! primary := "(" or ")" | COUNT "*" "{" ident ("," ident)* "}" | ident ( ("=" | "<>") status )?
//! ```
//! An identifier alone is true when that item is `passed` or `completed`; `=`/`<>` compare its
//! `cmi.core.lesson_status` with a status written in full or by its first letter, quoted or not.
//! `N*{a,b,c}` is true when at least N of the set are passed or completed. An expression that does
//! not parse is treated as met (and reported by [`parse`]) so a broken manifest does not lock the
//! learner out; unknown identifiers are not met.

use serde::Serialize;

use crate::package::model::Course;

/// Expressions longer than this are not evaluated (treated as met): hostile input stays cheap.
pub const MAX_EXPRESSION_LEN: usize = 4096;
const MAX_NESTING: usize = 32;

/// `cmi.core.lesson_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LessonStatus {
    Passed,
    Completed,
    Failed,
    Incomplete,
    Browsed,
    NotAttempted,
}

impl LessonStatus {
    /// Full value or AICC first-letter abbreviation.
    pub fn parse(s: &str) -> Option<LessonStatus> {
        let s = s.trim().trim_matches('"').trim().to_ascii_lowercase();
        Some(match s.as_str() {
            "passed" | "p" => LessonStatus::Passed,
            "completed" | "c" => LessonStatus::Completed,
            "failed" | "f" => LessonStatus::Failed,
            "incomplete" | "i" => LessonStatus::Incomplete,
            "browsed" | "b" => LessonStatus::Browsed,
            "not attempted" | "n" => LessonStatus::NotAttempted,
            _ => return None,
        })
    }

    fn done(self) -> bool {
        matches!(self, LessonStatus::Passed | LessonStatus::Completed)
    }
}

/// A parsed prerequisites expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Item(String),
    Is(String, LessonStatus),
    IsNot(String, LessonStatus),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    AtLeast(usize, Vec<String>),
}

impl Expr {
    /// Evaluates against each item's lesson status (`None`: never launched).
    pub fn eval(&self, status: &dyn Fn(&str) -> Option<LessonStatus>) -> bool {
        let st = |id: &str| status(id).unwrap_or(LessonStatus::NotAttempted);
        match self {
            Expr::Item(id) => st(id).done(),
            Expr::Is(id, s) => st(id) == *s,
            Expr::IsNot(id, s) => st(id) != *s,
            Expr::Not(e) => !e.eval(status),
            Expr::And(v) => v.iter().all(|e| e.eval(status)),
            Expr::Or(v) => v.iter().any(|e| e.eval(status)),
            Expr::AtLeast(n, ids) => ids.iter().filter(|id| st(id).done()).count() >= *n,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    And,
    Or,
    Not,
    Eq,
    Ne,
    Open,
    Close,
    Star,
    SetOpen,
    SetClose,
    Comma,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '&' => {
                chars.next();
                out.push(Tok::And);
            }
            '|' => {
                chars.next();
                out.push(Tok::Or);
            }
            '~' => {
                chars.next();
                out.push(Tok::Not);
            }
            '=' => {
                chars.next();
                out.push(Tok::Eq);
            }
            '<' => {
                chars.next();
                if chars.next() != Some('>') {
                    return Err("'<' must be followed by '>'".into());
                }
                out.push(Tok::Ne);
            }
            '(' => {
                chars.next();
                out.push(Tok::Open);
            }
            ')' => {
                chars.next();
                out.push(Tok::Close);
            }
            '*' => {
                chars.next();
                out.push(Tok::Star);
            }
            '{' => {
                chars.next();
                out.push(Tok::SetOpen);
            }
            '}' => {
                chars.next();
                out.push(Tok::SetClose);
            }
            ',' => {
                chars.next();
                out.push(Tok::Comma);
            }
            '"' => {
                chars.next();
                let mut v = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(ch) => v.push(ch),
                        None => return Err("unterminated quote".into()),
                    }
                }
                out.push(Tok::Ident(v));
            }
            _ => {
                let mut v = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() || "&|~=<>(){},*\"".contains(ch) {
                        break;
                    }
                    v.push(ch);
                    chars.next();
                }
                out.push(Tok::Ident(v));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut v = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.next();
            v.push(self.and()?);
        }
        Ok(if v.len() == 1 { v.remove(0) } else { Expr::Or(v) })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut v = vec![self.unary()?];
        while self.peek() == Some(&Tok::And) {
            self.next();
            v.push(self.unary()?);
        }
        Ok(if v.len() == 1 { v.remove(0) } else { Expr::And(v) })
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err("expression nests too deeply".into());
        }
        let r = if self.peek() == Some(&Tok::Not) {
            self.next();
            Ok(Expr::Not(Box::new(self.unary()?)))
        } else {
            self.primary()
        };
        self.depth -= 1;
        r
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Tok::Open) => {
                let e = self.or()?;
                if self.next() != Some(Tok::Close) {
                    return Err("missing ')'".into());
                }
                Ok(e)
            }
            Some(Tok::Ident(id)) => {
                if self.peek() == Some(&Tok::Star) {
                    self.next();
                    let n: usize = id.parse().map_err(|_| format!("{id:?} is not a count"))?;
                    if self.next() != Some(Tok::SetOpen) {
                        return Err("expected '{' after '*'".into());
                    }
                    let mut ids = Vec::new();
                    loop {
                        match self.next() {
                            Some(Tok::Ident(i)) => ids.push(i),
                            _ => return Err("expected an identifier in the set".into()),
                        }
                        match self.next() {
                            Some(Tok::Comma) => continue,
                            Some(Tok::SetClose) => break,
                            _ => return Err("expected ',' or '}'".into()),
                        }
                    }
                    return Ok(Expr::AtLeast(n, ids));
                }
                let op = match self.peek() {
                    Some(Tok::Eq) => Some(true),
                    Some(Tok::Ne) => Some(false),
                    _ => None,
                };
                let Some(eq) = op else { return Ok(Expr::Item(id)) };
                self.next();
                let Some(Tok::Ident(v)) = self.next() else { return Err("expected a status".into()) };
                let s = LessonStatus::parse(&v).ok_or_else(|| format!("{v:?} is not a lesson status"))?;
                Ok(if eq { Expr::Is(id, s) } else { Expr::IsNot(id, s) })
            }
            other => Err(format!("unexpected {other:?}")),
        }
    }
}

/// Parses a prerequisites expression.
pub fn parse(expr: &str) -> Result<Expr, String> {
    if expr.len() > MAX_EXPRESSION_LEN {
        return Err("expression too long".into());
    }
    let toks = tokenize(expr)?;
    if toks.is_empty() {
        return Err("empty expression".into());
    }
    let mut p = Parser { toks, at: 0, depth: 0 };
    let e = p.or()?;
    if p.at != p.toks.len() {
        return Err("trailing input".into());
    }
    Ok(e)
}

/// Whether a prerequisites expression is met (unparseable ones are: see the module doc).
pub fn prerequisites_met(expr: Option<&str>, status: &dyn Fn(&str) -> Option<LessonStatus>) -> bool {
    match expr.map(str::trim).filter(|e| !e.is_empty()) {
        None => true,
        Some(e) => parse(e).map(|x| x.eval(status)).unwrap_or(true),
    }
}

/// One SCO (or asset) of a SCORM 1.2 course, in manifest order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sco {
    pub id: String,
    pub prerequisites: Option<String>,
}

/// Flow and choice over a SCORM 1.2 course's launchable items, in manifest order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scorm12Nav {
    pub scos: Vec<Sco>,
}

/// A TOC line for SCORM 1.2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scorm12Entry {
    pub id: String,
    pub enabled: bool,
    pub status: Option<LessonStatus>,
}

impl Scorm12Nav {
    pub fn from_course(course: &Course) -> Scorm12Nav {
        Scorm12Nav {
            scos: course
                .modules()
                .into_iter()
                .map(|m| Sco { id: m.id.clone(), prerequisites: m.prerequisites.clone() })
                .collect(),
        }
    }

    /// Whether the learner may launch `id` now (choice).
    pub fn available(&self, id: &str, status: &dyn Fn(&str) -> Option<LessonStatus>) -> bool {
        self.scos.iter().find(|s| s.id == id).is_some_and(|s| prerequisites_met(s.prerequisites.as_deref(), status))
    }

    /// The first item to launch: the first available one not yet passed or completed, else the
    /// first available one.
    pub fn start(&self, status: &dyn Fn(&str) -> Option<LessonStatus>) -> Option<&str> {
        let ok = |s: &&Sco| prerequisites_met(s.prerequisites.as_deref(), status);
        self.scos
            .iter()
            .filter(ok)
            .find(|s| !status(&s.id).is_some_and(LessonStatus::done))
            .or_else(|| self.scos.iter().find(ok))
            .map(|s| s.id.as_str())
    }

    /// The next available item after `current` (continue), skipping those whose prerequisites
    /// are not met.
    pub fn next(&self, current: &str, status: &dyn Fn(&str) -> Option<LessonStatus>) -> Option<&str> {
        let at = self.scos.iter().position(|s| s.id == current)?;
        self.scos[at + 1..]
            .iter()
            .find(|s| prerequisites_met(s.prerequisites.as_deref(), status))
            .map(|s| s.id.as_str())
    }

    /// The previous available item before `current`.
    pub fn previous(&self, current: &str, status: &dyn Fn(&str) -> Option<LessonStatus>) -> Option<&str> {
        let at = self.scos.iter().position(|s| s.id == current)?;
        self.scos[..at]
            .iter()
            .rev()
            .find(|s| prerequisites_met(s.prerequisites.as_deref(), status))
            .map(|s| s.id.as_str())
    }

    pub fn toc(&self, status: &dyn Fn(&str) -> Option<LessonStatus>) -> Vec<Scorm12Entry> {
        self.scos
            .iter()
            .map(|s| Scorm12Entry {
                id: s.id.clone(),
                enabled: prerequisites_met(s.prerequisites.as_deref(), status),
                status: status(&s.id),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn with(pairs: &[(&str, LessonStatus)]) -> impl Fn(&str) -> Option<LessonStatus> {
        let m: HashMap<String, LessonStatus> = pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
        move |id: &str| m.get(id).copied()
    }

    use LessonStatus::*;

    #[test]
    fn identifiers_and_operators() {
        let s = with(&[("a", Passed), ("b", Completed), ("c", Failed), ("d", Incomplete)]);
        let t = |e: &str| parse(e).expect(e).eval(&s);
        assert!(t("a"));
        assert!(t("b"));
        assert!(!t("c"));
        assert!(!t("zz"));
        assert!(t("a & b"));
        assert!(!t("a & c"));
        assert!(t("c | a"));
        assert!(t("~c"));
        assert!(!t("~a"));
        assert!(t("~~a"));
        assert!(t("(a | c) & ~d"));
        assert!(t("a&(c|(b&~d))"));
        assert!(!t("a & (c | (b & d))"));
    }

    #[test]
    fn precedence_and_binds_tighter_than_or() {
        let s = with(&[("a", Passed)]);
        // a | (b & c), not (a | b) & c
        assert!(parse("a | b & c").expect("parse").eval(&s));
        assert!(!parse("(a | b) & c").expect("parse").eval(&s));
    }

    #[test]
    fn status_comparisons() {
        let s = with(&[("a", Failed), ("b", Incomplete)]);
        let t = |e: &str| parse(e).expect(e).eval(&s);
        assert!(t("a = failed"));
        assert!(t("a=\"failed\""));
        assert!(t("a = f"));
        assert!(t("b <> passed"));
        assert!(!t("b <> i"));
        assert!(t("x = \"not attempted\""));
        assert!(t("x = n"));
        assert!(parse("a = maybe").is_err());
    }

    #[test]
    fn sets_with_counts() {
        let s = with(&[("a", Passed), ("b", Failed), ("c", Completed)]);
        let t = |e: &str| parse(e).expect(e).eval(&s);
        assert!(t("2*{a,b,c}"));
        assert!(!t("3*{a,b,c}"));
        assert!(t("1 * { b , c }"));
        assert!(t("0*{b}"));
        assert!(t("2*{a,b,c} & ~b"));
        assert!(parse("x*{a}").is_err());
        assert!(parse("2*{a,").is_err());
    }

    #[test]
    fn malformed_and_hostile_expressions() {
        for bad in ["", "a &", "(a", "a b", "&", "a < b", "\"a"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = format!("{}a", "~".repeat(100));
        assert!(parse(&deep).is_err());
        let long = vec!["a"; 3000].join("&");
        assert!(parse(&long).is_err());
        // Unparseable: met, so a broken manifest does not lock the learner out.
        assert!(prerequisites_met(Some("a &"), &|_: &str| None));
        assert!(prerequisites_met(None, &|_: &str| None));
        assert!(!prerequisites_met(Some("a"), &|_: &str| None));
    }

    #[test]
    fn flow_and_choice_in_manifest_order() {
        let nav = Scorm12Nav {
            scos: vec![
                Sco { id: "s1".into(), prerequisites: None },
                Sco { id: "s2".into(), prerequisites: Some("s1".into()) },
                Sco { id: "s3".into(), prerequisites: Some("s1 & s2".into()) },
                Sco { id: "s4".into(), prerequisites: None },
            ],
        };
        let none = with(&[]);
        assert_eq!(nav.start(&none), Some("s1"));
        assert_eq!(nav.next("s1", &none), Some("s4"));
        assert!(!nav.available("s2", &none));
        let one = with(&[("s1", Passed)]);
        assert_eq!(nav.start(&one), Some("s2"));
        assert_eq!(nav.next("s1", &one), Some("s2"));
        assert_eq!(nav.next("s2", &one), Some("s4"));
        assert_eq!(nav.previous("s4", &one), Some("s2"));
        assert_eq!(nav.previous("s1", &one), None);
        let all = with(&[("s1", Passed), ("s2", Completed), ("s3", Passed), ("s4", Passed)]);
        assert_eq!(nav.start(&all), Some("s1"));
        let toc = nav.toc(&one);
        assert_eq!(toc.iter().map(|e| e.enabled).collect::<Vec<_>>(), [true, true, false, true]);
        assert_eq!(toc[0].status, Some(Passed));
    }

    #[test]
    fn built_from_a_scorm12_manifest() {
        let xml = r#"<?xml version="1.0"?>
<manifest identifier="m" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
 <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
 <organizations default="o"><organization identifier="o"><title>T</title>
  <item identifier="i1" identifierref="r"><title>One</title></item>
  <item identifier="i2" identifierref="r"><title>Two</title><adlcp:prerequisites type="aicc_script">i1</adlcp:prerequisites></item>
 </organization></organizations>
 <resources><resource identifier="r" type="webcontent" adlcp:scormtype="sco" href="a.html"/></resources>
</manifest>"#;
        let parsed =
            crate::package::scorm::parse("imsmanifest.xml", xml, &crate::package::Limits::default()).expect("parse");
        let nav = Scorm12Nav::from_course(&parsed.course);
        assert_eq!(nav.scos[1].prerequisites.as_deref(), Some("i1"));
        assert!(!nav.available("i2", &with(&[])));
        assert!(nav.available("i2", &with(&[("i1", Completed)])));
    }
}

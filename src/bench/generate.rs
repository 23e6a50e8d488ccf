//! A deterministic generator of realistic xAPI traffic: the same `(statements, learners, courses,
//! seed)` always gives byte-identical statements, ids included, so a figure measured on one machine
//! can be re-measured elsewhere on exactly the same data.
//!
//! The stream is made of *sessions*, the way content really talks: a learner opens one assignable
//! unit of a course and the content sends a handful of statements under one registration. Even
//! courses follow cmi5 (launched, initialized, progressed, passed/failed, completed, terminated with the
//! cmi5 context extensions and categories), odd courses the ADL SCORM profile (initialized, answered
//! interactions with response patterns, experienced, passed/failed, completed, suspended/terminated).
//! About 1 statement in 200 is a voiding statement aimed at an earlier one, and about 1 in 250 (the
//! measured rate: one cmi5 completion in ten) carries a certificate attachment whose payload derives from
//! the statement id (see [`attachment_payload`]), so a file of statements alone is enough to replay
//! the attachments too.
//!
//! Randomness is our own SplitMix64 rather than `rand`'s generators, whose streams may change between
//! crate versions: the data must not.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// How much to generate and from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub statements: u64,
    pub learners: u32,
    pub courses: u32,
    pub seed: u64,
}

/// Verbs the generator uses; the load driver queries by some of them.
pub use crate::xapi::vocab::verbs;

const LMS_HOME: &str = "https://lms.example.com";
const COURSE_BASE: &str = "https://courses.example.com/c";
use crate::xapi::vocab::cmi5::{CATEGORY_CMI5 as CMI5_CATEGORY, CATEGORY_MOVEON as MOVEON_CATEGORY};
use crate::xapi::vocab::scorm::PROFILE as SCORM_PROFILE;
/// 2026-01-05T08:00:00Z: generated timestamps start here and advance with the sessions.
const EPOCH_SECONDS: i64 = 1_767_600_000;

/// SplitMix64: tiny, fast, and fixed forever (unlike library generators).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is irrelevant for test data.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// A random (version 4) UUID from this stream.
    pub fn uuid(&mut self) -> String {
        let hi = self.next_u64();
        let lo = self.next_u64();
        let bytes = ((hi as u128) << 64) | lo as u128;
        uuid::Builder::from_random_bytes(bytes.to_be_bytes()).into_uuid().hyphenated().to_string()
    }
}

/// A value derived from `seed` and some labels only (not from the stream position), so that the
/// driver can name a learner's registration in a course without replaying the stream.
fn derived(seed: u64, a: u64, b: u64) -> Rng {
    let mut r = Rng::new(seed ^ a.wrapping_mul(0x1000_0000_01B3) ^ b.rotate_left(32));
    r.next_u64();
    r
}

/// The names of things in a generated data set: what the load driver filters by.
#[derive(Debug, Clone)]
pub struct Universe {
    pub spec: Spec,
}

impl Universe {
    pub fn new(spec: Spec) -> Universe {
        Universe { spec: Spec { learners: spec.learners.max(1), courses: spec.courses.max(1), ..spec } }
    }

    /// Learner `i` as an xAPI Agent: one in four is known by mailbox, the rest by LMS account.
    pub fn learner(&self, i: u32) -> Value {
        if i % 4 == 3 {
            json!({"objectType": "Agent", "name": format!("Learner {i:05}"), "mbox": format!("mailto:learner{i:05}@example.com")})
        } else {
            json!({"objectType": "Agent", "name": format!("Learner {i:05}"),
                   "account": {"homePage": LMS_HOME, "name": format!("learner-{i:05}")}})
        }
    }

    /// Course `c`'s IRI; even courses are cmi5, odd ones SCORM.
    pub fn course(&self, c: u32) -> String {
        format!("{COURSE_BASE}/{c:04}")
    }

    pub fn is_cmi5(&self, c: u32) -> bool {
        c % 2 == 0
    }

    /// How many assignable units (cmi5 AUs or SCORM SCOs) course `c` has: 3 to 8.
    pub fn units(&self, c: u32) -> u32 {
        3 + (c * 7 + 3) % 6
    }

    pub fn unit(&self, c: u32, u: u32) -> String {
        if self.is_cmi5(c) {
            format!("{COURSE_BASE}/{c:04}/au/{u:02}")
        } else {
            format!("{COURSE_BASE}/{c:04}/sco/{u:02}")
        }
    }

    /// The registration (enrolment) of learner `l` in course `c`: fixed per pair.
    pub fn registration(&self, l: u32, c: u32) -> String {
        derived(self.spec.seed, l as u64 + 1, c as u64 + 0x5151).uuid()
    }
}

/// One generated statement and, when it carries an attachment, that attachment's payload.
#[derive(Debug, Clone)]
pub struct Generated {
    pub statement: Value,
    pub attachment: Option<Attachment>,
}

#[derive(Debug, Clone)]
pub struct Attachment {
    pub content_type: String,
    pub body: Vec<u8>,
}

/// The payload of a generated certificate attachment: derived from the statement id alone.
pub fn attachment_payload(statement_id: &str) -> Vec<u8> {
    let mut text = format!("Certificate of completion\nStatement {statement_id}\n");
    // Some body, like a real small document: a few hundred bytes of deterministic filler.
    for i in 0..8 {
        text.push_str(&format!("line {i}: this certifies that the learner met the course's move-on criteria.\n"));
    }
    text.into_bytes()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The statement stream. An iterator of exactly `spec.statements` items.
pub struct Generator {
    pub universe: Universe,
    rng: Rng,
    emitted: u64,
    session: u64,
    pending: std::collections::VecDeque<Generated>,
    /// Ids of recent non-voiding, not yet voided statements: targets for voiding statements.
    voidable: std::collections::VecDeque<String>,
}

impl Generator {
    pub fn new(spec: Spec) -> Generator {
        Generator {
            universe: Universe::new(spec),
            rng: Rng::new(spec.seed),
            emitted: 0,
            session: 0,
            pending: Default::default(),
            voidable: Default::default(),
        }
    }

    fn timestamp(&self, offset_ms: i64) -> String {
        let base = EPOCH_SECONDS * 1000 + self.session as i64 * 37_000 + offset_ms;
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(base as i128 * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        crate::xapi::timestamp::format_timestamp(t)
    }

    /// Generates one session's statements into `pending`.
    fn session(&mut self) {
        let u = &self.universe;
        let learner_ix = self.rng.below(u.spec.learners as u64) as u32;
        let course_ix = self.rng.below(u.spec.courses as u64) as u32;
        let unit_ix = self.rng.below(u.units(course_ix) as u64) as u32;
        let s = Session {
            actor: u.learner(learner_ix),
            course: u.course(course_ix),
            course_ix,
            unit: u.unit(course_ix, unit_ix),
            unit_ix,
            registration: u.registration(learner_ix, course_ix),
            session_id: self.rng.uuid(),
            cmi5: u.is_cmi5(course_ix),
        };
        let mut out = Vec::new();
        if s.cmi5 {
            self.cmi5_session(&s, &mut out);
        } else {
            self.scorm_session(&s, &mut out);
        }
        self.session += 1;
        self.pending.extend(out);
    }

    fn base(&mut self, s: &Session, verb: &str, verb_en: &str, offset_ms: i64) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.rng.uuid()));
        m.insert("actor".into(), s.actor.clone());
        m.insert("verb".into(), json!({"id": verb, "display": {"en-US": verb_en, "fr-FR": french(verb_en)}}));
        m.insert("timestamp".into(), json!(self.timestamp(offset_ms)));
        m
    }

    fn unit_object(&self, s: &Session) -> Value {
        let kind = if s.cmi5 { "AU" } else { "SCO" };
        json!({
            "objectType": "Activity",
            "id": s.unit,
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/lesson",
                "name": {"en-US": format!("Unit {} of course {}", s.unit_ix + 1, s.course_ix),
                         "fr-FR": format!("Unité {} du cours {}", s.unit_ix + 1, s.course_ix)},
                "description": {"en-US": format!("{kind} {} of course {}: workplace safety, module {} of the programme.",
                                                 s.unit_ix + 1, s.course_ix, s.unit_ix + 1)}
            }
        })
    }

    fn context(&self, s: &Session, categories: &[&str], extra_ext: Option<(&str, Value)>) -> Value {
        let course = json!({"id": s.course, "objectType": "Activity",
            "definition": {"type": "http://adlnet.gov/expapi/activities/course",
                           "name": {"en-US": format!("Course {}", s.course_ix)}}});
        let mut ca = Map::new();
        if s.cmi5 {
            ca.insert("grouping".into(), json!([course]));
        } else {
            ca.insert("parent".into(), json!([{"id": s.unit, "objectType": "Activity"}]));
            ca.insert(
                "grouping".into(),
                json!([{"id": format!("{}?attempt={}", s.unit, &s.session_id[..8]), "objectType": "Activity",
                        "definition": {"type": "http://adlnet.gov/expapi/activities/attempt"}}, course]),
            );
        }
        let cats: Vec<Value> = categories
            .iter()
            .map(|c| json!({"id": c, "objectType": "Activity", "definition": {"type": "http://adlnet.gov/expapi/activities/profile"}}))
            .collect();
        if !cats.is_empty() {
            ca.insert("category".into(), Value::Array(cats));
        }
        let mut ext = Map::new();
        if s.cmi5 {
            ext.insert(crate::xapi::vocab::cmi5::EXT_SESSION.into(), json!(s.session_id));
        } else {
            ext.insert(crate::xapi::vocab::scorm::EXT_ATTEMPT_ID.into(), json!(s.session_id));
        }
        ext.insert(
            "https://example.com/xapi/extensions/user-agent".into(),
            json!("Mozilla/5.0 (X11; Linux x86_64) Chrome/128.0 Safari/537.36"),
        );
        if let Some((k, v)) = extra_ext {
            ext.insert(k.into(), v);
        }
        json!({
            "registration": s.registration,
            "contextActivities": ca,
            "platform": if s.cmi5 { "Cairn bench cmi5 player" } else { "Cairn bench SCORM runtime" },
            "language": "en-US",
            "extensions": ext,
        })
    }

    fn duration(&mut self, max_s: u64) -> String {
        let secs = 5 + self.rng.below(max_s);
        format!("PT{}M{}.{}S", secs / 60, secs % 60, self.rng.below(100))
    }

    fn score(&mut self) -> (Value, bool) {
        let raw = 40 + self.rng.below(61);
        (json!({"scaled": raw as f64 / 100.0, "raw": raw, "min": 0, "max": 100}), raw >= 70)
    }

    fn cmi5_session(&mut self, s: &Session, out: &mut Vec<Generated>) {
        let object = self.unit_object(s);
        let mut t = 0;
        let push = |m: Map<String, Value>, out: &mut Vec<Generated>| {
            out.push(Generated { statement: Value::Object(m), attachment: None });
        };
        // The LMS launches the AU.
        let mut m = self.base(s, verbs::LAUNCHED, "launched", t);
        m.insert("object".into(), object.clone());
        m.insert(
            "context".into(),
            self.context(s, &[CMI5_CATEGORY], Some((crate::xapi::vocab::cmi5::EXT_LAUNCH_MODE, json!("Normal")))),
        );
        push(m, out);
        t += 1200;
        let mut m = self.base(s, verbs::INITIALIZED, "initialized", t);
        m.insert("object".into(), object.clone());
        m.insert("context".into(), self.context(s, &[CMI5_CATEGORY], None));
        push(m, out);
        for step in 0..self.rng.below(4) {
            t += 30_000 + self.rng.below(60_000) as i64;
            let mut m = self.base(s, verbs::PROGRESSED, "progressed", t);
            m.insert("object".into(), object.clone());
            m.insert("result".into(), json!({"extensions": {crate::xapi::vocab::cmi5::EXT_PROGRESS: 25 * (step + 1)}}));
            m.insert("context".into(), self.context(s, &[], None));
            push(m, out);
        }
        t += 60_000;
        let (score, success) = self.score();
        let (verb, en) = if success { (verbs::PASSED, "passed") } else { (verbs::FAILED, "failed") };
        let mut m = self.base(s, verb, en, t);
        m.insert("object".into(), object.clone());
        let d = self.duration(900);
        m.insert("result".into(), json!({"score": score, "success": success, "duration": d}));
        m.insert(
            "context".into(),
            self.context(
                s,
                &[CMI5_CATEGORY, MOVEON_CATEGORY],
                Some((crate::xapi::vocab::cmi5::EXT_MASTERY, json!(0.7))),
            ),
        );
        push(m, out);
        if success || self.rng.chance(300) {
            t += 500;
            let mut m = self.base(s, verbs::COMPLETED, "completed", t);
            m.insert("object".into(), object.clone());
            let d = self.duration(900);
            m.insert("result".into(), json!({"completion": true, "duration": d}));
            m.insert("context".into(), self.context(s, &[CMI5_CATEGORY, MOVEON_CATEGORY], None));
            let mut attachment = None;
            if self.rng.chance(100) {
                let id = m.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
                let body = attachment_payload(&id);
                m.insert(
                    "attachments".into(),
                    json!([{
                        "usageType": "http://id.tincanapi.com/attachment/certificate-of-completion",
                        "display": {"en-US": "Certificate of completion"},
                        "contentType": "text/plain",
                        "length": body.len(),
                        "sha2": sha256_hex(&body),
                        "fileUrl": format!("https://certificates.example.com/{id}.txt")
                    }]),
                );
                attachment = Some(Attachment { content_type: "text/plain".into(), body });
            }
            out.push(Generated { statement: Value::Object(m), attachment });
        }
        t += 800;
        let mut m = self.base(s, verbs::TERMINATED, "terminated", t);
        m.insert("object".into(), object);
        let d = self.duration(1800);
        m.insert("result".into(), json!({"duration": d}));
        m.insert("context".into(), self.context(s, &[CMI5_CATEGORY], None));
        out.push(Generated { statement: Value::Object(m), attachment: None });
    }

    fn scorm_session(&mut self, s: &Session, out: &mut Vec<Generated>) {
        let object = self.unit_object(s);
        let mut t = 0;
        let resumed = self.rng.chance(300);
        let (verb, en) = if resumed { (verbs::RESUMED, "resumed") } else { (verbs::INITIALIZED, "initialized") };
        let mut m = self.base(s, verb, en, t);
        m.insert("object".into(), object.clone());
        m.insert("context".into(), self.context(s, &[SCORM_PROFILE], None));
        out.push(Generated { statement: Value::Object(m), attachment: None });
        for q in 0..2 + self.rng.below(5) {
            t += 20_000 + self.rng.below(40_000) as i64;
            let choices = ["alpha", "bravo", "charlie", "delta"];
            let correct = choices[(q as usize + s.unit_ix as usize) % 4];
            let given = choices[self.rng.below(4) as usize];
            let mut m = self.base(s, verbs::ANSWERED, "answered", t);
            m.insert(
                "object".into(),
                json!({
                    "objectType": "Activity",
                    "id": format!("{}/interactions/q{q:02}", s.unit),
                    "definition": {
                        "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                        "name": {"en-US": format!("Question {}", q + 1)},
                        "description": {"en-US": "Which of these is the correct procedure?"},
                        "interactionType": "choice",
                        "correctResponsesPattern": [correct],
                        "choices": choices.iter().map(|c| json!({"id": c, "description": {"en-US": format!("Option {c}")}})).collect::<Vec<_>>()
                    }
                }),
            );
            let d = self.duration(60);
            m.insert("result".into(), json!({"response": given, "success": given == correct, "duration": d}));
            m.insert("context".into(), self.context(s, &[SCORM_PROFILE], None));
            out.push(Generated { statement: Value::Object(m), attachment: None });
        }
        if self.rng.chance(400) {
            t += 10_000;
            let mut m = self.base(s, verbs::EXPERIENCED, "experienced", t);
            m.insert("object".into(), object.clone());
            m.insert("context".into(), self.context(s, &[SCORM_PROFILE], None));
            out.push(Generated { statement: Value::Object(m), attachment: None });
        }
        t += 15_000;
        let (score, success) = self.score();
        let (verb, en) = if success { (verbs::PASSED, "passed") } else { (verbs::FAILED, "failed") };
        let mut m = self.base(s, verb, en, t);
        m.insert("object".into(), object.clone());
        m.insert("result".into(), json!({"score": score, "success": success}));
        m.insert("context".into(), self.context(s, &[SCORM_PROFILE], None));
        out.push(Generated { statement: Value::Object(m), attachment: None });
        if success {
            t += 500;
            let mut m = self.base(s, verbs::COMPLETED, "completed", t);
            m.insert("object".into(), object.clone());
            m.insert("result".into(), json!({"completion": true}));
            m.insert("context".into(), self.context(s, &[SCORM_PROFILE], None));
            out.push(Generated { statement: Value::Object(m), attachment: None });
        }
        t += 700;
        let (verb, en) = if success { (verbs::TERMINATED, "terminated") } else { (verbs::SUSPENDED, "suspended") };
        let mut m = self.base(s, verb, en, t);
        m.insert("object".into(), object);
        let d = self.duration(1800);
        m.insert("result".into(), json!({"duration": d}));
        m.insert("context".into(), self.context(s, &[SCORM_PROFILE], None));
        out.push(Generated { statement: Value::Object(m), attachment: None });
    }

    /// A voiding statement by the LMS administrator for an earlier statement, when one is available.
    fn voiding(&mut self) -> Option<Generated> {
        if self.voidable.is_empty() {
            return None;
        }
        let pick = self.rng.below(self.voidable.len() as u64) as usize;
        let target = self.voidable.remove(pick)?;
        let id = self.rng.uuid();
        let ts = self.timestamp(0);
        Some(Generated {
            statement: json!({
                "id": id,
                "actor": {"objectType": "Agent", "name": "LMS administrator", "mbox": "mailto:admin@lms.example.com"},
                "verb": {"id": verbs::VOIDED, "display": {"en-US": "voided"}},
                "object": {"objectType": "StatementRef", "id": target},
                "timestamp": ts,
            }),
            attachment: None,
        })
    }
}

struct Session {
    actor: Value,
    course: String,
    course_ix: u32,
    unit: String,
    unit_ix: u32,
    registration: String,
    session_id: String,
    cmi5: bool,
}

fn french(en: &str) -> String {
    match en {
        "launched" => "lancé",
        "initialized" => "initialisé",
        "progressed" => "progressé",
        "passed" => "réussi",
        "failed" => "échoué",
        "completed" => "terminé",
        "terminated" => "clos",
        "answered" => "répondu",
        "experienced" => "consulté",
        "suspended" => "suspendu",
        "resumed" => "repris",
        other => other,
    }
    .to_string()
}

impl Iterator for Generator {
    type Item = Generated;

    fn next(&mut self) -> Option<Generated> {
        if self.emitted >= self.universe.spec.statements {
            return None;
        }
        // Voiding statements: about 1 in 200, aimed at a statement generated a little earlier.
        let g = if self.emitted > 100 && self.rng.chance(5) { self.voiding() } else { None };
        let g = match g {
            Some(g) => g,
            None => {
                while self.pending.is_empty() {
                    self.session();
                }
                let g = self.pending.pop_front()?;
                if let Some(id) = g.statement.get("id").and_then(Value::as_str) {
                    self.voidable.push_back(id.to_string());
                    if self.voidable.len() > 256 {
                        self.voidable.pop_front();
                    }
                }
                g
            }
        };
        self.emitted += 1;
        Some(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(n: u64) -> Spec {
        Spec { statements: n, learners: 50, courses: 6, seed: 7 }
    }

    #[test]
    fn same_spec_same_bytes() {
        let a: Vec<String> = Generator::new(spec(300)).map(|g| g.statement.to_string()).collect();
        let b: Vec<String> = Generator::new(spec(300)).map(|g| g.statement.to_string()).collect();
        assert_eq!(a.len(), 300);
        assert_eq!(a, b);
        let c: Vec<String> = Generator::new(Spec { seed: 8, ..spec(300) }).map(|g| g.statement.to_string()).collect();
        assert_ne!(a, c);
    }

    #[test]
    fn every_statement_is_valid_and_ids_are_unique() {
        let v = crate::xapi::validate::Validator::new();
        let mut ids = std::collections::HashSet::new();
        let (mut voiding, mut attached, mut bytes) = (0, 0, 0usize);
        for g in Generator::new(spec(4000)) {
            for version in [crate::xapi::Version::V1_0_3, crate::xapi::Version::V2_0_0] {
                if let Err(e) = v.statement(&g.statement, version) {
                    panic!("{e}: {}", g.statement);
                }
            }
            assert!(ids.insert(g.statement["id"].as_str().map(str::to_string)));
            voiding += usize::from(g.statement["verb"]["id"] == verbs::VOIDED);
            if let Some(a) = &g.attachment {
                attached += 1;
                assert_eq!(g.statement["attachments"][0]["sha2"], json!(sha256_hex(&a.body)));
            }
            bytes += g.statement.to_string().len();
        }
        assert!((5..60).contains(&voiding), "{voiding} voiding statements");
        assert!(attached > 0, "no attachments");
        let avg = bytes / 4000;
        assert!((1200..1900).contains(&avg), "average statement is {avg} bytes");
    }

    #[test]
    fn registration_is_fixed_per_learner_and_course() {
        let u = Universe::new(spec(1));
        assert_eq!(u.registration(3, 4), u.registration(3, 4));
        assert_ne!(u.registration(3, 4), u.registration(4, 3));
    }
}

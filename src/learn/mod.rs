//! The learner's side (`/learn`): how a learner gets in, and what they see and do there. The pages
//! (`http::learn`) call these; nothing here renders HTML.
//!
//! A learner gets in with a personal sign-in link (issued by an admin, `POST
//! /api/persons/{id}/sign-in-link`, or `cairn learners link`): single use, short lived, only its
//! SHA-256 stored. Using it, like any other way in (single sign-on, later), ends in
//! [`Learn::start_session`], which makes a learner session: a random token in its own cookie, only
//! its SHA-256 stored, with a CSRF token and the console's idle and absolute expiry, in a table of
//! its own, so a learner session is never a console session and the other way round.
//!
//! - [`training`]: "my training": assignments, due dates, progress, live sessions, bookings;
//! - [`ics`]: a live session as an iCalendar file; [`certificate`]: a completion certificate (PDF).

pub mod certificate;
pub mod ics;
pub mod training;

pub use crate::lms::zones;

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::lms::Lms;
use crate::lrs::auth::random_token;
use crate::lrs::error::{LrsError, Result};
use crate::sso::{Identity, Sso};
use crate::store::LearnerSessionRow;

#[derive(Debug, Clone)]
pub struct LearnConfig {
    /// Mark the cookie `Secure` (the API origin is served over HTTPS).
    pub secure_cookies: bool,
    pub idle: Duration,
    pub absolute: Duration,
}

impl Default for LearnConfig {
    fn default() -> Self {
        LearnConfig {
            secure_cookies: false,
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
        }
    }
}

/// The signed-in learner of one request.
#[derive(Debug, Clone)]
pub struct Learner {
    pub person_id: String,
    /// The person's identifiers (IFI keys), oldest first.
    pub identifiers: Vec<String>,
    /// The person's name, else their first identifier's label.
    pub name: String,
    /// The session's CSRF token, which every form carries back.
    pub csrf: String,
    token_sha256: String,
}

impl Learner {
    /// Whether `given` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, given: &str) -> bool {
        let (a, b) = (self.csrf.as_bytes(), given.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// A sign-in link, as answered to whoever issued it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SignInLink {
    pub person: String,
    pub url: String,
    pub expires_at: String,
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

#[derive(Clone)]
pub struct Learn {
    lms: Lms,
    pub config: Arc<LearnConfig>,
    /// Single sign-on, when an OpenID provider is configured.
    pub sso: Option<Sso>,
}

impl Learn {
    pub fn new(lms: Lms, config: LearnConfig) -> Learn {
        Learn { lms, config: Arc::new(config), sso: None }
    }

    /// The learner side with single sign-on through `sso`.
    pub fn with_sso(mut self, sso: Option<Sso>) -> Learn {
        self.sso = sso;
        self
    }

    /// Signs in the learner an OpenID provider vouched for: the person owning `mailto:` their
    /// verified email. Someone the store has never seen gets a person of their own (they see an
    /// empty training page until something is assigned to that email). Answers the session token.
    pub async fn sign_in_sso(&self, id: &Identity) -> Result<String> {
        let Some(email) = &id.email else {
            return Err(LrsError::Forbidden(
                "the provider gave no verified email address, which is how Cairn knows learners".into(),
            ));
        };
        let agent = json!({"objectType": "Agent", "mbox": format!("mailto:{email}")});
        let key = crate::xapi::agent::key(&agent)
            .ok_or_else(|| LrsError::BadRequest(format!("{email:?} is not an email address")))?;
        let person = match self.lms.person_of_key(&key).await? {
            Some(p) => p,
            None => {
                let name = id.name.clone().filter(|n| !n.trim().is_empty() && n.chars().count() <= 200);
                self.lms.create_person(crate::lms::persons::NewPerson { name, identifiers: vec![agent] }).await?
            }
        };
        let detail = json!({"subject": id.subject}).to_string();
        self.lms.store.insert_audit("sso", "learner.sso_sign_in", &person.id, &detail, crate::now_us()).await?;
        self.start_session(&person.id).await
    }

    pub fn lms(&self) -> &Lms {
        &self.lms
    }

    /// Issues a single-use sign-in link for a person (audited as `by`). The URL opens a page whose
    /// button uses the link: mail scanners that fetch links do not burn it.
    pub async fn issue_sign_in_link(&self, person_id: &str, by: &str) -> Result<SignInLink> {
        let person = self.lms.person_row(person_id).await?;
        let token = random_token(43);
        let now = crate::now_us();
        let expires = now + self.lms.settings.learner_link_ttl.as_micros() as i64;
        self.lms.store.insert_learner_link(&sha256_hex(&token), &person.id, by, now, expires).await?;
        let detail = json!({"expires": crate::xapi::timestamp::format_us(expires)}).to_string();
        self.lms.store.insert_audit(by, "learner.sign_in_link", &person.id, &detail, now).await?;
        let base = self.lms.config.public_url.trim_end_matches('/');
        Ok(SignInLink {
            person: person.id,
            url: format!("{base}/learn/link?t={token}"),
            expires_at: crate::xapi::timestamp::format_us(expires),
        })
    }

    /// Whether a sign-in link can still be used (the page a GET of the link shows says so early).
    pub async fn link_usable(&self, token: &str) -> Result<bool> {
        Ok(self.lms.store.learner_link_usable(&sha256_hex(token), crate::now_us()).await?)
    }

    /// Uses a sign-in link: a new learner session's token, or None when the link is unknown, used
    /// or expired (one answer for all three).
    pub async fn use_sign_in_link(&self, token: &str) -> Result<Option<String>> {
        if token.is_empty() || token.len() > 200 {
            return Ok(None);
        }
        let Some(person) = self.lms.store.use_learner_link(&sha256_hex(token), crate::now_us()).await? else {
            return Ok(None);
        };
        Ok(Some(self.start_session(&person).await?))
    }

    /// Signs a person in: the one step every way in ends with (sign-in link, single sign-on).
    /// Answers the token for the `cairn_learn` cookie; the store keeps only its digest.
    pub async fn start_session(&self, person_id: &str) -> Result<String> {
        let person = self.lms.person_row(person_id).await?;
        let token = random_token(43);
        let now = crate::now_us();
        let row = LearnerSessionRow {
            token_sha256: sha256_hex(&token),
            person_id: person.id,
            csrf: random_token(32),
            created_us: now,
            seen_us: now,
            ended_us: None,
        };
        self.lms.store.insert_learner_session(&row).await?;
        Ok(token)
    }

    /// The learner behind a session token, or None when it is unknown, ended or expired, or its
    /// person is gone (erased, or merged into another: they sign in again).
    pub async fn learner(&self, token: &str) -> Result<Option<Learner>> {
        if token.is_empty() || token.len() > 200 {
            return Ok(None);
        }
        let digest = sha256_hex(token);
        let Some(s) = self.lms.store.learner_session(&digest).await? else { return Ok(None) };
        let now = crate::now_us();
        let idle = self.config.idle.as_micros() as i64;
        let absolute = self.config.absolute.as_micros() as i64;
        if s.ended_us.is_some() || now - s.seen_us > idle || now - s.created_us > absolute {
            return Ok(None);
        }
        let Some(person) = self.lms.store.person(&s.person_id).await? else { return Ok(None) };
        // Idle expiry needs only minute resolution: one write a minute per session, not one a request.
        if now - s.seen_us > 60_000_000 {
            self.lms.store.touch_learner_session(&digest, now).await?;
        }
        let name = match &person.name {
            Some(n) => n.clone(),
            None => self.name_seen(&person).await?,
        };
        Ok(Some(Learner {
            person_id: person.id,
            identifiers: person.identifiers,
            name,
            csrf: s.csrf,
            token_sha256: digest,
        }))
    }

    /// The name of a person without one of their own: what statements called them, else what an
    /// assignment did, else their first identifier.
    async fn name_seen(&self, person: &crate::store::PersonRow) -> Result<String> {
        use serde_json::Value;
        let seen = self.lms.person_json(person).await?;
        if let Some(n) = seen.pointer("/names_seen/0").and_then(Value::as_str) {
            return Ok(n.to_string());
        }
        for a in self.lms.store.assignments_of_person(None, &person.id).await? {
            let agent: Value = serde_json::from_str(&a.learner).unwrap_or(Value::Null);
            if let Some(n) = agent.get("name").and_then(Value::as_str).filter(|n| !n.trim().is_empty()) {
                return Ok(n.to_string());
            }
        }
        Ok(person.identifiers.first().map(|k| crate::xapi::agent::label(k)).unwrap_or_default())
    }

    pub async fn sign_out(&self, l: &Learner) -> Result<()> {
        Ok(self.lms.store.end_learner_session(&l.token_sha256, crate::now_us()).await?)
    }

    /// The learner's time zone: the one they chose, else UTC.
    pub async fn timezone(&self, l: &Learner) -> Result<(jiff::tz::TimeZone, Option<String>)> {
        let chosen = self.lms.store.learner_timezone(&l.person_id).await?;
        let tz = chosen.as_deref().and_then(|n| zones::zone(n).ok()).unwrap_or(jiff::tz::TimeZone::UTC);
        Ok((tz, chosen))
    }

    /// Sets the learner's time zone (an IANA name such as `Europe/Paris`); 400 naming it when unknown.
    pub async fn set_timezone(&self, l: &Learner, name: &str) -> Result<String> {
        let name = name.trim();
        let tz = zones::zone(name)?;
        let canonical = tz.iana_name().unwrap_or(name).to_string();
        self.lms.store.set_learner_timezone(&l.person_id, &canonical, crate::now_us(), true).await?;
        Ok(canonical)
    }

    /// The browser's zone, offered once by the page's script: kept only while the learner has chosen
    /// none, so it never overrides a choice (and arriving late, never undoes one).
    pub async fn offer_timezone(&self, l: &Learner, name: &str) -> Result<()> {
        let tz = zones::zone(name)?;
        let canonical = tz.iana_name().unwrap_or(name.trim()).to_string();
        Ok(self.lms.store.set_learner_timezone(&l.person_id, &canonical, crate::now_us(), false).await?)
    }
}

fn bad(m: impl Into<String>) -> LrsError {
    LrsError::BadRequest(m.into())
}

//! Credentials and scopes. Secrets are stored as argon2 hashes; because argon2 is deliberately slow,
//! a successful check is cached briefly (keyed by a SHA-256 of key and secret, never the secret
//! itself) so a busy client does not pay it on every request. Revocation takes effect within
//! [`CACHE_TTL`] on every node.

use crate::xapi::view::View;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::documents::{DocKind, DocParams};
use super::{Lrs, LrsError};
use crate::store::{CredentialRow, StoreError};

/// How long a verified credential is trusted without asking the store again.
pub const CACHE_TTL: Duration = Duration::from_secs(10);
/// How long a verified key and secret stay known good: checked again against the store (and argon2)
/// after [`CACHE_TTL`], but exempt from the failure limits, so a flood of guesses from the same
/// address, or against the same key, cannot lock out a client that proved its secret before.
pub const KNOWN_GOOD_TTL: Duration = Duration::from_secs(24 * 3600);

/// The scopes of xAPI 1.0.3 §4.2 (OAuth scope list) plus Cairn's `admin` for the `/api` endpoints.
/// The learning-management side adds its own (see [`super::seams::Hooks::scopes`]).
pub const SCOPES: [&str; 9] = [
    "statements/write",
    "statements/read",
    "statements/read/mine",
    "all/read",
    "all",
    "state",
    "define",
    "profile",
    "admin",
];

/// An authenticated client.
#[derive(Debug, Clone)]
pub struct Principal {
    pub key: String,
    pub name: String,
    pub scopes: Vec<String>,
    /// The `authority` given to statements this credential stores.
    pub authority: Value,
    /// Set for a restricted credential, which is limited to what one piece of content needs.
    pub restricted: Option<Arc<Restriction>>,
}

/// What a restricted credential is limited to: one agent, one registration, one activity tree, and a
/// short life. The learning-management side issues them (a launch's credential, through
/// [`super::seams::Hooks::credential`]) to content running in a learner's browser, so it must not be
/// able to read or write anyone else's data even when the learner copies it out of the page.
pub struct Restriction {
    /// The issuer's id for it; the credential's key.
    pub id: String,
    /// The agent, as given to the content.
    pub actor: Value,
    pub agent_key: String,
    pub registration: String,
    /// Activity ids at the roots of the tree statements and documents may concern.
    pub roots: Vec<String>,
    pub expires_us: i64,
    /// What the issuer keeps with it; opaque to the core.
    pub issuer: Box<dyn std::any::Any + Send + Sync>,
}

impl std::fmt::Debug for Restriction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Restriction")
            .field("id", &self.id)
            .field("agent_key", &self.agent_key)
            .field("registration", &self.registration)
            .field("roots", &self.roots)
            .field("expires_us", &self.expires_us)
            .finish_non_exhaustive()
    }
}

impl Restriction {
    /// Whether an activity id is one of the roots or below one (`root/…`, `root#…`, `root?…`).
    pub fn in_tree(&self, id: &str) -> bool {
        crate::xapi::activity::in_tree(&self.roots, id)
    }

    /// One statement against the restriction: its agent as actor, its registration, its activity tree
    /// (as object, or named in `contextActivities`), and no voiding. The message says what is wrong.
    pub fn check_statement(&self, s: &View) -> Result<(), String> {
        if s.actor_key.as_deref() != Some(self.agent_key.as_str()) {
            return Err("a launch credential writes statements about its own learner only (actor)".into());
        }
        if s.verb == crate::xapi::VOIDED_VERB {
            return Err("a launch credential cannot void statements".into());
        }
        if s.registration.as_deref() != Some(self.registration.as_str()) {
            return Err(format!("statements of this launch must carry context.registration {}", self.registration));
        }
        let object_in_tree = s.activity_id().is_some_and(|id| self.in_tree(id));
        let context_in_tree = s.context_activities.all().any(|id| self.in_tree(id));
        if !object_in_tree && !context_in_tree {
            return Err(format!(
                "statements of this launch must be about {} (as object, or in contextActivities)",
                self.roots.join(" or ")
            ));
        }
        Ok(())
    }
}

/// What a request wants to do, for the scope check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    WriteStatements,
    ReadStatements,
    ReadState,
    WriteState,
    ReadProfile,
    WriteProfile,
    /// Activities and Agents resources.
    ReadIdentity,
    Admin,
}

/// How much of the statement stream a reader may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadScope {
    All,
    /// Only statements this credential stored (`statements/read/mine`).
    Mine(String),
}

impl Principal {
    fn has(&self, s: &str) -> bool {
        self.scopes.iter().any(|x| x == s)
    }

    /// Checks one of the scopes the hooks add (such as `launch`), which `admin` implies; never held by a
    /// restricted credential.
    pub fn require_scope(&self, scope: &str) -> Result<(), LrsError> {
        if self.restricted.is_none() && (self.has("admin") || self.has(scope)) {
            Ok(())
        } else {
            Err(LrsError::Forbidden(format!("this needs the {scope:?} or \"admin\" scope")))
        }
    }

    /// Checks a scope; 403 names the scope that would allow the call.
    pub fn require(&self, access: Access) -> Result<(), LrsError> {
        if self.restricted.is_some() {
            // Content may write statements and its State, and read what it needs; never profiles, voiding
            // (checked per statement) or the admin API.
            return match access {
                Access::WriteStatements
                | Access::ReadStatements
                | Access::ReadState
                | Access::WriteState
                | Access::ReadProfile
                | Access::ReadIdentity => Ok(()),
                _ => Err(LrsError::Forbidden(format!("a launch credential does not allow {access:?}"))),
            };
        }
        let all = self.has("all");
        let read = all || self.has("all/read");
        let ok = match access {
            Access::WriteStatements => all || self.has("statements/write"),
            Access::ReadStatements => read || self.has("statements/read") || self.has("statements/read/mine"),
            Access::ReadState => read || self.has("state"),
            Access::WriteState => all || self.has("state"),
            Access::ReadProfile => read || self.has("profile"),
            Access::WriteProfile => all || self.has("profile"),
            Access::ReadIdentity => {
                read || self.has("statements/read") || self.has("define") || self.has("profile") || self.has("state")
            }
            Access::Admin => self.has("admin"),
        };
        if ok {
            Ok(())
        } else {
            Err(LrsError::Forbidden(format!(
                "the credential's scopes ({}) do not allow {access:?}",
                self.scopes.join(", ")
            )))
        }
    }

    /// Keeps a restricted credential to its agent, registration and activity tree in the document
    /// resources; its writes are State only. Other credentials pass.
    pub fn check_document(&self, p: &DocParams, write: bool) -> Result<(), LrsError> {
        let Some(g) = &self.restricted else { return Ok(()) };
        let deny = |what: &str| Err(LrsError::Forbidden(format!("a launch credential cannot {what}")));
        if p.agent_key.as_deref().is_some_and(|a| a != g.agent_key) {
            return deny("use another learner's documents");
        }
        if p.activity_id.as_deref().is_some_and(|a| !g.in_tree(a)) {
            return deny("use documents of activities outside its launch");
        }
        if p.registration.as_deref().is_some_and(|r| r != g.registration) {
            return deny("use documents of another registration");
        }
        if write && (p.kind != DocKind::State || p.doc_id.is_none()) {
            return deny("write profiles or delete every State document at once");
        }
        Ok(())
    }

    /// The part of the statement stream this principal may read. A launch credential has no read
    /// scope, so it sees only what it stored itself: its own learner, registration and tree.
    pub fn read_scope(&self) -> ReadScope {
        if self.has("all") || self.has("all/read") || self.has("statements/read") {
            ReadScope::All
        } else {
            ReadScope::Mine(self.key.clone())
        }
    }
}

/// Recently verified credentials, and a bound on argon2 verifications running at once.
pub struct AuthCache {
    entries: Mutex<HashMap<[u8; 32], (Principal, Instant)>>,
    /// argon2 takes ~19 MiB and tens of milliseconds per check by design. Without a bound, 64
    /// clients arriving together (or a cache entry expiring under load) ran 64 checks at once: over
    /// a gigabyte resident and a one-second stall. With one permit per core, waiters re-read the
    /// cache once they get a permit, so one credential is verified once however many ask.
    verifying: tokio::sync::Semaphore,
    /// The lane for checks from addresses or for keys that failed recently: one at a time, so a
    /// flood of guesses can never hold the permits that valid first-time checks need.
    suspect: tokio::sync::Semaphore,
    pub failures: super::ratelimit::FailureLimits,
}

impl Default for AuthCache {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        AuthCache {
            entries: Mutex::default(),
            verifying: tokio::sync::Semaphore::new(cores),
            suspect: tokio::sync::Semaphore::new(1),
            failures: Default::default(),
        }
    }
}

impl AuthCache {
    /// Drops a revoked restricted credential's cached principal.
    pub fn forget_restricted(&self, id: &str) {
        if let Ok(mut cache) = self.entries.lock() {
            cache.retain(|_, (p, _)| p.restricted.as_ref().is_none_or(|g| g.id != id));
        }
    }

    /// A cached principal for this digest, unless expired (or its launch has).
    fn get(&self, digest: &[u8; 32]) -> Option<Principal> {
        let cache = self.entries.lock().ok()?;
        let (p, at) = cache.get(digest)?;
        (at.elapsed() < CACHE_TTL && p.restricted.as_ref().is_none_or(|g| g.expires_us > crate::now_us()))
            .then(|| p.clone())
    }

    /// Whether this key and secret were verified within [`KNOWN_GOOD_TTL`].
    fn known_good(&self, digest: &[u8; 32]) -> bool {
        self.entries.lock().ok().is_some_and(|c| c.get(digest).is_some_and(|(_, at)| at.elapsed() < KNOWN_GOOD_TTL))
    }
}

/// Checks a secret against an argon2 hash, off the async workers (argon2 is CPU-heavy by design).
async fn verify_argon2(hash: String, secret: &str) -> bool {
    let secret = secret.to_string();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| Argon2::default().verify_password(secret.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random secret: unknown keys are checked against it, so that they cost what a wrong
/// secret costs and timing does not tell which keys exist.
fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_secret(&random_token(40))).clone()
}

/// Why a credential was refused (all map to 401).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    // One message for both, so that answers do not tell which keys exist.
    #[error("the key and secret do not match an active credential")]
    Unknown,
    #[error("the key and secret do not match an active credential")]
    WrongSecret,
    #[error("the launch has expired")]
    Expired,
    /// Too many failed attempts from this address or for this key (see [`super::ratelimit`]).
    #[error("too many failed authentication attempts")]
    TooManyFailures { retry_after: Duration },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new credential as shown once to its owner.
#[derive(Debug, Clone)]
pub struct NewCredential {
    pub key: String,
    pub secret: String,
    pub row: CredentialRow,
}

pub fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..len).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

/// Hashes a secret with argon2id and a random salt.
pub fn hash_secret(secret: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    match Argon2::default().hash_password(secret.as_bytes(), &salt) {
        Ok(h) => h.to_string(),
        // Only fails on parameter errors with our fixed defaults: a bug, not input.
        Err(e) => panic!("argon2 hashing failed: {e}"),
    }
}

impl Lrs {
    /// Every scope a credential may hold: the core's and those the hooks add.
    pub fn known_scopes(&self) -> Vec<&'static str> {
        let extra = self.hooks.as_ref().map(|h| h.scopes()).unwrap_or_default();
        SCOPES.iter().chain(extra).copied().collect()
    }

    /// Checks scope names against [`Lrs::known_scopes`].
    pub fn check_scopes(&self, scopes: &[String]) -> Result<(), LrsError> {
        let known = self.known_scopes();
        for s in scopes {
            if !known.contains(&s.as_str()) {
                return Err(LrsError::BadRequest(format!("unknown scope {s:?}; known scopes: {}", known.join(", "))));
            }
        }
        Ok(())
    }

    /// The authority object statements stored by this credential carry.
    pub fn authority_for(&self, row: &CredentialRow) -> Value {
        json!({"objectType": "Agent", "name": row.name, "account": {"homePage": self.config.public_url, "name": row.key}})
    }

    /// Every stored credential (never their secrets).
    pub async fn credentials(&self) -> Result<Vec<CredentialRow>, LrsError> {
        Ok(self.store.credentials().await?)
    }

    /// How many credentials are stored (none on a new store: `serve` then creates the first).
    pub async fn credential_count(&self) -> Result<i64, LrsError> {
        Ok(self.store.credential_count().await?)
    }

    /// Whether a credential with this key is stored (revoked or not).
    pub async fn credential_exists(&self, key: &str) -> Result<bool, LrsError> {
        Ok(self.store.credential(key).await?.is_some())
    }

    /// Revokes a credential; false when no active one has this key. Takes effect within [`CACHE_TTL`].
    pub async fn revoke_credential(&self, key: &str) -> Result<bool, LrsError> {
        Ok(self.store.revoke_credential(key, crate::now_us()).await?)
    }

    /// Creates a credential; `key`/`secret` are random unless given (bootstrap from the environment).
    pub async fn create_credential(
        &self,
        name: &str,
        scopes: Vec<String>,
        key: Option<String>,
        secret: Option<String>,
    ) -> Result<NewCredential, LrsError> {
        let scopes = if scopes.is_empty() { vec!["all".to_string()] } else { scopes };
        self.check_scopes(&scopes)?;
        let key = key.unwrap_or_else(|| random_token(20));
        let secret = secret.unwrap_or_else(|| random_token(40));
        let row = CredentialRow {
            key: key.clone(),
            name: name.to_string(),
            secret_hash: hash_secret(&secret),
            scopes,
            created_us: crate::now_us(),
            revoked_us: None,
        };
        self.store.insert_credential(&row).await?;
        Ok(NewCredential { key, secret, row })
    }

    /// Verifies HTTP Basic key and secret (no client address: only the per-key failure limit applies).
    pub async fn authenticate(&self, key: &str, secret: &str) -> Result<Principal, AuthError> {
        self.authenticate_from(None, key, secret).await
    }

    /// Verifies HTTP Basic key and secret from a client address. A cached check answers at once; a
    /// key and secret verified before skip the failure limits; others are refused 429 while their
    /// address or key is over its failure budget, and go to the narrow argon2 lane when suspect.
    pub async fn authenticate_from(
        &self,
        addr: Option<IpAddr>,
        key: &str,
        secret: &str,
    ) -> Result<Principal, AuthError> {
        let mut h = Sha256::new();
        h.update(key.as_bytes());
        h.update([0u8]);
        h.update(secret.as_bytes());
        let digest: [u8; 32] = h.finalize().into();
        if let Some(p) = self.auth.get(&digest) {
            return Ok(p);
        }
        let known = self.auth.known_good(&digest);
        if !known {
            self.auth.failures.check(addr, key).map_err(|retry_after| AuthError::TooManyFailures { retry_after })?;
        }
        let lane =
            if !known && self.auth.failures.suspect(addr, key) { &self.auth.suspect } else { &self.auth.verifying };
        // Held until this check is cached: see `AuthCache::verifying`. The semaphores are never closed.
        let _permit = lane.acquire().await.ok();
        if let Some(p) = self.auth.get(&digest) {
            return Ok(p);
        }
        if !known {
            // Guesses that arrived together all passed the first check; those that waited for a
            // permit behind failures are refused now, still before any argon2 work.
            self.auth.failures.check(addr, key).map_err(|retry_after| AuthError::TooManyFailures { retry_after })?;
        }
        let result = self.verify(key, secret).await;
        match &result {
            Ok(p) => self.remember(digest, p),
            Err(AuthError::Unknown | AuthError::WrongSecret) => self.auth.failures.failed(addr, key),
            Err(_) => {}
        }
        result
    }

    /// Checks a password against its argon2 `hash` (a missing hash still costs one verification, so
    /// answers take as long whether or not the account exists), under the same failure limits as
    /// credentials, counted for `party` and the client address. For sign-in forms (the console).
    pub async fn verify_password(
        &self,
        addr: Option<IpAddr>,
        party: &str,
        hash: Option<&str>,
        password: &str,
    ) -> Result<bool, AuthError> {
        self.auth.failures.check(addr, party).map_err(|retry_after| AuthError::TooManyFailures { retry_after })?;
        let _permit = self.auth.suspect.acquire().await.ok();
        let ok = match hash {
            Some(h) => verify_argon2(h.to_string(), password).await,
            None => {
                verify_argon2(dummy_hash(), password).await;
                false
            }
        };
        if !ok {
            self.auth.failures.failed(addr, party);
        }
        Ok(ok)
    }

    /// The uncached check: a stored credential (argon2), else one the hooks issued (a launch's). Every
    /// refusal costs one argon2 verification, whichever way the key was wrong.
    async fn verify(&self, key: &str, secret: &str) -> Result<Principal, AuthError> {
        let Some(row) = self.store.credential(key).await?.filter(|r| r.revoked_us.is_none()) else {
            let issued = match &self.hooks {
                Some(h) => h.credential(self, key, secret).await,
                None => Err(AuthError::Unknown),
            };
            if matches!(issued, Err(AuthError::Unknown | AuthError::WrongSecret)) {
                verify_argon2(dummy_hash(), secret).await;
            }
            return issued;
        };
        if !verify_argon2(row.secret_hash.clone(), secret).await {
            return Err(AuthError::WrongSecret);
        }
        Ok(Principal {
            key: row.key.clone(),
            name: row.name.clone(),
            scopes: row.scopes.clone(),
            authority: self.authority_for(&row),
            restricted: None,
        })
    }

    fn remember(&self, digest: [u8; 32], principal: &Principal) {
        if let Ok(mut cache) = self.auth.entries.lock() {
            if cache.len() > 10_000 {
                cache.retain(|_, (_, at)| at.elapsed() < KNOWN_GOOD_TTL);
            }
            if cache.len() > 100_000 {
                cache.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            }
            cache.insert(digest, (principal.clone(), Instant::now()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn restriction() -> Restriction {
        Restriction {
            id: "l".into(),
            actor: json!({"mbox": "mailto:ann@example.com"}),
            agent_key: "Agent|mbox:mailto:ann@example.com".into(),
            registration: "6fa1fd6e-2e6a-4f1c-9f52-9d1d1d1d1d1d".into(),
            roots: vec!["https://example.com/au".into()],
            expires_us: i64::MAX,
            issuer: Box::new(()),
        }
    }

    fn stmt(actor: &str, object: &str, reg: &str) -> Value {
        json!({"actor": {"mbox": actor}, "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
               "object": {"id": object}, "context": {"registration": reg}})
    }

    #[test]
    fn a_restriction_limits_actor_registration_and_tree() {
        let g = restriction();
        let ok = stmt("mailto:ann@example.com", "https://example.com/au/q1", &g.registration);
        assert!(g.check_statement(&View::of(&ok)).is_ok());
        assert!(g
            .check_statement(&View::of(&stmt("mailto:bob@example.com", "https://example.com/au", &g.registration)))
            .is_err());
        assert!(g
            .check_statement(&View::of(&stmt("mailto:ann@example.com", "https://example.com/aux", &g.registration)))
            .is_err());
        assert!(g.check_statement(&View::of(&stmt("mailto:ann@example.com", "https://example.com/au", "x"))).is_err());
        let mut parent = stmt("mailto:ann@example.com", "https://other.example/q", &g.registration);
        parent["context"]["contextActivities"] = json!({"parent": [{"id": "https://example.com/au"}]});
        assert!(g.check_statement(&View::of(&parent)).is_ok());
        let mut void = ok.clone();
        void["verb"]["id"] = json!(crate::xapi::VOIDED_VERB);
        assert!(g.check_statement(&View::of(&void)).is_err());
    }
}

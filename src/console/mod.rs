//! The console's use cases: its users and roles, signing in and out, and the audit log of admin
//! actions. The pages (`http::console`) call these and the LMS's use cases; nothing here renders.
//!
//! A console session is a random token in an `HttpOnly`, `SameSite=Strict` cookie; the store keeps only
//! its SHA-256, with a CSRF token every form must return. Sessions end after [`ConsoleConfig::idle`]
//! without a request and [`ConsoleConfig::absolute`] after sign-in, whichever comes first, and at once
//! when their user is disabled. On a fresh install the holder of an admin credential (the bootstrap
//! key and secret `cairn serve` prints) signs in with that key and secret and creates the first users.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::lms::Lms;
use crate::lrs::auth::{hash_secret, random_token, AuthError};
use crate::lrs::error::{LrsError, Result};
use crate::sso::{Identity, Sso};
use crate::store::{AuditRow, ConsoleSessionRow, ConsoleUserRow, CredentialRow};

/// What a console user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Read-only: statements, results, reports, exports.
    Analyst,
    /// Live sessions, attendance and the results of their courses, as well as what analysts see.
    Instructor,
    /// Everything.
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "instructor" => Some(Role::Instructor),
            "analyst" => Some(Role::Analyst),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Instructor => "instructor",
            Role::Analyst => "analyst",
        }
    }
}

/// Who the audit log names for what single sign-on did on its own (a user added or linked).
const SSO_ACTOR: &str = "sso";

/// Shortest password accepted for a console user.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Prefix of a session's user id when an admin credential signed in (no console user behind it).
const CREDENTIAL_USER: &str = "credential:";

#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// Mark the cookie `Secure` (the API origin is served over HTTPS).
    pub secure_cookies: bool,
    pub idle: Duration,
    pub absolute: Duration,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            secure_cookies: false,
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
        }
    }
}

/// Who is signed in, for one request.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user_id: String,
    /// Shown and written to the audit log: the user's email, or `credential:KEY`.
    pub login: String,
    pub name: String,
    pub role: Role,
    /// The session's CSRF token, which every form carries back.
    pub csrf: String,
    token_sha256: String,
}

impl Viewer {
    /// At least `role`, else 403: the server-side check behind every page and action.
    pub fn require(&self, role: Role) -> Result<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(LrsError::Forbidden(format!(
                "this needs the {} role; you are signed in as {}",
                role.as_str(),
                self.role.as_str()
            )))
        }
    }

    /// Whether `given` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, given: &str) -> bool {
        let (a, b) = (self.csrf.as_bytes(), given.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// Why a sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// One message for every wrong login or password, so answers do not tell which accounts exist.
    #[error("the email and password do not match an active account")]
    Wrong,
    #[error("too many failed sign-ins; try again in {} s", .0.as_secs().max(1))]
    TooMany(Duration),
    /// Single sign-on proved who someone is, but that gives them no console account (403).
    #[error("{0}")]
    NoAccount(String),
    #[error(transparent)]
    Other(#[from] LrsError),
}

/// A user to add.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: Option<String>,
}

#[derive(Clone)]
pub struct Console {
    lms: Lms,
    pub config: Arc<ConsoleConfig>,
    /// Single sign-on, when an OpenID provider is configured.
    pub sso: Option<Sso>,
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

impl Console {
    pub fn new(lms: Lms, config: ConsoleConfig) -> Console {
        Console { lms, config: Arc::new(config), sso: None }
    }

    /// The console with single sign-on through `sso`.
    pub fn with_sso(mut self, sso: Option<Sso>) -> Console {
        self.sso = sso;
        self
    }

    pub fn lms(&self) -> &Lms {
        &self.lms
    }

    /// Signs in with an email and password, or an admin credential's key and secret; returns the new
    /// session's token (for the cookie).
    pub async fn sign_in(
        &self,
        addr: Option<IpAddr>,
        login: &str,
        password: &str,
    ) -> std::result::Result<String, SignInError> {
        let login = login.trim();
        let user_id = if login.contains('@') {
            let email = login.to_lowercase();
            let user = self.lms.store.console_user_by_email(&email).await.map_err(LrsError::from)?;
            let hash = user.as_ref().filter(|u| u.disabled_us.is_none()).and_then(|u| u.password_hash.as_deref());
            match self.lms.verify_password(addr, &format!("console:{email}"), hash, password).await {
                Ok(true) => user.map(|u| u.id).ok_or(SignInError::Wrong)?,
                Ok(false) => return Err(SignInError::Wrong),
                Err(e) => return Err(auth_error(e)),
            }
        } else {
            let who = self.lms.authenticate_from(addr, login, password).await.map_err(auth_error)?;
            if who.restricted.is_some() || !who.scopes.iter().any(|s| s == "admin") {
                return Err(SignInError::Wrong);
            }
            format!("{CREDENTIAL_USER}{}", who.key)
        };
        self.start_session(&user_id).await.map_err(SignInError::Other)
    }

    /// Signs in the console user an OpenID provider vouched for; returns the new session's token.
    ///
    /// The user is found by the provider account linked to it, else by the verified email (the
    /// account is then linked, so later sign-ins go by the account). With a role claim configured,
    /// the provider's role wins over the one assigned in Cairn, and someone with a role but no
    /// console user yet gets one; without a role claim, an admin must add the user first.
    pub async fn sign_in_sso(&self, id: &Identity) -> std::result::Result<String, SignInError> {
        let store = &self.lms.store;
        let role = id.roles.iter().filter_map(|r| Role::parse(r)).max();
        let who = id.email.clone().unwrap_or_else(|| id.subject.clone());
        let linked = store.console_user_by_sso_subject(&id.subject).await.map_err(LrsError::from)?;
        let user = match linked {
            Some(u) => Some(u),
            None => match &id.email {
                Some(email) => store.console_user_by_email(email).await.map_err(LrsError::from)?,
                None => None,
            },
        };
        let user = match user {
            Some(u) if u.sso_subject.as_deref().is_some_and(|s| s != id.subject) => {
                return Err(SignInError::NoAccount(format!(
                    "the console account for {who} signs in with another account at the provider"
                )));
            }
            Some(u) => u,
            None => {
                let (Some(role), Some(email)) = (role, id.email.clone()) else {
                    return Err(SignInError::NoAccount(format!(
                        "{who} has no console account; ask an admin to add you (with single sign-on)"
                    )));
                };
                let name = id.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| email.clone());
                let new = NewUser { email, name: name.chars().take(200).collect(), role, password: None };
                self.add_user(SSO_ACTOR, new).await.map_err(SignInError::Other)?
            }
        };
        if user.disabled_us.is_some() {
            return Err(SignInError::NoAccount(format!("the console account for {who} is disabled")));
        }
        let new_role = role.map(Role::as_str).filter(|r| *r != user.role);
        if user.sso_subject.is_none() || new_role.is_some() {
            if !store.link_console_user_sso(&user.id, &id.subject, new_role).await.map_err(LrsError::from)? {
                return Err(SignInError::NoAccount(format!(
                    "another console account already signs in with this provider account ({who})"
                )));
            }
            let detail = json!({"subject": id.subject, "role": new_role});
            self.audit(SSO_ACTOR, "user.sso_link", &user.email, detail).await.map_err(SignInError::Other)?;
        }
        self.start_session(&user.id).await.map_err(SignInError::Other)
    }

    /// A new session for `user_id`; answers its token (for the cookie).
    async fn start_session(&self, user_id: &str) -> Result<String> {
        let token = random_token(43);
        let now = crate::now_us();
        let row = ConsoleSessionRow {
            token_sha256: sha256_hex(&token),
            user_id: user_id.to_string(),
            csrf: random_token(32),
            created_us: now,
            seen_us: now,
            ended_us: None,
        };
        self.lms.store.insert_console_session(&row).await?;
        Ok(token)
    }

    /// The viewer behind a session token, or None when it is unknown, ended, expired or its user is
    /// disabled (or its credential revoked).
    pub async fn viewer(&self, token: &str) -> Result<Option<Viewer>> {
        let digest = sha256_hex(token);
        let Some(s) = self.lms.store.console_session(&digest).await? else { return Ok(None) };
        let now = crate::now_us();
        let idle = self.config.idle.as_micros() as i64;
        let absolute = self.config.absolute.as_micros() as i64;
        if s.ended_us.is_some() || now - s.seen_us > idle || now - s.created_us > absolute {
            return Ok(None);
        }
        let viewer = if let Some(key) = s.user_id.strip_prefix(CREDENTIAL_USER) {
            let Some(c) = self.lms.store.credential(key).await?.filter(|c| c.revoked_us.is_none()) else {
                return Ok(None);
            };
            if !c.scopes.iter().any(|s| s == "admin") {
                return Ok(None);
            }
            Viewer {
                user_id: s.user_id.clone(),
                login: s.user_id.clone(),
                name: c.name,
                role: Role::Admin,
                csrf: s.csrf,
                token_sha256: digest,
            }
        } else {
            let Some(u) = self.lms.store.console_user(&s.user_id).await?.filter(|u| u.disabled_us.is_none()) else {
                return Ok(None);
            };
            let Some(role) = Role::parse(&u.role) else { return Ok(None) };
            Viewer { user_id: u.id, login: u.email, name: u.name, role, csrf: s.csrf, token_sha256: digest }
        };
        // Idle expiry needs only minute resolution: one write a minute per session, not one a request.
        if now - s.seen_us > 60_000_000 {
            self.lms.store.touch_console_session(&viewer.token_sha256, now).await?;
        }
        Ok(Some(viewer))
    }

    pub async fn sign_out(&self, v: &Viewer) -> Result<()> {
        Ok(self.lms.store.end_console_session(&v.token_sha256, crate::now_us()).await?)
    }

    /// Records an admin action.
    pub async fn audit(&self, by: &str, action: &str, target: &str, detail: Value) -> Result<()> {
        Ok(self.lms.store.insert_audit(by, action, target, &detail.to_string(), crate::now_us()).await?)
    }

    pub async fn audit_log(&self, before_seq: Option<i64>, limit: i64) -> Result<Vec<AuditRow>> {
        Ok(self.lms.store.audit_log(before_seq, limit.clamp(1, 500)).await?)
    }

    pub async fn users(&self) -> Result<Vec<ConsoleUserRow>> {
        Ok(self.lms.store.console_users().await?)
    }

    /// Adds a user (audited as `by`); 400 names what is wrong, 409 when the email is taken.
    pub async fn add_user(&self, by: &str, u: NewUser) -> Result<ConsoleUserRow> {
        let email = u.email.trim().to_lowercase();
        let valid_email = email.split_once('@').is_some_and(|(a, d)| !a.is_empty() && d.contains('.'))
            && email.len() <= 254
            && !email.chars().any(char::is_whitespace);
        if !valid_email {
            return Err(LrsError::BadRequest(format!("{:?} is not an email address", u.email)));
        }
        let name = u.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(LrsError::BadRequest("a name of 1 to 200 characters is required".into()));
        }
        if let Some(p) = &u.password {
            if p.chars().count() < MIN_PASSWORD_CHARS || p.len() > 1024 {
                return Err(LrsError::BadRequest(format!(
                    "the password must have at least {MIN_PASSWORD_CHARS} characters (and at most 1,024 bytes)"
                )));
            }
        }
        let password_hash = match u.password.clone() {
            Some(p) => Some(
                tokio::task::spawn_blocking(move || hash_secret(&p))
                    .await
                    .map_err(|e| LrsError::BadRequest(format!("hashing the password failed: {e}")))?,
            ),
            None => None,
        };
        let row = ConsoleUserRow {
            id: uuid::Uuid::now_v7().to_string(),
            email: email.clone(),
            name: name.to_string(),
            role: u.role.as_str().to_string(),
            password_hash,
            created_us: crate::now_us(),
            disabled_us: None,
            sso_subject: None,
        };
        if !self.lms.store.insert_console_user(&row).await? {
            return Err(LrsError::Conflict(format!("a user with email {email} exists")));
        }
        self.audit(by, "user.add", &email, json!({"role": row.role, "name": row.name})).await?;
        Ok(row)
    }

    /// Disables a user and ends their sessions.
    pub async fn disable_user(&self, by: &str, id: &str) -> Result<ConsoleUserRow> {
        let user = self.lms.store.console_user(id).await?.ok_or_else(|| LrsError::NotFound(format!("no user {id}")))?;
        if !self.lms.store.disable_console_user(id, crate::now_us()).await? {
            return Err(LrsError::Conflict(format!("user {} is already disabled", user.email)));
        }
        self.audit(by, "user.disable", &user.email, json!({})).await?;
        Ok(user)
    }

    /// Creates an xAPI credential (audited); the secret is in the answer only.
    pub async fn create_credential(
        &self,
        by: &str,
        name: &str,
        scopes: Vec<String>,
    ) -> Result<crate::lrs::auth::NewCredential> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(LrsError::BadRequest("a name of 1 to 200 characters is required".into()));
        }
        if scopes.is_empty() {
            return Err(LrsError::BadRequest("choose at least one scope".into()));
        }
        let c = self.lms.create_credential(name, scopes, None, None).await?;
        self.audit(by, "credential.add", &c.key, json!({"name": name, "scopes": c.row.scopes})).await?;
        Ok(c)
    }

    pub async fn credentials(&self) -> Result<Vec<CredentialRow>> {
        self.lms.credentials().await
    }

    pub async fn revoke_credential(&self, by: &str, key: &str) -> Result<()> {
        if !self.lms.revoke_credential(key).await? {
            return Err(LrsError::NotFound(format!("no active credential {key}")));
        }
        self.audit(by, "credential.revoke", key, json!({})).await
    }
}

/// Reads the pages need that no other use case offers (thin, but they keep handlers off the store).
impl Console {
    /// Statements stored on each of `days` days from `from_us`.
    pub async fn statements_per_day(&self, from_us: i64, days: i64) -> Result<Vec<i64>> {
        Ok(self.lms.store.statements_per_day(from_us, days).await?)
    }

    /// Persons active in each of `weeks` weeks from the Monday `from_us`.
    pub async fn active_learners_per_week(&self, from_us: i64, weeks: i64) -> Result<Vec<i64>> {
        Ok(self.lms.store.active_persons_per_week(from_us, weeks).await?)
    }

    /// Agents whose identifier or name contains `term`: `(key, Person JSON)`.
    pub async fn search_learners(&self, term: &str, limit: i64) -> Result<Vec<(String, String)>> {
        Ok(self.lms.store.search_agents(term, limit).await?)
    }

    /// The Person object the agents resource keeps for one agent key.
    pub async fn learner(&self, key: &str) -> Result<Value> {
        self.lms.store.agent(key).await?.ok_or_else(|| LrsError::NotFound("no such learner".into()))
    }

    /// Every identifier of the learner's person (the learner's own when it has no person yet).
    pub async fn identifiers_of_learner(&self, key: &str) -> Result<Vec<String>> {
        Ok(self.lms.person_of_key(key).await?.map(|p| p.identifiers).unwrap_or_else(|| vec![key.to_string()]))
    }

    /// One learner's bookings, `(session id, booking)`, newest first.
    pub async fn bookings_of_learner(&self, key: &str) -> Result<Vec<(String, crate::store::BookingRow)>> {
        Ok(self.lms.store.bookings_of_learner(key).await?)
    }

    /// How many versions a course has.
    pub async fn course_version_count(&self, course_id: &str) -> Result<usize> {
        Ok(self.lms.store.course_versions(course_id).await?.len())
    }
}

fn auth_error(e: AuthError) -> SignInError {
    match e {
        AuthError::TooManyFailures { retry_after } => SignInError::TooMany(retry_after),
        AuthError::Store(e) => SignInError::Other(LrsError::Store(e)),
        _ => SignInError::Wrong,
    }
}

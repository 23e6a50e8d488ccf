//! Single sign-on with OpenID Connect, as a relying party: the authorization code flow with PKCE,
//! for the console's users and for learners. This module proves who someone is at the provider
//! (verified ID token, then the userinfo endpoint for claims the token left out); deciding what that
//! identity may do here is the caller's (the console maps it to a console user, the learner side to a
//! person).
//!
//! The protocol work (discovery, the token request, the ID token's signature, issuer, audience,
//! expiry and nonce, the access token hash) is the `openidconnect` crate's: JOSE validation is where
//! hand-written code goes wrong. What is ours is the binding around it: a sign-in under way is kept in
//! the store (any node may take the callback), used once, expires after [`LOGIN_TTL`], and is tied to
//! the browser that began it by a cookie of its own, so a callback URL planted in another browser
//! (login CSRF) signs nobody in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse, TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::store::{SsoLoginRow, Store, StoreError};

/// How long a sign-in may stay at the provider before its callback is refused.
pub const LOGIN_TTL: Duration = Duration::from_secs(10 * 60);
/// How long the provider's discovery document and keys are reused before being fetched again (key
/// rotation at the provider is picked up within this time).
const METADATA_TTL: Duration = Duration::from_secs(5 * 60);
/// Every call to the provider gives up after this long, so a slow provider cannot hold requests.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// The provider and this client's registration with it (`cairn serve --oidc-…`).
#[derive(Clone)]
pub struct SsoConfig {
    /// The issuer URL; its `/.well-known/openid-configuration` is read.
    pub issuer: String,
    pub client_id: String,
    /// None for a public client (PKCE alone).
    pub client_secret: Option<String>,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// A claim naming the console role (`admin`, `instructor`, `analyst`; a string or a list; a
    /// dotted path reaches into objects, as `realm_access.roles`). None: roles are assigned in Cairn.
    pub role_claim: Option<String>,
    /// The provider's name on the sign-in buttons ("Sign in with …").
    pub label: String,
}

impl std::fmt::Debug for SsoConfig {
    // By hand, so that the client secret never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "***"))
            .field("scopes", &self.scopes)
            .field("role_claim", &self.role_claim)
            .finish()
    }
}

/// Who a sign-in is for: it picks the callback URL and who may use the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Console,
    Learn,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Console => "console",
            Purpose::Learn => "learn",
        }
    }

    /// The path the provider sends the browser back to (register `PUBLIC_URL` + this with it).
    pub fn callback_path(self) -> &'static str {
        match self {
            Purpose::Console => "/console/sso/callback",
            Purpose::Learn => "/learn/sso/callback",
        }
    }
}

/// A sign-in begun: send the browser to `authorize_url`, with `browser_token` in a cookie.
#[derive(Debug)]
pub struct Begun {
    pub authorize_url: String,
    pub browser_token: String,
}

/// What the provider's answer says, as the callback's query carries it.
#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub error_description: String,
}

/// An identity the provider vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `issuer sub`: the provider's stable name for the account.
    pub subject: String,
    /// Lower-cased; only when the provider did not say it is unverified.
    pub email: Option<String>,
    pub name: Option<String>,
    /// The values of the configured role claim (empty when none is configured or the claim is absent).
    pub roles: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// The callback does not belong to a sign-in this browser began, or the provider refused: 400.
    #[error("{0}")]
    Refused(String),
    /// The provider could not be reached or answered wrongly: 502.
    #[error("the sign-in provider failed: {0}")]
    Provider(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Claims beyond the standard ones, kept whole so that the configured role claim can be read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    pub claims: Map<String, Value>,
}
impl AdditionalClaims for OtherClaims {}

type IdFields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<IdFields, CoreTokenType>;
type OidcClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The relying party: cheap to clone, one per server.
#[derive(Clone)]
pub struct Sso {
    config: Arc<SsoConfig>,
    public_url: String,
    store: Store,
    http: openidconnect::reqwest::Client,
    metadata: Arc<Mutex<Option<(Instant, CoreProviderMetadata)>>>,
}

impl std::fmt::Debug for Sso {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sso").field("issuer", &self.config.issuer).field("client_id", &self.config.client_id).finish()
    }
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

impl Sso {
    /// `public_url` is the API origin as browsers reach it: callbacks are under it.
    pub fn new(config: SsoConfig, public_url: &str, store: Store) -> anyhow::Result<Sso> {
        IssuerUrl::new(config.issuer.clone()).map_err(|e| anyhow::anyhow!("--oidc-issuer {:?}: {e}", config.issuer))?;
        let http = openidconnect::reqwest::Client::builder()
            // Following redirects would let a provider's answer point the server at other hosts (SSRF).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()?;
        Ok(Sso {
            config: Arc::new(config),
            public_url: public_url.trim_end_matches('/').to_string(),
            store,
            http,
            metadata: Arc::new(Mutex::new(None)),
        })
    }

    pub fn config(&self) -> &SsoConfig {
        &self.config
    }

    /// The redirect URI registered with the provider for `purpose`.
    pub fn redirect_uri(&self, purpose: Purpose) -> String {
        format!("{}{}", self.public_url, purpose.callback_path())
    }

    /// The provider's discovery document and keys, fetched again after [`METADATA_TTL`].
    async fn metadata(&self) -> Result<CoreProviderMetadata, SsoError> {
        let mut cached = self.metadata.lock().await;
        if let Some((at, m)) = cached.as_ref() {
            if at.elapsed() < METADATA_TTL {
                return Ok(m.clone());
            }
        }
        let issuer = IssuerUrl::new(self.config.issuer.clone()).map_err(|e| SsoError::Provider(e.to_string()))?;
        let m = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| SsoError::Provider(format!("discovery at {}: {}", self.config.issuer, error_chain(&e))))?;
        *cached = Some((Instant::now(), m.clone()));
        Ok(m)
    }

    async fn client(&self, purpose: Purpose) -> Result<OidcClient, SsoError> {
        let m = self.metadata().await?;
        let redirect = RedirectUrl::new(self.redirect_uri(purpose)).map_err(|e| SsoError::Provider(e.to_string()))?;
        Ok(OidcClient::from_provider_metadata(
            m,
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }

    /// Begins a sign-in: where to send the browser, and the cookie value that ties it to this browser.
    pub async fn begin(&self, purpose: Purpose) -> Result<Begun, SsoError> {
        let client = self.client(purpose).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request =
            client.authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random);
        for s in &self.config.scopes {
            request = request.add_scope(Scope::new(s.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let browser_token = crate::lrs::auth::random_token(43);
        let now = crate::now_us();
        let row = SsoLoginRow {
            state: state.secret().clone(),
            browser_sha256: sha256_hex(&browser_token),
            purpose: purpose.as_str().to_string(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            created_us: now,
        };
        self.store.insert_sso_login(&row, now - LOGIN_TTL.as_micros() as i64).await?;
        Ok(Begun { authorize_url: url.to_string(), browser_token })
    }

    /// Finishes a sign-in from the provider's callback: the identity it vouched for. `browser_token`
    /// is the cookie [`Sso::begin`] gave this browser.
    pub async fn finish(
        &self,
        purpose: Purpose,
        browser_token: Option<&str>,
        cb: &Callback,
    ) -> Result<Identity, SsoError> {
        const AGAIN: &str = "start the sign-in again";
        if cb.state.is_empty() || cb.state.len() > 200 {
            return Err(SsoError::Refused(format!("the provider's answer has no usable state; {AGAIN}")));
        }
        let Some(login) = self.store.take_sso_login(&cb.state).await? else {
            return Err(SsoError::Refused(format!("this sign-in is unknown or was already used; {AGAIN}")));
        };
        if login.purpose != purpose.as_str() {
            return Err(SsoError::Refused(format!("this sign-in was begun for another page; {AGAIN}")));
        }
        if crate::now_us() - login.created_us > LOGIN_TTL.as_micros() as i64 {
            return Err(SsoError::Refused(format!("this sign-in took too long at the provider; {AGAIN}")));
        }
        if browser_token.map(sha256_hex).as_deref() != Some(login.browser_sha256.as_str()) {
            return Err(SsoError::Refused(format!("this sign-in was begun in another browser; {AGAIN}")));
        }
        if !cb.error.is_empty() {
            let detail =
                if cb.error_description.is_empty() { String::new() } else { format!(" ({})", cb.error_description) };
            return Err(SsoError::Refused(format!("the provider answered {}{}", cb.error, detail)));
        }
        if cb.code.is_empty() {
            return Err(SsoError::Refused(format!("the provider's answer has no code; {AGAIN}")));
        }
        let client = self.client(purpose).await?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(cb.code.clone()))
            .map_err(|e| SsoError::Provider(format!("the provider has no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| SsoError::Provider(format!("the token request failed: {}", error_chain(&e))))?;
        let id_token = tokens.id_token().ok_or_else(|| SsoError::Provider("the provider sent no ID token".into()))?;
        let verifier = client.id_token_verifier();
        let nonce = Nonce::new(login.nonce);
        let claims = id_token
            .claims(&verifier, &nonce)
            .map_err(|e| SsoError::Provider(format!("the ID token is not valid: {}", error_chain(&e))))?;
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token.signing_alg().map_err(|e| SsoError::Provider(e.to_string()))?;
            let key = id_token.signing_key(&verifier).map_err(|e| SsoError::Provider(e.to_string()))?;
            let actual = AccessTokenHash::from_token(tokens.access_token(), alg, key)
                .map_err(|e| SsoError::Provider(e.to_string()))?;
            if actual != *expected {
                return Err(SsoError::Provider("the access token does not match the ID token (at_hash)".into()));
            }
        }
        let sub = claims.subject().clone();
        let mut email = verified_email(claims.email().map(|e| e.as_str()), claims.email_verified());
        let mut name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_string());
        let mut roles = self.roles_in(&claims.additional_claims().claims);
        // Many providers put only `sub` in the ID token and the rest behind the userinfo endpoint.
        let want_more = email.is_none() || name.is_none() || (self.config.role_claim.is_some() && roles.is_empty());
        if want_more {
            if let Ok(request) = client.user_info(tokens.access_token().clone(), Some(sub.clone())) {
                let info: UserInfoClaims<OtherClaims, CoreGenderClaim> = request
                    .request_async(&self.http)
                    .await
                    .map_err(|e| SsoError::Provider(format!("the userinfo request failed: {}", error_chain(&e))))?;
                if email.is_none() {
                    email = verified_email(info.email().map(|e| e.as_str()), info.email_verified());
                }
                if name.is_none() {
                    name = info.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_string());
                }
                if roles.is_empty() {
                    roles = self.roles_in(&info.additional_claims().claims);
                }
            }
        }
        Ok(Identity { subject: format!("{} {}", self.config.issuer, sub.as_str()), email, name, roles })
    }

    fn roles_in(&self, claims: &Map<String, Value>) -> Vec<String> {
        roles_in(self.config.role_claim.as_deref(), claims)
    }
}

/// The values of the role claim at `path` (dotted) in `claims`.
fn roles_in(path: Option<&str>, claims: &Map<String, Value>) -> Vec<String> {
    let Some(path) = path else { return Vec::new() };
    let mut parts = path.split('.');
    let mut at = parts.next().and_then(|first| claims.get(first));
    for p in parts {
        at = at.and_then(|v| v.get(p));
    }
    match at {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// An email the provider did not mark unverified, lower-cased.
fn verified_email(email: Option<&str>, verified: Option<bool>) -> Option<String> {
    email.filter(|_| verified != Some(false)).map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty())
}

/// An error and its sources on one line (the crate's top-level messages alone say little).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_claim_is_read_as_a_string_a_list_or_a_dotted_path() {
        let claims = serde_json::json!({
            "cairn_role": "analyst",
            "groups": ["staff", "instructor"],
            "realm_access": {"roles": ["admin", "x"]},
            "odd": 3
        });
        let claims = claims.as_object().unwrap();
        assert_eq!(roles_in(Some("cairn_role"), claims), vec!["analyst"]);
        assert_eq!(roles_in(Some("groups"), claims), vec!["staff", "instructor"]);
        assert_eq!(roles_in(Some("realm_access.roles"), claims), vec!["admin", "x"]);
        assert!(roles_in(Some("odd"), claims).is_empty());
        assert!(roles_in(Some("missing.path"), claims).is_empty());
        assert!(roles_in(None, claims).is_empty());
    }

    #[test]
    fn an_unverified_email_is_not_used() {
        assert_eq!(verified_email(Some("Ann@Example.org"), None), Some("ann@example.org".into()));
        assert_eq!(verified_email(Some("ann@example.org"), Some(true)), Some("ann@example.org".into()));
        assert_eq!(verified_email(Some("ann@example.org"), Some(false)), None);
        assert_eq!(verified_email(None, Some(true)), None);
    }
}

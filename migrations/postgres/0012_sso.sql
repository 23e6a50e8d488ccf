-- Single sign-on with OpenID Connect (issues 14 and 18).

-- A sign-in under way, from the redirect to the provider until its callback: single use, and
-- short-lived. Kept in the store (not in the node's memory) so that any node can take the callback.
CREATE TABLE sso_logins (
    state          TEXT PRIMARY KEY,      -- the `state` sent to the provider (random)
    browser_sha256 TEXT NOT NULL,         -- SHA-256 of the cookie binding the sign-in to its browser
    purpose        TEXT NOT NULL,         -- console or learn
    nonce          TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    created_us     BIGINT NOT NULL
);
CREATE INDEX sso_logins_created ON sso_logins (created_us);

-- The provider's account a console user signed in with (`issuer sub`), linked at the first sign-in
-- by email; later sign-ins go by it, so a changed email at the provider keeps the same user.
ALTER TABLE console_users ADD COLUMN sso_subject TEXT;
CREATE UNIQUE INDEX console_users_sso_subject ON console_users (sso_subject);

-- Forgotten passwords (SPEC §8): one request per account, replaced by a newer one. The
-- browser that asked holds the id (in a signed token); the code is stored as an HMAC bound
-- to the id, the email link as its SHA-256. verified_at: the code or the link was right, so
-- a new password may be set until expires_at (moved to count from then); used_at: it was.
-- Attempts at the code are counted in rate_limits under the id, so that a request for an
-- unknown account, which has no row, answers wrong codes exactly as a real one does.
CREATE TABLE password_resets (
    id              uuid PRIMARY KEY,
    account_id      uuid NOT NULL UNIQUE REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash       bytea NOT NULL,
    link_hash       bytea,
    auth_request_id uuid REFERENCES auth_requests (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    verified_at     timestamptz,
    used_at         timestamptz,
    CHECK (used_at IS NULL OR verified_at IS NOT NULL)
);
CREATE UNIQUE INDEX password_resets_link ON password_resets (link_hash) WHERE link_hash IS NOT NULL;

-- A request names the account by its login, or by a verified email address or phone number.
CREATE INDEX accounts_verified_email ON accounts (lower(email)) WHERE email_verified;
CREATE INDEX accounts_verified_phone ON accounts (phone) WHERE phone_verified;

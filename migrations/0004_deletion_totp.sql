-- Account deletion with a grace period, and TOTP two-factor authentication.

-- 'deleted' is the tombstone a purged account leaves: the id stays so it is never issued
-- again; every personal field is erased and the login is free.
ALTER TABLE accounts DROP CONSTRAINT accounts_status_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_status_check
    CHECK (status IN ('active', 'blocked', 'pending_deletion', 'deleted'));
ALTER TABLE accounts
    ADD COLUMN purge_at  timestamptz,
    ADD COLUMN purged_at timestamptz,
    ADD CONSTRAINT accounts_purge_check CHECK ((status = 'pending_deletion') = (purge_at IS NOT NULL));
CREATE INDEX accounts_purge ON accounts (purge_at) WHERE status = 'pending_deletion';

-- The TOTP secret is encrypted under a key derived from secret_key. enabled_at is NULL
-- while enrolment waits for its first code. last_counter is the time step of the last code
-- accepted: a code is accepted once only.
CREATE TABLE totp (
    account_id    uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    secret_enc    bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    enabled_at    timestamptz,
    last_counter  bigint NOT NULL DEFAULT 0
);

-- Ten single-use recovery codes, stored as HMACs.
CREATE TABLE recovery_codes (
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash   bytea NOT NULL,
    used_at     timestamptz,
    PRIMARY KEY (account_id, code_hash)
);

-- An application may require two factors (SPEC §7).
ALTER TABLE clients ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;

-- The acr of the sign-in a session stands for.
ALTER TABLE auth_requests ALTER COLUMN acr SET DEFAULT '';

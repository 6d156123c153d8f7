-- Personal cabinet: per-field publicity, the private-profile switch, field-level consent,
-- what each application was granted, and photos.

ALTER TABLE accounts
    -- The person's explicit choices, field -> level; fields without a choice follow the
    -- configured defaults.
    ADD COLUMN publicity       jsonb   NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(publicity) = 'object'),
    ADD COLUMN private_profile boolean NOT NULL DEFAULT false,
    -- Fields an admin unlocked for this one account although its registration method locks them.
    ADD COLUMN unlocked_fields text[]  NOT NULL DEFAULT '{}';

-- Consent is now per field: one decision per (person, application, field). A row with
-- granted = false remembers a "no", so the person is not asked again.
DROP TABLE consents;
CREATE TABLE consents (
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id   text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    field       text NOT NULL,
    granted     boolean NOT NULL,
    decided_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, client_id, field)
);

-- One row per application a person has signed in to: the scopes granted last time, for the
-- connected-apps list.
CREATE TABLE grants (
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id   text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes      text[] NOT NULL,
    first_at    timestamptz NOT NULL DEFAULT now(),
    last_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, client_id)
);

-- The photo, re-encoded (no metadata). Its id is the URL: it changes whenever the photo
-- changes or its publicity becomes narrower, so URLs handed out earlier stop working.
CREATE TABLE photos (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id    uuid NOT NULL UNIQUE REFERENCES accounts (id) ON DELETE CASCADE,
    content       bytea NOT NULL,
    content_type  text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    width         integer NOT NULL,
    height        integer NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- The session that typed the password for this very request: prompt=login and max_age are
-- satisfied by it, whatever its age, and by no other session.
ALTER TABLE auth_requests ADD COLUMN login_session_id uuid;

-- One row per grant (a code's tokens, or one client_credentials call). Revocation marks
-- the family first, and every token insertion locks and checks it in the same transaction,
-- so a token being minted or rotated at that moment cannot escape the revocation.
CREATE TABLE token_families (
    id          uuid PRIMARY KEY,
    client_id   text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    account_id  uuid REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX token_families_account ON token_families (account_id, client_id) WHERE account_id IS NOT NULL;

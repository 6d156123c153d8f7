-- Core schema: accounts, clients, signing keys, auth requests, browser sessions, tokens,
-- consents and rate-limit counters. All protocol state lives here so that any number of
-- replicas behave as one server.

CREATE TABLE accounts (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- login is NULL only once a deleted account has been purged (the id stays as a tombstone).
    login                text,
    login_folded         text UNIQUE,
    nickname             text NOT NULL DEFAULT '',
    given_name           text NOT NULL DEFAULT '',
    family_name          text NOT NULL DEFAULT '',
    birthdate            date,
    email                text NOT NULL DEFAULT '',
    email_verified       boolean NOT NULL DEFAULT false,
    phone                text NOT NULL DEFAULT '',
    phone_verified       boolean NOT NULL DEFAULT false,
    locale               text NOT NULL DEFAULT '',
    position             text NOT NULL DEFAULT '',
    organization         text NOT NULL DEFAULT '',
    roles                text[] NOT NULL DEFAULT '{}',
    registration_method  text NOT NULL DEFAULT 'admin'
        CHECK (registration_method IN ('self', 'admin', 'invite', 'certificate') OR registration_method LIKE 'external:%'),
    status               text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'blocked', 'pending_deletion')),
    verification_status  text NOT NULL DEFAULT 'new'
        CHECK (verification_status IN ('new', 'requires_check', 'verified', 'incorrect_data')),
    verification_comment text NOT NULL DEFAULT '',
    password_hash        text NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    last_visit_at        timestamptz,
    CHECK ((login IS NULL) = (login_folded IS NULL))
);

CREATE TABLE clients (
    id                        text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._~-]{0,99}$'),
    name                      text NOT NULL DEFAULT '',
    secret_hash               bytea,
    public                    boolean NOT NULL DEFAULT false,
    redirect_uris             text[] NOT NULL DEFAULT '{}',
    post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
    grant_types               text[] NOT NULL DEFAULT '{authorization_code,refresh_token}',
    scopes                    text[] NOT NULL DEFAULT '{}',
    -- Lifetimes in seconds; 0 means the server's configured default.
    access_token_lifetime     integer NOT NULL DEFAULT 0 CHECK (access_token_lifetime >= 0),
    id_token_lifetime         integer NOT NULL DEFAULT 0 CHECK (id_token_lifetime >= 0),
    refresh_token_lifetime    integer NOT NULL DEFAULT 0 CHECK (refresh_token_lifetime >= 0),
    disabled                  boolean NOT NULL DEFAULT false,
    created_at                timestamptz NOT NULL DEFAULT now(),
    CHECK (public = (secret_hash IS NULL))
);

-- RS256 signing keys; the private key is AES-256-GCM encrypted under a key derived from the
-- configured secret_key. Several rows may exist: the newest active one signs, all published
-- ones verify.
CREATE TABLE signing_keys (
    kid          text PRIMARY KEY,
    alg          text NOT NULL,
    private_enc  bytea NOT NULL,
    public_jwk   jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    activate_at  timestamptz NOT NULL DEFAULT now(),
    retire_at    timestamptz
);

CREATE TABLE sessions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash    bytea NOT NULL UNIQUE,
    account_id    uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    auth_time     timestamptz NOT NULL,
    amr           text[] NOT NULL,
    ip            text NOT NULL DEFAULT '',
    user_agent    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    ended_at      timestamptz
);
CREATE INDEX sessions_account ON sessions (account_id) WHERE ended_at IS NULL;

CREATE TABLE auth_requests (
    id                     uuid PRIMARY KEY,
    client_id              text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    redirect_uri           text NOT NULL,
    scopes                 text[] NOT NULL,
    response_type          text NOT NULL,
    response_mode          text NOT NULL DEFAULT '',
    state                  text NOT NULL DEFAULT '',
    nonce                  text NOT NULL DEFAULT '',
    prompt                 text[] NOT NULL DEFAULT '{}',
    max_age                integer,
    ui_locales             text[] NOT NULL DEFAULT '{}',
    login_hint             text NOT NULL DEFAULT '',
    acr_values             text[] NOT NULL DEFAULT '{}',
    code_challenge         text NOT NULL DEFAULT '',
    code_challenge_method  text NOT NULL DEFAULT '',
    hint_subject           text NOT NULL DEFAULT '',
    browser_hash           bytea NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    expires_at             timestamptz NOT NULL,
    done                   boolean NOT NULL DEFAULT false,
    account_id             uuid REFERENCES accounts (id) ON DELETE CASCADE,
    session_id             uuid REFERENCES sessions (id) ON DELETE SET NULL,
    auth_time              timestamptz,
    amr                    text[] NOT NULL DEFAULT '{}',
    acr                    text NOT NULL DEFAULT '',
    code_hash              bytea UNIQUE,
    code_expires_at        timestamptz,
    -- A used code keeps its row until expiry so that a second use is recognised and the
    -- tokens issued from the first are revoked (RFC 6749 §4.1.2).
    code_used_at           timestamptz,
    CHECK (NOT done OR (account_id IS NOT NULL AND auth_time IS NOT NULL))
);
CREATE INDEX auth_requests_expires ON auth_requests (expires_at);

-- Access tokens are opaque to clients (encrypted "id:sub"); the row is the truth about
-- whether one is still valid.
CREATE TABLE access_tokens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- A family is every token descended from one grant (one code, or one client_credentials
    -- call); reuse of a code or of a rotated refresh token revokes the whole family.
    family_id   uuid NOT NULL,
    client_id   text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    account_id  uuid REFERENCES accounts (id) ON DELETE CASCADE,
    subject     text NOT NULL,
    scopes      text[] NOT NULL,
    audience    text[] NOT NULL,
    auth_time   timestamptz,
    amr         text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX access_tokens_family ON access_tokens (family_id);
CREATE INDEX access_tokens_account ON access_tokens (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX access_tokens_expires ON access_tokens (expires_at);

CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash  bytea NOT NULL UNIQUE,
    family_id   uuid NOT NULL,
    client_id   text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scopes      text[] NOT NULL,
    audience    text[] NOT NULL,
    auth_time   timestamptz NOT NULL,
    amr         text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    -- Set when the token is exchanged (rotation); presenting it again is reuse.
    used_at     timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_account ON refresh_tokens (account_id, client_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);

-- What a person allowed an application. In this first version the unit is a scope; the
-- field-level consent of SPEC §3 refines it.
CREATE TABLE consents (
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id   text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scope       text NOT NULL,
    granted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, client_id, scope)
);

-- Fixed-window counters shared by every replica (sign-in attempts per login and per IP).
CREATE TABLE rate_limits (
    key           text PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    hits          integer NOT NULL
);

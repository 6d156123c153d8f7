-- Self sign-up (SPEC §8): a sign-up waits here until the code sent to its email address is
-- entered; then the account is created and the row deleted, in one transaction. Until then
-- nothing is an account: the password is already hashed (argon2id), the code is an HMAC,
-- and the login is not reserved (the first sign-up to confirm it gets it). A row belongs to
-- the browser that started it and, through an application, to its auth request.
CREATE TABLE signups (
    id              uuid PRIMARY KEY,
    browser_hash    bytea NOT NULL,
    auth_request_id text NOT NULL DEFAULT '',
    login           text NOT NULL,
    email           text NOT NULL,
    phone           text NOT NULL DEFAULT '',
    locale          text NOT NULL DEFAULT '',
    password_hash   text NOT NULL,
    code_hash       bytea NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    sends           integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL,
    last_sent_at    timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL
);
CREATE INDEX signups_expires ON signups (expires_at);

-- The outbox: every email, SMS and call is a row, enqueued in the transaction of the change
-- that causes it and delivered by a worker on every replica (FOR UPDATE SKIP LOCKED, a lease,
-- and the attempt number as fencing token). The rendered content is encrypted at rest (it
-- holds one-time codes) and erased once the message is delivered or has failed for good.

CREATE TABLE messages (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    channel       text NOT NULL CHECK (channel IN ('email', 'sms', 'call')),
    recipient     text NOT NULL,
    kind          text NOT NULL,
    locale        text NOT NULL,
    account_id    uuid REFERENCES accounts (id) ON DELETE SET NULL,
    payload       bytea,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts      integer NOT NULL DEFAULT 0,
    max_attempts  integer NOT NULL DEFAULT 8,
    run_at        timestamptz NOT NULL DEFAULT now(),
    leased_until  timestamptz,
    last_error    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz
);
CREATE INDEX messages_due ON messages (run_at) WHERE status IN ('pending', 'sending');
CREATE INDEX messages_account ON messages (account_id, created_at DESC);

-- What the development sink "delivered": readable at /dev/messages when the sink is on.
CREATE TABLE dev_messages (
    id          uuid PRIMARY KEY,
    channel     text NOT NULL,
    recipient   text NOT NULL,
    kind        text NOT NULL,
    subject     text NOT NULL DEFAULT '',
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A pending email or phone change: the code and the link token are stored hashed; one per
-- account and kind, replaced by a new request.
CREATE TABLE contact_changes (
    account_id    uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('email', 'phone')),
    value         text NOT NULL,
    method        text NOT NULL CHECK (method IN ('email', 'sms', 'call')),
    code_hash     bytea NOT NULL,
    link_hash     bytea,
    attempts      integer NOT NULL DEFAULT 0,
    sends         integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_sent_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (account_id, kind)
);
CREATE UNIQUE INDEX contact_changes_link ON contact_changes (link_hash) WHERE link_hash IS NOT NULL;

-- Accounts issued by organisations (SPEC §2, §6, §9): issued (temporary) credentials and
-- their delivery, required actions after sign-in, per-account unlocks of locked fields with
-- an optional end, credential message templates, and CSV imports run by a background job.

ALTER TABLE accounts
    -- Required actions still to do, run after sign-in in a fixed order (passport.Actions):
    -- change_password, confirm_email, confirm_phone, fill_required, enrol_two_factor.
    ADD COLUMN required_actions    text[] NOT NULL DEFAULT '{}'
        CHECK (required_actions <@ ARRAY['change_password', 'confirm_email', 'confirm_phone',
            'fill_required', 'enrol_two_factor']::text[]),
    -- An issued password is temporary: it stops working at this time (NULL: a password of
    -- the person's own choosing, which does not expire).
    ADD COLUMN password_expires_at timestamptz,
    -- Fields an administrator unlocked for this one account: field → end (RFC 3339) or null
    -- (until re-locked).
    ADD COLUMN field_unlocks       jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(field_unlocks) = 'object');

UPDATE accounts SET field_unlocks = (SELECT coalesce(jsonb_object_agg(f, NULL), '{}'::jsonb) FROM unnest(unlocked_fields) f)
WHERE unlocked_fields <> '{}';
ALTER TABLE accounts DROP COLUMN unlocked_fields;

-- An organisation may require two factors of every member (the enrol_two_factor action at
-- their next sign-in while they have none).
ALTER TABLE organisations ADD COLUMN require_two_factor boolean NOT NULL DEFAULT false;

-- Credential message templates ("login details issued"), per language; the service
-- administrator manages them, an organisation administrator picks one when issuing. The
-- built-in template "standard" lives in templates/messages and is not stored here.
CREATE TABLE credential_templates (
    key         text PRIMARY KEY CHECK (key ~ '^[a-z0-9][a-z0-9_-]{0,39}$' AND key <> 'standard'),
    -- {"en": "Welcome letter", …}
    names       jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(names) = 'object'),
    -- {"en": {"subject": "…", "text": "…"}, …}; placeholders are replaced, never executed.
    bodies      jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(bodies) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Each issuing of credentials: which template and channel, until when the password works,
-- and the message that carries it (its status is the delivery status). Re-issuing voids the
-- previous one (voided_at) and cancels its message if still queued.
CREATE TABLE credential_issues (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    org_id      uuid REFERENCES organisations (id) ON DELETE SET NULL,
    issued_by   uuid REFERENCES accounts (id) ON DELETE SET NULL,
    channel     text NOT NULL CHECK (channel IN ('email', 'sms', 'none')),
    template    text NOT NULL,
    message_id  uuid REFERENCES messages (id) ON DELETE SET NULL,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    voided_at   timestamptz
);
CREATE INDEX credential_issues_account ON credential_issues (account_id, created_at DESC);

-- CSV imports of members. The file is kept until the job is done (it holds no passwords);
-- any replica claims a queued or abandoned import (lease), and rows are applied one
-- transaction each, idempotent on login, so a retried import changes nothing twice.
CREATE TABLE imports (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    -- Who started it, to act as them (an account, or a client for a service account).
    actor         jsonb NOT NULL DEFAULT '{}'::jsonb,
    status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    file_name     text NOT NULL DEFAULT '' CHECK (length(file_name) <= 200),
    data          bytea,
    total         integer NOT NULL DEFAULT 0,
    processed     integer NOT NULL DEFAULT 0,
    created       integer NOT NULL DEFAULT 0,
    unchanged     integer NOT NULL DEFAULT 0,
    failed        integer NOT NULL DEFAULT 0,
    -- The result file: the input's rows with an outcome column (created, unchanged, error).
    result        text NOT NULL DEFAULT '',
    error         text NOT NULL DEFAULT '',
    attempts      integer NOT NULL DEFAULT 0,
    leased_until  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE INDEX imports_org ON imports (org_id, created_at DESC);
CREATE INDEX imports_due ON imports (created_at) WHERE status IN ('queued', 'running');

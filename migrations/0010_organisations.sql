-- Organisations and their administrators (SPEC §1, §6, §12): organisations, the roles each
-- one defines, memberships (an account may belong to several), administrative grants, and
-- the append-only security-event log.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE organisations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The alias names the organisation in claims; it never changes (a trigger below).
    alias       text NOT NULL UNIQUE CHECK (alias ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name        text NOT NULL CHECK (name <> '' AND length(name) <= 200),
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION organisations_alias_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.alias <> OLD.alias THEN
        RAISE EXCEPTION 'an organisation''s alias never changes' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER organisations_alias_immutable BEFORE UPDATE ON organisations
    FOR EACH ROW EXECUTE FUNCTION organisations_alias_immutable();

-- The catalogue of roles an organisation hands out; names holds a display name per language
-- ({"en": "Driver", "ru": "Водитель", …}).
CREATE TABLE org_roles (
    org_id      uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    key         text NOT NULL CHECK (key ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    names       jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(names) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, key)
);

CREATE TABLE memberships (
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    org_id      uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    roles       text[] NOT NULL DEFAULT '{}',
    position    text NOT NULL DEFAULT '' CHECK (length(position) <= 200),
    -- managed: the organisation created the account; unmanaged: an existing account joined.
    managed     boolean NOT NULL DEFAULT false,
    is_primary  boolean NOT NULL DEFAULT false,
    created_by  uuid REFERENCES accounts (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, org_id)
);
CREATE INDEX memberships_org ON memberships (org_id);
CREATE UNIQUE INDEX memberships_one_primary ON memberships (account_id) WHERE is_primary;

-- Administrative grants: service_admin has no organisation, org_admin and reviewer one each.
CREATE TABLE admin_grants (
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('service_admin', 'org_admin', 'reviewer')),
    org_id      uuid REFERENCES organisations (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'service_admin') = (org_id IS NULL))
);
CREATE UNIQUE INDEX admin_grants_unique ON admin_grants (account_id, role, coalesce(org_id, '00000000-0000-0000-0000-000000000000'));

-- A client with scope passport:admin and the client_credentials grant acts as an
-- administrator of this one organisation (a service account).
ALTER TABLE clients ADD COLUMN admin_org_id uuid REFERENCES organisations (id) ON DELETE SET NULL;

-- Member list: search by login, name and email; filter by status and verification status.
CREATE INDEX accounts_search ON accounts
    USING gin ((login_folded || ' ' || lower(given_name) || ' ' || lower(family_name) || ' ' || lower(email)) gin_trgm_ops);

-- Organisation, position and roles move from the account to its memberships. Accounts
-- that named an organisation become members of one created for that name.
INSERT INTO organisations (alias, name)
SELECT DISTINCT
    left(coalesce(nullif(trim(BOTH '-' FROM lower(regexp_replace(organization, '[^A-Za-z0-9]+', '-', 'g'))), ''), 'org'), 50)
        || '-' || left(md5(organization), 6),
    left(organization, 200)
FROM accounts WHERE organization <> '';
INSERT INTO memberships (account_id, org_id, roles, position, managed, is_primary)
SELECT a.id, o.id, a.roles, left(a.position, 200), a.registration_method = 'admin', true
FROM accounts a JOIN organisations o ON o.name = left(a.organization, 200)
WHERE a.organization <> '';
ALTER TABLE accounts DROP COLUMN organization, DROP COLUMN roles, DROP COLUMN position;

-- Security events (SPEC §12): append-only, written in the transaction of the change they
-- record. They never hold secrets or codes. Only the retention job deletes (old rows).
CREATE TABLE security_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    type         text NOT NULL CHECK (type ~ '^[a-z_.]+$'),
    -- Who acted: person (the subject themselves), admin, system or client.
    actor_kind   text NOT NULL CHECK (actor_kind IN ('person', 'admin', 'system', 'client')),
    actor_id     uuid,                  -- the acting account (person or admin)
    actor_role   text NOT NULL DEFAULT '', -- the admin's role when acting (org_admin, service_admin)
    actor_org_id uuid,                  -- the organisation on whose behalf an admin acted
    client_id    text NOT NULL DEFAULT '',
    account_id   uuid,                  -- the subject account
    org_id       uuid,                  -- the organisation the event concerns
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    details      jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(details) = 'object')
);
CREATE INDEX security_events_account ON security_events (account_id, id DESC) WHERE account_id IS NOT NULL;
CREATE INDEX security_events_org ON security_events (org_id, id DESC) WHERE org_id IS NOT NULL;
CREATE INDEX security_events_actor_org ON security_events (actor_org_id, id DESC) WHERE actor_org_id IS NOT NULL;
CREATE INDEX security_events_at ON security_events (at);

CREATE FUNCTION security_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'security events are append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER security_events_append_only BEFORE UPDATE ON security_events
    FOR EACH ROW EXECUTE FUNCTION security_events_append_only();

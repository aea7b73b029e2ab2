-- Vexil config-api: everything lives in the `config` schema, which no other service reads.

CREATE SCHEMA IF NOT EXISTS config;

CREATE TABLE config.projects (
    id          uuid PRIMARY KEY,
    key         text NOT NULL UNIQUE,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    tags        text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE config.environments (
    id          uuid PRIMARY KEY,
    project_id  uuid NOT NULL REFERENCES config.projects (id) ON DELETE CASCADE,
    key         text NOT NULL,
    name        text NOT NULL,
    is_critical boolean NOT NULL DEFAULT false,
    -- The FlagSync sequence number of the environment's last committed change. Writers
    -- increment it with UPDATE, which also serializes the environment's writers.
    sequence    bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, key)
);

-- SDK credentials. Secrets (server SDK keys, mobile keys) are stored as SHA-256 only and
-- shown once, when created or rotated; client-side IDs are public and kept in `hint`.
CREATE TABLE config.sdk_credentials (
    id             uuid PRIMARY KEY,
    environment_id uuid NOT NULL REFERENCES config.environments (id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('server', 'mobile', 'client')),
    sha256         bytea NOT NULL UNIQUE,
    hint           text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz,
    revoked_at     timestamptz
);
CREATE INDEX sdk_credentials_environment ON config.sdk_credentials (environment_id);

-- Project-level flag fields, shared by every environment.
CREATE TABLE config.flags (
    id                       uuid PRIMARY KEY,
    project_id               uuid NOT NULL REFERENCES config.projects (id) ON DELETE CASCADE,
    key                      text NOT NULL,
    name                     text NOT NULL,
    description              text NOT NULL DEFAULT '',
    kind                     text NOT NULL CHECK (kind IN ('boolean', 'multivariate', 'json')),
    -- [{"value": <json>, "name": "...", "description": "..."}]
    variations               jsonb NOT NULL,
    tags                     text[] NOT NULL DEFAULT '{}',
    maintainer               text,
    is_temporary             boolean NOT NULL DEFAULT true,
    using_mobile_key         boolean NOT NULL DEFAULT false,
    using_environment_id     boolean NOT NULL DEFAULT false,
    is_archived              boolean NOT NULL DEFAULT false,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, key)
);
CREATE INDEX flags_tags ON config.flags USING gin (tags);

-- A flag's targeting in one environment, stored as LaunchDarkly flag JSON; the fields the
-- project owns (key, variations, client-side availability) and `version` are overwritten
-- from their owners when the SDK view is composed.
CREATE TABLE config.flag_environments (
    flag_id        uuid NOT NULL REFERENCES config.flags (id) ON DELETE CASCADE,
    environment_id uuid NOT NULL REFERENCES config.environments (id) ON DELETE CASCADE,
    version        bigint NOT NULL CHECK (version > 0),
    config         jsonb NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (flag_id, environment_id)
);
CREATE INDEX flag_environments_environment ON config.flag_environments (environment_id);

CREATE TABLE config.segments (
    id             uuid PRIMARY KEY,
    environment_id uuid NOT NULL REFERENCES config.environments (id) ON DELETE CASCADE,
    key            text NOT NULL,
    name           text NOT NULL,
    description    text NOT NULL DEFAULT '',
    tags           text[] NOT NULL DEFAULT '{}',
    version        bigint NOT NULL CHECK (version > 0),
    -- LaunchDarkly segment JSON; `key` and `version` are overwritten from the columns.
    data           jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (environment_id, key)
);

-- Versions outlive deletion (spec 5.5): a re-created key continues after its tombstone.
CREATE TABLE config.tombstones (
    environment_id uuid NOT NULL REFERENCES config.environments (id) ON DELETE CASCADE,
    item_kind      text NOT NULL CHECK (item_kind IN ('flag', 'segment')),
    key            text NOT NULL,
    version        bigint NOT NULL,
    PRIMARY KEY (environment_id, item_kind, key)
);

-- The FlagSync outbox: every committed change, per environment, in sequence order. Rows
-- are pruned after a retention period; a watcher resuming from before the oldest row
-- gets a snapshot. No foreign key: an environment's deletion is itself a change.
CREATE TABLE config.changes (
    environment_id uuid NOT NULL,
    sequence       bigint NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('flag_upsert', 'flag_deleted', 'segment_upsert',
                                                  'segment_deleted', 'credential_changed',
                                                  'environment_deleted')),
    key            text NOT NULL,
    version        bigint NOT NULL DEFAULT 0,
    -- The item's LaunchDarkly JSON for upserts, the credential (as JSON) for credential changes.
    payload        bytea NOT NULL DEFAULT '',
    committed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (environment_id, sequence)
);
CREATE INDEX changes_committed_at ON config.changes (committed_at);

-- Wakes every replica's FlagSync hub when a change commits (NOTIFY is delivered at commit).
CREATE FUNCTION config.notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vexil_config_changes', NEW.environment_id::text || ':' || NEW.sequence::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER changes_notify AFTER INSERT ON config.changes
    FOR EACH ROW EXECUTE FUNCTION config.notify_change();

CREATE TABLE config.api_tokens (
    id                   uuid PRIMARY KEY,
    name                 text NOT NULL,
    role                 text NOT NULL CHECK (role IN ('reader', 'writer', 'admin')),
    -- NULL: every project / every environment.
    project_keys         text[],
    environment_keys     text[],
    can_bypass_approvals boolean NOT NULL DEFAULT false,
    sha256               bytea NOT NULL UNIQUE,
    hint                 text NOT NULL,
    is_bootstrap         boolean NOT NULL DEFAULT false,
    created_by           uuid,
    created_at           timestamptz NOT NULL DEFAULT now(),
    revoked_at           timestamptz
);

-- The audit log: append-only and hash-chained. `hash` = SHA-256 over the entry's canonical
-- encoding, which includes `previous_hash` (see src/audit/chain.rs).
CREATE TABLE config.audit_log (
    sequence         bigint PRIMARY KEY,
    id               uuid NOT NULL UNIQUE,
    at               timestamptz NOT NULL,
    actor_token_id   uuid,
    actor_name       text NOT NULL,
    action           text NOT NULL,
    resource         text NOT NULL,
    project_key      text,
    environment_key  text,
    flag_key         text,
    segment_key      text,
    before_json      text,
    after_json       text,
    diff             text NOT NULL,
    comment          text NOT NULL DEFAULT '',
    client_ip        text,
    request_id       text,
    previous_hash    bytea NOT NULL,
    hash             bytea NOT NULL
);
CREATE INDEX audit_log_at ON config.audit_log (at);
CREATE INDEX audit_log_project ON config.audit_log (project_key, environment_key, flag_key);

CREATE FUNCTION config.refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'config.audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON config.audit_log
    FOR EACH ROW EXECUTE FUNCTION config.refuse_audit_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON config.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION config.refuse_audit_change();

CREATE TABLE config.approval_requests (
    id                    uuid PRIMARY KEY,
    flag_id               uuid NOT NULL REFERENCES config.flags (id) ON DELETE CASCADE,
    environment_id        uuid NOT NULL REFERENCES config.environments (id) ON DELETE CASCADE,
    instructions          jsonb NOT NULL,
    comment               text NOT NULL DEFAULT '',
    status                text NOT NULL CHECK (status IN ('pending', 'approved', 'declined', 'applied', 'failed')),
    requested_by_token_id uuid,
    requested_by_name     text NOT NULL,
    reviewed_by_token_id  uuid,
    reviewed_by_name      text,
    review_comment        text,
    failure_reason        text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX approval_requests_flag ON config.approval_requests (flag_id, environment_id);

CREATE TABLE config.scheduled_changes (
    id                  uuid PRIMARY KEY,
    flag_id             uuid NOT NULL REFERENCES config.flags (id) ON DELETE CASCADE,
    environment_id      uuid NOT NULL REFERENCES config.environments (id) ON DELETE CASCADE,
    execute_at          timestamptz NOT NULL,
    instructions        jsonb NOT NULL,
    comment             text NOT NULL DEFAULT '',
    status              text NOT NULL CHECK (status IN ('pending', 'applied', 'failed', 'cancelled')),
    created_by_token_id uuid,
    created_by_name     text NOT NULL,
    failure_reason      text,
    applied_at          timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scheduled_changes_due ON config.scheduled_changes (execute_at) WHERE status = 'pending';

-- Vexil config-api on SQLite (`vexil up` with no database server): the tables of the
-- PostgreSQL schema `config` (see migrations/), with the same table and column names, in a
-- file of config-api's own. Only `SqliteStore` (src/store/sqlite/) opens it, and one
-- process at a time (an OS lock on `{file}.lock`).
--
-- Representations (STRICT tables, so a value of another type is refused, not coerced):
-- - uuids: TEXT, hyphenated lower case (as `Uuid`'s Display writes them), so `ORDER BY id`
--   is PostgreSQL's uuid order;
-- - timestamps: INTEGER microseconds since 1970-01-01T00:00:00Z, PostgreSQL's precision:
--   the audit chain hashes six fractional digits, so a time must read back exactly as
--   written. There are no time defaults: the store binds `store::now()`;
-- - booleans: INTEGER 0 or 1 (CHECKed);
-- - text arrays (`tags`, `project_keys`, `environment_keys`): TEXT holding a JSON array
--   of strings, searched with `json_each`;
-- - JSON documents (jsonb on PostgreSQL): TEXT holding the JSON, read and written whole;
-- - hashes and change payloads: BLOB.
-- Text compares with SQLite's default BINARY collation, PostgreSQL's "C": `ORDER BY key`
-- gives the same order on both.
--
-- Not here, because the store does their work inside each write transaction: the queues
-- `change_queue` and `audit_queue` (a write numbers its changes and chains its audit
-- entries itself, under SQLite's one write lock) and the NOTIFY trigger (the store
-- publishes committed changes on its hub). `foreign_keys=ON` is set on every connection,
-- which the ON DELETE CASCADE clauses need.

CREATE TABLE projects (
    id          TEXT NOT NULL PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    tags        TEXT NOT NULL DEFAULT '[]' CHECK (json_type(tags) = 'array'),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE environments (
    id          TEXT NOT NULL PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    is_critical INTEGER NOT NULL DEFAULT 0 CHECK (is_critical IN (0, 1)),
    -- The FlagSync sequence number of the environment's last committed change; a write
    -- increments it for each change it records.
    sequence    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (project_id, key)
) STRICT;

-- SDK credentials. Secrets (server SDK keys, mobile keys) are stored as SHA-256 only and
-- shown once, when created or rotated; client-side IDs are public and kept in `hint`.
CREATE TABLE sdk_credentials (
    id             TEXT NOT NULL PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL CHECK (kind IN ('server', 'mobile', 'client')),
    sha256         BLOB NOT NULL UNIQUE,
    hint           TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER,
    revoked_at     INTEGER
) STRICT;
CREATE INDEX sdk_credentials_environment ON sdk_credentials (environment_id);

-- Project-level flag fields, shared by every environment. (PostgreSQL's GIN index on tags
-- has no SQLite counterpart: a tag filter scans the project's flags.)
CREATE TABLE flags (
    id                   TEXT NOT NULL PRIMARY KEY,
    project_id           TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    key                  TEXT NOT NULL,
    name                 TEXT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    kind                 TEXT NOT NULL CHECK (kind IN ('boolean', 'multivariate', 'json')),
    -- [{"value": <json>, "name": "...", "description": "..."}]
    variations           TEXT NOT NULL CHECK (json_valid(variations)),
    tags                 TEXT NOT NULL DEFAULT '[]' CHECK (json_type(tags) = 'array'),
    maintainer           TEXT,
    is_temporary         INTEGER NOT NULL DEFAULT 1 CHECK (is_temporary IN (0, 1)),
    using_mobile_key     INTEGER NOT NULL DEFAULT 0 CHECK (using_mobile_key IN (0, 1)),
    using_environment_id INTEGER NOT NULL DEFAULT 0 CHECK (using_environment_id IN (0, 1)),
    is_archived          INTEGER NOT NULL DEFAULT 0 CHECK (is_archived IN (0, 1)),
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    UNIQUE (project_id, key)
) STRICT;

-- A flag's targeting in one environment, stored as LaunchDarkly flag JSON; the fields the
-- project owns (key, variations, client-side availability) and `version` are overwritten
-- from their owners when the SDK view is composed.
CREATE TABLE flag_environments (
    flag_id        TEXT NOT NULL REFERENCES flags (id) ON DELETE CASCADE,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    version        INTEGER NOT NULL CHECK (version > 0),
    config         TEXT NOT NULL CHECK (json_valid(config)),
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (flag_id, environment_id)
) STRICT;
CREATE INDEX flag_environments_environment ON flag_environments (environment_id);

CREATE TABLE segments (
    id             TEXT NOT NULL PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    key            TEXT NOT NULL,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    tags           TEXT NOT NULL DEFAULT '[]' CHECK (json_type(tags) = 'array'),
    version        INTEGER NOT NULL CHECK (version > 0),
    -- LaunchDarkly segment JSON; `key` and `version` are overwritten from the columns.
    data           TEXT NOT NULL CHECK (json_valid(data)),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (environment_id, key)
) STRICT;

-- Versions outlive deletion (spec 5.5): a re-created key continues after its tombstone.
CREATE TABLE tombstones (
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    item_kind      TEXT NOT NULL CHECK (item_kind IN ('flag', 'segment')),
    key            TEXT NOT NULL,
    version        INTEGER NOT NULL,
    PRIMARY KEY (environment_id, item_kind, key)
) STRICT;

-- The FlagSync outbox: every committed change, per environment, in sequence order. Rows
-- are pruned after a retention period; a watcher resuming from before the oldest row
-- gets a snapshot. No foreign key: an environment's deletion is itself a change.
CREATE TABLE changes (
    environment_id TEXT NOT NULL,
    sequence       INTEGER NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('flag_upsert', 'flag_deleted', 'segment_upsert',
                                                  'segment_deleted', 'credential_changed',
                                                  'environment_deleted')),
    key            TEXT NOT NULL,
    version        INTEGER NOT NULL DEFAULT 0,
    -- The item's LaunchDarkly JSON for upserts, the credential (as JSON) for credential changes.
    payload        BLOB NOT NULL DEFAULT x'',
    committed_at   INTEGER NOT NULL,
    PRIMARY KEY (environment_id, sequence)
) STRICT;
CREATE INDEX changes_committed_at ON changes (committed_at);

CREATE TABLE api_tokens (
    id                   TEXT NOT NULL PRIMARY KEY,
    name                 TEXT NOT NULL,
    role                 TEXT NOT NULL CHECK (role IN ('reader', 'writer', 'admin')),
    -- NULL: every project / every environment.
    project_keys         TEXT CHECK (project_keys IS NULL OR json_type(project_keys) = 'array'),
    environment_keys     TEXT CHECK (environment_keys IS NULL
                                     OR json_type(environment_keys) = 'array'),
    can_bypass_approvals INTEGER NOT NULL DEFAULT 0 CHECK (can_bypass_approvals IN (0, 1)),
    sha256               BLOB NOT NULL UNIQUE,
    hint                 TEXT NOT NULL,
    is_bootstrap         INTEGER NOT NULL DEFAULT 0 CHECK (is_bootstrap IN (0, 1)),
    created_by           TEXT,
    created_at           INTEGER NOT NULL,
    revoked_at           INTEGER
) STRICT;

-- The audit log: append-only and hash-chained. `hash` = SHA-256 over the entry's canonical
-- encoding, which includes `previous_hash` (see src/audit/chain.rs).
CREATE TABLE audit_log (
    sequence         INTEGER NOT NULL PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    at               INTEGER NOT NULL,
    actor_token_id   TEXT,
    actor_name       TEXT NOT NULL,
    action           TEXT NOT NULL,
    resource         TEXT NOT NULL,
    project_key      TEXT,
    environment_key  TEXT,
    flag_key         TEXT,
    segment_key      TEXT,
    before_json      TEXT,
    after_json       TEXT,
    diff             TEXT NOT NULL,
    comment          TEXT NOT NULL DEFAULT '',
    client_ip        TEXT,
    request_id       TEXT,
    previous_hash    BLOB NOT NULL,
    hash             BLOB NOT NULL
) STRICT;
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_project ON audit_log (project_key, environment_key, flag_key);

-- SQLite has no TRUNCATE; a DELETE without WHERE runs these triggers too.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END;

CREATE TABLE approval_requests (
    id                    TEXT NOT NULL PRIMARY KEY,
    flag_id               TEXT NOT NULL REFERENCES flags (id) ON DELETE CASCADE,
    environment_id        TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    instructions          TEXT NOT NULL CHECK (json_valid(instructions)),
    comment               TEXT NOT NULL DEFAULT '',
    status                TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined',
                                                          'applied', 'failed')),
    requested_by_token_id TEXT,
    requested_by_name     TEXT NOT NULL,
    reviewed_by_token_id  TEXT,
    reviewed_by_name      TEXT,
    review_comment        TEXT,
    failure_reason        TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
) STRICT;
CREATE INDEX approval_requests_flag ON approval_requests (flag_id, environment_id);

CREATE TABLE scheduled_changes (
    id                  TEXT NOT NULL PRIMARY KEY,
    flag_id             TEXT NOT NULL REFERENCES flags (id) ON DELETE CASCADE,
    environment_id      TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    execute_at          INTEGER NOT NULL,
    instructions        TEXT NOT NULL CHECK (json_valid(instructions)),
    comment             TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'failed',
                                                        'cancelled')),
    created_by_token_id TEXT,
    created_by_name     TEXT NOT NULL,
    failure_reason      TEXT,
    applied_at          INTEGER,
    created_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX scheduled_changes_due ON scheduled_changes (execute_at) WHERE status = 'pending';

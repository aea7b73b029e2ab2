-- Writes no longer number their changes or chain their audit entries themselves: that
-- took an environment's row lock and a global lock and held both until commit, so writes
-- committed one at a time. A write now inserts into these two queues, with no shared
-- lock, and the sequencer (src/sequencer.rs) moves queued rows, in batches and under one
-- advisory lock, into `config.changes` (numbered per environment) and `config.audit_log`
-- (chained). The API flushes the queues before it answers a write, so a response still
-- means the change is numbered and audited.

CREATE TABLE config.change_queue (
    id             bigserial PRIMARY KEY,
    -- No foreign key: checking one would share-lock the environment's row from every
    -- concurrent write. The sequencer drops changes of an environment deleted meanwhile
    -- (its `environment_deleted` change closes its stream).
    environment_id uuid NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('flag_upsert', 'flag_deleted', 'segment_upsert',
                                                  'segment_deleted', 'credential_changed')),
    key            text NOT NULL,
    version        bigint NOT NULL DEFAULT 0,
    payload        bytea NOT NULL DEFAULT ''
);

CREATE TABLE config.audit_queue (
    id               bigserial PRIMARY KEY,
    entry_id         uuid NOT NULL UNIQUE,
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
    request_id       text
);

-- Vexil analytics-worker on SQLite (`vexil up`'s embedded mode): the tables of the
-- PostgreSQL schema `analytics` (see migrations/), in a file of the worker's own. Every
-- table is written only in the transaction that also advances the consumed offset of the
-- partition the events came from (`consumer_offsets`).
--
-- Representations (STRICT tables, so a value of another type is refused, not coerced):
-- - uuids: TEXT, hyphenated lower case (as `Uuid`'s Display writes them);
-- - timestamps: INTEGER Unix milliseconds (`*_ms`), the precision every event time has;
-- - UTC days: INTEGER days since 1970-01-01 (`day`);
-- - HyperLogLog sketches: BLOB, the bytes of src/stats/hll.rs;
-- - doubles: REAL.

-- Per topic partition, the offset of the next record to process. Advancing it commits the
-- effect of every record before it.
CREATE TABLE consumer_offsets (
    topic         TEXT NOT NULL,
    "partition"   INTEGER NOT NULL,
    next_offset   INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (topic, "partition")
) STRICT;

-- (payload id, index in payload) of events already counted, so an SDK's retried payload
-- is counted once. Pruned after the configured retention.
CREATE TABLE seen_payloads (
    payload_id       TEXT NOT NULL,
    index_in_payload INTEGER NOT NULL,
    seen_at_ms       INTEGER NOT NULL,
    PRIMARY KEY (payload_id, index_in_payload)
) STRICT;
CREATE INDEX seen_payloads_seen_at ON seen_payloads (seen_at_ms);

-- Evaluations from summary counters, per minute bucket. `variation` is -1 when no
-- variation was served, `flag_version` is -1 for an unknown flag.
CREATE TABLE evaluations (
    environment_id  TEXT NOT NULL,
    flag_key        TEXT NOT NULL,
    variation       INTEGER NOT NULL,
    flag_version    INTEGER NOT NULL,
    bucket_start_ms INTEGER NOT NULL,
    count           INTEGER NOT NULL,
    PRIMARY KEY (environment_id, flag_key, bucket_start_ms, variation, flag_version)
) STRICT;

-- Last time each flag was evaluated in each environment.
CREATE TABLE flag_last_evaluated (
    environment_id       TEXT NOT NULL,
    flag_key             TEXT NOT NULL,
    last_evaluated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (environment_id, flag_key)
) STRICT;

-- Distinct contexts per flag and UTC day: HyperLogLog sketches, one per source partition,
-- merged by queries.
CREATE TABLE flag_context_sketches (
    environment_id TEXT NOT NULL,
    flag_key       TEXT NOT NULL,
    day            INTEGER NOT NULL,
    "partition"    INTEGER NOT NULL,
    sketch         BLOB NOT NULL,
    PRIMARY KEY (environment_id, flag_key, day, "partition")
) STRICT;

-- Individual contexts seen (never anonymous ones).
CREATE TABLE contexts (
    environment_id  TEXT NOT NULL,
    kind            TEXT NOT NULL,
    key             TEXT NOT NULL,
    name            TEXT,
    last_seen_at_ms INTEGER NOT NULL,
    PRIMARY KEY (environment_id, kind, key)
) STRICT;
CREATE INDEX contexts_recent ON contexts (environment_id, last_seen_at_ms DESC, kind DESC, key DESC);

-- Custom events per metric key and minute bucket. `value_count` counts the events that
-- carried a metricValue, `value_sum` sums them.
CREATE TABLE custom_events (
    environment_id  TEXT NOT NULL,
    event_key       TEXT NOT NULL,
    bucket_start_ms INTEGER NOT NULL,
    count           INTEGER NOT NULL,
    value_count     INTEGER NOT NULL,
    value_sum       REAL NOT NULL,
    PRIMARY KEY (environment_id, event_key, bucket_start_ms)
) STRICT;

-- A context's first exposure to an experiment flag. `context_key` is the canonical key of
-- the whole context.
CREATE TABLE experiment_exposures (
    environment_id      TEXT NOT NULL,
    flag_key            TEXT NOT NULL,
    context_key         TEXT NOT NULL,
    variation           INTEGER NOT NULL,
    first_exposed_at_ms INTEGER NOT NULL,
    PRIMARY KEY (environment_id, flag_key, context_key)
) STRICT;
CREATE INDEX experiment_exposures_by_context ON experiment_exposures (environment_id, context_key);

-- Units (exposed contexts) per experiment flag and variation.
CREATE TABLE experiment_units (
    environment_id TEXT NOT NULL,
    flag_key       TEXT NOT NULL,
    variation      INTEGER NOT NULL,
    units          INTEGER NOT NULL,
    PRIMARY KEY (environment_id, flag_key, variation)
) STRICT;

-- Per exposed context and metric: its events after exposure and the sum of their values.
CREATE TABLE experiment_context_metrics (
    environment_id TEXT NOT NULL,
    flag_key       TEXT NOT NULL,
    metric_key     TEXT NOT NULL,
    context_key    TEXT NOT NULL,
    variation      INTEGER NOT NULL,
    event_count    INTEGER NOT NULL,
    value_sum      REAL NOT NULL,
    PRIMARY KEY (environment_id, flag_key, metric_key, context_key)
) STRICT;

-- Per experiment flag, variation and metric: conversions, sum and sum of squares of the
-- per-context totals.
CREATE TABLE experiment_metric_stats (
    environment_id    TEXT NOT NULL,
    flag_key          TEXT NOT NULL,
    variation         INTEGER NOT NULL,
    metric_key        TEXT NOT NULL,
    conversions       INTEGER NOT NULL,
    value_sum         REAL NOT NULL,
    value_sum_squares REAL NOT NULL,
    PRIMARY KEY (environment_id, flag_key, metric_key, variation)
) STRICT;

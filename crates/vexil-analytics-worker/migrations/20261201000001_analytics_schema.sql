-- Vexil analytics-worker: everything lives in the `analytics` schema, which no other
-- service reads. Every table is written only in the transaction that also advances the
-- consumed offset of the partition the events came from (`consumer_offsets`).

CREATE SCHEMA IF NOT EXISTS analytics;

-- Per topic partition, the offset of the next record to process. Advancing it commits the
-- effect of every record before it.
CREATE TABLE analytics.consumer_offsets (
    topic       text NOT NULL,
    partition   integer NOT NULL,
    next_offset bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition)
);

-- (payload id, index in payload) of events already counted, so an SDK's retried payload
-- is counted once. Pruned after the configured retention.
CREATE TABLE analytics.seen_payloads (
    payload_id       text NOT NULL,
    index_in_payload integer NOT NULL,
    seen_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (payload_id, index_in_payload)
);
CREATE INDEX seen_payloads_seen_at ON analytics.seen_payloads (seen_at);

-- Evaluations from summary counters, per minute bucket. `variation` is -1 when no
-- variation was served, `flag_version` is -1 for an unknown flag.
CREATE TABLE analytics.evaluations (
    environment_id uuid NOT NULL,
    flag_key       text NOT NULL,
    variation      integer NOT NULL,
    flag_version   bigint NOT NULL,
    bucket_start   timestamptz NOT NULL,
    count          bigint NOT NULL,
    PRIMARY KEY (environment_id, flag_key, bucket_start, variation, flag_version)
);

-- Last time each flag was evaluated in each environment.
CREATE TABLE analytics.flag_last_evaluated (
    environment_id   uuid NOT NULL,
    flag_key         text NOT NULL,
    last_evaluated_at timestamptz NOT NULL,
    PRIMARY KEY (environment_id, flag_key)
);

-- Distinct contexts per flag and UTC day: HyperLogLog sketches (see src/stats/hll.rs),
-- one per source partition, so a sketch is only ever read and rewritten by the
-- transaction holding its partition's `consumer_offsets` row lock; queries merge them.
CREATE TABLE analytics.flag_context_sketches (
    environment_id uuid NOT NULL,
    flag_key       text NOT NULL,
    day            date NOT NULL,
    partition      integer NOT NULL,
    sketch         bytea NOT NULL,
    PRIMARY KEY (environment_id, flag_key, day, partition)
);

-- Individual contexts seen (never anonymous ones).
CREATE TABLE analytics.contexts (
    environment_id uuid NOT NULL,
    kind           text NOT NULL,
    key            text NOT NULL,
    name           text,
    last_seen_at   timestamptz NOT NULL,
    PRIMARY KEY (environment_id, kind, key)
);
CREATE INDEX contexts_recent ON analytics.contexts (environment_id, last_seen_at DESC, kind DESC, key DESC);

-- Custom events per metric key and minute bucket. `value_count` counts the events that
-- carried a metricValue, `value_sum` sums them.
CREATE TABLE analytics.custom_events (
    environment_id uuid NOT NULL,
    event_key      text NOT NULL,
    bucket_start   timestamptz NOT NULL,
    count          bigint NOT NULL,
    value_count    bigint NOT NULL,
    value_sum      double precision NOT NULL,
    PRIMARY KEY (environment_id, event_key, bucket_start)
);

-- A context's first exposure to an experiment flag (a feature event whose reason has
-- `inExperiment`). `context_key` is the canonical key of the whole context.
CREATE TABLE analytics.experiment_exposures (
    environment_id    uuid NOT NULL,
    flag_key          text NOT NULL,
    context_key       text NOT NULL,
    variation         integer NOT NULL,
    first_exposed_at  timestamptz NOT NULL,
    PRIMARY KEY (environment_id, flag_key, context_key)
);
CREATE INDEX experiment_exposures_by_context ON analytics.experiment_exposures (environment_id, context_key);

-- Units (exposed contexts) per experiment flag and variation.
CREATE TABLE analytics.experiment_units (
    environment_id uuid NOT NULL,
    flag_key       text NOT NULL,
    variation      integer NOT NULL,
    units          bigint NOT NULL,
    PRIMARY KEY (environment_id, flag_key, variation)
);

-- Per exposed context and metric: its events after exposure and the sum of their values.
-- Needed to keep the sum of squares exact as a context's total grows.
CREATE TABLE analytics.experiment_context_metrics (
    environment_id uuid NOT NULL,
    flag_key       text NOT NULL,
    metric_key     text NOT NULL,
    context_key    text NOT NULL,
    variation      integer NOT NULL,
    event_count    bigint NOT NULL,
    value_sum      double precision NOT NULL,
    PRIMARY KEY (environment_id, flag_key, metric_key, context_key)
);

-- Per experiment flag, variation and metric: conversions, sum and sum of squares of the
-- per-context totals (units come from experiment_units; a unit without events adds 0).
CREATE TABLE analytics.experiment_metric_stats (
    environment_id    uuid NOT NULL,
    flag_key          text NOT NULL,
    variation         integer NOT NULL,
    metric_key        text NOT NULL,
    conversions       bigint NOT NULL,
    value_sum         double precision NOT NULL,
    value_sum_squares double precision NOT NULL,
    PRIMARY KEY (environment_id, flag_key, metric_key, variation)
);

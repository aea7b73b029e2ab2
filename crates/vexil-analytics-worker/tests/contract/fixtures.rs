//! Building batches of SDK events as the consumer builds them, and opening each store.

use serde_json::{json, Value};
use tempfile::TempDir;
use uuid::Uuid;
use vexil_analytics_worker::aggregate::Accepted;
use vexil_analytics_worker::events::parse;
use vexil_analytics_worker::store::{Candidate, PartitionBatch, PostgresStore, SqliteStore};

pub const TOPIC: &str = "vexil.sdk-events.v1";

/// The environment of most tests; [`OTHER_ENVIRONMENT`] holds data no query of them may see.
pub const ENVIRONMENT: Uuid = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
pub const OTHER_ENVIRONMENT: Uuid = Uuid::from_u128(0xfedc_ba98_7654_3210_fedc_ba98_7654_3210);

/// 2025-06-15T15:00:00Z: an hour (and so minute) boundary.
pub const HOUR: i64 = 1_750_000_000_000 - 1_750_000_000_000 % 3_600_000;

pub async fn postgres(pool: sqlx::PgPool) -> PostgresStore {
    let store = PostgresStore::new(pool);
    store.migrate().await.unwrap();
    store
}

/// A SQLite store in a directory removed when the returned `TempDir` drops.
pub async fn sqlite() -> (SqliteStore, TempDir) {
    let directory = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}",
        directory.path().join("analytics.db").display()
    );
    (SqliteStore::open(&url, 4, true).await.unwrap(), directory)
}

/// An event of `environment_id` as the consumer accepts it from an envelope.
pub fn event(environment_id: Uuid, kind: &str, json: Value) -> Accepted {
    Accepted {
        environment_id,
        received_at_ms: HOUR,
        event: parse(kind, json.to_string().as_bytes()).unwrap(),
    }
}

/// A candidate with the SDK's payload key, or `None` for an ingest-generated payload id.
pub fn candidate(key: Option<(&str, i32)>, accepted: Accepted) -> Candidate {
    Candidate {
        dedup_key: key.map(|(payload_id, index)| (payload_id.to_owned(), index)),
        accepted,
    }
}

/// Records `first..next` of `partition`, holding `candidates` (unkeyed ones need no key).
pub fn batch(partition: i32, first: i64, next: i64, candidates: Vec<Candidate>) -> PartitionBatch {
    PartitionBatch {
        topic: TOPIC.to_owned(),
        partition,
        first_offset: first,
        next_offset: next,
        candidates,
    }
}

/// Each event as an ingest-generated candidate (never de-duplicated).
pub fn unkeyed(events: Vec<Accepted>) -> Vec<Candidate> {
    events
        .into_iter()
        .map(|accepted| candidate(None, accepted))
        .collect()
}

/// A summary counter: (variation, version, count); a version of `None` marks the flag
/// unknown.
pub type Counter = (Option<i32>, Option<i64>, u64);

/// A summary ending at `end_ms`: per flag, its counters.
pub fn summary(end_ms: i64, flags: &[(&str, &[Counter])]) -> Value {
    let mut features = serde_json::Map::new();
    for (flag_key, counters) in flags {
        let counters: Vec<Value> = counters
            .iter()
            .map(|(variation, version, count)| {
                let mut counter = json!({ "count": count, "value": true });
                if let Some(variation) = variation {
                    counter["variation"] = json!(variation);
                }
                match version {
                    Some(version) => counter["version"] = json!(version),
                    None => counter["unknown"] = json!(true),
                }
                counter
            })
            .collect();
        features.insert((*flag_key).to_owned(), json!({ "counters": counters }));
    }
    json!({ "kind": "summary", "startDate": end_ms - 1000, "endDate": end_ms, "features": features })
}

/// A `feature` event of a user context, in an experiment when `in_experiment`.
pub fn feature(
    at_ms: i64,
    flag_key: &str,
    user: &str,
    variation: i32,
    in_experiment: bool,
) -> Value {
    json!({
        "kind": "feature", "creationDate": at_ms, "key": flag_key, "version": 1,
        "context": { "kind": "user", "key": user }, "variation": variation, "value": true,
        "reason": { "kind": "FALLTHROUGH", "inExperiment": in_experiment }
    })
}

/// A `custom` event of a user context, with a metric value when given.
pub fn custom(at_ms: i64, event_key: &str, user: &str, value: Option<f64>) -> Value {
    let mut event = json!({
        "kind": "custom", "creationDate": at_ms, "key": event_key,
        "context": { "kind": "user", "key": user }
    });
    if let Some(value) = value {
        event["metricValue"] = json!(value);
    }
    event
}

//! Issue 5's end-to-end scenario: the unmodified LaunchDarkly Python server SDK reads a
//! flag from the stream gateway and sends its events to event-ingest; through Kafka and
//! analytics-worker, every evaluation and `track()` call shows up in config-api's usage and
//! experiment endpoints with exact counts.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::event_log;
use crate::python_sdk::PythonSdk;
use crate::scratch::Scratch;
use crate::stack::{self, Names, Resources, Stack};

const PROJECT: &str = "shop";
const FLAG: &str = "checkout-redesign";
const METRIC: &str = "purchase";
/// Distinct user contexts evaluated, each once.
const CONTEXTS: usize = 40;
/// How many of them then call `track(METRIC, context, metric_value=METRIC_VALUE)`.
const TRACKED: usize = 15;
const METRIC_VALUE: f64 = 3.0;
/// Several partitions, so summaries (keyed by payload) and a context's events (keyed by
/// context) travel apart, as they do in production.
const PARTITIONS: i32 = 3;
/// Bounds the wait for the counts; the pipeline normally needs a second or two.
const COUNTS_DEADLINE: Duration = Duration::from_secs(90);
/// Bounds the wait for the gateway to serve the flag as configured.
const FLAG_DEADLINE: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_evaluations_and_track_calls_show_up_in_usage_with_exact_counts() {
    stack::run_scenario("vexil-e2e", scenario).await;
}

async fn scenario(scratch: Scratch, names: Names) {
    let config_api_pool = scratch.create_database(&names.config_api_database).await;
    let worker_pool = scratch.create_database(&names.worker_database).await;
    scratch
        .create_topics(&[
            (&names.events_topic, PARTITIONS),
            (&names.dead_letter_topic, 1),
        ])
        .await;
    let stack = Stack::start(Resources {
        config_api_pool: config_api_pool.clone(),
        worker_pool: worker_pool.clone(),
        events_topic: names.events_topic.clone(),
        dead_letter_topic: names.dead_letter_topic.clone(),
        consumer_group: names.consumer_group.clone(),
        redis_prefix: scratch.redis_prefix(),
    })
    .await;

    let sdk_key = create_experiment_flag(&stack).await;
    wait_for_flag_in_gateway(&stack, &sdk_key).await;

    let mut sdk =
        PythonSdk::start_streaming(&stack.gateway.url(), &stack.ingest.url(), &sdk_key).await;
    let contexts: Vec<Value> = (0..CONTEXTS)
        .map(|i| json!({"kind": "user", "key": format!("customer-{i}"), "name": format!("Customer {i}")}))
        .collect();
    let results = sdk.evaluate(FLAG, &contexts, json!(false)).await;
    let variations: Vec<i64> = results
        .iter()
        .map(|result| {
            assert_eq!(
                result["reason"]["inExperiment"],
                true,
                "every evaluation falls through into the experiment: {result}{}",
                sdk.diagnostics()
            );
            result["variationIndex"]
                .as_i64()
                .unwrap_or_else(|| panic!("an evaluation without a variation: {result}"))
        })
        .collect();
    for context in &contexts[..TRACKED] {
        sdk.track(METRIC, context, METRIC_VALUE).await;
    }
    sdk.flush().await;
    let sdk_warnings = sdk.quit().await;

    let expected = Expected::from_variations(&variations);
    if let Err(mismatch) =
        wait_for_counts(&stack, &worker_pool, &names.events_topic, &expected).await
    {
        panic!("{mismatch}\nPython SDK warnings: {sdk_warnings:#?}");
    }
    let dead_letters = event_log::read_all(&names.dead_letter_topic, 1).await;
    assert!(
        dead_letters.is_empty(),
        "the worker dead-lettered events of the SDK: {}",
        event_log::tally(&dead_letters, FLAG, METRIC)
    );

    stack.stop().await;
    config_api_pool.close().await;
    worker_pool.close().await;
}

/// Creates the project and a boolean flag whose fallthrough in `test` is a 50/50
/// experiment, turned on; returns the `test` environment's server-side SDK key.
async fn create_experiment_flag(stack: &Stack) -> String {
    let (status, project) = stack
        .api(
            Method::POST,
            "/projects",
            Some(json!({"key": PROJECT, "name": "Shop"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let environment = project["environments"]
        .as_array()
        .and_then(|environments| environments.iter().find(|e| e["key"] == "test"))
        .unwrap_or_else(|| panic!("no test environment in {project}"));
    let sdk_key = environment["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|key| key["kind"] == "server"))
        .and_then(|key| key["secret"].as_str())
        .unwrap_or_else(|| panic!("no server-side SDK key in {environment}"))
        .to_owned();

    let (status, flag) = stack
        .api(
            Method::POST,
            &format!("/projects/{PROJECT}/flags"),
            Some(json!({"key": FLAG, "name": "Checkout redesign"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{flag}");
    let experiment = json!({"kind": "experiment", "variations": [
        {"variation": 0, "weight": 50_000},
        {"variation": 1, "weight": 50_000},
    ]});
    let (status, patched) = stack
        .api(
            Method::PATCH,
            &format!("/projects/{PROJECT}/flags/{FLAG}"),
            Some(json!({"environmentKey": "test", "instructions": [
                {"kind": "updateFallthroughVariationOrRollout", "rollout": experiment},
                {"kind": "turnFlagOn"},
            ]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    sdk_key
}

/// Waits until the gateway's polling payload has the flag on, so the SDK's stream starts
/// with the experiment rather than an older version of the flag.
async fn wait_for_flag_in_gateway(stack: &Stack, sdk_key: &str) {
    let deadline = tokio::time::Instant::now() + FLAG_DEADLINE;
    let client = reqwest::Client::new();
    let url = format!("{}/sdk/latest-all", stack.gateway.url());
    let mut last = String::new();
    loop {
        if let Ok(response) = client
            .get(&url)
            .header("authorization", sdk_key)
            .send()
            .await
        {
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let flag = &body["flags"][FLAG];
            if status == StatusCode::OK && flag["on"] == true {
                return;
            }
            last = format!("{status} {flag}");
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the gateway did not serve {FLAG} turned on within {FLAG_DEADLINE:?}; last: {last}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// What the usage and experiment endpoints must answer, from what the SDK reported.
struct Expected {
    /// Contexts (each evaluated once) per variation.
    evaluated: BTreeMap<i64, u64>,
    /// Contexts that tracked the metric, per the variation they were evaluated into.
    tracked: BTreeMap<i64, u64>,
}

impl Expected {
    fn from_variations(variations: &[i64]) -> Expected {
        let mut expected = Expected {
            evaluated: BTreeMap::new(),
            tracked: BTreeMap::new(),
        };
        for (i, variation) in variations.iter().enumerate() {
            *expected.evaluated.entry(*variation).or_default() += 1;
            if i < TRACKED {
                *expected.tracked.entry(*variation).or_default() += 1;
            }
        }
        expected
    }

    /// `{"usageTotals": [...], "experiment": [...]}` in the shape [`project`] gives.
    fn answers(&self) -> Value {
        let totals: Vec<Value> = self
            .evaluated
            .iter()
            .map(|(variation, count)| json!({"variation": variation, "count": count}))
            .collect();
        let experiment: Vec<Value> = self
            .evaluated
            .iter()
            .map(|(variation, units)| {
                let conversions = self.tracked.get(variation).copied().unwrap_or_default();
                let conversions_f64 = conversions as f64;
                json!({
                    "variation": variation,
                    "units": units,
                    "conversions": conversions,
                    "valueSum": METRIC_VALUE * conversions_f64,
                    "valueSumSquares": METRIC_VALUE * METRIC_VALUE * conversions_f64,
                })
            })
            .collect();
        json!({"usageTotals": totals, "experiment": experiment})
    }
}

/// The usage totals and the experiment statistics of the metric, reduced to what the
/// scenario checks: variation and count; variation, units, conversions and sums (rows of
/// variations nobody was exposed to left out).
fn project(usage: &Value, experiment: &Value) -> Value {
    let totals: Vec<Value> = usage["totals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|total| json!({"variation": total["variation"], "count": total["count"]}))
        .collect();
    let statistics: Vec<Value> = experiment["variations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|row| row["units"] != 0 || row["conversions"] != 0)
        .map(|row| {
            json!({
                "variation": row["variation"],
                "units": row["units"],
                "conversions": row["conversions"],
                "valueSum": row["valueSum"].as_f64(),
                "valueSumSquares": row["valueSumSquares"].as_f64(),
            })
        })
        .collect();
    json!({"usageTotals": totals, "experiment": statistics})
}

/// Polls config-api until the worker has processed every record the events topic holds
/// and the answers are the expected ones. Gives up when the deadline passes, or as soon
/// as everything was processed and the answers still differ, with a message showing both
/// and what the topic holds.
async fn wait_for_counts(
    stack: &Stack,
    worker_pool: &PgPool,
    topic: &str,
    expected: &Expected,
) -> Result<(), String> {
    let expected = expected.answers();
    let flag = format!("/projects/{PROJECT}/environments/test/flags/{FLAG}");
    let deadline = tokio::time::Instant::now() + COUNTS_DEADLINE;
    loop {
        // In this order: what the worker committed is read after what the topic holds,
        // and the answers after both, so they include at least what `processed` says.
        let records = event_log::read_all(topic, PARTITIONS).await;
        let in_topic = event_log::end_offsets(&records);
        let processed = processed_offsets(worker_pool, topic).await;
        let usage = answer(stack, &format!("{flag}/usage?granularity=day")).await;
        let experiment = answer(stack, &format!("{flag}/experiment?metric={METRIC}")).await;
        let seen = project(&usage, &experiment);
        let all_processed = processed == in_topic;
        if all_processed && seen == expected {
            return Ok(());
        }
        if all_processed || tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "the analytics do not match what the Python SDK did\n\
                 expected: {expected}\n\
                 last seen: {seen}\n\
                 usage: {usage}\n\
                 experiment: {experiment}\n\
                 {topic} holds: {}\n\
                 end offsets per partition in the topic: {in_topic:?}, committed by the worker: {processed:?}",
                event_log::tally(&records, FLAG, METRIC)
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A GET on config-api that must answer 200.
async fn answer(stack: &Stack, path: &str) -> Value {
    let (status, body) = stack.api(Method::GET, path, None).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    body
}

/// Per partition of `topic`, the offset the worker will read next: its stored offsets
/// (`analytics.consumer_offsets`, see `docs/analytics-worker.md`, "Exactly once, in
/// effect"), written in the transaction of the aggregates they cover.
async fn processed_offsets(worker_pool: &PgPool, topic: &str) -> BTreeMap<i32, i64> {
    sqlx::query_as::<_, (i32, i64)>(
        "SELECT partition, next_offset FROM analytics.consumer_offsets WHERE topic = $1",
    )
    .bind(topic)
    .fetch_all(worker_pool)
    .await
    .unwrap_or_else(|error| panic!("failed to read the worker's offsets: {error}"))
    .into_iter()
    .collect()
}

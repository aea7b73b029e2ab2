//! The worker binary, SIGKILLed in the middle of a stream of 100,000 events and restarted,
//! ends with exact aggregates, and the restarted process resumes at the offsets stored in
//! PostgreSQL (it reads only what was not committed).

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use sqlx::PgPool;
use tokio::process::{Child, Command};
use vexil_proto::analytics::v1::{FlagUsageRequest, Granularity, VariationCount};

use crate::support::*;

const ENVIRONMENT: &str = "6f1c1f5e-0000-4000-8000-000000000002";
const EVENTS: usize = 100_000;

fn stream(now: i64) -> Vec<Record> {
    (0..EVENTS)
        .map(|i| {
            let json = if i % 10 == 0 {
                format!(r#"{{"kind":"custom","creationDate":{now},"key":"click","contextKeys":{{"user":"u{}"}},"metricValue":2}}"#, i % 97)
            } else {
                format!(
                    r#"{{"kind":"summary","startDate":{now},"endDate":{now},"features":{{"f":{{"counters":[{{"variation":{},"version":1,"count":1}}]}}}}}}"#,
                    i % 3
                )
            };
            envelope(ENVIRONMENT, &format!("payload-{}", i / 50), (i % 50) as u32, &json)
        })
        .collect()
}

/// A worker process and where it listens.
struct Process {
    child: Child,
    http: SocketAddr,
    grpc: SocketAddr,
}

/// A port free right now (the worker binds it a moment later).
fn free_address() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

fn spawn_worker(pool: &PgPool, topics: &Topics, group_id: &str) -> Process {
    let (http, grpc) = (free_address(), free_address());
    let database = pool.connect_options().get_database().unwrap().to_owned();
    let server = required_var("DATABASE_URL");
    let server = &server[..server.rfind('/').unwrap()];
    let child = Command::new(env!("CARGO_BIN_EXE_vexil-analytics-worker"))
        .env_clear()
        // No vexil.toml there: the configuration is exactly these variables.
        .current_dir(std::env::temp_dir())
        .env("VEXIL_DATABASE__URL", format!("{server}/{database}"))
        .env("VEXIL_KAFKA__BROKERS", brokers())
        .env("VEXIL_KAFKA__TOPIC", &topics.events)
        .env("VEXIL_KAFKA__DEAD_LETTER_TOPIC", &topics.dead_letters)
        .env("VEXIL_KAFKA__GROUP_ID", group_id)
        .env("VEXIL_KAFKA__BATCH_MAX_RECORDS", "2000")
        .env("VEXIL_KAFKA__BATCH_LINGER", "20")
        .env("VEXIL_HTTP__LISTEN", http.to_string())
        .env("VEXIL_GRPC__LISTEN", grpc.to_string())
        .env("VEXIL_SERVICE_TOKEN", SERVICE_TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("starting the analytics-worker binary");
    Process { child, http, grpc }
}

#[sqlx::test]
async fn a_worker_killed_mid_stream_and_restarted_counts_every_event_once(pool: PgPool) {
    let topics = create_topics("crash").await;
    let group_id = unique_name("crash-group");
    let now = now_ms();
    let records = stream(now);

    // The whole stream is on the broker before the worker starts. Expected numbers come
    // from what the broker holds (`read_back`): the worker's promise is to count every
    // record of the log exactly once, whatever the broker kept.
    produce(&producer(), &topics.events, &records).await;
    let (stored, total) = read_back(&topics.events).await;
    assert!(
        stored.len() as f64 >= EVENTS as f64 * 0.95,
        "the broker holds only {} of {EVENTS} acknowledged records",
        stored.len()
    );
    if stored.len() < EVENTS || total != EVENTS as i64 {
        eprintln!(
            "note: the broker holds {total} records with {} distinct events of the {EVENTS} it acknowledged (tansu's in-memory engine)",
            stored.len()
        );
    }

    let mut first = spawn_worker(&pool, &topics, &group_id);
    // Kill it once some batches, but not all, are committed.
    eventually(
        "a first committed batch",
        Duration::from_secs(120),
        || async { (processed(&pool, &topics.events).await > 0).then_some(()) },
    )
    .await;
    first.child.start_kill().unwrap(); // SIGKILL
    first.child.wait().await.unwrap();
    let at_kill = processed(&pool, &topics.events).await;
    assert!(at_kill < total, "the worker finished before it was killed");

    // Restarted in a fresh consumer group, which has no Kafka-committed offsets: only the
    // offsets in PostgreSQL can make it skip what was committed.
    let mut second = spawn_worker(&pool, &topics, &unique_name("crash-group-restarted"));
    let mut last_seen = 0;
    for _ in 0..600 {
        last_seen = processed(&pool, &topics.events).await;
        if last_seen == total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        last_seen, total,
        "the restarted worker processed {last_seen} of the {total} records the broker holds"
    );

    let counts: Vec<(i32, i64)> = sqlx::query_as(
        "SELECT variation, SUM(count)::int8 FROM analytics.evaluations GROUP BY variation ORDER BY variation",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let summaries = |variation: usize| {
        stored
            .iter()
            .filter(|i| *i % 10 != 0 && *i % 3 == variation)
            .count() as i64
    };
    assert_eq!(
        counts,
        [(0, summaries(0)), (1, summaries(1)), (2, summaries(2))]
    );
    let expected_clicks = stored.iter().filter(|i| *i % 10 == 0).count() as i64;
    let (clicks, value_sum): (i64, f64) =
        sqlx::query_as("SELECT SUM(count)::int8, SUM(value_sum) FROM analytics.custom_events")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (clicks, value_sum),
        (expected_clicks, expected_clicks as f64 * 2.0)
    );

    // The same numbers through gRPC, from the restarted process.
    let mut client = client(second.grpc, Some(SERVICE_TOKEN)).await;
    let usage = client
        .flag_usage(FlagUsageRequest {
            environment_id: ENVIRONMENT.into(),
            flag_key: "f".into(),
            from_unix_ms: now - 86_400_000,
            to_unix_ms: now + 86_400_000,
            granularity: Granularity::Day as i32,
        })
        .await
        .unwrap()
        .into_inner();
    let expected: Vec<VariationCount> = (0..3)
        .map(|variation| VariationCount {
            variation: Some(variation),
            count: summaries(variation as usize) as u64,
        })
        .collect();
    assert_eq!(usage.totals, expected);

    // The restarted process counted exactly the records after the stored offsets, each
    // once or as a repeat of an event already counted (the log may hold a record twice, see
    // `read_back`). Records before them may be read and passed over ("skipped"): tansu
    // answers a fetch from inside a record batch with the next batch, and the worker then
    // re-reads the partition from its beginning (`consumer/mod.rs`).
    let metrics = reqwest::get(format!("http://{}/metrics", second.http))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let outcome = |name: &str| -> i64 {
        let prefix = format!(
            r#"vexil_analytics_worker_events_total{{service="analytics-worker",outcome="{name}"}} "#
        );
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .map_or(0, |value| value.trim().parse().unwrap())
    };
    assert_eq!(
        outcome("counted") + outcome("duplicate"),
        total - at_kill,
        "{metrics}"
    );
    second.child.start_kill().unwrap();
    second.child.wait().await.unwrap();
}

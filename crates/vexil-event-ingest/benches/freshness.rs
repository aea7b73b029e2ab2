//! Freshness: how long after event-ingest's 202 an evaluation shows up in config-api's
//! usage API. config-api, event-ingest and analytics-worker run in this process (the worker
//! on its own scratch database, 50 ms batch linger as in `tests/stack.rs`) on a unique
//! topic of the tansu broker at `VEXIL_TEST_KAFKA_BROKERS`. Summary events are posted at a
//! steady 200 requests/s for 20 s; every 20th request also counts one evaluation of its own
//! probe flag, and from its 202 the usage of that flag is polled every 20 ms until the
//! evaluation is counted.
//!
//! `DATABASE_URL=... VEXIL_TEST_KAFKA_BROKERS=... cargo bench -p vexil-event-ingest --bench freshness`

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use support::{millis, percentile, Rng};

const REQUESTS_PER_SECOND: u64 = 200;
const DURATION: Duration = Duration::from_secs(20);
/// Every `PROBE_EVERY`th request carries a probe (10 per second).
const PROBE_EVERY: u64 = 20;
const PROBES: usize = (REQUESTS_PER_SECOND * 20 / PROBE_EVERY) as usize;
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// A probe not counted within this is reported as missing.
const PROBE_DEADLINE: Duration = Duration::from_secs(30);
const PARTITIONS: i32 = 6;

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(support::with_scratch_databases(
        &["config_api", "worker"],
        |pools| async move {
            let events = support::unique("events").replace('_', "-");
            let dead_letters = support::unique("dead-letters").replace('_', "-");
            let topics =
                support::Topics::create(&[(&events, PARTITIONS), (&dead_letters, 1)]).await?;
            let outcome = bench(pools, &events, &dead_letters).await;
            topics.delete().await;
            outcome
        },
    ))
}

async fn bench(pools: Vec<sqlx::PgPool>, topic: &str, dead_letters: &str) -> anyhow::Result<()> {
    let brokers = support::brokers()?;
    let shutdown = CancellationToken::new();

    let worker_http = TcpListener::bind("127.0.0.1:0").await?;
    let worker_grpc = TcpListener::bind("127.0.0.1:0").await?;
    let (worker_http_address, worker_grpc_address) =
        (worker_http.local_addr()?, worker_grpc.local_addr()?);
    let mut worker_config = vexil_analytics_worker::config::Config::default();
    worker_config.kafka.brokers = brokers.clone();
    worker_config.kafka.topic = topic.to_owned();
    worker_config.kafka.dead_letter_topic = dead_letters.to_owned();
    worker_config.kafka.group_id = format!("{topic}-worker");
    worker_config.kafka.batch_linger = Duration::from_millis(50);
    worker_config.service_token = Some(support::SERVICE_TOKEN.into());
    // `VEXIL_BENCH_WORKER_FETCH_WAIT_MS=50` shortens the worker consumer's fetch long poll
    // (librdkafka's `fetch.wait.max.ms`, 500 ms by default), to see its share.
    if let Ok(wait) = std::env::var("VEXIL_BENCH_WORKER_FETCH_WAIT_MS") {
        println!("worker fetch.wait.max.ms = {wait}");
        worker_config
            .kafka
            .properties
            .insert("fetch.wait.max.ms".into(), wait);
    }
    let worker = tokio::spawn(vexil_analytics_worker::serve(
        worker_config,
        pools[1].clone(),
        worker_http,
        worker_grpc,
        shutdown.clone(),
    ));

    let config_api = support::ConfigApi::start(pools[0].clone(), Some(worker_grpc_address)).await?;
    let mut flags: Vec<String> = (0..support::FLAGS).map(|i| format!("flag-{i}")).collect();
    flags.extend((0..PROBES).map(|i| format!("probe-{i}")));
    let (_environment_id, sdk_key) = config_api.create_environment(&flags).await?;

    let ingest_listener = TcpListener::bind("127.0.0.1:0").await?;
    let ingest_address = ingest_listener.local_addr()?;
    let mut ingest_config = vexil_event_ingest::config::Config {
        service_token: Some(support::SERVICE_TOKEN.into()),
        ..Default::default()
    };
    ingest_config.config_api.grpc_url = format!("http://{}", config_api.grpc);
    ingest_config.kafka.brokers = brokers;
    ingest_config.kafka.topic = topic.to_owned();
    ingest_config.kafka.create_topic = false;
    ingest_config.validate()?;
    let ingest = tokio::spawn(vexil_event_ingest::run(
        ingest_config,
        ingest_listener,
        shutdown.clone(),
    ));

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    support::wait_until_ready(&client, worker_http_address, "analytics-worker").await?;
    support::wait_until_ready(&client, ingest_address, "event-ingest").await?;

    let outcome = run_load(
        &client,
        &config_api.base,
        &format!("http://{ingest_address}/bulk"),
        &sdk_key,
    )
    .await;

    shutdown.cancel();
    for (name, task) in [("event-ingest", ingest), ("analytics-worker", worker)] {
        match tokio::time::timeout(Duration::from_secs(30), task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => eprintln!("{name} failed: {error:#}"),
            Ok(Err(error)) => eprintln!("{name} panicked: {error}"),
            Err(_) => eprintln!("{name} did not stop within 30 s"),
        }
    }
    config_api.stop().await?;
    outcome
}

async fn run_load(
    client: &reqwest::Client,
    api_base: &str,
    ingest_url: &str,
    sdk_key: &str,
) -> anyhow::Result<()> {
    // One warm-up request: resolves the credential and connects the producer.
    let status = post(client, ingest_url, sdk_key, body(&mut Rng::new(1), None)).await?;
    if status != reqwest::StatusCode::ACCEPTED {
        bail!("the warm-up request got {status}");
    }
    println!(
        "{REQUESTS_PER_SECOND} summary requests/s for {} s, a probe every {PROBE_EVERY}th request, usage polled every {} ms; load average {}",
        DURATION.as_secs(),
        POLL_INTERVAL.as_millis(),
        support::load_average()
    );
    let failures = Arc::new(AtomicU64::new(0));
    let accepted_latencies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut probes = Vec::new();
    let mut loads = Vec::new();
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / REQUESTS_PER_SECOND));
    let total = REQUESTS_PER_SECOND * DURATION.as_secs();
    let started = Instant::now();
    for request in 0..total {
        ticker.tick().await;
        let probe =
            (request % PROBE_EVERY == PROBE_EVERY / 2).then_some((request / PROBE_EVERY) as usize);
        let payload = body(
            &mut Rng::new(request + 2),
            probe.map(|i| format!("probe-{i}")),
        );
        let (client, url, key) = (client.clone(), ingest_url.to_owned(), sdk_key.to_owned());
        let (failures, accepted_latencies) = (failures.clone(), accepted_latencies.clone());
        let api_base = api_base.to_owned();
        let task = tokio::spawn(async move {
            let sent = Instant::now();
            match post(&client, &url, &key, payload).await {
                Ok(reqwest::StatusCode::ACCEPTED) => {}
                Ok(status) => {
                    eprintln!("ingest answered {status}");
                    failures.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
                Err(error) => {
                    eprintln!("request failed: {error}");
                    failures.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
            }
            let accepted = Instant::now();
            accepted_latencies
                .lock()
                .expect("not poisoned")
                .push(accepted - sent);
            let probe = probe?;
            Some(wait_until_counted(&client, &api_base, probe, accepted).await)
        });
        if probe.is_some() {
            probes.push(task);
        } else {
            loads.push(task);
        }
    }
    let sending = started.elapsed();
    for task in loads {
        task.await?;
    }
    let mut freshness = Vec::new();
    let mut missing = 0;
    for task in probes {
        match task.await? {
            Some(Ok(latency)) => freshness.push(latency),
            Some(Err(error)) => {
                eprintln!("{error:#}");
                missing += 1;
            }
            None => missing += 1,
        }
    }
    let mut accepted = accepted_latencies.lock().expect("not poisoned").clone();
    println!(
        "sent {total} requests in {:.1} s ({:.0}/s), {} failed; load average {}",
        sending.as_secs_f64(),
        total as f64 / sending.as_secs_f64(),
        failures.load(Ordering::Relaxed),
        support::load_average()
    );
    println!(
        "202 latency: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        millis(percentile(&mut accepted, 0.50)),
        millis(percentile(&mut accepted, 0.99)),
        millis(percentile(&mut accepted, 1.0)),
    );
    if freshness.is_empty() {
        bail!("no probe was counted");
    }
    println!(
        "freshness (202 -> counted in usage API), {} probes, {missing} missing: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms, min {:.0} ms",
        freshness.len(),
        millis(percentile(&mut freshness, 0.50)),
        millis(percentile(&mut freshness, 0.99)),
        millis(percentile(&mut freshness, 1.0)),
        millis(percentile(&mut freshness, 0.0)),
    );
    Ok(())
}

/// A request body: one summary event over three load flags, plus one evaluation of
/// `probe` when given.
fn body(rng: &mut Rng, probe: Option<String>) -> Vec<u8> {
    let now = support::now_unix_ms();
    let flags: Vec<String> = (0..3)
        .map(|_| format!("flag-{}", rng.below(support::FLAGS as u64)))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut summary = support::summary_event(rng, &flags, now);
    if let Some(probe) = probe {
        summary["features"][probe] = json!({
            "default": false,
            "contextKinds": ["user"],
            "counters": [{"variation": 0, "version": 1, "value": true, "count": 1}],
        });
    }
    serde_json::to_vec(&json!([summary])).expect("JSON values serialize")
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    sdk_key: &str,
    body: Vec<u8>,
) -> reqwest::Result<reqwest::StatusCode> {
    Ok(client
        .post(url)
        .header("authorization", sdk_key)
        .header("content-type", "application/json")
        .header("user-agent", "RubyClient/8.3.0")
        .header("x-launchdarkly-event-schema", "4")
        .header(
            "x-launchdarkly-payload-id",
            uuid::Uuid::new_v4().to_string(),
        )
        .body(body)
        .send()
        .await?
        .status())
}

/// Polls `probe-{probe}`'s usage until its one evaluation is counted; the time since
/// `accepted`.
async fn wait_until_counted(
    client: &reqwest::Client,
    api_base: &str,
    probe: usize,
    accepted: Instant,
) -> anyhow::Result<Duration> {
    let url = format!(
        "{api_base}/projects/{}/environments/test/flags/probe-{probe}/usage",
        support::PROJECT
    );
    loop {
        let response = client
            .request(Method::GET, &url)
            .bearer_auth(support::ADMIN_TOKEN)
            .send()
            .await?;
        let status = response.status();
        let usage: Value = response.json().await.context("usage is JSON")?;
        if !status.is_success() {
            bail!("GET {url}: {status} {usage}");
        }
        let counted: u64 = usage["totals"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|total| total["count"].as_u64())
            .sum();
        if counted >= 1 {
            return Ok(accepted.elapsed());
        }
        if accepted.elapsed() > PROBE_DEADLINE {
            bail!("probe-{probe} was not counted within {PROBE_DEADLINE:?}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

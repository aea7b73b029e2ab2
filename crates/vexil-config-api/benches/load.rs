//! Load scenarios for config-api against a real PostgreSQL (not a timed test):
//!
//! 1. `updates`: 50 concurrent writers PATCH flags in one environment, back to back
//!    (capacity) and each at a fixed pace of 10 and 20 PATCHes/s; latency p50/p99.
//! 2. `watch`: 100 FlagSync.Watch streams on that environment; for sequential updates, the
//!    time from the PATCH response (the change is committed by then) to delivery on the
//!    last of the 100 streams, and from sending the PATCH to that delivery.
//!
//! Run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p vexil-config-api --bench load`
//! It creates and drops a scratch database on that server. Numbers go to BENCHMARKS.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection};
use tokio::net::TcpListener;
use tokio::sync::Barrier;
use tokio_util::sync::CancellationToken;
use tonic::metadata::MetadataValue;
use tonic::Request;
use vexil_config_api::config::Config;
use vexil_proto::config::v1::flag_sync_client::FlagSyncClient;
use vexil_proto::config::v1::watch_event::Event;
use vexil_proto::config::v1::WatchRequest;

const WRITERS: usize = 50;
const UPDATES_PER_WRITER: usize = 40;
const WATCHERS: usize = 100;
const WATCHED_UPDATES: usize = 200;
const ADMIN: &str = "vexil-api-bench-admin";
const SERVICE: &str = "bench-service-token";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let server_url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let base = server_url
        .rsplit_once('/')
        .map_or(server_url.as_str(), |(base, _)| base)
        .to_owned();
    let database = format!("vexil_bench_{}", std::process::id());
    let mut admin_connection = PgConnection::connect(&format!("{base}/postgres")).await?;
    sqlx::query(&format!("CREATE DATABASE {database}"))
        .execute(&mut admin_connection)
        .await?;
    let result = scenarios(&format!("{base}/{database}")).await;
    sqlx::query(&format!("DROP DATABASE {database} WITH (FORCE)"))
        .execute(&mut admin_connection)
        .await?;
    result
}

async fn scenarios(url: &str) -> anyhow::Result<()> {
    let pool = PgPoolOptions::new()
        .max_connections(60)
        .connect(url)
        .await?;
    let http = TcpListener::bind("127.0.0.1:0").await?;
    let grpc = TcpListener::bind("127.0.0.1:0").await?;
    let (http_address, grpc_address) = (http.local_addr()?, grpc.local_addr()?);
    let config = Config {
        admin_token: Some(ADMIN.into()),
        service_token: Some(SERVICE.into()),
        ..Config::default()
    };
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(vexil_config_api::serve(
        config,
        pool.clone(),
        http,
        grpc,
        shutdown.clone(),
    ));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(WRITERS)
        .build()?;
    let api = Arc::new(Api {
        client,
        base: format!("http://{http_address}/api/v1"),
    });
    tokio::time::sleep(Duration::from_millis(300)).await;

    let project = api
        .send(
            reqwest::Method::POST,
            "/projects",
            json!({"key": "bench", "name": "bench"}),
        )
        .await?;
    for index in 0..WRITERS {
        api.send(
            reqwest::Method::POST,
            "/projects/bench/flags",
            json!({"key": format!("flag-{index}"), "name": "f"}),
        )
        .await?;
    }

    // Scenario 1: concurrent writers, first as fast as they can (capacity), then each at
    // a fixed pace (latency under a given load; measured from each request's scheduled
    // start, so a slow response delays nothing it should have measured).
    // The first round also opens the connection pools (a PostgreSQL backend per
    // connection): printed, but a running server has that behind it.
    println!("warm-up round:");
    writers(&api, None).await?;
    println!("measured rounds:");
    writers(&api, None).await?;
    for per_writer_per_second in [10, 20] {
        writers(
            &api,
            Some(Duration::from_millis(1000 / per_writer_per_second)),
        )
        .await?;
    }

    // Scenario 2: commit to delivery on 100 watchers.
    let environment_id = project["environments"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (delivered_sender, mut delivered) =
        tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
    let ready = Arc::new(Barrier::new(WATCHERS + 1));
    for _ in 0..WATCHERS {
        let (environment_id, sender, ready) = (
            environment_id.clone(),
            delivered_sender.clone(),
            ready.clone(),
        );
        tokio::spawn(async move {
            let channel = tonic::transport::Channel::from_shared(format!("http://{grpc_address}"))?
                .connect()
                .await?;
            let token: MetadataValue<_> = format!("Bearer {SERVICE}").parse()?;
            let mut client =
                FlagSyncClient::with_interceptor(channel, move |mut request: Request<()>| {
                    request
                        .metadata_mut()
                        .insert("authorization", token.clone());
                    Ok(request)
                });
            let mut stream = client
                .watch(WatchRequest {
                    environment_id,
                    resume_from: Default::default(),
                })
                .await?
                .into_inner();
            while let Some(event) = stream.message().await? {
                match event.event {
                    Some(Event::Synced(_)) => {
                        ready.wait().await;
                    }
                    Some(Event::FlagUpsert(_)) => {
                        let _ = sender.send((event.sequence, Instant::now()));
                    }
                    _ => {}
                }
            }
            anyhow::Ok(())
        });
    }
    ready.wait().await;
    let mut after_response = Vec::new();
    let mut after_request = Vec::new();
    for update in 0..WATCHED_UPDATES {
        let kind = if update % 2 == 0 {
            "turnFlagOn"
        } else {
            "turnFlagOff"
        };
        let sent = Instant::now();
        let flag = api.patch("flag-0", kind).await?;
        let responded = Instant::now();
        let _ = flag;
        let mut last = sent;
        for _ in 0..WATCHERS {
            let (_, at) = tokio::time::timeout(Duration::from_secs(10), delivered.recv())
                .await?
                .expect("watchers stay connected");
            last = last.max(at);
        }
        after_response.push(last.saturating_duration_since(responded));
        after_request.push(last - sent);
    }
    println!(
        "watch: {WATCHED_UPDATES} updates x {WATCHERS} streams: last delivery after the PATCH response p50 {:.2} ms, p99 {:.2} ms; after sending the PATCH p50 {:.2} ms, p99 {:.2} ms",
        millis(percentile(&mut after_response, 0.50)),
        millis(percentile(&mut after_response, 0.99)),
        millis(percentile(&mut after_request, 0.50)),
        millis(percentile(&mut after_request, 0.99)),
    );
    shutdown.cancel();
    server.await??;
    pool.close().await;
    Ok(())
}

/// `WRITERS` tasks, each PATCHing its own flag `UPDATES_PER_WRITER` times, back to back
/// or one every `pace`; prints throughput and latency percentiles.
async fn writers(api: &Arc<Api>, pace: Option<Duration>) -> anyhow::Result<()> {
    let barrier = Arc::new(Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    let started = Instant::now();
    for index in 0..WRITERS {
        let (api, barrier) = (api.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            // Paced writers start spread over one period, like independent clients.
            let first = Instant::now()
                + pace.map_or(Duration::ZERO, |pace| pace * index as u32 / WRITERS as u32);
            let mut latencies = Vec::with_capacity(UPDATES_PER_WRITER);
            for update in 0..UPDATES_PER_WRITER {
                let kind = if update % 2 == 0 {
                    "turnFlagOn"
                } else {
                    "turnFlagOff"
                };
                let scheduled = match pace {
                    Some(pace) => {
                        let at = first + pace * update as u32;
                        tokio::time::sleep_until(at.into()).await;
                        at
                    }
                    None => Instant::now(),
                };
                api.patch(&format!("flag-{index}"), kind).await?;
                latencies.push(scheduled.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed();
    let mode = match pace {
        None => "back to back".to_owned(),
        Some(pace) => format!("each every {} ms", pace.as_millis()),
    };
    println!(
        "updates ({mode}): {} PATCHes by {WRITERS} concurrent writers in {:.2} s ({:.0}/s): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        millis(percentile(&mut latencies, 0.50)),
        millis(percentile(&mut latencies, 0.99)),
        millis(percentile(&mut latencies, 1.0)),
    );
    Ok(())
}

struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let response = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        anyhow::ensure!(status.is_success(), "{path}: {status} {body}");
        Ok(body)
    }

    async fn patch(&self, flag: &str, kind: &str) -> anyhow::Result<Value> {
        self.send(
            reqwest::Method::PATCH,
            &format!("/projects/bench/flags/{flag}"),
            json!({"environmentKey": "test", "instructions": [{"kind": kind}]}),
        )
        .await
    }
}

fn percentile(values: &mut [Duration], quantile: f64) -> Duration {
    values.sort();
    let index = ((values.len() as f64 * quantile).ceil() as usize).clamp(1, values.len()) - 1;
    values[index]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

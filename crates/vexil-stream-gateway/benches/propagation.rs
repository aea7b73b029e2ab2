//! Propagation: N `/all` streams open on the gateway (N = 1,000, then 10,000), a flag
//! change written through config-api's REST API, and the time from sending the PATCH
//! until each stream has received its `patch` event: p50/p99/max over every
//! (stream, change) pair. Also prints the gateway's RSS with the streams open and idle.
//!
//! Run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p vexil-stream-gateway --bench propagation`
//! It needs PostgreSQL (a scratch database is created and dropped) and Redis at
//! `VEXIL_TEST_REDIS_URL` (a unique prefix, deleted afterwards). The gateway runs as its
//! own process; config-api and the stream clients share this one. Numbers go to
//! BENCHMARKS.md.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use tokio::sync::{mpsc, Semaphore};

use support::sse::{EventName, SseConnection};
use support::{load_average, millis, percentile, Stack, CHANGED_FLAG};

/// Stream counts, measured in turn on the same gateway (the second adds streams).
const STREAM_COUNTS: [usize; 2] = [1_000, 10_000];
/// Flag changes per stream count, one at a time.
const CHANGES: usize = 20;
/// Streams being opened at once (the listen backlog is finite).
const OPENING_AT_ONCE: usize = 200;
/// Pause between changes, so each starts from an idle gateway.
const PAUSE: Duration = Duration::from_millis(250);
/// How long a change may take to reach every stream before the bench fails.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let largest = STREAM_COUNTS[STREAM_COUNTS.len() - 1] as u64;
    let limit = support::raise_open_file_limit(largest + 1_000)?;
    println!("open-file limit {limit} (this process and the gateway it starts)");
    support::with_scratch_database(|url| async move { scenario(&url).await }).await
}

/// What a stream saw after its first `put`.
enum Delivery {
    /// The changed flag's `patch`.
    Patch(Instant),
    /// A fresh `put` (the stream fell behind and was resynchronised): it also has the change.
    Put(Instant),
    Ended(String),
}

async fn scenario(database_url: &str) -> anyhow::Result<()> {
    let stack = Stack::start(database_url).await?;
    let gateway = &stack.gateway;
    println!(
        "gateway pid {} on {}, log {}",
        gateway.pid,
        gateway.address,
        gateway.log.display()
    );
    println!(
        "gateway RSS idle, no streams: {:.1} MiB",
        mebibytes(gateway.rss_bytes()?)
    );
    let (deliveries, mut delivered) = mpsc::unbounded_channel();
    let opening = Arc::new(Semaphore::new(OPENING_AT_ONCE));
    let mut is_on = true; // Every benchmark flag starts on.
    let mut open = 0;
    for count in STREAM_COUNTS {
        let started = Instant::now();
        open_streams(
            count - open,
            gateway.address,
            &stack.sdk_key,
            &opening,
            &deliveries,
        )
        .await?;
        open = count;
        println!(
            "{count} streams open, each with its put, in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
        println!(
            "gateway with {count} idle streams: RSS {:.1} MiB, {} open files",
            mebibytes(gateway.rss_bytes()?),
            gateway.open_files()?
        );

        println!("load average before the changes: {}", load_average());
        let mut latencies = Vec::with_capacity(count * CHANGES);
        let mut responses = Vec::with_capacity(CHANGES);
        let mut resynchronised = 0;
        let cpu_before = (gateway.cpu_seconds()?, support::own_cpu_seconds()?);
        for _ in 0..CHANGES {
            is_on = !is_on;
            let sent = Instant::now();
            stack.config_api.toggle(CHANGED_FLAG, is_on).await?;
            responses.push(sent.elapsed());
            let deadline = tokio::time::Instant::now() + DELIVERY_DEADLINE;
            for received in 0..count {
                let delivery = tokio::time::timeout_at(deadline, delivered.recv())
                    .await
                    .with_context(|| {
                        format!("only {received} of {count} streams got the change in time")
                    })?
                    .context("every stream task ended")?;
                match delivery {
                    Delivery::Patch(at) => latencies.push(at - sent),
                    Delivery::Put(at) => {
                        resynchronised += 1;
                        latencies.push(at - sent);
                    }
                    Delivery::Ended(why) => bail!("a stream ended: {why}"),
                }
            }
            tokio::time::sleep(PAUSE).await;
        }
        // The pauses between changes are idle time for both processes.
        let gateway_cpu = gateway.cpu_seconds()? - cpu_before.0;
        let bench_cpu = support::own_cpu_seconds()? - cpu_before.1;
        println!(
            "CPU per change: gateway {:.1} ms ({:.1} µs per stream), this process (config-api and the {count} stream clients) {:.1} ms",
            gateway_cpu * 1000.0 / CHANGES as f64,
            gateway_cpu * 1e6 / (CHANGES * count) as f64,
            bench_cpu * 1000.0 / CHANGES as f64,
        );
        println!(
            "propagation to {count} streams, {CHANGES} changes ({} deliveries, {resynchronised} by a fresh put): \
             p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; PATCH response p50 {:.2} ms",
            latencies.len(),
            millis(percentile(&mut latencies, 0.50)),
            millis(percentile(&mut latencies, 0.99)),
            millis(percentile(&mut latencies, 1.0)),
            millis(percentile(&mut responses, 0.50)),
        );
        println!("load average after: {}", load_average());
    }
    drop(stack.gateway);
    stack.config_api.stop().await
}

/// Opens `count` streams, `OPENING_AT_ONCE` at a time, and returns once each has its
/// first `put`. Each then reports what it receives to `deliveries`.
async fn open_streams(
    count: usize,
    address: SocketAddr,
    sdk_key: &str,
    opening: &Arc<Semaphore>,
    deliveries: &mpsc::UnboundedSender<Delivery>,
) -> anyhow::Result<()> {
    let (ready, mut readied) = mpsc::channel::<anyhow::Result<()>>(count.max(1));
    for _ in 0..count {
        let (sdk_key, opening, ready, deliveries) = (
            sdk_key.to_owned(),
            opening.clone(),
            ready.clone(),
            deliveries.clone(),
        );
        tokio::spawn(async move {
            let permit = opening.acquire_owned().await.expect("never closed");
            let opened = async {
                let mut connection = SseConnection::open(address, &sdk_key).await?;
                match connection.next_event().await? {
                    Some(event) if event.name == EventName::Put => {}
                    other => bail!("expected the first put, got {other:?}"),
                }
                connection.shrink();
                anyhow::Ok(connection)
            }
            .await;
            drop(permit);
            let mut connection = match opened {
                Ok(connection) => {
                    let _ = ready.send(Ok(())).await;
                    connection
                }
                Err(error) => {
                    let _ = ready.send(Err(error)).await;
                    return;
                }
            };
            let path = format!("\"path\":\"/flags/{CHANGED_FLAG}\"");
            loop {
                let delivery = match connection.next_event().await {
                    Ok(Some(event)) => match event.name {
                        EventName::Patch if contains(&event.data, path.as_bytes()) => {
                            Delivery::Patch(Instant::now())
                        }
                        EventName::Put => Delivery::Put(Instant::now()),
                        _ => continue,
                    },
                    Ok(None) => Delivery::Ended("closed by the gateway".into()),
                    Err(error) => Delivery::Ended(format!("{error:#}")),
                };
                let is_end = matches!(delivery, Delivery::Ended(_));
                if deliveries.send(delivery).is_err() || is_end {
                    return;
                }
            }
        });
    }
    for _ in 0..count {
        readied
            .recv()
            .await
            .context("stream tasks ended")?
            .context("opening a stream")?;
    }
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn mebibytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

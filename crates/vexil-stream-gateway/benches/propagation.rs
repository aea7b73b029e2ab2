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
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use tokio::sync::{mpsc, Notify, Semaphore};

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

/// Where the stream tasks record when the change reached them: a timestamp slot per
/// stream and a counter, so a delivery costs the client two atomic stores and no message
/// or timer (the clients share the 2 cores with the gateway).
struct Deliveries {
    /// What the timestamps count from.
    base: Instant,
    /// Nanoseconds after `base` at which each stream last received the changed flag.
    at: Vec<AtomicU64>,
    /// Streams that received the current change.
    received: AtomicUsize,
    /// How many streams the current change must reach.
    expected: AtomicUsize,
    /// Received as a fresh `put` (the stream fell behind and was resynchronised).
    resynchronised: AtomicUsize,
    all_received: Notify,
    /// Why a stream ended, if one did.
    ended: Mutex<Option<String>>,
}

impl Deliveries {
    fn record(&self, stream: usize, is_put: bool) {
        let nanos = self.base.elapsed().as_nanos() as u64;
        self.at[stream].store(nanos, Ordering::Relaxed);
        if is_put {
            self.resynchronised.fetch_add(1, Ordering::Relaxed);
        }
        if self.received.fetch_add(1, Ordering::AcqRel) + 1 == self.expected.load(Ordering::Acquire)
        {
            self.all_received.notify_one();
        }
    }

    fn end(&self, why: String) {
        *self.ended.lock().expect("not poisoned") = Some(why);
        self.all_received.notify_one();
    }
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
    let largest = STREAM_COUNTS[STREAM_COUNTS.len() - 1];
    let deliveries = Arc::new(Deliveries {
        base: Instant::now(),
        at: (0..largest).map(|_| AtomicU64::new(0)).collect(),
        received: AtomicUsize::new(0),
        expected: AtomicUsize::new(usize::MAX),
        resynchronised: AtomicUsize::new(0),
        all_received: Notify::new(),
        ended: Mutex::new(None),
    });
    let opening = Arc::new(Semaphore::new(OPENING_AT_ONCE));
    let clients = ClientRuntime::from_env()?;
    println!("stream clients run on {}", clients.describe);
    let mut is_on = true; // Every benchmark flag starts on.
    let mut open = 0;
    for count in STREAM_COUNTS {
        let started = Instant::now();
        open_streams(
            open..count,
            gateway.address,
            &stack.sdk_key,
            &opening,
            &deliveries,
            &clients.handle,
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
        deliveries.resynchronised.store(0, Ordering::Relaxed);
        let cpu_before = (gateway.cpu_seconds()?, support::own_cpu_seconds()?);
        let switches_before = (
            support::context_switches_of(&gateway.pid.to_string())?,
            support::context_switches_of("self")?,
        );
        for _ in 0..CHANGES {
            is_on = !is_on;
            deliveries.received.store(0, Ordering::Release);
            deliveries.expected.store(count, Ordering::Release);
            let sent = Instant::now();
            stack.config_api.toggle(CHANGED_FLAG, is_on).await?;
            responses.push(sent.elapsed());
            tokio::time::timeout(DELIVERY_DEADLINE, deliveries.all_received.notified())
                .await
                .with_context(|| {
                    format!(
                        "only {} of {count} streams got the change in time",
                        deliveries.received.load(Ordering::Acquire)
                    )
                })?;
            if let Some(why) = deliveries.ended.lock().expect("not poisoned").take() {
                bail!("a stream ended: {why}");
            }
            let sent_nanos = (sent - deliveries.base).as_nanos() as u64;
            for at in &deliveries.at[..count] {
                let at = at.load(Ordering::Relaxed);
                latencies.push(Duration::from_nanos(at.saturating_sub(sent_nanos)));
            }
            // Streams beyond `count` do not exist yet; the next round expects more.
            deliveries.expected.store(usize::MAX, Ordering::Release);
            tokio::time::sleep(PAUSE).await;
        }
        // The pauses between changes are idle time for both processes.
        let gateway_cpu = gateway.cpu_seconds()? - cpu_before.0;
        let bench_cpu = support::own_cpu_seconds()? - cpu_before.1;
        let per_change = |(voluntary, involuntary): (u64, u64), before: (u64, u64)| {
            format!(
                "{:.0} waits + {:.0} preemptions",
                (voluntary - before.0) as f64 / CHANGES as f64,
                (involuntary - before.1) as f64 / CHANGES as f64
            )
        };
        println!(
            "context switches per change: gateway {}, this process {}",
            per_change(
                support::context_switches_of(&gateway.pid.to_string())?,
                switches_before.0
            ),
            per_change(support::context_switches_of("self")?, switches_before.1),
        );
        println!(
            "CPU per change: gateway {:.1} ms ({:.1} µs per stream), this process (config-api and the {count} stream clients) {:.1} ms",
            gateway_cpu * 1000.0 / CHANGES as f64,
            gateway_cpu * 1e6 / (CHANGES * count) as f64,
            bench_cpu * 1000.0 / CHANGES as f64,
        );
        println!(
            "propagation to {count} streams, {CHANGES} changes ({} deliveries, {} by a fresh put): \
             p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; PATCH response p50 {:.2} ms",
            latencies.len(),
            deliveries.resynchronised.load(Ordering::Relaxed),
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

/// Opens the streams numbered `streams`, `OPENING_AT_ONCE` at a time, and returns once
/// each has its first `put`. Each then records in `deliveries` when the changed flag
/// reaches it.
async fn open_streams(
    streams: std::ops::Range<usize>,
    address: SocketAddr,
    sdk_key: &str,
    opening: &Arc<Semaphore>,
    deliveries: &Arc<Deliveries>,
    clients: &tokio::runtime::Handle,
) -> anyhow::Result<()> {
    let count = streams.len();
    let (ready, mut readied) = mpsc::channel::<anyhow::Result<()>>(count.max(1));
    for stream in streams {
        let (sdk_key, opening, ready, deliveries) = (
            sdk_key.to_owned(),
            opening.clone(),
            ready.clone(),
            deliveries.clone(),
        );
        clients.spawn(async move {
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
            // The patch's data starts with its path: no need to search the whole flag.
            let path = format!("{{\"path\":\"/flags/{CHANGED_FLAG}\"");
            loop {
                match connection.next_event().await {
                    Ok(Some(event)) => match event.name {
                        EventName::Patch if event.data.starts_with(path.as_bytes()) => {
                            deliveries.record(stream, false)
                        }
                        EventName::Put => deliveries.record(stream, true),
                        _ => {}
                    },
                    Ok(None) => return deliveries.end("closed by the gateway".into()),
                    Err(error) => return deliveries.end(format!("{error:#}")),
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

/// The runtime the stream clients run on. By default the bench's own (shared with
/// config-api); `VEXIL_BENCH_CLIENT_THREADS=N` gives them a runtime of their own with N
/// threads (a current-thread runtime for 1), to see how the clients' scheduling weighs
/// on the latencies they measure.
struct ClientRuntime {
    handle: tokio::runtime::Handle,
    describe: String,
    /// Keeps a runtime of their own alive until the bench ends.
    own: Option<tokio::runtime::Runtime>,
}

impl Drop for ClientRuntime {
    /// Dropped inside the bench's runtime, where a runtime may not block to shut down.
    fn drop(&mut self) {
        if let Some(runtime) = self.own.take() {
            runtime.shutdown_background();
        }
    }
}

impl ClientRuntime {
    fn from_env() -> anyhow::Result<ClientRuntime> {
        let Ok(threads) = std::env::var("VEXIL_BENCH_CLIENT_THREADS") else {
            return Ok(ClientRuntime {
                handle: tokio::runtime::Handle::current(),
                describe: "the bench's runtime, beside config-api".into(),
                own: None,
            });
        };
        let threads: usize = threads
            .parse()
            .context("VEXIL_BENCH_CLIENT_THREADS: a number of threads")?;
        let runtime = if threads == 1 {
            // A current-thread runtime runs only inside `block_on`: one thread parks in it.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let handle = runtime.handle().clone();
            std::thread::spawn(move || runtime.block_on(std::future::pending::<()>()));
            return Ok(ClientRuntime {
                handle,
                describe: "a current-thread runtime of their own".into(),
                own: None,
            });
        } else {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .enable_all()
                .build()?
        };
        Ok(ClientRuntime {
            handle: runtime.handle().clone(),
            describe: format!("a runtime of their own with {threads} threads"),
            own: Some(runtime),
        })
    }
}

fn mebibytes(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

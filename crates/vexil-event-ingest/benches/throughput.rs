//! Ingest throughput: the `vexil-event-ingest` binary as its own process (so its CPU time
//! can be read from `/proc/<pid>/stat`), config-api in this process on a scratch database
//! for credentials, the tansu broker of `VEXIL_TEST_KAFKA_BROKERS`. Concurrent clients post
//! realistic schema-4 payloads (50, 200 and 500 events; plain and gzip) for 10 s each.
//! Then a bare rdkafka producer, configured like ingest's, produces exactly the records
//! ingest made of the same payloads, with the same requests in flight: as fast as it can,
//! then at the rate each ingest row reached.
//!
//! `DATABASE_URL=... VEXIL_TEST_KAFKA_BROKERS=... cargo bench -p vexil-event-ingest --bench throughput`

mod support;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use rdkafka::client::ClientContext;
use rdkafka::config::FromClientConfigAndContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, ProducerContext, ThreadedProducer};
use rdkafka::ClientConfig;
use tokio::sync::Notify;
use vexil_event_ingest::credentials::ResolvedCredential;
use vexil_event_ingest::envelope::Batch;
use vexil_event_ingest::events::{read_analytics, validate_event};
use vexil_event_ingest::records::Records;
use vexil_event_ingest::sdk_request::{SdkRequest, Source};
use vexil_proto::config::v1::CredentialKind;

use support::{cpu_seconds_of, load_average, Rng};

/// Requests in flight at any time, from the HTTP clients and from the bare producer.
const CONCURRENCY: usize = 32;
/// Distinct payloads per size; clients cycle through them.
const BODIES: usize = 32;
const SIZES: [usize; 3] = [50, 200, 500];
const WARM_UP: Duration = Duration::from_secs(2);
const MEASURE: Duration = Duration::from_secs(10);
const PARTITIONS: i32 = 12;
const LINGER_MS: u64 = 5;
const PRODUCE_TIMEOUT_MS: u64 = 5000;

fn main() -> anyhow::Result<()> {
    // `VEXIL_BENCH_CODE_ONLY=validate:100` (or `records:100`) runs only ingest's per-event
    // code, that many passes over the payloads of each size, and needs no services: run
    // it under `valgrind --tool=callgrind` for instruction counts.
    if let Ok(spec) = std::env::var("VEXIL_BENCH_CODE_ONLY") {
        return code_only(&spec);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(support::with_scratch_databases(
        &["config_api"],
        |pools| async move {
            let brokers = support::brokers()?;
            let topic = support::unique("events").replace('_', "-");
            let topics = support::Topics::create(&[(&topic, PARTITIONS)]).await?;
            let outcome = bench(pools[0].clone(), &brokers, &topic).await;
            topics.delete().await;
            outcome
        },
    ))
}

async fn bench(pool: sqlx::PgPool, brokers: &str, topic: &str) -> anyhow::Result<()> {
    let config_api = support::ConfigApi::start(pool, None).await?;
    let flags: Vec<String> = (0..support::FLAGS).map(|i| format!("flag-{i}")).collect();
    let (environment_id, sdk_key) = config_api.create_environment(&flags).await?;
    let ingest = IngestProcess::spawn(config_api.grpc, brokers, topic)?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()?;
    support::wait_until_ready(&client, ingest.address, "event-ingest")
        .await
        .with_context(|| ingest.log_tail())?;
    let tansu = support::tansu_pid(brokers);
    println!(
        "event-ingest pid {}, tansu pid {}, {CONCURRENCY} requests in flight, {} s per scenario",
        ingest.pid,
        tansu.as_deref().unwrap_or("not found"),
        MEASURE.as_secs()
    );
    println!(
        "{:<26} {:>11} {:>9} {:>12} {:>9} {:>9} {:>7}",
        "scenario", "events/s", "cpu s", "events/cpu-s", "tansu s", "client s", "load"
    );

    let now = support::now_unix_ms();
    let mut rows = Vec::new();
    for size in sizes()? {
        let bodies: Vec<Vec<u8>> = (0..BODIES)
            .map(|i| support::analytics_payload(&mut Rng::new((size * 1000 + i) as u64), size, now))
            .collect();
        let mut ingest_rates = Vec::new();
        for gzip in [false, true] {
            let sent: Vec<Bytes> = bodies
                .iter()
                .map(|body| {
                    Bytes::from(if gzip {
                        support::gzip(body)
                    } else {
                        body.clone()
                    })
                })
                .collect();
            let mean_bytes = sent.iter().map(Bytes::len).sum::<usize>() / sent.len();
            let load = load_average();
            let measured = measure(
                || {
                    let (client, url, key, sent) = (
                        client.clone(),
                        ingest.url("/bulk"),
                        sdk_key.clone(),
                        sent.clone(),
                    );
                    move |stop: Arc<AtomicBool>,
                          events: Arc<AtomicU64>,
                          failures: Arc<AtomicU64>| {
                        post_loop(client, url, key, sent, gzip, size, stop, events, failures)
                    }
                },
                &ingest.pid.to_string(),
                tansu.as_deref(),
            )
            .await?;
            let name = format!(
                "ingest {size}/req {} ({} B)",
                if gzip { "gzip" } else { "json" },
                mean_bytes
            );
            measured.print(&name, &load);
            ingest_rates.push(measured);
        }

        let records: Vec<Arc<(Records, OwnedHeaders)>> = bodies
            .iter()
            .enumerate()
            .map(|(i, body)| Arc::new(records_of(body, &environment_id, i)))
            .collect();
        let producer = Arc::new(BareProducer::from_config_and_context(
            &producer_config(brokers),
            BareAcknowledgements,
        )?);
        let bare_at = |pace: Option<Pace>| {
            let (producer, records, topic, tansu) = (
                producer.clone(),
                records.clone(),
                topic.to_owned(),
                tansu.clone(),
            );
            async move {
                let pace = pace.map(Arc::new);
                measure(
                    || {
                        let (producer, records, topic, pace) = (
                            producer.clone(),
                            records.clone(),
                            topic.clone(),
                            pace.clone(),
                        );
                        move |stop: Arc<AtomicBool>,
                              events: Arc<AtomicU64>,
                              failures: Arc<AtomicU64>| {
                            produce_loop(producer, records, topic, pace, stop, events, failures)
                        }
                    },
                    "self",
                    tansu.as_deref(),
                )
                .await
            }
        };
        let load = load_average();
        let bare = bare_at(None).await?;
        bare.print(&format!("bare producer {size}/req"), &load);
        for (gzip, measured) in [false, true].iter().zip(&ingest_rates) {
            let encoding = if *gzip { "gzip" } else { "json" };
            println!(
                "  ratio {size}/req {encoding}: per CPU-second {:.2}, wall {:.2}",
                measured.per_cpu_second() / bare.per_cpu_second(),
                measured.per_second() / bare.per_second()
            );
        }
        // The same records at the rate ingest reached: librdkafka's cost per record falls
        // as its batches grow with the rate, so the unpaced producer above, running
        // faster than ingest can, pays less per record than ingest's producer did.
        for (gzip, measured) in [false, true].iter().zip(&ingest_rates) {
            let encoding = if *gzip { "gzip" } else { "json" };
            let load = load_average();
            let paced = bare_at(Some(Pace::new(measured.per_second(), size))).await?;
            paced.print(&format!("bare at {encoding}'s rate"), &load);
            println!(
                "  ratio {size}/req {encoding}, bare producer at the same rate: per CPU-second {:.2}",
                measured.per_cpu_second() / paced.per_cpu_second(),
            );
        }
        let (validate, envelope) = split_cost(&bodies, &environment_id);
        println!(
            "  ingest code per event, outside HTTP and Kafka ({size}/req): parse + validate {:.0} ns, envelope + key {:.0} ns",
            validate * 1e9,
            envelope * 1e9
        );
        rows.push((size, ingest_rates, bare));
    }
    if let Some(failures) = rows
        .iter()
        .flat_map(|(_, ingest, bare)| ingest.iter().chain(std::iter::once(bare)))
        .map(|measured| measured.failures)
        .find(|failures| *failures > 0)
    {
        println!("WARNING: {failures} requests failed in some scenario; see above");
    }
    drop(ingest);
    config_api.stop().await
}

/// What one scenario did in its measured window.
struct Measured {
    events: u64,
    failures: u64,
    wall: Duration,
    cpu: f64,
    tansu_cpu: Option<f64>,
    client_cpu: f64,
}

impl Measured {
    fn per_second(&self) -> f64 {
        self.events as f64 / self.wall.as_secs_f64()
    }

    fn per_cpu_second(&self) -> f64 {
        self.events as f64 / self.cpu
    }

    fn print(&self, name: &str, load: &str) {
        println!(
            "{name:<26} {:>11.0} {:>9.2} {:>12.0} {:>9} {:>9.2} {load:>7}{}",
            self.per_second(),
            self.cpu,
            self.per_cpu_second(),
            self.tansu_cpu
                .map_or_else(|| "?".to_owned(), |cpu| format!("{cpu:.2}")),
            self.client_cpu,
            if self.failures > 0 {
                format!("  ({} failed)", self.failures)
            } else {
                String::new()
            }
        );
    }
}

/// Runs `CONCURRENCY` copies of the loop `make` builds, warms up, then measures events
/// completed, wall time and the CPU time of `process` (a pid, or `self`), tansu and this
/// process over `MEASURE`.
async fn measure<M, L, F>(make: M, process: &str, tansu: Option<&str>) -> anyhow::Result<Measured>
where
    M: Fn() -> L,
    L: FnOnce(Arc<AtomicBool>, Arc<AtomicU64>, Arc<AtomicU64>) -> F,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let stop = Arc::new(AtomicBool::new(false));
    let events = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| tokio::spawn(make()(stop.clone(), events.clone(), failures.clone())))
        .collect();
    tokio::time::sleep(WARM_UP).await;
    let tansu_cpu = |pid: Option<&str>| pid.and_then(|pid| cpu_seconds_of(pid).ok());
    let (cpu_0, tansu_0, self_0) = (
        cpu_seconds_of(process)?,
        tansu_cpu(tansu),
        cpu_seconds_of("self")?,
    );
    let (events_0, failures_0) = (
        events.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed),
    );
    let started = Instant::now();
    tokio::time::sleep(MEASURE).await;
    let (cpu_1, tansu_1, self_1) = (
        cpu_seconds_of(process)?,
        tansu_cpu(tansu),
        cpu_seconds_of("self")?,
    );
    let (events_1, failures_1) = (
        events.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed),
    );
    let wall = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await?;
    }
    Ok(Measured {
        events: events_1 - events_0,
        failures: failures_1 - failures_0,
        wall,
        cpu: cpu_1 - cpu_0,
        tansu_cpu: tansu_0.zip(tansu_1).map(|(before, after)| after - before),
        client_cpu: self_1 - self_0,
    })
}

#[allow(clippy::too_many_arguments)]
async fn post_loop(
    client: reqwest::Client,
    url: String,
    sdk_key: String,
    bodies: Vec<Bytes>,
    gzip: bool,
    events_per_body: usize,
    stop: Arc<AtomicBool>,
    events: Arc<AtomicU64>,
    failures: Arc<AtomicU64>,
) {
    let mut next = (uuid::Uuid::new_v4().as_u128() % BODIES as u128) as usize;
    while !stop.load(Ordering::Relaxed) {
        let mut request = client
            .post(&url)
            .header("authorization", &sdk_key)
            .header("content-type", "application/json")
            .header("user-agent", "RubyClient/8.3.0")
            .header("x-launchdarkly-event-schema", "4")
            .header(
                "x-launchdarkly-payload-id",
                uuid::Uuid::new_v4().to_string(),
            )
            .body(bodies[next].clone());
        if gzip {
            request = request.header("content-encoding", "gzip");
        }
        next = (next + 1) % bodies.len();
        match request.send().await {
            Ok(response) if response.status() == reqwest::StatusCode::ACCEPTED => {
                events.fetch_add(events_per_body as u64, Ordering::Relaxed);
            }
            Ok(response) => {
                failures.fetch_add(1, Ordering::Relaxed);
                eprintln!("ingest answered {}", response.status());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => {
                failures.fetch_add(1, Ordering::Relaxed);
                eprintln!("request failed: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// A bare rdkafka producer: a `ThreadedProducer` whose delivery callback counts down one
/// counter per request, the cheapest way rdkafka offers to learn that every record of a
/// request was acknowledged.
type BareProducer = ThreadedProducer<BareAcknowledgements>;

struct BareAcknowledgements;

/// One request's records not yet acknowledged, plus one held by the sender until all
/// are enqueued; `failed` when any delivery failed.
struct BarePending {
    remaining: AtomicU64,
    failed: AtomicBool,
    settled: Notify,
}

impl BarePending {
    fn settle_one(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.settled.notify_one();
        }
    }
}

impl ClientContext for BareAcknowledgements {}

impl ProducerContext for BareAcknowledgements {
    type DeliveryOpaque = Arc<BarePending>;

    fn delivery(&self, delivery: &DeliveryResult<'_>, pending: Arc<BarePending>) {
        if delivery.is_err() {
            pending.failed.store(true, Ordering::Release);
        }
        pending.settle_one();
    }
}

/// The payload sizes to measure: `SIZES`, or those `VEXIL_BENCH_SIZES` lists (`50,200`).
fn sizes() -> anyhow::Result<Vec<usize>> {
    match std::env::var("VEXIL_BENCH_SIZES") {
        Ok(list) => list
            .split(',')
            .map(|size| size.trim().parse())
            .collect::<Result<_, _>>()
            .context("VEXIL_BENCH_SIZES: comma-separated numbers of events per request"),
        Err(_) => Ok(SIZES.to_vec()),
    }
}

/// A schedule of request starts at a fixed rate, shared by the producing tasks: the
/// n-th request may start `n` intervals after the schedule's start.
struct Pace {
    started: tokio::time::Instant,
    interval: Duration,
    tickets: AtomicU64,
}

impl Pace {
    fn new(events_per_second: f64, events_per_request: usize) -> Pace {
        Pace {
            started: tokio::time::Instant::now(),
            // A row that accepted nothing still gives a rate (one event a second).
            interval: Duration::from_secs_f64(
                events_per_request as f64 / events_per_second.max(1.0),
            ),
            tickets: AtomicU64::new(0),
        }
    }

    async fn wait_turn(&self) {
        let ticket = self.tickets.fetch_add(1, Ordering::Relaxed);
        let turn = self.interval.mul_f64(ticket as f64);
        tokio::time::sleep_until(self.started + turn).await;
    }
}

/// As ingest produces: a request's records are all enqueued, then awaited together. With
/// `pace`, requests start no faster than it allows.
async fn produce_loop(
    producer: Arc<BareProducer>,
    bodies: Vec<Arc<(Records, OwnedHeaders)>>,
    topic: String,
    pace: Option<Arc<Pace>>,
    stop: Arc<AtomicBool>,
    events: Arc<AtomicU64>,
    failures: Arc<AtomicU64>,
) {
    let mut next = (uuid::Uuid::new_v4().as_u128() % BODIES as u128) as usize;
    while !stop.load(Ordering::Relaxed) {
        if let Some(pace) = &pace {
            pace.wait_turn().await;
        }
        let body = bodies[next].clone();
        next = (next + 1) % bodies.len();
        let (records, headers) = &*body;
        let timestamp = support::now_unix_ms();
        let pending = Arc::new(BarePending {
            remaining: AtomicU64::new(1),
            failed: AtomicBool::new(false),
            settled: Notify::new(),
        });
        for record in records.iter() {
            loop {
                pending.remaining.fetch_add(1, Ordering::AcqRel);
                let outgoing = BaseRecord::with_opaque_to(&topic, pending.clone())
                    .key(record.key)
                    .payload(record.value)
                    .headers(headers.clone())
                    .timestamp(timestamp);
                let Err((error, _unsent)) = producer.send(outgoing) else {
                    break;
                };
                pending.remaining.fetch_sub(1, Ordering::AcqRel);
                if let KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull) = error {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                } else {
                    eprintln!("bare producer: {error}");
                    failures.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
        pending.settle_one();
        pending.settled.notified().await;
        if pending.failed.load(Ordering::Acquire) {
            failures.fetch_add(1, Ordering::Relaxed);
        } else {
            events.fetch_add(records.len() as u64, Ordering::Relaxed);
        }
    }
}

/// `VEXIL_BENCH_CODE_ONLY=<validate|records>:<passes>`: per-event code only, a fixed
/// number of passes, so that instruction counts can be compared between builds.
fn code_only(spec: &str) -> anyhow::Result<()> {
    let (what, passes) = spec
        .split_once(':')
        .context("VEXIL_BENCH_CODE_ONLY is <validate|records>:<passes>")?;
    let passes: usize = passes.parse()?;
    let now = support::now_unix_ms();
    for size in sizes()? {
        let bodies: Vec<Vec<u8>> = (0..BODIES)
            .map(|i| support::analytics_payload(&mut Rng::new((size * 1000 + i) as u64), size, now))
            .collect();
        let started = Instant::now();
        let mut events = 0;
        for _ in 0..passes {
            for (index, body) in bodies.iter().enumerate() {
                events += match what {
                    "validate" => validated(body),
                    "records" => records_of(body, "3f2c1a9e-8d4b-4c6f-9a1e-5b7d2c8e0f13", index)
                        .0
                        .len(),
                    other => anyhow::bail!("unknown VEXIL_BENCH_CODE_ONLY part {other:?}"),
                };
            }
        }
        println!(
            "{what} {size}/req: {events} events, {:.0} ns per event",
            started.elapsed().as_secs_f64() * 1e9 / events.max(1) as f64
        );
    }
    Ok(())
}

/// How many of `body`'s events ingest's own code splits out and accepts.
fn validated(body: &[u8]) -> usize {
    let mut accepted = 0;
    read_analytics(std::hint::black_box(body), |_, event| {
        accepted += usize::from(validate_event(event).is_ok());
    })
    .expect("JSON arrays");
    accepted
}

/// Seconds per event of ingest's own per-event code, timed in this process over about a
/// second each: splitting and validating the events, then also building their records.
fn split_cost(bodies: &[Vec<u8>], environment_id: &str) -> (f64, f64) {
    let time = |work: &dyn Fn(&[u8], usize) -> usize| {
        let started = Instant::now();
        let mut events = 0;
        while started.elapsed() < Duration::from_secs(1) {
            for (index, body) in bodies.iter().enumerate() {
                events += std::hint::black_box(work(body, index));
            }
        }
        started.elapsed().as_secs_f64() / events as f64
    };
    let validate = time(&|body, _| validated(body));
    let with_records = time(&|body, index| records_of(body, environment_id, index).0.len());
    (validate, with_records - validate)
}

/// The records ingest makes of `body`, built with ingest's own code.
fn records_of(body: &[u8], environment_id: &str, index: usize) -> (Records, OwnedHeaders) {
    let credential = ResolvedCredential {
        environment_id: environment_id.to_owned(),
        project_key: support::PROJECT.to_owned(),
        environment_key: "test".to_owned(),
        kind: CredentialKind::ServerSdkKey,
    };
    let request = SdkRequest {
        payload_id: format!("8c1f2e7a-4b3d-4e9a-9f00-{index:012}"),
        is_payload_id_generated: false,
        user_agent: "RubyClient/8.3.0".to_owned(),
        wrapper: String::new(),
        tags: String::new(),
        event_schema: 4,
        traceparent: None,
        tracestate: None,
    };
    let batch = Batch::new(
        &credential,
        &request,
        Source::Server,
        support::now_unix_ms(),
    );
    // As ingest sorts a body (`ingest.rs`): buffers sized from the body, events read,
    // checked and turned into records in one pass.
    let events = body.len() / 160 + 1;
    let mut records = Records::with_capacity(events, body.len() + events * batch.record_len(""));
    read_analytics(body, |i, event| {
        let valid = validate_event(event).expect("the bench's events are valid");
        batch.push_record(&mut records, i, event.json, &valid);
    })
    .expect("the bench's payloads are JSON arrays");
    let mut headers = OwnedHeaders::new_with_capacity(3);
    for header in batch.headers().iter() {
        headers = headers.insert(Header {
            key: &header.name,
            value: Some(&header.value[..]),
        });
    }
    (records, headers)
}

/// Ingest's producer settings (`vexil_queue::kafka`'s producer, with ingest's defaults).
fn producer_config(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("client.id", "vexil-ingest-bench-bare")
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("partitioner", "consistent")
        .set("compression.type", "lz4")
        .set("linger.ms", LINGER_MS.to_string())
        .set("message.timeout.ms", PRODUCE_TIMEOUT_MS.to_string())
        .set("request.timeout.ms", PRODUCE_TIMEOUT_MS.to_string());
    config
}

/// The `vexil-event-ingest` binary as a child process, configured through `VEXIL_*`
/// variables; stopped with SIGTERM on drop.
struct IngestProcess {
    address: std::net::SocketAddr,
    pid: u32,
    log: std::path::PathBuf,
    child: Child,
}

impl IngestProcess {
    fn spawn(
        grpc: std::net::SocketAddr,
        brokers: &str,
        topic: &str,
    ) -> anyhow::Result<IngestProcess> {
        let address = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let log =
            std::env::temp_dir().join(format!("vexil-ingest-bench-{}.log", std::process::id()));
        let binary = env!("CARGO_BIN_EXE_vexil-event-ingest");
        // `VEXIL_BENCH_INGEST_WRAPPER="perf record -g"` runs ingest under a profiler.
        let mut command = match std::env::var("VEXIL_BENCH_INGEST_WRAPPER") {
            Ok(wrapper) if !wrapper.trim().is_empty() => {
                let mut words = wrapper.split_whitespace();
                let mut command = Command::new(words.next().expect("a non-empty wrapper"));
                command.args(words).arg(binary);
                command
            }
            _ => Command::new(binary),
        };
        // Ingest refuses unknown `VEXIL_*` keys, so the bench's own must not reach it.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("VEXIL_") {
                command.env_remove(name);
            }
        }
        let child = command
            .current_dir(std::env::temp_dir())
            .env("VEXIL_HTTP__LISTEN", address.to_string())
            .env("VEXIL_CONFIG_API__GRPC_URL", format!("http://{grpc}"))
            .env("VEXIL_SERVICE_TOKEN", support::SERVICE_TOKEN)
            .env("VEXIL_KAFKA__BROKERS", brokers)
            .env("VEXIL_KAFKA__TOPIC", topic)
            .env("VEXIL_KAFKA__CREATE_TOPIC", "false")
            .env("VEXIL_KAFKA__LINGER", LINGER_MS.to_string())
            .env(
                "VEXIL_KAFKA__PRODUCE_TIMEOUT",
                PRODUCE_TIMEOUT_MS.to_string(),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("starting the vexil-event-ingest binary")?;
        Ok(IngestProcess {
            address,
            pid: child.id(),
            log,
            child,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        format!(
            "event-ingest's log ({}) ends:\n{}",
            self.log.display(),
            lines[lines.len().saturating_sub(10)..].join("\n")
        )
    }
}

impl Drop for IngestProcess {
    /// SIGTERM (so a profiler wrapping it writes its output), SIGKILL after 30 s.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

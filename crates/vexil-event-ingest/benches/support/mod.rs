//! What the event-pipeline benchmarks share: scratch PostgreSQL databases and Kafka
//! topics (removed again whatever the outcome), config-api in-process, LaunchDarkly
//! schema-4 payloads, and small measuring helpers.

#![allow(dead_code)] // Each bench binary uses its own part of this module.

use std::future::Future;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, ensure, Context as _};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::ClientConfig;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const ADMIN_TOKEN: &str = "vexil-ingest-bench-admin";
pub const SERVICE_TOKEN: &str = "vexil-ingest-bench-service";
pub const PROJECT: &str = "bench";
/// The flags summaries and feature events name (`flag-0` ...).
pub const FLAGS: usize = 20;

/// `VEXIL_TEST_KAFKA_BROKERS`, as `scripts/test-env` exports it.
pub fn brokers() -> anyhow::Result<String> {
    std::env::var("VEXIL_TEST_KAFKA_BROKERS")
        .context("VEXIL_TEST_KAFKA_BROKERS is not set: run `eval \"$(scripts/test-env)\"` first")
}

/// A name no other run uses, for databases (`_`) and topics (`-`).
pub fn unique(role: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() % 1_000_000_000);
    format!("vexil_ingest_bench_{}_{nanos}_{role}", std::process::id())
}

/// Creates scratch databases named by `roles` on the server of `DATABASE_URL`, runs
/// `scenario` with a pool on each, and drops them again whatever the outcome.
pub async fn with_scratch_databases<F, Fut>(roles: &[&str], scenario: F) -> anyhow::Result<()>
where
    F: FnOnce(Vec<PgPool>) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let server_url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let base = server_url
        .rsplit_once('/')
        .map_or(server_url.as_str(), |(base, _)| base)
        .to_owned();
    let mut admin = PgConnection::connect(&format!("{base}/postgres"))
        .await
        .with_context(|| format!("connecting to PostgreSQL at {base} (DATABASE_URL)"))?;
    let names: Vec<String> = roles.iter().map(|role| unique(role)).collect();
    let mut pools = Vec::new();
    let mut result = Ok(());
    for name in &names {
        if let Err(error) = sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
        {
            result = Err(error.into());
            break;
        }
        match sqlx::postgres::PgPoolOptions::new()
            .max_connections(10)
            .connect(&format!("{base}/{name}"))
            .await
        {
            Ok(pool) => pools.push(pool),
            Err(error) => {
                result = Err(error.into());
                break;
            }
        }
    }
    if result.is_ok() {
        result = scenario(pools.clone()).await;
    }
    for pool in pools {
        pool.close().await;
    }
    for name in &names {
        let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        if let Err(error) = sqlx::query(&drop).execute(&mut admin).await {
            eprintln!("cleanup: failed to drop database {name}: {error}");
        }
    }
    result
}

/// Topics created on `VEXIL_TEST_KAFKA_BROKERS`; [`Topics::delete`] removes them.
pub struct Topics {
    names: Vec<String>,
    admin: AdminClient<DefaultClientContext>,
}

impl Topics {
    /// Creates `(name, partitions)` topics.
    pub async fn create(topics: &[(&str, i32)]) -> anyhow::Result<Topics> {
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", brokers()?)
            .create()?;
        let new: Vec<NewTopic> = topics
            .iter()
            .map(|(name, partitions)| NewTopic::new(name, *partitions, TopicReplication::Fixed(1)))
            .collect();
        for result in admin.create_topics(&new, &admin_options()).await? {
            if let Err((name, code)) = result {
                bail!("the broker refused to create topic {name}: {code}");
            }
        }
        Ok(Topics {
            names: topics.iter().map(|(name, _)| (*name).to_owned()).collect(),
            admin,
        })
    }

    /// Best effort: a failure is printed, not raised.
    pub async fn delete(self) {
        let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        match self.admin.delete_topics(&names, &admin_options()).await {
            Ok(results) => {
                for (name, code) in results.into_iter().filter_map(Result::err) {
                    eprintln!("cleanup: failed to delete topic {name}: {code}");
                }
            }
            Err(error) => eprintln!("cleanup: failed to delete topics {names:?}: {error}"),
        }
    }
}

fn admin_options() -> AdminOptions {
    AdminOptions::new().operation_timeout(Some(Duration::from_secs(20)))
}

/// config-api serving in this process.
pub struct ConfigApi {
    pub grpc: SocketAddr,
    pub base: String,
    client: reqwest::Client,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl ConfigApi {
    /// Starts config-api on `pool`; `analytics_grpc` is analytics-worker's gRPC address,
    /// when the usage endpoints are needed.
    pub async fn start(
        pool: PgPool,
        analytics_grpc: Option<SocketAddr>,
    ) -> anyhow::Result<ConfigApi> {
        let http = TcpListener::bind("127.0.0.1:0").await?;
        let grpc = TcpListener::bind("127.0.0.1:0").await?;
        let (http_address, grpc_address) = (http.local_addr()?, grpc.local_addr()?);
        let mut config = vexil_config_api::config::Config {
            admin_token: Some(ADMIN_TOKEN.into()),
            service_token: Some(SERVICE_TOKEN.into()),
            ..Default::default()
        };
        if let Some(address) = analytics_grpc {
            config.analytics.grpc_url = format!("http://{address}");
        }
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(vexil_config_api::serve(
            config,
            pool,
            http,
            grpc,
            shutdown.clone(),
        ));
        let client = reqwest::Client::new();
        wait_until_ready(&client, http_address, "config-api").await?;
        Ok(ConfigApi {
            grpc: grpc_address,
            base: format!("http://{http_address}/api/v1"),
            client,
            shutdown,
            task,
        })
    }

    /// Stops config-api and waits for it.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        (&mut self.task).await?
    }

    /// Sends a request as the admin; fails unless it succeeds.
    pub async fn admin(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        let body: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)?
        };
        ensure!(status.is_success(), "{path}: {status} {body}");
        Ok(body)
    }

    /// Creates the bench project and the flags `flag_keys`; returns the `test`
    /// environment's id and server-side SDK key.
    pub async fn create_environment(
        &self,
        flag_keys: &[String],
    ) -> anyhow::Result<(String, String)> {
        let created = self
            .admin(
                Method::POST,
                "/projects",
                Some(json!({"key": PROJECT, "name": PROJECT})),
            )
            .await?;
        let environment = created["environments"]
            .as_array()
            .and_then(|environments| environments.iter().find(|e| e["key"] == "test"))
            .context("the new project has a `test` environment")?;
        let sdk_key = environment["keys"]
            .as_array()
            .and_then(|keys| keys.iter().find(|key| key["kind"] == "server"))
            .and_then(|key| key["secret"].as_str())
            .context("the `test` environment has a server-side SDK key")?
            .to_owned();
        let environment_id = environment["id"]
            .as_str()
            .context("the environment has an id")?
            .to_owned();
        for key in flag_keys {
            self.admin(
                Method::POST,
                &format!("/projects/{PROJECT}/flags"),
                Some(json!({"key": key, "name": key})),
            )
            .await?;
        }
        Ok((environment_id, sdk_key))
    }
}

impl Drop for ConfigApi {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub async fn wait_until_ready(
    client: &reqwest::Client,
    address: SocketAddr,
    what: &str,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = client
            .get(format!("http://{address}/health/ready"))
            .send()
            .await
        {
            if response.status().is_success() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("{what} did not become ready within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

/// A small deterministic generator (xorshift), so payloads are the same on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// A summary event over `flags`, each with two counters, as server-side SDKs send them.
pub fn summary_event(rng: &mut Rng, flags: &[String], now_ms: i64) -> Value {
    let features: serde_json::Map<String, Value> = flags
        .iter()
        .map(|flag| {
            let version = 3 + rng.below(40);
            (
                flag.clone(),
                json!({
                    "default": false,
                    "contextKinds": ["user"],
                    "counters": [
                        {"variation": 0, "version": version, "value": true, "count": 1 + rng.below(500)},
                        {"variation": 1, "version": version, "value": false, "count": 1 + rng.below(500)},
                    ],
                }),
            )
        })
        .collect();
    json!({
        "kind": "summary",
        "startDate": now_ms - 10_000,
        "endDate": now_ms,
        "features": features,
    })
}

/// A realistic analytics payload of `events` events: one summary (five flags) per 50
/// events, the rest half feature events (full evaluation reason) and half custom events
/// with a `metricValue`, for contexts drawn from 10,000 users.
pub fn analytics_payload(rng: &mut Rng, events: usize, now_ms: i64) -> Vec<u8> {
    let summaries = events.div_ceil(50);
    let mut list = Vec::with_capacity(events);
    for _ in 0..summaries {
        let flags: Vec<String> = (0..5)
            .map(|_| format!("flag-{}", rng.below(FLAGS as u64)))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        list.push(summary_event(rng, &flags, now_ms));
    }
    for index in summaries..events {
        let user = format!(
            "user-{:08x}",
            rng.below(10_000) * 2_654_435_761 % 0xffff_ffff
        );
        let creation = now_ms - rng.below(10_000) as i64;
        if index % 2 == 0 {
            let flag = rng.below(FLAGS as u64);
            let variation = rng.below(2);
            list.push(json!({
                "kind": "feature",
                "creationDate": creation,
                "key": format!("flag-{flag}"),
                "version": 3 + flag,
                "contextKeys": {"user": user},
                "variation": variation,
                "value": variation == 0,
                "default": false,
                "reason": {"kind": "RULE_MATCH", "ruleIndex": 0, "ruleId": "5f2b6a7c-rule"},
            }));
        } else {
            let metric =
                ["checkout-completed", "add-to-cart", "page-load-ms"][rng.below(3) as usize];
            list.push(json!({
                "kind": "custom",
                "creationDate": creation,
                "key": metric,
                "contextKeys": {"user": user},
                "metricValue": (rng.below(100_000) as f64) / 100.0,
            }));
        }
    }
    serde_json::to_vec(&list).expect("JSON values serialize")
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("writing to a Vec");
    encoder.finish().expect("writing to a Vec")
}

fn clock_ticks_per_second() -> anyhow::Result<f64> {
    let output = Command::new("getconf").arg("CLK_TCK").output()?;
    Ok(String::from_utf8(output.stdout)?.trim().parse()?)
}

/// CPU time a process has used so far, user plus system, in seconds (`self` or a pid).
pub fn cpu_seconds_of(process: &str) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{process}/stat"))?;
    // Fields after the parenthesised command name; utime and stime are fields 14, 15.
    let after_name = stat
        .rsplit_once(')')
        .context("a parenthesised command name in /proc/<pid>/stat")?
        .1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    Ok(ticks as f64 / clock_ticks_per_second()?)
}

/// The pid of the tansu broker listening on `brokers`' port, found by its command line,
/// so its CPU time can be reported beside ingest's.
pub fn tansu_pid(brokers: &str) -> Option<String> {
    let port = brokers.split(',').next()?.rsplit(':').next()?.to_owned();
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid = entry.file_name().to_string_lossy().into_owned();
            if !pid.bytes().all(|byte| byte.is_ascii_digit()) {
                return None;
            }
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            (cmdline.contains("tansu") && cmdline.contains(&format!(":{port}"))).then_some(pid)
        })
}

/// The load average over the last minute, to print beside each measured run.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// The value at `quantile` (nearest rank) of `values`, which it sorts.
pub fn percentile(values: &mut [Duration], quantile: f64) -> Duration {
    values.sort_unstable();
    let index = ((values.len() as f64 * quantile).ceil() as usize).clamp(1, values.len()) - 1;
    values[index]
}

pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

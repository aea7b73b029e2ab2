//! What the gateway's load benchmarks share: a scratch PostgreSQL database, config-api
//! in-process, the gateway binary as a separate process (so its RSS and CPU time can be
//! read from `/proc` and the load client does not share its runtime), a unique Redis
//! prefix, a 50-flag environment, and small measuring helpers.

#![allow(dead_code)] // Each bench binary uses its own part of this module.

pub mod sse;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const ADMIN_TOKEN: &str = "vexil-gateway-bench-admin";
pub const SERVICE_TOKEN: &str = "vexil-gateway-bench-service";
pub const PROJECT: &str = "bench";
/// Flags in the benchmark environment, each on with three rules.
pub const FLAGS: usize = 50;
/// The flag the propagation bench turns on and off.
pub const CHANGED_FLAG: &str = "flag-0";

/// Creates a scratch database on the server of `DATABASE_URL`, runs `scenario` with its
/// URL, and drops it again whatever the outcome.
pub async fn with_scratch_database<F, Fut>(scenario: F) -> anyhow::Result<()>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let server_url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let base = server_url
        .rsplit_once('/')
        .map_or(server_url.as_str(), |(base, _)| base)
        .to_owned();
    let database = format!("vexil_gateway_bench_{}", std::process::id());
    let mut admin = PgConnection::connect(&format!("{base}/postgres"))
        .await
        .with_context(|| format!("connecting to PostgreSQL at {base} (DATABASE_URL)"))?;
    sqlx::query(&format!("CREATE DATABASE {database}"))
        .execute(&mut admin)
        .await?;
    let result = scenario(format!("{base}/{database}")).await;
    sqlx::query(&format!("DROP DATABASE {database} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    result
}

/// config-api, the gateway process and the Redis prefix they use, with the benchmark
/// environment loaded. Dropping it stops the gateway and deletes the Redis keys.
pub struct Stack {
    pub config_api: ConfigApi,
    pub gateway: GatewayProcess,
    pub sdk_key: String,
    pub environment_id: String,
    // Declared last: dropped after the gateway is killed, so nothing writes afterwards.
    redis: RedisPrefix,
}

impl Stack {
    /// Starts config-api on `database_url`, creates the 50-flag environment, then starts
    /// the gateway and waits until it is ready.
    pub async fn start(database_url: &str) -> anyhow::Result<Stack> {
        let config_api = ConfigApi::start(database_url).await?;
        let (environment_id, sdk_key) = config_api.create_environment().await?;
        let redis = RedisPrefix::new()?;
        let gateway = GatewayProcess::spawn(config_api.grpc, &redis.prefix)?;
        gateway.wait_until_ready().await?;
        Ok(Stack {
            config_api,
            gateway,
            sdk_key,
            environment_id,
            redis,
        })
    }
}

/// config-api serving in this process.
pub struct ConfigApi {
    pub grpc: SocketAddr,
    base: String,
    client: reqwest::Client,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl ConfigApi {
    async fn start(database_url: &str) -> anyhow::Result<ConfigApi> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(10)
            .connect(database_url)
            .await?;
        let http = TcpListener::bind("127.0.0.1:0").await?;
        let grpc = TcpListener::bind("127.0.0.1:0").await?;
        let (http_address, grpc_address) = (http.local_addr()?, grpc.local_addr()?);
        let config = vexil_config_api::config::Config {
            admin_token: Some(ADMIN_TOKEN.into()),
            service_token: Some(SERVICE_TOKEN.into()),
            ..Default::default()
        };
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
    pub async fn admin(&self, method: Method, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
            .await?;
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

    /// Turns `flag` on or off in the `test` environment.
    pub async fn toggle(&self, flag: &str, is_on: bool) -> anyhow::Result<()> {
        let kind = if is_on { "turnFlagOn" } else { "turnFlagOff" };
        self.admin(
            Method::PATCH,
            &format!("/projects/{PROJECT}/flags/{flag}"),
            json!({"environmentKey": "test", "instructions": [{"kind": kind}]}),
        )
        .await?;
        Ok(())
    }

    /// The benchmark project; its `test` environment gets a 100-key segment and `FLAGS`
    /// boolean flags, each on with three rules (an `endsWith` clause, two `in` clauses, a
    /// segment match). Returns the environment id and its server-side SDK key.
    async fn create_environment(&self) -> anyhow::Result<(String, String)> {
        let created = self
            .admin(
                Method::POST,
                "/projects",
                json!({"key": PROJECT, "name": PROJECT}),
            )
            .await?;
        let environment = created["environments"]
            .as_array()
            .and_then(|environments| {
                environments
                    .iter()
                    .find(|environment| environment["key"] == "test")
            })
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
        let beta: Vec<String> = (0..100).map(|index| format!("beta-user-{index}")).collect();
        self.admin(
            Method::POST,
            &format!("/projects/{PROJECT}/environments/test/segments"),
            json!({"key": "beta", "name": "Beta", "included": beta}),
        )
        .await?;
        for index in 0..FLAGS {
            let key = format!("flag-{index}");
            self.admin(
                Method::POST,
                &format!("/projects/{PROJECT}/flags"),
                json!({"key": key, "name": key}),
            )
            .await?;
            let instructions = json!([
                {"kind": "addRule", "variation": 0, "clauses": [
                    {"attribute": "email", "op": "endsWith", "values": ["@vexil.dev", "@example.com"]}]},
                {"kind": "addRule", "variation": 0, "clauses": [
                    {"attribute": "country", "op": "in", "values": ["NZ", "AU", "GB", "IE"]},
                    {"attribute": "plan", "op": "in", "values": ["pro", "enterprise"]}]},
                {"kind": "addRule", "variation": 0, "clauses": [
                    {"attribute": "", "op": "segmentMatch", "values": ["beta"]}]},
                {"kind": "turnFlagOn"}
            ]);
            self.admin(
                Method::PATCH,
                &format!("/projects/{PROJECT}/flags/{key}"),
                json!({"environmentKey": "test", "instructions": instructions}),
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

/// A unique Redis key prefix on `VEXIL_TEST_REDIS_URL`; its keys are deleted on drop.
pub struct RedisPrefix {
    pub url: String,
    pub prefix: String,
    client: redis::Client,
}

impl RedisPrefix {
    fn new() -> anyhow::Result<RedisPrefix> {
        let url = redis_url();
        let client = redis::Client::open(url.as_str())?;
        let mut connection = client
            .get_connection_with_timeout(Duration::from_secs(2))
            .with_context(|| format!("Redis at VEXIL_TEST_REDIS_URL ({url}) is not reachable"))?;
        let _: () = redis::cmd("PING").query(&mut connection)?;
        Ok(RedisPrefix {
            url,
            prefix: format!("vexil-bench-{}", std::process::id()),
            client,
        })
    }
}

impl Drop for RedisPrefix {
    fn drop(&mut self) {
        if let Ok(mut connection) = self.client.get_connection() {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{}:*", self.prefix))
                .query(&mut connection)
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut connection);
            }
        }
    }
}

fn redis_url() -> String {
    std::env::var("VEXIL_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// The `vexil-stream-gateway` binary running as a child process, configured through
/// `VEXIL_*` variables; killed on drop.
pub struct GatewayProcess {
    pub address: SocketAddr,
    pub pid: u32,
    pub log: PathBuf,
    child: Child,
}

impl GatewayProcess {
    fn spawn(grpc: SocketAddr, redis_prefix: &str) -> anyhow::Result<GatewayProcess> {
        // A free port: bind, read it, release it for the gateway.
        let address = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let log =
            std::env::temp_dir().join(format!("vexil-gateway-bench-{}.log", std::process::id()));
        let binary = env!("CARGO_BIN_EXE_vexil-stream-gateway");
        // `VEXIL_BENCH_GATEWAY_WRAPPER="valgrind --tool=massif"` (or `perf record -g`)
        // runs the gateway under a profiler; its RSS and CPU time are then the profiler's.
        let mut command = match std::env::var("VEXIL_BENCH_GATEWAY_WRAPPER") {
            Ok(wrapper) if !wrapper.trim().is_empty() => {
                let mut words = wrapper.split_whitespace();
                let mut command = Command::new(words.next().expect("a non-empty wrapper"));
                command.args(words).arg(binary);
                command
            }
            _ => Command::new(binary),
        };
        // The gateway reads every `VEXIL_*` variable and refuses unknown keys, so the
        // bench's own (`VEXIL_TEST_REDIS_URL`) must not reach it.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("VEXIL_") {
                command.env_remove(name);
            }
        }
        // Run where no `vexil.toml` is, so the variables alone configure it.
        let child = command
            .current_dir(std::env::temp_dir())
            .env("VEXIL_HTTP__LISTEN", address.to_string())
            .env("VEXIL_CONFIG_API__GRPC_URL", format!("http://{grpc}"))
            .env("VEXIL_SERVICE_TOKEN", SERVICE_TOKEN)
            .env("VEXIL_REDIS__URL", redis_url())
            .env("VEXIL_REDIS__PREFIX", redis_prefix)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("starting the vexil-stream-gateway binary")?;
        Ok(GatewayProcess {
            address,
            pid: child.id(),
            log,
            child,
        })
    }

    async fn wait_until_ready(&self) -> anyhow::Result<()> {
        wait_until_ready(&reqwest::Client::new(), self.address, "the gateway")
            .await
            .with_context(|| {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(10).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                format!(
                    "the gateway's log ({}) ends:\n{}",
                    self.log.display(),
                    tail.join("\n")
                )
            })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Resident memory now (`VmRSS`), in bytes.
    pub fn rss_bytes(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().strip_suffix("kB"))
            .context("VmRSS in /proc/<pid>/status")?
            .trim()
            .parse()?;
        Ok(kib * 1024)
    }

    /// CPU time used so far, user plus system, in seconds.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        cpu_seconds_of(&self.pid.to_string())
    }

    /// Open file descriptors of the gateway (its sockets, mostly).
    pub fn open_files(&self) -> anyhow::Result<usize> {
        Ok(std::fs::read_dir(format!("/proc/{}/fd", self.pid))?.count())
    }
}

impl Drop for GatewayProcess {
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

fn clock_ticks_per_second() -> anyhow::Result<f64> {
    let output = Command::new("getconf").arg("CLK_TCK").output()?;
    Ok(String::from_utf8(output.stdout)?.trim().parse()?)
}

async fn wait_until_ready(
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

/// Raises this process's soft open-file limit to its hard limit (children inherit it),
/// and checks that `needed` descriptors fit.
pub fn raise_open_file_limit(needed: u64) -> anyhow::Result<u64> {
    let (soft, hard) = rlimit::Resource::NOFILE.get()?;
    if soft < hard {
        rlimit::Resource::NOFILE.set(hard, hard)?;
    }
    ensure!(
        hard >= needed,
        "the open-file limit is {hard}, below the {needed} this bench needs: raise it (ulimit -Hn) first"
    );
    Ok(hard)
}

/// CPU time this process has used so far, user plus system, in seconds.
pub fn own_cpu_seconds() -> anyhow::Result<f64> {
    cpu_seconds_of("self")
}

fn cpu_seconds_of(process: &str) -> anyhow::Result<f64> {
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

/// Context switches of every thread of `process` (a pid, or `self`) so far: voluntary
/// (the thread waited) and involuntary (it was preempted).
pub fn context_switches_of(process: &str) -> anyhow::Result<(u64, u64)> {
    let mut total = (0, 0);
    for task in std::fs::read_dir(format!("/proc/{process}/task"))? {
        // A thread may end between the listing and the read.
        let Ok(status) = std::fs::read_to_string(task?.path().join("status")) else {
            continue;
        };
        for line in status.lines() {
            if let Some(count) = line.strip_prefix("voluntary_ctxt_switches:") {
                total.0 += count.trim().parse::<u64>()?;
            } else if let Some(count) = line.strip_prefix("nonvoluntary_ctxt_switches:") {
                total.1 += count.trim().parse::<u64>()?;
            }
        }
    }
    Ok(total)
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

//! The worker binary as its own process, configured only through `VEXIL_*` variables, and
//! what its `/metrics` says: for tests that kill workers (SIGKILL) or run several.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::process::Stdio;

use sqlx::PgPool;
use tokio::process::{Child, Command};

use crate::support::*;

/// A worker process and where it listens.
pub struct Process {
    pub child: Child,
    pub http: SocketAddr,
    pub grpc: SocketAddr,
}

/// A port free right now (the worker binds it a moment later).
fn free_address() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// Starts the worker binary on `pool`'s database, reading `topics` in consumer group
/// `group_id`. Its consumer-lag gauge is renewed every 200 ms, so `held_partitions`
/// follows rebalances quickly.
pub fn spawn_worker(pool: &PgPool, topics: &Topics, group_id: &str) -> Process {
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
        .env("VEXIL_KAFKA__STATISTICS_INTERVAL", "200")
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

impl Process {
    /// The process's `/metrics`, or `None` while it does not answer yet.
    pub async fn metrics(&self) -> Option<String> {
        let response = reqwest::get(format!("http://{}/metrics", self.http))
            .await
            .ok()?;
        response.error_for_status().ok()?.text().await.ok()
    }

    /// The partitions this worker holds: those its consumer-lag gauge has a series for
    /// (the gauge drops a partition when it is revoked).
    pub async fn held_partitions(&self) -> BTreeSet<i32> {
        let Some(metrics) = self.metrics().await else {
            return BTreeSet::new();
        };
        metrics
            .lines()
            .filter_map(|line| line.strip_prefix("vexil_analytics_worker_consumer_lag_records{"))
            .map(|series| {
                let (labels, _) = series.split_once("} ").unwrap();
                labels
                    .split(',')
                    .find_map(|label| label.strip_prefix("partition=\""))
                    .and_then(|quoted| quoted.strip_suffix('"'))
                    .unwrap_or_else(|| panic!("a lag series without a partition: {series}"))
                    .parse()
                    .unwrap()
            })
            .collect()
    }

    /// `vexil_analytics_worker_events_total` for `outcome` (`counted`, `duplicate`, ...),
    /// 0 when the series is absent.
    pub async fn events(&self, outcome: &str) -> i64 {
        let metrics = self.metrics().await.unwrap_or_default();
        let prefix = format!(
            r#"vexil_analytics_worker_events_total{{service="analytics-worker",outcome="{outcome}"}} "#
        );
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .map_or(0, |value| value.trim().parse().unwrap())
    }

    /// SIGTERM, then waits for the process to stop, which must be a success: it writes
    /// what it has read and leaves its consumer group.
    pub async fn terminate(mut self) {
        let pid = self.child.id().unwrap().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = tokio::time::timeout(std::time::Duration::from_secs(60), self.child.wait())
            .await
            .expect("the worker did not stop within 60 s of SIGTERM")
            .unwrap();
        assert!(
            status.success(),
            "the worker exited with {status} after SIGTERM"
        );
    }

    /// SIGKILL, and waits for the process to be gone.
    pub async fn kill(&mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }
}

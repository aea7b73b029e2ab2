//! A broker of this test's own that stops answering (SIGSTOP keeps its in-memory data)
//! and comes back (SIGCONT): requests in between get 503 within the produce timeout,
//! and the same producer takes events again once the broker is back.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use sqlx::PgPool;

use crate::harness::{
    events, ingest_config, unique_topic, ConfigApi, Ingest, TopicReader, DEADLINE,
};

/// A tansu broker on a free loopback port, in memory, stopped when dropped.
struct OwnBroker {
    child: Child,
    address: String,
    _directory: TempDirectory,
}

impl OwnBroker {
    /// Starts `tansu` as `scripts/test-env` does (found via `VEXIL_TEST_TANSU`, else
    /// `$CARGO_HOME/bin/tansu`, else `~/.cargo/bin/tansu`).
    async fn start() -> OwnBroker {
        let binary = tansu_binary();
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let address = format!("127.0.0.1:{port}");
        let directory = TempDirectory::new();
        let url = format!("tcp://{address}");
        // tansu reads these variables and a `.env` in its working directory: neither may
        // leak in from the caller.
        let child = Command::new(&binary)
            .args(["broker", "--cluster-id", "vexil-ingest-test"])
            .args(["--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", "memory://tansu/"])
            .current_dir(&directory.0)
            .env_remove("CLUSTER_ID")
            .env_remove("LISTENER_URL")
            .env_remove("ADVERTISED_LISTENER_URL")
            .env_remove("STORAGE_ENGINE")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while tokio::net::TcpStream::connect(&address).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "tansu did not listen on {address}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        OwnBroker {
            child,
            address,
            _directory: directory,
        }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} {}", self.child.id());
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        // A stopped process must continue before it can handle the kill.
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tansu_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("VEXIL_TEST_TANSU") {
        return PathBuf::from(path);
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    let candidate = cargo_home.map(|home| home.join("bin/tansu"));
    match candidate {
        Some(path) if path.is_file() => path,
        _ => panic!(
            "tansu is not installed: run the tests through scripts/test-env, which installs \
             it into $CARGO_HOME/bin, or set VEXIL_TEST_TANSU to its path"
        ),
    }
}

/// A directory removed when dropped.
struct TempDirectory(PathBuf);

impl TempDirectory {
    fn new() -> TempDirectory {
        let path = std::env::temp_dir().join(unique_topic("tansu"));
        std::fs::create_dir_all(&path).unwrap();
        TempDirectory(path)
    }
}

impl Drop for TempDirectory {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[sqlx::test(migrations = false)]
async fn a_paused_broker_gets_503_and_a_resumed_one_202(pool: PgPool) {
    let broker = OwnBroker::start().await;
    let config_api = ConfigApi::start(pool).await;
    let environment = config_api.project().await;
    let topic = unique_topic("paused");
    let mut config = ingest_config(config_api.grpc, &topic);
    config.kafka.brokers = broker.address.clone();
    config.kafka.produce_timeout = Duration::from_millis(2000);
    let ingest = Ingest::start(config).await;
    let body = json!([events::feature()]);

    let response = ingest.bulk(&environment.sdk_key, "before", &body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);

    broker.signal("-STOP");
    let started = tokio::time::Instant::now();
    let response = ingest.bulk(&environment.sdk_key, "during", &body).await;
    let elapsed = started.elapsed();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    assert!(
        elapsed < Duration::from_secs(5),
        "answered after {elapsed:?}"
    );

    broker.signal("-CONT");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let response = ingest.bulk(&environment.sdk_key, "after", &body).await;
        if response.status() == StatusCode::ACCEPTED {
            break;
        }
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            tokio::time::Instant::now() < deadline,
            "the broker never took events again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Every event answered with 202 is in the topic (the 503 one may be too: a retry of
    // its payload id is de-duplicated downstream).
    let reader = TopicReader::with_brokers(&broker.address, &topic);
    let mut payload_ids = Vec::new();
    while !payload_ids.contains(&"after".to_owned()) {
        payload_ids.extend(
            reader
                .read(1)
                .await
                .into_iter()
                .map(|record| record.envelope.payload_id),
        );
    }
    assert_eq!(payload_ids.first().map(String::as_str), Some("before"));
    ingest.stop().await;
    config_api.stop().await;
}

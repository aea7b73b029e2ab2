//! `vexil up` as a user runs it: the built binary, first with no options at all (SQLite
//! files, the embedded queue and the gateway's copy in memory, all in its data directory),
//! then on the real PostgreSQL, Redis and Kafka of `scripts/test-env`, with the unmodified
//! LaunchDarkly Python SDK pointed at the one SDK URL it prints. Each time it creates the
//! demo, serves it, sees a flip, counts the evaluations, stops cleanly on SIGTERM and starts
//! again from its data directory with everything kept.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::python_sdk::PythonSdk;
use crate::test_env::required_var;

/// Start-up includes migrations, the Kafka topic and the consumer group joining.
const START_DEADLINE: Duration = Duration::from_secs(120);
const CHANGE_DEADLINE: Duration = Duration::from_secs(20);
const COUNTS_DEADLINE: Duration = Duration::from_secs(60);
const STOP_DEADLINE: Duration = Duration::from_secs(40);

/// A running `vexil up` and what its banner said.
struct Up {
    child: Child,
    _stdout: Lines<BufReader<ChildStdout>>,
    api: String,
    sdk: String,
    admin_token: String,
    /// The `test` environment's server-side SDK key.
    sdk_key: String,
}

impl Up {
    /// With a database URL, config-api and the worker keep their data there, events go
    /// through the test Kafka broker and the gateway keeps its persistent copy in the test
    /// Redis; without, everything is embedded in `data_dir` (and memory).
    async fn start(database_url: Option<&str>, data_dir: &Path) -> Up {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vexil"));
        command.args(["up", "--data-dir"]).arg(data_dir).args([
            "--api-listen",
            "127.0.0.1:0",
            "--sdk-listen",
            "127.0.0.1:0",
        ]);
        match database_url {
            Some(database_url) => {
                command
                    // The password-safe way: the database URL from the environment.
                    .env("VEXIL_DATABASE__URL", database_url)
                    .args(["--redis-url", &required_var("VEXIL_TEST_REDIS_URL")])
                    .args(["--kafka-brokers", &required_var("VEXIL_TEST_KAFKA_BROKERS")]);
            }
            None => {
                command
                    .env_remove("VEXIL_DATABASE__URL")
                    .env_remove("VEXIL_REDIS__URL")
                    .env_remove("VEXIL_KAFKA__BROKERS");
            }
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("starting vexil up");
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut banner = Vec::new();
        let read_banner = async {
            while let Some(line) = stdout.next_line().await.unwrap() {
                let done = line == "Stop with Ctrl-C.";
                banner.push(line);
                if done {
                    return true;
                }
            }
            false
        };
        let complete = tokio::time::timeout(START_DEADLINE, read_banner).await;
        assert!(
            matches!(complete, Ok(true)),
            "vexil up printed no complete banner within {START_DEADLINE:?}:\n{}",
            banner.join("\n")
        );
        let banner = banner.join("\n");
        let field = |label: &str| {
            banner
                .lines()
                .find_map(|line| line.trim_start().strip_prefix(label))
                .and_then(|rest| rest.split_whitespace().next())
                .unwrap_or_else(|| panic!("no {label:?} in the banner:\n{banner}"))
                .to_owned()
        };
        let api = field("Admin API").trim_end_matches("/api/v1").to_owned();
        let test_keys = field("test");
        assert_eq!(test_keys, "SDK", "{banner}");
        let sdk_key = banner
            .lines()
            .find(|line| line.trim_start().starts_with("test "))
            .and_then(|line| line.split_whitespace().nth(3))
            .unwrap()
            .to_owned();
        Up {
            api,
            sdk: field("SDK URL"),
            admin_token: field("Admin token"),
            sdk_key,
            child,
            _stdout: stdout,
        }
    }

    async fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .request(method, format!("{}/api/v1{path}", self.api))
            .bearer_auth(&self.admin_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// SIGTERM, then the exit status, which must be success.
    async fn stop(mut self) {
        let pid = self.child.id().unwrap().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = tokio::time::timeout(STOP_DEADLINE, self.child.wait())
            .await
            .expect("vexil up did not stop within the deadline after SIGTERM")
            .unwrap();
        assert!(
            status.success(),
            "vexil up exited with {status} after SIGTERM"
        );
    }
}

/// The URL of the fresh database `#[sqlx::test]` made.
fn database_url(pool: &PgPool) -> String {
    let database = pool.connect_options().get_database().unwrap().to_owned();
    let server = required_var("DATABASE_URL");
    format!("{}/{database}", &server[..server.rfind('/').unwrap()])
}

fn user(key: &str) -> Value {
    json!({"kind": "user", "key": key})
}

#[tokio::test]
async fn a_laptop_runs_everything_in_one_process_with_no_options() {
    let data_dir = tempfile::tempdir().unwrap();
    let up = Up::start(None, data_dir.path()).await;
    walk_through(&up).await;
    restart_keeps_everything(up, None, data_dir.path()).await;
    for kept in [
        "config.db",
        "analytics.db",
        "queue/embedded.vexil.sdk-events.v1",
    ] {
        assert!(
            data_dir.path().join(kept).exists(),
            "{kept} is in the data directory {}",
            data_dir.path().display()
        );
    }
}

#[sqlx::test(migrations = false)]
async fn the_same_process_runs_on_postgres_kafka_and_redis(pool: PgPool) {
    let data_dir = tempfile::tempdir().unwrap();
    let database_url = database_url(&pool);
    let up = Up::start(Some(&database_url), data_dir.path()).await;
    walk_through(&up).await;
    restart_keeps_everything(up, Some(&database_url), data_dir.path()).await;
    assert!(
        !data_dir.path().join("config.db").exists() && !data_dir.path().join("queue").exists(),
        "nothing embedded is used when the servers are given"
    );
}

/// The five-minute walk-through of docs/vexil-up.md: the demo, an SDK evaluating it, a flip
/// reaching the SDK, exact usage counts and `vexil flags stale`. Leaves `new-checkout` off in
/// `test` and the flag `forgotten` created.
async fn walk_through(up: &Up) {
    // The demo project exists, behind the printed admin token.
    let (status, flags) = up
        .api(reqwest::Method::GET, "/projects/demo/flags", None)
        .await;
    assert_eq!(status, 200, "{flags}");
    let mut keys: Vec<&str> = flags["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {flags}"))
        .iter()
        .filter_map(|flag| flag["key"].as_str())
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["banner-message", "new-checkout", "search-page-size"]);
    // A temporary flag nobody evaluates, for `vexil flags stale` below.
    let (status, body) = up
        .api(
            reqwest::Method::POST,
            "/projects/demo/flags",
            Some(json!({"key": "forgotten", "name": "Forgotten", "temporary": true})),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    // An unmodified LaunchDarkly SDK with the one printed URL as base, stream and events URI.
    let mut sdk = PythonSdk::start_streaming(&up.sdk, &up.sdk, &up.sdk_key).await;
    let mut contexts = vec![user("alice")];
    contexts.extend((0..40).map(|i| user(&format!("user-{i}"))));
    let first = sdk.evaluate("new-checkout", &contexts, json!(null)).await;
    assert_eq!(first[0]["value"], true, "alice is targeted: {}", first[0]);
    assert_eq!(first[0]["reason"]["kind"], "TARGET_MATCH");
    assert!(
        first[1..]
            .iter()
            .all(|r| r["reason"]["kind"] == "FALLTHROUGH"),
        "{first:?}"
    );
    let banner = sdk
        .evaluate(
            "banner-message",
            &[json!({"kind": "user", "key": "kiri", "country": "NZ"})],
            json!("?"),
        )
        .await;
    assert_eq!(banner[0]["value"], "Free shipping this week");
    let mut evaluated: BTreeMap<i64, u64> = BTreeMap::new();
    for result in &first {
        *evaluated
            .entry(result["variationIndex"].as_i64().unwrap())
            .or_default() += 1;
    }

    // A flip through the admin API reaches the SDK.
    let (status, body) = up
        .api(
            reqwest::Method::PATCH,
            "/projects/demo/flags/new-checkout",
            Some(json!({"environmentKey": "test", "instructions": [{"kind": "turnFlagOff"}]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let deadline = tokio::time::Instant::now() + CHANGE_DEADLINE;
    loop {
        let alice = sdk
            .evaluate("new-checkout", &contexts[..1], json!(null))
            .await;
        *evaluated
            .entry(alice[0]["variationIndex"].as_i64().unwrap())
            .or_default() += 1;
        if alice[0]["value"] == false && alice[0]["reason"]["kind"] == "OFF" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the SDK still sees {} {CHANGE_DEADLINE:?} after the flip",
            alice[0]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Every evaluation is counted, through event ingest, Kafka and the worker.
    sdk.flush().await;
    let expected: Vec<Value> = evaluated
        .iter()
        .map(|(variation, count)| json!({"variation": variation, "count": count}))
        .collect();
    let deadline = tokio::time::Instant::now() + COUNTS_DEADLINE;
    loop {
        let (status, usage) = up
            .api(
                reqwest::Method::GET,
                "/projects/demo/environments/test/flags/new-checkout/usage?granularity=day",
                None,
            )
            .await;
        let totals: Vec<Value> = usage["totals"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|total| json!({"variation": total["variation"], "count": total["count"]}))
            .collect();
        if status == 200 && totals == expected {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "usage after {COUNTS_DEADLINE:?}: {status} {usage}; expected totals {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // `vexil flags stale` answers from the real worker: the forgotten flag was never
    // evaluated; new-checkout served two variations, so it is not stale.
    let stale = std::process::Command::new(env!("CARGO_BIN_EXE_vexil"))
        .args([
            "flags",
            "stale",
            "--project",
            "demo",
            "--environment",
            "test",
        ])
        .args(["--threshold-days", "0", "--json", "--api-url", &up.api])
        .env("VEXIL_API_TOKEN", &up.admin_token)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&stale.stdout);
    assert!(
        stale.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&stale.stderr)
    );
    let stale: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let verdicts: Vec<(&str, &str)> = stale
        .iter()
        .map(|flag| {
            (
                flag["key"].as_str().unwrap(),
                flag["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(verdicts, [("forgotten", "not_evaluated")], "{stdout}");

    // The driver starts the client with start_wait=0, so the SDK always warns that the wait
    // ran out; anything at ERROR (a refused stream or event post) fails the test.
    let logged = sdk.quit().await;
    let errors: Vec<&String> = logged
        .iter()
        .filter(|line| line.starts_with("ERROR"))
        .collect();
    assert!(errors.is_empty(), "the SDK logged {errors:?}");
}

/// SIGTERM stops it cleanly; a second start on the same backends uses the data directory:
/// the same token and keys, no second demo, the flip and the usage counts kept.
async fn restart_keeps_everything(up: Up, database_url: Option<&str>, data_dir: &Path) {
    let (admin_token, sdk_key) = (up.admin_token.clone(), up.sdk_key.clone());
    let usage_path = "/projects/demo/environments/test/flags/new-checkout/usage?granularity=day";
    let (_, usage) = up.api(reqwest::Method::GET, usage_path, None).await;
    up.stop().await;
    let again = Up::start(database_url, data_dir).await;
    assert_eq!(again.admin_token, admin_token);
    assert_eq!(again.sdk_key, sdk_key);
    let (status, flag) = again
        .api(
            reqwest::Method::GET,
            "/projects/demo/environments/test/flags/new-checkout",
            None,
        )
        .await;
    assert_eq!(status, 200, "{flag}");
    assert_eq!(flag["on"], false, "the flip survived the restart: {flag}");
    let (status, projects) = again.api(reqwest::Method::GET, "/projects", None).await;
    assert_eq!(status, 200, "{projects}");
    assert_eq!(
        projects["items"].as_array().map(Vec::len),
        Some(1),
        "{projects}"
    );
    let (status, usage_again) = again.api(reqwest::Method::GET, usage_path, None).await;
    assert_eq!(status, 200, "{usage_again}");
    assert_eq!(
        usage_again["totals"], usage["totals"],
        "the counts survived the restart"
    );
    again.stop().await;
}

#[test]
fn a_bad_setting_names_the_option_and_exits_2() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_vexil"))
        .args(["up", "--database-url", "mysql://root:secret@db/vexil"])
        .args([
            "--redis-url",
            "redis://127.0.0.1:6379",
            "--kafka-brokers",
            "127.0.0.1:9092",
        ])
        .env_remove("VEXIL_DATABASE__URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "error: --database-url (or VEXIL_DATABASE__URL): must be a URL starting with postgres:// or postgresql://"
    );
}

#[sqlx::test(migrations = false)]
async fn an_unreachable_backend_is_a_failure_with_the_reason(pool: PgPool) {
    // Redis nobody listens on: the gateway cannot persist, but it serves from memory, so
    // the database is what must be reachable. A closed PostgreSQL port stops start-up.
    drop(pool);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_vexil"))
        .args(["up", "--data-dir"])
        .arg(data_dir.path())
        .args(["--api-listen", "127.0.0.1:0", "--sdk-listen", "127.0.0.1:0"])
        .args(["--redis-url", &required_var("VEXIL_TEST_REDIS_URL")])
        .args(["--kafka-brokers", &required_var("VEXIL_TEST_KAFKA_BROKERS")])
        .env(
            "VEXIL_DATABASE__URL",
            format!("postgres://postgres@{closed}/vexil"),
        )
        .output();
    let output = tokio::time::timeout(START_DEADLINE, output)
        .await
        .expect("vexil up did not give up on a closed database port")
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("connecting to PostgreSQL"), "{stderr}");
}

//! `vexil up` is one Prometheus scrape target: the SDK port's `/metrics` holds the series of
//! all four services in one valid OpenMetrics document, the address the banner prints.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// Start-up includes the SQLite migrations and the embedded queue.
const START_DEADLINE: Duration = Duration::from_secs(120);
/// An accepted event reaches the worker through the embedded queue within this.
const METRICS_DEADLINE: Duration = Duration::from_secs(30);

/// The built binary running `vexil up` with no options (everything embedded in the data
/// directory), killed when dropped, and the banner it printed.
struct Up {
    _child: Child,
    _stdout: Lines<BufReader<ChildStdout>>,
    banner: String,
}

impl Up {
    async fn start(data_dir: &Path) -> Up {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vexil"))
            .args(["up", "--data-dir"])
            .arg(data_dir)
            .args(["--api-listen", "127.0.0.1:0", "--sdk-listen", "127.0.0.1:0"])
            .env_remove("VEXIL_DATABASE__URL")
            .env_remove("VEXIL_REDIS__URL")
            .env_remove("VEXIL_KAFKA__BROKERS")
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
        let banner = banner.join("\n");
        assert!(
            matches!(complete, Ok(true)),
            "vexil up printed no complete banner within {START_DEADLINE:?}:\n{banner}"
        );
        Up {
            _child: child,
            _stdout: stdout,
            banner,
        }
    }

    /// The `n`th word after `label` on the banner line that starts with it.
    fn word_after(&self, label: &str, n: usize) -> &str {
        self.banner
            .lines()
            .find_map(|line| line.trim_start().strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().nth(n))
            .unwrap_or_else(|| panic!("no {label:?} in the banner:\n{}", self.banner))
    }
}

#[tokio::test]
async fn the_sdk_port_serves_the_metrics_of_all_four_services() {
    let data_dir = tempfile::tempdir().unwrap();
    let up = Up::start(data_dir.path()).await;
    let sdk = up.word_after("SDK URL", 0);
    let metrics_url = up.word_after("Metrics", 0);
    assert_eq!(metrics_url, format!("{sdk}/metrics"), "{}", up.banner);
    // The `test` line reads `test SDK key <key> mobile key …`.
    let sdk_key = up.word_after("test ", 2);
    let client = reqwest::Client::new();

    let poll = client
        .get(format!("{sdk}/sdk/latest-all"))
        .header("authorization", sdk_key)
        .send()
        .await
        .unwrap();
    assert_eq!(poll.status(), 200);
    let summary = json!([{"kind": "summary", "startDate": 1_718_000_000_000u64,
        "endDate": 1_718_000_005_000u64,
        "features": {"new-checkout": {"default": false, "contextKinds": ["user"],
            "counters": [{"variation": 1, "version": 1, "value": true, "count": 3}]}}}]);
    let posted = client
        .post(format!("{sdk}/bulk"))
        .header("authorization", sdk_key)
        .header("x-launchdarkly-event-schema", "4")
        .json(&summary)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 202);

    // The worker counts the event a moment later; until then its series may be missing.
    let expected = [
        r#"vexil_http_requests_total{service="config-api","#,
        r#"vexil_http_requests_total{service="stream-gateway",method="GET",route="/sdk/latest-all",status="200"} "#,
        r#"vexil_event_ingest_events_accepted_total{service="event-ingest",source="server",kind="summary"} 1"#,
        r#"vexil_analytics_worker_events_total{service="analytics-worker","#,
        r#"vexil_analytics_worker_consumer_lag_records{service="analytics-worker",partition="0"} "#,
    ];
    let deadline = tokio::time::Instant::now() + METRICS_DEADLINE;
    let exposition = loop {
        let response = client.get(metrics_url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
        let exposition = response.text().await.unwrap();
        let missing: Vec<&str> = expected
            .iter()
            .copied()
            .filter(|series| !exposition.lines().any(|line| line.starts_with(series)))
            .collect();
        if missing.is_empty() {
            break exposition;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "after {METRICS_DEADLINE:?}, /metrics lacks {missing:#?}:\n{exposition}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_one_declaration_per_family(&exposition);
}

/// The merged document declares every family once (four registries each declare
/// `vexil_http_requests`), and ends at its only `# EOF`.
#[track_caller]
fn assert_one_declaration_per_family(exposition: &str) {
    assert!(exposition.ends_with("\n# EOF\n"), "{exposition}");
    assert_eq!(
        exposition.matches("# EOF").count(),
        1,
        "one # EOF:\n{exposition}"
    );
    let mut declarations: BTreeMap<&str, usize> = BTreeMap::new();
    for line in exposition.lines() {
        if let Some(declared) = line.strip_prefix("# TYPE ") {
            let family = declared.split(' ').next().unwrap();
            *declarations.entry(family).or_default() += 1;
        }
    }
    assert!(
        declarations.contains_key("vexil_http_requests"),
        "{exposition}"
    );
    let repeated: Vec<_> = declarations.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "families declared more than once: {repeated:?}\n{exposition}"
    );
}

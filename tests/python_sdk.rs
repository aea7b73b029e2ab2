//! Runs the unmodified LaunchDarkly Python server SDK through the stream gateway's driver
//! script (`crates/vexil-stream-gateway/tests/python/ld_client.py`, whose docstring
//! describes the JSON lines spoken here) in streaming mode, sending analytics events.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

use crate::test_env::required_var;

/// The driver script, owned by the gateway's compatibility tests, from the workspace root.
const DRIVER: &str = "crates/vexil-stream-gateway/tests/python/ld_client.py";

/// How long the SDK may take to answer a command. Starting the interpreter and importing
/// the SDK takes about a second, more on a busy 2-core machine.
const ANSWER_DEADLINE: Duration = Duration::from_secs(60);

/// A running SDK; killed when dropped.
pub struct PythonSdk {
    child: Child,
    stdin: ChildStdin,
    answers: mpsc::UnboundedReceiver<Value>,
    logs: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<String>>,
}

impl PythonSdk {
    /// Starts the SDK streaming from `base_uri` and posting events to `events_uri`, and
    /// returns once it initialised (failing the test if it did not).
    pub async fn start_streaming(base_uri: &str, events_uri: &str, sdk_key: &str) -> PythonSdk {
        let python = required_var("VEXIL_TEST_PYTHON");
        let driver = driver();
        let mut child = Command::new(&python)
            .arg(&driver)
            .args(["--mode", "streaming", "--base-uri", base_uri])
            .args(["--events-uri", events_uri, "--sdk-key", sdk_key])
            .args(["--init-timeout", "20"])
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot run VEXIL_TEST_PYTHON ({python}) {}: {error}",
                    driver.display()
                )
            });
        let stdin = child.stdin.take().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let answers = read_answers(child.stdout.take().unwrap(), Arc::clone(&logs));
        let stderr = read_stderr(child.stderr.take().unwrap());
        let mut sdk = PythonSdk {
            child,
            stdin,
            answers,
            logs,
            stderr,
        };
        let started = sdk.answer("started").await;
        assert_eq!(
            started["initialized"],
            true,
            "the Python SDK did not initialise from the gateway: {started}{}",
            sdk.diagnostics()
        );
        sdk
    }

    /// `variation_detail(flag, context, default)` for each context, in order, as
    /// `{"value", "variationIndex", "reason"}`.
    pub async fn evaluate(&mut self, flag: &str, contexts: &[Value], default: Value) -> Vec<Value> {
        let evaluations: Vec<Value> = contexts
            .iter()
            .map(|context| json!({"flag": flag, "context": context, "default": default}))
            .collect();
        self.send(json!({"command": "evaluate", "evaluations": evaluations}))
            .await;
        let answer = self.answer("evaluations").await;
        answer["results"].as_array().unwrap().clone()
    }

    /// `track(event, context, metric_value=metric_value)`.
    pub async fn track(&mut self, event: &str, context: &Value, metric_value: f64) {
        self.send(
            json!({"command": "track", "event": event, "context": context,
                         "metricValue": metric_value}),
        )
        .await;
        self.answer("tracked").await;
    }

    /// Asks the SDK to send the events it holds.
    pub async fn flush(&mut self) {
        self.send(json!({"command": "flush"})).await;
        self.answer("flushed").await;
    }

    /// Closes the client (which flushes its events again), checks the script exits
    /// cleanly and returns the SDK's log lines at WARNING or above.
    pub async fn quit(mut self) -> Vec<String> {
        self.send(json!({"command": "quit"})).await;
        self.answer("closed").await;
        let status = tokio::time::timeout(ANSWER_DEADLINE, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the Python SDK did not exit{}", self.diagnostics()))
            .unwrap();
        assert!(
            status.success(),
            "the Python SDK exited with {status}{}",
            self.diagnostics()
        );
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter(|line| !line.starts_with("INFO "))
            .cloned()
            .collect()
    }

    /// The SDK's log and stderr, for failure messages.
    pub fn diagnostics(&self) -> String {
        format!(
            "\nSDK log:\n  {}\nstderr:\n{}",
            self.logs.lock().unwrap().join("\n  "),
            self.stderr.lock().unwrap()
        )
    }

    async fn send(&mut self, command: Value) {
        let line = format!("{command}\n");
        if let Err(error) = self.stdin.write_all(line.as_bytes()).await {
            panic!(
                "cannot write to the Python SDK: {error}{}",
                self.diagnostics()
            );
        }
        self.stdin.flush().await.unwrap();
    }

    /// The next answer that is not a log line; it must be called `name`.
    async fn answer(&mut self, name: &str) -> Value {
        let answer = match tokio::time::timeout(ANSWER_DEADLINE, self.answers.recv()).await {
            Ok(Some(answer)) => answer,
            Ok(None) => panic!(
                "the Python SDK ended before its {name:?} answer{}",
                self.diagnostics()
            ),
            Err(_) => panic!(
                "no {name:?} answer from the Python SDK within {ANSWER_DEADLINE:?}{}",
                self.diagnostics()
            ),
        };
        assert_eq!(
            answer["event"],
            name,
            "unexpected answer from the Python SDK: {answer}{}",
            self.diagnostics()
        );
        answer
    }
}

/// The driver's path. This file is also compiled into other crates' tests (with `#[path]`),
/// so the workspace root is found from whichever crate's directory is building it.
fn driver() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|directory| directory.join(DRIVER))
        .find(|driver| driver.is_file())
        .unwrap_or_else(|| panic!("{DRIVER} not found above {}", env!("CARGO_MANIFEST_DIR")))
}

/// Reads the script's JSON lines: log lines are collected as `LEVEL message`, every
/// other line is an answer.
fn read_answers(
    stdout: tokio::process::ChildStdout,
    logs: Arc<Mutex<Vec<String>>>,
) -> mpsc::UnboundedReceiver<Value> {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let answer: Value = serde_json::from_str(&line)
                .unwrap_or_else(|_| json!({"event": "unparsable", "line": line}));
            if answer["event"] == "log" {
                let level = answer["level"].as_str().unwrap_or_default();
                let message = answer["message"].as_str().unwrap_or_default();
                logs.lock().unwrap().push(format!("{level} {message}"));
            } else if sender.send(answer).is_err() {
                break;
            }
        }
    });
    receiver
}

fn read_stderr(stderr: tokio::process::ChildStderr) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let collected = Arc::clone(&text);
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut text = collected.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    });
    text
}

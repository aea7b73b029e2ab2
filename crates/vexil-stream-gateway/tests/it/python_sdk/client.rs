//! Runs `tests/python/ld_client.py`, the unmodified LaunchDarkly Python server SDK, and talks
//! to it in JSON lines: commands on its stdin, events on its stdout.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;

/// The driver script, run by the venv interpreter `scripts/test-env` exports.
const DRIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/ld_client.py");

/// How long the SDK may take to answer a command. Starting the interpreter and importing the
/// SDK takes about a second, more on a busy 2-core machine.
const ANSWER_DEADLINE: Duration = Duration::from_secs(60);

/// Returns the value of `name`, failing the test when it is unset or empty: a missing Python
/// SDK is a failure, never a skip (as `tests/test_env.rs` does for the servers).
#[track_caller]
pub fn required_var(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value,
        _ => panic!(
            "{name} is not set: run the tests through scripts/test-env, which installs the \
             LaunchDarkly Python SDK into a venv and exports its interpreter \
             (scripts/test-env cargo test --workspace)"
        ),
    }
}

/// How the SDK gets its data.
pub enum Mode<'a> {
    /// `GET /all` on the gateway.
    Streaming { base_uri: &'a str, sdk_key: &'a str },
    /// `GET /sdk/latest-all` on the gateway, every 30 s (the SDK's minimum).
    Polling { base_uri: &'a str, sdk_key: &'a str },
    /// Daemon mode: the SDK's Redis integration reads `{prefix}:features` and friends.
    DaemonRedis { url: &'a str, prefix: &'a str },
}

/// One evaluation to ask the SDK for.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub flag: String,
    pub context: Value,
    pub default: Value,
}

/// A running SDK; killed when dropped.
pub struct PythonSdk {
    child: Child,
    stdin: ChildStdin,
    events: mpsc::UnboundedReceiver<Value>,
    logs: Arc<Mutex<Vec<Value>>>,
    stderr: Arc<Mutex<String>>,
}

impl PythonSdk {
    /// Starts the SDK and returns once it reported its start (initialised or not).
    pub async fn start(mode: Mode<'_>) -> (PythonSdk, Value) {
        let python = required_var("VEXIL_TEST_PYTHON");
        let mut command = Command::new(&python);
        command.arg(DRIVER);
        match mode {
            Mode::Streaming { base_uri, sdk_key } | Mode::Polling { base_uri, sdk_key } => {
                let mode = if matches!(mode, Mode::Streaming { .. }) {
                    "streaming"
                } else {
                    "polling"
                };
                command.args(["--mode", mode, "--base-uri", base_uri, "--sdk-key", sdk_key]);
            }
            Mode::DaemonRedis { url, prefix } => {
                command.args([
                    "--mode",
                    "daemon-redis",
                    "--redis-url",
                    url,
                    "--redis-prefix",
                    prefix,
                ]);
            }
        }
        command
            .args(["--init-timeout", "20"])
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap_or_else(|error| {
            panic!("cannot run VEXIL_TEST_PYTHON ({python}) {DRIVER}: {error}")
        });
        let stdin = child.stdin.take().unwrap();
        let (events, logs) = read_events(child.stdout.take().unwrap());
        let stderr = read_all(child.stderr.take().unwrap());
        let mut sdk = PythonSdk {
            child,
            stdin,
            events,
            logs,
            stderr,
        };
        let started = sdk.next_event("started").await;
        (sdk, started)
    }

    /// `variation_detail` for each evaluation, in order, as
    /// `{"value", "variationIndex", "reason"}`.
    pub async fn evaluate(&mut self, evaluations: &[Evaluation]) -> Vec<Value> {
        let evaluations: Vec<Value> = evaluations
            .iter()
            .map(|evaluation| {
                json!({
                    "flag": evaluation.flag,
                    "context": evaluation.context,
                    "default": evaluation.default,
                })
            })
            .collect();
        self.send(json!({"command": "evaluate", "evaluations": evaluations}));
        let answer = self.next_event("evaluations").await;
        answer["results"].as_array().unwrap().clone()
    }

    /// Whether the client is initialised, and its data source status.
    pub async fn status(&mut self) -> Value {
        self.send(json!({"command": "status"}));
        self.next_event("status").await
    }

    /// Asks for the status until `condition` holds, for at most `deadline`.
    pub async fn status_until(
        &mut self,
        deadline: Duration,
        what: &str,
        condition: impl Fn(&Value) -> bool,
    ) -> Value {
        let end = tokio::time::Instant::now() + deadline;
        loop {
            let status = self.status().await;
            if condition(&status) {
                return status;
            }
            assert!(
                tokio::time::Instant::now() < end,
                "the Python SDK never reported {what}; last status: {status}{}",
                self.diagnostics()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every log line the SDK wrote so far, as `{"level", "logger", "message"}`.
    pub fn logs(&self) -> Vec<Value> {
        self.logs.lock().unwrap().clone()
    }

    /// Closes the client and checks the script exits cleanly.
    pub async fn quit(mut self) {
        self.send(json!({"command": "quit"}));
        self.next_event("closed").await;
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "the Python SDK exited with {status}{}",
            self.diagnostics()
        );
    }

    fn send(&mut self, command: Value) {
        // A line of a few kilobytes fits the pipe buffer, so this does not block the runtime.
        writeln!(self.stdin, "{command}")
            .and_then(|()| self.stdin.flush())
            .unwrap_or_else(|error| {
                panic!(
                    "cannot write to the Python SDK: {error}{}",
                    self.diagnostics()
                )
            });
    }

    /// The next event that is not a log line; it must be called `name`.
    async fn next_event(&mut self, name: &str) -> Value {
        let event = tokio::time::timeout(ANSWER_DEADLINE, self.events.recv()).await;
        let event = match event {
            Ok(Some(event)) => event,
            Ok(None) => panic!(
                "the Python SDK ended before its {name:?} event{}",
                self.diagnostics()
            ),
            Err(_) => panic!(
                "no {name:?} event from the Python SDK within {ANSWER_DEADLINE:?}{}",
                self.diagnostics()
            ),
        };
        assert_eq!(
            event["event"],
            name,
            "unexpected answer from the Python SDK: {event}{}",
            self.diagnostics()
        );
        event
    }

    /// The SDK's log (each distinct line once, with a count) and stderr, for failure messages.
    pub fn diagnostics(&self) -> String {
        let mut lines: Vec<(String, usize)> = Vec::new();
        for log in self.logs() {
            let line = format!("{} {}", log["level"], log["message"]);
            match lines.iter_mut().find(|(seen, _)| *seen == line) {
                Some((_, count)) => *count += 1,
                None => lines.push((line, 1)),
            }
        }
        let lines: Vec<String> = lines
            .into_iter()
            .map(|(line, count)| match count {
                1 => format!("  {line}"),
                _ => format!("  {line} ({count} times)"),
            })
            .collect();
        format!(
            "\nSDK log:\n{}\nstderr:\n{}",
            lines.join("\n"),
            self.stderr.lock().unwrap()
        )
    }
}

impl Drop for PythonSdk {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads JSON lines on a thread: log lines are collected, every other event is sent on.
fn read_events(
    stdout: impl Read + Send + 'static,
) -> (mpsc::UnboundedReceiver<Value>, Arc<Mutex<Vec<Value>>>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let logs = Arc::new(Mutex::new(Vec::new()));
    let collected = Arc::clone(&logs);
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let event: Value = serde_json::from_str(&line)
                .unwrap_or_else(|_| json!({"event": "unparsable", "line": line}));
            if event["event"] == "log" {
                collected.lock().unwrap().push(event);
            } else if sender.send(event).is_err() {
                break;
            }
        }
    });
    (receiver, logs)
}

fn read_all(stderr: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let collected = Arc::clone(&text);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let mut text = collected.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    });
    text
}

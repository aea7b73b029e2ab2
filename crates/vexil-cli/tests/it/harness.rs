//! Runs the built `vexil` binary on files in a fresh temporary directory.

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;

use tempfile::TempDir;

/// Flag data covering every reason; see `cases_mode.rs` for what each flag serves.
pub const FLAGS_JSON: &str = r#"{
  "flags": {
    "new-checkout": {
      "key": "new-checkout", "version": 3, "on": true, "salt": "nc",
      "variations": [false, true], "offVariation": 0,
      "fallthrough": {"variation": 0},
      "targets": [{"values": ["u-1"], "variation": 1}],
      "rules": [
        {"id": "r-beta", "clauses": [{"attribute": "", "op": "segmentMatch", "values": ["beta"], "negate": false}], "variation": 1},
        {"id": "r-staff", "clauses": [{"attribute": "email", "op": "endsWith", "values": ["@vexil.dev"], "negate": false}], "variation": 1},
        {"id": "r-eu", "clauses": [{"attribute": "plan", "op": "in", "values": ["pro"], "negate": false}], "variation": 1}
      ]
    },
    "banner": {"key": "banner", "version": 1, "on": false, "salt": "b", "variations": ["hello", "hi"], "offVariation": 1, "fallthrough": {"variation": 0}},
    "payments": {
      "key": "payments", "version": 1, "on": true, "salt": "p", "variations": [false, true], "offVariation": 0,
      "fallthrough": {"variation": 1}, "prerequisites": [{"key": "payments-enabled", "variation": 0}]
    },
    "payments-enabled": {"key": "payments-enabled", "version": 1, "on": false, "salt": "pe", "variations": [true, false], "offVariation": 1}
  },
  "segments": {
    "beta": {"key": "beta", "version": 1, "included": ["u-beta"], "salt": "s"}
  }
}"#;

/// A temporary directory for one test's files.
pub struct Fixture {
    dir: TempDir,
}

/// What a run of `vexil` produced.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Fixture {
    pub fn new() -> Self {
        Self {
            dir: TempDir::new().unwrap(),
        }
    }

    /// Writes `contents` to `name` in the fixture directory and returns its path as a string.
    pub fn write(&self, name: &str, contents: &str) -> String {
        let path = self.path(name);
        fs::write(&path, contents).unwrap();
        path
    }

    /// The path of `name` in the fixture directory, whether or not it exists.
    pub fn path(&self, name: &str) -> String {
        let path: PathBuf = self.dir.path().join(name);
        path.to_str().unwrap().to_owned()
    }

    /// Writes the standard flag data and returns its path.
    pub fn flags(&self) -> String {
        self.write("flags.json", FLAGS_JSON)
    }
}

/// Runs `vexil` with `args`, feeding it `stdin` from another thread so that a large input and a
/// large output cannot block each other on full pipes.
pub fn vexil(args: &[&str], stdin: &str) -> Outcome {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vexil"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child_stdin = child.stdin.take().unwrap();
    let input = stdin.to_owned();
    // vexil may stop reading early (at a bad line), so a failed write is not a test failure.
    let writer = thread::spawn(move || child_stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    let _ = writer.join().unwrap();
    Outcome {
        code: output.status.code().unwrap(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// The JSON values of each stdout line.
pub fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

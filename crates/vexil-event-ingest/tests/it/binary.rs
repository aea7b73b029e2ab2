//! The `vexil-event-ingest` binary itself: it runs with glibc's malloc tunables
//! (`src/main.rs`), and keeps an operator's own.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{kafka_brokers, unique_topic};

/// The binary, started with only its own configuration and `glibc_tunables` (or none).
fn start(glibc_tunables: Option<&str>) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vexil-event-ingest"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("VEXIL_") || name == "GLIBC_TUNABLES" {
            command.env_remove(name);
        }
    }
    if let Some(tunables) = glibc_tunables {
        command.env("GLIBC_TUNABLES", tunables);
    }
    command
        .current_dir(std::env::temp_dir())
        .env("VEXIL_HTTP__LISTEN", "127.0.0.1:0")
        // Never reached: credentials are only resolved for requests.
        .env("VEXIL_CONFIG_API__GRPC_URL", "http://127.0.0.1:9")
        .env("VEXIL_SERVICE_TOKEN", "vexil-ingest-binary-test")
        .env("VEXIL_KAFKA__BROKERS", kafka_brokers())
        .env("VEXIL_KAFKA__TOPIC", unique_topic("binary"))
        .env("VEXIL_KAFKA__CREATE_TOPIC", "false")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the vexil-event-ingest binary starts")
}

/// The process's `GLIBC_TUNABLES` once it listens (by then it has replaced itself if it
/// was going to), or `None` if it has none.
fn tunables_once_listening(child: &mut Child) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            panic!("vexil-event-ingest exited with {status}");
        }
        let listening = std::fs::read_dir(format!("/proc/{}/fd", child.id()))
            .map(|fds| {
                fds.flatten().any(|fd| {
                    std::fs::read_link(fd.path())
                        .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"))
                })
            })
            .unwrap_or(false);
        if listening {
            let environ = std::fs::read(format!("/proc/{}/environ", child.id()))
                .expect("the process's environment is readable");
            return environ
                .split(|byte| *byte == 0)
                .find_map(|entry| entry.strip_prefix(b"GLIBC_TUNABLES="))
                .map(|value| String::from_utf8_lossy(value).into_owned());
        }
        assert!(
            Instant::now() < deadline,
            "vexil-event-ingest never opened a socket"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_binary_runs_with_glibc_malloc_tunables() {
    let mut child = start(None);
    let tunables = tunables_once_listening(&mut child);
    stop(child);
    let tunables = tunables.expect("GLIBC_TUNABLES set in the running binary");
    // glibc (2.36) parses the variable in place: the process's initial environment then
    // shows the tunables up to the first `:` only, here the trim threshold.
    assert!(
        tunables.starts_with("glibc.malloc.trim_threshold=67108864"),
        "{tunables}"
    );
}

#[test]
fn an_operators_glibc_tunables_are_kept() {
    let mut child = start(Some("glibc.malloc.arena_max=2"));
    let tunables = tunables_once_listening(&mut child);
    stop(child);
    assert_eq!(tunables.as_deref(), Some("glibc.malloc.arena_max=2"));
}

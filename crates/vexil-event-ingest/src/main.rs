//! The event ingest binary: malloc tunables, configuration, telemetry, listener, run.

use std::os::unix::process::CommandExt;
use std::process::Command;

use anyhow::Context;
use tokio::net::TcpListener;
use vexil_event_ingest::config::Config;

/// Every request allocates its body, its records and hyper's and librdkafka's buffers;
/// the system allocator spent 18 % of ingest's CPU on them (BENCHMARKS.md, "Where ingest's
/// time goes"). Only this binary: `vexil up` and the libraries keep the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// glibc's malloc settings for this process. Only librdkafka allocates from glibc here
/// (Rust's allocations go to mimalloc), so glibc's heap stays small, and each produce
/// request's LZ4 buffers grew it and freeing them trimmed it again: about 12,000 page
/// faults a second at 160,000 events a second, under 1,000 with fixed thresholds
/// (BENCHMARKS.md). glibc then keeps up to librdkafka's peak, and gives back only what
/// exceeds 64 MiB free; allocations over 4 MiB still get their own mapping.
const GLIBC_TUNABLES: &str =
    "glibc.malloc.trim_threshold=67108864:glibc.malloc.mmap_threshold=4194304";

fn main() -> anyhow::Result<()> {
    with_malloc_tunables();
    run()
}

/// glibc reads `GLIBC_TUNABLES` only when a process starts, so without it the binary
/// replaces itself (`exec`: same pid, arguments and environment) with a run that has
/// [`GLIBC_TUNABLES`]. Tunables the operator set are left as they are, and if the `exec`
/// fails the binary runs on without them.
fn with_malloc_tunables() {
    if std::env::var_os("GLIBC_TUNABLES").is_some() {
        return;
    }
    let Ok(binary) = std::env::current_exe() else {
        return;
    };
    let mut arguments = std::env::args_os();
    let mut command = Command::new(binary);
    if let Some(name) = arguments.next() {
        command.arg0(name);
    }
    let error = command
        .args(arguments)
        .env("GLIBC_TUNABLES", GLIBC_TUNABLES)
        .exec();
    eprintln!(
        "vexil-event-ingest: running without GLIBC_TUNABLES, restarting with them failed: {error}"
    );
}

#[tokio::main]
async fn run() -> anyhow::Result<()> {
    let config = Config::load().context("invalid configuration")?;
    let _telemetry = vexil_service::telemetry::init("event-ingest", &config.telemetry);
    let listener = TcpListener::bind(config.http.listen)
        .await
        .with_context(|| format!("binding HTTP on {}", config.http.listen))?;
    vexil_event_ingest::run(config, listener, vexil_service::shutdown_on_sigterm()).await
}

//! Memory: the gateway's resident set (`VmRSS`) idle, then with 1,000 and 10,000 idle
//! `/all` streams open (each has received its `put`), and the bytes per stream.
//!
//! Run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p vexil-stream-gateway --bench memory`
//! Same set-up as the propagation bench: scratch database, unique Redis prefix, the
//! gateway as its own process. Numbers go to BENCHMARKS.md.

mod support;

use std::time::Duration;

use anyhow::bail;
use futures_util::StreamExt;

use support::sse::{EventName, SseConnection};
use support::Stack;

const STREAM_COUNTS: [usize; 2] = [1_000, 10_000];
const OPENING_AT_ONCE: usize = 200;
/// Time for the gateway to settle before its RSS is read.
const SETTLE: Duration = Duration::from_secs(2);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let largest = STREAM_COUNTS[STREAM_COUNTS.len() - 1] as u64;
    support::raise_open_file_limit(largest + 1_000)?;
    support::with_scratch_database(|url| async move { scenario(&url).await }).await
}

async fn scenario(database_url: &str) -> anyhow::Result<()> {
    let stack = Stack::start(database_url).await?;
    let gateway = &stack.gateway;
    let payload = reqwest::Client::new()
        .get(gateway.url("/sdk/latest-all"))
        .header("authorization", &stack.sdk_key)
        .send()
        .await?
        .bytes()
        .await?;
    println!(
        "put payload: {} bytes ({} flags with 3 rules, 1 segment)",
        payload.len(),
        support::FLAGS
    );
    tokio::time::sleep(SETTLE).await;
    let idle = gateway.rss_bytes()?;
    println!("load average {}", support::load_average());
    println!("gateway RSS idle, no streams: {}", kib(idle));

    let mut streams: Vec<SseConnection> = Vec::new();
    let mut previous = (0, idle);
    for count in STREAM_COUNTS {
        let opened: Vec<anyhow::Result<SseConnection>> =
            futures_util::stream::iter(streams.len()..count)
                .map(|_| async {
                    let mut connection =
                        SseConnection::open(gateway.address, &stack.sdk_key).await?;
                    match connection.next_event().await? {
                        Some(event) if event.name == EventName::Put => {}
                        other => bail!("expected the first put, got {other:?}"),
                    }
                    connection.shrink();
                    Ok(connection)
                })
                .buffer_unordered(OPENING_AT_ONCE)
                .collect()
                .await;
        for connection in opened {
            streams.push(connection?);
        }
        tokio::time::sleep(SETTLE).await;
        let rss = gateway.rss_bytes()?;
        println!(
            "{count} idle streams: RSS {}, {} open files; per stream {:.0} bytes over idle, {:.0} bytes over {} streams",
            kib(rss),
            gateway.open_files()?,
            (rss as f64 - idle as f64) / count as f64,
            (rss as f64 - previous.1 as f64) / (count - previous.0) as f64,
            previous.0,
        );
        previous = (count, rss);
    }
    drop(streams);
    tokio::time::sleep(SETTLE).await;
    println!(
        "after closing every stream: RSS {}",
        kib(gateway.rss_bytes()?)
    );
    drop(stack.gateway);
    stack.config_api.stop().await
}

fn kib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

//! Polling throughput: `wrk` (Debian package `wrk`) against the gateway process for
//! `GET /sdk/latest-all` with a matching `If-None-Match` (304), without one (200, plain
//! and gzip), and OFREP bulk evaluation `POST /ofrep/v1/evaluate/flags` (200, and 304 with
//! its ETag) when the gateway has that route, on a 50-flag environment. Reports wrk's
//! requests/s and p99, and requests per CPU-second of the gateway (its utime + stime from
//! `/proc/<pid>/stat` over the run): the gateway is one process on a 2-core machine that
//! also runs wrk, so the per-core figure is the one that carries over.
//!
//! Run: `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p vexil-stream-gateway --bench polling`
//! Optional: `VEXIL_BENCH_SECONDS` (default 10) per scenario, `VEXIL_BENCH_CONNECTIONS`
//! (default 64), `VEXIL_BENCH_WRK_THREADS` (default 1). Numbers go to BENCHMARKS.md.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, ensure, Context as _};
use reqwest::StatusCode;

use support::{load_average, GatewayProcess, Stack};

/// The OFREP context: matches no rule of the benchmark flags, so every flag runs all
/// three rules (the segment one included) before its fallthrough.
const OFREP_BODY: &str = r#"{"context":{"targetingKey":"user-8c1f2e7a","email":"someone@acme.test","country":"NZ","plan":"free"}}"#;
const OFREP_BULK: &str = "/ofrep/v1/evaluate/flags";
const WARM_UP: Duration = Duration::from_secs(2);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let wrk_version = Command::new("wrk").arg("-v").output();
    ensure!(
        wrk_version.is_ok(),
        "wrk is not installed: `apt-get install -y wrk` (Debian package)"
    );
    support::with_scratch_database(|url| async move { scenario(&url).await }).await
}

/// One wrk run's settings.
struct Load<'a> {
    name: &'a str,
    path: &'a str,
    headers: Vec<(&'a str, String)>,
    /// A POST body; GET without one.
    body: Option<&'a str>,
    expected: StatusCode,
}

async fn scenario(database_url: &str) -> anyhow::Result<()> {
    let seconds: u64 = setting("VEXIL_BENCH_SECONDS", 10)?;
    let connections: u64 = setting("VEXIL_BENCH_CONNECTIONS", 64)?;
    let threads: u64 = setting("VEXIL_BENCH_WRK_THREADS", 1)?;
    let stack = Stack::start(database_url).await?;
    let gateway = &stack.gateway;
    let client = reqwest::Client::new();
    let authorization = stack.sdk_key.clone();

    let response = client
        .get(gateway.url("/sdk/latest-all"))
        .header("authorization", &authorization)
        .send()
        .await?;
    let etag = header(&response, "etag")?;
    let body_length = response.bytes().await?.len();
    let gzip_length = client
        .get(gateway.url("/sdk/latest-all"))
        .header("authorization", &authorization)
        .header("accept-encoding", "gzip")
        .send()
        .await?
        .bytes()
        .await?
        .len();
    println!(
        "payload: {} flags, {body_length} bytes ({gzip_length} gzip); wrk -t{threads} -c{connections} -d{seconds}s",
        support::FLAGS
    );

    let mut loads = vec![
        Load {
            name: "latest-all, ETag hit (304)",
            path: "/sdk/latest-all",
            headers: vec![
                ("Authorization", authorization.clone()),
                ("If-None-Match", etag.clone()),
            ],
            body: None,
            expected: StatusCode::NOT_MODIFIED,
        },
        Load {
            name: "latest-all, miss (200)",
            path: "/sdk/latest-all",
            headers: vec![("Authorization", authorization.clone())],
            body: None,
            expected: StatusCode::OK,
        },
        Load {
            name: "latest-all, miss, gzip (200)",
            path: "/sdk/latest-all",
            headers: vec![
                ("Authorization", authorization.clone()),
                ("Accept-Encoding", "gzip".into()),
            ],
            body: None,
            expected: StatusCode::OK,
        },
    ];
    let ofrep = client
        .post(gateway.url(OFREP_BULK))
        .header("authorization", format!("Bearer {authorization}"))
        .header("content-type", "application/json")
        .body(OFREP_BODY)
        .send()
        .await?;
    if matches!(
        ofrep.status(),
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
    ) {
        println!(
            "OFREP bulk evaluation: the gateway has no {OFREP_BULK} route yet ({}), skipped",
            ofrep.status()
        );
    } else {
        ensure!(
            ofrep.status() == StatusCode::OK,
            "OFREP bulk: {}",
            ofrep.status()
        );
        let ofrep_etag = ofrep
            .headers()
            .get("etag")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let evaluated: serde_json::Value = ofrep.json().await?;
        let flags = evaluated["flags"].as_array().map_or(0, Vec::len);
        ensure!(
            flags == support::FLAGS,
            "OFREP bulk evaluated {flags} flags: {evaluated}"
        );
        let ofrep_headers = vec![
            ("Authorization", format!("Bearer {authorization}")),
            ("Content-Type", "application/json".into()),
        ];
        loads.push(Load {
            name: "OFREP bulk, 50 flags (200)",
            path: OFREP_BULK,
            headers: ofrep_headers.clone(),
            body: Some(OFREP_BODY),
            expected: StatusCode::OK,
        });
        if let Some(ofrep_etag) = ofrep_etag {
            let mut headers = ofrep_headers;
            headers.push(("If-None-Match", ofrep_etag));
            loads.push(Load {
                name: "OFREP bulk, ETag hit (304)",
                path: OFREP_BULK,
                headers,
                body: Some(OFREP_BODY),
                expected: StatusCode::NOT_MODIFIED,
            });
        }
    }

    let scripts = std::env::temp_dir().join(format!("vexil-gateway-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scripts)?;
    println!("| scenario | requests/s (wall) | gateway CPU (cores) | requests per gateway CPU-second | p50 | p99 | load avg before |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let result = async {
        for load in &loads {
            check(&client, gateway, load).await?;
            let script = write_script(&scripts, load)?;
            // Warm-up: connections, the lazily built gzip body, allocator arenas.
            run_wrk(gateway, load, &script, threads, connections, WARM_UP)?;
            let load_before = load_average();
            let cpu_before = gateway.cpu_seconds()?;
            let report = run_wrk(
                gateway,
                load,
                &script,
                threads,
                connections,
                Duration::from_secs(seconds),
            )?;
            let cpu = gateway.cpu_seconds()? - cpu_before;
            println!(
                "| {} | {:.0} | {:.2} | {:.0} | {:.2} ms | {:.2} ms | {load_before} |",
                load.name,
                report.requests_per_second,
                cpu / report.seconds,
                report.requests as f64 / cpu,
                report.p50_ms,
                report.p99_ms,
            );
        }
        anyhow::Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&scripts);
    result?;
    drop(stack.gateway);
    stack.config_api.stop().await
}

/// One request with reqwest first: the scenario must get the status it claims to measure.
async fn check(
    client: &reqwest::Client,
    gateway: &GatewayProcess,
    load: &Load<'_>,
) -> anyhow::Result<()> {
    let mut request = match load.body {
        Some(body) => client.post(gateway.url(load.path)).body(body.to_owned()),
        None => client.get(gateway.url(load.path)),
    };
    for (name, value) in &load.headers {
        request = request.header(*name, value);
    }
    let status = request.send().await?.status();
    ensure!(
        status == load.expected,
        "{}: got {status}, expected {}",
        load.name,
        load.expected
    );
    Ok(())
}

/// A wrk Lua script setting the method, headers and body (quoting stays out of argv).
fn write_script(directory: &Path, load: &Load<'_>) -> anyhow::Result<std::path::PathBuf> {
    let mut script = String::new();
    if let Some(body) = load.body {
        script.push_str("wrk.method = \"POST\"\n");
        script.push_str(&format!("wrk.body = [[{body}]]\n"));
    }
    for (name, value) in &load.headers {
        script.push_str(&format!("wrk.headers[\"{name}\"] = [[{value}]]\n"));
    }
    let path = directory.join(format!(
        "{}.lua",
        load.name.replace([' ', ',', '(', ')'], "_")
    ));
    std::fs::write(&path, script)?;
    Ok(path)
}

/// What wrk reported.
struct WrkReport {
    requests: u64,
    seconds: f64,
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn run_wrk(
    gateway: &GatewayProcess,
    load: &Load<'_>,
    script: &Path,
    threads: u64,
    connections: u64,
    duration: Duration,
) -> anyhow::Result<WrkReport> {
    let output = Command::new("wrk")
        .arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", duration.as_secs()))
        .arg("--latency")
        .arg("-s")
        .arg(script)
        .arg(gateway.url(load.path))
        .output()
        .context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    ensure!(
        output.status.success(),
        "wrk failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    parse_wrk(&text).with_context(|| format!("reading wrk's report:\n{text}"))
}

fn parse_wrk(text: &str) -> anyhow::Result<WrkReport> {
    if let Some(line) = text.lines().find(|line| line.contains("Non-2xx or 3xx")) {
        bail!("wrk saw failed requests: {}", line.trim());
    }
    if let Some(line) = text.lines().find(|line| line.contains("Socket errors")) {
        bail!("wrk saw socket errors: {}", line.trim());
    }
    let totals = text
        .lines()
        .find(|line| line.contains("requests in"))
        .context("the `requests in` line")?;
    let mut words = totals.split_whitespace();
    let requests: u64 = words.next().context("a request count")?.parse()?;
    let seconds = words
        .nth(2)
        .and_then(|word| word.trim_end_matches(',').strip_suffix('s'))
        .context("a duration")?
        .parse()?;
    let requests_per_second = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("Requests/sec:"))
        .context("the `Requests/sec` line")?
        .trim()
        .parse()?;
    let quantile = |label: &str| -> anyhow::Result<f64> {
        let value = text
            .lines()
            .find_map(|line| line.trim().strip_prefix(label))
            .with_context(|| format!("the {label} latency"))?;
        milliseconds(value.trim())
    };
    Ok(WrkReport {
        requests,
        seconds,
        requests_per_second,
        p50_ms: quantile("50%")?,
        p99_ms: quantile("99%")?,
    })
}

/// wrk's `628.00us`, `1.23ms`, `1.05s` as milliseconds.
fn milliseconds(value: &str) -> anyhow::Result<f64> {
    let (number, scale) = if let Some(number) = value.strip_suffix("us") {
        (number, 0.001)
    } else if let Some(number) = value.strip_suffix("ms") {
        (number, 1.0)
    } else if let Some(number) = value.strip_suffix('s') {
        (number, 1000.0)
    } else if let Some(number) = value.strip_suffix('m') {
        (number, 60_000.0)
    } else {
        bail!("unknown wrk duration {value:?}")
    };
    Ok(number.parse::<f64>()? * scale)
}

fn header(response: &reqwest::Response, name: &str) -> anyhow::Result<String> {
    Ok(response
        .headers()
        .get(name)
        .with_context(|| format!("a {name} header"))?
        .to_str()?
        .to_owned())
}

fn setting(name: &str, default: u64) -> anyhow::Result<u64> {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .with_context(|| format!("{name} must be a whole number")),
        Err(_) => Ok(default),
    }
}

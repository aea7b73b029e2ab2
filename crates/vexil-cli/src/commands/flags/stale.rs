//! `vexil flags stale`: asks config-api which flags of an environment are stale
//! (`GET /api/v1/projects/{p}/flags/stale`) and prints them as a table or as JSON.

mod table;

use std::io::{self, Write};

use anyhow::Context;
use serde::Deserialize;
use serde_json::Value;

use crate::api_client::ApiClient;
use crate::cli::StaleArgs;

/// config-api's `StaleFlags` (OpenAPI schema of the same name). The items stay JSON so that
/// `--json` passes on every field the API sends, including ones added later.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StaleFlags {
    environment_key: String,
    threshold_days: i64,
    window_days: i64,
    items: Vec<Value>,
}

/// One item of [`StaleFlags`], the fields the table shows.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StaleFlag {
    key: String,
    name: String,
    /// RFC 3339.
    created_at: String,
    /// `not_evaluated` or `single_variation`.
    reason: String,
    variations_served: u64,
    evaluations: u64,
    /// RFC 3339; absent or null when never evaluated.
    #[serde(default)]
    last_evaluated: Option<String>,
}

/// Runs `vexil flags stale`, writing the table (or JSON) to stdout.
pub fn run(args: &StaleArgs) -> anyhow::Result<()> {
    let client = ApiClient::from_environment(&args.api.api_url)?;
    let threshold_days = args.threshold_days.to_string();
    let mut answer: StaleFlags = client
        .get(
            &["projects", &args.project, "flags", "stale"],
            &[
                ("environment", &args.environment),
                ("threshold-days", &threshold_days),
            ],
        )
        .with_context(|| {
            format!(
                "listing stale flags of project `{}` in environment `{}`",
                args.project, args.environment
            )
        })?;
    // The API answers by key already; sorting here keeps the output stable whatever it does.
    answer.items.sort_by(|a, b| item_key(a).cmp(item_key(b)));
    let mut stdout = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &answer.items)?;
        writeln!(stdout)?;
    } else {
        let flags = answer
            .items
            .iter()
            .map(StaleFlag::deserialize)
            .collect::<Result<Vec<_>, _>>()
            .context("unexpected stale flag in config-api's answer")?;
        table::write(&mut stdout, &answer, &flags)?;
    }
    stdout.flush()?;
    Ok(())
}

fn item_key(item: &Value) -> &str {
    item.get("key").and_then(Value::as_str).unwrap_or_default()
}

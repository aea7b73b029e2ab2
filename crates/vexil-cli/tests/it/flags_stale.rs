//! `vexil flags stale` against a real config-api: API refusals print the API's message and
//! exit 1, bad usage and a missing token exit 2, and stale flags print as a table or JSON.

use serde_json::{json, Value};
use sqlx::PgPool;
use vexil_proto::analytics::v1 as proto;

use crate::api::{closed_url, vexil, vexil_blocking, ConfigApi, FakeAnalytics, ADMIN_TOKEN};

/// `vexil flags stale` on the test project's production environment, at `url`.
fn stale_args<'a>(url: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "flags",
        "stale",
        "--project",
        "shop",
        "--environment",
        "production",
        "--api-url",
        url,
    ];
    args.extend_from_slice(more);
    args
}

#[test]
fn a_missing_token_exits_2_naming_the_variable() {
    let url = closed_url();
    for token in [None, Some(""), Some("  ")] {
        let outcome = vexil_blocking(&stale_args(&url, &[]), token);
        assert_eq!(outcome.code, 2, "{token:?}: {outcome:?}");
        assert_eq!(outcome.stdout, "");
        assert_eq!(
            outcome.stderr,
            "error: VEXIL_API_TOKEN is not set: export the API token in it (it is never read \
             from the command line)\n"
        );
    }
}

#[test]
fn bad_usage_exits_2_naming_the_problem() {
    // (--api-url, extra arguments, the start of stderr)
    let cases = [
        (
            "https://vexil.example.com",
            vec![],
            "error: --api-url (or VEXIL_API_URL) \"https://vexil.example.com\": https is not supported yet",
        ),
        (
            "localhost:8030",
            vec![],
            "error: --api-url (or VEXIL_API_URL) \"localhost:8030\": the URL must start with http://\n",
        ),
        (
            "http://127.0.0.1:1",
            vec!["--threshold-days", "-1"],
            "error: invalid value '-1' for '--threshold-days <DAYS>'",
        ),
        (
            "http://127.0.0.1:1",
            vec!["--threshold-days", "36501"],
            "error: invalid value '36501' for '--threshold-days <DAYS>'",
        ),
        (
            "http://127.0.0.1:1",
            vec!["--api-token", "secret"],
            "error: unexpected argument '--api-token'",
        ),
    ];
    for (url, extra, expected) in cases {
        let outcome = vexil_blocking(&stale_args(url, &extra), Some(ADMIN_TOKEN));
        assert_eq!(outcome.code, 2, "{extra:?}: {outcome:?}");
        assert!(
            outcome.stderr.starts_with(expected),
            "{extra:?}: {outcome:?}"
        );
    }
}

#[test]
fn an_unreachable_api_exits_1_naming_the_url() {
    let url = closed_url();
    let outcome = vexil_blocking(&stale_args(&url, &[]), Some(ADMIN_TOKEN));
    assert_eq!(outcome.code, 1, "{outcome:?}");
    assert_eq!(
        outcome.stderr,
        format!(
            "error: listing stale flags of project `shop` in environment `production`: cannot \
             connect to the Vexil API at {url} (connection refused); is config-api running \
             there? Set --api-url or VEXIL_API_URL\n"
        )
    );
}

#[sqlx::test(migrations = false)]
async fn api_refusals_print_the_api_message_and_exit_1(pool: PgPool) {
    let api = ConfigApi::start(pool, closed_url()).await;
    api.project().await;
    // (project, environment, token, the end of stderr after "error: listing stale flags ...: ")
    let cases = [
        (
            "nope",
            "production",
            ADMIN_TOKEN,
            "404 Not Found: project `nope` not found",
        ),
        (
            "shop",
            "staging",
            ADMIN_TOKEN,
            "404 Not Found: environment `staging` not found in project `shop`",
        ),
        (
            "shop",
            "production",
            "not-a-token",
            "401 Unauthorized: unknown or revoked API token (check the token in VEXIL_API_TOKEN)",
        ),
    ];
    for (project, environment, token, expected) in cases {
        let args = [
            "flags",
            "stale",
            "--project",
            project,
            "--environment",
            environment,
            "--api-url",
            &api.url,
        ];
        let outcome = vexil(&args, Some(token)).await;
        assert_eq!(outcome.code, 1, "{outcome:?}");
        assert_eq!(outcome.stdout, "");
        assert_eq!(
            outcome.stderr,
            format!(
                "error: listing stale flags of project `{project}` in environment \
                 `{environment}`: {expected}\n"
            )
        );
    }
}

#[sqlx::test(migrations = false)]
async fn no_candidates_print_no_stale_flags(pool: PgPool) {
    // analytics-worker is not even asked: a flag created today is younger than 30 days.
    let api = ConfigApi::start(pool, closed_url()).await;
    api.project().await;
    api.flag(json!({"key": "new-checkout", "name": "New checkout"}))
        .await;
    let outcome = vexil(&stale_args(&api.url, &[]), Some(ADMIN_TOKEN)).await;
    assert_eq!(outcome.code, 0, "{outcome:?}");
    assert_eq!(
        outcome.stdout,
        "no stale flags in environment `production` (temporary flags created over 30 days ago, \
         judged on the last 7 days)\n"
    );
    assert_eq!(outcome.stderr, "");

    let outcome = vexil(&stale_args(&api.url, &["--json"]), Some(ADMIN_TOKEN)).await;
    assert_eq!(outcome.code, 0, "{outcome:?}");
    assert_eq!(outcome.stdout, "[]\n");
}

#[sqlx::test(migrations = false)]
async fn a_candidate_with_analytics_worker_unreachable_prints_the_503_message(pool: PgPool) {
    let api = ConfigApi::start(pool, closed_url()).await;
    api.project().await;
    api.flag(json!({"key": "old-banner", "name": "Old banner"}))
        .await;
    let outcome = vexil(
        &stale_args(&api.url, &["--threshold-days", "0"]),
        Some(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(outcome.code, 1, "{outcome:?}");
    assert_eq!(outcome.stdout, "");
    // The rest of the message is tonic's description of the failed connection.
    let prefix = "error: listing stale flags of project `shop` in environment `production`: \
                  503 Service Unavailable: analytics-worker is unavailable: ";
    assert!(outcome.stderr.starts_with(prefix), "{outcome:?}");
    assert!(outcome.stderr.ends_with(" (retry later)\n"), "{outcome:?}");
}

/// The real analytics-worker needs Kafka to be fed events; a stand-in with fixed answers
/// checks everything `vexil` does with them.
#[sqlx::test(migrations = false)]
async fn stale_flags_print_as_a_table_by_key_or_as_the_api_json(pool: PgPool) {
    let last_evaluated_unix_ms = 1_795_000_000_000; // 2026-11-18T11:06:40Z
    let analytics = FakeAnalytics::start(vec![
        proto::FlagStaleness {
            flag_key: "old-banner".into(),
            reason: proto::StaleReason::NotEvaluated as i32,
            variations_served: 0,
            evaluations: 0,
            last_evaluated_unix_ms: None,
        },
        proto::FlagStaleness {
            flag_key: "new-checkout".into(),
            reason: proto::StaleReason::SingleVariation as i32,
            variations_served: 1,
            evaluations: 120_000,
            last_evaluated_unix_ms: Some(last_evaluated_unix_ms),
        },
    ])
    .await;
    let api = ConfigApi::start(pool, analytics.grpc_url.clone()).await;
    api.project().await;
    for (key, name) in [
        ("old-banner", "Old banner"),
        ("new-checkout", "New checkout"),
        ("busy", "Serves both variations"),
    ] {
        api.flag(json!({"key": key, "name": name})).await;
    }
    api.flag(json!({"key": "kill-switch", "name": "Kill switch", "temporary": false}))
        .await;

    let outcome = vexil(
        &stale_args(&api.url, &["--threshold-days", "0"]),
        Some(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(outcome.code, 0, "{outcome:?}");
    assert_eq!(outcome.stderr, "");
    // The creation times are now: the last column is redacted.
    let table: Vec<String> = outcome
        .stdout
        .lines()
        .map(|line| match line.strip_suffix(" UTC") {
            Some(_) if line.len() > 20 => format!("{}<created>", &line[..line.len() - 20]),
            _ => line.to_owned(),
        })
        .collect();
    assert_eq!(
        table,
        [
            "KEY           NAME          REASON            EVALUATIONS  VARIATIONS SERVED  LAST EVALUATED        CREATED",
            "new-checkout  New checkout  single_variation       120000                  1  2026-11-18 11:06 UTC  <created>",
            "old-banner    Old banner    not_evaluated               0                  0  never                 <created>",
            "",
            "2 stale flags in environment `production` (temporary flags created over 0 days ago, judged on the last 7 days)",
        ]
    );

    let outcome = vexil(
        &stale_args(&api.url, &["--threshold-days", "0", "--json"]),
        Some(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(outcome.code, 0, "{outcome:?}");
    let mut items: Value = serde_json::from_str(&outcome.stdout).unwrap();
    for item in items.as_array_mut().unwrap() {
        let created_at = item.as_object_mut().unwrap().remove("createdAt").unwrap();
        assert!(created_at.is_string(), "{created_at}");
    }
    assert_eq!(
        items,
        json!([
            {
                "key": "new-checkout",
                "name": "New checkout",
                "reason": "single_variation",
                "variationsServed": 1,
                "evaluations": 120000,
                "lastEvaluated": "2026-11-18T11:06:40Z"
            },
            {
                "key": "old-banner",
                "name": "Old banner",
                "reason": "not_evaluated",
                "variationsServed": 0,
                "evaluations": 0,
                "lastEvaluated": null
            }
        ])
    );
}

//! The unmodified LaunchDarkly Python server SDK against the real config-api, gateway and
//! Redis, in streaming, polling and daemon (Redis) mode: it initialises, evaluates exactly
//! as `vexil-eval` does on the data the gateway serves, follows a change and a delete, and
//! reports a 401 for a bad or revoked SDK key.

mod client;
mod fixture;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;
use vexil_eval::{variation_detail, Context, FlagData, ValueType};

use crate::harness::{gateway_config, ConfigApi, Environment, Gateway, RedisPrefix};
use client::{Evaluation, Mode, PythonSdk};
use fixture::{assert_covers_every_outcome, contexts, create_flags, user};

/// How long the SDK may take to initialise or to see a change. Polling mode polls every 30 s
/// (the SDK's minimum), and a change may straddle two polls.
const SDK_DEADLINE: Duration = Duration::from_secs(75);

/// An SDK key the gateway has never issued.
const UNKNOWN_SDK_KEY: &str = "sdk-00000000-0000-4000-8000-000000000000";

#[sqlx::test(migrations = false)]
async fn python_sdk_streaming_evaluates_like_vexil_eval_and_follows_changes(pool: PgPool) {
    let stack = Stack::start(pool).await;
    let base_uri = stack.base_uri();
    let (sdk, started) = PythonSdk::start(Mode::Streaming {
        base_uri: &base_uri,
        sdk_key: &stack.environment.sdk_key,
    })
    .await;
    assert_eq!(started["initialized"], true, "{started}");
    assert_eq!(started["dataSourceStatus"]["state"], "valid", "{started}");
    stack.evaluate_change_and_delete(sdk).await;
}

#[sqlx::test(migrations = false)]
async fn python_sdk_polling_evaluates_like_vexil_eval_and_follows_changes(pool: PgPool) {
    let stack = Stack::start(pool).await;
    let base_uri = stack.base_uri();
    let (sdk, started) = PythonSdk::start(Mode::Polling {
        base_uri: &base_uri,
        sdk_key: &stack.environment.sdk_key,
    })
    .await;
    assert_eq!(started["initialized"], true, "{started}");
    assert_eq!(started["dataSourceStatus"]["state"], "valid", "{started}");
    let started_polling = sdk.logs().iter().any(|log| {
        log["message"]
            .as_str()
            .unwrap()
            .contains("PollingUpdateProcessor")
    });
    assert!(started_polling, "the SDK polls: {:?}", sdk.logs());
    stack.evaluate_change_and_delete(sdk).await;
}

#[sqlx::test(migrations = false)]
async fn python_sdk_daemon_mode_reads_the_gateways_redis(pool: PgPool) {
    let stack = Stack::start(pool).await;
    let url = crate::harness::redis_url();
    let prefix = format!("{}:{}", stack.redis.prefix, stack.environment.id);
    let (mut sdk, _) = PythonSdk::start(Mode::DaemonRedis {
        url: &url,
        prefix: &prefix,
    })
    .await;
    // Daemon mode has no data source: "initialised" is the SDK's Redis store finding
    // LaunchDarkly's `$inited` marker under the prefix.
    sdk.status_until(SDK_DEADLINE, "an initialised Redis store", |status| {
        status["storeInitialized"] == true
    })
    .await;
    stack.evaluate_change_and_delete(sdk).await;
}

#[sqlx::test(migrations = false)]
async fn python_sdk_with_an_unknown_sdk_key_gets_401_and_reports_it(pool: PgPool) {
    let stack = Stack::start(pool).await;
    for path in ["/all", "/sdk/latest-all"] {
        let response = stack.gateway.get(path, UNKNOWN_SDK_KEY, &[]).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let base_uri = stack.base_uri();
    for (name, mode) in [
        (
            "stream",
            Mode::Streaming {
                base_uri: &base_uri,
                sdk_key: UNKNOWN_SDK_KEY,
            },
        ),
        (
            "polling",
            Mode::Polling {
                base_uri: &base_uri,
                sdk_key: UNKNOWN_SDK_KEY,
            },
        ),
    ] {
        let (mut sdk, _) = PythonSdk::start(mode).await;
        let status = sdk
            .status_until(SDK_DEADLINE, "a 401", |status| {
                status["dataSourceStatus"]["error"]["statusCode"] == 401
            })
            .await;
        assert_eq!(status["initialized"], false, "{status}");
        // SDK 9.20 retries a 401 after a long back-off instead of giving up, so its data
        // source stays "initializing" with the 401 as its last error.
        assert_eq!(
            status["dataSourceStatus"],
            json!({
                "state": "initializing",
                "error": {
                    "kind": "error_response",
                    "statusCode": 401,
                    "message": status["dataSourceStatus"]["error"]["message"],
                },
            })
        );
        let logs = sdk.logs();
        let reported = logs.iter().any(|log| {
            let message = log["message"].as_str().unwrap();
            log["level"] == "ERROR"
                && message.contains(&format!("HTTP error 401 (invalid SDK key) for {name}"))
        });
        assert!(reported, "the SDK logs the invalid key: {logs:#?}");
        let results = sdk.evaluate(&[evaluation("plan", user("alice"))]).await;
        assert_eq!(
            results,
            [json!({
                "value": "fallback",
                "variationIndex": null,
                "reason": {"kind": "ERROR", "errorKind": "CLIENT_NOT_READY"},
            })]
        );
        sdk.quit().await;
    }
}

#[sqlx::test(migrations = false)]
async fn python_sdk_stream_gets_401_after_its_key_is_revoked(pool: PgPool) {
    let stack = Stack::start(pool).await;
    let base_uri = stack.base_uri();
    let (mut sdk, started) = PythonSdk::start(Mode::Streaming {
        base_uri: &base_uri,
        sdk_key: &stack.environment.sdk_key,
    })
    .await;
    assert_eq!(started["initialized"], true, "{started}");
    let alice = [evaluation("plan", user("alice"))];
    let before = sdk.evaluate(&alice).await;
    assert_eq!(before[0]["reason"]["kind"], "TARGET_MATCH", "{before:?}");

    stack
        .config_api
        .revoke_key(&stack.environment.sdk_key_id)
        .await;
    // The gateway ends the stream; the SDK reconnects and is refused.
    let status = sdk
        .status_until(SDK_DEADLINE, "a 401 after the revocation", |status| {
            status["dataSourceStatus"]["error"]["statusCode"] == 401
        })
        .await;
    assert_eq!(
        status["dataSourceStatus"]["state"], "interrupted",
        "{status}"
    );
    // It keeps serving the data it had.
    assert_eq!(status["initialized"], true, "{status}");
    assert_eq!(sdk.evaluate(&alice).await, before);
    sdk.quit().await;
}

/// config-api with the test flags and segment, and a gateway, against a fresh database and a
/// fresh Redis prefix.
struct Stack {
    config_api: ConfigApi,
    environment: Environment,
    redis: RedisPrefix,
    gateway: Gateway,
}

impl Stack {
    async fn start(pool: PgPool) -> Stack {
        let config_api = ConfigApi::start(pool).await;
        let environment = config_api.project().await;
        create_flags(&config_api).await;
        let redis = RedisPrefix::new();
        let gateway = Gateway::start(gateway_config(config_api.grpc, &redis.prefix)).await;
        Stack {
            config_api,
            environment,
            redis,
            gateway,
        }
    }

    fn base_uri(&self) -> String {
        format!("http://{}", self.gateway.address)
    }

    /// Every flag (and one that never existed) for every context.
    fn evaluations(&self) -> Vec<Evaluation> {
        let mut evaluations = Vec::new();
        for context in contexts() {
            for flag in ["plan", "banner", "checkout", "limit", "retired", "missing"] {
                evaluations.push(evaluation(flag, context.clone()));
            }
        }
        evaluations
    }

    /// What `vexil-eval` gives for the evaluations on the data the gateway serves now, once
    /// that data satisfies `condition`.
    async fn expected(
        &self,
        evaluations: &[Evaluation],
        condition: impl Fn(&Value) -> bool,
    ) -> Vec<Value> {
        let payload = self
            .gateway
            .poll_until(&self.environment.sdk_key, condition)
            .await;
        let data = FlagData::from_json(&payload.to_string()).unwrap();
        evaluations
            .iter()
            .map(|evaluation| {
                let context = Context::from_json(&evaluation.context).ok();
                let detail = variation_detail(
                    &data,
                    &evaluation.flag,
                    context.as_ref(),
                    &evaluation.default,
                    ValueType::Any,
                );
                json!({
                    "value": detail.value,
                    "variationIndex": detail.variation_index,
                    "reason": detail.reason,
                })
            })
            .collect()
    }

    /// The SDK evaluates like `vexil-eval`; then a flag is turned on, a target added and a
    /// flag deleted through REST, and the SDK evaluates like `vexil-eval` on the new data.
    async fn evaluate_change_and_delete(&self, mut sdk: PythonSdk) {
        let evaluations = self.evaluations();
        let before = self
            .expected(&evaluations, |payload| {
                payload["flags"]["retired"].is_object()
            })
            .await;
        assert_covers_every_outcome(&before);
        same_results(&mut sdk, &evaluations, &before).await;

        self.config_api
            .patch_flag("limit", json!([{"kind": "turnFlagOn"}]))
            .await;
        self.config_api
            .patch_flag(
                "plan",
                json!([{"kind": "addTargets", "variation": 0, "values": ["user-3"]}]),
            )
            .await;
        self.config_api.delete_flag("retired").await;
        let after = self
            .expected(&evaluations, |payload| {
                payload["flags"]["limit"]["on"] == true
                    && payload["flags"]["plan"]["targets"]
                        .to_string()
                        .contains("user-3")
                    && payload["flags"]["retired"].is_null()
            })
            .await;
        let changed = |flag: &str, context: &Value| -> (Value, Value) {
            let index = evaluations
                .iter()
                .position(|evaluation| evaluation.flag == flag && evaluation.context == *context)
                .unwrap();
            (before[index].clone(), after[index].clone())
        };
        let (limit_before, limit_after) = changed("limit", &user("alice"));
        assert_eq!(limit_before["reason"]["kind"], "OFF");
        assert_eq!(
            limit_after,
            json!({"value": 1000, "variationIndex": 2, "reason": {"kind": "FALLTHROUGH"}})
        );
        let (plan_before, plan_after) = changed("plan", &user("user-3"));
        assert_ne!(plan_before["reason"]["kind"], "TARGET_MATCH");
        assert_eq!(
            plan_after,
            json!({"value": "free", "variationIndex": 0, "reason": {"kind": "TARGET_MATCH"}})
        );
        let (retired_before, retired_after) = changed("retired", &user("alice"));
        assert_eq!(retired_before["value"], true);
        assert_eq!(
            retired_after,
            json!({
                "value": "fallback",
                "variationIndex": null,
                "reason": {"kind": "ERROR", "errorKind": "FLAG_NOT_FOUND"},
            })
        );
        same_results(&mut sdk, &evaluations, &after).await;
        sdk.quit().await;
    }
}

/// Evaluates `flag` for `context` with the default `"fallback"`.
fn evaluation(flag: &str, context: Value) -> Evaluation {
    Evaluation {
        flag: flag.into(),
        context,
        default: json!("fallback"),
    }
}

/// Waits until the SDK's results equal `expected`; on time-out, fails naming the differences.
async fn same_results(sdk: &mut PythonSdk, evaluations: &[Evaluation], expected: &[Value]) {
    let deadline = tokio::time::Instant::now() + SDK_DEADLINE;
    loop {
        let actual = sdk.evaluate(evaluations).await;
        if actual == expected {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            let differences: Vec<String> = evaluations
                .iter()
                .zip(expected.iter().zip(&actual))
                .filter(|(_, (expected, actual))| expected != actual)
                .map(|(evaluation, (expected, actual))| {
                    format!(
                        "{} for {}:\n  vexil-eval: {expected}\n  Python SDK: {actual}",
                        evaluation.flag, evaluation.context
                    )
                })
                .collect();
            panic!(
                "the Python SDK evaluates {} of {} cases differently from vexil-eval; the first:\n{}{}",
                differences.len(),
                evaluations.len(),
                differences[..differences.len().min(8)].join("\n"),
                sdk.diagnostics()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

//! Fixtures of the client-side and OFREP tests: a project whose `test` environment's three
//! credentials are all kept, flags with each client-side availability and real targeting,
//! and the expected results computed with `vexil-eval` from the server-side payload.

use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vexil_eval::{evaluate_with_options, Context, EvaluationOptions, FlagData, Store as _};

use crate::harness::{ConfigApi, Gateway, PROJECT};

/// The `test` environment with every credential's secret.
pub struct ClientEnvironment {
    pub sdk_key: String,
    pub mobile_key: String,
    pub mobile_key_id: String,
    pub client_side_id: String,
}

/// Creates the test project; keeps the `test` environment's credentials.
pub async fn client_project(config_api: &ConfigApi) -> ClientEnvironment {
    let (status, created) = config_api
        .admin(
            Method::POST,
            "/projects",
            Some(json!({"key": PROJECT, "name": PROJECT})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let environment = created["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|environment| environment["key"] == "test")
        .unwrap();
    let key = |kind: &str| {
        environment["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|key| key["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} key in {environment}"))
            .clone()
    };
    let secret = |kind: &str| key(kind)["secret"].as_str().unwrap().to_owned();
    ClientEnvironment {
        sdk_key: secret("server"),
        mobile_key: secret("mobile"),
        mobile_key_id: key("mobile")["id"].as_str().unwrap().to_owned(),
        client_side_id: secret("client"),
    }
}

/// Flags with each availability, on, with a rule and a percentage rollout:
/// `browser` (client-side ID only), `mobile` (mobile key only, three string variations),
/// `everywhere` (both), `server-only` (neither).
pub async fn targeted_flags(config_api: &ConfigApi) {
    let flags = [
        (
            "browser",
            true,
            false,
            json!([{"value": true}, {"value": false}]),
        ),
        (
            "mobile",
            false,
            true,
            json!([{"value": "red"}, {"value": "green"}, {"value": "blue"}]),
        ),
        (
            "everywhere",
            true,
            true,
            json!([{"value": 1}, {"value": 2}]),
        ),
        (
            "server-only",
            false,
            false,
            json!([{"value": true}, {"value": false}]),
        ),
    ];
    for (key, using_environment_id, using_mobile_key, variations) in flags {
        config_api
            .flag_with(json!({
                "key": key,
                "name": key,
                "variations": variations,
                "clientSideAvailability": {
                    "usingEnvironmentId": using_environment_id,
                    "usingMobileKey": using_mobile_key,
                },
            }))
            .await;
        config_api
            .patch_flag(
                key,
                json!([
                    {"kind": "turnFlagOn"},
                    {"kind": "addRule", "variation": 0, "clauses": [{"contextKind": "user",
                        "attribute": "email", "op": "endsWith", "values": ["@example.com"]}]},
                    {"kind": "updateFallthroughVariationOrRollout", "rollout": {"variations": [
                        {"variation": 0, "weight": 30000}, {"variation": 1, "weight": 70000}]}},
                ]),
            )
            .await;
    }
}

/// Contexts that exercise the rule, both rollout buckets, multi-kind contexts and
/// old-style users.
pub fn contexts() -> Vec<Value> {
    let mut contexts: Vec<Value> = (0..12)
        .map(|index| json!({"kind": "user", "key": format!("user-{index}")}))
        .collect();
    contexts.push(json!({"kind": "user", "key": "eve", "email": "eve@example.com"}));
    contexts.push(json!({"kind": "multi", "user": {"key": "multi-1"}, "org": {"key": "acme"}}));
    contexts.push(json!({"key": "old-style", "email": "old@example.com", "secondary": "s"}));
    contexts
}

/// base64url of the context's JSON, unpadded or padded.
pub fn encode(context: &Value, is_padded: bool) -> String {
    let json = serde_json::to_vec(context).unwrap();
    if is_padded {
        URL_SAFE.encode(json)
    } else {
        URL_SAFE_NO_PAD.encode(json)
    }
}

/// The environment's flags, as server-side SDKs see them, ready for `vexil-eval`.
pub async fn server_flags(gateway: &Gateway, sdk_key: &str) -> FlagData {
    let payload = gateway
        .poll_until(sdk_key, |payload| payload["flags"].is_object())
        .await;
    FlagData::from_all_data(serde_json::from_value(payload).unwrap())
}

/// `{"value", "variation"}` per flag key, as `vexil-eval` evaluates `context` for a
/// client-side endpoint, for the flags named.
pub fn expected(data: &FlagData, context: &Value, keys: &[&str]) -> Value {
    let context = Context::from_json(context).unwrap();
    let mut expected = serde_json::Map::new();
    for key in keys {
        let flag = data.flag(key).unwrap();
        let detail = evaluate_with_options(
            flag,
            &context,
            data,
            &mut (),
            EvaluationOptions::CLIENT_SIDE,
        );
        expected.insert(
            (*key).to_owned(),
            json!({"value": detail.value, "variation": detail.variation_index,
                   "reason": detail.reason}),
        );
    }
    Value::Object(expected)
}

/// The `value`, `variation` and `reason` of each flag of an evalx response (`reason` as
/// `null` without `withReasons`).
pub fn results(response: &Value) -> Value {
    let object = response.as_object().unwrap();
    Value::Object(
        object
            .iter()
            .map(|(key, flag)| {
                (
                    key.clone(),
                    json!({"value": flag["value"], "variation": flag["variation"],
                           "reason": flag["reason"]}),
                )
            })
            .collect(),
    )
}

/// `results` with every reason dropped.
pub fn without_reasons(mut results: Value) -> Value {
    for flag in results.as_object_mut().unwrap().values_mut() {
        flag["reason"] = Value::Null;
    }
    results
}

/// Sends `method path` with optional `Authorization` and JSON body; returns status,
/// headers and JSON body (`null` when empty).
pub async fn call(
    gateway: &Gateway,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    body: Option<&Value>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request = gateway.client.request(
        Method::from_bytes(method.as_bytes()).unwrap(),
        gateway.url(path),
    );
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|error| panic!("{status} {method} {path}: {error}: {bytes:?}"))
    };
    (status, headers, json)
}

//! Client-side and mobile polling (`/sdk/evalx/...`, `/msdk/evalx/...`): results equal
//! `vexil-eval`'s, each credential sees its flags, bad requests get JSON errors.

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::client_env::{
    call, client_project, contexts, encode, expected, results, server_flags, targeted_flags,
    without_reasons,
};
use crate::harness::{gateway_config, ConfigApi, Gateway, RedisPrefix};

#[sqlx::test(migrations = false)]
async fn evalx_results_equal_vexil_eval_for_each_credential(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = client_project(&config_api).await;
    targeted_flags(&config_api).await;
    let redis = RedisPrefix::new();
    let gateway = Gateway::start(gateway_config(config_api.grpc, &redis.prefix)).await;
    let data = server_flags(&gateway, &environment.sdk_key).await;
    let id = &environment.client_side_id;
    let mobile = Some(environment.mobile_key.as_str());
    let sdk = Some(environment.sdk_key.as_str());

    for (index, context) in contexts().iter().enumerate() {
        let b64 = encode(context, index % 2 == 0);
        let browser = expected(&data, context, &["browser", "everywhere"]);
        let mobile_flags = expected(&data, context, &["everywhere", "mobile"]);
        let all = expected(
            &data,
            context,
            &["browser", "everywhere", "mobile", "server-only"],
        );
        let cases = [
            (
                "GET",
                format!("/sdk/evalx/{id}/contexts/{b64}"),
                None,
                &browser,
            ),
            (
                "GET",
                format!("/sdk/evalx/{id}/users/{b64}"),
                None,
                &browser,
            ),
            ("REPORT", format!("/sdk/evalx/{id}/context"), None, &browser),
            ("REPORT", format!("/sdk/evalx/{id}/user"), None, &browser),
            (
                "GET",
                format!("/msdk/evalx/contexts/{b64}"),
                mobile,
                &mobile_flags,
            ),
            (
                "GET",
                format!("/msdk/evalx/users/{b64}"),
                mobile,
                &mobile_flags,
            ),
            (
                "REPORT",
                "/msdk/evalx/context".to_owned(),
                mobile,
                &mobile_flags,
            ),
            (
                "REPORT",
                "/msdk/evalx/user".to_owned(),
                mobile,
                &mobile_flags,
            ),
            ("GET", format!("/sdk/evalx/contexts/{b64}"), sdk, &all),
            ("REPORT", "/sdk/evalx/context".to_owned(), sdk, &all),
        ];
        for (method, path, authorization, expected) in cases {
            let body = (method == "REPORT").then_some(context);
            let (status, headers, response) =
                call(&gateway, method, &path, authorization, body).await;
            assert_eq!(status, StatusCode::OK, "{method} {path}: {response}");
            assert_eq!(headers["content-type"], "application/json");
            assert_eq!(
                results(&response),
                without_reasons(expected.clone()),
                "{method} {path} for {context}"
            );
            let with_reasons = format!("{path}?withReasons=true");
            let (_, _, response) = call(&gateway, method, &with_reasons, authorization, body).await;
            assert_eq!(&results(&response), expected, "{method} {with_reasons}");
        }
    }

    // The entry of spec 7.3: the environment revision as `version`, the flag's own version.
    let context = json!({"kind": "user", "key": "eve", "email": "eve@example.com"});
    let path = format!("/sdk/evalx/{id}/contexts/{}", encode(&context, false));
    let (_, _, response) = call(&gateway, "GET", &path, None, None).await;
    let browser = &response["browser"];
    assert_eq!(browser["value"], true);
    assert_eq!(browser["variation"], 0);
    assert!(browser["flagVersion"].as_u64().unwrap() >= 1);
    assert!(browser["version"].as_u64().unwrap() >= browser["flagVersion"].as_u64().unwrap());
    assert!(browser.get("reason").is_none());
    gateway.stop().await;
    config_api.stop().await;
}

/// Method, path, `Authorization`, body, expected status and JSON body.
type ErrorCase<'a> = (
    &'a str,
    String,
    Option<&'a str>,
    Option<Value>,
    StatusCode,
    Value,
);

#[sqlx::test(migrations = false)]
async fn bad_requests_get_json_errors_naming_the_problem(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = client_project(&config_api).await;
    let redis = RedisPrefix::new();
    let mut config = gateway_config(config_api.grpc, &redis.prefix);
    config.http.body_limit_bytes = 1024;
    let gateway = Gateway::start(config).await;
    let id = &environment.client_side_id;
    let user = json!({"kind": "user", "key": "u"});
    let b64 = encode(&user, false);
    let mobile = Some(environment.mobile_key.as_str());

    let error = |code: &str, message: &str| json!({"code": code, "message": message});
    let cases: Vec<ErrorCase> = vec![
        (
            "GET",
            format!("/sdk/evalx/{id}/contexts/not*base64"),
            None,
            None,
            StatusCode::BAD_REQUEST,
            error(
                "invalid_argument",
                "context in the URL path is not base64url: Invalid symbol 42, offset 3.",
            ),
        ),
        (
            "REPORT",
            format!("/sdk/evalx/{id}/context"),
            None,
            Some(json!({"kind": "org"})),
            StatusCode::BAD_REQUEST,
            error(
                "invalid_argument",
                r#"invalid context: context of kind "org" has no key: key must be a non-empty string"#,
            ),
        ),
        (
            "GET",
            format!("/sdk/evalx/no-such-id/contexts/{b64}"),
            None,
            None,
            StatusCode::NOT_FOUND,
            error("not_found", "unknown client-side ID"),
        ),
        (
            "GET",
            format!("/eval/no-such-id/{b64}"),
            None,
            None,
            StatusCode::NOT_FOUND,
            error("not_found", "unknown client-side ID"),
        ),
        (
            "GET",
            format!("/msdk/evalx/contexts/{b64}"),
            Some("mob-not-a-real-key"),
            None,
            StatusCode::UNAUTHORIZED,
            error(
                "unauthenticated",
                "missing, unknown, revoked or expired mobile key",
            ),
        ),
        (
            "GET",
            format!("/msdk/evalx/contexts/{b64}"),
            Some(environment.sdk_key.as_str()),
            None,
            StatusCode::UNAUTHORIZED,
            error(
                "unauthenticated",
                "missing, unknown, revoked or expired mobile key",
            ),
        ),
        (
            "REPORT",
            "/meval".to_owned(),
            None,
            Some(user.clone()),
            StatusCode::UNAUTHORIZED,
            error(
                "unauthenticated",
                "missing, unknown, revoked or expired mobile key",
            ),
        ),
        (
            "GET",
            format!("/sdk/evalx/contexts/{b64}"),
            mobile,
            None,
            StatusCode::UNAUTHORIZED,
            error(
                "unauthenticated",
                "missing, unknown, revoked or expired SDK key",
            ),
        ),
        (
            "REPORT",
            "/msdk/evalx/context".to_owned(),
            mobile,
            Some(json!({"kind": "user", "key": "u", "padding": "x".repeat(2000)})),
            StatusCode::PAYLOAD_TOO_LARGE,
            error(
                "payload_too_large",
                "request body is larger than 1024 bytes",
            ),
        ),
        (
            "GET",
            "/msdk/evalx/context".to_owned(),
            mobile,
            None,
            StatusCode::METHOD_NOT_ALLOWED,
            error(
                "method_not_allowed",
                "method GET is not allowed here: use REPORT",
            ),
        ),
    ];
    for (method, path, authorization, body, status, expected) in cases {
        let (actual, headers, response) =
            call(&gateway, method, &path, authorization, body.as_ref()).await;
        assert_eq!((actual, &response), (status, &expected), "{method} {path}");
        assert_eq!(
            headers["content-type"], "application/json",
            "{method} {path}"
        );
    }

    // A body that is not JSON by its type, and one that is not JSON at all.
    let report = reqwest::Method::from_bytes(b"REPORT").unwrap();
    let response = gateway
        .client
        .request(
            report.clone(),
            gateway.url(&format!("/sdk/evalx/{id}/context")),
        )
        .header("content-type", "text/plain")
        .body(r#"{"key":"u"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let response = gateway
        .client
        .request(report, gateway.url(&format!("/sdk/evalx/{id}/context")))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("context is not valid JSON"));
    gateway.stop().await;
    config_api.stop().await;
}

#[tokio::test]
async fn nothing_loaded_yet_is_503_on_every_client_endpoint() {
    let redis = RedisPrefix::new();
    // Nobody listens on the discard port: config-api never answers, Redis holds nothing.
    let config = gateway_config("127.0.0.1:9".parse().unwrap(), &redis.prefix);
    let gateway = Gateway::start_unready(config).await;
    let b64 = encode(&json!({"key": "u"}), false);
    let cases = [
        ("GET", format!("/sdk/evalx/some-id/contexts/{b64}"), None),
        ("GET", format!("/msdk/evalx/contexts/{b64}"), Some("mob-x")),
        ("GET", format!("/msdk/evalx/contexts/{b64}"), None),
        ("GET", format!("/eval/some-id/{b64}"), None),
        (
            "POST",
            "/ofrep/v1/evaluate/flags".to_owned(),
            Some("Bearer sdk-x"),
        ),
    ];
    for (method, path, authorization) in cases {
        let body = (method == "POST").then(|| json!({"context": {"targetingKey": "u"}}));
        let (status, headers, _) =
            call(&gateway, method, &path, authorization, body.as_ref()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{method} {path}");
        assert_eq!(headers["retry-after"], "1", "{method} {path}");
    }
    gateway.stop().await;
}

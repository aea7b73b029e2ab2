//! OFREP: single-flag and bulk evaluation, authentication, errors of spec 8.4, and the bulk
//! ETag (304 for the same context, a new one after a context or flag change).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;
use vexil_eval::{evaluate, Context, Store as _};

use crate::client_env::{call, client_project, server_flags, targeted_flags};
use crate::harness::{gateway_config, ConfigApi, Gateway, RedisPrefix, DEADLINE};

const BULK: &str = "/ofrep/v1/evaluate/flags";

fn single(key: &str) -> String {
    format!("/ofrep/v1/evaluate/flags/{key}")
}

#[sqlx::test(migrations = false)]
async fn single_flag_results_match_vexil_eval_and_errors_follow_the_spec(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = client_project(&config_api).await;
    targeted_flags(&config_api).await;
    let redis = RedisPrefix::new();
    let gateway = Gateway::start(gateway_config(config_api.grpc, &redis.prefix)).await;
    let data = server_flags(&gateway, &environment.sdk_key).await;
    let bearer = format!("Bearer {}", environment.sdk_key);

    for index in 0..8 {
        let context = json!({"targetingKey": format!("user-{index}"), "plan": "pro"});
        let ld_context = Context::from_json(
            &json!({"kind": "user", "key": format!("user-{index}"), "plan": "pro"}),
        )
        .unwrap();
        for key in ["browser", "mobile", "everywhere", "server-only"] {
            let body = json!({"context": context});
            let (status, _, result) =
                call(&gateway, "POST", &single(key), Some(&bearer), Some(&body)).await;
            assert_eq!(status, StatusCode::OK, "{key}: {result}");
            let detail = evaluate(data.flag(key).unwrap(), &ld_context, &data);
            assert_eq!(result["key"], key);
            assert_eq!(Some(&result["value"]), detail.value, "{key} for {context}");
            assert_eq!(
                result["variant"],
                detail.variation_index.unwrap().to_string()
            );
            assert_eq!(result["reason"], "SPLIT");
            assert_eq!(result["metadata"]["ldReasonKind"], "FALLTHROUGH");
        }
    }
    let eve = json!({"context": {"targetingKey": "eve", "email": "eve@example.com"}});
    let (_, _, result) = call(
        &gateway,
        "POST",
        &single("mobile"),
        Some(&bearer),
        Some(&eve),
    )
    .await;
    assert_eq!(
        (&result["value"], &result["reason"], &result["variant"]),
        (&json!("red"), &json!("TARGETING_MATCH"), &json!("0"))
    );

    // X-API-Key with a client-side ID sees only the flags available to it.
    let response = gateway
        .client
        .post(gateway.url(&single("server-only")))
        .header("x-api-key", &environment.client_side_id)
        .json(&eve)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"key": "server-only", "errorCode": "FLAG_NOT_FOUND",
               "errorDetails": "flag `server-only` not found"})
    );

    let auth = Some(bearer.as_str());
    let cases = [
        (
            single("nope"),
            auth,
            Some(eve.clone()),
            StatusCode::NOT_FOUND,
            "FLAG_NOT_FOUND",
        ),
        (
            single("browser"),
            auth,
            Some(json!({"ctx": {}})),
            StatusCode::BAD_REQUEST,
            "PARSE_ERROR",
        ),
        (
            single("browser"),
            auth,
            Some(json!({"context": {"plan": "pro"}})),
            StatusCode::BAD_REQUEST,
            "TARGETING_KEY_MISSING",
        ),
        (
            single("browser"),
            auth,
            Some(json!({"context": {"kind": "multi"}})),
            StatusCode::BAD_REQUEST,
            "INVALID_CONTEXT",
        ),
        (
            BULK.to_owned(),
            auth,
            Some(json!({"context": {"targetingKey": ""}})),
            StatusCode::BAD_REQUEST,
            "TARGETING_KEY_MISSING",
        ),
    ];
    for (path, authorization, body, status, code) in cases {
        let (actual, _, result) = call(&gateway, "POST", &path, authorization, body.as_ref()).await;
        assert_eq!(
            (actual, &result["errorCode"]),
            (status, &json!(code)),
            "{path} {body:?}: {result}"
        );
        assert!(result["errorDetails"].is_string(), "{result}");
        assert_eq!(result.get("key").is_some(), path != BULK, "{result}");
    }
    for authorization in [None, Some("Bearer sdk-not-a-key"), Some("Bearer ")] {
        let (status, _, result) = call(&gateway, "POST", BULK, authorization, Some(&eve)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{authorization:?}");
        assert!(result["errorDetails"].is_string());
    }
    let response = gateway
        .client
        .post(gateway.url(BULK))
        .header("authorization", &bearer)
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json::<Value>().await.unwrap()["errorCode"],
        "PARSE_ERROR"
    );
    let response = gateway
        .client
        .post(gateway.url(BULK))
        .header("authorization", &bearer)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("context=1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    gateway.stop().await;
    config_api.stop().await;
}

#[sqlx::test(migrations = false)]
async fn bulk_etag_covers_the_context_and_the_configuration(pool: PgPool) {
    let config_api = ConfigApi::start(pool).await;
    let environment = client_project(&config_api).await;
    targeted_flags(&config_api).await;
    let redis = RedisPrefix::new();
    let gateway = Gateway::start(gateway_config(config_api.grpc, &redis.prefix)).await;
    let bulk = |key: &str, context: Value, etag: Option<&str>| {
        let mut request = gateway
            .client
            .request(Method::POST, gateway.url(BULK))
            .header("x-api-key", key)
            .json(&json!({"context": context}));
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        request.send()
    };
    let mobile = environment.mobile_key.as_str();
    let context = json!({"targetingKey": "u-5", "plan": "pro", "nested": {"b": 1, "a": 2}});

    let response = bulk(mobile, context.clone(), None).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    let keys: Vec<&str> = body["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|flag| flag["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["everywhere", "mobile"]);
    assert!(body["metadata"]["environmentRevision"].as_u64().is_some());

    // The same context, its properties in another order: 304, no body.
    let reordered = json!({"nested": {"a": 2, "b": 1}, "plan": "pro", "targetingKey": "u-5"});
    let response = bulk(mobile, reordered, Some(&etag)).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(response.headers()["etag"], etag.as_str());
    assert!(response.bytes().await.unwrap().is_empty());

    // Another context, or another credential kind: another ETag.
    let changed = json!({"targetingKey": "u-5", "plan": "free", "nested": {"b": 1, "a": 2}});
    let response = bulk(mobile, changed, Some(&etag)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_ne!(response.headers()["etag"], etag.as_str());
    let response = bulk(&environment.sdk_key, context.clone(), Some(&etag))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // A flag change: the next poll gets 200 with a new ETag.
    config_api
        .patch_flag("mobile", json!([{"kind": "turnFlagOff"}]))
        .await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let response = bulk(mobile, context.clone(), Some(&etag)).await.unwrap();
        if response.status() == StatusCode::OK {
            assert_ne!(response.headers()["etag"], etag.as_str());
            let body: Value = response.json().await.unwrap();
            let mobile_flag = body["flags"]
                .as_array()
                .unwrap()
                .iter()
                .find(|flag| flag["key"] == "mobile")
                .unwrap();
            assert_eq!(mobile_flag["reason"], "DISABLED");
            break;
        }
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        assert!(
            tokio::time::Instant::now() < deadline,
            "the ETag never changed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    gateway.stop().await;
    config_api.stop().await;
}

//! Flags: creation, targeting through PATCH and PUT, validation, versions, archiving.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::harness::Server;

#[sqlx::test]
async fn a_new_flag_is_off_everywhere_at_version_1(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    let flag = server.flag("shop", "checkout").await;
    assert_eq!(flag["kind"], "boolean");
    for environment in ["production", "test"] {
        let sdk = &flag["environments"][environment];
        assert_eq!(sdk["version"], 1, "{sdk}");
        assert_eq!(sdk["on"], false);
        assert_eq!(sdk["offVariation"], 1);
        assert_eq!(sdk["fallthrough"], json!({"variation": 0}));
        assert_eq!(sdk["variations"], json!([true, false]));
    }
    let (status, headers, body) = server
        .call_raw(
            Some(crate::harness::ADMIN_TOKEN),
            Method::GET,
            "/projects/shop/environments/test/flags/checkout",
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["etag"], "\"1\"");
    let sdk: Value = serde_json::from_slice(&body).unwrap();
    // The fields spec section 1.1 says are always emitted.
    for field in [
        "key",
        "version",
        "on",
        "variations",
        "offVariation",
        "fallthrough",
        "targets",
        "contextTargets",
        "rules",
        "prerequisites",
        "salt",
        "trackEvents",
        "trackEventsFallthrough",
        "debugEventsUntilDate",
        "clientSide",
        "deleted",
    ] {
        assert!(sdk.get(field).is_some(), "missing {field} in {sdk}");
    }
    server.stop().await;
}

#[sqlx::test]
async fn patch_instructions_change_one_environment(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    let (status, body) = server
        .patch_test(
            "shop",
            "checkout",
            json!([
                {"kind": "turnFlagOn"},
                {"kind": "addTargets", "contextKind": "user", "variation": 0, "values": ["alice"]},
                {"kind": "addRule", "clauses": [{"attribute": "country", "op": "in", "values": ["NZ"], "contextKind": "user"}], "variation": 0}
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["version"], 2);
    assert_eq!(body["on"], true);
    assert_eq!(body["targets"][0]["values"], json!(["alice"]));
    assert_eq!(body["rules"][0]["clauses"][0]["values"], json!(["NZ"]));
    assert!(!body["rules"][0]["id"].as_str().unwrap().is_empty());

    let (_, flag) = server
        .admin(Method::GET, "/projects/shop/flags/checkout", None)
        .await;
    assert_eq!(
        flag["environments"]["production"]["on"], false,
        "other environments untouched"
    );
    assert_eq!(flag["environments"]["production"]["version"], 1);

    // A failing instruction applies nothing.
    let (status, body) = server
        .patch_test(
            "shop",
            "checkout",
            json!([{"kind": "turnFlagOff"}, {"kind": "removeRule", "ruleId": "nope"}]),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["path"], "instructions[1]");
    let (_, flag) = server
        .admin(Method::GET, "/projects/shop/flags/checkout", None)
        .await;
    assert_eq!(flag["environments"]["test"]["on"], true);
    assert_eq!(flag["environments"]["test"]["version"], 2);

    let (status, body) = server
        .patch_test("shop", "checkout", json!([{"kind": "turnFlagOnn"}]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("turnFlagOnn"),
        "{body}"
    );
    server.stop().await;
}

#[sqlx::test]
async fn put_replaces_targeting_and_honours_if_match(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    let path = "/projects/shop/environments/test/flags/checkout";
    let (_, mut sdk) = server.admin(Method::GET, path, None).await;
    sdk["on"] = json!(true);
    sdk["fallthrough"] = json!({"rollout": {"variations": [{"variation": 0, "weight": 25000}, {"variation": 1, "weight": 75000}]}});
    let token = Some(crate::harness::ADMIN_TOKEN);
    let (status, body) = server
        .call(
            token,
            Method::PUT,
            path,
            Some(sdk.clone()),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["version"], 2);
    assert_eq!(
        body["fallthrough"]["rollout"]["variations"][1]["weight"],
        75000
    );

    // The same body again is stale: it says version 1.
    let (status, body) = server
        .call(
            token,
            Method::PUT,
            path,
            Some(sdk.clone()),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("version 2"),
        "{body}"
    );

    // Project-owned fields cannot change through an environment.
    let mut changed = body_at(&server, path).await;
    changed["variations"] = json!([false, true]);
    let (status, body) = server
        .call(token, Method::PUT, path, Some(changed), &[])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["path"], "variations");
    server.stop().await;
}

async fn body_at(server: &Server, path: &str) -> Value {
    let (status, body) = server.admin(Method::GET, path, None).await;
    assert_eq!(status, StatusCode::OK);
    body
}

#[sqlx::test]
async fn invalid_targeting_is_rejected_with_json_paths(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    let path = "/projects/shop/environments/test/flags/checkout";
    let token = Some(crate::harness::ADMIN_TOKEN);
    let cases: Vec<(Value, &str)> = vec![
        (json!({"offVariation": 7}), "offVariation"),
        (
            json!({"fallthrough": {"rollout": {"variations": [{"variation": 0, "weight": 1}]}}}),
            "fallthrough.rollout",
        ),
        (
            json!({"rules": [{"id": "r", "variation": 0, "clauses": [{"attribute": "a", "op": "matches", "values": ["("]}]}]}),
            "rules[0].clauses[0].values[0]",
        ),
        (
            json!({"rules": [{"id": "r", "variation": 0, "clauses": [{"attribute": "a", "op": "bogus", "values": ["x"]}]}]}),
            "rules[0].clauses[0].op",
        ),
        (
            json!({"rules": [{"id": "r", "variation": 0, "clauses": [{"attribute": "a", "op": "greaterThan", "values": ["x"]}]}]}),
            "rules[0].clauses[0].values[0]",
        ),
        (
            json!({"prerequisites": [{"key": "missing", "variation": 0}]}),
            "prerequisites[0]",
        ),
    ];
    for (patch, expected_path) in cases {
        let mut sdk = body_at(&server, path).await;
        for (field, value) in patch.as_object().unwrap() {
            sdk[field] = value.clone();
        }
        let (status, body) = server.call(token, Method::PUT, path, Some(sdk), &[]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{patch}: {body}");
        let paths: Vec<_> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["path"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            paths.iter().any(|path| path.starts_with(expected_path)),
            "{patch}: expected an error at {expected_path}, got {body}"
        );
    }
    assert_eq!(
        body_at(&server, path).await["version"],
        1,
        "nothing was stored"
    );
    server.stop().await;
}

#[sqlx::test]
async fn prerequisite_cycles_are_rejected_at_write_time(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    server.flag("shop", "a").await;
    server.flag("shop", "b").await;
    let (status, body) = server
        .patch_test(
            "shop",
            "a",
            json!([{"kind": "addPrerequisite", "key": "b", "variation": 0}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server
        .patch_test(
            "shop",
            "b",
            json!([{"kind": "addPrerequisite", "key": "a", "variation": 0}]),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("cycle"), "{body}");

    // A flag that is a prerequisite cannot be archived or deleted.
    let (status, body) = server
        .admin(Method::DELETE, "/projects/shop/flags/b", None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = server
        .admin(Method::POST, "/projects/shop/flags/b/archive", None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    server.stop().await;
}

#[sqlx::test]
async fn list_filters_and_pages(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    for (key, tags) in [
        ("alpha", json!(["ui"])),
        ("beta", json!(["ui", "beta"])),
        ("gamma", json!([])),
    ] {
        let (status, body) = server
            .admin(
                Method::POST,
                "/projects/shop/flags",
                Some(json!({"key": key, "name": format!("The {key} flag"), "tags": tags})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let keys = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["key"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, body) = server
        .admin(Method::GET, "/projects/shop/flags?tag=ui", None)
        .await;
    assert_eq!(keys(&body), ["alpha", "beta"]);
    let (_, body) = server
        .admin(Method::GET, "/projects/shop/flags?q=GAM", None)
        .await;
    assert_eq!(keys(&body), ["gamma"]);
    let (_, body) = server
        .admin(Method::GET, "/projects/shop/flags?limit=2&offset=1", None)
        .await;
    assert_eq!(keys(&body), ["beta", "gamma"]);
    assert_eq!(body["totalCount"], 3);

    let (status, _) = server
        .admin(Method::POST, "/projects/shop/flags/alpha/archive", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = server
        .admin(Method::GET, "/projects/shop/flags?archived=false", None)
        .await;
    assert_eq!(keys(&body), ["beta", "gamma"]);
    let (status, body) = server
        .admin(Method::GET, "/projects/shop/flags?limit=0", None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    server.stop().await;
}

#[sqlx::test]
async fn project_fields_update_bumps_every_environment(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    let (status, body) = server
        .admin(
            Method::POST,
            "/projects/shop/flags",
            Some(json!({"key": "colour", "name": "Colour", "variations": [{"value": "red"}, {"value": "blue"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["kind"], "multivariate");
    let (status, body) = server
        .admin(
            Method::PUT,
            "/projects/shop/flags/colour",
            Some(json!({"name": "Colour", "variations": [{"value": "red"}, {"value": "blue"}, {"value": "green", "name": "Green"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["environments"]["test"]["version"], 2);
    assert_eq!(
        body["environments"]["production"]["variations"],
        json!(["red", "blue", "green"])
    );

    // Dropping a variation that targeting uses is refused, naming the environment.
    let (status, body) = server
        .admin(
            Method::PUT,
            "/projects/shop/flags/colour",
            Some(json!({"name": "Colour", "variations": [{"value": "red"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    server.stop().await;
}

#[sqlx::test]
async fn versions_continue_after_delete_and_recreate(pool: PgPool) {
    let server = Server::start(pool).await;
    server.project("shop").await;
    server.flag("shop", "checkout").await;
    server
        .patch_test("shop", "checkout", json!([{"kind": "turnFlagOn"}]))
        .await;
    let (status, _) = server
        .admin(Method::DELETE, "/projects/shop/flags/checkout", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let flag = server.flag("shop", "checkout").await;
    // test: 1 (create), 2 (on), 3 (tombstone), 4 (re-created).
    assert_eq!(flag["environments"]["test"]["version"], 4);
    assert_eq!(flag["environments"]["production"]["version"], 3);
    server.stop().await;
}

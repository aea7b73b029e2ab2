//! The OpenAPI document at `/api/v1/openapi.json`: public, well-formed, and every operation
//! it lists is routed and asks for a token.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use sqlx::PgPool;

use crate::harness::Server;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[sqlx::test]
async fn the_document_is_public_openapi_3_1_with_resolvable_references(pool: PgPool) {
    let server = Server::start(pool).await;
    let document = fetch_document(&server).await;
    let version = document["openapi"].as_str().unwrap_or_default();
    assert!(
        version.starts_with("3.1"),
        "openapi is `{version}`, not 3.1.x"
    );
    let mut unresolved = Vec::new();
    collect_unresolved(&document, &document, &mut unresolved);
    assert!(unresolved.is_empty(), "unresolved $refs: {unresolved:?}");
    server.stop().await;
}

/// Called without a token, a routed operation answers 401 (a missing route would be 404,
/// a missing method 405); operations the document marks public (`security: []`) answer 200.
#[sqlx::test]
async fn every_documented_operation_is_routed_and_asks_for_a_token(pool: PgPool) {
    let server = Server::start(pool).await;
    let document = fetch_document(&server).await;
    let paths = document["paths"].as_object().expect("`paths` is an object");
    let mut failures = Vec::new();
    let mut checked = 0;
    for (template, item) in paths {
        for (method, operation) in item.as_object().expect("a path item is an object") {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            let path = sample_path(&document, template, item, operation);
            let is_public = operation["security"].as_array().is_some_and(Vec::is_empty);
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, _, body) = server
                .call_raw(None, method.clone(), &path, None, &[])
                .await;
            checked += 1;
            let expected = if is_public {
                StatusCode::OK
            } else {
                StatusCode::UNAUTHORIZED
            };
            if status != expected {
                let body = String::from_utf8_lossy(&body);
                failures.push(format!(
                    "{method} {path}: {status}, expected {expected} ({body})"
                ));
            }
            let description = operation["description"].as_str().unwrap_or_default();
            if !is_public && !description.starts_with("Requires role **") {
                failures.push(format!("{method} {template}: description names no role"));
            }
        }
    }
    assert!(checked > 20, "only {checked} operations documented");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    server.stop().await;
}

async fn fetch_document(server: &Server) -> Value {
    let (status, headers, body) = server
        .call_raw(None, Method::GET, "/openapi.json", None, &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    serde_json::from_slice(&body).expect("the document is JSON")
}

/// Every `$ref` in `value` that is not a JSON pointer into `document` naming a value.
fn collect_unresolved(document: &Value, value: &Value, unresolved: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            if let Some(reference) = object.get("$ref") {
                let target = reference
                    .as_str()
                    .and_then(|reference| reference.strip_prefix('#'))
                    .and_then(|pointer| document.pointer(pointer));
                if target.is_none() {
                    unresolved.push(reference.to_string());
                }
            }
            for item in object.values() {
                collect_unresolved(document, item, unresolved);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_unresolved(document, item, unresolved);
            }
        }
        _ => {}
    }
}

/// The path template with each path parameter replaced by a plausible value: the first of
/// its `enum`, a UUID for `format: uuid`, otherwise a key that fits its name.
fn sample_path(document: &Value, template: &str, item: &Value, operation: &Value) -> String {
    let parameters = [&item["parameters"], &operation["parameters"]]
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
        .map(|parameter| resolve(document, parameter));
    let mut path = template.to_owned();
    for parameter in parameters.filter(|parameter| parameter["in"] == "path") {
        let name = parameter["name"].as_str().expect("a parameter has a name");
        let schema = resolve(document, &parameter["schema"]);
        let value = if let Some(first) = schema["enum"].get(0).and_then(Value::as_str) {
            first
        } else if schema["format"] == "uuid" {
            "0b8a3c1e-6a2f-4d5e-9c7b-1f2e3d4c5b6a"
        } else {
            match name {
                "project" => "shop",
                "environment" => "test",
                "flag" => "checkout",
                "segment" => "beta-testers",
                _ => "sample",
            }
        };
        path = path.replace(&format!("{{{name}}}"), value);
    }
    assert!(
        !path.contains('{'),
        "{template}: a path parameter is not declared"
    );
    path
}

fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"]
        .as_str()
        .and_then(|reference| reference.strip_prefix('#'))
    {
        Some(pointer) => document.pointer(pointer).expect("references resolve"),
        None => value,
    }
}

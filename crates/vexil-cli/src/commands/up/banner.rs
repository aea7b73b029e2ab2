//! What `vexil up` prints once everything is ready: where the APIs are, the admin token, the
//! demo's keys and a first command to try. Printed to stdout, never logged.

use std::fmt::Write;

use super::data_dir::DataDir;
use super::demo::{Demo, PROJECT};
use super::platform::Platform;

pub fn render(
    platform: &Platform,
    admin_token: &str,
    demo: Option<&Demo>,
    data: &DataDir,
) -> String {
    let api = platform.api_url();
    let sdk = platform.sdk_url();
    let data = data.path().display();
    let mut text = String::new();
    let _ = writeln!(text, "Vexil is running.\n");
    let _ = writeln!(
        text,
        "  Admin API    {api}/api/v1  (OpenAPI document at /api/v1/openapi.json)"
    );
    let _ = writeln!(text, "  SDK URL      {sdk}  (base, stream and events URI for LaunchDarkly SDKs; OFREP at {sdk}/ofrep/v1)");
    let _ = writeln!(
        text,
        "  Metrics      {sdk}/metrics  (Prometheus, all four services)"
    );
    let _ = writeln!(
        text,
        "  Admin token  {admin_token}  (kept in {data}/admin-token)"
    );
    match demo {
        Some(Demo::Created(keys)) => {
            let _ = writeln!(
                text,
                "\nDemo project \"{}\" (keys kept in {data}/demo.json):",
                keys.project
            );
            for environment in &keys.environments {
                let _ = writeln!(
                    text,
                    "  {:<11} SDK key {}  mobile key {}  client-side ID {}",
                    environment.key,
                    environment.sdk_key,
                    environment.mobile_key,
                    environment.client_side_id
                );
            }
            if let Some(test) = keys.environments.iter().find(|e| e.key == "test") {
                let _ = writeln!(text, "\nTry:");
                let _ = writeln!(text, "  curl -H 'Authorization: Bearer {admin_token}' {api}/api/v1/projects/{PROJECT}/flags");
                let _ = writeln!(
                    text,
                    "  curl -H 'Authorization: {}' -H 'content-type: application/json' -d '{{\"context\": {{\"kind\": \"user\", \"key\": \"alice\"}}}}' {sdk}/ofrep/v1/evaluate/flags",
                    test.sdk_key
                );
            }
        }
        Some(Demo::KeysUnknown) => {
            let _ = writeln!(
                text,
                "\nDemo project \"{PROJECT}\" exists, but its keys are not in {data}: rotate them with\n  POST {api}/api/v1/projects/{PROJECT}/environments/test/keys/sdk/rotate"
            );
        }
        None => {}
    }
    let _ = write!(text, "\nStop with Ctrl-C.");
    text
}

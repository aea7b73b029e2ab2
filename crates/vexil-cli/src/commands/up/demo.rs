//! The demo project `vexil up` creates on first start, through config-api's REST API like
//! any client would: three flags, turned on with targeting in `test`, so an SDK pointed at
//! the printed URL and the `test` key has something to evaluate straight away.
//!
//! The keys the API returns once are kept in the data directory; when the project already
//! exists but its keys are not there (the directory was deleted), nothing is created and the
//! banner says where to get new keys.

use anyhow::{bail, Context};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::data_dir::{DataDir, DemoKeys, EnvironmentKeys};

pub const PROJECT: &str = "demo";

/// Whether the demo exists, and its keys when they are known.
#[derive(Debug)]
pub enum Demo {
    Created(DemoKeys),
    /// Created by an earlier start whose data directory is gone.
    KeysUnknown,
}

/// Creates the demo unless an earlier start did.
pub async fn ensure(api_url: &str, admin_token: &str, data: &DataDir) -> anyhow::Result<Demo> {
    if let Some(keys) = data.demo_keys()? {
        return Ok(Demo::Created(keys));
    }
    let api = Api {
        client: reqwest::Client::new(),
        base: format!("{api_url}/api/v1"),
        token: admin_token,
    };
    let (status, project) = api
        .call(
            Method::POST,
            "/projects",
            json!({"key": PROJECT, "name": "Demo", "description": "Created by `vexil up`."}),
        )
        .await?;
    match status {
        StatusCode::CREATED => {}
        StatusCode::CONFLICT => return Ok(Demo::KeysUnknown),
        status => bail!("creating the demo project: config-api answered {status}: {project}"),
    }
    let keys = DemoKeys {
        project: PROJECT.into(),
        environments: environment_keys(&project)?,
    };
    // Saved before the flags, so a failure below never loses the only copy of the keys.
    data.save_demo_keys(&keys)?;
    for (flag, instructions) in flags() {
        let key = flag["key"].clone();
        api.expect(
            Method::POST,
            &format!("/projects/{PROJECT}/flags"),
            flag,
            StatusCode::CREATED,
        )
        .await?;
        let key = key.as_str().unwrap_or_default();
        api.expect(
            Method::PATCH,
            &format!("/projects/{PROJECT}/flags/{key}"),
            json!({"environmentKey": "test", "comment": "demo targeting", "instructions": instructions}),
            StatusCode::OK,
        )
        .await?;
    }
    Ok(Demo::Created(keys))
}

/// The demo flags and their targeting in `test`.
fn flags() -> Vec<(Value, Value)> {
    let both_client_sides = json!({"usingEnvironmentId": true, "usingMobileKey": true});
    vec![
        (
            json!({"key": "new-checkout", "name": "New checkout",
                   "description": "A temporary release flag, rolled out to a quarter of users.",
                   "temporary": true, "clientSideAvailability": both_client_sides}),
            json!([
                {"kind": "turnFlagOn"},
                {"kind": "addTargets", "contextKind": "user", "variation": 0, "values": ["alice"]},
                {"kind": "updateFallthroughVariationOrRollout", "rollout": {"variations": [
                    {"variation": 0, "weight": 25000}, {"variation": 1, "weight": 75000}]}},
            ]),
        ),
        (
            json!({"key": "banner-message", "name": "Banner message", "kind": "multivariate",
                   "temporary": false, "clientSideAvailability": both_client_sides,
                   "variations": [{"value": "Welcome!", "name": "default"},
                                  {"value": "Free shipping this week", "name": "promotion"}],
                   "defaults": {"onVariation": 0, "offVariation": 0}}),
            json!([
                {"kind": "turnFlagOn"},
                {"kind": "addRule", "variation": 1, "clauses": [
                    {"contextKind": "user", "attribute": "country", "op": "in", "values": ["NZ", "AU"]}]},
            ]),
        ),
        (
            json!({"key": "search-page-size", "name": "Search page size", "kind": "multivariate",
                   "temporary": false,
                   "variations": [{"value": 10}, {"value": 25}, {"value": 50}],
                   "defaults": {"onVariation": 1, "offVariation": 0}}),
            json!([{"kind": "turnFlagOn"}]),
        ),
    ]
}

/// The secrets of every environment in the project-creation response.
fn environment_keys(project: &Value) -> anyhow::Result<Vec<EnvironmentKeys>> {
    let environments = project["environments"]
        .as_array()
        .context("the project-creation response has no environments")?;
    environments
        .iter()
        .map(|environment| {
            let secret = |kind: &str| {
                environment["keys"]
                    .as_array()
                    .and_then(|keys| keys.iter().find(|key| key["kind"] == kind))
                    .and_then(|key| key["secret"].as_str())
                    .map(str::to_owned)
                    .with_context(|| format!("no {kind} key in {}", environment["key"]))
            };
            Ok(EnvironmentKeys {
                key: environment["key"].as_str().unwrap_or_default().to_owned(),
                sdk_key: secret("server")?,
                mobile_key: secret("mobile")?,
                client_side_id: secret("client")?,
            })
        })
        .collect()
}

struct Api<'a> {
    client: reqwest::Client,
    base: String,
    token: &'a str,
}

impl Api<'_> {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let response = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(self.token)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("calling config-api: {method} {path}"))?;
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    async fn expect(
        &self,
        method: Method,
        path: &str,
        body: Value,
        expected: StatusCode,
    ) -> anyhow::Result<()> {
        let (status, answer) = self.call(method.clone(), path, body).await?;
        if status != expected {
            bail!("creating the demo: {method} {path} answered {status}: {answer}");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_the_creation_response() {
        let project = json!({"key": "demo", "environments": [{"key": "test", "keys": [
            {"kind": "server", "secret": "sdk-1"},
            {"kind": "mobile", "secret": "mob-1"},
            {"kind": "client", "secret": "abc"},
        ]}]});
        let keys = environment_keys(&project).unwrap();
        assert_eq!(keys[0].sdk_key, "sdk-1");
        assert_eq!(keys[0].mobile_key, "mob-1");
        assert_eq!(keys[0].client_side_id, "abc");

        let missing = json!({"environments": [{"key": "test", "keys": []}]});
        let message = environment_keys(&missing).unwrap_err().to_string();
        assert_eq!(message, "no server key in \"test\"");
    }
}

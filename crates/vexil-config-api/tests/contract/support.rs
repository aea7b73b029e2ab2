//! What behaviours build their data with: a caller, projects with environments, flag and
//! segment fields, audit records, and waiting for hub events with a deadline.

use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;
use tokio::sync::broadcast;
use uuid::Uuid;
use vexil_config_api::audit::AuditRecord;
use vexil_config_api::auth::{Actor, Caller, Role};
use vexil_config_api::store::params::{FlagFields, SegmentFields};
use vexil_config_api::store::rows::{Change, Environment, Project, Variation};
use vexil_config_api::store::{now, ConfigStore, ConfigWrite};
use vexil_config_api::sync::HubEvent;

/// How long a behaviour waits for something another task or the store does.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// The token id of [`caller`].
pub const ACTOR_TOKEN_ID: Uuid = Uuid::from_u128(0x00c0_ffee);

pub fn caller() -> Caller {
    caller_named("admin", ACTOR_TOKEN_ID)
}

pub fn caller_named(name: &str, token_id: Uuid) -> Caller {
    Caller {
        actor: Actor {
            token_id,
            name: name.to_owned(),
            role: Role::Admin,
            project_keys: None,
            environment_keys: None,
            can_bypass_approvals: true,
        },
        client_ip: Some("10.0.0.1".to_owned()),
        request_id: Some("request-1".to_owned()),
    }
}

/// Creates a project with environments of these keys (in this order), committed.
pub async fn project(
    store: &dyn ConfigStore,
    key: &str,
    environment_keys: &[&str],
) -> (Project, Vec<Environment>) {
    let mut write = store.write().await.unwrap();
    let (project, environments) = project_in(&mut *write, key, environment_keys).await;
    write.commit().await.unwrap();
    (project, environments)
}

/// As [`project`], inside an open write session.
pub async fn project_in(
    write: &mut dyn ConfigWrite,
    key: &str,
    environment_keys: &[&str],
) -> (Project, Vec<Environment>) {
    let project = write
        .insert_project(key, &format!("Project {key}"), "", &[])
        .await
        .unwrap()
        .unwrap();
    let mut environments = Vec::new();
    for environment_key in environment_keys {
        let environment = write
            .insert_environment(project.id, environment_key, environment_key, false)
            .await
            .unwrap()
            .unwrap();
        environments.push(environment);
    }
    (project, environments)
}

/// The owned parts of a flag's project-level fields.
pub struct FlagSpec {
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    pub variations: Vec<Variation>,
    pub is_temporary: bool,
}

impl FlagSpec {
    pub fn new(name: &str) -> FlagSpec {
        FlagSpec {
            name: name.to_owned(),
            description: String::new(),
            tags: Vec::new(),
            variations: vec![
                Variation {
                    value: json!(true),
                    name: Some("on".to_owned()),
                    description: None,
                },
                Variation {
                    value: json!(false),
                    name: None,
                    description: None,
                },
            ],
            is_temporary: true,
        }
    }

    pub fn described(mut self, description: &str) -> FlagSpec {
        self.description = description.to_owned();
        self
    }

    pub fn tagged(mut self, tags: &[&str]) -> FlagSpec {
        self.tags = tags.iter().map(|tag| (*tag).to_owned()).collect();
        self
    }

    pub fn permanent(mut self) -> FlagSpec {
        self.is_temporary = false;
        self
    }

    pub fn fields(&self) -> FlagFields<'_> {
        FlagFields {
            name: &self.name,
            description: &self.description,
            kind: "boolean",
            variations: &self.variations,
            tags: &self.tags,
            maintainer: Some("maintainer@example.com"),
            is_temporary: self.is_temporary,
            using_mobile_key: true,
            using_environment_id: false,
        }
    }
}

/// A flag's targeting in one environment: on, serving `variation` to everyone.
pub fn targeting(key: &str, variation: i64) -> vexil_eval::Flag {
    serde_json::from_value(json!({
        "key": key,
        "on": true,
        "fallthrough": { "variation": variation },
        "offVariation": 1,
        "salt": format!("salt-{key}"),
    }))
    .unwrap()
}

/// A segment including these user keys.
pub fn segment(key: &str, included: &[&str]) -> vexil_eval::Segment {
    serde_json::from_value(json!({ "key": key, "included": included, "salt": "s" })).unwrap()
}

pub fn segment_fields<'a>(name: &'a str, tags: &'a [String]) -> SegmentFields<'a> {
    SegmentFields {
        name,
        description: "a segment",
        tags,
    }
}

/// An audit record of `action` on a flag of project `p`, environment `e`.
pub fn record(action: &'static str, flag_key: &str) -> AuditRecord {
    AuditRecord {
        action,
        resource: format!("projects/p/environments/e/flags/{flag_key}"),
        project_key: Some("p".to_owned()),
        environment_key: Some("e".to_owned()),
        flag_key: Some(flag_key.to_owned()),
        segment_key: None,
        before: Some(json!({ "on": false })),
        after: Some(json!({ "on": true, "note": "ünïcode \"quoted\"" })),
        comment: format!("{action} {flag_key}"),
    }
}

/// The next change a hub subscriber receives; fails the test after [`DEADLINE`] or on
/// anything but a change.
pub async fn next_change(receiver: &mut broadcast::Receiver<HubEvent>) -> Change {
    match tokio::time::timeout(DEADLINE, receiver.recv()).await {
        Ok(Ok(HubEvent::Change(change))) => (*change).clone(),
        Ok(Ok(HubEvent::Resync)) => panic!("the hub asked for a resync"),
        Ok(Err(error)) => panic!("the hub subscription failed: {error}"),
        Err(_) => panic!("no change published within {DEADLINE:?}"),
    }
}

/// Returns once `store::now()` has moved past `instant`, so rows written next have a later
/// time (times are microseconds: two writes can share one).
pub async fn after(instant: OffsetDateTime) {
    while now() <= instant {
        tokio::task::yield_now().await;
    }
}

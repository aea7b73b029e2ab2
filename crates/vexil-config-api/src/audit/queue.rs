//! What a mutation records and the entry queued for it, before it has a place in the chain.
//! Every store builds queued entries here, so an entry holds the same fields whichever
//! store writes it.

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::readable_diff;
use crate::auth::Caller;

/// What a mutation records; the caller's identity is added by [`queued_entry`], the
/// sequence number and the chain by [`super::link`].
#[derive(Debug, Clone, Default)]
pub struct AuditRecord {
    pub action: &'static str,
    pub resource: String,
    pub project_key: Option<String>,
    pub environment_key: Option<String>,
    pub flag_key: Option<String>,
    pub segment_key: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub comment: String,
}

/// An entry written with its change, not yet numbered or chained: an [`super::AuditEntry`]
/// without `sequence`, `previous_hash` and `hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEntry {
    pub id: Uuid,
    pub at: OffsetDateTime,
    pub actor_token_id: Option<Uuid>,
    pub actor_name: String,
    pub action: String,
    pub resource: String,
    pub project_key: Option<String>,
    pub environment_key: Option<String>,
    pub flag_key: Option<String>,
    pub segment_key: Option<String>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub diff: String,
    pub comment: String,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
}

/// The entry `caller` queues for `record` at `at` (at the store's precision, see
/// `store::now`), under a fresh id.
pub fn queued_entry(caller: &Caller, record: AuditRecord, at: OffsetDateTime) -> QueuedEntry {
    let diff = readable_diff(record.before.as_ref(), record.after.as_ref());
    QueuedEntry {
        id: Uuid::new_v4(),
        at,
        actor_token_id: Some(caller.actor.token_id),
        actor_name: caller.actor.name.clone(),
        action: record.action.to_owned(),
        resource: record.resource,
        project_key: record.project_key,
        environment_key: record.environment_key,
        flag_key: record.flag_key,
        segment_key: record.segment_key,
        before_json: record.before.as_ref().map(Value::to_string),
        after_json: record.after.as_ref().map(Value::to_string),
        diff,
        comment: record.comment,
        client_ip: caller.client_ip.clone(),
        request_id: caller.request_id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Actor, Role};

    fn caller() -> Caller {
        Caller {
            actor: Actor {
                token_id: Uuid::from_u128(7),
                name: "admin".into(),
                role: Role::Admin,
                project_keys: None,
                environment_keys: None,
                can_bypass_approvals: false,
            },
            client_ip: Some("10.0.0.1".into()),
            request_id: Some("req-1".into()),
        }
    }

    #[test]
    fn queued_entry_holds_the_caller_the_record_and_the_time() {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let record = AuditRecord {
            action: "flag.update",
            resource: "projects/p/flags/f".into(),
            project_key: Some("p".into()),
            flag_key: Some("f".into()),
            before: Some(serde_json::json!({"on": false})),
            after: Some(serde_json::json!({"on": true})),
            comment: "turn it on".into(),
            ..AuditRecord::default()
        };
        let entry = queued_entry(&caller(), record, at);
        assert_eq!(entry.at, at);
        assert_eq!(entry.actor_token_id, Some(Uuid::from_u128(7)));
        assert_eq!(entry.actor_name, "admin");
        assert_eq!(entry.action, "flag.update");
        assert_eq!(entry.resource, "projects/p/flags/f");
        assert_eq!(entry.project_key.as_deref(), Some("p"));
        assert_eq!(entry.environment_key, None);
        assert_eq!(entry.flag_key.as_deref(), Some("f"));
        assert_eq!(entry.before_json.as_deref(), Some(r#"{"on":false}"#));
        assert_eq!(entry.after_json.as_deref(), Some(r#"{"on":true}"#));
        assert_eq!(entry.diff, "~ on: false -> true");
        assert_eq!(entry.comment, "turn it on");
        assert_eq!(entry.client_ip.as_deref(), Some("10.0.0.1"));
        assert_eq!(entry.request_id.as_deref(), Some("req-1"));
    }

    #[test]
    fn each_queued_entry_gets_its_own_id() {
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let first = queued_entry(&caller(), AuditRecord::default(), at);
        let second = queued_entry(&caller(), AuditRecord::default(), at);
        assert_ne!(first.id, second.id);
    }
}

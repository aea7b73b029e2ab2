//! Queued entries for the unit tests of linking and checking.

use time::OffsetDateTime;
use uuid::Uuid;

use super::QueuedEntry;

/// `count` distinct queued entries, one second apart.
pub fn queued(count: usize) -> Vec<QueuedEntry> {
    (0..count)
        .map(|index| QueuedEntry {
            id: Uuid::from_u128(index as u128 + 1),
            at: OffsetDateTime::from_unix_timestamp(1_700_000_000 + index as i64).unwrap(),
            actor_token_id: Some(Uuid::from_u128(99)),
            actor_name: "admin".into(),
            action: "flag.update".into(),
            resource: format!("projects/p/flags/f{index}"),
            project_key: Some("p".into()),
            environment_key: None,
            flag_key: Some(format!("f{index}")),
            segment_key: None,
            before_json: None,
            after_json: Some(r#"{"on":true}"#.into()),
            diff: "+ on: true".into(),
            comment: String::new(),
            client_ip: None,
            request_id: None,
        })
        .collect()
}

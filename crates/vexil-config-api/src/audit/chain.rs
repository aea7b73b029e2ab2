//! The hash chain: each entry's hash covers its own fields and the previous entry's hash,
//! so altering, removing or reordering a stored row breaks every hash after it.

use sha2::{Digest, Sha256};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

use super::AuditEntry;

/// The `previous_hash` of the first entry.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// Timestamps are hashed in one fixed form, at PostgreSQL's precision (microseconds).
const TIMESTAMP: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// Formats an instant (in UTC) as it is hashed.
pub fn format_timestamp(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(TIMESTAMP)
        .expect("a UTC timestamp always formats")
}

/// SHA-256 over `previous_hash` followed by a JSON array of every other field, in a fixed
/// order. JSON string escaping makes the encoding unambiguous. The entry's own `hash`
/// field is not read.
pub fn entry_hash(entry: &AuditEntry) -> [u8; 32] {
    let fields = serde_json::json!([
        entry.sequence,
        entry.id.to_string(),
        format_timestamp(entry.at),
        entry.actor_token_id.map(|id| id.to_string()),
        entry.actor_name,
        entry.action,
        entry.resource,
        entry.project_key,
        entry.environment_key,
        entry.flag_key,
        entry.segment_key,
        entry.before_json,
        entry.after_json,
        entry.diff,
        entry.comment,
        entry.client_ip,
        entry.request_id,
    ]);
    let mut hasher = Sha256::new();
    hasher.update(&entry.previous_hash);
    hasher.update(fields.to_string().as_bytes());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn entry() -> AuditEntry {
        AuditEntry {
            sequence: 1,
            id: Uuid::nil(),
            at: OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_000).unwrap(),
            actor_token_id: None,
            actor_name: "admin".into(),
            action: "flag.update".into(),
            resource: "projects/p/flags/f".into(),
            project_key: Some("p".into()),
            environment_key: None,
            flag_key: Some("f".into()),
            segment_key: None,
            before_json: Some("{}".into()),
            after_json: Some(r#"{"on":true}"#.into()),
            diff: "~ on: false -> true".into(),
            comment: String::new(),
            client_ip: None,
            request_id: None,
            previous_hash: GENESIS_HASH.to_vec(),
            hash: Vec::new(),
        }
    }

    #[test]
    fn timestamps_hash_at_microsecond_precision() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        assert_eq!(format_timestamp(at), "2023-11-14T22:13:20.123456Z");
    }

    #[test]
    fn every_field_changes_the_hash() {
        let base = entry_hash(&entry());
        let edits: Vec<fn(&mut AuditEntry)> = vec![
            |e| e.sequence = 2,
            |e| e.actor_name = "mallory".into(),
            |e| e.action = "flag.delete".into(),
            |e| e.after_json = Some(r#"{"on":false}"#.into()),
            |e| e.comment = "x".into(),
            |e| e.previous_hash = vec![1; 32],
            |e| e.at += time::Duration::microseconds(1),
            |e| e.environment_key = Some("p".into()),
        ];
        for (index, edit) in edits.into_iter().enumerate() {
            let mut changed = entry();
            edit(&mut changed);
            assert_ne!(
                entry_hash(&changed),
                base,
                "edit {index} left the hash unchanged"
            );
        }
    }

    #[test]
    fn moving_text_between_fields_changes_the_hash() {
        let mut a = entry();
        a.project_key = Some("ab".into());
        a.environment_key = Some("c".into());
        let mut b = entry();
        b.project_key = Some("a".into());
        b.environment_key = Some("bc".into());
        assert_ne!(entry_hash(&a), entry_hash(&b));
    }
}

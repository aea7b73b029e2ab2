//! Appends to and reads the hash-chained audit log (`config.audit_log`).

use futures_util::TryStreamExt;
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{entry_hash, readable_diff, AuditEntry, GENESIS_HASH};
use crate::auth::Caller;

/// What a mutation records; the caller's identity is added by `append`, the sequence
/// number and the chain by the sequencer.
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

/// Queues an entry in the caller's transaction; it commits or rolls back with the change.
/// The sequencer (`store/sequencing.rs`) gives it its sequence number and chains it.
pub async fn append(
    connection: &mut PgConnection,
    caller: &Caller,
    record: AuditRecord,
) -> Result<(), sqlx::Error> {
    let diff = readable_diff(record.before.as_ref(), record.after.as_ref());
    sqlx::query!(
        r#"INSERT INTO config.audit_queue
             (entry_id, at, actor_token_id, actor_name, action, resource, project_key,
              environment_key, flag_key, segment_key, before_json, after_json, diff, comment,
              client_ip, request_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"#,
        Uuid::new_v4(),
        super::now(),
        caller.actor.token_id,
        caller.actor.name,
        record.action,
        record.resource,
        record.project_key,
        record.environment_key,
        record.flag_key,
        record.segment_key,
        record.before.as_ref().map(Value::to_string),
        record.after.as_ref().map(Value::to_string),
        diff,
        record.comment,
        caller.client_ip,
        caller.request_id,
    )
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Filters for listing entries; every field narrows the result.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub project_keys: Option<Vec<String>>,
    pub environment_keys: Option<Vec<String>>,
    pub flag_key: Option<String>,
    pub actor_name: Option<String>,
    pub actor_token_id: Option<Uuid>,
    pub after: Option<OffsetDateTime>,
    pub before: Option<OffsetDateTime>,
    /// Entries with a sequence number below this one (for paging backwards).
    pub before_sequence: Option<i64>,
    pub limit: i64,
}

/// Newest first.
pub async fn list(pool: &PgPool, filter: &AuditFilter) -> Result<Vec<AuditEntry>, sqlx::Error> {
    sqlx::query_as!(
        AuditEntry,
        r#"SELECT sequence, id, at, actor_token_id, actor_name, action, resource, project_key,
                  environment_key, flag_key, segment_key, before_json, after_json, diff, comment,
                  client_ip, request_id, previous_hash, hash
           FROM config.audit_log
           WHERE ($1::text[] IS NULL OR project_key = ANY($1))
             AND ($2::text[] IS NULL OR environment_key = ANY($2) OR environment_key IS NULL)
             AND ($3::text IS NULL OR flag_key = $3)
             AND ($4::text IS NULL OR actor_name = $4)
             AND ($5::uuid IS NULL OR actor_token_id = $5)
             AND ($6::timestamptz IS NULL OR at >= $6)
             AND ($7::timestamptz IS NULL OR at < $7)
             AND ($8::bigint IS NULL OR sequence < $8)
           ORDER BY sequence DESC
           LIMIT $9"#,
        filter.project_keys.as_deref(),
        filter.environment_keys.as_deref(),
        filter.flag_key,
        filter.actor_name,
        filter.actor_token_id,
        filter.after,
        filter.before,
        filter.before_sequence,
        filter.limit,
    )
    .fetch_all(pool)
    .await
}

/// The outcome of re-checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    pub is_intact: bool,
    pub entries_checked: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_broken: Option<BrokenEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokenEntry {
    pub sequence: i64,
    pub id: Uuid,
    pub reason: String,
}

/// Re-reads every entry in order and recomputes each hash and link; stops at the first
/// entry that does not check out.
pub async fn verify(pool: &PgPool) -> Result<Verification, sqlx::Error> {
    let mut rows = sqlx::query_as!(
        AuditEntry,
        r#"SELECT sequence, id, at, actor_token_id, actor_name, action, resource, project_key,
                  environment_key, flag_key, segment_key, before_json, after_json, diff, comment,
                  client_ip, request_id, previous_hash, hash
           FROM config.audit_log ORDER BY sequence"#
    )
    .fetch(pool);
    let mut expected_previous = GENESIS_HASH.to_vec();
    let mut expected_sequence = 1;
    let mut checked = 0;
    while let Some(entry) = rows.try_next().await? {
        let problem = if entry.sequence != expected_sequence {
            Some(format!(
                "expected sequence {expected_sequence}: entries are missing"
            ))
        } else if entry.previous_hash != expected_previous {
            Some(format!(
                "previous_hash does not match the hash of entry {}",
                entry.sequence - 1
            ))
        } else if entry_hash(&entry)[..] != entry.hash[..] {
            Some("the entry's content does not match its hash: it was altered".to_owned())
        } else {
            None
        };
        if let Some(reason) = problem {
            return Ok(Verification {
                is_intact: false,
                entries_checked: checked,
                first_broken: Some(BrokenEntry {
                    sequence: entry.sequence,
                    id: entry.id,
                    reason,
                }),
            });
        }
        checked += 1;
        expected_sequence += 1;
        expected_previous = entry.hash;
    }
    Ok(Verification {
        is_intact: true,
        entries_checked: checked,
        first_broken: None,
    })
}

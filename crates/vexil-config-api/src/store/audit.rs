//! Appends to and reads the hash-chained audit log (`config.audit_log`).

use futures_util::TryStreamExt;
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{entry_hash, readable_diff, AuditEntry, GENESIS_HASH};
use crate::auth::Caller;

/// The advisory lock that serializes appends, so each entry chains to the one before.
/// Taken last in a transaction (after row locks), released at commit.
const AUDIT_CHAIN_LOCK: i64 = 0x7665_7869_6c5f_6175; // "vexil_au"

/// What a mutation records; the caller's identity and the chain are added by `append`.
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

/// Appends an entry in the caller's transaction; it commits or rolls back with the change.
pub async fn append(
    connection: &mut PgConnection,
    caller: &Caller,
    record: AuditRecord,
) -> Result<AuditEntry, sqlx::Error> {
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", AUDIT_CHAIN_LOCK)
        .execute(&mut *connection)
        .await?;
    let head =
        sqlx::query!("SELECT sequence, hash FROM config.audit_log ORDER BY sequence DESC LIMIT 1")
            .fetch_optional(&mut *connection)
            .await?;
    let (sequence, previous_hash) = match head {
        Some(head) => (head.sequence + 1, head.hash),
        None => (1, GENESIS_HASH.to_vec()),
    };
    let mut entry = AuditEntry {
        sequence,
        id: Uuid::new_v4(),
        at: super::now(),
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
        diff: readable_diff(record.before.as_ref(), record.after.as_ref()),
        comment: record.comment,
        client_ip: caller.client_ip.clone(),
        request_id: caller.request_id.clone(),
        previous_hash,
        hash: Vec::new(),
    };
    entry.hash = entry_hash(&entry).to_vec();
    sqlx::query!(
        r#"INSERT INTO config.audit_log
             (sequence, id, at, actor_token_id, actor_name, action, resource, project_key,
              environment_key, flag_key, segment_key, before_json, after_json, diff, comment,
              client_ip, request_id, previous_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"#,
        entry.sequence,
        entry.id,
        entry.at,
        entry.actor_token_id,
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
        entry.previous_hash,
        entry.hash,
    )
    .execute(&mut *connection)
    .await?;
    Ok(entry)
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

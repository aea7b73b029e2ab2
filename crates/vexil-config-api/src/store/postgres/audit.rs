//! Appends to and reads the hash-chained audit log (`config.audit_log`).

use futures_util::TryStreamExt;
use sqlx::PgConnection;

use crate::audit::{check_entry, queued_entry, AuditEntry, AuditRecord, ChainHead, Verification};
use crate::auth::Caller;
use crate::store::params::AuditFilter;
use crate::store::StoreError;

/// Queues an entry in the caller's transaction; it commits or rolls back with the change.
/// The sequencer (`sequencing.rs`) gives it its sequence number and chains it.
pub async fn append(
    connection: &mut PgConnection,
    caller: &Caller,
    record: AuditRecord,
) -> Result<(), StoreError> {
    let entry = queued_entry(caller, record, crate::store::now());
    sqlx::query!(
        r#"INSERT INTO config.audit_queue
             (entry_id, at, actor_token_id, actor_name, action, resource, project_key,
              environment_key, flag_key, segment_key, before_json, after_json, diff, comment,
              client_ip, request_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"#,
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
    )
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Newest first.
pub async fn list(
    connection: &mut PgConnection,
    filter: &AuditFilter,
) -> Result<Vec<AuditEntry>, StoreError> {
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
    .fetch_all(connection)
    .await
    .map_err(StoreError::from)
}

/// Re-reads every entry in order and recomputes each hash and link; stops at the first
/// entry that does not check out.
pub async fn verify(connection: &mut PgConnection) -> Result<Verification, StoreError> {
    let mut rows = sqlx::query_as!(
        AuditEntry,
        r#"SELECT sequence, id, at, actor_token_id, actor_name, action, resource, project_key,
                  environment_key, flag_key, segment_key, before_json, after_json, diff, comment,
                  client_ip, request_id, previous_hash, hash
           FROM config.audit_log ORDER BY sequence"#
    )
    .fetch(connection);
    let mut head = ChainHead::genesis();
    let mut checked = 0;
    while let Some(entry) = rows.try_next().await? {
        if let Err(problem) = check_entry(&entry, &head) {
            return Ok(Verification::broken(checked, &entry, &problem));
        }
        checked += 1;
        head = ChainHead::of(&entry);
    }
    Ok(Verification::intact(checked))
}

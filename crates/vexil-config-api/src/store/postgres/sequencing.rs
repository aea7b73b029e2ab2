//! Moves committed writes out of the two queues: changes into the FlagSync outbox with
//! per-environment sequence numbers, audit entries into the hash-chained log. One batch is
//! one transaction under one advisory lock, so replicas never number or chain the same
//! rows twice, and a batch that fails leaves the queues as they were.
//!
//! Order: a change is numbered when the batch that sees it commits, so sequence order is
//! the order in which changes became visible. Two writes to one item hold its row lock in
//! turn, so the second is queued after the first committed and is numbered after it.

use std::collections::HashMap;

use sqlx::PgPool;
use uuid::Uuid;

use crate::audit::{link, AuditEntry, ChainHead, QueuedEntry};
use crate::store::StoreError;

/// Serializes batches across replicas; released at commit.
const SEQUENCING_LOCK: i64 = 0x7665_7869_6c5f_6175; // "vexil_au"

/// How many rows of each queue one batch moves.
pub const BATCH_LIMIT: i64 = 1_000;

/// What one batch moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moved {
    pub changes: usize,
    pub audit_entries: usize,
}

impl Moved {
    /// Whether a queue may hold more rows than this batch took.
    pub fn is_full(self) -> bool {
        self.changes as i64 >= BATCH_LIMIT || self.audit_entries as i64 >= BATCH_LIMIT
    }
}

/// Numbers and chains up to `BATCH_LIMIT` queued rows of each queue, oldest first.
pub async fn run_batch(pool: &PgPool) -> Result<Moved, StoreError> {
    let mut transaction = pool.begin().await?;
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", SEQUENCING_LOCK)
        .execute(&mut *transaction)
        .await?;
    let changes = number_changes(&mut transaction).await?;
    let audit_entries = chain_audit_entries(&mut transaction).await?;
    transaction.commit().await?;
    Ok(Moved {
        changes,
        audit_entries,
    })
}

/// Changes of an environment deleted meanwhile are dropped: its `environment_deleted`
/// change, numbered under the environment's row lock, closes its stream.
async fn number_changes(connection: &mut sqlx::PgConnection) -> Result<usize, StoreError> {
    let queued = sqlx::query!(
        "SELECT id, environment_id FROM config.change_queue ORDER BY id LIMIT $1",
        BATCH_LIMIT
    )
    .fetch_all(&mut *connection)
    .await?;
    if queued.is_empty() {
        return Ok(0);
    }
    let mut counts: HashMap<Uuid, i64> = HashMap::new();
    for row in &queued {
        *counts.entry(row.environment_id).or_default() += 1;
    }
    let (environment_ids, increments): (Vec<Uuid>, Vec<i64>) = counts.into_iter().unzip();
    // An environment deleted meanwhile is not returned.
    let bases = sqlx::query!(
        r#"UPDATE config.environments e SET sequence = e.sequence + c.increment
           FROM UNNEST($1::uuid[], $2::bigint[]) AS c(id, increment)
           WHERE e.id = c.id
           RETURNING e.id, e.sequence - c.increment AS "base!""#,
        &environment_ids,
        &increments,
    )
    .fetch_all(&mut *connection)
    .await?;
    let mut next: HashMap<Uuid, i64> = bases.into_iter().map(|row| (row.id, row.base)).collect();
    let (mut ids, mut sequences) = (Vec::new(), Vec::new());
    for row in &queued {
        ids.push(row.id);
        sequences.push(next.get_mut(&row.environment_id).map(|sequence| {
            *sequence += 1;
            *sequence
        }));
    }
    sqlx::query!(
        r#"WITH moved AS (
               DELETE FROM config.change_queue q
               USING UNNEST($1::bigint[], $2::bigint[]) AS a(id, sequence)
               WHERE q.id = a.id
               RETURNING q.environment_id, a.sequence, q.kind, q.key, q.version, q.payload
           )
           INSERT INTO config.changes (environment_id, sequence, kind, key, version, payload)
           SELECT environment_id, sequence, kind, key, version, payload FROM moved
           WHERE sequence IS NOT NULL"#,
        &ids,
        &sequences as &[Option<i64>],
    )
    .execute(&mut *connection)
    .await?;
    Ok(ids.len())
}

async fn chain_audit_entries(connection: &mut sqlx::PgConnection) -> Result<usize, StoreError> {
    let queued = sqlx::query!(
        r#"SELECT id, entry_id, at, actor_token_id, actor_name, action, resource, project_key,
                  environment_key, flag_key, segment_key, before_json, after_json, diff, comment,
                  client_ip, request_id
           FROM config.audit_queue ORDER BY id LIMIT $1"#,
        BATCH_LIMIT
    )
    .fetch_all(&mut *connection)
    .await?;
    if queued.is_empty() {
        return Ok(0);
    }
    let head =
        sqlx::query!("SELECT sequence, hash FROM config.audit_log ORDER BY sequence DESC LIMIT 1")
            .fetch_optional(&mut *connection)
            .await?;
    let head = head.map_or_else(ChainHead::genesis, |head| ChainHead {
        sequence: head.sequence,
        hash: head.hash,
    });
    let (queue_ids, queued): (Vec<i64>, Vec<QueuedEntry>) = queued
        .into_iter()
        .map(|row| {
            let entry = QueuedEntry {
                id: row.entry_id,
                at: row.at,
                actor_token_id: row.actor_token_id,
                actor_name: row.actor_name,
                action: row.action,
                resource: row.resource,
                project_key: row.project_key,
                environment_key: row.environment_key,
                flag_key: row.flag_key,
                segment_key: row.segment_key,
                before_json: row.before_json,
                after_json: row.after_json,
                diff: row.diff,
                comment: row.comment,
                client_ip: row.client_ip,
                request_id: row.request_id,
            };
            (row.id, entry)
        })
        .unzip();
    let entries = link(head, queued);
    insert_entries(connection, &entries).await?;
    sqlx::query!(
        "DELETE FROM config.audit_queue WHERE id = ANY($1)",
        &queue_ids
    )
    .execute(&mut *connection)
    .await?;
    Ok(entries.len())
}

async fn insert_entries(
    connection: &mut sqlx::PgConnection,
    entries: &[AuditEntry],
) -> Result<(), StoreError> {
    fn column<T>(entries: &[AuditEntry], field: impl Fn(&AuditEntry) -> T) -> Vec<T> {
        entries.iter().map(field).collect()
    }
    sqlx::query!(
        r#"INSERT INTO config.audit_log
             (sequence, id, at, actor_token_id, actor_name, action, resource, project_key,
              environment_key, flag_key, segment_key, before_json, after_json, diff, comment,
              client_ip, request_id, previous_hash, hash)
           SELECT * FROM UNNEST($1::bigint[], $2::uuid[], $3::timestamptz[], $4::uuid[],
                                $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                                $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                                $15::text[], $16::text[], $17::text[], $18::bytea[], $19::bytea[])"#,
        &column(entries, |e| e.sequence),
        &column(entries, |e| e.id),
        &column(entries, |e| e.at),
        &column(entries, |e| e.actor_token_id) as &[Option<Uuid>],
        &column(entries, |e| e.actor_name.clone()),
        &column(entries, |e| e.action.clone()),
        &column(entries, |e| e.resource.clone()),
        &column(entries, |e| e.project_key.clone()) as &[Option<String>],
        &column(entries, |e| e.environment_key.clone()) as &[Option<String>],
        &column(entries, |e| e.flag_key.clone()) as &[Option<String>],
        &column(entries, |e| e.segment_key.clone()) as &[Option<String>],
        &column(entries, |e| e.before_json.clone()) as &[Option<String>],
        &column(entries, |e| e.after_json.clone()) as &[Option<String>],
        &column(entries, |e| e.diff.clone()),
        &column(entries, |e| e.comment.clone()),
        &column(entries, |e| e.client_ip.clone()) as &[Option<String>],
        &column(entries, |e| e.request_id.clone()) as &[Option<String>],
        &column(entries, |e| e.previous_hash.clone()),
        &column(entries, |e| e.hash.clone()),
    )
    .execute(connection)
    .await?;
    Ok(())
}

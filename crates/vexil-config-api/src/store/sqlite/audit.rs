//! The hash-chained audit log (`audit_log`): appended inside the write transaction, onto
//! the chain head that transaction reads (SQLite's one writer keeps the chain linear).

use futures_util::TryStreamExt;
use sqlx::sqlite::SqliteRow;
use sqlx::SqliteConnection;

use super::values::{self, Columns};
use crate::audit::Verification;
use crate::audit::{check_entry, link, queued_entry, AuditEntry, AuditRecord, ChainHead};
use crate::auth::Caller;
use crate::store::params::AuditFilter;
use crate::store::StoreResult;

/// Builds the caller's entry for `record`, links it onto the chain's head and inserts it.
pub(super) async fn append(
    connection: &mut SqliteConnection,
    caller: &Caller,
    record: AuditRecord,
) -> StoreResult<()> {
    let queued = queued_entry(caller, record, crate::store::now());
    let head = head(&mut *connection).await?;
    for entry in link(head, [queued]) {
        insert(&mut *connection, &entry).await?;
    }
    Ok(())
}

/// The last entry's number and hash, or the genesis of an empty log.
async fn head(connection: &mut SqliteConnection) -> StoreResult<ChainHead> {
    let row = sqlx::query(r#"SELECT sequence, hash FROM audit_log ORDER BY sequence DESC LIMIT 1"#)
        .fetch_optional(connection)
        .await?;
    let Some(row) = row else {
        return Ok(ChainHead::genesis());
    };
    let columns = Columns::of(&row, "audit_log");
    Ok(ChainHead {
        sequence: columns.integer("sequence")?,
        hash: columns.blob("hash")?,
    })
}

async fn insert(connection: &mut SqliteConnection, entry: &AuditEntry) -> StoreResult<()> {
    sqlx::query(
        r#"INSERT INTO audit_log
             (sequence, id, at, actor_token_id, actor_name, action, resource, project_key,
              environment_key, flag_key, segment_key, before_json, after_json, diff, comment,
              client_ip, request_id, previous_hash, hash)
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                   ?18, ?19)"#,
    )
    .bind(entry.sequence)
    .bind(values::id(entry.id))
    .bind(values::micros(entry.at))
    .bind(values::optional_id(entry.actor_token_id))
    .bind(&entry.actor_name)
    .bind(&entry.action)
    .bind(&entry.resource)
    .bind(&entry.project_key)
    .bind(&entry.environment_key)
    .bind(&entry.flag_key)
    .bind(&entry.segment_key)
    .bind(&entry.before_json)
    .bind(&entry.after_json)
    .bind(&entry.diff)
    .bind(&entry.comment)
    .bind(&entry.client_ip)
    .bind(&entry.request_id)
    .bind(&entry.previous_hash)
    .bind(&entry.hash)
    .execute(connection)
    .await?;
    Ok(())
}

/// Entries matching the filter, newest first. Key lists travel as one JSON array parameter
/// each, read with `json_each` (SQLite has no array parameters).
pub(super) async fn list(
    connection: &mut SqliteConnection,
    filter: &AuditFilter,
) -> StoreResult<Vec<AuditEntry>> {
    let rows = sqlx::query(
        r#"SELECT sequence, id, at, actor_token_id, actor_name, action, resource, project_key,
                  environment_key, flag_key, segment_key, before_json, after_json, diff,
                  comment, client_ip, request_id, previous_hash, hash
           FROM audit_log
           WHERE (?1 IS NULL OR project_key IN (SELECT value FROM json_each(?1)))
             AND (?2 IS NULL OR environment_key IN (SELECT value FROM json_each(?2))
                  OR environment_key IS NULL)
             AND (?3 IS NULL OR flag_key = ?3)
             AND (?4 IS NULL OR actor_name = ?4)
             AND (?5 IS NULL OR actor_token_id = ?5)
             AND (?6 IS NULL OR at >= ?6)
             AND (?7 IS NULL OR at < ?7)
             AND (?8 IS NULL OR sequence < ?8)
           ORDER BY sequence DESC
           LIMIT ?9"#,
    )
    .bind(filter.project_keys.as_deref().map(values::texts))
    .bind(filter.environment_keys.as_deref().map(values::texts))
    .bind(filter.flag_key.as_deref())
    .bind(filter.actor_name.as_deref())
    .bind(values::optional_id(filter.actor_token_id))
    .bind(filter.after.map(values::micros))
    .bind(filter.before.map(values::micros))
    .bind(filter.before_sequence)
    .bind(filter.limit)
    .fetch_all(connection)
    .await?;
    rows.iter().map(entry).collect()
}

/// Re-reads every entry in order and recomputes each hash and link; stops at the first
/// entry that does not check out. Streams the log, one statement, so one snapshot.
pub(super) async fn verify(connection: &mut SqliteConnection) -> StoreResult<Verification> {
    let mut rows = sqlx::query(
        r#"SELECT sequence, id, at, actor_token_id, actor_name, action, resource, project_key,
                  environment_key, flag_key, segment_key, before_json, after_json, diff,
                  comment, client_ip, request_id, previous_hash, hash
           FROM audit_log ORDER BY sequence"#,
    )
    .fetch(connection);
    let mut head = ChainHead::genesis();
    let mut checked = 0;
    while let Some(row) = rows.try_next().await? {
        let entry = entry(&row)?;
        if let Err(problem) = check_entry(&entry, &head) {
            return Ok(Verification::broken(checked, &entry, &problem));
        }
        checked += 1;
        head = ChainHead::of(&entry);
    }
    Ok(Verification::intact(checked))
}

fn entry(row: &SqliteRow) -> StoreResult<AuditEntry> {
    let columns = Columns::of(row, "audit_log");
    Ok(AuditEntry {
        sequence: columns.integer("sequence")?,
        id: columns.uuid("id")?,
        at: columns.time("at")?,
        actor_token_id: columns.optional_uuid("actor_token_id")?,
        actor_name: columns.text("actor_name")?,
        action: columns.text("action")?,
        resource: columns.text("resource")?,
        project_key: columns.optional_text("project_key")?,
        environment_key: columns.optional_text("environment_key")?,
        flag_key: columns.optional_text("flag_key")?,
        segment_key: columns.optional_text("segment_key")?,
        before_json: columns.optional_text("before_json")?,
        after_json: columns.optional_text("after_json")?,
        diff: columns.text("diff")?,
        comment: columns.text("comment")?,
        client_ip: columns.optional_text("client_ip")?,
        request_id: columns.optional_text("request_id")?,
        previous_hash: columns.blob("previous_hash")?,
        hash: columns.blob("hash")?,
    })
}

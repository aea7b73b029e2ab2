//! One partition's batch in one `BEGIN IMMEDIATE` transaction: advance the offset (fencing
//! out anyone who committed part of it already), claim the payload keys, fold the fresh
//! events, write every aggregate, commit.

use sqlx::SqlitePool;

use super::{aggregates, dedup, experiments, now_ms, offsets};
use crate::store::batch::{fold, CommitOutcome, PartitionBatch};
use crate::store::StoreError;

pub async fn commit(
    writer: &SqlitePool,
    batch: &PartitionBatch,
) -> Result<CommitOutcome, StoreError> {
    // IMMEDIATE: the write lock before the first read, so the offset read by the guard is
    // still the stored one when the batch commits.
    let mut transaction = writer.begin_with("BEGIN IMMEDIATE").await?;
    let now_ms = now_ms();
    let advanced = offsets::advance(
        &mut transaction,
        &batch.topic,
        batch.partition,
        batch.first_offset,
        batch.next_offset,
        now_ms,
    )
    .await?;
    if !advanced {
        let stored_next_offset =
            offsets::stored(&mut transaction, &batch.topic, batch.partition).await?;
        transaction.rollback().await?;
        return Ok(CommitOutcome::Fenced { stored_next_offset });
    }
    let fresh = dedup::claim(&mut transaction, &batch.dedup_keys(), now_ms).await?;
    let (aggregates, counted, duplicates) = fold(batch, fresh);
    aggregates::apply(&mut transaction, batch.partition, &aggregates).await?;
    experiments::apply(&mut transaction, &aggregates).await?;
    transaction.commit().await?;
    Ok(CommitOutcome::Committed {
        counted,
        duplicates,
    })
}

//! One partition's batch in one transaction: advance the offset (fencing out anyone who
//! committed part of it already), claim the payload keys, fold the fresh events, write
//! every aggregate, commit.

use sqlx::PgPool;

use super::{aggregates, dedup, experiments, offsets};
use crate::store::batch::{fold, CommitOutcome, PartitionBatch};
use crate::store::StoreError;

pub async fn commit(pool: &PgPool, batch: &PartitionBatch) -> Result<CommitOutcome, StoreError> {
    let mut transaction = pool.begin().await?;
    let advanced = offsets::advance(
        &mut transaction,
        &batch.topic,
        batch.partition,
        batch.first_offset,
        batch.next_offset,
    )
    .await?;
    if !advanced {
        let stored_next_offset =
            offsets::stored(&mut transaction, &batch.topic, batch.partition).await?;
        transaction.rollback().await?;
        return Ok(CommitOutcome::Fenced { stored_next_offset });
    }
    let fresh = dedup::claim(&mut transaction, &batch.dedup_keys()).await?;
    let (aggregates, counted, duplicates) = fold(batch, fresh);
    aggregates::apply(&mut transaction, batch.partition, &aggregates).await?;
    experiments::apply(&mut transaction, &aggregates).await?;
    transaction.commit().await?;
    Ok(CommitOutcome::Committed {
        counted,
        duplicates,
    })
}

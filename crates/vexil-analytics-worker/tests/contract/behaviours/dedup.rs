//! Payload de-duplication: a (payload id, index) is counted once, within a batch and across
//! batches, until pruning forgets it.

use std::time::Duration;

use tokio::time::Instant;
use vexil_analytics_worker::store::{time_of, AnalyticsStore, CommitOutcome};

use crate::fixtures::{batch, candidate, event, summary, ENVIRONMENT, HOUR};

fn one_evaluation() -> vexil_analytics_worker::aggregate::Accepted {
    event(
        ENVIRONMENT,
        "summary",
        summary(HOUR + 1000, &[("checkout", &[(Some(0), Some(1), 1)])]),
    )
}

async fn evaluations(store: &dyn AnalyticsStore) -> i64 {
    store
        .flag_usage(
            ENVIRONMENT,
            "checkout",
            time_of(HOUR),
            time_of(HOUR + 3_600_000),
            3_600_000,
        )
        .await
        .unwrap()
        .iter()
        .map(|cell| cell.count)
        .sum()
}

pub async fn retried_payloads_count_once_across_and_within_batches(store: &dyn AnalyticsStore) {
    let first = batch(
        0,
        0,
        3,
        vec![
            candidate(Some(("p1", 0)), one_evaluation()),
            candidate(Some(("p1", 1)), one_evaluation()),
            candidate(Some(("p1", 0)), one_evaluation()),
        ],
    );
    assert_eq!(
        store.commit(&first).await.unwrap(),
        CommitOutcome::Committed {
            counted: 2,
            duplicates: 1
        }
    );
    let second = batch(
        0,
        3,
        6,
        vec![
            candidate(Some(("p1", 1)), one_evaluation()),
            candidate(Some(("p2", 0)), one_evaluation()),
            candidate(None, one_evaluation()),
        ],
    );
    assert_eq!(
        store.commit(&second).await.unwrap(),
        CommitOutcome::Committed {
            counted: 2,
            duplicates: 1
        }
    );
    // The same key on another partition is the same payload.
    let elsewhere = batch(1, 0, 1, vec![candidate(Some(("p2", 0)), one_evaluation())]);
    assert_eq!(
        store.commit(&elsewhere).await.unwrap(),
        CommitOutcome::Committed {
            counted: 0,
            duplicates: 1
        }
    );
    assert_eq!(evaluations(store).await, 4);
}

pub async fn pruning_forgets_only_keys_older_than_the_retention(store: &dyn AnalyticsStore) {
    let first = batch(
        0,
        0,
        2,
        vec![
            candidate(Some(("p1", 0)), one_evaluation()),
            candidate(Some(("p1", 1)), one_evaluation()),
        ],
    );
    store.commit(&first).await.unwrap();
    assert_eq!(
        store
            .prune_seen_payloads(Duration::from_secs(3600))
            .await
            .unwrap(),
        0
    );
    let retried = batch(0, 2, 3, vec![candidate(Some(("p1", 0)), one_evaluation())]);
    assert_eq!(
        store.commit(&retried).await.unwrap(),
        CommitOutcome::Committed {
            counted: 0,
            duplicates: 1
        }
    );
    // With no retention, keys claimed before now go: polled, since a key claimed within
    // the clock's last tick is not older than now yet.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut pruned = 0;
    while pruned < 2 {
        assert!(Instant::now() < deadline, "pruned {pruned} of 2 keys");
        pruned += store.prune_seen_payloads(Duration::ZERO).await.unwrap();
        tokio::task::yield_now().await;
    }
    assert_eq!(pruned, 2);
    let after_pruning = batch(0, 3, 4, vec![candidate(Some(("p1", 0)), one_evaluation())]);
    assert_eq!(
        store.commit(&after_pruning).await.unwrap(),
        CommitOutcome::Committed {
            counted: 1,
            duplicates: 0
        }
    );
    assert_eq!(evaluations(store).await, 3);
}

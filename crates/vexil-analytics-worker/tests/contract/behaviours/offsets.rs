//! Offsets: what a commit stores is what a restart loads; a batch that does not start at
//! the stored offset is fenced and changes nothing.

use std::collections::HashMap;

use vexil_analytics_worker::store::{time_of, AnalyticsStore, CommitOutcome};

use crate::fixtures::{batch, candidate, event, summary, unkeyed, ENVIRONMENT, HOUR, TOPIC};

const COMMITTED_EMPTY: CommitOutcome = CommitOutcome::Committed {
    counted: 0,
    duplicates: 0,
};

pub async fn offsets_load_what_commits_stored(store: &dyn AnalyticsStore) {
    assert!(store.load_offsets(TOPIC).await.unwrap().is_empty());
    // A partition's first batch may start anywhere (records before it may be gone).
    for batch in [batch(0, 0, 3, vec![]), batch(1, 10, 12, vec![])] {
        assert_eq!(store.commit(&batch).await.unwrap(), COMMITTED_EMPTY);
    }
    assert_eq!(
        store.load_offsets(TOPIC).await.unwrap(),
        HashMap::from([(0, 3), (1, 12)])
    );
    assert_eq!(
        store.commit(&batch(0, 3, 5, vec![])).await.unwrap(),
        COMMITTED_EMPTY
    );
    assert_eq!(
        store.load_offsets(TOPIC).await.unwrap(),
        HashMap::from([(0, 5), (1, 12)])
    );
    assert!(store
        .load_offsets("another-topic")
        .await
        .unwrap()
        .is_empty());
}

pub async fn a_batch_not_starting_at_the_stored_offset_is_fenced_and_writes_nothing(
    store: &dyn AnalyticsStore,
) {
    let counted = |flag_count: u64| {
        event(
            ENVIRONMENT,
            "summary",
            summary(
                HOUR + 1000,
                &[("checkout", &[(Some(0), Some(1), flag_count)])],
            ),
        )
    };
    let first = batch(0, 0, 5, unkeyed(vec![counted(2)]));
    assert_eq!(
        store.commit(&first).await.unwrap(),
        CommitOutcome::Committed {
            counted: 1,
            duplicates: 0
        }
    );
    // Overlapping the committed batch, and leaving a gap after it.
    for fenced in [
        batch(
            0,
            3,
            8,
            vec![candidate(Some(("p-fenced", 0)), counted(100))],
        ),
        batch(
            0,
            7,
            9,
            vec![candidate(Some(("p-fenced", 0)), counted(100))],
        ),
    ] {
        assert_eq!(
            store.commit(&fenced).await.unwrap(),
            CommitOutcome::Fenced {
                stored_next_offset: Some(5)
            }
        );
    }
    assert_eq!(
        store.load_offsets(TOPIC).await.unwrap(),
        HashMap::from([(0, 5)])
    );
    let usage = store
        .flag_usage(
            ENVIRONMENT,
            "checkout",
            time_of(HOUR),
            time_of(HOUR + 3_600_000),
            3_600_000,
        )
        .await
        .unwrap();
    assert_eq!(usage.iter().map(|cell| cell.count).sum::<i64>(), 2);
    // The fenced batches claimed no payload key either.
    let next = batch(0, 5, 6, vec![candidate(Some(("p-fenced", 0)), counted(1))]);
    assert_eq!(
        store.commit(&next).await.unwrap(),
        CommitOutcome::Committed {
            counted: 1,
            duplicates: 0
        }
    );
}

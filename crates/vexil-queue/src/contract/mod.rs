//! The contract every queue implementation passes, written once: the embedded log runs it
//! in `tests/it/contract.rs`, the Kafka implementation in `tests/it/kafka_contract.rs`.
//!
//! Each case takes a [`Fixture`]: a producer and a consumer of one implementation and a
//! fresh, empty topic (created by the fixture when the implementation needs that). The
//! [`contract_tests!`](crate::contract_tests) macro turns a fixture function into one
//! `#[tokio::test]` per case.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

mod delivery;
mod group;
mod lag;
mod ordering;

pub use delivery::{
    a_waiting_reader_wakes_on_append, concurrent_appenders_are_all_acknowledged_and_readable,
    every_record_is_readable_once_append_all_returns,
    records_from_the_released_offset_on_stay_readable,
};
pub use group::{
    a_dropped_member_revokes_every_partition_and_the_next_member_gets_them_again,
    a_lone_member_reads_every_partition_from_where_assigned_says, group_of, Assignment,
    RecordedAssignments,
};
pub use lag::{
    lag_follows_the_start_offset_and_seek, lag_grows_with_appends_and_shrinks_as_records_are_read,
    lag_is_per_partition, lag_is_zero_on_an_empty_topic,
};
pub use ordering::{
    offsets_are_dense_per_partition_and_reading_resumes_from_a_supplied_offset,
    records_come_back_in_order_per_key_with_headers_and_timestamps,
    the_same_key_always_lands_in_the_same_partition,
};

use crate::{Consumer, Position, Producer, Record, StoredRecord, Subscription};

/// How long a case waits for records it expects before failing.
const DEADLINE: Duration = Duration::from_secs(20);

/// What each case runs against.
pub struct Fixture {
    pub producer: Arc<dyn Producer>,
    pub consumer: Arc<dyn Consumer>,
    /// A topic nothing has been appended to, with at least two partitions (so that lag
    /// can be seen to be per partition).
    pub topic: String,
    /// Kept alive until the case ends (a temporary directory, a topic to delete).
    pub guard: Box<dyn Any + Send + Sync>,
}

/// One `#[tokio::test]` per contract case, each with a fixture from `$fixture`, an async
/// function returning a [`Fixture`]. Needs tokio (with `macros` and `rt-multi-thread`)
/// in the calling crate's dev-dependencies.
#[macro_export]
macro_rules! contract_tests {
    ($fixture:path) => {
        $crate::contract_tests!(@cases $fixture;
            records_come_back_in_order_per_key_with_headers_and_timestamps,
            offsets_are_dense_per_partition_and_reading_resumes_from_a_supplied_offset,
            a_waiting_reader_wakes_on_append,
            concurrent_appenders_are_all_acknowledged_and_readable,
            every_record_is_readable_once_append_all_returns,
            the_same_key_always_lands_in_the_same_partition,
            records_from_the_released_offset_on_stay_readable,
            lag_is_zero_on_an_empty_topic,
            lag_grows_with_appends_and_shrinks_as_records_are_read,
            lag_follows_the_start_offset_and_seek,
            lag_is_per_partition,
            a_lone_member_reads_every_partition_from_where_assigned_says,
            a_dropped_member_revokes_every_partition_and_the_next_member_gets_them_again,
        );
    };
    (@cases $fixture:path; $($case:ident,)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::contract::$case($fixture().await).await;
            }
        )*
    };
}

/// Values are unique per case, so a record read back is matched to its append.
pub(crate) fn record(key: &str, sequence: usize) -> Record {
    Record::new(
        key.to_owned(),
        format!("{key}/{sequence}"),
        1_700_000_000_000 + sequence as i64,
    )
    .with_header("vexil-payload-id", format!("payload-{sequence}"))
    .with_header(
        "traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )
}

/// Reads until `count` records have arrived, failing after [`DEADLINE`].
pub(crate) async fn read_exactly(
    subscription: &mut dyn Subscription,
    count: usize,
) -> Vec<StoredRecord> {
    let mut records = Vec::with_capacity(count);
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while records.len() < count {
        let batch =
            tokio::time::timeout_at(deadline, subscription.next_batch(count - records.len()))
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "only {} of {count} records arrived within {DEADLINE:?}",
                        records.len()
                    )
                })
                .expect("reading a batch");
        assert!(!batch.is_empty(), "next_batch returned no records");
        assert!(
            batch.len() <= count,
            "next_batch returned more than max_records"
        );
        records.extend(batch);
    }
    assert_eq!(records.len(), count, "more records than appended");
    records
}

/// Subscribes with every partition starting where its records end, so nothing old is
/// read.
pub(crate) async fn subscribe_at_end(
    fixture: &Fixture,
    ends: &BTreeMap<u32, u64>,
) -> Box<dyn Subscription> {
    let partitions = fixture
        .consumer
        .partitions(&fixture.topic)
        .await
        .expect("partitions");
    let start: Vec<Position> = (0..partitions)
        .map(|partition| Position {
            partition,
            offset: ends.get(&partition).copied().unwrap_or(0),
        })
        .collect();
    fixture
        .consumer
        .subscribe(&fixture.topic, &start)
        .await
        .expect("subscribing")
}

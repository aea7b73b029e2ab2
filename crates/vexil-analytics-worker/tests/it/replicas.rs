//! Two worker processes in one consumer group share the topic's partitions through
//! `vexil_queue`'s group subscription; when one stops, the other is given its partitions,
//! starts them at the offsets in PostgreSQL, and the aggregates end exact.
//!
//! The one that goes stops with SIGTERM and leaves the group. A SIGKILLed member's
//! partitions are reassigned by Kafka once its session times out, but tansu 0.6 (the test
//! broker) keeps the dead member in the group's assignment, so that case is not tested
//! here; `crash.rs` covers SIGKILL with a restart.

use std::collections::BTreeSet;
use std::time::Duration;

use sqlx::PgPool;

use crate::process::{spawn_worker, Process};
use crate::stream::{assert_exact_aggregates, stream};
use crate::support::*;

const ENVIRONMENT: &str = "6f1c1f5e-0000-4000-8000-000000000003";
/// Produced in two halves: before and after one worker stops.
const EVENTS: usize = 20_000;

/// How long a rebalance may take: librdkafka's group join, then the lag gauge's refresh.
const REBALANCE: Duration = Duration::from_secs(60);

fn all_partitions() -> BTreeSet<i32> {
    (0..PARTITIONS).collect()
}

/// Waits until `workers` hold disjoint, non-empty sets of partitions that together are
/// all of them; returns each one's set.
async fn wait_for_split(workers: &[&Process]) -> Vec<BTreeSet<i32>> {
    eventually("the group to share the partitions", REBALANCE, || async {
        let mut held = Vec::new();
        for worker in workers {
            held.push(worker.held_partitions().await);
        }
        let union: BTreeSet<i32> = held.iter().flatten().copied().collect();
        let total: usize = held.iter().map(BTreeSet::len).sum();
        let shared = held.iter().all(|set| !set.is_empty())
            && total == union.len()
            && union == all_partitions();
        shared.then_some(held)
    })
    .await
}

#[sqlx::test]
async fn two_workers_in_one_group_share_partitions_and_one_takes_over_when_the_other_stops(
    pool: PgPool,
) {
    let topics = create_topics("replicas").await;
    let group_id = unique_name("replicas-group");

    let mut survivor = spawn_worker(&pool, &topics, &group_id);
    eventually(
        "the first worker to hold every partition",
        REBALANCE,
        || async { (survivor.held_partitions().await == all_partitions()).then_some(()) },
    )
    .await;
    let leaving = spawn_worker(&pool, &topics, &group_id);
    let split = wait_for_split(&[&survivor, &leaving]).await;
    eprintln!("partitions held: {split:?}");

    let now = now_ms();
    let producer = producer();
    produce(
        &producer,
        &topics.events,
        &stream(ENVIRONMENT, 0..EVENTS / 2, now),
    )
    .await;
    // Both replicas count, each its own partitions.
    eventually("both workers to count events", REBALANCE, || async {
        (survivor.events("counted").await > 0 && leaving.events("counted").await > 0).then_some(())
    })
    .await;
    leaving.terminate().await;

    // The second half goes to the log while the group rebalances: the survivor is given
    // the partitions of the worker that left and must read them from the offsets that
    // worker committed, not from where the log ends when it gets them.
    produce(
        &producer,
        &topics.events,
        &stream(ENVIRONMENT, EVENTS / 2..EVENTS, now),
    )
    .await;
    eventually(
        "the survivor to hold every partition",
        REBALANCE,
        || async { (survivor.held_partitions().await == all_partitions()).then_some(()) },
    )
    .await;
    let (stored, total) = read_back(&topics.events).await;
    assert!(
        stored.len() as f64 >= EVENTS as f64 * 0.95,
        "the broker holds only {} of {EVENTS} acknowledged records",
        stored.len()
    );
    eventually(
        "every record to be processed",
        Duration::from_secs(240),
        || async { (processed(&pool, &topics.events).await == total).then_some(()) },
    )
    .await;
    // The worker that left counted none of the second half: every event counted once
    // means the survivor read the partitions it was given from the committed offsets.
    assert_exact_aggregates(&pool, &stored).await;
    survivor.kill().await;
}

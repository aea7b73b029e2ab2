//! What only Kafka's groups do: several members share the partitions, and a member that
//! leaves hands its partitions to the others, which start them where their `assigned`
//! says.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use vexil_queue::contract::{group_of, Fixture, RecordedAssignments};
use vexil_queue::{Position, Record, Subscription};

use crate::kafka_contract;

const DEADLINE: Duration = Duration::from_secs(60);

/// What a member's reading task saw: its name, the records' positions, and the
/// partitions it held when `next_batch` returned them.
type Read = (&'static str, Vec<Position>, BTreeSet<u32>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_share_the_partitions_and_one_takes_over_those_of_a_member_that_leaves() {
    let fixture = kafka_contract::fixture().await;
    let all: BTreeSet<u32> = (0..fixture
        .consumer
        .partitions(&fixture.topic)
        .await
        .expect("partitions"))
        .collect();
    let group = group_of(&fixture);
    let (reads, mut read) = mpsc::unbounded_channel();
    let first = RecordedAssignments::new(BTreeMap::new());
    let second = RecordedAssignments::new(BTreeMap::new());
    let first_reader = Reader::start("first", &fixture, &group, &first, &reads).await;
    let second_reader = Reader::start("second", &fixture, &group, &second, &reads).await;
    wait_for("the partitions shared by both members", || {
        let (held_first, held_second) = (first.held(), second.held());
        !held_first.is_empty()
            && !held_second.is_empty()
            && held_first.is_disjoint(&held_second)
            && held_first
                .union(&held_second)
                .copied()
                .collect::<BTreeSet<_>>()
                == all
    })
    .await;
    let (held_first, held_second) = (first.held(), second.held());

    let records: Vec<Record> = (0..30)
        .map(|index| Record::new(format!("context-{index}"), format!("value-{index}"), 0))
        .collect();
    let positions = fixture
        .producer
        .append(&fixture.topic, &records)
        .await
        .expect("appending");
    let got = collect(&mut read, positions.len()).await;
    let mut by_member: BTreeMap<&str, BTreeSet<Position>> = BTreeMap::new();
    for (member, batch, held) in &got {
        for position in batch {
            assert!(
                held.contains(&position.partition),
                "{member} returned {position:?} while holding {held:?}"
            );
            by_member.entry(member).or_default().insert(*position);
        }
    }
    let expected = |partitions: &BTreeSet<u32>| -> BTreeSet<Position> {
        positions
            .iter()
            .copied()
            .filter(|position| partitions.contains(&position.partition))
            .collect()
    };
    assert_eq!(
        by_member.get("first").cloned().unwrap_or_default(),
        expected(&held_first)
    );
    assert_eq!(
        by_member.get("second").cloned().unwrap_or_default(),
        expected(&held_second)
    );

    // The first member keeps its partitions where it read them up to, and takes the
    // second's from offset 1, as a caller whose store says so would.
    let mut ends: BTreeMap<u32, u64> = BTreeMap::new();
    for position in &positions {
        let end = ends.entry(position.partition).or_default();
        *end = (*end).max(position.offset + 1);
    }
    for partition in &all {
        let start = if held_second.contains(partition) {
            1
        } else {
            ends.get(partition).copied().unwrap_or(0)
        };
        first.set_start(*partition, start);
    }
    let assigned_before = first.events().len();
    second_reader.stop().await;
    wait_for("the first member holding every partition", || {
        first.held() == all
    })
    .await;
    let taken_over: BTreeSet<Position> = expected(&held_second)
        .into_iter()
        .filter(|position| position.offset >= 1)
        .collect();
    let got = collect(&mut read, taken_over.len()).await;
    let mut reread = BTreeSet::new();
    for (member, batch, _) in got {
        assert_eq!(member, "first", "only the first member is left");
        reread.extend(batch);
    }
    assert_eq!(
        reread, taken_over,
        "the second's partitions from the offsets assigned returned"
    );
    let told: BTreeSet<u32> = first.events()[assigned_before..]
        .iter()
        .filter_map(|event| match event {
            vexil_queue::contract::Assignment::Assigned(partitions) => Some(partitions.clone()),
            vexil_queue::contract::Assignment::Revoked(_) => None,
        })
        .flatten()
        .collect();
    assert!(
        held_second.is_subset(&told),
        "assigned was called for the second's partitions {held_second:?}: {:?}",
        first.events()
    );
    first_reader.stop().await;
}

/// A member reading on a task of its own until stopped.
struct Reader {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Reader {
    async fn start(
        name: &'static str,
        fixture: &Fixture,
        group: &str,
        assignments: &Arc<RecordedAssignments>,
        reads: &mpsc::UnboundedSender<Read>,
    ) -> Reader {
        let mut subscription: Box<dyn Subscription> = fixture
            .consumer
            .join(&fixture.topic, group, assignments.clone())
            .await
            .expect("joining");
        let (stop, mut stopped) = oneshot::channel();
        let (assignments, reads) = (assignments.clone(), reads.clone());
        let task = tokio::spawn(async move {
            loop {
                let batch = tokio::select! {
                    _ = &mut stopped => break,
                    batch = subscription.next_batch(100) => batch.expect("reading"),
                };
                let positions = batch.iter().map(|stored| stored.position).collect();
                let _ = reads.send((name, positions, assignments.held()));
            }
            drop(subscription);
        });
        Reader { stop, task }
    }

    /// Stops reading and drops the subscription, leaving the group.
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("the reading task");
    }
}

async fn collect(read: &mut mpsc::UnboundedReceiver<Read>, count: usize) -> Vec<Read> {
    let mut got = Vec::new();
    let mut records = 0;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while records < count {
        let next = tokio::time::timeout_at(deadline, read.recv())
            .await
            .unwrap_or_else(|_| {
                panic!("only {records} of {count} records within {DEADLINE:?}: {got:?}")
            })
            .expect("the readers are running");
        records += next.1.len();
        got.push(next);
    }
    assert_eq!(records, count, "more records than expected: {got:?}");
    got
}

async fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

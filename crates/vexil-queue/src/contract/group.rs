//! Contract cases about consumer groups ([`Consumer::join`](crate::Consumer::join)) with a
//! lone member: it holds every partition, starts each where [`Assignments::assigned`]
//! says, and gives them all back when its subscription is dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use super::lag::{expect_lag, lags};
use super::{read_exactly, record, Fixture, DEADLINE};
use crate::{Assignments, Position, Record, Subscription};

/// A lone member is assigned every partition once, starts each at the offset `assigned`
/// returned (the others at their earliest record), reads every record after those exactly
/// once and in order, and lists every partition in `lag`.
pub async fn a_lone_member_reads_every_partition_from_where_assigned_says(fixture: Fixture) {
    let partitions = partition_list(&fixture).await;
    let started_key = "context-started";
    let started = crate::partition_for_key(started_key.as_bytes(), partitions.len() as u32);
    let records: Vec<Record> = (0..10)
        .map(|index| record(started_key, index))
        .chain((10..40).map(|index| record(&format!("context-{}", index % 11), index)))
        .collect();
    let positions = append(&fixture, &records).await;
    let assignments = RecordedAssignments::new(BTreeMap::from([(started, 3)]));
    let mut subscription = fixture
        .consumer
        .join(&fixture.topic, &group_of(&fixture), assignments.clone())
        .await
        .expect("joining");
    let expected: BTreeSet<Position> = positions
        .iter()
        .copied()
        .filter(|position| position.partition != started || position.offset >= 3)
        .collect();
    let read = read_exactly(subscription.as_mut(), expected.len()).await;
    let read_positions: Vec<Position> = read.iter().map(|stored| stored.position).collect();
    assert_eq!(
        read_positions.iter().copied().collect::<BTreeSet<_>>(),
        expected,
        "every record after the assigned starts, once"
    );
    for partition in &partitions {
        let offsets: Vec<u64> = read_positions
            .iter()
            .filter(|position| position.partition == *partition)
            .map(|position| position.offset)
            .collect();
        assert!(
            offsets.windows(2).all(|pair| pair[0] < pair[1]),
            "partition {partition} read out of order: {offsets:?}"
        );
    }
    assert_eq!(
        assignments.events(),
        vec![Assignment::Assigned(partitions.clone())],
        "assigned every partition once"
    );
    let ends = ends(&positions);
    expect_lag(subscription.as_ref(), &lags(partitions.len() as u32, &ends)).await;
    expect_nothing_more(subscription.as_mut()).await;
}

/// Dropping a lone member's subscription revokes every partition (the embedded log at
/// once, Kafka as the member leaves the group); a new member of the group is then assigned
/// them all again and starts them where its `assigned` says.
pub async fn a_dropped_member_revokes_every_partition_and_the_next_member_gets_them_again(
    fixture: Fixture,
) {
    let partitions = partition_list(&fixture).await;
    let group = group_of(&fixture);
    let first: Vec<Record> = (0..12)
        .map(|index| record(&format!("context-{index}"), index))
        .collect();
    let first_positions = append(&fixture, &first).await;
    let leaving = RecordedAssignments::new(BTreeMap::new());
    let mut subscription = fixture
        .consumer
        .join(&fixture.topic, &group, leaving.clone())
        .await
        .expect("joining");
    read_exactly(subscription.as_mut(), first.len()).await;
    drop(subscription);
    leaving
        .wait_for("every partition revoked after the drop", |assignments| {
            assignments.events()
                == vec![
                    Assignment::Assigned(partitions.clone()),
                    Assignment::Revoked(partitions.clone()),
                ]
        })
        .await;

    // The next member starts every partition after what the first one read.
    let ends = ends(&first_positions);
    let starts = ends
        .iter()
        .map(|(&partition, &(_, end))| (partition, end))
        .collect();
    let joining = RecordedAssignments::new(starts);
    let mut subscription = fixture
        .consumer
        .join(&fixture.topic, &group, joining.clone())
        .await
        .expect("joining again");
    let second: Vec<Record> = (12..20)
        .map(|index| record(&format!("context-{index}"), index))
        .collect();
    let second_positions = append(&fixture, &second).await;
    let read = read_exactly(subscription.as_mut(), second.len()).await;
    assert_eq!(
        read.iter()
            .map(|stored| stored.position)
            .collect::<BTreeSet<_>>(),
        second_positions.iter().copied().collect::<BTreeSet<_>>(),
        "only the records after the assigned starts"
    );
    assert_eq!(
        joining.events(),
        vec![Assignment::Assigned(partitions.clone())]
    );
    expect_nothing_more(subscription.as_mut()).await;
}

/// What a member was told, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignment {
    Assigned(Vec<u32>),
    Revoked(Vec<u32>),
}

/// An [`Assignments`] answering from a map of starts and recording what it is told.
pub struct RecordedAssignments {
    starts: Mutex<BTreeMap<u32, u64>>,
    events: Mutex<Vec<(String, Assignment)>>,
}

impl RecordedAssignments {
    pub fn new(starts: BTreeMap<u32, u64>) -> Arc<RecordedAssignments> {
        Arc::new(RecordedAssignments {
            starts: Mutex::new(starts),
            events: Mutex::new(Vec::new()),
        })
    }

    /// Where `partition` starts when it is assigned from now on.
    pub fn set_start(&self, partition: u32, offset: u64) {
        self.starts.lock().unwrap().insert(partition, offset);
    }

    /// Every assignment and revocation so far, in order.
    pub fn events(&self) -> Vec<Assignment> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .map(|(_, event)| event.clone())
            .collect()
    }

    /// The partitions held now: assigned and not revoked since.
    pub fn held(&self) -> BTreeSet<u32> {
        let mut held = BTreeSet::new();
        for event in self.events() {
            match event {
                Assignment::Assigned(partitions) => held.extend(partitions),
                Assignment::Revoked(partitions) => {
                    for partition in partitions {
                        held.remove(&partition);
                    }
                }
            }
        }
        held
    }

    /// Waits until `done` holds, failing after the contract's deadline with the events.
    pub async fn wait_for(&self, what: &str, done: impl Fn(&RecordedAssignments) -> bool) {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while !done(self) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: not within {DEADLINE:?}; events {:?}",
                self.events()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

impl Assignments for RecordedAssignments {
    fn assigned(&self, topic: &str, partitions: &[u32]) -> Vec<Position> {
        self.events
            .lock()
            .unwrap()
            .push((topic.to_owned(), Assignment::Assigned(partitions.to_vec())));
        let starts = self.starts.lock().unwrap();
        partitions
            .iter()
            .filter_map(|partition| {
                let offset = *starts.get(partition)?;
                Some(Position {
                    partition: *partition,
                    offset,
                })
            })
            .collect()
    }

    fn revoked(&self, topic: &str, partitions: &[u32]) {
        self.events
            .lock()
            .unwrap()
            .push((topic.to_owned(), Assignment::Revoked(partitions.to_vec())));
    }
}

/// A group unique to the fixture's topic.
pub fn group_of(fixture: &Fixture) -> String {
    format!("{}-group", fixture.topic)
}

async fn partition_list(fixture: &Fixture) -> Vec<u32> {
    let partitions = fixture
        .consumer
        .partitions(&fixture.topic)
        .await
        .expect("partitions");
    (0..partitions).collect()
}

async fn append(fixture: &Fixture, records: &[Record]) -> Vec<Position> {
    fixture
        .producer
        .append(&fixture.topic, records)
        .await
        .expect("appending")
}

/// Per partition appended to, (its end, its end): read up to the end.
fn ends(positions: &[Position]) -> BTreeMap<u32, (u64, u64)> {
    let mut ends = BTreeMap::new();
    for position in positions {
        let end: &mut (u64, u64) = ends.entry(position.partition).or_default();
        *end = (
            end.0.max(position.offset + 1),
            end.1.max(position.offset + 1),
        );
    }
    ends
}

/// Nothing further is returned within a short wait: no record came twice.
async fn expect_nothing_more(subscription: &mut dyn Subscription) {
    let more = tokio::time::timeout(
        std::time::Duration::from_millis(500),
        subscription.next_batch(10),
    )
    .await;
    assert!(
        more.is_err(),
        "records beyond those expected: {:?}",
        more.map(|batch| batch.map(|records| records
            .iter()
            .map(|stored| stored.position)
            .collect::<Vec<_>>()))
    );
}

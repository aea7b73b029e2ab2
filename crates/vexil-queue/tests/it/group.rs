//! What only the embedded log's groups do: one member at a time.

use std::collections::BTreeMap;

use vexil_queue::contract::{Assignment, RecordedAssignments};
use vexil_queue::{Consumer, QueueError};

use crate::support;

#[tokio::test]
async fn a_second_member_is_refused_while_the_first_lives_and_joins_once_it_is_dropped() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let queue = support::open(dir.path(), support::options(3)).await;
    let first = RecordedAssignments::new(BTreeMap::new());
    let subscription = queue
        .join(support::TOPIC, "workers", first.clone())
        .await
        .expect("joining");
    let second = RecordedAssignments::new(BTreeMap::new());
    let refused = queue.join(support::TOPIC, "workers", second.clone()).await;
    match refused {
        Err(error @ QueueError::GroupTaken { .. }) => {
            let message = error.to_string();
            assert!(
                message.contains(support::TOPIC) && message.contains("workers"),
                "{message}"
            );
        }
        Err(other) => panic!("expected GroupTaken, got {other:?}"),
        Ok(_) => panic!("a second member joined the group"),
    }
    assert_eq!(
        second.events(),
        vec![],
        "the refused member was told nothing"
    );
    // Another group of the same topic is another matter.
    let other_group = queue
        .join(
            support::TOPIC,
            "auditors",
            RecordedAssignments::new(BTreeMap::new()),
        )
        .await
        .expect("joining another group");
    drop(subscription);
    assert_eq!(
        first.events(),
        vec![
            Assignment::Assigned(vec![0, 1, 2]),
            Assignment::Revoked(vec![0, 1, 2])
        ]
    );
    let _rejoined = queue
        .join(support::TOPIC, "workers", second.clone())
        .await
        .expect("joining after the first member left");
    assert_eq!(second.events(), vec![Assignment::Assigned(vec![0, 1, 2])]);
    drop(other_group);
}

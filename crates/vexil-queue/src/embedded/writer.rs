//! The writer thread and its group commit: it takes every append waiting in its channel,
//! writes them all, syncs each touched segment once, and only then answers the appenders
//! and wakes the readers. Under load, one `fsync` covers many appends.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::lock::DirectoryLock;
use super::partition::Frames;
use super::topic::Topic;
use crate::QueueError;

/// How many appends one sync covers at most, so the first appender of a long queue is not
/// kept waiting for all the others' writes.
const MAX_GROUP: usize = 256;

/// One append: the frames of each partition it touches. The answer is each chunk's first
/// offset, in order.
pub(crate) struct AppendRequest {
    pub topic: Arc<Topic>,
    pub chunks: Vec<(u32, Frames)>,
    pub done: oneshot::Sender<Result<Vec<u64>, QueueError>>,
}

/// Runs until every sender is gone (the queue closed), then releases the directory lock.
pub(crate) fn run(
    mut requests: mpsc::Receiver<AppendRequest>,
    segment_bytes: u64,
    lock: DirectoryLock,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = requests.blocking_recv() {
        group.push(first);
        while group.len() < MAX_GROUP {
            match requests.try_recv() {
                Ok(request) => group.push(request),
                Err(_) => break,
            }
        }
        commit(&mut group, segment_bytes);
    }
    drop(lock);
}

/// Writes, syncs and answers one group of appends.
fn commit(group: &mut Vec<AppendRequest>, segment_bytes: u64) {
    let mut outcomes: Vec<Result<Vec<u64>, QueueError>> = Vec::with_capacity(group.len());
    // (topic, partition) pairs written to, each synced once.
    let mut touched: Vec<(Arc<Topic>, u32)> = Vec::new();
    for request in group.iter_mut() {
        let topic = &request.topic;
        let mut firsts = Vec::with_capacity(request.chunks.len());
        let mut outcome = Ok(());
        for (number, frames) in &mut request.chunks {
            let written = topic
                .partition(*number)
                .and_then(|partition| partition.write(&topic.name, frames, segment_bytes));
            match written {
                Ok(first) => firsts.push(first),
                Err(error) => {
                    outcome = Err(error);
                    break;
                }
            }
            if !touched
                .iter()
                .any(|(seen, seen_number)| Arc::ptr_eq(seen, topic) && seen_number == number)
            {
                touched.push((topic.clone(), *number));
            }
        }
        outcomes.push(outcome.map(|()| firsts));
    }
    let failed_syncs = sync_all(&touched);
    for (index, (topic, _)) in touched.iter().enumerate() {
        let first_of_topic = touched[..index]
            .iter()
            .all(|(seen, _)| !Arc::ptr_eq(seen, topic));
        if first_of_topic {
            topic.appended.send_modify(|generation| *generation += 1);
        }
    }
    for (request, outcome) in group.drain(..).zip(outcomes) {
        let unsynced = request.chunks.iter().find_map(|(number, _)| {
            failed_syncs
                .iter()
                .find(|(topic, failed, _)| Arc::ptr_eq(topic, &request.topic) && failed == number)
        });
        let outcome = match (outcome, unsynced) {
            (Ok(_), Some((topic, number, reason))) => Err(QueueError::PartitionFailed {
                topic: topic.name.clone(),
                partition: *number,
                reason: reason.clone(),
            }),
            (outcome, _) => outcome,
        };
        // The appender may have timed out and gone: nothing to tell it.
        let _ = request.done.send(outcome);
    }
}

/// Syncs every touched partition, all at once: one `fsync` after another would make a
/// batch spread over 8 partitions wait for 8 disk flushes, while concurrent ones share the
/// file system's journal commit. Returns the partitions whose sync failed, with why.
fn sync_all(touched: &[(Arc<Topic>, u32)]) -> Vec<(Arc<Topic>, u32, String)> {
    let sync = |(topic, number): &(Arc<Topic>, u32)| {
        topic
            .partition(*number)
            .and_then(|partition| partition.sync(&topic.name))
            .err()
            .map(|error| {
                tracing::error!(topic = %topic.name, partition = number, error = %error, "syncing a queue segment failed");
                (topic.clone(), *number, error.to_string())
            })
    };
    let Some((last, others)) = touched.split_last() else {
        return Vec::new();
    };
    std::thread::scope(|scope| {
        let others: Vec<_> = others
            .iter()
            .map(|partition| scope.spawn(move || sync(partition)))
            .collect();
        let mut failed: Vec<_> = sync(last).into_iter().collect();
        for other in others {
            // A sync thread only panics if the one above does, which it does not.
            failed.extend(other.join().ok().flatten());
        }
        failed
    })
}

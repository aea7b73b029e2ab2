//! The embedded queue: a durable, append-only log in a local directory, for one process
//! (`vexil up`), implementing [`Producer`] and [`Consumer`].
//!
//! Layout: `{dir}/LOCK`, and per topic `{dir}/{topic}/partitions` (the fixed partition
//! count) and `{dir}/{topic}/{partition}/{first offset}.log` segments. Appenders encode and
//! checksum their records in their own tasks; one writer thread writes them and syncs once
//! per group of concurrent appends (`writer.rs`); readers read the files (`reader.rs`),
//! woken by the writer after each sync. The format and guarantees are in the README.

mod frame;
mod group;
mod lock;
mod options;
mod partition;
mod reader;
mod segment;
mod subscription;
mod topic;
mod writer;

pub use options::EmbeddedOptions;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use crate::{
    partition_for_key, Assignments, BoxFuture, Consumer, Position, Producer, QueueError, Record,
    Subscription,
};
use group::{Groups, Member};
use lock::DirectoryLock;
use partition::Frames;
use subscription::EmbeddedSubscription;
use topic::Topic;
use writer::AppendRequest;

/// Appends waiting for the writer thread beyond this many wait for room, within their
/// timeout.
const WRITER_BACKLOG: usize = 1024;

/// An open embedded queue. Cheap to clone; clones share the log. Close it with
/// [`EmbeddedQueue::close`] to release the directory at a known moment (dropping every
/// clone releases it too, shortly after).
#[derive(Clone)]
pub struct EmbeddedQueue {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    options: EmbeddedOptions,
    topics: Mutex<HashMap<String, Arc<Topic>>>,
    requests: Mutex<Option<mpsc::Sender<AppendRequest>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    groups: Groups,
}

impl EmbeddedQueue {
    /// Opens (creating if needed) the queue in `dir`, refusing a directory another open
    /// queue holds. Topics open on first use, when their newest segments' tails are
    /// checked.
    pub async fn open(
        dir: impl AsRef<Path>,
        options: EmbeddedOptions,
    ) -> Result<EmbeddedQueue, QueueError> {
        let dir = dir.as_ref().to_path_buf();
        let (locked_dir, lock) = tokio::task::spawn_blocking(move || {
            prepare_dir(&dir)?;
            DirectoryLock::acquire(&dir).map(|lock| (dir, lock))
        })
        .await
        .map_err(|_| QueueError::Closed)??;
        let (sender, receiver) = mpsc::channel(WRITER_BACKLOG);
        let segment_bytes = options.segment_bytes.max(1);
        let writer = std::thread::Builder::new()
            .name("vexil-queue-writer".to_owned())
            .spawn(move || writer::run(receiver, segment_bytes, lock))
            .map_err(QueueError::io("start the writer thread for", &locked_dir))?;
        tracing::info!(dir = %locked_dir.display(), "opened embedded queue");
        Ok(EmbeddedQueue {
            inner: Arc::new(Inner {
                dir: locked_dir,
                options,
                topics: Mutex::new(HashMap::new()),
                requests: Mutex::new(Some(sender)),
                writer: Mutex::new(Some(writer)),
                groups: Groups::default(),
            }),
        })
    }

    /// The queue's directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Stops accepting appends, waits for those in flight, and releases the directory.
    /// Appends afterwards fail with [`QueueError::Closed`]; subscriptions still read
    /// what was written.
    pub async fn close(&self) {
        self.inner
            .requests
            .lock()
            .expect("queue sender lock is never poisoned")
            .take();
        let writer = self
            .inner
            .writer
            .lock()
            .expect("queue writer lock is never poisoned")
            .take();
        if let Some(writer) = writer {
            let joined = tokio::task::spawn_blocking(move || writer.join()).await;
            if !matches!(joined, Ok(Ok(()))) {
                tracing::error!(dir = %self.inner.dir.display(), "the queue writer thread panicked");
            }
        }
    }

    /// The topic, opened (or created with `options.partitions`) on first use.
    async fn topic(&self, name: &str) -> Result<Arc<Topic>, QueueError> {
        topic::validate_name(name)?;
        if let Some(topic) = self.topics().get(name) {
            return Ok(topic.clone());
        }
        let inner = self.inner.clone();
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut topics = inner
                .topics
                .lock()
                .expect("topic map lock is never poisoned");
            if let Some(topic) = topics.get(&name) {
                return Ok(topic.clone());
            }
            let topic = Arc::new(Topic::open(
                &inner.dir,
                &name,
                inner.options.partitions.max(1),
            )?);
            topics.insert(name, topic.clone());
            Ok(topic)
        })
        .await
        .map_err(|_| QueueError::Closed)?
    }

    fn topics(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Topic>>> {
        self.inner
            .topics
            .lock()
            .expect("topic map lock is never poisoned")
    }

    async fn append_records(
        &self,
        topic_name: &str,
        records: &[Record],
    ) -> Result<Vec<Position>, QueueError> {
        let topic = self.topic(topic_name).await?;
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let Encoded { chunks, placements } = self.encode(&topic, records)?;
        let sender = self
            .inner
            .requests
            .lock()
            .expect("queue sender lock is never poisoned")
            .clone()
            .ok_or(QueueError::Closed)?;
        let chunk_partitions: Vec<u32> = chunks.iter().map(|(number, _)| *number).collect();
        let (done, answer) = oneshot::channel();
        let request = AppendRequest {
            topic,
            chunks,
            done,
        };
        let durable = async {
            sender.send(request).await.map_err(|_| QueueError::Closed)?;
            answer.await.map_err(|_| QueueError::Closed)?
        };
        let firsts = tokio::time::timeout(self.inner.options.append_timeout, durable)
            .await
            .map_err(|_| QueueError::TimedOut {
                topic: topic_name.to_owned(),
                timeout_ms: self.inner.options.append_timeout.as_millis(),
            })??;
        Ok(placements
            .into_iter()
            .map(|(chunk, index)| Position {
                partition: chunk_partitions[chunk],
                offset: firsts[chunk] + index,
            })
            .collect())
    }

    /// Encodes the records into one chunk of frames per partition.
    fn encode(&self, topic: &Topic, records: &[Record]) -> Result<Encoded, QueueError> {
        let partitions = topic.partitions.len() as u32;
        let limit = self.inner.options.max_record_bytes;
        let mut chunk_of_partition = vec![usize::MAX; partitions as usize];
        let mut chunks: Vec<(u32, Frames)> = Vec::new();
        let mut placements = Vec::with_capacity(records.len());
        for (index, record) in records.iter().enumerate() {
            let payload_len = frame::payload_len(record);
            if payload_len > limit || u32::try_from(payload_len).is_err() {
                return Err(QueueError::RecordTooLarge {
                    topic: topic.name.clone(),
                    index,
                    bytes: payload_len,
                    limit,
                });
            }
            let number = partition_for_key(&record.key, partitions);
            let chunk = &mut chunk_of_partition[number as usize];
            if *chunk == usize::MAX {
                *chunk = chunks.len();
                chunks.push((
                    number,
                    Frames {
                        bytes: Vec::new(),
                        frame_ends: Vec::new(),
                    },
                ));
            }
            let frames = &mut chunks[*chunk].1;
            frame::encode(record, payload_len, &mut frames.bytes);
            placements.push((*chunk, frames.frame_ends.len() as u64));
            frames.frame_ends.push(frames.bytes.len());
        }
        Ok(Encoded { chunks, placements })
    }
}

/// A batch encoded for the writer.
struct Encoded {
    /// Per partition touched, its frames.
    chunks: Vec<(u32, Frames)>,
    /// Per record, in the order given, its chunk and its index in that chunk.
    placements: Vec<(usize, u64)>,
}

/// Creates the queue directory, or checks that what is there is one.
fn prepare_dir(dir: &Path) -> Result<(), QueueError> {
    match std::fs::metadata(dir) {
        Ok(metadata) if !metadata.is_dir() => {
            return Err(QueueError::NotADirectory {
                path: dir.to_path_buf(),
            })
        }
        Ok(_) => return Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(QueueError::Io {
                action: "inspect queue directory",
                path: dir.to_path_buf(),
                source,
            })
        }
    }
    std::fs::create_dir_all(dir).map_err(|source| match source.kind() {
        // A file where a parent directory should be.
        std::io::ErrorKind::NotADirectory | std::io::ErrorKind::AlreadyExists => {
            QueueError::NotADirectory {
                path: dir.to_path_buf(),
            }
        }
        _ => QueueError::Io {
            action: "create queue directory",
            path: dir.to_path_buf(),
            source,
        },
    })
}

impl Producer for EmbeddedQueue {
    fn append<'a>(
        &'a self,
        topic: &'a str,
        records: &'a [Record],
    ) -> BoxFuture<'a, Result<Vec<Position>, QueueError>> {
        Box::pin(self.append_records(topic, records))
    }
}

impl Consumer for EmbeddedQueue {
    fn partitions<'a>(&'a self, topic: &'a str) -> BoxFuture<'a, Result<u32, QueueError>> {
        Box::pin(async move { Ok(self.topic(topic).await?.partitions.len() as u32) })
    }

    fn subscribe<'a>(
        &'a self,
        topic: &'a str,
        start: &'a [Position],
    ) -> BoxFuture<'a, Result<Box<dyn Subscription>, QueueError>> {
        Box::pin(async move {
            let topic = self.topic(topic).await?;
            let subscription = EmbeddedSubscription::new(topic, start)?;
            Ok(Box::new(subscription) as Box<dyn Subscription>)
        })
    }

    /// The single-member group: the member is assigned every partition at once and starts
    /// them where `assignments` says, like [`Consumer::subscribe`]; dropping the
    /// subscription revokes them all and frees the group for the next `join`.
    fn join<'a>(
        &'a self,
        topic: &'a str,
        group: &'a str,
        assignments: Arc<dyn Assignments>,
    ) -> BoxFuture<'a, Result<Box<dyn Subscription>, QueueError>> {
        Box::pin(async move {
            let claim = self.inner.groups.claim(topic, group)?;
            let topic = self.topic(topic).await?;
            let partitions: Vec<u32> = (0..topic.partitions.len() as u32).collect();
            let start = assignments.assigned(&topic.name, &partitions);
            // From here on, a failure revokes what was just assigned.
            let member = Member {
                assignments,
                topic: topic.name.clone(),
                partitions,
                claim,
            };
            let subscription = EmbeddedSubscription::new(topic, &start)?.with_member(member);
            tracing::debug!(topic = %subscription.topic_name(), %group, "joined group");
            Ok(Box::new(subscription) as Box<dyn Subscription>)
        })
    }
}

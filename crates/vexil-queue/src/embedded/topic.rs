//! A topic: its directory, its fixed partition count (stored in `partitions` when the
//! topic is created) and its partitions, plus the signal readers wait on.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use tokio::sync::watch;

use super::partition::{self, Partition};
use super::segment::sync_dir;
use crate::QueueError;

/// The file holding a topic's partition count, in decimal.
const PARTITIONS_FILE: &str = "partitions";

pub(crate) struct Topic {
    pub name: String,
    pub partitions: Vec<Partition>,
    /// Bumped after every synced append to this topic: readers wait on it, and read the
    /// partitions whose durable offset passed their position.
    pub appended: watch::Sender<u64>,
}

impl Topic {
    /// Opens the topic in `root`, creating it with `partitions` partitions when it does
    /// not exist yet; an existing topic keeps the count it was created with.
    pub(crate) fn open(root: &Path, name: &str, partitions: u32) -> Result<Topic, QueueError> {
        let dir = root.join(name);
        let count_path = dir.join(PARTITIONS_FILE);
        let count = match fs::read_to_string(&count_path) {
            Ok(text) => parse_count(&text).map_err(|reason| QueueError::Corrupt {
                path: count_path.clone(),
                position: 0,
                reason: reason.to_owned(),
            })?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                create(root, &dir, partitions)?;
                partitions
            }
            Err(source) => {
                return Err(QueueError::Io {
                    action: "read the partition count in",
                    path: count_path,
                    source,
                })
            }
        };
        let partitions = (0..count)
            .map(|number| Partition::open(partition::dir(&dir, number), number))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Topic {
            name: name.to_owned(),
            partitions,
            appended: watch::Sender::new(0),
        })
    }

    pub(crate) fn partition(&self, number: u32) -> Result<&Partition, QueueError> {
        self.partitions
            .get(number as usize)
            .ok_or_else(|| QueueError::UnknownPartition {
                topic: self.name.clone(),
                partition: number,
                partitions: self.partitions.len() as u32,
            })
    }
}

/// Writes the partition count through a temporary file and a rename, so a crash leaves
/// either no count (the topic is created again) or the whole count.
fn create(root: &Path, dir: &Path, partitions: u32) -> Result<(), QueueError> {
    fs::create_dir_all(dir).map_err(QueueError::io("create topic directory", dir))?;
    let temporary = dir.join(format!("{PARTITIONS_FILE}.tmp"));
    let mut file = File::create(&temporary).map_err(QueueError::io("create", &temporary))?;
    file.write_all(format!("{partitions}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(QueueError::io("write", &temporary))?;
    let path = dir.join(PARTITIONS_FILE);
    fs::rename(&temporary, &path)
        .map_err(QueueError::io("rename the partition count to", &path))?;
    sync_dir(dir)?;
    sync_dir(root)?;
    tracing::info!(topic_dir = %dir.display(), partitions, "created queue topic");
    Ok(())
}

fn parse_count(text: &str) -> Result<u32, &'static str> {
    match text.trim().parse::<u32>() {
        Ok(0) => Err("partition count is 0"),
        Ok(count) => Ok(count),
        Err(_) => Err("partition count is not a number"),
    }
}

/// Checks a topic name with Kafka's rules, which also keep it a safe directory name:
/// 1 to 249 characters of ASCII letters, digits, `.`, `_` and `-`, and not `.` or `..`.
pub(crate) fn validate_name(name: &str) -> Result<(), QueueError> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > 249 {
        Some("it is longer than 249 characters")
    } else if name == "." || name == ".." {
        Some("it is `.` or `..`")
    } else if !name
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
    {
        Some("only ASCII letters, digits, `.`, `_` and `-` are allowed")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(QueueError::InvalidTopic {
            topic: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_kafka_rules() {
        for good in ["vexil.sdk-events.v1", "a", "A_b-9"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "é", &"x".repeat(250)] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn partition_counts_must_be_positive_numbers() {
        assert_eq!(parse_count("8\n"), Ok(8));
        assert!(parse_count("0").is_err());
        assert!(parse_count("eight").is_err());
    }
}

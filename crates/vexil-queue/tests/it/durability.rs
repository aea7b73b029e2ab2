//! What survives closing, reopening and a crash mid-write.

use std::fs::OpenOptions;
use std::io::Write;

use vexil_queue::{Consumer, Producer, Record};

use crate::support::{self, TOPIC};

#[tokio::test]
async fn records_survive_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let queue = support::open(dir.path(), support::options(2)).await;
    let records: Vec<Record> = (0..30)
        .map(|index| support::record("context-1", index))
        .collect();
    let positions = queue.append(TOPIC, &records).await.unwrap();
    queue.close().await;

    let reopened = support::open(dir.path(), support::options(2)).await;
    let partition = positions[0].partition;
    let read = support::read_partition(&reopened, partition, 0, 30).await;
    let read_records: Vec<Record> = read.into_iter().map(|stored| stored.record).collect();
    assert_eq!(read_records, records);
    let next = reopened
        .append(TOPIC, &[support::record("context-1", 30)])
        .await
        .unwrap();
    assert_eq!(next[0].offset, 30, "appends continue after the last record");
}

#[tokio::test]
async fn a_torn_last_record_is_cut_off_and_appends_continue_in_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let queue = support::open(dir.path(), support::options(1)).await;
    let records: Vec<Record> = (0..10)
        .map(|index| support::record("context-1", index))
        .collect();
    queue.append(TOPIC, &records).await.unwrap();
    queue.close().await;

    // A crash halfway through writing the last record.
    let segment = support::segments(dir.path(), 0).pop().unwrap();
    let length = std::fs::metadata(&segment).unwrap().len();
    OpenOptions::new()
        .write(true)
        .open(&segment)
        .unwrap()
        .set_len(length - 20)
        .unwrap();

    let reopened = support::open(dir.path(), support::options(1)).await;
    let appended = reopened
        .append(TOPIC, &[support::record("context-1", 99)])
        .await
        .unwrap();
    assert_eq!(appended[0].offset, 9, "the torn record's offset is reused");
    let read = support::read_partition(&reopened, 0, 0, 10).await;
    let read_records: Vec<Record> = read.iter().map(|stored| stored.record.clone()).collect();
    let mut expected = records[..9].to_vec();
    expected.push(support::record("context-1", 99));
    assert_eq!(read_records, expected);
}

#[tokio::test]
async fn garbage_after_the_last_record_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let queue = support::open(dir.path(), support::options(1)).await;
    let records: Vec<Record> = (0..5)
        .map(|index| support::record("context-1", index))
        .collect();
    queue.append(TOPIC, &records).await.unwrap();
    queue.close().await;

    let segment = support::segments(dir.path(), 0).pop().unwrap();
    let intact_length = std::fs::metadata(&segment).unwrap().len();
    // A plausible header claiming more bytes than follow, then noise.
    let mut file = OpenOptions::new().append(true).open(&segment).unwrap();
    file.write_all(&[200, 0, 0, 0, 1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9])
        .unwrap();
    drop(file);

    let reopened = support::open(dir.path(), support::options(1)).await;
    assert_eq!(reopened.partitions(TOPIC).await.unwrap(), 1);
    assert_eq!(
        std::fs::metadata(&segment).unwrap().len(),
        intact_length,
        "the file is cut back to its last whole record"
    );
    let read = support::read_partition(&reopened, 0, 0, 5).await;
    assert_eq!(
        read.into_iter()
            .map(|stored| stored.record)
            .collect::<Vec<_>>(),
        records
    );
    let next = reopened
        .append(TOPIC, &[support::record("context-1", 5)])
        .await
        .unwrap();
    assert_eq!(next[0].offset, 5);
}

#[tokio::test]
async fn the_partition_count_is_fixed_when_the_topic_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let queue = support::open(dir.path(), support::options(3)).await;
    let positions = queue
        .append(TOPIC, &[support::record("context-1", 0)])
        .await
        .unwrap();
    queue.close().await;

    let reopened = support::open(dir.path(), support::options(16)).await;
    assert_eq!(reopened.partitions(TOPIC).await.unwrap(), 3);
    let again = reopened
        .append(TOPIC, &[support::record("context-1", 1)])
        .await
        .unwrap();
    assert_eq!(
        again[0].partition, positions[0].partition,
        "the key stays in its partition"
    );
}

#[tokio::test]
async fn appends_after_close_fail_and_records_too_large_are_refused_by_index() {
    let dir = tempfile::tempdir().unwrap();
    let options = vexil_queue::embedded::EmbeddedOptions {
        max_record_bytes: 200,
        ..support::options(1)
    };
    let queue = support::open(dir.path(), options).await;
    let big = Record::new("key", vec![0u8; 500], 0);
    let error = queue
        .append(TOPIC, &[support::record("context-1", 0), big])
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("record 1 ") && message.contains("max_record_bytes"),
        "{message}"
    );
    queue.close().await;
    let error = queue
        .append(TOPIC, &[support::record("context-1", 0)])
        .await
        .unwrap_err();
    assert!(matches!(error, vexil_queue::QueueError::Closed), "{error}");
}

#[tokio::test]
async fn damage_inside_an_older_segment_is_a_read_error_naming_the_file() {
    use vexil_queue::{Position, QueueError};
    let dir = tempfile::tempdir().unwrap();
    let options = vexil_queue::embedded::EmbeddedOptions {
        segment_bytes: 1024,
        ..support::options(1)
    };
    let queue = support::open(dir.path(), options.clone()).await;
    let records: Vec<Record> = (0..40)
        .map(|index| support::record("context-1", index))
        .collect();
    queue.append(TOPIC, &records).await.unwrap();
    queue.close().await;

    // Only the newest segment is checked on opening; an older one damaged later (a bad
    // disk, a hand edit) must fail the read, not panic or return wrong records.
    let oldest = support::segments(dir.path(), 0).remove(0);
    let mut bytes = std::fs::read(&oldest).unwrap();
    bytes[40] ^= 0xFF;
    std::fs::write(&oldest, bytes).unwrap();

    let reopened = support::open(dir.path(), options).await;
    let mut subscription = reopened
        .subscribe(
            TOPIC,
            &[Position {
                partition: 0,
                offset: 0,
            }],
        )
        .await
        .unwrap();
    let error = subscription.next_batch(10).await.unwrap_err();
    assert!(matches!(error, QueueError::Corrupt { .. }), "{error}");
    assert!(
        error.to_string().contains(&oldest.display().to_string()),
        "{error}"
    );
}

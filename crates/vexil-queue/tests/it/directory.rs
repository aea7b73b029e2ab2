//! The queue directory: one owner at a time, and clear errors about what is there.

use vexil_queue::embedded::{EmbeddedOptions, EmbeddedQueue};
use vexil_queue::QueueError;

use crate::support;

#[tokio::test]
async fn a_second_open_of_the_same_directory_is_refused_until_the_first_closes() {
    let dir = tempfile::tempdir().unwrap();
    let first = support::open(dir.path(), EmbeddedOptions::default()).await;
    let Err(error) = EmbeddedQueue::open(dir.path(), EmbeddedOptions::default()).await else {
        panic!("a second open of a held directory succeeded");
    };
    assert!(matches!(error, QueueError::Locked { .. }), "{error}");
    let message = error.to_string();
    assert!(
        message.contains(&dir.path().display().to_string()) && message.contains("in use"),
        "{message}"
    );

    first.close().await;
    let second = EmbeddedQueue::open(dir.path(), EmbeddedOptions::default()).await;
    assert!(second.is_ok(), "opening after close: {:?}", second.err());
}

#[tokio::test]
async fn a_file_where_the_directory_should_be_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("queue");
    std::fs::write(&file, b"not a directory").unwrap();
    for path in [file.clone(), file.join("below")] {
        let Err(error) = EmbeddedQueue::open(&path, EmbeddedOptions::default()).await else {
            panic!("opening {} succeeded", path.display());
        };
        assert!(
            error.to_string().contains(&path.display().to_string()),
            "error for {}: {error}",
            path.display()
        );
    }
}

#[tokio::test]
async fn an_invalid_topic_name_is_refused_with_the_reason() {
    use vexil_queue::Producer;
    let dir = tempfile::tempdir().unwrap();
    let queue = support::open(dir.path(), EmbeddedOptions::default()).await;
    let error = queue
        .append("../escape", &[support::record("k", 0)])
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("`../escape`") && message.contains("allowed"),
        "{message}"
    );
}

//! What only the SQLite store has: a file, which `store::connect` creates with its parent
//! directories from `database.url`, and which keeps committed batches across a close and
//! reopen (what `vexil up` relies on across restarts).

use std::collections::HashMap;

use vexil_analytics_worker::config::DatabaseConfig;
use vexil_analytics_worker::store::{connect, time_of, CommitOutcome};

use crate::fixtures::{batch, event, summary, unkeyed, ENVIRONMENT, HOUR, TOPIC};

#[tokio::test]
async fn committed_batches_survive_closing_and_reopening_the_file() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("vexil-data").join("analytics.db");
    let database = DatabaseConfig {
        url: format!("sqlite://{}", file.display()),
        ..DatabaseConfig::default()
    };
    let evaluation = |count: u64| {
        event(
            ENVIRONMENT,
            "summary",
            summary(HOUR + 1000, &[("checkout", &[(Some(0), Some(1), count)])]),
        )
    };

    let store = connect(&database).await.unwrap();
    store
        .commit(&batch(0, 0, 2, unkeyed(vec![evaluation(3)])))
        .await
        .unwrap();
    store.close().await;
    assert!(file.is_file(), "{} was not created", file.display());

    let store = connect(&database).await.unwrap();
    assert_eq!(
        store.load_offsets(TOPIC).await.unwrap(),
        HashMap::from([(0, 2)])
    );
    assert_eq!(
        store
            .commit(&batch(0, 2, 3, unkeyed(vec![evaluation(4)])))
            .await
            .unwrap(),
        CommitOutcome::Committed {
            counted: 1,
            duplicates: 0
        }
    );
    let usage = store
        .flag_usage(
            ENVIRONMENT,
            "checkout",
            time_of(HOUR),
            time_of(HOUR + 60_000),
            60_000,
        )
        .await
        .unwrap();
    assert_eq!(usage.iter().map(|cell| cell.count).sum::<i64>(), 7);
    store.close().await;
}

#[tokio::test]
async fn the_sqlite_url_forms_open_the_same_file() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("analytics.db");
    let database = |url: String| DatabaseConfig {
        url,
        ..DatabaseConfig::default()
    };
    let store = connect(&database(format!("sqlite://{}", file.display())))
        .await
        .unwrap();
    store.commit(&batch(0, 0, 9, vec![])).await.unwrap();
    store.close().await;
    let store = connect(&database(format!("sqlite:{}", file.display())))
        .await
        .unwrap();
    assert_eq!(
        store.load_offsets(TOPIC).await.unwrap(),
        HashMap::from([(0, 9)])
    );
    store.close().await;
}

#[tokio::test]
async fn an_unsupported_database_url_names_the_key() {
    let database = DatabaseConfig {
        url: "mysql://root:hunter2@db/vexil".into(),
        ..DatabaseConfig::default()
    };
    let message = format!("{:#}", connect(&database).await.err().unwrap());
    assert_eq!(
        message,
        "database.url must start with postgres://, postgresql:// or sqlite:, got `mysql://...`"
    );
}

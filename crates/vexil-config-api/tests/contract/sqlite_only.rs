//! What only the SQLite store has: a file that keeps its data across a reopen, a lock that
//! refuses a second open, statements checked at run time (every one of `store/sqlite/`
//! must prepare against the migrated schema), and a schema that defends itself.

use std::path::{Path, PathBuf};

use futures_util::FutureExt;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, Executor, SqliteConnection};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;
use vexil_config_api::store::kinds::ChangeKind;
use vexil_config_api::store::params::AuditFilter;
use vexil_config_api::store::sqlite::{AlreadyOpen, SqliteStore};
use vexil_config_api::store::{ConfigStore, StoreError};
use vexil_config_api::sync::{ChangeHub, HubEvent};

use crate::support::{caller, project, record, FlagSpec};

fn database() -> (TempDir, PathBuf) {
    let directory = tempfile::tempdir().unwrap();
    let path = directory
        .path()
        .join("nested")
        .join("data")
        .join("config.db");
    (directory, path)
}

/// A plain connection to the file, for what the store's API cannot do.
async fn raw(path: &Path) -> SqliteConnection {
    SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(path)
            .foreign_keys(true),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn reopening_keeps_the_data_and_continues_the_numbering() {
    let (_directory, path) = database();
    let store = SqliteStore::open(&path).await.unwrap();
    assert!(path.is_file(), "{} was not created", path.display());
    let (_, environments) = project(&store, "p", &["production"]).await;
    let production = environments[0].id;
    let mut write = store.write().await.unwrap();
    write
        .record_change(production, ChangeKind::FlagUpsert, "before", 1, Vec::new())
        .await
        .unwrap();
    write
        .append_audit(&caller(), record("flag.create", "before"))
        .await
        .unwrap();
    write.commit().await.unwrap();
    store.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    let mut write = store.write().await.unwrap();
    write
        .record_change(production, ChangeKind::FlagUpsert, "after", 1, Vec::new())
        .await
        .unwrap();
    write
        .append_audit(&caller(), record("flag.update", "after"))
        .await
        .unwrap();
    write.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert!(read.find_project("p").await.unwrap().is_some());
    let stream = read.changes_since(production, 0, 10).await.unwrap();
    assert_eq!(
        stream
            .iter()
            .map(|c| (c.sequence, c.key.as_str()))
            .collect::<Vec<_>>(),
        [(1, "before"), (2, "after")]
    );
    let verification = read.verify_audit().await.unwrap();
    assert!(verification.is_intact && verification.entries_checked == 2);
    drop(read);
    store.close().await;
    assert!(store.read().await.is_err(), "a session after close");
    assert!(store.write().await.is_err(), "a session after close");
}

#[tokio::test]
async fn a_second_open_is_refused_until_the_first_closes() {
    let (_directory, path) = database();
    let first = SqliteStore::open(&path).await.unwrap();
    let refused = SqliteStore::open(&path)
        .await
        .err()
        .expect("a second open succeeded");
    let StoreError::Database(sqlx::Error::Configuration(error)) = &refused else {
        panic!("unexpected error: {refused:?}");
    };
    let already_open = error.downcast_ref::<AlreadyOpen>().expect("AlreadyOpen");
    assert_eq!(already_open.database, path);
    assert!(
        refused
            .to_string()
            .contains("is already open in another process"),
        "{refused}"
    );
    first.close().await;
    let again = SqliteStore::open(&path).await.unwrap();
    again.close().await;
}

#[tokio::test]
async fn every_statement_prepares_against_the_migrated_schema() {
    let (_directory, path) = database();
    SqliteStore::open(&path).await.unwrap().close().await;
    let mut connection = raw(&path).await;
    let statements = statements_of_the_sqlite_store();
    assert!(
        statements.len() > 50,
        "found only {} statements",
        statements.len()
    );
    for (file, statement) in &statements {
        if let Err(error) = connection.prepare(statement.as_str()).await {
            panic!("a statement of {file} does not prepare: {error}\n{statement}");
        }
    }
}

/// Every statement of `src/store/sqlite/`: the raw string literal each `sqlx::query(`
/// call takes, which the store's convention makes the only way it writes SQL (checked
/// here, so a statement written otherwise fails this test instead of escaping it).
fn statements_of_the_sqlite_store() -> Vec<(String, String)> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/sqlite");
    let mut statements = Vec::new();
    for file in std::fs::read_dir(&directory).unwrap() {
        let path = file.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let source = std::fs::read_to_string(&path).unwrap();
        for (index, _) in source.match_indices("sqlx::query") {
            let call = &source[index + "sqlx::query".len()..];
            let argument = call
                .strip_prefix('(')
                .map(str::trim_start)
                .and_then(|argument| argument.strip_prefix("r#\""))
                .unwrap_or_else(|| {
                    panic!("{name}: a sqlx::query call does not take a raw string literal")
                });
            let end = argument.find("\"#").expect("an unterminated raw string");
            statements.push((name.clone(), argument[..end].to_owned()));
        }
    }
    statements
}

#[tokio::test]
async fn the_audit_log_refuses_update_and_delete() {
    let (_directory, path) = database();
    let store = SqliteStore::open(&path).await.unwrap();
    let mut write = store.write().await.unwrap();
    write
        .append_audit(&caller(), record("flag.create", "f"))
        .await
        .unwrap();
    write.commit().await.unwrap();
    store.close().await;

    let mut connection = raw(&path).await;
    for statement in [
        "UPDATE audit_log SET comment = 'rewritten'",
        "DELETE FROM audit_log WHERE sequence = 1",
        "DELETE FROM audit_log",
    ] {
        let error = connection.execute(statement).await.expect_err(statement);
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
}

#[tokio::test]
async fn an_altered_entry_breaks_verification() {
    let (_directory, path) = database();
    let store = SqliteStore::open(&path).await.unwrap();
    for key in ["a", "b", "c"] {
        let mut write = store.write().await.unwrap();
        write
            .append_audit(&caller(), record("flag.update", key))
            .await
            .unwrap();
        write.commit().await.unwrap();
    }
    store.close().await;
    let mut connection = raw(&path).await;
    connection
        .execute("DROP TRIGGER audit_log_no_update")
        .await
        .unwrap();
    connection
        .execute("UPDATE audit_log SET comment = 'rewritten' WHERE sequence = 2")
        .await
        .unwrap();
    connection.close().await.unwrap();

    let store = SqliteStore::open(&path).await.unwrap();
    let verification = store.read().await.unwrap().verify_audit().await.unwrap();
    assert!(!verification.is_intact);
    assert_eq!(verification.entries_checked, 1);
    assert_eq!(verification.first_broken.unwrap().sequence, 2);
    store.close().await;
}

#[tokio::test]
async fn times_are_stored_as_microseconds_and_read_back_exactly() {
    let (_directory, path) = database();
    let store = SqliteStore::open(&path).await.unwrap();
    let (project, _) = project(&store, "p", &[]).await;
    let mut write = store.write().await.unwrap();
    write
        .append_audit(&caller(), record("flag.create", "f"))
        .await
        .unwrap();
    write.commit().await.unwrap();
    let entry = store
        .read()
        .await
        .unwrap()
        .list_audit(&AuditFilter {
            limit: 1,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .remove(0);
    store.close().await;

    let mut connection = raw(&path).await;
    let stored: i64 = sqlx::query_scalar("SELECT created_at FROM projects")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(
        i128::from(stored) * 1_000,
        project.created_at.unix_timestamp_nanos()
    );
    let stored: i64 = sqlx::query_scalar("SELECT at FROM audit_log")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(i128::from(stored) * 1_000, entry.at.unix_timestamp_nanos());
    let stored: String = sqlx::query_scalar("SELECT id FROM projects")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert_eq!(stored, project.id.hyphenated().to_string());
}

#[tokio::test]
async fn a_value_the_store_could_not_have_written_is_corrupt() {
    let (_directory, path) = database();
    let store = SqliteStore::open(&path).await.unwrap();
    let (project, _) = project(&store, "p", &[]).await;
    crate::support::project(&store, "bare", &[]).await;
    let mut write = store.write().await.unwrap();
    write
        .insert_flag(project.id, "f", &FlagSpec::new("F").fields())
        .await
        .unwrap()
        .unwrap();
    write.commit().await.unwrap();
    store.close().await;
    let mut connection = raw(&path).await;
    for statement in [
        // Valid JSON, but not a list of variations.
        r#"UPDATE flags SET variations = '{"value": true}'"#,
        // Past the year 9999.
        "UPDATE projects SET updated_at = 9223372036854775807 WHERE key = 'p'",
        // Another spelling of a uuid than the one written.
        "UPDATE projects SET id = upper(id) WHERE key = 'bare'",
    ] {
        connection.execute(statement).await.unwrap();
    }
    connection.close().await.unwrap();

    let store = SqliteStore::open(&path).await.unwrap();
    let mut read = store.read().await.unwrap();
    let corrupt = |result: Result<(), StoreError>| match result {
        Err(StoreError::Corrupt { table, column }) => (table, column),
        Err(error) => panic!("not Corrupt: {error:?}"),
        Ok(()) => panic!("a corrupt value was read"),
    };
    assert_eq!(
        corrupt(read.find_flag(project.id, "f").await.map(drop)),
        ("flags", "variations")
    );
    assert_eq!(
        corrupt(read.find_project("p").await.map(drop)),
        ("projects", "updated_at")
    );
    assert_eq!(
        corrupt(read.find_project("bare").await.map(drop)),
        ("projects", "id")
    );
    drop(read);
    store.close().await;
}

#[tokio::test]
async fn a_commit_has_published_its_changes_when_it_returns() {
    let (_directory, path) = database();
    let store = SqliteStore::open(&path).await.unwrap();
    let (_, environments) = project(&store, "p", &["production"]).await;
    let hub = ChangeHub::new();
    store
        .start(hub.clone(), CancellationToken::new())
        .await
        .unwrap();
    let mut changes = hub.subscribe();
    let mut write = store.write().await.unwrap();
    write
        .record_change(
            environments[0].id,
            ChangeKind::FlagUpsert,
            "f",
            1,
            Vec::new(),
        )
        .await
        .unwrap();
    write.commit().await.unwrap();
    match changes.try_recv() {
        Ok(HubEvent::Change(change)) => {
            assert_eq!((change.sequence, change.key.as_str()), (1, "f"))
        }
        other => panic!("nothing published by the time commit returned: {other:?}"),
    }
    store.close().await;
}

#[tokio::test]
async fn a_commit_whose_caller_stops_waiting_still_commits_and_publishes() {
    let (_directory, path) = database();
    let store = SqliteStore::open(&path).await.unwrap();
    let (_, environments) = project(&store, "p", &["production"]).await;
    let production = environments[0].id;
    let hub = ChangeHub::new();
    store
        .start(hub.clone(), CancellationToken::new())
        .await
        .unwrap();
    let mut changes = hub.subscribe();
    let mut write = store.write().await.unwrap();
    write
        .record_change(production, ChangeKind::FlagUpsert, "f", 1, Vec::new())
        .await
        .unwrap();
    // Polled once, then dropped: what a request's future suffers when its client hangs up.
    let abandoned = write.commit().now_or_never();
    assert!(
        abandoned.is_none(),
        "the commit finished within its first poll"
    );
    let change = crate::support::next_change(&mut changes).await;
    assert_eq!((change.environment_id, change.sequence), (production, 1));
    let stream = store
        .read()
        .await
        .unwrap()
        .changes_since(production, 0, 10)
        .await
        .unwrap();
    assert_eq!(stream.len(), 1);
    store.close().await;
}

//! Sessions: a write is one transaction (dropped, it leaves and publishes nothing; a
//! savepoint rollback undoes rows, changes and audit entries alike), reads see committed
//! data only, and a snapshot keeps seeing the database as it was.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use vexil_config_api::store::kinds::ChangeKind;
use vexil_config_api::store::params::AuditFilter;
use vexil_config_api::store::ConfigStore;
use vexil_config_api::sync::ChangeHub;

use crate::support::{caller, next_change, project, record, FlagSpec};

fn every_entry() -> AuditFilter {
    AuditFilter {
        limit: 1_000,
        ..AuditFilter::default()
    }
}

pub async fn a_dropped_write_leaves_nothing_and_publishes_nothing(store: Arc<dyn ConfigStore>) {
    let hub = ChangeHub::new();
    let shutdown = CancellationToken::new();
    store.start(hub.clone(), shutdown.clone()).await.unwrap();
    let mut changes = hub.subscribe();
    let (project, environments) = project(&*store, "p", &["production"]).await;
    let production = environments[0].id;

    let mut write = store.write().await.unwrap();
    write
        .insert_flag(project.id, "dropped", &FlagSpec::new("Dropped").fields())
        .await
        .unwrap()
        .unwrap();
    write
        .record_change(production, ChangeKind::FlagUpsert, "dropped", 1, Vec::new())
        .await
        .unwrap();
    write
        .append_audit(&caller(), record("flag.create", "dropped"))
        .await
        .unwrap();
    // Another writer waits for the session to end, then sees none of it.
    let waiting = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut write = store.write().await.unwrap();
            let seen = write.find_flag(project.id, "dropped").await.unwrap();
            write
                .record_change(production, ChangeKind::FlagUpsert, "kept", 1, Vec::new())
                .await
                .unwrap();
            write
                .append_audit(&caller(), record("flag.create", "kept"))
                .await
                .unwrap();
            write.commit().await.unwrap();
            seen
        })
    };
    drop(write);
    assert!(
        waiting.await.unwrap().is_none(),
        "the dropped flag was visible"
    );
    store.flush().await;

    // The first change anyone hears of is the later write's, numbered as if the dropped
    // one never was.
    let change = next_change(&mut changes).await;
    assert_eq!((change.key.as_str(), change.sequence), ("kept", 1));
    let mut read = store.read().await.unwrap();
    assert!(read
        .find_flag(project.id, "dropped")
        .await
        .unwrap()
        .is_none());
    let stream = read.changes_since(production, 0, 100).await.unwrap();
    assert_eq!(
        stream
            .iter()
            .map(|c| (c.sequence, c.key.as_str()))
            .collect::<Vec<_>>(),
        [(1, "kept")]
    );
    let entries = read.list_audit(&every_entry()).await.unwrap();
    assert_eq!(
        entries
            .iter()
            .map(|e| (e.sequence, e.flag_key.as_deref()))
            .collect::<Vec<_>>(),
        [(1, Some("kept"))]
    );
    assert!(read.verify_audit().await.unwrap().is_intact);
    shutdown.cancel();
}

pub async fn savepoint_rollback_undoes_rows_changes_and_audit_entries(store: Arc<dyn ConfigStore>) {
    let hub = ChangeHub::new();
    let shutdown = CancellationToken::new();
    store.start(hub.clone(), shutdown.clone()).await.unwrap();
    let mut changes = hub.subscribe();
    let (project, environments) = project(&*store, "p", &["production"]).await;
    let production = environments[0].id;

    let mut write = store.write().await.unwrap();
    write
        .record_change(production, ChangeKind::FlagUpsert, "a", 1, Vec::new())
        .await
        .unwrap();
    write
        .append_audit(&caller(), record("flag.update", "a"))
        .await
        .unwrap();
    write.savepoint().await.unwrap();
    write
        .insert_flag(project.id, "b", &FlagSpec::new("B").fields())
        .await
        .unwrap()
        .unwrap();
    write
        .record_change(production, ChangeKind::FlagUpsert, "b", 1, Vec::new())
        .await
        .unwrap();
    write
        .append_audit(&caller(), record("flag.create", "b"))
        .await
        .unwrap();
    write.rollback_to_savepoint().await.unwrap();
    assert!(
        write.find_flag(project.id, "b").await.unwrap().is_none(),
        "the session no longer sees what it rolled back"
    );
    write.savepoint().await.unwrap();
    write
        .insert_flag(project.id, "c", &FlagSpec::new("C").fields())
        .await
        .unwrap()
        .unwrap();
    write
        .record_change(production, ChangeKind::FlagUpsert, "c", 1, Vec::new())
        .await
        .unwrap();
    write
        .append_audit(&caller(), record("flag.create", "c"))
        .await
        .unwrap();
    write.release_savepoint().await.unwrap();
    write.commit().await.unwrap();
    store.flush().await;

    let mut read = store.read().await.unwrap();
    assert!(read.find_flag(project.id, "b").await.unwrap().is_none());
    assert!(read.find_flag(project.id, "c").await.unwrap().is_some());
    let stream = read.changes_since(production, 0, 100).await.unwrap();
    assert_eq!(
        stream
            .iter()
            .map(|c| (c.sequence, c.key.as_str()))
            .collect::<Vec<_>>(),
        [(1, "a"), (2, "c")],
        "gapless: the rolled-back change took no number"
    );
    let environment = read
        .find_environment_by_id(production)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(environment.sequence, 2);
    let entries = read.list_audit(&every_entry()).await.unwrap();
    assert_eq!(
        entries
            .iter()
            .map(|e| (e.sequence, e.flag_key.as_deref()))
            .collect::<Vec<_>>(),
        [(2, Some("c")), (1, Some("a"))]
    );
    let verification = read.verify_audit().await.unwrap();
    assert!(verification.is_intact, "{verification:?}");
    assert_eq!(verification.entries_checked, 2);
    for (sequence, key) in [(1, "a"), (2, "c")] {
        let change = next_change(&mut changes).await;
        assert_eq!((change.sequence, change.key.as_str()), (sequence, key));
    }
    shutdown.cancel();
}

pub async fn a_snapshot_does_not_see_later_commits(store: Arc<dyn ConfigStore>) {
    project(&*store, "p", &["production"]).await;
    let mut snapshot = store.read_snapshot().await.unwrap();
    // PostgreSQL takes a REPEATABLE READ snapshot at the first statement: read once.
    assert_eq!(snapshot.list_projects().await.unwrap().len(), 1);

    let (later, _) = project(&*store, "q", &["production"]).await;
    let keys = |projects: Vec<vexil_config_api::store::rows::Project>| {
        projects.into_iter().map(|p| p.key).collect::<Vec<_>>()
    };
    assert_eq!(keys(snapshot.list_projects().await.unwrap()), ["p"]);
    assert!(snapshot.find_project("q").await.unwrap().is_none());
    assert!(snapshot
        .list_environments(later.id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(snapshot.list_all_environments().await.unwrap().len(), 1);

    let mut read = store.read().await.unwrap();
    assert_eq!(keys(read.list_projects().await.unwrap()), ["p", "q"]);
    let mut fresh = store.read_snapshot().await.unwrap();
    assert_eq!(fresh.list_all_environments().await.unwrap().len(), 2);
}

pub async fn writes_see_their_own_uncommitted_rows(store: Arc<dyn ConfigStore>) {
    let mut write = store.write().await.unwrap();
    let (project, _) = crate::support::project_in(&mut *write, "p", &["production"]).await;
    assert_eq!(
        write.find_project("p").await.unwrap().map(|p| p.id),
        Some(project.id)
    );
    assert_eq!(write.list_environments(project.id).await.unwrap().len(), 1);
    let mut read = store.read().await.unwrap();
    assert!(
        read.find_project("p").await.unwrap().is_none(),
        "another session saw an uncommitted row"
    );
    write.commit().await.unwrap();
    assert!(read.find_project("p").await.unwrap().is_some());
}

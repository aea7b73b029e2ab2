//! Deleting a project or an environment deletes everything in it; an environment's
//! deletion closes its FlagSync stream with one last change.

use std::sync::Arc;

use serde_json::json;
use tokio_util::sync::CancellationToken;
use vexil_config_api::auth::Role;
use vexil_config_api::store::kinds::{ChangeKind, CredentialKind, ItemKind};
use vexil_config_api::store::params::{NewChange, NewRequest, NewToken};
use vexil_config_api::store::{now, ConfigStore};
use vexil_config_api::sync::ChangeHub;

use crate::support::{
    next_change, project, segment, segment_fields, targeting, FlagSpec, ACTOR_TOKEN_ID,
};

pub async fn deleting_an_environment_cascades_and_closes_its_stream(store: Arc<dyn ConfigStore>) {
    let hub = ChangeHub::new();
    let shutdown = CancellationToken::new();
    store.start(hub.clone(), shutdown.clone()).await.unwrap();
    let mut changes = hub.subscribe();
    let (project, environments) = project(&*store, "p", &["production", "staging"]).await;
    let (production, staging) = (environments[0].id, environments[1].id);
    let instructions = json!([]);

    let mut write = store.write().await.unwrap();
    let flag = write
        .insert_flag(project.id, "checkout", &FlagSpec::new("Checkout").fields())
        .await
        .unwrap()
        .unwrap();
    for environment in [production, staging] {
        write
            .upsert_flag_environment_config(flag.id, environment, 1, &targeting("checkout", 0))
            .await
            .unwrap();
    }
    write
        .insert_segment(
            production,
            &segment_fields("Beta", &[]),
            1,
            &segment("beta", &[]),
        )
        .await
        .unwrap()
        .unwrap();
    let (_, secret) = write
        .create_credential(production, CredentialKind::Server)
        .await
        .unwrap();
    write
        .put_tombstone(production, ItemKind::Flag, "gone", 4)
        .await
        .unwrap();
    write
        .insert_approval(&NewRequest {
            flag_id: flag.id,
            environment_id: production,
            instructions: &instructions,
            comment: "",
            requested_by_token_id: ACTOR_TOKEN_ID,
            requested_by_name: "admin",
        })
        .await
        .unwrap();
    write
        .insert_scheduled_change(&NewChange {
            flag_id: flag.id,
            environment_id: production,
            execute_at: now(),
            instructions: &instructions,
            comment: "",
            created_by_token_id: ACTOR_TOKEN_ID,
            created_by_name: "admin",
        })
        .await
        .unwrap();
    for version in [1, 2] {
        write
            .record_change(
                production,
                ChangeKind::FlagUpsert,
                "checkout",
                version,
                b"{}".to_vec(),
            )
            .await
            .unwrap();
    }
    write.commit().await.unwrap();
    // Numbered before the delete, as every route's flush does before it answers.
    store.flush().await;

    let mut write = store.write().await.unwrap();
    let closing = write.delete_environment(production).await.unwrap();
    assert_eq!(closing, 3, "the last sequence number plus one");
    write
        .record_environment_deleted(production, closing)
        .await
        .unwrap();
    write.commit().await.unwrap();
    // A change recorded for an environment that no longer exists is dropped: its stream
    // is closed.
    let mut write = store.write().await.unwrap();
    write
        .record_change(production, ChangeKind::FlagUpsert, "late", 3, Vec::new())
        .await
        .unwrap();
    write.commit().await.unwrap();
    store.flush().await;

    let mut read = store.read().await.unwrap();
    assert!(read
        .find_environment_by_id(production)
        .await
        .unwrap()
        .is_none());
    let configs = read.flag_environment_configs(flag.id).await.unwrap();
    assert_eq!(
        configs
            .iter()
            .map(|row| row.environment_id)
            .collect::<Vec<_>>(),
        [staging]
    );
    assert!(read.list_segments(production).await.unwrap().is_empty());
    assert!(read.list_credentials(production).await.unwrap().is_empty());
    assert!(read.resolve_credential(&secret).await.unwrap().is_none());
    assert!(read.list_approvals(flag.id, None).await.unwrap().is_empty());
    assert!(read
        .list_scheduled_changes(flag.id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(read.sdk_flags(staging).await.unwrap().len(), 1);
    let stream = read.changes_since(production, 0, 100).await.unwrap();
    let summary: Vec<(i64, &str, &str, i64)> = stream
        .iter()
        .map(|c| (c.sequence, c.kind.as_str(), c.key.as_str(), c.version))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "flag_upsert", "checkout", 1),
            (2, "flag_upsert", "checkout", 2),
            (3, "environment_deleted", "", 0)
        ]
    );
    assert!(stream[2].payload.is_empty());
    drop(read);
    let mut write = store.write().await.unwrap();
    assert_eq!(
        write
            .take_tombstone(production, ItemKind::Flag, "gone")
            .await
            .unwrap(),
        None
    );
    drop(write);

    // Watchers hear of both changes, then of the closing one, and of nothing after it.
    let mut heard = Vec::new();
    for _ in 1..=3 {
        let change = next_change(&mut changes).await;
        assert_eq!(change.environment_id, production);
        heard.push((change.sequence, change.kind));
    }
    assert_eq!(
        heard,
        [
            (1, "flag_upsert".to_owned()),
            (2, "flag_upsert".to_owned()),
            (3, "environment_deleted".to_owned())
        ]
    );
    assert!(changes.is_empty(), "the dropped late change was published");
    shutdown.cancel();
}

pub async fn deleting_a_project_cascades(store: Arc<dyn ConfigStore>) {
    let (doomed, environments) = project(&*store, "p", &["production"]).await;
    let production = environments[0].id;
    let (kept, kept_environments) = project(&*store, "q", &["production"]).await;
    let mut write = store.write().await.unwrap();
    let flag = write
        .insert_flag(doomed.id, "checkout", &FlagSpec::new("Checkout").fields())
        .await
        .unwrap()
        .unwrap();
    write
        .upsert_flag_environment_config(flag.id, production, 1, &targeting("checkout", 0))
        .await
        .unwrap();
    write
        .insert_flag(kept.id, "checkout", &FlagSpec::new("Checkout").fields())
        .await
        .unwrap()
        .unwrap();
    let (_, secret) = write
        .create_credential(production, CredentialKind::Mobile)
        .await
        .unwrap();
    let (_, kept_secret) = write
        .create_credential(kept_environments[0].id, CredentialKind::Mobile)
        .await
        .unwrap();
    let projects = vec!["p".to_owned()];
    write
        .create_token(&NewToken {
            name: "scoped to p",
            role: Role::Reader,
            project_keys: Some(&projects),
            environment_keys: None,
            can_bypass_approvals: false,
            created_by: ACTOR_TOKEN_ID,
        })
        .await
        .unwrap();
    write.commit().await.unwrap();

    let mut write = store.write().await.unwrap();
    write.delete_project(doomed.id).await.unwrap();
    write.commit().await.unwrap();

    let mut read = store.read().await.unwrap();
    assert!(read.find_project("p").await.unwrap().is_none());
    assert!(read
        .find_environment_by_id(production)
        .await
        .unwrap()
        .is_none());
    assert!(read
        .find_flag(doomed.id, "checkout")
        .await
        .unwrap()
        .is_none());
    assert!(read
        .flag_environment_configs(flag.id)
        .await
        .unwrap()
        .is_empty());
    assert!(read.resolve_credential(&secret).await.unwrap().is_none());
    assert_eq!(
        read.list_all_environments()
            .await
            .unwrap()
            .iter()
            .map(|environment| environment.id)
            .collect::<Vec<_>>(),
        [kept_environments[0].id]
    );
    assert!(read.find_flag(kept.id, "checkout").await.unwrap().is_some());
    assert!(read
        .resolve_credential(&kept_secret)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        read.list_tokens().await.unwrap().len(),
        1,
        "tokens are not in a project"
    );
}

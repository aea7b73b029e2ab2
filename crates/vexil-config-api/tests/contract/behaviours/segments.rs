//! Segments: one environment's, by key.

use std::sync::Arc;

use vexil_config_api::store::ConfigStore;

use crate::support::{project, segment, segment_fields};

pub async fn segments_insert_list_update_and_delete(store: Arc<dyn ConfigStore>) {
    let (_, environments) = project(&*store, "p", &["production", "staging"]).await;
    let (production, staging) = (&environments[0], &environments[1]);
    let tags = vec!["beta".to_owned()];
    let mut write = store.write().await.unwrap();
    let testers = write
        .insert_segment(
            production.id,
            &segment_fields("Testers", &tags),
            4,
            &segment("testers", &["u1"]),
        )
        .await
        .unwrap()
        .unwrap();
    let admins = write
        .insert_segment(
            production.id,
            &segment_fields("Admins", &[]),
            1,
            &segment("admins", &[]),
        )
        .await
        .unwrap()
        .unwrap();
    write
        .insert_segment(
            staging.id,
            &segment_fields("Elsewhere", &[]),
            1,
            &segment("elsewhere", &[]),
        )
        .await
        .unwrap()
        .unwrap();
    write.commit().await.unwrap();
    assert_eq!(
        (
            testers.key.as_str(),
            testers.version,
            testers.tags.as_slice()
        ),
        ("testers", 4, tags.as_slice())
    );
    assert_eq!(testers.data.0.included, ["u1"]);

    let mut read = store.read().await.unwrap();
    let listed: Vec<String> = read
        .list_segments(production.id)
        .await
        .unwrap()
        .into_iter()
        .map(|segment| segment.key)
        .collect();
    assert_eq!(listed, ["admins", "testers"]);
    let found = read
        .find_segment(production.id, "testers")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.id, found.created_at),
        (testers.id, testers.created_at)
    );
    assert_eq!(found.sdk_segment().version, 4);
    assert!(read
        .find_segment(staging.id, "testers")
        .await
        .unwrap()
        .is_none());
    drop(read);

    let mut write = store.write().await.unwrap();
    let locked = write
        .find_segment_for_update(production.id, "testers")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(locked.id, testers.id);
    let updated = write
        .update_segment(
            testers.id,
            &segment_fields("Testers v2", &[]),
            5,
            &segment("testers", &["u1", "u2"]),
        )
        .await
        .unwrap();
    assert_eq!((updated.name.as_str(), updated.version), ("Testers v2", 5));
    assert!(updated.tags.is_empty());
    write.delete_segment(admins.id).await.unwrap();
    write.commit().await.unwrap();

    let mut read = store.read().await.unwrap();
    let segments = read.list_segments(production.id).await.unwrap();
    assert_eq!(segments.len(), 1);
    assert_eq!(segments[0].data.0.included, ["u1", "u2"]);
    assert_eq!(segments[0].version, 5);
    assert_eq!(read.list_segments(staging.id).await.unwrap().len(), 1);
}

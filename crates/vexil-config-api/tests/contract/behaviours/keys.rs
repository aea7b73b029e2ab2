//! Projects and environments: unique keys, and rows that read back as written.

use std::sync::Arc;

use vexil_config_api::store::ConfigStore;

use crate::support::{after, project, segment, segment_fields, FlagSpec};

pub async fn duplicate_keys_are_refused_with_none(store: Arc<dyn ConfigStore>) {
    let (project, environments) = project(&*store, "p", &["production"]).await;
    let environment = &environments[0];
    let spec = FlagSpec::new("Checkout");
    let mut write = store.write().await.unwrap();
    let flag = write
        .insert_flag(project.id, "checkout", &spec.fields())
        .await
        .unwrap()
        .expect("a new flag key is accepted");
    let segment_row = write
        .insert_segment(
            environment.id,
            &segment_fields("Beta", &[]),
            1,
            &segment("beta", &["u1"]),
        )
        .await
        .unwrap()
        .expect("a new segment key is accepted");

    assert!(write
        .insert_project("p", "Another", "", &[])
        .await
        .unwrap()
        .is_none());
    assert!(write
        .insert_environment(project.id, "production", "Again", true)
        .await
        .unwrap()
        .is_none());
    assert!(write
        .insert_flag(project.id, "checkout", &FlagSpec::new("Other").fields())
        .await
        .unwrap()
        .is_none());
    assert!(write
        .insert_segment(
            environment.id,
            &segment_fields("Other", &[]),
            7,
            &segment("beta", &[])
        )
        .await
        .unwrap()
        .is_none());
    // The same keys are free in another project or environment, and the session is still
    // usable after the refusals.
    let (other, other_environments) =
        crate::support::project_in(&mut *write, "q", &["production"]).await;
    assert!(write
        .insert_flag(other.id, "checkout", &spec.fields())
        .await
        .unwrap()
        .is_some());
    assert!(write
        .insert_segment(
            other_environments[0].id,
            &segment_fields("Beta", &[]),
            1,
            &segment("beta", &[])
        )
        .await
        .unwrap()
        .is_some());
    write.commit().await.unwrap();

    let mut read = store.read().await.unwrap();
    let kept = read.find_project("p").await.unwrap().unwrap();
    assert_eq!(kept.name, "Project p", "the refused insert changed nothing");
    let kept = read
        .find_environment(project.id, "production")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (kept.name.as_str(), kept.is_critical),
        ("production", false)
    );
    let kept = read
        .find_flag(project.id, "checkout")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((kept.id, kept.name.as_str()), (flag.id, "Checkout"));
    let kept = read
        .find_segment(environment.id, "beta")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((kept.id, kept.version), (segment_row.id, 1));
}

pub async fn projects_and_environments_read_back_as_written(store: Arc<dyn ConfigStore>) {
    let tags = vec!["team-a".to_owned(), "with \"quotes\"".to_owned()];
    let mut write = store.write().await.unwrap();
    let zeta = write
        .insert_project("zeta", "Zeta", "the last", &tags)
        .await
        .unwrap()
        .unwrap();
    let alpha = write
        .insert_project("alpha", "Alpha", "", &[])
        .await
        .unwrap()
        .unwrap();
    // Environments list in creation order, not key order.
    let production = write
        .insert_environment(zeta.id, "production", "Production", true)
        .await
        .unwrap()
        .unwrap();
    after(production.created_at).await;
    let development = write
        .insert_environment(zeta.id, "development", "Development", false)
        .await
        .unwrap()
        .unwrap();
    write.commit().await.unwrap();

    assert_eq!(zeta.tags, tags);
    assert_eq!(zeta.created_at, zeta.updated_at);
    assert_eq!(
        zeta.created_at.nanosecond() % 1_000,
        0,
        "microsecond precision"
    );
    assert_eq!((production.sequence, production.is_critical), (0, true));

    let mut read = store.read().await.unwrap();
    let keys: Vec<String> = read
        .list_projects()
        .await
        .unwrap()
        .into_iter()
        .map(|project| project.key)
        .collect();
    assert_eq!(keys, ["alpha", "zeta"]);
    let found = read.find_project("zeta").await.unwrap().unwrap();
    assert_eq!(
        (found.id, &found.name, &found.description, &found.tags),
        (zeta.id, &zeta.name, &zeta.description, &zeta.tags)
    );
    assert_eq!(
        (found.created_at, found.updated_at),
        (zeta.created_at, zeta.updated_at),
        "times read back exactly as written"
    );
    let by_id = read.find_project_by_id(alpha.id).await.unwrap().unwrap();
    assert_eq!(by_id.key, "alpha");
    assert!(read.find_project("nope").await.unwrap().is_none());

    let listed: Vec<String> = read
        .list_environments(zeta.id)
        .await
        .unwrap()
        .into_iter()
        .map(|environment| environment.key)
        .collect();
    assert_eq!(listed, ["production", "development"]);
    assert!(read.list_environments(alpha.id).await.unwrap().is_empty());
    let all: Vec<_> = read
        .list_all_environments()
        .await
        .unwrap()
        .into_iter()
        .map(|environment| environment.id)
        .collect();
    let mut by_id_order = vec![production.id, development.id];
    by_id_order.sort();
    assert_eq!(all, by_id_order);
    let found = read
        .find_environment_by_id(development.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.project_id, found.created_at, found.is_critical),
        (zeta.id, development.created_at, false)
    );
    assert!(read
        .find_environment(alpha.id, "production")
        .await
        .unwrap()
        .is_none());
    drop(read);

    let mut write = store.write().await.unwrap();
    after(zeta.updated_at).await;
    let renamed = write
        .update_project(zeta.id, "Zeta 2", "changed", &[])
        .await
        .unwrap();
    let environment = write
        .update_environment(development.id, "Dev", true)
        .await
        .unwrap();
    write.commit().await.unwrap();
    assert_eq!((renamed.name.as_str(), renamed.tags.len()), ("Zeta 2", 0));
    assert_eq!(renamed.created_at, zeta.created_at);
    assert!(renamed.updated_at > zeta.updated_at);
    assert_eq!(
        (environment.name.as_str(), environment.is_critical),
        ("Dev", true)
    );
    let mut read = store.read().await.unwrap();
    let found = read.find_project("zeta").await.unwrap().unwrap();
    assert_eq!(
        (found.description.as_str(), found.updated_at),
        ("changed", renamed.updated_at)
    );
}

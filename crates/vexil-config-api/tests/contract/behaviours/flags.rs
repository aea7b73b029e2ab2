//! Flags: project-level rows, targeting per environment, the SDK view, the filtered list
//! and tombstones.

use std::sync::Arc;

use serde_json::json;
use vexil_config_api::store::kinds::ItemKind;
use vexil_config_api::store::params::FlagFilter;
use vexil_config_api::store::rows::Variation;
use vexil_config_api::store::{now, ConfigStore};

use crate::support::{after, project, targeting, FlagSpec};

pub async fn flag_environment_upsert_and_sdk_flags_order(store: Arc<dyn ConfigStore>) {
    let (project, environments) = project(&*store, "p", &["production", "staging"]).await;
    let (production, staging) = (&environments[0], &environments[1]);
    let mut write = store.write().await.unwrap();
    let mut flags = Vec::new();
    for key in ["bravo", "alpha", "charlie", "delta"] {
        let flag = write
            .insert_flag(project.id, key, &FlagSpec::new(key).fields())
            .await
            .unwrap()
            .unwrap();
        flags.push(flag);
    }
    let (bravo, alpha, charlie, delta) = (&flags[0], &flags[1], &flags[2], &flags[3]);
    for flag in [alpha, bravo, charlie] {
        write
            .upsert_flag_environment_config(flag.id, production.id, 1, &targeting(&flag.key, 0))
            .await
            .unwrap();
    }
    write
        .upsert_flag_environment_config(alpha.id, staging.id, 2, &targeting("alpha", 0))
        .await
        .unwrap();
    // A second upsert of the same pair replaces version and targeting.
    write
        .upsert_flag_environment_config(alpha.id, production.id, 3, &targeting("alpha", 1))
        .await
        .unwrap();
    write.set_flag_archived(charlie.id, true).await.unwrap();
    let locked = write
        .flag_environment_configs_for_update(alpha.id)
        .await
        .unwrap();
    let mut by_id = vec![production.id, staging.id];
    by_id.sort();
    assert_eq!(
        locked
            .iter()
            .map(|row| row.environment_id)
            .collect::<Vec<_>>(),
        by_id,
        "locked in environment id order"
    );
    let one = write
        .flag_environment_config_for_update(alpha.id, production.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.version, 3);
    write.commit().await.unwrap();

    let mut read = store.read().await.unwrap();
    let sdk = read.sdk_flags(production.id).await.unwrap();
    let keys: Vec<&str> = sdk.iter().map(|flag| flag.key.as_str()).collect();
    assert_eq!(
        keys,
        ["alpha", "bravo"],
        "by key, archived and unconfigured flags left out"
    );
    assert_eq!(sdk[0].version, 3);
    assert_eq!(sdk[0].fallthrough.variation, Some(1));
    assert_eq!(sdk[0].variations, [json!(true), json!(false)]);
    let availability = sdk[0].client_side_availability.unwrap();
    assert!(availability.using_mobile_key && !availability.using_environment_id);
    let staging_sdk = read.sdk_flags(staging.id).await.unwrap();
    assert_eq!(
        staging_sdk
            .iter()
            .map(|flag| (flag.key.as_str(), flag.version))
            .collect::<Vec<_>>(),
        [("alpha", 2)]
    );

    let configs = read.flag_environment_configs(alpha.id).await.unwrap();
    assert_eq!(
        configs
            .iter()
            .map(|row| (row.environment_key.as_str(), row.version))
            .collect::<Vec<_>>(),
        [("production", 3), ("staging", 2)]
    );
    assert_eq!(configs[0].config.0.fallthrough.variation, Some(1));
    let config = read
        .flag_environment_config(bravo.id, production.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((config.environment_id, config.version), (production.id, 1));
    assert!(read
        .flag_environment_config(delta.id, production.id)
        .await
        .unwrap()
        .is_none());
    assert!(read
        .flag_environment_config(bravo.id, staging.id)
        .await
        .unwrap()
        .is_none());
}

pub async fn flags_update_archive_and_delete(store: Arc<dyn ConfigStore>) {
    let (project, environments) = project(&*store, "p", &["production"]).await;
    let mut write = store.write().await.unwrap();
    let checkout = write
        .insert_flag(project.id, "checkout", &FlagSpec::new("Checkout").fields())
        .await
        .unwrap()
        .unwrap();
    let banner = write
        .insert_flag(
            project.id,
            "banner",
            &FlagSpec::new("Banner").permanent().fields(),
        )
        .await
        .unwrap()
        .unwrap();
    write
        .upsert_flag_environment_config(
            checkout.id,
            environments[0].id,
            1,
            &targeting("checkout", 0),
        )
        .await
        .unwrap();
    write.commit().await.unwrap();
    assert!(checkout.is_temporary && !checkout.is_archived);
    assert_eq!(
        checkout.maintainer.as_deref(),
        Some("maintainer@example.com")
    );

    let cutoff = now();
    after(cutoff).await;
    let mut write = store.write().await.unwrap();
    let late = write
        .insert_flag(project.id, "late", &FlagSpec::new("Late").fields())
        .await
        .unwrap()
        .unwrap();
    let mut spec = FlagSpec::new("Checkout v2")
        .described("new")
        .tagged(&["web"])
        .permanent();
    spec.variations.push(Variation {
        value: json!(null),
        name: None,
        description: Some("nothing".to_owned()),
    });
    let mut fields = spec.fields();
    fields.kind = "multivariate";
    fields.maintainer = None;
    fields.using_environment_id = true;
    let updated = write.update_flag(checkout.id, &fields).await.unwrap();
    assert_eq!(
        (
            updated.name.as_str(),
            updated.kind.as_str(),
            updated.maintainer.as_deref()
        ),
        ("Checkout v2", "multivariate", None)
    );
    assert_eq!(updated.variations.0, spec.variations);
    assert_eq!(updated.tags, ["web"]);
    assert!(!updated.is_temporary && updated.using_environment_id);
    assert_eq!(updated.created_at, checkout.created_at);
    write.set_flag_archived(late.id, true).await.unwrap();
    write.commit().await.unwrap();

    let mut read = store.read().await.unwrap();
    let found = read
        .find_flag(project.id, "checkout")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.variations.0, spec.variations);
    assert_eq!(found.updated_at, updated.updated_at);
    let all: Vec<(String, bool)> = read
        .list_project_flags(project.id)
        .await
        .unwrap()
        .into_iter()
        .map(|flag| (flag.key, flag.is_archived))
        .collect();
    assert_eq!(
        all,
        [
            ("banner".to_owned(), false),
            ("checkout".to_owned(), false),
            ("late".to_owned(), true)
        ]
    );
    drop(read);

    // Temporary, unarchived and created before the cutoff: checkout is no longer
    // temporary, banner never was, late is archived and too recent.
    let mut write = store.write().await.unwrap();
    let temporary = write
        .insert_flag(project.id, "old-temporary", &FlagSpec::new("Old").fields())
        .await
        .unwrap()
        .unwrap();
    write.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    let stale = read
        .temporary_flags_created_before(project.id, now())
        .await
        .unwrap();
    assert_eq!(
        stale
            .iter()
            .map(|flag| (flag.key.as_str(), flag.created_at))
            .collect::<Vec<_>>(),
        [("old-temporary", temporary.created_at)]
    );
    assert!(read
        .temporary_flags_created_before(project.id, cutoff)
        .await
        .unwrap()
        .is_empty());
    drop(read);

    let mut write = store.write().await.unwrap();
    write.delete_flag(checkout.id).await.unwrap();
    write.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert!(read
        .find_flag(project.id, "checkout")
        .await
        .unwrap()
        .is_none());
    assert!(read
        .flag_environment_configs(checkout.id)
        .await
        .unwrap()
        .is_empty());
    assert!(read
        .find_flag(project.id, "banner")
        .await
        .unwrap()
        .is_some());
    assert_eq!(banner.key, "banner");
}

pub async fn list_flags_filters_pages_and_counts(store: Arc<dyn ConfigStore>) {
    let (other, _) = project(&*store, "other", &[]).await;
    let (project, _) = project(&*store, "p", &[]).await;
    let mut write = store.write().await.unwrap();
    let flags = [
        ("alpha", FlagSpec::new("Alpha Flag").tagged(&["web"])),
        (
            "beta_1",
            FlagSpec::new("Beta one")
                .described("50% rollout")
                .tagged(&["web", "mobile"]),
        ),
        (
            "betax1",
            FlagSpec::new("Beta x")
                .described("500 users")
                .tagged(&["mobile"]),
        ),
        (
            "gamma",
            FlagSpec::new("Gamma")
                .described(r"C:\temp")
                .tagged(&["web"]),
        ),
        ("delta", FlagSpec::new("Delta").tagged(&["we"])),
    ];
    for (key, spec) in &flags {
        let flag = write
            .insert_flag(project.id, key, &spec.fields())
            .await
            .unwrap()
            .unwrap();
        if *key == "gamma" {
            write.set_flag_archived(flag.id, true).await.unwrap();
        }
    }
    write
        .insert_flag(
            other.id,
            "alpha-elsewhere",
            &FlagSpec::new("Alpha").tagged(&["web"]).fields(),
        )
        .await
        .unwrap()
        .unwrap();
    write.commit().await.unwrap();

    let mut read = store.read().await.unwrap();
    let mut list = async |filter: FlagFilter| {
        let filter = FlagFilter {
            limit: if filter.limit == 0 { 100 } else { filter.limit },
            ..filter
        };
        let (rows, total) = read.list_flags(project.id, &filter).await.unwrap();
        let keys: Vec<String> = rows.into_iter().map(|flag| flag.key).collect();
        (keys, total)
    };
    let text = |text: &str| FlagFilter {
        text: Some(text.to_owned()),
        ..FlagFilter::default()
    };

    assert_eq!(
        list(FlagFilter::default()).await,
        (keys(&["alpha", "beta_1", "betax1", "delta", "gamma"]), 5)
    );
    let tag = |tag: &str| FlagFilter {
        tag: Some(tag.to_owned()),
        ..FlagFilter::default()
    };
    assert_eq!(
        list(tag("web")).await,
        (keys(&["alpha", "beta_1", "gamma"]), 3)
    );
    assert_eq!(
        list(tag("we")).await,
        (keys(&["delta"]), 1),
        "whole tags only"
    );
    assert_eq!(
        list(text("ALPHA")).await,
        (keys(&["alpha"]), 1),
        "case-insensitive"
    );
    assert_eq!(
        list(text("one")).await,
        (keys(&["beta_1"]), 1),
        "in the name"
    );
    assert_eq!(
        list(text("rollout")).await,
        (keys(&["beta_1"]), 1),
        "in the description"
    );
    assert_eq!(
        list(text("50%")).await,
        (keys(&["beta_1"]), 1),
        "% is literal"
    );
    assert_eq!(
        list(text("a_1")).await,
        (keys(&["beta_1"]), 1),
        "_ is literal"
    );
    assert_eq!(
        list(text(r":\t")).await,
        (keys(&["gamma"]), 1),
        r"\ is literal"
    );
    assert_eq!(list(text("nothing like it")).await, (keys(&[]), 0));
    let archived = |is_archived: bool| FlagFilter {
        is_archived: Some(is_archived),
        ..FlagFilter::default()
    };
    assert_eq!(list(archived(true)).await, (keys(&["gamma"]), 1));
    assert_eq!(
        list(archived(false)).await,
        (keys(&["alpha", "beta_1", "betax1", "delta"]), 4)
    );
    assert_eq!(
        list(FlagFilter {
            tag: Some("web".to_owned()),
            is_archived: Some(false),
            ..FlagFilter::default()
        })
        .await,
        (keys(&["alpha", "beta_1"]), 2)
    );
    let page = |limit: i64, offset: i64| FlagFilter {
        limit,
        offset,
        ..FlagFilter::default()
    };
    assert_eq!(list(page(2, 1)).await, (keys(&["beta_1", "betax1"]), 5));
    assert_eq!(list(page(2, 4)).await, (keys(&["gamma"]), 5));
    assert_eq!(list(page(2, 9)).await, (keys(&[]), 5));
}

fn keys(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|key| (*key).to_owned()).collect()
}

pub async fn tombstones_are_taken_once_per_kind(store: Arc<dyn ConfigStore>) {
    let (_, environments) = project(&*store, "p", &["production", "staging"]).await;
    let (production, staging) = (environments[0].id, environments[1].id);
    let mut write = store.write().await.unwrap();
    assert_eq!(
        write
            .take_tombstone(production, ItemKind::Flag, "checkout")
            .await
            .unwrap(),
        None
    );
    write
        .put_tombstone(production, ItemKind::Flag, "checkout", 3)
        .await
        .unwrap();
    write
        .put_tombstone(production, ItemKind::Flag, "checkout", 5)
        .await
        .unwrap();
    write
        .put_tombstone(production, ItemKind::Segment, "checkout", 9)
        .await
        .unwrap();
    write
        .put_tombstone(staging, ItemKind::Flag, "checkout", 2)
        .await
        .unwrap();
    write.commit().await.unwrap();

    let mut write = store.write().await.unwrap();
    assert_eq!(
        write
            .take_tombstone(production, ItemKind::Flag, "checkout")
            .await
            .unwrap(),
        Some(5),
        "a second put overwrites"
    );
    assert_eq!(
        write
            .take_tombstone(production, ItemKind::Flag, "checkout")
            .await
            .unwrap(),
        None,
        "taken once"
    );
    assert_eq!(
        write
            .take_tombstone(production, ItemKind::Segment, "checkout")
            .await
            .unwrap(),
        Some(9)
    );
    write.commit().await.unwrap();
    let mut write = store.write().await.unwrap();
    assert_eq!(
        write
            .take_tombstone(staging, ItemKind::Flag, "checkout")
            .await
            .unwrap(),
        Some(2)
    );
    assert_eq!(
        write
            .take_tombstone(production, ItemKind::Segment, "checkout")
            .await
            .unwrap(),
        None,
        "the take was committed"
    );
}

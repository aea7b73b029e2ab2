//! What every `PersistentCopy` must do, as generic async functions: written through the
//! trait, read back through `load_all` exactly as the gateway reads it at startup.

use serde_json::json;
use vexil_stream_gateway::persistence::{
    load_all, EnvironmentRecord, GatewayMeta, PersistentCopy, StoredEnvironment, StoredItem,
    META_FORMAT,
};
use vexil_stream_gateway::store::{
    hash_credential, Credential, CredentialKind, EnvironmentId, ItemKind,
};

pub async fn nothing_stored_loads_as_none(copy: &impl PersistentCopy) {
    assert!(
        load(copy).await.is_none(),
        "a fresh copy must not count as loaded"
    );
}

pub async fn replace_round_trips_items_tombstones_and_metadata(copy: &impl PersistentCopy) {
    let environment_id = EnvironmentId::new("env-round-trip");
    let record = EnvironmentRecord {
        environment_id: environment_id.clone(),
        meta: meta(42, "production"),
        items: vec![
            flag("checkout", 3),
            flag("search", 1),
            tombstone(ItemKind::Flag, "gone", 7),
            segment("beta", 2),
            tombstone(ItemKind::Segment, "alpha", 4),
        ],
    };
    copy.replace(&record).await.unwrap();

    let loaded = only(load(copy).await.expect("one environment stored"));
    assert_eq!(loaded.environment_id, environment_id);
    assert_eq!(loaded.sequence, 42);
    assert_eq!(loaded.contents.project_key, "shop");
    assert_eq!(loaded.contents.environment_key, "production");
    assert_eq!(
        loaded.contents.credentials,
        meta(42, "production").credentials
    );
    assert_eq!(
        View::of(&loaded),
        View {
            flags: vec![
                item_view(&flag("checkout", 3)),
                item_view(&flag("search", 1))
            ],
            segments: vec![item_view(&segment("beta", 2))],
            deleted: vec![("flag", "gone".into(), 7), ("segment", "alpha".into(), 4)],
        }
    );
}

pub async fn update_overwrites_its_items_and_metadata_only(copy: &impl PersistentCopy) {
    let environment_id = EnvironmentId::new("env-update");
    copy.replace(&EnvironmentRecord {
        environment_id: environment_id.clone(),
        meta: meta(5, "production"),
        items: vec![flag("checkout", 1), flag("search", 1), flag("legacy", 1)],
    })
    .await
    .unwrap();
    let mut later = meta(7, "production");
    later.credentials.pop();
    copy.update(
        &environment_id,
        &[
            flag("checkout", 2),
            tombstone(ItemKind::Flag, "legacy", 2),
            segment("beta", 1),
        ],
        &later,
    )
    .await
    .unwrap();

    let loaded = only(load(copy).await.unwrap());
    assert_eq!(loaded.sequence, 7);
    assert_eq!(loaded.contents.credentials, later.credentials);
    assert_eq!(
        View::of(&loaded),
        View {
            flags: vec![
                item_view(&flag("checkout", 2)),
                item_view(&flag("search", 1))
            ],
            segments: vec![item_view(&segment("beta", 1))],
            deleted: vec![("flag", "legacy".into(), 2)],
        }
    );
}

pub async fn replace_drops_items_missing_from_the_new_data(copy: &impl PersistentCopy) {
    let environment_id = EnvironmentId::new("env-replace");
    copy.replace(&EnvironmentRecord {
        environment_id: environment_id.clone(),
        meta: meta(1, "production"),
        items: vec![flag("checkout", 1), flag("search", 1), segment("beta", 1)],
    })
    .await
    .unwrap();
    copy.replace(&EnvironmentRecord {
        environment_id,
        meta: meta(9, "production"),
        items: vec![flag("checkout", 3)],
    })
    .await
    .unwrap();

    let loaded = only(load(copy).await.unwrap());
    assert_eq!(loaded.sequence, 9);
    assert_eq!(
        View::of(&loaded),
        View {
            flags: vec![item_view(&flag("checkout", 3))],
            ..View::default()
        }
    );
}

pub async fn environments_are_kept_apart(copy: &impl PersistentCopy) {
    let production = EnvironmentId::new("env-production");
    let test = EnvironmentId::new("env-test");
    copy.replace(&EnvironmentRecord {
        environment_id: production.clone(),
        meta: meta(3, "production"),
        items: vec![flag("checkout", 3)],
    })
    .await
    .unwrap();
    copy.replace(&EnvironmentRecord {
        environment_id: test.clone(),
        meta: meta(8, "test"),
        items: vec![flag("checkout", 8), segment("beta", 1)],
    })
    .await
    .unwrap();
    copy.update(&test, &[flag("search", 1)], &meta(9, "test"))
        .await
        .unwrap();

    let mut loaded = load(copy).await.unwrap();
    loaded.sort_by(|left, right| left.environment_id.cmp(&right.environment_id));
    let summary: Vec<(&str, u64, &str, View)> = loaded
        .iter()
        .map(|stored| {
            (
                stored.environment_id.as_str(),
                stored.sequence,
                stored.contents.environment_key.as_str(),
                View::of(stored),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "env-production",
                3,
                "production",
                View {
                    flags: vec![item_view(&flag("checkout", 3))],
                    ..View::default()
                }
            ),
            (
                "env-test",
                9,
                "test",
                View {
                    flags: vec![
                        item_view(&flag("checkout", 8)),
                        item_view(&flag("search", 1))
                    ],
                    segments: vec![item_view(&segment("beta", 1))],
                    ..View::default()
                }
            ),
        ]
    );
}

pub async fn removing_an_environment_forgets_only_it(copy: &impl PersistentCopy) {
    let production = EnvironmentId::new("env-production");
    let test = EnvironmentId::new("env-test");
    for (environment_id, key) in [(&production, "production"), (&test, "test")] {
        copy.replace(&EnvironmentRecord {
            environment_id: environment_id.clone(),
            meta: meta(2, key),
            items: vec![flag("checkout", 2), tombstone(ItemKind::Segment, "beta", 2)],
        })
        .await
        .unwrap();
    }

    copy.remove(&production).await.unwrap();
    let remaining = only(load(copy).await.unwrap());
    assert_eq!(remaining.environment_id, test);
    assert_eq!(View::of(&remaining).flags.len(), 1);

    copy.remove(&test).await.unwrap();
    assert!(
        load(copy).await.is_none(),
        "with every environment removed nothing is stored"
    );
    // Removing what is not stored is not an error (a deletion mark may be written twice).
    copy.remove(&test).await.unwrap();
}

/// `load_all` through the trait object, as startup calls it.
async fn load(copy: &impl PersistentCopy) -> Option<Vec<StoredEnvironment>> {
    let copy: &dyn PersistentCopy = copy;
    load_all(copy).await.unwrap()
}

fn only(mut environments: Vec<StoredEnvironment>) -> StoredEnvironment {
    assert_eq!(environments.len(), 1, "exactly one environment stored");
    environments.pop().unwrap()
}

fn meta(sequence: u64, environment_key: &str) -> GatewayMeta {
    GatewayMeta {
        format: META_FORMAT,
        sequence,
        project_key: "shop".into(),
        environment_key: environment_key.into(),
        credentials: vec![
            Credential {
                id: format!("{environment_key}-sdk"),
                kind: CredentialKind::ServerSdkKey,
                sha256: hash_credential(&format!("sdk-{environment_key}")),
                expires_at_unix_ms: None,
            },
            Credential {
                id: format!("{environment_key}-mobile"),
                kind: CredentialKind::MobileKey,
                sha256: hash_credential(&format!("mob-{environment_key}")),
                expires_at_unix_ms: Some(1_900_000_000_000),
            },
        ],
    }
}

fn flag(key: &str, version: u64) -> StoredItem {
    let json = json!({"key": key, "version": version, "on": version % 2 == 1, "variations": [true, false]});
    StoredItem::new(ItemKind::Flag, key, json.to_string())
}

fn segment(key: &str, version: u64) -> StoredItem {
    let json = json!({"key": key, "version": version, "included": ["alice"]});
    StoredItem::new(ItemKind::Segment, key, json.to_string())
}

fn tombstone(kind: ItemKind, key: &str, version: u64) -> StoredItem {
    let json = json!({"key": key, "version": version, "deleted": true});
    StoredItem::new(kind, key, json.to_string())
}

/// A loaded environment's items in a comparable, ordered form.
#[derive(Debug, Default, PartialEq, Eq)]
struct View {
    /// `(key, version, JSON)` of live flags, by key.
    flags: Vec<(String, u64, String)>,
    segments: Vec<(String, u64, String)>,
    /// `(kind, key, version)` of tombstones.
    deleted: Vec<(&'static str, String, u64)>,
}

impl View {
    fn of(stored: &StoredEnvironment) -> View {
        let items = |items: &[vexil_stream_gateway::store::RawItem]| {
            let mut view: Vec<(String, u64, String)> = items
                .iter()
                .map(|item| {
                    (
                        item.key.clone(),
                        item.version,
                        String::from_utf8(item.json.to_vec()).unwrap(),
                    )
                })
                .collect();
            view.sort();
            view
        };
        let mut deleted: Vec<(&'static str, String, u64)> = stored
            .contents
            .deleted
            .iter()
            .map(|(kind, key, version)| (kind_name(*kind), key.clone(), *version))
            .collect();
        deleted.sort();
        View {
            flags: items(&stored.contents.flags),
            segments: items(&stored.contents.segments),
            deleted,
        }
    }
}

/// The `(key, version, JSON)` a stored live item loads as.
fn item_view(item: &StoredItem) -> (String, u64, String) {
    let json: serde_json::Value = serde_json::from_slice(&item.json).unwrap();
    (
        item.key.clone(),
        json["version"].as_u64().unwrap(),
        String::from_utf8(item.json.to_vec()).unwrap(),
    )
}

fn kind_name(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Flag => "flag",
        ItemKind::Segment => "segment",
    }
}

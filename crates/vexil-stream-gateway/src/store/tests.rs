//! Store behaviour: applying changes, credentials, notices and restore ordering.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use vexil_eval::Store as _;

use super::*;

fn environment() -> EnvironmentId {
    EnvironmentId::new("11111111-1111-1111-1111-111111111111")
}

fn flag(key: &str, version: u64) -> RawItem {
    RawItem {
        key: key.into(),
        version,
        json: Bytes::from(format!(
            r#"{{"key":"{key}","version":{version},"on":true,"variations":[true,false],"fallthrough":{{"variation":0}},"offVariation":1,"salt":"s"}}"#
        )),
    }
}

fn server_key(secret: &str, expires_at_unix_ms: Option<i64>) -> Credential {
    Credential {
        id: format!("id-{secret}"),
        kind: CredentialKind::ServerSdkKey,
        sha256: hash_credential(secret),
        expires_at_unix_ms,
    }
}

fn loaded_store() -> Store {
    let store = Store::new(4);
    let contents = EnvironmentContents {
        project_key: "shop".into(),
        environment_key: "test".into(),
        flags: vec![flag("a", 1)],
        credentials: vec![server_key("sdk-a", None)],
        ..EnvironmentContents::default()
    };
    store
        .apply(&environment(), 5, Change::Replace(contents))
        .unwrap();
    store.mark_loaded();
    store
}

#[test]
fn credentials_are_checked_by_hash_kind_and_expiry() {
    let store = Store::new(4);
    let now = SystemTime::now();
    assert_eq!(
        store
            .authenticate("sdk-a", CredentialKind::ServerSdkKey, now)
            .unwrap_err(),
        AuthError::NotLoaded
    );
    let store = loaded_store();
    let authenticated = store
        .authenticate("sdk-a", CredentialKind::ServerSdkKey, now)
        .unwrap();
    assert_eq!(authenticated.environment_id, environment());
    assert_eq!(
        store
            .authenticate("sdk-a", CredentialKind::MobileKey, now)
            .unwrap_err(),
        AuthError::Unknown
    );
    assert_eq!(
        store
            .authenticate("sdk-b", CredentialKind::ServerSdkKey, now)
            .unwrap_err(),
        AuthError::Unknown
    );

    let soon = unix_millis(now) + 60_000;
    store
        .apply(
            &environment(),
            6,
            Change::Credential {
                credential: server_key("sdk-a", Some(soon)),
                is_revoked: false,
            },
        )
        .unwrap();
    let rotated = store
        .authenticate("sdk-a", CredentialKind::ServerSdkKey, now)
        .unwrap();
    assert!(rotated.expires_at.is_some());
    let later = now + Duration::from_secs(61);
    assert_eq!(
        store
            .authenticate("sdk-a", CredentialKind::ServerSdkKey, later)
            .unwrap_err(),
        AuthError::Unknown
    );

    store
        .apply(
            &environment(),
            7,
            Change::Credential {
                credential: server_key("sdk-a", None),
                is_revoked: true,
            },
        )
        .unwrap();
    assert_eq!(
        store
            .authenticate("sdk-a", CredentialKind::ServerSdkKey, now)
            .unwrap_err(),
        AuthError::Unknown
    );
    assert!(store.recheck(&authenticated, now).is_none());
}

#[test]
fn changes_update_payload_and_notify_streams() {
    let store = loaded_store();
    let (data, mut events) = store.subscribe(&environment()).unwrap();
    assert_eq!(data.sequence(), 5);
    let first_etag = data.payload().etag().to_owned();

    store
        .apply(
            &environment(),
            6,
            Change::Upsert {
                kind: ItemKind::Flag,
                item: flag("b", 3),
            },
        )
        .unwrap();
    let event = events.try_recv().unwrap();
    assert_eq!(event.sequence, 6);
    assert_eq!(
        event.changed,
        Some(ChangedItem {
            kind: ItemKind::Flag,
            key: "b".into()
        })
    );
    let Notice::Frame(frame) = event.notice else {
        panic!("expected a frame, got {:?}", event.notice)
    };
    assert!(frame.starts_with(b"event: patch\ndata: {\"path\":\"/flags/b\""));

    store
        .apply(
            &environment(),
            7,
            Change::Delete {
                kind: ItemKind::Flag,
                key: "a".into(),
                version: 2,
            },
        )
        .unwrap();
    let Notice::Frame(frame) = events.try_recv().unwrap().notice else {
        panic!("expected a frame")
    };
    assert_eq!(
        frame.as_ref(),
        b"event: delete\ndata: {\"path\":\"/flags/a\",\"version\":2}\n\n"
    );

    let data = store.environment(&environment()).unwrap();
    assert!(data.flag("a").is_none());
    assert!(data.flag("b").is_some());
    assert_ne!(data.payload().etag(), first_etag);
    let tombstones: Vec<_> = data.tombstones().collect();
    assert_eq!(tombstones, vec![(ItemKind::Flag, "a", 2)]);
    assert_eq!(
        String::from_utf8(data.stored_json(ItemKind::Flag, "a").unwrap()).unwrap(),
        r#"{"deleted":true,"key":"a","version":2}"#
    );
    assert!(!data.payload().body().windows(5).any(|w| w == b"\"a\":{"));
}

#[test]
fn a_delta_for_an_unknown_environment_is_refused() {
    let store = Store::new(4);
    let error = store
        .apply(
            &environment(),
            1,
            Change::Upsert {
                kind: ItemKind::Segment,
                item: flag("s", 1),
            },
        )
        .unwrap_err();
    assert!(error.to_string().contains("has no snapshot"));
}

#[test]
fn restore_never_goes_back_in_sequence() {
    let store = loaded_store();
    assert!(!store.restore(&environment(), 5, EnvironmentContents::default()));
    assert!(store
        .environment(&environment())
        .unwrap()
        .flag("a")
        .is_some());
    assert!(store.restore(&environment(), 9, EnvironmentContents::default()));
    assert!(store
        .environment(&environment())
        .unwrap()
        .flag("a")
        .is_none());
    assert_eq!(store.sequences()[environment().as_str()], 9);
}

#[test]
fn removing_an_environment_closes_its_streams_and_keys() {
    let store = loaded_store();
    let (_, mut events) = store.subscribe(&environment()).unwrap();
    store.remove(&environment());
    assert!(matches!(
        events.try_recv(),
        Err(broadcast::error::TryRecvError::Closed)
    ));
    assert_eq!(
        store
            .authenticate("sdk-a", CredentialKind::ServerSdkKey, SystemTime::now())
            .unwrap_err(),
        AuthError::Unknown
    );
}

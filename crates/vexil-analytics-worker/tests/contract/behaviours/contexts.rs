//! `Contexts`' read: contexts seen, never anonymous ones, most recent first, paged.

use vexil_analytics_worker::store::{time_of, AnalyticsStore, ContextRow};

use crate::fixtures::{batch, event, unkeyed, ENVIRONMENT, HOUR};

fn row(kind: &str, key: &str, name: Option<&str>, at: i64) -> ContextRow {
    ContextRow {
        kind: kind.to_owned(),
        key: key.to_owned(),
        name: name.map(str::to_owned),
        last_seen_at: time_of(at),
    }
}

pub async fn contexts_list_most_recent_first_without_anonymous_ones(store: &dyn AnalyticsStore) {
    let identify = |at: i64, context: serde_json::Value| {
        event(
            ENVIRONMENT,
            "identify",
            serde_json::json!({ "kind": "identify", "creationDate": at, "context": context }),
        )
    };
    let first = vec![
        identify(
            HOUR + 1,
            serde_json::json!({ "kind": "user", "key": "alice", "name": "Alice" }),
        ),
        identify(
            HOUR + 2,
            serde_json::json!({ "kind": "user", "key": "bob" }),
        ),
        identify(
            HOUR + 2,
            serde_json::json!({ "kind": "org", "key": "acme" }),
        ),
        identify(
            HOUR + 3,
            serde_json::json!({ "kind": "user", "key": "anon-1", "anonymous": true }),
        ),
    ];
    store.commit(&batch(0, 0, 4, unkeyed(first))).await.unwrap();
    // Known only by `contextKeys`: refreshes alice (keeping her name), never adds carol.
    let by_keys = |at: i64, user: &str| {
        event(
            ENVIRONMENT,
            "custom",
            serde_json::json!({
                "kind": "custom", "creationDate": at, "key": "purchase",
                "contextKeys": { "user": user }
            }),
        )
    };
    let second = vec![by_keys(HOUR + 5, "alice"), by_keys(HOUR + 6, "carol")];
    store
        .commit(&batch(0, 4, 6, unkeyed(second)))
        .await
        .unwrap();

    let alice = row("user", "alice", Some("Alice"), HOUR + 5);
    let bob = row("user", "bob", None, HOUR + 2);
    let acme = row("org", "acme", None, HOUR + 2);
    assert_eq!(
        store.contexts(ENVIRONMENT, None, None, 10).await.unwrap(),
        [alice.clone(), bob.clone(), acme.clone()]
    );
    assert_eq!(
        store
            .contexts(ENVIRONMENT, Some("user"), None, 10)
            .await
            .unwrap(),
        [alice.clone(), bob.clone()]
    );
    assert_eq!(
        store.contexts(ENVIRONMENT, None, None, 1).await.unwrap(),
        vec![alice.clone()]
    );
    assert_eq!(
        store
            .contexts(ENVIRONMENT, None, Some(&alice), 1)
            .await
            .unwrap(),
        vec![bob.clone()]
    );
    assert_eq!(
        store
            .contexts(ENVIRONMENT, None, Some(&bob), 10)
            .await
            .unwrap(),
        vec![acme.clone()]
    );
    assert!(store
        .contexts(ENVIRONMENT, None, Some(&acme), 10)
        .await
        .unwrap()
        .is_empty());
}

//! The audit log: a hash chain that verifies after many writes (rolled-back ones leave no
//! entry and no gap), and its filters.

use std::sync::Arc;

use uuid::Uuid;
use vexil_config_api::audit::{AuditRecord, GENESIS_HASH};
use vexil_config_api::store::params::AuditFilter;
use vexil_config_api::store::{now, ConfigStore};

use crate::support::{after, caller, caller_named, record};

pub async fn the_audit_chain_verifies_after_many_writes(store: Arc<dyn ConfigStore>) {
    let bot = caller_named("bot", Uuid::from_u128(77));
    let mut expected = Vec::new();
    for round in 0..25 {
        let mut write = store.write().await.unwrap();
        let mut appended = Vec::new();
        for part in 0..(1 + round % 2) {
            let key = format!("flag-{round}-{part}");
            let who = if round % 3 == 0 {
                bot.clone()
            } else {
                caller()
            };
            write
                .append_audit(&who, record("flag.update", &key))
                .await
                .unwrap();
            appended.push(key);
        }
        if round % 5 == 4 {
            drop(write); // rolled back: no entries, no numbers taken
        } else {
            write.commit().await.unwrap();
            expected.extend(appended);
        }
    }
    store.flush().await;

    let mut read = store.read().await.unwrap();
    let verification = read.verify_audit().await.unwrap();
    assert!(verification.is_intact, "{verification:?}");
    assert_eq!(verification.entries_checked, expected.len() as i64);
    assert!(verification.first_broken.is_none());

    let mut entries = read
        .list_audit(&AuditFilter {
            limit: 1_000,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    entries.reverse();
    assert_eq!(
        entries
            .iter()
            .map(|e| e.flag_key.clone().unwrap())
            .collect::<Vec<_>>(),
        expected
    );
    assert_eq!(
        entries.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        (1..=expected.len() as i64).collect::<Vec<_>>()
    );
    assert_eq!(entries[0].previous_hash, GENESIS_HASH.to_vec());
    for pair in entries.windows(2) {
        assert_eq!(pair[1].previous_hash, pair[0].hash);
        assert!(pair[1].at >= pair[0].at);
    }
    let first = &entries[0];
    assert_eq!(first.actor_name, "bot");
    assert_eq!(first.actor_token_id, Some(Uuid::from_u128(77)));
    assert_eq!(
        (first.client_ip.as_deref(), first.request_id.as_deref()),
        (Some("10.0.0.1"), Some("request-1"))
    );
    assert_eq!(first.before_json.as_deref(), Some(r#"{"on":false}"#));
    assert!(first.after_json.as_deref().unwrap().contains("ünïcode"));
    assert_eq!(first.comment, "flag.update flag-0-0");
    assert!(!first.diff.is_empty());
    assert_eq!(first.at.nanosecond() % 1_000, 0);
}

pub async fn list_audit_filters(store: Arc<dyn ConfigStore>) {
    let bot_id = Uuid::from_u128(77);
    let bot = caller_named("bot", bot_id);
    let entry =
        |project: Option<&str>, environment: Option<&str>, flag: Option<&str>| AuditRecord {
            action: "test.entry",
            resource: "somewhere".to_owned(),
            project_key: project.map(str::to_owned),
            environment_key: environment.map(str::to_owned),
            flag_key: flag.map(str::to_owned),
            ..AuditRecord::default()
        };
    let append = async |who: &vexil_config_api::auth::Caller, record: AuditRecord| {
        let mut write = store.write().await.unwrap();
        write.append_audit(who, record).await.unwrap();
        write.commit().await.unwrap();
    };
    append(
        &caller(),
        entry(Some("p"), Some("production"), Some("checkout")),
    )
    .await;
    append(
        &caller(),
        entry(Some("p"), Some("staging"), Some("checkout")),
    )
    .await;
    store.flush().await;
    let middle = now();
    after(middle).await;
    append(&bot, entry(Some("p"), None, Some("banner"))).await;
    append(&caller(), entry(Some("q"), Some("production"), None)).await;
    append(&bot, entry(None, None, None)).await;
    store.flush().await;

    let mut read = store.read().await.unwrap();
    let mut sequences = async |filter: AuditFilter| -> Vec<i64> {
        let filter = AuditFilter {
            limit: if filter.limit == 0 { 100 } else { filter.limit },
            ..filter
        };
        let entries = read.list_audit(&filter).await.unwrap();
        entries.iter().map(|e| e.sequence).collect()
    };
    let keys = |keys: &[&str]| Some(keys.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>());
    let all = AuditFilter::default;

    assert_eq!(sequences(all()).await, [5, 4, 3, 2, 1], "newest first");
    let filter = AuditFilter {
        project_keys: keys(&["p"]),
        ..all()
    };
    assert_eq!(sequences(filter).await, [3, 2, 1]);
    let filter = AuditFilter {
        project_keys: keys(&[]),
        ..all()
    };
    assert!(sequences(filter).await.is_empty());
    let filter = AuditFilter {
        environment_keys: keys(&["production"]),
        ..all()
    };
    assert_eq!(
        sequences(filter).await,
        [5, 4, 3, 1],
        "entries of no environment are kept"
    );
    let filter = AuditFilter {
        project_keys: keys(&["p", "q"]),
        environment_keys: keys(&["staging"]),
        ..all()
    };
    assert_eq!(sequences(filter).await, [3, 2]);
    let filter = AuditFilter {
        flag_key: Some("checkout".to_owned()),
        ..all()
    };
    assert_eq!(sequences(filter).await, [2, 1]);
    let filter = AuditFilter {
        actor_name: Some("bot".to_owned()),
        ..all()
    };
    assert_eq!(sequences(filter).await, [5, 3]);
    let filter = AuditFilter {
        actor_token_id: Some(bot_id),
        ..all()
    };
    assert_eq!(sequences(filter).await, [5, 3]);
    let filter = AuditFilter {
        after: Some(middle),
        ..all()
    };
    assert_eq!(sequences(filter).await, [5, 4, 3]);
    let filter = AuditFilter {
        before: Some(middle),
        ..all()
    };
    assert_eq!(sequences(filter).await, [2, 1]);
    let filter = AuditFilter {
        before_sequence: Some(3),
        ..all()
    };
    assert_eq!(sequences(filter).await, [2, 1]);
    let filter = AuditFilter { limit: 2, ..all() };
    assert_eq!(sequences(filter).await, [5, 4]);
}

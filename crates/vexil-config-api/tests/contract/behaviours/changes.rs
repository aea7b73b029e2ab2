//! The FlagSync outbox: per-environment sequence numbers without gaps, in commit order,
//! published in that order; reading after a sequence number; pruning.

use std::collections::HashMap;
use std::sync::Arc;

use time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use vexil_config_api::store::kinds::ChangeKind;
use vexil_config_api::store::rows::Change;
use vexil_config_api::store::{now, ConfigStore};
use vexil_config_api::sync::ChangeHub;

use crate::support::{caller, next_change, project, record};

/// Every change a hub subscriber hears of until it has `count`, by environment.
async fn hear(
    changes: &mut tokio::sync::broadcast::Receiver<vexil_config_api::sync::HubEvent>,
    count: usize,
) -> HashMap<Uuid, Vec<Change>> {
    let mut heard: HashMap<Uuid, Vec<Change>> = HashMap::new();
    for _ in 0..count {
        let change = next_change(changes).await;
        heard.entry(change.environment_id).or_default().push(change);
    }
    heard
}

fn sequences_and_keys(changes: &[Change]) -> Vec<(i64, String)> {
    changes
        .iter()
        .map(|c| (c.sequence, c.key.clone()))
        .collect()
}

/// `keys` numbered 1, 2, … as one environment's stream should hold them.
fn numbered(keys: &[String]) -> Vec<(i64, String)> {
    (1..).zip(keys.iter().cloned()).collect()
}

pub async fn sequences_are_gapless_in_commit_order_and_published_in_order(
    store: Arc<dyn ConfigStore>,
) {
    let hub = ChangeHub::new();
    let shutdown = CancellationToken::new();
    store.start(hub.clone(), shutdown.clone()).await.unwrap();
    let mut changes = hub.subscribe();
    let (_, environments) = project(&*store, "p", &["production", "staging"]).await;
    let (production, staging) = (environments[0].id, environments[1].id);
    let mut expected: HashMap<Uuid, Vec<String>> = HashMap::new();
    for round in 0..20_i64 {
        let (first, other) = if round % 3 == 0 {
            (staging, production)
        } else {
            (production, staging)
        };
        let mut write = store.write().await.unwrap();
        let mut keys = vec![(first, format!("flag-{round}"))];
        if round % 4 == 0 {
            keys.push((first, format!("flag-{round}-b")));
            keys.push((other, format!("flag-{round}-c")));
        }
        for (environment, key) in keys {
            write
                .record_change(
                    environment,
                    ChangeKind::FlagUpsert,
                    &key,
                    round + 1,
                    key.as_bytes().to_vec(),
                )
                .await
                .unwrap();
            expected.entry(environment).or_default().push(key);
        }
        write.commit().await.unwrap();
    }
    store.flush().await;

    let mut read = store.read().await.unwrap();
    for environment in [production, staging] {
        let keys = &expected[&environment];
        let stream = read.changes_since(environment, 0, 1_000).await.unwrap();
        assert_eq!(sequences_and_keys(&stream), numbered(keys));
        assert!(stream.iter().all(|c| c.payload == c.key.as_bytes()));
        let last = read
            .find_environment_by_id(environment)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(last.sequence, keys.len() as i64);
    }
    let total = expected.values().map(Vec::len).sum();
    let heard = hear(&mut changes, total).await;
    for environment in [production, staging] {
        assert_eq!(
            sequences_and_keys(&heard[&environment]),
            numbered(&expected[&environment]),
            "published in sequence order"
        );
    }
    shutdown.cancel();
}

pub async fn concurrent_writers_are_numbered_and_published_in_commit_order(
    store: Arc<dyn ConfigStore>,
) {
    const WRITERS: usize = 6;
    const WRITES: usize = 5;
    let hub = ChangeHub::new();
    let shutdown = CancellationToken::new();
    store.start(hub.clone(), shutdown.clone()).await.unwrap();
    let mut changes = hub.subscribe();
    let (_, environments) = project(&*store, "p", &["production"]).await;
    let production = environments[0].id;

    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let store = store.clone();
            tokio::spawn(async move {
                for write_number in 0..WRITES {
                    let mut write = store.write().await.unwrap();
                    for part in 0..2 {
                        let key = format!("{writer}-{write_number}-{part}");
                        write
                            .record_change(production, ChangeKind::FlagUpsert, &key, 1, Vec::new())
                            .await
                            .unwrap();
                    }
                    write
                        .append_audit(&caller(), record("flag.update", &format!("{writer}")))
                        .await
                        .unwrap();
                    write.commit().await.unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    store.flush().await;

    let mut read = store.read().await.unwrap();
    let stream = read.changes_since(production, 0, 1_000).await.unwrap();
    let count = WRITERS * WRITES * 2;
    assert_eq!(
        stream.iter().map(|c| c.sequence).collect::<Vec<_>>(),
        (1..=count as i64).collect::<Vec<_>>(),
        "gapless"
    );
    // Each writer's changes are numbered in the order it committed them.
    for writer in 0..WRITERS {
        let own: Vec<String> = stream
            .iter()
            .map(|c| c.key.clone())
            .filter(|key| key.starts_with(&format!("{writer}-")))
            .collect();
        let in_order: Vec<String> = (0..WRITES)
            .flat_map(|write_number| {
                (0..2).map(move |part| format!("{writer}-{write_number}-{part}"))
            })
            .collect();
        assert_eq!(own, in_order);
    }
    let heard = hear(&mut changes, count).await;
    assert_eq!(
        sequences_and_keys(&heard[&production]),
        sequences_and_keys(&stream),
        "published in sequence order"
    );
    let verification = read.verify_audit().await.unwrap();
    assert!(verification.is_intact, "{verification:?}");
    assert_eq!(verification.entries_checked, (WRITERS * WRITES) as i64);
    shutdown.cancel();
}

pub async fn changes_since_and_oldest_change_held(store: Arc<dyn ConfigStore>) {
    let (_, environments) = project(&*store, "p", &["production", "staging"]).await;
    let (production, staging) = (environments[0].id, environments[1].id);
    let recorded = [
        (
            ChangeKind::FlagUpsert,
            "checkout",
            3,
            b"{\"key\":\"checkout\"}".to_vec(),
        ),
        (ChangeKind::FlagDeleted, "old", 7, Vec::new()),
        (ChangeKind::SegmentUpsert, "beta", 1, b"{}".to_vec()),
        (ChangeKind::SegmentDeleted, "gamma", 2, Vec::new()),
        (ChangeKind::CredentialChanged, "", 0, vec![0, 159, 146, 150]),
    ];
    let mut write = store.write().await.unwrap();
    for (kind, key, version, payload) in &recorded {
        write
            .record_change(production, *kind, key, *version, payload.clone())
            .await
            .unwrap();
    }
    write.commit().await.unwrap();
    store.flush().await;

    let mut read = store.read().await.unwrap();
    assert_eq!(read.oldest_change_held(production).await.unwrap(), Some(1));
    assert_eq!(read.oldest_change_held(staging).await.unwrap(), None);
    let all = read.changes_since(production, 0, 100).await.unwrap();
    let read_back: Vec<(i64, String, String, i64, Vec<u8>)> = all
        .into_iter()
        .map(|c| (c.sequence, c.kind, c.key, c.version, c.payload))
        .collect();
    let written: Vec<(i64, String, String, i64, Vec<u8>)> = (1..)
        .zip(recorded.iter())
        .map(|(sequence, (kind, key, version, payload))| {
            (
                sequence,
                kind.as_str().to_owned(),
                (*key).to_owned(),
                *version,
                payload.clone(),
            )
        })
        .collect();
    assert_eq!(read_back, written);
    let sequences = async |after: i64, limit: i64| -> Vec<i64> {
        let changes = store
            .read()
            .await
            .unwrap()
            .changes_since(production, after, limit)
            .await
            .unwrap();
        changes.iter().map(|c| c.sequence).collect()
    };
    assert_eq!(sequences(2, 100).await, [3, 4, 5]);
    assert_eq!(sequences(2, 2).await, [3, 4]);
    assert!(sequences(5, 100).await.is_empty());
    assert!(read
        .changes_since(staging, 0, 100)
        .await
        .unwrap()
        .is_empty());
}

pub async fn pruning_keeps_each_environments_newest_change(store: Arc<dyn ConfigStore>) {
    let (_, environments) = project(&*store, "p", &["production", "staging"]).await;
    let (production, staging) = (environments[0].id, environments[1].id);
    let record_changes = async |environment: Uuid, count: usize| {
        let mut write = store.write().await.unwrap();
        for _ in 0..count {
            write
                .record_change(environment, ChangeKind::FlagUpsert, "f", 1, Vec::new())
                .await
                .unwrap();
        }
        write.commit().await.unwrap();
        store.flush().await;
    };
    let prune = async |cutoff| {
        let mut write = store.write().await.unwrap();
        let pruned = write.prune_changes(cutoff).await.unwrap();
        write.commit().await.unwrap();
        pruned
    };
    record_changes(production, 3).await;
    record_changes(staging, 1).await;

    assert_eq!(
        prune(now() - Duration::hours(1)).await,
        0,
        "nothing that old"
    );
    assert_eq!(prune(now() + Duration::minutes(1)).await, 2);
    let mut read = store.read().await.unwrap();
    assert_eq!(read.oldest_change_held(production).await.unwrap(), Some(3));
    assert_eq!(
        read.changes_since(production, 0, 100)
            .await
            .unwrap()
            .iter()
            .map(|c| c.sequence)
            .collect::<Vec<_>>(),
        [3]
    );
    assert_eq!(read.oldest_change_held(staging).await.unwrap(), Some(1));
    drop(read);

    record_changes(production, 1).await;
    assert_eq!(prune(now() + Duration::minutes(1)).await, 1);
    let mut read = store.read().await.unwrap();
    assert_eq!(read.oldest_change_held(production).await.unwrap(), Some(4));
    assert_eq!(read.oldest_change_held(staging).await.unwrap(), Some(1));
}

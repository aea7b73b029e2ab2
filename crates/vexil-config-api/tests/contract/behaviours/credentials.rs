//! SDK credentials: created per kind, resolved while active, retired or revoked.

use std::sync::Arc;

use time::Duration;
use vexil_config_api::store::kinds::CredentialKind;
use vexil_config_api::store::{now, ConfigStore};

use crate::support::project;

pub async fn credentials_resolve_until_revoked(store: Arc<dyn ConfigStore>) {
    let (_, environments) = project(&*store, "p", &["production", "staging"]).await;
    let (production, staging) = (&environments[0], &environments[1]);
    let mut write = store.write().await.unwrap();
    let (server, server_secret) = write
        .create_credential(production.id, CredentialKind::Server)
        .await
        .unwrap();
    let (_, mobile_secret) = write
        .create_credential(production.id, CredentialKind::Mobile)
        .await
        .unwrap();
    let (client, client_secret) = write
        .create_credential(production.id, CredentialKind::Client)
        .await
        .unwrap();
    write.commit().await.unwrap();
    assert!(server_secret.starts_with("sdk-"));
    assert_eq!(server.hint, &server_secret[server_secret.len() - 4..]);
    assert_eq!(client.hint, client_secret, "a client-side id is public");
    assert_eq!(server.kind(), CredentialKind::Server);
    assert!(server.is_active(now()));

    let mut read = store.read().await.unwrap();
    for (secret, kind) in [
        (&server_secret, CredentialKind::Server),
        (&mobile_secret, CredentialKind::Mobile),
        (&client_secret, CredentialKind::Client),
    ] {
        let resolved = read.resolve_credential(secret).await.unwrap().unwrap();
        assert_eq!(resolved.kind, kind);
        assert_eq!(resolved.environment_id, production.id);
        assert_eq!(
            (
                resolved.project_key.as_str(),
                resolved.environment_key.as_str()
            ),
            ("p", "production")
        );
    }
    assert!(read
        .resolve_credential("sdk-unknown")
        .await
        .unwrap()
        .is_none());
    let listed = read.list_credentials(production.id).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0].sha256.len(), 32);
    assert!(read.list_credentials(staging.id).await.unwrap().is_empty());
    drop(read);

    let mut write = store.write().await.unwrap();
    assert!(
        write
            .revoke_credential(staging.id, server.id)
            .await
            .unwrap()
            .is_none(),
        "not the environment's"
    );
    let revoked = write
        .revoke_credential(production.id, server.id)
        .await
        .unwrap()
        .unwrap();
    let first_revocation = revoked.revoked_at.expect("revoked");
    crate::support::after(first_revocation).await;
    let again = write
        .revoke_credential(production.id, server.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        again.revoked_at,
        Some(first_revocation),
        "the first revocation stays"
    );
    write.commit().await.unwrap();

    let mut read = store.read().await.unwrap();
    assert!(read
        .resolve_credential(&server_secret)
        .await
        .unwrap()
        .is_none());
    assert!(read
        .resolve_credential(&mobile_secret)
        .await
        .unwrap()
        .is_some());
}

pub async fn retiring_credentials_with_and_without_expiry(store: Arc<dyn ConfigStore>) {
    let (_, environments) = project(&*store, "p", &["production"]).await;
    let production = environments[0].id;
    let mut write = store.write().await.unwrap();
    let (first, first_secret) = write
        .create_credential(production, CredentialKind::Server)
        .await
        .unwrap();
    let (second, second_secret) = write
        .create_credential(production, CredentialKind::Server)
        .await
        .unwrap();
    let (_, mobile_secret) = write
        .create_credential(production, CredentialKind::Mobile)
        .await
        .unwrap();
    write.commit().await.unwrap();

    // An expiry in an hour: both server keys still resolve until then.
    let in_an_hour = now() + Duration::hours(1);
    let mut write = store.write().await.unwrap();
    let mut retired = write
        .retire_credentials(production, CredentialKind::Server, Some(in_an_hour))
        .await
        .unwrap();
    retired.sort_by_key(|credential| credential.created_at);
    assert_eq!(
        retired
            .iter()
            .map(|c| (c.id, c.expires_at, c.revoked_at))
            .collect::<Vec<_>>(),
        [
            (first.id, Some(in_an_hour), None),
            (second.id, Some(in_an_hour), None)
        ]
    );
    // A later expiry never extends an earlier one; an earlier one shortens it.
    let retired = write
        .retire_credentials(
            production,
            CredentialKind::Server,
            Some(in_an_hour + Duration::hours(1)),
        )
        .await
        .unwrap();
    assert!(retired.iter().all(|c| c.expires_at == Some(in_an_hour)));
    write.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert!(read
        .resolve_credential(&first_secret)
        .await
        .unwrap()
        .is_some());
    drop(read);

    // An expiry in the past ends them: they no longer resolve, and are no longer active.
    let a_minute_ago = now() - Duration::minutes(1);
    let mut write = store.write().await.unwrap();
    let retired = write
        .retire_credentials(production, CredentialKind::Server, Some(a_minute_ago))
        .await
        .unwrap();
    assert_eq!(retired.len(), 2);
    assert!(retired.iter().all(|c| c.expires_at == Some(a_minute_ago)));
    let again = write
        .retire_credentials(production, CredentialKind::Server, None)
        .await
        .unwrap();
    assert!(
        again.is_empty(),
        "expired credentials are not active any more"
    );
    write.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert!(read
        .resolve_credential(&first_secret)
        .await
        .unwrap()
        .is_none());
    assert!(read
        .resolve_credential(&second_secret)
        .await
        .unwrap()
        .is_none());
    assert!(read
        .resolve_credential(&mobile_secret)
        .await
        .unwrap()
        .is_some());
    drop(read);

    // Without an expiry: revoked at once, expiry left as it was.
    let mut write = store.write().await.unwrap();
    let retired = write
        .retire_credentials(production, CredentialKind::Mobile, None)
        .await
        .unwrap();
    assert_eq!(retired.len(), 1);
    assert!(retired[0].revoked_at.is_some() && retired[0].expires_at.is_none());
    write.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert!(read
        .resolve_credential(&mobile_secret)
        .await
        .unwrap()
        .is_none());
}

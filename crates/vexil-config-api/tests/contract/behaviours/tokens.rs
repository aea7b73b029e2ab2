//! API tokens: created with a scope, listed, revoked, found by secret; the bootstrap
//! token.

use std::sync::Arc;

use uuid::Uuid;
use vexil_config_api::auth::Role;
use vexil_config_api::store::params::NewToken;
use vexil_config_api::store::ConfigStore;

pub async fn tokens_create_list_revoke_and_find_actor(store: Arc<dyn ConfigStore>) {
    let creator = Uuid::from_u128(42);
    let projects = vec!["p".to_owned()];
    let environments = vec!["staging".to_owned(), "production".to_owned()];
    let mut write = store.write().await.unwrap();
    let (scoped, scoped_secret) = write
        .create_token(&NewToken {
            name: "ci",
            role: Role::Writer,
            project_keys: Some(&projects),
            environment_keys: Some(&environments),
            can_bypass_approvals: false,
            created_by: creator,
        })
        .await
        .unwrap();
    crate::support::after(scoped.created_at).await;
    let (reader, reader_secret) = write
        .create_token(&NewToken {
            name: "dashboard",
            role: Role::Reader,
            project_keys: None,
            environment_keys: None,
            can_bypass_approvals: true,
            created_by: creator,
        })
        .await
        .unwrap();
    write.commit().await.unwrap();
    assert!(scoped_secret.starts_with("vexil-api-"));
    assert_eq!(scoped.hint, &scoped_secret[scoped_secret.len() - 4..]);
    assert_eq!(
        (scoped.role.as_str(), scoped.created_by, scoped.is_bootstrap),
        ("writer", Some(creator), false)
    );
    assert_eq!(
        (reader.role.as_str(), reader.project_keys.as_ref()),
        ("reader", None)
    );

    let mut read = store.read().await.unwrap();
    let listed: Vec<(String, Option<Vec<String>>)> = read
        .list_tokens()
        .await
        .unwrap()
        .into_iter()
        .map(|token| (token.name, token.environment_keys))
        .collect();
    assert_eq!(
        listed,
        [
            ("ci".to_owned(), Some(environments.clone())),
            ("dashboard".to_owned(), None)
        ]
    );
    let actor = read.find_actor(&scoped_secret).await.unwrap().unwrap();
    assert_eq!(
        (actor.token_id, actor.name.as_str(), actor.role),
        (scoped.id, "ci", Role::Writer)
    );
    assert_eq!(actor.project_keys, Some(projects));
    assert_eq!(actor.environment_keys, Some(environments));
    assert!(!actor.can_bypass_approvals);
    let actor = read.find_actor(&reader_secret).await.unwrap().unwrap();
    assert_eq!(
        (actor.role, actor.project_keys, actor.can_bypass_approvals),
        (Role::Reader, None, true)
    );
    assert!(read
        .find_actor("vexil-api-unknown")
        .await
        .unwrap()
        .is_none());
    drop(read);

    let mut write = store.write().await.unwrap();
    let revoked = write.revoke_token(scoped.id).await.unwrap().unwrap();
    let revoked_at = revoked.revoked_at.expect("revoked");
    crate::support::after(revoked_at).await;
    let again = write.revoke_token(scoped.id).await.unwrap().unwrap();
    assert_eq!(again.revoked_at, Some(revoked_at));
    assert!(write
        .revoke_token(Uuid::from_u128(7))
        .await
        .unwrap()
        .is_none());
    write.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    assert!(read.find_actor(&scoped_secret).await.unwrap().is_none());
    assert!(read.find_actor(&reader_secret).await.unwrap().is_some());
    assert_eq!(
        read.list_tokens().await.unwrap().len(),
        2,
        "revoked tokens stay listed"
    );
}

pub async fn bootstrap_token_rotation_revokes_the_old_one(store: Arc<dyn ConfigStore>) {
    let ensure = async |secret: &str| {
        let mut write = store.write().await.unwrap();
        write.ensure_bootstrap_token(secret).await.unwrap();
        write.commit().await.unwrap();
    };
    ensure("vexil-api-first").await;
    ensure("vexil-api-first").await;
    let mut read = store.read().await.unwrap();
    let actor = read.find_actor("vexil-api-first").await.unwrap().unwrap();
    assert_eq!(
        (actor.name.as_str(), actor.role, actor.can_bypass_approvals),
        ("bootstrap admin", Role::Admin, true)
    );
    let tokens = read.list_tokens().await.unwrap();
    assert_eq!(tokens.len(), 1, "ensuring twice creates one token");
    assert!(tokens[0].is_bootstrap && tokens[0].revoked_at.is_none());
    assert_eq!(tokens[0].hint, "irst");
    drop(read);

    ensure("vexil-api-second").await;
    let mut read = store.read().await.unwrap();
    assert!(
        read.find_actor("vexil-api-first").await.unwrap().is_none(),
        "rotated out"
    );
    assert!(read.find_actor("vexil-api-second").await.unwrap().is_some());
    drop(read);

    // Going back to the first secret brings its token back and revokes the second.
    ensure("vexil-api-first").await;
    let mut read = store.read().await.unwrap();
    let actor = read.find_actor("vexil-api-first").await.unwrap().unwrap();
    assert_eq!(actor.token_id, tokens[0].id);
    assert!(read.find_actor("vexil-api-second").await.unwrap().is_none());
    assert_eq!(read.list_tokens().await.unwrap().len(), 2);
}

//! Approval requests: listed newest first, found, reviewed and applied.

use std::sync::Arc;

use serde_json::json;
use uuid::Uuid;
use vexil_config_api::store::params::NewRequest;
use vexil_config_api::store::ConfigStore;

use crate::support::{after, project, FlagSpec, ACTOR_TOKEN_ID};

pub async fn approvals_list_review_and_apply(store: Arc<dyn ConfigStore>) {
    let (project, environments) = project(&*store, "p", &["production"]).await;
    let production = &environments[0];
    let instructions = json!([{ "kind": "turnFlagOn" }]);
    let mut write = store.write().await.unwrap();
    let flag = write
        .insert_flag(project.id, "checkout", &FlagSpec::new("Checkout").fields())
        .await
        .unwrap()
        .unwrap();
    let other = write
        .insert_flag(project.id, "banner", &FlagSpec::new("Banner").fields())
        .await
        .unwrap()
        .unwrap();
    let request = |comment: &'static str, flag_id: Uuid| NewRequest {
        flag_id,
        environment_id: production.id,
        instructions: &instructions,
        comment,
        requested_by_token_id: ACTOR_TOKEN_ID,
        requested_by_name: "admin",
    };
    let first = write
        .insert_approval(&request("first", flag.id))
        .await
        .unwrap();
    write.commit().await.unwrap();
    let mut read = store.read().await.unwrap();
    let first_created = read.list_approvals(flag.id, None).await.unwrap()[0].created_at;
    drop(read);
    after(first_created).await;
    let mut write = store.write().await.unwrap();
    let second = write
        .insert_approval(&request("second", flag.id))
        .await
        .unwrap();
    write
        .insert_approval(&request("elsewhere", other.id))
        .await
        .unwrap();
    write.commit().await.unwrap();

    let mut read = store.read().await.unwrap();
    let listed = read.list_approvals(flag.id, None).await.unwrap();
    assert_eq!(
        listed.iter().map(|a| a.id).collect::<Vec<_>>(),
        [second, first],
        "newest first, this flag's only"
    );
    let request = &listed[1];
    assert_eq!(
        (
            request.flag_key.as_str(),
            request.environment_key.as_str(),
            request.status.as_str(),
            request.comment.as_str()
        ),
        ("checkout", "production", "pending", "first")
    );
    assert_eq!(request.instructions.0, instructions);
    assert_eq!(request.requested_by_token_id, Some(ACTOR_TOKEN_ID));
    assert_eq!(
        (
            request.reviewed_by_token_id,
            request.reviewed_by_name.as_deref()
        ),
        (None, None)
    );
    drop(read);

    let reviewer = Uuid::from_u128(99);
    let mut write = store.write().await.unwrap();
    assert!(
        write
            .find_approval_for_update(other.id, first)
            .await
            .unwrap()
            .is_none(),
        "another flag's id finds nothing"
    );
    let found = write
        .find_approval_for_update(flag.id, first)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.status, "pending");
    write
        .review_approval(first, "approved", reviewer, "reviewer", "looks good")
        .await
        .unwrap();
    write
        .review_approval(second, "declined", reviewer, "reviewer", "no")
        .await
        .unwrap();
    write.mark_approval_applied(first).await.unwrap();
    write.commit().await.unwrap();

    let mut read = store.read().await.unwrap();
    let applied = read.list_approvals(flag.id, Some("applied")).await.unwrap();
    assert_eq!(applied.len(), 1);
    let applied = &applied[0];
    assert_eq!(applied.id, first);
    assert_eq!(applied.reviewed_by_token_id, Some(reviewer));
    assert_eq!(applied.reviewed_by_name.as_deref(), Some("reviewer"));
    assert_eq!(applied.review_comment.as_deref(), Some("looks good"));
    assert!(applied.updated_at > applied.created_at);
    let declined = read
        .list_approvals(flag.id, Some("declined"))
        .await
        .unwrap();
    assert_eq!(declined.iter().map(|a| a.id).collect::<Vec<_>>(), [second]);
    assert!(read
        .list_approvals(flag.id, Some("pending"))
        .await
        .unwrap()
        .is_empty());
}

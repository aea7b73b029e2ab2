//! Environment set-up and removal: credentials, the project's flags' default targeting,
//! and the change that closes the environment's FlagSync stream.

use super::credentials::record_change;
use super::flags::{add_to_environment, default_targeting};
use crate::audit::AuditRecord;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::store::kinds::CredentialKind;
use crate::store::rows::{Credential, Environment, Project};
use crate::store::ConfigWrite;
use crate::views::json;

/// A credential and its secret, shown once.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedCredential {
    #[serde(flatten)]
    pub credential: Credential,
    pub secret: String,
}

pub fn resource(project: &Project, key: &str) -> String {
    format!("projects/{}/environments/{key}", project.key)
}

/// Creates an environment with a server SDK key, a mobile key and a client-side ID, and
/// gives every flag of the project its default targeting there (off).
pub async fn create(
    session: &mut dyn ConfigWrite,
    caller: &Caller,
    project: &Project,
    key: &str,
    name: &str,
    is_critical: bool,
) -> ApiResult<(Environment, Vec<IssuedCredential>)> {
    let environment = session
        .insert_environment(project.id, key, name, is_critical)
        .await?
        .ok_or_else(|| {
            ApiError::conflict(format!(
                "project `{}` already has an environment `{key}`",
                project.key
            ))
        })?;
    let mut issued = Vec::new();
    for kind in [
        CredentialKind::Server,
        CredentialKind::Mobile,
        CredentialKind::Client,
    ] {
        let (credential, secret) = session.create_credential(environment.id, kind).await?;
        record_change(session, &credential).await?;
        issued.push(IssuedCredential { credential, secret });
    }
    let flag_rows = session.list_project_flags(project.id).await?;
    for flag in &flag_rows {
        let last = flag.variations.len().saturating_sub(1) as i64;
        add_to_environment(
            session,
            flag,
            &environment,
            &default_targeting(flag, 0, last),
        )
        .await?;
    }
    session
        .append_audit(
            caller,
            AuditRecord {
                action: "environment.create",
                resource: resource(project, key),
                project_key: Some(project.key.clone()),
                environment_key: Some(key.to_owned()),
                after: Some(json(&environment)),
                ..AuditRecord::default()
            },
        )
        .await?;
    Ok((environment, issued))
}

/// Deletes an environment with its targeting, segments and credentials.
pub async fn delete(
    session: &mut dyn ConfigWrite,
    caller: &Caller,
    project: &Project,
    environment: &Environment,
) -> ApiResult<()> {
    let sequence = session.delete_environment(environment.id).await?;
    session
        .record_environment_deleted(environment.id, sequence)
        .await?;
    session
        .append_audit(
            caller,
            AuditRecord {
                action: "environment.delete",
                resource: resource(project, &environment.key),
                project_key: Some(project.key.clone()),
                environment_key: Some(environment.key.clone()),
                before: Some(json(environment)),
                ..AuditRecord::default()
            },
        )
        .await?;
    Ok(())
}

/// Issues a new credential of `kind`; the old ones stop working at `old_expires_at`, or at
/// once when it is `None`.
pub async fn rotate_key(
    session: &mut dyn ConfigWrite,
    caller: &Caller,
    project: &Project,
    environment: &Environment,
    kind: CredentialKind,
    old_expires_at: Option<time::OffsetDateTime>,
) -> ApiResult<IssuedCredential> {
    let retired = session
        .retire_credentials(environment.id, kind, old_expires_at)
        .await?;
    for credential in &retired {
        record_change(session, credential).await?;
    }
    let (credential, secret) = session.create_credential(environment.id, kind).await?;
    record_change(session, &credential).await?;
    session
        .append_audit(
            caller,
            AuditRecord {
                action: "environment.rotate_key",
                resource: format!(
                    "{}/keys/{}",
                    resource(project, &environment.key),
                    kind.as_str()
                ),
                project_key: Some(project.key.clone()),
                environment_key: Some(environment.key.clone()),
                before: Some(json(&retired)),
                after: Some(json(&credential)),
                ..AuditRecord::default()
            },
        )
        .await?;
    Ok(IssuedCredential { credential, secret })
}

/// Revokes one credential at once.
pub async fn revoke_key(
    session: &mut dyn ConfigWrite,
    caller: &Caller,
    project: &Project,
    environment: &Environment,
    credential_id: uuid::Uuid,
) -> ApiResult<Credential> {
    let credential = session
        .revoke_credential(environment.id, credential_id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "key `{credential_id}` not found in environment `{}`",
                environment.key
            ))
        })?;
    record_change(session, &credential).await?;
    session
        .append_audit(
            caller,
            AuditRecord {
                action: "environment.revoke_key",
                resource: format!(
                    "{}/keys/{credential_id}",
                    resource(project, &environment.key)
                ),
                project_key: Some(project.key.clone()),
                environment_key: Some(environment.key.clone()),
                after: Some(json(&credential)),
                ..AuditRecord::default()
            },
        )
        .await?;
    Ok(credential)
}

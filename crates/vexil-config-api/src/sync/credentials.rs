//! `Credentials.Resolve`: which environment an SDK credential belongs to.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use vexil_proto::config::v1 as proto;
use vexil_proto::config::v1::credentials_server::Credentials;

use crate::error::ApiError;
use crate::mutations::credentials::proto_kind;
use crate::store::ConfigStore;

pub struct CredentialsService {
    store: Arc<dyn ConfigStore>,
}

impl CredentialsService {
    pub fn new(store: Arc<dyn ConfigStore>) -> Self {
        CredentialsService { store }
    }
}

#[tonic::async_trait]
impl Credentials for CredentialsService {
    async fn resolve(
        &self,
        request: Request<proto::ResolveRequest>,
    ) -> Result<Response<proto::ResolveResponse>, Status> {
        let credential = request.into_inner().credential;
        let mut session = self.store.read().await.map_err(ApiError::from)?;
        let resolved = session
            .resolve_credential(&credential)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| Status::not_found("unknown, revoked or expired credential"))?;
        Ok(Response::new(proto::ResolveResponse {
            environment_id: resolved.environment_id.to_string(),
            project_key: resolved.project_key,
            environment_key: resolved.environment_key,
            kind: proto_kind(resolved.kind) as i32,
        }))
    }
}

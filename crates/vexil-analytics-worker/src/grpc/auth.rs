//! The shared service token on gRPC calls (`authorization: Bearer <token>`), checked as
//! config-api checks it (`vexil-config-api/src/sync/service_auth.rs`).

use std::sync::Arc;

use sha2::{Digest, Sha256};
use tonic::{Request, Status};

/// A tonic interceptor refusing calls without the configured service token.
#[derive(Clone)]
pub struct ServiceAuth {
    /// SHA-256 of the token; comparing digests keeps the comparison's timing independent
    /// of how much of the token matched.
    expected: Option<Arc<[u8; 32]>>,
}

impl ServiceAuth {
    pub fn new(token: Option<&str>) -> Self {
        ServiceAuth {
            expected: token.map(|token| Arc::new(Sha256::digest(token.as_bytes()).into())),
        }
    }

    #[allow(clippy::result_large_err)]
    pub fn check<T>(&self, request: Request<T>) -> Result<Request<T>, Status> {
        let Some(expected) = &self.expected else {
            return Err(Status::unauthenticated(
                "analytics-worker has no service token configured (VEXIL_SERVICE_TOKEN)",
            ));
        };
        let presented = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or_else(|| {
                Status::unauthenticated("missing `authorization: Bearer <service token>`")
            })?;
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        if digest == **expected {
            Ok(request)
        } else {
            Err(Status::unauthenticated("wrong service token"))
        }
    }
}

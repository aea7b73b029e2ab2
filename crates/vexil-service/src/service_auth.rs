//! The shared service token on gRPC calls between Vexil services
//! (`authorization: Bearer <token>`, the token from `VEXIL_SERVICE_TOKEN`): [`ServiceAuth`]
//! checks it on a server, [`BearerToken`] adds it on a client, along with the trace context.
//! (The server's side of the trace is `telemetry::grpc_server_span`, given to tonic's
//! `trace_fn`: an interceptor runs too late to parent the call's span.)

use std::sync::Arc;

use sha2::{Digest, Sha256};
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// The metadata key carrying the token.
pub const AUTHORIZATION: &str = "authorization";

/// A tonic interceptor refusing calls without the configured service token.
#[derive(Clone)]
pub struct ServiceAuth {
    /// The serving service's name, for the refusal when it has no token configured.
    service: &'static str,
    /// SHA-256 of the token; comparing digests keeps the comparison's timing independent
    /// of how much of the token matched.
    expected: Option<Arc<[u8; 32]>>,
}

impl ServiceAuth {
    /// Checks calls to `service` (`config-api`) against `token`; without a token every
    /// call is refused.
    pub fn new(service: &'static str, token: Option<&str>) -> Self {
        ServiceAuth {
            service,
            expected: token.map(|token| Arc::new(Sha256::digest(token.as_bytes()).into())),
        }
    }

    /// The request, when it carries the token; `Unauthenticated` otherwise.
    #[allow(clippy::result_large_err)] // tonic's interceptors return `Status`
    pub fn check<T>(&self, request: Request<T>) -> Result<Request<T>, Status> {
        let Some(expected) = &self.expected else {
            return Err(Status::unauthenticated(format!(
                "{} has no service token configured (VEXIL_SERVICE_TOKEN)",
                self.service
            )));
        };
        let presented = request
            .metadata()
            .get(AUTHORIZATION)
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

impl std::fmt::Debug for ServiceAuth {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ServiceAuth")
            .field("service", &self.service)
            .field("has_token", &self.expected.is_some())
            .finish()
    }
}

impl Interceptor for ServiceAuth {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        self.check(request)
    }
}

/// A tonic client interceptor adding `authorization: Bearer <service token>` to every
/// call, or nothing when no token is configured, and the caller's trace context
/// (`traceparent`) when the service exports traces.
#[derive(Clone, Default)]
pub struct BearerToken(Option<MetadataValue<Ascii>>);

/// The configured service token cannot be sent as metadata (control characters, non-ASCII).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("service_token is not a valid header value")]
pub struct InvalidServiceToken;

impl BearerToken {
    pub fn new(token: Option<&str>) -> Result<BearerToken, InvalidServiceToken> {
        token
            .map(|token| format!("Bearer {token}").parse())
            .transpose()
            .map(BearerToken)
            .map_err(|_| InvalidServiceToken)
    }
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_tuple("BearerToken")
            .field(&self.0.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Interceptor for BearerToken {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(token) = &self.0 {
            request.metadata_mut().insert(AUTHORIZATION, token.clone());
        }
        crate::telemetry::propagation::inject_grpc(request.metadata_mut());
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    fn with_authorization(value: &str) -> Request<()> {
        let mut request = Request::new(());
        request
            .metadata_mut()
            .insert(AUTHORIZATION, value.parse().unwrap());
        request
    }

    fn refusal(result: Result<Request<()>, Status>) -> String {
        let status = result.unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
        status.message().to_owned()
    }

    #[test]
    fn the_configured_token_is_accepted() {
        let auth = ServiceAuth::new("config-api", Some("s3cret"));
        auth.check(with_authorization("Bearer s3cret")).unwrap();
    }

    #[test]
    fn a_wrong_or_missing_token_is_refused() {
        let auth = ServiceAuth::new("config-api", Some("s3cret"));
        assert_eq!(
            refusal(auth.check(with_authorization("Bearer guess"))),
            "wrong service token"
        );
        assert_eq!(
            refusal(auth.check(with_authorization("s3cret"))),
            "missing `authorization: Bearer <service token>`"
        );
        assert_eq!(
            refusal(auth.check(Request::new(()))),
            "missing `authorization: Bearer <service token>`"
        );
    }

    #[test]
    fn without_a_configured_token_every_call_is_refused_naming_the_service() {
        let mut auth = ServiceAuth::new("config-api", None);
        assert_eq!(
            refusal(auth.call(with_authorization("Bearer anything"))),
            "config-api has no service token configured (VEXIL_SERVICE_TOKEN)"
        );
    }

    #[test]
    fn the_bearer_token_passes_the_check() {
        let mut client = BearerToken::new(Some("s3cret")).unwrap();
        let request = client.call(Request::new(())).unwrap();
        assert_eq!(
            request.metadata().get(AUTHORIZATION).unwrap(),
            "Bearer s3cret"
        );
        let mut server = ServiceAuth::new("config-api", Some("s3cret"));
        server.call(request).unwrap();
    }

    #[test]
    fn no_token_adds_nothing_and_a_bad_token_is_an_error() {
        let mut client = BearerToken::new(None).unwrap();
        let request = client.call(Request::new(())).unwrap();
        assert!(request.metadata().get(AUTHORIZATION).is_none());
        assert_eq!(
            BearerToken::new(Some("line\nbreak")).unwrap_err(),
            InvalidServiceToken
        );
        assert!(!format!("{:?}", BearerToken::new(Some("s3cret")).unwrap()).contains("s3cret"));
    }
}

//! The request span and response log every service puts around its HTTP routes:
//! tower-http's `TraceLayer`, except for what counts as a failure (logged at ERROR).
//!
//! A 503 is the service saying "not now" on purpose: `/health/ready` while it starts or
//! drains (Kubernetes and `vexil up` poll it), or a dependency that is down, which the
//! service logs itself where it notices, with the cause. Logging each such answer again as
//! an ERROR would drown real faults, so a 503 is an ordinary response here; every other
//! 5xx and every error from inside the service stays a failure.

use axum::http::{Response, StatusCode};
use tower_http::classify::{
    ClassifiedResponse, ClassifyResponse, NeverClassifyEos, ServerErrorsFailureClass,
    SharedClassifier,
};
use tower_http::trace::TraceLayer;

/// The layer [`layer`] returns.
pub type HttpTraceLayer = TraceLayer<SharedClassifier<ServerFaults>>;

/// A `TraceLayer` with tower-http's default spans and events, classifying with
/// [`ServerFaults`].
pub fn layer() -> HttpTraceLayer {
    TraceLayer::new(SharedClassifier::new(ServerFaults))
}

/// Classifies 5xx responses other than 503, and errors, as failures.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServerFaults;

impl ClassifyResponse for ServerFaults {
    type FailureClass = ServerErrorsFailureClass;
    type ClassifyEos = NeverClassifyEos<ServerErrorsFailureClass>;

    fn classify_response<B>(
        self,
        response: &Response<B>,
    ) -> ClassifiedResponse<Self::FailureClass, Self::ClassifyEos> {
        let status = response.status();
        if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            ClassifiedResponse::Ready(Err(ServerErrorsFailureClass::StatusCode(status)))
        } else {
            ClassifiedResponse::Ready(Ok(()))
        }
    }

    fn classify_error<E>(self, error: &E) -> Self::FailureClass
    where
        E: std::fmt::Display + 'static,
    {
        ServerErrorsFailureClass::Error(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_failure(status: u16) -> bool {
        let response = Response::builder()
            .status(status)
            .body(())
            .expect("a status makes a response");
        match ServerFaults.classify_response(&response) {
            ClassifiedResponse::Ready(result) => result.is_err(),
            ClassifiedResponse::RequiresEos(_) => unreachable!("never waits for the body"),
        }
    }

    #[test]
    fn server_errors_are_failures_except_503() {
        assert!(is_failure(500));
        assert!(is_failure(502));
        assert!(is_failure(504));
        assert!(!is_failure(503), "a deliberate 'not now'");
    }

    #[test]
    fn success_and_client_errors_are_not_failures() {
        for status in [200, 202, 304, 400, 401, 404, 413, 422, 429] {
            assert!(!is_failure(status), "{status}");
        }
    }

    #[test]
    fn errors_are_failures_with_their_message() {
        let class = ServerFaults.classify_error(&"connection reset");
        assert_eq!(class.to_string(), "Error: connection reset");
    }
}

//! The typed values of `[telemetry]` that can be wrong: the collector's URL and the
//! sampling ratio. A bad value stops startup with an error naming its key.

use std::fmt;

use axum::http::Uri;
use serde::{Deserialize, Serialize};

/// The path of the OTLP/HTTP traces endpoint below a collector's base URL.
const TRACES_PATH: &str = "/v1/traces";

/// `telemetry.otlp_endpoint`: the base URL of an OpenTelemetry collector's OTLP/HTTP
/// receiver (`http://otel-collector:4318`); spans are posted to `<base>/v1/traces`.
///
/// Only `http://`: the workspace builds no TLS backend, so an `https://` collector is refused
/// at startup instead of failing every export. Put a collector or sidecar on the pod's
/// network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OtlpEndpoint(String);

/// Why a `telemetry.otlp_endpoint` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("telemetry.otlp_endpoint must be the http:// base URL of an OTLP/HTTP collector, such as http://otel-collector:4318 ({problem}), got `{value}`")]
pub struct InvalidOtlpEndpoint {
    value: String,
    problem: &'static str,
}

impl OtlpEndpoint {
    pub fn parse(value: &str) -> Result<OtlpEndpoint, InvalidOtlpEndpoint> {
        let invalid = |problem| InvalidOtlpEndpoint {
            value: value.to_owned(),
            problem,
        };
        let uri: Uri = value.parse().map_err(|_| invalid("not a URL"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(invalid(
                    "https is not supported: Vexil is built without TLS; use a local collector",
                ))
            }
            _ => return Err(invalid("the scheme must be http")),
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(invalid("no host"));
        }
        if uri.query().is_some() {
            return Err(invalid("no query string allowed"));
        }
        Ok(OtlpEndpoint(value.trim_end_matches('/').to_owned()))
    }

    /// Where spans are posted: the base URL plus `/v1/traces`, unless it already ends so.
    pub fn traces_url(&self) -> String {
        if self.0.ends_with(TRACES_PATH) {
            self.0.clone()
        } else {
            format!("{}{TRACES_PATH}", self.0)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for OtlpEndpoint {
    type Error = InvalidOtlpEndpoint;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        OtlpEndpoint::parse(&value)
    }
}

impl From<OtlpEndpoint> for String {
    fn from(endpoint: OtlpEndpoint) -> String {
        endpoint.0
    }
}

impl fmt::Display for OtlpEndpoint {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// `telemetry.sample_ratio`: the share of new traces recorded, from 0 to 1 (default 1).
/// A trace that arrives from a caller keeps the caller's decision (`sampled` flag of
/// `traceparent`), so one trace is never recorded in one service and dropped in the next.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct SampleRatio(f64);

/// Why a `telemetry.sample_ratio` value was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("telemetry.sample_ratio must be between 0 and 1, got {0}")]
pub struct InvalidSampleRatio(f64);

impl SampleRatio {
    pub fn try_new(ratio: f64) -> Result<SampleRatio, InvalidSampleRatio> {
        if (0.0..=1.0).contains(&ratio) {
            Ok(SampleRatio(ratio))
        } else {
            Err(InvalidSampleRatio(ratio))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl Default for SampleRatio {
    fn default() -> Self {
        SampleRatio(1.0)
    }
}

impl TryFrom<f64> for SampleRatio {
    type Error = InvalidSampleRatio;

    fn try_from(ratio: f64) -> Result<Self, Self::Error> {
        SampleRatio::try_new(ratio)
    }
}

impl From<SampleRatio> for f64 {
    fn from(ratio: SampleRatio) -> f64 {
        ratio.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_is_an_http_base_url_below_which_traces_are_posted() {
        let endpoint = OtlpEndpoint::parse("http://otel-collector:4318/").unwrap();
        assert_eq!(endpoint.as_str(), "http://otel-collector:4318");
        assert_eq!(
            endpoint.traces_url(),
            "http://otel-collector:4318/v1/traces"
        );
        let full = OtlpEndpoint::parse("http://127.0.0.1:4318/v1/traces").unwrap();
        assert_eq!(full.traces_url(), "http://127.0.0.1:4318/v1/traces");
        let below = OtlpEndpoint::parse("http://gateway.internal/otlp").unwrap();
        assert_eq!(below.traces_url(), "http://gateway.internal/otlp/v1/traces");
    }

    #[test]
    fn a_bad_endpoint_names_the_key_and_the_problem() {
        for (value, problem) in [
            ("otel-collector:4318", "the scheme must be http"),
            ("grpc://otel-collector:4317", "the scheme must be http"),
            ("https://otel.example.com", "https is not supported"),
            ("http://", "not a URL"),
            ("http://collector:4318/?x=1", "no query string"),
            ("http://bad host", "not a URL"),
        ] {
            let error = OtlpEndpoint::parse(value).unwrap_err().to_string();
            assert!(error.starts_with("telemetry.otlp_endpoint "), "{error}");
            assert!(error.contains(problem), "{value}: {error}");
            assert!(error.contains(value), "{error}");
        }
    }

    #[test]
    fn a_sample_ratio_is_between_zero_and_one() {
        assert_eq!(SampleRatio::default().get(), 1.0);
        assert_eq!(SampleRatio::try_new(0.0).unwrap().get(), 0.0);
        assert_eq!(
            SampleRatio::try_new(1.5).unwrap_err().to_string(),
            "telemetry.sample_ratio must be between 0 and 1, got 1.5"
        );
        assert!(SampleRatio::try_new(f64::NAN).is_err());
    }
}

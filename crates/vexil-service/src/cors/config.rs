//! The `cors.*` configuration keys every service with browser routes reads, and their
//! validation.

use std::collections::HashSet;

use axum::http::{HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

/// CORS on a service's browser routes (spec 7.6), like LaunchDarkly's Relay Proxy
/// `allowedOrigin`: which `Origin`s get an `Access-Control-Allow-Origin`. The same keys
/// mean the same in every service, so one Ingress host can serve several with one policy.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorsConfig {
    /// Origins allowed for every environment without an entry of its own; empty = any
    /// origin (the request's `Origin` is echoed back).
    pub allowed_origins: Vec<String>,
    /// Request headers allowed besides the standard LaunchDarkly (and, where served,
    /// OFREP) ones.
    pub allowed_headers: Vec<String>,
    /// Per-environment lists, replacing `allowed_origins` for that environment.
    pub environments: Vec<CorsEnvironment>,
}

/// One environment's allowed origins.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsEnvironment {
    /// Project key.
    pub project: String,
    /// Environment key.
    pub environment: String,
    /// Allowed origins (`https://shop.example.com`); empty = any origin.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

/// A `cors.*` value that parses but cannot work; the message starts with the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorsConfigError {
    #[error("{key}: `{origin}` is not an origin like `https://example.com` (scheme, host and optional port, no path)")]
    Origin { key: String, origin: String },
    #[error("cors.allowed_headers: `{header}` is not a valid header name")]
    AllowedHeader { header: String },
    #[error("cors.environments: project `{project}` environment `{environment}` is listed twice")]
    DuplicateEnvironment {
        project: String,
        environment: String,
    },
}

impl CorsConfig {
    /// Checks what the types alone cannot, naming the key.
    pub fn validate(&self) -> Result<(), CorsConfigError> {
        check_origins("cors.allowed_origins", &self.allowed_origins)?;
        for header in &self.allowed_headers {
            if HeaderName::from_bytes(header.as_bytes()).is_err() {
                return Err(CorsConfigError::AllowedHeader {
                    header: header.clone(),
                });
            }
        }
        let mut seen = HashSet::new();
        for entry in &self.environments {
            if !seen.insert((&entry.project, &entry.environment)) {
                return Err(CorsConfigError::DuplicateEnvironment {
                    project: entry.project.clone(),
                    environment: entry.environment.clone(),
                });
            }
            let key = format!(
                "cors.environments ({}/{}).allowed_origins",
                entry.project, entry.environment
            );
            check_origins(&key, &entry.allowed_origins)?;
        }
        Ok(())
    }
}

/// An origin is `scheme://host[:port]`, as browsers send it in `Origin`; `*` means any.
fn check_origins(key: &str, origins: &[String]) -> Result<(), CorsConfigError> {
    for origin in origins {
        let is_valid = origin == "*"
            || origin.split_once("://").is_some_and(|(scheme, rest)| {
                !scheme.is_empty()
                    && scheme
                        .bytes()
                        .all(|byte| byte.is_ascii_alphanumeric() || b"+-.".contains(&byte))
                    && !rest.is_empty()
                    && !rest.contains(['/', '?', '#'])
                    && !rest.contains(char::is_whitespace)
                    && HeaderValue::from_str(origin).is_ok()
            });
        if !is_valid {
            return Err(CorsConfigError::Origin {
                key: key.to_owned(),
                origin: origin.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::providers::{Format, Toml};
    use figment::Figment;

    fn with_environment(origins: &[&str]) -> CorsConfig {
        CorsConfig {
            environments: vec![CorsEnvironment {
                project: "shop".into(),
                environment: "production".into(),
                allowed_origins: origins.iter().map(|&origin| origin.to_owned()).collect(),
            }],
            ..CorsConfig::default()
        }
    }

    #[test]
    fn defaults_are_valid() {
        CorsConfig::default().validate().unwrap();
    }

    #[test]
    fn origins_with_ports_and_the_wildcard_are_valid() {
        with_environment(&["https://shop.example.com", "http://localhost:3000", "*"])
            .validate()
            .unwrap();
    }

    #[test]
    fn an_origin_with_a_path_names_its_key() {
        let error = with_environment(&["https://shop.example.com/"])
            .validate()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "cors.environments (shop/production).allowed_origins: `https://shop.example.com/` \
             is not an origin like `https://example.com` (scheme, host and optional port, no path)"
        );
    }

    #[test]
    fn bad_values_name_their_key() {
        let check = |config: CorsConfig, key: &str| {
            let message = config.validate().unwrap_err().to_string();
            assert!(message.starts_with(key), "{message}");
        };
        for origin in [
            "shop.example.com",
            "://shop",
            "https://",
            "https://a b",
            "ht tp://a",
        ] {
            let config = CorsConfig {
                allowed_origins: vec![origin.into()],
                ..CorsConfig::default()
            };
            check(config, "cors.allowed_origins:");
        }
        let config = CorsConfig {
            allowed_headers: vec!["X Bad".into()],
            ..CorsConfig::default()
        };
        check(config, "cors.allowed_headers:");
        let mut config = with_environment(&[]);
        config.environments.push(config.environments[0].clone());
        check(config, "cors.environments:");
    }

    #[test]
    fn environments_read_from_toml() {
        let config: CorsConfig = Figment::new()
            .merge(Toml::string(
                r#"
                allowed_origins = ["https://app.example.com"]
                [[environments]]
                project = "shop"
                environment = "production"
                allowed_origins = ["https://shop.example.com", "http://localhost:3000"]
                "#,
            ))
            .extract()
            .unwrap();
        config.validate().unwrap();
        assert_eq!(config.allowed_origins, ["https://app.example.com"]);
        assert_eq!(config.environments[0].allowed_origins.len(), 2);
    }
}

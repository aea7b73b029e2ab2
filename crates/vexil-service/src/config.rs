//! Loads a service's typed configuration: built-in defaults, then `vexil.toml` (or the
//! file named by `VEXIL_CONFIG`), then `VEXIL_`-prefixed environment variables with `__`
//! for nesting (`VEXIL_DATABASE__URL`).

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The environment variable that names the TOML configuration file.
pub const CONFIG_FILE_VARIABLE: &str = "VEXIL_CONFIG";
/// The file read when `VEXIL_CONFIG` is not set; a missing file is not an error.
pub const DEFAULT_CONFIG_FILE: &str = "vexil.toml";
/// The prefix of environment variables that override configuration.
pub const ENV_PREFIX: &str = "VEXIL_";

/// Loads `T` from its `Default`, the TOML file and the environment, in that order of
/// precedence (later wins). Errors name the offending key.
pub fn load<T>() -> Result<T, Box<figment::Error>>
where
    T: Serialize + DeserializeOwned + Default,
{
    figment::<T>().extract().map_err(Box::new)
}

/// The figment behind [`load`], for services that want to add a provider first.
///
/// A configuration with a `telemetry` section also reads OpenTelemetry's standard
/// `OTEL_EXPORTER_OTLP_ENDPOINT` and `OTEL_SERVICE_NAME`, below the file and `VEXIL_*`, as
/// `telemetry.otlp_endpoint` and `telemetry.service_name`.
pub fn figment<T: Serialize + Default>() -> Figment {
    let defaults = Figment::from(Serialized::defaults(T::default()));
    let defaults = if defaults.find_value("telemetry").is_ok() {
        defaults.merge(otel_variables())
    } else {
        defaults
    };
    defaults
        .merge(Toml::file(Env::var_or(
            CONFIG_FILE_VARIABLE,
            DEFAULT_CONFIG_FILE,
        )))
        .merge(
            Env::prefixed(ENV_PREFIX)
                // The file's name is not a setting: every Config refuses unknown keys.
                .ignore(&["config"])
                .ignore(&VERBATIM_KEYS)
                .split("__"),
        )
        .merge(verbatim_variables())
}

/// Settings taken from the environment exactly as written. figment reads `VEXIL_*` values
/// as TOML-like values, so a token of digits would arrive as a number (and `0123` as 123);
/// secrets are strings whatever they look like.
const VERBATIM_KEYS: [&str; 2] = ["service_token", "admin_token"];

fn verbatim_variables() -> Figment {
    VERBATIM_KEYS
        .iter()
        .filter_map(|key| {
            let variable = format!("{ENV_PREFIX}{}", key.to_ascii_uppercase());
            std::env::var(variable).ok().map(|value| (*key, value))
        })
        .fold(Figment::new(), |figment, (key, value)| {
            figment.merge(Serialized::default(key, value))
        })
}

/// OpenTelemetry's standard variables for the settings Vexil has keys for.
fn otel_variables() -> Env {
    const VARIABLES: [(&str, &str); 2] = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "telemetry.otlp_endpoint"),
        ("OTEL_SERVICE_NAME", "telemetry.service_name"),
    ];
    Env::raw()
        .only(&VARIABLES.map(|(variable, _)| variable))
        .map(|variable| {
            VARIABLES
                .iter()
                .find(|(name, _)| variable == *name)
                .map_or(variable.into(), |(_, key)| (*key).into())
        })
}

/// Whether `url` can address another service's gRPC endpoint (`http://` or `https://`,
/// and accepted by tonic), for the `*.grpc_url` keys services check at startup.
pub fn is_grpc_url(url: &str) -> bool {
    (url.starts_with("http://") || url.starts_with("https://"))
        && tonic::transport::Endpoint::from_shared(url.to_owned()).is_ok()
}

/// A `Duration` written as whole milliseconds in configuration (`init_timeout = 5000`),
/// the unit of every service's timeouts and intervals: `#[serde(with = "duration_millis")]`.
pub mod duration_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(duration.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_millis)
    }
}

/// A `Duration` written as whole seconds in configuration (`change_retention = 3600`), for
/// retention periods: `#[serde(with = "duration_seconds")]`.
pub mod duration_seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(duration.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_secs)
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail closures return figment::Error
mod tests {

    #[test]
    fn grpc_urls_need_an_http_scheme() {
        assert!(super::is_grpc_url("http://127.0.0.1:8031"));
        assert!(super::is_grpc_url("https://config-api.internal:8031"));
        assert!(!super::is_grpc_url("127.0.0.1:8031"));
        assert!(!super::is_grpc_url("grpc://config-api:8031"));
        assert!(!super::is_grpc_url("http://bad host"));
    }
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    #[serde(default)]
    struct Sample {
        name: String,
        nested: Nested,
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(default)]
    struct Nested {
        port: u16,
    }

    impl Default for Nested {
        fn default() -> Self {
            Nested { port: 8030 }
        }
    }

    #[test]
    fn environment_overrides_file_which_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("custom.toml", "name = \"from-file\"\n[nested]\nport = 1")?;
            jail.set_env("VEXIL_CONFIG", "custom.toml");
            jail.set_env("VEXIL_NESTED__PORT", "9000");
            let loaded: Sample = load().map_err(|error| error.to_string())?;
            assert_eq!(
                loaded,
                Sample {
                    name: "from-file".into(),
                    nested: Nested { port: 9000 }
                }
            );
            Ok(())
        });
    }

    #[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
    #[serde(default, deny_unknown_fields)]
    struct Strict {
        name: String,
        service_token: Option<String>,
    }

    #[test]
    fn the_file_variable_is_not_read_as_a_setting() {
        figment::Jail::expect_with(|jail| {
            // Strict refuses unknown keys: the test environment's own VEXIL_TEST_* must go.
            jail.clear_env();
            jail.create_file("custom.toml", "name = \"from-file\"")?;
            jail.set_env("VEXIL_CONFIG", "custom.toml");
            let loaded: Strict = load().map_err(|error| error.to_string())?;
            assert_eq!(loaded.name, "from-file");
            Ok(())
        });
    }

    #[test]
    fn tokens_stay_strings_even_when_they_look_like_numbers() {
        figment::Jail::expect_with(|jail| {
            jail.clear_env();
            jail.set_env("VEXIL_SERVICE_TOKEN", "0123");
            let loaded: Strict = load().map_err(|error| error.to_string())?;
            assert_eq!(loaded.service_token.as_deref(), Some("0123"));
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_names_its_key() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("VEXIL_NESTED__PORT", "not-a-port");
            let error = load::<Sample>().unwrap_err().to_string();
            assert!(
                error.contains("NESTED.PORT") && error.contains("VEXIL_"),
                "{error}"
            );
            Ok(())
        });
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(default)]
    struct Timing {
        #[serde(with = "duration_millis")]
        timeout: std::time::Duration,
        #[serde(with = "duration_seconds")]
        retention: std::time::Duration,
    }

    impl Default for Timing {
        fn default() -> Self {
            Timing {
                timeout: std::time::Duration::from_millis(2500),
                retention: std::time::Duration::from_secs(3600),
            }
        }
    }

    #[test]
    fn durations_are_milliseconds_or_seconds_in_files_and_variables() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("vexil.toml", "timeout = 1500")?;
            jail.set_env("VEXIL_RETENTION", "60");
            let loaded: Timing = load().map_err(|error| error.to_string())?;
            assert_eq!(loaded.timeout, std::time::Duration::from_millis(1500));
            assert_eq!(loaded.retention, std::time::Duration::from_secs(60));
            Ok(())
        });
    }

    #[test]
    fn durations_survive_the_defaults_provider() {
        figment::Jail::expect_with(|_jail| {
            let loaded: Timing = load().map_err(|error| error.to_string())?;
            assert_eq!(loaded, Timing::default());
            Ok(())
        });
    }

    #[test]
    fn a_duration_must_be_a_whole_number() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("VEXIL_TIMEOUT", "1.5s");
            let error = load::<Timing>().unwrap_err().to_string();
            assert!(error.contains("TIMEOUT"), "{error}");
            Ok(())
        });
    }
}

//! What `vexil up` runs on, checked before anything starts: a bad value is an input error
//! (exit code 2) naming the option, not a connection failure minutes later.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::cli::UpArgs;
use crate::error::InputError;

const DATABASE_URL: &str = "--database-url (or VEXIL_DATABASE__URL)";
const DATA_DIR: &str = "--data-dir";
const REDIS_URL: &str = "--redis-url (or VEXIL_REDIS__URL)";
const KAFKA_BROKERS: &str = "--kafka-brokers (or VEXIL_KAFKA__BROKERS)";

/// The checked command line of `vexil up`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub databases: Databases,
    /// `None`: the gateway keeps its persistent copy in memory.
    pub redis_url: Option<String>,
    /// `None`: events go through the embedded queue in the data directory.
    pub kafka_brokers: Option<String>,
    pub data_dir: PathBuf,
    pub api_listen: SocketAddr,
    pub sdk_listen: SocketAddr,
    pub create_demo: bool,
}

/// The `database.url` of config-api and of the analytics worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Databases {
    pub config_api: String,
    pub worker: String,
}

impl Databases {
    /// The given PostgreSQL for both (each keeps its own schema), or, without one, a SQLite
    /// file each in the data directory: one writer per file, and neither service reads the
    /// other's tables.
    fn choose(database_url: Option<&str>, data_dir: &Path) -> Result<Databases, InputError> {
        match database_url {
            Some(url) => {
                check_database_url(url)?;
                Ok(Databases {
                    config_api: url.to_owned(),
                    worker: url.to_owned(),
                })
            }
            None => Ok(Databases {
                config_api: sqlite_url(&data_dir.join("config.db"))?,
                worker: sqlite_url(&data_dir.join("analytics.db"))?,
            }),
        }
    }
}

/// `sqlite://path`, with the characters the driver would read as URL syntax escaped (it
/// percent-decodes the path).
fn sqlite_url(path: &Path) -> Result<String, InputError> {
    let path = path.to_str().ok_or_else(|| InputError::Setting {
        setting: DATA_DIR,
        problem: "must be a path in UTF-8 (it becomes part of the SQLite database URL)".into(),
    })?;
    let mut url = String::from("sqlite://");
    for character in path.chars() {
        match character {
            '%' => url.push_str("%25"),
            '?' => url.push_str("%3F"),
            '#' => url.push_str("%23"),
            other => url.push(other),
        }
    }
    Ok(url)
}

impl Settings {
    pub fn from_args(args: &UpArgs) -> Result<Settings, InputError> {
        let databases = Databases::choose(args.database_url.as_deref(), &args.data_dir)?;
        if let Some(redis_url) = &args.redis_url {
            check_scheme(REDIS_URL, redis_url, &["redis", "rediss"])?;
        }
        if let Some(brokers) = &args.kafka_brokers {
            check_brokers(brokers)?;
        }
        Ok(Settings {
            databases,
            redis_url: args.redis_url.clone(),
            kafka_brokers: args.kafka_brokers.clone(),
            data_dir: args.data_dir.clone(),
            api_listen: args.api_listen,
            sdk_listen: args.sdk_listen,
            create_demo: !args.no_demo,
        })
    }
}

/// The services' own check (`vexil_service::database`), in the words of this command line.
fn check_database_url(url: &str) -> Result<(), InputError> {
    use vexil_service::database::{check_url, DatabaseConfigError};
    let problem = match check_url(url) {
        Ok(()) => return Ok(()),
        Err(DatabaseConfigError::Url(_)) => "is not a valid PostgreSQL URL",
        Err(_) => "must be a URL starting with postgres:// or postgresql://",
    };
    Err(InputError::Setting {
        setting: DATABASE_URL,
        problem: problem.into(),
    })
}

/// Only the scheme is checked here; the driver parses the rest when it connects. The value
/// itself is never echoed: it may hold a password.
fn check_scheme(setting: &'static str, url: &str, schemes: &[&str]) -> Result<(), InputError> {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    match scheme {
        Some(scheme) if schemes.contains(&scheme) => Ok(()),
        _ => Err(InputError::Setting {
            setting,
            problem: format!("must be a URL starting with {}://", schemes.join(":// or ")),
        }),
    }
}

fn check_brokers(brokers: &str) -> Result<(), InputError> {
    let problem = |problem: String| InputError::Setting {
        setting: KAFKA_BROKERS,
        problem,
    };
    if brokers.trim().is_empty() {
        return Err(problem("is empty; give host:port[,host:port...]".into()));
    }
    for broker in brokers.split(',').map(str::trim) {
        let port = broker
            .rsplit_once(':')
            .map(|(host, port)| (host, port.parse::<u16>()));
        match port {
            Some((host, Ok(port))) if !host.is_empty() && port > 0 => {}
            _ => {
                return Err(problem(format!(
                    "{broker:?} is not host:port (a port from 1 to 65535)"
                )))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> UpArgs {
        UpArgs {
            database_url: Some("postgres://vexil:secret@db/vexil".into()),
            redis_url: Some("redis://cache:6379".into()),
            kafka_brokers: Some("kafka-1:9092, kafka-2:9092".into()),
            data_dir: "vexil-data".into(),
            api_listen: "127.0.0.1:8030".parse().unwrap(),
            sdk_listen: "127.0.0.1:8040".parse().unwrap(),
            no_demo: false,
        }
    }

    #[test]
    fn good_settings_pass() {
        let settings = Settings::from_args(&args()).unwrap();
        assert!(settings.create_demo);
        assert_eq!(
            settings.kafka_brokers.as_deref(),
            Some("kafka-1:9092, kafka-2:9092")
        );
    }

    #[test]
    fn redis_and_kafka_are_optional() {
        let mut args = args();
        args.redis_url = None;
        args.kafka_brokers = None;
        let settings = Settings::from_args(&args).unwrap();
        assert_eq!(settings.redis_url, None);
        assert_eq!(settings.kafka_brokers, None);
    }

    #[test]
    fn a_database_url_serves_both_services() {
        let settings = Settings::from_args(&args()).unwrap();
        assert_eq!(
            settings.databases.config_api,
            "postgres://vexil:secret@db/vexil"
        );
        assert_eq!(
            settings.databases.worker,
            "postgres://vexil:secret@db/vexil"
        );
    }

    #[test]
    fn without_a_database_url_each_service_has_a_sqlite_file_in_the_data_dir() {
        let mut args = args();
        args.database_url = None;
        args.data_dir = "/srv/vexil?#%/data".into();
        let databases = Settings::from_args(&args).unwrap().databases;
        assert_eq!(
            databases.config_api,
            "sqlite:///srv/vexil%3F%23%25/data/config.db"
        );
        assert_eq!(
            databases.worker,
            "sqlite:///srv/vexil%3F%23%25/data/analytics.db"
        );
        // The driver reads back the path it was given.
        let options: sqlx::sqlite::SqliteConnectOptions = databases.config_api.parse().unwrap();
        assert_eq!(
            options.get_filename(),
            Path::new("/srv/vexil?#%/data/config.db")
        );
        vexil_service::database::check_url_for(
            &databases.worker,
            &[vexil_service::database::DatabaseKind::Sqlite],
        )
        .unwrap();
    }

    #[test]
    fn a_wrong_scheme_names_the_option_and_hides_the_value() {
        let mut args = args();
        args.database_url = Some("mysql://vexil:secret@db/vexil".into());
        let message = Settings::from_args(&args).unwrap_err().to_string();
        assert_eq!(
            message,
            "--database-url (or VEXIL_DATABASE__URL): must be a URL starting with postgres:// or postgresql://"
        );
        assert!(!message.contains("secret"));

        let mut args = self::args();
        args.database_url = Some("postgres://vexil:secret@db:notaport/vexil".into());
        let message = Settings::from_args(&args).unwrap_err().to_string();
        assert_eq!(
            message,
            "--database-url (or VEXIL_DATABASE__URL): is not a valid PostgreSQL URL"
        );

        let mut args = self::args();
        args.redis_url = Some("localhost:6379".into());
        let message = Settings::from_args(&args).unwrap_err().to_string();
        assert!(
            message.starts_with("--redis-url (or VEXIL_REDIS__URL):"),
            "{message}"
        );
    }

    #[test]
    fn brokers_must_each_be_host_and_port() {
        for (brokers, expected) in [
            ("", "is empty"),
            ("kafka", "\"kafka\" is not host:port"),
            ("kafka:0", "\"kafka:0\" is not host:port"),
            ("kafka:9092,:9092", "\":9092\" is not host:port"),
        ] {
            let mut args = args();
            args.kafka_brokers = Some(brokers.into());
            let message = Settings::from_args(&args).unwrap_err().to_string();
            assert!(
                message.starts_with("--kafka-brokers (or VEXIL_KAFKA__BROKERS): "),
                "{message}"
            );
            assert!(message.contains(expected), "{brokers}: {message}");
        }
    }
}

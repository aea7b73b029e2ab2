//! Resources of one scenario on the shared test servers, under names no other run uses:
//! PostgreSQL databases, Kafka topics and a consumer group, a Redis key prefix. Removal
//! goes by name and ignores what does not exist, so it also cleans up after a scenario
//! that failed half-way.

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use crate::test_env::required_var;

/// Bounds each call to a server made while creating or removing resources.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// The names of one scenario's resources; nothing exists until it is created.
#[derive(Debug, Clone)]
pub struct Scratch {
    /// `{prefix}-{pid}-{nanos}`: unique across runs against long-lived servers.
    unique: String,
}

impl Scratch {
    pub fn new(prefix: &str) -> Scratch {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos();
        Scratch {
            unique: format!("{prefix}-{}-{nanos}", std::process::id()),
        }
    }

    /// A PostgreSQL database name for `role` (lowercase, so it needs no quoting rules).
    pub fn database(&self, role: &str) -> String {
        format!("{}_{role}", self.unique.replace('-', "_"))
    }

    /// A Kafka topic (or consumer group) name for `role`.
    pub fn kafka_name(&self, role: &str) -> String {
        format!("{}-{role}", self.unique)
    }

    /// A Redis key prefix; every key under `{prefix}:` is removed at the end.
    pub fn redis_prefix(&self) -> String {
        self.unique.clone()
    }

    /// Creates the database `name` on the `DATABASE_URL` server and returns a pool on it.
    pub async fn create_database(&self, name: &str) -> PgPool {
        let server = server_options();
        let mut connection = connect(&server).await;
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut connection)
            .await
            .unwrap_or_else(|error| panic!("failed to create database {name}: {error}"));
        connection.close().await.ok();
        PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(CALL_TIMEOUT)
            .connect_with(server.database(name))
            .await
            .unwrap_or_else(|error| panic!("failed to connect to database {name}: {error}"))
    }

    /// Creates `topics` as (name, partitions) on `VEXIL_TEST_KAFKA_BROKERS`.
    pub async fn create_topics(&self, topics: &[(&str, i32)]) {
        let brokers = required_var("VEXIL_TEST_KAFKA_BROKERS");
        let new_topics: Vec<NewTopic> = topics
            .iter()
            .map(|(name, partitions)| NewTopic::new(name, *partitions, TopicReplication::Fixed(1)))
            .collect();
        let results = admin(&brokers)
            .create_topics(&new_topics, &admin_options())
            .await
            .unwrap_or_else(|error| panic!("failed to create topics on {brokers}: {error}"));
        for result in results {
            if let Err((name, code)) = result {
                panic!("broker {brokers} refused to create topic {name}: {code}");
            }
        }
    }

    /// Drops `databases`, deletes `topics` and `groups` and the Redis keys under the
    /// prefix. Best effort: a failure is printed, never raised, so it cannot hide the
    /// scenario's own outcome.
    pub async fn remove(&self, databases: &[String], topics: &[String], groups: &[String]) {
        let server = server_options();
        match PgConnection::connect_with(&server).await {
            Ok(mut connection) => {
                for name in databases {
                    // FORCE ends the connections of services that a failed scenario left.
                    let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    if let Err(error) = sqlx::query(&drop).execute(&mut connection).await {
                        eprintln!("cleanup: failed to drop database {name}: {error}");
                    }
                }
                connection.close().await.ok();
            }
            Err(error) => eprintln!("cleanup: cannot connect to DATABASE_URL: {error}"),
        }

        let brokers = required_var("VEXIL_TEST_KAFKA_BROKERS");
        let admin = admin(&brokers);
        let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
        if !topics.is_empty() {
            match admin.delete_topics(&topics, &admin_options()).await {
                Ok(results) => {
                    for (name, code) in results.into_iter().filter_map(Result::err) {
                        eprintln!("cleanup: failed to delete topic {name}: {code}");
                    }
                }
                Err(error) => eprintln!("cleanup: failed to delete topics {topics:?}: {error}"),
            }
        }
        let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
        if !groups.is_empty() {
            if let Err(error) = admin.delete_groups(&groups, &admin_options()).await {
                eprintln!("cleanup: failed to delete consumer groups {groups:?}: {error}");
            }
        }

        if let Err(error) = delete_redis_keys(&self.redis_prefix()) {
            eprintln!("cleanup: failed to delete Redis keys: {error}");
        }
    }
}

fn server_options() -> PgConnectOptions {
    let url = required_var("DATABASE_URL");
    PgConnectOptions::from_str(&url)
        .unwrap_or_else(|error| panic!("DATABASE_URL ({url}) is not a PostgreSQL URL: {error}"))
}

async fn connect(options: &PgConnectOptions) -> PgConnection {
    PgConnection::connect_with(options)
        .await
        .unwrap_or_else(|error| panic!("PostgreSQL at DATABASE_URL is not reachable: {error}"))
}

fn admin(brokers: &str) -> AdminClient<DefaultClientContext> {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("socket.timeout.ms", CALL_TIMEOUT.as_millis().to_string())
        .create()
        .expect("creating Kafka admin client")
}

fn admin_options() -> AdminOptions {
    AdminOptions::new()
        .request_timeout(Some(CALL_TIMEOUT))
        .operation_timeout(Some(CALL_TIMEOUT))
}

fn delete_redis_keys(prefix: &str) -> redis::RedisResult<()> {
    let client = redis::Client::open(required_var("VEXIL_TEST_REDIS_URL"))?;
    let mut connection = client.get_connection_with_timeout(CALL_TIMEOUT)?;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query(&mut connection)?;
    if !keys.is_empty() {
        redis::cmd("DEL").arg(keys).query::<()>(&mut connection)?;
    }
    Ok(())
}

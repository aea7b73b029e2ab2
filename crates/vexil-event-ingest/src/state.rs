//! `AppState`: the handles every request uses, and their start and close.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use vexil_queue::kafka::{self, KafkaProducer};
use vexil_queue::Producer;
use vexil_service::cors::CorsPolicy;
use vexil_service::health::Readiness;

use crate::config::Config;
use crate::credentials::CredentialResolver;
use crate::metrics::IngestMetrics;
use crate::sink::EventSink;

/// The longest startup waits for the brokers to create the topic.
const TOPIC_CREATION_TIMEOUT: Duration = Duration::from_secs(30);

/// What every request reads, behind one `Arc`: axum clones the state for each request,
/// and cloning the fields one by one (the config-api channel, the metric families) took
/// about 1 % of ingest's CPU at 50 events per request (BENCHMARKS.md).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub resolver: CredentialResolver,
    /// Kafka, or the embedded queue in `vexil up`.
    pub events: EventSink,
    pub metrics: IngestMetrics,
    pub readiness: Readiness,
    /// `http.body_limit_bytes`: before and after decompression.
    pub body_limit_bytes: usize,
    pub cors: Arc<CorsPolicy>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// Creates the Kafka producer (`vexil_queue::kafka`'s, configured from `kafka.*`) and the
    /// credential resolver, and the topic when configured. config-api need not be reachable
    /// yet; the brokers must be when the topic is created.
    pub async fn connect(config: &Config) -> anyhow::Result<AppState> {
        // `Config::load` validated it already; a configuration built in code gets the same.
        config.validate().context("invalid configuration")?;
        let options = config.kafka.queue_options();
        if config.kafka.create_topic {
            let partitions = u32::try_from(config.kafka.topic_partitions)
                .expect("validated: kafka.topic_partitions is at least 1");
            kafka::create_topic(
                &options,
                &config.kafka.topic,
                partitions,
                TOPIC_CREATION_TIMEOUT,
            )
            .await
            .with_context(|| {
                format!(
                    "making sure topic {} exists (kafka.create_topic)",
                    config.kafka.topic
                )
            })?;
        }
        let producer =
            KafkaProducer::new(&options).context("creating the Kafka producer (kafka.*)")?;
        AppState::with_queue(config, Arc::new(producer))
    }

    /// As [`AppState::connect`], appending events to `queue` instead (`vexil up`'s embedded
    /// queue, which creates `kafka.topic` on first use): the other `kafka.*` keys are not
    /// read, and the queue's own append timeout bounds a request's wait.
    pub fn with_queue(config: &Config, queue: Arc<dyn Producer>) -> anyhow::Result<AppState> {
        config.validate().context("invalid configuration")?;
        let resolver = CredentialResolver::new(
            &config.config_api,
            &config.credentials,
            config.service_token.as_deref(),
        )
        .context("preparing the config-api client")?;
        Ok(AppState(Arc::new(Shared {
            resolver,
            events: EventSink::new(queue, &config.kafka.topic),
            metrics: IngestMetrics::new(),
            readiness: Readiness::default(),
            body_limit_bytes: config.http.body_limit_bytes,
            cors: Arc::new(CorsPolicy::new(&config.cors)),
        })))
    }

    /// Gives records the producer still holds up to `grace` to be acknowledged.
    pub async fn close(&self, grace: Duration) {
        self.readiness.set_not_ready();
        self.events.close(grace).await;
    }
}

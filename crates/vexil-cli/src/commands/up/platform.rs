//! Starts the four services in this process, each from its own library, wired to each other
//! over loopback gRPC exactly as in a distributed deployment: config-api's admin API on
//! `--api-listen`, the gateway and ingest together on `--sdk-listen` (`sdk_port.rs`), and the
//! internal gRPC ports and the worker's HTTP port on ephemeral loopback ports. The SDK port's
//! `/metrics` gathers config-api's and the worker's from those listeners.
//!
//! A random service token, new at every start, authenticates the services to each other.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use vexil_queue::embedded::{EmbeddedOptions, EmbeddedQueue};
use vexil_stream_gateway::config::PersistenceKind;

use super::sdk_port;
use super::settings::Settings;

/// How long each service may take to report ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the services get to finish their work after the stop signal.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

type Outcome = (&'static str, anyhow::Result<()>);

/// The running services.
pub struct Platform {
    api_address: SocketAddr,
    sdk_address: SocketAddr,
    shutdown: CancellationToken,
    services: JoinSet<Outcome>,
    /// The embedded event queue, when no Kafka brokers were given; closed after the
    /// services stop.
    queue: Option<Arc<EmbeddedQueue>>,
}

impl Platform {
    /// Starts everything and returns once every service reports ready.
    pub async fn start(settings: &Settings, admin_token: &str) -> anyhow::Result<Platform> {
        let api_http = bind(settings.api_listen, "--api-listen").await?;
        let sdk_http = bind(settings.sdk_listen, "--sdk-listen").await?;
        let loopback = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
        let config_api_grpc = bind(loopback, "config-api's gRPC port").await?;
        let worker_http = bind(loopback, "the analytics worker's HTTP port").await?;
        let worker_grpc = bind(loopback, "the analytics worker's gRPC port").await?;
        let config_api_grpc_url = format!("http://{}", config_api_grpc.local_addr()?);
        let worker_grpc_url = format!("http://{}", worker_grpc.local_addr()?);
        let worker_address = worker_http.local_addr()?;
        let service_token = vexil_config_api::secrets::new_api_token();

        let mut platform = Platform {
            api_address: api_http.local_addr()?,
            sdk_address: sdk_http.local_addr()?,
            shutdown: CancellationToken::new(),
            services: JoinSet::new(),
            queue: match &settings.kafka_brokers {
                Some(_) => None,
                None => Some(open_queue(settings).await?),
            },
        };
        let shutdown = platform.shutdown.clone();

        // Ingest first: on Kafka it creates the events topic, which the worker must find
        // when it subscribes (a consumer learns of a topic created later only at its next
        // metadata refresh, minutes away).
        let mut ingest = vexil_event_ingest::config::Config {
            service_token: Some(service_token.clone()),
            ..Default::default()
        };
        ingest.config_api.grpc_url = config_api_grpc_url.clone();
        let grace = ingest.http.shutdown_grace;
        // The queue is open exactly when no brokers were given.
        let brokers = settings.kafka_brokers.clone().unwrap_or_default();
        let ingest = match &platform.queue {
            Some(queue) => {
                ingest.kafka.topic = embedded_topic(&ingest.kafka.topic);
                vexil_event_ingest::state::AppState::with_queue(&ingest, queue.clone())
            }
            None => {
                ingest.kafka.brokers = brokers.clone();
                vexil_event_ingest::state::AppState::connect(&ingest).await
            }
        }
        .context("starting event ingest")?;
        let ingest_routes = vexil_event_ingest::routes::router(ingest.clone());

        let mut worker = vexil_analytics_worker::config::Config {
            service_token: Some(service_token.clone()),
            ..Default::default()
        };
        worker.database.url = settings.databases.worker.clone();
        let worker_service = shutdown.clone();
        match &platform.queue {
            Some(queue) => {
                let queue = queue.clone();
                worker.kafka.topic = embedded_topic(&worker.kafka.topic);
                worker.kafka.dead_letter_topic = embedded_topic(&worker.kafka.dead_letter_topic);
                platform.spawn("analytics-worker", async move {
                    let store = vexil_analytics_worker::store::connect(&worker.database).await?;
                    let served = vexil_analytics_worker::serve_with_queue(
                        worker,
                        store.clone(),
                        queue.clone(),
                        queue,
                        worker_http,
                        worker_grpc,
                        worker_service,
                    )
                    .await;
                    store.close().await;
                    served
                });
            }
            None => {
                worker.kafka.brokers = brokers;
                platform.spawn(
                    "analytics-worker",
                    vexil_analytics_worker::run(worker, worker_http, worker_grpc, worker_service),
                );
            }
        }

        let mut config_api = vexil_config_api::config::Config {
            admin_token: Some(admin_token.to_owned()),
            service_token: Some(service_token.clone()),
            ..Default::default()
        };
        config_api.database.url = settings.databases.config_api.clone();
        config_api.analytics.grpc_url = worker_grpc_url;
        platform.spawn(
            "config-api",
            vexil_config_api::run(config_api, api_http, config_api_grpc, shutdown.clone()),
        );
        platform
            .wait_until_ready("config-api", platform.api_address)
            .await?;

        let mut gateway = vexil_stream_gateway::config::Config {
            service_token: Some(service_token),
            ..Default::default()
        };
        gateway.config_api.grpc_url = config_api_grpc_url;
        match &settings.redis_url {
            Some(url) => gateway.redis.url = url.clone(),
            None => gateway.persistence.kind = PersistenceKind::Memory,
        }
        gateway
            .validate()
            .context("configuring the stream gateway")?;
        let gateway = vexil_stream_gateway::startup::Gateway::start(&gateway, shutdown.clone())
            .context("starting the stream gateway")?;
        let gateway_routes = vexil_stream_gateway::routes::router(gateway.state.clone());

        ingest.readiness.set_ready();
        let scraped = sdk_port::ScrapedServices {
            config_api: format!("{}/metrics", url(platform.api_address)),
            analytics_worker: format!("{}/metrics", url(worker_address)),
        };
        let app = sdk_port::router(gateway_routes, ingest_routes, scraped)?;
        platform.spawn("SDK port", async move {
            let served = axum::serve(sdk_http, app.into_make_service())
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await
                .context("serving the SDK port");
            gateway.close().await;
            ingest.close(grace).await;
            served
        });
        platform
            .wait_until_ready("stream gateway", platform.sdk_address)
            .await?;
        platform
            .wait_until_ready("analytics-worker", worker_address)
            .await?;
        Ok(platform)
    }

    /// The admin REST API's base URL.
    pub fn api_url(&self) -> String {
        url(self.api_address)
    }

    /// The URL of every SDK path.
    pub fn sdk_url(&self) -> String {
        url(self.sdk_address)
    }

    /// Waits until the gateway serves the environment of `sdk_key` (a new environment
    /// reaches it through the FlagSync watch a moment after config-api created it), so an
    /// SDK started after the banner never meets a key the gateway does not know yet.
    pub async fn wait_for_sdk_key(&mut self, sdk_key: &str) -> anyhow::Result<()> {
        let poll = format!("{}/sdk/latest-all", self.sdk_url());
        self.poll_until_success("the stream gateway did not serve the demo", |client| {
            client.get(&poll).header("authorization", sdk_key)
        })
        .await
    }

    /// Waits for `signal`, or for a service to stop on its own, which is an error.
    pub async fn wait(&mut self, signal: CancellationToken) -> anyhow::Result<()> {
        tokio::select! {
            _ = signal.cancelled() => Ok(()),
            joined = self.services.join_next() => Err(stopped(joined)),
        }
    }

    /// Stops every service and waits for them to finish their work.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        let stopping = async {
            while let Some(joined) = self.services.join_next().await {
                match joined {
                    Ok((_, Ok(()))) => {}
                    Ok((name, Err(error))) => tracing::error!(service = name, "{error:#}"),
                    Err(error) => tracing::error!(%error, "a service task failed"),
                }
            }
        };
        if tokio::time::timeout(STOP_TIMEOUT, stopping).await.is_err() {
            tracing::warn!(timeout = ?STOP_TIMEOUT, "services did not stop in time");
        }
        if let Some(queue) = &self.queue {
            queue.close().await;
        }
    }

    fn spawn(
        &mut self,
        name: &'static str,
        service: impl std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    ) {
        self.services.spawn(async move { (name, service.await) });
    }

    /// Polls `GET /health/ready` at `address` until it answers 200, failing early when a
    /// service stops meanwhile (a database that cannot be reached, say).
    async fn wait_until_ready(&mut self, name: &str, address: SocketAddr) -> anyhow::Result<()> {
        let ready = format!("{}/health/ready", url(address));
        let failure = format!("{name} did not report ready");
        self.poll_until_success(&failure, |client| client.get(&ready))
            .await
    }

    /// Sends the request `build` makes until it answers with a success status; fails with
    /// `failure` after [`READY_TIMEOUT`], or at once when a service stops meanwhile.
    async fn poll_until_success(
        &mut self,
        failure: &str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        loop {
            let answer = build(&client).send().await;
            if answer.is_ok_and(|response| response.status().is_success()) {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                bail!("{failure} within {READY_TIMEOUT:?}");
            }
            tokio::select! {
                joined = self.services.join_next() => return Err(stopped(joined)),
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
        }
    }
}

/// The error for a service that stopped before it was asked to.
fn stopped(joined: Option<Result<Outcome, tokio::task::JoinError>>) -> anyhow::Error {
    match joined {
        Some(Ok((name, Err(error)))) => error.context(format!("{name} stopped")),
        Some(Ok((name, Ok(())))) => anyhow!("{name} stopped unexpectedly"),
        Some(Err(error)) => anyhow!("a service task failed: {error}"),
        None => anyhow!("no service is running"),
    }
}

/// A topic's name in the embedded queue. The worker keeps its offsets in its database by
/// topic and partition, and the embedded queue's offsets are not Kafka's: with names of
/// their own, switching `vexil up` between Kafka and the embedded queue on one database
/// never resumes one at the other's offsets.
fn embedded_topic(kafka_topic: &str) -> String {
    format!("embedded.{kafka_topic}")
}

/// The embedded event queue in `{data dir}/queue`, in place of Kafka.
async fn open_queue(settings: &Settings) -> anyhow::Result<Arc<EmbeddedQueue>> {
    let dir = settings.data_dir.join("queue");
    // A request waits for the disk as long as it would wait for Kafka.
    let options = EmbeddedOptions {
        append_timeout: vexil_event_ingest::config::Config::default()
            .kafka
            .produce_timeout,
        ..EmbeddedOptions::default()
    };
    let queue = EmbeddedQueue::open(&dir, options)
        .await
        .with_context(|| format!("opening the event queue in {}", dir.display()))?;
    Ok(Arc::new(queue))
}

async fn bind(address: SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address)
        .await
        .with_context(|| format!("binding {what} on {address}"))
}

/// An address clients can use: a wildcard listen address is reached over loopback.
fn url(address: SocketAddr) -> String {
    let host = match address.ip() {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(host, address.port()))
}

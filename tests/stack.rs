//! The four Vexil services in this process on `127.0.0.1:0`, wired as in production:
//! config-api (flags, REST, gRPC), the stream gateway and event ingest (both resolving SDK
//! keys through config-api's gRPC), and analytics-worker (consuming ingest's topic,
//! answering config-api's analytics endpoints).

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::scratch::Scratch;
use crate::test_env::required_var;

pub const ADMIN_TOKEN: &str = "vexil-system-test-admin-token";
/// What config-api expects from the gateway and ingest, and the worker from config-api.
pub const SERVICE_TOKEN: &str = "vexil-system-test-service-token";

/// How long a service may take to start or to stop.
const START_STOP_DEADLINE: Duration = Duration::from_secs(30);

/// Where the services keep their state: one database each for config-api and the worker
/// (both track migrations in `_sqlx_migrations`, so they cannot share one), the events
/// topic and its dead letters, the worker's consumer group, the gateway's Redis prefix.
pub struct Resources {
    pub config_api_pool: PgPool,
    pub worker_pool: PgPool,
    pub events_topic: String,
    pub dead_letter_topic: String,
    pub consumer_group: String,
    pub redis_prefix: String,
}

/// The running services; each stops when dropped, [`Stack::stop`] waits for them.
pub struct Stack {
    pub config_api: Service,
    pub gateway: Service,
    pub ingest: Service,
    pub worker: Service,
    client: reqwest::Client,
}

impl Stack {
    /// Starts the worker, config-api, the gateway and ingest, each once the ones it calls
    /// are listening, and returns when all four report ready.
    pub async fn start(resources: Resources) -> Stack {
        let brokers = required_var("VEXIL_TEST_KAFKA_BROKERS");
        let client = reqwest::Client::new();

        let worker_http = bind().await;
        let worker_grpc = bind().await;
        let worker_grpc_address = address(&worker_grpc);
        let mut worker = {
            let mut config = vexil_analytics_worker::config::Config::default();
            config.kafka.brokers = brokers.clone();
            config.kafka.topic = resources.events_topic.clone();
            config.kafka.dead_letter_topic = resources.dead_letter_topic;
            config.kafka.group_id = resources.consumer_group;
            config.kafka.batch_linger = Duration::from_millis(50);
            config.service_token = Some(SERVICE_TOKEN.into());
            Service::spawn("analytics-worker", address(&worker_http), |shutdown| {
                vexil_analytics_worker::serve(
                    config,
                    resources.worker_pool,
                    worker_http,
                    worker_grpc,
                    shutdown,
                )
            })
        };

        let config_api_http = bind().await;
        let config_api_grpc = bind().await;
        let config_api_grpc_address = address(&config_api_grpc);
        let mut config_api = {
            let mut config = vexil_config_api::config::Config {
                admin_token: Some(ADMIN_TOKEN.into()),
                service_token: Some(SERVICE_TOKEN.into()),
                ..Default::default()
            };
            config.analytics.grpc_url = format!("http://{worker_grpc_address}");
            Service::spawn("config-api", address(&config_api_http), |shutdown| {
                vexil_config_api::serve(
                    config,
                    resources.config_api_pool,
                    config_api_http,
                    config_api_grpc,
                    shutdown,
                )
            })
        };
        config_api.wait_until_ready(&client).await;

        let gateway_http = bind().await;
        let mut gateway = {
            let mut config = vexil_stream_gateway::config::Config {
                service_token: Some(SERVICE_TOKEN.into()),
                ..Default::default()
            };
            config.config_api.grpc_url = format!("http://{config_api_grpc_address}");
            config.config_api.init_timeout = Duration::from_secs(10);
            config.redis.url = required_var("VEXIL_TEST_REDIS_URL");
            config.redis.prefix = resources.redis_prefix;
            config.validate().expect("a valid gateway configuration");
            Service::spawn("stream-gateway", address(&gateway_http), |shutdown| {
                vexil_stream_gateway::run(config, gateway_http, shutdown)
            })
        };

        let ingest_http = bind().await;
        let mut ingest = {
            let mut config = vexil_event_ingest::config::Config {
                service_token: Some(SERVICE_TOKEN.into()),
                ..Default::default()
            };
            config.config_api.grpc_url = format!("http://{config_api_grpc_address}");
            config.kafka.brokers = brokers;
            config.kafka.topic = resources.events_topic;
            // The scenario created the topic with the partitions it wants.
            config.kafka.create_topic = false;
            config.kafka.produce_timeout = Duration::from_secs(10);
            config
                .validate()
                .expect("a valid event ingest configuration");
            Service::spawn("event-ingest", address(&ingest_http), |shutdown| {
                vexil_event_ingest::run(config, ingest_http, shutdown)
            })
        };

        for service in [&mut worker, &mut gateway, &mut ingest] {
            service.wait_until_ready(&client).await;
        }
        Stack {
            config_api,
            gateway,
            ingest,
            worker,
            client,
        }
    }

    /// Calls config-api's REST API as the admin; returns the status and the JSON body
    /// (`null` when empty).
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let url = format!("{}/api/v1{path}", self.config_api.url());
        let mut request = self
            .client
            .request(method.clone(), &url)
            .bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{method} {url} failed: {error}"));
        let status = response.status();
        let bytes = response.bytes().await.unwrap();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "{method} {url} answered {status} with a body that is not JSON: {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        (status, json)
    }

    /// Stops the services in the order that lets each finish its work: the SDK-facing
    /// ones first (ingest flushes its producer), then the worker, then config-api.
    pub async fn stop(self) {
        let Stack {
            config_api,
            gateway,
            ingest,
            worker,
            client: _,
        } = self;
        for service in [gateway, ingest, worker, config_api] {
            service.stop().await;
        }
    }
}

/// The scratch resources of one whole-stack scenario: a database for config-api and one for
/// the worker (they cannot share `_sqlx_migrations`'s old home), the events and dead-letter
/// topics, and the worker's consumer group.
#[derive(Clone)]
pub struct Names {
    pub config_api_database: String,
    pub worker_database: String,
    pub events_topic: String,
    pub dead_letter_topic: String,
    pub consumer_group: String,
}

impl Names {
    pub fn of(scratch: &Scratch) -> Names {
        Names {
            config_api_database: scratch.database("config_api"),
            worker_database: scratch.database("worker"),
            events_topic: scratch.kafka_name("events"),
            dead_letter_topic: scratch.kafka_name("dead-letters"),
            consumer_group: scratch.kafka_name("analytics-worker"),
        }
    }
}

/// Runs `scenario` on fresh scratch resources named after `prefix`, as a task, so that the
/// resources are removed whether it passes or panics; its panic is raised again afterwards.
pub async fn run_scenario<F, Fut>(prefix: &str, scenario: F)
where
    F: FnOnce(Scratch, Names) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let scratch = Scratch::new(prefix);
    let names = Names::of(&scratch);
    let outcome = tokio::spawn(scenario(scratch.clone(), names.clone())).await;
    scratch
        .remove(
            &[names.config_api_database, names.worker_database],
            &[names.events_topic, names.dead_letter_topic],
            &[names.consumer_group],
        )
        .await;
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// One service running as a task of this runtime; stops when dropped.
pub struct Service {
    pub name: &'static str,
    pub http: SocketAddr,
    shutdown: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Service {
    pub(crate) fn spawn<F>(
        name: &'static str,
        http: SocketAddr,
        run: impl FnOnce(CancellationToken) -> F,
    ) -> Service
    where
        F: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let shutdown = CancellationToken::new();
        Service {
            name,
            http,
            task: Some(tokio::spawn(run(shutdown.clone()))),
            shutdown,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.http)
    }

    pub(crate) async fn wait_until_ready(&mut self, client: &reqwest::Client) {
        let deadline = tokio::time::Instant::now() + START_STOP_DEADLINE;
        let url = format!("{}/health/ready", self.url());
        loop {
            if let Ok(response) = client.get(&url).send().await {
                if response.status() == StatusCode::OK {
                    return;
                }
            }
            if self.task.as_ref().is_some_and(JoinHandle::is_finished) {
                let outcome = self.task.take().unwrap().await;
                panic!("{} stopped before it became ready: {outcome:?}", self.name);
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} did not become ready within {START_STOP_DEADLINE:?}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Signals shutdown and fails unless the service ends cleanly in time.
    pub(crate) async fn stop(mut self) {
        self.shutdown.cancel();
        let task = self.task.take().unwrap();
        let name = self.name;
        match tokio::time::timeout(START_STOP_DEADLINE, task).await {
            Err(_) => panic!("{name} did not stop within {START_STOP_DEADLINE:?}"),
            Ok(Err(error)) => panic!("{name} panicked: {error}"),
            Ok(Ok(Err(error))) => panic!("{name} failed: {error:#}"),
            Ok(Ok(Ok(()))) => {}
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub(crate) async fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.unwrap()
}

pub(crate) fn address(listener: &TcpListener) -> SocketAddr {
    listener.local_addr().unwrap()
}

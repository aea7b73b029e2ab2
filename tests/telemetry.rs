//! Issue 6's tracing scenario: with `telemetry.otlp_endpoint` pointing at a small OTLP/HTTP
//! receiver in this process, a request carrying a W3C `traceparent` to config-api produces
//! config-api's span in that trace, and config-api's gRPC call to analytics-worker carries
//! the trace into the worker; a Kafka record with a `traceparent` header is processed by the
//! worker in a span of the record's trace; and an SDK's event posted to event ingest with a
//! `traceparent` is followed through ingest's span and Kafka into the worker's.
//!
//! The receiver and `telemetry::init` are process-wide (the subscriber is global), so every
//! other test running meanwhile exports its spans here too; assertions look only at the
//! trace ids this scenario made up.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;
use rdkafka::config::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use reqwest::Method;
use serde_json::json;
use vexil_service::telemetry::{OtlpEndpoint, TelemetryConfig, TelemetryGuard, TRACEPARENT};

use crate::scratch::Scratch;
use crate::stack::{self, Names, Resources, Stack, ADMIN_TOKEN};
use crate::test_env::required_var;

/// Made-up ids of the "callers" this scenario plays: an HTTP client and a Kafka producer.
const HTTP_TRACE_ID: &str = "6e0c63257de34c92bf9efcd03927272e";
const HTTP_PARENT_ID: &str = "00f067aa0ba902b7";
const KAFKA_TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const KAFKA_PARENT_ID: &str = "b7ad6b7169203331";
const SDK_TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SDK_PARENT_ID: &str = "a3ce929d0e0e4736";
/// Bounds the wait for the spans (the worker reads the record, the exporter posts).
const SPANS_DEADLINE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_continues_from_config_api_into_the_worker_over_grpc_and_kafka() {
    stack::run_scenario("vexil-trace", scenario).await;
}

async fn scenario(scratch: Scratch, names: Names) {
    let collector = Collector::get();
    let config_api_pool = scratch.create_database(&names.config_api_database).await;
    let worker_pool = scratch.create_database(&names.worker_database).await;
    scratch
        .create_topics(&[(&names.events_topic, 1), (&names.dead_letter_topic, 1)])
        .await;
    let stack = Stack::start(Resources {
        config_api_pool: config_api_pool.clone(),
        worker_pool: worker_pool.clone(),
        events_topic: names.events_topic.clone(),
        dead_letter_topic: names.dead_letter_topic.clone(),
        consumer_group: names.consumer_group.clone(),
        redis_prefix: scratch.redis_prefix(),
    })
    .await;
    let (status, project) = stack
        .api(
            Method::POST,
            "/projects",
            Some(json!({"key": "traced", "name": "Traced"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{project}");
    let sdk_key = project["environments"]
        .as_array()
        .and_then(|environments| environments.iter().find(|e| e["key"] == "test"))
        .and_then(|environment| environment["keys"].as_array())
        .and_then(|keys| keys.iter().find(|key| key["kind"] == "server"))
        .and_then(|key| key["secret"].as_str())
        .unwrap_or_else(|| panic!("no server-side SDK key in {project}"))
        .to_owned();
    let (status, flag) = stack
        .api(
            Method::POST,
            "/projects/traced/flags",
            Some(json!({"key": "banner", "name": "Banner"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{flag}");

    // An HTTP caller in trace HTTP_TRACE_ID asks config-api for usage, which config-api
    // answers from the worker's Analytics gRPC service.
    let response = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/projects/traced/environments/test/flags/banner/usage",
            stack.config_api.url()
        ))
        .bearer_auth(ADMIN_TOKEN)
        .header(
            TRACEPARENT,
            format!("00-{HTTP_TRACE_ID}-{HTTP_PARENT_ID}-01"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // A producer in trace KAFKA_TRACE_ID writes a record (not an envelope: it is
    // dead-lettered, after being processed in a span of that trace).
    produce_traced_record(
        &names.events_topic,
        &format!("00-{KAFKA_TRACE_ID}-{KAFKA_PARENT_ID}-01"),
    )
    .await;

    // An SDK in trace SDK_TRACE_ID posts one custom event to event ingest.
    let response = reqwest::Client::new()
        .post(format!("{}/bulk", stack.ingest.url()))
        .header("authorization", &sdk_key)
        .header(TRACEPARENT, format!("00-{SDK_TRACE_ID}-{SDK_PARENT_ID}-01"))
        .json(
            &json!([{"kind": "custom", "key": "purchase", "creationDate": 1_764_500_000_000_u64,
                       "context": {"kind": "user", "key": "traced-user"}}]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);

    let usage_route =
        "GET /api/v1/projects/{project}/environments/{environment}/flags/{flag}/usage";
    let spans = collector
        .wait_for(|spans| {
            let http = spans.iter().any(|span| {
                span.trace_id == HTTP_TRACE_ID && span.name.starts_with("vexil.analytics.v1")
            });
            let kafka = spans
                .iter()
                .any(|span| span.trace_id == KAFKA_TRACE_ID && span.name.starts_with("process "));
            // The batch's span ends after the record's, once the batch is written.
            let batch = spans.iter().any(|span| {
                span.links
                    .iter()
                    .any(|(trace_id, _)| trace_id == KAFKA_TRACE_ID)
            });
            let sdk = spans
                .iter()
                .any(|span| span.trace_id == SDK_TRACE_ID && span.name.starts_with("process "));
            http && kafka && batch && sdk
        })
        .await;

    let in_trace = |trace_id: &str| -> Vec<&ExportedSpan> {
        spans
            .iter()
            .filter(|span| span.trace_id == trace_id)
            .collect()
    };
    let http_trace = in_trace(HTTP_TRACE_ID);
    let server = http_trace
        .iter()
        .find(|span| span.name == usage_route)
        .unwrap_or_else(|| panic!("no config-api span `{usage_route}` in {http_trace:#?}"));
    assert_eq!(server.parent_span_id, HTTP_PARENT_ID, "{server:#?}");
    assert_eq!(server.kind, "server");
    assert!(server.service.contains("vexil-system-tests"), "{server:#?}");
    let grpc = http_trace
        .iter()
        .find(|span| span.name.starts_with("vexil.analytics.v1.Analytics/"))
        .unwrap_or_else(|| panic!("no worker gRPC span in {http_trace:#?}"));
    assert_eq!(grpc.kind, "server");
    assert!(
        http_trace
            .iter()
            .any(|span| span.span_id == grpc.parent_span_id),
        "the worker's span continues a config-api span: {http_trace:#?}"
    );

    let kafka_trace = in_trace(KAFKA_TRACE_ID);
    let process = kafka_trace
        .iter()
        .find(|span| span.name == format!("process {}", names.events_topic))
        .unwrap_or_else(|| panic!("no worker record span in {kafka_trace:#?}"));
    assert_eq!(process.parent_span_id, KAFKA_PARENT_ID);
    assert_eq!(process.kind, "consumer");
    let batch = spans.iter().find(|span| {
        span.name == format!("write {}", names.events_topic)
            && span
                .links
                .contains(&(KAFKA_TRACE_ID.to_owned(), KAFKA_PARENT_ID.to_owned()))
    });
    assert!(
        batch.is_some(),
        "no batch span linked to the record's trace in {spans:#?}"
    );

    // The SDK's event: ingest's server span continues the SDK's trace, and the worker
    // processes the record as a child of ingest's span.
    let sdk_trace = in_trace(SDK_TRACE_ID);
    let ingest = sdk_trace
        .iter()
        .find(|span| span.name == "POST /bulk")
        .unwrap_or_else(|| panic!("no event-ingest span `POST /bulk` in {sdk_trace:#?}"));
    assert_eq!(ingest.parent_span_id, SDK_PARENT_ID, "{ingest:#?}");
    let process = sdk_trace
        .iter()
        .find(|span| span.name == format!("process {}", names.events_topic))
        .unwrap_or_else(|| panic!("no worker record span in {sdk_trace:#?}"));
    assert_eq!(
        process.parent_span_id, ingest.span_id,
        "the worker continues ingest's span: {sdk_trace:#?}"
    );

    stack.stop().await;
    config_api_pool.close().await;
    worker_pool.close().await;
}

async fn produce_traced_record(topic: &str, traceparent: &str) {
    let producer: FutureProducer = ClientConfig::new()
        .set(
            "bootstrap.servers",
            required_var("VEXIL_TEST_KAFKA_BROKERS"),
        )
        .set("message.timeout.ms", "10000")
        .create()
        .expect("creating a Kafka producer");
    let headers = OwnedHeaders::new().insert(Header {
        key: TRACEPARENT,
        value: Some(traceparent),
    });
    producer
        .send(
            FutureRecord::to(topic)
                .key("traced")
                .payload("not an envelope")
                .headers(headers),
            Duration::from_secs(10),
        )
        .await
        .unwrap_or_else(|(error, _)| panic!("producing to {topic} failed: {error}"));
}

/// A span as the collector received it, ids in lowercase hex.
#[derive(Debug, Clone)]
struct ExportedSpan {
    service: String,
    name: String,
    kind: &'static str,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
    /// (trace id, span id) of each link.
    links: Vec<(String, String)>,
}

/// The OTLP/HTTP receiver every service of this process exports to, and the guard of the
/// process's telemetry. Runs on its own thread and runtime, so that it outlives any test's
/// runtime and answers while a test blocks on a flush.
struct Collector {
    spans: Arc<Mutex<Vec<ExportedSpan>>>,
    telemetry: TelemetryGuard,
}

impl Collector {
    fn get() -> &'static Collector {
        static COLLECTOR: OnceLock<Collector> = OnceLock::new();
        COLLECTOR.get_or_init(|| {
            let spans = Arc::new(Mutex::new(Vec::new()));
            let address = serve_otlp(spans.clone());
            let config = TelemetryConfig {
                otlp_endpoint: Some(OtlpEndpoint::parse(&format!("http://{address}")).unwrap()),
                ..TelemetryConfig::default()
            };
            let telemetry = vexil_service::telemetry::init("system-tests", &config);
            assert!(
                vexil_service::telemetry::is_exporting(),
                "another test installed telemetry without this receiver"
            );
            Collector { spans, telemetry }
        })
    }

    /// Flushes the exporter until `done` holds for what was received; returns it.
    async fn wait_for(&self, done: impl Fn(&[ExportedSpan]) -> bool) -> Vec<ExportedSpan> {
        let deadline = tokio::time::Instant::now() + SPANS_DEADLINE;
        loop {
            // The flush blocks until the collector answered; keep it off the runtime.
            tokio::task::block_in_place(|| self.telemetry.flush());
            let spans = self.spans.lock().unwrap().clone();
            if done(&spans) {
                return spans;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the spans did not arrive within {SPANS_DEADLINE:?}; received: {spans:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Starts `POST /v1/traces` on `127.0.0.1:0`, decoding OTLP protobuf into `spans`.
fn serve_otlp(spans: Arc<Mutex<Vec<ExportedSpan>>>) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::Builder::new()
        .name("otlp-receiver".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = Router::new()
                    .route("/v1/traces", post(receive))
                    .with_state(spans);
                axum::serve(listener, app).await.unwrap();
            });
        })
        .unwrap();
    address
}

async fn receive(State(spans): State<Arc<Mutex<Vec<ExportedSpan>>>>, body: Bytes) -> StatusCode {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return StatusCode::BAD_REQUEST;
    };
    let mut received = spans.lock().unwrap();
    for resource_spans in request.resource_spans {
        let service = resource_spans
            .resource
            .iter()
            .flat_map(|resource| &resource.attributes)
            .find(|attribute| attribute.key == "service.name")
            .and_then(|attribute| attribute.value.as_ref())
            .map(|value| format!("{:?}", value.value))
            .unwrap_or_default();
        for span in resource_spans
            .scope_spans
            .into_iter()
            .flat_map(|scope| scope.spans)
        {
            received.push(ExportedSpan {
                service: service.clone(),
                kind: match span.kind {
                    2 => "server",
                    3 => "client",
                    4 => "producer",
                    5 => "consumer",
                    _ => "internal",
                },
                name: span.name,
                trace_id: hex(&span.trace_id),
                span_id: hex(&span.span_id),
                parent_span_id: hex(&span.parent_span_id),
                links: span
                    .links
                    .iter()
                    .map(|link| (hex(&link.trace_id), hex(&link.span_id)))
                    .collect(),
            });
        }
    }
    StatusCode::OK
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

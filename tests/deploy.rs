//! The deployment files, checked offline: `docker-compose.yml` by `docker compose config`
//! (or docker-compose 1.29), the kustomize base and production overlay rendered by
//! `kubectl kustomize` and validated against the Kubernetes JSON schemas by
//! kubernetes-validate, and the settings both pass to the services loaded through the
//! services' own `Config` types. `scripts/test-env` installs the tools and exports
//! `VEXIL_TEST_KUBECTL` and `VEXIL_TEST_KUBERNETES_VALIDATE`; none of this needs a Docker
//! engine, a cluster or the network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Value};
use figment::{Figment, Profile};
use serde::de::DeserializeOwned;
use serde::{Deserialize as _, Serialize};
use serde_yaml::Value as Yaml;

use crate::test_env::required_var;

/// The four services: compose service and Kubernetes Deployment name, HTTP port.
const SERVICES: [(&str, u16); 4] = [
    ("config-api", 8030),
    ("stream-gateway", 8040),
    ("event-ingest", 8050),
    ("analytics-worker", 8060),
];

/// Kubernetes versions the manifests must be valid for: a still-common older one and the
/// newest the validator knows.
const KUBERNETES_VERSIONS: [&str; 2] = ["1.30.0", "1.37.0"];

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository")
        .to_path_buf()
}

#[track_caller]
fn succeeded(what: &str, output: Output) -> String {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("tool output is UTF-8")
}

fn run(what: &str, command: &mut Command) -> String {
    let output = command
        .current_dir(repository())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {what}: {error}"));
    succeeded(what, output)
}

// --- docker-compose.yml ---------------------------------------------------------------

/// `docker compose` when the plugin works, else `docker-compose`.
fn compose_command() -> Command {
    let works = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|output| output.status.success())
    };
    if works("docker", &["compose", "version"]) {
        let mut command = Command::new("docker");
        command.arg("compose");
        command
    } else if works("docker-compose", &["version"]) {
        Command::new("docker-compose")
    } else {
        panic!(
            "neither `docker compose` nor docker-compose works: run the tests through \
             scripts/test-env, which installs Debian's docker-compose when both are missing"
        )
    }
}

#[test]
fn compose_file_is_accepted_by_docker_compose() {
    run(
        "docker compose config",
        compose_command().args(["--file", "docker-compose.yml", "config", "--quiet"]),
    );
}

fn compose_file() -> Yaml {
    let text = std::fs::read_to_string(repository().join("docker-compose.yml")).unwrap();
    let mut compose: Yaml = serde_yaml::from_str(&text).unwrap();
    compose.apply_merge().unwrap();
    compose
}

fn compose_service<'a>(compose: &'a Yaml, name: &str) -> &'a Yaml {
    compose["services"]
        .get(name)
        .unwrap_or_else(|| panic!("docker-compose.yml has no service {name}"))
}

#[test]
fn compose_services_have_health_checks_and_wait_for_what_they_need() {
    let compose = compose_file();
    let services = compose["services"].as_mapping().unwrap();
    for (name, service) in services {
        let name = name.as_str().unwrap();
        // kafka-init runs once and exits; otel-collector's image is distroless (nothing to
        // probe with), and no service waits for it.
        if name == "kafka-init" || name == "otel-collector" {
            continue;
        }
        let test = &service["healthcheck"]["test"];
        assert!(
            test.as_sequence().is_some_and(|test| test.len() > 1),
            "service {name} has no health check"
        );
    }
    for (name, port) in SERVICES {
        let test =
            serde_yaml::to_string(&compose_service(&compose, name)["healthcheck"]["test"]).unwrap();
        assert!(
            test.contains(&format!("127.0.0.1:{port}/health/ready")),
            "{name}'s health check must ask /health/ready on {port}: {test}"
        );
    }
    let expected: [(&str, &[(&str, &str)]); 5] = [
        ("kafka-init", &[("kafka", "service_healthy")]),
        ("config-api", &[("postgres", "service_healthy")]),
        (
            "stream-gateway",
            &[
                ("config-api", "service_healthy"),
                ("redis", "service_healthy"),
            ],
        ),
        (
            "event-ingest",
            &[
                ("config-api", "service_healthy"),
                ("kafka-init", "service_completed_successfully"),
            ],
        ),
        (
            "analytics-worker",
            &[
                ("postgres", "service_healthy"),
                ("kafka-init", "service_completed_successfully"),
            ],
        ),
    ];
    for (name, dependencies) in expected {
        let depends_on = &compose_service(&compose, name)["depends_on"];
        for (dependency, condition) in dependencies {
            assert_eq!(
                depends_on[dependency]["condition"].as_str(),
                Some(*condition),
                "{name} must wait for {dependency} with condition {condition}"
            );
        }
    }
    for (name, service) in services {
        if let Some(depends_on) = service["depends_on"].as_mapping() {
            for (dependency, how) in depends_on {
                let dependency = dependency.as_str().unwrap();
                if how["condition"].as_str() == Some("service_healthy") {
                    assert!(
                        compose_service(&compose, dependency)["healthcheck"]["test"]
                            .as_sequence()
                            .is_some(),
                        "{name:?} waits for {dependency} to be healthy, which has no health check"
                    );
                }
            }
        }
    }
}

#[test]
fn prometheus_scrapes_every_service() {
    let path = repository().join("deploy/compose/prometheus.yml");
    let prometheus: Yaml = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let targets: Vec<(String, String)> = prometheus["scrape_configs"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|job| {
            let path = job["metrics_path"]
                .as_str()
                .unwrap_or("/metrics")
                .to_owned();
            job["static_configs"]
                .as_sequence()
                .unwrap()
                .iter()
                .flat_map(|config| config["targets"].as_sequence().unwrap().clone())
                .map(move |target| (target.as_str().unwrap().to_owned(), path.clone()))
        })
        .collect();
    for (name, port) in SERVICES {
        let target = (format!("{name}:{port}"), "/metrics".to_owned());
        assert!(
            targets.contains(&target),
            "Prometheus does not scrape {name}'s /metrics on {port}: {targets:?}"
        );
    }
}

/// The `VEXIL_*` variables docker-compose.yml gives `service`, with `${VAR:-default}`
/// replaced by its default.
fn compose_environment(compose: &Yaml, service: &str) -> Vec<(String, String)> {
    compose_service(compose, service)["environment"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Yaml::String(value) => value.clone(),
                other => serde_yaml::to_string(other).unwrap().trim().to_owned(),
            };
            (name.as_str().unwrap().to_owned(), with_defaults(&value))
        })
        .collect()
}

fn with_defaults(value: &str) -> String {
    let mut result = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        result.push_str(&rest[..start]);
        let end = start + rest[start..].find('}').expect("closed ${...}");
        let default = rest[start + 2..end]
            .split_once(":-")
            .map_or("", |(_, default)| default);
        result.push_str(default);
        rest = &rest[end + 1..];
    }
    result.push_str(rest);
    result
}

#[test]
fn compose_settings_load_into_each_services_config() {
    let compose = compose_file();
    let environment = |service| compose_environment(&compose, service);
    check_config_api(None, &environment("config-api"));
    check_stream_gateway(None, &environment("stream-gateway"));
    check_event_ingest(None, &environment("event-ingest"));
    check_analytics_worker(None, &environment("analytics-worker"));
}

// --- Loading settings as the services do ----------------------------------------------

/// Defaults < the TOML file < `VEXIL_*` variables, like `vexil_service::config::figment`,
/// with the variables given here instead of read from the process.
fn load<C>(toml: Option<&str>, environment: &[(String, String)]) -> C
where
    C: Serialize + DeserializeOwned + Default,
{
    let mut variables = Dict::new();
    for (name, value) in environment {
        let Some(key) = name.strip_prefix("VEXIL_") else {
            continue;
        };
        let path: Vec<String> = key.split("__").map(str::to_ascii_lowercase).collect();
        let value: Value = value.parse().expect("parsing a value never fails");
        insert(&mut variables, &path, value);
    }
    let mut figment = Figment::from(Serialized::defaults(C::default()));
    if let Some(toml) = toml {
        figment = figment.merge(Toml::string(toml));
    }
    figment
        .merge(Serialized::from(variables, Profile::Default))
        .extract()
        .unwrap_or_else(|error| {
            panic!(
                "{} does not load these settings: {error}\nfile:\n{}\nvariables: {environment:?}",
                std::any::type_name::<C>(),
                toml.unwrap_or("(none)")
            )
        })
}

fn insert(dict: &mut Dict, path: &[String], value: Value) {
    match path {
        [] => unreachable!("a variable names a key"),
        [key] => {
            dict.insert(key.clone(), value);
        }
        [key, rest @ ..] => {
            let entry = dict
                .entry(key.clone())
                .or_insert_with(|| Value::from(Dict::new()));
            let Value::Dict(_, inner) = entry else {
                panic!("{key} is both a value and a table");
            };
            insert(inner, rest, value);
        }
    }
}

fn check_config_api(toml: Option<&str>, environment: &[(String, String)]) {
    let config: vexil_config_api::config::Config = load(toml, environment);
    assert_eq!(config.http.listen.port(), 8030);
    assert_eq!(config.grpc.listen.port(), 8031);
    assert!(config.http.listen.ip().is_unspecified());
    assert!(config.service_token.is_some() && config.admin_token.is_some());
    assert!(config.database.url.ends_with("/vexil_config"));
    assert_eq!(config.analytics.grpc_url, "http://analytics-worker:8061");
}

fn check_stream_gateway(toml: Option<&str>, environment: &[(String, String)]) {
    let config: vexil_stream_gateway::config::Config = load(toml, environment);
    config.validate().unwrap();
    assert_eq!(config.http.listen.port(), 8040);
    assert!(config.http.listen.ip().is_unspecified());
    assert!(config.service_token.is_some());
    assert_eq!(config.config_api.grpc_url, "http://config-api:8031");
    assert!(config.redis.url.starts_with("redis://redis:6379"));
}

fn check_event_ingest(toml: Option<&str>, environment: &[(String, String)]) {
    let config: vexil_event_ingest::config::Config = load(toml, environment);
    config.validate().unwrap();
    assert_eq!(config.http.listen.port(), 8050);
    assert!(config.http.listen.ip().is_unspecified());
    assert!(config.service_token.is_some());
    assert_eq!(config.config_api.grpc_url, "http://config-api:8031");
    assert_eq!(config.kafka.brokers, "kafka:9092");
    assert!(
        !config.kafka.create_topic,
        "the topics are created beforehand"
    );
}

fn check_analytics_worker(toml: Option<&str>, environment: &[(String, String)]) {
    let config: vexil_analytics_worker::config::Config = load(toml, environment);
    assert_eq!(config.http.listen.port(), 8060);
    assert_eq!(config.grpc.listen.port(), 8061);
    assert!(config.http.listen.ip().is_unspecified());
    assert!(config.service_token.is_some());
    assert!(config.database.url.ends_with("/vexil_analytics"));
    assert_eq!(config.kafka.brokers, "kafka:9092");
}

// --- deploy/ (kustomize) ----------------------------------------------------------------

/// The manifests of `directory` as kubectl renders them, and parsed.
fn kustomize(directory: &str) -> (String, Vec<Yaml>) {
    let kubectl = required_var("VEXIL_TEST_KUBECTL");
    let rendered = run(
        &format!("kubectl kustomize {directory}"),
        Command::new(kubectl).args(["kustomize", directory]),
    );
    let documents = serde_yaml::Deserializer::from_str(&rendered)
        .map(|document| Yaml::deserialize(document).unwrap())
        .filter(|document| !document.is_null())
        .collect();
    (rendered, documents)
}

/// Validates `rendered` strictly (unknown fields are errors) against the schemas of every
/// version in [`KUBERNETES_VERSIONS`], and checks that each of `documents` was validated.
/// The validator reads kubectl's text itself: YAML 1.1 and 1.2 disagree about scalars like
/// `off`, so a re-serialised copy could differ from what `kubectl apply` reads.
fn validate_against_schemas(directory: &str, rendered: &str, documents: &[Yaml]) {
    let validator = required_var("VEXIL_TEST_KUBERNETES_VALIDATE");
    for version in KUBERNETES_VERSIONS {
        let mut child = Command::new(&validator)
            .args(["--strict", "--kubernetes-version", version, "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run {validator}: {error}"));
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), rendered.as_bytes()).unwrap();
        let output = child.wait_with_output().unwrap();
        let report = succeeded(
            &format!("kubernetes-validate of {directory} against Kubernetes {version}"),
            output,
        );
        let passed = report.matches(" passed for resource ").count();
        assert_eq!(
            passed,
            documents.len(),
            "kubernetes-validate checked {passed} of {} resources of {directory} against \
             Kubernetes {version}:\n{report}",
            documents.len()
        );
    }
}

fn of_kind<'a>(documents: &'a [Yaml], kind: &str) -> Vec<&'a Yaml> {
    documents
        .iter()
        .filter(|document| document["kind"].as_str() == Some(kind))
        .collect()
}

fn named<'a>(documents: &'a [Yaml], kind: &str, name: &str) -> &'a Yaml {
    of_kind(documents, kind)
        .into_iter()
        .find(|document| document["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

#[test]
fn base_manifests_are_valid_kubernetes() {
    let (rendered, documents) = kustomize("deploy/base");
    validate_against_schemas("deploy/base", &rendered, &documents);
    check_invariants(&documents);
    let secret = named(&documents, "Secret", "vexil-secrets");
    for (key, value) in secret["stringData"].as_mapping().unwrap() {
        assert!(
            value.as_str().unwrap().contains("CHANGE-ME") || key.as_str() == Some("redis-url"),
            "the base Secret holds placeholders only, but {key:?} has none"
        );
    }
}

#[test]
fn production_overlay_is_valid_kubernetes() {
    let (rendered, documents) = kustomize("deploy/overlays/production");
    validate_against_schemas("deploy/overlays/production", &rendered, &documents);
    check_invariants(&documents);
    assert!(
        of_kind(&documents, "Secret").is_empty(),
        "production must not ship the placeholder Secret"
    );
    for document in &documents {
        assert_eq!(
            document["metadata"]["namespace"].as_str(),
            Some("vexil"),
            "{:?} {:?} is outside namespace vexil",
            document["kind"],
            document["metadata"]["name"]
        );
    }
    let ingress = named(&documents, "Ingress", "vexil");
    assert!(ingress["spec"]["tls"][0]["secretName"].as_str().is_some());
    for name in ["stream-gateway", "event-ingest"] {
        let autoscaler = named(&documents, "HorizontalPodAutoscaler", name);
        assert!(autoscaler["spec"]["minReplicas"].as_u64().unwrap() >= 2);
    }
    for name in ["config-api", "analytics-worker"] {
        let deployment = named(&documents, "Deployment", name);
        assert!(deployment["spec"]["replicas"].as_u64().unwrap() >= 2);
    }
}

/// What both renderings must have, whatever the overlay changes.
fn check_invariants(documents: &[Yaml]) {
    for (name, port) in SERVICES {
        let deployment = named(documents, "Deployment", name);
        let pod = &deployment["spec"]["template"]["spec"];
        assert_eq!(
            pod["enableServiceLinks"].as_bool(),
            Some(false),
            "{name}: Service links would put VEXIL_*-looking variables in the environment"
        );
        assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true));
        let container = &pod["containers"][0];
        assert_eq!(
            container["command"][0].as_str(),
            Some(format!("/usr/local/bin/vexil-{name}").as_str())
        );
        assert_eq!(
            container["securityContext"]["readOnlyRootFilesystem"].as_bool(),
            Some(true),
            "{name}"
        );
        for (probe, path) in [
            ("readinessProbe", "/health/ready"),
            ("livenessProbe", "/health/live"),
        ] {
            assert_eq!(
                container[probe]["httpGet"]["path"].as_str(),
                Some(path),
                "{name} {probe}"
            );
        }
        let resources = &container["resources"];
        for key in ["cpu", "memory"] {
            assert!(
                !resources["requests"][key].is_null(),
                "{name} requests no {key}"
            );
        }
        assert!(
            !resources["limits"]["memory"].is_null(),
            "{name} has no memory limit"
        );
        let ports: Vec<u64> = container["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|port| port["containerPort"].as_u64().unwrap())
            .collect();
        assert!(
            ports.contains(&u64::from(port)),
            "{name} does not expose {port}"
        );
        named(documents, "Service", name);
        named(documents, "PodDisruptionBudget", name);
        check_deployment_settings(documents, name, pod);
    }
    for name in ["stream-gateway", "event-ingest"] {
        let autoscaler = named(documents, "HorizontalPodAutoscaler", name);
        assert_eq!(autoscaler["apiVersion"].as_str(), Some("autoscaling/v2"));
        assert_eq!(
            autoscaler["spec"]["scaleTargetRef"]["name"].as_str(),
            Some(name)
        );
    }
    let policies = of_kind(documents, "NetworkPolicy");
    assert!(
        policies.iter().any(|policy| {
            policy["spec"]["ingress"].is_null()
                && policy["spec"]["egress"].is_null()
                && policy["spec"]["policyTypes"].as_sequence().map(Vec::len) == Some(2)
        }),
        "no default-deny NetworkPolicy"
    );
    check_ingress(named(documents, "Ingress", "vexil"));
}

/// The ConfigMap's vexil.toml and the Deployment's variables load into the service's
/// `Config`, as the binary would load them (secrets take placeholder values).
fn check_deployment_settings(documents: &[Yaml], name: &str, pod: &Yaml) {
    let container = &pod["containers"][0];
    let mut environment: Vec<(String, String)> = Vec::new();
    for variable in container["env"].as_sequence().unwrap() {
        let value = variable["value"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| {
                let key = variable["valueFrom"]["secretKeyRef"]["key"].as_str()?;
                Some(secret_placeholder(key))
            })
            .unwrap_or_else(|| panic!("{name}: variable {variable:?} has no value"));
        environment.push((variable["name"].as_str().unwrap().to_owned(), value));
    }
    for source in container["envFrom"].as_sequence().into_iter().flatten() {
        let map = named(
            documents,
            "ConfigMap",
            source["configMapRef"]["name"].as_str().unwrap(),
        );
        for (key, value) in map["data"].as_mapping().unwrap() {
            environment.push((
                key.as_str().unwrap().to_owned(),
                value.as_str().unwrap().to_owned(),
            ));
        }
    }
    let volume = pod["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|volume| volume["name"].as_str() == Some("config"))
        .unwrap_or_else(|| panic!("{name} mounts no configuration"));
    let map = named(
        documents,
        "ConfigMap",
        volume["configMap"]["name"].as_str().unwrap(),
    );
    let key = volume["configMap"]["items"][0]["key"].as_str().unwrap();
    assert_eq!(key, format!("{name}.toml"));
    let toml = map["data"][key].as_str().unwrap();
    match name {
        "config-api" => check_config_api(Some(toml), &environment),
        "stream-gateway" => check_stream_gateway(Some(toml), &environment),
        "event-ingest" => check_event_ingest(Some(toml), &environment),
        "analytics-worker" => check_analytics_worker(Some(toml), &environment),
        other => unreachable!("unknown service {other}"),
    }
}

fn secret_placeholder(key: &str) -> String {
    match key {
        "config-api-database-url" => "postgres://vexil:secret@postgres:5432/vexil_config".into(),
        "analytics-worker-database-url" => {
            "postgres://vexil:secret@postgres:5432/vexil_analytics".into()
        }
        "redis-url" => "redis://redis:6379".into(),
        _ => "secret".into(),
    }
}

/// One host routes each first path segment the gateway and ingest serve to them, and the
/// proxy passes server-sent events through unbuffered and keeps them open.
fn check_ingress(ingress: &Yaml) {
    let annotations = &ingress["metadata"]["annotations"];
    assert_eq!(
        annotations["nginx.ingress.kubernetes.io/proxy-buffering"].as_str(),
        Some("off")
    );
    for timeout in ["proxy-read-timeout", "proxy-send-timeout"] {
        let seconds: u64 = annotations[format!("nginx.ingress.kubernetes.io/{timeout}").as_str()]
            .as_str()
            .and_then(|seconds| seconds.parse().ok())
            .unwrap_or_else(|| panic!("the Ingress sets no {timeout}"));
        assert!(
            seconds >= 3600,
            "{timeout} {seconds} s is too short for SSE"
        );
    }
    let rules = ingress["spec"]["rules"].as_sequence().unwrap();
    assert_eq!(rules.len(), 1, "one host for SDKs and the API");
    let routes: BTreeMap<String, String> = rules[0]["http"]["paths"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|path| {
            assert_eq!(path["pathType"].as_str(), Some("Prefix"));
            (
                path["path"].as_str().unwrap().to_owned(),
                path["backend"]["service"]["name"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    let served = [
        (
            "stream-gateway",
            "crates/vexil-stream-gateway/src/routes/mod.rs",
        ),
        (
            "event-ingest",
            "crates/vexil-event-ingest/src/routes/mod.rs",
        ),
    ];
    for (service, source) in served {
        let prefixes = route_prefixes(&repository().join(source));
        assert!(!prefixes.is_empty(), "no routes found in {source}");
        for prefix in prefixes {
            assert_eq!(
                routes.get(&prefix).map(String::as_str),
                Some(service),
                "the Ingress must route {prefix} to {service} ({source})"
            );
        }
    }
    assert_eq!(routes.get("/api").map(String::as_str), Some("config-api"));
}

/// The first path segments (`/sdk`) of the routes a router's source declares, read from its
/// string literals that start with `/`.
fn route_prefixes(source: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(source).unwrap();
    let mut prefixes: Vec<String> = text
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|literal| literal.starts_with('/') && literal.len() > 1)
        .filter(|literal| !literal.starts_with("/health") && *literal != "/metrics")
        .map(|literal| {
            let segment = literal[1..].split('/').next().unwrap();
            format!("/{segment}")
        })
        .collect();
    prefixes.sort();
    prefixes.dedup();
    prefixes
}

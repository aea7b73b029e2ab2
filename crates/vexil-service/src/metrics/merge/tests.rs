//! Unit tests of `merge`: hand-written expositions for the OpenMetrics details, real
//! registries for what `vexil up` merges.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;

use super::*;
use crate::metrics::Metrics;

/// The structure OpenMetrics requires of a text exposition (the workspace has no
/// parser): metadata before samples, each family declared once with its samples
/// together right after, every sample named after its family, one `# EOF` at the end.
#[track_caller]
fn assert_valid(exposition: &str) {
    let body = exposition
        .strip_suffix("# EOF\n")
        .unwrap_or_else(|| panic!("does not end with # EOF:\n{exposition}"));
    let mut declared: Vec<&str> = Vec::new();
    let mut current: Option<Family<'_>> = None;
    for line in body.lines() {
        assert_ne!(line, "# EOF", "a second # EOF:\n{exposition}");
        if let Some(metadata) = line.strip_prefix("# ") {
            let mut words = metadata.splitn(3, ' ');
            let keyword = words.next().unwrap();
            let name = words.next().unwrap();
            let same = current
                .as_ref()
                .is_some_and(|family| family.name == name && family.samples.is_empty());
            if !same {
                assert!(
                    !declared.contains(&name),
                    "{name} declared twice:\n{exposition}"
                );
                declared.push(name);
                current = Some(Family::new(name));
            }
            let family = current.as_mut().unwrap();
            match keyword {
                "HELP" => assert!(family.help.replace(line).is_none(), "{line}"),
                "TYPE" => {
                    let kind = words.next().unwrap();
                    assert!(family.kind.replace((line, kind)).is_none(), "{line}");
                }
                "UNIT" => assert!(family.unit.replace(line).is_none(), "{line}"),
                _ => panic!("unexpected comment {line:?}"),
            }
        } else {
            let name = &line[..line.find(['{', ' ']).unwrap()];
            let family = current
                .as_mut()
                .unwrap_or_else(|| panic!("{line:?} comes before any metadata"));
            assert!(family.owns(name), "{line:?} is not a {}", family.name);
            family.samples.push(line);
        }
    }
}

fn count(exposition: &str, line: &str) -> usize {
    exposition.lines().filter(|l| *l == line).count()
}

const COUNTER_A: &str = "# HELP jobs Jobs done.\n# TYPE jobs counter\n\
    jobs_total{service=\"a\"} 1\n# HELP depth Queue depth.\n# TYPE depth gauge\n\
    depth{service=\"a\"} 4\n# EOF\n";
const COUNTER_B: &str = "# HELP jobs Jobs done.\n# TYPE jobs counter\n\
    jobs_total{service=\"b\"} 2\njobs_created{service=\"b\"} 1.7e9\n# EOF\n";

#[test]
fn shared_families_are_declared_once_with_every_sample_under_them() {
    let merged = merge([COUNTER_A, COUNTER_B]);
    assert_eq!(
        merged.exposition,
        "# HELP jobs Jobs done.\n# TYPE jobs counter\n\
         jobs_total{service=\"a\"} 1\njobs_total{service=\"b\"} 2\n\
         jobs_created{service=\"b\"} 1.7e9\n\
         # HELP depth Queue depth.\n# TYPE depth gauge\ndepth{service=\"a\"} 4\n# EOF\n"
    );
    assert!(merged.conflicts.is_empty());
    assert_valid(&merged.exposition);
}

#[test]
fn histogram_and_unit_samples_stay_with_their_family() {
    let a = "# HELP wait_seconds Wait.\n# TYPE wait_seconds histogram\n\
             # UNIT wait_seconds seconds\n\
             wait_seconds_sum{service=\"a\"} 0.5\nwait_seconds_count{service=\"a\"} 1\n\
             wait_seconds_bucket{le=\"1.0\",service=\"a\"} 1\n\
             wait_seconds_bucket{le=\"+Inf\",service=\"a\"} 1\n\
             # HELP wait Not a histogram.\n# TYPE wait gauge\nwait{service=\"a\"} 3\n# EOF\n";
    let b = a.replace("\"a\"", "\"b\"");
    let merged = merge([a, b.as_str()]);
    assert_valid(&merged.exposition);
    assert_eq!(
        count(&merged.exposition, "# UNIT wait_seconds seconds"),
        1,
        "{}",
        merged.exposition
    );
    let histogram: Vec<&str> = merged
        .exposition
        .lines()
        .skip_while(|line| !line.starts_with("wait_seconds_sum"))
        .take_while(|line| line.starts_with("wait_seconds_"))
        .collect();
    assert_eq!(histogram.len(), 8, "{}", merged.exposition);
    // `wait` is its own family although `wait_seconds_…` starts with its name.
    let gauge = merged.exposition.lines().filter(|l| l.starts_with("wait{"));
    assert_eq!(gauge.count(), 2, "{}", merged.exposition);
}

#[test]
fn a_family_declared_with_another_type_keeps_the_first_declaration() {
    let gauge = "# HELP jobs Jobs waiting.\n# TYPE jobs gauge\njobs{service=\"c\"} 9\n\
                 # HELP other Other.\n# TYPE other gauge\nother{service=\"c\"} 1\n# EOF\n";
    let merged = merge([COUNTER_A, gauge, COUNTER_B]);
    assert_valid(&merged.exposition);
    assert_eq!(merged.conflicts, ["jobs"]);
    assert!(
        !merged.exposition.contains("service=\"c\"} 9"),
        "{}",
        merged.exposition
    );
    assert_eq!(count(&merged.exposition, "jobs_total{service=\"b\"} 2"), 1);
    assert_eq!(count(&merged.exposition, "other{service=\"c\"} 1"), 1);
}

#[test]
fn a_unit_disagreement_is_a_conflict_too() {
    let seconds = "# TYPE wait gauge\n# UNIT wait seconds\nwait{service=\"a\"} 1\n# EOF\n";
    let bytes = "# TYPE wait gauge\n# UNIT wait bytes\nwait{service=\"b\"} 2\n# EOF\n";
    let merged = merge([seconds, bytes]);
    assert_eq!(merged.conflicts, ["wait"]);
    assert_eq!(merged.exposition, seconds);
}

#[test]
fn samples_without_metadata_and_text_after_eof() {
    let a = "loose{service=\"a\"} 1\n# EOF\nafter_eof 1\n";
    let b = "loose{service=\"b\"} 2\n";
    let merged = merge([a, b]);
    assert_eq!(
        merged.exposition,
        "loose{service=\"a\"} 1\nloose{service=\"b\"} 2\n# EOF\n"
    );
    assert_eq!(merge([]).exposition, "# EOF\n");
    assert_eq!(merge(["# EOF\n", "# EOF\n"]).exposition, "# EOF\n");
}

#[test]
fn the_registries_of_several_services_merge_into_one_valid_document() {
    let registries: Vec<Metrics> = ["config-api", "stream-gateway", "event-ingest"]
        .into_iter()
        .map(Metrics::new)
        .collect();
    for (index, metrics) in registries.iter().enumerate() {
        let jobs = Counter::<u64>::default();
        jobs.inc_by(index as u64 + 1);
        metrics.register("jobs", "Jobs done", jobs);
        let latency = Histogram::new([0.1, 1.0]);
        latency.observe(0.5);
        metrics.register("latency_seconds", "Latency", latency);
    }
    let gauge = Gauge::<i64>::default();
    gauge.set(7);
    registries[2].register("only_here", "One service's own", gauge);
    let expositions: Vec<String> = registries.iter().map(Metrics::encode).collect();
    let merged = merge(expositions.iter().map(String::as_str));
    assert_valid(&merged.exposition);
    assert!(merged.conflicts.is_empty());
    for family in [
        "vexil_jobs counter",
        "vexil_latency_seconds histogram",
        "vexil_only_here gauge",
    ] {
        assert_eq!(
            count(&merged.exposition, &format!("# TYPE {family}")),
            1,
            "{}",
            merged.exposition
        );
    }
    for service in ["config-api", "stream-gateway", "event-ingest"] {
        assert!(
            merged.exposition.contains(&format!(
                "vexil_latency_seconds_count{{service=\"{service}\"}} 1"
            )),
            "{}",
            merged.exposition
        );
    }
    assert!(merged
        .exposition
        .contains("vexil_only_here{service=\"event-ingest\"} 7"));
}

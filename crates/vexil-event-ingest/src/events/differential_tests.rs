//! The scanner against serde_json over many bodies: this crate's test payloads, the
//! throughput bench's bodies, and a few thousand generated and mutated ones. For every
//! body, analytics and diagnostic: the same decision (accepted, or refused with the same
//! reason). For accepted bodies: the same event bytes and the same checked fields as the
//! serde_json reading ingest used before the scanner, and for every value validation may
//! read, the same type, integer, string, members, named fields and elements.
//!
//! serde_json has two readers, and the scanner follows the one ingest used (skipping,
//! `RawValue`): it accepts numbers outside `f64`'s range (`1e400`) and lone surrogate
//! escapes (`"\ud800"`), which `Value` refuses. Like `Value` (and unlike skipping), it
//! refuses bodies nested more than 127 levels deep.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::fields::Fields;
use super::scan::{Json, JsonType};
use super::{parse_analytics, parse_diagnostic, validate_event, Event, PayloadError};

#[path = "../../benches/support/mod.rs"]
mod bench_support;

use bench_support::Rng;

#[test]
fn the_crate_s_test_payloads_read_as_with_serde_json() {
    let mut stats = Stats::default();
    for event in TEST_EVENTS {
        check(format!("[{event}]").as_bytes(), &mut stats);
        check(event.as_bytes(), &mut stats);
    }
    check(
        format!("[{}]", TEST_EVENTS.join(",")).as_bytes(),
        &mut stats,
    );
    assert_eq!(stats.accepted_bodies, TEST_EVENTS.len() + 1, "{stats:?}");
}

#[test]
fn the_bench_s_bodies_read_as_with_serde_json() {
    let mut stats = Stats::default();
    for (seed, size) in [(1, 1), (2, 50), (3, 200), (4, 500)] {
        let body = bench_support::analytics_payload(&mut Rng::new(seed), size, 1_718_000_000_000);
        check(&body, &mut stats);
        let events = parse_analytics(&body).unwrap();
        assert_eq!(events.len(), size);
        assert!(events.iter().all(|event| validate_event(event).is_ok()));
    }
    assert_eq!(stats.accepted_bodies, 4);
}

#[test]
fn generated_and_mutated_bodies_read_as_with_serde_json() {
    let mut stats = Stats::default();
    let mut generator = Generator(Rng::new(20_261_201));
    for round in 0..4_000 {
        let body = generator.body();
        check(body.as_bytes(), &mut stats);
        let mutated = generator.mutate(body.into_bytes(), round);
        check(&mutated, &mut stats);
    }
    for levels in 120..136 {
        let deep = format!(
            r#"[{{"kind":"custom","data":{}1{},"x":1}}]"#,
            "[".repeat(levels - 2),
            "]".repeat(levels - 2)
        );
        check(deep.as_bytes(), &mut stats);
        let deep_objects = format!(
            r#"[{{"context":{}"u"{}}}]"#,
            r#"{"a":"#.repeat(levels - 2),
            "}".repeat(levels - 2)
        );
        check(deep_objects.as_bytes(), &mut stats);
    }
    // Every kind of outcome is reached often enough for the comparison to mean something.
    assert!(stats.accepted_bodies > 1_000, "{stats:?}");
    let refused = |reason| stats.refused.get(reason).copied().unwrap_or(0);
    assert!(refused("invalid_json") > 1_000, "{stats:?}");
    assert!(refused("wrong_body_type") > 50, "{stats:?}");
    assert!(refused("event_not_an_object") > 50, "{stats:?}");
    assert!(stats.too_deep >= 16, "{stats:?}");
    assert!(stats.lenient > 20, "{stats:?}");
    assert!(stats.unreadable_events > 100, "{stats:?}");
    assert!(stats.valid_events > 1_000, "{stats:?}");
    assert!(stats.dropped_events > 1_000, "{stats:?}");
    assert!(stats.values > 50_000, "{stats:?}");
}

#[derive(Debug, Default)]
struct Stats {
    accepted_bodies: usize,
    refused: BTreeMap<&'static str, usize>,
    /// Bodies `Value` refuses and skipping accepts (`1e400`, lone surrogates).
    lenient: usize,
    /// Bodies refused for nesting deeper than `Value` allows.
    too_deep: usize,
    unreadable_events: usize,
    valid_events: usize,
    dropped_events: usize,
    values: usize,
}

/// What serde_json makes of a body: refused with a reason, or its elements' exact text.
#[derive(Debug, PartialEq, Eq)]
enum Expected<'a> {
    Refused(&'static str),
    Accepted(Vec<&'a str>),
}

#[track_caller]
fn check(body: &[u8], stats: &mut Stats) {
    let shown = String::from_utf8_lossy(body);
    let expected = expected_analytics(body, stats);
    let scanned = parse_analytics(body);
    let outcome = match &scanned {
        Ok(events) => Expected::Accepted(events.iter().map(|event| event.json).collect()),
        Err(error) => Expected::Refused(error.reason()),
    };
    assert_eq!(outcome, expected, "body {shown}: {scanned:?}");
    match scanned {
        Ok(events) => {
            stats.accepted_bodies += 1;
            for event in &events {
                check_event(event, stats);
            }
        }
        Err(error) => {
            *stats.refused.entry(error.reason()).or_default() += 1;
            if let PayloadError::InvalidJson(message) = &error {
                assert!(message.contains(" at line "), "{message}");
            }
        }
    }
    let diagnostic = parse_diagnostic(body);
    let outcome = match &diagnostic {
        Ok(event) => Expected::Accepted(vec![event.json]),
        Err(error) => Expected::Refused(error.reason()),
    };
    assert_eq!(
        outcome,
        expected_diagnostic(body),
        "diagnostic body {shown}"
    );
    if let Ok(event) = diagnostic {
        check_event(&event, stats);
    }
}

/// serde_json's decision on an analytics body: `RawValue` (skipping) for what is JSON,
/// refined by `Value` for nesting.
fn expected_analytics<'a>(body: &'a [u8], stats: &mut Stats) -> Expected<'a> {
    let Ok(raw) = serde_json::from_slice::<&RawValue>(body) else {
        assert!(serde_json::from_slice::<Value>(body).is_err());
        return Expected::Refused("invalid_json");
    };
    match serde_json::from_slice::<Value>(body) {
        Ok(_) => {}
        Err(error) if error.to_string().starts_with("recursion limit exceeded") => {
            stats.too_deep += 1;
            return Expected::Refused("invalid_json");
        }
        Err(error) => {
            let message = error.to_string();
            assert!(
                ["number out of range", "surrogate", "hex escape"]
                    .iter()
                    .any(|lenient| message.contains(lenient)),
                "serde_json's readers disagree on {raw}: {message}"
            );
            stats.lenient += 1;
        }
    }
    let Ok(elements) = serde_json::from_slice::<Vec<&RawValue>>(body) else {
        return Expected::Refused("wrong_body_type");
    };
    if elements
        .iter()
        .any(|element| !element.get().starts_with('{'))
    {
        return Expected::Refused("event_not_an_object");
    }
    Expected::Accepted(elements.iter().map(|element| element.get()).collect())
}

fn expected_diagnostic(body: &[u8]) -> Expected<'_> {
    let Ok(raw) = serde_json::from_slice::<&RawValue>(body) else {
        return Expected::Refused("invalid_json");
    };
    if let Err(error) = serde_json::from_slice::<Value>(body) {
        if error.to_string().starts_with("recursion limit exceeded") {
            return Expected::Refused("invalid_json");
        }
    }
    if raw.get().starts_with('{') {
        Expected::Accepted(vec![raw.get()])
    } else {
        Expected::Refused("wrong_body_type")
    }
}

/// One accepted event: the scanner's fields against serde's reading of the same text,
/// then every value validation may read.
#[track_caller]
fn check_event(event: &Event<'_>, stats: &mut Stats) {
    let json = event.json;
    let reference = serde_json::from_str::<ReferenceFields<'_>>(json);
    match (&event.fields(), &reference) {
        (Ok(fields), Ok(reference)) => {
            assert_eq!(fields_text(fields), reference.texts(), "fields of {json}");
            assert_eq!(
                fields.context_keys_member,
                fields.context_keys.and_then(Json::single_member),
                "the only member of contextKeys in {json}"
            );
            assert_eq!(
                fields.features_check.check(),
                super::summary::tests::reference(fields.features),
                "features of {json}"
            );
            for value in fields_text(fields).into_iter().flatten() {
                check_value(Json::parse(value).unwrap(), 3, stats);
            }
            match validate_event(event) {
                Ok(_) => stats.valid_events += 1,
                Err(_) => stats.dropped_events += 1,
            }
        }
        (Err(_), Err(_)) => stats.unreadable_events += 1,
        (fields, _) => panic!("fields of {json}: scanner {fields:?}, serde_json {reference:?}"),
    }
}

fn fields_text<'a>(fields: &Fields<'a>) -> [Option<&'a str>; 16] {
    [
        fields.kind,
        fields.creation_date,
        fields.key,
        fields.version,
        fields.variation,
        fields.sampling_ratio,
        fields.reason,
        fields.metric_value,
        fields.context,
        fields.context_keys,
        fields.start_date,
        fields.end_date,
        fields.features,
        fields.operation,
        fields.evaluation,
        fields.id,
    ]
    .map(|field| field.map(Json::get))
}

/// Every read of `value` against serde_json's reading of its text, then the same for
/// its members and elements, `levels` deep.
#[track_caller]
fn check_value(value: Json<'_>, levels: usize, stats: &mut Stats) {
    stats.values += 1;
    let text = value.get();
    let parsed = serde_json::from_str::<IgnoredAny>(text);
    assert!(parsed.is_ok(), "{text}");
    let is = |json_type| value.is(json_type);
    assert_eq!(
        value.as_u64(),
        is(JsonType::Number)
            .then(|| serde_json::from_str::<u64>(text).ok())
            .flatten(),
        "u64 of {text}"
    );
    assert_eq!(
        value.is_integer(),
        is(JsonType::Number)
            && (serde_json::from_str::<i64>(text).is_ok()
                || serde_json::from_str::<u64>(text).is_ok()),
        "integer {text}"
    );
    let string = value.as_str();
    assert_eq!(
        string.as_deref(),
        is(JsonType::String)
            .then(|| serde_json::from_str::<String>(text).ok())
            .flatten()
            .as_deref(),
        "string {text}"
    );
    if let Some(string) = string {
        assert_eq!(
            matches!(string, std::borrow::Cow::Borrowed(_)),
            !text.contains('\\')
        );
    }
    let members = value.members();
    let reference_members = is(JsonType::Object)
        .then(|| serde_json::from_str::<ReferenceMembers<'_>>(text).ok())
        .flatten();
    assert_eq!(
        members.as_ref().map(|members| members
            .iter()
            .map(|(key, value)| (key.to_string(), value.get()))
            .collect::<Vec<_>>()),
        reference_members.map(|members| members.0),
        "members of {text}"
    );
    if let Some(members) = &members {
        assert_eq!(
            value
                .single_member()
                .map(|(key, value)| (key.unescaped().map(|key| key.into_owned()), value.get())),
            (members.len() == 1).then(|| (Some(members[0].0.to_string()), members[0].1.get())),
            "single member of {text}"
        );
    }
    assert_eq!(
        value.fields(["key"]).map(|[key]| [key.map(Json::get)]),
        is(JsonType::Object)
            .then(|| serde_json::from_str::<ReferenceEvaluation<'_>>(text).ok())
            .flatten()
            .map(|evaluation| [evaluation.key.map(RawValue::get)]),
        "fields [key] of {text}"
    );
    assert_eq!(
        value
            .fields(["counters"])
            .map(|[counters]| counters.map(Json::get)),
        is(JsonType::Object)
            .then(|| serde_json::from_str::<ReferenceFeature<'_>>(text).ok())
            .flatten()
            .map(|feature| feature.counters.map(RawValue::get)),
        "fields [counters] of {text}"
    );
    assert_eq!(
        value
            .fields(["count", "version", "variation", "unknown"])
            .map(|fields| fields.map(|field| field.map(Json::get))),
        is(JsonType::Object)
            .then(|| serde_json::from_str::<ReferenceCounter<'_>>(text).ok())
            .flatten()
            .map(|counter| [
                counter.count,
                counter.version,
                counter.variation,
                counter.unknown
            ]
            .map(|field| field.map(RawValue::get))),
        "counter fields of {text}"
    );
    let elements = value.elements();
    assert_eq!(
        elements.as_ref().map(|elements| elements
            .iter()
            .map(|element| element.get())
            .collect::<Vec<_>>()),
        is(JsonType::Array)
            .then(|| serde_json::from_str::<Vec<&RawValue>>(text).ok())
            .flatten()
            .map(|elements| elements.iter().map(|element| element.get()).collect()),
        "elements of {text}"
    );
    if levels > 0 {
        for (_, member) in members.unwrap_or_default() {
            check_value(member, levels - 1, stats);
        }
        for element in elements.unwrap_or_default() {
            check_value(element, levels - 1, stats);
        }
    }
}

/// How ingest read an event's checked fields before the scanner: a serde struct of
/// borrowed `RawValue`s, unknown fields skipped, a checked field named twice an error.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReferenceFields<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    kind: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    creation_date: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    key: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    version: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    variation: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    sampling_ratio: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    reason: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    metric_value: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    context: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    context_keys: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    start_date: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    end_date: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    features: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    operation: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    evaluation: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
}

impl<'a> ReferenceFields<'a> {
    fn texts(&self) -> [Option<&'a str>; 16] {
        [
            self.kind,
            self.creation_date,
            self.key,
            self.version,
            self.variation,
            self.sampling_ratio,
            self.reason,
            self.metric_value,
            self.context,
            self.context_keys,
            self.start_date,
            self.end_date,
            self.features,
            self.operation,
            self.evaluation,
            self.id,
        ]
        .map(|field| field.map(RawValue::get))
    }
}

#[derive(Deserialize)]
struct ReferenceEvaluation<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    key: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ReferenceFeature<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    counters: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ReferenceCounter<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    count: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    version: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    variation: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    unknown: Option<&'a RawValue>,
}

/// `Some` whenever the field is there, also when it is `null`.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

/// An object's members in document order, duplicates kept, keys read as strings.
struct ReferenceMembers<'a>(Vec<(String, &'a str)>);

impl<'de> Deserialize<'de> for ReferenceMembers<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = ReferenceMembers<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    members.push((name, map.next_value::<&'de RawValue>()?.get()));
                }
                Ok(ReferenceMembers(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

/// The events of this crate's tests (`validate/tests.rs`, `tests/it`), as they are sent.
const TEST_EVENTS: &[&str] = &[
    r#"{"kind":"index","creationDate":1718000000123,"context":{"kind":"user","key":"u-5","email":"a@x.io"}}"#,
    r#"{"kind":"feature","creationDate":1718000000456,"key":"new-checkout","version":7,"context":{"kind":"user","key":"u-5"},"variation":1,"value":true,"default":false,"reason":{"kind":"RULE_MATCH","ruleIndex":0,"inExperiment":true}}"#,
    r#"{"kind":"feature","creationDate":1718000000123,"key":"new-checkout","version":7,"context":{"kind":"user","key":"u-5"},"variation":1,"value":true,"default":false}"#,
    r#"{"kind":"custom","creationDate":1718000000789,"key":"checkout-completed","contextKeys":{"user":"u-5"},"data":{"cart":3},"metricValue":59.9}"#,
    r#"{"kind":"identify","creationDate":1,"context":{"kind":"org","key":"o"}}"#,
    r#"{"kind":"identify","creationDate":1718000000123,"context":{"kind":"org","key":"acme"}}"#,
    r#"{"kind":"summary","startDate":1718000000000,"endDate":1718000005000,"features":{"new-checkout":{"default":false,"contextKinds":["user"],"counters":[{"variation":1,"version":7,"value":true,"count":41}]},"ghost-flag":{"default":"x","counters":[{"unknown":true,"value":"x","count":2}]}}}"#,
    r#"{"kind":"migration_op","creationDate":1718000001000,"operation":"read","contextKeys":{"user":"u-5"},"evaluation":{"key":"db-migration","value":"shadow","default":"off"},"measurements":[]}"#,
    r#"{"kind":"diagnostic-init","creationDate":1718000000123,"id":{"diagnosticId":"3f1c","sdkKeySuffix":"abcdef"},"sdk":{"name":"rust-server-sdk"},"configuration":{},"platform":{}}"#,
    r#"{"kind":"custom","creationDate":1,"key":"k","key":"k","contextKeys":{"user":"u"}}"#,
    r#"{"kind":"cust\u006fm","creationDate":1,"key":"k\"","contextKeys":{"us\u0065r":"u\n"}}"#,
    r#"{"kind":"feature","creationDate":-1,"key":"","version":"7","variation":1.5,"reason":"RULE_MATCH","context":{"kind":"user"}}"#,
    r#"{"kind":"summary","startDate":5,"endDate":1,"features":{"f":{"counters":[{"count":-1,"version":"7"}]}}}"#,
    r#"{"kind":"alias","creationDate":1}"#,
    r#"{"kind":"feature"}"#,
    r#"{}"#,
];

/// Bodies as text: mostly plausible events with odd values here and there, whitespace
/// anywhere, escapes, unicode, edge numbers and duplicate keys.
struct Generator(Rng);

impl Generator {
    fn chance(&mut self, one_in: u64) -> bool {
        self.0.below(one_in) == 0
    }

    fn pick<'p>(&mut self, pool: &[&'p str]) -> &'p str {
        pool[self.0.below(pool.len() as u64) as usize]
    }

    fn whitespace(&mut self, out: &mut String) {
        if self.chance(6) {
            for _ in 0..=self.0.below(3) {
                out.push(
                    *[' ', '\n', '\t', '\r']
                        .get(self.0.below(4) as usize)
                        .unwrap_or(&' '),
                );
            }
        }
    }

    fn body(&mut self) -> String {
        let mut out = String::new();
        self.whitespace(&mut out);
        out.push('[');
        let events = self.0.below(5);
        for index in 0..events {
            if index > 0 {
                self.whitespace(&mut out);
                out.push(',');
            }
            self.whitespace(&mut out);
            if self.chance(40) {
                self.value(&mut out, 2);
            } else {
                self.event(&mut out);
            }
        }
        self.whitespace(&mut out);
        out.push(']');
        self.whitespace(&mut out);
        out
    }

    fn event(&mut self, out: &mut String) {
        let kind = self.pick(&[
            "feature",
            "feature",
            "custom",
            "custom",
            "index",
            "identify",
            "summary",
            "debug",
            "migration_op",
            "alias",
            "diagnostic",
            "cust\\u006fm",
        ]);
        let mut members: Vec<(&str, String)> = vec![("kind", format!("\"{kind}\""))];
        let context_keys = format!("{{\"user\":\"{}\"}}", self.string_content());
        let context = format!(
            "{{\"kind\":\"user\",\"key\":\"{}\"}}",
            self.string_content()
        );
        let user = if self.chance(2) {
            ("contextKeys", context_keys)
        } else {
            ("context", context)
        };
        let creation = (
            "creationDate",
            self.pick(&["1718000000456", "1", "0"]).to_owned(),
        );
        match kind {
            "summary" => {
                members.push(("startDate", "1718000000000".into()));
                members.push(("endDate", self.pick(&["1718000005000", "1"]).into()));
                let counter = format!(
                    r#"{{"variation":{},"version":{},"value":true,"count":{}{}}}"#,
                    self.pick(&["0", "1", "null", "-1"]),
                    self.pick(&["7", "null", "\"7\""]),
                    self.pick(&["41", "0", "-1", "1.0"]),
                    self.pick(&["", "", ",\"unknown\":true", ",\"unknown\":1"]),
                );
                members.push((
                    "features",
                    format!(r#"{{"flag-1":{{"default":false,"counters":[{counter}]}}}}"#),
                ));
            }
            "migration_op" => {
                members.push(creation);
                members.push((
                    "operation",
                    self.pick(&["\"read\"", "\"write\"", "\"x\""]).into(),
                ));
                members.push((
                    "evaluation",
                    r#"{"key":"db-migration","value":"shadow"}"#.into(),
                ));
                members.push(user);
            }
            _ => {
                members.push(creation);
                members.push(("key", format!("\"{}\"", self.string_content())));
                members.push(user);
                members.push(("version", "7".into()));
                members.push(("variation", self.pick(&["1", "null"]).into()));
                members.push(("value", "true".into()));
                members.push(("metricValue", "59.9".into()));
                members.push(("reason", r#"{"kind":"FALLTHROUGH"}"#.into()));
            }
        }
        // Odd values, missing and doubled fields, unknown and escaped names.
        for member in members.iter_mut() {
            if self.chance(8) {
                let mut odd = String::new();
                self.value(&mut odd, 2);
                member.1 = odd;
            }
        }
        if self.chance(8) {
            let index = self.0.below(members.len() as u64) as usize;
            members.remove(index);
        }
        if self.chance(12) {
            let index = self.0.below(members.len() as u64) as usize;
            let doubled = members[index].clone();
            members.push(doubled);
        }
        let extra = self.pick(&[
            "data",
            "default",
            "prereqOf",
            "k\\u0069nd",
            "\\u006bey",
            "",
            "contextKind",
            "samplingRatio",
            "id",
            "\\ud800",
            "m\\u00e9",
        ]);
        if self.chance(3) {
            let mut value = String::new();
            self.value(&mut value, 3);
            members.push((extra, value));
        }
        out.push('{');
        for (index, (name, value)) in members.iter().enumerate() {
            if index > 0 {
                self.whitespace(out);
                out.push(',');
            }
            self.whitespace(out);
            out.push('"');
            out.push_str(name);
            out.push('"');
            self.whitespace(out);
            out.push(':');
            self.whitespace(out);
            out.push_str(value);
            self.whitespace(out);
        }
        out.push('}');
    }

    fn string_content(&mut self) -> String {
        let mut content = String::new();
        for _ in 0..=self.0.below(3) {
            content.push_str(self.pick(&[
                "u-5",
                "user-0001",
                "a:b%c",
                "é",
                "日本",
                "😀",
                "\\\"",
                "\\\\",
                "\\/",
                "\\n",
                "\\u00e9",
                "\\ud83d\\ude00",
                "\\ud800",
                "\\udc00x",
                "\\b\\f\\r\\t",
                " ",
                "\u{7f}",
            ]));
        }
        content
    }

    fn value(&mut self, out: &mut String, levels: usize) {
        let choice = if levels == 0 {
            self.0.below(4)
        } else {
            self.0.below(6)
        };
        match choice {
            0 => {
                out.push('"');
                let content = self.string_content();
                out.push_str(&content);
                out.push('"');
            }
            // Now and then a number JSON does not allow.
            1 if self.chance(40) => out.push_str(self.pick(&[
                "01",
                "-01",
                "00",
                "-",
                "1.",
                ".5",
                "1e",
                "1e+",
                "+1",
                "1.e3",
                "0x10",
                "NaN",
                "-Infinity",
                "1_000",
            ])),
            1 => out.push_str(self.pick(&[
                "0",
                "-0",
                "7",
                "1718000000456",
                "-1",
                "1.5",
                "59.9",
                "1e3",
                "1E+2",
                "-0.0e-0",
                "1e400",
                "-1e400",
                "18446744073709551615",
                "18446744073709551616",
                "-9223372036854775808",
                "-9223372036854775809",
                "123456789012345678901234567890",
                "0.1e-400",
            ])),
            2 => out.push_str(self.pick(&["true", "false", "null"])),
            3 => out.push_str(self.pick(&["{}", "[]", "\"\""])),
            4 => {
                out.push('[');
                for index in 0..self.0.below(4) {
                    if index > 0 {
                        out.push(',');
                    }
                    self.whitespace(out);
                    self.value(out, levels - 1);
                }
                out.push(']');
            }
            _ => {
                out.push('{');
                for index in 0..self.0.below(4) {
                    if index > 0 {
                        out.push(',');
                    }
                    let name =
                        self.pick(&["key", "user", "count", "counters", "kind", "a", "k\\u0065y"]);
                    out.push('"');
                    out.push_str(name);
                    out.push_str("\":");
                    self.whitespace(out);
                    self.value(out, levels - 1);
                }
                out.push('}');
            }
        }
    }

    /// One of: a truncation, a byte replaced, inserted or removed, a BOM or form feed in
    /// front, a trailing comma, or a top-level value that is not an array.
    fn mutate(&mut self, mut body: Vec<u8>, round: usize) -> Vec<u8> {
        const BYTES: &[u8] = b"\"\\{}[],: 0-e.tn\x00\x0c\x1f\xff\xc3\x80u";
        let at = self.0.below(body.len() as u64 + 1) as usize;
        let byte = BYTES[self.0.below(BYTES.len() as u64) as usize];
        match round % 9 {
            0 => body.truncate(at),
            1 if at < body.len() => body[at] = byte,
            2 => body.insert(at, byte),
            3 if at < body.len() => {
                body.remove(at);
            }
            4 => body.splice(0..0, *b"\xef\xbb\xbf").for_each(drop),
            5 => {
                let closing = body.iter().rposition(|byte| *byte == b']' || *byte == b'}');
                if let Some(closing) = closing {
                    body.insert(closing, b',');
                }
            }
            6 => {
                let mut event = String::new();
                self.event(&mut event);
                body = event.into_bytes();
            }
            7 => {
                let mut value = String::new();
                self.value(&mut value, 2);
                body = format!("[{{}},{value}]").into_bytes();
            }
            _ => body.splice(0..0, *b"\x0c").for_each(drop),
        }
        body
    }
}

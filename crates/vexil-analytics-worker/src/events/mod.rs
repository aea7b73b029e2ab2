//! SDK analytics events (spec 6.3) as the worker reads them from an envelope's
//! `event_json`: only the fields the aggregates use, every other field ignored.

pub mod context;

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

pub use context::{EventContext, Individual};

/// Why an event's JSON cannot be processed; it goes to the dead-letter topic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid event: {0}")]
pub struct InvalidEvent(pub String);

impl InvalidEvent {
    pub fn new(detail: impl Into<String>) -> Self {
        InvalidEvent(detail.into())
    }
}

/// One event, reduced to what the aggregates need.
#[derive(Debug, Clone, PartialEq)]
pub enum SdkEvent {
    Summary(Summary),
    /// `feature` and `debug` events: one evaluation each.
    Evaluation(Evaluation),
    Custom(Custom),
    /// `index` and `identify`: a context was seen.
    ContextSeen {
        creation_date: Option<i64>,
        context: EventContext,
    },
    /// Kinds without aggregates (`migration_op`, diagnostics, kinds added by future SDKs).
    Ignored,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub start_date: Option<i64>,
    pub end_date: Option<i64>,
    pub flags: Vec<FlagSummary>,
    /// Client-side SDKs may say whose evaluations these are.
    pub context: Option<EventContext>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlagSummary {
    pub flag_key: String,
    pub counters: Vec<Counter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub variation: Option<i32>,
    /// `None` for an unknown flag.
    pub version: Option<i64>,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// `debug` events are copies sent while debugging is on; they never count as exposures.
    pub is_debug: bool,
    pub creation_date: Option<i64>,
    pub flag_key: String,
    pub variation: Option<i32>,
    pub is_in_experiment: bool,
    pub context: EventContext,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Custom {
    pub creation_date: Option<i64>,
    pub event_key: String,
    pub metric_value: Option<f64>,
    pub context: EventContext,
}

/// Parses an event of the given envelope `kind`.
pub fn parse(kind: &str, json: &[u8]) -> Result<SdkEvent, InvalidEvent> {
    match kind {
        "summary" => {
            let raw: RawSummary = from_json(json)?;
            let context = EventContext::from_fields(raw.context.as_ref(), None)?;
            let mut flags = Vec::with_capacity(raw.features.len());
            for (flag_key, flag) in raw.features {
                let counters = flag
                    .counters
                    .into_iter()
                    .map(|counter| {
                        Ok(Counter {
                            variation: counter.variation,
                            version: if counter.unknown {
                                None
                            } else {
                                counter.version
                            },
                            count: i64::try_from(counter.count)
                                .map_err(|_| InvalidEvent::new("counter count out of range"))?,
                        })
                    })
                    .collect::<Result<_, InvalidEvent>>()?;
                flags.push(FlagSummary { flag_key, counters });
            }
            Ok(SdkEvent::Summary(Summary {
                start_date: raw.start_date,
                end_date: raw.end_date,
                flags,
                context,
            }))
        }
        "feature" | "debug" => {
            let raw: RawEvaluation = from_json(json)?;
            Ok(SdkEvent::Evaluation(Evaluation {
                is_debug: kind == "debug",
                creation_date: raw.creation_date,
                flag_key: raw.key,
                variation: raw.variation,
                is_in_experiment: raw.reason.and_then(|reason| reason.in_experiment) == Some(true),
                context: required_context(raw.context.as_ref(), raw.context_keys.as_ref())?,
            }))
        }
        "custom" => {
            let raw: RawCustom = from_json(json)?;
            if raw.metric_value.is_some_and(|value| !value.is_finite()) {
                return Err(InvalidEvent::new("`metricValue` is not a finite number"));
            }
            Ok(SdkEvent::Custom(Custom {
                creation_date: raw.creation_date,
                event_key: raw.key,
                metric_value: raw.metric_value,
                context: required_context(raw.context.as_ref(), raw.context_keys.as_ref())?,
            }))
        }
        "index" | "identify" => {
            let raw: RawContextEvent = from_json(json)?;
            Ok(SdkEvent::ContextSeen {
                creation_date: raw.creation_date,
                context: required_context(Some(&raw.context), None)?,
            })
        }
        _ => Ok(SdkEvent::Ignored),
    }
}

fn from_json<'a, T: Deserialize<'a>>(json: &'a [u8]) -> Result<T, InvalidEvent> {
    serde_json::from_slice(json).map_err(|error| InvalidEvent::new(error.to_string()))
}

fn required_context(
    context: Option<&Value>,
    context_keys: Option<&BTreeMap<String, String>>,
) -> Result<EventContext, InvalidEvent> {
    EventContext::from_fields(context, context_keys)?
        .ok_or_else(|| InvalidEvent::new("neither `context` nor `contextKeys`"))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSummary {
    start_date: Option<i64>,
    end_date: Option<i64>,
    #[serde(default)]
    features: BTreeMap<String, RawFlagSummary>,
    context: Option<Value>,
}

#[derive(Deserialize)]
struct RawFlagSummary {
    #[serde(default)]
    counters: Vec<RawCounter>,
}

#[derive(Deserialize)]
struct RawCounter {
    variation: Option<i32>,
    version: Option<i64>,
    #[serde(default)]
    unknown: bool,
    count: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvaluation {
    creation_date: Option<i64>,
    key: String,
    variation: Option<i32>,
    reason: Option<RawReason>,
    context: Option<Value>,
    context_keys: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawReason {
    in_experiment: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCustom {
    creation_date: Option<i64>,
    key: String,
    metric_value: Option<f64>,
    context: Option<Value>,
    context_keys: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawContextEvent {
    creation_date: Option<i64>,
    context: Value,
}

#[cfg(test)]
mod tests;

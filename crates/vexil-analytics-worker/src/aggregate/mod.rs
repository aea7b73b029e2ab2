//! Folds a batch of events into the changes it makes to every aggregate. Pure: the store
//! applies the result in the transaction that also advances the consumed offset.
//!
//! Counting rules (docs/analytics-worker.md):
//! - Evaluation counts come from `summary` counters only. SDKs count every evaluation in
//!   the summary, including those also sent as `feature` or `debug` events (spec 6.4), so
//!   counting those as well would count them twice.
//! - `feature` and `debug` events give what summaries cannot: which context evaluated the
//!   flag (distinct contexts, contexts seen) and experiment exposures (`feature` only).
//! - A summary's evaluations fall in the minute bucket of its `endDate`.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::events::{EventContext, SdkEvent};
use crate::stats::hll::HyperLogLog;

/// Width of the evaluation and custom-event buckets.
pub const BUCKET_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 3600 * 1000;
/// Stored for "no variation index" and "unknown flag".
pub const NONE: i64 = -1;

/// An event that passed validation and de-duplication.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub environment_id: Uuid,
    pub received_at_ms: i64,
    pub event: SdkEvent,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EvaluationKey {
    pub environment_id: Uuid,
    pub flag_key: String,
    pub bucket_start_ms: i64,
    pub variation: i32,
    pub flag_version: i64,
}

/// A context to list or refresh in `contexts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextUpdate {
    pub name: Option<String>,
    pub last_seen_ms: i64,
    /// Whether this batch may add it to the list: only full, non-anonymous contexts may;
    /// a context known only by `contextKeys` just refreshes an existing entry.
    pub may_insert: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CustomTotals {
    pub count: i64,
    pub value_count: i64,
    pub value_sum: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exposure {
    pub variation: i32,
    pub at_ms: i64,
}

/// A custom event, to join with the experiment exposures of its context.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricEvent {
    pub environment_id: Uuid,
    pub context_key: String,
    pub metric_key: String,
    /// `metricValue`, 0 when the event had none (it still converts).
    pub value: f64,
    pub at_ms: i64,
}

/// Everything one batch changes. Maps are ordered so rows are always written in the same
/// order, which keeps concurrent transactions from deadlocking.
#[derive(Debug, Default)]
pub struct BatchAggregates {
    pub evaluations: BTreeMap<EvaluationKey, i64>,
    pub last_evaluated: BTreeMap<(Uuid, String), i64>,
    /// Per environment, flag and UTC day (days since 1970-01-01).
    pub sketches: BTreeMap<(Uuid, String, i32), HyperLogLog>,
    pub contexts: BTreeMap<(Uuid, String, String), ContextUpdate>,
    pub custom_events: BTreeMap<(Uuid, String, i64), CustomTotals>,
    /// Per environment, flag and canonical context key, the first exposure in the batch.
    pub exposures: BTreeMap<(Uuid, String, String), Exposure>,
    pub metric_events: Vec<MetricEvent>,
}

impl BatchAggregates {
    pub fn add(&mut self, accepted: &Accepted) {
        let environment_id = accepted.environment_id;
        let received = accepted.received_at_ms;
        match &accepted.event {
            SdkEvent::Summary(summary) => {
                let at = summary.end_date.or(summary.start_date).unwrap_or(received);
                for flag in &summary.flags {
                    for counter in &flag.counters {
                        if counter.count == 0 {
                            continue;
                        }
                        let key = EvaluationKey {
                            environment_id,
                            flag_key: flag.flag_key.clone(),
                            bucket_start_ms: bucket_start(at),
                            variation: counter.variation.unwrap_or(NONE as i32),
                            flag_version: counter.version.unwrap_or(NONE),
                        };
                        *self.evaluations.entry(key).or_default() += counter.count;
                    }
                    self.evaluated(environment_id, &flag.flag_key, at);
                    if let Some(context) = &summary.context {
                        self.sketch(environment_id, &flag.flag_key, at, context);
                    }
                }
                if let Some(context) = &summary.context {
                    self.seen(environment_id, context, at);
                }
            }
            SdkEvent::Evaluation(evaluation) => {
                let at = evaluation.creation_date.unwrap_or(received);
                self.evaluated(environment_id, &evaluation.flag_key, at);
                self.sketch(
                    environment_id,
                    &evaluation.flag_key,
                    at,
                    &evaluation.context,
                );
                self.seen(environment_id, &evaluation.context, at);
                if let (false, true, Some(variation)) = (
                    evaluation.is_debug,
                    evaluation.is_in_experiment,
                    evaluation.variation,
                ) {
                    let key = (
                        environment_id,
                        evaluation.flag_key.clone(),
                        evaluation.context.canonical_key(),
                    );
                    self.exposures.entry(key).or_insert(Exposure {
                        variation,
                        at_ms: at,
                    });
                }
            }
            SdkEvent::Custom(custom) => {
                let at = custom.creation_date.unwrap_or(received);
                let totals = self
                    .custom_events
                    .entry((environment_id, custom.event_key.clone(), bucket_start(at)))
                    .or_default();
                totals.count += 1;
                if let Some(value) = custom.metric_value {
                    totals.value_count += 1;
                    totals.value_sum += value;
                }
                self.seen(environment_id, &custom.context, at);
                self.metric_events.push(MetricEvent {
                    environment_id,
                    context_key: custom.context.canonical_key(),
                    metric_key: custom.event_key.clone(),
                    value: custom.metric_value.unwrap_or(0.0),
                    at_ms: at,
                });
            }
            SdkEvent::ContextSeen {
                creation_date,
                context,
            } => self.seen(environment_id, context, creation_date.unwrap_or(received)),
            SdkEvent::Ignored => {}
        }
    }

    fn evaluated(&mut self, environment_id: Uuid, flag_key: &str, at: i64) {
        let last = self
            .last_evaluated
            .entry((environment_id, flag_key.to_owned()))
            .or_insert(at);
        *last = (*last).max(at);
    }

    fn sketch(&mut self, environment_id: Uuid, flag_key: &str, at: i64, context: &EventContext) {
        let day = i32::try_from(at.div_euclid(DAY_MS)).unwrap_or(i32::MAX);
        self.sketches
            .entry((environment_id, flag_key.to_owned(), day))
            .or_default()
            .insert(context.canonical_key().as_bytes());
    }

    fn seen(&mut self, environment_id: Uuid, context: &EventContext, at: i64) {
        for individual in &context.individuals {
            if individual.is_anonymous {
                continue;
            }
            let update = ContextUpdate {
                name: individual.name.clone(),
                last_seen_ms: at,
                may_insert: context.is_full,
            };
            let key = (
                environment_id,
                individual.kind.clone(),
                individual.key.clone(),
            );
            let entry = self.contexts.entry(key).or_insert_with(|| update.clone());
            if update.last_seen_ms >= entry.last_seen_ms {
                entry.last_seen_ms = update.last_seen_ms;
                if update.name.is_some() {
                    entry.name = update.name;
                }
            }
            entry.may_insert |= update.may_insert;
        }
    }
}

/// The start of the minute bucket holding `at_ms`.
pub fn bucket_start(at_ms: i64) -> i64 {
    at_ms - at_ms.rem_euclid(BUCKET_MS)
}

#[cfg(test)]
mod tests;

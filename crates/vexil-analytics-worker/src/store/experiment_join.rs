//! The pure half of the experiment join, shared by every store: which unit (exposed context)
//! each custom event of a batch adds to, and how the new per-unit totals change the
//! per-variation statistics. The join rule: a custom event of metric M for context C counts
//! for experiment flag F when C (by the canonical key of its whole context) was exposed to F,
//! with a first exposure whose `creationDate` is not later than the event's, recorded before
//! or in the same batch as the event. The event adds to C's total for (F, M) under the
//! variation of C's first exposure.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::aggregate::MetricEvent;
use crate::stats::experiment::{contribution, StatisticsDelta, UnitTotal};

/// (environment, flag, metric, context) -> (variation, events, value sum) of this batch.
pub type UnitDeltas = BTreeMap<(Uuid, String, String, String), (i32, i64, f64)>;

/// (environment, flag, variation, metric): the key of the per-variation statistics.
pub type StatisticsKey = (Uuid, String, i32, String);

/// A stored first exposure of a context that has custom events in the batch.
#[derive(Debug, Clone)]
pub struct StoredExposure {
    pub environment_id: Uuid,
    pub context_key: String,
    pub flag_key: String,
    pub variation: i32,
    pub first_exposed_ms: i64,
}

/// A unit's totals for one metric after the batch's deltas were added.
#[derive(Debug, Clone)]
pub struct UnitTotalsRow {
    pub environment_id: Uuid,
    pub flag_key: String,
    pub metric_key: String,
    pub context_key: String,
    pub variation: i32,
    pub event_count: i64,
    pub value_sum: f64,
}

/// Each custom event's contribution to the totals of the units it belongs to.
pub fn unit_deltas(exposures: &[StoredExposure], metric_events: &[MetricEvent]) -> UnitDeltas {
    let mut by_context: BTreeMap<(Uuid, &str), Vec<&StoredExposure>> = BTreeMap::new();
    for exposure in exposures {
        by_context
            .entry((exposure.environment_id, exposure.context_key.as_str()))
            .or_default()
            .push(exposure);
    }
    let mut deltas = UnitDeltas::new();
    for event in metric_events {
        let Some(flags) = by_context.get(&(event.environment_id, event.context_key.as_str()))
        else {
            continue;
        };
        for exposure in flags {
            if exposure.first_exposed_ms > event.at_ms {
                continue;
            }
            let key = (
                event.environment_id,
                exposure.flag_key.clone(),
                event.metric_key.clone(),
                event.context_key.clone(),
            );
            let delta = deltas.entry(key).or_insert((exposure.variation, 0, 0.0));
            delta.1 += 1;
            delta.2 += event.value;
        }
    }
    deltas
}

/// The change of the per-variation statistics, from each updated unit's totals (`after`)
/// and the batch's `deltas` (so `before` = `after` - delta).
pub fn statistics_deltas(
    deltas: &UnitDeltas,
    totals: impl IntoIterator<Item = UnitTotalsRow>,
) -> BTreeMap<StatisticsKey, StatisticsDelta> {
    let mut statistics: BTreeMap<StatisticsKey, StatisticsDelta> = BTreeMap::new();
    for row in totals {
        let key = (
            row.environment_id,
            row.flag_key,
            row.metric_key,
            row.context_key,
        );
        let Some((_, events, sum)) = deltas.get(&key) else {
            continue;
        };
        let after = UnitTotal {
            events: row.event_count,
            value_sum: row.value_sum,
        };
        let before = UnitTotal {
            events: row.event_count - events,
            value_sum: row.value_sum - sum,
        };
        let (environment_id, flag_key, metric_key, _) = key;
        statistics
            .entry((environment_id, flag_key, row.variation, metric_key))
            .or_default()
            .add(contribution(before, after));
    }
    statistics
}

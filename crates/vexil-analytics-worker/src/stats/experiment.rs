//! Sufficient statistics of an experiment's metric, per variation: units, conversions, and
//! the sum and sum of squares of each unit's total metric value. A unit's total grows one
//! batch at a time; [`contribution`] turns "this unit's total went from `before` to
//! `after`" into the change of the per-variation statistics, so they stay exact without
//! re-reading every unit.

/// One exposed context's events of a metric after its first exposure.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct UnitTotal {
    pub events: i64,
    pub value_sum: f64,
}

/// A change of a variation's statistics for one metric.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StatisticsDelta {
    pub conversions: i64,
    pub value_sum: f64,
    pub value_sum_squares: f64,
}

impl StatisticsDelta {
    pub fn add(&mut self, other: StatisticsDelta) {
        self.conversions += other.conversions;
        self.value_sum += other.value_sum;
        self.value_sum_squares += other.value_sum_squares;
    }
}

/// How a unit whose total went from `before` to `after` changes its variation's
/// statistics: a first event converts it; the sum moves by the difference and the sum of
/// squares by `after² - before²`.
pub fn contribution(before: UnitTotal, after: UnitTotal) -> StatisticsDelta {
    StatisticsDelta {
        conversions: i64::from(before.events == 0 && after.events > 0),
        value_sum: after.value_sum - before.value_sum,
        value_sum_squares: after.value_sum * after.value_sum - before.value_sum * before.value_sum,
    }
}

/// The conversion rate of a variation, in [0, 1] (0 without units).
pub fn conversion_rate(conversions: u64, units: u64) -> f64 {
    if units == 0 {
        0.0
    } else {
        (conversions.min(units) as f64) / units as f64
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Feeding a unit's events in any split across batches gives the statistics of
        /// its final total.
        #[test]
        fn batched_contributions_equal_the_final_totals(
            batches in prop::collection::vec(prop::collection::vec(-1000i32..1000, 0..5), 1..6)
        ) {
            let mut total = UnitTotal::default();
            let mut statistics = StatisticsDelta::default();
            for batch in &batches {
                let after = UnitTotal {
                    events: total.events + batch.len() as i64,
                    value_sum: total.value_sum + batch.iter().map(|v| f64::from(*v)).sum::<f64>(),
                };
                statistics.add(contribution(total, after));
                total = after;
            }
            prop_assert_eq!(statistics.conversions, i64::from(total.events > 0));
            prop_assert!((statistics.value_sum - total.value_sum).abs() < 1e-6);
            prop_assert!((statistics.value_sum_squares - total.value_sum * total.value_sum).abs() < 1e-3);
        }

        #[test]
        fn conversion_rate_stays_in_the_unit_interval(conversions in any::<u64>(), units in any::<u64>()) {
            let rate = conversion_rate(conversions, units);
            prop_assert!((0.0..=1.0).contains(&rate));
        }
    }
}

//! Experiment exposures joined with custom events into per-variation sufficient
//! statistics, on SQLite: the same steps as `store/postgres/experiments.rs`, one row per
//! statement. The join rule and its pure half are in `store/experiment_join.rs`.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::SqliteConnection;
use uuid::Uuid;

use super::aggregates::clamped;
use crate::aggregate::BatchAggregates;
use crate::stats::experiment::StatisticsDelta;
use crate::store::experiment_join::{
    statistics_deltas, unit_deltas, StatisticsKey, StoredExposure, UnitDeltas, UnitTotalsRow,
};

pub async fn apply(
    connection: &mut SqliteConnection,
    batch: &BatchAggregates,
) -> Result<(), sqlx::Error> {
    record_exposures(connection, batch).await?;
    if batch.metric_events.is_empty() {
        return Ok(());
    }
    let deltas = join_with_exposures(connection, batch).await?;
    if deltas.is_empty() {
        return Ok(());
    }
    let statistics = update_unit_totals(connection, &deltas).await?;
    update_statistics(connection, &statistics).await
}

/// Inserts first exposures; each new one is a new unit of its variation.
async fn record_exposures(
    connection: &mut SqliteConnection,
    batch: &BatchAggregates,
) -> Result<(), sqlx::Error> {
    let mut units: BTreeMap<(Uuid, &str, i32), i64> = BTreeMap::new();
    for ((environment_id, flag_key, context_key), exposure) in &batch.exposures {
        let inserted = sqlx::query(
            r#"
            INSERT INTO experiment_exposures
                (environment_id, flag_key, context_key, variation, first_exposed_at_ms)
            VALUES (?1, ?2, ?3, ?4, ?5)
            ON CONFLICT DO NOTHING
            "#,
        )
        .bind(environment_id.hyphenated())
        .bind(flag_key)
        .bind(context_key)
        .bind(exposure.variation)
        .bind(clamped(exposure.at_ms))
        .execute(&mut *connection)
        .await?;
        if inserted.rows_affected() == 1 {
            *units
                .entry((*environment_id, flag_key.as_str(), exposure.variation))
                .or_default() += 1;
        }
    }
    for ((environment_id, flag_key, variation), count) in units {
        sqlx::query(
            r#"
            INSERT INTO experiment_units (environment_id, flag_key, variation, units)
            VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT (environment_id, flag_key, variation)
                DO UPDATE SET units = units + excluded.units
            "#,
        )
        .bind(environment_id.hyphenated())
        .bind(flag_key)
        .bind(variation)
        .bind(count)
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

/// Each custom event's contribution to the totals of the units it belongs to.
async fn join_with_exposures(
    connection: &mut SqliteConnection,
    batch: &BatchAggregates,
) -> Result<UnitDeltas, sqlx::Error> {
    let contexts: BTreeSet<(Uuid, &str)> = batch
        .metric_events
        .iter()
        .map(|event| (event.environment_id, event.context_key.as_str()))
        .collect();
    let mut exposures = Vec::new();
    for (environment_id, context_key) in contexts {
        let rows: Vec<(String, i32, i64)> = sqlx::query_as(
            r#"
            SELECT flag_key, variation, first_exposed_at_ms FROM experiment_exposures
            WHERE environment_id = ?1 AND context_key = ?2
            "#,
        )
        .bind(environment_id.hyphenated())
        .bind(context_key)
        .fetch_all(&mut *connection)
        .await?;
        exposures.extend(
            rows.into_iter()
                .map(|(flag_key, variation, at)| StoredExposure {
                    environment_id,
                    context_key: context_key.to_owned(),
                    flag_key,
                    variation,
                    first_exposed_ms: at,
                }),
        );
    }
    Ok(unit_deltas(&exposures, &batch.metric_events))
}

/// Adds the deltas to each unit's totals and returns the resulting change of the
/// per-variation statistics.
async fn update_unit_totals(
    connection: &mut SqliteConnection,
    deltas: &UnitDeltas,
) -> Result<BTreeMap<StatisticsKey, StatisticsDelta>, sqlx::Error> {
    let mut totals = Vec::with_capacity(deltas.len());
    for ((environment_id, flag_key, metric_key, context_key), (variation, events, sum)) in deltas {
        // The stored variation is the first exposure's; an update keeps it.
        let (variation, event_count, value_sum): (i32, i64, f64) = sqlx::query_as(
            r#"
            INSERT INTO experiment_context_metrics
                (environment_id, flag_key, metric_key, context_key, variation, event_count, value_sum)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            ON CONFLICT (environment_id, flag_key, metric_key, context_key) DO UPDATE SET
                event_count = event_count + excluded.event_count,
                value_sum = value_sum + excluded.value_sum
            RETURNING variation, event_count, value_sum
            "#,
        )
        .bind(environment_id.hyphenated())
        .bind(flag_key)
        .bind(metric_key)
        .bind(context_key)
        .bind(variation)
        .bind(events)
        .bind(sum)
        .fetch_one(&mut *connection)
        .await?;
        totals.push(UnitTotalsRow {
            environment_id: *environment_id,
            flag_key: flag_key.clone(),
            metric_key: metric_key.clone(),
            context_key: context_key.clone(),
            variation,
            event_count,
            value_sum,
        });
    }
    Ok(statistics_deltas(deltas, totals))
}

async fn update_statistics(
    connection: &mut SqliteConnection,
    statistics: &BTreeMap<StatisticsKey, StatisticsDelta>,
) -> Result<(), sqlx::Error> {
    for ((environment_id, flag_key, variation, metric_key), delta) in statistics {
        sqlx::query(
            r#"
            INSERT INTO experiment_metric_stats
                (environment_id, flag_key, variation, metric_key, conversions, value_sum, value_sum_squares)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            ON CONFLICT (environment_id, flag_key, metric_key, variation) DO UPDATE SET
                conversions = conversions + excluded.conversions,
                value_sum = value_sum + excluded.value_sum,
                value_sum_squares = value_sum_squares + excluded.value_sum_squares
            "#,
        )
        .bind(environment_id.hyphenated())
        .bind(flag_key)
        .bind(variation)
        .bind(metric_key)
        .bind(delta.conversions)
        .bind(delta.value_sum)
        .bind(delta.value_sum_squares)
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

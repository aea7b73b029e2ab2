//! Experiment exposures joined with custom events into per-variation sufficient
//! statistics, on PostgreSQL. The join rule and its pure half are in
//! `store/experiment_join.rs`.

// Rows travel as one array per column (`UNNEST($1::uuid[], ...)`), so the column tuples
// are spelled out where they are built.
#![allow(clippy::type_complexity)]

use std::collections::BTreeMap;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::aggregate::BatchAggregates;
use crate::stats::experiment::StatisticsDelta;
use crate::store::experiment_join::{
    statistics_deltas, unit_deltas, StatisticsKey, StoredExposure, UnitDeltas, UnitTotalsRow,
};
use crate::store::{time_of, unix_ms};

pub async fn apply(
    connection: &mut PgConnection,
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
    connection: &mut PgConnection,
    batch: &BatchAggregates,
) -> Result<(), sqlx::Error> {
    if batch.exposures.is_empty() {
        return Ok(());
    }
    let mut columns: (Vec<Uuid>, Vec<String>, Vec<String>, Vec<i32>, Vec<_>) = Default::default();
    for ((environment_id, flag_key, context_key), exposure) in &batch.exposures {
        columns.0.push(*environment_id);
        columns.1.push(flag_key.clone());
        columns.2.push(context_key.clone());
        columns.3.push(exposure.variation);
        columns.4.push(time_of(exposure.at_ms));
    }
    let inserted = sqlx::query!(
        r#"
        INSERT INTO analytics.experiment_exposures
            (environment_id, flag_key, context_key, variation, first_exposed_at)
        SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::int4[], $5::timestamptz[])
        ON CONFLICT DO NOTHING
        RETURNING environment_id, flag_key, variation
        "#,
        &columns.0,
        &columns.1,
        &columns.2,
        &columns.3,
        &columns.4
    )
    .fetch_all(&mut *connection)
    .await?;
    let mut units: BTreeMap<(Uuid, String, i32), i64> = BTreeMap::new();
    for row in inserted {
        *units
            .entry((row.environment_id, row.flag_key, row.variation))
            .or_default() += 1;
    }
    if units.is_empty() {
        return Ok(());
    }
    let mut columns: (Vec<Uuid>, Vec<String>, Vec<i32>, Vec<i64>) = Default::default();
    for ((environment_id, flag_key, variation), count) in units {
        columns.0.push(environment_id);
        columns.1.push(flag_key);
        columns.2.push(variation);
        columns.3.push(count);
    }
    sqlx::query!(
        r#"
        INSERT INTO analytics.experiment_units AS u (environment_id, flag_key, variation, units)
        SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::int4[], $4::int8[])
        ON CONFLICT (environment_id, flag_key, variation) DO UPDATE SET units = u.units + EXCLUDED.units
        "#,
        &columns.0,
        &columns.1,
        &columns.2,
        &columns.3
    )
    .execute(connection)
    .await?;
    Ok(())
}

/// Each custom event's contribution to the totals of the units it belongs to.
async fn join_with_exposures(
    connection: &mut PgConnection,
    batch: &BatchAggregates,
) -> Result<UnitDeltas, sqlx::Error> {
    let mut contexts: (Vec<Uuid>, Vec<String>) = Default::default();
    for event in &batch.metric_events {
        contexts.0.push(event.environment_id);
        contexts.1.push(event.context_key.clone());
    }
    let rows = sqlx::query!(
        r#"
        SELECT e.environment_id, e.context_key, e.flag_key, e.variation, e.first_exposed_at
        FROM analytics.experiment_exposures e
        JOIN (SELECT DISTINCT * FROM UNNEST($1::uuid[], $2::text[])) AS k (environment_id, context_key)
            ON e.environment_id = k.environment_id AND e.context_key = k.context_key
        "#,
        &contexts.0,
        &contexts.1
    )
    .fetch_all(&mut *connection)
    .await?;
    let exposures: Vec<StoredExposure> = rows
        .into_iter()
        .map(|row| StoredExposure {
            environment_id: row.environment_id,
            context_key: row.context_key,
            flag_key: row.flag_key,
            variation: row.variation,
            first_exposed_ms: unix_ms(row.first_exposed_at),
        })
        .collect();
    Ok(unit_deltas(&exposures, &batch.metric_events))
}

/// Adds the deltas to each unit's totals and returns the resulting change of the
/// per-variation statistics.
async fn update_unit_totals(
    connection: &mut PgConnection,
    deltas: &UnitDeltas,
) -> Result<BTreeMap<StatisticsKey, StatisticsDelta>, sqlx::Error> {
    let mut columns: (
        Vec<Uuid>,
        Vec<String>,
        Vec<String>,
        Vec<String>,
        Vec<i32>,
        Vec<i64>,
        Vec<f64>,
    ) = Default::default();
    for ((environment_id, flag_key, metric_key, context_key), (variation, events, sum)) in deltas {
        columns.0.push(*environment_id);
        columns.1.push(flag_key.clone());
        columns.2.push(metric_key.clone());
        columns.3.push(context_key.clone());
        columns.4.push(*variation);
        columns.5.push(*events);
        columns.6.push(*sum);
    }
    let totals = sqlx::query!(
        r#"
        INSERT INTO analytics.experiment_context_metrics AS m
            (environment_id, flag_key, metric_key, context_key, variation, event_count, value_sum)
        SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int4[], $6::int8[], $7::float8[])
        ON CONFLICT (environment_id, flag_key, metric_key, context_key) DO UPDATE SET
            event_count = m.event_count + EXCLUDED.event_count,
            value_sum = m.value_sum + EXCLUDED.value_sum
        RETURNING environment_id, flag_key, metric_key, context_key, variation, event_count, value_sum
        "#,
        &columns.0,
        &columns.1,
        &columns.2,
        &columns.3,
        &columns.4,
        &columns.5,
        &columns.6
    )
    .fetch_all(&mut *connection)
    .await?;
    let totals = totals.into_iter().map(|row| UnitTotalsRow {
        environment_id: row.environment_id,
        flag_key: row.flag_key,
        metric_key: row.metric_key,
        context_key: row.context_key,
        variation: row.variation,
        event_count: row.event_count,
        value_sum: row.value_sum,
    });
    Ok(statistics_deltas(deltas, totals))
}

async fn update_statistics(
    connection: &mut PgConnection,
    statistics: &BTreeMap<StatisticsKey, StatisticsDelta>,
) -> Result<(), sqlx::Error> {
    let mut columns: (
        Vec<Uuid>,
        Vec<String>,
        Vec<i32>,
        Vec<String>,
        Vec<i64>,
        Vec<f64>,
        Vec<f64>,
    ) = Default::default();
    for ((environment_id, flag_key, variation, metric_key), delta) in statistics {
        columns.0.push(*environment_id);
        columns.1.push(flag_key.clone());
        columns.2.push(*variation);
        columns.3.push(metric_key.clone());
        columns.4.push(delta.conversions);
        columns.5.push(delta.value_sum);
        columns.6.push(delta.value_sum_squares);
    }
    sqlx::query!(
        r#"
        INSERT INTO analytics.experiment_metric_stats AS s
            (environment_id, flag_key, variation, metric_key, conversions, value_sum, value_sum_squares)
        SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::int4[], $4::text[], $5::int8[], $6::float8[], $7::float8[])
        ON CONFLICT (environment_id, flag_key, metric_key, variation) DO UPDATE SET
            conversions = s.conversions + EXCLUDED.conversions,
            value_sum = s.value_sum + EXCLUDED.value_sum,
            value_sum_squares = s.value_sum_squares + EXCLUDED.value_sum_squares
        "#,
        &columns.0,
        &columns.1,
        &columns.2,
        &columns.3,
        &columns.4,
        &columns.5,
        &columns.6
    )
    .execute(connection)
    .await?;
    Ok(())
}

//! Checks one event against its kind's shape (spec 6.3, 6.6). Only what the analytics
//! worker relies on is checked; unknown fields are kept (spec 6.1).

use serde_json::{Map, Value};

use super::context_key::{context_key, ContextError};
use super::{DropReason, EventKind};

/// An event to forward: its kind and the canonical key of its context, if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valid {
    pub kind: EventKind,
    pub context_key: Option<String>,
}

/// An event to drop, with the metric reason and a detail for debug logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub reason: DropReason,
    pub detail: String,
}

impl Invalid {
    fn new(reason: DropReason, detail: impl Into<String>) -> Invalid {
        Invalid {
            reason,
            detail: detail.into(),
        }
    }
}

/// Validates one analytics event (a JSON object, as [`super::parse_analytics`] guarantees).
pub fn validate_event(json: &str) -> Result<Valid, Invalid> {
    let event = parse_object(json)?;
    let kind = match event.get("kind") {
        Some(Value::String(kind)) => EventKind::parse_analytics(kind).ok_or_else(|| {
            Invalid::new(
                DropReason::UnknownKind,
                format!("unknown event kind {kind:?}"),
            )
        })?,
        _ => {
            return Err(Invalid::new(
                DropReason::MissingKind,
                "`kind` must be a string",
            ))
        }
    };
    let context_key = match kind {
        EventKind::Index | EventKind::Identify => {
            timestamp(&event, "creationDate")?;
            Some(full_context(&event)?)
        }
        EventKind::Feature | EventKind::Debug => {
            timestamp(&event, "creationDate")?;
            non_empty_string(&event, "key")?;
            optional_integer(&event, "version")?;
            optional_integer_or_null(&event, "variation")?;
            optional_integer(&event, "samplingRatio")?;
            optional_object(&event, "reason")?;
            Some(any_context(&event)?)
        }
        EventKind::Custom => {
            timestamp(&event, "creationDate")?;
            non_empty_string(&event, "key")?;
            metric_value(&event)?;
            optional_integer(&event, "samplingRatio")?;
            Some(any_context(&event)?)
        }
        EventKind::Summary => {
            summary(&event)?;
            // Client-side SDKs may add the context (spec 6.3); it is not required.
            match event.get("context") {
                Some(_) => Some(full_context(&event)?),
                None => None,
            }
        }
        EventKind::MigrationOp => {
            timestamp(&event, "creationDate")?;
            let operation = event.get("operation").and_then(Value::as_str);
            if !matches!(operation, Some("read" | "write")) {
                return Err(Invalid::new(
                    DropReason::InvalidField,
                    "`operation` must be \"read\" or \"write\"",
                ));
            }
            let evaluation = event
                .get("evaluation")
                .and_then(Value::as_object)
                .ok_or_else(|| {
                    Invalid::new(DropReason::InvalidField, "`evaluation` must be an object")
                })?;
            non_empty_string(evaluation, "key")?;
            Some(any_context(&event)?)
        }
        // Diagnostic events belong on the diagnostic routes (spec 6.6).
        EventKind::DiagnosticInit | EventKind::Diagnostic => {
            return Err(Invalid::new(
                DropReason::UnknownKind,
                "diagnostic events go to the diagnostic endpoint",
            ))
        }
    };
    Ok(Valid { kind, context_key })
}

/// Validates the event of a diagnostic body: `diagnostic-init` or `diagnostic`, with an
/// `id` object and `creationDate` (spec 6.6).
pub fn validate_diagnostic(json: &str) -> Result<Valid, Invalid> {
    let event = parse_object(json)?;
    let kind = match event.get("kind") {
        Some(Value::String(kind)) if kind == "diagnostic-init" => EventKind::DiagnosticInit,
        Some(Value::String(kind)) if kind == "diagnostic" => EventKind::Diagnostic,
        Some(Value::String(kind)) => {
            return Err(Invalid::new(
                DropReason::UnknownKind,
                format!("unknown diagnostic kind {kind:?}"),
            ))
        }
        _ => {
            return Err(Invalid::new(
                DropReason::MissingKind,
                "`kind` must be a string",
            ))
        }
    };
    timestamp(&event, "creationDate")?;
    if !event.get("id").is_some_and(Value::is_object) {
        return Err(Invalid::new(
            DropReason::InvalidField,
            "`id` must be an object",
        ));
    }
    Ok(Valid {
        kind,
        context_key: None,
    })
}

fn parse_object(json: &str) -> Result<Map<String, Value>, Invalid> {
    match serde_json::from_str(json) {
        Ok(Value::Object(event)) => Ok(event),
        // The payload parser has already checked both; kept total rather than trusted.
        _ => Err(Invalid::new(
            DropReason::InvalidField,
            "event is not a JSON object",
        )),
    }
}

fn timestamp(event: &Map<String, Value>, field: &str) -> Result<u64, Invalid> {
    event.get(field).and_then(Value::as_u64).ok_or_else(|| {
        Invalid::new(
            DropReason::InvalidTimestamp,
            format!("`{field}` must be Unix milliseconds as a non-negative integer"),
        )
    })
}

fn non_empty_string<'a>(event: &'a Map<String, Value>, field: &str) -> Result<&'a str, Invalid> {
    match event.get(field) {
        Some(Value::String(value)) if !value.is_empty() => Ok(value),
        _ => Err(Invalid::new(
            DropReason::InvalidKey,
            format!("`{field}` must be a non-empty string"),
        )),
    }
}

fn optional_integer(event: &Map<String, Value>, field: &str) -> Result<(), Invalid> {
    match event.get(field) {
        None => Ok(()),
        Some(value) if value.is_i64() || value.is_u64() => Ok(()),
        Some(_) => Err(Invalid::new(
            DropReason::InvalidField,
            format!("`{field}` must be an integer"),
        )),
    }
}

fn optional_integer_or_null(event: &Map<String, Value>, field: &str) -> Result<(), Invalid> {
    match event.get(field) {
        Some(Value::Null) => Ok(()),
        _ => optional_integer(event, field),
    }
}

fn optional_object(event: &Map<String, Value>, field: &str) -> Result<(), Invalid> {
    match event.get(field) {
        None | Some(Value::Null | Value::Object(_)) => Ok(()),
        Some(_) => Err(Invalid::new(
            DropReason::InvalidField,
            format!("`{field}` must be an object"),
        )),
    }
}

fn metric_value(event: &Map<String, Value>) -> Result<(), Invalid> {
    match event.get("metricValue") {
        None | Some(Value::Null) => Ok(()),
        // serde_json never yields NaN or infinities, so any JSON number is finite.
        Some(Value::Number(_)) => Ok(()),
        Some(_) => Err(Invalid::new(
            DropReason::InvalidMetricValue,
            "`metricValue` must be a number",
        )),
    }
}

/// `context` only: index and identify events carry the full context (spec 6.3).
fn full_context(event: &Map<String, Value>) -> Result<String, Invalid> {
    let context = event
        .get("context")
        .ok_or_else(|| Invalid::new(DropReason::InvalidContext, "`context` is required"))?;
    context_key(Some(context), None).map_err(context_error)
}

/// `context` or `contextKeys`, whichever the SDK generation sends (spec 6.2).
fn any_context(event: &Map<String, Value>) -> Result<String, Invalid> {
    context_key(event.get("context"), event.get("contextKeys")).map_err(context_error)
}

fn context_error(error: ContextError) -> Invalid {
    Invalid::new(DropReason::InvalidContext, error.to_string())
}

fn summary(event: &Map<String, Value>) -> Result<(), Invalid> {
    let start = timestamp(event, "startDate")?;
    let end = timestamp(event, "endDate")?;
    if end < start {
        return Err(Invalid::new(
            DropReason::InvalidTimestamp,
            "`endDate` is before `startDate`",
        ));
    }
    let invalid = |detail: String| Invalid::new(DropReason::InvalidSummary, detail);
    let features = event
        .get("features")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("`features` must be an object".into()))?;
    for (flag_key, feature) in features {
        let counters = feature
            .get("counters")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid(format!("`features.{flag_key}.counters` must be an array")))?;
        for (index, counter) in counters.iter().enumerate() {
            let at = || format!("`features.{flag_key}.counters[{index}]`");
            let counter = counter
                .as_object()
                .ok_or_else(|| invalid(format!("{} must be an object", at())))?;
            if counter.get("count").and_then(Value::as_u64).is_none() {
                return Err(invalid(format!(
                    "{}.count must be a non-negative integer",
                    at()
                )));
            }
            for field in ["version", "variation"] {
                if counter
                    .get(field)
                    .is_some_and(|value| !value.is_u64() && !value.is_null())
                {
                    return Err(invalid(format!(
                        "{}.{field} must be a non-negative integer",
                        at()
                    )));
                }
            }
            if counter
                .get("unknown")
                .is_some_and(|value| !value.is_boolean())
            {
                return Err(invalid(format!("{}.unknown must be a boolean", at())));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

//! Checks one event against its kind's shape (spec 6.3, 6.6). Only what the analytics
//! worker relies on is checked; unknown fields are kept (spec 6.1).
//!
//! The fields are read where they lie in the request body (`fields.rs`, `scan/`): no
//! tree of the event is built, and a string is copied only when it has escapes.

use std::borrow::Cow;

use super::context_key::{context_key, ContextError};
use super::fields::Fields;
use super::payload::Event;
use super::scan::{Json, JsonType};
use super::{DropReason, EventKind};

/// An event to forward: its kind and the canonical key of its context, if it has one
/// (borrowed from the event when the event spells it out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valid<'a> {
    pub kind: EventKind,
    pub context_key: Option<Cow<'a, str>>,
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

/// Validates one analytics event, as [`super::parse_analytics`] split it out.
pub fn validate_event<'a>(event: &Event<'a>) -> Result<Valid<'a>, Invalid> {
    let event = fields(event)?;
    let kind = match event.kind.and_then(Json::as_str) {
        Some(kind) => EventKind::parse_analytics(&kind).ok_or_else(|| {
            Invalid::new(
                DropReason::UnknownKind,
                format!("unknown event kind {kind:?}"),
            )
        })?,
        None => {
            return Err(Invalid::new(
                DropReason::MissingKind,
                "`kind` must be a string",
            ))
        }
    };
    let context_key = match kind {
        EventKind::Index | EventKind::Identify => {
            timestamp(event.creation_date, "creationDate")?;
            Some(full_context(event)?)
        }
        EventKind::Feature | EventKind::Debug => {
            timestamp(event.creation_date, "creationDate")?;
            non_empty_string(event.key, "key")?;
            optional_integer(event.version, "version")?;
            optional_integer_or_null(event.variation, "variation")?;
            optional_integer(event.sampling_ratio, "samplingRatio")?;
            optional_object(event.reason, "reason")?;
            Some(any_context(event)?)
        }
        EventKind::Custom => {
            timestamp(event.creation_date, "creationDate")?;
            non_empty_string(event.key, "key")?;
            metric_value(event.metric_value)?;
            optional_integer(event.sampling_ratio, "samplingRatio")?;
            Some(any_context(event)?)
        }
        EventKind::Summary => {
            summary(event)?;
            // Client-side SDKs may add the context (spec 6.3); it is not required.
            match event.context {
                Some(_) => Some(full_context(event)?),
                None => None,
            }
        }
        EventKind::MigrationOp => {
            timestamp(event.creation_date, "creationDate")?;
            let operation = event.operation.and_then(Json::as_str);
            if !matches!(operation.as_deref(), Some("read" | "write")) {
                return Err(Invalid::new(
                    DropReason::InvalidField,
                    "`operation` must be \"read\" or \"write\"",
                ));
            }
            let [evaluation_key] = event
                .evaluation
                .and_then(|evaluation| evaluation.fields(["key"]))
                .ok_or_else(|| {
                    Invalid::new(DropReason::InvalidField, "`evaluation` must be an object")
                })?;
            non_empty_string(evaluation_key, "key")?;
            Some(any_context(event)?)
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
pub fn validate_diagnostic<'a>(event: &Event<'a>) -> Result<Valid<'a>, Invalid> {
    let event = fields(event)?;
    let kind = match event.kind.and_then(Json::as_str).as_deref() {
        Some("diagnostic-init") => EventKind::DiagnosticInit,
        Some("diagnostic") => EventKind::Diagnostic,
        Some(kind) => {
            return Err(Invalid::new(
                DropReason::UnknownKind,
                format!("unknown diagnostic kind {kind:?}"),
            ))
        }
        None => {
            return Err(Invalid::new(
                DropReason::MissingKind,
                "`kind` must be a string",
            ))
        }
    };
    timestamp(event.creation_date, "creationDate")?;
    if !event.id.is_some_and(|id| id.is(JsonType::Object)) {
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

fn fields<'e, 'a>(event: &'e Event<'a>) -> Result<&'e Fields<'a>, Invalid> {
    event.fields().map_err(|reason| {
        Invalid::new(
            DropReason::InvalidField,
            format!("event cannot be read: {reason}"),
        )
    })
}

fn timestamp(field: Option<Json<'_>>, name: &str) -> Result<u64, Invalid> {
    field.and_then(Json::as_u64).ok_or_else(|| {
        Invalid::new(
            DropReason::InvalidTimestamp,
            format!("`{name}` must be Unix milliseconds as a non-negative integer"),
        )
    })
}

fn non_empty_string(field: Option<Json<'_>>, name: &str) -> Result<(), Invalid> {
    match field.and_then(Json::as_str) {
        Some(value) if !value.is_empty() => Ok(()),
        _ => Err(Invalid::new(
            DropReason::InvalidKey,
            format!("`{name}` must be a non-empty string"),
        )),
    }
}

fn optional_integer(field: Option<Json<'_>>, name: &str) -> Result<(), Invalid> {
    match field {
        None => Ok(()),
        Some(value) if value.is_integer() => Ok(()),
        Some(_) => Err(Invalid::new(
            DropReason::InvalidField,
            format!("`{name}` must be an integer"),
        )),
    }
}

fn optional_integer_or_null(field: Option<Json<'_>>, name: &str) -> Result<(), Invalid> {
    match field {
        Some(value) if value.is(JsonType::Null) => Ok(()),
        _ => optional_integer(field, name),
    }
}

fn optional_object(field: Option<Json<'_>>, name: &str) -> Result<(), Invalid> {
    match field.map(Json::json_type) {
        None | Some(JsonType::Null | JsonType::Object) => Ok(()),
        Some(_) => Err(Invalid::new(
            DropReason::InvalidField,
            format!("`{name}` must be an object"),
        )),
    }
}

fn metric_value(field: Option<Json<'_>>) -> Result<(), Invalid> {
    match field.map(Json::json_type) {
        // JSON has no NaN or infinities, so any JSON number is finite.
        None | Some(JsonType::Null | JsonType::Number) => Ok(()),
        Some(_) => Err(Invalid::new(
            DropReason::InvalidMetricValue,
            "`metricValue` must be a number",
        )),
    }
}

/// `context` only: index and identify events carry the full context (spec 6.3).
fn full_context<'a>(event: &Fields<'a>) -> Result<Cow<'a, str>, Invalid> {
    let context = event
        .context
        .ok_or_else(|| Invalid::new(DropReason::InvalidContext, "`context` is required"))?;
    context_key(Some(context), None, None).map_err(context_error)
}

/// `context` or `contextKeys`, whichever the SDK generation sends (spec 6.2).
fn any_context<'a>(event: &Fields<'a>) -> Result<Cow<'a, str>, Invalid> {
    context_key(event.context, event.context_keys, event.context_keys_member).map_err(context_error)
}

fn context_error(error: ContextError) -> Invalid {
    Invalid::new(DropReason::InvalidContext, error.to_string())
}

fn summary(event: &Fields<'_>) -> Result<(), Invalid> {
    let start = timestamp(event.start_date, "startDate")?;
    let end = timestamp(event.end_date, "endDate")?;
    if end < start {
        return Err(Invalid::new(
            DropReason::InvalidTimestamp,
            "`endDate` is before `startDate`",
        ));
    }
    event
        .features_check
        .check()
        .map_err(|detail| Invalid::new(DropReason::InvalidSummary, detail))
}

#[cfg(test)]
mod tests;

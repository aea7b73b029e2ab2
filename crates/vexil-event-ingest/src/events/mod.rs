//! What a valid LaunchDarkly event (schema 4, spec 6) looks like, decided without I/O:
//! splitting a body into events and finding their checked fields in one pass
//! (`payload.rs`, `fields.rs`, over the JSON scanner in `scan/`), checking each event by
//! kind (`validate.rs`, a summary's counters in `summary.rs`) and finding the context its
//! record is keyed by (`context_key.rs`).

mod context_key;
#[cfg(test)]
mod differential_tests;
mod fields;
mod payload;
mod scan;
mod summary;
mod validate;

pub use context_key::context_key;
pub use payload::{parse_analytics, parse_diagnostic, read_analytics, Event, PayloadError};
pub use validate::{validate_diagnostic, validate_event, Invalid, Valid};

/// The event kinds event ingest forwards. Anything else is dropped (spec 6.1: accept
/// unknown kinds and skip them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Index,
    Feature,
    Debug,
    Custom,
    Identify,
    Summary,
    MigrationOp,
    DiagnosticInit,
    Diagnostic,
}

impl EventKind {
    /// The `kind` value in the event JSON; also the envelope's `kind` and the metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Index => "index",
            EventKind::Feature => "feature",
            EventKind::Debug => "debug",
            EventKind::Custom => "custom",
            EventKind::Identify => "identify",
            EventKind::Summary => "summary",
            EventKind::MigrationOp => "migration_op",
            EventKind::DiagnosticInit => "diagnostic-init",
            EventKind::Diagnostic => "diagnostic",
        }
    }

    /// The analytics kind named `kind`, if event ingest forwards it.
    pub fn parse_analytics(kind: &str) -> Option<EventKind> {
        Some(match kind {
            "index" => EventKind::Index,
            "feature" => EventKind::Feature,
            "debug" => EventKind::Debug,
            "custom" => EventKind::Custom,
            "identify" => EventKind::Identify,
            "summary" => EventKind::Summary,
            "migration_op" => EventKind::MigrationOp,
            _ => return None,
        })
    }
}

/// Why a single event was dropped: the `reason` label of
/// `vexil_event_ingest_events_rejected_total`, a small fixed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// No `kind`, or a `kind` that is not a string.
    MissingKind,
    /// A kind event ingest does not forward.
    UnknownKind,
    /// `creationDate`, `startDate` or `endDate` missing or not a non-negative integer.
    InvalidTimestamp,
    /// The flag or event `key` missing, empty or not a string.
    InvalidKey,
    /// `context`/`contextKeys` missing or not a valid context (spec 2, 6.2).
    InvalidContext,
    /// `metricValue` present but not a finite number.
    InvalidMetricValue,
    /// A summary's `features` or counters malformed.
    InvalidSummary,
    /// Another field has the wrong type (`version`, `variation`, `samplingRatio`, ...).
    InvalidField,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::MissingKind => "missing_kind",
            DropReason::UnknownKind => "unknown_kind",
            DropReason::InvalidTimestamp => "invalid_timestamp",
            DropReason::InvalidKey => "invalid_key",
            DropReason::InvalidContext => "invalid_context",
            DropReason::InvalidMetricValue => "invalid_metric_value",
            DropReason::InvalidSummary => "invalid_summary",
            DropReason::InvalidField => "invalid_field",
        }
    }
}

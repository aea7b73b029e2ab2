//! Identifiers the store is keyed by: environment ids and the two kinds of items.

use std::fmt;
use std::sync::Arc;

/// An environment's id (config-api's UUID, as text). Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnvironmentId(Arc<str>);

impl EnvironmentId {
    pub fn new(id: &str) -> Self {
        EnvironmentId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvironmentId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// Flags and segments travel and are stored the same way; this says which one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    Flag,
    Segment,
}

impl ItemKind {
    /// The key of the item's map in payloads and the start of its SSE path.
    pub fn collection(self) -> &'static str {
        match self {
            ItemKind::Flag => "flags",
            ItemKind::Segment => "segments",
        }
    }

    /// LaunchDarkly's persistent-store namespace (the Redis hash suffix).
    pub fn namespace(self) -> &'static str {
        match self {
            ItemKind::Flag => "features",
            ItemKind::Segment => "segments",
        }
    }
}

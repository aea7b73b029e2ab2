//! Switches for legacy evaluation behaviour that only some callers want (spec 4.6).

/// How [`crate::evaluate_with_options`] evaluates. The default is what server-side SDKs do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EvaluationOptions {
    /// Append an old-style user's `secondary` key to the hash input of rollouts and segment
    /// weights (`prefix.value.secondary`, spec 4.6), never of experiments. Server-side SDKs
    /// ignore it (`false`, the default); LaunchDarkly's Relay turns it on for client-side
    /// evaluation endpoints, and so does Vexil's gateway.
    pub use_secondary_key: bool,
}

impl EvaluationOptions {
    /// The options of client-side and mobile evaluation endpoints (spec 7): the secondary key
    /// takes part in bucketing.
    pub const CLIENT_SIDE: Self = Self {
        use_secondary_key: true,
    };
}

//! The client-side and mobile evaluation payload (`/sdk/evalx/...`, `/msdk/evalx/...`, spec 7.3):
//! every flag a credential sees, evaluated for one context.

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::Value;
use vexil_eval::{
    evaluate_with_options, is_experiment, Context, EvaluationDetail, EvaluationOptions,
    PreparedFlag, Prerequisite, PrerequisiteObserver, Reason,
};

use super::source::{visible_flags, EvaluationSource, FlagVisibility};

/// What a client-side evaluation request asks for, besides the context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientRequest {
    /// Which flags the credential sees.
    pub visibility: FlagVisibility,
    /// The `withReasons=true` query parameter: every flag carries its `reason`.
    pub with_reasons: bool,
    /// The environment's data revision, sent as every flag's `version`.
    ///
    /// Vexil choice (spec 7.3): clients compare `version`s to order `patch`/`delete` events, and
    /// a flag's result for a context can change when any flag (prerequisite) or segment
    /// changes, so the version is the revision of the whole environment, which grows on every
    /// change (the store's sequence number).
    pub environment_revision: u64,
}

/// One flag's entry of the payload, borrowed from the prepared data (spec 7.3).
///
/// Serializes to exactly the fields of spec 7.3: `value` always (`null` without a variation),
/// `variation` only with one, `trackEvents`/`trackReason` only when true, `reason` when asked
/// for or when the evaluation is an experiment, `debugEventsUntilDate` when the flag has one,
/// `prerequisites` when any were evaluated.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientFlag<'a> {
    /// The flag key (the map key in a `put`, the `key` field of a `patch`).
    #[serde(skip)]
    pub key: &'a str,
    /// The evaluation result, `None` (JSON `null`) when there is no variation.
    pub value: Option<&'a Value>,
    /// The variation index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variation: Option<usize>,
    /// The environment revision (see [`ClientRequest::environment_revision`]).
    pub version: u64,
    /// The flag's own version, which clients put into analytics events.
    pub flag_version: u64,
    /// The client sends a full feature event: `flag.trackEvents` or an experiment.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub track_events: bool,
    /// The client's feature events carry the reason: an experiment.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub track_reason: bool,
    /// Why the value was served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason<'a>>,
    /// Debug events are sent until this time (Unix epoch milliseconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug_events_until_date: Option<i64>,
    /// The flag's direct prerequisites that were evaluated, in order.
    #[serde(
        skip_serializing_if = "<[_]>::is_empty",
        serialize_with = "prerequisite_keys"
    )]
    pub prerequisites: &'a [Prerequisite],
}

/// Every flag a credential sees, evaluated for one context, sorted by key. Serializes to the
/// JSON object of spec 7.3 (keyed by flag key), which is also the `put` event's data.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientFlags<'a> {
    /// The entries, sorted by flag key.
    pub flags: Vec<ClientFlag<'a>>,
}

/// Evaluates every flag `request.visibility` sees for `context`: the `200` body of the
/// client-side polling endpoints and the `put` data of their streams.
///
/// Old-style users' secondary keys take part in bucketing, as LaunchDarkly's Relay does for
/// client-side endpoints (spec 4.6).
pub fn evaluate_client_flags<'a, S: EvaluationSource + ?Sized>(
    source: &'a S,
    context: &Context,
    request: &ClientRequest,
) -> ClientFlags<'a> {
    let flags = visible_flags(source, request.visibility)
        .into_iter()
        .map(|flag| evaluate_client_flag(source, flag, context, request))
        .collect();
    ClientFlags { flags }
}

/// Evaluates one flag for a client-side payload. The caller has checked that the flag is live
/// and visible (see [`super::visible_flag`]).
pub fn evaluate_client_flag<'a, S: EvaluationSource + ?Sized>(
    source: &'a S,
    flag: &'a PreparedFlag,
    context: &Context,
    request: &ClientRequest,
) -> ClientFlag<'a> {
    let mut direct = DirectPrerequisites {
        flag_key: flag.key(),
        evaluated: 0,
    };
    let detail: EvaluationDetail<'a> = evaluate_with_options(
        flag,
        context,
        source,
        &mut direct,
        EvaluationOptions::CLIENT_SIDE,
    );
    let model = flag.flag();
    let is_experiment = is_experiment(model, &detail.reason);
    ClientFlag {
        key: flag.key(),
        value: detail.value,
        variation: detail.variation_index,
        version: request.environment_revision,
        flag_version: model.version,
        track_events: model.track_events || is_experiment,
        track_reason: is_experiment,
        reason: (request.with_reasons || is_experiment).then_some(detail.reason),
        debug_events_until_date: model.debug_events_until_date,
        prerequisites: &model.prerequisites[..direct.evaluated.min(model.prerequisites.len())],
    }
}

impl ClientFlags<'_> {
    /// The JSON object of spec 7.3.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("client flags always serialize")
    }
}

impl Serialize for ClientFlags<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.flags.len()))?;
        for flag in &self.flags {
            map.serialize_entry(flag.key, flag)?;
        }
        map.end()
    }
}

/// Counts the evaluations of the flag's own prerequisites. They are evaluated in order and the
/// first failure stops, so the first `evaluated` prerequisites are exactly those evaluated.
/// (A prerequisite evaluated with `prerequisite_of` equal to the top flag's key can only be a
/// direct one: a cycle through the top flag is detected before it is reported.)
struct DirectPrerequisites<'k> {
    flag_key: &'k str,
    evaluated: usize,
}

impl PrerequisiteObserver for DirectPrerequisites<'_> {
    fn on_prerequisite(&mut self, _: &PreparedFlag, _: &EvaluationDetail<'_>, of: &str) {
        if of == self.flag_key {
            self.evaluated += 1;
        }
    }
}

fn prerequisite_keys<S: Serializer>(
    prerequisites: &&[Prerequisite],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(prerequisites.iter().map(|prerequisite| &prerequisite.key))
}

#[cfg(test)]
mod tests;

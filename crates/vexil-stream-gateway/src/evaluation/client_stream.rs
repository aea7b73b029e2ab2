//! Event data of the client-side and mobile streams (`/eval/...`, `/meval/...`, spec 7.4):
//! `put`, `patch` and `delete`, not wrapped in `{"data": ...}`.

use serde::Serialize;
use vexil_eval::Context;

use super::client_side::{evaluate_client_flag, ClientFlag, ClientFlags, ClientRequest};
use super::source::{visible_flag, EvaluationSource};

/// SSE event names of the client-side streams. Clients ignore other names, but send only these
/// (and `ping`, which Vexil does not need).
pub mod event_name {
    /// Replace every flag.
    pub const PUT: &str = "put";
    /// Upsert one flag.
    pub const PATCH: &str = "patch";
    /// Remove one flag.
    pub const DELETE: &str = "delete";
}

/// One SSE event for a client-side stream: its name and its `data` line (compact JSON, no
/// newline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientStreamEvent {
    /// [`event_name::PUT`], [`event_name::PATCH`] or [`event_name::DELETE`].
    pub name: &'static str,
    /// The event's JSON data.
    pub data: Vec<u8>,
}

/// The `put` event: every visible flag (the 7.3 object), sent first on every connection and
/// again after any change when the stream does not compute per-flag patches.
pub fn put_event(flags: &ClientFlags<'_>) -> ClientStreamEvent {
    ClientStreamEvent {
        name: event_name::PUT,
        data: flags.to_json(),
    }
}

/// The `patch` event: one flag's 7.3 entry plus its `key`.
pub fn patch_event(flag: &ClientFlag<'_>) -> ClientStreamEvent {
    #[derive(Serialize)]
    struct Patch<'f, 'a> {
        key: &'a str,
        #[serde(flatten)]
        flag: &'f ClientFlag<'a>,
    }
    ClientStreamEvent {
        name: event_name::PATCH,
        data: serde_json::to_vec(&Patch {
            key: flag.key,
            flag,
        })
        .expect("a client flag always serializes"),
    }
}

/// The `delete` event: `{"key": ..., "version": ...}`. `version` must be greater than the
/// version the client holds, so it is the environment revision of the change (spec 7.3).
pub fn delete_event(flag_key: &str, version: u64) -> ClientStreamEvent {
    #[derive(Serialize)]
    struct Delete<'a> {
        key: &'a str,
        version: u64,
    }
    ClientStreamEvent {
        name: event_name::DELETE,
        data: serde_json::to_vec(&Delete {
            key: flag_key,
            version,
        })
        .expect("a key and a number always serialize"),
    }
}

/// The event telling a stream's client about flag `flag_key` after a change of its
/// environment (`source` is the state after the change, `request.environment_revision` its
/// revision): a `patch` with the new result if the flag is live and visible, otherwise a
/// `delete` (deleted, or no longer available to this credential kind).
///
/// A change of a segment or a prerequisite may change the results of other flags too; a stream
/// that does not know which flags depend on the change sends a fresh [`put_event`] instead.
pub fn flag_change_event<S: EvaluationSource + ?Sized>(
    source: &S,
    flag_key: &str,
    context: &Context,
    request: &ClientRequest,
) -> ClientStreamEvent {
    match visible_flag(source, flag_key, request.visibility) {
        Some(flag) => patch_event(&evaluate_client_flag(source, flag, context, request)),
        None => delete_event(flag_key, request.environment_revision),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};
    use vexil_eval::{AllData, FlagData};

    use super::*;
    use crate::evaluation::client_side::evaluate_client_flags;
    use crate::evaluation::source::FlagVisibility;

    fn data() -> FlagData {
        FlagData::from_all_data(
            serde_json::from_value::<AllData>(json!({"flags": {
                "dark-mode": {"version": 3, "on": true, "variations": ["light", "system"],
                    "clientSide": true, "fallthrough": {"variation": 1}},
                "server-only": {"version": 1, "on": true, "variations": [1], "clientSide": false,
                    "fallthrough": {"variation": 0}},
                "gone": {"version": 9, "deleted": true, "clientSide": true}
            }}))
            .unwrap(),
        )
    }

    const REQUEST: ClientRequest = ClientRequest {
        visibility: FlagVisibility::ClientSideId,
        with_reasons: false,
        environment_revision: 1044,
    };

    fn text(event: &ClientStreamEvent) -> (&str, &str) {
        (event.name, std::str::from_utf8(&event.data).unwrap())
    }

    #[test]
    fn put_is_the_evaluation_object_unwrapped() {
        let data = data();
        let context = Context::new("user", "u").unwrap();
        let event = put_event(&evaluate_client_flags(&data, &context, &REQUEST));
        assert_eq!(
            text(&event),
            (
                "put",
                r#"{"dark-mode":{"value":"system","variation":1,"version":1044,"flagVersion":3}}"#
            )
        );
    }

    #[test]
    fn a_changed_visible_flag_is_a_patch_with_its_key() {
        let data = data();
        let context = Context::new("user", "u").unwrap();
        let event = flag_change_event(&data, "dark-mode", &context, &REQUEST);
        assert_eq!(
            text(&event),
            (
                "patch",
                r#"{"key":"dark-mode","value":"system","variation":1,"version":1044,"flagVersion":3}"#
            )
        );
        let patch: Value = serde_json::from_slice(&event.data).unwrap();
        assert_eq!(patch["key"], "dark-mode");
    }

    #[test]
    fn deleted_invisible_and_unknown_flags_are_deletes_at_the_revision() {
        let data = data();
        let context = Context::new("user", "u").unwrap();
        for key in ["gone", "server-only", "never-existed"] {
            let event = flag_change_event(&data, key, &context, &REQUEST);
            assert_eq!(event, delete_event(key, 1044));
            assert_eq!(
                serde_json::from_slice::<Value>(&event.data).unwrap(),
                json!({"key": key, "version": 1044})
            );
            assert_eq!(event.name, "delete");
        }
    }
}

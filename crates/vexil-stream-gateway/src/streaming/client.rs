//! Renderers of the client-side and mobile streams (spec 7.4): every visible flag evaluated
//! for one context (a `put`, then a `patch` or `delete` per changed flag when no other flag
//! depends on it, a fresh `put` otherwise), or only `ping`s for very old clients.

use std::sync::Arc;

use bytes::Bytes;
use vexil_eval::Context;

use super::{Renderer, Step};
use crate::evaluation::{
    evaluate_client_flags, flag_change_event, put_event, visible_flag, ClientRequest,
    ClientStreamEvent, FlagVisibility,
};
use crate::store::{ChangedItem, EnvironmentData, EnvironmentId, ItemKind, Store};

/// The `ping` event; its data is one space, because an event with empty data is not
/// dispatched by SSE clients (Relay sends the same).
const PING: &[u8] = b"event: ping\ndata:  \n\n";

/// A `/eval` or `/meval` stream: evaluations for one context.
pub struct ClientFrames {
    environment_id: EnvironmentId,
    context: Context,
    visibility: FlagVisibility,
    with_reasons: bool,
    /// The state the client was last told about (to tell whether it knows a flag).
    last: Option<Arc<EnvironmentData>>,
}

impl ClientFrames {
    pub fn new(
        environment_id: EnvironmentId,
        context: Context,
        visibility: FlagVisibility,
        with_reasons: bool,
    ) -> ClientFrames {
        ClientFrames {
            environment_id,
            context,
            visibility,
            with_reasons,
            last: None,
        }
    }

    fn request(&self, data: &EnvironmentData) -> ClientRequest {
        ClientRequest {
            visibility: self.visibility,
            with_reasons: self.with_reasons,
            environment_revision: data.sequence(),
        }
    }
}

impl Renderer for ClientFrames {
    fn full(&mut self, data: &Arc<EnvironmentData>) -> Bytes {
        let flags = evaluate_client_flags(data.as_ref(), &self.context, &self.request(data));
        let frame = sse_frame(&put_event(&flags));
        self.last = Some(data.clone());
        frame
    }

    /// A flag change is a `patch` (or `delete`) of that flag alone when the current data is
    /// exactly the state after the change and no flag has it as a prerequisite (then no
    /// other result can change). Segment changes, and anything less certain, resend
    /// everything.
    fn item_changed(
        &mut self,
        store: &Store,
        sequence: u64,
        changed: Option<&ChangedItem>,
        _: &Bytes,
    ) -> Step {
        let Some(ChangedItem {
            kind: ItemKind::Flag,
            key,
        }) = changed
        else {
            return Step::Resync;
        };
        let Some(data) = store.environment(&self.environment_id) else {
            return Step::Resync;
        };
        if data.sequence() != sequence || is_prerequisite(&data, key) {
            return Step::Resync;
        }
        let was_visible = self
            .last
            .as_deref()
            .is_some_and(|last| visible_flag(last, key, self.visibility).is_some());
        let is_visible = visible_flag(data.as_ref(), key, self.visibility).is_some();
        // A flag the client never saw and still cannot see is not its business (and a
        // `delete` would leak a server-only flag's key to browsers).
        let step = if was_visible || is_visible {
            let request = self.request(&data);
            let event = flag_change_event(data.as_ref(), key, &self.context, &request);
            Step::Send(sse_frame(&event))
        } else {
            Step::Skip
        };
        self.last = Some(data);
        step
    }
}

/// A `/ping` or `/mping` stream: a `ping` on connect and after every change; the client
/// fetches its flags from the polling endpoint.
#[derive(Debug, Clone, Copy, Default)]
pub struct PingFrames;

impl Renderer for PingFrames {
    fn full(&mut self, _: &Arc<EnvironmentData>) -> Bytes {
        Bytes::from_static(PING)
    }

    fn item_changed(&mut self, _: &Store, _: u64, _: Option<&ChangedItem>, _: &Bytes) -> Step {
        Step::Send(Bytes::from_static(PING))
    }
}

/// Whether any live flag lists `key` among its prerequisites. (A flag depends on `key`
/// through a chain only if some flag lists it directly.)
fn is_prerequisite(data: &EnvironmentData, key: &str) -> bool {
    data.flags().any(|(_, item)| {
        item.prepared().is_some_and(|flag| {
            flag.flag()
                .prerequisites
                .iter()
                .any(|prerequisite| prerequisite.key == key)
        })
    })
}

/// `event: <name>\ndata: <json>\n\n`; the JSON is compact, so one `data:` line.
fn sse_frame(event: &ClientStreamEvent) -> Bytes {
    let mut frame = Vec::with_capacity(event.data.len() + 24);
    frame.extend_from_slice(b"event: ");
    frame.extend_from_slice(event.name.as_bytes());
    frame.extend_from_slice(b"\ndata: ");
    frame.extend_from_slice(&event.data);
    frame.extend_from_slice(b"\n\n");
    Bytes::from(frame)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use futures_util::FutureExt as _;
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::store::{Change, Credential, CredentialKind, EnvironmentContents, RawItem};
    use crate::streaming::{Connection, Opening};

    const CLIENT_SIDE_ID: &str = "client-side-id";

    fn environment() -> EnvironmentId {
        EnvironmentId::new("e")
    }

    /// A flag on, serving `variation` of `[false, true]`.
    fn flag(key: &str, version: u64, variation: u8, client_side: bool, extra: &str) -> RawItem {
        RawItem {
            key: key.into(),
            version,
            json: Bytes::from(format!(
                r#"{{"key":"{key}","version":{version},"on":true,"variations":[false,true],"fallthrough":{{"variation":{variation}}},"offVariation":0,"clientSide":{client_side}{extra}}}"#
            )),
        }
    }

    fn store() -> Store {
        let store = Store::new(8);
        let contents = EnvironmentContents {
            flags: vec![flag("a", 1, 1, true, ""), flag("b", 1, 1, true, "")],
            credentials: vec![Credential {
                id: "c".into(),
                kind: CredentialKind::ClientSideId,
                sha256: crate::store::hash_credential(CLIENT_SIDE_ID),
                expires_at_unix_ms: None,
            }],
            ..EnvironmentContents::default()
        };
        store
            .apply(&environment(), 1, Change::Replace(contents))
            .unwrap();
        store.mark_loaded();
        store
    }

    fn open(store: &Store) -> Connection<ClientFrames> {
        let authenticated = store
            .authenticate(
                CLIENT_SIDE_ID,
                CredentialKind::ClientSideId,
                SystemTime::now(),
            )
            .unwrap();
        let (data, events) = store.subscribe(&environment()).unwrap();
        let renderer = ClientFrames::new(
            environment(),
            Context::new("user", "u").unwrap(),
            FlagVisibility::ClientSideId,
            false,
        );
        let opening = Opening {
            store: store.clone(),
            authenticated,
            events,
            expires_at: None,
            heartbeat_interval: Duration::from_secs(60),
            shutdown: CancellationToken::new(),
        };
        Connection::with_renderer(renderer, opening, &data)
    }

    fn upsert(store: &Store, sequence: u64, item: RawItem) {
        let change = Change::Upsert {
            kind: ItemKind::Flag,
            item,
        };
        store.apply(&environment(), sequence, change).unwrap();
    }

    async fn next(connection: &mut Connection<ClientFrames>) -> String {
        String::from_utf8(connection.next_frame().await.unwrap().to_vec()).unwrap()
    }

    #[tokio::test]
    async fn independent_flag_changes_are_patches_and_dependencies_resend_everything() {
        let store = store();
        let mut connection = open(&store);
        assert_eq!(
            next(&mut connection).await,
            "event: put\ndata: {\"a\":{\"value\":true,\"variation\":1,\"version\":1,\"flagVersion\":1},\
             \"b\":{\"value\":true,\"variation\":1,\"version\":1,\"flagVersion\":1}}\n\n"
        );
        upsert(&store, 2, flag("a", 2, 0, true, ""));
        assert_eq!(
            next(&mut connection).await,
            "event: patch\ndata: {\"key\":\"a\",\"value\":false,\"variation\":0,\"version\":2,\"flagVersion\":2}\n\n"
        );
        // A server-only flag appearing is nobody's business; hiding a visible one is a delete.
        upsert(&store, 3, flag("secret", 1, 1, false, ""));
        assert!(connection.next_frame().now_or_never().is_none());
        upsert(&store, 4, flag("b", 2, 1, false, ""));
        assert_eq!(
            next(&mut connection).await,
            "event: delete\ndata: {\"key\":\"b\",\"version\":4}\n\n"
        );
        // `b` becomes a prerequisite of `a`: changing `b` then resends everything.
        upsert(
            &store,
            5,
            flag(
                "a",
                3,
                1,
                true,
                r#","prerequisites":[{"key":"b","variation":1}]"#,
            ),
        );
        assert!(next(&mut connection).await.starts_with("event: patch\n"));
        upsert(&store, 6, flag("b", 3, 1, true, ""));
        let frame = next(&mut connection).await;
        assert!(frame.starts_with("event: put\n"), "{frame}");
        assert!(frame.contains(r#""prerequisites":["b"]"#), "{frame}");
    }
}

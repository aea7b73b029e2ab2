//! Pure evaluation payloads for client-side, mobile and OFREP endpoints: no I/O, no HTTP types.
//!
//! The routes authenticate, look up the environment (anything implementing
//! [`EvaluationSource`]) and map the credential to a [`FlagVisibility`]; everything between the
//! request bytes and the response bytes is here:
//!
//! - `context_decoding.rs`: the context of a client-side request (base64url path segment or
//!   `REPORT` body, either JSON format or an old-style user, spec 7.2);
//! - `client_side.rs`: the `/sdk/evalx` and `/msdk/evalx` object (spec 7.3);
//! - `client_stream.rs`: `put`, `patch` and `delete` data of `/eval` and `/meval` (spec 7.4);
//! - `ofrep/`: OFREP requests, results and error codes (spec 8);
//! - `etag.rs`: the ETag of evaluation results (spec 8.5);
//! - `source.rs`: what is read from an environment and which flags a credential sees.

mod client_side;
mod client_stream;
mod context_decoding;
mod etag;
pub mod ofrep;
mod source;

pub use client_side::{
    evaluate_client_flag, evaluate_client_flags, ClientFlag, ClientFlags, ClientRequest,
};
pub use client_stream::{
    delete_event, event_name, flag_change_event, patch_event, put_event, ClientStreamEvent,
};
pub use context_decoding::{decode_context_base64, decode_context_json, ContextDecodeError};
pub use etag::{evaluation_etag, if_none_match_matches};
pub use source::{visible_flag, visible_flags, EvaluationSource, FlagVisibility};

//! OpenFeature Remote Evaluation Protocol (spec 8): request parsing, single and bulk results,
//! error codes. The ETag of bulk responses is [`super::evaluation_etag`].

mod error_code;
mod reason;
mod request;
mod response;

pub use error_code::{OfrepError, OfrepErrorCode};
pub use reason::{ofrep_reason, OfrepMetadata, OfrepReason};
pub use request::{ofrep_context, parse_ofrep_request, OfrepRequestError};
pub use response::{
    evaluate_ofrep_bulk, evaluate_ofrep_flag, BulkMetadata, OfrepBulk, OfrepFlagResult,
    OfrepSuccess,
};

//! Decides which variation of a flag a context receives, and why, exactly as LaunchDarkly does.
//!
//! Owns the flag and segment data model (`model.rs`), contexts (`context.rs`), attribute
//! references, clause operators, segment containment, percentage bucketing and the
//! [`EvaluationDetail`] with its [`Reason`]. Never does I/O, awaits, reads the clock or the
//! environment, logs, or depends on another Vexil crate: everything arrives as arguments.
//!
//! Flags and segments are *prepared* once when loaded ([`PreparedFlag`], [`PreparedSegment`],
//! collected in a [`FlagData`]): regexes compiled, dates and versions parsed, target lists
//! turned into hash sets. Evaluation then does no parsing and no heap allocation on its common
//! paths, and borrows everything it returns from the prepared data.
//!
//! Start with [`evaluate`] in `evaluate.rs` (flag semantics, spec section 3) and
//! [`variation_detail`] in `variation.rs` (the SDK entry point with defaults and typed calls).
#![warn(missing_docs)]

mod attribute_ref;
pub mod bucketing;
mod chain;
mod clause;
mod context;
mod datetime;
mod evaluate;
mod model;
mod operators;
mod options;
mod prepare;
mod reason;
mod segments;
pub mod semver;
mod store;
mod tracking;
pub mod validate;
mod variation;

pub use attribute_ref::AttributeRef;
pub use context::{Context, ContextError, IndividualContext};
pub use evaluate::{evaluate, evaluate_with, evaluate_with_options, PrerequisiteObserver};
pub use model::*;
pub use options::EvaluationOptions;
pub use prepare::{PreparedFlag, PreparedSegment};
pub use reason::{ErrorKind, EvaluationDetail, Reason};
pub use store::{DataError, FlagData, Store};
pub use tracking::is_experiment;
pub use variation::{variation_detail, ValueType};

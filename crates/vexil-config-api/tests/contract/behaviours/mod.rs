//! The behaviours every store shows, by topic.

pub mod approvals;
pub mod audit;
pub mod cascades;
pub mod changes;
pub mod credentials;
pub mod flags;
pub mod keys;
pub mod scheduled;
pub mod segments;
pub mod sessions;
pub mod tokens;

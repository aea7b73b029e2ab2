//! Changes that span several tables: each validates, bumps versions, records its FlagSync
//! change and its audit entry in the caller's transaction. Routes, approvals and the
//! scheduler all change flag configuration through here.

pub mod credentials;
pub mod environments;
pub mod flags;
pub mod segments;
pub mod targeting;
pub mod validation;
pub mod variations;

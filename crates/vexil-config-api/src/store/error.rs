//! Why a store operation failed, whichever store ran it.

/// A failed store operation. Routes turn it into an `ApiError` (`error.rs`): an
/// unreachable database is 503, anything else 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or could not run the statement; its message is the driver's.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// A stored value this code could not have written (a hand-edited file, a schema
    /// constraint dropped): the service refuses it instead of guessing.
    #[error("{table}.{column} holds a value this service cannot read")]
    Corrupt {
        table: &'static str,
        column: &'static str,
    },
}

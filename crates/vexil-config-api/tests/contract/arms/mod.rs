//! One module per store the contract runs on; each has `open() -> Fixture`.

pub mod postgres;
pub mod sqlite;

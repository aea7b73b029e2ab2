//! Vexil's protobuf contracts, generated from `proto/`, and their conversions.
//!
//! Owns the generated types and every conversion between them and `vexil-eval` types,
//! written once. Never does I/O beyond what tonic's generated clients and servers do.
//!
//! Start with `config::v1` (FlagSync and Credentials) and `convert.rs`.

pub mod convert;

/// `vexil.config.v1`: FlagSync and Credentials.
pub mod config {
    /// Version 1 of the config contracts.
    pub mod v1 {
        #![allow(missing_docs, clippy::all, clippy::pedantic)]
        include!(concat!(env!("OUT_DIR"), "/vexil.config.v1.rs"));
    }
}

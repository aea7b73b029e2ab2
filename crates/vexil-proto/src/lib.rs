//! Vexil's protobuf contracts, generated from `proto/`, and their conversions.
//!
//! Owns the generated types and every conversion between them and `vexil-eval` types,
//! written once. Never does I/O beyond what tonic's generated clients and servers do.
//!
//! Start with `config::v1` (FlagSync and Credentials), `events::v1` (the Kafka envelope of
//! SDK events), `analytics::v1` (queries on the event aggregates) and `convert.rs`.

pub mod convert;

/// `vexil.config.v1`: FlagSync and Credentials.
pub mod config {
    /// Version 1 of the config contracts.
    pub mod v1 {
        #![allow(missing_docs, clippy::all, clippy::pedantic)]
        include!(concat!(env!("OUT_DIR"), "/vexil.config.v1.rs"));
    }
}

/// `vexil.events.v1`: SDK events on Kafka, from event-ingest to analytics-worker.
pub mod events {
    /// Version 1 of the event contracts, and the Kafka names that go with them.
    pub mod v1 {
        #![allow(missing_docs, clippy::all, clippy::pedantic)]
        include!(concat!(env!("OUT_DIR"), "/vexil.events.v1.rs"));

        /// The default topic of SDK events (`EventEnvelope` values).
        pub const SDK_EVENTS_TOPIC: &str = "vexil.sdk-events.v1";
        /// The default dead-letter topic (`DeadLetter` values).
        pub const DEAD_LETTER_TOPIC: &str = "vexil.sdk-events.dlq.v1";
        /// Record header carrying the envelope's payload id.
        pub const PAYLOAD_ID_HEADER: &str = "vexil-payload-id";
        /// Record header carrying the W3C trace context of the request, when it had one.
        pub const TRACEPARENT_HEADER: &str = "traceparent";
        /// Record header carrying the W3C `tracestate`, when the request had one.
        pub const TRACESTATE_HEADER: &str = "tracestate";
    }
}

/// `vexil.analytics.v1`: queries on the aggregates analytics-worker builds from SDK events.
pub mod analytics {
    /// Version 1 of the analytics queries.
    pub mod v1 {
        #![allow(missing_docs, clippy::all, clippy::pedantic)]
        include!(concat!(env!("OUT_DIR"), "/vexil.analytics.v1.rs"));
    }
}

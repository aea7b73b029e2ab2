//! The worker on `vexil up`'s embedded backends: events read from an embedded queue
//! (`vexil_queue::embedded`) in a temporary directory and counted into a SQLite file. Needs
//! neither Kafka nor PostgreSQL.

mod lag;
mod pipeline;
mod support;

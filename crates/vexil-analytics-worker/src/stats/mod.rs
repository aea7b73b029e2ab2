//! Pure statistics: no I/O, no clock, no randomness. The HyperLogLog sketch behind the
//! distinct-context counts and the sufficient statistics of experiments.

pub mod experiment;
pub mod hll;

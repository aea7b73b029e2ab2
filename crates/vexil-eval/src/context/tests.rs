//! Tests for `context`.

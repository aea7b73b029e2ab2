//! Tests for `evaluate`.

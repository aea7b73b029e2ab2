//! Tests for `operators`.

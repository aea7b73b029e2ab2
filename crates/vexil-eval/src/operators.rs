//! Clause operators (spec 3.7): each clause's values are prepared once for its operator, then
//! tested against context values without parsing (except dates and versions on the context side).

use std::cmp::Ordering;

use regex::Regex;
use rustc_hash::FxHashSet;
use serde_json::Value;

use crate::datetime::{instant_of, Instant};
use crate::semver::Version;

/// Above this many string values, an `in` clause also keeps a hash set of them.
const IN_SET_THRESHOLD: usize = 8;

/// A clause operator with its comparison values prepared.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    /// `in`: JSON-type-aware equality.
    In(InValues),
    /// `startsWith` with the string clause values.
    StartsWith(Vec<String>),
    /// `endsWith` with the string clause values.
    EndsWith(Vec<String>),
    /// `contains` with the string clause values.
    Contains(Vec<String>),
    /// `matches` with the clause values that are valid regular expressions.
    Matches(Vec<Regex>),
    /// `lessThan` and friends with the numeric clause values.
    Numeric(fn(f64, f64) -> bool, Vec<f64>),
    /// `before` (`Less`) or `after` (`Greater`) with the clause values that are instants.
    Date(Ordering, Vec<Instant>),
    /// `semVerEqual`/`semVerLessThan`/`semVerGreaterThan` with the parsable clause values.
    SemVer(Ordering, Vec<Version>),
    /// `segmentMatch` with the string clause values (segment keys).
    SegmentMatch(Vec<String>),
    /// An unknown operator: no value ever matches.
    Never,
}

/// The values of an `in` clause, split by JSON type.
#[derive(Debug, Clone, Default)]
pub(crate) struct InValues {
    strings: Vec<String>,
    string_set: Option<FxHashSet<String>>,
    numbers: Vec<f64>,
    has_true: bool,
    has_false: bool,
}

impl Matcher {
    /// Prepares `values` for the operator named `op`.
    pub(crate) fn prepare(op: &str, values: &[Value]) -> Self {
        let strings = || {
            values
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let numbers = || {
            values
                .iter()
                .filter(|v| v.is_number())
                .filter_map(Value::as_f64)
                .collect::<Vec<_>>()
        };
        let instants = || values.iter().filter_map(instant_of).collect::<Vec<_>>();
        let versions = || {
            values
                .iter()
                .filter_map(Value::as_str)
                .filter_map(Version::parse)
                .collect::<Vec<_>>()
        };
        match op {
            "in" => Matcher::In(InValues::new(values)),
            "startsWith" => Matcher::StartsWith(strings()),
            "endsWith" => Matcher::EndsWith(strings()),
            "contains" => Matcher::Contains(strings()),
            "matches" => Matcher::Matches(
                values
                    .iter()
                    .filter_map(Value::as_str)
                    .filter_map(|p| Regex::new(p).ok())
                    .collect(),
            ),
            "lessThan" => Matcher::Numeric(|u, c| u < c, numbers()),
            "lessThanOrEqual" => Matcher::Numeric(|u, c| u <= c, numbers()),
            "greaterThan" => Matcher::Numeric(|u, c| u > c, numbers()),
            "greaterThanOrEqual" => Matcher::Numeric(|u, c| u >= c, numbers()),
            "before" => Matcher::Date(Ordering::Less, instants()),
            "after" => Matcher::Date(Ordering::Greater, instants()),
            "semVerEqual" => Matcher::SemVer(Ordering::Equal, versions()),
            "semVerLessThan" => Matcher::SemVer(Ordering::Less, versions()),
            "semVerGreaterThan" => Matcher::SemVer(Ordering::Greater, versions()),
            "segmentMatch" => Matcher::SegmentMatch(strings()),
            _ => Matcher::Never,
        }
    }

    /// Whether the context value `u` matches any clause value. Type mismatches never match.
    pub(crate) fn matches(&self, u: &Value) -> bool {
        match self {
            Matcher::In(values) => values.contains(u),
            Matcher::StartsWith(prefixes) => u
                .as_str()
                .is_some_and(|u| prefixes.iter().any(|c| u.starts_with(c.as_str()))),
            Matcher::EndsWith(suffixes) => u
                .as_str()
                .is_some_and(|u| suffixes.iter().any(|c| u.ends_with(c.as_str()))),
            Matcher::Contains(parts) => u
                .as_str()
                .is_some_and(|u| parts.iter().any(|c| u.contains(c.as_str()))),
            Matcher::Matches(patterns) => u
                .as_str()
                .is_some_and(|u| patterns.iter().any(|c| c.is_match(u))),
            Matcher::Numeric(compare, numbers) => match u {
                Value::Number(u) => u
                    .as_f64()
                    .is_some_and(|u| numbers.iter().any(|&c| compare(u, c))),
                _ => false,
            },
            Matcher::Date(ordering, instants) => {
                instant_of(u).is_some_and(|u| instants.iter().any(|c| u.cmp(c) == *ordering))
            }
            Matcher::SemVer(ordering, versions) => u
                .as_str()
                .and_then(Version::parse)
                .is_some_and(|u| versions.iter().any(|c| u.cmp(c) == *ordering)),
            // Segment membership is decided by the clause, never per value.
            Matcher::SegmentMatch(_) | Matcher::Never => false,
        }
    }
}

impl InValues {
    fn new(values: &[Value]) -> Self {
        let mut prepared = InValues::default();
        for value in values {
            match value {
                Value::String(text) => prepared.strings.push(text.clone()),
                Value::Number(number) => prepared.numbers.extend(number.as_f64()),
                Value::Bool(true) => prepared.has_true = true,
                Value::Bool(false) => prepared.has_false = true,
                // null, arrays and objects never match anything.
                _ => {}
            }
        }
        if prepared.strings.len() > IN_SET_THRESHOLD {
            prepared.string_set = Some(prepared.strings.iter().cloned().collect());
        }
        prepared
    }

    fn contains(&self, u: &Value) -> bool {
        match u {
            Value::String(u) => match &self.string_set {
                Some(set) => set.contains(u.as_str()),
                None => self.strings.iter().any(|c| c == u),
            },
            Value::Number(u) => u.as_f64().is_some_and(|u| self.numbers.contains(&u)),
            Value::Bool(u) => {
                if *u {
                    self.has_true
                } else {
                    self.has_false
                }
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;

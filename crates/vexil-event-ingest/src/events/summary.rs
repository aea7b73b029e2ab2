//! A summary's `features` (spec 6.3), checked in the scanner's one pass over the body:
//! each flag's `counters` array and each counter's fields are read where the walk finds
//! them, instead of skipping `features`, then reading the flags, then each flag's members,
//! then its counters, then each counter's members, five passes over the same bytes. The
//! outcome, and which problem is reported when there are several, are those of the
//! four-pass reading after the skip (kept in the tests as the reference): a problem with the object around a value (a key that cannot be read, a
//! field named twice) outranks one inside it, even when it comes later in the text.

use std::borrow::Cow;

use super::scan::{elements, members, walk_members, Cursor, Json, JsonStr, SyntaxError};

const NOT_AN_OBJECT: &str = "`features` must be an object";

/// What the walk over an event's `features` found: the first problem, if any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Features<'a> {
    Fine,
    /// Absent, not an object, or a flag key that cannot be read.
    #[default]
    NotAnObject,
    Flag {
        key: JsonStr<'a>,
        problem: Problem,
    },
}

impl Features<'_> {
    /// The detail of a summary dropped as `invalid_summary`, when its `features` are not
    /// an object of flags whose `counters` are arrays of well-formed counters.
    pub(super) fn check(self) -> Result<(), String> {
        match self {
            Features::Fine => Ok(()),
            Features::NotAnObject => Err(NOT_AN_OBJECT.into()),
            // A flag key that cannot be read makes the whole `NotAnObject`.
            Features::Flag { key, problem } => {
                Err(problem.describe(&key.unescaped().unwrap_or_default()))
            }
        }
    }
}

/// Reads the `features` value at the cursor, `depth` arrays and objects inside the body,
/// in the scanner's pass over the body (`Fields`): checked as JSON exactly as the skipper
/// would check it (the same errors at the same places), and as a summary's features.
pub(super) fn read_features<'a>(
    cursor: &mut Cursor<'a>,
    depth: usize,
) -> Result<Features<'a>, SyntaxError> {
    if cursor.peek_token() != Some(b'{') {
        cursor.skip_value(depth)?;
        return Ok(Features::NotAnObject);
    }
    let mut readable = true;
    let mut first = None;
    walk_members(cursor, depth, |key, cursor| {
        if key.has_escapes && key.unescaped().is_none() {
            readable = false;
        }
        if !readable || first.is_some() {
            return cursor.skip_value(depth + 1);
        }
        if let Some(problem) = feature(cursor, depth + 1)? {
            first = Some(Features::Flag { key, problem });
        }
        Ok(())
    })?;
    Ok(match first {
        _ if !readable => Features::NotAnObject,
        Some(flag) => flag,
        None => Features::Fine,
    })
}

/// [`read_features`] over a value on its own (the tests' way in).
#[cfg(test)]
pub(super) fn check_features(features: Option<Json<'_>>) -> Result<(), String> {
    let Some(features) = features else {
        return Err(NOT_AN_OBJECT.into());
    };
    read_features(&mut Cursor::new(features.get()), 0)
        .map_err(|_| NOT_AN_OBJECT.to_owned())?
        .check()
}

/// What is wrong with one flag of `features`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Problem {
    /// Not an object, no `counters` or not an array, or a key that cannot be read.
    Counters,
    Counter {
        index: usize,
        problem: CounterProblem,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CounterProblem {
    /// Not an object, a field named twice or a key that cannot be read.
    NotAnObject,
    Count,
    Version,
    Variation,
    Unknown,
}

impl Problem {
    fn describe(self, flag_key: &str) -> String {
        let (index, problem) = match self {
            Problem::Counters => return format!("`features.{flag_key}.counters` must be an array"),
            Problem::Counter { index, problem } => (index, problem),
        };
        let at = format!("`features.{flag_key}.counters[{index}]`");
        match problem {
            CounterProblem::NotAnObject => format!("{at} must be an object"),
            CounterProblem::Count => format!("{at}.count must be a non-negative integer"),
            CounterProblem::Version => format!("{at}.version must be a non-negative integer"),
            CounterProblem::Variation => format!("{at}.variation must be a non-negative integer"),
            CounterProblem::Unknown => format!("{at}.unknown must be a boolean"),
        }
    }
}

/// A key as a name to compare, `None` when it cannot be read (a lone surrogate escape).
#[inline]
fn name<'a>(key: JsonStr<'a>) -> Option<Cow<'a, str>> {
    if key.has_escapes {
        key.unescaped()
    } else {
        Some(Cow::Borrowed(key.content()))
    }
}

/// Reads one flag's value at the cursor (`depth` arrays and objects around it): an object
/// with exactly one readable `counters`, an array, whose counters are read in the same pass.
fn feature(cursor: &mut Cursor<'_>, depth: usize) -> Result<Option<Problem>, SyntaxError> {
    if cursor.peek_token() != Some(b'{') {
        cursor.skip_value(depth)?;
        return Ok(Some(Problem::Counters));
    }
    let mut readable = true;
    let mut counters = 0;
    let mut is_array = false;
    let mut first: Option<Problem> = None;
    walk_members(cursor, depth, |key, cursor| {
        match name(key) {
            None => readable = false,
            Some(name) if name == "counters" => {
                counters += 1;
                if counters == 1 && cursor.peek_token() == Some(b'[') {
                    is_array = true;
                    return elements(cursor, depth + 1, |cursor, index| {
                        if first.is_some() {
                            return cursor.skip_value(depth + 2);
                        }
                        if let Some(problem) = counter(cursor, depth + 2)? {
                            first = Some(Problem::Counter { index, problem });
                        }
                        Ok(())
                    });
                }
            }
            Some(_) => {}
        }
        cursor.skip_value(depth + 1)
    })?;
    Ok(if !readable || counters != 1 || !is_array {
        Some(Problem::Counters)
    } else {
        first
    })
}

/// Reads one counter at the cursor (`depth` arrays and objects around it): an object whose
/// `count` is a non-negative integer, `version` and `variation`, if there, non-negative
/// integers or `null`, and `unknown`, if there, a boolean.
fn counter(cursor: &mut Cursor<'_>, depth: usize) -> Result<Option<CounterProblem>, SyntaxError> {
    if cursor.peek_token() != Some(b'{') {
        cursor.skip_value(depth)?;
        return Ok(Some(CounterProblem::NotAnObject));
    }
    let mut fields: [Option<Json<'_>>; 4] = [None; 4];
    let mut readable = true;
    members(cursor, depth, |key, value| {
        let Some(name) = name(key) else {
            readable = false;
            return;
        };
        let slot = match &*name {
            "count" => &mut fields[0],
            "version" => &mut fields[1],
            "variation" => &mut fields[2],
            "unknown" => &mut fields[3],
            _ => return,
        };
        if slot.replace(value).is_some() {
            readable = false;
        }
    })?;
    if !readable {
        return Ok(Some(CounterProblem::NotAnObject));
    }
    let [count, version, variation, unknown] = fields;
    let integer_or_null = |value: Option<Json<'_>>| {
        value.is_none_or(|value| value.as_u64().is_some() || value.is(super::scan::JsonType::Null))
    };
    Ok(if count.and_then(Json::as_u64).is_none() {
        Some(CounterProblem::Count)
    } else if !integer_or_null(version) {
        Some(CounterProblem::Version)
    } else if !integer_or_null(variation) {
        Some(CounterProblem::Variation)
    } else if unknown.is_some_and(|value| !value.is(super::scan::JsonType::Bool)) {
        Some(CounterProblem::Unknown)
    } else {
        None
    })
}

#[cfg(test)]
pub(super) mod tests;

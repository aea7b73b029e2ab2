//! Reads of one JSON value the scanner has already checked: its type, an integer, a
//! string (borrowed unless it has escapes), an object's members or named fields, an
//! array's elements. Each read gives what serde_json would give reading the same text.

use std::borrow::Cow;
use std::fmt;

#[cfg(test)]
use super::array::elements;
use super::lexer::{Cursor, JsonStr};
use super::object::members;

/// The type of a JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

impl JsonType {
    /// The type of the value starting with `first` (a value's first byte).
    #[inline]
    pub fn of_first_byte(first: u8) -> JsonType {
        match first {
            b'{' => JsonType::Object,
            b'[' => JsonType::Array,
            b'"' => JsonType::String,
            b'n' => JsonType::Null,
            b't' | b'f' => JsonType::Bool,
            _ => JsonType::Number,
        }
    }

    /// For messages: "an object", "a number", ...
    pub fn described(self) -> &'static str {
        match self {
            JsonType::Object => "an object",
            JsonType::Array => "an array",
            JsonType::String => "a string",
            JsonType::Number => "a number",
            JsonType::Bool => "a boolean",
            JsonType::Null => "null",
        }
    }
}

/// The text of exactly one JSON value, checked by the scanner (only it makes them), as it
/// lies in the body: no whitespace around it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Json<'a>(pub(super) &'a str);

impl fmt::Debug for Json<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.0)
    }
}

impl<'a> Json<'a> {
    /// Checks that `text` is one JSON value (whitespace around it allowed).
    #[cfg(test)]
    pub fn parse(text: &'a str) -> Result<Json<'a>, super::SyntaxError> {
        let mut cursor = Cursor::new(text);
        cursor.peek_token();
        let start = cursor.position();
        cursor.skip_value(0)?;
        let json = Json(cursor.since(start));
        cursor.end()?;
        Ok(json)
    }

    /// The value's text, exactly as it lies in the body.
    #[inline]
    pub fn get(self) -> &'a str {
        self.0
    }

    #[inline]
    pub fn json_type(self) -> JsonType {
        self.0
            .as_bytes()
            .first()
            .map_or(JsonType::Null, |&first| JsonType::of_first_byte(first))
    }

    #[inline]
    pub fn is(self, json_type: JsonType) -> bool {
        self.json_type() == json_type
    }

    /// The value as a non-negative integer, as serde_json reads a `u64` (`1.0`, `1e3`
    /// and `-0` are not integers).
    #[inline]
    pub fn as_u64(self) -> Option<u64> {
        match integer(self.0)? {
            (false, magnitude) => Some(magnitude),
            (true, _) => None,
        }
    }

    /// Whether the value is an integer that fits `i64` or `u64` (`-0` does not: serde_json
    /// reads it as a float).
    pub fn is_integer(self) -> bool {
        match integer(self.0) {
            Some((false, _)) => true,
            Some((true, magnitude)) => (1..=1 << 63).contains(&magnitude),
            None => false,
        }
    }

    /// The value as a string, borrowed from the body unless it has escapes; `None` when
    /// it is not a string or cannot be read as one (a lone surrogate escape).
    #[inline]
    pub fn as_str(self) -> Option<Cow<'a, str>> {
        if !self.is(JsonType::String) {
            return None;
        }
        JsonStr {
            quoted: self.0,
            // Checked strings are short: a plain loop beats `contains`' call to memchr.
            has_escapes: self.0.bytes().any(|byte| byte == b'\\'),
        }
        .unescaped()
    }

    /// The members of an object, in document order (duplicates kept); `None` when the
    /// value is not an object or a key cannot be read.
    pub fn members(self) -> Option<Vec<(Cow<'a, str>, Json<'a>)>> {
        if !self.is(JsonType::Object) {
            return None;
        }
        let mut found = Vec::new();
        let mut readable = true;
        members(&mut Cursor::new(self.0), 0, |key, value| {
            match key.unescaped() {
                Some(key) => found.push((key, value)),
                None => readable = false,
            }
        })
        .ok()?;
        readable.then_some(found)
    }

    /// The only member of an object, when it has exactly one (its key as written), without
    /// allocating (`Fields` finds `contextKeys`' in its own pass; this is the reference).
    #[cfg(test)]
    pub fn single_member(self) -> Option<(JsonStr<'a>, Json<'a>)> {
        if !self.is(JsonType::Object) {
            return None;
        }
        let mut count = 0;
        let mut first = None;
        members(&mut Cursor::new(self.0), 0, |key, value| {
            count += 1;
            first.get_or_insert((key, value));
        })
        .ok()?;
        first.filter(|_| count == 1)
    }

    /// The members of an object named in `names` (each `Some` when present, also when
    /// `null`), as serde reads a struct of those fields: `None` when the value is not an
    /// object, names one of them twice, or has a key that cannot be read.
    pub fn fields<const N: usize>(self, names: [&str; N]) -> Option<[Option<Json<'a>>; N]> {
        if !self.is(JsonType::Object) {
            return None;
        }
        let mut found = [None; N];
        let mut readable = true;
        members(&mut Cursor::new(self.0), 0, |key, value| {
            let Some(key) = key.unescaped() else {
                readable = false;
                return;
            };
            let slot = names
                .iter()
                .position(|name| *name == key)
                .and_then(|index| found.get_mut(index));
            if let Some(slot) = slot {
                if slot.replace(value).is_some() {
                    readable = false;
                }
            }
        })
        .ok()?;
        readable.then_some(found)
    }

    /// The elements of an array, or `None` when the value is not an array (the summary
    /// check's reference in its tests; `summary.rs` walks counters in place).
    #[cfg(test)]
    pub fn elements(self) -> Option<Vec<Json<'a>>> {
        if !self.is(JsonType::Array) {
            return None;
        }
        let mut found = Vec::new();
        elements(&mut Cursor::new(self.0), 0, |cursor, _| {
            let start = cursor.position();
            cursor.skip_value(1)?;
            found.push(Json(cursor.since(start)));
            Ok(())
        })
        .ok()?;
        Some(found)
    }
}

impl<'a> Cursor<'a> {
    /// The value read from `start` to the current position, which must be exactly one
    /// checked value: for readers outside the scanner that read a value in place.
    #[inline]
    pub fn value_since(&self, start: usize) -> Json<'a> {
        Json(self.since(start))
    }
}

/// The sign (`true` when negative) and magnitude of a number written as an integer (no
/// fraction or exponent) whose magnitude fits `u64`.
fn integer(text: &str) -> Option<(bool, u64)> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(digits) => (true, digits),
        None => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    // Nineteen digits cannot overflow: timestamps (13 digits) need no checked arithmetic.
    if digits.len() <= 19 {
        let mut magnitude: u64 = 0;
        for byte in digits.bytes() {
            let digit = byte.wrapping_sub(b'0');
            if digit > 9 {
                return None;
            }
            magnitude = magnitude * 10 + u64::from(digit);
        }
        return Some((negative, magnitude));
    }
    let mut magnitude: u64 = 0;
    for byte in digits.bytes() {
        let digit = byte.checked_sub(b'0').filter(|digit| *digit <= 9)?;
        magnitude = magnitude.checked_mul(10)?.checked_add(u64::from(digit))?;
    }
    Some((negative, magnitude))
}

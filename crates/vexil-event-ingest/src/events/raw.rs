//! Reads an event's fields where they lie in the request body, without building a
//! `serde_json::Value` tree: raw values, strings borrowed unless they have escapes, and
//! an object's members in order. Every input here has already been checked to be valid
//! JSON (the body was split with `RawValue`), so a value's first byte tells its type.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

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
    /// The type of the JSON value `json` starts with (after whitespace), if any.
    pub fn of(json: &[u8]) -> Option<JsonType> {
        let first = json.iter().find(|byte| !byte.is_ascii_whitespace())?;
        Some(match first {
            b'{' => JsonType::Object,
            b'[' => JsonType::Array,
            b'"' => JsonType::String,
            b'n' => JsonType::Null,
            b't' | b'f' => JsonType::Bool,
            _ => JsonType::Number,
        })
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

/// The type of a raw value.
pub fn type_of(raw: &RawValue) -> JsonType {
    JsonType::of(raw.get().as_bytes()).unwrap_or(JsonType::Null)
}

pub fn is(raw: &RawValue, json_type: JsonType) -> bool {
    type_of(raw) == json_type
}

/// For `#[serde(default, deserialize_with = "present")]` fields: `Some` whenever the
/// field is there, also when it is `null` (a plain `Option` would make `"version": null`
/// look like a missing field).
pub fn present<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

/// The value as a non-negative integer (`1.0` and `1e3` are not integers).
pub fn as_u64(raw: &RawValue) -> Option<u64> {
    if !is(raw, JsonType::Number) {
        return None;
    }
    serde_json::from_str(raw.get()).ok()
}

/// Whether the value is an integer that fits `i64` or `u64`.
pub fn is_integer(raw: &RawValue) -> bool {
    is(raw, JsonType::Number)
        && (serde_json::from_str::<i64>(raw.get()).is_ok()
            || serde_json::from_str::<u64>(raw.get()).is_ok())
}

/// The value as a string, borrowed from the body unless it has escapes.
pub fn as_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    if !is(raw, JsonType::String) {
        return None;
    }
    serde_json::from_str::<JsonStr<'_>>(raw.get())
        .ok()
        .map(|string| string.0)
}

/// The members of an object, in document order (duplicates kept), or `None` when the
/// value is not an object.
pub fn members(raw: &RawValue) -> Option<Vec<(Cow<'_, str>, &RawValue)>> {
    if !is(raw, JsonType::Object) {
        return None;
    }
    serde_json::from_str::<Members<'_>>(raw.get())
        .ok()
        .map(|members| members.0)
}

/// The elements of an array, or `None` when the value is not an array.
pub fn elements(raw: &RawValue) -> Option<Vec<&RawValue>> {
    if !is(raw, JsonType::Array) {
        return None;
    }
    serde_json::from_str(raw.get()).ok()
}

/// A JSON string, borrowed when it has no escapes.
struct JsonStr<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for JsonStr<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = JsonStr<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Self::Value, E> {
                Ok(JsonStr(Cow::Borrowed(value)))
            }

            fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
                Ok(JsonStr(Cow::Owned(value.to_owned())))
            }

            fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
                Ok(JsonStr(Cow::Owned(value)))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}

/// An object's members, names as [`JsonStr`], values raw.
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(4));
                while let Some(name) = map.next_key::<JsonStr<'de>>()? {
                    members.push((name.0, map.next_value::<&'de RawValue>()?));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> &RawValue {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn numbers_are_told_apart() {
        assert_eq!(as_u64(raw("17")), Some(17));
        assert_eq!(as_u64(raw("-1")), None);
        assert_eq!(as_u64(raw("1.0")), None);
        assert_eq!(as_u64(raw("1e3")), None);
        assert_eq!(as_u64(raw("\"1\"")), None);
        assert!(is_integer(raw("-5")));
        assert!(is_integer(raw("18446744073709551615")));
        assert!(!is_integer(raw("18446744073709551616")));
        assert!(!is_integer(raw("0.5")));
        assert!(!is_integer(raw("null")));
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        assert!(matches!(
            as_str(raw(r#""plain""#)),
            Some(Cow::Borrowed("plain"))
        ));
        assert_eq!(as_str(raw(r#""a\"b\u00e9""#)).as_deref(), Some("a\"bé"));
        assert_eq!(as_str(raw("5")), None);
    }

    #[test]
    fn members_keep_order_and_duplicates() {
        let members = members(raw(r#"{"b": 1, "a\u0041": [2], "b": {"c": null}}"#)).unwrap();
        let seen: Vec<(&str, &str)> = members
            .iter()
            .map(|(name, value)| (name.as_ref(), value.get()))
            .collect();
        assert_eq!(seen, [("b", "1"), ("aA", "[2]"), ("b", r#"{"c": null}"#)]);
        assert!(super::members(raw("[]")).is_none());
        assert_eq!(elements(raw("[1, {}]")).unwrap().len(), 2);
    }
}

//! One line of a cases file, `{"flag", "context", "default", "valueType"}`, checked field by field.

use serde_json::{Map, Value};
use vexil_eval::ValueType;

/// A case to evaluate. The context is kept as JSON: an invalid context is not an input error,
/// it evaluates to the default with `USER_NOT_SPECIFIED`.
#[derive(Debug, PartialEq)]
pub struct Case {
    /// Key of the flag to evaluate.
    pub flag: String,
    /// The context, `null` when the field is absent.
    pub context: Value,
    /// The default value, `null` when the field is absent.
    pub default: Value,
    /// The typed call being imitated, `any` when the field is absent or `null`.
    pub value_type: ValueType,
}

/// Why a line is not a case.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum CaseError {
    /// Nothing but whitespace: refused, because nothing is silently skipped.
    #[error("blank line: each line must be one case")]
    Blank,
    /// Not JSON.
    #[error("invalid JSON: {message}")]
    InvalidJson {
        /// serde_json's description, without its position.
        message: String,
        /// 1-based column in the line.
        column: usize,
    },
    /// JSON, but not an object.
    #[error("a case must be a JSON object, found {found}")]
    NotAnObject {
        /// The JSON type found.
        found: &'static str,
    },
    /// No `flag` field.
    #[error("missing field \"flag\" (the key of the flag to evaluate)")]
    MissingFlag,
    /// A field with the wrong JSON type.
    #[error("field {field:?} must be a string, found {found}")]
    NotAString {
        /// The field name.
        field: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// A `valueType` that is not one of the known names.
    #[error("field \"valueType\": {message}")]
    UnknownValueType {
        /// The evaluator's description.
        message: String,
    },
    /// A field a case does not have, most likely a misspelling.
    #[error("unknown field {name:?}: a case has only \"flag\", \"context\", \"default\" and \"valueType\"")]
    UnknownField {
        /// The field name.
        name: String,
    },
}

impl CaseError {
    /// The column the problem is at, when there is one to point to.
    pub fn column(&self) -> Option<usize> {
        match self {
            CaseError::InvalidJson { column, .. } => Some(*column),
            _ => None,
        }
    }
}

impl Case {
    /// Parses one line (without its line ending).
    pub fn parse(line: &[u8]) -> Result<Case, CaseError> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Err(CaseError::Blank);
        }
        let value: Value = serde_json::from_slice(line).map_err(|error| {
            let position = format!(" at line {} column {}", error.line(), error.column());
            let message = error.to_string();
            let message = message
                .strip_suffix(&position)
                .unwrap_or(&message)
                .to_owned();
            CaseError::InvalidJson {
                message,
                column: error.column(),
            }
        })?;
        let Value::Object(mut fields) = value else {
            return Err(CaseError::NotAnObject {
                found: json_type(&value),
            });
        };
        let case = Case {
            flag: match fields.remove("flag") {
                Some(Value::String(flag)) => flag,
                Some(other) => {
                    return Err(CaseError::NotAString {
                        field: "flag",
                        found: json_type(&other),
                    })
                }
                None => return Err(CaseError::MissingFlag),
            },
            context: fields.remove("context").unwrap_or(Value::Null),
            default: fields.remove("default").unwrap_or(Value::Null),
            value_type: value_type(&mut fields)?,
        };
        if let Some(name) = fields.keys().next() {
            return Err(CaseError::UnknownField { name: name.clone() });
        }
        Ok(case)
    }
}

fn value_type(fields: &mut Map<String, Value>) -> Result<ValueType, CaseError> {
    match fields.remove("valueType") {
        None | Some(Value::Null) => Ok(ValueType::Any),
        Some(Value::String(name)) => name
            .parse()
            .map_err(|message| CaseError::UnknownValueType { message }),
        Some(other) => Err(CaseError::NotAString {
            field: "valueType",
            found: json_type(&other),
        }),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::*;

    #[track_caller]
    fn check(line: &str, expected: Expect) {
        let outcome = match Case::parse(line.as_bytes()) {
            Ok(case) => format!("{case:?}"),
            Err(error) => format!("error (column {:?}): {error}", error.column()),
        };
        expected.assert_eq(&outcome);
    }

    #[test]
    fn complete_case() {
        check(
            r#"{"flag": "f", "context": {"key": "u"}, "default": 3, "valueType": "int"}"#,
            expect![[
                r#"Case { flag: "f", context: Object {"key": String("u")}, default: Number(3), value_type: Int }"#
            ]],
        );
    }

    #[test]
    fn absent_fields_take_defaults() {
        check(
            r#"{"flag": "f"}"#,
            expect![[r#"Case { flag: "f", context: Null, default: Null, value_type: Any }"#]],
        );
        check(
            r#"{"flag": "f", "valueType": null}"#,
            expect![[r#"Case { flag: "f", context: Null, default: Null, value_type: Any }"#]],
        );
    }

    #[test]
    fn invalid_contexts_are_not_case_errors() {
        check(
            r#"{"flag": "f", "context": 7}"#,
            expect![[r#"Case { flag: "f", context: Number(7), default: Null, value_type: Any }"#]],
        );
    }

    #[test]
    fn malformed_lines_name_the_problem() {
        check(
            "",
            expect![[r#"error (column None): blank line: each line must be one case"#]],
        );
        check(
            " \t",
            expect![[r#"error (column None): blank line: each line must be one case"#]],
        );
        check(
            r#"{"flag": "f",}"#,
            expect![[r#"error (column Some(14)): invalid JSON: trailing comma"#]],
        );
        check(
            r#"["f"]"#,
            expect![[r#"error (column None): a case must be a JSON object, found an array"#]],
        );
        check(
            r#"{"context": {}}"#,
            expect![[
                r#"error (column None): missing field "flag" (the key of the flag to evaluate)"#
            ]],
        );
        check(
            r#"{"flag": 3}"#,
            expect![[r#"error (column None): field "flag" must be a string, found a number"#]],
        );
        check(
            r#"{"flag": "f", "valueType": "float"}"#,
            expect![[
                r#"error (column None): field "valueType": unknown value type "float": expected bool, int, double, string or any"#
            ]],
        );
        check(
            r#"{"flag": "f", "valueType": true}"#,
            expect![[
                r#"error (column None): field "valueType" must be a string, found a boolean"#
            ]],
        );
        check(
            r#"{"flag": "f", "defualt": 1}"#,
            expect![[
                r#"error (column None): unknown field "defualt": a case has only "flag", "context", "default" and "valueType""#
            ]],
        );
    }
}

//! Tests for instructions: each case is an item as JSON, instructions as JSON, and the fields
//! that changed (or the error).

mod flag_rules;
mod flag_settings;
mod flag_targets;
mod parsing;
mod segments;

use expect_test::Expect;
use serde::Serialize;
use serde_json::{json, Value};
use vexil_eval::{Flag, Segment};

use super::{apply_flag_instructions, apply_segment_instructions};

/// A flag with three variations, with `fields` replacing or adding top-level fields.
fn flag(fields: Value) -> Value {
    merge(
        json!({"key": "f", "version": 3, "on": false, "variations": ["red", "green", "blue"],
               "offVariation": 0, "fallthrough": {"variation": 0}, "salt": "s"}),
        fields,
    )
}

/// A segment with `fields` replacing or adding top-level fields.
fn segment(fields: Value) -> Value {
    merge(json!({"key": "s", "version": 3, "salt": "s"}), fields)
}

fn merge(mut base: Value, fields: Value) -> Value {
    let object = base.as_object_mut().unwrap();
    for (name, value) in fields.as_object().unwrap() {
        object.insert(name.clone(), value.clone());
    }
    base
}

/// Applies `instructions` to `flag`; new rules are named `new-1`, `new-2`, ...
#[track_caller]
fn check_flag(flag: Value, instructions: Value, expected: Expect) {
    let before: Flag = serde_json::from_value(flag).unwrap();
    let instructions = serde_json::from_value::<Vec<_>>(instructions).unwrap();
    let result = apply_flag_instructions(&before, &instructions, &mut counter());
    expected.assert_eq(&render(&before, result, Flag::FIELDS));
}

/// Applies `instructions` to `segment`; new rules are named `new-1`, `new-2`, ...
#[track_caller]
fn check_segment(segment: Value, instructions: Value, expected: Expect) {
    let before: Segment = serde_json::from_value(segment).unwrap();
    let instructions = serde_json::from_value::<Vec<_>>(instructions).unwrap();
    let result = apply_segment_instructions(&before, &instructions, &mut counter());
    expected.assert_eq(&render(&before, result, Segment::FIELDS));
}

fn counter() -> impl FnMut() -> String {
    let mut count = 0;
    move || {
        count += 1;
        format!("new-{count}")
    }
}

/// The error, or each changed field as `name: json`, in schema order.
fn render<T: Serialize>(
    before: &T,
    after: Result<T, super::InstructionError>,
    fields: &[&str],
) -> String {
    let after = match after {
        Ok(after) => after,
        Err(error) => return format!("error: {error}\n"),
    };
    let before = serde_json::to_value(before).unwrap();
    let after = serde_json::to_value(after).unwrap();
    let changes: String = fields
        .iter()
        .filter(|&&field| before.get(field) != after.get(field))
        .map(|&field| format!("{field}: {}\n", after.get(field).unwrap_or(&Value::Null)))
        .collect();
    if changes.is_empty() {
        "no change\n".to_owned()
    } else {
        changes
    }
}

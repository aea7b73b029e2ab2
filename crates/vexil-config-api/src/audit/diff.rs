//! A readable, line-per-change diff of two JSON documents, for audit entries:
//! `~ rules[0].clauses[0].values: ["a"] -> ["a","b"]`, `+ tags[1]: "beta"`, `- on: true`.

use serde_json::Value;

/// Lines of `+ path: value` (added), `- path: value` (removed) and `~ path: old -> new`
/// (changed), in document order. Objects are compared by key, arrays by index. `None`
/// stands for "does not exist" (creation, deletion).
pub fn readable_diff(before: Option<&Value>, after: Option<&Value>) -> String {
    let mut lines = Vec::new();
    diff_at("", before, after, &mut lines);
    lines.join("\n")
}

fn diff_at(path: &str, before: Option<&Value>, after: Option<&Value>, lines: &mut Vec<String>) {
    match (before, after) {
        (None, None) => {}
        (Some(Value::Object(old)), Some(Value::Object(new))) => {
            for (key, old_value) in old {
                diff_at(&join_key(path, key), Some(old_value), new.get(key), lines);
            }
            for (key, new_value) in new.iter().filter(|(key, _)| !old.contains_key(*key)) {
                diff_at(&join_key(path, key), None, Some(new_value), lines);
            }
        }
        (Some(Value::Array(old)), Some(Value::Array(new))) => {
            for index in 0..old.len().max(new.len()) {
                let item_path = format!("{path}[{index}]");
                diff_at(&item_path, old.get(index), new.get(index), lines);
            }
        }
        (Some(old), Some(new)) if old == new => {}
        (Some(old), Some(new)) => lines.push(format!("~ {}: {old} -> {new}", shown(path))),
        (None, Some(new)) => lines.push(format!("+ {}: {new}", shown(path))),
        (Some(old), None) => lines.push(format!("- {}: {old}", shown(path))),
    }
}

fn join_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn shown(path: &str) -> &str {
    if path.is_empty() {
        "(document)"
    } else {
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};
    use serde_json::json;

    #[track_caller]
    fn check(before: Option<Value>, after: Option<Value>, expected: Expect) {
        expected.assert_eq(&readable_diff(before.as_ref(), after.as_ref()));
    }

    #[test]
    fn changed_added_and_removed_fields() {
        check(
            Some(json!({"on": false, "tags": ["a"], "salt": "s"})),
            Some(json!({"on": true, "tags": ["a", "b"], "offVariation": 1})),
            expect![[r#"
                ~ on: false -> true
                - salt: "s"
                + tags[1]: "b"
                + offVariation: 1"#]],
        );
    }

    #[test]
    fn nested_paths() {
        check(
            Some(json!({"rules": [{"clauses": [{"values": ["a"]}]}]})),
            Some(json!({"rules": [{"clauses": [{"values": ["z"]}]}]})),
            expect![[r#"~ rules[0].clauses[0].values[0]: "a" -> "z""#]],
        );
    }

    #[test]
    fn creation_and_deletion_show_the_whole_document() {
        check(
            None,
            Some(json!({"key": "f"})),
            expect![[r#"+ (document): {"key":"f"}"#]],
        );
        check(Some(json!(true)), None, expect![[r#"- (document): true"#]]);
    }

    #[test]
    fn type_changes_are_one_line() {
        check(
            Some(json!({"v": [1]})),
            Some(json!({"v": {"a": 1}})),
            expect![[r#"~ v: [1] -> {"a":1}"#]],
        );
    }
}

//! Expands one conformance `.yml` template into suites: YAML 1.2 to JSON, constants, parameters.
//!
//! The format is described in `shared/conformance/README.md` and follows LaunchDarkly's
//! sdk-test-harness (`testdata/substitutions.go`): every `<NAME>` of a known constant or parameter
//! is replaced, a whole-string occurrence by the value itself and an occurrence inside a longer
//! string by the value's text (a string's contents, other values' JSON). Unknown names stay as
//! written, since the data relies on that (`default: <TYPE_DEFAULT>` with no such constant).

use serde_json::{Map, Value};

/// Substitution stops with an error after this many passes, which only cyclic constants reach.
const MAX_SUBSTITUTION_PASSES: usize = 32;

/// A JSON document after substitution, with the parameters that produced it (for messages).
pub struct Expanded {
    pub document: Value,
    pub parameters: Map<String, Value>,
}

/// Parses a template file and expands it into one document per parameter set.
pub fn expand_file(text: &str) -> Result<Vec<Expanded>, String> {
    let document = parse_yaml(text)?;
    expand(document)
}

/// Parses YAML 1.2 (core schema) text into JSON, applying `<<` merge keys. Mapping keys must be
/// strings, as in the harness, so a YAML 1.1 reading of `on:` as `true` could never slip through.
pub fn parse_yaml(text: &str) -> Result<Value, String> {
    let mut yaml: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|error| format!("invalid YAML: {error}"))?;
    yaml.apply_merge()
        .map_err(|error| format!("invalid YAML merge key (<<): {error}"))?;
    yaml_to_json(yaml, "$")
}

/// Expands a parsed template: removes `constants` and `parameters` and substitutes them into the
/// rest, once per parameter set.
pub fn expand(document: Value) -> Result<Vec<Expanded>, String> {
    let Value::Object(mut template) = document else {
        return Err("a conformance file must be a YAML mapping".to_owned());
    };
    let constants = match template.remove("constants") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(constants)) => constants,
        Some(other) => return Err(format!("`constants` must be a mapping, found {other}")),
    };
    let parameter_sets = parameter_sets(template.remove("parameters"))?;
    let template = Value::Object(template);
    parameter_sets
        .into_iter()
        .map(|parameters| {
            // Constants win over parameters of the same name, as in the harness, which substitutes
            // constants first.
            let mut names = parameters.clone();
            names.extend(constants.clone());
            let document = substitute_all(template.clone(), &names)?;
            Ok(Expanded {
                document,
                parameters,
            })
        })
        .collect()
}

/// The parameter sets of a template: none gives one empty set; a list of mappings gives one set
/// each; a list of lists of mappings gives every combination, one mapping from each inner list,
/// later lists overriding earlier ones on shared names.
fn parameter_sets(parameters: Option<Value>) -> Result<Vec<Map<String, Value>>, String> {
    let list = match parameters {
        None | Some(Value::Null) => return Ok(vec![Map::new()]),
        Some(Value::Array(list)) if list.is_empty() => return Ok(vec![Map::new()]),
        Some(Value::Array(list)) => list,
        Some(other) => return Err(format!("`parameters` must be a list, found {other}")),
    };
    if list[0].is_object() {
        return list
            .into_iter()
            .map(|set| as_mapping(set, "parameters[]"))
            .collect();
    }
    let lists = list
        .into_iter()
        .map(|inner| match inner {
            Value::Array(sets) if !sets.is_empty() => sets
                .into_iter()
                .map(|set| as_mapping(set, "parameters[][]"))
                .collect::<Result<Vec<_>, _>>(),
            other => Err(format!(
                "`parameters` must be a list of mappings or a list of non-empty lists of \
                 mappings, found {other}"
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    // The first list varies fastest, as in the harness, so suites come out in the same order.
    let mut combinations = vec![Map::new()];
    for sets in &lists {
        combinations = sets
            .iter()
            .flat_map(|set| {
                combinations.iter().map(move |combination| {
                    let mut merged = combination.clone();
                    merged.extend(set.clone());
                    merged
                })
            })
            .collect();
    }
    Ok(combinations)
}

fn as_mapping(value: Value, place: &str) -> Result<Map<String, Value>, String> {
    match value {
        Value::Object(mapping) => Ok(mapping),
        other => Err(format!(
            "each entry of {place} must be a mapping, found {other}"
        )),
    }
}

/// Substitutes until nothing changes, so constants and parameters may refer to each other.
fn substitute_all(mut value: Value, names: &Map<String, Value>) -> Result<Value, String> {
    for _ in 0..MAX_SUBSTITUTION_PASSES {
        let next = substitute(&value, names);
        if next == value {
            return Ok(value);
        }
        value = next;
    }
    let known: Vec<&String> = names.keys().collect();
    Err(format!(
        "substitution did not finish after {MAX_SUBSTITUTION_PASSES} passes: \
         do constants/parameters {known:?} refer to each other in a cycle?"
    ))
}

/// One substitution pass over a value.
fn substitute(value: &Value, names: &Map<String, Value>) -> Value {
    match value {
        Value::String(text) => match whole_reference(text).and_then(|name| names.get(name)) {
            Some(replacement) => replacement.clone(),
            None => Value::String(interpolate(text, names)),
        },
        Value::Array(items) => {
            Value::Array(items.iter().map(|item| substitute(item, names)).collect())
        }
        Value::Object(entries) => Value::Object(
            entries
                .iter()
                .map(|(key, item)| (interpolate(key, names), substitute(item, names)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `NAME` when the whole text is `<NAME>`.
fn whole_reference(text: &str) -> Option<&str> {
    let name = text.strip_prefix('<')?.strip_suffix('>')?;
    (!name.contains(['<', '>'])).then_some(name)
}

/// Replaces every `<NAME>` of a known name inside a string by the value's text.
fn interpolate(text: &str, names: &Map<String, Value>) -> String {
    if !text.contains('<') {
        return text.to_owned();
    }
    let mut result = text.to_owned();
    for (name, value) in names {
        let reference = format!("<{name}>");
        if result.contains(&reference) {
            let replacement = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            result = result.replace(&reference, &replacement);
        }
    }
    result
}

/// Converts parsed YAML to JSON; `path` names the place in messages.
fn yaml_to_json(yaml: serde_yaml::Value, path: &str) -> Result<Value, String> {
    use serde_yaml::Value as Yaml;
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(flag) => Value::Bool(flag),
        Yaml::Number(number) => {
            if let Some(integer) = number.as_i64() {
                Value::from(integer)
            } else if let Some(integer) = number.as_u64() {
                Value::from(integer)
            } else {
                let float = number.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(float)
                    .map(Value::Number)
                    .ok_or_else(|| format!("{path}: {number} has no JSON representation"))?
            }
        }
        Yaml::String(text) => Value::String(text),
        Yaml::Sequence(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(index, item)| yaml_to_json(item, &format!("{path}[{index}]")))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Mapping(entries) => {
            let mut object = Map::new();
            for (key, item) in entries {
                let Yaml::String(key) = key else {
                    return Err(format!(
                        "{path}: mapping key {key:?} is not a string (only string keys are allowed)"
                    ));
                };
                let item = yaml_to_json(item, &format!("{path}.{key}"))?;
                object.insert(key, item);
            }
            Value::Object(object)
        }
        Yaml::Tagged(tagged) => {
            return Err(format!("{path}: YAML tag {} is not supported", tagged.tag));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[track_caller]
    fn expand_yaml(text: &str) -> Vec<Value> {
        expand_file(text)
            .unwrap()
            .into_iter()
            .map(|expanded| expanded.document)
            .collect()
    }

    #[test]
    fn yaml_1_2_keeps_on_off_yes_no_as_strings() {
        let parsed = parse_yaml(
            "on: true\noff: false\nvalues: [on, off, yes, no, y, n, On, OFF]\nnothing: ~\nempty:\n",
        )
        .unwrap();
        assert_eq!(
            parsed,
            json!({
                "on": true,
                "off": false,
                "values": ["on", "off", "yes", "no", "y", "n", "On", "OFF"],
                "nothing": null,
                "empty": null,
            })
        );
    }

    #[test]
    fn yaml_scalars_become_json_scalars() {
        let parsed = parse_yaml(
            "[1, -100, 1.5, 2.25, 1512543600000, '1512543600000', \"2.0\", 2.0, true, 'null']",
        )
        .unwrap();
        assert_eq!(
            parsed,
            json!([
                1,
                -100,
                1.5,
                2.25,
                1_512_543_600_000_u64,
                "1512543600000",
                "2.0",
                2.0,
                true,
                "null"
            ])
        );
    }

    #[test]
    fn merge_keys_are_applied_and_local_keys_win() {
        let parsed = parse_yaml(
            "base: &base { on: true, variations: [a, b] }\nflag:\n  <<: *base\n  on: false\n",
        )
        .unwrap();
        assert_eq!(
            parsed["flag"],
            json!({ "on": false, "variations": ["a", "b"] })
        );
    }

    #[test]
    fn non_string_keys_are_rejected() {
        let error = parse_yaml("1: one\n").unwrap_err();
        assert!(error.contains("not a string"), "{error}");
    }

    #[test]
    fn whole_strings_become_values_and_parts_become_text() {
        let documents = expand_yaml(
            r#"
constants:
  OBJECT: { kind: "OFF" }
  NUMBER: 3
  TEXT: abc
name: "<TEXT> is <NUMBER>, <OBJECT>, <UNKNOWN>"
whole: [ "<OBJECT>", <NUMBER>, "<TEXT>", "<UNKNOWN>", "<TEXT><TEXT>" ]
"key-<TEXT>": 1
"#,
        );
        assert_eq!(
            documents,
            [json!({
                "name": r#"abc is 3, {"kind":"OFF"}, <UNKNOWN>"#,
                "whole": [{ "kind": "OFF" }, 3, "abc", "<UNKNOWN>", "abcabc"],
                "key-abc": 1,
            })]
        );
    }

    #[test]
    fn a_list_of_mappings_expands_once_per_mapping() {
        let documents =
            expand_yaml("parameters:\n  - { A: 1, B: x }\n  - { A: 2, B: y }\nvalue: [<A>, <B>]\n");
        assert_eq!(
            documents,
            [json!({ "value": [1, "x"] }), json!({ "value": [2, "y"] })]
        );
    }

    #[test]
    fn a_list_of_lists_expands_into_every_combination() {
        let documents = expand_yaml(
            "parameters:\n  - [ { A: 1 }, { A: 2 } ]\n  - [ { B: x }, { B: y }, { B: z } ]\n\
             value: <A><B>\n",
        );
        let values: Vec<&Value> = documents
            .iter()
            .map(|document| &document["value"])
            .collect();
        assert_eq!(values, ["1x", "2x", "1y", "2y", "1z", "2z"]);
    }

    #[test]
    fn constants_and_parameters_may_refer_to_each_other() {
        let documents = expand_yaml(
            r#"
constants:
  IS_MATCH: { value: true, reason: { kind: "RULE_MATCH", ruleId: "<RULE>" } }
  EXPECT_FOR_RULE: <MATCH_RULE_VARIATION_A>
parameters:
  - { MATCH_RULE_VARIATION_A: <IS_MATCH>, RULE: r1 }
expect: <EXPECT_FOR_RULE>
"#,
        );
        assert_eq!(
            documents,
            [json!({
                "expect": { "value": true, "reason": { "kind": "RULE_MATCH", "ruleId": "r1" } }
            })]
        );
    }

    #[test]
    fn no_parameters_gives_one_document() {
        assert_eq!(
            expand_yaml("constants: { A: 1 }\nvalue: <A>\n"),
            [json!({ "value": 1 })]
        );
        assert_eq!(
            expand_yaml("parameters: []\nvalue: <A>\n"),
            [json!({ "value": "<A>" })]
        );
    }

    #[test]
    fn cyclic_constants_are_reported() {
        let error = expand_file("constants: { A: [<B>], B: [<A>] }\nvalue: <A>\n")
            .err()
            .expect("a cycle must fail");
        assert!(error.contains("cycle"), "{error}");
    }
}

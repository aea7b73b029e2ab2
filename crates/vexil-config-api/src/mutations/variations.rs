//! The project-level rules for a flag's variations: how many, which JSON types for each
//! flag kind, no duplicates. (Targeting rules are `vexil_eval::validate`'s.)

use serde_json::Value;

use crate::error::{ApiError, ApiResult, FieldError};
use crate::store::rows::Variation;

/// The kinds of flag.
pub const KINDS: [&str; 3] = ["boolean", "multivariate", "json"];

/// Infers the kind when a request gives none: two booleans make a boolean flag, strings or
/// numbers a multivariate one, anything else a JSON flag.
pub fn infer_kind(variations: &[Variation]) -> &'static str {
    if variations.iter().all(|v| v.value.is_boolean()) {
        "boolean"
    } else if variations.iter().all(|v| v.value.is_string())
        || variations.iter().all(|v| v.value.is_number())
    {
        "multivariate"
    } else {
        "json"
    }
}

/// 422 listing every problem with `variations` for a flag of `kind`.
pub fn check(kind: &str, variations: &[Variation]) -> ApiResult<()> {
    let mut errors = Vec::new();
    let mut error = |path: String, reason: String| errors.push(FieldError { path, reason });
    if !KINDS.contains(&kind) {
        error(
            "kind".into(),
            format!("unknown kind `{kind}`, expected one of boolean, multivariate, json"),
        );
    }
    if variations.len() < 2 {
        error(
            "variations".into(),
            "a flag needs at least two variations".into(),
        );
    }
    if variations.len() > 1000 {
        error("variations".into(), "at most 1000 variations".into());
    }
    for (index, variation) in variations.iter().enumerate() {
        let path = format!("variations[{index}].value");
        if variation.value.is_null() {
            error(path.clone(), "a variation value cannot be null".into());
        }
        match kind {
            "boolean" if !variation.value.is_boolean() => error(
                path.clone(),
                "a boolean flag's variations are true and false".into(),
            ),
            "multivariate" if !(variation.value.is_string() || variation.value.is_number()) => {
                error(
                    path.clone(),
                    "a multivariate flag's variations are strings or numbers".into(),
                )
            }
            _ => {}
        }
        if let Some(first) = variations[..index]
            .iter()
            .position(|earlier| earlier.value == variation.value)
        {
            error(
                path.clone(),
                format!("duplicates variations[{first}].value"),
            );
        }
        if index > 0 && kind == "multivariate" && !same_type(&variations[0].value, &variation.value)
        {
            error(
                path,
                "every variation of a multivariate flag has the first one's type".into(),
            );
        }
    }
    if kind == "boolean" && variations.len() != 2 {
        error(
            "variations".into(),
            "a boolean flag has exactly two variations".into(),
        );
    }
    if errors.is_empty() {
        Ok(())
    } else {
        let message = format!(
            "invalid variations: {}: {}",
            errors[0].path, errors[0].reason
        );
        Err(ApiError::invalid(message, errors))
    }
}

fn same_type(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn variations(values: Value) -> Vec<Variation> {
        values
            .as_array()
            .unwrap()
            .iter()
            .map(|value| Variation {
                value: value.clone(),
                name: None,
                description: None,
            })
            .collect()
    }

    fn problems(kind: &str, values: Value) -> Vec<String> {
        match check(kind, &variations(values)) {
            Ok(()) => Vec::new(),
            Err(error) => error
                .errors
                .into_iter()
                .map(|e| format!("{}: {}", e.path, e.reason))
                .collect(),
        }
    }

    #[test]
    fn valid_variations_pass() {
        assert!(problems("boolean", json!([true, false])).is_empty());
        assert!(problems("multivariate", json!(["a", "b", "c"])).is_empty());
        assert!(problems("multivariate", json!([1, 2.5])).is_empty());
        assert!(problems("json", json!([{"a": 1}, [1], "x"])).is_empty());
    }

    #[test]
    fn each_rule_names_the_variation() {
        assert_eq!(
            problems("boolean", json!([true, true])),
            ["variations[1].value: duplicates variations[0].value"]
        );
        assert_eq!(
            problems("multivariate", json!(["a", 1])),
            ["variations[1].value: every variation of a multivariate flag has the first one's type"]
        );
        assert_eq!(
            problems("boolean", json!([true, "false"])),
            ["variations[1].value: a boolean flag's variations are true and false"]
        );
        assert_eq!(
            problems("json", json!([{}])),
            ["variations: a flag needs at least two variations"]
        );
        assert_eq!(
            problems("json", json!([null, 1])),
            ["variations[0].value: a variation value cannot be null"]
        );
        assert_eq!(
            problems("colour", json!([1, 2])),
            ["kind: unknown kind `colour`, expected one of boolean, multivariate, json"]
        );
    }

    #[test]
    fn kinds_are_inferred() {
        assert_eq!(infer_kind(&variations(json!([true, false]))), "boolean");
        assert_eq!(infer_kind(&variations(json!(["a", "b"]))), "multivariate");
        assert_eq!(infer_kind(&variations(json!([{"a": 1}, 2]))), "json");
    }
}

//! Explains an evaluation's reason in words, from the flag model: which target, rule, rollout or
//! prerequisite decided the value, e.g. `rule 2 (id r-eu) matched: plan in ["pro"]`.

use serde_json::Value;
use vexil_eval::{
    evaluate, variation_detail, Clause, Context, ContextError, ErrorKind, EvaluationDetail, Flag,
    PreparedFlag, Reason, Rollout, RolloutKind, Store, ValueType, VariationOrRollout,
};

/// A finished evaluation and what it was asked.
pub struct Evaluation<'a, S> {
    /// Where the flag, its prerequisites and segments came from.
    pub store: &'a S,
    /// Key of the evaluated flag.
    pub flag_key: &'a str,
    /// The context, or why it is invalid.
    pub context: Result<&'a Context, &'a ContextError>,
    /// The typed call imitated.
    pub value_type: ValueType,
    /// The result.
    pub detail: &'a EvaluationDetail<'a>,
}

/// One line saying why the evaluation gave its result.
pub fn explain<S: Store>(evaluation: &Evaluation<'_, S>) -> String {
    let served = evaluation.detail.variation_index;
    let flag = evaluation
        .store
        .flag(evaluation.flag_key)
        .map(PreparedFlag::flag);
    match (evaluation.detail.reason, flag) {
        (Reason::Error { error_kind }, _) => {
            format!(
                "error {}: {}; serving the default",
                error_kind.as_str(),
                error_text(evaluation, error_kind)
            )
        }
        // Every other reason comes from evaluating the flag, so the flag exists.
        (reason, None) => reason.kind().to_owned(),
        (Reason::Off, Some(_)) => format!("off: {}", serving_off(served)),
        (Reason::Fallthrough { in_experiment }, Some(flag)) => {
            format!(
                "fallthrough: {}",
                serving(&flag.fallthrough, served, in_experiment)
            )
        }
        (Reason::TargetMatch, Some(flag)) => format!(
            "target match: {}",
            target_text(flag, evaluation.context, served)
        ),
        (
            Reason::RuleMatch {
                rule_index,
                rule_id,
                in_experiment,
            },
            Some(flag),
        ) => rule_text(flag, rule_index, rule_id, served, in_experiment),
        (Reason::PrerequisiteFailed { prerequisite_key }, Some(flag)) => {
            let why = prerequisite_text(evaluation, flag, prerequisite_key);
            format!(
                "prerequisite {prerequisite_key} failed: {why}; {}",
                serving_off(served)
            )
        }
    }
}

/// `rule 2 (id r-eu) matched: plan in ["pro"]`, with the rollout when the rule has one.
fn rule_text(
    flag: &Flag,
    rule_index: usize,
    rule_id: &str,
    served: Option<usize>,
    in_experiment: bool,
) -> String {
    let id = if rule_id.is_empty() {
        String::new()
    } else {
        format!(" (id {rule_id})")
    };
    let Some(rule) = flag.rules.get(rule_index) else {
        return format!("rule {rule_index}{id} matched");
    };
    let clauses = if rule.clauses.is_empty() {
        "it has no clauses, so every context matches".to_owned()
    } else {
        let clauses: Vec<String> = rule.clauses.iter().map(clause_text).collect();
        clauses.join(" and ")
    };
    match &rule.variation_or_rollout {
        VariationOrRollout {
            variation: None,
            rollout: Some(rollout),
        } => {
            let rollout = rollout_text(rollout, served, in_experiment);
            format!("rule {rule_index}{id} matched: {clauses}; {rollout}")
        }
        _ => format!("rule {rule_index}{id} matched: {clauses}"),
    }
}

/// What a fixed variation or rollout served.
fn serving(
    variation_or_rollout: &VariationOrRollout,
    served: Option<usize>,
    in_experiment: bool,
) -> String {
    match variation_or_rollout {
        VariationOrRollout {
            variation: None,
            rollout: Some(rollout),
        } => rollout_text(rollout, served, in_experiment),
        _ => variation_text(served),
    }
}

/// `rollout by user key, bucket of variation 1 (variation 0: 50%, variation 1: 50%)`.
fn rollout_text(rollout: &Rollout, served: Option<usize>, in_experiment: bool) -> String {
    let is_experiment = rollout.kind == Some(RolloutKind::Experiment);
    let kind = rollout.context_kind.as_deref().unwrap_or("user");
    // Experiments always bucket by key.
    let by = match rollout.bucket_by.as_deref() {
        Some(attribute) if attribute != "key" && !is_experiment => {
            format!("{kind} attribute {attribute}")
        }
        _ => format!("{kind} key"),
    };
    let buckets: Vec<String> = rollout
        .variations
        .iter()
        .map(|bucket| {
            format!(
                "variation {}: {}%",
                bucket.variation,
                bucket.weight as f64 / 1000.0
            )
        })
        .collect();
    let name = if is_experiment {
        "experiment"
    } else {
        "rollout"
    };
    let tracked = if in_experiment { ", in experiment" } else { "" };
    format!(
        "{name} by {by}, bucket of {} ({}){tracked}",
        variation_text(served),
        buckets.join(", ")
    )
}

/// `plan not in ["pro"]`, `org:plan in ["pro"]` or `in segment "beta"`.
fn clause_text(clause: &Clause) -> String {
    let not = if clause.negate { "not " } else { "" };
    let values = clause.values.iter().map(Value::to_string);
    if clause.op == "segmentMatch" {
        return format!(
            "{not}in segment {}",
            values.collect::<Vec<_>>().join(" or ")
        );
    }
    let attribute = match clause.context_kind.as_deref() {
        Some(kind) if kind != "user" => format!("{kind}:{}", clause.attribute),
        _ => clause.attribute.clone(),
    };
    format!(
        "{attribute} {not}{} [{}]",
        clause.op,
        values.collect::<Vec<_>>().join(",")
    )
}

/// `key u-1 is in the targets of variation 1`, naming the kind when it is not `user`.
fn target_text(
    flag: &Flag,
    context: Result<&Context, &ContextError>,
    served: Option<usize>,
) -> String {
    let targets = flag.context_targets.iter().chain(&flag.targets);
    let matched = targets
        .filter(|target| usize::try_from(target.variation).ok() == served)
        .find_map(|target| {
            let kind = target.context_kind.as_deref().unwrap_or("user");
            let individual = context.ok()?.individual(kind)?;
            target
                .values
                .iter()
                .any(|key| key == individual.key())
                .then(|| (kind, individual.key()))
        });
    match matched {
        Some(("user", key)) => format!("key {key} is in the targets of {}", variation_text(served)),
        Some((kind, key)) => format!(
            "{kind} key {key} is in the targets of {}",
            variation_text(served)
        ),
        None => format!(
            "the context is in the targets of {}",
            variation_text(served)
        ),
    }
}

/// Why the prerequisite did not give the variation `flag` requires of it.
fn prerequisite_text<S: Store>(
    evaluation: &Evaluation<'_, S>,
    flag: &Flag,
    prerequisite_key: &str,
) -> String {
    let required = flag
        .prerequisites
        .iter()
        .find(|prerequisite| prerequisite.key == prerequisite_key);
    let required = required.map_or_else(
        || "the required variation".to_owned(),
        |p| format!("variation {}", p.variation),
    );
    let Some(prerequisite) = evaluation.store.flag(prerequisite_key) else {
        return "there is no such flag".to_owned();
    };
    if !prerequisite.flag().on {
        return format!("it is off (it must be on and serve {required})");
    }
    let Ok(context) = evaluation.context else {
        return format!("it did not serve {required}");
    };
    let detail = evaluate(prerequisite, context, evaluation.store);
    match detail.variation_index {
        Some(index) => format!("it served variation {index}, not {required}"),
        None => format!(
            "it served no variation ({}), not {required}",
            detail.reason.kind()
        ),
    }
}

/// The part of an error explanation after `error KIND: `.
fn error_text<S: Store>(evaluation: &Evaluation<'_, S>, error_kind: ErrorKind) -> String {
    match error_kind {
        ErrorKind::UserNotSpecified => match evaluation.context {
            Err(error) => format!("the context is invalid: {error}"),
            Ok(_) => "the context is invalid".to_owned(),
        },
        ErrorKind::FlagNotFound => {
            format!("there is no flag {:?} in the data", evaluation.flag_key)
        }
        ErrorKind::MalformedFlag => {
            "the flag's data is invalid (a variation index out of range, an empty rollout, \
             a bad attribute reference or a prerequisite cycle)"
                .to_owned()
        }
        ErrorKind::WrongType => {
            let expected = match evaluation.value_type {
                ValueType::Bool => "a boolean",
                ValueType::Int | ValueType::Double => "a number",
                ValueType::String => "a string",
                ValueType::Any => "of the expected type",
            };
            let untyped = variation_detail(
                evaluation.store,
                evaluation.flag_key,
                evaluation.context.ok(),
                &Value::Null,
                ValueType::Any,
            );
            match untyped.value {
                Some(value) => format!("the flag served {value}, which is not {expected}"),
                None => format!("the flag served a value that is not {expected}"),
            }
        }
        ErrorKind::ClientNotReady => "there is no flag data yet".to_owned(),
        ErrorKind::Exception => "the evaluation failed unexpectedly".to_owned(),
    }
}

/// `serving off variation 0`, or what happens without one.
fn serving_off(served: Option<usize>) -> String {
    match served {
        Some(index) => format!("serving off variation {index}"),
        None => "the flag has no off variation, so the default is served".to_owned(),
    }
}

fn variation_text(served: Option<usize>) -> String {
    match served {
        Some(index) => format!("variation {index}"),
        None => "no variation".to_owned(),
    }
}

#[cfg(test)]
mod tests;

//! Flag evaluation (spec 3.2 to 3.9): off, prerequisites, targets, rules, fallthrough.

use crate::bucketing::bucket_context;
use crate::chain::KeyChain;
use crate::clause::{all_match, Malformed};
use crate::context::Context;
use crate::options::EvaluationOptions;
use crate::prepare::{PreparedFlag, PreparedServe};
use crate::reason::{ErrorKind, EvaluationDetail, Reason};
use crate::store::Store;

/// Told about every prerequisite evaluation, for the `prereqOf` feature events of spec 6.4.
pub trait PrerequisiteObserver {
    /// `prerequisite` was evaluated, with `detail`, as a prerequisite of the flag `prerequisite_of`.
    fn on_prerequisite(
        &mut self,
        prerequisite: &PreparedFlag,
        detail: &EvaluationDetail<'_>,
        prerequisite_of: &str,
    );
}

/// Ignores prerequisite evaluations.
impl PrerequisiteObserver for () {
    fn on_prerequisite(&mut self, _: &PreparedFlag, _: &EvaluationDetail<'_>, _: &str) {}
}

/// Evaluates `flag` for `context`, finding prerequisites and segments in `store`.
///
/// Never fails: invalid flag data gives `ERROR/MALFORMED_FLAG` with no value. Does not
/// allocate. For unknown flags, invalid contexts and typed calls see [`crate::variation_detail`].
pub fn evaluate<'a, S: Store + ?Sized>(
    flag: &'a PreparedFlag,
    context: &Context,
    store: &'a S,
) -> EvaluationDetail<'a> {
    evaluate_with(flag, context, store, &mut ())
}

/// [`evaluate`], reporting each prerequisite evaluation to `observer`.
pub fn evaluate_with<'a, S: Store + ?Sized, O: PrerequisiteObserver + ?Sized>(
    flag: &'a PreparedFlag,
    context: &Context,
    store: &'a S,
    observer: &mut O,
) -> EvaluationDetail<'a> {
    evaluate_with_options(flag, context, store, observer, EvaluationOptions::default())
}

/// [`evaluate_with`], with the legacy behaviours `options` turns on (client-side endpoints).
pub fn evaluate_with_options<'a, S: Store + ?Sized, O: PrerequisiteObserver + ?Sized>(
    flag: &'a PreparedFlag,
    context: &Context,
    store: &'a S,
    observer: &mut O,
    options: EvaluationOptions,
) -> EvaluationDetail<'a> {
    evaluate_flag(flag, context, store, options, None, observer)
        .unwrap_or(EvaluationDetail::error(ErrorKind::MalformedFlag))
}

/// `Err` aborts the whole evaluation (a clause, segment or prerequisite cycle problem); an
/// `Ok` detail with an error reason concerns only this flag's value, so as a prerequisite it
/// merely fails (spec 3.4 step 5).
fn evaluate_flag<'a, S: Store + ?Sized, O: PrerequisiteObserver + ?Sized>(
    flag: &'a PreparedFlag,
    context: &Context,
    store: &'a S,
    options: EvaluationOptions,
    chain: Option<&KeyChain<'_>>,
    observer: &mut O,
) -> Result<EvaluationDetail<'a>, Malformed> {
    if !flag.flag().on {
        return Ok(off_result(flag, Reason::Off));
    }
    if let Some(failed) = failed_prerequisite(flag, context, store, options, chain, observer)? {
        return Ok(off_result(flag, failed));
    }
    if let Some(variation) = target_match(flag, context) {
        return Ok(variation_result(flag, variation, Reason::TargetMatch));
    }
    for (rule_index, rule) in flag.rules.iter().enumerate() {
        if all_match(&rule.clauses, context, store, options, None)? {
            let rule_id = flag.flag().rules[rule_index].id.as_str();
            return Ok(serve(
                flag,
                &rule.serve,
                context,
                options,
                |in_experiment| Reason::RuleMatch {
                    rule_index,
                    rule_id,
                    in_experiment,
                },
            ));
        }
    }
    Ok(serve(
        flag,
        &flag.fallthrough,
        context,
        options,
        |in_experiment| Reason::Fallthrough { in_experiment },
    ))
}

/// The reason of the first failing prerequisite, if any (spec 3.4).
fn failed_prerequisite<'a, S: Store + ?Sized, O: PrerequisiteObserver + ?Sized>(
    flag: &'a PreparedFlag,
    context: &Context,
    store: &'a S,
    options: EvaluationOptions,
    chain: Option<&KeyChain<'_>>,
    observer: &mut O,
) -> Result<Option<Reason<'a>>, Malformed> {
    let prerequisites = &flag.flag().prerequisites;
    if prerequisites.is_empty() {
        return Ok(None);
    }
    let chain = KeyChain::push(chain, flag.key()).map_err(|_| Malformed)?;
    for prerequisite in prerequisites {
        let failed = Reason::PrerequisiteFailed {
            prerequisite_key: &prerequisite.key,
        };
        let Some(prerequisite_flag) = store.flag(&prerequisite.key) else {
            return Ok(Some(failed));
        };
        if KeyChain::contains(Some(&chain), prerequisite_flag.key()) {
            return Err(Malformed);
        }
        let detail = evaluate_flag(
            prerequisite_flag,
            context,
            store,
            options,
            Some(&chain),
            observer,
        )?;
        observer.on_prerequisite(prerequisite_flag, &detail, flag.key());
        let passed = prerequisite_flag.flag().on
            && detail
                .variation_index
                .is_some_and(|index| index as i64 == prerequisite.variation);
        if !passed {
            return Ok(Some(failed));
        }
    }
    Ok(None)
}

/// The variation of the first target list holding the context's key of its kind (spec 3.5).
fn target_match(flag: &PreparedFlag, context: &Context) -> Option<i64> {
    flag.targets
        .iter()
        .find(|target| target.keys.contains(context))
        .map(|target| target.variation)
}

/// The off variation, or no value when there is none (spec 3.3).
fn off_result<'a>(flag: &'a PreparedFlag, reason: Reason<'a>) -> EvaluationDetail<'a> {
    match flag.flag().off_variation {
        Some(index) => variation_result(flag, index, reason),
        None => EvaluationDetail {
            value: None,
            variation_index: None,
            reason,
        },
    }
}

/// The variation at `index`, or `MALFORMED_FLAG` when it is out of range.
fn variation_result<'a>(
    flag: &'a PreparedFlag,
    index: i64,
    reason: Reason<'a>,
) -> EvaluationDetail<'a> {
    let variations = &flag.flag().variations;
    match usize::try_from(index)
        .ok()
        .and_then(|i| variations.get(i).map(|value| (i, value)))
    {
        Some((index, value)) => EvaluationDetail {
            value: Some(value),
            variation_index: Some(index),
            reason,
        },
        None => EvaluationDetail::error(ErrorKind::MalformedFlag),
    }
}

/// Resolves a fixed variation or a rollout (spec 3.9, 4.2); `reason` receives `inExperiment`.
fn serve<'a>(
    flag: &'a PreparedFlag,
    serve: &PreparedServe,
    context: &Context,
    options: EvaluationOptions,
    reason: impl FnOnce(bool) -> Reason<'a>,
) -> EvaluationDetail<'a> {
    let rollout = match serve {
        PreparedServe::Fixed(index) => return variation_result(flag, *index, reason(false)),
        PreparedServe::Malformed => return EvaluationDetail::error(ErrorKind::MalformedFlag),
        PreparedServe::Rollout(rollout) => rollout,
    };
    if !rollout.bucket_by.is_valid() {
        return EvaluationDetail::error(ErrorKind::MalformedFlag);
    }
    let bucket = bucket_context(
        context,
        &rollout.context_kind,
        &rollout.bucket_by,
        &rollout.prefix,
        // Experiments never use the legacy secondary key (spec 4.1).
        options.use_secondary_key && !rollout.is_experiment,
    );
    let mut sum = 0.0_f32;
    // Past the last bucket (weights under 100000, or rounding), the last entry serves.
    let chosen = rollout
        .variations
        .iter()
        .find(|weighted| {
            sum += weighted.weight as f32 / 100_000.0;
            bucket.value < sum
        })
        .or(rollout.variations.last())
        .expect("a prepared rollout has at least one variation");
    let in_experiment = rollout.is_experiment && !chosen.untracked && bucket.has_kind;
    variation_result(flag, chosen.variation, reason(in_experiment))
}

#[cfg(test)]
mod tests;

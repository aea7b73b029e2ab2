//! What a flag serves: variation indices, and the fallthrough's or a rule's variation or rollout.

use super::names::{check_bucket_by, validate_context_kind};
use super::{Count, ValidationError};
use crate::model::{Rollout, VariationOrRollout};

/// A rollout's weights are shares of this total.
pub(super) const TOTAL_WEIGHT: i64 = 100_000;

/// Checks that `index` addresses one of `count` variations of the flag being validated.
pub(super) fn check_index(
    index: i64,
    count: usize,
    path: impl FnOnce() -> String,
    errors: &mut Vec<ValidationError>,
) {
    if let Some(reason) = index_problem(index, count, "the flag") {
        errors.push(ValidationError::new(path(), reason));
    }
}

/// Why `index` does not address one of `count` variations of `owner`, if it does not.
pub(super) fn index_problem(index: i64, count: usize, owner: &str) -> Option<String> {
    let in_range = usize::try_from(index).is_ok_and(|index| index < count);
    (!in_range).then(|| {
        format!(
            "variation index {index} is out of range: {owner} has {}",
            Count(count, "variation")
        )
    })
}

/// Checks the fallthrough or a rule at `path`: exactly one of `variation` and `rollout` is
/// set, and it is valid.
pub(super) fn check_serve(
    serve: &VariationOrRollout,
    variations: usize,
    path: &str,
    errors: &mut Vec<ValidationError>,
) {
    match (serve.variation, &serve.rollout) {
        (Some(_), Some(_)) => errors.push(ValidationError::new(
            path,
            "sets both `variation` and `rollout`; set exactly one",
        )),
        (None, None) => errors.push(ValidationError::new(
            path,
            "sets neither `variation` nor `rollout`; set exactly one",
        )),
        (Some(index), None) => {
            check_index(index, variations, || format!("{path}.variation"), errors);
        }
        (None, Some(rollout)) => {
            check_rollout(rollout, variations, &format!("{path}.rollout"), errors);
        }
    }
}

/// Checks a rollout: its buckets, their weights adding up to exactly 100000, its context kind
/// and its `bucketBy` (checked for experiments too, although they always bucket by `key`).
fn check_rollout(
    rollout: &Rollout,
    variations: usize,
    path: &str,
    errors: &mut Vec<ValidationError>,
) {
    if rollout.variations.is_empty() {
        errors.push(ValidationError::new(
            format!("{path}.variations"),
            "must not be empty",
        ));
    }
    let mut weights_in_range = true;
    for (index, bucket) in rollout.variations.iter().enumerate() {
        let bucket_path = || format!("{path}.variations[{index}]");
        check_index(
            bucket.variation,
            variations,
            || format!("{}.variation", bucket_path()),
            errors,
        );
        if let Some(reason) = weight_problem(bucket.weight) {
            weights_in_range = false;
            errors.push(ValidationError::new(
                format!("{}.weight", bucket_path()),
                reason,
            ));
        }
    }
    // Only weights in range are added, so the sum cannot overflow.
    if weights_in_range && !rollout.variations.is_empty() {
        let total: i64 = rollout.variations.iter().map(|bucket| bucket.weight).sum();
        if total != TOTAL_WEIGHT {
            errors.push(ValidationError::new(
                format!("{path}.variations"),
                format!("weights add up to {total}; they must add up to {TOTAL_WEIGHT}"),
            ));
        }
    }
    if let Some(kind) = &rollout.context_kind {
        if let Err(reason) = validate_context_kind(kind) {
            errors.push(ValidationError::new(format!("{path}.contextKind"), reason));
        }
    }
    if let Err(reason) =
        check_bucket_by(rollout.bucket_by.as_deref(), rollout.context_kind.is_some())
    {
        errors.push(ValidationError::new(format!("{path}.bucketBy"), reason));
    }
}

/// Why `weight` is not a share of 100000, if it is not.
pub(super) fn weight_problem(weight: i64) -> Option<String> {
    (!(0..=TOTAL_WEIGHT).contains(&weight))
        .then(|| format!("must be between 0 and {TOTAL_WEIGHT}, not {weight}"))
}

//! Percentage bucketing (spec 4): SHA-1 of `prefix.value`, scaled to `[0, 1]` in `f32` like the reference evaluator.

use serde_json::Value;
use sha1::{Digest, Sha1};

use crate::attribute_ref::AttributeRef;
use crate::context::Context;

/// `0xFFFFFFFFFFFFFFF` (15 hex digits) as `f32`, the reference evaluator's divisor.
const LONG_SCALE: f32 = 0x0FFF_FFFF_FFFF_FFFF_u64 as f32;

/// The bucket, in `[0, 1]`, of the hash input `prefix + "." + value`.
///
/// `prefix` is `flagKey.salt`, the decimal seed, or `segmentKey.salt` (spec 4.1).
pub fn bucket(prefix: &str, value: &str) -> f32 {
    bucket_with_secondary(prefix, value, None)
}

/// The bucket of `prefix + "." + value`, followed by `"." + secondary` when a legacy secondary
/// key is given (spec 4.6).
pub fn bucket_with_secondary(prefix: &str, value: &str, secondary: Option<&str>) -> f32 {
    let mut hasher = Sha1::new();
    hasher.update(prefix.as_bytes());
    hasher.update(b".");
    hasher.update(value.as_bytes());
    if let Some(secondary) = secondary {
        hasher.update(b".");
        hasher.update(secondary.as_bytes());
    }
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // The first 15 hex digits are the top 60 bits of the digest.
    let n = u64::from_be_bytes(first) >> 4;
    n as f32 / LONG_SCALE
}

/// Where a context falls in a rollout.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ContextBucket {
    /// The bucket, `0.0` when the value could not be bucketed.
    pub value: f32,
    /// Whether the context had the rollout's kind; when not, the bucket is `0.0`.
    pub has_kind: bool,
}

/// Buckets the individual context of `kind` by `attribute` (spec 4.2). The caller has checked
/// that `attribute` is valid. A missing kind, a missing attribute or a value that is neither a
/// string nor an integral number gives bucket `0.0`. With `use_secondary_key`, the individual
/// context's legacy secondary key (old-style users only) is appended to the hash input.
pub(crate) fn bucket_context(
    context: &Context,
    kind: &str,
    attribute: &AttributeRef,
    prefix: &str,
    use_secondary_key: bool,
) -> ContextBucket {
    let Some(individual) = context.individual(kind) else {
        return ContextBucket {
            value: 0.0,
            has_kind: false,
        };
    };
    let secondary = individual.secondary().filter(|_| use_secondary_key);
    let mut digits = itoa::Buffer::new();
    let value = match individual.get(attribute) {
        Some(Value::String(text)) => bucket_with_secondary(prefix, text, secondary),
        Some(Value::Number(number)) => match integral(number) {
            Some(integer) => bucket_with_secondary(prefix, digits.format(integer), secondary),
            None => 0.0,
        },
        _ => 0.0,
    };
    ContextBucket {
        value,
        has_kind: true,
    }
}

/// The integer value of a JSON number with no fractional part.
fn integral(number: &serde_json::Number) -> Option<i64> {
    if let Some(integer) = number.as_i64() {
        return Some(integer);
    }
    let float = number.as_f64()?;
    let in_range = float >= i64::MIN as f64 && float < i64::MAX as f64;
    (float.fract() == 0.0 && in_range).then_some(float as i64)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Spec 4.3: hash input, bucket x 100000 (floor).
    const VECTORS: [(&str, &str, u32); 8] = [
        ("hashKey.saltyA", "userKeyA", 42157),
        ("hashKey.saltyA", "userKeyB", 67084),
        ("hashKey.saltyA", "userKeyC", 10343),
        ("61", "userKeyA", 9801),
        ("61", "userKeyB", 14483),
        ("61", "userKeyC", 92426),
        ("hashKey.saltyA", "33333", 54771),
        ("hashKey.saltyA", "99999", 73096),
    ];

    #[test]
    fn bucketing_matches_the_spec_vectors() {
        for (prefix, value, expected) in VECTORS {
            let scaled = (bucket(prefix, value) * 100000.0) as u32;
            assert_eq!(scaled, expected, "{prefix}.{value}");
        }
    }

    #[test]
    fn integral_numbers_bucket_like_their_decimal_text() {
        let key = AttributeRef::parse("n");
        for (n, text) in [
            (json!(33333), "33333"),
            (json!(99999.0), "99999"),
            (json!(-5), "-5"),
        ] {
            let context = Context::from_json(&json!({"kind": "user", "key": "k", "n": n})).unwrap();
            let bucketed = bucket_context(&context, "user", &key, "hashKey.saltyA", false);
            assert_eq!(
                bucketed,
                ContextBucket {
                    value: bucket("hashKey.saltyA", text),
                    has_kind: true
                }
            );
        }
    }

    #[test]
    fn unbucketable_values_give_bucket_zero() {
        let attribute = AttributeRef::parse("v");
        for value in [json!(1.5), json!(true), json!(["x"]), json!({"x": "y"})] {
            let context =
                Context::from_json(&json!({"kind": "user", "key": "k", "v": value})).unwrap();
            assert_eq!(
                bucket_context(&context, "user", &attribute, "p", false).value,
                0.0,
                "{value}"
            );
        }
        let context = Context::from_json(&json!({"kind": "user", "key": "k"})).unwrap();
        assert_eq!(
            bucket_context(&context, "user", &attribute, "p", false),
            ContextBucket {
                value: 0.0,
                has_kind: true
            }
        );
        assert_eq!(
            bucket_context(&context, "org", &attribute, "p", false),
            ContextBucket {
                value: 0.0,
                has_kind: false
            }
        );
    }

    #[test]
    fn multi_kind_contexts_bucket_the_rollout_kind() {
        let context = Context::from_json(
            &json!({"kind": "multi", "user": {"key": "a"}, "org": {"key": "acme"}}),
        )
        .unwrap();
        let bucketed = bucket_context(&context, "org", &AttributeRef::parse("key"), "p", false);
        assert_eq!(bucketed.value, bucket("p", "acme"));
    }

    #[test]
    fn secondary_key_is_appended_only_when_asked() {
        let old_user = Context::from_json(&json!({"key": "userKeyA", "secondary": "s2"})).unwrap();
        let key = AttributeRef::parse("key");
        let without = bucket_context(&old_user, "user", &key, "hashKey.saltyA", false);
        assert_eq!(without.value, bucket("hashKey.saltyA", "userKeyA"));
        let with = bucket_context(&old_user, "user", &key, "hashKey.saltyA", true);
        assert_eq!(with.value, bucket("hashKey.saltyA", "userKeyA.s2"));
        assert_ne!(with.value, without.value);
        // Contexts without a secondary key bucket the same either way.
        let context = Context::from_json(&json!({"kind": "user", "key": "userKeyA"})).unwrap();
        assert_eq!(
            bucket_context(&context, "user", &key, "hashKey.saltyA", true),
            without
        );
    }
}

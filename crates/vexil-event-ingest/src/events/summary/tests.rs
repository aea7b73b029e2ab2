//! The one-pass check against the four-pass reading it replaced, kept here as the
//! reference: the same outcome and the same detail, for hand-picked features and for
//! thousands of generated ones with odd keys, values, duplicates and escapes at every
//! level.

use super::*;
use crate::events::scan::JsonType;

/// The four-pass reading: the flags, then each flag's `counters`, its elements, and each
/// counter's fields, each a separate pass over the text.
pub(in crate::events) fn reference(features: Option<Json<'_>>) -> Result<(), String> {
    let features = features
        .and_then(Json::members)
        .ok_or_else(|| "`features` must be an object".to_owned())?;
    for (flag_key, feature) in features {
        let counters = feature
            .fields(["counters"])
            .and_then(|[counters]| counters)
            .and_then(Json::elements)
            .ok_or_else(|| format!("`features.{flag_key}.counters` must be an array"))?;
        for (index, counter) in counters.into_iter().enumerate() {
            let at = || format!("`features.{flag_key}.counters[{index}]`");
            let [count, version, variation, unknown] = counter
                .fields(["count", "version", "variation", "unknown"])
                .ok_or_else(|| format!("{} must be an object", at()))?;
            if count.and_then(Json::as_u64).is_none() {
                return Err(format!("{}.count must be a non-negative integer", at()));
            }
            for (field, value) in [("version", version), ("variation", variation)] {
                if value.is_some_and(|value| value.as_u64().is_none() && !value.is(JsonType::Null))
                {
                    return Err(format!("{}.{field} must be a non-negative integer", at()));
                }
            }
            if unknown.is_some_and(|value| !value.is(JsonType::Bool)) {
                return Err(format!("{}.unknown must be a boolean", at()));
            }
        }
    }
    Ok(())
}

#[track_caller]
fn same_as_reference(text: &str) -> Result<(), String> {
    let features = Json::parse(text).unwrap_or_else(|error| panic!("{text}: {error:?}"));
    let checked = check_features(Some(features));
    assert_eq!(checked, reference(Some(features)), "features {text}");
    checked
}

#[test]
fn hand_picked_features_read_as_with_four_passes() {
    assert_eq!(check_features(None), reference(None));
    for text in [
        r#"{}"#,
        r#"{"f":{"counters":[]}}"#,
        r#"{"f":{"default":false,"counters":[{"count":1,"version":7,"variation":0,"unknown":true}]}}"#,
        r#"{"f":{"counters":[{"count":1,"version":null,"variation":null}]}}"#,
        r#"{"f":{"counters":[{"count":1}]},"g":{"counters":[{"count":-1}]}}"#,
        r#"{"f":{"counters":[{"count":1},{"count":1.0}]}}"#,
        r#"{"f":{"counters":[{"count":1,"version":"7"}]}}"#,
        r#"{"f":{"counters":[{"count":1,"variation":-1}]}}"#,
        r#"{"f":{"counters":[{"count":1,"unknown":null}]}}"#,
        r#"{"f":{"counters":[{"count":1,"count":1}]}}"#,
        r#"{"f":{"counters":[{"count":1,"c\u006funt":1}]}}"#,
        r#"{"f":{"counters":[{"count":-1,"\ud800":1}]}}"#,
        r#"{"f":{"counters":[3]}}"#,
        r#"{"f":{"counters":{}}}"#,
        r#"{"f":{"counters":null}}"#,
        r#"{"f":{}}"#,
        r#"{"f":[]}"#,
        r#"{"f":{"counters":[{"count":-1}],"counters":[]}}"#,
        r#"{"f":{"counters":[{"count":-1}],"c\u006funters":[]}}"#,
        r#"{"f":{"counters":[{"count":-1}],"\udc00":1}}"#,
        r#"{"f":{"counters":[{"count":-1}]},"\ud800":{}}"#,
        r#"{"f\"\u00e9":{"counters":[{"count":"1"}]}}"#,
        r#"{"f":{"counters":[{"count":-1}]},"g":{"counters":3}}"#,
        r#"[]"#,
        r#"null"#,
        r#""features""#,
    ] {
        let _ = same_as_reference(text);
    }
    assert_eq!(
        same_as_reference(
            r#"{"f":{"counters":[{"count":1}]},"g":{"counters":[{"count":1,"version":"7"}]}}"#
        ),
        Err("`features.g.counters[0]`.version must be a non-negative integer".to_owned())
    );
}

#[test]
fn generated_features_read_as_with_four_passes() {
    let mut generator = Generator(0x5eed_2026_1201);
    let (mut valid, mut invalid) = (0, 0);
    for _ in 0..20_000 {
        let mut text = String::new();
        generator.features(&mut text);
        match same_as_reference(&text) {
            Ok(()) => valid += 1,
            Err(_) => invalid += 1,
        }
    }
    // Both outcomes are common enough for the comparison to mean something.
    assert!(
        valid > 2_000 && invalid > 2_000,
        "{valid} valid, {invalid} invalid"
    );
}

/// Valid JSON for `features`, mostly well-formed, with odd parts at every level.
struct Generator(u64);

impl Generator {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }

    fn pick<'p>(&mut self, pool: &[&'p str]) -> &'p str {
        pool[self.below(pool.len() as u64) as usize]
    }

    fn odd(&mut self) -> bool {
        self.below(12) == 0
    }

    fn space(&mut self, out: &mut String) {
        if self.below(5) == 0 {
            out.push_str(self.pick(&[" ", "\n", "\t ", "\r\n  "]));
        }
    }

    /// An object of `members` members, keys from `keys`, values written by `value`.
    fn object(
        &mut self,
        out: &mut String,
        members: u64,
        keys: &[&str],
        mut value: impl FnMut(&mut Self, &mut String, &str),
    ) {
        out.push('{');
        for index in 0..members {
            if index > 0 {
                out.push(',');
            }
            self.space(out);
            let key = self.pick(keys);
            out.push('"');
            out.push_str(key);
            out.push_str("\":");
            self.space(out);
            value(self, out, key);
            self.space(out);
        }
        out.push('}');
    }

    fn features(&mut self, out: &mut String) {
        if self.below(40) == 0 {
            out.push_str(self.pick(&["[]", "null", "3", "\"f\""]));
            return;
        }
        let flags = self.below(4);
        self.object(
            out,
            flags,
            &[
                "flag-1",
                "flag-2",
                "f",
                "fl\\u0061g",
                "a\\\"b",
                "é",
                "\\ud800",
            ],
            |this, out, _| this.feature(out),
        );
    }

    fn feature(&mut self, out: &mut String) {
        if self.odd() {
            out.push_str(self.pick(&["[]", "null", "{}", "\"x\"", "[{\"counters\":[]}]"]));
            return;
        }
        let members = 1 + self.below(3);
        self.object(
            out,
            members,
            &[
                "counters",
                "counters",
                "counters",
                "default",
                "contextKinds",
                "c\\u006funters",
                "\\udc00",
            ],
            |this, out, key| {
                if key.contains("ounters") && !this.odd() {
                    this.counters(out);
                } else {
                    out.push_str(this.pick(&["false", "[\"user\"]", "{}", "null", "[1]"]));
                }
            },
        );
    }

    fn counters(&mut self, out: &mut String) {
        out.push('[');
        for index in 0..self.below(4) {
            if index > 0 {
                out.push(',');
            }
            self.space(out);
            if self.odd() {
                out.push_str(self.pick(&["3", "[]", "null", "\"c\""]));
            } else {
                let members = self.below(5);
                self.object(
                    out,
                    members,
                    &[
                        "count",
                        "count",
                        "version",
                        "variation",
                        "unknown",
                        "value",
                        "c\\u006funt",
                        "\\ud800",
                    ],
                    |this, out, _| {
                        let value = if this.odd() {
                            this.pick(&[
                                "-1",
                                "1.0",
                                "1e3",
                                "\"7\"",
                                "true",
                                "null",
                                "{}",
                                "[]",
                                "18446744073709551616",
                            ])
                        } else {
                            this.pick(&["0", "1", "41", "null", "true", "18446744073709551615"])
                        };
                        out.push_str(value);
                    },
                );
            }
        }
        out.push(']');
    }
}

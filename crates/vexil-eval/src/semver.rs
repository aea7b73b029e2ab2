//! Semantic versions for the `semVer*` operators: loose parsing, semver 2.0 precedence (spec 3.7).

use std::cmp::Ordering;

/// A semantic version per spec 3.7 (loose: missing minor/patch are zero).
///
/// Build metadata is validated but not kept: it never affects precedence, so two versions that
/// differ only in build metadata are equal, and `==` agrees with [`Ord`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    /// Empty for a release.
    prerelease: Vec<Identifier>,
}

/// One dot-separated pre-release identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Identifier {
    /// Only ASCII digits, without leading zeros, so numeric order is (length, text) order and the
    /// value may exceed any integer type.
    Numeric(Box<str>),
    /// ASCII letters, digits and hyphens, with at least one non-digit.
    Alphanumeric(Box<str>),
}

impl Version {
    /// Parses `MAJOR[.MINOR[.PATCH]][-prerelease][+build]`, as LaunchDarkly's evaluator does in its
    /// "allow missing minor and patch" mode. Returns `None` for anything else: an empty string,
    /// whitespace, a `v` prefix, four numeric components, leading zeros in a numeric component or
    /// numeric pre-release identifier, empty identifiers, characters outside `[0-9A-Za-z-]` in
    /// identifiers, non-ASCII text, or a component too large for a `u64`.
    pub fn parse(text: &str) -> Option<Version> {
        let (without_build, build) = match text.split_once('+') {
            Some((head, build)) => (head, Some(build)),
            None => (text, None),
        };
        if let Some(build) = build {
            if !build.split('.').all(is_identifier) {
                return None;
            }
        }
        let (core, prerelease) = match without_build.split_once('-') {
            Some((core, prerelease)) => (core, Some(prerelease)),
            None => (without_build, None),
        };
        let mut numbers = core.split('.');
        let major = parse_number(numbers.next()?)?;
        let minor = numbers.next().map_or(Some(0), parse_number)?;
        let patch = numbers.next().map_or(Some(0), parse_number)?;
        if numbers.next().is_some() {
            return None;
        }
        let prerelease = match prerelease {
            Some(text) => text
                .split('.')
                .map(parse_prerelease_identifier)
                .collect::<Option<_>>()?,
            None => Vec::new(),
        };
        Some(Version {
            major,
            minor,
            patch,
            prerelease,
        })
    }
}

impl Ord for Version {
    /// Semver 2.0 precedence: numeric components, then a release above its pre-releases, then
    /// pre-release identifiers left to right, a longer list winning when it extends the other.
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(
                || match (self.prerelease.is_empty(), other.prerelease.is_empty()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    // Slice order is exactly "first difference wins, else longer wins".
                    (false, false) => self.prerelease.cmp(&other.prerelease),
                },
            )
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Identifier {
    /// Numeric identifiers compare numerically and sort below alphanumeric ones, which compare in
    /// ASCII order.
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Identifier::Numeric(a), Identifier::Numeric(b)) => {
                a.len().cmp(&b.len()).then_with(|| a.cmp(b))
            }
            (Identifier::Numeric(_), Identifier::Alphanumeric(_)) => Ordering::Less,
            (Identifier::Alphanumeric(_), Identifier::Numeric(_)) => Ordering::Greater,
            (Identifier::Alphanumeric(a), Identifier::Alphanumeric(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Identifier {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A numeric version component: ASCII digits, no leading zero (except `"0"` itself), fits a `u64`.
fn parse_number(text: &str) -> Option<u64> {
    if !is_canonical_number(text) {
        return None;
    }
    // Only digits remain, so the one possible failure is overflow.
    text.parse().ok()
}

fn parse_prerelease_identifier(text: &str) -> Option<Identifier> {
    if !is_identifier(text) {
        return None;
    }
    if text.bytes().all(|byte| byte.is_ascii_digit()) {
        is_canonical_number(text).then(|| Identifier::Numeric(text.into()))
    } else {
        Some(Identifier::Alphanumeric(text.into()))
    }
}

/// Non-empty, only `[0-9A-Za-z-]` (which also rules out non-ASCII text and whitespace).
fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

/// Non-empty ASCII digits without a leading zero, unless the whole text is `"0"`.
fn is_canonical_number(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|byte| byte.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn version(text: &str) -> Version {
        Version::parse(text).unwrap_or_else(|| panic!("{text:?} should parse"))
    }

    #[test]
    fn parses_valid_versions_into_components() {
        // Text, (major, minor, patch), pre-release identifiers.
        type Case = (&'static str, (u64, u64, u64), &'static [&'static str]);
        let cases: &[Case] = &[
            ("2.0.0", (2, 0, 0), &[]),
            ("2.0", (2, 0, 0), &[]),
            ("2", (2, 0, 0), &[]),
            ("0.0.0", (0, 0, 0), &[]),
            ("1.22.333", (1, 22, 333), &[]),
            ("2-rc", (2, 0, 0), &["rc"]),
            ("2.1-rc.1", (2, 1, 0), &["rc", "1"]),
            ("2.0.0-rc.2.green", (2, 0, 0), &["rc", "2", "green"]),
            ("2.0.0+build", (2, 0, 0), &[]),
            ("2+build.01", (2, 0, 0), &[]),
            ("2.0.0-rc+build-1.2", (2, 0, 0), &["rc"]),
            ("1.0.0-0", (1, 0, 0), &["0"]),
            ("1.0.0-0a", (1, 0, 0), &["0a"]),
            ("1.0.0---", (1, 0, 0), &["--"]),
            ("1.0.0-a-b.c", (1, 0, 0), &["a-b", "c"]),
            ("1.0.0+-", (1, 0, 0), &[]),
            ("18446744073709551615.0.0", (u64::MAX, 0, 0), &[]),
            (
                "1.0.0-99999999999999999999999",
                (1, 0, 0),
                &["99999999999999999999999"],
            ),
        ];
        for &(text, (major, minor, patch), prerelease) in cases {
            let parsed = version(text);
            assert_eq!(
                (parsed.major, parsed.minor, parsed.patch),
                (major, minor, patch),
                "{text}"
            );
            let identifiers: Vec<&str> = parsed
                .prerelease
                .iter()
                .map(|identifier| match identifier {
                    Identifier::Numeric(text) | Identifier::Alphanumeric(text) => &**text,
                })
                .collect();
            assert_eq!(identifiers, prerelease, "{text}");
        }
    }

    #[test]
    fn rejects_invalid_versions() {
        let cases = [
            "",
            " ",
            "2.0.0 ",
            " 2.0.0",
            "2. 0.0",
            "v2.0.0",
            "V2",
            "02.0.0",
            "2.00.0",
            "2.0.01",
            "2.0.0.0",
            "2.0.0.",
            "2.",
            "2..0",
            ".2.0",
            "-rc",
            "+build",
            "2.0.0-",
            "2.0.0+",
            "2.0.0-rc.",
            "2.0.0-.rc",
            "2.0.0-rc..1",
            "2.0.0+build..1",
            "2.0.0-rc.01",
            "2.0.0-00",
            "2.0.0-rc_1",
            "2.0.0+build!",
            "2.0.0+a+b",
            "2.0.0-rc+",
            "2x.0.0",
            "2.0x.0",
            "2.0.0x",
            "-2.0.0",
            "+2.0.0",
            "2.0.0-rc\u{0}",
            "2.0.0-bêta",
            "2.0.0+🔥",
            "🔥2.0.0",
            "２.0.0",
            "18446744073709551616.0.0",
            "1.18446744073709551616",
            "1.0.99999999999999999999",
        ];
        for text in cases {
            assert_eq!(Version::parse(text), None, "{text:?} should be rejected");
        }
    }

    #[test]
    fn orders_by_semver_precedence() {
        // Each list is strictly increasing.
        let chains: &[&[&str]] = &[
            &["2.0.0-rc.2.green", "2.0.0-rc.10.green", "2.0.0-rc.10.red"],
            &["2.0.0-rc.2.green", "2.0.0-rc.2.green.1"],
            &[
                "1.0.0-alpha",
                "1.0.0-alpha.1",
                "1.0.0-alpha.beta",
                "1.0.0-beta",
                "1.0.0-beta.2",
                "1.0.0-beta.11",
                "1.0.0-rc.1",
                "1.0.0",
            ],
            &["1.0.0", "2.0.0", "2.1.0", "2.1.1", "10.0.0"],
            &[
                "1.0.0-1",
                "1.0.0-2",
                "1.0.0-10",
                "1.0.0-99999999999999999999",
                "1.0.0-a",
            ],
            &["1.0.0-Z", "1.0.0-a", "1.0.0-a-", "1.0.0-aa"],
            &["1.0.0-rc.1", "1.0.0-rc.1.1", "1.0.0-rc.1.a"],
            &["0.9.9", "1-rc", "1"],
        ];
        for chain in chains {
            for (index, lower) in chain.iter().enumerate() {
                for higher in &chain[index + 1..] {
                    assert_eq!(
                        version(lower).cmp(&version(higher)),
                        Ordering::Less,
                        "{lower} < {higher}"
                    );
                    assert_eq!(
                        version(higher).cmp(&version(lower)),
                        Ordering::Greater,
                        "{higher} > {lower}"
                    );
                    assert!(version(lower) < version(higher), "{lower} < {higher}");
                }
            }
        }
    }

    #[test]
    fn equal_precedence_means_equal_versions() {
        let pairs = [
            ("2.0.0", "2.0.0"),
            ("2.0", "2.0.0"),
            ("2", "2.0.0"),
            ("2.0.0+build", "2.0.0"),
            ("2.0.0+build.1", "2.0.0+other"),
            ("2.0.0-rc", "2.0.0-rc"),
            ("2.0-rc", "2.0.0-rc"),
            ("2-rc", "2.0.0-rc"),
            ("2.0.0-rc+build", "2.0.0-rc"),
        ];
        for (left, right) in pairs {
            assert_eq!(
                version(left).cmp(&version(right)),
                Ordering::Equal,
                "{left} = {right}"
            );
            assert_eq!(version(left), version(right), "{left} == {right}");
        }
    }
}

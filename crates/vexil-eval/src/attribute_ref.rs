//! Attribute references: `/`-separated paths into a context, or legacy literal names (spec 2.5, 1.10).

use std::fmt;

/// A parsed attribute reference. Invalid references are representable (they come from flag data)
/// and make the clause or rollout that uses them fail with `MALFORMED_FLAG`.
#[derive(Clone, PartialEq, Eq)]
pub struct AttributeRef {
    raw: Box<str>,
    components: Result<Box<[Box<str>]>, InvalidRef>,
    /// The first component, classified once so lookups skip comparing it with built-in names.
    first: FirstComponent,
}

/// What the first component of a reference addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FirstComponent {
    Kind,
    Key,
    Name,
    Anonymous,
    /// A custom attribute (or an invalid reference).
    Custom,
}

/// Why an attribute reference is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidRef {
    /// `""`, or no attribute at all.
    Empty,
    /// `/` alone, or an empty component such as `//x` or `/x/`.
    EmptyComponent,
    /// `~` followed by something other than `0` or `1`.
    InvalidEscape,
}

impl AttributeRef {
    /// Parses a reference in the slash syntax: `name` (no leading slash) is a literal top-level
    /// name; `/a/b` is a path with `~1` meaning `/` and `~0` meaning `~`.
    pub fn parse(reference: &str) -> Self {
        let components = if reference.is_empty() {
            Err(InvalidRef::Empty)
        } else if let Some(path) = reference.strip_prefix('/') {
            path.split('/')
                .map(unescape)
                .collect::<Result<Vec<_>, _>>()
                .map(Vec::into_boxed_slice)
        } else {
            Ok(vec![Box::from(reference)].into_boxed_slice())
        };
        Self::new(reference, components)
    }

    /// A reference to the top-level attribute with exactly this name, as clauses and rollouts
    /// without a `contextKind` read their attribute (spec 1.10). Only `""` is invalid.
    pub fn literal(name: &str) -> Self {
        let components = if name.is_empty() {
            Err(InvalidRef::Empty)
        } else {
            Ok(vec![Box::from(name)].into_boxed_slice())
        };
        Self::new(name, components)
    }

    fn new(raw: &str, components: Result<Box<[Box<str>]>, InvalidRef>) -> Self {
        let first = match components
            .as_deref()
            .ok()
            .and_then(<[_]>::first)
            .map(|first| &**first)
        {
            Some("kind") => FirstComponent::Kind,
            Some("key") => FirstComponent::Key,
            Some("name") => FirstComponent::Name,
            Some("anonymous") => FirstComponent::Anonymous,
            _ => FirstComponent::Custom,
        };
        Self {
            raw: raw.into(),
            components,
            first,
        }
    }

    /// What the first component addresses.
    pub(crate) fn first(&self) -> FirstComponent {
        self.first
    }

    /// The reference as it was written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The path components, or why the reference is invalid.
    pub fn components(&self) -> Result<&[Box<str>], InvalidRef> {
        self.components.as_deref().map_err(|error| *error)
    }

    /// Whether this reference is valid.
    pub fn is_valid(&self) -> bool {
        self.components.is_ok()
    }

    /// Whether this is a reference to the context's `kind`.
    pub fn is_kind(&self) -> bool {
        self.first == FirstComponent::Kind && matches!(self.components(), Ok([_]))
    }
}

impl fmt::Debug for AttributeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AttributeRef({:?})", self.raw)
    }
}

impl fmt::Display for AttributeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

fn unescape(component: &str) -> Result<Box<str>, InvalidRef> {
    if component.is_empty() {
        return Err(InvalidRef::EmptyComponent);
    }
    if !component.contains('~') {
        return Ok(component.into());
    }
    let mut out = String::with_capacity(component.len());
    let mut chars = component.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return Err(InvalidRef::InvalidEscape),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn components(reference: &AttributeRef) -> Result<Vec<&str>, InvalidRef> {
        reference
            .components()
            .map(|c| c.iter().map(|s| &**s).collect())
    }

    #[test]
    fn slash_references_follow_spec_2_5() {
        let cases: [(&str, Result<Vec<&str>, InvalidRef>); 12] = [
            ("email", Ok(vec!["email"])),
            ("a/b~c", Ok(vec!["a/b~c"])),
            ("/email", Ok(vec!["email"])),
            ("/address/city", Ok(vec!["address", "city"])),
            ("/a~1b", Ok(vec!["a/b"])),
            ("/a~0b", Ok(vec!["a~b"])),
            ("/arr/0", Ok(vec!["arr", "0"])),
            ("", Err(InvalidRef::Empty)),
            ("/", Err(InvalidRef::EmptyComponent)),
            ("//x", Err(InvalidRef::EmptyComponent)),
            ("/a~b", Err(InvalidRef::InvalidEscape)),
            ("/a~", Err(InvalidRef::InvalidEscape)),
        ];
        for (input, expected) in cases {
            assert_eq!(components(&AttributeRef::parse(input)), expected, "{input}");
        }
        assert_eq!(
            components(&AttributeRef::parse("/x/")),
            Err(InvalidRef::EmptyComponent)
        );
    }

    #[test]
    fn literal_references_keep_slashes_and_tildes() {
        assert_eq!(
            components(&AttributeRef::literal("/a~1b")),
            Ok(vec!["/a~1b"])
        );
        assert_eq!(
            components(&AttributeRef::literal("")),
            Err(InvalidRef::Empty)
        );
    }

    #[test]
    fn kind_is_recognised_in_both_syntaxes() {
        assert!(AttributeRef::parse("kind").is_kind());
        assert!(AttributeRef::parse("/kind").is_kind());
        assert!(AttributeRef::literal("kind").is_kind());
        assert!(!AttributeRef::parse("/kind/x").is_kind());
    }
}

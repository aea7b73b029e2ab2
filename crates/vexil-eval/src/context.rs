//! Evaluation contexts: single- and multi-kind JSON, old-style users, validity and lookup (spec 2).

use serde_json::{Map, Value};

use crate::attribute_ref::{AttributeRef, FirstComponent};

/// A valid evaluation context: one or more individual contexts of distinct kinds.
///
/// Build one with [`Context::from_json`] (either JSON format) once per request; evaluation only
/// borrows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// Sorted by kind, so the canonical key needs no sorting.
    individuals: Vec<IndividualContext>,
}

/// One individual context of a given kind.
#[derive(Debug, Clone, PartialEq)]
pub struct IndividualContext {
    kind: Value,
    key: Value,
    name: Option<Value>,
    anonymous: Value,
    attributes: Map<String, Value>,
    private_attributes: Vec<AttributeRef>,
    secondary: Option<String>,
}

/// Why a context is invalid (spec 2.3). Evaluating with it gives `USER_NOT_SPECIFIED`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    /// The JSON is not an object.
    #[error("context must be a JSON object")]
    NotAnObject,
    /// `kind` is not a valid kind name.
    #[error("context kind {0:?} is invalid: use only letters, digits, '.', '_' and '-', and not \"kind\"")]
    InvalidKind(String),
    /// `kind` is not a string.
    #[error("context kind must be a string")]
    KindNotString,
    /// `key` is missing, not a string, or empty (in the new format).
    #[error("context of kind {kind:?} has no key: key must be a non-empty string")]
    MissingKey {
        /// Kind of the individual context.
        kind: String,
    },
    /// A built-in attribute has the wrong JSON type.
    #[error("context attribute {attribute:?} must be {expected}")]
    WrongType {
        /// Attribute name.
        attribute: String,
        /// What it must be.
        expected: &'static str,
    },
    /// A multi-kind context with no individual contexts.
    #[error("multi-kind context must contain at least one individual context")]
    EmptyMulti,
    /// A nested context of a multi-kind context is not an object.
    #[error("multi-kind context entry {0:?} must be a JSON object")]
    NestedNotAnObject(String),
}

impl Context {
    /// Parses a context in either JSON format: with `kind` (single or `"multi"`, spec 2.1, 2.2)
    /// or an old-style user object without `kind` (spec 2.4).
    pub fn from_json(value: &Value) -> Result<Self, ContextError> {
        let object = value.as_object().ok_or(ContextError::NotAnObject)?;
        match object.get("kind") {
            None => Ok(Self {
                individuals: vec![parse_old_user(object)?],
            }),
            Some(Value::String(kind)) if kind == "multi" => parse_multi(object),
            Some(Value::String(kind)) => {
                validate_kind(kind)?;
                Ok(Self {
                    individuals: vec![parse_individual(kind, object)?],
                })
            }
            Some(_) => Err(ContextError::KindNotString),
        }
    }

    /// A single context of the given kind and key with no other attributes.
    pub fn new(kind: &str, key: &str) -> Result<Self, ContextError> {
        let mut object = Map::new();
        object.insert("kind".into(), kind.into());
        object.insert("key".into(), key.into());
        Self::from_json(&Value::Object(object))
    }

    /// The individual contexts, sorted by kind.
    pub fn individuals(&self) -> &[IndividualContext] {
        &self.individuals
    }

    /// The individual context of this kind, if present.
    pub fn individual(&self, kind: &str) -> Option<&IndividualContext> {
        self.individuals
            .iter()
            .find(|individual| individual.kind() == kind)
    }

    /// Whether this is a multi-kind context with more than one kind.
    pub fn is_multi(&self) -> bool {
        self.individuals.len() > 1
    }

    /// The canonical ("fully qualified") key (spec 2.6).
    pub fn canonical_key(&self) -> String {
        if let [single] = self.individuals.as_slice() {
            if single.kind() == "user" {
                return single.key().to_owned();
            }
        }
        let parts: Vec<String> = self
            .individuals
            .iter()
            .map(|individual| format!("{}:{}", individual.kind(), escape_key(individual.key())))
            .collect();
        parts.join(":")
    }
}

impl IndividualContext {
    /// The context kind.
    pub fn kind(&self) -> &str {
        self.kind
            .as_str()
            .expect("kind is a string by construction")
    }

    /// The context key.
    pub fn key(&self) -> &str {
        self.key.as_str().expect("key is a string by construction")
    }

    /// The optional name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_ref().and_then(Value::as_str)
    }

    /// Whether the context is anonymous.
    pub fn is_anonymous(&self) -> bool {
        self.anonymous == Value::Bool(true)
    }

    /// Custom attributes (never `kind`, `key`, `name`, `anonymous` or `_meta`; no `null` values).
    pub fn custom_attributes(&self) -> &Map<String, Value> {
        &self.attributes
    }

    /// Attributes to redact in events.
    pub fn private_attributes(&self) -> &[AttributeRef] {
        &self.private_attributes
    }

    /// The legacy secondary key of an old-style user (spec 4.6).
    pub fn secondary(&self) -> Option<&str> {
        self.secondary.as_deref()
    }

    /// Looks up an attribute by reference; absent (and `null`) gives `None`, as does an invalid
    /// reference. A further component descends into a JSON object only (spec 2.5).
    #[inline]
    pub fn get(&self, reference: &AttributeRef) -> Option<&Value> {
        let components = reference.components().ok()?;
        let (first, rest) = components.split_first()?;
        let mut value = match reference.first() {
            FirstComponent::Kind => &self.kind,
            FirstComponent::Key => &self.key,
            FirstComponent::Name => self.name.as_ref()?,
            FirstComponent::Anonymous => &self.anonymous,
            FirstComponent::Custom => self.attributes.get(&**first)?,
        };
        for component in rest {
            value = value.as_object()?.get(&**component)?;
        }
        (!value.is_null()).then_some(value)
    }
}

fn escape_key(key: &str) -> String {
    key.replace('%', "%25").replace(':', "%3A")
}

fn validate_kind(kind: &str) -> Result<(), ContextError> {
    let valid_chars = kind
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if kind.is_empty() || kind == "kind" || kind == "multi" || !valid_chars {
        return Err(ContextError::InvalidKind(kind.to_owned()));
    }
    Ok(())
}

fn parse_multi(object: &Map<String, Value>) -> Result<Context, ContextError> {
    let mut individuals = Vec::with_capacity(object.len().saturating_sub(1));
    for (kind, nested) in object.iter().filter(|(name, _)| *name != "kind") {
        validate_kind(kind)?;
        let nested = nested
            .as_object()
            .ok_or_else(|| ContextError::NestedNotAnObject(kind.clone()))?;
        individuals.push(parse_individual(kind, nested)?);
    }
    if individuals.is_empty() {
        return Err(ContextError::EmptyMulti);
    }
    individuals.sort_by(|a, b| a.kind().cmp(b.kind()));
    Ok(Context { individuals })
}

/// Parses a new-format individual context; `object` may carry a `kind` property (ignored here).
fn parse_individual(
    kind: &str,
    object: &Map<String, Value>,
) -> Result<IndividualContext, ContextError> {
    let key = match object.get("key") {
        Some(Value::String(key)) if !key.is_empty() => key.clone(),
        _ => {
            return Err(ContextError::MissingKey {
                kind: kind.to_owned(),
            })
        }
    };
    let mut individual = IndividualContext {
        kind: Value::String(kind.to_owned()),
        key: Value::String(key),
        name: optional_string(object, "name")?.map(Value::String),
        anonymous: Value::Bool(optional_bool(object, "anonymous")?),
        attributes: Map::new(),
        private_attributes: Vec::new(),
        secondary: None,
    };
    if let Some(meta) = object.get("_meta") {
        individual.private_attributes = private_attributes(meta)?;
    }
    for (name, value) in object {
        let is_builtin = matches!(
            name.as_str(),
            "kind" | "key" | "name" | "anonymous" | "_meta" | ""
        );
        if !is_builtin && !value.is_null() {
            individual.attributes.insert(name.clone(), value.clone());
        }
    }
    Ok(individual)
}

fn private_attributes(meta: &Value) -> Result<Vec<AttributeRef>, ContextError> {
    let wrong = || ContextError::WrongType {
        attribute: "_meta".into(),
        expected: "an object",
    };
    let meta = match meta {
        Value::Null => return Ok(Vec::new()),
        Value::Object(meta) => meta,
        _ => return Err(wrong()),
    };
    match meta.get("privateAttributes") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(AttributeRef::parse)
                    .ok_or_else(string_array_error("_meta.privateAttributes"))
            })
            .collect(),
        Some(_) => Err(string_array_error("_meta.privateAttributes")()),
    }
}

/// Built-in string attributes of old-style users that become top-level attributes.
const OLD_USER_STRING_ATTRIBUTES: [&str; 6] =
    ["firstName", "lastName", "email", "country", "avatar", "ip"];

/// Parses an old-style user (spec 2.4). Its key may be empty.
fn parse_old_user(object: &Map<String, Value>) -> Result<IndividualContext, ContextError> {
    let key = match object.get("key") {
        Some(Value::String(key)) => key.clone(),
        _ => {
            return Err(ContextError::MissingKey {
                kind: "user".into(),
            })
        }
    };
    let mut individual = IndividualContext {
        kind: Value::String("user".into()),
        key: Value::String(key),
        name: optional_string(object, "name")?.map(Value::String),
        anonymous: Value::Bool(optional_bool(object, "anonymous")?),
        attributes: Map::new(),
        private_attributes: Vec::new(),
        secondary: optional_string(object, "secondary")?,
    };
    for name in OLD_USER_STRING_ATTRIBUTES {
        if let Some(value) = optional_string(object, name)? {
            individual
                .attributes
                .insert(name.into(), Value::String(value));
        }
    }
    match object.get("custom") {
        None | Some(Value::Null) => {}
        Some(Value::Object(custom)) => {
            for (name, value) in custom {
                let is_reserved = matches!(
                    name.as_str(),
                    "kind" | "key" | "name" | "anonymous" | "_meta" | ""
                );
                if !is_reserved && !value.is_null() {
                    individual.attributes.insert(name.clone(), value.clone());
                }
            }
        }
        Some(_) => {
            return Err(ContextError::WrongType {
                attribute: "custom".into(),
                expected: "an object",
            })
        }
    }
    match object.get("privateAttributeNames") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            individual.private_attributes = items
                .iter()
                .map(|item| {
                    item.as_str()
                        .map(AttributeRef::literal)
                        .ok_or_else(string_array_error("privateAttributeNames"))
                })
                .collect::<Result<_, _>>()?;
        }
        Some(_) => return Err(string_array_error("privateAttributeNames")()),
    }
    Ok(individual)
}

fn optional_string(
    object: &Map<String, Value>,
    name: &str,
) -> Result<Option<String>, ContextError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(ContextError::WrongType {
            attribute: name.into(),
            expected: "a string or null",
        }),
    }
}

fn optional_bool(object: &Map<String, Value>, name: &str) -> Result<bool, ContextError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(value)) => Ok(*value),
        Some(_) => Err(ContextError::WrongType {
            attribute: name.into(),
            expected: "a boolean or null",
        }),
    }
}

fn string_array_error(attribute: &'static str) -> impl Fn() -> ContextError {
    move || ContextError::WrongType {
        attribute: attribute.into(),
        expected: "an array of strings",
    }
}

#[cfg(test)]
mod tests;

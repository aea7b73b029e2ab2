//! The top-level fields of an event that validation checks, found by the scanner in the
//! same pass that splits the body; every other field is skipped.

use super::scan::{members, walk_members, Cursor, Json, JsonStr, SyntaxError};
use super::summary::{read_features, Features};

/// The top-level fields any kind's rules look at, each `Some` when present (even `null`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Fields<'a> {
    pub kind: Option<Json<'a>>,
    pub creation_date: Option<Json<'a>>,
    pub key: Option<Json<'a>>,
    pub version: Option<Json<'a>>,
    pub variation: Option<Json<'a>>,
    pub sampling_ratio: Option<Json<'a>>,
    pub reason: Option<Json<'a>>,
    pub metric_value: Option<Json<'a>>,
    pub context: Option<Json<'a>>,
    pub context_keys: Option<Json<'a>>,
    pub start_date: Option<Json<'a>>,
    pub end_date: Option<Json<'a>>,
    pub features: Option<Json<'a>>,
    pub operation: Option<Json<'a>>,
    pub evaluation: Option<Json<'a>>,
    pub id: Option<Json<'a>>,
    /// The only member of `contextKeys` (its key as written), when it is an object of
    /// exactly one member: what server-side SDKs send, read in the same pass, so that the
    /// context key need not read `contextKeys` again.
    pub context_keys_member: Option<(JsonStr<'a>, Json<'a>)>,
    /// What is wrong with `features` as a summary's, found as the scanner passes it
    /// (`summary.rs`) instead of skipping it and reading it again.
    pub features_check: Features<'a>,
}

/// Which of [`Fields`]' fields a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Kind,
    CreationDate,
    Key,
    Version,
    Variation,
    SamplingRatio,
    Reason,
    MetricValue,
    Context,
    ContextKeys,
    StartDate,
    EndDate,
    Features,
    Operation,
    Evaluation,
    Id,
}

impl Field {
    /// The field `name` names, told apart by length first, then compared as a fixed-size
    /// array (inline compares, no call to `memcmp` per candidate).
    #[inline]
    fn named(name: &str) -> Option<Field> {
        let name = name.as_bytes();
        match name.len() {
            2 => is(name, b"id", Field::Id),
            3 => is(name, b"key", Field::Key),
            4 => is(name, b"kind", Field::Kind),
            6 => is(name, b"reason", Field::Reason),
            7 => is(name, b"version", Field::Version)
                .or_else(|| is(name, b"context", Field::Context))
                .or_else(|| is(name, b"endDate", Field::EndDate)),
            8 => is(name, b"features", Field::Features),
            9 => is(name, b"variation", Field::Variation)
                .or_else(|| is(name, b"startDate", Field::StartDate))
                .or_else(|| is(name, b"operation", Field::Operation)),
            10 => is(name, b"evaluation", Field::Evaluation),
            11 => is(name, b"metricValue", Field::MetricValue)
                .or_else(|| is(name, b"contextKeys", Field::ContextKeys)),
            12 => is(name, b"creationDate", Field::CreationDate),
            13 => is(name, b"samplingRatio", Field::SamplingRatio),
            _ => None,
        }
    }
}

/// `field` when `name` is `expected`.
#[inline(always)]
fn is<const N: usize>(name: &[u8], expected: &[u8; N], field: Field) -> Option<Field> {
    (<&[u8; N]>::try_from(name).ok()? == expected).then_some(field)
}

impl<'a> Fields<'a> {
    /// Reads the event object at the cursor (`depth` levels inside the body) into `self`,
    /// which must be empty (`Fields::default()`): in place, since an event's fields are
    /// read once per event and are too large to copy around cheaply. The error is a body
    /// that is not JSON; `Ok(Some(reason))` an event whose fields cannot be read: it names
    /// a checked field twice (the analytics worker's typed parse would refuse it) or has a
    /// key that cannot be read as a string (a lone surrogate escape).
    #[inline]
    pub fn read_into(
        &mut self,
        cursor: &mut Cursor<'a>,
        depth: usize,
    ) -> Result<Option<String>, SyntaxError> {
        let mut unreadable = None;
        walk_members(cursor, depth, |key, cursor| {
            let field = if unreadable.is_some() {
                None
            } else if key.has_escapes {
                match key.unescaped() {
                    Some(name) => Field::named(&name),
                    None => {
                        unreadable = Some(format!("key {} cannot be read", key.quoted));
                        None
                    }
                }
            } else {
                Field::named(key.content())
            };
            let start = cursor.position();
            match field {
                // Read in place, members and all, instead of skipped.
                Some(Field::ContextKeys) if cursor.peek_token() == Some(b'{') => {
                    let mut count = 0;
                    let mut first = None;
                    members(cursor, depth + 1, |key, value| {
                        count += 1;
                        first.get_or_insert((key, value));
                    })?;
                    self.context_keys_member = first.filter(|_| count == 1);
                }
                Some(Field::Features) => {
                    self.features_check = read_features(cursor, depth + 1)?;
                }
                // Most members are scalars, read here; arrays and objects go to the skipper.
                _ => {
                    if cursor.scalar()?.is_none() {
                        cursor.skip_value(depth + 1)?;
                    }
                }
            }
            if let Some(field) = field {
                if self
                    .get_mut(field)
                    .replace(cursor.value_since(start))
                    .is_some()
                {
                    unreadable = Some(format!("field {} is given twice", key.quoted));
                }
            }
            Ok(())
        })?;
        Ok(unreadable)
    }

    #[inline]
    fn get_mut(&mut self, field: Field) -> &mut Option<Json<'a>> {
        match field {
            Field::Kind => &mut self.kind,
            Field::CreationDate => &mut self.creation_date,
            Field::Key => &mut self.key,
            Field::Version => &mut self.version,
            Field::Variation => &mut self.variation,
            Field::SamplingRatio => &mut self.sampling_ratio,
            Field::Reason => &mut self.reason,
            Field::MetricValue => &mut self.metric_value,
            Field::Context => &mut self.context,
            Field::ContextKeys => &mut self.context_keys,
            Field::StartDate => &mut self.start_date,
            Field::EndDate => &mut self.end_date,
            Field::Features => &mut self.features,
            Field::Operation => &mut self.operation,
            Field::Evaluation => &mut self.evaluation,
            Field::Id => &mut self.id,
        }
    }
}

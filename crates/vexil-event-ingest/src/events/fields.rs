//! The top-level fields of an event that validation checks, found by the scanner in the
//! same pass that splits the body; every other field is skipped.

use super::scan::{members, Cursor, Json, SyntaxError};

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
}

impl<'a> Fields<'a> {
    /// Reads the event object at the cursor (`depth` levels inside the body). The outer
    /// error is a body that is not JSON; the inner one an event whose fields cannot be
    /// read: it names a checked field twice (the analytics worker's typed parse would
    /// refuse it) or has a key that cannot be read as a string (a lone surrogate escape).
    pub fn read(
        cursor: &mut Cursor<'a>,
        depth: usize,
    ) -> Result<Result<Fields<'a>, String>, SyntaxError> {
        let mut fields = Fields::default();
        let mut unreadable = None;
        members(cursor, depth, |key, value| {
            if unreadable.is_some() {
                return;
            }
            let slot = if key.has_escapes {
                match key.unescaped() {
                    Some(name) => fields.slot(&name),
                    None => {
                        unreadable = Some(format!("key {} cannot be read", key.quoted));
                        return;
                    }
                }
            } else {
                fields.slot(key.content())
            };
            if let Some(slot) = slot {
                if slot.replace(value).is_some() {
                    unreadable = Some(format!("field {} is given twice", key.quoted));
                }
            }
        })?;
        Ok(match unreadable {
            Some(reason) => Err(reason),
            None => Ok(fields),
        })
    }

    fn slot(&mut self, name: &str) -> Option<&mut Option<Json<'a>>> {
        Some(match name {
            "kind" => &mut self.kind,
            "creationDate" => &mut self.creation_date,
            "key" => &mut self.key,
            "version" => &mut self.version,
            "variation" => &mut self.variation,
            "samplingRatio" => &mut self.sampling_ratio,
            "reason" => &mut self.reason,
            "metricValue" => &mut self.metric_value,
            "context" => &mut self.context,
            "contextKeys" => &mut self.context_keys,
            "startDate" => &mut self.start_date,
            "endDate" => &mut self.end_date,
            "features" => &mut self.features,
            "operation" => &mut self.operation,
            "evaluation" => &mut self.evaluation,
            "id" => &mut self.id,
            _ => return None,
        })
    }
}

//! What callers pass to the store: new rows and filters, the same for every store.

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::rows::Variation;
use crate::auth::Role;

/// Who asks for a change, and what.
pub struct NewRequest<'a> {
    pub flag_id: Uuid,
    pub environment_id: Uuid,
    pub instructions: &'a Value,
    pub comment: &'a str,
    pub requested_by_token_id: Uuid,
    pub requested_by_name: &'a str,
}

/// Project-level fields of a new or updated flag.
#[derive(Debug, Clone)]
pub struct FlagFields<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub kind: &'a str,
    pub variations: &'a [Variation],
    pub tags: &'a [String],
    pub maintainer: Option<&'a str>,
    pub is_temporary: bool,
    pub using_mobile_key: bool,
    pub using_environment_id: bool,
}

/// Filters for listing a project's flags.
#[derive(Debug, Clone, Default)]
pub struct FlagFilter {
    pub tag: Option<String>,
    /// Case-insensitive substring of the key, name or description.
    pub text: Option<String>,
    pub is_archived: Option<bool>,
    pub limit: i64,
    pub offset: i64,
}

impl FlagFilter {
    /// `text` as a LIKE pattern matching it literally anywhere (`%`, `_` and `\` escaped,
    /// for `ESCAPE '\'`, PostgreSQL's default), the same for every store.
    pub fn text_pattern(&self) -> Option<String> {
        let text = self.text.as_ref()?;
        let escaped = text
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        Some(format!("%{escaped}%"))
    }
}

/// A change to a flag's targeting in one environment, to apply at `execute_at`.
pub struct NewChange<'a> {
    pub flag_id: Uuid,
    pub environment_id: Uuid,
    pub execute_at: OffsetDateTime,
    pub instructions: &'a Value,
    pub comment: &'a str,
    pub created_by_token_id: Uuid,
    pub created_by_name: &'a str,
}

/// Descriptive fields, which SDKs never see.
#[derive(Debug, Clone)]
pub struct SegmentFields<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub tags: &'a [String],
}

/// What a new token may do.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub name: &'a str,
    pub role: Role,
    pub project_keys: Option<&'a [String]>,
    pub environment_keys: Option<&'a [String]>,
    pub can_bypass_approvals: bool,
    pub created_by: Uuid,
}

/// Filters for listing entries; every field narrows the result.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub project_keys: Option<Vec<String>>,
    pub environment_keys: Option<Vec<String>>,
    pub flag_key: Option<String>,
    pub actor_name: Option<String>,
    pub actor_token_id: Option<Uuid>,
    pub after: Option<OffsetDateTime>,
    pub before: Option<OffsetDateTime>,
    /// Entries with a sequence number below this one (for paging backwards).
    pub before_sequence: Option<i64>,
    pub limit: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_filter_matches_wildcards_literally() {
        let filter = FlagFilter {
            text: Some(r"50%_off\now".into()),
            ..FlagFilter::default()
        };
        assert_eq!(filter.text_pattern().as_deref(), Some(r"%50\%\_off\\now%"));
        assert_eq!(FlagFilter::default().text_pattern(), None);
    }
}

//! Checking stored entries against the chain, one at a time and in sequence order, so a
//! store can stream the log instead of loading it.

use serde::Serialize;
use uuid::Uuid;

use super::{entry_hash, AuditEntry, ChainHead};

/// The outcome of re-checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    pub is_intact: bool,
    pub entries_checked: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_broken: Option<BrokenEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokenEntry {
    pub sequence: i64,
    pub id: Uuid,
    pub reason: String,
}

/// Why an entry does not continue the chain; the message is the `reason` served by
/// `/api/v1/audit-log/verify`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainProblem {
    /// The entry's number is not the next one: entries before it were removed (or it was
    /// renumbered).
    #[error("expected sequence {expected}: entries are missing")]
    Gap { expected: i64 },
    /// The entry does not link to the hash of the entry before it.
    #[error("previous_hash does not match the hash of entry {previous}")]
    BrokenLink { previous: i64 },
    /// The entry's fields no longer hash to its stored hash.
    #[error("the entry's content does not match its hash: it was altered")]
    Altered,
}

/// Checks that `entry` is the next entry after `head`: numbered next, linked to the head's
/// hash, and unaltered. The first problem found is returned.
pub fn check_entry(entry: &AuditEntry, head: &ChainHead) -> Result<(), ChainProblem> {
    let expected = head.sequence + 1;
    if entry.sequence != expected {
        Err(ChainProblem::Gap { expected })
    } else if entry.previous_hash != head.hash {
        Err(ChainProblem::BrokenLink {
            previous: head.sequence,
        })
    } else if entry_hash(entry)[..] != entry.hash[..] {
        Err(ChainProblem::Altered)
    } else {
        Ok(())
    }
}

impl Verification {
    /// The chain was intact through `checked` entries and `entry` broke it.
    pub fn broken(checked: i64, entry: &AuditEntry, problem: &ChainProblem) -> Verification {
        Verification {
            is_intact: false,
            entries_checked: checked,
            first_broken: Some(BrokenEntry {
                sequence: entry.sequence,
                id: entry.id,
                reason: problem.to_string(),
            }),
        }
    }

    /// All `checked` entries continued the chain.
    pub fn intact(checked: i64) -> Verification {
        Verification {
            is_intact: true,
            entries_checked: checked,
            first_broken: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::link;
    use crate::audit::test_entries::queued;

    fn chain(count: usize) -> Vec<AuditEntry> {
        link(ChainHead::genesis(), queued(count))
    }

    #[test]
    fn a_linked_chain_checks_out() {
        let mut head = ChainHead::genesis();
        for entry in chain(3) {
            assert_eq!(check_entry(&entry, &head), Ok(()));
            head = ChainHead::of(&entry);
        }
    }

    #[test]
    fn a_missing_entry_is_a_gap() {
        let entries = chain(3);
        let head = ChainHead::of(&entries[0]);
        let problem = check_entry(&entries[2], &head).unwrap_err();
        assert_eq!(problem, ChainProblem::Gap { expected: 2 });
        assert_eq!(
            problem.to_string(),
            "expected sequence 2: entries are missing"
        );
    }

    #[test]
    fn a_wrong_previous_hash_is_a_broken_link() {
        let entries = chain(2);
        let head = ChainHead {
            sequence: 1,
            hash: vec![7; 32],
        };
        let problem = check_entry(&entries[1], &head).unwrap_err();
        assert_eq!(problem, ChainProblem::BrokenLink { previous: 1 });
        assert_eq!(
            problem.to_string(),
            "previous_hash does not match the hash of entry 1"
        );
    }

    #[test]
    fn an_edited_field_is_an_altered_entry() {
        let mut entries = chain(2);
        let head = ChainHead::of(&entries[0]);
        entries[1].comment = "rewritten".into();
        let problem = check_entry(&entries[1], &head).unwrap_err();
        assert_eq!(problem, ChainProblem::Altered);
        assert!(problem.to_string().contains("altered"));
    }

    #[test]
    fn a_verification_names_the_broken_entry() {
        let entries = chain(1);
        let verification = Verification::broken(0, &entries[0], &ChainProblem::Altered);
        assert!(!verification.is_intact);
        let broken = verification.first_broken.unwrap();
        assert_eq!((broken.sequence, broken.id), (1, entries[0].id));
        assert_eq!(broken.reason, ChainProblem::Altered.to_string());
    }
}

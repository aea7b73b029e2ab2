//! Linking queued entries onto the chain: each gets the next sequence number, the previous
//! entry's hash and its own hash. Stores read the head, link, and insert in one
//! transaction, so the chain has one writer at a time.

use super::{entry_hash, AuditEntry, QueuedEntry, GENESIS_HASH};

/// The last entry of the chain, or the genesis before the first entry: what the next entry
/// links to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    /// The last entry's sequence number; 0 when the log is empty.
    pub sequence: i64,
    pub hash: Vec<u8>,
}

impl ChainHead {
    /// The head of an empty log: the first entry is number 1 and links to [`GENESIS_HASH`].
    pub fn genesis() -> ChainHead {
        ChainHead {
            sequence: 0,
            hash: GENESIS_HASH.to_vec(),
        }
    }

    /// The head once `entry` is the last entry.
    pub fn of(entry: &AuditEntry) -> ChainHead {
        ChainHead {
            sequence: entry.sequence,
            hash: entry.hash.clone(),
        }
    }
}

/// Numbers and chains `queued` (in the given order) after `head`.
pub fn link(head: ChainHead, queued: impl IntoIterator<Item = QueuedEntry>) -> Vec<AuditEntry> {
    let ChainHead {
        mut sequence,
        hash: mut previous_hash,
    } = head;
    queued
        .into_iter()
        .map(|queued| {
            sequence += 1;
            let mut entry = AuditEntry {
                sequence,
                id: queued.id,
                at: queued.at,
                actor_token_id: queued.actor_token_id,
                actor_name: queued.actor_name,
                action: queued.action,
                resource: queued.resource,
                project_key: queued.project_key,
                environment_key: queued.environment_key,
                flag_key: queued.flag_key,
                segment_key: queued.segment_key,
                before_json: queued.before_json,
                after_json: queued.after_json,
                diff: queued.diff,
                comment: queued.comment,
                client_ip: queued.client_ip,
                request_id: queued.request_id,
                previous_hash: std::mem::take(&mut previous_hash),
                hash: Vec::new(),
            };
            entry.hash = entry_hash(&entry).to_vec();
            previous_hash = entry.hash.clone();
            entry
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::test_entries::queued;

    #[test]
    fn the_first_entry_links_to_the_genesis_hash() {
        let entries = link(ChainHead::genesis(), queued(1));
        assert_eq!(entries[0].sequence, 1);
        assert_eq!(entries[0].previous_hash, GENESIS_HASH.to_vec());
        assert_eq!(entries[0].hash, entry_hash(&entries[0]).to_vec());
    }

    #[test]
    fn each_entry_links_to_the_one_before() {
        let entries = link(ChainHead::genesis(), queued(3));
        let sequences: Vec<i64> = entries.iter().map(|entry| entry.sequence).collect();
        assert_eq!(sequences, [1, 2, 3]);
        for pair in entries.windows(2) {
            assert_eq!(pair[1].previous_hash, pair[0].hash);
        }
    }

    #[test]
    fn linking_one_batch_equals_linking_it_in_two() {
        let all = queued(5);
        let at_once = link(ChainHead::genesis(), all.clone());
        let mut in_two = link(ChainHead::genesis(), all[..2].to_vec());
        let head = ChainHead::of(in_two.last().unwrap());
        in_two.extend(link(head, all[2..].to_vec()));
        assert_eq!(in_two, at_once);
    }

    #[test]
    fn linking_onto_a_head_continues_its_numbering_and_hash() {
        let head = ChainHead {
            sequence: 41,
            hash: vec![9; 32],
        };
        let entries = link(head, queued(1));
        assert_eq!(entries[0].sequence, 42);
        assert_eq!(entries[0].previous_hash, vec![9; 32]);
    }
}

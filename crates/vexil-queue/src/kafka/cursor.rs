//! One partition's read position in a Kafka subscription, and what to do with each record
//! librdkafka hands over for it.
//!
//! Librdkafka fetches ahead; a subscription returns only the record at its own position
//! and moves that position only when it returns records, so a dropped `next_batch` moves
//! nothing and a seek is exact.
//!
//! The subtle part is a broker that answers a fetch from an offset inside a record batch
//! with the *next* batch (tansu 0.6 does; Kafka returns the batch holding the offset and
//! librdkafka drops the records before it). Started or sought there, a reader would skip
//! the rest of that batch without a sign, or, in the partition's last batch, get nothing
//! at all. So a cursor *moved* to an offset trusts neither: a first record past the offset,
//! or none within the stall time while the partition's end is known to be past the offset,
//! rewinds the partition to its beginning (always a batch boundary), from where the records
//! before the offset are dropped. Reading on from returned records never needs this,
//! because librdkafka then fetches from the end of a batch it read; and on Kafka the
//! rewind never happens.

use std::time::{Duration, Instant};

/// What to do with a record at some offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// The record is the next one: return it.
    Deliver,
    /// The record is before the position (fetched before a seek, or read again after a
    /// rewind): drop it.
    Drop,
    /// The broker skipped the records at the position: drop this one and read the
    /// partition again from its beginning.
    Rewind,
}

#[derive(Debug, Clone)]
pub(super) struct Cursor {
    /// The offset of the record to return next.
    next: u64,
    moved: Moved,
}

/// Whether the fetch position may be inside a record batch, and since when the partition
/// has been seen to hold records from there on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Moved {
    /// Reading on from returned records or from the partition's beginning: a record past
    /// `next` means the records between were deleted.
    No,
    /// Moved to `next` and nothing returned since.
    Yes { behind_since: Option<Instant> },
}

impl Cursor {
    /// At the partition's earliest retained record, a batch boundary.
    pub(super) fn at_earliest(earliest: u64) -> Cursor {
        Cursor {
            next: earliest,
            moved: Moved::No,
        }
    }

    /// At `offset`, which may be inside a record batch unless it is the partition's
    /// earliest retained record or before it (librdkafka then resets to the earliest).
    pub(super) fn moved_to(offset: u64, earliest: u64) -> Cursor {
        Cursor {
            next: offset,
            moved: if offset <= earliest {
                Moved::No
            } else {
                Moved::Yes { behind_since: None }
            },
        }
    }

    pub(super) fn next(&self) -> u64 {
        self.next
    }

    /// Whether the cursor was moved and has not returned a record since.
    pub(super) fn is_moved(&self) -> bool {
        self.moved != Moved::No
    }

    /// Decides about a record at `offset`, `earliest` being the partition's earliest
    /// retained offset as last known; moves past the record when it is delivered.
    pub(super) fn on_record(&mut self, offset: u64, earliest: u64) -> Verdict {
        if offset < self.next {
            return Verdict::Drop;
        }
        if offset > self.next && self.next >= earliest && self.moved != Moved::No {
            // Rewound from the beginning, a gap can only be records deleted since.
            self.moved = Moved::No;
            return Verdict::Rewind;
        }
        self.next = offset + 1;
        self.moved = Moved::No;
        Verdict::Deliver
    }

    /// When this cursor gives up waiting for the records between its position and the
    /// partition's `end` and rewinds, if it is waiting for them after a move; starts the
    /// clock the first time it sees them there.
    pub(super) fn stall_deadline(&mut self, end: u64, stall: Duration) -> Option<Instant> {
        let Moved::Yes { behind_since } = &mut self.moved else {
            return None;
        };
        if self.next >= end {
            return None;
        }
        Some(*behind_since.get_or_insert_with(Instant::now) + stall)
    }

    /// Whether the cursor has waited past its stall deadline: it then rewinds.
    pub(super) fn rewind_if_stalled(&mut self, now: Instant, end: u64, stall: Duration) -> bool {
        match self.stall_deadline(end, stall) {
            Some(deadline) if deadline <= now => {
                self.moved = Moved::No;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STALL: Duration = Duration::from_secs(2);

    #[test]
    fn reading_on_delivers_in_order_and_drops_what_is_before_the_position() {
        let mut cursor = Cursor::at_earliest(0);
        assert_eq!(cursor.on_record(0, 0), Verdict::Deliver);
        assert_eq!(cursor.on_record(1, 0), Verdict::Deliver);
        assert_eq!(cursor.on_record(1, 0), Verdict::Drop);
        assert_eq!(cursor.next(), 2);
    }

    #[test]
    fn a_gap_while_reading_on_is_deleted_records_and_is_delivered() {
        let mut cursor = Cursor::at_earliest(0);
        assert_eq!(cursor.on_record(7, 0), Verdict::Deliver);
        assert_eq!(cursor.next(), 8);
    }

    #[test]
    fn a_gap_right_after_a_move_rewinds_once_then_drops_up_to_the_position() {
        let mut cursor = Cursor::moved_to(10, 0);
        assert_eq!(cursor.on_record(20, 0), Verdict::Rewind);
        for offset in 0..10 {
            assert_eq!(cursor.on_record(offset, 0), Verdict::Drop);
        }
        assert_eq!(cursor.on_record(10, 0), Verdict::Deliver);
        assert_eq!(cursor.on_record(11, 0), Verdict::Deliver);
    }

    #[test]
    fn after_a_rewind_a_gap_is_deleted_records() {
        let mut cursor = Cursor::moved_to(10, 0);
        assert_eq!(cursor.on_record(20, 0), Verdict::Rewind);
        assert_eq!(cursor.on_record(15, 0), Verdict::Deliver);
        assert_eq!(cursor.next(), 16);
    }

    #[test]
    fn a_position_before_the_earliest_record_reads_from_it() {
        let mut cursor = Cursor::moved_to(3, 0);
        // Retention deleted records since the earliest offset was last learned.
        assert_eq!(cursor.on_record(50, 50), Verdict::Deliver);
        let mut cursor = Cursor::moved_to(3, 50);
        assert_eq!(cursor.on_record(50, 50), Verdict::Deliver);
    }

    #[test]
    fn the_record_at_a_moved_position_is_delivered_and_ends_the_move() {
        let mut cursor = Cursor::moved_to(10, 0);
        assert_eq!(cursor.on_record(10, 0), Verdict::Deliver);
        assert_eq!(cursor.on_record(14, 0), Verdict::Deliver, "reading on");
        assert_eq!(cursor.stall_deadline(100, STALL), None);
    }

    #[test]
    fn a_moved_cursor_stalls_only_while_the_partition_holds_records_past_it() {
        let mut cursor = Cursor::moved_to(10, 0);
        assert_eq!(cursor.stall_deadline(10, STALL), None, "at the end");
        let started = Instant::now();
        let deadline = cursor.stall_deadline(12, STALL).expect("behind");
        assert!(deadline >= started + STALL);
        assert_eq!(
            cursor.stall_deadline(12, STALL),
            Some(deadline),
            "one clock"
        );
        assert!(!cursor.rewind_if_stalled(deadline - Duration::from_millis(1), 12, STALL));
        assert!(cursor.rewind_if_stalled(deadline, 12, STALL));
        assert_eq!(cursor.stall_deadline(12, STALL), None, "rewound once");
        assert_eq!(cursor.next(), 10);
    }

    #[test]
    fn a_cursor_never_moved_never_stalls() {
        let mut cursor = Cursor::at_earliest(0);
        assert_eq!(cursor.stall_deadline(100, STALL), None);
        let mut cursor = Cursor::moved_to(0, 0);
        assert_eq!(
            cursor.stall_deadline(100, STALL),
            None,
            "0 is a batch boundary"
        );
    }
}

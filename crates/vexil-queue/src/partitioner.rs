//! Which partition a key belongs to. The rule must never change: a partition's order is
//! the order of its keys' records, and records already written stay where they are.

/// CRC-32 (IEEE) of the key modulo the partition count: librdkafka's `consistent`
/// partitioner, so the Kafka implementation can place records exactly like the embedded
/// log. An empty key goes to the partition of the empty string's checksum, partition 0.
/// A partition count of 0 (never valid) gives partition 0 rather than a panic.
pub fn partition_for_key(key: &[u8], partitions: u32) -> u32 {
    crc32fast::hash(key).checked_rem(partitions).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_stable_across_releases() {
        // Fixed expectations: a change here moves every existing key to another partition.
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
        assert_eq!(partition_for_key(b"123456789", 8), 0xCBF4_3926 % 8);
        assert_eq!(partition_for_key(b"", 8), 0);
    }

    #[test]
    fn zero_partitions_does_not_panic() {
        assert_eq!(partition_for_key(b"key", 0), 0);
    }
}

//! A request's records, keys and values written one after another into one buffer: one
//! allocation per request instead of two per record, whichever queue they go to.

use std::sync::Arc;

use bytes::Bytes;

/// The records of one request, in order.
#[derive(Debug, Default)]
pub struct Records {
    bytes: Vec<u8>,
    /// Per record, where its key ends (and its value starts) and where its value ends;
    /// its key starts where the previous record's value ended.
    bounds: Vec<(usize, usize)>,
}

/// One record, borrowed from [`Records`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub key: &'a [u8],
    pub value: &'a [u8],
}

impl Records {
    /// Room for `records` records of `bytes` bytes in all, keys and values.
    pub fn with_capacity(records: usize, bytes: usize) -> Records {
        Records {
            bytes: Vec::with_capacity(bytes),
            bounds: Vec::with_capacity(records),
        }
    }

    /// Appends a record whose key `write_key` and value `write_value` append to the buffer.
    pub fn push(
        &mut self,
        write_key: impl FnOnce(&mut Vec<u8>),
        write_value: impl FnOnce(&mut Vec<u8>),
    ) {
        write_key(&mut self.bytes);
        let key_end = self.bytes.len();
        write_value(&mut self.bytes);
        self.bounds.push((key_end, self.bytes.len()));
    }

    pub fn len(&self) -> usize {
        self.bounds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bounds.is_empty()
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = Record<'_>> + '_ {
        let mut start = 0;
        self.bounds.iter().map(move |&(key_end, value_end)| {
            let record = Record {
                key: &self.bytes[start..key_end],
                value: &self.bytes[key_end..value_end],
            };
            start = value_end;
            record
        })
    }
}

impl Records {
    /// The records as `vexil_queue` records sharing this request's one buffer (each key
    /// and value is a slice of it, not a copy) and its one header list.
    pub fn into_queue_records(
        self,
        headers: Arc<[vexil_queue::Header]>,
        timestamp_ms: i64,
    ) -> Vec<vexil_queue::Record> {
        let buffer = Bytes::from(self.bytes);
        let mut start = 0;
        self.bounds
            .iter()
            .map(|&(key_end, value_end)| {
                let record = vexil_queue::Record {
                    key: buffer.slice(start..key_end),
                    value: buffer.slice(key_end..value_end),
                    headers: headers.clone(),
                    timestamp_ms,
                };
                start = value_end;
                record
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_as_pushed() {
        let mut records = Records::default();
        records.push(|key| key.extend_from_slice(b"k1"), |value| value.push(1));
        records.push(|_| {}, |value| value.extend_from_slice(b"v2"));
        records.push(|key| key.extend_from_slice(b"k3"), |_| {});
        let seen: Vec<(&[u8], &[u8])> = records.iter().map(|r| (r.key, r.value)).collect();
        assert_eq!(seen, [(&b"k1"[..], &[1u8][..]), (b"", b"v2"), (b"k3", b"")]);
        assert_eq!(records.len(), 3);
    }

    #[test]
    fn queue_records_keep_keys_values_and_headers() {
        let mut records = Records::default();
        records.push(|key| key.extend_from_slice(b"k1"), |value| value.push(1));
        records.push(|_| {}, |value| value.extend_from_slice(b"v2"));
        let headers: Arc<[vexil_queue::Header]> = Arc::new([vexil_queue::Header {
            name: "vexil-payload-id".into(),
            value: Bytes::from_static(b"p-1"),
        }]);
        let queued = records.into_queue_records(headers.clone(), 7);
        let expected = [
            vexil_queue::Record::new(&b"k1"[..], &[1u8][..], 7)
                .with_header("vexil-payload-id", &b"p-1"[..]),
            vexil_queue::Record::new(&b""[..], &b"v2"[..], 7)
                .with_header("vexil-payload-id", &b"p-1"[..]),
        ];
        assert_eq!(queued, expected);
        assert!(
            queued
                .iter()
                .all(|record| Arc::ptr_eq(&record.headers, &headers)),
            "each record copied the headers instead of sharing them"
        );
    }
}

//! How values are written to and read from the SQLite file (the representations the first
//! migration lists): uuids as hyphenated text, times as integer microseconds, booleans as
//! 0/1, text arrays and JSON documents as JSON text. Reading refuses, as
//! `StoreError::Corrupt` naming the table and column, any stored value this code could not
//! have written, instead of panicking or guessing.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::store::{StoreError, StoreResult};

/// A uuid as stored: hyphenated lower-case text (a bound `Uuid` would be a BLOB, which
/// never equals the TEXT column).
pub(super) fn id(value: Uuid) -> String {
    value.hyphenated().to_string()
}

/// An optional uuid as stored.
pub(super) fn optional_id(value: Option<Uuid>) -> Option<String> {
    value.map(id)
}

/// An instant as stored: microseconds since the Unix epoch (UTC), rounded down.
pub(super) fn micros(at: OffsetDateTime) -> i64 {
    let micros = at.unix_timestamp_nanos().div_euclid(1_000);
    i64::try_from(micros).expect("`time` instants (years -9999..=9999) fit i64 microseconds")
}

/// An array of text as stored: a JSON array of strings.
pub(super) fn texts(values: &[String]) -> String {
    serde_json::Value::from(values).to_string()
}

/// A JSON document as stored (jsonb on PostgreSQL).
pub(super) fn json<T: Serialize + ?Sized>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value)
        .map_err(|error| StoreError::Database(sqlx::Error::Encode(Box::new(error))))
}

/// The columns of one result row, read as values of one table.
pub(super) struct Columns<'r> {
    row: &'r SqliteRow,
    table: &'static str,
}

impl<'r> Columns<'r> {
    /// Reads `row`'s columns as `table`'s; joined rows read each table's columns through
    /// their own `Columns`.
    pub(super) fn of(row: &'r SqliteRow, table: &'static str) -> Columns<'r> {
        Columns { row, table }
    }

    pub(super) fn corrupt(&self, column: &'static str) -> StoreError {
        StoreError::Corrupt {
            table: self.table,
            column,
        }
    }

    /// A column of the SQLite type the decoder expects. A column missing from the result is
    /// a mistake in this code's SQL (a database error), not corrupt data.
    fn get<T>(&self, column: &'static str) -> StoreResult<T>
    where
        T: for<'a> sqlx::Decode<'a, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    {
        self.row.try_get(column).map_err(|error| match error {
            sqlx::Error::ColumnNotFound(_) => StoreError::Database(error),
            _ => self.corrupt(column),
        })
    }

    pub(super) fn text(&self, column: &'static str) -> StoreResult<String> {
        self.get(column)
    }

    pub(super) fn optional_text(&self, column: &'static str) -> StoreResult<Option<String>> {
        self.get(column)
    }

    pub(super) fn integer(&self, column: &'static str) -> StoreResult<i64> {
        self.get(column)
    }

    pub(super) fn optional_integer(&self, column: &'static str) -> StoreResult<Option<i64>> {
        self.get(column)
    }

    pub(super) fn blob(&self, column: &'static str) -> StoreResult<Vec<u8>> {
        self.get(column)
    }

    pub(super) fn boolean(&self, column: &'static str) -> StoreResult<bool> {
        match self.integer(column)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.corrupt(column)),
        }
    }

    pub(super) fn uuid(&self, column: &'static str) -> StoreResult<Uuid> {
        self.parse_uuid(column, &self.text(column)?)
    }

    pub(super) fn optional_uuid(&self, column: &'static str) -> StoreResult<Option<Uuid>> {
        self.optional_text(column)?
            .map(|text| self.parse_uuid(column, &text))
            .transpose()
    }

    fn parse_uuid(&self, column: &'static str, text: &str) -> StoreResult<Uuid> {
        // Only the hyphenated form is ever written; any other spelling was not.
        Uuid::try_parse(text)
            .ok()
            .filter(|value| id(*value) == text)
            .ok_or_else(|| self.corrupt(column))
    }

    pub(super) fn time(&self, column: &'static str) -> StoreResult<OffsetDateTime> {
        self.micros_to_time(column, self.integer(column)?)
    }

    pub(super) fn optional_time(
        &self,
        column: &'static str,
    ) -> StoreResult<Option<OffsetDateTime>> {
        self.optional_integer(column)?
            .map(|micros| self.micros_to_time(column, micros))
            .transpose()
    }

    fn micros_to_time(&self, column: &'static str, micros: i64) -> StoreResult<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
            .map_err(|_| self.corrupt(column))
    }

    pub(super) fn texts(&self, column: &'static str) -> StoreResult<Vec<String>> {
        self.json(column)
    }

    pub(super) fn optional_texts(&self, column: &'static str) -> StoreResult<Option<Vec<String>>> {
        self.optional_text(column)?
            .map(|text| serde_json::from_str(&text).map_err(|_| self.corrupt(column)))
            .transpose()
    }

    pub(super) fn json<T: DeserializeOwned>(&self, column: &'static str) -> StoreResult<T> {
        serde_json::from_str(&self.text(column)?).map_err(|_| self.corrupt(column))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_round_down_to_the_microsecond_before() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(-1_500).unwrap();
        assert_eq!(micros(at), -2);
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        assert_eq!(micros(at), 1_700_000_000_123_456);
    }

    #[test]
    fn texts_are_a_json_array() {
        assert_eq!(texts(&["a".into(), "b\"c".into()]), r#"["a","b\"c"]"#);
        assert_eq!(texts(&[]), "[]");
    }
}

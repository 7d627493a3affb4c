//! Conversions between domain values and column values.

use std::str::FromStr;

use helpdesk_core::store::embedding_from_le_bytes;
use helpdesk_core::{Error, Result};
use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use uuid::Uuid;

use crate::error::PostgresError;

/// Milliseconds since the epoch (sub-millisecond digits are dropped).
pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// Optional milliseconds.
pub(crate) fn opt_ms(t: Option<Timestamp>) -> Option<i64> {
    t.map(ms)
}

/// An unsigned count or version as a column value.
pub(crate) fn int(value: u64, field: &'static str) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::validation(field, format!("{value} is too large")))
}

/// A value as a `jsonb` parameter (encoded here, so a failure is a typed error).
pub(crate) fn json<T: Serialize + ?Sized>(
    value: &T,
    what: &'static str,
) -> Result<Json<serde_json::Value>> {
    serde_json::to_value(value)
        .map(Json)
        .map_err(|source| PostgresError::Encode { what, source }.into())
}

/// The stable string of a serde unit enum (`"draft"`, `"closed"`, ...).
pub(crate) fn enum_str<T: Serialize>(value: &T, what: &'static str) -> Result<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        Ok(_) => Err(Error::validation(what, "is not a plain enum value")),
        Err(source) => Err(PostgresError::Encode { what, source }.into()),
    }
}

/// Typed access to the columns of one row; every failure names the column.
pub(crate) struct Columns<'r>(pub(crate) &'r PgRow);

impl Columns<'_> {
    fn raw<'a, T>(&'a self, column: &'static str) -> Result<T>
    where
        T: sqlx::Decode<'a, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        self.0
            .try_get::<T, _>(column)
            .map_err(|e| PostgresError::corrupt(column, e).into())
    }

    pub(crate) fn text(&self, column: &'static str) -> Result<String> {
        self.raw(column)
    }

    pub(crate) fn opt_text(&self, column: &'static str) -> Result<Option<String>> {
        self.raw(column)
    }

    pub(crate) fn i64(&self, column: &'static str) -> Result<i64> {
        self.raw(column)
    }

    pub(crate) fn opt_i64(&self, column: &'static str) -> Result<Option<i64>> {
        self.raw(column)
    }

    pub(crate) fn u64(&self, column: &'static str) -> Result<u64> {
        let v = self.i64(column)?;
        u64::try_from(v).map_err(|e| PostgresError::corrupt(column, e).into())
    }

    pub(crate) fn u32(&self, column: &'static str) -> Result<u32> {
        let v = self.i64(column)?;
        u32::try_from(v).map_err(|e| PostgresError::corrupt(column, e).into())
    }

    /// An embedding stored as core's `embedding_to_le_bytes` (little-endian `f32`s); a
    /// length that is not a positive multiple of 4 is corrupt.
    pub(crate) fn embedding(&self, column: &'static str) -> Result<Vec<f32>> {
        embedding_from_le_bytes(&self.raw::<Vec<u8>>(column)?)
            .map_err(|e| PostgresError::corrupt(column, e).into())
    }

    pub(crate) fn bool(&self, column: &'static str) -> Result<bool> {
        self.raw(column)
    }

    pub(crate) fn ts(&self, column: &'static str) -> Result<Timestamp> {
        to_ts(self.i64(column)?, column)
    }

    pub(crate) fn opt_ts(&self, column: &'static str) -> Result<Option<Timestamp>> {
        self.opt_i64(column)?.map(|v| to_ts(v, column)).transpose()
    }

    pub(crate) fn id<T: From<Uuid>>(&self, column: &'static str) -> Result<T> {
        Ok(T::from(self.raw::<Uuid>(column)?))
    }

    pub(crate) fn opt_id<T: From<Uuid>>(&self, column: &'static str) -> Result<Option<T>> {
        Ok(self.raw::<Option<Uuid>>(column)?.map(T::from))
    }

    /// A core string enum (`TicketStatus`, `Priority`, ...).
    pub(crate) fn parsed<T: FromStr<Err = Error>>(&self, column: &'static str) -> Result<T> {
        parse(&self.text(column)?, column)
    }

    pub(crate) fn opt_parsed<T: FromStr<Err = Error>>(
        &self,
        column: &'static str,
    ) -> Result<Option<T>> {
        self.opt_text(column)?
            .map(|s| parse(&s, column))
            .transpose()
    }

    /// A `jsonb` column.
    pub(crate) fn json<T: DeserializeOwned>(&self, column: &'static str) -> Result<T> {
        from_json(self.raw::<Json<serde_json::Value>>(column)?.0, column)
    }

    pub(crate) fn opt_json<T: DeserializeOwned>(&self, column: &'static str) -> Result<Option<T>> {
        self.raw::<Option<Json<serde_json::Value>>>(column)?
            .map(|v| from_json(v.0, column))
            .transpose()
    }

    /// A serde unit enum stored as its string.
    pub(crate) fn serde_enum<T: DeserializeOwned>(&self, column: &'static str) -> Result<T> {
        serde_json::from_value(serde_json::Value::String(self.text(column)?))
            .map_err(|e| PostgresError::corrupt(column, e).into())
    }
}

pub(crate) fn to_ts(v: i64, column: &'static str) -> Result<Timestamp> {
    Timestamp::from_millisecond(v).map_err(|e| PostgresError::corrupt(column, e).into())
}

fn parse<T: FromStr<Err = Error>>(s: &str, column: &'static str) -> Result<T> {
    s.parse::<T>()
        .map_err(|e| PostgresError::corrupt(column, e).into())
}

fn from_json<T: DeserializeOwned>(v: serde_json::Value, column: &'static str) -> Result<T> {
    serde_json::from_value(v).map_err(|e| PostgresError::corrupt(column, e).into())
}

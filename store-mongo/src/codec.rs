//! Conversions between domain values and BSON: times as BSON dates (milliseconds), ids as
//! their UUID strings, counters as 64-bit integers, vocabularies as their stable strings,
//! and nested domain values (settings, event payloads) as embedded documents.

use std::str::FromStr;

use bson::{Bson, DateTime, Document, doc};
use helpdesk_core::store::{TimeRange, embedding_from_le_bytes, embedding_to_le_bytes};
use helpdesk_core::{Error, Result};
use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{encode, malformed};

/// Why a stored field could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum FieldError {
    /// The field is absent.
    #[error("missing")]
    Missing,
    /// The field has another BSON type.
    #[error("expected {expected}, found {found:?}")]
    WrongType {
        /// The type this crate writes.
        expected: &'static str,
        /// The type found.
        found: bson::spec::ElementType,
    },
    /// A number or date outside the domain's range.
    #[error("value out of range")]
    OutOfRange,
    /// A custom field's value is none of the types a field value is stored as.
    #[error(
        "the value of `{key}` is a {found:?}, not a boolean, number, string or array of strings"
    )]
    BadFieldValue {
        /// The field's key.
        key: String,
        /// The type found.
        found: bson::spec::ElementType,
    },
}

/// A timestamp as a BSON date (millisecond precision, like the domain's timestamps).
pub(crate) fn date(t: Timestamp) -> DateTime {
    DateTime::from_millis(t.as_millisecond())
}

/// An optional timestamp as a BSON date or null.
pub(crate) fn opt_date(t: Option<Timestamp>) -> Bson {
    t.map_or(Bson::Null, |t| Bson::DateTime(date(t)))
}

// Range filters use exclusive bounds only (`$lt`/`$gt`), written so that they mean the same
// as the inclusive ones on millisecond dates and integers: the SecantusDB test server drops
// the boundary value of an inclusive bound on a compound index with trailing fields (on
// MongoDB both forms are equivalent).

/// A filter value for "at or before `t`" on a BSON date: `{$lt: t + 1 ms}`.
pub(crate) fn at_or_before(t: Timestamp) -> Document {
    doc! { "$lt": DateTime::from_millis(t.as_millisecond().saturating_add(1)) }
}

/// A filter value for "at or after `t`" on a BSON date: `{$gt: t - 1 ms}`.
pub(crate) fn at_or_after(t: Timestamp) -> Document {
    doc! { "$gt": DateTime::from_millis(t.as_millisecond().saturating_sub(1)) }
}

/// A filter value for "inside `[from, to)`" on a BSON date: `{$gt: from - 1 ms, $lt: to}`.
pub(crate) fn within(range: &TimeRange) -> Document {
    doc! {
        "$gt": DateTime::from_millis(range.from.as_millisecond().saturating_sub(1)),
        "$lt": date(range.to),
    }
}

/// A filter value for "at most `n`" on an integer: `{$lt: n + 1}`.
pub(crate) fn at_most(n: i64) -> Document {
    doc! { "$lt": n.saturating_add(1) }
}

/// Any displayable value (ids) as a string, or null.
pub(crate) fn opt_string(v: Option<impl ToString>) -> Bson {
    v.map_or(Bson::Null, |v| Bson::String(v.to_string()))
}

/// An unsigned counter as a BSON 64-bit integer; `field` names it in the error.
pub(crate) fn int(value: u64, field: &'static str) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::validation(field, format!("{value} is too large")))
}

/// A domain value in its serde form as BSON (strings for enums, an embedded document for
/// structs).
pub(crate) fn to_bson<T: Serialize + ?Sized>(value: &T, what: &'static str) -> Result<Bson> {
    bson::to_bson(value).map_err(|e| encode(what, e))
}

/// The stored string of a serde-named vocabulary value (`MessageKind::Draft` -> `"draft"`).
pub(crate) fn serde_name<T: Serialize>(value: &T, what: &'static str) -> Result<String> {
    match to_bson(value, what)? {
        Bson::String(s) => Ok(s),
        _ => Err(crate::error::unexpected(
            "a vocabulary value that is not a string",
        )),
    }
}

/// Reads typed fields of one stored document, naming the collection and field in errors.
pub(crate) struct Reader<'a> {
    doc: &'a Document,
    collection: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader for a document of `collection`.
    pub(crate) fn new(doc: &'a Document, collection: &'static str) -> Self {
        Self { doc, collection }
    }

    fn fail(&self, field: &'static str, e: impl Into<helpdesk_core::BoxError>) -> Error {
        malformed(self.collection, field, e)
    }

    fn get(&self, field: &'static str) -> Option<&'a Bson> {
        match self.doc.get(field) {
            None | Some(Bson::Null) => None,
            Some(v) => Some(v),
        }
    }

    fn wrong(&self, field: &'static str, expected: &'static str, found: &Bson) -> Error {
        self.fail(
            field,
            FieldError::WrongType {
                expected,
                found: found.element_type(),
            },
        )
    }

    /// A required string.
    pub(crate) fn str(&self, field: &'static str) -> Result<&'a str> {
        self.opt_str(field)?
            .ok_or_else(|| self.fail(field, FieldError::Missing))
    }

    /// An optional string.
    pub(crate) fn opt_str(&self, field: &'static str) -> Result<Option<&'a str>> {
        match self.get(field) {
            None => Ok(None),
            Some(Bson::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong(field, "string", other)),
        }
    }

    /// An optional owned string.
    pub(crate) fn opt_string(&self, field: &'static str) -> Result<Option<String>> {
        Ok(self.opt_str(field)?.map(str::to_string))
    }

    /// A required value parsed from its string form (ids, vocabularies).
    pub(crate) fn parse<T: FromStr<Err = Error>>(&self, field: &'static str) -> Result<T> {
        self.str(field)?.parse().map_err(|e| self.fail(field, e))
    }

    /// An optional value parsed from its string form.
    pub(crate) fn opt_parse<T: FromStr<Err = Error>>(
        &self,
        field: &'static str,
    ) -> Result<Option<T>> {
        self.opt_str(field)?
            .map(|s| s.parse().map_err(|e| self.fail(field, e)))
            .transpose()
    }

    /// A required BSON date.
    pub(crate) fn time(&self, field: &'static str) -> Result<Timestamp> {
        self.opt_time(field)?
            .ok_or_else(|| self.fail(field, FieldError::Missing))
    }

    /// An optional BSON date.
    pub(crate) fn opt_time(&self, field: &'static str) -> Result<Option<Timestamp>> {
        match self.get(field) {
            None => Ok(None),
            Some(Bson::DateTime(d)) => Timestamp::from_millisecond(d.timestamp_millis())
                .map(Some)
                .map_err(|_| self.fail(field, FieldError::OutOfRange)),
            Some(other) => Err(self.wrong(field, "date", other)),
        }
    }

    /// A required non-negative integer (stored as a 32- or 64-bit integer).
    pub(crate) fn u64(&self, field: &'static str) -> Result<u64> {
        let value = match self.get(field) {
            None => return Err(self.fail(field, FieldError::Missing)),
            Some(Bson::Int64(n)) => *n,
            Some(Bson::Int32(n)) => i64::from(*n),
            Some(other) => return Err(self.wrong(field, "integer", other)),
        };
        u64::try_from(value).map_err(|_| self.fail(field, FieldError::OutOfRange))
    }

    /// A required signed integer (stored as a 32- or 64-bit integer).
    pub(crate) fn i64(&self, field: &'static str) -> Result<i64> {
        match self.get(field) {
            None => Err(self.fail(field, FieldError::Missing)),
            Some(Bson::Int64(n)) => Ok(*n),
            Some(Bson::Int32(n)) => Ok(i64::from(*n)),
            Some(other) => Err(self.wrong(field, "integer", other)),
        }
    }

    /// A required number of any numeric BSON type (sums, which the server widens to a
    /// double when a 64-bit integer would overflow), as a float.
    pub(crate) fn number(&self, field: &'static str) -> Result<f64> {
        match self.get(field) {
            None => Err(self.fail(field, FieldError::Missing)),
            Some(Bson::Int64(n)) => Ok(*n as f64),
            Some(Bson::Int32(n)) => Ok(f64::from(*n)),
            Some(Bson::Double(n)) => Ok(*n),
            Some(other) => Err(self.wrong(field, "number", other)),
        }
    }

    /// An optional array of embedded documents (absent = empty).
    pub(crate) fn docs(&self, field: &'static str) -> Result<Vec<Reader<'a>>> {
        match self.get(field) {
            None => Ok(Vec::new()),
            Some(Bson::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Bson::Document(d) => Ok(Reader::new(d, self.collection)),
                    other => Err(self.wrong(field, "document", other)),
                })
                .collect(),
            Some(other) => Err(self.wrong(field, "array", other)),
        }
    }

    /// A required integer that fits a `u32`.
    pub(crate) fn u32(&self, field: &'static str) -> Result<u32> {
        u32::try_from(self.u64(field)?).map_err(|_| self.fail(field, FieldError::OutOfRange))
    }

    /// A required boolean.
    pub(crate) fn bool(&self, field: &'static str) -> Result<bool> {
        match self.get(field) {
            None => Err(self.fail(field, FieldError::Missing)),
            Some(Bson::Boolean(b)) => Ok(*b),
            Some(other) => Err(self.wrong(field, "boolean", other)),
        }
    }

    /// A required array of strings.
    pub(crate) fn strings(&self, field: &'static str) -> Result<Vec<String>> {
        match self.get(field) {
            None => Err(self.fail(field, FieldError::Missing)),
            Some(Bson::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Bson::String(s) => Ok(s.clone()),
                    other => Err(self.wrong(field, "string", other)),
                })
                .collect(),
            Some(other) => Err(self.wrong(field, "array", other)),
        }
    }

    /// An optional embedded document.
    pub(crate) fn opt_doc(&self, field: &'static str) -> Result<Option<Reader<'a>>> {
        match self.get(field) {
            None => Ok(None),
            Some(Bson::Document(d)) => Ok(Some(Reader::new(d, self.collection))),
            Some(other) => Err(self.wrong(field, "document", other)),
        }
    }

    /// A required embedded document.
    pub(crate) fn doc(&self, field: &'static str) -> Result<Reader<'a>> {
        self.opt_doc(field)?
            .ok_or_else(|| self.fail(field, FieldError::Missing))
    }

    /// A required value in its serde form.
    pub(crate) fn serde<T: DeserializeOwned>(&self, field: &'static str) -> Result<T> {
        match self.get(field) {
            None => Err(self.fail(field, FieldError::Missing)),
            Some(v) => bson::from_bson(v.clone()).map_err(|e| self.fail(field, e)),
        }
    }

    /// An optional value in its serde form.
    pub(crate) fn opt_serde<T: DeserializeOwned>(&self, field: &'static str) -> Result<Option<T>> {
        match self.get(field) {
            None => Ok(None),
            Some(v) => bson::from_bson(v.clone())
                .map(Some)
                .map_err(|e| self.fail(field, e)),
        }
    }

    /// A required embedding stored by [`embedding`]: generic binary data of little-endian
    /// `f32`s, its length checked (core's `embedding_from_le_bytes`).
    pub(crate) fn embedding(&self, field: &'static str) -> Result<Vec<f32>> {
        let bytes = match self.get(field) {
            None => return Err(self.fail(field, FieldError::Missing)),
            Some(Bson::Binary(b)) if b.subtype == bson::spec::BinarySubtype::Generic => &b.bytes,
            Some(other) => return Err(self.wrong(field, "generic binary", other)),
        };
        embedding_from_le_bytes(bytes).map_err(|e| self.fail(field, e))
    }
}

/// An embedding as generic binary data of little-endian `f32`s, 4 bytes per dimension:
/// stored bit for bit (a BSON array of doubles would take twice the space).
pub(crate) fn embedding(vector: &[f32]) -> Bson {
    Bson::Binary(bson::Binary {
        subtype: bson::spec::BinarySubtype::Generic,
        bytes: embedding_to_le_bytes(vector),
    })
}

/// Escapes `text` so that a regular expression matches it literally: every ASCII
/// punctuation character is backslash-escaped (literal in PCRE and every common engine) and
/// control characters become `\xHH`. User text never reaches the server as regex syntax.
pub(crate) fn regex_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
            out.push(c);
        } else if c.is_ascii_control() {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn regex_literal_escapes_syntax() {
        assert_eq!(regex_literal("a.b*c(d)"), r"a\.b\*c\(d\)");
        assert_eq!(regex_literal("100%_x"), r"100\%\_x");
        assert_eq!(regex_literal("back\\slash"), r"back\\slash");
        assert_eq!(regex_literal("[^$]|{1}?+"), r"\[\^\$\]\|\{1\}\?\+");
        assert_eq!(regex_literal("tab\there\0"), r"tab\x09here\x00");
        assert_eq!(regex_literal("Résumé upload"), "Résumé upload");
    }

    #[test]
    fn dates_keep_milliseconds() {
        let t = Timestamp::from_millisecond(1_772_442_000_123).unwrap();
        let doc = bson::doc! { "at": date(t), "none": opt_date(None) };
        let r = Reader::new(&doc, "test");
        assert_eq!(r.time("at").unwrap(), t);
        assert_eq!(r.opt_time("none").unwrap(), None);
        assert!(r.time("none").is_err());
    }

    #[test]
    fn reader_names_the_field_in_errors() {
        let doc = bson::doc! { "n": "x", "neg": -1_i64 };
        let r = Reader::new(&doc, "tickets");
        let e = r.u64("n").unwrap_err();
        let text = format!("{}", std::error::Error::source(&e).unwrap());
        assert!(text.contains("tickets") && text.contains("`n`"), "{text}");
        assert!(r.u64("neg").is_err());
        assert!(r.u64("missing").is_err());
        assert!(int(u64::MAX, "number").is_err());
    }
}

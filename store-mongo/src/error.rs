//! The crate's private error type and its conversion into the core [`Error`].

use helpdesk_core::{BoxError, Error};
use mongodb::error::{ErrorKind, WriteFailure};

/// The backend name reported in core errors.
pub(crate) const BACKEND: &str = "mongodb";

/// Server error code of a write conflict between transactions.
const WRITE_CONFLICT: i32 = 112;

/// Server error code of a unique-index violation.
const DUPLICATE_KEY: i32 = 11000;

/// Server error codes after which the same call may succeed (elections, shutdowns,
/// timeouts, write conflicts).
const TEMPORARY_CODES: &[i32] = &[
    6, 7, 89, 91, 112, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436,
];

/// What went wrong inside this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum MongoError {
    /// The driver or the server failed.
    #[error("MongoDB operation failed")]
    Driver(#[from] mongodb::error::Error),
    /// A value could not be encoded as BSON.
    #[error("cannot encode {what} as BSON")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// Why.
        #[source]
        source: bson::ser::Error,
    },
    /// A stored document does not have the shape this crate writes.
    #[error("malformed {collection} document: field `{field}`")]
    Malformed {
        /// The collection.
        collection: &'static str,
        /// The field.
        field: &'static str,
        /// Why it could not be read.
        #[source]
        source: BoxError,
    },
    /// A server answer lacked something it must contain.
    #[error("unexpected MongoDB answer: {0}")]
    UnexpectedAnswer(&'static str),
}

impl MongoError {
    /// Whether retrying the same call may succeed.
    fn is_temporary(&self) -> bool {
        match self {
            Self::Driver(e) => is_temporary(e),
            _ => false,
        }
    }
}

impl From<MongoError> for Error {
    fn from(e: MongoError) -> Self {
        let temporary = e.is_temporary();
        Error::backend(BACKEND, temporary, e)
    }
}

/// Converts a driver error into the core error.
pub(crate) fn driver(e: mongodb::error::Error) -> Error {
    MongoError::Driver(e).into()
}

fn is_temporary(e: &mongodb::error::Error) -> bool {
    if e.contains_label("RetryableWriteError")
        || e.contains_label("TransientTransactionError")
        || e.contains_label("ResumableChangeStreamError")
    {
        return true;
    }
    match e.kind.as_ref() {
        ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::ServerSelection { .. } => true,
        ErrorKind::Command(c) => TEMPORARY_CODES.contains(&c.code),
        ErrorKind::Write(WriteFailure::WriteError(w)) => TEMPORARY_CODES.contains(&w.code),
        ErrorKind::Write(WriteFailure::WriteConcernError(w)) => TEMPORARY_CODES.contains(&w.code),
        _ => false,
    }
}

/// Whether a transaction lost to a concurrent one (a write conflict, or any error the
/// server marks as leaving the transaction retryable from the start): nothing of it is
/// written, as with a stale version.
pub(crate) fn is_write_conflict(e: &mongodb::error::Error) -> bool {
    if e.contains_label("TransientTransactionError") {
        return true;
    }
    match e.kind.as_ref() {
        mongodb::error::ErrorKind::Command(c) => c.code == WRITE_CONFLICT,
        mongodb::error::ErrorKind::Write(mongodb::error::WriteFailure::WriteError(w)) => {
            w.code == WRITE_CONFLICT
        }
        _ => false,
    }
}

/// Whether a core error of this crate is a transaction's loss to a concurrent one
/// ([`is_write_conflict`]): nothing of the transaction was written, and running it again
/// from the start may succeed.
pub(crate) fn lost_transaction(e: &Error) -> bool {
    match e {
        Error::Backend { source, .. } => matches!(
            source.downcast_ref::<MongoError>(),
            Some(MongoError::Driver(d)) if is_write_conflict(d)
        ),
        _ => false,
    }
}

/// Whether the error is a unique-index violation (code 11000), wherever the driver put it.
pub(crate) fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == DUPLICATE_KEY,
        ErrorKind::Command(c) => c.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(m) => m
            .write_errors
            .as_ref()
            .is_some_and(|errors| errors.iter().any(|w| w.code == DUPLICATE_KEY)),
        _ => false,
    }
}

/// Whether an `insert_many` failed only because some documents already existed (so a
/// repeated, idempotent insert of the same documents is complete).
pub(crate) fn only_duplicate_keys(e: &mongodb::error::Error) -> bool {
    match e.kind.as_ref() {
        ErrorKind::InsertMany(m) => {
            m.write_concern_error.is_none()
                && m.write_errors
                    .as_ref()
                    .is_some_and(|errors| errors.iter().all(|w| w.code == DUPLICATE_KEY))
        }
        _ => is_duplicate_key(e),
    }
}

/// A value could not be encoded.
pub(crate) fn encode(what: &'static str, source: bson::ser::Error) -> Error {
    MongoError::Encode { what, source }.into()
}

/// A stored document is malformed.
pub(crate) fn malformed(
    collection: &'static str,
    field: &'static str,
    source: impl Into<BoxError>,
) -> Error {
    MongoError::Malformed {
        collection,
        field,
        source: source.into(),
    }
    .into()
}

/// The server answered without something it must send.
pub(crate) fn unexpected(what: &'static str) -> Error {
    MongoError::UnexpectedAnswer(what).into()
}

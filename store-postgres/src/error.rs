//! The backend's private error enum and its mapping into the core [`Error`].

use helpdesk_core::{BoxError, DuplicateKind, Error};

/// The backend name used in core errors.
pub(crate) const BACKEND: &str = "postgres";

/// Everything that can go wrong in this backend. Converted into
/// [`Error::Backend`](helpdesk_core::Error::Backend) with `From`, so the chain is kept.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum PostgresError {
    /// A statement failed.
    #[error("PostgreSQL statement failed")]
    Query(#[from] sqlx::Error),
    /// The server could not be reached or the URL is unusable.
    #[error("cannot connect to PostgreSQL at {target}")]
    Connect {
        target: String,
        #[source]
        source: sqlx::Error,
    },
    /// A migration failed (nothing of it was kept: migrations run in one transaction).
    #[error("cannot migrate PostgreSQL schema {schema} ({step})")]
    Migrate {
        schema: String,
        step: String,
        #[source]
        source: sqlx::Error,
    },
    /// A stored value does not decode (the table was changed outside the store).
    #[error("stored value in column `{column}` is invalid")]
    Corrupt {
        column: &'static str,
        #[source]
        source: BoxError,
    },
    /// A value could not be encoded for storage.
    #[error("cannot encode {what} for storage")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

impl PostgresError {
    pub(crate) fn corrupt(column: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Corrupt {
            column,
            source: source.into(),
        }
    }

    /// Whether the same call may succeed later (a serialization failure or deadlock, a
    /// server shutting down or out of connections, a lost connection, a pool with no free
    /// connection in time).
    pub(crate) fn is_temporary(&self) -> bool {
        match self {
            Self::Query(e) | Self::Connect { source: e, .. } | Self::Migrate { source: e, .. } => {
                is_temporary_sqlx(e)
            }
            _ => false,
        }
    }
}

/// The SQLSTATE of a database error.
pub(crate) fn sqlstate(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    }
}

fn is_temporary_sqlx(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(_) => sqlstate(e).is_some_and(|code| {
            // serialization_failure, deadlock_detected, lock_not_available,
            // too_many_connections, admin/crash shutdown, cannot_connect_now, and the
            // connection exception class.
            matches!(
                code.as_str(),
                "40001" | "40P01" | "55P03" | "53300" | "57P01" | "57P02" | "57P03"
            ) || code.starts_with("08")
        }),
        _ => false,
    }
}

/// Why a schema is refused: it is not one this build can safely write to.
/// [`PostgresStore::migrate`](crate::PostgresStore::migrate) (and
/// [`connect`](crate::PostgresStore::connect)) returns a newer schema as core's
/// [`Error::SchemaTooNew`], like every backend, and a changed migration as an
/// [`Error::Backend`] with this as its source, which [`SchemaError::of`] finds.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The schema was migrated by a newer build of this crate: its migrations table
    /// records a version this build does not know. Nothing was written.
    #[error(
        "PostgreSQL schema {schema} (database {database}) has version {found} (table `{table}`), newer than the newest this build knows ({known}); upgrade the application"
    )]
    Newer {
        /// The database's name.
        database: String,
        /// The store's schema.
        schema: String,
        /// The migrations table that records it.
        table: String,
        /// The newest version recorded.
        found: i64,
        /// The newest version this build knows
        /// ([`PostgresStore::schema_version`](crate::PostgresStore::schema_version)).
        known: i64,
    },
    /// A migration recorded as applied is not the one this build has under that version
    /// (its checksum differs): the schema was changed by something else. Nothing was
    /// written.
    #[error(
        "PostgreSQL schema {schema} records migration {version} with checksum {found}, but this build's migration {version} has checksum {expected}"
    )]
    Changed {
        /// The store's schema.
        schema: String,
        /// The migration's version.
        version: i64,
        /// The checksum recorded in the database.
        found: String,
        /// The checksum of this build's migration.
        expected: String,
    },
}

impl SchemaError {
    /// The schema error behind `error`, if it is one (an [`Error::Backend`] whose source is
    /// a `SchemaError`).
    pub fn of(error: &Error) -> Option<&Self> {
        match error {
            Error::Backend { source, .. } => source.downcast_ref::<Self>(),
            _ => None,
        }
    }
}

impl From<SchemaError> for Error {
    /// A newer schema is core's [`Error::SchemaTooNew`], as on every backend; any other
    /// schema refusal is a permanent [`Error::Backend`] with the `SchemaError` as source.
    fn from(e: SchemaError) -> Self {
        if let SchemaError::Newer {
            database,
            schema,
            table,
            found,
            known,
        } = &e
        {
            return Error::SchemaTooNew {
                backend: BACKEND,
                database: format!("database {database}, schema {schema} (table `{table}`)"),
                found: u64::try_from(*found).unwrap_or(u64::MAX),
                supported: u64::try_from(*known).unwrap_or(0),
            };
        }
        Error::backend(BACKEND, false, e)
    }
}

impl From<PostgresError> for Error {
    fn from(e: PostgresError) -> Self {
        let temporary = e.is_temporary();
        Error::backend(BACKEND, temporary, e)
    }
}

/// Whether a statement failed on a unique constraint.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// The constraint a database error names, if any.
pub(crate) fn constraint(e: &sqlx::Error) -> Option<&str> {
    match e {
        sqlx::Error::Database(d) => d.constraint(),
        _ => None,
    }
}

/// Maps a failed statement into the core error (serialization failures, deadlocks and lost
/// connections become temporary; a missing tenant or ticket a validation error).
pub(crate) fn db(e: sqlx::Error) -> Error {
    if let sqlx::Error::Database(d) = &e
        && d.kind() == sqlx::error::ErrorKind::ForeignKeyViolation
    {
        return Error::validation(
            "tenant_id",
            "refers to a tenant or ticket that does not exist",
        );
    }
    // PostgreSQL's text and jsonb cannot hold U+0000 (SQLite's TEXT can): a value with one
    // is the writer's input, refused like any invalid field rather than as a broken backend.
    if matches!(sqlstate(&e).as_deref(), Some("22021" | "22P05")) {
        tracing::debug!(error = %e, "value refused by PostgreSQL");
        return Error::validation(
            "text",
            "contains a NUL character (U+0000), which PostgreSQL cannot store",
        );
    }
    PostgresError::Query(e).into()
}

/// Maps a failed insert: a unique violation becomes `Duplicate { kind: Id }` for `id`.
pub(crate) fn insert_err(id: impl ToString) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| {
        if is_unique_violation(&e) {
            Error::Duplicate {
                kind: DuplicateKind::Id,
                value: id.to_string(),
            }
        } else {
            db(e)
        }
    }
}

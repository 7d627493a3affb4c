//! The backend's private error enum and its mapping into the core [`Error`].

use std::path::PathBuf;

use helpdesk_core::{BoxError, Error};

use crate::sql::Sql;

/// The backend name used in core errors.
pub(crate) const BACKEND: &str = "sqlite";

// SQLite primary result codes (the low byte of an extended code).
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_PROTOCOL: i64 = 15;

/// Everything that can go wrong in this backend. Converted into
/// [`Error::Backend`](helpdesk_core::Error::Backend) with `From`, so the chain is kept.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum SqliteError {
    /// A statement failed.
    #[error("SQLite statement failed")]
    Query(#[from] sqlx::Error),
    /// The database could not be opened or configured.
    #[error("cannot open SQLite database {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    /// The file is not writable.
    #[error("SQLite database {} is read-only; the store needs write access", path.display())]
    ReadOnly { path: PathBuf },
    /// A migration, or the move of the previous layout's tables, failed.
    #[error("cannot migrate SQLite database {} ({step})", path.display())]
    Migrate {
        path: PathBuf,
        step: String,
        #[source]
        source: sqlx::Error,
    },
    /// A stored value does not decode (the file was changed outside the store).
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

impl SqliteError {
    pub(crate) fn corrupt(column: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Corrupt {
            column,
            source: source.into(),
        }
    }

    /// Whether the same call may succeed later (the database was busy or locked, or the
    /// pool had no free connection in time).
    pub(crate) fn is_temporary(&self) -> bool {
        match self {
            Self::Query(e) | Self::Open { source: e, .. } | Self::Migrate { source: e, .. } => {
                is_temporary_sqlx(e)
            }
            _ => false,
        }
    }
}

/// The SQLite extended result code of a database error.
pub(crate) fn sqlite_code(e: &sqlx::Error) -> Option<i64> {
    match e {
        sqlx::Error::Database(db) => db.code().and_then(|c| c.parse::<i64>().ok()),
        _ => None,
    }
}

fn is_temporary_sqlx(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(_) => matches!(
            sqlite_code(e).map(|c| c & 0xff),
            Some(SQLITE_BUSY | SQLITE_LOCKED | SQLITE_PROTOCOL)
        ),
        _ => false,
    }
}

/// Why a database's schema is refused: it is not one this build can safely write to.
/// [`SqliteStore::migrate`](crate::SqliteStore::migrate) (and every constructor that
/// migrates) returns a newer schema as core's [`Error::SchemaTooNew`], like every backend,
/// and a changed migration as an [`Error::Backend`] with this as its source, which
/// [`SchemaError::of`] finds.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The database was migrated by a newer build of this crate: its migrations table
    /// records a version this build does not know. Nothing was written.
    #[error(
        "SQLite database {} has schema version {found} (table `{table}`), newer than the newest this build knows ({known}); upgrade the application",
        path.display()
    )]
    Newer {
        /// The database file.
        path: PathBuf,
        /// The migrations table that records it.
        table: String,
        /// The newest version recorded in the database.
        found: i64,
        /// The newest version this build knows ([`SqliteStore::schema_version`](crate::SqliteStore::schema_version)).
        known: i64,
    },
    /// A migration recorded as applied is not the one this build has under that version
    /// (its checksum differs): the schema was changed by something else. Nothing was
    /// written.
    #[error(
        "SQLite database {} records migration {version} with checksum {found}, but this build's migration {version} has checksum {expected}",
        path.display()
    )]
    Changed {
        /// The database file.
        path: PathBuf,
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
    /// A newer schema is core's [`Error::SchemaTooNew`], as on every backend (the file and
    /// the migrations table name the database); any other schema refusal is a permanent
    /// [`Error::Backend`] with the `SchemaError` as its source.
    fn from(e: SchemaError) -> Self {
        if let SchemaError::Newer {
            path,
            table,
            found,
            known,
        } = &e
        {
            return Error::SchemaTooNew {
                backend: BACKEND,
                database: format!("{} (table `{table}`)", path.display()),
                found: u64::try_from(*found).unwrap_or(u64::MAX),
                supported: u64::try_from(*known).unwrap_or(0),
            };
        }
        Error::backend(BACKEND, false, e)
    }
}

impl From<SqliteError> for Error {
    fn from(e: SqliteError) -> Self {
        let temporary = e.is_temporary();
        Error::backend(BACKEND, temporary, e)
    }
}

/// Maps a failed statement into the core error (BUSY/LOCKED become temporary).
pub(crate) fn db(e: sqlx::Error) -> Error {
    if let sqlx::Error::Database(d) = &e
        && d.kind() == sqlx::error::ErrorKind::ForeignKeyViolation
    {
        return Error::validation(
            "tenant_id",
            "refers to a tenant or ticket that does not exist",
        );
    }
    SqliteError::Query(e).into()
}

/// Maps a failed insert: a unique violation becomes `Duplicate { kind: Id }` for `id`.
pub(crate) fn insert_err(id: impl ToString) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| match &e {
        sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::UniqueViolation => {
            Error::Duplicate {
                kind: helpdesk_core::DuplicateKind::Id,
                value: id.to_string(),
            }
        }
        _ => db(e),
    }
}

/// Whether a failed statement is a unique violation of `index` (without the table prefix).
/// SQLite names an index over an expression in its message (`UNIQUE constraint failed:
/// index '<name>'`); it has no other field for it.
pub(crate) fn index_violated(sql: &Sql, index: &str, e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::UniqueViolation => d
            .message()
            .contains(&format!("index '{}'", sql.table(index))),
        _ => false,
    }
}

/// `Duplicate { kind: Name }` for `name`.
pub(crate) fn duplicate_name(name: &str) -> Error {
    Error::Duplicate {
        kind: helpdesk_core::DuplicateKind::Name,
        value: name.to_string(),
    }
}

/// The error of a failed insert into a table whose rows have an id and a name unique per
/// scope (`name_index`): a taken id, a taken name, or the failure itself. SQLite checks the
/// name index before the primary key, so a row repeating both would be reported as a taken
/// name; every backend reports the id first, so `id_exists` (a query of one `?`, the id)
/// looks it up. A failed statement leaves the transaction usable for that.
pub(crate) async fn refused_insert(
    sql: &Sql,
    conn: &mut sqlx::SqliteConnection,
    e: sqlx::Error,
    name_index: &str,
    id_exists: &'static str,
    id: String,
    name: &str,
) -> Error {
    if !index_violated(sql, name_index, &e) {
        // The primary key is the table's only other unique index.
        return insert_err(id)(e);
    }
    let id_taken: std::result::Result<bool, sqlx::Error> = sqlx::query_scalar(sql.text(id_exists))
        .bind(&id)
        .fetch_one(&mut *conn)
        .await;
    match id_taken {
        Ok(true) => Error::Duplicate {
            kind: helpdesk_core::DuplicateKind::Id,
            value: id,
        },
        Ok(false) => duplicate_name(name),
        Err(e) => db(e),
    }
}

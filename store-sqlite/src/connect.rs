//! Opening a database: pragmas, durability, the writability check and migrations.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use helpdesk_core::{Error, Result};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::error::{SqliteError, sqlite_code};

use crate::SqliteStore;
use crate::sql::Sql;

/// SQLite's primary result code for a write on a read-only connection.
const SQLITE_READONLY: i64 = 8;

/// How long a statement waits for another connection's write lock before failing with a
/// (temporary) busy error.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections in a pool opened by [`SqliteStore::connect`].
const MAX_CONNECTIONS: u32 = 8;

/// Bytes of the database file each connection reads through a memory map (`PRAGMA
/// mmap_size`; address space, not memory: the pages are the OS page cache, shared by all
/// connections). Reads of mapped pages skip a `pread` system call and a copy each, which
/// took a good part of the agent queue's time on a large file (`helpdesk-bench queue`).
/// This is SQLite's own ceiling on Linux (`SQLITE_MAX_MMAP_SIZE`, just under 2 GiB); the
/// part of a larger file beyond it is read as usual.
const MMAP_SIZE: u64 = 0x7fff_0000;

/// Rows a query's worker thread may buffer before it waits for the caller: above the
/// largest listing page (200 + 1 rows), so a page never stalls the worker halfway.
const ROW_BUFFER: usize = 256;

/// How much an `Ok` from a write promises to survive (SQLite's `synchronous` pragma in WAL
/// mode). Either way a crash never corrupts the database or tears a write apart: what
/// differs is whether the last acknowledged commits can be lost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durability {
    /// `synchronous = FULL`, the default: every commit is fsynced before `Ok`, so an
    /// acknowledged write survives the process being killed, an OS crash and a power cut.
    /// Each commit costs one fsync of the write-ahead log.
    #[default]
    PowerLoss,
    /// `synchronous = NORMAL`: a commit reaches the operating system before `Ok` and the
    /// log is fsynced at checkpoints. An acknowledged write survives the process being
    /// killed (the reliability suite's SIGKILL test), but an OS crash or power cut can roll
    /// back the most recent commits. Writes no longer wait for the disk; choose it when
    /// losing the last moments of work on power loss is acceptable.
    ProcessCrash,
}

impl Durability {
    /// Its name: `power-loss` or `process-crash` (what [`FromStr`] reads).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PowerLoss => "power-loss",
            Self::ProcessCrash => "process-crash",
        }
    }

    fn synchronous(self) -> SqliteSynchronous {
        match self {
            Self::PowerLoss => SqliteSynchronous::Full,
            Self::ProcessCrash => SqliteSynchronous::Normal,
        }
    }
}

impl std::fmt::Display for Durability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Durability {
    type Err = Error;

    /// Reads `power-loss` or `process-crash`; anything else is a
    /// [`Configuration`](Error::Configuration) error for `durability`.
    fn from_str(name: &str) -> Result<Self> {
        [Self::PowerLoss, Self::ProcessCrash]
            .into_iter()
            .find(|d| d.as_str() == name)
            .ok_or_else(|| Error::Configuration {
                field: "durability".into(),
                message: format!("{name:?} is not power-loss or process-crash"),
            })
    }
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at `url` (`sqlite://path/to/file.db`),
    /// with WAL journaling, foreign keys on, a busy timeout, `synchronous = FULL` (an `Ok`
    /// is on disk), and runs the embedded migrations. The tables get the default prefix
    /// `helpdesk_`; [`builder`](Self::builder) sets another.
    ///
    /// Fails with a [`Configuration`](Error::Configuration) error for a malformed URL and a
    /// [`Backend`](Error::Backend) error naming the path when the file cannot be opened, is
    /// read-only, is not a database, or was written by a newer schema version (its source
    /// is then a [`SchemaError`](crate::SchemaError)).
    pub async fn connect(url: &str) -> Result<Self> {
        Self::builder().connect(url).await
    }

    /// Opens the database file at `path` like [`connect`](Self::connect).
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::builder().open(path).await
    }

    /// Opens a database from connect options like [`connect`](Self::connect); the store's
    /// pragmas (WAL, foreign keys, busy timeout, `synchronous = FULL`, create if missing)
    /// override the ones in `options`.
    pub async fn connect_with(options: SqliteConnectOptions) -> Result<Self> {
        Self::builder().connect_with(options).await
    }

    /// Opens a database like [`connect_with`](Self::connect_with) with the given
    /// [`Durability`] instead of the default [`Durability::PowerLoss`].
    pub async fn connect_with_durability(
        options: SqliteConnectOptions,
        durability: Durability,
    ) -> Result<Self> {
        Self::builder()
            .durability(durability)
            .connect_with(options)
            .await
    }

    /// Makes a rolled-back write, so a connection SQLite opened read-only (file or
    /// directory permissions, `mode=ro`) is refused at open rather than at the first write.
    async fn check_writable(&self) -> Result<()> {
        let probe = async {
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
            // Rewriting the header's user version is a real (rolled back) write.
            let version: i64 = sqlx::query_scalar("PRAGMA user_version")
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query(&format!("PRAGMA user_version = {version}"))
                .execute(&mut *tx)
                .await?;
            tx.rollback().await
        };
        match probe.await {
            Ok(()) => Ok(()),
            Err(e) if sqlite_code(&e).is_some_and(|c| c & 0xff == SQLITE_READONLY) => {
                Err(SqliteError::ReadOnly {
                    path: self.path.clone(),
                }
                .into())
            }
            Err(source) => Err(SqliteError::Open {
                path: self.path.clone(),
                source,
            }
            .into()),
        }
    }

    /// A private in-memory database (one connection, so every call sees the same data),
    /// migrated and ready; nothing survives the store. For tests and demos.
    pub async fn in_memory() -> Result<Self> {
        Self::builder().in_memory().await
    }

    /// A store on a new database file in a new temporary directory, which is deleted when
    /// the last clone of the store is dropped. For tests: each gets its own database.
    pub async fn temporary() -> Result<Self> {
        Self::builder().temporary().await
    }

    /// Applies the embedded migrations that are not applied yet, recording them in the
    /// store's own migrations table (`helpdesk_schema_migrations` with the default
    /// prefix), never in sqlx's `_sqlx_migrations`, which stays the host's. A database of
    /// the previous layout (unprefixed tables, `_sqlx_migrations`) is first moved to the
    /// prefixed tables with its data. All of it is one transaction.
    ///
    /// Refuses, writing nothing, a database whose schema is newer than this build knows or
    /// whose applied migrations differ from this build's: the error's source is a
    /// [`SchemaError`](crate::SchemaError). [`connect`](Self::connect) calls it; call it
    /// yourself after [`new`](Self::new) on a pool you configured.
    pub async fn migrate(&self) -> Result<()> {
        crate::migrate::run(&self.pool, &self.sql, &self.path).await
    }

    /// The newest schema version this build knows.
    pub fn schema_version() -> i64 {
        crate::migrate::newest_version()
    }
}

/// Opens a pool on `options` with the store's pragmas, migrates it and checks it is
/// writable.
pub(crate) async fn open_store(
    options: SqliteConnectOptions,
    durability: Durability,
    sql: Sql,
) -> Result<SqliteStore> {
    let path = options.get_filename().to_path_buf();
    refuse_read_only(&path)?;
    let options = options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        .synchronous(durability.synchronous())
        .pragma("mmap_size", MMAP_SIZE.to_string())
        .row_buffer_size(ROW_BUFFER)
        // Keeps planner statistics fresh for the indexes (SQLite's recommended habit).
        .optimize_on_close(true, None);
    let pool = SqlitePoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        // A connection is an open file in this process, not a network session that can
        // go stale: no ping (a round trip to its worker thread) before every use.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|source| SqliteError::Open {
            path: path.clone(),
            source,
        })?;
    let store = SqliteStore::from_parts(pool, path, sql);
    store.migrate().await?;
    store.check_writable().await?;
    Ok(store)
}

/// A private in-memory database on one connection, migrated.
pub(crate) async fn open_in_memory(sql: Sql) -> Result<SqliteStore> {
    let path = PathBuf::from(":memory:");
    let options = SqliteConnectOptions::new()
        .in_memory(true)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options)
        .await
        .map_err(|source| SqliteError::Open {
            path: path.clone(),
            source,
        })?;
    let store = SqliteStore::from_parts(pool, path, sql);
    store.migrate().await?;
    Ok(store)
}

/// A store on a new file in a new temporary directory, removed with the last clone.
pub(crate) async fn open_temporary(durability: Durability, sql: Sql) -> Result<SqliteStore> {
    let dir = tempfile::Builder::new()
        .prefix("helpdesk-sqlite-")
        .tempdir()
        .map_err(|e| Error::backend(crate::error::BACKEND, false, e))?;
    let options = SqliteConnectOptions::new().filename(dir.path().join("helpdesk.db"));
    let mut store = open_store(options, durability, sql).await?;
    store.temp_dir = Some(Arc::new(dir));
    Ok(store)
}

/// A file that exists but is not writable is refused up front: SQLite would open it
/// read-only and fail at the first write instead.
fn refuse_read_only(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() && meta.permissions().readonly() => Err(SqliteError::ReadOnly {
            path: path.to_path_buf(),
        }
        .into()),
        _ => Ok(()),
    }
}

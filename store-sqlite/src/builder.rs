//! [`SqliteStoreBuilder`]: a store with a table prefix of the host's choosing.

use std::path::Path;
use std::str::FromStr;

use helpdesk_core::{Error, Result};
use sqlx::SqlitePool;
use sqlx::sqlite::SqliteConnectOptions;

use crate::connect::{open_in_memory, open_store, open_temporary};
use crate::sql::{DEFAULT_PREFIX, Sql};
use crate::{Durability, SqliteStore};

/// Builds a [`SqliteStore`] with options: the table prefix and the durability.
///
/// ```rust,no_run
/// # async fn demo(host_pool: sqlx::SqlitePool) -> helpdesk_core::Result<()> {
/// use helpdesk_store_sqlite::SqliteStore;
///
/// // In the host's own pool: tables `support_tickets`, `support_users`, ...
/// let store = SqliteStore::builder().table_prefix("support_").build(host_pool)?;
/// store.migrate().await?;
/// # Ok(())
/// # }
/// ```
///
/// The prefix is checked when the store is built: 1 to 32 characters of `a-z`, `0-9` and
/// `_`, not starting with a digit or `sqlite_`; anything else is an
/// [`Error::Configuration`] for the field `table_prefix`.
#[derive(Debug, Clone)]
pub struct SqliteStoreBuilder {
    table_prefix: String,
    durability: Durability,
}

impl Default for SqliteStoreBuilder {
    fn default() -> Self {
        Self {
            table_prefix: DEFAULT_PREFIX.to_owned(),
            durability: Durability::default(),
        }
    }
}

impl SqliteStore {
    /// A builder with the default options (prefix `helpdesk_`, [`Durability::PowerLoss`]).
    pub fn builder() -> SqliteStoreBuilder {
        SqliteStoreBuilder::default()
    }
}

impl SqliteStoreBuilder {
    /// The prefix of every table, index and trigger of the helpdesk, and of its
    /// migrations table (`<prefix>schema_migrations`). Default `helpdesk_`.
    pub fn table_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.table_prefix = prefix.into();
        self
    }

    /// What an `Ok` from a write promises to survive, for the stores this builder opens
    /// (not for [`build`](Self::build), whose pool is configured by the host). Default
    /// [`Durability::PowerLoss`].
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    fn sql(&self) -> Result<Sql> {
        Sql::new(&self.table_prefix)
    }

    /// A store on the host's pool, like [`SqliteStore::new`]; migrations are not run:
    /// call [`migrate`](SqliteStore::migrate).
    pub fn build(self, pool: SqlitePool) -> Result<SqliteStore> {
        let sql = self.sql()?;
        let path = pool.connect_options().get_filename().to_path_buf();
        Ok(SqliteStore::from_parts(pool, path, sql))
    }

    /// Opens the database at `url` like [`SqliteStore::connect`].
    pub async fn connect(self, url: &str) -> Result<SqliteStore> {
        let sql = self.sql()?;
        let options = SqliteConnectOptions::from_str(url).map_err(|e| Error::Configuration {
            field: "url".into(),
            message: format!("not a SQLite URL: {e}"),
        })?;
        open_store(options, self.durability, sql).await
    }

    /// Opens the database file at `path` like [`SqliteStore::open`].
    pub async fn open(self, path: impl AsRef<Path>) -> Result<SqliteStore> {
        let sql = self.sql()?;
        let options = SqliteConnectOptions::new().filename(path.as_ref());
        open_store(options, self.durability, sql).await
    }

    /// Opens a database from connect options like [`SqliteStore::connect_with`].
    pub async fn connect_with(self, options: SqliteConnectOptions) -> Result<SqliteStore> {
        let sql = self.sql()?;
        open_store(options, self.durability, sql).await
    }

    /// A store on a new temporary file like [`SqliteStore::temporary`].
    pub async fn temporary(self) -> Result<SqliteStore> {
        let sql = self.sql()?;
        open_temporary(self.durability, sql).await
    }

    /// A private in-memory store like [`SqliteStore::in_memory`].
    pub async fn in_memory(self) -> Result<SqliteStore> {
        let sql = self.sql()?;
        open_in_memory(sql).await
    }
}

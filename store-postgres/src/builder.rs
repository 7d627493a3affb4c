//! [`PostgresStoreBuilder`]: a store in a schema of the host's choosing.

use std::str::FromStr;
use std::time::Duration;

use helpdesk_core::{Error, Result};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::PostgresStore;
use crate::error::PostgresError;
use crate::sql::{DEFAULT_SCHEMA, Sql};

/// Connections in a pool opened by [`PostgresStore::connect`] unless the builder sets
/// another number.
const MAX_CONNECTIONS: u32 = 10;

/// How long [`PostgresStore::connect`] (and every later call) waits for a connection of its
/// pool, sqlx's default.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds a [`PostgresStore`] with options: the schema and the size of its own pool.
///
/// ```rust,no_run
/// # async fn demo(host_pool: sqlx::PgPool) -> helpdesk_core::Result<()> {
/// use helpdesk_store_postgres::PostgresStore;
///
/// // In the host's own pool: tables `support.tickets`, `support.users`, ...
/// let store = PostgresStore::builder().schema("support").build(host_pool)?;
/// store.migrate().await?;
/// # Ok(())
/// # }
/// ```
///
/// The schema name is checked when the store is built: 1 to 63 characters of `a-z`, `0-9`
/// and `_`, not starting with a digit or `pg_`, not `public`; anything else is an
/// [`Error::Configuration`] for the field `schema`.
#[derive(Debug, Clone)]
pub struct PostgresStoreBuilder {
    schema: String,
    max_connections: u32,
    acquire_timeout: Duration,
    test_before_acquire: bool,
}

impl Default for PostgresStoreBuilder {
    fn default() -> Self {
        Self {
            schema: DEFAULT_SCHEMA.to_owned(),
            max_connections: MAX_CONNECTIONS,
            acquire_timeout: ACQUIRE_TIMEOUT,
            test_before_acquire: false,
        }
    }
}

impl PostgresStore {
    /// A builder with the default options (schema `helpdesk`, 10 connections).
    pub fn builder() -> PostgresStoreBuilder {
        PostgresStoreBuilder::default()
    }
}

impl PostgresStoreBuilder {
    /// The schema of every table and index of the helpdesk, and of its migrations table
    /// (`<schema>.schema_migrations`). Default `helpdesk`.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// The size of the pool [`connect`](Self::connect) opens (not of a host's pool given
    /// to [`build`](Self::build)). Default 10.
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How long the pool [`connect`](Self::connect) opens waits for a connection (the
    /// first one included: an unreachable server fails after this long). Default 30 s.
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Whether the pool [`connect`](Self::connect) opens pings a connection each time it
    /// hands it out (what sqlx does unless told otherwise). Default `false`: intake takes three connections from
    /// the pool in turn, and a ping is one more round trip each time. Without it a
    /// connection the server closed (a restart) fails its next statement with a temporary
    /// error, which the service's retry or the caller handles, and the pool replaces it.
    pub fn test_before_acquire(mut self, test: bool) -> Self {
        self.test_before_acquire = test;
        self
    }

    /// A store on the host's pool, like [`PostgresStore::new`]; migrations are not run:
    /// call [`migrate`](PostgresStore::migrate).
    pub fn build(self, pool: PgPool) -> Result<PostgresStore> {
        let sql = Sql::new(&self.schema)?;
        Ok(PostgresStore { pool, sql })
    }

    /// Connects to `url` with a pool of its own and migrates, like
    /// [`PostgresStore::connect`].
    pub async fn connect(self, url: &str) -> Result<PostgresStore> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(Error::Configuration {
                field: "url".into(),
                message: "not a PostgreSQL URL (postgres://...)".into(),
            });
        }
        let options = PgConnectOptions::from_str(url).map_err(|e| Error::Configuration {
            field: "url".into(),
            message: format!("not a PostgreSQL URL: {e}"),
        })?;
        self.connect_with(options).await
    }

    /// Connects with these options and migrates, like [`PostgresStore::connect`].
    pub async fn connect_with(self, options: PgConnectOptions) -> Result<PostgresStore> {
        let sql = Sql::new(&self.schema)?;
        // Names the server without the password, which the options never print.
        let target = format!(
            "{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or("(default database)")
        );
        let pool = PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.acquire_timeout)
            .test_before_acquire(self.test_before_acquire)
            .connect_with(options)
            .await
            .map_err(|source| PostgresError::Connect { target, source })?;
        let store = PostgresStore { pool, sql };
        store.migrate().await?;
        Ok(store)
    }
}

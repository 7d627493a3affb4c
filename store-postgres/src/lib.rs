#![doc = include_str!("../README.md")]

mod analytics;
mod api_keys;
mod articles;
mod attachments;
mod audit;
mod builder;
mod canned;
mod chat;
mod codec;
mod commits;
mod erasure;
mod error;
mod fields;
mod kb_index;
mod leases;
mod listing;
mod migrate;
mod model_usage;
mod outbox;
mod people;
mod plans;
mod quarantine;
mod routing;
mod search;
mod search_index;
mod sql;
mod ticket_append;
mod ticket_row;
mod ticket_update;
mod tickets;
mod triage_models;
mod views;
mod webhooks;

use helpdesk_core::Store;
use helpdesk_core::domain::{ChatSession, Tenant, Ticket, User};
use helpdesk_core::store::{RoutingStaff, WeakCommitSignal};
use helpdesk_core::{ChatSessionId, Error, Result, TenantId, UserId};
use sqlx::{PgPool, Postgres, Transaction};

pub use builder::PostgresStoreBuilder;
pub use error::SchemaError;
pub use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::error::db;
use crate::sql::Sql;

/// The PostgreSQL implementation of the helpdesk store contract.
///
/// Cheap to clone (the pool is a shared handle). See the [crate docs](crate) for the
/// schema, the guarantees and the error mapping.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// The schema and the statements written for it.
    sql: Sql,
}

impl PostgresStore {
    /// Wraps the host's pool, with the default schema `helpdesk`
    /// ([`builder`](Self::builder) names another). Migrations are not run: call
    /// [`migrate`](Self::migrate).
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            sql: Sql::default(),
        }
    }

    /// Connects to the database at `url` (`postgres://user@host:port/database`) with a pool
    /// of its own and runs the migrations, in the default schema `helpdesk`.
    ///
    /// Fails with a temporary [`Backend`](Error::Backend) error when the server cannot be
    /// reached, a [`Configuration`](Error::Configuration) error for a malformed URL, and
    /// [`Error::SchemaTooNew`] when a newer build migrated the schema.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::builder().connect(url).await
    }

    /// The schema of the store's tables (`helpdesk` unless the builder named another).
    pub fn schema(&self) -> &str {
        self.sql.schema()
    }

    /// The qualified name of one of the store's tables: `table_name("tickets")` is
    /// `"helpdesk".tickets` with the default schema. For hosts and tools that read or fill
    /// the tables directly (the benchmarks do).
    pub fn table_name(&self, table: &str) -> String {
        self.sql.table(table)
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The newest schema version this build knows (what [`migrate`](Self::migrate) brings
    /// the schema to).
    pub fn schema_version() -> i64 {
        migrate::newest_version()
    }

    /// Creates the schema if missing and applies the pending migrations, in one
    /// transaction under an advisory lock (two instances starting together apply them
    /// once). A schema migrated by a newer build is refused with [`Error::SchemaTooNew`]
    /// and nothing is written. Upgrading to migration 8 indexes the texts already stored
    /// for full-text search, in the same transaction. Adds the trigram indexes of the text
    /// filter and of the requester search when the `pg_trgm` extension is available (see
    /// the crate docs).
    pub async fn migrate(&self) -> Result<()> {
        let trigram = migrate::run(&self.pool, &self.sql).await?;
        if !trigram {
            tracing::info!(
                schema = self.sql.schema(),
                "no pg_trgm: the ticket text filter and the requester search read without a trigram index"
            );
        }
        Ok(())
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a transaction (READ COMMITTED: every check of a version or a uniqueness is
    /// made by the statement that writes, or under the row lock it takes).
    async fn tx(&self) -> Result<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(db)
    }
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    fn backend_name(&self) -> &'static str {
        error::BACKEND
    }

    /// One statement: the active staff with a correlated count over the
    /// `tickets_open_by_assignee` index.
    async fn routing_staff(&self, tenant: TenantId) -> Result<Vec<RoutingStaff>> {
        people::routing_staff(&self.sql, &self.pool, tenant).await
    }

    /// `LISTEN`s on the store's channel with a connection of the pool, held while the
    /// helpdesk lives: every ticket write of any instance notifies it when it commits (see
    /// the crate docs, "Several instances").
    async fn relay_commits(&self, signal: WeakCommitSignal) -> Result<bool> {
        commits::relay(&self.pool, &self.sql, signal).await?;
        Ok(true)
    }

    /// One statement: the session left-joined with its ticket.
    async fn chat_session_with_ticket(
        &self,
        tenant: TenantId,
        id: ChatSessionId,
    ) -> Result<Option<(ChatSession, Option<Ticket>)>> {
        chat::chat_session_with_ticket(&self.sql, &self.pool, tenant, id).await
    }

    /// One statement: the user joined with its tenant.
    async fn user_with_tenant(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Option<(Tenant, User)>> {
        people::user_with_tenant(&self.sql, &self.pool, tenant, user).await
    }
}

/// Commits a transaction.
async fn commit(tx: Transaction<'static, Postgres>) -> Result<()> {
    tx.commit().await.map_err(db)
}

/// A missing row of a versioned entity: `Conflict` when it exists with another version,
/// `NotFound` when it does not exist in the tenant.
fn conflict_or_missing(exists: bool, entity: &'static str, id: String, expected: u64) -> Error {
    if exists {
        Error::Conflict {
            entity,
            id,
            expected,
        }
    } else {
        Error::NotFound { entity, id }
    }
}

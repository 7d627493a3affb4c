//! Set-up of the PostgreSQL variants: a database of their own per store on the server named
//! by `HELPDESK_POSTGRES_URL`, dropped afterwards.
//!
//! A database, not a schema, per store: the store installs `pg_trgm` into the schema of
//! the first store that migrates a database, so dropping one store's schema could take the
//! extension (and the trigram indexes of every other schema) with it.
#![allow(dead_code, unreachable_pub)]

use std::str::FromStr;

use helpdesk_store_postgres::{PgConnectOptions, PgPoolOptions, PostgresStore};
use sqlx::Connection;

/// The server URL (of a database the tests may connect to, such as `postgres`).
pub fn server_url() -> String {
    let Ok(url) = std::env::var("HELPDESK_POSTGRES_URL") else {
        panic!(
            "HELPDESK_POSTGRES_URL was set at build time but is not set now: the PostgreSQL \
             variant cannot run"
        );
    };
    url
}

/// A PostgreSQL database made for one store, named `hde2e_<uuid v7>`.
pub struct Database {
    /// The database's name.
    pub name: String,
}

impl Database {
    /// Creates a new, empty database.
    pub async fn create() -> Self {
        let name = format!("hde2e_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::PgConnection::connect(&server_url()).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .unwrap();
        Self { name }
    }

    /// A migrated store (default schema) on the database, with a pool of its own.
    pub async fn store(&self) -> PostgresStore {
        let options = PgConnectOptions::from_str(&server_url())
            .unwrap()
            .database(&self.name);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .unwrap();
        let store = PostgresStore::new(pool);
        store.migrate().await.unwrap();
        store
    }

    /// Closes `store`'s pool and drops the database.
    pub async fn drop_with(self, store: PostgresStore) {
        store.close().await;
        let mut conn = sqlx::PgConnection::connect(&server_url()).await.unwrap();
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    }
}

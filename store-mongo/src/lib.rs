#![doc = include_str!("../README.md")]

mod accounts;
mod api_keys;
mod articles;
mod attachments;
mod audit;
mod canned;
mod chat;
mod codec;
mod error;
mod fields;
mod kb_index;
mod mapping;
mod model_usage;
mod options;
mod outbox;
mod quarantine;
mod reindex;
mod schema;
mod search;
mod store;
mod tickets;
mod transaction;
mod triage_models;
mod upgrade;
mod views;
mod webhooks;

pub use options::{DEFAULT_COLLECTION_PREFIX, MongoStoreOptions};
pub use store::MongoStore;
pub use upgrade::SCHEMA_VERSION;

/// The driver crates this store is built on, for hosts that build their own
/// [`Database`](mongodb::Database) handle with matching versions.
pub use {bson, mongodb};

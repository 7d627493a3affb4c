//! The contract: what the engine is made of and what every backend and provider
//! implements. Domain types, ids, errors and the clock; the store traits with the write
//! they commit ([`store::TicketWrite`]); the provider traits for language models
//! ([`llm`]), embeddings and knowledge bases ([`kb`]) and notifications ([`notify`]).
//! The classifier and router traits live beside their standard strategies in
//! [`crate::policy`].
//!
//! Every module is re-exported at the crate root (`helpdesk_core::domain`,
//! `helpdesk_core::store`, ...), which is where hosts name them.

pub mod blob;
pub mod clock;
pub mod domain;
pub(crate) mod error;
pub(crate) mod ids;
pub mod kb;
pub mod llm;
mod llm_usage;
pub mod notify;
pub mod store;

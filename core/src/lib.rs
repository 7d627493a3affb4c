#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod ai;
pub mod analytics;
pub mod auth;
pub mod clock;
pub mod domain;
mod error;
mod ids;
pub mod kb;
pub mod lifecycle;
pub mod llm;
pub mod notify;
pub mod roles;
pub mod routing;
pub mod service;
pub mod sla;
pub mod store;
#[cfg(feature = "test-kit")]
pub mod testkit;
pub mod triage;
pub mod validate;

pub use clock::{Clock, SystemClock};
pub use error::{BlockReason, BoxError, DuplicateKind, Error, ModelError, Result, StateError};
pub use ids::{
    ArticleId, AuditEventId, ChatSessionId, EventId, MessageId, OutboxId, TenantId, TicketId,
    UserId,
};
pub use kb::{EmbedKind, Embedder, KnowledgeBase, ScoredChunk};
pub use llm::{
    DeltaStream, FinishReason, LanguageModel, LlmRequest, LlmResponse, StreamDelta, TokenUsage,
    Turn, TurnRole,
};
pub use notify::Notifier;
pub use routing::Router;
pub use service::{Helpdesk, HelpdeskBuilder};
pub use store::{DynStore, Store};
pub use triage::Classifier;

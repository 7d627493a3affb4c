#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod ai;
mod blob_fs;
#[cfg(feature = "object-store")]
mod blob_object_store;
pub mod contract;
mod memory;
pub mod policy;
pub mod service;
#[cfg(feature = "test-kit")]
pub mod testkit;

pub use contract::{blob, clock, domain, kb, llm, notify, store};
pub use policy::{
    analytics, auth, automation, erasure, fields, lifecycle, roles, routing, sla, teams, triage,
    validate,
};

pub use clock::{Clock, SystemClock};
pub use contract::error::{
    BlockReason, BoxError, DuplicateKind, Error, ModelError, Result, StateError,
};
pub use contract::ids::{
    ApiKeyId, ArticleId, AttachmentId, AuditEventId, CannedResponseId, ChatSessionId, EventId,
    MessageId, OutboxId, QuarantineId, SavedViewId, TenantId, TicketId, UserId, WebhookId,
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

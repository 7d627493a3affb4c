//! AI use-cases: LLM triage, prompts, drafts and the grounded chatbot.
//!
//! * [`LlmClassifier`]: a [`Classifier`](crate::triage::Classifier) that asks a language
//!   model for a triage with a JSON schema built from the tenant's own vocabularies.
//! * [`prompts`]: plain functions that build every [`LlmRequest`](crate::LlmRequest) the
//!   service sends. System texts are fixed; untrusted text (tickets, chat, knowledge base)
//!   only ever appears inside delimited blocks in user turns.
//! * [`schema`]: the JSON schemas the model must answer with; allowed values come only
//!   from the tenant's settings.
//! * [`grounding`]: the rule that decides whether a chatbot answer may be sent.
//! * The types returned by the copilot and chatbot use-cases on
//!   [`Helpdesk`](crate::Helpdesk): [`DraftDecision`], [`DraftOutcome`], [`TicketSummary`],
//!   [`ChatTurnOutcome`], [`ChatSweepReport`].
//! * A circuit breaker around the configured model ([`AiStatus`], [`DegradedReason`]):
//!   after repeated temporary failures every use-case takes its offline path at once.

pub(crate) mod breaker;
pub(crate) mod canned_match;
mod chain;
mod classifier;
pub mod grounding;
pub(crate) mod offline;
pub(crate) mod output;
pub mod prompts;
pub mod schema;
mod types;
mod watched_stream;

pub use breaker::{AiStatus, DegradedReason};
pub use chain::{ModelChain, stands_in_for};
pub use classifier::LlmClassifier;
pub use types::{
    ChatReply, ChatSweepReport, ChatTurnOutcome, DraftDecision, DraftOutcome, SummarySource,
    TicketSummary,
};

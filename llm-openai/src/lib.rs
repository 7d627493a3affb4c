#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod chat;
mod client;
mod embed;
mod error;
#[cfg(feature = "mock-server")]
pub mod mock;
mod options;
pub mod schema;
mod stream;
mod transport;

/// Retry policy and sleepers, shared by every provider (see [`helpdesk_llm_http::retry`]).
pub mod retry {
    pub use helpdesk_llm_http::retry::{RecordingSleeper, RetryPolicy, Sleeper, TokioSleeper};
}

pub use builder::{
    API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL, DEFAULT_MODEL, DEFAULT_TIMEOUT, MODEL_ENV,
    OpenAiClientBuilder,
};
pub use client::OpenAiClient;
pub use embed::{DEFAULT_EMBED_BATCH, DEFAULT_EMBEDDING_MODEL, OpenAiEmbedder};
pub use error::ApiError;
pub use options::{StructuredOutput, TokenLimitField};
pub use retry::{RecordingSleeper, RetryPolicy, Sleeper, TokioSleeper};

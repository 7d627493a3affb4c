#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod client;
mod embed;
mod error;
mod generate;
#[cfg(feature = "mock-server")]
pub mod mock;
pub mod options;
pub mod record;
pub mod schema;
mod stream;
pub mod transport;
mod wire;

/// Retry policy and sleepers, shared by every provider (see [`helpdesk_llm_http::retry`]).
pub mod retry {
    pub use helpdesk_llm_http::retry::{RecordingSleeper, RetryPolicy, Sleeper, TokioSleeper};
}

pub use builder::{
    API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL, DEFAULT_MODEL, DEFAULT_TIMEOUT,
    GeminiClientBuilder,
};
pub use client::GeminiClient;
pub use embed::{DEFAULT_EMBEDDING_MODEL, GeminiEmbedder, MAX_EMBED_BATCH};
pub use error::ApiError;
pub use options::{
    HarmBlockThreshold, HarmCategory, SafetySetting, TaskType, ThinkingConfig, ThinkingLevel,
};
pub use record::{Recorder, Replayer};
pub use retry::{RecordingSleeper, RetryPolicy, Sleeper, TokioSleeper};

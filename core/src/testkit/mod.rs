//! Test kit for host apps and backends (feature `test-kit`).
//!
//! * [`MockLanguageModel`]: replays scripted turns (answers, errors, delays), records every
//!   request, and fails clearly when the script runs out.
//! * [`FakeEmbedder`]: deterministic bag-of-words vectors, so similar texts are close.
//! * [`ManualClock`]: time that moves only when a test moves it.
//! * [`InMemoryKnowledgeBase`]: exact cosine search over paragraph chunks, per tenant.
//! * [`conformance`] and [`store_conformance_tests!`](crate::store_conformance_tests): the
//!   storage conformance suite every backend runs.
//! * [`fixtures`]: builders for tenants, users and tickets used by the suite.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod blobs;
mod clock;
pub mod conformance;
mod counting;
mod embedder;
pub mod fixtures;
mod knowledge_base;
pub mod llm_conformance;
mod mock_llm;

pub use blobs::{MemoryBlobStore, blob_store_conformance};
pub use clock::ManualClock;
pub use counting::{CountingStore, StoreCost};
pub use embedder::{FakeEmbedder, SlowEmbedder};
pub use knowledge_base::InMemoryKnowledgeBase;
pub use mock_llm::{MockLanguageModel, MockTurn, ScriptExhausted};

//! A scriptable mock Gemini HTTP server speaking the real wire format (feature
//! `mock-server`), for this crate's tests and host apps' end-to-end tests.
//!
//! * Validates like the real API where the spec says so: missing key → 403, bad key → 400
//!   `API_KEY_INVALID`, unknown model → 404, unknown body fields or schema keywords → 400,
//!   more than 100 embedding requests → 400 with the real message, an input over the
//!   model's token limit ([`MockGemini::set_input_token_limit`]) → 400 with the real
//!   message.
//! * Scripted per test: queues of [`MockReply`] (generateContent, batchEmbedContents) and
//!   [`MockStream`] (streamGenerateContent); when a queue is empty a default answer is served
//!   (a text, a JSON value built from the requested schema, deterministic embeddings).
//! * Observable: counts per [`Endpoint`] and every [`ReceivedRequest`] (body, key header,
//!   whether the key was in the URL).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use helpdesk_core::{LanguageModel, LlmRequest};
//! use helpdesk_llm_gemini::mock::{Endpoint, MockGemini, MockReply};
//!
//! let mock = MockGemini::start().await?;
//! mock.push_reply(MockReply::unavailable());
//! mock.push_reply(MockReply::Text("Hello".into()));
//! let client = mock.client_builder().build()?;
//! let answer = client.generate(&LlmRequest::new("Be brief.", "Hi")).await?;
//! assert_eq!(answer.text, "Hello");
//! assert_eq!(mock.count(Endpoint::GenerateContent), 2);
//! # Ok(()) }
//! ```

mod script;
mod server;
mod validate;

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub(crate) use helpdesk_llm_http::mock::lock;
use helpdesk_llm_http::mock::{Served, test_http_client};
pub use script::{MockReply, MockStream};

use crate::builder::GeminiClientBuilder;
use crate::retry::RetryPolicy;

/// The key the mock accepts.
pub const MOCK_API_KEY: &str = "mock-gemini-key";

/// Model ids the mock knows from the start (others get a 404 unless added with
/// [`MockGemini::add_model`]).
pub const MOCK_MODELS: &[&str] = &[
    crate::DEFAULT_MODEL,
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-2.5-pro",
    "gemini-3-flash-preview",
    "gemini-3.1-pro-preview",
    "gemini-3.5-flash",
    crate::DEFAULT_EMBEDDING_MODEL,
    "gemini-embedding-2",
];

/// The input token limit of the mock's models from the start: the real models' 1,048,576
/// (tokens estimated as 4 characters each).
pub const MOCK_INPUT_TOKEN_LIMIT: usize = 1_048_576;

/// An API method the mock serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `:generateContent`.
    GenerateContent,
    /// `:streamGenerateContent`.
    StreamGenerateContent,
    /// `:batchEmbedContents`.
    BatchEmbedContents,
    /// `:embedContent`.
    EmbedContent,
    /// Anything else (answered 404).
    Other,
}

/// A request the mock received.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedRequest {
    /// Which method.
    pub endpoint: Endpoint,
    /// The model id from the path.
    pub model: String,
    /// Path and query as received.
    pub path_and_query: String,
    /// The `x-goog-api-key` header, if sent.
    pub api_key_header: Option<String>,
    /// Whether a `key=` query parameter was sent (it should never be).
    pub key_in_query: bool,
    /// The JSON body (`Null` when it was not JSON).
    pub body: serde_json::Value,
    /// The status the mock answered with.
    pub status: u16,
}

#[derive(Debug)]
pub(crate) struct MockState {
    pub(crate) models: HashSet<String>,
    pub(crate) input_token_limit: usize,
    pub(crate) generate: VecDeque<MockReply>,
    pub(crate) streams: VecDeque<MockStream>,
    pub(crate) embeds: VecDeque<MockReply>,
    pub(crate) requests: Vec<ReceivedRequest>,
    pub(crate) counts: HashMap<Endpoint, usize>,
}

impl Default for MockState {
    fn default() -> Self {
        Self {
            models: MOCK_MODELS.iter().map(|m| (*m).to_owned()).collect(),
            input_token_limit: MOCK_INPUT_TOKEN_LIMIT,
            generate: VecDeque::new(),
            streams: VecDeque::new(),
            embeds: VecDeque::new(),
            requests: Vec::new(),
            counts: HashMap::new(),
        }
    }
}

pub(crate) type SharedState = Arc<Mutex<MockState>>;

/// A running mock server; stopped when dropped.
#[derive(Debug)]
pub struct MockGemini {
    served: Served,
    base_url: String,
    state: SharedState,
}

impl MockGemini {
    /// Binds `127.0.0.1` on a free port and serves on the current tokio runtime.
    pub async fn start() -> std::io::Result<Self> {
        let state = SharedState::default();
        let served = Served::start(server::router(state.clone()), "mock gemini").await?;
        Ok(Self {
            base_url: format!("http://{}", served.addr()),
            served,
            state,
        })
    }

    /// The base URL to give the client (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.served.addr()
    }

    /// The key the mock accepts ([`MOCK_API_KEY`]).
    pub fn api_key(&self) -> &'static str {
        MOCK_API_KEY
    }

    /// A client builder pointed at this mock with its key, no retry jitter, and an HTTP
    /// client without pool timers (so a paused tokio clock only moves for retry waits).
    pub fn client_builder(&self) -> GeminiClientBuilder {
        GeminiClientBuilder::new()
            .api_key(MOCK_API_KEY)
            .base_url(self.base_url.clone())
            .http_client(test_http_client())
            .retry_policy(RetryPolicy::default().with_jitter(0.0))
    }

    /// Makes `model` known.
    pub fn add_model(&self, model: impl Into<String>) {
        lock(&self.state).models.insert(model.into());
    }

    /// The input token limit of every model (tokens estimated as 4 characters each, of
    /// the system instruction and every content part); a longer prompt is answered 400
    /// `INVALID_ARGUMENT` with the real API's message (default
    /// [`MOCK_INPUT_TOKEN_LIMIT`]).
    pub fn set_input_token_limit(&self, tokens: usize) {
        lock(&self.state).input_token_limit = tokens;
    }

    /// Queues a generateContent reply.
    pub fn push_reply(&self, reply: MockReply) {
        lock(&self.state).generate.push_back(reply);
    }

    /// Queues a streamGenerateContent reply.
    pub fn push_stream(&self, reply: MockStream) {
        lock(&self.state).streams.push_back(reply);
    }

    /// Queues a batchEmbedContents reply (errors, bodies and delays are served as given;
    /// answer variants serve the default embeddings).
    pub fn push_embed(&self, reply: MockReply) {
        lock(&self.state).embeds.push_back(reply);
    }

    /// Scripted replies not served yet (generate, stream, embed).
    pub fn pending(&self) -> (usize, usize, usize) {
        let state = lock(&self.state);
        (
            state.generate.len(),
            state.streams.len(),
            state.embeds.len(),
        )
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        lock(&self.state).requests.clone()
    }

    /// The last request received.
    pub fn last_request(&self) -> Option<ReceivedRequest> {
        lock(&self.state).requests.last().cloned()
    }

    /// How many requests reached `endpoint` (rejected ones included).
    pub fn count(&self, endpoint: Endpoint) -> usize {
        lock(&self.state)
            .counts
            .get(&endpoint)
            .copied()
            .unwrap_or(0)
    }
}

//! A scriptable mock OpenAI-compatible HTTP server speaking the real wire format (feature
//! `mock-server`), for this crate's tests and host apps' end-to-end tests.
//!
//! * Validates like OpenAI where its documentation and error messages say so: no key →
//!   401, wrong key → 401 `invalid_api_key`, unknown model → 404 `model_not_found`,
//!   unknown body fields → 400, `json_object` without the word "json" in the messages →
//!   400, a `strict` schema that is not closed → 400, a prompt over the context window →
//!   400 `context_length_exceeded`, `stream_options` without `stream` → 400, more than 2048
//!   embedding inputs → 400. [`MockOpenAi::set_json_schema_supported`] makes it refuse
//!   `json_schema` like a server without structured outputs.
//! * Honours `max_tokens` / `max_completion_tokens`: a default answer longer than the cap
//!   (in words) is cut and finishes with `length`.
//! * Scripted per test: queues of [`MockReply`] (chat completions, embeddings) and
//!   [`MockStream`] (streamed chat completions); when a queue is empty a default answer is
//!   served (a text, a JSON value built from the requested schema, deterministic vectors).
//! * Observable: counts per [`Endpoint`] and every [`ReceivedRequest`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use helpdesk_core::{LanguageModel, LlmRequest};
//! use helpdesk_llm_openai::mock::{Endpoint, MockOpenAi, MockReply};
//!
//! let mock = MockOpenAi::start().await?;
//! mock.push_reply(MockReply::rate_limited(Some(Duration::from_millis(20))));
//! mock.push_reply(MockReply::Text("Hello".into()));
//! let client = mock.client_builder().build()?;
//! let answer = client.generate(&LlmRequest::new("Be brief.", "Hi")).await?;
//! assert_eq!(answer.text, "Hello");
//! assert_eq!(mock.count(Endpoint::ChatCompletions), 2);
//! # Ok(()) }
//! ```

mod defaults;
mod script;
mod server;
mod validate;

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub(crate) use helpdesk_llm_http::mock::lock;
use helpdesk_llm_http::mock::{Served, test_http_client};
pub use script::{MockReply, MockStream};

use crate::builder::OpenAiClientBuilder;
use crate::retry::RetryPolicy;

/// The key the mock accepts (as `Authorization: Bearer …` or Azure's `api-key`).
pub const MOCK_API_KEY: &str = "sk-mock-openai-key";

/// Chat models the mock knows from the start (others get a 404 unless added with
/// [`MockOpenAi::add_model`]).
pub const MOCK_MODELS: &[&str] = &[crate::DEFAULT_MODEL, "gpt-4o", "gpt-4.1-mini", "o4-mini"];

/// Embedding models the mock knows, with their default dimensions.
pub const MOCK_EMBEDDING_MODELS: &[(&str, usize)] = &[
    (crate::DEFAULT_EMBEDDING_MODEL, 1536),
    ("text-embedding-3-large", 3072),
    ("text-embedding-ada-002", 1536),
];

/// The default context window of the mock's chat models, in (estimated) tokens.
pub const MOCK_CONTEXT_WINDOW: usize = 16_384;

/// An endpoint the mock serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `POST /v1/chat/completions`.
    ChatCompletions,
    /// `POST /v1/embeddings`.
    Embeddings,
    /// `GET /v1/models`.
    Models,
    /// Anything else (answered 404).
    Other,
}

/// A request the mock received.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedRequest {
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// Path and query as received.
    pub path_and_query: String,
    /// Every header (lower-case names), in order.
    pub headers: Vec<(String, String)>,
    /// The JSON body (`Null` when it was not JSON).
    pub body: serde_json::Value,
    /// The status the mock answered with.
    pub status: u16,
}

impl ReceivedRequest {
    /// The value of header `name` (lower case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug)]
pub(crate) struct MockState {
    pub(crate) models: HashSet<String>,
    pub(crate) require_key: bool,
    pub(crate) json_schema_supported: bool,
    pub(crate) context_window: usize,
    pub(crate) chat: VecDeque<MockReply>,
    pub(crate) streams: VecDeque<MockStream>,
    pub(crate) embeds: VecDeque<MockReply>,
    pub(crate) requests: Vec<ReceivedRequest>,
    pub(crate) counts: HashMap<Endpoint, usize>,
}

impl Default for MockState {
    fn default() -> Self {
        Self {
            models: MOCK_MODELS.iter().map(|m| (*m).to_owned()).collect(),
            require_key: true,
            json_schema_supported: true,
            context_window: MOCK_CONTEXT_WINDOW,
            chat: VecDeque::new(),
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
pub struct MockOpenAi {
    served: Served,
    base_url: String,
    state: SharedState,
}

impl MockOpenAi {
    /// Binds `127.0.0.1` on a free port and serves on the current tokio runtime.
    pub async fn start() -> std::io::Result<Self> {
        let state = SharedState::default();
        let served = Served::start(server::router(state.clone()), "mock openai").await?;
        Ok(Self {
            base_url: format!("http://{}/v1", served.addr()),
            served,
            state,
        })
    }

    /// The base URL to give the client (`http://127.0.0.1:PORT/v1`).
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

    /// A client builder pointed at this mock with its key and [`crate::DEFAULT_MODEL`], no
    /// retry jitter, and an HTTP client without pool timers (so a paused tokio clock only
    /// moves for retry waits).
    pub fn client_builder(&self) -> OpenAiClientBuilder {
        OpenAiClientBuilder::new()
            .api_key(MOCK_API_KEY)
            .base_url(self.base_url.clone())
            .http_client(test_http_client())
            .retry_policy(RetryPolicy::default().with_jitter(0.0))
    }

    /// Makes chat model `model` known.
    pub fn add_model(&self, model: impl Into<String>) {
        lock(&self.state).models.insert(model.into());
    }

    /// Whether a key is required (default `true`; `false` is a local server without auth).
    pub fn set_require_key(&self, require: bool) {
        lock(&self.state).require_key = require;
    }

    /// Whether `response_format` of type `json_schema` is accepted (default `true`); when
    /// not, it is answered 400 as OpenAI answers it for models without structured outputs.
    pub fn set_json_schema_supported(&self, supported: bool) {
        lock(&self.state).json_schema_supported = supported;
    }

    /// The context window in estimated tokens (4 characters each).
    pub fn set_context_window(&self, tokens: usize) {
        lock(&self.state).context_window = tokens;
    }

    /// Queues a chat completion reply (non-streamed calls).
    pub fn push_reply(&self, reply: MockReply) {
        lock(&self.state).chat.push_back(reply);
    }

    /// Queues a streamed chat completion reply.
    pub fn push_stream(&self, reply: MockStream) {
        lock(&self.state).streams.push_back(reply);
    }

    /// Queues an embeddings reply (errors, raw bodies and delays are served as given;
    /// answer variants serve the default vectors).
    pub fn push_embed(&self, reply: MockReply) {
        lock(&self.state).embeds.push_back(reply);
    }

    /// Scripted replies not served yet (chat, stream, embeddings).
    pub fn pending(&self) -> (usize, usize, usize) {
        let state = lock(&self.state);
        (state.chat.len(), state.streams.len(), state.embeds.len())
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

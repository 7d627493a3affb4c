//! Per-client options of the chat request.

/// How a request's JSON schema (`LlmRequest::json_schema`) is asked for. Whichever mode is
/// used, the answer is checked against the schema and one that does not match is
/// `ModelError::MalformedOutput`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StructuredOutput {
    /// `response_format: {type: json_schema, …}` first; when the server answers 400 saying
    /// that `response_format`/`json_schema` is not supported, the same call is sent again
    /// as [`JsonObject`](Self::JsonObject), and so is every later call of this client.
    #[default]
    Auto,
    /// Always `response_format: {type: json_schema, json_schema: {name, schema, strict}}`
    /// (OpenAI, Azure, vLLM, recent Ollama and llama.cpp servers).
    JsonSchema,
    /// The fallback: `response_format: {type: json_object}` (JSON mode) with the schema
    /// written into the system prompt, for servers without schema support.
    JsonObject,
    /// JSON mode with the schema also in `response_format.schema`: the form of
    /// llama-cpp-python's server (and Anyscale's), which constrains its grammar to the
    /// schema; other servers may refuse the extra field.
    JsonObjectWithSchema,
}

/// Which request field carries `LlmRequest::max_output_tokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenLimitField {
    /// `max_tokens`: read by every OpenAI-compatible server (deprecated by OpenAI, refused
    /// by its reasoning models).
    #[default]
    MaxTokens,
    /// `max_completion_tokens`: OpenAI's current name (o-series and newer models).
    MaxCompletionTokens,
}

impl TokenLimitField {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::MaxTokens => "max_tokens",
            Self::MaxCompletionTokens => "max_completion_tokens",
        }
    }
}

//! Scripted replies of the mock server, rendered in the real wire format.

use std::time::Duration;

use serde_json::{Value, json};

/// One scripted reply of `/chat/completions` (errors and delays also for `/embeddings`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MockReply {
    /// A `stop` answer with this text.
    Text(String),
    /// A `stop` answer whose text is this JSON value.
    Json(Value),
    /// A refusal: `message.refusal` is this text, `content` is null (structured outputs).
    Refusal(String),
    /// `finish_reason: content_filter`, with this partial text or (`None`) null content.
    ContentFilter(Option<String>),
    /// `finish_reason: length`, with this partial text or (`None`) null content.
    Length(Option<String>),
    /// An HTTP error status with this body and these extra headers.
    Error {
        /// HTTP status.
        status: u16,
        /// The error body.
        body: Value,
        /// Extra response headers (`retry-after`, `x-ratelimit-*`).
        headers: Vec<(String, String)>,
    },
    /// Any status, content type and body, verbatim.
    Raw {
        /// HTTP status.
        status: u16,
        /// `Content-Type`.
        content_type: String,
        /// Body.
        body: String,
    },
    /// Waits (tokio time), then serves the inner reply.
    Delay(Duration, Box<MockReply>),
}

/// An OpenAI error body.
pub(crate) fn error_body(
    kind: &str,
    code: Option<&str>,
    param: Option<&str>,
    message: &str,
) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

impl MockReply {
    /// An error with an OpenAI error body and no extra headers.
    pub fn error(status: u16, kind: &str, code: Option<&str>, message: &str) -> Self {
        Self::Error {
            status,
            body: error_body(kind, code, None, message),
            headers: Vec::new(),
        }
    }

    /// A 429 `rate_limit_exceeded` like OpenAI's, with `retry-after-ms` / `retry-after`
    /// (whole seconds, rounded up) and the `x-ratelimit-*` headers when `retry_after` is
    /// given; without it, no hint at all.
    pub fn rate_limited(retry_after: Option<Duration>) -> Self {
        let mut headers = vec![
            ("x-ratelimit-limit-requests".to_owned(), "500".to_owned()),
            ("x-ratelimit-remaining-requests".to_owned(), "0".to_owned()),
        ];
        if let Some(d) = retry_after {
            headers.push(("retry-after-ms".into(), d.as_millis().to_string()));
            headers.push(("retry-after".into(), d.as_secs_f64().ceil().to_string()));
            headers.push((
                "x-ratelimit-reset-requests".into(),
                format!("{}ms", d.as_millis()),
            ));
        }
        Self::Error {
            status: 429,
            body: error_body(
                "requests",
                Some("rate_limit_exceeded"),
                None,
                "Rate limit reached for gpt-4o-mini in organization org-mock on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 1s.",
            ),
            headers,
        }
    }

    /// A 429 with only `x-ratelimit-reset-tokens` (e.g. `"6m0s"`) as its hint.
    pub fn rate_limited_until_reset(reset_tokens: &str) -> Self {
        Self::Error {
            status: 429,
            body: error_body(
                "tokens",
                Some("rate_limit_exceeded"),
                None,
                "Rate limit reached for gpt-4o-mini on tokens per min (TPM). Please try again later.",
            ),
            headers: vec![
                ("x-ratelimit-remaining-tokens".into(), "0".into()),
                ("x-ratelimit-reset-tokens".into(), reset_tokens.into()),
            ],
        }
    }

    /// A 429 `insufficient_quota` (billing; not worth retrying).
    pub fn insufficient_quota() -> Self {
        Self::error(
            429,
            "insufficient_quota",
            Some("insufficient_quota"),
            "You exceeded your current quota, please check your plan and billing details.",
        )
    }

    /// 500 `server_error`.
    pub fn internal() -> Self {
        Self::error(
            500,
            "server_error",
            None,
            "The server had an error while processing your request. Sorry about that!",
        )
    }

    /// 503 (`retry-after: 1` when `retry_after` is set).
    pub fn unavailable(retry_after: bool) -> Self {
        let mut reply = Self::error(
            503,
            "server_error",
            None,
            "The engine is currently overloaded, please try again later.",
        );
        if let (true, Self::Error { headers, .. }) = (retry_after, &mut reply) {
            headers.push(("retry-after".into(), "1".into()));
        }
        reply
    }

    /// 400 `context_length_exceeded`.
    pub fn context_overflow() -> Self {
        Self::Error {
            status: 400,
            body: error_body(
                "invalid_request_error",
                Some("context_length_exceeded"),
                Some("messages"),
                "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages.",
            ),
            headers: Vec::new(),
        }
    }

    /// Waits `delay`, then serves `self`.
    pub fn delayed(self, delay: Duration) -> Self {
        Self::Delay(delay, Box::new(self))
    }
}

/// One scripted streamed reply, sent as `text/event-stream`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MockStream {
    /// Text deltas, then a chunk with `finish_reason` (`stop`, `length`,
    /// `content_filter`, ...), the usage chunk (when asked for) and `[DONE]`.
    Chunks {
        /// The deltas.
        texts: Vec<String>,
        /// The finish reason.
        finish_reason: String,
    },
    /// `delta.refusal` pieces, then `stop`.
    Refusal(Vec<String>),
    /// Text deltas, then `data: {"error": …}` and the end of the body.
    MidStreamError {
        /// Deltas sent first.
        texts: Vec<String>,
        /// The error object.
        error: Value,
    },
    /// Text deltas, then the body ends without a finish reason or `[DONE]`.
    Cut(Vec<String>),
    /// The inner stream with a pause before each piece after the first.
    Paced(Duration, Box<MockStream>),
    /// Fails before streaming starts (an error reply, or a delay around one).
    Reply(MockReply),
    /// A literal `text/event-stream` body.
    RawSse(String),
}

impl MockStream {
    /// A `stop` stream of these deltas.
    pub fn text<I: IntoIterator<Item = S>, S: Into<String>>(texts: I) -> Self {
        Self::Chunks {
            texts: texts.into_iter().map(Into::into).collect(),
            finish_reason: "stop".into(),
        }
    }

    /// These deltas, then a `server_error` event.
    pub fn mid_stream_error<I: IntoIterator<Item = S>, S: Into<String>>(texts: I) -> Self {
        Self::MidStreamError {
            texts: texts.into_iter().map(Into::into).collect(),
            error: error_body(
                "server_error",
                None,
                None,
                "The server had an error while processing your request.",
            )["error"]
                .clone(),
        }
    }
}

/// A rough token count (words).
pub(crate) fn tokens(text: &str) -> u64 {
    text.split_whitespace().count().max(1) as u64
}

fn usage(prompt: u64, completion: u64) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion,
           "total_tokens": prompt + completion,
           "prompt_tokens_details": {"cached_tokens": 0},
           "completion_tokens_details": {"reasoning_tokens": 0}})
}

/// A complete chat completion.
pub(crate) fn completion(
    model: &str,
    content: Option<&str>,
    refusal: Option<&str>,
    finish: &str,
    prompt_tokens: u64,
) -> Value {
    let completion_tokens = content.or(refusal).map_or(0, tokens);
    json!({
        "id": "chatcmpl-mock", "object": "chat.completion", "created": 1_700_000_000,
        "model": model, "system_fingerprint": "fp_mock",
        "choices": [{"index": 0, "logprobs": null, "finish_reason": finish,
                     "message": {"role": "assistant", "content": content, "refusal": refusal}}],
        "usage": usage(prompt_tokens, completion_tokens),
    })
}

/// The body of a unary answer variant, or `None` for error/raw/delay variants.
pub(crate) fn answer_body(reply: &MockReply, model: &str, prompt_tokens: u64) -> Option<Value> {
    Some(match reply {
        MockReply::Text(text) => completion(model, Some(text), None, "stop", prompt_tokens),
        MockReply::Json(value) => {
            completion(model, Some(&value.to_string()), None, "stop", prompt_tokens)
        }
        MockReply::Refusal(text) => completion(model, None, Some(text), "stop", prompt_tokens),
        MockReply::ContentFilter(text) => completion(
            model,
            text.as_deref(),
            None,
            "content_filter",
            prompt_tokens,
        ),
        MockReply::Length(text) => {
            completion(model, text.as_deref(), None, "length", prompt_tokens)
        }
        MockReply::Error { .. } | MockReply::Raw { .. } | MockReply::Delay(..) => return None,
    })
}

fn chunk(model: &str, delta: Value, finish: Option<&str>) -> String {
    let value = json!({
        "id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000,
        "model": model, "system_fingerprint": "fp_mock",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        "usage": null,
    });
    format!("data: {value}\n\n")
}

/// The pieces of a stream body (`None` for [`MockStream::Reply`]), and the pause before
/// each piece after the first.
pub(crate) fn stream_pieces(
    stream: &MockStream,
    model: &str,
    prompt_tokens: u64,
    include_usage: bool,
) -> Option<(Vec<String>, Option<Duration>)> {
    let opening = chunk(
        model,
        json!({"role": "assistant", "content": "", "refusal": null}),
        None,
    );
    let mut pieces = vec![opening];
    let mut completion_tokens = 0;
    let close = |finish: &str, completion_tokens: u64, pieces: &mut Vec<String>| {
        pieces.push(chunk(model, json!({}), Some(finish)));
        if include_usage {
            let usage_chunk = json!({
                "id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000,
                "model": model, "choices": [], "usage": usage(prompt_tokens, completion_tokens)});
            pieces.push(format!("data: {usage_chunk}\n\n"));
        }
        pieces.push("data: [DONE]\n\n".into());
    };
    match stream {
        MockStream::Chunks {
            texts,
            finish_reason,
        } => {
            for text in texts {
                completion_tokens += tokens(text);
                pieces.push(chunk(model, json!({"content": text}), None));
            }
            close(finish_reason, completion_tokens, &mut pieces);
        }
        MockStream::Refusal(texts) => {
            for text in texts {
                completion_tokens += tokens(text);
                pieces.push(chunk(model, json!({"refusal": text}), None));
            }
            close("stop", completion_tokens, &mut pieces);
        }
        MockStream::MidStreamError { texts, error } => {
            for text in texts {
                pieces.push(chunk(model, json!({"content": text}), None));
            }
            pieces.push(format!("data: {}\n\n", json!({ "error": error })));
        }
        MockStream::Cut(texts) => {
            for text in texts {
                pieces.push(chunk(model, json!({"content": text}), None));
            }
        }
        MockStream::Paced(pause, inner) => {
            let (pieces, _) = stream_pieces(inner, model, prompt_tokens, include_usage)?;
            return Some((pieces, Some(*pause)));
        }
        MockStream::RawSse(body) => return Some((vec![body.clone()], None)),
        MockStream::Reply(_) => return None,
    }
    Some((pieces, None))
}

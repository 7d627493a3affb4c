//! Scripted replies of the mock server, rendered in the real wire format.

use std::time::Duration;

use serde_json::{Value, json};

/// One scripted unary reply (generateContent; errors and delays also for batchEmbedContents).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MockReply {
    /// A `STOP` answer with this text.
    Text(String),
    /// A `STOP` answer whose text is this JSON value.
    Json(Value),
    /// A `MAX_TOKENS` finish: with this partial text, or (`None`) with no `content` at all.
    MaxTokens(Option<String>),
    /// A candidate with this finish reason and `content:{role:"model"}` without `parts`.
    FinishWithoutParts(String),
    /// HTTP 200, no candidates, `promptFeedback.blockReason` = this value.
    BlockedPrompt(String),
    /// An HTTP error status with this body.
    Error {
        /// HTTP status.
        status: u16,
        /// The error body.
        body: Value,
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

/// A Google error body.
pub(crate) fn error_body(code: u16, status: &str, message: &str, details: Vec<Value>) -> Value {
    json!({"error": {"code": code, "message": message, "status": status, "details": details}})
}

impl MockReply {
    /// An error with a Google error body and no details.
    pub fn error(status: u16, rpc_status: &str, message: &str) -> Self {
        Self::Error {
            status,
            body: error_body(status, rpc_status, message, vec![]),
        }
    }

    /// A 429 like the real quota error: QuotaFailure, Help and, when `retry_delay` is given
    /// (e.g. `"26s"`), RetryInfo. Without it, the daily-quota shape.
    pub fn rate_limited(retry_delay: Option<&str>) -> Self {
        let quota_id = if retry_delay.is_some() {
            "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
        } else {
            "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
        };
        let mut details = vec![
            json!({"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                   "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                                   "quotaId": quota_id,
                                   "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"},
                                   "quotaValue": "10"}]}),
            json!({"@type": "type.googleapis.com/google.rpc.Help",
                   "links": [{"description": "Learn more about Gemini API quotas",
                              "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]}),
        ];
        if let Some(delay) = retry_delay {
            details.push(
                json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}),
            );
        }
        Self::Error {
            status: 429,
            body: error_body(
                429,
                "RESOURCE_EXHAUSTED",
                "You exceeded your current quota, please check your plan and billing details.",
                details,
            ),
        }
    }

    /// 500 INTERNAL.
    pub fn internal() -> Self {
        Self::error(
            500,
            "INTERNAL",
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
        )
    }

    /// 503 UNAVAILABLE.
    pub fn unavailable() -> Self {
        Self::error(
            503,
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.",
        )
    }

    /// 504 DEADLINE_EXCEEDED.
    pub fn deadline_exceeded() -> Self {
        Self::error(
            504,
            "DEADLINE_EXCEEDED",
            "Deadline expired before operation could complete.",
        )
    }

    /// 400 `INVALID_ARGUMENT` for an input over the model's token limit, with the real
    /// API's message.
    pub fn context_overflow() -> Self {
        Self::error(
            400,
            "INVALID_ARGUMENT",
            "The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).",
        )
    }

    /// Waits `delay`, then serves `self`.
    pub fn delayed(self, delay: Duration) -> Self {
        Self::Delay(delay, Box::new(self))
    }
}

/// One scripted streamGenerateContent reply, sent as `text/event-stream` with CRLF framing.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MockStream {
    /// Text deltas; the last chunk carries `finish_reason` (and its text), unless
    /// `final_without_parts`, in which case a last chunk with `content:{role:"model"}`, no
    /// parts, carries it.
    Chunks {
        /// The deltas.
        texts: Vec<String>,
        /// The final finish reason (`STOP`, `MAX_TOKENS`, ...).
        finish_reason: String,
        /// Send the finish reason in a parts-less final chunk.
        final_without_parts: bool,
    },
    /// Text deltas, then a raw (not `data:`-framed), multi-line `{"error":…}` object.
    MidStreamError {
        /// Deltas sent first.
        texts: Vec<String>,
        /// The error body.
        error: Value,
    },
    /// A blocked prompt: one chunk with `promptFeedback.blockReason`.
    BlockedPrompt(String),
    /// Fails before streaming starts (an error reply, or a delay around one).
    Reply(MockReply),
    /// A literal `text/event-stream` body.
    RawSse(String),
}

impl MockStream {
    /// A `STOP` stream of these deltas.
    pub fn text<I: IntoIterator<Item = S>, S: Into<String>>(texts: I) -> Self {
        Self::Chunks {
            texts: texts.into_iter().map(Into::into).collect(),
            finish_reason: "STOP".into(),
            final_without_parts: false,
        }
    }

    /// These deltas, then a parts-less final `STOP` chunk.
    pub fn parts_less_final<I: IntoIterator<Item = S>, S: Into<String>>(texts: I) -> Self {
        Self::Chunks {
            texts: texts.into_iter().map(Into::into).collect(),
            finish_reason: "STOP".into(),
            final_without_parts: true,
        }
    }

    /// These deltas, then a mid-stream 500 error object.
    pub fn mid_stream_error<I: IntoIterator<Item = S>, S: Into<String>>(texts: I) -> Self {
        Self::MidStreamError {
            texts: texts.into_iter().map(Into::into).collect(),
            error: error_body(500, "INTERNAL", "An internal error has occurred.", vec![]),
        }
    }
}

/// The usage object of an answer of `output_tokens` so far.
pub(crate) fn usage(output_tokens: usize) -> Value {
    json!({"promptTokenCount": 40, "candidatesTokenCount": output_tokens,
           "totalTokenCount": 40 + output_tokens})
}

/// A full GenerateContentResponse / stream chunk.
pub(crate) fn candidate_response(
    content: Option<Value>,
    finish: Option<&str>,
    output_tokens: usize,
) -> Value {
    let mut candidate = json!({"index": 0});
    if let Some(content) = content {
        candidate["content"] = content;
    }
    if let Some(finish) = finish {
        candidate["finishReason"] = json!(finish);
    }
    json!({"candidates": [candidate], "usageMetadata": usage(output_tokens),
           "modelVersion": "mock", "responseId": "mock-response"})
}

/// `content` with one text part.
pub(crate) fn text_content(text: &str) -> Value {
    json!({"parts": [{"text": text}], "role": "model"})
}

/// A rough token count (words).
pub(crate) fn tokens(text: &str) -> usize {
    text.split_whitespace().count().max(1)
}

/// The body of a unary answer variant, or `None` for error/raw/delay variants.
pub(crate) fn answer_body(reply: &MockReply) -> Option<Value> {
    Some(match reply {
        MockReply::Text(text) => {
            candidate_response(Some(text_content(text)), Some("STOP"), tokens(text))
        }
        MockReply::Json(value) => {
            let text = value.to_string();
            candidate_response(Some(text_content(&text)), Some("STOP"), tokens(&text))
        }
        MockReply::MaxTokens(Some(text)) => {
            candidate_response(Some(text_content(text)), Some("MAX_TOKENS"), tokens(text))
        }
        MockReply::MaxTokens(None) => candidate_response(None, Some("MAX_TOKENS"), 0),
        MockReply::FinishWithoutParts(reason) => {
            candidate_response(Some(json!({"role": "model"})), Some(reason), 0)
        }
        MockReply::BlockedPrompt(reason) => json!({
            "promptFeedback": {"blockReason": reason, "safetyRatings": []},
            "usageMetadata": {"promptTokenCount": 40, "totalTokenCount": 40},
            "modelVersion": "mock"
        }),
        MockReply::Error { .. } | MockReply::Raw { .. } | MockReply::Delay(..) => return None,
    })
}

/// One SSE event, CRLF framed, split in two pieces inside the separator.
pub(crate) fn sse_event(value: &Value) -> [String; 2] {
    [format!("data: {value}\r\n"), "\r\n".to_owned()]
}

/// The body pieces of a stream reply (`None` for [`MockStream::Reply`]).
pub(crate) fn stream_pieces(stream: &MockStream) -> Option<Vec<String>> {
    let mut pieces = vec![": mock keep-alive\r\n\r\n".to_owned()];
    let mut so_far = 0;
    let mut delta = |text: &str, finish: Option<&str>, pieces: &mut Vec<String>| {
        so_far += tokens(text);
        pieces.extend(sse_event(&candidate_response(
            Some(text_content(text)),
            finish,
            so_far,
        )));
    };
    match stream {
        MockStream::Chunks {
            texts,
            finish_reason,
            final_without_parts,
        } => {
            for (i, text) in texts.iter().enumerate() {
                let last = i + 1 == texts.len() && !final_without_parts;
                delta(text, last.then_some(finish_reason.as_str()), &mut pieces);
            }
            if *final_without_parts || texts.is_empty() {
                let chunk =
                    candidate_response(Some(json!({"role": "model"})), Some(finish_reason), so_far);
                pieces.extend(sse_event(&chunk));
            }
        }
        MockStream::MidStreamError { texts, error } => {
            for text in texts {
                delta(text, None, &mut pieces);
            }
            let pretty = serde_json::to_string_pretty(error).unwrap_or_default();
            pieces.push(pretty.replace('\n', "\r\n"));
            pieces.push("\r\n".to_owned());
        }
        MockStream::BlockedPrompt(reason) => {
            pieces.extend(sse_event(&json!({
                "promptFeedback": {"blockReason": reason},
                "usageMetadata": {"promptTokenCount": 40, "totalTokenCount": 40},
                "modelVersion": "mock"
            })));
        }
        MockStream::RawSse(body) => return Some(vec![body.clone()]),
        MockStream::Reply(_) => return None,
    }
    Some(pieces)
}

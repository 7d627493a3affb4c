//! Streamed chat completions (`stream: true`, `stream_options.include_usage`): SSE events
//! turned into core [`StreamDelta`]s.
//!
//! Text deltas are passed on as they come. The finish reason arrives in a chunk of its own
//! or with the last text, the usage in a later chunk without choices, then `data: [DONE]`:
//! the final delta (empty text, the finish reason, the usage) is sent once the usage or the
//! end arrives, after the same checks a complete answer gets (content filter, refusal,
//! empty answer, JSON and schema for a schema request), which turn it into an error instead.

use std::time::Duration;

use futures_util::StreamExt;
use helpdesk_core::{DeltaStream, ModelError, StreamDelta, TokenUsage};
use helpdesk_llm_http::sse::{SseError, SseItem, SseParser};
use helpdesk_llm_http::stream::{Deltas, SseHandler};
use serde_json::Value;
use tokio::time::Instant;

use crate::chat::{ChatCompletion, finished, refused};
use crate::error::{OpenAiError, error_value, transport_error};
use crate::transport::WireResponse;

/// What the chunks so far said.
struct Chunks {
    schema: Option<Value>,
    text: String,
    refusal: bool,
    finish: Option<String>,
    usage: Option<TokenUsage>,
}

/// Turns an SSE response body into a stream of deltas; errors (an error event, a refusal,
/// a content filter, a stream closed before its finish reason, the deadline) are its last
/// item.
pub(crate) fn delta_stream(
    response: WireResponse,
    deadline: Option<(Instant, Duration)>,
    schema: Option<Value>,
) -> DeltaStream {
    let body = response.body.map(|chunk| chunk.map_err(transport_error));
    let chunks = Chunks {
        schema,
        text: String::new(),
        refusal: false,
        finish: None,
        usage: None,
    };
    helpdesk_llm_http::stream::delta_stream(Box::pin(body), SseParser::new(), deadline, chunks)
}

impl SseHandler for Chunks {
    fn on_item(&mut self, item: SseItem, out: &mut Deltas) {
        let SseItem::Data(data) = item else {
            return;
        };
        if data.trim() == "[DONE]" {
            return self.on_end(out);
        }
        self.on_chunk(&data, out);
    }

    /// The body ended (or `[DONE]` came): the final delta, or why there is none.
    fn on_end(&mut self, out: &mut Deltas) {
        let Some(finish) = self.finish.take() else {
            return out.fail(OpenAiError::StreamIncomplete.into_model_error(true));
        };
        if self.refusal {
            return out.fail(refused());
        }
        let text = std::mem::take(&mut self.text);
        match finished(text, Some(&finish), self.schema.as_ref()) {
            Ok((_, reason)) => out.finish(StreamDelta {
                text: String::new(),
                finish_reason: Some(reason),
                usage: self.usage,
            }),
            Err(e) => out.fail(e),
        }
    }

    fn format_error(&self, error: SseError) -> ModelError {
        OpenAiError::StreamFormat(error).into_model_error(false)
    }
}

impl Chunks {
    fn on_chunk(&mut self, data: &str, out: &mut Deltas) {
        let chunk: ChatCompletion = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(source) => {
                return out.fail(
                    OpenAiError::Decode {
                        what: "chat completion chunk",
                        source,
                    }
                    .into_model_error(false),
                );
            }
        };
        if let Some(error) = chunk.error.as_ref().filter(|e| !e.is_null()) {
            return out.fail(error_value(error));
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage.to_core());
            // The usage chunk comes after the finish reason: the answer is complete.
            if self.finish.is_some() {
                return self.on_end(out);
            }
        }
        let Some(choice) = chunk.choices.into_iter().next() else {
            return;
        };
        if let Some(delta) = choice.delta.or(choice.message) {
            if delta.refusal().is_some() {
                self.refusal = true;
            }
            let text = delta.text();
            if !text.is_empty() && !self.refusal {
                self.text.push_str(&text);
                out.push(StreamDelta {
                    text,
                    finish_reason: None,
                    usage: None,
                });
            }
        }
        if let Some(finish) = choice.finish_reason {
            self.finish = Some(finish);
        }
    }
}

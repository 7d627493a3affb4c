//! Streamed chat completions (`stream: true`, `stream_options.include_usage`): SSE events
//! turned into core [`StreamDelta`]s.
//!
//! Text deltas are passed on as they come. The finish reason arrives in a chunk of its own
//! or with the last text, the usage in a later chunk without choices, then `data: [DONE]`:
//! the final delta (empty text, the finish reason, the usage) is sent once the usage or the
//! end arrives, after the same checks a complete answer gets (content filter, refusal,
//! empty answer, JSON and schema for a schema request), which turn it into an error instead.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::StreamExt;
use helpdesk_core::{DeltaStream, ModelError, StreamDelta, TokenUsage};
use serde_json::Value;
use tokio::time::Instant;

use crate::chat::{ChatCompletion, finished, refused};
use crate::error::{OpenAiError, error_value, transport_error};
use crate::sse::{SseError, SseParser};
use crate::transport::{BodyStream, WireResponse};

struct StreamState {
    body: BodyStream,
    parser: SseParser,
    ready: VecDeque<Result<StreamDelta, ModelError>>,
    schema: Option<Value>,
    text: String,
    refusal: bool,
    finish: Option<String>,
    usage: Option<TokenUsage>,
    /// Set once a final delta or an error was queued: nothing more is read.
    done: bool,
    deadline: Option<(Instant, Duration)>,
}

/// Turns an SSE response body into a stream of deltas; errors (an error event, a refusal,
/// a content filter, a stream closed before its finish reason, the deadline) are its last
/// item.
pub(crate) fn delta_stream(
    response: WireResponse,
    deadline: Option<(Instant, Duration)>,
    schema: Option<Value>,
) -> DeltaStream {
    let state = StreamState {
        body: response.body,
        parser: SseParser::default(),
        ready: VecDeque::new(),
        schema,
        text: String::new(),
        refusal: false,
        finish: None,
        usage: None,
        done: false,
        deadline,
    };
    Box::pin(futures_util::stream::unfold(
        state,
        |mut state| async move {
            loop {
                if let Some(item) = state.ready.pop_front() {
                    return Some((item, state));
                }
                if state.done {
                    return None;
                }
                let next = match state.deadline {
                    Some((at, limit)) => {
                        match tokio::time::timeout_at(at, state.body.next()).await {
                            Ok(next) => next,
                            Err(_) => {
                                state.fail(ModelError::Timeout(limit));
                                continue;
                            }
                        }
                    }
                    None => state.body.next().await,
                };
                match next {
                    Some(Ok(chunk)) => {
                        let events = state.parser.push(&chunk);
                        state.on_events(events);
                    }
                    Some(Err(e)) => state.fail(transport_error(e)),
                    None => {
                        let events = state.parser.finish();
                        state.on_events(events);
                        state.end();
                    }
                }
            }
        },
    ))
}

impl StreamState {
    fn fail(&mut self, error: ModelError) {
        self.ready.push_back(Err(error));
        self.done = true;
    }

    /// The body ended (or `[DONE]` came): the final delta, or why there is none.
    fn end(&mut self) {
        if self.done {
            return;
        }
        let Some(finish) = self.finish.take() else {
            return self.fail(OpenAiError::StreamIncomplete.into_model_error(true));
        };
        if self.refusal {
            return self.fail(refused());
        }
        let text = std::mem::take(&mut self.text);
        match finished(text, Some(&finish), self.schema.as_ref()) {
            Ok((_, reason)) => {
                self.ready.push_back(Ok(StreamDelta {
                    text: String::new(),
                    finish_reason: Some(reason),
                    usage: self.usage,
                }));
                self.done = true;
            }
            Err(e) => self.fail(e),
        }
    }

    fn on_events(&mut self, events: Result<Vec<String>, SseError>) {
        let events = match events {
            Ok(events) => events,
            Err(e) => return self.fail(OpenAiError::StreamFormat(e).into_model_error(false)),
        };
        for data in events {
            if self.done {
                return;
            }
            if data.trim() == "[DONE]" {
                self.end();
                return;
            }
            self.on_chunk(&data);
        }
    }

    fn on_chunk(&mut self, data: &str) {
        let chunk: ChatCompletion = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(source) => {
                return self.fail(
                    OpenAiError::Decode {
                        what: "chat completion chunk",
                        source,
                    }
                    .into_model_error(false),
                );
            }
        };
        if let Some(error) = chunk.error.as_ref().filter(|e| !e.is_null()) {
            return self.fail(error_value(error));
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage.to_core());
            // The usage chunk comes after the finish reason: the answer is complete.
            if self.finish.is_some() {
                return self.end();
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
                self.ready.push_back(Ok(StreamDelta {
                    text,
                    finish_reason: None,
                    usage: None,
                }));
            }
        }
        if let Some(finish) = choice.finish_reason {
            self.finish = Some(finish);
        }
    }
}

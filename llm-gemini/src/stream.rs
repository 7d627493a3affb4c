//! streamGenerateContent (`alt=sse`): SSE events turned into core [`StreamDelta`]s.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::StreamExt;
use helpdesk_core::{DeltaStream, ModelError, StreamDelta, TokenUsage};
use tokio::time::Instant;

use crate::error::{ApiError, GeminiError, block_reason, map_api_error};
use crate::generate::{finish_reason, outcome_of_empty};
use crate::sse::{SseError, SseItem, SseParser};
use crate::transport::{BodyStream, WireResponse};
use crate::wire::GenerateContentResponse;

struct StreamState {
    body: BodyStream,
    parser: SseParser,
    ready: VecDeque<Result<StreamDelta, ModelError>>,
    usage: Option<TokenUsage>,
    text_len: usize,
    /// Set once a final delta or an error was queued: nothing more is read.
    done: bool,
    deadline: Option<(Instant, Duration)>,
}

/// Turns an SSE response body into a stream of text deltas. The stream ends after the chunk
/// carrying the finish reason; errors (mid-stream error objects, blocks, a stream closed early,
/// the deadline) are its last item.
pub(crate) fn delta_stream(
    response: WireResponse,
    deadline: Option<(Instant, Duration)>,
) -> DeltaStream {
    let state = StreamState {
        body: response.body,
        parser: SseParser::default(),
        ready: VecDeque::new(),
        usage: None,
        text_len: 0,
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
                    Some((at, limit)) => match tokio::time::timeout_at(at, state.body.next()).await
                    {
                        Ok(next) => next,
                        Err(_) => {
                            state.fail(ModelError::Timeout(limit));
                            continue;
                        }
                    },
                    None => state.body.next().await,
                };
                let items = match next {
                    Some(Ok(chunk)) => state.parser.push(&chunk),
                    Some(Err(e)) => {
                        let temporary = e.is_temporary();
                        state.fail(GeminiError::Transport(e).into_model_error(temporary));
                        continue;
                    }
                    None => {
                        let items = state.parser.finish();
                        state.on_items(items);
                        if !state.done {
                            state.fail(GeminiError::StreamIncomplete.into_model_error(true));
                        }
                        continue;
                    }
                };
                state.on_items(items);
            }
        },
    ))
}

impl StreamState {
    fn fail(&mut self, error: ModelError) {
        self.ready.push_back(Err(error));
        self.done = true;
    }

    fn on_items(&mut self, items: Result<Vec<SseItem>, SseError>) {
        let items = match items {
            Ok(items) => items,
            Err(e) => return self.fail(GeminiError::StreamFormat(e).into_model_error(false)),
        };
        for item in items {
            if self.done {
                return;
            }
            match item {
                SseItem::Data(data) => self.on_chunk(&data),
                SseItem::Raw(raw) => match ApiError::parse(&raw) {
                    Some(api) => {
                        let status = if api.code == 0 { 500 } else { api.code };
                        self.fail(map_api_error(status, &api));
                    }
                    None => self.fail(GeminiError::UnexpectedStreamObject.into_model_error(false)),
                },
            }
        }
    }

    fn on_chunk(&mut self, data: &str) {
        let chunk: GenerateContentResponse = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(source) => {
                return self.fail(
                    GeminiError::Decode {
                        what: "streamGenerateContent chunk",
                        source,
                    }
                    .into_model_error(false),
                );
            }
        };
        if let Some(reason) = chunk.block_reason() {
            return self.fail(ModelError::Blocked {
                reason: block_reason(reason),
            });
        }
        if let Some(usage) = chunk.usage_metadata {
            self.usage = Some(usage.to_core());
        }
        let Some(candidate) = chunk.first_candidate() else {
            return;
        };
        let text = candidate.answer_text();
        self.text_len += text.trim().len();
        match candidate.finish_reason.as_deref() {
            Some(finish) => {
                if self.text_len == 0 {
                    return self.fail(outcome_of_empty(
                        Some(finish),
                        candidate.finish_message.as_deref(),
                    ));
                }
                self.ready.push_back(Ok(StreamDelta {
                    text,
                    finish_reason: Some(finish_reason(Some(finish))),
                    usage: self.usage,
                }));
                self.done = true;
            }
            None if !text.is_empty() => self.ready.push_back(Ok(StreamDelta {
                text,
                finish_reason: None,
                usage: self.usage,
            })),
            None => {}
        }
    }
}

//! streamGenerateContent (`alt=sse`): SSE events turned into core [`StreamDelta`]s by the
//! shared pump ([`helpdesk_llm_http::stream`]), which also keeps the deadline.

use std::time::Duration;

use futures_util::StreamExt;
use helpdesk_core::{DeltaStream, ModelError, StreamDelta, TokenUsage};
use helpdesk_llm_http::sse::{SseError, SseItem, SseParser};
use helpdesk_llm_http::stream::{Deltas, SseHandler};
use tokio::time::Instant;

use crate::error::{ApiError, GeminiError, block_reason, map_api_error, transport_error};
use crate::generate::{finish_reason, outcome_of_empty};
use crate::transport::WireResponse;
use crate::wire::GenerateContentResponse;

/// Reads Gemini's chunks: each carries the text so far's next piece and the cumulative
/// usage; the one with a finish reason is the last.
#[derive(Default)]
struct Chunks {
    usage: Option<TokenUsage>,
    text_len: usize,
}

/// Turns an SSE response body into a stream of text deltas. The stream ends after the chunk
/// carrying the finish reason; errors (mid-stream error objects, blocks, a stream closed early,
/// the deadline) are its last item.
pub(crate) fn delta_stream(
    response: WireResponse,
    deadline: Option<(Instant, Duration)>,
) -> DeltaStream {
    let body = response.body.map(|chunk| chunk.map_err(transport_error));
    // Gemini sends a mid-stream error as a raw JSON object outside of any event.
    let parser = SseParser::with_raw_json();
    helpdesk_llm_http::stream::delta_stream(Box::pin(body), parser, deadline, Chunks::default())
}

impl SseHandler for Chunks {
    fn on_item(&mut self, item: SseItem, out: &mut Deltas) {
        match item {
            SseItem::Data(data) => self.on_chunk(&data, out),
            SseItem::Raw(raw) => match ApiError::parse(&raw) {
                Some(api) => {
                    let status = if api.code == 0 { 500 } else { api.code };
                    out.fail(map_api_error(status, &api));
                }
                None => out.fail(GeminiError::UnexpectedStreamObject.into_model_error(false)),
            },
            // A kind of item this handler does not know: not part of Gemini's stream.
            _ => {}
        }
    }

    fn on_end(&mut self, out: &mut Deltas) {
        out.fail(GeminiError::StreamIncomplete.into_model_error(true));
    }

    fn format_error(&self, error: SseError) -> ModelError {
        GeminiError::StreamFormat(error).into_model_error(false)
    }
}

impl Chunks {
    fn on_chunk(&mut self, data: &str, out: &mut Deltas) {
        let chunk: GenerateContentResponse = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(source) => {
                return out.fail(
                    GeminiError::Decode {
                        what: "streamGenerateContent chunk",
                        source,
                    }
                    .into_model_error(false),
                );
            }
        };
        if let Some(reason) = chunk.block_reason() {
            return out.fail(ModelError::Blocked {
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
                    return out.fail(outcome_of_empty(
                        Some(finish),
                        candidate.finish_message.as_deref(),
                    ));
                }
                out.finish(StreamDelta {
                    text,
                    finish_reason: Some(finish_reason(Some(finish))),
                    usage: self.usage,
                });
            }
            None if !text.is_empty() => out.push(StreamDelta {
                text,
                finish_reason: None,
                usage: self.usage,
            }),
            None => {}
        }
    }
}

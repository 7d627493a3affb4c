//! Streaming the bot's answer: the model's JSON answer arrives in pieces, and the text of
//! its `answer` field so far is shown as a provisional answer while the rest is written.
//! Only the finished, parsed answer goes on to the grounding check and is committed.

use std::time::Duration;

use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::ai::output::parse_strict;
use crate::{BlockReason, FinishReason, LanguageModel, LlmRequest, ModelError};

/// Streams a JSON answer into `T` within `timeout` (as
/// [`output::generate_json_within`](crate::ai::output) does for a whole answer), calling
/// `show` with the text of the answer's `answer` field so far each time it grows.
pub(super) async fn stream_json_within<T: DeserializeOwned>(
    model: &dyn LanguageModel,
    request: LlmRequest,
    timeout: Duration,
    show: &(dyn Fn(&str) + Send + Sync),
) -> Result<T, ModelError> {
    let request = request.with_timeout(timeout);
    let grace = timeout.saturating_add(Duration::from_millis(100));
    let streamed = async {
        let mut deltas = model.stream(&request).await?;
        let mut text = String::new();
        let mut finish = None;
        let mut shown = 0;
        while let Some(delta) = deltas.next().await {
            let delta = delta?;
            text.push_str(&delta.text);
            if delta.finish_reason.is_some() {
                finish = delta.finish_reason;
            }
            if let Some(partial) = partial_answer(&text)
                && partial.len() > shown
            {
                shown = partial.len();
                show(&partial);
            }
        }
        match finish {
            Some(FinishReason::Stop) => parse_strict(&text),
            Some(FinishReason::MaxTokens) => Err(ModelError::Truncated),
            Some(FinishReason::Safety) => Err(ModelError::Blocked {
                reason: BlockReason::Safety,
            }),
            Some(FinishReason::Recitation) => Err(ModelError::Blocked {
                reason: BlockReason::Recitation,
            }),
            other => Err(ModelError::MalformedOutput {
                message: format!("the stream ended with finish reason {other:?}"),
            }),
        }
    };
    match tokio::time::timeout(grace, streamed).await {
        Ok(result) => result,
        Err(_) => Err(ModelError::Timeout(timeout)),
    }
}

/// The text of the `"answer"` string field of a JSON object that is still being written
/// (`{"answer": "To reset yo` → `To reset yo`), decoded; `None` until its value starts. An
/// escape cut off at the end is left out until it is complete.
pub(super) fn partial_answer(json: &str) -> Option<String> {
    let key = json.find("\"answer\"")?;
    let rest = json[key + "\"answer\"".len()..].trim_start();
    let rest = rest.strip_prefix(':')?.trim_start();
    let mut chars = rest.strip_prefix('"')?.chars();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => {
                let decoded = match chars.next() {
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('r') => '\r',
                    Some('b') => '\u{8}',
                    Some('f') => '\u{c}',
                    Some('u') => {
                        let hex: String = chars.by_ref().take(4).collect();
                        match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                            Some(c) if hex.len() == 4 => c,
                            // Cut off, or half of a surrogate pair: wait for more.
                            _ => break,
                        }
                    }
                    Some(other) => other,
                    None => break,
                };
                out.push(decoded);
            }
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_answer_so_far_is_decoded_from_partial_json() {
        assert_eq!(partial_answer(r#"{"cited_chunk_ids": ["a"], "#), None);
        assert_eq!(partial_answer(r#"{"answer""#), None);
        assert_eq!(partial_answer(r#"{"answer": ""#).as_deref(), Some(""));
        assert_eq!(
            partial_answer(r#"```json\n{"answer": "Open \"Settings\",\nthen tap"#).as_deref(),
            Some("Open \"Settings\",\nthen tap")
        );
        assert_eq!(
            partial_answer(r#"{"answer": "caf\u00e9 and \u00"#).as_deref(),
            Some("café and ")
        );
        assert_eq!(
            partial_answer(r#"{"answer": "done\"#).as_deref(),
            Some("done")
        );
        assert_eq!(
            partial_answer(r#"{"answer": "all", "resolved": false}"#).as_deref(),
            Some("all")
        );
    }
}

//! Serde types of the Gemini wire format (v1beta, camelCase). Response types are lenient:
//! every field is optional, unknown fields are ignored and enums are kept as strings so that
//! unknown values become "other" instead of a deserialisation error.

use serde::{Deserialize, Serialize};

/// `Content`: a role and parts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Content {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// May be missing or `null` in responses (`content` without `parts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<Vec<Part>>,
}

impl Content {
    pub(crate) fn text(role: Option<&str>, text: &str) -> Self {
        Self {
            role: role.map(str::to_owned),
            parts: Some(vec![Part {
                text: Some(text.to_owned()),
                ..Part::default()
            }]),
        }
    }
}

/// `Part`: only the fields this client reads; other part kinds are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Part {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thought: Option<bool>,
}

/// `GenerateContentResponse` (also each SSE chunk).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenerateContentResponse {
    #[serde(default)]
    pub candidates: Option<Vec<Candidate>>,
    #[serde(default)]
    pub prompt_feedback: Option<PromptFeedback>,
    #[serde(default)]
    pub usage_metadata: Option<UsageMetadata>,
    #[serde(default)]
    pub model_version: Option<String>,
}

impl GenerateContentResponse {
    /// The first candidate, if any.
    pub(crate) fn first_candidate(&self) -> Option<&Candidate> {
        self.candidates.as_deref().and_then(<[Candidate]>::first)
    }

    /// `promptFeedback.blockReason`, if set.
    pub(crate) fn block_reason(&self) -> Option<&str> {
        self.prompt_feedback
            .as_ref()
            .and_then(|f| f.block_reason.as_deref())
            .filter(|r| !r.is_empty() && *r != "BLOCK_REASON_UNSPECIFIED")
    }
}

/// One candidate answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Candidate {
    #[serde(default)]
    pub content: Option<Content>,
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(default)]
    pub finish_message: Option<String>,
}

impl Candidate {
    /// The answer text: every non-thought text part, concatenated.
    pub(crate) fn answer_text(&self) -> String {
        self.content
            .as_ref()
            .and_then(|c| c.parts.as_deref())
            .unwrap_or_default()
            .iter()
            .filter(|p| p.thought != Some(true))
            .filter_map(|p| p.text.as_deref())
            .collect()
    }
}

/// `promptFeedback`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PromptFeedback {
    #[serde(default)]
    pub block_reason: Option<String>,
}

/// `usageMetadata` (cumulative on stream chunks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UsageMetadata {
    #[serde(default)]
    pub prompt_token_count: Option<u32>,
    #[serde(default)]
    pub candidates_token_count: Option<u32>,
    #[serde(default)]
    pub thoughts_token_count: Option<u32>,
    #[serde(default)]
    pub total_token_count: Option<u32>,
}

impl UsageMetadata {
    pub(crate) fn to_core(self) -> helpdesk_core::TokenUsage {
        let output = self
            .candidates_token_count
            .unwrap_or(0)
            .saturating_add(self.thoughts_token_count.unwrap_or(0));
        let prompt = self.prompt_token_count.unwrap_or(0);
        helpdesk_core::TokenUsage {
            prompt_tokens: prompt,
            output_tokens: output,
            total_tokens: self
                .total_token_count
                .unwrap_or_else(|| prompt.saturating_add(output)),
        }
    }
}

/// `batchEmbedContents` response.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub(crate) struct BatchEmbedResponse {
    #[serde(default)]
    pub embeddings: Option<Vec<Embedding>>,
}

/// One embedding.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub(crate) struct Embedding {
    #[serde(default)]
    pub values: Option<Vec<f32>>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn tolerates_missing_content_parts_and_unknown_fields() {
        let r: GenerateContentResponse = serde_json::from_str(
            r#"{"candidates":[{"finishReason":"MAX_TOKENS","index":0}],"newThing":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(r.first_candidate().unwrap().answer_text(), "");
        let r: GenerateContentResponse = serde_json::from_str(
            r#"{"candidates":[{"content":{"role":"model"},"finishReason":"NEW_REASON"}]}"#,
        )
        .unwrap();
        assert_eq!(r.first_candidate().unwrap().answer_text(), "");
        let r: GenerateContentResponse = serde_json::from_str(
            r#"{"candidates":[{"content":{"parts":[{"text":"hidden","thought":true},
                {"functionCall":{"name":"f","args":{}}},{"text":"shown"}]}}],"candidates2":null}"#,
        )
        .unwrap();
        assert_eq!(r.first_candidate().unwrap().answer_text(), "shown");
    }
}

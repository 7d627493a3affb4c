//! Generation options set once on the client: safety settings and thinking configuration.

use serde::Serialize;

/// A harm category of `safetySettings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum HarmCategory {
    /// `HARM_CATEGORY_HARASSMENT`.
    #[serde(rename = "HARM_CATEGORY_HARASSMENT")]
    Harassment,
    /// `HARM_CATEGORY_HATE_SPEECH`.
    #[serde(rename = "HARM_CATEGORY_HATE_SPEECH")]
    HateSpeech,
    /// `HARM_CATEGORY_SEXUALLY_EXPLICIT`.
    #[serde(rename = "HARM_CATEGORY_SEXUALLY_EXPLICIT")]
    SexuallyExplicit,
    /// `HARM_CATEGORY_DANGEROUS_CONTENT`.
    #[serde(rename = "HARM_CATEGORY_DANGEROUS_CONTENT")]
    DangerousContent,
}

/// A blocking threshold of `safetySettings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum HarmBlockThreshold {
    /// `BLOCK_LOW_AND_ABOVE`.
    BlockLowAndAbove,
    /// `BLOCK_MEDIUM_AND_ABOVE`.
    BlockMediumAndAbove,
    /// `BLOCK_ONLY_HIGH`.
    BlockOnlyHigh,
    /// `BLOCK_NONE`.
    BlockNone,
    /// `OFF`.
    Off,
}

/// One `safetySettings` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SafetySetting {
    /// The category.
    pub category: HarmCategory,
    /// The threshold.
    pub threshold: HarmBlockThreshold,
}

/// `thinkingConfig.thinkingLevel` (Gemini 3 models).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ThinkingLevel {
    /// `MINIMAL`.
    Minimal,
    /// `LOW`.
    Low,
    /// `MEDIUM`.
    Medium,
    /// `HIGH`.
    High,
}

/// `thinkingConfig`: a token budget (2.5 models) or a level (3.x models), never both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThinkingConfig {
    /// `thinkingBudget`: tokens; 0 disables thinking where allowed, -1 is dynamic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_budget: Option<i32>,
    /// `thinkingLevel`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking_level: Option<ThinkingLevel>,
    /// `includeThoughts` (thought parts are never part of the answer text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_thoughts: Option<bool>,
}

impl ThinkingConfig {
    /// A thinking budget in tokens (2.5 models).
    pub fn budget(tokens: i32) -> Self {
        Self {
            thinking_budget: Some(tokens),
            thinking_level: None,
            include_thoughts: None,
        }
    }

    /// A thinking level (3.x models).
    pub fn level(level: ThinkingLevel) -> Self {
        Self {
            thinking_budget: None,
            thinking_level: Some(level),
            include_thoughts: None,
        }
    }

    /// Checks this config against a model id; the error names what is wrong.
    pub(crate) fn validate_for(&self, model: &str) -> Result<(), String> {
        if self.thinking_budget.is_some() && self.thinking_level.is_some() {
            return Err("set thinking_budget or thinking_level, not both".into());
        }
        let id = model.rsplit('/').next().unwrap_or(model);
        if id.starts_with("gemini-1") || id.starts_with("gemini-2.0") {
            return Err(format!("model {id} does not support thinking"));
        }
        if let (Some(budget), true) = (self.thinking_budget, id.starts_with("gemini-2.5")) {
            let (low, high, allow_zero) = if id.contains("flash-lite") {
                (512, 24_576, true)
            } else if id.contains("flash") {
                (0, 24_576, true)
            } else {
                (128, 32_768, false)
            };
            let ok = budget == -1 || (budget == 0 && allow_zero) || (low..=high).contains(&budget);
            if !ok {
                return Err(format!(
                    "thinking_budget {budget} is outside what {id} accepts ({low}..={high}{}, or -1)",
                    if allow_zero { ", 0" } else { "" }
                ));
            }
        }
        if self.thinking_level.is_some() && id.starts_with("gemini-2.5") {
            return Err(format!(
                "model {id} takes thinking_budget, not thinking_level"
            ));
        }
        Ok(())
    }
}

/// The `taskType` of an embedding request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum TaskType {
    /// `RETRIEVAL_QUERY`.
    RetrievalQuery,
    /// `RETRIEVAL_DOCUMENT`.
    RetrievalDocument,
    /// `SEMANTIC_SIMILARITY`.
    SemanticSimilarity,
    /// `CLASSIFICATION`.
    Classification,
    /// `CLUSTERING`.
    Clustering,
    /// `QUESTION_ANSWERING`.
    QuestionAnswering,
    /// `FACT_VERIFICATION`.
    FactVerification,
    /// `CODE_RETRIEVAL_QUERY`.
    CodeRetrievalQuery,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinking_config_is_checked_per_model_family() {
        assert!(
            ThinkingConfig::budget(0)
                .validate_for("gemini-2.5-flash")
                .is_ok()
        );
        assert!(
            ThinkingConfig::budget(0)
                .validate_for("gemini-2.5-pro")
                .is_err()
        );
        assert!(
            ThinkingConfig::budget(100)
                .validate_for("gemini-2.5-flash-lite")
                .is_err()
        );
        assert!(
            ThinkingConfig::budget(-1)
                .validate_for("gemini-2.5-pro")
                .is_ok()
        );
        assert!(
            ThinkingConfig::budget(0)
                .validate_for("gemini-2.0-flash")
                .is_err()
        );
        assert!(
            ThinkingConfig::level(ThinkingLevel::Low)
                .validate_for("gemini-3.5-flash")
                .is_ok()
        );
        assert!(
            ThinkingConfig::level(ThinkingLevel::Low)
                .validate_for("gemini-2.5-flash")
                .is_err()
        );
        let both = ThinkingConfig {
            thinking_budget: Some(0),
            thinking_level: Some(ThinkingLevel::Low),
            include_thoughts: None,
        };
        assert!(both.validate_for("gemini-3.5-flash").is_err());
    }
}

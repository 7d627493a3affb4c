//! The provider conformance suite: every [`LanguageModel`] implementation runs the same
//! cases and must give the same typed outcome in each, so the helpdesk's use cases behave
//! alike whichever provider a host configures.
//!
//! A provider supplies an [`LlmHarness`]: for each [`Scenario`] it returns a model whose
//! next call plays that scenario (a mock server or a scripted model is scripted for it; a
//! client of a real server is configured for it). The cases then send their own requests
//! and check the outcome:
//!
//! | case | scenario scripted | outcome every provider gives |
//! |---|---|---|
//! | [`plain_answer`] | a short text answer | `Ok`, text, `FinishReason::Stop`, output tokens counted |
//! | [`schema_answer`] | JSON matching [`conformance_schema`] | `Ok`, `Stop`, parses strictly as the schema's struct |
//! | [`stream_answer`] | a streamed text answer | deltas, the last (only) one with `Stop`, text |
//! | [`timeout`] | an answer slower than [`SLOW_DELAY`] | `ModelError::Timeout(CONFORMANCE_TIMEOUT)`, well before the answer |
//! | [`rate_limited`] | a rate limit with a wait hint, every attempt | `RateLimited { retry_after: Some(_) }`, temporary |
//! | [`refusal`] | a refusal or a safety stop | `Blocked` |
//! | [`truncated`] | an answer cut at the output token cap | `Ok` with `MaxTokens`, or `Truncated`; never `Stop` |
//! | [`json_outside_schema`] | JSON that breaks the schema ([`outside_schema_answer`]) | `MalformedOutput` where the use cases read it |
//! | [`unknown_model`] | a model name the server does not know | `NotFound`, not temporary |
//! | [`context_overflow`] | a prompt longer than the context window | `ContextOverflow`, not temporary |
//!
//! ```text
//! async fn harness() -> MyHarness { /* start a mock server */ }
//! helpdesk_core::llm_conformance_tests!(harness = harness);
//! // or a subset, for a real server that cannot script failures:
//! helpdesk_core::llm_conformance_tests!(harness = harness, cases = [plain_answer, stream_answer]);
//! ```
//!
//! Attributes before `harness` are put on every generated test (for example a `cfg_attr`
//! that ignores the tests when a server is not configured). The calling crate needs `tokio`
//! with the `macros` and `rt-multi-thread` features as a dev-dependency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::ai::output::{generate_json, parse_strict};
use crate::{FinishReason, LanguageModel, LlmRequest, ModelError};

/// What the model's next call must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scenario {
    /// Answer with a short text.
    PlainAnswer,
    /// Answer with JSON matching [`conformance_schema`] (e.g. [`schema_answer_value`]).
    SchemaAnswer,
    /// Stream a short text answer.
    Stream,
    /// Answer only after [`SLOW_DELAY`].
    SlowAnswer,
    /// Rate-limit every attempt, with a wait hint (no retries needed to see it: a harness
    /// may turn the client's retries off for this scenario).
    RateLimited,
    /// Refuse, or stop for safety.
    Refusal,
    /// Stop at the output token cap.
    Truncated,
    /// Answer with JSON outside the schema ([`outside_schema_answer`]).
    JsonOutsideSchema,
    /// Be asked for a model that does not exist.
    UnknownModel,
    /// Be sent a prompt longer than the context window ([`overflow_prompt`]).
    ContextOverflow,
}

/// Scripts one scenario for one provider.
#[async_trait]
pub trait LlmHarness: Send + Sync {
    /// A model whose next call plays `scenario`.
    async fn model_for(&self, scenario: Scenario) -> Arc<dyn LanguageModel>;
}

#[async_trait]
impl<H: LlmHarness + ?Sized> LlmHarness for Arc<H> {
    async fn model_for(&self, scenario: Scenario) -> Arc<dyn LanguageModel> {
        (**self).model_for(scenario).await
    }
}

/// The deadline of the [`timeout`] case.
pub const CONFORMANCE_TIMEOUT: Duration = Duration::from_millis(300);

/// How long a [`Scenario::SlowAnswer`] must take at least.
pub const SLOW_DELAY: Duration = Duration::from_secs(5);

/// The categories of [`conformance_schema`].
pub const CATEGORIES: &[&str] = &["billing", "technical", "account"];

/// The schema of the structured-output cases: a closed object with a `category` from
/// [`CATEGORIES`] and a boolean `urgent`, both required.
pub fn conformance_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "category": {"type": "string", "enum": CATEGORIES},
            "urgent": {"type": "boolean"}
        },
        "required": ["category", "urgent"],
        "additionalProperties": false
    })
}

/// An answer that matches [`conformance_schema`].
pub fn schema_answer_value() -> Value {
    json!({"category": "billing", "urgent": false})
}

/// Valid JSON that breaks [`conformance_schema`] (a category outside the enum, a string
/// where a boolean belongs).
pub fn outside_schema_answer() -> Value {
    json!({"category": "weather", "urgent": "yes"})
}

/// A prompt far longer than any small model's context window (about 20,000 words).
pub fn overflow_prompt() -> String {
    "please help me with my account ".repeat(4_000)
}

/// The struct the structured-output cases parse into (strictly: every field required,
/// nothing else allowed), as the helpdesk's own use cases parse their answers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConformanceAnswer {
    /// One of [`CATEGORIES`].
    pub category: String,
    /// Whether it is urgent.
    pub urgent: bool,
}

fn plain_request() -> LlmRequest {
    LlmRequest::new(
        "You are a helpdesk assistant. Answer in one short sentence.",
        "Say hello to the customer.",
    )
    .with_temperature(0.0)
    .with_max_output_tokens(256)
}

fn schema_request() -> LlmRequest {
    LlmRequest::new(
        "Classify the helpdesk ticket. Answer in JSON.",
        "My invoice shows the wrong amount.",
    )
    .with_json_schema(conformance_schema())
    .with_temperature(0.0)
    .with_max_output_tokens(128)
}

/// A plain answer: `Ok` with text, `Stop`, and the output tokens counted.
pub async fn plain_answer<H: LlmHarness + ?Sized>(harness: &H) {
    let model = harness.model_for(Scenario::PlainAnswer).await;
    let answer = model.generate(&plain_request()).await;
    let answer = answer.unwrap_or_else(|e| panic!("expected an answer, got {e:?}"));
    assert!(!answer.text.trim().is_empty(), "empty answer: {answer:?}");
    assert_eq!(answer.finish_reason, FinishReason::Stop, "{answer:?}");
    assert!(
        answer.usage.output_tokens > 0,
        "output tokens not counted: {answer:?}"
    );
    assert!(
        answer.usage.total_tokens >= answer.usage.output_tokens,
        "{answer:?}"
    );
    assert!(!answer.model.is_empty());
}

/// A schema-constrained answer: `Ok`, `Stop`, and JSON that parses strictly into
/// [`ConformanceAnswer`] with a category from the enum.
pub async fn schema_answer<H: LlmHarness + ?Sized>(harness: &H) {
    let model = harness.model_for(Scenario::SchemaAnswer).await;
    let answer = model.generate(&schema_request()).await;
    let answer = answer.unwrap_or_else(|e| panic!("expected an answer, got {e:?}"));
    assert_eq!(answer.finish_reason, FinishReason::Stop, "{answer:?}");
    let parsed: ConformanceAnswer =
        parse_strict(&answer.text).unwrap_or_else(|e| panic!("{e:?} in {:?}", answer.text));
    assert!(CATEGORIES.contains(&parsed.category.as_str()), "{parsed:?}");
}

/// A stream: at least one delta, every delta `Ok`, the finish reason (`Stop`) on the last
/// one only, text in total, and usage (when reported) that counts output tokens.
pub async fn stream_answer<H: LlmHarness + ?Sized>(harness: &H) {
    let model = harness.model_for(Scenario::Stream).await;
    let stream = model.stream(&plain_request()).await;
    let stream = stream.unwrap_or_else(|e| panic!("expected a stream, got {e:?}"));
    let deltas: Vec<_> = stream.collect().await;
    assert!(!deltas.is_empty(), "no delta");
    let deltas: Vec<_> = deltas
        .into_iter()
        .map(|d| d.unwrap_or_else(|e| panic!("stream failed: {e:?}")))
        .collect();
    let (last, rest) = deltas.split_last().unwrap_or_else(|| unreachable!());
    assert_eq!(last.finish_reason, Some(FinishReason::Stop), "{deltas:?}");
    assert!(rest.iter().all(|d| d.finish_reason.is_none()), "{deltas:?}");
    let text: String = deltas.iter().map(|d| d.text.as_str()).collect();
    assert!(!text.trim().is_empty(), "{deltas:?}");
    if let Some(usage) = last.usage {
        assert!(usage.output_tokens > 0, "{usage:?}");
    }
}

/// A deadline shorter than the answer: `Timeout` with the request's deadline, returned
/// at the deadline, not after the answer.
pub async fn timeout<H: LlmHarness + ?Sized>(harness: &H) {
    let model = harness.model_for(Scenario::SlowAnswer).await;
    let request = plain_request().with_timeout(CONFORMANCE_TIMEOUT);
    let started = Instant::now();
    let result = model.generate(&request).await;
    let elapsed = started.elapsed();
    match result {
        Err(ModelError::Timeout(limit)) => assert_eq!(limit, CONFORMANCE_TIMEOUT),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        elapsed < SLOW_DELAY.saturating_sub(Duration::from_secs(2)),
        "the timeout came after {elapsed:?}"
    );
}

/// A rate limit: `RateLimited` with the provider's wait hint, temporary.
pub async fn rate_limited<H: LlmHarness + ?Sized>(harness: &H) {
    let model = harness.model_for(Scenario::RateLimited).await;
    match model.generate(&plain_request()).await {
        Err(e @ ModelError::RateLimited { .. }) => {
            assert!(e.is_temporary());
            assert!(
                matches!(
                    e,
                    ModelError::RateLimited {
                        retry_after: Some(_),
                        ..
                    }
                ),
                "the wait hint was lost: {e:?}"
            );
        }
        other => panic!("expected a rate limit, got {other:?}"),
    }
}

/// A refusal or a safety stop: `Blocked`, never an answer.
pub async fn refusal<H: LlmHarness + ?Sized>(harness: &H) {
    let model = harness.model_for(Scenario::Refusal).await;
    match model.generate(&schema_request()).await {
        Err(ModelError::Blocked { .. }) => {}
        other => panic!("expected Blocked, got {other:?}"),
    }
}

/// An answer cut at the output token cap: `Ok` with `MaxTokens` (the partial text), or
/// `Truncated` when nothing came; never `Stop`.
pub async fn truncated<H: LlmHarness + ?Sized>(harness: &H) {
    let model = harness.model_for(Scenario::Truncated).await;
    let request = LlmRequest::new(
        "You are a storyteller.",
        "Write a long story about a dragon who runs a helpdesk.",
    )
    .with_max_output_tokens(4);
    match model.generate(&request).await {
        Ok(answer) => assert_eq!(answer.finish_reason, FinishReason::MaxTokens, "{answer:?}"),
        Err(ModelError::Truncated) => {}
        Err(other) => panic!("expected a truncated answer, got {other:?}"),
    }
}

/// JSON outside the schema: `MalformedOutput` where the helpdesk reads structured answers
/// (the provider may find it itself, or hand the text on for the strict parse).
pub async fn json_outside_schema<H: LlmHarness + ?Sized>(harness: &H) {
    let model = harness.model_for(Scenario::JsonOutsideSchema).await;
    let result = generate_json::<ConformanceAnswer>(model.as_ref(), &schema_request()).await;
    match result {
        Err(ModelError::MalformedOutput { .. }) => {}
        other => panic!("expected MalformedOutput, got {other:?}"),
    }
}

/// An unknown model: `NotFound`, not temporary.
pub async fn unknown_model<H: LlmHarness + ?Sized>(harness: &H) {
    let model = harness.model_for(Scenario::UnknownModel).await;
    match model.generate(&plain_request()).await {
        Err(e @ ModelError::NotFound { .. }) => assert!(!e.is_temporary()),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

/// A prompt longer than the context window: `ContextOverflow` (not a generic invalid
/// request, so callers can shorten the prompt), not temporary.
pub async fn context_overflow<H: LlmHarness + ?Sized>(harness: &H) {
    let model = harness.model_for(Scenario::ContextOverflow).await;
    let request = LlmRequest::new("Answer briefly.", overflow_prompt()).with_max_output_tokens(16);
    match model.generate(&request).await {
        Err(e @ ModelError::ContextOverflow { .. }) => assert!(!e.is_temporary()),
        other => panic!("expected ContextOverflow, got {other:?}"),
    }
}

/// Generates one `#[tokio::test]` per provider conformance case, each calling `harness`
/// for a fresh [`LlmHarness`]; `cases = [...]` picks a subset. See the
/// [module docs](crate::testkit::llm_conformance).
#[macro_export]
macro_rules! llm_conformance_tests {
    ($(#[$attr:meta])* harness = $setup:path) => {
        $crate::llm_conformance_tests!($(#[$attr])* harness = $setup, cases = [
            plain_answer, schema_answer, stream_answer, timeout, rate_limited, refusal,
            truncated, json_outside_schema, unknown_model, context_overflow,
        ]);
    };
    ($(#[$attr:meta])* harness = $setup:path, cases = [$($case:ident),* $(,)?]) => {
        $crate::llm_conformance_tests!(@cases [$(#[$attr])*] $setup; $($case,)*);
    };
    (@cases [$($attrs:tt)*] $setup:path; $case:ident, $($rest:ident,)*) => {
        $($attrs)*
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let harness = $setup().await;
            $crate::testkit::llm_conformance::$case(&harness).await;
        }
        $crate::llm_conformance_tests!(@cases [$($attrs)*] $setup; $($rest,)*);
    };
    (@cases [$($attrs:tt)*] $setup:path;) => {};
}

//! A provider chain: the primary model's provider failures hand the request to the next
//! model, triage records which model answered, and a failure of the request itself is not
//! handed on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ai_common;
mod common;

use std::sync::Arc;
use std::time::Duration;

use ai_common::{Named, Wiring, ai_world_with, triage_json};
use helpdesk_core::ai::{ModelChain, stands_in_for};
use helpdesk_core::domain::TriageSource;
use helpdesk_core::service::NewTicket;
use helpdesk_core::testkit::{MockLanguageModel, MockTurn};
use helpdesk_core::{BlockReason, LanguageModel, LlmRequest, ModelError};

fn chain(primary: &Arc<MockLanguageModel>, fallback: &Arc<MockLanguageModel>) -> ModelChain {
    ModelChain::new(
        Arc::new(Named("gemini-primary", primary.clone())),
        [Arc::new(Named("ollama-fallback", fallback.clone())) as Arc<dyn LanguageModel>],
    )
}

fn wiring() -> Wiring {
    Wiring {
        model: true,
        llm_triage: true,
        embedder: false,
        kb: false,
    }
}

#[tokio::test]
async fn a_rate_limited_primary_hands_triage_to_the_fallback_which_is_recorded() {
    let primary = Arc::new(MockLanguageModel::new([MockTurn::Error(
        ModelError::RateLimited {
            retry_after: Some(Duration::from_secs(30)),
            message: "quota".into(),
        },
    )]));
    let fallback = Arc::new(MockLanguageModel::new([MockTurn::Json(triage_json(
        "billing",
        "high",
        &["billing"],
        0.9,
    ))]));
    let model = Arc::new(chain(&primary, &fallback));
    assert_eq!(model.model_id(), "gemini-primary > ollama-fallback");
    let ai = ai_world_with(wiring(), Vec::new(), move |b| b.language_model(model)).await;
    let w = &ai.w;
    let t =
        w.hd.open_ticket(
            &w.customer,
            NewTicket::new("Double charge", "Charged twice"),
        )
        .await
        .unwrap()
        .ticket;
    let triage = t.triage.clone().unwrap();
    assert_eq!(triage.source, TriageSource::Llm);
    assert_eq!(triage.model.as_deref(), Some("ollama-fallback"));
    assert_eq!(t.category.as_deref(), Some("billing"));
    assert_eq!((primary.calls(), fallback.calls()), (1, 1));
    // The primary got the same request the fallback answered.
    assert_eq!(primary.requests(), fallback.requests());
}

#[tokio::test]
async fn a_healthy_primary_answers_alone_and_is_recorded() {
    let primary = Arc::new(MockLanguageModel::new([MockTurn::Json(triage_json(
        "billing",
        "low",
        &["billing"],
        0.9,
    ))]));
    let fallback = Arc::new(MockLanguageModel::new([]));
    let model = Arc::new(chain(&primary, &fallback));
    let ai = ai_world_with(wiring(), Vec::new(), move |b| b.language_model(model)).await;
    let w = &ai.w;
    let t =
        w.hd.open_ticket(
            &w.customer,
            NewTicket::new("Invoice", "Where is my invoice?"),
        )
        .await
        .unwrap()
        .ticket;
    assert_eq!(t.triage.unwrap().model.as_deref(), Some("gemini-primary"));
    assert_eq!(fallback.calls(), 0);
}

#[tokio::test]
async fn the_requests_own_failures_are_not_handed_on_and_an_exhausted_chain_fails() {
    let request = LlmRequest::new("system", "user");
    for error in [
        ModelError::Blocked {
            reason: BlockReason::Safety,
        },
        ModelError::InvalidRequest {
            message: "bad schema".into(),
        },
        ModelError::Truncated,
    ] {
        assert!(!stands_in_for(&error), "{error:?}");
        let primary = Arc::new(MockLanguageModel::new([MockTurn::Error(error)]));
        let fallback = Arc::new(MockLanguageModel::new([MockTurn::Text("never".into())]));
        let e = chain(&primary, &fallback)
            .generate(&request)
            .await
            .unwrap_err();
        assert!(!stands_in_for(&e), "{e:?}");
        assert_eq!(fallback.calls(), 0);
    }
    let down = |status| {
        Arc::new(MockLanguageModel::new([MockTurn::Error(
            ModelError::Unavailable {
                status,
                message: "down".into(),
            },
        )]))
    };
    let (primary, fallback) = (down(503), down(502));
    let e = chain(&primary, &fallback)
        .generate(&request)
        .await
        .unwrap_err();
    assert!(
        matches!(e, ModelError::Unavailable { status: 502, .. }),
        "{e:?}"
    );
    let (primary, fallback) = (down(503), down(502));
    let started = chain(&primary, &fallback).stream(&request).await;
    assert!(started.is_err(), "no model of the chain could stream");
}

#[tokio::test]
async fn a_prompt_too_long_for_the_primary_goes_to_a_model_with_a_larger_window() {
    let overflow = ModelError::ContextOverflow {
        message: "the input token count exceeds the maximum number of tokens allowed".into(),
    };
    assert!(stands_in_for(&overflow));
    let primary = Arc::new(MockLanguageModel::new([MockTurn::Error(overflow)]));
    let fallback = Arc::new(MockLanguageModel::new([MockTurn::Text("fits".into())]));
    let answer = chain(&primary, &fallback)
        .generate(&LlmRequest::new("system", "a very long conversation"))
        .await
        .unwrap();
    assert_eq!(
        (answer.text.as_str(), answer.model.as_str()),
        ("fits", "ollama-fallback")
    );
    assert_eq!(fallback.calls(), 1);
}

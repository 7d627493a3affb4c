//! The circuit breaker around the language model and the chat turn budget (issue 16 item
//! 6): after repeated temporary failures every use-case takes its offline path at once,
//! staff can see since when and why, a trial call after the cool-down closes it again, and
//! a hanging model never holds a chat turn longer than the budget.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ai_common;
mod common;

use std::time::Duration;

use ai_common::{AiWorld, Wiring, ai_world, ai_world_with, chat_json};
use helpdesk_core::ai::{AiStatus, ChatReply, ChatTurnOutcome, DegradedReason, SummarySource};
use helpdesk_core::domain::{ChatSession, ChatState, DraftSource, TriageSource};
use helpdesk_core::service::HelpdeskConfig;
use helpdesk_core::service::NewTicket;
use helpdesk_core::testkit::MockTurn;
use helpdesk_core::{Error, Helpdesk, ModelError};

const QUESTION: &str = "How do I reset my password?";

fn rate_limited() -> MockTurn {
    MockTurn::Error(ModelError::RateLimited {
        retry_after: None,
        message: "quota exceeded".into(),
    })
}

fn unavailable() -> MockTurn {
    MockTurn::Error(ModelError::Unavailable {
        status: 503,
        message: "overloaded".into(),
    })
}

async fn breaker_world(wiring: Wiring, turns: Vec<MockTurn>, config: HelpdeskConfig) -> AiWorld {
    let ai = ai_world_with(wiring, turns, move |b| b.config(config)).await;
    ai.standard_articles().await;
    ai
}

async fn say(ai: &AiWorld, s: &ChatSession, text: &str) -> ChatTurnOutcome {
    ai.w.hd
        .chat_message(&ai.w.customer, s.id, text)
        .await
        .unwrap()
}

/// The offline bot's answer: the password article quoted, the session still the bot's.
fn assert_offline_answer(out: &ChatTurnOutcome) {
    let ChatReply::Answered(answer) = &out.reply else {
        panic!("expected the offline answer, got {:?}", out.reply);
    };
    assert!(
        answer
            .body
            .starts_with("From our help center, \"Reset your password\""),
        "{}",
        answer.body
    );
    assert_eq!(answer.citations.len(), 1);
    assert_eq!(out.session.state, ChatState::Bot);
}

fn cited_chunk(out: &ChatTurnOutcome) -> String {
    match &out.reply {
        ChatReply::Answered(answer) => answer.citations[0].chunk_id.clone(),
        other => panic!("expected an answer, got {other:?}"),
    }
}

#[tokio::test]
async fn rate_limits_open_the_breaker_then_a_trial_after_the_cool_down_closes_it() {
    let config = HelpdeskConfig::default();
    let threshold = config.breaker_failure_threshold as usize;
    let cool_down = config.breaker_cool_down;
    let turns = (0..threshold).map(|_| rate_limited()).collect();
    let ai = breaker_world(Wiring::FULL, turns, config).await;
    let w = &ai.w;
    assert_eq!(w.hd.ai_status(), AiStatus::Healthy);
    let s = w.hd.start_chat(&w.customer).await.unwrap();

    // Each rate-limited turn is answered offline from the knowledge base (no handoff).
    let mut first = None;
    for n in 1..=threshold {
        let out = say(&ai, &s, QUESTION).await;
        assert_offline_answer(&out);
        first.get_or_insert(out);
        assert_eq!(ai.model.calls(), n);
        if n < threshold {
            assert_eq!(w.hd.ai_status(), AiStatus::Healthy, "after {n} failures");
        }
    }
    let opened_at = w.hd.now();
    let degraded = AiStatus::Degraded {
        since: opened_at,
        reason: DegradedReason::RateLimited,
        retry_at: opened_at + cool_down,
    };
    assert_eq!(w.hd.ai_status(), degraded);

    // Open: the next turn answers offline at once without calling the model.
    let started = tokio::time::Instant::now();
    let out = say(&ai, &s, QUESTION).await;
    assert_offline_answer(&out);
    assert_eq!(
        ai.model.calls(),
        threshold,
        "the open breaker calls no model"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    // A question the knowledge base cannot answer is handed off, saying why.
    let other = w.hd.start_chat(&w.customer).await.unwrap();
    let out = say(&ai, &other, "zzz qqq xyzzy").await;
    let ChatReply::HandedOff { reason, .. } = &out.reply else {
        panic!("expected a handoff, got {:?}", out.reply);
    };
    assert!(
        reason.starts_with("model skipped while degraded (rate_limited); no "),
        "{reason}"
    );
    assert_eq!(ai.model.calls(), threshold);

    // Before the cool-down ends nothing changes; after it, the status still says degraded
    // until a trial call succeeds.
    w.clock.advance(cool_down - Duration::from_secs(1));
    say(&ai, &s, QUESTION).await;
    assert_eq!(ai.model.calls(), threshold);
    w.clock.advance(Duration::from_secs(1));
    assert_eq!(w.hd.ai_status(), degraded);

    // The half-open trial: the model answers, the breaker closes.
    let chunk = cited_chunk(&first.unwrap());
    ai.model.push(MockTurn::Json(chat_json(
        "Open the login page and click Forgot password.",
        &[&chunk],
        false,
        false,
    )));
    let out = say(&ai, &s, QUESTION).await;
    let ChatReply::Answered(answer) = &out.reply else {
        panic!("expected the model's answer, got {:?}", out.reply);
    };
    assert_eq!(
        answer.body,
        "Open the login page and click Forgot password."
    );
    assert_eq!(ai.model.calls(), threshold + 1);
    assert_eq!(w.hd.ai_status(), AiStatus::Healthy);
}

#[tokio::test]
async fn a_failed_trial_reopens_for_another_cool_down_and_keeps_the_since_time() {
    let config = HelpdeskConfig {
        breaker_failure_threshold: 1,
        ..HelpdeskConfig::default()
    };
    let cool_down = config.breaker_cool_down;
    let ai = breaker_world(Wiring::FULL, vec![rate_limited(), unavailable()], config).await;
    let w = &ai.w;
    let s = w.hd.start_chat(&w.customer).await.unwrap();
    say(&ai, &s, QUESTION).await;
    let since = w.hd.now();
    w.clock.advance(cool_down);
    let out = say(&ai, &s, QUESTION).await;
    assert_offline_answer(&out);
    assert_eq!(ai.model.calls(), 2, "one trial call");
    assert_eq!(
        w.hd.ai_status(),
        AiStatus::Degraded {
            since,
            reason: DegradedReason::Unavailable,
            retry_at: w.hd.now() + cool_down,
        }
    );
    say(&ai, &s, QUESTION).await;
    assert_eq!(ai.model.calls(), 2, "open again: no call");
}

#[tokio::test(start_paused = true)]
async fn a_hanging_model_gets_the_offline_answer_within_the_chat_turn_budget() {
    let config = HelpdeskConfig::default();
    let budget = config.chat_turn_budget;
    assert!(
        budget <= Duration::from_secs(5),
        "the default is a few seconds"
    );
    assert!(config.model_timeout > budget);
    let hang = MockTurn::Delay(
        Duration::from_secs(600),
        Box::new(MockTurn::Json(chat_json("too late", &[], false, false))),
    );
    let ai = breaker_world(Wiring::FULL, vec![hang], config).await;
    let w = &ai.w;
    let s = w.hd.start_chat(&w.customer).await.unwrap();
    let started = tokio::time::Instant::now();
    let out = say(&ai, &s, QUESTION).await;
    let waited = started.elapsed();
    assert_offline_answer(&out);
    assert!(waited <= budget, "waited {waited:?}, budget {budget:?}");
    assert!(
        waited >= budget - Duration::from_millis(100),
        "the model had the budget"
    );
    assert!(ai.model.requests()[0].timeout.unwrap() <= budget);
    // One timeout counts toward the breaker but does not open it alone.
    assert_eq!(w.hd.ai_status(), AiStatus::Healthy);
}

#[tokio::test(start_paused = true)]
async fn hangs_past_the_budget_open_the_breaker_as_timeouts() {
    let config = HelpdeskConfig {
        breaker_failure_threshold: 2,
        chat_turn_budget: Duration::from_secs(2),
        ..HelpdeskConfig::default()
    };
    let hang = || MockTurn::Delay(Duration::from_secs(600), Box::new(unavailable()));
    let ai = breaker_world(Wiring::FULL, vec![hang(), hang()], config).await;
    let w = &ai.w;
    let s = w.hd.start_chat(&w.customer).await.unwrap();
    say(&ai, &s, QUESTION).await;
    say(&ai, &s, QUESTION).await;
    assert!(matches!(
        w.hd.ai_status(),
        AiStatus::Degraded {
            reason: DegradedReason::Timeout,
            ..
        }
    ));
}

#[tokio::test]
async fn drafts_and_summaries_while_open_come_from_the_offline_path() {
    let config = HelpdeskConfig {
        breaker_failure_threshold: 1,
        ..HelpdeskConfig::default()
    };
    let ai = breaker_world(Wiring::FULL, vec![unavailable()], config).await;
    let w = &ai.w;
    let t =
        w.hd.open_ticket(
            &w.customer,
            NewTicket::new("Password reset", "How do I reset my password?"),
        )
        .await
        .unwrap()
        .ticket;
    // The failing call (a summary) opens the breaker.
    let summary = w.hd.summarize(&w.agent, t.id).await.unwrap();
    assert_eq!(summary.source, SummarySource::Extractive);
    assert!(w.hd.ai_status().is_degraded());

    let summary = w.hd.summarize(&w.agent, t.id).await.unwrap();
    assert_eq!(summary.source, SummarySource::Extractive);
    assert!(
        summary.summary.starts_with("[Extractive summary"),
        "{}",
        summary.summary
    );
    let draft = w.hd.suggest_reply(&w.agent, t.id).await.unwrap();
    assert_eq!(draft.draft.as_ref().unwrap().source, DraftSource::KbPassage);
    assert!(
        draft.body.starts_with("[Suggested from a template"),
        "{}",
        draft.body
    );
    assert_eq!(ai.model.calls(), 1, "only the call that opened it");
}

#[tokio::test]
async fn triage_while_open_uses_the_rules_and_records_why() {
    let config = HelpdeskConfig {
        breaker_failure_threshold: 1,
        ..HelpdeskConfig::default()
    };
    let wiring = Wiring {
        llm_triage: true,
        ..Wiring::FULL
    };
    let ai = breaker_world(wiring, vec![rate_limited()], config).await;
    let w = &ai.w;
    let open = |subject: &'static str| {
        w.hd.open_ticket(
            &w.customer,
            NewTicket::new(subject, "I was charged twice for my invoice"),
        )
    };
    let first = open("Double charge").await.unwrap().ticket;
    let triage = first.triage.unwrap();
    assert_eq!(triage.fallbacks[0].source, TriageSource::Llm);
    assert_eq!(triage.fallbacks[0].reason, "rate_limited");
    assert!(w.hd.ai_status().is_degraded());

    let second = open("Charged twice").await.unwrap().ticket;
    let triage = second.triage.unwrap();
    assert_ne!(triage.source, TriageSource::Llm);
    assert_eq!(triage.fallbacks[0].reason, "circuit_open: rate_limited");
    assert_eq!(ai.model.calls(), 1);
}

#[tokio::test]
async fn without_a_model_the_status_says_not_configured() {
    let ai = ai_world(Wiring::NO_MODEL, vec![]).await;
    assert_eq!(ai.w.hd.ai_status(), AiStatus::NotConfigured);
}

#[test]
fn the_breaker_settings_are_validated() {
    let build = |config: HelpdeskConfig| {
        Helpdesk::builder(std::sync::Arc::new(helpdesk_core::store::MemoryStore::new()))
            .config(config)
            .build()
    };
    for (config, field) in [
        (
            HelpdeskConfig {
                breaker_failure_threshold: 0,
                ..HelpdeskConfig::default()
            },
            "breaker_failure_threshold",
        ),
        (
            HelpdeskConfig {
                chat_turn_budget: Duration::ZERO,
                ..HelpdeskConfig::default()
            },
            "chat_turn_budget",
        ),
    ] {
        match build(config) {
            Err(Error::Configuration { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }
}

//! What AI costs: every answered model call of triage, drafts, summaries and the chat is
//! recorded per tenant and use case with its tokens, committed with the use case's write
//! (or on its own when there is none), shown per day in analytics; calls that failed
//! without an answer cost nothing; the draft records the model of a chain that wrote it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ai_common;
mod common;

use std::sync::Arc;
use std::time::Duration;

use ai_common::{Named, Wiring, ai_world_with, chat_json, triage_json};
use futures_util::StreamExt;
use helpdesk_core::ai::ModelChain;
use helpdesk_core::domain::{Actor, AiUseCase, DraftSource, Role};
use helpdesk_core::llm::UsageTally;
use helpdesk_core::service::{NewTenant, NewTicket, NewUser};
use helpdesk_core::store::TimeRange;
use helpdesk_core::testkit::{MockLanguageModel, MockTurn};
use helpdesk_core::{LanguageModel, LlmRequest, ModelError};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

fn at() -> Timestamp {
    Timestamp::from_second(1_700_000_000).unwrap()
}

#[tokio::test]
async fn a_tally_counts_answers_and_not_failures() {
    let mock = MockLanguageModel::new([
        MockTurn::Text("{\"a\":1}".into()),
        MockTurn::Error(ModelError::Timeout(Duration::from_secs(1))),
        MockTurn::Text("not the json asked for".into()),
    ]);
    let tally = UsageTally::new();
    let model = tally.metered(&mock);
    let request = LlmRequest::new("system", "hello");
    model.generate(&request).await.unwrap();
    assert!(model.generate(&request).await.is_err());
    // An answer the caller then refuses was still paid for.
    model.generate(&request).await.unwrap();
    let usage = tally.take(AiUseCase::Draft, at());
    assert_eq!(usage.len(), 2, "{usage:?}");
    assert!(usage.iter().all(|u| u.use_case == AiUseCase::Draft
        && u.model == "mock"
        && u.prompt_tokens == 10
        && u.output_tokens > 0
        && u.at == at()));
    assert!(tally.is_empty(), "take empties the tally");
}

#[tokio::test]
async fn a_stream_counts_its_last_reported_usage() {
    let mock = MockLanguageModel::new([MockTurn::Text(
        "{\"answer\":\"streamed words, long enough to count\"}".into(),
    )]);
    let tally = UsageTally::new();
    let model = tally.metered(&mock);
    let mut deltas = model
        .stream(&LlmRequest::new("system", "hello"))
        .await
        .unwrap();
    let mut last = None;
    while let Some(delta) = deltas.next().await {
        if let Some(u) = delta.unwrap().usage {
            last = Some(u);
        }
    }
    let last = last.unwrap();
    let usage = tally.take(AiUseCase::Chat, at());
    assert_eq!(usage.len(), 1);
    assert_eq!(
        (usage[0].prompt_tokens, usage[0].output_tokens),
        (last.prompt_tokens, last.output_tokens)
    );
}

#[tokio::test]
async fn every_use_case_records_its_spend_and_analytics_shows_it_per_day() {
    // Triage: the primary is rate limited (no answer, no cost) and the fallback answers.
    // Draft, summary and chat: the primary answers.
    let primary = Arc::new(MockLanguageModel::new([
        MockTurn::Error(ModelError::RateLimited {
            retry_after: None,
            message: "quota".into(),
        }),
        MockTurn::Json(json!({ "reply": "Here is how to pay.", "cited_chunk_ids": [] })),
        MockTurn::Json(json!({ "summary": "Cannot pay.", "open_questions": [] })),
        // The chat's first message opens its ticket, which is triaged too.
        MockTurn::Json(triage_json("billing", "low", &["billing"], 0.8)),
        MockTurn::Json(chat_json("", &[], true, false)),
    ]));
    let fallback = Arc::new(MockLanguageModel::new([MockTurn::Json(triage_json(
        "billing",
        "high",
        &["billing"],
        0.9,
    ))]));
    let model = Arc::new(ModelChain::new(
        Arc::new(Named("gemini-primary", primary.clone())),
        [Arc::new(Named("ollama-fallback", fallback.clone())) as Arc<dyn LanguageModel>],
    ));
    let wiring = Wiring {
        model: true,
        llm_triage: true,
        embedder: false,
        kb: false,
    };
    let ai = ai_world_with(wiring, Vec::new(), move |b| b.language_model(model)).await;
    let w = &ai.w;
    let t =
        w.hd.open_ticket(&w.customer, NewTicket::new("Payment", "My card is refused"))
            .await
            .unwrap()
            .ticket;
    let draft = w.hd.suggest_reply(&w.agent, t.id).await.unwrap();
    let info = draft.draft.unwrap();
    assert_eq!(info.source, DraftSource::Llm);
    assert_eq!(info.model.as_deref(), Some("gemini-primary"));
    w.clock.advance(Duration::from_secs(24 * 3600));
    w.hd.summarize(&w.agent, t.id).await.unwrap();
    let s = w.hd.start_chat(&w.customer).await.unwrap();
    w.hd.chat_message(&w.customer, s.id, "Anyone there about my card?")
        .await
        .unwrap();

    let now = w.hd.now();
    let range = TimeRange::new(
        now.checked_sub(SignedDuration::from_hours(72)).unwrap(),
        now.checked_add(SignedDuration::from_hours(1)).unwrap(),
    )
    .unwrap();
    let report = w.hd.analytics(&w.admin, range).await.unwrap();
    let rows: Vec<(AiUseCase, &str, u64)> = report
        .model_usage
        .iter()
        .map(|d| (d.use_case, d.model.as_str(), d.calls))
        .collect();
    assert_eq!(
        rows,
        vec![
            (AiUseCase::Triage, "ollama-fallback", 1),
            (AiUseCase::Draft, "gemini-primary", 1),
            (AiUseCase::Triage, "gemini-primary", 1),
            (AiUseCase::Summary, "gemini-primary", 1),
            (AiUseCase::Chat, "gemini-primary", 1),
        ]
    );
    let days: Vec<_> = report.model_usage.iter().map(|d| d.day).collect();
    assert_eq!(days[0], days[1], "triage and draft on the first day");
    assert!(
        days[2..].iter().all(|d| *d == days[2]),
        "the rest a day later"
    );
    assert!(days[0] < days[2]);
    assert!(
        report
            .model_usage
            .iter()
            .all(|d| d.prompt_tokens == 10 && d.output_tokens > 0)
    );
    let totals = report.model_usage_totals();
    assert_eq!(totals.len(), 5);
    assert_eq!(primary.remaining(), 0, "every scripted turn was used");

    // Another tenant's admin sees none of it; agents may not read it.
    let (_, other_admin) =
        w.hd.register_tenant(NewTenant {
            name: "Globex".into(),
            slug: "globex".into(),
            admin: NewUser::new("admin@globex.test", "Gil", Role::Admin),
            settings: None,
        })
        .await
        .unwrap();
    let theirs =
        w.hd.analytics(&Actor::for_user(&other_admin), range)
            .await
            .unwrap();
    assert!(theirs.model_usage.is_empty());
    assert!(w.hd.analytics(&w.agent, range).await.is_err());
}

#[tokio::test]
async fn a_failed_draft_still_records_what_its_answer_cost() {
    // The model answers outside the schema: the draft falls back to the template, and the
    // spent tokens are still counted, with the template draft's write.
    let ai = ai_world_with(
        Wiring::FULL,
        vec![MockTurn::Text("{\"not\": \"a draft\"}".into())],
        |b| b,
    )
    .await;
    let w = &ai.w;
    let t =
        w.hd.open_ticket(&w.customer, NewTicket::new("Login", "I cannot log in"))
            .await
            .unwrap()
            .ticket;
    let draft = w.hd.suggest_reply(&w.agent, t.id).await.unwrap();
    let info = draft.draft.unwrap();
    assert_ne!(info.source, DraftSource::Llm);
    assert_eq!(info.model, None);
    let now = w.hd.now();
    let range = TimeRange::new(
        now.checked_sub(SignedDuration::from_hours(1)).unwrap(),
        now.checked_add(SignedDuration::from_hours(1)).unwrap(),
    )
    .unwrap();
    let report = w.hd.analytics(&w.admin, range).await.unwrap();
    assert_eq!(report.model_usage.len(), 1);
    assert_eq!(report.model_usage[0].use_case, AiUseCase::Draft);
    assert_eq!(report.model_usage[0].calls, 1);
}

/// The spend rides in the use case's own commit: intake with model triage and a model
/// draft still commit once each; a summary, which writes nothing else, commits once (its
/// usage), and a summary without a model (nothing spent) commits nothing.
#[tokio::test]
async fn the_spend_adds_no_commit_to_a_use_case_that_writes() {
    use helpdesk_core::store::MemoryStore;
    use helpdesk_core::testkit::CountingStore;
    use helpdesk_core::{Helpdesk, Store};

    let counted = Arc::new(CountingStore::new(
        Arc::new(MemoryStore::new()) as Arc<dyn Store>
    ));
    let model = Arc::new(MockLanguageModel::new([
        MockTurn::Json(triage_json("billing", "high", &["billing"], 0.9)),
        MockTurn::Json(json!({ "reply": "Here is how to pay.", "cited_chunk_ids": [] })),
        MockTurn::Json(json!({ "summary": "Cannot pay.", "open_questions": [] })),
    ]));
    let hd = Helpdesk::builder(counted.clone())
        .language_model(model.clone())
        .build()
        .unwrap();
    let (_, admin) = hd
        .register_tenant(NewTenant {
            name: "Acme".into(),
            slug: "acme".into(),
            admin: NewUser::new("admin@acme.test", "Ada", Role::Admin),
            settings: None,
        })
        .await
        .unwrap();
    let admin = Actor::for_user(&admin);
    let agent = Actor::for_user(
        &hd.add_user(&admin, NewUser::new("agent@acme.test", "Bob", Role::Agent))
            .await
            .unwrap(),
    );
    let customer = Actor::for_user(
        &hd.add_user(&admin, NewUser::new("carl@c.test", "Carl", Role::Customer))
            .await
            .unwrap(),
    );
    counted.take();
    let t = hd
        .open_ticket(&customer, NewTicket::new("Payment", "My card is refused"))
        .await
        .unwrap()
        .ticket;
    assert_eq!(counted.take().commits, 1, "intake");
    hd.suggest_reply(&agent, t.id).await.unwrap();
    assert_eq!(counted.take().commits, 1, "a model draft");
    hd.summarize(&agent, t.id).await.unwrap();
    assert_eq!(
        counted.take().commits,
        1,
        "a model summary records its spend"
    );
    // The script is spent: the summary falls back to extractive (the failed call got no
    // answer, so nothing is spent and nothing is written).
    hd.summarize(&agent, t.id).await.unwrap();
    assert_eq!(counted.take().commits, 0, "an extractive summary");
    assert_eq!(model.remaining(), 0);
}

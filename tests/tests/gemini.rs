//! The helpdesk's AI use-cases end to end with the real `GeminiClient` pointed at the
//! faithful Gemini mock server: triage (and its fall-through when Gemini fails), a draft
//! edited and sent, and a grounded chat answer with its citation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use helpdesk_core::ai::{ChatReply, DraftDecision};
use helpdesk_core::domain::{Actor, Article, DraftSource, DraftState, Priority, TriageSource};
use helpdesk_core::service::NewTicket;
use helpdesk_core::store::{MemoryStore, TimeRange};
use helpdesk_core::testkit::{FakeEmbedder, InMemoryKnowledgeBase, ManualClock};
use helpdesk_core::{ArticleId, Helpdesk, KnowledgeBase, LanguageModel, Store};
use helpdesk_llm_gemini::RetryPolicy;
use helpdesk_llm_gemini::mock::{Endpoint, MockGemini, MockReply};
use helpdesk_tests::{NimbusPeople, register_nimbus};
use serde_json::json;

struct World {
    hd: Helpdesk,
    store: Arc<dyn Store>,
    kb: Arc<InMemoryKnowledgeBase>,
    mock: MockGemini,
    admin: Actor,
    agent: Actor,
    customer: Actor,
}

async fn world() -> World {
    let mock = MockGemini::start().await.unwrap();
    let gemini = mock
        .client_builder()
        .retry_policy(
            RetryPolicy::default()
                .with_jitter(0.0)
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let model: Arc<dyn LanguageModel> = Arc::new(gemini);
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let kb = Arc::new(InMemoryKnowledgeBase::new(Arc::new(FakeEmbedder::new())));
    let hd = Helpdesk::builder(store.clone())
        .clock(Arc::new(ManualClock::new(
            "2026-03-02T09:00:00Z".parse().unwrap(),
        )))
        .language_model(model)
        .knowledge_base(kb.clone())
        .embedder(Arc::new(FakeEmbedder::new()))
        .build()
        .unwrap();
    let NimbusPeople {
        admin,
        agent,
        customer,
    } = register_nimbus(&hd).await;
    World {
        hd,
        store,
        kb,
        mock,
        admin,
        agent,
        customer,
    }
}

async fn add_article(w: &World, title: &str, body: &str) -> Article {
    let now = w.hd.now();
    let article = Article {
        id: ArticleId::new(),
        tenant_id: w.admin.tenant_id,
        title: title.into(),
        body: body.into(),
        tags: vec![],
        created_at: now,
        updated_at: now,
        version: 1,
    };
    w.store.create_article(&article).await.unwrap();
    w.kb.upsert_article(&article).await.unwrap();
    article
}

#[tokio::test]
async fn gemini_triages_a_ticket_with_the_tenants_schema() {
    let w = world().await;
    w.mock.push_reply(MockReply::Json(json!({
        "summary": "Customer locked out after password reset",
        "category": "account",
        "priority": "high",
        "required_skills": ["account"],
        "sentiment": "negative",
        "language": "en",
        "confidence": 0.92
    })));
    let t =
        w.hd.open_ticket(
            &w.customer,
            NewTicket::new("Can't get in", "Reset my password twice, still locked out!"),
        )
        .await
        .unwrap()
        .ticket;
    let triage = t.triage.clone().unwrap();
    assert_eq!(triage.source, TriageSource::Llm);
    assert_eq!(t.category.as_deref(), Some("account"));
    assert_eq!(t.priority, Priority::High);
    assert_eq!(t.language.as_deref(), Some("en"));
    assert_eq!(t.assignee, Some(w.agent.user_id));

    let req = w.mock.last_request().unwrap();
    assert_eq!(req.endpoint, Endpoint::GenerateContent);
    assert!(
        req.api_key_header.is_some() && !req.key_in_query,
        "key in the header only"
    );
    let cfg = &req.body["generationConfig"];
    assert_eq!(cfg["responseMimeType"], "application/json");
    let categories = cfg["responseJsonSchema"]["properties"]["category"]["enum"].clone();
    assert_eq!(
        categories,
        json!(["account", "billing", "technical", "other"])
    );
    let system = req.body["systemInstruction"].to_string();
    assert!(
        !system.contains("locked out"),
        "customer text stays out of the system prompt"
    );
}

#[tokio::test]
async fn gemini_failures_fall_through_to_rules_with_the_reason() {
    let w = world().await;
    let cases: Vec<(MockReply, &str)> = vec![
        (MockReply::rate_limited(None), "rate_limited"),
        (MockReply::MaxTokens(None), "truncated"),
        (MockReply::BlockedPrompt("SAFETY".into()), "blocked: safety"),
        (
            MockReply::Text("{\"summary\": \"cut off".into()),
            "malformed_output",
        ),
        (
            MockReply::Json(
                json!({"summary": "x", "category": "lottery", "priority": "urgent", "required_skills": [], "sentiment": "neutral", "language": "en", "confidence": 0.99}),
            ),
            "invalid",
        ),
    ];
    for (reply, reason) in cases {
        w.mock.push_reply(reply);
        let t =
            w.hd.open_ticket(
                &w.customer,
                NewTicket::new("Refund please", "I was charged twice"),
            )
            .await
            .unwrap()
            .ticket;
        let triage = t.triage.unwrap();
        assert_eq!(triage.source, TriageSource::Rules, "{reason}");
        assert_eq!(t.category.as_deref(), Some("billing"), "{reason}");
        assert!(
            triage.fallbacks[0].reason.starts_with(reason),
            "{} vs {reason}",
            triage.fallbacks[0].reason
        );
    }
    // 503 twice: retried within the policy (2 attempts), then rules.
    let before = w.mock.count(Endpoint::GenerateContent);
    w.mock.push_reply(MockReply::unavailable());
    w.mock.push_reply(MockReply::unavailable());
    let t =
        w.hd.open_ticket(
            &w.customer,
            NewTicket::new("Refund please", "charged twice"),
        )
        .await
        .unwrap()
        .ticket;
    assert_eq!(t.triage.unwrap().fallbacks[0].reason, "unavailable");
    assert_eq!(w.mock.count(Endpoint::GenerateContent) - before, 2);
}

#[tokio::test]
async fn a_gemini_draft_is_edited_sent_and_counted() {
    let w = world().await;
    add_article(
        &w,
        "Reset your password",
        "Open the login page and click Forgot password. The link is valid for 30 minutes.",
    )
    .await;
    w.mock.push_reply(MockReply::Json(json!({"summary": "x", "category": "account", "priority": "medium", "required_skills": ["account"], "sentiment": "neutral", "language": "en", "confidence": 0.9})));
    let t =
        w.hd.open_ticket(
            &w.customer,
            NewTicket::new("Password reset link", "How do I reset my password?"),
        )
        .await
        .unwrap()
        .ticket;
    w.mock.push_reply(MockReply::Json(json!({"reply": "Click Forgot password on the login page; the link lasts 30 minutes.", "cited_chunk_ids": []})));
    let draft = w.hd.suggest_reply(&w.agent, t.id).await.unwrap();
    assert_eq!(draft.draft.as_ref().unwrap().source, DraftSource::Llm);
    let customer_view = w.hd.get_ticket(&w.customer, t.id).await.unwrap();
    assert!(
        customer_view.messages.iter().all(|m| m.id != draft.id),
        "drafts are invisible to customers"
    );
    let out =
        w.hd.decide_draft(
            &w.agent,
            t.id,
            draft.id,
            DraftDecision::SendEdited("Hi Carl! Click Forgot password on the login page.".into()),
        )
        .await
        .unwrap();
    assert_eq!(out.draft.draft.as_ref().unwrap().state, DraftState::Edited);
    let reply = out.reply.unwrap();
    assert!(
        w.hd.get_ticket(&w.customer, t.id)
            .await
            .unwrap()
            .messages
            .iter()
            .any(|m| m.id == reply.id)
    );
    let day = TimeRange::new(
        "2026-03-02T00:00:00Z".parse().unwrap(),
        "2026-03-03T00:00:00Z".parse().unwrap(),
    )
    .unwrap();
    let stats = w.hd.analytics(&w.admin, day).await.unwrap().analytics;
    assert_eq!((stats.drafts.proposed, stats.drafts.edited), (1, 1));
    assert_eq!(stats.drafts.acceptance_rate(), Some(1.0));
    assert!(w.mock.count(Endpoint::GenerateContent) >= 2);
}

#[tokio::test]
async fn a_gemini_chat_answer_is_grounded_and_cites_its_article() {
    let w = world().await;
    let article = add_article(
        &w,
        "Reset your password",
        "Open the login page and click Forgot password. The link is valid for 30 minutes.",
    )
    .await;
    let hits =
        w.kb.search(w.admin.tenant_id, "reset password forgot link", 1)
            .await
            .unwrap();
    let chunk_id = hits[0].chunk_id.clone();
    assert_eq!(hits[0].article_id, article.id);

    w.mock.push_reply(MockReply::Json(json!({"summary": "x", "category": "account", "priority": "medium", "required_skills": [], "sentiment": "neutral", "language": "en", "confidence": 0.9})));
    w.mock.push_reply(MockReply::Json(json!({
        "answer": "Click Forgot password on the login page; the link is valid for 30 minutes.",
        "cited_chunk_ids": [chunk_id],
        "handoff": false,
        "handoff_reason": "",
        "resolved": false
    })));
    let session = w.hd.start_chat(&w.customer).await.unwrap();
    let out =
        w.hd.chat_message(
            &w.customer,
            session.id,
            "How do I reset my password? The forgot password link",
        )
        .await
        .unwrap();
    let ChatReply::Answered(answer) = &out.reply else {
        panic!("expected a grounded answer, got {:?}", out.reply);
    };
    assert_eq!(answer.citations.len(), 1);
    assert_eq!(answer.citations[0].article_id, article.id);
    let req = w.mock.last_request().unwrap();
    let allowed = req.body["generationConfig"]["responseJsonSchema"]["properties"]["cited_chunk_ids"]["items"]["enum"].clone();
    assert!(
        allowed
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == &json!(hits[0].chunk_id))
    );

    // Gemini down: the customer is handed to a human, not left with a guess.
    w.mock.push_reply(MockReply::unavailable());
    w.mock.push_reply(MockReply::unavailable());
    let out =
        w.hd.chat_message(&w.customer, session.id, "And how long is the link valid?")
            .await
            .unwrap();
    assert!(
        matches!(out.reply, ChatReply::HandedOff { .. }),
        "{:?}",
        out.reply
    );
}

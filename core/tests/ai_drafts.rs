//! Suggested replies (drafts), summaries and related articles.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ai_common;
mod common;

use ai_common::{AiWorld, Wiring, ai_world, turns_text};
use helpdesk_core::Error;
use helpdesk_core::ai::prompts::{DRAFT_SYSTEM, SUMMARY_SYSTEM};
use helpdesk_core::ai::{DraftDecision, SummarySource};
use helpdesk_core::domain::{
    AiAutonomy, AuthorKind, DraftSource, DraftState, MessageKind, NotificationKind, Ticket,
    TicketStatus,
};
use helpdesk_core::service::{NewReply, NewTicket};
use helpdesk_core::store::TimeRange;
use helpdesk_core::testkit::MockTurn;
use helpdesk_core::{ModelError, TicketId};
use serde_json::json;

const QUESTION: &str = "I cannot log in. How do I reset my password? Is the link valid long?";

async fn ticket(ai: &AiWorld, subject: &str, body: &str) -> Ticket {
    ai.w.hd
        .open_ticket(&ai.w.customer, NewTicket::new(subject, body))
        .await
        .unwrap()
        .ticket
}

fn draft_json(reply: &str, cited: &[String]) -> MockTurn {
    MockTurn::Json(json!({ "reply": reply, "cited_chunk_ids": cited }))
}

async fn drafts_of(ai: &AiWorld, id: TicketId) -> Vec<helpdesk_core::domain::Message> {
    ai.w.hd
        .get_ticket(&ai.w.agent, id)
        .await
        .unwrap()
        .messages
        .into_iter()
        .filter(|m| m.kind == MessageKind::Draft)
        .collect()
}

#[tokio::test]
async fn draft_lifecycle_suggest_edit_send_discard_with_analytics() {
    let ai = ai_world(Wiring::FULL, vec![]).await;
    let (password, _) = ai.standard_articles().await;
    let chunk = format!("{}:0", password.id);
    let w = &ai.w;
    let earlier = ticket(&ai, "Invoice copy", "Please send me last month's invoice.").await;
    let t = ticket(&ai, "Password reset", QUESTION).await;

    // 1. Suggest (model) and send edited.
    ai.model.push(draft_json(
        "Hi! Open the login page and click Forgot password.",
        &[chunk.clone(), "made:up".into()],
    ));
    let draft = w.hd.suggest_reply(&w.agent, t.id).await.unwrap();
    assert_eq!(draft.kind, MessageKind::Draft);
    assert_eq!(draft.author_kind, AuthorKind::Bot);
    let info = draft.draft.clone().unwrap();
    assert_eq!(info.source, DraftSource::Llm);
    assert_eq!(info.state, DraftState::Proposed);
    // Only retrieved chunks are kept as citations.
    assert_eq!(draft.citations.len(), 1);
    assert_eq!(draft.citations[0].chunk_id, chunk);

    let r = &ai.model.requests()[0];
    assert_eq!(r.system, DRAFT_SYSTEM);
    assert!(!r.system.contains("log in"));
    assert!(turns_text(r).contains("<<<KB_PASSAGE"));
    assert!(turns_text(r).contains(&format!(
        "<<<EARLIER_TICKET\n#{} (new): Invoice copy",
        earlier.number
    )));
    assert!(
        r.json_schema.as_ref().unwrap()["properties"]["cited_chunk_ids"]["items"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!(chunk))
    );

    // Customers never see drafts.
    let customer_view = w.hd.get_ticket(&w.customer, t.id).await.unwrap();
    assert!(
        customer_view
            .messages
            .iter()
            .all(|m| m.kind != MessageKind::Draft)
    );
    assert_eq!(drafts_of(&ai, t.id).await.len(), 1);
    assert!(matches!(
        w.hd.suggest_reply(&w.customer, t.id).await,
        Err(Error::Forbidden { .. })
    ));

    let edited =
        "Hi Carl! Open the login page, click Forgot password, and use the link within an hour.";
    let out =
        w.hd.decide_draft(
            &w.agent,
            t.id,
            draft.id,
            DraftDecision::SendEdited(edited.into()),
        )
        .await
        .unwrap();
    let info = out.draft.draft.clone().unwrap();
    assert_eq!(info.state, DraftState::Edited);
    let reply = out.reply.clone().unwrap();
    assert_eq!(info.sent_as, Some(reply.id));
    assert!(info.decided_at.is_some());
    assert_eq!(reply.kind, MessageKind::Reply);
    assert_eq!(reply.author_kind, AuthorKind::Agent);
    assert_eq!(reply.body, edited);
    assert_eq!(out.ticket.first_response_at, Some(w.hd.now()));
    let customer_view = w.hd.get_ticket(&w.customer, t.id).await.unwrap();
    assert!(customer_view.messages.iter().any(|m| m.body == edited));
    assert!(ai.outbox().await.iter().any(|e| matches!(
        e.notification.kind,
        NotificationKind::Replied { .. }
    ) && e.notification.recipients
        == [w.customer.user_id]));
    let events = w.hd.get_ticket(&w.agent, t.id).await.unwrap().events;
    assert!(events.iter().any(|e| e.kind.name() == "draft_decided"));
    // A decision is final.
    assert!(matches!(
        w.hd.decide_draft(&w.agent, t.id, draft.id, DraftDecision::Discard)
            .await,
        Err(Error::InvalidState(_))
    ));

    // 2. Suggest and send as is.
    ai.model.push(draft_json("Glad to help further.", &[]));
    let d2 = w.hd.suggest_reply(&w.agent, t.id).await.unwrap();
    let out =
        w.hd.decide_draft(&w.agent, t.id, d2.id, DraftDecision::Send)
            .await
            .unwrap();
    assert_eq!(out.draft.draft.unwrap().state, DraftState::Accepted);
    assert_eq!(out.reply.unwrap().body, "Glad to help further.");

    // 3. Suggest and discard: nothing is sent.
    ai.model.push(draft_json("Please wait.", &[]));
    let d3 = w.hd.suggest_reply(&w.agent, t.id).await.unwrap();
    let out =
        w.hd.decide_draft(&w.agent, t.id, d3.id, DraftDecision::Discard)
            .await
            .unwrap();
    assert_eq!(out.draft.draft.unwrap().state, DraftState::Discarded);
    assert!(out.reply.is_none());

    // The stored drafts carry their decisions; analytics count them.
    let states: Vec<DraftState> = drafts_of(&ai, t.id)
        .await
        .iter()
        .map(|m| m.draft.as_ref().unwrap().state)
        .collect();
    assert_eq!(states.len(), 3);
    let now = w.hd.now();
    let range = TimeRange::new(
        now.checked_sub(jiff::SignedDuration::from_hours(24))
            .unwrap(),
        now.checked_add(jiff::SignedDuration::from_hours(1))
            .unwrap(),
    )
    .unwrap();
    let report = w.hd.analytics(&w.admin, range).await.unwrap();
    let d = &report.analytics.drafts;
    assert_eq!(
        (d.proposed, d.accepted, d.edited, d.discarded),
        (3, 1, 1, 1)
    );
    assert!((d.acceptance_rate().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert!((d.edit_rate().unwrap() - 0.5).abs() < 1e-9);
}

/// Issue 16 item 2: an offline draft for customer B must never carry customer A's reply
/// (it claimed a refund nobody made for B and named A), and must say where it came from.
#[tokio::test]
async fn offline_drafts_never_copy_another_customers_reply_and_name_their_source() {
    for with_kb in [false, true] {
        let ai = ai_world(Wiring::NO_MODEL, vec![]).await;
        let refunds = if with_kb {
            Some(
                ai.article(
                    "Refunds for duplicate charges",
                    "If you were charged twice, the duplicate charge is refunded within five \
                     working days after we confirm it.",
                )
                .await,
            )
        } else {
            None
        };
        let w = &ai.w;
        // Customer A (Carl): charged twice, an agent refunded it and resolved the ticket.
        let a = ticket(
            &ai,
            "Charged twice",
            "I was charged twice for my subscription this month.",
        )
        .await;
        let answer = "Hi Carl, I can see the duplicate charge and have refunded it in full \
                      to your Visa ending 4242.";
        w.hd.reply(&w.agent, a.id, NewReply::new(answer))
            .await
            .unwrap();
        w.hd.transition(&w.agent, a.id, TicketStatus::Resolved)
            .await
            .unwrap();

        // Customer B (Cora): the same problem.
        let b =
            w.hd.open_ticket(
                &w.customer2,
                NewTicket::new(
                    "Charged twice",
                    "I was charged twice for my subscription this month.",
                ),
            )
            .await
            .unwrap()
            .ticket;
        let draft = w.hd.suggest_reply(&w.agent, b.id).await.unwrap();
        let source = draft.draft.as_ref().unwrap().source;
        assert_ne!(source, DraftSource::SimilarTicket);
        assert!(
            !draft.body.contains("refunded it in full"),
            "{}",
            draft.body
        );
        assert!(!draft.body.contains("4242"), "{}", draft.body);
        assert!(!draft.body.contains("Carl"), "{}", draft.body);
        // It names its source and is built from B's own facts.
        assert!(
            draft.body.starts_with("[Suggested from a template"),
            "{}",
            draft.body
        );
        assert!(draft.body.contains("Hi Cora,"), "{}", draft.body);
        assert!(
            draft.body.contains(&format!("(ticket #{})", b.number)),
            "{}",
            draft.body
        );
        match &refunds {
            Some(article) => {
                assert_eq!(source, DraftSource::KbPassage);
                assert!(
                    draft
                        .body
                        .contains("the knowledge-base article \"Refunds for duplicate charges\"")
                );
                assert!(draft.body.contains("> If you were charged twice"));
                assert_eq!(draft.citations.len(), 1);
                assert_eq!(draft.citations[0].article_id, article.id);
            }
            None => {
                assert_eq!(source, DraftSource::Template);
                assert!(draft.body.contains("no matching knowledge-base article"));
                assert!(draft.citations.is_empty());
            }
        }
        // Sending it as is sends the text without the label.
        let out =
            w.hd.decide_draft(&w.agent, b.id, draft.id, DraftDecision::Send)
                .await
                .unwrap();
        let sent = out.reply.unwrap().body;
        assert!(sent.starts_with("Hi Cora,"), "{sent}");
        assert_eq!(ai.model.calls(), 0);
    }
}

#[tokio::test]
async fn without_a_model_drafts_quote_the_best_kb_passage() {
    let ai = ai_world(Wiring::NO_MODEL, vec![]).await;
    let (password, _) = ai.standard_articles().await;
    let w = &ai.w;
    let t = ticket(&ai, "Password reset", QUESTION).await;
    let draft = w.hd.suggest_reply(&w.agent, t.id).await.unwrap();
    assert_eq!(draft.draft.as_ref().unwrap().source, DraftSource::KbPassage);
    assert!(draft.body.starts_with(
        "[Suggested from a template and the knowledge-base article \"Reset your password\""
    ));
    assert_eq!(draft.citations[0].article_id, password.id);
}

#[tokio::test]
async fn with_no_model_and_no_kb_the_draft_is_a_labelled_template() {
    let ai = ai_world(
        Wiring {
            model: false,
            llm_triage: false,
            embedder: false,
            kb: false,
        },
        vec![],
    )
    .await;
    let t = ticket(&ai, "Password reset", QUESTION).await;
    let draft = ai.w.hd.suggest_reply(&ai.w.agent, t.id).await.unwrap();
    assert_eq!(draft.draft.unwrap().source, DraftSource::Template);
    assert!(
        draft
            .body
            .starts_with("[Suggested from a template, no language model")
    );
    assert!(draft.body.contains("Hi Carl,"));
    assert!(draft.citations.is_empty());
}

#[tokio::test]
async fn autonomy_off_or_a_failing_model_uses_the_labelled_fallback() {
    // Autonomy off: the model is never called.
    let ai = ai_world(Wiring::FULL, vec![draft_json("never used", &[])]).await;
    ai.standard_articles().await;
    ai.autonomy(AiAutonomy::Off).await;
    let t = ticket(&ai, "Password reset", QUESTION).await;
    let draft = ai.w.hd.suggest_reply(&ai.w.agent, t.id).await.unwrap();
    assert_eq!(draft.draft.unwrap().source, DraftSource::KbPassage);
    assert_eq!(ai.model.calls(), 0);
    // Suggest-only autonomy allows the model.
    ai.autonomy(AiAutonomy::Suggest).await;
    let draft = ai.w.hd.suggest_reply(&ai.w.agent, t.id).await.unwrap();
    assert_eq!(draft.draft.unwrap().source, DraftSource::Llm);

    // A failing model.
    let ai = ai_world(
        Wiring::FULL,
        vec![MockTurn::Error(ModelError::Unavailable {
            status: 503,
            message: "down".into(),
        })],
    )
    .await;
    ai.standard_articles().await;
    let t = ticket(&ai, "Password reset", QUESTION).await;
    let draft = ai.w.hd.suggest_reply(&ai.w.agent, t.id).await.unwrap();
    assert_eq!(draft.draft.unwrap().source, DraftSource::KbPassage);
    assert_eq!(ai.model.calls(), 1);
}

#[tokio::test]
async fn summaries_by_model_and_extractive_fallback() {
    let ai = ai_world(
        Wiring::FULL,
        vec![MockTurn::Json(json!({
            "summary": "Carl cannot log in and needs a password reset.",
            "open_questions": ["How long is the reset link valid?"]
        }))],
    )
    .await;
    let t = ticket(&ai, "Password reset", QUESTION).await;
    let s = ai.w.hd.summarize(&ai.w.agent, t.id).await.unwrap();
    assert_eq!(s.source, SummarySource::Llm);
    assert_eq!(s.open_questions, ["How long is the reset link valid?"]);
    assert_eq!(ai.model.requests()[0].system, SUMMARY_SYSTEM);
    // Autonomy off: no model call, the extractive summary.
    ai.autonomy(AiAutonomy::Off).await;
    let s = ai.w.hd.summarize(&ai.w.agent, t.id).await.unwrap();
    assert_eq!(s.source, SummarySource::Extractive);
    assert_eq!(ai.model.calls(), 1);

    let ai = ai_world(Wiring::NO_MODEL, vec![]).await;
    let t = ticket(&ai, "Password reset", QUESTION).await;
    let s = ai.w.hd.summarize(&ai.w.agent, t.id).await.unwrap();
    assert_eq!(s.source, SummarySource::Extractive);
    assert!(
        s.summary
            .starts_with("[Extractive summary, no language model]")
    );
    assert_eq!(
        s.open_questions,
        ["How do I reset my password?", "Is the link valid long?"]
    );
    // Once an agent answered, earlier questions are no longer open.
    ai.w.hd
        .reply(&ai.w.agent, t.id, NewReply::new("Use Forgot password."))
        .await
        .unwrap();
    ai.w.hd
        .reply(
            &ai.w.customer,
            t.id,
            NewReply::new("Thanks. Does it work on mobile?"),
        )
        .await
        .unwrap();
    let s = ai.w.hd.summarize(&ai.w.agent, t.id).await.unwrap();
    assert_eq!(s.open_questions, ["Does it work on mobile?"]);
    assert!(matches!(
        ai.w.hd.summarize(&ai.w.customer, t.id).await,
        Err(Error::Forbidden { .. })
    ));
}

#[tokio::test]
async fn related_articles_come_from_the_tenants_kb() {
    let ai = ai_world(Wiring::NO_MODEL, vec![]).await;
    let (password, billing) = ai.standard_articles().await;
    let t = ticket(&ai, "Password reset", QUESTION).await;
    let hits =
        ai.w.hd
            .related_articles(&ai.w.agent, t.id, 3)
            .await
            .unwrap();
    assert_eq!(hits.len(), 3);
    // Both password paragraphs first, then a billing one.
    assert_eq!(hits[0].article_id, password.id);
    assert_eq!(hits[1].article_id, password.id);
    assert_eq!(hits[2].article_id, billing.id);
    assert!(hits[0].score > hits[2].score);
    assert!(matches!(
        ai.w.hd.related_articles(&ai.w.agent, t.id, 0).await,
        Err(Error::Validation { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_decisions_on_one_draft_commit_exactly_once() {
    let ai = ai_world(Wiring::FULL, vec![]).await;
    let w = &ai.w;
    let t = ticket(&ai, "Password reset", QUESTION).await;
    for round in 0..10 {
        ai.model
            .push(draft_json(&format!("Try Forgot password ({round})."), &[]));
        let draft = w.hd.suggest_reply(&w.agent, t.id).await.unwrap();
        let (hd1, hd2) = (w.hd.clone(), w.hd.clone());
        let (a1, a2) = (w.agent.clone(), w.agent2.clone());
        let send = tokio::spawn(async move {
            hd1.decide_draft(&a1, t.id, draft.id, DraftDecision::Send)
                .await
        });
        let discard = tokio::spawn(async move {
            hd2.decide_draft(&a2, t.id, draft.id, DraftDecision::Discard)
                .await
        });
        let (a, b) = (send.await.unwrap(), discard.await.unwrap());
        assert!(
            a.is_ok() != b.is_ok(),
            "exactly one decision wins: {a:?} {b:?}"
        );
        let loser = if a.is_ok() { b } else { a };
        assert!(matches!(loser, Err(Error::InvalidState(_))));
    }
    let events = w.hd.get_ticket(&w.agent, t.id).await.unwrap().events;
    let decided = events
        .iter()
        .filter(|e| e.kind.name() == "draft_decided")
        .count();
    assert_eq!(decided, 10);
}

/// Issue 16 item 5: the offline summary of a realistic thread picks the sentences that
/// carry the problem, not the greeting on the first line ("#7: Hello,").
#[tokio::test]
async fn extractive_summary_picks_the_problem_sentences_not_the_greeting() {
    let ai = ai_world(Wiring::NO_MODEL, vec![]).await;
    let w = &ai.w;
    let t = ticket(
        &ai,
        "Export to CSV fails",
        "Hello,\n\nI hope you are well. We have used your product for two years now and \
         we are happy with it.\n\nSince Monday the CSV export of our orders fails with \
         error 500 after about a minute. We need the export for our monthly accounting \
         on Friday.\n\nIs there a workaround until it is fixed?\n\nThanks in advance,\n\
         Carl",
    )
    .await;
    w.hd.reply(
        &w.agent,
        t.id,
        NewReply::new("Thanks Carl, which browser do you use?"),
    )
    .await
    .unwrap();
    w.hd.reply(
        &w.customer,
        t.id,
        NewReply::new(
            "Hi again,\nIt is Firefox 128. The export also fails in Chrome with the same \
             error. Does it depend on the number of orders?\nBest,\nCarl",
        ),
    )
    .await
    .unwrap();
    let s = w.hd.summarize(&w.agent, t.id).await.unwrap();
    assert_eq!(s.source, SummarySource::Extractive);
    assert_eq!(
        s.summary,
        format!(
            "[Extractive summary, no language model] #{} \"Export to CSV fails\": Since \
             Monday the CSV export of our orders fails with error 500 after about a minute. \
             Is there a workaround until it is fixed? Latest from the customer: The export \
             also fails in Chrome with the same error.",
            t.number
        )
    );
    assert!(!s.summary.contains("Hello"));
    assert_eq!(
        s.open_questions,
        ["Does it depend on the number of orders?"]
    );
    // Deterministic: the same thread gives the same summary.
    assert_eq!(w.hd.summarize(&w.agent, t.id).await.unwrap(), s);
}

//! Issue 16 item 4: a plain "hello" deserves a greeting, not a human; a question still goes
//! to the knowledge base, and the autonomy rule still holds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ai_common;
mod common;

use ai_common::{Wiring, ai_world};
use helpdesk_core::ai::ChatReply;
use helpdesk_core::domain::{AiAutonomy, AuthorKind, ChatState, MessageKind, TicketStatus};

#[tokio::test]
async fn a_plain_greeting_is_greeted_back_without_a_handoff_or_a_model_call() {
    for wiring in [Wiring::NO_MODEL, Wiring::FULL] {
        let ai = ai_world(wiring, vec![]).await;
        ai.standard_articles().await;
        let w = &ai.w;
        let s = w.hd.start_chat(&w.customer).await.unwrap();
        let out =
            w.hd.chat_message(&w.customer, s.id, "Hello!")
                .await
                .unwrap();
        let ChatReply::Greeted(greeting) = &out.reply else {
            panic!("expected a greeting, got {:?}", out.reply);
        };
        assert_eq!(greeting.author_kind, AuthorKind::Bot);
        assert_eq!(greeting.kind, MessageKind::Chat);
        assert!(
            greeting
                .body
                .starts_with("Hello! I'm the virtual assistant.")
        );
        assert!(greeting.citations.is_empty());
        assert_eq!(out.session.state, ChatState::Bot);
        assert_eq!(out.session.handoff_reason, None);
        assert_eq!(ai.model.calls(), 0, "a greeting needs no model");
        assert!(ai.handoffs().await.is_empty());
        let t =
            w.hd.get_ticket(&w.agent, out.session.ticket_id.unwrap())
                .await
                .unwrap()
                .ticket;
        assert!(t.is_bot_chat());
        assert_eq!(t.status, TicketStatus::New);
        // The next turn with a question is searched as usual (offline: a strong passage).
        if !wiring.model {
            let out =
                w.hd.chat_message(&w.customer, s.id, "How do I reset my password?")
                    .await
                    .unwrap();
            assert!(
                matches!(out.reply, ChatReply::Answered(_)),
                "{:?}",
                out.reply
            );
        }
    }
}

#[tokio::test]
async fn below_auto_reply_a_greeting_still_goes_to_a_human() {
    let ai = ai_world(Wiring::NO_MODEL, vec![]).await;
    ai.autonomy(AiAutonomy::Suggest).await;
    let w = &ai.w;
    let s = w.hd.start_chat(&w.customer).await.unwrap();
    let out = w.hd.chat_message(&w.customer, s.id, "hi").await.unwrap();
    assert!(
        matches!(out.reply, ChatReply::HandedOff { .. }),
        "{:?}",
        out.reply
    );
}

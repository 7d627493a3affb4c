//! Replies in the customer's language: a draft for a ticket triage found to be in German
//! asks the model for German, says so on its first line, and that line is not sent; an
//! English ticket's draft names no language; the chatbot is told to answer in the language
//! the customer writes in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ai_common;
mod common;

use ai_common::{Wiring, ai_world, chat_json, turns_text};
use helpdesk_core::ai::DraftDecision;
use helpdesk_core::ai::prompts::CHAT_SYSTEM;
use helpdesk_core::domain::MessageKind;
use helpdesk_core::service::NewTicket;
use helpdesk_core::testkit::MockTurn;
use serde_json::json;

fn triage(language: &str) -> MockTurn {
    MockTurn::Json(json!({
        "summary": "Password reset",
        "category": "account",
        "priority": "medium",
        "required_skills": [],
        "sentiment": "neutral",
        "language": language,
        "confidence": 0.9,
    }))
}

fn draft(reply: &str) -> MockTurn {
    MockTurn::Json(json!({ "reply": reply, "cited_chunk_ids": [] }))
}

#[tokio::test]
async fn a_draft_is_written_in_the_tickets_language_and_says_so() {
    let wiring = Wiring {
        llm_triage: true,
        ..Wiring::FULL
    };
    let ai = ai_world(wiring, vec![triage("de")]).await;
    let w = &ai.w;
    let t =
        w.hd.open_ticket(
            &w.customer,
            NewTicket::new("Passwort vergessen", "Wie setze ich mein Passwort zurück?"),
        )
        .await
        .unwrap()
        .ticket;
    assert_eq!(t.language.as_deref(), Some("de"));

    ai.model
        .push(draft("Hallo! Klicken Sie auf \"Passwort vergessen\"."));
    let suggested = w.hd.suggest_reply(&w.agent, t.id).await.unwrap();
    let request = ai.model.requests().pop().unwrap();
    assert!(
        turns_text(&request)
            .ends_with("The customer's language (BCP-47): de. Write the reply in it."),
        "{}",
        turns_text(&request)
    );
    assert!(
        suggested
            .body
            .starts_with("[Suggested from the language model in the customer's language (de)"),
        "{}",
        suggested.body
    );
    w.hd.decide_draft(&w.agent, t.id, suggested.id, DraftDecision::Send)
        .await
        .unwrap();
    let sent =
        w.hd.get_ticket(&w.customer, t.id)
            .await
            .unwrap()
            .messages
            .into_iter()
            .rfind(|m| m.kind == MessageKind::Reply)
            .unwrap();
    assert_eq!(sent.body, "Hallo! Klicken Sie auf \"Passwort vergessen\".");
}

#[tokio::test]
async fn an_english_ticket_names_no_language() {
    let wiring = Wiring {
        llm_triage: true,
        ..Wiring::FULL
    };
    let ai = ai_world(wiring, vec![triage("en-GB")]).await;
    let w = &ai.w;
    let t =
        w.hd.open_ticket(
            &w.customer,
            NewTicket::new("Password", "How do I reset it?"),
        )
        .await
        .unwrap()
        .ticket;
    ai.model.push(draft("Open the sign-in page."));
    let suggested = w.hd.suggest_reply(&w.agent, t.id).await.unwrap();
    assert_eq!(suggested.body, "Open the sign-in page.");
    let request = ai.model.requests().pop().unwrap();
    assert!(!turns_text(&request).contains("BCP-47"));
}

#[tokio::test]
async fn the_chatbot_is_told_to_answer_in_the_customers_language() {
    let ai = ai_world(Wiring::FULL, vec![]).await;
    let (password, _) = ai.standard_articles().await;
    let chunk = format!("{}:0", password.id);
    ai.model.push(MockTurn::Json(chat_json(
        "Öffnen Sie die Anmeldeseite und wählen Sie \"Passwort vergessen\".",
        &[&chunk],
        false,
        false,
    )));
    let s = ai.w.hd.start_chat(&ai.w.customer).await.unwrap();
    ai.w.hd
        .chat_message(&ai.w.customer, s.id, "Wie setze ich mein Passwort zurück?")
        .await
        .unwrap();
    let request = ai.model.requests().pop().unwrap();
    assert_eq!(request.system, CHAT_SYSTEM);
    assert!(CHAT_SYSTEM.contains("the one the customer writes in"));
    assert!(turns_text(&request).contains("Wie setze ich mein Passwort"));
}

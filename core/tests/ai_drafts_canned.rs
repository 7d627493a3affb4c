//! Suggested replies that start from a matching canned response: without a model the
//! filled-in canned response is the draft, labelled with its name; a model gets it in the
//! prompt and its draft's label names it; canned responses the agent may not send (another
//! agent's own, internal ones) and ones the request does not ask for are never used.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ai_common;
mod common;

use ai_common::{AiWorld, Wiring, ai_world, turns_text};
use helpdesk_core::ai::DraftDecision;
use helpdesk_core::domain::{DraftSource, MessageKind};
use helpdesk_core::service::{CannedResponseInput, NewTicket};
use helpdesk_core::testkit::MockTurn;
use helpdesk_core::{ModelError, TicketId};
use serde_json::json;

const REFUND_TEXT: &str = "Hi {{customer.first_name}}, we have refunded the duplicate \
                           charge on request #{{ticket.number}}. {{agent.first_name}}";

async fn canned(ai: &AiWorld, actor: &helpdesk_core::domain::Actor, input: CannedResponseInput) {
    ai.w.hd.create_canned_response(actor, input).await.unwrap();
}

/// A shared "Refund issued", an internal "Refund escalation" note and another agent's own
/// "Refund policy".
async fn with_canned(ai: &AiWorld) {
    let w = &ai.w;
    canned(
        ai,
        &w.admin,
        CannedResponseInput {
            name: "Refund issued".into(),
            body: REFUND_TEXT.into(),
            shared: true,
            ..CannedResponseInput::default()
        },
    )
    .await;
    canned(
        ai,
        &w.admin,
        CannedResponseInput {
            name: "Refund escalation duplicate charge".into(),
            body: "Escalate to finance.".into(),
            shared: true,
            internal: true,
            ..CannedResponseInput::default()
        },
    )
    .await;
    canned(
        ai,
        &w.agent2,
        CannedResponseInput {
            name: "Refund duplicate charge policy".into(),
            body: "Tess's own words.".into(),
            ..CannedResponseInput::default()
        },
    )
    .await;
}

async fn open(ai: &AiWorld, subject: &str, body: &str) -> (TicketId, u64) {
    let t =
        ai.w.hd
            .open_ticket(&ai.w.customer, NewTicket::new(subject, body))
            .await
            .unwrap()
            .ticket;
    (t.id, t.number)
}

#[tokio::test]
async fn without_a_model_the_matching_canned_response_is_the_draft() {
    let ai = ai_world(Wiring::NO_MODEL, vec![]).await;
    with_canned(&ai).await;
    let (id, number) = open(&ai, "Charged twice", "Please refund the duplicate charge.").await;
    let draft = ai.w.hd.suggest_reply(&ai.w.agent, id).await.unwrap();
    assert_eq!(
        draft.draft.as_ref().unwrap().source,
        DraftSource::CannedResponse
    );
    let expected =
        format!("Hi Carl, we have refunded the duplicate charge on request #{number}. Bob");
    assert_eq!(
        draft.body,
        format!(
            "[Suggested from the canned response \"Refund issued\", filled in for this ticket, \
             no language model: check it before sending]\n\n{expected}"
        ),
        "the shared public one, not the internal note or Tess's own"
    );
    assert!(draft.citations.is_empty());

    // Sent as is, the label goes and the text stays.
    let outcome =
        ai.w.hd
            .decide_draft(&ai.w.agent, id, draft.id, DraftDecision::Send)
            .await
            .unwrap();
    let sent = outcome.reply.expect("sending makes a reply");
    assert_eq!(sent.kind, MessageKind::Reply);
    assert_eq!(sent.body, expected);
}

#[tokio::test]
async fn a_request_that_asks_for_no_canned_response_gets_the_template() {
    let ai = ai_world(Wiring::NO_MODEL, vec![]).await;
    with_canned(&ai).await;
    let (id, _) = open(&ai, "Dark mode", "Is there a dark theme for the app?").await;
    let draft = ai.w.hd.suggest_reply(&ai.w.agent, id).await.unwrap();
    let source = draft.draft.unwrap().source;
    assert!(
        matches!(source, DraftSource::Template | DraftSource::KbPassage),
        "{source:?}"
    );
    // Tess's own canned response is hers: Bob never gets it, even when it matches best.
    let (id, _) = open(&ai, "Policy", "What is the duplicate charge policy?").await;
    let draft = ai.w.hd.suggest_reply(&ai.w.agent, id).await.unwrap();
    assert!(!draft.body.contains("Tess's own words"), "{}", draft.body);
    let theirs = ai.w.hd.suggest_reply(&ai.w.agent2, id).await.unwrap();
    assert!(theirs.body.contains("Tess's own words"), "{}", theirs.body);
}

#[tokio::test]
async fn a_model_starts_from_it_and_the_label_names_it() {
    let ai = ai_world(Wiring::FULL, vec![]).await;
    with_canned(&ai).await;
    let (id, number) = open(&ai, "Charged twice", "Please refund the duplicate charge.").await;
    ai.model.push(MockTurn::Json(json!({
        "reply": "Hi Carl, the duplicate charge is refunded.",
        "cited_chunk_ids": [],
    })));
    let draft = ai.w.hd.suggest_reply(&ai.w.agent, id).await.unwrap();
    assert_eq!(draft.draft.as_ref().unwrap().source, DraftSource::Llm);
    assert_eq!(
        draft.body,
        "[Suggested from the language model, starting from the canned response \"Refund \
         issued\": check it before sending]\n\nHi Carl, the duplicate charge is refunded."
    );
    let request = ai.model.requests().last().cloned().unwrap();
    let prompt = turns_text(&request);
    assert!(
        prompt.contains("canned response \"Refund issued\" matches"),
        "{prompt}"
    );
    assert!(
        prompt.contains(&format!(
            "<<<CANNED_RESPONSE\nHi Carl, we have refunded the duplicate charge on request \
             #{number}. Bob\nCANNED_RESPONSE>>>"
        )),
        "{prompt}"
    );
    assert!(!prompt.contains("Escalate to finance"));

    // The model fails: the filled-in canned response is the fallback.
    ai.model.push(MockTurn::Error(ModelError::Unavailable {
        status: 503,
        message: "down".into(),
    }));
    let draft = ai.w.hd.suggest_reply(&ai.w.agent, id).await.unwrap();
    assert_eq!(draft.draft.unwrap().source, DraftSource::CannedResponse);
}

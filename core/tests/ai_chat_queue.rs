//! Issue 16 item 3: a chat the bot still answers is not the agents' work (no SLA clock, not
//! in the agent queue) until it is handed off or taken over; then its SLA starts, and an
//! escalated chat waiting for a human is the first row of the queue.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod ai_common;
mod common;

use std::time::Duration;

use ai_common::{AiWorld, Wiring, ai_world, chat_json};
use helpdesk_core::domain::{Channel, ChatState, Priority, Ticket, TicketStatus};
use helpdesk_core::service::NewTicket;
use helpdesk_core::store::{TicketQuery, TicketSort};
use helpdesk_core::testkit::MockTurn;
use helpdesk_core::{TicketId, sla};

/// The agent queue as the web queue page asks for it.
fn agent_queue() -> TicketQuery {
    TicketQuery {
        statuses: TicketStatus::ALL
            .iter()
            .copied()
            .filter(TicketStatus::is_open)
            .collect(),
        exclude_bot_chats: true,
        sort: TicketSort::EscalatedFirst,
        ..TicketQuery::default()
    }
}

async fn queue(ai: &AiWorld) -> Vec<TicketId> {
    ai.w.hd
        .list_tickets(&ai.w.agent, agent_queue())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|t| t.id)
        .collect()
}

async fn ticket(ai: &AiWorld, id: TicketId) -> Ticket {
    ai.w.hd.get_ticket(&ai.w.agent, id).await.unwrap().ticket
}

/// A bot chat with one answered turn; returns the session id and its ticket.
async fn bot_chat(ai: &AiWorld, chunk: &str) -> (helpdesk_core::ChatSessionId, Ticket) {
    let w = &ai.w;
    ai.model.push(MockTurn::Json(chat_json(
        "Open the login page and click Forgot password.",
        &[chunk],
        false,
        false,
    )));
    let s = w.hd.start_chat(&w.customer).await.unwrap();
    let out =
        w.hd.chat_message(&w.customer, s.id, "How do I reset my password?")
            .await
            .unwrap();
    assert_eq!(out.session.state, ChatState::Bot);
    let t = ticket(ai, out.session.ticket_id.unwrap()).await;
    (s.id, t)
}

#[tokio::test]
async fn a_bot_chat_has_no_sla_and_is_not_queued_until_handed_off_then_it_comes_first() {
    let ai = ai_world(Wiring::FULL, vec![]).await;
    let (password, _) = ai.standard_articles().await;
    let chunk = format!("{}:0", password.id);
    let w = &ai.w;
    // An urgent form ticket: the most urgent row until a chat waits for a human.
    let mut urgent = NewTicket::new("Site down", "Our whole shop is down since 8:00.");
    urgent.priority = Some(Priority::Urgent);
    let urgent = w.hd.open_ticket(&w.customer2, urgent).await.unwrap().ticket;
    assert!(urgent.sla.first_response_due.is_some());

    let (session, chat) = bot_chat(&ai, &chunk).await;
    assert_eq!(chat.channel, Channel::Chat);
    assert_eq!(chat.status, TicketStatus::New);
    assert!(chat.is_bot_chat());
    assert_eq!(
        (chat.sla.first_response_due, chat.sla.resolution_due),
        (None, None),
        "no SLA clock while the bot answers"
    );
    assert_eq!(
        queue(&ai).await,
        [urgent.id],
        "the bot's chat is not queued"
    );
    // Staff can still find it without the filter.
    let all =
        w.hd.list_tickets(&w.agent, TicketQuery::default())
            .await
            .unwrap();
    assert!(all.items.iter().any(|t| t.id == chat.id));

    // Two hours later the customer asks for a human: the clock starts at the handoff.
    w.clock.advance(Duration::from_secs(2 * 3600));
    let handoff_at = w.hd.now();
    w.hd.request_human(&w.customer, session).await.unwrap();
    let chat = ticket(&ai, chat.id).await;
    assert_eq!(chat.status, TicketStatus::Escalated);
    assert!(!chat.is_bot_chat());
    let expected = sla::schedule(
        &w.tenant.settings.sla,
        &w.tenant.settings.calendar,
        chat.priority,
        handoff_at,
    )
    .unwrap();
    assert_eq!(chat.sla.first_response_due, expected.first_response_due);
    assert_eq!(chat.sla.resolution_due, expected.resolution_due);
    assert!(chat.sla.first_response_due.unwrap() > handoff_at);
    assert_ne!(chat.priority, Priority::Urgent);
    // The waiting chat is the most urgent row, before the urgent form ticket.
    assert_eq!(queue(&ai).await, [chat.id, urgent.id]);
}

#[tokio::test]
async fn an_agent_taking_over_a_bot_chat_makes_it_queued_work_with_its_sla() {
    let ai = ai_world(Wiring::FULL, vec![]).await;
    let (password, _) = ai.standard_articles().await;
    let chunk = format!("{}:0", password.id);
    let w = &ai.w;
    let (session, chat) = bot_chat(&ai, &chunk).await;
    assert!(queue(&ai).await.is_empty());
    // A priority change while the bot answers starts no clock either.
    w.hd.update_ticket(
        &w.agent,
        chat.id,
        helpdesk_core::service::TicketPatch {
            priority: Some(Priority::High),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(ticket(&ai, chat.id).await.sla.first_response_due, None);

    w.clock.advance(Duration::from_secs(600));
    let at = w.hd.now();
    w.hd.agent_chat_reply(&w.agent, session, "Hi, I'm Bob. Let me help you.")
        .await
        .unwrap();
    let chat = ticket(&ai, chat.id).await;
    assert_eq!(chat.status, TicketStatus::InProgress);
    assert_eq!(chat.first_response_at, Some(at));
    let expected = sla::schedule(
        &w.tenant.settings.sla,
        &w.tenant.settings.calendar,
        Priority::High,
        at,
    )
    .unwrap();
    assert_eq!(chat.sla.first_response_due, expected.first_response_due);
    assert!(!chat.sla.first_response_breached);
    assert_eq!(queue(&ai).await, [chat.id]);
}

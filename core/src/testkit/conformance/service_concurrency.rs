//! Conformance cases that drive the `Helpdesk` service on the store under test: concurrent
//! use cases that must all succeed on every backend, by design rather than by retries.

use std::sync::Arc;

use super::S;
use crate::Helpdesk;
use crate::domain::{Actor, Channel, MessageKind, Role};
use crate::service::{HelpdeskConfig, NewReply, NewTenant, NewTicket, NewUser};
use crate::store::{MessageFilter, TicketQuery};

/// A helpdesk on `store` that makes `attempts` attempts per write, with a tenant, an agent
/// and a customer.
async fn desk(store: S, attempts: u32) -> (Helpdesk, Actor, Actor) {
    let config = HelpdeskConfig {
        max_conflict_retries: attempts,
        ..HelpdeskConfig::default()
    };
    let hd = Helpdesk::builder(store).config(config).build().unwrap();
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
    let agent = hd
        .add_user(&admin, NewUser::new("agent@acme.test", "Bob", Role::Agent))
        .await
        .unwrap();
    let customer = hd
        .add_user(
            &admin,
            NewUser::new("carl@customer.test", "Carl", Role::Customer),
        )
        .await
        .unwrap();
    (hd, Actor::for_user(&agent), Actor::for_user(&customer))
}

/// 64 replies and notes on one ticket at once, by the customer and an agent, all succeed
/// with at most two attempts per write, however many writers there are: writers of one
/// ticket take turns instead of racing on its version. A write's first attempt plans on the
/// row its check read, which another writer may have changed just before this one's turn
/// (one conflict); the second attempt reads under the turn, and nobody in the process can
/// change the ticket before it commits. Every message is stored once and the ticket's
/// version counts every write.
pub async fn sixty_four_concurrent_replies_and_notes_all_land(store: S) {
    let (hd, agent, customer) = desk(store.clone(), 2).await;
    let ticket = hd
        .open_ticket(
            &customer,
            NewTicket::new("Busy thread", "Many people write here"),
        )
        .await
        .unwrap()
        .ticket;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..64usize {
        let (hd, agent, customer) = (hd.clone(), agent.clone(), customer.clone());
        set.spawn(async move {
            let body = format!("message {i}");
            match i % 3 {
                0 => hd
                    .reply(&customer, ticket.id, NewReply::new(&body))
                    .await
                    .map(|_| ()),
                1 => hd
                    .reply(&agent, ticket.id, NewReply::new(&body))
                    .await
                    .map(|_| ()),
                _ => hd.add_note(&agent, ticket.id, &body).await.map(|_| ()),
            }
        });
    }
    let mut failures = Vec::new();
    while let Some(result) = set.join_next().await {
        if let Err(e) = result.unwrap() {
            failures.push(e.to_string());
        }
    }
    assert!(failures.is_empty(), "failed writes: {failures:?}");
    let stored = store
        .get_ticket(ticket.tenant_id, ticket.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, ticket.version + 64);
    let messages = store
        .list_messages(ticket.tenant_id, ticket.id, MessageFilter::All)
        .await
        .unwrap();
    for i in 0..64usize {
        let body = format!("message {i}");
        let count = messages.iter().filter(|m| m.body == body).count();
        assert_eq!(count, 1, "{body} stored {count} times");
    }
    let notes = messages
        .iter()
        .filter(|m| m.kind == MessageKind::Note)
        .count();
    assert_eq!(notes, 21);
}

/// Several first messages of one chat session sent at once (a double send): every one is
/// stored, all on the one ticket the session opens, and none is refused. (The turns also
/// change the session itself, so these writes keep the default retries.)
pub async fn concurrent_first_chat_messages_share_one_ticket(store: S) {
    let (hd, _, customer) = desk(
        store.clone(),
        HelpdeskConfig::default().max_conflict_retries,
    )
    .await;
    let hd = Arc::new(hd);
    let session = hd.start_chat(&customer).await.unwrap();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..4usize {
        let (hd, customer) = (hd.clone(), customer.clone());
        set.spawn(async move {
            hd.chat_message(&customer, session.id, &format!("hello {i}"))
                .await
        });
    }
    let mut tickets = Vec::new();
    while let Some(result) = set.join_next().await {
        let outcome = result.unwrap().unwrap();
        tickets.push(outcome.customer_message.ticket_id);
    }
    tickets.sort();
    tickets.dedup();
    assert_eq!(tickets.len(), 1, "every message on one ticket");
    let stored = store
        .get_chat_session(customer.tenant_id, session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.ticket_id, Some(tickets[0]));
    let messages = store
        .list_messages(customer.tenant_id, tickets[0], MessageFilter::All)
        .await
        .unwrap();
    for i in 0..4usize {
        let text = format!("hello {i}");
        assert_eq!(
            messages.iter().filter(|m| m.body == text).count(),
            1,
            "{text}"
        );
    }
    let chats = store
        .list_tickets(
            customer.tenant_id,
            &TicketQuery {
                requester: Some(customer.user_id),
                ..TicketQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(chats.items.len(), 1, "one ticket for the session");
    assert_eq!(chats.items[0].channel, Channel::Chat);
}

//! Conformance case for [`MessageFilter::CustomerVisible`] in `TicketStore::list_messages`.

use super::{S, create, seed_tenant};
use crate::MessageId;
use crate::domain::{AuthorKind, Message, MessageKind, Priority};
use crate::store::MessageFilter;
use crate::testkit::fixtures::{at, change};

/// Only replies and chat turns of the ticket, in creation order: no notes, no drafts, no
/// other ticket's messages, nothing through another tenant.
pub async fn customer_visible_messages_are_replies_and_chat_turns(store: S) {
    let (a, customer, agent) = seed_tenant(&store, "acme").await;
    let (b, _, _) = seed_tenant(&store, "beta").await;
    let w = create(&store, a.id, customer.id, "Thread", Priority::Low, 0).await;
    let other = create(&store, a.id, customer.id, "Other", Priority::Low, 0).await;
    let message = |ticket: &crate::domain::Ticket, kind, minute| Message {
        id: MessageId::new(),
        tenant_id: a.id,
        ticket_id: ticket.id,
        author: Some(agent.id),
        author_kind: AuthorKind::Agent,
        kind,
        body: format!("{kind:?} at {minute}"),
        created_at: at(minute),
        citations: Vec::new(),
        email: None,
        draft: None,
    };
    let kinds = [
        MessageKind::Chat,
        MessageKind::Note,
        MessageKind::Draft,
        MessageKind::Reply,
        MessageKind::Draft,
        MessageKind::Chat,
    ];
    let mut write = change(&w.ticket, Vec::new(), at(10), Some(agent.id));
    // Inserted out of order: the listing orders by creation time.
    for (i, kind) in kinds.into_iter().enumerate().rev() {
        write.messages.push(message(&w.ticket, kind, 1 + i as i64));
    }
    store.update_ticket(1, &write).await.unwrap();
    let mut elsewhere = change(&other.ticket, Vec::new(), at(10), Some(agent.id));
    elsewhere
        .messages
        .push(message(&other.ticket, MessageKind::Reply, 2));
    store.update_ticket(1, &elsewhere).await.unwrap();

    let all = store
        .list_messages(a.id, w.ticket.id, MessageFilter::All)
        .await
        .unwrap();
    let expected: Vec<Message> = all
        .iter()
        .filter(|m| m.kind.customer_visible())
        .cloned()
        .collect();
    let visible = store
        .list_messages(a.id, w.ticket.id, MessageFilter::CustomerVisible)
        .await
        .unwrap();
    assert_eq!(visible, expected);
    let kinds: Vec<MessageKind> = visible.iter().map(|m| m.kind).collect();
    // The ticket's opening message (a reply at minute 0), then the visible ones above.
    assert_eq!(
        kinds,
        [
            MessageKind::Reply,
            MessageKind::Chat,
            MessageKind::Reply,
            MessageKind::Chat
        ]
    );
    assert!(
        visible
            .windows(2)
            .all(|p| p[0].created_at <= p[1].created_at)
    );
    assert!(
        store
            .list_messages(b.id, w.ticket.id, MessageFilter::CustomerVisible)
            .await
            .unwrap()
            .is_empty()
    );
}

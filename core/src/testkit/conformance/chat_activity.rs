//! Conformance cases for [`ChatActivity`]: a ticket write that also marks a chat session
//! active.

use super::{S, seed_tenant};
use crate::domain::{ChatSession, ChatState, Priority};
use crate::store::ChatActivity;
use crate::testkit::fixtures::{at, change, new_ticket, t0};
use crate::{ChatSessionId, Error, TenantId, UserId};

/// A new session the bot answers, with no ticket yet, created at `t0`.
pub(super) fn bot_session(tenant: TenantId, customer: UserId) -> ChatSession {
    ChatSession {
        id: ChatSessionId::new(),
        tenant_id: tenant,
        customer,
        ticket_id: None,
        state: ChatState::Bot,
        handoff_reason: None,
        resolved_by_bot: false,
        created_at: t0(),
        last_activity_at: t0(),
        closed_at: None,
        version: 1,
    }
}

/// A create of ticket number `n` at minute `minutes` that opens `session`'s chat ticket
/// (links it and marks it active).
pub(super) fn opening(session: &ChatSession, n: u64, minutes: i64) -> crate::store::TicketWrite {
    let mut w = new_ticket(
        session.tenant_id,
        session.customer,
        n,
        "Chat: hi",
        Priority::Low,
        at(minutes),
    );
    w.chat_activity = Some(ChatActivity {
        session: session.id,
        at: at(minutes),
        links_ticket: true,
        expected_version: None,
        transition: None,
    });
    w
}

/// A create that opens the session's ticket links it; a create and an update that carry a
/// chat activity move the session's `last_activity_at` forward (never back) and bump its
/// version once per write.
pub async fn chat_activity_touches_the_session(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let chat = bot_session(a.id, customer.id);
    store.create_chat_session(&chat).await.unwrap();

    let created = opening(&chat, 1, 5);
    let created = store.create_ticket(created).await.unwrap();
    let mut expected = chat.clone();
    expected.apply_activity(created.chat_activity.as_ref().unwrap(), created.ticket.id);
    assert_eq!(expected.ticket_id, Some(created.ticket.id));
    assert_eq!(expected.last_activity_at, at(5));
    assert_eq!(expected.version, 2);
    assert_eq!(
        store.get_chat_session(a.id, chat.id).await.unwrap(),
        Some(expected.clone())
    );

    // An activity older than the stored one leaves the time alone but still bumps the
    // version, so a stale read-modify-write of the session conflicts.
    let mut reply = change(&created.ticket, Vec::new(), at(6), Some(customer.id));
    reply.chat_activity = Some(ChatActivity {
        session: chat.id,
        at: at(3),
        links_ticket: false,
        expected_version: None,
        transition: None,
    });
    store.update_ticket(1, &reply).await.unwrap();
    expected.apply_activity(reply.chat_activity.as_ref().unwrap(), created.ticket.id);
    assert_eq!(expected.last_activity_at, at(5));
    assert_eq!(
        store.get_chat_session(a.id, chat.id).await.unwrap(),
        Some(expected.clone())
    );
    let mut stale = chat.clone();
    stale.state = ChatState::Closed;
    assert!(matches!(
        store.update_chat_session(chat.version, &stale).await,
        Err(Error::Conflict { .. })
    ));
    assert_eq!(
        store.get_ticket(a.id, created.ticket.id).await.unwrap(),
        Some(reply.ticket.clone())
    );
}

/// A chat activity naming another tenant's session (or none) fails the whole write with
/// `NotFound`: no ticket, no change, and the other tenant's session is untouched.
pub async fn chat_activity_of_another_tenant_writes_nothing(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let (b, b_customer, _) = seed_tenant(&store, "globex").await;
    let foreign = bot_session(b.id, b_customer.id);
    store.create_chat_session(&foreign).await.unwrap();

    for target in [foreign.id, ChatSessionId::new()] {
        let mut w = new_ticket(a.id, customer.id, 1, "Chat: hi", Priority::Low, at(5));
        w.chat_activity = Some(ChatActivity {
            session: target,
            at: at(5),
            links_ticket: false,
            expected_version: None,
            transition: None,
        });
        assert!(
            matches!(
                store.create_ticket(w.clone()).await,
                Err(Error::NotFound {
                    entity: "chat_session",
                    ..
                })
            ),
            "create touching {target}"
        );
        assert_eq!(store.get_ticket(a.id, w.ticket.id).await.unwrap(), None);
    }

    let plain = new_ticket(a.id, customer.id, 1, "Chat: hi", Priority::Low, at(5));
    let plain = store.create_ticket(plain).await.unwrap();
    let mut reply = change(&plain.ticket, Vec::new(), at(6), Some(customer.id));
    reply.chat_activity = Some(ChatActivity {
        session: foreign.id,
        at: at(6),
        links_ticket: false,
        expected_version: None,
        transition: None,
    });
    assert!(matches!(
        store.update_ticket(1, &reply).await,
        Err(Error::NotFound {
            entity: "chat_session",
            ..
        })
    ));
    assert_eq!(
        store.get_ticket(a.id, plain.ticket.id).await.unwrap(),
        Some(plain.ticket.clone())
    );
    assert_eq!(
        store.get_chat_session(b.id, foreign.id).await.unwrap(),
        Some(foreign)
    );
}

/// Linking a session that already has a ticket fails the whole write with `ChatSessionLinked`:
/// the second ticket is not created and the session keeps its first one.
pub async fn chat_activity_links_a_session_once(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let chat = bot_session(a.id, customer.id);
    store.create_chat_session(&chat).await.unwrap();
    let first = opening(&chat, 1, 5);
    let first = store.create_ticket(first).await.unwrap();
    let second = opening(&chat, 2, 6);
    assert!(matches!(
        store.create_ticket(second.clone()).await,
        Err(Error::ChatSessionLinked { .. })
    ));
    assert_eq!(
        store.get_ticket(a.id, second.ticket.id).await.unwrap(),
        None
    );
    let stored = store
        .get_chat_session(a.id, chat.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.ticket_id, Some(first.ticket.id));
    assert_eq!(stored.last_activity_at, at(5));
    assert_eq!(stored.version, 2);
}

/// A session reads with its ticket once a write links them, without one before; through
/// another tenant it is not found.
pub async fn chat_session_reads_with_its_ticket(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let (b, _, _) = seed_tenant(&store, "beta").await;
    let chat = bot_session(a.id, customer.id);
    store.create_chat_session(&chat).await.unwrap();
    assert_eq!(
        store.chat_session_with_ticket(a.id, chat.id).await.unwrap(),
        Some((chat.clone(), None))
    );

    let created = opening(&chat, 1, 5);
    let created = store.create_ticket(created).await.unwrap();
    let mut linked = chat.clone();
    linked.apply_activity(created.chat_activity.as_ref().unwrap(), created.ticket.id);
    assert_eq!(
        store.chat_session_with_ticket(a.id, chat.id).await.unwrap(),
        Some((linked, Some(created.ticket.clone())))
    );
    assert_eq!(
        store.chat_session_with_ticket(b.id, chat.id).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .chat_session_with_ticket(a.id, ChatSessionId::new())
            .await
            .unwrap(),
        None
    );
}

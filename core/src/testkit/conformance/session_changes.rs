//! Conformance cases for session changes carried by a ticket write
//! ([`SessionTransition`]): the ticket change and the session's new state land in one
//! commit, and a session changed meanwhile fails the whole write.

use super::chat_activity::{bot_session, opening};
use super::{S, seed_tenant};
use crate::Error;
use crate::domain::{ChatSession, ChatState, EventKind, TicketStatus};
use crate::store::{ChatActivity, SessionTransition, TicketWrite};
use crate::testkit::fixtures::{at, change};

/// A write on `ticket` at minute `minutes` that changes `session` (planned on its stored
/// version) with `transition`.
fn with_session_change(
    ticket: &crate::domain::Ticket,
    session: &ChatSession,
    kinds: Vec<EventKind>,
    minutes: i64,
    transition: SessionTransition,
) -> TicketWrite {
    let mut w = change(ticket, kinds, at(minutes), None);
    w.chat_activity = Some(ChatActivity {
        session: session.id,
        at: at(minutes),
        links_ticket: false,
        expected_version: Some(session.version),
        transition: Some(transition),
    });
    w
}

/// Each transition stores exactly what [`ChatSession::apply_activity`] gives, together
/// with the ticket change: a take-over, a handoff, and a close resolved by the bot.
pub async fn session_transitions_commit_with_the_ticket(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let chat = bot_session(a.id, customer.id);
    store.create_chat_session(&chat).await.unwrap();
    let created = opening(&chat, 1, 5);
    let created = store.create_ticket(created).await.unwrap();
    let mut session = store
        .get_chat_session(a.id, chat.id)
        .await
        .unwrap()
        .unwrap();
    let mut ticket = created.ticket.clone();

    let steps = [
        (
            vec![],
            SessionTransition::TakeOver {
                reason: "taken over by an agent".into(),
            },
            ChatState::Human,
        ),
        (
            vec![EventKind::StatusChanged {
                from: TicketStatus::New,
                to: TicketStatus::Escalated,
            }],
            SessionTransition::HandOff {
                reason: "no confident answer".into(),
            },
            ChatState::Human,
        ),
        (
            vec![EventKind::StatusChanged {
                from: TicketStatus::Escalated,
                to: TicketStatus::Resolved,
            }],
            SessionTransition::Close {
                resolved_by_bot: true,
            },
            ChatState::Closed,
        ),
    ];
    for (minutes, (kinds, transition, state)) in (10..).zip(steps) {
        let w = with_session_change(&ticket, &session, kinds, minutes, transition);
        store.update_ticket(ticket.version, &w).await.unwrap();
        let mut expected = session.clone();
        expected.apply_activity(w.chat_activity.as_ref().unwrap(), ticket.id);
        assert_eq!(expected.state, state);
        let stored = store
            .get_chat_session(a.id, chat.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored, expected, "after minute {minutes}");
        assert_eq!(
            store.get_ticket(a.id, ticket.id).await.unwrap(),
            Some(w.ticket.clone())
        );
        session = stored;
        ticket = w.ticket;
    }
    assert_eq!(
        session.handoff_reason.as_deref(),
        Some("no confident answer")
    );
    assert!(session.resolved_by_bot);
    assert_eq!(session.closed_at, Some(at(12)));
    assert_eq!(session.last_activity_at, at(12));
}

/// A write planned on an older session version fails whole: neither the ticket nor the
/// session changes, and no event is stored.
pub async fn a_session_changed_meanwhile_fails_the_whole_write(store: S) {
    let (a, customer, _) = seed_tenant(&store, "acme").await;
    let chat = bot_session(a.id, customer.id);
    store.create_chat_session(&chat).await.unwrap();
    let created = opening(&chat, 1, 5);
    let created = store.create_ticket(created).await.unwrap();
    // `chat` is the version before the linking write: stale now.
    let stale = with_session_change(
        &created.ticket,
        &chat,
        vec![EventKind::StatusChanged {
            from: TicketStatus::New,
            to: TicketStatus::Escalated,
        }],
        7,
        SessionTransition::HandOff {
            reason: "too late".into(),
        },
    );
    let err = store.update_ticket(1, &stale).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                entity: "chat_session",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        store.get_ticket(a.id, created.ticket.id).await.unwrap(),
        Some(created.ticket.clone())
    );
    assert_eq!(
        store
            .list_events(a.id, created.ticket.id)
            .await
            .unwrap()
            .len(),
        created.events.len()
    );
    let stored = store
        .get_chat_session(a.id, chat.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.state, ChatState::Bot);
    assert_eq!(stored.handoff_reason, None);
    assert_eq!(stored.version, chat.version + 1, "only the linking write");
}

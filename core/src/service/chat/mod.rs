//! The customer chatbot: sessions, grounded bot turns, handoff to a human, hand-back, and
//! the inactivity sweep.
//!
//! Each customer turn: the first one opens a ticket with channel Chat; every turn (the
//! customer's, the bot's, an agent's) is stored as a [`MessageKind::Chat`] message on it.
//! The bot retrieves the top-k knowledge-base chunks, asks the model for a structured
//! answer, and sends it only when it is grounded ([`crate::ai::grounding`]); otherwise, when
//! the model asks for it, when the customer asks for a human, when the model fails, or when
//! the tenant's AI autonomy is below AutoReply, the conversation is handed off: status
//! Escalated, routed to a human, the assignee notified, and the bot stays silent until an
//! agent hands the session back.

mod agent;
mod bot;
mod commit;
mod stream;
mod sweep;
mod turn;

use std::time::Duration;

use serde::Deserialize;

use self::bot::{ASKED_FOR_HUMAN, BotDecision, BotReply, GREETING_REPLY};
use super::Helpdesk;
use super::attachments::StoredBlob;
use super::change::Change;
use super::drafts::citations_for;
use super::tickets::{NewMessage, NewTicket, set_status};
use crate::ai::{ChatReply, ChatSweepReport, ChatTurnOutcome, grounding, output, prompts};
use crate::domain::{
    Actor, AuthorKind, Channel, ChatSession, ChatState, Citation, EventKind, Message, MessageKind,
    NotificationKind, Role, Tenant, Ticket, TicketStatus, User,
};
use crate::lifecycle::can_transition;
use crate::roles::Action;
use crate::store::{ChatActivity, SessionTransition};
use crate::{ChatSessionId, Error, MessageId, Result, StateError, TicketId, UserId, validate};

/// `session` if the actor may see it: customers only their own (others are not found).
pub(super) fn visible_to(actor: &Actor, session: ChatSession) -> Result<ChatSession> {
    if !actor.is_staff() && session.customer != actor.user_id {
        return Err(Error::not_found("chat_session", session.id));
    }
    Ok(session)
}

/// Whether a customer message asks for a person (checked before any model call, so the
/// request is honoured even when the model is down or disagrees).
pub(crate) fn asks_for_human(text: &str) -> bool {
    const PHRASES: &[&str] = &[
        "human",
        "real person",
        "a person",
        "someone real",
        "live agent",
        "an agent",
        "support agent",
        "representative",
        "operator",
        "talk to someone",
        "speak to someone",
    ];
    let t = text.to_lowercase();
    PHRASES.iter().any(|p| t.contains(p))
}

/// Whether a customer message is only a greeting or small talk ("hello", "Hi there!",
/// "good morning", "hello? is anyone there", "thank you!", "how are you?"): every word is
/// a greeting or small-talk word, at most five of them. Such a turn deserves a greeting
/// back, not a knowledge-base search (which finds nothing: the chatbot evaluation measured
/// best scores of 0.10-0.13 for these) and a handoff.
pub(crate) fn is_plain_greeting(text: &str) -> bool {
    const WORDS: &[&str] = &[
        "hi",
        "hello",
        "hey",
        "hiya",
        "howdy",
        "hallo",
        "hola",
        "bonjour",
        "greetings",
        "yo",
        "there",
        "good",
        "morning",
        "afternoon",
        "evening",
        "day",
        "team",
        "everyone",
        "all",
        "folks",
        "support",
        "bot",
        // Small talk: "is anyone there", "are you there", "how are you", "thank you", "ok".
        "is",
        "are",
        "anyone",
        "anybody",
        "you",
        "how",
        "thanks",
        "thank",
        "ok",
        "okay",
    ];
    const OPENERS: &[&str] = &[
        "hi",
        "hello",
        "hey",
        "hiya",
        "howdy",
        "hallo",
        "hola",
        "bonjour",
        "greetings",
        "yo",
        "good",
        "is",
        "are",
        "anyone",
        "anybody",
        "how",
        "thanks",
        "thank",
        "ok",
        "okay",
    ];
    const SOLO: &[&str] = &[
        "hi",
        "hello",
        "hey",
        "hiya",
        "howdy",
        "hallo",
        "hola",
        "bonjour",
        "greetings",
        "yo",
        "thanks",
        "ok",
        "okay",
    ];
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    !words.is_empty()
        && words.len() <= 5
        && OPENERS.contains(&words[0])
        && words.iter().all(|w| WORDS.contains(w))
        // One word alone must be a greeting or thanks ("good", "how", "are" are not).
        && (words.len() > 1 || SOLO.contains(&words[0]))
}

/// The ticket subject made from a first chat message: its first line, at most 80
/// characters.
pub(super) fn chat_subject(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("Chat");
    let mut subject: String = line.trim().chars().take(80).collect();
    if line.trim().chars().count() > 80 {
        subject.push('…');
    }
    format!("Chat: {subject}")
}

pub(super) fn chat_message(
    ticket: &Ticket,
    at: jiff::Timestamp,
    author: Option<UserId>,
    author_kind: AuthorKind,
    body: String,
    citations: Vec<Citation>,
) -> Message {
    Message {
        id: MessageId::new(),
        tenant_id: ticket.tenant_id,
        ticket_id: ticket.id,
        author,
        author_kind,
        kind: MessageKind::Chat,
        body,
        created_at: at,
        citations,
        draft: None,
        email: None,
    }
}

impl Helpdesk {
    /// Starts a chat session for the calling customer (the ticket is opened by the first
    /// message).
    pub async fn start_chat(&self, actor: &Actor) -> Result<ChatSession> {
        let (tenant, user) = self.check(actor, Action::Chat).await?;
        let now = self.now();
        let session = ChatSession {
            id: ChatSessionId::new(),
            tenant_id: tenant.id,
            customer: user.id,
            ticket_id: None,
            state: ChatState::Bot,
            handoff_reason: None,
            resolved_by_bot: false,
            created_at: now,
            last_activity_at: now,
            closed_at: None,
            version: 1,
        };
        self.inner.store.create_chat_session(&session).await?;
        Ok(session)
    }

    /// A chat session: customers see only their own, staff any of the tenant's.
    pub async fn get_chat_session(&self, actor: &Actor, id: ChatSessionId) -> Result<ChatSession> {
        let action = if actor.is_staff() {
            Action::WorkChat
        } else {
            Action::Chat
        };
        self.check(actor, action).await?;
        self.visible_session(actor, id).await
    }

    /// Chat sessions, newest first: a customer's own, or all of the tenant's for staff.
    pub async fn list_chat_sessions(&self, actor: &Actor) -> Result<Vec<ChatSession>> {
        if actor.is_staff() {
            self.check(actor, Action::WorkChat).await?;
            self.inner
                .store
                .list_chat_sessions(actor.tenant_id, None)
                .await
        } else {
            self.check(actor, Action::Chat).await?;
            self.inner
                .store
                .list_chat_sessions(actor.tenant_id, Some(actor.user_id))
                .await
        }
    }

    /// Checks the actor for `action` while reading the session with its ticket (one read;
    /// the check's error wins), then keeps the session only if the actor may see it.
    pub(super) async fn checked_session(
        &self,
        actor: &Actor,
        action: Action,
        id: ChatSessionId,
    ) -> Result<(Tenant, User, ChatSession, Option<Ticket>)> {
        let read = self
            .inner
            .store
            .chat_session_with_ticket(actor.tenant_id, id);
        let (tenant, user, found) = self.check_while(actor, action, read).await?;
        let (session, ticket) = found.ok_or_else(|| Error::not_found("chat_session", id))?;
        Ok((tenant, user, visible_to(actor, session)?, ticket))
    }

    /// A session the actor may see: customers only their own (others are not found).
    pub(super) async fn visible_session(
        &self,
        actor: &Actor,
        id: ChatSessionId,
    ) -> Result<ChatSession> {
        let session = self
            .inner
            .store
            .get_chat_session(actor.tenant_id, id)
            .await?
            .ok_or_else(|| Error::not_found("chat_session", id))?;
        visible_to(actor, session)
    }

    /// Runs a read-modify-write on a chat session alone (no ticket change), retrying on
    /// conflicts and temporary backend errors with a fresh read. `change` returns whether
    /// it changed anything; when it did not, nothing is written and the result is `None`.
    pub(super) async fn mutate_session<F>(
        &self,
        tenant: &Tenant,
        id: ChatSessionId,
        mut change: F,
    ) -> Result<Option<ChatSession>>
    where
        F: FnMut(&mut ChatSession) -> Result<bool> + Send,
    {
        let attempts = self.inner.config.max_conflict_retries.max(1);
        let mut last = None;
        for attempt in 0..attempts {
            let current = self
                .inner
                .store
                .get_chat_session(tenant.id, id)
                .await?
                .ok_or_else(|| Error::not_found("chat_session", id))?;
            let mut next = current.clone();
            if !change(&mut next)? {
                return Ok(None);
            }
            next.version = current.version + 1;
            match self
                .inner
                .store
                .update_chat_session(current.version, &next)
                .await
            {
                Ok(()) => return Ok(Some(next)),
                // The same policy as ticket writes: a conflict or a temporary backend
                // failure (SQLite BUSY) re-reads and tries again.
                Err(e) if e.is_temporary() => {
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(1 << attempt.min(6))).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(Error::Conflict {
            entity: "chat_session",
            id: id.to_string(),
            expected: 0,
        }))
    }

    /// The session and its ticket as stored now, after a write found them changed.
    pub(super) async fn reread_session(
        &self,
        tenant: &Tenant,
        id: ChatSessionId,
    ) -> Result<(ChatSession, Option<Ticket>)> {
        self.inner
            .store
            .chat_session_with_ticket(tenant.id, id)
            .await?
            .ok_or_else(|| Error::not_found("chat_session", id))
    }
}

/// What the store did to `session` with a chat turn's write (marked active at `at`, and
/// linked to `linked` when the write opened its ticket): the same
/// [`ChatSession::apply_activity`] every backend applies.
pub(super) fn mark_active(
    session: &mut ChatSession,
    at: jiff::Timestamp,
    linked: Option<TicketId>,
) {
    let activity = ChatActivity {
        session: session.id,
        at,
        links_ticket: linked.is_some(),
        expected_version: None,
        transition: None,
    };
    if let Some(ticket) = linked.or(session.ticket_id) {
        session.apply_activity(&activity, ticket);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_requests_for_a_person() {
        assert!(asks_for_human("Can I talk to a HUMAN please"));
        assert!(asks_for_human("I want a real person"));
        assert!(!asks_for_human("How do I reset my password?"));
    }

    #[test]
    fn plain_greetings_are_recognised_and_questions_are_not() {
        for greeting in [
            "hello",
            "Hi!",
            "hey there",
            "Good morning, team!",
            "Hello support 👋",
            "hey, anyone there?",
            "Hello? is anyone there",
            "thank you!",
            "how are you?",
            "ok",
        ] {
            assert!(is_plain_greeting(greeting), "{greeting}");
        }
        for other in [
            "hello, I want a refund",
            "Hi, does sync work offline?",
            "good",
            "there",
            "",
            "How do I reset my password?",
            "is there a dark mode?",
            "thanks, how do I cancel?",
            "how are you charging me twice",
            "are",
        ] {
            assert!(!is_plain_greeting(other), "{other}");
        }
    }

    #[test]
    fn chat_subject_is_the_first_line_bounded() {
        assert_eq!(chat_subject("\nHello there\nmore"), "Chat: Hello there");
        assert!(chat_subject(&"x".repeat(300)).chars().count() <= 90);
    }
}

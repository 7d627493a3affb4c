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

use std::time::Duration;

use serde::Deserialize;

use super::Helpdesk;
use super::change::Change;
use super::drafts::citations_for;
use super::tickets::{NewTicket, set_status};
use crate::ai::{ChatReply, ChatSweepReport, ChatTurnOutcome, grounding, output, prompts};
use crate::domain::{
    Actor, AuthorKind, Channel, ChatSession, ChatState, Citation, EventKind, Message, MessageKind,
    NotificationKind, Role, Tenant, Ticket, TicketStatus, User,
};
use crate::lifecycle::can_transition;
use crate::roles::Action;
use crate::store::{ChatActivity, SessionTransition};
use crate::{ChatSessionId, Error, MessageId, Result, StateError, TicketId, UserId, validate};

/// What the bot decided for one turn.
enum BotDecision {
    Answer {
        body: String,
        citations: Vec<Citation>,
        resolved: bool,
    },
    Handoff(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChatAnswer {
    answer: String,
    cited_chunk_ids: Vec<String>,
    handoff: bool,
    handoff_reason: String,
    resolved: bool,
}

/// The reason recorded when a customer asks for a person.
pub(crate) const ASKED_FOR_HUMAN: &str = "customer asked for a human";

const HANDOFF_NOTICE: &str = "I'm passing this conversation to a member of our support team. \
They will reply here as soon as possible.";

/// `session` if the actor may see it: customers only their own (others are not found).
fn visible_to(actor: &Actor, session: ChatSession) -> Result<ChatSession> {
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

/// The ticket subject made from a first chat message: its first line, at most 80
/// characters.
fn chat_subject(text: &str) -> String {
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

fn chat_message(
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

    /// One customer turn. Stores the customer's message (opening the chat ticket on the
    /// first turn), then lets the bot answer from the knowledge base, or hands off to a
    /// human, or stays silent while a human handles the session.
    pub async fn chat_message(
        &self,
        actor: &Actor,
        id: ChatSessionId,
        text: &str,
    ) -> Result<ChatTurnOutcome> {
        // The turn plans on the session and ticket read with the check.
        let (tenant, user, session, stored_ticket) =
            self.checked_session(actor, Action::Chat, id).await?;
        let text = validate::body("text", text, true)?;
        if session.state == ChatState::Closed {
            return Err(Error::InvalidState(StateError::ChatClosed));
        }
        // One write per customer turn: the first opens the chat ticket with the message and
        // links the session; later ones add the message; both mark the session active.
        let opened = match session.ticket_id {
            None => match self
                .open_chat_ticket(&tenant, &user, session.clone(), &text, true)
                .await
            {
                Ok(opened) => Some(opened),
                // Another first message of this session opened its ticket meanwhile (a
                // double send): this message joins that ticket as a later turn.
                Err(Error::ChatSessionLinked { .. }) => None,
                Err(e) => return Err(e),
            },
            Some(_) => None,
        };
        let (session, stored_ticket) = match (&opened, session.ticket_id) {
            (None, None) => self.reread_session(&tenant, id).await?,
            _ => (session, stored_ticket),
        };
        let (session, ticket, customer_message) = match opened {
            Some((session, ticket, first)) => {
                let first = first
                    .ok_or_else(|| Error::Internal("the first chat message was not stored"))?;
                (session, ticket, first)
            }
            None => {
                let human = session.state == ChatState::Human;
                let (message, ticket) = self
                    .add_customer_turn(&tenant, &user, &session, stored_ticket, &text, human)
                    .await?;
                let mut session = session;
                mark_active(&mut session, message.created_at, None);
                (session, ticket, message)
            }
        };
        if session.state != ChatState::Bot {
            return Ok(ChatTurnOutcome {
                session,
                customer_message,
                reply: ChatReply::WaitingForAgent,
            });
        }
        // The ticket as the customer's turn left it (the session, checked above, is the
        // actor's, and so is its ticket): no second read.
        let (session, reply) = match self.bot_decision(&tenant, &ticket, &text).await {
            BotDecision::Answer {
                body,
                citations,
                resolved,
            } => {
                self.bot_answer(&tenant, &ticket, session, body, citations, resolved)
                    .await?
            }
            BotDecision::Handoff(reason) => self.hand_off(&tenant, session, ticket, reason).await?,
        };
        Ok(ChatTurnOutcome {
            session,
            customer_message,
            reply,
        })
    }

    /// The customer asks for a human: the session is handed off at once (idempotent while
    /// a human already has it).
    pub async fn request_human(&self, actor: &Actor, id: ChatSessionId) -> Result<ChatSession> {
        let (tenant, user, session, stored_ticket) =
            self.checked_session(actor, Action::Chat, id).await?;
        match session.state {
            ChatState::Closed => Err(Error::InvalidState(StateError::ChatClosed)),
            ChatState::Human => Ok(session),
            _ => {
                let (session, ticket) = match stored_ticket {
                    Some(ticket) => (session, ticket),
                    None => match self
                        .open_chat_ticket(
                            &tenant,
                            &user,
                            session,
                            "The customer asked for a human agent in the chat.",
                            false,
                        )
                        .await
                    {
                        Ok((session, ticket, _)) => (session, ticket),
                        // A first message opened the ticket meanwhile: hand that one off.
                        Err(Error::ChatSessionLinked { .. }) => {
                            match self.reread_session(&tenant, id).await? {
                                (session, Some(ticket)) => (session, ticket),
                                (_, None) => return Err(Error::not_found("ticket", id)),
                            }
                        }
                        Err(e) => return Err(e),
                    },
                };
                let (session, _) = self
                    .hand_off(&tenant, session, ticket, ASKED_FOR_HUMAN.into())
                    .await?;
                Ok(session)
            }
        }
    }

    /// An agent answers in a chat session. A session the bot still had is taken over
    /// (state Human); an unassigned ticket is assigned to the agent; the customer is
    /// notified.
    pub async fn agent_chat_reply(
        &self,
        actor: &Actor,
        id: ChatSessionId,
        text: &str,
    ) -> Result<Message> {
        // The reply plans on the session and ticket read with the check.
        let (tenant, user, session, stored_ticket) =
            self.checked_session(actor, Action::WorkChat, id).await?;
        let text = validate::body("text", text, true)?;
        if session.state == ChatState::Closed {
            return Err(Error::InvalidState(StateError::ChatClosed));
        }
        let now = self.now();
        // One write: the reply, the assignment and the session taken over.
        let committed = self
            .mutate_chat(tenant.id, session, stored_ticket, |session, current| {
                if session.state == ChatState::Closed {
                    return Err(Error::InvalidState(StateError::ChatClosed));
                }
                if current.status == TicketStatus::Closed {
                    return Err(Error::InvalidState(StateError::ChatTicketClosed));
                }
                let mut change = Change::of(current, now, Some(user.id));
                if current.assignee.is_none() {
                    change.push(EventKind::Assigned {
                        from: None,
                        to: Some(user.id),
                    });
                }
                let message = chat_message(
                    current,
                    now,
                    Some(user.id),
                    AuthorKind::Agent,
                    text.clone(),
                    Vec::new(),
                );
                change.add_built_message(message.clone());
                change.notify(vec![current.requester], NotificationKind::Replied);
                change.change_chat_session(
                    session,
                    Some(SessionTransition::TakeOver {
                        reason: "taken over by an agent".into(),
                    }),
                );
                Ok(Some((change.finish(), message)))
            })
            .await?;
        committed
            .map(|(_, _, message)| message)
            .ok_or(Error::Internal("the chat reply was not stored"))
    }

    /// An agent hands a session back to the bot, which answers the next customer turns
    /// again. The handoff reason is kept (analytics count the session as handed off).
    pub async fn hand_back_to_bot(&self, actor: &Actor, id: ChatSessionId) -> Result<ChatSession> {
        let (tenant, _) = self.check(actor, Action::WorkChat).await?;
        self.visible_session(actor, id).await?;
        self.mutate_session(&tenant, id, |s| {
            if s.state != ChatState::Human {
                return Err(Error::InvalidState(StateError::NotWithHuman));
            }
            s.state = ChatState::Bot;
            Ok(true)
        })
        .await?
        .ok_or(Error::Internal("the session was not handed back"))
    }

    /// Closes chat sessions idle for longer than their tenant's `chat_inactivity_minutes`
    /// (0 disables it), by the injected clock, and resolves their ticket unless a human
    /// took the conversation. Takes a lease like the other sweeps.
    pub async fn chat_inactivity_sweep(&self) -> Result<ChatSweepReport> {
        let store = &self.inner.store;
        let now = self.now();
        let report = self.with_lease("chat-inactivity-sweep", now, async {
            let mut report = ChatSweepReport {
                ran: true,
                ..ChatSweepReport::default()
            };
            for tenant in store.list_tenants().await? {
                let minutes = tenant.settings.chat_inactivity_minutes;
                if minutes == 0 {
                    continue;
                }
                let idle = Duration::from_secs(u64::from(minutes) * 60);
                let Ok(idle_before) = now.checked_sub(idle) else {
                    continue;
                };
                for session in store.idle_chat_sessions(tenant.id, idle_before).await? {
                    self.close_idle(&tenant, session, idle_before, minutes, &mut report)
                        .await?;
                }
            }
            Ok(report)
        });
        Ok(report.await?.unwrap_or_default())
    }

    /// Runs the chat inactivity sweep on behalf of an admin (checks the role matrix).
    pub async fn run_chat_inactivity_sweep(&self, actor: &Actor) -> Result<ChatSweepReport> {
        self.check(actor, Action::RunSweeps).await?;
        self.chat_inactivity_sweep().await
    }

    /// Closes one idle session. When the bot had it (no human took it) and its ticket can
    /// be resolved, the closing notice, the ticket resolved and the session closed are one
    /// write; otherwise only the session closes. A session that was active meanwhile (or
    /// closed by someone else) is left alone.
    async fn close_idle(
        &self,
        tenant: &Tenant,
        session: ChatSession,
        idle_before: jiff::Timestamp,
        minutes: u32,
        report: &mut ChatSweepReport,
    ) -> Result<()> {
        let now = self.now();
        let still_idle =
            |s: &ChatSession| s.state != ChatState::Closed && s.last_activity_at < idle_before;
        let close = SessionTransition::Close {
            resolved_by_bot: false,
        };
        if session.ticket_id.is_some() && session.handoff_reason.is_none() {
            let resolved = self
                .mutate_chat(tenant.id, session.clone(), None, |s, current| {
                    let resolvable = s.handoff_reason.is_none()
                        && current.merged_into.is_none()
                        && can_transition(None, current.status, TicketStatus::Resolved);
                    if !still_idle(s) || !resolvable {
                        return Ok(None);
                    }
                    let mut change = Change::of(current, now, None);
                    change.add_built_message(chat_message(
                        current,
                        now,
                        None,
                        AuthorKind::Bot,
                        format!("This chat was closed after {minutes} minutes without activity."),
                        Vec::new(),
                    ));
                    set_status(&mut change, tenant, TicketStatus::Resolved)?;
                    change.change_chat_session(s, Some(close.clone()));
                    Ok(Some((change.finish(), ())))
                })
                .await;
            match resolved {
                Ok(Some(_)) => {
                    report.closed += 1;
                    report.resolved += 1;
                    return Ok(());
                }
                // Nothing to resolve (or the ticket is gone): close the session alone.
                Ok(None) | Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let closed = self
            .mutate_session(tenant, session.id, |s| {
                if !still_idle(s) {
                    return Ok(false);
                }
                s.state = ChatState::Closed;
                s.closed_at = Some(now);
                Ok(true)
            })
            .await?;
        if closed.is_some() {
            report.closed += 1;
        }
        Ok(())
    }

    /// Checks the actor for `action` while reading the session with its ticket (one read;
    /// the check's error wins), then keeps the session only if the actor may see it.
    async fn checked_session(
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
    async fn visible_session(&self, actor: &Actor, id: ChatSessionId) -> Result<ChatSession> {
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
    async fn mutate_session<F>(
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
    async fn reread_session(
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

    /// Opens a session's chat ticket in one write that also links the session, marks it
    /// active and, with `first_message`, stores `text` as the customer's first chat message.
    /// Returns the session and the ticket as the write left them, and that message.
    async fn open_chat_ticket(
        &self,
        tenant: &Tenant,
        user: &User,
        session: ChatSession,
        text: &str,
        first_message: bool,
    ) -> Result<(ChatSession, Ticket, Option<Message>)> {
        let new = NewTicket {
            subject: chat_subject(text),
            description: text.to_string(),
            channel: Some(Channel::Chat),
            ..NewTicket::default()
        };
        let mut first = None;
        let opened = self
            .open_ticket_inner(tenant, user, new, None, |change| {
                change.touch_chat_session(session.id, true);
                if first_message {
                    let message = chat_message(
                        change.ticket(),
                        change.at(),
                        Some(user.id),
                        AuthorKind::Customer,
                        text.to_string(),
                        Vec::new(),
                    );
                    change.add_built_message(message.clone());
                    first = Some(message);
                }
                Ok(())
            })
            .await?;
        let mut session = session;
        mark_active(
            &mut session,
            opened.ticket.created_at,
            Some(opened.ticket.id),
        );
        Ok((session, opened.ticket, first))
    }

    /// Stores a later customer chat turn and marks the session active in the same write: a
    /// Pending ticket goes back to Open, a Resolved one is reopened; while a human handles
    /// the session the assignee is notified. Plans on `known`, the session's ticket as just
    /// read (a stale copy is a conflict and a retry on a fresh read). Returns the stored
    /// message and the ticket as this write left it.
    async fn add_customer_turn(
        &self,
        tenant: &Tenant,
        user: &User,
        session: &ChatSession,
        known: Option<Ticket>,
        text: &str,
        human: bool,
    ) -> Result<(Message, Ticket)> {
        let ticket_id = session
            .ticket_id
            .ok_or_else(|| Error::Internal("the session has no ticket for the customer's turn"))?;
        let now = self.now();
        let committed = self
            .mutate_ticket_with(tenant.id, ticket_id, known, |current| {
                if current.status == TicketStatus::Closed || current.merged_into.is_some() {
                    return Err(Error::InvalidState(StateError::ChatTicketClosed));
                }
                let mut change = Change::of(current, now, Some(user.id));
                change.touch_chat_session(session.id, false);
                let message = chat_message(
                    current,
                    now,
                    Some(user.id),
                    AuthorKind::Customer,
                    text.to_string(),
                    Vec::new(),
                );
                change.add_built_message(message.clone());
                match current.status {
                    TicketStatus::Pending => set_status(&mut change, tenant, TicketStatus::Open)?,
                    TicketStatus::Resolved => change.push(EventKind::Reopened {
                        from: TicketStatus::Resolved,
                    }),
                    _ => {}
                }
                if human {
                    change.notify(
                        current.assignee.into_iter().collect(),
                        NotificationKind::Replied,
                    );
                }
                Ok(Some((change.finish(), message)))
            })
            .await?;
        let (write, message) = committed.ok_or(Error::Internal("the chat turn was not stored"))?;
        Ok((message, write.ticket))
    }

    /// Decides the bot's answer to one customer turn. Never fails: every failure becomes
    /// a handoff with its reason.
    async fn bot_decision(&self, tenant: &Tenant, ticket: &Ticket, text: &str) -> BotDecision {
        let autonomy = tenant.settings.ai_autonomy;
        if asks_for_human(text) {
            return BotDecision::Handoff(ASKED_FOR_HUMAN.into());
        }
        if !autonomy.allows_auto_reply() {
            return BotDecision::Handoff(format!(
                "ai autonomy is {autonomy}: the bot does not answer by itself"
            ));
        }
        let threshold = tenant.settings.grounding_threshold;
        let model = self.inner.model.as_deref();
        // The chat history (only a model reads it) loads while the knowledge base is
        // searched.
        let history = async {
            match model {
                Some(_) => self.public_thread(ticket).await.map(Some),
                None => Ok(None),
            }
        };
        let (chunks, history) = futures_util::future::join(
            self.kb_search(tenant, text, self.inner.config.kb_top_k),
            history,
        )
        .await;
        let chunks = match chunks {
            Ok(chunks) => chunks,
            Err(e) => {
                tracing::warn!(error = %e, "knowledge-base search failed; handing off");
                return BotDecision::Handoff("knowledge base unavailable".into());
            }
        };
        let Some(model) = model else {
            return match chunks.first() {
                Some(best) if best.score >= threshold => BotDecision::Answer {
                    body: format!("From our help center, \"{}\":\n\n{}", best.title, best.text),
                    citations: citations_for(std::slice::from_ref(&best.chunk_id), &chunks),
                    resolved: false,
                },
                Some(best) => BotDecision::Handoff(format!(
                    "no confident knowledge-base answer (best score {:.2} under {threshold:.2})",
                    best.score
                )),
                None => BotDecision::Handoff("no knowledge-base answer".into()),
            };
        };
        let history: Vec<Message> = match history {
            Ok(thread) => thread
                .unwrap_or_default()
                .into_iter()
                .filter(|m| m.kind == MessageKind::Chat)
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "loading the chat history failed; handing off");
                return BotDecision::Handoff("chat history unavailable".into());
            }
        };
        let request = prompts::chat_request(
            ticket,
            &chunks,
            &history,
            self.inner.config.chat_history_turns,
        );
        let answer = match output::generate_json_within::<ChatAnswer>(
            model,
            request,
            self.inner.config.model_timeout,
        )
        .await
        {
            Ok(answer) => answer,
            Err(e) => {
                tracing::warn!(error = %e, "chat model call failed; handing off");
                return BotDecision::Handoff(format!("model failed: {}", e.kind_name()));
            }
        };
        if answer.handoff {
            let reason = output::bounded(&answer.handoff_reason, 200);
            return BotDecision::Handoff(if reason.is_empty() {
                "the assistant asked for a human".into()
            } else {
                format!("assistant: {reason}")
            });
        }
        if let Err(why) =
            grounding::check(&answer.answer, &answer.cited_chunk_ids, &chunks, threshold)
        {
            return BotDecision::Handoff(format!("ungrounded answer: {why}"));
        }
        BotDecision::Answer {
            body: output::bounded(&answer.answer, validate::MAX_BODY_CHARS),
            citations: citations_for(&answer.cited_chunk_ids, &chunks),
            resolved: answer.resolved,
        }
    }

    /// Stores the bot's grounded answer; when the customer confirmed the problem is solved
    /// the ticket is resolved and the session closes as resolved by the bot.
    async fn bot_answer(
        &self,
        tenant: &Tenant,
        ticket: &Ticket,
        session: ChatSession,
        body: String,
        citations: Vec<Citation>,
        resolved: bool,
    ) -> Result<(ChatSession, ChatReply)> {
        let now = self.now();
        let message = chat_message(ticket, now, None, AuthorKind::Bot, body, citations);
        if !resolved {
            // Only the ticket changes; plans on the ticket the turn just wrote (no second
            // read); a change meanwhile is a retry.
            self.mutate_ticket_from(tenant.id, ticket.id, Some(ticket.clone()), |current| {
                let mut change = Change::of(current, now, None);
                change.add_built_message(message.clone());
                Ok(change.finish())
            })
            .await?;
            return Ok((session, ChatReply::Answered(message)));
        }
        // Resolved by the bot: the answer, the ticket resolved and the session closed are
        // one write, planned on the session and ticket as the turn left them.
        let committed = self
            .mutate_chat(
                tenant.id,
                session,
                Some(ticket.clone()),
                |session, current| {
                    let mut change = Change::of(current, now, None);
                    change.add_built_message(message.clone());
                    if can_transition(None, current.status, TicketStatus::Resolved) {
                        set_status(&mut change, tenant, TicketStatus::Resolved)?;
                    }
                    change.change_chat_session(
                        session,
                        Some(SessionTransition::Close {
                            resolved_by_bot: true,
                        }),
                    );
                    Ok(Some((change.finish(), ())))
                },
            )
            .await?;
        let (session, _, ()) =
            committed.ok_or(Error::Internal("the bot's answer was not stored"))?;
        Ok((session, ChatReply::Answered(message)))
    }

    /// Hands a session to a human: the ticket moves to Escalated (a system move), is routed
    /// by the router when unassigned, the assignee (or the tenant's admins) get a Handoff
    /// notification through the outbox, the customer sees a notice, and the session goes
    /// to state Human with the reason.
    ///
    /// Plans on `session` and `ticket`, the session's ticket, as the caller just read or
    /// wrote them (a stale copy is a conflict and a retry on a fresh read).
    async fn hand_off(
        &self,
        tenant: &Tenant,
        session: ChatSession,
        ticket: Ticket,
        reason: String,
    ) -> Result<(ChatSession, ChatReply)> {
        let id = session.id;
        if session.ticket_id != Some(ticket.id) {
            return Err(Error::Internal("the handoff's ticket is not the session's"));
        }
        // The routing candidates (only for an unassigned ticket) and the admins to notify
        // when nobody is assigned are read together.
        let routing = async {
            match ticket.assignee {
                None => self.routing_candidates(tenant).await.map(Some),
                Some(_) => Ok(None),
            }
        };
        let (candidates, admins) = futures_util::future::join(
            routing,
            self.inner.store.list_users(tenant.id, Some(Role::Admin)),
        )
        .await;
        let routed = match candidates? {
            Some(candidates) => self.inner.router.route(&ticket, &candidates).await,
            None => None,
        };
        let admins: Vec<UserId> = admins?
            .into_iter()
            .filter(|u| u.active)
            .map(|u| u.id)
            .collect();
        let now = self.now();
        // One write: the ticket escalated, routed and notified, the notice, and the session
        // given to a human.
        let committed = self
            .mutate_chat(tenant.id, session, Some(ticket), |session, current| {
                let mut change = Change::of(current, now, None);
                if can_transition(None, current.status, TicketStatus::Escalated) {
                    set_status(&mut change, tenant, TicketStatus::Escalated)?;
                }
                if current.assignee.is_none()
                    && let Some(to) = routed
                {
                    change.push(EventKind::Assigned {
                        from: None,
                        to: Some(to),
                    });
                }
                let recipients = change
                    .ticket()
                    .assignee
                    .map_or_else(|| admins.clone(), |a| vec![a]);
                change.notify(
                    recipients,
                    NotificationKind::Handoff {
                        reason: reason.clone(),
                    },
                );
                let message = chat_message(
                    current,
                    now,
                    None,
                    AuthorKind::Bot,
                    HANDOFF_NOTICE.into(),
                    Vec::new(),
                );
                change.add_built_message(message.clone());
                change.change_chat_session(
                    session,
                    Some(SessionTransition::HandOff {
                        reason: reason.clone(),
                    }),
                );
                Ok(Some((change.finish(), message)))
            })
            .await?;
        let (session, _, notice) =
            committed.ok_or(Error::Internal("the handoff was not stored"))?;
        tracing::info!(tenant = %tenant.slug, session = %id, %reason, "chat handed off");
        Ok((session, ChatReply::HandedOff { reason, notice }))
    }
}

/// What the store did to `session` with a chat turn's write (marked active at `at`, and
/// linked to `linked` when the write opened its ticket): the same
/// [`ChatSession::apply_activity`] every backend applies.
fn mark_active(session: &mut ChatSession, at: jiff::Timestamp, linked: Option<TicketId>) {
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
    fn chat_subject_is_the_first_line_bounded() {
        assert_eq!(chat_subject("\nHello there\nmore"), "Chat: Hello there");
        assert!(chat_subject(&"x".repeat(300)).chars().count() <= 90);
    }
}

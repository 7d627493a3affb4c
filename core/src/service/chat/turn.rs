//! A customer's chat turn: the first opens the chat ticket, later ones join it; asking for a
//! human.

use super::*;
use crate::domain::AiUseCase;
use crate::llm::UsageTally;

impl Helpdesk {
    /// One customer turn. Stores the customer's message (opening the chat ticket on the
    /// first turn), then lets the bot answer from the knowledge base, or hands off to a
    /// human, or stays silent while a human handles the session. `message` is the text
    /// (`&str`, `String`) or a [`NewMessage`] with files, which are put in the blob store
    /// first and committed with the customer's message in its one write.
    pub async fn chat_message(
        &self,
        actor: &Actor,
        id: ChatSessionId,
        message: impl Into<NewMessage>,
    ) -> Result<ChatTurnOutcome> {
        self.chat_turn(actor, id, message.into(), None).await
    }

    /// [`Helpdesk::chat_message`], streaming the model's answer while it is written:
    /// `provisional` gets the answer text so far (the whole of it each time, growing) as
    /// the model streams it. That text is provisional: it has not passed the grounding
    /// check yet. The outcome is what counts: the committed answer (which may differ, e.g.
    /// bounded), or a handoff when the finished answer is not grounded. Without a model, or
    /// when the bot does not ask it, `provisional` is never called.
    pub async fn chat_message_streaming(
        &self,
        actor: &Actor,
        id: ChatSessionId,
        message: impl Into<NewMessage>,
        provisional: &(dyn Fn(&str) + Send + Sync),
    ) -> Result<ChatTurnOutcome> {
        self.chat_turn(actor, id, message.into(), Some(provisional))
            .await
    }

    async fn chat_turn(
        &self,
        actor: &Actor,
        id: ChatSessionId,
        message: NewMessage,
        provisional: Option<&(dyn Fn(&str) + Send + Sync)>,
    ) -> Result<ChatTurnOutcome> {
        // The chat turn budget counts from here.
        let started = tokio::time::Instant::now();
        // The turn plans on the session and ticket read with the check.
        let (tenant, user, session, stored_ticket) =
            self.checked_session(actor, Action::Chat, id).await?;
        let text = validate::body("text", &message.body, true)?;
        if session.state == ChatState::Closed {
            return Err(Error::InvalidState(StateError::ChatClosed));
        }
        let files = self
            .store_blobs(tenant.id, &tenant.settings, message.attachments)
            .await?;
        // One write per customer turn: the first opens the chat ticket with the message and
        // links the session; later ones add the message; both mark the session active.
        let opened = match session.ticket_id {
            None => match self
                .open_chat_ticket(&tenant, &user, session.clone(), &text, Some(files.clone()))
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
                let (message, ticket) = self
                    .add_customer_turn(&tenant, &user, &session, stored_ticket, &text, files)
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
        let usage = UsageTally::new();
        let decision = self
            .bot_decision(&tenant, &ticket, &text, started, provisional, &usage)
            .await;
        let spent = usage.take(AiUseCase::Chat, self.now());
        let stored = match decision {
            BotDecision::Answer(reply) => {
                self.bot_answer(&tenant, &ticket, session, reply, &spent)
                    .await
            }
            BotDecision::Handoff(reason) => {
                self.hand_off(&tenant, session, ticket, reason, &spent)
                    .await
            }
            BotDecision::Greeting => self
                .bot_answer(
                    &tenant,
                    &ticket,
                    session,
                    BotReply {
                        body: GREETING_REPLY.into(),
                        citations: Vec::new(),
                        resolved: false,
                    },
                    &spent,
                )
                .await
                .map(|(session, reply)| match reply {
                    ChatReply::Answered(message) => (session, ChatReply::Greeted(message)),
                    other => (session, other),
                }),
        };
        let (session, reply) = match stored {
            Ok(stored) => stored,
            Err(e) => {
                self.record_usage_alone(tenant.id, &spent).await;
                return Err(e);
            }
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
                            None,
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
                    .hand_off(&tenant, session, ticket, ASKED_FOR_HUMAN.into(), &[])
                    .await?;
                Ok(session)
            }
        }
    }

    /// Opens a session's chat ticket in one write that also links the session, marks it
    /// active and, with `first_message` (its files, stored already), stores `text` as the
    /// customer's first chat message with those files. Returns the session and the ticket
    /// as the write left them, and that message.
    pub(super) async fn open_chat_ticket(
        &self,
        tenant: &Tenant,
        user: &User,
        session: ChatSession,
        text: &str,
        first_message: Option<Vec<StoredBlob>>,
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
                if let Some(files) = first_message.clone() {
                    let message = chat_message(
                        change.ticket(),
                        change.at(),
                        Some(user.id),
                        AuthorKind::Customer,
                        text.to_string(),
                        Vec::new(),
                    );
                    change.add_built_message(message.clone());
                    change.attach(Some(&message), files);
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

    /// Stores a later customer chat turn (with its files, stored already) and marks the
    /// session active in the same write: a
    /// Pending ticket goes back to Open, a Resolved one is reopened; while a human handles
    /// the session the assignee is notified. Plans on `known`, the session's ticket as just
    /// read (a stale copy is a conflict and a retry on a fresh read). Returns the stored
    /// message and the ticket as this write left it.
    pub(super) async fn add_customer_turn(
        &self,
        tenant: &Tenant,
        user: &User,
        session: &ChatSession,
        known: Option<Ticket>,
        text: &str,
        files: Vec<StoredBlob>,
    ) -> Result<(Message, Ticket)> {
        let human = session.state == ChatState::Human;
        let ticket_id = session
            .ticket_id
            .ok_or_else(|| Error::Internal("the session has no ticket for the customer's turn"))?;
        let now = self.now();
        let committed = self
            .mutate_ticket_with(tenant, ticket_id, known, |current| {
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
                change.attach(Some(&message), files.clone());
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
                        NotificationKind::Replied { message_id: None },
                    );
                }
                Ok(Some((change.finish(), message)))
            })
            .await?;
        let (write, message) = committed.ok_or(Error::Internal("the chat turn was not stored"))?;
        Ok((message, write.ticket))
    }
}

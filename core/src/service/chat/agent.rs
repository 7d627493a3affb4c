//! Agents in a chat: answering (which takes the session over) and handing it back to the bot.

use super::*;

impl Helpdesk {
    /// An agent answers in a chat session. A session the bot still had is taken over
    /// (state Human; a ticket still New moves to InProgress and its SLA starts); an
    /// unassigned ticket is assigned to the agent; the customer is notified. `message` is
    /// the text or a [`NewMessage`] with files, committed with the reply in its one write.
    pub async fn agent_chat_reply(
        &self,
        actor: &Actor,
        id: ChatSessionId,
        message: impl Into<NewMessage>,
    ) -> Result<Message> {
        let message = message.into();
        // The reply plans on the session and ticket read with the check.
        let (tenant, user, session, stored_ticket) =
            self.checked_session(actor, Action::WorkChat, id).await?;
        let text = validate::body("text", &message.body, true)?;
        if session.state == ChatState::Closed {
            return Err(Error::InvalidState(StateError::ChatClosed));
        }
        let files = self
            .store_blobs(tenant.id, &tenant.settings, message.attachments)
            .await?;
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
                // Taking a chat over from the bot makes it the agent's work (out of the
                // bot-chat filter, with its SLA clock started).
                if current.is_bot_chat() {
                    set_status(&mut change, &tenant, TicketStatus::InProgress)?;
                }
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
                change.attach(Some(&message), files.clone());
                change.notify(
                    vec![current.requester],
                    NotificationKind::Replied {
                        message_id: Some(message.id),
                    },
                );
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
}

//! Replies and notes: a customer's reply drives Pending, reopen and follow-ups; an agent's
//! reply is the first response and is refused on a Closed ticket.

use super::*;

impl Helpdesk {
    /// Posts a public reply. A customer reply moves Pending to Open, reopens a Resolved
    /// ticket within the reopen window, and on a Closed ticket (or a Resolved one past the
    /// window) opens a linked follow-up ticket instead. Closed is final for staff: an
    /// agent's reply to a Closed ticket is refused with [`Error::TicketClosed`] (nothing is
    /// sent to the customer); open a new ticket to write to them again.
    ///
    /// Files ([`NewReply::attachments`]) are put in the blob store first and committed on
    /// the reply in its one write (on the follow-up's reply when one is opened).
    pub async fn reply(
        &self,
        actor: &Actor,
        id: TicketId,
        reply: NewReply,
    ) -> Result<ReplyOutcome> {
        let (tenant, user, ticket) = self.checked_ticket(actor, Action::Reply, id).await?;
        let body = validate::body("body", &reply.body, true)?;
        if ticket.merged_into.is_some() {
            return Err(StateError::TicketMerged {
                number: ticket.number,
            }
            .into());
        }
        if let Some(to) = reply.status_after {
            if !actor.is_staff() {
                return Err(Error::Forbidden {
                    action: "set a status with a reply",
                    role: actor.role,
                });
            }
            check_transition(actor.role, ticket.status, to)?;
        }
        let files = self
            .store_blobs(tenant.id, &tenant.settings, reply.attachments)
            .await?;
        let now = self.now();
        if !actor.is_staff() && ticket.takes_follow_up(tenant.settings.reopen_window_hours, now) {
            return self.follow_up(&tenant, &user, &ticket, body, files).await;
        }
        let committed = self
            .mutate_ticket_with(&tenant, id, Some(ticket), |current| {
                let mut change = Change::of(current, now, Some(user.id));
                let mut reopened = false;
                if actor.is_staff() {
                    let message = add_agent_reply(&mut change, &tenant, user.id, body.clone())?;
                    change.attach(Some(&message), files.clone());
                    if let Some(to) = reply.status_after {
                        check_transition(actor.role, change.ticket().status, to)?;
                        set_status(&mut change, &tenant, to)?;
                    }
                } else {
                    let message = change.add_message(
                        Some(user.id),
                        AuthorKind::Customer,
                        MessageKind::Reply,
                        body.clone(),
                    );
                    change.attach(Some(&message), files.clone());
                    match current.status {
                        TicketStatus::Pending => {
                            set_status(&mut change, &tenant, TicketStatus::Open)?
                        }
                        TicketStatus::Resolved => {
                            change.push(EventKind::Reopened {
                                from: TicketStatus::Resolved,
                            });
                            reopened = true;
                        }
                        TicketStatus::Closed => {
                            return Err(Error::TicketClosed {
                                number: current.number,
                            });
                        }
                        _ => {}
                    }
                    change.notify(
                        others(&[current.assignee], user.id),
                        NotificationKind::Replied { message_id: None },
                    );
                }
                Ok(Some((change.finish(), reopened)))
            })
            .await?;
        let (write, reopened) = committed.ok_or(Error::Internal("the reply was not stored"))?;
        let message = last_message(&write)?;
        Ok(ReplyOutcome {
            message,
            ticket: crate::service::fields::for_viewer(actor, &tenant, write.ticket),
            reopened,
            follow_up_of: None,
        })
    }

    pub(super) async fn follow_up(
        &self,
        tenant: &Tenant,
        user: &User,
        closed: &Ticket,
        body: String,
        files: Vec<StoredBlob>,
    ) -> Result<ReplyOutcome> {
        let subject: String = format!("Follow-up to #{}: {}", closed.number, closed.subject)
            .chars()
            .take(validate::MAX_SUBJECT_CHARS)
            .collect();
        let new = NewTicket {
            subject,
            description: format!("Follow-up to ticket #{}.", closed.number),
            priority: Some(closed.priority),
            channel: Some(closed.channel),
            ..NewTicket::default()
        };
        let opened = self
            .open_ticket_inner(tenant, user, new, Some(closed.id), |_| Ok(()))
            .await?;
        let follow_up = opened.ticket.id;
        self.record_follow_up(tenant, closed.id, follow_up, user.id)
            .await?;
        let write = self
            .mutate_ticket(tenant, follow_up, |current| {
                let mut change = Change::of(current, self.now(), Some(user.id));
                let message = change.add_message(
                    Some(user.id),
                    AuthorKind::Customer,
                    MessageKind::Reply,
                    body.clone(),
                );
                change.attach(Some(&message), files.clone());
                change.notify(
                    others(&[current.assignee], user.id),
                    NotificationKind::Replied { message_id: None },
                );
                Ok(change.finish())
            })
            .await?;
        Ok(ReplyOutcome {
            message: last_message(&write)?,
            ticket: write.ticket,
            reopened: false,
            follow_up_of: Some(closed.id),
        })
    }

    /// Records on the closed ticket that `follow_up` was opened for it (by `user`).
    pub(crate) async fn record_follow_up(
        &self,
        tenant: &Tenant,
        closed: TicketId,
        follow_up: TicketId,
        user: UserId,
    ) -> Result<()> {
        self.mutate_ticket(tenant, closed, |current| {
            let mut change = Change::of(current, self.now(), Some(user));
            change.push(EventKind::FollowUpOpened {
                ticket_id: follow_up,
            });
            Ok(change.finish())
        })
        .await?;
        Ok(())
    }

    /// Adds an internal note (staff only; never visible to customers, nor are its files).
    /// `note` is its text (`&str`, `String`) or a [`NewMessage`] with files, which are put
    /// in the blob store first and committed with the note in its one write.
    pub async fn add_note(
        &self,
        actor: &Actor,
        id: TicketId,
        note: impl Into<NewMessage>,
    ) -> Result<Message> {
        let note = note.into();
        let (tenant, user, ticket) = self.checked_ticket(actor, Action::AddNote, id).await?;
        let body = validate::body("body", &note.body, true)?;
        let files = self
            .store_blobs(tenant.id, &tenant.settings, note.attachments)
            .await?;
        let now = self.now();
        let write = self
            .mutate_ticket_from(&tenant, id, Some(ticket), |current| {
                let mut change = Change::of(current, now, Some(user.id));
                let message = change.add_message(
                    Some(user.id),
                    AuthorKind::Agent,
                    MessageKind::Note,
                    body.clone(),
                );
                change.attach(Some(&message), files.clone());
                Ok(change.finish())
            })
            .await?;
        last_message(&write)
    }
}

/// Adds a public agent reply to a change: flags a late first response, stores the reply
/// (which sets `first_response_at`) and notifies the requester. Used by `reply` and by
/// sending an AI draft. A Closed ticket is final: the reply is refused with
/// [`Error::TicketClosed`].
pub(crate) fn add_agent_reply(
    change: &mut Change,
    tenant: &Tenant,
    author: UserId,
    body: String,
) -> Result<Message> {
    let before = change.ticket().clone();
    if before.status == TicketStatus::Closed {
        return Err(Error::TicketClosed {
            number: before.number,
        });
    }
    breach_if_late_response(change, tenant, &before)?;
    let message = change.add_message(Some(author), AuthorKind::Agent, MessageKind::Reply, body);
    change.notify(
        vec![before.requester],
        NotificationKind::Replied {
            message_id: Some(message.id),
        },
    );
    Ok(message)
}

/// Flags a first-response breach when the first agent reply comes after the due time, as
/// it stands now (a paused clock's due time includes the pause so far).
pub(super) fn breach_if_late_response(
    change: &mut Change,
    tenant: &Tenant,
    before: &Ticket,
) -> Result<()> {
    if before.first_response_at.is_some() || before.sla.first_response_breached {
        return Ok(());
    }
    let sla = sla::due_at(&tenant.settings.calendar, &before.sla, change.at())?;
    if sla.first_response_due.is_some_and(|due| change.at() > due) {
        change.push(EventKind::SlaBreached {
            kind: SlaKind::FirstResponse,
        });
    }
    Ok(())
}

pub(super) fn last_message(write: &TicketWrite) -> Result<Message> {
    write
        .messages
        .last()
        .cloned()
        .ok_or(Error::Internal("a change stored no message"))
}

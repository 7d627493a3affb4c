//! The e-mail channel's use case: an inbound mail, already parsed and routed by the mail
//! crate, becomes a new ticket, a customer reply, a follow-up or an internal note, in one
//! atomic write, exactly once per Message-ID.
//!
//! The tenant is the delivery route's (the pipe's tenant, the IMAP mailbox's
//! configuration), never something the message says.

mod prepared;

use prepared::Prepared;
pub use prepared::email_message_id;

use super::Helpdesk;
use super::attachments::{NewAttachment, StoredBlob};
use super::back_off;
use super::change::Change;
use super::tenants::NewUser;
use super::tickets::{NewTicket, others, set_status};
use crate::domain::{
    AuthorKind, Channel, EventKind, MessageKind, NotificationKind, Role, Tenant, Ticket,
    TicketStatus, User,
};
use crate::{DuplicateKind, Error, Result, TenantId, TicketId, validate};

/// An inbound e-mail, parsed and routed, for
/// [`Helpdesk::receive_email`](crate::Helpdesk::receive_email).
///
/// Everything in it is untrusted text from the sender; the helpdesk bounds and validates it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboundEmail {
    /// Its Message-ID, bare (no angle brackets); the mail crate makes one from the raw
    /// bytes' SHA-256 when the mail has none. Receiving the same id twice is a
    /// [`EmailDisposition::Duplicate`].
    pub message_id: String,
    /// The sender's address.
    pub from_address: String,
    /// The sender's display name (may be empty).
    pub from_name: String,
    /// Addresses it was copied to.
    pub cc: Vec<String>,
    /// Its `In-Reply-To` then `References` ids, bare.
    pub references: Vec<String>,
    /// The subject; empty becomes `"(no subject)"`.
    pub subject: String,
    /// The full text, quotes included (the desk folds them).
    pub body: String,
    /// Its files.
    pub attachments: Vec<NewAttachment>,
    /// Where the mail crate's threading put it.
    pub route: EmailRoute,
}

impl InboundEmail {
    /// A mail with this Message-ID from this address, routed to `route`, with no name,
    /// copies, references, subject, text or files (add them with the builder methods).
    pub fn new(
        message_id: impl Into<String>,
        from_address: impl Into<String>,
        route: EmailRoute,
    ) -> Self {
        Self {
            message_id: message_id.into(),
            from_address: from_address.into(),
            from_name: String::new(),
            cc: Vec::new(),
            references: Vec::new(),
            subject: String::new(),
            body: String::new(),
            attachments: Vec::new(),
            route,
        }
    }

    /// With the sender's display name.
    pub fn with_from_name(mut self, name: impl Into<String>) -> Self {
        self.from_name = name.into();
        self
    }

    /// With the `Cc` addresses.
    pub fn with_cc(mut self, cc: Vec<String>) -> Self {
        self.cc = cc;
        self
    }

    /// With the referenced Message-IDs (`In-Reply-To` first, then `References`).
    pub fn with_references(mut self, references: Vec<String>) -> Self {
        self.references = references;
        self
    }

    /// With the subject.
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = subject.into();
        self
    }

    /// With the text.
    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }

    /// With files.
    pub fn with_attachments(mut self, attachments: Vec<NewAttachment>) -> Self {
        self.attachments = attachments;
        self
    }
}

/// Where an inbound mail goes, as the mail crate's threading decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmailRoute {
    /// Nothing matched: a new ticket.
    New,
    /// A reply to this ticket (found by our Message-IDs, the reply token or the subject
    /// tag); an unknown or another tenant's id is `NotFound`.
    Ticket(TicketId),
}

/// What [`Helpdesk::receive_email`](crate::Helpdesk::receive_email) did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EmailOutcome {
    /// The ticket the mail landed on (the new one, the replied one, the follow-up, or for
    /// a duplicate the one the first delivery landed on), as stored.
    pub ticket: Ticket,
    /// What became of the mail.
    pub disposition: EmailDisposition,
}

/// What became of an inbound mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmailDisposition {
    /// A new ticket was opened (channel Email).
    Opened,
    /// A customer reply on the routed ticket.
    Replied,
    /// The routed ticket was closed (or resolved past the reopen window): a linked
    /// follow-up ticket was opened with the mail as its description.
    FollowUp {
        /// The closed ticket.
        of: TicketId,
    },
    /// Routed to a ticket, but the sender is not its requester: kept as an internal note
    /// for staff, never shown to the requester.
    FromOtherSender,
    /// This Message-ID was already received: nothing was written.
    Duplicate,
}

/// How many merges are followed from a routed ticket to the one work happens on (a
/// ticket that received merges cannot be merged itself, so one is enough; the rest is a
/// guard against a cycle in bad data).
const MAX_MERGE_HOPS: usize = 4;

/// Who wrote a mail routed to a ticket, and so what it becomes there.
enum OnTicket {
    /// The requester: a customer reply.
    Requester(User),
    /// A staff member: their internal note.
    Staff(User),
    /// Anyone else: a system note naming the sender.
    Other,
}

/// What planning a mail on a ticket found.
enum Planned {
    /// Written.
    Done(EmailOutcome),
    /// The ticket is closed (or resolved past the reopen window): a follow-up is due.
    FollowUp(Ticket),
}

impl Helpdesk {
    /// Receives an inbound e-mail for `tenant` (the tenant of its delivery route, never one
    /// the mail names): opens a ticket, adds a customer reply, opens a follow-up or keeps
    /// an internal note, in one atomic write, exactly once per Message-ID.
    ///
    /// * [`EmailRoute::New`]: the sender is the tenant's user with that address
    ///   (case-insensitive); an unknown sender is registered as a customer (named by the
    ///   mail's display name, else the address's local part; no password) when the tenant
    ///   takes sign-ups, else [`Error::SenderRefused`]. Staff senders are refused too (a
    ///   ticket with staff as its requester is wrong; open it in the desk on the
    ///   customer's behalf). The ticket (channel Email, the mail as its description) is
    ///   opened with the idempotency key `email:<message_id>`, with the mail as its first
    ///   message, the files on that message, and the "we received your request"
    ///   notification ([`NotificationKind::Received`]) when the tenant has a support
    ///   address and acknowledges new tickets.
    /// * [`EmailRoute::Ticket`]: an unknown or another tenant's ticket is `NotFound`; a
    ///   merged ticket's mail goes to the ticket it was merged into. From the requester, a
    ///   customer reply as [`Helpdesk::reply`] makes it (Pending becomes Open, a Resolved
    ///   ticket reopens within the window); on a Closed ticket, or a Resolved one past the
    ///   window, a follow-up ticket is opened with the mail as its description (so a crash
    ///   cannot lose the text) and the closed ticket gets its `FollowUpOpened` event after.
    ///   From staff, their internal note; from anyone else, a system note
    ///   `E-mail from <address> (not the requester)` that the requester never sees.
    ///
    /// Every message made from a mail carries its
    /// [`EmailHeaders`](crate::domain::EmailHeaders) and a deterministic id (UUID v5 of
    /// the tenant and the Message-ID); a Message-ID received before is
    /// [`EmailDisposition::Duplicate`] with nothing written, also when two deliveries
    /// race (the write expects the ticket version the duplicate check read). Files go to
    /// the blob store first, as with replies; the tenant's attachment limits apply.
    pub async fn receive_email(
        &self,
        tenant: TenantId,
        mail: InboundEmail,
    ) -> Result<EmailOutcome> {
        let prepared = Prepared::new(tenant, &mail)?;
        let tenant = self.tenant(tenant).await?;
        match mail.route {
            EmailRoute::New => {
                if let Some(ticket) = self.already_received(&tenant, &prepared).await? {
                    return Ok(duplicate(ticket));
                }
                let user = self.new_ticket_sender(&tenant, &prepared).await?;
                let files = self
                    .store_blobs(tenant.id, &tenant.settings, mail.attachments)
                    .await?;
                let new = NewTicket {
                    subject: prepared.subject.clone(),
                    description: prepared.body.clone(),
                    ..NewTicket::default()
                };
                self.open_by_email(&tenant, &user, new, None, &prepared, files)
                    .await
            }
            EmailRoute::Ticket(id) => {
                let ticket = self.routed_ticket(&tenant, id).await?;
                if let Some(ticket) = self.already_received(&tenant, &prepared).await? {
                    return Ok(duplicate(ticket));
                }
                let sender = self
                    .inner
                    .store
                    .get_user_by_email(tenant.id, &prepared.from)
                    .await?
                    .filter(|u| u.active);
                let sender = match sender {
                    Some(u) if u.role != Role::Customer => OnTicket::Staff(u),
                    Some(u) if u.id == ticket.requester => OnTicket::Requester(u),
                    _ => OnTicket::Other,
                };
                let files = self
                    .store_blobs(tenant.id, &tenant.settings, mail.attachments)
                    .await?;
                match self
                    .write_on_ticket(&tenant, ticket, &sender, &prepared, &files)
                    .await?
                {
                    Planned::Done(outcome) => Ok(outcome),
                    Planned::FollowUp(closed) => {
                        let OnTicket::Requester(user) = &sender else {
                            return Err(Error::Internal("a follow-up planned for a non-requester"));
                        };
                        self.email_follow_up(&tenant, user, &closed, &prepared, files)
                            .await
                    }
                }
            }
        }
    }

    /// The ticket a mail routed to `id` lands on: `id`'s, or the one it was merged into.
    async fn routed_ticket(&self, tenant: &Tenant, id: TicketId) -> Result<Ticket> {
        let mut ticket = self
            .inner
            .store
            .get_ticket(tenant.id, id)
            .await?
            .ok_or_else(|| Error::not_found("ticket", id))?;
        for _ in 0..MAX_MERGE_HOPS {
            let Some(target) = ticket.merged_into else {
                return Ok(ticket);
            };
            ticket = self
                .inner
                .store
                .get_ticket(tenant.id, target)
                .await?
                .ok_or_else(|| Error::not_found("ticket", target))?;
        }
        Err(Error::Internal("a chain of merged tickets does not end"))
    }

    /// The ticket a mail with this Message-ID already landed on, if any: its message (on
    /// any ticket), or a ticket opened with its key.
    async fn already_received(&self, tenant: &Tenant, mail: &Prepared) -> Result<Option<Ticket>> {
        let store = &self.inner.store;
        let (message, keyed) = futures_util::future::try_join(
            store.get_message(tenant.id, mail.id),
            store.find_by_idempotency_key(tenant.id, &mail.key),
        )
        .await?;
        let Some(id) = message.map(|m| m.ticket_id).or(keyed) else {
            return Ok(None);
        };
        store
            .get_ticket(tenant.id, id)
            .await?
            .map(Some)
            .ok_or_else(|| Error::not_found("ticket", id))
    }

    /// The requester of a ticket a mail opens: the tenant's customer with the sender's
    /// address, registered when unknown and the tenant takes sign-ups.
    async fn new_ticket_sender(&self, tenant: &Tenant, mail: &Prepared) -> Result<User> {
        let refused = |reason| Error::SenderRefused {
            address: mail.from.clone(),
            reason,
        };
        let store = &self.inner.store;
        match store.get_user_by_email(tenant.id, &mail.from).await? {
            Some(u) if !u.active => Err(refused("the sender's account is deactivated")),
            Some(u) if u.role != Role::Customer => Err(refused(
                "staff members cannot open tickets by e-mail; open it in the desk on the \
                 customer's behalf",
            )),
            Some(u) => Ok(u),
            None if !tenant.settings.self_registration => Err(refused(
                "unknown sender, and the tenant does not take sign-ups",
            )),
            None => {
                let local = mail.from.split('@').next().unwrap_or_default();
                let name = [mail.from_name.as_str(), local, "E-mail customer"]
                    .into_iter()
                    .find_map(|n| validate::required_line("name", n, validate::MAX_NAME_CHARS).ok())
                    .unwrap_or_else(|| "E-mail customer".into());
                let new = NewUser::new(&mail.from, &name, Role::Customer);
                let (user, _) = self.build_user(tenant, new, Some(Role::Customer)).await?;
                match self.insert_user(None, &user, None).await {
                    Ok(()) => Ok(user),
                    // Another mail of the same sender registered them first.
                    Err(Error::Duplicate {
                        kind: DuplicateKind::Email,
                        ..
                    }) => store
                        .get_user_by_email(tenant.id, &mail.from)
                        .await?
                        .filter(|u| u.active && u.role == Role::Customer)
                        .ok_or_else(|| refused("the sender's account changed meanwhile")),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Opens a ticket from a mail (`new` without key or channel: both are set here), with
    /// the mail as its first message carrying `files`, and the acknowledgement; a key or
    /// message id already used is a duplicate.
    async fn open_by_email(
        &self,
        tenant: &Tenant,
        user: &User,
        mut new: NewTicket,
        follow_up_of: Option<TicketId>,
        mail: &Prepared,
        files: Vec<StoredBlob>,
    ) -> Result<EmailOutcome> {
        new.channel = Some(Channel::Email);
        new.idempotency_key = Some(mail.key.clone());
        let email = &tenant.settings.email;
        let acknowledge = email.acknowledge_new_tickets && email.address.is_some();
        let opened = self
            .open_ticket_inner(tenant, user, new, follow_up_of, |change| {
                let message = mail.message(
                    change,
                    Some(user),
                    AuthorKind::Customer,
                    MessageKind::Reply,
                    mail.message_text(""),
                );
                change.add_built_message(message.clone());
                change.attach(Some(&message), files.clone());
                if acknowledge {
                    change.notify(vec![user.id], NotificationKind::Received);
                }
                Ok(())
            })
            .await;
        match opened {
            Ok(opened) if opened.created => {
                let disposition = match follow_up_of {
                    Some(of) => EmailDisposition::FollowUp { of },
                    None => EmailDisposition::Opened,
                };
                Ok(EmailOutcome {
                    ticket: opened.ticket,
                    disposition,
                })
            }
            Ok(opened) => Ok(duplicate(opened.ticket)),
            // A concurrent delivery of the same mail won (its key or its message id).
            Err(e @ Error::Duplicate { .. }) => match self.already_received(tenant, mail).await? {
                Some(ticket) => Ok(duplicate(ticket)),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// A requester's mail to a closed ticket: the follow-up ticket with the mail as its
    /// description and first message, then the closed ticket's `FollowUpOpened` event.
    async fn email_follow_up(
        &self,
        tenant: &Tenant,
        user: &User,
        closed: &Ticket,
        mail: &Prepared,
        files: Vec<StoredBlob>,
    ) -> Result<EmailOutcome> {
        let subject: String = format!("Follow-up to #{}: {}", closed.number, closed.subject)
            .chars()
            .take(validate::MAX_SUBJECT_CHARS)
            .collect();
        let new = NewTicket {
            subject,
            description: mail.body.clone(),
            priority: Some(closed.priority),
            ..NewTicket::default()
        };
        let outcome = self
            .open_by_email(tenant, user, new, Some(closed.id), mail, files)
            .await?;
        if outcome.disposition == EmailDisposition::Duplicate {
            return Ok(outcome);
        }
        self.record_follow_up(tenant, closed.id, outcome.ticket.id, user.id)
            .await?;
        Ok(outcome)
    }

    /// Writes a mail on `ticket` as `sender` makes it (reply or note): planned on the
    /// ticket as read, expecting its version, the message id checked on every re-read,
    /// so two deliveries of one mail write it once.
    async fn write_on_ticket(
        &self,
        tenant: &Tenant,
        ticket: Ticket,
        sender: &OnTicket,
        mail: &Prepared,
        files: &[StoredBlob],
    ) -> Result<Planned> {
        let id = ticket.id;
        let turn = self.inner.ticket_locks.turn(id).await;
        // Checked already on the ticket as read, unless another writer of it went first.
        let mut known = (!turn.waited()).then_some(ticket);
        let attempts = self.inner.config.max_conflict_retries.max(1);
        let mut last = None;
        for attempt in 0..attempts {
            let current = match known.take() {
                Some(ticket) => ticket,
                None => {
                    let current = self.routed_ticket(tenant, id).await?;
                    if let Some(ticket) = self.already_received(tenant, mail).await? {
                        return Ok(Planned::Done(duplicate(ticket)));
                    }
                    current
                }
            };
            let Some(write) = self.plan_on_ticket(tenant, &current, sender, mail, files)? else {
                return Ok(Planned::FollowUp(current));
            };
            match self
                .inner
                .store
                .update_ticket(current.version, &write)
                .await
            {
                Ok(()) => {
                    self.signal_commit(tenant.id);
                    let disposition = match sender {
                        OnTicket::Requester(_) => EmailDisposition::Replied,
                        OnTicket::Staff(_) | OnTicket::Other => EmailDisposition::FromOtherSender,
                    };
                    return Ok(Planned::Done(EmailOutcome {
                        ticket: write.ticket,
                        disposition,
                    }));
                }
                Err(e) => {
                    tracing::debug!(%id, attempt, error = %e, "e-mail write failed");
                    last = Some(back_off(attempt, e).await?);
                }
            }
        }
        Err(last.unwrap_or(Error::Conflict {
            entity: "ticket",
            id: id.to_string(),
            expected: 0,
        }))
    }

    /// The write a mail makes on `current`, or `None` when the requester's mail must open
    /// a follow-up instead (Closed, or Resolved past the reopen window).
    fn plan_on_ticket(
        &self,
        tenant: &Tenant,
        current: &Ticket,
        sender: &OnTicket,
        mail: &Prepared,
        files: &[StoredBlob],
    ) -> Result<Option<crate::store::TicketWrite>> {
        let now = self.now();
        let mut change;
        match sender {
            OnTicket::Requester(user) => {
                if current.takes_follow_up(tenant.settings.reopen_window_hours, now) {
                    return Ok(None);
                }
                change = Change::of(current, now, Some(user.id));
                let message = mail.message(
                    &change,
                    Some(user),
                    AuthorKind::Customer,
                    MessageKind::Reply,
                    mail.message_text(""),
                );
                change.add_built_message(message.clone());
                change.attach(Some(&message), files.to_vec());
                match current.status {
                    TicketStatus::Pending => set_status(&mut change, tenant, TicketStatus::Open)?,
                    TicketStatus::Resolved => change.push(EventKind::Reopened {
                        from: TicketStatus::Resolved,
                    }),
                    _ => {}
                }
                change.notify(
                    others(&[current.assignee], user.id),
                    NotificationKind::Replied { message_id: None },
                );
            }
            OnTicket::Staff(user) => {
                change = Change::of(current, now, Some(user.id));
                let message = mail.message(
                    &change,
                    Some(user),
                    AuthorKind::Agent,
                    MessageKind::Note,
                    mail.message_text(""),
                );
                change.add_built_message(message.clone());
                change.attach(Some(&message), files.to_vec());
            }
            OnTicket::Other => {
                change = Change::of(current, now, None);
                let prefix = format!("E-mail from {} (not the requester):\n\n", mail.from);
                let message = mail.message(
                    &change,
                    None,
                    AuthorKind::System,
                    MessageKind::Note,
                    mail.message_text(&prefix),
                );
                change.add_built_message(message.clone());
                change.attach(Some(&message), files.to_vec());
            }
        }
        Ok(Some(change.finish()))
    }
}

/// The outcome of a mail received before, on the ticket it landed on.
fn duplicate(ticket: Ticket) -> EmailOutcome {
    EmailOutcome {
        ticket,
        disposition: EmailDisposition::Duplicate,
    }
}

//! Ticket use-cases: intake, reading, listing, replies, notes, transitions, assignment,
//! edits, merge and CSAT.

use serde::{Deserialize, Serialize};

use super::Helpdesk;
use super::change::Change;
use crate::domain::{
    Actor, AuthorKind, Channel, Csat, Event, EventKind, Message, MessageKind, NotificationKind,
    Priority, Role, SlaKind, SlaState, Tenant, Ticket, TicketStatus, User,
};
use crate::lifecycle::check_transition;
use crate::roles::Action;
use crate::routing::Candidate;
use crate::store::{MessageFilter, Page, TicketQuery, TicketWrite};
use crate::triage::ClassifyInput;
use crate::{DuplicateKind, Error, Result, StateError, TicketId, UserId, sla, validate};

/// A ticket to open.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewTicket {
    /// Subject (1..=200 characters).
    pub subject: String,
    /// Description (up to 20,000 characters).
    pub description: String,
    /// Priority chosen by the requester or agent; triage may raise a customer's choice.
    pub priority: Option<Priority>,
    /// Tags.
    pub tags: Vec<String>,
    /// Channel (default Form).
    pub channel: Option<Channel>,
    /// For staff opening on a customer's behalf: the customer.
    pub requester: Option<UserId>,
    /// Intake idempotency key (e-mail Message-ID, client request id).
    pub idempotency_key: Option<String>,
}

impl NewTicket {
    /// A ticket with a subject and description.
    pub fn new(subject: &str, description: &str) -> Self {
        Self {
            subject: subject.into(),
            description: description.into(),
            ..Self::default()
        }
    }
}

/// The result of [`Helpdesk::open_ticket`].
#[derive(Debug, Clone, PartialEq)]
pub struct OpenOutcome {
    /// The ticket.
    pub ticket: Ticket,
    /// False when the idempotency key matched an existing ticket.
    pub created: bool,
}

/// A ticket as an actor may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketView {
    /// The ticket.
    pub ticket: Ticket,
    /// Messages the actor may see (customers never see notes or drafts).
    pub messages: Vec<Message>,
    /// The audit log (staff only; empty for customers).
    pub events: Vec<Event>,
}

/// A public reply.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewReply {
    /// The text.
    pub body: String,
    /// Staff only: move the ticket to this status in the same change (e.g. Pending).
    pub status_after: Option<TicketStatus>,
}

impl NewReply {
    /// A reply with a body.
    pub fn new(body: &str) -> Self {
        Self {
            body: body.into(),
            status_after: None,
        }
    }
}

/// What a reply did.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplyOutcome {
    /// The stored message.
    pub message: Message,
    /// The ticket it landed on (a new follow-up when the original was closed).
    pub ticket: Ticket,
    /// Whether the reply reopened a resolved ticket.
    pub reopened: bool,
    /// Set when the reply opened a follow-up ticket.
    pub follow_up_of: Option<TicketId>,
}

/// Edits of ticket fields by staff; `None` keeps the value.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TicketPatch {
    /// New priority (SLA due times are recomputed).
    pub priority: Option<Priority>,
    /// New category (must be one of the tenant's).
    pub category: Option<String>,
    /// New tags.
    pub tags: Option<Vec<String>>,
}

fn validate_key(key: &str) -> Result<String> {
    validate::required_line("idempotency_key", key, 200)
}

fn others(list: &[Option<UserId>], actor: UserId) -> Vec<UserId> {
    list.iter()
        .flatten()
        .copied()
        .filter(|u| *u != actor)
        .collect()
}

impl Helpdesk {
    /// Candidates for routing: active staff of the tenant with their open loads.
    pub(crate) async fn routing_candidates(&self, tenant: &Tenant) -> Result<Vec<Candidate>> {
        Ok(self
            .inner
            .store
            .routing_staff(tenant.id)
            .await?
            .into_iter()
            .map(|(user, open_tickets)| Candidate { user, open_tickets })
            .collect())
    }

    /// Opens a ticket: validate, triage (never fails), SLA, route (except chat tickets, which
    /// the bot answers first and the router assigns at handoff), then one atomic write of
    /// the ticket with its `Created`, `Triaged`, `SlaScheduled` and `Assigned` events and the
    /// assignee's notification. With an idempotency key already used by the same requester,
    /// returns that ticket instead (`created: false`).
    pub async fn open_ticket(&self, actor: &Actor, new: NewTicket) -> Result<OpenOutcome> {
        let (tenant, user) = self.check(actor, Action::OpenTicket).await?;
        self.open_ticket_inner(&tenant, &user, new, None, |_| Ok(()))
            .await
    }

    /// [`open_ticket`](Self::open_ticket) for a checked actor; `extend` adds to the create
    /// write before it is committed (the chat's first message and session link).
    pub(crate) async fn open_ticket_inner(
        &self,
        tenant: &Tenant,
        user: &User,
        new: NewTicket,
        follow_up_of: Option<TicketId>,
        extend: impl FnOnce(&mut Change) -> Result<()> + Send,
    ) -> Result<OpenOutcome> {
        let subject = validate::subject(&new.subject)?;
        let description = validate::body("description", &new.description, false)?;
        let tags = validate::tags(&new.tags)?;
        let key = new
            .idempotency_key
            .as_deref()
            .map(validate_key)
            .transpose()?;
        let requester = match (user.role, new.requester) {
            (Role::Customer, Some(r)) if r != user.id => {
                return Err(Error::Forbidden {
                    action: "open a ticket for someone else",
                    role: Role::Customer,
                });
            }
            (Role::Customer, _) | (_, None) => user.id,
            (_, Some(r)) => {
                let requester = self
                    .inner
                    .store
                    .get_user(tenant.id, r)
                    .await?
                    .filter(|u| u.active)
                    .ok_or_else(|| Error::not_found("user", r))?;
                requester.id
            }
        };
        if let Some(key) = &key
            && let Some(existing) = self.existing_for_key(tenant, key, requester).await?
        {
            return Ok(OpenOutcome {
                ticket: existing,
                created: false,
            });
        }

        let triage = self
            .inner
            .classifiers
            .run(&ClassifyInput {
                tenant,
                subject: &subject,
                description: &description,
            })
            .await;
        let priority = match (user.role, new.priority) {
            (Role::Customer, Some(p)) if p.rank() >= triage.priority.rank() => p,
            (Role::Customer, _) | (_, None) => triage.priority,
            (_, Some(p)) => p,
        };

        let now = self.now();
        let initial = Ticket {
            id: TicketId::new(),
            tenant_id: tenant.id,
            // The store allocates the number when it writes the ticket (`create_ticket`).
            number: 0,
            requester,
            assignee: None,
            subject,
            description,
            status: TicketStatus::New,
            priority: tenant.settings.default_priority,
            category: None,
            tags,
            required_skills: Vec::new(),
            sentiment: None,
            language: None,
            channel: new.channel.unwrap_or(Channel::Form),
            created_at: now,
            updated_at: now,
            first_response_at: None,
            resolved_at: None,
            closed_at: None,
            sla: SlaState::default(),
            triage: None,
            merged_into: None,
            follow_up_of,
            csat: None,
            version: 1,
        };
        let mut change = Change::create(initial, Some(user.id));
        let c = triage.classification;
        change.push(EventKind::Triaged {
            triage: triage.triage,
            category: c.category,
            priority,
            required_skills: c.required_skills,
            sentiment: c.sentiment,
            language: c.language,
        });
        let due = sla::schedule(
            &tenant.settings.sla,
            &tenant.settings.calendar,
            priority,
            now,
        )?;
        change.push(EventKind::SlaScheduled { sla: due });
        // A chat ticket is answered by the bot first; it is routed to a human at handoff.
        if change.ticket().channel != Channel::Chat {
            let candidates = self.routing_candidates(tenant).await?;
            if let Some(assignee) = self.inner.router.route(change.ticket(), &candidates).await {
                change.push(EventKind::Assigned {
                    from: None,
                    to: Some(assignee),
                });
                change.notify(vec![assignee], NotificationKind::Assigned);
            }
        }
        extend(&mut change)?;
        let mut write = change.finish();
        write.idempotency_key = key.clone();
        match self.inner.store.create_ticket(write).await {
            Ok(stored) => {
                let number = stored.ticket.number;
                tracing::info!(tenant = %tenant.slug, number, "ticket opened");
                Ok(OpenOutcome {
                    ticket: stored.ticket,
                    created: true,
                })
            }
            Err(Error::Duplicate {
                kind: DuplicateKind::IdempotencyKey,
                value,
            }) => match self.existing_for_key(tenant, &value, requester).await? {
                Some(existing) => Ok(OpenOutcome {
                    ticket: existing,
                    created: false,
                }),
                None => Err(Error::Duplicate {
                    kind: DuplicateKind::IdempotencyKey,
                    value,
                }),
            },
            Err(e) => Err(e),
        }
    }

    async fn existing_for_key(
        &self,
        tenant: &Tenant,
        key: &str,
        requester: UserId,
    ) -> Result<Option<Ticket>> {
        let Some(id) = self
            .inner
            .store
            .find_by_idempotency_key(tenant.id, key)
            .await?
        else {
            return Ok(None);
        };
        let ticket = self
            .inner
            .store
            .get_ticket(tenant.id, id)
            .await?
            .ok_or_else(|| Error::not_found("ticket", id))?;
        if ticket.requester != requester {
            return Err(Error::Duplicate {
                kind: DuplicateKind::IdempotencyKey,
                value: key.to_string(),
            });
        }
        Ok(Some(ticket))
    }

    /// A ticket with the messages (and, for staff, events) the actor may see.
    pub async fn get_ticket(&self, actor: &Actor, id: TicketId) -> Result<TicketView> {
        let (_, _, ticket) = self.checked_ticket(actor, Action::ViewTicket, id).await?;
        let store = &self.inner.store;
        let (messages, events) = if actor.is_staff() {
            (
                store
                    .list_messages(actor.tenant_id, id, MessageFilter::All)
                    .await?,
                store.list_events(actor.tenant_id, id).await?,
            )
        } else {
            (
                store
                    .list_messages(actor.tenant_id, id, MessageFilter::CustomerVisible)
                    .await?,
                Vec::new(),
            )
        };
        Ok(TicketView {
            ticket,
            messages,
            events,
        })
    }

    /// Lists tickets: customers get only their own, staff the tenant queue.
    pub async fn list_tickets(&self, actor: &Actor, query: TicketQuery) -> Result<Page<Ticket>> {
        let mut query = query;
        if actor.is_staff() {
            self.check(actor, Action::ViewQueue).await?;
        } else {
            self.check(actor, Action::ViewTicket).await?;
            query.requester = Some(actor.user_id);
        }
        if let Some(text) = &query.text {
            validate::no_control_chars("text", text)?;
            if text.chars().count() > 200 {
                return Err(Error::validation("text", "at most 200 characters"));
            }
        }
        self.inner.store.list_tickets(actor.tenant_id, &query).await
    }

    /// Posts a public reply. A customer reply moves Pending to Open, reopens a Resolved
    /// ticket within the reopen window, and on a Closed ticket (or a Resolved one past the
    /// window) opens a linked follow-up ticket instead. Closed is final for staff: an
    /// agent's reply to a Closed ticket is refused with [`Error::TicketClosed`] (nothing is
    /// sent to the customer); open a new ticket to write to them again.
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
        let window =
            jiff::SignedDuration::from_hours(i64::from(tenant.settings.reopen_window_hours));
        let now = self.now();
        let past_window = |t: &Ticket| {
            t.resolved_at
                .and_then(|r| r.checked_add(window).ok())
                .is_none_or(|limit| now > limit)
        };
        if !actor.is_staff()
            && (ticket.status == TicketStatus::Closed
                || (ticket.status == TicketStatus::Resolved && past_window(&ticket)))
        {
            return self.follow_up(&tenant, &user, &ticket, body).await;
        }
        let committed = self
            .mutate_ticket_with(tenant.id, id, Some(ticket), |current| {
                let mut change = Change::of(current, now, Some(user.id));
                let mut reopened = false;
                if actor.is_staff() {
                    add_agent_reply(&mut change, &tenant, user.id, body.clone())?;
                    if let Some(to) = reply.status_after {
                        check_transition(actor.role, change.ticket().status, to)?;
                        set_status(&mut change, &tenant, to)?;
                    }
                } else {
                    change.add_message(
                        Some(user.id),
                        AuthorKind::Customer,
                        MessageKind::Reply,
                        body.clone(),
                    );
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
                        NotificationKind::Replied,
                    );
                }
                Ok(Some((change.finish(), reopened)))
            })
            .await?;
        let (write, reopened) = committed.ok_or(Error::Internal("the reply was not stored"))?;
        let message = last_message(&write)?;
        Ok(ReplyOutcome {
            message,
            ticket: write.ticket,
            reopened,
            follow_up_of: None,
        })
    }

    async fn follow_up(
        &self,
        tenant: &Tenant,
        user: &User,
        closed: &Ticket,
        body: String,
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
        self.mutate_ticket(tenant.id, closed.id, |current| {
            let mut change = Change::of(current, self.now(), Some(user.id));
            change.push(EventKind::FollowUpOpened {
                ticket_id: follow_up,
            });
            Ok(change.finish())
        })
        .await?;
        let write = self
            .mutate_ticket(tenant.id, follow_up, |current| {
                let mut change = Change::of(current, self.now(), Some(user.id));
                change.add_message(
                    Some(user.id),
                    AuthorKind::Customer,
                    MessageKind::Reply,
                    body.clone(),
                );
                change.notify(
                    others(&[current.assignee], user.id),
                    NotificationKind::Replied,
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

    /// Adds an internal note (staff only; never visible to customers).
    pub async fn add_note(&self, actor: &Actor, id: TicketId, body: &str) -> Result<Message> {
        let (tenant, user, ticket) = self.checked_ticket(actor, Action::AddNote, id).await?;
        let body = validate::body("body", body, true)?;
        let now = self.now();
        let write = self
            .mutate_ticket_from(tenant.id, id, Some(ticket), |current| {
                let mut change = Change::of(current, now, Some(user.id));
                change.add_message(
                    Some(user.id),
                    AuthorKind::Agent,
                    MessageKind::Note,
                    body.clone(),
                );
                Ok(change.finish())
            })
            .await?;
        last_message(&write)
    }

    /// Moves a ticket to another status, checked against the lifecycle table; customers
    /// may only move their own tickets, and reopen only within the reopen window.
    pub async fn transition(
        &self,
        actor: &Actor,
        id: TicketId,
        to: TicketStatus,
    ) -> Result<Ticket> {
        let (tenant, user, ticket) = self.checked_ticket(actor, Action::Transition, id).await?;
        check_transition(actor.role, ticket.status, to)?;
        let now = self.now();
        if actor.role == Role::Customer && ticket.status == TicketStatus::Resolved {
            let window =
                jiff::SignedDuration::from_hours(i64::from(tenant.settings.reopen_window_hours));
            let open_until = ticket.resolved_at.and_then(|r| r.checked_add(window).ok());
            if open_until.is_none_or(|limit| now > limit) {
                return Err(StateError::ReopenWindowPassed.into());
            }
        }
        let write = self
            .mutate_ticket_from(tenant.id, id, Some(ticket), |current| {
                check_transition(actor.role, current.status, to)?;
                let mut change = Change::of(current, now, Some(user.id));
                set_status(&mut change, &tenant, to)?;
                Ok(change.finish())
            })
            .await?;
        Ok(write.ticket)
    }

    /// Assigns (or unassigns with `None`) a ticket to an active agent or admin of the
    /// tenant.
    pub async fn assign(
        &self,
        actor: &Actor,
        id: TicketId,
        assignee: Option<UserId>,
    ) -> Result<Ticket> {
        let (tenant, user, ticket) = self.checked_ticket(actor, Action::Assign, id).await?;
        if let Some(a) = assignee {
            let target = self
                .inner
                .store
                .get_user(tenant.id, a)
                .await?
                .ok_or_else(|| Error::not_found("user", a))?;
            if !target.is_staff() || !target.active {
                return Err(Error::validation(
                    "assignee",
                    "must be an active agent or admin of the tenant",
                ));
            }
        }
        let now = self.now();
        let write = self
            .mutate_ticket_from(tenant.id, id, Some(ticket), |current| {
                if current.status == TicketStatus::Closed {
                    return Err(StateError::ClosedTicket {
                        action: "reassigned",
                    }
                    .into());
                }
                let mut change = Change::of(current, now, Some(user.id));
                if current.assignee != assignee {
                    change.push(EventKind::Assigned {
                        from: current.assignee,
                        to: assignee,
                    });
                    if let Some(a) = assignee.filter(|a| *a != user.id) {
                        change.notify(vec![a], NotificationKind::Assigned);
                    }
                }
                Ok(change.finish())
            })
            .await?;
        Ok(write.ticket)
    }

    /// Changes priority, category or tags (staff). A priority change recomputes the SLA
    /// due times from the creation time, keeping breach flags and any pause.
    pub async fn update_ticket(
        &self,
        actor: &Actor,
        id: TicketId,
        patch: TicketPatch,
    ) -> Result<Ticket> {
        let (tenant, user, ticket) = self.checked_ticket(actor, Action::EditTicket, id).await?;
        let category = match &patch.category {
            Some(c) => {
                let c = validate::identifier("category", c)?;
                if !tenant.settings.categories.contains(&c) {
                    return Err(Error::validation(
                        "category",
                        format!("{c:?} is not one of the tenant's categories"),
                    ));
                }
                Some(c)
            }
            None => None,
        };
        let tags = patch.tags.as_deref().map(validate::tags).transpose()?;
        let now = self.now();
        let write = self
            .mutate_ticket_from(tenant.id, id, Some(ticket), |current| {
                if current.status == TicketStatus::Closed {
                    return Err(StateError::ClosedTicket { action: "edited" }.into());
                }
                let mut change = Change::of(current, now, Some(user.id));
                if let Some(p) = patch.priority.filter(|p| *p != current.priority) {
                    change.push(EventKind::PriorityChanged {
                        from: current.priority,
                        to: p,
                    });
                    let due = sla::reschedule(
                        &tenant.settings.sla,
                        &tenant.settings.calendar,
                        &current.sla,
                        current.priority,
                        p,
                        current.created_at,
                    )?;
                    change.push(EventKind::SlaScheduled { sla: due });
                }
                if let Some(c) = category
                    .clone()
                    .filter(|c| current.category.as_ref() != Some(c))
                {
                    change.push(EventKind::CategoryChanged { to: Some(c) });
                }
                if let Some(t) = tags.clone().filter(|t| *t != current.tags) {
                    change.push(EventKind::TagsChanged { tags: t });
                }
                Ok(change.finish())
            })
            .await?;
        Ok(write.ticket)
    }

    /// Merges `duplicate` into `into`: the duplicate closes with `merged_into` (its thread
    /// stays readable) and both get a system message, in one commit of both tickets
    /// ([`update_tickets`](crate::store::TicketStore::update_tickets)): a merge lands on
    /// both or on neither. A merged ticket cannot be merged again nor receive a merge, and
    /// a closed ticket cannot receive one; these checks are made on the tickets the commit
    /// version-checks, so two merges racing on the same tickets (A into B, B into A)
    /// cannot both land: the loser re-plans on the new state and is refused.
    pub async fn merge(
        &self,
        actor: &Actor,
        duplicate: TicketId,
        into: TicketId,
    ) -> Result<(Ticket, Ticket)> {
        let both = futures_util::future::try_join(
            self.visible_ticket(actor, duplicate),
            self.visible_ticket(actor, into),
        );
        let (tenant, user, (dup, target)) = self.check_while(actor, Action::Merge, both).await?;
        if duplicate == into {
            return Err(Error::validation(
                "into",
                "a ticket cannot be merged into itself",
            ));
        }
        let now = self.now();
        // Writers of both tickets in this process take turns (in id order, so two merges
        // of the same pair cannot wait for each other).
        let (first, second) = if duplicate < into {
            (duplicate, into)
        } else {
            (into, duplicate)
        };
        let turn = self.inner.ticket_locks.turn(first).await;
        let other_turn = self.inner.ticket_locks.turn(second).await;
        let mut known = (!turn.waited() && !other_turn.waited()).then_some([dup, target]);
        let store = &self.inner.store;
        let attempts = self.inner.config.max_conflict_retries.max(1);
        let mut last = None;
        for attempt in 0..attempts {
            let [dup, target] = match known.take() {
                Some(tickets) => tickets,
                None => self.read_tickets(tenant.id, [duplicate, into]).await?,
            };
            // A ticket that has received merges is never merged itself, so merges form
            // no chains (A into B, then B into C): read on every attempt, because the
            // commit below checks the duplicate's version, and a merge into it meanwhile
            // changes that version.
            let received = store
                .list_events(tenant.id, duplicate)
                .await?
                .iter()
                .any(|e| matches!(e.kind, EventKind::MergedFrom { .. }));
            if received {
                return Err(StateError::ReceivedMerges {
                    number: dup.number,
                    target: target.number,
                }
                .into());
            }
            let [dup_write, target_write] = plan_merge(&dup, &target, now, user.id)?;
            let batch = [
                (dup.version, dup_write.clone()),
                (target.version, target_write.clone()),
            ];
            match store.update_tickets(&batch).await {
                Ok(()) => return Ok((dup_write.ticket, target_write.ticket)),
                Err(e) => {
                    tracing::debug!(%duplicate, %into, attempt, error = %e, "merge write failed");
                    last = Some(super::back_off(attempt, e).await?);
                }
            }
        }
        Err(last.unwrap_or(Error::Conflict {
            entity: "ticket",
            id: format!("{duplicate}, {into}"),
            expected: 0,
        }))
    }

    /// Records the requester's satisfaction rating (1..=5, once, after resolution).
    pub async fn record_csat(
        &self,
        actor: &Actor,
        id: TicketId,
        score: u8,
        comment: Option<String>,
    ) -> Result<Ticket> {
        let (tenant, user, ticket) = self.checked_ticket(actor, Action::RecordCsat, id).await?;
        if ticket.requester != user.id {
            return Err(Error::Forbidden {
                action: "rate a ticket they did not raise",
                role: actor.role,
            });
        }
        if !(1..=5).contains(&score) {
            return Err(Error::validation("score", "must be 1 to 5"));
        }
        let comment = comment
            .map(|c| validate::body("comment", &c, false))
            .transpose()?
            .filter(|c| !c.trim().is_empty());
        if comment.as_ref().is_some_and(|c| c.chars().count() > 2000) {
            return Err(Error::validation("comment", "at most 2000 characters"));
        }
        let now = self.now();
        let write = self
            .mutate_ticket_from(tenant.id, id, Some(ticket), |current| {
                if !matches!(
                    current.status,
                    TicketStatus::Resolved | TicketStatus::Closed
                ) || current.merged_into.is_some()
                {
                    return Err(StateError::NotRateable.into());
                }
                if current.csat.is_some() {
                    return Err(StateError::AlreadyRated.into());
                }
                let mut change = Change::of(current, now, Some(user.id));
                change.push(EventKind::CsatRecorded {
                    csat: Csat {
                        score,
                        comment: comment.clone(),
                        at: now,
                    },
                });
                Ok(change.finish())
            })
            .await?;
        Ok(write.ticket)
    }
}

/// Plans a merge of `dup` into `target` on the tickets as they are now: the duplicate's
/// write (`Merged`, the customer-visible notice, the requester's notification) and the
/// target's (`MergedFrom` and an internal note), or `InvalidState` when either ticket may
/// no longer take part.
fn plan_merge(
    dup: &Ticket,
    target: &Ticket,
    now: jiff::Timestamp,
    actor: UserId,
) -> Result<[TicketWrite; 2]> {
    if dup.merged_into.is_some() {
        return Err(StateError::AlreadyMerged { number: dup.number }.into());
    }
    if target.merged_into.is_some() || target.status == TicketStatus::Closed {
        return Err(StateError::CannotReceiveMerge {
            number: target.number,
        }
        .into());
    }
    let mut to_target = Change::of(target, now, Some(actor));
    to_target.push(EventKind::MergedFrom { source: dup.id });
    // An internal note: staff may see both subjects.
    to_target.add_message(
        Some(actor),
        AuthorKind::System,
        MessageKind::Note,
        format!(
            "Ticket #{} ({}) was merged into this ticket.",
            dup.number, dup.subject
        ),
    );
    let mut to_dup = Change::of(dup, now, Some(actor));
    to_dup.push(EventKind::Merged { into: target.id });
    // The duplicate's requester reads this notice: the target's subject is named only when
    // the target is that requester's own ticket too (it may be another customer's).
    let notice = if dup.requester == target.requester {
        format!(
            "This ticket was merged into #{}: {}.",
            target.number, target.subject
        )
    } else {
        format!("This ticket was merged into #{}.", target.number)
    };
    to_dup.add_message(Some(actor), AuthorKind::System, MessageKind::Reply, notice);
    to_dup.notify(
        vec![dup.requester],
        NotificationKind::StatusChanged {
            from: dup.status,
            to: TicketStatus::Closed,
        },
    );
    Ok([to_dup.finish(), to_target.finish()])
}

/// Applies a status change with its SLA consequences and notifications.
pub(crate) fn set_status(change: &mut Change, tenant: &Tenant, to: TicketStatus) -> Result<()> {
    let before = change.ticket().clone();
    let from = before.status;
    change.push(EventKind::StatusChanged { from, to });
    if from == TicketStatus::Pending && to != TicketStatus::Pending {
        let resumed = sla::resume(&tenant.settings.calendar, &before.sla, change.at())?;
        change.push(EventKind::SlaScheduled { sla: resumed });
    }
    if to == TicketStatus::Resolved {
        // Judged on the due time as it stands now: after the resume above, or moved out by
        // the pause in progress, so paused time never makes a resolution late.
        let sla = sla::due_at(&tenant.settings.calendar, &change.ticket().sla, change.at())?;
        let late = sla
            .resolution_due
            .is_some_and(|due| change.at() > due && !sla.resolution_breached);
        if late {
            change.push(EventKind::SlaBreached {
                kind: SlaKind::Resolution,
            });
        }
    }
    let actor = change.actor();
    let mut recipients = vec![Some(before.requester), before.assignee];
    recipients.retain(|r| r.is_some() && *r != actor);
    change.notify(
        recipients.into_iter().flatten().collect(),
        NotificationKind::StatusChanged { from, to },
    );
    Ok(())
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
    change.notify(vec![before.requester], NotificationKind::Replied);
    Ok(message)
}

/// Flags a first-response breach when the first agent reply comes after the due time, as
/// it stands now (a paused clock's due time includes the pause so far).
fn breach_if_late_response(change: &mut Change, tenant: &Tenant, before: &Ticket) -> Result<()> {
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

fn last_message(write: &TicketWrite) -> Result<Message> {
    write
        .messages
        .last()
        .cloned()
        .ok_or(Error::Internal("a change stored no message"))
}

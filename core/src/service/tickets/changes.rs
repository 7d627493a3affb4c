//! Changes of a ticket's state: transitions (with their SLA consequences), assignment,
//! edits of priority, category and tags, and the customer's rating.

use super::*;

impl Helpdesk {
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
        if actor.role == Role::Customer
            && ticket.status == TicketStatus::Resolved
            && ticket.past_reopen_window(tenant.settings.reopen_window_hours, now)
        {
            return Err(StateError::ReopenWindowPassed.into());
        }
        let write = self
            .mutate_ticket_from(&tenant, id, Some(ticket), |current| {
                check_transition(actor.role, current.status, to)?;
                check_required_fields(actor.role, &tenant, current, to)?;
                let mut change = Change::of(current, now, Some(user.id));
                set_status(&mut change, &tenant, to)?;
                Ok(change.finish())
            })
            .await?;
        Ok(crate::service::fields::for_viewer(
            actor,
            &tenant,
            write.ticket,
        ))
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
            .mutate_ticket_from(&tenant, id, Some(ticket), |current| {
                if current.status == TicketStatus::Closed {
                    return Err(StateError::ClosedTicket {
                        action: "reassigned",
                    }
                    .into());
                }
                check_team_assignee(&tenant, current, assignee)?;
                let mut change = Change::of(current, now, Some(user.id));
                set_assignee(&mut change, user.id, assignee);
                Ok(change.finish())
            })
            .await?;
        Ok(write.ticket)
    }

    /// Gives a ticket to one of the tenant's teams (`None`: to no team), staff only. Its
    /// assignee, when not a member of the new team, is unassigned in the same change, so
    /// the team's members take it from their queue.
    pub async fn set_team(
        &self,
        actor: &Actor,
        id: TicketId,
        team: Option<String>,
    ) -> Result<Ticket> {
        let (tenant, user, ticket) = self.checked_ticket(actor, Action::Assign, id).await?;
        let team = team
            .as_deref()
            .map(|key| teams::known_team("team", key, &tenant.settings.teams))
            .transpose()?;
        let now = self.now();
        let write = self
            .mutate_ticket_from(&tenant, id, Some(ticket), |current| {
                if current.status == TicketStatus::Closed {
                    return Err(StateError::ClosedTicket {
                        action: "reassigned",
                    }
                    .into());
                }
                let mut change = Change::of(current, now, Some(user.id));
                set_team(&mut change, &tenant, team.clone());
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
            .mutate_ticket_from(&tenant, id, Some(ticket), |current| {
                if current.status == TicketStatus::Closed {
                    return Err(StateError::ClosedTicket { action: "edited" }.into());
                }
                let mut change = Change::of(current, now, Some(user.id));
                if let Some(p) = patch.priority {
                    set_priority(&mut change, &tenant, p)?;
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
            .mutate_ticket_from(&tenant, id, Some(ticket), |current| {
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
        Ok(crate::service::fields::for_viewer(
            actor,
            &tenant,
            write.ticket,
        ))
    }
}

/// Refuses a move to `to` by `role` while a field required before resolving is empty
/// ([`crate::fields::missing_before`]; staff only).
pub(crate) fn check_required_fields(
    role: Role,
    tenant: &Tenant,
    ticket: &Ticket,
    to: TicketStatus,
) -> Result<()> {
    if role == Role::Customer {
        return Ok(());
    }
    match crate::fields::missing_before(
        &tenant.settings.custom_fields,
        &ticket.custom_fields,
        ticket.status,
        to,
    ) {
        Some(def) => Err(crate::fields::required_error(def)),
        None => Ok(()),
    }
}

/// Assigns the change's ticket to `to` (unassigns with `None`) when it is someone else,
/// notifying the new assignee unless it is `by` (who makes the change). Whether `to` may
/// be assigned is the caller's check.
pub(crate) fn set_assignee(change: &mut Change, by: UserId, to: Option<UserId>) {
    let from = change.ticket().assignee;
    if from == to {
        return;
    }
    change.push(EventKind::Assigned { from, to });
    if let Some(a) = to.filter(|a| *a != by) {
        change.notify(vec![a], NotificationKind::Assigned);
    }
}

/// Checks that `to` may work `ticket`: a ticket of a team is worked by its members.
pub(crate) fn check_team_assignee(
    tenant: &Tenant,
    ticket: &Ticket,
    to: Option<UserId>,
) -> Result<()> {
    match to.and_then(|to| teams::assignee_outside_team(ticket, &tenant.settings.teams, to)) {
        Some(why) => Err(Error::validation("assignee", why)),
        None => Ok(()),
    }
}

/// Gives the change's ticket to `team` (`None`: no team) when it differs; an assignee who
/// is not a member of the new team is unassigned with it.
pub(crate) fn set_team(change: &mut Change, tenant: &Tenant, team: Option<String>) {
    if change.ticket().team == team {
        return;
    }
    change.push(EventKind::TeamChanged { to: team });
    let ticket = change.ticket();
    if let Some(assignee) = ticket.assignee
        && teams::assignee_outside_team(ticket, &tenant.settings.teams, assignee).is_some()
    {
        change.push(EventKind::Assigned {
            from: Some(assignee),
            to: None,
        });
    }
}

/// Sets the change's ticket's priority when it differs, rescheduling the SLA due times from
/// the creation time (keeping breach flags and any pause).
pub(crate) fn set_priority(change: &mut Change, tenant: &Tenant, to: Priority) -> Result<()> {
    let current = change.ticket().clone();
    if current.priority == to {
        return Ok(());
    }
    change.push(EventKind::PriorityChanged {
        from: current.priority,
        to,
    });
    // A chat the bot still handles has no SLA clock yet (it starts when the chat leaves the
    // bot, with the priority of that moment).
    if !current.is_bot_chat() {
        let due = sla::reschedule(
            &tenant.settings.sla,
            &tenant.settings.calendar,
            &current.sla,
            current.priority,
            to,
            current.created_at,
        )?;
        change.push(EventKind::SlaScheduled { sla: due });
    }
    Ok(())
}

/// Applies a status change with its SLA consequences and notifications. A chat the bot
/// was handling ([`Ticket::is_bot_chat`]) that moves to an open status gets its SLA
/// scheduled from now.
pub(crate) fn set_status(change: &mut Change, tenant: &Tenant, to: TicketStatus) -> Result<()> {
    let before = change.ticket().clone();
    let from = before.status;
    change.push(EventKind::StatusChanged { from, to });
    if before.is_bot_chat() && to.is_open() {
        // The chat leaves the bot (handoff, take-over, a status move): it is the agents'
        // work from now on, so its SLA clock starts now.
        let due = sla::schedule(
            &tenant.settings.sla,
            &tenant.settings.calendar,
            before.priority,
            change.at(),
        )?;
        change.push(EventKind::SlaScheduled { sla: due });
    }
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

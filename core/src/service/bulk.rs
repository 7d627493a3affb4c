//! Bulk changes: the same actions (status, priority, tags, assignee) on a selection of
//! tickets. Each ticket is changed through the same checked change as a single one, in its
//! own write; one ticket's refusal (a status its lifecycle does not allow, a closed ticket)
//! does not stop the others, and each gets its own result.

use super::Helpdesk;
use super::canned::{plan_actions, validate_actions};
use super::change::Change;
use crate::domain::{Actor, CannedActions, Ticket, TicketStatus};
use crate::roles::Action;
use crate::{Error, Result, StateError, TicketId};

/// The most tickets one bulk change takes.
pub const MAX_BULK_TICKETS: usize = 100;

/// What a bulk change did to one ticket.
#[derive(Debug)]
pub struct BulkOutcome {
    /// The ticket.
    pub ticket: TicketId,
    /// The ticket after the change (unchanged when it already was as asked), or why it was
    /// refused.
    pub result: Result<Ticket>,
}

impl Helpdesk {
    /// Applies `actions` to each of `tickets` (staff; at most [`MAX_BULK_TICKETS`], a ticket
    /// named twice is changed once), each in its own checked write, and answers a result
    /// per ticket in the order given. Invalid actions (a tag, an assignee no longer
    /// active, no action at all) refuse the whole request before any ticket is touched.
    pub async fn bulk_change(
        &self,
        actor: &Actor,
        tickets: &[TicketId],
        actions: CannedActions,
    ) -> Result<Vec<BulkOutcome>> {
        let (tenant, user) = self.check(actor, Action::EditTicket).await?;
        if tickets.is_empty() {
            return Err(Error::validation("tickets", "choose at least one ticket"));
        }
        if tickets.len() > MAX_BULK_TICKETS {
            return Err(Error::validation(
                "tickets",
                format!("at most {MAX_BULK_TICKETS} tickets at once"),
            ));
        }
        if actions.is_empty() {
            return Err(Error::validation("actions", "choose a change to make"));
        }
        let actions = validate_actions(&actions)?;
        let assignee = self.resolve_assignee(actor, actions.assign).await?;
        let mut ids: Vec<TicketId> = Vec::with_capacity(tickets.len());
        for id in tickets {
            if !ids.contains(id) {
                ids.push(*id);
            }
        }
        let mut outcomes = Vec::with_capacity(ids.len());
        for id in ids {
            let result = async {
                // Staff see every ticket of the tenant (checked above): the change reads the
                // ticket itself, an id of another tenant is not found.
                let now = self.now();
                let mut unchanged = None;
                let written = self
                    .mutate_ticket_with(&tenant, id, None, |current| {
                        if current.status == TicketStatus::Closed {
                            return Err(StateError::ClosedTicket { action: "changed" }.into());
                        }
                        let mut change = Change::of(current, now, Some(user.id));
                        plan_actions(
                            &mut change,
                            &tenant,
                            actor.role,
                            user.id,
                            &actions,
                            assignee,
                        )?;
                        if change.is_empty() {
                            unchanged = Some(current.clone());
                            return Ok(None);
                        }
                        Ok(Some((change.finish(), ())))
                    })
                    .await?;
                match (written, unchanged) {
                    (Some((write, ())), _) => Ok(write.ticket),
                    (None, Some(ticket)) => Ok(ticket),
                    (None, None) => Err(Error::Internal("a bulk change planned nothing")),
                }
            }
            .await;
            outcomes.push(BulkOutcome { ticket: id, result });
        }
        Ok(outcomes)
    }
}

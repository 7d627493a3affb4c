//! Merging a duplicate into another ticket: both tickets change in one commit, no chains.

use super::*;
use crate::service::automation;

impl Helpdesk {
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
        // The tenant's change-triggered automation rules run on both writes, in the same
        // commit, as on every other change.
        let mut rules = if automation::has_change_rules(&tenant) {
            Some(self.rule_context(&tenant).await?)
        } else {
            None
        };
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
            let [mut dup_write, mut target_write] = plan_merge(&dup, &target, now, user.id)?;
            if let Some(ctx) = &mut rules {
                ctx.load_requester(self, dup.requester).await?;
                ctx.load_requester(self, target.requester).await?;
                dup_write = automation::run_change_rules(ctx, dup_write)?;
                target_write = automation::run_change_rules(ctx, target_write)?;
            }
            let batch = [
                (dup.version, dup_write.clone()),
                (target.version, target_write.clone()),
            ];
            match store.update_tickets(&batch).await {
                Ok(()) => {
                    self.signal_commit(dup_write.ticket.tenant_id);
                    return Ok((dup_write.ticket, target_write.ticket));
                }
                Err(e) => {
                    tracing::debug!(%duplicate, %into, attempt, error = %e, "merge write failed");
                    last = Some(crate::service::back_off(attempt, e).await?);
                }
            }
        }
        Err(last.unwrap_or(Error::Conflict {
            entity: "ticket",
            id: format!("{duplicate}, {into}"),
            expected: 0,
        }))
    }
}

/// Plans a merge of `dup` into `target` on the tickets as they are now: the duplicate's
/// write (`Merged`, the customer-visible notice, the requester's notification) and the
/// target's (`MergedFrom` and an internal note), or `InvalidState` when either ticket may
/// no longer take part.
pub(super) fn plan_merge(
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

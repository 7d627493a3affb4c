//! The automation sweep: the time-based rules ("pending for 5 days", "first response due
//! within 30 minutes"), run under a lease by whichever instance holds it. A rule runs on a
//! ticket in one write that changes the ticket, so it runs again only after the ticket
//! waits again (idle) or for its next SLA target (due soon).

use jiff::{SignedDuration, Timestamp};

use super::Helpdesk;
use super::automation::apply_rule;
use super::change::Change;
use crate::automation::{due_soon_unnoticed, idle_since, in_business_hours, unmet_condition};
use crate::domain::{AutomationRule, AutomationTrigger, Tenant, Ticket};
use crate::store::{TicketQuery, TicketSort};
use crate::{Error, Result};

/// Most tickets an SLA-due-soon rule looks at per tenant and sweep: the soonest due first,
/// and those due pass out of the window, so the next sweeps reach the rest.
pub const DUE_SOON_CANDIDATES: u32 = 500;

/// What the automation sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutomationSweepReport {
    /// Whether this instance held the lease and ran.
    pub ran: bool,
    /// Time-based rules that ran on a ticket.
    pub applied: u64,
}

/// Whether the time-based `rule` runs on `ticket` at `now`.
fn qualifies(rule: &AutomationRule, ticket: &Ticket, now: Timestamp, business: bool) -> bool {
    let due = match rule.trigger {
        AutomationTrigger::Idle { status, hours } => idle_since(ticket, status, hours, now),
        AutomationTrigger::SlaDueSoon { minutes } => due_soon_unnoticed(ticket, minutes, now),
        _ => false,
    };
    due && unmet_condition(&rule.conditions, ticket, business).is_none()
}

impl Helpdesk {
    /// Runs the time-based rules of every tenant, under a lease: each ticket a rule's
    /// trigger and conditions hold for gets the rule's actions in one write (checked again
    /// on the ticket as stored).
    pub async fn automation_sweep(&self) -> Result<AutomationSweepReport> {
        let now = self.now();
        let report = self.with_lease("automation-sweep", now, async {
            let mut report = AutomationSweepReport {
                ran: true,
                ..AutomationSweepReport::default()
            };
            for tenant in self.inner.store.list_tenants().await? {
                report.applied += self.sweep_tenant(&tenant, now).await?;
            }
            Ok(report)
        });
        Ok(report.await?.unwrap_or_default())
    }

    /// The time-based rules of one tenant; how many ran on a ticket.
    async fn sweep_tenant(&self, tenant: &Tenant, now: Timestamp) -> Result<u64> {
        let timed: Vec<&AutomationRule> = tenant
            .settings
            .automations
            .iter()
            .filter(|r| r.enabled && r.trigger.is_timed())
            .collect();
        if timed.is_empty() {
            return Ok(0);
        }
        let mut ctx = self.rule_context(tenant).await?;
        let business = in_business_hours(&tenant.settings.calendar, now).unwrap_or(false);
        let mut applied = 0;
        for rule in timed {
            for ticket in self.candidates(tenant, rule, now, business).await? {
                ctx.load_requester(self, ticket.requester).await?;
                let ran = self
                    .mutate_ticket_with(tenant, ticket.id, Some(ticket), |current| {
                        if !qualifies(rule, current, now, business) {
                            return Ok(None);
                        }
                        let mut change = Change::of(current, now, None);
                        apply_rule(&ctx, rule, &mut change)?;
                        Ok(Some((change.finish(), ())))
                    })
                    .await?;
                if ran.is_some() {
                    applied += 1;
                }
            }
        }
        Ok(applied)
    }

    /// The tickets `rule` runs on now: every ticket waiting in an idle rule's status (page
    /// by page), or the tickets with an SLA target due within a due-soon rule's window.
    async fn candidates(
        &self,
        tenant: &Tenant,
        rule: &AutomationRule,
        now: Timestamp,
        business: bool,
    ) -> Result<Vec<Ticket>> {
        let store = &self.inner.store;
        let mut out = Vec::new();
        match rule.trigger {
            AutomationTrigger::Idle { status, .. } => {
                let mut query = TicketQuery {
                    statuses: vec![status],
                    sort: TicketSort::PriorityThenAge,
                    limit: TicketQuery::MAX_LIMIT,
                    ..TicketQuery::default()
                };
                loop {
                    let page = store.list_tickets(tenant.id, &query).await?;
                    out.extend(
                        page.items
                            .into_iter()
                            .filter(|t| qualifies(rule, t, now, business)),
                    );
                    match page.next_cursor {
                        Some(next) => query.cursor = Some(next),
                        None => break,
                    }
                }
            }
            AutomationTrigger::SlaDueSoon { minutes } => {
                let until = now
                    .checked_add(SignedDuration::from_mins(i64::from(minutes)))
                    .map_err(|_| Error::Internal("the due-soon window is out of range"))?;
                out = store
                    .sla_due_tickets(tenant.id, until, DUE_SOON_CANDIDATES)
                    .await?
                    .into_iter()
                    .filter(|t| qualifies(rule, t, now, business))
                    .collect();
            }
            _ => {}
        }
        Ok(out)
    }
}

//! Background sweeps: SLA breaches and outbox delivery. Each takes a lease so that several
//! processes sharing a store do not work the same batch.

use std::time::Duration;

use super::Helpdesk;
use super::change::Change;
use crate::Result;
use crate::domain::{Actor, EventKind, NotificationKind, Role, SlaKind, Ticket};
use crate::roles::Action;

/// What an SLA sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlaSweepReport {
    /// Breaches recorded (one event each).
    pub breaches: u64,
    /// Tickets examined.
    pub examined: u64,
    /// False when another process held the lease and nothing was done.
    pub ran: bool,
}

/// What an outbox dispatch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Entries delivered.
    pub delivered: u64,
    /// Entries that failed and were rescheduled.
    pub failed: u64,
    /// False when another process held the lease.
    pub ran: bool,
}

/// An error and its sources, `outer: inner: innermost`, for operators.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn breaches_due(ticket: &Ticket, now: jiff::Timestamp) -> Vec<SlaKind> {
    let mut kinds = Vec::new();
    if !ticket.status.is_open() || ticket.sla.paused_since.is_some() {
        return kinds;
    }
    if ticket.first_response_at.is_none()
        && !ticket.sla.first_response_breached
        && ticket.sla.first_response_due.is_some_and(|d| d <= now)
    {
        kinds.push(SlaKind::FirstResponse);
    }
    if !ticket.sla.resolution_breached && ticket.sla.resolution_due.is_some_and(|d| d <= now) {
        kinds.push(SlaKind::Resolution);
    }
    kinds
}

impl Helpdesk {
    /// Records SLA breaches across all tenants: exactly one `SlaBreached` event per missed
    /// target (the breach flags make repeated sweeps idempotent), and a notification to
    /// the assignee (or the tenant's admins when unassigned).
    pub async fn sla_sweep(&self) -> Result<SlaSweepReport> {
        let store = &self.inner.store;
        let now = self.now();
        let report = self.with_lease("sla-sweep", now, async {
            let mut report = SlaSweepReport {
                ran: true,
                ..SlaSweepReport::default()
            };
            for tenant in store.list_tenants().await? {
                let due = store
                    .sla_due_tickets(tenant.id, now, self.inner.config.sla_batch)
                    .await?;
                let admins: Vec<_> = store
                    .list_users(tenant.id, Some(Role::Admin))
                    .await?
                    .into_iter()
                    .filter(|u| u.active)
                    .map(|u| u.id)
                    .collect();
                for ticket in due {
                    report.examined += 1;
                    // Nothing to record (flagged meanwhile, or no longer due): no write.
                    let recorded = self
                        .mutate_ticket_with(&tenant, ticket.id, None, |current| {
                            let kinds = breaches_due(current, now);
                            let count = kinds.len() as u64;
                            let mut change = Change::of(current, now, None);
                            for kind in kinds {
                                change.push(EventKind::SlaBreached { kind });
                                let to =
                                    current.assignee.map_or_else(|| admins.clone(), |a| vec![a]);
                                change.notify(to, NotificationKind::SlaBreached { kind });
                            }
                            if change.is_empty() {
                                return Ok(None);
                            }
                            Ok(Some((change.finish(), count)))
                        })
                        .await?;
                    if let Some((_, count)) = recorded {
                        report.breaches += count;
                    }
                }
            }
            Ok(report)
        });
        Ok(report.await?.unwrap_or_default())
    }

    /// Runs the SLA sweep on behalf of an admin (checks the role matrix).
    pub async fn run_sla_sweep(&self, actor: &Actor) -> Result<SlaSweepReport> {
        self.check(actor, Action::RunSweeps).await?;
        self.sla_sweep().await
    }

    /// Delivers due outbox entries through the notifier, at least once: a failure is
    /// recorded and retried later with exponential backoff (capped).
    pub async fn dispatch_outbox(&self) -> Result<DispatchReport> {
        let store = &self.inner.store;
        let now = self.now();
        let report = self.with_lease("outbox-dispatch", now, async {
            let mut report = DispatchReport {
                ran: true,
                ..DispatchReport::default()
            };
            let due = store.due_outbox(now, self.inner.config.outbox_batch).await?;
            for entry in due {
                let tenant = self.tenant(entry.tenant_id).await?;
                match self.inner.notifier.deliver(&tenant, &entry).await {
                    Ok(()) => {
                        store.mark_outbox_delivered(entry.id, now).await?;
                        report.delivered += 1;
                    }
                    Err(e) => {
                        let attempts = entry.attempts + 1;
                        let delay = self.backoff(attempts);
                        let next = now.checked_add(delay).unwrap_or(now);
                        let error = error_chain(e.as_ref());
                        tracing::warn!(id = %entry.id, attempts, %error, "notification failed; will retry");
                        store
                            .mark_outbox_failed(entry.id, attempts, next, &error)
                            .await?;
                        report.failed += 1;
                    }
                }
            }
            Ok(report)
        });
        Ok(report.await?.unwrap_or_default())
    }

    /// Runs `work` while this instance holds the lease `name` (taken at `now` for the
    /// configured lease time), so that of several instances sharing the store only one
    /// runs a sweep (or a host's background job, such as webhook delivery) at a time;
    /// `None` when another instance holds it. The lease is released whether `work`
    /// succeeded or not; `work`'s error wins over a failed release. `work` should finish
    /// well within the lease time: a lease that runs out may be taken by another instance.
    pub async fn with_lease<T>(
        &self,
        name: &str,
        now: jiff::Timestamp,
        work: impl Future<Output = Result<T>>,
    ) -> Result<Option<T>> {
        let store = &self.inner.store;
        let holder = &self.inner.instance_id;
        if !store
            .try_acquire_lease(name, holder, now, self.inner.config.lease_ttl)
            .await?
        {
            return Ok(None);
        }
        let result = work.await;
        let released = store.release_lease(name, holder).await;
        match (result, released) {
            (Ok(value), Ok(())) => Ok(Some(value)),
            (Ok(_), Err(e)) => Err(e),
            (Err(e), released) => {
                if let Err(release) = released {
                    tracing::warn!(lease = name, error = %release, "releasing a lease after a failed sweep failed; it expires on its own");
                }
                Err(e)
            }
        }
    }

    /// Delay before attempt `attempts + 1`: base × 2^(attempts-1), capped.
    pub(crate) fn backoff(&self, attempts: u32) -> Duration {
        let c = &self.inner.config;
        let factor = 1u32 << attempts.saturating_sub(1).min(20);
        c.outbox_base_backoff
            .saturating_mul(factor)
            .min(c.outbox_max_backoff)
    }
}

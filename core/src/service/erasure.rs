//! Erasing personal data: a customer's erasure request (an admin erases one customer) and
//! the tenant's retention policy (a sweep erases tickets older than the tenant keeps them).
//!
//! Both erase tickets the same way ([`crate::erasure`] says what goes and what stays), one
//! ticket per commit ([`ErasureStore::erase_ticket`]): the ticket, the events it was folded
//! from, its messages, its outbox entries and its search entries change together, so a
//! ticket is never half erased, and replay still rebuilds it. Each is idempotent: running
//! an erasure again (after a crash, or to be sure) finds nothing left to change.

use jiff::{Timestamp, ToSpan, Zoned};
use serde::Serialize;

use super::Helpdesk;
use super::back_off;
use super::change::Change;
use crate::blob::BlobKey;
use crate::domain::{
    Actor, AuditEvent, AuditKind, ErasureReason, EventKind, Role, Sha256, Tenant, TicketStatus,
    User,
};
use crate::erasure::Redaction;
use crate::roles::Action;
use crate::store::{
    AdminChange, AuditCursor, AuditQuery, ErasureStore, MessageFilter, TicketErasure, TicketQuery,
};
use crate::{Error, Result, TicketId, UserId};

/// What an erasure did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    /// Tickets whose personal data was erased by this run (already erased ones are not
    /// counted).
    pub tickets: u64,
    /// Files deleted (metadata and bytes).
    pub files: u64,
    /// Files whose bytes the blob store failed to delete after their metadata was
    /// erased (their SHA-256): nothing refers to them any more, and the operator deletes
    /// them by hand. Logged too. Bytes of retired learned-triage models that could not be
    /// deleted are listed here as well.
    pub blobs_left: Vec<Sha256>,
    /// Learned-triage models retired because they may have learned from an erased ticket
    /// (the training job trains a new version without it).
    pub triage_models_retired: u64,
}

impl ErasureReport {
    fn add(&mut self, other: ErasureReport) {
        self.tickets += other.tickets;
        self.files += other.files;
        self.blobs_left.extend(other.blobs_left);
        self.triage_models_retired += other.triage_models_retired;
    }
}

/// What erasing a customer would touch: asked before [`Helpdesk::erase_customer`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErasurePreview {
    /// The customer, as stored now.
    pub customer: User,
    /// How many tickets they raised (each is erased).
    pub tickets: u64,
}

/// What a retention sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    /// Whether this instance held the lease and ran.
    pub ran: bool,
    /// What was erased, over every tenant.
    pub erased: ErasureReport,
}

/// How many tickets one tenant's retention pass erases per sweep (the next sweep goes on).
const RETENTION_BATCH: u32 = 200;

/// The anonymised copy of a customer: no name, an address that cannot receive mail (the
/// `.invalid` top-level domain), inactive, no skills.
fn anonymised(user: &User) -> User {
    User {
        email: format!("erased-{}@erased.invalid", user.id),
        name: "Erased customer".into(),
        active: false,
        skills: Vec::new(),
        ..user.clone()
    }
}

impl Helpdesk {
    /// The customer `user` and how many tickets they raised (admins): what
    /// [`erase_customer`](Self::erase_customer) would erase. Staff members are refused as
    /// there.
    pub async fn erasure_preview(&self, actor: &Actor, user: UserId) -> Result<ErasurePreview> {
        let (tenant, _) = self.check(actor, Action::ManageUsers).await?;
        let customer = self.erasable(&tenant, user).await?;
        let query = TicketQuery {
            requester: Some(user),
            ..TicketQuery::default()
        };
        let tickets = self.inner.store.count_tickets(tenant.id, &query).await?;
        Ok(ErasurePreview { customer, tickets })
    }

    /// The customer `user` of `tenant`; a staff member is a `Validation` error on `user`.
    async fn erasable(&self, tenant: &Tenant, user: UserId) -> Result<User> {
        let customer = self
            .inner
            .store
            .get_user(tenant.id, user)
            .await?
            .ok_or_else(|| Error::not_found("user", user))?;
        if customer.role != Role::Customer {
            return Err(Error::validation(
                "user",
                "only a customer's data is erased (deactivate a staff account instead)",
            ));
        }
        Ok(customer)
    }

    /// Erases a customer's personal data (admins; a data subject's erasure request).
    ///
    /// First, in one commit with its audit event (`customer_erased`), the profile is
    /// anonymised (name, e-mail), the account deactivated, its password and login sessions
    /// deleted, and earlier audit events that recorded the e-mail rewritten: the customer
    /// can no longer act while their tickets are erased. Then every ticket they raised is
    /// erased, one commit each ([`crate::erasure`]: texts, files, search entries; the
    /// counts and times analytics reads stay). The tenant's learned-triage models, which
    /// may have learned from those tickets, are retired before and after (on a repeated
    /// request too, when the customer raised any ticket), and their bytes deleted.
    /// Running it again finishes an erasure that stopped half-way and changes nothing
    /// else after a complete one. Staff members are refused: their accounts are
    /// deactivated instead.
    pub async fn erase_customer(&self, actor: &Actor, user: UserId) -> Result<ErasureReport> {
        let (tenant, _) = self.check(actor, Action::ManageUsers).await?;
        let customer = self.erasable(&tenant, user).await?;
        let audit = self.audit_naming(&tenant, &customer).await?;
        self.commit_admin(
            Some(actor),
            tenant.id,
            AdminChange::EraseUser {
                user: anonymised(&customer),
                audit,
            },
            AuditKind::CustomerErased { user },
        )
        .await?;
        let mut report = ErasureReport::default();
        let tickets = self.requested_by(tenant.id, user).await?;
        if tickets.is_empty() {
            return Ok(report);
        }
        // Before (the models stop answering while the tickets go) and after (a model
        // recorded meanwhile learned from them too).
        report.add(self.retire_learned_models(tenant.id).await?);
        for ticket in tickets {
            let done = self
                .erase_ticket(
                    &tenant,
                    ticket.id,
                    ErasureReason::CustomerRequest,
                    Some(actor.user_id),
                )
                .await?;
            report.add(done);
        }
        report.add(self.retire_learned_models(tenant.id).await?);
        Ok(report)
    }

    /// The tenant's audit events that recorded `user`'s e-mail, rewritten with the
    /// anonymised one.
    async fn audit_naming(&self, tenant: &Tenant, user: &User) -> Result<Vec<AuditEvent>> {
        const PAGE: u32 = 500;
        let erased = anonymised(user);
        let mut out = Vec::new();
        let mut query = AuditQuery::newest(PAGE);
        loop {
            let page = self
                .inner
                .store
                .list_audit_events(tenant.id, &query)
                .await?;
            for event in &page {
                if let AuditKind::UserAdded {
                    user: id,
                    email,
                    role,
                } = &event.kind
                    && *id == user.id
                    && *email != erased.email
                {
                    out.push(AuditEvent {
                        kind: AuditKind::UserAdded {
                            user: *id,
                            email: erased.email.clone(),
                            role: *role,
                        },
                        ..event.clone()
                    });
                }
            }
            match page.last() {
                Some(last) if page.len() as u32 == PAGE => {
                    query.before = Some(AuditCursor::after(last));
                }
                _ => return Ok(out),
            }
        }
    }

    /// Closes and erases the tickets every tenant with a retention policy keeps no longer
    /// (created more than `retention_months` months ago, in the tenant's calendar's zone),
    /// under a lease, at most a batch per tenant per sweep. A ticket still open is closed
    /// in its erasure's commit (as an admin closes one: no resolution is recorded).
    pub async fn retention_sweep(&self) -> Result<RetentionReport> {
        let now = self.now();
        let report = self.with_lease("retention-sweep", now, async {
            let mut report = RetentionReport {
                ran: true,
                ..RetentionReport::default()
            };
            for tenant in self.inner.store.list_tenants().await? {
                let Some(months) = tenant.settings.retention_months else {
                    continue;
                };
                let cutoff = retention_cutoff(&tenant, now, months)?;
                let due = self
                    .inner
                    .store
                    .retention_due(tenant.id, cutoff, RETENTION_BATCH)
                    .await?;
                if due.is_empty() {
                    continue;
                }
                // As for a customer's erasure: retired before and after.
                report
                    .erased
                    .add(self.retire_learned_models(tenant.id).await?);
                for ticket in due {
                    let done = self
                        .erase_ticket(&tenant, ticket.id, ErasureReason::Retention, None)
                        .await?;
                    report.erased.add(done);
                }
                report
                    .erased
                    .add(self.retire_learned_models(tenant.id).await?);
            }
            Ok(report)
        });
        Ok(report.await?.unwrap_or_default())
    }

    /// Erases one ticket in one commit (retried, as every ticket write is, after a conflict
    /// with another writer or a temporary backend failure). A retention erasure closes the
    /// ticket too. Nothing is written when nothing is left to erase.
    async fn erase_ticket(
        &self,
        tenant: &Tenant,
        id: TicketId,
        reason: ErasureReason,
        actor: Option<UserId>,
    ) -> Result<ErasureReport> {
        let store = &self.inner.store;
        let redaction = Redaction::new(&tenant.settings.custom_fields);
        let _turn = self.inner.ticket_locks.turn(id).await;
        let attempts = self.inner.config.max_conflict_retries.max(1);
        let mut last = None;
        for attempt in 0..attempts {
            let ticket = store
                .get_ticket(tenant.id, id)
                .await?
                .ok_or_else(|| Error::not_found("ticket", id))?;
            let (events, messages, attachments) = futures_util::future::try_join3(
                store.list_events(tenant.id, id),
                store.list_messages(tenant.id, id, MessageFilter::All),
                store.list_attachments(tenant.id, id),
            )
            .await?;
            let events: Vec<_> = events.iter().filter_map(|e| redaction.event(e)).collect();
            let messages: Vec<_> = messages
                .iter()
                .filter_map(|m| redaction.message(m))
                .collect();
            let closes =
                reason == ErasureReason::Retention && ticket.status != TicketStatus::Closed;
            if ticket.erased_at.is_some()
                && events.is_empty()
                && messages.is_empty()
                && attachments.is_empty()
                && !closes
            {
                return Ok(ErasureReport::default());
            }
            let mut change = Change::of(&ticket, self.now(), actor);
            if closes {
                change.push(EventKind::StatusChanged {
                    from: ticket.status,
                    to: TicketStatus::Closed,
                });
            }
            change.push(EventKind::PersonalDataErased { reason });
            for message in messages {
                change.replace_message(message);
            }
            let mut write = change.finish();
            write.ticket = redaction.ticket(&write.ticket);
            let erasure = TicketErasure {
                write,
                events,
                attachments: attachments.iter().map(|a| a.id).collect(),
            };
            match store.erase_ticket(ticket.version, &erasure).await {
                Ok(()) => {
                    self.signal_commit(tenant.id);
                    let mut report = ErasureReport {
                        tickets: 1,
                        files: attachments.len() as u64,
                        ..ErasureReport::default()
                    };
                    for a in &attachments {
                        if !self.delete_unused_blob(tenant, &a.sha256).await {
                            report.blobs_left.push(a.sha256);
                        }
                    }
                    return Ok(report);
                }
                Err(e) => last = Some(back_off(attempt, e).await?),
            }
        }
        Err(last.unwrap_or(Error::Conflict {
            entity: "ticket",
            id: id.to_string(),
            expected: 0,
        }))
    }

    /// Deletes an erased file's bytes unless another attachment of the tenant has the same
    /// bytes (blobs are content-addressed); whether nothing is left behind.
    async fn delete_unused_blob(&self, tenant: &Tenant, sha256: &Sha256) -> bool {
        let Some(blobs) = self.blob_store() else {
            return true;
        };
        let result = async {
            if self.inner.store.blob_in_use(tenant.id, sha256).await? {
                return Ok(());
            }
            blobs
                .delete(BlobKey {
                    tenant: tenant.id,
                    sha256: *sha256,
                })
                .await?;
            Ok::<_, Error>(())
        }
        .await;
        match result {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(
                    tenant = %tenant.id,
                    %sha256,
                    error = &e as &dyn std::error::Error,
                    "an erased file's bytes could not be deleted; delete them by hand"
                );
                false
            }
        }
    }
}

/// The creation time before which `tenant` keeps no ticket: `months` calendar months
/// before `now` in the tenant's business-calendar zone.
fn retention_cutoff(tenant: &Tenant, now: Timestamp, months: u32) -> Result<Timestamp> {
    let zone = jiff::tz::TimeZone::get(&tenant.settings.calendar.timezone)
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let here: Zoned = now.to_zoned(zone);
    here.checked_sub(i64::from(months).months())
        .map(|z| z.timestamp())
        .map_err(|e| Error::validation("settings.retention_months", e.to_string()))
}

//! The memory store's tickets: every ticket write is checked, then applied, under the
//! store's one lock, so a write (or a batch of them) lands whole or not at all.

use std::collections::HashMap;

use async_trait::async_trait;
use jiff::Timestamp;

use super::{Data, MemoryStore};
use crate::analytics::Analytics;
use crate::domain::{ChatSession, Event, Message, MessageKind, Ticket};
use crate::store::cursor::{Cursor, compare};
use crate::store::{
    AssigneeFilter, MessageFilter, Page, TicketQuery, TicketStore, TicketWrite, TimeRange,
};
use crate::{DuplicateKind, Error, MessageId, Result, TenantId, TicketId, UserId};

/// Everything in a write belongs to the ticket's tenant (and events to the ticket).
pub(super) fn check_write(write: &TicketWrite) -> Result<()> {
    let t = &write.ticket;
    let foreign = write
        .events
        .iter()
        .any(|e| e.tenant_id != t.tenant_id || e.ticket_id != t.id)
        || write.messages.iter().any(|m| m.tenant_id != t.tenant_id)
        || write.outbox.iter().any(|o| o.tenant_id != t.tenant_id);
    if foreign {
        return Err(Error::validation(
            "write",
            "events, messages and outbox entries must belong to the ticket's tenant",
        ));
    }
    write.check_attachments()?;
    write.check_routing()
}

/// The write's attachment ids must be new, the session a write marks active must be one
/// of the ticket's tenant, and one it links must have no ticket yet.
fn check_chat_activity(d: &Data, write: &TicketWrite) -> Result<()> {
    if let Some(a) = write
        .attachments
        .iter()
        .find(|a| d.attachments.iter().any(|x| x.id == a.id))
    {
        return Err(Error::Duplicate {
            kind: DuplicateKind::Id,
            value: a.id.to_string(),
        });
    }
    check_claim(d, write)?;
    let Some(a) = &write.chat_activity else {
        return Ok(());
    };
    match d
        .chats
        .iter()
        .find(|c| c.tenant_id == write.ticket.tenant_id && c.id == a.session)
    {
        None => Err(Error::not_found("chat_session", a.session)),
        Some(c) => a.check(c),
    }
}

/// The write's routing claim against the assignee as stored: their stamp, their room
/// (open tickets counted as they are once the write lands) and that they are active staff.
fn check_claim(d: &Data, write: &TicketWrite) -> Result<()> {
    let Some(claim) = &write.routing else {
        return Ok(());
    };
    let t = &write.ticket;
    let user = d.users.iter().find(|u| u.id == claim.assignee);
    let others = d
        .tickets
        .values()
        .filter(|x| {
            x.id != t.id
                && x.tenant_id == t.tenant_id
                && x.status.is_open()
                && x.assignee == Some(claim.assignee)
        })
        .count() as u64;
    let this = u64::from(t.status.is_open() && t.assignee == Some(claim.assignee));
    let stamp = d.routing_stamps.get(&claim.assignee).copied().unwrap_or(0);
    claim.decide(t.tenant_id, user, stamp, others + this)
}

/// Checks an update against the stored ticket: the tenant's ticket at `expected_version`,
/// and `previous`, when given, exactly that ticket.
pub(super) fn check_update(d: &Data, expected_version: u64, write: &TicketWrite) -> Result<()> {
    let t = &write.ticket;
    let stored = d
        .tickets
        .get(&t.id)
        .filter(|x| x.tenant_id == t.tenant_id)
        .ok_or_else(|| Error::not_found("ticket", t.id))?;
    if stored.version != expected_version {
        return Err(Error::Conflict {
            entity: "ticket",
            id: t.id.to_string(),
            expected: expected_version,
        });
    }
    write.check_previous(expected_version)?;
    if write.previous.as_ref().is_some_and(|p| p != stored) {
        // Another backend would write only what differs from `previous` and lose the
        // rest: the reference store refuses, so a writer that breaks the contract fails
        // its tests here.
        return Err(Error::validation(
            "previous",
            "is not the ticket stored at the expected version",
        ));
    }
    check_chat_activity(d, write)
}

/// Applies a checked write (see [`check_chat_activity`]).
pub(super) fn apply_write(d: &mut Data, write: &TicketWrite) {
    let t = &write.ticket;
    if let Some(a) = &write.chat_activity
        && let Some(session) = d
            .chats
            .iter_mut()
            .find(|c| c.tenant_id == t.tenant_id && c.id == a.session)
    {
        session.apply_activity(a, t.id);
    }
    if !d.tickets.contains_key(&t.id) {
        d.ticket_order.push(t.id);
    }
    d.tickets.insert(t.id, t.clone());
    d.events
        .entry(t.id)
        .or_default()
        .extend(write.events.iter().cloned());
    for m in &write.messages {
        match d.messages.iter_mut().find(|x| x.id == m.id) {
            Some(slot) => *slot = m.clone(),
            None => d.messages.push(m.clone()),
        }
    }
    d.outbox.extend(write.outbox.iter().cloned());
    d.attachments.extend(write.attachments.iter().cloned());
    d.model_usage
        .extend(write.model_usage.iter().map(|u| (t.tenant_id, u.clone())));
    if let Some(claim) = &write.routing {
        d.routing_stamps.insert(claim.assignee, claim.last_routed);
    }
    if let Some(key) = &write.idempotency_key {
        d.idempotency.insert((t.tenant_id, key.clone()), t.id);
    }
}

fn matches(t: &Ticket, q: &TicketQuery, needle: Option<&str>) -> bool {
    (q.statuses.is_empty() || q.statuses.contains(&t.status))
        && (q.priorities.is_empty() || q.priorities.contains(&t.priority))
        && match q.assignee {
            None => true,
            Some(AssigneeFilter::Unassigned) => t.assignee.is_none(),
            Some(AssigneeFilter::User(u)) => t.assignee == Some(u),
        }
        && q.requester.is_none_or(|r| t.requester == r)
        && q.category
            .as_ref()
            .is_none_or(|c| t.category.as_ref() == Some(c))
        && q.team.as_ref().is_none_or(|k| t.team.as_ref() == Some(k))
        && needle.is_none_or(|n| t.subject.to_lowercase().contains(n))
        && !(q.exclude_bot_chats && t.is_bot_chat())
        && crate::store::has_field_tokens(t, &q.fields)
}

#[async_trait]
impl TicketStore for MemoryStore {
    /// Checks, allocates and applies under the one lock: a create that fails takes no
    /// number.
    async fn create_ticket(&self, mut write: TicketWrite) -> Result<TicketWrite> {
        check_write(&write)?;
        let mut d = self.lock()?;
        let t = &write.ticket;
        if let Some(key) = &write.idempotency_key
            && d.idempotency.contains_key(&(t.tenant_id, key.clone()))
        {
            return Err(Error::Duplicate {
                kind: DuplicateKind::IdempotencyKey,
                value: key.clone(),
            });
        }
        if d.tickets.contains_key(&t.id) {
            return Err(Error::Duplicate {
                kind: DuplicateKind::Id,
                value: t.id.to_string(),
            });
        }
        check_chat_activity(&d, &write)?;
        // Only this method numbers tickets, so the counter is never behind them.
        let tenant = t.tenant_id;
        let number = d.counters.get(&tenant).copied().unwrap_or(0) + 1;
        d.counters.insert(tenant, number);
        write.set_ticket_number(number);
        apply_write(&mut d, &write);
        Ok(write)
    }

    async fn update_ticket(&self, expected_version: u64, write: &TicketWrite) -> Result<()> {
        check_write(write)?;
        let mut d = self.lock()?;
        check_update(&d, expected_version, write)?;
        apply_write(&mut d, write);
        Ok(())
    }

    /// Every write is checked under the lock before any is applied, so the batch lands
    /// whole or not at all.
    async fn update_tickets(&self, writes: &[(u64, TicketWrite)]) -> Result<()> {
        crate::store::check_ticket_batch(writes)?;
        for (_, write) in writes {
            check_write(write)?;
        }
        let mut d = self.lock()?;
        for (expected, write) in writes {
            check_update(&d, *expected, write)?;
        }
        for (_, write) in writes {
            apply_write(&mut d, write);
        }
        Ok(())
    }

    async fn get_ticket(&self, tenant: TenantId, id: TicketId) -> Result<Option<Ticket>> {
        Ok(self
            .lock()?
            .tickets
            .get(&id)
            .filter(|t| t.tenant_id == tenant)
            .cloned())
    }

    async fn get_ticket_by_number(&self, tenant: TenantId, number: u64) -> Result<Option<Ticket>> {
        Ok(self
            .lock()?
            .tickets
            .values()
            .find(|t| t.tenant_id == tenant && t.number == number)
            .cloned())
    }

    async fn find_by_idempotency_key(
        &self,
        tenant: TenantId,
        key: &str,
    ) -> Result<Option<TicketId>> {
        Ok(self
            .lock()?
            .idempotency
            .get(&(tenant, key.to_string()))
            .copied())
    }

    async fn count_tickets(&self, tenant: TenantId, query: &TicketQuery) -> Result<u64> {
        let needle = query
            .text
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase);
        let d = self.lock()?;
        let n = d
            .tickets
            .values()
            .filter(|t| t.tenant_id == tenant && matches(t, query, needle.as_deref()))
            .count();
        Ok(n as u64)
    }

    async fn list_tickets(&self, tenant: TenantId, query: &TicketQuery) -> Result<Page<Ticket>> {
        let limit = query.effective_limit()? as usize;
        let cursor = query
            .cursor
            .as_deref()
            .map(|c| Cursor::decode(c, query.sort))
            .transpose()?;
        let needle = query
            .text
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase);
        let d = self.lock()?;
        let mut list: Vec<&Ticket> = d
            .tickets
            .values()
            .filter(|t| t.tenant_id == tenant)
            .filter(|t| matches(t, query, needle.as_deref()))
            .filter(|t| cursor.is_none_or(|c| c.is_before(t)))
            .collect();
        list.sort_by(|a, b| compare(query.sort, a, b));
        let has_more = list.len() > limit;
        let items: Vec<Ticket> = list.into_iter().take(limit).cloned().collect();
        let next_cursor = if has_more {
            items.last().map(|t| Cursor::after(t, query.sort).encode())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    async fn open_ticket_counts(&self, tenant: TenantId) -> Result<Vec<(UserId, u64)>> {
        let d = self.lock()?;
        let mut counts: HashMap<UserId, u64> = HashMap::new();
        for t in d.tickets.values() {
            if t.tenant_id == tenant
                && t.status.is_open()
                && let Some(a) = t.assignee
            {
                *counts.entry(a).or_default() += 1;
            }
        }
        let mut list: Vec<(UserId, u64)> = counts.into_iter().collect();
        list.sort();
        Ok(list)
    }

    async fn sla_due_tickets(
        &self,
        tenant: TenantId,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Ticket>> {
        let d = self.lock()?;
        let mut due: Vec<(Timestamp, &Ticket)> = d
            .tickets
            .values()
            .filter(|t| t.tenant_id == tenant && t.status.is_open() && t.sla.paused_since.is_none())
            .filter_map(|t| {
                let fr = t.sla.first_response_due.filter(|due| {
                    *due <= now && t.first_response_at.is_none() && !t.sla.first_response_breached
                });
                let res = t
                    .sla
                    .resolution_due
                    .filter(|due| *due <= now && !t.sla.resolution_breached);
                match (fr, res) {
                    (Some(a), Some(b)) => Some((a.min(b), t)),
                    (Some(a), None) | (None, Some(a)) => Some((a, t)),
                    (None, None) => None,
                }
            })
            .collect();
        due.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
        Ok(due
            .into_iter()
            .take(limit as usize)
            .map(|(_, t)| t.clone())
            .collect())
    }

    async fn list_events(&self, tenant: TenantId, ticket: TicketId) -> Result<Vec<Event>> {
        Ok(self
            .lock()?
            .events
            .get(&ticket)
            .map(|list| {
                list.iter()
                    .filter(|e| e.tenant_id == tenant)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn list_tenant_events(
        &self,
        tenant: TenantId,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<Event>> {
        let d = self.lock()?;
        let mut list: Vec<Event> = d
            .events
            .values()
            .flatten()
            .filter(|e| e.tenant_id == tenant && e.at >= since)
            .cloned()
            .collect();
        list.sort_by_key(|e| (e.at, e.id));
        list.truncate(limit.max(1) as usize);
        Ok(list)
    }

    async fn list_messages(
        &self,
        tenant: TenantId,
        ticket: TicketId,
        filter: MessageFilter,
    ) -> Result<Vec<Message>> {
        let mut list: Vec<Message> = self
            .lock()?
            .messages
            .iter()
            .filter(|m| m.tenant_id == tenant && m.ticket_id == ticket && filter.keeps(m.kind))
            .cloned()
            .collect();
        list.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(list)
    }

    async fn get_message(&self, tenant: TenantId, id: MessageId) -> Result<Option<Message>> {
        Ok(self
            .lock()?
            .messages
            .iter()
            .find(|m| m.tenant_id == tenant && m.id == id)
            .cloned())
    }

    async fn analytics(
        &self,
        tenant: TenantId,
        range: TimeRange,
        now: Timestamp,
    ) -> Result<Analytics> {
        let d = self.lock()?;
        let tickets: Vec<Ticket> = d
            .tickets
            .values()
            .filter(|t| t.tenant_id == tenant)
            .cloned()
            .collect();
        let drafts: Vec<Message> = d
            .messages
            .iter()
            .filter(|m| m.tenant_id == tenant && m.kind == MessageKind::Draft)
            .cloned()
            .collect();
        let chats: Vec<ChatSession> = d
            .chats
            .iter()
            .filter(|c| c.tenant_id == tenant)
            .cloned()
            .collect();
        Ok(Analytics::compute(&tickets, &drafts, &chats, range, now))
    }
}

//! The tenant event feed: the ticket events an actor may see, read from the store in
//! pages behind a [`FeedCursor`], for live streams (Server-Sent Events with
//! `Last-Event-ID` resume) that work across several app instances on one store.

use std::collections::HashMap;

use jiff::Timestamp;
use serde::Serialize;

use super::Helpdesk;
pub use super::feed_cursor::{FEED_CURSOR_MAX_IDS, FeedCursor};
use crate::domain::{Actor, Event, EventKind, Ticket};
use crate::roles::Action;
use crate::store::{Commit, CommitWaiter};
use crate::{EventId, Result, TenantId, TicketId, UserId};

/// The most events one feed page returns.
pub const MAX_FEED_PAGE: u32 = 500;

/// Store reads one page may make before it returns what it has (`more` set): a customer's
/// page skips the events of other customers' tickets, which could otherwise be read
/// without end.
const MAX_READS_PER_PAGE: usize = 4;

/// One event of the feed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedItem {
    /// The event's id (clients dedupe by it).
    pub id: EventId,
    /// When it happened.
    pub at: Timestamp,
    /// Its ticket.
    pub ticket_id: TicketId,
    /// The ticket's number.
    pub ticket_number: u64,
    /// The event's kind ([`EventKind::name`]: `created`, `message_added`, ...).
    pub kind: &'static str,
    /// The event.
    pub event: Event,
}

/// A page of the feed and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedPage {
    /// The events, in (time, id) order (a late-committed event comes after the events
    /// delivered before it landed).
    pub items: Vec<FeedItem>,
    /// Pass it to the next call (or send it as the SSE `id:`); it covers `items` and every
    /// event left out of this page for the actor.
    pub cursor: FeedCursor,
    /// Whether more events may already be waiting (the page stopped at its limit or its
    /// read budget): ask again at once rather than after the polling interval.
    pub more: bool,
}

/// Whether a customer sees an event of a ticket they requested: the ticket's opening,
/// status changes, reopening, public messages (replies and chat turns, never internal
/// notes or AI drafts), a merge into another ticket, their rating and a follow-up
/// ticket. Triage, SLA, assignment, priority, category, tags, draft decisions and
/// merges into the ticket are for staff.
pub fn customer_sees(kind: &EventKind) -> bool {
    match kind {
        EventKind::Created { .. }
        | EventKind::StatusChanged { .. }
        | EventKind::Reopened { .. }
        | EventKind::Merged { .. }
        | EventKind::CsatRecorded { .. }
        | EventKind::FollowUpOpened { .. } => true,
        EventKind::MessageAdded { kind, .. } => kind.customer_visible(),
        _ => false,
    }
}

impl Helpdesk {
    /// A page of the tenant's ticket events after `after` (`None`: from the beginning of
    /// the tenant's history; [`FeedCursor::from_time`] starts at a time), at most `limit`
    /// (1 to [`MAX_FEED_PAGE`]).
    ///
    /// Visibility is the ticket's: staff (agents and admins) see every event of their
    /// tenant; a customer sees only events of tickets they requested, and of those only
    /// what [`customer_sees`] allows. Events come from the store, so every instance on
    /// one store serves the same feed; an event another instance commits a moment late,
    /// with a time before the cursor's, is still delivered when it lands within the
    /// configured look-back ([`FeedCursor`] says how).
    pub async fn event_feed(
        &self,
        actor: &Actor,
        after: Option<&FeedCursor>,
        limit: u32,
    ) -> Result<FeedPage> {
        self.check(actor, Action::ViewTicket).await?;
        let viewer = if actor.is_staff() {
            Viewer::Staff
        } else {
            Viewer::Customer(actor.user_id)
        };
        self.feed_page(actor.tenant_id, viewer, after, limit).await
    }

    /// The whole tenant's feed, as staff see it, for the engine's own deliveries (webhooks)
    /// rather than for a person: no actor, so no role check. Never hand its events to a
    /// customer.
    pub async fn tenant_event_feed(
        &self,
        tenant: TenantId,
        after: Option<&FeedCursor>,
        limit: u32,
    ) -> Result<FeedPage> {
        self.feed_page(tenant, Viewer::Staff, after, limit).await
    }

    /// A waiter woken when events may have been committed ([`CommitWaiter::wait_for`]):
    /// at once for this helpdesk's own ticket writes, and for other instances' writes on
    /// the same database when the store relays them ([`Store::relay_commits`], asked on
    /// the first call; PostgreSQL does). Readers still read the feed to learn what
    /// happened, and poll as well, since a store may not relay and a relay may miss a
    /// signal while it reconnects: the waiter only shortens the wait.
    ///
    /// [`Store::relay_commits`]: crate::Store::relay_commits
    pub async fn commit_waiter(&self) -> CommitWaiter {
        // Subscribed before the relay starts, so nothing the relay sends is missed.
        let waiter = self.inner.commits.waiter();
        let relay = self
            .inner
            .commit_relay
            .get_or_try_init(|| {
                self.inner
                    .store
                    .relay_commits(self.inner.commits.downgrade())
            })
            .await;
        if let Err(error) = relay {
            tracing::warn!(%error, "relaying other instances' commits failed; readers poll");
        }
        waiter
    }

    /// Whether other instances' commits reach [`commit_waiter`](Self::commit_waiter)s:
    /// `None` until the first waiter asked the store.
    pub fn relays_commits(&self) -> Option<bool> {
        self.inner.commit_relay.get().copied()
    }

    /// Wakes the feed's readers after a ticket write of `tenant` committed.
    pub(crate) fn signal_commit(&self, tenant: TenantId) {
        self.inner.commits.send(Commit::Tenant(tenant));
    }

    async fn feed_page(
        &self,
        tenant: TenantId,
        viewer: Viewer,
        after: Option<&FeedCursor>,
        limit: u32,
    ) -> Result<FeedPage> {
        let limit = limit.clamp(1, MAX_FEED_PAGE) as usize;
        let lookback = self.inner.config.feed_lookback;
        let mut cursor = after.cloned().unwrap_or_else(FeedCursor::beginning);
        let mut since = cursor.read_from(lookback);
        let mut read_limit = limit.saturating_add(FEED_CURSOR_MAX_IDS + 1);
        let mut tickets: HashMap<TicketId, Option<Ticket>> = HashMap::new();
        let mut items = Vec::new();
        let mut more = false;
        'reads: for read in 1..=MAX_READS_PER_PAGE {
            let batch = u32::try_from(read_limit).unwrap_or(u32::MAX);
            let events = self
                .inner
                .store
                .list_tenant_events(tenant, since, batch)
                .await?;
            let full = events.len() >= read_limit;
            let fresh: Vec<&Event> = events.iter().filter(|e| !cursor.has_processed(e)).collect();
            self.load_tickets(tenant, viewer, &fresh, &mut tickets)
                .await?;
            for event in fresh {
                if items.len() == limit {
                    more = true;
                    break 'reads;
                }
                cursor.mark(event);
                let ticket = tickets.get(&event.ticket_id).and_then(Option::as_ref);
                if let Some(ticket) = ticket.filter(|t| viewer.sees(t, &event.kind)) {
                    let mut event = event.clone();
                    // A customer's feed carries no custom field values (some are staff
                    // only); the ticket's own read shows them the ones they may see.
                    if let (Viewer::Customer(_), EventKind::Created { ticket }) =
                        (viewer, &mut event.kind)
                    {
                        ticket.custom_fields.clear();
                    }
                    items.push(FeedItem {
                        id: event.id,
                        at: event.at,
                        ticket_id: event.ticket_id,
                        ticket_number: ticket.number,
                        kind: event.kind.name(),
                        event,
                    });
                }
            }
            if !full {
                break;
            }
            if read == MAX_READS_PER_PAGE {
                more = true;
                break;
            }
            // Read on from the last event's time; a read that cannot move forward (more
            // events in one millisecond than it reads) reads more at once instead.
            match events.last() {
                Some(last) if last.at > since => since = last.at,
                _ => read_limit = read_limit.saturating_mul(2),
            }
        }
        cursor.prune(lookback);
        Ok(FeedPage {
            items,
            cursor,
            more,
        })
    }

    /// Reads the tickets of `events` not in `cache` yet, concurrently; a customer's only
    /// for events they could see.
    async fn load_tickets(
        &self,
        tenant: TenantId,
        viewer: Viewer,
        events: &[&Event],
        cache: &mut HashMap<TicketId, Option<Ticket>>,
    ) -> Result<()> {
        let mut wanted: Vec<TicketId> = Vec::new();
        for e in events {
            if (viewer == Viewer::Staff || customer_sees(&e.kind))
                && !cache.contains_key(&e.ticket_id)
                && !wanted.contains(&e.ticket_id)
            {
                wanted.push(e.ticket_id);
            }
        }
        let store = &self.inner.store;
        let read = wanted.iter().map(|id| store.get_ticket(tenant, *id));
        let found = futures_util::future::try_join_all(read).await?;
        cache.extend(wanted.into_iter().zip(found));
        Ok(())
    }
}

/// Whose feed a page is read for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Viewer {
    /// Agents, admins and the engine's own deliveries: every event of the tenant.
    Staff,
    /// A customer: the public events of their own tickets.
    Customer(UserId),
}

impl Viewer {
    /// Whether this viewer sees an event of `kind` on `ticket` (of the feed's tenant).
    fn sees(self, ticket: &Ticket, kind: &EventKind) -> bool {
        match self {
            Self::Staff => true,
            Self::Customer(user) => ticket.requester == user && customer_sees(kind),
        }
    }
}

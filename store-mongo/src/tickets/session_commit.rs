//! A ticket commit that does more to its chat session than mark it active (it links the
//! session, depends on the session's version, or changes its state) runs in one
//! multi-document transaction with the session's update: step 1 of the commit protocol
//! (see `commit`) and the session's version-guarded update land together or not at all.
//! So two first messages of one session cannot both open a ticket, and a handoff cannot
//! escalate the ticket while the session stays with the bot. The session is read inside
//! the transaction and given exactly [`ChatSession::apply_activity`]'s result; the
//! ticket's `pending` commit carries no chat activity then (it is applied already).
//!
//! A routed write ([`TicketWrite::routing`]) commits in the same kind of transaction:
//! the assignee's claim (`routing_claim`: stamp and capacity decided on the user document
//! and the open tickets, the stamp moved) lands with the ticket's step 1, or neither does.
//!
//! Like merges, this needs a server with transactions (a replica set or sharded cluster;
//! the SecantusDB test server has them).

use bson::doc;
use helpdesk_core::domain::ChatSession;
use helpdesk_core::store::{ChatActivity, TicketWrite};
use helpdesk_core::{Error, Result};
use mongodb::ClientSession;

use super::batch::{abort, is_write_conflict};
use super::commit::{SETTLE_ROUNDS, UpdateStep, check_write, conflict, create_doc, pending_doc};
use super::routing_claim::Claimed;
use crate::error::{driver, is_duplicate_key, unexpected};
use crate::mapping::{chat_doc, chat_from};
use crate::schema::{CHAT_SESSIONS, TICKETS};
use crate::store::MongoStore;

/// How one transaction attempt ended without an error to report.
enum Attempt {
    /// Everything landed; the ticket's pending commit is to be applied.
    Committed,
    /// The ticket's guarded update matched nothing (stale, missing, or a commit not
    /// applied yet): settle it and try again.
    TicketUnmatched,
    /// Lost to a concurrent transaction: nothing was written; read again and retry.
    Lost,
}

/// Whether `write` must commit with its session in a transaction.
fn needs_session_transaction(write: &TicketWrite) -> bool {
    write
        .chat_activity
        .as_ref()
        .is_some_and(|a| a.links_ticket || a.expected_version.is_some() || a.transition.is_some())
}

/// Whether `write` must commit in a transaction: with its session's change (see
/// [`needs_session_transaction`]) or with its routing claim.
pub(super) fn needs_transaction(write: &TicketWrite) -> bool {
    needs_session_transaction(write) || write.routing.is_some()
}

impl MongoStore {
    /// Commits `write` (a create when `expected` is `None`, else an update of the ticket at
    /// that version) together with its session change and its routing claim, each when it
    /// has one (see the module docs). A plain activity mark stays in the pending commit.
    pub(super) async fn commit_with_session(
        &self,
        expected: Option<u64>,
        write: &TicketWrite,
    ) -> Result<()> {
        check_write(write)?;
        self.check_new_attachments(write).await?;
        let activity = write
            .chat_activity
            .as_ref()
            .filter(|_| needs_session_transaction(write));
        if activity.is_none() && write.routing.is_none() {
            return Err(unexpected(
                "a transaction commit without a session or routing",
            ));
        }
        if activity.is_none() {
            self.check_chat_activity(write).await?;
        }
        let mut ticket_only = write.clone();
        if activity.is_some() {
            ticket_only.chat_activity = None;
        }
        let pending = pending_doc(&ticket_only)?;
        let id = write.ticket.id.to_string();
        for _ in 0..SETTLE_ROUNDS {
            match self
                .try_session_transaction(expected, write, &ticket_only, &pending, activity)
                .await?
            {
                Attempt::Committed => {
                    self.apply_after_commit(&id, &pending).await;
                    return Ok(());
                }
                Attempt::TicketUnmatched => {
                    let expected =
                        expected.ok_or_else(|| unexpected("an unmatched ticket create"))?;
                    self.settle_unmatched(expected, write).await?;
                }
                Attempt::Lost => tokio::task::yield_now().await,
            }
        }
        Err(match (expected, activity, &write.routing) {
            (Some(expected), _, _) => conflict(write, expected),
            (None, Some(activity), _) => activity.stale(),
            (None, None, Some(claim)) => claim.conflict(),
            (None, None, None) => unexpected("a transaction commit without a session or routing"),
        })
    }

    async fn try_session_transaction(
        &self,
        expected: Option<u64>,
        write: &TicketWrite,
        ticket_only: &TicketWrite,
        pending: &bson::Document,
        activity: Option<&ChatActivity>,
    ) -> Result<Attempt> {
        let mut session = self
            .database()
            .client()
            .start_session()
            .await
            .map_err(driver)?;
        session.start_transaction().await.map_err(driver)?;
        let outcome = self
            .session_then_ticket(
                &mut session,
                expected,
                write,
                ticket_only,
                pending,
                activity,
            )
            .await;
        match outcome {
            Ok(None) => {}
            Ok(Some(attempt)) => {
                abort(&mut session).await;
                return Ok(attempt);
            }
            Err(e) => {
                abort(&mut session).await;
                return Err(e);
            }
        }
        match session.commit_transaction().await {
            Ok(()) => Ok(Attempt::Committed),
            Err(e) if is_write_conflict(&e) => Ok(Attempt::Lost),
            Err(e) => Err(driver(e)),
        }
    }

    /// The session's update, the routing claim, then the ticket's update, inside the
    /// transaction. `Ok(None)`: all landed and the transaction may commit; `Ok(Some(_))`
    /// and errors: abort.
    async fn session_then_ticket(
        &self,
        session: &mut ClientSession,
        expected: Option<u64>,
        write: &TicketWrite,
        ticket_only: &TicketWrite,
        pending: &bson::Document,
        activity: Option<&ChatActivity>,
    ) -> Result<Option<Attempt>> {
        if let Some(activity) = activity
            && let Some(attempt) = self.change_session(session, write, activity).await?
        {
            return Ok(Some(attempt));
        }
        if let Some(claim) = &write.routing
            && let Claimed::Lost = self.claim_in_transaction(session, write, claim).await?
        {
            return Ok(Some(Attempt::Lost));
        }
        self.write_ticket(session, expected, write, ticket_only, pending)
            .await
    }

    /// The session's version-guarded update, inside the transaction (`Ok(None)`: it
    /// landed).
    async fn change_session(
        &self,
        session: &mut ClientSession,
        write: &TicketWrite,
        activity: &ChatActivity,
    ) -> Result<Option<Attempt>> {
        let tenant = write.ticket.tenant_id.to_string();
        let filter = doc! { "_id": activity.session.to_string(), "tenant_id": &tenant };
        let found = match self
            .coll(CHAT_SESSIONS)
            .find_one(filter.clone())
            .session(&mut *session)
            .await
        {
            Ok(found) => found,
            Err(e) if is_write_conflict(&e) => return Ok(Some(Attempt::Lost)),
            Err(e) => return Err(driver(e)),
        };
        let Some(found) = found else {
            return Err(Error::not_found("chat_session", activity.session));
        };
        let stored: ChatSession = chat_from(&found)?;
        activity.check(&stored)?;
        let mut next = stored.clone();
        next.apply_activity(activity, write.ticket.id);
        let mut guard = filter;
        guard.insert(
            "version",
            crate::codec::int(stored.version, "chat_session.version")?,
        );
        let mut set = chat_doc(&next)?;
        set.remove("_id");
        match self
            .coll(CHAT_SESSIONS)
            .update_one(guard, doc! { "$set": set })
            .session(&mut *session)
            .await
        {
            Ok(r) if r.matched_count == 1 => Ok(None),
            Ok(_) => Ok(Some(Attempt::Lost)),
            Err(e) if is_write_conflict(&e) => Ok(Some(Attempt::Lost)),
            Err(e) => Err(driver(e)),
        }
    }

    /// The ticket's step 1 (insert, or version-guarded update), inside the transaction.
    async fn write_ticket(
        &self,
        session: &mut ClientSession,
        expected: Option<u64>,
        write: &TicketWrite,
        ticket_only: &TicketWrite,
        pending: &bson::Document,
    ) -> Result<Option<Attempt>> {
        match expected {
            None => {
                let d = create_doc(ticket_only, pending)?;
                match self
                    .coll(TICKETS)
                    .insert_one(d)
                    .session(&mut *session)
                    .await
                {
                    Ok(_) => Ok(None),
                    Err(e) if is_write_conflict(&e) => Ok(Some(Attempt::Lost)),
                    Err(e) if is_duplicate_key(&e) => Err(self.create_duplicate(write, e).await),
                    Err(e) => Err(driver(e)),
                }
            }
            Some(expected) => {
                let step = UpdateStep::of_pending(expected, ticket_only, pending)?;
                match self
                    .coll(TICKETS)
                    .update_one(step.guard, step.update)
                    .session(&mut *session)
                    .await
                {
                    Ok(r) if r.matched_count == 1 => Ok(None),
                    Ok(_) => Ok(Some(Attempt::TicketUnmatched)),
                    Err(e) if is_write_conflict(&e) => Ok(Some(Attempt::Lost)),
                    Err(e) => Err(super::commit::update_error(e, write)),
                }
            }
        }
    }
}

//! Chat changes that touch a session and its ticket commit as one ticket write carrying
//! the session's change ([`ChatActivity`](crate::store::ChatActivity)): a handoff, an
//! agent taking a session over, a bot resolution and an idle close each land whole or not
//! at all, and the session's new state is exactly what the store applied
//! ([`ChatSession::apply_activity`]).

use std::time::Duration;

use super::super::Helpdesk;
use crate::domain::{ChatSession, Ticket};
use crate::store::TicketWrite;
use crate::{Error, Result, TenantId};

impl Helpdesk {
    /// Plans a change of `session`'s ticket together with the session and commits it as one
    /// write. `plan` gets the session and its ticket and returns the write, with what the
    /// use case returns (its
    /// `chat_activity` made with `Change::change_chat_session`, which checks the session's
    /// version), or `None` when there is nothing to do. The first attempt plans on `known`,
    /// the session's ticket as the caller just read it; a conflict on either the ticket or
    /// the session re-reads both and plans again.
    ///
    /// Returns the session and the write as committed with `plan`'s result, or `None` when
    /// `plan` declined.
    pub(crate) async fn mutate_chat<T, F>(
        &self,
        tenant: TenantId,
        session: ChatSession,
        known: Option<Ticket>,
        mut plan: F,
    ) -> Result<Option<(ChatSession, TicketWrite, T)>>
    where
        F: FnMut(&ChatSession, &Ticket) -> Result<Option<(TicketWrite, T)>> + Send,
        T: Send,
    {
        let id = session.id;
        let ticket_id = session
            .ticket_id
            .ok_or(Error::InvalidState(crate::StateError::ChatNotStarted))?;
        let turn = self.inner.ticket_locks.turn(ticket_id).await;
        let mut known = known
            .filter(|t| t.id == ticket_id && !turn.waited())
            .map(|ticket| (session, ticket));
        let attempts = self.inner.config.max_conflict_retries.max(1);
        let mut last = None;
        for attempt in 0..attempts {
            let (session, ticket) = match known.take() {
                Some(pair) => pair,
                None => self.session_and_ticket(tenant, id).await?,
            };
            let Some((write, result)) = plan(&session, &ticket)? else {
                return Ok(None);
            };
            match self.inner.store.update_ticket(ticket.version, &write).await {
                Ok(()) => {
                    self.signal_commit(tenant);
                    let mut session = session;
                    if let Some(activity) = &write.chat_activity {
                        session.apply_activity(activity, ticket.id);
                    }
                    return Ok(Some((session, write, result)));
                }
                // A refused routing claim is not retried here: `plan` routed on a read
                // this loop does not redo; the caller routes again (`hand_off`).
                Err(e) if e.is_temporary() && !e.is_routing_conflict() => {
                    tracing::debug!(%id, attempt, error = %e, "chat write failed temporarily; retrying");
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(1 << attempt.min(6))).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(Error::Conflict {
            entity: "chat_session",
            id: id.to_string(),
            expected: 0,
        }))
    }

    /// The session and its ticket as stored now (a session without a ticket, or whose
    /// ticket is gone, is `NotFound`).
    pub(super) async fn session_and_ticket(
        &self,
        tenant: TenantId,
        id: crate::ChatSessionId,
    ) -> Result<(ChatSession, Ticket)> {
        match self
            .inner
            .store
            .chat_session_with_ticket(tenant, id)
            .await?
        {
            Some((session, Some(ticket))) => Ok((session, ticket)),
            Some((session, None)) => Err(Error::not_found(
                "ticket",
                session
                    .ticket_id
                    .map_or_else(String::new, |t| t.to_string()),
            )),
            None => Err(Error::not_found("chat_session", id)),
        }
    }
}

//! Several ticket commits in one multi-document transaction (`update_tickets`): step 1 of
//! the commit protocol (see `commit`) for every ticket, inside a transaction of a client
//! session, so either every version-guarded update lands or none does. Steps 2 and 3
//! (applying and settling each ticket's `pending` commit) are unchanged.

use helpdesk_core::Result;
use helpdesk_core::store::{TicketWrite, check_ticket_batch};
use mongodb::ClientSession;

use super::commit::{SETTLE_ROUNDS, UpdateStep, check_write, conflict, update_error};
use crate::error::driver;
pub(super) use crate::error::is_write_conflict;
use crate::schema::TICKETS;
use crate::store::MongoStore;

/// How one transaction attempt ended.
enum Attempt {
    /// Every update landed and the transaction committed.
    Committed,
    /// The update of the write at this index matched no document; the transaction was
    /// aborted.
    Unmatched(usize),
}

impl MongoStore {
    /// Commits every write of `writes` in one transaction (see the module docs): a stale
    /// version is `Conflict`, a missing ticket `NotFound`, and nothing is written then.
    pub(crate) async fn commit_updates(&self, writes: &[(u64, TicketWrite)]) -> Result<()> {
        check_ticket_batch(writes)?;
        if writes.is_empty() {
            return Ok(());
        }
        let mut steps = Vec::with_capacity(writes.len());
        for (expected, write) in writes {
            check_write(write)?;
            self.check_chat_activity(write).await?;
            self.check_new_attachments(write).await?;
            steps.push(UpdateStep::of(*expected, write)?);
        }
        let mut last = None;
        for _ in 0..SETTLE_ROUNDS {
            match self.try_transaction(writes, &steps).await? {
                Attempt::Committed => {
                    for step in &steps {
                        self.apply_after_commit(&step.id, &step.pending).await;
                    }
                    return Ok(());
                }
                Attempt::Unmatched(i) => {
                    let Some((expected, write)) = writes.get(i) else {
                        return Err(crate::error::unexpected("an unmatched write out of range"));
                    };
                    // Outside the aborted transaction: `Conflict`/`NotFound`, or a
                    // pending commit of that ticket applied so the next attempt can match.
                    self.settle_unmatched(*expected, write).await?;
                    last = Some(conflict(write, *expected));
                }
            }
        }
        Err(last.unwrap_or_else(|| crate::error::unexpected("no transaction attempt")))
    }

    /// One transaction: every guarded update in order, then the commit. An update that
    /// matches nothing aborts it (`Unmatched`); a write conflict with another transaction
    /// is a `Conflict` of that ticket (nothing of this one is written).
    async fn try_transaction(
        &self,
        writes: &[(u64, TicketWrite)],
        steps: &[UpdateStep],
    ) -> Result<Attempt> {
        let mut session = self
            .database()
            .client()
            .start_session()
            .await
            .map_err(driver)?;
        session.start_transaction().await.map_err(driver)?;
        for (i, ((expected, write), step)) in writes.iter().zip(steps).enumerate() {
            let updated = self
                .coll(TICKETS)
                .update_one(step.guard.clone(), step.update.clone())
                .session(&mut session)
                .await;
            let failure = match updated {
                Ok(r) if r.matched_count == 1 => continue,
                Ok(_) => None,
                Err(e) if is_write_conflict(&e) => Some(conflict(write, *expected)),
                Err(e) => Some(update_error(e, write)),
            };
            abort(&mut session).await;
            return match failure {
                None => Ok(Attempt::Unmatched(i)),
                Some(e) => Err(e),
            };
        }
        match session.commit_transaction().await {
            Ok(()) => Ok(Attempt::Committed),
            Err(e) if is_write_conflict(&e) => Err(writes
                .first()
                .map_or_else(|| driver(e), |(expected, w)| conflict(w, *expected))),
            Err(e) => Err(driver(e)),
        }
    }
}

/// Aborts a transaction that will not commit. A failed abort is only logged: the server
/// drops an uncommitted transaction on its own (at the latest when it times out), and the
/// error that made us abort is the one to report.
pub(super) async fn abort(session: &mut ClientSession) {
    if let Err(e) = session.abort_transaction().await {
        tracing::debug!(
            error = &e as &dyn std::error::Error,
            "aborting a ticket transaction failed; the server drops it"
        );
    }
}

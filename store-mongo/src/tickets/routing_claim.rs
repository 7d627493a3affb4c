//! A routed assignment's claim on its assignee ([`RoutingClaim`]), inside the ticket
//! commit's multi-document transaction (see `session_commit`): the assignee's user
//! document is read, the claim decided on it and on their open tickets (as the
//! transaction's snapshot has them), and their stamp moved with a guarded update. Two
//! transactions claiming one assignee both write that user document, so the server lets
//! only one of them commit (a write conflict); the other reads again and finds the stamp
//! moved. A user document written before stamps existed has no `last_routed`: 0.

use bson::{Bson, Document, doc};
use helpdesk_core::Result;
use helpdesk_core::store::{RoutingClaim, TicketWrite};
use mongodb::ClientSession;

use super::batch::is_write_conflict;
use super::listing::open_status;
use crate::codec::int;
use crate::error::driver;
use crate::mapping::user_from;
use crate::schema::{TICKETS, USERS};
use crate::store::MongoStore;

/// A user document's routing stamp (0 when it has none).
pub(crate) fn stamp_of(user: &Document) -> u64 {
    match user.get("last_routed") {
        Some(Bson::Int64(n)) => n.unsigned_abs(),
        Some(Bson::Int32(n)) => n.unsigned_abs().into(),
        _ => 0,
    }
}

/// The filter value of a stamp: 0 also matches a document without one.
fn stamp_filter(stamp: u64) -> Result<Bson> {
    Ok(match stamp {
        0 => Bson::Document(doc! { "$in": [0_i64, Bson::Null] }),
        n => Bson::Int64(int(n, "routing.expected_last_routed")?),
    })
}

/// How the claim step ended without an error to report.
pub(super) enum Claimed {
    /// The stamp moved; the transaction may go on.
    Moved,
    /// Lost to a concurrent transaction: abort, read again and retry.
    Lost,
}

impl MongoStore {
    /// Decides `claim` for `write` inside `session`'s transaction and moves the stamp; a
    /// claim that no longer holds is the error every backend gives (routing `Conflict`,
    /// `NotFound` user), and the caller aborts.
    pub(super) async fn claim_in_transaction(
        &self,
        session: &mut ClientSession,
        write: &TicketWrite,
        claim: &RoutingClaim,
    ) -> Result<Claimed> {
        let t = &write.ticket;
        let tenant = t.tenant_id.to_string();
        let assignee = claim.assignee.to_string();
        let user_filter = doc! { "_id": &assignee, "tenant_id": &tenant };
        let found = match self
            .coll(USERS)
            .find_one(user_filter.clone())
            .session(&mut *session)
            .await
        {
            Ok(found) => found,
            Err(e) if is_write_conflict(&e) => return Ok(Claimed::Lost),
            Err(e) => return Err(driver(e)),
        };
        let user = found.as_ref().map(user_from).transpose()?;
        let stamp = found.as_ref().map_or(0, stamp_of);
        let others = doc! {
            "tenant_id": &tenant,
            "assignee": &assignee,
            "status": open_status(),
            "_id": { "$ne": t.id.to_string() },
        };
        let others = match self
            .coll(TICKETS)
            .count_documents(others)
            .session(&mut *session)
            .await
        {
            Ok(n) => n,
            Err(e) if is_write_conflict(&e) => return Ok(Claimed::Lost),
            Err(e) => return Err(driver(e)),
        };
        let this = u64::from(t.status.is_open() && t.assignee == Some(claim.assignee));
        claim.decide(t.tenant_id, user.as_ref(), stamp, others + this)?;
        let mut guard = user_filter;
        guard.insert("last_routed", stamp_filter(claim.expected_last_routed)?);
        let set =
            doc! { "$set": { "last_routed": int(claim.last_routed, "routing.last_routed")? } };
        match self
            .coll(USERS)
            .update_one(guard, set)
            .session(&mut *session)
            .await
        {
            Ok(r) if r.matched_count == 1 => Ok(Claimed::Moved),
            Ok(_) => Ok(Claimed::Lost),
            Err(e) if is_write_conflict(&e) => Ok(Claimed::Lost),
            Err(e) => Err(driver(e)),
        }
    }
}

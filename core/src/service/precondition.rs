//! Conditional ticket writes: "change this ticket only if it is still at version N", the
//! precondition an HTTP layer takes from `If-Match`.
//!
//! The condition is scoped to one future with [`Helpdesk::if_ticket_version`] rather than
//! added as a parameter to every use case: the use cases keep their signatures, and every
//! ticket write they make inside the scope checks the version in the same read-plan-commit
//! loop that guards against concurrent writers, so the check and the write cannot be split
//! by another writer.

use std::future::Future;

use super::Helpdesk;
use crate::{Error, TicketId};

#[derive(Debug, Clone, Copy)]
struct ExpectedVersion {
    ticket: TicketId,
    version: u64,
}

tokio::task_local! {
    static EXPECTED: ExpectedVersion;
}

impl Helpdesk {
    /// Runs `use_case` so that its write of ticket `id` happens only if the ticket is at
    /// `version` when written; otherwise it fails with [`Error::PreconditionFailed`] and
    /// writes nothing. Meant for single-ticket changes (`transition`, `assign`,
    /// `update_ticket`); writes of other tickets inside the scope are not affected.
    pub async fn if_ticket_version<F: Future>(
        &self,
        id: TicketId,
        version: u64,
        use_case: F,
    ) -> F::Output {
        EXPECTED
            .scope(
                ExpectedVersion {
                    ticket: id,
                    version,
                },
                use_case,
            )
            .await
    }
}

/// Whether a write of ticket `id` runs under a version precondition.
pub(crate) fn expects_version(id: TicketId) -> bool {
    EXPECTED
        .try_with(|expected| expected.ticket == id)
        .unwrap_or(false)
}

/// Checks the precondition (if any) for ticket `id` found at `found`.
pub(crate) fn check_version(id: TicketId, found: u64) -> Result<(), Error> {
    match EXPECTED.try_with(|expected| *expected) {
        Ok(expected) if expected.ticket == id && expected.version != found => {
            Err(Error::PreconditionFailed {
                entity: "ticket",
                id: id.to_string(),
                expected: expected.version,
                found,
            })
        }
        _ => Ok(()),
    }
}

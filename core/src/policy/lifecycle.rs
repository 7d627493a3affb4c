//! The lifecycle table: which role may move a ticket from which status to which.
//!
//! | from \ to   | Open      | InProgress | Pending | Escalated | Resolved  | Closed |
//! |-------------|-----------|------------|---------|-----------|-----------|--------|
//! | New         | S         | S          | S       | S, C      | S, C      | A      |
//! | Open        | -         | S          | S       | S, C      | S, C      | A      |
//! | InProgress  | S         | -          | S       | S, C      | S, C      | A      |
//! | Pending     | S         | S          | -       | S, C      | S, C      | A      |
//! | Escalated   | S         | S          | S       | -         | S, C      | A      |
//! | Resolved    | S, C (reopen) | -      | -       | -         | -         | S      |
//! | Closed      | -         | -          | -       | -         | -         | -      |
//!
//! S = staff (agent or admin), A = admin only, C = the requesting customer. Nobody moves a
//! ticket to `New`. The system (sweeps, chatbot) may make any move a staff member may.
//! A customer's reopen is also bounded by the tenant's reopen window (checked by the
//! service). Closed is final: a message on a closed ticket opens a linked follow-up.

use crate::Error;
use crate::domain::{Role, TicketStatus};

use TicketStatus::{Closed, Escalated, New, Open, Resolved};

/// Whether `role` may move a ticket from `from` to `to` (`None` = the system).
pub fn can_transition(role: Option<Role>, from: TicketStatus, to: TicketStatus) -> bool {
    if from == to || to == New || from == Closed {
        return false;
    }
    let staff_ok = match (from, to) {
        (Resolved, Open) => true,
        (Resolved, Closed) => true,
        (Resolved, _) => false,
        (_, Closed) => false,
        _ => true,
    };
    match role {
        None | Some(Role::Agent) => staff_ok,
        Some(Role::Admin) => staff_ok || (to == Closed && from != Resolved),
        Some(Role::Customer) => match (from, to) {
            (Resolved, Open) => true,
            (Resolved, _) => false,
            (_, Escalated | Resolved) => true,
            _ => false,
        },
    }
}

/// Checks a move, with a typed error naming both statuses and the role.
pub fn check_transition(role: Role, from: TicketStatus, to: TicketStatus) -> Result<(), Error> {
    if can_transition(Some(role), from, to) {
        Ok(())
    } else {
        Err(Error::IllegalTransition { from, to, role })
    }
}

//! SLA arithmetic in business time (placeholder wall-clock version; replaced by the
//! business-calendar implementation).

use jiff::Timestamp;

use crate::Result;
use crate::domain::{BusinessCalendar, Priority, SlaPolicy, SlaState};

/// Due times for a ticket of `priority` created at `start`.
pub fn schedule(
    policy: &SlaPolicy,
    calendar: &BusinessCalendar,
    priority: Priority,
    start: Timestamp,
) -> Result<SlaState> {
    let _ = calendar;
    let Some(target) = policy.target(priority) else {
        return Ok(SlaState::default());
    };
    let add = |m: u32| {
        start
            .checked_add(jiff::SignedDuration::from_mins(i64::from(m)))
            .ok()
    };
    Ok(SlaState {
        first_response_due: add(target.first_response_minutes),
        resolution_due: add(target.resolution_minutes),
        ..SlaState::default()
    })
}

/// Moves due times out by the business time spent paused.
pub fn resume(
    calendar: &BusinessCalendar,
    sla: &SlaState,
    resumed_at: Timestamp,
) -> Result<SlaState> {
    let _ = calendar;
    let mut next = sla.clone();
    if let Some(since) = sla.paused_since.take_if_some() {
        let paused = resumed_at.duration_since(since);
        next.first_response_due = sla
            .first_response_due
            .and_then(|d| d.checked_add(paused).ok());
        next.resolution_due = sla.resolution_due.and_then(|d| d.checked_add(paused).ok());
    }
    next.paused_since = None;
    Ok(next)
}

trait TakeIfSome {
    fn take_if_some(&self) -> Option<Timestamp>;
}
impl TakeIfSome for Option<Timestamp> {
    fn take_if_some(&self) -> Option<Timestamp> {
        *self
    }
}

/// Checks a calendar (timezone exists, hours well-formed).
pub fn validate_calendar(calendar: &BusinessCalendar) -> Result<()> {
    let _ = calendar;
    Ok(())
}

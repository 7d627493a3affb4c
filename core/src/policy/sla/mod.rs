//! SLA arithmetic in business time.
//!
//! The SLA clock of a tenant runs only inside the opening hours of its
//! [`BusinessCalendar`]: each local day (in the calendar's IANA timezone) is open from its
//! weekday's `open_minute` to `close_minute`, except on holidays (local dates) and on
//! weekdays without hours. Everything else is closed time the clock skips.
//!
//! # Rules
//!
//! - **Windows are half-open**: a day with hours 09:00-17:00 counts `[09:00, 17:00)`. An
//!   instant exactly at 17:00 is outside hours.
//! - **Results of a positive addition end inside a window**: when the time runs out exactly
//!   at a closing time, the result is that closing time (Friday 09:00 + 8 h on a 9-to-5
//!   calendar is Friday 17:00, not Monday 09:00). So for an amount > 0 the result `r`
//!   always has `open < r <= close` for some open window.
//! - **Adding zero normalises**: [`add_business_time`]`(start, 0)` is `start` when `start`
//!   is inside hours, otherwise the next opening instant.
//! - **DST**: opening and closing times are local civil times resolved per day, so a day
//!   that loses or gains an hour loses or gains business time when its hours span the
//!   change. A civil time that does not exist (spring-forward gap) resolves to the first
//!   instant after the gap, the moment the clocks jump (hours 02:30-06:00 in Paris on
//!   2026-03-29 run 03:00-06:00 CEST, three hours). An ambiguous civil time (fall-back
//!   fold) resolves to its earlier instant (hours 02:30-06:00 on 2026-10-25 start at 02:30
//!   CEST and include the repeated hour, four and a half hours). Hours entirely inside a
//!   gap leave that day closed.
//! - **Precision**: [`add_business_time`] and [`business_time_between`] are exact to the
//!   nanosecond; the due times of [`schedule`] and [`resume`] are truncated to whole
//!   milliseconds ([`crate::clock::to_millis`]), the precision every store keeps.
//! - **Termination**: a calendar without opening hours is rejected by
//!   [`validate_calendar`]; an addition that does not fit into the
//!   ten years after its start (for example because holidays cover them) fails with a
//!   validation error instead of searching on. Long stretches are skipped a week at a
//!   time wherever no holiday or UTC offset change interferes.
//!
//! ```
//! use helpdesk_core::domain::BusinessCalendar;
//! use helpdesk_core::sla::{add_business_time, business_time_between};
//! use jiff::{SignedDuration, Timestamp};
//!
//! let calendar = BusinessCalendar::weekdays("UTC", 9, 17);
//! let friday: Timestamp = "2026-01-09T16:30:00Z".parse()?;
//! let due = add_business_time(&calendar, friday, SignedDuration::from_hours(1))?;
//! assert_eq!(due, "2026-01-12T09:30:00Z".parse()?); // Monday
//! assert_eq!(business_time_between(&calendar, friday, due)?, SignedDuration::from_hours(1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod business_time;
mod calendar;
#[cfg(test)]
mod tests;

use jiff::{SignedDuration, Timestamp};

use self::calendar::ResolvedCalendar;
use crate::Result;
use crate::clock::to_millis;
use crate::domain::{BusinessCalendar, Priority, SlaPolicy, SlaState};

/// Due times for a ticket of `priority` created at `start`: the policy's business minutes
/// added to `start` on `calendar`, truncated to milliseconds. A priority without a target
/// gets no due times.
///
/// # Errors
/// [`Error::Validation`](crate::Error::Validation) when the calendar is invalid (see
/// [`validate_calendar`]) or a target does not fit into ten years of its business hours.
pub fn schedule(
    policy: &SlaPolicy,
    calendar: &BusinessCalendar,
    priority: Priority,
    start: Timestamp,
) -> Result<SlaState> {
    let calendar = ResolvedCalendar::new(calendar)?;
    let Some(target) = policy.target(priority) else {
        return Ok(SlaState::default());
    };
    let due = |minutes: u32| {
        business_time::add(
            &calendar,
            start,
            SignedDuration::from_mins(i64::from(minutes)),
        )
        .map(to_millis)
    };
    Ok(SlaState {
        first_response_due: Some(due(target.first_response_minutes)?),
        resolution_due: Some(due(target.resolution_minutes)?),
        ..SlaState::default()
    })
}

/// Ends a pause: moves each due time out by the business time that elapsed between
/// `sla.paused_since` and `resumed_at` (truncated to milliseconds) and clears
/// `paused_since`. Breach flags are left as they are. A state that is not paused, or a
/// pause during which no business time passed, keeps its due times.
///
/// # Errors
/// [`Error::Validation`](crate::Error::Validation) when the calendar is invalid or a moved
/// due time does not fit into ten years of its business hours.
pub fn resume(
    calendar: &BusinessCalendar,
    sla: &SlaState,
    resumed_at: Timestamp,
) -> Result<SlaState> {
    let mut next = sla.clone();
    next.paused_since = None;
    let Some(paused_since) = sla.paused_since else {
        return Ok(next);
    };
    let calendar = ResolvedCalendar::new(calendar)?;
    let paused = business_time::between(&calendar, paused_since, resumed_at)?;
    if paused.is_zero() {
        return Ok(next);
    }
    let shift = |due: Option<Timestamp>| -> Result<Option<Timestamp>> {
        due.map(|due| business_time::add(&calendar, due, paused).map(to_millis))
            .transpose()
    };
    next.first_response_due = shift(sla.first_response_due)?;
    next.resolution_due = shift(sla.resolution_due)?;
    Ok(next)
}

/// The due times as they stand at `at`: for a paused state, each due time moved out by the
/// business time paused so far (what [`resume`] would give if the pause ended at `at`);
/// otherwise `sla` itself. `paused_since` and the breach flags are kept. Every lateness
/// judgement while the clock is paused uses this, so paused time never counts against the
/// team.
///
/// # Errors
/// As [`resume`].
pub fn due_at(calendar: &BusinessCalendar, sla: &SlaState, at: Timestamp) -> Result<SlaState> {
    if sla.paused_since.is_none() {
        return Ok(sla.clone());
    }
    let mut due = resume(calendar, sla, at)?;
    due.paused_since = sla.paused_since;
    Ok(due)
}

/// Due times for a ticket whose priority changes from `from` to `to`: the new priority's
/// targets counted from `created_at`, moved out by all the business time the clock was
/// paused in earlier pauses (read off the current due times: the business time between
/// `created_at` and the current resolution due time, beyond the old target). A pause in
/// progress stays in progress (`paused_since` is kept and counted when it ends), and the
/// breach flags are kept.
///
/// When the old priority has no target there were no due times for a pause to move, so
/// nothing paused is carried over.
///
/// # Errors
/// As [`schedule`].
pub fn reschedule(
    policy: &SlaPolicy,
    calendar: &BusinessCalendar,
    sla: &SlaState,
    from: Priority,
    to: Priority,
    created_at: Timestamp,
) -> Result<SlaState> {
    let resolved = ResolvedCalendar::new(calendar)?;
    let paused_before = match (policy.target(from), sla.resolution_due) {
        (Some(old), Some(due)) => {
            let elapsed = business_time::between(&resolved, created_at, due)?;
            let target = SignedDuration::from_mins(i64::from(old.resolution_minutes));
            elapsed
                .checked_sub(target)
                .filter(|p| p.is_positive())
                .unwrap_or(SignedDuration::ZERO)
        }
        _ => SignedDuration::ZERO,
    };
    let mut next = schedule(policy, calendar, to, created_at)?;
    if !paused_before.is_zero() {
        let shift = |due: Option<Timestamp>| -> Result<Option<Timestamp>> {
            due.map(|due| business_time::add(&resolved, due, paused_before).map(to_millis))
                .transpose()
        };
        next.first_response_due = shift(next.first_response_due)?;
        next.resolution_due = shift(next.resolution_due)?;
    }
    next.first_response_breached = sla.first_response_breached;
    next.resolution_breached = sla.resolution_breached;
    next.paused_since = sla.paused_since;
    Ok(next)
}

/// Checks a calendar: the timezone is a known IANA name, every `weekly_hours` entry has a
/// weekday in `1..=7` (listed once), `open_minute < close_minute <= 1440`, and at least one
/// weekday has hours.
///
/// # Errors
/// [`Error::Validation`](crate::Error::Validation) naming the field:
/// `calendar.timezone`, `calendar.weekly_hours[i]` (the first bad or repeated entry) or
/// `calendar.weekly_hours` (no hours at all).
pub fn validate_calendar(calendar: &BusinessCalendar) -> Result<()> {
    ResolvedCalendar::new(calendar).map(|_| ())
}

/// `start` plus `amount` of business time on `calendar`, exact to the nanosecond.
///
/// With `amount` zero the result is `start` when it is inside opening hours, otherwise the
/// next opening instant. With `amount` positive the result lies in `(open, close]` of some
/// day's window (it is a closing time when the time runs out exactly there).
///
/// # Errors
/// [`Error::Validation`](crate::Error::Validation) for an invalid calendar, a negative
/// `amount` (field `amount`), an amount that does not fit into the ten years after
/// `start` (field `amount`), or instants beyond jiff's supported range.
pub fn add_business_time(
    calendar: &BusinessCalendar,
    start: Timestamp,
    amount: SignedDuration,
) -> Result<Timestamp> {
    business_time::add(&ResolvedCalendar::new(calendar)?, start, amount)
}

/// Business time on `calendar` in `[from, to)`; zero when `to <= from`. Additive:
/// `between(a, c) == between(a, b) + between(b, c)` for `a <= b <= c`, and
/// `between(s, add_business_time(s, d)) == d`.
///
/// # Errors
/// [`Error::Validation`](crate::Error::Validation) for an invalid calendar or instants
/// beyond jiff's supported range.
pub fn business_time_between(
    calendar: &BusinessCalendar,
    from: Timestamp,
    to: Timestamp,
) -> Result<SignedDuration> {
    business_time::between(&ResolvedCalendar::new(calendar)?, from, to)
}

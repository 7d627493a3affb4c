//! Adding and measuring business time on a [`ResolvedCalendar`].
//!
//! Both walks visit local days in order with a cursor `t` (the instant up to which time has
//! been counted) and clip each day's window to start no earlier than `t`, so a window can
//! never be counted twice. When a large stretch is left they jump over whole civil weeks
//! that contain no holiday and no UTC offset change: such a week holds exactly the
//! calendar's nominal weekly hours, so the jump gives the same answer as the day walk.

use jiff::{SignedDuration, Timestamp};

use super::calendar::{ResolvedCalendar, add_weeks, out_of_range, wall_weeks};
use crate::{Error, Result};

/// How far past the start (in local days) [`add`] looks for enough business time before
/// giving up: about ten years.
pub(super) const HORIZON_DAYS: i64 = 3660;

/// `start` plus `amount` of business time. See [`crate::sla::add_business_time`].
pub(super) fn add(
    calendar: &ResolvedCalendar,
    start: Timestamp,
    amount: SignedDuration,
) -> Result<Timestamp> {
    if amount.is_negative() {
        return Err(Error::validation("amount", "must not be negative"));
    }
    let week = calendar.nominal_week();
    let start_date = calendar.local_date(start);
    let horizon = start_date
        .checked_add(jiff::Span::new().days(HORIZON_DAYS))
        .map_err(|_| out_of_range("start"))?;
    // Start a day early: a window of the previous local date may still be open at `start`.
    let mut date = start_date.yesterday().map_err(|_| out_of_range("start"))?;
    let mut t = start;
    let mut remaining = amount;
    while date <= horizon {
        if remaining > week {
            let midnight = calendar.midnight(date)?;
            if t <= midnight {
                // Keep some time for the day walk, so the result is inside a window.
                let max = (remaining.as_nanos() - 1) / week.as_nanos();
                let weeks =
                    calendar.skippable_weeks(date, midnight, i64::try_from(max).unwrap_or(0));
                if let (true, Some(wall), Some(business)) = (
                    weeks > 0,
                    wall_weeks(weeks),
                    i32::try_from(weeks).ok().and_then(|k| week.checked_mul(k)),
                ) {
                    t = midnight
                        .checked_add(wall)
                        .map_err(|_| out_of_range("amount"))?;
                    remaining -= business;
                    date = add_weeks(date, weeks, "amount")?;
                    continue;
                }
            }
        }
        if let Some(window) = calendar.window(date)? {
            let from = window.open.max(t);
            if from < window.close {
                if remaining.is_zero() {
                    return Ok(from);
                }
                let available = window.close.duration_since(from);
                if remaining <= available {
                    return from
                        .checked_add(remaining)
                        .map_err(|_| out_of_range("amount"));
                }
                remaining -= available;
                t = window.close;
            }
        }
        date = date.tomorrow().map_err(|_| out_of_range("amount"))?;
    }
    Err(Error::validation(
        "amount",
        format!(
            "needs more business time than the calendar has in the {HORIZON_DAYS} days after \
             the start (check its hours and holidays)"
        ),
    ))
}

/// Business time in `[from, to)`. See [`crate::sla::business_time_between`].
pub(super) fn between(
    calendar: &ResolvedCalendar,
    from: Timestamp,
    to: Timestamp,
) -> Result<SignedDuration> {
    if to <= from {
        return Ok(SignedDuration::ZERO);
    }
    let week = calendar.nominal_week();
    let mut date = calendar
        .local_date(from)
        .yesterday()
        .map_err(|_| out_of_range("from"))?;
    // Windows of later dates open after `to`; one day of margin for DST oddities.
    let last = calendar
        .local_date(to)
        .tomorrow()
        .map_err(|_| out_of_range("to"))?;
    let mut t = from;
    let mut total = SignedDuration::ZERO;
    while date <= last {
        let midnight = calendar.midnight(date)?;
        if t <= midnight && midnight < to {
            let max = to.duration_since(midnight).as_nanos() / wall_week_nanos();
            let weeks = calendar.skippable_weeks(date, midnight, i64::try_from(max).unwrap_or(0));
            if let (true, Some(wall), Some(business)) = (
                weeks > 0,
                wall_weeks(weeks),
                i32::try_from(weeks).ok().and_then(|k| week.checked_mul(k)),
            ) {
                t = midnight.checked_add(wall).map_err(|_| out_of_range("to"))?;
                total = total.saturating_add(business);
                date = add_weeks(date, weeks, "to")?;
                continue;
            }
        }
        if let Some(window) = calendar.window(date)? {
            let start = window.open.max(t);
            let end = window.close.min(to);
            if start < end {
                total = total.saturating_add(end.duration_since(start));
                t = end;
            }
        }
        date = date.tomorrow().map_err(|_| out_of_range("to"))?;
    }
    Ok(total)
}

fn wall_week_nanos() -> i128 {
    wall_weeks(1).map_or(i128::MAX, |w| w.as_nanos())
}

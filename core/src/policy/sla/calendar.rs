//! A validated [`BusinessCalendar`] resolved for arithmetic: the timezone looked up once,
//! hours indexed by weekday, holidays sorted, and each local day's opening window turned
//! into a pair of instants.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::domain::BusinessCalendar;
use crate::{Error, Result};

/// Minutes in a civil day: the largest allowed `close_minute`.
const MINUTES_PER_DAY: u16 = 24 * 60;

/// One civil week of wall-clock time, the unit of [`ResolvedCalendar::skippable_weeks`].
const WALL_WEEK: SignedDuration = SignedDuration::from_hours(7 * 24);

/// Longest timezone name echoed back in a validation message.
const MAX_ECHOED_NAME: usize = 64;

/// A calendar checked by [`ResolvedCalendar::new`] and ready for business-time arithmetic.
#[derive(Debug, Clone)]
pub(super) struct ResolvedCalendar {
    tz: TimeZone,
    /// Opening `(open_minute, close_minute)` per ISO weekday, index 0 = Monday.
    hours: [Option<(u16, u16)>; 7],
    /// Holidays, sorted and deduplicated.
    holidays: Vec<Date>,
    /// Business time of a civil week without holidays or offset changes (always > 0).
    nominal_week: SignedDuration,
}

/// The instants a local day is open: `open < close`, the clock runs in `[open, close)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Window {
    pub(super) open: Timestamp,
    pub(super) close: Timestamp,
}

impl ResolvedCalendar {
    /// Validates `calendar` and resolves its timezone. Errors are [`Error::Validation`]
    /// naming the offending field (`calendar.timezone`, `calendar.weekly_hours[2]`,
    /// `calendar.weekly_hours`).
    pub(super) fn new(calendar: &BusinessCalendar) -> Result<Self> {
        let tz = TimeZone::get(&calendar.timezone).map_err(|_| {
            Error::validation(
                "calendar.timezone",
                format!("unknown IANA timezone {:?}", echo(&calendar.timezone)),
            )
        })?;
        let mut hours: [Option<(u16, u16)>; 7] = [None; 7];
        for (i, day) in calendar.weekly_hours.iter().enumerate() {
            let field = || format!("calendar.weekly_hours[{i}]");
            if !(1..=7).contains(&day.weekday) {
                return Err(Error::validation(
                    field(),
                    format!(
                        "weekday must be 1 (Monday) to 7 (Sunday), got {}",
                        day.weekday
                    ),
                ));
            }
            if day.close_minute > MINUTES_PER_DAY {
                return Err(Error::validation(
                    field(),
                    format!(
                        "close_minute must be at most {MINUTES_PER_DAY}, got {}",
                        day.close_minute
                    ),
                ));
            }
            if day.open_minute >= day.close_minute {
                return Err(Error::validation(
                    field(),
                    format!(
                        "open_minute ({}) must be before close_minute ({})",
                        day.open_minute, day.close_minute
                    ),
                ));
            }
            let slot = &mut hours[usize::from(day.weekday - 1)];
            if slot.is_some() {
                return Err(Error::validation(
                    field(),
                    format!("weekday {} is listed more than once", day.weekday),
                ));
            }
            *slot = Some((day.open_minute, day.close_minute));
        }
        let nominal_week = hours
            .iter()
            .flatten()
            .map(|&(open, close)| SignedDuration::from_mins(i64::from(close - open)))
            .fold(SignedDuration::ZERO, |sum, d| sum.saturating_add(d));
        if !nominal_week.is_positive() {
            return Err(Error::validation(
                "calendar.weekly_hours",
                "the calendar has no opening hours on any weekday",
            ));
        }
        let mut holidays = calendar.holidays.clone();
        holidays.sort_unstable();
        holidays.dedup();
        Ok(Self {
            tz,
            hours,
            holidays,
            nominal_week,
        })
    }

    /// Business time of a civil week without holidays or offset changes.
    pub(super) fn nominal_week(&self) -> SignedDuration {
        self.nominal_week
    }

    /// The local date of an instant.
    pub(super) fn local_date(&self, t: Timestamp) -> Date {
        self.tz.to_datetime(t).date()
    }

    /// The instant a local date begins (local midnight, resolved like opening times).
    pub(super) fn midnight(&self, date: Date) -> Result<Timestamp> {
        self.resolve(date.to_datetime(Time::midnight()))
    }

    /// The opening window of a local date, or `None` when it is a holiday, a closed weekday,
    /// or its hours vanish in a DST gap.
    pub(super) fn window(&self, date: Date) -> Result<Option<Window>> {
        let weekday = usize::from(date.weekday().to_monday_zero_offset().unsigned_abs());
        let Some((open_minute, close_minute)) = self.hours.get(weekday).copied().flatten() else {
            return Ok(None);
        };
        if self.holidays.binary_search(&date).is_ok() {
            return Ok(None);
        }
        let open = self.resolve(civil(date, open_minute)?)?;
        let close = self.resolve(civil(date, close_minute)?)?;
        Ok((open < close).then_some(Window { open, close }))
    }

    /// Resolves a local civil time to an instant: a time that does not exist (DST gap)
    /// resolves to the first instant after the gap (the moment the clocks jump, as
    /// `Zoned::start_of_day` does for a missing midnight); an ambiguous time (DST fold)
    /// resolves to its earlier instant.
    pub(super) fn resolve(&self, dt: DateTime) -> Result<Timestamp> {
        let ambiguous = self.tz.to_ambiguous_timestamp(dt);
        match ambiguous.offset() {
            AmbiguousOffset::Gap { .. } => {
                // `earlier` is before the transition and `later` at or after it.
                let before_gap = ambiguous.earlier().map_err(|_| out_of_range("date"))?;
                let after_gap = ambiguous.later().map_err(|_| out_of_range("date"))?;
                let jump = self
                    .tz
                    .following(before_gap)
                    .next()
                    .map_or(after_gap, |tr| tr.timestamp());
                Ok(jump.min(after_gap))
            }
            AmbiguousOffset::Unambiguous { .. } | AmbiguousOffset::Fold { .. } => {
                ambiguous.earlier().map_err(|_| out_of_range("date"))
            }
        }
    }

    /// How many whole civil weeks, at most `max_weeks`, starting at local date `date` whose
    /// midnight is the instant `midnight`, contain no holiday and no UTC offset change.
    /// Each such week holds exactly [`Self::nominal_week`] of business time, and the local
    /// midnight `7 * k` days later is exactly `k` wall-clock weeks after `midnight`.
    pub(super) fn skippable_weeks(&self, date: Date, midnight: Timestamp, max_weeks: i64) -> i64 {
        let mut weeks = max_weeks.min(i64::from(i32::MAX));
        if weeks <= 0 {
            return 0;
        }
        let next_holiday = self.holidays.partition_point(|h| *h < date);
        if let Some(holiday) = self.holidays.get(next_holiday) {
            weeks = weeks.min(holiday.duration_since(date).as_hours() / (7 * 24));
        }
        if weeks <= 0 {
            return 0;
        }
        // A transition exactly at `midnight` also disqualifies (the day may start in a gap).
        let Ok(probe) = midnight.checked_sub(SignedDuration::from_nanos(1)) else {
            return 0;
        };
        if let Some(transition) = self.tz.following(probe).next() {
            let until = transition.timestamp().duration_since(midnight).as_nanos();
            // k weeks are clear when midnight + k weeks < transition.
            let clear = (until - 1).div_euclid(WALL_WEEK.as_nanos());
            weeks = weeks.min(i64::try_from(clear).unwrap_or(0));
        }
        weeks.max(0)
    }
}

/// `weeks` civil weeks of wall-clock time.
pub(super) fn wall_weeks(weeks: i64) -> Option<SignedDuration> {
    WALL_WEEK.checked_mul(i32::try_from(weeks).ok()?)
}

/// The date `weeks` civil weeks after `date`.
pub(super) fn add_weeks(date: Date, weeks: i64, field: &'static str) -> Result<Date> {
    date.checked_add(weeks.weeks())
        .map_err(|_| out_of_range(field))
}

/// The local civil time `minute` minutes after the start of `date` (1440 = next midnight).
fn civil(date: Date, minute: u16) -> Result<DateTime> {
    if minute >= MINUTES_PER_DAY {
        let next = date.tomorrow().map_err(|_| out_of_range("date"))?;
        return Ok(next.to_datetime(Time::midnight()));
    }
    let hour = i8::try_from(minute / 60).map_err(|_| out_of_range("date"))?;
    let min = i8::try_from(minute % 60).map_err(|_| out_of_range("date"))?;
    Time::new(hour, min, 0, 0)
        .map(|time| date.to_datetime(time))
        .map_err(|_| out_of_range("date"))
}

/// The error for an instant or date beyond what the calendar can compute (near the limits
/// of `jiff`'s supported range, years -9999 and 9999).
pub(super) fn out_of_range(field: &'static str) -> Error {
    Error::validation(field, "is outside the supported date range")
}

/// A user-supplied name shortened for an error message.
fn echo(name: &str) -> String {
    name.chars().take(MAX_ECHOED_NAME).collect()
}

//! Unit tests of the SLA business-time arithmetic: validation, DST resolution of opening
//! times, and the week jumps checked against a plain day-by-day walk.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::business_time::{self, HORIZON_DAYS};
use super::calendar::{ResolvedCalendar, Window};
use super::{add_business_time, business_time_between, validate_calendar};
use crate::Error;
use crate::domain::{BusinessCalendar, DayHours};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn hours(weekday: u8, open_minute: u16, close_minute: u16) -> DayHours {
    DayHours {
        weekday,
        open_minute,
        close_minute,
    }
}

fn every_day(tz: &str, open_minute: u16, close_minute: u16) -> BusinessCalendar {
    BusinessCalendar {
        timezone: tz.into(),
        weekly_hours: (1..=7)
            .map(|d| hours(d, open_minute, close_minute))
            .collect(),
        holidays: Vec::new(),
    }
}

fn field_of(result: crate::Result<()>) -> String {
    match result {
        Err(Error::Validation { field, .. }) => field.into_owned(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn sla_validate_accepts_the_builtin_calendars() {
    validate_calendar(&BusinessCalendar::default()).unwrap();
    validate_calendar(&BusinessCalendar::always_open()).unwrap();
    validate_calendar(&BusinessCalendar::weekdays("Europe/Paris", 9, 17)).unwrap();
}

#[test]
fn sla_validate_names_the_bad_field() {
    let mut cal = BusinessCalendar::weekdays("Mars/Olympus_Mons", 9, 17);
    assert_eq!(field_of(validate_calendar(&cal)), "calendar.timezone");
    cal.timezone = String::new();
    assert_eq!(field_of(validate_calendar(&cal)), "calendar.timezone");

    let base = BusinessCalendar::weekdays("Europe/Paris", 9, 17);
    let with_entry = |i: usize, entry: DayHours| {
        let mut cal = base.clone();
        cal.weekly_hours[i] = entry;
        cal
    };
    let cases = [
        (2, hours(0, 540, 1020)), // weekday below 1
        (2, hours(8, 540, 1020)), // weekday above 7
        (2, hours(3, 1020, 540)), // open after close
        (2, hours(3, 600, 600)),  // open == close
        (2, hours(3, 540, 1441)), // close past midnight
        (4, hours(1, 540, 1020)), // Monday again
    ];
    for (i, entry) in cases {
        let err = validate_calendar(&with_entry(i, entry));
        assert_eq!(
            field_of(err),
            format!("calendar.weekly_hours[{i}]"),
            "{entry:?}"
        );
    }
    // close_minute 1440 (midnight) is allowed.
    validate_calendar(&with_entry(2, hours(3, 540, 1440))).unwrap();

    let mut closed = base.clone();
    closed.weekly_hours.clear();
    assert_eq!(
        field_of(validate_calendar(&closed)),
        "calendar.weekly_hours"
    );
}

#[test]
fn sla_functions_reject_invalid_calendars_and_negative_amounts() {
    let mut closed = BusinessCalendar::default();
    closed.weekly_hours.clear();
    let t = ts("2026-01-05T10:00:00Z");
    assert!(matches!(
        add_business_time(&closed, t, SignedDuration::ZERO),
        Err(Error::Validation { .. })
    ));
    assert!(matches!(
        business_time_between(&closed, t, t),
        Err(Error::Validation { .. })
    ));

    let cal = BusinessCalendar::default();
    match add_business_time(&cal, t, SignedDuration::from_secs(-1)) {
        Err(Error::Validation { field, .. }) => assert_eq!(field, "amount"),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn sla_add_gives_up_after_the_horizon() {
    // Open only on Mondays, and every Monday of the next eleven years is a holiday.
    let start = date(2026, 1, 5);
    let cal = BusinessCalendar {
        timezone: "UTC".into(),
        weekly_hours: vec![hours(1, 540, 1020)],
        holidays: (0..11 * 53)
            .map(|w| start.checked_add(jiff::Span::new().weeks(w)).unwrap())
            .collect(),
    };
    let begin = ts("2026-01-05T00:00:00Z");
    match add_business_time(&cal, begin, SignedDuration::from_mins(1)) {
        Err(Error::Validation { field, message }) => {
            assert_eq!(field, "amount");
            assert!(message.contains(&HORIZON_DAYS.to_string()), "{message}");
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    // A plain amount that needs more than ten years of business time also stops.
    let big = SignedDuration::from_hours(24 * 366 * 11);
    assert!(add_business_time(&BusinessCalendar::always_open(), begin, big).is_err());
    // The range ends well: nine years is fine on an always-open calendar.
    let nine_years = SignedDuration::from_hours(24 * 365 * 9);
    assert_eq!(
        add_business_time(&BusinessCalendar::always_open(), begin, nine_years).unwrap(),
        begin.checked_add(nine_years).unwrap()
    );
}

#[test]
fn sla_extreme_instants_error_instead_of_panicking() {
    let cal = BusinessCalendar::default();
    let max = Timestamp::MAX;
    let min = Timestamp::MIN;
    assert!(add_business_time(&cal, max, SignedDuration::from_hours(1)).is_err());
    assert!(add_business_time(&cal, min, SignedDuration::from_hours(1)).is_err());
    assert!(business_time_between(&cal, min, max).is_err());
}

#[test]
fn sla_gap_times_resolve_to_the_jump_and_fold_times_to_the_earlier_instant() {
    let paris = ResolvedCalendar::new(&every_day("Europe/Paris", 0, 1440)).unwrap();
    // 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z).
    let spring = date(2026, 3, 29);
    assert_eq!(
        paris.resolve(spring.at(2, 30, 0, 0)).unwrap(),
        ts("2026-03-29T01:00:00Z")
    );
    assert_eq!(
        paris.resolve(spring.at(2, 0, 0, 0)).unwrap(),
        ts("2026-03-29T01:00:00Z")
    );
    assert_eq!(
        paris.resolve(spring.at(3, 0, 0, 0)).unwrap(),
        ts("2026-03-29T01:00:00Z")
    );
    assert_eq!(
        paris.resolve(spring.at(1, 59, 0, 0)).unwrap(),
        ts("2026-03-29T00:59:00Z")
    );
    // 2026-10-25: 03:00 CEST falls back to 02:00 CET (01:00Z); 02:30 happens twice.
    let autumn = date(2026, 10, 25);
    assert_eq!(
        paris.resolve(autumn.at(2, 30, 0, 0)).unwrap(),
        ts("2026-10-25T00:30:00Z")
    );
    assert_eq!(
        paris.resolve(autumn.at(3, 0, 0, 0)).unwrap(),
        ts("2026-10-25T02:00:00Z")
    );
}

#[test]
fn sla_windows_on_dst_days() {
    let window =
        |cal: &BusinessCalendar, d: Date| ResolvedCalendar::new(cal).unwrap().window(d).unwrap();
    let w = |open: &str, close: &str| {
        Some(Window {
            open: ts(open),
            close: ts(close),
        })
    };
    let cal = every_day("Europe/Paris", 150, 360); // 02:30-06:00
    assert_eq!(
        window(&cal, date(2026, 3, 29)),
        w("2026-03-29T01:00:00Z", "2026-03-29T04:00:00Z")
    );
    assert_eq!(
        window(&cal, date(2026, 10, 25)),
        w("2026-10-25T00:30:00Z", "2026-10-25T05:00:00Z")
    );
    assert_eq!(
        window(&cal, date(2026, 10, 26)),
        w("2026-10-26T01:30:00Z", "2026-10-26T05:00:00Z")
    );
    // Hours that lie entirely in the gap leave the day closed.
    let in_gap = every_day("Europe/Paris", 130, 170); // 02:10-02:50
    assert_eq!(window(&in_gap, date(2026, 3, 29)), None);
    assert!(window(&in_gap, date(2026, 3, 30)).is_some());
    // Close at 1440 is the next local midnight.
    let late = every_day("America/New_York", 1200, 1440);
    assert_eq!(
        window(&late, date(2026, 1, 9)),
        w("2026-01-10T01:00:00Z", "2026-01-10T05:00:00Z")
    );
}

#[test]
fn sla_weeks_are_not_skipped_over_holidays_or_offset_changes() {
    let mut cal = every_day("Europe/Paris", 540, 1020);
    cal.holidays = vec![date(2026, 1, 20)];
    let cal = ResolvedCalendar::new(&cal).unwrap();
    let monday = date(2026, 1, 5);
    let midnight = cal.midnight(monday).unwrap();
    // Holiday on day 15 after the start: two clear weeks.
    assert_eq!(cal.skippable_weeks(monday, midnight, 100), 2);
    assert_eq!(cal.skippable_weeks(monday, midnight, 1), 1);
    assert_eq!(cal.skippable_weeks(monday, midnight, 0), 0);
    // After the holiday, the next offset change is 2026-03-29 01:00Z.
    let after = date(2026, 1, 21);
    let m = cal.midnight(after).unwrap();
    let weeks = cal.skippable_weeks(after, m, 100);
    assert_eq!(weeks, 9); // 2026-01-21 + 9 weeks = 2026-03-25, + 10 weeks = 2026-04-01
    // A UTC calendar has no offset changes.
    let utc = ResolvedCalendar::new(&BusinessCalendar::default()).unwrap();
    assert_eq!(
        utc.skippable_weeks(monday, utc.midnight(monday).unwrap(), 5000),
        5000
    );
}

/// Business time in `[from, to)` summed day by day, without week jumps.
fn day_walk_between(cal: &ResolvedCalendar, from: Timestamp, to: Timestamp) -> SignedDuration {
    let mut total = SignedDuration::ZERO;
    let mut d = cal.local_date(from).yesterday().unwrap();
    let last = cal.local_date(to).tomorrow().unwrap();
    let mut t = from;
    while d <= last {
        if let Some(w) = cal.window(d).unwrap() {
            let (s, e) = (w.open.max(t), w.close.min(to));
            if s < e {
                total += e.duration_since(s);
                t = e;
            }
        }
        d = d.tomorrow().unwrap();
    }
    total
}

const ZONES: &[&str] = &[
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Kolkata",
];

fn calendar_strategy() -> impl Strategy<Value = BusinessCalendar> {
    let day = (0u16..1440, 1u16..=1440).prop_map(|(a, b)| match a.cmp(&b) {
        std::cmp::Ordering::Less => (a, b),
        std::cmp::Ordering::Greater => (b, a),
        std::cmp::Ordering::Equal => (a, a + 1),
    });
    (
        proptest::sample::select(ZONES),
        proptest::collection::vec(proptest::option::of(day), 7),
        proptest::collection::vec(0i64..1500, 0..20),
    )
        .prop_filter_map("some open day", |(tz, days, holidays)| {
            let weekly_hours: Vec<DayHours> = days
                .iter()
                .enumerate()
                .filter_map(|(i, d)| d.map(|(open, close)| hours(i as u8 + 1, open, close)))
                .collect();
            (!weekly_hours.is_empty()).then(|| BusinessCalendar {
                timezone: tz.to_string(),
                weekly_hours,
                holidays: holidays
                    .iter()
                    .map(|&n| {
                        date(2025, 1, 1)
                            .checked_add(jiff::Span::new().days(n))
                            .unwrap()
                    })
                    .collect(),
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Jumping whole weeks gives the same answer as walking every day.
    #[test]
    fn sla_week_jumps_match_the_day_walk(
        cal in calendar_strategy(),
        from_s in 1_735_689_600i64..1_830_000_000,
        span_s in 0i64..200_000_000,
    ) {
        let resolved = ResolvedCalendar::new(&cal).unwrap();
        let from = Timestamp::from_second(from_s).unwrap();
        let to = Timestamp::from_second(from_s + span_s).unwrap();
        prop_assert_eq!(
            business_time::between(&resolved, from, to).unwrap(),
            day_walk_between(&resolved, from, to)
        );
    }
}

//! Properties and worked examples of the SLA business-time arithmetic
//! (`helpdesk_core::sla`). Test names carry `sla` so `cargo test ... sla` selects them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use helpdesk_core::domain::{BusinessCalendar, DayHours};
use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};

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

fn h(n: i64) -> SignedDuration {
    SignedDuration::from_hours(n)
}

fn m(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

mod sla_examples {
    use helpdesk_core::Error;
    use helpdesk_core::domain::{Priority, SlaPolicy, SlaState};
    use helpdesk_core::sla::{add_business_time, business_time_between, resume, schedule};

    use super::*;

    #[test]
    fn friday_evening_carries_over_to_monday() {
        let cal = BusinessCalendar::weekdays("UTC", 9, 17); // 2026-01-09 is a Friday
        let add = |start: &str, d| add_business_time(&cal, ts(start), d).unwrap();
        assert_eq!(
            add("2026-01-09T16:30:00Z", h(1)),
            ts("2026-01-12T09:30:00Z")
        );
        // Time that runs out exactly at closing ends at the closing time.
        assert_eq!(
            add("2026-01-09T09:00:00Z", h(8)),
            ts("2026-01-09T17:00:00Z")
        );
        // Zero from outside hours (or exactly at closing) is the next opening.
        assert_eq!(
            add("2026-01-09T18:00:00Z", h(0)),
            ts("2026-01-12T09:00:00Z")
        );
        assert_eq!(
            add("2026-01-09T17:00:00Z", h(0)),
            ts("2026-01-12T09:00:00Z")
        );
        assert_eq!(
            add("2026-01-10T12:00:00Z", m(1)),
            ts("2026-01-12T09:01:00Z")
        );
        // Zero from inside hours is the start itself.
        assert_eq!(
            add("2026-01-09T16:59:59Z", h(0)),
            ts("2026-01-09T16:59:59Z")
        );
        // One hour on Friday, then two whole weeks (week jumps) end at a Friday closing...
        assert_eq!(
            add("2026-01-09T16:00:00Z", h(81)),
            ts("2026-01-23T17:00:00Z")
        );
        // ...and one hour more carries over to Monday.
        assert_eq!(
            add("2026-01-09T16:00:00Z", h(82)),
            ts("2026-01-26T10:00:00Z")
        );
        let between = |a: &str, b: &str| business_time_between(&cal, ts(a), ts(b)).unwrap();
        assert_eq!(
            between("2026-01-09T16:30:00Z", "2026-01-12T09:30:00Z"),
            h(1)
        );
        assert_eq!(
            between("2026-01-10T00:00:00Z", "2026-01-11T23:59:59Z"),
            h(0)
        );
        assert_eq!(
            between("2026-01-12T09:30:00Z", "2026-01-09T16:30:00Z"),
            h(0)
        );
        assert_eq!(
            between("2026-01-05T00:00:00Z", "2026-01-12T00:00:00Z"),
            h(40)
        );
    }

    #[test]
    fn holidays_are_skipped() {
        let mut cal = BusinessCalendar::weekdays("Europe/Paris", 9, 17);
        cal.holidays = vec![date(2026, 5, 1)]; // a Friday
        // Thursday 16:00 CEST + 2 h: one hour on Thursday, the rest on Monday.
        let due = add_business_time(&cal, ts("2026-04-30T14:00:00Z"), h(2)).unwrap();
        assert_eq!(due, ts("2026-05-04T08:00:00Z")); // Monday 10:00 CEST
        assert_eq!(
            business_time_between(&cal, ts("2026-04-30T14:00:00Z"), due).unwrap(),
            h(2)
        );
        // Without the holiday it would be Friday.
        cal.holidays.clear();
        let due = add_business_time(&cal, ts("2026-04-30T14:00:00Z"), h(2)).unwrap();
        assert_eq!(due, ts("2026-05-01T08:00:00Z"));
    }

    #[test]
    fn paris_spring_forward_day_is_an_hour_shorter() {
        // Open every day 01:00-05:00; on Sunday 2026-03-29 02:00 CET jumps to 03:00 CEST.
        let cal = every_day("Europe/Paris", 60, 300);
        let sunday = ("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"); // local midnights
        let saturday = ("2026-03-27T23:00:00Z", "2026-03-28T23:00:00Z");
        let between = |(a, b): (&str, &str)| business_time_between(&cal, ts(a), ts(b)).unwrap();
        assert_eq!(between(sunday), h(3));
        assert_eq!(between(saturday), h(4));
        // Sunday 01:00 CET + 4 h: three hours on Sunday, one on Monday from 01:00 CEST.
        let add = |start: &str, d| add_business_time(&cal, ts(start), d).unwrap();
        assert_eq!(
            add("2026-03-29T00:00:00Z", h(4)),
            ts("2026-03-30T00:00:00Z")
        );
        // 01:30 CET + 2 h crosses the gap: 04:30 CEST.
        assert_eq!(
            add("2026-03-29T00:30:00Z", h(2)),
            ts("2026-03-29T02:30:00Z")
        );
        assert_eq!(
            add("2026-03-29T00:30:00Z", h(3)),
            ts("2026-03-29T23:30:00Z")
        );

        // Hours that open inside the gap open when the clocks jump (03:00 CEST).
        let sunday_only = BusinessCalendar {
            timezone: "Europe/Paris".into(),
            weekly_hours: vec![hours(7, 150, 360)], // 02:30-06:00
            holidays: Vec::new(),
        };
        let opening = add_business_time(&sunday_only, ts("2026-03-28T12:00:00Z"), h(0)).unwrap();
        assert_eq!(opening, ts("2026-03-29T01:00:00Z"));
        let day = business_time_between(&sunday_only, ts(sunday.0), ts(sunday.1)).unwrap();
        assert_eq!(day, h(3));
    }

    #[test]
    fn paris_fall_back_day_is_an_hour_longer() {
        // On Sunday 2026-10-25 03:00 CEST falls back to 02:00 CET.
        let cal = every_day("Europe/Paris", 60, 300);
        let sunday = (ts("2026-10-24T22:00:00Z"), ts("2026-10-25T23:00:00Z"));
        assert_eq!(
            business_time_between(&cal, sunday.0, sunday.1).unwrap(),
            h(5)
        );
        // Sunday 01:00 CEST + 4 h = 04:00 CET (wall clock says three hours later).
        let due = add_business_time(&cal, ts("2026-10-24T23:00:00Z"), h(4)).unwrap();
        assert_eq!(due, ts("2026-10-25T03:00:00Z"));
        let due = add_business_time(&cal, ts("2026-10-24T23:00:00Z"), h(6)).unwrap();
        assert_eq!(due, ts("2026-10-26T01:00:00Z")); // Monday 02:00 CET

        // An opening time in the repeated hour uses its first (CEST) occurrence.
        let sunday_only = BusinessCalendar {
            timezone: "Europe/Paris".into(),
            weekly_hours: vec![hours(7, 150, 360)], // 02:30-06:00
            holidays: Vec::new(),
        };
        let opening = add_business_time(&sunday_only, ts("2026-10-24T12:00:00Z"), h(0)).unwrap();
        assert_eq!(opening, ts("2026-10-25T00:30:00Z"));
        let day = business_time_between(&sunday_only, sunday.0, sunday.1).unwrap();
        assert_eq!(day, m(270));
    }

    #[test]
    fn new_york_business_week_across_dst() {
        let cal = BusinessCalendar::weekdays("America/New_York", 9, 17);
        let add = |start: &str, d| add_business_time(&cal, ts(start), d).unwrap();
        // Friday 16:00 EST + 2 h; DST starts Sunday 2026-03-08: Monday 10:00 EDT.
        assert_eq!(
            add("2026-03-06T21:00:00Z", h(2)),
            ts("2026-03-09T14:00:00Z")
        );
        // Friday 16:00 EDT + 2 h; DST ends Sunday 2026-11-01: Monday 10:00 EST.
        assert_eq!(
            add("2026-10-30T20:00:00Z", h(2)),
            ts("2026-11-02T15:00:00Z")
        );
        // A 40-hour week from Monday 09:00 EST ends Friday 17:00 EST.
        assert_eq!(
            add("2026-03-02T14:00:00Z", h(40)),
            ts("2026-03-06T22:00:00Z")
        );
        // 80 hours from then ends two weeks later at 17:00 EDT.
        assert_eq!(
            add("2026-03-02T14:00:00Z", h(120)),
            ts("2026-03-20T21:00:00Z")
        );
        let between =
            business_time_between(&cal, ts("2026-03-06T21:00:00Z"), ts("2026-03-09T14:00:00Z"));
        assert_eq!(between.unwrap(), h(2));
    }

    #[test]
    fn sla_schedule_uses_business_minutes() {
        let cal = BusinessCalendar::weekdays("UTC", 9, 17);
        let policy = SlaPolicy::default(); // Medium: 8 h first response, 40 h resolution
        let sla = schedule(&policy, &cal, Priority::Medium, ts("2026-01-09T15:00:00Z")).unwrap();
        assert_eq!(sla.first_response_due, Some(ts("2026-01-12T15:00:00Z")));
        assert_eq!(sla.resolution_due, Some(ts("2026-01-16T15:00:00Z")));
        assert!(!sla.first_response_breached && !sla.resolution_breached);
        assert_eq!(sla.paused_since, None);

        // A priority without a target has no due times.
        let none = SlaPolicy {
            targets: Vec::new(),
        };
        let sla = schedule(&none, &cal, Priority::Urgent, ts("2026-01-09T15:00:00Z")).unwrap();
        assert_eq!(sla, SlaState::default());

        // Due times are truncated to milliseconds.
        let start = ts("2026-01-01T00:00:00.123456789Z");
        let sla = schedule(
            &policy,
            &BusinessCalendar::always_open(),
            Priority::Urgent,
            start,
        )
        .unwrap();
        assert_eq!(sla.first_response_due, Some(ts("2026-01-01T01:00:00.123Z")));

        // An invalid calendar is refused.
        let bad = BusinessCalendar::weekdays("Nowhere/Special", 9, 17);
        assert!(matches!(
            schedule(&policy, &bad, Priority::Urgent, start),
            Err(Error::Validation { .. })
        ));
    }

    #[test]
    fn sla_resume_after_a_pause_over_the_weekend() {
        let cal = BusinessCalendar::weekdays("UTC", 9, 17);
        let policy = SlaPolicy::default(); // Urgent: 1 h first response, 4 h resolution
        let mut sla =
            schedule(&policy, &cal, Priority::Urgent, ts("2026-01-09T10:00:00Z")).unwrap();
        assert_eq!(sla.first_response_due, Some(ts("2026-01-09T11:00:00Z")));
        assert_eq!(sla.resolution_due, Some(ts("2026-01-09T14:00:00Z")));
        sla.paused_since = Some(ts("2026-01-09T10:30:00Z"));
        sla.resolution_breached = true; // flags are left alone
        // Paused Friday 10:30 to Monday 10:00: 6.5 h + 1 h of business time.
        let resumed = resume(&cal, &sla, ts("2026-01-12T10:00:00Z")).unwrap();
        assert_eq!(resumed.first_response_due, Some(ts("2026-01-12T10:30:00Z")));
        assert_eq!(resumed.resolution_due, Some(ts("2026-01-12T13:30:00Z")));
        assert_eq!(resumed.paused_since, None);
        assert!(resumed.resolution_breached && !resumed.first_response_breached);
        // The time left is what was left when the pause began.
        let left = |state: &SlaState, at: &str| {
            business_time_between(&cal, ts(at), state.first_response_due.unwrap()).unwrap()
        };
        assert_eq!(left(&sla, "2026-01-09T10:30:00Z"), m(30));
        assert_eq!(left(&resumed, "2026-01-12T10:00:00Z"), m(30));

        // A pause inside the weekend moves nothing.
        let mut weekend = sla.clone();
        weekend.paused_since = Some(ts("2026-01-10T08:00:00Z"));
        let resumed = resume(&cal, &weekend, ts("2026-01-11T20:00:00Z")).unwrap();
        assert_eq!(resumed.first_response_due, sla.first_response_due);
        assert_eq!(resumed.resolution_due, sla.resolution_due);
        assert_eq!(resumed.paused_since, None);

        // Not paused: unchanged.
        let mut running = sla.clone();
        running.paused_since = None;
        assert_eq!(
            resume(&cal, &running, ts("2026-01-12T10:00:00Z")).unwrap(),
            running
        );
    }
}

mod sla_props {
    use helpdesk_core::sla::{add_business_time, business_time_between};
    use jiff::tz::TimeZone;
    use proptest::prelude::*;

    use super::*;

    const ZONES: &[&str] = &[
        "UTC",
        "Europe/Paris",
        "America/New_York",
        "Australia/Lord_Howe", // 30-minute DST shift
        "America/Santiago",    // transitions at local midnight
        "Asia/Kolkata",
    ];

    /// A calendar with random hours (often touching DST hours), weekdays and holidays.
    fn calendar() -> impl Strategy<Value = BusinessCalendar> {
        let day = (0u16..1440, 1u16..=1440).prop_map(|(a, b)| match a.cmp(&b) {
            std::cmp::Ordering::Less => (a, b),
            std::cmp::Ordering::Greater => (b, a),
            std::cmp::Ordering::Equal => (a, a + 1),
        });
        (
            proptest::sample::select(ZONES),
            proptest::collection::vec(proptest::option::of(day), 7),
            proptest::collection::vec(0i64..3000, 0..30),
        )
            .prop_filter_map("at least one open weekday", |(tz, days, holidays)| {
                let weekly_hours: Vec<DayHours> = days
                    .iter()
                    .zip(1u8..)
                    .filter_map(|(d, weekday)| d.map(|(open, close)| hours(weekday, open, close)))
                    .collect();
                (!weekly_hours.is_empty()).then(|| BusinessCalendar {
                    timezone: tz.to_string(),
                    weekly_hours,
                    holidays: holidays
                        .iter()
                        .map(|&n| day_after(date(2025, 1, 1), n))
                        .collect(),
                })
            })
    }

    fn day_after(d: Date, n: i64) -> Date {
        d.checked_add(jiff::Span::new().days(n)).unwrap()
    }

    /// An instant in 2025..2031, at millisecond precision.
    fn instant() -> impl Strategy<Value = Timestamp> {
        (1_735_689_600_000i64..1_924_992_000_000)
            .prop_map(|ms| Timestamp::from_millisecond(ms).unwrap())
    }

    /// Up to about two years of a calendar's nominal weekly hours, mostly small.
    fn amount(cal: &BusinessCalendar) -> impl Strategy<Value = SignedDuration> + use<> {
        let week_ms: i64 = cal
            .weekly_hours
            .iter()
            .map(|d| i64::from(d.close_minute - d.open_minute) * 60_000)
            .sum();
        prop_oneof![Just(0), 0i64..=week_ms, 0i64..=week_ms * 100,]
            .prop_map(SignedDuration::from_millis)
    }

    fn calendar_start_amount()
    -> impl Strategy<Value = (BusinessCalendar, Timestamp, SignedDuration)> {
        calendar().prop_flat_map(|cal| {
            let amount = amount(&cal);
            (Just(cal), instant(), amount)
        })
    }

    const NS: SignedDuration = SignedDuration::from_nanos(1);

    /// Whether the clock runs in `[t, t + 1 ns)`.
    fn runs_at(cal: &BusinessCalendar, t: Timestamp) -> bool {
        business_time_between(cal, t, t.checked_add(NS).unwrap()).unwrap() == NS
    }

    /// Checks from the civil side that `x` is inside the calendar's hours: its local date is
    /// not a holiday and its weekday is open at that local time. Instants within three hours
    /// of an offset change are skipped (there a window's local times may shift or repeat).
    fn civil_inside(cal: &BusinessCalendar, x: Timestamp) -> Result<(), TestCaseError> {
        let tz = TimeZone::get(&cal.timezone).unwrap();
        let near = |d| x.checked_add(SignedDuration::from_hours(d)).unwrap();
        if tz.to_offset(near(-3)) != tz.to_offset(near(3)) {
            return Ok(());
        }
        let local = tz.to_datetime(x);
        prop_assert!(!cal.holidays.contains(&local.date()), "{x} is on a holiday");
        let weekday = local.date().weekday().to_monday_one_offset();
        let day = cal
            .weekly_hours
            .iter()
            .find(|d| i8::try_from(d.weekday).unwrap() == weekday);
        let Some(day) = day else {
            return Err(TestCaseError::fail(format!("{x} is on a closed weekday")));
        };
        let since_midnight = local.time().duration_since(jiff::civil::Time::midnight());
        prop_assert!(
            since_midnight >= m(i64::from(day.open_minute)),
            "{x} before opening"
        );
        prop_assert!(
            since_midnight < m(i64::from(day.close_minute)),
            "{x} after closing"
        );
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// between(s', add(s', d)) == d, with s' = add(s, 0) the normalised start; no business
        /// time passes between s and s'.
        #[test]
        fn sla_add_then_between_round_trips((cal, start, d) in calendar_start_amount()) {
            let normalised = add_business_time(&cal, start, SignedDuration::ZERO).unwrap();
            prop_assert!(normalised >= start);
            prop_assert_eq!(business_time_between(&cal, start, normalised).unwrap(), SignedDuration::ZERO);
            let end = add_business_time(&cal, normalised, d).unwrap();
            prop_assert_eq!(business_time_between(&cal, normalised, end).unwrap(), d);
            prop_assert_eq!(add_business_time(&cal, start, d).unwrap(), end);
            prop_assert_eq!(business_time_between(&cal, start, end).unwrap(), d);
        }

        /// More business time never gives an earlier instant, and strictly more gives a
        /// strictly later one.
        #[test]
        fn sla_add_is_monotonic_in_the_amount(
            (cal, start, a) in calendar_start_amount(),
            extra_ms in 0i64..40 * 3_600_000,
        ) {
            // At most one nominal week more, so the amount stays within what the calendar
            // offers in the 10-year bound even when it is open a minute a week.
            let week_ms: i64 = cal
                .weekly_hours
                .iter()
                .map(|d| i64::from(d.close_minute - d.open_minute) * 60_000)
                .sum();
            let extra_ms = extra_ms % (week_ms + 1);
            let b = a + SignedDuration::from_millis(extra_ms);
            let ra = add_business_time(&cal, start, a).unwrap();
            let rb = add_business_time(&cal, start, b).unwrap();
            prop_assert!(ra <= rb);
            if extra_ms > 0 {
                prop_assert!(ra < rb);
            }
        }

        /// A positive amount ends just after business time (in `(open, close]`); zero ends
        /// at `start` when open there, otherwise at an opening instant.
        #[test]
        fn sla_add_lands_inside_opening_hours((cal, start, d) in calendar_start_amount()) {
            let end = add_business_time(&cal, start, d).unwrap();
            if d.is_zero() {
                prop_assert!(runs_at(&cal, end), "zero-add result {end} is outside hours");
                if runs_at(&cal, start) {
                    prop_assert_eq!(end, start);
                } else {
                    prop_assert!(!runs_at(&cal, end.checked_sub(NS).unwrap()), "{end} is no opening");
                }
                civil_inside(&cal, end)?;
            } else {
                let just_before = end.checked_sub(NS).unwrap();
                prop_assert!(runs_at(&cal, just_before), "{end} is not right after business time");
                civil_inside(&cal, just_before)?;
            }
        }

        /// between(a, c) == between(a, b) + between(b, c) for a <= b <= c.
        #[test]
        fn sla_between_is_additive(cal in calendar(), mut points in proptest::collection::vec(instant(), 3)) {
            points.sort();
            let (a, b, c) = (points[0], points[1], points[2]);
            let between = |x, y| business_time_between(&cal, x, y).unwrap();
            prop_assert_eq!(between(a, c), between(a, b) + between(b, c));
            prop_assert!(between(a, c) <= c.duration_since(a));
            prop_assert_eq!(between(c, a), SignedDuration::ZERO);
        }

        /// A calendar open all day every day measures wall-clock time, in any timezone
        /// (its days tile the timeline, DST days included).
        #[test]
        fn sla_always_open_is_wall_clock(
            tz in proptest::sample::select(ZONES),
            start in instant(),
            d_ms in 0i64..3 * 365 * 86_400_000,
            other in instant(),
        ) {
            let d = SignedDuration::from_millis(d_ms);
            let cal = every_day(tz, 0, 1440);
            prop_assert_eq!(add_business_time(&cal, start, d).unwrap(), start.checked_add(d).unwrap());
            let (a, b) = if start <= other { (start, other) } else { (other, start) };
            prop_assert_eq!(business_time_between(&cal, a, b).unwrap(), b.duration_since(a));
            let utc = BusinessCalendar::always_open();
            prop_assert_eq!(add_business_time(&utc, start, d).unwrap(), start.checked_add(d).unwrap());
        }
    }
}

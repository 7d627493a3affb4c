//! Where a reader of the tenant event feed stands ([`FeedCursor`]), as a short opaque
//! string for the SSE `id:` field and `Last-Event-ID`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

use crate::domain::Event;
use crate::{Error, EventId, Result};

/// The most recently processed events a cursor remembers by id (see [`FeedCursor`]).
pub const FEED_CURSOR_MAX_IDS: usize = 32;

/// The longest cursor text [`FeedCursor::decode`] reads (well above the longest it
/// writes).
const MAX_TEXT: usize = 4096;

/// Where a reader of the event feed ([`Helpdesk::event_feed`](crate::Helpdesk::event_feed))
/// stands: everything before it has been delivered (or deliberately left out).
///
/// Instances on one store stamp events with their own clocks and commit them a moment
/// after stamping, so an event may land *after* a reader has passed its time. The feed
/// therefore re-reads a look-back window before the cursor's time
/// ([`HelpdeskConfig::feed_lookback`](crate::service::HelpdeskConfig::feed_lookback)),
/// and the cursor remembers which events of that window it has already processed (up to
/// [`FEED_CURSOR_MAX_IDS`], the newest): those are skipped, a late one is delivered. When
/// more events than that fall in the window, the oldest are summarised by a floor (every
/// event at or before it counts as processed), so a cursor stays short; a late event
/// older than the floor, or older than the window, is not delivered. Delivery is at
/// least once across cursors that were not passed on (a client that reconnects with an
/// older cursor gets the events after it again); clients dedupe by event id.
///
/// The text form ([`encode`](Self::encode), also `Display`/`FromStr`) uses only URL-safe
/// characters and carries no secret; it is not meant to be built or read by clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedCursor {
    /// The time of the newest processed event (or where reading starts).
    at: Timestamp,
    /// Every event at or before this (time, id) counts as processed.
    floor: Option<(Timestamp, EventId)>,
    /// Processed events of the look-back window, by (time, id), oldest first.
    seen: Vec<(Timestamp, EventId)>,
}

impl FeedCursor {
    /// A cursor from the start of the tenant's history: the first page has its oldest
    /// events.
    pub fn beginning() -> Self {
        Self {
            at: Timestamp::UNIX_EPOCH,
            floor: None,
            seen: Vec::new(),
        }
    }

    /// A cursor for events at or after `at` (a live stream starting now passes the
    /// current time).
    pub fn from_time(at: Timestamp) -> Self {
        let just_before = at.checked_sub(SignedDuration::from_millis(1)).unwrap_or(at);
        Self {
            at,
            floor: Some((just_before, EventId::from_uuid(Uuid::max()))),
            seen: Vec::new(),
        }
    }

    /// The time of the newest event processed (or where a new cursor starts).
    pub fn at(&self) -> Timestamp {
        self.at
    }

    /// Where the next read starts: the look-back window before the cursor's time (never
    /// before the epoch).
    pub(crate) fn read_from(&self, lookback: Duration) -> Timestamp {
        let lookback = SignedDuration::try_from(lookback).unwrap_or(SignedDuration::MAX);
        self.at
            .checked_sub(lookback)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .max(Timestamp::UNIX_EPOCH)
    }

    /// Whether `event` has been processed already.
    pub(crate) fn has_processed(&self, event: &Event) -> bool {
        self.floor
            .is_some_and(|floor| (event.at, event.id) <= floor)
            || self.seen.iter().any(|(_, id)| *id == event.id)
    }

    /// Records `event` as processed.
    pub(crate) fn mark(&mut self, event: &Event) {
        self.at = self.at.max(event.at);
        self.seen.push((event.at, event.id));
    }

    /// Forgets what the next read cannot see again (before the look-back window) and folds
    /// the oldest remembered events into the floor when there are too many.
    pub(crate) fn prune(&mut self, lookback: Duration) {
        let horizon = self.read_from(lookback);
        self.seen.retain(|(at, _)| *at >= horizon);
        self.seen.sort();
        self.seen.dedup();
        if self.seen.len() > FEED_CURSOR_MAX_IDS {
            let evicted: Vec<_> = self
                .seen
                .drain(..self.seen.len() - FEED_CURSOR_MAX_IDS)
                .collect();
            if let Some(newest) = evicted.last().copied() {
                self.floor = Some(self.floor.map_or(newest, |floor| floor.max(newest)));
            }
        }
        if self.floor.is_some_and(|(at, _)| at < horizon) {
            self.floor = None;
        }
    }

    /// The opaque text form.
    pub fn encode(&self) -> String {
        use std::fmt::Write;
        let mut text = format!("f{}", self.at.as_millisecond());
        if let Some((at, id)) = self.floor {
            let _ = write!(text, "~{}_{}", at.as_millisecond(), id.as_uuid().simple());
        }
        for (at, id) in &self.seen {
            let delta = self.at.as_millisecond() - at.as_millisecond();
            let _ = write!(text, ".{delta}_{}", id.as_uuid().simple());
        }
        text
    }

    /// Reads a cursor written by [`encode`](Self::encode); anything else is a `Validation`
    /// error on `cursor`.
    pub fn decode(text: &str) -> Result<Self> {
        let bad = || Error::validation("cursor", "not an event feed cursor");
        if text.len() > MAX_TEXT || !text.is_ascii() {
            return Err(bad());
        }
        let rest = text.strip_prefix('f').ok_or_else(bad)?;
        let mut parts = rest.split('.');
        let head = parts.next().ok_or_else(bad)?;
        let (at, floor) = match head.split_once('~') {
            Some((at, floor)) => {
                let (floor_at, floor_id) = floor.split_once('_').ok_or_else(bad)?;
                (at, Some((millis(floor_at)?, event_id(floor_id)?)))
            }
            None => (head, None),
        };
        let at = millis(at)?;
        let mut seen = Vec::new();
        for part in parts {
            if seen.len() == FEED_CURSOR_MAX_IDS {
                return Err(bad());
            }
            let (delta, id) = part.split_once('_').ok_or_else(bad)?;
            let delta: i64 = delta.parse().map_err(|_| bad())?;
            if delta < 0 {
                return Err(bad());
            }
            let when = at
                .checked_sub(SignedDuration::from_millis(delta))
                .map_err(|_| bad())?;
            seen.push((when, event_id(id)?));
        }
        Ok(Self { at, floor, seen })
    }
}

fn millis(text: &str) -> Result<Timestamp> {
    let bad = || Error::validation("cursor", "not an event feed cursor");
    let ms: i64 = text.parse().map_err(|_| bad())?;
    Timestamp::from_millisecond(ms).map_err(|_| bad())
}

fn event_id(text: &str) -> Result<EventId> {
    // Only the 32-digit form `encode` writes.
    if text.len() != 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::validation("cursor", "not an event feed cursor"));
    }
    Uuid::try_parse(text)
        .map(EventId::from_uuid)
        .map_err(|_| Error::validation("cursor", "not an event feed cursor"))
}

impl fmt::Display for FeedCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl FromStr for FeedCursor {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::decode(s)
    }
}

//! Analytics for a date range, with one reference definition every backend matches.
//!
//! Backends compute these numbers in their own query language (SQL, aggregation
//! pipelines); [`Analytics::compute`] is the executable definition they are tested
//! against in the conformance suite.
//!
//! Definitions, for a half-open range `[from, to)`:
//! * "tickets in range": tickets whose `created_at` is in the range; merged duplicates
//!   (`merged_into` set) are excluded everywhere.
//! * `volume_per_day`: tickets in range per UTC date, days without tickets omitted, sorted.
//! * `by_status` / `by_priority` / `by_category`: tickets in range, sorted by key
//!   (category `None` is reported as `"uncategorized"`).
//! * `first_response` / `resolution`: over tickets in range with `first_response_at` /
//!   `resolved_at` set, the durations from `created_at` in milliseconds; `p50`/`p90` are
//!   nearest-rank percentiles (`sorted[ceil(p * n) - 1]`), `avg_ms` is `sum / n`.
//! * `sla_met_pct`: over tickets in range that have a first-response or resolution due
//!   time, the percentage with neither breach flag; `None` when there are none.
//! * `backlog`: open tickets (not Resolved/Closed) of the whole tenant at query time.
//! * `agents`: for every assignee of an open ticket or of a ticket resolved in range: open
//!   load now, tickets resolved in range (by `resolved_at`) and their average
//!   `resolved_at - created_at`; sorted by user id.
//! * `csat`: ratings whose time is in range: count and average score.
//! * `drafts`: AI drafts created in range by state; acceptance rate = (accepted + edited) /
//!   decided; edit rate = edited / (accepted + edited).
//! * `chat`: chat sessions created in range; handed off; resolved by the bot; deflection
//!   = resolved by bot / sessions created.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::UserId;
use crate::domain::{ChatSession, ChatState, DraftState, Message, MessageKind, Ticket};
use crate::store::TimeRange;

/// Count, average and percentiles of durations in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DurationStats {
    /// How many durations.
    pub count: u64,
    /// Mean, milliseconds.
    pub avg_ms: Option<f64>,
    /// Median (nearest rank), milliseconds.
    pub p50_ms: Option<i64>,
    /// 90th percentile (nearest rank), milliseconds.
    pub p90_ms: Option<i64>,
}

impl DurationStats {
    /// Stats of a list of durations (any order).
    pub fn from_durations(mut values: Vec<i64>) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        values.sort_unstable();
        let n = values.len();
        let sum: i128 = values.iter().map(|v| i128::from(*v)).sum();
        Self {
            count: n as u64,
            avg_ms: Some(sum as f64 / n as f64),
            p50_ms: Some(nearest_rank(&values, 50)),
            p90_ms: Some(nearest_rank(&values, 90)),
        }
    }
}

/// Nearest-rank percentile of sorted, non-empty values: `sorted[ceil(p/100 * n) - 1]`.
pub fn nearest_rank(sorted: &[i64], percent: u32) -> i64 {
    let n = sorted.len();
    let rank = (percent as usize * n).div_ceil(100).max(1);
    sorted.get(rank - 1).copied().unwrap_or_default()
}

/// One agent's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentStats {
    /// The agent.
    pub user_id: UserId,
    /// Open tickets assigned now.
    pub open_load: u64,
    /// Tickets resolved in range.
    pub resolved: u64,
    /// Mean handle time (created to resolved) of those, milliseconds.
    pub avg_handle_ms: Option<f64>,
}

/// Customer-satisfaction figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CsatStats {
    /// Ratings in range.
    pub count: u64,
    /// Their mean.
    pub average: Option<f64>,
}

/// AI draft figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DraftStats {
    /// Drafts created.
    pub proposed: u64,
    /// Sent as is.
    pub accepted: u64,
    /// Sent after editing.
    pub edited: u64,
    /// Discarded.
    pub discarded: u64,
}

impl DraftStats {
    /// (accepted + edited) / decided.
    pub fn acceptance_rate(&self) -> Option<f64> {
        let decided = self.accepted + self.edited + self.discarded;
        (decided > 0).then(|| (self.accepted + self.edited) as f64 / decided as f64)
    }

    /// edited / (accepted + edited).
    pub fn edit_rate(&self) -> Option<f64> {
        let sent = self.accepted + self.edited;
        (sent > 0).then(|| self.edited as f64 / sent as f64)
    }
}

/// Chatbot figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatStats {
    /// Sessions created.
    pub sessions: u64,
    /// Handed off to a human.
    pub handed_off: u64,
    /// Resolved by the bot.
    pub resolved_by_bot: u64,
}

impl ChatStats {
    /// Share of sessions the bot resolved without a human.
    pub fn deflection_rate(&self) -> Option<f64> {
        (self.sessions > 0).then(|| self.resolved_by_bot as f64 / self.sessions as f64)
    }
}

/// Analytics for one tenant and range. See the module docs for definitions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Analytics {
    /// Tickets in range.
    pub total: u64,
    /// Tickets created per UTC day.
    pub volume_per_day: Vec<(Date, u64)>,
    /// Counts by status string.
    pub by_status: Vec<(String, u64)>,
    /// Counts by priority string.
    pub by_priority: Vec<(String, u64)>,
    /// Counts by category.
    pub by_category: Vec<(String, u64)>,
    /// Time to first response.
    pub first_response: DurationStats,
    /// Time to resolution.
    pub resolution: DurationStats,
    /// SLA met percentage.
    pub sla_met_pct: Option<f64>,
    /// Open tickets now.
    pub backlog: u64,
    /// Per-agent figures.
    pub agents: Vec<AgentStats>,
    /// CSAT.
    pub csat: CsatStats,
    /// AI drafts.
    pub drafts: DraftStats,
    /// Chatbot.
    pub chat: ChatStats,
}

/// Uncategorised tickets are counted under this key.
pub const UNCATEGORIZED: &str = "uncategorized";

fn utc_date(t: Timestamp) -> Date {
    t.to_zoned(jiff::tz::TimeZone::UTC).date()
}

fn millis_between(a: Timestamp, b: Timestamp) -> i64 {
    b.as_millisecond() - a.as_millisecond()
}

impl Analytics {
    /// The reference computation over all of a tenant's tickets, its draft messages and its
    /// chat sessions.
    pub fn compute(
        tickets: &[Ticket],
        drafts: &[Message],
        chats: &[ChatSession],
        range: TimeRange,
        _now: Timestamp,
    ) -> Self {
        let live: Vec<&Ticket> = tickets.iter().filter(|t| t.merged_into.is_none()).collect();
        let in_range: Vec<&Ticket> = live
            .iter()
            .copied()
            .filter(|t| range.contains(t.created_at))
            .collect();

        let mut per_day: BTreeMap<Date, u64> = BTreeMap::new();
        let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_priority: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_category: BTreeMap<String, u64> = BTreeMap::new();
        let mut first_response = Vec::new();
        let mut resolution = Vec::new();
        let (mut with_sla, mut sla_met) = (0u64, 0u64);
        for t in &in_range {
            *per_day.entry(utc_date(t.created_at)).or_default() += 1;
            *by_status.entry(t.status.as_str().to_string()).or_default() += 1;
            *by_priority
                .entry(t.priority.as_str().to_string())
                .or_default() += 1;
            *by_category
                .entry(t.category.clone().unwrap_or_else(|| UNCATEGORIZED.into()))
                .or_default() += 1;
            if let Some(at) = t.first_response_at {
                first_response.push(millis_between(t.created_at, at));
            }
            if let Some(at) = t.resolved_at {
                resolution.push(millis_between(t.created_at, at));
            }
            if t.sla.first_response_due.is_some() || t.sla.resolution_due.is_some() {
                with_sla += 1;
                if !t.sla.first_response_breached && !t.sla.resolution_breached {
                    sla_met += 1;
                }
            }
        }

        let mut agents: BTreeMap<UserId, (u64, Vec<i64>)> = BTreeMap::new();
        for t in &live {
            let Some(assignee) = t.assignee else { continue };
            if t.status.is_open() {
                agents.entry(assignee).or_default().0 += 1;
            }
            if let Some(at) = t.resolved_at.filter(|at| range.contains(*at)) {
                agents
                    .entry(assignee)
                    .or_default()
                    .1
                    .push(millis_between(t.created_at, at));
            }
        }

        let ratings: Vec<u8> = live
            .iter()
            .filter_map(|t| t.csat.as_ref())
            .filter(|c| range.contains(c.at))
            .map(|c| c.score)
            .collect();

        let mut draft_stats = DraftStats::default();
        for m in drafts
            .iter()
            .filter(|m| m.kind == MessageKind::Draft && range.contains(m.created_at))
        {
            draft_stats.proposed += 1;
            match m.draft.as_ref().map(|d| d.state) {
                Some(DraftState::Accepted) => draft_stats.accepted += 1,
                Some(DraftState::Edited) => draft_stats.edited += 1,
                Some(DraftState::Discarded) => draft_stats.discarded += 1,
                _ => {}
            }
        }

        let mut chat = ChatStats::default();
        for s in chats.iter().filter(|s| range.contains(s.created_at)) {
            chat.sessions += 1;
            if s.handoff_reason.is_some() || s.state == ChatState::Human {
                chat.handed_off += 1;
            }
            if s.resolved_by_bot {
                chat.resolved_by_bot += 1;
            }
        }

        Self {
            total: in_range.len() as u64,
            volume_per_day: per_day.into_iter().collect(),
            by_status: by_status.into_iter().collect(),
            by_priority: by_priority.into_iter().collect(),
            by_category: by_category.into_iter().collect(),
            first_response: DurationStats::from_durations(first_response),
            resolution: DurationStats::from_durations(resolution),
            sla_met_pct: (with_sla > 0).then(|| sla_met as f64 * 100.0 / with_sla as f64),
            backlog: live.iter().filter(|t| t.status.is_open()).count() as u64,
            agents: agents
                .into_iter()
                .map(|(user_id, (open_load, handle))| {
                    let resolved = handle.len() as u64;
                    let sum: i128 = handle.iter().map(|v| i128::from(*v)).sum();
                    AgentStats {
                        user_id,
                        open_load,
                        resolved,
                        avg_handle_ms: (resolved > 0).then(|| sum as f64 / resolved as f64),
                    }
                })
                .collect(),
            csat: CsatStats {
                count: ratings.len() as u64,
                average: (!ratings.is_empty()).then(|| {
                    ratings.iter().map(|s| f64::from(*s)).sum::<f64>() / ratings.len() as f64
                }),
            },
            drafts: draft_stats,
            chat,
        }
    }
}

//! Analytics for a date range.

use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::Helpdesk;
use crate::analytics::Analytics;
use crate::domain::Actor;
use crate::roles::Action;
use crate::store::TimeRange;
use crate::{Error, Result};

/// Analytics with every day of the range present in the volume series.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticsReport {
    /// The range.
    pub range: TimeRange,
    /// The figures (see [`crate::analytics`] for definitions).
    pub analytics: Analytics,
    /// Tickets per UTC day, including days with none.
    pub daily_volume: Vec<(Date, u64)>,
}

impl Helpdesk {
    /// Analytics of the actor's tenant for `range` (admins), at most 366 days.
    pub async fn analytics(&self, actor: &Actor, range: TimeRange) -> Result<AnalyticsReport> {
        self.check(actor, Action::ViewAnalytics).await?;
        let days = range.to.duration_since(range.from).as_hours() / 24;
        if days > 366 {
            return Err(Error::validation("range", "at most 366 days"));
        }
        let analytics = self
            .inner
            .store
            .analytics(actor.tenant_id, range, self.now())
            .await?;
        let first = range.from.to_zoned(TimeZone::UTC).date();
        let last_instant = range
            .to
            .checked_sub(jiff::SignedDuration::from_millis(1))
            .unwrap_or(range.to);
        let last = last_instant.to_zoned(TimeZone::UTC).date();
        let mut daily_volume = Vec::new();
        let mut day = first;
        while day <= last {
            let n = analytics
                .volume_per_day
                .iter()
                .find(|(d, _)| *d == day)
                .map_or(0, |(_, n)| *n);
            daily_volume.push((day, n));
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        Ok(AnalyticsReport {
            range,
            analytics,
            daily_volume,
        })
    }
}

//! Analytics for a date range, and the spread of tickets over dropdown custom fields.

use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::Helpdesk;
use crate::analytics::Analytics;
use crate::domain::{Actor, FieldKind, ModelUsage, ModelUsageDay, TicketStatus, field_token};
use crate::roles::Action;
use crate::store::{TicketQuery, TimeRange, TriageModel};
use crate::{Error, Result, TenantId};

/// Analytics with every day of the range present in the volume series.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticsReport {
    /// The range.
    pub range: TimeRange,
    /// The figures (see [`crate::analytics`] for definitions).
    pub analytics: Analytics,
    /// Tickets per UTC day, including days with none.
    pub daily_volume: Vec<(Date, u64)>,
    /// What language models cost: calls and tokens in and out per UTC day, use case and
    /// model (days without calls are left out).
    pub model_usage: Vec<ModelUsageDay>,
    /// The tenant's learned-triage models, newest first (at most
    /// [`ANALYTICS_TRIAGE_MODELS`]), each with its accuracy on the tenant's held-out
    /// tickets ([`TriageModel::accuracy`]); empty before the first training.
    pub triage_models: Vec<TriageModel>,
}

/// How many learned-triage models an [`AnalyticsReport`] lists.
pub const ANALYTICS_TRIAGE_MODELS: usize = 10;

impl AnalyticsReport {
    /// The model usage of the whole range per use case and model
    /// ([`ModelUsageDay::totals`]).
    pub fn model_usage_totals(&self) -> Vec<ModelUsageDay> {
        ModelUsageDay::totals(&self.model_usage)
    }
}

impl Helpdesk {
    /// Analytics of the actor's tenant for `range` (admins), at most 366 days.
    pub async fn analytics(&self, actor: &Actor, range: TimeRange) -> Result<AnalyticsReport> {
        self.check(actor, Action::ViewAnalytics).await?;
        let days = range.to.duration_since(range.from).as_hours() / 24;
        if days > 366 {
            return Err(Error::validation("range", "at most 366 days"));
        }
        let store = &self.inner.store;
        let (analytics, model_usage, triage_models) = futures_util::future::join3(
            store.analytics(actor.tenant_id, range, self.now()),
            store.model_usage_per_day(actor.tenant_id, range),
            store.list_triage_models(actor.tenant_id, ANALYTICS_TRIAGE_MODELS),
        )
        .await;
        let (analytics, model_usage, triage_models) = (analytics?, model_usage?, triage_models?);
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
            model_usage,
            triage_models,
        })
    }
}

/// How the tenant's tickets spread over the options of one dropdown custom field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldBreakdown {
    /// The field's key.
    pub key: String,
    /// Its label.
    pub label: String,
    /// Per option, in the field's order: (option, open tickets, all tickets).
    pub options: Vec<(String, u64, u64)>,
    /// Tickets without a value: (open, all).
    pub unset: (u64, u64),
}

impl Helpdesk {
    /// For each dropdown custom field of the tenant (admins), how many tickets hold each
    /// option, open (not Resolved or Closed) and in all; chats the bot still answers are
    /// left out as in the queue. Each figure is one count of the store, like a saved
    /// view's.
    pub async fn custom_field_breakdown(&self, actor: &Actor) -> Result<Vec<FieldBreakdown>> {
        let (tenant, _) = self.check(actor, Action::ViewAnalytics).await?;
        let open: Vec<TicketStatus> = TicketStatus::ALL
            .iter()
            .copied()
            .filter(TicketStatus::is_open)
            .collect();
        let store = &self.inner.store;
        let count = |statuses: Vec<TicketStatus>, fields: Vec<String>| {
            let query = TicketQuery {
                statuses,
                fields,
                exclude_bot_chats: true,
                ..TicketQuery::default()
            };
            async move { store.count_tickets(tenant.id, &query).await }
        };
        let mut out = Vec::new();
        for def in &tenant.settings.custom_fields {
            let FieldKind::Dropdown { options } = &def.kind else {
                continue;
            };
            let mut rows = Vec::with_capacity(options.len());
            let (mut open_set, mut all_set) = (0, 0);
            for option in options {
                let token = vec![field_token(&def.key, option)];
                let o = count(open.clone(), token.clone()).await?;
                let a = count(Vec::new(), token).await?;
                open_set += o;
                all_set += a;
                rows.push((option.clone(), o, a));
            }
            let open_total = count(open.clone(), Vec::new()).await?;
            let all_total = count(Vec::new(), Vec::new()).await?;
            out.push(FieldBreakdown {
                key: def.key.clone(),
                label: def.label.clone(),
                options: rows,
                unset: (
                    open_total.saturating_sub(open_set),
                    all_total.saturating_sub(all_set),
                ),
            });
        }
        Ok(out)
    }
}

/// One team's tickets, for analytics by team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamLoad {
    /// The team's key; `None` for tickets of no team.
    pub key: Option<String>,
    /// Its name ("No team" for tickets of no team).
    pub name: String,
    /// Its members.
    pub members: usize,
    /// Open tickets (not Resolved or Closed).
    pub open: u64,
    /// Open tickets nobody is assigned.
    pub unassigned: u64,
    /// Every ticket.
    pub all: u64,
}

impl Helpdesk {
    /// How the tenant's tickets spread over its teams (admins): per team, then the tickets
    /// of no team, the open ones, the open ones nobody is assigned, and all; chats the
    /// bot still answers are left out as in the queue. Each figure is one count of the
    /// store, on the queue's indexes.
    pub async fn team_breakdown(&self, actor: &Actor) -> Result<Vec<TeamLoad>> {
        let (tenant, _) = self.check(actor, Action::ViewAnalytics).await?;
        let open: Vec<TicketStatus> = TicketStatus::ALL
            .iter()
            .copied()
            .filter(TicketStatus::is_open)
            .collect();
        let store = &self.inner.store;
        let count = |team: Option<String>, statuses: Vec<TicketStatus>, unassigned: bool| {
            let query = TicketQuery {
                statuses,
                team,
                assignee: unassigned.then_some(crate::store::AssigneeFilter::Unassigned),
                exclude_bot_chats: true,
                ..TicketQuery::default()
            };
            async move { store.count_tickets(tenant.id, &query).await }
        };
        let mut out = Vec::with_capacity(tenant.settings.teams.len() + 1);
        let (mut open_in, mut unassigned_in, mut all_in) = (0, 0, 0);
        for team in &tenant.settings.teams {
            let key = Some(team.key.clone());
            let row = TeamLoad {
                key: key.clone(),
                name: team.name.clone(),
                members: team.members.len(),
                open: count(key.clone(), open.clone(), false).await?,
                unassigned: count(key.clone(), open.clone(), true).await?,
                all: count(key, Vec::new(), false).await?,
            };
            open_in += row.open;
            unassigned_in += row.unassigned;
            all_in += row.all;
            out.push(row);
        }
        out.push(TeamLoad {
            key: None,
            name: "No team".into(),
            members: 0,
            open: count(None, open.clone(), false)
                .await?
                .saturating_sub(open_in),
            unassigned: count(None, open.clone(), true)
                .await?
                .saturating_sub(unassigned_in),
            all: count(None, Vec::new(), false).await?.saturating_sub(all_in),
        });
        Ok(out)
    }
}

impl Helpdesk {
    /// Records what a use case's model calls spent when the use case commits no write to
    /// carry it (a summary, or a use case that failed after the model answered). The
    /// spend is a fact whatever became of the use case; failing to record it is logged and
    /// does not fail the use case.
    pub(crate) async fn record_usage_alone(&self, tenant: TenantId, usage: &[ModelUsage]) {
        if usage.is_empty() {
            return;
        }
        if let Err(e) = self.inner.store.record_model_usage(tenant, usage).await {
            tracing::warn!(%tenant, error = %e, calls = usage.len(), "model usage not recorded");
        }
    }
}

//! The analytics page's parts on AI: what it costs (tokens in and out per day, and the
//! range's calls and tokens per use case and model), and how well learned triage does on
//! the tenant's held-out tickets.

use helpdesk_core::service::AnalyticsReport;

use super::charts::column_chart;

/// One row of the totals table.
#[derive(Debug, Clone)]
pub(super) struct UsageRow {
    pub(super) use_case: String,
    pub(super) model: String,
    pub(super) calls: u64,
    pub(super) tokens_in: u64,
    pub(super) tokens_out: u64,
}

/// The AI cost section.
#[derive(Debug, Clone)]
pub(super) struct AiUsage {
    /// Tokens in and out per day of the range (days without calls at 0), as two charts.
    pub(super) tokens_in_chart: String,
    pub(super) tokens_out_chart: String,
    /// Per use case and model over the range.
    pub(super) rows: Vec<UsageRow>,
    /// The range's totals: (calls, tokens in, tokens out).
    pub(super) total: (u64, u64, u64),
}

impl AiUsage {
    pub(super) fn of(report: &AnalyticsReport) -> Self {
        let per_day = |tokens: fn(&helpdesk_core::domain::ModelUsageDay) -> u64| {
            report
                .daily_volume
                .iter()
                .map(|(day, _)| {
                    let n = report
                        .model_usage
                        .iter()
                        .filter(|u| u.day == *day)
                        .map(tokens)
                        .sum();
                    (day.strftime("%m-%d").to_string(), n)
                })
                .collect::<Vec<_>>()
        };
        let tokens_in = per_day(|u| u.prompt_tokens);
        let tokens_out = per_day(|u| u.output_tokens);
        let label_every = (tokens_in.len() / 10).max(1);
        let rows: Vec<UsageRow> = report
            .model_usage_totals()
            .into_iter()
            .map(|t| UsageRow {
                use_case: t.use_case.to_string(),
                model: t.model,
                calls: t.calls,
                tokens_in: t.prompt_tokens,
                tokens_out: t.output_tokens,
            })
            .collect();
        let total = rows.iter().fold((0, 0, 0), |(c, i, o), r| {
            (c + r.calls, i + r.tokens_in, o + r.tokens_out)
        });
        Self {
            tokens_in_chart: column_chart("AI tokens in per day", &tokens_in, label_every),
            tokens_out_chart: column_chart("AI tokens out per day", &tokens_out, label_every),
            rows,
            total,
        }
    }
}

/// One learned-triage model in the analytics table.
#[derive(Debug, Clone)]
pub(super) struct LearnedRow {
    pub(super) version: u64,
    pub(super) trained_at: String,
    pub(super) training: u64,
    pub(super) holdout: u64,
    /// Held-out accuracy as a percentage with the counts, or a dash without held-out
    /// tickets.
    pub(super) accuracy: String,
    pub(super) categories: String,
    /// "In service", or when it was retired after an erasure.
    pub(super) status: String,
}

/// The learned-triage section: the tenant's models, newest first, and the threshold of
/// resolved tickets before the first one.
#[derive(Debug, Clone)]
pub(super) struct LearnedTriage {
    pub(super) rows: Vec<LearnedRow>,
    pub(super) min_tickets: u64,
}

impl LearnedTriage {
    pub(super) fn of(report: &AnalyticsReport, min_tickets: u64) -> Self {
        let rows = report
            .triage_models
            .iter()
            .map(|m| LearnedRow {
                version: m.version,
                trained_at: m.trained_at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
                training: m.training_tickets,
                holdout: m.holdout_tickets,
                accuracy: m.accuracy().map_or_else(
                    || "—".into(),
                    |a| {
                        format!(
                            "{:.1}% ({} of {})",
                            a * 100.0,
                            m.holdout_correct,
                            m.holdout_tickets
                        )
                    },
                ),
                categories: m.categories.join(", "),
                status: m.retired_at.map_or_else(
                    || "In service".into(),
                    |at| format!("Retired {}", at.strftime("%Y-%m-%d %H:%M UTC")),
                ),
            })
            .collect();
        Self { rows, min_tickets }
    }
}

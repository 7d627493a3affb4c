//! The analytics page's part on what AI costs: tokens in and out per day, and the range's
//! calls and tokens per use case and model.

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

//! `analytics`: the tenant's figures as a tidy `metric,key,value` CSV table.

use std::io::Write;

use helpdesk_core::analytics::DurationStats;
use helpdesk_core::service::AnalyticsReport;
use helpdesk_core::store::TimeRange;

use super::context::Context;
use super::error::{CliError, CliResult};

/// The analytics of the last `days` days (1..=366) of the tenant `slug`, as its admin `email`.
pub(super) async fn report(
    ctx: &Context,
    slug: &str,
    email: &str,
    days: u32,
) -> CliResult<AnalyticsReport> {
    if !(1..=366).contains(&days) {
        return Err(CliError::Argument {
            field: "days",
            message: "must be 1..=366".into(),
        });
    }
    let actor = ctx.actor(slug, email).await?;
    let to = ctx.helpdesk.now();
    let from = to
        .checked_sub(jiff::SignedDuration::from_hours(24 * i64::from(days)))
        .map_err(|e| CliError::Argument {
            field: "days",
            message: e.to_string(),
        })?;
    Ok(ctx
        .helpdesk
        .analytics(&actor, TimeRange::new(from, to)?)
        .await?)
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn durations(rows: &mut Vec<[String; 3]>, metric: &str, d: &DurationStats) {
    rows.push([metric.into(), "count".into(), d.count.to_string()]);
    rows.push([metric.into(), "avg_ms".into(), opt(d.avg_ms)]);
    rows.push([metric.into(), "p50_ms".into(), opt(d.p50_ms)]);
    rows.push([metric.into(), "p90_ms".into(), opt(d.p90_ms)]);
}

/// The rows of the tidy table (without the header). Empty values mean "no data".
pub(super) fn rows(report: &AnalyticsReport) -> Vec<[String; 3]> {
    let a = &report.analytics;
    let mut rows: Vec<[String; 3]> = vec![
        ["range".into(), "from".into(), report.range.from.to_string()],
        ["range".into(), "to".into(), report.range.to.to_string()],
        ["tickets".into(), "total".into(), a.total.to_string()],
        ["tickets".into(), "backlog".into(), a.backlog.to_string()],
        ["sla".into(), "met_pct".into(), opt(a.sla_met_pct)],
    ];
    for (day, n) in &report.daily_volume {
        rows.push(["volume_per_day".into(), day.to_string(), n.to_string()]);
    }
    for (metric, counts) in [
        ("by_status", &a.by_status),
        ("by_priority", &a.by_priority),
        ("by_category", &a.by_category),
    ] {
        for (key, n) in counts {
            rows.push([metric.into(), key.clone(), n.to_string()]);
        }
    }
    durations(&mut rows, "first_response", &a.first_response);
    durations(&mut rows, "resolution", &a.resolution);
    for agent in &a.agents {
        let id = agent.user_id.to_string();
        rows.push([
            "agent_open_load".into(),
            id.clone(),
            agent.open_load.to_string(),
        ]);
        rows.push([
            "agent_resolved".into(),
            id.clone(),
            agent.resolved.to_string(),
        ]);
        rows.push(["agent_avg_handle_ms".into(), id, opt(agent.avg_handle_ms)]);
    }
    rows.push(["csat".into(), "count".into(), a.csat.count.to_string()]);
    rows.push(["csat".into(), "average".into(), opt(a.csat.average)]);
    rows.push([
        "drafts".into(),
        "proposed".into(),
        a.drafts.proposed.to_string(),
    ]);
    rows.push([
        "drafts".into(),
        "accepted".into(),
        a.drafts.accepted.to_string(),
    ]);
    rows.push([
        "drafts".into(),
        "edited".into(),
        a.drafts.edited.to_string(),
    ]);
    rows.push([
        "drafts".into(),
        "discarded".into(),
        a.drafts.discarded.to_string(),
    ]);
    rows.push([
        "drafts".into(),
        "acceptance_rate".into(),
        opt(a.drafts.acceptance_rate()),
    ]);
    rows.push([
        "chat".into(),
        "sessions".into(),
        a.chat.sessions.to_string(),
    ]);
    rows.push([
        "chat".into(),
        "handed_off".into(),
        a.chat.handed_off.to_string(),
    ]);
    rows.push([
        "chat".into(),
        "resolved_by_bot".into(),
        a.chat.resolved_by_bot.to_string(),
    ]);
    rows.push([
        "chat".into(),
        "deflection_rate".into(),
        opt(a.chat.deflection_rate()),
    ]);
    rows
}

/// Writes the report as CSV with the header `metric,key,value`.
pub(super) fn write_csv(report: &AnalyticsReport, out: impl Write) -> CliResult<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["metric", "key", "value"])?;
    for row in rows(report) {
        writer.write_record(&row)?;
    }
    writer.flush().map_err(csv::Error::from)?;
    Ok(())
}

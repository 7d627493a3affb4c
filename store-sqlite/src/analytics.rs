//! Analytics as SQL aggregates, matching
//! [`Analytics::compute`](helpdesk_core::analytics::Analytics::compute) exactly.

use std::collections::BTreeMap;

use helpdesk_core::analytics::{
    AgentStats, Analytics, ChatStats, CsatStats, DraftStats, DurationStats, UNCATEGORIZED,
};
use helpdesk_core::store::TimeRange;
use helpdesk_core::{Result, TenantId, UserId};
use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::SqlitePool;

use crate::codec::{ms, to_id, to_ts};
use crate::error::db;
use crate::sql::Sql;

const DAY_MS: i64 = 86_400_000;

/// The UTC date of day number `day` (days since 1970-01-01).
fn day_date(day: i64) -> Result<Date> {
    let ts = to_ts(day.saturating_mul(DAY_MS), "created_at")?;
    Ok(ts.to_zoned(jiff::tz::TimeZone::UTC).date())
}

fn count(n: i64) -> u64 {
    n.unsigned_abs()
}

pub(crate) async fn compute(
    sql: &Sql,
    pool: &SqlitePool,
    tenant: TenantId,
    range: TimeRange,
    _now: Timestamp,
) -> Result<Analytics> {
    let tenant = tenant.to_string();
    let (from, to) = (ms(range.from), ms(range.to));

    // Tickets in range: live (not merged) and created in [from, to).
    let per_day: Vec<(i64, i64)> = sqlx::query_as(sql.text(
        "SELECT (created_at - ((created_at % ?4) + ?4) % ?4) / ?4 AS day, count(*) \
         FROM helpdesk_tickets WHERE tenant_id = ?1 AND merged_into IS NULL \
         AND created_at >= ?2 AND created_at < ?3 GROUP BY day ORDER BY day",
    ))
    .bind(&tenant)
    .bind(from)
    .bind(to)
    .bind(DAY_MS)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let mut volume_per_day = Vec::with_capacity(per_day.len());
    for (day, n) in per_day {
        volume_per_day.push((day_date(day)?, count(n)));
    }
    let total = volume_per_day.iter().map(|(_, n)| n).sum();

    let grouped = |column: &'static str| {
        let statement = match column {
            "status" => {
                "SELECT status, count(*) FROM helpdesk_tickets WHERE tenant_id = ?1 \
                 AND merged_into IS NULL AND created_at >= ?2 AND created_at < ?3 \
                 GROUP BY status"
            }
            "priority" => {
                "SELECT priority, count(*) FROM helpdesk_tickets WHERE tenant_id = ?1 \
                 AND merged_into IS NULL AND created_at >= ?2 AND created_at < ?3 \
                 GROUP BY priority"
            }
            _ => {
                "SELECT coalesce(category, ?4), count(*) FROM helpdesk_tickets WHERE tenant_id = ?1 \
                 AND merged_into IS NULL AND created_at >= ?2 AND created_at < ?3 \
                 GROUP BY coalesce(category, ?4)"
            }
        };
        let tenant = tenant.clone();
        async move {
            let rows: Vec<(String, i64)> = sqlx::query_as(sql.text(statement))
                .bind(tenant)
                .bind(from)
                .bind(to)
                .bind(UNCATEGORIZED)
                .fetch_all(pool)
                .await
                .map_err(db)?;
            // Sorted like the reference (byte order of the key).
            let map: BTreeMap<String, u64> = rows.into_iter().map(|(k, n)| (k, count(n))).collect();
            Ok::<_, helpdesk_core::Error>(map.into_iter().collect::<Vec<_>>())
        }
    };
    let by_status = grouped("status").await?;
    let by_priority = grouped("priority").await?;
    let by_category = grouped("category").await?;

    let first_response = durations(sql, pool, &tenant, from, to, Duration::FirstResponse).await?;
    let resolution = durations(sql, pool, &tenant, from, to, Duration::Resolution).await?;

    let (with_sla, sla_met): (i64, i64) = sqlx::query_as(sql.text(
        "SELECT count(*), coalesce(sum(sla_first_response_breached = 0 \
         AND sla_resolution_breached = 0), 0) FROM helpdesk_tickets WHERE tenant_id = ?1 \
         AND merged_into IS NULL AND created_at >= ?2 AND created_at < ?3 \
         AND (sla_first_response_due IS NOT NULL OR sla_resolution_due IS NOT NULL)",
    ))
    .bind(&tenant)
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await
    .map_err(db)?;
    let sla_met_pct = (with_sla > 0).then(|| sla_met as f64 * 100.0 / with_sla as f64);

    let backlog: i64 = sqlx::query_scalar(sql.text(
        "SELECT count(*) FROM helpdesk_tickets WHERE tenant_id = ? AND merged_into IS NULL \
         AND status NOT IN ('resolved', 'closed')",
    ))
    .bind(&tenant)
    .fetch_one(pool)
    .await
    .map_err(db)?;

    let agent_rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(sql.text(
        "SELECT assignee, \
           sum(status NOT IN ('resolved', 'closed')), \
           sum(resolved_at >= ?2 AND resolved_at < ?3), \
           coalesce(sum(CASE WHEN resolved_at >= ?2 AND resolved_at < ?3 \
             THEN resolved_at - created_at END), 0) \
         FROM helpdesk_tickets WHERE tenant_id = ?1 AND merged_into IS NULL AND assignee IS NOT NULL \
         GROUP BY assignee \
         HAVING sum(status NOT IN ('resolved', 'closed')) > 0 \
           OR sum(resolved_at >= ?2 AND resolved_at < ?3) > 0",
    ))
    .bind(&tenant)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let mut agents = agent_rows
        .into_iter()
        .map(|(user, open, resolved, handle_sum)| {
            let user_id: UserId = to_id(&user, "assignee")?;
            let resolved = count(resolved);
            Ok(AgentStats {
                user_id,
                open_load: count(open),
                resolved,
                avg_handle_ms: (resolved > 0).then(|| handle_sum as f64 / resolved as f64),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    agents.sort_by_key(|a| a.user_id);

    let (csat_count, csat_sum): (i64, i64) = sqlx::query_as(sql.text(
        "SELECT count(*), coalesce(sum(csat_score), 0) FROM helpdesk_tickets WHERE tenant_id = ?1 \
         AND merged_into IS NULL AND csat_score IS NOT NULL \
         AND csat_at >= ?2 AND csat_at < ?3",
    ))
    .bind(&tenant)
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await
    .map_err(db)?;
    let csat = CsatStats {
        count: count(csat_count),
        average: (csat_count > 0).then(|| csat_sum as f64 / csat_count as f64),
    };

    let (proposed, accepted, edited, discarded): (i64, i64, i64, i64) = sqlx::query_as(sql.text(
        "SELECT count(*), coalesce(sum(draft_state = 'accepted'), 0), \
           coalesce(sum(draft_state = 'edited'), 0), coalesce(sum(draft_state = 'discarded'), 0) \
         FROM helpdesk_messages WHERE tenant_id = ?1 AND kind = 'draft' \
         AND created_at >= ?2 AND created_at < ?3",
    ))
    .bind(&tenant)
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await
    .map_err(db)?;
    let drafts = DraftStats {
        proposed: count(proposed),
        accepted: count(accepted),
        edited: count(edited),
        discarded: count(discarded),
    };

    let (sessions, handed_off, resolved_by_bot): (i64, i64, i64) = sqlx::query_as(sql.text(
        "SELECT count(*), coalesce(sum(handoff_reason IS NOT NULL OR state = 'human'), 0), \
           coalesce(sum(resolved_by_bot <> 0), 0) \
         FROM helpdesk_chat_sessions WHERE tenant_id = ?1 AND created_at >= ?2 AND created_at < ?3",
    ))
    .bind(&tenant)
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await
    .map_err(db)?;
    let chat = ChatStats {
        sessions: count(sessions),
        handed_off: count(handed_off),
        resolved_by_bot: count(resolved_by_bot),
    };

    Ok(Analytics {
        total,
        volume_per_day,
        by_status,
        by_priority,
        by_category,
        first_response,
        resolution,
        sla_met_pct,
        backlog: count(backlog),
        agents,
        csat,
        drafts,
        chat,
    })
}

#[derive(Clone, Copy)]
enum Duration {
    FirstResponse,
    Resolution,
}

/// Count, mean and nearest-rank p50/p90 of `end - created_at` over tickets in range,
/// computed in SQL (the percentiles as `ORDER BY ... LIMIT 1 OFFSET rank - 1`).
async fn durations(
    sql: &Sql,
    pool: &SqlitePool,
    tenant: &str,
    from: i64,
    to: i64,
    which: Duration,
) -> Result<DurationStats> {
    let (stats_sql, rank_sql) = match which {
        Duration::FirstResponse => (
            "SELECT count(*), coalesce(sum(first_response_at - created_at), 0) FROM helpdesk_tickets \
             WHERE tenant_id = ?1 AND merged_into IS NULL AND created_at >= ?2 \
             AND created_at < ?3 AND first_response_at IS NOT NULL",
            "SELECT first_response_at - created_at AS d FROM helpdesk_tickets \
             WHERE tenant_id = ?1 AND merged_into IS NULL AND created_at >= ?2 \
             AND created_at < ?3 AND first_response_at IS NOT NULL \
             ORDER BY d LIMIT 1 OFFSET ?4",
        ),
        Duration::Resolution => (
            "SELECT count(*), coalesce(sum(resolved_at - created_at), 0) FROM helpdesk_tickets \
             WHERE tenant_id = ?1 AND merged_into IS NULL AND created_at >= ?2 \
             AND created_at < ?3 AND resolved_at IS NOT NULL",
            "SELECT resolved_at - created_at AS d FROM helpdesk_tickets \
             WHERE tenant_id = ?1 AND merged_into IS NULL AND created_at >= ?2 \
             AND created_at < ?3 AND resolved_at IS NOT NULL \
             ORDER BY d LIMIT 1 OFFSET ?4",
        ),
    };
    let (n, sum): (i64, i64) = sqlx::query_as(sql.text(stats_sql))
        .bind(tenant)
        .bind(from)
        .bind(to)
        .fetch_one(pool)
        .await
        .map_err(db)?;
    if n == 0 {
        return Ok(DurationStats::default());
    }
    let pick = async |percent: i64| -> Result<i64> {
        // Nearest rank: sorted[ceil(p/100 * n) - 1].
        let rank = ((percent * n + 99) / 100).max(1);
        sqlx::query_scalar(sql.text(rank_sql))
            .bind(tenant)
            .bind(from)
            .bind(to)
            .bind(rank - 1)
            .fetch_one(pool)
            .await
            .map_err(db)
    };
    let p50 = pick(50).await?;
    let p90 = pick(90).await?;
    Ok(DurationStats {
        count: count(n),
        avg_ms: Some(sum as f64 / n as f64),
        p50_ms: Some(p50),
        p90_ms: Some(p90),
    })
}

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
use sqlx::PgPool;
use uuid::Uuid;

use crate::codec::{ms, to_ts};
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

/// Tickets in range: live (not merged) and created in [from, to) (`$1` tenant, `$2`, `$3`).
macro_rules! in_range {
    () => {
        " FROM helpdesk.tickets WHERE tenant_id = $1 AND merged_into IS NULL \
         AND created_at >= $2 AND created_at < $3"
    };
}

pub(crate) async fn compute(
    sql: &Sql,
    pool: &PgPool,
    tenant: TenantId,
    range: TimeRange,
    _now: Timestamp,
) -> Result<Analytics> {
    let tenant = tenant.as_uuid();
    let (from, to) = (ms(range.from), ms(range.to));

    // `div` and `mod` floor towards minus infinity for days before 1970 as well.
    let per_day: Vec<(i64, i64)> = sqlx::query_as(sql.text(concat!(
        "SELECT (created_at - ((created_at % $4) + $4) % $4) / $4 AS day, count(*)",
        in_range!(),
        " GROUP BY day ORDER BY day"
    )))
    .bind(tenant)
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

    // `labelled`: the statement names the uncategorized label as `$4`.
    let grouped = async |statement: &'static str, labelled: bool| -> Result<Vec<(String, u64)>> {
        let mut query = sqlx::query_as(sql.text(statement))
            .bind(tenant)
            .bind(from)
            .bind(to);
        if labelled {
            query = query.bind(UNCATEGORIZED);
        }
        let rows: Vec<(String, i64)> = query.fetch_all(pool).await.map_err(db)?;
        // Sorted like the reference (byte order of the key, not the database collation).
        let map: BTreeMap<String, u64> = rows.into_iter().map(|(k, n)| (k, count(n))).collect();
        Ok(map.into_iter().collect())
    };
    let by_status = grouped(
        concat!("SELECT status, count(*)", in_range!(), " GROUP BY status"),
        false,
    )
    .await?;
    let by_priority = grouped(
        concat!(
            "SELECT priority, count(*)",
            in_range!(),
            " GROUP BY priority"
        ),
        false,
    )
    .await?;
    let by_category = grouped(
        concat!(
            "SELECT coalesce(category, $4::text), count(*)",
            in_range!(),
            " GROUP BY coalesce(category, $4::text)"
        ),
        true,
    )
    .await?;

    let first_response = durations(sql, pool, tenant, from, to, Duration::FirstResponse).await?;
    let resolution = durations(sql, pool, tenant, from, to, Duration::Resolution).await?;

    let (with_sla, sla_met): (i64, i64) = sqlx::query_as(sql.text(concat!(
        "SELECT count(*), count(*) FILTER (WHERE NOT sla_first_response_breached \
         AND NOT sla_resolution_breached)",
        in_range!(),
        " AND (sla_first_response_due IS NOT NULL OR sla_resolution_due IS NOT NULL)"
    )))
    .bind(tenant)
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await
    .map_err(db)?;
    let sla_met_pct = (with_sla > 0).then(|| sla_met as f64 * 100.0 / with_sla as f64);

    let backlog: i64 = sqlx::query_scalar(sql.text(
        "SELECT count(*) FROM helpdesk.tickets WHERE tenant_id = $1 AND merged_into IS NULL \
         AND status NOT IN ('resolved', 'closed')",
    ))
    .bind(tenant)
    .fetch_one(pool)
    .await
    .map_err(db)?;

    let agent_rows: Vec<(Uuid, i64, i64, i64)> = sqlx::query_as(sql.text(
        "SELECT assignee, \
           count(*) FILTER (WHERE status NOT IN ('resolved', 'closed')), \
           count(*) FILTER (WHERE resolved_at >= $2 AND resolved_at < $3), \
           coalesce(sum(resolved_at - created_at) FILTER (WHERE resolved_at >= $2 \
             AND resolved_at < $3), 0)::bigint \
         FROM helpdesk.tickets WHERE tenant_id = $1 AND merged_into IS NULL AND assignee IS NOT NULL \
         GROUP BY assignee \
         HAVING count(*) FILTER (WHERE status NOT IN ('resolved', 'closed')) > 0 \
           OR count(*) FILTER (WHERE resolved_at >= $2 AND resolved_at < $3) > 0",
    ))
    .bind(tenant)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    let mut agents: Vec<AgentStats> = agent_rows
        .into_iter()
        .map(|(user, open, resolved, handle_sum)| {
            let resolved = count(resolved);
            AgentStats {
                user_id: UserId::from(user),
                open_load: count(open),
                resolved,
                avg_handle_ms: (resolved > 0).then(|| handle_sum as f64 / resolved as f64),
            }
        })
        .collect();
    agents.sort_by_key(|a| a.user_id);

    let (csat_count, csat_sum): (i64, i64) = sqlx::query_as(sql.text(
        "SELECT count(*), coalesce(sum(csat_score), 0)::bigint FROM helpdesk.tickets \
         WHERE tenant_id = $1 AND merged_into IS NULL AND csat_score IS NOT NULL \
         AND csat_at >= $2 AND csat_at < $3",
    ))
    .bind(tenant)
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
        "SELECT count(*), count(*) FILTER (WHERE draft_state = 'accepted'), \
           count(*) FILTER (WHERE draft_state = 'edited'), \
           count(*) FILTER (WHERE draft_state = 'discarded') \
         FROM helpdesk.messages WHERE tenant_id = $1 AND kind = 'draft' \
         AND created_at >= $2 AND created_at < $3",
    ))
    .bind(tenant)
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
        "SELECT count(*), count(*) FILTER (WHERE handoff_reason IS NOT NULL OR state = 'human'), \
           count(*) FILTER (WHERE resolved_by_bot) \
         FROM helpdesk.chat_sessions WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3",
    ))
    .bind(tenant)
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

/// Count, mean and nearest-rank p50/p90 of `end - created_at` over tickets in range, in one
/// statement: the percentiles are the values at ranks ceil(n p / 100) of the sorted
/// durations (integer arithmetic, so no float rounding can move a rank).
async fn durations(
    sql: &Sql,
    pool: &PgPool,
    tenant: Uuid,
    from: i64,
    to: i64,
    which: Duration,
) -> Result<DurationStats> {
    let statement = match which {
        Duration::FirstResponse => concat!(
            "WITH d AS (SELECT first_response_at - created_at AS d",
            in_range!(),
            " AND first_response_at IS NOT NULL), \
             ranked AS (SELECT d, row_number() OVER (ORDER BY d) AS rank, count(*) OVER () AS n FROM d) \
             SELECT count(*), coalesce(sum(d), 0)::bigint, \
               max(d) FILTER (WHERE rank = greatest((50 * n + 99) / 100, 1)), \
               max(d) FILTER (WHERE rank = greatest((90 * n + 99) / 100, 1)) FROM ranked"
        ),
        Duration::Resolution => concat!(
            "WITH d AS (SELECT resolved_at - created_at AS d",
            in_range!(),
            " AND resolved_at IS NOT NULL), \
             ranked AS (SELECT d, row_number() OVER (ORDER BY d) AS rank, count(*) OVER () AS n FROM d) \
             SELECT count(*), coalesce(sum(d), 0)::bigint, \
               max(d) FILTER (WHERE rank = greatest((50 * n + 99) / 100, 1)), \
               max(d) FILTER (WHERE rank = greatest((90 * n + 99) / 100, 1)) FROM ranked"
        ),
    };
    let (n, sum, p50, p90): (i64, i64, Option<i64>, Option<i64>) =
        sqlx::query_as(sql.text(statement))
            .bind(tenant)
            .bind(from)
            .bind(to)
            .fetch_one(pool)
            .await
            .map_err(db)?;
    if n == 0 {
        return Ok(DurationStats::default());
    }
    Ok(DurationStats {
        count: count(n),
        avg_ms: Some(sum as f64 / n as f64),
        p50_ms: p50,
        p90_ms: p90,
    })
}

//! A routed assignment's claim on its assignee ([`RoutingClaim`]), applied inside the
//! ticket write's transaction, after the ticket row is written (so the count of the
//! assignee's open tickets includes it).

use helpdesk_core::Result;
use helpdesk_core::domain::{Role, Ticket};
use helpdesk_core::store::RoutingClaim;
use sqlx::{Postgres, Transaction};

use crate::codec::int;
use crate::error::db;
use crate::sql::Sql;

/// Moves the assignee's stamp with one `UPDATE` guarded by everything the claim says:
/// the tenant's active agent or admin, the stamp routing read, and open tickets (this one
/// written already) within a capacity above 0. The count's terms repeat the partial index
/// `tickets_open_by_assignee`. Two writes claiming one assignee serialise on the user's
/// row lock, and the second re-checks the guard on the committed row (READ COMMITTED):
/// the stamp has moved. When it matches no row, the assignee is not the tenant's
/// (`NotFound`) or the claim no longer holds (routing `Conflict`); the caller's
/// transaction is rolled back.
pub(crate) async fn claim_assignee(
    sql: &Sql,
    tx: &mut Transaction<'static, Postgres>,
    ticket: &Ticket,
    claim: &RoutingClaim,
) -> Result<()> {
    let done = sqlx::query(sql.text(
        "UPDATE helpdesk.users SET last_routed = $1 \
         WHERE tenant_id = $2 AND id = $3 AND last_routed = $4 AND active \
         AND role IN ($5, $6) \
         AND (capacity = 0 OR capacity >= (SELECT count(*) FROM helpdesk.tickets t \
              WHERE t.tenant_id = $2 AND t.assignee = $3 AND t.assignee IS NOT NULL \
              AND t.status NOT IN ('resolved', 'closed')))",
    ))
    .bind(int(claim.last_routed, "routing.last_routed")?)
    .bind(ticket.tenant_id.as_uuid())
    .bind(claim.assignee.as_uuid())
    .bind(int(
        claim.expected_last_routed,
        "routing.expected_last_routed",
    )?)
    .bind(Role::Agent.as_str())
    .bind(Role::Admin.as_str())
    .execute(&mut **tx)
    .await
    .map_err(db)?;
    if done.rows_affected() == 1 {
        return Ok(());
    }
    let exists: bool = sqlx::query_scalar(
        sql.text("SELECT EXISTS (SELECT 1 FROM helpdesk.users WHERE tenant_id = $1 AND id = $2)"),
    )
    .bind(ticket.tenant_id.as_uuid())
    .bind(claim.assignee.as_uuid())
    .fetch_one(&mut **tx)
    .await
    .map_err(db)?;
    Err(if exists {
        claim.conflict()
    } else {
        helpdesk_core::Error::not_found("user", claim.assignee)
    })
}

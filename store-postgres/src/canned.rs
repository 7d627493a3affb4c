//! Canned responses: administrative changes (in the audit transaction), the reads, and the
//! usage count read from the tickets' `canned_response_applied` events.

use async_trait::async_trait;
use helpdesk_core::domain::CannedResponse;
use helpdesk_core::store::{AdminChange, CannedResponseStore, CannedUsage};
use helpdesk_core::{CannedResponseId, DuplicateKind, Error, Result, TenantId};
use jiff::Timestamp;
use sqlx::PgConnection;
use sqlx::postgres::{PgQueryResult, PgRow};

use crate::PostgresStore;
use crate::codec::{Columns, json, ms};
use crate::error::{constraint, db, insert_err, is_unique_violation};
use crate::sql::Sql;

macro_rules! canned_columns {
    () => {
        "id, tenant_id, owner, name, body, internal, actions, created_by, created_at, updated_at"
    };
}

/// The unique index on (tenant, scope, folded name) (migration 6).
const NAME_INDEX: &str = "canned_responses_name";

/// A tenant's responses by folded name, then id (index `canned_responses_tenant`,
/// migration 6; `name_folded` is collated "C", the order of Rust's `String`, as in the
/// reference store).
pub(crate) const TENANT_CANNED: &str = concat!(
    "SELECT ",
    canned_columns!(),
    " FROM helpdesk.canned_responses WHERE tenant_id = $1 ORDER BY name_folded, id"
);

/// How often each response of a tenant was applied from a time on: the tenant's
/// `canned_response_applied` events (the partial index `events_canned_applied`,
/// migration 6, which the planner matches only while the `kind` stays this literal)
/// grouped by the response named in the `jsonb` payload, as a `uuid` so the tie-break is
/// the ids' order.
pub(crate) const USAGE: &str = "SELECT (payload->>'canned_response')::uuid AS canned_response, \
     count(*) AS uses, max(at) AS last_used_at FROM helpdesk.events \
     WHERE tenant_id = $1 AND kind = 'canned_response_applied' AND at >= $2 \
     GROUP BY 1 ORDER BY uses DESC, canned_response";

fn canned_from(row: &PgRow) -> Result<CannedResponse> {
    let c = Columns(row);
    Ok(CannedResponse {
        id: c.id("id")?,
        tenant_id: c.id("tenant_id")?,
        owner: c.opt_id("owner")?,
        name: c.text("name")?,
        body: c.text("body")?,
        internal: c.bool("internal")?,
        actions: c.json("actions")?,
        created_by: c.id("created_by")?,
        created_at: c.ts("created_at")?,
        updated_at: c.ts("updated_at")?,
    })
}

fn usage_from(row: &PgRow) -> Result<CannedUsage> {
    let c = Columns(row);
    Ok(CannedUsage {
        canned_response: c.id("canned_response")?,
        uses: c.u64("uses")?,
        last_used_at: c.ts("last_used_at")?,
    })
}

/// A unique violation of the name index as `Duplicate { kind: Name }`, else `Err(e)`.
fn name_taken(e: sqlx::Error, canned: &CannedResponse) -> std::result::Result<Error, sqlx::Error> {
    if is_unique_violation(&e) && constraint(&e) == Some(NAME_INDEX) {
        Ok(Error::Duplicate {
            kind: DuplicateKind::Name,
            value: canned.name.clone(),
        })
    } else {
        Err(e)
    }
}

/// `NotFound` when a change matched no response of the tenant.
fn found(done: PgQueryResult, id: CannedResponseId) -> Result<()> {
    if done.rows_affected() == 0 {
        return Err(Error::not_found("canned_response", id));
    }
    Ok(())
}

/// Applies one of the canned-response changes of [`AdminChange`].
pub(crate) async fn apply(sql: &Sql, conn: &mut PgConnection, change: &AdminChange) -> Result<()> {
    match change {
        AdminChange::CreateCannedResponse(c) => {
            sqlx::query(sql.text(concat!(
                "INSERT INTO helpdesk.canned_responses (",
                canned_columns!(),
                ", name_folded) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            )))
            .bind(c.id.as_uuid())
            .bind(c.tenant_id.as_uuid())
            .bind(c.owner.map(|o| o.as_uuid()))
            .bind(&c.name)
            .bind(&c.body)
            .bind(c.internal)
            .bind(json(&c.actions, "canned response actions")?)
            .bind(c.created_by.as_uuid())
            .bind(ms(c.created_at))
            .bind(ms(c.updated_at))
            .bind(c.folded_name())
            .execute(&mut *conn)
            .await
            // PostgreSQL checks a row's unique indexes in the order they were created, the
            // primary key first: a row repeating both id and name is a taken id, as on
            // every backend. Any other unique violation is the primary key's.
            .map_err(|e| name_taken(e, c).unwrap_or_else(insert_err(c.id)))?;
            Ok(())
        }
        AdminChange::UpdateCannedResponse(c) => {
            // Id, tenant, creator and creation time are not written: they stay.
            let done = sqlx::query(sql.text(
                "UPDATE helpdesk.canned_responses SET owner = $1, name = $2, name_folded = $3, \
                 body = $4, internal = $5, actions = $6, updated_at = $7 \
                 WHERE id = $8 AND tenant_id = $9",
            ))
            .bind(c.owner.map(|o| o.as_uuid()))
            .bind(&c.name)
            .bind(c.folded_name())
            .bind(&c.body)
            .bind(c.internal)
            .bind(json(&c.actions, "canned response actions")?)
            .bind(ms(c.updated_at))
            .bind(c.id.as_uuid())
            .bind(c.tenant_id.as_uuid())
            .execute(&mut *conn)
            .await
            .map_err(|e| name_taken(e, c).unwrap_or_else(db))?;
            found(done, c.id)
        }
        AdminChange::DeleteCannedResponse { tenant, id } => {
            let done = sqlx::query(
                sql.text("DELETE FROM helpdesk.canned_responses WHERE id = $1 AND tenant_id = $2"),
            )
            .bind(id.as_uuid())
            .bind(tenant.as_uuid())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            found(done, *id)
        }
        _ => Err(Error::Internal("not a canned-response change")),
    }
}

#[async_trait]
impl CannedResponseStore for PostgresStore {
    async fn get_canned_response(
        &self,
        tenant: TenantId,
        id: CannedResponseId,
    ) -> Result<Option<CannedResponse>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            canned_columns!(),
            " FROM helpdesk.canned_responses WHERE id = $1 AND tenant_id = $2"
        )))
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(canned_from)
        .transpose()
    }

    async fn list_canned_responses(&self, tenant: TenantId) -> Result<Vec<CannedResponse>> {
        sqlx::query(self.sql.text(TENANT_CANNED))
            .bind(tenant.as_uuid())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(canned_from)
            .collect()
    }

    /// One statement over the partial index of applied responses.
    async fn canned_response_usage(
        &self,
        tenant: TenantId,
        since: Timestamp,
    ) -> Result<Vec<CannedUsage>> {
        sqlx::query(self.sql.text(USAGE))
            .bind(tenant.as_uuid())
            .bind(ms(since))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(usage_from)
            .collect()
    }
}

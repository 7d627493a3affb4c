//! Canned responses: administrative changes (in the audit transaction), the reads, and the
//! usage count read from the tickets' `canned_response_applied` events.

use async_trait::async_trait;
use helpdesk_core::domain::CannedResponse;
use helpdesk_core::store::{AdminChange, CannedResponseStore, CannedUsage};
use helpdesk_core::{CannedResponseId, Error, Result, TenantId};
use jiff::Timestamp;
use sqlx::SqliteConnection;
use sqlx::sqlite::{SqliteQueryResult, SqliteRow};

use crate::SqliteStore;
use crate::codec::{Columns, json, ms};
use crate::error::{db, duplicate_name, index_violated, refused_insert};
use crate::sql::Sql;

macro_rules! canned_columns {
    () => {
        "id, tenant_id, owner, name, body, internal, actions, created_by, created_at, updated_at"
    };
}

/// The unique index on (tenant, scope, folded name), without the table prefix
/// (migration 9).
const NAME_INDEX: &str = "canned_responses_name";

/// Whether a canned response id is taken (a failed insert's id check).
const ID_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM helpdesk_canned_responses WHERE id = ?)";

/// A tenant's responses by folded name, then id (index `canned_responses_tenant`,
/// migration 9). `name_folded` compares bytewise (SQLite's BINARY collation), which is
/// the order of Rust's `String`, as in the reference store.
pub(crate) const TENANT_CANNED: &str = concat!(
    "SELECT ",
    canned_columns!(),
    " FROM helpdesk_canned_responses WHERE tenant_id = ? ORDER BY name_folded, id"
);

/// How often each response of a tenant was applied from a time on: the tenant's
/// `canned_response_applied` events (the partial index `events_canned_applied`,
/// migration 9; its `WHERE` must stay written as this literal for SQLite to use it)
/// grouped by the response named in the payload. Ids are lowercase hyphenated text, so
/// the tie-break on the id text is the order of the ids.
pub(crate) const USAGE: &str = "SELECT json_extract(payload, '$.canned_response') AS canned_response, \
     count(*) AS uses, max(at) AS last_used_at FROM helpdesk_events \
     WHERE tenant_id = ? AND kind = 'canned_response_applied' AND at >= ? \
     GROUP BY canned_response ORDER BY uses DESC, canned_response";

fn canned_from(row: &SqliteRow) -> Result<CannedResponse> {
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

fn usage_from(row: &SqliteRow) -> Result<CannedUsage> {
    let c = Columns(row);
    Ok(CannedUsage {
        canned_response: c.id("canned_response")?,
        uses: c.u64("uses")?,
        last_used_at: c.ts("last_used_at")?,
    })
}

/// `NotFound` when a change matched no response of the tenant.
fn found(done: SqliteQueryResult, id: CannedResponseId) -> Result<()> {
    if done.rows_affected() == 0 {
        return Err(Error::not_found("canned_response", id));
    }
    Ok(())
}

async fn insert(sql: &Sql, conn: &mut SqliteConnection, c: &CannedResponse) -> Result<()> {
    let inserted = sqlx::query(sql.text(concat!(
        "INSERT INTO helpdesk_canned_responses (",
        canned_columns!(),
        ", name_folded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )))
    .bind(c.id.to_string())
    .bind(c.tenant_id.to_string())
    .bind(c.owner.map(|o| o.to_string()))
    .bind(&c.name)
    .bind(&c.body)
    .bind(c.internal)
    .bind(json(&c.actions, "canned response actions")?)
    .bind(c.created_by.to_string())
    .bind(ms(c.created_at))
    .bind(ms(c.updated_at))
    .bind(c.folded_name())
    .execute(&mut *conn)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(e) => Err(refused_insert(
            sql,
            conn,
            e,
            NAME_INDEX,
            ID_EXISTS,
            c.id.to_string(),
            &c.name,
        )
        .await),
    }
}

/// Applies one of the canned-response changes of [`AdminChange`].
pub(crate) async fn apply(
    sql: &Sql,
    conn: &mut SqliteConnection,
    change: &AdminChange,
) -> Result<()> {
    match change {
        AdminChange::CreateCannedResponse(c) => insert(sql, conn, c).await,
        AdminChange::UpdateCannedResponse(c) => {
            // Id, tenant, creator and creation time are not written: they stay.
            let done = sqlx::query(sql.text(
                "UPDATE helpdesk_canned_responses SET owner = ?, name = ?, name_folded = ?, \
                 body = ?, internal = ?, actions = ?, updated_at = ? \
                 WHERE id = ? AND tenant_id = ?",
            ))
            .bind(c.owner.map(|o| o.to_string()))
            .bind(&c.name)
            .bind(c.folded_name())
            .bind(&c.body)
            .bind(c.internal)
            .bind(json(&c.actions, "canned response actions")?)
            .bind(ms(c.updated_at))
            .bind(c.id.to_string())
            .bind(c.tenant_id.to_string())
            .execute(&mut *conn)
            .await
            // The id does not change, so the name index is the only one an update can hit.
            .map_err(|e| {
                if index_violated(sql, NAME_INDEX, &e) {
                    duplicate_name(&c.name)
                } else {
                    db(e)
                }
            })?;
            found(done, c.id)
        }
        AdminChange::DeleteCannedResponse { tenant, id } => {
            let done = sqlx::query(
                sql.text("DELETE FROM helpdesk_canned_responses WHERE id = ? AND tenant_id = ?"),
            )
            .bind(id.to_string())
            .bind(tenant.to_string())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            found(done, *id)
        }
        _ => Err(Error::Internal("not a canned-response change")),
    }
}

#[async_trait]
impl CannedResponseStore for SqliteStore {
    async fn get_canned_response(
        &self,
        tenant: TenantId,
        id: CannedResponseId,
    ) -> Result<Option<CannedResponse>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            canned_columns!(),
            " FROM helpdesk_canned_responses WHERE id = ? AND tenant_id = ?"
        )))
        .bind(id.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(canned_from)
        .transpose()
    }

    async fn list_canned_responses(&self, tenant: TenantId) -> Result<Vec<CannedResponse>> {
        sqlx::query(self.sql.text(TENANT_CANNED))
            .bind(tenant.to_string())
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
            .bind(tenant.to_string())
            .bind(ms(since))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(usage_from)
            .collect()
    }
}
